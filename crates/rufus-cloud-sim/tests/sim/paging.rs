//! P2 reads by num_passing range: 5000 a page, 1-based, ordered by num_passing whatever the
//! arrival order, `first` and `last` inclusive.

use serde_json::Value;

use crate::common::{Api, batch, bounded, sim};

fn nums(answer: &Value) -> Vec<u64> {
    answer["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["num_passing"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn more_than_5000_passings_are_paged() {
    bounded(async {
        let sim = sim().await;
        let api = Api::new(&sim);
        let (_, token) = api.device_and_session().await;
        // Arrival order differs from num_passing order: the newer half arrives first.
        let first = api.post("/passings", &batch(&token, 2501..=6001)).await;
        assert_eq!(first.status, 201, "{:?}", first.description());
        let second = api.post("/passings", &batch(&token, 1..=2500)).await;
        assert_eq!(second.status, 201);

        let path = format!("/passings/session/{token}");
        let page1 = api.get(&path).await;
        assert_eq!(nums(&page1.body), (1..=5000).collect::<Vec<_>>());
        let page2 = api.get(&format!("{path}?page=2")).await;
        assert_eq!(nums(&page2.body), (5001..=6001).collect::<Vec<_>>());
        let page3 = api.get(&format!("{path}?page=3")).await;
        assert!(nums(&page3.body).is_empty());

        let range = api.get(&format!("{path}?first=4990&last=5010")).await;
        assert_eq!(nums(&range.body), (4990..=5010).collect::<Vec<_>>());
        let from = api.get(&format!("{path}?first=1000&page=2")).await;
        assert_eq!(nums(&from.body), (6000..=6001).collect::<Vec<_>>());
        let empty = api.get(&format!("{path}?first=7000")).await;
        assert_eq!(empty.status, 200);
        assert!(nums(&empty.body).is_empty());
        assert_eq!(api.get(&format!("{path}?page=0")).await.status, 400);
        assert_eq!(api.get(&format!("{path}?first=-1")).await.status, 400);
        sim.shutdown().await;
    })
    .await;
}
