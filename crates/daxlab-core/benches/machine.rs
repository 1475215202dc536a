//! DAX Lab's speed, measured with criterion in one run (`cargo xtask bench` turns the estimates
//! into ratios and rates):
//!
//! - `read_64MiB/{memcpy,dax,pagecache_cold}`: sequential `read()` of a 64 MiB file in
//!   128 KiB calls into one reused buffer, through DAX and through the page cache (cold),
//!   and the baseline, a memory copy of the same bytes into one reused 128 KiB buffer;
//! - `r1/replay`: one execution of the R1 race replayed from its set-up checkpoint (what an
//!   explorer does);
//! - `machine/clone_after_r1_setup`: cloning the machine right after R1's set-up;
//! - `jump/any_step_of_1m_steps`: showing a random step of a run of about a million steps
//!   (restore the nearest checkpoint and replay).
//!
//! After criterion, one line `BENCH_FACTS {...}` gives what is counted rather than timed: the
//! long run's steps and checkpoints, the resident memory its checkpoints cost, and for each race
//! level the executions the explorer runs with partial-order reduction against naive
//! enumeration (capped at [`NAIVE_CAP`]).
//!
//! `cargo bench -p daxlab-core --bench machine [-- --quick]`; `-- --profile r1|d|p|levels|explore` runs
//! one path alone for a profiler (`r1` prints its executions per second, a median of five batches).

use std::cell::Cell;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use daxlab_core::engine::exec::{Execution, RunOptions};
use daxlab_core::engine::sched::Replay;
use daxlab_core::engine::trace::TraceMode;
use daxlab_core::lang::parse::parse;
use daxlab_core::state::Tid;

mod workload;
use workload::{drop_caches, machine, memcpy_pass, read_pass, source, CHUNK, FILE};

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

fn reads(c: &mut Criterion) {
    let e = machine(true);
    let src = source();
    let mut dst = vec![0u8; CHUNK as usize];
    let mut g = c.benchmark_group("read_64MiB");
    g.sample_size(10).throughput(Throughput::Bytes(FILE));
    g.bench_function("memcpy", |b| b.iter(|| memcpy_pass(&src, &mut dst)));
    g.bench_function("dax", |b| b.iter(|| assert_eq!(read_pass(&e, "d"), FILE)));
    g.bench_function("pagecache_cold", |b| {
        b.iter_custom(|n| {
            let mut t = Duration::ZERO;
            for _ in 0..n {
                drop_caches(&e);
                let start = Instant::now();
                assert_eq!(read_pass(&e, "p"), FILE);
                t += start.elapsed();
            }
            t
        })
    });
    g.finish();
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

/// One execution of R1, restored from the set-up checkpoint and run to the end under a replay
/// of the recorded choices (footprints on, as an explorer runs).
fn r1_run(base: &Execution, ck: usize, choices: &[Tid]) -> u32 {
    let opts = RunOptions {
        trace: TraceMode::Footprint,
        keep_steps: false,
        checkpoint_every: 0,
        batch: false,
    };
    let mut e = base
        .fork_from(ck, opts, Box::new(Replay::new(choices.to_vec())))
        .expect("checkpoint");
    e.run_to_end();
    e.step()
}

fn r1_replays(c: &mut Criterion) {
    let (base, ck, choices) = r1();
    c.benchmark_group("r1")
        .bench_function("replay", |b| b.iter(|| r1_run(&base, ck, &choices)));
    let m = base.machine().clone();
    c.benchmark_group("machine")
        .bench_function("clone_after_r1_setup", |b| b.iter(|| m.clone()));
}

/// A run of about a million steps: write 256 MiB through DAX (a step per page) and read it
/// back fifteen times.
fn long_text() -> String {
    let mut t = String::from(
        "device pmem0 brd size=512M\nmkfs ext2 /dev/pmem0\nmount /dev/pmem0 /dax -o dax\n\
         open f /dax/file create\nwrite f 0 pattern=seq len=256M\n",
    );
    t += &"read f 0 256M\n".repeat(15);
    t
}

/// The long run, with or without checkpoints, trace off.
fn long_run(checkpoints: bool) -> Execution {
    let s = parse(&long_text()).expect("valid");
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

thread_local! {
    /// The long run's steps and checkpoints, for the facts line.
    static LONG_RUN: Cell<(u32, usize)> = const { Cell::new((0, 0)) };
}

fn jumps(c: &mut Criterion) {
    let e = long_run(true);
    let steps = e.step();
    LONG_RUN.set((steps, e.checkpoints().len()));
    let opts = RunOptions {
        trace: TraceMode::Off,
        keep_steps: false,
        checkpoint_every: 0,
        batch: true,
    };
    let mut x: u64 = 12345;
    let mut g = c.benchmark_group("jump");
    g.sample_size(20);
    g.bench_function("any_step_of_1m_steps", |b| {
        b.iter_custom(|n| {
            let mut t = Duration::ZERO;
            for _ in 0..n {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let target = (x >> 33) as u32 % steps;
                let start = Instant::now();
                let f = e.fork_at(target, opts);
                t += start.elapsed();
                assert_eq!(f.step(), target);
            }
            t
        })
    });
    g.finish();
}

/// Naive enumeration stops here (some levels have millions of interleavings); a tenth of it
/// with `--quick`.
const NAIVE_CAP: usize = 200_000;

/// Each level under 4.0: executions with partial-order reduction and without (JSON objects).
fn levels_reduction() -> Vec<String> {
    use daxlab_core::engine::explore::{explore, Mode};
    use daxlab_core::levels::LEVELS;
    use daxlab_core::state::Locking;
    LEVELS
        .iter()
        .map(|l| {
            let s = parse(&l.program(Locking::V4_0)).expect("level parses");
            let por = explore(&s, Mode::Exhaustive { por: true }, usize::MAX).expect("explores");
            let quick = std::env::args().any(|a| a == "--quick");
            let cap = if quick { NAIVE_CAP / 10 } else { NAIVE_CAP };
            let naive = explore(&s, Mode::Exhaustive { por: false }, cap).expect("explores");
            format!(
                "{{\"id\":\"{}\",\"por\":{},\"por_complete\":{},\"naive\":{},\"naive_complete\":{}}}",
                l.id, por.executions, por.complete, naive.executions, naive.complete
            )
        })
        .collect()
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
                let mut rates = Vec::new();
                for _ in 0..5 {
                    let t = Instant::now();
                    for _ in 0..4000 {
                        black_box(r1_run(&base, ck, &choices));
                    }
                    rates.push(4000.0 / t.elapsed().as_secs_f64());
                }
                rates.sort_by(f64::total_cmp);
                println!("r1 replays: median {:.0}/s", rates[2]);
            }
            Some(fd @ ("d" | "p")) => {
                let e = machine(fd == "p");
                for _ in 0..200 {
                    if fd == "p" {
                        drop_caches(&e);
                    }
                    read_pass(&e, fd);
                }
            }
            Some("levels") => println!("[{}]", levels_reduction().join(",")),
            Some("explore") => {
                use daxlab_core::engine::explore::{explore, Mode};
                for l in &daxlab_core::levels::LEVELS {
                    let s = parse(&l.program(daxlab_core::state::Locking::V4_0)).expect("parses");
                    let t = Instant::now();
                    let r = explore(&s, Mode::Exhaustive { por: true }, usize::MAX).expect("ok");
                    println!("{} {} executions in {:?}", l.id, r.executions, t.elapsed());
                }
            }
            _ => eprintln!("--profile r1|d|p|levels|explore"),
        }
        return;
    }
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .configure_from_args();
    reads(&mut c);
    r1_replays(&mut c);
    jumps(&mut c);
    c.final_summary();
    let (steps, checkpoints) = LONG_RUN.get();
    let ck_bytes = rss_of(true).saturating_sub(rss_of(false));
    println!(
        "BENCH_FACTS {{\"jump_run_steps\":{steps},\"checkpoints\":{checkpoints},\"checkpoint_bytes\":{ck_bytes},\"levels\":[{}]}}",
        levels_reduction().join(",")
    );
}
