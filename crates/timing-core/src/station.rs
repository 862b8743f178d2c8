//! A running timing station: the capture pipeline and the sync engine started together, with
//! named read sources added and removed while it runs, per-source status for the screen, and
//! the session upkeep both fronts need (capture follows the open session; after a remote close,
//! pending passings are re-homed). The CLI's `run` and the desktop app both drive one.
//!
//! A reader's time settings change here too: its time adjustment live (the supervisor is told;
//! the link stays up), its clock zone by re-creating its supervisor from the changed spec — the
//! old one is closed after handing on every read it holds, the new one resumes after the last
//! read stored in order and rewinds what the reader made meanwhile, the same path a console
//! restart takes. Both are recorded in `reader_changes`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::task::JoinHandle;

use crate::capture::SessionSetter;

use crate::capture::Capture;
use crate::domain::SessionId;
use crate::engine::Engine;
use crate::error::{CoreError, Result};
use timing_readers::{
    ReaderConfig, ReaderHandle, ReaderState, ReaderSupervisor, ReaderZone, ResumePoint,
};

/// How long a reader being re-created may take to hand on its reads.
const RESTART_DRAIN: Duration = Duration::from_secs(5);

/// A source as the screen shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SourceView {
    /// Its name.
    pub name: String,
    /// Its spec.
    pub spec: String,
    /// Protocol name.
    pub protocol: String,
    /// `connecting`, `connected`, `reading`, `quiet`, `lost`, `ended`, `stopped`.
    pub state: String,
    /// Why it ended, if it failed.
    pub last_error: Option<String>,
    /// Reads the reader may hold that the console cannot fetch, and what to do about them.
    pub warning: Option<String>,
    /// Reads committed from it.
    pub reads: u64,
    /// Frames the reader's decoder rejected (bad checksum, garbage…).
    pub rejected: u64,
    /// Recent reads per second.
    pub reads_per_sec: f64,
    /// Reads per second, one value per 5 s over the last minute, oldest first.
    pub rate_history: Vec<f64>,
    /// The last chip read.
    pub last_chip: Option<String>,
    /// When (host UTC).
    pub last_at: Option<DateTime<Utc>>,
    /// Reader clock minus host clock, when known.
    pub clock_offset_ms: Option<i64>,
    /// The zone the reader's clock is read in (`Europe/Madrid`, `+02:00`, `UTC`), `UTC (reader
    /// sends UTC)` for a reader that sends UTC, `None` for sources without a clock.
    pub clock_zone: Option<String>,
    /// Whether the zone can be chosen (the reader sends local time).
    pub zone_settable: bool,
    /// The reader clock disagrees with this computer's by more than 2 s, in words.
    pub clock_hint: Option<String>,
    /// The zone that would make the clocks agree (`+02:00`, `Europe/Madrid`).
    pub proposed_zone: Option<String>,
    /// Milliseconds added to each read's passing time.
    pub adjust_ms: i64,
    /// Connections made to the reader by its current supervisor.
    pub connects: u64,
    /// The reader's settings as it read them back, beside what its spec asked for (LLRP:
    /// connected antennas, power and sensitivity per antenna); empty for readers that read
    /// nothing back.
    pub settings: Vec<SettingView>,
}

/// One of a reader's settings, asked and applied ([`timing_readers::ReaderSetting`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SettingView {
    /// `antenna 1 power`, `connected antennas`.
    pub name: String,
    /// What the spec asked; `None`: nothing (the reader's own setting stands).
    pub asked: Option<String>,
    /// What the reader reports it applied; `None`: it reported nothing.
    pub applied: Option<String>,
    /// Something was asked and the reader did not apply exactly that.
    pub differs: bool,
}

impl From<&timing_readers::ReaderSetting> for SettingView {
    fn from(s: &timing_readers::ReaderSetting) -> Self {
        SettingView {
            name: s.name.clone(),
            asked: s.asked.clone(),
            applied: s.applied.clone(),
            differs: s.differs(),
        }
    }
}

/// A source the station runs: its spec and its reader's supervisor, which delivers straight to
/// the committer.
#[derive(Debug)]
struct RunningSource {
    spec: String,
    protocol: String,
    /// An input that ends (a file, stdin, the simulated finish): stopping it ends it.
    input: bool,
    handle: Arc<ReaderHandle>,
    /// Stopped by the timer (an input: ended on purpose; it is not reported as an ending).
    stopped: bool,
    /// Its ending was reported by [`Station::take_endings`].
    reported: bool,
}

fn reader_state(status: &timing_readers::ReaderStatus) -> &'static str {
    match status.state {
        ReaderState::Connecting => "connecting",
        ReaderState::Connected => "connected",
        ReaderState::Reading => "reading",
        ReaderState::Quiet => "quiet",
        ReaderState::Lost => "lost",
        // An input that could not be opened or failed part-way.
        ReaderState::Stopped if status.last_error.is_some() => "lost",
        ReaderState::Stopped => "stopped",
        ReaderState::Finished => "ended",
    }
}

/// Capture + sync + sources, running.
#[derive(Debug)]
pub struct Station {
    engine: Engine,
    capture: Capture,
    sync: JoinHandle<()>,
    watch: JoinHandle<()>,
    sources: Mutex<BTreeMap<String, RunningSource>>,
}

/// How often the station looks for session changes made by another process on the same data
/// directory (`timing-cli session open` from a second shell) and for "retry now" requests.
pub const WATCH_EVERY: Duration = Duration::from_millis(50);

impl Station {
    /// Starts capture (into the current session) and continuous sync.
    pub async fn start(engine: Engine) -> Result<Self> {
        let capture = engine.start_capture().await?;
        let sync = tokio::spawn(engine.sync().clone().run());
        let watch = tokio::spawn(watch_store(engine.clone(), capture.session_setter()));
        Ok(Self { engine, capture, sync, watch, sources: Mutex::new(BTreeMap::new()) })
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The capture pipeline (subscribe to commits here).
    pub fn capture(&self) -> &Capture {
        &self.capture
    }

    fn sources_lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, RunningSource>> {
        self.sources.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts a source under `name` from its spec (`sim:…`, `lines:…`, `file:…`, `serial:…`,
    /// `tcp:…`). A reader that ran before resumes after the last read it delivered (rewind).
    pub async fn add_source(&self, name: &str, spec: &str) -> Result<()> {
        self.add_parsed(name.trim(), spec, parse_spec(spec)?).await
    }

    /// Starts timing hardware from its configuration (for configurations a spec cannot say,
    /// e.g. a reader's time zone or an IPICO Elite's replay ports).
    pub async fn add_reader(&self, name: &str, config: ReaderConfig) -> Result<()> {
        let spec = config.to_string();
        self.add_parsed(name.trim(), &spec, config).await
    }

    async fn add_parsed(&self, name: &str, spec: &str, mut config: ReaderConfig) -> Result<()> {
        if name.is_empty() {
            return Err(CoreError::Invalid("a reader needs a name".into()));
        }
        if self.sources_lock().contains_key(name) {
            return Err(CoreError::Conflict(format!("a reader named `{name}` already exists")));
        }
        config.name = Some(name.to_owned());
        let input = config.link.is_input();
        if !input
            && config.resume_after.is_none()
            && let Some((key, at)) = self.engine.store().last_replay_point(name).await?
        {
            config.resume_after = Some(ResumePoint { replay_key: Some(key), at: Some(at) });
        }
        let protocol = config.protocol.to_string();
        let mut sources = self.sources_lock();
        if sources.contains_key(name) {
            return Err(CoreError::Conflict(format!("a reader named `{name}` already exists")));
        }
        let handle = ReaderSupervisor::spawn(
            config,
            self.engine.clock().clone(),
            self.capture.sink().sender(),
        );
        sources.insert(
            name.to_owned(),
            RunningSource {
                spec: spec.to_owned(),
                protocol,
                input,
                handle: Arc::new(handle),
                stopped: false,
                reported: false,
            },
        );
        Ok(())
    }

    fn reader_handle(&self, name: &str) -> Result<Arc<ReaderHandle>> {
        let sources = self.sources_lock();
        let source =
            sources.get(name).ok_or_else(|| CoreError::NotFound(format!("reader `{name}`")))?;
        Ok(source.handle.clone())
    }

    /// The handle of a reader that is timing hardware (not an input that ends).
    fn hardware_handle(&self, name: &str, what: &str) -> Result<Arc<ReaderHandle>> {
        let sources = self.sources_lock();
        let source =
            sources.get(name).ok_or_else(|| CoreError::NotFound(format!("reader `{name}`")))?;
        if source.input {
            return Err(CoreError::Conflict(format!("`{name}` is an input, not a reader: {what}")));
        }
        Ok(source.handle.clone())
    }

    /// Sets a reader's clock to this computer's UTC time (readers with a settable clock).
    pub async fn set_reader_clock(&self, name: &str) -> Result<()> {
        let handle = self.hardware_handle(name, "it has no clock to set")?;
        handle
            .set_clock(self.engine.clock().now())
            .await
            .map_err(|e| CoreError::Conflict(e.to_string()))
    }

    /// A running reader's configuration, parsed from its spec.
    fn reader_config(&self, name: &str) -> Result<ReaderConfig> {
        let spec = {
            let sources = self.sources_lock();
            let source =
                sources.get(name).ok_or_else(|| CoreError::NotFound(format!("reader `{name}`")))?;
            source.spec.clone()
        };
        let config = parse_spec(&spec)?;
        if config.link.is_input() {
            return Err(CoreError::Conflict(format!(
                "`{name}` is not timing hardware: it has no clock zone or time adjustment"
            )));
        }
        Ok(config)
    }

    async fn record_change(
        &self,
        name: &str,
        setting: &str,
        old: Option<String>,
        new: Option<String>,
    ) -> Result<()> {
        let who = self.engine.author(None);
        let at = self.engine.clock().now();
        self.engine
            .store()
            .record_reader_change(
                name,
                setting,
                old.as_deref(),
                new.as_deref(),
                &who.operator,
                who.station.as_deref(),
                at,
            )
            .await
    }

    /// Changes the milliseconds added to a reader's passing times (`-1500`: the reader reports
    /// 1.5 s late), for reads delivered from now on. The link stays up and capture never stops;
    /// the spec (`adjust_ms=`) carries it across a restart, and `reader_changes` records it.
    pub async fn adjust_reader(&self, name: &str, ms: i64) -> Result<()> {
        if ms.abs() > timing_readers::MAX_ADJUST_MS {
            return Err(CoreError::Invalid(format!(
                "adjust_ms: {ms} ms is more than an hour; set the reader's clock zone or its clock instead"
            )));
        }
        let mut config = self.reader_config(name)?;
        let old = config.adjust_ms;
        if old == ms {
            return Ok(());
        }
        let handle = self.reader_handle(name)?;
        handle.set_adjustment(ms).await.map_err(|e| CoreError::Conflict(e.to_string()))?;
        config.adjust_ms = ms;
        if let Some(source) = self.sources_lock().get_mut(name) {
            source.spec = config.to_string();
        }
        self.record_change(name, "adjust_ms", Some(old.to_string()), Some(ms.to_string())).await
    }

    /// Sets the zone a reader's clock is read in (`Europe/Madrid`, `+02:00`; empty: the
    /// computer's zone). Re-creates the reader's supervisor from the changed spec (see the
    /// module docs): no read is lost, reads made meanwhile are rewound.
    pub async fn set_reader_zone(&self, name: &str, zone: &str) -> Result<()> {
        let zone = zone.trim();
        let new: Option<ReaderZone> = match zone {
            "" => None,
            text => Some(text.parse().map_err(|e: timing_readers::UnknownZone| {
                CoreError::Invalid(format!("zone: {e}"))
            })?),
        };
        let mut config = self.reader_config(name)?;
        if !ReaderZone::applies_to(config.protocol) {
            return Err(CoreError::Conflict(format!(
                "reader `{name}` does not send local time ({}): a zone changes nothing",
                config.protocol
            )));
        }
        let old = config.reader_zone;
        if old == new {
            return Ok(());
        }
        config.reader_zone = new;
        self.restart_reader(name, &config.to_string()).await?;
        self.record_change(name, "zone", old.map(|z| z.to_string()), new.map(|z| z.to_string()))
            .await
    }

    /// Replaces a running reader by one started from `spec`, losing no read: the old
    /// supervisor is closed and its forwarding task drains every read it delivered into capture,
    /// capture commits them, and the new supervisor resumes after the last read stored in order
    /// (so it rewinds what the reader made while the link was re-made).
    async fn restart_reader(&self, name: &str, spec: &str) -> Result<()> {
        let config = parse_spec(spec)?;
        let source = self
            .sources_lock()
            .remove(name)
            .ok_or_else(|| CoreError::NotFound(format!("reader `{name}`")))?;
        let old_spec = source.spec.clone();
        // Its supervisor delivers on the committer's channel: once it has ended, every read it
        // made is queued for commit.
        source.handle.close().await;
        let deadline = self.engine.clock().monotonic() + RESTART_DRAIN;
        while !source.handle.has_ended() && self.engine.clock().monotonic() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if !source.handle.has_ended() {
            tracing::warn!(reader = name, "the reader's old supervisor did not end in time");
        }
        drop(source);
        // What was handed on is committed before the resume point is read.
        let deadline = self.engine.clock().monotonic() + RESTART_DRAIN;
        while self.capture.queued() > 0 && self.engine.clock().monotonic() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        match self.add_parsed(name, spec, config).await {
            Ok(()) => {
                tracing::info!(reader = name, spec, "reader restarted with a new spec");
                Ok(())
            }
            Err(e) => {
                // The reader goes on as it was rather than not at all: capture never stops.
                tracing::warn!(reader = name, error = %e, "restart failed; the old spec goes on");
                self.add_parsed(name, &old_spec, parse_spec(&old_spec)?).await?;
                Err(e)
            }
        }
    }

    /// The last frames a reader exchanged (in and out, decoded or rejected).
    pub fn reader_frames(
        &self,
        name: &str,
        n: usize,
    ) -> Result<Option<Vec<timing_readers::FrameRecord>>> {
        Ok(Some(self.reader_handle(name)?.recent_frames(n)))
    }

    /// Stops a source: timing hardware is told to stop reading (it stays connected); an input
    /// (file, stdin, simulated finish) ends and stays listed as `stopped` until started again.
    pub async fn stop_source(&self, name: &str) -> Result<()> {
        let (handle, input) = {
            let mut sources = self.sources_lock();
            let source = sources
                .get_mut(name)
                .ok_or_else(|| CoreError::NotFound(format!("reader `{name}`")))?;
            source.stopped |= source.input;
            (source.handle.clone(), source.input)
        };
        if input {
            handle.close().await;
            return Ok(());
        }
        handle.stop().await.map_err(|e| CoreError::Conflict(e.to_string()))
    }

    /// Starts a source again: timing hardware is told to read; an input that ended or was
    /// stopped starts again from its spec.
    pub async fn start_source(&self, name: &str) -> Result<()> {
        let (handle, spec, input) = {
            let sources = self.sources_lock();
            let source =
                sources.get(name).ok_or_else(|| CoreError::NotFound(format!("reader `{name}`")))?;
            (source.handle.clone(), source.spec.clone(), source.input)
        };
        if !input {
            return handle.start().await.map_err(|e| CoreError::Conflict(e.to_string()));
        }
        if !handle.has_ended() {
            return Ok(());
        }
        self.sources_lock().remove(name);
        self.add_source(name, &spec).await
    }

    /// Stops and forgets a source (timing hardware is disconnected).
    pub async fn remove_source(&self, name: &str) -> Result<()> {
        let source = self
            .sources_lock()
            .remove(name)
            .ok_or_else(|| CoreError::NotFound(format!("reader `{name}`")))?;
        shut(source.handle).await;
        Ok(())
    }

    /// Whether every source has ended (used by `run --exit-when-done`).
    pub fn all_sources_ended(&self) -> bool {
        self.sources_lock().values().all(|s| s.handle.has_ended())
    }

    /// Sources that ended since the last call, with their outcome (reported once each; a
    /// source stopped by the timer is not reported).
    pub fn take_endings(&self) -> Vec<(String, Result<(), String>)> {
        let mut endings = Vec::new();
        for (name, s) in self.sources_lock().iter_mut() {
            if s.reported || s.stopped || !s.handle.has_ended() {
                continue;
            }
            s.reported = true;
            let status = s.handle.status().borrow().clone();
            let outcome = match (status.state, status.last_error) {
                (ReaderState::Finished, _) => Ok(()),
                (_, Some(error)) => Err(error),
                (_, None) => Err("the reader's supervisor stopped".to_owned()),
            };
            endings.push((name.clone(), outcome));
        }
        endings
    }

    /// Every source with its state and rates, from its supervisor's status and the reads
    /// committed from it.
    pub fn sources(&self) -> Vec<SourceView> {
        let stats = self.capture.stats().borrow().clone();
        let mut views = Vec::new();
        for (name, s) in self.sources_lock().iter() {
            let counters = stats.sources.get(name).cloned().unwrap_or_default();
            let r = s.handle.status().borrow().clone();
            let state = if s.stopped { "stopped" } else { reader_state(&r) };
            let hint = r.clock_hint.clone();
            views.push(SourceView {
                name: name.clone(),
                spec: s.spec.clone(),
                protocol: s.protocol.clone(),
                state: state.to_owned(),
                last_error: r.last_error.clone(),
                warning: r.warning.clone(),
                reads: counters.reads,
                rejected: r.counters.rejected,
                reads_per_sec: r.reads_per_sec,
                rate_history: r.rate_history.clone(),
                last_chip: counters.last_chip,
                last_at: counters.last_at,
                clock_offset_ms: r.clock_offset_ms,
                clock_zone: r.zone_label(),
                zone_settable: r.zone.is_some(),
                clock_hint: hint.as_ref().map(|h| h.text.clone()),
                proposed_zone: hint.and_then(|h| h.proposed_zone).map(|z| z.to_string()),
                adjust_ms: r.adjust_ms,
                connects: r.counters.connects,
                settings: r.settings.iter().map(SettingView::from).collect(),
            });
        }
        views
    }

    /// Session upkeep, to call on every status tick: capture follows the session that records;
    /// with `auto_rehome`, a session closed from elsewhere is continued in a new one and its
    /// pending passings are moved there. Returns what it did, in words.
    pub async fn maintain(&self, auto_rehome: bool) -> Result<Vec<String>> {
        let mut said = Vec::new();
        if auto_rehome {
            let stranded = self.engine.stranded_sessions().await?;
            if let Some(first) = stranded.first()
                && self.engine.current_session().await?.is_none()
            {
                let old = self.engine.session(Some(*first)).await?;
                let alias = old.alias.unwrap_or_else(|| format!("session {}", old.id));
                let new = self.engine.open_session(Some(&format!("{alias} (continued)"))).await?;
                said.push(format!(
                    "RUFUS closed session {} from elsewhere; opened session {} to continue",
                    old.id, new.id
                ));
            }
            self.follow_session().await?;
            for old in stranded {
                let moved = self.engine.rehome_pending(old).await?;
                said.push(format!(
                    "moved {moved} pending passing(s) from session {old} into the open session"
                ));
            }
        } else {
            self.follow_session().await?;
        }
        Ok(said)
    }

    /// Points capture at the session reads belong to now.
    pub async fn follow_session(&self) -> Result<Option<SessionId>> {
        let target = self.engine.capture_target().await?;
        self.capture.set_session(target);
        Ok(target)
    }

    /// Stops the sources, commits what they delivered, stops sync.
    pub async fn shutdown(self) {
        let Station { capture, sync, watch, sources, .. } = self;
        watch.abort();
        let sources = sources.into_inner().unwrap_or_else(|p| p.into_inner());
        for (_, s) in sources {
            shut(s.handle).await;
        }
        capture.shutdown().await;
        sync.abort();
    }
}

/// Ends a reader's supervisor: waits for it when this was the last handle, else asks it to end.
async fn shut(handle: Arc<ReaderHandle>) {
    match Arc::try_unwrap(handle) {
        Ok(handle) => handle.shutdown().await,
        Err(shared) => shared.close().await,
    }
}

/// A source spec, with the reader spec's error in the engine's words.
pub fn parse_spec(spec: &str) -> Result<ReaderConfig> {
    ReaderConfig::from_spec(spec).map_err(|e| CoreError::Invalid(e.to_string()))
}

/// Follows the data directory: when a session is opened, closed or changes state — here or in
/// another process — capture points at the right session within [`WATCH_EVERY`] and the sync
/// engine looks at once; a "retry now" written by another process ends a backoff.
async fn watch_store(engine: Engine, capture: SessionSetter) {
    let mut seen: Option<String> = None;
    let mut retry_seen: Option<Option<String>> = None;
    let mut tick = tokio::time::interval(WATCH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Ok(version) = engine.store().sessions_version().await else { continue };
        if seen.as_deref() == Some(version.as_str()) {
            continue;
        }
        let retry = version.split('|').nth(1).map(str::to_owned);
        if retry_seen.as_ref().is_some_and(|r| *r != retry) {
            engine.sync().retry_now();
        }
        retry_seen = Some(retry);
        match engine.capture_target().await {
            Ok(target) => capture.set(target),
            Err(e) => {
                tracing::warn!(error = %e, "could not follow the session");
                continue;
            }
        }
        engine.sync().wake();
        seen = Some(version);
    }
}
