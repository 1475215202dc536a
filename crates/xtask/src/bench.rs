//! `cargo xtask bench [--json] [--quick]`: DAX Lab's speed as ratios and rates measured in one
//! run, so a noisy machine slows the measured path and its baseline alike.
//!
//! The native figures come from criterion (`cargo bench -p daxlab-core --bench machine`): the
//! median of each benchmark's estimates. The browser figure comes from the same DAX read in
//! headless Chromium (`crates/daxlab-core/tests/wasm_bench.rs`, the release build the site
//! ships); it is `null` when Chromium or ChromeDriver is missing.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{json, Map, Value};

use crate::{Result, WASM_TARGET};

/// One figure of the table: its JSON key, its value and the goal it is held to.
struct Figure {
    key: &'static str,
    value: Option<f64>,
    /// Decimals to print.
    places: usize,
    goal: &'static str,
}

/// Run a command with its stderr streaming to ours; return its stdout, echoed to stderr.
fn run_stdout(step: &str, cmd: &mut Command) -> Result<String> {
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("{step}: cannot start {:?}: {e}", cmd.get_program()))?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    eprint!("{text}");
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!("{step} failed ({})", out.status))
    }
}

/// The JSON object on the line starting with `tag`.
fn tagged(out: &str, tag: &str) -> Result<Map<String, Value>> {
    out.lines()
        .find_map(|l| l.split_once(tag).map(|(_, rest)| rest.trim()))
        .and_then(|j| serde_json::from_str(j).ok())
        .ok_or_else(|| format!("no `{tag}` line in the benchmark's output"))
}

fn num(m: &Map<String, Value>, key: &str) -> Result<f64> {
    m.get(key)
        .and_then(Value::as_f64)
        .ok_or_else(|| format!("the benchmark reported no `{key}`"))
}

/// Criterion's median estimate for benchmark `id`, in nanoseconds.
fn median_ns(dir: &Path, id: &str) -> Result<f64> {
    let path = dir.join(id).join("new/estimates.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    v["median"]["point_estimate"]
        .as_f64()
        .ok_or_else(|| format!("{}: no median", path.display()))
}

/// A benchmark of `tests/wasm_bench.rs` in headless Chromium, built with cargo profile
/// `profile`: the object on its `tag` line, or `None` without a browser.
fn wasm_bench(
    root: &Path,
    what: &str,
    test: &str,
    profile: &str,
    tag: &str,
) -> Result<Option<Map<String, Value>>> {
    let driver = Path::new("/usr/bin/chromedriver");
    if !Path::new("/usr/bin/chromium").exists() || !driver.exists() {
        eprintln!("\n==> no Chromium/ChromeDriver: the browser figures are null");
        return Ok(None);
    }
    eprintln!("\n==> {what} in headless Chromium ({profile} wasm, performance.now())");
    let out = run_stdout(
        "wasm benchmark",
        Command::new("cargo")
            .args([
                "test",
                "--profile",
                profile,
                "--target",
                WASM_TARGET,
                "-p",
                "daxlab-core",
                "--test",
                "wasm_bench",
                "--",
                "--include-ignored",
                "--nocapture",
                test,
            ])
            .env("CHROMEDRIVER", driver)
            .current_dir(root),
    )?;
    tagged(&out, tag).map(Some)
}

/// Measure, then print the table or the JSON object.
pub fn run(root: &Path, json: bool, quick: bool) -> Result {
    let criterion = root.join("target/criterion");
    eprintln!(
        "\n==> native benchmarks (criterion{})",
        if quick { ", quick" } else { "" }
    );
    let mut cmd = Command::new("cargo");
    cmd.args(["bench", "-p", "daxlab-core", "--bench", "machine", "--"]);
    if quick {
        cmd.arg("--quick");
    }
    let out = run_stdout(
        "native benchmarks",
        cmd.env("CRITERION_HOME", &criterion).current_dir(root),
    )?;
    let facts = tagged(&out, "BENCH_FACTS")?;
    let ns = |id| median_ns(&criterion, id);
    let (memcpy, dax, pagecache) = (
        ns("read_64MiB/memcpy")?,
        ns("read_64MiB/dax")?,
        ns("read_64MiB/pagecache_cold")?,
    );
    let (replay, clone, jump) = (
        ns("r1/replay")?,
        ns("machine/clone_after_r1_setup")?,
        ns("jump/any_step_of_1m_steps")?,
    );
    // The page's own build (size-optimised) for the read; the explorer's worker build for the
    // levels, as each runs in the browser.
    let wasm = wasm_bench(
        root,
        "the DAX read",
        "dax_read_vs_memcpy_in_the_browser",
        "release",
        "BENCH_WASM",
    )?;
    let wasm_levels = wasm_bench(
        root,
        "the race levels explored",
        "levels_explored_in_the_browser",
        EXPLORER_PROFILE,
        "BENCH_WASM_LEVELS",
    )?;
    let levels = level_rows(&facts, wasm_levels.as_ref())?;
    // DAX read throughput in the browser as a fraction of the native one.
    let wasm_vs_native = match &wasm {
        Some(w) => Some(dax / 1e6 / num(w, "dax_ms")?),
        None => None,
    };
    let figures = [
        Figure {
            key: "dax_read_vs_memcpy",
            value: Some(memcpy / dax),
            places: 2,
            goal: ">= 0.6",
        },
        Figure {
            key: "pagecache_read_vs_memcpy",
            value: Some(memcpy / pagecache),
            places: 2,
            goal: ">= 0.3",
        },
        Figure {
            key: "r1_replays_per_s",
            value: Some(1e9 / replay),
            places: 0,
            goal: ">= 300000",
        },
        Figure {
            key: "jump_ms_1m_steps",
            value: Some(jump / 1e6),
            places: 2,
            goal: "< 16",
        },
        Figure {
            key: "machine_clone_us",
            value: Some(clone / 1e3),
            places: 3,
            goal: "a few",
        },
        Figure {
            key: "wasm_vs_native",
            value: wasm_vs_native,
            places: 2,
            goal: "(reported)",
        },
    ];
    let slowest = levels
        .iter()
        .filter_map(|l| l.browser_ms)
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
    let figures: Vec<Figure> = figures
        .into_iter()
        .chain([Figure {
            key: "slowest_level_explore_ms",
            value: slowest,
            places: 1,
            goal: "< 100",
        }])
        .collect();
    let steps = num(&facts, "jump_run_steps")?;
    let checkpoints = num(&facts, "checkpoints")?;
    let ck_mib = num(&facts, "checkpoint_bytes")? / f64::from(1 << 20);
    if json {
        let mut o: Map<String, Value> = figures
            .iter()
            .map(|f| (f.key.to_string(), f.value.map_or(Value::Null, |v| json!(v))))
            .collect();
        o.insert("jump_run_steps".into(), json!(steps));
        o.insert("checkpoints".into(), json!(checkpoints));
        o.insert("checkpoint_mib".into(), json!(ck_mib));
        o.insert(
            "levels".into(),
            Value::Array(
                levels
                    .iter()
                    .map(|l| {
                        json!({ "id": l.id, "por": l.por, "naive": l.naive,
                                "naive_complete": l.naive_complete, "browser_ms": l.browser_ms })
                    })
                    .collect(),
            ),
        );
        o.insert(
            "wasm_dax_read_vs_memcpy".into(),
            wasm.as_ref()
                .and_then(|w| w.get("dax_read_vs_memcpy").cloned())
                .unwrap_or(Value::Null),
        );
        println!("{}", Value::Object(o));
        return Ok(());
    }
    println!(
        "\nDAX Lab speed ({}):",
        if quick { "quick" } else { "full" }
    );
    println!("  {:<26} {:>12}   goal", "figure", "measured");
    for f in &figures {
        let v = f
            .value
            .map_or("null".to_string(), |v| format!("{v:.*}", f.places));
        println!("  {:<26} {v:>12}   {}", f.key, f.goal);
    }
    println!(
        "\n  64 MiB in 128 KiB reads: memcpy {:.2} ms, DAX {:.2} ms, page cache (cold) {:.2} ms",
        memcpy / 1e6,
        dax / 1e6,
        pagecache / 1e6
    );
    if let Some(w) = &wasm {
        println!(
            "  in Chromium: memcpy {:.2} ms, DAX {:.2} ms (ratio {:.2})",
            num(w, "memcpy_ms")?,
            num(w, "dax_ms")?,
            num(w, "dax_read_vs_memcpy")?
        );
    }
    println!(
        "  the jump run: {steps:.0} steps, {checkpoints:.0} checkpoints holding {ck_mib:.1} MiB"
    );
    println!(
        "\n  race levels under 4.0: executions explored, with partial-order reduction and without"
    );
    for l in &levels {
        let bound = if l.naive_complete { "" } else { ">= " };
        println!(
            "  {:<4} {:>6} with reduction, {bound}{:.0} without ({bound}{:.0}x); in Chromium {}",
            l.id,
            l.por,
            l.naive,
            l.naive / l.por.max(1.0),
            l.browser_ms.map_or("n/a".to_string(), |ms| format!(
                "{ms:.1} ms (4.0 and fixed, the slower)"
            ))
        );
    }
    Ok(())
}

/// The cargo profile the explorer's web worker is built with.
const EXPLORER_PROFILE: &str = "worker";

/// One race level's figures.
struct LevelRow {
    id: String,
    por: f64,
    naive: f64,
    naive_complete: bool,
    /// The slower of its 4.0 and fixed explorations in the browser.
    browser_ms: Option<f64>,
}

fn level_rows(
    facts: &Map<String, Value>,
    wasm: Option<&Map<String, Value>>,
) -> Result<Vec<LevelRow>> {
    let list = facts
        .get("levels")
        .and_then(Value::as_array)
        .ok_or("the benchmark reported no `levels`")?;
    list.iter()
        .map(|l| {
            let o = l.as_object().ok_or("a level is not an object")?;
            let id = o
                .get("id")
                .and_then(Value::as_str)
                .ok_or("a level has no id")?;
            let browser_ms = wasm
                .and_then(|w| w.get(id))
                .and_then(Value::as_object)
                .and_then(|m| {
                    Some(
                        m.get("v4_0_ms")?
                            .as_f64()?
                            .max(m.get("fixed_ms")?.as_f64()?),
                    )
                });
            Ok(LevelRow {
                id: id.to_string(),
                por: num(o, "por")?,
                naive: num(o, "naive")?,
                naive_complete: o
                    .get("naive_complete")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                browser_ms,
            })
        })
        .collect()
}
