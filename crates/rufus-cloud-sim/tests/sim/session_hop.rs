//! P4 continuous polling: it follows the device to a newer session once the polled session is
//! closed and everything after `last` has been delivered.

use serde_json::{Value, json};

use crate::common::{Api, batch, bounded, sim};

fn nums(answer: &Value) -> Vec<u64> {
    answer["passings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["num_passing"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn polling_moves_to_the_newer_session() {
    bounded(async {
        let sim = sim().await;
        let api = Api::new(&sim);
        let deviceid = api.bind("HOP-1").await;
        let old = api.open_session(&deviceid, "morning").await;
        api.post("/passings", &batch(&old, 1..=3)).await;
        let path = format!("/passings/device2/{deviceid}");

        // Still active: serves the asked session after `last`.
        let poll = api.get(&format!("{path}?token_session={old}&last=1")).await;
        assert_eq!(poll.status, 200);
        assert_eq!(poll.body["deviceid"], json!(deviceid));
        assert_eq!(poll.body["session_used"], json!(old));
        assert_eq!(poll.body["session_label"], json!("morning"));
        assert_eq!(poll.body["resumed_from"], Value::Null);
        assert_eq!(nums(&poll.body), vec![2, 3]);

        // A newer session closes the old one.
        let new = api.open_session(&deviceid, "afternoon").await;
        api.post("/passings", &batch(&new, 1..=2)).await;

        // Passings after `last` remain in the old session: they come first.
        let poll = api.get(&format!("{path}?token_session={old}&last=2")).await;
        assert_eq!(poll.body["session_used"], json!(old));
        assert_eq!(nums(&poll.body), vec![3]);

        // Everything delivered: the poll moves to the newer session, from its start.
        let poll = api.get(&format!("{path}?token_session={old}&last=3")).await;
        assert_eq!(poll.body["session_used"], json!(new));
        assert_eq!(poll.body["session_label"], json!("afternoon"));
        assert_eq!(poll.body["resumed_from"], json!(old));
        assert_eq!(nums(&poll.body), vec![1, 2]);
        assert_eq!(poll.body["passings"][0]["token_session"], json!(new));

        // Without a token: the active session.
        let poll = api.get(&path).await;
        assert_eq!(poll.body["session_used"], json!(new));
        let poll = api.get(&format!("{path}?last=1")).await;
        assert_eq!(nums(&poll.body), vec![2]);

        // A closed session with no newer one stays put.
        api.patch(&format!("/sessions/close/{new}")).await;
        let poll = api.get(&format!("{path}?token_session={new}&last=2")).await;
        assert_eq!(poll.body["session_used"], json!(new));
        assert!(nums(&poll.body).is_empty());

        assert_eq!(api.get(&format!("{path}?token_session={}", "9".repeat(64))).await.status, 404);
        assert_eq!(api.get(&format!("/passings/device2/{}", "9".repeat(64))).await.status, 404);
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn polling_hops_over_several_sessions() {
    bounded(async {
        let sim = sim().await;
        let api = Api::new(&sim);
        let deviceid = api.bind("HOP-2").await;
        let a = api.open_session(&deviceid, "a").await;
        api.post("/passings", &batch(&a, [1])).await;
        let b = api.open_session(&deviceid, "b").await; // closed by c, no passings
        let c = api.open_session(&deviceid, "c").await;
        api.post("/passings", &batch(&c, [1, 2])).await;
        let poll = api.get(&format!("/passings/device2/{deviceid}?token_session={a}&last=1")).await;
        assert_eq!(poll.body["session_used"], json!(c), "skips the empty session {b}");
        assert_eq!(poll.body["resumed_from"], json!(a));
        assert_eq!(nums(&poll.body), vec![1, 2]);
        sim.shutdown().await;
    })
    .await;
}
