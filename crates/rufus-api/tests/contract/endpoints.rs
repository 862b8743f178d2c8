//! Every endpoint through the client, in both envelopes: devices, sessions, passings (with
//! de-duplication, closed sessions, paging) and events, checked against the simulator's state.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests stop loudly

use rufus_api::{ApiError, DeviceId, PollQuery, Retry, SessionToken, format_timestamp};
use rufus_cloud_sim::{Envelope, SimConfig};
use serde_json::json;

use crate::support::{
    batch, bounded, client, device_and_session, new_device, raw, sim, sim_with, t0,
};

async fn walk_every_endpoint(envelope: Envelope) {
    let sim = sim_with(envelope).await;
    let c = client(&sim);

    // D1 bind, then the same serial again → 409 carrying the existing device.
    let deviceid = c.bind_device(&new_device("SN-001")).await.unwrap();
    assert_eq!(deviceid.as_str().len(), 64, "{deviceid}");
    let bound = sim.snapshot();
    let state = bound.device(deviceid.as_str()).expect("the device is in the simulator");
    assert_eq!(state.serial_number, "SN-001");
    assert_eq!(state.device_type.as_deref(), Some("custom"));
    let again = c.bind_device(&new_device("SN-001")).await.unwrap_err();
    assert_eq!(
        again,
        ApiError::AlreadyBound { op: rufus_api::Operation::BindDevice, deviceid: deviceid.clone() }
    );
    assert_eq!(again.retry(), Retry::Never);

    // D3 list (one page and all pages), D4 information.
    let page = c.list_devices(1, 10).await.unwrap();
    assert_eq!(page.devices.len(), 1);
    assert_eq!(page.devices.first().unwrap().deviceid, deviceid);
    assert_eq!(page.pagination.as_ref().and_then(|p| p.has_more), Some(false));
    assert_eq!(c.all_devices().await.unwrap().len(), 1);
    let device = c.device(&deviceid).await.unwrap();
    assert_eq!(device.deviceid, deviceid);
    assert_eq!(device.serial_number.as_deref(), Some("SN-001"));
    assert_eq!(device.model.as_deref(), Some("RUFUS Timing Console"));
    assert_eq!(device.device_type.as_deref(), Some("custom"));
    assert_eq!(device.alias.as_deref(), Some("Finish SN-001"));
    assert_eq!(device.firmware.as_deref(), Some("0.1.0"));
    assert!(device.creation_date.as_ref().and_then(|d| d.utc()).is_some(), "{device:?}");

    // S3 with no session yet → empty; S4 → none.
    assert!(c.device_sessions(&deviceid).await.unwrap().is_empty());
    assert!(c.active_session(&deviceid).await.unwrap().is_none());

    // S1 create; S4 and S5 read it back (array of one).
    let token = c.create_session(&deviceid, Some("10K finish")).await.unwrap();
    let active = c.active_session(&deviceid).await.unwrap().expect("an active session");
    assert_eq!(active.token_session, token);
    assert_eq!(active.active, Some(true));
    assert_eq!(active.alias.as_deref(), Some("10K finish"));
    let info = c.session(&token).await.unwrap();
    assert_eq!(info.token_session, token);
    assert_eq!(info.passings, Some(0));

    // P1 insert, then the same batch again → counted as duplicates, stored once.
    let first = batch(1..=3);
    let outcome = c.insert_passings(&token, &first).await.unwrap();
    assert_eq!(outcome.inserted_count, 3);
    assert_eq!(outcome.duplicate_count.unwrap_or(0), 0);
    let again = c.insert_passings(&token, &first).await.unwrap();
    assert_eq!((again.inserted_count, again.duplicate_count), (0, Some(3)));
    let snap = sim.snapshot();
    let stored = snap.session(token.as_str()).unwrap();
    assert_eq!(stored.num_passings(), vec![1, 2, 3]);
    assert_eq!(stored.received, vec![1, 2, 3, 1, 2, 3]);
    // What landed is exactly what was sent: chip (not chips), the exact timestamp format.
    let stored_first = stored.passings.first().unwrap();
    assert_eq!(stored_first.timestamp, "2024-05-01T09:00:01.007Z");
    assert_eq!(
        stored_first.raw,
        json!({"bib": "101", "num_passing": 1, "timestamp": "2024-05-01T09:00:01.007Z", "chip": "CHIP0001"})
    );

    // P2 by range, one page and every page.
    let range = c.passings_by_range(&token, 2, 3, 1).await.unwrap();
    assert_eq!(range.iter().map(|p| p.num_passing.unwrap()).collect::<Vec<_>>(), vec![2, 3]);
    let p2 = range.first().unwrap();
    assert_eq!(p2.bib.as_deref(), Some("102"));
    assert_eq!(p2.chip.as_deref(), Some("CHIP0002"));
    assert_eq!(p2.token_session.as_ref(), Some(&token));
    assert_eq!(p2.timestamp.as_ref().unwrap().raw(), "2024-05-01T09:00:02.007Z");
    assert_eq!(p2.timestamp.as_ref().unwrap().utc(), Some(first.get(1).unwrap().timestamp));
    assert_eq!(c.all_passings_by_range(&token, 1, 100).await.unwrap().len(), 3);

    // P3 by datetime: passings 2 and 3 fall in the window.
    let from = t0() + chrono::Duration::seconds(2);
    let to = t0() + chrono::Duration::seconds(10);
    let by_time = c.passings_by_datetime(&deviceid, from, to, 1).await.unwrap();
    assert_eq!(by_time.iter().map(|p| p.num_passing.unwrap()).collect::<Vec<_>>(), vec![2, 3]);

    // P4 continuous polling after num_passing 1.
    let query =
        PollQuery { token_session: Some(token.clone()), last: Some(1), ..Default::default() };
    let polled = c.poll_passings(&deviceid, &query).await.unwrap();
    assert_eq!(polled.session_used.as_ref(), Some(&token));
    assert_eq!(
        polled.passings.iter().map(|p| p.num_passing.unwrap()).collect::<Vec<_>>(),
        vec![2, 3]
    );

    // A new session closes the previous one; S3 lists both; S5 still reads the closed one.
    let token2 = c.create_session(&deviceid, None).await.unwrap();
    assert_ne!(token2, token);
    assert_eq!(c.session(&token).await.unwrap().active, Some(false));
    assert_eq!(c.active_session(&deviceid).await.unwrap().unwrap().token_session, token2);
    let sessions = c.device_sessions(&deviceid).await.unwrap();
    let mut tokens: Vec<&SessionToken> = sessions.iter().map(|s| &s.token_session).collect();
    tokens.sort();
    let mut want = vec![&token, &token2];
    want.sort();
    assert_eq!(tokens, want);

    // P1 to the closed session → SessionClosed, never retried.
    let closed = c.insert_passings(&token, &batch(4..=4)).await.unwrap_err();
    assert!(matches!(closed, ApiError::SessionClosed { .. }), "{closed:?}");
    assert_eq!(closed.retry(), Retry::Never);

    // S2 close (twice: the second is answered 200 too); no active session remains.
    c.close_session(&token2).await.unwrap();
    c.close_session(&token2).await.unwrap();
    assert!(c.active_session(&deviceid).await.unwrap().is_none());

    // Events (the simulator may have none).
    let events = c.events(1, 10).await.unwrap();
    assert!(events.events.len() <= 10);

    // D2 unbind: the device and its sessions are gone.
    c.unbind_device(&deviceid).await.unwrap();
    assert!(matches!(c.device(&deviceid).await.unwrap_err(), ApiError::NotFound { .. }));
    assert!(matches!(c.session(&token).await.unwrap_err(), ApiError::NotFound { .. }));
    assert!(matches!(c.unbind_device(&deviceid).await.unwrap_err(), ApiError::NotFound { .. }));
    assert!(c.all_devices().await.unwrap().is_empty());

    sim.shutdown().await;
}

#[tokio::test]
async fn every_endpoint_with_plain_responses() {
    bounded(walk_every_endpoint(Envelope::Plain)).await;
}

#[tokio::test]
async fn every_endpoint_with_wrapped_responses() {
    bounded(walk_every_endpoint(Envelope::Wrapped)).await;
}

#[tokio::test]
async fn unknown_devices_and_sessions_are_not_found() {
    bounded(async {
        let sim = sim_with(Envelope::Wrapped).await;
        let c = client(&sim);
        let ghost = DeviceId::new("F".repeat(64));
        let gone = SessionToken::new("0".repeat(64));
        for e in [
            c.device(&ghost).await.unwrap_err(),
            c.session(&gone).await.unwrap_err(),
            c.close_session(&gone).await.unwrap_err(),
            c.create_session(&ghost, None).await.unwrap_err(),
            c.unbind_device(&ghost).await.unwrap_err(),
            c.device_sessions(&ghost).await.unwrap_err(),
        ] {
            assert!(matches!(e, ApiError::NotFound { .. }), "{e:?}");
            assert_eq!(e.retry(), Retry::Never);
            assert!(e.to_string().contains("not found"), "{e}");
        }
        assert!(c.active_session(&ghost).await.unwrap().is_none());
        let e = c.insert_passings(&gone, &batch(1..=1)).await.unwrap_err();
        assert!(matches!(e, ApiError::SessionClosed { .. }), "{e:?}");
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn device_pages_are_followed() {
    bounded(async {
        let sim = sim_with(Envelope::Plain).await;
        let c = client(&sim);
        for n in 0..5 {
            c.bind_device(&new_device(&format!("SN-{n}"))).await.unwrap();
        }
        let page = c.list_devices(1, 2).await.unwrap();
        assert_eq!(page.devices.len(), 2);
        let pagination = page.pagination.unwrap();
        assert_eq!((pagination.total, pagination.has_more), (Some(5), Some(true)));
        let last = c.list_devices(3, 2).await.unwrap();
        assert_eq!(last.devices.len(), 1);
        let all = c.all_devices_with_limit(2).await.unwrap();
        let mut serials: Vec<String> = all.into_iter().map(|d| d.serial_number.unwrap()).collect();
        serials.sort();
        assert_eq!(serials, ["SN-0", "SN-1", "SN-2", "SN-3", "SN-4"]);
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn passing_pages_are_followed() {
    bounded(async {
        let sim = sim_with(Envelope::Wrapped).await;
        let c = client(&sim);
        let (_, token) = device_and_session(&c, "SN-PAGES").await;
        let outcome = c.insert_passings(&token, &batch(1..=5001)).await.unwrap();
        assert_eq!(outcome.inserted_count, 5001);
        assert_eq!(c.passings_by_range(&token, 1, 6000, 1).await.unwrap().len(), 5000);
        let second = c.passings_by_range(&token, 1, 6000, 2).await.unwrap();
        assert_eq!(second.iter().map(|p| p.num_passing.unwrap()).collect::<Vec<_>>(), vec![5001]);
        let all = c.all_passings_by_range(&token, 1, 6000).await.unwrap();
        assert_eq!(all.len(), 5001);
        assert!(all.iter().zip(1..).all(|(p, n)| p.num_passing == Some(n)));
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn without_dedup_a_resent_batch_is_stored_twice() {
    bounded(async {
        let sim = sim(SimConfig { dedup: false, ..Default::default() }).await;
        let c = client(&sim);
        let (_, token) = device_and_session(&c, "SN-NODEDUP").await;
        c.insert_passings(&token, &batch(1..=2)).await.unwrap();
        let again = c.insert_passings(&token, &batch(1..=2)).await.unwrap();
        assert_eq!(again.inserted_count, 2);
        assert_eq!(again.duplicate_count.unwrap_or(0), 0);
        assert_eq!(
            sim.snapshot().session(token.as_str()).unwrap().num_passings(),
            vec![1, 2, 1, 2]
        );
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn validation_errors_surface_the_servers_message_verbatim() {
    bounded(async {
        let sim = sim_with(Envelope::Wrapped).await;
        let c = client(&sim);
        let (_, token) = device_and_session(&c, "SN-VALID").await;
        let key = sim.admin_key();

        // A field the strict server refuses, through a raw request: 400 naming the field.
        let bad = json!({"token_session": token.as_str(), "passings_list": [
            {"bib": "7", "num_passing": 1, "timestamp": "2024-05-01T09:00:00.000Z", "chips": "C7"}
        ]});
        let (status, body) =
            raw(&sim, reqwest::Method::POST, "/passings", &[("x-api-key", &key)], Some(bad)).await;
        assert_eq!(status, 400);
        assert!(body["body"]["description"].as_str().unwrap().contains("chips"), "{body}");

        // A passing the client can build but the server rejects (a year beyond 9999 cannot be
        // written as YYYY-MM-DD…): the client surfaces exactly the server's description.
        let far = chrono::NaiveDate::from_ymd_opt(10000, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc();
        let passing = rufus_api::Passing::new("7", 1, far);
        let err = c.insert_passings(&token, std::slice::from_ref(&passing)).await.unwrap_err();
        let ApiError::Rejected { status: 400, message, .. } = &err else { panic!("{err:?}") };
        assert_eq!(err.retry(), Retry::Never);
        let same = json!({"token_session": token.as_str(), "passings_list": [
            {"bib": "7", "num_passing": 1, "timestamp": format_timestamp(far)}
        ]});
        let (_, body) =
            raw(&sim, reqwest::Method::POST, "/passings", &[("api_key", &key)], Some(same)).await;
        assert_eq!(message, body["body"]["description"].as_str().unwrap());
        assert!(message.contains("timestamp"), "{message}");
        assert!(err.to_string().ends_with(message.as_str()), "{err}");
        assert!(sim.snapshot().session(token.as_str()).unwrap().passings.is_empty());
        sim.shutdown().await;
    })
    .await;
}
