//! Property tests of the engine: on random scenarios (top-level commands, and groups of
//! threads under random schedules, long enough to park mid-command), a run gives the same
//! results and counters whatever its trace mode and whether or not it takes the batched fast
//! path; jumping to a step (restoring the nearest checkpoint and replaying) gives the same
//! machine as running straight there; and a run continued from a jump gives the same trace as
//! the original; and a clone taken mid-run goes on exactly as the original.

#![cfg(not(target_arch = "wasm32"))]

use daxlab_core::engine::exec::{Execution, RunOptions};
use daxlab_core::engine::trace::{Event, TraceMode};
use daxlab_core::lang::parse::parse;
use daxlab_core::lang::report::{Names, Report};
use daxlab_core::lang::text;
use proptest::prelude::*;

const SETUP: &str = "device d0 brd size=16M\nmkfs ext2 /dev/d0\nmount /dev/d0 /dax -o dax\n\
                     device d1 brd size=16M\nmkfs ext4 /dev/d1\nmount /dev/d1 /pc\n\
                     open f /dax/file create\nopen g /pc/file create\ntruncate f 16K\ntruncate g 16K\n\
                     mmap m f 0 16K shared rw\nmmap n g 0 16K shared rw\n";

fn op() -> impl Strategy<Value = String> {
    let off = 0..14000u64;
    let len = 1..9000u64;
    prop_oneof![
        (
            prop::sample::select(vec!["f", "g"]),
            off.clone(),
            len.clone(),
            any::<u8>()
        )
            .prop_map(|(fd, o, l, b)| format!("write {fd} {o} fill={b} len={l}")),
        (
            prop::sample::select(vec!["f", "g"]),
            off.clone(),
            len.clone()
        )
            .prop_map(|(fd, o, l)| format!("read {fd} {o} {l}")),
        (
            prop::sample::select(vec!["m", "n"]),
            0..16000u64,
            1..4000u64,
            any::<u8>()
        )
            .prop_map(|(m, o, l, b)| format!("store {m} {o} fill={b} len={}", l.min(16384 - o))),
        (
            prop::sample::select(vec!["m", "n"]),
            0..16000u64,
            1..4000u64
        )
            .prop_map(|(m, o, l)| format!("load {m} {o} {}", l.min(16384 - o))),
        (prop::sample::select(vec!["f", "g"]), 0..20000u64)
            .prop_map(|(fd, s)| format!("truncate {fd} {s}")),
        (prop::sample::select(vec!["f", "g"]), off, len)
            .prop_map(|(fd, o, l)| format!("punch {fd} {o} {l}")),
        prop::sample::select(vec!["fsync f", "fsync g", "sync", "drop_caches"])
            .prop_map(str::to_string),
    ]
}

/// A scenario: the set-up, some commands, maybe a group of two threads with a random
/// schedule, and more commands.
fn scenario() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(op(), 0..4),
        prop::option::of((
            prop::collection::vec(op(), 1..3),
            prop::collection::vec(op(), 1..3),
            prop::collection::vec(prop::bool::ANY, 0..40),
        )),
        prop::collection::vec(op(), 0..3),
    )
        .prop_map(|(before, group, after)| {
            let mut t = String::from(SETUP);
            for o in before {
                t += &o;
                t.push('\n');
            }
            if let Some((a, b, order)) = group {
                t += &format!(
                    "thread a {{\n{}\n}}\nprocess b {{\n{}\n}}\n",
                    a.join("\n"),
                    b.join("\n")
                );
                if !order.is_empty() {
                    let names: Vec<&str> =
                        order.iter().map(|x| if *x { "a" } else { "b" }).collect();
                    t += &format!("schedule {}\n", names.join(" "));
                }
            }
            for o in after {
                t += &o;
                t.push('\n');
            }
            t
        })
}

fn opts(trace: TraceMode, batch: bool, checkpoint_every: u32) -> RunOptions {
    RunOptions {
        trace,
        keep_steps: true,
        checkpoint_every,
        batch,
    }
}

fn run(text: &str, o: RunOptions) -> (Report, String) {
    let mut e = Execution::new(&parse(text).expect("valid"), o).expect("runs");
    e.run_to_end();
    let events = e.take_events();
    let fp = format!("{:?}", e.machine());
    (Report::of(&e, events), fp)
}

fn outcome(r: &Report) -> String {
    let res: Vec<String> = r
        .results
        .iter()
        .map(|c| format!("{} {}-{} {}", c.line, c.start, c.step, text::result(c)))
        .collect();
    format!(
        "{res:#?}\n{:?}\n{:?}\n{}",
        r.counters, r.counters_by_mount, r.steps
    )
}

fn trace_after(events: &[Event], names: &Names, step: u32) -> Vec<String> {
    events
        .iter()
        .filter(|e| e.step > step)
        .map(|e| {
            format!(
                "{} {} {}",
                e.step,
                names.thread(e.thread),
                text::event(e, names)
            )
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Counters and results are the same in every trace mode, batched or not.
    #[test]
    fn modes_and_the_fast_path_agree(text in scenario()) {
        let (full, fp_full) = run(&text, opts(TraceMode::Full, false, 0));
        for (mode, batch) in [(TraceMode::Footprint, false), (TraceMode::Off, false), (TraceMode::Off, true), (TraceMode::Full, true)] {
            let (r, fp) = run(&text, opts(mode, batch, 0));
            prop_assert_eq!(outcome(&r), outcome(&full), "{:?} batch {}", mode, batch);
            prop_assert_eq!(&fp, &fp_full, "machine differs: {:?} batch {}", mode, batch);
        }
    }

    /// A clone taken at a step goes on exactly as the run it was cloned from.
    #[test]
    fn clones_continue_identically(text in scenario(), at in 0.0f64..1.0) {
        let s = parse(&text).expect("valid");
        let mut probe = Execution::new(&s, opts(TraceMode::Off, false, 0)).expect("runs");
        probe.run_to_end();
        let mut orig = Execution::new(&s, opts(TraceMode::Full, false, 0)).expect("runs");
        orig.advance((at * probe.step() as f64) as u32);
        // Step on to the next point where every thread can be captured.
        let mut clone = loop {
            if let Some(c) = orig.fork(opts(TraceMode::Full, false, 0)) {
                break c;
            }
            prop_assert!(!orig.finished(), "the run ended without a capturable step");
            orig.advance(1);
        };
        let step = orig.step();
        prop_assert_eq!(format!("{:?}", clone.machine()), format!("{:?}", orig.machine()));
        orig.run_to_end();
        clone.run_to_end();
        let names = Names::of(&orig);
        prop_assert_eq!(
            trace_after(&clone.take_events(), &names, step),
            trace_after(&orig.take_events(), &names, step)
        );
        prop_assert_eq!(outcome(&Report::of(&clone, vec![])), outcome(&Report::of(&orig, vec![])));
    }

    /// Jumping to a step equals running straight to it; continuing from the jump gives the
    /// trace and results the original run had.
    #[test]
    fn jumps_equal_running_straight_there(text in scenario(), at in 0.0f64..1.0) {
        let s = parse(&text).expect("valid");
        let mut whole = Execution::new(&s, opts(TraceMode::Full, true, 5)).expect("runs");
        whole.run_to_end();
        let events = whole.take_events();
        let names = Names::of(&whole);
        let total = whole.step();
        let step = (at * total as f64) as u32;

        let mut straight = Execution::new(&s, opts(TraceMode::Off, false, 0)).expect("runs");
        straight.advance(step);
        let mut jumped = whole.fork_at(step, opts(TraceMode::Full, false, 0));
        prop_assert_eq!(jumped.step(), step);
        prop_assert_eq!(format!("{:?}", jumped.machine()), format!("{:?}", straight.machine()), "machine at step {}", step);
        prop_assert_eq!(jumped.counters(), straight.counters());

        jumped.run_to_end();
        let again = jumped.take_events();
        prop_assert_eq!(trace_after(&again, &names, step), trace_after(&events, &names, step));
        prop_assert_eq!(outcome(&Report::of(&jumped, vec![])), outcome(&Report::of(&whole, vec![])));
    }
}

/// Every command's future is moved into its box when the command starts (a race's store as
/// much as a module load): the paths with large futures are boxed inside `run_cmd`, so this
/// one stays small. A bound, not an exact size: it catches a large path added inline.
#[test]
fn a_command_future_stays_small() {
    use daxlab_core::lang::command::Command;
    use daxlab_core::lang::run::run_cmd;
    use daxlab_core::state::Tid;
    let s = parse("device d0 brd size=16M\n").expect("valid");
    let e = Execution::new(&s, RunOptions::fast()).expect("runs");
    let size = std::mem::size_of_val(&run_cmd(e.cx(Tid(0)), Command::Kernel));
    assert!(size <= 4096, "run_cmd's future is {size} bytes");
}
