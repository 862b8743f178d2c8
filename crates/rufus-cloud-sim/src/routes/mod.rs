//! The HTTP surface: every RUFUS endpoint under `/v0` (one module per resource), the admin
//! endpoints under `/_sim`, and the layers an API request passes through, outermost first:
//! envelope, then latency and faults, then the API key check.

mod admin;
mod devices;
mod events;
mod injection;
mod params;
mod passings;
mod sessions;

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, patch, post};

use crate::auth;
use crate::envelope::{self, Reply};
use crate::shared::Shared;

/// What handlers get as axum state.
pub(crate) type App = Arc<Shared>;

/// Largest request body read (5000 passings with every field fit well below).
const BODY_LIMIT: usize = 64 * 1024 * 1024;

/// Every route of the simulator.
pub(crate) fn router(shared: App) -> Router {
    let api = Router::new()
        // Devices: D1 bind, D2 unbind, D3 list, D4 information.
        .route("/v0/devices", post(devices::bind).get(devices::list))
        .route("/v0/devices/{deviceid}", get(devices::info).delete(devices::unbind))
        // Sessions: S1 insert, S2 close, S3 by device, S4 active of device, S5 information.
        .route("/v0/sessions", post(sessions::open))
        .route("/v0/sessions/close/{token_session}", patch(sessions::close))
        .route("/v0/sessions/device/{deviceid}", get(sessions::of_device))
        .route("/v0/sessions/device/{deviceid}/active", get(sessions::active_of_device))
        .route("/v0/sessions/{token_session}", get(sessions::info))
        // Passings: P1 insert, P2 by range, P3 by datetime, P4 continuous polling.
        .route("/v0/passings", post(passings::insert))
        .route("/v0/passings/session/{token_session}", get(passings::by_range))
        .route("/v0/passings/device/{deviceid}", get(passings::by_datetime))
        .route("/v0/passings/device2/{deviceid}", get(passings::continuous))
        // Events (newer pages).
        .route("/v0/events", get(events::list))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn_with_state(Arc::clone(&shared), auth::require_key))
        .layer(from_fn_with_state(Arc::clone(&shared), injection::inject))
        .layer(from_fn_with_state(Arc::clone(&shared), envelope::apply))
        .with_state(Arc::clone(&shared));
    api.merge(admin::router(shared))
}

async fn route_not_found() -> Reply {
    Reply::error(StatusCode::NOT_FOUND, "Route not found")
}

async fn method_not_allowed() -> Reply {
    Reply::error(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed on this route")
}

/// Reads a whole request body.
async fn read_body(body: Body) -> Result<Bytes, Reply> {
    axum::body::to_bytes(body, BODY_LIMIT)
        .await
        .map_err(|e| Reply::bad_request(format!("could not read the request body: {e}")))
}
