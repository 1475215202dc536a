//! A process address space: VMAs and page-table entries.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::mem::{Pfn, PAGE_SIZE};

/// Where `mmap` places the first mapping.
pub const MMAP_BASE: u64 = 0x7f00_0000_0000;

/// A file mapping (`struct vm_area_struct`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Vma {
    /// The scenario's name for it.
    pub name: String,
    /// `vm_start`.
    pub start: u64,
    /// Length in bytes (whole pages).
    pub len: u64,
    /// The mapped inode.
    pub ino: u64,
    /// `vm_pgoff`: file page of `vm_start`.
    pub pgoff: u64,
    /// `VM_SHARED` (MAP_SHARED) or private (copy-on-write).
    pub shared: bool,
    /// `VM_WRITE`.
    pub writable: bool,
    /// `VM_MIXEDMAP`: set by the DAX mmap (`ext2_file_mmap`), pfns may lack a `struct page`.
    pub mixedmap: bool,
}

impl Vma {
    /// Whether `addr` is inside.
    pub fn contains(&self, addr: u64) -> bool {
        addr >= self.start && addr < self.start + self.len
    }
    /// The file page index that `addr` maps.
    pub fn pgoff_of(&self, addr: u64) -> u64 {
        self.pgoff + (addr - self.start) / PAGE_SIZE
    }
}

/// A page-table entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Pte {
    /// The frame.
    pub pfn: Pfn,
    /// Writable.
    pub writable: bool,
    /// `pte_special`: inserted by `vm_insert_mixed`/`insert_pfn`, no `struct page` refcount.
    pub special: bool,
    /// Maps a private anonymous copy (after copy-on-write).
    pub anon: bool,
}

/// The memory map of the process (`struct mm_struct`). Simplified: the scenario runs one
/// process, whose threads share this mm.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Mm {
    /// VMAs by start address.
    pub vmas: BTreeMap<u64, Vma>,
    /// PTEs by page-aligned user address.
    pub ptes: BTreeMap<u64, Pte>,
    /// Next free address for `mmap`.
    pub next: u64,
}

impl Mm {
    /// `find_vma` for an address inside a VMA.
    pub fn find_vma(&self, addr: u64) -> Option<&Vma> {
        self.vmas
            .range(..=addr)
            .next_back()
            .map(|(_, v)| v)
            .filter(|v| v.contains(addr))
    }
    /// A free range for a new mapping (with a guard page between mappings).
    pub fn get_unmapped_area(&mut self, len: u64) -> u64 {
        if self.next == 0 {
            self.next = MMAP_BASE;
        }
        let a = self.next;
        self.next += len + PAGE_SIZE;
        a
    }
}
