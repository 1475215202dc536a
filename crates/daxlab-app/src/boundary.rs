//! The one place the app calls the simulation core. A [`Session`] is one whole run of a
//! scenario (its events and results); a [`Snapshot`] is the machine at one step of it, rebuilt by
//! running the scenario again up to that step (the core is deterministic, so this is exact).

use std::collections::BTreeMap;
use std::rc::Rc;

use daxlab_core::counters::Counters;
use daxlab_core::event::{Event, EventKind, Loc, Space};
use daxlab_core::mem::FrameUse;
use daxlab_core::run::{self, CmdResult};
use daxlab_core::scenario::{self, ParseError, Scenario};

/// One event, ready to show: its text, its place in the call graph and what it touched.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    /// Step.
    pub step: u32,
    /// Thread lane (0 = main).
    pub lane: usize,
    /// Kind as the JSON names it (`copy`, `call`, ...).
    pub kind: &'static str,
    /// Call depth (function_graph indentation).
    pub depth: usize,
    /// One line of text.
    pub text: String,
    /// Frames it touched (for linking to the views).
    pub pfns: Vec<u64>,
    /// For copies and zeroing: (from, to, bytes, function, is_zero).
    pub flow: Option<Flow>,
    /// Mount path it counts toward.
    pub mount: Option<String>,
}

/// A copy or a zeroing, for the data-flow diagram.
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    /// Where from (`None` for zeroing).
    pub from: Option<Place>,
    /// Where to.
    pub to: Place,
    /// Bytes.
    pub bytes: u64,
    /// The kernel function responsible.
    pub func: &'static str,
}

/// A memory location class for the flow diagram, with its label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// Column: 0 user, 1 page cache (or hole/anon page), 2 device.
    pub column: usize,
    /// Label (address, page, sector).
    pub label: String,
    /// Frame, if any.
    pub pfn: Option<u64>,
}

fn place(l: &Loc) -> Place {
    let pfn = l.pfn.map(|p| p.0);
    match &l.space {
        Space::User => Place {
            column: 0,
            label: format!("user {:#x}", l.vaddr),
            pfn,
        },
        Space::PageCache { ino, index } => Place {
            column: 1,
            label: format!("page cache ino {ino} page {index}"),
            pfn,
        },
        Space::HolePage { ino, index } => Place {
            column: 1,
            label: format!("hole page ino {ino} page {index}"),
            pfn,
        },
        Space::Anon => Place {
            column: 1,
            label: "anonymous page".into(),
            pfn,
        },
        Space::Device { dev, sector } => Place {
            column: 2,
            label: format!("{dev} sector {sector}"),
            pfn,
        },
    }
}

fn pfn_text(p: &Option<u64>) -> String {
    p.map(|p| format!(" (pfn {p:#x})")).unwrap_or_default()
}

/// One line describing an event.
pub fn describe(e: &Event) -> String {
    match &e.kind {
        EventKind::Call { func } => format!("{func}() {{"),
        EventKind::Return { func, ret } => match ret {
            Some(r) => format!("}} /* {func} = {r} */"),
            None => format!("}} /* {func} */"),
        },
        EventKind::Lock { lock, mode } => format!(
            "lock {lock} ({})",
            if *mode == daxlab_core::event::LockMode::Read {
                "read"
            } else {
                "write"
            }
        ),
        EventKind::Unlock { lock } => format!("unlock {lock}"),
        EventKind::Wait { what } => format!("waits for {what}"),
        EventKind::Copy {
            func,
            src,
            dst,
            bytes,
        } => {
            let (s, d) = (place(src), place(dst));
            format!(
                "copy {bytes} B by {func}: {}{} → {}{}",
                s.label,
                pfn_text(&s.pfn),
                d.label,
                pfn_text(&d.pfn)
            )
        }
        EventKind::Zero { func, dst, bytes } => {
            let d = place(dst);
            format!("zero {bytes} B by {func}: {}{}", d.label, pfn_text(&d.pfn))
        }
        EventKind::CopyAvoided { bytes } => {
            format!("copy avoided: {bytes} B the page cache would have copied")
        }
        EventKind::Access {
            vaddr,
            pfn,
            bytes,
            write,
        } => {
            format!(
                "user {} {bytes} B at {vaddr:#x} (pfn {:#x})",
                if *write { "store" } else { "load" },
                pfn.0
            )
        }
        EventKind::Fault {
            vaddr,
            write,
            major,
            handler,
        } => format!(
            "{} {} fault at {vaddr:#x} ({handler:?})",
            if *major { "major" } else { "minor" },
            if *write { "write" } else { "read" }
        ),
        EventKind::Pte {
            op,
            vaddr,
            pfn,
            writable,
            special,
        } => format!(
            "PTE {op:?} {vaddr:#x} → pfn {:#x} {}{}",
            pfn.0,
            if *writable { "rw" } else { "ro" },
            if *special { " special" } else { "" }
        ),
        EventKind::PageCache {
            op,
            ino,
            index,
            pfn,
        } => format!(
            "page cache {op:?}: ino {ino} page {index} (pfn {:#x})",
            pfn.0
        ),
        EventKind::BlockAlloc {
            ino,
            iblock,
            block,
            unwritten,
        } => {
            format!(
                "allocate block {block} for ino {ino} block {iblock}{}",
                if *unwritten { " (unwritten)" } else { "" }
            )
        }
        EventKind::BlockFree { ino, iblock, block } => {
            format!("free block {block} (ino {ino} block {iblock})")
        }
        EventKind::BlockConvert { ino, iblock } => {
            format!("convert ino {ino} block {iblock} to written")
        }
        EventKind::Size { ino, size } => format!("i_size of ino {ino} = {size}"),
        EventKind::Time { what, ns } => format!("{what}: {ns} ns"),
        EventKind::Printk { text } => format!("kernel: {text}"),
        EventKind::Error { func, errno } => format!("{func} failed: -{errno}"),
        EventKind::Signal { signal, vaddr } => format!("{signal} at {vaddr:#x}"),
        EventKind::Schedule { text } => text.clone(),
    }
}

fn kind_name(e: &Event) -> &'static str {
    match &e.kind {
        EventKind::Call { .. } => "call",
        EventKind::Return { .. } => "return",
        EventKind::Lock { .. } => "lock",
        EventKind::Unlock { .. } => "unlock",
        EventKind::Wait { .. } => "wait",
        EventKind::Copy { .. } => "copy",
        EventKind::Zero { .. } => "zero",
        EventKind::CopyAvoided { .. } => "copy_avoided",
        EventKind::Access { .. } => "access",
        EventKind::Fault { .. } => "fault",
        EventKind::Pte { .. } => "pte",
        EventKind::PageCache { .. } => "page_cache",
        EventKind::BlockAlloc { .. } => "block_alloc",
        EventKind::BlockFree { .. } => "block_free",
        EventKind::BlockConvert { .. } => "block_convert",
        EventKind::Size { .. } => "size",
        EventKind::Time { .. } => "time",
        EventKind::Printk { .. } => "printk",
        EventKind::Error { .. } => "error",
        EventKind::Signal { .. } => "signal",
        EventKind::Schedule { .. } => "schedule",
    }
}

fn pfns(e: &Event) -> Vec<u64> {
    let loc = |l: &Loc| l.pfn.map(|p| p.0);
    match &e.kind {
        EventKind::Copy { src, dst, .. } => [loc(src), loc(dst)].into_iter().flatten().collect(),
        EventKind::Zero { dst, .. } => loc(dst).into_iter().collect(),
        EventKind::Access { pfn, .. }
        | EventKind::Pte { pfn, .. }
        | EventKind::PageCache { pfn, .. } => vec![pfn.0],
        _ => vec![],
    }
}

/// One whole run of a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// The scenario text.
    pub text: String,
    /// The parsed scenario (rerun to rebuild any step).
    pub scenario: Scenario,
    /// Steps in the run.
    pub total_steps: u32,
    /// Every event.
    pub events: Vec<EventRow>,
    /// Thread lanes: "main" and the scenario's threads.
    pub lanes: Vec<String>,
    /// The lane that ran each step (index `step - 1`).
    pub ran: Vec<usize>,
    /// Every command's result, with the step it finished in.
    pub results: Vec<CmdResult>,
    /// Whether every expect held.
    pub ok: bool,
    /// Mount paths in order.
    pub mounts: Vec<String>,
    /// The machine at the end of the run (kept, so showing the end never reruns it).
    pub end: Snapshot,
}

impl Session {
    /// Events of one step.
    pub fn events_at(&self, step: u32) -> &[EventRow] {
        let a = self.events.partition_point(|e| e.step < step);
        let b = self.events.partition_point(|e| e.step <= step);
        &self.events[a..b]
    }
    /// Counters after `step`, in total and per mount, folded from the events.
    pub fn bytes_by_step(&self) -> Vec<(u32, u64)> {
        let mut v: Vec<(u32, u64)> = Vec::new();
        for e in &self.events {
            if let Some(f) = &e.flow {
                if f.from.is_some() {
                    match v.last_mut() {
                        Some((s, b)) if *s == e.step => *b += f.bytes,
                        _ => v.push((e.step, f.bytes)),
                    }
                }
            }
        }
        v
    }
    /// The step after which `n` results are complete (for lockstep by command).
    pub fn step_of_result(&self, n: usize) -> u32 {
        match n {
            0 => 0,
            n => self.results.get(n - 1).map_or(self.total_steps, |r| r.step),
        }
    }
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

/// Run a scenario to the end.
pub fn session(text: &str) -> Result<Rc<Session>, ParseError> {
    let mut r = Running::start(text)?;
    r.advance(run::MAX_STEPS);
    Ok(r.into_session())
}

/// A scenario being run a slice at a time (see [`run::Execution`]), so the page can show
/// progress and stay responsive while a long scenario runs.
pub struct Running {
    text: String,
    scenario: Scenario,
    exec: run::Execution,
}

impl Running {
    /// Parse and prepare.
    pub fn start(text: &str) -> Result<Self, ParseError> {
        let scenario = scenario::parse(text)?;
        let exec = run::Execution::new(&scenario)?;
        Ok(Running {
            text: text.to_string(),
            scenario,
            exec,
        })
    }
    /// Run up to `steps` more steps; true when finished.
    pub fn advance(&mut self, steps: u32) -> bool {
        self.exec.advance(steps)
    }
    /// Steps run so far.
    pub fn step(&self) -> u32 {
        self.exec.step()
    }
    /// The finished run as a session.
    pub fn into_session(self) -> Rc<Session> {
        session_of(self.text, self.scenario, self.exec.into_run())
    }
}

fn session_of(text: String, scenario: Scenario, r: run::Run) -> Rc<Session> {
    let end = machine(&r);
    let k = r.sim.kernel();
    let lanes: Vec<String> = r
        .sim
        .threads()
        .map(|t| r.sim.thread_name(t).unwrap_or("main").to_string())
        .collect();
    let mut depth: BTreeMap<usize, usize> = BTreeMap::new();
    let events = k
        .events
        .iter()
        .map(|e| {
            let lane = e.thread.0 as usize;
            let d = depth.entry(lane).or_insert(0);
            let shown = match e.kind {
                EventKind::Call { .. } => {
                    *d += 1;
                    *d - 1
                }
                EventKind::Return { .. } => {
                    *d = d.saturating_sub(1);
                    *d
                }
                _ => *d,
            };
            let flow = match &e.kind {
                EventKind::Copy {
                    func,
                    src,
                    dst,
                    bytes,
                } => Some(Flow {
                    from: Some(place(src)),
                    to: place(dst),
                    bytes: *bytes,
                    func,
                }),
                EventKind::Zero { func, dst, bytes } => Some(Flow {
                    from: None,
                    to: place(dst),
                    bytes: *bytes,
                    func,
                }),
                _ => None,
            };
            EventRow {
                step: e.step,
                lane,
                kind: kind_name(e),
                depth: shown,
                text: describe(e),
                pfns: pfns(e),
                flow,
                mount: e.mount.map(|m| k.mounts[m as usize].path.clone()),
            }
        })
        .collect();
    Rc::new(Session {
        text,
        total_steps: k.step,
        events,
        lanes,
        ran: k.ran.iter().map(|t| t.0 as usize).collect(),
        results: r.results.clone(),
        ok: r.ok,
        mounts: k.mounts.iter().map(|m| m.path.clone()).collect(),
        scenario,
        end,
    })
}

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
    /// CPU frames holding the device's data: (device page index, pfn). Empty for devices the
    /// CPU cannot address.
    pub frames: Vec<(u64, u64)>,
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
    /// Allocated blocks: (file block, filesystem block, unwritten).
    pub blocks: Vec<(u64, u64, bool)>,
    /// Page-cache pages.
    pub pages: Vec<PageView>,
}

/// A page-cache page.
#[derive(Debug, Clone, PartialEq)]
pub struct PageView {
    /// Index in the file.
    pub index: u64,
    /// Frame.
    pub pfn: u64,
    /// `PG_dirty`.
    pub dirty: bool,
    /// `PG_uptodate`.
    pub uptodate: bool,
    /// A 4.0 DAX hole page.
    pub hole: bool,
}

/// A mapping with its page-table entries.
#[derive(Debug, Clone, PartialEq)]
pub struct VmaView {
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
    /// PTEs: (page in the VMA, pfn, writable, special, anonymous).
    pub ptes: Vec<(u64, u64, bool, bool, bool)>,
}

/// The machine at one step.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// The step shown.
    pub step: u32,
    /// Devices.
    pub devices: Vec<DeviceView>,
    /// `/proc/mounts`.
    pub proc_mounts: String,
    /// Files of mounted filesystems.
    pub files: Vec<FileView>,
    /// Mappings of the process.
    pub vmas: Vec<VmaView>,
    /// RAM frames in use: (pfn, what for).
    pub ram: Vec<(u64, String)>,
    /// Locks held: (lock, holders).
    pub locks: Vec<(String, String)>,
    /// Counters up to this step.
    pub counters: Counters,
    /// Counters per mount.
    pub by_mount: BTreeMap<String, Counters>,
}

/// The machine of `session` after `step`.
pub fn snapshot(session: &Session, step: u32) -> Snapshot {
    if step >= session.total_steps {
        return session.end.clone();
    }
    let Ok(r) = run::run(&session.scenario, Some(step)) else {
        unreachable!("the scenario ran once already, so its threads exist")
    };
    machine(&r)
}

/// The machine of a run as it stands.
fn machine(r: &run::Run) -> Snapshot {
    let k = r.sim.kernel();
    let ram = k
        .mem
        .frames()
        .into_iter()
        .filter_map(|(pfn, f)| {
            let what = match &f.usage {
                FrameUse::BrdPage { dev, idx } => format!("brd {dev} page {idx}"),
                FrameUse::PageCache { ino, index } => format!("page cache ino {ino} page {index}"),
                FrameUse::HolePage { ino, index } => format!("hole page ino {ino} page {index}"),
                FrameUse::Anon => "anonymous".into(),
                FrameUse::DeviceMemory { .. } => return None,
            };
            Some((pfn.0, what))
        })
        .collect();
    let devices = k
        .devices
        .iter()
        .map(|d| DeviceView {
            name: d.name.to_string(),
            kind: format!("{:?}", d.driver.kind()).to_lowercase(),
            size: d.driver.size(),
            direct_access: d.driver.has_direct_access(),
            backing: d.driver.describe(),
            frames: d
                .driver
                .cpu_frames(&k.mem)
                .into_iter()
                .map(|(i, p)| (i, p.0))
                .collect(),
        })
        .collect();
    let path_of = |ino: u64| {
        k.mounts.iter().filter(|m| m.active).find_map(|m| {
            k.filesystems[m.fs]
                .root
                .iter()
                .find(|(_, i)| **i == ino)
                .map(|(n, _)| format!("{}/{}", m.path, n))
        })
    };
    let files = k
        .inodes
        .values()
        .map(|i| {
            let fs = &k.filesystems[i.fs];
            FileView {
                ino: i.ino,
                path: path_of(i.ino).unwrap_or_else(|| format!("(ino {}, not reachable)", i.ino)),
                dev: k.devices[fs.dev].name.to_string(),
                block_size: fs.block_size,
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
                    .map(|(x, p)| PageView {
                        index: *x,
                        pfn: p.pfn.0,
                        dirty: p.dirty,
                        uptodate: p.uptodate,
                        hole: p.hole,
                    })
                    .collect(),
            }
        })
        .collect();
    let vmas =
        k.mm.vmas
            .values()
            .map(|v| VmaView {
                name: v.name.clone(),
                start: v.start,
                pages: v.len / 4096,
                file: path_of(v.ino).unwrap_or_else(|| format!("ino {}", v.ino)),
                shared: v.shared,
                writable: v.writable,
                mixedmap: v.mixedmap,
                ptes: k
                    .mm
                    .ptes
                    .range(v.start..v.start + v.len)
                    .map(|(a, p)| ((a - v.start) / 4096, p.pfn.0, p.writable, p.special, p.anon))
                    .collect(),
            })
            .collect();
    let locks = k
        .locks
        .held()
        .map(|(l, h)| {
            let mut who: Vec<String> = h
                .readers
                .iter()
                .map(|t| format!("{} (read)", r.sim.thread_name(*t).unwrap_or("main")))
                .collect();
            if let Some(w) = h.writer {
                who.push(r.sim.thread_name(w).unwrap_or("main").to_string());
            }
            (l.to_string(), who.join(", "))
        })
        .collect();
    let (counters, by_mount) = run::counters(&k);
    Snapshot {
        step: k.step,
        devices,
        proc_mounts: daxlab_core::vfs::proc_mounts(&k),
        files,
        vmas,
        ram,
        locks,
        counters,
        by_mount,
    }
}
