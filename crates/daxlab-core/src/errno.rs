//! Kernel error numbers, as the kernel names them.

use serde::Serialize;

/// An errno returned by a simulated kernel function. The names and meanings follow
/// `include/uapi/asm-generic/errno-base.h` and `errno.h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, thiserror::Error)]
pub enum Errno {
    /// Operation not supported (`-EOPNOTSUPP`): e.g. a device without `direct_access`.
    #[error("EOPNOTSUPP")]
    EOPNOTSUPP,
    /// Result out of range (`-ERANGE`): a `direct_access` past the end of the partition.
    #[error("ERANGE")]
    ERANGE,
    /// Invalid argument (`-EINVAL`): e.g. a sector that is not page-aligned.
    #[error("EINVAL")]
    EINVAL,
    /// No space left on device (`-ENOSPC`).
    #[error("ENOSPC")]
    ENOSPC,
    /// No such device (`-ENODEV`).
    #[error("ENODEV")]
    ENODEV,
    /// Out of memory (`-ENOMEM`).
    #[error("ENOMEM")]
    ENOMEM,
    /// I/O error (`-EIO`).
    #[error("EIO")]
    EIO,
    /// Bad address (`-EFAULT`): e.g. `get_user_pages` on a DAX mapping.
    #[error("EFAULT")]
    EFAULT,
    /// Device or resource busy (`-EBUSY`).
    #[error("EBUSY")]
    EBUSY,
    /// Bad file descriptor (`-EBADF`).
    #[error("EBADF")]
    EBADF,
    /// No such file or directory (`-ENOENT`).
    #[error("ENOENT")]
    ENOENT,
    /// File exists (`-EEXIST`).
    #[error("EEXIST")]
    EEXIST,
    /// Permission denied (`-EACCES`).
    #[error("EACCES")]
    EACCES,
    /// File too large (`-EFBIG`).
    #[error("EFBIG")]
    EFBIG,
    /// No such device or address (`-ENXIO`).
    #[error("ENXIO")]
    ENXIO,
    /// Is a directory (`-EISDIR`).
    #[error("EISDIR")]
    EISDIR,
    /// Try again (`-EAGAIN`): used inside the model to retry after losing a race.
    #[error("EAGAIN")]
    EAGAIN,
    /// Read-only file system (`-EROFS`).
    #[error("EROFS")]
    EROFS,
}

/// The result of a simulated kernel call that can fail with an errno.
pub type KResult<T> = Result<T, Errno>;
