//! Answers and their envelope: handlers return a [`Reply`] (status + JSON object); the envelope
//! layer then serves it plain or wrapped as `{"body": ...}` (a 500 as `{"body": null}`),
//! according to the run's current setting.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::config::Envelope;
use crate::shared::Shared;

/// One API answer before its envelope.
#[derive(Debug)]
pub(crate) struct Reply {
    status: StatusCode,
    body: Value,
    retry_after: Option<u64>,
}

/// The answer's JSON, kept on the response for the envelope layer.
#[derive(Debug, Clone)]
struct ReplyBody(Value);

impl Reply {
    pub(crate) fn new(status: StatusCode, body: Value) -> Reply {
        Reply { status, body, retry_after: None }
    }

    pub(crate) fn ok(body: Value) -> Reply {
        Reply::new(StatusCode::OK, body)
    }

    pub(crate) fn created(body: Value) -> Reply {
        Reply::new(StatusCode::CREATED, body)
    }

    /// `{"description": ...}`.
    pub(crate) fn error(status: StatusCode, description: impl Into<String>) -> Reply {
        Reply::new(status, json!({ "description": description.into() }))
    }

    /// 400 `{"description": ...}`.
    pub(crate) fn bad_request(description: impl Into<String>) -> Reply {
        Reply::error(StatusCode::BAD_REQUEST, description)
    }

    /// 404 `{"description": ..., <field>: <value>}`, e.g. `"deviceid"` of a missing device.
    pub(crate) fn not_found(description: &str, field: &str, value: &str) -> Reply {
        let mut body = json!({ "description": description });
        if let Some(obj) = body.as_object_mut() {
            obj.insert(field.to_owned(), Value::String(value.to_owned()));
        }
        Reply::new(StatusCode::NOT_FOUND, body)
    }

    /// Adds a `Retry-After` header (seconds).
    pub(crate) fn retry_after(mut self, secs: u64) -> Reply {
        self.retry_after = Some(secs);
        self
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        // Serializing a `Value` cannot fail: its keys are strings.
        let bytes = serde_json::to_vec(&self.body).unwrap_or_default();
        let mut response =
            (self.status, [(header::CONTENT_TYPE, "application/json")], bytes).into_response();
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response.extensions_mut().insert(ReplyBody(self.body));
        response
    }
}

/// Layer: serves every API answer in the envelope chosen for the run (see [`Envelope`]), with
/// its numbers written as strings when the run says so.
pub(crate) async fn apply(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    let Some(ReplyBody(body)) = response.extensions_mut().remove::<ReplyBody>() else {
        return response;
    };
    let settings = shared.settings();
    if settings.envelope == Envelope::Plain && !settings.string_numbers {
        return response;
    }
    let body = if settings.string_numbers { numbers_as_strings(body) } else { body };
    let shaped = match settings.envelope {
        Envelope::Plain => body,
        Envelope::Wrapped if response.status() == StatusCode::INTERNAL_SERVER_ERROR => {
            json!({ "body": null })
        }
        Envelope::Wrapped => json!({ "body": body }),
    };
    *response.body_mut() = Body::from(serde_json::to_vec(&shaped).unwrap_or_default());
    response.headers_mut().remove(header::CONTENT_LENGTH);
    response
}

/// Every JSON number, at any depth, rewritten as its text: `12` becomes `"12"`.
pub(crate) fn numbers_as_strings(value: Value) -> Value {
    match value {
        Value::Number(n) => Value::String(n.to_string()),
        Value::Array(items) => Value::Array(items.into_iter().map(numbers_as_strings).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, numbers_as_strings(v))).collect())
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_become_strings_at_any_depth() {
        let value = json!({
            "inserted_count": 3, "ok": true, "none": null, "text": "7",
            "result": [{"num_passing": 12, "lat": 1.5}], "pagination": {"page": 1, "has_more": false}
        });
        assert_eq!(
            numbers_as_strings(value),
            json!({
                "inserted_count": "3", "ok": true, "none": null, "text": "7",
                "result": [{"num_passing": "12", "lat": "1.5"}],
                "pagination": {"page": "1", "has_more": false}
            })
        );
    }
}
