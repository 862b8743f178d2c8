//! The `rufus-cloud-sim` binary: started with `--port 0`, it prints one READY line with its base
//! URL and key, serves the seed passings with that key, and refuses a bad `--fault` spec.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::json;

use crate::common::{Api, bounded, http, seed_body};

const BIN: &str = env!("CARGO_BIN_EXE_rufus-cloud-sim");

/// Kills the child process when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the binary and waits (bounded) for its READY line: `(process, base url, key)`.
fn start(args: &[&str]) -> (Running, String, String) {
    let mut child = Command::new(BIN)
        .args(["--port", "0"])
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let running = Running(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(Duration::from_secs(30)).expect("no READY line within 30 s");
    let mut words = line.trim_end().split(' ');
    assert_eq!(words.next(), Some("READY"), "{line:?}");
    let base = words.next().unwrap().to_owned();
    let key = words.next().unwrap().strip_prefix("KEY=").unwrap().to_owned();
    assert_eq!(words.next(), None, "{line:?}");
    (running, base, key)
}

#[tokio::test]
async fn binary_prints_ready_and_serves_the_seed_passings() {
    bounded(async {
        let (mut running, base, key) = start(&[]);
        assert!(base.starts_with("http://127.0.0.1:") && base.ends_with("/v0"), "{base}");
        assert!(key.starts_with("ror-") && key.len() == 24, "{key}");
        let api = Api { base, key, http: http() };
        let (_, token) = api.device_and_session().await;
        let answer = api.post("/passings", &seed_body(&token)).await;
        assert_eq!(answer.status, 201, "{answer:?}");
        assert_eq!(answer.body["inserted_count"], json!(2));
        running.0.kill().unwrap();
        running.0.wait().unwrap();
    })
    .await;
}

#[tokio::test]
async fn binary_options_reach_the_server() {
    bounded(async {
        let (_running, base, key) = start(&[
            "--envelope",
            "wrapped",
            "--key",
            "ror-aaaaaaaaaaaaaaaaaaaa",
            "--max-batch",
            "1",
            "--fault",
            "429:5,n=1@GET /events",
        ]);
        assert_eq!(key, "ror-aaaaaaaaaaaaaaaaaaaa");
        let api = Api { base, key, http: http() };
        let limited = api.get("/events").await;
        assert_eq!(limited.status, 429);
        assert_eq!(limited.headers["retry-after"], "5");
        let events = api.get("/events").await;
        assert!(events.body["body"]["result"].is_array(), "{events:?}");
        let bind = api.post("/devices", &json!({"model": "m", "serial_number": "B-1"})).await;
        let deviceid = bind.body["body"]["deviceid"].as_str().unwrap().to_owned();
        let session = api.post("/sessions", &json!({"deviceid": deviceid})).await;
        let token = session.body["body"]["token_session"].as_str().unwrap().to_owned();
        assert_eq!(api.post("/passings", &seed_body(&token)).await.status, 413);
    })
    .await;
}

#[tokio::test]
async fn binary_page_size_and_string_numbers() {
    bounded(async {
        let (_running, base, key) = start(&["--page-size", "2", "--string-numbers"]);
        let api = Api { base, key, http: http() };
        let (_, token) = api.device_and_session().await;
        let answer = api.post("/passings", &seed_body(&token)).await;
        assert_eq!(answer.body["inserted_count"], json!("2"));
        let seed = api.post("/passings", &crate::common::batch(&token, 3..=5)).await;
        assert_eq!(seed.status, 201);
        let page = api.get(&format!("/passings/session/{token}?page=2")).await;
        let nums: Vec<&str> = page.body["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["num_passing"].as_str().unwrap())
            .collect();
        assert_eq!(nums, ["3", "4"]);
    })
    .await;
}

/// Whether the binary exits with a failure, given these arguments (it must exit within 10 s).
fn refuses(args: &[&str]) -> bool {
    let mut child = Command::new(BIN)
        .args(["--port", "0"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..200 {
        if let Some(status) = child.try_wait().unwrap() {
            return !status.success();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    false
}

#[test]
fn binary_refuses_a_bad_fault_spec() {
    assert!(refuses(&["--fault", "600:0.5"]), "the binary accepted a bad --fault spec");
    assert!(refuses(&["--fault", "503,for=soon"]), "the binary accepted a bad --fault spec");
}

#[test]
fn binary_refuses_a_zero_page_size() {
    assert!(refuses(&["--page-size", "0"]), "the binary accepted --page-size 0");
}
