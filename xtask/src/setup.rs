//! Installs what a fresh Debian/Ubuntu machine lacks, so that the README's two commands work
//! on a clean clone: idempotent, `sudo` only when not root, a clear message elsewhere.

use std::process::Command;

/// Debian packages the build and the tests need, each with the reason it is here.
const PACKAGES: &[(&str, &str)] = &[
    ("pkg-config", "finds system libraries for -sys crates"),
    ("build-essential", "C compiler and linker for crates that build C"),
    ("libudev-dev", "serial port discovery with USB descriptions (serialport)"),
    ("libwebkit2gtk-4.1-dev", "the desktop app's webview (Tauri 2 on Linux)"),
    ("libgtk-3-dev", "the desktop app's window toolkit"),
    (
        "libayatana-appindicator3-dev",
        "Tauri's tray support (the appindicator package Debian 12 ships)",
    ),
    ("librsvg2-dev", "icons in the desktop app"),
    ("libssl-dev", "TLS for crates that link OpenSSL in the Tauri tree"),
    ("libxdo-dev", "Tauri's keyboard shortcuts on X11"),
    ("file", "the Tauri bundler"),
    ("patchelf", "the Tauri bundler"),
    ("xvfb", "a display for the real app in tests and screenshots"),
    ("xauth", "Xvfb"),
    ("webkit2gtk-driver", "WebKitWebDriver: drives the real app in WebDriver tests"),
    ("chromium", "UI tests and the frame-time benchmark (Playwright with Debian's browser)"),
    ("imagemagick", "screenshots of the real app under Xvfb"),
    ("dbus", "a session bus for keychain tests"),
    ("gnome-keyring", "a Secret Service keychain for keychain tests"),
    ("lintian", "checks the .deb of `cargo xtask dist`"),
    ("rpm", "reads the .rpm of `cargo xtask dist` (rpm -qip / -qlp)"),
    ("python3-venv", "the workflow validator (check-jsonschema) in .ci-tools/venv"),
];

pub fn ensure_system_packages() -> Result<(), String> {
    let wanted: Vec<&str> = PACKAGES.iter().map(|(name, _)| *name).collect();
    if !Command::new("dpkg-query").arg("--version").output().is_ok_and(|o| o.status.success()) {
        println!(
            "::: setup: this is not a Debian/Ubuntu system; install the equivalents of these \
             packages yourself if the build fails: {}",
            wanted.join(" ")
        );
        return Ok(());
    }
    // A browser given by CHROMIUM_PATH (Ubuntu has no chromium .deb, only a snap) stands in
    // for Debian's chromium.
    let browser_given =
        std::env::var_os("CHROMIUM_PATH").is_some_and(|p| std::path::Path::new(&p).is_file());
    let mut missing: Vec<&str> = wanted
        .into_iter()
        .filter(|p| !(browser_given && *p == "chromium"))
        .filter(|p| !is_installed(p))
        .collect();
    // Node.js may come from elsewhere (nodesource, nvm): only install Debian's when none runs.
    if !Command::new("npm").arg("--version").output().is_ok_and(|o| o.status.success()) {
        missing.extend(["nodejs", "npm"]);
    }
    if missing.is_empty() {
        println!("::: setup: system packages present");
        return Ok(());
    }
    println!("::: setup: installing {}", missing.join(" "));
    apt(&["update", "-qq"])?;
    let mut install = vec!["install", "-y", "-qq", "--no-install-recommends"];
    install.extend(missing);
    apt(&install)
}

/// `apt-get <args>` non-interactively, through `sudo` when not root.
pub fn apt(args: &[&str]) -> Result<(), String> {
    let mut cmd = if is_root() {
        Command::new("apt-get")
    } else {
        let mut c = Command::new("sudo");
        c.arg("apt-get");
        c
    };
    cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
    let status = cmd.status().map_err(|e| format!("could not run apt-get: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`apt-get {}` failed ({status})", args.join(" ")))
    }
}

pub fn ensure_rust_components() -> Result<(), String> {
    let have = |sub: &str| {
        Command::new("cargo").args([sub, "--version"]).output().is_ok_and(|o| o.status.success())
    };
    if have("fmt") && have("clippy") {
        return Ok(());
    }
    println!("::: setup: adding rustfmt and clippy");
    let status = Command::new("rustup")
        .args(["component", "add", "rustfmt", "clippy"])
        .status()
        .map_err(|e| format!("setup: rustfmt/clippy missing and rustup unavailable: {e}"))?;
    if status.success() { Ok(()) } else { Err("setup: rustup component add failed".into()) }
}

fn is_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}
