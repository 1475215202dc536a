//! The readable trace: one line of text per event and per result, the same for the
//! command-line runner and the app.

use super::data::Bytes;
use super::outcome::{Check, CmdResult, Outcome, Value};
use super::report::Names;
use crate::engine::trace::{Event, EventKind, Fail, Loc, PteOp, SchedNote, Space};
use crate::state::block_dev::DeviceNote;
use crate::state::dcache::LineOp;
use crate::state::lock::LockMode;

/// How many cache lines a `cache` result lists in text (the JSON lists them all).
const CACHE_LINES_SHOWN: usize = 8;

/// Where bytes are, as a learner reads it.
pub fn place(l: &Loc, n: &Names) -> String {
    let at = match l.space {
        Space::User { pid } if pid.0 == 0 => format!("user {:#x}", l.vaddr),
        Space::User { pid } => format!("user {:#x} (process {})", l.vaddr, pid.0),
        Space::PageCache { ino, index } => format!("page cache ino {ino} page {index}"),
        Space::HolePage { ino, index } => format!("hole page ino {ino} page {index}"),
        Space::Anon => "anonymous page".into(),
        Space::Kernel => "kernel page".into(),
        Space::Device { dev, sector } => format!("{} sector {sector}", n.device(dev)),
    };
    match l.pfn {
        Some(p) => format!("{at} (pfn {:#x})", p.0),
        None => at,
    }
}

/// One line describing an event.
pub fn event(e: &Event, n: &Names) -> String {
    match &e.kind {
        EventKind::Call { func } => format!("{func}() {{"),
        EventKind::Return { func, ret } => match ret {
            Some(r) => format!("}} /* {func} = {r} */"),
            None => format!("}} /* {func} */"),
        },
        EventKind::Lock { lock, mode } => match mode {
            LockMode::Read => format!("down_read {lock}"),
            LockMode::Write => format!("lock {lock}"),
        },
        EventKind::TryLockFailed { lock } => format!("trylock {lock} failed: busy, skipped"),
        EventKind::Unlock { lock } => format!("unlock {lock}"),
        EventKind::Wait { on } => format!("waits for {on}"),
        EventKind::Copy {
            func,
            src,
            dst,
            bytes,
        } => format!("copy {bytes} B by {func}: {} → {}", place(src, n), place(dst, n)),
        EventKind::Zero { func, dst, bytes } => format!("zero {bytes} B by {func}: {}", place(dst, n)),
        EventKind::CopyAvoided { bytes } => {
            format!("copy avoided: {bytes} B the page cache would have copied")
        }
        EventKind::Access {
            vaddr,
            pfn,
            bytes,
            write,
        } => format!(
            "user {} {bytes} B at {vaddr:#x} (pfn {:#x})",
            if *write { "store" } else { "load" },
            pfn.0
        ),
        EventKind::Fault {
            vaddr,
            write,
            major,
            handler,
        } => format!(
            "{} {} fault at {vaddr:#x} ({})",
            if *major { "major" } else { "minor" },
            if *write { "write" } else { "read" },
            match handler {
                crate::engine::trace::FaultKind::Dax => "dax_fault",
                crate::engine::trace::FaultKind::Filemap => "filemap_fault",
                crate::engine::trace::FaultKind::WriteProtect => "do_wp_page",
                crate::engine::trace::FaultKind::Cow => "do_cow_fault",
            }
        ),
        EventKind::Pte {
            pid,
            op,
            vaddr,
            pfn,
            writable,
            special,
        } => format!(
            "PTE {} {vaddr:#x} → pfn {:#x} {}{}{}",
            match op {
                PteOp::Install => "installed",
                PteOp::MakeWritable => "made writable",
                PteOp::Remove => "removed",
                PteOp::WriteProtect => "write-protected",
                PteOp::Lost => "not installed (pte_same failed: another fault set it; page dropped):",
            },
            pfn.0,
            if *writable { "rw" } else { "ro" },
            if *special { " special" } else { "" },
            if pid.0 == 0 {
                String::new()
            } else {
                format!(" (process {})", pid.0)
            }
        ),
        EventKind::PageCache {
            op,
            ino,
            index,
            pfn,
        } => format!(
            "page cache {}: ino {ino} page {index} (pfn {:#x})",
            match op {
                crate::engine::trace::CacheOp::Add => "add",
                crate::engine::trace::CacheOp::Dirty => "dirty",
                crate::engine::trace::CacheOp::Clean => "clean",
                crate::engine::trace::CacheOp::Remove => "remove",
            },
            pfn.0
        ),
        EventKind::BlockAlloc {
            ino,
            iblock,
            block,
            unwritten,
        } => format!(
            "allocate block {block} for ino {ino} block {iblock}{}",
            if *unwritten { " (unwritten)" } else { "" }
        ),
        EventKind::BlockFree { ino, iblock, block } => {
            format!("free block {block} (ino {ino} block {iblock})")
        }
        EventKind::BlockConvert { ino, iblock } => {
            format!("convert ino {ino} block {iblock} to written")
        }
        EventKind::Size { ino, size } => format!("i_size of ino {ino} = {size}"),
        EventKind::Time { what, ns } => format!("{what}: {ns} ns"),
        EventKind::Device { dev, note } => match note {
            DeviceNote::WindowMoved { from, to } => format!(
                "{}: the window moves from offset {from:#x} to {to:#x}: its frames now show other data",
                n.device(*dev)
            ),
            DeviceNote::Stalled { ns, cpu: true } => format!(
                "{}: the CPU stalls {} ms inside a load or store; nothing else runs on it",
                n.device(*dev),
                ns / 1_000_000
            ),
            DeviceNote::Stalled { ns, cpu: false } => format!(
                "{}: the request takes {} ms; the task sleeps meanwhile",
                n.device(*dev),
                ns / 1_000_000
            ),
        },
        EventKind::Printk { text } => format!("kernel: {text}"),
        EventKind::Error { func, errno } => format!("{func} failed: -{errno}"),
        EventKind::Signal { signal, vaddr } => format!("{} at {vaddr:#x}", signal.name()),
        EventKind::Cache {
            func,
            op,
            vaddr,
            pfn,
            lines,
        } => format!(
            "data cache ({func}): {} {lines} line{} of pfn {:#x} at {vaddr:#x}",
            match op {
                LineOp::Fill => "fills",
                LineOp::WriteBack => "writes back",
                LineOp::Invalidate => "drops",
            },
            if *lines == 1 { "" } else { "s" },
            pfn.0
        ),
        EventKind::Sched(note) => {
            let who = n.thread(e.thread);
            match note {
                SchedNote::SkippedFinished => format!("schedule: {who} has finished; step skipped"),
                SchedNote::SkippedBlocked(b) => {
                    format!("schedule: {who} is waiting for {b}; step skipped")
                }
                SchedNote::Livelock { vaddr } => format!(
                    "livelock: {who}'s access at {vaddr:#x} faulted {} times and no fault changed its PTE; the CPU would retry forever, the model stops it with SIGBUS",
                    crate::kernel::user::FAULT_RETRIES
                ),
                SchedNote::Deadlock(b) => {
                    format!("deadlock: {who} waits forever for {b} and is stopped")
                }
            }
        }
    }
}

/// Bytes as text when they are text, else hex, at most `max` bytes shown.
pub fn bytes(b: &Bytes, max: usize) -> String {
    let shown = b.prefix(max);
    let more = if (b.len() as usize) > shown.len() {
        format!("… ({} bytes)", b.len())
    } else {
        String::new()
    };
    let printable = shown
        .iter()
        .all(|c| c.is_ascii_graphic() || *c == b' ' || *c == b'\n' || *c == b'\t');
    if printable {
        format!(
            "\"{}\"{more}",
            String::from_utf8_lossy(&shown).escape_default()
        )
    } else {
        let hex: String = shown.iter().map(|x| format!("{x:02x}")).collect();
        format!("hex {hex}{more}")
    }
}

/// A value as text.
pub fn value(v: &Value) -> String {
    match v {
        Value::None => String::new(),
        Value::Num(n) => n.to_string(),
        Value::Addr(a) => format!("{a:#x}"),
        Value::Ino(i) => format!("ino {i}"),
        Value::Bytes(b) => bytes(b, 64),
        Value::Text(t) => t.trim_end().replace('\n', " | "),
        Value::Mapped(d) => format!(
            "pfn {:#x}, kaddr {:#x}, {} bytes (the driver offered {})",
            d.pfn.0, d.kaddr, d.length, d.avail
        ),
        Value::Cache(lines) if lines.is_empty() => "no lines".into(),
        Value::Cache(lines) => {
            // Stale lines first: they are what a learner looks for.
            let mut shown: Vec<_> = lines.iter().collect();
            shown.sort_by_key(|l| !l.stale);
            let more = shown.len().saturating_sub(CACHE_LINES_SHOWN);
            let mut s = shown
                .iter()
                .take(CACHE_LINES_SHOWN)
                .map(|l| {
                    format!(
                        "set {} way {}: {} {:#x} (colour {}) pfn {:#x}+{:#x} {}{}",
                        l.set,
                        l.way,
                        if l.kernel { "kernel" } else { "user" },
                        l.vaddr,
                        l.colour,
                        l.pfn.0,
                        l.off,
                        if l.dirty { "dirty" } else { "clean" },
                        if l.stale { " STALE" } else { "" }
                    )
                })
                .collect::<Vec<_>>()
                .join(" | ");
            if more > 0 {
                s.push_str(&format!(" | and {more} more line(s)"));
            }
            s
        }
        Value::Blocks { blocks, past_eof } => {
            let mut s = format!("{} block(s)", blocks.len());
            let unwritten = blocks.iter().filter(|b| b.unwritten).count();
            if unwritten > 0 {
                s.push_str(&format!(", {unwritten} unwritten"));
            }
            if !past_eof.is_empty() {
                s.push_str(&format!(", past EOF: {past_eof:?}"));
            }
            s
        }
    }
}

/// What a command produced, as text: its value, or how it failed, with the kernel's message.
pub fn outcome(o: &Outcome) -> String {
    let mut s = match o.fail {
        Some(Fail::Errno(e)) => format!("-{e}"),
        Some(Fail::Signal(sig)) => sig.name().to_string(),
        None => value(&o.value),
    };
    if let Some(m) = &o.message {
        if !s.is_empty() {
            s.push_str("  ");
        }
        s.push_str(&format!("[{}]", m.replace('\n', "; ")));
    }
    s
}

/// A result line: status and value (for an `expect`, what was wanted).
pub fn result(r: &CmdResult) -> String {
    match &r.check {
        Some(c) => {
            let status = if c.passed() { "ok" } else { "FAILED" };
            match c {
                Check::Result { want, passed } if !passed => {
                    // An address is compared as a number; show both alike.
                    let want = match (want, &r.outcome.value) {
                        (super::command::Expected::Number(n), Value::Addr(_)) => format!("{n:#x}"),
                        _ => expected(want),
                    };
                    format!("{status}: wanted {want}, got {}", outcome(&r.outcome))
                }
                Check::Counter { name, want, actual } if !c.passed() => match actual {
                    Some(a) => format!("{status}: wanted {name} == {want}, got {a}"),
                    None => format!("{status}: wanted {name} == {want}, but no such mount"),
                },
                Check::Violations { found, .. } if !c.passed() => {
                    let f: Vec<&str> = found.iter().map(|i| i.name()).collect();
                    format!("{status}: violations {f:?}")
                }
                _ => status.to_string(),
            }
        }
        None => {
            let o = outcome(&r.outcome);
            if r.outcome.is_ok() {
                if o.is_empty() {
                    "ok".into()
                } else {
                    format!("ok  {o}")
                }
            } else {
                o
            }
        }
    }
}

/// An expectation as text.
pub fn expected(e: &super::command::Expected) -> String {
    use super::command::Expected;
    match e {
        Expected::Bytes(d) => {
            let mut shown = vec![0; d.len().min(64) as usize];
            d.fill(0, &mut shown);
            format!(
                "{} bytes \"{}\"",
                d.len(),
                String::from_utf8_lossy(&shown).escape_default()
            )
        }
        Expected::Number(n) => n.to_string(),
        Expected::Errno(e) => e.to_string(),
        Expected::Signal(s) => s.name().to_string(),
        Expected::Ok => "ok".into(),
    }
}
