#![recursion_limit = "512"]
//! DAX Lab's simulation core: a deterministic, steppable model of the Linux 4.0 storage path
//! (`Documentation/filesystems/dax.txt`): block devices and `direct_access`, page frames, the
//! page cache, DAX read/write and faults, truncate, the 4.0 locks and their races.
//!
//! The core depends on no web crate and does no I/O: it runs the same in a test, in the browser
//! and on the command line. The layout follows the architecture:
//! - [`state`]: the machine's state, one plain value that clones cheaply;
//! - [`kernel`]: the kernel paths, `async` functions named as in Linux 4.0;
//! - [`engine`]: steps, the trace, footprints, schedulers, checkpoints, runs;
//! - [`lang`]: the scenario language, its results and reports;
//! - [`levels`]: the race lab's levels, built on the language.
//!
//! Start with [`lang::report::run_text`], or [`lang::parse::parse`] and
//! [`engine::exec::Execution`].

pub mod engine;
pub mod errno;
pub mod kernel;
pub mod lang;
pub mod levels;
pub mod state;
pub mod timing;
