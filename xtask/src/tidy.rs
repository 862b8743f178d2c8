//! Project rules that no compiler checks: every Rust module says why it exists (`//!` first),
//! and the core crates never depend on Tauri (Tauri stays at the edge).

use std::fs;
use std::path::{Path, PathBuf};

/// Folders whose Rust files must open with a `//!` module doc.
const RUST_ROOTS: &[&str] = &["crates", "xtask", "tests", "src-tauri/src"];
/// Crates that must never depend on tauri.
const CORE_CRATES: &[&str] =
    &["rufus-api", "rufus-cloud-sim", "timing-readers", "timing-core", "timing-ipc", "timing-cli"];

pub fn check(root: &Path) -> Result<(), String> {
    let mut problems = Vec::new();
    for dir in RUST_ROOTS {
        for file in rust_files(&root.join(dir)) {
            let text = fs::read_to_string(&file).unwrap_or_default();
            let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            if !first.starts_with("//!") {
                let shown = file.strip_prefix(root).unwrap_or(&file).display().to_string();
                problems
                    .push(format!("{shown}: must start with a `//!` line saying why it exists"));
            }
        }
    }
    for krate in CORE_CRATES {
        let manifest = root.join("crates").join(krate).join("Cargo.toml");
        if let Ok(text) = fs::read_to_string(&manifest)
            && text.lines().any(|l| l.trim_start().starts_with("tauri"))
        {
            problems.push(format!("crates/{krate} depends on tauri: keep Tauri at the edge"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("tidy found {} problem(s):\n  {}", problems.len(), problems.join("\n  ")))
    }
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else { return out };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name == "target" || name == "node_modules" || name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}
