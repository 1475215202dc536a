//! `mm/memory.c` and the x86 fault entry: page faults (`__do_page_fault`, `handle_mm_fault`,
//! `do_read_fault`, `do_shared_fault`, `do_cow_fault`, `do_wp_page`), `vm_insert_mixed`,
//! `unmap_mapping_range` and `page_mkclean`.

use crate::engine::cx::{Cx, Show};
use crate::engine::footprint::Obj;
use crate::engine::trace::{EventKind, Fail, FaultKind, PteOp, Shown, Signal, Space};
use crate::errno::{Errno, KResult};
use crate::kernel::{cpu, ops};
use crate::state::lock::{LockMode, LockName};
use crate::state::mem::{FrameUse, Pfn, PAGE_SIZE};
use crate::state::mm::{Pte, Vma, VmaKind};
use crate::state::Pid;
use crate::timing;

/// What a `->fault` handler returns (`VM_FAULT_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VmFault {
    /// `VM_FAULT_NOPAGE`: the handler installed the PTE itself (or there is nothing to map).
    NoPage,
    /// `VM_FAULT_LOCKED` with `vmf->page`: a locked page for the core to map.
    Locked(Pfn),
    /// `VM_FAULT_LOCKED` from a DAX fault that filled `vmf->cow_page`: `vmf->page` is the
    /// locked hole page if there was one (`None`: the handler holds `i_mmap_lock_read`
    /// instead, "to protect against truncate"), released after the PTE is set.
    Cow {
        /// `vmf->page`.
        page: Option<Pfn>,
    },
    /// `VM_FAULT_WRITE`: `do_wp_page` made the PTE writable, or copied the page (the caller
    /// counts it as a write).
    Write,
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
            VmFault::Write => "VM_FAULT_WRITE",
            VmFault::Locked(_) | VmFault::Cow { .. } => "VM_FAULT_LOCKED",
            VmFault::SigBus => "VM_FAULT_SIGBUS",
            VmFault::Oom => "VM_FAULT_OOM",
        }
    }
}

impl Show for VmFault {
    fn shown(&self) -> Option<Shown> {
        Some(Shown::Name(self.name()))
    }
}

impl Show for (VmFault, bool) {
    fn shown(&self) -> Option<Shown> {
        Some(Shown::Fault {
            name: self.0.name(),
            major: self.1,
        })
    }
}

impl Show for Result<(), Fail> {
    fn shown(&self) -> Option<Shown> {
        Some(match self {
            Ok(()) => Shown::Num(0),
            Err(Fail::Signal(s)) => Shown::Name(s.name()),
            Err(Fail::Errno(e)) => Shown::Errno(*e),
        })
    }
}

fn page_of(addr: u64) -> u64 {
    addr - addr % PAGE_SIZE
}

fn pte_at(cx: &Cx, pid: Pid, addr: u64) -> Option<Pte> {
    cx.read(Obj::Pte(pid, page_of(addr)), |m| {
        m.process(pid).mm.pte(addr)
    })
}

fn install_pte(cx: &Cx, addr: u64, pte: Pte) {
    let pid = cx.pid;
    cx.write(Obj::Pte(pid, page_of(addr)), |m| {
        m.process_mut(pid).mm.set_pte(addr, pte)
    });
    cx.emit(EventKind::Pte {
        pid,
        op: PteOp::Install,
        vaddr: page_of(addr),
        pfn: pte.pfn,
        writable: pte.writable,
        special: pte.special,
    });
    if !pte.special {
        crate::kernel::cacheflush::update_mmu_cache(cx, pte.pfn);
    }
}

/// Every process and VMA that maps inode `ino` (the `i_mmap` interval tree).
fn mappers(cx: &Cx, ino: u64) -> Vec<(Pid, Vma)> {
    cx.read(Obj::Mms, |m| {
        m.processes
            .iter()
            .enumerate()
            .flat_map(|(p, proc_)| {
                proc_
                    .mm
                    .vmas
                    .values()
                    .filter(|v| v.ino() == Some(ino))
                    .map(move |v| (Pid(p as u16), v.clone()))
            })
            .collect()
    })
}

/// `page_mkclean`: make every PTE that maps a page-cache page read-only (`rmap` walk), so the
/// next store through any of them faults.
pub fn page_mkclean(cx: &Cx, ino: u64, index: u64, pfn: Pfn) {
    for (pid, v) in mappers(cx, ino) {
        let Some(addr) = v.addr_of(index) else {
            continue;
        };
        let cleaned = cx.write(Obj::Pte(pid, addr), |m| {
            let mm = &mut m.process_mut(pid).mm;
            match mm.pte(addr) {
                Some(mut p) if p.pfn == pfn && p.writable && !p.anon && !p.special => {
                    p.writable = false;
                    mm.set_pte(addr, p);
                    true
                }
                _ => false,
            }
        });
        if cleaned {
            // page_mkclean_one: "flush_cache_page(vma, address, pte_pfn(*pte))" first.
            crate::kernel::cacheflush::flush_cache_page(cx, addr, pfn);
            cx.emit(EventKind::Pte {
                pid,
                op: PteOp::WriteProtect,
                vaddr: addr,
                pfn,
                writable: false,
                special: false,
            });
        }
    }
}

/// `vm_insert_mixed(vma, addr, pfn)`: on x86 (`pte_special`), `insert_pfn` builds a special PTE
/// with `vma->vm_page_prot`. A DAX mapping has `page_mkwrite`, so `vm_page_prot` is read-only
/// (write notification) and the first store takes a write-protect fault. Without
/// `pte_special` (ARMv5, MIPS), a pfn that has a `struct page` (a brd page) goes to
/// `insert_page` instead: a normal PTE, after `flush_dcache_page(page)`.
pub async fn vm_insert_mixed(cx: &Cx, vma: &Vma, addr: u64, pfn: Pfn) -> KResult<()> {
    cx.call("vm_insert_mixed", async {
        if !vma.mixedmap {
            return Err(Errno::EINVAL); // BUG_ON(!(vma->vm_flags & VM_MIXEDMAP))
        }
        if !vma.contains(addr) {
            return Err(Errno::EFAULT);
        }
        if pte_at(cx, cx.pid, addr).is_some() {
            return Err(Errno::EBUSY); // already populated by a concurrent fault
        }
        // "if (!HAVE_PTE_SPECIAL && pfn_valid(pfn))": the page's refcount and mapcount are not
        // modelled for mapped pages (as for page-cache PTEs).
        let page = !cx.config().arch.has_pte_special()
            && cx.read(Obj::Frame(pfn), |m| {
                m.mem.get(pfn).is_some_and(|f| f.usage.has_struct_page())
            });
        let func = if page { "insert_page" } else { "insert_pfn" };
        cx.call_sync(func, || {
            if page {
                crate::kernel::cacheflush::flush_dcache_page(cx, pfn);
            }
            install_pte(
                cx,
                addr,
                Pte {
                    pfn,
                    writable: false,
                    special: !page,
                    anon: false,
                },
            );
        });
        Ok(())
    })
    .await
}

/// `unmap_mapping_range(mapping, holebegin, holelen, even_cows)` for `npages` pages from file
/// page `first` (`None`: to the end), in every process that maps the file. Takes
/// `i_mmap_rwsem` for write.
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
        let last = npages.map_or(u64::MAX, |n| first.saturating_add(n));
        for (pid, v) in mappers(cx, ino) {
            let gone: Vec<(u64, Pte)> = cx.write(Obj::Mm(pid), |m| {
                let mm = &mut m.process_mut(pid).mm;
                let gone: Vec<(u64, Pte)> = mm
                    .ptes_in(v.start, v.len)
                    .filter(|(a, p)| {
                        let pg = v.pgoff_of(*a);
                        pg >= first && pg < last && (even_cows || !p.anon)
                    })
                    .collect();
                for (a, _) in &gone {
                    mm.clear_pte(*a);
                }
                for (_, p) in &gone {
                    if p.anon {
                        m.mem.put_page(p.pfn);
                    }
                }
                gone
            });
            for (a, p) in gone {
                crate::kernel::cacheflush::flush_cache_page(cx, a, p.pfn);
                cx.emit(EventKind::Pte {
                    pid,
                    op: PteOp::Remove,
                    vaddr: a,
                    pfn: p.pfn,
                    writable: p.writable,
                    special: p.special,
                });
            }
        }
        cx.unlock(lock).await;
    })
    .await
}

/// Who made an access that faulted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The program: a fault that cannot be resolved is a signal.
    User,
    /// The kernel copying to or from user memory: a fault that cannot be resolved is fixed
    /// up by the exception table (`no_context` → `fixup_exception`) and the copy stops short.
    Kernel,
}

/// The x86 page-fault entry (`__do_page_fault`): `mmap_sem` for read around `find_vma` and
/// `handle_mm_fault`, so `munmap` and `mmap` wait for a fault in progress.
///
/// Simplified: no `VM_FAULT_RETRY`. 4.0's `lock_page_or_retry` drops `mmap_sem` and retries
/// rather than sleep on a locked page; here a fault sleeps on the page lock with `mmap_sem`
/// held.
pub async fn do_page_fault(cx: &Cx, addr: u64, write: bool, mode: Mode) -> Result<(), Fail> {
    cx.call("do_page_fault", page_fault(cx, addr, write, mode))
        .await
}

async fn page_fault(cx: &Cx, addr: u64, write: bool, mode: Mode) -> Result<(), Fail> {
    let mmap_sem = LockName::MmapSem { pid: cx.pid };
    cx.lock(mmap_sem, LockMode::Read).await;
    let vma = cx.read(Obj::Mm(cx.pid), |m| {
        let v = m.process(cx.pid).mm.find_vma(addr).cloned()?;
        // The fault's events count toward the mount of the file mapped.
        let mount = v
            .ino()
            .and_then(|i| m.inodes.get(&i))
            .and_then(|i| m.mount_of_fs(i.fs));
        Some((v, mount))
    });
    let r = match vma {
        None => Err(Fail::Signal(Signal::Sigsegv)),
        Some((v, _)) if write && !v.writable => Err(Fail::Signal(Signal::Sigsegv)),
        Some((v, mount)) => {
            let fcx = cx.on_mount(mount.or(cx.mount));
            fcx.call("handle_mm_fault", handle_mm_fault(&fcx, &v, addr, write))
                .await
        }
    };
    cx.unlock(mmap_sem).await;
    match (r, mode) {
        (Err(Fail::Signal(signal)), Mode::User) => {
            cx.emit(EventKind::Signal {
                signal,
                vaddr: addr,
            });
        }
        (Err(Fail::Signal(_)), Mode::Kernel) => {
            cx.emit(EventKind::Error {
                func: "fixup_exception",
                errno: Errno::EFAULT,
            });
            return Err(Fail::Errno(Errno::EFAULT));
        }
        _ => {}
    }
    r
}

/// `handle_mm_fault` for one page: dispatch to the read, shared, COW or write-protect path. The
/// fault is counted as /proc/vmstat counts it: `pgfault` always, `pgmajfault` when the handler
/// did I/O or allocated a block.
pub async fn handle_mm_fault(cx: &Cx, vma: &Vma, addr: u64, write: bool) -> Result<(), Fail> {
    let VmaKind::File { ops: vm_ops, .. } = vma.kind else {
        return Err(Fail::Signal(Signal::Sigsegv)); // the buffer is always present
    };
    let pte = pte_at(cx, cx.pid, addr);
    let handler = if vma.mixedmap {
        FaultKind::Dax
    } else {
        FaultKind::Filemap
    };
    let (r, major, handler) = match pte {
        Some(pte) => {
            let (r, m) = cx
                .call("do_wp_page", do_wp_page(cx, vma, addr, pte, vm_ops))
                .await;
            (r, m, FaultKind::WriteProtect)
        }
        None if !write => {
            let (r, m) = cx
                .call("do_read_fault", do_read_fault(cx, vma, addr, vm_ops))
                .await;
            (r, m, handler)
        }
        None if !vma.shared => {
            let (r, m) = cx
                .call("do_cow_fault", do_cow_fault(cx, vma, addr, vm_ops))
                .await;
            (r, m, FaultKind::Cow)
        }
        None => {
            let (r, m) = cx
                .call("do_shared_fault", do_shared_fault(cx, vma, addr, vm_ops))
                .await;
            (r, m, handler)
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
        VmFault::SigBus => Err(Fail::Signal(Signal::Sigbus)),
        VmFault::Oom => Err(Fail::Errno(Errno::ENOMEM)),
        _ => Ok(()),
    }
}

/// `do_set_pte` after "pte_same(*pte, orig_pte)" under the PTE lock (the original PTE was
/// empty): if another fault installed a PTE meanwhile, the page is dropped instead.
fn set_pte_if_none(cx: &Cx, addr: u64, pte: Pte) -> bool {
    if pte_at(cx, cx.pid, addr).is_some() {
        cx.emit(EventKind::Pte {
            pid: cx.pid,
            op: PteOp::Lost,
            vaddr: page_of(addr),
            pfn: pte.pfn,
            writable: pte.writable,
            special: pte.special,
        });
        return false;
    }
    install_pte(cx, addr, pte);
    true
}

async fn unlock_page(cx: &Cx, vma: &Vma, addr: u64) {
    if let Some(ino) = vma.ino() {
        cx.unlock(LockName::PageLock {
            ino,
            index: vma.pgoff_of(addr),
        })
        .await;
    }
}

/// `fault_around_bytes`: 64 KiB, 16 pages.
const FAULT_AROUND_PAGES: u64 = 16;

/// `do_fault_around` → `filemap_map_pages`: map, read-only, the pages of the 16-page window
/// around `addr` (within the VMA) that are in the page cache, up to date, not locked and below
/// `i_size`, where no PTE is yet. No page is read and no fault is counted for them.
fn do_fault_around(cx: &Cx, vma: &Vma, addr: u64) {
    let Some(ino) = vma.ino() else { return };
    let span = FAULT_AROUND_PAGES * PAGE_SIZE;
    let start = (addr & !(span - 1)).max(vma.start);
    let end = (start + span).min(vma.start + vma.len);
    let pid = cx.pid;
    let size = cx.read(Obj::ISize(ino), |m| m.inode(ino).map_or(0, |i| i.size));
    let mut va = start;
    while va < end {
        let index = vma.pgoff_of(va);
        let page = cx.read(Obj::CachePage(ino, index), |m| {
            m.inode(ino)
                .ok()
                .and_then(|i| i.mapping.find_get_page(index))
        });
        let free = pte_at(cx, pid, va).is_none();
        let lock = LockName::PageLock { ino, index };
        if let Some(p) = page.filter(|p| p.uptodate && !p.hole && free) {
            // trylock_page (taken and dropped within the walk: only whether it is free
            // matters); "if (page->index >= size) goto unlock"
            let unlocked = cx.read(Obj::Lock(lock), |m| m.locks.free_for(lock, LockMode::Write));
            if index < size.div_ceil(PAGE_SIZE) && unlocked {
                install_pte(
                    cx,
                    va,
                    Pte {
                        pfn: p.pfn,
                        writable: false,
                        special: false,
                        anon: false,
                    },
                );
            }
        }
        va += PAGE_SIZE;
    }
}

async fn do_read_fault(
    cx: &Cx,
    vma: &Vma,
    addr: u64,
    vm_ops: crate::state::ops::VmOps,
) -> (VmFault, bool) {
    // "Let's call ->map_pages() first and use ->fault() as fallback if page by the offset is
    // not ready to be mapped (cold cache or something)."
    if vm_ops.map_pages {
        cx.call("do_fault_around", async { do_fault_around(cx, vma, addr) })
            .await;
        if pte_at(cx, cx.pid, addr).is_some() {
            return (VmFault::NoPage, false);
        }
    }
    let (r, major) = ops::fault(cx, vm_ops.fault, vma, addr, false, None).await;
    if let VmFault::Locked(pfn) = r {
        // Read faults map read-only; a shared writable mapping with page_mkwrite keeps
        // vm_page_prot read-only so the first store notifies the filesystem.
        set_pte_if_none(
            cx,
            addr,
            Pte {
                pfn,
                writable: false,
                special: false,
                anon: false,
            },
        );
        unlock_page(cx, vma, addr).await;
    }
    (r, major)
}

async fn do_shared_fault(
    cx: &Cx,
    vma: &Vma,
    addr: u64,
    vm_ops: crate::state::ops::VmOps,
) -> (VmFault, bool) {
    let (r, major) = ops::fault(cx, vm_ops.fault, vma, addr, true, None).await;
    let VmFault::Locked(pfn) = r else {
        return (r, major);
    };
    // do_page_mkwrite on the page-cache page before mapping it writable.
    unlock_page(cx, vma, addr).await;
    let (m, _) = cx
        .call(
            "do_page_mkwrite",
            ops::page_mkwrite(cx, vm_ops.page_mkwrite, vma, addr),
        )
        .await;
    if !matches!(m, VmFault::Locked(_)) {
        return (m, major);
    }
    set_pte_if_none(
        cx,
        addr,
        Pte {
            pfn,
            writable: true,
            special: false,
            anon: false,
        },
    );
    unlock_page(cx, vma, addr).await;
    (r, major)
}

async fn do_cow_fault(
    cx: &Cx,
    vma: &Vma,
    addr: u64,
    vm_ops: crate::state::ops::VmOps,
) -> (VmFault, bool) {
    let anon = |pfn| Pte {
        pfn,
        writable: true,
        special: false,
        anon: true,
    };
    // The new anonymous page comes first, then ->fault with vmf->cow_page set.
    let pid = cx.pid;
    let Ok(new) = cx.write(Obj::Ram, |m| m.mem.alloc_ram(FrameUse::Anon { pid })) else {
        return (VmFault::Oom, false);
    };
    let (r, major) = ops::fault(cx, vm_ops.fault, vma, addr, true, Some(new)).await;
    let (fault_page, locked) = match (r, vma.ino()) {
        (VmFault::Locked(page), Some(_)) => (Some(page), true),
        (VmFault::Cow { page }, Some(_)) => (page, page.is_some()),
        _ => {
            cx.write(Obj::Ram, |m| m.mem.put_page(new));
            return (r, major);
        }
    };
    let ino = vma.ino().unwrap_or_default();
    if let Some(page) = fault_page {
        // copy_user_highpage(new_page, fault_page): for DAX, the hole page's zeros.
        let index = vma.pgoff_of(addr);
        let src = match r {
            VmFault::Cow { .. } => cpu::kernel(Space::HolePage { ino, index }, page, 0),
            _ => cpu::page_cache(ino, index, page, 0),
        };
        cpu::copy_user_highpage(cx, src, cpu::kernel(Space::Anon, new, 0));
    }
    // pte_same, do_set_pte; then the page lock (or i_mmap_rwsem) goes.
    if !set_pte_if_none(cx, addr, anon(new)) {
        cx.write(Obj::Ram, |m| m.mem.put_page(new));
    }
    if locked {
        unlock_page(cx, vma, addr).await;
    } else {
        cx.unlock(LockName::IMmapRwsem { ino }).await;
    }
    (r, major)
}

fn make_writable(cx: &Cx, addr: u64, pte: Pte) {
    let pid = cx.pid;
    cx.write(Obj::Pte(pid, page_of(addr)), |m| {
        let mm = &mut m.process_mut(pid).mm;
        if let Some(mut p) = mm.pte(addr) {
            p.writable = true;
            mm.set_pte(addr, p);
        }
    });
    cx.emit(EventKind::Pte {
        pid,
        op: PteOp::MakeWritable,
        vaddr: page_of(addr),
        pfn: pte.pfn,
        writable: true,
        special: pte.special,
    });
    if !pte.special {
        crate::kernel::cacheflush::update_mmu_cache(cx, pte.pfn);
    }
}

/// `do_wp_page`: a store to a present, read-only PTE. Returns the result and whether the
/// `->page_mkwrite` it called counted a major fault.
async fn do_wp_page(
    cx: &Cx,
    vma: &Vma,
    addr: u64,
    pte: Pte,
    vm_ops: crate::state::ops::VmOps,
) -> (VmFault, bool) {
    // Every way out that writes returns VM_FAULT_WRITE ("ret |= VM_FAULT_WRITE", 4.0
    // mm/memory.c), at reuse and after a copy.
    if pte.anon {
        make_writable(cx, addr, pte);
        return (VmFault::Write, false);
    }
    if !vma.shared {
        // wp_page_copy: break COW into a new anonymous page. For a special (DAX) PTE there is no
        // struct page: cow_user_page copies through the user address.
        let pid = cx.pid;
        let Ok(new) = cx.write(Obj::Ram, |m| m.mem.alloc_ram(FrameUse::Anon { pid })) else {
            return (VmFault::Oom, false);
        };
        let dst = cpu::kernel(Space::Anon, new, 0);
        match (pte.special, vma.ino()) {
            (false, Some(ino)) => cpu::copy_user_highpage(
                cx,
                cpu::page_cache(ino, vma.pgoff_of(addr), pte.pfn, 0),
                dst,
            ),
            _ => {
                // __copy_from_user_inatomic(kaddr, uaddr), then flush_dcache_page(dst).
                cpu::copy(
                    cx,
                    "cow_user_page",
                    cpu::user(pid, page_of(addr), pte.pfn),
                    dst,
                    PAGE_SIZE,
                    timing::ram_copy_ns(PAGE_SIZE),
                );
                crate::kernel::cacheflush::flush_dcache_page(cx, new);
            }
        }
        // ptep_clear_flush: flush_cache_page, then the PTE.
        crate::kernel::cacheflush::flush_cache_page(cx, page_of(addr), pte.pfn);
        cx.write(Obj::Pte(pid, page_of(addr)), |m| {
            m.process_mut(pid).mm.clear_pte(addr)
        });
        cx.emit(EventKind::Pte {
            pid,
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
        return (VmFault::Write, false);
    }
    if pte.special {
        if let Some(f) = vm_ops.pfn_mkwrite {
            cx.call(f, async {}).await;
        }
        // 4.0: vm_normal_page() is NULL for a special PTE; a shared writable mapping is simply
        // made writable ("reuse"). No ->page_mkwrite: no mtime update, no freeze protection.
        make_writable(cx, addr, pte);
        return (VmFault::Write, false);
    }
    // A page-cache page (for DAX: a hole page) in a shared writable mapping: do_page_mkwrite.
    let (r, major) = cx
        .call(
            "do_page_mkwrite",
            ops::page_mkwrite(cx, vm_ops.page_mkwrite, vma, addr),
        )
        .await;
    match r {
        VmFault::Locked(_) => {
            // Relocked: reused (VM_FAULT_WRITE) only if it is still the PTE that faulted.
            let reused = pte_at(cx, cx.pid, addr) == Some(pte);
            if reused {
                make_writable(cx, addr, pte);
            }
            unlock_page(cx, vma, addr).await;
            (
                if reused {
                    VmFault::Write
                } else {
                    VmFault::NoPage
                },
                major,
            )
        }
        other => (other, major),
    }
}
