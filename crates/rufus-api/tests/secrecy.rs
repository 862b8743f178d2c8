//! The API key never reaches the logs: every tracing event and every `log` record (reqwest's)
//! emitted on the client's thread, at TRACE, through successful and failing calls, is captured
//! and searched. Its own test binary, because capturing `log` records needs a process-wide
//! subscriber; the simulator runs on other threads, whose records are left out.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests stop loudly

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use rufus_api::{ApiKey, ClientConfig, DeviceId, NewDevice, Passing, RufusClient};
use rufus_cloud_sim::{Access, Envelope, FaultKind, FaultRule, Sim, SimConfig};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

const ADMIN_KEY: &str = "ror-a11ce5ec2e7ba5e00042";
const CLIENT_THREAD: &str = "rufus-api-client";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn on_client_thread() -> bool {
    std::thread::current().name() == Some(CLIENT_THREAD)
}

#[test]
fn the_key_never_reaches_tracing_or_log_output() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .with_filter(filter_fn(|_| on_client_thread())),
        )
        .try_init()
        .expect("the only subscriber of this test binary");

    // The simulator lives on its own runtime and threads.
    let sim_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("simulator")
        .enable_all()
        .build()
        .unwrap();
    let sim = sim_rt
        .block_on(Sim::start(SimConfig {
            envelope: Envelope::Wrapped,
            admin_key: Some(ADMIN_KEY.to_owned()),
            ..Default::default()
        }))
        .unwrap();
    let reader_key = sim.add_key(Access::Read, false);
    let base_url = sim.base_url();
    let handle = sim.clone();
    let sim_handle = sim_rt.handle().clone();

    let reader_for_client = reader_key.clone();
    let client_thread = std::thread::Builder::new()
        .name(CLIENT_THREAD.to_owned())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                tokio::time::timeout(Duration::from_secs(30), async move {
                    let make = |key: &str, timeout: Duration| {
                        RufusClient::new(
                            ClientConfig::new(ApiKey::new(key))
                                .with_base_url(base_url.clone())
                                .with_timeouts(Duration::from_secs(2), timeout),
                        )
                        .unwrap()
                    };
                    let admin = make(ADMIN_KEY, Duration::from_secs(5));
                    tracing::debug!(client = ?admin, "client built");
                    let device = NewDevice {
                        model: "m".into(),
                        serial_number: "SN-LOG".into(),
                        device_type: "custom".into(),
                        alias: None,
                        firmware: None,
                    };
                    let deviceid = admin.bind_device(&device).await.unwrap();
                    let token = admin.create_session(&deviceid, None).await.unwrap();
                    let t = Utc.with_ymd_and_hms(2024, 5, 1, 9, 0, 0).unwrap();
                    let batch = vec![Passing::new("1", 1, t), Passing::new("2", 2, t)];
                    admin.insert_passings(&token, &batch).await.unwrap();
                    admin.all_passings_by_range(&token, 1, 2).await.unwrap();
                    // Failures of every kind.
                    let reader = make(&reader_for_client, Duration::from_secs(5));
                    reader.insert_passings(&token, &batch).await.unwrap_err();
                    make("ror-0badbadbadbadbadbad0", Duration::from_secs(5))
                        .all_devices()
                        .await
                        .unwrap_err();
                    admin.device(&DeviceId::new("F".repeat(64))).await.unwrap_err();
                    for kind in [
                        FaultKind::ServerError(502),
                        FaultKind::RateLimited { retry_after_secs: 1 },
                        FaultKind::ResetBeforeCommit,
                        FaultKind::ResetAfterCommit,
                    ] {
                        handle.push_fault(FaultRule::once(kind, Some("POST /passings")));
                        admin.insert_passings(&token, &batch).await.unwrap_err();
                    }
                    handle.set_latency(Duration::from_millis(600));
                    make(ADMIN_KEY, Duration::from_millis(150))
                        .device(&deviceid)
                        .await
                        .unwrap_err();
                    handle.set_latency(Duration::ZERO);
                    let paused = handle.clone();
                    sim_handle.spawn(async move { paused.pause().await }).await.unwrap();
                    admin.device(&deviceid).await.unwrap_err();
                })
                .await
                .expect("the client scenario exceeded its time bound");
            });
        })
        .unwrap();
    client_thread.join().expect("the client scenario passes");
    sim_rt.block_on(sim.shutdown());

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    // The capture works: the client's spans and events are there, at debug level and below.
    assert!(text.contains("insert passings"), "nothing captured:\n{text}");
    assert!(text.contains("call failed"), "no failure captured:\n{text}");
    for key in [ADMIN_KEY, reader_key.as_str(), "ror-0badbadbadbadbadbad0"] {
        let hex = key.trim_start_matches("ror-");
        assert!(!text.contains(hex), "the key {key} appears in the logs:\n{text}");
    }
}
