//! Steps. Kernel paths are `async` functions; every `.await` on [`Cx::yield_now`] is a point
//! where the real kernel could run another thread. The scheduler ([`crate::sim::Sim`]) polls one
//! thread at a time: one poll is one step, from one yield point to the next.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::errno::KResult;
use crate::event::{Event, EventKind, LockMode, LockName, Ret, ThreadId};
use crate::kernel::{Blocker, Kernel};

/// A thread's view of the machine while it runs a kernel path: the shared kernel, who it is,
/// and the mount its events count toward.
#[derive(Clone)]
pub struct Cx {
    /// The machine.
    pub k: Rc<RefCell<Kernel>>,
    /// The running thread.
    pub tid: ThreadId,
    /// The mount the current operation works on.
    pub mount: Option<u16>,
}

/// Ends the current step once.
pub struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            Poll::Pending
        }
    }
}

/// How a function's return value appears in a `return` event.
pub trait ShowRet {
    /// The value to print, if any.
    fn show(&self) -> Option<Ret>;
}

impl ShowRet for () {
    fn show(&self) -> Option<Ret> {
        None
    }
}
impl ShowRet for u64 {
    fn show(&self) -> Option<Ret> {
        Some(Ret::Num(*self))
    }
}
impl<T: ShowRet> ShowRet for KResult<T> {
    fn show(&self) -> Option<Ret> {
        match self {
            Ok(v) => v.show(),
            Err(e) => Some(Ret::Errno(*e)),
        }
    }
}

impl Cx {
    /// Run `f` on the kernel state. Never hold the borrow across an `.await`.
    pub fn with<R>(&self, f: impl FnOnce(&mut Kernel) -> R) -> R {
        f(&mut self.k.borrow_mut())
    }

    /// Record an event that takes no simulated time.
    pub fn emit(&self, kind: EventKind) {
        self.emit_ns(0, kind);
    }

    /// Record an event that took `ns` of simulated time.
    pub fn emit_ns(&self, ns: u64, kind: EventKind) {
        let mut k = self.k.borrow_mut();
        let step = k.step;
        k.events.push(Event {
            step,
            thread: self.tid,
            mount: self.mount,
            ns,
            kind,
        });
    }

    /// A point where another thread may run.
    pub fn yield_now(&self) -> YieldNow {
        YieldNow(false)
    }

    /// Call a kernel function: `call` and `return` events around it (ftrace function_graph).
    pub async fn call<T: ShowRet>(&self, func: &'static str, f: impl Future<Output = T>) -> T {
        self.emit(EventKind::Call { func });
        let r = f.await;
        self.emit(EventKind::Return {
            func,
            ret: r.show(),
        });
        r
    }

    /// Wait until `b` no longer holds; the scheduler does not run this thread meanwhile.
    async fn block_on(&self, b: Blocker, what: String) {
        let mut announced = false;
        while !self.with(|k| k.can_proceed(b)) {
            if !announced {
                self.emit(EventKind::Wait { what: what.clone() });
                announced = true;
            }
            self.with(|k| k.blocked.insert(self.tid, b));
            self.yield_now().await;
        }
        self.with(|k| k.blocked.remove(&self.tid));
    }

    /// Take a lock (`mutex_lock`, `down_read`, `down_write`, `lock_page`). Taking a lock is a
    /// yield point: another thread may get there first.
    pub async fn lock(&self, lock: LockName, mode: LockMode) {
        self.yield_now().await;
        self.block_on(Blocker::Lock(lock, mode), lock.to_string())
            .await;
        self.with(|k| k.locks.try_acquire(lock, mode, self.tid));
        self.emit(EventKind::Lock { lock, mode });
    }

    /// Release a lock; the next step may be another thread's.
    pub async fn unlock(&self, lock: LockName) {
        self.with(|k| k.locks.release(lock, self.tid));
        self.emit(EventKind::Unlock { lock });
        self.yield_now().await;
    }

    /// `inode_dio_wait`: wait for direct I/O in flight on the inode to finish.
    pub async fn inode_dio_wait(&self, ino: u64) {
        self.call("inode_dio_wait", async {
            self.block_on(
                Blocker::DioCount(ino),
                format!("i_dio_count(ino {ino}) == 0"),
            )
            .await;
        })
        .await
    }
}
