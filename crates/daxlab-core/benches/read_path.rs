//! Sequential `read()` of a 64 MiB file in 128 KiB calls, through DAX and through the page cache
//! (cold: `drop_caches` before each pass, so every page is read from the device and then
//! copied to the user), against a plain memory copy of the same bytes in the same run.
//!
//! `cargo bench -p daxlab-core --bench read_path` prints criterion's figures and then the
//! ratios of throughput to the memory copy, from interleaved passes of the same process.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use daxlab_core::event::ThreadId;
use daxlab_core::sim::Sim;
use daxlab_core::vfs::{self, OpenFlags};

const FILE: u64 = 64 << 20;
const CHUNK: u64 = 128 << 10;

/// A machine with one 64 MiB file on a page-cache mount (`p`) and one on a DAX mount (`d`).
fn machine() -> Sim {
    let mut sim = Sim::new(2 << 30);
    let cx = sim.cx(ThreadId(0));
    let setup = async move {
        for (dev, mnt, opts, fd) in [("pc0", "/pc", "", "p"), ("dax0", "/dax", "dax", "d")] {
            vfs::add_device(&cx, dev, daxlab_core::block_dev::DeviceKind::Brd, 2 * FILE)
                .expect("device");
            vfs::mkfs(&cx, daxlab_core::fs::FsKind::Ext2, dev, 4096).expect("mkfs");
            vfs::mount(&cx, dev, mnt, opts).expect("mount");
            let flags = OpenFlags {
                create: true,
                ..OpenFlags::default()
            };
            vfs::open(&cx, fd, &format!("{mnt}/file"), flags)
                .await
                .expect("open");
            let data: Vec<u8> = (0..CHUNK).map(|i| (i % 251) as u8).collect();
            for off in (0..FILE).step_by(CHUNK as usize) {
                vfs::write(&cx, fd, off, &data).await.expect("write");
            }
            vfs::fsync(&cx, fd).await.expect("fsync");
        }
    };
    sim.block_on(setup).expect("set-up finished");
    sim
}

/// Untimed preparation of a pass: empty the page cache (so the page-cache path reads every
/// page from the device) and forget the previous pass's events.
fn prepare(sim: &mut Sim) {
    let cx = sim.cx(ThreadId(0));
    sim.block_on(async move { vfs::drop_caches(&cx).await.expect("drop_caches") });
    sim.kernel_mut().events.clear();
}

/// One sequential pass over the file through `fd`, reusing one 128 KiB user buffer as a
/// program would; returns the bytes read.
fn read_pass(sim: &mut Sim, fd: &'static str) -> u64 {
    let mut total = 0;
    let mut buf = vec![0u8; CHUNK as usize];
    for off in (0..FILE).step_by(CHUNK as usize) {
        let cx = sim.cx(ThreadId(0));
        let (n, b) = sim
            .block_on(async move { vfs::read_into(&cx, fd, off, buf).await })
            .expect("ran");
        total += n.expect("read");
        buf = black_box(b);
    }
    total
}

fn memcpy_pass(src: &[u8], dst: &mut [u8]) {
    for (s, d) in src
        .chunks(CHUNK as usize)
        .zip(dst.chunks_mut(CHUNK as usize))
    {
        d.copy_from_slice(black_box(s));
    }
    black_box(dst);
}

fn timed(f: impl FnOnce()) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let mut sim = machine();
    let src: Vec<u8> = (0..FILE).map(|i| (i % 251) as u8).collect();
    let mut dst = vec![0u8; FILE as usize];

    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(10)
        .measurement_time(Duration::from_secs(8));
    let mut g = c.benchmark_group("sequential read, 64 MiB in 128 KiB calls");
    g.throughput(Throughput::Bytes(FILE));
    g.bench_function("memcpy", |b| b.iter(|| memcpy_pass(&src, &mut dst)));
    for (name, fd) in [("dax", "d"), ("page cache (cold)", "p")] {
        g.bench_function(name, |b| {
            b.iter_custom(|n| {
                (0..n)
                    .map(|_| {
                        prepare(&mut sim);
                        timed(|| assert_eq!(read_pass(&mut sim, fd), FILE))
                    })
                    .sum()
            })
        });
    }
    g.finish();
    c.final_summary();

    // Ratios from interleaved passes, so machine noise hits all three alike.
    let (mut m, mut d, mut p) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..7 {
        m.push(timed(|| memcpy_pass(&src, &mut dst)));
        prepare(&mut sim);
        d.push(timed(|| assert_eq!(read_pass(&mut sim, "d"), FILE)));
        prepare(&mut sim);
        p.push(timed(|| assert_eq!(read_pass(&mut sim, "p"), FILE)));
    }
    let (m, d, p) = (median(m), median(d), median(p));
    println!("\nmedian of 7 interleaved passes over 64 MiB:");
    println!("  memcpy      {:>8.1} ms", m.as_secs_f64() * 1e3);
    println!(
        "  dax         {:>8.1} ms   throughput ratio to memcpy: {:.2}",
        d.as_secs_f64() * 1e3,
        m.as_secs_f64() / d.as_secs_f64()
    );
    println!(
        "  page cache  {:>8.1} ms   throughput ratio to memcpy: {:.2}",
        p.as_secs_f64() * 1e3,
        m.as_secs_f64() / p.as_secs_f64()
    );
}
