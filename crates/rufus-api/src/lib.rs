//! Typed async client for the RUFUS Cloud public API v0 (reqwest + rustls, serde, chrono): one
//! method per endpoint, both response envelopes, lenient parsing, and one error type that says
//! whether a retry is safe. No application logic: the console's sync engine builds on it.
//!
//! ```no_run
//! # async fn demo(batch: Vec<rufus_api::Passing>) -> Result<(), rufus_api::ApiError> {
//! use rufus_api::{ApiKey, ClientConfig, NewDevice, Retry, RufusClient};
//! let client = RufusClient::new(ClientConfig::new(ApiKey::new("ror-…")))?;
//! let device = NewDevice {
//!     model: "RUFUS Timing Console".into(),
//!     serial_number: "SN-1".into(),
//!     device_type: "custom".into(),
//!     alias: None,
//!     firmware: None,
//! };
//! let deviceid = client.bind_device(&device).await?;
//! let token = client.create_session(&deviceid, Some("10K")).await?;
//! match client.insert_passings(&token, &batch).await {
//!     Ok(outcome) => println!("{} stored", outcome.inserted_count),
//!     Err(e) => match e.retry() {
//!         Retry::Safe | Retry::After(_) => { /* back off, send the same batch again */ }
//!         Retry::Reconcile => { /* ask P2 which num_passing landed, send the rest */ }
//!         Retry::Never => { /* park the batch with e.to_string() */ }
//!     },
//! }
//! # Ok(()) }
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

pub use client::{
    MAX_DEVICES_LIMIT, MAX_NUM_PASSING_QUERY, MAX_PAGES, PASSINGS_PAGE_SIZE, RufusClient,
};
pub use config::{
    ApiKey, ClientConfig, DEFAULT_CONNECT_TIMEOUT, DEFAULT_REQUEST_TIMEOUT, PRODUCTION_BASE_URL,
};
pub use error::{ApiError, MAX_RETRY_AFTER, Operation, Permission, Retry};
pub use ids::{DeviceId, SessionToken};
pub use model::{
    Device, DevicePage, Event, EventPage, InsertOutcome, NewDevice, Pagination, Passing,
    PassingOut, PollQuery, PollResult, Session,
};
pub use time::{Timestamp, format_timestamp, parse_timestamp};
