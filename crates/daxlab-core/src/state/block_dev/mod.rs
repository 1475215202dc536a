//! Block devices with 512-byte sectors, behind one driver interface (one file per driver), and
//! the block layer's `bdev_direct_access` wrapper with the 4.0 checks in the 4.0 order.

mod axonram;
mod brd;
mod dcssblk;
mod disk;
mod stall;
mod storage;
mod window;

use std::fmt::Debug;
use std::rc::Rc;

use super::mem::{PageRef, Pfn, PhysMem, PAGE_SIZE, SECTOR_SIZE};
use super::DevId;
use crate::errno::{Errno, KResult};

pub use stall::STALL_EVERY;
pub use window::WINDOW_SIZE;

/// The kinds of device the console's `device NAME KIND` creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    /// `drivers/block/brd.c`: RAM pages allocated on first touch.
    Brd,
    /// `arch/powerpc/sysdev/axonram.c`: Cell BE DDR2 bank, contiguous.
    Axonram,
    /// `drivers/s390/block/dcssblk.c`: z/VM shared segment, contiguous.
    Dcssblk,
    /// A device that pages a large memory through a small window (must not do DAX).
    Window,
    /// A memory-like device whose accesses can stall the CPU (must not do DAX).
    Stall,
    /// An ordinary disk.
    Disk,
}

impl DeviceKind {
    /// Every kind, with its console word and a one-line description.
    pub const ALL: [(&'static str, DeviceKind, &'static str); 6] = [
        (
            "brd",
            DeviceKind::Brd,
            "RAM disk: pages allocated on first touch, one page contiguous",
        ),
        (
            "axonram",
            DeviceKind::Axonram,
            "Cell BE DDR2 bank: the rest of the device contiguous",
        ),
        (
            "dcssblk",
            DeviceKind::Dcssblk,
            "z/VM shared segment: the rest of the device contiguous",
        ),
        (
            "window",
            DeviceKind::Window,
            "large memory paged through a 64 KiB window: no direct_access",
        ),
        (
            "stall",
            DeviceKind::Stall,
            "memory whose accesses can stall the CPU: no direct_access",
        ),
        (
            "disk",
            DeviceKind::Disk,
            "an ordinary disk reached by DMA: no direct_access",
        ),
    ];

    /// The console word.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, k, _)| *k == self)
            .map_or("?", |(n, _, _)| n)
    }
}

/// How a device is configured when it is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceConfig {
    /// `CONFIG_FS_DAX` is built (brd's `CONFIG_BLK_DEV_RAM_DAX` depends on it).
    pub fs_dax: bool,
    /// `pretend`: a windowed or stalling device offers `direct_access` anyway.
    pub pretend: bool,
}

/// Something a device did by itself that the learner should see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceNote {
    /// The windowed device reprogrammed its bank register: the window's frames now show
    /// another slice of the device.
    WindowMoved {
        /// Device offset the window showed.
        from: u64,
        /// Device offset it shows now.
        to: u64,
    },
    /// An access stalled.
    Stalled {
        /// For how long.
        ns: u64,
        /// Inside a CPU load or store (DAX), rather than a bio the task sleeps on.
        cpu: bool,
    },
}

/// Where a bio's bytes are on the device side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BioTarget {
    /// Device memory the driver copies to or from with the CPU, at this frame and kernel
    /// address.
    Memory {
        /// The frame.
        pfn: Pfn,
        /// The kernel virtual address the driver uses.
        vaddr: u64,
    },
    /// Nothing is stored there yet: a read fills the destination with zeros (brd's
    /// `copy_from_brd` for an absent page).
    Zeros,
    /// The device moves the bytes itself ([`BlockDriver::dma`]).
    Dma,
}

/// A successful `direct_access`: the frame and kernel address of the sector and how many bytes
/// are contiguous from there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirectAccess {
    /// Page frame number of the sector.
    pub pfn: Pfn,
    /// Kernel virtual address of the sector.
    pub kaddr: u64,
    /// Bytes contiguously accessible (after the wrapper clamps to `size`).
    pub length: u64,
    /// What the driver reported before the clamp (brd: one page; axonram, dcssblk: the rest
    /// of the device).
    pub avail: u64,
}

/// A block driver. One implementation per file; a new device is a new file.
pub trait BlockDriver: Debug {
    /// Which kind of device this is.
    fn kind(&self) -> DeviceKind;
    /// Device size in bytes.
    fn size(&self) -> u64;
    /// Whether the driver fills in `block_device_operations->direct_access`. Devices that are
    /// not memory the CPU can address at all times must not.
    fn has_direct_access(&self) -> bool {
        false
    }
    /// `->direct_access` (4.0: sector in, pfn and bytes available from there out). Called only
    /// when [`BlockDriver::has_direct_access`] and after the block layer's checks.
    fn direct_access(&mut self, _mem: &mut PhysMem, _sector: u64) -> KResult<(Pfn, u64)> {
        Err(Errno::EOPNOTSUPP)
    }
    /// The bio path (`make_request`, `rw_page`): where the bytes at device byte offset `off`
    /// (within one device page) are, for a transfer to (`write`) or from the device, and the
    /// simulated time the request took. RAM-like drivers `memcpy` through a kernel address;
    /// the others DMA.
    fn bio_map(&mut self, mem: &mut PhysMem, off: u64, write: bool) -> KResult<(BioTarget, u64)>;
    /// For [`BioTarget::Dma`]: the device moves `len` bytes between device byte `off` and bytes
    /// `foff..` of frame `pfn`.
    fn dma(
        &mut self,
        _mem: &mut PhysMem,
        _off: u64,
        _pfn: Pfn,
        _foff: usize,
        _len: usize,
        _write: bool,
    ) {
    }
    /// Whether the driver calls `flush_dcache_page` on the bio's page around its `memcpy`
    /// (brd does; axonram and dcssblk run where caches do not alias and do not).
    fn flushes_dcache(&self) -> bool {
        false
    }
    /// The driver function that moves bio data (for the copy events).
    fn bio_func(&self, _write: bool) -> &'static str {
        "submit_bio"
    }
    /// Simulated time of a CPU load or store of `len` bytes of this device's memory.
    fn cpu_ns(&self, len: u64) -> u64;
    /// The CPU frames that hold the device's data so far: (device page index, pfn). Empty for
    /// devices the CPU cannot address.
    fn cpu_frames(&self, _mem: &PhysMem) -> Vec<(u64, Pfn)> {
        Vec::new()
    }
    /// Extra simulated time a CPU load or store through a mapping of this device's memory takes
    /// (the stalling device stalls the CPU here).
    fn cpu_access(&mut self) -> u64 {
        0
    }
    /// What the device did on its own during the last operation, for the trace.
    fn take_note(&mut self) -> Option<DeviceNote> {
        None
    }
    /// The CPU frame that holds device page `idx`, if the CPU can address it and it exists.
    fn frame(&self, _idx: u64) -> Option<Pfn> {
        None
    }
    /// The bytes of device page `idx` as the device holds them (read-only: for the views and
    /// the invariant checks; zeros where nothing was written).
    fn page(&self, mem: &PhysMem, idx: u64) -> PageRef;
    /// One line describing the backing store, for the views.
    fn describe(&self) -> String;
    /// A copy of the driver's state (the machine is a value).
    fn clone_box(&self) -> Box<dyn BlockDriver>;
}

/// A registered block device (`struct block_device` with its gendisk).
#[derive(Debug)]
pub struct BlockDevice {
    /// Its index in the machine.
    pub id: DevId,
    /// Name, e.g. `pmem0`; appears as `/dev/NAME`.
    pub name: Rc<str>,
    /// The driver.
    pub driver: Box<dyn BlockDriver>,
}

impl Clone for BlockDevice {
    fn clone(&self) -> Self {
        BlockDevice {
            id: self.id,
            name: self.name.clone(),
            driver: self.driver.clone_box(),
        }
    }
}

impl BlockDevice {
    /// Create a device of `kind`. `base_phys` is where device memory is placed for contiguous
    /// devices.
    pub fn new(
        id: DevId,
        name: &str,
        kind: DeviceKind,
        size: u64,
        base_phys: u64,
        config: DeviceConfig,
    ) -> Self {
        let driver: Box<dyn BlockDriver> = match kind {
            DeviceKind::Brd => Box::new(brd::Brd::new(id, size, config.fs_dax)),
            DeviceKind::Axonram => Box::new(axonram::Axonram::new(id, size, base_phys)),
            DeviceKind::Dcssblk => Box::new(dcssblk::Dcssblk::new(id, size, base_phys)),
            DeviceKind::Window => Box::new(window::Window::new(size, config.pretend, base_phys)),
            DeviceKind::Stall => Box::new(stall::Stall::new(id, size, config.pretend, base_phys)),
            DeviceKind::Disk => Box::new(disk::Disk::new(size)),
        };
        BlockDevice {
            id,
            name: Rc::from(name),
            driver,
        }
    }

    /// Number of 512-byte sectors (`part_nr_sects_read`).
    pub fn nr_sects(&self) -> u64 {
        self.driver.size() / SECTOR_SIZE
    }

    /// `bdev_direct_access(bdev, sector, &addr, &pfn, size)` as in 4.0 `fs/block_dev.c`, checks
    /// in the same order. The model has no partitions, so `get_start_sect` is 0.
    pub fn bdev_direct_access(
        &mut self,
        mem: &mut PhysMem,
        sector: u64,
        size: i64,
    ) -> KResult<DirectAccess> {
        // 1. "if (size < 0) return size;": a negative size is passed back as an error.
        if size < 0 {
            return Err(Errno::EINVAL);
        }
        // 2. No ->direct_access: -EOPNOTSUPP.
        if !self.driver.has_direct_access() {
            return Err(Errno::EOPNOTSUPP);
        }
        // 3. The request must fit in the partition: sector + DIV_ROUND_UP(size, 512).
        let sects = (size as u64).div_ceil(SECTOR_SIZE);
        if sector
            .checked_add(sects)
            .is_none_or(|end| end > self.nr_sects())
        {
            return Err(Errno::ERANGE);
        }
        // 4. sector += get_start_sect(bdev): 0 here (no partitions in the model).
        // 5. The absolute sector must be page-aligned.
        if !sector.is_multiple_of(PAGE_SIZE / SECTOR_SIZE) {
            return Err(Errno::EINVAL);
        }
        // 6. Call the driver; a return of 0 becomes -ERANGE.
        let (pfn, avail) = self.driver.direct_access(mem, sector)?;
        if avail == 0 {
            return Err(Errno::ERANGE);
        }
        // 7. Clamp what the driver reports to what was asked for.
        Ok(DirectAccess {
            pfn,
            kaddr: pfn.kaddr(),
            length: avail.min(size as u64),
            avail,
        })
    }
}
