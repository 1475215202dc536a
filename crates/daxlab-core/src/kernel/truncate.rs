//! `mm/truncate.c` and the size change around it: `i_size_write`, `truncate_setsize`,
//! `truncate_pagecache`, `truncate_inode_pages`, and freeing a file's blocks.

use crate::engine::cx::Cx;
use crate::engine::footprint::Obj;
use crate::engine::trace::EventKind;
use crate::errno::{Errno, KResult};
use crate::kernel::{cpu, filemap, memory};
use crate::state::lock::{LockMode, LockName};
use crate::state::mem::{Pfn, PAGE_SIZE};

/// `i_size_write`, with its event.
pub fn i_size_write(cx: &Cx, ino: u64, size: u64) -> KResult<()> {
    cx.write(Obj::ISize(ino), |m| m.inode_mut(ino).map(|i| i.size = size))?;
    cx.emit(EventKind::Size { ino, size });
    Ok(())
}

/// `truncate_setsize`: `i_size_write`, then `truncate_pagecache` whether the file grew or
/// shrank (`pagecache_isize_extended` does nothing when the block size is the page size; the
/// model's smaller blocks do not change what it shows).
pub async fn truncate_setsize(cx: &Cx, ino: u64, size: u64) -> KResult<()> {
    cx.call("truncate_setsize", async {
        i_size_write(cx, ino, size)?;
        cx.yield_now().await;
        truncate_pagecache(cx, ino, size).await
    })
    .await
}

/// `truncate_pagecache(inode, newsize)`: unmap (even COWed pages), drop the pages, unmap again.
pub async fn truncate_pagecache(cx: &Cx, ino: u64, size: u64) -> KResult<()> {
    cx.call("truncate_pagecache", async {
        let holebegin = size.div_ceil(PAGE_SIZE);
        memory::unmap_mapping_range(cx, ino, holebegin, None, true).await;
        truncate_inode_pages(cx, ino, size, u64::MAX).await?;
        memory::unmap_mapping_range(cx, ino, holebegin, None, true).await;
        Ok(())
    })
    .await
}

/// `truncate_pagecache_range(inode, lstart, lend)` for the whole pages of `[lstart, lend]`.
pub async fn truncate_pagecache_range(cx: &Cx, ino: u64, lstart: u64, lend: u64) -> KResult<()> {
    cx.call("truncate_pagecache_range", async {
        let first = lstart.div_ceil(PAGE_SIZE);
        let end = (lend + 1) / PAGE_SIZE;
        if end > first {
            // "without even_cows flag: hole-punching should not remove private COWed pages
            // from the hole"
            memory::unmap_mapping_range(cx, ino, first, Some(end - first), false).await;
        }
        truncate_inode_pages(cx, ino, lstart, lend).await
    })
    .await
}

/// `truncate_inode_pages_range(mapping, lstart, lend)`: drop the pages wholly inside, each
/// under its page lock; zero the part of a partial page at `lstart` that is inside.
pub async fn truncate_inode_pages(cx: &Cx, ino: u64, lstart: u64, lend: u64) -> KResult<()> {
    cx.call("truncate_inode_pages", async {
        let first_whole = lstart.div_ceil(PAGE_SIZE);
        let last_whole = if lend == u64::MAX {
            u64::MAX
        } else {
            (lend + 1) / PAGE_SIZE
        };
        let pages: Vec<(u64, Pfn)> = cx.read(Obj::Cache(ino), |m| {
            m.inode(ino).map(|i| {
                i.mapping
                    .pages
                    .range(first_whole..last_whole)
                    .map(|(x, p)| (x, p.pfn))
                    .collect()
            })
        })?;
        for (index, _) in pages {
            // Looked up again: the walk sleeps on page locks, and pages come and go meanwhile.
            let Some(pfn) = filemap::find_page(cx, ino, index).map(|p| p.pfn) else {
                continue;
            };
            let lock = LockName::PageLock { ino, index };
            filemap::get_page(cx, pfn);
            cx.lock(lock, LockMode::Write).await;
            // "if (page->mapping != mapping)": another truncate got there first.
            if filemap::find_page(cx, ino, index).is_some_and(|p| p.pfn == pfn) {
                filemap::delete_from_page_cache(cx, ino, index, pfn);
            }
            cx.unlock(lock).await;
            filemap::put_page(cx, pfn);
        }
        // The partial pages at either end: zero the part inside the range.
        let mut partial = Vec::new();
        if !lstart.is_multiple_of(PAGE_SIZE) {
            let index = lstart / PAGE_SIZE;
            let end = if lend != u64::MAX && lend / PAGE_SIZE == index {
                lend % PAGE_SIZE + 1
            } else {
                PAGE_SIZE
            };
            partial.push((index, lstart % PAGE_SIZE, end));
        }
        if lend != u64::MAX
            && !(lend + 1).is_multiple_of(PAGE_SIZE)
            && (lend / PAGE_SIZE) * PAGE_SIZE > lstart
        {
            partial.push((lend / PAGE_SIZE, 0, lend % PAGE_SIZE + 1));
        }
        for (index, from, to) in partial {
            // find_lock_page, zero_user_segment, unlock_page.
            let Some(p) = filemap::find_page(cx, ino, index) else {
                continue;
            };
            let lock = LockName::PageLock { ino, index };
            filemap::get_page(cx, p.pfn);
            cx.lock(lock, LockMode::Write).await;
            if filemap::find_page(cx, ino, index).is_some_and(|q| q.pfn == p.pfn) {
                cpu::zero_user_segment(
                    cx,
                    "zero_user_segment",
                    cpu::kernel(filemap::cache_space(&p, ino, index), p.pfn, from),
                    to - from,
                );
            }
            cx.unlock(lock).await;
            filemap::put_page(cx, p.pfn);
        }
        Ok(())
    })
    .await
}

/// Free the blocks of a file from file block `first` up to (not including) `stop`, under
/// `lock` (`truncate_mutex` for ext2, `i_data_sem` for ext4).
pub async fn free_block_range(
    cx: &Cx,
    ino: u64,
    first: u64,
    stop: u64,
    lock: LockName,
) -> KResult<()> {
    cx.lock(lock, LockMode::Write).await;
    let freed: Vec<(u64, u64)> = cx.write(Obj::Blocks(ino), |m| {
        let inode = m.inode_mut(ino)?;
        let gone: Vec<(u64, u64)> = inode
            .blocks
            .range(first..stop)
            .map(|(i, e)| (i, e.block))
            .collect();
        for (i, _) in &gone {
            inode.blocks.remove(*i);
        }
        let fs = inode.fs;
        for (_, b) in &gone {
            m.fs_mut(fs).free_block(*b);
        }
        Ok::<_, Errno>(gone)
    })?;
    if !freed.is_empty() {
        let fs = cx.read(Obj::Inodes, |m| m.inode(ino).map(|i| i.fs))?;
        cx.write(Obj::FsAlloc(fs), |_| ());
    }
    for (iblock, block) in freed {
        cx.emit(EventKind::BlockFree { ino, iblock, block });
    }
    cx.unlock(lock).await;
    Ok(())
}

/// Free the blocks of a file at and after `size`.
pub async fn free_blocks(cx: &Cx, ino: u64, size: u64, lock: LockName) -> KResult<()> {
    let bs = cx.read(Obj::Inodes, |m| m.fs_of(ino).map(|f| f.block_size))?;
    free_block_range(cx, ino, size.div_ceil(bs), u64::MAX, lock).await
}
