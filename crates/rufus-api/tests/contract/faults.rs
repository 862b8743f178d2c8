//! Fault classification: each injected fault of the simulator becomes the error variant and the
//! retry advice the sync engine relies on — above all, a reset after commit is `Ambiguous`, the
//! passings did land, and reconciliation through P2 finds them.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests stop loudly

use std::time::Duration;

use rufus_api::{ApiError, ApiKey, ClientConfig, Operation, Retry, RufusClient};
use rufus_cloud_sim::{Envelope, FaultKind, FaultRule, SimConfig};

use crate::support::{batch, bounded, client, client_with, device_and_session, sim, sim_with};

fn once(kind: FaultKind, route: &str) -> FaultRule {
    FaultRule::once(kind, Some(route))
}

#[tokio::test]
async fn server_error_is_server_and_safe_to_retry() {
    bounded(async {
        for envelope in [Envelope::Plain, Envelope::Wrapped] {
            let sim = sim_with(envelope).await;
            let c = client(&sim);
            let (_, token) = device_and_session(&c, "SN-5XX").await;
            sim.push_fault(once(FaultKind::ServerError(503), "POST /passings"));
            let e = c.insert_passings(&token, &batch(1..=3)).await.unwrap_err();
            assert!(
                matches!(e, ApiError::Server { status: 503, op: Operation::InsertPassings, .. }),
                "{e:?}"
            );
            assert_eq!(e.retry(), Retry::Safe);
            assert!(e.is_retryable());
            assert!(sim.snapshot().session(token.as_str()).unwrap().received.is_empty());
            // The fault fired once: the retry goes through.
            assert_eq!(c.insert_passings(&token, &batch(1..=3)).await.unwrap().inserted_count, 3);
            sim.shutdown().await;
        }
    })
    .await;
}

#[tokio::test]
async fn rate_limit_carries_retry_after() {
    bounded(async {
        let sim = sim_with(Envelope::Wrapped).await;
        let c = client(&sim);
        let (deviceid, token) = device_and_session(&c, "SN-429").await;
        sim.push_fault(once(FaultKind::RateLimited { retry_after_secs: 7 }, "POST /passings"));
        let e = c.insert_passings(&token, &batch(1..=3)).await.unwrap_err();
        assert_eq!(
            e,
            ApiError::RateLimited {
                op: Operation::InsertPassings,
                retry_after: Some(Duration::from_secs(7))
            }
        );
        assert_eq!(e.retry(), Retry::After(Duration::from_secs(7)));
        assert!(e.to_string().contains("retry after 7 s"), "{e}");
        // Reads are limited the same way.
        sim.push_fault(once(FaultKind::RateLimited { retry_after_secs: 2 }, "GET /devices"));
        let e = c.device(&deviceid).await.unwrap_err();
        assert_eq!(e.retry(), Retry::After(Duration::from_secs(2)));
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn reset_before_commit_is_ambiguous_and_nothing_landed() {
    bounded(async {
        let sim = sim_with(Envelope::Plain).await;
        let c = client(&sim);
        let (_, token) = device_and_session(&c, "SN-RESET-BEFORE").await;
        sim.push_fault(once(FaultKind::ResetBeforeCommit, "POST /passings"));
        let e = c.insert_passings(&token, &batch(1..=3)).await.unwrap_err();
        assert!(matches!(e, ApiError::Ambiguous { op: Operation::InsertPassings, .. }), "{e:?}");
        assert_eq!(e.retry(), Retry::Reconcile);
        let message = e.to_string();
        assert!(
            message.starts_with("insert passings: the request was sent but no answer came ("),
            "{message}"
        );
        assert!(message.ends_with("; it may have been applied"), "{message}");
        // Reconciliation: P2 finds none of them, so the whole batch is sent again.
        assert!(c.all_passings_by_range(&token, 1, 3).await.unwrap().is_empty());
        assert_eq!(c.insert_passings(&token, &batch(1..=3)).await.unwrap().inserted_count, 3);
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn reset_after_commit_is_ambiguous_and_reconciliation_finds_the_passings() {
    bounded(async {
        let sim = sim_with(Envelope::Wrapped).await;
        let c = client(&sim);
        let (_, token) = device_and_session(&c, "SN-RESET-AFTER").await;
        c.insert_passings(&token, &batch(1..=2)).await.unwrap();
        sim.push_fault(once(FaultKind::ResetAfterCommit, "POST /passings"));
        let e = c.insert_passings(&token, &batch(3..=5)).await.unwrap_err();
        assert!(matches!(e, ApiError::Ambiguous { op: Operation::InsertPassings, .. }), "{e:?}");
        assert_eq!(e.retry(), Retry::Reconcile);
        // The simulator did store them…
        assert_eq!(
            sim.snapshot().session(token.as_str()).unwrap().num_passings(),
            vec![1, 2, 3, 4, 5]
        );
        // …and P2 over the batch's range tells the client so: nothing needs re-sending.
        let landed: Vec<u64> = c
            .all_passings_by_range(&token, 3, 5)
            .await
            .unwrap()
            .iter()
            .filter_map(|p| p.num_passing)
            .collect();
        assert_eq!(landed, vec![3, 4, 5]);
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn reset_on_a_read_is_ambiguous_but_safe() {
    bounded(async {
        let sim = sim_with(Envelope::Plain).await;
        let c = client(&sim);
        let (_, token) = device_and_session(&c, "SN-RESET-READ").await;
        sim.push_fault(once(FaultKind::ResetBeforeCommit, "GET /passings/session"));
        let e = c.passings_by_range(&token, 1, 10, 1).await.unwrap_err();
        assert!(matches!(e, ApiError::Ambiguous { op: Operation::PassingsByRange, .. }), "{e:?}");
        assert_eq!(e.retry(), Retry::Safe);
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_paused_server_is_a_connection_error() {
    bounded(async {
        let sim = sim_with(Envelope::Plain).await;
        let c = client(&sim);
        let (deviceid, token) = device_and_session(&c, "SN-PAUSE").await;
        sim.pause().await;
        // A client that never connected, and the one whose pooled connection was dropped.
        let fresh = client(&sim);
        for c in [&fresh, &c] {
            let e = c.insert_passings(&token, &batch(1..=3)).await.unwrap_err();
            assert!(
                matches!(e, ApiError::Connection { op: Operation::InsertPassings, .. }),
                "{e:?}"
            );
            assert_eq!(e.retry(), Retry::Safe);
            assert!(e.to_string().contains("connection refused"), "{e}");
            let e = c.device(&deviceid).await.unwrap_err();
            assert!(matches!(e, ApiError::Connection { .. }), "{e:?}");
        }
        sim.resume().await.unwrap();
        assert_eq!(c.insert_passings(&token, &batch(1..=3)).await.unwrap().inserted_count, 3);
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn latency_beyond_the_request_timeout_is_a_timeout() {
    bounded(async {
        let sim = sim(SimConfig::default()).await;
        let (deviceid, token) = device_and_session(&client(&sim), "SN-SLOW").await;
        sim.set_latency(Duration::from_millis(1500));
        let impatient = client_with(&sim, &sim.admin_key(), Duration::from_millis(300));
        let e = impatient.insert_passings(&token, &batch(1..=3)).await.unwrap_err();
        assert_eq!(e, ApiError::Timeout { op: Operation::InsertPassings });
        assert_eq!(e.retry(), Retry::Reconcile);
        let e = impatient.device(&deviceid).await.unwrap_err();
        assert_eq!(e, ApiError::Timeout { op: Operation::Device });
        assert_eq!(e.retry(), Retry::Safe);
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_batch_over_the_servers_maximum_is_too_large() {
    bounded(async {
        let sim = sim(SimConfig { max_batch: Some(2), ..Default::default() }).await;
        let c = client(&sim);
        let (_, token) = device_and_session(&c, "SN-413").await;
        let e = c.insert_passings(&token, &batch(1..=3)).await.unwrap_err();
        assert!(matches!(e, ApiError::TooLarge { op: Operation::InsertPassings, .. }), "{e:?}");
        assert_eq!(e.retry(), Retry::Never);
        assert!(e.to_string().contains("smaller batches"), "{e}");
        // Split, it goes through.
        c.insert_passings(&token, &batch(1..=2)).await.unwrap();
        c.insert_passings(&token, &batch(3..=3)).await.unwrap();
        sim.set_max_batch(None);
        c.insert_passings(&token, &batch(4..=10)).await.unwrap();
        assert_eq!(sim.snapshot().session(token.as_str()).unwrap().passings.len(), 10);
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_session_closed_elsewhere_is_session_closed() {
    bounded(async {
        for envelope in [Envelope::Plain, Envelope::Wrapped] {
            let sim = sim_with(envelope).await;
            let c = client(&sim);
            let (_, token) = device_and_session(&c, "SN-ELSEWHERE").await;
            sim.push_fault(once(FaultKind::CloseSessionFirst, "POST /passings"));
            let e = c.insert_passings(&token, &batch(1..=3)).await.unwrap_err();
            assert!(
                matches!(e, ApiError::SessionClosed { op: Operation::InsertPassings, .. }),
                "{e:?}"
            );
            assert_eq!(e.retry(), Retry::Never);
            assert_eq!(c.session(&token).await.unwrap().active, Some(false));

            // And closed directly through the simulator's handle.
            let (_, token) = device_and_session(&c, "SN-ELSEWHERE-2").await;
            assert!(sim.close_session_elsewhere(token.as_str()));
            let e = c.insert_passings(&token, &batch(1..=1)).await.unwrap_err();
            assert!(matches!(e, ApiError::SessionClosed { .. }), "{e:?}");
            sim.shutdown().await;
        }
    })
    .await;
}

#[tokio::test]
async fn plain_http_to_a_remote_host_is_a_config_error() {
    bounded(async {
        for url in [
            "http://api.runonrufus.com/v0",
            "http://10.0.0.7:8080/v0",
            "ftp://127.0.0.1/v0",
            "https://",
            "not a url",
        ] {
            let config =
                ClientConfig::new(ApiKey::new("ror-0123456789abcdef0123")).with_base_url(url);
            let e = RufusClient::new(config).unwrap_err();
            assert!(matches!(e, ApiError::Config { .. }), "{url}: {e:?}");
            assert_eq!(e.operation(), Operation::Configure);
            assert_eq!(e.retry(), Retry::Never);
        }
        // Loopback may use plain http; https is fine anywhere.
        for url in [
            "http://127.0.0.1:1/v0",
            "http://localhost:1/v0",
            "http://[::1]:1/v0",
            rufus_api::PRODUCTION_BASE_URL,
        ] {
            let config =
                ClientConfig::new(ApiKey::new("ror-0123456789abcdef0123")).with_base_url(url);
            assert!(RufusClient::new(config).is_ok(), "{url}");
        }
    })
    .await;
}

#[tokio::test]
async fn transient_and_gateway_statuses_are_retryable() {
    bounded(async {
        let sim = sim_with(Envelope::Plain).await;
        let c = client(&sim);
        let (deviceid, token) = device_and_session(&c, "SN-TRANSIENT").await;
        for status in [408u16, 425, 500, 502, 503, 504] {
            let kind = FaultKind::for_status(status).unwrap();
            sim.push_fault(once(kind.clone(), "POST /passings"));
            let e = c.insert_passings(&token, &batch(1..=3)).await.unwrap_err();
            assert_eq!(e.status(), Some(status), "{e:?}");
            assert!(!matches!(e, ApiError::Rejected { .. }), "{status} is no rejection: {e:?}");
            assert_eq!(e.retry(), Retry::Safe, "{status}: {e:?}");
            assert!(e.is_retryable());
            sim.push_fault(once(kind, "GET /devices"));
            let e = c.device(&deviceid).await.unwrap_err();
            assert_eq!(e.retry(), Retry::Safe, "{status} on a read: {e:?}");
        }
        sim.push_fault(once(FaultKind::Status(408), "POST /passings"));
        let e = c.insert_passings(&token, &batch(1..=3)).await.unwrap_err();
        assert!(
            matches!(e, ApiError::Transient { status: 408, op: Operation::InsertPassings, .. }),
            "{e:?}"
        );
        assert_eq!(e.code(), "transient");
        assert!(e.to_string().starts_with("insert passings: "), "{e}");
        // Nothing was handled: the retry stores the batch once.
        assert!(sim.snapshot().session(token.as_str()).unwrap().received.is_empty());
        assert_eq!(c.insert_passings(&token, &batch(1..=3)).await.unwrap().inserted_count, 3);
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn unauthorized_and_forbidden_are_never_retried_blindly() {
    bounded(async {
        let sim = sim_with(Envelope::Wrapped).await;
        let c = client(&sim);
        let (_, token) = device_and_session(&c, "SN-401").await;
        for status in [401u16, 403] {
            sim.push_fault(once(FaultKind::Status(status), "POST /passings"));
            let e = c.insert_passings(&token, &batch(1..=3)).await.unwrap_err();
            assert!(matches!(e, ApiError::Unauthorized { .. }), "{e:?}");
            assert_eq!((e.status(), e.retry()), (Some(status), Retry::Never));
        }
        // Other 4xx stay rejections.
        sim.push_fault(once(FaultKind::Status(422), "POST /passings"));
        let e = c.insert_passings(&token, &batch(1..=3)).await.unwrap_err();
        assert!(matches!(e, ApiError::Rejected { status: 422, .. }), "{e:?}");
        assert_eq!(e.retry(), Retry::Never);
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_retry_after_of_a_day_is_capped_at_five_minutes() {
    bounded(async {
        let sim = sim_with(Envelope::Plain).await;
        let c = client(&sim);
        let (_, token) = device_and_session(&c, "SN-429-DAY").await;
        sim.push_fault("429:86400,n=1@POST /passings".parse().unwrap());
        let e = c.insert_passings(&token, &batch(1..=3)).await.unwrap_err();
        assert_eq!(
            e,
            ApiError::RateLimited {
                op: Operation::InsertPassings,
                retry_after: Some(rufus_api::MAX_RETRY_AFTER)
            }
        );
        assert_eq!(rufus_api::MAX_RETRY_AFTER, Duration::from_secs(300));
        assert_eq!(e.retry(), Retry::After(Duration::from_secs(300)));
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_held_answer_after_commit_is_a_timeout_and_reconciliation_finds_the_batch() {
    bounded(async {
        let sim = sim(SimConfig::default()).await;
        let (_, token) = device_and_session(&client(&sim), "SN-HANG-AFTER").await;
        let impatient = client_with(&sim, &sim.admin_key(), Duration::from_millis(300));
        sim.push_fault("hang-after:2s,n=1@POST /passings".parse().unwrap());
        let e = impatient.insert_passings(&token, &batch(1..=3)).await.unwrap_err();
        assert_eq!(e, ApiError::Timeout { op: Operation::InsertPassings });
        assert_eq!(e.retry(), Retry::Reconcile);
        assert_eq!(impatient.max_num_passing(&token).await.unwrap(), Some(3));
        let landed = impatient.all_passings_by_range(&token, 1, 3).await.unwrap();
        assert_eq!(landed.len(), 3);

        // Held before anything happens: a timeout too, and nothing landed.
        sim.push_fault("hang-before:2s,n=1@POST /passings".parse().unwrap());
        let e = impatient.insert_passings(&token, &batch(4..=6)).await.unwrap_err();
        assert_eq!(e, ApiError::Timeout { op: Operation::InsertPassings });
        assert_eq!(impatient.max_num_passing(&token).await.unwrap(), Some(3));
        sim.shutdown().await;
    })
    .await;
}
