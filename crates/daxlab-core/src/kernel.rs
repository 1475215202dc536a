//! The simulated machine's whole state, with one owner. Kernel paths reach it through
//! [`crate::sched::Cx`]; views read it through [`crate::sim::Sim`].

use std::collections::BTreeMap;

use crate::block_dev::BlockDevice;
use crate::era::Era;
use crate::errno::{Errno, KResult};
use crate::event::{Event, ThreadId};
use crate::fs::{Filesystem, Inode, Mount};
use crate::lock::LockTable;
use crate::mem::PhysMem;
use crate::mm::Mm;

/// The CPU architecture (its cache model and whether 4.0 builds `CONFIG_FS_DAX`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    /// x86-64: physically indexed caches; DAX available.
    #[default]
    X86_64,
    /// ARMv5: VIVT data cache.
    Armv5,
    /// MIPS R4000: virtually indexed, aliasing.
    MipsR4k,
    /// SPARC64: virtually indexed, aliasing.
    Sparc64,
}

impl Arch {
    /// Console words.
    pub const ALL: [(&'static str, Arch); 4] = [
        ("x86_64", Arch::X86_64),
        ("armv5", Arch::Armv5),
        ("mips-r4k", Arch::MipsR4k),
        ("sparc64", Arch::Sparc64),
    ];
    /// 4.0 `fs/Kconfig`: `config FS_DAX ... depends on !(ARM || MIPS || SPARC)`.
    pub fn config_fs_dax(self) -> bool {
        self == Arch::X86_64
    }
}

/// An open file (`struct file`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct OpenFile {
    /// The inode.
    pub ino: u64,
    /// The mount it was opened through.
    pub mount: u16,
    /// `O_DIRECT`.
    pub direct: bool,
    /// Opened read-only.
    pub rdonly: bool,
}

/// What a blocked thread waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blocker {
    /// A lock in a mode.
    Lock(crate::event::LockName, crate::event::LockMode),
    /// `inode_dio_wait`: `i_dio_count` of the inode to reach zero.
    DioCount(u64),
}

/// The machine.
#[derive(Debug)]
pub struct Kernel {
    /// Kernel era.
    pub era: Era,
    /// Architecture.
    pub arch: Arch,
    /// Physical memory.
    pub mem: PhysMem,
    /// Block devices.
    pub devices: Vec<BlockDevice>,
    /// Filesystems (by mkfs, one per device at most).
    pub filesystems: Vec<Filesystem>,
    /// Mounts, in mount order; unmounted ones stay (inactive) so events keep their index.
    pub mounts: Vec<Mount>,
    /// Every inode, by number.
    pub inodes: BTreeMap<u64, Inode>,
    /// Next inode number (ext2's first non-reserved inode is 12).
    pub next_ino: u64,
    /// Open files by scenario name.
    pub files: BTreeMap<String, OpenFile>,
    /// The process's memory map.
    pub mm: Mm,
    /// Locks held.
    pub locks: LockTable,
    /// Threads blocked, and on what.
    pub blocked: BTreeMap<ThreadId, Blocker>,
    /// Next physical address for device memory.
    pub next_device_phys: u64,
    /// The event stream.
    pub events: Vec<Event>,
    /// The step being run.
    pub step: u32,
    /// Which thread ran each step (index `step - 1`).
    pub ran: Vec<ThreadId>,
}

impl Kernel {
    /// A new machine with `ram` bytes of RAM.
    pub fn new(ram: u64) -> Self {
        Kernel {
            era: Era::default(),
            arch: Arch::default(),
            mem: PhysMem::new(ram),
            devices: Vec::new(),
            filesystems: Vec::new(),
            mounts: Vec::new(),
            inodes: BTreeMap::new(),
            next_ino: 12,
            files: BTreeMap::new(),
            mm: Mm::default(),
            locks: LockTable::default(),
            blocked: BTreeMap::new(),
            next_device_phys: crate::mem::DEVICE_MEM_BASE,
            events: Vec::new(),
            step: 0,
            ran: Vec::new(),
        }
    }

    /// A device by name.
    pub fn device_index(&self, name: &str) -> Option<usize> {
        self.devices.iter().position(|d| &*d.name == name)
    }

    /// The inode.
    pub fn inode(&self, ino: u64) -> KResult<&Inode> {
        self.inodes.get(&ino).ok_or(Errno::ENOENT)
    }

    /// The inode, mutably.
    pub fn inode_mut(&mut self, ino: u64) -> KResult<&mut Inode> {
        self.inodes.get_mut(&ino).ok_or(Errno::ENOENT)
    }

    /// An open file by name.
    pub fn file(&self, fd: &str) -> KResult<&OpenFile> {
        self.files.get(fd).ok_or(Errno::EBADF)
    }

    /// The filesystem an inode lives on.
    pub fn fs_of(&self, ino: u64) -> KResult<&Filesystem> {
        let i = self.inode(ino)?;
        Ok(&self.filesystems[i.fs])
    }

    /// The active mount whose path is the longest prefix of `path`, and the rest of the path.
    pub fn resolve<'p>(&self, path: &'p str) -> Option<(u16, &'p str)> {
        self.mounts
            .iter()
            .enumerate()
            .filter(|(_, m)| m.active)
            .filter_map(|(i, m)| {
                let rest = path.strip_prefix(m.path.as_str())?;
                let rest = rest.strip_prefix('/')?;
                Some((i as u16, rest, m.path.len()))
            })
            .max_by_key(|(_, _, l)| *l)
            .map(|(i, r, _)| (i, r))
    }

    /// Whether a thread blocked on `b` could go on now.
    pub fn can_proceed(&self, b: Blocker) -> bool {
        match b {
            Blocker::Lock(l, m) => self.locks.available(l, m),
            Blocker::DioCount(ino) => self.inodes.get(&ino).is_none_or(|i| i.dio_count == 0),
        }
    }
}
