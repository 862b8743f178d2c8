//! Pause and resume (connection refused, then the same address again with state kept), and the
//! state file (a restarted simulator keeps devices, sessions, passings and keys).

use rufus_cloud_sim::{Access, Sim, SimConfig};
use serde_json::json;

use crate::common::{Api, batch, bounded, seed_body, sim};

#[tokio::test]
async fn pause_refuses_connections_and_resume_keeps_state() {
    bounded(async {
        let sim = sim().await;
        let api = Api::new(&sim);
        let (_, token) = api.device_and_session().await;
        api.post("/passings", &batch(&token, [1, 2])).await;
        let addr = sim.addr();

        // `api` keeps a keep-alive connection open: pause must drop it too.
        sim.pause().await;
        let error = api.try_send(reqwest::Method::GET, "/devices", None).await.unwrap_err();
        assert!(error.is_connect() || error.is_request(), "{error:?}");
        let fresh = Api { http: crate::common::http(), ..api.clone() };
        let refused = fresh.try_send(reqwest::Method::GET, "/devices", None).await.unwrap_err();
        assert!(refused.is_connect(), "connection refused while paused: {refused:?}");
        sim.pause().await; // pausing twice is harmless

        sim.resume().await.unwrap();
        sim.resume().await.unwrap(); // so is resuming twice
        assert_eq!(sim.addr(), addr);
        let again = api.post("/passings", &batch(&token, [3])).await;
        assert_eq!(again.status, 201);
        assert_eq!(sim.snapshot().session(&token).unwrap().num_passings(), vec![1, 2, 3]);
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn state_file_round_trip() {
    bounded(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sim-state.json");
        let config = SimConfig { state_file: Some(path.clone()), ..SimConfig::default() };

        let first = Sim::start(config.clone()).await.unwrap();
        let api = Api::new(&first);
        let reader_key = first.add_key(Access::Read, false);
        let (deviceid, token) = api.device_and_session().await;
        api.post("/passings", &seed_body(&token)).await;
        let closed = api.open_session(&deviceid, "second").await;
        api.post("/passings", &batch(&closed, [1])).await;
        api.patch(&format!("/sessions/close/{closed}")).await;
        let admin_key = first.admin_key();
        let before = first.snapshot();
        first.shutdown().await;
        assert!(path.exists());

        let second = Sim::start(config).await.unwrap();
        assert_eq!(second.admin_key(), admin_key, "the admin key survives a restart");
        let after = second.snapshot();
        assert_eq!(serde_json::to_value(&after).unwrap(), serde_json::to_value(&before).unwrap());
        let api = Api::new(&second);
        let reader = api.with_key(&reader_key);
        let info = reader.get(&format!("/devices/{deviceid}")).await;
        assert_eq!(info.status, 200, "keys survive a restart");
        assert_eq!(info.body["result"]["sessions"], json!(2));
        // Closed sessions stay closed.
        assert_eq!(api.post("/passings", &batch(&token, [3])).await.status, 404);
        assert_eq!(api.post("/passings", &batch(&closed, [2])).await.status, 404);
        second.shutdown().await;

        let fixed = SimConfig {
            state_file: Some(path),
            admin_key: Some("ror-0123456789abcdef0123".into()),
            ..SimConfig::default()
        };
        let third_run = Sim::start(fixed).await.unwrap();
        assert_eq!(third_run.admin_key(), "ror-0123456789abcdef0123");
        assert_eq!(third_run.snapshot().sessions.len(), 2);
        let old_admin = Api::new(&third_run).with_key(&admin_key);
        assert_eq!(old_admin.get("/devices").await.status, 200, "older keys stay valid");
        third_run.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn dedup_survives_a_restart() {
    bounded(async {
        let dir = tempfile::tempdir().unwrap();
        let config =
            SimConfig { state_file: Some(dir.path().join("state.json")), ..SimConfig::default() };
        let first = Sim::start(config.clone()).await.unwrap();
        let (_, token) = Api::new(&first).device_and_session().await;
        Api::new(&first).post("/passings", &batch(&token, [1, 2])).await;
        first.shutdown().await;
        let second = Sim::start(config).await.unwrap();
        let again = Api::new(&second).post("/passings", &batch(&token, [2, 3])).await;
        assert_eq!(again.body["inserted_count"], json!(1));
        assert_eq!(again.body["duplicate_count"], json!(1));
        second.shutdown().await;
    })
    .await;
}
