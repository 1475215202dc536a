//! The explorer: partial-order reduction loses nothing (on small random scenarios the set of
//! outcomes equals naive enumeration's), it finds the races of the scenario files and their
//! schedules reproduce them, and the same exploration twice gives the same report.

#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeSet;

use daxlab_core::engine::explore::{explore, Mode, Report};
use daxlab_core::lang::parse::parse;
use daxlab_core::lang::report::run_text;
use proptest::prelude::*;

fn outcomes(r: &Report) -> BTreeSet<(Vec<String>, Vec<String>)> {
    r.outcomes
        .iter()
        .map(|o| (o.violations.clone(), o.results.clone()))
        .collect()
}

/// A short command on the DAX file `f` (mapping `m`) or the page-cache file `g` (mapping `n`).
fn op() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "store m 0 \"x\"",
        "store m 8 \"y\"",
        "load m 0 1",
        "read f 0 1",
        "write f 0 \"w\"",
        "truncate f 0",
        "truncate f 4K",
        "store n 0 \"x\"",
        "load n 0 1",
        "read g 0 1",
        "write g 0 \"v\"",
        "truncate g 0",
    ])
    .prop_map(str::to_string)
}

fn scenario(a: &[String], b: &[String]) -> String {
    format!(
        "device d0 brd size=1M\nmkfs ext2 /dev/d0\nmount /dev/d0 /dax -o dax\n\
         device d1 brd size=1M\nmkfs ext2 /dev/d1\nmount /dev/d1 /pc\n\
         open f /dax/f create\ntruncate f 4K\nmmap m f 0 4K shared rw\n\
         open g /pc/g create\ntruncate g 4K\nmmap n g 0 4K shared rw\n\
         thread a {{\n{}\n}}\nthread b {{\n{}\n}}\n",
        a.join("\n"),
        b.join("\n")
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn partial_order_reduction_finds_every_outcome_naive_enumeration_finds(
        a in prop::collection::vec(op(), 1..2),
        b in prop::collection::vec(op(), 1..2),
    ) {
        let s = parse(&scenario(&a, &b)).expect("valid");
        let naive = explore(&s, Mode::Exhaustive { por: false }, 4_000).expect("explores");
        prop_assume!(naive.complete);
        let por = explore(&s, Mode::Exhaustive { por: true }, 4_000).expect("explores");
        prop_assert!(por.complete);
        prop_assert_eq!(outcomes(&por), outcomes(&naive));
        prop_assert!(por.executions <= naive.executions);
    }
}

const R1: &str = include_str!("../../../scenarios/races/r1-two-write-faults.dax");

fn without_schedule(text: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with("schedule") && !l.starts_with("expect"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_explorer_finds_r1_and_its_schedule_reproduces_it() {
    let text = without_schedule(R1);
    let r = explore(
        &parse(&text).expect("valid"),
        Mode::Exhaustive { por: true },
        100_000,
    )
    .expect("explores");
    assert!(r.complete);
    let lost = r
        .outcomes
        .iter()
        .find(|o| o.violations.contains(&"store_lost".to_string()))
        .expect("store_lost found");
    let replay = run_text(&format!("{text}\n{}", lost.schedule.join("\n")));
    assert!(
        replay
            .violations
            .iter()
            .any(|v| v.invariant.name() == "store_lost"),
        "{:?}",
        lost.schedule
    );
}

#[test]
fn the_same_exploration_twice_gives_the_same_report() {
    let s = parse(&without_schedule(R1)).expect("valid");
    let a = explore(&s, Mode::Exhaustive { por: true }, 100_000).expect("explores");
    let b = explore(&s, Mode::Exhaustive { por: true }, 100_000).expect("explores");
    assert_eq!(a, b);
    let c = explore(&s, Mode::Random { runs: 200, seed: 7 }, 1000).expect("explores");
    let d = explore(&s, Mode::Random { runs: 200, seed: 7 }, 1000).expect("explores");
    assert_eq!(c, d);
    assert!(!c.complete, "random mode never claims completeness");
}
