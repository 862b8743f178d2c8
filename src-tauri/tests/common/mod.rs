//! What the app's mock-runtime tests share: the app built by `configure()` on Tauri's mock
//! runtime with its setup run and a main webview, and a command invoked through the real IPC
//! layer (the UI's path: a command name and a body, answered with a value or `{code, message}`).
#![allow(dead_code, clippy::unwrap_used)] // each test file uses part of it; tests stop loudly

use serde_json::Value;
use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder};
use timing_console::core::Overrides;

/// Overrides for a test console on `data_dir` (the key kept in a file, never the keychain).
pub fn overrides(
    data_dir: &std::path::Path,
    api_url: Option<String>,
    api_key: Option<String>,
) -> Overrides {
    Overrides {
        data_dir: Some(data_dir.to_path_buf()),
        api_url,
        api_key,
        demo_reader: None,
        key_file_only: true,
        update_endpoint: None,
    }
}

/// The app on the mock runtime with `context`, its setup run, and its main webview.
pub fn start_with(
    overrides: Overrides,
    context: tauri::Context<MockRuntime>,
) -> (tauri::App<MockRuntime>, tauri::WebviewWindow<MockRuntime>) {
    let mut app = timing_console::configure(mock_builder(), overrides).build(context).unwrap();
    #[allow(deprecated)] // the documented way to run setup() on the mock runtime
    app.run_iteration(|_, _| {});
    let webview =
        tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();
    (app, webview)
}

/// The app on the mock runtime with the default mock context.
pub fn start(overrides: Overrides) -> (tauri::App<MockRuntime>, tauri::WebviewWindow<MockRuntime>) {
    start_with(overrides, tauri::test::mock_context(tauri::test::noop_assets()))
}

/// Invokes `cmd` with `body` as the UI does.
pub fn invoke(
    webview: &tauri::WebviewWindow<MockRuntime>,
    cmd: &str,
    body: impl Into<tauri::ipc::InvokeBody>,
) -> Result<Value, Value> {
    get_ipc_response(
        webview,
        tauri::webview::InvokeRequest {
            cmd: cmd.into(),
            callback: tauri::ipc::CallbackFn(0),
            error: tauri::ipc::CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: body.into(),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|r| r.deserialize::<Value>().unwrap())
}
