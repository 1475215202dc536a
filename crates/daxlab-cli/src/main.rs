//! `daxlab`: the command-line runner.
//!
//! - `daxlab run [--trace | --json] FILE`: run a scenario (`-` reads standard input) and print
//!   its results and counters, with `--trace` every event too (the kernel functions called,
//!   the copies, faults, locks), or the JSON of the scenario language's contract.
//!
//! - `daxlab explore [--json] [--random N --seed S] [--max N] FILE`: every interleaving of the
//!   scenario's threads, or N random ones, and the distinct outcomes.
//!
//! Exit status: 0 when the run is fine, 1 when an `expect` failed or an invariant broke that
//! no `expect violation` asked for, 2 when the scenario text is invalid (or the command line
//! is wrong).

mod json;

use std::io::{Read, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use daxlab_core::engine::exec::{Execution, RunOptions};
use daxlab_core::engine::explore::{explore, Mode};
use daxlab_core::engine::trace::TraceMode;
use daxlab_core::lang::parse::parse;
use daxlab_core::lang::report::{Names, Report};
use daxlab_core::lang::text;

#[derive(Parser)]
#[command(
    name = "daxlab",
    version,
    about = "Run DAX Lab scenarios: a model of Linux 4.0 DAX"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run a scenario and print its results and counters (or its JSON).
    Run {
        /// Print the JSON report, with every event.
        #[arg(long, conflicts_with = "trace")]
        json: bool,
        /// Print every event as it happens (step, thread, what), then the results.
        #[arg(long)]
        trace: bool,
        /// The scenario file (`-`: standard input).
        file: String,
    },
    /// Explore every interleaving of the scenario's threads (with partial-order reduction)
    /// and list the outcomes, each with a schedule line that reproduces it.
    Explore {
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
        /// Instead, run N executions under a seeded random (PCT) scheduler.
        #[arg(long, value_name = "N")]
        random: Option<usize>,
        /// The random scheduler's seed.
        #[arg(long, default_value_t = 1, requires = "random")]
        seed: u64,
        /// Stop after this many executions (the result then says it is not complete).
        #[arg(long, default_value_t = 100_000)]
        max: usize,
        /// The scenario file (`-`: standard input).
        file: String,
    },
}

fn read(file: &str) -> Result<String, String> {
    if file == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
        Ok(s)
    } else {
        std::fs::read_to_string(file).map_err(|e| format!("cannot read {file}: {e}"))
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match cli.command {
        Cmd::Run { json, trace, file } => {
            let text = match read(&file) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("daxlab: {e}");
                    return ExitCode::from(2);
                }
            };
            ExitCode::from(run(&file, &text, json, trace))
        }
        Cmd::Explore {
            json,
            random,
            seed,
            max,
            file,
        } => {
            let text = match read(&file) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("daxlab: {e}");
                    return ExitCode::from(2);
                }
            };
            let mode = match random {
                Some(runs) => Mode::Random { runs, seed },
                None => Mode::Exhaustive { por: true },
            };
            ExitCode::from(explore_cmd(&file, &text, mode, max, json))
        }
    }
}

/// Explore and print; returns the exit status (1 when an outcome breaks an invariant or an
/// `expect`).
fn explore_cmd(file: &str, text: &str, mode: Mode, max: usize, json: bool) -> u8 {
    let started = std::time::Instant::now();
    let r = match parse(text).and_then(|s| explore(&s, mode, max)) {
        Ok(r) => r,
        Err(err) => {
            if json {
                let _ = writeln!(std::io::stdout(), "{}", json::explore_error(&err));
            } else {
                eprintln!("{file}: {err}");
            }
            return 2;
        }
    };
    let elapsed_ms = started.elapsed().as_millis() as u64;
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    if json {
        let _ = writeln!(out, "{}", json::explore(&r, elapsed_ms));
    } else {
        let _ = write_exploration(&mut out, &r, elapsed_ms);
    }
    let _ = out.flush();
    u8::from(r.any_violation())
}

fn write_exploration(
    out: &mut impl Write,
    r: &daxlab_core::engine::explore::Report,
    elapsed_ms: u64,
) -> std::io::Result<()> {
    writeln!(
        out,
        "{} executions ({} pruned as redundant) in {elapsed_ms} ms, {}; {} outcome(s):",
        r.executions,
        r.pruned,
        if r.complete {
            "complete"
        } else {
            "NOT complete (bound reached or random mode)"
        },
        r.outcomes.len()
    )?;
    for o in &r.outcomes {
        let what = if o.violations.is_empty() {
            "no violation".to_string()
        } else {
            o.violations.join(", ")
        };
        writeln!(out, "\n  {:>6}x  {what}", o.count)?;
        for res in &o.results {
            writeln!(out, "           {res}")?;
        }
        for l in &o.schedule {
            writeln!(out, "           {l}")?;
        }
    }
    Ok(())
}

/// Run and print; returns the exit status.
fn run(file: &str, text: &str, json: bool, trace: bool) -> u8 {
    let scenario = parse(text);
    let exec = scenario.and_then(|s| {
        let opts = if json || trace {
            RunOptions {
                trace: TraceMode::Full,
                keep_steps: false,
                checkpoint_every: 0,
                batch: true,
            }
        } else {
            RunOptions::fast()
        };
        Execution::new(&s, opts)
    });
    let mut e = match exec {
        Ok(e) => e,
        Err(err) => {
            let r = Report::invalid(err);
            if json {
                let mut m = json::report_fields(&r);
                m.insert("events".into(), serde_json::json!([]));
                let _ = writeln!(std::io::stdout(), "{}", serde_json::Value::Object(m));
            } else if let Some(e) = &r.error {
                eprintln!("{file}: {e}");
            }
            return r.exit_code();
        }
    };
    if json {
        // Events are printed as they come, so a long run never holds them all.
        let out = std::io::stdout();
        let mut out = std::io::BufWriter::new(out.lock());
        let _ = write!(out, "{{\"events\":[");
        let mut first = true;
        loop {
            let finished = e.advance(1 << 16);
            let names = Names::of(&e);
            for ev in e.take_events() {
                let sep = if first { "" } else { "," };
                first = false;
                let _ = write!(out, "{sep}{}", json::event(&ev, &names));
            }
            if finished {
                break;
            }
        }
        let r = Report::of(&e, Vec::new());
        let fields = serde_json::Value::Object(json::report_fields(&r)).to_string();
        // The other fields follow the events in the same object.
        let _ = writeln!(out, "],{}", &fields[1..]);
        return r.exit_code();
    }
    if trace {
        // Streamed, as for --json: a long run never holds every event.
        let out = std::io::stdout();
        let mut out = std::io::BufWriter::new(out.lock());
        loop {
            let finished = e.advance(1 << 16);
            let names = Names::of(&e);
            for ev in e.take_events() {
                let who = names.thread(ev.thread);
                let _ = writeln!(out, "{:>7} {who:<6} {}", ev.step, text::event(&ev, &names));
            }
            if finished {
                break;
            }
        }
        let _ = writeln!(out);
    } else {
        e.run_to_end();
    }
    let r = Report::of(&e, Vec::new());
    print_results(&r);
    r.exit_code()
}

/// The results, counters, violations and replay lines. Write errors (a closed pipe, as with
/// `daxlab run f | head`) end the output quietly.
fn print_results(r: &Report) {
    let out = std::io::stdout();
    let _ = write_results(&mut std::io::BufWriter::new(out.lock()), r);
}

fn write_results(out: &mut impl Write, r: &Report) -> std::io::Result<()> {
    for c in &r.results {
        let who = c
            .thread
            .as_deref()
            .map(|t| format!("[{t}] "))
            .unwrap_or_default();
        writeln!(
            out,
            "{:>4}  {who}{:<48} {}",
            c.line,
            c.command,
            text::result(c)
        )?;
    }
    writeln!(out)?;
    let line = |c: &daxlab_core::engine::trace::Counters| {
        c.named()
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join("  ")
    };
    writeln!(out, "{}", line(&r.counters))?;
    for (m, c) in &r.counters_by_mount {
        writeln!(out, "  {m}: {}", line(c))?;
    }
    for v in &r.violations {
        writeln!(
            out,
            "violation at step {}: {}: {}",
            v.step,
            v.invariant.name(),
            v.message
        )?;
    }
    for l in &r.replay {
        writeln!(out, "replay with: {l}")?;
    }
    if r.expect_failed() {
        writeln!(out, "\nFAILED: an expect did not hold")?;
    } else if r.unexpected_violations() {
        writeln!(out, "\nFAILED: an invariant was broken")?;
    }
    out.flush()
}
