//! The kernel side of a thread: its kernel stack (for the views, and so a long operation can be
//! resumed from a checkpoint) and what it waits for.

use super::lock::{LockMode, LockName};
use super::{FileId, MountId, Pid};

/// What a kernel function still does after the callee it is waiting for returns: plain data,
/// so a thread parked below it can be resumed from a checkpoint (see
/// `crate::kernel::resume::run_tail`, which runs these, and is the only place that does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tail {
    /// Return the callee's result.
    Pass,
    /// `fdput`: drop the reference `fdget` took on the open file.
    FdPut {
        /// The open file.
        file: FileId,
    },
    /// The end of `dax_do_io` and `do_blockdev_direct_IO`: unlock `i_mutex` after a read
    /// (`DIO_LOCKING` took it for reads), then `inode_dio_done`.
    DioDone {
        /// Inode number.
        ino: u64,
        /// A read (which took `i_mutex` itself).
        read: bool,
    },
    /// `__generic_file_write_iter` after a direct write that came back short without an error
    /// (a hole inside `i_size` under `DIO_SKIP_HOLES`): write the rest through the page cache,
    /// unless the inode is DAX.
    WriteFallback {
        /// Inode number.
        ino: u64,
        /// User address of the first byte.
        ubuf: u64,
        /// Where the write started.
        pos: u64,
        /// Bytes asked for.
        len: u64,
    },
    /// The end of `ext4_ext_direct_IO` for a write inside `i_size`: convert the unwritten
    /// extents written (`ext4_convert_unwritten_extents`), then `inode_dio_done`.
    Ext4ExtDio {
        /// Inode number.
        ino: u64,
        /// Where the write started.
        pos: u64,
    },
    /// The end of `generic_file_write_iter`: unlock `i_mutex`.
    UnlockIMutex {
        /// Inode number.
        ino: u64,
    },
    /// The end of `generic_file_direct_write`: invalidate the range again and extend `i_size`.
    DirectWrite {
        /// Inode number.
        ino: u64,
        /// Where the write started.
        pos: u64,
        /// Bytes asked for.
        len: u64,
    },
    /// A direct write that failed (returned an error): trim what it allocated past `i_size`
    /// (`ext2_write_failed`, or `ext4_truncate_failed_write` for ext4).
    WriteFailed {
        /// Inode number.
        ino: u64,
        /// Where the write would have ended.
        end: u64,
        /// ext4 (else ext2).
        ext4: bool,
    },
    /// `drop_caches` after its writeback: evict the clean pages.
    DropCaches,
    /// `umount` after its writeback: evict and detach.
    Umount {
        /// The mount.
        mount: MountId,
    },
}

/// What a blocked thread waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blocker {
    /// A lock in a mode.
    Lock(LockName, LockMode),
    /// `inode_dio_wait`: `i_dio_count` of the inode to reach zero.
    DioCount(u64),
}

impl std::fmt::Display for Blocker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Blocker::Lock(l, LockMode::Read) => write!(f, "{l} (read)"),
            Blocker::Lock(l, LockMode::Write) => write!(f, "{l}"),
            Blocker::DioCount(ino) => write!(f, "i_dio_count(ino {ino}) == 0"),
        }
    }
}

/// One kernel function on a thread's stack.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// The function.
    pub func: &'static str,
    /// What the function still does after its callee returns, when that is known as data (a
    /// frame with a tail can be resumed from a checkpoint; one without cannot).
    pub tail: Option<Tail>,
    /// The mount the function's events count toward, so a resumed frame counts as it did.
    pub mount: Option<MountId>,
}

/// A thread's kernel-side state.
#[derive(Debug, PartialEq)]
pub struct Task {
    /// Its process.
    pub pid: Pid,
    /// The kernel functions it is in, outermost first.
    pub stack: Vec<Frame>,
    /// What it waits for, if it is blocked.
    pub blocked: Option<Blocker>,
}

impl Clone for Task {
    fn clone(&self) -> Self {
        // Room for a kernel stack up front: a stack grows on nearly every step.
        let mut stack = Vec::with_capacity(self.stack.len().max(16));
        stack.extend_from_slice(&self.stack);
        Task {
            pid: self.pid,
            stack,
            blocked: self.blocked,
        }
    }
}

impl Task {
    /// A thread of `pid`, in user space.
    pub fn new(pid: Pid) -> Self {
        Task {
            pid,
            stack: Vec::with_capacity(16),
            blocked: None,
        }
    }
}
