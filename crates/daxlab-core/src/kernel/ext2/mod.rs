//! ext2 (`fs/ext2`, Linux 4.0): `get_block`, the size change, eviction, and the operations
//! tables it installs.

pub mod inode;

use crate::state::ops::{
    AddressSpaceOps, DirectIo, Fault, FileOps, GetBlock, Mmap, PageMkwrite, VmOps,
};

/// `ext2_aops`, with `ext2_get_block` behind the generic helpers.
pub const AOPS: AddressSpaceOps = AddressSpaceOps {
    readpage: "ext2_readpage",
    writepage: "ext2_writepage",
    write_begin: "ext2_write_begin",
    direct_io: DirectIo::Ext2,
    get_block: GetBlock::Ext2,
};

/// `ext2_file_operations` (no DAX): `generic_file_mmap` with `generic_file_vm_ops`.
pub const FILE_OPS: FileOps = FileOps {
    write_iter: "generic_file_write_iter",
    mmap: Mmap {
        name: "generic_file_mmap",
        vm_ops: VmOps {
            fault: Fault::Filemap,
            page_mkwrite: PageMkwrite::Filemap,
            pfn_mkwrite: None,
            map_pages: true,
        },
        mixedmap: false,
    },
    fsync: "ext2_fsync",
    fallocate: None,
    splice_read: Some("generic_file_splice_read"),
    splice_write: Some("iter_file_splice_write"),
    setattr: "ext2_setattr",
    evict_inode: "ext2_evict_inode",
};

/// `ext2_dax_file_operations`: `ext2_file_mmap` sets `VM_MIXEDMAP` and `ext2_dax_vm_ops`; no
/// `splice_read` in 4.0.
pub const DAX_FILE_OPS: FileOps = FileOps {
    write_iter: "generic_file_write_iter",
    mmap: Mmap {
        name: "ext2_file_mmap",
        vm_ops: VmOps {
            fault: Fault::Ext2Dax,
            page_mkwrite: PageMkwrite::Ext2Dax,
            pfn_mkwrite: None,
            map_pages: false,
        },
        mixedmap: true,
    },
    fsync: "ext2_fsync",
    fallocate: None,
    splice_read: None,
    splice_write: None,
    setattr: "ext2_setattr",
    evict_inode: "ext2_evict_inode",
};
