//! The real desktop app: building it with the UI embedded, installing tauri-driver for the
//! WebDriver tests, the demo of `cargo xtask run` (simulator + pre-bound console + simulated
//! reader), and `cargo xtask screenshots`.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use crate::{cargo, root, setup, step, target_dir, ui};

/// The app binary with the UI embedded.
fn app_binary() -> PathBuf {
    target_dir().join("debug/timing-console")
}

/// Builds the UI, then the app with the UI embedded (`custom-protocol`).
fn build_app() -> Result<PathBuf, String> {
    ui::build()?;
    let mut build = cargo();
    build.args(["build", "--locked", "-p", "timing-console", "--features", "custom-protocol"]);
    step("build the desktop app", build)?;
    Ok(app_binary())
}

fn tools_dir() -> PathBuf {
    root().join(".ci-tools")
}

/// tauri-driver 2 (WebDriver for Tauri apps), installed into `.ci-tools/` once.
pub fn ensure_tauri_driver() -> Result<PathBuf, String> {
    let path = tools_dir().join("bin/tauri-driver");
    if path.exists() {
        return Ok(path);
    }
    let mut install = cargo();
    install
        .args(["install", "tauri-driver", "--locked", "--version", "^2", "--root"])
        .arg(tools_dir());
    step("install tauri-driver", install)?;
    Ok(path)
}

/// The real app through WebDriver (tauri-driver + WebKitWebDriver under Xvfb).
pub fn webdriver_tests() -> Result<(), String> {
    let app = build_app()?;
    let driver = ensure_tauri_driver()?;
    let mut tests = cargo();
    tests
        .args([
            "test",
            "--locked",
            "-p",
            "timing-drills",
            "--test",
            "e2e",
            "--",
            "--ignored",
            "--test-threads",
            "1",
        ])
        .env("TIMING_APP", &app)
        .env("TAURI_DRIVER", &driver);
    step("desktop e2e (WebDriver, real app)", tests)
}

/// Screenshots of every screen of the real app with a live session.
pub fn screenshots(args: &[String]) -> Result<(), String> {
    setup::ensure_system_packages()?;
    let out = match args {
        [flag, dir, ..] if flag == "--out" => PathBuf::from(dir),
        [] => root().join("docs/screenshots"),
        _ => return Err("usage: cargo xtask screenshots [--out DIR]".into()),
    };
    let app = build_app()?;
    let driver = ensure_tauri_driver()?;
    let mut shots = cargo();
    shots
        .args(["run", "--locked", "-q", "-p", "timing-drills", "--bin", "screenshots", "--"])
        .arg("--out")
        .arg(&out)
        .arg("--app")
        .arg(&app)
        .env("TAURI_DRIVER", &driver);
    step("screenshots", shots)
}

/// The real app's figures: pty-line-to-feed-row latency and resident memory, under Xvfb.
pub fn bench() -> Result<(), String> {
    let app = build_app()?;
    let driver = ensure_tauri_driver()?;
    let mut bench = cargo();
    bench
        .args(["run", "--locked", "-q", "-p", "timing-drills", "--bin", "app-bench", "--", "--app"])
        .arg(&app)
        .env("TAURI_DRIVER", &driver);
    step("bench (real app)", bench)
}

/// Stops a child process when dropped.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `cargo xtask run`: the simulator, a console bound to it with a session open, and the app
/// with a simulated reader producing a realistic finish. No hardware, no key to type.
/// The demo's participant list: bibs 1…`runners` with names, categories and two waves (the
/// first 60 % run the 10K). Chips are the RUFUS FREE tag of the bib (its ASCII in hex, padded
/// to 96 bits), which is what the simulated finish reads (`timing_readers::transport::sim`).
fn demo_participants(runners: u32) -> String {
    const FIRST: [&str; 12] = [
        "Ana", "Ben", "Carmen", "David", "Elena", "Farid", "Greta", "Hugo", "Inés", "Jon", "Kai",
        "Lucía",
    ];
    const LAST: [&str; 10] = [
        "García",
        "Okafor",
        "Lindqvist",
        "Moreau",
        "Sato",
        "Novak",
        "Ruiz",
        "Byrne",
        "Costa",
        "Weber",
    ];
    const AGES: [&str; 6] = ["20", "30", "35", "40", "45", "50"];
    let pick =
        |list: &[&'static str], i: usize| list.get(i % list.len()).copied().unwrap_or_default();
    let mut csv = String::from("bib,chip,name,category,wave\n");
    for bib in 1..=runners {
        let i = bib as usize;
        let mut chip: String = bib.to_string().bytes().map(|b| format!("{b:02X}")).collect();
        while chip.len() < 24 {
            chip.push_str("00");
        }
        let name = format!("{} {}", pick(&FIRST, i * 7), pick(&LAST, i * 3 + i / 10));
        let category = format!("{}{}", if i % 9 < 4 { "F" } else { "M" }, pick(&AGES, i * 5));
        let wave = if bib * 10 <= runners * 6 { "10K" } else { "5K" };
        csv.push_str(&format!("{bib},{chip},{name},{category},{wave}\n"));
    }
    csv
}

pub fn run_demo(args: &[String]) -> Result<(), String> {
    setup::ensure_system_packages()?;
    let port = args.first().cloned().unwrap_or_else(|| "8787".into());
    let app = build_app()?;
    let mut build = cargo();
    build.args(["build", "--locked", "-q", "-p", "rufus-cloud-sim", "-p", "timing-cli"]);
    step("build the simulator and the CLI", build)?;

    let demo = root().join("target/demo");
    std::fs::create_dir_all(&demo).map_err(|e| format!("cannot create {}: {e}", demo.display()))?;
    let mut sim = Command::new(target_dir().join("debug/rufus-cloud-sim"))
        .args(["--port", &port, "--state-file"])
        .arg(demo.join("cloud-state.json"))
        .args(["--key", "ror-0000000000000000de70"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start the simulator: {e}"))?;
    let ready = sim
        .stdout
        .take()
        .and_then(|out| {
            BufReader::new(out).lines().map_while(Result::ok).find(|l| l.starts_with("READY "))
        })
        .ok_or("the simulator did not start (is the port free? try `cargo xtask run 8788`)")?;
    let sim = Guard(sim);
    let mut words = ready.split_whitespace().skip(1);
    let url = words.next().unwrap_or_default().to_owned();
    let key = words.next().and_then(|k| k.strip_prefix("KEY=")).unwrap_or_default().to_owned();
    println!("::: RUFUS simulator at {url} (key {key})");

    let data = demo.join("console");
    let cli = |args: &[&str]| -> Result<String, String> {
        let out = Command::new(target_dir().join("debug/timing-cli"))
            .arg("--data-dir")
            .arg(&data)
            .args(["--api-url", &url])
            .args(args)
            .env("RUFUS_API_KEY", &key)
            .output()
            .map_err(|e| format!("timing-cli: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
        }
    };
    if cli(&["device", "list"])?.contains("no device bound") {
        cli(&[
            "device",
            "bind",
            "--serial",
            "DEMO-CONSOLE-1",
            "--model",
            "RUFUS Timing Console",
            "--alias",
            "Finish",
        ])?;
    }
    if cli(&["status"])?.contains("(none open)") {
        cli(&["session", "open", "--alias", "Demo 10K"])?;
    }
    // A race to look at: 800 named runners in two waves, both started (the 10K 40 minutes
    // ago, the 5K 25), so names, categories, race times and counts show at once.
    let people = demo.join("participants.csv");
    std::fs::write(&people, demo_participants(800))
        .map_err(|e| format!("cannot write {}: {e}", people.display()))?;
    cli(&["import", "participants", &people.to_string_lossy()])?;
    if !cli(&["starts"])?.contains("10K") {
        for (wave, ago) in [("10K", "-2400s"), ("5K", "-1500s")] {
            cli(&["start", "--wave", wave])?;
            cli(&["start", "--wave", wave, "--nudge", ago])?;
        }
    }

    let mut cmd = Command::new(&app);
    cmd.env("TIMING_DATA_DIR", &data)
        .env("TIMING_API_URL", &url)
        .env("RUFUS_API_KEY", &key)
        .env("TIMING_DEMO_READER", "sim:runners=800,rate=2");
    let _xvfb = if std::env::var_os("DISPLAY").is_none()
        && std::env::var_os("WAYLAND_DISPLAY").is_none()
    {
        let display = ":77";
        println!("::: no display here: running the app on a virtual display {display} (Xvfb)");
        println!("    see it with `cargo xtask screenshots`, or run this from a desktop session");
        let xvfb = Command::new("Xvfb")
            .args([display, "-screen", "0", "1366x860x24", "-nolisten", "tcp"])
            .spawn()
            .map_err(|e| format!("cannot start Xvfb: {e}"))?;
        cmd.env("DISPLAY", display);
        Some(Guard(xvfb))
    } else {
        None
    };
    println!("::: starting RUFUS Timing Console (data in {})", data.display());
    let status = cmd.status().map_err(|e| format!("cannot start the app: {e}"))?;
    drop(sim);
    if status.success() { Ok(()) } else { Err(format!("the app exited with {status}")) }
}
