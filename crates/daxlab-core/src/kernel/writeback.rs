//! Writing dirty page-cache pages back, on request: `fsync(2)`, `sync(2)`, and
//! `echo 3 > /proc/sys/vm/drop_caches` (which the console runs after a `sync`).

use std::collections::BTreeSet;

use crate::engine::cx::Cx;
use crate::engine::footprint::Obj;
use crate::engine::trace::SysResult;
use crate::kernel::filemap::{self, WbScope, Writeback};
use crate::kernel::open;
use crate::state::lock::{LockMode, LockName};
use crate::state::mem::Pfn;
use crate::state::task::Tail;
use crate::state::MountId;

/// `fsync(fd)` → `->fsync` → `filemap_write_and_wait_range` over the whole file. A DAX file in
/// 4.0 has no dirty pages: its data is on the device already (and 4.0 flushes no CPU caches).
pub async fn sys_fsync(cx: &Cx, fd: &str) -> SysResult {
    let (f, file) = open::fdget(cx, fd)?;
    let cx = &cx.on_mount(Some(file.mount));
    let ino = file.ino;
    let fsync = cx.read(Obj::Inodes, |m| m.inode(ino).map(|i| i.f_op.fsync))?;
    cx.frame("sys_fsync", Tail::FdPut { file: f }, async {
        cx.frame(fsync, Tail::Pass, async {
            cx.frame(
                "filemap_write_and_wait_range",
                Tail::Pass,
                filemap::writeback(
                    cx,
                    Writeback::new(WbScope::Range {
                        ino,
                        first: 0,
                        last: u64::MAX,
                    }),
                ),
            )
            .await
        })
        .await
    })
    .await
}

/// `sync`: every dirty page of every file written to its device.
pub async fn sys_sync(cx: &Cx) -> SysResult {
    cx.frame(
        "sys_sync",
        Tail::Pass,
        filemap::writeback(cx, Writeback::new(WbScope::All)),
    )
    .await
}

/// `sync; echo 3 > /proc/sys/vm/drop_caches`: write back, then evict every clean page no process
/// maps (the eviction is the frame's tail, [`drop_clean_pages`]).
pub async fn drop_caches(cx: &Cx) -> SysResult {
    cx.frame("drop_caches", Tail::DropCaches, sys_sync(cx))
        .await
}

/// Every frame some process maps (`page_mapped`).
/// The frames some PTE of some process maps (`page_mapped`).
fn mapped_frames(cx: &Cx) -> BTreeSet<Pfn> {
    cx.read(Obj::Mms, |m| {
        m.processes
            .iter()
            .flat_map(|p| p.mm.ptes.iter().map(|(_, pte)| pte.pfn))
            .collect()
    })
}

/// `drop_pagecache_sb` → `invalidate_mapping_pages(mapping, 0, -1)` for every inode, one inode
/// per step: a page is skipped if `trylock_page` fails (another thread holds it), if it is dirty
/// or under writeback, or if it is mapped.
pub async fn drop_clean_pages(cx: &Cx) {
    let inos: Vec<(u64, Option<MountId>)> = cx.read(Obj::Inodes, |m| {
        m.inodes
            .values()
            .filter(|i| !i.mapping.pages.is_empty())
            .map(|i| (i.ino, m.mount_of_fs(i.fs)))
            .collect()
    });
    for (ino, mount) in inos {
        let cx = cx.on_mount(mount);
        invalidate_mapping_pages(&cx, ino, 0, u64::MAX).await;
        cx.yield_now().await;
    }
}

/// `invalidate_mapping_pages(mapping, first, last)`: evict the clean, unmapped, unlocked,
/// unreferenced pages of `[first, last]`. Whether a page is mapped is looked at during the
/// walk, which does not sleep (`page_mapped` under the page lock).
pub async fn invalidate_mapping_pages(cx: &Cx, ino: u64, first: u64, last: u64) {
    cx.call("invalidate_mapping_pages", async {
        invalidate_range(cx, ino, first, last, &mapped_frames(cx))
    })
    .await
}

fn invalidate_range(cx: &Cx, ino: u64, first: u64, last: u64, mapped: &BTreeSet<Pfn>) {
    let pages: Vec<(u64, crate::state::page_cache::Page)> = cx.read(Obj::Cache(ino), |m| {
        m.inode(ino)
            .map(|i| {
                i.mapping
                    .pages
                    .range(first..=last)
                    .map(|(x, p)| (x, *p))
                    .collect()
            })
            .unwrap_or_default()
    });
    for (index, p) in pages {
        let lock = LockName::PageLock { ino, index };
        if !cx.try_lock(lock, LockMode::Write) {
            continue;
        }
        // invalidate_inode_page: not dirty, not mapped, and (remove_mapping's
        // page_freeze_refs(page, 2)) no reference but the cache's: a reader's page stays.
        let held = cx.read(Obj::Frame(p.pfn), |m| m.mem.page_count(p.pfn)) > 1;
        if !p.dirty && !mapped.contains(&p.pfn) && !held {
            filemap::delete_from_page_cache(cx, ino, index, p.pfn);
        }
        // unlock_page, without ending the step (trylock never waited either).
        cx.write(Obj::Lock(lock), |m| m.locks.release(lock, cx.tid));
        cx.emit(crate::engine::trace::EventKind::Unlock { lock });
    }
}

/// `umount /PATH`: refused while files on it are open or mapped; otherwise its dirty pages are
/// written back (`sync_filesystem`) and, in the frame's tail, its pages dropped and the mount
/// detached.
pub async fn sys_umount(cx: &Cx, path: &str) -> SysResult {
    let (mount, fs, busy) = cx
        .read(Obj::Global, |m| {
            let mi = m.mounts.iter().position(|x| x.active && &*x.path == path)?;
            let fs = m.mounts[mi].fs;
            let busy = m
                .files
                .iter()
                .flatten()
                .any(|f| m.inodes.get(&f.ino).is_some_and(|i| i.fs == fs));
            Some((MountId(mi as u16), fs, busy))
        })
        .ok_or(crate::errno::Errno::EINVAL)?;
    if busy {
        return Err(crate::errno::Errno::EBUSY.into());
    }
    let cx = &cx.on_mount(Some(mount));
    cx.frame(
        "umount",
        Tail::Umount { mount },
        filemap::writeback(cx, Writeback::new(WbScope::Fs { fs })),
    )
    .await
}

/// The tail of `umount`: drop the filesystem's pages, detach the mount.
pub async fn umount_end(cx: &Cx, mount: MountId) {
    let fs = cx.read(Obj::Global, |m| m.mount(mount).fs);
    let inos: Vec<u64> = cx.read(Obj::Inodes, |m| {
        m.inodes
            .values()
            .filter(|i| i.fs == fs)
            .map(|i| i.ino)
            .collect()
    });
    for ino in inos {
        let _ = crate::kernel::truncate::truncate_inode_pages(cx, ino, 0, u64::MAX).await;
    }
    cx.with(|m| m.mounts[mount.0 as usize].active = false);
}
