//! The block I/O path (`submit_bio` → the driver's `make_request`/`rw_page`): how the page
//! cache and `blockdev_direct_IO` reach a device.

use crate::access;
use crate::errno::KResult;
use crate::event::{EventKind, Loc};
use crate::mem::{Pfn, PAGE_SIZE};
use crate::sched::Cx;

/// `submit_bio` for memory reached through the kernel's linear map (a page-cache page): the
/// frame and the offset in it follow from the location.
pub fn submit_bio(
    cx: &Cx,
    dev: usize,
    dev_byte: u64,
    mem: Loc,
    len: u64,
    write: bool,
) -> KResult<()> {
    let Some(pfn) = mem.pfn else { return Ok(()) };
    let foff = (mem.vaddr % PAGE_SIZE) as usize;
    submit_bio_frame(cx, dev, dev_byte, (pfn, foff), mem, len, write)
}

/// Move `len` bytes between device byte `dev_byte` (within one device page) and bytes
/// `foff..` of frame `pfn`, in the direction `write` (memory to device). `shown` is the memory
/// side as the event names it (a page-cache page, or the user's page for direct I/O).
pub fn submit_bio_frame(
    cx: &Cx,
    dev: usize,
    dev_byte: u64,
    (pfn, foff): (Pfn, usize),
    shown: Loc,
    len: u64,
    write: bool,
) -> KResult<()> {
    let (name, func, ns, vaddr) = cx.with(|k| {
        let d = &mut k.devices[dev];
        let ns = d
            .driver
            .rw(&mut k.mem, dev_byte, (pfn, foff), len as usize, write)?;
        Ok::<_, crate::errno::Errno>((
            d.name.clone(),
            d.driver.bio_func(write),
            ns,
            d.driver.bio_vaddr(dev_byte),
        ))
    })?;
    let devloc = access::device(name, dev_byte, vaddr, None);
    let (src, dst) = if write {
        (shown, devloc)
    } else {
        (devloc, shown)
    };
    cx.emit_ns(
        ns,
        EventKind::Copy {
            func,
            src,
            dst,
            bytes: len,
        },
    );
    Ok(())
}
