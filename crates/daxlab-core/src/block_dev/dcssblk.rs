//! dcssblk, z/VM Discontiguous Saved Segments (`drivers/s390/block/dcssblk.c`, 4.0).

use std::rc::Rc;

use super::private::ContiguousMemory;
use super::{BlockDriver, DeviceKind};
use crate::errno::KResult;
use crate::mem::{Pfn, PhysMem};
use crate::timing;

/// A DCSS loaded with `segment_load`: hypervisor memory, contiguous, CPU-addressable at all times.
#[derive(Debug)]
pub struct Dcssblk(ContiguousMemory);

impl Dcssblk {
    /// A segment of `size` bytes loaded at physical address `start`.
    pub fn new(name: Rc<str>, size: u64, start: u64) -> Self {
        Dcssblk(ContiguousMemory {
            name,
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
        // dcssblk_direct_access: *kaddr = start + offset; returns dev_sz - offset.
        Ok(self.0.direct_access(mem, sector))
    }
    fn rw(
        &mut self,
        mem: &mut PhysMem,
        off: u64,
        (pfn, foff): (Pfn, usize),
        len: usize,
        write: bool,
    ) -> KResult<u64> {
        // dcssblk_make_request: memcpy to/from dev_info->start + offset.
        self.0.copy(mem, off, pfn, foff, len, write);
        Ok(timing::ram_copy_ns(len as u64))
    }
    fn bio_func(&self, _: bool) -> &'static str {
        "dcssblk_make_request"
    }
    fn bio_vaddr(&self, off: u64) -> u64 {
        self.0.pfn(off).kaddr() + off % crate::mem::PAGE_SIZE
    }
    fn cpu_ns(&self, len: u64) -> u64 {
        timing::ram_copy_ns(len)
    }
    fn cpu_frames(&self, mem: &PhysMem) -> Vec<(u64, Pfn)> {
        self.0.frames(mem)
    }
    fn describe(&self) -> String {
        format!(
            "z/VM segment at phys {:#x}..{:#x}, contiguous (direct_access returns dev_sz - offset)",
            self.0.base_phys,
            self.0.base_phys + self.0.size
        )
    }
}
