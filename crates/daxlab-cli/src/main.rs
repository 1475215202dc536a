//! `daxlab`: the command-line runner. `daxlab run [--json] FILE|-`.
//!
//! Exit status: 0 when the run is ok, 1 when an `expect` failed, 2 when the scenario text is
//! invalid (or the command line is wrong).

use std::io::Read;
use std::process::ExitCode;

use daxlab_core::run::{run_text, Report};

const USAGE: &str = "usage: daxlab run [--json] FILE   (FILE may be - for standard input)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (json, file) = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["run", "--json", f] | ["run", f, "--json"] => (true, f.to_string()),
        ["run", f] => (false, f.to_string()),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let text = if file == "-" {
        let mut s = String::new();
        if let Err(e) = std::io::stdin().read_to_string(&mut s) {
            eprintln!("daxlab: cannot read standard input: {e}");
            return ExitCode::from(2);
        }
        s
    } else {
        match std::fs::read_to_string(&file) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("daxlab: cannot read {file}: {e}");
                return ExitCode::from(2);
            }
        }
    };
    let report = run_text(&text);
    if json {
        println!("{}", report.to_json());
    } else {
        print_trace(&file, &report);
    }
    ExitCode::from(match (&report.error, report.ok) {
        (Some(_), _) => 2,
        (None, true) => 0,
        (None, false) => 1,
    })
}

fn print_trace(file: &str, r: &Report) {
    if let Some(e) = &r.error {
        eprintln!("{file}: {e}");
        return;
    }
    for c in &r.results {
        let who = c
            .thread
            .as_deref()
            .map(|t| format!("[{t}] "))
            .unwrap_or_default();
        let expect = c.value.get("passed").is_some();
        let status = match (c.ok, c.errno, c.signal) {
            (true, _, _) if expect => "ok".to_string(),
            (false, _, _) if expect => "FAILED".to_string(),
            (_, Some(e), _) => format!("-{e}"),
            (_, _, Some(s)) => s.to_string(),
            (true, _, _) => "ok".to_string(),
            (false, _, _) => "FAILED".to_string(),
        };
        // Long values (bytes read) are cut for the trace; --json has them whole.
        let value = match c.value.to_string() {
            _ if c.value.is_null() => String::new(),
            v if v.chars().count() > 100 => {
                format!("  {}…", v.chars().take(100).collect::<String>())
            }
            v => format!("  {v}"),
        };
        println!("{:>4}  {who}{:<48} {status}{value}", c.line, c.command);
    }
    println!();
    let c = &r.counters;
    println!(
        "copies {}  bytes_copied {}  copies_avoided {}  pagecache_pages {}  faults {} minor / {} major  sim {} ns",
        c.copies, c.bytes_copied, c.copies_avoided, c.pagecache_pages, c.faults_minor, c.faults_major, c.sim_ns
    );
    for (m, c) in &r.counters_by_mount {
        println!(
            "  {m}: copies {}  bytes_copied {}  copies_avoided {}  pagecache_pages {}  faults {}/{}",
            c.copies, c.bytes_copied, c.copies_avoided, c.pagecache_pages, c.faults_minor, c.faults_major
        );
    }
    if !r.ok {
        println!("\nFAILED: an expect did not hold");
    }
}
