//! The one CPU path: every load and store the CPU makes on memory, and every copy and zeroing
//! the kernel does with the CPU, goes through here as (virtual address, page frame, bytes).
//! This is where a data cache sits: on x86-64 caches are physically indexed and need no model.
//! Device DMA does not come here ([`crate::kernel::bio`]).

use crate::engine::cx::Cx;
use crate::engine::footprint::{Access, Obj};
use crate::engine::trace::{EventKind, Loc, Space};
use crate::lang::data::Data;
use crate::state::dcache::{DCache, LineEvent};
use crate::state::mem::{FrameUse, Pfn, PhysMem, PAGE_SIZE};
use crate::state::Pid;
use crate::timing;

/// The kernel's linear-map alias of bytes `off..` of frame `pfn`.
pub fn kernel(space: Space, pfn: Pfn, off: u64) -> Loc {
    Loc {
        space,
        vaddr: pfn.kaddr() + off,
        pfn: Some(pfn),
    }
}

/// A page-cache page reached through the linear map.
pub fn page_cache(ino: u64, index: u64, pfn: Pfn, off: u64) -> Loc {
    kernel(Space::PageCache { ino, index }, pfn, off)
}

/// User memory of process `pid` at `vaddr`, backed by `pfn`; or kernel memory, for a kernel
/// address that a caller under `set_fs(KERNEL_DS)` passed as a user buffer.
pub fn user(pid: Pid, vaddr: u64, pfn: Pfn) -> Loc {
    Loc {
        space: if vaddr >= crate::state::mem::PAGE_OFFSET {
            Space::Kernel
        } else {
            Space::User { pid }
        },
        vaddr,
        pfn: Some(pfn),
    }
}

fn both(src: Pfn, dst: Pfn) -> [Access; 2] {
    [
        Access {
            obj: Obj::Frame(src),
            write: false,
        },
        Access {
            obj: Obj::Frame(dst),
            write: true,
        },
    ]
}

/// Extra time a CPU access to `pfn` takes (a stalling device's memory), with its note.
fn device_delay(cx: &Cx, pfn: Pfn) -> u64 {
    let dev = cx.read(Obj::Frame(pfn), |m| match m.mem.get(pfn).map(|f| f.usage) {
        Some(FrameUse::DeviceMemory { dev }) => Some(dev),
        _ => None,
    });
    let Some(dev) = dev else { return 0 };
    // Only a device with state of its own (the stalling one) changes on a CPU access.
    if let Obj::DevPage(..) = crate::kernel::block_dev::dev_obj(cx, dev, 0) {
        return 0;
    }
    let (ns, note) = cx.write(Obj::Device(dev), |m| {
        let d = &mut m.device_mut(dev).driver;
        (d.cpu_access(), d.take_note())
    });
    if let Some(note) = note {
        cx.emit(EventKind::Device { dev, note });
    }
    ns
}

/// Runs one CPU access on memory: with the data cache when the architecture has a model of
/// it (the step's footprint then writes the cache too), and emits what the cache did to its
/// lines.
fn access<R>(
    cx: &Cx,
    func: &'static str,
    objs: &[Access],
    f: impl FnOnce(&mut PhysMem, Option<&mut DCache>, &mut Vec<LineEvent>) -> R,
) -> R {
    let mut ev = Vec::new();
    let r = if cx.config().arch.dcache().is_some() {
        let mut all = objs.to_vec();
        all.push(Access {
            obj: Obj::DCache,
            write: true,
        });
        cx.touching(&all, |m| f(&mut m.mem, m.dcache.as_mut(), &mut ev))
    } else {
        cx.touching(objs, |m| f(&mut m.mem, None, &mut ev))
    };
    emit_lines(cx, func, &ev);
    r
}

/// One `cache` event per run of line events with the same operation on the same frame.
pub fn emit_lines(cx: &Cx, func: &'static str, ev: &[LineEvent]) {
    let mut k = 0;
    while k < ev.len() {
        let e = ev[k];
        let n = ev[k..]
            .iter()
            .take_while(|x| x.op == e.op && x.pfn == e.pfn)
            .count();
        cx.emit(EventKind::Cache {
            func,
            op: e.op,
            vaddr: e.vaddr,
            pfn: e.pfn,
            lines: n as u32,
        });
        k += n;
    }
}

/// A kernel copy of `len` bytes (within one page on each side) from `src` to `dst`:
/// `copy_to_iter`, `copy_from_iter`, `memcpy`, `copy_user_highpage`. Emits its event. Through
/// the data cache where there is one: loads through the source's virtual address, stores
/// through the destination's.
pub fn copy(cx: &Cx, func: &'static str, src: Loc, dst: Loc, len: u64, ns: u64) {
    if let (Some(s), Some(d)) = (src.pfn, dst.pfn) {
        let (so, d_o) = (src.page_off(), dst.page_off());
        access(cx, func, &both(s, d), |mem, cache, ev| match cache {
            None => mem.copy(s, so, d, d_o, len as usize),
            Some(c) => {
                let mut buf = vec![0; len as usize];
                c.load(mem, src.vaddr, s, so, &mut buf, ev);
                c.store(mem, dst.vaddr, d, d_o, &buf, ev);
            }
        });
    }
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

/// `copy_user_highpage(dst, src, vaddr)`: a whole page copied for copy-on-write, by the
/// architecture's own code, which is coherent with the user's alias: the ARM926's
/// `v4wb_copy_user_highpage` flushes the source's user alias and invalidates each destination
/// line before storing; MIPS reads through `kmap_coherent` (a mapping of the user's colour);
/// sparc64 maps both pages at the user's colour. Modelled as: every line of both frames written
/// back and dropped, then the copy in memory.
pub fn copy_user_highpage(cx: &Cx, src: Loc, dst: Loc) {
    let (len, ns) = (PAGE_SIZE, timing::ram_copy_ns(PAGE_SIZE));
    if let (Some(s), Some(d)) = (src.pfn, dst.pfn) {
        access(cx, "copy_user_highpage", &both(s, d), |mem, cache, ev| {
            if let Some(c) = cache {
                c.flush_frame(mem, s, ev);
                c.flush_frame(mem, d, ev);
            }
            mem.copy(s, 0, d, 0, len as usize)
        });
    }
    cx.emit_ns(
        ns,
        EventKind::Copy {
            func: "copy_user_highpage",
            src,
            dst,
            bytes: len,
        },
    );
}

/// `memset(addr, 0, len)`, `clear_page`, `iov_iter_zero` on `dst` (within one page).
pub fn zero(cx: &Cx, func: &'static str, dst: Loc, len: u64) {
    if let Some(pfn) = dst.pfn {
        let off = dst.page_off();
        let acc = [Access {
            obj: Obj::Frame(pfn),
            write: true,
        }];
        access(cx, func, &acc, |mem, cache, ev| match cache {
            None => mem.zero(pfn, off, len as usize),
            Some(c) => c.store(mem, dst.vaddr, pfn, off, &vec![0; len as usize], ev),
        });
    }
    {
        let mut w = cx.world();
        if w.ghost.enabled {
            let step = w.step;
            w.ghost.kernel_zeroed(cx.tid, step, func, dst, len);
        }
    }
    cx.emit_ns(
        timing::ram_copy_ns(len),
        EventKind::Zero {
            func,
            dst,
            bytes: len,
        },
    );
}

/// `zero_user`, `zero_user_segment` (`linux/highmem.h`): zero a page's bytes through the
/// kernel's mapping of it, then `flush_dcache_page`.
pub fn zero_user_segment(cx: &Cx, func: &'static str, dst: Loc, len: u64) {
    zero(cx, func, dst, len);
    if let Some(pfn) = dst.pfn {
        crate::kernel::cacheflush::flush_dcache_page(cx, pfn);
    }
}

/// A user load of `len` bytes at `vaddr` through a PTE mapping `pfn` (within one page). Returns
/// the bytes as the frame holds them now (shared, not copied), or as the data cache returns
/// them.
pub fn user_load(cx: &Cx, vaddr: u64, pfn: Pfn, len: u64) -> crate::lang::data::Slice {
    let delay = device_delay(cx, pfn);
    let acc = [Access {
        obj: Obj::Frame(pfn),
        write: false,
    }];
    let off = (vaddr % PAGE_SIZE) as usize;
    let slice = access(cx, "load", &acc, |mem, cache, ev| match cache {
        None => crate::lang::data::Slice {
            page: mem.page_ref(pfn),
            off: off as u16,
            len: len as u16,
        },
        Some(c) => {
            let mut buf = vec![0; len as usize];
            c.load(mem, vaddr, pfn, off, &mut buf, ev);
            crate::lang::data::Slice {
                page: Some(buf.into()),
                off: 0,
                len: len as u16,
            }
        }
    });
    cx.emit_ns(
        delay + timing::ram_copy_ns(len),
        EventKind::Access {
            vaddr,
            pfn,
            bytes: len,
            write: false,
        },
    );
    slice
}

/// A user store of bytes `data_off..data_off+len` of `data` at `vaddr` through a PTE mapping
/// `pfn` (within one page).
pub fn user_store(cx: &Cx, vaddr: u64, pfn: Pfn, data: &Data, data_off: u64, len: u64) {
    let delay = device_delay(cx, pfn);
    let off = (vaddr % PAGE_SIZE) as usize;
    let acc = [Access {
        obj: Obj::Frame(pfn),
        write: true,
    }];
    access(cx, "store", &acc, |mem, cache, ev| match cache {
        None => data.fill(data_off, &mut mem.page_mut(pfn)[off..off + len as usize]),
        Some(c) => {
            let mut buf = vec![0; len as usize];
            data.fill(data_off, &mut buf);
            c.store(mem, vaddr, pfn, off, &buf, ev);
        }
    });
    cx.emit_ns(
        delay + timing::ram_copy_ns(len),
        EventKind::Access {
            vaddr,
            pfn,
            bytes: len,
            write: true,
        },
    );
}
