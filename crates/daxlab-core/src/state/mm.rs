//! A process address space: VMAs and page-table entries.

use std::collections::BTreeMap;
use std::rc::Rc;

use super::chunk_map::ChunkMap;
use super::mem::{Pfn, PAGE_SHIFT, PAGE_SIZE};
use super::ops::VmOps;
use super::FileId;

/// Where `mmap` places the first mapping.
pub const MMAP_BASE: u64 = 0x7f00_0000_0000;

/// What a VMA maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VmaKind {
    /// A file (`vm_file`), through the file's `vm_ops`.
    File {
        /// The mapped inode.
        ino: u64,
        /// The `struct file` the mapping holds a reference to.
        file: FileId,
        /// `vm_ops`.
        ops: VmOps,
    },
    /// The program's I/O buffer: anonymous memory, populated up front.
    Buffer,
    /// Kernel pages a kernel caller hands to the read and write paths under
    /// `set_fs(KERNEL_DS)` (a pipe's pages, `load_module`'s buffer): the user-copy routines
    /// reach them by their kernel address. For the length of one command.
    Kernel,
}

/// A mapping (`struct vm_area_struct`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vma {
    /// The scenario's name for it.
    pub name: Rc<str>,
    /// `vm_start`.
    pub start: u64,
    /// Length in bytes (whole pages).
    pub len: u64,
    /// What it maps.
    pub kind: VmaKind,
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
        addr >= self.start && addr - self.start < self.len
    }
    /// The file page index that `addr` maps.
    pub fn pgoff_of(&self, addr: u64) -> u64 {
        self.pgoff + (addr - self.start) / PAGE_SIZE
    }
    /// The user address of file page `pgoff`, if the VMA maps it.
    pub fn addr_of(&self, pgoff: u64) -> Option<u64> {
        let i = pgoff.checked_sub(self.pgoff)?;
        (i < self.len / PAGE_SIZE).then(|| self.start + i * PAGE_SIZE)
    }
    /// The mapped inode, for a file mapping.
    pub fn ino(&self) -> Option<u64> {
        match self.kind {
            VmaKind::File { ino, .. } => Some(ino),
            VmaKind::Buffer | VmaKind::Kernel => None,
        }
    }
}

/// A page-table entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pte {
    /// The frame.
    pub pfn: Pfn,
    /// Writable.
    pub writable: bool,
    /// `pte_special`: inserted by `vm_insert_mixed`/`insert_pfn`, no `struct page` refcount.
    pub special: bool,
    /// Maps a private anonymous page (after copy-on-write, or the program's buffer).
    pub anon: bool,
}

/// The memory map of a process (`struct mm_struct`).
#[derive(Debug, Clone, Default)]
pub struct Mm {
    /// VMAs by start address.
    pub vmas: BTreeMap<u64, Vma>,
    /// PTEs by virtual page number (`addr >> PAGE_SHIFT`).
    pub ptes: ChunkMap<Pte>,
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
    /// The VMA the scenario calls `name`.
    pub fn vma_named(&self, name: &str) -> Option<&Vma> {
        self.vmas.values().find(|v| &*v.name == name)
    }
    /// The PTE mapping `addr`.
    pub fn pte(&self, addr: u64) -> Option<Pte> {
        self.ptes.get(addr >> PAGE_SHIFT).copied()
    }
    /// Set the PTE of `addr`.
    pub fn set_pte(&mut self, addr: u64, pte: Pte) {
        self.ptes.insert(addr >> PAGE_SHIFT, pte);
    }
    /// Clear the PTE of `addr`, returning it.
    pub fn clear_pte(&mut self, addr: u64) -> Option<Pte> {
        self.ptes.remove(addr >> PAGE_SHIFT)
    }
    /// PTEs in `[start, start+len)`: (page address, pte).
    pub fn ptes_in(&self, start: u64, len: u64) -> impl Iterator<Item = (u64, Pte)> + '_ {
        let first = start >> PAGE_SHIFT;
        let last = (start + len).div_ceil(PAGE_SIZE);
        self.ptes
            .range(first..last)
            .map(|(v, p)| (v << PAGE_SHIFT, *p))
    }
    /// A free range for a new mapping of `len` bytes whose start has the colour bits
    /// `colour & align_mask` (MIPS and SPARC align shared mappings to `SHMLBA`), with a guard
    /// page between mappings.
    pub fn get_unmapped_area(&mut self, len: u64, align_mask: u64, colour: u64) -> u64 {
        if self.next == 0 {
            self.next = MMAP_BASE;
        }
        let mut a = self.next;
        if align_mask != 0 {
            a = ((a + align_mask) & !align_mask) + (colour & align_mask);
        }
        self.next = a + len + PAGE_SIZE;
        a
    }
}
