//! The kernel paths: `async` functions taking a [`crate::engine::cx::Cx`], one module per
//! kernel file (or family of files) they model, each function named as in Linux 4.0.

pub mod bio;
pub mod block_dev;
pub mod cacheflush;
pub mod cpu;
pub mod dax;
pub mod direct_io;
pub mod exec;
pub mod ext2;
pub mod ext4;
pub mod filemap;
pub mod gup;
pub mod memory;
pub mod mmap;
pub mod module;
pub mod mount;
pub mod open;
pub mod ops;
pub mod read_write;
pub mod resume;
pub mod splice;
pub mod truncate;
pub mod umem;
pub mod user;
pub mod writeback;
