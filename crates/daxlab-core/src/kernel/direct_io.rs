//! `fs/direct-io.c`: `blockdev_direct_IO` (`DIO_LOCKING | DIO_SKIP_HOLES`), the direct I/O of a
//! file that is not DAX: the user's pages are pinned with `get_user_pages` and the device reads
//! or writes them by bio, with no page cache in between.
//!
//! Simplified: one page is pinned at a time (the kernel pins batches of up to 64 with
//! `dio_refill_pages`), and I/O completes synchronously.

use crate::engine::cx::Cx;
use crate::engine::footprint::Obj;
use crate::engine::trace::{EventKind, Loc, Space, SysResult};
use crate::errno::{Errno, KResult};
use crate::kernel::resume::Resume;
use crate::kernel::{bio, cpu, filemap, gup, ops};
use crate::state::block_dev::BioTarget;
use crate::state::fs::BufferHead;
use crate::state::lock::{LockMode, LockName};
use crate::state::mem::{FrameUse, PAGE_SIZE, SECTOR_SIZE};
use crate::state::ops::GetBlock;
use crate::state::task::Tail;
use crate::state::DevId;

/// The state of a `do_direct_IO` loop between two chunks.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockdevDio {
    ino: u64,
    dev: DevId,
    bs: u64,
    write: bool,
    get_block: GetBlock,
    ubuf: u64,
    start: u64,
    pos: u64,
    end: u64,
    /// The last mapping `get_more_blocks` returned.
    bh: BufferHead,
    /// `blocks_available`: blocks of that mapping not yet used.
    available: u64,
    /// `next_block_for_io`.
    next_block: u64,
    /// `DIO_SKIP_HOLES`: never allocate inside `i_size`.
    skip_holes: bool,
}

/// `blockdev_direct_IO(rw, iocb, inode, iter, offset, get_block)`: `__blockdev_direct_IO` with
/// `DIO_LOCKING | DIO_SKIP_HOLES`.
#[allow(clippy::too_many_arguments)]
pub async fn blockdev_direct_io(
    cx: &Cx,
    ino: u64,
    write: bool,
    ubuf: u64,
    pos: u64,
    len: u64,
    get_block: GetBlock,
) -> SysResult {
    blockdev_direct_io_flags(cx, ino, write, ubuf, pos, len, get_block, true).await
}

/// `__blockdev_direct_IO` with `DIO_LOCKING`, and `DIO_SKIP_HOLES` if `skip_holes` (ext4's
/// extent path passes only `DIO_LOCKING`: its `get_block` allocates unwritten extents).
#[allow(clippy::too_many_arguments)]
pub async fn blockdev_direct_io_flags(
    cx: &Cx,
    ino: u64,
    write: bool,
    ubuf: u64,
    pos: u64,
    len: u64,
    get_block: GetBlock,
    skip_holes: bool,
) -> SysResult {
    let read = !write;
    // "the file offset, the user address and the length must be aligned to the logical block
    // size of the device" (512 here), checked before any lock is taken.
    if !pos.is_multiple_of(SECTOR_SIZE)
        || !len.is_multiple_of(SECTOR_SIZE)
        || !ubuf.is_multiple_of(SECTOR_SIZE)
    {
        cx.emit(EventKind::Error {
            func: "__blockdev_direct_IO",
            errno: Errno::EINVAL,
        });
        return Err(Errno::EINVAL.into());
    }
    cx.frame("__blockdev_direct_IO", Tail::DioDone { ino, read }, async {
        if read {
            // DIO_LOCKING: reads take i_mutex for the block lookups.
            cx.lock(LockName::IMutex { ino }, LockMode::Write).await;
        }
        cx.write(Obj::DioCount(ino), |m| {
            m.inode_mut(ino).map(|i| i.dio_count += 1)
        })?;
        if read {
            filemap::write_and_wait_range(
                cx,
                ino,
                pos / PAGE_SIZE,
                (pos + len).saturating_sub(1) / PAGE_SIZE,
            )
            .await?;
        }
        let (dev, bs, size) = cx.read(Obj::ISize(ino), |m| {
            m.inode(ino)
                .map(|i| (m.fs(i.fs).dev, m.fs(i.fs).block_size, i.size))
        })?;
        let end = if read {
            (pos + len).min(size.max(pos))
        } else {
            pos + len
        };
        do_direct_io(
            cx,
            BlockdevDio {
                ino,
                dev,
                bs,
                write,
                get_block,
                ubuf,
                start: pos,
                pos,
                end,
                bh: BufferHead::default(),
                available: 0,
                next_block: 0,
                skip_holes,
            },
        )
        .await
    })
    .await
}

/// `do_direct_IO`: for each chunk, pin the user page, map blocks when none are left
/// (`get_more_blocks`, asking for the rest of the request), move the bytes by bio.
pub async fn do_direct_io(cx: &Cx, mut s: BlockdevDio) -> SysResult {
    let ino = s.ino;
    let mut err = None;
    while s.pos < s.end {
        let (block, off) = (s.pos / s.bs, s.pos % s.bs);
        let n = (s.bs - off)
            .min(s.end - s.pos)
            .min(PAGE_SIZE - (s.ubuf + s.pos - s.start) % PAGE_SIZE);
        let uva = s.ubuf + (s.pos - s.start);
        // dio_refill_pages → iov_iter_get_pages → get_user_pages_fast, before the block lookup.
        let upfn = match gup::get_user_pages_fast(cx, uva, n, !s.write).await {
            Ok(p) => p[0],
            Err(e) => {
                err = Some(e);
                break;
            }
        };
        let size = cx.read(Obj::ISize(ino), |m| m.inode(ino).map(|i| i.size))?;
        // Blocks that hold bytes below i_size ("i_size_aligned >> blkbits").
        let size_blocks = size.div_ceil(s.bs);
        if s.available == 0 {
            // get_more_blocks: DIO_SKIP_HOLES never allocates inside i_size ("if
            // (sdio->block_in_file < (i_size_read(dio->inode) >> dio->blkbits)) create = 0";
            // the block that holds EOF may be allocated).
            let create = s.write && !(s.skip_holes && block < size / s.bs);
            let want = (s.end - 1) / s.bs - block + 1;
            s.bh = match ops::get_block(cx, s.get_block, ino, block, want, create).await {
                Ok(b) => b,
                Err(e) => {
                    err = Some(e);
                    break;
                }
            };
            // A hole leaves blocks_available at 0: the next block asks again.
            if let Some(b) = s.bh.block {
                s.available = s.bh.blocks.max(1);
                s.next_block = b;
            }
        }
        let user = cpu::user(cx.pid, uva, upfn);
        if !s.bh.mapped() {
            if s.write {
                break; // -ENOTBLK: "handled by buffered I/O when we return"
            }
            if block >= size_blocks {
                break; // "We hit eof"
            }
            cpu::zero_user_segment(cx, "zero_user", user, n);
        } else if !s.write && s.bh.unwritten {
            // An unwritten extent is not mapped for a read: do_direct_IO's holes path zeroes.
            cpu::zero_user_segment(cx, "zero_user", user, n);
        } else {
            let b = s.next_block;
            if s.write && s.bh.new {
                // dio_zero_block: a new block's bytes before the start of the request and after
                // its end are zeroed on the device.
                if s.pos == s.start {
                    zero_device(cx, s.dev, b * s.bs, off)?;
                }
                if s.pos + n == s.end {
                    zero_device(cx, s.dev, b * s.bs + off + n, s.bs - off - n)?;
                }
            }
            bio::submit_bio(cx, s.dev, b * s.bs + off, user, n, s.write)?;
        }
        s.pos += n;
        if s.bh.mapped() && s.pos.is_multiple_of(s.bs) {
            // The block is done: on to the next one of the mapping.
            s.available -= 1;
            s.next_block += 1;
        }
        cx.capture_point(|| Resume::BlockdevDio(s.clone())).await;
    }
    match err {
        Some(e) if s.pos == s.start => Err(e.into()),
        _ => Ok(s.pos - s.start),
    }
}

/// `dio_zero_block`: zeros to the device (a bio of the zero page).
fn zero_device(cx: &Cx, dev: DevId, byte: u64, len: u64) -> KResult<()> {
    if len == 0 {
        return Ok(());
    }
    let obj = crate::kernel::block_dev::dev_obj(cx, dev, byte);
    let (target, _) = cx.write(obj, |m| {
        m.devices[dev.0 as usize]
            .driver
            .bio_map(&mut m.mem, byte, true)
    })?;
    let at = |pfn, vaddr| Loc {
        space: Space::Device {
            dev,
            sector: byte / SECTOR_SIZE,
        },
        vaddr,
        pfn,
    };
    match target {
        BioTarget::Memory { pfn, vaddr } => {
            cpu::zero(cx, "dio_zero_block", at(Some(pfn), vaddr), len)
        }
        BioTarget::Zeros => {}
        BioTarget::Dma => {
            let zero = cx.write(Obj::Ram, |m| m.mem.alloc_ram(FrameUse::Kernel))?;
            cx.write(obj, |m| {
                m.devices[dev.0 as usize]
                    .driver
                    .dma(&mut m.mem, byte, zero, 0, len as usize, true)
            });
            cx.write(Obj::Ram, |m| m.mem.put_page(zero));
            cx.emit(EventKind::Zero {
                func: "dio_zero_block",
                dst: at(None, 0),
                bytes: len,
            });
        }
    }
    Ok(())
}
