//! Client configuration: where the API lives, the secret key, and timeouts — with the rules that
//! keep the key safe (https unless loopback; the key never printed).

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use url::{Host, Url};

use crate::error::ApiError;

/// RUFUS Cloud in production.
pub const PRODUCTION_BASE_URL: &str = "https://api.runonrufus.com/v0";
/// Default time allowed to open a connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default time allowed for a whole request, from connecting to the last byte of the answer.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// An account API key (`ror-` + 20 hex chars in examples; treated as an opaque secret).
///
/// `Debug` prints a redaction and there is no `Display`, so the key cannot end up in logs or
/// error messages by accident; [`ApiKey::expose_secret`] is the one way to read it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key. Surrounding whitespace (from a paste) is removed.
    pub fn new(key: impl Into<String>) -> Self {
        let key: String = key.into();
        let trimmed = key.trim();
        if trimmed.len() == key.len() { Self(key) } else { Self(trimmed.to_owned()) }
    }

    /// The key itself, to put in a header. Never log or display it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// Whether the key is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// How to reach RUFUS Cloud.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// API base URL including the version path, e.g. [`PRODUCTION_BASE_URL`] or the simulator's
    /// `http://127.0.0.1:PORT/v0`. `https` is required unless the host is loopback.
    pub base_url: String,
    /// The account key, sent as both `api_key` and `x-api-key`.
    pub api_key: ApiKey,
    /// Time allowed to open a connection.
    pub connect_timeout: Duration,
    /// Time allowed for a whole request.
    pub request_timeout: Duration,
}

impl ClientConfig {
    /// Production URL and default timeouts.
    pub fn new(api_key: ApiKey) -> Self {
        Self {
            base_url: PRODUCTION_BASE_URL.to_owned(),
            api_key,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
        }
    }

    /// Same, pointed at another base URL (simulator, staging).
    #[must_use]
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// Same, with other timeouts.
    #[must_use]
    pub fn with_timeouts(mut self, connect: Duration, request: Duration) -> Self {
        self.connect_timeout = connect;
        self.request_timeout = request;
        self
    }
}

fn config_error(detail: impl Into<String>) -> ApiError {
    ApiError::Config { detail: detail.into() }
}

/// Whether a URL host is this machine (127.0.0.0/8, ::1, `localhost`).
pub(crate) fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| IpAddr::V4(v4).is_loopback())
        }
        Host::Domain(name) => {
            let name = name.strip_suffix('.').unwrap_or(name);
            name.eq_ignore_ascii_case("localhost")
        }
    }
}

/// Checks and normalises the base URL (no trailing slash issues: segments are appended).
pub(crate) fn validate_base_url(raw: &str) -> Result<Url, ApiError> {
    let url = Url::parse(raw.trim())
        .map_err(|e| config_error(format!("the base url is not a valid url ({e})")))?;
    let host = url.host().ok_or_else(|| config_error("the base url has no host"))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&host) => {}
        "http" => {
            return Err(config_error(format!(
                "the base url must use https unless the host is loopback (got http://{host})"
            )));
        }
        other => {
            return Err(config_error(format!(
                "the base url must use https (or http to a loopback host), not {other}"
            )));
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(config_error("the base url must not contain a user name or password"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(config_error("the base url must not contain a query or fragment"));
    }
    if url.cannot_be_a_base() {
        return Err(config_error("the base url cannot have paths appended"));
    }
    Ok(url)
}

/// Checks the whole configuration.
pub(crate) fn validate(config: &ClientConfig) -> Result<Url, ApiError> {
    let url = validate_base_url(&config.base_url)?;
    let key = config.api_key.expose_secret();
    if key.is_empty() {
        return Err(config_error("the api key is empty"));
    }
    if !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(config_error(
            "the api key contains characters that cannot be sent in a header (spaces or non-ascii)",
        ));
    }
    if config.connect_timeout.is_zero() || config.request_timeout.is_zero() {
        return Err(config_error("timeouts must be longer than zero"));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_http_only_on_loopback() {
        for ok in [
            PRODUCTION_BASE_URL,
            "https://staging.example.com/v0/",
            "http://127.0.0.1:8080/v0",
            "http://127.1.2.3/v0",
            "http://[::1]:9000/v0",
            "http://localhost:3000/v0",
            "http://LOCALHOST./v0",
        ] {
            assert!(validate_base_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://api.runonrufus.com/v0",
            "http://192.168.1.10/v0",
            "http://localhost.evil.com/v0",
            "http://[::2]/v0",
            "ftp://127.0.0.1/v0",
            "not a url",
            "https://user:pw@api.runonrufus.com/v0",
            "https://api.runonrufus.com/v0?x=1",
        ] {
            let e = validate_base_url(bad).unwrap_err();
            assert!(matches!(e, ApiError::Config { .. }), "{bad}: {e:?}");
        }
    }

    #[test]
    fn key_debug_is_redacted() {
        let key = ApiKey::new(" ror-ae4fc6c19681a20fad30\n");
        assert_eq!(key.expose_secret(), "ror-ae4fc6c19681a20fad30");
        let cfg = ClientConfig::new(key);
        let shown = format!("{cfg:?} {cfg:#?}");
        assert!(!shown.contains("ae4fc6c19681a20fad30"), "{shown}");
        assert!(shown.contains("<redacted>"));
    }

    #[test]
    fn bad_keys_and_timeouts_are_config_errors() {
        let good = ClientConfig::new(ApiKey::new("ror-1"));
        assert!(validate(&good).is_ok());
        for cfg in [
            ClientConfig::new(ApiKey::new("")),
            ClientConfig::new(ApiKey::new("ror 1")),
            ClientConfig::new(ApiKey::new("ror-é")),
            good.clone().with_timeouts(Duration::ZERO, DEFAULT_REQUEST_TIMEOUT),
        ] {
            let e = validate(&cfg).unwrap_err();
            assert_eq!(e.code(), "config");
            let key = cfg.api_key.expose_secret();
            assert!(key.is_empty() || !e.to_string().contains(key), "{e}");
        }
    }
}
