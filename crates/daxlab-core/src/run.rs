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

struct Runner {
    sim: Sim,
    results: Rc<RefCell<Vec<CmdResult>>>,
    pending: Vec<ThreadId>,
    names: BTreeMap<String, ThreadId>,
    stop_at: u32,
}

impl Runner {
    fn stopped(&self) -> bool {
        self.sim.kernel().step >= self.stop_at
    }

    fn note(&self, tid: ThreadId, text: String) {
        let cx = self.sim.cx(tid);
        cx.emit(EventKind::Schedule { text });
    }

    /// Run the pending threads to the end: the first runnable one, in declaration order.
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

    fn schedule(&mut self, order: &[(String, u32)]) {
        for (name, _) in order {
            if self.stopped() {
                return;
            }
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
    }
}

/// Run a parsed scenario, stopping after step `stop_at` if given (to rebuild the state at a
/// step). Thread names in `schedule` must exist: that is checked first.
pub fn run(s: &Scenario, stop_at: Option<u32>) -> Result<Run, ParseError> {
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
    let mut r = Runner {
        sim: Sim::new(DEFAULT_RAM),
        results: Rc::new(RefCell::new(Vec::new())),
        pending: Vec::new(),
        names: BTreeMap::new(),
        stop_at: stop_at.unwrap_or(MAX_STEPS).min(MAX_STEPS),
    };
    for it in &s.items {
        if r.stopped() {
            break;
        }
        match it {
            Item::Stmt(stmt) => {
                r.finish_threads();
                let cx = r.sim.cx(ThreadId(0));
                let results = r.results.clone();
                let stmt = stmt.clone();
                r.sim.set_task(ThreadId(0), async move {
                    let res = run_stmt(cx, stmt, None).await;
                    results.borrow_mut().push(res);
                });
                while r.sim.alive(ThreadId(0)) && !r.stopped() {
                    if !r.sim.step(ThreadId(0)) {
                        r.note(
                            ThreadId(0),
                            "deadlock: the main thread waits forever and is stopped".into(),
                        );
                        r.sim.kill(ThreadId(0));
                    }
                }
            }
            Item::Thread { name, body, .. } => {
                let tid = r.sim.add_thread(name);
                r.names.insert(name.clone(), tid);
                let cx = r.sim.cx(tid);
                let results = r.results.clone();
                let body = body.clone();
                let name = name.clone();
                r.sim.set_task(tid, async move {
                    for stmt in body {
                        let res = run_stmt(cx.clone(), stmt, Some(name.clone())).await;
                        results.borrow_mut().push(res);
                    }
                });
                r.pending.push(tid);
            }
            Item::Schedule { order, .. } => {
                r.schedule(order);
                r.finish_threads();
            }
        }
    }
    r.finish_threads();
    let results = r.results.borrow().clone();
    let abandoned =
        r.sim.kernel().events.iter().any(
            |e| matches!(&e.kind, EventKind::Schedule { text } if text.starts_with("deadlock")),
        );
    let ok = results.iter().all(|c| c.ok || !is_expect(s, c.line)) && !abandoned;
    Ok(Run {
        sim: r.sim,
        results,
        ok,
    })
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
