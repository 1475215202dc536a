//! The explorer: every interleaving of a scenario's concurrent threads that can lead somewhere
//! different, run from the checkpoint where the first group of threads starts.
//!
//! Exhaustive mode is stateless dynamic partial-order reduction (Flanagan and Godefroid, POPL
//! 2005) with sleep sets: each execution records, for every step of a group, the thread, the
//! threads that could have run, and the step's footprint (the objects it read and wrote);
//! two steps of different threads whose footprints conflict and that no other dependency
//! orders are a race, and the other order is tried from the choice point before the first of
//! them. Orders of independent steps are run once. Random mode runs a number of executions
//! under a seeded PCT scheduler (random thread priorities, a few random priority changes), for
//! scenarios too large to finish.
//!
//! An execution's outcome is the set of invariants it broke, its failed `expect` lines and
//! the results of the threads' commands; the explorer counts each outcome and keeps its
//! shortest schedule, as the `schedule` lines that reproduce it with `daxlab run`.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use super::exec::{Execution, RunOptions};
use super::footprint::{conflict, Access, Mask};
use super::sched::{Choice, FirstRunnable, Pick, Scheduler};
use super::trace::TraceMode;
use crate::lang::command::Scenario;
use crate::lang::parse::ParseError;
use crate::lang::text;
use crate::state::Tid;

/// How to explore.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Every distinct interleaving, with partial-order reduction (`por: false`: every
    /// interleaving, for comparison).
    Exhaustive {
        /// Use partial-order reduction.
        por: bool,
    },
    /// `runs` executions under a PCT scheduler seeded with `seed`.
    Random {
        /// Executions.
        runs: usize,
        /// Seed.
        seed: u64,
    },
}

/// One distinct outcome and how often it was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The invariants broken (by name) and the failed `expect` lines (`expect line N`).
    pub violations: Vec<String>,
    /// The results of the threads' commands (`a line 12: SIGBUS`).
    pub results: Vec<String>,
    /// Executions that ended so.
    pub count: usize,
    /// The shortest schedule seen for it: `schedule ...` lines, one per group of threads.
    pub schedule: Vec<String>,
}

/// What an exploration found so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Whether every interleaving (up to the reduction) was run.
    pub complete: bool,
    /// Executions run to their end.
    pub executions: usize,
    /// Executions cut short because a sleep set showed them redundant.
    pub pruned: usize,
    /// The outcomes, in the order first seen.
    pub outcomes: Vec<Found>,
}

impl Report {
    /// Whether some outcome broke an invariant or an `expect`.
    pub fn any_violation(&self) -> bool {
        self.outcomes.iter().any(|o| !o.violations.is_empty())
    }
}

/// Threads with the footprint of a step each: the threads tried at a choice point, or those
/// asleep (not to be run until something their step depends on runs).
type Sleep = Vec<(Tid, Vec<Access>)>;

/// A choice point of the current execution.
#[derive(Debug, Clone)]
struct Node {
    group: usize,
    /// Threads that could run here.
    enabled: Vec<Tid>,
    /// The thread run here in the current execution, and its step's footprint.
    chosen: Tid,
    foot: Vec<Access>,
    /// Threads still to try here.
    backtrack: BTreeSet<Tid>,
    /// Threads tried here, with the footprint of the step each took.
    done: Sleep,
    /// Threads asleep when the execution reached here.
    sleep: Sleep,
}

/// What the explorer's scheduler shares with the explorer during one execution.
#[derive(Debug, Default)]
struct Plan {
    /// Choices to follow first.
    prefix: Vec<Tid>,
    pos: usize,
    /// Threads asleep now, with the footprint of their next step.
    sleep: Sleep,
    /// The runnable threads at the last choice.
    enabled: Vec<Tid>,
    group: usize,
    /// Every runnable thread was asleep: the execution is redundant.
    blocked: bool,
    /// For random mode: the PCT state.
    pct: Option<Pct>,
}

/// PCT: threads get random distinct priorities; at `changes` random steps the running
/// thread's priority drops below all others.
#[derive(Debug, Clone)]
struct Pct {
    rng: super::sched::Random,
    prio: BTreeMap<Tid, u64>,
    change_at: Vec<usize>,
    steps: usize,
    low: u64,
}

/// The explorer's scheduler: follows the plan.
#[derive(Debug, Clone)]
struct Guided(Rc<RefCell<Plan>>);

impl Scheduler for Guided {
    fn pick(&mut self, c: &Choice<'_>) -> Pick {
        let mut p = self.0.borrow_mut();
        p.enabled = c.runnable.to_vec();
        p.group = c.group;
        if p.pos < p.prefix.len() {
            let t = p.prefix[p.pos];
            p.pos += 1;
            if c.runnable.contains(&t) {
                return Pick::Run(t);
            }
        }
        if let Some(pct) = &mut p.pct {
            for t in c.alive {
                if !pct.prio.contains_key(t) {
                    let r = pct.rng.next_u64() >> 8;
                    pct.prio.insert(*t, r);
                }
            }
            pct.steps += 1;
            let t = *c
                .runnable
                .iter()
                .max_by_key(|t| pct.prio.get(t).copied().unwrap_or(0))
                .unwrap_or(&c.runnable[0]);
            if pct.change_at.contains(&pct.steps) {
                pct.low = pct.low.saturating_sub(1);
                pct.prio.insert(t, pct.low);
            }
            return Pick::Run(t);
        }
        let asleep: Vec<Tid> = p.sleep.iter().map(|(t, _)| *t).collect();
        match c.runnable.iter().find(|t| !asleep.contains(t)) {
            Some(t) => Pick::Run(*t),
            None => {
                p.blocked = true;
                FirstRunnable.pick(c)
            }
        }
    }
    fn scripted(&self, _: usize) -> bool {
        true
    }
    fn clone_box(&self) -> Box<dyn Scheduler> {
        Box::new(self.clone())
    }
}

/// An exploration in progress (run it a slice at a time with [`Explorer::run`]).
pub struct Explorer {
    base: Execution,
    checkpoint: usize,
    mode: Mode,
    /// The choice points of the last execution; the stack of the depth-first search.
    nodes: Vec<Node>,
    report: Report,
    index: BTreeMap<(Vec<String>, Vec<String>), usize>,
    /// The first execution has not run yet.
    fresh: bool,
    finished: bool,
}

impl Explorer {
    /// An explorer of scenario `s`. The set-up (everything before the first group of threads)
    /// runs once, here.
    pub fn new(s: &Scenario, mode: Mode) -> Result<Self, ParseError> {
        let opts = RunOptions {
            trace: TraceMode::Footprint,
            keep_steps: false,
            checkpoint_every: 1 << 30,
            batch: false,
        };
        let mut base = Execution::new(s, opts)?;
        base.run_to_group();
        let checkpoint = base.checkpoint_now().unwrap_or(0);
        Ok(Explorer {
            base,
            checkpoint,
            mode,
            nodes: Vec::new(),
            report: Report::default(),
            index: BTreeMap::new(),
            fresh: true,
            finished: false,
        })
    }

    /// What has been found so far.
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// Whether there is nothing left to run.
    pub fn finished(&self) -> bool {
        self.finished
    }

    /// Run up to `budget` more executions. Returns whether the exploration is finished.
    pub fn run(&mut self, budget: usize) -> bool {
        for _ in 0..budget {
            if self.finished {
                break;
            }
            match self.mode {
                Mode::Random { runs, seed } => {
                    let n = self.report.executions;
                    if n >= runs {
                        self.finished = true;
                        break;
                    }
                    self.random_execution(seed.wrapping_add(n as u64));
                }
                Mode::Exhaustive { por } => {
                    let plan = if self.fresh {
                        self.fresh = false;
                        Some((Vec::new(), Vec::new()))
                    } else {
                        self.next_plan(por)
                    };
                    match plan {
                        Some((prefix, sleep)) => self.execution(prefix, sleep, por),
                        None => {
                            self.finished = true;
                            self.report.complete = true;
                        }
                    }
                }
            }
        }
        self.finished
    }

    fn fork(&self, plan: &Rc<RefCell<Plan>>) -> Execution {
        let opts = RunOptions {
            trace: TraceMode::Footprint,
            keep_steps: false,
            checkpoint_every: 0,
            batch: false,
        };
        self.base
            .fork_from(self.checkpoint, opts, Box::new(Guided(plan.clone())))
            .expect("the explorer's checkpoint exists")
    }

    /// One execution following `prefix`, then the first runnable thread not asleep.
    fn execution(&mut self, prefix: Vec<Tid>, sleep: Sleep, por: bool) {
        let depth = prefix.len();
        let plan = Rc::new(RefCell::new(Plan {
            prefix,
            sleep: if por { sleep } else { Vec::new() },
            ..Plan::default()
        }));
        let mut e = self.fork(&plan);
        let mut k = 0;
        self.nodes.truncate(depth);
        while !e.finished() {
            let before = e.choices().len();
            e.advance(1);
            if e.choices().len() == before {
                continue; // a step of the main thread: no choice
            }
            let (tid, foot) = (e.choices()[before].tid, e.footprint());
            let mut p = plan.borrow_mut();
            if p.blocked {
                self.report.pruned += 1;
                return;
            }
            if k < depth {
                let node = &mut self.nodes[k];
                node.foot = foot.clone();
                if k + 1 == depth {
                    if let Some(d) = node.done.iter_mut().find(|(u, _)| *u == tid) {
                        d.1 = foot.clone();
                    }
                }
            } else {
                let enabled = p.enabled.clone();
                let mut backtrack = BTreeSet::new();
                if !por {
                    backtrack.extend(enabled.iter().copied());
                }
                self.nodes.push(Node {
                    group: p.group,
                    enabled,
                    chosen: tid,
                    foot: foot.clone(),
                    backtrack,
                    done: vec![(tid, foot.clone())],
                    sleep: p.sleep.clone(),
                });
            }
            // From the choice point this execution branches at on, a sleeping thread wakes when
            // a step it depends on runs (the prefix before it only replays).
            if k + 1 >= depth {
                p.sleep.retain(|(u, fu)| *u != tid && !conflict(fu, &foot));
            }
            k += 1;
        }
        self.nodes.truncate(k);
        if por {
            self.add_backtracks();
        }
        self.record(&e);
    }

    /// Races of the last execution: for each step, the last earlier step of another thread of
    /// the same group that it depends on and that does not already happen before it; the
    /// other order is tried from that step's choice point.
    fn add_backtracks(&mut self) {
        let n = self.nodes.len();
        let threads = self
            .nodes
            .iter()
            .map(|x| x.chosen.0 as usize)
            .max()
            .unwrap_or(0)
            + 1;
        let mut clock: Vec<Vec<u32>> = vec![vec![0; threads]; threads];
        let mut stamp: Vec<Vec<u32>> = Vec::with_capacity(n);
        let masks: Vec<Mask> = self.nodes.iter().map(|x| Mask::of(&x.foot)).collect();
        for i in 0..n {
            let p = self.nodes[i].chosen.0 as usize;
            let mut c = clock[p].clone();
            let mut race = None;
            for j in (0..i).rev() {
                let q = self.nodes[j].chosen.0 as usize;
                if q == p
                    || self.nodes[j].group != self.nodes[i].group
                    || !masks[j].may_conflict(&masks[i])
                    || !conflict(&self.nodes[j].foot, &self.nodes[i].foot)
                {
                    continue;
                }
                let before = stamp[j][q] <= clock[p][q];
                if race.is_none() && !before {
                    race = Some(j);
                }
                for (x, y) in c.iter_mut().zip(&stamp[j]) {
                    *x = (*x).max(*y);
                }
            }
            c[p] += 1;
            clock[p] = c.clone();
            stamp.push(c);
            if let Some(j) = race {
                let t = self.nodes[i].chosen;
                let node = &mut self.nodes[j];
                if node.enabled.contains(&t) {
                    node.backtrack.insert(t);
                } else {
                    node.backtrack.extend(node.enabled.iter().copied());
                }
            }
        }
    }

    /// The deepest choice point with a thread left to try: the prefix up to it, that thread,
    /// and the sleep set there (the threads already tried there sleep until something they
    /// depend on runs).
    fn next_plan(&mut self, por: bool) -> Option<(Vec<Tid>, Sleep)> {
        while let Some(node) = self.nodes.last_mut() {
            let tried: BTreeSet<Tid> = node
                .done
                .iter()
                .map(|(t, _)| *t)
                .chain(node.sleep.iter().map(|(t, _)| *t))
                .collect();
            if let Some(t) = node.backtrack.iter().find(|t| !tried.contains(t)).copied() {
                node.backtrack.remove(&t);
                let mut sleep = if por {
                    let mut s = node.sleep.clone();
                    s.extend(node.done.iter().cloned());
                    s
                } else {
                    Vec::new()
                };
                sleep.retain(|(u, _)| *u != t);
                node.chosen = t;
                node.done.push((t, Vec::new()));
                let mut prefix: Vec<Tid> = self.nodes.iter().map(|x| x.chosen).collect();
                // The last node's footprint for t is filled in when it runs.
                let last = prefix.len() - 1;
                prefix[last] = t;
                return Some((prefix, sleep));
            }
            self.nodes.pop();
        }
        None
    }

    fn random_execution(&mut self, seed: u64) {
        let mut rng = super::sched::Random::new(seed);
        let change_at = (0..2).map(|_| 1 + rng.below(40) as usize).collect();
        let plan = Rc::new(RefCell::new(Plan {
            pct: Some(Pct {
                rng,
                prio: BTreeMap::new(),
                change_at,
                steps: 0,
                low: u64::MAX >> 9,
            }),
            ..Plan::default()
        }));
        let mut e = self.fork(&plan);
        e.run_to_end();
        self.record(&e);
    }

    fn record(&mut self, e: &Execution) {
        self.report.executions += 1;
        let mut violations: Vec<String> = e
            .violations()
            .iter()
            .map(|v| v.invariant.name().to_string())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        violations.extend(
            e.results()
                .iter()
                .filter(|c| c.check.as_ref().is_some_and(|k| !k.passed()))
                .map(|c| format!("expect line {}", c.line)),
        );
        // In scenario order, so that the order commands finished in does not split outcomes.
        let mut done: Vec<&crate::lang::outcome::CmdResult> =
            e.results().iter().filter(|c| c.thread.is_some()).collect();
        done.sort_by_key(|c| c.line);
        let results: Vec<String> = done
            .iter()
            .map(|c| {
                let t = c.thread.as_deref().unwrap_or("main");
                format!("{t} line {}: {}", c.line, text::result(c))
            })
            .collect();
        let schedule = e.replay_lines();
        let key = (violations.clone(), results.clone());
        match self.index.get(&key) {
            Some(&i) => {
                let o = &mut self.report.outcomes[i];
                o.count += 1;
                if len(&schedule) < len(&o.schedule) {
                    o.schedule = schedule;
                }
            }
            None => {
                self.index.insert(key, self.report.outcomes.len());
                self.report.outcomes.push(Found {
                    violations,
                    results,
                    count: 1,
                    schedule,
                });
            }
        }
    }
}

/// Choices in a schedule.
fn len(lines: &[String]) -> usize {
    lines.iter().map(|l| l.split(' ').count()).sum()
}

/// Explore `s` to the end (or `max` executions).
pub fn explore(s: &Scenario, mode: Mode, max: usize) -> Result<Report, ParseError> {
    let mut x = Explorer::new(s, mode)?;
    x.run(max);
    let mut r = x.report.clone();
    r.complete = r.complete && x.finished;
    Ok(r)
}
