//! Running one command: the language's words turned into the kernel's system calls, and their
//! results into [`Outcome`]s.

use crate::engine::cx::Cx;
use crate::engine::footprint::Obj;
use crate::engine::trace::{Fail, SysResult};
use crate::errno::Errno;
use crate::kernel::resume::{self, Resume};
use crate::kernel::{block_dev, mmap, mount, open, read_write, user, writeback};
use crate::lang::command::{BlockKind, Command};
use crate::lang::outcome::{FileBlock, Outcome, Value};

fn done(r: SysResult, value: impl FnOnce(u64) -> Value) -> Outcome {
    match r {
        Ok(n) => Outcome::ok(value(n)),
        Err(f) => Outcome::failed(f),
    }
}

fn refused(r: Result<(), mount::Refusal>) -> Outcome {
    match r {
        Ok(()) => Outcome::default(),
        Err(r) => Outcome {
            fail: Some(Fail::Errno(r.errno)),
            message: Some(r.message),
            value: Value::None,
        },
    }
}

/// The outcome of a command that ran a system call returning `r` (the same on the normal
/// path and when resumed from a checkpoint).
pub fn outcome_of(cx: &Cx, cmd: &Command, r: SysResult) -> Outcome {
    match cmd {
        Command::Read { .. } => done(r, |n| Value::Bytes(user::buffer_bytes(cx, n))),
        Command::Load { .. } => {
            let bytes = cx
                .world()
                .loaded
                .get_mut(cx.tid.0 as usize)
                .and_then(Option::take);
            done(r, |_| Value::Bytes(bytes.unwrap_or_default()))
        }
        Command::Write { .. } | Command::Store { .. } | Command::OdirectFromMap { .. } => {
            done(r, Value::Num)
        }
        Command::Open { .. } => done(r, Value::Ino),
        Command::Mmap { .. } => done(r, Value::Addr),
        _ => done(r, |_| Value::None),
    }
}

/// Continue a command parked at a capture point.
pub async fn resume_cmd(cx: Cx, cmd: Command, r: Resume) -> Outcome {
    let res = resume::resume(&cx, r).await;
    outcome_of(&cx, &cmd, res)
}

/// The user address `off` bytes into mapping `map`, for `len` bytes.
fn map_addr(cx: &Cx, map: &str, off: u64, len: u64) -> Result<u64, Errno> {
    let start = cx
        .read(Obj::Mm(cx.pid), |m| {
            m.process(cx.pid).mm.vma_named(map).map(|v| v.start)
        })
        .ok_or(Errno::EINVAL)?;
    // Past the top of the address space there is nothing to reach.
    start
        .checked_add(off)
        .filter(|a| a.checked_add(len).is_some())
        .ok_or(Errno::EFAULT)
}

/// Run one command in a thread.
pub async fn run_cmd(cx: Cx, cmd: Command) -> Outcome {
    let cx = &cx;
    let r: SysResult = match &cmd {
        Command::Kernel => return Outcome::default(),
        Command::Arch { arch, pretend } => {
            cx.with(|m| {
                m.config.arch = *arch;
                m.config.pretend_fs_dax = *pretend;
            });
            return Outcome::default();
        }
        Command::Locking(l) => {
            cx.with(|m| m.config.locking = *l);
            return Outcome::default();
        }
        Command::Device {
            name,
            kind,
            size,
            pretend,
        } => return refused(mount::add_device(cx, name, *kind, *size, *pretend)),
        Command::DirectAccess { dev, sector, size } => {
            let Some(d) = cx.read(Obj::Global, |m| m.device_named(dev)) else {
                return Outcome::failed(Errno::ENODEV);
            };
            return match block_dev::bdev_direct_access(cx, d, *sector, *size).await {
                Ok(da) => Outcome::ok(Value::Mapped(da)),
                Err(e) => Outcome::failed(e),
            };
        }
        Command::Mkfs { kind, dev, bs } => return refused(mount::mkfs(cx, *kind, dev, *bs)),
        Command::Mount { dev, path, opts } => {
            return match mount::mount(cx, dev, path, opts) {
                Ok(said) => Outcome {
                    message: (!said.is_empty()).then(|| said.join("\n").into()),
                    ..Outcome::default()
                },
                Err(r) => refused(Err(r)),
            }
        }
        Command::Umount { path } => writeback::sys_umount(cx, path).await,
        Command::ProcMounts => {
            let text = cx.read(Obj::Global, mount::proc_mounts);
            return Outcome::ok(Value::Text(text.into()));
        }
        Command::Open { fd, path, flags } => open::sys_open(cx, fd, path, *flags).await,
        Command::Close { fd } => open::sys_close(cx, fd).await,
        Command::Unlink { path } => open::sys_unlink(cx, path).await,
        Command::Read { fd, off, len } => match user::ensure_buffer(cx, *len) {
            Ok(buf) => read_write::sys_read(cx, fd, buf, *off, *len).await,
            Err(e) => Err(e.into()),
        },
        Command::Write { fd, off, data } => match user::ensure_buffer(cx, data.len()) {
            Ok(buf) => {
                user::fill_buffer(cx, data);
                read_write::sys_write(cx, fd, buf, *off, data.len(), false).await
            }
            Err(e) => Err(e.into()),
        },
        Command::Truncate { fd, size } => read_write::sys_ftruncate(cx, fd, *size).await,
        Command::Punch { fd, off, len } => read_write::sys_punch(cx, fd, *off, *len).await,
        Command::Fsync { fd } => writeback::sys_fsync(cx, fd).await,
        Command::Blocks { fd, only } => {
            let r = cx.read(Obj::Global, |m| {
                let f = m.file(m.fd(cx.pid, fd)?)?;
                let i = m.inode(f.ino)?;
                let bs = m.fs(i.fs).block_size;
                let blocks: Vec<FileBlock> = i
                    .blocks
                    .iter()
                    .map(|(iblock, e)| FileBlock {
                        iblock,
                        block: e.block,
                        unwritten: e.unwritten,
                    })
                    .filter(|b| match only {
                        BlockKind::All => true,
                        BlockKind::Unwritten => b.unwritten,
                        BlockKind::PastEof => b.iblock * bs >= i.size,
                    })
                    .collect();
                let past_eof = blocks
                    .iter()
                    .map(|b| b.iblock)
                    .filter(|b| b * bs >= i.size)
                    .collect();
                Ok::<_, Errno>(Value::Blocks { blocks, past_eof })
            });
            return match r {
                Ok(v) => Outcome::ok(v),
                Err(e) => Outcome::failed(e),
            };
        }
        Command::DropCaches => writeback::drop_caches(cx).await,
        Command::Sync => writeback::sys_sync(cx).await,
        Command::Mmap {
            map,
            fd,
            off,
            len,
            shared,
            writable,
        } => mmap::sys_mmap(cx, map, fd, *off, *len, *shared, *writable).await,
        Command::Munmap { map } => mmap::sys_munmap(cx, map).await,
        Command::Load { map, off, len } => match map_addr(cx, map, *off, *len) {
            Ok(a) => user::user_access(cx, user::UserAccess::new(a, *len, None)).await,
            Err(e) => Err(e.into()),
        },
        Command::Store { map, off, data } => match map_addr(cx, map, *off, data.len()) {
            Ok(a) => {
                user::user_access(cx, user::UserAccess::new(a, data.len(), Some(data.clone())))
                    .await
            }
            Err(e) => Err(e.into()),
        },
        Command::OdirectFromMap {
            fd,
            off,
            map,
            moff,
            len,
        } => match map_addr(cx, map, *moff, *len) {
            Ok(a) => read_write::sys_write(cx, fd, a, *off, *len, true).await,
            Err(e) => Err(e.into()),
        },
        Command::Sendfile { .. } | Command::Splice { .. } => {
            return Outcome {
                fail: Some(Fail::Errno(Errno::ENOSYS)),
                message: Some("sendfile and splice are not simulated yet".into()),
                value: Value::None,
            }
        }
        Command::Expect { .. } | Command::ExpectCounter { .. } | Command::ExpectViolation(_) => {
            return Outcome::default()
        }
    };
    outcome_of(cx, &cmd, r)
}
