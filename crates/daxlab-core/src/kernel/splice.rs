//! `fs/splice.c` and `do_sendfile` (`fs/read_write.c`): file data moved through a pipe, whose
//! buffers hold `struct page` references (`struct pipe_buffer`).
//!
//! The document says sendfile and splice do not work on DAX. In 4.0's code they work, with a
//! copy: the DAX file tables have no `splice_read`/`splice_write`, so the VFS falls back to
//! `default_file_splice_read` (new pipe pages, filled by `kernel_readv` → `dax_do_io`) and
//! `default_file_splice_write` (`__kernel_write`). What really fails is pinning the pages of a
//! DAX *mapping*: `vmsplice` (and [`crate::kernel::umem`]).
//!
//! Simplified: the pipe is drained and closed at the end of each command (its pages released),
//! and the model's descriptors have no file position: `sendfile` appends to `FD_OUT`.

use crate::engine::cx::{Cx, Show};
use crate::engine::footprint::Obj;
use crate::engine::trace::{Shown, SysResult};
use crate::errno::KResult;
use crate::kernel::{filemap, gup, read_write, user};
use crate::state::mem::{FrameUse, Pfn, PAGE_SIZE};

/// `PIPE_DEF_BUFFERS`: a pipe's slots, one page each.
pub const PIPE_DEF_BUFFERS: u64 = 16;

/// A pipe's contents: pages it holds a reference to, with `len` bytes from `off` in the first.
#[derive(Debug, Default)]
struct Pipe {
    pages: Vec<Pfn>,
    off: u64,
    len: u64,
}

impl Show for Pipe {
    fn shown(&self) -> Option<Shown> {
        Some(Shown::Num(self.len))
    }
}

impl Pipe {
    /// The pipe is read and closed: `pipe_buf_release` drops every page reference.
    fn release(self, cx: &Cx) {
        for p in self.pages {
            filemap::put_page(cx, p);
        }
    }
}

/// The inode behind descriptor `fd` and its `splice_read` and `splice_write`.
fn splice_ops(cx: &Cx, fd: &str) -> KResult<(u64, Option<&'static str>, Option<&'static str>)> {
    let pid = cx.pid;
    let f = cx.read(Obj::Fds(pid), |m| m.fd(pid, fd))?;
    cx.read(Obj::Files, |m| {
        let i = m.inode(m.file(f)?.ino)?;
        Ok((i.ino, i.f_op.splice_read, i.f_op.splice_write))
    })
}

/// `do_splice_to`: up to `len` bytes (at most [`PIPE_DEF_BUFFERS`] pages) of file `fd` at
/// `pos` into a new pipe, through the file's `splice_read` or `default_file_splice_read`.
async fn splice_to(cx: &Cx, fd: &str, pos: u64, len: u64) -> KResult<Pipe> {
    let (ino, splice_read, _) = splice_ops(cx, fd)?;
    let off = pos % PAGE_SIZE;
    let len = len.min(PIPE_DEF_BUFFERS * PAGE_SIZE - off);
    match splice_read {
        Some(func) => {
            cx.call(func, generic_file_splice_read(cx, ino, pos, len))
                .await
        }
        None => {
            cx.call(
                "default_file_splice_read",
                default_file_splice_read(cx, fd, pos, len),
            )
            .await
        }
    }
}

/// `generic_file_splice_read` (`__generic_file_splice_read`): the page-cache pages themselves
/// go into the pipe, each with a reference, read in first if needed: no copy.
async fn generic_file_splice_read(cx: &Cx, ino: u64, pos: u64, len: u64) -> KResult<Pipe> {
    let size = filemap::i_size(cx, ino)?;
    let len = len.min(size.saturating_sub(pos));
    let mut pipe = Pipe {
        off: pos % PAGE_SIZE,
        ..Pipe::default()
    };
    if len == 0 {
        return Ok(pipe);
    }
    for index in pos / PAGE_SIZE..=(pos + len - 1) / PAGE_SIZE {
        match filemap::get_uptodate_page(cx, ino, index).await {
            Ok(pfn) => pipe.pages.push(pfn),
            Err(e) if pipe.pages.is_empty() => return Err(e),
            Err(_) => break,
        }
    }
    let end = (pipe.pages.len() as u64 * PAGE_SIZE).min(pipe.off + len);
    pipe.len = end - pipe.off;
    Ok(pipe)
}

/// `default_file_splice_read`: `alloc_page` per pipe slot, then `kernel_readv` of the file into
/// them under `set_fs(KERNEL_DS)`: the file's ordinary read path (for DAX, `dax_do_io`) copies
/// into the new pages. Pages the read did not reach are freed.
async fn default_file_splice_read(cx: &Cx, fd: &str, pos: u64, len: u64) -> KResult<Pipe> {
    let off = pos % PAGE_SIZE;
    let n = (off + len).div_ceil(PAGE_SIZE);
    let mut pipe = Pipe {
        off,
        ..Pipe::default()
    };
    for _ in 0..n {
        match cx.write(Obj::Ram, |m| m.mem.alloc_ram(FrameUse::Kernel)) {
            Ok(p) => pipe.pages.push(p),
            Err(e) => {
                pipe.release(cx);
                return Err(e);
            }
        }
    }
    let base = user::map_kernel_buffer(cx, "[pipe]", &pipe.pages);
    let r = cx
        .call(
            "kernel_readv",
            read_write::sys_read(cx, fd, base + off, pos, len),
        )
        .await;
    user::unmap_kernel_buffer(cx);
    match r {
        Ok(got) => {
            pipe.len = got;
            let used = (off + got).div_ceil(PAGE_SIZE) as usize;
            for p in pipe.pages.split_off(used) {
                filemap::put_page(cx, p);
            }
            Ok(pipe)
        }
        Err(e) => {
            pipe.release(cx);
            Err(e.errno())
        }
    }
}

/// `do_splice_from`: the pipe's bytes written to file `fd` at `pos`, through the file's
/// `splice_write` (`iter_file_splice_write` → `vfs_iter_write`) or `default_file_splice_write`
/// (`__kernel_write`); either way the file's write path copies out of the pipe's pages.
async fn splice_from(cx: &Cx, fd: &str, pipe: &Pipe, pos: u64) -> SysResult {
    let (_, _, splice_write) = splice_ops(cx, fd)?;
    if pipe.len == 0 {
        return Ok(0);
    }
    let func = splice_write.unwrap_or("default_file_splice_write");
    let base = user::map_kernel_buffer(cx, "[pipe]", &pipe.pages);
    let r = cx
        .call(
            func,
            read_write::sys_write(cx, fd, base + pipe.off, pos, pipe.len, false),
        )
        .await;
    user::unmap_kernel_buffer(cx);
    r
}

/// `splice(fd_in, &off, pipe, NULL, len, 0)`: file to pipe; the pipe is then drained.
pub async fn sys_splice(cx: &Cx, fd: &str, pos: u64, len: u64) -> SysResult {
    cx.call("sys_splice", async {
        let pipe = splice_to(cx, fd, pos, len).await?;
        let n = pipe.len;
        pipe.release(cx);
        Ok(n)
    })
    .await
}

/// `sendfile(out, in, &off, len)` → `do_splice_direct` → `splice_direct_to_actor`: a pipe's
/// worth at a time, `do_splice_to` from `in`, then `do_splice_from` to `out` (appended).
pub async fn sys_sendfile(cx: &Cx, out: &str, fd: &str, pos: u64, len: u64) -> SysResult {
    cx.call("do_sendfile", async {
        let (out_ino, _, _) = splice_ops(cx, out)?;
        let mut done = 0;
        while done < len {
            let pipe = splice_to(cx, fd, pos + done, len - done).await;
            let pipe = match pipe {
                Ok(p) => p,
                Err(e) if done == 0 => return Err(e.into()),
                Err(_) => break,
            };
            let n = pipe.len;
            let at = filemap::i_size(cx, out_ino)?;
            let w = splice_from(cx, out, &pipe, at).await;
            pipe.release(cx);
            match w {
                Ok(w) => done += w,
                Err(e) if done == 0 => return Err(e),
                Err(_) => break,
            }
            if n == 0 || w != Ok(n) {
                break; // end of file, or a short write
            }
        }
        Ok(done)
    })
    .await
}

/// `vmsplice(pipe, iov, 1, 0)` of user memory `[uva, uva+len)` (`vmsplice_to_pipe` →
/// `get_iovec_page_array`): the pages themselves go into the pipe, pinned by
/// `get_user_pages_fast`. A DAX page has no `struct page`: `-EFAULT` if it is the first page,
/// else the bytes of the pages before it.
pub async fn sys_vmsplice(cx: &Cx, uva: u64, len: u64) -> SysResult {
    cx.call("sys_vmsplice", async {
        let off = uva % PAGE_SIZE;
        let len = len.min(PIPE_DEF_BUFFERS * PAGE_SIZE - off);
        let pages = cx
            .call(
                "get_iovec_page_array",
                gup::get_user_pages_fast(cx, uva, len, false),
            )
            .await?;
        // The references GUP takes for the pipe buffers (the model's GUP takes none itself).
        for p in &pages {
            filemap::get_page(cx, *p);
        }
        let n = (pages.len() as u64 * PAGE_SIZE - off).min(len);
        Pipe { pages, off, len: n }.release(cx);
        Ok(n)
    })
    .await
}
