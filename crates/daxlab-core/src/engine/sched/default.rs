//! The default policy: the first runnable thread in declaration order runs, so a thread runs to
//! its end unless it has to wait.

use super::{Choice, Pick, Scheduler};

/// Run the first runnable thread.
#[derive(Debug, Clone, Copy, Default)]
pub struct FirstRunnable;

impl Scheduler for FirstRunnable {
    fn pick(&mut self, c: &Choice<'_>) -> Pick {
        Pick::Run(c.runnable[0])
    }
    fn clone_box(&self) -> Box<dyn Scheduler> {
        Box::new(*self)
    }
}
