//! An ordinary disk: storage the CPU cannot address, slow requests, no `direct_access`.

use super::private::PrivateStore;
use super::{BlockDriver, DeviceKind};
use crate::errno::KResult;
use crate::mem::{Pfn, PhysMem};
use crate::timing;

/// A rotating or flash disk reached only through bios.
#[derive(Debug)]
pub struct Disk {
    size: u64,
    store: PrivateStore,
}

impl Disk {
    /// A disk of `size` bytes.
    pub fn new(size: u64) -> Self {
        Disk {
            size,
            store: PrivateStore::default(),
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
    fn rw(
        &mut self,
        mem: &mut PhysMem,
        off: u64,
        (pfn, foff): (Pfn, usize),
        len: usize,
        write: bool,
    ) -> KResult<u64> {
        self.store.dma(mem, off, pfn, foff, len, write);
        Ok(timing::DISK_REQUEST_NS + timing::disk_transfer_ns(len as u64))
    }
    fn bio_vaddr(&self, _: u64) -> u64 {
        0 // DMA: no CPU address
    }
    fn cpu_ns(&self, _: u64) -> u64 {
        0
    }
    fn describe(&self) -> String {
        format!(
            "disk reached by DMA only; {} pages written",
            self.store.pages()
        )
    }
}
