//! Counters derived from the event stream, in total and per mount.

use serde::Serialize;

use crate::event::{CacheOp, Event, EventKind};

/// The counters of `../CONSOLE.md`: all derived from events, never kept by the kernel paths.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    /// Copies of file data between two distinct memory locations, split at page boundaries.
    pub copies: u64,
    /// Bytes those copies moved.
    pub bytes_copied: u64,
    /// Copies the page-cache path would have made for the same DAX operations.
    pub copies_avoided: u64,
    /// Page-cache pages now resident (RAM holding file data, duplicated on the device).
    pub pagecache_pages: u64,
    /// Minor faults (no I/O, no allocation).
    pub faults_minor: u64,
    /// Major faults (`PGMAJFAULT`: I/O or block allocation).
    pub faults_major: u64,
    /// Simulated time in nanoseconds.
    pub sim_ns: u64,
}

impl Counters {
    /// Fold one event into the counters.
    pub fn apply(&mut self, e: &Event) {
        self.sim_ns += e.ns;
        match &e.kind {
            EventKind::Copy { bytes, .. } => {
                self.copies += 1;
                self.bytes_copied += bytes;
            }
            EventKind::CopyAvoided { .. } => self.copies_avoided += 1,
            EventKind::PageCache { op, .. } => match op {
                CacheOp::Add => self.pagecache_pages += 1,
                CacheOp::Remove => self.pagecache_pages = self.pagecache_pages.saturating_sub(1),
                CacheOp::Dirty | CacheOp::Clean => {}
            },
            EventKind::Fault { major, .. } => {
                if *major {
                    self.faults_major += 1
                } else {
                    self.faults_minor += 1
                }
            }
            _ => {}
        }
    }

    /// Counters of a whole event list.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a Event>) -> Self {
        let mut c = Counters::default();
        for e in events {
            c.apply(e);
        }
        c
    }
}
