//! Project rules that no compiler checks: every Rust module says why it exists (`//!` first),
//! the core crates never depend on Tauri (Tauri stays at the edge), and the product has one
//! version (the workspace's; `ui/package.json` and the Debian changelog repeat it,
//! `tauri.conf.json` takes it from the app crate).

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
    problems.extend(version_problems(root));
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("tidy found {} problem(s):\n  {}", problems.len(), problems.join("\n  ")))
    }
}

/// The Debian changelog the `.deb` carries (its newest entry names the version it ships).
const DEB_CHANGELOG: &str = "src-tauri/packaging/changelog";

/// `version` of `[workspace.package]` in the root `Cargo.toml`.
pub fn workspace_version(root: &Path) -> Result<String, String> {
    let text = fs::read_to_string(root.join("Cargo.toml"))
        .map_err(|e| format!("cannot read Cargo.toml: {e}"))?;
    let mut in_package = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line == "[workspace.package]";
        } else if in_package && let Some(value) = line.strip_prefix("version") {
            let value = value.trim_start().trim_start_matches('=').trim();
            return Ok(value.trim_matches('"').to_owned());
        }
    }
    Err("Cargo.toml has no `version` in [workspace.package]".into())
}

/// The first `"version": "…"` of a JSON file (None: the file has no version).
fn json_version(text: &str) -> Option<String> {
    let at = text.find("\"version\"")?;
    let rest = text.get(at + "\"version\"".len()..)?.trim_start().strip_prefix(':')?.trim_start();
    let value = rest.strip_prefix('"')?;
    Some(value.get(..value.find('"')?)?.to_owned())
}

fn version_problems(root: &Path) -> Vec<String> {
    let version = match workspace_version(root) {
        Ok(v) => v,
        Err(e) => return vec![e],
    };
    let mut problems = Vec::new();
    let ui = fs::read_to_string(root.join("ui/package.json")).unwrap_or_default();
    if json_version(&ui).as_deref() != Some(version.as_str()) {
        problems.push(format!(
            "ui/package.json: \"version\" must be the workspace version {version} (Cargo.toml)"
        ));
    }
    let conf = fs::read_to_string(root.join("src-tauri/tauri.conf.json")).unwrap_or_default();
    if let Some(v) = json_version(&conf) {
        problems.push(format!(
            "src-tauri/tauri.conf.json: drop \"version\" ({v}): the bundler takes the app \
             crate's, which is the workspace version {version}"
        ));
    }
    let changelog = fs::read_to_string(root.join(DEB_CHANGELOG)).unwrap_or_default();
    let top = changelog.lines().next().unwrap_or_default();
    if !top.starts_with(&format!("rufus-timing-console ({version})")) {
        problems.push(format!(
            "{DEB_CHANGELOG}: the newest entry must be for the workspace version {version} \
             (it is `{top}`)"
        ));
    }
    for manifest in crate_manifests(root) {
        let text = fs::read_to_string(&manifest).unwrap_or_default();
        // The `[package]` table: everything before the next table.
        let package = text.split("\n[").next().unwrap_or_default();
        if package.contains("\nversion = ") {
            let shown = manifest.strip_prefix(root).unwrap_or(&manifest).display().to_string();
            problems.push(format!("{shown}: use `version.workspace = true`"));
        }
    }
    problems
}

/// Every member crate's `Cargo.toml`.
fn crate_manifests(root: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> =
        ["src-tauri", "tests", "xtask"].iter().map(|d| root.join(d).join("Cargo.toml")).collect();
    if let Ok(entries) = fs::read_dir(root.join("crates")) {
        out.extend(entries.flatten().map(|e| e.path().join("Cargo.toml")).filter(|p| p.exists()));
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_product_has_one_version() {
        let root = crate::root();
        assert!(!workspace_version(&root).unwrap().is_empty());
        assert_eq!(version_problems(&root), Vec::<String>::new());
        assert_eq!(json_version(r#"{ "name": "x", "version" : "1.2.3" }"#), Some("1.2.3".into()));
        assert_eq!(json_version(r#"{ "name": "x" }"#), None);
    }
}
