//! From HTTP to [`ApiError`]: classifies what the network did (never connected, no answer after
//! sending, timeout) and what the server answered (status codes, `Retry-After`), so the sync
//! engine can tell a safe retry from a write that may already have landed.

use std::error::Error as _;
use std::io;
use std::time::Duration;

use chrono::DateTime;
use reqwest::StatusCode;
use reqwest::header::{DATE, HeaderMap, RETRY_AFTER};

use crate::envelope;
use crate::error::{ApiError, MAX_RETRY_AFTER, Operation};
use crate::model::IdsAnswer;

/// A complete HTTP answer, whatever its status.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// Classifies a reqwest failure. Order matters: a connect timeout is "could not connect" (the
/// request never left), any other timeout is `Timeout`, and every other transport failure
/// happened after the request went out, so its fate is unknown (`Ambiguous`).
pub(crate) fn transport_error(op: Operation, err: &reqwest::Error) -> ApiError {
    if err.is_builder() {
        ApiError::Config { detail: format!("the request could not be built ({})", detail(err)) }
    } else if err.is_connect() {
        ApiError::Connection { op, detail: detail(err) }
    } else if err.is_timeout() {
        ApiError::Timeout { op }
    } else {
        ApiError::Ambiguous { op, detail: detail(err) }
    }
}

/// A short lowercase account of a transport failure, from the innermost cause: the I/O error's
/// kind when there is one ("connection reset", "connection refused"), else the deepest message.
/// reqwest's own message is never used: it carries the URL, which we do not need in messages.
fn detail(err: &reqwest::Error) -> String {
    let mut source = err.source();
    let mut deepest = None;
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<io::Error>() {
            return io_detail(io);
        }
        deepest = Some(e);
        source = e.source();
    }
    match deepest {
        Some(e) => {
            let text = e.to_string().to_lowercase();
            if text.contains("closed before message completed") {
                "connection closed before the answer came".to_owned()
            } else {
                envelope::truncate(&text, 200)
            }
        }
        None if err.is_timeout() => "timed out".to_owned(),
        None if err.is_body() => "the answer broke off".to_owned(),
        None => "transport error".to_owned(),
    }
}

fn io_detail(io: &io::Error) -> String {
    match io.kind() {
        io::ErrorKind::BrokenPipe => "connection closed while sending".to_owned(),
        io::ErrorKind::UnexpectedEof => "connection closed".to_owned(),
        kind => {
            // ErrorKind's Display is a lowercase phrase ("connection reset"); the catch-all
            // kinds say nothing, so the error's own text is used for them.
            let phrase = kind.to_string();
            if kind == io::ErrorKind::Other || phrase.contains("uncategorized") {
                envelope::truncate(&io.to_string().to_lowercase(), 200)
            } else {
                phrase
            }
        }
    }
}

/// Whether a P1 description is the documented "Session not found or closed".
pub(crate) fn says_session_closed(description: &str) -> bool {
    description.to_ascii_lowercase().contains("not found or closed")
}

/// The error for a non-2xx answer (and for 1xx/3xx, which the client does not follow).
pub(crate) fn status_error(op: Operation, answer: &Answer) -> ApiError {
    let status = answer.status.as_u16();
    let message = envelope::description(&answer.body).unwrap_or_default();
    if op == Operation::InsertPassings && (status == 404 || says_session_closed(&message)) {
        return ApiError::SessionClosed { op, message };
    }
    match status {
        401 | 403 => ApiError::Unauthorized { op, status, message },
        404 => ApiError::NotFound { op, message },
        409 if op == Operation::BindDevice => {
            let existing = envelope::parse(&answer.body)
                .ok()
                .and_then(|v| serde_json::from_value::<IdsAnswer>(v).ok())
                .and_then(|a| a.deviceid);
            match existing {
                Some(deviceid) => ApiError::AlreadyBound { op, deviceid },
                None => ApiError::Rejected { op, status, message },
            }
        }
        413 => ApiError::TooLarge { op, message },
        429 => ApiError::RateLimited { op, retry_after: retry_after(&answer.headers) },
        // The server did not process the request this time: not a rejection.
        408 | 425 => ApiError::Transient { op, status, message },
        400..=499 => ApiError::Rejected { op, status, message },
        500..=599 => ApiError::Server { op, status, message },
        300..=399 => ApiError::InvalidResponse {
            op,
            status,
            detail:
                "the server redirected elsewhere; redirects are not followed (check the base url)"
                    .to_owned(),
        },
        _ => {
            ApiError::InvalidResponse { op, status, detail: format!("unexpected status {status}") }
        }
    }
}

/// `Retry-After` as delay-seconds (fractions tolerated), or as an HTTP date measured against the
/// answer's own `Date` header (the client has no clock of its own); either form is capped at
/// [`MAX_RETRY_AFTER`].
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    uncapped_retry_after(headers).map(|d| d.min(MAX_RETRY_AFTER))
}

fn uncapped_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).ok();
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?;
    let now = DateTime::parse_from_rfc2822(headers.get(DATE)?.to_str().ok()?.trim()).ok()?;
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn answer(status: u16, body: &str) -> Answer {
        Answer {
            status: StatusCode::from_u16(status).unwrap(),
            headers: HeaderMap::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn statuses_map_to_variants() {
        let op = Operation::CreateSession;
        let e = status_error(op, &answer(403, r#"{"description":"Forbidden"}"#));
        assert_eq!(e, ApiError::Unauthorized { op, status: 403, message: "Forbidden".into() });
        let e = status_error(op, &answer(404, r#"{"body":{"description":"Device not found"}}"#));
        assert_eq!(e, ApiError::NotFound { op, message: "Device not found".into() });
        let e = status_error(op, &answer(400, r#"{"description":"alias must be a string"}"#));
        assert_eq!(
            e,
            ApiError::Rejected { op, status: 400, message: "alias must be a string".into() }
        );
        assert!(matches!(
            status_error(op, &answer(422, "")),
            ApiError::Rejected { status: 422, .. }
        ));
        assert!(matches!(status_error(op, &answer(413, "")), ApiError::TooLarge { .. }));
        assert!(matches!(
            status_error(op, &answer(409, "")),
            ApiError::Rejected { status: 409, .. }
        ));
        let e = status_error(op, &answer(500, r#"{"body":null}"#));
        assert_eq!(e, ApiError::Server { op, status: 500, message: String::new() });
        assert!(matches!(
            status_error(op, &answer(502, "<html>bad gateway</html>")),
            ApiError::Server { status: 502, .. }
        ));
        assert!(matches!(
            status_error(op, &answer(301, "")),
            ApiError::InvalidResponse { status: 301, .. }
        ));
    }

    #[test]
    fn transient_and_server_statuses_are_retryable_and_not_rejections() {
        use crate::Retry;
        for op in [Operation::InsertPassings, Operation::PassingsByRange, Operation::CloseSession] {
            for status in [408, 425] {
                let e = status_error(op, &answer(status, r#"{"description":"later"}"#));
                assert_eq!(e, ApiError::Transient { op, status, message: "later".into() });
                assert_eq!(e.retry(), Retry::Safe, "{status}");
            }
            for status in [500, 502, 503, 504] {
                let e = status_error(op, &answer(status, ""));
                assert!(matches!(e, ApiError::Server { .. }), "{status}: {e:?}");
                assert_eq!(e.retry(), Retry::Safe, "{status}");
            }
            for status in [401, 403] {
                let e = status_error(op, &answer(status, ""));
                assert!(matches!(e, ApiError::Unauthorized { .. }), "{status}: {e:?}");
                assert_eq!(e.retry(), Retry::Never, "{status}");
            }
            for status in [400, 405, 409, 410, 422, 451] {
                let e = status_error(op, &answer(status, ""));
                assert!(matches!(e, ApiError::Rejected { .. }), "{status}: {e:?}");
                assert_eq!(e.retry(), Retry::Never, "{status}");
            }
        }
    }

    #[test]
    fn bind_conflict_carries_the_existing_device() {
        let op = Operation::BindDevice;
        let e = status_error(
            op,
            &answer(409, r#"{"body":{"description":"Device already binded","deviceid":"ABC"}}"#),
        );
        assert_eq!(e, ApiError::AlreadyBound { op, deviceid: "ABC".into() });
    }

    #[test]
    fn insert_recognises_closed_sessions_on_any_status() {
        let op = Operation::InsertPassings;
        for status in [400, 404, 409] {
            let e = status_error(
                op,
                &answer(
                    status,
                    r#"{"description":"Session not found or closed","token_session":"T"}"#,
                ),
            );
            assert!(matches!(e, ApiError::SessionClosed { .. }), "{status}: {e:?}");
        }
        assert!(matches!(status_error(op, &answer(404, "")), ApiError::SessionClosed { .. }));
        // Other operations only go by status.
        let e = status_error(
            Operation::Session,
            &answer(400, r#"{"description":"Session not found or closed"}"#),
        );
        assert!(matches!(e, ApiError::Rejected { .. }));
    }

    #[test]
    fn retry_after_forms() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("1.5"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(1500)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("Wed, 21 Oct 2015 07:28:30 GMT"));
        assert_eq!(retry_after(&h), None, "a date needs the answer's Date header");
        h.insert(DATE, HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(30)));
        h.insert(DATE, HeaderValue::from_static("Wed, 21 Oct 2015 07:29:00 GMT"));
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        h.insert(RETRY_AFTER, HeaderValue::from_static("-1"));
        assert_eq!(retry_after(&h), None);
        // A day, in either form, is cut down to five minutes.
        h.insert(RETRY_AFTER, HeaderValue::from_static("86400"));
        assert_eq!(retry_after(&h), Some(MAX_RETRY_AFTER));
        assert_eq!(MAX_RETRY_AFTER, Duration::from_secs(300));
        h.insert(RETRY_AFTER, HeaderValue::from_static("86400.5"));
        assert_eq!(retry_after(&h), Some(MAX_RETRY_AFTER));
        h.insert(RETRY_AFTER, HeaderValue::from_static("299"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(299)));
        h.insert(DATE, HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"));
        h.insert(RETRY_AFTER, HeaderValue::from_static("Thu, 22 Oct 2015 07:28:00 GMT"));
        assert_eq!(retry_after(&h), Some(MAX_RETRY_AFTER));
        h.insert(RETRY_AFTER, HeaderValue::from_static("Wed, 21 Oct 2015 07:32:59 GMT"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(299)));
        let mut r = answer(429, "");
        r.headers.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        let op = Operation::InsertPassings;
        assert_eq!(
            status_error(op, &r),
            ApiError::RateLimited { op, retry_after: Some(Duration::from_secs(3)) }
        );
    }
}
