//! An ordinary disk: storage the CPU cannot address, slow requests, no `direct_access`.

use super::super::mem::{PageRef, Pfn, PhysMem, PAGE_SIZE};
use super::storage::DmaStore;
use super::{BioTarget, BlockDriver, DeviceKind};
use crate::errno::KResult;
use crate::timing;

/// A rotating or flash disk reached only through bios.
#[derive(Debug, Clone)]
pub struct Disk {
    size: u64,
    store: DmaStore,
}

impl Disk {
    /// A disk of `size` bytes.
    pub fn new(size: u64) -> Self {
        Disk {
            size,
            store: DmaStore::default(),
        }
    }
}

impl BlockDriver for Disk {
    fn kind(&self) -> DeviceKind {
        DeviceKind::Disk
    }
    fn size(&self) -> u64 {
        self.size
    }
    fn bio_map(
        &mut self,
        _mem: &mut PhysMem,
        _off: u64,
        _write: bool,
    ) -> KResult<(BioTarget, u64)> {
        Ok((
            BioTarget::Dma,
            timing::DISK_REQUEST_NS + timing::disk_transfer_ns(PAGE_SIZE),
        ))
    }
    fn dma(&mut self, mem: &mut PhysMem, off: u64, pfn: Pfn, foff: usize, len: usize, write: bool) {
        self.store.dma(mem, off, pfn, foff, len, write);
    }
    fn cpu_ns(&self, _: u64) -> u64 {
        0
    }
    fn page(&self, _: &PhysMem, idx: u64) -> PageRef {
        self.store.page(idx)
    }
    fn describe(&self) -> String {
        format!(
            "disk reached by DMA only; {} pages written",
            self.store.pages()
        )
    }
    fn clone_box(&self) -> Box<dyn BlockDriver> {
        Box::new(self.clone())
    }
}
