//! Running a scenario: the main thread runs top-level commands, `thread` blocks run under a
//! `schedule` (or one after another), `expect` checks results. The report is the runner's JSON.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use serde::Serialize;
use serde_json::{json, Value};

use crate::counters::Counters;
use crate::errno::Errno;
use crate::event::{EventKind, ThreadId};
use crate::memory::UserFault;
use crate::scenario::{self, Command, Expected, Item, ParseError, Scenario, Stmt};
use crate::sched::Cx;
use crate::sim::{Sim, DEFAULT_RAM};
use crate::vfs::{self, AccessError, Refusal};

/// A run stops after this many steps, whatever the scenario says.
pub const MAX_STEPS: u32 = 20_000_000;

/// The result of one command, as the runner's JSON prints it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CmdResult {
    /// Line of the command.
    pub line: u32,
    /// The step during which it finished.
    pub step: u32,
    /// Its text.
    pub command: String,
    /// The thread that ran it (`None`: main).
    pub thread: Option<String>,
    /// Whether it succeeded (for `expect`: whether the expectation held).
    pub ok: bool,
    /// The errno it failed with.
    pub errno: Option<Errno>,
    /// The signal it got.
    pub signal: Option<&'static str>,
    /// Its value: bytes read, length, address, message.
    pub value: Value,
}

/// What a command produced, before it is matched against an expectation.
#[derive(Debug, Clone, PartialEq)]
struct Outcome {
    errno: Option<Errno>,
    signal: Option<&'static str>,
    value: Value,
    bytes: Option<Vec<u8>>,
    number: Option<u64>,
}

impl Outcome {
    fn ok(value: Value) -> Self {
        Outcome {
            errno: None,
            signal: None,
            value,
            bytes: None,
            number: None,
        }
    }
    fn num(n: u64) -> Self {
        Outcome {
            number: Some(n),
            ..Outcome::ok(json!(n))
        }
    }
    fn bytes(b: Vec<u8>) -> Self {
        let v = json!({ "len": b.len(), "hex": hex(&b) });
        Outcome {
            number: Some(b.len() as u64),
            bytes: Some(b),
            ..Outcome::ok(v)
        }
    }
    fn errno(e: Errno) -> Self {
        Outcome {
            errno: Some(e),
            ..Outcome::ok(Value::Null)
        }
    }
    fn refused(r: Refusal) -> Self {
        let Refusal::Errno { errno, message } = r;
        Outcome {
            errno: Some(errno),
            ..Outcome::ok(json!(message))
        }
    }
    fn access(e: AccessError) -> Self {
        match e {
            AccessError::Errno(e) => Outcome::errno(e),
            AccessError::Fault(UserFault::Signal(s)) => Outcome {
                signal: Some(s),
                ..Outcome::ok(Value::Null)
            },
            AccessError::Fault(UserFault::Oom) => Outcome::errno(Errno::ENOMEM),
        }
    }
    fn is_ok(&self) -> bool {
        self.errno.is_none() && self.signal.is_none()
    }
}

/// Lower-case hex of bytes.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Run one command in a thread.
async fn exec(cx: Cx, cmd: Command) -> Outcome {
    let cx = &cx;
    match cmd {
        Command::Kernel => Outcome::ok(json!("Linux 4.0")),
        Command::Arch(a) => {
            cx.with(|k| k.arch = a);
            Outcome::ok(json!(a))
        }
        Command::Device { name, kind, size } => match vfs::add_device(cx, &name, kind, size) {
            Ok(()) => Outcome::ok(Value::Null),
            Err(r) => Outcome::refused(r),
        },
        Command::DirectAccess { dev, sector, size } => {
            match vfs::direct_access(cx, &dev, sector, size).await {
                Ok(d) => Outcome {
                    number: Some(d.length),
                    ..Outcome::ok(
                        json!({ "pfn": d.pfn.0, "kaddr": format!("{:#x}", d.kaddr), "length": d.length, "avail": d.avail }),
                    )
                },
                Err(e) => Outcome::errno(e),
            }
        }
        Command::Mkfs { kind, dev, bs } => match vfs::mkfs(cx, kind, &dev, bs) {
            Ok(()) => Outcome::ok(Value::Null),
            Err(r) => Outcome::refused(r),
        },
        Command::Mount { dev, path, opts } => match vfs::mount(cx, &dev, &path, &opts) {
            Ok(()) => Outcome::ok(Value::Null),
            Err(r) => Outcome::refused(r),
        },
        Command::Umount { path } => match vfs::umount(cx, &path).await {
            Ok(()) => Outcome::ok(Value::Null),
            Err(r) => Outcome::refused(r),
        },
        Command::ProcMounts => Outcome::ok(json!(cx.with(|k| vfs::proc_mounts(k)))),
        Command::Open { fd, path, flags } => match vfs::open(cx, &fd, &path, flags).await {
            Ok(ino) => Outcome::ok(json!({ "ino": ino })),
            Err(e) => Outcome::errno(e),
        },
        Command::Close { fd } => {
            vfs::close(cx, &fd).map_or_else(Outcome::errno, |_| Outcome::ok(Value::Null))
        }
        Command::Unlink { path } => vfs::unlink(cx, &path)
            .await
            .map_or_else(Outcome::errno, |_| Outcome::ok(Value::Null)),
        Command::Read { fd, off, len } => vfs::read(cx, &fd, off, len)
            .await
            .map_or_else(Outcome::errno, Outcome::bytes),
        Command::Write { fd, off, data } => vfs::write(cx, &fd, off, &data)
            .await
            .map_or_else(Outcome::errno, Outcome::num),
        Command::Truncate { fd, size } => vfs::truncate(cx, &fd, size)
            .await
            .map_or_else(Outcome::errno, |_| Outcome::ok(Value::Null)),
        Command::Fsync { fd } => vfs::fsync(cx, &fd)
            .await
            .map_or_else(Outcome::errno, |_| Outcome::ok(Value::Null)),
        Command::Blocks { fd } => {
            match cx.with(|k| {
                k.file(&fd)
                    .and_then(|f| k.inode(f.ino))
                    .map(|i| (i.size, i.blocks.clone()))
            }) {
                Ok((size, blocks)) => {
                    let bs = cx.with(|k| {
                        k.files
                            .get(&fd)
                            .and_then(|f| k.fs_of(f.ino).ok())
                            .map_or(4096, |f| f.block_size)
                    });
                    let past: Vec<u64> =
                        blocks.keys().copied().filter(|b| b * bs >= size).collect();
                    let list: Vec<Value> = blocks.iter().map(|(i, e)| json!({ "iblock": i, "block": e.block, "unwritten": e.unwritten })).collect();
                    Outcome {
                        number: Some(blocks.len() as u64),
                        ..Outcome::ok(
                            json!({ "count": blocks.len(), "past_eof": past, "blocks": list }),
                        )
                    }
                }
                Err(e) => Outcome::errno(e),
            }
        }
        Command::Sync => vfs::sync(cx)
            .await
            .map_or_else(Outcome::errno, |_| Outcome::ok(Value::Null)),
        Command::DropCaches => vfs::drop_caches(cx)
            .await
            .map_or_else(Outcome::errno, |_| Outcome::ok(Value::Null)),
        Command::Mmap {
            map,
            fd,
            off,
            len,
            shared,
            writable,
        } => match vfs::mmap(cx, &map, &fd, off, len, shared, writable).await {
            Ok(a) => Outcome {
                number: Some(a),
                ..Outcome::ok(json!(format!("{a:#x}")))
            },
            Err(e) => Outcome::errno(e),
        },
        Command::Munmap { map } => vfs::munmap(cx, &map)
            .await
            .map_or_else(Outcome::errno, |_| Outcome::ok(Value::Null)),
        Command::Load { map, off, len } => vfs::load(cx, &map, off, len)
            .await
            .map_or_else(Outcome::access, Outcome::bytes),
        Command::Store { map, off, data } => match vfs::store(cx, &map, off, &data).await {
            Ok(()) => Outcome::num(data.len() as u64),
            Err(e) => Outcome::access(e),
        },
        Command::OdirectFromMap {
            fd,
            off,
            map,
            moff,
            len,
        } => vfs::odirect_from_map(cx, &fd, off, &map, moff, len)
            .await
            .map_or_else(Outcome::errno, Outcome::num),
        Command::Expect { .. } | Command::ExpectCounter { .. } => {
            Outcome::ok(json!("expect is evaluated by the runner"))
        }
    }
}

/// Compare an outcome with an expectation.
fn check(o: &Outcome, want: &Expected) -> bool {
    match want {
        Expected::Bytes(b) => o.bytes.as_ref() == Some(b),
        Expected::Number(n) => o.is_ok() && o.number == Some(*n),
        Expected::Errno(e) => o.errno.is_some_and(|x| x.to_string() == *e),
        Expected::Signal(s) => o.signal == Some(s.as_str()),
        Expected::Ok => o.is_ok(),
    }
}

fn describe(o: &Outcome) -> Value {
    if let Some(e) = o.errno {
        return json!(e.to_string());
    }
    if let Some(s) = o.signal {
        return json!(s);
    }
    o.value.clone()
}

fn describe_want(w: &Expected) -> Value {
    match w {
        Expected::Bytes(b) => json!({ "len": b.len(), "hex": hex(b) }),
        Expected::Number(n) => json!(n),
        Expected::Errno(e) | Expected::Signal(e) => json!(e),
        Expected::Ok => json!("ok"),
    }
}

/// A command run to a result record (evaluating `expect`).
async fn run_stmt(cx: Cx, stmt: Stmt, thread: Option<String>) -> CmdResult {
    let record = |ok: bool, o: &Outcome, value: Value| CmdResult {
        line: stmt.line,
        step: cx.with(|k| k.step),
        command: stmt.text.clone(),
        thread: thread.clone(),
        ok,
        errno: o.errno,
        signal: o.signal,
        value,
    };
    match &stmt.cmd {
        Command::Expect { cmd, want } => {
            let o = exec(cx.clone(), (**cmd).clone()).await;
            let pass = check(&o, want);
            record(
                pass,
                &o,
                json!({ "expected": describe_want(want), "actual": describe(&o), "passed": pass }),
            )
        }
        Command::ExpectCounter { name, mount, want } => {
            let (total, by) = cx.with(|k| counters(k));
            let c = match mount {
                Some(m) => by.get(m).copied(),
                None => Some(total),
            };
            let actual = c
                .and_then(|c| serde_json::to_value(c).ok())
                .and_then(|v| v.get(name).and_then(Value::as_u64));
            let pass = actual == Some(*want);
            let o = Outcome::ok(Value::Null);
            record(
                pass,
                &o,
                json!({ "expected": want, "actual": actual, "passed": pass }),
            )
        }
        cmd => {
            let o = exec(cx.clone(), cmd.clone()).await;
            record(o.is_ok(), &o, o.value.clone())
        }
    }
}

/// Counters in total and per mount path, derived from the events.
pub fn counters(k: &crate::kernel::Kernel) -> (Counters, BTreeMap<String, Counters>) {
    let total = Counters::from_events(&k.events);
    let mut by: BTreeMap<String, Counters> = BTreeMap::new();
    for e in &k.events {
        if let Some(m) = e.mount {
            by.entry(k.mounts[m as usize].path.clone())
                .or_default()
                .apply(e);
        }
    }
    (total, by)
}

/// The runner's report (`daxlab run --json`).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// False when the text is invalid or an `expect` failed.
    pub ok: bool,
    /// The parse error, if any.
    pub error: Option<ParseError>,
    /// One entry per command run.
    pub results: Vec<CmdResult>,
    /// The event stream.
    pub events: Vec<Value>,
    /// Counters over the whole run.
    pub counters: Counters,
    /// Counters per mount point.
    pub counters_by_mount: BTreeMap<String, Counters>,
}

impl Report {
    /// The JSON text (compact, one object; the same scenario gives the same bytes).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| {
            format!("{{\"ok\":false,\"error\":{{\"line\":0,\"col\":0,\"message\":\"{e}\"}}}}")
        })
    }
}

/// A finished (or stopped) run: the machine and what happened.
pub struct Run {
    /// The machine, for the views.
    pub sim: Sim,
    /// Results so far, in completion order.
    pub results: Vec<CmdResult>,
    /// Whether every expect held and nothing was abandoned.
    pub ok: bool,
}

impl Run {
    /// The report of this run.
    pub fn report(&self) -> Report {
        let k = self.sim.kernel();
        let (counters, counters_by_mount) = counters(&k);
        let events = k
            .events
            .iter()
            .map(|e| {
                let mut v = serde_json::to_value(e).unwrap_or(Value::Null);
                if let Value::Object(m) = &mut v {
                    m.insert("thread".into(), json!(self.sim.thread_name(e.thread)));
                    if let Some(mi) = e.mount {
                        m.insert("mount".into(), json!(k.mounts[mi as usize].path));
                    }
                }
                v
            })
            .collect();
        Report {
            ok: self.ok,
            error: None,
            results: self.results.clone(),
            events,
            counters,
            counters_by_mount,
        }
    }
}

/// Run scenario text to the end.
pub fn run_text(text: &str) -> Report {
    match scenario::parse(text) {
        Ok(s) => run(&s, None).map_or_else(error_report, |r| r.report()),
        Err(e) => error_report(e),
    }
}

fn error_report(e: ParseError) -> Report {
    Report {
        ok: false,
        error: Some(e),
        results: vec![],
        events: vec![],
        counters: Counters::default(),
        counters_by_mount: BTreeMap::new(),
    }
}

/// Where a resumable run is.
enum Phase {
    /// Between items: start the next one.
    Between,
    /// The main thread is running a top-level command.
    Main,
    /// Pending threads are running to the end (before the next command, or at the end).
    Threads,
    /// A `schedule` line is being followed, at this position.
    Schedule { item: usize, pos: usize },
}

/// A run that can be advanced a number of steps at a time, so a long scenario can run in
/// slices (the app keeps the page responsive and shows progress between slices). The result is
/// the same as running it in one go.
pub struct Execution {
    scenario: Scenario,
    sim: Sim,
    results: Rc<RefCell<Vec<CmdResult>>>,
    pending: Vec<ThreadId>,
    names: BTreeMap<String, ThreadId>,
    next: usize,
    phase: Phase,
    stop_at: u32,
    done: bool,
}

impl Execution {
    /// Prepare a run. Thread names in `schedule` must exist: that is checked here.
    pub fn new(s: &Scenario) -> Result<Self, ParseError> {
        let mut declared: Vec<&str> = Vec::new();
        for it in &s.items {
            match it {
                Item::Thread { name, .. } => declared.push(name),
                Item::Schedule { line, order } => {
                    for (n, col) in order {
                        if !declared.contains(&n.as_str()) {
                            let m = match scenario::suggest(n, &declared) {
                                Some(d) => format!("unknown thread \"{n}\"; did you mean \"{d}\"?"),
                                None => format!("unknown thread \"{n}\": declare it with thread {n} {{ ... }} before the schedule"),
                            };
                            return Err(ParseError {
                                line: *line,
                                col: *col,
                                message: m,
                            });
                        }
                    }
                }
                Item::Stmt(_) => {}
            }
        }
        Ok(Execution {
            scenario: s.clone(),
            sim: Sim::new(DEFAULT_RAM),
            results: Rc::new(RefCell::new(Vec::new())),
            pending: Vec::new(),
            names: BTreeMap::new(),
            next: 0,
            phase: Phase::Between,
            stop_at: 0,
            done: false,
        })
    }

    /// Steps run so far.
    pub fn step(&self) -> u32 {
        self.sim.kernel().step
    }

    /// Whether the scenario has run to its end.
    pub fn finished(&self) -> bool {
        self.done
    }

    fn stopped(&self) -> bool {
        self.step() >= self.stop_at
    }

    fn note(&self, tid: ThreadId, text: String) {
        self.sim.cx(tid).emit(EventKind::Schedule { text });
    }

    /// Run up to `steps` more steps (never past [`MAX_STEPS`]). Returns whether the run is
    /// finished.
    pub fn advance(&mut self, steps: u32) -> bool {
        self.stop_at = self.step().saturating_add(steps).min(MAX_STEPS);
        while !self.done {
            if self.stopped() {
                // The hard limit ends the run; a slice just pauses it.
                self.done = self.step() >= MAX_STEPS;
                return self.done;
            }
            match self.phase {
                Phase::Main => {
                    while self.sim.alive(ThreadId(0)) && !self.stopped() {
                        if !self.sim.step(ThreadId(0)) {
                            self.note(
                                ThreadId(0),
                                "deadlock: the main thread waits forever and is stopped".into(),
                            );
                            self.sim.kill(ThreadId(0));
                        }
                    }
                    if !self.sim.alive(ThreadId(0)) {
                        self.phase = Phase::Between;
                    }
                }
                Phase::Threads => {
                    self.finish_threads();
                    if self.pending.is_empty() {
                        self.phase = Phase::Between;
                    }
                }
                Phase::Schedule { item, pos } => {
                    let Item::Schedule { order, .. } = &self.scenario.items[item] else {
                        unreachable!("a schedule phase points at a schedule item")
                    };
                    let order = order.clone();
                    let mut p = pos;
                    while p < order.len() && !self.stopped() {
                        self.schedule_one(&order[p].0);
                        p += 1;
                    }
                    self.phase = if p < order.len() {
                        Phase::Schedule { item, pos: p }
                    } else {
                        Phase::Threads
                    };
                }
                Phase::Between => self.start_next(),
            }
        }
        true
    }

    /// Take the next item: a command waits for pending threads to finish first.
    fn start_next(&mut self) {
        self.pending.retain(|t| self.sim.alive(*t));
        let Some(item) = self.scenario.items.get(self.next) else {
            if self.pending.is_empty() {
                self.done = true;
            } else {
                self.phase = Phase::Threads;
            }
            return;
        };
        match item {
            Item::Stmt(_) if !self.pending.is_empty() => self.phase = Phase::Threads,
            Item::Stmt(stmt) => {
                let (cx, results, stmt) =
                    (self.sim.cx(ThreadId(0)), self.results.clone(), stmt.clone());
                self.sim.set_task(ThreadId(0), async move {
                    let res = run_stmt(cx, stmt, None).await;
                    results.borrow_mut().push(res);
                });
                self.phase = Phase::Main;
                self.next += 1;
            }
            Item::Thread { name, body, .. } => {
                let tid = self.sim.add_thread(name);
                self.names.insert(name.clone(), tid);
                let (cx, results, body, name) = (
                    self.sim.cx(tid),
                    self.results.clone(),
                    body.clone(),
                    name.clone(),
                );
                self.sim.set_task(tid, async move {
                    for stmt in body {
                        let res = run_stmt(cx.clone(), stmt, Some(name.clone())).await;
                        results.borrow_mut().push(res);
                    }
                });
                self.pending.push(tid);
                self.next += 1;
            }
            Item::Schedule { .. } => {
                self.phase = Phase::Schedule {
                    item: self.next,
                    pos: 0,
                };
                self.next += 1;
            }
        }
    }

    /// Run the pending threads toward the end: the first runnable one, in declaration order.
    fn finish_threads(&mut self) {
        loop {
            self.pending.retain(|t| self.sim.alive(*t));
            if self.pending.is_empty() || self.stopped() {
                return;
            }
            match self.pending.iter().copied().find(|t| self.sim.runnable(*t)) {
                Some(t) => {
                    self.sim.step(t);
                }
                None => {
                    for t in std::mem::take(&mut self.pending) {
                        let name = self.sim.thread_name(t).unwrap_or("main").to_string();
                        self.note(
                            t,
                            format!("deadlock: thread {name} waits forever and is stopped"),
                        );
                        self.sim.kill(t);
                    }
                    return;
                }
            }
        }
    }

    /// One entry of a schedule: the named thread runs a step, or the entry is skipped with an
    /// event saying why.
    fn schedule_one(&mut self, name: &str) {
        let t = self.names[name];
        if !self.sim.alive(t) {
            self.note(
                t,
                format!("schedule: thread {name} has finished; step skipped"),
            );
        } else if !self.sim.runnable(t) {
            let what = match self.sim.blocked_on(t) {
                Some(crate::kernel::Blocker::Lock(l, _)) => l.to_string(),
                Some(crate::kernel::Blocker::DioCount(i)) => format!("i_dio_count(ino {i})"),
                None => "nothing".into(),
            };
            self.note(
                t,
                format!("schedule: thread {name} is waiting for {what}; step skipped"),
            );
        } else {
            self.sim.step(t);
        }
    }

    /// The run as it stands.
    pub fn into_run(self) -> Run {
        let results = self.results.borrow().clone();
        let abandoned = self.sim.kernel().events.iter().any(
            |e| matches!(&e.kind, EventKind::Schedule { text } if text.starts_with("deadlock")),
        );
        let ok = results
            .iter()
            .all(|c| c.ok || !is_expect(&self.scenario, c.line))
            && !abandoned;
        Run {
            sim: self.sim,
            results,
            ok,
        }
    }
}

/// Run a parsed scenario, stopping after step `stop_at` if given (to rebuild the state at a
/// step). Thread names in `schedule` must exist: that is checked first.
pub fn run(s: &Scenario, stop_at: Option<u32>) -> Result<Run, ParseError> {
    let mut e = Execution::new(s)?;
    e.advance(stop_at.unwrap_or(MAX_STEPS));
    Ok(e.into_run())
}

fn is_expect(s: &Scenario, line: u32) -> bool {
    let is = |st: &Stmt| {
        st.line == line
            && matches!(
                st.cmd,
                Command::Expect { .. } | Command::ExpectCounter { .. }
            )
    };
    s.items.iter().any(|it| match it {
        Item::Stmt(st) => is(st),
        Item::Thread { body, .. } => body.iter().any(is),
        Item::Schedule { .. } => false,
    })
}
