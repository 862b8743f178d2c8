//! Admin endpoints under `/_sim` (never enveloped, never faulted), for the binary's users and
//! for tests in other processes. They need the admin key, in `api_key` or `x-api-key`.

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::{App, read_body};
use crate::auth;
use crate::clock;
use crate::envelope::Reply;
use crate::faults::FaultRule;
use crate::state::Closed;

pub(super) fn router(app: App) -> Router {
    Router::new()
        .route("/_sim/state", get(state))
        .route("/_sim/faults", get(list_faults).post(push_fault).delete(clear_faults))
        .route("/_sim/sessions/{token_session}/close", post(close_session))
        .layer(from_fn_with_state(app.clone(), require_admin_key))
        .with_state(app)
}

async fn require_admin_key(State(app): State<App>, request: Request, next: Next) -> Response {
    let keys = auth::presented(request.headers());
    let admin = app.read(|world| world.admin_key.clone());
    if keys.contains(&admin.as_str()) {
        return next.run(request).await;
    }
    let status = if keys.is_empty() { StatusCode::UNAUTHORIZED } else { StatusCode::FORBIDDEN };
    Reply::error(status, "The /_sim endpoints need the simulator's admin key").into_response()
}

/// `GET /_sim/state`: the [`crate::Snapshot`].
async fn state(State(app): State<App>) -> Reply {
    match serde_json::to_value(app.snapshot()) {
        Ok(snapshot) => Reply::ok(snapshot),
        Err(e) => Reply::error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// `GET /_sim/faults`: the armed rules, as JSON and as `--fault` specs.
async fn list_faults(State(app): State<App>) -> Reply {
    let rules = app.faults().rules().to_vec();
    let specs: Vec<String> = rules.iter().map(ToString::to_string).collect();
    Reply::ok(json!({ "description": "Armed faults", "rules": rules, "specs": specs }))
}

/// `POST /_sim/faults`: arms a [`FaultRule`] given as JSON, or as a JSON string in the
/// `--fault` syntax (e.g. `"503,n=1@POST /passings"`).
async fn push_fault(State(app): State<App>, body: Body) -> Reply {
    let bytes = match read_body(body).await {
        Ok(bytes) => bytes,
        Err(reply) => return reply,
    };
    let rule = match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::String(spec)) => spec.parse::<FaultRule>().map_err(|e| e.to_string()),
        Ok(value) => serde_json::from_value::<FaultRule>(value).map_err(|e| e.to_string()),
        Err(e) => Err(format!("invalid JSON: {e}")),
    };
    let rule = match rule {
        Ok(rule) if (0.0..=1.0).contains(&rule.probability) => rule,
        Ok(_) => return Reply::bad_request("probability must be between 0 and 1"),
        Err(refusal) => return Reply::bad_request(refusal),
    };
    let spec = rule.to_string();
    tracing::info!("fault armed: {spec}");
    let mut faults = app.faults();
    faults.push(rule);
    Reply::created(
        json!({ "description": "Fault armed", "spec": spec, "armed": faults.rules().len() }),
    )
}

/// `DELETE /_sim/faults`: disarms every rule.
async fn clear_faults(State(app): State<App>) -> Reply {
    app.faults().clear();
    Reply::ok(json!({ "description": "Faults cleared" }))
}

/// `POST /_sim/sessions/{token}/close`: closes a session "from elsewhere".
async fn close_session(State(app): State<App>, Path(token): Path<String>) -> Reply {
    let now = clock::now_text();
    match app.write(|world| world.close_session(&token, &now)) {
        Some(Closed::Now | Closed::Already) => {
            Reply::ok(json!({ "description": "Session closed", "token_session": token }))
        }
        None => Reply::not_found("Session not found", "token_session", &token),
    }
}
