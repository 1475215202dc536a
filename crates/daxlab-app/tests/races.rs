//! The race lab's boundary in WebAssembly, as the page and the explorer's worker run it: a
//! level played by picks to its win, whose schedule reproduces it; the explorer run in slices
//! as the worker runs it; its findings through the worker's message format; and a link's pick
//! that cannot be made.

#![cfg(target_arch = "wasm32")]

use daxlab_app::boundary::explore::{Job, Search};
use daxlab_app::boundary::race::{self, Game, Policy, Standing, ThreadState};
use daxlab_app::wire::Reply;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn picks(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

#[wasm_bindgen_test]
fn r1_is_won_by_its_picks_and_the_schedule_reproduces_it() {
    let won = race::complete(0, Policy::V4_0, &picks("a a a a a a a b b b b b b b b b b"));
    let g = Game::new(0, Policy::V4_0, &won).expect("r1");
    let board = g.board();
    assert_eq!(board.standing, Standing::Over);
    assert!(board
        .threads
        .iter()
        .all(|t| t.state == ThreadState::Finished));
    let win = g.win().expect("b's store is lost");
    assert_eq!(win.name, "store_lost");
    assert_eq!(board.violations.first(), Some(&win));
    // The game's text (the program and its picks) run as a scenario breaks the same invariant
    // at the same step.
    let run = daxlab_app::boundary::run(g.text()).expect("valid");
    assert!(run
        .violations
        .iter()
        .any(|v| v.name == "store_lost" && v.step == win.step));
}

#[wasm_bindgen_test]
fn the_explorer_in_slices_finds_r1_and_nothing_under_fixed() {
    let explore = |policy| {
        let mut job = Job::start(&race::program(0, policy), Search::Exhaustive, 100_000)
            .expect("the level parses");
        while !job.run(16) {}
        job.findings()
    };
    let found = explore(Policy::V4_0);
    assert!(found.complete);
    let bad = found
        .outcomes
        .iter()
        .find(|o| o.violations.iter().any(|v| v == "store_lost"))
        .expect("the race is found");
    // Its shortest schedule, replayed to its end, wins the level.
    let full = race::complete(0, Policy::V4_0, &race::schedule_picks(&bad.schedule));
    assert!(Game::new(0, Policy::V4_0, &full)
        .expect("r1")
        .win()
        .is_some());
    // What the worker posts is what the page reads.
    let reply = Reply::Progress {
        id: 1,
        findings: found.clone(),
        elapsed_ms: 12.5,
        done: true,
    };
    assert_eq!(Reply::decode(&reply.encode()), Ok(reply));
    let fixed = explore(Policy::Fixed);
    assert!(fixed.complete);
    assert!(fixed.outcomes.iter().all(|o| o.violations.is_empty()));
}

#[wasm_bindgen_test]
fn a_pick_that_cannot_be_made_is_refused() {
    let g = Game::new(0, Policy::V4_0, &picks("a zz b")).expect("r1");
    assert_eq!(g.refused().map(|r| r.at), Some(1));
    assert_eq!(g.picks(), picks("a"));
}
