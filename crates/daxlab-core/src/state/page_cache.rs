//! The page cache: one `address_space` per inode, holding `struct page`s with their flags.

use super::chunk_map::ChunkMap;
use super::mem::Pfn;

/// A page-cache page (`struct page` in `mapping->page_tree`). `PG_locked` is in the lock table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// The RAM frame.
    pub pfn: Pfn,
    /// `PG_uptodate`.
    pub uptodate: bool,
    /// `PG_dirty`.
    pub dirty: bool,
    /// A 4.0 DAX "hole page": a zeroed page mapped read-only for a read fault on a hole.
    pub hole: bool,
}

/// An inode's page cache (`struct address_space`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AddressSpace {
    /// Pages by index (`page->index`).
    pub pages: ChunkMap<Page>,
}

impl AddressSpace {
    /// `find_get_page`.
    pub fn find_get_page(&self, index: u64) -> Option<Page> {
        self.pages.get(index).copied()
    }
    /// Indices of dirty pages in `[first, last]` (the `PAGECACHE_TAG_DIRTY` walk of writeback).
    pub fn dirty_in(&self, first: u64, last: u64) -> impl Iterator<Item = u64> + '_ {
        self.pages
            .range(first..=last)
            .filter(|(_, p)| p.dirty)
            .map(|(i, _)| i)
    }
}
