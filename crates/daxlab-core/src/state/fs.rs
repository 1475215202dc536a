//! Filesystems' data: the superblock with its block allocator and root directory, inodes with
//! their block maps, the `buffer_head` that `get_block` fills in, mount options and mounts.
//!
//! Simplified: the on-disk metadata (superblock, bitmaps, inode table, block maps) is kept as
//! Rust structures, not serialised into device sectors; it is not file data and is not copied.
//! Data blocks start after the blocks ext2 reserves for metadata, so sectors line up with what a
//! real layout would use for data. Each filesystem has one flat root directory.

use std::collections::BTreeMap;
use std::rc::Rc;

use super::chunk_map::ChunkMap;
use super::ops::{AddressSpaceOps, FileOps};
use super::page_cache::AddressSpace;
use super::{DevId, FsId, MountId};
use crate::errno::{Errno, KResult};

/// Which filesystem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsKind {
    /// ext2: allocation zeroes blocks (DAX) before linking them, and reports them as new.
    Ext2,
    /// ext4: DAX writes inside `i_size` allocate unwritten extents, converted when the I/O ends.
    Ext4,
}

impl FsKind {
    /// Every filesystem with its name (in `mkfs` and `/proc/mounts`).
    pub const ALL: [(&'static str, FsKind); 2] = [("ext2", FsKind::Ext2), ("ext4", FsKind::Ext4)];

    /// The name in `/proc/mounts`.
    pub fn name(self) -> &'static str {
        match self {
            FsKind::Ext2 => "ext2",
            FsKind::Ext4 => "ext4",
        }
    }

    /// The prefix of the filesystem's kernel messages (`EXT2-fs`, `EXT4-fs`).
    pub fn tag(self) -> &'static str {
        match self {
            FsKind::Ext2 => "EXT2-fs",
            FsKind::Ext4 => "EXT4-fs",
        }
    }
}

/// The largest file (`s_maxbytes`). Simplified: 1 TiB for every filesystem of the model.
pub const MAX_FILE_SIZE: u64 = 1 << 40;

/// Blocks before the first data block (superblock, group descriptors, bitmaps, inode table).
pub const META_BLOCKS: u64 = 4;

/// A block of a file, as the block map records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extent {
    /// Filesystem block number.
    pub block: u64,
    /// An ext4 unwritten extent: allocated, reads as zeros.
    pub unwritten: bool,
}

/// A filesystem made by `mkfs` on a device.
#[derive(Debug, Clone)]
pub struct Filesystem {
    /// Its index in the machine.
    pub id: FsId,
    /// ext2 or ext4.
    pub kind: FsKind,
    /// The device it lives on.
    pub dev: DevId,
    /// Block size in bytes.
    pub block_size: u64,
    /// Total blocks.
    pub blocks: u64,
    /// Freed blocks below `high`, reused lowest first.
    freed: ChunkMap<()>,
    /// Every block from here up has never been allocated.
    high: u64,
    /// The root directory: name to inode number.
    pub root: BTreeMap<Rc<str>, u64>,
}

impl Filesystem {
    /// `mkfs`: an empty filesystem over `dev_size` bytes.
    pub fn mkfs(
        id: FsId,
        kind: FsKind,
        dev: DevId,
        dev_size: u64,
        block_size: u64,
    ) -> KResult<Self> {
        if !matches!(block_size, 1024 | 2048 | 4096) {
            return Err(Errno::EINVAL);
        }
        let blocks = dev_size / block_size;
        if blocks <= META_BLOCKS {
            return Err(Errno::ENOSPC);
        }
        Ok(Filesystem {
            id,
            kind,
            dev,
            block_size,
            blocks,
            freed: ChunkMap::new(),
            high: META_BLOCKS,
            root: BTreeMap::new(),
        })
    }

    /// Allocate up to `max` blocks that follow each other on the device (as `ext2_new_blocks`
    /// and `ext4_mb_new_blocks` try to): the first from [`Filesystem::alloc_block`], then each
    /// next one while it is free. Returns the first block and how many.
    pub fn alloc_blocks(&mut self, max: u64) -> KResult<(u64, u64)> {
        let first = self.alloc_block()?;
        let mut n = 1;
        while n < max {
            let b = first + n;
            if b == self.high && b < self.blocks {
                self.high += 1;
            } else if self.freed.remove(b).is_none() {
                break;
            }
            n += 1;
        }
        Ok((first, n))
    }

    /// The block allocator: the lowest free data block, or -ENOSPC.
    pub fn alloc_block(&mut self) -> KResult<u64> {
        if let Some(b) = self.freed.first_key() {
            self.freed.remove(b);
            return Ok(b);
        }
        if self.high < self.blocks {
            self.high += 1;
            return Ok(self.high - 1);
        }
        Err(Errno::ENOSPC)
    }

    /// Free a block.
    pub fn free_block(&mut self, b: u64) {
        if b >= META_BLOCKS && b < self.high {
            self.freed.insert(b, ());
        }
    }

    /// Whether data block `b` is allocated (the block bitmap).
    pub fn is_used(&self, b: u64) -> bool {
        b >= META_BLOCKS && b < self.high && !self.freed.contains_key(b)
    }

    /// Data blocks allocated.
    pub fn used_blocks(&self) -> u64 {
        self.high - META_BLOCKS - self.freed.len() as u64
    }
}

/// An inode (on-disk and in-core parts together).
#[derive(Debug, Clone)]
pub struct Inode {
    /// Inode number, unique across the machine (DAX Lab numbers inodes of all filesystems from
    /// one counter so that a number alone names an inode).
    pub ino: u64,
    /// Its filesystem.
    pub fs: FsId,
    /// Name in the root directory.
    pub name: Rc<str>,
    /// `i_nlink`: 0 once unlinked; the inode is evicted when nothing uses it any more.
    pub nlink: u32,
    /// `i_size`.
    pub size: u64,
    /// The block map: file block to extent; absent blocks are holes.
    pub blocks: ChunkMap<Extent>,
    /// `S_DAX` in `i_flags` (set by `ext2_set_inode_flags` when the mount has `dax`).
    pub s_dax: bool,
    /// `i_dio_count`: direct I/O in flight (truncate waits for it with `inode_dio_wait`).
    pub dio_count: u32,
    /// `i_mapping`: the page cache.
    pub mapping: AddressSpace,
    /// `i_mapping->a_ops`.
    pub a_ops: AddressSpaceOps,
    /// `i_fop`.
    pub f_op: FileOps,
    /// The mount it was last instantiated through.
    pub mount: MountId,
}

/// What `get_block` reports in the `buffer_head` (`BH_Mapped`, `BH_New`, `BH_Unwritten`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BufferHead {
    /// `b_blocknr` when mapped.
    pub block: Option<u64>,
    /// `b_size >> i_blkbits`: the blocks mapped from `b_blocknr` on, contiguous on the device;
    /// 0 when the filesystem did not set it (a hole: `buffer_size_valid` is false).
    pub blocks: u64,
    /// `BH_New`: freshly allocated by this call.
    pub new: bool,
    /// `BH_Unwritten`: allocated, reads as zeros until converted.
    pub unwritten: bool,
    /// `bh->b_end_io = ext4_end_io_unwritten`: set by `_ext4_get_block` for an unwritten
    /// extent of a DAX inode; `dax_insert_mapping` calls it to convert the extent.
    pub end_io_unwritten: bool,
}

impl BufferHead {
    /// A buffer mapping `blocks` blocks from `e` on.
    pub fn mapped_to(e: Extent, blocks: u64, new: bool) -> Self {
        BufferHead {
            block: Some(e.block),
            blocks,
            new,
            unwritten: e.unwritten,
            end_io_unwritten: false,
        }
    }
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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MountOptions {
    /// `-o dax` (or ext2's deprecated `xip`).
    pub dax: bool,
    /// `-o xip` was used (ext2 logs "use dax instead of xip").
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
#[derive(Debug, Clone)]
pub struct Mount {
    /// Mount point, e.g. `/mnt/pmem`.
    pub path: Rc<str>,
    /// The filesystem.
    pub fs: FsId,
    /// Options in effect.
    pub opts: MountOptions,
    /// Still mounted.
    pub active: bool,
}
