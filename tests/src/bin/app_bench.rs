//! `cargo xtask bench` (desktop part): the real app under Xvfb with a serial reader on a
//! pseudo-terminal — the latency from a line written to the reader to its row in the feed
//! (p50/p95/p99), and the resident memory of the app and its web view processes. A benchmark:
//! it reports what it measured and never fails on a goal.

// A benchmark reports on stdout and reads the wall clock to time what it measures.
#![allow(clippy::print_stdout, clippy::disallowed_methods)]

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rufus_cloud_sim::{Sim, SimConfig};
use serde_json::json;
use timing_core::clock::SystemClock;
use timing_core::{BindRequest, Engine, EngineConfig};
use timing_drills::desktop::{AppEnv, Desktop};

const LINES: u64 = 300;
const EVERY: Duration = Duration::from_millis(50);

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match bench().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("app bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(0))
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or(0)
}

async fn bench() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let app = args
        .iter()
        .position(|a| a == "--app")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from)
        .ok_or("--app PATH is required")?;

    let sim = Sim::start(SimConfig::default()).await.map_err(|e| e.to_string())?;
    let data = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut config = EngineConfig::new(data.path());
    config.api_url = Some(sim.base_url());
    config.api_key = Some(rufus_api::ApiKey::new(sim.admin_key()));
    let engine = Engine::open(config, SystemClock::shared()).await.map_err(|e| e.to_string())?;
    let bind = BindRequest {
        serial_number: "BENCH-CONSOLE".into(),
        model: "RUFUS Timing Console".into(),
        device_type: "custom".into(),
        alias: None,
        firmware: None,
        take_over: false,
    };
    engine.bind_device(bind).await.map_err(|e| e.to_string())?;
    engine.open_session(Some("bench")).await.map_err(|e| e.to_string())?;
    engine.store().close().await;
    drop(engine);

    // A serial reader sending one bib per line, on a pseudo-terminal.
    let (mut master, slave) = serialport::TTYPort::pair().map_err(|e| format!("pty: {e}"))?;
    let slave_path = serialport::SerialPort::name(&slave).ok_or("the pty has no name")?;
    drop(slave);
    let env = AppEnv {
        data_dir: data.path().to_path_buf(),
        api_url: Some(sim.base_url()),
        api_key: Some(sim.admin_key()),
        demo_reader: Some(format!("serial:{slave_path}?protocol=lines&baud=115200")),
    };
    let desktop = Desktop::launch(&app, &env).await?;
    let s = &desktop.session;
    s.by_test_id("feed", Duration::from_secs(30)).await.map_err(|e| e.to_string())?;
    tokio::time::sleep(Duration::from_secs(3)).await; // the reader connects
    s.execute(
        "window.__seen = {};
         const mark = () => { for (const r of document.querySelectorAll('[data-testid=\"feed-row\"]')) {
             const b = r.dataset.bib; if (b && !(b in window.__seen)) window.__seen[b] = Date.now(); } };
         new MutationObserver(mark).observe(document.body, {subtree: true, childList: true, attributes: true});
         return true;",
        json!([]),
    )
    .await
    .map_err(|e| e.to_string())?;

    let mut written: HashMap<String, i64> = HashMap::new();
    for i in 0..LINES {
        let bib = format!("{}", 70_000 + i);
        master.write_all(format!("{bib}\r\n").as_bytes()).map_err(|e| format!("pty write: {e}"))?;
        written.insert(bib, now_ms());
        tokio::time::sleep(EVERY).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let seen = s.execute("return window.__seen;", json!([])).await.map_err(|e| e.to_string())?;
    let mut latencies: Vec<i64> = written
        .iter()
        .filter_map(|(bib, at)| seen.get(bib).and_then(serde_json::Value::as_i64).map(|t| t - at))
        .collect();
    latencies.sort_unstable();
    let missing = written.len() - latencies.len();
    let (rss_mb, pss_mb) = resident_mb(&app);
    let (p50, p95, p99) =
        (percentile(&latencies, 0.5), percentile(&latencies, 0.95), percentile(&latencies, 0.99));
    println!(
        "| real app: line on a pty reader → row in the feed | p50 {p50} ms, p95 {p95} ms, p99 {p99} ms | p99 < 100 ms | {} | {} lines at {}/s through a serial `lines` reader on a pseudo-terminal, committed, coalesced and drawn; {missing} not seen |",
        if p99 < 100 && missing == 0 { "yes" } else { "NO" },
        LINES,
        1000 / EVERY.as_millis()
    );
    println!(
        "| real app: resident memory | {pss_mb:.0} MB (PSS); {rss_mb:.0} MB summed RSS | < 300 MB | {} | the app and its WebKit web and network processes after {} passings; PSS shares each shared page among the processes that map it, summed RSS counts shared libraries once per process |",
        if pss_mb < 300.0 { "yes" } else { "NO" },
        LINES
    );
    s.clone().quit().await.ok();
    drop(desktop);
    sim.shutdown().await;
    Ok(())
}

/// Proportional set size of a process, kB (`/proc/PID/smaps_rollup`).
fn pss_kb(pid: u32) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("Pss:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// (summed VmRSS, summed PSS) of the app process and all its descendants, in MB.
fn resident_mb(app: &std::path::Path) -> (f64, f64) {
    let Ok(entries) = std::fs::read_dir("/proc") else { return (0.0, 0.0) };
    let mut parent: HashMap<u32, u32> = HashMap::new();
    let mut rss: HashMap<u32, u64> = HashMap::new();
    let mut roots = Vec::new();
    let app_text = app.display().to_string();
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let status = std::fs::read_to_string(entry.path().join("status")).unwrap_or_default();
        for line in status.lines() {
            if let Some(v) = line.strip_prefix("PPid:") {
                parent.insert(pid, v.trim().parse().unwrap_or(0));
            }
            if let Some(v) = line.strip_prefix("VmRSS:") {
                rss.insert(pid, v.trim().trim_end_matches("kB").trim().parse().unwrap_or(0));
            }
        }
        let cmdline = std::fs::read_to_string(entry.path().join("cmdline")).unwrap_or_default();
        if cmdline.split('\0').next() == Some(app_text.as_str()) {
            roots.push(pid);
        }
    }
    let (mut total_kb, mut pss_total_kb) = (0, 0);
    for (&pid, &kb) in &rss {
        let mut p = pid;
        for _ in 0..64 {
            if roots.contains(&p) {
                total_kb += kb;
                pss_total_kb += pss_kb(pid);
                break;
            }
            match parent.get(&p) {
                Some(&pp) if pp > 1 => p = pp,
                _ => break,
            }
        }
    }
    (total_kb as f64 / 1024.0, pss_total_kb as f64 / 1024.0)
}
