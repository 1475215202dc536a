//! `fs/block_dev.c`: `bdev_direct_access`, as a traced call.

use crate::engine::cx::{Cx, Show};
use crate::engine::footprint::Obj;
use crate::engine::trace::{EventKind, Shown};
use crate::errno::KResult;
use crate::state::block_dev::DirectAccess;
use crate::state::DevId;

impl Show for DirectAccess {
    fn shown(&self) -> Option<Shown> {
        Some(Shown::Mapped {
            length: self.length,
            pfn: self.pfn.0,
        })
    }
}

/// `bdev_direct_access(bdev, sector, &addr, &pfn, size)`.
pub async fn bdev_direct_access(
    cx: &Cx,
    dev: DevId,
    sector: u64,
    size: i64,
) -> KResult<DirectAccess> {
    cx.call("bdev_direct_access", async {
        bdev_direct_access_body(cx, dev, sector, size)
    })
    .await
}

/// What [`bdev_direct_access`] does inside its frame (it never sleeps). Called alone only
/// where [`Cx::quiet`] says the frame would change nothing.
pub fn bdev_direct_access_body(
    cx: &Cx,
    dev: DevId,
    sector: u64,
    size: i64,
) -> KResult<DirectAccess> {
    let obj = dev_obj(
        cx,
        dev,
        sector.saturating_mul(crate::state::mem::SECTOR_SIZE),
    );
    let (r, note, allocated) = cx.write(obj, |m| {
        let before = m.mem.ram_in_use();
        let d = &mut m.devices[dev.0 as usize];
        let r = d.bdev_direct_access(&mut m.mem, sector, size);
        let note = d.driver.take_note();
        (r, note, m.mem.ram_in_use() != before)
    });
    if allocated {
        cx.write(Obj::Ram, |_| ()); // brd_insert_page took a page from the allocator
    }
    if let Some(note) = note {
        cx.emit(EventKind::Device { dev, note });
    }
    if let Err(errno) = r {
        cx.emit(EventKind::Error {
            func: "bdev_direct_access",
            errno,
        });
    }
    r
}

/// What a driver operation on device byte `byte` touches: one page of a device whose pages are
/// independent, or the whole driver state of one that has more (the window register, the
/// stall state).
pub fn dev_obj(cx: &Cx, dev: DevId, byte: u64) -> Obj {
    use crate::state::block_dev::DeviceKind;
    let kind = cx.peek().m.devices[dev.0 as usize].driver.kind();
    match kind {
        DeviceKind::Window | DeviceKind::Stall => Obj::Device(dev),
        _ => Obj::DevPage(dev, byte / crate::state::mem::PAGE_SIZE),
    }
}
