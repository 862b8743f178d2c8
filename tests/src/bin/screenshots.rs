//! `cargo xtask screenshots [--out DIR]`: every screen of the real app at 1366×768, with a race
//! in progress (named runners in two started waves) fed by a simulated reader and syncing to the
//! bundled simulator, and the announcer window, saved as PNG files.

// A command-line tool that reports on stdout.
#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::time::Duration;

use rufus_cloud_sim::{Sim, SimConfig};
use timing_core::clock::SystemClock;
use timing_core::starts::StartRequest;
use timing_core::{BindRequest, Engine, EngineConfig};
use timing_drills::desktop::{AppEnv, Desktop};

const SCREENS: &[(&str, &str)] = &[
    ("nav-console", "console"),
    ("nav-devices", "devices"),
    ("nav-sessions", "sessions"),
    ("nav-readers", "readers"),
    ("nav-settings", "settings"),
];

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match take().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("screenshots: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn take() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg =
        |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let out = PathBuf::from(arg("--out").ok_or("--out DIR is required")?);
    let app = PathBuf::from(arg("--app").ok_or("--app PATH is required")?);
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;

    // A console bound to the simulator with a session open, as on race morning.
    let sim = Sim::start(SimConfig::default()).await.map_err(|e| e.to_string())?;
    let data = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut config = EngineConfig::new(data.path());
    config.api_url = Some(sim.base_url());
    config.api_key = Some(rufus_api::ApiKey::new(sim.admin_key()));
    let engine = Engine::open(config, SystemClock::shared()).await.map_err(|e| e.to_string())?;
    let bind = BindRequest {
        serial_number: "FINISH-CONSOLE-1".into(),
        model: "RUFUS Timing Console".into(),
        device_type: "custom".into(),
        alias: Some("Finish line".into()),
        firmware: Some(env!("CARGO_PKG_VERSION").into()),
        take_over: false,
    };
    engine.bind_device(bind).await.map_err(|e| e.to_string())?;
    engine.open_session(Some("City 10K")).await.map_err(|e| e.to_string())?;
    // A race in progress: named runners in two waves, the 10K started 40 minutes ago and the
    // 5K 25 minutes ago.
    let csv = timing_drills::race::participants_csv(600);
    engine.import_participants_from(csv.as_bytes()).await.map_err(|e| e.to_string())?;
    let now = timing_core::clock::Clock::now(&SystemClock::new());
    for (wave, ago) in [("10K", 40), ("5K", 25)] {
        let at = now - chrono::Duration::minutes(ago);
        engine.start_wave(wave, StartRequest::Exact(at)).await.map_err(|e| e.to_string())?;
    }
    engine.store().close().await;
    drop(engine);

    let env = AppEnv {
        data_dir: data.path().to_path_buf(),
        api_url: Some(sim.base_url()),
        api_key: Some(sim.admin_key()),
        demo_reader: Some("sim:runners=600,rate=4,seed=11".into()),
    };
    let desktop = Desktop::launch(&app, &env).await?;
    let s = &desktop.session;
    s.set_size(1366, 768).await.map_err(|e| e.to_string())?;
    // Let a finish build up: passings arrive, some are typed by hand, the outbox drains.
    tokio::time::sleep(Duration::from_secs(12)).await;
    for (nav, name) in SCREENS {
        s.by_test_id(nav, Duration::from_secs(20))
            .await
            .map_err(|e| e.to_string())?
            .click()
            .await
            .map_err(|e| e.to_string())?;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let png = s.screenshot().await.map_err(|e| e.to_string())?;
        let path = out.join(format!("{name}.png"));
        std::fs::write(&path, png).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        println!("{}", path.display());
    }
    // The announcer window, for a second screen, showing the latest finishers.
    let main_window = s.window().await.map_err(|e| e.to_string())?;
    s.by_test_id("nav-console", Duration::from_secs(20))
        .await
        .map_err(|e| e.to_string())?
        .click()
        .await
        .map_err(|e| e.to_string())?;
    s.by_test_id("open-announcer", Duration::from_secs(20))
        .await
        .map_err(|e| e.to_string())?
        .click()
        .await
        .map_err(|e| e.to_string())?;
    let mut announcer = None;
    for _ in 0..100 {
        let handles = s.windows().await.map_err(|e| e.to_string())?;
        announcer = handles.into_iter().find(|h| *h != main_window);
        if announcer.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let announcer = announcer.ok_or("the announcer window did not open")?;
    s.switch_to(&announcer).await.map_err(|e| e.to_string())?;
    s.set_size(1366, 768).await.map_err(|e| e.to_string())?;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let png = s.screenshot().await.map_err(|e| e.to_string())?;
    let path = out.join("announcer.png");
    std::fs::write(&path, png).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("{}", path.display());
    s.switch_to(&main_window).await.map_err(|e| e.to_string())?;
    s.clone().quit().await.ok();
    drop(desktop);
    sim.shutdown().await;
    Ok(())
}
