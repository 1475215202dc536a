//! DAX Lab's simulation core: a deterministic, steppable model of the Linux 4.0 storage path
//! (`Documentation/filesystems/dax.txt`): block devices and `direct_access`, page frames, the
//! page cache, DAX read/write and faults, truncate, and the 4.0 locks.
//!
//! The core depends on no web crate and does no I/O: it runs the same in a test, in the browser
//! and on the command line. Start with [`run::run_text`] or [`scenario::parse`] + [`run::run`].

pub mod access;
pub mod bio;
pub mod block_dev;
pub mod counters;
pub mod dax;
pub mod era;
pub mod errno;
pub mod event;
pub mod filemap;
pub mod fs;
pub mod kernel;
pub mod lock;
pub mod mem;
pub mod memory;
pub mod mm;
pub mod page_cache;
pub mod run;
pub mod scenario;
pub mod sched;
pub mod sim;
pub mod timing;
pub mod vfs;
