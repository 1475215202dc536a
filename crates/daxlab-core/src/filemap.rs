//! The page-cache paths (`mm/filemap.c`, `fs/buffer.c`, `fs/mpage.c`, `mm/truncate.c`): the
//! buffered read and write that DAX replaces, writeback, `filemap_fault`, and truncation of
//! cached pages.
//!
//! Simplified: no readahead (one page is read per miss) and writeback happens only when asked
//! (`fsync`, `drop_caches`, direct I/O), never in the background.

use crate::access::{self, USER_BUF};
use crate::bio::submit_bio;
use crate::errno::{Errno, KResult};
use crate::event::{CacheOp, EventKind, LockMode, LockName};
use crate::fs::{self, Create};
use crate::mem::{FrameUse, Pfn, PAGE_SIZE};
use crate::memory::{self, VmFault};
use crate::mm::Vma;
use crate::page_cache::Page;
use crate::sched::Cx;

fn geometry(cx: &Cx, ino: u64) -> KResult<(usize, u64)> {
    cx.with(|k| k.fs_of(ino).map(|f| (f.dev, f.block_size)))
}

fn i_size(cx: &Cx, ino: u64) -> KResult<u64> {
    cx.with(|k| k.inode(ino).map(|i| i.size))
}

/// `add_to_page_cache_lru` of a new zeroed page, locked. Returns `None` if another thread added
/// the page first (the caller uses that one).
async fn add_page(cx: &Cx, ino: u64, index: u64) -> KResult<Option<Pfn>> {
    let pfn = cx.with(|k| k.mem.alloc_ram(FrameUse::PageCache { ino, index }))?;
    cx.lock(LockName::PageLock { ino, index }, LockMode::Write)
        .await;
    let added = cx.with(|k| {
        let i = k.inode_mut(ino)?;
        if i.mapping.pages.contains_key(&index) {
            return Ok::<_, Errno>(false);
        }
        i.mapping.pages.insert(
            index,
            Page {
                pfn,
                uptodate: false,
                dirty: false,
                hole: false,
            },
        );
        Ok(true)
    })?;
    if !added {
        cx.with(|k| k.mem.free_ram(pfn));
        cx.unlock(LockName::PageLock { ino, index }).await;
        return Ok(None);
    }
    cx.emit(EventKind::PageCache {
        op: CacheOp::Add,
        ino,
        index,
        pfn,
    });
    Ok(Some(pfn))
}

/// `delete_from_page_cache` and free the frame.
pub fn delete_from_page_cache(cx: &Cx, ino: u64, index: u64, pfn: Pfn) {
    let removed = cx.with(|k| {
        let r = k
            .inode_mut(ino)
            .ok()
            .and_then(|i| i.mapping.pages.remove(&index))
            .is_some();
        if r {
            k.mem.free_ram(pfn);
        }
        r
    });
    if removed {
        cx.emit(EventKind::PageCache {
            op: CacheOp::Remove,
            ino,
            index,
            pfn,
        });
    }
}

/// `mpage_readpage`/`block_read_full_page`: fill a locked page from its blocks; holes and bytes
/// past EOF are zeroed.
async fn readpage(cx: &Cx, ino: u64, index: u64, pfn: Pfn) -> KResult<()> {
    cx.call("ext2_readpage", async {
        let (dev, bs) = geometry(cx, ino)?;
        let per = PAGE_SIZE / bs;
        let size = i_size(cx, ino)?;
        for j in 0..per {
            let iblock = index * per + j;
            let at = access::page_cache(ino, index, pfn, j * bs);
            let bh = if iblock * bs < size {
                fs::get_block(cx, ino, iblock, Create::No).await?
            } else {
                fs::BufferHead {
                    block: None,
                    new: false,
                    unwritten: false,
                }
            };
            match bh.block {
                Some(b) if bh.written() => submit_bio(cx, dev, b * bs, at, bs, false)?,
                _ => access::zero(cx, "zero_user", at, bs),
            }
        }
        cx.with(|k| {
            k.inode_mut(ino)
                .map(|i| i.mapping.pages.get_mut(&index).map(|p| p.uptodate = true))
        })?;
        Ok(())
    })
    .await
}

/// Find a page or read it in (`find_get_page`, else `page_cache_sync_readahead` → `readpage`).
/// Returns the page, locked, and whether I/O was needed.
async fn find_or_read_page(cx: &Cx, ino: u64, index: u64) -> KResult<(Pfn, bool)> {
    loop {
        if let Some(p) = cx.with(|k| {
            k.inode(ino)
                .ok()
                .and_then(|i| i.mapping.find_get_page(index))
        }) {
            cx.lock(LockName::PageLock { ino, index }, LockMode::Write)
                .await;
            let still = cx.with(|k| {
                k.inode(ino)
                    .ok()
                    .and_then(|i| i.mapping.find_get_page(index))
            });
            match still {
                Some(s) if s.pfn == p.pfn && s.uptodate => return Ok((p.pfn, false)),
                Some(s) if s.pfn == p.pfn => {
                    readpage(cx, ino, index, p.pfn).await?;
                    return Ok((p.pfn, true));
                }
                _ => {
                    cx.unlock(LockName::PageLock { ino, index }).await;
                    continue; // truncated meanwhile: look again
                }
            }
        }
        if let Some(pfn) = add_page(cx, ino, index).await? {
            readpage(cx, ino, index, pfn).await?;
            return Ok((pfn, true));
        }
    }
}

/// `do_generic_file_read`: page by page, read into the page cache if needed, then
/// `copy_page_to_iter` to the user buffer.
pub async fn do_generic_file_read(cx: &Cx, ino: u64, pos: u64, out: &mut [u8]) -> KResult<u64> {
    cx.call("do_generic_file_read", async {
        let end = (pos + out.len() as u64).min(i_size(cx, ino)?.max(pos));
        let mut p = pos;
        while p < end {
            let index = p / PAGE_SIZE;
            let off = p % PAGE_SIZE;
            let n = (PAGE_SIZE - off).min(end - p);
            let (pfn, _) = find_or_read_page(cx, ino, index).await?;
            cx.unlock(LockName::PageLock { ino, index }).await;
            let i = (p - pos) as usize;
            let src = access::page_cache(ino, index, pfn, off);
            access::copy_to_user(
                cx,
                "copy_page_to_iter",
                src,
                USER_BUF + i as u64,
                &mut out[i..i + n as usize],
                crate::timing::ram_copy_ns(n),
            );
            p += n;
            cx.yield_now().await;
        }
        Ok(p - pos)
    })
    .await
}

/// `generic_perform_write`: `write_begin` (find or create the page, allocate blocks, read or
/// zero what the write does not cover), copy from the user, `write_end` (dirty, `i_size`).
pub async fn generic_perform_write(cx: &Cx, ino: u64, pos: u64, data: &[u8]) -> KResult<u64> {
    cx.call("generic_perform_write", async {
        let (dev, bs) = geometry(cx, ino)?;
        let per = PAGE_SIZE / bs;
        let end = pos + data.len() as u64;
        let mut p = pos;
        while p < end {
            let index = p / PAGE_SIZE;
            let from = p % PAGE_SIZE;
            let to = (from + (end - p)).min(PAGE_SIZE);
            let r: KResult<()> = async {
                // ext2_write_begin → grab_cache_page_write_begin + block_write_begin
                let existing = cx.with(|k| {
                    k.inode(ino)
                        .ok()
                        .and_then(|i| i.mapping.find_get_page(index))
                });
                let pfn = match existing {
                    Some(pg) => {
                        cx.lock(LockName::PageLock { ino, index }, LockMode::Write)
                            .await;
                        pg.pfn
                    }
                    None => match add_page(cx, ino, index).await? {
                        Some(pfn) => pfn,
                        None => return Err(Errno::EAGAIN),
                    },
                };
                let uptodate = cx.with(|k| {
                    k.inode(ino)
                        .ok()
                        .and_then(|i| i.mapping.find_get_page(index))
                        .is_some_and(|p| p.uptodate)
                });
                let size = i_size(cx, ino)?;
                for j in 0..per {
                    let (bstart, bend) = (j * bs, j * bs + bs);
                    let iblock = index * per + j;
                    let covered = from <= bstart && bend <= to;
                    let touched = from < bend && bstart < to;
                    let at = access::page_cache(ino, index, pfn, bstart);
                    let bh = fs::get_block(
                        cx,
                        ino,
                        iblock,
                        if touched { Create::Yes } else { Create::No },
                    )
                    .await?;
                    if uptodate || covered {
                        continue;
                    }
                    match bh.block {
                        // A new block: zero what the write will not fill (zero_user_segments).
                        Some(_) if bh.new => {
                            if from > bstart {
                                access::zero(cx, "zero_user_segments", at.clone(), from - bstart);
                            }
                            if to < bend {
                                access::zero(
                                    cx,
                                    "zero_user_segments",
                                    access::page_cache(ino, index, pfn, to),
                                    bend - to,
                                );
                            }
                        }
                        Some(b) if iblock * bs < size => {
                            submit_bio(cx, dev, b * bs, at, bs, false)?
                        }
                        _ => access::zero(cx, "zero_user_segments", at, bs),
                    }
                }
                let i = (p - pos) as usize;
                let n = to - from;
                let dst = access::page_cache(ino, index, pfn, from);
                access::copy_from_user(
                    cx,
                    "iov_iter_copy_from_user_atomic",
                    USER_BUF + i as u64,
                    &data[i..i + n as usize],
                    dst,
                    crate::timing::ram_copy_ns(n),
                );
                // generic_write_end: uptodate, dirty, i_size.
                let newly_dirty = cx.with(|k| {
                    let i = k.inode_mut(ino)?;
                    let pg = i.mapping.pages.get_mut(&index).ok_or(Errno::EIO)?;
                    pg.uptodate = true;
                    let was = pg.dirty;
                    pg.dirty = true;
                    Ok::<_, Errno>(!was)
                })?;
                if newly_dirty {
                    cx.emit(EventKind::PageCache {
                        op: CacheOp::Dirty,
                        ino,
                        index,
                        pfn,
                    });
                }
                let new_end = index * PAGE_SIZE + to;
                if new_end > size {
                    cx.with(|k| k.inode_mut(ino).map(|i| i.size = new_end))?;
                    cx.emit(EventKind::Size { ino, size: new_end });
                }
                cx.unlock(LockName::PageLock { ino, index }).await;
                Ok(())
            }
            .await;
            match r {
                Ok(()) => p = index * PAGE_SIZE + to,
                Err(Errno::EAGAIN) => continue,
                Err(e) if p == pos => return Err(e),
                Err(_) => break,
            }
        }
        Ok(p - pos)
    })
    .await
}

/// `->writepage`: allocate blocks under dirty data (`get_block(create=1)`) and write the page.
async fn writepage(cx: &Cx, ino: u64, index: u64) -> KResult<()> {
    cx.call("ext2_writepage", async {
        let lock = LockName::PageLock { ino, index };
        cx.lock(lock, LockMode::Write).await;
        let r = async {
            let Some(pg) = cx.with(|k| {
                k.inode(ino)
                    .ok()
                    .and_then(|i| i.mapping.find_get_page(index))
            }) else {
                return Ok(()); // truncated meanwhile
            };
            if !pg.dirty {
                return Ok(());
            }
            // clear_page_dirty_for_io, before the I/O: the page is clean, and page_mkclean
            // write-protects every PTE that maps it, so a store during or after writeback
            // faults and dirties the page again (->page_mkwrite).
            cx.with(|k| {
                k.inode_mut(ino)
                    .map(|i| i.mapping.pages.get_mut(&index).map(|p| p.dirty = false))
            })?;
            cx.emit(EventKind::PageCache {
                op: CacheOp::Clean,
                ino,
                index,
                pfn: pg.pfn,
            });
            memory::page_mkclean(cx, pg.pfn);
            let (dev, bs) = geometry(cx, ino)?;
            let per = PAGE_SIZE / bs;
            let size = i_size(cx, ino)?;
            for j in 0..per {
                let iblock = index * per + j;
                if iblock * bs >= size {
                    break; // nothing to write past EOF
                }
                let bh = fs::get_block(cx, ino, iblock, Create::Yes).await?;
                let b = bh.block.ok_or(Errno::EIO)?;
                submit_bio(
                    cx,
                    dev,
                    b * bs,
                    access::page_cache(ino, index, pg.pfn, j * bs),
                    bs,
                    true,
                )?;
            }
            Ok(())
        }
        .await;
        cx.unlock(lock).await;
        r
    })
    .await
}

/// `filemap_write_and_wait_range` over file pages `[first, last]`.
pub async fn write_and_wait_range(cx: &Cx, ino: u64, first: u64, last: u64) -> KResult<()> {
    let dirty = cx.with(|k| k.inode(ino).map(|i| i.mapping.dirty_in(first, last)))?;
    if dirty.is_empty() {
        return Ok(());
    }
    cx.call("filemap_write_and_wait_range", async {
        for index in dirty {
            writepage(cx, ino, index).await?;
        }
        Ok(())
    })
    .await
}

/// `invalidate_inode_pages2_range`: unmap and drop cached pages (for DAX: the hole pages) in
/// `[first, last]` before a direct write, so the write is visible through mmap.
pub async fn invalidate_inode_pages2_range(
    cx: &Cx,
    ino: u64,
    first: u64,
    last: u64,
) -> KResult<()> {
    let pages: Vec<(u64, Pfn)> = cx.with(|k| {
        k.inode(ino).map(|i| {
            i.mapping
                .pages
                .range(first..=last)
                .map(|(x, p)| (*x, p.pfn))
                .collect()
        })
    })?;
    if pages.is_empty() {
        return Ok(());
    }
    cx.call("invalidate_inode_pages2_range", async {
        for (index, pfn) in pages {
            cx.lock(LockName::PageLock { ino, index }, LockMode::Write)
                .await;
            memory::unmap_mapping_range(cx, ino, index, Some(1), false).await;
            delete_from_page_cache(cx, ino, index, pfn);
            cx.unlock(LockName::PageLock { ino, index }).await;
        }
        Ok(())
    })
    .await
}

/// `truncate_inode_pages(mapping, from)`: drop pages wholly past `from`, zero the tail of a
/// partial one.
pub async fn truncate_inode_pages(cx: &Cx, ino: u64, from: u64) -> KResult<()> {
    cx.call("truncate_inode_pages", async {
        let first_whole = from.div_ceil(PAGE_SIZE);
        let pages: Vec<(u64, Pfn)> = cx.with(|k| {
            k.inode(ino).map(|i| {
                i.mapping
                    .pages
                    .range(first_whole..)
                    .map(|(x, p)| (*x, p.pfn))
                    .collect()
            })
        })?;
        for (index, pfn) in pages {
            cx.lock(LockName::PageLock { ino, index }, LockMode::Write)
                .await;
            delete_from_page_cache(cx, ino, index, pfn);
            cx.unlock(LockName::PageLock { ino, index }).await;
        }
        if !from.is_multiple_of(PAGE_SIZE) {
            let index = from / PAGE_SIZE;
            if let Some(p) = cx.with(|k| {
                k.inode(ino)
                    .ok()
                    .and_then(|i| i.mapping.find_get_page(index))
            }) {
                let off = from % PAGE_SIZE;
                let space = if p.hole {
                    crate::event::Space::HolePage { ino, index }
                } else {
                    crate::event::Space::PageCache { ino, index }
                };
                access::zero(
                    cx,
                    "zero_user_segment",
                    access::kernel(space, p.pfn, off),
                    PAGE_SIZE - off,
                );
            }
        }
        Ok(())
    })
    .await
}

/// `block_truncate_page`: zero the tail of the block at `from` through the page cache, so the
/// bytes past the new EOF are zero on disk too.
pub async fn block_truncate_page(cx: &Cx, ino: u64, from: u64) -> KResult<()> {
    cx.call("block_truncate_page", async {
        let (_, bs) = geometry(cx, ino)?;
        let off = from % bs;
        if off == 0 {
            return Ok(());
        }
        let bh = fs::get_block(cx, ino, from / bs, Create::No).await?;
        if !bh.written() {
            return Ok(()); // a hole reads as zeros
        }
        let index = from / PAGE_SIZE;
        let (pfn, _) = find_or_read_page(cx, ino, index).await?;
        let poff = from % PAGE_SIZE;
        let len = bs - off;
        access::zero(
            cx,
            "zero_user",
            access::page_cache(ino, index, pfn, poff),
            len,
        );
        cx.with(|k| {
            k.inode_mut(ino)
                .map(|i| i.mapping.pages.get_mut(&index).map(|p| p.dirty = true))
        })?;
        cx.emit(EventKind::PageCache {
            op: CacheOp::Dirty,
            ino,
            index,
            pfn,
        });
        cx.unlock(LockName::PageLock { ino, index }).await;
        Ok(())
    })
    .await
}

/// `filemap_fault`: find or read the page and return it locked. Major when I/O was needed.
pub async fn filemap_fault(cx: &Cx, vma: &Vma, addr: u64) -> (VmFault, bool) {
    cx.call("filemap_fault", async {
        let ino = vma.ino;
        let pgoff = vma.pgoff_of(addr);
        let pages = |cx: &Cx| {
            cx.with(|k| {
                k.inode(ino)
                    .map(|i| i.size.div_ceil(PAGE_SIZE))
                    .unwrap_or(0)
            })
        };
        if pgoff >= pages(cx) {
            return (VmFault::SigBus, false);
        }
        let (pfn, major) = match find_or_read_page(cx, ino, pgoff).await {
            Ok(v) => v,
            Err(Errno::ENOMEM) => return (VmFault::Oom, false),
            Err(_) => return (VmFault::SigBus, false),
        };
        if pgoff >= pages(cx) {
            cx.unlock(LockName::PageLock { ino, index: pgoff }).await;
            return (VmFault::SigBus, major);
        }
        (VmFault::Locked(pfn), major)
    })
    .await
}

/// `filemap_page_mkwrite` (`->page_mkwrite` of the page-cache mapping): mark the page dirty.
pub async fn page_mkwrite(cx: &Cx, ino: u64, index: u64) {
    cx.call("filemap_page_mkwrite", async {
        cx.call("file_update_time", async {}).await;
        let pg = cx.with(|k| {
            let pg = k.inode_mut(ino).ok()?.mapping.pages.get_mut(&index)?;
            let was = pg.dirty;
            pg.dirty = true;
            Some((pg.pfn, was))
        });
        if let Some((pfn, false)) = pg {
            cx.emit(EventKind::PageCache {
                op: CacheOp::Dirty,
                ino,
                index,
                pfn,
            });
        }
    })
    .await
}
