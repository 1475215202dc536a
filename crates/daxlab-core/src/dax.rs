//! `fs/dax.c` as of Linux 4.0: `dax_do_io`, `dax_fault`, `dax_insert_mapping`, `dax_load_hole`,
//! `dax_clear_blocks`, `dax_zero_page_range`, `dax_truncate_page`.

use crate::access::{self, USER_BUF};
use crate::block_dev::DirectAccess;
use crate::errno::{Errno, KResult};
use crate::event::{CacheOp, EventKind, LockMode, LockName};
use crate::fs::{self, BufferHead, Create, FsKind};
use crate::mem::{FrameUse, PAGE_SIZE, SECTOR_SIZE};
use crate::memory::{self, VmFault};
use crate::mm::Vma;
use crate::sched::Cx;

/// The direction and user buffer of a `dax_io`.
pub enum Io<'a> {
    /// `READ` into this buffer (index 0 is file offset `pos`).
    Read(&'a mut [u8]),
    /// `WRITE` from this buffer.
    Write(&'a [u8]),
}

/// The device behind an inode and its filesystem block size.
fn bdev_of(cx: &Cx, ino: u64) -> KResult<(usize, u64)> {
    cx.with(|k| k.fs_of(ino).map(|f| (f.dev, f.block_size)))
}

/// `bdev_direct_access` as a traced call.
async fn bdev_direct_access(cx: &Cx, dev: usize, sector: u64, size: u64) -> KResult<DirectAccess> {
    cx.call("bdev_direct_access", async {
        let r = cx.with(|k| {
            let mem = &mut k.mem;
            k.devices[dev].bdev_direct_access(mem, sector, size as i64)
        });
        if let Err(errno) = r {
            cx.emit(EventKind::Error {
                func: "bdev_direct_access",
                errno,
            });
        }
        r
    })
    .await
}

impl crate::sched::ShowRet for DirectAccess {
    fn show(&self) -> Option<crate::event::Ret> {
        Some(crate::event::Ret::Mapped {
            length: self.length,
            pfn: self.pfn.0,
        })
    }
}

/// `dax_get_addr`: the kernel address of a mapped block, via `bdev_direct_access`.
async fn dax_get_addr(cx: &Cx, ino: u64, block: u64, size: u64) -> KResult<DirectAccess> {
    let (dev, bs) = bdev_of(cx, ino)?;
    bdev_direct_access(cx, dev, block * bs / SECTOR_SIZE, size).await
}

/// A device location for the views: the bytes at `kaddr` of device `dev`.
fn dev_loc(cx: &Cx, dev: usize, byte: u64, da: &DirectAccess, off: u64) -> crate::event::Loc {
    let name = cx.with(|k| k.devices[dev].name.clone());
    let (pfn, o) = access::frame_at(da.pfn, off);
    access::device(name, byte + off, pfn.kaddr() + o as u64, Some(pfn))
}

/// `dax_clear_blocks(inode, block, size)`: zero freshly allocated blocks through
/// `direct_access`, page by page (ext2 calls it from `ext2_get_blocks`).
pub async fn dax_clear_blocks(cx: &Cx, ino: u64, block: u64, count: u64) -> KResult<()> {
    cx.call("dax_clear_blocks", async {
        let (dev, bs) = bdev_of(cx, ino)?;
        let mut done = 0;
        while done < count * bs {
            let byte = block * bs + done;
            let da = bdev_direct_access(cx, dev, byte / SECTOR_SIZE, count * bs - done).await?;
            let n = da.length.min(PAGE_SIZE);
            access::zero(cx, "clear_page", dev_loc(cx, dev, byte, &da, 0), n);
            done += n;
            cx.yield_now().await; // cond_resched()
        }
        Ok(())
    })
    .await
}

/// `dax_new_buf`: zero the parts of a new or unwritten block that this write does not cover.
fn dax_new_buf(cx: &Cx, dev: usize, byte: u64, da: &DirectAccess, first: u64, pos: u64, end: u64) {
    let size = da.length;
    let last = end - pos + first; // "The final byte of the buffer"
    if first > 0 {
        access::zero(cx, "dax_new_buf", dev_loc(cx, dev, byte, da, 0), first);
    }
    if last < size {
        access::zero(
            cx,
            "dax_new_buf",
            dev_loc(cx, dev, byte, da, last),
            size - last,
        );
    }
}

/// `dax_io`: move data between the user buffer and the device, one mapping at a time. Returns
/// the bytes done, or the error if nothing was done.
async fn dax_io(cx: &Cx, ino: u64, mut io: Io<'_>, pos0: u64) -> KResult<u64> {
    let (dev, bs) = bdev_of(cx, ino)?;
    let write = matches!(io, Io::Write(_));
    let mut end = pos0
        + match &io {
            Io::Read(b) => b.len() as u64,
            Io::Write(b) => b.len() as u64,
        };
    if !write {
        end = end.min(cx.with(|k| k.inode(ino).map(|i| i.size))?.max(pos0));
    }
    let mut pos = pos0;
    let mut max = pos;
    let mut bh_max = pos;
    let mut bh = BufferHead {
        block: None,
        new: false,
        unwritten: false,
    };
    let mut mapping: Option<(DirectAccess, u64)> = None; // (da, device byte of the block)
    let mut err = None;
    while pos < end {
        if pos == max {
            let block = pos / bs;
            let first = pos % bs;
            if pos == bh_max {
                let create = if write { Create::ForDio } else { Create::No };
                match fs::get_block(cx, ino, block, create).await {
                    Ok(b) => bh = b,
                    Err(e) => {
                        err = Some(e);
                        break;
                    }
                }
                bh_max = pos - first + bs;
            }
            let hole = !write && !bh.written();
            let size = if hole {
                mapping = None;
                bs - first
            } else {
                let pblock = bh.block.ok_or(Errno::EIO)?;
                let da = match dax_get_addr(cx, ino, pblock, bs).await {
                    Ok(d) => d,
                    Err(e) => {
                        err = Some(e);
                        break;
                    }
                };
                if bh.unwritten || bh.new {
                    dax_new_buf(cx, dev, pblock * bs, &da, first, pos, end);
                }
                mapping = Some((da, pblock * bs));
                da.length - first
            };
            max = (pos + size).min(end);
        }
        // Copy at most to the end of this page of the mapping: copies are split per page.
        // The mapping covers one block; copies are split at page boundaries.
        let da_off = pos % bs;
        let n = (PAGE_SIZE - pos % PAGE_SIZE).min(max - pos);
        let uva = USER_BUF + (pos - pos0);
        let i = (pos - pos0) as usize;
        let ns = cx.with(|k| k.devices[dev].driver.cpu_ns(n));
        match (&mut io, &mapping) {
            (Io::Write(data), Some((da, byte))) => {
                let dst = dev_loc(cx, dev, *byte, da, da_off);
                access::copy_from_user(
                    cx,
                    "copy_from_iter",
                    uva,
                    &data[i..i + n as usize],
                    dst,
                    ns,
                );
                cx.emit(EventKind::CopyAvoided { bytes: n });
            }
            (Io::Read(out), Some((da, byte))) => {
                let src = dev_loc(cx, dev, *byte, da, da_off);
                access::copy_to_user(
                    cx,
                    "copy_to_iter",
                    src,
                    uva,
                    &mut out[i..i + n as usize],
                    ns,
                );
                cx.emit(EventKind::CopyAvoided { bytes: n });
            }
            (Io::Read(out), None) => {
                access::zero_user(cx, "iov_iter_zero", uva, &mut out[i..i + n as usize]);
            }
            (Io::Write(_), None) => return Err(Errno::EIO),
        }
        pos += n;
        cx.yield_now().await;
    }
    match err {
        Some(e) if pos == pos0 => Err(e),
        _ => Ok(pos - pos0),
    }
}

/// `dax_do_io(rw, iocb, inode, iter, pos, get_block, end_io, DIO_LOCKING)`.
pub async fn dax_do_io(cx: &Cx, ino: u64, io: Io<'_>, pos: u64) -> KResult<u64> {
    cx.call("dax_do_io", async {
        let read = matches!(io, Io::Read(_));
        let i_mutex = LockName::IMutex { ino };
        if read {
            // DIO_LOCKING: reads take i_mutex here (writers already hold it).
            cx.lock(i_mutex, LockMode::Write).await;
        }
        // "Protects against truncate"
        cx.with(|k| k.inode_mut(ino).map(|i| i.dio_count += 1))?;
        let r = dax_io(cx, ino, io, pos).await;
        if read {
            cx.unlock(i_mutex).await;
        }
        let ext4 = cx.with(|k| k.fs_of(ino).map(|f| f.kind == FsKind::Ext4))?;
        if let (Ok(n), true, false) = (&r, ext4, read) {
            if *n > 0 {
                // end_io = ext4_end_io_dio: convert the unwritten extents written.
                let bs = bdev_of(cx, ino)?.1;
                cx.call(
                    "ext4_end_io_dio",
                    fs::ext4::convert_unwritten(cx, ino, pos / bs, (pos + n - 1) / bs),
                )
                .await?;
            }
        }
        // inode_dio_done
        cx.with(|k| k.inode_mut(ino).map(|i| i.dio_count -= 1))?;
        r
    })
    .await
}

/// `dax_zero_page_range(inode, from, length, get_block)`: zero part of one page, only if the
/// block is written (holes and unwritten extents already read as zeros).
pub async fn dax_zero_page_range(cx: &Cx, ino: u64, from: u64, length: u64) -> KResult<()> {
    cx.call("dax_zero_page_range", async {
        if length == 0 {
            return Ok(()); // "Block boundary?"
        }
        let index = from / PAGE_SIZE;
        let offset = from % PAGE_SIZE;
        let bh = fs::get_block(cx, ino, index, Create::No).await?;
        if let (true, Some(block)) = (bh.written(), bh.block) {
            let (dev, bs) = bdev_of(cx, ino)?;
            let da = dax_get_addr(cx, ino, block, PAGE_SIZE).await?;
            access::zero(
                cx,
                "dax_zero_page_range",
                dev_loc(cx, dev, block * bs, &da, offset),
                length,
            );
        }
        Ok(())
    })
    .await
}

/// `dax_truncate_page(inode, from, get_block)`: zero the tail of the last partial page.
pub async fn dax_truncate_page(cx: &Cx, ino: u64, from: u64) -> KResult<()> {
    cx.call(
        "dax_truncate_page",
        dax_zero_page_range(cx, ino, from, from.next_multiple_of(PAGE_SIZE) - from),
    )
    .await
}

/// `dax_fault(vma, vmf, get_block)` (also reached as `dax_mkwrite`, a macro for it in 4.0).
/// `cow` is set for a MAP_PRIVATE write fault (`vmf->cow_page`).
pub async fn dax_fault(
    cx: &Cx,
    func: &'static str,
    vma: &Vma,
    addr: u64,
    write: bool,
    cow: bool,
) -> (VmFault, bool) {
    cx.call(func, async {
        if write {
            cx.call("sb_start_pagefault", async {}).await;
            cx.call("file_update_time", async {}).await;
        }
        cx.call("do_dax_fault", do_dax_fault(cx, vma, addr, write, cow))
            .await
    })
    .await
}

fn size_pages(cx: &Cx, ino: u64) -> u64 {
    cx.with(|k| {
        k.inode(ino)
            .map(|i| i.size.div_ceil(PAGE_SIZE))
            .unwrap_or(0)
    })
}

async fn do_dax_fault(cx: &Cx, vma: &Vma, addr: u64, write: bool, cow: bool) -> (VmFault, bool) {
    let ino = vma.ino;
    let pgoff = vma.pgoff_of(addr);
    if pgoff >= size_pages(cx, ino) {
        return (VmFault::SigBus, false);
    }
    let block = pgoff; // block size == PAGE_SIZE on a DAX mount
    let mut major = false;
    // A hole page left by an earlier read fault?
    let mut page = cx.with(|k| {
        k.inode(ino)
            .ok()
            .and_then(|i| i.mapping.find_get_page(pgoff))
    });
    let page_lock = LockName::PageLock { ino, index: pgoff };
    if page.is_some() {
        cx.lock(page_lock, LockMode::Write).await;
        // Re-check under the page lock: still in the mapping, and not truncated.
        let still = cx.with(|k| {
            k.inode(ino)
                .ok()
                .and_then(|i| i.mapping.find_get_page(pgoff))
        });
        if still.map(|p| p.pfn) != page.map(|p| p.pfn) {
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
    let mut bh = match fs::get_block(cx, ino, block, Create::No).await {
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
        match fs::get_block(cx, ino, block, Create::Yes).await {
            Ok(b) => bh = b,
            Err(e) => {
                unlock_page(page.is_some()).await;
                return (
                    if e == Errno::ENOMEM {
                        VmFault::Oom
                    } else {
                        VmFault::SigBus
                    },
                    false,
                );
            }
        }
        major = true; // count_vm_event(PGMAJFAULT)
    }
    if cow {
        return (dax_cow(cx, vma, pgoff, &bh, page.is_some()).await, major);
    }
    // "Check we didn't race with a read fault installing a new page"
    if page.is_none() && major {
        page = cx.with(|k| {
            k.inode(ino)
                .ok()
                .and_then(|i| i.mapping.find_get_page(pgoff))
        });
        if page.is_some() {
            cx.lock(page_lock, LockMode::Write).await;
        }
    }
    if let Some(p) = page {
        memory::unmap_mapping_range(cx, ino, pgoff, Some(1), false).await;
        crate::filemap::delete_from_page_cache(cx, ino, pgoff, p.pfn);
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
    page: Option<crate::page_cache::Page>,
) -> VmFault {
    let ino = vma.ino;
    cx.call("dax_load_hole", async {
        let lock = LockName::PageLock { ino, index: pgoff };
        let pfn = match page {
            Some(p) => p.pfn,
            None => {
                // find_or_create_page(mapping, pgoff, GFP_KERNEL | __GFP_ZERO)
                let pfn =
                    match cx.with(|k| k.mem.alloc_ram(FrameUse::HolePage { ino, index: pgoff })) {
                        Ok(p) => p,
                        Err(_) => return VmFault::Oom,
                    };
                cx.lock(lock, LockMode::Write).await;
                let raced = cx.with(|k| {
                    let i = k.inode_mut(ino)?;
                    if let Some(p) = i.mapping.find_get_page(pgoff) {
                        return Ok::<_, Errno>(Some(p.pfn));
                    }
                    i.mapping.pages.insert(
                        pgoff,
                        crate::page_cache::Page {
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
                        access::zero(
                            cx,
                            "find_or_create_page",
                            access::kernel(
                                crate::event::Space::HolePage { ino, index: pgoff },
                                pfn,
                                0,
                            ),
                            PAGE_SIZE,
                        );
                        pfn
                    }
                    Ok(Some(other)) => {
                        cx.with(|k| k.mem.free_ram(pfn));
                        other
                    }
                    Err(_) => {
                        cx.with(|k| k.mem.free_ram(pfn));
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
/// (`clear_user_highpage`) into a new anonymous page.
async fn dax_cow(cx: &Cx, vma: &Vma, pgoff: u64, bh: &BufferHead, had_page: bool) -> VmFault {
    let ino = vma.ino;
    let cow = match cx.with(|k| k.mem.alloc_ram(FrameUse::Anon)) {
        Ok(p) => p,
        Err(_) => return VmFault::Oom,
    };
    let dst = access::kernel(crate::event::Space::Anon, cow, 0);
    match (bh.written(), bh.block) {
        (true, Some(block)) => {
            let Ok((dev, bs)) = bdev_of(cx, ino) else {
                return VmFault::SigBus;
            };
            match dax_get_addr(cx, ino, block, PAGE_SIZE).await {
                Ok(da) => access::copy_frames(
                    cx,
                    "copy_user_bh",
                    dev_loc(cx, dev, block * bs, &da, 0),
                    dst,
                    PAGE_SIZE,
                ),
                Err(_) => return VmFault::SigBus,
            }
        }
        _ => access::zero(cx, "clear_user_highpage", dst, PAGE_SIZE),
    }
    if had_page {
        cx.unlock(LockName::PageLock { ino, index: pgoff }).await;
        return VmFault::Cow {
            pfn: cow,
            i_mmap_held: false,
        };
    }
    // "The fault handler has no page to lock, so it holds i_mmap_lock for read to protect
    // against truncate": do_cow_fault releases it after installing the PTE.
    cx.lock(LockName::IMmapRwsem { ino }, LockMode::Read).await;
    if pgoff >= size_pages(cx, ino) {
        cx.unlock(LockName::IMmapRwsem { ino }).await;
        cx.with(|k| k.mem.free_ram(cow));
        return VmFault::SigBus;
    }
    VmFault::Cow {
        pfn: cow,
        i_mmap_held: true,
    }
}

/// `dax_insert_mapping`: map the block's pfn into the process with `vm_insert_mixed`.
async fn dax_insert_mapping(cx: &Cx, vma: &Vma, addr: u64, bh: &BufferHead) -> KResult<()> {
    let ino = vma.ino;
    let r = cx
        .call("dax_insert_mapping", async {
            let lock = LockName::IMmapRwsem { ino };
            cx.lock(lock, LockMode::Read).await;
            let r = async {
                // "Check we didn't race with truncate": the block may stay allocated past EOF.
                if vma.pgoff_of(addr) >= size_pages(cx, ino) {
                    return Err(Errno::EIO);
                }
                let block = bh.block.ok_or(Errno::EIO)?;
                let (dev, bs) = bdev_of(cx, ino)?;
                let da = dax_get_addr(cx, ino, block, PAGE_SIZE)
                    .await
                    .map_err(|_| Errno::EIO)?;
                if da.length < PAGE_SIZE {
                    return Err(Errno::EIO);
                }
                if bh.unwritten || bh.new {
                    access::zero(
                        cx,
                        "clear_page",
                        dev_loc(cx, dev, block * bs, &da, 0),
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
            r
        })
        .await;
    if bh.unwritten && r.is_ok() {
        // bh->b_end_io = ext4_end_io_unwritten
        let pg = vma.pgoff_of(addr);
        cx.call(
            "ext4_end_io_unwritten",
            fs::ext4::convert_unwritten(cx, ino, pg, pg),
        )
        .await?;
    }
    r
}
