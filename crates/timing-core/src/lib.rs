//! The timing engine: everything the console does between a reader's bytes and RUFUS Cloud,
//! with no user interface and no Tauri. The desktop app and the headless CLI are thin fronts
//! over [`Engine`].
//!
//! Invariants (see ARCHITECTURE.md for where each is enforced):
//! - a read or manual entry is reported only after it is committed to SQLite (WAL, FULL sync);
//! - `num_passing` is assigned in the transaction that commits the passing, per session, 1, 2, 3…,
//!   never reused, and identical on every retry;
//! - raw reads and corrections are append-only; duplicates are flagged, never deleted;
//! - a passing whose send may have landed is reconciled against the cloud before it is resent;
//! - time comes from the injected [`clock::Clock`].

pub mod capture;
pub mod changes;
pub mod clock;
pub mod corrections;
pub mod domain;
pub mod engine;
pub mod error;
pub mod export;
pub mod feed;
pub mod lock;
pub mod manual;
pub mod participants;
pub(crate) mod rehome;
pub mod runners;
pub mod starts;
pub mod station;
pub mod store;
pub mod sync;

pub use engine::{BindRequest, Engine, EngineConfig};
pub use error::{CoreError, Result};
