//! Storage the CPU cannot address: the bytes live on the device and move only by DMA (bio).

use std::collections::BTreeMap;

use crate::mem::{PageBytes, Pfn, PhysMem, PAGE_SIZE};

/// A sparse store of device pages; untouched pages read as zeros.
#[derive(Debug, Default)]
pub(super) struct PrivateStore {
    pages: BTreeMap<u64, PageBytes>,
}

impl PrivateStore {
    /// DMA between device byte `off` and a frame.
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
            let page = self
                .pages
                .entry(idx)
                .or_insert_with(|| Box::new([0u8; PAGE_SIZE as usize]));
            mem.read(pfn, foff, &mut page[doff..doff + len]);
        } else {
            match self.pages.get(&idx) {
                Some(p) => mem.write(pfn, foff, &p[doff..doff + len]),
                None => mem.zero(pfn, foff, len),
            }
        }
    }

    /// Pages written so far.
    pub(super) fn pages(&self) -> usize {
        self.pages.len()
    }
}

/// Device memory the CPU can address at all times (axonram, dcssblk): one contiguous physical
/// range, materialised frame by frame on first touch.
#[derive(Debug)]
pub(super) struct ContiguousMemory {
    pub(super) name: std::rc::Rc<str>,
    pub(super) size: u64,
    pub(super) base_phys: u64,
}

impl ContiguousMemory {
    /// The frame holding device byte `off`.
    pub(super) fn pfn(&self, off: u64) -> Pfn {
        Pfn((self.base_phys + off) / PAGE_SIZE)
    }

    /// `memcpy` between the device memory and a frame (the drivers' bio paths).
    pub(super) fn copy(
        &self,
        mem: &mut PhysMem,
        off: u64,
        pfn: Pfn,
        foff: usize,
        len: usize,
        write: bool,
    ) {
        let dev = self.pfn(off);
        let doff = (off % PAGE_SIZE) as usize;
        mem.touch_device(dev, &self.name);
        if write {
            mem.copy(pfn, foff, dev, doff, len);
        } else {
            mem.copy(dev, doff, pfn, foff, len);
        }
    }

    /// Frames of this device that have been touched: (device page index, pfn).
    pub(super) fn frames(&self, mem: &PhysMem) -> Vec<(u64, Pfn)> {
        let first = self.base_phys / PAGE_SIZE;
        let last = first + self.size / PAGE_SIZE;
        mem.frames_in(Pfn(first), Pfn(last))
            .into_iter()
            .map(|p| (p.0 - first, p))
            .collect()
    }

    /// `direct_access` of a contiguous device: the pfn of the sector and the rest of the device
    /// (`bank->size - offset`, `dev_sz - offset`).
    pub(super) fn direct_access(&self, mem: &mut PhysMem, sector: u64) -> (Pfn, u64) {
        let off = sector * crate::mem::SECTOR_SIZE;
        let pfn = self.pfn(off);
        mem.touch_device(pfn, &self.name);
        (pfn, self.size.saturating_sub(off))
    }
}
