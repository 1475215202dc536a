//! dcssblk, z/VM Discontiguous Saved Segments (`drivers/s390/block/dcssblk.c`, 4.0).

use super::super::mem::{PageRef, Pfn, PhysMem, PAGE_SIZE};
use super::super::DevId;
use super::storage::ContiguousMemory;
use super::{BioTarget, BlockDriver, DeviceKind};
use crate::errno::KResult;
use crate::timing;

/// A DCSS loaded with `segment_load`: hypervisor memory, contiguous, CPU-addressable at all times.
#[derive(Debug, Clone)]
pub struct Dcssblk(ContiguousMemory);

impl Dcssblk {
    /// A segment of `size` bytes loaded at physical address `start`.
    pub fn new(dev: DevId, size: u64, start: u64) -> Self {
        Dcssblk(ContiguousMemory {
            dev,
            size,
            base_phys: start,
        })
    }
}

impl BlockDriver for Dcssblk {
    fn kind(&self) -> DeviceKind {
        DeviceKind::Dcssblk
    }
    fn size(&self) -> u64 {
        self.0.size
    }
    fn has_direct_access(&self) -> bool {
        true
    }
    fn direct_access(&mut self, mem: &mut PhysMem, sector: u64) -> KResult<(Pfn, u64)> {
        // dcssblk_direct_access: "dev_sz = dev_info->end - dev_info->start; offset = secnum *
        // 512; ... return dev_sz - offset;" where segment_load() sets `end` to the segment's
        // last byte, not one past it: the length is one byte short of the rest of the segment,
        // so the last page offers 4095 bytes and dax_insert_mapping refuses it (-EIO).
        let pfn = self.0.frame_of_sector(mem, sector);
        let dev_sz = self.0.size - 1;
        Ok((pfn, dev_sz.saturating_sub(sector * 512)))
    }
    fn bio_map(&mut self, mem: &mut PhysMem, off: u64, _write: bool) -> KResult<(BioTarget, u64)> {
        // dcssblk_make_request: memcpy to/from dev_info->start + offset.
        let pfn = self.0.frame_of_byte(mem, off);
        Ok((
            BioTarget::Memory {
                pfn,
                vaddr: self.0.pfn(off).kaddr() + off % crate::state::mem::PAGE_SIZE,
            },
            timing::ram_copy_ns(crate::state::mem::PAGE_SIZE),
        ))
    }
    fn bio_func(&self, _: bool) -> &'static str {
        "dcssblk_make_request"
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
            "z/VM segment at phys {:#x}..{:#x}, contiguous (direct_access returns end - start - offset, with end the last byte: one byte short)",
            self.0.base_phys,
            self.0.base_phys + self.0.size
        )
    }
    fn clone_box(&self) -> Box<dyn BlockDriver> {
        Box::new(self.clone())
    }
}
