//! The two kinds of backing store the drivers share: storage only DMA reaches, and device
//! memory the CPU addresses at all times.

use super::super::chunk_map::ChunkMap;
use super::super::mem::{page_bytes, page_bytes_mut, PageRef, Pfn, PhysMem, PAGE_SIZE};
use super::super::DevId;

/// A sparse store of device pages the CPU cannot address; untouched pages read as zeros.
#[derive(Debug, Clone, Default)]
pub(super) struct DmaStore {
    pages: ChunkMap<PageRef>,
}

impl DmaStore {
    /// DMA between device byte `off` (within one device page) and a frame.
    pub(super) fn dma(
        &mut self,
        mem: &mut PhysMem,
        off: u64,
        pfn: Pfn,
        foff: usize,
        len: usize,
        write: bool,
    ) {
        let idx = off / PAGE_SIZE;
        let doff = (off % PAGE_SIZE) as usize;
        if write {
            let page = page_bytes_mut(self.pages.get_or_insert_with(idx, || None));
            page[doff..doff + len].copy_from_slice(&mem.page(pfn)[foff..foff + len]);
        } else {
            let src = self.pages.get(idx).and_then(|p| p.clone());
            mem.page_mut(pfn)[foff..foff + len]
                .copy_from_slice(&page_bytes(&src)[doff..doff + len]);
        }
    }

    /// The bytes of device page `idx`.
    pub(super) fn page(&self, idx: u64) -> PageRef {
        self.pages.get(idx).and_then(|p| p.clone())
    }

    /// Replace device page `idx`.
    pub(super) fn set_page(&mut self, idx: u64, data: PageRef) {
        self.pages.insert(idx, data);
    }

    /// Pages written so far.
    pub(super) fn pages(&self) -> usize {
        self.pages.len()
    }
}

/// Device memory the CPU can address at all times (axonram, dcssblk): one contiguous physical
/// range, materialised frame by frame on first touch.
#[derive(Debug, Clone)]
pub(super) struct ContiguousMemory {
    pub(super) dev: DevId,
    pub(super) size: u64,
    pub(super) base_phys: u64,
}

impl ContiguousMemory {
    /// The frame holding device byte `off`.
    pub(super) fn pfn(&self, off: u64) -> Pfn {
        Pfn((self.base_phys + off) / PAGE_SIZE)
    }

    /// The bytes of device page `idx`.
    pub(super) fn page(&self, mem: &PhysMem, idx: u64) -> PageRef {
        mem.page_ref(self.pfn(idx * PAGE_SIZE))
    }

    /// Frames of this device that have been touched: (device page index, pfn).
    pub(super) fn frames(&self, mem: &PhysMem) -> Vec<(u64, Pfn)> {
        let first = self.base_phys / PAGE_SIZE;
        let last = first + self.size / PAGE_SIZE;
        mem.frames_in(Pfn(first), Pfn(last))
            .map(|(p, _)| (p.0 - first, p))
            .collect()
    }

    /// The frame holding device byte `off`, registered as this device's memory.
    pub(super) fn frame_of_byte(&self, mem: &mut PhysMem, off: u64) -> Pfn {
        let pfn = self.pfn(off);
        mem.touch_device(pfn, self.dev);
        pfn
    }

    /// The frame of `sector`, registered as this device's memory.
    pub(super) fn frame_of_sector(&self, mem: &mut PhysMem, sector: u64) -> Pfn {
        self.frame_of_byte(mem, sector * crate::state::mem::SECTOR_SIZE)
    }
}
