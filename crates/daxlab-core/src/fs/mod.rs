//! Filesystems: an ext2-like and an ext4-like filesystem behind `get_block`, with `mkfs`, mount
//! options and the 4.0 DAX mount checks.
//!
//! Simplified: the on-disk metadata (superblock, bitmaps, inode table, block maps) is kept as
//! Rust structures, not serialised into device sectors; it is not file data and is not copied.
//! Data blocks start after the blocks ext2 reserves for metadata, so sectors line up with what a
//! real layout would use for data. Each filesystem has one flat root directory.

pub mod ext2;
pub mod ext4;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::errno::{Errno, KResult};
use crate::page_cache::AddressSpace;

/// Which filesystem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FsKind {
    /// ext2: allocation zeroes blocks (DAX) before linking them, and reports them as new.
    Ext2,
    /// ext4: DAX writes allocate unwritten extents, converted when the I/O ends.
    Ext4,
}

impl FsKind {
    /// The name in `/proc/mounts`.
    pub fn name(self) -> &'static str {
        match self {
            FsKind::Ext2 => "ext2",
            FsKind::Ext4 => "ext4",
        }
    }
}

/// The largest file (`s_maxbytes`). Simplified: 1 TiB for every filesystem of the model.
pub const MAX_FILE_SIZE: u64 = 1 << 40;

/// Blocks before the first data block (superblock, group descriptors, bitmaps, inode table).
pub const META_BLOCKS: u64 = 4;

/// A block of a file, as the block map records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Extent {
    /// Filesystem block number.
    pub block: u64,
    /// An ext4 unwritten extent: allocated, reads as zeros.
    pub unwritten: bool,
}

/// A filesystem made by `mkfs` on a device.
#[derive(Debug, Clone, Serialize)]
pub struct Filesystem {
    /// ext2 or ext4.
    pub kind: FsKind,
    /// Index of the device in the kernel's device list.
    pub dev: usize,
    /// Block size in bytes.
    pub block_size: u64,
    /// Total blocks.
    pub blocks: u64,
    /// Allocated data blocks (the block bitmap).
    pub used: BTreeSet<u64>,
    /// Freed blocks below `high`, reused lowest first.
    freed: BTreeSet<u64>,
    /// Every block from here up has never been allocated.
    high: u64,
    /// The root directory: name to inode number.
    pub root: BTreeMap<String, u64>,
}

impl Filesystem {
    /// `mkfs`: an empty filesystem over `dev_size` bytes.
    pub fn mkfs(kind: FsKind, dev: usize, dev_size: u64, block_size: u64) -> KResult<Self> {
        if !matches!(block_size, 1024 | 2048 | 4096) {
            return Err(Errno::EINVAL);
        }
        let blocks = dev_size / block_size;
        if blocks <= META_BLOCKS {
            return Err(Errno::ENOSPC);
        }
        Ok(Filesystem {
            kind,
            dev,
            block_size,
            blocks,
            used: BTreeSet::new(),
            freed: BTreeSet::new(),
            high: META_BLOCKS,
            root: BTreeMap::new(),
        })
    }

    /// The block allocator: the lowest free data block, or -ENOSPC.
    pub fn alloc_block(&mut self) -> KResult<u64> {
        let b = match self.freed.pop_first() {
            Some(b) => b,
            None if self.high < self.blocks => {
                self.high += 1;
                self.high - 1
            }
            None => return Err(Errno::ENOSPC),
        };
        self.used.insert(b);
        Ok(b)
    }

    /// Free a block.
    pub fn free_block(&mut self, b: u64) {
        if self.used.remove(&b) {
            self.freed.insert(b);
        }
    }
}

/// An inode (on-disk and in-core parts together).
#[derive(Debug, Clone, Serialize)]
pub struct Inode {
    /// Inode number, unique across the machine (DAX Lab numbers inodes of all filesystems from
    /// one counter so that a number alone names an inode).
    pub ino: u64,
    /// Index of its filesystem.
    pub fs: usize,
    /// Name in the root directory.
    pub name: String,
    /// `i_size`.
    pub size: u64,
    /// The block map: file block to extent; absent blocks are holes.
    pub blocks: BTreeMap<u64, Extent>,
    /// `S_DAX` in `i_flags` (set by `ext2_set_inode_flags` when the mount has `dax`).
    pub s_dax: bool,
    /// `i_dio_count`: direct I/O in flight (truncate waits for it with `inode_dio_wait`).
    pub dio_count: u32,
    /// `i_mapping`: the page cache.
    pub mapping: AddressSpace,
    /// Unlinked but still open or mapped.
    pub unlinked: bool,
}

/// What `get_block` reports in the `buffer_head` (`BH_Mapped`, `BH_New`, `BH_Unwritten`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BufferHead {
    /// `b_blocknr` when mapped.
    pub block: Option<u64>,
    /// `BH_New`: freshly allocated by this call.
    pub new: bool,
    /// `BH_Unwritten`: allocated, reads as zeros until converted.
    pub unwritten: bool,
}

impl BufferHead {
    /// `buffer_mapped`.
    pub fn mapped(&self) -> bool {
        self.block.is_some()
    }
    /// `buffer_written` of `fs/dax.c`: mapped and not unwritten.
    pub fn written(&self) -> bool {
        self.mapped() && !self.unwritten
    }
    /// A hole for `do_dax_fault`: neither mapped nor unwritten.
    pub fn hole(&self) -> bool {
        !self.mapped()
    }
}

/// Mount options understood by ext2/ext4 (4.0).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MountOptions {
    /// `-o dax` (or the deprecated `xip`).
    pub dax: bool,
    /// `-o xip` was used (logs "use dax instead of xip").
    pub xip: bool,
    /// `-o ro`.
    pub ro: bool,
}

impl MountOptions {
    /// Parse a comma-separated option string. Unknown options are refused as the kernel does.
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut o = MountOptions::default();
        for opt in s.split(',').filter(|w| !w.is_empty()) {
            match opt {
                "dax" => o.dax = true,
                "xip" => {
                    o.dax = true;
                    o.xip = true
                }
                "ro" => o.ro = true,
                "rw" | "defaults" => o.ro = false,
                other => return Err(other.to_string()),
            }
        }
        Ok(o)
    }
}

/// A mounted filesystem.
#[derive(Debug, Clone, Serialize)]
pub struct Mount {
    /// Mount point, e.g. `/mnt/pmem`.
    pub path: String,
    /// Index of the filesystem.
    pub fs: usize,
    /// Options in effect.
    pub opts: MountOptions,
    /// Still mounted.
    pub active: bool,
}

/// What the caller of `get_block` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Create {
    /// Look up only (`create == 0`).
    No,
    /// Allocate a hole (`create == 1`).
    Yes,
    /// Allocate for direct I/O: ext4's `ext4_get_block_write` allocates an unwritten extent,
    /// converted by `ext4_end_io_dio` when the I/O ends. ext2 treats it as [`Create::Yes`].
    ForDio,
}

/// The filesystem's `get_block(inode, iblock, bh, create)` callback.
pub async fn get_block(
    cx: &crate::sched::Cx,
    ino: u64,
    iblock: u64,
    create: Create,
) -> KResult<BufferHead> {
    let kind = cx.with(|k| k.fs_of(ino).map(|f| f.kind))?;
    // Another thread may run between the caller's decision and the block lookup.
    cx.yield_now().await;
    let r = match kind {
        FsKind::Ext2 => {
            cx.call("ext2_get_block", ext2::get_blocks(cx, ino, iblock, create))
                .await
        }
        FsKind::Ext4 => {
            cx.call("ext4_get_block", ext4::get_block(cx, ino, iblock, create))
                .await
        }
    };
    cx.yield_now().await;
    r
}

/// Free the blocks of a file at and after `size` (`__ext2_truncate_blocks`, `ext4_truncate`).
pub async fn truncate_blocks(cx: &crate::sched::Cx, ino: u64, size: u64) -> KResult<()> {
    let (kind, bs) = cx.with(|k| k.fs_of(ino).map(|f| (f.kind, f.block_size)))?;
    let lock = match kind {
        FsKind::Ext2 => crate::event::LockName::TruncateMutex { ino },
        FsKind::Ext4 => crate::event::LockName::IDataSem { ino },
    };
    let func = match kind {
        FsKind::Ext2 => "__ext2_truncate_blocks",
        FsKind::Ext4 => "ext4_truncate",
    };
    cx.call(func, async {
        cx.lock(lock, crate::event::LockMode::Write).await;
        let first = size.div_ceil(bs);
        let freed: Vec<(u64, u64)> = cx.with(|k| {
            let inode = k.inode_mut(ino)?;
            let gone: Vec<(u64, u64)> = inode
                .blocks
                .range(first..)
                .map(|(i, e)| (*i, e.block))
                .collect();
            for (i, _) in &gone {
                inode.blocks.remove(i);
            }
            let fs = inode.fs;
            for (_, b) in &gone {
                k.filesystems[fs].free_block(*b);
            }
            Ok::<_, Errno>(gone)
        })?;
        for (iblock, block) in freed {
            cx.emit(crate::event::EventKind::BlockFree { ino, iblock, block });
        }
        cx.unlock(lock).await;
        Ok(())
    })
    .await
}

impl crate::sched::ShowRet for BufferHead {
    /// ftrace shows 0; DAX Lab shows the buffer state, which is what a learner needs.
    fn show(&self) -> Option<crate::event::Ret> {
        Some(match self.block {
            None => crate::event::Ret::Hole,
            Some(block) => crate::event::Ret::Block {
                block,
                new: self.new,
                unwritten: self.unwritten,
            },
        })
    }
}
