//! `mm/mmap.c`: `mmap` and `munmap`, each under `mmap_sem` for write, so they wait for a page
//! fault in progress in the same process.

use std::rc::Rc;

use crate::engine::cx::Cx;
use crate::engine::footprint::{Access, Obj};
use crate::engine::trace::{EventKind, PteOp, SysResult};
use crate::errno::Errno;
use crate::kernel::open;
use crate::state::fs::MAX_FILE_SIZE;
use crate::state::lock::{LockMode, LockName};
use crate::state::mem::PAGE_SIZE;
use crate::state::mm::{Vma, VmaKind};

/// `mmap(NULL, len, prot, flags, fd, offset)` named `name` (`vm_mmap_pgoff` → `mmap_region`:
/// `vm_file = get_file(file)`, then `file->f_op->mmap`: `VM_MIXEDMAP` and the DAX `vm_ops`
/// for an `S_DAX` inode). Returns the start address.
pub async fn sys_mmap(
    cx: &Cx,
    name: &str,
    fd: &str,
    offset: u64,
    len: u64,
    shared: bool,
    writable: bool,
) -> SysResult {
    let (f, file) = open::fdget(cx, fd)?;
    let cx = &cx.on_mount(Some(file.mount));
    let r = async {
        if !offset.is_multiple_of(PAGE_SIZE) || len == 0 {
            return Err(Errno::EINVAL.into());
        }
        if offset.saturating_add(len) > MAX_FILE_SIZE {
            return Err(Errno::ENOMEM.into()); // no room for such a mapping in the model
        }
        if shared && writable && file.flags.rdonly {
            return Err(Errno::EACCES.into());
        }
        let fop = cx.read(Obj::Inodes, |m| m.inode(file.ino).map(|i| i.f_op))?;
        let sem = LockName::MmapSem { pid: cx.pid };
        cx.lock(sem, LockMode::Write).await;
        let pid = cx.pid;
        let align = cx.config().arch.shm_align_mask();
        let r = cx
            .call(fop.mmap.name, async {
                cx.touching(
                    &[
                        Access {
                            obj: Obj::Mm(pid),
                            write: true,
                        },
                        // vm_file = get_file(file): one more reference, as fdget's.
                        Access {
                            obj: Obj::FileRef(f, cx.tid),
                            write: true,
                        },
                    ],
                    |m| {
                        if m.process(pid).mm.vma_named(name).is_some() {
                            return Err(Errno::EEXIST);
                        }
                        let plen = len.next_multiple_of(PAGE_SIZE);
                        // arch_get_unmapped_area: shared mappings keep the colour of the file offset
                        // where the data cache aliases (COLOUR_ALIGN on MIPS and SPARC).
                        let (mask, colour) = if shared { (align, offset) } else { (0, 0) };
                        let mm = &mut m.process_mut(pid).mm;
                        let start = mm.get_unmapped_area(plen, mask, colour);
                        mm.vmas.insert(
                            start,
                            Vma {
                                name: Rc::from(name),
                                start,
                                len: plen,
                                kind: VmaKind::File {
                                    ino: file.ino,
                                    file: f,
                                    ops: fop.mmap.vm_ops,
                                },
                                pgoff: offset / PAGE_SIZE,
                                shared,
                                writable,
                                mixedmap: fop.mmap.mixedmap,
                            },
                        );
                        // vma->vm_file = get_file(file)
                        if let Some(Some(file)) = m.files.get_mut(f.0 as usize) {
                            file.count += 1;
                        }
                        Ok(start)
                    },
                )
            })
            .await;
        cx.unlock(sem).await;
        Ok(r?)
    }
    .await;
    open::fput(cx, f).await?;
    r
}

/// `munmap`: under `mmap_sem` for write, remove the VMA and its PTEs (anonymous COW pages are
/// freed); then `remove_vma` drops its `vm_file` reference, which may evict an unlinked inode.
pub async fn sys_munmap(cx: &Cx, name: &str) -> SysResult {
    let pid = cx.pid;
    let sem = LockName::MmapSem { pid };
    cx.lock(sem, LockMode::Write).await;
    let r = cx
        .call("do_munmap", async {
            let vma = cx
                .read(Obj::Mm(pid), |m| m.process(pid).mm.vma_named(name).cloned())
                .ok_or(Errno::EINVAL)?;
            let VmaKind::File { file, .. } = vma.kind else {
                return Err(Errno::EINVAL);
            };
            let gone = cx.write(Obj::Mm(pid), |m| {
                let mm = &mut m.process_mut(pid).mm;
                mm.vmas.remove(&vma.start);
                let g: Vec<_> = mm.ptes_in(vma.start, vma.len).collect();
                for (a, _) in &g {
                    mm.clear_pte(*a);
                }
                for (_, p) in &g {
                    if p.anon {
                        m.mem.put_page(p.pfn);
                    }
                }
                g
            });
            if gone.iter().any(|(_, p)| p.anon) {
                cx.write(Obj::Ram, |_| ());
            }
            for (a, p) in gone {
                crate::kernel::cacheflush::flush_cache_page(cx, a, p.pfn);
                cx.emit(EventKind::Pte {
                    pid,
                    op: PteOp::Remove,
                    vaddr: a,
                    pfn: p.pfn,
                    writable: p.writable,
                    special: p.special,
                });
            }
            Ok(file)
        })
        .await;
    cx.unlock(sem).await;
    let file = r?;
    open::fput(cx, file).await?;
    Ok(0)
}
