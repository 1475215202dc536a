//! Steps, and a thread's handle on the machine. Kernel paths are `async` functions taking a
//! [`Cx`]; every `.await` on [`Cx::yield_now`] is a point where the real kernel could run
//! another thread. The engine polls one thread at a time: one poll is one step, from one yield
//! point to the next.

use std::cell::{Ref, RefCell, RefMut};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::footprint::{Access, Obj};
use super::trace::{Counters, Event, EventKind, Shown, StepMark, SysResult, Trace, TraceMode};
use crate::errno::KResult;
use crate::kernel::resume::Resume;
use crate::state::lock::{LockMode, LockName};
use crate::state::task::{Blocker, Frame, Tail};
use crate::state::{Locking, Machine, MountId, Pid, Tid};

/// Everything a step touches: the machine, the trace, and the engine's per-step bookkeeping.
/// Only the machine is part of a checkpoint's state; the rest belongs to the run.
pub struct World {
    /// The machine.
    pub m: Machine,
    /// Where events go.
    pub trace: Trace,
    /// The step being run.
    pub step: u32,
    /// The footprint of the step being run (mode `Footprint`).
    pub foot: Vec<Access>,
    /// What each step did, in brief (index `step - 1`), when the run keeps it.
    pub steps: Option<Vec<StepMark>>,
    /// Steps a thread may run on its own without returning to the engine (the batched fast
    /// path: set only when no other thread could run and nobody watches each step).
    pub batch: u32,
    /// The engine wants a checkpoint: capture points end the step and leave their state.
    pub capture_wanted: bool,
    /// Threads parked at a capture point, with what resumes them.
    pub parked: Vec<Option<Resume>>,
    /// The bytes each thread's last `load` produced, until the engine takes them.
    pub loaded: Vec<Option<crate::lang::data::Bytes>>,
    /// The files as finished operations left them, and the invariant checks.
    pub ghost: super::ghost::Ghost,
}

impl World {
    /// A world around a machine.
    pub fn new(m: Machine, mode: TraceMode) -> Self {
        World {
            m,
            trace: Trace::new(mode),
            step: 0,
            foot: Vec::with_capacity(64),
            steps: None,
            batch: 0,
            capture_wanted: false,
            parked: Vec::new(),
            loaded: Vec::new(),
            ghost: Default::default(),
        }
    }

    /// Leave the bytes a thread loaded for the engine.
    pub fn set_loaded(&mut self, tid: Tid, bytes: crate::lang::data::Bytes) {
        let i = tid.0 as usize;
        if self.loaded.len() <= i {
            self.loaded.resize(i + 1, None);
        }
        self.loaded[i] = Some(bytes);
    }

    /// Begin step `step + 1` for `tid`.
    pub fn begin_step(&mut self, tid: Tid) {
        self.step += 1;
        if let Some(r) = &mut self.steps {
            r.push(StepMark {
                thread: tid,
                ..StepMark::default()
            });
        }
        self.foot.clear();
        if let Some(p) = self.parked.get_mut(tid.0 as usize) {
            *p = None;
        }
    }

    /// Record an event of thread `tid`: the counters and step marks always, the event itself
    /// if the trace keeps events.
    pub fn record(&mut self, tid: Tid, mount: Option<MountId>, ns: u64, kind: EventKind) {
        if self.ghost.enabled {
            match kind {
                EventKind::Pte {
                    op: super::trace::PteOp::Install,
                    pid,
                    vaddr,
                    special: true,
                    ..
                } => self.ghost.installed.push((pid, vaddr, self.step)),
                EventKind::BlockFree { .. } => {
                    self.ghost.freed.get_or_insert(self.step);
                }
                _ => {}
            }
        }
        // Nobody keeps this event and no counter counts it: nothing to do.
        if self.trace.mode != TraceMode::Full
            && self.steps.is_none()
            && ns == 0
            && !Counters::counts(&kind)
        {
            return;
        }
        if let Some(s) = self.steps.as_mut().and_then(|s| s.last_mut()) {
            s.marks |= StepMark::of(&kind);
            if let EventKind::Copy { bytes, .. } = kind {
                s.bytes = s.bytes.saturating_add(bytes as u32);
            }
        }
        self.trace.count(mount, ns, &kind);
        if self.trace.mode == TraceMode::Full {
            self.trace.events.push(Event {
                step: self.step,
                thread: tid,
                mount,
                ns,
                kind,
            });
        }
    }

    /// Whether a thread blocked on `b` could go on now. rwsems prefer writers, as 4.0's
    /// `rwsem-xadd` does: a reader waits while a writer is queued.
    pub fn can_proceed(&self, tid: Tid, b: Blocker) -> bool {
        match b {
            Blocker::Lock(l, mode) => {
                self.m.locks.free_for(l, mode)
                    && (mode == LockMode::Write
                        || !l.is_rwsem()
                        || !self.m.tasks.iter().enumerate().any(|(i, t)| {
                            i != tid.0 as usize
                                && t.blocked == Some(Blocker::Lock(l, LockMode::Write))
                        }))
            }
            Blocker::DioCount(ino) => self.m.inodes.get(&ino).is_none_or(|i| i.dio_count == 0),
        }
    }
}

/// A thread's view of the machine while it runs a kernel path: the shared world, who it is,
/// and the mount its events count toward.
#[derive(Clone)]
pub struct Cx {
    w: Rc<RefCell<World>>,
    /// The running thread.
    pub tid: Tid,
    /// Its process.
    pub pid: Pid,
    /// The mount the current operation works on.
    pub mount: Option<MountId>,
}

/// Ends the current step once (or, on the batched fast path, just counts a step).
pub struct YieldNow<'a> {
    cx: &'a Cx,
    done: bool,
    capture: bool,
}

impl Future for YieldNow<'_> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if self.done {
            return Poll::Ready(());
        }
        self.done = true;
        let mut w = self.cx.w.borrow_mut();
        if w.batch > 0 && !(self.capture && w.capture_wanted) {
            w.batch -= 1;
            let tid = self.cx.tid;
            w.begin_step(tid);
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

pin_project_lite::pin_project! {
    /// The future of [`Cx::call`]: polls the callee in place (an `async fn` taking the callee
    /// as an argument would hold it twice, and nested calls would double in size).
    pub struct Call<'a, F> {
        cx: &'a Cx,
        func: &'static str,
        started: bool,
        #[pin]
        f: F,
    }
}

impl<T: Show, F: Future<Output = T>> Future for Call<'_, F> {
    type Output = T;
    fn poll(self: Pin<&mut Self>, ctx: &mut Context<'_>) -> Poll<T> {
        let this = self.project();
        if !*this.started {
            *this.started = true;
            this.cx.push(this.func, None);
        }
        match this.f.poll(ctx) {
            Poll::Ready(r) => {
                this.cx.ret(this.func, &r);
                Poll::Ready(r)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`Cx::frame`]: the callee in place, then the frame's tail.
    pub struct FrameCall<'a, F> {
        cx: &'a Cx,
        func: &'static str,
        tail: Tail,
        started: bool,
        #[pin]
        f: F,
        finishing: Option<Pin<Box<dyn Future<Output = SysResult> + 'a>>>,
    }
}

impl<'a, F: Future<Output = SysResult>> Future for FrameCall<'a, F> {
    type Output = SysResult;
    fn poll(self: Pin<&mut Self>, ctx: &mut Context<'_>) -> Poll<SysResult> {
        let this = self.project();
        if let Some(fin) = this.finishing.as_mut() {
            return fin.as_mut().poll(ctx);
        }
        if !*this.started {
            *this.started = true;
            this.cx.push(this.func, Some(*this.tail));
        }
        match this.f.poll(ctx) {
            Poll::Ready(r) => {
                let cx: &'a Cx = this.cx;
                let mut fin = Box::pin(cx.finish_frame(this.func, *this.tail, r));
                let p = fin.as_mut().poll(ctx);
                *this.finishing = Some(fin);
                p
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// How a function's return value appears in a `return` event.
pub trait Show {
    /// The value to print, if any.
    fn shown(&self) -> Option<Shown>;
}

impl Show for () {
    fn shown(&self) -> Option<Shown> {
        None
    }
}
impl Show for crate::state::mem::Pfn {
    fn shown(&self) -> Option<Shown> {
        None
    }
}
impl Show for crate::state::FileId {
    fn shown(&self) -> Option<Shown> {
        None
    }
}
impl Show for u64 {
    fn shown(&self) -> Option<Shown> {
        Some(Shown::Num(*self))
    }
}
impl<T: Show> Show for KResult<T> {
    fn shown(&self) -> Option<Shown> {
        match self {
            Ok(v) => v.shown(),
            Err(e) => Some(Shown::Errno(*e)),
        }
    }
}
impl Show for SysResult {
    fn shown(&self) -> Option<Shown> {
        Some(match self {
            Ok(n) => Shown::Num(*n),
            Err(super::trace::Fail::Errno(e)) => Shown::Errno(*e),
            Err(super::trace::Fail::Signal(s)) => Shown::Name(s.name()),
        })
    }
}

impl Cx {
    /// A handle for thread `tid` of process `pid`.
    pub fn new(w: Rc<RefCell<World>>, tid: Tid, pid: Pid) -> Self {
        Cx {
            w,
            tid,
            pid,
            mount: None,
        }
    }

    /// The same thread, counting its events toward `mount`.
    pub fn on_mount(&self, mount: Option<MountId>) -> Cx {
        Cx {
            mount,
            ..self.clone()
        }
    }

    fn note(&self, w: &mut World, obj: Obj, write: bool) {
        if w.trace.mode == TraceMode::Footprint {
            w.foot.push(Access { obj, write });
        }
    }

    /// The world, with `obj` noted in the step's footprint. Out of line: the generic
    /// [`Cx::read`] and [`Cx::write`] at hundreds of call sites share it (code size in wasm).
    #[inline(never)]
    fn noted(&self, obj: Obj, write: bool) -> RefMut<'_, World> {
        let mut w = self.w.borrow_mut();
        self.note(&mut w, obj, write);
        w
    }

    /// Read the machine: the step's footprint reads `obj`. Never hold it across an `.await`.
    pub fn read<R>(&self, obj: Obj, f: impl FnOnce(&Machine) -> R) -> R {
        f(&self.noted(obj, false).m)
    }

    /// Change the machine: the step's footprint writes `obj`.
    pub fn write<R>(&self, obj: Obj, f: impl FnOnce(&mut Machine) -> R) -> R {
        f(&mut self.noted(obj, true).m)
    }

    /// Change the machine, touching the listed objects.
    pub fn touching<R>(&self, objs: &[Access], f: impl FnOnce(&mut Machine) -> R) -> R {
        let mut w = self.w.borrow_mut();
        if w.trace.mode == TraceMode::Footprint {
            w.foot.extend_from_slice(objs);
        }
        f(&mut w.m)
    }

    /// Change anything in the machine (the footprint says so: this step conflicts with every
    /// other). For administration commands that no race involves.
    pub fn with<R>(&self, f: impl FnOnce(&mut Machine) -> R) -> R {
        self.write(Obj::Global, f)
    }

    /// The machine, for reading without a footprint: only for what no other thread can
    /// change (the machine's configuration, this thread's own stack).
    pub fn config(&self) -> crate::state::Config {
        self.w.borrow().m.config
    }

    /// The world, for the engine.
    pub fn world(&self) -> RefMut<'_, World> {
        self.w.borrow_mut()
    }

    /// The world, read-only.
    pub fn peek(&self) -> Ref<'_, World> {
        self.w.borrow()
    }

    /// The step being run.
    pub fn step(&self) -> u32 {
        self.w.borrow().step
    }

    /// Record an event that takes no simulated time.
    pub fn emit(&self, kind: EventKind) {
        self.emit_ns(0, kind);
    }

    /// Record an event that took `ns` of simulated time.
    #[inline(never)]
    pub fn emit_ns(&self, ns: u64, kind: EventKind) {
        self.w.borrow_mut().record(self.tid, self.mount, ns, kind);
    }

    /// A point where another thread may run.
    pub fn yield_now(&self) -> YieldNow<'_> {
        YieldNow {
            cx: self,
            done: false,
            capture: false,
        }
    }

    /// A point where another thread may run and where the engine may take a checkpoint:
    /// `resume` is what continues this thread's command from here.
    pub fn capture_point(&self, resume: impl FnOnce() -> Resume) -> YieldNow<'_> {
        {
            let mut w = self.w.borrow_mut();
            if w.capture_wanted {
                let i = self.tid.0 as usize;
                if w.parked.len() <= i {
                    w.parked.resize(i + 1, None);
                }
                w.parked[i] = Some(resume());
            }
        }
        YieldNow {
            cx: self,
            done: false,
            capture: true,
        }
    }

    /// The turn of a batched run that passes a capture point without stopping: the step ends
    /// and the next begins, as [`Cx::capture_point`]'s future does when the batch allows it.
    /// Returns false (nothing done) where that future would stop.
    pub fn batched_step(&self) -> bool {
        let mut w = self.w.borrow_mut();
        if w.batch == 0 || w.capture_wanted {
            return false;
        }
        w.batch -= 1;
        w.begin_step(self.tid);
        true
    }

    /// Whether nothing of this step is recorded but counters: a batched run with the trace
    /// off, no step marks and no invariants. Entering and leaving a kernel function then
    /// changes nothing, so a hot loop may call a function's body without its frame.
    pub fn quiet(&self) -> bool {
        let w = self.w.borrow();
        w.batch > 0 && w.trace.mode == TraceMode::Off && w.steps.is_none() && !w.ghost.enabled
    }

    /// Enter `func`: on the thread's stack, and a `call` event if the trace keeps events.
    #[inline(never)]
    fn push(&self, func: &'static str, tail: Option<Tail>) {
        let mut w = self.w.borrow_mut();
        let t = self.tid.0 as usize;
        w.m.tasks[t].stack.push(Frame {
            func,
            tail,
            mount: self.mount,
        });
        if w.trace.mode == TraceMode::Full {
            w.record(self.tid, self.mount, 0, EventKind::Call { func });
        }
    }

    /// Call a kernel function: `call` and `return` events around it (ftrace function_graph),
    /// and the function on the thread's stack meanwhile.
    pub fn call<T: Show, F: Future<Output = T>>(&self, func: &'static str, f: F) -> Call<'_, F> {
        Call {
            cx: self,
            func,
            started: false,
            f,
        }
    }

    /// Call a kernel function that cannot sleep: `call` and `return` events around `f`.
    pub fn call_sync<T: Show>(&self, func: &'static str, f: impl FnOnce() -> T) -> T {
        self.push(func, None);
        let r = f();
        self.ret(func, &r);
        r
    }

    /// Call a kernel function whose work after its callee returns is `tail`, so that a command
    /// parked at a capture point below it can be resumed from a checkpoint. The body must end
    /// with the call that contains the capture point.
    pub fn frame<F: Future<Output = SysResult>>(
        &self,
        func: &'static str,
        tail: Tail,
        f: F,
    ) -> FrameCall<'_, F> {
        FrameCall {
            cx: self,
            func,
            tail,
            started: false,
            f,
            finishing: None,
        }
    }

    /// Run a frame's tail and return from it (also used when resuming from a checkpoint).
    pub async fn finish_frame(&self, func: &'static str, tail: Tail, r: SysResult) -> SysResult {
        // From here on the frame can no longer be resumed: its tail is running.
        {
            let mut w = self.w.borrow_mut();
            let t = self.tid.0 as usize;
            if let Some(f) = w.m.tasks[t].stack.last_mut() {
                f.tail = None;
            }
        }
        let r = crate::kernel::resume::run_tail(self, tail, r).await;
        self.ret(func, &r);
        r
    }

    /// Return from `func`: off the stack, and a `return` event if the trace keeps events.
    fn ret<T: Show>(&self, func: &'static str, r: &T) {
        let full = self.w.borrow().trace.mode == TraceMode::Full;
        self.ret_shown(func, if full { r.shown() } else { None });
    }

    #[inline(never)]
    fn ret_shown(&self, func: &'static str, ret: Option<Shown>) {
        let mut w = self.w.borrow_mut();
        let t = self.tid.0 as usize;
        w.m.tasks[t].stack.pop();
        if w.trace.mode == TraceMode::Full {
            w.record(self.tid, self.mount, 0, EventKind::Return { func, ret });
        }
    }

    /// What checking blocker `b` reads: a lock's writer side, and for a writer also its
    /// readers; or the inode's direct I/O count.
    fn note_check(&self, w: &mut World, b: Blocker) {
        match b {
            Blocker::Lock(l, mode) => {
                self.note(w, Obj::Lock(l), false);
                if mode == LockMode::Write {
                    self.note(w, Obj::LockReaders(l), false);
                }
            }
            Blocker::DioCount(ino) => self.note(w, Obj::DioCount(ino), false),
        }
    }

    /// The object a lock hold (or release) in `mode` changes.
    fn hold_obj(&self, lock: LockName, mode: LockMode) -> Obj {
        match mode {
            LockMode::Read => Obj::LockReader(lock, self.tid),
            LockMode::Write => Obj::Lock(lock),
        }
    }

    /// Wait until `b` no longer holds; the scheduler does not run this thread meanwhile.
    pub async fn block_on(&self, b: Blocker) {
        let mut announced = false;
        loop {
            let ok = {
                let mut w = self.w.borrow_mut();
                self.note_check(&mut w, b);
                let ok = w.can_proceed(self.tid, b);
                let task = &mut w.m.tasks[self.tid.0 as usize];
                let was = task.blocked.is_some();
                task.blocked = if ok { None } else { Some(b) };
                // A writer that starts or stops waiting changes what readers of an rwsem may
                // do (writer preference): a write of the lock's writer side.
                if let Blocker::Lock(l, LockMode::Write) = b {
                    if was || !ok {
                        self.note(&mut w, Obj::Lock(l), true);
                    }
                }
                ok
            };
            if ok {
                return;
            }
            if !announced {
                self.emit(EventKind::Wait { on: b });
                announced = true;
            }
            self.yield_now().await;
        }
    }

    /// Take a lock (`mutex_lock`, `down_read`, `down_write`, `lock_page`). Taking a lock is a
    /// yield point: another thread may get there first.
    pub async fn lock(&self, lock: LockName, mode: LockMode) {
        if self.dropped(lock) {
            return;
        }
        self.yield_now().await;
        self.block_on(Blocker::Lock(lock, mode)).await;
        self.write(self.hold_obj(lock, mode), |m| {
            m.locks.acquire(lock, mode, self.tid)
        });
        self.emit(EventKind::Lock { lock, mode });
    }

    /// `trylock_page` and friends: take the lock if it is free, without waiting.
    pub fn try_lock(&self, lock: LockName, mode: LockMode) -> bool {
        if self.dropped(lock) {
            return true;
        }
        let got = {
            let mut w = self.w.borrow_mut();
            self.note_check(&mut w, Blocker::Lock(lock, mode));
            let ok = w.can_proceed(self.tid, Blocker::Lock(lock, mode));
            if ok {
                let obj = self.hold_obj(lock, mode);
                self.note(&mut w, obj, true);
                w.m.locks.acquire(lock, mode, self.tid);
            }
            ok
        };
        self.emit(if got {
            EventKind::Lock { lock, mode }
        } else {
            EventKind::TryLockFailed { lock }
        });
        got
    }

    /// Release a lock; the next step may be another thread's.
    pub async fn unlock(&self, lock: LockName) {
        if self.dropped(lock) {
            return;
        }
        let mode = self.peek().m.locks.mode_held(lock, self.tid);
        let obj = self.hold_obj(lock, mode.unwrap_or(LockMode::Write));
        self.write(obj, |m| m.locks.release(lock, self.tid));
        self.emit(EventKind::Unlock { lock });
        self.yield_now().await;
    }

    /// `inode_dio_wait`: wait for direct I/O in flight on the inode to finish.
    pub async fn inode_dio_wait(&self, ino: u64) {
        if self.config().locking == Locking::None {
            return;
        }
        self.call("inode_dio_wait", self.block_on(Blocker::DioCount(ino)))
            .await
    }

    /// Whether the lock policy drops `lock` (`locking none`).
    fn dropped(&self, lock: LockName) -> bool {
        self.config().locking == Locking::None && lock.serialises_inode()
    }
}

/// Poll `f` until it finishes, as the only thread of its machine (for set-up code, tests and
/// benchmarks that call kernel paths directly). `None` if it is still waiting after `max_polls`
/// (it waits for something no other thread will release).
pub fn run_alone<F: Future>(f: F, max_polls: u64) -> Option<F::Output> {
    let mut f = std::pin::pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..max_polls {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return Some(v);
        }
    }
    None
}
