//! Block devices with 512-byte sectors, behind one driver interface, and the block layer's
//! `bdev_direct_access` wrapper with the 4.0 checks in the 4.0 order.

mod axonram;
mod brd;
mod dcssblk;
mod disk;
mod private;
mod stall;
mod window;

use std::fmt::Debug;
use std::rc::Rc;

use serde::Serialize;

use crate::errno::{Errno, KResult};
use crate::mem::{Pfn, PhysMem, PAGE_SIZE, SECTOR_SIZE};

pub use axonram::Axonram;
pub use brd::Brd;
pub use dcssblk::Dcssblk;
pub use disk::Disk;
pub use stall::Stall;
pub use window::Window;

/// The kinds of device the console's `device NAME KIND` creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
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
    /// Every kind, with its console word.
    pub const ALL: [(&'static str, DeviceKind); 6] = [
        ("brd", DeviceKind::Brd),
        ("axonram", DeviceKind::Axonram),
        ("dcssblk", DeviceKind::Dcssblk),
        ("window", DeviceKind::Window),
        ("stall", DeviceKind::Stall),
        ("disk", DeviceKind::Disk),
    ];
}

/// A successful `direct_access`: the frame and kernel address of the sector and how many bytes
/// are contiguous from there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
    /// The bio path: move `buf.len()` bytes at device byte offset `off` (within one device page)
    /// to (`write`) or from the device, to or from bytes `frame.1..` of frame `frame.0`. Returns
    /// the simulated time it took.
    fn rw(
        &mut self,
        mem: &mut PhysMem,
        off: u64,
        frame: (Pfn, usize),
        len: usize,
        write: bool,
    ) -> KResult<u64>;
    /// The driver function that moves bio data (for the copy events).
    fn bio_func(&self, _write: bool) -> &'static str {
        "submit_bio"
    }
    /// The kernel virtual address the bio path uses for device byte `off`.
    fn bio_vaddr(&self, off: u64) -> u64;
    /// Simulated time of a CPU load or store of `len` bytes of this device's memory.
    fn cpu_ns(&self, len: u64) -> u64;
    /// The CPU frames that hold the device's data so far: (device page index, pfn). Empty for
    /// devices the CPU cannot address.
    fn cpu_frames(&self, _mem: &PhysMem) -> Vec<(u64, Pfn)> {
        Vec::new()
    }
    /// One line describing the backing store, for the views.
    fn describe(&self) -> String;
}

/// A registered block device (`struct block_device` with its gendisk).
#[derive(Debug)]
pub struct BlockDevice {
    /// Name, e.g. `pmem0`; appears as `/dev/NAME`.
    pub name: Rc<str>,
    /// The driver.
    pub driver: Box<dyn BlockDriver>,
}

impl BlockDevice {
    /// Create a device of `kind`. `base` is where device memory is placed for contiguous devices.
    pub fn new(name: &str, kind: DeviceKind, size: u64, base_phys: u64) -> Self {
        let name: Rc<str> = Rc::from(name);
        let driver: Box<dyn BlockDriver> = match kind {
            DeviceKind::Brd => Box::new(Brd::new(name.clone(), size)),
            DeviceKind::Axonram => Box::new(Axonram::new(name.clone(), size, base_phys)),
            DeviceKind::Dcssblk => Box::new(Dcssblk::new(name.clone(), size, base_phys)),
            DeviceKind::Window => Box::new(Window::new(size)),
            DeviceKind::Stall => Box::new(Stall::new(size)),
            DeviceKind::Disk => Box::new(Disk::new(size)),
        };
        BlockDevice { name, driver }
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
