//! Footprints: which objects of the machine a step read or wrote. Two steps of different
//! threads commute when their footprints do not conflict, which is what lets the explorer run
//! interleavings that differ only in the order of independent steps once.
//!
//! Objects are coarse where that is simpler and fine where races live. A footprint must cover
//! everything a step reads or writes; an access the code cannot name is [`Obj::Global`], which
//! conflicts with everything.

use crate::state::lock::LockName;
use crate::state::mem::Pfn;
use crate::state::{DevId, FsId, Pid};

/// A piece of machine state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Obj {
    /// Everything (an access the code does not name more precisely).
    Global,
    /// `i_size` of an inode.
    ISize(u64),
    /// One entry of an inode's block map.
    Block(u64, u64),
    /// An inode's whole block map (truncate, range walks).
    Blocks(u64),
    /// One page-cache entry (`page_tree` slot and the page's flags).
    CachePage(u64, u64),
    /// An inode's whole page cache.
    Cache(u64),
    /// `i_dio_count`.
    DioCount(u64),
    /// The inode table and directories (create, unlink, evict).
    Inodes,
    /// The bytes of a frame.
    Frame(Pfn),
    /// The RAM allocator.
    Ram,
    /// A filesystem's block allocator.
    FsAlloc(FsId),
    /// A device driver's own state as a whole (the window register, the stall state); it
    /// covers every [`Obj::DevPage`] of the device.
    Device(DevId),
    /// One page of a device whose pages are independent (brd's page table entry and page, a
    /// disk's stored page, a page of contiguous device memory).
    DevPage(DevId, u64),
    /// One PTE of a process (by page address).
    Pte(Pid, u64),
    /// A process's page tables as a whole, and its VMAs.
    Mm(Pid),
    /// Every process's VMAs and page tables (an `rmap` walk).
    Mms,
    /// The open file descriptions and descriptor tables as a whole; it covers every
    /// [`Obj::Fds`] and [`Obj::FileRef`].
    Files,
    /// A process's descriptor table (read by `fdget`).
    Fds(crate::state::Pid),
    /// One thread's reference to an open file (`fdget`, a mapping's `vm_file`): references by
    /// two threads commute, unless one of them is the last.
    FileRef(crate::state::FileId, crate::state::Tid),
    /// A lock's writer side: its writer, and the writers waiting for it (a waiting writer
    /// stops new readers of an rwsem).
    Lock(LockName),
    /// One thread's read hold of an rwsem (two readers commute).
    LockReader(LockName, crate::state::Tid),
    /// Every read hold of an rwsem (what a writer waits for).
    LockReaders(LockName),
    /// The CPU's data cache (only on the architectures with a model of it).
    DCache,
    /// The invariant checker's copy of a file: its bytes, written when a command that
    /// changes the file ends, read by the checks that compare with it; it covers every
    /// [`Obj::GhostOf`] of the file.
    Ghost(u64),
    /// What one thread's command in flight on a file is about to change (noted when it
    /// starts: two such starts commute).
    GhostOf(u64, crate::state::Tid),
}

impl Obj {
    /// Whether two objects overlap.
    pub fn overlaps(self, other: Obj) -> bool {
        use Obj::*;
        match (self, other) {
            (Global, _) | (_, Global) => true,
            (Block(a, _), Blocks(b)) | (Blocks(a), Block(b, _)) => a == b,
            (CachePage(a, _), Cache(b)) | (Cache(a), CachePage(b, _)) => a == b,
            (Pte(a, _), Mm(b)) | (Mm(a), Pte(b, _)) => a == b,
            (LockReader(a, _), LockReaders(b)) | (LockReaders(a), LockReader(b, _)) => a == b,
            (GhostOf(a, _), Ghost(b)) | (Ghost(a), GhostOf(b, _)) => a == b,
            (DevPage(a, _), Device(b)) | (Device(a), DevPage(b, _)) => a == b,
            (Files, Fds(_) | FileRef(..)) | (Fds(_) | FileRef(..), Files) => true,
            // Frame numbers are names: allocations and frees commute (two orders that only
            // hand out different frames are one for the explorer; running out of memory
            // differently is not told apart).
            (Ram, _) | (_, Ram) => false,
            (Mms, Mm(_) | Pte(..) | Mms) | (Mm(_) | Pte(..), Mms) => true,
            (a, b) => a == b,
        }
    }
}

/// One access of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    /// What.
    pub obj: Obj,
    /// Written (or only read).
    pub write: bool,
}

/// Whether two footprints conflict: they share an object and one of them writes it.
pub fn conflict(a: &[Access], b: &[Access]) -> bool {
    a.iter().any(|x| {
        b.iter()
            .any(|y| (x.write || y.write) && x.obj.overlaps(y.obj))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_commute_writes_do_not_and_wildcards_cover_their_parts() {
        let r = |obj| Access { obj, write: false };
        let w = |obj| Access { obj, write: true };
        assert!(!conflict(&[r(Obj::ISize(1))], &[r(Obj::ISize(1))]));
        assert!(conflict(&[r(Obj::ISize(1))], &[w(Obj::ISize(1))]));
        assert!(!conflict(&[w(Obj::ISize(1))], &[w(Obj::ISize(2))]));
        assert!(conflict(&[r(Obj::Block(1, 5))], &[w(Obj::Blocks(1))]));
        assert!(!conflict(&[w(Obj::Block(1, 5))], &[w(Obj::Block(1, 6))]));
        assert!(conflict(&[r(Obj::Frame(Pfn(3)))], &[w(Obj::Global)]));
    }
}
