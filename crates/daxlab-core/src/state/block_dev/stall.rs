//! A memory-like device whose accesses can take very long (internal erase, wear levelling).
//! It must not implement `direct_access`: with DAX the stall happens inside an ordinary CPU
//! load, where the CPU can neither sleep nor time out. Through bios the task just sleeps. With
//! `pretend` it offers `direct_access` anyway.

use super::super::mem::{PageRef, Pfn, PhysMem, PAGE_SIZE};
use super::super::DevId;
use super::storage::ContiguousMemory;
use super::{BioTarget, BlockDriver, DeviceKind, DeviceNote};
use crate::errno::KResult;
use crate::timing;

/// Every this many accesses, one stalls.
pub const STALL_EVERY: u64 = 16;

/// The stalling device.
#[derive(Debug, Clone)]
pub struct Stall {
    mem: ContiguousMemory,
    pretend: bool,
    accesses: u64,
    note: Option<DeviceNote>,
}

impl Stall {
    /// A stalling device of `size` bytes at `base_phys`.
    pub fn new(dev: DevId, size: u64, pretend: bool, base_phys: u64) -> Self {
        Stall {
            mem: ContiguousMemory {
                dev,
                size,
                base_phys,
            },
            pretend,
            accesses: 0,
            note: None,
        }
    }

    /// Count an access; every `STALL_EVERY`th stalls (deterministically).
    fn access(&mut self, cpu: bool) -> u64 {
        self.accesses += 1;
        if self.accesses.is_multiple_of(STALL_EVERY) {
            self.note = Some(DeviceNote::Stalled {
                ns: timing::STALL_NS,
                cpu,
            });
            timing::STALL_NS
        } else {
            0
        }
    }
}

impl BlockDriver for Stall {
    fn kind(&self) -> DeviceKind {
        DeviceKind::Stall
    }
    fn size(&self) -> u64 {
        self.mem.size
    }
    fn has_direct_access(&self) -> bool {
        self.pretend
    }
    fn direct_access(&mut self, mem: &mut PhysMem, sector: u64) -> KResult<(Pfn, u64)> {
        let pfn = self.mem.frame_of_sector(mem, sector);
        Ok((pfn, self.mem.size.saturating_sub(sector * 512)))
    }
    fn bio_map(&mut self, mem: &mut PhysMem, off: u64, _write: bool) -> KResult<(BioTarget, u64)> {
        // Through a bio the submitting task sleeps until the request completes.
        let pfn = self.mem.frame_of_byte(mem, off);
        let ns = timing::ram_copy_ns(crate::state::mem::PAGE_SIZE) + self.access(false);
        Ok((
            BioTarget::Memory {
                pfn,
                vaddr: pfn.kaddr() + off % crate::state::mem::PAGE_SIZE,
            },
            ns,
        ))
    }
    fn bio_func(&self, _: bool) -> &'static str {
        "stall_make_request"
    }
    fn cpu_ns(&self, len: u64) -> u64 {
        timing::ram_copy_ns(len)
    }
    fn cpu_access(&mut self) -> u64 {
        self.access(true)
    }
    fn cpu_frames(&self, mem: &PhysMem) -> Vec<(u64, Pfn)> {
        self.mem.frames(mem)
    }
    fn take_note(&mut self) -> Option<DeviceNote> {
        self.note.take()
    }
    fn frame(&self, idx: u64) -> Option<Pfn> {
        Some(self.mem.pfn(idx * PAGE_SIZE))
    }
    fn page(&self, mem: &PhysMem, idx: u64) -> PageRef {
        self.mem.page(mem, idx)
    }
    fn describe(&self) -> String {
        format!(
            "memory-like, but one access in {} stalls for {} ms; {} accesses so far{}",
            STALL_EVERY,
            timing::STALL_NS / 1_000_000,
            self.accesses,
            if self.pretend {
                "; pretends to offer direct_access"
            } else {
                ""
            }
        )
    }
    fn clone_box(&self) -> Box<dyn BlockDriver> {
        Box::new(self.clone())
    }
}
