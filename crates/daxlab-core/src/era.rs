//! The kernel era. Every rule that a later kernel changed is decided here and nowhere else, so a
//! modern-kernel mode can switch them.

use serde::Serialize;

/// Which kernel the simulator behaves as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Era {
    /// Linux 4.0, as `Documentation/filesystems/dax.txt` describes it.
    #[default]
    Linux4_0,
}

impl Era {
    /// 4.1 added `vm_ops->pfn_mkwrite` (`dax_pfn_mkwrite`); in 4.0 a write to a read-only DAX
    /// PTE is made writable by `do_wp_page` without calling the filesystem.
    pub fn has_pfn_mkwrite(self) -> bool {
        false
    }
    /// ~4.14 maps the shared zero page for holes; 4.0 allocates a zeroed page-cache "hole page".
    pub fn hole_uses_zero_pfn(self) -> bool {
        false
    }
    /// 4.7 added per-index DAX entry locks that serialise faults on one page.
    pub fn has_dax_entry_locks(self) -> bool {
        false
    }
    /// ext2 gained `dax_sem` (~4.4) to fence faults against truncate.
    pub fn has_ext2_dax_sem(self) -> bool {
        false
    }
    /// 4.5 added dirty tracking so `fsync`/`msync` flush DAX data; 4.0 `fsync` does nothing for
    /// DAX data (it is on the device already, and CPU caches are not flushed).
    pub fn dax_fsync_flushes(self) -> bool {
        false
    }
    /// ext4 pre-zeroes blocks allocated for DAX I/O (~4.5) instead of unwritten extents.
    pub fn ext4_prezeroes_dax_blocks(self) -> bool {
        false
    }
    /// The name shown in views.
    pub fn label(self) -> &'static str {
        "Linux 4.0 (as the document describes)"
    }
}
