//! `asm/cacheflush.h` where the data cache is virtually indexed (ARMv5, MIPS R4000, sparc64):
//! the hooks the page cache and the block layer call so that the user's alias and the
//! kernel's alias of a page agree, and that 4.0's `fs/dax.c` never calls (it works with the pfn
//! and kaddr `direct_access` returns, not with pages; memory without `struct page` would have
//! none to pass). On x86-64 they are empty and the trace does not show them.

use crate::engine::cx::Cx;
use crate::engine::footprint::{Access, Obj};
use crate::engine::trace::Loc;
use crate::kernel::cpu;
use crate::state::dcache::{DCache, LineEvent};
use crate::state::mem::{Pfn, PhysMem, PAGE_SIZE};

fn aliasing(cx: &Cx) -> bool {
    cx.config().arch.dcache().is_some()
}

/// `flush_dcache_page(page)`: the kernel wrote a page the user may map, or is about to read
/// one the user may have written.
///
/// Simplified: the model writes back and invalidates every line of the frame, through any
/// alias, at once, on every architecture. UltraSPARC's `__flush_dcache_page` does that (it
/// invalidates every line with the page's physical address, `arch/sparc/mm/init_64.c`); the
/// ARM926's flushes the kernel alias and, for a page-cache page, the shared user mappings of
/// the current mm (`__flush_dcache_aliases`, `arch/arm/mm/flush.c`); the R4000's flushes only
/// the kernel's colour (`arch/mips/mm/cache.c`). All three put off the flush of a page no one
/// maps until `update_mmu_cache` (`PG_dcache_clean`, `PG_dcache_dirty`); the model does it
/// now.
pub fn flush_dcache_page(cx: &Cx, pfn: Pfn) {
    if aliasing(cx) {
        on_frame(cx, "flush_dcache_page", pfn, |c, mem, ev| {
            c.flush_frame(mem, pfn, ev)
        });
    }
}

/// Run `f` on the data cache as kernel function `func` touching frame `pfn`, and show what
/// it did to the lines.
fn on_frame(
    cx: &Cx,
    func: &'static str,
    pfn: Pfn,
    f: impl FnOnce(&mut DCache, &mut PhysMem, &mut Vec<LineEvent>),
) {
    cx.call_sync(func, || {
        let acc = [
            Access {
                obj: Obj::Frame(pfn),
                write: true,
            },
            Access {
                obj: Obj::DCache,
                write: true,
            },
        ];
        let mut ev = Vec::new();
        cx.touching(&acc, |m| {
            if let Some(c) = m.dcache.as_mut() {
                f(c, &mut m.mem, &mut ev);
            }
        });
        cpu::emit_lines(cx, func, &ev);
    });
}

/// `flush_cache_page(vma, vaddr, pfn)` before a user PTE is cleared or replaced
/// (`ptep_clear_flush`, `zap_pte_range`'s `flush_cache_range`): the user's lines of that page
/// are written back and dropped, so that they cannot be hit through the address once it maps
/// something else. The ARM926 must (its lines are found by virtual address) and the R4000 does
/// where its cache aliases (`r4k_flush_cache_page`); sparc64's is empty (its lines are found
/// by physical address).
pub fn flush_cache_page(cx: &Cx, vaddr: u64, pfn: Pfn) {
    flush_alias_page(cx, "flush_cache_page", vaddr, pfn);
}

/// Write back and drop the lines of frame `pfn` reached through the page at `vaddr`, on the
/// caches whose lines an address finds (the ARM926, the aliasing R4000); sparc64's are found by
/// physical address and need nothing here.
fn flush_alias_page(cx: &Cx, func: &'static str, vaddr: u64, pfn: Pfn) {
    if aliasing(cx) && cx.config().arch != crate::state::Arch::Sparc64 {
        on_frame(cx, func, pfn, |c, mem, ev| {
            c.flush_range(mem, vaddr, pfn, 0, PAGE_SIZE as usize, ev)
        });
    }
}

/// `update_mmu_cache` after a PTE for a page with a `struct page` is set or made writable: the
/// ARM926 and the R4000 write back and drop the kernel's alias of the page if the kernel has
/// written it since it was last flushed (`PG_dcache_clean` clear on ARM, `PG_dcache_dirty` set
/// on MIPS: the deferred half of `flush_dcache_page`), so that the user's alias starts from
/// memory. Simplified: the model does it every time (it keeps no such flag), which never makes
/// the page less coherent. sparc64's lines are found by physical address; nothing to do.
pub fn update_mmu_cache(cx: &Cx, pfn: Pfn) {
    flush_alias_page(cx, "update_mmu_cache", pfn.kaddr(), pfn);
}

/// `dma_map_page` before a device reads or writes `len` bytes at `at` by DMA: the streaming
/// DMA API cleans and invalidates the kernel alias of the buffer (ARM's
/// `__dma_page_cpu_to_dev`, MIPS's `dma_cache_wback_inv`), and only that alias: a user's lines
/// are the page cache's business (`flush_dcache_page`).
pub fn dma_map_page(cx: &Cx, at: Loc, len: u64) {
    let Some(pfn) = at.pfn else { return };
    if !aliasing(cx) {
        return;
    }
    let kaddr = pfn.kaddr() + at.page_off() as u64;
    on_frame(cx, "dma_map_page", pfn, |c, mem, ev| {
        c.flush_range(mem, kaddr, pfn, at.page_off(), len as usize, ev)
    });
}

/// `switch_mm` when the CPU runs a thread of another process than before: the ARM926 cleans
/// and invalidates its whole data cache (`cpu_arm926_switch_mm`: its lines are tagged by
/// virtual address, and the next process's addresses mean other memory).
pub fn switch_mm(cx: &Cx) {
    // Only the ARM926 does anything (and only there is anything noted in the footprint).
    if cx.config().arch != crate::state::Arch::Armv5 {
        return;
    }
    let pid = cx.pid;
    let switched = cx.with(|m| std::mem::replace(&mut m.active_mm, pid) != pid);
    if !switched {
        return;
    }
    cx.call_sync("cpu_arm926_switch_mm", || {
        let mut ev = Vec::new();
        cx.with(|m| {
            if let Some(c) = m.dcache.as_mut() {
                c.flush_all(&mut m.mem, &mut ev);
            }
        });
        cpu::emit_lines(cx, "cpu_arm926_switch_mm", &ev);
    });
}

/// `mapping_writably_mapped(mapping)`: some process maps the file shared and writable, so a
/// user may have stored into a page through its own alias.
pub fn mapping_writably_mapped(cx: &Cx, ino: u64) -> bool {
    aliasing(cx)
        && cx.read(Obj::Mms, |m| {
            m.processes.iter().any(|p| {
                p.mm.vmas
                    .values()
                    .any(|v| v.shared && v.writable && v.ino() == Some(ino))
            })
        })
}
