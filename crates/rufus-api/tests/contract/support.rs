//! Shared helpers of the contract tests: start a simulator, build clients, make passings.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests stop loudly
#![allow(dead_code)] // not every test binary module uses every helper

use std::future::Future;
use std::ops::RangeInclusive;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use rufus_api::{ApiKey, ClientConfig, DeviceId, NewDevice, Passing, RufusClient, SessionToken};
use rufus_cloud_sim::{Envelope, Sim, SimConfig};

/// No contract test may take longer than this.
pub const BOUND: Duration = Duration::from_secs(30);

/// Runs a test body within [`BOUND`].
pub async fn bounded<F: Future<Output = ()>>(body: F) {
    tokio::time::timeout(BOUND, Box::pin(body)).await.expect("the test exceeded its time bound");
}

/// A simulator with `config`.
pub async fn sim(config: SimConfig) -> Sim {
    Sim::start(config).await.expect("the simulator starts")
}

/// A simulator with default settings and the given envelope.
pub async fn sim_with(envelope: Envelope) -> Sim {
    sim(SimConfig { envelope, ..Default::default() }).await
}

/// A client for `sim` with `key` and a short request timeout (tests never wait long).
pub fn client_with(sim: &Sim, key: &str, request_timeout: Duration) -> RufusClient {
    let config = ClientConfig::new(ApiKey::new(key))
        .with_base_url(sim.base_url())
        .with_timeouts(Duration::from_secs(2), request_timeout);
    RufusClient::new(config).expect("a loopback http base url is accepted")
}

/// A client for `sim` with its admin key (READ_WRITE + unbind).
pub fn client(sim: &Sim) -> RufusClient {
    client_with(sim, &sim.admin_key(), Duration::from_secs(10))
}

/// A bind request for a console with this serial number.
pub fn new_device(serial: &str) -> NewDevice {
    NewDevice {
        model: "RUFUS Timing Console".into(),
        serial_number: serial.into(),
        device_type: "custom".into(),
        alias: Some(format!("Finish {serial}")),
        firmware: Some("0.1.0".into()),
    }
}

/// A fixed race start.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 9, 0, 0).unwrap()
}

/// Passings numbered `nums`, one second apart from [`t0`] (plus 7 ms, to see the milliseconds).
pub fn batch(nums: RangeInclusive<u64>) -> Vec<Passing> {
    nums.map(|n| {
        let at = t0() + chrono::Duration::seconds(n as i64) + chrono::Duration::milliseconds(7);
        Passing::new(format!("{}", 100 + n), n, at).with_chip(format!("CHIP{n:04}"))
    })
    .collect()
}

/// Binds a device and opens a session on it.
pub async fn device_and_session(client: &RufusClient, serial: &str) -> (DeviceId, SessionToken) {
    let deviceid = client.bind_device(&new_device(serial)).await.expect("bind");
    let token = client.create_session(&deviceid, Some("race")).await.expect("create session");
    (deviceid, token)
}

/// A raw request to the simulator with the given headers (to test the server side directly).
pub async fn raw(
    sim: &Sim,
    method: reqwest::Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let mut request = reqwest::Client::new().request(method, format!("{}{path}", sim.base_url()));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("the simulator answers");
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
    (status, json)
}
