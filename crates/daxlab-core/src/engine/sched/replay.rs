//! Replay of a recorded list of choices (what an explorer found, or another run's choices);
//! when the list is used up, the default policy runs the rest.

use super::{Choice, FirstRunnable, Pick, Scheduler};
use crate::state::Tid;

/// Follow `choices` in order.
#[derive(Debug, Clone, Default)]
pub struct Replay {
    choices: Vec<Tid>,
    pos: usize,
}

impl Replay {
    /// A replay of `choices`.
    pub fn new(choices: Vec<Tid>) -> Self {
        Replay { choices, pos: 0 }
    }
}

impl Scheduler for Replay {
    fn pick(&mut self, c: &Choice<'_>) -> Pick {
        match self.choices.get(self.pos) {
            Some(t) if c.runnable.contains(t) => {
                self.pos += 1;
                Pick::Run(*t)
            }
            // A recorded choice that cannot run here: the run has diverged; the rest is the
            // default policy's.
            Some(_) => {
                self.pos = self.choices.len();
                FirstRunnable.pick(c)
            }
            None => FirstRunnable.pick(c),
        }
    }
    fn scripted(&self, _: usize) -> bool {
        self.pos < self.choices.len()
    }
    fn clone_box(&self) -> Box<dyn Scheduler> {
        Box::new(self.clone())
    }
}
