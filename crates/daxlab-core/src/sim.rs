//! The deterministic scheduler. A thread is a future; one poll is one step. The same futures
//! and the same choices give the same events, byte for byte.

use std::cell::{Ref, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use crate::event::ThreadId;
use crate::kernel::Kernel;
use crate::sched::Cx;

type Task = Pin<Box<dyn Future<Output = ()>>>;

struct Thread {
    name: Option<String>,
    task: Option<Task>,
}

/// A machine and its threads. Thread 0 is the main thread (top-level commands).
pub struct Sim {
    k: Rc<RefCell<Kernel>>,
    threads: Vec<Thread>,
}

/// Default RAM of a scenario's machine.
pub const DEFAULT_RAM: u64 = 1 << 30;

impl Sim {
    /// A machine with `ram` bytes of RAM and only the main thread.
    pub fn new(ram: u64) -> Self {
        Sim {
            k: Rc::new(RefCell::new(Kernel::new(ram))),
            threads: vec![Thread {
                name: None,
                task: None,
            }],
        }
    }

    /// The kernel state, for reading (views, reports).
    pub fn kernel(&self) -> Ref<'_, Kernel> {
        self.k.borrow()
    }

    /// The kernel state, for setting up (era, arch) and draining events.
    pub fn kernel_mut(&self) -> std::cell::RefMut<'_, Kernel> {
        self.k.borrow_mut()
    }

    /// A context for thread `tid`.
    pub fn cx(&self, tid: ThreadId) -> Cx {
        Cx {
            k: self.k.clone(),
            tid,
            mount: None,
        }
    }

    /// The name of a thread (`None` for main).
    pub fn thread_name(&self, tid: ThreadId) -> Option<&str> {
        self.threads
            .get(tid.0 as usize)
            .and_then(|t| t.name.as_deref())
    }

    /// Create a named thread; it runs nothing until given a task.
    pub fn add_thread(&mut self, name: &str) -> ThreadId {
        self.threads.push(Thread {
            name: Some(name.to_string()),
            task: None,
        });
        ThreadId(self.threads.len() as u16 - 1)
    }

    /// Give a thread the work it runs.
    pub fn set_task(&mut self, tid: ThreadId, task: impl Future<Output = ()> + 'static) {
        self.threads[tid.0 as usize].task = Some(Box::pin(task));
    }

    /// Whether the thread has work left.
    pub fn alive(&self, tid: ThreadId) -> bool {
        self.threads
            .get(tid.0 as usize)
            .is_some_and(|t| t.task.is_some())
    }

    /// Whether the thread could make progress now (alive, and not waiting on a lock or
    /// condition that still holds).
    pub fn runnable(&self, tid: ThreadId) -> bool {
        self.alive(tid) && {
            let k = self.k.borrow();
            k.blocked.get(&tid).is_none_or(|b| k.can_proceed(*b))
        }
    }

    /// What a thread waits for, if it is blocked.
    pub fn blocked_on(&self, tid: ThreadId) -> Option<crate::kernel::Blocker> {
        self.k.borrow().blocked.get(&tid).copied()
    }

    /// Run one step of a runnable thread. Returns false if the thread could not run.
    pub fn step(&mut self, tid: ThreadId) -> bool {
        if !self.runnable(tid) {
            return false;
        }
        {
            let mut k = self.k.borrow_mut();
            k.step += 1;
            k.ran.push(tid);
        }
        let Some(task) = self.threads[tid.0 as usize].task.as_mut() else {
            return false;
        };
        let mut cx = Context::from_waker(Waker::noop());
        if let Poll::Ready(()) = task.as_mut().poll(&mut cx) {
            self.threads[tid.0 as usize].task = None;
            self.k.borrow_mut().blocked.remove(&tid);
        }
        true
    }

    /// Run a thread until it finishes or cannot go on. Returns whether it finished.
    pub fn run_thread(&mut self, tid: ThreadId) -> bool {
        while self.alive(tid) {
            if !self.step(tid) {
                return false;
            }
        }
        true
    }

    /// Run `f` on the main thread to completion and return its value (`None` if it blocked
    /// forever). For tests, benchmarks and set-up code that drive the kernel directly.
    pub fn block_on<T: 'static>(&mut self, f: impl Future<Output = T> + 'static) -> Option<T> {
        let slot = Rc::new(RefCell::new(None));
        let out = slot.clone();
        self.set_task(ThreadId(0), async move {
            *out.borrow_mut() = Some(f.await);
        });
        if !self.run_thread(ThreadId(0)) {
            self.kill(ThreadId(0));
        }
        let v = slot.borrow_mut().take();
        v
    }

    /// All thread ids.
    pub fn threads(&self) -> impl Iterator<Item = ThreadId> {
        (0..self.threads.len() as u16).map(ThreadId)
    }

    /// Abandon a thread's remaining work (after a deadlock).
    pub fn kill(&mut self, tid: ThreadId) {
        self.threads[tid.0 as usize].task = None;
        let mut k = self.k.borrow_mut();
        k.blocked.remove(&tid);
        // Its locks go with it, so the threads that remain are not stuck behind them.
        k.locks.release_all(tid);
    }
}
