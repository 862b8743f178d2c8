//! Helpers shared by the integration tests: a small HTTP client for the simulator, the seed
//! page's passings, and a time bound for every test.
// Not every test module uses every helper.
#![allow(dead_code)]

use std::future::Future;
use std::time::Duration;

use reqwest::Method;
use reqwest::header::HeaderMap;
use rufus_cloud_sim::{Sim, SimConfig};
use serde_json::{Value, json};

/// Every test finishes within this.
pub const TEST_BOUND: Duration = Duration::from_secs(60);

/// Runs a test body with a time bound.
pub async fn bounded<F: Future>(test: F) -> F::Output {
    tokio::time::timeout(TEST_BOUND, test).await.expect("test took longer than its bound")
}

/// The `-d` body of the seed page's curl example, with the missing comma after
/// `"timezone":"UTC"` put back.
pub const SEED_BODY: &str = r#"{"token_session": "2A19294BB886C3D5C7783309BBC6E385515C843893A6BC126FECE3904C6E2B25", 
     "passings_list": [
          {
            "bib":"7",
            "num_passing":1,
            "timestamp":"2023-01-22T09:20:25.000Z"
          },
          {
            "bib":"17",
            "num_passing":2,
            "timestamp":"2023-01-22T09:21:33.000Z",
            "timezone":"UTC",
            "latitude":"12.000",
            "longitude":"13.000",
            "status":"Sent",
            "participant_id":"XB123AR8",
            "chip":"000000000000017"
          }
       ]
     }"#;

/// The seed body aimed at `token`.
pub fn seed_body(token: &str) -> Value {
    let mut body: Value = serde_json::from_str(SEED_BODY).unwrap();
    body["token_session"] = json!(token);
    body
}

/// A valid passing numbered `num`.
pub fn passing(num: u64) -> Value {
    json!({
        "bib": format!("{}", num % 1000),
        "num_passing": num,
        "timestamp": format!("2024-05-01T10:{:02}:{:02}.{:03}Z", (num / 60) % 60, num % 60, num % 1000),
    })
}

/// `POST /passings` body for `token` with these num_passing values.
pub fn batch(token: &str, nums: impl IntoIterator<Item = u64>) -> Value {
    json!({ "token_session": token, "passings_list": nums.into_iter().map(passing).collect::<Vec<_>>() })
}

/// A started simulator with default settings.
pub async fn sim() -> Sim {
    Sim::start(SimConfig::default()).await.unwrap()
}

/// An HTTP client with a fresh connection pool, no proxy, bounded requests.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(20)).build().unwrap()
}

/// One answer: status, JSON body (Null when not JSON), headers.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub headers: HeaderMap,
}

impl Answer {
    pub fn description(&self) -> &str {
        self.body["description"].as_str().unwrap_or_default()
    }
}

/// Talks to one simulator with one key (sent in `api_key`).
#[derive(Debug, Clone)]
pub struct Api {
    pub base: String,
    pub key: String,
    pub http: reqwest::Client,
}

impl Api {
    pub fn new(sim: &Sim) -> Api {
        Api { base: sim.base_url(), key: sim.admin_key(), http: http() }
    }

    pub fn with_key(&self, key: &str) -> Api {
        Api { key: key.to_owned(), ..self.clone() }
    }

    /// Sends a request; `Err` when no HTTP answer came (reset, refused, timeout).
    pub async fn try_send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, reqwest::Error> {
        let mut request =
            self.http.request(method, format!("{}{path}", self.base)).header("api_key", &self.key);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await?;
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok(Answer { status, body, headers })
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> Answer {
        self.try_send(method, path, body).await.unwrap()
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        self.send(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str) -> Answer {
        self.send(Method::PATCH, path, None).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.send(Method::DELETE, path, None).await
    }

    /// Binds a device with this serial number; returns its id.
    pub async fn bind(&self, serial: &str) -> String {
        let answer = self
            .post(
                "/devices",
                &json!({"model": "console", "serial_number": serial, "type": "custom"}),
            )
            .await;
        assert_eq!(answer.status, 201, "{answer:?}");
        answer.body["deviceid"].as_str().unwrap().to_owned()
    }

    /// Opens a session on the device; returns its token.
    pub async fn open_session(&self, deviceid: &str, alias: &str) -> String {
        let answer = self.post("/sessions", &json!({"deviceid": deviceid, "alias": alias})).await;
        assert_eq!(answer.status, 201, "{answer:?}");
        answer.body["token_session"].as_str().unwrap().to_owned()
    }

    /// A fresh device with an open session: `(deviceid, token_session)`.
    pub async fn device_and_session(&self) -> (String, String) {
        let deviceid = self.bind(&format!("SN-{}", rand_suffix())).await;
        let token = self.open_session(&deviceid, "race").await;
        (deviceid, token)
    }
}

fn rand_suffix() -> u64 {
    rand::random()
}

/// Whether the error came from a TCP reset (RST), not a clean close.
pub fn is_reset(error: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionReset
        {
            return true;
        }
        source = e.source();
    }
    false
}
