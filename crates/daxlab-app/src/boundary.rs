//! The one place the app calls the simulation core. A [`Session`] is one run of a scenario
//! (its results, the lanes, the events it kept and its checkpoints); a [`Snapshot`] is the
//! machine at one step of it, made by forking the run from the nearest checkpoint. Everything
//! here is plain data with named fields: the views never see the core's types of state.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use daxlab_core::engine::exec::{Execution, RunOptions};
use daxlab_core::engine::trace::{Counters, Event, EventKind, Loc, Space, TraceMode};
use daxlab_core::lang::outcome::CmdResult;
use daxlab_core::lang::parse::{parse, ParseError};
use daxlab_core::lang::report::Names;
use daxlab_core::lang::text;
use daxlab_core::state::mem::FrameUse;
use daxlab_core::state::Machine;

/// One event, ready to show: its text, its place in the call graph and what it touched.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    /// Step.
    pub step: u32,
    /// Thread lane (0 = main).
    pub lane: usize,
    /// Kind, as the trace names it (`copy`, `call`, ...).
    pub kind: &'static str,
    /// Call depth (function_graph indentation).
    pub depth: usize,
    /// One line of text.
    pub text: String,
    /// Frames it touched (for linking to the views).
    pub pfns: Vec<u64>,
    /// For copies and zeroing: where from and to.
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
    /// Column: 0 user, 1 RAM (page cache, hole or anonymous page), 2 device.
    pub column: usize,
    /// Label (address, page, sector).
    pub label: String,
    /// Frame, if any.
    pub pfn: Option<u64>,
}

fn place(l: &Loc, n: &Names) -> Place {
    let column = match l.space {
        Space::User { .. } => 0,
        Space::PageCache { .. } | Space::HolePage { .. } | Space::Anon | Space::Kernel => 1,
        Space::Device { .. } => 2,
    };
    Place {
        column,
        label: text::place(&Loc { pfn: None, ..*l }, n),
        pfn: l.pfn.map(|p| p.0),
    }
}

fn pfns(e: &Event) -> Vec<u64> {
    let loc = |l: &Loc| l.pfn.map(|p| p.0);
    match &e.kind {
        EventKind::Copy { src, dst, .. } => [loc(src), loc(dst)].into_iter().flatten().collect(),
        EventKind::Zero { dst, .. } => loc(dst).into_iter().collect(),
        EventKind::Access { pfn, .. }
        | EventKind::Pte { pfn, .. }
        | EventKind::PageCache { pfn, .. } => {
            vec![pfn.0]
        }
        _ => vec![],
    }
}

/// Rows for events, with the call depth of each lane carried across.
fn rows(events: &[Event], names: &Names, depth: &mut BTreeMap<usize, usize>) -> Vec<EventRow> {
    events
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
                    from: Some(place(src, names)),
                    to: place(dst, names),
                    bytes: *bytes,
                    func,
                }),
                EventKind::Zero { func, dst, bytes } => Some(Flow {
                    from: None,
                    to: place(dst, names),
                    bytes: *bytes,
                    func,
                }),
                _ => None,
            };
            EventRow {
                step: e.step,
                lane,
                kind: e.kind.name(),
                depth: shown,
                text: text::event(e, names),
                pfns: pfns(e),
                flow,
                mount: e.mount.map(|m| names.mount(m).to_string()),
            }
        })
        .collect()
}

/// A command's result, as the views show it.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultRow {
    /// Line of the command.
    pub line: u32,
    /// The step it started in.
    pub start: u32,
    /// The step it finished in.
    pub step: u32,
    /// Its text.
    pub command: String,
    /// The thread that ran it (`None`: main).
    pub thread: Option<String>,
    /// Whether it succeeded (for an `expect`: whether it held).
    pub ok: bool,
    /// An `expect` line.
    pub expect: bool,
    /// The status and value, as text.
    pub text: String,
    /// The errno it failed with, by name.
    pub errno: Option<&'static str>,
    /// The kernel's message, if any.
    pub message: Option<String>,
}

fn result_row(r: &CmdResult) -> ResultRow {
    ResultRow {
        line: r.line,
        start: r.start,
        step: r.step,
        command: r.command.to_string(),
        thread: r.thread.as_ref().map(|t| t.to_string()),
        ok: r.ok(),
        expect: r.check.is_some(),
        text: text::result(r),
        errno: match r.outcome.fail {
            Some(daxlab_core::engine::trace::Fail::Errno(e)) => Some(e.name()),
            _ => None,
        },
        message: r.outcome.message.as_ref().map(|m| m.to_string()),
    }
}

/// One run of a scenario.
pub struct Session {
    /// The scenario text.
    pub text: String,
    /// Steps in the run.
    pub total_steps: u32,
    /// Every event.
    pub events: Vec<EventRow>,
    /// Thread lanes: "main" and the scenario's threads.
    pub lanes: Vec<String>,
    /// The lane that ran each step (index `step - 1`).
    pub ran: Vec<usize>,
    /// Every command's result, in completion order.
    pub results: Vec<ResultRow>,
    /// Whether every expect held.
    pub ok: bool,
    /// Mount paths in order.
    pub mounts: Vec<String>,
    /// The machine at the end of the run.
    pub end: Snapshot,
    /// The run itself, for forks at a step.
    exec: RefCell<Execution>,
}

impl PartialEq for Session {
    fn eq(&self, o: &Self) -> bool {
        self.text == o.text && self.total_steps == o.total_steps
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Session({} steps)", self.total_steps)
    }
}

impl Session {
    /// Events of one step.
    pub fn events_at(&self, step: u32) -> &[EventRow] {
        let a = self.events.partition_point(|e| e.step < step);
        let b = self.events.partition_point(|e| e.step <= step);
        &self.events[a..b]
    }
    /// Bytes copied per step that copied any.
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
    while !r.advance(1 << 20) {}
    Ok(r.into_session())
}

/// A scenario being run a slice at a time, so the page can show progress and stay responsive
/// while a long scenario runs.
pub struct Running {
    text: String,
    exec: Execution,
    events: Vec<Event>,
}

impl Running {
    /// Parse and prepare.
    pub fn start(text: &str) -> Result<Self, ParseError> {
        let s = parse(text)?;
        let exec = Execution::new(&s, RunOptions::stepped())?;
        Ok(Running {
            text: text.to_string(),
            exec,
            events: Vec::new(),
        })
    }
    /// Run up to `steps` more steps; true when finished.
    pub fn advance(&mut self, steps: u32) -> bool {
        let done = self.exec.advance(steps);
        self.events.extend(self.exec.take_events());
        done
    }
    /// Steps run so far.
    pub fn step(&self) -> u32 {
        self.exec.step()
    }
    /// The finished run as a session.
    pub fn into_session(self) -> Rc<Session> {
        let names = Names::of(&self.exec);
        let mut depth = BTreeMap::new();
        let events = rows(&self.events, &names, &mut depth);
        let results: Vec<ResultRow> = self.exec.results().iter().map(result_row).collect();
        let ok = results.iter().all(|r| r.ok || !r.expect);
        let end = machine(
            &self.exec.machine(),
            self.exec.counters(),
            &names,
            &self.exec,
        );
        let ran = self
            .exec
            .steps()
            .iter()
            .map(|s| s.thread.0 as usize)
            .collect();
        Rc::new(Session {
            text: self.text,
            total_steps: self.exec.step(),
            events,
            lanes: names.threads.iter().map(|t| t.to_string()).collect(),
            ran,
            results,
            ok,
            mounts: names.mounts.iter().map(|m| m.to_string()).collect(),
            end,
            exec: RefCell::new(self.exec),
        })
    }
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
    /// CPU frames holding the device's data.
    pub frames: Vec<DeviceFrame>,
}

/// A page of a device held in a CPU frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceFrame {
    /// Page index in the device.
    pub index: u64,
    /// The frame.
    pub pfn: u64,
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
    /// Allocated blocks.
    pub blocks: Vec<BlockView>,
    /// Page-cache pages.
    pub pages: Vec<PageView>,
}

/// One block of a file's block map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockView {
    /// Block within the file.
    pub iblock: u64,
    /// Filesystem block.
    pub block: u64,
    /// An unwritten extent.
    pub unwritten: bool,
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
    /// Its PTEs.
    pub ptes: Vec<PteView>,
}

/// A page-table entry of a mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PteView {
    /// Page within the mapping.
    pub page: u64,
    /// The frame.
    pub pfn: u64,
    /// Writable.
    pub writable: bool,
    /// A special PTE (no `struct page`).
    pub special: bool,
    /// Maps an anonymous copy.
    pub anon: bool,
}

/// What a RAM frame holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RamUse {
    /// A brd page (the RAM disk's own storage).
    Brd,
    /// A page-cache page.
    PageCache,
    /// A 4.0 DAX hole page.
    HolePage,
    /// An anonymous (copy-on-write) page.
    Anon,
    /// A page of a program's I/O buffer.
    Buffer,
    /// Kernel memory.
    Kernel,
}

/// A RAM frame in use.
#[derive(Debug, Clone, PartialEq)]
pub struct RamFrame {
    /// The frame.
    pub pfn: u64,
    /// What for.
    pub what: RamUse,
    /// Described.
    pub text: String,
}

/// A lock and who holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct LockView {
    /// The lock, as lockdep names it.
    pub lock: String,
    /// Holders ("a", "b (read)").
    pub holders: String,
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
    /// Mappings of the processes.
    pub vmas: Vec<VmaView>,
    /// RAM frames in use.
    pub ram: Vec<RamFrame>,
    /// Locks held.
    pub locks: Vec<LockView>,
    /// Counters up to this step.
    pub counters: Counters,
    /// Counters per mount path.
    pub by_mount: BTreeMap<String, Counters>,
    /// The kernel and architecture ("Linux 4.0 · x86_64").
    pub machine: String,
}

/// The machine of `session` after `step`.
pub fn snapshot(session: &Session, step: u32) -> Snapshot {
    if step >= session.total_steps {
        return session.end.clone();
    }
    let exec = session.exec.borrow();
    let fork = exec.fork_at(
        step,
        RunOptions {
            trace: TraceMode::Off,
            keep_steps: false,
            checkpoint_every: 0,
            batch: true,
        },
    );
    let names = Names::of(&fork);
    let m = fork.machine();
    machine(&m, fork.counters(), &names, &fork)
}

fn machine(
    m: &Machine,
    counters: (Counters, Vec<Counters>),
    names: &Names,
    e: &Execution,
) -> Snapshot {
    let ram = m
        .mem
        .frames()
        .filter_map(|(pfn, f)| {
            let (what, text) = match f.usage {
                FrameUse::BrdPage { dev, idx } => {
                    (RamUse::Brd, format!("brd {} page {idx}", names.device(dev)))
                }
                FrameUse::PageCache { ino, index } => (
                    RamUse::PageCache,
                    format!("page cache ino {ino} page {index}"),
                ),
                FrameUse::HolePage { ino, index } => (
                    RamUse::HolePage,
                    format!("hole page ino {ino} page {index}"),
                ),
                FrameUse::Anon { .. } => (RamUse::Anon, "anonymous".into()),
                FrameUse::UserBuffer { pid } => {
                    (RamUse::Buffer, format!("buffer of {}", m.process(pid).name))
                }
                FrameUse::Kernel => (RamUse::Kernel, "kernel".into()),
                FrameUse::DeviceMemory { .. } => return None,
            };
            Some(RamFrame {
                pfn: pfn.0,
                what,
                text,
            })
        })
        .collect();
    let devices = m
        .devices
        .iter()
        .map(|d| DeviceView {
            name: d.name.to_string(),
            kind: d.driver.kind().name().to_string(),
            size: d.driver.size(),
            direct_access: d.driver.has_direct_access(),
            backing: d.driver.describe(),
            frames: d
                .driver
                .cpu_frames(&m.mem)
                .into_iter()
                .map(|(index, p)| DeviceFrame { index, pfn: p.0 })
                .collect(),
        })
        .collect();
    let files = m
        .inodes
        .values()
        .map(|i| {
            let fs = m.fs(i.fs);
            FileView {
                ino: i.ino,
                path: m
                    .path_of(i.ino)
                    .unwrap_or_else(|| format!("(ino {}, unlinked)", i.ino)),
                dev: m.device(fs.dev).name.to_string(),
                block_size: fs.block_size,
                size: i.size,
                s_dax: i.s_dax,
                blocks: i
                    .blocks
                    .iter()
                    .map(|(iblock, e)| BlockView {
                        iblock,
                        block: e.block,
                        unwritten: e.unwritten,
                    })
                    .collect(),
                pages: i
                    .mapping
                    .pages
                    .iter()
                    .map(|(x, p)| PageView {
                        index: x,
                        pfn: p.pfn.0,
                        dirty: p.dirty,
                        uptodate: p.uptodate,
                        hole: p.hole,
                    })
                    .collect(),
            }
        })
        .collect();
    let vmas = m
        .processes
        .iter()
        .flat_map(|p| {
            p.mm.vmas.values().filter_map(move |v| {
                let ino = v.ino()?;
                Some(VmaView {
                    process: p.name.to_string(),
                    name: v.name.to_string(),
                    start: v.start,
                    pages: v.len / 4096,
                    file: m.path_of(ino).unwrap_or_else(|| format!("ino {ino}")),
                    shared: v.shared,
                    writable: v.writable,
                    mixedmap: v.mixedmap,
                    ptes: p
                        .mm
                        .ptes_in(v.start, v.len)
                        .map(|(a, pte)| PteView {
                            page: (a - v.start) / 4096,
                            pfn: pte.pfn.0,
                            writable: pte.writable,
                            special: pte.special,
                            anon: pte.anon,
                        })
                        .collect(),
                })
            })
        })
        .collect();
    let thread = |t: daxlab_core::state::Tid| names.thread(t).to_string();
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
    let by_mount = names
        .mounts
        .iter()
        .enumerate()
        .map(|(i, p)| (p.to_string(), by.get(i).copied().unwrap_or_default()))
        .collect();
    Snapshot {
        step: e.step(),
        devices,
        proc_mounts: daxlab_core::kernel::mount::proc_mounts(m),
        files,
        vmas,
        ram,
        locks,
        counters: total,
        by_mount,
        machine: format!(
            "{} · {}{}",
            m.config.era.label(),
            m.config.arch.name(),
            if m.config.pretend_fs_dax {
                " (FS_DAX built anyway)"
            } else {
                ""
            }
        ),
    }
}
