//! The machine at one step, as the views draw it: plain data with named fields, bounded in size
//! whatever the machine holds (grids are [`Cells`], lists are capped and say how many more).

use daxlab_core::engine::trace::Counters;
use daxlab_core::lang::report::Names;
use daxlab_core::state::mem::{FrameUse, Pfn, PAGE_SIZE};
use daxlab_core::state::{Machine, Tid};

use super::cells::{Cell, Cells, CellsBuilder, Kind};

/// The most files, mappings or devices a view lists.
pub const MAX_LISTED: usize = 12;

/// A device as the views show it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceView {
    /// Name (without `/dev/`).
    pub name: String,
    /// Driver kind.
    pub kind: &'static str,
    /// Size in bytes.
    pub size: u64,
    /// Whether the driver implements `direct_access`.
    pub direct_access: bool,
    /// The driver's description of its backing store.
    pub backing: String,
    /// CPU frames holding the device's data, by device page.
    pub frames: Cells,
}

/// A file as the views show it.
#[derive(Debug, Clone, PartialEq)]
pub struct FileView {
    /// Inode number.
    pub ino: u64,
    /// Path through its mount.
    pub path: String,
    /// Device name.
    pub dev: String,
    /// Block size.
    pub block_size: u64,
    /// `i_size`.
    pub size: u64,
    /// `S_DAX`.
    pub s_dax: bool,
    /// The block map, one item per file block up to the end of the file or the last block.
    pub blocks: Cells,
    /// Blocks allocated.
    pub allocated: u64,
    /// The page cache.
    pub pages: Cells,
}

/// A mapping with its page-table entries.
#[derive(Debug, Clone, PartialEq)]
pub struct VmaView {
    /// The process it belongs to.
    pub process: String,
    /// The scenario's name.
    pub name: String,
    /// Start address.
    pub start: u64,
    /// Pages.
    pub pages: u64,
    /// The mapped file.
    pub file: String,
    /// MAP_SHARED.
    pub shared: bool,
    /// PROT_WRITE.
    pub writable: bool,
    /// VM_MIXEDMAP (a DAX mapping).
    pub mixedmap: bool,
    /// Its PTEs, one item per page of the mapping.
    pub ptes: Cells,
    /// PTEs present.
    pub present: u64,
}

/// A lock and who holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct LockView {
    /// The lock, as lockdep names it.
    pub lock: String,
    /// Holders ("a", "b (read)").
    pub holders: String,
}

/// One thing a page frame is (a RAM frame, a device page, a page-cache page, what maps it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// What kind of role ("device", "page cache", "mapped by").
    pub what: &'static str,
    /// Where, in words.
    pub text: String,
}

/// What one page frame is, for the inspector and the page-contents view.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FrameInfo {
    /// Its roles.
    pub roles: Vec<Role>,
}

/// The counters of one mount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountCounters {
    /// Mount point.
    pub path: String,
    /// Its counters.
    pub counters: Counters,
}

/// The machine at one step.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// Devices.
    pub devices: Vec<DeviceView>,
    /// `/proc/mounts`.
    pub proc_mounts: String,
    /// Files (at most [`MAX_LISTED`]).
    pub files: Vec<FileView>,
    /// Files not listed.
    pub more_files: usize,
    /// Mappings of the processes (at most [`MAX_LISTED`]).
    pub vmas: Vec<VmaView>,
    /// Mappings not listed.
    pub more_vmas: usize,
    /// RAM frames in use.
    pub ram: Cells,
    /// Locks held.
    pub locks: Vec<LockView>,
    /// Counters up to this step (over the mounts in scope when side by side).
    pub counters: Counters,
    /// Counters per mount, in mount order.
    pub by_mount: Vec<MountCounters>,
    /// What each listed frame of interest is (the selected one).
    pub frame: Option<(u64, FrameInfo)>,
    /// The data cache (`None`: physically indexed, nothing to draw).
    pub cache: Option<super::cache::CacheView>,
    /// The `struct page` array beside the frames in use.
    pub memmap: super::cache::MemmapView,
}

/// Which part of the machine to show: everything, or only what belongs to some mounts (side by
/// side compares the DAX mounts with their page-cache twins, not the mounts both sides share).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scope {
    /// Mount paths to keep (`None`: all).
    pub mounts: Option<Vec<String>>,
}

impl Scope {
    /// Whether the mount at `path` is kept.
    pub fn keeps(&self, path: &str) -> bool {
        self.mounts
            .as_ref()
            .is_none_or(|m| m.iter().any(|p| p == path))
    }
}

/// Build the views of a machine.
pub fn snapshot(
    m: &Machine,
    counters: (Counters, Vec<Counters>),
    names: &Names,
    scope: &Scope,
    selected: Option<u64>,
) -> Snapshot {
    // What the scope keeps: mounts, their filesystems and devices, their inodes.
    let mounts_in: Vec<usize> = (0..m.mounts.len())
        .filter(|i| scope.keeps(&m.mounts[*i].path))
        .collect();
    let fs_in = |fs| mounts_in.iter().any(|i| m.mounts[*i].fs == fs);
    let dev_in = |d: usize| {
        scope.mounts.is_none()
            || mounts_in
                .iter()
                .any(|i| m.fs(m.mounts[*i].fs).dev.0 as usize == d)
    };
    let ino_in =
        |ino: u64| scope.mounts.is_none() || m.inodes.get(&ino).is_some_and(|i| fs_in(i.fs));

    let mut devices = Vec::new();
    let mut dev_frames: Vec<Vec<(u64, Pfn)>> = Vec::new();
    for (i, d) in m.devices.iter().enumerate() {
        let frames = d.driver.cpu_frames(&m.mem);
        if dev_in(i) && devices.len() < MAX_LISTED {
            let mut b = CellsBuilder::new();
            for (idx, p) in &frames {
                b.push(Cell::one(*idx, Kind::DeviceFrame, Some(p.0)));
            }
            devices.push(DeviceView {
                name: d.name.to_string(),
                kind: d.driver.kind().name(),
                size: d.driver.size(),
                direct_access: d.driver.has_direct_access(),
                backing: d.driver.describe(),
                frames: b.finish(),
            });
        }
        dev_frames.push(frames);
    }

    let mut files = Vec::new();
    let mut more_files = 0;
    for i in m.inodes.values().filter(|i| ino_in(i.ino)) {
        if files.len() >= MAX_LISTED {
            more_files += 1;
            continue;
        }
        let fs = m.fs(i.fs);
        let frames = &dev_frames[fs.dev.0 as usize];
        let bs = fs.block_size;
        let end = i
            .size
            .div_ceil(bs)
            .max(i.blocks.iter().last().map_or(0, |(b, _)| b + 1));
        let mut b = CellsBuilder::new();
        let mut next = 0;
        for (ib, e) in i.blocks.iter() {
            if ib > next {
                b.push(Cell {
                    count: ib - next,
                    ..Cell::one(next, Kind::Hole, None)
                });
            }
            let page = e.block * bs / PAGE_SIZE;
            let pfn = frames
                .binary_search_by_key(&page, |f| f.0)
                .ok()
                .map(|k| frames[k].1 .0);
            let kind = if ib * bs >= i.size {
                Kind::PastEof
            } else if e.unwritten {
                Kind::Unwritten
            } else {
                Kind::Block
            };
            b.push(Cell {
                value: Some(e.block),
                ..Cell::one(ib, kind, pfn)
            });
            next = ib + 1;
        }
        if end > next {
            b.push(Cell {
                count: end - next,
                ..Cell::one(next, Kind::Hole, None)
            });
        }
        let mut pc = CellsBuilder::new();
        for (x, p) in i.mapping.pages.iter() {
            let kind = if p.hole {
                Kind::HolePage
            } else if p.dirty {
                Kind::Dirty
            } else {
                Kind::Clean
            };
            pc.push(Cell::one(x, kind, Some(p.pfn.0)));
        }
        files.push(FileView {
            ino: i.ino,
            path: m
                .path_of(i.ino)
                .unwrap_or_else(|| format!("(ino {}, unlinked)", i.ino)),
            dev: m.device(fs.dev).name.to_string(),
            block_size: bs,
            size: i.size,
            s_dax: i.s_dax,
            blocks: b.finish(),
            allocated: i.blocks.len() as u64,
            pages: pc.finish(),
        });
    }

    let hole_page = |pfn: Pfn| {
        matches!(
            m.mem.get(pfn).map(|f| f.usage),
            Some(FrameUse::HolePage { .. })
        )
    };
    let mut vmas = Vec::new();
    let mut more_vmas = 0;
    for p in &m.processes {
        for v in p.mm.vmas.values() {
            let Some(ino) = v.ino() else { continue };
            if !ino_in(ino) {
                continue;
            }
            if vmas.len() >= MAX_LISTED {
                more_vmas += 1;
                continue;
            }
            let pages = v.len / PAGE_SIZE;
            let mut b = CellsBuilder::new();
            let mut next = 0;
            let mut present = 0;
            for (a, pte) in p.mm.ptes_in(v.start, v.len) {
                let page = (a - v.start) / PAGE_SIZE;
                if page > next {
                    b.push(Cell {
                        count: page - next,
                        ..Cell::one(next, Kind::NoPte, None)
                    });
                }
                let kind = if pte.anon {
                    Kind::PteAnon
                } else if pte.special {
                    Kind::PteDevice
                } else if hole_page(pte.pfn) {
                    Kind::PteHole
                } else {
                    Kind::PtePageCache
                };
                b.push(Cell {
                    writable: pte.writable,
                    ..Cell::one(page, kind, Some(pte.pfn.0))
                });
                present += 1;
                next = page + 1;
            }
            if pages > next {
                b.push(Cell {
                    count: pages - next,
                    ..Cell::one(next, Kind::NoPte, None)
                });
            }
            vmas.push(VmaView {
                process: p.name.to_string(),
                name: v.name.to_string(),
                start: v.start,
                pages,
                file: m.path_of(ino).unwrap_or_else(|| format!("ino {ino}")),
                shared: v.shared,
                writable: v.writable,
                mixedmap: v.mixedmap,
                ptes: b.finish(),
                present,
            });
        }
    }

    let mut ram = CellsBuilder::new();
    for (pfn, f) in m.mem.frames() {
        let kind = match f.usage {
            FrameUse::BrdPage { dev, .. } if dev_in(dev.0 as usize) => Kind::Brd,
            FrameUse::PageCache { ino, .. } if ino_in(ino) => Kind::PageCache,
            FrameUse::HolePage { ino, .. } if ino_in(ino) => Kind::HolePage,
            FrameUse::Anon { .. } => Kind::Anon,
            FrameUse::UserBuffer { .. } => Kind::Buffer,
            FrameUse::Kernel | FrameUse::Module { .. } => Kind::Kernel,
            _ => continue,
        };
        ram.push(Cell::one(pfn.0, kind, Some(pfn.0)));
    }

    let thread = |t: Tid| names.thread(t).to_string();
    let locks = m
        .locks
        .held()
        .map(|(l, h)| {
            let mut who: Vec<String> = h
                .readers
                .iter()
                .map(|t| format!("{} (read)", thread(*t)))
                .collect();
            if let Some(w) = h.writer {
                who.push(thread(w));
            }
            LockView {
                lock: l.to_string(),
                holders: who.join(", "),
            }
        })
        .collect();

    let (total, by) = counters;
    let by_mount: Vec<MountCounters> = names
        .mounts
        .iter()
        .enumerate()
        .map(|(i, p)| MountCounters {
            path: p.to_string(),
            counters: by.get(i).copied().unwrap_or_default(),
        })
        .collect();
    let counters = match &scope.mounts {
        None => total,
        Some(paths) => {
            let mut c = Counters::default();
            for x in by_mount
                .iter()
                .filter(|m| paths.contains(&m.path))
                .map(|m| &m.counters)
            {
                c.copies += x.copies;
                c.bytes_copied += x.bytes_copied;
                c.copies_avoided += x.copies_avoided;
                c.pagecache_pages += x.pagecache_pages;
                c.faults_minor += x.faults_minor;
                c.faults_major += x.faults_major;
                c.sim_ns += x.sim_ns;
            }
            c
        }
    };
    Snapshot {
        devices,
        proc_mounts: daxlab_core::kernel::mount::proc_mounts(m),
        files,
        more_files,
        vmas,
        more_vmas,
        ram: ram.finish(),
        locks,
        counters,
        by_mount,
        frame: selected.map(|p| (p, frame_info(m, names, p))),
        cache: None,
        memmap: Default::default(),
    }
}

/// Everything that refers to frame `pfn`.
pub fn frame_info(m: &Machine, names: &Names, pfn: u64) -> FrameInfo {
    let mut roles = Vec::new();
    let mut role = |what: &'static str, text: String| roles.push(Role { what, text });
    let p = Pfn(pfn);
    role(
        "addresses",
        format!("physical {:#x}, kernel {:#x}", p.phys(), p.kaddr()),
    );
    if let Some(f) = m.mem.get(p) {
        let what = match f.usage {
            FrameUse::BrdPage { dev, idx } => {
                format!("brd page {idx} of /dev/{}", names.device(dev))
            }
            FrameUse::PageCache { ino, index } => format!("page cache of ino {ino}, page {index}"),
            FrameUse::HolePage { ino, index } => {
                format!("hole page of ino {ino}, page {index}")
            }
            FrameUse::Anon { pid } => format!("anonymous page of {}", m.process(pid).name),
            FrameUse::UserBuffer { pid } => format!("I/O buffer of {}", m.process(pid).name),
            FrameUse::Kernel => "kernel memory".into(),
            FrameUse::Module { module } => match m.modules.get(usize::from(module)) {
                Some(md) => format!("code and data of module {} (module_alloc)", md.path),
                None => "module memory".into(),
            },
            FrameUse::DeviceMemory { dev } => format!(
                "device memory of /dev/{} (no struct page in 4.0)",
                names.device(dev)
            ),
        };
        role("frame", what);
    }
    for d in &m.devices {
        if let Some((idx, _)) = d
            .driver
            .cpu_frames(&m.mem)
            .into_iter()
            .find(|(_, f)| f.0 == pfn)
        {
            role(
                "device",
                format!(
                    "/dev/{} page {idx}, sectors {}..{}",
                    d.name,
                    idx * 8,
                    idx * 8 + 7
                ),
            );
        }
    }
    for i in m.inodes.values() {
        for (x, pg) in i.mapping.pages.iter() {
            if pg.pfn == p {
                role(
                    "page cache",
                    format!(
                        "{} page {x}{}{}",
                        m.path_of(i.ino).unwrap_or_else(|| format!("ino {}", i.ino)),
                        if pg.dirty { ", dirty" } else { "" },
                        if pg.hole { ", hole page" } else { "" }
                    ),
                );
            }
        }
    }
    for pr in &m.processes {
        for v in pr.mm.vmas.values() {
            for (a, pte) in pr.mm.ptes_in(v.start, v.len) {
                if pte.pfn == p {
                    role(
                        "mapped by",
                        format!(
                            "{} page {} at {a:#x}, {}{}",
                            v.name,
                            (a - v.start) / PAGE_SIZE,
                            if pte.writable {
                                "writable"
                            } else {
                                "read-only"
                            },
                            if pte.special {
                                ", special PTE (no struct page)"
                            } else {
                                ""
                            }
                        ),
                    );
                }
            }
        }
    }
    if let Some(c) = &m.dcache {
        let lines = c.lines_of(&m.mem, p);
        for (set, way, l, stale) in lines.iter().take(8) {
            role(
                "cache line",
                format!(
                    "set {set} way {way}: {} {:#x}, offset {:#x}{}{}",
                    if l.vaddr & !(PAGE_SIZE - 1) == p.kaddr() {
                        "kernel's"
                    } else {
                        "user's"
                    },
                    l.vaddr,
                    l.off,
                    if l.dirty { ", dirty" } else { "" },
                    if *stale { ", STALE" } else { "" }
                ),
            );
        }
        if lines.len() > 8 {
            role("cache line", format!("+ {} more lines", lines.len() - 8));
        }
    }
    FrameInfo { roles }
}
