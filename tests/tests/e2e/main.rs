//! The real desktop app driven through WebDriver (tauri-driver + WebKitWebDriver under Xvfb):
//! bind a device, open a session, simulated reads in the feed, manual entry in all three
//! modes, a correction, the passings in the simulator's state, and closing the session.
//!
//! These need the app built with the UI embedded, Xvfb and tauri-driver, so they are
//! `#[ignore]`d in a plain `cargo test`; `cargo xtask test` builds everything and runs them
//! with `--ignored` (`TIMING_APP` names the app binary).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests stop loudly

use std::path::PathBuf;
use std::time::Duration;

use rufus_cloud_sim::{Sim, SimConfig};
use timing_drills::desktop::{AppEnv, Desktop};
use timing_drills::webdriver::{ENTER, Session};

const WAIT: Duration = Duration::from_secs(20);

fn app() -> PathBuf {
    std::env::var_os("TIMING_APP").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/debug/timing-console")
    })
}

async fn feed_has_bib(s: &Session, bib: &str) -> bool {
    s.count(&format!("[data-testid=\"feed-row\"][data-bib=\"{bib}\"]")).await.unwrap_or(0) > 0
}

async fn wait_bib(s: &Session, bib: &str) {
    for _ in 0..100 {
        if feed_has_bib(s, bib).await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("bib {bib} never appeared in the feed");
}

async fn type_manual(s: &Session, text: &str) {
    let input = s.by_test_id("manual-input", WAIT).await.unwrap();
    input.click().await.unwrap();
    input.send_keys(text).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the built app, Xvfb and tauri-driver: run by `cargo xtask test`"]
async fn a_race_from_bind_to_close_in_the_real_app() {
    tokio::time::timeout(Duration::from_secs(240), async {
        let sim = Sim::start(SimConfig { dedup: false, ..SimConfig::default() }).await.unwrap();
        let data = tempfile::tempdir().unwrap();
        let env = AppEnv {
            data_dir: data.path().to_path_buf(),
            api_url: Some(sim.base_url()),
            api_key: Some(sim.admin_key()),
            demo_reader: Some("sim:runners=400,rate=3,seed=5".into()),
        };
        let desktop = Desktop::launch(&app(), &env).await.unwrap();
        let s = &desktop.session;

        // Bind a device.
        s.by_test_id("nav-devices", WAIT).await.unwrap().click().await.unwrap();
        s.by_test_id("bind-serial", WAIT).await.unwrap().send_keys("E2E-CONSOLE-1").await.unwrap();
        s.by_test_id("bind-model", WAIT).await.unwrap().send_keys("RUFUS Timing Console").await.unwrap();
        s.by_test_id("bind-submit", WAIT).await.unwrap().click().await.unwrap();
        s.wait_until(
            "the bound device",
            "return (document.querySelector('[data-testid=\"device-current\"]')?.textContent ?? '').includes('E2E-CONSOLE-1')",
            WAIT,
        )
        .await
        .unwrap();
        assert_eq!(sim.snapshot().devices.len(), 1, "bound in the cloud");

        // Open a session.
        s.by_test_id("nav-console", WAIT).await.unwrap().click().await.unwrap();
        s.by_test_id("session-alias", WAIT).await.unwrap().send_keys("E2E 10K").await.unwrap();
        s.by_test_id("session-open", WAIT).await.unwrap().click().await.unwrap();
        s.wait_until(
            "recording",
            "return document.querySelector('[data-testid=\"recording-indicator\"]')?.dataset.state === 'recording'",
            WAIT,
        )
        .await
        .unwrap();

        // Simulated reads appear in the feed.
        s.wait_until(
            "simulated reads in the feed",
            "return document.querySelectorAll('[data-testid=\"feed-row\"]').length >= 3",
            Duration::from_secs(30),
        )
        .await
        .unwrap();

        // Manual entry, mode 1: bib then Enter.
        s.by_test_id("manual-mode-bib", WAIT).await.unwrap().click().await.unwrap();
        type_manual(s, &format!("901{ENTER}")).await;
        wait_bib(s, "901").await;

        // Mode 2: Space stamps, then the bib goes to the oldest waiting stamp.
        s.by_test_id("manual-mode-time", WAIT).await.unwrap().click().await.unwrap();
        type_manual(s, " ").await;
        type_manual(s, &format!("902{ENTER}")).await;
        wait_bib(s, "902").await;

        // Mode 3: typed ahead, Space records the first queued bib.
        s.by_test_id("manual-mode-queue", WAIT).await.unwrap().click().await.unwrap();
        type_manual(s, &format!("903{ENTER}")).await;
        s.wait_until(
            "903 queued",
            "return (document.querySelector('[data-testid=\"queued-bibs\"]')?.textContent ?? '').includes('903')",
            WAIT,
        )
        .await
        .unwrap();
        type_manual(s, " ").await;
        wait_bib(s, "903").await;

        // A correction: 901 was a misread of 911.
        s.find("[data-testid=\"feed-row\"][data-bib=\"901\"]", WAIT).await.unwrap().click().await.unwrap();
        let bib = s.by_test_id("correct-bib", WAIT).await.unwrap();
        bib.clear().await.unwrap();
        bib.send_keys("911").await.unwrap();
        s.by_test_id("correct-reason", WAIT).await.unwrap().send_keys("misread").await.unwrap();
        s.by_test_id("correct-submit", WAIT).await.unwrap().click().await.unwrap();
        wait_bib(s, "911").await;

        // Everything reaches the simulator.
        s.wait_until(
            "the outbox drains",
            "return document.querySelector('[data-testid=\"sync-pill\"]')?.dataset.pending === '0'",
            Duration::from_secs(60),
        )
        .await
        .unwrap();
        let snapshot = sim.snapshot();
        let session = snapshot.sessions.iter().find(|x| x.active).expect("the session is in the cloud");
        let bibs: Vec<&str> = session.passings.iter().map(|p| p.bib.as_str()).collect();
        for bib in ["902", "903"] {
            assert!(bibs.contains(&bib), "{bib} reached the cloud: {bibs:?}");
        }
        assert!(bibs.contains(&"911") || bibs.contains(&"901"), "the corrected passing reached the cloud");
        let nums: std::collections::HashSet<u64> = session.received.iter().copied().collect();
        assert_eq!(nums.len(), session.received.len(), "nothing sent twice");

        // Close the session.
        let token = session.token_session.clone();
        s.by_test_id("session-close", WAIT).await.unwrap().click().await.unwrap();
        if let Ok(confirm) = s.by_test_id("confirm-ok", Duration::from_secs(2)).await {
            confirm.click().await.unwrap();
        }
        for _ in 0..150 {
            if sim.snapshot().session(&token).is_some_and(|x| !x.active) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert!(!sim.snapshot().session(&token).unwrap().active, "closed in the cloud");
        let png = s.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a real screenshot");
        s.clone().quit().await.ok();
        drop(desktop);
        sim.shutdown().await;
    })
    .await
    .unwrap();
}

/// The installed package's desktop app (`cargo xtask dist --check` sets `TIMING_INSTALLED_APP`
/// to `/usr/bin/timing-console`): on an empty data directory, offline (no RUFUS reachable), it
/// reaches its first screen. Prints the cold start: from the WebDriver request that starts the
/// app (and from launching Xvfb and tauri-driver) to the console screen's navigation on screen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the installed package, Xvfb and tauri-driver: run by `cargo xtask dist --check`"]
async fn the_installed_app_reaches_its_first_screen() {
    let Some(app) = std::env::var_os("TIMING_INSTALLED_APP").map(PathBuf::from) else {
        println!("TIMING_INSTALLED_APP is not set: nothing to check");
        return;
    };
    tokio::time::timeout(Duration::from_secs(120), async {
        let data = tempfile::tempdir().unwrap();
        let env = AppEnv {
            data_dir: data.path().to_path_buf(),
            // Nothing listens there: the app starts offline, as at a venue without internet.
            api_url: Some("http://127.0.0.1:9/v0".into()),
            api_key: None,
            demo_reader: None,
        };
        let clock = timing_readers::clock::SystemClock::shared();
        let launched = clock.monotonic();
        let desktop = Desktop::launch(&app, &env).await.unwrap();
        let s = &desktop.session;
        s.by_test_id("nav-console", WAIT).await.unwrap();
        s.wait_until(
            "the console screen",
            "return document.querySelector('[data-testid=\"nav-console\"]')?.getBoundingClientRect().width > 0",
            WAIT,
        )
        .await
        .unwrap();
        let now = clock.monotonic();
        println!(
            "cold start to the first screen: {} ms from the app's start (the WebDriver session \
             that starts it), {} ms with Xvfb and tauri-driver",
            now.saturating_sub(desktop.app_asked_at).as_millis(),
            now.saturating_sub(launched).as_millis()
        );
        assert!(
            data.path().join(timing_core::store::DB_FILE).exists(),
            "the app keeps its database in the given data directory"
        );
    })
    .await
    .expect("the installed app did not reach its first screen in time");
}

/// A race in the real app: a participant list with two waves, Start (confirmed) makes the race
/// clock run and the feed show race times and names; a typed bib is previewed with its name;
/// passings make tones; counts and the not-yet-seen list; a restart after a false start keeps
/// both in the log; the announcer window opens without taking the focus and shows the latest
/// finisher's name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the built app, Xvfb and tauri-driver: run by `cargo xtask test`"]
async fn a_race_with_waves_race_times_names_and_the_announcer() {
    tokio::time::timeout(Duration::from_secs(240), async {
        let sim = Sim::start(SimConfig::default()).await.unwrap();
        let data = tempfile::tempdir().unwrap();
        // The list the crew brings: the simulated finish reads the FREE tags of bibs 1…300.
        let mut csv = String::from("bib,chip,name,category,wave\n");
        for bib in 1..=300_u32 {
            let chip = timing_readers::transport::sim::free_tag(&bib.to_string());
            let wave = if bib <= 200 { "10K" } else { "5K" };
            csv.push_str(&format!("{bib},{chip},Runner {bib},F40,{wave}\n"));
        }
        {
            let mut config = timing_core::EngineConfig::new(data.path());
            config.api_url = Some(sim.base_url());
            config.api_key = Some(rufus_api::ApiKey::new(sim.admin_key()));
            let engine = timing_core::Engine::open(config, timing_core::clock::SystemClock::shared())
                .await
                .unwrap();
            engine.import_participants_from(csv.as_bytes()).await.unwrap();
            engine.open_session(Some("Race")).await.unwrap();
            engine.store().close().await;
        }
        let env = AppEnv {
            data_dir: data.path().to_path_buf(),
            api_url: Some(sim.base_url()),
            api_key: Some(sim.admin_key()),
            demo_reader: Some("sim:runners=300,rate=4,seed=9".into()),
        };
        let desktop = Desktop::launch(&app(), &env).await.unwrap();
        let s = &desktop.session;

        // Start the 10K: the press asks first, and the clock runs.
        s.by_test_id("race-start", WAIT).await.unwrap().click().await.unwrap();
        s.by_test_id("confirm-ok", WAIT).await.unwrap().click().await.unwrap();
        s.wait_until(
            "the race clock runs",
            "return [...document.querySelectorAll('[data-testid=\"race-clock-wave\"]')].some(e => e.dataset.wave === '10K' && /0:00:0\\d/.test(e.textContent))",
            WAIT,
        )
        .await
        .unwrap();

        // Reads arrive with race times and names.
        s.wait_until(
            "a 10K finisher with a race time and a name",
            "return [...document.querySelectorAll('[data-testid=\"feed-row\"]')].some(r => /^\\d:\\d\\d:\\d\\d\\.\\d$/.test(r.querySelector('[data-testid=\"feed-race-time\"]')?.textContent ?? '') && r.textContent.includes('Runner '))",
            Duration::from_secs(40),
        )
        .await
        .unwrap();

        // Each recorded passing made a tone (the web view's test hook records what it plays).
        s.wait_until(
            "a passing tone",
            "return (window.__tones ?? []).some(t => t.kind === 'passing')",
            WAIT,
        )
        .await
        .unwrap();

        // A typed bib is previewed before Enter.
        s.by_test_id("manual-mode-bib", WAIT).await.unwrap().click().await.unwrap();
        type_manual(s, "250").await;
        let preview = s.by_test_id("bib-preview", WAIT).await.unwrap();
        s.wait_until(
            "the preview names bib 250",
            "return (document.querySelector('[data-testid=\"bib-preview\"]')?.textContent ?? '').startsWith('250 — Runner 250 · F40 · 5K')",
            WAIT,
        )
        .await
        .unwrap();
        assert_eq!(preview.attr("data-status").await.unwrap().as_deref(), Some("not_started"), "the 5K has not started");
        s.by_test_id("manual-input", WAIT).await.unwrap().clear().await.unwrap();

        // Counts and the not-yet-seen list.
        s.wait_until(
            "counts",
            "return Number(document.querySelector('[data-testid=\"count-finished\"] b')?.textContent) > 0",
            Duration::from_secs(20),
        )
        .await
        .unwrap();
        assert!(s.count("[data-testid=\"unseen-row\"]").await.unwrap() > 0, "runners not yet seen are listed");

        // A false start: restart the 10K; the log keeps both.
        s.find("[data-testid=\"race-wave\"][data-wave=\"10K\"] [data-testid=\"race-restart\"]", WAIT)
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        s.by_test_id("confirm-ok", WAIT).await.unwrap().click().await.unwrap();
        s.wait_until(
            "the restart",
            "return (document.querySelector('[data-testid=\"race-wave\"][data-wave=\"10K\"]')?.textContent ?? '').includes('0:00:0')",
            WAIT,
        )
        .await
        .unwrap();

        // The announcer window opens, the keyboard stays in the console.
        let main_window = s.window().await.unwrap();
        let focused = s.execute("return document.hasFocus()", serde_json::json!([])).await.unwrap();
        s.by_test_id("open-announcer", WAIT).await.unwrap().click().await.unwrap();
        let mut announcer = None;
        for _ in 0..100 {
            let handles = s.windows().await.unwrap();
            if let Some(h) = handles.into_iter().find(|h| *h != main_window) {
                announcer = Some(h);
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let announcer = announcer.expect("a second window opened");
        tokio::time::sleep(Duration::from_millis(500)).await;
        let still = s.execute("return document.hasFocus()", serde_json::json!([])).await.unwrap();
        assert_eq!(still, focused, "opening the announcer left the console's focus as it was");
        s.switch_to(&announcer).await.unwrap();
        let taken = s.execute("return document.hasFocus()", serde_json::json!([])).await.unwrap();
        assert_eq!(taken, serde_json::json!(false), "the announcer did not take the focus");
        s.wait_until(
            "the announcer names the latest finisher",
            "return /^Runner \\d+$/.test(document.querySelector('[data-testid=\"announcer-name\"]')?.textContent ?? '')",
            Duration::from_secs(30),
        )
        .await
        .unwrap();
        s.switch_to(&main_window).await.unwrap();
        s.clone().quit().await.ok();
        drop(desktop);
        sim.shutdown().await;
    })
    .await
    .unwrap();
}

/// Layouts that fit, measured on the real app (WebKitGTK): at 1280×720, 1366×768 and 1920×1080,
/// UI scale 100 % and 150 %, day and night, every screen of a race in progress — no panel whose
/// content overflows sideways, no control outside its container, no clipped button text
/// (`findLayoutProblems` of `ui/e2e/layout.mjs`, the same check the browser tests run).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the built app, Xvfb and tauri-driver: run by `cargo xtask test`"]
async fn layouts_fit_at_every_size_and_scale() {
    const LAYOUT: &str = include_str!("../../../ui/e2e/layout.mjs");
    const SIZES: [(u32, u32); 3] = [(1280, 720), (1366, 768), (1920, 1080)];
    const SCREENS: [&str; 5] = ["console", "devices", "sessions", "readers", "settings"];
    let script = format!(
        "{}\nreturn findLayoutProblems({{ screen: arguments[0] }});",
        LAYOUT.replace("export ", "")
    );
    tokio::time::timeout(Duration::from_secs(600), async {
        let sim = Sim::start(SimConfig::default()).await.unwrap();
        let data = tempfile::tempdir().unwrap();
        {
            let mut config = timing_core::EngineConfig::new(data.path());
            config.api_url = Some(sim.base_url());
            config.api_key = Some(rufus_api::ApiKey::new(sim.admin_key()));
            let engine =
                timing_core::Engine::open(config, timing_core::clock::SystemClock::shared())
                    .await
                    .unwrap();
            let csv = timing_drills::race::participants_csv(400);
            engine.import_participants_from(csv.as_bytes()).await.unwrap();
            engine.open_session(Some("A race with a rather long name, as some are")).await.unwrap();
            let now = timing_core::clock::Clock::now(&timing_core::clock::SystemClock::new());
            engine
                .start_wave(
                    "10K",
                    timing_core::starts::StartRequest::Exact(now - chrono::Duration::minutes(30)),
                )
                .await
                .unwrap();
            engine.store().close().await;
        }
        let mut problems = Vec::new();
        for scale in [1.0, 1.5] {
            for theme in ["day", "night"] {
                // Settings as the app stores them (it reads them at start).
                let store = timing_core::store::Store::open_in(data.path()).await.unwrap();
                let settings = serde_json::json!({
                    "api_url": sim.base_url(), "dedup_window_s": 5.0, "station": "Finish",
                    "operator": "e2e", "time_display": "local", "theme": theme, "scale": scale,
                    "sound": {"muted": true, "volume": 0.5}
                });
                store.set_setting("app_settings", &settings.to_string()).await.unwrap();
                store.close().await;
                let env = AppEnv {
                    data_dir: data.path().to_path_buf(),
                    api_url: Some(sim.base_url()),
                    api_key: Some(sim.admin_key()),
                    demo_reader: Some("sim:runners=400,rate=4,seed=3".into()),
                };
                let desktop = Desktop::launch(&app(), &env).await.unwrap();
                let s = &desktop.session;
                s.wait_until(
                    "the stored theme",
                    &format!("return document.documentElement.dataset.theme === '{theme}'"),
                    WAIT,
                )
                .await
                .unwrap();
                for (width, height) in SIZES {
                    // Asked again until it holds: the X server resizes when it gets to it, and
                    // the window-state plugin may restore a remembered size just after start.
                    let mut inner = 0;
                    for _ in 0..25 {
                        s.set_size(width, height).await.unwrap();
                        tokio::time::sleep(Duration::from_millis(300)).await;
                        let w = s
                            .execute("return window.innerWidth", serde_json::json!([]))
                            .await
                            .unwrap();
                        inner = w.as_u64().unwrap_or(0);
                        if inner.abs_diff(u64::from(width)) <= 40 {
                            break;
                        }
                    }
                    assert!(
                        inner.abs_diff(u64::from(width)) <= 40,
                        "the window is {inner} px wide, not {width}"
                    );
                    for screen in SCREENS {
                        s.by_test_id(&format!("nav-{screen}"), WAIT)
                            .await
                            .unwrap()
                            .click()
                            .await
                            .unwrap();
                        tokio::time::sleep(Duration::from_millis(600)).await;
                        let found = s.execute(&script, serde_json::json!([screen])).await.unwrap();
                        for p in found.as_array().into_iter().flatten() {
                            problems.push(format!(
                                "{width}×{height} {} % {theme} {screen}: {}",
                                scale * 100.0,
                                p["message"].as_str().unwrap_or_default()
                            ));
                        }
                    }
                }
                s.clone().quit().await.ok();
                drop(desktop);
            }
        }
        assert!(
            problems.is_empty(),
            "{} layout problems:\n{}",
            problems.len(),
            problems.join("\n")
        );
        sim.shutdown().await;
    })
    .await
    .unwrap();
}
