//! The 4.0 races reproduce under their schedule and not when the threads run one after the
//! other.

#![cfg(not(target_arch = "wasm32"))]

mod common;
use common::{by_func, result};
use daxlab_core::engine::trace::EventKind;
use daxlab_core::engine::trace::Shown;
use daxlab_core::lang::outcome::Value;
use daxlab_core::lang::report::run_text;

fn scenario(name: &str) -> String {
    let path = format!(
        "{}/../../scenarios/races/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn without_schedule(text: &str) -> String {
    text.lines()
        .filter(|l| {
            let l = l.trim_start();
            !l.starts_with("schedule") && !l.starts_with("expect violation")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The scenario with a `load m OFF 1` appended.
fn then_load(text: &str, off: u64) -> String {
    format!("{text}\nload m {off} 1\n")
}

fn loaded(r: &daxlab_core::lang::report::Report) -> Vec<u8> {
    match &r.results.last().expect("a result").outcome.value {
        Value::Bytes(b) => b.to_vec(),
        v => panic!("{v:?}"),
    }
}

#[test]
fn r1_two_write_faults_on_one_hole_lose_a_store() {
    let text = scenario("r1-two-write-faults.dax");
    let raced = run_text(&then_load(&text, 0));
    assert!(raced.ok(), "{:#?}", raced.results);
    assert_eq!(
        by_func(&raced, "zero", "clear_page").len(),
        2,
        "ext2 zeroes in get_block, then dax_insert_mapping zeroes again"
    );
    assert_eq!(loaded(&raced), b"\0", "b's store is gone");
    let sequential = run_text(&then_load(&without_schedule(&text), 0));
    assert_eq!(
        loaded(&sequential),
        b"B",
        "without the interleaving b's store survives"
    );
    assert!(sequential.violations.is_empty());
}

#[test]
fn r4_allocating_fault_against_truncate_sigbus_and_a_block_past_eof() {
    let text = scenario("r4-fault-vs-truncate.dax");
    let raced = run_text(&format!("{text}\nblocks f past_eof\n"));
    assert!(raced.ok(), "{:#?}", raced.results);
    match &raced.results.last().expect("blocks").outcome.value {
        Value::Blocks { past_eof, .. } => assert_eq!(past_eof, &[1]),
        v => panic!("{v:?}"),
    }
    assert!(raced.events.iter().any(|e| matches!(
        e.kind,
        EventKind::Return {
            func: "dax_insert_mapping",
            ret: Some(Shown::Errno(daxlab_core::errno::Errno::EIO))
        }
    )));
    assert!(matches!(
        result(&raced, "store m 4K \"A\"").outcome.fail,
        Some(daxlab_core::engine::trace::Fail::Signal(_))
    ));
    let sequential = run_text(&format!("{}\nblocks f\n", without_schedule(&text)));
    assert!(
        result(&sequential, "store m 4K \"A\"").ok(),
        "run alone, the store succeeds"
    );
    assert!(
        matches!(&sequential.results.last().expect("blocks").outcome.value, Value::Blocks { blocks, .. } if blocks.is_empty()),
        "and truncate frees the block"
    );
}

#[test]
fn a_schedule_naming_a_thread_that_does_not_exist_is_an_error_with_position() {
    let r = run_text("thread a {\n  drop_caches\n}\nschedule a b");
    let e = r.error.expect("an error");
    assert_eq!((e.line, e.col), (4, 12));
    assert!(e.message.contains("unknown thread \"b\""), "{}", e.message);
}

#[test]
fn a_blocked_thread_in_a_schedule_is_skipped_with_an_event() {
    // a holds i_mutex across its write; b's write must wait for it.
    let text = "device x brd size=16M\nmkfs ext2 /dev/x\nmount /dev/x /m -o dax\nopen f /m/f create\n\
                thread a {\n  write f 0 fill=1 len=8K\n}\nthread b {\n  write f 0 fill=2 len=4K\n}\n\
                schedule a a a a b b b b b a\nexpect read f 0 1 == \"\\x02\"";
    let r = run_text(text);
    assert!(r.ok(), "{:#?}", r.results);
    let t = common::texts(&r);
    assert!(r
        .events
        .iter()
        .any(|e| matches!(e.kind, EventKind::Wait { .. }) && r.names.thread(e.thread) == "b"));
    assert!(
        t.iter().any(|x| x.contains("b is waiting for i_mutex")),
        "{t:#?}"
    );
}
