//! The trace: everything the simulator does is an [`Event`]. A run chooses what it keeps (a
//! [`TraceMode`]); the counters are folded from the events as they happen, in every mode.

use std::rc::Rc;

use crate::errno::Errno;
use crate::state::block_dev::DeviceNote;
use crate::state::lock::{LockMode, LockName};
use crate::state::mem::{Pfn, PAGE_SIZE};
use crate::state::task::Blocker;
use crate::state::{DevId, MountId, Pid, Tid};

/// Where bytes live, and the virtual address the CPU used to reach them (the kernel's linear-map
/// alias, an ioremap address or the user's address), so a virtually indexed cache can be
/// modelled on top.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loc {
    /// What the memory is.
    pub space: Space,
    /// The virtual address used for the access (0: none, e.g. DMA).
    pub vaddr: u64,
    /// The page frame behind it, when it is CPU memory.
    pub pfn: Option<Pfn>,
}

impl Loc {
    /// The offset of the address in its page.
    pub fn page_off(&self) -> usize {
        (self.vaddr % PAGE_SIZE) as usize
    }
}

/// The kind of memory a [`Loc`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Space {
    /// User memory of a process (its buffer, or a mapping).
    User {
        /// The process.
        pid: Pid,
    },
    /// A page-cache page of a file.
    PageCache {
        /// Inode number.
        ino: u64,
        /// Page index in the file.
        index: u64,
    },
    /// A zeroed hole page (4.0 `dax_load_hole`).
    HolePage {
        /// Inode number.
        ino: u64,
        /// Page index in the file.
        index: u64,
    },
    /// An anonymous page (copy-on-write copy).
    Anon,
    /// Kernel memory that is neither (a `vmalloc` buffer, a bounce page).
    Kernel,
    /// A block device's storage.
    Device {
        /// The device.
        dev: DevId,
        /// First 512-byte sector.
        sector: u64,
    },
}

/// What a page-table change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PteOp {
    /// A PTE was installed.
    Install,
    /// A PTE was made writable in place (`do_wp_page` reuse).
    MakeWritable,
    /// A PTE was removed (`unmap_mapping_range`, `munmap`).
    Remove,
    /// A PTE was made read-only in place (`page_mkclean` at writeback).
    WriteProtect,
    /// A fault's PTE was not installed: the entry changed while the fault slept
    /// (`pte_same` failed under the PTE lock), and the fault dropped its page.
    Lost,
}

impl PteOp {
    /// The operation's name in the runner's JSON.
    pub fn name(self) -> &'static str {
        match self {
            PteOp::Install => "install",
            PteOp::MakeWritable => "make_writable",
            PteOp::Remove => "remove",
            PteOp::WriteProtect => "write_protect",
            PteOp::Lost => "lost",
        }
    }
}

/// What a page-cache change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOp {
    /// A page was added to the mapping.
    Add,
    /// A page was marked dirty.
    Dirty,
    /// A dirty page was written back and is clean.
    Clean,
    /// A page was removed from the mapping.
    Remove,
}

impl CacheOp {
    /// The operation's name in the runner's JSON.
    pub fn name(self) -> &'static str {
        match self {
            CacheOp::Add => "add",
            CacheOp::Dirty => "dirty",
            CacheOp::Clean => "clean",
            CacheOp::Remove => "remove",
        }
    }
}

/// The kinds of fault the model distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// `dax_fault` (or `dax_mkwrite`) on a `VM_MIXEDMAP` DAX mapping.
    Dax,
    /// `filemap_fault` on a page-cache mapping.
    Filemap,
    /// A write to a read-only PTE (`do_wp_page`).
    WriteProtect,
    /// A MAP_PRIVATE write fault (`do_cow_fault`).
    Cow,
}

/// A signal delivered to a thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// `SIGBUS`: a fault the filesystem could not resolve (past EOF, I/O error).
    Sigbus,
    /// `SIGSEGV`: no mapping, or a write to a read-only one.
    Sigsegv,
}

impl Signal {
    /// The signal's name.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Sigbus => "SIGBUS",
            Signal::Sigsegv => "SIGSEGV",
        }
    }
}

/// Why a system call or a user access failed, as the program sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fail {
    /// An errno.
    Errno(Errno),
    /// A signal.
    Signal(Signal),
}

impl Fail {
    /// The errno a kernel caller of a system call's path sees: a signal there is a fault in a
    /// user copy, `-EFAULT`.
    pub fn errno(self) -> Errno {
        match self {
            Fail::Errno(e) => e,
            Fail::Signal(_) => Errno::EFAULT,
        }
    }
}

impl From<Errno> for Fail {
    fn from(e: Errno) -> Self {
        Fail::Errno(e)
    }
}

/// The result of a system call or user access: a count (bytes, an address) or a failure.
pub type SysResult = Result<u64, Fail>;

/// What the scheduler did that the trace should show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchedNote {
    /// A `schedule` entry named a thread that has finished; the entry was skipped.
    SkippedFinished,
    /// A `schedule` entry named a thread that is blocked; the entry was skipped.
    SkippedBlocked(Blocker),
    /// No thread can run: the thread waits forever and is stopped (its locks released).
    Deadlock(Blocker),
    /// An access kept faulting and every fault returned without changing the PTE: the CPU
    /// would retry it forever. The model stops it with `SIGBUS`.
    Livelock {
        /// The address accessed.
        vaddr: u64,
    },
}

/// One thing that happened.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    /// A kernel function was entered.
    Call {
        /// Kernel function name.
        func: &'static str,
    },
    /// A kernel function returned.
    Return {
        /// Kernel function name.
        func: &'static str,
        /// Its return value when it is worth showing (an errno, a byte count, a VM_FAULT code).
        ret: Option<Shown>,
    },
    /// A lock was taken.
    Lock {
        /// The lock.
        lock: LockName,
        /// Read or write.
        mode: LockMode,
    },
    /// A trylock found the lock taken and gave up (`trylock_page` in eviction).
    TryLockFailed {
        /// The lock.
        lock: LockName,
    },
    /// A lock was released.
    Unlock {
        /// The lock.
        lock: LockName,
    },
    /// The thread must wait (for a lock another thread holds, or a condition).
    Wait {
        /// What it waits for.
        on: Blocker,
    },
    /// File data was copied between two memory locations.
    Copy {
        /// The kernel function doing the copy.
        func: &'static str,
        /// Source.
        src: Loc,
        /// Destination.
        dst: Loc,
        /// Bytes moved.
        bytes: u64,
    },
    /// Memory was zeroed.
    Zero {
        /// The kernel function doing it.
        func: &'static str,
        /// Where.
        dst: Loc,
        /// Bytes zeroed.
        bytes: u64,
    },
    /// A copy the page-cache path would have made and DAX did not.
    CopyAvoided {
        /// Bytes that were not copied.
        bytes: u64,
    },
    /// A user load or store through a mapping (no copy: the CPU touches the frame).
    Access {
        /// User virtual address.
        vaddr: u64,
        /// Frame accessed.
        pfn: Pfn,
        /// Bytes.
        bytes: u64,
        /// Store (true) or load.
        write: bool,
    },
    /// A page fault.
    Fault {
        /// Faulting user address.
        vaddr: u64,
        /// Write fault.
        write: bool,
        /// Counted as `PGMAJFAULT` (I/O or block allocation happened).
        major: bool,
        /// Which handler.
        handler: FaultKind,
    },
    /// A page-table entry changed.
    Pte {
        /// The process whose page table changed.
        pid: Pid,
        /// What happened.
        op: PteOp,
        /// User address.
        vaddr: u64,
        /// Frame mapped.
        pfn: Pfn,
        /// Writable after the change.
        writable: bool,
        /// A special PTE (`pte_mkspecial`, no `struct page` refcount).
        special: bool,
    },
    /// A page-cache page changed.
    PageCache {
        /// What happened.
        op: CacheOp,
        /// Inode number.
        ino: u64,
        /// Page index.
        index: u64,
        /// Frame.
        pfn: Pfn,
    },
    /// A filesystem block was allocated to a file.
    BlockAlloc {
        /// Inode number.
        ino: u64,
        /// Block within the file.
        iblock: u64,
        /// Filesystem block number.
        block: u64,
        /// Allocated as an unwritten extent (ext4).
        unwritten: bool,
    },
    /// A filesystem block was freed.
    BlockFree {
        /// Inode number.
        ino: u64,
        /// Block within the file.
        iblock: u64,
        /// Filesystem block number.
        block: u64,
    },
    /// An unwritten extent was converted to written (ext4 end_io).
    BlockConvert {
        /// Inode number.
        ino: u64,
        /// Block within the file.
        iblock: u64,
    },
    /// `i_size` changed.
    Size {
        /// Inode number.
        ino: u64,
        /// New size.
        size: u64,
    },
    /// Time passed without a copy of file data (a disk request, a window move).
    Time {
        /// What took the time.
        what: &'static str,
        /// Nanoseconds.
        ns: u64,
    },
    /// A device did something by itself (moved its window, stalled).
    Device {
        /// The device.
        dev: DevId,
        /// What.
        note: DeviceNote,
    },
    /// A kernel message (`printk`), e.g. a mount refusal.
    Printk {
        /// The message as the kernel prints it.
        text: Rc<str>,
    },
    /// A kernel function failed with an errno.
    Error {
        /// The function.
        func: &'static str,
        /// The errno.
        errno: Errno,
    },
    /// A signal was delivered to the thread.
    Signal {
        /// Which.
        signal: Signal,
        /// Faulting address.
        vaddr: u64,
    },
    /// The data cache did something to the lines of one frame (filled them, wrote them back,
    /// dropped them), on one CPU access or flush.
    Cache {
        /// The access or flush that caused it (`copy_to_iter`, `flush_dcache_page`, a user
        /// load or store).
        func: &'static str,
        /// What happened to the lines.
        op: crate::state::dcache::LineOp,
        /// The virtual address of the first line.
        vaddr: u64,
        /// The frame.
        pfn: Pfn,
        /// How many lines.
        lines: u32,
    },
    /// The scheduler skipped an entry or stopped a thread.
    Sched(SchedNote),
}

/// Defines [`EventKind::name`] and [`EVENT_KINDS`] from one list.
macro_rules! event_kinds {
    ($($variant:ident => $name:literal,)*) => {
        /// The name of every event kind (as the runner's JSON and the views call them).
        pub const EVENT_KINDS: &[&str] = &[$($name),*];
        impl EventKind {
            /// The kind's name.
            pub fn name(&self) -> &'static str {
                match self { $(EventKind::$variant { .. } => $name,)* }
            }
        }
    };
}

event_kinds! {
    Call => "call",
    Return => "return",
    Lock => "lock",
    TryLockFailed => "trylock_failed",
    Unlock => "unlock",
    Wait => "wait",
    Copy => "copy",
    Zero => "zero",
    CopyAvoided => "copy_avoided",
    Access => "access",
    Fault => "fault",
    Pte => "pte",
    PageCache => "page_cache",
    BlockAlloc => "block_alloc",
    BlockFree => "block_free",
    BlockConvert => "block_convert",
    Size => "size",
    Time => "time",
    Device => "device",
    Printk => "printk",
    Error => "error",
    Signal => "signal",
    Cache => "cache",
    Sched => "schedule",
}

/// A return value as a `return` event shows it. Small and allocation-free: the events of a
/// 64 MiB read must cost little next to the bytes they describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// A count (bytes, pages).
    Num(u64),
    /// An error.
    Errno(Errno),
    /// A named code (`VM_FAULT_NOPAGE`, `SIGBUS`).
    Name(&'static str),
    /// A fault handler's result, with `VM_FAULT_MAJOR` when set.
    Fault {
        /// The `VM_FAULT_*` name.
        name: &'static str,
        /// `VM_FAULT_MAJOR`.
        major: bool,
    },
    /// A `get_block` that mapped a block.
    Block {
        /// Block number.
        block: u64,
        /// Blocks mapped from it on.
        blocks: u64,
        /// `BH_New`.
        new: bool,
        /// `BH_Unwritten`.
        unwritten: bool,
    },
    /// A `get_block` that found a hole.
    Hole,
    /// A `direct_access` result.
    Mapped {
        /// Bytes available (after clamping).
        length: u64,
        /// Page frame number.
        pfn: u64,
    },
}

impl std::fmt::Display for Shown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Shown::Num(n) => write!(f, "{n}"),
            Shown::Errno(e) => write!(f, "-{e}"),
            Shown::Name(n) => f.write_str(n),
            Shown::Fault { name, major } => {
                write!(f, "{name}{}", if *major { " | VM_FAULT_MAJOR" } else { "" })
            }
            Shown::Block {
                block,
                blocks,
                new,
                unwritten,
            } => write!(
                f,
                "block {block}{}{}{}",
                if *blocks > 1 {
                    format!(" ×{blocks}")
                } else {
                    String::new()
                },
                if *new { " new" } else { "" },
                if *unwritten { " unwritten" } else { "" }
            ),
            Shown::Hole => f.write_str("hole"),
            Shown::Mapped { length, pfn } => write!(f, "{length} (pfn {pfn:#x})"),
        }
    }
}

/// An event, stamped with the step, the thread and the mount it concerns.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Global step number (one step = one thread running from one yield point to the next).
    pub step: u32,
    /// The thread.
    pub thread: Tid,
    /// The mount whose counters this event counts toward.
    pub mount: Option<MountId>,
    /// Simulated nanoseconds this event cost.
    pub ns: u64,
    /// What happened.
    pub kind: EventKind,
}

/// Defines [`Counters`] and its list of names from one list.
macro_rules! counters {
    ($($field:ident: $doc:literal,)*) => {
        /// The counters of the scenario language, folded from events as they happen.
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        pub struct Counters {
            $(#[doc = $doc] pub $field: u64,)*
        }
        impl Counters {
            /// Every counter's name, in order.
            pub const NAMES: &[&str] = &[$(stringify!($field)),*];
            /// A counter by name.
            pub fn get(&self, name: &str) -> Option<u64> {
                match name { $(stringify!($field) => Some(self.$field),)* _ => None }
            }
            /// Every counter with its name.
            pub fn named(&self) -> [(&'static str, u64); Self::NAMES.len()] {
                [$((stringify!($field), self.$field)),*]
            }
            /// What `self` adds to `before` (for the cost of one operation).
            pub fn since(&self, before: &Counters) -> Counters {
                Counters { $($field: self.$field.saturating_sub(before.$field),)* }
            }
        }
    };
}

counters! {
    copies: "Copies of file data between two distinct memory locations, split at page boundaries.",
    bytes_copied: "Bytes those copies moved.",
    copies_avoided: "Copies the page-cache path would have made for the same DAX operations.",
    pagecache_pages: "Page-cache pages now resident (RAM holding file data, duplicated on the device).",
    faults_minor: "Minor faults (no I/O, no allocation).",
    faults_major: "Major faults (`PGMAJFAULT`: I/O or block allocation).",
    sim_ns: "Simulated time in nanoseconds.",
}

impl Counters {
    /// Whether an event of this kind changes a counter other than simulated time.
    pub fn counts(kind: &EventKind) -> bool {
        matches!(
            kind,
            EventKind::Copy { .. }
                | EventKind::CopyAvoided { .. }
                | EventKind::PageCache { .. }
                | EventKind::Fault { .. }
        )
    }

    /// Fold one event into the counters.
    pub fn apply(&mut self, ns: u64, kind: &EventKind) {
        self.sim_ns += ns;
        match kind {
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
}

/// What one step did, in brief: enough for a timeline of a run too long to keep every event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StepMark {
    /// The thread that ran it.
    pub thread: Tid,
    /// What happened ([`StepMark::COPY`], ...).
    pub marks: u8,
    /// Bytes of file data copied.
    pub bytes: u32,
}

impl StepMark {
    /// File data was copied.
    pub const COPY: u8 = 1;
    /// Memory was zeroed.
    pub const ZERO: u8 = 2;
    /// A page fault.
    pub const FAULT: u8 = 4;
    /// A thread had to wait (a lock another thread held).
    pub const WAIT: u8 = 8;
    /// Something failed: an errno, a signal, a refusal.
    pub const ERROR: u8 = 16;
    /// The data cache filled, wrote back or dropped a line (only where the CPU has a modelled,
    /// virtually indexed cache): what a load or a flush did, for the app's "latest step".
    pub const CACHE: u8 = 32;

    /// The mark an event sets.
    pub fn of(kind: &EventKind) -> u8 {
        match kind {
            EventKind::Copy { .. } => Self::COPY,
            EventKind::Zero { .. } => Self::ZERO,
            EventKind::Fault { .. } => Self::FAULT,
            EventKind::Wait { .. } => Self::WAIT,
            EventKind::Error { .. } | EventKind::Signal { .. } => Self::ERROR,
            EventKind::Cache { .. } => Self::CACHE,
            _ => 0,
        }
    }
}

/// What a run keeps of its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceMode {
    /// Every event (the app and the runner's JSON).
    Full,
    /// Only each step's footprint: which objects and locks it read or wrote (an explorer).
    Footprint,
    /// Nothing but the counters (benchmarks, the runner's text output).
    Off,
}

/// Where events go: the counters always, the events or footprints as the mode says.
#[derive(Debug, Clone)]
pub struct Trace {
    /// What is kept.
    pub mode: TraceMode,
    /// The events kept (mode `Full`), in order.
    pub events: Vec<Event>,
    /// Counters over the whole run.
    pub counters: Counters,
    /// Counters per mount.
    pub by_mount: Vec<Counters>,
}

impl Trace {
    /// An empty trace.
    pub fn new(mode: TraceMode) -> Self {
        Trace {
            mode,
            events: Vec::new(),
            counters: Counters::default(),
            by_mount: Vec::new(),
        }
    }

    /// Count an event (in every mode), in total and toward its mount.
    pub fn count(&mut self, mount: Option<MountId>, ns: u64, kind: &EventKind) {
        self.counters.apply(ns, kind);
        if let Some(m) = mount {
            let i = m.0 as usize;
            if self.by_mount.len() <= i {
                self.by_mount.resize(i + 1, Counters::default());
            }
            self.by_mount[i].apply(ns, kind);
        }
    }
}
