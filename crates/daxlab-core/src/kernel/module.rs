//! `finit_module` (`kernel/module.c`): loading a module from a file. The file is read into a
//! `vmalloc`'d buffer (`copy_module_from_fd` → `kernel_read`), then its sections are copied
//! into memory from `module_alloc` (`move_module`) and the buffer is freed. From a DAX file the
//! read is `dax_do_io` straight into the buffer (no page-cache copy), but the module still
//! runs from RAM: "the kernel and modules are still copied into RAM".
//!
//! Simplified: the whole file is the module's allocated sections (no ELF parsing, no init
//! section freed after `init`).

use std::rc::Rc;

use crate::engine::cx::Cx;
use crate::engine::footprint::Obj;
use crate::engine::trace::{Space, SysResult};
use crate::errno::Errno;
use crate::kernel::{cpu, filemap, open, read_write, user};
use crate::state::mem::{FrameUse, Pfn, PAGE_SIZE};
use crate::state::Module;
use crate::timing;

/// The descriptor name the kernel's own open of the file uses (no scenario name can clash:
/// names are `[a-z][a-z0-9_]*`).
const FD: &str = "[module]";

fn alloc(cx: &Cx, n: u64, usage: FrameUse) -> Result<Vec<Pfn>, Errno> {
    let mut pages = Vec::new();
    for _ in 0..n {
        match cx.write(Obj::Ram, |m| m.mem.alloc_ram(usage)) {
            Ok(p) => pages.push(p),
            Err(e) => {
                for p in pages {
                    filemap::put_page(cx, p);
                }
                return Err(e);
            }
        }
    }
    Ok(pages)
}

/// `insmod PATH` → `finit_module(fd)`: returns the module's size.
pub async fn finit_module(cx: &Cx, path: &str) -> SysResult {
    open::with_file_open(cx, FD, path, cx.call("finit_module", load(cx, path))).await
}

async fn load(cx: &Cx, path: &str) -> SysResult {
    let ino = cx.read(Obj::Files, |m| {
        m.fd(cx.pid, FD).and_then(|f| m.file(f)).map(|f| f.ino)
    })?;
    let size = filemap::i_size(cx, ino)?;
    if size == 0 {
        return Err(Errno::ENOEXEC.into()); // elf_header_check
    }
    let npages = size.div_ceil(PAGE_SIZE);
    // copy_module_from_fd: info->hdr = vmalloc(stat.size); kernel_read until all is in.
    let hdr = cx
        .call("copy_module_from_fd", async {
            let hdr = alloc(cx, npages, FrameUse::Kernel)?;
            let base = user::map_kernel_buffer(cx, "[vmalloc]", &hdr);
            let mut pos = 0;
            let mut r = Ok(());
            while pos < size {
                match cx
                    .call(
                        "kernel_read",
                        read_write::sys_read(cx, FD, base + pos, pos, size - pos),
                    )
                    .await
                {
                    Ok(0) => break,
                    Ok(n) => pos += n,
                    Err(e) => {
                        r = Err(e);
                        break;
                    }
                }
            }
            user::unmap_kernel_buffer(cx);
            if let Err(e) = r {
                for p in hdr {
                    filemap::put_page(cx, p);
                }
                return Err(e.errno());
            }
            Ok(hdr)
        })
        .await?;
    // layout_and_allocate → move_module: module_alloc, memcpy of the sections.
    let module = cx.read(Obj::Global, |m| m.modules.len()) as u16;
    let core = cx
        .call("move_module", async {
            let core = alloc(cx, npages, FrameUse::Module { module })?;
            for (k, (src, dst)) in hdr.iter().zip(&core).enumerate() {
                let n = (size - k as u64 * PAGE_SIZE).min(PAGE_SIZE);
                cpu::copy(
                    cx,
                    "memcpy",
                    cpu::kernel(Space::Kernel, *src, 0),
                    cpu::kernel(Space::Kernel, *dst, 0),
                    n,
                    timing::ram_copy_ns(n),
                );
            }
            Ok::<_, Errno>(core)
        })
        .await;
    // free_copy: vfree(info->hdr).
    cx.call_sync("vfree", || {
        for p in &hdr {
            filemap::put_page(cx, *p);
        }
    });
    let core = core?;
    cx.with(|m| {
        m.modules.push(Module {
            path: Rc::from(path),
            size,
            pages: core,
        })
    });
    Ok(size)
}
