//! DAX Lab's speed, as ratios and rates measured in one run (`cargo xtask bench` prints them):
//!
//! - sequential `read()` of a 64 MiB file in 128 KiB calls into one reused buffer, through DAX
//!   and through the page cache (cold), against a memory copy of the same bytes into one
//!   reused 128 KiB buffer;
//! - executions per second of the R1 race replayed from its set-up checkpoint (what an explorer
//!   does);
//! - the cost of cloning the machine right after R1's set-up;
//! - the time to show any step of a run of about a million steps (restore the nearest
//!   checkpoint and replay), and what the checkpoints cost in memory.
//!
//! `cargo bench -p daxlab-core --bench machine [-- --quick]`; the last line is
//! `BENCH_JSON {...}` for `cargo xtask bench`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use daxlab_core::engine::cx::run_alone;
use daxlab_core::engine::exec::{Execution, RunOptions};
use daxlab_core::engine::sched::Replay;
use daxlab_core::engine::trace::TraceMode;
use daxlab_core::kernel::{read_write, user, writeback};
use daxlab_core::lang::parse::parse;
use daxlab_core::state::Tid;

/// This process's resident memory in bytes (Linux `/proc/self/status`, `VmRSS`).
fn rss() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<usize>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

const FILE: u64 = 64 << 20;
const CHUNK: u64 = 128 << 10;

/// A machine with one 64 MiB file on a page-cache mount (`p`) and one on a DAX mount (`d`).
fn machine() -> Execution {
    let text = "device pc0 brd size=128M\ndevice dax0 brd size=128M\nmkfs ext2 /dev/pc0\nmkfs ext2 /dev/dax0\n\
                mount /dev/pc0 /pc\nmount /dev/dax0 /dax -o dax\nopen p /pc/file create\nopen d /dax/file create\n\
                write p 0 pattern=seq len=64M\nwrite d 0 pattern=seq len=64M\nfsync p\n";
    let mut e = Execution::new(&parse(text).expect("valid"), RunOptions::fast()).expect("runs");
    e.run_to_end();
    assert!(e.results().iter().all(|r| r.ok()), "set-up failed");
    e
}

/// One sequential pass over the file through `fd`, reusing one 128 KiB buffer as a program
/// would; returns the bytes read.
fn read_pass(e: &Execution, fd: &str) -> u64 {
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

/// Empty the page cache (untimed), so the page-cache pass reads every page from the device.
fn drop_caches(e: &Execution) {
    let cx = e.cx(Tid(0));
    cx.world().batch = u32::MAX;
    run_alone(writeback::drop_caches(&cx), u64::MAX)
        .expect("finishes")
        .expect("drop");
    cx.world().batch = 0;
}

/// The baseline: the same bytes copied into one reused 128 KiB buffer.
fn memcpy_pass(src: &[u8], dst: &mut [u8]) {
    for s in src.chunks(CHUNK as usize) {
        dst.copy_from_slice(black_box(s));
        black_box(&mut *dst);
    }
}

fn timed(f: impl FnOnce()) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

const R1: &str = include_str!("../../../scenarios/races/r1-two-write-faults.dax");

/// The R1 race: its run to the group of threads, a checkpoint there, and the choices of its
/// `schedule` line.
fn r1() -> (Execution, usize, Vec<Tid>) {
    let s = parse(R1).expect("valid");
    let mut full = Execution::new(&s, RunOptions::fast()).expect("runs");
    full.run_to_end();
    let choices: Vec<Tid> = full.choices().iter().map(|c| c.tid).collect();
    let opts = RunOptions {
        trace: TraceMode::Footprint,
        keep_steps: false,
        checkpoint_every: 1 << 30,
        batch: false,
    };
    let mut base = Execution::new(&s, opts).expect("runs");
    assert!(base.run_to_group());
    let ck = base.checkpoint_now().expect("quiescent at the group");
    (base, ck, choices)
}

/// `n` executions of R1, each restored from the set-up checkpoint and run to the end under a
/// replay of the recorded choices (footprints on, as an explorer runs).
fn r1_run(base: &Execution, ck: usize, choices: &[Tid], n: usize) {
    let opts = RunOptions {
        trace: TraceMode::Footprint,
        keep_steps: false,
        checkpoint_every: 0,
        batch: false,
    };
    for _ in 0..n {
        let mut e = base
            .fork_from(ck, opts, Box::new(Replay::new(choices.to_vec())))
            .expect("checkpoint");
        e.run_to_end();
        black_box(e.step());
    }
}

/// Executions of R1 per second.
fn r1_replays_per_s(seconds: f64) -> f64 {
    let (base, ck, choices) = r1();
    let mut n = 0u64;
    let t = Instant::now();
    while t.elapsed().as_secs_f64() < seconds {
        r1_run(&base, ck, &choices, 100);
        n += 100;
    }
    n as f64 / t.elapsed().as_secs_f64()
}

/// Microseconds to clone the machine right after R1's set-up.
fn machine_clone_us() -> f64 {
    let (base, _, _) = r1();
    let m = base.machine().clone();
    let n = 100_000;
    let t = Instant::now();
    for _ in 0..n {
        black_box(m.clone());
    }
    t.elapsed().as_secs_f64() * 1e6 / n as f64
}

/// A run of about a million steps: write 256 MiB through DAX and read it back three times.
const LONG: &str =
    "device pmem0 brd size=512M\nmkfs ext2 /dev/pmem0\nmount /dev/pmem0 /dax -o dax\n\
                    open f /dax/file create\nwrite f 0 pattern=seq len=256M\nread f 0 256M\n\
                    read f 0 256M\nread f 0 256M\n";

/// The long run, with or without checkpoints, trace off.
fn long_run(checkpoints: bool) -> Execution {
    let s = parse(LONG).expect("valid");
    let opts = RunOptions {
        checkpoint_every: if checkpoints { 4096 } else { 0 },
        ..RunOptions::stepped()
    };
    let mut e = Execution::new(&s, opts).expect("runs");
    e.set_trace(TraceMode::Off);
    e.run_to_end();
    e
}

/// Resident memory the long run adds, measured in a fresh process of this benchmark.
fn rss_of(checkpoints: bool) -> usize {
    let exe = std::env::current_exe().expect("own path");
    let out = std::process::Command::new(exe)
        .arg("--measure-rss")
        .arg(if checkpoints { "checkpoints" } else { "plain" })
        .output()
        .expect("runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("RSS "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// Milliseconds to show a random step of the long run (the median of `n` jumps), the steps
/// of the run and its checkpoints.
fn jump(n: usize) -> (f64, u32, usize) {
    let e = long_run(true);
    let steps = e.step();
    let checkpoints = e.checkpoints().len();
    let mut x: u64 = 12345;
    let mut times = Vec::new();
    for _ in 0..n {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let target = (x >> 33) as u32 % steps;
        let opts = RunOptions {
            trace: TraceMode::Off,
            keep_steps: false,
            checkpoint_every: 0,
            batch: true,
        };
        let t = Instant::now();
        let f = e.fork_at(target, opts);
        assert_eq!(f.step(), target);
        black_box(f.machine().inodes.len());
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    (median(times), steps, checkpoints)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--measure-rss") {
        let before = rss();
        let e = long_run(args.get(i + 1).map(String::as_str) == Some("checkpoints"));
        println!("RSS {}", rss().saturating_sub(before));
        black_box(e.step());
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--profile") {
        // One path alone, for a profiler.
        match args.get(i + 1).map(String::as_str) {
            Some("r1") => {
                let (base, ck, choices) = r1();
                r1_run(&base, ck, &choices, 2000);
            }
            Some(fd @ ("d" | "p")) => {
                let e = machine();
                for _ in 0..3 {
                    if fd == "p" {
                        drop_caches(&e);
                    }
                    read_pass(&e, fd);
                }
            }
            _ => eprintln!("--profile r1|d|p"),
        }
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let passes = if quick { 3 } else { 7 };

    let e = machine();
    let src: Vec<u8> = (0..FILE).map(|i| (i % 251) as u8).collect();
    let mut dst = vec![0u8; CHUNK as usize];
    // Interleaved passes, so machine noise hits all three alike.
    let (mut m, mut d, mut p) = (Vec::new(), Vec::new(), Vec::new());
    read_pass(&e, "d"); // warm up
    for _ in 0..passes {
        m.push(timed(|| memcpy_pass(&src, &mut dst)).as_secs_f64());
        d.push(timed(|| assert_eq!(read_pass(&e, "d"), FILE)).as_secs_f64());
        drop_caches(&e);
        p.push(timed(|| assert_eq!(read_pass(&e, "p"), FILE)).as_secs_f64());
    }
    let (m, d, p) = (median(m), median(d), median(p));
    drop(e);
    let dax_ratio = m / d;
    let pc_ratio = m / p;
    let replays = r1_replays_per_s(if quick { 1.0 } else { 3.0 });
    let clone_us = machine_clone_us();
    let (jump_ms, steps, checkpoints) = jump(if quick { 20 } else { 60 });
    let ck_bytes = rss_of(true).saturating_sub(rss_of(false));

    println!(
        "DAX Lab benchmarks ({})",
        if quick { "quick" } else { "full" }
    );
    println!(
        "  64 MiB in 128 KiB reads: memcpy {:.1} ms, DAX {:.1} ms, page cache (cold) {:.1} ms",
        m * 1e3,
        d * 1e3,
        p * 1e3
    );
    println!(
        "  {:<26} {:>10.2}   goal >= 0.60",
        "dax_read_vs_memcpy", dax_ratio
    );
    println!(
        "  {:<26} {:>10.2}   goal >= 0.30",
        "pagecache_read_vs_memcpy", pc_ratio
    );
    println!(
        "  {:<26} {:>10.0}   goal >= 300000",
        "r1_replays_per_s", replays
    );
    println!(
        "  {:<26} {:>10.3}   goal: a few microseconds",
        "machine_clone_us", clone_us
    );
    println!(
        "  {:<26} {:>10.2}   goal < 16 ({steps} steps, {checkpoints} checkpoints, {:.1} MiB)",
        "jump_ms_1m_steps",
        jump_ms,
        ck_bytes as f64 / (1 << 20) as f64
    );
    println!(
        "BENCH_JSON {{\"dax_read_vs_memcpy\":{dax_ratio:.4},\"pagecache_read_vs_memcpy\":{pc_ratio:.4},\"r1_replays_per_s\":{replays:.0},\"jump_ms_1m_steps\":{jump_ms:.3},\"machine_clone_us\":{clone_us:.4},\"jump_run_steps\":{steps},\"checkpoints\":{checkpoints},\"checkpoint_bytes\":{ck_bytes},\"dax_read_mib_per_s\":{:.1}}}",
        64.0 / d
    );
}
