//! A running timing station: the capture pipeline and the sync engine started together, with
//! named read sources added and removed while it runs, per-source status for the screen, and
//! the session upkeep both fronts need (capture follows the open session; after a remote close,
//! pending passings are re-homed). The CLI's `run` and the desktop app both drive one.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::task::JoinHandle;

use crate::capture::Capture;
use crate::domain::SessionId;
use crate::engine::Engine;
use crate::error::{CoreError, Result};
use crate::source::SourceSpec;

/// How long a source may deliver nothing before it is shown as quiet.
const QUIET_AFTER: Duration = Duration::from_secs(10);
/// One rate sample per this period in the history.
const HISTORY_STEP: Duration = Duration::from_secs(5);
/// Samples kept (one minute).
const HISTORY_LEN: usize = 12;

/// A source as the screen shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SourceView {
    /// Its name.
    pub name: String,
    /// Its spec.
    pub spec: String,
    /// Protocol name.
    pub protocol: String,
    /// `reading`, `quiet`, `ended`, `lost`, `stopped`.
    pub state: String,
    /// Why it ended, if it failed.
    pub last_error: Option<String>,
    /// Reads committed from it.
    pub reads: u64,
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
}

/// Capture + sync + sources, running.
#[derive(Debug)]
pub struct Station {
    engine: Engine,
    capture: Capture,
    sync: JoinHandle<()>,
    sources: Mutex<BTreeMap<String, RunningSource>>,
}

impl Station {
    /// Starts capture (into the current session) and continuous sync.
    pub async fn start(engine: Engine) -> Result<Self> {
        let capture = engine.start_capture().await?;
        let sync = tokio::spawn(engine.sync().clone().run());
        Ok(Self { engine, capture, sync, sources: Mutex::new(BTreeMap::new()) })
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

    /// Starts a source under `name` from its spec (`sim:…`, `lines:…`).
    pub fn add_source(&self, name: &str, spec: &str) -> Result<()> {
        let name = name.trim();
        if name.is_empty() {
            return Err(CoreError::Invalid("a reader needs a name".into()));
        }
        let parsed = SourceSpec::parse(spec)?;
        let mut sources = self.sources_lock();
        if sources.contains_key(name) {
            return Err(CoreError::Conflict(format!("a reader named `{name}` already exists")));
        }
        let protocol = match &parsed {
            SourceSpec::Sim(_) => "sim",
            SourceSpec::Lines(_) => "lines",
        };
        let source = parsed.into_source_named(name);
        let sink = self.capture.sink();
        let outcome = Arc::new(Mutex::new(None));
        let done = outcome.clone();
        let task = tokio::spawn(async move {
            let result = source.run(sink).await.map_err(|e| e.to_string());
            *done.lock().unwrap_or_else(|p| p.into_inner()) = Some(result);
        });
        let now = self.engine.clock().monotonic();
        sources.insert(
            name.to_owned(),
            RunningSource {
                spec: spec.to_owned(),
                protocol: protocol.to_owned(),
                task,
                outcome,
                samples: VecDeque::new(),
                history: VecDeque::new(),
                last_step: now,
                stopped: false,
            },
        );
        Ok(())
    }

    /// Stops a source; it stays listed as `stopped` and can be started again.
    pub fn stop_source(&self, name: &str) -> Result<()> {
        let mut sources = self.sources_lock();
        let source =
            sources.get_mut(name).ok_or_else(|| CoreError::NotFound(format!("reader `{name}`")))?;
        source.task.abort();
        source.stopped = true;
        Ok(())
    }

    /// Starts a stopped (or ended) source again from its spec.
    pub fn start_source(&self, name: &str) -> Result<()> {
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
        self.add_source(name, &spec)
    }

    /// Stops and forgets a source.
    pub fn remove_source(&self, name: &str) -> Result<()> {
        let source = self
            .sources_lock()
            .remove(name)
            .ok_or_else(|| CoreError::NotFound(format!("reader `{name}`")))?;
        source.task.abort();
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
            views.push(SourceView {
                name: name.clone(),
                spec: s.spec.clone(),
                protocol: s.protocol.clone(),
                state: state.into(),
                last_error: failed,
                reads: counters.reads,
                reads_per_sec: rate,
                rate_history: s.history.iter().copied().collect(),
                last_chip: counters.last_chip,
                last_at: counters.last_at,
                clock_offset_ms: None,
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
        let Station { capture, sync, sources, .. } = self;
        let sources = sources.into_inner().unwrap_or_else(|p| p.into_inner());
        for (_, s) in sources {
            s.task.abort();
            let _ = s.task.await;
        }
        capture.shutdown().await;
        sync.abort();
    }
}
