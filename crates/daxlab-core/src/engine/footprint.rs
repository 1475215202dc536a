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

/// A footprint summarised as 64-bit masks, so that most pairs of steps are told independent
/// without comparing their accesses. Each object has the bits of what it is (`is`: its own, and
/// those of the objects that contain it) and of what it covers (`covers`: its own); two objects
/// that overlap always have `is` of one meet `covers` of the other.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Mask {
    is: u64,
    covers: u64,
    is_w: u64,
    covers_w: u64,
}

impl Mask {
    /// The masks of a footprint.
    pub fn of(foot: &[Access]) -> Mask {
        foot.iter().fold(Mask::default(), |m, a| {
            let (is, covers) = a.obj.bits();
            let w = if a.write { u64::MAX } else { 0 };
            Mask {
                is: m.is | is,
                covers: m.covers | covers,
                is_w: m.is_w | (is & w),
                covers_w: m.covers_w | (covers & w),
            }
        })
    }

    /// False when the two footprints cannot conflict; true when they may ([`conflict`] says).
    pub fn may_conflict(&self, o: &Mask) -> bool {
        (self.is_w & o.covers)
            | (self.covers_w & o.is)
            | (self.is & o.covers_w)
            | (self.covers & o.is_w)
            != 0
    }
}

/// The bit of a hashable key (a small multiplicative hash: this runs for every access of every
/// execution the explorer runs).
fn bit(key: impl std::hash::Hash) -> u64 {
    struct Fx(u64);
    impl std::hash::Hasher for Fx {
        fn write(&mut self, bytes: &[u8]) {
            for &b in bytes {
                self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x517c_c1b7_2722_0a95);
            }
        }
        fn finish(&self) -> u64 {
            self.0
        }
    }
    let mut h = Fx(0);
    key.hash(&mut h);
    1 << (std::hash::Hasher::finish(&h) >> 58)
}

impl Obj {
    /// (`is`, `covers`) of [`Mask`] for this object, following [`Obj::overlaps`].
    fn bits(self) -> (u64, u64) {
        use Obj::*;
        let part = |own: u64, whole: u64| (own | whole, own);
        match self {
            Global => (u64::MAX, u64::MAX),
            // Ram overlaps nothing but Global.
            Ram => (bit(18u8), 0),
            Block(i, b) => part(bit((1u8, i, b)), bit((2u8, i))),
            CachePage(i, p) => part(bit((3u8, i, p)), bit((4u8, i))),
            Pte(a, p) => part(bit((5u8, a, p)), bit((6u8, a)) | bit(7u8)),
            Mm(a) => part(bit((6u8, a)), bit(7u8)),
            LockReader(n, t) => part(bit((8u8, n, t)), bit((9u8, n))),
            GhostOf(i, t) => part(bit((10u8, i, t)), bit((11u8, i))),
            DevPage(d, p) => part(bit((12u8, d, p)), bit((13u8, d))),
            Fds(p) => part(bit((14u8, p)), bit(15u8)),
            FileRef(f, t) => part(bit((16u8, f, t)), bit(15u8)),
            Blocks(i) => (bit((2u8, i)), bit((2u8, i))),
            Cache(i) => (bit((4u8, i)), bit((4u8, i))),
            Mms => (bit(7u8), bit(7u8)),
            LockReaders(n) => (bit((9u8, n)), bit((9u8, n))),
            Ghost(i) => (bit((11u8, i)), bit((11u8, i))),
            Device(d) => (bit((13u8, d)), bit((13u8, d))),
            Files => (bit(15u8), bit(15u8)),
            other => {
                let b = bit((17u8, other));
                (b, b)
            }
        }
    }
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

    /// The masks never hide a conflict: every pair of objects (from a sample covering each
    /// kind and their containers) that overlaps, with one side written, may conflict.
    #[test]
    fn masks_never_hide_a_conflict() {
        use crate::state::{FileId, Tid};
        let lock = LockName::MmapSem { pid: Pid(1) };
        let mut objs = vec![
            Obj::Global,
            Obj::Ram,
            Obj::Inodes,
            Obj::Mms,
            Obj::Files,
            Obj::DCache,
        ];
        for i in 0..3u16 {
            let n = u64::from(i);
            objs.extend([
                Obj::ISize(n),
                Obj::Block(n, n + 1),
                Obj::Blocks(n),
                Obj::CachePage(n, 2),
                Obj::Cache(n),
                Obj::DioCount(n),
                Obj::Frame(Pfn(n)),
                Obj::FsAlloc(FsId(i)),
                Obj::Device(DevId(i)),
                Obj::DevPage(DevId(i), n),
                Obj::Pte(Pid(i), n << 12),
                Obj::Mm(Pid(i)),
                Obj::Fds(Pid(i)),
                Obj::FileRef(FileId(u32::from(i)), Tid(i)),
                Obj::Lock(lock),
                Obj::LockReader(lock, Tid(i)),
                Obj::LockReaders(lock),
                Obj::Ghost(n),
                Obj::GhostOf(n, Tid(i)),
            ]);
        }
        let mut independent = 0;
        for &a in &objs {
            for &b in &objs {
                let (fa, fb) = (
                    [Access {
                        obj: a,
                        write: true,
                    }],
                    [Access {
                        obj: b,
                        write: false,
                    }],
                );
                let may = Mask::of(&fa).may_conflict(&Mask::of(&fb));
                assert!(!conflict(&fa, &fb) || may, "{a:?} and {b:?}");
                independent += usize::from(!may);
            }
        }
        assert!(
            independent > objs.len() * objs.len() / 2,
            "the masks tell most pairs apart"
        );
    }
}
