//! Strict validation of request bodies: the seed page's example passes, anything off-contract
//! is refused whole with a description naming where and which field.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Api, batch, bounded, passing, seed_body, sim};

#[tokio::test]
async fn seed_page_passings_are_accepted() {
    bounded(async {
        let sim = sim().await;
        let api = Api::new(&sim);
        let (_, token) = api.device_and_session().await;
        let answer = api.post("/passings", &seed_body(&token)).await;
        assert_eq!(answer.status, 201, "{answer:?}");
        assert_eq!(answer.description(), "Passings inserted succesfully");
        assert_eq!(answer.body["token_session"], json!(token));
        assert_eq!(answer.body["inserted_count"], json!(2));
        assert_eq!(answer.body["duplicate_count"], json!(0));
        let snapshot = sim.snapshot();
        let session = snapshot.session(&token).unwrap();
        assert_eq!(session.num_passings(), vec![1, 2]);
        let second = &session.passings[1];
        assert_eq!(second.bib, "17");
        assert_eq!(second.chip.as_deref(), Some("000000000000017"));
        assert_eq!(second.status.as_deref(), Some("Sent"));
        assert_eq!(second.timestamp, "2023-01-22T09:21:33.000Z");
        assert_eq!(second.raw["participant_id"], json!("XB123AR8"));
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn the_2023_field_name_chips_is_refused_by_name() {
    bounded(async {
        let sim = sim().await;
        let api = Api::new(&sim);
        let (_, token) = api.device_and_session().await;
        let mut body = seed_body(&token);
        let second = body["passings_list"][1].as_object_mut().unwrap();
        let chip = second.remove("chip").unwrap();
        second.insert("chips".into(), chip);
        let answer = api.post("/passings", &body).await;
        assert_eq!(answer.status, 400, "{answer:?}");
        assert!(answer.description().contains("\"chips\""), "{answer:?}");
        assert!(answer.description().contains("passings_list[1]"), "{answer:?}");
        assert!(sim.snapshot().session(&token).unwrap().passings.is_empty());
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn one_bad_passing_refuses_the_whole_batch() {
    bounded(async {
        let sim = sim().await;
        let api = Api::new(&sim);
        let (_, token) = api.device_and_session().await;
        let cases: Vec<(&str, Value, &str)> = vec![
            ("bad timestamp", json!("2023-01-22T09:20:25Z"), "\"timestamp\""),
            ("impossible date", json!("2023-02-30T09:20:25.000Z"), "\"timestamp\""),
            ("timestamp as number", json!(1_674_379_225_000_i64), "\"timestamp\""),
        ];
        for (what, timestamp, field) in cases {
            let mut body = batch(&token, [1, 2, 3]);
            body["passings_list"][2]["timestamp"] = timestamp;
            let answer = api.post("/passings", &body).await;
            assert_eq!(answer.status, 400, "{what}: {answer:?}");
            assert!(answer.description().contains(field), "{what}: {answer:?}");
            assert!(answer.description().contains("passings_list[2]"), "{what}: {answer:?}");
        }
        let field_cases: Vec<(&str, Option<Value>, &str)> = vec![
            ("num_passing", Some(json!(-1)), "\"num_passing\""),
            ("num_passing", Some(json!(1.5)), "\"num_passing\""),
            ("num_passing", Some(json!("1")), "\"num_passing\""),
            ("num_passing", None, "\"num_passing\""),
            ("bib", Some(json!(7)), "\"bib\""),
            ("bib", None, "\"bib\""),
            ("timestamp", None, "\"timestamp\""),
            ("chip", Some(Value::Null), "\"chip\""),
            ("status", Some(json!(1)), "\"status\""),
            ("latitude", Some(json!(true)), "\"latitude\""),
            ("participant_id", Some(json!(["x"])), "\"participant_id\""),
            ("timezone", Some(json!({})), "\"timezone\""),
            ("gender", Some(json!(false)), "\"gender\""),
            ("extra", Some(json!("x")), "\"extra\""),
        ];
        for (field, value, named) in field_cases {
            let mut body = batch(&token, [1, 2]);
            let second = body["passings_list"][1].as_object_mut().unwrap();
            match value {
                Some(v) => second.insert(field.into(), v),
                None => second.remove(field),
            };
            let answer = api.post("/passings", &body).await;
            assert_eq!(answer.status, 400, "{field}: {answer:?}");
            assert!(answer.description().contains(named), "{field}: {answer:?}");
            assert!(answer.description().contains("passings_list[1]"), "{field}: {answer:?}");
        }
        assert!(sim.snapshot().session(&token).unwrap().received.is_empty());
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn coordinates_may_be_strings_or_numbers() {
    bounded(async {
        let sim = sim().await;
        let api = Api::new(&sim);
        let (_, token) = api.device_and_session().await;
        let mut body = batch(&token, [1]);
        body["passings_list"][0]["latitude"] = json!(41.38);
        body["passings_list"][0]["longitude"] = json!("2.17");
        let answer = api.post("/passings", &body).await;
        assert_eq!(answer.status, 201, "{answer:?}");
        let read = api.get(&format!("/passings/session/{token}")).await;
        assert_eq!(read.body["result"][0]["latitude"], json!("41.38"));
        assert_eq!(read.body["result"][0]["longitude"], json!("2.17"));
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn top_level_shape_is_strict() {
    bounded(async {
        let sim = sim().await;
        let api = Api::new(&sim);
        let (_, token) = api.device_and_session().await;
        let cases = [
            json!([1, 2]),
            json!({"token_session": token}),
            json!({"token_session": token, "passings_list": []}),
            json!({"token_session": token, "passings_list": {}}),
            json!({"passings_list": [passing(1)]}),
            json!({"token_session": 5, "passings_list": [passing(1)]}),
            json!({"token_session": token, "passings_list": [passing(1)], "device": "x"}),
            json!({"token_session": token, "passings_list": ["not an object"]}),
        ];
        for body in cases {
            let answer = api.post("/passings", &body).await;
            assert_eq!(answer.status, 400, "{body}: {answer:?}");
            assert!(!answer.description().is_empty());
        }
        let raw = api
            .http
            .post(format!("{}/passings", api.base))
            .header("api_key", &api.key)
            .header("content-type", "application/json")
            .body(r#"{"token_session": "X" "passings_list": []}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(raw.status(), 400);
        let body: Value = raw.json().await.unwrap();
        assert!(body["description"].as_str().unwrap().contains("invalid JSON"));
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn closed_or_unknown_session_is_404() {
    bounded(async {
        let sim = sim().await;
        let api = Api::new(&sim);
        let (_, token) = api.device_and_session().await;
        let unknown = "0".repeat(64);
        let answer = api.post("/passings", &batch(&unknown, [1])).await;
        assert_eq!(answer.status, 404);
        assert_eq!(answer.description(), "Session not found or closed");
        assert_eq!(answer.body["token_session"], json!(unknown));
        assert_eq!(api.patch(&format!("/sessions/close/{token}")).await.status, 200);
        let answer = api.post("/passings", &batch(&token, [1])).await;
        assert_eq!(answer.status, 404);
        assert_eq!(answer.description(), "Session not found or closed");
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn bind_and_session_bodies_are_strict() {
    bounded(async {
        let sim = sim().await;
        let api = Api::new(&sim);
        let unknown = api
            .post("/devices", &json!({"model": "m", "serial_number": "s", "colour": "red"}))
            .await;
        assert_eq!(unknown.status, 400);
        assert!(unknown.description().contains("\"colour\""), "{unknown:?}");
        let missing = api.post("/devices", &json!({"model": "m"})).await;
        assert!(missing.description().contains("serial_number"), "{missing:?}");
        let wrong = api.post("/devices", &json!({"model": "m", "serial_number": 12})).await;
        assert_eq!(wrong.status, 400);
        let session = api.post("/sessions", &json!({"alias": "no device"})).await;
        assert_eq!(session.status, 400);
        assert!(session.description().contains("deviceid"));
        let empty = api.send(Method::POST, "/sessions", None).await;
        assert_eq!(empty.status, 400);
        sim.shutdown().await;
    })
    .await;
}
