//! Same scenario, same schedule, same trace: every scenario in the repository, run twice; and
//! running in slices, or with the batched fast path, changes nothing.

#![cfg(not(target_arch = "wasm32"))]

use daxlab_core::engine::exec::{Execution, RunOptions};
use daxlab_core::engine::trace::TraceMode;
use daxlab_core::lang::parse::parse;
use daxlab_core::lang::report::{run_text, run_with, Report};
use daxlab_core::lang::text;

fn scenarios() -> Vec<std::path::PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir)
            .expect("scenarios directory")
            .flatten()
        {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "dax") {
                out.push(p);
            }
        }
    }
    let mut v = Vec::new();
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios"),
        &mut v,
    );
    v.sort();
    v
}

/// Everything a run shows, as text: the readable trace, the results and the counters.
fn fingerprint(r: &Report) -> String {
    let mut s = String::new();
    for e in &r.events {
        s.push_str(&format!(
            "{} {} {}\n",
            e.step,
            r.names.thread(e.thread),
            text::event(e, &r.names)
        ));
    }
    for c in &r.results {
        s.push_str(&format!(
            "{} {}-{} {} {}\n",
            c.line,
            c.start,
            c.step,
            c.command,
            text::result(c)
        ));
    }
    s.push_str(&format!(
        "{:?} {:?} {:?}",
        r.counters, r.counters_by_mount, r.violations
    ));
    s
}

#[test]
fn every_scenario_gives_the_same_trace_twice_and_passes_its_expects() {
    let all = scenarios();
    assert!(all.len() >= 3, "found {all:?}");
    for p in all {
        let text = std::fs::read_to_string(&p).expect("read scenario");
        let a = run_text(&text);
        let b = run_text(&text);
        let failed: Vec<_> = a
            .results
            .iter()
            .filter(|c| c.check.is_some() && !c.ok())
            .collect();
        assert!(
            a.ok(),
            "{}: {:?} {failed:#?} {:?}",
            p.display(),
            a.error,
            a.violations
        );
        assert!(!a.events.is_empty(), "{}: no events", p.display());
        assert_eq!(
            fingerprint(&a),
            fingerprint(&b),
            "{} is not deterministic",
            p.display()
        );
    }
}

#[test]
fn running_in_slices_gives_the_same_trace_as_running_in_one_go() {
    for p in scenarios() {
        let text = std::fs::read_to_string(&p).expect("read scenario");
        let s = parse(&text).expect("valid scenario");
        let whole = run_text(&text);
        let mut e = Execution::new(
            &s,
            RunOptions {
                trace: TraceMode::Full,
                keep_steps: true,
                checkpoint_every: 64,
                batch: false,
            },
        )
        .expect("runs");
        let mut slices = 0;
        let mut events = Vec::new();
        while !e.advance(7) {
            slices += 1;
            events.extend(e.take_events());
        }
        events.extend(e.take_events());
        assert!(
            slices > 1 || whole.steps < 14,
            "{}: ran in {slices} slices",
            p.display()
        );
        assert_eq!(
            fingerprint(&Report::of(&e, events)),
            fingerprint(&whole),
            "{}",
            p.display()
        );
    }
}

#[test]
fn the_fast_path_gives_the_same_results_and_counters() {
    for p in scenarios() {
        let text = std::fs::read_to_string(&p).expect("read scenario");
        let stepped = run_text(&text);
        let fast = run_with(&text, TraceMode::Off);
        assert_eq!(fast.results, stepped.results, "{}", p.display());
        assert_eq!(fast.counters, stepped.counters, "{}", p.display());
        assert_eq!(
            fast.counters_by_mount,
            stepped.counters_by_mount,
            "{}",
            p.display()
        );
        assert_eq!(fast.steps, stepped.steps, "{}", p.display());
    }
}
