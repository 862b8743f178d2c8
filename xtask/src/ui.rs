//! The UI's steps (`ui/`, an npm project): install its packages from the lockfile, lint,
//! type-check, unit tests, the production build, and Playwright against the mock host in
//! Debian's Chromium.

use std::process::Command;

use crate::{root, step};

fn npm(args: &[&str]) -> Command {
    let mut cmd = Command::new("npm");
    cmd.args(args).current_dir(root().join("ui"));
    cmd
}

fn present() -> bool {
    root().join("ui/package.json").exists()
}

/// `npm ci` when `node_modules` is missing or older than the lockfile.
pub fn install() -> Result<(), String> {
    if !present() {
        return Ok(());
    }
    let ui = root().join("ui");
    let stamp = ui.join("node_modules/.package-lock.json");
    let fresh = match (std::fs::metadata(&stamp), std::fs::metadata(ui.join("package-lock.json"))) {
        (Ok(installed), Ok(lock)) => match (installed.modified(), lock.modified()) {
            (Ok(i), Ok(l)) => i >= l,
            _ => false,
        },
        _ => false,
    };
    if fresh {
        return Ok(());
    }
    step("npm ci", npm(&["ci", "--no-audit", "--no-fund"]))
}

/// Lint (incl. the rule that only `src/ipc/` imports `@tauri-apps/*`) and type checks.
pub fn checks() -> Result<(), String> {
    if !present() {
        return Ok(());
    }
    step("ui lint", npm(&["run", "lint"]))?;
    step("ui check", npm(&["run", "check"]))
}

/// The production build the desktop app embeds.
pub fn build() -> Result<(), String> {
    if !present() {
        return Err("ui/package.json is missing".into());
    }
    install()?;
    step("ui build", npm(&["run", "build"]))
}

/// Vitest, then Playwright against the mock host.
pub fn tests() -> Result<(), String> {
    if !present() {
        return Ok(());
    }
    step("ui test", npm(&["test"]))?;
    step("ui e2e (mock host, Chromium)", npm(&["run", "e2e"]))
}

/// The frame-time benchmark in Chromium against the mock host.
pub fn bench_frames() -> Result<(), String> {
    if !present() {
        return Ok(());
    }
    install()?;
    step("bench (UI frame times)", npm(&["run", "bench:frames"]))
}
