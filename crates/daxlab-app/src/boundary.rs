//! The one place the app calls the simulation core. It runs a scenario (up to a step) and turns
//! the machine into plain data for the views.

use daxlab_core::run::{self, CmdResult};
use daxlab_core::scenario::{self, ParseError};

/// A device as the views show it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceView {
    /// Name (`/dev/NAME`).
    pub name: String,
    /// Driver kind.
    pub kind: String,
    /// Size in bytes.
    pub size: u64,
    /// Whether the driver implements `direct_access`.
    pub direct_access: bool,
    /// The driver's description of its backing store.
    pub backing: String,
}

/// A file as the views show it.
#[derive(Debug, Clone, PartialEq)]
pub struct FileView {
    /// Inode number.
    pub ino: u64,
    /// Path through its mount.
    pub path: String,
    /// `i_size`.
    pub size: u64,
    /// `S_DAX`.
    pub s_dax: bool,
    /// Allocated blocks: (file block, filesystem block, unwritten).
    pub blocks: Vec<(u64, u64, bool)>,
    /// Page-cache pages: (index, pfn, dirty, hole page).
    pub pages: Vec<(u64, u64, bool, bool)>,
}

/// The machine at one step, and the run it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// The step shown.
    pub step: u32,
    /// Steps in the whole run.
    pub total_steps: u32,
    /// Devices.
    pub devices: Vec<DeviceView>,
    /// `/proc/mounts`.
    pub proc_mounts: String,
    /// Files of mounted filesystems.
    pub files: Vec<FileView>,
    /// Results of the commands finished by this step.
    pub results: Vec<CmdResult>,
    /// Counters up to this step.
    pub counters: daxlab_core::counters::Counters,
    /// Events so far.
    pub events: usize,
    /// RAM frames in use.
    pub ram_frames: u64,
}

/// The scenario a newcomer sees first: a RAM disk with a DAX-mounted ext2 and one file.
pub const FIRST_SCENARIO: &str = "\
# A brd RAM disk, formatted ext2 and mounted with -o dax, holding one file.
device pmem0 brd size=64M
mkfs ext2 /dev/pmem0
mount /dev/pmem0 /mnt/dax -o dax
open f /mnt/dax/hello create
write f 0 \"hello, direct access\"
read f 0 20
";

/// Run `text` up to step `step` (`None`: to the end) and describe the machine there.
pub fn simulate(text: &str, step: Option<u32>) -> Result<Snapshot, ParseError> {
    let s = scenario::parse(text)?;
    let total_steps = run::run(&s, None)?.sim.kernel().step;
    let r = run::run(&s, step)?;
    let k = r.sim.kernel();
    let devices = k
        .devices
        .iter()
        .map(|d| DeviceView {
            name: d.name.to_string(),
            kind: format!("{:?}", d.driver.kind()).to_lowercase(),
            size: d.driver.size(),
            direct_access: d.driver.has_direct_access(),
            backing: d.driver.describe(),
        })
        .collect();
    let files = k
        .mounts
        .iter()
        .filter(|m| m.active)
        .flat_map(|m| {
            k.filesystems[m.fs].root.iter().filter_map(|(name, ino)| {
                let i = k.inodes.get(ino)?;
                Some(FileView {
                    ino: *ino,
                    path: format!("{}/{}", m.path, name),
                    size: i.size,
                    s_dax: i.s_dax,
                    blocks: i
                        .blocks
                        .iter()
                        .map(|(ib, e)| (*ib, e.block, e.unwritten))
                        .collect(),
                    pages: i
                        .mapping
                        .pages
                        .iter()
                        .map(|(x, p)| (*x, p.pfn.0, p.dirty, p.hole))
                        .collect(),
                })
            })
        })
        .collect();
    let (counters, _) = run::counters(&k);
    Ok(Snapshot {
        step: k.step,
        total_steps,
        devices,
        proc_mounts: daxlab_core::vfs::proc_mounts(&k),
        files,
        results: r.results.clone(),
        counters,
        events: k.events.len(),
        ram_frames: k.mem.ram_in_use(),
    })
}
