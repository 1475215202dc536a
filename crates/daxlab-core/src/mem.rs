//! Physical memory: 4 KiB page frames with page frame numbers, RAM and device memory, and the
//! kernel's linear map.
//!
//! Frames hold real bytes and are materialised on first touch, so a 1 GiB device costs nothing
//! until it is used.

use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use serde::Serialize;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
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

/// One page of bytes.
pub type PageBytes = Box<[u8; PAGE_SIZE as usize]>;

fn zeroed_page() -> PageBytes {
    vec![0u8; PAGE_SIZE as usize]
        .into_boxed_slice()
        .try_into()
        .unwrap_or_else(|_| unreachable!("a PAGE_SIZE vector converts to a page"))
}

/// What a RAM frame is used for; device-memory frames belong to their device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "use", rename_all = "snake_case")]
pub enum FrameUse {
    /// A brd backing page (`brd_insert_page`), index `idx` of device `dev`.
    BrdPage {
        /// Device name.
        dev: String,
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
    /// An anonymous page (a MAP_PRIVATE copy-on-write copy).
    Anon,
    /// Memory of a device that is CPU-addressable (axonram, dcssblk): no `struct page` in 4.0.
    DeviceMemory {
        /// Device name.
        dev: String,
    },
}

/// A materialised frame.
#[derive(Debug)]
pub struct Frame {
    /// The bytes.
    pub data: PageBytes,
    /// What the frame holds.
    pub usage: FrameUse,
}

/// Hashes a pfn with one multiplication: frames are looked up on every access, and pfns are
/// not attacker-chosen, so SipHash's protection buys nothing here.
#[derive(Default)]
pub struct PfnHasher(u64);

impl Hasher for PfnHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// All physical memory of the machine.
#[derive(Debug)]
pub struct PhysMem {
    frames: HashMap<Pfn, Frame, BuildHasherDefault<PfnHasher>>,
    ram_pages: u64,
    ram_next: u64,
    ram_free: BTreeSet<u64>,
}

impl PhysMem {
    /// Memory with `ram_bytes` of RAM (rounded down to pages).
    pub fn new(ram_bytes: u64) -> Self {
        PhysMem {
            frames: HashMap::default(),
            ram_pages: ram_bytes / PAGE_SIZE,
            ram_next: 0,
            ram_free: BTreeSet::new(),
        }
    }

    /// Allocate a zeroed RAM page (`alloc_page(GFP_KERNEL | __GFP_ZERO)`); lowest free frame first,
    /// so allocation is deterministic.
    pub fn alloc_ram(&mut self, usage: FrameUse) -> KResult<Pfn> {
        let n = if let Some(n) = self.ram_free.pop_first() {
            n
        } else if self.ram_next < self.ram_pages {
            self.ram_next += 1;
            self.ram_next - 1
        } else {
            return Err(Errno::ENOMEM);
        };
        let pfn = Pfn(RAM_BASE / PAGE_SIZE + n);
        self.frames.insert(
            pfn,
            Frame {
                data: zeroed_page(),
                usage,
            },
        );
        Ok(pfn)
    }

    /// Free a RAM page.
    pub fn free_ram(&mut self, pfn: Pfn) {
        if self.frames.remove(&pfn).is_some() {
            let n = pfn.0 - RAM_BASE / PAGE_SIZE;
            if n < self.ram_next {
                self.ram_free.insert(n);
            }
        }
    }

    /// The frame, materialising a device-memory frame (zero-filled) on first touch.
    fn frame_mut(&mut self, pfn: Pfn) -> &mut Frame {
        self.frames.entry(pfn).or_insert_with(|| Frame {
            data: zeroed_page(),
            usage: FrameUse::DeviceMemory { dev: String::new() },
        })
    }

    /// Register a device-memory frame's owner without materialising its bytes.
    pub fn touch_device(&mut self, pfn: Pfn, dev: &str) -> &mut Frame {
        let f = self.frame_mut(pfn);
        if let FrameUse::DeviceMemory { dev: d } = &mut f.usage {
            if d.is_empty() {
                *d = dev.to_string();
            }
        }
        f
    }

    /// Read bytes of a frame; an untouched frame reads as zeros.
    pub fn read(&self, pfn: Pfn, off: usize, dst: &mut [u8]) {
        match self.frames.get(&pfn) {
            Some(f) => dst.copy_from_slice(&f.data[off..off + dst.len()]),
            None => dst.fill(0),
        }
    }

    /// Write bytes into a frame.
    pub fn write(&mut self, pfn: Pfn, off: usize, src: &[u8]) {
        self.frame_mut(pfn).data[off..off + src.len()].copy_from_slice(src);
    }

    /// Zero bytes of a frame.
    pub fn zero(&mut self, pfn: Pfn, off: usize, len: usize) {
        self.frame_mut(pfn).data[off..off + len].fill(0);
    }

    /// Copy between two frames (`memcpy` between two kernel addresses).
    pub fn copy(&mut self, src: Pfn, src_off: usize, dst: Pfn, dst_off: usize, len: usize) {
        if src == dst {
            self.frame_mut(src)
                .data
                .copy_within(src_off..src_off + len, dst_off);
            return;
        }
        // Take the source out for the copy so both frames can be borrowed at once.
        let taken = self.frames.remove(&src);
        {
            let d = self.frame_mut(dst);
            match &taken {
                Some(s) => {
                    d.data[dst_off..dst_off + len].copy_from_slice(&s.data[src_off..src_off + len])
                }
                None => d.data[dst_off..dst_off + len].fill(0),
            }
        }
        if let Some(s) = taken {
            self.frames.insert(src, s);
        }
    }

    /// A frame if it has been materialised.
    pub fn get(&self, pfn: Pfn) -> Option<&Frame> {
        self.frames.get(&pfn)
    }

    /// Materialised frames in `[first, last)`, in order.
    pub fn frames_in(&self, first: Pfn, last: Pfn) -> Vec<Pfn> {
        let mut v: Vec<Pfn> = self
            .frames
            .keys()
            .copied()
            .filter(|p| *p >= first && *p < last)
            .collect();
        v.sort();
        v
    }

    /// Every materialised frame, in pfn order (for the views).
    pub fn frames(&self) -> Vec<(Pfn, &Frame)> {
        let mut v: Vec<_> = self.frames.iter().map(|(p, f)| (*p, f)).collect();
        v.sort_by_key(|(p, _)| *p);
        v
    }
}
