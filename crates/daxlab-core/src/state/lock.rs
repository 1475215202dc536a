//! The lock table: who holds which kernel lock. Waiting is done by the scheduler, which never
//! runs a thread whose lock is unavailable.

use super::{Pid, Tid};

/// A kernel lock, as `lockdep` would name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LockName {
    /// `mm->mmap_sem` of a process.
    MmapSem {
        /// The process.
        pid: Pid,
    },
    /// `inode->i_mutex`.
    IMutex {
        /// Inode number.
        ino: u64,
    },
    /// `mapping->i_mmap_rwsem`.
    IMmapRwsem {
        /// Inode number.
        ino: u64,
    },
    /// ext2's `ei->truncate_mutex`.
    TruncateMutex {
        /// Inode number.
        ino: u64,
    },
    /// ext4's `ei->i_data_sem` (held for write while the extent tree changes).
    IDataSem {
        /// Inode number.
        ino: u64,
    },
    /// `PG_locked` of a page-cache page.
    PageLock {
        /// Inode number.
        ino: u64,
        /// Page index.
        index: u64,
    },
    /// ext2's `ei->dax_sem` ("ext2: Add locking for DAX faults", ~4.4): faults read, truncate
    /// writes.
    DaxSem {
        /// Inode number.
        ino: u64,
    },
    /// ext4's `ei->i_mmap_sem` (~4.5): faults read; truncate and hole punch write.
    IMmapSem {
        /// Inode number.
        ino: u64,
    },
    /// The DAX radix-tree entry lock of one file index (4.7 "DAX locking").
    DaxEntry {
        /// Inode number.
        ino: u64,
        /// Page index.
        index: u64,
    },
}

impl LockName {
    /// The inode locks of 4.0 that serialise faults, read/write and truncate against each
    /// other: what the `none` lock policy drops (page locks and `mmap_sem` stay).
    pub fn serialises_inode(self) -> bool {
        matches!(
            self,
            LockName::IMutex { .. }
                | LockName::IMmapRwsem { .. }
                | LockName::TruncateMutex { .. }
                | LockName::IDataSem { .. }
        )
    }

    /// Whether this is a reader/writer semaphore (the others are mutexes or bit locks).
    pub fn is_rwsem(self) -> bool {
        matches!(
            self,
            LockName::MmapSem { .. }
                | LockName::IMmapRwsem { .. }
                | LockName::IDataSem { .. }
                | LockName::DaxSem { .. }
                | LockName::IMmapSem { .. }
        )
    }
}

impl std::fmt::Display for LockName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LockName::MmapSem { pid } => write!(f, "mmap_sem(pid {})", pid.0),
            LockName::IMutex { ino } => write!(f, "i_mutex(ino {ino})"),
            LockName::IMmapRwsem { ino } => write!(f, "i_mmap_rwsem(ino {ino})"),
            LockName::TruncateMutex { ino } => write!(f, "truncate_mutex(ino {ino})"),
            LockName::IDataSem { ino } => write!(f, "i_data_sem(ino {ino})"),
            LockName::PageLock { ino, index } => write!(f, "PG_locked(ino {ino}, page {index})"),
            LockName::DaxSem { ino } => write!(f, "dax_sem(ino {ino})"),
            LockName::IMmapSem { ino } => write!(f, "i_mmap_sem(ino {ino})"),
            LockName::DaxEntry { ino, index } => {
                write!(f, "DAX entry lock(ino {ino}, index {index})")
            }
        }
    }
}

/// How a lock is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LockMode {
    /// Shared (`down_read`).
    Read,
    /// Exclusive (`mutex_lock`, `down_write`, `lock_page`).
    Write,
}

/// Holders of one lock.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holders {
    /// The exclusive holder.
    pub writer: Option<Tid>,
    /// Shared holders.
    pub readers: Vec<Tid>,
}

/// Every lock currently held, in the order taken. A lock nobody holds is absent. (A handful
/// are held at a time: a list is faster than a map, and allocates nothing once warm.)
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LockTable {
    held: Vec<(LockName, Holders)>,
}

impl LockTable {
    fn get(&self, lock: LockName) -> Option<&Holders> {
        self.held.iter().find(|(l, _)| *l == lock).map(|(_, h)| h)
    }

    /// Whether `lock` could be taken in `mode` now, ignoring waiters.
    pub fn free_for(&self, lock: LockName, mode: LockMode) -> bool {
        match self.get(lock) {
            None => true,
            Some(h) => h.writer.is_none() && (mode == LockMode::Read || h.readers.is_empty()),
        }
    }

    /// Take the lock (the caller checked it is available).
    pub fn acquire(&mut self, lock: LockName, mode: LockMode, tid: Tid) {
        let i = match self.held.iter().position(|(l, _)| *l == lock) {
            Some(i) => i,
            None => {
                self.held.push((lock, Holders::default()));
                self.held.len() - 1
            }
        };
        let h = &mut self.held[i].1;
        match mode {
            LockMode::Read => h.readers.push(tid),
            LockMode::Write => h.writer = Some(tid),
        }
    }

    /// Release a lock `tid` holds. Returns whether it held it.
    pub fn release(&mut self, lock: LockName, tid: Tid) -> bool {
        let Some(i) = self.held.iter().position(|(l, _)| *l == lock) else {
            return false;
        };
        let h = &mut self.held[i].1;
        let held = if h.writer == Some(tid) {
            h.writer = None;
            true
        } else if let Some(r) = h.readers.iter().position(|t| *t == tid) {
            h.readers.remove(r);
            true
        } else {
            false
        };
        if h.writer.is_none() && h.readers.is_empty() {
            self.held.remove(i);
        }
        held
    }

    /// How `tid` holds `lock`, if it does.
    pub fn mode_held(&self, lock: LockName, tid: Tid) -> Option<LockMode> {
        let h = self.get(lock)?;
        if h.writer == Some(tid) {
            Some(LockMode::Write)
        } else if h.readers.contains(&tid) {
            Some(LockMode::Read)
        } else {
            None
        }
    }

    /// The locks `tid` holds.
    pub fn held_by(&self, tid: Tid) -> Vec<(LockName, LockMode)> {
        self.held
            .iter()
            .filter_map(|(l, h)| {
                if h.writer == Some(tid) {
                    Some((*l, LockMode::Write))
                } else if h.readers.contains(&tid) {
                    Some((*l, LockMode::Read))
                } else {
                    None
                }
            })
            .collect()
    }

    /// Release every lock `tid` holds (a thread stopped after a deadlock).
    pub fn release_all(&mut self, tid: Tid) {
        for (l, _) in self.held_by(tid) {
            self.release(l, tid);
        }
    }

    /// Every held lock, for the views.
    pub fn held(&self) -> impl Iterator<Item = (&LockName, &Holders)> {
        self.held.iter().map(|(l, h)| (l, h))
    }

    /// Nothing is held.
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }
}
