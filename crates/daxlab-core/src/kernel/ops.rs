//! Calls through the operations tables ([`crate::state::ops`]): the one place that turns a
//! table entry into the implementation it names.

use crate::engine::cx::{Cx, Show};
use crate::engine::trace::{Shown, SysResult};
use crate::errno::KResult;
use crate::kernel::ext4::inode::Ext4Create;
use crate::kernel::memory::VmFault;
use crate::kernel::{dax, direct_io, ext2, ext4, filemap};
use crate::state::fs::BufferHead;
use crate::state::lock::{LockMode, LockName};
use crate::state::mm::Vma;
use crate::state::ops::{DirectIo, Fault, GetBlock, PageMkwrite};

impl Show for BufferHead {
    /// ftrace shows 0; DAX Lab shows the buffer state, which is what a learner needs.
    fn shown(&self) -> Option<Shown> {
        Some(match self.block {
            None => Shown::Hole,
            Some(block) => Shown::Block {
                block,
                blocks: self.blocks,
                new: self.new,
                unwritten: self.unwritten,
            },
        })
    }
}

/// `get_block(inode, iblock, bh, create)` through the callback `gb`, with `bh->b_size` asking
/// for up to `max_blocks` blocks.
pub async fn get_block(
    cx: &Cx,
    gb: GetBlock,
    ino: u64,
    iblock: u64,
    max_blocks: u64,
    create: bool,
) -> KResult<BufferHead> {
    // Another thread may run between the caller's decision and the block lookup.
    cx.yield_now().await;
    let r = cx
        .call(gb.name(), async {
            match gb {
                GetBlock::Ext2 => {
                    ext2::inode::get_blocks(cx, ino, iblock, max_blocks, create).await
                }
                GetBlock::Ext4 | GetBlock::Ext4Write | GetBlock::Ext4Prezeroed => {
                    let how = match (create, gb) {
                        // ext4_get_block_write ignores `create`: it always passes
                        // EXT4_GET_BLOCKS_IO_CREATE_EXT.
                        (_, GetBlock::Ext4Write) => Ext4Create::Unwritten,
                        (false, _) => Ext4Create::No,
                        (true, GetBlock::Ext4Prezeroed) => Ext4Create::Prezeroed,
                        (true, _) => Ext4Create::Written,
                    };
                    ext4::inode::get_block(cx, ino, iblock, max_blocks, how).await
                }
            }
        })
        .await;
    cx.yield_now().await;
    r
}

/// `vma->vm_ops->fault`.
pub async fn fault(
    cx: &Cx,
    f: Fault,
    vma: &Vma,
    addr: u64,
    write: bool,
    cow_page: Option<crate::state::mem::Pfn>,
) -> (VmFault, bool) {
    cx.call(f.name(), async {
        match f {
            Fault::Filemap => filemap::filemap_fault(cx, vma, addr).await,
            Fault::Ext2Dax | Fault::Ext4Dax => {
                dax_fault_locked(cx, vma, addr, write, cow_page, f == Fault::Ext4Dax).await
            }
        }
    })
    .await
}

/// `ext2_dax_fault`/`ext4_dax_fault` (and their `mkwrite`s): `dax_fault` with the
/// filesystem's `get_block`. Under the fixed policy the fault holds ext2's `dax_sem` or ext4's
/// `i_mmap_sem` for read (the locks truncate and hole punch take for write), and ext4
/// allocates pre-zeroed blocks.
async fn dax_fault_locked(
    cx: &Cx,
    vma: &Vma,
    addr: u64,
    write: bool,
    cow_page: Option<crate::state::mem::Pfn>,
    ext4: bool,
) -> (VmFault, bool) {
    let fixed = cx.config().locking == crate::state::Locking::Fixed;
    let gb = match (ext4, fixed) {
        (false, _) => GetBlock::Ext2,
        (true, false) => GetBlock::Ext4,
        (true, true) => GetBlock::Ext4Prezeroed,
    };
    let sem = match (fixed, vma.ino()) {
        (true, Some(ino)) if ext4 => Some(LockName::IMmapSem { ino }),
        (true, Some(ino)) => Some(LockName::DaxSem { ino }),
        _ => None,
    };
    if let Some(sem) = sem {
        cx.lock(sem, LockMode::Read).await;
    }
    let r = dax::dax_fault(cx, vma, addr, write, cow_page, gb).await;
    if let Some(sem) = sem {
        cx.unlock(sem).await;
    }
    r
}

/// `vma->vm_ops->page_mkwrite` for a present page `index` of the mapping.
pub async fn page_mkwrite(cx: &Cx, f: PageMkwrite, vma: &Vma, addr: u64) -> (VmFault, bool) {
    cx.call(f.name(), async {
        match f {
            PageMkwrite::Filemap | PageMkwrite::Ext4 => {
                (filemap::page_mkwrite(cx, vma, addr).await, false)
            }
            // dax_mkwrite is dax_fault in 4.0.
            PageMkwrite::Ext2Dax => dax_fault_locked(cx, vma, addr, true, None, false).await,
            PageMkwrite::Ext4Dax => dax_fault_locked(cx, vma, addr, true, None, true).await,
        }
    })
    .await
}

/// `mapping->a_ops->direct_IO` for `len` bytes at `pos` to or from the user buffer at `ubuf`.
pub async fn direct_io(
    cx: &Cx,
    d: DirectIo,
    ino: u64,
    write: bool,
    ubuf: u64,
    pos: u64,
    len: u64,
) -> SysResult {
    match d {
        DirectIo::Ext2 => {
            let dax = cx.read(crate::engine::footprint::Obj::Inodes, |m| {
                m.inode(ino).map(|i| i.s_dax)
            })?;
            // "if (ret < 0 && (rw & WRITE)) ext2_write_failed(mapping, offset + count);"
            let tail = if write {
                crate::state::task::Tail::WriteFailed {
                    ino,
                    end: pos + len,
                    ext4: false,
                }
            } else {
                crate::state::task::Tail::Pass
            };
            cx.frame("ext2_direct_IO", tail, async {
                if dax {
                    dax::dax_do_io(cx, ino, write, ubuf, pos, len, GetBlock::Ext2).await
                } else {
                    direct_io::blockdev_direct_io(cx, ino, write, ubuf, pos, len, GetBlock::Ext2)
                        .await
                }
            })
            .await
        }
        DirectIo::Ext4 => ext4::inode::ext4_direct_io(cx, ino, write, ubuf, pos, len).await,
    }
}
