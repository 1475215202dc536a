//! `fs/ext4/inode.c`, `fs/ext4/indirect.c`, `fs/ext4/extents.c` (4.0), as far as the DAX paths
//! reach them.

use crate::engine::cx::Cx;
use crate::engine::footprint::Obj;
use crate::engine::trace::{EventKind, SysResult};
use crate::errno::{Errno, KResult};
use crate::kernel::{dax, direct_io, filemap, truncate};
use crate::state::fs::{BufferHead, Extent};
use crate::state::lock::{LockMode, LockName};
use crate::state::ops::GetBlock;
use crate::state::task::Tail;
use crate::state::Locking;

/// What `_ext4_get_block` is asked to do with a hole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ext4Create {
    /// Look up only.
    No,
    /// `EXT4_GET_BLOCKS_CREATE`: a written extent, BH_New, not zeroed.
    Written,
    /// `EXT4_GET_BLOCKS_IO_CREATE_EXT`: an unwritten extent (direct I/O inside `i_size`).
    Unwritten,
    /// `EXT4_GET_BLOCKS_ZERO` (~4.5, the fixed policy): zeroed and written before it is
    /// returned, not reported new.
    Prezeroed,
}

/// `_ext4_get_block` → `ext4_map_blocks` for up to `max` blocks from `iblock`: the lookup under
/// `i_data_sem` for read maps the extent found, as far as it runs (the model keeps a map per
/// block; contiguous blocks in the same state are one extent); an allocation under it for write
/// fills as much of the hole as one contiguous run allows (`ext4_ext_map_blocks`).
pub async fn get_block(
    cx: &Cx,
    ino: u64,
    iblock: u64,
    max: u64,
    create: Ext4Create,
) -> KResult<BufferHead> {
    let sem = LockName::IDataSem { ino };
    let max = max.max(1);
    let range = if max > 1 {
        Obj::Blocks(ino)
    } else {
        Obj::Block(ino, iblock)
    };
    let lookup = || {
        cx.read(range, |m| {
            m.inode(ino).map(|i| {
                let first = i.blocks.get(iblock).copied()?;
                let n = (1..max)
                    .take_while(|k| {
                        i.blocks.get(iblock + k)
                            == Some(&Extent {
                                block: first.block + k,
                                unwritten: first.unwritten,
                            })
                    })
                    .count() as u64;
                Some((first, n + 1))
            })
        })
    };
    let dax = cx.read(Obj::Inodes, |m| m.inode(ino).map(|i| i.s_dax))?;
    let found = |(e, n): (Extent, u64)| {
        let mut bh = BufferHead::mapped_to(e, n, false);
        // "if (IS_DAX(inode) && buffer_unwritten(bh) && !io_end) ... bh->b_end_io =
        // ext4_end_io_unwritten": whoever maps it (dax_insert_mapping) converts it.
        bh.end_io_unwritten = dax && e.unwritten;
        bh
    };
    cx.lock(sem, LockMode::Read).await;
    let e = lookup()?;
    cx.unlock(sem).await;
    if let Some(e) = e {
        return Ok(found(e));
    }
    if create == Ext4Create::No {
        return Ok(BufferHead::default());
    }
    cx.lock(sem, LockMode::Write).await;
    if let Some(e) = lookup()? {
        cx.unlock(sem).await;
        return Ok(found(e));
    }
    let fs = cx.read(Obj::Inodes, |m| m.inode(ino).map(|i| i.fs))?;
    // The hole's length: an allocation never overlaps the next extent.
    let holes = cx.read(Obj::Blocks(ino), |m| {
        m.inode(ino).map(|i| {
            (0..max)
                .take_while(|k| !i.blocks.contains_key(iblock + k))
                .count() as u64
        })
    })?;
    let (block, count) = match cx.write(Obj::FsAlloc(fs), |m| m.fs_mut(fs).alloc_blocks(holes)) {
        Ok(b) => b,
        Err(e) => {
            cx.emit(EventKind::Error {
                func: "ext4_ext_map_blocks",
                errno: e,
            });
            cx.unlock(sem).await;
            return Err(e);
        }
    };
    let unwritten = create == Ext4Create::Unwritten;
    for k in 0..count {
        cx.emit(EventKind::BlockAlloc {
            ino,
            iblock: iblock + k,
            block: block + k,
            unwritten,
        });
    }
    if create == Ext4Create::Prezeroed {
        // ext4_issue_zeroout before the extent is marked written and returned.
        if let Err(e) = dax::dax_clear_blocks(cx, ino, block, count).await {
            cx.write(Obj::FsAlloc(fs), |m| {
                let f = m.fs_mut(fs);
                (block..block + count).for_each(|b| f.free_block(b))
            });
            cx.unlock(sem).await;
            return Err(e);
        }
    }
    cx.write(Obj::Blocks(ino), |m| {
        m.inode_mut(ino).map(|i| {
            for k in 0..count {
                i.blocks.insert(
                    iblock + k,
                    Extent {
                        block: block + k,
                        unwritten,
                    },
                );
            }
        })
    })?;
    cx.unlock(sem).await;
    let e = Extent { block, unwritten };
    let mut bh = BufferHead::mapped_to(e, count, create != Ext4Create::Prezeroed);
    bh.end_io_unwritten = dax && unwritten;
    Ok(bh)
}

/// `ext4_convert_unwritten_extents` over file bytes `[pos, pos+len)`: unwritten extents become
/// written.
pub async fn convert_unwritten(cx: &Cx, ino: u64, pos: u64, len: u64) -> KResult<()> {
    cx.call("ext4_convert_unwritten_extents", async {
        let bs = cx.read(Obj::Inodes, |m| m.fs_of(ino).map(|f| f.block_size))?;
        let (first, last) = (pos / bs, (pos + len.max(1) - 1) / bs);
        let lock = LockName::IDataSem { ino };
        cx.lock(lock, LockMode::Write).await;
        let converted: Vec<u64> = cx.write(Obj::Blocks(ino), |m| {
            let i = m.inode_mut(ino)?;
            let todo: Vec<u64> = i
                .blocks
                .range(first..=last)
                .filter(|(_, e)| e.unwritten)
                .map(|(b, _)| b)
                .collect();
            for b in &todo {
                if let Some(e) = i.blocks.get_mut(*b) {
                    e.unwritten = false;
                }
            }
            Ok::<_, Errno>(todo)
        })?;
        for iblock in converted {
            cx.emit(EventKind::BlockConvert { ino, iblock });
        }
        cx.unlock(lock).await;
        Ok(())
    })
    .await
}

/// `ext4_direct_IO` → `ext4_ext_direct_IO` (every file of the model uses extents). "Use the old
/// path for reads and writes beyond i_size": those go through `ext4_ind_direct_IO` with
/// `ext4_get_block` (written extents); writes inside `i_size` allocate unwritten extents with
/// `ext4_get_block_write` and convert them when the I/O is done.
pub async fn ext4_direct_io(
    cx: &Cx,
    ino: u64,
    write: bool,
    ubuf: u64,
    pos: u64,
    len: u64,
) -> SysResult {
    let (size, dax) = cx.read(Obj::ISize(ino), |m| m.inode(ino).map(|i| (i.size, i.s_dax)))?;
    let fixed = cx.config().locking == Locking::Fixed;
    cx.frame("ext4_direct_IO", Tail::Pass, async {
        if !write || pos + len > size {
            // "if (unlikely((rw & WRITE) && ret < 0)) ... ext4_truncate_failed_write(inode)"
            let tail = if write {
                Tail::WriteFailed {
                    ino,
                    end: pos + len,
                    ext4: true,
                }
            } else {
                Tail::Pass
            };
            let ind = cx.frame("ext4_ind_direct_IO", tail, async {
                if dax {
                    let gb = if write && fixed {
                        GetBlock::Ext4Prezeroed
                    } else {
                        GetBlock::Ext4
                    };
                    dax::dax_do_io(cx, ino, write, ubuf, pos, len, gb).await
                } else {
                    direct_io::blockdev_direct_io(cx, ino, write, ubuf, pos, len, GetBlock::Ext4)
                        .await
                }
            });
            // ext4_ext_direct_IO: "Use the old path for reads and writes beyond i_size."
            cx.frame("ext4_ext_direct_IO", Tail::Pass, ind).await
        } else if dax && fixed {
            // "ext4: pre-zero allocated blocks for DAX IO" (~4.5): no unwritten extents.
            dax::dax_do_io(cx, ino, write, ubuf, pos, len, GetBlock::Ext4Prezeroed).await
        } else {
            cx.frame("ext4_ext_direct_IO", Tail::Ext4ExtDio { ino, pos }, async {
                cx.write(Obj::DioCount(ino), |m| {
                    m.inode_mut(ino).map(|i| i.dio_count += 1)
                })?;
                if dax {
                    dax::dax_do_io(cx, ino, write, ubuf, pos, len, GetBlock::Ext4Write).await
                } else {
                    // __blockdev_direct_IO(..., ext4_get_block_write, ext4_end_io_dio, NULL,
                    // DIO_LOCKING): no DIO_SKIP_HOLES; holes get unwritten extents.
                    direct_io::blockdev_direct_io_flags(
                        cx,
                        ino,
                        write,
                        ubuf,
                        pos,
                        len,
                        GetBlock::Ext4Write,
                        false,
                    )
                    .await
                }
            })
            .await
        }
    })
    .await
}

/// `ext4_setattr` for a size change, then `ext4_truncate`. Shrinking sets `i_size` under
/// `i_data_sem` and (with a journal) waits for direct I/O; extending takes no lock. The page
/// cache is truncated before the blocks, and the partial block is zeroed in `ext4_truncate`.
pub async fn ext4_setattr_size(cx: &Cx, ino: u64, size: u64) -> SysResult {
    let old = cx.read(Obj::ISize(ino), |m| m.inode(ino).map(|i| i.size))?;
    let sem = LockName::IDataSem { ino };
    if size != old {
        if size < old {
            cx.lock(sem, LockMode::Write).await;
            truncate::i_size_write(cx, ino, size)?;
            cx.unlock(sem).await;
            // orphan: the model's ext4 has a journal, so shrinking waits for direct I/O.
            cx.inode_dio_wait(ino).await;
        } else {
            truncate::i_size_write(cx, ino, size)?;
        }
    }
    // The fixed policy ("ext4: fix races between page faults and hole punching", ea3d7209ca01):
    // i_mmap_sem for write over the unmap and the freeing, as faults hold it for read.
    let sem = (cx.config().locking == Locking::Fixed).then_some(LockName::IMmapSem { ino });
    if let Some(sem) = sem {
        cx.lock(sem, LockMode::Write).await;
    }
    let r = async {
        if size != old {
            truncate::truncate_pagecache(cx, ino, size).await?;
        }
        cx.call("ext4_truncate", ext4_truncate(cx, ino)).await
    }
    .await;
    if let Some(sem) = sem {
        cx.unlock(sem).await;
    }
    r?;
    Ok(0)
}

/// `ext4_truncate`: zero the partial block at `i_size` (`ext4_block_truncate_page` →
/// `ext4_block_zero_page_range`, `dax_zero_page_range` for DAX), then remove the blocks past it
/// under `i_data_sem`.
pub async fn ext4_truncate(cx: &Cx, ino: u64) -> KResult<()> {
    let (size, bs, dax) = cx.read(Obj::ISize(ino), |m| {
        m.inode(ino)
            .map(|i| (i.size, m.fs(i.fs).block_size, i.s_dax))
    })?;
    if !size.is_multiple_of(bs) {
        let len = bs - size % bs;
        cx.call(
            "ext4_block_truncate_page",
            ext4_block_zero_page_range(cx, ino, size, len, dax),
        )
        .await?;
    }
    truncate::free_blocks(cx, ino, size, LockName::IDataSem { ino }).await
}

/// `ext4_block_zero_page_range`: zero `[from, from+len)` within one block, through
/// `dax_zero_page_range` on a DAX inode ("if (IS_DAX(inode)) return dax_zero_page_range(inode,
/// from, length, ext4_get_block);"), else through the page cache.
async fn ext4_block_zero_page_range(
    cx: &Cx,
    ino: u64,
    from: u64,
    len: u64,
    dax: bool,
) -> KResult<()> {
    cx.call("ext4_block_zero_page_range", async {
        if dax {
            dax::dax_zero_page_range(cx, ino, from, len, GetBlock::Ext4).await
        } else {
            filemap::zero_range_in_cache(cx, ino, from, len).await
        }
    })
    .await
}

/// `fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len)` → `ext4_fallocate` →
/// `ext4_punch_hole`, in 4.0's order. Under the fixed policy, `i_mmap_sem` is held for write
/// across it ("ext4: fix races between page faults and hole punching").
pub async fn ext4_punch_hole(cx: &Cx, ino: u64, off: u64, len: u64) -> SysResult {
    let i_mutex = LockName::IMutex { ino };
    let fixed = cx.config().locking == Locking::Fixed;
    let mmap_sem = LockName::IMmapSem { ino };
    cx.call("ext4_punch_hole", async {
        filemap::write_and_wait_range(cx, ino, off / 4096, (off + len).saturating_sub(1) / 4096)
            .await?;
        cx.lock(i_mutex, LockMode::Write).await;
        let r = async {
            let (size, bs, dax) = cx.read(Obj::ISize(ino), |m| {
                m.inode(ino)
                    .map(|i| (i.size, m.fs(i.fs).block_size, i.s_dax))
            })?;
            if off >= size {
                return Ok(0);
            }
            // "If the hole extends beyond i_size, set the hole to end after the page that
            // contains i_size".
            let end = (off + len).min(size.next_multiple_of(4096));
            let first_block = off.div_ceil(bs);
            let stop_block = end / bs;
            if fixed {
                cx.lock(mmap_sem, LockMode::Write).await;
            }
            let (first_off, last_off) = (first_block * bs, stop_block * bs);
            if last_off > first_off {
                truncate::truncate_pagecache_range(cx, ino, first_off, last_off - 1).await?;
            }
            cx.inode_dio_wait(ino).await;
            // ext4_zero_partial_blocks: the partial blocks at either end of the hole.
            let partial = if first_block > stop_block {
                vec![(off, end - off)]
            } else {
                vec![(off, first_off - off), (last_off, end - last_off)]
            };
            cx.call("ext4_zero_partial_blocks", async {
                for (from, n) in partial.into_iter().filter(|(_, n)| *n > 0) {
                    ext4_block_zero_page_range(cx, ino, from, n, dax).await?;
                }
                Ok::<_, Errno>(())
            })
            .await?;
            if stop_block > first_block {
                cx.call(
                    "ext4_ext_remove_space",
                    truncate::free_block_range(
                        cx,
                        ino,
                        first_block,
                        stop_block,
                        LockName::IDataSem { ino },
                    ),
                )
                .await?;
                // "to reduce race window"
                truncate::truncate_pagecache_range(cx, ino, first_off, last_off - 1).await?;
            }
            if fixed {
                cx.unlock(mmap_sem).await;
            }
            Ok(0)
        }
        .await;
        cx.unlock(i_mutex).await;
        r
    })
    .await
}
