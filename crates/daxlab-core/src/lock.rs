//! The lock table: who holds which of the 4.0 locks. Waiting is done by the scheduler, which
//! never runs a thread whose lock is unavailable.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::event::{LockMode, LockName, ThreadId};

/// Holders of one lock.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Holders {
    /// The exclusive holder.
    pub writer: Option<ThreadId>,
    /// Shared holders.
    pub readers: Vec<ThreadId>,
}

/// Every lock currently held. A lock nobody holds is absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LockTable {
    held: BTreeMap<LockName, Holders>,
}

impl LockTable {
    /// Whether `tid` could take `lock` in `mode` now. (A rwsem with a waiting writer still admits
    /// readers here: the model has no writer preference.)
    pub fn available(&self, lock: LockName, mode: LockMode) -> bool {
        match self.held.get(&lock) {
            None => true,
            Some(h) => h.writer.is_none() && (mode == LockMode::Read || h.readers.is_empty()),
        }
    }

    /// Take the lock if it is available.
    pub fn try_acquire(&mut self, lock: LockName, mode: LockMode, tid: ThreadId) -> bool {
        if !self.available(lock, mode) {
            return false;
        }
        let h = self.held.entry(lock).or_default();
        match mode {
            LockMode::Read => h.readers.push(tid),
            LockMode::Write => h.writer = Some(tid),
        }
        true
    }

    /// Release a lock `tid` holds.
    pub fn release(&mut self, lock: LockName, tid: ThreadId) {
        if let Some(h) = self.held.get_mut(&lock) {
            if h.writer == Some(tid) {
                h.writer = None;
            } else if let Some(i) = h.readers.iter().position(|t| *t == tid) {
                h.readers.remove(i);
            }
            if h.writer.is_none() && h.readers.is_empty() {
                self.held.remove(&lock);
            }
        }
    }

    /// Release every lock `tid` holds (a thread stopped after a deadlock).
    pub fn release_all(&mut self, tid: ThreadId) {
        let mine: Vec<LockName> = self
            .held
            .iter()
            .filter(|(_, h)| h.writer == Some(tid) || h.readers.contains(&tid))
            .map(|(l, _)| *l)
            .collect();
        for l in mine {
            self.release(l, tid);
        }
    }

    /// Every held lock, for the views.
    pub fn held(&self) -> impl Iterator<Item = (&LockName, &Holders)> {
        self.held.iter()
    }
}
