//! ext4's block mapping as the 4.0 DAX paths use it (`ext4_get_block`, `ext4_get_block_write`,
//! unwritten extent conversion at I/O end).

use super::{BufferHead, Create, Extent};
use crate::errno::{Errno, KResult};
use crate::event::{EventKind, LockMode, LockName};
use crate::sched::Cx;

/// `ext4_map_blocks` for one block. `Create::Yes` (the fault path's `ext4_get_block`) allocates
/// a *written* extent and sets BH_New without zeroing it; `Create::ForDio` (`dax_do_io`'s
/// `ext4_get_block_write`) allocates an *unwritten* extent.
pub async fn get_block(cx: &Cx, ino: u64, iblock: u64, create: Create) -> KResult<BufferHead> {
    if let Some(e) = cx.with(|k| k.inode(ino).map(|i| i.blocks.get(&iblock).copied()))? {
        return Ok(BufferHead {
            block: Some(e.block),
            new: false,
            unwritten: e.unwritten,
        });
    }
    if create == Create::No {
        return Ok(BufferHead {
            block: None,
            new: false,
            unwritten: false,
        });
    }
    let lock = LockName::IDataSem { ino };
    cx.lock(lock, LockMode::Write).await;
    if let Some(e) = cx.with(|k| k.inode(ino).map(|i| i.blocks.get(&iblock).copied()))? {
        cx.unlock(lock).await;
        return Ok(BufferHead {
            block: Some(e.block),
            new: false,
            unwritten: e.unwritten,
        });
    }
    let unwritten = create == Create::ForDio;
    let r = cx.with(|k| {
        let fs = k.inode(ino)?.fs;
        let block = k.filesystems[fs].alloc_block()?;
        k.inode_mut(ino)?
            .blocks
            .insert(iblock, Extent { block, unwritten });
        Ok::<_, Errno>(block)
    });
    let r = match r {
        Ok(block) => {
            cx.emit(EventKind::BlockAlloc {
                ino,
                iblock,
                block,
                unwritten,
            });
            Ok(BufferHead {
                block: Some(block),
                new: true,
                unwritten,
            })
        }
        Err(e) => {
            cx.emit(EventKind::Error {
                func: "ext4_ext_map_blocks",
                errno: e,
            });
            Err(e)
        }
    };
    cx.unlock(lock).await;
    r
}

/// `ext4_convert_unwritten_extents` over file blocks `[first, last]`: unwritten extents become
/// written (called from `ext4_end_io_dio` and, for faults, `ext4_end_io_unwritten`).
pub async fn convert_unwritten(cx: &Cx, ino: u64, first: u64, last: u64) -> KResult<()> {
    cx.call("ext4_convert_unwritten_extents", async {
        let lock = LockName::IDataSem { ino };
        cx.lock(lock, LockMode::Write).await;
        let converted: Vec<u64> = cx.with(|k| {
            let i = k.inode_mut(ino)?;
            let mut v = Vec::new();
            for (ib, e) in i.blocks.range_mut(first..=last) {
                if e.unwritten {
                    e.unwritten = false;
                    v.push(*ib);
                }
            }
            Ok::<_, Errno>(v)
        })?;
        for iblock in converted {
            cx.emit(EventKind::BlockConvert { ino, iblock });
        }
        cx.unlock(lock).await;
        Ok(())
    })
    .await
}
