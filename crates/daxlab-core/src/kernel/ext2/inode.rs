//! `fs/ext2/inode.c`: `ext2_get_blocks` for one block, and `ext2_setsize`.

use crate::engine::cx::Cx;
use crate::engine::footprint::Obj;
use crate::engine::trace::{EventKind, SysResult};
use crate::errno::KResult;
use crate::kernel::{dax, filemap, truncate};
use crate::state::fs::{BufferHead, Extent};
use crate::state::lock::{LockMode, LockName};

/// `ext2_get_blocks` for one block. Simplified: one block per call (ext2 maps up to `maxblocks`
/// contiguous blocks; DAX asks for one page at a time with block size = page size anyway).
pub async fn get_blocks(cx: &Cx, ino: u64, iblock: u64, create: bool) -> KResult<BufferHead> {
    let lookup = || {
        cx.read(Obj::Block(ino, iblock), |m| {
            m.inode(ino).map(|i| i.blocks.get(iblock).copied())
        })
    };
    // The lookup walks the block tree without a lock.
    if let Some(e) = lookup()? {
        return Ok(BufferHead::mapped_to(e, false));
    }
    if !create {
        return Ok(BufferHead::default());
    }
    let lock = LockName::TruncateMutex { ino };
    cx.lock(lock, LockMode::Write).await;
    // "re-verify the chain under truncate_mutex": another thread may have allocated it; then
    // the block is returned with clear_buffer_new.
    if let Some(e) = lookup()? {
        cx.unlock(lock).await;
        return Ok(BufferHead::mapped_to(e, false));
    }
    let (fs, dax) = cx.read(Obj::Inodes, |m| m.inode(ino).map(|i| (i.fs, i.s_dax)))?;
    // ext2_alloc_branch
    let block = match cx.write(Obj::FsAlloc(fs), |m| m.fs_mut(fs).alloc_block()) {
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
    cx.emit(EventKind::BlockAlloc {
        ino,
        iblock,
        block,
        unwritten: false,
    });
    if dax {
        // "block must be initialised before we put it in the tree so that it's not found by
        // another thread before it's initialised"
        if let Err(e) = dax::dax_clear_blocks(cx, ino, block, 1).await {
            cx.write(Obj::FsAlloc(fs), |m| m.fs_mut(fs).free_block(block));
            cx.unlock(lock).await;
            return Err(e);
        }
    }
    // ext2_splice_branch: the block becomes visible in the tree.
    let e = Extent {
        block,
        unwritten: false,
    };
    cx.write(Obj::Block(ino, iblock), |m| {
        m.inode_mut(ino).map(|i| i.blocks.insert(iblock, e))
    })?;
    cx.unlock(lock).await;
    // set_buffer_new: still reported new although already zeroed (DAX then zeroes again).
    Ok(BufferHead::mapped_to(e, true))
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
    truncate::truncate_setsize(cx, ino, size).await?;
    truncate_blocks(cx, ino, size).await?;
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
