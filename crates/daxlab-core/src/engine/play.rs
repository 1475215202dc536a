//! A scenario played with the learner as the scheduler: at each step of a group of threads the
//! learner picks the thread that runs. The run is the scenario replayed under the picks so far
//! (a [`Replay`] scheduler), rebuilt at each pick: race scenarios are a few dozen steps, and a
//! rebuilt run keeps checkpoints and time travel exact. What a thread's next step would do is
//! shown by running one more pick on a copy.

use super::exec::{Execution, Pending, RunOptions};
use super::sched::Replay;
use super::trace::{Event, TraceMode};
use crate::lang::command::Scenario;
use crate::lang::parse::ParseError;
use crate::state::Tid;

/// A scenario being played.
pub struct Play {
    scenario: Scenario,
    picks: Vec<Tid>,
    run: Execution,
    pending: Option<Pending>,
}

fn options() -> RunOptions {
    RunOptions {
        trace: TraceMode::Full,
        keep_steps: true,
        checkpoint_every: 64,
        batch: false,
    }
}

/// The run of `s` under `picks`, stopped at the next choice.
fn replay(s: &Scenario, picks: &[Tid]) -> Result<(Execution, Option<Pending>), ParseError> {
    let mut run = Execution::with_scheduler(s, options(), Box::new(Replay::new(picks.to_vec())))?;
    let pending = run.run_to_choice();
    Ok((run, pending))
}

impl Play {
    /// Start playing `s`: the set-up runs to the first choice.
    pub fn new(s: &Scenario) -> Result<Self, ParseError> {
        let (run, pending) = replay(s, &[])?;
        Ok(Play {
            scenario: s.clone(),
            picks: Vec::new(),
            run,
            pending,
        })
    }

    /// The run so far (its events, results, violations and machine).
    pub fn run(&self) -> &Execution {
        &self.run
    }

    /// The choice waiting for the learner, or `None` once the scenario has ended.
    pub fn pending(&self) -> Option<&Pending> {
        self.pending.as_ref()
    }

    /// The learner's picks so far.
    pub fn picks(&self) -> &[Tid] {
        &self.picks
    }

    /// Run one step of `tid`. Returns false, and changes nothing, if it cannot run now.
    pub fn pick(&mut self, tid: Tid) -> bool {
        if !self
            .pending
            .as_ref()
            .is_some_and(|p| p.runnable.contains(&tid))
        {
            return false;
        }
        self.picks.push(tid);
        self.rebuild();
        true
    }

    /// Take back the last pick.
    pub fn undo(&mut self) -> bool {
        if self.picks.pop().is_none() {
            return false;
        }
        self.rebuild();
        true
    }

    /// The events `tid`'s next step would produce (nothing is changed).
    pub fn preview(&self, tid: Tid) -> Vec<Event> {
        self.preview_steps(tid, 1)
    }

    /// The events of `tid`'s next `steps` steps if it alone runs them (on a copy), for a step
    /// that only yields to see past it. Empty where it cannot run that far.
    pub fn preview_steps(&self, tid: Tid, steps: usize) -> Vec<Event> {
        if !self
            .pending
            .as_ref()
            .is_some_and(|p| p.runnable.contains(&tid))
        {
            return Vec::new();
        }
        let mut picks = self.picks.clone();
        picks.extend(std::iter::repeat_n(tid, steps));
        let at = self.run.step();
        match replay(&self.scenario, &picks) {
            Ok((run, _)) => run
                .events()
                .iter()
                .filter(|e| e.step > at)
                .cloned()
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    /// The `schedule` line that reproduces the picks so far.
    pub fn schedule(&self) -> Vec<String> {
        self.run.replay_lines()
    }

    fn rebuild(&mut self) {
        // The scenario parsed before; replaying it cannot fail differently now.
        if let Ok((run, pending)) = replay(&self.scenario, &self.picks) {
            self.run = run;
            self.pending = pending;
        }
    }
}
