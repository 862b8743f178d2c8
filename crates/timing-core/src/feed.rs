//! The live feed as fronts receive it: committed passings, and passings changed by a
//! correction, a manual action or a send, coalesced into one update per period (about 50 ms)
//! so a screen applies a whole burst in one repaint.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;

use crate::capture::CommitBatch;
use crate::clock::format_utc;
use crate::corrections::{feed_entries, to_entry};
use crate::domain::{FeedEntry, PassingId, SessionId};
use crate::engine::Engine;
use crate::starts::RaceClock;

/// Look for passings the cloud acknowledged this often.
const SENT_CHECK: Duration = Duration::from_secs(1);

/// One coalesced update.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct FeedUpdate {
    /// New or changed entries (changed ones keep their `id`), oldest first.
    pub entries: Vec<FeedEntry>,
    /// Raw reads stored since the last update.
    pub raw_reads: u64,
    /// Of those, duplicates.
    pub duplicates: u64,
    /// A wave started (or its start moved): every race time shown may have changed, so the
    /// screen reads the feed and the starts again.
    pub starts_changed: bool,
}

/// The running feed.
#[derive(Debug)]
pub struct LiveFeed {
    updates: broadcast::Sender<Arc<FeedUpdate>>,
    touched: mpsc::UnboundedSender<Vec<PassingId>>,
    task: JoinHandle<()>,
}

impl LiveFeed {
    /// Starts coalescing `commits` (from [`crate::capture::Capture::subscribe`]) every `period`.
    pub fn start(
        engine: Engine,
        commits: broadcast::Receiver<Arc<CommitBatch>>,
        period: Duration,
    ) -> Self {
        let (updates, _) = broadcast::channel(256);
        let (touched, touched_rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(run(engine, commits, touched_rx, updates.clone(), period));
        Self { updates, touched, task }
    }

    /// Receives every update from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<FeedUpdate>> {
        self.updates.subscribe()
    }

    /// Announces passings changed outside the capture pipeline (manual entry, corrections).
    pub fn touched(&self, ids: Vec<PassingId>) {
        let _ = self.touched.send(ids);
    }
}

impl Drop for LiveFeed {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn run(
    engine: Engine,
    mut commits: broadcast::Receiver<Arc<CommitBatch>>,
    mut touched_rx: mpsc::UnboundedReceiver<Vec<PassingId>>,
    updates: broadcast::Sender<Arc<FeedUpdate>>,
    period: Duration,
) {
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last_sent_check: DateTime<Utc> = engine.clock().now();
    let mut since_check = Duration::ZERO;
    let mut starts = engine.starts_changed();
    loop {
        tick.tick().await;
        let mut update = FeedUpdate::default();
        // Race clocks of this tick, per session (a start may come in any commit).
        let mut races: HashMap<SessionId, RaceClock> = HashMap::new();
        if starts.has_changed().unwrap_or(false) {
            starts.mark_unchanged();
            update.starts_changed = true;
        }
        let mut touched: BTreeSet<PassingId> = BTreeSet::new();
        loop {
            match commits.try_recv() {
                Ok(batch) => {
                    update.raw_reads += batch.raw_reads as u64;
                    update.duplicates += batch.duplicates as u64;
                    for p in &batch.passings {
                        let race = race_clock(&engine, &mut races, p.session_id).await;
                        update.entries.push(to_entry(p.clone(), &[], engine.chips(), &race));
                    }
                    if !batch.starts.is_empty() {
                        races.clear();
                        update.starts_changed = true;
                    }
                }
                Err(broadcast::error::TryRecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "live feed fell behind; screens re-read the feed");
                }
                Err(_) => break,
            }
        }
        while let Ok(ids) = touched_rx.try_recv() {
            touched.extend(ids);
        }
        since_check += period;
        if since_check >= SENT_CHECK {
            since_check = Duration::ZERO;
            let now = engine.clock().now();
            match sent_since(&engine, last_sent_check).await {
                Ok(ids) => {
                    touched.extend(ids);
                    last_sent_check = now;
                }
                Err(e) => tracing::warn!(error = %e, "live feed could not read sync states"),
            }
        }
        if !touched.is_empty() {
            let ids: Vec<PassingId> = touched.into_iter().collect();
            match feed_entries(engine.store(), &ids, engine.chips()).await {
                Ok(entries) => update.entries.extend(entries),
                Err(e) => tracing::warn!(error = %e, "live feed could not read changed passings"),
            }
        }
        if !update.entries.is_empty() || update.raw_reads > 0 || update.starts_changed {
            let _ = updates.send(Arc::new(update));
        }
        if updates.receiver_count() == 0 && commits.is_closed() {
            return;
        }
    }
}

/// The race clock of `session`, read once per tick.
async fn race_clock(
    engine: &Engine,
    races: &mut HashMap<SessionId, RaceClock>,
    session: SessionId,
) -> RaceClock {
    if let Some(race) = races.get(&session) {
        return race.clone();
    }
    let race = match engine.store().starts(session).await {
        Ok(log) => RaceClock::new(&log),
        Err(e) => {
            tracing::warn!(error = %e, "live feed could not read the starts");
            RaceClock::default()
        }
    };
    races.insert(session, race.clone());
    race
}

async fn sent_since(engine: &Engine, since: DateTime<Utc>) -> crate::Result<Vec<PassingId>> {
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM passings WHERE sent_at >= ?")
        .bind(format_utc(since))
        .fetch_all(engine.store().pool())
        .await?;
    Ok(ids.into_iter().map(PassingId).collect())
}
