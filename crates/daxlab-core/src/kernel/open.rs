//! Files and their lifetime: `open`, `close`, `unlink` (`fs/open.c`, `fs/namei.c`), the
//! reference counts that keep a `struct file` and its inode alive (`fdget`/`fdput`, `fput`,
//! `iput`), and eviction of an unlinked inode when its last user goes (`->evict_inode`).

use std::rc::Rc;

use crate::engine::cx::Cx;
use crate::engine::footprint::Obj;
use crate::engine::trace::SysResult;
use crate::errno::{Errno, KResult};
use crate::kernel::{ext2, ext4, truncate};
use crate::state::fs::{FsKind, Inode};
use crate::state::lock::LockName;
use crate::state::page_cache::AddressSpace;
use crate::state::{File, FileId, OpenFlags};

/// `fdget`: the open file behind descriptor `fd`, with a reference held for the system call
/// (threads share the descriptor table, so `__fget_light` takes one), so a concurrent `close`
/// cannot free it under the call.
pub fn fdget(cx: &Cx, fd: &str) -> KResult<(FileId, File)> {
    let f = cx.read(Obj::Fds(cx.pid), |m| m.fd(cx.pid, fd))?;
    cx.write(Obj::FileRef(f, cx.tid), |m| {
        let file = m.files[f.0 as usize].as_mut().ok_or(Errno::EBADF)?;
        file.count += 1;
        Ok((f, file.clone()))
    })
}

/// `fput`: drop a reference; the last one releases the file and `iput`s the inode.
pub async fn fput(cx: &Cx, f: FileId) -> KResult<()> {
    // Dropping a reference that is not the last commutes with other threads' references.
    let last_ref = cx.peek().m.file(f).is_ok_and(|file| file.count <= 1);
    let obj = if last_ref {
        Obj::Files
    } else {
        Obj::FileRef(f, cx.tid)
    };
    let last = cx.write(obj, |m| {
        let slot = m.files.get_mut(f.0 as usize)?;
        let file = slot.as_mut()?;
        file.count -= 1;
        if file.count > 0 {
            return None;
        }
        let ino = file.ino;
        *slot = None;
        Some(ino)
    });
    match last {
        Some(ino) => iput(cx, ino).await,
        None => Ok(()),
    }
}

/// `iput`: an unlinked inode nothing uses any more is evicted (`iput_final` → `evict`).
pub async fn iput(cx: &Cx, ino: u64) -> KResult<()> {
    let gone = cx.read(Obj::Files, |m| {
        m.inodes
            .get(&ino)
            .is_some_and(|i| i.nlink == 0 && !m.inode_in_use(ino))
    });
    if gone {
        evict(cx, ino).await?;
    }
    Ok(())
}

/// `evict` → `->evict_inode` (`ext2_evict_inode`, `ext4_evict_inode`): drop the page cache,
/// free the blocks (the inode is unlinked), free the inode.
pub async fn evict(cx: &Cx, ino: u64) -> KResult<()> {
    let (func, kind, mount) = cx.read(Obj::Inodes, |m| {
        m.inode(ino)
            .map(|i| (i.f_op.evict_inode, m.fs(i.fs).kind, m.mount_of_fs(i.fs)))
    })?;
    let cx = cx.on_mount(mount.or(cx.mount));
    let cx = &cx;
    cx.call(func, async {
        cx.call(
            "truncate_inode_pages_final",
            truncate::truncate_inode_pages(cx, ino, 0, u64::MAX),
        )
        .await?;
        truncate::i_size_write(cx, ino, 0)?;
        match kind {
            FsKind::Ext2 => ext2::inode::truncate_blocks(cx, ino, 0).await?,
            FsKind::Ext4 => ext4::inode::ext4_truncate(cx, ino).await?,
        }
        // ext2_free_inode
        cx.write(Obj::Inodes, |m| m.inodes.remove(&ino));
        Ok(())
    })
    .await
}

/// Set an inode up for the mount it is reached through: `S_DAX` from the mount option
/// (`ext2_set_inode_flags`) and the operations tables that go with it.
fn instantiate(i: &mut Inode, kind: FsKind, dax: bool, mount: crate::state::MountId) {
    i.s_dax = dax;
    i.mount = mount;
    let (aops, fops) = match (kind, dax) {
        (FsKind::Ext2, false) => (ext2::AOPS, ext2::FILE_OPS),
        (FsKind::Ext2, true) => (ext2::AOPS, ext2::DAX_FILE_OPS),
        (FsKind::Ext4, false) => (ext4::AOPS, ext4::FILE_OPS),
        (FsKind::Ext4, true) => (ext4::AOPS, ext4::DAX_FILE_OPS),
    };
    i.a_ops = aops;
    i.f_op = fops;
}

/// `open(path, flags)` as descriptor `fd`: look up or create the inode, then `O_TRUNC`.
pub async fn sys_open(cx: &Cx, fd: &str, path: &str, flags: OpenFlags) -> SysResult {
    let (mount, ino) = cx.write(Obj::Inodes, |m| {
        let (mi, name) = m.resolve(path).ok_or(Errno::ENOENT)?;
        if name.is_empty() || name.contains('/') {
            return Err(if name.is_empty() {
                Errno::EISDIR
            } else {
                Errno::ENOENT
            });
        }
        let mnt = m.mount(mi).clone();
        if mnt.opts.ro && !flags.rdonly {
            return Err(Errno::EROFS);
        }
        let kind = m.fs(mnt.fs).kind;
        let dax = mnt.opts.dax;
        let ino = match m.fs(mnt.fs).root.get(name) {
            Some(i) => *i,
            None if flags.create => {
                let ino = m.next_ino;
                m.next_ino += 1;
                let name: Rc<str> = Rc::from(name);
                m.fs_mut(mnt.fs).root.insert(name.clone(), ino);
                let mut i = Inode {
                    ino,
                    fs: mnt.fs,
                    name,
                    nlink: 1,
                    size: 0,
                    blocks: Default::default(),
                    s_dax: false,
                    dio_count: 0,
                    mapping: AddressSpace::default(),
                    a_ops: ext2::AOPS,
                    f_op: ext2::FILE_OPS,
                    mount: mi,
                };
                instantiate(&mut i, kind, dax, mi);
                m.inodes.insert(ino, i);
                ino
            }
            None => return Err(Errno::ENOENT),
        };
        if let Ok(i) = m.inode_mut(ino) {
            instantiate(i, kind, dax, mi);
        }
        // A new open file description, and the descriptor (replacing one of that name).
        let file = File {
            ino,
            mount: mi,
            flags,
            count: 1,
        };
        let id = match m.files.iter().position(Option::is_none) {
            Some(i) => {
                m.files[i] = Some(file);
                FileId(i as u32)
            }
            None => {
                m.files.push(Some(file));
                FileId(m.files.len() as u32 - 1)
            }
        };
        let old = m.process_mut(cx.pid).fds.insert(Rc::from(fd), id);
        Ok((mi, (ino, old)))
    })?;
    let (ino, old) = ino;
    let cx = cx.on_mount(Some(mount));
    if let Some(old) = old {
        fput(&cx, old).await?;
    }
    if flags.trunc && !flags.rdonly {
        crate::kernel::read_write::do_truncate(&cx, ino, 0).await?;
    }
    Ok(ino)
}

/// Run `f` with file `path` open read-only as descriptor `fd` of the calling process (what
/// `insmod` and `exec` do before `finit_module` and `do_execve` read it), closing it after.
pub async fn with_file_open<F: std::future::Future<Output = SysResult>>(
    cx: &Cx,
    fd: &'static str,
    path: &str,
    f: F,
) -> SysResult {
    sys_open(
        cx,
        fd,
        path,
        OpenFlags {
            rdonly: true,
            ..OpenFlags::default()
        },
    )
    .await?;
    let r = f.await;
    sys_close(cx, fd).await?;
    r
}

/// `close(fd)`: the descriptor goes; the file goes with its last reference.
pub async fn sys_close(cx: &Cx, fd: &str) -> SysResult {
    let f = cx.write(Obj::Files, |m| {
        m.process_mut(cx.pid).fds.remove(fd).ok_or(Errno::EBADF)
    })?;
    fput(cx, f).await?;
    Ok(0)
}

/// `unlink(path)`: remove the name; the inode goes when nothing has it open or mapped.
pub async fn sys_unlink(cx: &Cx, path: &str) -> SysResult {
    let (mount, ino) = cx.write(Obj::Inodes, |m| {
        let (mi, name) = m.resolve(path).ok_or(Errno::ENOENT)?;
        let fs = m.mount(mi).fs;
        let ino = m.fs_mut(fs).root.remove(name).ok_or(Errno::ENOENT)?;
        if let Ok(i) = m.inode_mut(ino) {
            i.nlink = 0;
        }
        Ok::<_, Errno>((mi, ino))
    })?;
    iput(&cx.on_mount(Some(mount)), ino).await?;
    Ok(0)
}

/// The lock that serialises a file's block allocation with truncation.
pub fn truncate_lock(kind: FsKind, ino: u64) -> LockName {
    match kind {
        FsKind::Ext2 => LockName::TruncateMutex { ino },
        FsKind::Ext4 => LockName::IDataSem { ino },
    }
}
