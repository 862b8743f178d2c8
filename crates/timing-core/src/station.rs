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

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::task::JoinHandle;

use crate::capture::SessionSetter;

use crate::capture::Capture;
use crate::domain::SessionId;
use crate::engine::Engine;
use crate::error::{CoreError, Result};
use timing_readers::{ReaderConfig, ReaderHandle, ReaderState, ReaderZone, ResumePoint};

use crate::source::{HardwareSource, ReadSource, ReaderSlot, SourceSpec};

/// How long a source may deliver nothing before it is shown as quiet.
const QUIET_AFTER: Duration = Duration::from_secs(10);
/// One rate sample per this period in the history.
const HISTORY_STEP: Duration = Duration::from_secs(5);
/// Samples kept (one minute).
const HISTORY_LEN: usize = 12;
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

#[derive(Debug)]
struct RunningSource {
    spec: String,
    protocol: String,
    task: JoinHandle<()>,
    outcome: Arc<Mutex<Option<Result<(), String>>>>,
    /// (monotonic, reads) samples.
    samples: VecDeque<(Duration, u64)>,
    history: VecDeque<f64>,
    last_step: Duration,
    stopped: bool,
    /// For timing hardware: the supervisor's handle (status, commands).
    reader: Option<ReaderSlot>,
}

fn reader_state(state: ReaderState) -> &'static str {
    match state {
        ReaderState::Connecting => "connecting",
        ReaderState::Connected => "connected",
        ReaderState::Reading => "reading",
        ReaderState::Quiet => "quiet",
        ReaderState::Lost => "lost",
        ReaderState::Stopped => "stopped",
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

    /// Starts a source under `name` from its spec (`sim:…`, `lines:…`, `serial:…`, `tcp:…`).
    /// A reader that ran before resumes after the last read it delivered (rewind).
    pub async fn add_source(&self, name: &str, spec: &str) -> Result<()> {
        let name = name.trim();
        if name.is_empty() {
            return Err(CoreError::Invalid("a reader needs a name".into()));
        }
        if self.sources_lock().contains_key(name) {
            return Err(CoreError::Conflict(format!("a reader named `{name}` already exists")));
        }
        self.add_parsed(name, spec, SourceSpec::parse(spec)?).await
    }

    /// Starts timing hardware from its configuration (for configurations a spec cannot say,
    /// e.g. a reader's time zone or an IPICO Elite's replay ports).
    pub async fn add_reader(&self, name: &str, config: ReaderConfig) -> Result<()> {
        let spec = config.to_string();
        self.add_parsed(name.trim(), &spec, SourceSpec::Reader(Box::new(config))).await
    }

    async fn add_parsed(&self, name: &str, spec: &str, parsed: SourceSpec) -> Result<()> {
        if name.is_empty() {
            return Err(CoreError::Invalid("a reader needs a name".into()));
        }
        if self.sources_lock().contains_key(name) {
            return Err(CoreError::Conflict(format!("a reader named `{name}` already exists")));
        }
        let protocol = parsed.protocol();
        let (source, reader): (Box<dyn ReadSource>, _) = match parsed {
            SourceSpec::Reader(mut config) => {
                config.name = Some(name.to_owned());
                if config.resume_after.is_none()
                    && let Some((key, at)) = self.engine.store().last_replay_point(name).await?
                {
                    config.resume_after = Some(ResumePoint { replay_key: Some(key), at: Some(at) });
                }
                let slot = Arc::new(Mutex::new(None));
                let source = HardwareSource { config: *config, handle: Some(slot.clone()) };
                (Box::new(source), Some(slot))
            }
            other => (other.into_source_named(name), None),
        };
        let sink = self.capture.sink();
        let outcome = Arc::new(Mutex::new(None));
        let done = outcome.clone();
        let task = tokio::spawn(async move {
            let result = source.run(sink).await.map_err(|e| e.to_string());
            *done.lock().unwrap_or_else(|p| p.into_inner()) = Some(result);
        });
        let now = self.engine.clock().monotonic();
        let mut sources = self.sources_lock();
        if sources.contains_key(name) {
            task.abort();
            return Err(CoreError::Conflict(format!("a reader named `{name}` already exists")));
        }
        sources.insert(
            name.to_owned(),
            RunningSource {
                spec: spec.to_owned(),
                protocol,
                task,
                outcome,
                samples: VecDeque::new(),
                history: VecDeque::new(),
                last_step: now,
                stopped: false,
                reader,
            },
        );
        Ok(())
    }

    fn reader_handle(&self, name: &str) -> Result<Option<Arc<ReaderHandle>>> {
        let sources = self.sources_lock();
        let source =
            sources.get(name).ok_or_else(|| CoreError::NotFound(format!("reader `{name}`")))?;
        Ok(source
            .reader
            .as_ref()
            .and_then(|slot| slot.lock().unwrap_or_else(|p| p.into_inner()).clone()))
    }

    /// Sets a reader's clock to this computer's UTC time (readers with a settable clock).
    pub async fn set_reader_clock(&self, name: &str) -> Result<()> {
        let handle = self.reader_handle(name)?.ok_or_else(|| {
            CoreError::Conflict(format!(
                "reader `{name}` has no clock of its own: its reads are stamped with this computer's time"
            ))
        })?;
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
        match SourceSpec::parse(&spec)? {
            SourceSpec::Reader(config) => Ok(*config),
            _ => Err(CoreError::Conflict(format!(
                "`{name}` is not timing hardware: it has no clock zone or time adjustment"
            ))),
        }
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
        if let Some(handle) = self.reader_handle(name)? {
            handle.set_adjustment(ms).await.map_err(|e| CoreError::Conflict(e.to_string()))?;
        }
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
        let parsed = SourceSpec::parse(spec)?;
        let handle = self.reader_handle(name)?;
        let source = self
            .sources_lock()
            .remove(name)
            .ok_or_else(|| CoreError::NotFound(format!("reader `{name}`")))?;
        let old_spec = source.spec.clone();
        if let Some(handle) = handle {
            handle.close().await;
        }
        let mut task = source.task;
        if tokio::time::timeout(RESTART_DRAIN, &mut task).await.is_err() {
            tracing::warn!(reader = name, "the reader's old supervisor did not end in time");
            task.abort();
        }
        // What was handed on is committed before the resume point is read.
        let deadline = self.engine.clock().monotonic() + RESTART_DRAIN;
        while self.capture.queued() > 0 && self.engine.clock().monotonic() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        match self.add_parsed(name, spec, parsed).await {
            Ok(()) => {
                tracing::info!(reader = name, spec, "reader restarted with a new spec");
                Ok(())
            }
            Err(e) => {
                // The reader goes on as it was rather than not at all: capture never stops.
                tracing::warn!(reader = name, error = %e, "restart failed; the old spec goes on");
                let old = SourceSpec::parse(&old_spec)?;
                self.add_parsed(name, &old_spec, old).await?;
                Err(e)
            }
        }
    }

    /// The last frames a reader exchanged (timing hardware: in and out, decoded or rejected).
    pub fn reader_frames(
        &self,
        name: &str,
        n: usize,
    ) -> Result<Option<Vec<timing_readers::FrameRecord>>> {
        Ok(self.reader_handle(name)?.map(|h| h.recent_frames(n)))
    }

    /// Stops a source: timing hardware is told to stop reading (it stays connected); other
    /// sources stop and stay listed as `stopped` until started again.
    pub async fn stop_source(&self, name: &str) -> Result<()> {
        if let Some(handle) = self.reader_handle(name)? {
            return handle.stop().await.map_err(|e| CoreError::Conflict(e.to_string()));
        }
        let mut sources = self.sources_lock();
        let source =
            sources.get_mut(name).ok_or_else(|| CoreError::NotFound(format!("reader `{name}`")))?;
        source.task.abort();
        source.stopped = true;
        Ok(())
    }

    /// Starts a source again: timing hardware is told to read; other sources restart from
    /// their spec.
    pub async fn start_source(&self, name: &str) -> Result<()> {
        if let Some(handle) = self.reader_handle(name)? {
            return handle.start().await.map_err(|e| CoreError::Conflict(e.to_string()));
        }
        let spec = {
            let sources = self.sources_lock();
            let source =
                sources.get(name).ok_or_else(|| CoreError::NotFound(format!("reader `{name}`")))?;
            if !source.task.is_finished() {
                return Ok(());
            }
            source.spec.clone()
        };
        self.sources_lock().remove(name);
        self.add_source(name, &spec).await
    }

    /// Stops and forgets a source (timing hardware is disconnected).
    pub async fn remove_source(&self, name: &str) -> Result<()> {
        let handle = self.reader_handle(name)?;
        let source = self
            .sources_lock()
            .remove(name)
            .ok_or_else(|| CoreError::NotFound(format!("reader `{name}`")))?;
        source.task.abort();
        if let Some(handle) = handle.and_then(|h| Arc::try_unwrap(h).ok()) {
            handle.shutdown().await;
        }
        Ok(())
    }

    /// Whether every source has ended (used by `run --exit-when-done`).
    pub fn all_sources_ended(&self) -> bool {
        self.sources_lock().values().all(|s| s.task.is_finished())
    }

    /// Sources that ended since the last call, with their outcome (reported once each).
    pub fn take_endings(&self) -> Vec<(String, Result<(), String>)> {
        let mut endings = Vec::new();
        for (name, s) in self.sources_lock().iter() {
            if let Some(result) = s.outcome.lock().unwrap_or_else(|p| p.into_inner()).take() {
                endings.push((name.clone(), result));
            }
        }
        endings
    }

    /// Every source with its state and rates. Call regularly (each status tick): it also
    /// samples the rates.
    pub fn sources(&self) -> Vec<SourceView> {
        let stats = self.capture.stats().borrow().clone();
        let now = self.engine.clock().monotonic();
        let host_now = self.engine.clock().now();
        let mut views = Vec::new();
        for (name, s) in self.sources_lock().iter_mut() {
            let counters = stats.sources.get(name).cloned().unwrap_or_default();
            s.samples.push_back((now, counters.reads));
            while s.samples.len() > 2
                && s.samples.front().is_some_and(|(t, _)| now.saturating_sub(*t) > HISTORY_STEP)
            {
                s.samples.pop_front();
            }
            let rate = match (s.samples.front(), s.samples.back()) {
                (Some((t0, r0)), Some((t1, r1))) if t1 > t0 => {
                    (r1 - r0) as f64 / (*t1 - *t0).as_secs_f64()
                }
                _ => 0.0,
            };
            if now.saturating_sub(s.last_step) >= HISTORY_STEP {
                s.last_step = now;
                s.history.push_back(rate);
                while s.history.len() > HISTORY_LEN {
                    s.history.pop_front();
                }
            }
            let reader = s
                .reader
                .as_ref()
                .and_then(|slot| slot.lock().unwrap_or_else(|p| p.into_inner()).clone())
                .map(|h| h.status().borrow().clone());
            let finished = s.task.is_finished();
            let failed = s
                .outcome
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .as_ref()
                .and_then(|r| r.clone().err());
            let quiet = counters
                .last_at
                .is_none_or(|t| (host_now - t).to_std().unwrap_or_default() > QUIET_AFTER);
            let state = match (finished, &failed, quiet) {
                _ if s.stopped => "stopped",
                (true, Some(_), _) => "lost",
                (true, None, _) => "ended",
                (false, _, true) => "quiet",
                (false, _, false) => "reading",
            };
            let (state, last_error, rejected, clock_offset_ms) = match (&reader, finished) {
                (Some(r), false) => (
                    reader_state(r.state).to_owned(),
                    r.last_error.clone(),
                    r.counters.rejected,
                    r.clock_offset_ms,
                ),
                _ => (state.to_owned(), failed, 0, None),
            };
            let warning = reader.as_ref().and_then(|r| r.warning.clone());
            let hint = reader.as_ref().and_then(|r| r.clock_hint.clone());
            views.push(SourceView {
                name: name.clone(),
                spec: s.spec.clone(),
                protocol: s.protocol.clone(),
                state,
                last_error,
                warning,
                reads: counters.reads,
                rejected,
                reads_per_sec: rate,
                rate_history: s.history.iter().copied().collect(),
                last_chip: counters.last_chip,
                last_at: counters.last_at,
                clock_offset_ms,
                clock_zone: reader.as_ref().and_then(|r| r.zone_label()),
                zone_settable: reader.as_ref().is_some_and(|r| r.zone.is_some()),
                clock_hint: hint.as_ref().map(|h| h.text.clone()),
                proposed_zone: hint.and_then(|h| h.proposed_zone).map(|z| z.to_string()),
                adjust_ms: reader.as_ref().map_or(0, |r| r.adjust_ms),
                connects: reader.as_ref().map_or(0, |r| r.counters.connects),
                settings: reader
                    .as_ref()
                    .map(|r| r.settings.iter().map(SettingView::from).collect())
                    .unwrap_or_default(),
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
            let handle = s
                .reader
                .as_ref()
                .and_then(|slot| slot.lock().unwrap_or_else(|p| p.into_inner()).take());
            s.task.abort();
            let _ = s.task.await;
            if let Some(handle) = handle.and_then(|h| Arc::try_unwrap(h).ok()) {
                handle.shutdown().await;
            }
        }
        capture.shutdown().await;
        sync.abort();
    }
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
