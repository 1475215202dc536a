//! brd, the RAM disk (`drivers/block/brd.c`, 4.0).

use super::super::chunk_map::ChunkMap;
use super::super::mem::{FrameUse, PageRef, Pfn, PhysMem, PAGE_SIZE, SECTOR_SIZE};
use super::super::DevId;
use super::{BioTarget, BlockDriver, DeviceKind};
use crate::errno::{Errno, KResult};
use crate::timing;

/// A RAM disk: a radix tree (`brd_pages`) of pages allocated zero-filled on first write.
#[derive(Debug, Clone)]
pub struct Brd {
    dev: DevId,
    size: u64,
    /// `CONFIG_BLK_DEV_RAM_DAX` ("depends on BLK_DEV_RAM && FS_DAX"): without it
    /// `brd_direct_access` is `#define`d to NULL.
    dax: bool,
    pages: ChunkMap<Pfn>,
}

impl Brd {
    /// A brd device of `size` bytes (`rd_size`); `dax` when `CONFIG_BLK_DEV_RAM_DAX=y`.
    pub fn new(dev: DevId, size: u64, dax: bool) -> Self {
        Brd {
            dev,
            size,
            dax,
            pages: ChunkMap::new(),
        }
    }

    /// `brd_insert_page`: allocate the backing page for `idx` (`GFP_NOIO | __GFP_ZERO`, never
    /// highmem with DAX, "our ->direct_access routine for DAX must return memory that is always
    /// addressable"). A failed allocation is -ENOSPC.
    fn insert_page(&mut self, mem: &mut PhysMem, idx: u64) -> KResult<Pfn> {
        if let Some(p) = self.pages.get(idx) {
            return Ok(*p);
        }
        let pfn = mem
            .alloc_ram(FrameUse::BrdPage { dev: self.dev, idx })
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
        self.dax
    }
    fn direct_access(&mut self, mem: &mut PhysMem, sector: u64) -> KResult<(Pfn, u64)> {
        // brd_direct_access: page = brd_insert_page(); always PAGE_SIZE, because each page is a
        // separate allocation and only one page is known to be contiguous.
        let idx = sector * SECTOR_SIZE / PAGE_SIZE;
        self.insert_page(mem, idx).map(|pfn| (pfn, PAGE_SIZE))
    }
    fn bio_map(&mut self, mem: &mut PhysMem, off: u64, write: bool) -> KResult<(BioTarget, u64)> {
        let idx = off / PAGE_SIZE;
        let ns = timing::ram_copy_ns(PAGE_SIZE);
        let pfn = if write {
            // copy_to_brd: brd_insert_page, then memcpy under kmap_atomic.
            self.insert_page(mem, idx)?
        } else {
            // copy_from_brd: an absent page reads as zeros and is not allocated.
            match self.pages.get(idx) {
                Some(p) => *p,
                None => return Ok((BioTarget::Zeros, ns)),
            }
        };
        let vaddr = pfn.kaddr() + off % PAGE_SIZE;
        Ok((BioTarget::Memory { pfn, vaddr }, ns))
    }
    fn flushes_dcache(&self) -> bool {
        // brd_do_bvec: flush_dcache_page(page) after copy_from_brd, before copy_to_brd.
        true
    }
    fn bio_func(&self, write: bool) -> &'static str {
        if write {
            "copy_to_brd"
        } else {
            "copy_from_brd"
        }
    }
    fn cpu_ns(&self, len: u64) -> u64 {
        timing::ram_copy_ns(len)
    }
    fn cpu_frames(&self, _: &PhysMem) -> Vec<(u64, Pfn)> {
        self.pages.iter().map(|(i, p)| (i, *p)).collect()
    }
    fn frame(&self, idx: u64) -> Option<Pfn> {
        self.pages.get(idx).copied()
    }
    fn page(&self, mem: &PhysMem, idx: u64) -> PageRef {
        self.pages.get(idx).and_then(|p| mem.page_ref(*p))
    }
    fn describe(&self) -> String {
        format!(
            "RAM pages allocated on first touch: {} of {} allocated{}",
            self.pages.len(),
            self.size / PAGE_SIZE,
            if self.dax {
                ""
            } else {
                "; no direct_access (CONFIG_BLK_DEV_RAM_DAX needs FS_DAX)"
            }
        )
    }
    fn clone_box(&self) -> Box<dyn BlockDriver> {
        Box::new(self.clone())
    }
}
