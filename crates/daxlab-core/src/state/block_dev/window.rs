//! A device that pages a large memory through a small window (e.g. a PCI BAR with a bank
//! register). It must not implement `direct_access`: a pfn handed out for the window would
//! silently show other data once the driver moves the window. With `pretend` it offers
//! `direct_access` anyway, so the learner can watch exactly that happen.

use super::super::mem::{PageRef, Pfn, PhysMem, PAGE_SIZE};
use super::storage::DmaStore;
use super::{BioTarget, BlockDriver, DeviceKind, DeviceNote};
use crate::errno::KResult;
use crate::timing;

/// Size of the CPU-visible window.
pub const WINDOW_SIZE: u64 = 64 << 10;

/// The windowed device: the CPU sees `WINDOW_SIZE` bytes (the aperture frames at `base_phys`)
/// of a larger memory; the bank register says which slice.
#[derive(Debug, Clone)]
pub struct Window {
    size: u64,
    pretend: bool,
    base_phys: u64,
    /// The memory behind the window, slice by slice (the aperture holds the current slice).
    store: DmaStore,
    /// Which `WINDOW_SIZE` slice of the device the window shows now.
    window: u64,
    moves: u64,
    note: Option<DeviceNote>,
}

impl Window {
    /// A windowed device of `size` bytes whose aperture sits at `base_phys`.
    pub fn new(size: u64, pretend: bool, base_phys: u64) -> Self {
        Window {
            size,
            pretend,
            base_phys,
            store: DmaStore::default(),
            window: 0,
            moves: 0,
            note: None,
        }
    }

    fn aperture(&self, i: u64) -> Pfn {
        Pfn(self.base_phys / PAGE_SIZE + i)
    }

    /// Point the window at the slice holding device byte `off`: the hardware writes the
    /// aperture back to the slice it showed and fills it from the new one. Returns the time.
    fn select(&mut self, mem: &mut PhysMem, off: u64) -> u64 {
        let w = off / WINDOW_SIZE;
        if w == self.window {
            return 0;
        }
        let per = WINDOW_SIZE / PAGE_SIZE;
        for i in 0..per {
            let ap = self.aperture(i);
            self.store.set_page(self.window * per + i, mem.page_ref(ap));
            let incoming = self.store.page(w * per + i);
            let bytes = mem.page_mut(ap);
            match incoming {
                Some(p) => bytes.copy_from_slice(&p[..]),
                None => bytes.fill(0),
            }
        }
        self.note = Some(DeviceNote::WindowMoved {
            from: self.window * WINDOW_SIZE,
            to: w * WINDOW_SIZE,
        });
        self.window = w;
        self.moves += 1;
        timing::WINDOW_MOVE_NS
    }
}

impl BlockDriver for Window {
    fn kind(&self) -> DeviceKind {
        DeviceKind::Window
    }
    fn size(&self) -> u64 {
        self.size
    }
    fn has_direct_access(&self) -> bool {
        self.pretend
    }
    fn direct_access(&mut self, mem: &mut PhysMem, sector: u64) -> KResult<(Pfn, u64)> {
        // pretend: the only address the CPU has for this sector is in the window, and only
        // while the window shows its slice.
        let off = sector * 512;
        self.select(mem, off);
        let in_window = off % WINDOW_SIZE;
        Ok((
            self.aperture(in_window / PAGE_SIZE),
            WINDOW_SIZE - in_window,
        ))
    }
    fn bio_map(&mut self, mem: &mut PhysMem, off: u64, _write: bool) -> KResult<(BioTarget, u64)> {
        // Reprogram the window base register if needed, then memcpy through the window.
        let ns = self.select(mem, off) + timing::uncached_ns(PAGE_SIZE);
        let pfn = self.aperture((off % WINDOW_SIZE) / PAGE_SIZE);
        Ok((
            BioTarget::Memory {
                pfn,
                vaddr: pfn.kaddr() + off % PAGE_SIZE,
            },
            ns,
        ))
    }
    fn cpu_ns(&self, len: u64) -> u64 {
        timing::uncached_ns(len)
    }
    fn cpu_frames(&self, _: &PhysMem) -> Vec<(u64, Pfn)> {
        let per = WINDOW_SIZE / PAGE_SIZE;
        (0..per)
            .map(|i| (self.window * per + i, self.aperture(i)))
            .collect()
    }
    fn take_note(&mut self) -> Option<DeviceNote> {
        self.note.take()
    }
    fn page(&self, mem: &PhysMem, idx: u64) -> PageRef {
        // The slice the window shows lives in the aperture until the window moves.
        let per = WINDOW_SIZE / PAGE_SIZE;
        if idx / per == self.window {
            mem.page_ref(self.aperture(idx % per))
        } else {
            self.store.page(idx)
        }
    }
    fn describe(&self) -> String {
        format!(
            "{} KiB window onto {} MiB, now at offset {:#x} (moved {} times){}",
            WINDOW_SIZE >> 10,
            self.size >> 20,
            self.window * WINDOW_SIZE,
            self.moves,
            if self.pretend {
                "; pretends to offer direct_access"
            } else {
                ""
            }
        )
    }
    fn clone_box(&self) -> Box<dyn BlockDriver> {
        Box::new(self.clone())
    }
}
