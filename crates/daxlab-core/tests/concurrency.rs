//! Property test of concurrency: two threads and a process, each working on a file of its own
//! (on a DAX mount or a page-cache mount: read, write, mmap, load, store, truncate, munmap and
//! map again, close and reopen, unlink, fsync, drop_caches), under a random schedule. The
//! files share the filesystems, the allocators, the page cache, the locks, and (for the two
//! threads) one address space and its `mmap_sem`; no two workers touch the same file, so no
//! race is in flight on any file's bytes and each file must match its own byte model at every
//! step whatever the schedule. After the run: nothing panicked, no lock is held, and the model
//! never touched a freed frame.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use daxlab_core::engine::exec::{Execution, RunOptions};
use daxlab_core::lang::parse::parse;
use daxlab_core::lang::report::Report;
use daxlab_core::lang::text;
use proptest::prelude::*;

const MAX: u64 = 16 << 10;
const PAGE: u64 = 4096;
/// The workers: two threads of main, and a process with its own address space.
const WORKERS: [(&str, &str); 3] = [("a", "thread"), ("b", "thread"), ("c", "process")];

#[derive(Debug, Clone)]
enum Op {
    Write { off: u64, len: u64, byte: u8 },
    Read { off: u64, len: u64 },
    Store { off: u64, len: u64, byte: u8 },
    Load { off: u64, len: u64 },
    Truncate { size: u64 },
    Remap,
    Reopen,
    Unlink,
    Fsync,
    DropCaches,
}

fn op() -> impl Strategy<Value = Op> {
    let off = 0..MAX;
    let len = 1..6000u64;
    prop_oneof![
        4 => (off.clone(), len.clone(), any::<u8>()).prop_map(|(off, len, byte)| Op::Write { off, len: len.min(MAX - off), byte }),
        3 => (off.clone(), len.clone()).prop_map(|(off, len)| Op::Read { off, len }),
        3 => (off.clone(), len.clone(), any::<u8>()).prop_map(|(off, len, byte)| Op::Store { off, len: len.min(MAX - off), byte }),
        3 => (off, len).prop_map(|(off, len)| Op::Load { off, len: len.min(MAX - off) }),
        2 => (0..=MAX).prop_map(|size| Op::Truncate { size }),
        1 => Just(Op::Remap),
        1 => Just(Op::Reopen),
        1 => Just(Op::Unlink),
        1 => Just(Op::Fsync),
        1 => Just(Op::DropCaches),
    ]
}

/// The body of worker `w` (file `/MOUNT/w`, descriptor `fw`, mapping `mw`) with the model's
/// expectations, ending with a check of every byte.
fn body(w: &str, mount: &str, ops: &[Op]) -> String {
    let (f, m, path) = (format!("f{w}"), format!("m{w}"), format!("{mount}/{w}"));
    let mut t = format!("open {f} {path} create\nmmap {m} {f} 0 {MAX} shared rw\n");
    let mut file: Vec<u8> = Vec::new();
    // After an unlink, reopening by name would create a new, empty file: reopen then only
    // closes and reopens what the descriptor names, which the model cannot do by path.
    let mut linked = true;
    for op in ops {
        let size = file.len() as u64;
        match *op {
            Op::Write { off, len, byte } => {
                if file.len() < (off + len) as usize {
                    file.resize((off + len) as usize, 0);
                }
                file[off as usize..(off + len) as usize].fill(byte);
                t += &format!("expect write {f} {off} fill={byte} len={len} == {len}\n");
            }
            Op::Read { off, len } => {
                let end = (off + len).min(size).max(off);
                let want = common::quoted(file.get(off as usize..end as usize).unwrap_or(&[]));
                t += &format!("expect read {f} {off} {len} == {want}\n");
            }
            Op::Store { off, len, byte } => {
                if off / PAGE >= size.div_ceil(PAGE) {
                    t += &format!("expect store {m} {off} fill={byte} len={len} == SIGBUS\n");
                } else if off + len <= size {
                    file[off as usize..(off + len) as usize].fill(byte);
                    t += &format!("expect store {m} {off} fill={byte} len={len} == {len}\n");
                }
            }
            Op::Load { off, len } => {
                if off / PAGE >= size.div_ceil(PAGE) {
                    t += &format!("expect load {m} {off} {len} == SIGBUS\n");
                } else if off + len <= size {
                    let want = common::quoted(&file[off as usize..(off + len) as usize]);
                    t += &format!("expect load {m} {off} {len} == {want}\n");
                }
            }
            Op::Truncate { size } => {
                file.resize(size as usize, 0);
                t += &format!("expect truncate {f} {size} == ok\n");
            }
            Op::Remap => {
                t += &format!(
                    "expect munmap {m} == ok\nexpect mmap {m} {f} 0 {MAX} shared rw == ok\n"
                );
            }
            Op::Reopen if linked => {
                t += &format!("expect close {f} == ok\nexpect open {f} {path} == ok\n");
            }
            Op::Reopen => {}
            Op::Unlink if linked => {
                linked = false;
                t += &format!("expect unlink {path} == ok\n");
            }
            Op::Unlink => t += &format!("expect unlink {path} == ENOENT\n"),
            Op::Fsync => t += &format!("expect fsync {f} == ok\n"),
            Op::DropCaches => t += "expect drop_caches == ok\n",
        }
    }
    let all = common::quoted(&file);
    t += &format!("expect read {f} 0 {MAX} == {all}\n");
    if !file.is_empty() {
        t += &format!("expect load {m} 0 {} == {all}\n", file.len());
    }
    t += &format!("expect munmap {m} == ok\nexpect close {f} == ok\n");
    t
}

/// The scenario: the two mounts, each worker's block (on a mount of its choice), a schedule.
fn scenario(work: &[(bool, Vec<Op>)], order: &[usize]) -> String {
    let mut t = String::from(
        "device pmem0 brd size=16M\nmkfs ext2 /dev/pmem0\nmount /dev/pmem0 /dax -o dax\n\
         device sda brd size=16M\nmkfs ext4 /dev/sda\nmount /dev/sda /pc\n",
    );
    for ((name, kind), (dax, ops)) in WORKERS.iter().zip(work) {
        let mount = if *dax { "/dax" } else { "/pc" };
        t += &format!("{kind} {name} {{\n{}}}\n", body(name, mount, ops));
    }
    if !order.is_empty() {
        let names: Vec<&str> = order.iter().map(|i| WORKERS[*i].0).collect();
        t += &format!("schedule {}\n", names.join(" "));
    }
    t
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn workers_on_their_own_files_agree_with_their_byte_models(
        work in prop::collection::vec((any::<bool>(), prop::collection::vec(op(), 1..10)), 3),
        order in prop::collection::vec(0..3usize, 0..200),
    ) {
        let text = scenario(&work, &order);
        let s = parse(&text).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        let mut e = Execution::new(&s, RunOptions::stepped()).expect("runs");
        // Far more steps than any of these scenarios needs: not finishing is a livelock.
        let finished = e.advance(200_000);
        let r = Report::of(&e, Vec::new());
        let failed: Vec<String> = r.results.iter().filter(|c| !c.ok()).take(3)
            .map(|c| format!("line {} {} → {:.200}", c.line, c.command, text::result(c))).collect();
        let m = e.machine();
        let held: Vec<String> = m.locks.held().map(|(l, _)| l.to_string()).collect();
        let strays = m.mem.strays();
        if !finished || !r.ok() || strays > 0 || !held.is_empty() {
            // The failing case's scenario, for `daxlab run --trace`.
            let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("concurrency-failure.dax");
            std::fs::write(&path, &text).expect("write the case");
            let at = path.display();
            prop_assert!(finished, "still running after 200000 steps ({at})");
            prop_assert!(r.ok(), "failed: {failed:#?} ({at})");
            prop_assert_eq!(strays, 0, "the model touched a freed frame ({})", at);
            prop_assert!(held.is_empty(), "locks left held: {held:?} ({at})");
        }
    }
}
