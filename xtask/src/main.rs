//! The project's commands, so that a fresh Debian/Ubuntu machine needs nothing but `cargo`:
//! `cargo xtask run` sets up and starts the product on its embedded defaults, `cargo xtask test`
//! sets up and runs every check and test (this is what `.ci/run` runs).

// xtask talks to a person on a terminal and times its own steps; neither is product logic.
#![allow(clippy::print_stdout, clippy::disallowed_methods)]

mod chaos;
mod desktop;
mod dist;
mod fuzz;
mod setup;
mod tidy;
mod ui;
mod workflows;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  run                    set up this machine, then start the desktop app on its embedded defaults:
                         a local database, the bundled RUFUS simulator and a simulated reader
  test                   set up this machine, then run formatting, lints, tidy checks and every
                         test (Rust, UI, the real app through WebDriver, the installed package)
  bench                  measure the performance figures (release build) and print one table
  screenshots [--out D]  screenshots of every screen of the real app with a live session (Xvfb)
  chaos [--seeds N] [--seed S]
                         seeded fault schedules (crashes, cloud faults, remote closes, take-over)
                         against the real CLI and the simulator; checks exactly-once per seed
  dist [--check]         build the release app and its .deb and .rpm into target/dist/; --check
                         lints them, installs the .deb, runs the installed CLI and app, removes it
  prepare-bundle         what Tauri's bundler packs besides the app (run by the bundler itself)
  fuzz                   build the decoders' fuzz targets and run each over its seed corpus
  setup                  only install the system and npm packages this project needs (idempotent)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rest = args.get(1..).unwrap_or_default();
    let result = match args.first().map(String::as_str) {
        Some("run") => desktop::run_demo(rest),
        Some("test") => test(),
        Some("bench") => bench(rest),
        Some("screenshots") => desktop::screenshots(rest),
        Some("chaos") => chaos::run(rest),
        Some("dist") => dist::run(rest),
        Some("prepare-bundle") => dist::prepare_bundle(),
        Some("fuzz") => fuzz::check(),
        Some("setup") => setup::ensure_system_packages().and_then(|()| ui::install()),
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

/// Cargo's target directory: `CARGO_TARGET_DIR` when set (relative to the root), else
/// `target/` — where the binaries xtask starts are.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|dir| if dir.is_absolute() { dir } else { root().join(dir) })
        .unwrap_or_else(|| root().join("target"))
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
    ui::install()?;
    println!("::: tidy");
    tidy::check(&root())?;
    workflows::check()?;

    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--check"]);
    step("fmt", fmt)?;
    ui::checks()?;

    let mut clippy = cargo();
    clippy.args(["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"]);
    step("clippy", clippy)?;

    let mut tests = cargo();
    tests.args(["test", "--workspace", "--locked", "--no-fail-fast"]);
    step("cargo test", tests)?;
    fuzz::check()?;

    ui::tests()?;
    desktop::webdriver_tests()?;
    // The installers last: the release build is the longest single step.
    dist::run(&["--check".to_owned()])
}

fn bench(args: &[String]) -> Result<(), String> {
    setup::ensure_system_packages()?;
    let mut cmd = cargo();
    cmd.args(["run", "--release", "--quiet", "--package", "timing-bench", "--"]).args(args);
    step("bench (engine)", cmd)?;
    ui::bench_frames()?;
    desktop::bench()
}
