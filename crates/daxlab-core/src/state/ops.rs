//! The operations tables, as the kernel has them: chosen when an inode or a mapping is set up,
//! and called through by the generic code, so a trace names the filesystem's own functions
//! (`ext4_direct_IO`, not `ext2_direct_IO`) and a later kernel can plug in its own.
//!
//! Each entry is an enum naming one implementation (a function pointer as data, so the machine
//! stays a plain value); `crate::kernel::ops` dispatches on it.

/// A `get_block_t` callback (`fs/ext2/inode.c`, `fs/ext4/inode.c`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetBlock {
    /// `ext2_get_block`: allocation zeroes the block (DAX) before splicing it, then sets BH_New.
    Ext2,
    /// `ext4_get_block`: allocates written extents, BH_New, no zeroing.
    Ext4,
    /// `ext4_get_block_write`: allocates unwritten extents (direct I/O inside `i_size`).
    Ext4Write,
    /// ext4 after "ext4: implement allocation of pre-zeroed blocks" (~4.5): DAX allocations
    /// are zeroed and written before the block is returned (`EXT4_GET_BLOCKS_ZERO`).
    Ext4Prezeroed,
}

impl GetBlock {
    /// The kernel function.
    pub fn name(self) -> &'static str {
        match self {
            GetBlock::Ext2 => "ext2_get_block",
            GetBlock::Ext4 => "ext4_get_block",
            GetBlock::Ext4Write => "ext4_get_block_write",
            GetBlock::Ext4Prezeroed => "ext4_dax_get_block",
        }
    }
}

/// `struct address_space_operations` (with the `get_block` its helpers are given).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressSpaceOps {
    /// `->readpage` (`ext2_readpage` → `mpage_readpage(page, ext2_get_block)`).
    pub readpage: &'static str,
    /// `->writepage` (`ext2_writepage` → `block_write_full_page(page, ext2_get_block, wbc)`).
    pub writepage: &'static str,
    /// `->write_begin` (`ext2_write_begin` → `block_write_begin`).
    pub write_begin: &'static str,
    /// `->direct_IO`.
    pub direct_io: DirectIo,
    /// The `get_block` the helpers above are passed.
    pub get_block: GetBlock,
}

/// `->direct_IO`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectIo {
    /// `ext2_direct_IO`: `dax_do_io(..., ext2_get_block, NULL, DIO_LOCKING)` for DAX, else
    /// `blockdev_direct_IO(..., ext2_get_block)`.
    Ext2,
    /// `ext4_direct_IO` → `ext4_ext_direct_IO`: writes inside `i_size` allocate unwritten
    /// extents (`ext4_get_block_write`, `ext4_end_io_dio`); the rest use `ext4_get_block`.
    Ext4,
}

impl DirectIo {
    /// The kernel function.
    pub fn name(self) -> &'static str {
        match self {
            DirectIo::Ext2 => "ext2_direct_IO",
            DirectIo::Ext4 => "ext4_direct_IO",
        }
    }
}

/// `struct file_operations`, the parts the model calls through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileOps {
    /// `->write_iter` (`generic_file_write_iter`, `ext4_file_write_iter`).
    pub write_iter: &'static str,
    /// `->mmap`.
    pub mmap: Mmap,
    /// `->fsync` (`generic_file_fsync`, `ext4_sync_file`).
    pub fsync: &'static str,
    /// `->fallocate` (ext4 only in 4.0; ext2 has none: `-EOPNOTSUPP`).
    pub fallocate: Option<&'static str>,
    /// `->splice_read`: 4.0's DAX tables have none ("Splice not yet supported with DAX").
    pub splice_read: Option<&'static str>,
    /// `->splice_write` (`iter_file_splice_write`; none in 4.0's DAX tables).
    pub splice_write: Option<&'static str>,
    /// `->setattr` of the inode operations (`ext2_setattr`, `ext4_setattr`).
    pub setattr: &'static str,
    /// `->evict_inode` of the super operations.
    pub evict_inode: &'static str,
}

/// `->mmap`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mmap {
    /// The kernel function (`ext2_file_mmap`, `ext4_file_mmap`, `generic_file_mmap`).
    pub name: &'static str,
    /// The `vm_ops` it installs.
    pub vm_ops: VmOps,
    /// It sets `VM_MIXEDMAP` (the DAX mmaps do).
    pub mixedmap: bool,
}

/// `struct vm_operations_struct`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VmOps {
    /// `->fault`.
    pub fault: Fault,
    /// `->page_mkwrite`.
    pub page_mkwrite: PageMkwrite,
    /// `->pfn_mkwrite` (added in 4.1; `None` in 4.0).
    pub pfn_mkwrite: Option<&'static str>,
    /// `->map_pages` is `filemap_map_pages`: a read fault first maps the cached, up-to-date
    /// pages around it ("fault-around"). DAX vm_ops have none.
    pub map_pages: bool,
}

/// `->fault`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// `filemap_fault`: the page cache.
    Filemap,
    /// `ext2_dax_fault` → `dax_fault(vma, vmf, ext2_get_block)`.
    Ext2Dax,
    /// `ext4_dax_fault` → `dax_fault(vma, vmf, ext4_get_block_write)`.
    Ext4Dax,
}

impl Fault {
    /// The kernel function.
    pub fn name(self) -> &'static str {
        match self {
            Fault::Filemap => "filemap_fault",
            Fault::Ext2Dax => "ext2_dax_fault",
            Fault::Ext4Dax => "ext4_dax_fault",
        }
    }
}

/// `->page_mkwrite`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageMkwrite {
    /// `filemap_page_mkwrite` (ext2 without DAX).
    Filemap,
    /// `ext4_page_mkwrite` (ext4 without DAX: allocates blocks under the page).
    Ext4,
    /// `ext2_dax_mkwrite` → `dax_mkwrite` (a macro for `dax_fault` in 4.0).
    Ext2Dax,
    /// `ext4_dax_mkwrite` → `dax_mkwrite`.
    Ext4Dax,
}

impl PageMkwrite {
    /// The kernel function.
    pub fn name(self) -> &'static str {
        match self {
            PageMkwrite::Filemap => "filemap_page_mkwrite",
            PageMkwrite::Ext4 => "ext4_page_mkwrite",
            PageMkwrite::Ext2Dax => "ext2_dax_mkwrite",
            PageMkwrite::Ext4Dax => "ext4_dax_mkwrite",
        }
    }
}
