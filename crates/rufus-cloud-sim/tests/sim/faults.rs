//! Each fault kind over real HTTP: 5xx, 429 with Retry-After, resets before and after commit
//! (a real TCP RST, no answer), a session closed from elsewhere, the batch maximum, latency,
//! route filters and counts, and the admin endpoints that arm them.

use std::time::Duration;

use reqwest::Method;
use rufus_cloud_sim::{FaultKind, FaultRule};
use serde_json::json;

use crate::common::{Api, batch, bounded, http, is_reset, sim};

fn once(kind: FaultKind, route: &str) -> FaultRule {
    FaultRule::once(kind, Some(route))
}

#[tokio::test]
async fn server_errors_answer_before_anything_happens() {
    bounded(async {
        let sim = sim().await;
        let api = Api::new(&sim);
        let (_, token) = api.device_and_session().await;
        sim.push_fault(once(FaultKind::ServerError(503), "POST /passings"));
        sim.push_fault(once(FaultKind::ServerError(500), "POST /passings"));
        let first = api.post("/passings", &batch(&token, [1])).await;
        assert_eq!(first.status, 503);
        assert!(!first.description().is_empty());
        let second = api.post("/passings", &batch(&token, [1])).await;
        assert_eq!(second.status, 500);
        assert!(sim.snapshot().session(&token).unwrap().received.is_empty());
        let third = api.post("/passings", &batch(&token, [1])).await;
        assert_eq!(third.status, 201, "the counted rules are used up");
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn rate_limit_sends_retry_after() {
    bounded(async {
        let sim = sim().await;
        let api = Api::new(&sim);
        sim.push_fault(once(FaultKind::RateLimited { retry_after_secs: 7 }, "GET /devices"));
        let limited = api.get("/devices").await;
        assert_eq!(limited.status, 429);
        assert_eq!(limited.headers["retry-after"], "7");
        assert!(!limited.description().is_empty());
        assert_eq!(api.get("/devices").await.status, 200);
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn reset_before_commit_stores_nothing() {
    bounded(async {
        let sim = sim().await;
        let api = Api::new(&sim);
        let (_, token) = api.device_and_session().await;
        sim.push_fault(once(FaultKind::ResetBeforeCommit, "POST /passings"));
        let error = api
            .try_send(Method::POST, "/passings", Some(&batch(&token, [1, 2])))
            .await
            .expect_err("no HTTP answer after a reset");
        assert!(is_reset(&error), "expected a TCP reset, got {error:?}");
        assert!(sim.snapshot().session(&token).unwrap().received.is_empty());
        // The server itself is fine.
        assert_eq!(api.post("/passings", &batch(&token, [1, 2])).await.status, 201);
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn reset_after_commit_stores_then_drops_the_answer() {
    bounded(async {
        let sim = sim().await;
        let api = Api::new(&sim);
        let (_, token) = api.device_and_session().await;
        sim.push_fault(once(FaultKind::ResetAfterCommit, "POST /passings"));
        let error = api
            .try_send(Method::POST, "/passings", Some(&batch(&token, [1, 2, 3])))
            .await
            .expect_err("no HTTP answer after a reset");
        assert!(is_reset(&error), "expected a TCP reset, got {error:?}");
        let snapshot = sim.snapshot();
        assert_eq!(snapshot.session(&token).unwrap().num_passings(), vec![1, 2, 3]);
        // The ambiguous case: the client asks what landed, then resends; dedup absorbs it.
        let landed = api.get(&format!("/passings/session/{token}?first=1&last=3")).await;
        assert_eq!(landed.body["result"].as_array().unwrap().len(), 3);
        let resend = api.post("/passings", &batch(&token, [1, 2, 3])).await;
        assert_eq!(resend.body["duplicate_count"], json!(3));
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn session_closed_from_elsewhere() {
    bounded(async {
        let sim = sim().await;
        let api = Api::new(&sim);
        let (_, token) = api.device_and_session().await;
        sim.push_fault(once(FaultKind::CloseSessionFirst, "POST /passings"));
        let answer = api.post("/passings", &batch(&token, [1])).await;
        assert_eq!(answer.status, 404);
        assert_eq!(answer.description(), "Session not found or closed");
        assert!(!sim.snapshot().session(&token).unwrap().active);

        let (_, other) = api.device_and_session().await;
        assert!(sim.close_session_elsewhere(&other));
        assert!(!sim.close_session_elsewhere(&"C".repeat(64)));
        assert_eq!(api.post("/passings", &batch(&other, [1])).await.status, 404);
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn max_batch_is_413() {
    bounded(async {
        let sim = sim().await;
        let api = Api::new(&sim);
        let (_, token) = api.device_and_session().await;
        sim.set_max_batch(Some(3));
        let refused = api.post("/passings", &batch(&token, 1..=4)).await;
        assert_eq!(refused.status, 413);
        assert!(refused.description().contains('3'), "{refused:?}");
        assert_eq!(api.post("/passings", &batch(&token, 1..=3)).await.status, 201);
        sim.set_max_batch(None);
        assert_eq!(api.post("/passings", &batch(&token, 4..=10)).await.status, 201);
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn latency_delays_every_answer() {
    bounded(async {
        let sim = sim().await;
        let api = Api::new(&sim);
        sim.set_latency(Duration::from_millis(400));
        let impatient = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_millis(100))
            .build()
            .unwrap();
        let error = impatient
            .get(format!("{}/devices", api.base))
            .header("api_key", &api.key)
            .send()
            .await
            .expect_err("the answer comes after the client's timeout");
        assert!(error.is_timeout(), "{error:?}");
        assert_eq!(api.get("/devices").await.status, 200, "a patient client gets it");
        sim.set_latency(Duration::ZERO);
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn route_filters_counts_and_clearing() {
    bounded(async {
        let sim = sim().await;
        let api = Api::new(&sim);
        let (_, token) = api.device_and_session().await;
        sim.push_fault(FaultRule::always(FaultKind::ServerError(502), Some("POST /passings")));
        assert_eq!(api.get(&format!("/passings/session/{token}")).await.status, 200);
        assert_eq!(api.post("/passings", &batch(&token, [1])).await.status, 502);
        assert_eq!(api.post("/passings", &batch(&token, [1])).await.status, 502);
        sim.clear_faults();
        assert_eq!(api.post("/passings", &batch(&token, [1])).await.status, 201);

        let never =
            FaultRule { probability: 0.0, ..FaultRule::always(FaultKind::ServerError(500), None) };
        sim.push_fault(never);
        for _ in 0..5 {
            assert_eq!(api.get("/devices").await.status, 200);
        }
        sim.clear_faults();
        sim.push_fault("503,n=2".parse().unwrap());
        assert_eq!(api.get("/devices").await.status, 503);
        assert_eq!(api.get("/events").await.status, 503);
        assert_eq!(api.get("/devices").await.status, 200);
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn admin_endpoints_arm_inspect_and_close() {
    bounded(async {
        let sim = sim().await;
        let api = Api::new(&sim);
        let (_, token) = api.device_and_session().await;
        let root = sim.base_url().trim_end_matches("/v0").to_owned();
        let admin = Api { base: root, ..api.clone() };

        let armed = admin.post("/_sim/faults", &json!("503,n=1@POST /passings")).await;
        assert_eq!(armed.status, 201, "{armed:?}");
        let as_json =
            json!({"kind": {"RateLimited": {"retry_after_secs": 3}}, "route": "GET /events"});
        assert_eq!(admin.post("/_sim/faults", &as_json).await.status, 201);
        let listed = admin.get("/_sim/faults").await;
        assert_eq!(listed.body["specs"], json!(["503,n=1@POST /passings", "429:3@GET /events"]));
        assert_eq!(admin.post("/_sim/faults", &json!("bogus")).await.status, 400);
        assert_eq!(api.post("/passings", &batch(&token, [1])).await.status, 503);
        assert_eq!(api.get("/events").await.status, 429);
        assert_eq!(admin.delete("/_sim/faults").await.status, 200);
        assert_eq!(api.get("/events").await.status, 200);

        let closed = admin.post(&format!("/_sim/sessions/{token}/close"), &json!({})).await;
        assert_eq!(closed.status, 200);
        assert!(!sim.snapshot().session(&token).unwrap().active);
        assert_eq!(admin.post("/_sim/sessions/NOPE/close", &json!({})).await.status, 404);

        let state = admin.get("/_sim/state").await;
        assert_eq!(state.status, 200);
        assert_eq!(state.body["sessions"][0]["token_session"], json!(token));

        let reader = admin.with_key(&sim.add_key(rufus_cloud_sim::Access::Read, false));
        assert_eq!(reader.get("/_sim/state").await.status, 403);
        let anonymous = http().get(format!("{}/_sim/state", admin.base)).send().await.unwrap();
        assert_eq!(anonymous.status(), 401);
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn any_status_from_400_to_599_can_be_injected() {
    bounded(async {
        let sim = sim().await;
        let api = Api::new(&sim);
        let (_, token) = api.device_and_session().await;
        for status in [400u16, 401, 403, 404, 408, 409, 422, 425, 500, 502, 503, 504, 599] {
            sim.push_fault(format!("{status},n=1@POST /passings").parse().unwrap());
            let answer = api.post("/passings", &batch(&token, [1])).await;
            assert_eq!(answer.status, status);
            assert!(!answer.description().is_empty(), "{status}: {answer:?}");
            assert!(answer.headers.get("retry-after").is_none(), "{status}");
        }
        sim.push_fault(FaultRule::once(FaultKind::Status(425), Some("GET /devices")));
        assert_eq!(api.get("/devices").await.status, 425);
        assert!(sim.snapshot().session(&token).unwrap().received.is_empty(), "nothing handled");
        // 429 keeps its Retry-After.
        sim.push_fault("429:9,n=1".parse().unwrap());
        let limited = api.get("/devices").await;
        assert_eq!((limited.status, &limited.headers["retry-after"]), (429, &"9".parse().unwrap()));
        assert_eq!(api.post("/passings", &batch(&token, [1])).await.status, 201);
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_timed_rule_fires_until_it_expires() {
    bounded(async {
        let sim = sim().await;
        let api = Api::new(&sim);
        let admin = Api { base: sim.base_url().trim_end_matches("/v0").to_owned(), ..api.clone() };
        sim.push_fault("503,for=400ms@GET /devices".parse().unwrap());
        sim.push_fault(
            FaultRule::always(FaultKind::Status(401), Some("GET /events"))
                .lasting(Duration::from_millis(400)),
        );
        assert_eq!(api.get("/devices").await.status, 503);
        assert_eq!(api.get("/devices").await.status, 503, "not used up by firing");
        assert_eq!(api.get("/events").await.status, 401);
        let listed = admin.get("/_sim/faults").await;
        assert_eq!(
            listed.body["specs"],
            json!(["503,for=400ms@GET /devices", "401,for=400ms@GET /events"])
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(api.get("/devices").await.status, 200);
        assert_eq!(api.get("/events").await.status, 200);
        assert_eq!(admin.get("/_sim/faults").await.body["specs"], json!([]));
        // Armed through the admin endpoint as JSON, with a count as well: whichever ends first.
        let rule = json!({"kind": {"Status": 408}, "times": 1, "active_for_ms": 60_000});
        assert_eq!(admin.post("/_sim/faults", &rule).await.status, 201);
        assert_eq!(api.get("/devices").await.status, 408);
        assert_eq!(api.get("/devices").await.status, 200);
        let out_of_range = json!({"kind": {"Status": 302}});
        assert_eq!(admin.post("/_sim/faults", &out_of_range).await.status, 400);
        sim.shutdown().await;
    })
    .await;
}

fn impatient(timeout_ms: u64) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(timeout_ms))
        .build()
        .unwrap()
}

#[tokio::test]
async fn hang_after_commit_applies_then_holds_the_answer() {
    bounded(async {
        let sim = sim().await;
        let api = Api::new(&sim);
        let (_, token) = api.device_and_session().await;
        sim.push_fault("hang-after:2s,n=1@POST /passings".parse().unwrap());
        let error = impatient(300)
            .post(format!("{}/passings", api.base))
            .header("api_key", &api.key)
            .json(&batch(&token, [1, 2]))
            .send()
            .await
            .expect_err("the answer is held past the client's timeout");
        assert!(error.is_timeout(), "{error:?}");
        assert_eq!(sim.snapshot().session(&token).unwrap().num_passings(), vec![1, 2]);

        // A patient client gets the late answer.
        sim.push_fault("hang-after:300ms,n=1@POST /passings".parse().unwrap());
        #[allow(clippy::disallowed_methods)] // measuring the hold itself
        let started = std::time::Instant::now();
        let late = api.post("/passings", &batch(&token, [3])).await;
        assert!(started.elapsed() >= Duration::from_millis(300));
        assert_eq!(late.status, 201);
        assert_eq!(late.body["inserted_count"], json!(1));
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn hang_before_commit_holds_then_drops_without_touching_state() {
    bounded(async {
        let sim = sim().await;
        let api = Api::new(&sim);
        let (_, token) = api.device_and_session().await;
        sim.push_fault(FaultRule::once(
            FaultKind::HangBeforeCommit { hold_ms: 2000 },
            Some("POST /passings"),
        ));
        let error = impatient(300)
            .post(format!("{}/passings", api.base))
            .header("api_key", &api.key)
            .json(&batch(&token, [1]))
            .send()
            .await
            .expect_err("no answer within the client's timeout");
        assert!(error.is_timeout(), "{error:?}");

        sim.push_fault("hang-before:200ms,n=1@POST /passings".parse().unwrap());
        let error = api
            .try_send(Method::POST, "/passings", Some(&batch(&token, [1])))
            .await
            .expect_err("the connection is dropped after the hold, with no answer");
        assert!(!error.is_timeout(), "{error:?}");
        // Give the first request's hold time to pass: it still must not land.
        tokio::time::sleep(Duration::from_millis(1900)).await;
        assert!(sim.snapshot().session(&token).unwrap().received.is_empty());
        sim.shutdown().await;
    })
    .await;
}
