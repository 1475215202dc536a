//! The explorer's side of the boundary: a [`Job`] explores a scenario's interleavings a slice
//! of executions at a time (the web worker runs it), and the core's [`Report`] is what it
//! found, plain data the page draws. Only the worker calls [`Job`]; the page sees the report.

use daxlab_core::engine::explore::{Explorer, Mode};
pub use daxlab_core::engine::explore::{Found, Report};
use daxlab_core::lang::parse::parse;

/// How to explore.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Search {
    /// Every interleaving that can lead somewhere different (partial-order reduction).
    Exhaustive,
    /// `runs` executions under a seeded random (PCT) scheduler.
    Random {
        /// Executions.
        runs: u32,
        /// Seed.
        seed: u64,
    },
}

/// An exploration in progress.
pub struct Job {
    explorer: Explorer,
    max: u64,
    done: bool,
}

impl Job {
    /// Explore `text` with `search`, stopping after `max` executions. The scenario's set-up
    /// runs here.
    pub fn start(text: &str, search: Search, max: u64) -> Result<Job, String> {
        let s =
            parse(text).map_err(|e| format!("line {}, col {}: {}", e.line, e.col, e.message))?;
        let mode = match search {
            Search::Exhaustive => Mode::Exhaustive { por: true },
            Search::Random { runs, seed } => Mode::Random {
                runs: runs as usize,
                seed,
            },
        };
        let explorer = Explorer::new(&s, mode).map_err(|e| e.message)?;
        Ok(Job {
            explorer,
            max,
            done: false,
        })
    }

    /// Run up to `budget` more executions; true when the exploration is over (finished, or
    /// stopped at the bound).
    pub fn run(&mut self, budget: u32) -> bool {
        let ran = self.explorer.report().executions as u64;
        let left = self.max.saturating_sub(ran);
        if !self.done {
            self.done = left == 0 || self.explorer.run((budget as u64).min(left) as usize);
            self.done |= self.explorer.report().executions as u64 >= self.max;
        }
        self.done
    }

    /// What has been found so far. `complete` only once every interleaving has run.
    pub fn findings(&self) -> Report {
        Report {
            complete: self.explorer.report().complete && self.explorer.finished(),
            ..self.explorer.report().clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::boundary::race::{level_count, program, Policy};

    fn explore(text: &str, search: Search, max: u64) -> Report {
        let mut j = Job::start(text, search, max).expect("valid");
        let mut slices = 0;
        while !j.run(7) {
            slices += 1;
        }
        assert!(slices > 0 || j.findings().executions <= 7);
        j.findings()
    }

    #[test]
    fn every_level_breaks_its_invariant_under_4_0_and_nothing_under_fixed() {
        for i in 0..level_count() {
            let win = crate::boundary::race::level(i).expect("level").win.name();
            let f = explore(&program(i, Policy::V4_0), Search::Exhaustive, 1_000_000);
            assert!(f.complete);
            assert_eq!(
                f.outcomes.iter().map(|o| o.count).sum::<usize>(),
                f.executions,
                "every execution has one outcome"
            );
            assert!(
                f.outcomes
                    .iter()
                    .any(|o| o.violations.iter().any(|v| v == win)),
                "level {i}: {:?}",
                f.outcomes
            );
            let fixed = explore(&program(i, Policy::Fixed), Search::Exhaustive, 1_000_000);
            assert!(fixed.complete);
            assert!(
                fixed.outcomes.iter().all(|o| o.violations.is_empty()),
                "level {i} under fixed: {:?}",
                fixed.outcomes
            );
        }
    }

    #[test]
    fn the_bound_stops_an_exploration_honestly_and_random_runs_its_count() {
        let f = explore(&program(0, Policy::V4_0), Search::Exhaustive, 10);
        assert_eq!(f.executions, 10);
        assert!(!f.complete, "stopped at the bound: not complete");
        let r = explore(
            &program(0, Policy::V4_0),
            Search::Random { runs: 25, seed: 3 },
            1000,
        );
        assert_eq!(r.executions, 25);
        let again = explore(
            &program(0, Policy::V4_0),
            Search::Random { runs: 25, seed: 3 },
            1000,
        );
        assert_eq!(r, again, "the same seed finds the same");
        assert!(Job::start("mmpa x", Search::Exhaustive, 1).is_err());
    }
}
