//! A RUFUS-compatible HTTP server for tests, demos and benchmarks of the timing console, with
//! fault injection. It is an independent reading of the API contract
//! (`shared/docs/rufus-cloud-api.md`): it shares no code with the `rufus-api` client, so that
//! client and server check each other.
//!
//! # Use from tests
//!
//! ```no_run
//! use rufus_cloud_sim::{FaultKind, FaultRule, Sim, SimConfig};
//!
//! # async fn demo() -> std::io::Result<()> {
//! let sim = Sim::start(SimConfig::default()).await?;
//! let base = sim.base_url(); // "http://127.0.0.1:PORT/v0"
//! let key = sim.admin_key(); // READ_WRITE + unbind
//! sim.push_fault(FaultRule::always(FaultKind::ResetAfterCommit, Some("POST /passings")));
//! // ... drive a client against `base` with `key`, then look at what landed:
//! let snapshot = sim.snapshot();
//! # let _ = (base, key, snapshot);
//! sim.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! # API (under `/v0`)
//!
//! | # | Route | Module |
//! |---|---|---|
//! | D1–D4 | `POST /devices`, `DELETE /devices/{deviceid}`, `GET /devices`, `GET /devices/{deviceid}` | `routes/devices.rs` |
//! | S1–S5 | `POST /sessions`, `PATCH /sessions/close/{token}`, `GET /sessions/device/{deviceid}[/active]`, `GET /sessions/{token}` | `routes/sessions.rs` |
//! | P1–P4 | `POST /passings`, `GET /passings/session/{token}`, `GET /passings/device/{deviceid}`, `GET /passings/device2/{deviceid}` | `routes/passings.rs` |
//! | — | `GET /events` | `routes/events.rs` |
//!
//! Every API request passes, in this order: the envelope layer (`envelope.rs`), latency and
//! faults (`routes/injection.rs`), the key check (`auth.rs`: header `api_key` or `x-api-key`;
//! 401 missing or unknown key, 403 missing access), then strict body validation
//! (`validate.rs`: 400 naming the field) and the handler.
//!
//! Choices where the contract is silent: passing reads are paged by [`SimConfig::page_size`]
//! (5000 unless set) and carry no `pagination` object; bind answers 201, a duplicate serial number 409 with
//! the existing `deviceid`; S1 answers 201; closing a closed session answers 200; `duration` is
//! the session's age (to its close) written as a timestamp from the epoch; P4's `resumed_from`
//! is the `token_session` asked for when the poll moved to a newer session (else null), and a
//! closed session hands over only once every passing after `last` has been delivered.
//!
//! # Admin endpoints (the admin key only; never enveloped, never faulted)
//!
//! | Route | Does |
//! |---|---|
//! | `GET /_sim/state` | the [`Snapshot`] as JSON |
//! | `GET /_sim/passings` | every stored passing of every session, each with its `token_session`, `deviceid` and `active` ([`SessionPassing`]) |
//! | `GET /_sim/config` | the switchable settings: `envelope`, `dedup`, `latency_ms`, `max_batch`, `page_size`, `string_numbers`, `ignore_page` |
//! | `POST /_sim/config` | changes any of those settings, given as a JSON object of the ones to change (`{"page_size": 100, "string_numbers": true}`); answers the new settings |
//! | `GET /_sim/faults` | the armed rules, as JSON and as `--fault` specs |
//! | `POST /_sim/faults` | arms a [`FaultRule`], given as JSON (`{"kind": {"ServerError": 503}, "route": "POST /passings", "times": 1, "probability": 1.0, "active_for_ms": 5000}`; `route`, `times`, `probability` and `active_for_ms` may be left out) or as a JSON string in the `--fault` syntax (`"503,n=1@POST /passings"`) |
//! | `DELETE /_sim/faults` | disarms every rule |
//! | `POST /_sim/sessions/{token}/close` | closes a session "from elsewhere" |
//!
//! # Faults
//!
//! See [`FaultRule`], [`FaultKind`] and the `--fault` syntax in the [`faults`] module. Resets
//! are real: the connection is dropped with SO_LINGER 0 and no HTTP answer (`server.rs`).

mod auth;
mod clock;
mod config;
mod envelope;
pub mod faults;
mod ids;
mod routes;
mod server;
mod shared;
mod snapshot;
mod state;
mod store;
mod validate;

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

pub use config::{Access, DEFAULT_PAGE_SIZE, Envelope, SimConfig};
pub use faults::{FaultKind, FaultRule, FaultSpecError};
pub use snapshot::{DeviceState, SessionPassing, SessionState, Snapshot, StoredPassing};

use server::Listening;
use shared::Shared;
use state::World;
use store::StateFile;

/// A running simulator. Cheap to clone; dropping the last handle does NOT stop the server:
/// call [`Sim::shutdown`].
#[derive(Clone)]
pub struct Sim {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    addr: SocketAddr,
    router: axum::Router,
    /// `None` while paused or after shutdown.
    listening: tokio::sync::Mutex<Option<Listening>>,
}

impl fmt::Debug for Sim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sim").field("addr", &self.inner.addr).finish_non_exhaustive()
    }
}

impl Sim {
    /// Starts on `127.0.0.1` and an ephemeral port.
    pub async fn start(config: SimConfig) -> io::Result<Sim> {
        Sim::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config).await
    }

    /// Starts on `addr` (port 0 = ephemeral). Loads the state file first when it exists.
    pub async fn start_on(addr: SocketAddr, config: SimConfig) -> io::Result<Sim> {
        let state_file = config.state_file.clone().map(StateFile::new);
        let saved = match &state_file {
            Some(file) => file.load()?,
            None => None,
        };
        let restored = saved.is_some();
        let mut world = match saved {
            Some(world) => world,
            None => World::new(config.admin_key.clone().unwrap_or_else(ids::new_key)),
        };
        if let Some(key) = &config.admin_key {
            world.set_admin_key(key.clone());
        }
        let shared = Arc::new(Shared::new(world, &config, state_file));
        // Write the file at once: it then holds the key even before the first request.
        shared.write(|_| ());
        let listener = server::bind(addr)?;
        let addr = listener.local_addr()?;
        let router = routes::router(Arc::clone(&shared));
        let listening = Listening::start(listener, router.clone());
        tracing::info!(
            "RUFUS simulator listening on http://{addr}/v0 (state restored: {restored})"
        );
        Ok(Sim {
            inner: Arc::new(Inner {
                shared,
                addr,
                router,
                listening: tokio::sync::Mutex::new(Some(listening)),
            }),
        })
    }

    /// The address it listens on (kept across pause and resume).
    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// `http://127.0.0.1:PORT/v0`: the API routes live under `/v0`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v0", self.inner.addr)
    }

    /// The READ_WRITE key with the unbind flag.
    pub fn admin_key(&self) -> String {
        self.inner.shared.read(|world| world.admin_key.clone())
    }

    /// Adds a key with this access type and unbind flag; returns it.
    pub fn add_key(&self, access: Access, unbind: bool) -> String {
        self.inner.shared.write(|world| world.add_key(access, unbind))
    }

    /// Arms a fault rule (after those already armed).
    pub fn push_fault(&self, rule: FaultRule) {
        self.inner.shared.faults().push(rule);
    }

    /// Disarms every fault rule.
    pub fn clear_faults(&self) {
        self.inner.shared.faults().clear();
    }

    /// Waited before every API request is handled.
    pub fn set_latency(&self, latency: Duration) {
        self.inner.shared.change_settings(|s| s.latency = latency);
    }

    /// Larger `passings_list` batches get 413; `None` = no limit.
    pub fn set_max_batch(&self, max: Option<usize>) {
        self.inner.shared.change_settings(|s| s.max_batch = max);
    }

    /// Makes P1 refuse, with 400 and a description naming it, every batch that holds a passing
    /// with this bib: a rule of the account that no client can know in advance.
    pub fn refuse_bib(&self, bib: &str) {
        self.inner.shared.refuse_bib(bib);
    }

    /// De-duplication by `(token_session, num_passing)`.
    pub fn set_dedup(&self, on: bool) {
        self.inner.shared.change_settings(|s| s.dedup = on);
    }

    /// Plain or `{"body": ...}` answers from the next request on.
    pub fn set_envelope(&self, envelope: Envelope) {
        self.inner.shared.change_settings(|s| s.envelope = envelope);
    }

    /// Rows per page of the passing reads P2, P3 and P4 from the next request on (0 counts as 1).
    pub fn set_page_size(&self, page_size: usize) {
        self.inner.shared.change_settings(|s| s.page_size = page_size.max(1));
    }

    /// Writes every JSON number of API answers as a string (`"num_passing": "12"`) from the next
    /// request on, as some real servers do.
    pub fn set_string_numbers(&self, on: bool) {
        self.inner.shared.change_settings(|s| s.string_numbers = on);
    }

    /// Makes P2, P3 and P4 serve page 1 whatever `page` asks for (a server that ignores paging).
    pub fn set_ignore_page(&self, on: bool) {
        self.inner.shared.change_settings(|s| s.ignore_page = on);
    }

    /// Closes a session as if another device or a person had; `false` if the token is unknown.
    pub fn close_session_elsewhere(&self, token_session: &str) -> bool {
        let now = clock::now_text();
        self.inner.shared.write(|world| world.close_session(token_session, &now)).is_some()
    }

    /// A copy of devices, sessions and passings.
    pub fn snapshot(&self) -> Snapshot {
        self.inner.shared.snapshot()
    }

    /// Every passing stored in any session (open or closed), with its `token_session`
    /// (the same as [`Snapshot::all_passings`] of a fresh snapshot).
    pub fn all_passings(&self) -> Vec<SessionPassing> {
        self.snapshot().all_passings()
    }

    /// Stops listening and drops open connections: clients get "connection refused".
    pub async fn pause(&self) {
        if self.stop_listening().await {
            tracing::info!("paused: {} refuses connections", self.inner.addr);
        }
    }

    /// `true` if it was listening.
    async fn stop_listening(&self) -> bool {
        let listening = self.inner.listening.lock().await.take();
        match listening {
            Some(listening) => {
                listening.stop().await;
                true
            }
            None => false,
        }
    }

    /// Listens again on the same address; state is kept. Does nothing when not paused.
    pub async fn resume(&self) -> io::Result<()> {
        let mut listening = self.inner.listening.lock().await;
        if listening.is_none() {
            let listener = server::bind(self.inner.addr)?;
            *listening = Some(Listening::start(listener, self.inner.router.clone()));
            tracing::info!("resumed on {}", self.inner.addr);
        }
        Ok(())
    }

    /// Stops the server and drops its connections.
    pub async fn shutdown(self) {
        self.stop_listening().await;
        tracing::info!("stopped: {}", self.inner.addr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn handle_and_futures_can_cross_tasks() {
        fn assert_sync_clone<T: Send + Sync + Clone>() {}
        assert_sync_clone::<Sim>();
        assert_send(&Sim::start(SimConfig::default()));
        assert_send(&Sim::start_on(
            SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            SimConfig::default(),
        ));
    }

    #[tokio::test]
    async fn pause_resume_shutdown_futures_are_send() {
        let sim = Sim::start(SimConfig::default()).await.unwrap();
        assert_send(&sim.pause());
        assert_send(&sim.resume());
        assert_send(&sim.clone().shutdown());
        sim.shutdown().await;
    }
}
