//! The shapes and rules of each endpoint: devices, sessions, passings by datetime, events.

use serde_json::{Value, json};

use crate::common::{Api, batch, bounded, seed_body, sim};

fn is_token(value: &Value) -> bool {
    value.as_str().is_some_and(|s| {
        s.len() == 64 && s.chars().all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c))
    })
}

fn is_timestamp(value: &Value) -> bool {
    value.as_str().is_some_and(|s| {
        s.len() == 24
            && s.ends_with('Z')
            && s.get(10..11) == Some("T")
            && s.get(19..20) == Some(".")
    })
}

#[tokio::test]
async fn devices_bind_list_info_unbind() {
    bounded(async {
        let sim = sim().await;
        let api = Api::new(&sim);
        let bind = api
            .post(
                "/devices",
                &json!({"model": "console", "serial_number": "SN-1", "type": "custom",
                        "alias": "Finish", "firmware": "1.0"}),
            )
            .await;
        assert_eq!(bind.status, 201);
        assert!(is_token(&bind.body["deviceid"]));
        let deviceid = bind.body["deviceid"].as_str().unwrap().to_owned();
        let again = api.post("/devices", &json!({"model": "other", "serial_number": "SN-1"})).await;
        assert_eq!(again.status, 409);
        assert_eq!(again.body["deviceid"], json!(deviceid));
        api.bind("SN-2").await;
        api.bind("SN-3").await;

        let list = api.get("/devices?page=2&limit=2").await;
        assert_eq!(list.status, 200);
        assert_eq!(list.body["result"].as_array().unwrap().len(), 1);
        assert_eq!(
            list.body["pagination"],
            json!({"page": 2, "limit": 2, "total": 3, "has_more": false})
        );
        let first = api.get("/devices?limit=2").await;
        assert_eq!(first.body["pagination"]["has_more"], json!(true));
        assert_eq!(first.body["result"][0]["serial_number"], json!("SN-1"));
        assert_eq!(api.get("/devices").await.body["pagination"]["limit"], json!(5000));
        for bad in ["limit=0", "limit=5001", "page=0", "page=x"] {
            assert_eq!(api.get(&format!("/devices?{bad}")).await.status, 400, "{bad}");
        }

        let token = api.open_session(&deviceid, "race").await;
        api.post("/passings", &seed_body(&token)).await;
        let info = api.get(&format!("/devices/{deviceid}")).await;
        assert_eq!(info.status, 200);
        let result = &info.body["result"];
        assert!(result.is_object(), "D4 result is an object");
        for field in [
            "deviceid",
            "type",
            "model",
            "alias",
            "firmware",
            "serial_number",
            "creation_date",
            "sessions",
            "passings",
            "last_seen",
        ] {
            assert!(result.get(field).is_some(), "D4 lacks {field}");
        }
        assert_eq!(result["type"], json!("custom"));
        assert_eq!(result["sessions"], json!(1));
        assert_eq!(result["passings"], json!(2));
        assert!(is_timestamp(&result["creation_date"]));

        let unbind = api.delete(&format!("/devices/{deviceid}")).await;
        assert_eq!(unbind.status, 200);
        assert_eq!(api.get(&format!("/sessions/{token}")).await.status, 404);
        let gone = api.delete(&format!("/devices/{deviceid}")).await;
        assert_eq!(gone.status, 404);
        assert_eq!(gone.body, json!({"description": "Device not found", "deviceid": deviceid}));
        assert_eq!(api.get(&format!("/devices/{deviceid}")).await.status, 404);
        assert!(sim.snapshot().sessions.is_empty());
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn sessions_lifecycle() {
    bounded(async {
        let sim = sim().await;
        let api = Api::new(&sim);
        let deviceid = api.bind("SN-S").await;
        assert_eq!(api.get(&format!("/sessions/device/{deviceid}")).await.status, 404);
        assert_eq!(api.get(&format!("/sessions/device/{deviceid}/active")).await.status, 404);
        let unknown_device = api.post("/sessions", &json!({"deviceid": "F".repeat(64)})).await;
        assert_eq!(unknown_device.status, 404);
        assert_eq!(unknown_device.description(), "Device not found");

        let first = api.open_session(&deviceid, "heat 1").await;
        api.post("/passings", &seed_body(&first)).await;
        let second = api.open_session(&deviceid, "heat 2").await;
        assert!(is_token(&json!(second)));
        let snapshot = sim.snapshot();
        assert!(!snapshot.session(&first).unwrap().active, "S1 closes the other session");
        assert!(snapshot.session(&second).unwrap().active);

        let list = api.get(&format!("/sessions/device/{deviceid}")).await;
        let sessions = list.body["result"].as_array().unwrap();
        assert_eq!(sessions.len(), 2);
        assert_eq!(sessions[0]["token_session"], json!(first));
        assert_eq!(sessions[0]["active"], json!(false));
        assert_eq!(sessions[0]["passings"], json!(2));
        assert_eq!(sessions[0]["alias"], json!("heat 1"));

        let active = api.get(&format!("/sessions/device/{deviceid}/active")).await;
        let result = active.body["result"].as_array().unwrap();
        assert_eq!(result.len(), 1, "S4 is an array of one");
        assert_eq!(result[0]["token_session"], json!(second));
        for field in ["duration", "first", "last", "creation_date", "alias", "passings"] {
            assert!(result[0].get(field).is_some(), "S4 lacks {field}");
        }

        let info = api.get(&format!("/sessions/{first}")).await;
        let one = &info.body["result"][0];
        assert_eq!(one["first"], json!("2023-01-22T09:20:25.000Z"));
        assert_eq!(one["last"], json!("2023-01-22T09:21:33.000Z"));
        assert_eq!(one["passings"], json!(2));
        assert!(is_timestamp(&one["duration"]));

        let close = api.patch(&format!("/sessions/close/{second}")).await;
        assert_eq!(close.status, 200);
        assert_eq!(close.body["token_session"], json!(second));
        assert_eq!(api.patch(&format!("/sessions/close/{second}")).await.status, 200);
        assert_eq!(api.get(&format!("/sessions/device/{deviceid}/active")).await.status, 404);
        let unknown = "A".repeat(64);
        let missing = api.patch(&format!("/sessions/close/{unknown}")).await;
        assert_eq!(missing.status, 404);
        assert_eq!(
            missing.body,
            json!({"description": "Session not found", "token_session": unknown})
        );
        assert_eq!(api.get(&format!("/sessions/{unknown}")).await.status, 404);
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn passing_out_shape_and_reads_by_datetime() {
    bounded(async {
        let sim = sim().await;
        let api = Api::new(&sim);
        let (deviceid, first) = api.device_and_session().await;
        api.post("/passings", &seed_body(&first)).await;
        let second = api.open_session(&deviceid, "later").await;
        api.post("/passings", &batch(&second, [1, 2, 3])).await;

        let read = api.get(&format!("/passings/session/{first}")).await;
        let out = &read.body["result"][1];
        assert_eq!(
            *out,
            json!({
                "token_session": first, "timestamp": "2023-01-22T09:21:33.000Z", "num_passing": 2,
                "latitude": "12.000", "longitude": "13.000", "status": "Sent",
                "participant_id": "XB123AR8", "chip": "000000000000017", "bib": "17",
                "timezone": "UTC", "gender": null, "deviceid": deviceid,
            })
        );
        assert_eq!(read.body["result"][0]["chip"], Value::Null);

        let all = api.get(&format!("/passings/device/{deviceid}")).await;
        assert_eq!(all.body["result"].as_array().unwrap().len(), 5);
        let window = api
            .get(&format!(
                "/passings/device/{deviceid}?from=2023-01-22T09:21:00.000Z&to=2024-05-01T10:00:01.001Z"
            ))
            .await;
        let got: Vec<(String, u64)> = window.body["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (p["token_session"].as_str().unwrap().to_owned(), p["num_passing"].as_u64().unwrap())
            })
            .collect();
        assert_eq!(got, vec![(first.clone(), 2), (second.clone(), 1)]);
        let bad = api.get(&format!("/passings/device/{deviceid}?from=yesterday")).await;
        assert_eq!(bad.status, 400);
        assert_eq!(api.get(&format!("/passings/device/{}", "B".repeat(64))).await.status, 404);
        assert_eq!(api.get(&format!("/passings/session/{}", "B".repeat(64))).await.status, 404);
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn events_are_listed_with_pagination() {
    bounded(async {
        let sim = sim().await;
        let api = Api::new(&sim);
        let events = api.get("/events").await;
        assert_eq!(events.status, 200);
        let list = events.body["result"].as_array().unwrap();
        assert!(!list.is_empty());
        for event in list {
            assert!(is_token(&event["event_token"]), "{event}");
            for field in ["name", "edition", "location", "status"] {
                assert!(event[field].is_string(), "{event}");
            }
            assert!(is_timestamp(&event["start_date"]) && is_timestamp(&event["end_date"]));
        }
        let page = api.get("/events?limit=1&page=2").await;
        assert_eq!(page.body["result"].as_array().unwrap().len(), 1);
        assert_eq!(page.body["pagination"]["has_more"], json!(list.len() > 2));
        assert_eq!(api.get("/events?limit=1001").await.status, 400);
        assert_eq!(api.get("/events?limit=0").await.status, 400);
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn unknown_routes_answer_json() {
    bounded(async {
        let sim = sim().await;
        let api = Api::new(&sim);
        let missing = api.get("/nothing/here").await;
        assert_eq!(missing.status, 404);
        assert_eq!(missing.description(), "Route not found");
        let wrong_method = api.patch("/devices").await;
        assert_eq!(wrong_method.status, 405);
        assert!(!wrong_method.description().is_empty());
        sim.shutdown().await;
    })
    .await;
}
