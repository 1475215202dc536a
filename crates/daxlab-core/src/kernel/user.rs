//! User space as the kernel meets it: each thread's I/O buffer (the memory `read()` and
//! `write()` copy to and from), user addresses resolved to frames (faulting them in as
//! `copy_to_user` would), and a program's loads and stores through a mapping.

use crate::engine::cx::Cx;
use crate::engine::footprint::{Access, Obj};
use crate::engine::trace::{EventKind, Fail, SchedNote, Signal, SysResult};
use crate::errno::Errno;
use crate::kernel::resume::Resume;
use crate::kernel::{cpu, memory};
use crate::lang::data::{Data, Slice};
use crate::state::mem::{FrameUse, Pfn, PAGE_SHIFT, PAGE_SIZE};
use crate::state::mm::{Pte, Vma, VmaKind};
use crate::state::Tid;

/// Where a thread's I/O buffer starts: each thread has its own, 4 GiB apart.
pub fn buffer_base(tid: Tid) -> u64 {
    0x7ffd_0000_0000 + (u64::from(tid.0) << 32)
}

/// Make the thread's buffer at least `len` bytes, with every page present (a program's buffer
/// is resident: it has used it before). Not a kernel path: no events.
pub fn ensure_buffer(cx: &Cx, len: u64) -> Result<u64, Errno> {
    let base = buffer_base(cx.tid);
    let pid = cx.pid;
    let want = len.next_multiple_of(PAGE_SIZE).max(PAGE_SIZE);
    cx.touching(
        &[
            crate::engine::footprint::Access {
                obj: Obj::Mm(pid),
                write: true,
            },
            crate::engine::footprint::Access {
                obj: Obj::Ram,
                write: true,
            },
        ],
        |m| {
            let have = m.process(pid).mm.vmas.get(&base).map_or(0, |v| v.len);
            if have >= want {
                return Ok(base);
            }
            for a in (base + have..base + want).step_by(PAGE_SIZE as usize) {
                let pfn = m.mem.alloc_ram(FrameUse::UserBuffer { pid })?;
                m.process_mut(pid).mm.set_pte(
                    a,
                    Pte {
                        pfn,
                        writable: true,
                        special: false,
                        anon: true,
                    },
                );
            }
            let name = format!("[buffer of thread {}]", cx.tid.0);
            m.process_mut(pid).mm.vmas.insert(
                base,
                Vma {
                    name: name.into(),
                    start: base,
                    len: want,
                    kind: VmaKind::Buffer,
                    pgoff: 0,
                    shared: false,
                    writable: true,
                    mixedmap: false,
                },
            );
            Ok(base)
        },
    )
}

/// Where the kernel buffers of thread `tid` are reached under `set_fs(KERNEL_DS)`: the vmalloc
/// area of x86-64, 4 GiB per thread. Simplified: `kernel_readv` of a pipe passes one iovec
/// entry per page, at `page_address(page)`; the model passes one range.
pub fn kernel_buffer_base(tid: Tid) -> u64 {
    0xffff_c900_0000_0000 + (u64::from(tid.0) << 32)
}

/// Hand kernel pages `pages` to the read and write paths as one buffer (`set_fs(KERNEL_DS)`):
/// returns its address. Not a kernel path of its own: no events.
pub fn map_kernel_buffer(cx: &Cx, name: &'static str, pages: &[Pfn]) -> u64 {
    let base = kernel_buffer_base(cx.tid);
    let pid = cx.pid;
    cx.write(Obj::Mm(pid), |m| {
        let mm = &mut m.process_mut(pid).mm;
        for (k, pfn) in pages.iter().enumerate() {
            mm.set_pte(
                base + k as u64 * PAGE_SIZE,
                Pte {
                    pfn: *pfn,
                    writable: true,
                    special: false,
                    anon: true,
                },
            );
        }
        mm.vmas.insert(
            base,
            Vma {
                name: name.into(),
                start: base,
                len: pages.len() as u64 * PAGE_SIZE,
                kind: VmaKind::Kernel,
                pgoff: 0,
                shared: false,
                writable: true,
                mixedmap: false,
            },
        );
    });
    base
}

/// `set_fs(old_fs)`: the buffer [`map_kernel_buffer`] handed out is no longer reachable.
pub fn unmap_kernel_buffer(cx: &Cx) {
    let base = kernel_buffer_base(cx.tid);
    let pid = cx.pid;
    cx.write(Obj::Mm(pid), |m| {
        let mm = &mut m.process_mut(pid).mm;
        if let Some(v) = mm.vmas.remove(&base) {
            for a in (v.start..v.start + v.len).step_by(PAGE_SIZE as usize) {
                mm.clear_pte(a);
            }
        }
    });
}

/// The program fills its buffer with `data` before a `write()` (user space: no event). Where
/// the CPU has a data cache the program's stores go through it, as any store does.
pub fn fill_buffer(cx: &Cx, data: &Data) {
    let base = buffer_base(cx.tid);
    let pid = cx.pid;
    let acc = [
        Access {
            obj: Obj::Mm(pid),
            write: true,
        },
        Access {
            obj: Obj::DCache,
            write: true,
        },
    ];
    let n = if cx.config().arch.dcache().is_some() {
        2
    } else {
        1
    };
    cx.touching(&acc[..n], |m| {
        let mut off = 0;
        let mut page = Vec::new();
        while off < data.len() {
            let n = (PAGE_SIZE).min(data.len() - off);
            if let Some(p) = m.process(pid).mm.pte(base + off) {
                match m.dcache.as_mut() {
                    None => data.fill(off, &mut m.mem.page_mut(p.pfn)[..n as usize]),
                    Some(c) => {
                        page.resize(n as usize, 0);
                        data.fill(off, &mut page);
                        c.store(&mut m.mem, base + off, p.pfn, 0, &page, &mut Vec::new());
                    }
                }
            }
            off += n;
        }
    });
}

/// Faults one access may take before the model calls it a livelock (the kernel's paths need
/// at most three: a read fault, a write-protect fault, a retry after a race).
pub const FAULT_RETRIES: u32 = 8;

/// The frame behind user address `uva` for an access to (`write`) or from it, faulting it in
/// as the MMU would. `mode` says who accesses: the program itself, or the kernel in
/// `copy_to_user`/`copy_from_user` (the fault then runs with whatever the caller holds, e.g.
/// `i_mutex`, and a fault that cannot be resolved ends the copy, not the program).
pub async fn user_frame(cx: &Cx, uva: u64, write: bool, mode: memory::Mode) -> Result<Pfn, Fail> {
    for _ in 0..FAULT_RETRIES {
        let pte = cx.read(Obj::Pte(cx.pid, uva & !(PAGE_SIZE - 1)), |m| {
            m.process(cx.pid).mm.pte(uva)
        });
        match pte {
            Some(p) if !write || p.writable => return Ok(p.pfn),
            _ => memory::do_page_fault(cx, uva, write, mode).await?,
        }
    }
    // Every fault returned and the access still cannot proceed: 4.0 retries forever (a store to
    // a DAX page that `insert_page` mapped read-only, where `->page_mkwrite` is `dax_fault` and
    // returns VM_FAULT_NOPAGE). Never spin.
    cx.emit(EventKind::Sched(SchedNote::Livelock { vaddr: uva }));
    Err(Fail::Signal(Signal::Sigbus))
}

/// `iov_iter_fault_in_readable`: touch the user bytes a copy will read, so that the copy can
/// run with page faults disabled (under a page lock).
pub async fn fault_in_readable(cx: &Cx, uva: u64, len: u64) -> Result<(), Fail> {
    let mut va = uva;
    while va < uva + len {
        user_frame(cx, va, false, memory::Mode::Kernel).await?;
        va = (va / PAGE_SIZE + 1) * PAGE_SIZE;
    }
    Ok(())
}

/// The state of a program's load or store through a mapping, between two pages.
#[derive(Debug, Clone)]
pub struct UserAccess {
    addr: u64,
    len: u64,
    done: u64,
    store: Option<Data>,
    loaded: Vec<Slice>,
}

impl PartialEq for UserAccess {
    fn eq(&self, o: &Self) -> bool {
        (self.addr, self.len, self.done) == (o.addr, o.len, o.done)
    }
}

impl UserAccess {
    /// A load of `len` bytes at `addr`, or a store of `store` there.
    pub fn new(addr: u64, len: u64, store: Option<Data>) -> Self {
        UserAccess {
            addr,
            len,
            done: 0,
            store,
            loaded: Vec::new(),
        }
    }
}

/// A program's loads (or stores) of `[addr, addr+len)`, one page at a time, faulting as the MMU
/// would. The bytes loaded are left with the engine ([`crate::engine::cx::World::loaded`]).
pub async fn user_access(cx: &Cx, mut s: UserAccess) -> SysResult {
    let write = s.store.is_some();
    while s.done < s.len {
        let va = s.addr + s.done;
        let n = (PAGE_SIZE - va % PAGE_SIZE).min(s.len - s.done);
        let pfn = user_frame(cx, va, write, memory::Mode::User).await?;
        match &s.store {
            Some(data) => cpu::user_store(cx, va, pfn, data, s.done, n),
            None => s.loaded.push(cpu::user_load(cx, va, pfn, n)),
        }
        s.done += n;
        cx.capture_point(|| Resume::UserAccess(s.clone())).await;
    }
    if !write {
        let bytes = crate::lang::data::Bytes::from_slices(std::mem::take(&mut s.loaded));
        cx.world().set_loaded(cx.tid, bytes);
    }
    Ok(s.len)
}

/// The page number of `addr`.
pub fn vpn(addr: u64) -> u64 {
    addr >> PAGE_SHIFT
}

/// The first `n` bytes of the thread's buffer as they are now (shared, not copied): what a
/// `read()` left there.
pub fn buffer_bytes(cx: &Cx, n: u64) -> crate::lang::data::Bytes {
    let base = buffer_base(cx.tid);
    let pid = cx.pid;
    let slices = cx.read(Obj::Mm(pid), |m| {
        let mut v = Vec::new();
        let mut off = 0;
        while off < n {
            let len = PAGE_SIZE.min(n - off);
            let pte = m.process(pid).mm.pte(base + off);
            // What the program would load: through its cache lines where there is a cache.
            let page = pte.and_then(|p| match &m.dcache {
                None => m.mem.page_ref(p.pfn),
                Some(c) => Some(c.view_at(&m.mem, base + off, p.pfn).into()),
            });
            v.push(Slice {
                page,
                off: 0,
                len: len as u16,
            });
            off += len;
        }
        v
    });
    crate::lang::data::Bytes::from_slices(slices)
}

/// `copy_to_user`/`copy_from_user` of `len` bytes between kernel memory `kloc` (within one
/// page) and user memory at `uva`, split where the user range crosses a page; user pages are
/// faulted in as needed. `to_user` is the direction. Returns how many bytes were copied before
/// a fault that could not be resolved.
pub async fn copy_user(
    cx: &Cx,
    func: &'static str,
    kloc: crate::engine::trace::Loc,
    uva: u64,
    len: u64,
    ns: u64,
    to_user: bool,
) -> Result<(), (u64, Fail)> {
    if try_copy_user(cx, func, kloc, uva, len, ns, to_user) {
        return Ok(());
    }
    let mut done = 0;
    while done < len {
        let va = uva + done;
        let n = (PAGE_SIZE - va % PAGE_SIZE).min(len - done);
        let upfn = user_frame(cx, va, to_user, memory::Mode::Kernel)
            .await
            .map_err(|f| (done, f))?;
        let part = Part {
            done,
            va,
            n,
            pfn: upfn,
        };
        copy_part(cx, func, kloc, part, len, ns, to_user);
        done += n;
    }
    Ok(())
}

/// [`copy_user`] with page faults disabled (`__copy_from_user_inatomic` and friends): copies
/// only if every user page of the range is mapped as needed, without the fault machinery.
/// Returns whether it copied.
pub fn try_copy_user(
    cx: &Cx,
    func: &'static str,
    kloc: crate::engine::trace::Loc,
    uva: u64,
    len: u64,
    ns: u64,
    to_user: bool,
) -> bool {
    let frame = |va: u64| {
        cx.read(Obj::Pte(cx.pid, va & !(PAGE_SIZE - 1)), |m| {
            m.process(cx.pid).mm.pte(va)
        })
        .filter(|p| !to_user || p.writable)
        .map(|p| p.pfn)
    };
    // The common case: one user page.
    if len <= PAGE_SIZE - uva % PAGE_SIZE {
        let Some(pfn) = frame(uva) else {
            return false;
        };
        let part = Part {
            done: 0,
            va: uva,
            n: len,
            pfn,
        };
        copy_part(cx, func, kloc, part, len, ns, to_user);
        return true;
    }
    let mut parts = Vec::new();
    let mut done = 0;
    while done < len {
        let va = uva + done;
        let n = (PAGE_SIZE - va % PAGE_SIZE).min(len - done);
        let Some(pfn) = frame(va) else {
            return false;
        };
        parts.push(Part { done, va, n, pfn });
        done += n;
    }
    for part in parts {
        copy_part(cx, func, kloc, part, len, ns, to_user);
    }
    true
}

/// One user page's part of a copy between kernel memory and user memory.
struct Part {
    /// Bytes of the copy before it.
    done: u64,
    /// Its user address.
    va: u64,
    /// Its length.
    n: u64,
    /// The user page's frame.
    pfn: Pfn,
}

/// Copy `part` of a `len`-byte copy (with its share of the time `ns`) between `kloc` and user
/// memory, in the direction `to_user` says.
// Inlined: it is on every read() and write() path, page by page.
#[inline]
fn copy_part(
    cx: &Cx,
    func: &'static str,
    kloc: crate::engine::trace::Loc,
    part: Part,
    len: u64,
    ns: u64,
    to_user: bool,
) {
    let u = cpu::user(cx.pid, part.va, part.pfn);
    let k = crate::engine::trace::Loc {
        vaddr: kloc.vaddr + part.done,
        ..kloc
    };
    let part_ns = if part.n == len {
        ns
    } else {
        ns * part.n / len.max(1)
    };
    if to_user {
        cpu::copy(cx, func, k, u, part.n, part_ns);
    } else {
        cpu::copy(cx, func, u, k, part.n, part_ns);
    }
}

/// `iov_iter_zero`: `len` zeros into user memory at `uva`, split at user pages.
pub async fn zero_user(cx: &Cx, func: &'static str, uva: u64, len: u64) -> Result<(), (u64, Fail)> {
    let mut done = 0;
    while done < len {
        let va = uva + done;
        let n = (PAGE_SIZE - va % PAGE_SIZE).min(len - done);
        let upfn = user_frame(cx, va, true, memory::Mode::Kernel)
            .await
            .map_err(|f| (done, f))?;
        cpu::zero(cx, func, cpu::user(cx.pid, va, upfn), n);
        done += n;
    }
    Ok(())
}
