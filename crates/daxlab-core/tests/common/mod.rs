//! Helpers shared by the integration tests.

#![allow(dead_code)]

use daxlab_core::counters::Counters;
use daxlab_core::run::{run_text, Report};

/// Run scenario text and fail the test with the failing results if it is not ok.
pub fn run_ok(text: &str) -> Report {
    let r = run_text(text);
    assert!(r.error.is_none(), "scenario error: {:?}\n{text}", r.error);
    let failed: Vec<_> = r.results.iter().filter(|c| !c.ok).collect();
    assert!(r.ok, "scenario not ok; failed: {failed:#?}");
    r
}

/// Counters of `mount` that `op` adds after `setup` (the core is deterministic, so the
/// difference of two runs is the cost of `op`).
pub fn cost(setup: &str, op: &str, mount: &str) -> Counters {
    let before = run_ok(setup)
        .counters_by_mount
        .get(mount)
        .copied()
        .unwrap_or_default();
    let after = run_ok(&format!("{setup}\n{op}"))
        .counters_by_mount
        .get(mount)
        .copied()
        .unwrap_or_default();
    Counters {
        copies: after.copies - before.copies,
        bytes_copied: after.bytes_copied - before.bytes_copied,
        copies_avoided: after.copies_avoided - before.copies_avoided,
        pagecache_pages: after.pagecache_pages - before.pagecache_pages,
        faults_minor: after.faults_minor - before.faults_minor,
        faults_major: after.faults_major - before.faults_major,
        sim_ns: after.sim_ns - before.sim_ns,
    }
}

/// A page-cache mount at /mnt/pc and a DAX mount at /mnt/dax, both ext2 on brd, with file
/// descriptors `p` and `d`.
pub const TWO_MOUNTS: &str = "\
device pc0 brd size=64M
device dax0 brd size=64M
mkfs ext2 /dev/pc0
mkfs ext2 /dev/dax0
mount /dev/pc0 /mnt/pc
mount /dev/dax0 /mnt/dax -o dax
open p /mnt/pc/file create
open d /mnt/dax/file create";
