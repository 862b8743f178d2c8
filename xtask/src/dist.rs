//! `cargo xtask dist [--check]`: the installers. Builds the release app with Tauri's bundler
//! (the npm CLI pinned in `ui/`) and, on Linux, writes its `.deb` and `.rpm` to `target/dist/`.
//! `--check` then treats them as a timer's computer would: lints both, installs the `.deb` with
//! apt, runs the installed CLI and the installed desktop app (WebDriver, Xvfb), removes the
//! package and verifies that nothing of it stays behind. AppImage, Windows and macOS installers
//! need downloads this machine cannot make: `.github/workflows/release.yml` builds them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::{cargo, desktop, root, setup, step, target_dir, tidy, ui};

/// The `.deb` may not grow past this (a venue laptop installs it from a USB stick).
const DEB_LIMIT: u64 = 20 * 1024 * 1024;
/// Folders the package may write to; after its removal they must hold nothing new.
const SYSTEM_DIRS: &[&str] = &["/usr", "/etc", "/opt"];
/// Files maintainer-script triggers regenerate when any package with icons or a desktop entry
/// comes or goes (they belong to the desktop, not to us).
const TRIGGER_CACHES: &[&str] = &[
    "/usr/share/applications/mimeinfo.cache",
    "/usr/share/icons/hicolor/icon-theme.cache",
    "/etc/ld.so.cache",
];

/// The two Linux packages.
#[derive(Debug)]
struct Packages {
    deb: PathBuf,
    rpm: PathBuf,
}

/// `cargo xtask dist [--check]`.
pub fn run(args: &[String]) -> Result<(), String> {
    let mut check = false;
    for arg in args {
        match arg.as_str() {
            "--check" => check = true,
            other => return Err(format!("dist: unknown argument `{other}` (try --check)")),
        }
    }
    if !cfg!(target_os = "linux") {
        return Err("dist: builds Linux packages; on Windows and macOS the release workflow \
                    (.github/workflows/release.yml) builds the installers"
            .into());
    }
    setup::ensure_system_packages()?;
    ui::install()?;
    let packages = build()?;
    if check {
        self::check(&packages)?;
    }
    Ok(())
}

/// `cargo xtask prepare-bundle`: what the bundler packs besides the app (its
/// `beforeBundleCommand`, on every OS): the release `timing-cli`, and on Linux the Debian
/// changelog compressed as policy wants it (`changelog.gz` in the target's `release/`).
pub fn prepare_bundle() -> Result<(), String> {
    let mut cli = cargo();
    cli.args(["build", "--release", "--locked", "-p", "timing-cli"]);
    step("build timing-cli (release)", cli)?;
    if cfg!(target_os = "linux") {
        let gz = target_dir().join("release/changelog.gz");
        let file = std::fs::File::create(&gz)
            .map_err(|e| format!("prepare-bundle: create {}: {e}", gz.display()))?;
        let mut gzip = Command::new("gzip");
        // -n: no name or time stamp inside, so the package is reproducible.
        gzip.args(["-9", "-n", "-c"])
            .arg(root().join("src-tauri/packaging/changelog"))
            .stdout(file);
        step("compress the Debian changelog", gzip)?;
    }
    Ok(())
}

/// The release build and its `.deb` and `.rpm`, copied to `target/dist/`.
fn build() -> Result<Packages, String> {
    let version = tidy::workspace_version(&root())?;
    let mut bundle = Command::new(root().join("ui/node_modules/.bin/tauri"));
    // The bundler also runs the UI build and `cargo xtask prepare-bundle` (the
    // `beforeBuildCommand` / `beforeBundleCommand` of src-tauri/tauri.conf.json).
    bundle.args(["build", "--bundles", "deb,rpm", "--ci"]).current_dir(root()).env("CI", "true");
    if target_dir() != root().join("target") {
        // tauri.conf.json names the CLI and the changelog at ../target/release: follow
        // CARGO_TARGET_DIR (a JSON merge patch over just those entries).
        let at = |file: &str| {
            json_string(&target_dir().join("release").join(file).display().to_string())
        };
        let (cli, changelog) = (at("timing-cli"), at("changelog.gz"));
        let rpm = format!(r#"{{"files":{{"/usr/bin/timing-cli":{cli}}}}}"#);
        let deb = format!(
            r#"{{"files":{{"/usr/bin/timing-cli":{cli},"/usr/share/doc/rufus-timing-console/changelog.gz":{changelog}}}}}"#
        );
        let patch = format!(r#"{{"bundle":{{"linux":{{"deb":{deb},"rpm":{rpm}}}}}}}"#);
        bundle.args(["--config", &patch]);
    }
    step("tauri build (release app, .deb, .rpm)", bundle)?;

    let bundles = target_dir().join("release/bundle");
    let deb = newest(&bundles.join("deb"), "deb", &version)?;
    let rpm = newest(&bundles.join("rpm"), "rpm", &version)?;
    let dist = target_dir().join("dist");
    if dist.exists() {
        std::fs::remove_dir_all(&dist)
            .map_err(|e| format!("dist: clear {}: {e}", dist.display()))?;
    }
    std::fs::create_dir_all(&dist).map_err(|e| format!("dist: create {}: {e}", dist.display()))?;
    // The bundler names the files after the product ("RUFUS Timing Console_0.1.0_amd64.deb");
    // distributions name them after the package.
    let deb_name = output(
        Command::new("dpkg-deb")
            .args(["--showformat", "${Package}_${Version}_${Architecture}.deb", "-W"])
            .arg(&deb),
    )?;
    let rpm_name = output(
        Command::new("rpm")
            .args(["-qp", "--queryformat", "%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}.rpm"])
            .arg(&rpm),
    )?;
    let deb = copy(&deb, &dist.join(deb_name.trim()))?;
    let rpm = copy(&rpm, &dist.join(rpm_name.trim()))?;
    Ok(Packages { deb, rpm })
}

fn copy(from: &Path, to: &Path) -> Result<PathBuf, String> {
    std::fs::copy(from, to).map_err(|e| format!("dist: copy {}: {e}", from.display()))?;
    println!("::: dist: {} ({})", to.display(), megabytes(size(to)));
    Ok(to.to_path_buf())
}

/// Lint, inspect, install, run, remove.
fn check(p: &Packages) -> Result<(), String> {
    let started = Instant::now();
    let deb_size = size(&p.deb);
    if deb_size > DEB_LIMIT {
        return Err(format!(
            "dist: {} is {} (limit {})",
            p.deb.display(),
            megabytes(deb_size),
            megabytes(DEB_LIMIT)
        ));
    }
    let mut lintian = Command::new("lintian");
    lintian.args(["--fail-on", "error", "--info"]).arg(&p.deb);
    step("lintian (.deb)", lintian)?;
    check_rpm(&p.rpm)?;

    let package = output(Command::new("dpkg-deb").args(["-f"]).arg(&p.deb).arg("Package"))?;
    let package = package.trim().to_owned();
    let contents = deb_files(&p.deb)?;
    let before = system_files();
    let deb = absolute(&p.deb)?;
    let installed = setup::apt(&["install", "-y", "-qq", "--no-install-recommends", &deb]);
    let ran = installed.and_then(|()| run_installed(&tidy::workspace_version(&root())?));
    // Removed whatever happened, so that a failed check leaves this machine as it was.
    let removed = setup::apt(&["purge", "-y", "-qq", &package]);
    ran?;
    removed?;
    let left: Vec<&String> = contents.iter().filter(|f| Path::new(f).exists()).collect();
    if !left.is_empty() {
        return Err(format!("dist: after removing {package}, these stayed: {left:?}"));
    }
    let after = system_files();
    let new: Vec<&String> =
        after.difference(&before).filter(|f| !TRIGGER_CACHES.contains(&f.as_str())).collect();
    if !new.is_empty() {
        return Err(format!("dist: installing and removing {package} left new files: {new:?}"));
    }
    println!(
        "::: dist --check: {package}: .deb {}, .rpm {}; lint, install, run and removal took {:.1}s",
        megabytes(deb_size),
        megabytes(size(&p.rpm)),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The installed binaries: the CLI's version and an offline session open in a temporary data
/// directory, then the desktop app to its first screen through WebDriver.
fn run_installed(version: &str) -> Result<(), String> {
    let cli = "/usr/bin/timing-cli";
    let said = output(Command::new(cli).arg("--version"))?;
    if !said.contains(version) {
        return Err(format!("dist: `timing-cli --version` said {said:?}, not {version}"));
    }
    let data = std::env::temp_dir().join(format!("timing-dist-check-{}", std::process::id()));
    let opened = output(
        Command::new(cli)
            .arg("--data-dir")
            .arg(&data)
            // Nothing listens there: offline, as at a venue without internet.
            .args(["--api-url", "http://127.0.0.1:9/v0", "session", "open", "--alias", "check"]),
    );
    let _ = std::fs::remove_dir_all(&data);
    println!("::: installed timing-cli: {}; session open offline: {}", said.trim(), opened?.trim());

    let driver = desktop::ensure_tauri_driver()?;
    let mut e2e = cargo();
    e2e.args(["test", "--locked", "-p", "timing-drills", "--test", "e2e", "--"])
        .args(["--ignored", "--exact", "the_installed_app_reaches_its_first_screen", "--nocapture"])
        .env("TIMING_INSTALLED_APP", "/usr/bin/timing-console")
        .env("TAURI_DRIVER", driver);
    step("installed desktop app (WebDriver, Xvfb)", e2e)
}

/// `rpm -qip` / `-qlp` / `--requires`: the metadata, the files (both binaries, the desktop
/// entry) and the dependencies.
fn check_rpm(rpm: &Path) -> Result<(), String> {
    let info = output(Command::new("rpm").arg("-qip").arg(rpm))?;
    let files = output(Command::new("rpm").arg("-qlp").arg(rpm))?;
    let requires = output(Command::new("rpm").args(["-qp", "--requires"]).arg(rpm))?;
    println!("::: rpm -qip\n{info}::: rpm --requires\n{requires}");
    for wanted in ["/usr/bin/timing-console", "/usr/bin/timing-cli"] {
        if !files.lines().any(|l| l == wanted) {
            return Err(format!("dist: {} lacks {wanted}", rpm.display()));
        }
    }
    if !files.lines().any(|l| l.ends_with(".desktop")) {
        return Err(format!("dist: {} has no desktop entry", rpm.display()));
    }
    Ok(())
}

/// The files (not folders) a `.deb` installs.
fn deb_files(deb: &Path) -> Result<Vec<String>, String> {
    let listing = output(Command::new("dpkg-deb").arg("-c").arg(deb))?;
    Ok(listing
        .lines()
        .filter(|l| !l.starts_with('d'))
        .filter_map(|l| l.split_whitespace().nth(5))
        .map(|p| p.trim_start_matches('.').to_owned())
        .collect())
}

/// Every path below [`SYSTEM_DIRS`].
fn system_files() -> BTreeSet<String> {
    let mut find = Command::new("find");
    find.args(SYSTEM_DIRS).args(["-xdev", "-not", "-type", "d"]);
    match find.output() {
        Ok(out) => String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect(),
        Err(_) => BTreeSet::new(),
    }
}

/// The newest `*.{ext}` in `dir` whose name carries `version`.
fn newest(dir: &Path, ext: &str, version: &str) -> Result<PathBuf, String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("dist: no bundle folder {}: {e}", dir.display()))?;
    entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().contains(version)))
        .max_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
        .ok_or_else(|| format!("dist: no .{ext} of version {version} in {}", dir.display()))
}

/// `text` as a JSON string literal (xtask has no dependencies).
fn json_string(text: &str) -> String {
    let mut out = String::from('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn absolute(path: &Path) -> Result<String, String> {
    std::fs::canonicalize(path)
        .map(|p| p.display().to_string())
        .map_err(|e| format!("dist: {}: {e}", path.display()))
}

/// Runs `cmd`, returning its stdout; fails with its stderr.
fn output(cmd: &mut Command) -> Result<String, String> {
    let shown = format!("{cmd:?}");
    let out = cmd.output().map_err(|e| format!("dist: could not run {shown}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "dist: {shown} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_048_576.0)
}
