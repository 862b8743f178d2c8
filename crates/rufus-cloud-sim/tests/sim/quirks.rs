//! Quirks of real servers the simulator can put on: a page size other than 5000 for P2/P3/P4,
//! numbers written as strings, `page` ignored; the admin config endpoint that switches them;
//! and the admin list of every stored passing with its session.

use rufus_cloud_sim::{Sim, SimConfig};
use serde_json::{Value, json};

use crate::common::{Api, batch, bounded, sim};

fn nums(answer: &Value) -> Vec<u64> {
    answer["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["num_passing"].as_u64().unwrap())
        .collect()
}

fn admin(sim: &Sim) -> Api {
    let api = Api::new(sim);
    Api { base: sim.base_url().trim_end_matches("/v0").to_owned(), ..api }
}

#[tokio::test]
async fn p2_pages_by_the_configured_size_also_for_closed_sessions() {
    bounded(async {
        let sim = Sim::start(SimConfig { page_size: 100, ..SimConfig::default() }).await.unwrap();
        let api = Api::new(&sim);
        let (_, token) = api.device_and_session().await;
        assert_eq!(api.post("/passings", &batch(&token, 1..=250)).await.status, 201);
        assert_eq!(api.patch(&format!("/sessions/close/{token}")).await.status, 200);
        let path = format!("/passings/session/{token}");
        // Closed sessions stay readable, page after page.
        assert_eq!(nums(&api.get(&path).await.body), (1..=100).collect::<Vec<_>>());
        assert_eq!(
            nums(&api.get(&format!("{path}?page=2")).await.body),
            (101..=200).collect::<Vec<_>>()
        );
        assert_eq!(
            nums(&api.get(&format!("{path}?page=3")).await.body),
            (201..=250).collect::<Vec<_>>()
        );
        assert!(nums(&api.get(&format!("{path}?page=4")).await.body).is_empty());
        // The widest range the API can express is accepted.
        let wide = api.get(&format!("{path}?first=0&last={}&page=3", u64::MAX)).await;
        assert_eq!(wide.status, 200);
        assert_eq!(nums(&wide.body).len(), 50);

        sim.set_page_size(7);
        assert_eq!(nums(&api.get(&path).await.body), (1..=7).collect::<Vec<_>>());
        sim.set_page_size(0); // counts as 1
        assert_eq!(nums(&api.get(&format!("{path}?page=9")).await.body), vec![9]);
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn p3_and_p4_page_by_the_configured_size() {
    bounded(async {
        let sim = sim().await;
        sim.set_page_size(2);
        let api = Api::new(&sim);
        let (deviceid, token) = api.device_and_session().await;
        assert_eq!(api.post("/passings", &batch(&token, 1..=5)).await.status, 201);
        let p3 = format!("/passings/device/{deviceid}");
        assert_eq!(nums(&api.get(&p3).await.body), vec![1, 2]);
        assert_eq!(nums(&api.get(&format!("{p3}?page=3")).await.body), vec![5]);
        assert!(nums(&api.get(&format!("{p3}?page=4")).await.body).is_empty());
        let p4 = api.get(&format!("/passings/device2/{deviceid}?page=2")).await;
        let got: Vec<u64> = p4.body["passings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["num_passing"].as_u64().unwrap())
            .collect();
        assert_eq!(got, vec![3, 4]);
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_server_that_ignores_page_repeats_page_one() {
    bounded(async {
        let sim = Sim::start(SimConfig { page_size: 3, ignore_page: true, ..SimConfig::default() })
            .await
            .unwrap();
        let api = Api::new(&sim);
        let (_, token) = api.device_and_session().await;
        api.post("/passings", &batch(&token, 1..=10)).await;
        let path = format!("/passings/session/{token}");
        for page in 1..=5 {
            assert_eq!(nums(&api.get(&format!("{path}?page={page}")).await.body), vec![1, 2, 3]);
        }
        sim.set_ignore_page(false);
        assert_eq!(nums(&api.get(&format!("{path}?page=2")).await.body), vec![4, 5, 6]);
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn string_numbers_write_every_number_as_text() {
    bounded(async {
        let sim =
            Sim::start(SimConfig { string_numbers: true, ..SimConfig::default() }).await.unwrap();
        let api = Api::new(&sim);
        let (deviceid, token) = api.device_and_session().await;
        let inserted = api.post("/passings", &batch(&token, [1, 2, 2])).await;
        assert_eq!(inserted.status, 201);
        assert_eq!(inserted.body["inserted_count"], json!("2"));
        assert_eq!(inserted.body["duplicate_count"], json!("1"));
        let p2 = api.get(&format!("/passings/session/{token}")).await;
        assert_eq!(p2.body["result"][1]["num_passing"], json!("2"));
        let s5 = api.get(&format!("/sessions/{token}")).await;
        assert_eq!(s5.body["result"][0]["passings"], json!("2"));
        assert_eq!(s5.body["result"][0]["active"], json!(true), "booleans stay booleans");
        let s3 = api.get(&format!("/sessions/device/{deviceid}")).await;
        assert_eq!(s3.body["result"][0]["passings"], json!("2"));
        let d3 = api.get("/devices?limit=10").await;
        assert_eq!(d3.body["pagination"]["page"], json!("1"));
        assert_eq!(d3.body["pagination"]["limit"], json!("10"));
        assert_eq!(d3.body["pagination"]["total"], json!("1"));
        assert_eq!(d3.body["pagination"]["has_more"], json!(false));
        assert_eq!(d3.body["result"][0]["sessions"], json!("1"));
        let events = api.get("/events").await;
        assert_eq!(events.body["pagination"]["total"], json!("3"));

        // Wrapped answers too; switched off, numbers are numbers again.
        sim.set_envelope(rufus_cloud_sim::Envelope::Wrapped);
        let wrapped = api.post("/passings", &batch(&token, [3])).await;
        assert_eq!(wrapped.body["body"]["inserted_count"], json!("1"));
        sim.set_string_numbers(false);
        let plain = api.post("/passings", &batch(&token, [4])).await;
        assert_eq!(plain.body["body"]["inserted_count"], json!(1));
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn admin_config_switches_settings() {
    bounded(async {
        let sim = sim().await;
        let admin = admin(&sim);
        let api = Api::new(&sim);
        let shown = admin.get("/_sim/config").await;
        assert_eq!(shown.status, 200);
        assert_eq!(shown.body["config"]["page_size"], json!(5000));
        assert_eq!(shown.body["config"]["string_numbers"], json!(false));
        assert_eq!(shown.body["config"]["dedup"], json!(true));

        let changed = admin
            .post("/_sim/config", &json!({"page_size": 2, "string_numbers": true, "dedup": false}))
            .await;
        assert_eq!(changed.status, 200, "{changed:?}");
        assert_eq!(changed.body["config"]["page_size"], json!(2));
        assert_eq!(changed.body["config"]["envelope"], json!("Plain"), "others stay");
        let (_, token) = api.device_and_session().await;
        let inserted = api.post("/passings", &batch(&token, [1, 2, 3, 3])).await;
        assert_eq!(inserted.body["inserted_count"], json!("4"), "dedup is off");
        let page = api.get(&format!("/passings/session/{token}")).await;
        assert_eq!(page.body["result"].as_array().unwrap().len(), 2);

        for bad in [
            json!({"page_size": 0}),
            json!({"page_size": "ten"}),
            json!({"string_numbers": 1}),
            json!({"colour": "blue"}),
            json!({"envelope": "boxed"}),
            json!([1]),
        ] {
            assert_eq!(admin.post("/_sim/config", &bad).await.status, 400, "{bad}");
        }
        let more = admin
            .post(
                "/_sim/config",
                &json!({"envelope": "wrapped", "max_batch": 10, "latency_ms": 0, "ignore_page": true}),
            )
            .await;
        assert_eq!(more.body["config"]["envelope"], json!("Wrapped"));
        assert_eq!(more.body["config"]["max_batch"], json!(10));
        assert_eq!(more.body["config"]["ignore_page"], json!(true));
        let cleared = admin.post("/_sim/config", &json!({"max_batch": null})).await;
        assert_eq!(cleared.body["config"]["max_batch"], Value::Null);
        let anonymous = api.with_key("ror-00000000000000000000");
        let refused = Api { base: admin.base.clone(), ..anonymous };
        assert_eq!(refused.get("/_sim/config").await.status, 403);
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn every_stored_passing_is_listed_with_its_session() {
    bounded(async {
        let sim = sim().await;
        let api = Api::new(&sim);
        let (_, first) = api.device_and_session().await;
        let (_, second) = api.device_and_session().await;
        api.post("/passings", &batch(&first, [1, 2])).await;
        api.post("/passings", &batch(&second, [1])).await;
        api.patch(&format!("/sessions/close/{first}")).await;

        let all = sim.all_passings();
        let got: Vec<(&str, u64, bool)> = all
            .iter()
            .map(|p| (p.token_session.as_str(), p.passing.num_passing, p.active))
            .collect();
        assert_eq!(
            got,
            vec![
                (first.as_str(), 1, false),
                (first.as_str(), 2, false),
                (second.as_str(), 1, true)
            ]
        );
        assert_eq!(sim.snapshot().all_passings().len(), 3);

        let listed = admin(&sim).get("/_sim/passings").await;
        assert_eq!(listed.status, 200);
        assert_eq!(listed.body["count"], json!(3));
        let rows = listed.body["passings"].as_array().unwrap();
        assert_eq!(rows[0]["token_session"], json!(first));
        assert_eq!(rows[0]["num_passing"], json!(1));
        assert_eq!(rows[2]["token_session"], json!(second));
        assert!(rows[2]["deviceid"].is_string());
        assert!(rows[2]["bib"].is_string());
        sim.shutdown().await;
    })
    .await;
}
