//! ext4 as the 4.0 DAX paths use it (`fs/ext4`): `_ext4_get_block` in its flavours, direct
//! I/O routing (`ext4_direct_IO`), the size change (`ext4_setattr`, `ext4_truncate`), hole
//! punching, and the operations tables it installs.

pub mod inode;

use crate::state::ops::{
    AddressSpaceOps, DirectIo, Fault, FileOps, GetBlock, Mmap, PageMkwrite, VmOps,
};

/// `ext4_aops` (ordered data mode), with `ext4_get_block` behind the generic helpers.
pub const AOPS: AddressSpaceOps = AddressSpaceOps {
    readpage: "ext4_readpage",
    writepage: "ext4_writepage",
    write_begin: "ext4_write_begin",
    direct_io: DirectIo::Ext4,
    get_block: GetBlock::Ext4,
};

/// `ext4_file_operations`: `ext4_file_mmap` with `ext4_file_vm_ops` (`filemap_fault`,
/// `ext4_page_mkwrite`).
pub const FILE_OPS: FileOps = FileOps {
    write_iter: "ext4_file_write_iter",
    mmap: Mmap {
        name: "ext4_file_mmap",
        vm_ops: VmOps {
            fault: Fault::Filemap,
            page_mkwrite: PageMkwrite::Ext4,
            pfn_mkwrite: None,
            map_pages: true,
        },
        mixedmap: false,
    },
    fsync: "ext4_sync_file",
    fallocate: Some("ext4_fallocate"),
    splice_read: Some("generic_file_splice_read"),
    splice_write: Some("iter_file_splice_write"),
    setattr: "ext4_setattr",
    evict_inode: "ext4_evict_inode",
};

/// `ext4_dax_file_operations`: `ext4_file_mmap` sets `VM_MIXEDMAP` and `ext4_dax_vm_ops`;
/// "Splice not yet supported with DAX".
pub const DAX_FILE_OPS: FileOps = FileOps {
    write_iter: "ext4_file_write_iter",
    mmap: Mmap {
        name: "ext4_file_mmap",
        vm_ops: VmOps {
            fault: Fault::Ext4Dax,
            page_mkwrite: PageMkwrite::Ext4Dax,
            pfn_mkwrite: None,
            map_pages: false,
        },
        mixedmap: true,
    },
    fsync: "ext4_sync_file",
    fallocate: Some("ext4_fallocate"),
    splice_read: None,
    splice_write: None,
    setattr: "ext4_setattr",
    evict_inode: "ext4_evict_inode",
};
