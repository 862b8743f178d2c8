//! API keys: both headers, 401 for a missing or unknown key, 403 for missing access, and the
//! unbind flag for DELETE.

use rufus_cloud_sim::Access;
use serde_json::json;

use crate::common::{Api, bounded, sim};

#[tokio::test]
async fn key_is_accepted_in_either_header() {
    bounded(async {
        let sim = sim().await;
        let api = Api::new(&sim);
        let url = format!("{}/devices", api.base);
        for header in ["api_key", "x-api-key"] {
            let response = api.http.get(&url).header(header, &api.key).send().await.unwrap();
            assert_eq!(response.status(), 200, "{header}");
        }
        let both = api
            .http
            .get(&url)
            .header("api_key", &api.key)
            .header("x-api-key", &api.key)
            .send()
            .await
            .unwrap();
        assert_eq!(both.status(), 200);
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn missing_or_unknown_key_is_401() {
    bounded(async {
        let sim = sim().await;
        let api = Api::new(&sim);
        let none = api.http.get(format!("{}/devices", api.base)).send().await.unwrap();
        assert_eq!(none.status(), 401);
        let body: serde_json::Value = none.json().await.unwrap();
        assert!(body["description"].as_str().unwrap().contains("api key"));
        let unknown = api.with_key("ror-00000000000000000000").get("/devices").await;
        assert_eq!(unknown.status, 401);
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn read_key_reads_but_may_not_write() {
    bounded(async {
        let sim = sim().await;
        let admin = Api::new(&sim);
        let reader = admin.with_key(&sim.add_key(Access::Read, false));
        assert_eq!(reader.get("/devices").await.status, 200);
        let refused = reader.post("/devices", &json!({"model": "m", "serial_number": "s"})).await;
        assert_eq!(refused.status, 403, "{refused:?}");
        assert!(refused.description().contains("WRITE"), "{refused:?}");
        assert!(sim.snapshot().devices.is_empty());
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn write_key_writes_but_may_not_read() {
    bounded(async {
        let sim = sim().await;
        let admin = Api::new(&sim);
        let writer = admin.with_key(&sim.add_key(Access::Write, false));
        let deviceid = writer.bind("W-1").await;
        let token = writer.open_session(&deviceid, "w").await;
        assert_eq!(writer.patch(&format!("/sessions/close/{token}")).await.status, 200);
        let refused = writer.get("/devices").await;
        assert_eq!(refused.status, 403);
        assert!(refused.description().contains("READ"), "{refused:?}");
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn delete_needs_the_unbind_flag() {
    bounded(async {
        let sim = sim().await;
        let admin = Api::new(&sim);
        let deviceid = admin.bind("U-1").await;
        let path = format!("/devices/{deviceid}");
        for (access, unbind) in
            [(Access::Write, false), (Access::ReadWrite, false), (Access::Read, true)]
        {
            let refused = admin.with_key(&sim.add_key(access, unbind)).delete(&path).await;
            assert_eq!(refused.status, 403, "{access:?} unbind={unbind}: {refused:?}");
            assert!(refused.description().contains("unbind"), "{refused:?}");
        }
        assert!(sim.snapshot().device(&deviceid).is_some());
        let unbinder = admin.with_key(&sim.add_key(Access::Write, true));
        let done = unbinder.delete(&path).await;
        assert_eq!(done.status, 200, "{done:?}");
        assert_eq!(done.body["deviceid"], json!(deviceid));
        assert!(sim.snapshot().device(&deviceid).is_none());
        sim.shutdown().await;
    })
    .await;
}
