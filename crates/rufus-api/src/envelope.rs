//! Response envelopes: the 2023 pages answer plain JSON objects, the newer spec wraps everything
//! in `{"body": …}` (a 500 as `{"body": null}`). This module turns either into the inner value,
//! and extracts the server's description from error answers.

use serde_json::Value;

/// Longest server text kept in an error message (a proxy may answer a whole HTML page).
const MAX_MESSAGE_CHARS: usize = 300;

/// Unwraps `{"body": X}` to `X` when `body` is the only key; anything else is returned as is.
pub(crate) fn unwrap_body(value: Value) -> Value {
    match value {
        Value::Object(mut map) if map.len() == 1 && map.contains_key("body") => {
            map.remove("body").unwrap_or(Value::Null)
        }
        other => other,
    }
}

/// Parses a response body: JSON (empty → `Null`), unwrapped. `Err` carries a short reason.
pub(crate) fn parse(bytes: &[u8]) -> Result<Value, String> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice::<Value>(bytes)
        .map(unwrap_body)
        .map_err(|e| format!("the body is not json ({e})"))
}

/// The server's description of an answer: `description` (or `message` / `error`) of the JSON
/// body, else the body's text; `None` when there is nothing to say.
pub(crate) fn description(bytes: &[u8]) -> Option<String> {
    let text = match parse(bytes) {
        Ok(Value::Object(map)) => ["description", "message", "error"]
            .iter()
            .find_map(|k| map.get(*k).and_then(crate::lenient::scalar_text)),
        Ok(Value::String(s)) => Some(s),
        Ok(_) => None,
        Err(_) => Some(String::from_utf8_lossy(bytes).into_owned()),
    }?;
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() { None } else { Some(truncate(&text, MAX_MESSAGE_CHARS)) }
}

/// The first `max` characters of `s`, with an ellipsis when cut.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", s.get(..cut).unwrap_or(s)),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn body_is_unwrapped_only_when_alone() {
        assert_eq!(unwrap_body(json!({"body": {"a": 1}})), json!({"a": 1}));
        assert_eq!(unwrap_body(json!({"body": null})), Value::Null);
        assert_eq!(unwrap_body(json!({"body": 1, "x": 2})), json!({"body": 1, "x": 2}));
        assert_eq!(unwrap_body(json!({"a": 1})), json!({"a": 1}));
        assert_eq!(parse(b"  ").unwrap(), Value::Null);
        assert_eq!(
            parse(br#"{"body":{"description":"ok"}}"#).unwrap(),
            json!({"description": "ok"})
        );
        assert!(parse(b"<html>").is_err());
    }

    #[test]
    fn descriptions_from_every_shape() {
        assert_eq!(
            description(br#"{"description":"Device not found","deviceid":"A"}"#).as_deref(),
            Some("Device not found")
        );
        assert_eq!(
            description(br#"{"body":{"description":"bib: required"}}"#).as_deref(),
            Some("bib: required")
        );
        assert_eq!(description(br#"{"body":null}"#), None);
        assert_eq!(description(br#"{"message":"Too many"}"#).as_deref(), Some("Too many"));
        assert_eq!(description(b"Bad Gateway\n").as_deref(), Some("Bad Gateway"));
        assert_eq!(description(b""), None);
        let long = "x".repeat(1000);
        assert_eq!(description(long.as_bytes()).unwrap().chars().count(), MAX_MESSAGE_CHARS + 1);
    }
}
