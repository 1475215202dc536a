//! Kernel error numbers, as the kernel names them.

/// Defines [`Errno`] and its names from one list.
macro_rules! errnos {
    ($($name:ident: $doc:literal,)*) => {
        /// An errno returned by a simulated kernel function. The names and meanings follow
        /// `include/uapi/asm-generic/errno-base.h` and `errno.h`.
        #[allow(clippy::upper_case_acronyms)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Errno {
            $(#[doc = $doc] $name,)*
        }
        impl Errno {
            /// Every errno, in the order of the list.
            pub const ALL: &[Errno] = &[$(Errno::$name),*];
            /// The name, e.g. `EFAULT`.
            pub fn name(self) -> &'static str {
                match self { $(Errno::$name => stringify!($name),)* }
            }
            /// The errno of a name.
            pub fn from_name(s: &str) -> Option<Errno> {
                match s { $(stringify!($name) => Some(Errno::$name),)* _ => None }
            }
        }
    };
}

errnos! {
    EOPNOTSUPP: "Operation not supported: e.g. a device without `direct_access`.",
    ERANGE: "Result out of range: a `direct_access` past the end of the partition.",
    EINVAL: "Invalid argument: e.g. a sector that is not page-aligned.",
    ENOSPC: "No space left on device.",
    ENODEV: "No such device.",
    ENOMEM: "Out of memory.",
    EIO: "I/O error.",
    EFAULT: "Bad address: e.g. `get_user_pages` on a DAX mapping.",
    EBUSY: "Device or resource busy.",
    EBADF: "Bad file descriptor.",
    ENOENT: "No such file or directory.",
    EEXIST: "File exists.",
    EACCES: "Permission denied.",
    EFBIG: "File too large.",
    ENXIO: "No such device or address.",
    EISDIR: "Is a directory.",
    EAGAIN: "Try again: used inside the model to retry after losing a race.",
    EROFS: "Read-only file system.",
    ENOSYS: "Function not implemented.",
    ENOEXEC: "Exec format error: an empty module or program file.",
}

impl std::fmt::Display for Errno {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::error::Error for Errno {}

/// The result of a simulated kernel call that can fail with an errno.
pub type KResult<T> = Result<T, Errno>;
