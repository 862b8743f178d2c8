//! Sessions: S1 `POST /sessions`, S2 `PATCH /sessions/close/{token}`,
//! S3 `GET /sessions/device/{deviceid}`, S4 `GET /sessions/device/{deviceid}/active`,
//! S5 `GET /sessions/{token}`.

use axum::body::Body;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{App, read_body};
use crate::clock;
use crate::envelope::Reply;
use crate::state::{Closed, Session};
use crate::validate;

/// S1: 201 `{description, token_session}`; closes the device's other active session.
pub(super) async fn open(State(app): State<App>, body: Body) -> Reply {
    let bytes = match read_body(body).await {
        Ok(bytes) => bytes,
        Err(reply) => return reply,
    };
    let request = match validate::session_request(&bytes) {
        Ok(request) => request,
        Err(refusal) => return Reply::bad_request(refusal),
    };
    let now = clock::now_text();
    match app.write(|world| world.open_session(&request.deviceid, request.alias, &now)) {
        Some(token) => Reply::created(json!({
            "description": "Session inserted succesfully",
            "token_session": token,
        })),
        None => Reply::not_found("Device not found", "deviceid", &request.deviceid),
    }
}

/// S2: 200 `{description, token_session}`, also when it was already closed.
pub(super) async fn close(State(app): State<App>, Path(token): Path<String>) -> Reply {
    let now = clock::now_text();
    let description = match app.write(|world| world.close_session(&token, &now)) {
        Some(Closed::Now) => "Session closed succesfully",
        Some(Closed::Already) => "Session already closed",
        None => return Reply::not_found("Session not found", "token_session", &token),
    };
    Reply::ok(json!({ "description": description, "token_session": token }))
}

/// S3: `{description, result:[{token_session, alias, creation_date, active, passings}]}`.
pub(super) async fn of_device(State(app): State<App>, Path(deviceid): Path<String>) -> Reply {
    app.read(|world| {
        if world.device(&deviceid).is_none() {
            return Reply::not_found("Device not found", "deviceid", &deviceid);
        }
        let result: Vec<Value> = world
            .sessions_of(&deviceid)
            .map(|s| {
                json!({
                    "token_session": s.state.token_session,
                    "alias": s.state.alias,
                    "creation_date": s.state.creation_date,
                    "active": s.state.active,
                    "passings": s.state.passings.len(),
                })
            })
            .collect();
        if result.is_empty() {
            return Reply::not_found("Sessions not found", "deviceid", &deviceid);
        }
        Reply::ok(json!({ "description": "Sessions found", "result": result }))
    })
}

/// S4: the active session as an array of one; 404 when none is active.
pub(super) async fn active_of_device(
    State(app): State<App>,
    Path(deviceid): Path<String>,
) -> Reply {
    let now = clock::now();
    app.read(|world| {
        if world.device(&deviceid).is_none() {
            return Reply::not_found("Device not found", "deviceid", &deviceid);
        }
        match world.sessions_of(&deviceid).find(|s| s.state.active) {
            Some(session) => Reply::ok(json!({
                "description": "Active session found",
                "result": [session_info(session, now)],
            })),
            None => Reply::not_found("Active session not found", "deviceid", &deviceid),
        }
    })
}

/// S5: same shape as S4.
pub(super) async fn info(State(app): State<App>, Path(token): Path<String>) -> Reply {
    let now = clock::now();
    app.read(|world| match world.session(&token) {
        Some(session) => Reply::ok(json!({
            "description": "Session found",
            "result": [session_info(session, now)],
        })),
        None => Reply::not_found("Session not found", "token_session", &token),
    })
}

/// `{token_session, alias, creation_date, duration, active, passings, first, last}`.
fn session_info(session: &Session, now: DateTime<Utc>) -> Value {
    let (first, last) = session.first_and_last();
    json!({
        "token_session": session.state.token_session,
        "alias": session.state.alias,
        "creation_date": session.state.creation_date,
        "duration": session.duration(now),
        "active": session.state.active,
        "passings": session.state.passings.len(),
        "first": first,
        "last": last,
    })
}
