//! The app's commands through Tauri's real IPC layer on the mock runtime (no display, no
//! webview): a real SQLite file in a temp dir and the simulator over HTTP. Proves the command
//! names, the argument names the UI sends (camelCase) and the `{code, message}` error shape.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests stop loudly

mod common;

use common::invoke;
use serde_json::{Value, json};
use tauri::Manager;

#[test]
fn commands_work_end_to_end_on_the_mock_runtime() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let sim =
        rt.block_on(rufus_cloud_sim::Sim::start(rufus_cloud_sim::SimConfig::default())).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (app, webview) =
        common::start(common::overrides(dir.path(), Some(sim.base_url()), Some(sim.admin_key())));

    // Errors cross as {code, message}.
    let e = invoke(&webview, "session_close", json!({})).unwrap_err();
    assert_eq!(e["code"], "no_open_session", "{e}");
    assert!(e["message"].as_str().unwrap().contains("no session is open"));

    let device = invoke(
        &webview,
        "device_bind",
        json!({"input": {"serial_number": "IPC-1", "model": "console", "device_type": "custom", "alias": "Finish", "firmware": null}}),
    )
    .unwrap();
    assert_eq!(device["serial_number"], "IPC-1");
    let session = invoke(&webview, "session_open", json!({"alias": "10K"})).unwrap();
    assert_eq!(session["state"], "opening");

    let pressed = timing_core::clock::Clock::now(&timing_core::clock::SystemClock::new())
        - chrono::Duration::milliseconds(700);
    let entry = invoke(
        &webview,
        "manual_mark",
        json!({"bibs": "7, 12", "pressedAt": pressed.timestamp_millis(), "confirmed": null}),
    )
    .unwrap();
    assert_eq!(entry["passings"].as_array().unwrap().len(), 2);
    assert_eq!(entry["time_warning"], Value::Null);
    let at =
        chrono::DateTime::parse_from_rfc3339(entry["passings"][0]["timestamp"].as_str().unwrap())
            .unwrap();
    assert_eq!(
        at.timestamp_millis(),
        pressed.timestamp_millis(),
        "the passing carries the key press time, not the time the command ran"
    );
    let bad = invoke(&webview, "manual_mark", json!({"bibs": "7x!"})).unwrap_err();
    assert_eq!(bad["code"], "invalid");
    let many: Vec<String> = (100..151).map(|b| b.to_string()).collect();
    let e = invoke(&webview, "manual_mark", json!({"bibs": many.join(",")})).unwrap_err();
    assert_eq!(e["code"], "confirmation_required", "51 bibs ask first: {e}");

    let corrected = invoke(
        &webview,
        "passing_correct",
        json!({"num": 1, "change": {"kind": "set_bib", "bib": "71"}, "reason": "misread"}),
    )
    .unwrap();
    assert_eq!(corrected["correction"]["new_value"], "71");

    let reader =
        invoke(&webview, "reader_add", json!({"name": "sim", "spec": "sim:runners=5,rate=0"}))
            .unwrap();
    assert_eq!(reader["protocol"], "lines", "the simulated finish speaks lines");

    // The sync engine runs in the background: the cloud gets the passings.
    let core = app.state::<std::sync::Arc<timing_console::core::AppCore>>().inner().clone();
    rt.block_on(async {
        for _ in 0..200 {
            let sent = sim.snapshot().sessions.iter().map(|s| s.passings.len()).sum::<usize>();
            if sent >= 7 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the passings never reached the simulator");
    });

    let state = invoke(&webview, "app_state", json!({})).unwrap();
    assert_eq!(state["device"]["serial_number"], "IPC-1");
    assert_eq!(state["session"]["alias"], "10K");
    assert_eq!(state["readers"][0]["name"], "sim");
    let feed = invoke(&webview, "feed_page", json!({"before": null, "limit": 50})).unwrap();
    assert_eq!(feed.as_array().unwrap().len(), 7, "2 manual + 5 simulated runners");
    let audit = invoke(
        &webview,
        "passing_audit",
        json!({"passingId": corrected["correction"]["passing_id"]}),
    )
    .unwrap();
    assert_eq!(audit[0]["reason"], "misread");

    // A key press time the host clock cannot vouch for: stamped now, and the UI is told why.
    let stale = timing_core::clock::Clock::now(&timing_core::clock::SystemClock::new())
        - chrono::Duration::minutes(10);
    let old = invoke(&webview, "manual_stamp", json!({"pressedAt": stale.to_rfc3339()})).unwrap();
    assert!(old["time_warning"].as_str().unwrap().contains("too old"), "{old}");
    invoke(&webview, "manual_undo", json!({})).unwrap();
    rt.block_on(core.shutdown());
}

/// Every command of `timing_ipc::with_commands!` (which the UI's hosts implement) is registered:
/// none answers "not found". Arguments are left out, so most refuse them; none may be unknown.
#[test]
fn every_documented_command_is_registered() {
    let dir = tempfile::tempdir().unwrap();
    let (app, webview) = common::start(common::overrides(dir.path(), None, None));
    let names = timing_ipc::COMMAND_NAMES;
    assert!(names.contains(&"update_status") && names.len() > 30, "{names:?}");
    for name in names {
        if let Err(e) = invoke(&webview, name, json!({})) {
            assert_ne!(e, json!(format!("Command {name} not found")), "{name} is not registered");
        }
    }
    assert_eq!(
        invoke(&webview, "no_such_command", json!({})).unwrap_err(),
        json!("Command no_such_command not found"),
        "the check above can fail"
    );
    let core = app.state::<std::sync::Arc<timing_console::core::AppCore>>().inner().clone();
    tauri::async_runtime::block_on(core.shutdown());
}

/// The race commands from the list: waves from the participants file, a start stamped at the
/// key press, race times in the feed, the bib preview, counts, the not-yet-seen list, and a
/// restart that keeps the false start in the log.
#[test]
fn a_wave_starts_and_the_feed_shows_race_times_and_names() {
    let dir = tempfile::tempdir().unwrap();
    let (app, webview) = common::start(common::overrides(dir.path(), None, None));
    let csv = "chip,bib,name,category,wave\nA1,1,Ana García,F40,10K\nA2,2,Ben Ode,M35,10K\nA3,3,Cy Lee,M20,5K\n";
    let report = invoke(&webview, "participants_import", json!(csv.as_bytes())).unwrap();
    assert_eq!(report["accepted"], 3, "{report}");
    invoke(&webview, "session_open", json!({"alias": "race"})).unwrap();
    let race = invoke(&webview, "race_state", json!({})).unwrap();
    let waves: Vec<&str> =
        race["waves"].as_array().unwrap().iter().map(|w| w["wave"].as_str().unwrap()).collect();
    assert_eq!(waves, ["10K", "5K"], "{race}");
    assert_eq!(race["counts"]["on_course"], 3);

    let gun = timing_core::clock::Clock::now(&timing_core::clock::SystemClock::new())
        - chrono::Duration::milliseconds(10_000);
    let how = json!({"kind": "now", "pressed_at": gun.timestamp_millis()});
    let race = invoke(&webview, "race_start", json!({"wave": "10K", "how": how})).unwrap();
    let ten = &race["waves"][0];
    assert_eq!((ten["start_kind"].as_str(), ten["runners"].as_i64()), (Some("stamp"), Some(2)));
    let again = invoke(&webview, "race_start", json!({"wave": "10K", "how": how})).unwrap_err();
    assert_eq!(again["code"], "conflict", "a second press does not restart: {again}");

    let preview = invoke(&webview, "runner_preview", json!({"bib": "1"})).unwrap();
    assert_eq!(
        (preview["name"].as_str(), preview["status"].as_str()),
        (Some("Ana García"), Some("known"))
    );
    assert_eq!(
        invoke(&webview, "runner_preview", json!({"bib": "3"})).unwrap()["status"],
        "not_started"
    );
    invoke(&webview, "manual_mark", json!({"bibs": "1"})).unwrap();
    let feed = invoke(&webview, "feed_page", json!({"before": null, "limit": 10})).unwrap();
    let row = &feed[0];
    assert_eq!((row["name"].as_str(), row["wave"].as_str()), (Some("Ana García"), Some("10K")));
    let race_ms = row["race_time_ms"].as_i64().unwrap();
    assert!((10_000..20_000).contains(&race_ms), "race time since the key press: {race_ms}");
    assert_eq!(
        invoke(&webview, "runner_preview", json!({"bib": "1"})).unwrap()["status"],
        "finished"
    );
    let race = invoke(&webview, "race_state", json!({})).unwrap();
    assert_eq!(
        (race["counts"]["finished"].as_i64(), race["counts"]["on_course"].as_i64()),
        (Some(1), Some(2))
    );
    let unseen =
        invoke(&webview, "runners_not_seen", json!({"search": "lee", "limit": 10})).unwrap();
    assert_eq!(unseen.as_array().unwrap().len(), 1, "{unseen}");
    assert_eq!(unseen[0]["bib"], "3");

    let race = invoke(
        &webview,
        "race_start",
        json!({"wave": "10K", "how": {"kind": "restart", "pressed_at": null}}),
    )
    .unwrap();
    let kinds: Vec<&str> =
        race["log"].as_array().unwrap().iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["stamp", "restart"], "the false start stays in the log");
    let bad = invoke(
        &webview,
        "race_start",
        json!({"wave": "5K", "how": {"kind": "nudge", "seconds": 1e9}}),
    );
    assert_eq!(bad.unwrap_err()["code"], "invalid");
    let core = app.state::<std::sync::Arc<timing_console::core::AppCore>>().inner().clone();
    tauri::async_runtime::block_on(core.shutdown());
}

/// The announcer window reads what it shows and can change nothing: its commands are refused
/// by the backend whatever the web view asks.
#[test]
fn the_announcer_window_may_only_read() {
    let dir = tempfile::tempdir().unwrap();
    let (app, main) = common::start(common::overrides(dir.path(), None, None));
    let announcer =
        tauri::WebviewWindowBuilder::new(&app, "announcer", Default::default()).build().unwrap();
    invoke(&main, "session_open", json!({"alias": null})).unwrap();
    assert!(invoke(&announcer, "app_state", json!({})).unwrap()["session"].is_object());
    assert!(invoke(&announcer, "race_state", json!({})).is_ok());
    assert!(invoke(&announcer, "feed_page", json!({"before": null, "limit": 5})).is_ok());
    for (cmd, args) in [
        ("manual_mark", json!({"bibs": "5"})),
        ("session_close", json!({})),
        ("race_start", json!({"wave": "", "how": {"kind": "now", "pressed_at": null}})),
    ] {
        let e = invoke(&announcer, cmd, args).unwrap_err();
        assert_eq!(e["code"], "not_found", "{cmd}: {e}");
    }
    assert!(
        invoke(&main, "feed_page", json!({"before": null, "limit": 5}))
            .unwrap()
            .as_array()
            .unwrap()
            .is_empty(),
        "nothing was marked"
    );
    let core = app.state::<std::sync::Arc<timing_console::core::AppCore>>().inner().clone();
    tauri::async_runtime::block_on(core.shutdown());
}
