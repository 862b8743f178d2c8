//! RUFUS Timing Console, the desktop app. Tauri stays at the edge: commands are a few lines
//! over `timing-core` (`commands/`), the live feed streams over a channel, low-rate status goes
//! out as events (`status.rs`), the API key lives in the OS keychain (`keystore.rs`). One
//! instance at a time (two must never write one database); window size and position are
//! remembered; dev builds use their own identifier and so their own data directory. Updates
//! (`updates.rs`) exist only in builds that name an update endpoint, and install only on a
//! person's click while the console is idle.

pub mod commands;
pub mod core;
pub mod keystore;
pub mod status;
pub mod updates;
pub mod views;

use std::process::ExitCode;
use std::sync::Arc;

use tauri::{Manager, Runtime};

use crate::core::{AppCore, Overrides};
use crate::updates::Updates;

/// Wires state, status events, the updater (only with an update endpoint) and commands onto a
/// builder (any runtime, so tests can use Tauri's mock runtime).
pub fn configure<R: Runtime>(
    builder: tauri::Builder<R>,
    overrides: Overrides,
) -> tauri::Builder<R> {
    let endpoint = updates::endpoint(overrides.update_endpoint.as_deref());
    let updates = Arc::new(Updates::new(endpoint, timing_core::clock::SystemClock::shared()));
    // No endpoint, no plugin: nothing in the app can reach an update server. The plugin's own
    // commands are not granted to the web view (capabilities): installing goes through
    // `update_install` and its idle check only.
    let builder = if updates.enabled() {
        builder.plugin(tauri_plugin_updater::Builder::new().build())
    } else {
        builder
    };
    builder
        .manage(updates.clone())
        .setup(move |app| {
            let dev = cfg!(debug_assertions);
            let data_dir = app.path().app_data_dir()?;
            let core = tauri::async_runtime::block_on(AppCore::start(data_dir, dev, overrides))?;
            app.manage(core.clone());
            app.manage(commands::Console { core: core.clone(), updates: updates.clone() });
            lighten_webview(app);
            tauri::async_runtime::spawn(status::run(app.handle().clone(), core, updates.clone()));
            tauri::async_runtime::spawn(updates::run(app.handle().clone(), updates));
            Ok(())
        })
        .invoke_handler(commands::handler())
}

/// On Linux, WebKitGTK's accelerated compositing roughly doubles the web process's memory
/// (software GL where there is no GPU) and buys nothing for a list-and-forms screen: turn it
/// off, as `WEBKIT_DISABLE_COMPOSITING_MODE=1` would, unless that variable says otherwise.
fn lighten_webview<R: Runtime>(app: &tauri::App<R>) {
    #[cfg(target_os = "linux")]
    if std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_none()
        && let Some(window) = app.get_webview_window("main")
    {
        let _ = window.with_webview(|webview| {
            use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt, WebViewExt};
            if let Some(settings) = webview.inner().settings() {
                settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
            }
        });
    }
    #[cfg(not(target_os = "linux"))]
    let _ = app;
}

/// Runs the desktop app.
pub fn run() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TIMING_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let mut context = tauri::generate_context!();
    if cfg!(debug_assertions) {
        // Dev builds get their own identifier, so their own data directory and keychain entry:
        // a developer's build never touches a real race's database.
        let id = format!("{}.dev", context.config().identifier);
        context.config_mut().identifier = id;
    }
    let builder = tauri::Builder::default()
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            // A second launch focuses the running console instead of opening the database twice.
            if let Some(window) = app.get_webview_window("main") {
                let _ = window.unminimize();
                let _ = window.set_focus();
            }
        }))
        .plugin(tauri_plugin_window_state::Builder::default().build());
    let app = match configure(builder, Overrides::from_env()).build(context) {
        Ok(app) => app,
        Err(e) => {
            eprintln!("error: the console could not start: {e}");
            return ExitCode::FAILURE;
        }
    };
    app.run(|handle, event| {
        if let tauri::RunEvent::Exit = event
            && let Some(core) = handle.try_state::<Arc<AppCore>>()
        {
            // Commit what the readers delivered before the process ends.
            tauri::async_runtime::block_on(core.shutdown());
        }
    });
    ExitCode::SUCCESS
}
