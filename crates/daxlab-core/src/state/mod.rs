//! The machine's state: one plain value with one owner. Cloning it is cheap (everything that
//! grows with a run is a persistent map), so checkpoints and an explorer's branches are clones.
//! Nothing in here refers to a thread's Rust future or to the trace: those belong to the engine.

pub mod block_dev;
pub mod chunk_map;
pub mod dcache;
pub mod fs;
pub mod lock;
pub mod mem;
pub mod mm;
pub mod ops;
pub mod page_cache;
pub mod task;

use std::collections::BTreeMap;
use std::rc::Rc;

use block_dev::BlockDevice;
use fs::{Filesystem, Inode, Mount};
use lock::LockTable;
use mem::PhysMem;
use mm::Mm;
use task::Task;

use crate::errno::{Errno, KResult};

/// A block device's index in the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DevId(pub u16);
/// A filesystem's index in the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FsId(pub u16);
/// A mount's index in the machine (unmounted ones keep theirs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MountId(pub u16);
/// A process; 0 is the scenario's main process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pid(pub u16);
/// A thread; 0 is the main thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Tid(pub u16);
/// An open file description (`struct file`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub u32);

/// The CPU architecture (its data cache and whether 4.0 builds `CONFIG_FS_DAX`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Arch {
    /// x86-64: physically indexed caches; DAX available.
    #[default]
    X86_64,
    /// ARMv5 (ARM926EJ-S): VIVT data cache.
    Armv5,
    /// MIPS R4000: virtually indexed, physically tagged, aliasing.
    MipsR4k,
    /// UltraSPARC (sparc64): virtually indexed, physically tagged, aliasing.
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
    /// The console word.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, a)| *a == self)
            .map_or("?", |(n, _)| n)
    }
    /// How `arch_get_unmapped_area` aligns a shared file mapping so that the user's alias of
    /// a file page has the colour of its offset: the `COLOUR_ALIGN` mask (`shm_align_mask` on
    /// MIPS, `SHMLBA - 1` on SPARC); 0 where nothing is aligned.
    pub fn shm_align_mask(self) -> u64 {
        match self {
            Arch::X86_64 | Arch::Armv5 => 0,
            // arch/mips/mm/mmap.c: shm_align_mask = max(sets * linesz - 1, PAGE_SIZE - 1), 8 KiB
            // of direct-mapped D-cache on the R4000PC.
            Arch::MipsR4k => 0x1fff,
            // arch/sparc/kernel/sys_sparc_64.c: COLOR_ALIGN with SHMLBA = 16 KiB.
            Arch::Sparc64 => 0x3fff,
        }
    }
    /// `__HAVE_ARCH_PTE_SPECIAL`: without it, `vm_insert_mixed` maps a pfn that has a `struct
    /// page` as a normal page (`insert_page`), not a special PTE (4.0: ARMv5 and MIPS lack it).
    pub fn has_pte_special(self) -> bool {
        matches!(self, Arch::X86_64 | Arch::Sparc64)
    }
    /// 4.0 `fs/Kconfig`: `config FS_DAX ... depends on !(ARM || MIPS || SPARC)`.
    pub fn kconfig_fs_dax(self) -> bool {
        self == Arch::X86_64
    }
    /// The L1 data cache the model simulates (`None` on x86-64: physically indexed, no
    /// aliases). From the CPUs' manuals (ARM DDI0198D, the R4000 User's Manual, the
    /// UltraSPARC User's Manual): ARM926EJ-S with a 16 KiB cache (the size is the SoC's
    /// choice), 4 ways of 32-byte lines, VIVT, write-back, allocating on reads only; R4000PC,
    /// 8 KiB direct-mapped, 16-byte lines, VIPT, write-back and write-allocate; UltraSPARC-II,
    /// 16 KiB direct-mapped, 32-byte lines, VIPT, write-through, no allocation on a write miss.
    /// Simplified: the model's pages are 4 KiB on SPARC too (sparc64 uses 8 KiB).
    pub fn dcache(self) -> Option<dcache::Geometry> {
        use dcache::{Geometry, Indexing};
        match self {
            Arch::X86_64 => None,
            Arch::Armv5 => Some(Geometry {
                cpu: "ARM926EJ-S",
                size: 16 << 10,
                ways: 4,
                line: 32,
                indexing: Indexing::Vivt,
                write_back: true,
                write_allocate: false,
            }),
            Arch::MipsR4k => Some(Geometry {
                cpu: "R4000PC",
                size: 8 << 10,
                ways: 1,
                line: 16,
                indexing: Indexing::Vipt,
                write_back: true,
                write_allocate: true,
            }),
            Arch::Sparc64 => Some(Geometry {
                cpu: "UltraSPARC-II",
                size: 16 << 10,
                ways: 1,
                line: 32,
                indexing: Indexing::Vipt,
                write_back: false,
                write_allocate: false,
            }),
        }
    }
}

/// Which kernel the simulator behaves as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Era {
    /// Linux 4.0, as `Documentation/filesystems/dax.txt` describes it.
    #[default]
    Linux4_0,
}

impl Era {
    /// The name shown in views.
    pub fn label(self) -> &'static str {
        "Linux 4.0"
    }
}

/// The lock policy of a race level (`locking 4.0|none|fixed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Locking {
    /// The locks of Linux 4.0.
    #[default]
    V4_0,
    /// None of the inode locks that serialise faults, I/O and truncate: shows what each
    /// 4.0 lock protects.
    None,
    /// The later kernels' fixes: DAX entry locks, ext2 `dax_sem`, ext4 `i_mmap_sem` and
    /// pre-zeroed allocation.
    Fixed,
}

impl Locking {
    /// Console words.
    pub const ALL: [(&'static str, Locking); 3] = [
        ("4.0", Locking::V4_0),
        ("none", Locking::None),
        ("fixed", Locking::Fixed),
    ];
    /// The console word.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, l)| *l == self)
            .map_or("?", |(n, _)| n)
    }
}

/// How the kernel was built and booted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Config {
    /// The era.
    pub era: Era,
    /// The architecture.
    pub arch: Arch,
    /// `arch NAME pretend`: build `FS_DAX` although 4.0's Kconfig refuses it there.
    pub pretend_fs_dax: bool,
    /// The lock policy.
    pub locking: Locking,
}

impl Config {
    /// Whether `CONFIG_FS_DAX` is built.
    pub fn fs_dax(&self) -> bool {
        self.arch.kconfig_fs_dax() || self.pretend_fs_dax
    }
}

/// How a file was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpenFlags {
    /// `O_CREAT`.
    pub create: bool,
    /// `O_TRUNC`.
    pub trunc: bool,
    /// `O_DIRECT`.
    pub direct: bool,
    /// `O_RDONLY`.
    pub rdonly: bool,
}

/// An open file description (`struct file`), shared by the descriptors and mappings that
/// refer to it.
#[derive(Debug, Clone)]
pub struct File {
    /// The inode.
    pub ino: u64,
    /// The mount it was opened through.
    pub mount: MountId,
    /// Open flags.
    pub flags: OpenFlags,
    /// `f_count`: descriptors, mappings (`vm_file`) and system calls in flight (`fdget`) that
    /// hold it.
    pub count: u32,
}

/// A process: an address space and a descriptor table.
#[derive(Debug, Clone)]
pub struct Process {
    /// The scenario's name for it (`main` for the first).
    pub name: Rc<str>,
    /// Its memory map.
    pub mm: Mm,
    /// Descriptors by the scenario's names.
    pub fds: BTreeMap<Rc<str>, FileId>,
}

/// A loaded kernel module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    /// The file it was loaded from.
    pub path: Rc<str>,
    /// Its size in bytes.
    pub size: u64,
    /// The RAM frames holding it (`module_alloc`).
    pub pages: Vec<mem::Pfn>,
}

/// The machine.
#[derive(Debug, Clone)]
pub struct Machine {
    /// Build and boot configuration.
    pub config: Config,
    /// Physical memory.
    pub mem: PhysMem,
    /// Block devices.
    pub devices: Vec<BlockDevice>,
    /// Filesystems (by mkfs, one per device at most).
    pub filesystems: Vec<Filesystem>,
    /// Mounts, in mount order; unmounted ones stay (inactive) so ids stay valid.
    pub mounts: Vec<Mount>,
    /// Every inode, by number.
    pub inodes: BTreeMap<u64, Inode>,
    /// Next inode number (ext2's first non-reserved inode is 12).
    pub next_ino: u64,
    /// Processes.
    pub processes: Vec<Process>,
    /// Open file descriptions; a closed slot is `None`.
    pub files: Vec<Option<File>>,
    /// Locks held.
    pub locks: LockTable,
    /// The kernel side of each thread: its stack and what it waits for.
    pub tasks: Vec<Task>,
    /// Next physical address for device memory.
    pub next_device_phys: u64,
    /// The data cache of the CPU (`None`: physically indexed, nothing to model).
    pub dcache: Option<dcache::DCache>,
    /// Loaded kernel modules (`insmod`), in load order.
    pub modules: Vec<Module>,
    /// The address space the CPU runs in (`current->active_mm`): the process of the thread
    /// that ran last.
    pub active_mm: Pid,
}

/// Default RAM of a scenario's machine.
pub const DEFAULT_RAM: u64 = 1 << 30;

impl Machine {
    /// A new machine with `ram` bytes of RAM, the main process and its main thread.
    pub fn new(ram: u64) -> Self {
        Machine {
            config: Config::default(),
            mem: PhysMem::new(ram),
            devices: Vec::new(),
            filesystems: Vec::new(),
            mounts: Vec::new(),
            inodes: BTreeMap::new(),
            next_ino: 12,
            processes: vec![Process {
                name: Rc::from("main"),
                mm: Mm::default(),
                fds: BTreeMap::new(),
            }],
            files: Vec::new(),
            locks: LockTable::default(),
            tasks: vec![Task::new(Pid(0))],
            next_device_phys: mem::DEVICE_MEM_BASE,
            dcache: None,
            active_mm: Pid(0),
            modules: Vec::new(),
        }
    }

    /// A device by name.
    pub fn device_named(&self, name: &str) -> Option<DevId> {
        self.devices.iter().find(|d| &*d.name == name).map(|d| d.id)
    }

    /// A device.
    pub fn device(&self, d: DevId) -> &BlockDevice {
        &self.devices[d.0 as usize]
    }

    /// A device, mutably.
    pub fn device_mut(&mut self, d: DevId) -> &mut BlockDevice {
        &mut self.devices[d.0 as usize]
    }

    /// A filesystem.
    pub fn fs(&self, f: FsId) -> &Filesystem {
        &self.filesystems[f.0 as usize]
    }

    /// A filesystem, mutably.
    pub fn fs_mut(&mut self, f: FsId) -> &mut Filesystem {
        &mut self.filesystems[f.0 as usize]
    }

    /// A mount.
    pub fn mount(&self, m: MountId) -> &Mount {
        &self.mounts[m.0 as usize]
    }

    /// The inode.
    pub fn inode(&self, ino: u64) -> KResult<&Inode> {
        self.inodes.get(&ino).ok_or(Errno::ENOENT)
    }

    /// The inode, mutably.
    pub fn inode_mut(&mut self, ino: u64) -> KResult<&mut Inode> {
        self.inodes.get_mut(&ino).ok_or(Errno::ENOENT)
    }

    /// The filesystem an inode lives on.
    pub fn fs_of(&self, ino: u64) -> KResult<&Filesystem> {
        Ok(self.fs(self.inode(ino)?.fs))
    }

    /// A process.
    pub fn process(&self, pid: Pid) -> &Process {
        &self.processes[pid.0 as usize]
    }

    /// A process, mutably.
    pub fn process_mut(&mut self, pid: Pid) -> &mut Process {
        &mut self.processes[pid.0 as usize]
    }

    /// The process a thread belongs to.
    pub fn pid_of(&self, tid: Tid) -> Pid {
        self.tasks[tid.0 as usize].pid
    }

    /// An open file description.
    pub fn file(&self, f: FileId) -> KResult<&File> {
        self.files
            .get(f.0 as usize)
            .and_then(Option::as_ref)
            .ok_or(Errno::EBADF)
    }

    /// The open file a process calls `fd`.
    pub fn fd(&self, pid: Pid, fd: &str) -> KResult<FileId> {
        self.process(pid).fds.get(fd).copied().ok_or(Errno::EBADF)
    }

    /// The active mount whose path is the longest prefix of `path`, and the rest of the path.
    pub fn resolve<'p>(&self, path: &'p str) -> Option<(MountId, &'p str)> {
        self.mounts
            .iter()
            .enumerate()
            .filter(|(_, m)| m.active)
            .filter_map(|(i, m)| {
                let rest = path.strip_prefix(&*m.path)?;
                let rest = rest.strip_prefix('/')?;
                Some((MountId(i as u16), rest, m.path.len()))
            })
            .max_by_key(|(_, _, l)| *l)
            .map(|(i, r, _)| (i, r))
    }

    /// The active mount of a filesystem.
    pub fn mount_of_fs(&self, fs: FsId) -> Option<MountId> {
        self.mounts
            .iter()
            .position(|m| m.active && m.fs == fs)
            .map(|i| MountId(i as u16))
    }

    /// The path of an inode through its filesystem's active mount.
    pub fn path_of(&self, ino: u64) -> Option<String> {
        let i = self.inodes.get(&ino)?;
        let m = self.mount_of_fs(i.fs)?;
        (i.nlink > 0).then(|| format!("{}/{}", self.mount(m).path, i.name))
    }

    /// Whether anything still uses an inode: an open file description (a descriptor, a
    /// mapping's `vm_file`, a system call in flight) refers to it.
    pub fn inode_in_use(&self, ino: u64) -> bool {
        self.files.iter().flatten().any(|f| f.ino == ino)
    }
}
