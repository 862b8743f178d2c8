//! Typed async client for the RUFUS Cloud public API v0 (reqwest + rustls, serde, chrono): one
//! method per endpoint, both response envelopes, lenient parsing, and one error type that says
//! whether a retry is safe. No application logic: the console's sync engine builds on it.
//!
//! ```no_run
//! # async fn demo() -> Result<(), rufus_api::ApiError> {
//! use rufus_api::{ApiKey, ClientConfig, Passing, RufusClient};
//! let client = RufusClient::new(ClientConfig::new(ApiKey::new("ror-…")))?;
//! let devices = client.all_devices().await?;
//! # let _ = devices; Ok(()) }
//! ```

#![warn(missing_docs)]

mod client;
mod config;
mod envelope;
mod error;
mod ids;
mod lenient;
mod model;
mod time;
mod transport;

pub use client::{MAX_DEVICES_LIMIT, PASSINGS_PAGE_SIZE, RufusClient};
pub use config::{
    ApiKey, ClientConfig, DEFAULT_CONNECT_TIMEOUT, DEFAULT_REQUEST_TIMEOUT, PRODUCTION_BASE_URL,
};
pub use error::{ApiError, Operation, Permission, Retry};
pub use ids::{DeviceId, SessionToken};
pub use model::{
    Device, DevicePage, Event, EventPage, InsertOutcome, NewDevice, Pagination, Passing,
    PassingOut, PollQuery, PollResult, Session,
};
pub use time::{Timestamp, format_timestamp, parse_timestamp};
