//! The live feed as fronts receive it: the engine's changes (committed passings, passings a
//! person made or corrected, passings the cloud acknowledged, starts) turned into feed entries
//! and coalesced: everything that arrives while an update is being built goes into the next
//! one, so a burst is one repaint and a lone read goes out at once.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use crate::changes::Change;
use crate::corrections::{feed_entries, to_entry};
use crate::domain::{FeedEntry, PassingId, SessionId};
use crate::engine::Engine;
use crate::starts::RaceClock;

/// One coalesced update.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct FeedUpdate {
    /// New or changed entries (changed ones keep their `id`), oldest first.
    pub entries: Vec<FeedEntry>,
    /// Raw reads stored since the last update.
    pub raw_reads: u64,
    /// Of those, duplicates.
    pub duplicates: u64,
    /// A wave started (or its start moved), or the feed fell behind: every race time shown
    /// may have changed, so the screen reads the feed and the starts again.
    pub starts_changed: bool,
}

impl FeedUpdate {
    fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.raw_reads == 0 && !self.starts_changed
    }
}

/// The running feed.
#[derive(Debug)]
pub struct LiveFeed {
    updates: broadcast::Sender<Arc<FeedUpdate>>,
    task: JoinHandle<()>,
}

impl LiveFeed {
    /// Follows the engine's changes. `min_gap` bounds the update rate (at most one update per
    /// `min_gap`, e.g. one display frame); changes arriving in between are coalesced.
    pub fn start(engine: Engine, min_gap: Duration) -> Self {
        let (updates, _) = broadcast::channel(256);
        let changes = engine.changes().subscribe();
        let task = tokio::spawn(run(engine, changes, updates.clone(), min_gap));
        Self { updates, task }
    }

    /// Receives every update from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<FeedUpdate>> {
        self.updates.subscribe()
    }
}

impl Drop for LiveFeed {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What arrived for the next update.
#[derive(Default)]
struct Pending {
    update: FeedUpdate,
    /// Passings to read back from the store (changed outside capture).
    changed: BTreeSet<PassingId>,
    /// Committed passings, in commit order, with the sessions whose race clock they need.
    committed: Vec<crate::domain::Passing>,
}

impl Pending {
    fn take(&mut self, change: Change) {
        match change {
            Change::Committed(batch) => {
                self.update.raw_reads += batch.raw_reads as u64;
                self.update.duplicates += batch.duplicates as u64;
                self.committed.extend(batch.passings.iter().cloned());
                if !batch.starts.is_empty() {
                    self.update.starts_changed = true;
                }
            }
            Change::Passings(ids) | Change::Sent(ids) => self.changed.extend(ids),
            Change::Starts(_) => self.update.starts_changed = true,
            Change::Session(_) => {}
        }
    }

    fn is_empty(&self) -> bool {
        self.update.is_empty() && self.changed.is_empty() && self.committed.is_empty()
    }
}

async fn run(
    engine: Engine,
    mut changes: broadcast::Receiver<Change>,
    updates: broadcast::Sender<Arc<FeedUpdate>>,
    min_gap: Duration,
) {
    loop {
        let mut pending = Pending::default();
        // Wait for the first change, then take everything already queued behind it.
        match changes.recv().await {
            Ok(change) => pending.take(change),
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "live feed fell behind; screens re-read the feed");
                pending.update.starts_changed = true;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
        loop {
            match changes.try_recv() {
                Ok(change) => pending.take(change),
                Err(broadcast::error::TryRecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "live feed fell behind; screens re-read the feed");
                    pending.update.starts_changed = true;
                }
                Err(_) => break,
            }
        }
        if pending.is_empty() {
            continue;
        }
        let update = build(&engine, pending).await;
        if !update.is_empty() {
            let _ = updates.send(Arc::new(update));
        }
        // At most one update per gap: what comes meanwhile waits in the channel.
        tokio::time::sleep(min_gap).await;
    }
}

async fn build(engine: &Engine, pending: Pending) -> FeedUpdate {
    let Pending { mut update, changed, committed } = pending;
    // Race clocks of this update, per session (read once each).
    let mut races: HashMap<SessionId, RaceClock> = HashMap::new();
    let mut seen: BTreeSet<PassingId> = BTreeSet::new();
    for p in committed {
        if changed.contains(&p.id) {
            continue; // read back below, in its latest state
        }
        seen.insert(p.id);
        let race = race_clock(engine, &mut races, p.session_id).await;
        update.entries.push(to_entry(p, &[], engine.chips(), &race));
    }
    let ids: Vec<PassingId> = changed.into_iter().filter(|id| !seen.contains(id)).collect();
    if !ids.is_empty() {
        match feed_entries(engine.store(), &ids, engine.chips()).await {
            Ok(entries) => update.entries.extend(entries),
            Err(e) => tracing::warn!(error = %e, "live feed could not read changed passings"),
        }
    }
    update
}

/// The race clock of `session`, read once per update.
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
