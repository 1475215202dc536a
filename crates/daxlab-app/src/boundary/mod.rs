//! The one place the app calls the simulation core.
//!
//! A [`Run`] is one run of a scenario: its results, what each step did in brief (the step
//! marks, enough for the timeline of a million steps) and the run itself, kept for forks. A
//! [`StepView`] is everything shown at one step: the machine, made by forking the run from its
//! nearest checkpoint, and the events of that step alone, recorded by the fork. Memory stays
//! bounded by the marks: no event of the run is kept. Everything here is plain data with
//! named fields; the views never see the core's types of state.

pub mod cache;
pub mod cells;
pub mod explore;
mod machine;
pub mod race;

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;

use daxlab_core::engine::exec::{Execution, RunOptions};
use daxlab_core::engine::trace::{Event, EventKind, Fail, Loc, Space, StepMark, TraceMode};
use daxlab_core::lang::command::{Item, Scenario};
use daxlab_core::lang::data::Bytes;
use daxlab_core::lang::outcome::{CmdResult, Value};
use daxlab_core::lang::parse::{parse, ParseError, ScenarioNames};
use daxlab_core::lang::report::Names;
use daxlab_core::lang::text;
use daxlab_core::state::mem::{Pfn, PAGE_SIZE};
use daxlab_core::state::Tid;

pub use machine::{
    frame_info, DeviceView, FileView, FrameInfo, LockView, MountCounters, Role, Scope, Snapshot,
    VmaView, MAX_LISTED,
};

/// The most events of one step listed.
pub const MAX_EVENTS: usize = 200;
/// Bytes of a result kept for the hex view.
pub const RESULT_BYTES: usize = 256;

/// One event, ready to show: its text, its place in the call graph and what it touched.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    /// Thread lane (0 = main).
    pub lane: usize,
    /// Kind, as the trace names it (`copy`, `call`, ...).
    pub kind: &'static str,
    /// Call depth (function_graph indentation).
    pub depth: usize,
    /// One line of text.
    pub text: String,
    /// The frame it touched first (for linking to the views).
    pub pfn: Option<u64>,
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

/// Where a copy's bytes are, for the flow diagram (the event's text says it in words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    /// Column: 0 user, 1 RAM (page cache, hole or anonymous page), 2 device.
    pub column: usize,
    /// Frame, if any.
    pub pfn: Option<u64>,
}

fn place(l: &Loc) -> Place {
    let column = match l.space {
        Space::User { .. } => 0,
        Space::PageCache { .. } | Space::HolePage { .. } | Space::Anon | Space::Kernel => 1,
        Space::Device { .. } => 2,
    };
    Place {
        column,
        pfn: l.pfn.map(|p| p.0),
    }
}

fn first_pfn(e: &Event) -> Option<u64> {
    match &e.kind {
        EventKind::Copy { src, dst, .. } => dst.pfn.or(src.pfn).map(|p| p.0),
        EventKind::Zero { dst, .. } => dst.pfn.map(|p| p.0),
        EventKind::Access { pfn, .. }
        | EventKind::Pte { pfn, .. }
        | EventKind::PageCache { pfn, .. } => Some(pfn.0),
        _ => None,
    }
}

/// Rows for the events of a step; `depth` is each lane's call depth before the step.
fn rows(events: &[Event], names: &Names, depth: &mut [usize]) -> Vec<EventRow> {
    events
        .iter()
        .take(MAX_EVENTS)
        .map(|e| {
            let lane = e.thread.0 as usize;
            let mut none = 0;
            let d = depth.get_mut(lane).unwrap_or(&mut none);
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
                lane,
                kind: e.kind.name(),
                depth: shown,
                text: text::event(e, names),
                pfn: first_pfn(e),
                flow,
                mount: e.mount.map(|m| names.mount(m).to_string()),
            }
        })
        .collect()
}

/// An invariant a run broke: which, after which step, and why in the kernel's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViolationRow {
    /// The step after which it was found.
    pub step: u32,
    /// The invariant's name (`store_lost`, `deadlock`, ...).
    pub name: &'static str,
    /// What broke.
    pub message: String,
}

impl ViolationRow {
    /// The row of a violation the core found.
    pub fn of(v: &daxlab_core::lang::outcome::Violation) -> Self {
        ViolationRow {
            step: v.step,
            name: v.invariant.name(),
            message: v.message.to_string(),
        }
    }
}

/// How a command ended, as the views mark it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// It did what it was asked (an `expect` that held).
    Ok,
    /// It succeeded with less than asked, and the kernel said why (ext2 mounting without
    /// `-o dax` where FS_DAX is not built).
    Degraded,
    /// It failed (an errno, a signal, a refusal) or an `expect` did not hold.
    Failed,
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
    /// How it ended.
    pub status: Status,
    /// An `expect` line.
    pub expect: bool,
    /// The status and value, as the command-line runner prints them.
    pub text: String,
    /// The errno it failed with, by name.
    pub errno: Option<&'static str>,
    /// The kernel's message, if any.
    pub message: Option<String>,
    /// The bytes it produced (the first [`RESULT_BYTES`]), for the hex view.
    pub bytes: Option<Rc<[u8]>>,
    /// How many bytes it produced.
    pub len: u64,
}

impl ResultRow {
    /// Whether it succeeded (for an `expect`: whether it held).
    pub fn ok(&self) -> bool {
        self.status != Status::Failed
    }
}

fn result_row(r: &CmdResult) -> ResultRow {
    let bytes: Option<&Bytes> = match &r.outcome.value {
        Value::Bytes(b) => Some(b),
        _ => None,
    };
    let status = if !r.ok() {
        Status::Failed
    } else if r.check.is_none() && r.outcome.message.is_some() {
        Status::Degraded
    } else {
        Status::Ok
    };
    ResultRow {
        line: r.line,
        start: r.start,
        step: r.step,
        command: r.command.to_string(),
        thread: r.thread.as_ref().map(|t| t.to_string()),
        status,
        expect: r.check.is_some(),
        text: text::result(r),
        errno: match r.outcome.fail {
            Some(Fail::Errno(e)) => Some(e.name()),
            _ => None,
        },
        message: r.outcome.message.as_ref().map(|m| m.to_string()),
        bytes: bytes.map(|b| Rc::from(b.prefix(RESULT_BYTES))),
        len: bytes.map_or(0, Bytes::len),
    }
}

/// The kernel and CPU the run simulates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineInfo {
    /// The era ("Linux 4.0").
    pub era: &'static str,
    /// The architecture's console word.
    pub arch: &'static str,
    /// Whether `CONFIG_FS_DAX` is built.
    pub fs_dax: bool,
    /// Built with `arch ... pretend`.
    pub pretend: bool,
    /// The lock policy's console word.
    pub locking: &'static str,
}

/// A mount of the run (mounted at some point).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountInfo {
    /// Mount point.
    pub path: String,
    /// Mounted with DAX in effect.
    pub dax: bool,
}

/// What to look for on the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Seek {
    /// The start of a command.
    Command,
    /// A copy of file data.
    Copy,
    /// A page fault.
    Fault,
    /// A thread waiting for a lock.
    Wait,
    /// A failure: an errno, a signal, a refusal.
    Error,
    /// A step after which an invariant was found broken.
    Violation,
}

impl Seek {
    /// Every kind, with its name on the page.
    pub const ALL: [(Seek, &'static str); 6] = [
        (Seek::Command, "command"),
        (Seek::Copy, "copy"),
        (Seek::Fault, "fault"),
        (Seek::Wait, "lock wait"),
        (Seek::Error, "error"),
        (Seek::Violation, "violation"),
    ];
    /// The step mark it looks for (none for commands and violations, which the run lists).
    pub fn mark(self) -> u8 {
        match self {
            Seek::Command | Seek::Violation => 0,
            Seek::Copy => StepMark::COPY,
            Seek::Fault => StepMark::FAULT,
            Seek::Wait => StepMark::WAIT,
            Seek::Error => StepMark::ERROR,
        }
    }
    /// Its name on the page.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(s, _)| *s == self)
            .map_or("", |x| x.1)
    }
}

/// Where a command starts, on a strip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandStart {
    /// The column.
    pub column: usize,
    /// The command's line.
    pub line: u32,
}

/// A stretch of the run in columns of steps: the whole run in a fixed number of columns, or
/// the steps around the current one, a column each. The same whatever the length of the run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Strip {
    /// The first step of the first column.
    pub first: u32,
    /// Steps per column (the last may hold fewer).
    pub per_column: u32,
    /// For each lane, how many steps of each column it ran.
    pub lanes: Vec<Vec<u32>>,
    /// What happened in each column (step marks or-ed together).
    pub marks: Vec<u8>,
    /// Bytes copied in each column.
    pub bytes: Vec<u64>,
    /// Columns where a command starts (one entry per column).
    pub starts: Vec<CommandStart>,
}

impl Strip {
    /// The column of `step`, if it is on the strip.
    pub fn column(&self, step: u32) -> Option<usize> {
        let c = step.checked_sub(self.first.max(1))? / self.per_column.max(1);
        ((c as usize) < self.marks.len()).then_some(c as usize)
    }
}

/// The most columns of the whole run.
pub const BINS: u32 = 200;

/// One run of a scenario.
pub struct Run {
    /// The scenario text.
    pub text: String,
    /// Steps in the run.
    pub total: u32,
    /// Thread lanes: "main" and the scenario's threads.
    pub lanes: Vec<String>,
    /// Every command's result, in completion order.
    pub results: Vec<ResultRow>,
    /// Whether every expect held.
    pub ok: bool,
    /// The kernel and CPU.
    pub machine: MachineInfo,
    /// Mounts made in the run.
    pub mounts: Vec<MountInfo>,
    /// Kernel functions the run called (for lesson goals).
    pub called: Rc<BTreeSet<&'static str>>,
    /// The invariants the run broke, in the order they broke.
    pub violations: Vec<ViolationRow>,
    /// The whole run at a glance.
    pub overview: Strip,
    /// Names the scenario defines, for completion.
    pub names: ScenarioNames,
    scenario: Scenario,
    exec: Rc<RefCell<Execution>>,
}

impl PartialEq for Run {
    fn eq(&self, o: &Self) -> bool {
        std::ptr::eq(self, o)
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Run({} steps)", self.total)
    }
}

/// A scenario being run a slice at a time, so the page stays responsive and shows progress.
pub struct Running {
    text: String,
    scenario: Scenario,
    exec: Rc<RefCell<Execution>>,
    called: BTreeSet<&'static str>,
}

impl Running {
    /// Parse and prepare.
    pub fn start(text: &str) -> Result<Self, ParseError> {
        let scenario = parse(text)?;
        let exec = Execution::new(&scenario, RunOptions::stepped())?;
        Ok(Running {
            text: text.to_string(),
            scenario,
            exec: Rc::new(RefCell::new(exec)),
            called: BTreeSet::new(),
        })
    }

    /// `text` continues `prev` by one top-level command: go on from the end of `prev` instead
    /// of running everything again. `None` when it does not.
    pub fn extend(prev: &Run, text: &str) -> Option<Self> {
        let rest = text.strip_prefix(prev.text.as_str())?;
        if !prev.text.is_empty() && !prev.text.ends_with('\n') {
            return None;
        }
        if rest.trim().is_empty() || !prev.exec.borrow().finished() {
            return None;
        }
        let scenario = parse(text).ok()?;
        // The text begins with the previous one, which parsed line by line to its items.
        if scenario.items.len() != prev.scenario.items.len() + 1 {
            return None;
        }
        let Some(Item::Stmt(stmt)) = scenario.items.last() else {
            return None;
        };
        prev.exec.borrow_mut().append(stmt.clone());
        Some(Running {
            text: text.to_string(),
            scenario,
            exec: prev.exec.clone(),
            called: (*prev.called).clone(),
        })
    }

    /// Run up to `steps` more steps; true when finished.
    pub fn advance(&mut self, steps: u32) -> bool {
        let mut e = self.exec.borrow_mut();
        let done = e.advance(steps);
        for ev in e.take_events() {
            if let EventKind::Call { func } = ev.kind {
                self.called.insert(func);
            }
        }
        done
    }

    /// Steps run so far.
    pub fn step(&self) -> u32 {
        self.exec.borrow().step()
    }

    /// The finished run.
    pub fn finish(self) -> Run {
        Run::of(self.text, self.scenario, self.exec, self.called)
    }
}

impl Run {
    /// The run `exec` of `scenario` (whose text is `text`), as the views show it.
    fn of(
        text: String,
        scenario: Scenario,
        exec: Rc<RefCell<Execution>>,
        called: BTreeSet<&'static str>,
    ) -> Run {
        let e = exec.borrow();
        let names = Names::of(&e);
        let results: Vec<ResultRow> = e.results().iter().map(result_row).collect();
        let ok = results.iter().all(|r| r.ok() || !r.expect);
        let total = e.step();
        let m = e.machine();
        let c = m.config;
        let machine = MachineInfo {
            era: c.era.label(),
            arch: c.arch.name(),
            fs_dax: c.fs_dax(),
            pretend: c.pretend_fs_dax,
            locking: c.locking.name(),
        };
        let mounts = m
            .mounts
            .iter()
            .map(|x| MountInfo {
                path: x.path.to_string(),
                dax: x.opts.dax,
            })
            .collect();
        drop(m);
        let violations = e.violations().iter().map(ViolationRow::of).collect();
        let steps = e.steps();
        let n = (total as usize).min(steps.len());
        let overview = strip(
            &steps[..n],
            1,
            total.div_ceil(BINS).max(1),
            &results,
            names.threads.len(),
        );
        drop(steps);
        drop(e);
        Run {
            names: ScenarioNames::of(&scenario),
            text,
            total,
            lanes: names.threads.iter().map(|t| t.to_string()).collect(),
            results,
            ok,
            machine,
            mounts,
            called: Rc::new(called),
            violations,
            overview,
            scenario,
            exec,
        }
    }
}

/// Run a scenario to the end in one go (tests, lessons' checks).
pub fn run(text: &str) -> Result<Run, ParseError> {
    let mut r = Running::start(text)?;
    while !r.advance(1 << 20) {}
    Ok(r.finish())
}

/// The strip of `marks` (steps `first..`), `per_column` steps a column.
fn strip(
    marks: &[StepMark],
    first: u32,
    per_column: u32,
    results: &[ResultRow],
    lanes: usize,
) -> Strip {
    let per = per_column.max(1) as usize;
    let columns = marks.len().div_ceil(per);
    let mut o = Strip {
        first,
        per_column: per as u32,
        lanes: vec![vec![0; columns]; lanes.max(1)],
        marks: vec![0; columns],
        bytes: vec![0; columns],
        starts: Vec::new(),
    };
    for (i, s) in marks.iter().enumerate() {
        let c = i / per;
        if let Some(l) = o.lanes.get_mut(s.thread.0 as usize) {
            l[c] += 1;
        }
        o.marks[c] |= s.marks;
        o.bytes[c] += u64::from(s.bytes);
    }
    for r in results {
        if let Some(column) = o.column(r.start) {
            if !o.starts.iter().any(|x| x.column == column) {
                o.starts.push(CommandStart {
                    column,
                    line: r.line,
                });
            }
        }
    }
    o
}

/// Everything shown at one step.
#[derive(Debug, Clone, PartialEq)]
pub struct StepView {
    /// The step.
    pub step: u32,
    /// The lane that ran it.
    pub lane: Option<usize>,
    /// Its events (at most [`MAX_EVENTS`]).
    pub events: Vec<EventRow>,
    /// Events not listed.
    pub more_events: usize,
    /// The machine after it.
    pub machine: Rc<Snapshot>,
    /// The contents of the page open in the page view.
    pub page: Option<PageContents>,
}

/// A page frame's bytes after a step, and which of them the step changed.
#[derive(Debug, Clone, PartialEq)]
pub struct PageContents {
    /// The frame.
    pub pfn: u64,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Which bytes differ from before the step.
    pub changed: Vec<bool>,
    /// What the frame is.
    pub info: FrameInfo,
}

impl PageContents {
    /// How many bytes the step changed.
    pub fn changed_count(&self) -> usize {
        self.changed.iter().filter(|c| **c).count()
    }
}

/// What a step view shows besides the machine.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ViewOptions {
    /// Only some mounts.
    pub scope: Scope,
    /// The selected frame (described in the snapshot).
    pub selected: Option<u64>,
    /// The frame whose contents are open.
    pub page: Option<u64>,
}

impl Run {
    /// Steps' marks (index `step - 1`).
    fn with_marks<T>(&self, f: impl FnOnce(&[StepMark]) -> T) -> T {
        let e = self.exec.borrow();
        let marks = e.steps();
        let n = (self.total as usize).min(marks.len());
        f(&marks[..n])
    }

    /// The lane that ran `step`.
    pub fn lane_of(&self, step: u32) -> Option<usize> {
        let i = step.checked_sub(1)? as usize;
        self.with_marks(|m| m.get(i).map(|s| s.thread.0 as usize))
    }

    /// The last step that did something worth seeing: a copy, a zeroing, a fault, a wait, an
    /// error, or (on a virtually indexed cache) a line filled, written back or dropped.
    pub fn latest(&self) -> Option<u32> {
        self.with_marks(|m| m.iter().rposition(|s| s.marks != 0).map(|i| i as u32 + 1))
    }

    /// The nearest step after (or before) `from` that has `what`.
    pub fn seek(&self, what: Seek, from: u32, forward: bool) -> Option<u32> {
        let listed: Option<Vec<u32>> = match what {
            Seek::Command => Some(self.results.iter().map(|r| r.start).collect()),
            Seek::Violation => Some(self.violations.iter().map(|v| v.step).collect()),
            _ => None,
        };
        if let Some(steps) = listed {
            let steps = steps.into_iter();
            return if forward {
                steps.filter(|s| *s > from).min()
            } else {
                steps.filter(|s| *s < from).max()
            };
        }
        let bit = what.mark();
        self.with_marks(|m| {
            if forward {
                m.iter()
                    .enumerate()
                    .skip(from as usize)
                    .find(|(_, s)| s.marks & bit != 0)
                    .map(|(i, _)| i as u32 + 1)
            } else {
                m[..(from.saturating_sub(1) as usize).min(m.len())]
                    .iter()
                    .rposition(|s| s.marks & bit != 0)
                    .map(|i| i as u32 + 1)
            }
        })
    }

    /// The steps around `step`, `radius` each side (clamped to the run), a column each.
    pub fn detail(&self, step: u32, radius: u32) -> Strip {
        let first = step
            .saturating_sub(radius)
            .max(1)
            .min(self.total.saturating_sub(2 * radius).max(1));
        let last = (first + 2 * radius).min(self.total);
        self.with_marks(|m| {
            let to = (last as usize).min(m.len());
            let from = (first as usize - 1).min(to);
            strip(&m[from..to], first, 1, &self.results, self.lanes.len())
        })
    }

    /// The commands in progress during `step` (started, not finished before it), the one of
    /// the thread that ran the step first.
    pub fn running_at(&self, step: u32) -> Vec<usize> {
        if step == 0 {
            return Vec::new();
        }
        let lane = self.lane_of(step).and_then(|l| self.lanes.get(l));
        let (mut mine, others): (Vec<usize>, Vec<usize>) = (0..self.results.len())
            .filter(|i| {
                let r = &self.results[*i];
                r.start <= step && step <= r.step
            })
            .partition(|i| {
                let t = self.results[*i].thread.as_deref().unwrap_or("main");
                lane.is_some_and(|l| l == t)
            });
        mine.extend(others);
        mine
    }

    /// The step where the `n`-th result (in completion order) finished; 0 for none.
    pub fn step_of_result(&self, n: usize) -> u32 {
        match n {
            0 => 0,
            n => self.results.get(n - 1).map_or(self.total, |r| r.step),
        }
    }

    /// The mount paths with DAX in effect, when the run also has mounts without it.
    pub fn dax_scope(&self) -> Scope {
        let dax: Vec<String> = self
            .mounts
            .iter()
            .filter(|m| m.dax)
            .map(|m| m.path.clone())
            .collect();
        Scope {
            mounts: (!dax.is_empty() && dax.len() < self.mounts.len()).then_some(dax),
        }
    }

    /// Everything shown at `step` (clamped to the run).
    pub fn view(&self, step: u32, opts: &ViewOptions) -> StepView {
        let step = step.min(self.total);
        let exec = self.exec.borrow();
        let mut fork = exec.fork_at(
            step.saturating_sub(1),
            RunOptions {
                trace: TraceMode::Off,
                keep_steps: false,
                checkpoint_every: 0,
                batch: true,
            },
        );
        drop(exec);
        let before = match opts.page {
            Some(p) if step > 0 => Some(fork.machine().mem.page(Pfn(p)).to_vec()),
            _ => None,
        };
        let mut depth: Vec<usize> = fork.machine().tasks.iter().map(|t| t.stack.len()).collect();
        let mut events = Vec::new();
        if step > 0 {
            fork.set_trace(TraceMode::Full);
            fork.advance(1);
            events = fork.take_events();
        }
        let names = Names::of(&fork);
        let m = fork.machine();
        let page = opts.page.map(|p| {
            let bytes = m.mem.page(Pfn(p)).to_vec();
            let changed = match &before {
                Some(b) => b.iter().zip(&bytes).map(|(a, b)| a != b).collect(),
                None => vec![false; PAGE_SIZE as usize],
            };
            PageContents {
                pfn: p,
                bytes,
                changed,
                info: frame_info(&m, &names, p),
            }
        });
        let mut snap = machine::snapshot(&m, fork.counters(), &names, &opts.scope, opts.selected);
        snap.cache = cache::cache_view(&m, &events, opts.selected);
        snap.memmap = cache::memmap_view(&m, &opts.scope);
        let machine = Rc::new(snap);
        drop(m);
        StepView {
            step,
            lane: events
                .first()
                .map(|e| e.thread.0 as usize)
                .or_else(|| self.lane_of(step)),
            more_events: events.len().saturating_sub(MAX_EVENTS),
            events: rows(&events, &names, &mut depth),
            machine,
            page,
        }
    }
}

/// The step of `twin` (the page-cache twin of `run`) that matches `step` of `run`: as far into
/// the same command, at the nearest step of it that does the same kind of thing (a copy, a
/// fault, a zeroing) when there is one; between commands, after as many commands.
pub fn twin_step(run: &Run, twin: &Run, step: u32) -> u32 {
    if step >= run.total {
        return twin.total;
    }
    if let Some(&i) = run.running_at(step).first() {
        let r = &run.results[i];
        if let Some(t) = twin
            .results
            .iter()
            .find(|t| t.line == r.line && t.thread == r.thread)
        {
            let len = u64::from(r.step - r.start + 1);
            let tlen = u64::from(t.step - t.start + 1);
            let at = t.start + (u64::from(step - r.start) * tlen / len) as u32;
            let want = run.with_marks(|m| m.get(step as usize - 1).map_or(0, |s| s.marks))
                & (StepMark::COPY | StepMark::ZERO | StepMark::FAULT);
            if want != 0 {
                let near = twin.with_marks(|m| {
                    let has = |s: u32| m.get(s as usize - 1).is_some_and(|x| x.marks & want != 0);
                    (0..=tlen as u32).find_map(|d| {
                        [at.checked_sub(d), at.checked_add(d)]
                            .into_iter()
                            .flatten()
                            .find(|s| *s >= t.start.max(1) && *s <= t.step && has(*s))
                    })
                });
                if let Some(s) = near {
                    return s;
                }
            }
            return at.min(t.step);
        }
    }
    let n = run.results.iter().filter(|r| r.step < step).count();
    twin.step_of_result(n)
}

/// The thread of a lane, as the core numbers threads.
pub fn tid(lane: usize) -> Tid {
    Tid(lane as u16)
}

/// The scenario a newcomer sees first: a RAM disk with a DAX-mounted ext2 and one file.
pub const FIRST_SCENARIO: &str = "\
# A brd RAM disk, formatted ext2 and mounted with -o dax, holding one file.
device pmem0 brd size=64M
mkfs ext2 /dev/pmem0
mount /dev/pmem0 /mnt/dax -o dax
open f /mnt/dax/hello create
write f 0 \"hello, direct access\"
# fsync: the page cache's copy to the device happens at writeback; DAX has nothing to write back.
fsync f
read f 0 20
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_keeps_marks_not_events_and_a_view_has_the_events_of_its_step() {
        let r = run(FIRST_SCENARIO).expect("valid");
        assert_eq!(r.total, 20);
        assert_eq!(r.results.len(), 7);
        let copy = r.seek(Seek::Copy, 0, true).expect("a copy");
        let v = r.view(copy, &ViewOptions::default());
        assert!(v.events.iter().any(|e| e.kind == "copy"), "{:?}", v.events);
        assert_eq!(v.step, copy);
        // Going back finds nothing before the first copy; the next command starts later.
        assert_eq!(r.seek(Seek::Copy, copy, false), None);
        assert!(r.seek(Seek::Command, copy, true).is_some_and(|s| s > copy));
        // The write is running at its copy.
        let running = r.running_at(copy);
        assert!(r.results[running[0]].command.starts_with("write"));
        assert!(r.called.contains("dax_do_io") || r.called.contains("dax_io"));
    }

    #[test]
    fn the_page_view_marks_the_bytes_a_step_changed() {
        let r = run(FIRST_SCENARIO).expect("valid");
        let copy = r.seek(Seek::Copy, 0, true).expect("a copy");
        let at = r.view(copy, &ViewOptions::default());
        let pfn = at
            .events
            .iter()
            .find_map(|e| e.flow.as_ref().and_then(|f| f.to.pfn))
            .expect("a destination frame");
        let v = r.view(
            copy,
            &ViewOptions {
                page: Some(pfn),
                ..ViewOptions::default()
            },
        );
        let p = v.page.expect("page");
        assert_eq!(
            p.changed_count(),
            20,
            "\"hello, direct access\" lands in the frame"
        );
        let first = p.changed.iter().position(|c| *c).expect("changed");
        assert_eq!(&p.bytes[first..first + 5], b"hello");
        // After the copy, nothing changes in that frame.
        let later = r.view(
            r.total,
            &ViewOptions {
                page: Some(pfn),
                ..ViewOptions::default()
            },
        );
        assert_eq!(later.page.expect("page").changed_count(), 0);
    }

    #[test]
    fn a_console_line_continues_the_run() {
        let r = run(FIRST_SCENARIO).expect("valid");
        let text = format!("{FIRST_SCENARIO}read f 0 5\n");
        let mut more = Running::extend(&r, &text).expect("continues");
        while !more.advance(1000) {}
        let r2 = more.finish();
        assert!(r2.total > r.total);
        assert_eq!(r2.results.len(), 8);
        assert_eq!(r2.results[7].text, "ok  \"hello\"");
        // The same as running it all again.
        let again = run(&text).expect("valid");
        assert_eq!(again.total, r2.total);
        assert_eq!(
            again.view(again.total, &ViewOptions::default()).machine,
            r2.view(r2.total, &ViewOptions::default()).machine
        );
        // Not a continuation: a thread block, or other text.
        assert!(Running::extend(&r2, "device x brd size=1M\n").is_none());
    }

    #[test]
    fn the_overview_has_a_bounded_number_of_bins() {
        let text = "device d brd size=64M\nmkfs ext2 /dev/d\nmount /dev/d /m\nopen f /m/x create\nwrite f 0 fill=1 len=8M\nread f 0 8M\n";
        let r = run(text).expect("valid");
        assert!(r.total > 4 * BINS);
        assert!(r.overview.marks.len() <= BINS as usize);
        assert_eq!(r.overview.column(r.total), Some(r.overview.marks.len() - 1));
        let copies: u64 = r.overview.bytes.iter().sum();
        assert_eq!(
            copies,
            16 << 20,
            "written once, read once, through the page cache"
        );
        let v = r.view(r.total, &ViewOptions::default());
        let f = &v.machine.files[0];
        assert_eq!(f.pages.items, 2048);
        assert!(f.pages.cells.len() <= cells::MAX_CELLS);
        let d = r.detail(r.total / 2, 40);
        assert_eq!(d.marks.len(), 81);
        assert_eq!(d.column(r.total / 2), Some(40));
    }

    #[test]
    fn the_twin_shows_the_same_command_doing_the_same_kind_of_thing() {
        let text = "device d brd size=64M\nmkfs ext2 /dev/d\nmount /dev/d /m -o dax\nopen f /m/x create\nwrite f 0 fill=1 len=64K\nread f 0 64K\n";
        let r = run(text).expect("valid");
        let t = run(&crate::state::page_cache_twin(text)).expect("valid");
        let read = r
            .results
            .iter()
            .find(|x| x.command.starts_with("read"))
            .expect("read");
        let copy = r
            .seek(Seek::Copy, read.start, true)
            .expect("a copy in the read");
        let ts = twin_step(&r, &t, copy);
        let tr = t
            .results
            .iter()
            .find(|x| x.command.starts_with("read"))
            .expect("read");
        assert!(
            ts >= tr.start && ts <= tr.step,
            "{ts} in {}..{}",
            tr.start,
            tr.step
        );
        let v = t.view(ts, &ViewOptions::default());
        assert!(v.events.iter().any(|e| e.kind == "copy"), "{:?}", v.events);
        assert_eq!(twin_step(&r, &t, 0), 0);
        assert_eq!(twin_step(&r, &t, r.total), t.total);
    }

    #[test]
    fn degraded_and_refused_operations_are_marked() {
        let text = "arch armv5\ndevice d brd size=64M\nmkfs ext2 /dev/d\nmount /dev/d /m -o dax\nmkfs ext4 /dev/d\n";
        let r = run(text).expect("valid");
        assert_eq!(r.machine.arch, "armv5");
        assert!(!r.machine.fs_dax);
        let mount = r
            .results
            .iter()
            .find(|x| x.command.starts_with("mount"))
            .expect("mount");
        assert_eq!(mount.status, Status::Degraded);
        assert!(mount
            .message
            .as_deref()
            .is_some_and(|m| m.contains("dax option not supported")));
        let r = run("device d disk size=64M\nmkfs ext2 /dev/d\nmount /dev/d /m -o dax\n")
            .expect("valid");
        assert_eq!(r.results[2].status, Status::Failed);
    }

    #[test]
    fn side_by_side_keeps_only_the_dax_mounts_when_both_kinds_exist() {
        let text = crate::lessons::LESSONS[0].scenario;
        let r = run(text).expect("valid");
        let scope = r.dax_scope();
        assert_eq!(scope.mounts.as_deref(), Some(&["/mnt/dax".to_string()][..]));
        let v = r.view(
            r.total,
            &ViewOptions {
                scope,
                ..ViewOptions::default()
            },
        );
        assert!(v
            .machine
            .files
            .iter()
            .all(|f| f.path.starts_with("/mnt/dax")));
        assert_eq!(v.machine.counters.pagecache_pages, 0);
        assert_eq!(run(FIRST_SCENARIO).expect("valid").dax_scope().mounts, None);
    }
}
