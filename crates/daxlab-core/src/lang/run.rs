//! Running one command: the language's words turned into the kernel's system calls, and their
//! results into [`Outcome`]s.

use crate::engine::cx::Cx;
use crate::engine::footprint::Obj;
use crate::engine::trace::{Fail, SysResult};
use crate::errno::Errno;
use crate::kernel::resume::{self, Resume};
use std::rc::Rc;

use crate::kernel::{
    block_dev, cacheflush, exec, mmap, module, mount, open, read_write, splice, umem, user,
    writeback,
};
use crate::lang::command::{BlockKind, Command};
use crate::lang::outcome::{CachedLine, FileBlock, Outcome, Value};
use crate::state::mem::{Pfn, PAGE_OFFSET, PAGE_SIZE};

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
        Command::Mmap { .. } | Command::Exec { .. } => done(r, Value::Addr),
        Command::Sendfile { .. }
        | Command::Splice { .. }
        | Command::Vmsplice { .. }
        | Command::RdmaReg { .. }
        | Command::Insmod { .. } => done(r, Value::Num),
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

/// Whether `sendfile`/`splice` from `fd` takes 4.0's fallback (a file without `splice_read`:
/// a DAX file).
fn splice_falls_back(cx: &Cx, fd: &str) -> bool {
    cx.read(Obj::Files, |m| {
        m.fd(cx.pid, fd)
            .and_then(|f| m.file(f))
            .and_then(|f| m.inode(f.ino))
            .is_ok_and(|i| i.f_op.splice_read.is_none())
    })
}

/// Where the document and 4.0's code disagree, the outcome says both.
fn with_claim(mut o: Outcome, dax: bool) -> Outcome {
    if dax && o.is_ok() {
        o.message = Some(
            "dax.txt: sendfile() and splice() do not work on DAX. 4.0's code: the DAX file \
             operations have no splice_read, so do_splice_to falls back to \
             default_file_splice_read, which copies the file into new pipe pages (dax_do_io): \
             it works, with a copy, and no page of the device is ever in the pipe"
                .into(),
        );
    }
    o
}

/// `cache [MAP OFFSET LEN]`: the lines holding the frames mapped there, or every line.
fn cache_lines(cx: &Cx, range: Option<&(Rc<str>, u64, u64)>) -> Outcome {
    let pfns = match range {
        None => None,
        Some((map, off, len)) => {
            let a = match map_addr(cx, map, *off, *len) {
                Ok(a) => a,
                Err(e) => return Outcome::failed(e),
            };
            let pfns: Vec<Pfn> = cx.read(Obj::Mm(cx.pid), |m| {
                let mm = &m.process(cx.pid).mm;
                (a - a % PAGE_SIZE..a + (*len).max(1))
                    .step_by(PAGE_SIZE as usize)
                    .filter_map(|p| mm.pte(p).map(|e| e.pfn))
                    .collect()
            });
            Some(pfns)
        }
    };
    cx.read(Obj::DCache, |m| {
        let Some(c) = &m.dcache else {
            return Outcome {
                message: Some(
                    "x86_64: physically indexed caches hold one line per physical address: no aliases, nothing to show"
                        .into(),
                ),
                ..Outcome::ok(Value::Cache(Vec::new()))
            };
        };
        let frames: Vec<Pfn> = match &pfns {
            Some(p) => p.clone(),
            None => {
                let mut all: Vec<Pfn> = c.lines().map(|(_, _, l)| l.pfn).collect();
                all.sort();
                all.dedup();
                all
            }
        };
        let lines = frames
            .iter()
            .flat_map(|pfn| c.lines_of(&m.mem, *pfn))
            .map(|(set, way, l, stale)| CachedLine {
                set,
                way,
                vaddr: l.vaddr,
                kernel: l.vaddr >= PAGE_OFFSET,
                colour: c.geo.colour_of(l.vaddr),
                pfn: l.pfn,
                off: l.off,
                dirty: l.dirty,
                stale,
            })
            .collect();
        Outcome::ok(Value::Cache(lines))
    })
}

/// Run one command in a thread.
pub async fn run_cmd(cx: Cx, cmd: Command) -> Outcome {
    // Paths whose futures are large (a read or write's, a module load's or an exec's kept
    // buffers) are boxed: this future is as large as its largest inline arm, and every
    // command moves it into its box, the races' stores included.
    let cx = &cx;
    let r: SysResult = match &cmd {
        Command::Kernel => return Outcome::default(),
        Command::Arch { arch, pretend } => {
            cx.with(|m| {
                m.config.arch = *arch;
                m.config.pretend_fs_dax = *pretend;
                m.dcache = arch.dcache().map(crate::state::dcache::DCache::new);
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
            Ok(buf) => Box::pin(read_write::sys_read(cx, fd, buf, *off, *len)).await,
            Err(e) => Err(e.into()),
        },
        Command::Write { fd, off, data } => match user::ensure_buffer(cx, data.len()) {
            Ok(buf) => {
                user::fill_buffer(cx, data);
                Box::pin(read_write::sys_write(cx, fd, buf, *off, data.len(), false)).await
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
            Ok(a) => Box::pin(read_write::sys_write(cx, fd, a, *off, *len, true)).await,
            Err(e) => Err(e.into()),
        },
        Command::Sendfile { out, fd, off, len } => {
            let dax = splice_falls_back(cx, fd);
            let r = Box::pin(splice::sys_sendfile(cx, out, fd, *off, *len)).await;
            return with_claim(outcome_of(cx, &cmd, r), dax);
        }
        Command::Splice { fd, off, len } => {
            let dax = splice_falls_back(cx, fd);
            let r = Box::pin(splice::sys_splice(cx, fd, *off, *len)).await;
            return with_claim(outcome_of(cx, &cmd, r), dax);
        }
        Command::Vmsplice { map, off, len } => match map_addr(cx, map, *off, *len) {
            Ok(a) => splice::sys_vmsplice(cx, a, *len).await,
            Err(e) => Err(e.into()),
        },
        Command::RdmaReg { map, off, len } => match map_addr(cx, map, *off, *len) {
            Ok(a) => umem::ibv_reg_mr(cx, a, *len).await,
            Err(e) => Err(e.into()),
        },
        Command::Insmod { path } => Box::pin(module::finit_module(cx, path)).await,
        Command::Exec { path } => Box::pin(exec::do_execve(cx, path)).await,
        Command::Cache { range } => return cache_lines(cx, range.as_ref()),
        Command::FlushDcachePage { map, off } => {
            let pte = match map_addr(cx, map, *off, 1) {
                Ok(a) => cx.read(Obj::Pte(cx.pid, a - a % PAGE_SIZE), |m| {
                    m.process(cx.pid).mm.pte(a)
                }),
                Err(e) => return Outcome::failed(e),
            };
            let Some(pte) = pte else {
                return Outcome {
                    message: Some("nothing is mapped there yet: load or store it first".into()),
                    ..Outcome::failed(Errno::EFAULT)
                };
            };
            if cx.config().arch.dcache().is_none() {
                return Outcome {
                    message: Some(
                        "x86_64: flush_dcache_page is empty (its caches do not alias)".into(),
                    ),
                    ..Outcome::default()
                };
            }
            cacheflush::flush_dcache_page(cx, pte.pfn);
            Ok(0)
        }
        Command::Expect { .. } | Command::ExpectCounter { .. } | Command::ExpectViolation(_) => {
            return Outcome::default()
        }
    };
    outcome_of(cx, &cmd, r)
}
