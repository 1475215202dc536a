//! `read(2)`, `write(2)` (`fs/read_write.c` → `generic_file_read_iter`,
//! `generic_file_write_iter`), `ftruncate(2)` (`do_truncate` → `->setattr`) and
//! `fallocate(2)` hole punching, each holding its `struct file` with `fdget` for the call.

use crate::engine::cx::Cx;
use crate::engine::footprint::Obj;
use crate::engine::trace::SysResult;
use crate::errno::{Errno, KResult};
use crate::kernel::{ext2, ext4, filemap, open, ops, truncate, writeback};
use crate::state::fs::{FsKind, MAX_FILE_SIZE};
use crate::state::lock::{LockMode, LockName};
use crate::state::mem::PAGE_SIZE;
use crate::state::task::Tail;

/// `read(fd, buf, len)` at `pos` into user memory at `ubuf` (`generic_file_read_iter`).
pub async fn sys_read(cx: &Cx, fd: &str, ubuf: u64, pos: u64, len: u64) -> SysResult {
    let (f, file) = open::fdget(cx, fd)?;
    let cx = &cx.on_mount(Some(file.mount));
    let ino = file.ino;
    cx.frame("sys_read", Tail::FdPut { file: f }, async {
        if pos >= MAX_FILE_SIZE || len == 0 {
            return Ok(0);
        }
        let (dax, aops) = cx.read(Obj::Inodes, |m| m.inode(ino).map(|i| (i.s_dax, i.a_ops)))?;
        cx.frame("generic_file_read_iter", Tail::Pass, async {
            // io_is_direct(): O_DIRECT or IS_DAX. "Every DAX file is treated as O_DIRECT".
            if file.flags.direct || dax {
                let last = (pos + len).saturating_sub(1) / PAGE_SIZE;
                filemap::write_and_wait_range(cx, ino, pos / PAGE_SIZE, last).await?;
                ops::direct_io(cx, aops.direct_io, ino, false, ubuf, pos, len).await
            } else {
                filemap::do_generic_file_read(cx, ino, ubuf, pos, len).await
            }
        })
        .await
    })
    .await
}

/// `write(fd, buf, len)` at `pos` from user memory at `ubuf` (`->write_iter`, under
/// `i_mutex`). `direct` forces `O_DIRECT` (the console's `odirect_from_map`).
pub async fn sys_write(
    cx: &Cx,
    fd: &str,
    ubuf: u64,
    pos: u64,
    len: u64,
    direct: bool,
) -> SysResult {
    let (f, file) = open::fdget(cx, fd)?;
    let cx = &cx.on_mount(Some(file.mount));
    let ino = file.ino;
    cx.frame("sys_write", Tail::FdPut { file: f }, async {
        if file.flags.rdonly {
            return Err(Errno::EBADF.into());
        }
        if len == 0 {
            return Ok(0);
        }
        // generic_write_checks: nothing may be written at or past s_maxbytes.
        if pos.saturating_add(len) > MAX_FILE_SIZE {
            return Err(Errno::EFBIG.into());
        }
        let (dax, write_iter) = cx.read(Obj::Inodes, |m| {
            m.inode(ino).map(|i| (i.s_dax, i.f_op.write_iter))
        })?;
        let i_mutex = LockName::IMutex { ino };
        cx.frame(write_iter, Tail::UnlockIMutex { ino }, async {
            cx.lock(i_mutex, LockMode::Write).await;
            if file.flags.direct || direct || dax {
                cx.frame(
                    "__generic_file_write_iter",
                    Tail::WriteFallback {
                        ino,
                        ubuf,
                        pos,
                        len,
                    },
                    generic_file_direct_write(cx, ino, ubuf, pos, len),
                )
                .await
            } else {
                filemap::generic_perform_write(cx, ino, ubuf, pos, len).await
            }
        })
        .await
    })
    .await
}

/// `generic_file_direct_write`: write back and invalidate the range, `->direct_IO`; its tail
/// invalidates again and extends `i_size`.
async fn generic_file_direct_write(cx: &Cx, ino: u64, ubuf: u64, pos: u64, len: u64) -> SysResult {
    cx.frame(
        "generic_file_direct_write",
        Tail::DirectWrite { ino, pos, len },
        async {
            let (first, last) = (pos / PAGE_SIZE, (pos + len - 1) / PAGE_SIZE);
            filemap::write_and_wait_range(cx, ino, first, last).await?;
            // Evicts and unmaps any page (for DAX: a hole page a read fault left) in the range.
            filemap::invalidate_inode_pages2_range(cx, ino, first, last).await?;
            let aops = cx.read(Obj::Inodes, |m| m.inode(ino).map(|i| i.a_ops))?;
            ops::direct_io(cx, aops.direct_io, ino, true, ubuf, pos, len).await
        },
    )
    .await
}

/// The tail of `generic_file_direct_write`.
pub async fn direct_write_end(cx: &Cx, ino: u64, pos: u64, len: u64, r: SysResult) -> SysResult {
    let (first, last) = (pos / PAGE_SIZE, (pos + len - 1) / PAGE_SIZE);
    // The second invalidation; its failure is ignored.
    let _ = filemap::invalidate_inode_pages2_range(cx, ino, first, last).await;
    if let Ok(n) = r {
        let size = cx.read(Obj::ISize(ino), |m| m.inode(ino).map(|i| i.size))?;
        if n > 0 && pos + n > size {
            crate::kernel::truncate::i_size_write(cx, ino, pos + n)?;
        }
    }
    r
}

/// The tail of `__generic_file_write_iter` after a direct write: a short write of a file that
/// is not DAX continues through the page cache.
pub async fn write_fallback(
    cx: &Cx,
    ino: u64,
    ubuf: u64,
    pos: u64,
    len: u64,
    r: SysResult,
) -> SysResult {
    let written = match r {
        Ok(n) if n < len => n,
        other => return other,
    };
    let dax = cx.read(Obj::Inodes, |m| m.inode(ino).map(|i| i.s_dax))?;
    if dax {
        return Ok(written);
    }
    let more =
        filemap::generic_perform_write(cx, ino, ubuf + written, pos + written, len - written).await;
    let first = (pos + written) / PAGE_SIZE;
    let last = (pos + len - 1) / PAGE_SIZE;
    filemap::write_and_wait_range(cx, ino, first, last).await?;
    // "invalidate_mapping_pages(mapping, pos >> PAGE_CACHE_SHIFT, endbyte >> PAGE_CACHE_SHIFT)":
    // the page cache does not keep what a direct write put through it.
    writeback::invalidate_mapping_pages(cx, ino, first, last).await;
    match more {
        Ok(n) => Ok(written + n),
        Err(_) if written > 0 => Ok(written),
        Err(e) => Err(e),
    }
}

/// `do_truncate`: `i_mutex`, then `notify_change` → `->setattr`.
pub async fn do_truncate(cx: &Cx, ino: u64, size: u64) -> SysResult {
    let i_mutex = LockName::IMutex { ino };
    cx.call("do_truncate", async {
        cx.lock(i_mutex, LockMode::Write).await;
        let (kind, old, func) = cx.read(Obj::ISize(ino), |m| {
            m.inode(ino)
                .map(|i| (m.fs(i.fs).kind, i.size, i.f_op.setattr))
        })?;
        let r = cx
            .call(func, async {
                match kind {
                    // "if (iattr->ia_valid & ATTR_SIZE && iattr->ia_size != inode->i_size)"
                    FsKind::Ext2 if size == old => Ok(0),
                    FsKind::Ext2 => {
                        cx.call("ext2_setsize", ext2::inode::ext2_setsize(cx, ino, size))
                            .await
                    }
                    FsKind::Ext4 => ext4::inode::ext4_setattr_size(cx, ino, size).await,
                }
            })
            .await;
        cx.unlock(i_mutex).await;
        r
    })
    .await
}

/// `ftruncate(fd, size)`.
pub async fn sys_ftruncate(cx: &Cx, fd: &str, size: u64) -> SysResult {
    let (f, file) = open::fdget(cx, fd)?;
    let cx = &cx.on_mount(Some(file.mount));
    let r = async {
        if file.flags.rdonly {
            return Err(Errno::EBADF.into());
        }
        if size > MAX_FILE_SIZE {
            return Err(Errno::EFBIG.into()); // inode_newsize_ok
        }
        do_truncate(cx, file.ino, size).await
    }
    .await;
    open::fput(cx, f).await?;
    r
}

/// `fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len)` (`vfs_fallocate`):
/// ext2 has no `->fallocate` in 4.0 (`-EOPNOTSUPP`); ext4 punches.
pub async fn sys_punch(cx: &Cx, fd: &str, off: u64, len: u64) -> SysResult {
    let (f, file) = open::fdget(cx, fd)?;
    let cx = &cx.on_mount(Some(file.mount));
    let r = async {
        if file.flags.rdonly {
            return Err(Errno::EBADF.into());
        }
        if len == 0 || off.saturating_add(len) > MAX_FILE_SIZE {
            return Err(Errno::EINVAL.into());
        }
        let fallocate = cx.read(Obj::Inodes, |m| m.inode(file.ino).map(|i| i.f_op.fallocate))?;
        match fallocate {
            None => Err(Errno::EOPNOTSUPP.into()),
            Some(name) => {
                cx.call(name, ext4::inode::ext4_punch_hole(cx, file.ino, off, len))
                    .await
            }
        }
    }
    .await;
    open::fput(cx, f).await?;
    r
}

/// `ext2_write_failed(mapping, to)` / `ext4_truncate_failed_write`: after a direct write that
/// failed, drop the page cache and the blocks it allocated past `i_size`.
pub async fn write_failed(cx: &Cx, ino: u64, to: u64, ext4: bool) -> KResult<()> {
    let func = if ext4 {
        "ext4_truncate_failed_write"
    } else {
        "ext2_write_failed"
    };
    cx.call(func, async {
        let size = cx.read(Obj::ISize(ino), |m| m.inode(ino).map(|i| i.size))?;
        if to <= size {
            return Ok(());
        }
        if ext4 {
            truncate::truncate_inode_pages(cx, ino, size, u64::MAX).await?;
            cx.call("ext4_truncate", ext4::inode::ext4_truncate(cx, ino))
                .await
        } else {
            truncate::truncate_pagecache(cx, ino, size).await?;
            ext2::inode::truncate_blocks(cx, ino, size).await
        }
    })
    .await
}
