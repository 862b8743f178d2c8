//! The project's commands, so that a fresh Debian/Ubuntu machine needs nothing but `cargo`:
//! `cargo xtask run` sets up and starts the product on its embedded defaults, `cargo xtask test`
//! sets up and runs every check and test (this is what `.ci/run` runs).

// xtask talks to a person on a terminal and times its own steps; neither is product logic.
#![allow(clippy::print_stdout, clippy::disallowed_methods)]

mod setup;
mod tidy;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  run     set up this machine, then start the RUFUS simulator (and, once it exists, the app)
  test    set up this machine, then run formatting, lints, tidy checks and every test
  bench   measure the performance figures (release build) and print them in one table
  setup   only install the system packages this project needs (idempotent)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run(args.get(1..).unwrap_or_default()),
        Some("test") => test(),
        Some("setup") => setup::ensure_system_packages(),
        Some("bench") => bench(args.get(1..).unwrap_or_default()),
        Some("-h" | "--help" | "help") | None => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (xtask lives one level below it).
fn root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

/// Runs one named step, printing how long it took; fails with the step's name.
fn step(name: &str, mut cmd: Command) -> Result<(), String> {
    println!("::: {name}");
    let started = Instant::now();
    let status = cmd.status().map_err(|e| format!("{name}: could not start: {e}"))?;
    println!("::: {name} took {:.1}s", started.elapsed().as_secs_f64());
    if status.success() { Ok(()) } else { Err(format!("step `{name}` failed ({status})")) }
}

fn test() -> Result<(), String> {
    setup::ensure_system_packages()?;
    setup::ensure_rust_components()?;
    println!("::: tidy");
    tidy::check(&root())?;

    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--check"]);
    step("fmt", fmt)?;

    let mut clippy = cargo();
    clippy.args(["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"]);
    step("clippy", clippy)?;

    let mut tests = cargo();
    tests.args(["test", "--workspace", "--locked", "--no-fail-fast"]);
    step("cargo test", tests)?;
    Ok(())
}

fn bench(args: &[String]) -> Result<(), String> {
    setup::ensure_system_packages()?;
    let mut cmd = cargo();
    cmd.args(["run", "--release", "--quiet", "--package", "timing-bench", "--"]).args(args);
    step("bench", cmd)
}

fn run(args: &[String]) -> Result<(), String> {
    setup::ensure_system_packages()?;
    let port = args.first().cloned().unwrap_or_else(|| "8787".into());
    println!("::: starting the RUFUS Cloud simulator on 127.0.0.1:{port} (Ctrl-C to stop)");
    println!("    point a client at the base URL and key printed on the READY line below.");
    let mut sim = cargo();
    sim.args(["run", "--quiet", "--package", "rufus-cloud-sim", "--", "--port", &port]);
    step("rufus-cloud-sim", sim)
}
