//! A memory-like device whose accesses can take very long (internal erase, wear levelling).
//! It must not implement `direct_access`: with DAX the stall happens inside an ordinary CPU
//! load, where the CPU can neither sleep nor time out. Through bios the task just sleeps.

use super::private::PrivateStore;
use super::{BlockDriver, DeviceKind};
use crate::errno::KResult;
use crate::mem::{Pfn, PhysMem};
use crate::timing;

/// Every this many accesses, one stalls.
pub const STALL_EVERY: u64 = 16;

/// The stalling device.
#[derive(Debug)]
pub struct Stall {
    size: u64,
    store: PrivateStore,
    accesses: u64,
}

impl Stall {
    /// A stalling device of `size` bytes.
    pub fn new(size: u64) -> Self {
        Stall {
            size,
            store: PrivateStore::default(),
            accesses: 0,
        }
    }
}

impl BlockDriver for Stall {
    fn kind(&self) -> DeviceKind {
        DeviceKind::Stall
    }
    fn size(&self) -> u64 {
        self.size
    }
    fn rw(
        &mut self,
        mem: &mut PhysMem,
        off: u64,
        (pfn, foff): (Pfn, usize),
        len: usize,
        write: bool,
    ) -> KResult<u64> {
        self.accesses += 1;
        self.store.dma(mem, off, pfn, foff, len, write);
        // Deterministic stalls: the same scenario stalls at the same access.
        let stall = if self.accesses.is_multiple_of(STALL_EVERY) {
            timing::STALL_NS
        } else {
            0
        };
        Ok(timing::ram_copy_ns(len as u64) + stall)
    }
    fn bio_vaddr(&self, _: u64) -> u64 {
        0
    }
    fn cpu_ns(&self, len: u64) -> u64 {
        timing::ram_copy_ns(len)
    }
    fn describe(&self) -> String {
        format!(
            "memory-like, but one access in {} stalls for {} ms; {} accesses so far",
            STALL_EVERY,
            timing::STALL_NS / 1_000_000,
            self.accesses
        )
    }
}
