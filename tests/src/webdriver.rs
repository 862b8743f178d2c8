//! A small W3C WebDriver client (sessions, elements by `data-testid`, keys, clicks, scripts,
//! screenshots) over HTTP, enough to drive the real app through tauri-driver without a
//! JavaScript or Python toolchain.

use std::time::Duration;

use serde_json::{Value, json};

/// What can go wrong talking to the driver.
#[derive(Debug, thiserror::Error)]
pub enum WebDriverError {
    /// HTTP failed.
    #[error("webdriver http: {0}")]
    Http(#[from] reqwest::Error),
    /// The driver answered with an error.
    #[error("webdriver {command}: {error}: {message}")]
    Driver {
        /// The command.
        command: String,
        /// W3C error code.
        error: String,
        /// Its message.
        message: String,
    },
    /// A wait ran out.
    #[error("timed out after {0:?} waiting for {1}")]
    Timeout(Duration, String),
    /// An answer without the expected field.
    #[error("webdriver: unexpected answer: {0}")]
    Unexpected(String),
}

type Result<T> = std::result::Result<T, WebDriverError>;

/// The W3C element key.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A WebDriver session.
#[derive(Debug, Clone)]
pub struct Session {
    http: reqwest::Client,
    base: String,
}

/// An element of the page.
#[derive(Debug, Clone)]
pub struct Element {
    session: Session,
    id: String,
}

impl Session {
    /// Opens a session on a tauri-driver at `driver_url` for the app binary `application`.
    pub async fn tauri(driver_url: &str, application: &str) -> Result<Self> {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?;
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "wry",
            "tauri:options": {"application": application}
        }}});
        let answer = call(
            &http,
            reqwest::Method::POST,
            &format!("{driver_url}/session"),
            Some(caps),
            "new session",
        )
        .await?;
        let id = answer
            .get("sessionId")
            .and_then(Value::as_str)
            .ok_or_else(|| WebDriverError::Unexpected(answer.to_string()))?;
        Ok(Self { http, base: format!("{driver_url}/session/{id}") })
    }

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value> {
        call(&self.http, method, &format!("{}{path}", self.base), body, path).await
    }

    /// The element with `data-testid="id"`, waiting up to `wait` for it to appear.
    pub async fn by_test_id(&self, id: &str, wait: Duration) -> Result<Element> {
        self.find(&format!("[data-testid=\"{id}\"]"), wait).await
    }

    /// The first element matching a CSS selector, waiting up to `wait`.
    pub async fn find(&self, css: &str, wait: Duration) -> Result<Element> {
        let mut waited = Duration::ZERO;
        loop {
            let body = json!({"using": "css selector", "value": css});
            match self.cmd(reqwest::Method::POST, "/element", Some(body)).await {
                Ok(v) => {
                    let id = v
                        .get(ELEMENT)
                        .and_then(Value::as_str)
                        .ok_or_else(|| WebDriverError::Unexpected(v.to_string()))?;
                    return Ok(Element { session: self.clone(), id: id.to_owned() });
                }
                Err(WebDriverError::Driver { error, .. })
                    if error == "no such element" && waited < wait =>
                {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    waited += Duration::from_millis(100);
                }
                Err(WebDriverError::Driver { error, .. }) if error == "no such element" => {
                    return Err(WebDriverError::Timeout(wait, css.to_owned()));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// How many elements match a CSS selector now.
    pub async fn count(&self, css: &str) -> Result<usize> {
        let body = json!({"using": "css selector", "value": css});
        let v = self.cmd(reqwest::Method::POST, "/elements", Some(body)).await?;
        Ok(v.as_array().map_or(0, Vec::len))
    }

    /// Runs a script in the page and returns its value.
    pub async fn execute(&self, script: &str, args: Value) -> Result<Value> {
        self.cmd(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
        .await
    }

    /// Waits until `script` (returning a boolean) is true.
    pub async fn wait_until(&self, what: &str, script: &str, wait: Duration) -> Result<()> {
        let mut waited = Duration::ZERO;
        loop {
            if self.execute(script, json!([])).await?.as_bool() == Some(true) {
                return Ok(());
            }
            if waited >= wait {
                return Err(WebDriverError::Timeout(wait, what.to_owned()));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            waited += Duration::from_millis(200);
        }
    }

    /// A PNG of the window.
    pub async fn screenshot(&self) -> Result<Vec<u8>> {
        let v = self.cmd(reqwest::Method::GET, "/screenshot", None).await?;
        let b64 = v.as_str().ok_or_else(|| WebDriverError::Unexpected("screenshot".into()))?;
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| WebDriverError::Unexpected(format!("screenshot base64: {e}")))
    }

    /// The handles of the app's windows.
    pub async fn windows(&self) -> Result<Vec<String>> {
        let v = self.cmd(reqwest::Method::GET, "/window/handles", None).await?;
        Ok(v.as_array()
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default())
    }

    /// The window commands go to now.
    pub async fn window(&self) -> Result<String> {
        let v = self.cmd(reqwest::Method::GET, "/window", None).await?;
        v.as_str().map(str::to_owned).ok_or_else(|| WebDriverError::Unexpected(v.to_string()))
    }

    /// Sends the following commands to the window `handle`.
    pub async fn switch_to(&self, handle: &str) -> Result<()> {
        self.cmd(reqwest::Method::POST, "/window", Some(json!({"handle": handle})))
            .await
            .map(|_| ())
    }

    /// Resizes the current window (outer size, pixels).
    pub async fn set_size(&self, width: u32, height: u32) -> Result<()> {
        let body = json!({"width": width, "height": height});
        self.cmd(reqwest::Method::POST, "/window/rect", Some(body)).await.map(|_| ())
    }

    /// Ends the session (closes the app).
    pub async fn quit(self) -> Result<()> {
        self.cmd(reqwest::Method::DELETE, "", None).await.map(|_| ())
    }
}

impl Element {
    async fn cmd(&self, method: reqwest::Method, what: &str, body: Option<Value>) -> Result<Value> {
        self.session.cmd(method, &format!("/element/{}{what}", self.id), body).await
    }

    /// Clicks it.
    pub async fn click(&self) -> Result<()> {
        self.cmd(reqwest::Method::POST, "/click", Some(json!({}))).await.map(|_| ())
    }

    /// Types text into it (`\u{E007}` is Enter).
    pub async fn send_keys(&self, text: &str) -> Result<()> {
        self.cmd(reqwest::Method::POST, "/value", Some(json!({"text": text}))).await.map(|_| ())
    }

    /// Clears an input.
    pub async fn clear(&self) -> Result<()> {
        self.cmd(reqwest::Method::POST, "/clear", Some(json!({}))).await.map(|_| ())
    }

    /// Its visible text.
    pub async fn text(&self) -> Result<String> {
        Ok(self
            .cmd(reqwest::Method::GET, "/text", None)
            .await?
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    /// An attribute.
    pub async fn attr(&self, name: &str) -> Result<Option<String>> {
        Ok(self
            .cmd(reqwest::Method::GET, &format!("/attribute/{name}"), None)
            .await?
            .as_str()
            .map(str::to_owned))
    }
}

/// The WebDriver Enter key.
pub const ENTER: &str = "\u{E007}";

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<Value>,
    command: &str,
) -> Result<Value> {
    let mut req = http.request(method, url);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let answer: Value = req.send().await?.json().await?;
    let value = answer.get("value").cloned().unwrap_or(Value::Null);
    if let Some(error) = value.get("error").and_then(Value::as_str) {
        return Err(WebDriverError::Driver {
            command: command.to_owned(),
            error: error.to_owned(),
            message: value.get("message").and_then(Value::as_str).unwrap_or_default().to_owned(),
        });
    }
    // A new session answers {value: {sessionId, capabilities}}.
    Ok(value)
}
