//! The page-cache paths (`mm/filemap.c`, `fs/buffer.c`, `fs/mpage.c`): the buffered read and
//! write that DAX replaces, writeback of dirty pages, `filemap_fault`, and zeroing through
//! the cache.
//!
//! Simplified: no readahead (one page is read per miss) and writeback happens only when asked
//! (`fsync`, `sync`, `drop_caches`, direct I/O), never in the background.

use crate::engine::cx::Cx;
use crate::engine::footprint::Obj;
use crate::engine::trace::{CacheOp, EventKind, Space, SysResult};
use crate::errno::{Errno, KResult};
use crate::kernel::memory::{self, VmFault};
use crate::kernel::resume::Resume;
use crate::kernel::{bio, cacheflush, cpu, ops, user};
use crate::state::fs::BufferHead;
use crate::state::lock::{LockMode, LockName};
use crate::state::mem::{FrameUse, Pfn, PAGE_SIZE};
use crate::state::mm::Vma;
use crate::state::ops::AddressSpaceOps;
use crate::state::page_cache::Page;
use crate::state::DevId;
use crate::timing;

fn geometry(cx: &Cx, ino: u64) -> KResult<(DevId, u64, AddressSpaceOps)> {
    cx.read(Obj::Inodes, |m| {
        let i = m.inode(ino)?;
        let f = m.fs(i.fs);
        Ok((f.dev, f.block_size, i.a_ops))
    })
}

pub(crate) fn i_size(cx: &Cx, ino: u64) -> KResult<u64> {
    cx.read(Obj::ISize(ino), |m| m.inode(ino).map(|i| i.size))
}

pub(crate) fn find_page(cx: &Cx, ino: u64, index: u64) -> Option<Page> {
    cx.read(Obj::CachePage(ino, index), |m| {
        m.inode(ino)
            .ok()
            .and_then(|i| i.mapping.find_get_page(index))
    })
}

fn set_page(cx: &Cx, ino: u64, index: u64, f: impl FnOnce(&mut Page)) -> KResult<()> {
    cx.write(Obj::CachePage(ino, index), |m| {
        let p = m
            .inode_mut(ino)?
            .mapping
            .pages
            .get_mut(index)
            .ok_or(Errno::EIO)?;
        f(p);
        Ok(())
    })
}

fn page_lock(ino: u64, index: u64) -> LockName {
    LockName::PageLock { ino, index }
}

/// Mark a cached page dirty (`set_page_dirty`), with its event the first time.
fn mark_dirty(cx: &Cx, ino: u64, index: u64) -> KResult<()> {
    let mut was = true;
    let mut pfn = Pfn(0);
    set_page(cx, ino, index, |p| {
        was = p.dirty;
        pfn = p.pfn;
        p.dirty = true;
        p.uptodate = true;
    })?;
    if !was {
        cx.emit(EventKind::PageCache {
            op: CacheOp::Dirty,
            ino,
            index,
            pfn,
        });
    }
    Ok(())
}

/// `add_to_page_cache_lru` of a new zeroed page, locked. Returns `None` if another thread added
/// the page first (the caller uses that one).
async fn add_page(cx: &Cx, ino: u64, index: u64) -> KResult<Option<Pfn>> {
    let pfn = cx.write(Obj::Ram, |m| {
        m.mem.alloc_ram(FrameUse::PageCache { ino, index })
    })?;
    cx.lock(page_lock(ino, index), LockMode::Write).await;
    let added = cx.write(Obj::CachePage(ino, index), |m| {
        let i = m.inode_mut(ino)?;
        if i.mapping.pages.contains_key(index) {
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
        cx.write(Obj::Ram, |m| m.mem.put_page(pfn));
        cx.unlock(page_lock(ino, index)).await;
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

/// `get_page`: a reference that keeps a page-cache frame while its user does not hold the page
/// lock. (The model's PTEs hold no reference: eviction finds mapped pages by walking the page
/// tables, and a fault keeps its page locked until the PTE is set.)
pub(crate) fn get_page(cx: &Cx, pfn: Pfn) {
    cx.write(Obj::Frame(pfn), |m| m.mem.get_page(pfn));
}

/// `put_page` / `page_cache_release`: the last reference frees the frame.
pub(crate) fn put_page(cx: &Cx, pfn: Pfn) {
    cx.write(Obj::Frame(pfn), |m| m.mem.put_page(pfn));
}

/// `delete_from_page_cache`: drop the cache's reference (the frame is freed unless a reader
/// still holds one).
pub fn delete_from_page_cache(cx: &Cx, ino: u64, index: u64, pfn: Pfn) {
    let removed = cx.write(Obj::CachePage(ino, index), |m| {
        let r = m
            .inode_mut(ino)
            .ok()
            .and_then(|i| i.mapping.pages.remove(index))
            .is_some();
        if r {
            m.mem.put_page(pfn);
        }
        r
    });
    if removed {
        cx.write(Obj::Ram, |_| ());
        cx.emit(EventKind::PageCache {
            op: CacheOp::Remove,
            ino,
            index,
            pfn,
        });
    }
}

/// `->readpage` (`mpage_readpage`/`block_read_full_page` with the filesystem's `get_block`):
/// fill a locked page from its blocks; holes and bytes past EOF are zeroed.
async fn readpage(cx: &Cx, ino: u64, index: u64, pfn: Pfn) -> KResult<()> {
    let (dev, bs, aops) = geometry(cx, ino)?;
    cx.call(aops.readpage, async {
        let per = PAGE_SIZE / bs;
        let size = i_size(cx, ino)?;
        for j in 0..per {
            let iblock = index * per + j;
            let at = cpu::page_cache(ino, index, pfn, j * bs);
            let bh = if iblock * bs < size {
                ops::get_block(cx, aops.get_block, ino, iblock, 1, false).await?
            } else {
                BufferHead::default()
            };
            match bh.block {
                Some(b) if bh.written() => bio::submit_bio(cx, dev, b * bs, at, bs, false)?,
                _ => cpu::zero_user_segment(cx, "zero_user", at, bs),
            }
        }
        set_page(cx, ino, index, |p| p.uptodate = true)
    })
    .await
}

/// Find a page or read it in (`find_get_page`, else `page_cache_sync_readahead` → `readpage`).
/// Returns the page, locked, and whether I/O was needed.
async fn find_or_read_page(cx: &Cx, ino: u64, index: u64) -> KResult<(Pfn, bool)> {
    loop {
        if let Some(p) = find_page(cx, ino, index) {
            // find_get_page's reference keeps the frame while lock_page sleeps.
            get_page(cx, p.pfn);
            cx.lock(page_lock(ino, index), LockMode::Write).await;
            let now = find_page(cx, ino, index);
            put_page(cx, p.pfn);
            match now {
                Some(s) if s.pfn == p.pfn && s.uptodate => return Ok((p.pfn, false)),
                Some(s) if s.pfn == p.pfn => {
                    readpage(cx, ino, index, p.pfn).await?;
                    return Ok((p.pfn, true));
                }
                _ => {
                    cx.unlock(page_lock(ino, index)).await;
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

/// The page at `index`, up to date, held by a reference and unlocked: `do_generic_file_read`'s
/// `find_get_page`, its `page_not_up_to_date` path (lock the page, check it was not truncated
/// meanwhile, read it) and its `no_cached_page` path (add a page and read it). An up-to-date
/// cached page is not locked. Simplified: no readahead (one page is read at a time).
pub(crate) async fn get_uptodate_page(cx: &Cx, ino: u64, index: u64) -> KResult<Pfn> {
    let lock = page_lock(ino, index);
    loop {
        if let Some(p) = find_page(cx, ino, index) {
            get_page(cx, p.pfn);
            if p.uptodate {
                return Ok(p.pfn);
            }
            cx.lock(lock, LockMode::Write).await;
            match find_page(cx, ino, index) {
                Some(s) if s.pfn == p.pfn => {
                    let r = if s.uptodate {
                        Ok(())
                    } else {
                        readpage(cx, ino, index, p.pfn).await
                    };
                    cx.unlock(lock).await;
                    if let Err(e) = r {
                        put_page(cx, p.pfn);
                        return Err(e);
                    }
                    return Ok(p.pfn);
                }
                _ => {
                    // "Did it get truncated before we got the lock?"
                    cx.unlock(lock).await;
                    put_page(cx, p.pfn);
                    continue;
                }
            }
        }
        if let Some(pfn) = add_page(cx, ino, index).await? {
            get_page(cx, pfn);
            let r = readpage(cx, ino, index, pfn).await;
            cx.unlock(lock).await;
            if let Err(e) = r {
                put_page(cx, pfn);
                return Err(e);
            }
            return Ok(pfn);
        }
    }
}

/// The state of a `do_generic_file_read` loop between two pages.
#[derive(Debug, Clone, PartialEq)]
pub struct FileRead {
    ino: u64,
    ubuf: u64,
    start: u64,
    pos: u64,
    end: u64,
}

/// `do_generic_file_read`: page by page, read into the page cache if needed, then
/// `copy_page_to_iter` to the user buffer at `ubuf`.
pub async fn do_generic_file_read(cx: &Cx, ino: u64, ubuf: u64, pos: u64, len: u64) -> SysResult {
    let end = pos + len;
    cx.frame(
        "do_generic_file_read",
        crate::state::task::Tail::Pass,
        file_read(
            cx,
            FileRead {
                ino,
                ubuf,
                start: pos,
                pos,
                end,
            },
        ),
    )
    .await
}

/// The loop of `do_generic_file_read`.
pub async fn file_read(cx: &Cx, mut s: FileRead) -> SysResult {
    let ino = s.ino;
    while s.pos < s.end {
        let index = s.pos / PAGE_SIZE;
        let off = s.pos % PAGE_SIZE;
        // The page is held by a reference, not locked, for the copy: truncate may delete it
        // from the cache meanwhile, but not free it under the copy; drop_caches leaves it.
        let pfn = match get_uptodate_page(cx, ino, index).await {
            Ok(v) => v,
            Err(e) if s.pos == s.start => return Err(e.into()),
            Err(_) => break,
        };
        // "i_size must be checked after we know the page is Uptodate": a truncate that ran
        // meanwhile ends the read at the new EOF.
        let isize = i_size(cx, ino)?;
        if isize == 0 || index > (isize - 1) / PAGE_SIZE {
            put_page(cx, pfn);
            break;
        }
        let nr = if index == (isize - 1) / PAGE_SIZE {
            (isize - 1) % PAGE_SIZE + 1
        } else {
            PAGE_SIZE
        };
        if nr <= off {
            put_page(cx, pfn);
            break;
        }
        let n = (nr - off).min(s.end - s.pos);
        let uva = s.ubuf + (s.pos - s.start);
        let (src, ns) = (
            cpu::page_cache(ino, index, pfn, off),
            timing::ram_copy_ns(n),
        );
        // "If users can be writing to this page using arbitrary virtual addresses, take care
        // about potential aliasing before reading the page on the kernel side."
        if cacheflush::mapping_writably_mapped(cx, ino) {
            cacheflush::flush_dcache_page(cx, pfn);
        }
        let r = if user::try_copy_user(cx, "copy_page_to_iter", src, uva, n, ns, true) {
            Ok(())
        } else {
            user::copy_user(cx, "copy_page_to_iter", src, uva, n, ns, true).await
        };
        put_page(cx, pfn); // page_cache_release
        if let Err((done, _)) = r {
            s.pos += done;
            return if s.pos == s.start {
                Err(Errno::EFAULT.into())
            } else {
                Ok(s.pos - s.start)
            };
        }
        s.pos += n;
        cx.capture_point(|| Resume::FileRead(s.clone())).await;
    }
    Ok(s.pos - s.start)
}

/// The state of a `generic_perform_write` loop between two pages.
#[derive(Debug, Clone, PartialEq)]
pub struct PerformWrite {
    ino: u64,
    ubuf: u64,
    start: u64,
    pos: u64,
    end: u64,
}

/// `generic_perform_write`: `write_begin` (find or create the page, allocate blocks, read or
/// zero what the write does not cover), copy from the user buffer at `ubuf`, `write_end`
/// (dirty, `i_size`).
pub async fn generic_perform_write(cx: &Cx, ino: u64, ubuf: u64, pos: u64, len: u64) -> SysResult {
    cx.frame(
        "generic_perform_write",
        crate::state::task::Tail::Pass,
        perform_write(
            cx,
            PerformWrite {
                ino,
                ubuf,
                start: pos,
                pos,
                end: pos + len,
            },
        ),
    )
    .await
}

/// The loop of `generic_perform_write`.
pub async fn perform_write(cx: &Cx, mut s: PerformWrite) -> SysResult {
    let ino = s.ino;
    while s.pos < s.end {
        let index = s.pos / PAGE_SIZE;
        let from = s.pos % PAGE_SIZE;
        let to = (from + (s.end - s.pos)).min(PAGE_SIZE);
        match write_one_page(cx, ino, s.ubuf + (s.pos - s.start), index, from, to).await {
            Ok(()) => s.pos = index * PAGE_SIZE + to,
            Err(Errno::EAGAIN) => continue,
            Err(e) if s.pos == s.start => return Err(e.into()),
            Err(_) => break,
        }
        cx.capture_point(|| Resume::PerformWrite(s.clone())).await;
    }
    Ok(s.pos - s.start)
}

/// One page of `generic_perform_write`: bytes `[from, to)` of page `index` from user address
/// `uva`.
async fn write_one_page(
    cx: &Cx,
    ino: u64,
    uva: u64,
    index: u64,
    from: u64,
    to: u64,
) -> KResult<()> {
    let (dev, bs, aops) = geometry(cx, ino)?;
    let per = PAGE_SIZE / bs;
    // "Bring in the user page that we will copy from _first_. Otherwise there's a nasty
    // deadlock on copying from the same page as we're writing to, without it being marked
    // up-to-date."
    if user::fault_in_readable(cx, uva, to - from).await.is_err() {
        return Err(Errno::EFAULT);
    }
    // ->write_begin → grab_cache_page_write_begin + block_write_begin
    let pfn = cx
        .call(aops.write_begin, async {
            // find_lock_page: take the page and lock it; if truncate removed it meanwhile
            // ("page->mapping != mapping"), start over.
            let pfn = match find_page(cx, ino, index) {
                Some(pg) => {
                    get_page(cx, pg.pfn);
                    cx.lock(page_lock(ino, index), LockMode::Write).await;
                    let same = find_page(cx, ino, index).is_some_and(|p| p.pfn == pg.pfn);
                    put_page(cx, pg.pfn);
                    if !same {
                        cx.unlock(page_lock(ino, index)).await;
                        return Err(Errno::EAGAIN);
                    }
                    pg.pfn
                }
                None => match add_page(cx, ino, index).await? {
                    Some(pfn) => pfn,
                    None => return Err(Errno::EAGAIN),
                },
            };
            let uptodate = find_page(cx, ino, index).is_some_and(|p| p.uptodate);
            let size = i_size(cx, ino)?;
            for j in 0..per {
                let (bstart, bend) = (j * bs, j * bs + bs);
                let iblock = index * per + j;
                let covered = from <= bstart && bend <= to;
                let touched = from < bend && bstart < to;
                let at = cpu::page_cache(ino, index, pfn, bstart);
                let bh = ops::get_block(cx, aops.get_block, ino, iblock, 1, touched).await?;
                if uptodate || covered {
                    continue;
                }
                match bh.block {
                    // A new block: zero what the write will not fill (zero_user_segments).
                    Some(_) if bh.new => {
                        if from > bstart {
                            cpu::zero(cx, "zero_user_segments", at, from - bstart);
                        }
                        if to < bend {
                            cpu::zero(
                                cx,
                                "zero_user_segments",
                                cpu::page_cache(ino, index, pfn, to),
                                bend - to,
                            );
                        }
                        cacheflush::flush_dcache_page(cx, pfn);
                    }
                    Some(b) if iblock * bs < size && bh.written() => {
                        bio::submit_bio(cx, dev, b * bs, at, bs, false)?
                    }
                    _ => {
                        cpu::zero(cx, "zero_user_segments", at, bs);
                        cacheflush::flush_dcache_page(cx, pfn);
                    }
                }
            }
            Ok(pfn)
        })
        .await?;
    let n = to - from;
    let (dst, ns) = (
        cpu::page_cache(ino, index, pfn, from),
        timing::ram_copy_ns(n),
    );
    // "if (mapping_writably_mapped(mapping)) flush_dcache_page(page);": a user may have
    // written the page through its own alias.
    if cacheflush::mapping_writably_mapped(cx, ino) {
        cacheflush::flush_dcache_page(cx, pfn);
    }
    // With page faults disabled: a page gone since the fault-in copies nothing, and the
    // write goes round again ("if (unlikely(copied == 0)) goto again").
    let copied = user::try_copy_user(cx, "iov_iter_copy_from_user_atomic", dst, uva, n, ns, false);
    // "flush_dcache_page(page);" after the copy, always: the user's alias must see it.
    cacheflush::flush_dcache_page(cx, pfn);
    if !copied {
        cx.unlock(page_lock(ino, index)).await;
        return Err(Errno::EAGAIN);
    }
    // generic_write_end: uptodate, dirty, i_size.
    mark_dirty(cx, ino, index)?;
    let new_end = index * PAGE_SIZE + to;
    if new_end > i_size(cx, ino)? {
        crate::kernel::truncate::i_size_write(cx, ino, new_end)?;
    }
    cx.unlock(page_lock(ino, index)).await;
    Ok(())
}

/// `->writepage` (`block_write_full_page` with the filesystem's `get_block`): allocate blocks
/// under dirty data and write the page. The part of the page past `i_size` is zeroed first,
/// "because it may be mmapped".
async fn writepage(cx: &Cx, ino: u64, index: u64) -> KResult<()> {
    let (dev, bs, aops) = geometry(cx, ino)?;
    cx.call(aops.writepage, async {
        let lock = page_lock(ino, index);
        cx.lock(lock, LockMode::Write).await;
        let r = async {
            let Some(pg) = find_page(cx, ino, index) else {
                return Ok(()); // truncated meanwhile
            };
            if !pg.dirty {
                return Ok(());
            }
            // clear_page_dirty_for_io, before the I/O: the page is clean, and page_mkclean
            // write-protects every PTE that maps it, so a store during or after writeback
            // faults and dirties the page again (->page_mkwrite).
            set_page(cx, ino, index, |p| p.dirty = false)?;
            cx.emit(EventKind::PageCache {
                op: CacheOp::Clean,
                ino,
                index,
                pfn: pg.pfn,
            });
            memory::page_mkclean(cx, ino, index, pg.pfn);
            let per = PAGE_SIZE / bs;
            let size = i_size(cx, ino)?;
            if index * PAGE_SIZE >= size {
                return Ok(()); // wholly past EOF: do_invalidatepage, nothing written
            }
            if size < (index + 1) * PAGE_SIZE {
                let off = size % PAGE_SIZE;
                cpu::zero_user_segment(
                    cx,
                    "zero_user_segment",
                    cpu::page_cache(ino, index, pg.pfn, off),
                    PAGE_SIZE - off,
                );
            }
            for j in 0..per {
                let iblock = index * per + j;
                if iblock * bs >= size {
                    break; // buffers past EOF are not written
                }
                let bh = ops::get_block(cx, aops.get_block, ino, iblock, 1, true).await?;
                let b = bh.block.ok_or(Errno::EIO)?;
                bio::submit_bio(
                    cx,
                    dev,
                    b * bs,
                    cpu::page_cache(ino, index, pg.pfn, j * bs),
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

/// Which dirty pages a writeback walk covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WbScope {
    /// File pages `[first, last]` of one inode (`filemap_write_and_wait_range`).
    Range {
        /// Inode number.
        ino: u64,
        /// First page.
        first: u64,
        /// Last page.
        last: u64,
    },
    /// Every inode of one filesystem (`sync_filesystem` at `umount`).
    Fs {
        /// The filesystem.
        fs: crate::state::FsId,
    },
    /// Every inode (`sync`).
    All,
}

/// The state of a writeback walk between two pages: the last page written.
#[derive(Debug, Clone, PartialEq)]
pub struct Writeback {
    scope: WbScope,
    cursor: Option<(u64, u64)>,
}

impl Writeback {
    /// A walk over `scope`.
    pub fn new(scope: WbScope) -> Self {
        Writeback {
            scope,
            cursor: None,
        }
    }
}

/// The next dirty page after `cursor` in `scope`, with the mount its inode is under.
fn next_dirty(
    cx: &Cx,
    scope: WbScope,
    cursor: Option<(u64, u64)>,
) -> Option<(u64, u64, Option<crate::state::MountId>)> {
    let obj = match scope {
        WbScope::Range { ino, .. } => Obj::Cache(ino),
        WbScope::Fs { .. } | WbScope::All => Obj::Global,
    };
    cx.read(obj, |m| {
        let after = |ino: u64, idx: u64| cursor.is_none_or(|c| (ino, idx) > c);
        let inodes: Box<dyn Iterator<Item = &crate::state::fs::Inode>> = match scope {
            WbScope::Range { ino, .. } => Box::new(m.inodes.get(&ino).into_iter()),
            WbScope::All => Box::new(m.inodes.range(cursor.map_or(0, |c| c.0)..).map(|(_, i)| i)),
            WbScope::Fs { fs } => Box::new(
                m.inodes
                    .range(cursor.map_or(0, |c| c.0)..)
                    .map(|(_, i)| i)
                    .filter(move |i| i.fs == fs),
            ),
        };
        let (lo, hi) = match scope {
            WbScope::Range { first, last, .. } => (first, last),
            WbScope::Fs { .. } | WbScope::All => (0, u64::MAX),
        };
        for i in inodes {
            let from = match cursor {
                Some((c, idx)) if c == i.ino => idx.saturating_add(1).max(lo),
                _ => lo,
            };
            if from > hi {
                continue;
            }
            if let Some(idx) = i.mapping.dirty_in(from, hi).find(|x| after(i.ino, *x)) {
                return Some((i.ino, idx, m.mount_of_fs(i.fs)));
            }
        }
        None
    })
}

/// A writeback walk: `->writepage` for every dirty page in scope, one page per step.
pub async fn writeback(cx: &Cx, mut s: Writeback) -> SysResult {
    while let Some((ino, index, mount)) = next_dirty(cx, s.scope, s.cursor) {
        s.cursor = Some((ino, index));
        writepage(&cx.on_mount(mount.or(cx.mount)), ino, index).await?;
        cx.capture_point(|| Resume::Writeback(s.clone())).await;
    }
    Ok(0)
}

/// `filemap_write_and_wait_range` over file pages `[first, last]`, inside another path.
pub async fn write_and_wait_range(cx: &Cx, ino: u64, first: u64, last: u64) -> KResult<()> {
    if next_dirty(cx, WbScope::Range { ino, first, last }, None).is_none() {
        return Ok(());
    }
    cx.call(
        "filemap_write_and_wait_range",
        writeback(cx, Writeback::new(WbScope::Range { ino, first, last })),
    )
    .await
    .map(|_| ())
    .map_err(|f| match f {
        crate::engine::trace::Fail::Errno(e) => e,
        crate::engine::trace::Fail::Signal(_) => Errno::EIO,
    })
}

/// `invalidate_inode_pages2_range`: lock (waiting), unmap and drop cached pages in
/// `[first, last]` before a direct write, so the write is visible through mmap (for DAX: the
/// hole pages).
pub async fn invalidate_inode_pages2_range(
    cx: &Cx,
    ino: u64,
    first: u64,
    last: u64,
) -> KResult<()> {
    let pages: Vec<(u64, Pfn)> = cx.read(Obj::Cache(ino), |m| {
        m.inode(ino).map(|i| {
            i.mapping
                .pages
                .range(first..=last)
                .map(|(x, p)| (x, p.pfn))
                .collect()
        })
    })?;
    if pages.is_empty() {
        return Ok(());
    }
    cx.call("invalidate_inode_pages2_range", async {
        for (index, pfn) in pages {
            cx.lock(page_lock(ino, index), LockMode::Write).await;
            if find_page(cx, ino, index).is_some_and(|p| p.pfn == pfn) {
                memory::unmap_mapping_range(cx, ino, index, Some(1), false).await;
                delete_from_page_cache(cx, ino, index, pfn);
            }
            cx.unlock(page_lock(ino, index)).await;
        }
        Ok(())
    })
    .await
}

/// Zero bytes `[from, from+len)` (within one block) through the page cache, if the block holds
/// data: read the page in, zero, mark it dirty (`block_truncate_page`,
/// `ext4_block_zero_page_range` without DAX).
pub async fn zero_range_in_cache(cx: &Cx, ino: u64, from: u64, len: u64) -> KResult<()> {
    let (_, bs, aops) = geometry(cx, ino)?;
    let index = from / PAGE_SIZE;
    // grab_cache_page: the page first (found or added, locked), then the block.
    let pfn = grab_cache_page(cx, ino, index).await?;
    let r = async {
        let bh = ops::get_block(cx, aops.get_block, ino, from / bs, 1, false).await?;
        if !bh.written() {
            return Ok(()); // "unmapped? It's a hole - nothing to do"
        }
        if !find_page(cx, ino, index).is_some_and(|p| p.uptodate) {
            // The block is read in before it is partly zeroed (ll_rw_block(READ)). Simplified:
            // the whole page is read, so that it can be marked up to date.
            readpage(cx, ino, index, pfn).await?;
        }
        cpu::zero_user_segment(
            cx,
            "zero_user",
            cpu::page_cache(ino, index, pfn, from % PAGE_SIZE),
            len,
        );
        mark_dirty(cx, ino, index)
    }
    .await;
    cx.unlock(page_lock(ino, index)).await;
    r
}

/// `grab_cache_page`: the page at `index`, found or added (not read), locked.
async fn grab_cache_page(cx: &Cx, ino: u64, index: u64) -> KResult<Pfn> {
    let lock = page_lock(ino, index);
    loop {
        if let Some(p) = find_page(cx, ino, index) {
            get_page(cx, p.pfn);
            cx.lock(lock, LockMode::Write).await;
            let same = find_page(cx, ino, index).is_some_and(|q| q.pfn == p.pfn);
            put_page(cx, p.pfn);
            if same {
                return Ok(p.pfn);
            }
            cx.unlock(lock).await;
            continue;
        }
        if let Some(pfn) = add_page(cx, ino, index).await? {
            return Ok(pfn);
        }
    }
}

/// `block_truncate_page`: zero the tail of the block at `from` through the page cache, so the
/// bytes past the new EOF are zero on disk too.
pub async fn block_truncate_page(cx: &Cx, ino: u64, from: u64) -> KResult<()> {
    cx.call("block_truncate_page", async {
        let (_, bs, _) = geometry(cx, ino)?;
        let off = from % bs;
        if off == 0 {
            return Ok(());
        }
        zero_range_in_cache(cx, ino, from, bs - off).await
    })
    .await
}

/// `filemap_fault`: find or read the page and return it locked. Major when I/O was needed.
pub async fn filemap_fault(cx: &Cx, vma: &Vma, addr: u64) -> (VmFault, bool) {
    let Some(ino) = vma.ino() else {
        return (VmFault::SigBus, false);
    };
    let pgoff = vma.pgoff_of(addr);
    let pages = |cx: &Cx| i_size(cx, ino).map_or(0, |s| s.div_ceil(PAGE_SIZE));
    if pgoff >= pages(cx) {
        return (VmFault::SigBus, false);
    }
    let (pfn, major) = match find_or_read_page(cx, ino, pgoff).await {
        Ok(v) => v,
        Err(Errno::ENOMEM) => return (VmFault::Oom, false),
        Err(_) => return (VmFault::SigBus, false),
    };
    if pgoff >= pages(cx) {
        cx.unlock(page_lock(ino, pgoff)).await;
        return (VmFault::SigBus, major);
    }
    (VmFault::Locked(pfn), major)
}

/// `filemap_page_mkwrite` (and `ext4_page_mkwrite`, which with delayed allocation reserves the
/// blocks and leaves allocation to writeback): lock the page, check it is still there, mark it
/// dirty. Returns it locked.
pub async fn page_mkwrite(cx: &Cx, vma: &Vma, addr: u64) -> VmFault {
    let Some(ino) = vma.ino() else {
        return VmFault::SigBus;
    };
    let index = vma.pgoff_of(addr);
    cx.call("file_update_time", async {}).await;
    cx.lock(page_lock(ino, index), LockMode::Write).await;
    let Some(p) = find_page(cx, ino, index) else {
        cx.unlock(page_lock(ino, index)).await;
        return VmFault::NoPage; // truncated: the fault is retried
    };
    if mark_dirty(cx, ino, index).is_err() {
        cx.unlock(page_lock(ino, index)).await;
        return VmFault::SigBus;
    }
    VmFault::Locked(p.pfn)
}

/// The frame kind a page-cache page shows as in the trace.
pub fn cache_space(p: &Page, ino: u64, index: u64) -> Space {
    if p.hole {
        Space::HolePage { ino, index }
    } else {
        Space::PageCache { ino, index }
    }
}
