//! `fs/ext2/inode.c`: `ext2_get_blocks` and `ext2_setsize`.

use crate::engine::cx::Cx;
use crate::engine::footprint::Obj;
use crate::engine::trace::{EventKind, SysResult};
use crate::errno::{Errno, KResult};
use crate::kernel::{dax, filemap, truncate};
use crate::state::fs::{BufferHead, Extent};
use crate::state::lock::{LockMode, LockName};
use crate::state::Locking;

/// Direct block pointers in an ext2 inode (`EXT2_NDIR_BLOCKS`).
const NDIR_BLOCKS: u64 = 12;

/// `ext2_block_to_path`'s `blocks_to_boundary`: how many blocks after `iblock` share its
/// pointer block (the inode's direct pointers, then each indirect block of `bs / 4` pointers).
/// A mapping never crosses it.
fn blocks_to_boundary(iblock: u64, bs: u64) -> u64 {
    let ptrs = bs / 4;
    if iblock < NDIR_BLOCKS {
        NDIR_BLOCKS - 1 - iblock
    } else {
        ptrs - 1 - ((iblock - NDIR_BLOCKS) & (ptrs - 1))
    }
}

/// `ext2_get_blocks(inode, iblock, maxblocks, bh, create)`: map up to `maxblocks` blocks from
/// `iblock` on. Found blocks are mapped as far as they stay contiguous on the device; a hole
/// with `create` is filled with as many contiguous new blocks as the hole, `maxblocks` and the
/// boundary allow (`ext2_blks_to_allocate`, `ext2_alloc_branch`). The model keeps no indirect
/// blocks (metadata is not modelled).
pub async fn get_blocks(
    cx: &Cx,
    ino: u64,
    iblock: u64,
    maxblocks: u64,
    create: bool,
) -> KResult<BufferHead> {
    let (bs, fs, dax) = cx.read(Obj::Inodes, |m| {
        let i = m.inode(ino)?;
        Ok::<_, Errno>((m.fs(i.fs).block_size, i.fs, i.s_dax))
    })?;
    let boundary = blocks_to_boundary(iblock, bs);
    let limit = maxblocks.max(1).min(boundary + 1);
    // The lookup walks the block tree without a lock ("map more blocks" while contiguous).
    let range = if limit > 1 {
        Obj::Blocks(ino)
    } else {
        Obj::Block(ino, iblock)
    };
    let lookup = || {
        cx.read(range, |m| {
            m.inode(ino).map(|i| {
                let first = i.blocks.get(iblock).copied()?;
                let n = (1..limit)
                    .take_while(|k| {
                        i.blocks.get(iblock + k).map(|e| e.block) == Some(first.block + k)
                    })
                    .count() as u64;
                Some((first, n + 1))
            })
        })
    };
    if let Some((e, n)) = lookup()? {
        return Ok(BufferHead::mapped_to(e, n, false));
    }
    if !create {
        return Ok(BufferHead::default());
    }
    let lock = LockName::TruncateMutex { ino };
    cx.lock(lock, LockMode::Write).await;
    // "re-verify the chain under truncate_mutex": another thread may have allocated it; then
    // the block is returned with clear_buffer_new.
    if let Some((e, _)) = lookup()? {
        cx.unlock(lock).await;
        return Ok(BufferHead::mapped_to(e, 1, false));
    }
    // ext2_blks_to_allocate: the hole's blocks from iblock on, within maxblocks and the boundary.
    let holes = cx.read(Obj::Blocks(ino), |m| {
        m.inode(ino).map(|i| {
            (0..limit)
                .take_while(|k| !i.blocks.contains_key(iblock + k))
                .count() as u64
        })
    })?;
    // ext2_alloc_branch
    let (block, count) = match cx.write(Obj::FsAlloc(fs), |m| m.fs_mut(fs).alloc_blocks(holes)) {
        Ok(b) => b,
        Err(e) => {
            cx.emit(EventKind::Error {
                func: "ext2_alloc_branch",
                errno: e,
            });
            cx.unlock(lock).await;
            return Err(e);
        }
    };
    for k in 0..count {
        cx.emit(EventKind::BlockAlloc {
            ino,
            iblock: iblock + k,
            block: block + k,
            unwritten: false,
        });
    }
    // Under the fixed policy ("ext2: Avoid DAX zeroing to corrupt data", 4.6): every block
    // allocated is zeroed here and none is reported new, so no later zeroing can hit data a
    // racing store or write has put there.
    let fixed = cx.config().locking == Locking::Fixed;
    if dax {
        // "block must be initialised before we put it in the tree so that it's not found by
        // another thread before it's initialised": 4.0 clears the first block only
        // (`1 << inode->i_blkbits`); dax_io's dax_new_buf zeroes what a write leaves of the rest.
        let clear = if fixed { count } else { 1 };
        if let Err(e) = dax::dax_clear_blocks(cx, ino, block, clear).await {
            cx.write(Obj::FsAlloc(fs), |m| {
                let f = m.fs_mut(fs);
                (block..block + count).for_each(|b| f.free_block(b))
            });
            cx.unlock(lock).await;
            return Err(e);
        }
    }
    // ext2_splice_branch: the blocks become visible in the tree.
    let e = Extent {
        block,
        unwritten: false,
    };
    cx.write(Obj::Blocks(ino), |m| {
        m.inode_mut(ino).map(|i| {
            for k in 0..count {
                i.blocks.insert(
                    iblock + k,
                    Extent {
                        block: block + k,
                        unwritten: false,
                    },
                );
            }
        })
    })?;
    cx.unlock(lock).await;
    // set_buffer_new: still reported new although the first block is already zeroed (DAX then
    // zeroes again).
    Ok(BufferHead::mapped_to(e, count, !(dax && fixed)))
}

/// `ext2_setsize`: wait for direct I/O, zero the partial page, set `i_size` and drop the page
/// cache and mappings past it (`truncate_setsize`), then free the blocks.
pub async fn ext2_setsize(cx: &Cx, ino: u64, size: u64) -> SysResult {
    cx.inode_dio_wait(ino).await;
    let dax = cx.read(Obj::Inodes, |m| m.inode(ino).map(|i| i.s_dax))?;
    if dax {
        dax::dax_truncate_page(cx, ino, size, crate::state::ops::GetBlock::Ext2).await?;
    } else {
        filemap::block_truncate_page(cx, ino, size).await?;
    }
    // The fixed policy ("ext2: Add locking for DAX faults", 5726b27b09cc): dax_sem for write
    // over the size change and the freeing, as faults hold it for read.
    let sem = (dax && cx.config().locking == Locking::Fixed).then_some(LockName::DaxSem { ino });
    if let Some(sem) = sem {
        cx.lock(sem, LockMode::Write).await;
    }
    let r = async {
        truncate::truncate_setsize(cx, ino, size).await?;
        truncate_blocks(cx, ino, size).await
    }
    .await;
    if let Some(sem) = sem {
        cx.unlock(sem).await;
    }
    r?;
    Ok(0)
}

/// `__ext2_truncate_blocks`: free the blocks at and after `size` under `truncate_mutex`.
pub async fn truncate_blocks(cx: &Cx, ino: u64, size: u64) -> KResult<()> {
    cx.call(
        "__ext2_truncate_blocks",
        truncate::free_blocks(cx, ino, size, LockName::TruncateMutex { ino }),
    )
    .await
}
