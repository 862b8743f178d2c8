//! The wrapped envelope: `{"body": ...}` on every answer, `{"body": null}` for a 500, and a
//! switch back to plain at run time.

use rufus_cloud_sim::{Envelope, FaultKind, FaultRule, Sim, SimConfig};
use serde_json::{Value, json};

use crate::common::{Api, batch, bounded, seed_body};

#[tokio::test]
async fn wrapped_answers_and_switching_back() {
    bounded(async {
        let sim = Sim::start(SimConfig { envelope: Envelope::Wrapped, ..SimConfig::default() })
            .await
            .unwrap();
        let api = Api::new(&sim);
        let bind = api.post("/devices", &json!({"model": "m", "serial_number": "E-1"})).await;
        assert_eq!(bind.status, 201);
        assert_eq!(bind.body.as_object().unwrap().len(), 1, "{bind:?}");
        let deviceid = bind.body["body"]["deviceid"].as_str().unwrap().to_owned();
        let session = api.post("/sessions", &json!({"deviceid": deviceid})).await;
        let token = session.body["body"]["token_session"].as_str().unwrap().to_owned();
        let insert = api.post("/passings", &seed_body(&token)).await;
        assert_eq!(insert.body["body"]["inserted_count"], json!(2));

        let missing = api.get(&format!("/sessions/{}", "0".repeat(64))).await;
        assert_eq!(missing.status, 404);
        assert_eq!(missing.body["body"]["description"], json!("Session not found"));
        let refused = api.post("/passings", &json!({"token_session": token})).await;
        assert_eq!(refused.status, 400);
        assert!(refused.body["body"]["description"].is_string());

        sim.push_fault(FaultRule {
            times: Some(1),
            ..FaultRule::always(FaultKind::ServerError(500), Some("POST /passings"))
        });
        let crashed = api.post("/passings", &batch(&token, [3])).await;
        assert_eq!(crashed.status, 500);
        assert_eq!(crashed.body, json!({"body": Value::Null}));
        sim.push_fault(FaultRule {
            times: Some(1),
            ..FaultRule::always(FaultKind::ServerError(503), Some("POST /passings"))
        });
        let unavailable = api.post("/passings", &batch(&token, [3])).await;
        assert_eq!(unavailable.status, 503);
        assert!(unavailable.body["body"]["description"].is_string());

        sim.set_envelope(Envelope::Plain);
        let plain = api.get(&format!("/devices/{deviceid}")).await;
        assert_eq!(plain.body["result"]["deviceid"], json!(deviceid));
        assert!(plain.body.get("body").is_none());
        sim.shutdown().await;
    })
    .await;
}
