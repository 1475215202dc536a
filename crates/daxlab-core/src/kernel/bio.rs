//! The block I/O path (`submit_bio` → the driver's `make_request`/`rw_page`): how the page
//! cache and `blockdev_direct_IO` reach a device. RAM-like drivers `memcpy` with the CPU (through
//! [`crate::kernel::cpu`]); a disk moves the bytes by DMA.

use crate::engine::cx::Cx;
use crate::engine::footprint::{Access, Obj};
use crate::engine::trace::{EventKind, Loc, Space};
use crate::errno::KResult;
use crate::kernel::{cacheflush, cpu};
use crate::state::block_dev::BioTarget;
use crate::state::mem::SECTOR_SIZE;
use crate::state::DevId;

/// Move `len` bytes between device byte `dev_byte` (within one device page) and `mem` (a
/// page-cache page, or a user page for direct I/O), in the direction `write` (memory to device).
pub fn submit_bio(
    cx: &Cx,
    dev: DevId,
    dev_byte: u64,
    mem: Loc,
    len: u64,
    write: bool,
) -> KResult<()> {
    let Some(pfn) = mem.pfn else { return Ok(()) };
    let obj = crate::kernel::block_dev::dev_obj(cx, dev, dev_byte);
    let (target, ns, func, note, flushes) = cx.write(obj, |m| {
        let d = &mut m.devices[dev.0 as usize].driver;
        let (t, ns) = d.bio_map(&mut m.mem, dev_byte, write)?;
        Ok::<_, crate::errno::Errno>((t, ns, d.bio_func(write), d.take_note(), d.flushes_dcache()))
    })?;
    if let Some(note) = note {
        cx.emit(crate::engine::trace::EventKind::Device { dev, note });
    }
    let sector = dev_byte / SECTOR_SIZE;
    let at = |p, vaddr| Loc {
        space: Space::Device { dev, sector },
        vaddr,
        pfn: p,
    };
    if flushes && write {
        cacheflush::flush_dcache_page(cx, pfn);
    }
    match target {
        BioTarget::Memory { pfn: dp, vaddr } => {
            let d = at(Some(dp), vaddr);
            let (src, dst) = if write { (mem, d) } else { (d, mem) };
            cpu::copy(cx, func, src, dst, len, ns);
        }
        BioTarget::Zeros => cpu::zero(cx, func, mem, len),
        BioTarget::Dma => {
            cacheflush::dma_map_page(cx, mem, len);
            let foff = mem.page_off();
            let acc = [
                Access {
                    obj: Obj::Frame(pfn),
                    write: !write,
                },
                Access { obj, write },
            ];
            cx.touching(&acc, |m| {
                let d = &mut m.devices[dev.0 as usize].driver;
                d.dma(&mut m.mem, dev_byte, pfn, foff, len as usize, write)
            });
            let d = at(None, 0);
            let (src, dst) = if write { (mem, d) } else { (d, mem) };
            cx.emit_ns(
                ns,
                EventKind::Copy {
                    func,
                    src,
                    dst,
                    bytes: len,
                },
            );
        }
    }
    if flushes && !write {
        cacheflush::flush_dcache_page(cx, pfn);
    }
    Ok(())
}
