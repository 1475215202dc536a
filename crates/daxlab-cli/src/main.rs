//! `daxlab`: the command-line runner.
//!
//! - `daxlab run [--json] FILE`: run a scenario (`-` reads standard input) and print its
//!   readable trace, or the JSON of `../shared/CONSOLE.md`.
//!
//! Exit status: 0 when the run is fine, 1 when an `expect` failed or an invariant broke that
//! no `expect violation` asked for, 2 when the scenario text is invalid (or the command line
//! is wrong).

mod json;

use std::io::{Read, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use daxlab_core::engine::exec::{Execution, RunOptions};
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
        #[arg(long)]
        json: bool,
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
        Cmd::Run { json, file } => {
            let text = match read(&file) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("daxlab: {e}");
                    return ExitCode::from(2);
                }
            };
            ExitCode::from(run(&file, &text, json))
        }
    }
}

/// Run and print; returns the exit status.
fn run(file: &str, text: &str, json: bool) -> u8 {
    let scenario = parse(text);
    let exec = scenario.and_then(|s| {
        let opts = if json {
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
                println!("{}", serde_json::Value::Object(m));
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
    e.run_to_end();
    let r = Report::of(&e, Vec::new());
    print_trace(&r);
    r.exit_code()
}

fn print_trace(r: &Report) {
    for c in &r.results {
        let who = c
            .thread
            .as_deref()
            .map(|t| format!("[{t}] "))
            .unwrap_or_default();
        println!("{:>4}  {who}{:<48} {}", c.line, c.command, text::result(c));
    }
    println!();
    let line = |c: &daxlab_core::engine::trace::Counters| {
        c.named()
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join("  ")
    };
    println!("{}", line(&r.counters));
    for (m, c) in &r.counters_by_mount {
        println!("  {m}: {}", line(c));
    }
    for v in &r.violations {
        println!(
            "violation at step {}: {}: {}",
            v.step,
            v.invariant.name(),
            v.message
        );
    }
    for l in &r.replay {
        println!("replay with: {l}");
    }
    if r.expect_failed() {
        println!("\nFAILED: an expect did not hold");
    } else if r.unexpected_violations() {
        println!("\nFAILED: an invariant was broken");
    }
}
