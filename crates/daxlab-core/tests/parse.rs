//! Bad scenario text gets a clear error with line and column; no input panics.

#![cfg(not(target_arch = "wasm32"))]

use daxlab_core::lang::parse::parse;
use daxlab_core::lang::report::run_text;
use proptest::prelude::*;

fn error(text: &str) -> (u32, u32, String) {
    let e = parse(text).expect_err("an error");
    (e.line, e.col, e.message)
}

#[test]
fn unknown_command_with_a_suggestion() {
    let (l, c, m) = error("device x brd size=1M\n\n  mmpa m f 0 4K shared rw");
    assert_eq!((l, c), (3, 3));
    assert_eq!(m, "unknown command \"mmpa\"; did you mean \"mmap\"?");
}

#[test]
fn errors_name_what_was_expected_and_where() {
    let cases: &[(&str, u32, u32, &str)] = &[
        ("device x brd", 1, 13, "expected size=SIZE"),
        ("device x brd size=12Q", 1, 19, "expected SIZE after size="),
        ("device X brd size=1M", 1, 8, "expected a device name"),
        (
            "device x nvme size=1M",
            1,
            10,
            "unknown device kind \"nvme\"",
        ),
        ("write f 0 \"abc", 1, 11, "unterminated string"),
        ("write f 0 \"a\\q\"", 1, 13, "bad escape"),
        (
            "mmap m f 0 4K shared rwx",
            1,
            22,
            "unknown protection \"rwx\"; did you mean \"rw\"?",
        ),
        ("thread a {\nread f 0 1", 1, 1, "not closed"),
        ("}", 1, 1, "without a thread block"),
        ("drop_caches now", 1, 13, "unexpected extra argument"),
        ("open f /mnt/x create\nkernel 4.0", 2, 1, "must come before"),
        ("expect read f 0 1 = \"a\"", 1, 19, "expected =="),
        (
            "expect counter copys == 1",
            1,
            16,
            "did you mean \"copies\"?",
        ),
        ("write f 0 fill=0x1ff len=1", 1, 16, "expected a byte value"),
        (
            "write f 0 pattern=sequ len=4",
            1,
            19,
            "did you mean \"seq\"?",
        ),
        ("read f 0 2G", 1, 1, "length too large"),
        (
            "locking fixed\nthread a {\n}\nlocking none",
            4,
            1,
            "before the first thread",
        ),
        (
            "expect violation stale_data",
            1,
            18,
            "unknown invariant \"stale_data\"; expected one of",
        ),
        (
            "expect write f 0 \"a\" == ENOTANERRNO",
            1,
            25,
            "unknown errno",
        ),
    ];
    for (text, line, col, needle) in cases {
        let (l, c, m) = error(text);
        assert!(m.contains(needle), "{text:?}: {m:?} lacks {needle:?}");
        assert_eq!((l, c), (*line, *col), "{text:?}: {m}");
    }
}

#[test]
fn data_forms_and_sizes() {
    let s = parse(
        "write f 0x10 \"a\\n\\x41\"\nwrite f 1K fill=0xab len=2\nwrite f 0 pattern=seq len=3",
    )
    .expect("valid");
    assert_eq!(s.items.len(), 3);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let _ = run_text(&text);
    }

    #[test]
    fn command_shaped_text_never_panics(lines in proptest::collection::vec(
        prop_oneof![
            Just("device x brd size=1M".to_string()),
            Just("mkfs ext2 /dev/x".to_string()),
            Just("mount /dev/x /m -o dax".to_string()),
            Just("open f /m/a create".to_string()),
            Just("mmap m f 0 8K shared rw".to_string()),
            "(write|read|truncate|store|load) [fm] (0|4K|0x1fff|1M|0xfffffffffffff000|0xffffffffffffffff) (\"ab\"|1|4K|0|0xffffffffffffffff)",
            "(direct_access x sector=(0|7|8|2048|0xffffffffffffffff) size=(0|1|4K|1M|0x7fffffffffffffff))",
            "device y (brd|axonram|dcssblk|disk) size=(4K|0xfffffffffffff000|0xffffffffffffffff)",
            "mmap n f (0|0xfffffffffffff000) (4K|0xfffffffffffff000) (shared|private) (r|rw)",
            "open (f|g) /m/a( direct)?( trunc)?",
            "(odirect_from_map g 0 m 0 (512|0xfffffffffffffe00)|fsync f|sync|blocks f|munmap m|close f|punch f (0|4K) (1|4K|0xffffffffffffffff))",
            Just("thread t {".to_string()), Just("process q {".to_string()), Just("}".to_string()), Just("schedule t t".to_string()),
            Just("umount /m".to_string()), Just("unlink /m/a".to_string()), Just("drop_caches".to_string()),
        ], 0..24)) {
        let r = run_text(&lines.join("\n"));
        if let Some(e) = r.error {
            prop_assert!(e.line >= 1 && e.col >= 1);
        }
    }
}
