//! `cargo xtask chaos [--seeds N] [--seed S]`: builds the drills' binaries (debug) and runs the
//! seeded fault-schedule explorer `target/debug/chaos` with the arguments.

use std::path::PathBuf;
use std::process::Command;

use crate::{cargo, root, step, target_dir};

/// Builds `timing-drills`' binaries and runs `chaos` with `args`.
pub fn run(args: &[String]) -> Result<(), String> {
    let mut build = cargo();
    build.args(["build", "--package", "timing-drills", "--bins"]);
    step("build timing-drills (debug)", build)?;
    let mut chaos = Command::new(binary());
    chaos.args(args).current_dir(root());
    step("chaos", chaos)
}

/// `target/debug/chaos`, honouring `CARGO_TARGET_DIR`.
fn binary() -> PathBuf {
    target_dir().join("debug").join(format!("chaos{}", std::env::consts::EXE_SUFFIX))
}
