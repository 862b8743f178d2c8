//! Settings, the key and the input edges through Tauri's IPC on the mock runtime: a bad key or
//! URL is refused before anything is saved while the reader keeps producing passings; a good
//! key is applied in place (same readers, no gap in the reads); a bad setting stored by an
//! older version does not stop the next launch; `export_csv` refuses a path before writing
//! anything; a participants file travels as raw bytes in any encoding.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // tests stop loudly

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tauri::Manager;
use tauri::test::MockRuntime;
use timing_console::core::AppCore;
use timing_core::clock::{Clock, SystemClock};

/// Monotonic time, through the project's clock.
fn mono() -> Duration {
    SystemClock::new().monotonic()
}

struct Console {
    rt: tokio::runtime::Runtime,
    sim: rufus_cloud_sim::Sim,
    dir: tempfile::TempDir,
    _app: tauri::App<MockRuntime>,
    webview: tauri::WebviewWindow<MockRuntime>,
    core: Arc<AppCore>,
}

impl Console {
    /// A console on a fresh data directory (`prepare` may fill it first), talking to the
    /// simulator, with or without a key from the environment.
    fn start(with_key: bool, prepare: impl FnOnce(&Path)) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        let sim = rt
            .block_on(rufus_cloud_sim::Sim::start(rufus_cloud_sim::SimConfig::default()))
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        prepare(&data);
        let overrides =
            common::overrides(&data, Some(sim.base_url()), with_key.then(|| sim.admin_key()));
        let (app, webview) = common::start(overrides);
        let core = app.state::<Arc<AppCore>>().inner().clone();
        Self { rt, sim, dir, _app: app, webview, core }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn invoke(&self, cmd: &str, body: impl Into<tauri::ipc::InvokeBody>) -> Result<Value, Value> {
        common::invoke(&self.webview, cmd, body)
    }

    fn ok(&self, cmd: &str, body: Value) -> Value {
        self.invoke(cmd, body).unwrap_or_else(|e| panic!("{cmd}: {e}"))
    }

    /// Reads the reader "sim" has delivered so far (its own counter: a restarted reader would
    /// start again from 0).
    fn reader_reads(&self) -> i64 {
        let state = self.ok("app_state", json!({}));
        state["readers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "sim")
            .map_or(0, |r| r["reads"].as_i64().unwrap())
    }

    fn raw_reads(&self) -> u64 {
        self.rt.block_on(async {
            let guard = self.core.running().await;
            guard.as_ref().unwrap().station.capture().stats().borrow().raw_reads
        })
    }

    fn wait_for(&self, what: &str, mut done: impl FnMut() -> bool) {
        let end = mono() + Duration::from_secs(20);
        while !done() {
            assert!(mono() < end, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn stored(&self, key: &str) -> Option<String> {
        self.rt.block_on(async {
            let guard = self.core.running().await;
            guard.as_ref().unwrap().engine().store().setting(key).await.unwrap()
        })
    }

    /// Opens a session and starts a steady simulated reader (about 50 reads/s).
    fn capture_steadily(&self) {
        self.ok("session_open", json!({"alias": "10K"}));
        self.ok("reader_add", json!({"name": "sim", "spec": "sim:runners=100000,rate=50"}));
        self.wait_for("the first reads", || self.reader_reads() > 10);
    }

    fn stop(self) {
        self.rt.block_on(self.core.shutdown());
    }
}

/// Every file below `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path));
        }
        out.push(path);
    }
    out.sort();
    out
}

#[test]
fn a_bad_key_or_url_is_refused_before_saving_and_the_reader_keeps_producing_passings() {
    let c = Console::start(true, |_| {});
    c.capture_steadily();
    let settings_before = c.ok("app_state", json!({}))["settings"].clone();
    let key_before = c.ok("app_state", json!({}))["key"].clone();

    for bad in ["ror-abc def0123456789", "ror-clé0123456789abcdef"] {
        let e = c.invoke("api_key_set", json!({"key": bad})).unwrap_err();
        assert_eq!(e["code"], "invalid", "{e}");
        assert!(e["message"].as_str().unwrap().starts_with("api_key:"), "names the field: {e}");
        assert!(!e["message"].as_str().unwrap().contains(bad), "the key is never echoed: {e}");
    }
    assert!(!c.data().join("api-key").exists(), "no bad key was stored");

    let mut lan = settings_before.clone();
    lan["api_url"] = json!("http://192.168.1.50:8080/v0");
    let e = c.invoke("settings_set", json!({"settings": lan})).unwrap_err();
    assert_eq!(e["code"], "invalid", "{e}");
    assert!(e["message"].as_str().unwrap().starts_with("api_url:"), "names the field: {e}");
    let mut long_name = settings_before.clone();
    long_name["operator"] = json!("x".repeat(100));
    let e = c.invoke("settings_set", json!({"settings": long_name})).unwrap_err();
    assert!(e["message"].as_str().unwrap().starts_with("operator:"), "{e}");

    let state = c.ok("app_state", json!({}));
    assert_eq!(state["settings"], settings_before, "nothing changed");
    assert_eq!(state["key"], key_before);
    assert_eq!(state["sync"]["offline"], false, "sync still has its key");
    assert_eq!(c.stored("app_settings"), None, "nothing was saved");

    // The reader never stopped: its own counter went on from where it was.
    let reads = c.reader_reads();
    let raw = c.raw_reads();
    c.wait_for("more reads", || c.reader_reads() > reads + 20 && c.raw_reads() > raw + 20);
    let state = c.ok("app_state", json!({}));
    assert_eq!(state["readers"][0]["state"], "reading", "{}", state["readers"]);
    c.stop();
}

#[test]
fn a_new_key_and_new_settings_apply_in_place_without_a_gap_in_the_reads() {
    let c = Console::start(false, |_| {});
    c.capture_steadily();
    assert_eq!(c.ok("app_state", json!({}))["sync"]["offline"], true);

    // Sample the committed reads while the key and the settings change.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let core = c.core.clone();
        let handle = c.rt.handle().clone();
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut last = (mono(), 0_u64);
            let mut longest = Duration::ZERO;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let n = handle.block_on(async {
                    let guard = core.running().await;
                    guard.as_ref().map_or(0, |r| r.station.capture().stats().borrow().raw_reads)
                });
                if n > last.1 {
                    longest = longest.max(mono().saturating_sub(last.0));
                    last = (mono(), n);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            longest.max(mono().saturating_sub(last.0))
        })
    };
    let reads = c.reader_reads();
    let key = c.sim.add_key(rufus_cloud_sim::Access::ReadWrite, false);
    let storage = c.ok("api_key_set", json!({"key": format!("  {key}  ")}));
    assert_eq!(storage["kind"], "file", "file-only key store in tests: {storage}");
    assert!(c.reader_reads() >= reads, "the reader was not restarted (its counter went on)");

    let mut settings = c.ok("app_state", json!({}))["settings"].clone();
    settings["dedup_window_s"] = json!(2.5);
    settings["operator"] = json!("Ana");
    settings["station"] = json!("Finish");
    settings["api_url"] = json!(format!("{}/", c.sim.base_url()));
    let saved = c.ok("settings_set", json!({"settings": settings}));
    assert_eq!(saved["api_url"], c.sim.base_url(), "normalised");
    assert!(c.reader_reads() >= reads, "the reader was not restarted");
    let stored: Value = serde_json::from_str(&c.stored("app_settings").unwrap()).unwrap();
    assert_eq!(stored["operator"], "Ana");
    std::thread::sleep(Duration::from_millis(1000));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let longest = sampler.join().unwrap();
    assert!(longest < Duration::from_millis(800), "reads paused for {longest:?}");

    // The new key is used in place: bind, and the passings reach the cloud.
    let state = c.ok("app_state", json!({}));
    assert_eq!(state["sync"]["offline"], false);
    assert_eq!(state["readers"][0]["state"], "reading");
    c.ok(
        "device_bind",
        json!({"input": {"serial_number": "EDGE-1", "model": "console", "device_type": "custom",
                        "alias": null, "firmware": null}}),
    );
    c.wait_for("passings in the cloud", || {
        c.sim.snapshot().sessions.iter().map(|s| s.passings.len()).sum::<usize>() > 10
    });

    // Clearing the key stops sync, never capture.
    let raw = c.raw_reads();
    assert_eq!(c.ok("api_key_clear", json!({}))["kind"], "none");
    assert_eq!(c.ok("app_state", json!({}))["sync"]["offline"], true);
    c.wait_for("reads after the key was cleared", || c.raw_reads() > raw + 20);

    // Retry buttons answer (nothing to do here, but the commands exist and work).
    c.ok("sync_retry", json!({}));
    assert_eq!(c.ok("sync_retry_parked", json!({"sessionId": null})), json!(0));
    c.stop();
}

#[test]
fn a_bad_setting_stored_by_an_older_version_does_not_stop_the_next_launch() {
    let c = Console::start(false, |data| {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let store = timing_core::store::Store::open_in(data).await.unwrap();
            let old = json!({"api_url": "http://192.168.1.50/v0", "dedup_window_s": -3.0,
                "station": "Finish", "operator": "Ana", "time_display": "utc", "theme": "night",
                "scale": 9.0});
            store.set_setting("app_settings", &old.to_string()).await.unwrap();
            store.close().await;
        });
        std::fs::write(data.join("api-key"), "ror-with space").unwrap();
    });
    let state = c.ok("app_state", json!({}));
    let warnings: Vec<&str> =
        state["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect();
    for field in ["api_url", "scale", "dedup_window_s", "api_key"] {
        assert!(warnings.iter().any(|w| w.starts_with(field)), "{field}: {warnings:?}");
    }
    assert_eq!(state["settings"]["api_url"], c.sim.base_url(), "the override's URL");
    assert_eq!(state["settings"]["scale"], 1.0);
    assert_eq!(state["settings"]["dedup_window_s"], 5.0);
    assert_eq!(state["settings"]["operator"], "Ana", "usable values are kept");
    assert_eq!(state["key"]["kind"], "none", "the unusable key is not used");
    assert_eq!(state["sync"]["offline"], true);
    // …and the console records.
    c.ok("session_open", json!({"alias": null}));
    assert_eq!(c.ok("manual_mark", json!({"bibs": "5"}))["passings"][0]["bib"], "5");
    c.stop();
}

#[test]
fn export_refuses_a_path_as_kind_before_writing_anything() {
    let c = Console::start(false, |_| {});
    c.ok("session_open", json!({"alias": null}));
    c.ok("manual_mark", json!({"bibs": "1"}));
    let before = files(c.dir.path());
    for kind in ["../x", "../../x", "/tmp/x", "passings/../../x", ""] {
        // `what` is an enum of the command list: Tauri refuses anything else before the
        // command runs, naming the argument.
        let e = c.invoke("export_csv", json!({"what": kind})).unwrap_err();
        assert!(e.to_string().contains("`what`"), "{kind}: {e}");
    }
    assert_eq!(files(c.dir.path()), before, "nothing was created anywhere");
    assert!(!c.data().join("exports").exists(), "not even the exports folder");
    let path = c.ok("export_csv", json!({"what": "passings"}));
    let path = PathBuf::from(path.as_str().unwrap());
    assert_eq!(path.parent().unwrap(), c.data().join("exports"));
    assert!(std::fs::read_to_string(&path).unwrap().lines().count() >= 2);
    c.stop();
}

#[test]
fn participants_travel_as_raw_bytes_in_any_encoding() {
    let c = Console::start(false, |_| {});
    // Windows-1252, as Excel writes it: "Müller" with 0xFC, which is not UTF-8.
    let latin1: Vec<u8> =
        b"bib;chip;name\r\n7;E2000001;M\xfcller\r\n8;E2000002;Ol\xe9\r\n".to_vec();
    let report = c.ok("participants_import", latin1.into());
    assert_eq!(report["accepted"], 2, "{report}");
    assert_eq!(report["rejected"], json!([]));
    // UTF-16 LE with a BOM.
    let mut utf16 = vec![0xFF, 0xFE];
    for unit in "bib,chip,name\n9,E2000003,Zoë\n".encode_utf16() {
        utf16.extend_from_slice(&unit.to_le_bytes());
    }
    assert_eq!(c.ok("participants_import", utf16.into())["accepted"], 1);
    assert_eq!(c.ok("app_state", json!({}))["participants_loaded"], true);
    c.stop();
}
