//! `fs/dax.c` as of Linux 4.0: `dax_do_io`, `dax_fault`, `dax_insert_mapping`, `dax_load_hole`,
//! `dax_clear_blocks`, `dax_zero_page_range`, `dax_truncate_page`.

use crate::engine::cx::Cx;
use crate::engine::footprint::Obj;
use crate::engine::trace::{CacheOp, EventKind, Loc, Space, SysResult};
use crate::errno::{Errno, KResult};
use crate::kernel::block_dev::{bdev_direct_access, bdev_direct_access_body};
use crate::kernel::memory::{self, VmFault};
use crate::kernel::resume::Resume;
use crate::kernel::{cpu, filemap, ops, user};
use crate::state::block_dev::DirectAccess;
use crate::state::fs::BufferHead;
use crate::state::lock::{LockMode, LockName};
use crate::state::mem::{FrameUse, Pfn, PAGE_SIZE, SECTOR_SIZE};
use crate::state::mm::Vma;
use crate::state::ops::GetBlock;
use crate::state::task::Tail;
use crate::state::{DevId, Locking};

/// The device behind an inode and its filesystem block size.
fn bdev_of(cx: &Cx, ino: u64) -> KResult<(DevId, u64)> {
    cx.read(Obj::Inodes, |m| m.fs_of(ino).map(|f| (f.dev, f.block_size)))
}

/// `dax_get_addr`: the kernel address of a mapped block, via `bdev_direct_access` for `size`
/// bytes.
async fn dax_get_addr(
    cx: &Cx,
    dev: DevId,
    bs: u64,
    block: u64,
    size: u64,
) -> KResult<DirectAccess> {
    bdev_direct_access(cx, dev, block * bs / SECTOR_SIZE, size as i64).await
}

/// The device bytes at `off` into what `direct_access` returned for device byte `byte`.
fn dev_loc(dev: DevId, byte: u64, da: &DirectAccess, off: u64) -> Loc {
    let pfn = Pfn(da.pfn.0 + off / PAGE_SIZE);
    Loc {
        space: Space::Device {
            dev,
            sector: (byte + off) / SECTOR_SIZE,
        },
        vaddr: pfn.kaddr() + off % PAGE_SIZE,
        pfn: Some(pfn),
    }
}

/// `dax_clear_blocks(inode, block, size)`: zero freshly allocated blocks through
/// `direct_access`, page by page (ext2 calls it from `ext2_get_blocks`).
pub async fn dax_clear_blocks(cx: &Cx, ino: u64, block: u64, count: u64) -> KResult<()> {
    cx.call("dax_clear_blocks", async {
        let (dev, bs) = bdev_of(cx, ino)?;
        let mut done = 0;
        // One bdev_direct_access per extent it returns, then clear_page (or memset for a
        // part page) page by page, with a cond_resched() after each.
        while done < count * bs {
            let byte = block * bs + done;
            let da =
                bdev_direct_access(cx, dev, byte / SECTOR_SIZE, (count * bs - done) as i64).await?;
            let mut off = 0;
            while off < da.length {
                let n = (da.length - off).min(PAGE_SIZE);
                let func = if n < PAGE_SIZE {
                    "memset"
                } else {
                    "clear_page"
                };
                cpu::zero(cx, func, dev_loc(dev, byte, &da, off), n);
                off += n;
                cx.yield_now().await;
            }
            done += da.length;
        }
        Ok(())
    })
    .await
}

/// `dax_new_buf`: zero the parts of a new or unwritten block that this write does not cover.
fn dax_new_buf(cx: &Cx, dev: DevId, byte: u64, da: &DirectAccess, first: u64, pos: u64, end: u64) {
    let size = da.length;
    let last = end - pos + first; // "The final byte of the buffer"
    if first > 0 {
        cpu::zero(cx, "dax_new_buf", dev_loc(dev, byte, da, 0), first);
    }
    if last < size {
        cpu::zero(cx, "dax_new_buf", dev_loc(dev, byte, da, last), size - last);
    }
}

/// The state of a `dax_io` loop: everything its locals hold between two pages, so it can be
/// resumed from a checkpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct DaxIo {
    ino: u64,
    dev: DevId,
    bs: u64,
    write: bool,
    get_block: GetBlock,
    /// User address of byte `start`.
    ubuf: u64,
    start: u64,
    pos: u64,
    end: u64,
    max: u64,
    bh_max: u64,
    bh: BufferHead,
    /// The current kernel mapping, the device byte it starts at and the file position of that
    /// byte (`None`: a hole being read).
    addr: Option<(DirectAccess, u64, u64)>,
    err: Option<Errno>,
    /// `retval`: what 4.0 returns if nothing was copied (the last `get_block` result, 0, or
    /// the bytes `dax_get_addr` offered).
    retval: u64,
}

/// `dax_io`: move data between the user buffer and the device, one mapping at a time. Returns
/// the bytes done; if none were, the error, or 4.0's `retval` (see the end).
pub async fn dax_io(cx: &Cx, mut s: DaxIo) -> SysResult {
    while s.pos < s.end {
        if s.pos == s.max {
            let block = s.pos / s.bs;
            let first = s.pos % s.bs;
            if s.pos == s.bh_max {
                // "bh->b_size = PAGE_ALIGN(end - pos)"
                let want = (s.end - s.pos).next_multiple_of(PAGE_SIZE) / s.bs;
                match ops::get_block(cx, s.get_block, s.ino, block, want, s.write).await {
                    Ok(b) => {
                        s.bh = b;
                        s.retval = 0;
                    }
                    Err(e) => {
                        s.err = Some(e);
                        break;
                    }
                }
                // "if (!buffer_size_valid(bh)) bh->b_size = 1 << blkbits;" (a hole: "Unfortunate,
                // really, since ext4 knows precisely how long a hole is")
                if s.bh.blocks == 0 {
                    s.bh.blocks = 1;
                }
                s.bh_max = s.pos - first + s.bh.blocks * s.bs;
            } else {
                // Still inside the extent get_block returned: move its start up.
                let done = s.bh.blocks * s.bs - (s.bh_max - (s.pos - first));
                s.bh.block = s.bh.block.map(|b| b + done / s.bs);
                s.bh.blocks -= done / s.bs;
            }
            let hole = !s.write && !s.bh.written();
            let size = if hole {
                s.addr = None;
                s.bh.blocks * s.bs - first
            } else {
                let Some(pblock) = s.bh.block else {
                    s.err = Some(Errno::EIO);
                    break;
                };
                let sector = pblock * s.bs / SECTOR_SIZE;
                let size = (s.bh.blocks * s.bs) as i64;
                // A batched run with nothing recorded skips the frame (see `Cx::quiet`): a page's
                // turn costs its copy, not the machinery of an async call.
                let da = if cx.quiet() {
                    bdev_direct_access_body(cx, s.dev, sector, size)
                } else {
                    bdev_direct_access(cx, s.dev, sector, size).await
                };
                let da = match da {
                    Ok(d) => d,
                    Err(e) => {
                        s.err = Some(e);
                        break;
                    }
                };
                s.retval = da.length;
                // Under the fixed policy ("dax: Remove zeroing from dax_io()", 4.6) the
                // filesystem zeroes what it allocates; dax_io zeroes nothing.
                let fixed = cx.config().locking == Locking::Fixed;
                if (s.bh.unwritten || s.bh.new) && !fixed {
                    dax_new_buf(cx, s.dev, pblock * s.bs, &da, first, s.pos, s.end);
                }
                s.addr = Some((da, pblock * s.bs, s.pos - first));
                da.length.saturating_sub(first)
            };
            s.max = (s.pos + size).min(s.end);
        }
        // The model splits copies at page boundaries (a block is a page on a DAX mount).
        let n = (PAGE_SIZE - s.pos % PAGE_SIZE).min(s.max - s.pos);
        if n == 0 {
            break; // "if (!len) break;" (e.g. dcssblk's last byte)
        }
        let uva = s.ubuf + (s.pos - s.start);
        let copied = match s.addr {
            Some((da, byte, at)) => {
                let dloc = dev_loc(s.dev, byte, &da, s.pos - at);
                let ns = cx.read(Obj::Device(s.dev), |m| m.device(s.dev).driver.cpu_ns(n));
                let func = if s.write {
                    "copy_from_iter"
                } else {
                    "copy_to_iter"
                };
                let r = if user::try_copy_user(cx, func, dloc, uva, n, ns, !s.write) {
                    Ok(())
                } else {
                    user::copy_user(cx, func, dloc, uva, n, ns, !s.write).await
                };
                if r.is_ok() {
                    cx.emit(EventKind::CopyAvoided { bytes: n });
                }
                r
            }
            None => user::zero_user(cx, "iov_iter_zero", uva, n).await,
        };
        if let Err((done, _)) = copied {
            // The copy came back short (a fault on the user buffer): "if (!len) break;".
            s.pos += done;
            break;
        }
        s.pos += n;
        if !cx.batched_step() {
            cx.capture_point(|| Resume::DaxIo(s.clone())).await;
        }
    }
    // "return (pos == start) ? retval : pos - start;": in 4.0 a copy that faults on its first
    // byte returns what dax_get_addr offered, as if it had been copied (later kernels return
    // -EFAULT).
    match s.err {
        Some(e) if s.pos == s.start => Err(e.into()),
        _ if s.pos == s.start => Ok(s.retval),
        _ => Ok(s.pos - s.start),
    }
}

/// `dax_do_io(rw, iocb, inode, iter, pos, get_block, end_io, DIO_LOCKING)` for `len` bytes at
/// `pos`, from or to the user buffer at `ubuf`. (`end_io` is `ext4_end_io_dio`, which acts only
/// for asynchronous I/O; the model's I/O is synchronous.)
#[allow(clippy::too_many_arguments)]
pub async fn dax_do_io(
    cx: &Cx,
    ino: u64,
    write: bool,
    ubuf: u64,
    pos: u64,
    len: u64,
    get_block: GetBlock,
) -> SysResult {
    let read = !write;
    cx.frame("dax_do_io", Tail::DioDone { ino, read }, async {
        if read {
            // DIO_LOCKING: reads take i_mutex here (writers already hold it).
            cx.lock(LockName::IMutex { ino }, LockMode::Write).await;
        }
        // "Protects against truncate" (the model counts the I/O before the writeback below,
        // so the frame's tail always has an i_dio_count to drop).
        cx.write(Obj::DioCount(ino), |m| {
            m.inode_mut(ino).map(|i| i.dio_count += 1)
        })?;
        if read {
            let last = (pos + len).saturating_sub(1) / PAGE_SIZE;
            filemap::write_and_wait_range(cx, ino, pos / PAGE_SIZE, last).await?;
        }
        let (dev, bs) = bdev_of(cx, ino)?;
        let mut end = pos + len;
        if read {
            // Reads stop at i_size.
            let size = cx.read(Obj::ISize(ino), |m| m.inode(ino).map(|i| i.size))?;
            end = end.min(size.max(pos));
        }
        dax_io(
            cx,
            DaxIo {
                ino,
                dev,
                bs,
                write,
                get_block,
                ubuf,
                start: pos,
                pos,
                end,
                max: pos,
                bh_max: pos,
                bh: BufferHead::default(),
                addr: None,
                err: None,
                retval: 0,
            },
        )
        .await
    })
    .await
}

/// `dax_zero_page_range(inode, from, length, get_block)`: zero part of one page, only if the
/// block is written (holes and unwritten extents already read as zeros).
pub async fn dax_zero_page_range(
    cx: &Cx,
    ino: u64,
    from: u64,
    length: u64,
    gb: GetBlock,
) -> KResult<()> {
    cx.call("dax_zero_page_range", async {
        if length == 0 {
            return Ok(()); // "Block boundary?"
        }
        let index = from / PAGE_SIZE;
        let offset = from % PAGE_SIZE;
        // The page index is passed as the block number: right only when block size ==
        // PAGE_SIZE, which a DAX mount requires.
        let bh = ops::get_block(cx, gb, ino, index, 1, false).await?;
        if let (true, Some(block)) = (bh.written(), bh.block) {
            let (dev, bs) = bdev_of(cx, ino)?;
            let da = dax_get_addr(cx, dev, bs, block, PAGE_SIZE).await?;
            cpu::zero(
                cx,
                "dax_zero_page_range",
                dev_loc(dev, block * bs, &da, offset),
                length.min(PAGE_SIZE - offset),
            );
        }
        Ok(())
    })
    .await
}

/// `dax_truncate_page(inode, from, get_block)`: zero the tail of the last partial page.
pub async fn dax_truncate_page(cx: &Cx, ino: u64, from: u64, gb: GetBlock) -> KResult<()> {
    cx.call(
        "dax_truncate_page",
        dax_zero_page_range(cx, ino, from, from.next_multiple_of(PAGE_SIZE) - from, gb),
    )
    .await
}

/// `dax_fault(vma, vmf, get_block)` (also reached as `dax_mkwrite`, a macro for it in 4.0).
/// `cow_page` is set for a MAP_PRIVATE write fault (`vmf->cow_page`). Returns the fault code
/// and whether it counted `PGMAJFAULT`.
pub async fn dax_fault(
    cx: &Cx,
    vma: &Vma,
    addr: u64,
    write: bool,
    cow_page: Option<Pfn>,
    gb: GetBlock,
) -> (VmFault, bool) {
    cx.call("dax_fault", async {
        if write {
            cx.call("sb_start_pagefault", async {}).await;
            cx.call("file_update_time", async {}).await;
        }
        let r = cx
            .call(
                "do_dax_fault",
                do_dax_fault(cx, vma, addr, write, cow_page, gb),
            )
            .await;
        if write {
            cx.call("sb_end_pagefault", async {}).await;
        }
        r
    })
    .await
}

fn size_pages(cx: &Cx, ino: u64) -> u64 {
    cx.read(Obj::ISize(ino), |m| {
        m.inode(ino)
            .map(|i| i.size.div_ceil(PAGE_SIZE))
            .unwrap_or(0)
    })
}

fn find_page(cx: &Cx, ino: u64, index: u64) -> Option<crate::state::page_cache::Page> {
    cx.read(Obj::CachePage(ino, index), |m| {
        m.inode(ino)
            .ok()
            .and_then(|i| i.mapping.find_get_page(index))
    })
}

async fn do_dax_fault(
    cx: &Cx,
    vma: &Vma,
    addr: u64,
    write: bool,
    cow_page: Option<Pfn>,
    gb: GetBlock,
) -> (VmFault, bool) {
    let Some(ino) = vma.ino() else {
        return (VmFault::SigBus, false);
    };
    let pgoff = vma.pgoff_of(addr);
    let entry = LockName::DaxEntry { ino, index: pgoff };
    let fixed = cx.config().locking == Locking::Fixed;
    if fixed {
        // 4.7: grab_mapping_entry() locks the index for the whole fault.
        cx.lock(entry, LockMode::Write).await;
    }
    let r = do_dax_fault_locked(cx, vma, addr, write, cow_page, gb, ino, pgoff).await;
    if fixed {
        cx.unlock(entry).await;
    }
    r
}

#[allow(clippy::too_many_arguments)]
async fn do_dax_fault_locked(
    cx: &Cx,
    vma: &Vma,
    addr: u64,
    write: bool,
    cow_page: Option<Pfn>,
    gb: GetBlock,
    ino: u64,
    pgoff: u64,
) -> (VmFault, bool) {
    let cow = cow_page.is_some();
    if pgoff >= size_pages(cx, ino) {
        return (VmFault::SigBus, false);
    }
    let block = pgoff; // block size == PAGE_SIZE on a DAX mount
    let mut major = false;
    // A hole page left by an earlier read fault?
    let mut page = find_page(cx, ino, pgoff);
    let page_lock = LockName::PageLock { ino, index: pgoff };
    if let Some(p) = page {
        cx.lock(page_lock, LockMode::Write).await;
        // Re-check under the page lock: still in the mapping, and not truncated.
        if find_page(cx, ino, pgoff).map(|x| x.pfn) != Some(p.pfn) {
            cx.unlock(page_lock).await;
            page = None;
        } else if pgoff >= size_pages(cx, ino) {
            cx.unlock(page_lock).await;
            return (VmFault::SigBus, false); // -EIO: raced with truncate
        }
    }
    let unlock_page = |locked: bool| async move {
        if locked {
            cx.unlock(page_lock).await;
        }
    };
    // bh.b_size = PAGE_SIZE: one block on a DAX mount.
    let mut bh = match ops::get_block(cx, gb, ino, block, 1, false).await {
        Ok(b) => b,
        Err(_) => {
            unlock_page(page.is_some()).await;
            return (VmFault::SigBus, false);
        }
    };
    if bh.hole() && !cow {
        if !write {
            return (dax_load_hole(cx, vma, pgoff, page).await, false);
        }
        match ops::get_block(cx, gb, ino, block, 1, true).await {
            Ok(b) => bh = b,
            Err(e) => {
                unlock_page(page.is_some()).await;
                let f = if e == Errno::ENOMEM {
                    VmFault::Oom
                } else {
                    VmFault::SigBus
                };
                return (f, true);
            }
        }
        major = true; // count_vm_event(PGMAJFAULT)
    }
    if let Some(new) = cow_page {
        return (
            dax_cow(cx, pgoff, ino, &bh, page.map(|p| p.pfn), new).await,
            major,
        );
    }
    // "Check we didn't race with a read fault installing a new page"
    if page.is_none() && major {
        page = find_page(cx, ino, pgoff);
        if page.is_some() {
            cx.lock(page_lock, LockMode::Write).await;
        }
    }
    if let Some(p) = page {
        memory::unmap_mapping_range(cx, ino, pgoff, Some(1), false).await;
        filemap::delete_from_page_cache(cx, ino, pgoff, p.pfn);
        cx.unlock(page_lock).await;
    }
    match dax_insert_mapping(cx, vma, addr, &bh).await {
        Ok(()) | Err(Errno::EBUSY) => (VmFault::NoPage, major),
        Err(Errno::ENOMEM) => (VmFault::Oom, major),
        Err(_) => (VmFault::SigBus, major),
    }
}

/// `dax_load_hole`: a read fault on a hole maps a zeroed page-cache page (4.0; later kernels map
/// the shared zero page). Returns the locked page.
async fn dax_load_hole(
    cx: &Cx,
    vma: &Vma,
    pgoff: u64,
    page: Option<crate::state::page_cache::Page>,
) -> VmFault {
    let Some(ino) = vma.ino() else {
        return VmFault::SigBus;
    };
    cx.call("dax_load_hole", async {
        let lock = LockName::PageLock { ino, index: pgoff };
        let pfn = match page {
            Some(p) => p.pfn,
            None => {
                // find_or_create_page(mapping, pgoff, GFP_KERNEL | __GFP_ZERO)
                let Ok(pfn) = cx.write(Obj::Ram, |m| {
                    m.mem.alloc_ram(FrameUse::HolePage { ino, index: pgoff })
                }) else {
                    return VmFault::Oom;
                };
                cx.lock(lock, LockMode::Write).await;
                let raced = cx.write(Obj::CachePage(ino, pgoff), |m| {
                    let i = m.inode_mut(ino)?;
                    if let Some(p) = i.mapping.find_get_page(pgoff) {
                        return Ok::<_, Errno>(Some(p.pfn));
                    }
                    i.mapping.pages.insert(
                        pgoff,
                        crate::state::page_cache::Page {
                            pfn,
                            uptodate: true,
                            dirty: false,
                            hole: true,
                        },
                    );
                    Ok(None)
                });
                match raced {
                    Ok(None) => {
                        cx.emit(EventKind::PageCache {
                            op: CacheOp::Add,
                            ino,
                            index: pgoff,
                            pfn,
                        });
                        cpu::zero(
                            cx,
                            "find_or_create_page",
                            cpu::kernel(Space::HolePage { ino, index: pgoff }, pfn, 0),
                            PAGE_SIZE,
                        );
                        pfn
                    }
                    Ok(Some(other)) => {
                        cx.write(Obj::Ram, |m| m.mem.put_page(pfn));
                        other
                    }
                    Err(_) => {
                        cx.write(Obj::Ram, |m| m.mem.put_page(pfn));
                        cx.unlock(lock).await;
                        return VmFault::SigBus;
                    }
                }
            }
        };
        // "Recheck i_size under page lock to avoid truncate race"
        if pgoff >= size_pages(cx, ino) {
            cx.unlock(lock).await;
            return VmFault::SigBus;
        }
        VmFault::Locked(pfn)
    })
    .await
}

/// The COW branch of `do_dax_fault`: copy the block (`copy_user_bh`) or zero
/// (`clear_user_highpage`) into `vmf->cow_page`, then return with `vmf->page` = the hole page,
/// still locked, or, with no page to lock, holding `i_mmap_lock_read` after an `i_size`
/// re-check ("Check we didn't race with truncate"); `do_cow_fault` sets the PTE and releases
/// them.
async fn dax_cow(
    cx: &Cx,
    pgoff: u64,
    ino: u64,
    bh: &BufferHead,
    page: Option<Pfn>,
    cow: Pfn,
) -> VmFault {
    let dst = cpu::kernel(Space::Anon, cow, 0);
    match (bh.written(), bh.block) {
        (true, Some(block)) => {
            let Ok((dev, bs)) = bdev_of(cx, ino) else {
                return VmFault::SigBus;
            };
            match dax_get_addr(cx, dev, bs, block, PAGE_SIZE).await {
                Ok(da) => {
                    // copy_user_bh → copy_user_page, through the kernel alias of the block.
                    let ns = cx.read(Obj::Device(dev), |m| m.device(dev).driver.cpu_ns(PAGE_SIZE));
                    cpu::copy(
                        cx,
                        "copy_user_bh",
                        dev_loc(dev, block * bs, &da, 0),
                        dst,
                        PAGE_SIZE,
                        ns,
                    )
                }
                Err(_) => {
                    if page.is_some() {
                        cx.unlock(LockName::PageLock { ino, index: pgoff }).await;
                    }
                    return VmFault::SigBus;
                }
            }
        }
        _ => cpu::zero(cx, "clear_user_highpage", dst, PAGE_SIZE),
    }
    if page.is_some() {
        return VmFault::Cow { page };
    }
    cx.lock(LockName::IMmapRwsem { ino }, LockMode::Read).await;
    if pgoff >= size_pages(cx, ino) {
        cx.unlock(LockName::IMmapRwsem { ino }).await;
        return VmFault::SigBus;
    }
    VmFault::Cow { page: None }
}

/// `dax_insert_mapping`: map the block's pfn into the process with `vm_insert_mixed`.
async fn dax_insert_mapping(cx: &Cx, vma: &Vma, addr: u64, bh: &BufferHead) -> KResult<()> {
    let Some(ino) = vma.ino() else {
        return Err(Errno::EIO);
    };
    cx.call("dax_insert_mapping", async {
        let lock = LockName::IMmapRwsem { ino };
        cx.lock(lock, LockMode::Read).await;
        let r = async {
            // "Check we didn't race with truncate": the block may stay allocated past EOF.
            if vma.pgoff_of(addr) >= size_pages(cx, ino) {
                return Err(Errno::EIO);
            }
            let block = bh.block.ok_or(Errno::EIO)?;
            let (dev, bs) = bdev_of(cx, ino)?;
            let da = dax_get_addr(cx, dev, bs, block, PAGE_SIZE)
                .await
                .map_err(|_| Errno::EIO)?;
            if da.length < PAGE_SIZE {
                return Err(Errno::EIO);
            }
            if bh.unwritten || bh.new {
                cpu::zero(
                    cx,
                    "clear_page",
                    dev_loc(dev, block * bs, &da, 0),
                    PAGE_SIZE,
                );
                cx.yield_now().await;
            } else {
                // filemap_fault would have read this block into a page-cache page.
                cx.emit(EventKind::CopyAvoided { bytes: PAGE_SIZE });
            }
            memory::vm_insert_mixed(cx, vma, addr, da.pfn).await
        }
        .await;
        cx.unlock(lock).await;
        if bh.end_io_unwritten {
            // "if (bh->b_end_io) bh->b_end_io(bh, 1);", whatever the outcome:
            // ext4_end_io_unwritten converts the extent.
            let pos = vma.pgoff_of(addr) * PAGE_SIZE;
            cx.call(
                "ext4_end_io_unwritten",
                crate::kernel::ext4::inode::convert_unwritten(cx, ino, pos, PAGE_SIZE),
            )
            .await?;
        }
        r
    })
    .await
}
