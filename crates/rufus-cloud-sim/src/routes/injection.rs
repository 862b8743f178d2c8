//! Latency and fault injection, applied to every API request before its key is checked:
//! wait the run's latency, draw the armed faults for the request's route, then answer a 4xx,
//! 5xx or 429, reset the connection before or after handling, hold the request (and drop it)
//! or hold the answer after handling, or close the request's session first.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::{App, BODY_LIMIT};
use crate::clock;
use crate::envelope::Reply;
use crate::faults::FaultKind;
use crate::server::KillSwitch;

/// What happens once the request has been handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Then {
    /// Send the answer.
    Answer,
    /// Drop the connection (RST) instead of answering.
    Reset,
    /// Hold the answer this long, then send it.
    Hold(Duration),
}

/// The layer.
pub(super) async fn inject(State(app): State<App>, request: Request, next: Next) -> Response {
    let latency = app.settings().latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let path = request.uri().path();
    let path = path.strip_prefix("/v0").unwrap_or(path);
    let fired = app.faults().draw(request.method().as_str(), path);
    if fired.is_empty() {
        return next.run(request).await;
    }
    let (method, path) = (request.method().clone(), path.to_owned());
    let mut request = request;
    let mut then = Then::Answer;
    for fault in fired {
        tracing::info!("fault {fault:?} on {method} {path}");
        match fault {
            FaultKind::ServerError(status) => {
                let status = StatusCode::from_u16(status)
                    .ok()
                    .filter(StatusCode::is_server_error)
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                return Reply::error(status, "Simulated server error").into_response();
            }
            FaultKind::Status(status) => return status_reply(status).into_response(),
            FaultKind::RateLimited { retry_after_secs } => {
                return Reply::error(StatusCode::TOO_MANY_REQUESTS, "Too many requests")
                    .retry_after(retry_after_secs)
                    .into_response();
            }
            FaultKind::ResetBeforeCommit => return reset(request).await,
            FaultKind::ResetAfterCommit => then = Then::Reset,
            FaultKind::HangBeforeCommit { hold_ms } => {
                // Nothing is handled: hold, then drop the connection without an answer.
                tokio::time::sleep(Duration::from_millis(hold_ms)).await;
                return reset(request).await;
            }
            FaultKind::HangAfterCommit { hold_ms } => {
                then = Then::Hold(Duration::from_millis(hold_ms));
            }
            FaultKind::CloseSessionFirst => {
                request = match close_session_of(&app, request).await {
                    Ok(request) => request,
                    Err(reply) => return reply.into_response(),
                };
            }
        }
    }
    match then {
        Then::Answer => next.run(request).await,
        Then::Hold(hold) => {
            // The request is applied now; only its answer is late.
            let response = next.run(request).await;
            tracing::info!("holding the answer to {method} {path} for {hold:?}");
            tokio::time::sleep(hold).await;
            response
        }
        Then::Reset => {
            let switch = request.extensions().get::<Arc<KillSwitch>>().cloned();
            let response = next.run(request).await;
            match switch {
                Some(switch) => {
                    drop(response);
                    pull(&switch).await
                }
                None => response,
            }
        }
    }
}

/// `{"description": "Simulated <status> <reason>"}` with that status (400..=599, else 500).
fn status_reply(status: u16) -> Reply {
    let status = StatusCode::from_u16(status)
        .ok()
        .filter(|s| s.is_client_error() || s.is_server_error())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let reason = status.canonical_reason().unwrap_or("error");
    Reply::error(status, format!("Simulated {} {reason}", status.as_u16()))
}

/// Resets the request's connection: the peer gets a TCP RST and no answer.
async fn reset(request: Request) -> Response {
    let switch = request.extensions().get::<Arc<KillSwitch>>().cloned();
    match switch {
        Some(switch) => pull(&switch).await,
        None => Reply::error(StatusCode::INTERNAL_SERVER_ERROR, "connection reset not possible")
            .into_response(),
    }
}

async fn pull(switch: &KillSwitch) -> Response {
    switch.pull();
    // The connection task now drops this request along with its connection.
    std::future::pending().await
}

/// Which session a request is about, for `CloseSessionFirst`.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    Session(String),
    /// The device's active session.
    Device(String),
}

/// Closes the request's session "from elsewhere"; the body, when read to find it, is put back.
async fn close_session_of(app: &App, request: Request) -> Result<Request, Reply> {
    let path = request.uri().path().strip_prefix("/v0").unwrap_or(request.uri().path());
    let query_token = request.uri().query().and_then(|q| {
        q.split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == "token_session")
            .map(|(_, v)| v.to_owned())
    });
    let mut target = query_token.map(Target::Session).or_else(|| target_in_path(path));
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, BODY_LIMIT)
        .await
        .map_err(|e| Reply::bad_request(format!("could not read the request body: {e}")))?;
    if target.is_none() {
        target = target_in_body(&bytes);
    }
    let now = clock::now_text();
    match &target {
        Some(Target::Session(token)) => {
            let closed = app.write(|world| world.close_session(token, &now));
            tracing::info!("closed session {token} from elsewhere: {closed:?}");
        }
        Some(Target::Device(deviceid)) => {
            let closed = app.write(|world| world.close_active_session_of(deviceid, &now));
            tracing::info!("closed the active session of {deviceid} from elsewhere: {closed:?}");
        }
        None => tracing::info!("close-session fault: the request names no session"),
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

fn target_in_path(path: &str) -> Option<Target> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        ["sessions", "close", token] | ["passings", "session", token] => {
            Some(Target::Session((*token).to_owned()))
        }
        ["sessions", "device", deviceid, ..]
        | ["passings", "device" | "device2", deviceid, ..]
        | ["devices", deviceid] => Some(Target::Device((*deviceid).to_owned())),
        ["sessions", token] => Some(Target::Session((*token).to_owned())),
        _ => None,
    }
}

fn target_in_body(bytes: &[u8]) -> Option<Target> {
    let value: Value = serde_json::from_slice(bytes).ok()?;
    let field = |name: &str| value.get(name).and_then(Value::as_str).map(str::to_owned);
    field("token_session").map(Target::Session).or_else(|| field("deviceid").map(Target::Device))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_session_of_a_request() {
        let s = |t: &str| Some(Target::Session(t.into()));
        let d = |t: &str| Some(Target::Device(t.into()));
        assert_eq!(target_in_path("/sessions/close/T"), s("T"));
        assert_eq!(target_in_path("/sessions/T"), s("T"));
        assert_eq!(target_in_path("/passings/session/T"), s("T"));
        assert_eq!(target_in_path("/sessions/device/D/active"), d("D"));
        assert_eq!(target_in_path("/passings/device2/D"), d("D"));
        assert_eq!(target_in_path("/passings"), None);
        assert_eq!(target_in_body(br#"{"token_session":"T","passings_list":[]}"#), s("T"));
        assert_eq!(target_in_body(br#"{"deviceid":"D"}"#), d("D"));
        assert_eq!(target_in_body(b"nope"), None);
    }
}
