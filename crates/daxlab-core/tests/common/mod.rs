//! Helpers shared by the integration tests.

#![allow(dead_code)]

use daxlab_core::engine::trace::{Counters, Event, EventKind};
use daxlab_core::lang::outcome::{CmdResult, Value};
use daxlab_core::lang::report::{run_text, Report};
use daxlab_core::lang::text;

/// Run scenario text and fail the test with the failing results if it is not ok.
pub fn run_ok(text: &str) -> Report {
    let r = run_text(text);
    assert!(r.error.is_none(), "scenario error: {:?}\n{text}", r.error);
    let failed: Vec<String> = r
        .results
        .iter()
        .filter(|c| c.check.is_some() && !c.ok())
        .map(|c| format!("line {}: {} → {}", c.line, c.command, text::result(c)))
        .collect();
    assert!(
        r.ok(),
        "scenario not ok; failed: {failed:#?}; violations {:?}",
        r.violations
    );
    r
}

/// Counters of `mount` that `op` adds after `setup` (the core is deterministic, so the
/// difference of two runs is the cost of `op`).
pub fn cost(setup: &str, op: &str, mount: &str) -> Counters {
    let before = run_ok(setup).mount(mount).unwrap_or_default();
    let after = run_ok(&format!("{setup}\n{op}"))
        .mount(mount)
        .unwrap_or_default();
    after.since(&before)
}

/// The result of the command written `command`.
pub fn result<'a>(r: &'a Report, command: &str) -> &'a CmdResult {
    r.results
        .iter()
        .find(|c| &*c.command == command)
        .unwrap_or_else(|| panic!("no result for {command}"))
}

/// The last result's value.
pub fn last_value(r: &Report) -> &Value {
    &r.results.last().expect("a result").outcome.value
}

/// The text of every event.
pub fn texts(r: &Report) -> Vec<String> {
    r.events.iter().map(|e| text::event(e, &r.names)).collect()
}

/// Events of a kind with a function name (`copy`/`zero`/`call`/`return` by `func`).
pub fn by_func<'a>(r: &'a Report, kind: &str, func: &str) -> Vec<&'a Event> {
    r.events
        .iter()
        .filter(|e| e.kind.name() == kind)
        .filter(|e| match &e.kind {
            EventKind::Call { func: f }
            | EventKind::Return { func: f, .. }
            | EventKind::Copy { func: f, .. }
            | EventKind::Zero { func: f, .. }
            | EventKind::Error { func: f, .. } => *f == func,
            _ => false,
        })
        .collect()
}

/// A page-cache mount at /mnt/pc and a DAX mount at /mnt/dax, both ext2 on brd, with file
/// descriptors `p` and `d`.
pub const TWO_MOUNTS: &str = "\
device pc0 brd size=64M
device dax0 brd size=64M
mkfs ext2 /dev/pc0
mkfs ext2 /dev/dax0
mount /dev/pc0 /mnt/pc
mount /dev/dax0 /mnt/dax -o dax
open p /mnt/pc/file create
open d /mnt/dax/file create";

/// Bytes as a scenario's quoted string, every byte escaped (`"\x68\x69"`).
pub fn quoted(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 4 + 2);
    s.push('"');
    for x in b {
        s.push_str(&format!("\\x{x:02x}"));
    }
    s.push('"');
    s
}
