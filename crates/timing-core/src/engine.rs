//! The engine front ends talk to: one value that owns the store, the clock, the participant
//! list, the capture pipeline and the sync engine, and offers the console's operations
//! (devices, sessions, manual entry, corrections, exports) as plain async methods.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rufus_api::{ApiKey, ClientConfig, NewDevice, RufusClient};
use tokio::sync::Notify;

use crate::capture::Capture;
use crate::changes::{Change as Changed, Changes};
use crate::clock::SharedClock;
use crate::corrections::{self, Author, Change, Corrected};
use crate::domain::{Device, DeviceId, FeedEntry, PassingId, Session, SessionId, SessionState};
use crate::error::{CoreError, Result};
use crate::manual::ManualEntry;
use crate::participants::{ChipMap, ImportReport, Participant, parse_participants};
use crate::runners::{self, RaceCounts, RunnerPreview};
use crate::starts::{RaceClock, Start, StartRequest};
use crate::store::Store;
use crate::sync::{SyncConfig, SyncEngine};

/// Settings the engine starts with.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Where `timing.db` lives.
    pub data_dir: PathBuf,
    /// RUFUS API base URL; None: the one stored at the last bind, else production.
    pub api_url: Option<String>,
    /// The API key; None: nothing syncs (capture and manual entry still work).
    pub api_key: Option<ApiKey>,
    /// De-duplication window per chip.
    pub dedup_window: Duration,
    /// Sync pacing.
    pub sync: SyncConfig,
    /// Who is at the keyboard (recorded on corrections).
    pub operator: String,
    /// Which station this console is.
    pub station: Option<String>,
}

impl EngineConfig {
    /// Defaults: production API, 5 s de-duplication, no key.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            api_url: None,
            api_key: None,
            dedup_window: Duration::from_secs(5),
            sync: SyncConfig::default(),
            operator: "console".into(),
            station: None,
        }
    }
}

/// A manual stamp's key press may be this old when the engine sees it (a bunch finish, a slow
/// disk); older is not trusted.
pub const KEY_PRESS_PAST: chrono::Duration = chrono::Duration::minutes(2);
/// …and this far ahead of the host clock (the front and the engine read one clock).
pub const KEY_PRESS_FUTURE: chrono::Duration = chrono::Duration::seconds(2);

/// What a settings change asks for; `None` leaves a value as it is.
#[derive(Debug, Clone, Default)]
pub struct Reconfigure {
    /// A new key (`Some(None)`: remove it; nothing syncs).
    pub api_key: Option<Option<String>>,
    /// A new RUFUS API base URL.
    pub api_url: Option<String>,
    /// A new operator name (empty: "console").
    pub operator: Option<String>,
    /// A new station name (`Some(None)` or empty: none).
    pub station: Option<Option<String>>,
}

/// Checks an API key before anything uses or stores it (the client's rules are the only copy).
pub fn validate_api_key(key: &str) -> Result<ApiKey> {
    let key = ApiKey::new(key.to_owned());
    RufusClient::new(
        ClientConfig::new(key.clone()).with_base_url(rufus_api::PRODUCTION_BASE_URL.to_owned()),
    )
    .map_err(|e| CoreError::Invalid(format!("api_key: {e}")))?;
    Ok(key)
}

/// Checks a RUFUS API base URL: http(s), a host, https for anything but this computer.
pub fn validate_api_url(url: &str) -> Result<String> {
    let url = url.trim().trim_end_matches('/').to_owned();
    RufusClient::new(ClientConfig::new(ApiKey::new("check".to_owned())).with_base_url(url.clone()))
        .map_err(|e| CoreError::Invalid(format!("api_url: {e}")))?;
    Ok(url)
}

fn validate_name(field: &str, name: &str) -> Result<Option<String>> {
    let name = name.trim();
    if name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(CoreError::Invalid(format!(
            "{field}: at most 64 characters, no control characters"
        )));
    }
    Ok(Some(name.to_owned()).filter(|n| !n.is_empty()))
}

/// Device ids of the stand-in device a console records under before its first bind.
pub const LOCAL_DEVICE_PREFIX: &str = "local-";

/// What binding asks for.
#[derive(Debug, Clone)]
pub struct BindRequest {
    /// Serial number (looked up first: an already bound serial is reused).
    pub serial_number: String,
    /// Model.
    pub model: String,
    /// RUFUS device type.
    pub device_type: String,
    /// Alias.
    pub alias: Option<String>,
    /// Firmware.
    pub firmware: Option<String>,
    /// Continue the device's active session if another console has one open.
    pub take_over: bool,
}

/// "In use by another console: session S, N passings, last at T — take over?"
fn in_use_message(active: &rufus_api::Session) -> String {
    let name = active.alias.as_deref().map_or(String::new(), |a| format!(" ({a})"));
    let count = active.passings.map_or("?".to_owned(), |n| n.to_string());
    let last = active
        .last
        .as_ref()
        .map_or_else(|| "no passing yet".to_owned(), |t| format!("last at {}", t.raw()));
    format!(
        "in use by another console: session {}{name}, {count} passings, {last} — take over \
         to continue it on this console (it numbers after the cloud's last passing)",
        active.token_session.as_str()
    )
}

/// A raw frame as stored, for the readers screen.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RawFrame {
    /// When it arrived (UTC text).
    pub host_time: String,
    /// The bytes.
    pub raw: Vec<u8>,
    /// The chip it carried.
    pub chip: String,
    /// Flagged duplicate.
    pub duplicate: bool,
}

/// Local passings compared with the cloud's, by `num_passing`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Reconciliation {
    /// The session.
    pub session_id: SessionId,
    /// Passings recorded locally (moved ones excluded).
    pub local: usize,
    /// Passings the cloud holds.
    pub cloud: usize,
    /// Sent locally, but not in the cloud.
    pub missing_in_cloud: Vec<i64>,
    /// Still pending locally.
    pub pending: Vec<i64>,
    /// In the cloud, never recorded here.
    pub unknown_in_cloud: Vec<i64>,
}

/// The engine.
#[derive(Debug, Clone)]
pub struct Engine {
    store: Store,
    clock: SharedClock,
    chips: Arc<ChipMap>,
    config: Arc<EngineConfig>,
    api_url: Arc<std::sync::RwLock<String>>,
    api_key: Arc<std::sync::RwLock<Option<ApiKey>>>,
    /// Operator and station, changeable while running.
    who: Arc<std::sync::RwLock<(String, Option<String>)>>,
    sync: SyncEngine,
    wake: Arc<Notify>,
}

impl Engine {
    /// Opens the data directory and prepares (but does not start) capture and sync.
    pub async fn open(config: EngineConfig, clock: SharedClock) -> Result<Self> {
        let store = Store::open_in(&config.data_dir).await?;
        let chips = Arc::new(ChipMap::from_entries(store.chip_map().await?));
        let api_url = match &config.api_url {
            Some(url) => url.clone(),
            None => store
                .setting("api_url")
                .await?
                .unwrap_or_else(|| rufus_api::PRODUCTION_BASE_URL.to_owned()),
        };
        let client = match &config.api_key {
            Some(key) if !key.is_empty() => Some(RufusClient::new(
                ClientConfig::new(key.clone()).with_base_url(api_url.clone()),
            )?),
            _ => None,
        };
        let wake = Arc::new(Notify::new());
        let sync = SyncEngine::new(
            store.clone(),
            clock.clone(),
            client,
            config.sync.clone(),
            wake.clone(),
        );
        sync.refresh_counts().await;
        let who = (config.operator.clone(), config.station.clone());
        let api_key = config.api_key.clone().filter(|k| !k.is_empty());
        Ok(Self {
            store,
            clock,
            chips,
            config: Arc::new(config),
            api_url: Arc::new(std::sync::RwLock::new(api_url)),
            api_key: Arc::new(std::sync::RwLock::new(api_key)),
            who: Arc::new(std::sync::RwLock::new(who)),
            sync,
            wake,
        })
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// What changed, as it changes: commits, manual entries and corrections, sends, sessions,
    /// starts.
    pub fn changes(&self) -> &Changes {
        self.store.changes()
    }

    /// The clock.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// The participant list.
    pub fn chips(&self) -> &Arc<ChipMap> {
        &self.chips
    }

    /// The sync engine.
    pub fn sync(&self) -> &SyncEngine {
        &self.sync
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The RUFUS API base URL in use.
    pub fn api_url(&self) -> String {
        self.api_url.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Starts the capture pipeline, recording into the current device's open session.
    pub async fn start_capture(&self) -> Result<Capture> {
        let capture = Capture::start(
            self.store.clone(),
            self.clock.clone(),
            self.config.dedup_window,
            self.chips.clone(),
            self.wake.clone(),
        );
        capture.set_session(self.capture_target().await?);
        Ok(capture)
    }

    /// Where reads from the readers go: the session that records, or — while RUFUS has closed
    /// it from elsewhere and no new session is open yet — that session, whose pending
    /// passings are re-homed later ([`Engine::rehome_pending`]). Reads keep making passings
    /// through a remote close.
    pub async fn capture_target(&self) -> Result<Option<SessionId>> {
        if let Some(s) = self.recording_session().await? {
            return Ok(Some(s));
        }
        let Ok(device) = self.current_device().await else { return Ok(None) };
        let latest = self.store.sessions(Some(&device.deviceid)).await?.into_iter().next();
        Ok(latest.filter(|s| s.state == SessionState::ClosedRemotely).map(|s| s.id))
    }

    /// Sessions of the current device that RUFUS closed from elsewhere and that still hold
    /// pending passings.
    pub async fn stranded_sessions(&self) -> Result<Vec<SessionId>> {
        let Ok(device) = self.current_device().await else { return Ok(Vec::new()) };
        let mut stranded = Vec::new();
        for s in self.store.sessions(Some(&device.deviceid)).await? {
            if s.state == SessionState::ClosedRemotely
                && self.store.outbox_counts(Some(s.id)).await?.pending > 0
            {
                stranded.push(s.id);
            }
        }
        Ok(stranded)
    }

    /// The session new passings go into: the current device's open session, if it accepts them.
    pub async fn recording_session(&self) -> Result<Option<SessionId>> {
        Ok(self.current_session().await?.filter(|s| s.state.accepts_passings()).map(|s| s.id))
    }

    fn client(&self) -> Result<RufusClient> {
        self.sync.client().ok_or(CoreError::NoApiKey)
    }

    pub(crate) fn author(&self, reason: Option<String>) -> Author {
        let who = self.who.read().unwrap_or_else(|p| p.into_inner());
        Author { operator: who.0.clone(), station: who.1.clone(), reason }
    }

    /// Changes the key, the URL, the operator or the station while the console runs: validated
    /// first (nothing is saved or changed on a bad value), then applied in place — capture and
    /// readers never stop, and no network call is made.
    pub async fn reconfigure(&self, change: Reconfigure) -> Result<()> {
        let url = match &change.api_url {
            Some(url) => validate_api_url(url)?,
            None => self.api_url(),
        };
        let key = match &change.api_key {
            Some(Some(key)) => Some(validate_api_key(key)?),
            Some(None) => None,
            None => self.api_key.read().unwrap_or_else(|p| p.into_inner()).clone(),
        };
        let operator = match &change.operator {
            Some(op) => validate_name("operator", op)?.unwrap_or_else(|| "console".to_owned()),
            None => self.author(None).operator,
        };
        let station = match &change.station {
            Some(st) => validate_name("station", st.as_deref().unwrap_or(""))?,
            None => self.author(None).station,
        };
        let client = match &key {
            Some(key) => {
                Some(RufusClient::new(ClientConfig::new(key.clone()).with_base_url(url.clone()))?)
            }
            None => None,
        };
        *self.who.write().unwrap_or_else(|p| p.into_inner()) = (operator, station);
        let client_changed = change.api_key.is_some() || change.api_url.is_some();
        *self.api_url.write().unwrap_or_else(|p| p.into_inner()) = url;
        *self.api_key.write().unwrap_or_else(|p| p.into_inner()) = key;
        if client_changed {
            self.sync.set_client(client);
        }
        Ok(())
    }

    /// Puts the parked passings of a session (or of all) back into the outbox after the cause
    /// was fixed; they are reconciled before they go again. Returns how many.
    pub async fn retry_parked(&self, session: Option<SessionId>) -> Result<u64> {
        let n = self.store.unpark(session).await?;
        self.sync.retry_now();
        Ok(n)
    }

    /// Asks the console that syncs this data directory (this process or another one) to retry
    /// now: ends a backoff, a Retry-After wait or a pause.
    pub async fn request_retry(&self) -> Result<()> {
        let at = crate::clock::format_utc(self.clock.now());
        self.store.set_setting("retry_requested", &at).await?;
        self.sync.retry_now();
        Ok(())
    }

    /// The time of a manual stamp: the instant the key was pressed (taken by the front), when
    /// it is plausible against the host clock — at most [`KEY_PRESS_PAST`] old and not more than
    /// [`KEY_PRESS_FUTURE`] ahead; otherwise the host's time now, with the reason.
    pub fn key_press_time(
        &self,
        pressed_at: Option<DateTime<Utc>>,
    ) -> (DateTime<Utc>, Option<String>) {
        let now = self.clock.now();
        match pressed_at {
            None => (now, None),
            Some(t) if t > now + KEY_PRESS_FUTURE => (
                now,
                Some(format!(
                    "the key press time {} is ahead of this computer's clock; stamped now",
                    crate::clock::format_utc(t)
                )),
            ),
            Some(t) if now - t > KEY_PRESS_PAST => (
                now,
                Some(format!(
                    "the key press time {} is too old to trust; stamped now",
                    crate::clock::format_utc(t)
                )),
            ),
            Some(t) => (t, None),
        }
    }

    // ------------------------------------------------------------------ devices

    /// Binds a device: reuses the account's device with the same serial number if there is
    /// one, otherwise binds a new one. A reused device whose session is active in RUFUS is in
    /// use by another console (or was, before its laptop died): binding refuses with what that
    /// session is, unless `request.take_over`, which continues the session here, numbering
    /// after the highest `num_passing` the cloud holds.
    pub async fn bind_device(&self, request: BindRequest) -> Result<Device> {
        let client = self.client()?;
        let serial = request.serial_number.trim().to_owned();
        let mut take_over = None;
        if serial.is_empty() || request.model.trim().is_empty() {
            return Err(CoreError::Invalid(
                "a serial number and a model are needed to bind".into(),
            ));
        }
        let existing = client
            .all_devices()
            .await?
            .into_iter()
            .find(|d| d.serial_number.as_deref() == Some(serial.as_str()));
        let deviceid = match existing {
            Some(d) => {
                if let Some(active) = client.active_session(&d.deviceid).await? {
                    let known = self
                        .store
                        .sessions(Some(&DeviceId(d.deviceid.as_str().to_owned())))
                        .await?
                        .into_iter()
                        .any(|s| {
                            s.token_session.as_deref() == Some(active.token_session.as_str())
                                && s.state.accepts_passings()
                        });
                    if !known && !request.take_over {
                        return Err(CoreError::ConfirmationRequired(in_use_message(&active)));
                    }
                    if !known {
                        take_over = Some(active);
                    }
                }
                d.deviceid
            }
            None => {
                let new = NewDevice {
                    model: request.model.clone(),
                    serial_number: serial.clone(),
                    device_type: request.device_type.clone(),
                    alias: request.alias.clone(),
                    firmware: request.firmware.clone(),
                };
                match client.bind_device(&new).await {
                    Ok(id) => id,
                    Err(rufus_api::ApiError::AlreadyBound { deviceid, .. }) => deviceid,
                    Err(e) => return Err(e.into()),
                }
            }
        };
        let device = Device {
            deviceid: DeviceId(deviceid.as_str().to_owned()),
            serial_number: serial,
            model: request.model,
            device_type: Some(request.device_type),
            alias: request.alias,
            firmware: request.firmware,
            api_base_url: self.api_url(),
            bound_at: self.clock.now(),
        };
        self.store.upsert_device(&device).await?;
        self.store.set_setting("api_url", &self.api_url()).await?;
        if let Some(active) = take_over {
            let max = client.max_num_passing(&active.token_session).await?.unwrap_or(0);
            self.store
                .take_over_session(
                    &device.deviceid,
                    active.token_session.as_str(),
                    active.alias.as_deref(),
                    max,
                    self.clock.now(),
                )
                .await?;
            self.store.set_setting("current_device", &device.deviceid.0).await?;
            self.sync.wake();
        }
        let current = self.store.setting("current_device").await?.unwrap_or_default();
        if current.starts_with(LOCAL_DEVICE_PREFIX) {
            // What was recorded before the first bind now belongs to the bound device: those
            // sessions never reached the cloud, so they are created there now.
            self.store.adopt_local_sessions(&DeviceId(current.clone()), &device.deviceid).await?;
            self.store.mark_unbound(&DeviceId(current), self.clock.now()).await?;
            self.store.set_setting("current_device", &device.deviceid.0).await?;
            self.sync.wake();
        } else if current.is_empty() {
            self.store.set_setting("current_device", &device.deviceid.0).await?;
        }
        Ok(device)
    }

    /// What unbinding costs, in words, for the confirmation.
    pub const UNBIND_WARNING: &'static str = "unbinding deletes this device's sessions and passings in RUFUS Cloud \
         (the local record stays); confirm to go ahead";

    /// The stand-in device of a console that records before it was ever bound: its sessions
    /// stay local until a real device is bound, then move to it (see [`Engine::bind_device`]).
    async fn local_device(&self) -> Result<Device> {
        let device = Device {
            deviceid: DeviceId(format!(
                "{LOCAL_DEVICE_PREFIX}{}",
                self.clock.now().timestamp_millis()
            )),
            serial_number: "LOCAL".into(),
            model: "this console (not bound yet)".into(),
            device_type: None,
            alias: Some("Not bound".into()),
            firmware: None,
            api_base_url: String::new(),
            bound_at: self.clock.now(),
        };
        self.store.upsert_device(&device).await?;
        self.store.set_setting("current_device", &device.deviceid.0).await?;
        Ok(device)
    }

    /// Unbinds a device; refuses without `confirmed`.
    pub async fn unbind_device(&self, deviceid: &DeviceId, confirmed: bool) -> Result<()> {
        if !confirmed {
            return Err(CoreError::ConfirmationRequired(Self::UNBIND_WARNING.into()));
        }
        self.store
            .device(deviceid)
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("device {deviceid}")))?;
        match self.client()?.unbind_device(&SyncEngine::device_id(deviceid)).await {
            Ok(()) | Err(rufus_api::ApiError::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        self.store.mark_unbound(deviceid, self.clock.now()).await?;
        if self.store.setting("current_device").await?.as_deref() == Some(deviceid.0.as_str()) {
            let next = self.store.devices().await?.into_iter().next();
            self.store
                .set_setting("current_device", next.as_ref().map_or("", |d| d.deviceid.0.as_str()))
                .await?;
        }
        Ok(())
    }

    /// Bound devices.
    pub async fn devices(&self) -> Result<Vec<Device>> {
        self.store.devices().await
    }

    /// A device's local record and, when the cloud answers, its cloud record.
    pub async fn device_details(
        &self,
        deviceid: &DeviceId,
    ) -> Result<(Device, Option<rufus_api::Device>)> {
        let local = self
            .store
            .device(deviceid)
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("device {deviceid}")))?;
        let cloud = match self.sync.client() {
            Some(c) => Some(c.device(&SyncEngine::device_id(deviceid)).await?),
            None => None,
        };
        Ok((local, cloud))
    }

    /// The device this console records for: the chosen one, or the only one bound.
    pub async fn current_device(&self) -> Result<Device> {
        if let Some(id) = self.store.setting("current_device").await?.filter(|s| !s.is_empty())
            && let Some(device) = self.store.device(&DeviceId(id)).await?
        {
            return Ok(device);
        }
        self.store.devices().await?.into_iter().next().ok_or(CoreError::NoDevice)
    }

    /// Chooses the device this console records for.
    pub async fn select_device(&self, deviceid: &DeviceId) -> Result<Device> {
        let device = self
            .store
            .device(deviceid)
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("device {deviceid}")))?;
        self.store.set_setting("current_device", &deviceid.0).await?;
        Ok(device)
    }

    // ----------------------------------------------------------------- sessions

    /// Opens a session on the current device: at once locally (capture works offline), in the
    /// cloud as soon as the sync engine can.
    pub async fn open_session(&self, alias: Option<&str>) -> Result<Session> {
        let device = match self.current_device().await {
            Ok(device) => device,
            // First run, no key, no device: record on this console now, bind later.
            Err(CoreError::NoDevice) => self.local_device().await?,
            Err(e) => return Err(e),
        };
        let session = self.store.create_session(&device.deviceid, alias, self.clock.now()).await?;
        self.sync.wake();
        Ok(session)
    }

    /// The current device's open session.
    pub async fn current_session(&self) -> Result<Option<Session>> {
        match self.current_device().await {
            Ok(device) => self.store.open_session(&device.deviceid).await,
            Err(CoreError::NoDevice) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A session by id, or the current one.
    pub async fn session(&self, id: Option<SessionId>) -> Result<Session> {
        match id {
            Some(id) => self
                .store
                .session(id)
                .await?
                .ok_or_else(|| CoreError::NotFound(format!("session {id}"))),
            None => self.current_session().await?.ok_or(CoreError::NoOpenSession),
        }
    }

    /// Sessions of the current device (or all when no device is bound), newest first.
    pub async fn sessions(&self) -> Result<Vec<Session>> {
        match self.current_device().await {
            Ok(d) => self.store.sessions(Some(&d.deviceid)).await,
            Err(CoreError::NoDevice) => self.store.sessions(None).await,
            Err(e) => Err(e),
        }
    }

    /// Starts closing the current session: no new passings; the sync engine drains its outbox,
    /// then closes it in the cloud.
    pub async fn close_session(&self) -> Result<Session> {
        let session = self.current_session().await?.ok_or(CoreError::NoOpenSession)?;
        if session.state != SessionState::Closing {
            self.store
                .set_session_state(session.id, SessionState::Closing, None, self.clock.now())
                .await?;
        }
        self.sync.wake();
        self.session(Some(session.id)).await
    }

    /// On start-up: checks the open sessions against the cloud (a session closed from
    /// elsewhere is marked so). Without network this is skipped and retried by the caller.
    pub async fn check_sessions(&self) -> Result<Vec<Session>> {
        let mut closed = Vec::new();
        for session in self.store.sessions_to_sync().await? {
            if session.state == SessionState::Active && !self.sync.check_session(&session).await? {
                closed.push(self.session(Some(session.id)).await?);
            }
        }
        Ok(closed)
    }

    /// Moves the pending passings of a session the cloud closed to the current open session:
    /// they get new `num_passing` values there, and each move is recorded as a correction.
    /// Passings that were sent before (any attempt) are first looked up in the old session —
    /// closed sessions stay readable — and what landed there stays there, sent.
    pub async fn rehome_pending(&self, from: SessionId) -> Result<usize> {
        let source = self.session(Some(from)).await?;
        if source.state != SessionState::ClosedRemotely {
            return Err(CoreError::Conflict(format!(
                "session {from} was not closed from elsewhere"
            )));
        }
        let target = self.current_session().await?.ok_or(CoreError::NoOpenSession)?;
        if target.id == from || !target.state.accepts_passings() {
            return Err(CoreError::Conflict("open a new session to move the passings into".into()));
        }
        let pending = self.store.all_pending(from).await?;
        if pending.iter().any(|p| p.sync_attempts > 0) {
            self.sync.settle_attempted(&source, &pending).await?;
        }
        let pending = self.store.all_pending(from).await?;
        let author = self.author(Some("session closed from elsewhere".into()));
        let moved = crate::rehome::move_passings(
            &self.store,
            &source,
            &target,
            &pending,
            &author,
            self.clock.now(),
        )
        .await?;
        // The moved passings are the target's now: both sessions' feeds changed.
        self.store.changes().emit(Changed::Passings(moved.iter().map(|p| p.id).collect()));
        self.store.changes().emit(Changed::Session(from));
        self.sync.wake();
        Ok(moved.len())
    }

    /// Compares a session's passings with what the cloud holds (P2 over the session's whole
    /// range): which sent ones the cloud is missing, which are still pending, and which numbers
    /// the cloud has that this console never recorded.
    pub async fn reconcile(&self, session: SessionId) -> Result<Reconciliation> {
        let session = self.session(Some(session)).await?;
        let token = session
            .token_session
            .clone()
            .ok_or_else(|| CoreError::Conflict("the session is not in RUFUS yet".into()))?;
        let local = self.store.passings(session.id, 1, i64::MAX).await?;
        let last = u64::try_from(session.next_num_passing.saturating_sub(1)).unwrap_or(0).max(1);
        let cloud: std::collections::BTreeSet<i64> = self
            .client()?
            .all_passings_by_range(&rufus_api::SessionToken::new(token), 1, last)
            .await?
            .into_iter()
            .filter_map(|p| p.num_passing.and_then(|n| i64::try_from(n).ok()))
            .collect();
        let mut report =
            Reconciliation { session_id: session.id, cloud: cloud.len(), ..Default::default() };
        let mut known = std::collections::BTreeSet::new();
        for p in local.iter().filter(|p| p.sync_state != crate::domain::SyncState::Moved) {
            report.local += 1;
            known.insert(p.num_passing);
            match p.sync_state {
                crate::domain::SyncState::Sent if !cloud.contains(&p.num_passing) => {
                    report.missing_in_cloud.push(p.num_passing);
                }
                crate::domain::SyncState::Pending => report.pending.push(p.num_passing),
                _ => {}
            }
        }
        report.unknown_in_cloud = cloud.difference(&known).copied().collect();
        Ok(report)
    }

    /// Puts passings the cloud should hold but does not back into the outbox (they are
    /// reconciled again before they are sent, so nothing is doubled).
    pub async fn resend_missing(&self, session: SessionId) -> Result<usize> {
        let report = self.reconcile(session).await?;
        let mut tx = self.store.begin_write().await?;
        for num in &report.missing_in_cloud {
            sqlx::query(
                "UPDATE passings SET sync_state = 'pending', sent_at = NULL,
                   sync_attempts = MAX(sync_attempts, 1)
                 WHERE session_id = ? AND num_passing = ? AND sync_state = 'sent'",
            )
            .bind(session.0)
            .bind(num)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.sync.wake();
        Ok(report.missing_in_cloud.len())
    }

    /// The account's devices, from the cloud.
    pub async fn cloud_devices(&self) -> Result<Vec<rufus_api::Device>> {
        Ok(self.client()?.all_devices().await?)
    }

    /// The current device's sessions, from the cloud.
    pub async fn cloud_sessions(&self) -> Result<Vec<rufus_api::Session>> {
        let device = self.current_device().await?;
        Ok(self.client()?.device_sessions(&SyncEngine::device_id(&device.deviceid)).await?)
    }

    // ----------------------------------------------------- manual entry, corrections

    /// Manual entry into the session that is recording.
    pub async fn manual(&self) -> Result<ManualEntry<'_>> {
        let session = self.recording_session().await?.ok_or(CoreError::NoOpenSession)?;
        Ok(ManualEntry::new(&self.store, &self.chips, session, self.author(None)))
    }

    /// Corrects passing `num` of a session (the current one by default).
    pub async fn correct(
        &self,
        session: Option<SessionId>,
        num: i64,
        change: Change,
        reason: Option<String>,
    ) -> Result<Corrected> {
        let session = self.session(session).await?;
        let passing = self.store.passing_by_num(session.id, num).await?.ok_or_else(|| {
            CoreError::NotFound(format!("passing #{num} in session {}", session.id))
        })?;
        let done = corrections::correct(
            &self.store,
            passing.id,
            change,
            &self.author(reason),
            self.clock.now(),
        )
        .await?;
        self.store.changes().emit(Changed::Passings(vec![done.correction.passing_id]));
        self.sync.wake();
        Ok(done)
    }

    /// The audit trail of one passing.
    pub async fn audit(&self, passing: PassingId) -> Result<Vec<crate::domain::Correction>> {
        self.store.corrections(passing).await
    }

    /// The live feed: newest first, corrections applied.
    pub async fn feed(
        &self,
        session: Option<SessionId>,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<FeedEntry>> {
        let session = self.session(session).await?;
        corrections::feed(&self.store, session.id, before, limit, &self.chips).await
    }

    // ------------------------------------------------------- participants, exports

    /// Imports a participants CSV file into the chip map.
    pub async fn import_participants(&self, path: &Path) -> Result<ImportReport> {
        let file = std::fs::File::open(path)
            .map_err(|e| CoreError::io(format!("open {}", path.display()), e))?;
        self.import_participants_from(file).await
    }

    /// Imports participants CSV text (as a file picker in the UI reads it).
    pub async fn import_participants_from(&self, csv: impl std::io::Read) -> Result<ImportReport> {
        let (people, report) = parse_participants(csv).map_err(CoreError::Invalid)?;
        self.store.upsert_chips(&people, self.clock.now()).await?;
        self.chips.extend(people);
        Ok(report)
    }

    /// Writes the session's effective passings as CSV.
    pub async fn export_passings(
        &self,
        session: Option<SessionId>,
        out: impl std::io::Write,
    ) -> Result<usize> {
        let session = self.session(session).await?;
        let mut feed =
            corrections::feed(&self.store, session.id, None, i64::MAX, &self.chips).await?;
        feed.reverse();
        crate::export::passings_csv(&feed, out)
    }

    // ------------------------------------------------------- starts

    /// Starts, restarts, nudges or sets the start of `wave` (`""`: a race without waves) in the
    /// session that records. A wave that started is never started again by a second press:
    /// that takes a restart, which keeps the false start in the log.
    pub async fn start_wave(&self, wave: &str, request: StartRequest) -> Result<Start> {
        let session = self.recording_session().await?.ok_or_else(|| {
            CoreError::Conflict("no session is recording: open one before the start".into())
        })?;
        let who = self.author(None);
        let start = self
            .store
            .record_start(session, wave.trim(), request, None, &who, self.clock.now())
            .await?;
        Ok(start)
    }

    /// A session's start log, oldest first (its current starts: [`crate::starts::current`]).
    pub async fn starts(&self, session: Option<SessionId>) -> Result<Vec<Start>> {
        let session = self.session(session).await?;
        self.store.starts(session.id).await
    }

    /// The whole feed of a session, oldest first, for counts over it.
    async fn whole_feed(&self, session: SessionId) -> Result<Vec<FeedEntry>> {
        corrections::feed(&self.store, session, None, i64::MAX, &self.chips).await
    }

    /// What a typed bib stands for in the open session: `123 — Ana García · F40 · 10K`, and
    /// whether it is known, unknown, already finished or in a wave not started.
    pub async fn preview_bib(&self, bib: &str) -> Result<RunnerPreview> {
        let (feed, race) = match self.current_session().await? {
            Some(session) => {
                (self.whole_feed(session.id).await?, self.race_clock(Some(session.id)).await?)
            }
            None => (Vec::new(), RaceClock::default()),
        };
        Ok(runners::preview(bib, &self.chips, &runners::seen_bibs(&feed), &race))
    }

    /// Finished, on course and unknown runners of a session.
    pub async fn race_counts(&self, session: Option<SessionId>) -> Result<RaceCounts> {
        let session = self.session(session).await?;
        Ok(runners::counts(&self.chips, &self.whole_feed(session.id).await?))
    }

    /// Listed runners a session has not seen, matching `search`, in bib order.
    pub async fn not_yet_seen(
        &self,
        session: Option<SessionId>,
        search: &str,
        limit: usize,
    ) -> Result<Vec<Participant>> {
        let session = self.session(session).await?;
        let feed = self.whole_feed(session.id).await?;
        Ok(runners::not_yet_seen(&self.chips, &feed, search, limit))
    }

    /// The session's race clock: its starts and the participant list's waves.
    pub async fn race_clock(&self, session: Option<SessionId>) -> Result<RaceClock> {
        Ok(RaceClock::new(&self.starts(session).await?))
    }

    /// The latest raw reads of one source, newest first.
    pub async fn recent_raw(&self, source: &str, limit: i64) -> Result<Vec<RawFrame>> {
        use sqlx::Row;
        let rows = sqlx::query(
            "SELECT host_time, raw, chip, duplicate FROM raw_reads WHERE source = ? ORDER BY id DESC LIMIT ?",
        )
        .bind(source)
        .bind(limit)
        .fetch_all(self.store.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(RawFrame {
                    host_time: r.try_get("host_time")?,
                    raw: r.try_get("raw")?,
                    chip: r.try_get("chip")?,
                    duplicate: r.try_get::<i64, _>("duplicate")? != 0,
                })
            })
            .collect()
    }

    /// Writes the session's raw reads as CSV.
    pub async fn export_raw(
        &self,
        session: Option<SessionId>,
        out: impl std::io::Write,
    ) -> Result<usize> {
        let session = self.session(session).await?;
        crate::export::raw_csv(&self.store, session.id, out).await
    }
}
