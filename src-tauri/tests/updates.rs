//! Updates through Tauri's IPC on the mock runtime: a build without an update endpoint has no
//! updater at all (status says off, install refuses, the plugin is not there); a build with one
//! finds an update on a loopback `latest.json` and refuses to install it with `busy` while a
//! session is open, without downloading anything.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // tests stop loudly

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tauri::Manager;
use tauri::test::MockRuntime;
use timing_console::core::{AppCore, Overrides};
use timing_console::updates::Updates;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Console {
    rt: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
    app: tauri::App<MockRuntime>,
    webview: tauri::WebviewWindow<MockRuntime>,
    core: Arc<AppCore>,
}

impl Console {
    /// A console without an API key (nothing syncs, no network) on a fresh data directory,
    /// built with this update endpoint and the committed `plugins` config of tauri.conf.json.
    fn start(update_endpoint: Option<String>) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let overrides = Overrides { update_endpoint, ..common::overrides(dir.path(), None, None) };
        let conf: Value = serde_json::from_str(
            &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tauri.conf.json"))
                .unwrap(),
        )
        .unwrap();
        let mut context = tauri::test::mock_context(tauri::test::noop_assets());
        context.config_mut().plugins.0.insert("updater".into(), conf["plugins"]["updater"].clone());
        let (app, webview) = common::start_with(overrides, context);
        let core = app.state::<Arc<AppCore>>().inner().clone();
        Self { rt, _dir: dir, app, webview, core }
    }

    fn invoke(&self, cmd: &str, body: Value) -> Result<Value, Value> {
        common::invoke(&self.webview, cmd, body)
    }

    fn ok(&self, cmd: &str, body: Value) -> Value {
        self.invoke(cmd, body).unwrap_or_else(|e| panic!("{cmd}: {e}"))
    }

    fn stop(self) {
        self.rt.block_on(self.core.shutdown());
    }
}

#[test]
fn a_build_without_an_update_endpoint_has_no_updater() {
    let console = Console::start(None);
    let status = console.ok("update_status", json!({}));
    assert_eq!(
        status,
        json!({
            "enabled": false, "current": env!("CARGO_PKG_VERSION"), "available": null,
            "notes": null, "can_install": false, "blocked_reason": null, "checked_at": null,
            "last_error": null, "installing": false, "installed": null
        }),
        "the Settings screen shows nothing about updates"
    );
    let e = console.invoke("update_install", json!({})).unwrap_err();
    assert_eq!(e["code"], "updates_disabled", "{e}");
    assert!(
        console.invoke("plugin:updater|check", json!({})).is_err(),
        "without an endpoint the updater plugin is not registered"
    );
    console.stop();
}

/// Requests the loopback update server answered, by path.
type Log = Arc<Mutex<Vec<String>>>;

/// Serves one `latest.json` announcing 9.9.9 (for every desktop platform) on 127.0.0.1.
async fn update_server() -> (String, Log) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let artefact = format!("{base}/RUFUS-Timing-Console_9.9.9.AppImage");
    let platform = json!({"url": artefact, "signature": "not-a-signature"});
    let mut platforms = serde_json::Map::new();
    for target in [
        "linux-x86_64",
        "linux-aarch64",
        "darwin-x86_64",
        "darwin-aarch64",
        "windows-x86_64",
        "windows-aarch64",
    ] {
        platforms.insert(target.into(), platform.clone());
    }
    let manifest = json!({
        "version": "9.9.9",
        "notes": "Faster sync after an outage.",
        "pub_date": "2026-05-01T08:00:00Z",
        "platforms": platforms,
    })
    .to_string();
    let log: Log = Arc::default();
    let seen = log.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else { return };
            let mut buf = vec![0u8; 8192];
            let n = stream.read(&mut buf).await.unwrap_or(0);
            let request = String::from_utf8_lossy(&buf[..n]).to_string();
            let path = request.split_whitespace().nth(1).unwrap_or("").to_owned();
            seen.lock().unwrap().push(path.clone());
            let (status, body) = if path == "/latest.json" {
                ("200 OK", manifest.clone())
            } else {
                ("404 Not Found", String::new())
            };
            let response = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes()).await;
            let _ = stream.shutdown().await;
        }
    });
    (format!("{base}/latest.json"), log)
}

#[test]
fn an_update_is_found_in_the_background_and_waits_for_an_idle_console() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let (endpoint, log) = rt.block_on(update_server());
    let console = Console::start(Some(endpoint));

    let before = console.ok("update_status", json!({}));
    assert_eq!(before["enabled"], true);
    assert_eq!(before["available"], Value::Null, "no check before the start-up delay");
    assert!(log.lock().unwrap().is_empty(), "start-up makes no update request: {log:?}");
    let e = console.invoke("update_install", json!({})).unwrap_err();
    assert_eq!(e["code"], "no_update", "{e}");

    // What the background task does after its delay.
    let updates = console.app.state::<Arc<Updates>>().inner().clone();
    let handle = console.app.handle().clone();
    rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(20), updates.check(&handle)).await.unwrap();
    });
    let found = console.ok("update_status", json!({}));
    assert_eq!(found["available"], "9.9.9", "{found}");
    assert_eq!(found["notes"], "Faster sync after an outage.");
    assert_eq!(found["last_error"], Value::Null);
    assert!(found["checked_at"].as_str().unwrap().ends_with('Z'), "{found}");
    assert_eq!(found["can_install"], true, "an idle console may install: {found}");
    assert_eq!(found["blocked_reason"], Value::Null);

    // A session opens: the button is disabled with the reason, and the command refuses on its
    // own (it does not trust what the screen showed).
    console.ok("session_open", json!({"alias": "10K"}));
    let busy = console.ok("update_status", json!({}));
    assert_eq!(busy["can_install"], false, "{busy}");
    assert_eq!(busy["blocked_reason"], "a session is open", "{busy}");
    let e = console.invoke("update_install", json!({})).unwrap_err();
    assert_eq!(e["code"], "busy", "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("close the session and let every passing sync first"),
        "{e}"
    );
    assert_eq!(
        *log.lock().unwrap(),
        ["/latest.json"],
        "one check, and nothing was downloaded while the session was open"
    );
    assert_eq!(console.ok("update_status", json!({}))["installing"], false);

    // A failed check (the venue went offline) keeps what was found and says why, quietly.
    drop(rt);
    let handle = console.app.handle().clone();
    console.rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(40), updates.check(&handle)).await.unwrap();
    });
    let offline = console.ok("update_status", json!({}));
    assert_eq!(offline["available"], "9.9.9", "{offline}");
    assert!(offline["last_error"].is_string(), "{offline}");
    console.stop();
}
