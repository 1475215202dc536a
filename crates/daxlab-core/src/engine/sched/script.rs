//! The scenario's `schedule` lines: for each group of threads, who runs each next step. An
//! entry naming a thread that has finished or must wait is skipped, with an event saying so;
//! when a group's entries are used up, the default policy runs the rest to the end.

use std::collections::BTreeMap;

use super::{Choice, FirstRunnable, Pick, Scheduler};
use crate::engine::trace::SchedNote;
use crate::state::Tid;

/// Per group: the entries still to follow.
#[derive(Debug, Clone, Default)]
pub struct Script {
    orders: BTreeMap<usize, (Vec<Tid>, usize)>,
}

impl Script {
    /// The script for `group`.
    pub fn set(&mut self, group: usize, order: Vec<Tid>) {
        self.orders.insert(group, (order, 0));
    }
}

impl Scheduler for Script {
    fn pick(&mut self, c: &Choice<'_>) -> Pick {
        let Some((order, pos)) = self.orders.get_mut(&c.group) else {
            return FirstRunnable.pick(c);
        };
        let Some(&t) = order.get(*pos) else {
            return FirstRunnable.pick(c);
        };
        *pos += 1;
        if c.runnable.contains(&t) {
            Pick::Run(t)
        } else if let Some((_, b)) = c.blocked.iter().find(|(x, _)| *x == t) {
            Pick::Skip(t, SchedNote::SkippedBlocked(*b))
        } else {
            Pick::Skip(t, SchedNote::SkippedFinished)
        }
    }
    fn scripted(&self, group: usize) -> bool {
        self.orders.get(&group).is_some_and(|(o, p)| *p < o.len())
    }
    fn clone_box(&self) -> Box<dyn Scheduler> {
        Box::new(self.clone())
    }
}
