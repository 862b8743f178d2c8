//! The decoders' fuzz targets on the stable toolchain: `cargo fuzz` needs nightly, which this
//! project cannot fetch, so the targets are built as plain libFuzzer binaries and each runs its
//! committed seed corpus plus a few thousand mutations. This proves they build and that no seed
//! panics; real coverage-guided fuzzing stays `cargo +nightly fuzz run <target>`.

use std::path::Path;
use std::process::Command;

use crate::{cargo, root, step};

/// The targets: one file per protocol in `fuzz/fuzz_targets/` (timing-readers' test
/// `every_protocol_has_a_fuzz_target` holds that list equal to the registry's).
fn targets(fuzz: &Path) -> Result<Vec<String>, String> {
    let dir = fuzz.join("fuzz_targets");
    let entries = std::fs::read_dir(&dir).map_err(|e| format!("read {}: {e}", dir.display()))?;
    let mut names: Vec<String> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.strip_suffix(".rs").map(str::to_owned))
        .collect();
    names.sort();
    Ok(names)
}

pub fn check() -> Result<(), String> {
    let fuzz = root().join("crates/timing-readers/fuzz");
    let target_dir = root().join("target/fuzz");
    let mut build = cargo();
    build
        .args(["build", "--quiet", "--manifest-path"])
        .arg(fuzz.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir);
    step("fuzz targets: build", build)?;
    for target in &targets(&fuzz)? {
        // libFuzzer adds what it finds to the corpus folder: give it a copy.
        let work = target_dir.join("corpus").join(target);
        let _ = std::fs::remove_dir_all(&work);
        copy_dir(&fuzz.join("corpus").join(target), &work)?;
        let mut run = Command::new(target_dir.join("debug").join(target));
        run.arg(&work).args(["-runs=5000", "-max_total_time=20", "-print_final_stats=0"]);
        step(&format!("fuzz target {target}: seeds + 5000 runs"), run)?;
    }
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| format!("create {}: {e}", to.display()))?;
    let entries = std::fs::read_dir(from).map_err(|e| format!("read {}: {e}", from.display()))?;
    for entry in entries.flatten() {
        if entry.path().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name()))
                .map_err(|e| format!("copy {}: {e}", entry.path().display()))?;
        }
    }
    Ok(())
}
