//! The API key never shows: not in the Debug output of the configuration or the client, not in
//! the Display or Debug of any error that real failing calls against the simulator produce.
//! (The tracing side is in `tests/secrecy.rs`, which needs a process-wide log subscriber.)
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests stop loudly

use std::time::Duration;

use rufus_api::{ApiError, ApiKey, ClientConfig, DeviceId, RufusClient, SessionToken};
use rufus_cloud_sim::{Access, Envelope, FaultKind, FaultRule, SimConfig};

use crate::support::{batch, bounded, client_with, device_and_session, new_device, sim};

const ADMIN_KEY: &str = "ror-5ec7e7c0ffee5ec7e7aa";

fn assert_hidden(what: &str, text: &str, keys: &[&str]) {
    for key in keys {
        assert!(!text.contains(key), "{what} shows an api key: {text}");
        // Not even the hex part alone.
        assert!(!text.contains(key.trim_start_matches("ror-")), "{what} shows an api key: {text}");
    }
}

fn assert_error_hidden(e: &ApiError, keys: &[&str]) {
    assert_hidden("error Display", &e.to_string(), keys);
    assert_hidden("error Debug", &format!("{e:?}"), keys);
    assert_hidden("error pretty Debug", &format!("{e:#?}"), keys);
}

#[tokio::test]
async fn the_key_never_appears_in_debug_output_or_error_messages() {
    bounded(async {
        let sim = sim(SimConfig {
            envelope: Envelope::Wrapped,
            admin_key: Some(ADMIN_KEY.to_owned()),
            ..Default::default()
        })
        .await;
        let reader_key = sim.add_key(Access::Read, false);
        let wrong_key = "ror-0badbadbadbadbadbad0";
        let keys = [ADMIN_KEY, reader_key.as_str(), wrong_key];

        let config = ClientConfig::new(ApiKey::new(ADMIN_KEY)).with_base_url(sim.base_url());
        assert_hidden("ApiKey Debug", &format!("{:?}", config.api_key), &keys);
        assert_hidden("ClientConfig Debug", &format!("{config:?} {config:#?}"), &keys);
        let admin = RufusClient::new(config).unwrap();
        assert_hidden("RufusClient Debug", &format!("{admin:?} {admin:#?}"), &keys);

        let reader = client_with(&sim, &reader_key, Duration::from_secs(5));
        let stranger = client_with(&sim, wrong_key, Duration::from_secs(5));
        let (deviceid, token) = device_and_session(&admin, "SN-SECRET").await;
        let ghost = DeviceId::new("F".repeat(64));
        let mut errors = vec![
            stranger.list_devices(1, 10).await.unwrap_err(),
            stranger.insert_passings(&token, &batch(1..=1)).await.unwrap_err(),
            reader.insert_passings(&token, &batch(1..=1)).await.unwrap_err(),
            reader.unbind_device(&deviceid).await.unwrap_err(),
            admin.device(&ghost).await.unwrap_err(),
            admin.bind_device(&new_device("SN-SECRET")).await.unwrap_err(),
            admin
                .insert_passings(&SessionToken::new("0".repeat(64)), &batch(1..=1))
                .await
                .unwrap_err(),
        ];
        let far = chrono::NaiveDate::from_ymd_opt(10000, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc();
        errors.push(
            admin
                .insert_passings(&token, &[rufus_api::Passing::new("1", 1, far)])
                .await
                .unwrap_err(),
        );
        for kind in [
            FaultKind::ServerError(500),
            FaultKind::RateLimited { retry_after_secs: 1 },
            FaultKind::ResetBeforeCommit,
            FaultKind::ResetAfterCommit,
            FaultKind::CloseSessionFirst,
        ] {
            sim.push_fault(FaultRule::once(kind, Some("POST /passings")));
            errors.push(admin.insert_passings(&token, &batch(1..=2)).await.unwrap_err());
        }
        let (_, token) = device_and_session(&admin, "SN-SECRET-2").await;
        sim.set_max_batch(Some(1));
        errors.push(admin.insert_passings(&token, &batch(1..=2)).await.unwrap_err());
        sim.set_latency(Duration::from_millis(800));
        errors.push(
            client_with(&sim, ADMIN_KEY, Duration::from_millis(200))
                .device(&deviceid)
                .await
                .unwrap_err(),
        );
        sim.pause().await;
        errors.push(admin.device(&deviceid).await.unwrap_err());

        let codes: Vec<&str> = errors.iter().map(ApiError::code).collect();
        for code in [
            "unauthorized",
            "not_found",
            "already_bound",
            "session_closed",
            "rejected",
            "server",
            "rate_limited",
            "ambiguous",
            "too_large",
            "timeout",
            "connection",
        ] {
            assert!(codes.contains(&code), "no {code} error among {codes:?}");
        }
        for e in &errors {
            assert_error_hidden(e, &keys);
        }
        sim.resume().await.unwrap();
        sim.shutdown().await;
    })
    .await;
}
