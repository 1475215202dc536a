//! Resuming a command from a checkpoint. A long loop (a `dax_io`, a page-cache read or write,
//! a program's loads and stores, writeback, direct I/O) parks at each capture point with its
//! state as plain data ([`Resume`]); every kernel function above it on the thread's stack has
//! its remaining work as data too ([`Tail`]). Running the loop from that state and then each
//! tail, innermost first, is exactly what the parked thread would have done.

use crate::engine::cx::Cx;
use crate::engine::footprint::Obj;
use crate::engine::trace::SysResult;
use crate::kernel::direct_io::{self, BlockdevDio};
use crate::kernel::filemap::{self, FileRead, PerformWrite, Writeback};
use crate::kernel::user::{self, UserAccess};
use crate::kernel::{dax, ext4, open, read_write, writeback};
use crate::state::lock::LockName;
use crate::state::task::{Frame, Tail};

/// A loop parked at a capture point.
#[derive(Debug, Clone, PartialEq)]
pub enum Resume {
    /// `dax_io`.
    DaxIo(dax::DaxIo),
    /// `do_generic_file_read`.
    FileRead(FileRead),
    /// `generic_perform_write`.
    PerformWrite(PerformWrite),
    /// A program's loads or stores through a mapping.
    UserAccess(UserAccess),
    /// A writeback walk.
    Writeback(Writeback),
    /// `do_direct_IO`.
    BlockdevDio(BlockdevDio),
}

impl Resume {
    /// Run the loop on from its state.
    async fn run(self, cx: &Cx) -> SysResult {
        match self {
            Resume::DaxIo(s) => dax::dax_io(cx, s).await,
            Resume::FileRead(s) => filemap::file_read(cx, s).await,
            Resume::PerformWrite(s) => filemap::perform_write(cx, s).await,
            Resume::UserAccess(s) => user::user_access(cx, s).await,
            Resume::Writeback(s) => filemap::writeback(cx, s).await,
            Resume::BlockdevDio(s) => direct_io::do_direct_io(cx, s).await,
        }
    }
}

/// Continue a parked thread: the loop, then the tails of the frames above it.
pub async fn resume(cx: &Cx, r: Resume) -> SysResult {
    let top = || cx.peek().m.tasks[cx.tid.0 as usize].stack.last().cloned();
    let mount = top().and_then(|f| f.mount);
    let mut res = r.run(&cx.on_mount(mount)).await;
    loop {
        match top() {
            Some(Frame {
                func,
                tail: Some(t),
                mount,
            }) => res = cx.on_mount(mount).finish_frame(func, t, res).await,
            _ => return res,
        }
    }
}

/// What a frame does after its callee returned `r` (used on the normal path and when resumed).
pub async fn run_tail(cx: &Cx, tail: Tail, r: SysResult) -> SysResult {
    match tail {
        Tail::Pass => r,
        Tail::FdPut { file } => {
            let _ = open::fput(cx, file).await;
            r
        }
        Tail::DioDone { ino, read } => {
            if read {
                cx.unlock(LockName::IMutex { ino }).await;
            }
            dio_done(cx, ino);
            r
        }
        Tail::Ext4ExtDio { ino, pos } => {
            if let Ok(n) = r {
                if n > 0 {
                    // "if (ret > 0 && !overwrite && ext4_test_inode_state(inode,
                    // EXT4_STATE_DIO_UNWRITTEN))": convert what was written.
                    let _ = ext4::inode::convert_unwritten(cx, ino, pos, n).await;
                }
            }
            dio_done(cx, ino);
            r
        }
        Tail::UnlockIMutex { ino } => {
            cx.unlock(LockName::IMutex { ino }).await;
            r
        }
        Tail::DirectWrite { ino, pos, len } => {
            read_write::direct_write_end(cx, ino, pos, len, r).await
        }
        Tail::WriteFallback {
            ino,
            ubuf,
            pos,
            len,
        } => read_write::write_fallback(cx, ino, ubuf, pos, len, r).await,
        Tail::WriteFailed { ino, end, ext4 } => {
            if r.is_err() {
                let _ = read_write::write_failed(cx, ino, end, ext4).await;
            }
            r
        }
        Tail::DropCaches => {
            writeback::drop_clean_pages(cx).await;
            r
        }
        Tail::Umount { mount } => {
            writeback::umount_end(cx, mount).await;
            r
        }
    }
}

/// `inode_dio_done`.
fn dio_done(cx: &Cx, ino: u64) {
    cx.write(Obj::DioCount(ino), |m| {
        if let Ok(i) = m.inode_mut(ino) {
            i.dio_count = i.dio_count.saturating_sub(1);
        }
    });
}
