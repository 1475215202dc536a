//! A device that pages a large memory through a small window (e.g. a PCI BAR with a bank
//! register). It must not implement `direct_access`: a pfn handed out for the window would
//! silently show other data once the driver moves the window.

use super::private::PrivateStore;
use super::{BlockDriver, DeviceKind};
use crate::errno::KResult;
use crate::mem::{Pfn, PhysMem};
use crate::timing;

/// Size of the CPU-visible window.
pub const WINDOW_SIZE: u64 = 64 << 10;

/// The windowed device.
#[derive(Debug)]
pub struct Window {
    size: u64,
    store: PrivateStore,
    /// Which `WINDOW_SIZE` slice of the device the window shows now.
    window: u64,
    moves: u64,
}

impl Window {
    /// A windowed device of `size` bytes.
    pub fn new(size: u64) -> Self {
        Window {
            size,
            store: PrivateStore::default(),
            window: 0,
            moves: 0,
        }
    }
}

impl BlockDriver for Window {
    fn kind(&self) -> DeviceKind {
        DeviceKind::Window
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
        let w = off / WINDOW_SIZE;
        let mut ns = timing::uncached_ns(len as u64);
        if w != self.window {
            // Reprogram the window base register before the access.
            self.window = w;
            self.moves += 1;
            ns += timing::WINDOW_MOVE_NS;
        }
        self.store.dma(mem, off, pfn, foff, len, write);
        Ok(ns)
    }
    fn bio_vaddr(&self, off: u64) -> u64 {
        0xffff_c900_1000_0000 + off % WINDOW_SIZE
    }
    fn cpu_ns(&self, len: u64) -> u64 {
        timing::uncached_ns(len)
    }
    fn describe(&self) -> String {
        format!(
            "{} KiB window onto {} MiB, now at offset {:#x} (moved {} times)",
            WINDOW_SIZE >> 10,
            self.size >> 20,
            self.window * WINDOW_SIZE,
            self.moves
        )
    }
}
