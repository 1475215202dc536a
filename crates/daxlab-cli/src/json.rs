//! The runner's JSON (`../shared/CONSOLE.md`): made here, from the core's typed results, and
//! nowhere else.

use daxlab_core::engine::trace::{Counters, Event, EventKind, Fail, Loc, Space};
use daxlab_core::lang::data::Bytes;
use daxlab_core::lang::outcome::{Check, CmdResult, Value, Violation};
use daxlab_core::lang::parse::ParseError;
use daxlab_core::lang::report::{Names, Report};
use daxlab_core::lang::text;
use serde_json::{json, Map, Value as Json};

/// Lower-case hex of bytes.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn bytes(b: &Bytes) -> Json {
    let mut h = String::with_capacity(b.len() as usize * 2);
    for c in b.chunks() {
        h.push_str(&hex(c));
    }
    json!({ "len": b.len(), "hex": h })
}

fn value(v: &Value) -> Json {
    match v {
        Value::None => Json::Null,
        Value::Num(n) => json!(n),
        Value::Addr(a) => json!(format!("{a:#x}")),
        Value::Ino(i) => json!({ "ino": i }),
        Value::Bytes(b) => bytes(b),
        Value::Text(t) => json!(t.as_ref()),
        Value::Mapped(d) => json!({
            "pfn": d.pfn.0, "kaddr": format!("{:#x}", d.kaddr), "length": d.length, "avail": d.avail
        }),
        Value::Blocks { blocks, past_eof } => json!({
            "count": blocks.len(),
            "past_eof": past_eof,
            "blocks": blocks.iter().map(|b| json!({ "iblock": b.iblock, "block": b.block, "unwritten": b.unwritten })).collect::<Vec<_>>(),
        }),
        Value::Cache(lines) => json!({
            "count": lines.len(),
            "lines": lines.iter().map(|l| json!({
                "set": l.set, "way": l.way, "vaddr": format!("{:#x}", l.vaddr),
                "alias": if l.kernel { "kernel" } else { "user" }, "colour": l.colour,
                "pfn": l.pfn.0, "off": l.off, "dirty": l.dirty, "stale": l.stale,
            })).collect::<Vec<_>>(),
        }),
    }
}

fn fail(f: Option<Fail>) -> (Json, Json) {
    match f {
        Some(Fail::Errno(e)) => (json!(e.name()), Json::Null),
        Some(Fail::Signal(s)) => (Json::Null, json!(s.name())),
        None => (Json::Null, Json::Null),
    }
}

/// One result.
pub fn result(r: &CmdResult) -> Json {
    let (errno, signal) = fail(r.outcome.fail);
    let mut v = match &r.check {
        None => value(&r.outcome.value),
        Some(c) => {
            let (expected, actual) = match c {
                Check::Result { want, .. } => (
                    json!(text::expected(want)),
                    json!(text::outcome(&r.outcome)),
                ),
                Check::Counter { want, actual, .. } => (json!(want), json!(actual)),
                Check::Violations { want, found } => (
                    json!(want.map_or("no violations", |w| w.name())),
                    json!(found.iter().map(|i| i.name()).collect::<Vec<_>>()),
                ),
            };
            json!({ "expected": expected, "actual": actual, "passed": c.passed() })
        }
    };
    if let (Some(m), Json::Null) = (&r.outcome.message, &v) {
        v = json!(m.as_ref());
    }
    json!({
        "line": r.line,
        "step": r.step,
        "command": r.command.as_ref(),
        "thread": r.thread.as_deref(),
        "ok": r.ok(),
        "errno": errno,
        "signal": signal,
        "value": v,
        "message": r.outcome.message.as_deref(),
    })
}

fn loc(l: &Loc, n: &Names) -> Json {
    let mut m = Map::new();
    match l.space {
        Space::User { pid } => {
            m.insert("space".into(), json!("user"));
            m.insert("pid".into(), json!(pid.0));
        }
        Space::PageCache { ino, index } => {
            m.insert("space".into(), json!("page_cache"));
            m.insert("ino".into(), json!(ino));
            m.insert("index".into(), json!(index));
        }
        Space::HolePage { ino, index } => {
            m.insert("space".into(), json!("hole_page"));
            m.insert("ino".into(), json!(ino));
            m.insert("index".into(), json!(index));
        }
        Space::Anon => {
            m.insert("space".into(), json!("anon"));
        }
        Space::Kernel => {
            m.insert("space".into(), json!("kernel"));
        }
        Space::Device { dev, sector } => {
            m.insert("space".into(), json!("device"));
            m.insert("dev".into(), json!(n.device(dev)));
            m.insert("sector".into(), json!(sector));
        }
    }
    m.insert("vaddr".into(), json!(l.vaddr));
    if let Some(p) = l.pfn {
        m.insert("pfn".into(), json!(p.0));
    }
    Json::Object(m)
}

/// One event: its kind, step, thread, mount, the fields of its kind, and its text.
pub fn event(e: &Event, n: &Names) -> Json {
    let mut m = Map::new();
    m.insert("step".into(), json!(e.step));
    m.insert("thread".into(), json!(n.thread(e.thread)));
    if let Some(mt) = e.mount {
        m.insert("mount".into(), json!(n.mount(mt)));
    }
    m.insert("kind".into(), json!(e.kind.name()));
    if e.ns > 0 {
        m.insert("ns".into(), json!(e.ns));
    }
    let mut put = |k: &str, v: Json| {
        m.insert(k.into(), v);
    };
    match &e.kind {
        EventKind::Call { func } => put("func", json!(func)),
        EventKind::Return { func, ret } => {
            put("func", json!(func));
            if let Some(r) = ret {
                put("ret", json!(r.to_string()));
            }
        }
        EventKind::Lock { lock, mode } => {
            put("lock", json!(lock.to_string()));
            put(
                "mode",
                json!(if *mode == daxlab_core::state::lock::LockMode::Read {
                    "read"
                } else {
                    "write"
                }),
            );
        }
        EventKind::Unlock { lock } | EventKind::TryLockFailed { lock } => {
            put("lock", json!(lock.to_string()))
        }
        EventKind::Wait { on } => put("on", json!(on.to_string())),
        EventKind::Copy {
            func,
            src,
            dst,
            bytes,
        } => {
            put("func", json!(func));
            put("src", loc(src, n));
            put("dst", loc(dst, n));
            put("bytes", json!(bytes));
        }
        EventKind::Zero { func, dst, bytes } => {
            put("func", json!(func));
            put("dst", loc(dst, n));
            put("bytes", json!(bytes));
        }
        EventKind::CopyAvoided { bytes } => put("bytes", json!(bytes)),
        EventKind::Access {
            vaddr,
            pfn,
            bytes,
            write,
        } => {
            put("vaddr", json!(vaddr));
            put("pfn", json!(pfn.0));
            put("bytes", json!(bytes));
            put("write", json!(write));
        }
        EventKind::Fault {
            vaddr,
            write,
            major,
            ..
        } => {
            put("vaddr", json!(vaddr));
            put("write", json!(write));
            put("major", json!(major));
        }
        EventKind::Pte {
            op,
            vaddr,
            pfn,
            writable,
            special,
            ..
        } => {
            put("op", json!(op.name()));
            put("vaddr", json!(vaddr));
            put("pfn", json!(pfn.0));
            put("writable", json!(writable));
            put("special", json!(special));
        }
        EventKind::PageCache {
            op,
            ino,
            index,
            pfn,
        } => {
            put("op", json!(op.name()));
            put("ino", json!(ino));
            put("index", json!(index));
            put("pfn", json!(pfn.0));
        }
        EventKind::BlockAlloc {
            ino,
            iblock,
            block,
            unwritten,
        } => {
            put("ino", json!(ino));
            put("iblock", json!(iblock));
            put("block", json!(block));
            put("unwritten", json!(unwritten));
        }
        EventKind::BlockFree { ino, iblock, block } => {
            put("ino", json!(ino));
            put("iblock", json!(iblock));
            put("block", json!(block));
        }
        EventKind::BlockConvert { ino, iblock } => {
            put("ino", json!(ino));
            put("iblock", json!(iblock));
        }
        EventKind::Size { ino, size } => {
            put("ino", json!(ino));
            put("size", json!(size));
        }
        EventKind::Error { func, errno } => {
            put("func", json!(func));
            put("errno", json!(errno.name()));
        }
        EventKind::Signal { signal, vaddr } => {
            put("signal", json!(signal.name()));
            put("vaddr", json!(vaddr));
        }
        EventKind::Cache {
            func,
            op,
            vaddr,
            pfn,
            lines,
        } => {
            put("func", json!(func));
            put("op", json!(op.name()));
            put("vaddr", json!(vaddr));
            put("pfn", json!(pfn.0));
            put("lines", json!(lines));
        }
        EventKind::Time { .. }
        | EventKind::Device { .. }
        | EventKind::Printk { .. }
        | EventKind::Sched(_) => {}
    }
    m.insert("text".into(), json!(text::event(e, n)));
    Json::Object(m)
}

/// The counters.
pub fn counters(c: &Counters) -> Json {
    Json::Object(
        c.named()
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect(),
    )
}

/// A violation.
pub fn violation(v: &Violation) -> Json {
    json!({ "step": v.step, "name": v.invariant.name(), "message": v.message.as_ref() })
}

/// A parse error.
pub fn error(e: &ParseError) -> Json {
    json!({ "line": e.line, "col": e.col, "message": e.message })
}

/// Everything of a report but its events.
pub fn report_fields(r: &Report) -> Map<String, Json> {
    let mut m = Map::new();
    m.insert("ok".into(), json!(r.ok()));
    m.insert("error".into(), r.error.as_ref().map_or(Json::Null, error));
    m.insert(
        "results".into(),
        Json::Array(r.results.iter().map(result).collect()),
    );
    m.insert("counters".into(), counters(&r.counters));
    m.insert(
        "counters_by_mount".into(),
        Json::Object(
            r.counters_by_mount
                .iter()
                .map(|(p, c)| (p.to_string(), counters(c)))
                .collect(),
        ),
    );
    m.insert(
        "violations".into(),
        Json::Array(r.violations.iter().map(violation).collect()),
    );
    m.insert("schedule".into(), json!(r.replay));
    m
}

/// The explorer's JSON: `complete`, `executions`, `elapsed_ms` and the `outcomes`, each with
/// its `violations`, `count`, the `schedule` that reproduces it and the threads' `results`.
pub fn explore(r: &daxlab_core::engine::explore::Report, elapsed_ms: u64) -> Json {
    json!({
        "complete": r.complete,
        "executions": r.executions,
        "pruned": r.pruned,
        "elapsed_ms": elapsed_ms,
        "outcomes": r.outcomes.iter().map(|o| json!({
            "violations": o.violations,
            "count": o.count,
            "schedule": o.schedule.join("\n"),
            "results": o.results,
        })).collect::<Vec<_>>(),
    })
}

/// The explorer's JSON for invalid scenario text.
pub fn explore_error(e: &ParseError) -> Json {
    json!({
        "complete": false,
        "executions": 0,
        "elapsed_ms": 0,
        "outcomes": [],
        "error": { "line": e.line, "col": e.col, "message": e.message },
    })
}
