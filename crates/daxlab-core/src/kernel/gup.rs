//! `mm/gup.c` (and x86's `get_user_pages_fast`): pinning a process's pages for I/O. A special
//! PTE in a `VM_MIXEDMAP` mapping (a DAX pfn) has no `struct page` to pin: `follow_page_pte`
//! fails with `-EFAULT`.

use crate::engine::cx::{Cx, Show};
use crate::engine::footprint::Obj;
use crate::engine::trace::{EventKind, Shown};
use crate::errno::{Errno, KResult};
use crate::kernel::memory;
use crate::state::lock::{LockMode, LockName};
use crate::state::mem::{Pfn, PAGE_SIZE};

impl Show for Vec<Pfn> {
    fn shown(&self) -> Option<Shown> {
        Some(Shown::Num(self.len() as u64))
    }
}

fn page_of(a: u64) -> u64 {
    a - a % PAGE_SIZE
}

/// `get_user_pages_fast` on `[addr, addr+len)`: the lockless walk (`gup_pte_range`) pins
/// present normal pages; from the first page it cannot (absent, read-only for a write,
/// `_PAGE_SPECIAL`) the slow path, [`get_user_pages`], goes on. As in 4.0, pages pinned before
/// a failure are returned ("`i ? i : -EFAULT`"); the error only when none was.
pub async fn get_user_pages_fast(cx: &Cx, addr: u64, len: u64, write: bool) -> KResult<Vec<Pfn>> {
    cx.call("get_user_pages_fast", async {
        let pid = cx.pid;
        let pages = pages_of(addr, len);
        let mut fast = Vec::new();
        // ARMv5 has no lockless walk of its own (mm/util.c's get_user_pages_fast is the slow
        // path), and MIPS's takes the slow path "if (end < start || cpu_has_dc_aliases)".
        use crate::state::Arch;
        let lockless = !matches!(cx.config().arch, Arch::Armv5 | Arch::MipsR4k);
        for a in pages.iter().filter(|_| lockless) {
            let pte = cx.read(Obj::Pte(pid, *a), |m| m.process(pid).mm.pte(*a));
            match pte.filter(|p| !p.special && (!write || p.writable)) {
                Some(p) => fast.push(p.pfn),
                None => break,
            }
        }
        if fast.len() == pages.len() {
            return Ok(fast);
        }
        let rest = pages[fast.len()];
        match get_user_pages(cx, rest, addr + len.max(1) - rest, write).await {
            Ok(more) => fast.extend(more),
            Err(e) if fast.is_empty() => return Err(e),
            Err(_) => {}
        }
        Ok(fast)
    })
    .await
}

fn pages_of(addr: u64, len: u64) -> Vec<u64> {
    (page_of(addr)..addr.saturating_add(len.max(1)))
        .step_by(PAGE_SIZE as usize)
        .collect()
}

/// `get_user_pages` (`__get_user_pages`) on `[addr, addr+len)` under `mmap_sem` for read: each
/// page is faulted in as needed (`faultin_page`), then followed (`follow_page_pte`); a special
/// PTE in a `VM_MIXEDMAP` VMA has no `struct page` and fails with `-EFAULT`. Pages pinned
/// before a failure are returned; the error only when none was.
pub async fn get_user_pages(cx: &Cx, addr: u64, len: u64, write: bool) -> KResult<Vec<Pfn>> {
    let pid = cx.pid;
    let pages = pages_of(addr, len);
    cx.call("get_user_pages", async {
        let sem = LockName::MmapSem { pid };
        cx.lock(sem, LockMode::Read).await;
        let mut out = Vec::new();
        let mut err = None;
        for a in pages {
            match follow_or_fault(cx, a, write).await {
                Ok(pfn) => out.push(pfn),
                Err(e) => {
                    err = Some(e);
                    break;
                }
            }
        }
        cx.unlock(sem).await;
        match err {
            Some(e) if out.is_empty() => Err(e),
            _ => Ok(out),
        }
    })
    .await
}

/// One page of `__get_user_pages`: `follow_page_mask`, and `faultin_page` while it finds
/// nothing (a bounded number of times).
async fn follow_or_fault(cx: &Cx, a: u64, write: bool) -> KResult<Pfn> {
    let pid = cx.pid;
    let mut tries = 0;
    let pte = loop {
        let pte = cx.read(Obj::Pte(pid, a), |m| m.process(pid).mm.pte(a));
        match pte {
            Some(p) if !write || p.writable => break p,
            _ if tries >= 4 => return Err(Errno::EFAULT),
            _ => {
                // faultin_page → handle_mm_fault (mmap_sem is held already).
                tries += 1;
                let vma = cx.read(Obj::Mm(pid), |m| m.process(pid).mm.find_vma(a).cloned());
                let Some(vma) = vma else {
                    return Err(Errno::EFAULT);
                };
                // check_vma_flags: a write to a mapping without VM_WRITE.
                if write && !vma.writable {
                    return Err(Errno::EFAULT);
                }
                cx.call(
                    "handle_mm_fault",
                    memory::handle_mm_fault(cx, &vma, a, write),
                )
                .await
                .map_err(|_| Errno::EFAULT)?;
            }
        }
    };
    if pte.special {
        // follow_page_pte: vm_normal_page() is NULL for a special PTE in a VM_MIXEDMAP vma,
        // and it is not the zero pfn: "goto bad_page".
        cx.emit(EventKind::Error {
            func: "follow_page_pte",
            errno: Errno::EFAULT,
        });
        return Err(Errno::EFAULT);
    }
    // "flush_anon_page(vma, page, start); flush_dcache_page(page);": the pinned page is about
    // to be read or written through another alias (the kernel's, or a device's by DMA).
    crate::kernel::cacheflush::flush_dcache_page(cx, pte.pfn);
    Ok(pte.pfn)
}
