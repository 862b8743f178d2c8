//! Passings: P1 `POST /passings` (insert), P2 `GET /passings/session/{token}` (by num_passing
//! range), P3 `GET /passings/device/{deviceid}` (by datetime, across sessions),
//! P4 `GET /passings/device2/{deviceid}` (continuous polling that follows the device to its
//! newer session).

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use serde_json::{Value, json};

use super::params::{Params, page_of};
use super::{App, read_body};
use crate::clock;
use crate::envelope::Reply;
use crate::snapshot::StoredPassing;
use crate::state::Session;
use crate::validate;

/// P1: 201 `{description, token_session, inserted_count, duplicate_count}`.
///
/// A 400 refuses the whole batch (nothing is stored) and names the passing index and field;
/// a batch over the run's maximum is a 413; a closed or unknown session is a 404
/// `{description:"Session not found or closed", token_session}`.
pub(super) async fn insert(State(app): State<App>, body: Body) -> Reply {
    let bytes = match read_body(body).await {
        Ok(bytes) => bytes,
        Err(reply) => return reply,
    };
    let request = match validate::passings_request(&bytes) {
        Ok(request) => request,
        Err(refusal) => return Reply::bad_request(refusal),
    };
    let settings = app.settings();
    let count = request.passings_list.len();
    if let Some(max) = settings.max_batch
        && count > max
    {
        return Reply::error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "passings_list has {count} passings; this server accepts at most {max} per request"
            ),
        );
    }
    let mut passings = Vec::with_capacity(count);
    for (index, value) in request.passings_list.into_iter().enumerate() {
        match validate::passing(index, value) {
            Ok(passing) => passings.push(passing),
            Err(refusal) => return Reply::bad_request(refusal),
        }
    }
    if let Some((index, p)) = passings.iter().enumerate().find(|(_, p)| app.is_refused(&p.bib)) {
        return Reply::error(
            StatusCode::BAD_REQUEST,
            format!("passings_list[{index}].bib: bib {} is not accepted for this account", p.bib),
        );
    }
    let token = request.token_session;
    let now = clock::now_text();
    match app.write(|world| world.insert_passings(&token, passings, settings.dedup, &now)) {
        Some(outcome) => Reply::created(json!({
            "description": "Passings inserted succesfully",
            "token_session": token,
            "inserted_count": outcome.inserted,
            "duplicate_count": outcome.duplicates,
        })),
        None => Reply::not_found("Session not found or closed", "token_session", &token),
    }
}

/// P2: passings whose num_passing is in `first..=last`, ordered by num_passing, a page of the
/// run's page size (5000 unless set). Closed sessions stay readable.
pub(super) async fn by_range(State(app): State<App>, Path(token): Path<String>, uri: Uri) -> Reply {
    let query = (|| {
        let params = Params::of(&uri)?;
        Ok::<_, Reply>((
            params.number("first")?.unwrap_or(0),
            params.number("last")?.unwrap_or(u64::MAX),
            params.page()?,
        ))
    })();
    let (first, last, page) = match query {
        Ok(query) => query,
        Err(reply) => return reply,
    };
    let (page, per_page) = paging(&app, page);
    app.read(|world| {
        let Some(session) = world.session(&token) else {
            return Reply::not_found("Session not found", "token_session", &token);
        };
        let mut rows: Vec<&StoredPassing> = session
            .state
            .passings
            .iter()
            .filter(|p| (first..=last).contains(&p.num_passing))
            .collect();
        rows.sort_by_key(|p| p.num_passing);
        let result: Vec<Value> =
            page_of(rows, page, per_page).into_iter().map(|p| passing_out(p, session)).collect();
        Reply::ok(json!({ "description": "Passings found", "result": result }))
    })
}

/// P3: passings of every session of the device with `from <= timestamp <= to`, ordered by
/// timestamp, a page of the run's page size (5000 unless set).
pub(super) async fn by_datetime(
    State(app): State<App>,
    Path(deviceid): Path<String>,
    uri: Uri,
) -> Reply {
    let query = (|| {
        let params = Params::of(&uri)?;
        Ok::<_, Reply>((Window::of(&params)?, params.page()?))
    })();
    let (window, page) = match query {
        Ok(query) => query,
        Err(reply) => return reply,
    };
    let (page, per_page) = paging(&app, page);
    app.read(|world| {
        if world.device(&deviceid).is_none() {
            return Reply::not_found("Device not found", "deviceid", &deviceid);
        }
        let mut rows: Vec<(&StoredPassing, &Session)> = world
            .sessions_of(&deviceid)
            .flat_map(|s| s.state.passings.iter().map(move |p| (p, s)))
            .filter(|(p, _)| window.contains(p))
            .collect();
        // Stable: equal timestamps keep session order, then arrival order.
        rows.sort_by(|a, b| a.0.timestamp.cmp(&b.0.timestamp));
        let result: Vec<Value> =
            page_of(rows, page, per_page).into_iter().map(|(p, s)| passing_out(p, s)).collect();
        Reply::ok(json!({ "description": "Passings found", "result": result }))
    })
}

/// P4: continuous polling. Serves the session `token_session` (default: the device's active
/// session, else its newest) after num_passing `last`. When that session is closed, a newer
/// session of the device exists and every passing after `last` has been delivered, it moves on
/// to the next newer session (from its start) and says so: `session_used` is the session
/// served, `resumed_from` the `token_session` asked for (null when no move happened).
pub(super) async fn continuous(
    State(app): State<App>,
    Path(deviceid): Path<String>,
    uri: Uri,
) -> Reply {
    let query = (|| {
        let params = Params::of(&uri)?;
        let window = Window::of(&params)?;
        let token = params.text("token_session").map(str::to_owned);
        Ok::<_, Reply>((window, token, params.number("last")?, params.page()?))
    })();
    let (window, token, last, page) = match query {
        Ok(query) => query,
        Err(reply) => return reply,
    };
    let (page, per_page) = paging(&app, page);
    app.read(|world| {
        if world.device(&deviceid).is_none() {
            return Reply::not_found("Device not found", "deviceid", &deviceid);
        }
        let sessions: Vec<&Session> = world.sessions_of(&deviceid).collect();
        let start = match &token {
            Some(token) => sessions.iter().position(|s| &s.state.token_session == token),
            None => sessions
                .iter()
                .position(|s| s.state.active)
                .or_else(|| sessions.len().checked_sub(1)),
        };
        let Some(mut index) = start else {
            return match &token {
                Some(token) => Reply::not_found("Session not found", "token_session", token),
                None => Reply::not_found("Sessions not found", "deviceid", &deviceid),
            };
        };
        let mut after = last;
        let mut resumed_from = None;
        while let (Some(session), Some(newer)) = (sessions.get(index), sessions.get(index + 1)) {
            let pending = session
                .state
                .passings
                .iter()
                .any(|p| window.contains(p) && after.is_none_or(|l| p.num_passing > l));
            if session.state.active || pending {
                break;
            }
            resumed_from = token.clone();
            tracing::debug!(
                "P4 moves from session {} to {}",
                session.state.token_session,
                newer.state.token_session
            );
            index += 1;
            after = None;
        }
        let Some(session) = sessions.get(index) else {
            return Reply::not_found("Sessions not found", "deviceid", &deviceid);
        };
        let mut rows: Vec<&StoredPassing> = session
            .state
            .passings
            .iter()
            .filter(|p| window.contains(p) && after.is_none_or(|l| p.num_passing > l))
            .collect();
        rows.sort_by_key(|p| p.num_passing);
        let passings: Vec<Value> =
            page_of(rows, page, per_page).into_iter().map(|p| passing_out(p, session)).collect();
        Reply::ok(json!({
            "description": "Passings found",
            "deviceid": deviceid,
            "session_used": session.state.token_session,
            "session_label": session.state.alias,
            "resumed_from": resumed_from,
            "passings": passings,
        }))
    })
}

/// The page to serve and the run's page size: page 1 whatever was asked when the run ignores
/// `page`.
fn paging(app: &App, page: usize) -> (usize, usize) {
    let settings = app.settings();
    (if settings.ignore_page { 1 } else { page }, settings.page_size.max(1))
}

/// The `from` / `to` bounds of a read, inclusive, in the API's timestamp format.
#[derive(Debug)]
struct Window {
    from: Option<String>,
    to: Option<String>,
}

impl Window {
    fn of(params: &Params) -> Result<Window, Reply> {
        Ok(Window { from: params.time("from")?, to: params.time("to")? })
    }

    /// Stored timestamps all have the API's fixed format, so text order is time order.
    fn contains(&self, passing: &StoredPassing) -> bool {
        let t = passing.timestamp.as_str();
        self.from.as_deref().is_none_or(|from| t >= from)
            && self.to.as_deref().is_none_or(|to| t <= to)
    }
}

/// PassingOut: every field a string or null, except the number `num_passing`.
fn passing_out(passing: &StoredPassing, session: &Session) -> Value {
    let text = |field: &str| match passing.raw.get(field) {
        Some(Value::String(s)) => Value::String(s.clone()),
        Some(Value::Number(n)) => Value::String(n.to_string()),
        _ => Value::Null,
    };
    json!({
        "token_session": session.state.token_session,
        "timestamp": passing.timestamp,
        "num_passing": passing.num_passing,
        "latitude": text("latitude"),
        "longitude": text("longitude"),
        "status": passing.status,
        "participant_id": text("participant_id"),
        "chip": passing.chip,
        "bib": passing.bib,
        "timezone": text("timezone"),
        "gender": text("gender"),
        "deviceid": session.state.deviceid,
    })
}
