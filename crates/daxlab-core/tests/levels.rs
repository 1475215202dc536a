//! The race lab's levels: under the 4.0 locks the explorer finds each level's violation and
//! its shortest schedule reproduces it with a plain run; under the fixed policy the explorer
//! completes and finds no violation at all; under `none` the 4.0 locks' protection is gone.

#![cfg(not(target_arch = "wasm32"))]

use daxlab_core::engine::explore::{explore, Mode};
use daxlab_core::lang::parse::parse;
use daxlab_core::lang::report::run_text;
use daxlab_core::levels::LEVELS;
use daxlab_core::state::Locking;

const MAX: usize = 50_000;

#[test]
fn under_4_0_the_explorer_wins_every_level_and_its_schedule_reproduces_it() {
    for l in &LEVELS {
        let program = l.program(Locking::V4_0);
        let s = parse(&program).unwrap_or_else(|e| panic!("{}: {e}", l.id));
        let r = explore(&s, Mode::Exhaustive { por: true }, MAX).expect("explores");
        assert!(r.complete, "{}: not complete in {MAX} executions", l.id);
        let win = l.win.name();
        let found = r
            .outcomes
            .iter()
            .filter(|o| o.violations.iter().any(|v| v == win))
            .min_by_key(|o| o.schedule.iter().map(String::len).sum::<usize>())
            .unwrap_or_else(|| panic!("{}: no outcome breaks {win}", l.id));
        let replay = run_text(&format!("{program}{}\n", found.schedule.join("\n")));
        assert!(
            replay.violations.iter().any(|v| v.invariant == l.win),
            "{}: {:?} does not reproduce {win}",
            l.id,
            found.schedule
        );
        // The scenario file's own schedule wins too.
        let file = run_text(l.scenario);
        assert!(file.ok(), "{}: the scenario file's expect", l.id);
        assert!(
            l.solution().is_some(),
            "{}: a winning schedule in the file",
            l.id
        );
    }
}

#[test]
fn under_the_fixed_policy_no_interleaving_breaks_anything() {
    for l in &LEVELS {
        let s = parse(&l.program(Locking::Fixed)).expect("valid");
        let r = explore(&s, Mode::Exhaustive { por: true }, MAX).expect("explores");
        assert!(r.complete, "{}: not complete", l.id);
        let bad: Vec<_> = r
            .outcomes
            .iter()
            .filter(|o| !o.violations.is_empty())
            .collect();
        assert!(bad.is_empty(), "{}: {:?}", l.id, bad);
    }
}

#[test]
fn each_level_states_its_story_commit_and_fix() {
    for l in &LEVELS {
        assert!(
            !l.story.is_empty() && !l.quote.is_empty() && !l.fix.is_empty(),
            "{}",
            l.id
        );
        let (id, subject) = l.commit.split_once(' ').expect("id and subject");
        assert!(
            id.len() == 12 && id.chars().all(|c| c.is_ascii_hexdigit()),
            "{}",
            l.id
        );
        assert!(!subject.is_empty());
        assert!(l.program(Locking::None).starts_with("locking none\n"));
    }
}

#[test]
fn a_learner_wins_r1_by_picking_its_solution_and_can_undo_and_preview() {
    use daxlab_core::engine::play::Play;
    let l = daxlab_core::levels::level("r1").expect("r1");
    let s = parse(&l.program(Locking::V4_0)).expect("valid");
    let mut play = Play::new(&s).expect("plays");
    let names = play.run().thread_names();
    let tid = |n: &str| {
        daxlab_core::state::Tid(names.iter().position(|x| &**x == n).expect("thread") as u16)
    };
    let solution: Vec<&str> = l.solution().expect("solution").split(' ').skip(1).collect();
    // A preview changes nothing and shows the thread's next step.
    let before = play.run().step();
    assert!(!play.preview(tid("b")).is_empty());
    assert_eq!(play.run().step(), before);
    // A wrong pick can be taken back.
    assert!(play.pick(tid("b")));
    assert!(play.undo());
    assert!(play.picks().is_empty());
    // As a `schedule` line runs: a named thread that cannot run is passed over.
    for n in &solution {
        if play.pending().is_some_and(|p| p.runnable.contains(&tid(n))) {
            assert!(play.pick(tid(n)));
        }
    }
    // Then each remaining choice as it comes, the first runnable thread.
    while let Some(p) = play.pending().cloned() {
        assert!(play.pick(p.runnable[0]));
    }
    assert!(play.run().finished());
    assert!(
        play.run().violations().iter().any(|v| v.invariant == l.win),
        "{:?}",
        play.run().violations()
    );
    // The play's schedule line reproduces the win with a plain run.
    let replay = run_text(&format!(
        "{}{}\n",
        l.program(Locking::V4_0),
        play.schedule().join("\n")
    ));
    assert!(replay.violations.iter().any(|v| v.invariant == l.win));
}
