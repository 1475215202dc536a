//! DAX Lab's task runner.
//!
//! - `cargo xtask serve`: install what is missing, then `trunk serve` on 127.0.0.1.
//! - `cargo xtask test`: install what is missing (and Chromium for the browser tests), then run
//!   every layer of tests and print the pass counts of each.
//! - `cargo xtask dist [--public-url URL]`: the release site in `dist/`, ready to publish.
//! - `cargo xtask bench [--json] [--quick]`: the speed figures, as ratios and rates measured in
//!   one run (see `bench.rs`).
//!
//! Every install is pinned and skipped when the right version is already there.

mod bench;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use clap::{Parser, Subcommand};

/// Versions that work together on this project's machines (see README).
const TRUNK: &str = "0.21.14";
const WASM_BINDGEN: &str = "0.2.130";
pub(crate) const WASM_TARGET: &str = "wasm32-unknown-unknown";

type Result<T = ()> = std::result::Result<T, String>;

/// DAX Lab's task runner.
#[derive(Parser)]
#[command(name = "cargo xtask", version, about)]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Install what is missing, then serve the app with trunk on http://127.0.0.1:8080/.
    Serve,
    /// Install what is missing, then run every layer of tests.
    Test,
    /// Build the release site into dist/.
    Dist {
        /// The URL path the site will be served under (e.g. /daxlab/).
        #[arg(long)]
        public_url: Option<String>,
    },
    /// Measure DAX Lab's speed and print one table of ratios and rates.
    Bench {
        /// Print one JSON object instead of the table (progress goes to stderr).
        #[arg(long)]
        json: bool,
        /// Run each benchmark for a few seconds only.
        #[arg(long)]
        quick: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = root();
    let r = match cli.task {
        Task::Serve => setup(&root).and_then(|_| serve(&root)),
        Task::Test => setup(&root).and_then(|_| test(&root)),
        Task::Dist { public_url } => setup(&root).and_then(|_| dist(&root, public_url.as_deref())),
        Task::Bench { json, quick } => bench::run(&root, json, quick),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nxtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| ".".into())
}

pub(crate) fn say(what: &str) {
    println!("\n==> {what}");
}

/// Run a command, streaming its output; an error names the step.
fn run(step: &str, cmd: &mut Command) -> Result {
    let status = cmd
        .status()
        .map_err(|e| format!("{step}: cannot start {:?}: {e}", cmd.get_program()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{step} failed ({status})"))
    }
}

/// Run a command, echoing and capturing its output (for pass counts).
fn run_capture(step: &str, cmd: &mut Command) -> Result<String> {
    let out = cmd
        .output()
        .map_err(|e| format!("{step}: cannot start {:?}: {e}", cmd.get_program()))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    print!("{text}");
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!("{step} failed ({})", out.status))
    }
}

pub(crate) fn output(cmd: &str, args: &[&str]) -> Option<String> {
    let o = Command::new(cmd).args(args).output().ok()?;
    o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).trim().to_string())
}

/// PATH with the project's npm tools (wasm-opt) first.
fn path_with_tools(root: &Path) -> String {
    let bin = root.join("node_modules/.bin");
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Everything `serve` and `test` need, installed when missing.
fn setup(root: &Path) -> Result {
    say("checking the toolchain and build tools");
    let targets = output("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if !targets.lines().any(|l| l == WASM_TARGET) {
        say(&format!("installing the {WASM_TARGET} target"));
        run(
            "rustup target add",
            Command::new("rustup").args(["target", "add", WASM_TARGET]),
        )?;
    }
    if output("trunk", &["--version"]).as_deref() != Some(&format!("trunk {TRUNK}")) {
        say(&format!(
            "installing trunk {TRUNK} (cargo install, several minutes)"
        ));
        run(
            "install trunk",
            Command::new("cargo").args(["install", "trunk", "--version", TRUNK, "--locked"]),
        )?;
    }
    if output("wasm-bindgen", &["--version"]).as_deref()
        != Some(&format!("wasm-bindgen {WASM_BINDGEN}"))
    {
        say(&format!(
            "installing wasm-bindgen-cli {WASM_BINDGEN} (matches the pinned wasm-bindgen crate)"
        ));
        // Not --locked: one of its locked dependency versions is missing from the registry.
        run(
            "install wasm-bindgen-cli",
            Command::new("cargo").args(["install", "wasm-bindgen-cli", "--version", WASM_BINDGEN]),
        )?;
    }
    if output("npm", &["--version"]).is_none() {
        return Err(
            "npm is missing: install Node.js and npm (Debian: apt-get install -y nodejs npm)"
                .into(),
        );
    }
    if !npm_tools_current(root) {
        say("installing the pinned npm tools (wasm-opt, playwright-core, axe-core) with npm ci");
        run(
            "npm ci",
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(root),
        )?;
    }
    println!(
        "tools ready: trunk {TRUNK}, wasm-bindgen {WASM_BINDGEN}, wasm-opt from binaryen (npm)"
    );
    Ok(())
}

/// Whether `node_modules` holds exactly the versions package.json pins.
fn npm_tools_current(root: &Path) -> bool {
    let json = |p: PathBuf| -> Option<serde_json::Value> {
        serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()
    };
    let Some(pkg) = json(root.join("package.json")) else {
        return false;
    };
    let Some(deps) = pkg["devDependencies"].as_object() else {
        return false;
    };
    deps.iter().all(|(name, version)| {
        json(root.join("node_modules").join(name).join("package.json"))
            .is_some_and(|p| p["version"] == *version)
    })
}

fn serve(root: &Path) -> Result {
    say("serving DAX Lab with trunk on http://127.0.0.1:8080/ (Ctrl+C stops)");
    run(
        "trunk serve",
        Command::new("trunk")
            .args(["serve", "--offline"])
            .env("PATH", path_with_tools(root))
            .current_dir(root),
    )
}

fn dist(root: &Path, public_url: Option<&str>) -> Result {
    say("building the release site into dist/ (trunk, wasm-opt -Oz)");
    let mut cmd = Command::new("trunk");
    cmd.args(["build", "--release", "--offline"]);
    if let Some(u) = public_url {
        cmd.args(["--public-url", u]);
    }
    run(
        "release site build",
        cmd.env("PATH", path_with_tools(root)).current_dir(root),
    )
}

fn is_root() -> bool {
    output("id", &["-u"]).as_deref() == Some("0")
}

/// Debian's Chromium and ChromeDriver for the browser tests.
fn ensure_browser() -> Result {
    if Path::new("/usr/bin/chromium").exists() && Path::new("/usr/bin/chromedriver").exists() {
        return Ok(());
    }
    if !is_root() {
        return Err("the browser tests need Debian's chromium and chromium-driver: run as root, or install them with \
                    sudo apt-get install -y chromium chromium-driver"
            .into());
    }
    say("installing Debian's chromium and chromium-driver for the browser tests");
    run(
        "apt-get update",
        Command::new("apt-get").args(["update", "-q"]),
    )?;
    run(
        "install chromium",
        Command::new("apt-get").args(["install", "-y", "-q", "chromium", "chromium-driver"]),
    )
}

/// Sum the pass and fail counts of cargo test ("test result: ok. N passed; M failed") or node
/// --test ("# pass N", "# fail M") output.
fn counts(out: &str) -> (u64, u64) {
    let num = |s: &str| {
        s.trim()
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let mut pass = 0;
    let mut fail = 0;
    for line in out.lines() {
        if let Some(rest) = line.strip_prefix("test result: ") {
            for part in rest.split(';') {
                let part = part
                    .trim()
                    .trim_start_matches("ok.")
                    .trim_start_matches("FAILED.")
                    .trim();
                if part.ends_with("passed") {
                    pass += num(part);
                } else if part.ends_with("failed") {
                    fail += num(part);
                }
            }
        } else if let Some(n) = line.strip_prefix("# pass ") {
            pass += num(n);
        } else if let Some(n) = line.strip_prefix("# fail ") {
            fail += num(n);
        }
    }
    (pass, fail)
}

fn budget(root: &Path) -> Result<u64> {
    let text = std::fs::read_to_string(root.join("web/budget.toml"))
        .map_err(|e| format!("web/budget.toml: {e}"))?;
    text.lines()
        .filter_map(|l| l.split('#').next()?.trim().strip_prefix("wasm_gzip_bytes"))
        .find_map(|v| {
            v.trim()
                .trim_start_matches('=')
                .trim()
                .replace('_', "")
                .parse()
                .ok()
        })
        .ok_or_else(|| "web/budget.toml has no wasm_gzip_bytes = N".to_string())
}

fn gzip_size(path: &Path) -> Result<u64> {
    use std::io::Write;
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(&bytes).map_err(|e| e.to_string())?;
    Ok(z.finish().map_err(|e| e.to_string())?.len() as u64)
}

fn test(root: &Path) -> Result {
    ensure_browser()?;
    let started = Instant::now();
    let cargo = || {
        let mut c = Command::new("cargo");
        c.current_dir(root);
        c
    };
    let mut layers: Vec<(&str, u64, u64)> = Vec::new();

    say("1/7 formatting (cargo fmt --check)");
    run(
        "format check",
        cargo().args(["fmt", "--all", "--", "--check"]),
    )?;

    say("2/7 lints (cargo clippy -D warnings)");
    run(
        "clippy",
        cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    )?;

    say("3/7 native tests (cargo test --workspace)");
    let out = run_capture("native tests", cargo().args(["test", "--workspace"]))?;
    layers.push(("native", counts(&out).0, counts(&out).1));

    say("4/7 wasm tests of the core and the app in headless Chromium (wasm-bindgen-test)");
    let out = run_capture(
        "wasm tests",
        cargo()
            .args([
                "test",
                "--target",
                WASM_TARGET,
                "-p",
                "daxlab-core",
                "-p",
                "daxlab-app",
                "--tests",
            ])
            .env("CHROMEDRIVER", "/usr/bin/chromedriver"),
    )?;
    layers.push(("wasm in Chromium", counts(&out).0, counts(&out).1));

    say("5/7 release site build (trunk build --release, wasm-opt)");
    dist(root, None)?;

    say("6/7 bundle budget");
    // The page's wasm is the budget's; the explorer's worker has its own, loaded only when a
    // learner explores, and is reported beside it.
    let wasms: Vec<std::path::PathBuf> = std::fs::read_dir(root.join("dist"))
        .map_err(|e| format!("dist/: {e}"))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "wasm"))
        .collect();
    let named = |prefix: &str| {
        wasms
            .iter()
            .find(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(prefix))
            })
            .cloned()
    };
    let wasm = named("daxlab-app").ok_or("dist/ has no daxlab-app .wasm file")?;
    let (size, limit) = (gzip_size(&wasm)?, budget(root)?);
    println!(
        "gzipped wasm: {size} bytes ({:.1} KB) of a {limit}-byte budget ({:.0}%)",
        size as f64 / 1000.0,
        size as f64 * 100.0 / limit as f64
    );
    if let Some(w) = named("daxlab-explorer") {
        let ws = gzip_size(&w)?;
        println!(
            "explorer's worker wasm: {ws} bytes ({:.1} KB) gzipped, outside the budget",
            ws as f64 / 1000.0
        );
    }
    if size > limit {
        return Err(format!("bundle budget: the gzipped wasm is {size} bytes, over the {limit} bytes of web/budget.toml"));
    }

    say("7/7 end-to-end tests against the release build (node --test, headless Chromium)");
    let out = run_capture(
        "end-to-end tests",
        Command::new("node")
            .args(["--test", "tests/e2e/"])
            .current_dir(root),
    )?;
    layers.push(("end-to-end", counts(&out).0, counts(&out).1));

    say(&format!(
        "all layers passed in {:.0} s",
        started.elapsed().as_secs_f64()
    ));
    for (name, pass, fail) in &layers {
        println!("  {name:<18} {pass} passed, {fail} failed");
    }
    println!("  {:<18} {size} of {limit} bytes gzipped", "bundle");
    let (p, f) = layers.iter().fold((0, 0), |(p, f), l| (p + l.1, f + l.2));
    println!("\n{p} passed, {f} failed");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::counts;

    #[test]
    fn counts_cargo_and_node_summaries() {
        let out = "test result: ok. 5 passed; 0 failed; 0 ignored\nno tests to run!\n\
                   test result: FAILED. 2 passed; 1 failed; 0 ignored\n# pass 4\n# fail 0\n";
        assert_eq!(counts(out), (11, 1));
    }
}
