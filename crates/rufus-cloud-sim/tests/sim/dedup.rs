//! De-duplication by (token_session, num_passing): counted and dropped when on, stored when off;
//! every received num_passing is recorded either way.

use serde_json::json;

use crate::common::{Api, batch, bounded, sim};

#[tokio::test]
async fn duplicates_are_counted_and_dropped_when_on() {
    bounded(async {
        let sim = sim().await;
        let api = Api::new(&sim);
        let (_, token) = api.device_and_session().await;
        let first = api.post("/passings", &batch(&token, [1, 2, 3])).await;
        assert_eq!(first.body["inserted_count"], json!(3));
        let again = api.post("/passings", &batch(&token, [2, 3, 4, 4])).await;
        assert_eq!(again.status, 201);
        assert_eq!(again.body["inserted_count"], json!(1));
        assert_eq!(again.body["duplicate_count"], json!(3));
        let snapshot = sim.snapshot();
        let session = snapshot.session(&token).unwrap();
        assert_eq!(session.num_passings(), vec![1, 2, 3, 4]);
        assert_eq!(session.received, vec![1, 2, 3, 2, 3, 4, 4]);
        assert_eq!(session.duplicates_received, 3);
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn everything_is_stored_when_off() {
    bounded(async {
        let sim = sim().await;
        sim.set_dedup(false);
        let api = Api::new(&sim);
        let (_, token) = api.device_and_session().await;
        api.post("/passings", &batch(&token, [1, 2])).await;
        let again = api.post("/passings", &batch(&token, [2, 1])).await;
        assert_eq!(again.body["inserted_count"], json!(2));
        assert_eq!(again.body["duplicate_count"], json!(0));
        let snapshot = sim.snapshot();
        let session = snapshot.session(&token).unwrap();
        assert_eq!(session.num_passings(), vec![1, 2, 2, 1]);
        assert_eq!(session.received, vec![1, 2, 2, 1]);
        assert_eq!(session.duplicates_received, 0);
        // P2 lists the stored duplicates, ordered by num_passing.
        let read = api.get(&format!("/passings/session/{token}")).await;
        let nums: Vec<u64> = read.body["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["num_passing"].as_u64().unwrap())
            .collect();
        assert_eq!(nums, vec![1, 1, 2, 2]);
        sim.shutdown().await;
    })
    .await;
}
