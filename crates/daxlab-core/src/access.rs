//! Memory locations and the byte moves between them. Every move names the virtual address the
//! CPU used (kernel linear-map alias, ioremap address or user address) and emits its event.

use std::rc::Rc;

use crate::event::{EventKind, Loc, Space};
use crate::mem::{Pfn, PAGE_SIZE};
use crate::sched::Cx;
use crate::timing;

/// Where the buffer a `read()`/`write()` passes lives in the process (the model does not
/// back it with frames: it is the scenario's data).
pub const USER_BUF: u64 = 0x7ffd_0000_0000;

/// A user address.
pub fn user(vaddr: u64) -> Loc {
    Loc {
        space: Space::User,
        vaddr,
        pfn: None,
    }
}

/// A RAM frame reached through the kernel's linear map.
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

/// Device storage at `byte` of device `dev`, reached at `vaddr` (0 for DMA).
pub fn device(dev: Rc<str>, byte: u64, vaddr: u64, pfn: Option<Pfn>) -> Loc {
    Loc {
        space: Space::Device {
            dev,
            sector: byte / crate::mem::SECTOR_SIZE,
        },
        vaddr,
        pfn,
    }
}

/// A run of bytes at `pfn`+`off` that may cross into following frames (contiguous memory).
pub fn frame_at(pfn: Pfn, off: u64) -> (Pfn, usize) {
    (Pfn(pfn.0 + off / PAGE_SIZE), (off % PAGE_SIZE) as usize)
}

/// `copy_to_iter`/`copy_page_to_iter`: frame bytes to the user buffer.
pub fn copy_to_user(
    cx: &Cx,
    func: &'static str,
    src: Loc,
    dst_vaddr: u64,
    out: &mut [u8],
    ns: u64,
) {
    if let Some(pfn) = src.pfn {
        let off = (src.vaddr % PAGE_SIZE) as usize;
        cx.with(|k| k.mem.read(pfn, off, out));
    }
    cx.emit_ns(
        ns,
        EventKind::Copy {
            func,
            src,
            dst: user(dst_vaddr),
            bytes: out.len() as u64,
        },
    );
}

/// `copy_from_iter`: user bytes into a frame.
pub fn copy_from_user(cx: &Cx, func: &'static str, src_vaddr: u64, data: &[u8], dst: Loc, ns: u64) {
    if let Some(pfn) = dst.pfn {
        let off = (dst.vaddr % PAGE_SIZE) as usize;
        cx.with(|k| k.mem.write(pfn, off, data));
    }
    cx.emit_ns(
        ns,
        EventKind::Copy {
            func,
            src: user(src_vaddr),
            dst,
            bytes: data.len() as u64,
        },
    );
}

/// `memset(addr, 0, len)`/`clear_page` on a frame.
pub fn zero(cx: &Cx, func: &'static str, dst: Loc, len: u64) {
    if let Some(pfn) = dst.pfn {
        let off = (dst.vaddr % PAGE_SIZE) as usize;
        cx.with(|k| k.mem.zero(pfn, off, len as usize));
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

/// `iov_iter_zero`: zeros into the user buffer.
pub fn zero_user(cx: &Cx, func: &'static str, vaddr: u64, out: &mut [u8]) {
    out.fill(0);
    cx.emit_ns(
        timing::ram_copy_ns(out.len() as u64),
        EventKind::Zero {
            func,
            dst: user(vaddr),
            bytes: out.len() as u64,
        },
    );
}

/// `memcpy` between two frames.
pub fn copy_frames(cx: &Cx, func: &'static str, src: Loc, dst: Loc, len: u64) {
    if let (Some(s), Some(d)) = (src.pfn, dst.pfn) {
        let so = (src.vaddr % PAGE_SIZE) as usize;
        let d_o = (dst.vaddr % PAGE_SIZE) as usize;
        cx.with(|k| k.mem.copy(s, so, d, d_o, len as usize));
    }
    cx.emit_ns(
        timing::ram_copy_ns(len),
        EventKind::Copy {
            func,
            src,
            dst,
            bytes: len,
        },
    );
}
