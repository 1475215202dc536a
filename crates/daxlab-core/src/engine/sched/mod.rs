//! The scheduler seam: which thread runs the next step of a group of concurrent threads is
//! the choice of an oracle behind [`Scheduler`]. Each policy is a small file; a run records its
//! choices so that it can print a `schedule` line that reproduces it.

mod default;
mod random;
mod replay;
mod script;

pub use default::FirstRunnable;
pub use random::Random;
pub use replay::Replay;
pub use script::Script;

use crate::engine::trace::SchedNote;
use crate::state::Tid;

/// What a scheduler sees when it chooses.
#[derive(Debug)]
pub struct Choice<'a> {
    /// Which group of concurrent threads (0 for the first group in the scenario).
    pub group: usize,
    /// The group's threads that have not finished, in declaration order.
    pub alive: &'a [Tid],
    /// Those of them that can run now (not waiting for a lock), in declaration order; never
    /// empty.
    pub runnable: &'a [Tid],
    /// Why each blocked alive thread waits, for a policy that reports skips.
    pub blocked: &'a [(Tid, crate::state::task::Blocker)],
}

/// A scheduler's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// Run a step of this thread.
    Run(Tid),
    /// Run nothing for this entry of a script, and say why.
    Skip(Tid, SchedNote),
}

/// A scheduling policy.
pub trait Scheduler: std::fmt::Debug {
    /// Choose for the next step.
    fn pick(&mut self, c: &Choice<'_>) -> Pick;
    /// Whether the policy still follows explicit entries for `group` (the batched fast path
    /// is used only when it does not).
    fn scripted(&self, _group: usize) -> bool {
        false
    }
    /// A copy of the policy and its position (checkpoints hold one).
    fn clone_box(&self) -> Box<dyn Scheduler>;
}

impl Clone for Box<dyn Scheduler> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}
