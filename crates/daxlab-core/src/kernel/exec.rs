//! `execve` of a program on a filesystem (`do_execve` → `prepare_binprm` →
//! `load_elf_binary`, `fs/exec.c`, `fs/binfmt_elf.c`): the first 128 bytes are read
//! (`kernel_read` into `bprm->buf`), then the text is mapped `MAP_PRIVATE` (`elf_map` →
//! `vm_mmap`) and runs from the mapping. On DAX the instruction fetches fault through
//! `dax_fault` and the program runs from the device's frames: no copy, no page-cache page;
//! the page cache reads it in first.
//!
//! Simplified: the whole file is one `PT_LOAD` segment of text at offset 0; the text is
//! mapped into the calling process as mapping `text` (nothing of the process is replaced)
//! and running it fetches each of its pages once.

use crate::engine::cx::Cx;
use crate::engine::footprint::Obj;
use crate::engine::trace::SysResult;
use crate::errno::Errno;
use crate::kernel::{filemap, mmap, open, read_write, user};
use crate::state::mem::FrameUse;

/// The descriptor name of the kernel's own open of the program.
const FD: &str = "[exec]";
/// The mapping the text is mapped as.
pub const TEXT: &str = "text";
/// `BINPRM_BUF_SIZE`.
const BINPRM_BUF_SIZE: u64 = 128;

/// `exec PATH`: returns the address of the text.
pub async fn do_execve(cx: &Cx, path: &str) -> SysResult {
    open::with_file_open(cx, FD, path, cx.call("do_execve", run(cx))).await
}

async fn run(cx: &Cx) -> SysResult {
    let ino = cx.read(Obj::Files, |m| {
        m.fd(cx.pid, FD).and_then(|f| m.file(f)).map(|f| f.ino)
    })?;
    let size = filemap::i_size(cx, ino)?;
    if size == 0 {
        return Err(Errno::ENOEXEC.into());
    }
    // prepare_binprm: kernel_read(file, 0, bprm->buf, BINPRM_BUF_SIZE).
    let buf = cx.write(Obj::Ram, |m| m.mem.alloc_ram(FrameUse::Kernel))?;
    let base = user::map_kernel_buffer(cx, "[bprm]", &[buf]);
    let r = cx
        .call(
            "prepare_binprm",
            cx.call(
                "kernel_read",
                read_write::sys_read(cx, FD, base, 0, BINPRM_BUF_SIZE.min(size)),
            ),
        )
        .await;
    user::unmap_kernel_buffer(cx);
    filemap::put_page(cx, buf);
    r?;
    // load_elf_binary → elf_map → vm_mmap(MAP_PRIVATE | MAP_DENYWRITE | MAP_EXECUTABLE).
    let text = cx
        .call(
            "load_elf_binary",
            mmap::sys_mmap(cx, TEXT, FD, 0, size, false, false),
        )
        .await?;
    // start_thread: the program runs, fetching its instructions.
    user::user_access(cx, user::UserAccess::new(text, size, None)).await?;
    Ok(text)
}
