//! Events (newer pages): `GET /events`, served from a small built-in list.

use axum::http::Uri;
use serde_json::{Value, json};

use super::params::{Params, page_of, pagination};
use crate::envelope::Reply;

/// `limit` is 1..=1000, default 1000.
const MAX_EVENTS_PER_PAGE: usize = 1000;

/// `(event_token, name, edition, location, status, start_date, end_date)`.
type Event = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

const EVENTS: &[Event] = &[
    (
        "6F1D8C2A4B3E5F60718293A4B5C6D7E8F90112233445566778899AABBCCDDEEF",
        "Trail dels Ports",
        "2025",
        "Tortosa, ES",
        "finished",
        "2025-04-12T06:00:00.000Z",
        "2025-04-12T20:00:00.000Z",
    ),
    (
        "0A1B2C3D4E5F60718293A4B5C6D7E8F9A0B1C2D3E4F5061728394A5B6C7D8E9F",
        "Cursa de la Merce",
        "2025",
        "Barcelona, ES",
        "finished",
        "2025-09-21T07:30:00.000Z",
        "2025-09-21T11:00:00.000Z",
    ),
    (
        "F0E1D2C3B4A5968778695A4B3C2D1E0FF0E1D2C3B4A5968778695A4B3C2D1E0F",
        "Simulator Night Run",
        "2026",
        "Localhost",
        "upcoming",
        "2026-10-31T19:00:00.000Z",
        "2026-10-31T23:00:00.000Z",
    ),
];

/// `{description, result:[{event_token, name, edition, location, status, start_date,
/// end_date}], pagination}`.
pub(super) async fn list(uri: Uri) -> Reply {
    let query = (|| {
        let params = Params::of(&uri)?;
        Ok::<_, Reply>((params.page()?, params.limit(MAX_EVENTS_PER_PAGE)?))
    })();
    let (page, limit) = match query {
        Ok(query) => query,
        Err(reply) => return reply,
    };
    let result: Vec<Value> = page_of(EVENTS.to_vec(), page, limit)
        .into_iter()
        .map(|(event_token, name, edition, location, status, start_date, end_date)| {
            json!({
                "event_token": event_token,
                "name": name,
                "edition": edition,
                "location": location,
                "status": status,
                "start_date": start_date,
                "end_date": end_date,
            })
        })
        .collect();
    Reply::ok(json!({
        "description": "Events found",
        "result": result,
        "pagination": pagination(page, limit, EVENTS.len()),
    }))
}
