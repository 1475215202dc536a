//! The latency model behind simulated time. Round numbers of the right order of magnitude for
//! 2015-era hardware; they make the page cache's extra copy and a disk's latency visible, not
//! predict a real machine.

/// A CPU copy between two RAM locations: 8 bytes per ns (about 8 GB/s).
pub fn ram_copy_ns(bytes: u64) -> u64 {
    bytes.div_ceil(8)
}

/// An uncached (ioremapped) access: 1 byte per ns.
pub fn uncached_ns(bytes: u64) -> u64 {
    bytes
}

/// Fixed cost of one disk request (seek and command overhead): 100 µs.
pub const DISK_REQUEST_NS: u64 = 100_000;

/// Disk transfer: 500 MB/s.
pub fn disk_transfer_ns(bytes: u64) -> u64 {
    bytes * 2
}

/// Reprogramming a windowed device's bank register: 10 µs.
pub const WINDOW_MOVE_NS: u64 = 10_000;

/// One stall of the stalling device: 50 ms.
pub const STALL_NS: u64 = 50_000_000;

/// Entering the kernel for a page fault.
pub const FAULT_NS: u64 = 1_000;
