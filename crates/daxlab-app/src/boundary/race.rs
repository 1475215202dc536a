//! The race lab's side of the boundary: the levels, and a level being played with the learner
//! as the scheduler ([`Game`]). A game is rebuilt from the level, the lock policy and the
//! learner's picks whenever they change (a race is a few dozen steps, so replaying it costs
//! less than a frame), and is shown as plain data: one [`ThreadCard`] per thread with its
//! program, kernel call stack and what its next step will do; the locks ([`LockRow`]); the
//! invariants broken; and a [`Run`] for the time travel and the machine views.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;

use daxlab_core::engine::exec::RunOptions;
use daxlab_core::engine::play::Play;
use daxlab_core::engine::trace::{Event, EventKind, TraceMode};
use daxlab_core::lang::command::{Item, Scenario};
use daxlab_core::lang::invariant::Invariant;
use daxlab_core::lang::parse::parse;
use daxlab_core::lang::report::Names;
use daxlab_core::lang::text;
use daxlab_core::levels::LEVELS;
use daxlab_core::state::lock::LockMode;
use daxlab_core::state::task::Blocker;
use daxlab_core::state::{Locking, Tid};

use super::{Run, ViolationRow};

/// The lock policy a level is played under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Policy {
    /// The locks of Linux 4.0, as the kernel document describes it.
    #[default]
    V4_0,
    /// Without the 4.0 inode locks that serialise faults, I/O and truncate.
    None,
    /// The later kernels' fixes for the race.
    Fixed,
}

impl Policy {
    /// Every policy, in the order the switch shows them.
    pub const ALL: [Policy; 3] = [Policy::V4_0, Policy::None, Policy::Fixed];

    fn locking(self) -> Locking {
        match self {
            Policy::V4_0 => Locking::V4_0,
            Policy::None => Locking::None,
            Policy::Fixed => Locking::Fixed,
        }
    }

    /// The scenario language's word (`locking 4.0|none|fixed`), also used in links.
    pub fn name(self) -> &'static str {
        self.locking().name()
    }

    /// The policy named `word`.
    pub fn from_name(word: &str) -> Option<Policy> {
        Self::ALL.into_iter().find(|p| p.name() == word)
    }

    /// What it means, in a sentence.
    pub fn describe(self) -> &'static str {
        match self {
            Policy::V4_0 => "The locks of Linux 4.0, the kernel dax.txt describes.",
            Policy::None => {
                "Without i_mutex, i_mmap_rwsem, truncate_mutex and i_data_sem: what each 4.0 lock protects."
            }
            Policy::Fixed => {
                "The later kernels' fixes: DAX entry locks, ext2 dax_sem, ext4 i_mmap_sem and pre-zeroed allocation."
            }
        }
    }
}

/// A level as the views show it: the core's own description.
pub use daxlab_core::levels::Level;

/// How many levels there are.
pub fn level_count() -> usize {
    LEVELS.len()
}

/// Level `i` (in order), if there is one.
pub fn level(i: usize) -> Option<&'static Level> {
    LEVELS.get(i)
}

/// The index of the level with id `id`.
pub fn level_index(id: &str) -> Option<usize> {
    LEVELS.iter().position(|l| l.id == id)
}

/// The program of level `i` under `policy` (the text the explorer explores).
pub fn program(i: usize, policy: Policy) -> String {
    LEVELS
        .get(i)
        .map_or_else(String::new, |l| l.program(policy.locking()))
}

/// Where a thread is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThreadState {
    /// It can run its next step now.
    Runnable,
    /// It waits.
    Blocked {
        /// For what (a lock, `i_dio_count` to drain).
        on: String,
        /// Who holds it (empty for `i_dio_count`).
        holders: Vec<String>,
    },
    /// It has run all its commands.
    Finished,
    /// It was stopped because it could never run again (a deadlock).
    Stopped,
}

/// A line of a thread's program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramLine {
    /// Its line in the level's program.
    pub line: u32,
    /// Its text.
    pub text: String,
    /// Whether it has finished, runs now, or is still to come.
    pub state: LineState,
    /// The steps it has taken so far, each in brief (its micro-steps).
    pub steps: Vec<MicroStep>,
}

/// Where a program line is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineState {
    /// Finished, with its result as the runner prints it.
    Done(String),
    /// The thread's next step belongs to it.
    Current,
    /// Not started.
    Todo,
}

/// One step a thread took, in brief.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MicroStep {
    /// The step.
    pub step: u32,
    /// What it did.
    pub text: String,
}

/// One thing a thread's next step will do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextEvent {
    /// The event's kind, as the trace names it (`call`, `lock`, `zero`, ...).
    pub kind: &'static str,
    /// What it is.
    pub text: String,
}

/// The most events of a next step listed.
pub const MAX_NEXT: usize = 8;

/// A thread of the level, as the scheduler sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadCard {
    /// Its lane (the core's thread number; 0 is main).
    pub lane: usize,
    /// Its name, as `schedule` lines name it.
    pub name: String,
    /// A process of its own (else a thread of the main process).
    pub process: bool,
    /// Where it is.
    pub state: ThreadState,
    /// Its kernel call stack, outermost first (empty: in user space).
    pub stack: Vec<&'static str>,
    /// What its next step will do, when it can run (at most [`MAX_NEXT`]).
    pub next: Vec<NextEvent>,
    /// Events of the next step not listed.
    pub more_next: usize,
    /// The locks it holds.
    pub holds: Vec<String>,
    /// Steps it has run.
    pub steps: u32,
    /// Its program.
    pub lines: Vec<ProgramLine>,
}

/// A lock the game has used, and who has it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockRow {
    /// The lock as lockdep would name it (`i_mutex(ino 12)`), or `i_dio_count(ino 12)`.
    pub name: String,
    /// Who holds it now (`a`, `b (read)`); empty when free. For `i_dio_count`, the count.
    pub holders: Vec<String>,
    /// Who waits for it.
    pub waiters: Vec<String>,
}

/// How the game stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// A choice is waiting for the learner.
    Playing,
    /// Every thread has finished (or was stopped).
    Over,
}

/// A pick of a link that could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// Its position in the picks (0-based).
    pub at: usize,
    /// The thread it named.
    pub thread: String,
}

/// A level being played.
pub struct Game {
    level: usize,
    text: String,
    scenario: Scenario,
    play: Play,
    names: Vec<Rc<str>>,
    start: u32,
    refused: Option<Refused>,
    board: std::cell::OnceCell<Board>,
}

/// What the scheduler's views show of a game, made once per game: a thread's next step is
/// found by running it on a copy, which is too dear to do at every redraw of the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Board {
    /// Each thread ([`Game::threads`]).
    pub threads: Vec<ThreadCard>,
    /// The locks ([`Game::locks`]).
    pub locks: Vec<LockRow>,
    /// The invariants broken so far ([`Game::violations`]).
    pub violations: Vec<ViolationRow>,
    /// How the game stands.
    pub standing: Standing,
}

impl PartialEq for Game {
    fn eq(&self, o: &Self) -> bool {
        std::ptr::eq(self, o)
    }
}

impl std::fmt::Debug for Game {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Game({}, {:?})", self.level, self.picks())
    }
}

/// The gist of one step's events: what it did that matters, else the function it entered or
/// left.
fn gist(events: &[&Event], names: &Names) -> String {
    let telling: Vec<String> = events
        .iter()
        .filter(|e| {
            !matches!(
                e.kind,
                EventKind::Call { .. }
                    | EventKind::Return { .. }
                    | EventKind::Unlock { .. }
                    | EventKind::CopyAvoided { .. }
            )
        })
        .take(2)
        .map(|e| text::event(e, names))
        .collect();
    if !telling.is_empty() {
        return telling.join("; ");
    }
    match events.first() {
        Some(e) => next_event(e, names).text,
        None => "a yield point (nothing to record)".into(),
    }
}

/// An event of a next step, in words: calls and returns as arrows, the rest as the trace says.
fn next_event(e: &Event, names: &Names) -> NextEvent {
    let text = match &e.kind {
        EventKind::Call { func } => format!("→ {func}()"),
        EventKind::Return { func, ret } => match ret {
            Some(r) => format!("← {func} = {r}"),
            None => format!("← {func}"),
        },
        _ => text::event(e, names),
    };
    NextEvent {
        kind: e.kind.name(),
        text,
    }
}

impl Game {
    /// Level `level` under `policy`, with `picks` (thread names) made in order. A pick that
    /// cannot be made (a thread that has finished or waits, a name the level does not have)
    /// ends the picks there; [`Game::refused`] says which.
    pub fn new(level: usize, policy: Policy, picks: &[String]) -> Result<Game, String> {
        let l = LEVELS
            .get(level)
            .ok_or_else(|| format!("there is no level {}", level + 1))?;
        let program = l.program(policy.locking());
        let scenario = parse(&program).map_err(|e| {
            format!(
                "level {} does not parse: line {}: {}",
                l.id, e.line, e.message
            )
        })?;
        let mut play = Play::new(&scenario).map_err(|e| e.message)?;
        let names = play.run().thread_names();
        let start = play.run().step();
        let mut refused = None;
        for (at, p) in picks.iter().enumerate() {
            let tid = names.iter().skip(1).position(|n| **n == **p);
            if !tid.is_some_and(|t| play.pick(Tid(t as u16 + 1))) {
                refused = Some(Refused {
                    at,
                    thread: p.clone(),
                });
                break;
            }
        }
        let made = refused.as_ref().map_or(picks.len(), |r| r.at);
        let mut text = program;
        if made > 0 {
            text.push_str("schedule ");
            text.push_str(&picks[..made].join(" "));
            text.push('\n');
        }
        Ok(Game {
            level,
            text,
            scenario,
            play,
            names,
            start,
            refused,
            board: std::cell::OnceCell::new(),
        })
    }

    /// What the views show of the game, made on first use and kept.
    pub fn board(&self) -> &Board {
        self.board.get_or_init(|| Board {
            threads: self.threads(),
            locks: self.locks(),
            violations: self.violations(),
            standing: self.standing(),
        })
    }

    /// The level.
    pub fn level(&self) -> usize {
        self.level
    }

    /// The program with a `schedule` line of the picks: run with `daxlab run`, it makes the
    /// same choices (and then lets the default policy finish).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The picks made, by thread name.
    pub fn picks(&self) -> Vec<String> {
        self.play
            .picks()
            .iter()
            .map(|t| self.name(*t).to_string())
            .collect()
    }

    /// The pick of the link that could not be made, if any.
    pub fn refused(&self) -> Option<&Refused> {
        self.refused.as_ref()
    }

    /// The step before the threads' first step (where the set-up ends).
    pub fn start(&self) -> u32 {
        self.start
    }

    /// Steps run so far.
    pub fn step(&self) -> u32 {
        self.play.run().step()
    }

    fn name(&self, t: Tid) -> &str {
        self.names.get(t.0 as usize).map_or("?", |n| n)
    }

    /// The names of the level's threads, in order (their keys are 1, 2, ...).
    pub fn thread_names(&self) -> Vec<String> {
        self.names.iter().skip(1).map(|n| n.to_string()).collect()
    }

    /// Whether the thread named `name` can run its next step now.
    pub fn runnable(&self, name: &str) -> bool {
        self.play.pending().is_some_and(|p| {
            p.runnable
                .iter()
                .any(|t| self.names.get(t.0 as usize).is_some_and(|n| **n == *name))
        })
    }

    /// Whether a choice is waiting.
    pub fn standing(&self) -> Standing {
        if self.play.pending().is_some() {
            Standing::Playing
        } else {
            Standing::Over
        }
    }

    /// The `schedule` lines that reproduce the picks (ending where the default policy would
    /// make the same choices).
    pub fn schedule(&self) -> Vec<String> {
        self.play.schedule()
    }

    /// The invariants broken so far.
    pub fn violations(&self) -> Vec<ViolationRow> {
        self.play
            .run()
            .violations()
            .iter()
            .map(ViolationRow::of)
            .collect()
    }

    /// The violation that wins the level, if the game has it.
    pub fn win(&self) -> Option<ViolationRow> {
        let want = LEVELS.get(self.level)?.win.name();
        self.violations().into_iter().find(|v| v.name == want)
    }

    /// Each thread, as the scheduler sees it.
    pub fn threads(&self) -> Vec<ThreadCard> {
        let run = self.play.run();
        let names = Names::of(run);
        let pending = self.play.pending();
        let events = run.events();
        let marks = run.steps();
        let results = run.results();
        let m = run.machine();
        let deadlocked = run
            .violations()
            .iter()
            .any(|v| v.invariant == Invariant::Deadlock);
        let mut cards = Vec::new();
        for it in &self.scenario.items {
            let Item::Thread {
                name,
                process,
                body,
                ..
            } = it
            else {
                continue;
            };
            let Some(lane) = self.names.iter().position(|n| n == name) else {
                continue;
            };
            let tid = Tid(lane as u16);
            let alive = pending.is_some_and(|p| p.alive.contains(&tid));
            let blocked = pending.and_then(|p| p.blocked.iter().find(|(t, _)| *t == tid));
            let state = match blocked {
                Some((_, b)) => ThreadState::Blocked {
                    on: b.to_string(),
                    holders: match b {
                        Blocker::Lock(l, _) => m
                            .locks
                            .held()
                            .filter(|(x, _)| *x == l)
                            .flat_map(|(_, h)| {
                                h.writer.iter().map(|t| self.name(*t).to_string()).chain(
                                    h.readers
                                        .iter()
                                        .map(|t| format!("{} (read)", self.name(*t))),
                                )
                            })
                            .collect(),
                        Blocker::DioCount(_) => Vec::new(),
                    },
                },
                None if alive => ThreadState::Runnable,
                None if deadlocked
                    && run
                        .results()
                        .iter()
                        .filter(|r| r.thread.as_deref() == Some(&**name))
                        .count()
                        < body.len() =>
                {
                    ThreadState::Stopped
                }
                None => ThreadState::Finished,
            };
            let mine: Vec<&daxlab_core::lang::outcome::CmdResult> = results
                .iter()
                .filter(|r| r.thread.as_deref() == Some(&**name))
                .collect();
            let my_steps: Vec<u32> = marks
                .iter()
                .enumerate()
                .filter(|(_, s)| s.thread == tid)
                .map(|(i, _)| i as u32 + 1)
                .collect();
            let micro = |from: u32, to: u32| -> Vec<MicroStep> {
                my_steps
                    .iter()
                    .filter(|s| **s >= from && **s <= to)
                    .map(|s| {
                        let evs: Vec<&Event> = events
                            .iter()
                            .filter(|e| e.step == *s && e.thread == tid)
                            .collect();
                        MicroStep {
                            step: *s,
                            text: gist(&evs, &names),
                        }
                    })
                    .collect()
            };
            let mut after = 0;
            let lines = body
                .iter()
                .enumerate()
                .map(|(i, stmt)| {
                    let (state, steps) = match mine.get(i) {
                        Some(r) => {
                            after = r.step;
                            (LineState::Done(text::result(r)), micro(r.start, r.step))
                        }
                        None if i == mine.len() && alive => {
                            (LineState::Current, micro(after + 1, u32::MAX))
                        }
                        None => (LineState::Todo, Vec::new()),
                    };
                    ProgramLine {
                        line: stmt.line,
                        text: stmt.text.to_string(),
                        state,
                        steps,
                    }
                })
                .collect();
            let (next, more_next) = if state == ThreadState::Runnable {
                let all = self.play.preview(tid);
                // A step that only yields: say so, and show what the step after it does.
                let (mut list, all): (Vec<NextEvent>, Vec<Event>) = if all.is_empty() {
                    let later = self.play.preview_steps(tid, 2);
                    let first = NextEvent {
                        kind: "yield",
                        text: "a yield point (nothing happens), then:".into(),
                    };
                    (
                        if later.is_empty() {
                            Vec::new()
                        } else {
                            vec![first]
                        },
                        later,
                    )
                } else {
                    (Vec::new(), all)
                };
                list.extend(all.iter().take(MAX_NEXT).map(|e| next_event(e, &names)));
                (list, all.len().saturating_sub(MAX_NEXT))
            } else {
                (Vec::new(), 0)
            };
            cards.push(ThreadCard {
                lane,
                name: name.to_string(),
                process: *process,
                stack: m
                    .tasks
                    .get(lane)
                    .map(|t| t.stack.iter().map(|f| f.func).collect())
                    .unwrap_or_default(),
                holds: m
                    .locks
                    .held_by(tid)
                    .into_iter()
                    .map(|(l, mode)| match mode {
                        LockMode::Read => format!("{l} (read)"),
                        LockMode::Write => l.to_string(),
                    })
                    .collect(),
                state,
                next,
                more_next,
                steps: my_steps.len() as u32,
                lines,
            });
        }
        cards
    }

    /// Every lock the game has taken or waited for, in the order first seen, with who holds it
    /// and who waits now; and `i_dio_count` of the inodes with direct I/O in flight.
    pub fn locks(&self) -> Vec<LockRow> {
        let run = self.play.run();
        let m = run.machine();
        let waits: Vec<(Tid, Blocker)> = self
            .play
            .pending()
            .map(|p| p.blocked.clone())
            .unwrap_or_default();
        let mut seen = Vec::new();
        for e in run.events().iter() {
            let l = match e.kind {
                EventKind::Lock { lock, .. } => lock,
                EventKind::Wait {
                    on: Blocker::Lock(lock, _),
                } => lock,
                _ => continue,
            };
            if !seen.contains(&l) {
                seen.push(l);
            }
        }
        for (l, _) in m.locks.held() {
            if !seen.contains(l) {
                seen.push(*l);
            }
        }
        let mut rows: Vec<LockRow> = seen
            .into_iter()
            .map(|l| {
                let holders = m
                    .locks
                    .held()
                    .filter(|(x, _)| **x == l)
                    .flat_map(|(_, h)| {
                        h.writer.iter().map(|t| self.name(*t).to_string()).chain(
                            h.readers
                                .iter()
                                .map(|t| format!("{} (read)", self.name(*t))),
                        )
                    })
                    .collect();
                let waiters = waits
                    .iter()
                    .filter_map(|(t, b)| match b {
                        Blocker::Lock(x, mode) if *x == l => Some(match mode {
                            LockMode::Read => format!("{} (read)", self.name(*t)),
                            LockMode::Write => self.name(*t).to_string(),
                        }),
                        _ => None,
                    })
                    .collect();
                LockRow {
                    name: l.to_string(),
                    holders,
                    waiters,
                }
            })
            .collect();
        for (ino, inode) in m.inodes.iter() {
            let waiters: Vec<String> = waits
                .iter()
                .filter(|(_, b)| *b == Blocker::DioCount(*ino))
                .map(|(t, _)| self.name(*t).to_string())
                .collect();
            if inode.dio_count > 0 || !waiters.is_empty() {
                rows.push(LockRow {
                    name: format!("i_dio_count(ino {ino})"),
                    holders: vec![format!("{} in flight", inode.dio_count)],
                    waiters,
                });
            }
        }
        rows
    }

    /// The run so far, for the time travel and the machine views.
    pub fn run(&self) -> Run {
        let play = self.play.run();
        let mut exec = play.fork_at(
            play.step(),
            RunOptions {
                trace: TraceMode::Off,
                keep_steps: true,
                checkpoint_every: 0,
                batch: false,
            },
        );
        // The fork stops at the step; the play went on to where the choice is (the group's
        // threads start there, without a step), and so does the fork: no step runs.
        exec.run_to_choice();
        // Inserted one by one: collecting into a set sorts, and a sort is code the page's wasm
        // does without.
        let mut called: BTreeSet<&'static str> = BTreeSet::new();
        for e in play.events().iter() {
            if let EventKind::Call { func } = e.kind {
                called.insert(func);
            }
        }
        Run::of(
            self.text.clone(),
            self.scenario.clone(),
            Rc::new(RefCell::new(exec)),
            called,
        )
    }
}

/// `picks` and then, while a choice waits, the thread the default policy runs (the first
/// runnable): the whole run an explorer's outcome stands for, as picks.
pub fn complete(level: usize, policy: Policy, picks: &[String]) -> Vec<String> {
    let Ok(g) = Game::new(level, policy, picks) else {
        return picks.to_vec();
    };
    let mut play = g.play;
    while let Some(t) = play.pending().and_then(|p| p.runnable.first().copied()) {
        if !play.pick(t) {
            break;
        }
    }
    play.picks()
        .iter()
        .map(|t| g.names.get(t.0 as usize).map_or("?", |n| n).to_string())
        .collect()
}

/// The thread names of `schedule` lines, in order.
pub fn schedule_picks(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .flat_map(|l| l.split_whitespace().skip(1).map(str::to_string))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picks(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn every_level_is_one_group_of_threads_that_parses_under_every_policy() {
        for i in 0..level_count() {
            for p in Policy::ALL {
                let g = Game::new(i, p, &[]).expect("the level parses");
                assert_eq!(g.standing(), Standing::Playing, "level {i} under {p:?}");
                assert!(g.threads().len() >= 2);
                assert!(g.threads().iter().all(|t| t.state == ThreadState::Runnable
                    || matches!(t.state, ThreadState::Blocked { .. })));
                let groups = g
                    .scenario
                    .items
                    .iter()
                    .filter(|it| matches!(it, Item::Stmt(_)))
                    .count();
                assert!(groups > 0);
            }
        }
        assert_eq!(level_index("r1"), Some(0));
        assert_eq!(level(0).map(|l| l.win.name()), Some("store_lost"));
        assert_eq!(Policy::from_name("fixed"), Some(Policy::Fixed));
        assert_eq!(Policy::from_name("5.0"), None);
    }

    #[test]
    fn winning_r1_names_the_step_and_the_invariant() {
        // a: the fault, the lookup that finds a hole, the allocation; then b all the way;
        // then a's insert clears the block.
        let won = complete(0, Policy::V4_0, &picks("a a a a a a a b b b b b b b b b b"));
        let g = Game::new(0, Policy::V4_0, &won).expect("r1");
        let win = g.win().expect("b's store is lost");
        assert_eq!(win.name, "store_lost");
        assert!(win.step > g.start());
        assert!(
            g.violations().iter().all(|v| v.step <= g.step()),
            "{:?}",
            g.violations()
        );
        assert_eq!(g.run().violations, g.violations(), "the views see the same");
        // The game is over: nothing to choose, every thread finished.
        assert_eq!(g.standing(), Standing::Over);
        assert!(g
            .threads()
            .iter()
            .all(|t| t.state == ThreadState::Finished && t.next.is_empty()));
        // The schedule line reproduces it with the runner.
        let text = format!("{}{}\n", program(0, Policy::V4_0), g.schedule().join("\n"));
        let r = crate::boundary::run(&text).expect("valid");
        assert!(r.violations.iter().any(|v| v.name == "store_lost"));
    }

    #[test]
    fn a_thread_shows_its_stack_its_program_and_what_its_next_step_does() {
        let g = Game::new(0, Policy::V4_0, &picks("a a a a a")).expect("r1");
        let cards = g.threads();
        let a = &cards[0];
        assert_eq!((a.name.as_str(), a.lane), ("a", 1));
        assert!(a.stack.starts_with(&["do_page_fault"]), "{:?}", a.stack);
        assert!(a.stack.contains(&"do_dax_fault"));
        assert_eq!(a.steps, 5);
        assert_eq!(a.lines.len(), 1);
        assert_eq!(a.lines[0].state, LineState::Current);
        assert_eq!(
            a.lines[0].steps.len(),
            5,
            "each step of the store, in brief"
        );
        assert!(a.lines[0].steps[0].text.contains("do_page_fault"));
        // a's next step allocates the block under truncate_mutex and zeroes it.
        let next: Vec<&str> = a.next.iter().map(|e| e.text.as_str()).collect();
        assert!(
            next.iter().any(|t| t.contains("truncate_mutex")),
            "{next:?}"
        );
        assert!(a.next.iter().any(|e| e.kind == "block_alloc"), "{next:?}");
        // b has not started: its next step enters the fault handler.
        let b = &cards[1];
        assert!(b.stack.is_empty());
        assert_eq!(b.next[0].text, "→ do_page_fault()");
        assert_eq!(b.lines[0].state, LineState::Current);
        // a holds mmap_sem for read during its fault, and the lock list says so.
        assert!(
            a.holds.iter().any(|l| l.starts_with("mmap_sem")),
            "{:?}",
            a.holds
        );
        let locks = g.locks();
        assert!(locks
            .iter()
            .any(|l| l.name.starts_with("mmap_sem") && l.holders == vec!["a (read)".to_string()]));
    }

    #[test]
    fn a_blocked_thread_says_what_it_waits_for_and_who_holds_it() {
        // R4 under the fixed policy: b's truncate takes i_mutex and ext2's dax_sem for write;
        // a's fault then waits for dax_sem.
        let mut ps = picks("b b b");
        let blocked = (0..20).find_map(|_| {
            let g = Game::new(4, Policy::Fixed, &ps).expect("r4");
            let a = g.threads().into_iter().find(|t| t.name == "a")?;
            if matches!(a.state, ThreadState::Blocked { .. }) {
                return Some((g, a));
            }
            ps.push("a".into());
            None
        });
        let (g, a) = blocked.expect("a waits for b");
        assert_eq!(
            a.state,
            ThreadState::Blocked {
                on: "dax_sem(ino 12) (read)".into(),
                holders: vec!["b".into()]
            }
        );
        assert!(
            a.next.is_empty(),
            "a blocked thread has no next step to show"
        );
        assert!(!g.runnable("a") && g.runnable("b"));
        let row = g
            .locks()
            .into_iter()
            .find(|l| l.name == "dax_sem(ino 12)")
            .expect("dax_sem listed");
        assert_eq!(
            (row.holders, row.waiters),
            (vec!["b".to_string()], vec!["a (read)".to_string()])
        );
        // Picking a thread that waits changes nothing.
        let mut more = ps.clone();
        more.push("a".into());
        let h = Game::new(4, Policy::Fixed, &more).expect("r4");
        assert_eq!(h.refused().map(|r| r.at), Some(ps.len()));
        assert_eq!(h.step(), g.step());
    }

    #[test]
    fn undoing_is_playing_one_pick_fewer_and_a_bad_pick_is_refused() {
        let g = Game::new(0, Policy::V4_0, &picks("a b zz a")).expect("r1");
        assert_eq!(
            g.refused(),
            Some(&Refused {
                at: 2,
                thread: "zz".into()
            })
        );
        assert_eq!(g.picks(), picks("a b"));
        assert!(g.text().ends_with("schedule a b\n"));
        let h = Game::new(0, Policy::V4_0, &picks("a")).expect("r1");
        assert_eq!(h.step() + 1, g.step());
        assert!(Game::new(99, Policy::V4_0, &[]).is_err());
    }

    #[test]
    fn under_the_fixed_policy_the_winning_schedule_breaks_nothing() {
        let win = picks("a a a a a a a b b b b b b b b b b");
        let full = complete(0, Policy::Fixed, &win[..3]);
        let g = Game::new(0, Policy::Fixed, &full).expect("r1");
        assert_eq!(g.standing(), Standing::Over);
        assert!(g.violations().is_empty(), "{:?}", g.violations());
        // Under fixed, the faults take the DAX entry lock: the lock list shows it.
        assert!(
            g.locks()
                .iter()
                .any(|l| l.name.starts_with("DAX entry lock")),
            "{:?}",
            g.locks()
        );
    }

    #[test]
    fn an_outcome_replays_to_its_end() {
        let lines = vec!["schedule a a b b b b b b b".to_string()];
        let ps = schedule_picks(&lines);
        assert_eq!(ps.len(), 9);
        let full = complete(0, Policy::V4_0, &ps);
        assert!(full.len() > ps.len() && full.starts_with(&ps));
        let g = Game::new(0, Policy::V4_0, &full).expect("r1");
        assert_eq!(g.standing(), Standing::Over);
        assert_eq!(g.play.run().step(), g.step());
        assert!(g.win().is_some(), "{:?}", g.violations());
    }

    #[test]
    fn the_run_for_the_views_is_the_game_so_far() {
        let g = Game::new(0, Policy::V4_0, &[]).expect("r1");
        let r = g.run();
        assert_eq!(
            (r.total, r.lanes.len()),
            (g.start(), 3),
            "the threads have lanes before their first step"
        );
        let g = Game::new(2, Policy::V4_0, &picks("a a a b")).expect("r2b");
        let r = g.run();
        assert_eq!(r.total, g.step());
        assert_eq!(r.lanes, vec!["main", "a", "b"]);
        assert_eq!(r.text, g.text());
        let v = r.view(r.total, &super::super::ViewOptions::default());
        assert_eq!(v.lane, Some(2), "b ran the last step");
        assert!(r.overview.lanes[2].iter().sum::<u32>() == 1);
    }
}
