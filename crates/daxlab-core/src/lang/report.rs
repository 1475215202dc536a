//! A whole run's report: what the runner prints (as text here, as JSON in the command-line
//! crate) and what the tests check.

use std::rc::Rc;

use super::outcome::{CmdResult, Violation};
use super::parse::{parse, ParseError};
use crate::engine::exec::{Execution, RunOptions};
use crate::engine::trace::{Counters, Event, TraceMode};
use crate::state::{DevId, MountId, Tid};

/// Names for what events refer to by index.
#[derive(Debug, Clone, Default)]
pub struct Names {
    /// Thread names by thread id (`main` first).
    pub threads: Vec<Rc<str>>,
    /// Device names by device id.
    pub devices: Vec<Rc<str>>,
    /// Mount paths by mount id.
    pub mounts: Vec<Rc<str>>,
}

impl Names {
    /// The names of a run's threads, devices and mounts.
    pub fn of(e: &Execution) -> Self {
        let m = e.machine();
        Names {
            threads: e.thread_names(),
            devices: m.devices.iter().map(|d| d.name.clone()).collect(),
            mounts: m.mounts.iter().map(|x| x.path.clone()).collect(),
        }
    }
    /// A thread's name.
    pub fn thread(&self, t: Tid) -> &str {
        self.threads.get(t.0 as usize).map_or("?", |s| s)
    }
    /// A device's name.
    pub fn device(&self, d: DevId) -> &str {
        self.devices.get(d.0 as usize).map_or("?", |s| s)
    }
    /// A mount's path.
    pub fn mount(&self, m: MountId) -> &str {
        self.mounts.get(m.0 as usize).map_or("?", |s| s)
    }
}

/// The report of a run (`daxlab run`).
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The parse error, if the text is invalid.
    pub error: Option<ParseError>,
    /// One entry per command run, in completion order.
    pub results: Vec<CmdResult>,
    /// The events (when the run kept them).
    pub events: Vec<Event>,
    /// Counters over the whole run.
    pub counters: Counters,
    /// Counters per mount point, in mount order.
    pub counters_by_mount: Vec<(Rc<str>, Counters)>,
    /// Invariants broken during the run.
    pub violations: Vec<Violation>,
    /// Names for the events.
    pub names: Names,
    /// Steps run.
    pub steps: u32,
    /// `schedule` lines that reproduce the run's interleavings.
    pub replay: Vec<String>,
}

impl Report {
    /// The report of a finished run, with the events it kept.
    pub fn of(e: &Execution, events: Vec<Event>) -> Self {
        let names = Names::of(e);
        let (counters, by) = e.counters();
        let counters_by_mount = names
            .mounts
            .iter()
            .enumerate()
            .map(|(i, p)| (p.clone(), by.get(i).copied().unwrap_or_default()))
            .collect();
        Report {
            error: None,
            results: e.results().to_vec(),
            events,
            counters,
            counters_by_mount,
            violations: e.violations().to_vec(),
            names,
            steps: e.step(),
            replay: e.replay_lines(),
        }
    }

    /// A report of invalid text.
    pub fn invalid(error: ParseError) -> Self {
        Report {
            error: Some(error),
            ..Report::default()
        }
    }

    /// Counters of a mount point.
    pub fn mount(&self, path: &str) -> Option<Counters> {
        self.counters_by_mount
            .iter()
            .find(|(p, _)| &**p == path)
            .map(|(_, c)| *c)
    }

    /// Whether an `expect` failed.
    pub fn expect_failed(&self) -> bool {
        self.results.iter().any(|r| r.check.is_some() && !r.ok())
    }

    /// Whether an invariant was broken that no `expect violation` asked for.
    pub fn unexpected_violations(&self) -> bool {
        let asked = self.results.iter().any(|r| {
            matches!(
                r.check,
                Some(super::outcome::Check::Violations { want: Some(_), .. })
            )
        });
        !self.violations.is_empty() && !asked
    }

    /// The run is fine: valid text, every `expect` held, no unexpected violation.
    pub fn ok(&self) -> bool {
        self.error.is_none() && !self.expect_failed() && !self.unexpected_violations()
    }

    /// The runner's exit status: 0 fine, 1 an `expect` failed or an invariant broke, 2 invalid
    /// text.
    pub fn exit_code(&self) -> u8 {
        match (&self.error, self.ok()) {
            (Some(_), _) => 2,
            (None, true) => 0,
            (None, false) => 1,
        }
    }
}

/// Run scenario text to the end, keeping every event (`mode` `Full`) or only counters (`Off`,
/// the batched fast path).
pub fn run_with(text: &str, mode: TraceMode) -> Report {
    let s = match parse(text) {
        Ok(s) => s,
        Err(e) => return Report::invalid(e),
    };
    let opts = match mode {
        TraceMode::Off => RunOptions::fast(),
        _ => RunOptions {
            trace: mode,
            keep_steps: false,
            checkpoint_every: 0,
            batch: true,
        },
    };
    match Execution::new(&s, opts) {
        Ok(mut e) => {
            e.run_to_end();
            let events = e.take_events();
            Report::of(&e, events)
        }
        Err(err) => Report::invalid(err),
    }
}

/// Run scenario text to the end, keeping every event.
pub fn run_text(text: &str) -> Report {
    run_with(text, TraceMode::Full)
}
