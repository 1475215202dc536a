//! What a command produced, typed: a value, or the errno or signal it failed with, and the
//! kernel's message when it has one. Text and JSON are made from these only where they are
//! printed.

use std::rc::Rc;

use super::command::Expected;
use super::data::Bytes;
use super::invariant::Invariant;
use crate::engine::trace::Fail;
use crate::state::block_dev::DirectAccess;

/// One allocated block of a file (`blocks FD`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileBlock {
    /// Block within the file.
    pub iblock: u64,
    /// Filesystem block.
    pub block: u64,
    /// An unwritten extent.
    pub unwritten: bool,
}

/// A data-cache line holding bytes of a frame (`cache`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachedLine {
    /// Its set.
    pub set: u32,
    /// Its way.
    pub way: u32,
    /// The virtual address it was filled through.
    pub vaddr: u64,
    /// Which alias that is: the kernel's (linear map) or a user mapping's.
    pub kernel: bool,
    /// The colour of that address (which page-sized slice of a way it indexes).
    pub colour: u32,
    /// The frame it holds bytes of.
    pub pfn: crate::state::mem::Pfn,
    /// Where in the frame.
    pub off: u16,
    /// Written and not yet written back.
    pub dirty: bool,
    /// Its bytes differ from what the frame holds when every dirty line is written back (a
    /// stale alias).
    pub stale: bool,
}

/// What a command gives back when it succeeds.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// Nothing.
    #[default]
    None,
    /// A count (bytes written, stored).
    Num(u64),
    /// An address (`mmap`).
    Addr(u64),
    /// An inode number (`open`).
    Ino(u64),
    /// Bytes (`read`, `load`).
    Bytes(Bytes),
    /// Text (`cat /proc/mounts`).
    Text(Rc<str>),
    /// A `direct_access` result.
    Mapped(DirectAccess),
    /// Data-cache lines (`cache`).
    Cache(Vec<CachedLine>),
    /// A file's blocks (`blocks`): all of them, and which are at or past end of file.
    Blocks {
        /// Allocated blocks, in file order.
        blocks: Vec<FileBlock>,
        /// File blocks at or past end of file.
        past_eof: Vec<u64>,
    },
}

impl Value {
    /// The number an `expect ... == N` compares with.
    pub fn number(&self) -> Option<u64> {
        match self {
            Value::Num(n) | Value::Addr(n) | Value::Ino(n) => Some(*n),
            Value::Bytes(b) => Some(b.len()),
            Value::Mapped(d) => Some(d.length),
            Value::Blocks { blocks, .. } => Some(blocks.len() as u64),
            Value::Cache(lines) => Some(lines.len() as u64),
            Value::None | Value::Text(_) => None,
        }
    }
}

/// What a command produced.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    /// Why it failed, if it did.
    pub fail: Option<Fail>,
    /// What it gave back.
    pub value: Value,
    /// The kernel's message (a mount refusal, "dax option not supported").
    pub message: Option<Rc<str>>,
}

impl Outcome {
    /// Success with a value.
    pub fn ok(value: Value) -> Self {
        Outcome {
            value,
            ..Outcome::default()
        }
    }
    /// A failure.
    pub fn failed(f: impl Into<Fail>) -> Self {
        Outcome {
            fail: Some(f.into()),
            ..Outcome::default()
        }
    }
    /// Whether it succeeded.
    pub fn is_ok(&self) -> bool {
        self.fail.is_none()
    }
    /// Whether it satisfies `want`.
    pub fn matches(&self, want: &Expected) -> bool {
        match want {
            Expected::Bytes(d) => {
                self.is_ok() && matches!(&self.value, Value::Bytes(b) if b.matches(d))
            }
            Expected::Number(n) => self.is_ok() && self.value.number() == Some(*n),
            Expected::Errno(e) => self.fail == Some(Fail::Errno(*e)),
            Expected::Signal(s) => self.fail == Some(Fail::Signal(*s)),
            Expected::Ok => self.is_ok(),
        }
    }
}

/// A violation of an invariant, found after a step.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// The step after which it was found.
    pub step: u32,
    /// Which invariant.
    pub invariant: Invariant,
    /// What broke, in the kernel's terms.
    pub message: Rc<str>,
}

/// What an `expect` checked.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// `expect COMMAND == RESULT`.
    Result {
        /// What was wanted.
        want: Expected,
        /// Whether the outcome matched.
        passed: bool,
    },
    /// `expect counter NAME [/MOUNT] == N`.
    Counter {
        /// The counter.
        name: &'static str,
        /// Wanted.
        want: u64,
        /// What it was (`None`: no such mount).
        actual: Option<u64>,
    },
    /// `expect violation NAME` (`Some`) or `expect no violations` (`None`).
    Violations {
        /// The invariant wanted broken.
        want: Option<Invariant>,
        /// The invariants broken so far.
        found: Vec<Invariant>,
    },
}

impl Check {
    /// Whether the expectation held.
    pub fn passed(&self) -> bool {
        match self {
            Check::Result { passed, .. } => *passed,
            Check::Counter { want, actual, .. } => *actual == Some(*want),
            Check::Violations {
                want: Some(w),
                found,
            } => found.contains(w),
            Check::Violations { want: None, found } => found.is_empty(),
        }
    }
}

/// The result of one command of the scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct CmdResult {
    /// Line of the command.
    pub line: u32,
    /// The step during which it started.
    pub start: u32,
    /// The step during which it finished.
    pub step: u32,
    /// Its text.
    pub command: Rc<str>,
    /// The thread that ran it (`None`: main).
    pub thread: Option<Rc<str>>,
    /// What it produced.
    pub outcome: Outcome,
    /// For an `expect`: what it checked.
    pub check: Option<Check>,
}

impl CmdResult {
    /// Whether it succeeded (for an `expect`: whether the expectation held).
    pub fn ok(&self) -> bool {
        match &self.check {
            Some(c) => c.passed(),
            None => self.outcome.is_ok(),
        }
    }
}
