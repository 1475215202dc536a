//! The commands of the scenario language, as data.

use std::rc::Rc;

use super::data::Data;
use crate::state::block_dev::DeviceKind;
use crate::state::fs::FsKind;
use crate::state::{Arch, Locking, OpenFlags};

/// Which of a file's blocks `blocks` counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    /// Every allocated block.
    All,
    /// Blocks of unwritten extents (allocated, reading as zeros until converted).
    Unwritten,
    /// Blocks at or past end of file.
    PastEof,
}

impl BlockKind {
    /// The optional words of `blocks`, with what they select.
    pub const WORDS: [(&'static str, BlockKind); 2] = [
        ("unwritten", BlockKind::Unwritten),
        ("past_eof", BlockKind::PastEof),
    ];
}

/// One command. Fields are named as in the syntax of each variant.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `kernel 4.0`.
    Kernel,
    /// `arch NAME [pretend]`.
    Arch { arch: Arch, pretend: bool },
    /// `locking 4.0|none|fixed`.
    Locking(Locking),
    /// `device NAME KIND size=SIZE [pretend]`.
    Device {
        name: Rc<str>,
        kind: DeviceKind,
        size: u64,
        pretend: bool,
    },
    /// `direct_access NAME sector=N size=SIZE`.
    DirectAccess {
        dev: Rc<str>,
        sector: u64,
        size: i64,
    },
    /// `mkfs ext2|ext4 /dev/NAME [bs=SIZE]`.
    Mkfs { kind: FsKind, dev: Rc<str>, bs: u64 },
    /// `mount /dev/NAME /PATH [-o OPTIONS]`.
    Mount {
        dev: Rc<str>,
        path: Rc<str>,
        opts: Rc<str>,
    },
    /// `umount /PATH`.
    Umount { path: Rc<str> },
    /// `cat /proc/mounts`.
    ProcMounts,
    /// `open FD /PATH [create] [trunc] [direct] [rdonly]`.
    Open {
        fd: Rc<str>,
        path: Rc<str>,
        flags: OpenFlags,
    },
    /// `close FD`.
    Close { fd: Rc<str> },
    /// `unlink /PATH`.
    Unlink { path: Rc<str> },
    /// `read FD OFFSET LEN`.
    Read { fd: Rc<str>, off: u64, len: u64 },
    /// `write FD OFFSET DATA`.
    Write { fd: Rc<str>, off: u64, data: Data },
    /// `truncate FD SIZE`.
    Truncate { fd: Rc<str>, size: u64 },
    /// `punch FD OFFSET LEN`: `fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)`.
    Punch { fd: Rc<str>, off: u64, len: u64 },
    /// `fsync FD`.
    Fsync { fd: Rc<str> },
    /// `blocks FD [unwritten|past_eof]`: the file's allocated blocks, or those of one kind.
    Blocks { fd: Rc<str>, only: BlockKind },
    /// `drop_caches`.
    DropCaches,
    /// `sync`.
    Sync,
    /// `mmap MAP FD OFFSET LEN shared|private r|rw`.
    Mmap {
        map: Rc<str>,
        fd: Rc<str>,
        off: u64,
        len: u64,
        shared: bool,
        writable: bool,
    },
    /// `munmap MAP`.
    Munmap { map: Rc<str> },
    /// `load MAP OFFSET LEN`.
    Load { map: Rc<str>, off: u64, len: u64 },
    /// `store MAP OFFSET DATA`.
    Store { map: Rc<str>, off: u64, data: Data },
    /// `odirect_from_map FD OFFSET MAP MAP_OFFSET LEN`.
    OdirectFromMap {
        fd: Rc<str>,
        off: u64,
        map: Rc<str>,
        moff: u64,
        len: u64,
    },
    /// `sendfile FD_OUT FD_IN OFFSET LEN`.
    Sendfile {
        out: Rc<str>,
        fd: Rc<str>,
        off: u64,
        len: u64,
    },
    /// `splice FD_IN OFFSET LEN` (into a pipe).
    Splice { fd: Rc<str>, off: u64, len: u64 },
    /// `cache [MAP OFFSET LEN]`: the data-cache lines holding those bytes' frames (every line
    /// without arguments).
    Cache { range: Option<(Rc<str>, u64, u64)> },
    /// `flush_dcache_page MAP OFFSET`.
    FlushDcachePage { map: Rc<str>, off: u64 },
    /// `vmsplice MAP OFFSET LEN`: user pages into a pipe (`get_user_pages_fast`).
    Vmsplice { map: Rc<str>, off: u64, len: u64 },
    /// `rdma_reg MAP OFFSET LEN`: RDMA memory registration (`get_user_pages`).
    RdmaReg { map: Rc<str>, off: u64, len: u64 },
    /// `insmod /PATH`.
    Insmod { path: Rc<str> },
    /// `exec /PATH`.
    Exec { path: Rc<str> },
    /// `expect COMMAND == RESULT`.
    Expect { cmd: Box<Command>, want: Expected },
    /// `expect counter NAME [/PATH] == N`.
    ExpectCounter {
        name: &'static str,
        mount: Option<Rc<str>>,
        want: u64,
    },
    /// `expect violation NAME` / `expect no violations`.
    ExpectViolation(Option<crate::lang::invariant::Invariant>),
}

/// What an `expect` compares a result with.
#[derive(Debug, Clone, PartialEq)]
pub enum Expected {
    /// Bytes (for `read`, `load`).
    Bytes(Data),
    /// A number (bytes written, length, address, count).
    Number(u64),
    /// An errno, e.g. `ERANGE`.
    Errno(crate::errno::Errno),
    /// A signal, e.g. `SIGBUS`.
    Signal(crate::engine::trace::Signal),
    /// Plain success.
    Ok,
}

/// A command with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Stmt {
    /// 1-based line.
    pub line: u32,
    /// The command's text as written (without comment).
    pub text: Rc<str>,
    /// The command.
    pub cmd: Command,
}

/// A top-level item.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A command run by the main thread.
    Stmt(Stmt),
    /// `thread NAME { ... }` or `process NAME { ... }`.
    Thread {
        /// Line of `thread`.
        line: u32,
        /// Its name.
        name: Rc<str>,
        /// A process (own address space and descriptor table) rather than a thread of the
        /// main process.
        process: bool,
        /// Its commands.
        body: Rc<[Stmt]>,
    },
    /// `schedule NAME NAME ...`.
    Schedule {
        /// Line.
        line: u32,
        /// Who runs each step, with the column of each name.
        order: Vec<(Rc<str>, u32)>,
    },
}

/// A parsed scenario.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scenario {
    /// Items in order.
    pub items: Vec<Item>,
}

impl Scenario {
    /// Every statement with the thread it runs in (`None`: main), in text order.
    pub fn stmts(&self) -> impl Iterator<Item = (&Stmt, Option<&Rc<str>>)> {
        self.items
            .iter()
            .flat_map(|it| -> Box<dyn Iterator<Item = _>> {
                match it {
                    Item::Stmt(s) => Box::new(std::iter::once((s, None))),
                    Item::Thread { name, body, .. } => {
                        Box::new(body.iter().map(move |s| (s, Some(name))))
                    }
                    Item::Schedule { .. } => Box::new(std::iter::empty()),
                }
            })
    }
}
