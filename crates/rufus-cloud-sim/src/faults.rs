//! Fault injection: the rules a run arms, which request they hit, and the `--fault` spec syntax.
//!
//! # `--fault` spec syntax
//!
//! ```text
//! SPEC   = KIND [":" VALUE] {"," OPTION} ["@" ROUTE]
//! KIND   = "5xx"                 server error 500
//!        | 500..=599             that server error status
//!        | "429"                 rate limited, with a Retry-After header
//!        | "reset-before"        drop the connection (TCP RST) without touching state
//!        | "reset-after"         apply the request to state, then drop the connection (TCP RST)
//!        | "close-session"       close the request's session "from elsewhere" just before handling it
//! VALUE  = the probability (0..=1) for every kind except 429,
//!          where it is the Retry-After value in seconds (default 1)
//! OPTION = "p=" PROBABILITY      (0..=1, default 1; the only way to give 429 a probability)
//!        | "n=" TIMES            fire this many times, then disappear (default: until cleared)
//!        | "retry=" SECONDS      Retry-After for 429 (same as its VALUE)
//! ROUTE  = [METHOD " "] PATH     method and path prefix after /v0, e.g. "POST /passings";
//!                                without a method, any method matches
//! ```
//!
//! Examples: `5xx:0.1`, `503`, `503,n=2@POST /passings`, `429:2`, `429:30,p=0.5`,
//! `reset-before:0.05`, `reset-after,n=1@POST /passings`, `close-session,n=1@POST /passings`.
//!
//! A path prefix matches whole segments: `GET /passings/device` does not match
//! `/passings/device2/...`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One armed fault: what happens, to which requests, how often.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultRule {
    /// What the fault does.
    pub kind: FaultKind,
    /// e.g. "POST /passings", "PATCH /sessions/close", "GET /devices": method + path prefix after
    /// /v0; `None` = any API route.
    #[serde(default)]
    pub route: Option<String>,
    /// Fire this many times then disappear; `None` = until cleared.
    #[serde(default)]
    pub times: Option<u32>,
    /// 0.0..=1.0; 1.0 = every matching request.
    #[serde(default = "always")]
    pub probability: f64,
}

fn always() -> f64 {
    1.0
}

/// What a fault does to the request it hits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FaultKind {
    /// Answer this 5xx status (with `{"description": ...}`) before doing anything.
    ServerError(u16),
    /// 429 with a `Retry-After` header.
    RateLimited {
        /// Value of the `Retry-After` header, in seconds.
        retry_after_secs: u64,
    },
    /// Drop the TCP connection (RST) without touching state and without an answer.
    ResetBeforeCommit,
    /// Apply the request to state, then drop the connection (RST) with no answer.
    ResetAfterCommit,
    /// Close the request's session "from elsewhere" just before handling it.
    CloseSessionFirst,
}

impl FaultKind {
    /// Whether this fault decides the request's fate (so later rules are not consulted).
    fn is_final(&self) -> bool {
        !matches!(self, FaultKind::CloseSessionFirst)
    }
}

impl FaultRule {
    /// A rule that fires on every request of `route` (or every API request), until cleared.
    pub fn always(kind: FaultKind, route: Option<&str>) -> FaultRule {
        FaultRule { kind, route: route.map(str::to_owned), times: None, probability: 1.0 }
    }

    /// Whether the rule's route covers this request. `path` is the path after `/v0`.
    pub fn matches(&self, method: &str, path: &str) -> bool {
        let Some(route) = self.route.as_deref() else { return true };
        let route = route.trim();
        let (want_method, prefix) = match route.split_once(char::is_whitespace) {
            Some((m, p)) if !m.starts_with('/') => (Some(m), p.trim()),
            _ => (None, route),
        };
        if want_method.is_some_and(|m| !m.eq_ignore_ascii_case(method)) {
            return false;
        }
        let prefix = strip_api_prefix(prefix).trim_end_matches('/');
        if prefix.is_empty() {
            return true;
        }
        match path.strip_prefix(prefix) {
            Some(rest) => rest.is_empty() || rest.starts_with('/'),
            None => false,
        }
    }
}

/// Lets a route be written with or without the `/v0` prefix.
fn strip_api_prefix(path: &str) -> &str {
    match path.strip_prefix("/v0") {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => rest,
        _ => path,
    }
}

/// The armed rules of a running simulator, consulted once per API request.
#[derive(Debug, Default)]
pub(crate) struct FaultBook {
    rules: Vec<FaultRule>,
}

impl FaultBook {
    pub(crate) fn new(rules: Vec<FaultRule>) -> FaultBook {
        FaultBook { rules }
    }

    pub(crate) fn push(&mut self, rule: FaultRule) {
        self.rules.push(rule);
    }

    pub(crate) fn clear(&mut self) {
        self.rules.clear();
    }

    pub(crate) fn rules(&self) -> &[FaultRule] {
        &self.rules
    }

    /// The faults that fire for this request, in rule order. Stops at the first fault that
    /// decides the request (5xx, 429, reset); used-up rules disappear.
    pub(crate) fn draw(&mut self, method: &str, path: &str) -> Vec<FaultKind> {
        let mut fired = Vec::new();
        for rule in &mut self.rules {
            if rule.times == Some(0) || !rule.matches(method, path) {
                continue;
            }
            // random() is in [0, 1): probability 1.0 always fires, 0.0 (or NaN) never does.
            if rand::random::<f64>() >= rule.probability {
                continue;
            }
            if let Some(times) = rule.times.as_mut() {
                *times = times.saturating_sub(1);
            }
            fired.push(rule.kind.clone());
            if rule.kind.is_final() {
                break;
            }
        }
        self.rules.retain(|rule| rule.times != Some(0));
        fired
    }
}

/// Why a `--fault` spec was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad fault spec {spec:?}: {reason}")]
pub struct FaultSpecError {
    spec: String,
    reason: String,
}

impl FromStr for FaultRule {
    type Err = FaultSpecError;

    /// Parses the `--fault` syntax described in the [module docs](self).
    fn from_str(spec: &str) -> Result<FaultRule, FaultSpecError> {
        let fail = |reason: String| FaultSpecError { spec: spec.to_owned(), reason };
        let (head, route) = match spec.split_once('@') {
            Some((head, route)) => {
                let route = route.trim();
                if route.is_empty() {
                    return Err(fail("empty route after '@'".into()));
                }
                (head, Some(normalize_route(route).map_err(fail)?))
            }
            None => (spec, None),
        };
        let mut parts = head.split(',').map(str::trim);
        let first = parts.next().unwrap_or_default();
        let (kind_word, value) = match first.split_once(':') {
            Some((k, v)) => (k.trim(), Some(v.trim())),
            None => (first, None),
        };
        let mut probability = 1.0;
        let mut times = None;
        let mut retry_after = None;
        let kind = match kind_word.to_ascii_lowercase().as_str() {
            "5xx" => FaultKind::ServerError(500),
            "429" => {
                retry_after = value.map(parse_secs).transpose().map_err(fail)?;
                FaultKind::RateLimited { retry_after_secs: 1 }
            }
            "reset-before" => FaultKind::ResetBeforeCommit,
            "reset-after" => FaultKind::ResetAfterCommit,
            "close-session" => FaultKind::CloseSessionFirst,
            word => match word.parse::<u16>() {
                Ok(status) if (500..=599).contains(&status) => FaultKind::ServerError(status),
                _ => {
                    return Err(fail(format!(
                        "unknown kind {word:?} (expected 5xx, 500-599, 429, reset-before, \
                         reset-after or close-session)"
                    )));
                }
            },
        };
        if !matches!(kind, FaultKind::RateLimited { .. })
            && let Some(value) = value
        {
            probability = parse_probability(value).map_err(fail)?;
        }
        for option in parts {
            let Some((key, value)) = option.split_once('=') else {
                return Err(fail(format!("option {option:?} is not KEY=VALUE")));
            };
            match key.trim() {
                "p" => probability = parse_probability(value.trim()).map_err(fail)?,
                "n" => {
                    times =
                        Some(value.trim().parse::<u32>().map_err(|_| {
                            fail(format!("n={value} is not a whole number of times"))
                        })?);
                }
                "retry" if matches!(kind, FaultKind::RateLimited { .. }) => {
                    retry_after = Some(parse_secs(value.trim()).map_err(fail)?);
                }
                other => return Err(fail(format!("unknown option {other:?}"))),
            }
        }
        let kind = match (kind, retry_after) {
            (FaultKind::RateLimited { .. }, Some(secs)) => {
                FaultKind::RateLimited { retry_after_secs: secs }
            }
            (kind, _) => kind,
        };
        Ok(FaultRule { kind, route, times, probability })
    }
}

fn parse_probability(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!("probability {text:?} is not a number between 0 and 1")),
    }
}

fn parse_secs(text: &str) -> Result<u64, String> {
    text.parse::<u64>()
        .map_err(|_| format!("Retry-After {text:?} is not a whole number of seconds"))
}

/// `post /v0/passings` -> `POST /passings`; `/sessions` stays as is.
fn normalize_route(route: &str) -> Result<String, String> {
    let (method, path) = match route.split_once(char::is_whitespace) {
        Some((m, p)) => (Some(m.trim()), p.trim()),
        None => (None, route),
    };
    let (method, path) = match method {
        None if route.starts_with('/') => (None, route),
        None => return Err(format!("route {route:?} must be [METHOD] /path")),
        Some(m) => (Some(m), path),
    };
    if !path.starts_with('/') {
        return Err(format!("route path {path:?} must start with '/'"));
    }
    let path = strip_api_prefix(path);
    let path = if path.is_empty() { "/" } else { path };
    Ok(match method {
        Some(m) => format!("{} {path}", m.to_ascii_uppercase()),
        None => path.to_owned(),
    })
}

impl fmt::Display for FaultRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            FaultKind::ServerError(status) => write!(f, "{status}")?,
            FaultKind::RateLimited { retry_after_secs } => write!(f, "429:{retry_after_secs}")?,
            FaultKind::ResetBeforeCommit => f.write_str("reset-before")?,
            FaultKind::ResetAfterCommit => f.write_str("reset-after")?,
            FaultKind::CloseSessionFirst => f.write_str("close-session")?,
        }
        if self.probability < 1.0 {
            write!(f, ",p={}", self.probability)?;
        }
        if let Some(times) = self.times {
            write!(f, ",n={times}")?;
        }
        if let Some(route) = &self.route {
            write!(f, "@{route}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(spec: &str) -> FaultRule {
        spec.parse().unwrap()
    }

    #[test]
    fn parses_the_documented_examples() {
        assert_eq!(parse("5xx:0.1").kind, FaultKind::ServerError(500));
        assert!((parse("5xx:0.1").probability - 0.1).abs() < f64::EPSILON);
        assert_eq!(parse("503").kind, FaultKind::ServerError(503));
        assert!((parse("503").probability - 1.0).abs() < f64::EPSILON);
        assert_eq!(parse("429:2").kind, FaultKind::RateLimited { retry_after_secs: 2 });
        assert_eq!(parse("429").kind, FaultKind::RateLimited { retry_after_secs: 1 });
        assert_eq!(parse("reset-before:0.05").kind, FaultKind::ResetBeforeCommit);
        assert_eq!(parse("reset-after:0.05").kind, FaultKind::ResetAfterCommit);
        let rule = parse("reset-after,n=1@POST /passings");
        assert_eq!(rule.route.as_deref(), Some("POST /passings"));
        assert_eq!(rule.times, Some(1));
        let rule = parse("429:30,p=0.5,n=3@post /v0/passings");
        assert_eq!(rule.kind, FaultKind::RateLimited { retry_after_secs: 30 });
        assert_eq!(rule.route.as_deref(), Some("POST /passings"));
        assert_eq!(parse("close-session@/sessions").route.as_deref(), Some("/sessions"));
    }

    #[test]
    fn refuses_bad_specs() {
        for bad in ["", "404", "5xx:2", "boom", "503,n=x", "503,q=1", "503@", "503@passings"] {
            assert!(bad.parse::<FaultRule>().is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn display_round_trips() {
        for spec in ["503", "429:2,p=0.5,n=3@POST /passings", "reset-after,n=1@/sessions"] {
            assert_eq!(parse(&parse(spec).to_string()), parse(spec));
        }
    }

    #[test]
    fn routes_match_whole_segments() {
        let rule = parse("503@GET /passings/device");
        assert!(rule.matches("GET", "/passings/device/ABC"));
        assert!(!rule.matches("GET", "/passings/device2/ABC"));
        assert!(!rule.matches("POST", "/passings/device/ABC"));
        assert!(parse("503").matches("DELETE", "/devices/X"));
        assert!(parse("503@/devices").matches("DELETE", "/devices/X"));
    }

    #[test]
    fn counted_rules_disappear() {
        let mut book = FaultBook::new(vec![parse("503,n=2@POST /passings")]);
        assert!(book.draw("GET", "/passings/session/X").is_empty());
        assert_eq!(book.draw("POST", "/passings"), vec![FaultKind::ServerError(503)]);
        assert_eq!(book.draw("POST", "/passings"), vec![FaultKind::ServerError(503)]);
        assert!(book.draw("POST", "/passings").is_empty());
        assert!(book.rules().is_empty());
    }

    #[test]
    fn close_session_does_not_stop_the_draw() {
        let mut book = FaultBook::new(vec![parse("close-session"), parse("503"), parse("429")]);
        assert_eq!(
            book.draw("POST", "/passings"),
            vec![FaultKind::CloseSessionFirst, FaultKind::ServerError(503)]
        );
    }
}
