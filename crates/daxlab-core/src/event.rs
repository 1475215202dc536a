//! The event stream: everything the simulator does is an event, and everything the views, the
//! counters and the runner show is derived from these events.

use std::rc::Rc;

use serde::Serialize;

use crate::errno::Errno;
use crate::mem::Pfn;

/// A thread of the scenario; 0 is the main (top-level) thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ThreadId(pub u16);

/// Where bytes live, and the virtual address the CPU used to reach them (the kernel's linear-map
/// alias or the user's address), so a virtually indexed cache can be modelled on top.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Loc {
    /// What the memory is.
    #[serde(flatten)]
    pub space: Space,
    /// The virtual address used for the access.
    pub vaddr: u64,
    /// The page frame behind it, when it is CPU memory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pfn: Option<Pfn>,
}

/// The kind of memory a [`Loc`] names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "space", rename_all = "snake_case")]
pub enum Space {
    /// A user buffer or user mapping.
    User,
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
    /// A block device's storage.
    Device {
        /// Device name.
        dev: Rc<str>,
        /// First 512-byte sector.
        sector: u64,
    },
}

/// A lock of the 4.0 kernel, as `lockdep` would name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "lock", rename_all = "snake_case")]
pub enum LockName {
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
}

impl std::fmt::Display for LockName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LockName::IMutex { ino } => write!(f, "i_mutex(ino {ino})"),
            LockName::IMmapRwsem { ino } => write!(f, "i_mmap_rwsem(ino {ino})"),
            LockName::TruncateMutex { ino } => write!(f, "truncate_mutex(ino {ino})"),
            LockName::IDataSem { ino } => write!(f, "i_data_sem(ino {ino})"),
            LockName::PageLock { ino, index } => write!(f, "PG_locked(ino {ino}, page {index})"),
        }
    }
}

/// How a lock is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LockMode {
    /// Shared (`down_read`).
    Read,
    /// Exclusive (`mutex_lock`, `down_write`, `lock_page`).
    Write,
}

/// What a page-table change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PteOp {
    /// A PTE was installed.
    Install,
    /// A PTE was made writable in place (`do_wp_page` reuse).
    MakeWritable,
    /// A PTE was removed (`unmap_mapping_range`, `munmap`).
    Remove,
    /// A PTE was made read-only in place (`page_mkclean` at writeback).
    WriteProtect,
}

/// What a page-cache change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
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

/// The kinds of fault the model distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
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

/// One thing that happened.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
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
        #[serde(skip_serializing_if = "Option::is_none")]
        ret: Option<Ret>,
    },
    /// A lock was taken.
    Lock {
        /// The lock.
        #[serde(flatten)]
        lock: LockName,
        /// Read or write.
        mode: LockMode,
    },
    /// A lock was released.
    Unlock {
        /// The lock.
        #[serde(flatten)]
        lock: LockName,
    },
    /// The thread must wait for a lock another thread holds.
    Wait {
        /// The lock (or condition) waited for.
        what: String,
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
    /// I/O to a device that is not a copy of file data through the CPU: simulated time only.
    Time {
        /// What took the time.
        what: &'static str,
        /// Nanoseconds.
        ns: u64,
    },
    /// A kernel message (`printk`), e.g. a mount refusal.
    Printk {
        /// The message as the kernel prints it.
        text: String,
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
        /// Signal name, e.g. `SIGBUS`.
        signal: &'static str,
        /// Faulting address.
        vaddr: u64,
    },
    /// A thread could not run the step the schedule gave it.
    Schedule {
        /// What happened.
        text: String,
    },
}

/// A return value as a `return` event shows it. Kept small and allocation-free: the events
/// of a 64 MiB read must cost little next to the bytes they describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ret {
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

impl std::fmt::Display for Ret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ret::Num(n) => write!(f, "{n}"),
            Ret::Errno(e) => write!(f, "-{e}"),
            Ret::Name(n) => f.write_str(n),
            Ret::Fault { name, major } => {
                write!(f, "{name}{}", if *major { " | VM_FAULT_MAJOR" } else { "" })
            }
            Ret::Block {
                block,
                new,
                unwritten,
            } => {
                write!(
                    f,
                    "block {block}{}{}",
                    if *new { " new" } else { "" },
                    if *unwritten { " unwritten" } else { "" }
                )
            }
            Ret::Hole => f.write_str("hole"),
            Ret::Mapped { length, pfn } => write!(f, "{length} (pfn {pfn:#x})"),
        }
    }
}

impl Serialize for Ret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// An event, stamped with the step, the thread and the mount it concerns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// Global step number (one step = one thread running from one yield point to the next).
    pub step: u32,
    /// The thread.
    #[serde(skip)]
    pub thread: ThreadId,
    /// The mount whose counters this event counts toward.
    #[serde(skip)]
    pub mount: Option<u16>,
    /// Simulated nanoseconds this event cost.
    #[serde(skip_serializing_if = "is_zero")]
    pub ns: u64,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}
