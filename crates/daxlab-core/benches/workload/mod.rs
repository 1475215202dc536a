//! The read benchmark's workload, shared by the native benchmark (`machine.rs`) and the same
//! benchmark in headless Chromium (`tests/wasm_bench.rs`): a 64 MiB file read sequentially in
//! 128 KiB `read()` calls into one reused user buffer, against the least work such a read must
//! do, a memory copy of the same bytes into one reused 128 KiB buffer.

#![allow(dead_code)] // each includer uses part of it

use std::hint::black_box;

use daxlab_core::engine::cx::run_alone;
use daxlab_core::engine::exec::{Execution, RunOptions};
use daxlab_core::kernel::{read_write, user, writeback};
use daxlab_core::lang::parse::parse;
use daxlab_core::state::Tid;

/// The file's size.
pub const FILE: u64 = 64 << 20;
/// One `read()` call.
pub const CHUNK: u64 = 128 << 10;

/// A machine with a 64 MiB file on a DAX mount (fd `d`) and, with `pagecache`, one on a
/// page-cache mount (fd `p`), written back so that a cold read comes from the device.
pub fn machine(pagecache: bool) -> Execution {
    let mut text = String::from(
        "device dax0 brd size=128M\nmkfs ext2 /dev/dax0\nmount /dev/dax0 /dax -o dax\n\
         open d /dax/file create\nwrite d 0 pattern=seq len=64M\n",
    );
    if pagecache {
        text += "device pc0 brd size=128M\nmkfs ext2 /dev/pc0\nmount /dev/pc0 /pc\n\
                 open p /pc/file create\nwrite p 0 pattern=seq len=64M\nfsync p\n";
    }
    let mut e = Execution::new(&parse(&text).expect("valid"), RunOptions::fast()).expect("runs");
    e.run_to_end();
    assert!(e.results().iter().all(|r| r.ok()), "set-up failed");
    e
}

/// One sequential pass over the file through `fd`, reusing one 128 KiB buffer as a program
/// would; returns the bytes read.
pub fn read_pass(e: &Execution, fd: &str) -> u64 {
    let cx = e.cx(Tid(0));
    let buf = user::ensure_buffer(&cx, CHUNK).expect("buffer");
    cx.world().batch = u32::MAX;
    let mut total = 0;
    for off in (0..FILE).step_by(CHUNK as usize) {
        total += run_alone(read_write::sys_read(&cx, fd, buf, off, CHUNK), u64::MAX)
            .expect("finishes")
            .expect("read");
    }
    cx.world().batch = 0;
    black_box(total)
}

/// The bytes the last `read()` left in the user buffer (to check a pass read the file).
pub fn last_chunk(e: &Execution) -> Vec<u8> {
    user::buffer_bytes(&e.cx(Tid(0)), CHUNK).to_vec()
}

/// Empty the page cache, so the next page-cache pass reads every page from the device.
pub fn drop_caches(e: &Execution) {
    let cx = e.cx(Tid(0));
    cx.world().batch = u32::MAX;
    run_alone(writeback::drop_caches(&cx), u64::MAX)
        .expect("finishes")
        .expect("drop");
    cx.world().batch = 0;
}

/// The file's bytes as `pattern=seq` writes them (the baseline's source).
pub fn source() -> Vec<u8> {
    (0..FILE).map(|i| (i % 251) as u8).collect()
}

/// The baseline: the same bytes copied into one reused 128 KiB buffer.
pub fn memcpy_pass(src: &[u8], dst: &mut [u8]) {
    for s in src.chunks(CHUNK as usize) {
        dst.copy_from_slice(black_box(s));
        black_box(&mut *dst);
    }
}
