//! ext2's `get_block` (`ext2_get_blocks`, `fs/ext2/inode.c`, 4.0).

use super::{BufferHead, Create, Extent};
use crate::errno::KResult;
use crate::event::{EventKind, LockMode, LockName};
use crate::sched::Cx;

/// `ext2_get_blocks` for one block. Simplified: one block per call (ext2 maps up to `maxblocks`
/// contiguous blocks; DAX asks for one page at a time with block size = page size anyway).
pub async fn get_blocks(cx: &Cx, ino: u64, iblock: u64, create: Create) -> KResult<BufferHead> {
    // The lookup walks the block tree without a lock.
    if let Some(e) = cx.with(|k| k.inode(ino).map(|i| i.blocks.get(&iblock).copied()))? {
        return Ok(mapped(e, false));
    }
    if create == Create::No {
        return Ok(BufferHead {
            block: None,
            new: false,
            unwritten: false,
        });
    }
    let lock = LockName::TruncateMutex { ino };
    cx.lock(lock, LockMode::Write).await;
    // "re-verify the chain under truncate_mutex": another thread may have allocated it; then
    // the block is returned with clear_buffer_new.
    if let Some(e) = cx.with(|k| k.inode(ino).map(|i| i.blocks.get(&iblock).copied()))? {
        cx.unlock(lock).await;
        return Ok(mapped(e, false));
    }
    let alloc = cx.with(|k| {
        let fs = k.inode(ino)?.fs;
        let dax = k.inode(ino)?.s_dax;
        k.filesystems[fs].alloc_block().map(|b| (b, dax))
    });
    let (block, dax) = match alloc {
        Ok(v) => v,
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
        if let Err(e) = crate::dax::dax_clear_blocks(cx, ino, block, 1).await {
            cx.with(|k| {
                if let Ok(fs) = k.inode(ino).map(|i| i.fs) {
                    k.filesystems[fs].free_block(block);
                }
            });
            cx.unlock(lock).await;
            return Err(e);
        }
    }
    // ext2_splice_branch: the block becomes visible in the tree.
    cx.with(|k| {
        k.inode_mut(ino).map(|i| {
            i.blocks.insert(
                iblock,
                Extent {
                    block,
                    unwritten: false,
                },
            )
        })
    })?;
    cx.unlock(lock).await;
    // set_buffer_new: still reported new although already zeroed (DAX then zeroes again).
    Ok(BufferHead {
        block: Some(block),
        new: true,
        unwritten: false,
    })
}

fn mapped(e: Extent, new: bool) -> BufferHead {
    BufferHead {
        block: Some(e.block),
        new,
        unwritten: e.unwritten,
    }
}
