//! Property test: random sequences of write, read, mmap store and load, truncate, fsync and
//! drop_caches on page-cache and DAX mounts (ext2 and ext4; brd and axonram; 4 KiB and 1 KiB
//! blocks) always agree with a plain byte vector per file, in which holes read as zeros.
//! Agreeing with the model, the mounts agree with each other. On ARMv5, MIPS R4000 and sparc64,
//! whose data caches are virtually indexed, the page-cache mounts agree too: the cache model
//! never changes a result the kernel keeps coherent.

#![cfg(not(target_arch = "wasm32"))]

mod common;
use proptest::prelude::*;

const MAX: u64 = 64 << 10;
const PAGE: u64 = 4096;

/// (device kind, filesystem, block size, mount options)
const MOUNTS: [(&str, &str, u64, &str); 6] = [
    ("brd", "ext2", 4096, ""),
    ("brd", "ext2", 1024, ""),
    ("brd", "ext2", 4096, "-o dax"),
    ("axonram", "ext2", 4096, "-o dax"),
    ("brd", "ext4", 4096, "-o dax"),
    ("disk", "ext4", 4096, ""),
];

#[derive(Debug, Clone)]
enum Op {
    Write { off: u64, len: u64, byte: u8 },
    Read { off: u64, len: u64 },
    Store { off: u64, len: u64, byte: u8 },
    Load { off: u64, len: u64 },
    Truncate { size: u64 },
    DirectWrite { off: u64, len: u64, byte: u8 },
    DirectRead { off: u64, len: u64 },
    Fsync,
    DropCaches,
}

fn op() -> impl Strategy<Value = Op> {
    let off = 0..MAX;
    let len = 1..9000u64;
    prop_oneof![
        4 => (off.clone(), len.clone(), any::<u8>()).prop_map(|(off, len, byte)| Op::Write { off, len: len.min(MAX - off), byte }),
        3 => (off.clone(), len.clone()).prop_map(|(off, len)| Op::Read { off, len }),
        // Into the guard page after the mapping (the next mapping starts one page later).
        1 => (0..PAGE).prop_map(|off| Op::Load { off: MAX + off, len: PAGE - off }),
        3 => (off.clone(), len.clone(), any::<u8>()).prop_map(|(off, len, byte)| Op::Store { off, len: len.min(MAX - off), byte }),
        3 => (off, len).prop_map(|(off, len)| Op::Load { off, len: len.min(MAX - off) }),
        2 => (0..=MAX).prop_map(|size| Op::Truncate { size }),
        // O_DIRECT: sector-aligned offsets and lengths (blockdev_direct_IO requires them).
        2 => (0..MAX / 512, 1..16u64, any::<u8>()).prop_map(|(s, n, byte)| Op::DirectWrite { off: s * 512, len: (n * 512).min(MAX - s * 512), byte }),
        2 => (0..MAX / 512, 1..16u64).prop_map(|(s, n)| Op::DirectRead { off: s * 512, len: n * 512 }),
        1 => Just(Op::Fsync),
        1 => Just(Op::DropCaches),
    ]
}

/// The page-cache mounts of [`MOUNTS`] (DAX on an aliasing cache is not coherent in 4.0).
const PAGE_CACHE_MOUNTS: [usize; 3] = [0, 1, 5];

/// Build the scenario and the model's expectations in one pass, on `arch` with `mounts` (indices
/// into [`MOUNTS`]).
fn scenario(arch: &str, mounts: &[usize], ops: &[Op]) -> String {
    let mut t = format!("arch {arch}\n");
    for &i in mounts {
        let (dev, fs, bs, opts) = MOUNTS[i];
        t += &format!("device d{i} {dev} size=16M\nmkfs {fs} /dev/d{i} bs={bs}\nmount /dev/d{i} /m{i} {opts}\n");
        t += &format!("open f{i} /m{i}/file create\nopen g{i} /m{i}/file direct\nmmap m{i} f{i} 0 {MAX} shared rw\n");
    }
    let mut file: Vec<u8> = Vec::new();
    let each = |t: &mut String, line: &dyn Fn(usize) -> String| {
        for &i in mounts {
            t.push_str(&line(i));
            t.push('\n');
        }
    };
    for op in ops {
        let size = file.len() as u64;
        match *op {
            Op::Write { off, len, byte } => {
                if file.len() < (off + len) as usize {
                    file.resize((off + len) as usize, 0);
                }
                file[off as usize..(off + len) as usize].fill(byte);
                each(&mut t, &|i| {
                    format!("expect write f{i} {off} fill={byte} len={len} == {len}")
                });
            }
            Op::DirectWrite { off, len, byte } => {
                if file.len() < (off + len) as usize {
                    file.resize((off + len) as usize, 0);
                }
                file[off as usize..(off + len) as usize].fill(byte);
                each(&mut t, &|i| {
                    format!("expect write g{i} {off} fill={byte} len={len} == {len}")
                });
            }
            Op::DirectRead { off, len } => {
                let end = (off + len).min(size).max(off);
                let want = common::quoted(file.get(off as usize..end as usize).unwrap_or(&[]));
                each(&mut t, &|i| {
                    format!("expect read g{i} {off} {len} == {want}")
                });
            }
            Op::Read { off, len } => {
                let end = (off + len).min(size).max(off);
                let want = common::quoted(file.get(off as usize..end as usize).unwrap_or(&[]));
                each(&mut t, &|i| {
                    format!("expect read f{i} {off} {len} == {want}")
                });
            }
            Op::Store { off, len, byte } => {
                if off / PAGE >= size.div_ceil(PAGE) {
                    each(&mut t, &|i| {
                        format!("expect store m{i} {off} fill={byte} len={len} == SIGBUS")
                    });
                } else if off + len <= size {
                    file[off as usize..(off + len) as usize].fill(byte);
                    each(&mut t, &|i| {
                        format!("expect store m{i} {off} fill={byte} len={len} == {len}")
                    });
                }
            }
            Op::Load { off, len } if off >= MAX => {
                // Past the end of the mapping: no VMA, SIGSEGV.
                each(&mut t, &|i| {
                    format!("expect load m{i} {off} {len} == SIGSEGV")
                });
            }
            Op::Load { off, len } => {
                if off / PAGE >= size.div_ceil(PAGE) {
                    each(&mut t, &|i| {
                        format!("expect load m{i} {off} {len} == SIGBUS")
                    });
                } else if off + len <= size {
                    let want = common::quoted(&file[off as usize..(off + len) as usize]);
                    each(&mut t, &|i| {
                        format!("expect load m{i} {off} {len} == {want}")
                    });
                }
            }
            Op::Truncate { size } => {
                file.resize(size as usize, 0);
                each(&mut t, &|i| format!("expect truncate f{i} {size} == ok"));
            }
            Op::Fsync => each(&mut t, &|i| format!("expect fsync f{i} == ok")),
            Op::DropCaches => t.push_str("expect drop_caches == ok\n"),
        }
    }
    // Finally every byte, through read() and through the mapping.
    let size = file.len() as u64;
    let all = common::quoted(&file);
    each(&mut t, &|i| format!("expect read f{i} 0 {MAX} == {all}"));
    if size > 0 {
        each(&mut t, &|i| format!("expect load m{i} 0 {size} == {all}"));
    }
    t
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn every_mount_agrees_with_a_byte_vector(ops in proptest::collection::vec(op(), 1..24)) {
        let all: Vec<usize> = (0..MOUNTS.len()).collect();
        check(&scenario("x86_64", &all, &ops))?;
    }

    #[test]
    fn page_cache_mounts_agree_on_every_cache(
        arch in prop::sample::select(vec!["armv5", "mips-r4k", "sparc64"]),
        ops in proptest::collection::vec(op(), 1..24),
    ) {
        check(&scenario(arch, &PAGE_CACHE_MOUNTS, &ops))?;
    }
}

fn check(text: &str) -> Result<(), TestCaseError> {
    let r = daxlab_core::lang::report::run_with(text, daxlab_core::engine::trace::TraceMode::Off);
    prop_assert!(r.error.is_none(), "{:?}", r.error);
    let failed: Vec<String> = r
        .results
        .iter()
        .filter(|c| !c.ok())
        .take(3)
        .map(|c| {
            let s = format!(
                "line {} {} → {}",
                c.line,
                c.command,
                daxlab_core::lang::text::result(c)
            );
            s.chars().take(300).collect()
        })
        .collect();
    prop_assert!(r.ok(), "failed: {failed:#?}");
    Ok(())
}
