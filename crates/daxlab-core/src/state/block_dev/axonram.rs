//! axonram, the IBM Cell BE "Axon" DDR2 driver (`arch/powerpc/sysdev/axonram.c`, 4.0).

use super::super::mem::{PageRef, Pfn, PhysMem, PAGE_SIZE};
use super::super::DevId;
use super::storage::ContiguousMemory;
use super::{BioTarget, BlockDriver, DeviceKind};
use crate::errno::KResult;
use crate::timing;

/// Start of the `ioremap_prot(..., _PAGE_NO_CACHE)` mapping the bio path copies through.
const IO_ADDR: u64 = 0xffff_c900_0000_0000;

/// One DDR2 memory bank: contiguous, always CPU-addressable, volatile, no `struct page`.
#[derive(Debug, Clone)]
pub struct Axonram(ContiguousMemory);

impl Axonram {
    /// A bank of `size` bytes at physical address `ph_addr`.
    pub fn new(dev: DevId, size: u64, ph_addr: u64) -> Self {
        Axonram(ContiguousMemory {
            dev,
            size,
            base_phys: ph_addr,
        })
    }
}

impl BlockDriver for Axonram {
    fn kind(&self) -> DeviceKind {
        DeviceKind::Axonram
    }
    fn size(&self) -> u64 {
        self.0.size
    }
    fn has_direct_access(&self) -> bool {
        true
    }
    fn direct_access(&mut self, mem: &mut PhysMem, sector: u64) -> KResult<(Pfn, u64)> {
        // axon_ram_direct_access: returns bank->size - offset, the whole rest of the bank.
        // Simplified: 4.0 hands back `ph_addr + offset` itself as *kaddr; DAX Lab reports the
        // linear-map alias of that physical address, which is what a kernel pointer must be.
        let pfn = self.0.frame_of_sector(mem, sector);
        Ok((pfn, self.0.size.saturating_sub(sector * 512)))
    }
    fn bio_map(&mut self, mem: &mut PhysMem, off: u64, _write: bool) -> KResult<(BioTarget, u64)> {
        // axon_ram_make_request: memcpy through the uncached io_addr mapping.
        let pfn = self.0.frame_of_byte(mem, off);
        Ok((
            BioTarget::Memory {
                pfn,
                vaddr: IO_ADDR + off,
            },
            timing::uncached_ns(PAGE_SIZE),
        ))
    }
    fn bio_func(&self, _: bool) -> &'static str {
        "axon_ram_make_request"
    }
    fn cpu_ns(&self, len: u64) -> u64 {
        timing::ram_copy_ns(len)
    }
    fn cpu_frames(&self, mem: &PhysMem) -> Vec<(u64, Pfn)> {
        self.0.frames(mem)
    }
    fn frame(&self, idx: u64) -> Option<Pfn> {
        Some(self.0.pfn(idx * PAGE_SIZE))
    }
    fn page(&self, mem: &PhysMem, idx: u64) -> PageRef {
        self.0.page(mem, idx)
    }
    fn describe(&self) -> String {
        format!(
            "DDR2 bank at phys {:#x}..{:#x}, {} pages, contiguous (direct_access returns the rest of the bank), no struct page",
            self.0.base_phys,
            self.0.base_phys + self.0.size,
            self.0.size / PAGE_SIZE
        )
    }
    fn clone_box(&self) -> Box<dyn BlockDriver> {
        Box::new(self.clone())
    }
}
