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
use crate::config::Envelope;
use crate::envelope::Reply;
use crate::faults::{FaultKind, FaultRule};
use crate::shared::Settings;
use crate::state::Closed;

pub(super) fn router(app: App) -> Router {
    Router::new()
        .route("/_sim/state", get(state))
        .route("/_sim/passings", get(passings))
        .route("/_sim/config", get(config).post(change_config))
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

/// `GET /_sim/passings`: every stored passing of every session, with its `token_session`.
async fn passings(State(app): State<App>) -> Reply {
    let all = app.snapshot().all_passings();
    let count = all.len();
    match serde_json::to_value(all) {
        Ok(passings) => Reply::ok(
            json!({ "description": "Stored passings", "count": count, "passings": passings }),
        ),
        Err(e) => Reply::error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// The switchable settings as JSON.
fn settings_json(settings: &Settings) -> Value {
    json!({
        "envelope": match settings.envelope {
            Envelope::Plain => "Plain",
            Envelope::Wrapped => "Wrapped",
        },
        "dedup": settings.dedup,
        "latency_ms": u64::try_from(settings.latency.as_millis()).unwrap_or(u64::MAX),
        "max_batch": settings.max_batch,
        "page_size": settings.page_size,
        "string_numbers": settings.string_numbers,
        "ignore_page": settings.ignore_page,
    })
}

/// `GET /_sim/config`: the switchable settings.
async fn config(State(app): State<App>) -> Reply {
    let settings = app.settings();
    Reply::ok(json!({ "description": "Settings", "config": settings_json(&settings) }))
}

/// `POST /_sim/config`: changes the settings named in a JSON object; the others stay.
async fn change_config(State(app): State<App>, body: Body) -> Reply {
    let bytes = match read_body(body).await {
        Ok(bytes) => bytes,
        Err(reply) => return reply,
    };
    let changes = match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => map,
        Ok(_) => return Reply::bad_request("the body must be a JSON object of settings"),
        Err(e) => return Reply::bad_request(format!("invalid JSON: {e}")),
    };
    let mut settings = app.settings();
    for (name, value) in &changes {
        if let Err(refusal) = change_setting(&mut settings, name, value) {
            return Reply::bad_request(format!("{name}: {refusal}"));
        }
    }
    app.change_settings(|s| *s = settings);
    let changes = Value::Object(changes);
    tracing::info!("settings changed: {changes}");
    Reply::ok(json!({ "description": "Settings changed", "config": settings_json(&settings) }))
}

fn change_setting(settings: &mut Settings, name: &str, value: &Value) -> Result<(), String> {
    let flag = || value.as_bool().ok_or_else(|| "must be true or false".to_owned());
    let count = || value.as_u64().ok_or_else(|| "must be a whole number >= 0".to_owned());
    match name {
        "envelope" => {
            settings.envelope = match value.as_str().map(str::to_ascii_lowercase).as_deref() {
                Some("plain") => Envelope::Plain,
                Some("wrapped") => Envelope::Wrapped,
                _ => return Err("must be \"Plain\" or \"Wrapped\"".to_owned()),
            };
        }
        "dedup" => settings.dedup = flag()?,
        "string_numbers" => settings.string_numbers = flag()?,
        "ignore_page" => settings.ignore_page = flag()?,
        "latency_ms" => settings.latency = std::time::Duration::from_millis(count()?),
        "max_batch" => {
            settings.max_batch = match value {
                Value::Null => None,
                _ => Some(usize::try_from(count()?).unwrap_or(usize::MAX)),
            };
        }
        "page_size" => match count()? {
            0 => return Err("must be 1 or more".to_owned()),
            n => settings.page_size = usize::try_from(n).unwrap_or(usize::MAX),
        },
        _ => {
            return Err("unknown setting (envelope, dedup, latency_ms, max_batch, page_size, \
                        string_numbers, ignore_page)"
                .to_owned());
        }
    }
    Ok(())
}

/// `GET /_sim/faults`: the armed rules, as JSON and as `--fault` specs.
async fn list_faults(State(app): State<App>) -> Reply {
    let rules = app.faults().rules();
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
        Ok(rule) if !(0.0..=1.0).contains(&rule.probability) => {
            return Reply::bad_request("probability must be between 0 and 1");
        }
        Ok(FaultRule {
            kind: FaultKind::Status(status) | FaultKind::ServerError(status), ..
        }) if !(400..=599).contains(&status) => {
            return Reply::bad_request(format!("status {status} is not between 400 and 599"));
        }
        Ok(rule) => rule,
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
