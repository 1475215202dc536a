//! The kernel era. Every rule that a later kernel changed is decided here and nowhere else, so a
//! modern-kernel mode can switch them.
//!
//! Rules the model consults today: [`Era::has_pfn_mkwrite`]. The later changes a modern mode
//! will add here, each at the one place in the paths that decides it: the shared zero page for
//! holes (`dax_load_hole`, ~4.14), per-index DAX entry locks (`do_dax_fault`, 4.7), ext2's
//! `dax_sem` (`ext2_dax_fault`/`ext2_setsize`, ~4.4), dirty tracking so `fsync` flushes DAX
//! data (`dax_writeback_mapping_range`, 4.5), ext4's pre-zeroed DAX allocation instead of
//! unwritten extents (`ext4_get_block`, ~4.5), `struct page` for DAX pfns (`get_user_pages`,
//! 4.5), and per-file DAX with `dax=always|never|inode` (5.8).

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
    /// The name shown in views.
    pub fn label(self) -> &'static str {
        "Linux 4.0 (as the document describes)"
    }
}
