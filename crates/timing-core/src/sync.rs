//! Exactly-once delivery of every passing to its RUFUS session. The outbox is the set of
//! `pending` passings; batches go in `num_passing` order, one request in flight at a time; a
//! batch whose earlier send may have landed (any attempt recorded, even before a crash) is first
//! reconciled against the cloud (P2), so nothing is sent twice and nothing is skipped.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;
use rufus_api::{ApiError, Retry, RufusClient, SessionToken};
use tokio::sync::{Notify, watch};

use crate::clock::SharedClock;
use crate::domain::{DeviceId, Passing, PassingId, Session, SessionId, SessionState};
use crate::error::{CoreError, Result};
use crate::store::Store;

/// The longest any wait lasts (a server's Retry-After included): a "come back tomorrow" from a
/// proxy must not stop a finish line's sync for a day ("retry now" ends any wait sooner).
pub const MAX_WAIT: Duration = rufus_api::MAX_RETRY_AFTER;

/// Default passings per request (the contract allows up to 5000).
pub const DEFAULT_BATCH: usize = 500;

/// How often the outbox counters are refreshed while a backlog drains.
const COUNT_EVERY: Duration = Duration::from_millis(250);

/// How often, while all goes well, a session's numbering is checked against the cloud (another
/// console may have taken it over); it is also checked at start and after every failure.
pub const NUMBERING_CHECK_EVERY: Duration = Duration::from_secs(30);

/// While sync is paused for a person (a wrong key, a missing permission), how often it tries
/// again on its own; a changed key or "retry now" tries at once.
pub const PAUSED_RETRY: Duration = Duration::from_secs(60);

/// How the sync engine paces itself.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// Passings per request.
    pub batch_size: usize,
    /// First retry delay after a retryable failure.
    pub base_backoff: Duration,
    /// Longest retry delay.
    pub max_backoff: Duration,
    /// How often to look for work when nothing wakes the engine.
    pub idle_poll: Duration,
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            batch_size: DEFAULT_BATCH,
            base_backoff: Duration::from_millis(500),
            // A finish line wants the backlog moving soon after the network returns.
            max_backoff: Duration::from_secs(20),
            idle_poll: Duration::from_secs(5),
        }
    }
}

/// What the sync engine is doing, for the UI's sync pill and the CLI's status line.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncStatus {
    /// Passings waiting to be sent (all sessions).
    pub pending: i64,
    /// Passings the cloud holds.
    pub sent: i64,
    /// Passings the cloud rejected, kept with its message.
    pub parked: i64,
    /// Passings per second sent over the last ten seconds.
    pub rate: f64,
    /// When the cloud last accepted something.
    pub last_success: Option<DateTime<Utc>>,
    /// The last failure, in words.
    pub last_error: Option<String>,
    /// Its code (`timeout`, `rate_limited`, `unauthorized`, …).
    pub last_error_code: Option<String>,
    /// Set when syncing stopped until a person acts (wrong key, missing permission).
    pub stopped: Option<String>,
    /// Sessions the cloud closed from elsewhere while passings were pending.
    pub closed_remotely: Vec<SessionId>,
    /// No API key is set: nothing is syncing.
    pub offline: bool,
}

/// Why one round of work ended early.
#[derive(Debug)]
enum Halt {
    /// Try again after this long.
    Backoff(Duration),
    /// Do not try again until a person acts.
    Stop(String),
}

/// Sends the outbox of every open session to RUFUS Cloud.
#[derive(Debug, Clone)]
pub struct SyncEngine {
    store: Store,
    clock: SharedClock,
    /// Replaced in place when the key or the URL changes (capture never stops for it).
    client: Arc<std::sync::RwLock<Option<RufusClient>>>,
    config: SyncConfig,
    status: watch::Sender<SyncStatus>,
    wake: Arc<Notify>,
    /// "Retry now": cuts a backoff or a pause short (new passings do not).
    retry: Arc<Notify>,
    /// Per session: when its numbering was last checked against the cloud (monotonic).
    numbering_checked: Arc<std::sync::Mutex<std::collections::HashMap<SessionId, Duration>>>,
    sent_log: Arc<std::sync::Mutex<VecDeque<(Duration, u64)>>>,
    confirmed: Arc<std::sync::atomic::AtomicU64>,
}

/// What one pass over the outbox achieved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    /// Passings confirmed in the cloud (sent or found there by reconciliation).
    pub confirmed: u64,
    /// Passings parked.
    pub parked: u64,
}

impl SyncEngine {
    /// A sync engine; without a client (no key) it only reports that nothing is syncing.
    pub fn new(
        store: Store,
        clock: SharedClock,
        client: Option<RufusClient>,
        config: SyncConfig,
        wake: Arc<Notify>,
    ) -> Self {
        let offline = client.is_none();
        let (status, _) = watch::channel(SyncStatus { offline, ..SyncStatus::default() });
        Self {
            store,
            clock,
            client: Arc::new(std::sync::RwLock::new(client)),
            config,
            status,
            wake,
            retry: Arc::default(),
            numbering_checked: Arc::default(),
            sent_log: Arc::default(),
            confirmed: Arc::default(),
        }
    }

    /// Watches the status.
    pub fn status(&self) -> watch::Receiver<SyncStatus> {
        self.status.subscribe()
    }

    /// Wakes the engine (new passings, a session changed state).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// The client, when a key is set.
    pub fn client(&self) -> Option<RufusClient> {
        self.client.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Swaps the client (a new key or URL) without stopping anything, and tries at once.
    pub fn set_client(&self, client: Option<RufusClient>) {
        let offline = client.is_none();
        *self.client.write().unwrap_or_else(|p| p.into_inner()) = client;
        self.status.send_modify(|s| {
            s.offline = offline;
            s.stopped = None;
        });
        self.retry_now();
    }

    /// "Retry now": ends a backoff, a Retry-After wait or a pause at once.
    pub fn retry_now(&self) {
        self.retry.notify_one();
        self.wake.notify_one();
    }

    /// Runs until the task is aborted: works through every open session, backs off on failure,
    /// sleeps until woken or the idle poll.
    pub async fn run(self) {
        let mut failures: u32 = 0;
        let mut progress = self.progress();
        loop {
            let outcome = self.round().await;
            if self.progress() != progress {
                // Something got through: the next failure starts a fresh backoff.
                progress = self.progress();
                failures = 0;
            }
            match outcome {
                Ok(_) => {
                    failures = 0;
                    let _ = tokio::time::timeout(self.config.idle_poll, self.wake.notified()).await;
                }
                Err(Halt::Backoff(floor)) => {
                    // New passings do not shorten a backoff: a failing cloud is not hammered.
                    // "Retry now" does.
                    failures = failures.saturating_add(1);
                    let wait = self.backoff(failures).max(floor.min(MAX_WAIT));
                    let _ = tokio::time::timeout(wait, self.retry.notified()).await;
                }
                Err(Halt::Stop(_)) => {
                    // Paused with a visible reason; tried again every minute, and at once when
                    // the key changes or a person says "retry now".
                    let _ = tokio::time::timeout(PAUSED_RETRY, self.retry.notified()).await;
                    self.status.send_modify(|s| s.stopped = None);
                }
            }
        }
    }

    /// Pushes what is pending now, once: `Ok` when the outbox is empty (held stamps waiting for
    /// a bib aside), otherwise the reason it could not be emptied.
    pub async fn sync_once(&self) -> Result<Round> {
        match self.round().await {
            Ok(round) => Ok(round),
            Err(Halt::Stop(message)) => Err(CoreError::Conflict(message)),
            Err(Halt::Backoff(_)) => {
                let status = self.status.borrow().clone();
                Err(CoreError::Conflict(
                    status.last_error.unwrap_or_else(|| "the cloud could not be reached".into()),
                ))
            }
        }
    }

    /// Passings confirmed since start (moves whenever the cloud accepted something).
    fn progress(&self) -> u64 {
        self.confirmed.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn backoff(&self, failures: u32) -> Duration {
        let exp = self.config.base_backoff.saturating_mul(1 << failures.min(16).saturating_sub(1));
        let capped = exp.min(self.config.max_backoff);
        // Full jitter between half and all of it, so many consoles do not retry in step.
        let jitter = rand::rng().random_range(0.5..=1.0);
        capped.mul_f64(jitter)
    }

    /// One pass over every open session.
    async fn round(&self) -> Result<Round, Halt> {
        let Some(client) = self.client() else {
            self.refresh_counts().await;
            return Err(Halt::Stop("no RUFUS API key is set: nothing is syncing".into()));
        };
        let sessions = self.store.sessions_to_sync().await.map_err(|e| self.store_failed(&e))?;
        let mut total = Round::default();
        let mut halt = None;
        for session in sessions {
            match self.sync_session(&client, session).await {
                Ok(round) => {
                    total.confirmed += round.confirmed;
                    total.parked += round.parked;
                }
                Err(Halt::Stop(reason)) => {
                    self.status.send_modify(|s| s.stopped = Some(reason.clone()));
                    halt = Some(Halt::Stop(reason));
                    break;
                }
                Err(h) => halt = Some(h),
            }
        }
        self.refresh_counts().await;
        match halt {
            Some(h) => Err(h),
            None => Ok(total),
        }
    }

    async fn sync_session(
        &self,
        client: &RufusClient,
        mut session: Session,
    ) -> Result<Round, Halt> {
        let token = match &session.token_session {
            Some(t) => SessionToken::new(t.clone()),
            None => {
                let token = self.create_in_cloud(client, &session).await?;
                session.token_session = Some(token.as_str().to_owned());
                token
            }
        };
        let mut round = Round::default();
        if self.numbering_due(session.id) {
            round.confirmed += self.guard_numbering(client, &session, &token).await?;
        }
        let mut batch_size = self.config.batch_size.max(1);
        let mut last_count = self.clock.monotonic();
        loop {
            let batch = self
                .store
                .pending(session.id, batch_size)
                .await
                .map_err(|e| self.store_failed(&e))?;
            if batch.is_empty() {
                break;
            }
            match self.send(client, &session, &token, batch).await {
                Ok(r) => {
                    round.confirmed += r.confirmed;
                    round.parked += r.parked;
                    // Counting the outbox scans the session: while a backlog drains, a few
                    // times a second is plenty for a progress bar.
                    let now = self.clock.monotonic();
                    if now.saturating_sub(last_count) >= COUNT_EVERY {
                        last_count = now;
                        self.refresh_counts().await;
                    }
                }
                Err(SendError::TooLarge) if batch_size > 1 => batch_size = (batch_size / 2).max(1),
                Err(SendError::TooLarge) => {
                    return Err(Halt::Backoff(self.config.max_backoff));
                }
                Err(SendError::Halt(h)) => return Err(h),
            }
        }
        if session.state == SessionState::Closing {
            self.close_in_cloud(client, &session, &token).await?;
        }
        Ok(round)
    }

    /// Creates the session in the cloud. A previous attempt may have landed without an answer:
    /// if the device's active session is one this console does not know yet, it is ours.
    async fn create_in_cloud(
        &self,
        client: &RufusClient,
        session: &Session,
    ) -> Result<SessionToken, Halt> {
        let deviceid = rufus_api::DeviceId::new(session.deviceid.0.clone());
        let attempted =
            self.store.create_attempted_at(session.id).await.map_err(|e| self.store_failed(&e))?;
        if let Some(attempted) = attempted {
            // An earlier create may have landed without an answer. The device's active session
            // is ours only if the cloud created it after that attempt and it carries our alias;
            // anything else belongs to another console and is never adopted silently.
            let active =
                client.active_session(&deviceid).await.map_err(|e| self.cloud_failed(&e))?;
            if let Some(active) = active
                && created_by_us(&active, session, attempted)
            {
                let known = self
                    .store
                    .sessions(Some(&session.deviceid))
                    .await
                    .map_err(|e| self.store_failed(&e))?
                    .into_iter()
                    .any(|s| s.token_session.as_deref() == Some(active.token_session.as_str()));
                if !known {
                    self.adopt_token(session.id, active.token_session.as_str()).await?;
                    return Ok(active.token_session);
                }
            }
        }
        self.store
            .mark_create_attempt(session.id, self.clock.now())
            .await
            .map_err(|e| self.store_failed(&e))?;
        let token = client
            .create_session(&deviceid, session.alias.as_deref())
            .await
            .map_err(|e| self.cloud_failed(&e))?;
        self.adopt_token(session.id, token.as_str()).await?;
        Ok(token)
    }

    async fn adopt_token(&self, session: SessionId, token: &str) -> Result<(), Halt> {
        self.store.set_session_token(session, token).await.map_err(|e| self.store_failed(&e))
    }

    async fn close_in_cloud(
        &self,
        client: &RufusClient,
        session: &Session,
        token: &SessionToken,
    ) -> Result<(), Halt> {
        let counts =
            self.store.outbox_counts(Some(session.id)).await.map_err(|e| self.store_failed(&e))?;
        if counts.pending > 0 {
            return Ok(()); // held stamps are not pending; anything else must drain first
        }
        match client.close_session(token).await {
            Ok(()) => {}
            Err(ApiError::NotFound { .. }) => {
                // Gone or already closed: the session's own record says which.
                let info = client.session(token).await;
                if matches!(info, Ok(ref s) if s.active == Some(true)) {
                    return Err(Halt::Backoff(self.config.base_backoff));
                }
            }
            Err(e) => return Err(self.cloud_failed(&e)),
        }
        self.store
            .set_session_state(session.id, SessionState::Closed, None, self.clock.now())
            .await
            .map_err(|e| self.store_failed(&e))
    }

    /// Sends one batch: reconciles first when any of it may already be in the cloud; splits on
    /// a 400 until the rejected passing is isolated and parked.
    async fn send(
        &self,
        client: &RufusClient,
        session: &Session,
        token: &SessionToken,
        batch: Vec<Passing>,
    ) -> Result<Round, SendError> {
        let mut round = Round::default();
        let batch = if batch.iter().any(|p| p.sync_attempts > 0) {
            let (landed, rest) = self.reconcile(client, session, token, batch).await?;
            round.confirmed += landed;
            rest
        } else {
            batch
        };
        if batch.is_empty() {
            return Ok(round);
        }
        // Stack of slices still to send; a rejected slice is split in two.
        let mut todo: Vec<Vec<Passing>> = vec![batch];
        while let Some(part) = todo.pop() {
            let ids: Vec<PassingId> = part.iter().map(|p| p.id).collect();
            // What goes on the wire is the snapshot taken with the attempt mark, never the
            // copy read before it (a correction may have landed in between).
            let part = self
                .store
                .begin_attempt(&ids)
                .await
                .map_err(|e| SendError::Halt(self.store_failed(&e)))?;
            if part.is_empty() {
                continue;
            }
            let ids: Vec<PassingId> = part.iter().map(|p| p.id).collect();
            let wire: Vec<rufus_api::Passing> = part.iter().map(to_wire).collect();
            match client.insert_passings(token, &wire).await {
                Ok(outcome) if outcome.inserted_count < ids.len() as u64 => {
                    // The cloud kept fewer than it got (it de-duplicated some, or another
                    // console numbered into this session): ask it what it holds, by content.
                    tracing::warn!(
                        sent = ids.len(),
                        inserted = outcome.inserted_count,
                        "the cloud inserted fewer passings than sent; reconciling"
                    );
                    let (landed, rest) = self.reconcile(client, session, token, part).await?;
                    round.confirmed += landed;
                    self.record_sent(landed);
                    if !rest.is_empty() {
                        // Neither held nor collided: the next round sends them again.
                        tracing::warn!(count = rest.len(), "passings not held after a send");
                    }
                }
                Ok(_) => {
                    self.store
                        .mark_sent(&ids, self.clock.now())
                        .await
                        .map_err(|e| SendError::Halt(self.store_failed(&e)))?;
                    round.confirmed += ids.len() as u64;
                    self.record_sent(ids.len() as u64);
                }
                Err(ApiError::Rejected { message, .. }) if part.len() > 1 => {
                    tracing::info!(%message, size = part.len(), "batch rejected; splitting to isolate");
                    let mut left = part;
                    let right = left.split_off(left.len() / 2);
                    todo.push(right);
                    todo.push(left);
                }
                Err(ApiError::Rejected { message, .. }) => {
                    if let Some(p) = part.first() {
                        tracing::warn!(num = p.num_passing, %message, "passing rejected by the cloud; parked");
                        self.store
                            .park(p.id, &message)
                            .await
                            .map_err(|e| SendError::Halt(self.store_failed(&e)))?;
                        round.parked += 1;
                    }
                }
                Err(ApiError::TooLarge { .. }) => return Err(SendError::TooLarge),
                Err(ApiError::SessionClosed { message, .. }) => {
                    return Err(SendError::Halt(self.closed_remotely(session, &message).await));
                }
                Err(e) => return Err(SendError::Halt(self.cloud_failed(&e))),
            }
        }
        Ok(round)
    }

    /// Asks the cloud which of `batch` it already holds; marks those sent and returns the rest.
    /// A number the cloud holds with other content is a collision (another console numbered
    /// into this session): those passings are renumbered after the cloud's highest number, so
    /// nothing of ours is lost and no number is used twice.
    async fn reconcile(
        &self,
        client: &RufusClient,
        session: &Session,
        token: &SessionToken,
        batch: Vec<Passing>,
    ) -> Result<(u64, Vec<Passing>), SendError> {
        let (Some(first), Some(last)) = (batch.first(), batch.last()) else {
            return Ok((0, batch));
        };
        let (first, last) = (num(first), num(last));
        let cloud = client
            .all_passings_by_range(token, first, last)
            .await
            .map_err(|e| SendError::Halt(self.cloud_failed(&e)))?;
        let verdict = Verdict::of(batch, &cloud);
        if !verdict.landed.is_empty() {
            let ids: Vec<PassingId> = verdict.landed.iter().map(|p| p.id).collect();
            tracing::info!(count = ids.len(), "reconciled: already in the cloud");
            self.store
                .mark_sent(&ids, self.clock.now())
                .await
                .map_err(|e| SendError::Halt(self.store_failed(&e)))?;
        }
        if !verdict.collided.is_empty() {
            let max = client
                .max_num_passing(token)
                .await
                .map_err(|e| SendError::Halt(self.cloud_failed(&e)))?
                .unwrap_or(last);
            tracing::warn!(
                count = verdict.collided.len(),
                cloud_max = max,
                "the cloud holds other passings under these numbers; renumbering ours after {max}"
            );
            self.store
                .number_after(session.id, max)
                .await
                .map_err(|e| SendError::Halt(self.store_failed(&e)))?;
            crate::rehome::renumber(&self.store, session, &verdict.collided, self.clock.now())
                .await
                .map_err(|e| SendError::Halt(self.store_failed(&e)))?;
        }
        Ok((verdict.landed.len() as u64, verdict.rest))
    }

    async fn closed_remotely(&self, session: &Session, message: &str) -> Halt {
        let note = format!(
            "RUFUS closed this session from elsewhere ({message}); pending passings can be moved to a new session"
        );
        tracing::warn!(session = %session.id, "{note}");
        if let Err(e) = self
            .store
            .set_session_state(
                session.id,
                SessionState::ClosedRemotely,
                Some(&note),
                self.clock.now(),
            )
            .await
        {
            return self.store_failed(&e);
        }
        self.status.send_modify(|s| {
            if !s.closed_remotely.contains(&session.id) {
                s.closed_remotely.push(session.id);
            }
            s.last_error = Some(note.clone());
            s.last_error_code = Some("session_closed".into());
        });
        Halt::Backoff(Duration::ZERO)
    }

    /// Whether the session's numbers should be checked against the cloud before sending: at
    /// the first round, after any failure (a console that was off line or dead is when another
    /// one takes over), and every [`NUMBERING_CHECK_EVERY`] while all goes well.
    fn numbering_due(&self, session: SessionId) -> bool {
        let now = self.clock.monotonic();
        let checked = self.numbering_checked.lock().unwrap_or_else(|p| p.into_inner());
        checked.get(&session).is_none_or(|at| now.saturating_sub(*at) >= NUMBERING_CHECK_EVERY)
    }

    /// Before sending into a session, makes sure nobody else numbers into it: the cloud is asked
    /// for every passing above the highest number this console knows landed. Normally that is
    /// nothing. If another console took the session over (a spare laptop while this one was
    /// dead or off line), its passings are there: ours that collide with them are renumbered
    /// after the cloud's highest, ours found there by content are marked sent, and new passings
    /// number after the cloud's highest. Returns how many of ours it found there.
    async fn guard_numbering(
        &self,
        client: &RufusClient,
        session: &Session,
        token: &SessionToken,
    ) -> Result<u64, Halt> {
        let mut landed = 0;
        let known = self.store.max_sent_num(session.id).await.map_err(|e| self.store_failed(&e))?;
        let first = u64::try_from(known).unwrap_or(0).saturating_add(1);
        let cloud = client
            .all_passings_by_range(token, first, rufus_api::MAX_NUM_PASSING_QUERY)
            .await
            .map_err(|e| self.cloud_failed(&e))?;
        if let Some(cloud_max) = cloud.iter().filter_map(|p| p.num_passing).max() {
            // Numbering moves past the cloud's first, so that nothing committed from now on
            // lands in its range; then everything committed before is in `ours`.
            self.store
                .number_after(session.id, cloud_max)
                .await
                .map_err(|e| self.store_failed(&e))?;
            let ours: Vec<Passing> = self
                .store
                .all_pending(session.id)
                .await
                .map_err(|e| self.store_failed(&e))?
                .into_iter()
                .filter(|p| num(p) >= first && num(p) <= cloud_max)
                .collect();
            let verdict = Verdict::of(ours, &cloud);
            if !verdict.landed.is_empty() {
                let ids: Vec<PassingId> = verdict.landed.iter().map(|p| p.id).collect();
                self.store
                    .mark_sent(&ids, self.clock.now())
                    .await
                    .map_err(|e| self.store_failed(&e))?;
                landed = ids.len() as u64;
                self.record_sent(landed);
            }
            if !verdict.collided.is_empty() {
                tracing::warn!(
                    count = verdict.collided.len(),
                    cloud_max,
                    "another console numbers into this session; renumbering ours after {cloud_max}"
                );
                crate::rehome::renumber(&self.store, session, &verdict.collided, self.clock.now())
                    .await
                    .map_err(|e| self.store_failed(&e))?;
            }
        }
        let now = self.clock.monotonic();
        self.numbering_checked.lock().unwrap_or_else(|p| p.into_inner()).insert(session.id, now);
        Ok(landed)
    }

    fn cloud_failed(&self, error: &ApiError) -> Halt {
        // After any failure the numbers are checked again before the next send.
        self.numbering_checked.lock().unwrap_or_else(|p| p.into_inner()).clear();
        let message = error.to_string();
        tracing::warn!(code = error.code(), %message, "sync failed");
        self.status.send_modify(|s| {
            s.last_error = Some(message.clone());
            s.last_error_code = Some(error.code().to_owned());
        });
        match error.retry() {
            Retry::After(d) => Halt::Backoff(d.min(MAX_WAIT)),
            Retry::Safe | Retry::Reconcile => Halt::Backoff(Duration::ZERO),
            Retry::Never => match error {
                ApiError::Unauthorized { .. } => Halt::Stop(message),
                // Anything else permanent (an odd answer): keep trying, slowly, and say so.
                _ => Halt::Backoff(self.config.max_backoff),
            },
        }
    }

    fn store_failed(&self, error: &CoreError) -> Halt {
        let message = error.to_string();
        tracing::error!(%message, "sync could not use the local database");
        self.status.send_modify(|s| {
            s.last_error = Some(message);
            s.last_error_code = Some(error.code().to_owned());
        });
        Halt::Backoff(self.config.base_backoff)
    }

    fn record_sent(&self, count: u64) {
        self.confirmed.fetch_add(count, std::sync::atomic::Ordering::Relaxed);
        let now = self.clock.monotonic();
        let rate = {
            let mut log = self.sent_log.lock().unwrap_or_else(|p| p.into_inner());
            log.push_back((now, count));
            while log.front().is_some_and(|(t, _)| now.saturating_sub(*t) > Duration::from_secs(10))
            {
                log.pop_front();
            }
            log.iter().map(|(_, n)| *n).sum::<u64>() as f64 / 10.0
        };
        let at = self.clock.now();
        self.status.send_modify(|s| {
            s.rate = rate;
            s.last_success = Some(at);
            s.last_error = None;
            s.last_error_code = None;
        });
    }

    /// Re-reads the outbox counters into the status.
    pub async fn refresh_counts(&self) {
        if let Ok(counts) = self.store.outbox_counts(None).await {
            self.status.send_modify(|s| {
                s.pending = counts.pending;
                s.sent = counts.sent;
                s.parked = counts.parked;
            });
        }
    }

    /// Clears a stop (after the key was changed) and wakes the engine.
    pub fn resume(&self) {
        self.status.send_modify(|s| s.stopped = None);
        self.wake();
    }

    /// Checks an active session against the cloud (on start-up): if the cloud no longer has it
    /// active, it was closed from elsewhere. Returns whether it is still active.
    pub async fn check_session(&self, session: &Session) -> Result<bool> {
        let (Some(client), Some(token)) = (self.client(), &session.token_session) else {
            return Ok(true);
        };
        // Only a definite answer closes a session: S5 saying `active: false`, or "not found".
        // A 5xx, a timeout or a reset says nothing about the session.
        match client.session(&SessionToken::new(token.clone())).await {
            Ok(info) if info.active == Some(false) => {}
            Ok(_) => return Ok(true),
            Err(ApiError::NotFound { .. } | ApiError::SessionClosed { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        let _ = self.closed_remotely(session, "RUFUS says the session is closed").await;
        Ok(false)
    }

    /// Before passings that were sent to `session` (any attempt) move elsewhere: asks the
    /// session — closed ones stay readable — which of them landed, and marks those sent.
    /// Fails when the cloud cannot say (nothing may move on a guess).
    pub async fn settle_attempted(&self, session: &Session, passings: &[Passing]) -> Result<u64> {
        let attempted: Vec<Passing> =
            passings.iter().filter(|p| p.sync_attempts > 0).cloned().collect();
        let (Some(first), Some(last)) = (attempted.first(), attempted.last()) else {
            return Ok(0);
        };
        let Some(token) = &session.token_session else {
            return Ok(0); // never in the cloud: nothing could have landed
        };
        let client = self.client().ok_or(CoreError::NoApiKey)?;
        let token = SessionToken::new(token.clone());
        let cloud =
            client.all_passings_by_range(&token, num(first), num(last)).await.map_err(|e| {
                CoreError::Conflict(format!(
                    "RUFUS could not say which passings of session {} landed, so none moved: {e}",
                    session.id
                ))
            })?;
        let verdict = Verdict::of(attempted, &cloud);
        let ids: Vec<PassingId> = verdict.landed.iter().map(|p| p.id).collect();
        self.store.mark_sent(&ids, self.clock.now()).await?;
        Ok(ids.len() as u64)
    }

    /// Whether a device's sessions may be synced (a device must be bound to have sessions).
    pub fn device_id(deviceid: &DeviceId) -> rufus_api::DeviceId {
        rufus_api::DeviceId::new(deviceid.0.clone())
    }
}

#[derive(Debug)]
enum SendError {
    TooLarge,
    Halt(Halt),
}

fn num(p: &Passing) -> u64 {
    u64::try_from(p.num_passing).unwrap_or(0)
}

/// The passing as RUFUS receives it. A passing with no bib sends its chip as the bib (RRM
/// matches either), and always sends the chip too.
pub fn to_wire(p: &Passing) -> rufus_api::Passing {
    let bib = p.bib.clone().or_else(|| p.chip.clone()).unwrap_or_default();
    let mut wire = rufus_api::Passing::new(bib, num(p), p.timestamp);
    wire.chip = p.chip.clone();
    wire.status = p.status.clone();
    wire.timezone = Some("UTC".into());
    wire
}

/// Whether the device's active session is the one our lost create made: created after the
/// attempt (with a minute's grace for clock differences) and carrying our alias.
fn created_by_us(active: &rufus_api::Session, session: &Session, attempted: DateTime<Utc>) -> bool {
    let after_attempt = active
        .creation_date
        .as_ref()
        .and_then(|t| t.utc())
        .is_some_and(|created| created >= attempted - chrono::Duration::minutes(1));
    let alias = |a: Option<&str>| a.map(str::trim).filter(|a| !a.is_empty()).map(str::to_owned);
    after_attempt && alias(active.alias.as_deref()) == alias(session.alias.as_deref())
}

/// What the cloud's answer says about a batch, passing by passing.
#[derive(Debug, Default)]
struct Verdict {
    /// Held by the cloud with the same content.
    landed: Vec<Passing>,
    /// Their number is held by the cloud with other content.
    collided: Vec<Passing>,
    /// Not in the cloud.
    rest: Vec<Passing>,
}

impl Verdict {
    fn of(batch: Vec<Passing>, cloud: &[rufus_api::PassingOut]) -> Self {
        let mut held: std::collections::HashMap<u64, Vec<&rufus_api::PassingOut>> =
            std::collections::HashMap::new();
        for p in cloud {
            if let Some(n) = p.num_passing {
                held.entry(n).or_default().push(p);
            }
        }
        let mut v = Verdict::default();
        for p in batch {
            match held.get(&num(&p)) {
                None => v.rest.push(p),
                Some(there) if there.iter().any(|c| same_content(&p, c)) => v.landed.push(p),
                Some(_) => v.collided.push(p),
            }
        }
        v
    }
}

/// Whether the cloud's passing is ours: same bib (as sent) and the same instant.
fn same_content(p: &Passing, cloud: &rufus_api::PassingOut) -> bool {
    let wire = to_wire(p);
    let same_time =
        cloud.timestamp.as_ref().and_then(|t| t.utc()).is_none_or(|t| t == wire.timestamp);
    let same_bib = cloud.bib.as_deref().is_none_or(|b| b == wire.bib);
    same_time && same_bib
}
