//! Fault injection: the rules a run arms, which request they hit, and the `--fault` spec syntax.
//!
//! # `--fault` spec syntax
//!
//! ```text
//! SPEC   = KIND [":" VALUE] {"," OPTION} ["@" ROUTE]
//! KIND   = "5xx"                 server error 500
//!        | 400..=599             answer that status (e.g. 401, 403, 408, 425, 502, 503, 504)
//!        | "429"                 rate limited, with a Retry-After header
//!        | "reset-before"        drop the connection (TCP RST) without touching state
//!        | "reset-after"         apply the request to state, then drop the connection (TCP RST)
//!        | "hang-before"         hold the request for a while, touch nothing, then drop the
//!                                connection without an answer (the client sees a timeout)
//!        | "hang-after"          apply the request to state, then hold the answer for a while
//!                                and send it late (the client sees a timeout; it did land)
//!        | "close-session"       close the request's session "from elsewhere" just before handling it
//! VALUE  = the probability (0..=1) for the status, reset and close-session kinds;
//!          for 429 the Retry-After value in seconds (default 1);
//!          for hang-before / hang-after the hold, a DURATION (default 30s)
//! OPTION = "p=" PROBABILITY      (0..=1, default 1; the only way to give 429 or a hang a probability)
//!        | "n=" TIMES            fire this many times, then disappear (default: until cleared)
//!        | "for=" DURATION       fire on matching requests until DURATION after the rule was
//!                                armed, then disappear (with n=, whichever ends first)
//!        | "retry=" SECONDS      Retry-After for 429 (same as its VALUE)
//!        | "hold=" DURATION      the hold of hang-before / hang-after (same as its VALUE)
//! DURATION = WHOLE-NUMBER ("ms" | "s" | "m"), e.g. 500ms, 5s, 2m; a bare number is seconds
//! ROUTE  = [METHOD " "] PATH     method and path prefix after /v0, e.g. "POST /passings";
//!                                without a method, any method matches
//! ```
//!
//! Examples: `5xx:0.1`, `503`, `503,n=2@POST /passings`, `429:2`, `429:30,p=0.5`, `408,n=1`,
//! `401,for=5s`, `504,for=500ms@POST /passings`, `reset-before:0.05`,
//! `reset-after,n=1@POST /passings`, `hang-after:30s,n=1@POST /passings`, `hang-before:2s`,
//! `close-session,n=1@POST /passings`.
//!
//! A status from 500 to 599 is a [`FaultKind::ServerError`], 429 is [`FaultKind::RateLimited`]
//! (it keeps its Retry-After), any other 400 to 499 is a [`FaultKind::Status`].
//!
//! A path prefix matches whole segments: `GET /passings/device` does not match
//! `/passings/device2/...`.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::clock;

/// One armed fault: what happens, to which requests, how often, for how long.
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
    /// Fire on matching requests until this long after the rule was armed, then disappear;
    /// `None` = no time limit. In JSON: `active_for_ms`.
    #[serde(default, rename = "active_for_ms", with = "opt_millis")]
    pub active_for: Option<Duration>,
}

fn always() -> f64 {
    1.0
}

/// `Option<Duration>` as whole milliseconds in JSON.
mod opt_millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_millis))
    }
}

/// What a fault does to the request it hits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FaultKind {
    /// Answer this 5xx status (with `{"description": ...}`) before doing anything.
    ServerError(u16),
    /// Answer this status (400..=599, e.g. 401, 403, 408, 425) with `{"description": ...}`
    /// before doing anything. 429 is better armed as [`FaultKind::RateLimited`] (Retry-After).
    Status(u16),
    /// 429 with a `Retry-After` header.
    RateLimited {
        /// Value of the `Retry-After` header, in seconds.
        retry_after_secs: u64,
    },
    /// Drop the TCP connection (RST) without touching state and without an answer.
    ResetBeforeCommit,
    /// Apply the request to state, then drop the connection (RST) with no answer.
    ResetAfterCommit,
    /// Hold the request this long without touching state, then drop the connection with no
    /// answer: a client with a shorter timeout sees a timeout, and nothing landed.
    HangBeforeCommit {
        /// How long the request is held, in milliseconds.
        hold_ms: u64,
    },
    /// Apply the request to state, then hold the answer this long before sending it: a client
    /// with a shorter timeout sees a timeout although the request landed.
    HangAfterCommit {
        /// How long the answer is held, in milliseconds.
        hold_ms: u64,
    },
    /// Close the request's session "from elsewhere" just before handling it.
    CloseSessionFirst,
}

/// The hold of a hang fault when the spec gives none.
pub const DEFAULT_HOLD: Duration = Duration::from_secs(30);

impl FaultKind {
    /// Whether this fault decides the request's fate (so later rules are not consulted).
    fn is_final(&self) -> bool {
        !matches!(self, FaultKind::CloseSessionFirst)
    }

    /// The fault that answers `status`: 500..=599 [`FaultKind::ServerError`], 429
    /// [`FaultKind::RateLimited`] (Retry-After 1 s), other 400..=499 [`FaultKind::Status`];
    /// `None` outside 400..=599.
    pub fn for_status(status: u16) -> Option<FaultKind> {
        match status {
            429 => Some(FaultKind::RateLimited { retry_after_secs: 1 }),
            500..=599 => Some(FaultKind::ServerError(status)),
            400..=499 => Some(FaultKind::Status(status)),
            _ => None,
        }
    }

    fn is_hang(&self) -> bool {
        matches!(self, FaultKind::HangBeforeCommit { .. } | FaultKind::HangAfterCommit { .. })
    }
}

impl FaultRule {
    /// A rule that fires on every request of `route` (or every API request), until cleared.
    pub fn always(kind: FaultKind, route: Option<&str>) -> FaultRule {
        FaultRule {
            kind,
            route: route.map(str::to_owned),
            times: None,
            probability: 1.0,
            active_for: None,
        }
    }

    /// A rule that fires on the next matching request only.
    pub fn once(kind: FaultKind, route: Option<&str>) -> FaultRule {
        FaultRule::always(kind, route).times(1)
    }

    /// Fires this many times, then disappears.
    #[must_use]
    pub fn times(mut self, times: u32) -> FaultRule {
        self.times = Some(times);
        self
    }

    /// Fires until `duration` after it was armed, then disappears.
    #[must_use]
    pub fn lasting(mut self, duration: Duration) -> FaultRule {
        self.active_for = Some(duration);
        self
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

/// A rule and the moment it stops firing (when it has an `active_for`).
#[derive(Debug)]
struct Armed {
    rule: FaultRule,
    until: Option<clock::Instant>,
}

impl Armed {
    fn new(rule: FaultRule, now: clock::Instant) -> Armed {
        let until = rule.active_for.map(|d| now.checked_add(d).unwrap_or(now));
        Armed { rule, until }
    }

    fn is_spent(&self, now: clock::Instant) -> bool {
        self.rule.times == Some(0) || self.until.is_some_and(|until| now >= until)
    }
}

/// The armed rules of a running simulator, consulted once per API request.
#[derive(Debug, Default)]
pub(crate) struct FaultBook {
    rules: Vec<Armed>,
}

impl FaultBook {
    pub(crate) fn new(rules: Vec<FaultRule>) -> FaultBook {
        let now = clock::monotonic();
        FaultBook { rules: rules.into_iter().map(|rule| Armed::new(rule, now)).collect() }
    }

    pub(crate) fn push(&mut self, rule: FaultRule) {
        self.rules.push(Armed::new(rule, clock::monotonic()));
    }

    pub(crate) fn clear(&mut self) {
        self.rules.clear();
    }

    /// The rules still armed (expired ones are left out).
    pub(crate) fn rules(&self) -> Vec<FaultRule> {
        let now = clock::monotonic();
        self.rules.iter().filter(|a| !a.is_spent(now)).map(|a| a.rule.clone()).collect()
    }

    /// The faults that fire for this request, in rule order. Stops at the first fault that
    /// decides the request (a status, 429, reset, hang); used-up and expired rules disappear.
    pub(crate) fn draw(&mut self, method: &str, path: &str) -> Vec<FaultKind> {
        self.draw_at(method, path, clock::monotonic())
    }

    fn draw_at(&mut self, method: &str, path: &str, now: clock::Instant) -> Vec<FaultKind> {
        self.rules.retain(|armed| !armed.is_spent(now));
        let mut fired = Vec::new();
        for armed in &mut self.rules {
            let rule = &mut armed.rule;
            if !rule.matches(method, path) {
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
        self.rules.retain(|armed| armed.rule.times != Some(0));
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
        let mut active_for = None;
        let mut retry_after = None;
        let mut hold = None;
        let kind = match kind_word.to_ascii_lowercase().as_str() {
            "5xx" => FaultKind::ServerError(500),
            "429" => {
                retry_after = value.map(parse_secs).transpose().map_err(fail)?;
                FaultKind::RateLimited { retry_after_secs: 1 }
            }
            "reset-before" => FaultKind::ResetBeforeCommit,
            "reset-after" => FaultKind::ResetAfterCommit,
            "hang-before" | "hang-after" => {
                hold = value.map(parse_duration).transpose().map_err(fail)?;
                let hold_ms = millis(DEFAULT_HOLD);
                if kind_word.eq_ignore_ascii_case("hang-before") {
                    FaultKind::HangBeforeCommit { hold_ms }
                } else {
                    FaultKind::HangAfterCommit { hold_ms }
                }
            }
            "close-session" => FaultKind::CloseSessionFirst,
            word => match word.parse::<u16>().ok().and_then(FaultKind::for_status) {
                Some(kind) => kind,
                None => {
                    return Err(fail(format!(
                        "unknown kind {word:?} (expected 5xx, a status 400-599, 429, \
                         reset-before, reset-after, hang-before, hang-after or close-session)"
                    )));
                }
            },
        };
        if !matches!(kind, FaultKind::RateLimited { .. })
            && !kind.is_hang()
            && let Some(value) = value
        {
            probability = parse_probability(value).map_err(fail)?;
        }
        for option in parts {
            let Some((key, value)) = option.split_once('=') else {
                return Err(fail(format!("option {option:?} is not KEY=VALUE")));
            };
            let value = value.trim();
            match key.trim() {
                "p" => probability = parse_probability(value).map_err(fail)?,
                "n" => {
                    times =
                        Some(value.parse::<u32>().map_err(|_| {
                            fail(format!("n={value} is not a whole number of times"))
                        })?);
                }
                "for" => active_for = Some(parse_duration(value).map_err(fail)?),
                "retry" if matches!(kind, FaultKind::RateLimited { .. }) => {
                    retry_after = Some(parse_secs(value).map_err(fail)?);
                }
                "hold" if kind.is_hang() => hold = Some(parse_duration(value).map_err(fail)?),
                other => return Err(fail(format!("unknown option {other:?}"))),
            }
        }
        let kind = match (kind, retry_after, hold) {
            (FaultKind::RateLimited { .. }, Some(secs), _) => {
                FaultKind::RateLimited { retry_after_secs: secs }
            }
            (FaultKind::HangBeforeCommit { .. }, _, Some(hold)) => {
                FaultKind::HangBeforeCommit { hold_ms: millis(hold) }
            }
            (FaultKind::HangAfterCommit { .. }, _, Some(hold)) => {
                FaultKind::HangAfterCommit { hold_ms: millis(hold) }
            }
            (kind, _, _) => kind,
        };
        Ok(FaultRule { kind, route, times, probability, active_for })
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
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

/// `500ms`, `5s`, `2m`, or a bare number of seconds.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let digits = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let bad =
        || format!("duration {text:?} is not a whole number with ms, s or m (e.g. 500ms, 5s)");
    let number = number.parse::<u64>().map_err(|_| bad())?;
    match unit.trim() {
        "ms" => Ok(Duration::from_millis(number)),
        "" | "s" => Ok(Duration::from_secs(number)),
        "m" => number.checked_mul(60).map(Duration::from_secs).ok_or_else(bad),
        _ => Err(bad()),
    }
}

/// The `--fault` form of a duration: whole seconds as `5s`, anything else as `500ms`.
fn duration_text(d: Duration) -> String {
    let ms = millis(d);
    if ms.is_multiple_of(1000) { format!("{}s", ms / 1000) } else { format!("{ms}ms") }
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
            FaultKind::ServerError(status) | FaultKind::Status(status) => write!(f, "{status}")?,
            FaultKind::RateLimited { retry_after_secs } => write!(f, "429:{retry_after_secs}")?,
            FaultKind::ResetBeforeCommit => f.write_str("reset-before")?,
            FaultKind::ResetAfterCommit => f.write_str("reset-after")?,
            FaultKind::HangBeforeCommit { hold_ms } => {
                write!(f, "hang-before:{}", duration_text(Duration::from_millis(*hold_ms)))?;
            }
            FaultKind::HangAfterCommit { hold_ms } => {
                write!(f, "hang-after:{}", duration_text(Duration::from_millis(*hold_ms)))?;
            }
            FaultKind::CloseSessionFirst => f.write_str("close-session")?,
        }
        if self.probability < 1.0 {
            write!(f, ",p={}", self.probability)?;
        }
        if let Some(times) = self.times {
            write!(f, ",n={times}")?;
        }
        if let Some(active_for) = self.active_for {
            write!(f, ",for={}", duration_text(active_for))?;
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
        assert_eq!(parse("close-session,n=1@POST /passings").times, Some(1));
        assert_eq!(parse("hang-before:2s").kind, FaultKind::HangBeforeCommit { hold_ms: 2000 });
        assert_eq!(parse("408,n=1").times, Some(1));
        assert_eq!(parse("401,for=5s").active_for, Some(Duration::from_secs(5)));
    }

    #[test]
    fn any_status_from_400_to_599() {
        for status in [400, 401, 403, 404, 408, 409, 425, 499] {
            assert_eq!(parse(&status.to_string()).kind, FaultKind::Status(status), "{status}");
        }
        for status in [500, 502, 503, 504, 599] {
            assert_eq!(parse(&status.to_string()).kind, FaultKind::ServerError(status));
        }
        assert_eq!(parse("429").kind, FaultKind::RateLimited { retry_after_secs: 1 });
        let rule = parse("408:0.5,n=2@GET /passings");
        assert_eq!(rule.kind, FaultKind::Status(408));
        assert!((rule.probability - 0.5).abs() < f64::EPSILON);
        assert_eq!(FaultKind::for_status(425), Some(FaultKind::Status(425)));
        assert_eq!(FaultKind::for_status(399), None);
        assert_eq!(FaultKind::for_status(600), None);
    }

    #[test]
    fn durations_and_holds() {
        assert_eq!(parse("503,for=5s").active_for, Some(Duration::from_secs(5)));
        assert_eq!(parse("503,for=500ms").active_for, Some(Duration::from_millis(500)));
        assert_eq!(parse("503,for=2m").active_for, Some(Duration::from_secs(120)));
        assert_eq!(parse("503,for=7").active_for, Some(Duration::from_secs(7)));
        let rule = parse("504,n=3,for=500ms@POST /passings");
        assert_eq!((rule.times, rule.active_for), (Some(3), Some(Duration::from_millis(500))));
        assert_eq!(
            parse("hang-after:30s,n=1@POST /passings").kind,
            FaultKind::HangAfterCommit { hold_ms: 30_000 }
        );
        assert_eq!(parse("hang-after:250ms").kind, FaultKind::HangAfterCommit { hold_ms: 250 });
        assert_eq!(
            parse("hang-after").kind,
            FaultKind::HangAfterCommit { hold_ms: millis(DEFAULT_HOLD) }
        );
        let rule = parse("hang-before,hold=1s,p=0.25");
        assert_eq!(rule.kind, FaultKind::HangBeforeCommit { hold_ms: 1000 });
        assert!((rule.probability - 0.25).abs() < f64::EPSILON);
    }

    #[test]
    fn refuses_bad_specs() {
        for bad in [
            "",
            "399",
            "600",
            "5xx:2",
            "boom",
            "503,n=x",
            "503,q=1",
            "503@",
            "503@passings",
            "503,for=",
            "503,for=5h",
            "503,for=-1s",
            "503,for=1.5s",
            "hang-after:soon",
            "503,hold=1s",
            "503,retry=1",
        ] {
            assert!(bad.parse::<FaultRule>().is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn display_round_trips() {
        for spec in [
            "503",
            "401",
            "425,n=1",
            "429:2,p=0.5,n=3@POST /passings",
            "reset-after,n=1@/sessions",
            "503,for=500ms",
            "408,n=2,for=5s@GET /passings",
            "hang-after:30s,n=1@POST /passings",
            "hang-before:250ms",
        ] {
            assert_eq!(parse(&parse(spec).to_string()), parse(spec), "{spec}");
        }
        assert_eq!(parse("504,for=5000ms").to_string(), "504,for=5s");
    }

    #[test]
    fn json_form_uses_milliseconds() {
        let rule = parse("hang-after:2s,for=1500ms@POST /passings");
        let json = serde_json::to_value(&rule).unwrap();
        assert_eq!(json["active_for_ms"], 1500);
        assert_eq!(json["kind"]["HangAfterCommit"]["hold_ms"], 2000);
        let back: FaultRule = serde_json::from_value(json).unwrap();
        assert_eq!(back, rule);
        let plain: FaultRule = serde_json::from_str(r#"{"kind": {"Status": 403}}"#).unwrap();
        assert_eq!(plain, FaultRule::always(FaultKind::Status(403), None));
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
    fn timed_rules_fire_until_they_expire() {
        let start = clock::monotonic();
        let mut book = FaultBook::default();
        book.rules.push(Armed::new(parse("503,for=5s"), start));
        book.rules.push(Armed::new(parse("408,n=1,for=10s"), start));
        let at = |ms| start + Duration::from_millis(ms);
        assert_eq!(book.draw_at("GET", "/devices", at(0)), vec![FaultKind::ServerError(503)]);
        assert_eq!(book.draw_at("GET", "/devices", at(4999)), vec![FaultKind::ServerError(503)]);
        // Expired: the next rule takes over, fires once and is gone too.
        assert_eq!(book.draw_at("GET", "/devices", at(5000)), vec![FaultKind::Status(408)]);
        assert!(book.draw_at("GET", "/devices", at(5001)).is_empty());
        assert!(book.rules.is_empty());
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
