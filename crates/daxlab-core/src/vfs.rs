//! The system calls and administration commands of a scenario, as the VFS dispatches them in
//! Linux 4.0: `generic_file_read_iter`, `generic_file_write_iter`, `ext2_setsize`, `fsync`,
//! `mmap`, `mount`, and so on. Each returns a result; a failure is a result, never a panic.

use crate::access::{self, USER_BUF};
use crate::bio::submit_bio_frame;
use crate::block_dev::{BlockDevice, DeviceKind, DirectAccess};
use crate::dax::{self, Io};
use crate::errno::{Errno, KResult};
use crate::event::{EventKind, LockMode, LockName};
use crate::filemap;
use crate::fs::{self, Create, Filesystem, FsKind, Inode, Mount, MountOptions};
use crate::kernel::OpenFile;
use crate::mem::{Pfn, PAGE_SIZE, SECTOR_SIZE};
use crate::memory::{self, UserFault};
use crate::mm::Vma;
use crate::page_cache::AddressSpace;
use crate::sched::Cx;

/// Why an administrative command was refused, with the kernel's own message where it has one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// An errno with the message the kernel logs (may be empty).
    #[error("{errno}: {message}")]
    Errno {
        /// The errno.
        errno: Errno,
        /// The kernel's message (`dmesg`), or a description.
        message: String,
    },
}

fn refuse(errno: Errno, message: impl Into<String>) -> Refusal {
    Refusal::Errno {
        errno,
        message: message.into(),
    }
}

/// The largest device the model creates.
pub const MAX_DEVICE_SIZE: u64 = 1 << 40;

/// `device NAME KIND size=SIZE`: register a block device.
pub fn add_device(cx: &Cx, name: &str, kind: DeviceKind, size: u64) -> Result<(), Refusal> {
    if size > MAX_DEVICE_SIZE {
        return Err(refuse(
            Errno::EINVAL,
            "device size must be at most 1 TiB in the model",
        ));
    }
    if size < PAGE_SIZE || !size.is_multiple_of(PAGE_SIZE) {
        return Err(refuse(
            Errno::EINVAL,
            "device size must be a positive multiple of 4 KiB",
        ));
    }
    cx.with(|k| {
        if k.device_index(name).is_some() {
            return Err(refuse(Errno::EEXIST, format!("/dev/{name} exists")));
        }
        let base = k.next_device_phys;
        if matches!(kind, DeviceKind::Axonram | DeviceKind::Dcssblk) {
            // Device memory ranges are placed one after another, 1 GiB aligned.
            k.next_device_phys += size.next_multiple_of(1 << 30);
        }
        k.devices.push(BlockDevice::new(name, kind, size, base));
        Ok(())
    })
}

/// `direct_access NAME sector=N size=SIZE`: call `bdev_direct_access` on a device.
pub async fn direct_access(cx: &Cx, name: &str, sector: u64, size: i64) -> KResult<DirectAccess> {
    let dev = cx.with(|k| k.device_index(name)).ok_or(Errno::ENODEV)?;
    cx.call("bdev_direct_access", async {
        let r = cx.with(|k| {
            let mem = &mut k.mem;
            k.devices[dev].bdev_direct_access(mem, sector, size)
        });
        if let Err(errno) = r {
            cx.emit(EventKind::Error {
                func: "bdev_direct_access",
                errno,
            });
        }
        r
    })
    .await
}

/// `mkfs.ext2`/`mkfs.ext4`.
pub fn mkfs(cx: &Cx, kind: FsKind, dev: &str, block_size: u64) -> Result<(), Refusal> {
    cx.with(|k| {
        let d = k
            .device_index(dev)
            .ok_or_else(|| refuse(Errno::ENOENT, format!("/dev/{dev}: no such device")))?;
        if k.mounts
            .iter()
            .any(|m| m.active && k.filesystems[m.fs].dev == d)
        {
            return Err(refuse(Errno::EBUSY, format!("/dev/{dev} is mounted")));
        }
        let size = k.devices[d].driver.size();
        let fs = Filesystem::mkfs(kind, d, size, block_size).map_err(|e| {
            refuse(
                e,
                format!("cannot make a filesystem with block size {block_size} on /dev/{dev}"),
            )
        })?;
        // A new filesystem replaces any old one on the device; its inodes go.
        if let Some(old) = k.filesystems.iter().position(|f| f.dev == d) {
            k.inodes.retain(|_, i| i.fs != old);
            k.filesystems[old] = fs;
        } else {
            k.filesystems.push(fs);
        }
        Ok(())
    })
}

/// `mount /dev/NAME /PATH -o OPTIONS` with ext2's 4.0 checks (`ext2_fill_super`).
pub fn mount(cx: &Cx, dev: &str, path: &str, opts: &str) -> Result<(), Refusal> {
    let mut opts = MountOptions::parse(opts).map_err(|o| {
        refuse(
            Errno::EINVAL,
            format!("EXT2-fs: Unrecognized mount option \"{o}\" or missing value"),
        )
    })?;
    let log = |text: String| cx.emit(EventKind::Printk { text });
    let (fsi, kind, bs, has_da) = cx.with(|k| {
        let d = k.device_index(dev).ok_or_else(|| {
            refuse(
                Errno::ENOENT,
                format!("special device /dev/{dev} does not exist"),
            )
        })?;
        let fsi = k
            .filesystems
            .iter()
            .position(|f| f.dev == d)
            .ok_or_else(|| {
                refuse(
                    Errno::EINVAL,
                    format!("wrong fs type, bad option, bad superblock on /dev/{dev}"),
                )
            })?;
        if k.mounts.iter().any(|m| m.active && m.path == path) {
            return Err(refuse(
                Errno::EBUSY,
                format!("{path} is already a mount point"),
            ));
        }
        if k.mounts.iter().any(|m| m.active && m.fs == fsi) {
            return Err(refuse(
                Errno::EBUSY,
                format!("/dev/{dev} is already mounted"),
            ));
        }
        let f = &k.filesystems[fsi];
        Ok((
            fsi,
            f.kind,
            f.block_size,
            k.devices[d].driver.has_direct_access(),
        ))
    })?;
    let tag = format!("{}-fs", kind.name().to_uppercase());
    if opts.xip {
        log(format!("{tag} ({dev}): use dax instead of xip"));
    }
    if opts.dax {
        let arch = cx.with(|k| k.arch);
        if !arch.config_fs_dax() {
            // FS_DAX depends on !(ARM || MIPS || SPARC): the option is parsed but does nothing.
            log(format!("{tag} ({dev}): dax option not supported"));
            opts.dax = false;
        } else if bs != PAGE_SIZE {
            let m = format!("{tag} ({dev}): error: unsupported blocksize for dax");
            log(m.clone());
            return Err(refuse(Errno::EINVAL, m));
        } else if !has_da {
            let m = format!("{tag} ({dev}): error: device does not support dax");
            log(m.clone());
            return Err(refuse(Errno::EINVAL, m));
        }
    }
    cx.with(|k| {
        k.mounts.push(Mount {
            path: path.to_string(),
            fs: fsi,
            opts,
            active: true,
        });
    });
    Ok(())
}

/// `umount /PATH`: refused while files are open or mapped; writes back dirty pages first.
pub async fn umount(cx: &Cx, path: &str) -> Result<(), Refusal> {
    let (mi, busy) = cx
        .with(|k| {
            let mi = k.mounts.iter().position(|m| m.active && m.path == path)?;
            let busy = k.files.values().any(|f| f.mount as usize == mi)
                || k.mm.vmas.values().any(|v| {
                    k.inodes
                        .get(&v.ino)
                        .is_some_and(|i| i.fs == k.mounts[mi].fs)
                });
            Some((mi, busy))
        })
        .ok_or_else(|| refuse(Errno::EINVAL, format!("{path}: not mounted")))?;
    if busy {
        return Err(refuse(Errno::EBUSY, format!("{path}: target is busy")));
    }
    let fs = cx.with(|k| k.mounts[mi].fs);
    let inos: Vec<u64> = cx.with(|k| {
        k.inodes
            .values()
            .filter(|i| i.fs == fs)
            .map(|i| i.ino)
            .collect()
    });
    for ino in inos {
        filemap::write_and_wait_range(cx, ino, 0, u64::MAX)
            .await
            .map_err(|e| refuse(e, "writeback failed"))?;
        evict_pages(cx, ino, true);
    }
    cx.with(|k| k.mounts[mi].active = false);
    Ok(())
}

/// `/proc/mounts`.
pub fn proc_mounts(k: &crate::kernel::Kernel) -> String {
    let mut s = String::new();
    for m in k.mounts.iter().filter(|m| m.active) {
        let f = &k.filesystems[m.fs];
        let mut o = String::from(if m.opts.ro { "ro" } else { "rw" });
        o.push_str(",relatime");
        if m.opts.dax {
            o.push_str(",dax");
        }
        s.push_str(&format!(
            "/dev/{} {} {} {} 0 0\n",
            k.devices[f.dev].name,
            m.path,
            f.kind.name(),
            o
        ));
    }
    s
}

/// How a file is opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpenFlags {
    /// `O_CREAT`.
    pub create: bool,
    /// `O_TRUNC`.
    pub trunc: bool,
    /// `O_DIRECT`.
    pub direct: bool,
    /// `O_RDONLY`.
    pub rdonly: bool,
}

/// `open(path, flags)`: look up or create the inode; `S_DAX` comes from the mount
/// (`ext2_set_inode_flags`).
pub async fn open(cx: &Cx, fd: &str, path: &str, flags: OpenFlags) -> KResult<u64> {
    let (mount, ino) = cx.with(|k| {
        let (mi, name) = k.resolve(path).ok_or(Errno::ENOENT)?;
        if name.is_empty() || name.contains('/') {
            return Err(if name.is_empty() {
                Errno::EISDIR
            } else {
                Errno::ENOENT
            });
        }
        let m = &k.mounts[mi as usize];
        let (fsi, dax, ro) = (m.fs, m.opts.dax, m.opts.ro);
        if ro && !flags.rdonly {
            return Err(Errno::EROFS);
        }
        let ino = match k.filesystems[fsi].root.get(name) {
            Some(i) => *i,
            None if flags.create => {
                let ino = k.next_ino;
                k.next_ino += 1;
                k.filesystems[fsi].root.insert(name.to_string(), ino);
                k.inodes.insert(
                    ino,
                    Inode {
                        ino,
                        fs: fsi,
                        name: name.to_string(),
                        size: 0,
                        blocks: Default::default(),
                        s_dax: dax,
                        dio_count: 0,
                        mapping: AddressSpace::default(),
                        unlinked: false,
                    },
                );
                ino
            }
            None => return Err(Errno::ENOENT),
        };
        // The inode is (re)instantiated under this mount: S_DAX follows the mount option.
        if let Some(i) = k.inodes.get_mut(&ino) {
            i.s_dax = dax;
        }
        k.files.insert(
            fd.to_string(),
            OpenFile {
                ino,
                mount: mi,
                direct: flags.direct,
                rdonly: flags.rdonly,
            },
        );
        Ok((mi, ino))
    })?;
    let cx = Cx {
        mount: Some(mount),
        ..cx.clone()
    };
    if flags.trunc && !flags.rdonly {
        setattr_size(&cx, ino, 0).await?;
    }
    Ok(ino)
}

/// `close(fd)`.
pub fn close(cx: &Cx, fd: &str) -> KResult<()> {
    cx.with(|k| k.files.remove(fd).map(|_| ()).ok_or(Errno::EBADF))
}

/// The open file and a context whose events count toward its mount.
pub fn file_cx(cx: &Cx, fd: &str) -> KResult<(OpenFile, Cx)> {
    let f = cx.with(|k| k.file(fd).cloned())?;
    Ok((
        f.clone(),
        Cx {
            mount: Some(f.mount),
            ..cx.clone()
        },
    ))
}

fn is_dax(cx: &Cx, ino: u64) -> KResult<bool> {
    cx.with(|k| k.inode(ino).map(|i| i.s_dax))
}

/// `read(fd, buf, len)` at `pos` (`generic_file_read_iter`).
pub async fn read(cx: &Cx, fd: &str, pos: u64, len: u64) -> KResult<Vec<u8>> {
    let (r, mut out) = read_into(cx, fd, pos, vec![0u8; len as usize]).await;
    out.truncate(r? as usize);
    Ok(out)
}

/// `read(fd, buf, buf.len())` at `pos` into a buffer the caller owns (and gets back), as a
/// program reuses its buffer. Returns the bytes read.
pub async fn read_into(cx: &Cx, fd: &str, pos: u64, mut out: Vec<u8>) -> (KResult<u64>, Vec<u8>) {
    let r = read_buf(cx, fd, pos, &mut out).await;
    (r, out)
}

async fn read_buf(cx: &Cx, fd: &str, pos: u64, out: &mut [u8]) -> KResult<u64> {
    let (f, cx) = file_cx(cx, fd)?;
    if pos >= fs::MAX_FILE_SIZE {
        return Ok(0); // past any file's end
    }
    let cx = &cx;
    let len = out.len() as u64;
    cx.call("generic_file_read_iter", async {
        let dax = is_dax(cx, f.ino)?;
        // io_is_direct(): O_DIRECT or IS_DAX. "Every DAX file is treated as O_DIRECT".
        if f.direct || dax {
            let last = (pos + len).saturating_sub(1) / PAGE_SIZE;
            filemap::write_and_wait_range(cx, f.ino, pos / PAGE_SIZE, last).await?;
            if dax {
                return cx
                    .call(
                        "ext2_direct_IO",
                        dax::dax_do_io(cx, f.ino, Io::Read(out), pos),
                    )
                    .await;
            }
            return blockdev_direct_io(cx, f.ino, pos, DirectBuf::Read(out)).await;
        }
        filemap::do_generic_file_read(cx, f.ino, pos, out).await
    })
    .await
}

/// `write(fd, data)` at `pos` (`generic_file_write_iter`, under `i_mutex`).
pub async fn write(cx: &Cx, fd: &str, pos: u64, data: &[u8]) -> KResult<u64> {
    let (f, cx) = file_cx(cx, fd)?;
    let cx = &cx;
    if f.rdonly {
        return Err(Errno::EBADF);
    }
    if data.is_empty() {
        return Ok(0);
    }
    // generic_write_checks: nothing may be written at or past s_maxbytes.
    if pos.saturating_add(data.len() as u64) > fs::MAX_FILE_SIZE {
        return Err(Errno::EFBIG);
    }
    cx.call("generic_file_write_iter", async {
        let ino = f.ino;
        let i_mutex = LockName::IMutex { ino };
        cx.lock(i_mutex, LockMode::Write).await;
        let r = async {
            let dax = is_dax(cx, ino)?;
            if f.direct || dax {
                generic_file_direct_write(cx, ino, pos, data, dax).await
            } else {
                filemap::generic_perform_write(cx, ino, pos, data).await
            }
        }
        .await;
        cx.unlock(i_mutex).await;
        r
    })
    .await
}

/// `generic_file_direct_write`: write back and invalidate the range, `->direct_IO`, invalidate
/// again, then extend `i_size`.
async fn generic_file_direct_write(
    cx: &Cx,
    ino: u64,
    pos: u64,
    data: &[u8],
    dax: bool,
) -> KResult<u64> {
    cx.call("generic_file_direct_write", async {
        let (first, last) = (pos / PAGE_SIZE, (pos + data.len() as u64 - 1) / PAGE_SIZE);
        filemap::write_and_wait_range(cx, ino, first, last).await?;
        // Evicts and unmaps any zero hole pages a read fault left here.
        filemap::invalidate_inode_pages2_range(cx, ino, first, last).await?;
        let r = if dax {
            cx.call(
                "ext2_direct_IO",
                dax::dax_do_io(cx, ino, Io::Write(data), pos),
            )
            .await
        } else {
            blockdev_direct_io(cx, ino, pos, DirectBuf::Write(data)).await
        };
        filemap::invalidate_inode_pages2_range(cx, ino, first, last).await?;
        let n = r?;
        let end = pos + n;
        if n > 0 && end > cx.with(|k| k.inode(ino).map(|i| i.size))? {
            cx.with(|k| k.inode_mut(ino).map(|i| i.size = end))?;
            cx.emit(EventKind::Size { ino, size: end });
        }
        Ok(n)
    })
    .await
}

/// The user side of a non-DAX direct I/O.
pub enum DirectBuf<'a> {
    /// Read into this buffer.
    Read(&'a mut [u8]),
    /// Write from this buffer.
    Write(&'a [u8]),
    /// Write from pages pinned by `get_user_pages` (`odirect_from_map`).
    WritePages(&'a [Pfn], u64, u64),
}

/// `__blockdev_direct_IO` for a non-DAX file: the device moves data straight between itself and
/// the user's pages (one copy), after `get_block`; new blocks get their unwritten parts zeroed
/// (`dio_zero_block`). Offsets and lengths must be 512-byte aligned.
async fn blockdev_direct_io(cx: &Cx, ino: u64, pos: u64, mut buf: DirectBuf<'_>) -> KResult<u64> {
    cx.call("blockdev_direct_IO", async {
        let len = match &buf {
            DirectBuf::Read(b) => b.len() as u64,
            DirectBuf::Write(b) => b.len() as u64,
            DirectBuf::WritePages(_, _, l) => *l,
        };
        if !pos.is_multiple_of(SECTOR_SIZE) || len % SECTOR_SIZE != 0 {
            return Err(Errno::EINVAL);
        }
        let write = !matches!(buf, DirectBuf::Read(_));
        let (dev, bs) = cx.with(|k| k.fs_of(ino).map(|f| (f.dev, f.block_size)))?;
        let end = if write {
            pos + len
        } else {
            (pos + len).min(cx.with(|k| k.inode(ino).map(|i| i.size))?.max(pos))
        };
        cx.with(|k| k.inode_mut(ino).map(|i| i.dio_count += 1))?;
        let mut p = pos;
        let r: KResult<()> = async {
            while p < end {
                let iblock = p / bs;
                let off = p % bs;
                let mut n = (bs - off).min(end - p).min(PAGE_SIZE - p % PAGE_SIZE);
                if let DirectBuf::WritePages(_, uaddr, _) = &buf {
                    // Nor may it cross a page of the user's buffer.
                    n = n.min(PAGE_SIZE - (uaddr + (p - pos)) % PAGE_SIZE);
                }
                let bh = fs::get_block(
                    cx,
                    ino,
                    iblock,
                    if write { Create::Yes } else { Create::No },
                )
                .await?;
                let i = (p - pos) as usize;
                match (&mut buf, bh.block) {
                    (DirectBuf::Read(out), Some(b)) if bh.written() => {
                        // The device writes into the user's pinned page. The model keeps user
                        // buffers outside physical memory, so it stages them in a scratch frame.
                        let scratch = cx.with(|k| k.mem.alloc_ram(crate::mem::FrameUse::Anon))?;
                        let user = user_page(USER_BUF + i as u64, scratch);
                        let r =
                            submit_bio_frame(cx, dev, b * bs + off, (scratch, 0), user, n, false);
                        cx.with(|k| k.mem.read(scratch, 0, &mut out[i..i + n as usize]));
                        cx.with(|k| k.mem.free_ram(scratch));
                        r?;
                    }
                    (DirectBuf::Read(out), _) => access::zero_user(
                        cx,
                        "dio_zero_block",
                        USER_BUF + i as u64,
                        &mut out[i..i + n as usize],
                    ),
                    (DirectBuf::Write(_) | DirectBuf::WritePages(..), Some(b)) => {
                        if bh.new {
                            // dio_zero_block: the parts of a new block this write leaves alone.
                            zero_device(cx, dev, b * bs, off)?;
                            zero_device(cx, dev, b * bs + off + n, bs - off - n)?;
                        }
                        let (frame, user, scratch) = match &buf {
                            DirectBuf::Write(data) => {
                                let f = cx.with(|k| k.mem.alloc_ram(crate::mem::FrameUse::Anon))?;
                                cx.with(|k| k.mem.write(f, 0, &data[i..i + n as usize]));
                                ((f, 0), user_page(USER_BUF + i as u64, f), true)
                            }
                            DirectBuf::WritePages(pages, uaddr, _) => {
                                // The pages get_user_pages pinned: the device reads them directly.
                                let ua = uaddr + i as u64;
                                let pg = pages
                                    [((ua - (uaddr - uaddr % PAGE_SIZE)) / PAGE_SIZE) as usize];
                                ((pg, (ua % PAGE_SIZE) as usize), user_page(ua, pg), false)
                            }
                            DirectBuf::Read(_) => unreachable!("matched a write above"),
                        };
                        let r = submit_bio_frame(cx, dev, b * bs + off, frame, user, n, true);
                        if scratch {
                            cx.with(|k| k.mem.free_ram(frame.0));
                        }
                        r?;
                    }
                    (_, None) => return Err(Errno::EIO),
                }
                p += n;
                cx.yield_now().await;
            }
            Ok(())
        }
        .await;
        cx.with(|k| k.inode_mut(ino).map(|i| i.dio_count -= 1))?;
        match r {
            Err(e) if p == pos => Err(e),
            _ => Ok(p - pos),
        }
    })
    .await
}

/// A user page as a bio names it: the user's address and the frame behind it.
fn user_page(vaddr: u64, pfn: Pfn) -> crate::event::Loc {
    crate::event::Loc {
        space: crate::event::Space::User,
        vaddr,
        pfn: Some(pfn),
    }
}

fn zero_device(cx: &Cx, dev: usize, byte: u64, len: u64) -> KResult<()> {
    if len == 0 {
        return Ok(());
    }
    let zero = cx.with(|k| k.mem.alloc_ram(crate::mem::FrameUse::Anon))?;
    let r = cx.with(|k| {
        let d = &mut k.devices[dev];
        d.driver
            .rw(&mut k.mem, byte, (zero, 0), len as usize, true)
            .map(|ns| (ns, d.name.clone(), d.driver.bio_vaddr(byte)))
    });
    cx.with(|k| k.mem.free_ram(zero));
    let (ns, name, vaddr) = r?;
    cx.emit_ns(
        ns,
        EventKind::Zero {
            func: "dio_zero_block",
            dst: access::device(name, byte, vaddr, None),
            bytes: len,
        },
    );
    Ok(())
}

/// `ftruncate(fd, size)` (`do_truncate` takes `i_mutex`; `ext2_setattr` → `ext2_setsize`).
pub async fn truncate(cx: &Cx, fd: &str, size: u64) -> KResult<()> {
    let (f, cx) = file_cx(cx, fd)?;
    if f.rdonly {
        return Err(Errno::EBADF);
    }
    if size > fs::MAX_FILE_SIZE {
        return Err(Errno::EFBIG); // inode_newsize_ok
    }
    setattr_size(&cx, f.ino, size).await
}

async fn setattr_size(cx: &Cx, ino: u64, size: u64) -> KResult<()> {
    let i_mutex = LockName::IMutex { ino };
    cx.call("do_truncate", async {
        cx.lock(i_mutex, LockMode::Write).await;
        let r = cx.call("ext2_setsize", ext2_setsize(cx, ino, size)).await;
        cx.unlock(i_mutex).await;
        r
    })
    .await
}

/// `ext2_setsize`: wait for direct I/O, zero the partial page, set `i_size` and drop the page
/// cache and mappings past it (`truncate_setsize`), then free the blocks.
async fn ext2_setsize(cx: &Cx, ino: u64, size: u64) -> KResult<()> {
    cx.inode_dio_wait(ino).await;
    if is_dax(cx, ino)? {
        dax::dax_truncate_page(cx, ino, size).await?;
    } else {
        filemap::block_truncate_page(cx, ino, size).await?;
    }
    cx.call("truncate_setsize", async {
        let old = cx.with(|k| k.inode(ino).map(|i| i.size))?;
        cx.with(|k| k.inode_mut(ino).map(|i| i.size = size))?;
        cx.emit(EventKind::Size { ino, size });
        cx.yield_now().await;
        if size < old {
            // truncate_pagecache: unmap (even COWed pages), drop the pages, unmap again.
            let holebegin = size.div_ceil(PAGE_SIZE);
            memory::unmap_mapping_range(cx, ino, holebegin, None, true).await;
            filemap::truncate_inode_pages(cx, ino, size).await?;
            memory::unmap_mapping_range(cx, ino, holebegin, None, true).await;
        }
        Ok(())
    })
    .await?;
    fs::truncate_blocks(cx, ino, size).await
}

/// `fsync(fd)`: write back dirty page-cache pages. For a DAX file in 4.0 there are none: the
/// data is on the device already (and 4.0 flushes no CPU caches).
pub async fn fsync(cx: &Cx, fd: &str) -> KResult<()> {
    let (f, cx) = file_cx(cx, fd)?;
    cx.call(
        "generic_file_fsync",
        filemap::write_and_wait_range(&cx, f.ino, 0, u64::MAX),
    )
    .await
}

/// Drop clean, unmapped pages of an inode (`invalidate_mapping_pages`). With `all`, mapped ones
/// too (the inode is going away).
fn evict_pages(cx: &Cx, ino: u64, all: bool) {
    let victims: Vec<(u64, Pfn)> = cx.with(|k| {
        let mapped: std::collections::BTreeSet<Pfn> = k.mm.ptes.values().map(|p| p.pfn).collect();
        k.inode(ino)
            .map(|i| {
                i.mapping
                    .pages
                    .iter()
                    .filter(|(_, p)| !p.dirty && (all || !mapped.contains(&p.pfn)))
                    .map(|(x, p)| (*x, p.pfn))
                    .collect()
            })
            .unwrap_or_default()
    });
    for (index, pfn) in victims {
        filemap::delete_from_page_cache(cx, ino, index, pfn);
    }
}

/// Every inode with the mount its events count toward.
fn inodes_by_mount(cx: &Cx) -> Vec<(u64, Option<u16>)> {
    cx.with(|k| {
        k.inodes
            .values()
            .map(|i| {
                (
                    i.ino,
                    k.mounts
                        .iter()
                        .position(|m| m.active && m.fs == i.fs)
                        .map(|m| m as u16),
                )
            })
            .collect()
    })
}

/// `sync`: the explicit writeback step, every dirty page of every file written to its device.
pub async fn sync(cx: &Cx) -> KResult<()> {
    let inos = inodes_by_mount(cx);
    cx.call("sys_sync", async {
        for (ino, mount) in inos {
            let cx = Cx {
                mount,
                ..cx.clone()
            };
            filemap::write_and_wait_range(&cx, ino, 0, u64::MAX).await?;
        }
        Ok(())
    })
    .await
}

/// `echo 3 > /proc/sys/vm/drop_caches` after `sync`: write back, then evict every clean page
/// that no process maps.
pub async fn drop_caches(cx: &Cx) -> KResult<()> {
    sync(cx).await?;
    let inos = inodes_by_mount(cx);
    cx.call("drop_caches", async {
        for (ino, mount) in inos {
            evict_pages(
                &Cx {
                    mount,
                    ..cx.clone()
                },
                ino,
                false,
            );
        }
        Ok(())
    })
    .await
}

/// `mmap(NULL, len, prot, flags, fd, offset)` (`ext2_file_mmap`: `VM_MIXEDMAP` and the DAX
/// vm_ops for an `S_DAX` inode, `generic_file_mmap` otherwise). Returns the start address.
pub async fn mmap(
    cx: &Cx,
    name: &str,
    fd: &str,
    offset: u64,
    len: u64,
    shared: bool,
    writable: bool,
) -> KResult<u64> {
    let (f, cx) = file_cx(cx, fd)?;
    if !offset.is_multiple_of(PAGE_SIZE) || len == 0 {
        return Err(Errno::EINVAL);
    }
    if offset.saturating_add(len) > fs::MAX_FILE_SIZE {
        return Err(Errno::ENOMEM); // no room for such a mapping in the model's address space
    }
    if shared && writable && f.rdonly {
        return Err(Errno::EACCES);
    }
    let dax = is_dax(&cx, f.ino)?;
    let func = if dax {
        "ext2_file_mmap"
    } else {
        "generic_file_mmap"
    };
    cx.call(func, async {
        let start = cx.with(|k| {
            if k.mm.vmas.values().any(|v| v.name == name) {
                return Err(Errno::EEXIST);
            }
            let plen = len.next_multiple_of(PAGE_SIZE);
            let start = k.mm.get_unmapped_area(plen);
            k.mm.vmas.insert(
                start,
                Vma {
                    name: name.to_string(),
                    start,
                    len: plen,
                    ino: f.ino,
                    pgoff: offset / PAGE_SIZE,
                    shared,
                    writable,
                    mixedmap: dax,
                },
            );
            Ok(start)
        })?;
        Ok(start)
    })
    .await
}

/// The VMA a scenario calls `name`.
pub fn vma_named(cx: &Cx, name: &str) -> KResult<Vma> {
    cx.with(|k| k.mm.vmas.values().find(|v| v.name == name).cloned())
        .ok_or(Errno::EINVAL)
}

/// `munmap`: remove the VMA and its PTEs (anonymous COW pages are freed).
pub async fn munmap(cx: &Cx, name: &str) -> KResult<()> {
    let vma = vma_named(cx, name)?;
    cx.call("munmap", async {
        let gone: Vec<(u64, crate::mm::Pte)> = cx.with(|k| {
            k.mm.vmas.remove(&vma.start);
            let g: Vec<_> =
                k.mm.ptes
                    .range(vma.start..vma.start + vma.len)
                    .map(|(a, p)| (*a, *p))
                    .collect();
            for (a, p) in &g {
                k.mm.ptes.remove(a);
                if p.anon {
                    k.mem.free_ram(p.pfn);
                }
            }
            g
        });
        for (a, p) in gone {
            cx.emit(EventKind::Pte {
                op: crate::event::PteOp::Remove,
                vaddr: a,
                pfn: p.pfn,
                writable: p.writable,
                special: p.special,
            });
        }
        Ok(())
    })
    .await
}

/// The context for a user access through a mapping: events count toward the file's mount.
async fn map_cx(cx: &Cx, map: &str, off: u64, len: u64) -> KResult<(Vma, Cx)> {
    let vma = vma_named(cx, map)?;
    // Past the end of the VMA the MMU finds no mapping: SIGSEGV from the fault path.
    if vma
        .start
        .checked_add(off)
        .and_then(|a| a.checked_add(len))
        .is_none()
    {
        return Err(Errno::EFAULT);
    }
    let mount = cx.with(|k| {
        let fs = k.inodes.get(&vma.ino).map(|i| i.fs);
        k.mounts
            .iter()
            .position(|m| m.active && Some(m.fs) == fs)
            .map(|m| m as u16)
    });
    Ok((
        vma,
        Cx {
            mount,
            ..cx.clone()
        },
    ))
}

/// A user load through a mapping.
pub async fn load(cx: &Cx, map: &str, off: u64, len: u64) -> Result<Vec<u8>, AccessError> {
    let (vma, cx) = map_cx(cx, map, off, len).await?;
    Ok(memory::user_access(&cx, vma.start + off, len, None).await?)
}

/// A user store through a mapping.
pub async fn store(cx: &Cx, map: &str, off: u64, data: &[u8]) -> Result<(), AccessError> {
    let (vma, cx) = map_cx(cx, map, off, data.len() as u64).await?;
    memory::user_access(&cx, vma.start + off, data.len() as u64, Some(data)).await?;
    Ok(())
}

/// What a user access can end in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessError {
    /// The scenario's arguments were wrong (an errno).
    Errno(Errno),
    /// A fault ended in a signal or OOM.
    Fault(UserFault),
}

impl From<Errno> for AccessError {
    fn from(e: Errno) -> Self {
        AccessError::Errno(e)
    }
}
impl From<UserFault> for AccessError {
    fn from(e: UserFault) -> Self {
        AccessError::Fault(e)
    }
}

/// `odirect_from_map FD OFFSET MAP MAP_OFFSET LEN`: an O_DIRECT write to a file whose user
/// buffer is a mapping. `get_user_pages` pins the buffer; on a DAX mapping it fails (`-EFAULT`).
pub async fn odirect_from_map(
    cx: &Cx,
    fd: &str,
    pos: u64,
    map: &str,
    moff: u64,
    len: u64,
) -> KResult<u64> {
    let (f, fcx) = file_cx(cx, fd)?;
    if pos.saturating_add(len) > fs::MAX_FILE_SIZE {
        return Err(Errno::EFBIG);
    }
    let (vma, mcx) = map_cx(cx, map, moff, len).await?;
    let uaddr = vma.start + moff;
    let pages = memory::get_user_pages(&mcx, uaddr, len, false).await?;
    let cx = &fcx;
    cx.call("generic_file_write_iter", async {
        let i_mutex = LockName::IMutex { ino: f.ino };
        cx.lock(i_mutex, LockMode::Write).await;
        let r = async {
            if is_dax(cx, f.ino)? {
                // O_DIRECT of a DAX file goes through dax_do_io, which copies from the user
                // address (copy_from_iter), not from pinned pages.
                let mut data = vec![0u8; len as usize];
                let mut done = 0usize;
                for (i, p) in pages.iter().enumerate() {
                    let start = if i == 0 {
                        (uaddr % PAGE_SIZE) as usize
                    } else {
                        0
                    };
                    let n = (PAGE_SIZE as usize - start).min(len as usize - done);
                    cx.with(|k| k.mem.read(*p, start, &mut data[done..done + n]));
                    done += n;
                }
                generic_file_direct_write(cx, f.ino, pos, &data, true).await
            } else {
                blockdev_direct_io(cx, f.ino, pos, DirectBuf::WritePages(&pages, uaddr, len)).await
            }
        }
        .await;
        cx.unlock(i_mutex).await;
        r
    })
    .await
}

/// `unlink(path)`: remove the name; the blocks go when nothing has the inode open or mapped.
pub async fn unlink(cx: &Cx, path: &str) -> KResult<()> {
    let (mount, ino) = cx.with(|k| {
        let (mi, name) = k.resolve(path).ok_or(Errno::ENOENT)?;
        let fs = k.mounts[mi as usize].fs;
        let ino = k.filesystems[fs].root.remove(name).ok_or(Errno::ENOENT)?;
        Ok::<_, Errno>((mi, ino))
    })?;
    let cx = Cx {
        mount: Some(mount),
        ..cx.clone()
    };
    let in_use = cx.with(|k| {
        if let Some(i) = k.inodes.get_mut(&ino) {
            i.unlinked = true;
        }
        k.files.values().any(|f| f.ino == ino) || k.mm.vmas.values().any(|v| v.ino == ino)
    });
    if !in_use {
        evict_inode(&cx, ino).await?;
    }
    Ok(())
}

/// `ext2_evict_inode`: drop the page cache and free the blocks.
pub async fn evict_inode(cx: &Cx, ino: u64) -> KResult<()> {
    cx.call("ext2_evict_inode", async {
        filemap::truncate_inode_pages(cx, ino, 0).await?;
        fs::truncate_blocks(cx, ino, 0).await?;
        cx.with(|k| k.inodes.remove(&ino));
        Ok(())
    })
    .await
}

impl crate::sched::ShowRet for Vec<u8> {
    fn show(&self) -> Option<crate::event::Ret> {
        Some(crate::event::Ret::Num(self.len() as u64))
    }
}
