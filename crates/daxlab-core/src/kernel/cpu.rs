//! The one CPU path: every load and store the CPU makes on memory, and every copy and zeroing
//! the kernel does with the CPU, goes through here as (virtual address, page frame, bytes).
//! This is where a data cache sits: on x86-64 caches are physically indexed and need no model.
//! Device DMA does not come here ([`crate::kernel::bio`]).

use crate::engine::cx::Cx;
use crate::engine::footprint::{Access, Obj};
use crate::engine::trace::{EventKind, Loc, Space};
use crate::lang::data::Data;
use crate::state::mem::{FrameUse, Pfn, PAGE_SIZE};
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

/// User memory of process `pid` at `vaddr`, backed by `pfn`.
pub fn user(pid: Pid, vaddr: u64, pfn: Pfn) -> Loc {
    Loc {
        space: Space::User { pid },
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
    let (ns, note) = cx.write(Obj::Device(dev), |m| {
        let d = &mut m.device_mut(dev).driver;
        (d.cpu_access(), d.take_note())
    });
    if let Some(note) = note {
        cx.emit(EventKind::Device { dev, note });
    }
    ns
}

/// A kernel copy of `len` bytes (within one page on each side) from `src` to `dst`:
/// `copy_to_iter`, `copy_from_iter`, `memcpy`, `copy_user_highpage`. Emits its event.
pub fn copy(cx: &Cx, func: &'static str, src: Loc, dst: Loc, len: u64, ns: u64) {
    if let (Some(s), Some(d)) = (src.pfn, dst.pfn) {
        let (so, d_o) = (src.page_off(), dst.page_off());
        cx.touching(&both(s, d), |m| m.mem.copy(s, so, d, d_o, len as usize));
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

/// `memset(addr, 0, len)`, `clear_page`, `iov_iter_zero` on `dst` (within one page).
pub fn zero(cx: &Cx, func: &'static str, dst: Loc, len: u64) {
    if let Some(pfn) = dst.pfn {
        let off = dst.page_off();
        cx.write(Obj::Frame(pfn), |m| m.mem.zero(pfn, off, len as usize));
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

/// A user load of `len` bytes at `vaddr` through a PTE mapping `pfn` (within one page). Returns
/// the bytes as the frame holds them now (shared, not copied).
pub fn user_load(cx: &Cx, vaddr: u64, pfn: Pfn, len: u64) -> crate::lang::data::Slice {
    let delay = device_delay(cx, pfn);
    let page = cx.read(Obj::Frame(pfn), |m| m.mem.page_ref(pfn));
    cx.emit_ns(
        delay + timing::ram_copy_ns(len),
        EventKind::Access {
            vaddr,
            pfn,
            bytes: len,
            write: false,
        },
    );
    crate::lang::data::Slice {
        page,
        off: (vaddr % PAGE_SIZE) as u16,
        len: len as u16,
    }
}

/// A user store of bytes `data_off..data_off+len` of `data` at `vaddr` through a PTE mapping
/// `pfn` (within one page).
pub fn user_store(cx: &Cx, vaddr: u64, pfn: Pfn, data: &Data, data_off: u64, len: u64) {
    let delay = device_delay(cx, pfn);
    let off = (vaddr % PAGE_SIZE) as usize;
    cx.write(Obj::Frame(pfn), |m| {
        data.fill(data_off, &mut m.mem.page_mut(pfn)[off..off + len as usize])
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
