//! Physical memory: 4 KiB page frames with page frame numbers, RAM and device memory, and the
//! kernel's linear map.
//!
//! Frames hold real bytes, copy-on-write: an untouched or freshly zeroed frame shares no bytes at
//! all (it reads as zeros), and a frame's bytes are copied only when written while a clone of the
//! machine (a checkpoint, an explorer's branch) still holds them.

use std::rc::Rc;

use super::chunk_map::ChunkMap;
use super::{DevId, Pid};
use crate::errno::{Errno, KResult};

/// `PAGE_SIZE` on every architecture DAX Lab models.
pub const PAGE_SIZE: u64 = 4096;
/// `PAGE_SHIFT`.
pub const PAGE_SHIFT: u32 = 12;
/// Sectors are 512 bytes whatever the device's block size (`SECTOR_SHIFT`).
pub const SECTOR_SIZE: u64 = 512;
/// `PAGE_OFFSET` of x86_64 in Linux 4.0: the start of the direct (linear) map of physical memory.
pub const PAGE_OFFSET: u64 = 0xffff_8800_0000_0000;
/// Physical address where RAM starts in the model (the first 16 MiB are left to firmware and
/// the kernel image, as on a PC).
pub const RAM_BASE: u64 = 16 << 20;
/// Physical address where device memory (axonram, dcssblk) is placed: above 4 GiB.
pub const DEVICE_MEM_BASE: u64 = 1 << 32;

/// A page frame number: physical address >> `PAGE_SHIFT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pfn(pub u64);

impl Pfn {
    /// The physical address of the first byte of this frame.
    pub fn phys(self) -> u64 {
        self.0 << PAGE_SHIFT
    }
    /// The kernel virtual address of this frame in the linear map (`__va(phys)`).
    pub fn kaddr(self) -> u64 {
        PAGE_OFFSET + self.phys()
    }
}

/// A page of zeros.
static ZERO: [u8; PAGE_SIZE as usize] = [0; PAGE_SIZE as usize];

/// A page's bytes as the machine holds them (always `PAGE_SIZE` long): shared until written.
/// `None` is a page of zeros.
pub type PageRef = Option<Rc<[u8]>>;

/// The bytes of `p`, zeros if it has none.
pub fn page_bytes(p: &PageRef) -> &[u8] {
    p.as_deref().unwrap_or(&ZERO)
}

/// The bytes of `p` for writing, materialising or un-sharing them first.
pub fn page_bytes_mut(p: &mut PageRef) -> &mut [u8] {
    Rc::make_mut(p.get_or_insert_with(|| Rc::from(&ZERO[..])))
}

/// What a frame is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameUse {
    /// A brd backing page (`brd_insert_page`), index `idx` of a device.
    BrdPage {
        /// The device.
        dev: DevId,
        /// Page index within the device (`sector >> PAGE_SECTORS_SHIFT`).
        idx: u64,
    },
    /// A page-cache page of an inode.
    PageCache {
        /// Inode number.
        ino: u64,
        /// Page index within the file.
        index: u64,
    },
    /// A zeroed page-cache page that `dax_load_hole` maps for a read fault on a hole (4.0).
    HolePage {
        /// Inode number.
        ino: u64,
        /// Page index within the file.
        index: u64,
    },
    /// An anonymous page of a process (a MAP_PRIVATE copy-on-write copy).
    Anon {
        /// The process.
        pid: Pid,
    },
    /// A page of a program's I/O buffer (what `read()` and `write()` copy to and from).
    UserBuffer {
        /// The process.
        pid: Pid,
    },
    /// A page the kernel uses for itself (a `vmalloc` buffer, a pipe's page, a bounce page).
    Kernel,
    /// A page of a loaded module's code and data (`module_alloc`).
    Module {
        /// The module, by load order.
        module: u16,
    },
    /// Memory of a device that is CPU-addressable (axonram, dcssblk): no `struct page` in 4.0.
    DeviceMemory {
        /// The device.
        dev: DevId,
    },
}

impl FrameUse {
    /// Whether 4.0 has a `struct page` for this frame (RAM has; device memory has not).
    pub fn has_struct_page(self) -> bool {
        !matches!(self, FrameUse::DeviceMemory { .. })
    }
}

/// A materialised frame.
#[derive(Debug, Clone)]
pub struct Frame {
    /// The bytes.
    pub data: PageRef,
    /// What the frame holds.
    pub usage: FrameUse,
    /// `page->_count` of a RAM page: its allocator's reference plus every `get_page`. The frame
    /// is freed when the last one is put (`put_page`). 0 for device memory.
    pub refs: u32,
}

/// What a frame not yet materialised is, given the ranges of device memory: its device's
/// memory, or kernel RAM.
fn fresh_usage(devices: &[(u64, u64, DevId)], pfn: Pfn) -> FrameUse {
    match devices
        .iter()
        .find(|(first, n, _)| (*first..first + n).contains(&pfn.0))
    {
        Some((_, _, dev)) => FrameUse::DeviceMemory { dev: *dev },
        None => FrameUse::Kernel,
    }
}

/// All physical memory of the machine.
#[derive(Debug, Clone)]
pub struct PhysMem {
    frames: ChunkMap<Frame>,
    ram_pages: u64,
    ram_next: u64,
    /// Freed RAM frames, a stack: the most recently freed is handed out first, as the
    /// kernel's allocator hands out cache-hot pages (and it is deterministic).
    ram_free: ChunkMap<u64>,
    /// Accesses to RAM frames that were not allocated: a bug of the model, never of the kernel
    /// it models (the tests check that it stays 0).
    strays: std::cell::Cell<u32>,
    /// CPU-addressable device memory: first frame, frame count, owner (a frame of these
    /// ranges written before anyone registered it is that device's memory).
    devices: Vec<(u64, u64, DevId)>,
}

impl PhysMem {
    /// Memory with `ram_bytes` of RAM (rounded down to pages).
    pub fn new(ram_bytes: u64) -> Self {
        PhysMem {
            frames: ChunkMap::new(),
            ram_pages: ram_bytes / PAGE_SIZE,
            ram_next: 0,
            ram_free: ChunkMap::new(),
            strays: std::cell::Cell::new(0),
            devices: Vec::new(),
        }
    }

    /// Frames `[first, first+count)` are device `dev`'s memory.
    pub fn add_device_range(&mut self, first: Pfn, count: u64, dev: DevId) {
        self.devices.push((first.0, count, dev));
    }

    /// The ranges of CPU-addressable device memory: first frame, frame count, owner. None of
    /// their frames has a `struct page` in 4.0 (no `mem_map` entry, `pfn_valid` false).
    pub fn device_ranges(&self) -> impl Iterator<Item = (Pfn, u64, DevId)> + '_ {
        self.devices.iter().map(|(f, n, d)| (Pfn(*f), *n, *d))
    }

    /// RAM frames in the machine.
    pub fn ram_pages(&self) -> u64 {
        self.ram_pages
    }

    /// Allocate a zeroed RAM page (`alloc_page(GFP_KERNEL | __GFP_ZERO)`): the most recently
    /// freed frame, else the next never used. The zeroing is free: the page shares no bytes yet.
    pub fn alloc_ram(&mut self, usage: FrameUse) -> KResult<Pfn> {
        let top = self.ram_free.len() as u64;
        let n = if let Some(n) = top.checked_sub(1).and_then(|i| self.ram_free.remove(i)) {
            n
        } else if self.ram_next < self.ram_pages {
            self.ram_next += 1;
            self.ram_next - 1
        } else {
            return Err(Errno::ENOMEM);
        };
        let pfn = Pfn(RAM_BASE / PAGE_SIZE + n);
        self.frames.insert(
            pfn.0,
            Frame {
                data: None,
                usage,
                refs: 1,
            },
        );
        Ok(pfn)
    }

    /// `get_page`: one more reference to a RAM page, so that it outlives its removal from
    /// wherever it was (a reader's page that truncate deletes from the page cache).
    pub fn get_page(&mut self, pfn: Pfn) {
        match self.frames.get_mut(pfn.0) {
            Some(f) if f.refs > 0 => f.refs += 1,
            _ => self.strays.set(self.strays.get() + 1),
        }
    }

    /// `put_page`: drop a reference to a RAM page; the last one frees it.
    pub fn put_page(&mut self, pfn: Pfn) {
        let last = match self.frames.get_mut(pfn.0) {
            Some(f) if f.refs > 0 => {
                f.refs -= 1;
                f.refs == 0
            }
            _ => {
                self.strays.set(self.strays.get() + 1);
                false
            }
        };
        if last {
            self.frames.remove(pfn.0);
            if let Some(n) = pfn.0.checked_sub(RAM_BASE / PAGE_SIZE) {
                if n < self.ram_next {
                    let top = self.ram_free.len() as u64;
                    self.ram_free.insert(top, n);
                }
            }
        }
    }

    /// References to a RAM page (`page_count`); 0 if it is not allocated.
    pub fn page_count(&self, pfn: Pfn) -> u32 {
        self.frames.get(pfn.0).map_or(0, |f| f.refs)
    }

    /// How many times the model touched a RAM frame that was not allocated (a use after free
    /// in the model itself). Always 0 unless the model has a bug.
    pub fn strays(&self) -> u32 {
        self.strays.get()
    }

    /// Count an access to `pfn` if it is RAM that is not allocated.
    fn check(&self, pfn: Pfn) {
        if !self.frames.contains_key(pfn.0) {
            self.stray(pfn);
        }
    }

    /// `pfn` was accessed and has no frame: a stray if it is RAM.
    fn stray(&self, pfn: Pfn) {
        if pfn.phys() >= RAM_BASE && pfn.phys() < DEVICE_MEM_BASE {
            self.strays.set(self.strays.get() + 1);
        }
    }

    /// Whether `pfn` is a RAM frame in use.
    pub fn is_allocated(&self, pfn: Pfn) -> bool {
        self.frames.contains_key(pfn.0)
    }

    /// Register a device-memory frame's owner (it reads as zeros until written).
    pub fn touch_device(&mut self, pfn: Pfn, dev: DevId) {
        if !self.frames.contains_key(pfn.0) {
            self.frames.insert(
                pfn.0,
                Frame {
                    data: None,
                    usage: FrameUse::DeviceMemory { dev },
                    refs: 0,
                },
            );
        }
    }

    /// The bytes of a frame (zeros if never written).
    pub fn page(&self, pfn: Pfn) -> &[u8] {
        self.check(pfn);
        match self.frames.get(pfn.0) {
            Some(f) => page_bytes(&f.data),
            None => page_bytes(&None),
        }
    }

    /// A frame's bytes as a shared reference (for a result that keeps them without a copy).
    pub fn page_ref(&self, pfn: Pfn) -> PageRef {
        self.check(pfn);
        self.frames.get(pfn.0).and_then(|f| f.data.clone())
    }

    /// The bytes of a frame for writing.
    pub fn page_mut(&mut self, pfn: Pfn) -> &mut [u8] {
        self.check(pfn);
        let devices = &self.devices;
        let f = self.frames.get_or_insert_with(pfn.0, || Frame {
            data: None,
            usage: fresh_usage(devices, pfn),
            refs: 0,
        });
        page_bytes_mut(&mut f.data)
    }

    /// Read bytes of a frame.
    pub fn read(&self, pfn: Pfn, off: usize, dst: &mut [u8]) {
        dst.copy_from_slice(&self.page(pfn)[off..off + dst.len()]);
    }

    /// Write bytes into a frame. Bytes already there are not written again: a page a
    /// checkpoint shares is copied only when its content really changes (rereading a file into
    /// the same buffer keeps sharing).
    pub fn write(&mut self, pfn: Pfn, off: usize, src: &[u8]) {
        if let Some(Frame { data: Some(d), .. }) = self.frames.get(pfn.0) {
            if Rc::strong_count(d) > 1 && d[off..off + src.len()] == *src {
                return;
            }
        }
        self.page_mut(pfn)[off..off + src.len()].copy_from_slice(src);
    }

    /// Zero bytes of a frame. A whole page drops its bytes (it shares the zero page again).
    pub fn zero(&mut self, pfn: Pfn, off: usize, len: usize) {
        self.check(pfn);
        if off == 0 && len == PAGE_SIZE as usize {
            if let Some(f) = self.frames.get_mut(pfn.0) {
                f.data = None;
            }
            return;
        }
        self.page_mut(pfn)[off..off + len].fill(0);
    }

    /// Copy between two frames (`memcpy` between two kernel addresses). Bytes already there
    /// are not written again, so a page a checkpoint shares stays shared when unchanged.
    pub fn copy(&mut self, src: Pfn, src_off: usize, dst: Pfn, dst_off: usize, len: usize) {
        // One lookup of each frame on the way (this is every copy's path).
        let data = match self.frames.get(src.0) {
            Some(f) => f.data.clone(),
            None => {
                self.stray(src);
                None
            }
        };
        let s = &page_bytes(&data)[src_off..src_off + len];
        // Checked before the frame map is touched for writing, which would copy its node.
        match self.frames.get(dst.0) {
            Some(Frame { data: Some(d), .. })
                if Rc::strong_count(d) > 1 && d[dst_off..dst_off + len] == *s =>
            {
                return
            }
            None => self.stray(dst),
            Some(_) => {}
        }
        let devices = &self.devices;
        let f = self.frames.get_or_insert_with(dst.0, || Frame {
            data: None,
            usage: fresh_usage(devices, dst),
            refs: 0,
        });
        match &mut f.data {
            // A whole page over a page someone else still holds (a checkpoint, an earlier
            // result): new bytes, copied once (not un-shared first and then overwritten).
            Some(d) if len == PAGE_SIZE as usize && Rc::strong_count(d) > 1 => *d = Rc::from(s),
            Some(d) => Rc::make_mut(d)[dst_off..dst_off + len].copy_from_slice(s),
            // A whole page into an empty frame: new bytes, copied once (no zeroing first).
            None if len == PAGE_SIZE as usize => f.data = Some(Rc::from(s)),
            None => page_bytes_mut(&mut f.data)[dst_off..dst_off + len].copy_from_slice(s),
        }
    }

    /// A frame if it has been materialised.
    pub fn get(&self, pfn: Pfn) -> Option<&Frame> {
        self.frames.get(pfn.0)
    }

    /// Materialised frames in `[first, last)`, in order.
    pub fn frames_in(&self, first: Pfn, last: Pfn) -> impl Iterator<Item = (Pfn, &Frame)> {
        self.frames.range(first.0..last.0).map(|(p, f)| (Pfn(p), f))
    }

    /// Every materialised frame, in pfn order (for the views).
    pub fn frames(&self) -> impl Iterator<Item = (Pfn, &Frame)> {
        self.frames.iter().map(|(p, f)| (Pfn(p), f))
    }

    /// RAM frames in use.
    pub fn ram_in_use(&self) -> u64 {
        self.ram_next - self.ram_free.len() as u64
    }
}
