//! `mm/memory.c` and friends: page faults (`handle_mm_fault`, `do_read_fault`,
//! `do_shared_fault`, `do_cow_fault`, `do_wp_page`), `vm_insert_mixed`, `unmap_mapping_range`,
//! `get_user_pages`, and user loads and stores through a mapping.

use crate::access;
use crate::errno::{Errno, KResult};
use crate::event::{EventKind, FaultKind, LockMode, LockName, PteOp, Ret, Space};
use crate::mem::{FrameUse, Pfn, PAGE_SIZE};
use crate::mm::{Pte, Vma};
use crate::sched::Cx;
use crate::{dax, filemap, timing};

/// What a `->fault` handler returns (`VM_FAULT_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VmFault {
    /// `VM_FAULT_NOPAGE`: the handler installed the PTE itself.
    NoPage,
    /// `VM_FAULT_LOCKED` with `vmf->page`: a locked page for the core to map.
    Locked(Pfn),
    /// `VM_FAULT_LOCKED` with the COW page filled in; `i_mmap_held` when the handler returns
    /// holding `i_mmap_lock_read` (DAX without a hole page).
    Cow {
        /// The new anonymous page.
        pfn: Pfn,
        /// `i_mmap_rwsem` is held for read and must be released after installing the PTE.
        i_mmap_held: bool,
    },
    /// `VM_FAULT_SIGBUS`.
    SigBus,
    /// `VM_FAULT_OOM`.
    Oom,
}

impl VmFault {
    /// The kernel's name.
    pub fn name(self) -> &'static str {
        match self {
            VmFault::NoPage => "VM_FAULT_NOPAGE",
            VmFault::Locked(_) | VmFault::Cow { .. } => "VM_FAULT_LOCKED",
            VmFault::SigBus => "VM_FAULT_SIGBUS",
            VmFault::Oom => "VM_FAULT_OOM",
        }
    }
}

/// A fault that could not be resolved: the signal or error the user access gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserFault {
    /// A signal (`SIGBUS`, `SIGSEGV`).
    Signal(&'static str),
    /// The OOM path (reported as `ENOMEM`).
    Oom,
}

fn page_of(addr: u64) -> u64 {
    addr - addr % PAGE_SIZE
}

fn install_pte(cx: &Cx, addr: u64, pte: Pte) {
    cx.with(|k| k.mm.ptes.insert(page_of(addr), pte));
    cx.emit(EventKind::Pte {
        op: PteOp::Install,
        vaddr: page_of(addr),
        pfn: pte.pfn,
        writable: pte.writable,
        special: pte.special,
    });
}

/// `page_mkclean`: make every PTE that maps a page-cache page read-only (`rmap` walk), so the
/// next store through any of them faults.
pub fn page_mkclean(cx: &Cx, pfn: Pfn) {
    let cleaned: Vec<u64> = cx.with(|k| {
        k.mm.ptes
            .iter_mut()
            .filter(|(_, p)| p.pfn == pfn && p.writable && !p.anon && !p.special)
            .map(|(a, p)| {
                p.writable = false;
                *a
            })
            .collect()
    });
    for vaddr in cleaned {
        cx.emit(EventKind::Pte {
            op: PteOp::WriteProtect,
            vaddr,
            pfn,
            writable: false,
            special: false,
        });
    }
}

/// `vm_insert_mixed(vma, addr, pfn)`: on x86 (`pte_special`), `insert_pfn` builds a special PTE
/// with `vma->vm_page_prot`. A DAX mapping has `page_mkwrite`, so `vm_page_prot` is read-only
/// (write notification) and the first store takes a write-protect fault.
pub async fn vm_insert_mixed(cx: &Cx, vma: &Vma, addr: u64, pfn: Pfn) -> KResult<()> {
    cx.call("vm_insert_mixed", async {
        if !vma.mixedmap {
            return Err(Errno::EINVAL); // BUG_ON(!(vma->vm_flags & VM_MIXEDMAP))
        }
        if !vma.contains(addr) {
            return Err(Errno::EFAULT);
        }
        if cx.with(|k| k.mm.ptes.contains_key(&page_of(addr))) {
            return Err(Errno::EBUSY); // already populated by a concurrent fault
        }
        install_pte(
            cx,
            addr,
            Pte {
                pfn,
                writable: false,
                special: true,
                anon: false,
            },
        );
        Ok(())
    })
    .await
}

/// `unmap_mapping_range(mapping, holebegin, holelen, even_cows)` for `npages` pages from file
/// page `first` (`None`: to the end). Takes `i_mmap_rwsem` for write.
pub async fn unmap_mapping_range(
    cx: &Cx,
    ino: u64,
    first: u64,
    npages: Option<u64>,
    even_cows: bool,
) {
    cx.call("unmap_mapping_range", async {
        let lock = LockName::IMmapRwsem { ino };
        cx.lock(lock, LockMode::Write).await;
        let gone: Vec<(u64, Pte)> = cx.with(|k| {
            let last = npages.map_or(u64::MAX, |n| first + n);
            let mut gone = Vec::new();
            for v in k.mm.vmas.values().filter(|v| v.ino == ino) {
                for (a, p) in k.mm.ptes.range(v.start..v.start + v.len) {
                    let pg = v.pgoff_of(*a);
                    if pg >= first && pg < last && (even_cows || !p.anon) {
                        gone.push((*a, *p));
                    }
                }
            }
            for (a, p) in &gone {
                k.mm.ptes.remove(a);
                if p.anon {
                    k.mem.free_ram(p.pfn);
                }
            }
            gone
        });
        for (a, p) in gone {
            cx.emit(EventKind::Pte {
                op: PteOp::Remove,
                vaddr: a,
                pfn: p.pfn,
                writable: p.writable,
                special: p.special,
            });
        }
        cx.unlock(lock).await;
    })
    .await
}

/// `handle_mm_fault` for one page: dispatch to the read, shared, COW or write-protect path.
pub async fn handle_mm_fault(cx: &Cx, addr: u64, write: bool) -> Result<(), UserFault> {
    let Some(vma) = cx.with(|k| k.mm.find_vma(addr).cloned()) else {
        return Err(UserFault::Signal("SIGSEGV"));
    };
    if write && !vma.writable {
        return Err(UserFault::Signal("SIGSEGV"));
    }
    let pte = cx.with(|k| k.mm.ptes.get(&page_of(addr)).copied());
    let fault_handler = if vma.mixedmap {
        FaultKind::Dax
    } else {
        FaultKind::Filemap
    };
    let (r, major, handler) = match pte {
        Some(pte) => {
            let r = cx.call("do_wp_page", do_wp_page(cx, &vma, addr, pte)).await;
            (r, false, FaultKind::WriteProtect)
        }
        None if !write => {
            let (r, m) = cx
                .call("do_read_fault", do_read_fault(cx, &vma, addr))
                .await;
            (r, m, fault_handler)
        }
        None if !vma.shared => {
            let (r, m) = cx.call("do_cow_fault", do_cow_fault(cx, &vma, addr)).await;
            (r, m, FaultKind::Cow)
        }
        None => {
            let (r, m) = cx
                .call("do_shared_fault", do_shared_fault(cx, &vma, addr))
                .await;
            (r, m, fault_handler)
        }
    };
    cx.emit_ns(
        timing::FAULT_NS,
        EventKind::Fault {
            vaddr: addr,
            write,
            major,
            handler,
        },
    );
    match r {
        VmFault::SigBus => Err(UserFault::Signal("SIGBUS")),
        VmFault::Oom => Err(UserFault::Oom),
        _ => Ok(()),
    }
}

impl crate::sched::ShowRet for Result<(), UserFault> {
    fn show(&self) -> Option<Ret> {
        Some(match self {
            Ok(()) => Ret::Num(0),
            Err(UserFault::Signal(s)) => Ret::Name(s),
            Err(UserFault::Oom) => Ret::Name("VM_FAULT_OOM"),
        })
    }
}

impl crate::sched::ShowRet for VmFault {
    fn show(&self) -> Option<Ret> {
        Some(Ret::Name(self.name()))
    }
}

impl crate::sched::ShowRet for (VmFault, bool) {
    fn show(&self) -> Option<Ret> {
        Some(Ret::Fault {
            name: self.0.name(),
            major: self.1,
        })
    }
}

/// The filesystem's `->fault`: `dax_fault` on a `VM_MIXEDMAP` mapping, else `filemap_fault`.
async fn vm_fault(cx: &Cx, vma: &Vma, addr: u64, write: bool, cow: bool) -> (VmFault, bool) {
    if vma.mixedmap {
        dax::dax_fault(cx, "dax_fault", vma, addr, write, cow).await
    } else {
        filemap::filemap_fault(cx, vma, addr).await
    }
}

/// Map a locked page returned by `->fault` and unlock it (`do_set_pte` + `unlock_page`).
async fn set_pte_unlock(cx: &Cx, vma: &Vma, addr: u64, pfn: Pfn, writable: bool) {
    install_pte(
        cx,
        addr,
        Pte {
            pfn,
            writable,
            special: false,
            anon: false,
        },
    );
    cx.unlock(LockName::PageLock {
        ino: vma.ino,
        index: vma.pgoff_of(addr),
    })
    .await;
}

async fn do_read_fault(cx: &Cx, vma: &Vma, addr: u64) -> (VmFault, bool) {
    let (r, major) = vm_fault(cx, vma, addr, false, false).await;
    if let VmFault::Locked(pfn) = r {
        // Read faults map read-only; a shared writable mapping with page_mkwrite keeps
        // vm_page_prot read-only so the first store notifies the filesystem.
        set_pte_unlock(cx, vma, addr, pfn, false).await;
    }
    (r, major)
}

async fn do_shared_fault(cx: &Cx, vma: &Vma, addr: u64) -> (VmFault, bool) {
    let (r, major) = vm_fault(cx, vma, addr, true, false).await;
    if let VmFault::Locked(pfn) = r {
        // ->page_mkwrite on the page-cache page (filemap_page_mkwrite) before mapping it writable.
        filemap::page_mkwrite(cx, vma.ino, vma.pgoff_of(addr)).await;
        set_pte_unlock(cx, vma, addr, pfn, true).await;
    }
    (r, major)
}

async fn do_cow_fault(cx: &Cx, vma: &Vma, addr: u64) -> (VmFault, bool) {
    if vma.mixedmap {
        let (r, major) = vm_fault(cx, vma, addr, true, true).await;
        if let VmFault::Cow { pfn, i_mmap_held } = r {
            install_pte(
                cx,
                addr,
                Pte {
                    pfn,
                    writable: true,
                    special: false,
                    anon: true,
                },
            );
            if i_mmap_held {
                cx.unlock(LockName::IMmapRwsem { ino: vma.ino }).await;
            }
        }
        return (r, major);
    }
    let new = match cx.with(|k| k.mem.alloc_ram(FrameUse::Anon)) {
        Ok(p) => p,
        Err(_) => return (VmFault::Oom, false),
    };
    let (r, major) = vm_fault(cx, vma, addr, true, true).await;
    match r {
        VmFault::Locked(page) => {
            let index = vma.pgoff_of(addr);
            access::copy_frames(
                cx,
                "copy_user_highpage",
                access::page_cache(vma.ino, index, page, 0),
                access::kernel(Space::Anon, new, 0),
                PAGE_SIZE,
            );
            cx.unlock(LockName::PageLock {
                ino: vma.ino,
                index,
            })
            .await;
            install_pte(
                cx,
                addr,
                Pte {
                    pfn: new,
                    writable: true,
                    special: false,
                    anon: true,
                },
            );
            (
                VmFault::Cow {
                    pfn: new,
                    i_mmap_held: false,
                },
                major,
            )
        }
        other => {
            cx.with(|k| k.mem.free_ram(new));
            (other, major)
        }
    }
}

/// `do_wp_page`: a store to a present, read-only PTE.
async fn do_wp_page(cx: &Cx, vma: &Vma, addr: u64, pte: Pte) -> VmFault {
    let make_writable = |pfn: Pfn| {
        cx.with(|k| {
            if let Some(p) = k.mm.ptes.get_mut(&page_of(addr)) {
                p.writable = true;
            }
        });
        cx.emit(EventKind::Pte {
            op: PteOp::MakeWritable,
            vaddr: page_of(addr),
            pfn,
            writable: true,
            special: pte.special,
        });
    };
    if pte.anon {
        make_writable(pte.pfn);
        return VmFault::NoPage;
    }
    if !vma.shared {
        // wp_page_copy: break COW into a new anonymous page. For a special (DAX) PTE there is no
        // struct page: cow_user_page copies through the user address.
        let new = match cx.with(|k| k.mem.alloc_ram(FrameUse::Anon)) {
            Ok(p) => p,
            Err(_) => return VmFault::Oom,
        };
        let src = if pte.special {
            crate::event::Loc {
                space: Space::User,
                vaddr: page_of(addr),
                pfn: Some(pte.pfn),
            }
        } else {
            access::page_cache(vma.ino, vma.pgoff_of(addr), pte.pfn, 0)
        };
        access::copy_frames(
            cx,
            "wp_page_copy",
            src,
            access::kernel(Space::Anon, new, 0),
            PAGE_SIZE,
        );
        cx.with(|k| k.mm.ptes.remove(&page_of(addr)));
        cx.emit(EventKind::Pte {
            op: PteOp::Remove,
            vaddr: page_of(addr),
            pfn: pte.pfn,
            writable: false,
            special: pte.special,
        });
        install_pte(
            cx,
            addr,
            Pte {
                pfn: new,
                writable: true,
                special: false,
                anon: true,
            },
        );
        return VmFault::NoPage;
    }
    if pte.special {
        let era = cx.with(|k| k.era);
        if era.has_pfn_mkwrite() {
            cx.call("dax_pfn_mkwrite", async {}).await;
        }
        // 4.0: vm_normal_page() is NULL for a special PTE; a shared writable mapping is simply
        // made writable ("reuse"). No ->page_mkwrite: no mtime update, no freeze protection.
        make_writable(pte.pfn);
        return VmFault::NoPage;
    }
    if vma.mixedmap {
        // A store to a read-only hole page: ->page_mkwrite = ext2_dax_mkwrite → dax_mkwrite,
        // which allocates the block, drops the hole page and inserts the pfn.
        let (r, _) = dax::dax_fault(cx, "dax_mkwrite", vma, addr, true, false).await;
        return r;
    }
    filemap::page_mkwrite(cx, vma.ino, vma.pgoff_of(addr)).await;
    make_writable(pte.pfn);
    VmFault::NoPage
}

/// A user load (`store == None`) or store through mapping addresses `[addr, addr+len)`, one
/// page at a time, faulting as the MMU would. Returns the bytes loaded.
pub async fn user_access(
    cx: &Cx,
    addr: u64,
    len: u64,
    store: Option<&[u8]>,
) -> Result<Vec<u8>, UserFault> {
    let mut out = vec![0u8; if store.is_some() { 0 } else { len as usize }];
    let mut done = 0u64;
    let write = store.is_some();
    while done < len {
        let va = addr + done;
        let n = (PAGE_SIZE - va % PAGE_SIZE).min(len - done);
        let mut tries = 0;
        loop {
            let pte = cx.with(|k| k.mm.ptes.get(&page_of(va)).copied());
            match pte {
                Some(p) if !write || p.writable => {
                    let off = (va % PAGE_SIZE) as usize;
                    let range = done as usize..(done + n) as usize;
                    cx.with(|k| match store {
                        Some(data) => k.mem.write(p.pfn, off, &data[range]),
                        None => k.mem.read(p.pfn, off, &mut out[range]),
                    });
                    cx.emit(EventKind::Access {
                        vaddr: va,
                        pfn: p.pfn,
                        bytes: n,
                        write,
                    });
                    break;
                }
                _ => {
                    tries += 1;
                    if tries > 4 {
                        // The model guarantees progress within a few faults; never spin.
                        return Err(UserFault::Signal("SIGBUS"));
                    }
                    cx.call("handle_mm_fault", handle_mm_fault(cx, va, write))
                        .await?;
                    // The access is retried after the fault returns; another thread may run.
                    cx.yield_now().await;
                }
            }
        }
        done += n;
        cx.yield_now().await;
    }
    Ok(out)
}

/// `get_user_pages` on `[addr, addr+len)`: fault pages in, then `follow_page`. A special PTE
/// in a `VM_MIXEDMAP` mapping has no `struct page` (`vm_normal_page` is NULL): `-EFAULT`.
pub async fn get_user_pages(cx: &Cx, addr: u64, len: u64, write: bool) -> KResult<Vec<Pfn>> {
    cx.call("get_user_pages", async {
        let mut pages = Vec::new();
        let mut a = page_of(addr);
        while a < addr + len {
            let pte = cx.with(|k| k.mm.ptes.get(&a).copied());
            let pte = match pte {
                Some(p) if !write || p.writable => p,
                _ => {
                    handle_mm_fault(cx, a, write)
                        .await
                        .map_err(|_| Errno::EFAULT)?;
                    cx.with(|k| k.mm.ptes.get(&a).copied())
                        .ok_or(Errno::EFAULT)?
                }
            };
            if pte.special {
                cx.emit(EventKind::Error {
                    func: "follow_page_pte",
                    errno: Errno::EFAULT,
                });
                return Err(Errno::EFAULT);
            }
            pages.push(pte.pfn);
            a += PAGE_SIZE;
        }
        Ok(pages)
    })
    .await
}

impl crate::sched::ShowRet for Vec<Pfn> {
    fn show(&self) -> Option<Ret> {
        Some(Ret::Num(self.len() as u64))
    }
}
