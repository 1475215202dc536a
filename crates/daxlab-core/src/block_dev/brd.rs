//! brd, the RAM disk (`drivers/block/brd.c`, 4.0, `CONFIG_BLK_DEV_RAM_DAX=y`).

use std::collections::BTreeMap;
use std::rc::Rc;

use super::{BlockDriver, DeviceKind};
use crate::errno::{Errno, KResult};
use crate::mem::{FrameUse, Pfn, PhysMem, PAGE_SIZE, SECTOR_SIZE};
use crate::timing;

/// A RAM disk: a radix tree (`brd_pages`) of pages allocated zero-filled on first write.
#[derive(Debug)]
pub struct Brd {
    name: Rc<str>,
    size: u64,
    pages: BTreeMap<u64, Pfn>,
}

impl Brd {
    /// A brd device of `size` bytes (`rd_size`).
    pub fn new(name: Rc<str>, size: u64) -> Self {
        Brd {
            name,
            size,
            pages: BTreeMap::new(),
        }
    }

    /// `brd_insert_page`: allocate the backing page for `idx` (`GFP_NOIO | __GFP_ZERO`, never
    /// highmem with DAX, "our ->direct_access routine for DAX must return memory that is always
    /// addressable"). A failed allocation is -ENOSPC.
    fn insert_page(&mut self, mem: &mut PhysMem, idx: u64) -> KResult<Pfn> {
        if let Some(p) = self.pages.get(&idx) {
            return Ok(*p);
        }
        let pfn = mem
            .alloc_ram(FrameUse::BrdPage {
                dev: self.name.to_string(),
                idx,
            })
            .map_err(|_| Errno::ENOSPC)?;
        self.pages.insert(idx, pfn);
        Ok(pfn)
    }
}

impl BlockDriver for Brd {
    fn kind(&self) -> DeviceKind {
        DeviceKind::Brd
    }
    fn size(&self) -> u64 {
        self.size
    }
    fn has_direct_access(&self) -> bool {
        true // CONFIG_BLK_DEV_RAM_DAX=y
    }
    fn direct_access(&mut self, mem: &mut PhysMem, sector: u64) -> KResult<(Pfn, u64)> {
        // brd_direct_access: page = brd_insert_page(); always PAGE_SIZE, because each page is a
        // separate allocation and only one page is known to be contiguous.
        let idx = sector * SECTOR_SIZE / PAGE_SIZE;
        self.insert_page(mem, idx).map(|pfn| (pfn, PAGE_SIZE))
    }
    fn rw(
        &mut self,
        mem: &mut PhysMem,
        off: u64,
        (pfn, foff): (Pfn, usize),
        len: usize,
        write: bool,
    ) -> KResult<u64> {
        let idx = off / PAGE_SIZE;
        let doff = (off % PAGE_SIZE) as usize;
        if write {
            // copy_to_brd: brd_insert_page, then memcpy under kmap_atomic.
            let p = self.insert_page(mem, idx)?;
            mem.copy(pfn, foff, p, doff, len);
        } else {
            // copy_from_brd: an absent page reads as zeros and is not allocated.
            match self.pages.get(&idx) {
                Some(p) => mem.copy(*p, doff, pfn, foff, len),
                None => mem.zero(pfn, foff, len),
            }
        }
        Ok(timing::ram_copy_ns(len as u64))
    }
    fn bio_func(&self, write: bool) -> &'static str {
        if write {
            "copy_to_brd"
        } else {
            "copy_from_brd"
        }
    }
    fn bio_vaddr(&self, off: u64) -> u64 {
        self.pages
            .get(&(off / PAGE_SIZE))
            .map_or(0, |p| p.kaddr() + off % PAGE_SIZE)
    }
    fn cpu_ns(&self, len: u64) -> u64 {
        timing::ram_copy_ns(len)
    }
    fn cpu_frames(&self, _: &PhysMem) -> Vec<(u64, Pfn)> {
        self.pages.iter().map(|(i, p)| (*i, *p)).collect()
    }
    fn describe(&self) -> String {
        format!(
            "RAM pages allocated on first touch: {} of {} allocated",
            self.pages.len(),
            self.size / PAGE_SIZE
        )
    }
}
