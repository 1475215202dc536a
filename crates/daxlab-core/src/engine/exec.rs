//! A run of a scenario: the main thread runs the top-level commands; each group of `thread`
//! and `process` blocks runs concurrently under a [`Scheduler`]; `expect` lines are checked as
//! they complete. A run advances a slice of steps at a time, keeps checkpoints of the machine
//! as it goes, and can be forked at any step from the nearest checkpoint.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::cx::{Cx, World};
use super::footprint::Access;
use super::sched::{Choice, Pick, Scheduler, Script};
use super::trace::{Counters, Event, EventKind, SchedNote, StepMark, TraceMode};
use crate::kernel::resume::Resume;
use crate::lang::command::{Command, Item, Scenario, Stmt};
use crate::lang::invariant::Invariant;
use crate::lang::outcome::{Check, CmdResult, Outcome, Violation};
use crate::lang::parse::{suggest, ParseError};
use crate::lang::run::{resume_cmd, run_cmd};
use crate::state::task::{Blocker, Task};
use crate::state::{Machine, Pid, Process, Tid, DEFAULT_RAM};

/// A run stops after this many steps, whatever the scenario says.
pub const MAX_STEPS: u32 = 50_000_000;

/// How a run keeps what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOptions {
    /// What the trace keeps.
    pub trace: TraceMode,
    /// Keep what each step did in brief (the timeline's lanes and marks).
    pub keep_steps: bool,
    /// Take a checkpoint about every this many steps (0: none).
    pub checkpoint_every: u32,
    /// Let a thread that nothing can interleave with run many steps per poll.
    pub batch: bool,
}

impl RunOptions {
    /// For a viewer: every event, the lanes, checkpoints for time travel.
    pub fn stepped() -> Self {
        RunOptions {
            trace: TraceMode::Full,
            keep_steps: true,
            checkpoint_every: 4096,
            batch: true,
        }
    }
    /// For a run nobody steps through: counters and results only, batched.
    pub fn fast() -> Self {
        RunOptions {
            trace: TraceMode::Off,
            keep_steps: false,
            checkpoint_every: 0,
            batch: true,
        }
    }
}

type CmdFuture = Pin<Box<dyn Future<Output = Outcome>>>;

struct Running {
    stmt: Stmt,
    start: u32,
    fut: CmdFuture,
}

struct Thread {
    name: Rc<str>,
    pid: Pid,
    /// The group of concurrent threads it belongs to (`None`: the main thread).
    group: Option<usize>,
    body: Rc<[Stmt]>,
    pc: usize,
    current: Option<Running>,
    dead: bool,
}

impl Thread {
    fn alive(&self) -> bool {
        !self.dead && (self.current.is_some() || self.pc < self.body.len())
    }
}

/// Where the run is between steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Start the next item.
    Between,
    /// The main thread runs a top-level command.
    Main,
    /// A group of threads runs.
    Group(usize),
}

/// A choice waiting for a scheduler: which of a group's threads runs next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// The group.
    pub group: usize,
    /// Its threads that have not finished.
    pub alive: Vec<Tid>,
    /// Those that can run now.
    pub runnable: Vec<Tid>,
    /// Those that wait, and for what.
    pub blocked: Vec<(Tid, Blocker)>,
}

/// What a checkpoint keeps of a thread.
#[derive(Clone)]
struct ThreadCk {
    pc: usize,
    dead: bool,
    current: Option<(Stmt, u32, Resume)>,
}

/// The run at a step where every thread is between commands or parked at a capture point.
#[derive(Clone)]
struct Checkpoint {
    step: u32,
    machine: Machine,
    counters: Counters,
    by_mount: Vec<Counters>,
    threads: Vec<ThreadCk>,
    phase: Phase,
    next_item: usize,
    sched: Box<dyn Scheduler>,
    results: usize,
    choices: usize,
    violations: usize,
    loaded: Vec<Option<crate::lang::data::Bytes>>,
    ghost: super::ghost::Ghost,
}

/// Checkpoints shared by a run and the forks made from it.
#[derive(Default)]
pub struct Checkpoints {
    list: Vec<Checkpoint>,
    every: u32,
}

/// The most checkpoints a run keeps; past this, every other one goes and the interval doubles.
pub const MAX_CHECKPOINTS: usize = 256;

impl Checkpoints {
    /// How many are kept.
    pub fn len(&self) -> usize {
        self.list.len()
    }
    /// None kept.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
    /// Their steps.
    pub fn steps(&self) -> Vec<u32> {
        self.list.iter().map(|c| c.step).collect()
    }
}

/// One scheduling choice in a group of concurrent threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChoiceMade {
    /// The group.
    pub group: usize,
    /// Who ran.
    pub tid: Tid,
    /// Whether the default policy would have chosen the same thread.
    pub default: bool,
}

/// Buffers a group step reuses.
#[derive(Default)]
struct Scratch {
    alive: Vec<Tid>,
    runnable: Vec<Tid>,
    blocked: Vec<(Tid, Blocker)>,
}

/// A run of a scenario.
pub struct Execution {
    scratch: Scratch,
    scenario: Rc<Scenario>,
    world: Rc<RefCell<World>>,
    threads: Vec<Thread>,
    sched: Box<dyn Scheduler>,
    phase: Phase,
    next_item: usize,
    /// For each item index of a thread block: its group.
    groups: BTreeMap<usize, usize>,
    results: Vec<CmdResult>,
    choices: Vec<ChoiceMade>,
    violations: Vec<Violation>,
    opts: RunOptions,
    checkpoints: Rc<RefCell<Checkpoints>>,
    last_checkpoint: u32,
    stop_at: u32,
    done: bool,
}

/// A step that starts or ends a command on a file touches what the invariants compare with.
fn note_ghost(w: &mut World, a: Access) {
    if w.trace.mode == TraceMode::Footprint {
        w.foot.push(a);
    }
}

/// Check a scenario's `schedule` lines and work out its groups of concurrent threads: the
/// thread blocks between two top-level commands form a group; a schedule line applies to the
/// group of the threads it names (the last line for a group wins).
fn groups(s: &Scenario) -> Result<(BTreeMap<usize, usize>, Script), ParseError> {
    let mut groups = BTreeMap::new();
    let mut names: BTreeMap<Rc<str>, (usize, Tid)> = BTreeMap::new();
    let mut group = 0;
    let mut open = false;
    let mut tid = 1u16;
    for (i, it) in s.items.iter().enumerate() {
        match it {
            Item::Stmt(_) => {
                if open {
                    group += 1;
                    open = false;
                }
            }
            Item::Thread { name, .. } => {
                groups.insert(i, group);
                names.insert(name.clone(), (group, Tid(tid)));
                tid += 1;
                open = true;
            }
            Item::Schedule { .. } => {}
        }
    }
    let declared: Vec<&str> = names.keys().map(|n| &**n).collect();
    let mut script = Script::default();
    for it in &s.items {
        let Item::Schedule { line, order } = it else {
            continue;
        };
        let mut group = None;
        let mut tids = Vec::new();
        for (n, col) in order {
            let Some((g, t)) = names.get(n) else {
                let message = match suggest(n, &declared) {
                    Some(d) => format!("unknown thread \"{n}\"; did you mean \"{d}\"?"),
                    None => format!("unknown thread \"{n}\": declare it with thread {n} {{ ... }}"),
                };
                return Err(ParseError {
                    line: *line,
                    col: *col,
                    message,
                    want: Some(crate::lang::parse::Want::Thread),
                });
            };
            if group.is_some_and(|x| x != *g) {
                return Err(ParseError {
                    line: *line,
                    col: *col,
                    message: format!(
                        "thread \"{n}\" does not run together with the others of this schedule (a top-level command separates them)"
                    ),
                    want: None,
                });
            }
            group = Some(*g);
            tids.push(*t);
        }
        if let Some(g) = group {
            script.set(g, tids);
        }
    }
    Ok((groups, script))
}

impl Execution {
    /// Prepare a run with the scenario's own `schedule` lines.
    pub fn new(s: &Scenario, opts: RunOptions) -> Result<Self, ParseError> {
        let (groups, script) = groups(s)?;
        Ok(Self::build(s, opts, groups, Box::new(script)))
    }

    /// Prepare a run whose groups of threads are scheduled by `sched` instead of the
    /// scenario's `schedule` lines.
    pub fn with_scheduler(
        s: &Scenario,
        opts: RunOptions,
        sched: Box<dyn Scheduler>,
    ) -> Result<Self, ParseError> {
        let (groups, _) = groups(s)?;
        Ok(Self::build(s, opts, groups, sched))
    }

    fn build(
        s: &Scenario,
        opts: RunOptions,
        groups: BTreeMap<usize, usize>,
        sched: Box<dyn Scheduler>,
    ) -> Self {
        let mut w = World::new(Machine::new(DEFAULT_RAM), opts.trace);
        if opts.keep_steps {
            w.steps = Some(Vec::new());
        }
        // A run with concurrent threads, or one that asks about violations, is checked.
        w.ghost.enabled = s.items.iter().any(|i| match i {
            Item::Thread { .. } => true,
            Item::Stmt(st) => matches!(st.cmd, Command::ExpectViolation(_)),
            Item::Schedule { .. } => false,
        });
        let mut e = Execution {
            scratch: Scratch::default(),
            scenario: Rc::new(s.clone()),
            world: Rc::new(RefCell::new(w)),
            threads: vec![Thread {
                name: Rc::from("main"),
                pid: Pid(0),
                group: None,
                body: Rc::from(Vec::new()),
                pc: 0,
                current: None,
                dead: false,
            }],
            sched,
            phase: Phase::Between,
            next_item: 0,
            groups,
            results: Vec::new(),
            choices: Vec::new(),
            violations: Vec::new(),
            opts,
            checkpoints: Rc::new(RefCell::new(Checkpoints {
                list: Vec::new(),
                every: opts.checkpoint_every,
            })),
            last_checkpoint: 0,
            stop_at: 0,
            done: false,
        };
        if opts.checkpoint_every > 0 {
            e.take_checkpoint();
        }
        e
    }

    /// Steps run so far.
    pub fn step(&self) -> u32 {
        self.world.borrow().step
    }

    /// Whether the scenario has run to its end.
    pub fn finished(&self) -> bool {
        self.done
    }

    /// The scenario.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// The machine now.
    pub fn machine(&self) -> std::cell::Ref<'_, Machine> {
        std::cell::Ref::map(self.world.borrow(), |w| &w.m)
    }

    /// The counters now, in total and per mount (by mount index).
    pub fn counters(&self) -> (Counters, Vec<Counters>) {
        let w = self.world.borrow();
        let mut by = w.trace.by_mount.clone();
        by.resize(w.m.mounts.len().max(by.len()), Counters::default());
        (w.trace.counters, by)
    }

    /// The footprint of the last step (when the trace keeps footprints).
    pub fn footprint(&self) -> Vec<super::footprint::Access> {
        self.world.borrow().foot.clone()
    }

    /// Results so far, in completion order.
    pub fn results(&self) -> &[CmdResult] {
        &self.results
    }

    /// Invariants broken so far.
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// The scheduling choices made in groups of concurrent threads, in order.
    pub fn choices(&self) -> &[ChoiceMade] {
        &self.choices
    }

    /// Thread names, by thread id.
    pub fn thread_names(&self) -> Vec<Rc<str>> {
        self.threads.iter().map(|t| t.name.clone()).collect()
    }

    /// Events recorded since the last call (mode `Full`).
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.world.borrow_mut().trace.events)
    }

    /// Events recorded and not yet taken.
    pub fn events(&self) -> std::cell::Ref<'_, [Event]> {
        std::cell::Ref::map(self.world.borrow(), |w| &w.trace.events[..])
    }

    /// What each step did, in brief (when the run keeps it).
    pub fn steps(&self) -> std::cell::Ref<'_, [StepMark]> {
        std::cell::Ref::map(self.world.borrow(), |w| w.steps.as_deref().unwrap_or(&[]))
    }

    /// The checkpoints kept.
    pub fn checkpoints(&self) -> std::cell::Ref<'_, Checkpoints> {
        self.checkpoints.borrow()
    }

    /// A handle for thread `tid` on this run's machine (for set-up code, tests and benchmarks
    /// that call kernel paths directly).
    pub fn cx(&self, tid: Tid) -> Cx {
        Cx::new(self.world.clone(), tid, self.threads[tid.0 as usize].pid)
    }

    fn runnable(&self, tid: Tid) -> bool {
        let t = &self.threads[tid.0 as usize];
        t.alive() && {
            let w = self.world.borrow();
            w.m.tasks[tid.0 as usize]
                .blocked
                .is_none_or(|b| w.can_proceed(tid, b))
        }
    }

    fn note(&self, tid: Tid, note: SchedNote) {
        self.cx(tid).emit(EventKind::Sched(note));
    }

    /// Run up to `steps` more steps (never past [`MAX_STEPS`]). Returns whether the run is
    /// finished.
    pub fn advance(&mut self, steps: u32) -> bool {
        self.stop_at = self.step().saturating_add(steps).min(MAX_STEPS);
        while !self.done {
            if self.step() >= self.stop_at {
                self.done = self.step() >= MAX_STEPS;
                break;
            }
            match self.phase {
                Phase::Between => self.start_next(),
                Phase::Main => self.main_step(),
                Phase::Group(g) => self.group_step(g),
            }
        }
        self.done
    }

    /// One step of the main thread (outside any group of threads), or the end of its command.
    fn main_step(&mut self) {
        if self.threads[0].current.is_none() {
            self.phase = Phase::Between;
        } else if self.runnable(Tid(0)) {
            self.run_step(Tid(0), true);
        } else {
            self.deadlock(&[Tid(0)]);
        }
    }

    /// Run until a group's next step is a choice the scheduler has no script for (or the end),
    /// and say what can be chosen; nothing of that step runs. Main-thread steps and scripted
    /// choices run on the way. For a learner playing the scheduler ([`super::play`]).
    pub fn run_to_choice(&mut self) -> Option<Pending> {
        self.stop_at = MAX_STEPS;
        while !self.done {
            match self.phase {
                Phase::Between => self.start_next(),
                Phase::Main => self.main_step(),
                Phase::Group(g) if !self.sched.scripted(g) => {
                    let alive: Vec<Tid> = (0..self.threads.len())
                        .map(|i| Tid(i as u16))
                        .filter(|t| {
                            let th = &self.threads[t.0 as usize];
                            th.group == Some(g) && th.alive()
                        })
                        .collect();
                    if alive.is_empty() {
                        self.phase = Phase::Between;
                        continue;
                    }
                    let runnable: Vec<Tid> = alive
                        .iter()
                        .copied()
                        .filter(|t| self.runnable(*t))
                        .collect();
                    if runnable.is_empty() {
                        self.deadlock(&alive);
                        continue;
                    }
                    let w = self.world.borrow();
                    let blocked = alive
                        .iter()
                        .filter_map(|t| w.m.tasks[t.0 as usize].blocked.map(|b| (*t, b)))
                        .collect();
                    return Some(Pending {
                        group: g,
                        alive,
                        runnable,
                        blocked,
                    });
                }
                Phase::Group(g) => self.group_step(g),
            }
        }
        None
    }

    /// Run until the end.
    pub fn run_to_end(&mut self) {
        self.advance(MAX_STEPS);
    }

    fn group_step(&mut self, g: usize) {
        // Reused buffers: the step loop allocates nothing.
        let mut s = std::mem::take(&mut self.scratch);
        s.alive.clear();
        s.runnable.clear();
        s.blocked.clear();
        for (i, t) in self.threads.iter().enumerate() {
            if t.group == Some(g) && t.alive() {
                s.alive.push(Tid(i as u16));
            }
        }
        if s.alive.is_empty() {
            self.phase = Phase::Between;
            self.scratch = s;
            return;
        }
        for t in &s.alive {
            if self.runnable(*t) {
                s.runnable.push(*t);
            }
        }
        if s.runnable.is_empty() {
            self.deadlock(&s.alive);
            self.scratch = s;
            return;
        }
        {
            let w = self.world.borrow();
            for t in &s.alive {
                if let Some(b) = w.m.tasks[t.0 as usize].blocked {
                    s.blocked.push((*t, b));
                }
            }
        }
        let pick = self.sched.pick(&Choice {
            group: g,
            alive: &s.alive,
            runnable: &s.runnable,
            blocked: &s.blocked,
        });
        let (first, solo) = (s.runnable[0], s.alive.len() == 1);
        self.scratch = s;
        match pick {
            Pick::Run(t) => {
                self.choices.push(ChoiceMade {
                    group: g,
                    tid: t,
                    default: first == t,
                });
                let solo = solo && !self.sched.scripted(g);
                self.run_step(t, solo);
            }
            Pick::Skip(t, note) => self.note(t, note),
        }
    }

    /// No thread of `alive` can run: each waits forever and is stopped, its locks released.
    fn deadlock(&mut self, alive: &[Tid]) {
        let step = self.step();
        for t in alive {
            let b = self.world.borrow().m.tasks[t.0 as usize].blocked;
            if let Some(b) = b {
                self.note(*t, SchedNote::Deadlock(b));
            }
            let th = &mut self.threads[t.0 as usize];
            th.dead = true;
            th.current = None;
            let mut w = self.world.borrow_mut();
            w.m.locks.release_all(*t);
            let task = &mut w.m.tasks[t.0 as usize];
            task.blocked = None;
            task.stack.clear();
        }
        self.violations.push(Violation {
            step,
            invariant: Invariant::Deadlock,
            message: "every remaining thread waits for a lock another of them holds".into(),
        });
    }

    /// Take the next item: a command waits for the group of threads before it to finish.
    fn start_next(&mut self) {
        let Some(item) = self.scenario.items.get(self.next_item).cloned() else {
            if self.threads.iter().any(|t| t.group.is_some() && t.alive()) {
                if let Some(g) = self
                    .threads
                    .iter()
                    .filter(|t| t.alive())
                    .find_map(|t| t.group)
                {
                    self.phase = Phase::Group(g);
                    return;
                }
            }
            self.done = true;
            return;
        };
        match item {
            Item::Stmt(stmt) => {
                if let Some(g) = self
                    .threads
                    .iter()
                    .filter(|t| t.alive())
                    .find_map(|t| t.group)
                {
                    self.phase = Phase::Group(g);
                    return;
                }
                let start = self.step() + 1;
                let fut = self.command_future(Tid(0), &stmt);
                self.threads[0].current = Some(Running { stmt, start, fut });
                self.phase = Phase::Main;
                self.next_item += 1;
            }
            Item::Thread {
                name,
                process,
                body,
                ..
            } => {
                let group = self.groups.get(&self.next_item).copied();
                let pid = if process {
                    self.spawn_process(&name)
                } else {
                    Pid(0)
                };
                let tid = Tid(self.threads.len() as u16);
                self.threads.push(Thread {
                    name,
                    pid,
                    group,
                    body,
                    pc: 0,
                    current: None,
                    dead: false,
                });
                self.world.borrow_mut().m.tasks.push(Task::new(pid));
                debug_assert_eq!(self.world.borrow().m.tasks.len(), tid.0 as usize + 1);
                self.next_item += 1;
            }
            Item::Schedule { .. } => self.next_item += 1,
        }
    }

    /// A new process: as after `fork` and `exec`, its own (empty) address space and a copy of
    /// the main process's descriptor table (sharing the open files).
    fn spawn_process(&mut self, name: &Rc<str>) -> Pid {
        let mut w = self.world.borrow_mut();
        let m = &mut w.m;
        let fds = m.processes[0].fds.clone();
        for f in fds.values() {
            if let Some(Some(file)) = m.files.get_mut(f.0 as usize) {
                file.count += 1;
            }
        }
        m.processes.push(Process {
            name: name.clone(),
            mm: Default::default(),
            fds,
        });
        Pid(m.processes.len() as u16 - 1)
    }

    fn command_future(&self, tid: Tid, stmt: &Stmt) -> CmdFuture {
        let cx = self.cx(tid);
        let cmd = match &stmt.cmd {
            Command::Expect { cmd, .. } => (**cmd).clone(),
            c => c.clone(),
        };
        Box::pin(run_cmd(cx, cmd))
    }

    /// One step of `tid` (or, with `solo` and batching, as many as it can take alone).
    fn run_step(&mut self, tid: Tid, solo: bool) {
        let t = tid.0 as usize;
        if self.threads[t].current.is_none() {
            let th = &self.threads[t];
            let stmt = th.body[th.pc].clone();
            let fut = self.command_future(tid, &stmt);
            let start = self.step() + 1;
            self.threads[t].current = Some(Running { stmt, start, fut });
        }
        // Invariants are checked after every step: a run that checks them is not batched.
        let checked = self.world.borrow().ghost.enabled;
        let budget = if solo && self.opts.batch && !checked {
            let to_stop = self.stop_at.saturating_sub(self.step() + 1);
            let to_ck = if self.opts.checkpoint_every > 0 {
                let every = self.checkpoints.borrow().every;
                (self.last_checkpoint + every).saturating_sub(self.step() + 1)
            } else {
                u32::MAX
            };
            to_stop.min(to_ck)
        } else {
            0
        };
        {
            let mut w = self.world.borrow_mut();
            w.begin_step(tid);
            w.batch = budget;
        }
        // Another process's thread: the CPU switches address space.
        if self.world.borrow().m.config.arch == crate::state::Arch::Armv5 {
            let cx = Cx::new(self.world.clone(), tid, self.threads[t].pid);
            crate::kernel::cacheflush::switch_mm(&cx);
        }
        // The command's first step: the invariants learn what it is about to change or read.
        if let Some(run) = &self.threads[t].current {
            if run.start == self.step() {
                let stmt = run.stmt.clone();
                self.begin_ghost(tid, &stmt, run.start);
            }
        }
        let Some(run) = self.threads[t].current.as_mut() else {
            return;
        };
        let mut ctx = Context::from_waker(Waker::noop());
        let polled = run.fut.as_mut().poll(&mut ctx);
        self.world.borrow_mut().batch = 0;
        if let Poll::Ready(outcome) = polled {
            self.finish(tid, outcome);
        }
        self.after_step();
    }

    /// The ghost files learn that `tid` starts `stmt`.
    fn begin_ghost(&self, tid: Tid, stmt: &Stmt, start: u32) {
        let mut w = self.world.borrow_mut();
        if w.ghost.enabled {
            let w = &mut *w;
            let pid = self.threads[tid.0 as usize].pid;
            if let Some(a) = w.ghost.begin(&w.m, tid, pid, &stmt.cmd, start) {
                note_ghost(w, a);
            }
        }
    }

    fn finish(&mut self, tid: Tid, outcome: Outcome) {
        let t = tid.0 as usize;
        let Some(run) = self.threads[t].current.take() else {
            return;
        };
        {
            let mut w = self.world.borrow_mut();
            if w.ghost.enabled {
                let w = &mut *w;
                let step = w.step;
                for a in w
                    .ghost
                    .finish(&w.m, tid, &outcome, step, &mut self.violations)
                {
                    note_ghost(w, a);
                }
            }
        }
        if self.threads[t].group.is_some() {
            self.threads[t].pc += 1;
        }
        let step = self.step();
        let check = match &run.stmt.cmd {
            Command::Expect { want, .. } => Some(Check::Result {
                want: want.clone(),
                passed: outcome.matches(want),
            }),
            Command::ExpectCounter { name, mount, want } => {
                let w = self.world.borrow();
                let actual = match mount {
                    None => w.trace.counters.get(name),
                    Some(p) => {
                        w.m.mounts
                            .iter()
                            .position(|m| &m.path == p)
                            .map(|i| w.trace.by_mount.get(i).copied().unwrap_or_default())
                            .and_then(|c| c.get(name))
                    }
                };
                Some(Check::Counter {
                    name,
                    want: *want,
                    actual,
                })
            }
            Command::ExpectViolation(want) => Some(Check::Violations {
                want: *want,
                found: self.violations.iter().map(|v| v.invariant).collect(),
            }),
            _ => None,
        };
        self.results.push(CmdResult {
            line: run.stmt.line,
            start: run.start,
            step,
            command: run.stmt.text.clone(),
            thread: self.threads[t].group.map(|_| self.threads[t].name.clone()),
            outcome,
            check,
        });
    }

    fn after_step(&mut self) {
        {
            let mut w = self.world.borrow_mut();
            if w.ghost.enabled {
                let w = &mut *w;
                // Nothing in flight: no command running and no group of threads left to run
                // (a block past EOF between two commands of a thread may still be trimmed).
                let quiescent = self
                    .threads
                    .iter()
                    .all(|t| t.current.is_none() && (t.group.is_none() || !t.alive()));
                let names = |t: Tid| self.threads[t.0 as usize].name.clone();
                let mut read = Vec::new();
                w.ghost.after_step(
                    &w.m,
                    &names,
                    w.step,
                    quiescent,
                    &mut self.violations,
                    &mut read,
                );
                if w.trace.mode == TraceMode::Footprint {
                    // What the checks read is part of the step.
                    w.foot
                        .extend(read.into_iter().map(|obj| Access { obj, write: false }));
                }
            }
        }
        if self.opts.checkpoint_every == 0 {
            return;
        }
        let every = self.checkpoints.borrow().every;
        if self.step() < self.last_checkpoint + every {
            return;
        }
        self.world.borrow_mut().capture_wanted = true;
        if self.capturable() {
            self.take_checkpoint();
            self.world.borrow_mut().capture_wanted = false;
        }
    }

    /// Whether every thread is between commands or parked at a capture point with a stack
    /// whose every frame can be resumed.
    fn capturable(&self) -> bool {
        let w = self.world.borrow();
        self.threads.iter().enumerate().all(|(i, t)| {
            t.current.is_none()
                || (w.parked.get(i).is_some_and(Option::is_some)
                    && w.m.tasks[i].stack.iter().all(|f| f.tail.is_some()))
        })
    }

    fn take_checkpoint(&mut self) -> bool {
        self.last_checkpoint = self.step();
        let w = self.world.borrow();
        let threads = self
            .threads
            .iter()
            .enumerate()
            .map(|(i, t)| ThreadCk {
                pc: t.pc,
                dead: t.dead,
                current: t.current.as_ref().and_then(|r| {
                    let p = w.parked.get(i)?.clone()?;
                    Some((r.stmt.clone(), r.start, p))
                }),
            })
            .collect();
        let ck = Checkpoint {
            step: w.step,
            machine: w.m.clone(),
            counters: w.trace.counters,
            by_mount: w.trace.by_mount.clone(),
            threads,
            phase: self.phase,
            next_item: self.next_item,
            sched: self.sched.clone(),
            results: self.results.len(),
            choices: self.choices.len(),
            violations: self.violations.len(),
            loaded: w.loaded.clone(),
            ghost: w.ghost.clone(),
        };
        drop(w);
        let mut cks = self.checkpoints.borrow_mut();
        if cks.list.last().is_some_and(|c| c.step == ck.step) {
            return false;
        }
        cks.list.push(ck);
        if cks.list.len() > MAX_CHECKPOINTS {
            // Thin out: keep the first and every other one, and checkpoint half as often.
            let mut i = 0;
            cks.list.retain(|_| {
                i += 1;
                i % 2 == 1
            });
            cks.every = cks.every.saturating_mul(2);
        }
        true
    }
}

impl Execution {
    /// The same run positioned at `step`: restored from the nearest checkpoint at or before it
    /// and run on from there with `opts` (a fork takes no checkpoints of its own; it uses its
    /// parent's).
    pub fn fork_at(&self, step: u32, opts: RunOptions) -> Execution {
        let cks = self.checkpoints.borrow();
        let ck = cks
            .list
            .iter()
            .rev()
            .find(|c| c.step <= step)
            .or(cks.list.first());
        let mut e = match ck {
            Some(ck) => self.restore(ck, opts, ck.sched.clone()),
            None => {
                // No checkpoints: run from the start.
                let (groups, _) = groups(&self.scenario).unwrap_or_default();
                let opts = RunOptions {
                    checkpoint_every: 0,
                    ..opts
                };
                Self::build(&self.scenario, opts, groups, self.sched.clone())
            }
        };
        drop(cks);
        e.advance(step.saturating_sub(e.step()));
        e
    }

    /// Run until the main thread reaches the first group of concurrent threads (or the end),
    /// leaving the run between commands. Returns whether a group is next.
    pub fn run_to_group(&mut self) -> bool {
        while !self.done {
            if let Phase::Group(_) = self.phase {
                return true;
            }
            self.stop_at = MAX_STEPS;
            match self.phase {
                Phase::Between => self.start_next(),
                Phase::Main => self.main_step(),
                Phase::Group(_) => return true,
            }
        }
        false
    }

    /// Take a checkpoint now if every thread can be captured; returns its index.
    pub fn checkpoint_now(&mut self) -> Option<usize> {
        if !self.capturable() {
            return None;
        }
        self.take_checkpoint();
        let cks = self.checkpoints.borrow();
        cks.list.iter().rposition(|c| c.step == self.step())
    }

    /// A clone of this run at its current step, when every thread can be captured there: it
    /// goes on exactly as this one would, scheduled by a copy of this run's scheduler.
    pub fn fork(&mut self, opts: RunOptions) -> Option<Execution> {
        let i = self.checkpoint_now()?;
        let cks = self.checkpoints.borrow();
        let ck = cks.list.get(i)?;
        Some(self.restore(ck, opts, ck.sched.clone()))
    }

    /// A new run restored from checkpoint `index`, scheduled by `sched` from there.
    pub fn fork_from(
        &self,
        index: usize,
        opts: RunOptions,
        sched: Box<dyn Scheduler>,
    ) -> Option<Execution> {
        let cks = self.checkpoints.borrow();
        Some(self.restore(cks.list.get(index)?, opts, sched))
    }

    fn restore(&self, ck: &Checkpoint, opts: RunOptions, sched: Box<dyn Scheduler>) -> Execution {
        let mut w = World::new(ck.machine.clone(), opts.trace);
        w.step = ck.step;
        w.trace.counters = ck.counters;
        w.trace.by_mount = ck.by_mount.clone();
        w.loaded = ck.loaded.clone();
        w.ghost = ck.ghost.clone();
        if opts.keep_steps {
            let steps = self.world.borrow().steps.clone().unwrap_or_default();
            w.steps = Some(steps[..(ck.step as usize).min(steps.len())].to_vec());
        }
        let world = Rc::new(RefCell::new(w));
        let threads = self
            .threads
            .iter()
            .zip(&ck.threads)
            .enumerate()
            .map(|(i, (t, c))| {
                let current = c.current.clone().map(|(stmt, start, resume)| {
                    let cx = Cx::new(world.clone(), Tid(i as u16), t.pid);
                    let cmd = match &stmt.cmd {
                        Command::Expect { cmd, .. } => (**cmd).clone(),
                        other => other.clone(),
                    };
                    let fut: CmdFuture = Box::pin(resume_cmd(cx, cmd, resume));
                    Running { stmt, start, fut }
                });
                Thread {
                    name: t.name.clone(),
                    pid: t.pid,
                    group: t.group,
                    body: t.body.clone(),
                    pc: c.pc,
                    current,
                    dead: c.dead,
                }
            })
            .collect();
        Execution {
            scratch: Scratch::default(),
            scenario: self.scenario.clone(),
            world,
            threads,
            sched,
            phase: ck.phase,
            next_item: ck.next_item,
            groups: self.groups.clone(),
            results: {
                let mut v = Vec::with_capacity(ck.results + 8);
                v.extend_from_slice(&self.results[..ck.results.min(self.results.len())]);
                v
            },
            choices: {
                let mut v = Vec::with_capacity(ck.choices + 64);
                v.extend_from_slice(&self.choices[..ck.choices.min(self.choices.len())]);
                v
            },
            violations: self.violations[..ck.violations.min(self.violations.len())].to_vec(),
            opts: RunOptions {
                checkpoint_every: 0,
                ..opts
            },
            checkpoints: self.checkpoints.clone(),
            last_checkpoint: ck.step,
            stop_at: 0,
            done: false,
        }
    }

    /// What the trace keeps from now on.
    pub fn set_trace(&mut self, mode: TraceMode) {
        self.world.borrow_mut().trace.mode = mode;
    }

    /// Add a command at the end of the scenario (a console line): the run goes on from where
    /// it is, without running anything again.
    pub fn append(&mut self, stmt: Stmt) {
        Rc::make_mut(&mut self.scenario)
            .items
            .push(Item::Stmt(stmt));
        self.done = false;
    }

    /// For each group of concurrent threads that ran, a `schedule` line that reproduces this
    /// run's choices (ending where the default policy would have made the same choices).
    pub fn replay_lines(&self) -> Vec<String> {
        let mut by: BTreeMap<usize, Vec<ChoiceMade>> = BTreeMap::new();
        for c in &self.choices {
            by.entry(c.group).or_default().push(*c);
        }
        by.into_values()
            .filter_map(|mut v| {
                while v.last().is_some_and(|c| c.default) {
                    v.pop();
                }
                (!v.is_empty()).then(|| {
                    let names: Vec<&str> = v
                        .iter()
                        .map(|c| &*self.threads[c.tid.0 as usize].name)
                        .collect();
                    format!("schedule {}", names.join(" "))
                })
            })
            .collect()
    }
}
