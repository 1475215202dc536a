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
/// present normal pages; anything else (absent, read-only for a write, `_PAGE_SPECIAL`) goes
/// to the slow path, `get_user_pages_unlocked`, under `mmap_sem` for read.
pub async fn get_user_pages(cx: &Cx, addr: u64, len: u64, write: bool) -> KResult<Vec<Pfn>> {
    let pid = cx.pid;
    let pages: Vec<u64> = (page_of(addr)..addr + len.max(1))
        .step_by(PAGE_SIZE as usize)
        .collect();
    let fast: Option<Vec<Pfn>> = pages
        .iter()
        .map(|a| {
            cx.read(Obj::Pte(pid, *a), |m| m.process(pid).mm.pte(*a))
                .filter(|p| !p.special && (!write || p.writable))
                .map(|p| p.pfn)
        })
        .collect();
    if let Some(f) = fast {
        return Ok(f);
    }
    cx.call("get_user_pages", async {
        let sem = LockName::MmapSem { pid };
        cx.lock(sem, LockMode::Read).await;
        let r = async {
            let mut out = Vec::new();
            for a in pages {
                let mut tries = 0;
                let pte = loop {
                    let pte = cx.read(Obj::Pte(pid, a), |m| m.process(pid).mm.pte(a));
                    match pte {
                        Some(p) if !write || p.writable => break p,
                        _ if tries >= 4 => return Err(Errno::EFAULT),
                        _ => {
                            // faultin_page → handle_mm_fault (mmap_sem is held already).
                            tries += 1;
                            let vma =
                                cx.read(Obj::Mm(pid), |m| m.process(pid).mm.find_vma(a).cloned());
                            let Some(vma) = vma else {
                                return Err(Errno::EFAULT);
                            };
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
                    // follow_page_pte: vm_normal_page() is NULL for a special PTE in a
                    // VM_MIXEDMAP vma, and it is not the zero pfn: "goto bad_page".
                    cx.emit(EventKind::Error {
                        func: "follow_page_pte",
                        errno: Errno::EFAULT,
                    });
                    return Err(Errno::EFAULT);
                }
                out.push(pte.pfn);
            }
            Ok(out)
        }
        .await;
        cx.unlock(sem).await;
        r
    })
    .await
}
