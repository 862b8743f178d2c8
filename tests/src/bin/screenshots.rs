//! `cargo xtask screenshots [--out DIR]`: every screen of the real app, with a live session
//! fed by a simulated reader and syncing to the bundled simulator, saved as PNG files.

// A command-line tool that reports on stdout.
#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::time::Duration;

use rufus_cloud_sim::{Sim, SimConfig};
use timing_core::clock::SystemClock;
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
    s.clone().quit().await.ok();
    drop(desktop);
    sim.shutdown().await;
    Ok(())
}
