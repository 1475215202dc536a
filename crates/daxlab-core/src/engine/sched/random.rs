//! A seeded random policy: each step, a runnable thread chosen uniformly (the same seed gives
//! the same run).

use super::{Choice, Pick, Scheduler};

/// Uniform choice from a seeded xorshift generator.
#[derive(Debug, Clone)]
pub struct Random {
    state: u64,
}

impl Random {
    /// A policy seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Random {
            state: seed ^ 0x9e37_79b9_7f4a_7c15 | 1,
        }
    }

    /// The next number of the sequence.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.state = x;
        x
    }

    /// A number below `n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

impl Scheduler for Random {
    fn pick(&mut self, c: &Choice<'_>) -> Pick {
        let i = self.below(c.runnable.len() as u64) as usize;
        Pick::Run(c.runnable[i])
    }
    fn scripted(&self, _: usize) -> bool {
        true
    }
    fn clone_box(&self) -> Box<dyn Scheduler> {
        Box::new(self.clone())
    }
}
