//! The capture pipeline: reads from every source → de-duplication → one transaction (raw reads +
//! passings with their `num_passing`) → broadcast of what was committed. Nothing is shown or
//! synced before it is committed (promise 1); duplicates are stored, flagged (promise 3).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;

use timing_readers::StampedRead;

use crate::changes::Change;
use crate::clock::SharedClock;
use crate::domain::{Passing, RawRead, SessionId};
use crate::participants::{ChipMap, bib_for_read};
use crate::store::{Committed, ReadToCommit, Store};

/// Reads taken from the queue into one transaction at most.
const MAX_COMMIT_BATCH: usize = 4096;
/// After a restart, the chips passed within this span of a source's last passing are
/// remembered again (longer than any sensible de-duplication window).
const RELOAD_WINDOW: chrono::Duration = chrono::Duration::minutes(10);
/// Capacity of the queue between sources and the committer (back-pressure beyond it).
const QUEUE_CAPACITY: usize = 65_536;

/// What one commit made, sent to every subscriber.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct CommitBatch {
    /// Passings made, in `num_passing` order.
    pub passings: Vec<Passing>,
    /// Raw reads stored by this commit.
    pub raw_reads: usize,
    /// Of those, how many were flagged duplicate.
    pub duplicates: usize,
    /// Of those, how many arrived with no session open (stored, no passing).
    pub without_session: usize,
    /// Waves started by readers' start impulses in this commit.
    pub starts: Vec<crate::starts::Start>,
}

/// Counters of the pipeline since start.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CaptureStats {
    /// Raw reads committed.
    pub raw_reads: u64,
    /// Passings made from reads.
    pub passings: u64,
    /// Reads flagged duplicate.
    pub duplicates: u64,
    /// Reads stored with no session open.
    pub without_session: u64,
    /// The last commit error, if the last commit failed (reads are kept and retried).
    pub last_error: Option<String>,
    /// Counters per source (reader) name.
    pub sources: BTreeMap<String, SourceCounters>,
}

/// What one source delivered.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SourceCounters {
    /// Reads committed.
    pub reads: u64,
    /// The last chip read.
    pub last_chip: Option<String>,
    /// When it was read (host time).
    pub last_at: Option<DateTime<Utc>>,
}

/// Per chip and session: a read within `window` of the chip's last passing is a duplicate.
/// The window runs from the passing (first read wins), as a decoder's dead time does.
///
/// Times are crossing times (the reader's clock where it has one), and they are only ever
/// compared with each other: never with the host clock. A reader 30 s behind the laptop, or a
/// serial link that delivers reads seconds late, de-duplicates exactly like a punctual one.
/// Memory stays bounded by pruning each entry against the latest crossing time the window has
/// seen *from the same source* (clocks of different readers may disagree).
#[derive(Debug)]
pub struct DedupWindow {
    window: chrono::Duration,
    last: HashMap<(SessionId, String), Seen>,
    /// Per source: the latest crossing time it brought.
    latest: HashMap<Arc<str>, DateTime<Utc>>,
}

#[derive(Debug, Clone)]
struct Seen {
    at: DateTime<Utc>,
    source: Arc<str>,
}

/// Entries above this count trigger a prune after a commit.
const PRUNE_ABOVE: usize = 1024;

impl DedupWindow {
    /// A window of `window` (0 disables de-duplication).
    pub fn new(window: Duration) -> Self {
        Self {
            window: chrono::Duration::from_std(window).unwrap_or(chrono::Duration::MAX),
            last: HashMap::new(),
            latest: HashMap::new(),
        }
    }

    /// A changed window length (settings); what was seen stays.
    pub fn set_window(&mut self, window: Duration) {
        self.window = chrono::Duration::from_std(window).unwrap_or(chrono::Duration::MAX);
    }

    fn source(&mut self, source: &str) -> Arc<str> {
        match self.latest.get_key_value(source) {
            Some((k, _)) => k.clone(),
            None => Arc::from(source),
        }
    }

    fn saw(&mut self, source: &Arc<str>, at: DateTime<Utc>) {
        let latest = self.latest.entry(source.clone()).or_insert(at);
        if at > *latest {
            *latest = at;
        }
    }

    /// Whether a read of `chip` from `source` crossing at `at` repeats a passing; if not, it
    /// becomes the chip's passing.
    pub fn is_duplicate(
        &mut self,
        session: SessionId,
        chip: &str,
        source: &str,
        at: DateTime<Utc>,
    ) -> bool {
        if self.window.is_zero() {
            return false;
        }
        let source = self.source(source);
        self.saw(&source, at);
        let key = (session, chip.to_owned());
        if let Some(last) = self.last.get(&key)
            && (at - last.at).abs() < self.window
        {
            return true;
        }
        self.last.insert(key, Seen { at, source });
        false
    }

    /// Remembers a passing made before (after a restart).
    pub fn remember(&mut self, session: SessionId, chip: String, source: &str, at: DateTime<Utc>) {
        let source = self.source(source);
        self.saw(&source, at);
        let entry = self.last.entry((session, chip)).or_insert(Seen { at, source });
        if at > entry.at {
            entry.at = at;
        }
    }

    /// Forgets chips whose window ended before the latest crossing their source brought since
    /// (bounded memory on long races). Reader time against reader time, never the host clock.
    pub fn prune(&mut self) {
        let window = self.window;
        let latest = &self.latest;
        self.last.retain(|_, seen| match latest.get(&seen.source) {
            Some(newest) => *newest - seen.at < window,
            None => true,
        });
    }

    /// Chips remembered now.
    pub fn len(&self) -> usize {
        self.last.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.last.is_empty()
    }
}

/// Sets the session the pipeline records into, from another task.
#[derive(Debug, Clone)]
pub struct SessionSetter(watch::Sender<Option<SessionId>>);

impl SessionSetter {
    /// Records into `session` from the next commit on (only when it changes).
    pub fn set(&self, session: Option<SessionId>) {
        self.0.send_if_modified(|s| {
            let changed = *s != session;
            *s = session;
            changed
        });
    }
}

/// The pipeline is shutting down and takes no more reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the capture pipeline has stopped")]
pub struct PipelineClosed;

/// Where sources put their reads.
#[derive(Debug, Clone)]
pub struct ReadSink {
    tx: mpsc::Sender<StampedRead>,
}

impl ReadSink {
    /// Queues a read for commit; waits when the queue is full. Fails only at shutdown.
    pub async fn send(&self, read: StampedRead) -> Result<(), PipelineClosed> {
        self.tx.send(read).await.map_err(|_| PipelineClosed)
    }

    /// The committer's own channel, for a reader's supervisor to deliver on directly.
    pub fn sender(&self) -> mpsc::Sender<StampedRead> {
        self.tx.clone()
    }
}

/// The running pipeline: one committer task fed by every source.
#[derive(Debug)]
pub struct Capture {
    sink: ReadSink,
    session: watch::Sender<Option<SessionId>>,
    window: watch::Sender<Duration>,
    stats: watch::Receiver<CaptureStats>,
    chips: Arc<ChipMap>,
    task: JoinHandle<()>,
}

impl Capture {
    /// Starts the committer. `committed` is notified after every commit (wakes the sync engine).
    pub fn start(
        store: Store,
        clock: SharedClock,
        dedup_window: Duration,
        chips: Arc<ChipMap>,
        committed: Arc<Notify>,
    ) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE_CAPACITY);
        let (session, session_rx) = watch::channel(None);
        let (window, window_rx) = watch::channel(dedup_window);
        let (stats_tx, stats) = watch::channel(CaptureStats::default());
        let committer = Committer {
            store,
            clock: clock.clone(),
            dedup: DedupWindow::new(dedup_window),
            window: window_rx,
            session: session_rx,
            loaded_session: None,
            chips: chips.clone(),
            stats: stats_tx,
            committed,
            replay_seen: HashMap::new(),
        };
        let task = tokio::spawn(committer.run(rx));
        let sink = ReadSink { tx };
        Self { sink, session, window, stats, chips, task }
    }

    /// A handle sources use to deliver reads.
    pub fn sink(&self) -> ReadSink {
        self.sink.clone()
    }

    /// Reads delivered by sources and not yet taken for commit.
    pub fn queued(&self) -> usize {
        QUEUE_CAPACITY.saturating_sub(self.sink.tx.capacity())
    }

    /// Sets the session reads are recorded into (None: reads are stored without a passing).
    pub fn set_session(&self, session: Option<SessionId>) {
        self.session.send_replace(session);
    }

    /// Changes the de-duplication window from the next commit on (capture keeps running).
    pub fn set_dedup_window(&self, window: Duration) {
        self.window.send_replace(window);
    }

    /// A handle that sets the session from another task.
    pub fn session_setter(&self) -> SessionSetter {
        SessionSetter(self.session.clone())
    }

    /// The session reads are recorded into.
    pub fn session(&self) -> Option<SessionId> {
        *self.session.borrow()
    }

    /// Pipeline counters.
    pub fn stats(&self) -> watch::Receiver<CaptureStats> {
        self.stats.clone()
    }

    /// The chip map the pipeline resolves bibs with.
    pub fn chips(&self) -> &Arc<ChipMap> {
        &self.chips
    }

    /// Stops accepting reads, commits what is queued, and waits for the committer to end.
    /// Readers must have been stopped first (their supervisors hold the channel open).
    pub async fn shutdown(self) {
        let Capture { sink, task, .. } = self;
        drop(sink);
        if let Err(e) = task.await {
            tracing::error!(error = %e, "capture committer ended abnormally");
        }
    }
}

struct Committer {
    store: Store,
    clock: SharedClock,
    dedup: DedupWindow,
    window: watch::Receiver<Duration>,
    session: watch::Receiver<Option<SessionId>>,
    loaded_session: Option<SessionId>,
    chips: Arc<ChipMap>,
    stats: watch::Sender<CaptureStats>,
    committed: Arc<Notify>,
    /// Replay keys already recorded, per source (loaded from the store on first sight).
    replay_seen: HashMap<String, HashSet<String>>,
}

impl Committer {
    async fn run(mut self, mut rx: mpsc::Receiver<StampedRead>) {
        let mut queue: Vec<RawRead> = Vec::with_capacity(MAX_COMMIT_BATCH);
        while let Some(first) = rx.recv().await {
            // The stored row is built here, once, from everything the supervisor delivered.
            queue.push(RawRead::from_stamped(first));
            while queue.len() < MAX_COMMIT_BATCH {
                match rx.try_recv() {
                    Ok(read) => queue.push(RawRead::from_stamped(read)),
                    Err(_) => break,
                }
            }
            self.commit(&mut queue).await;
        }
        // Channel closed: every sender is gone, so the queue is drained.
    }

    /// Commits the queued reads; on failure keeps them and retries (reads are never dropped).
    async fn commit(&mut self, queue: &mut Vec<RawRead>) {
        if self.window.has_changed().unwrap_or(false) {
            let window = *self.window.borrow_and_update();
            self.dedup.set_window(window);
        }
        let session = *self.session.borrow();
        if session != self.loaded_session {
            self.load_window(session).await;
        }
        for read in queue.iter() {
            if read.replay_key.is_some() && !self.replay_seen.contains_key(&read.source) {
                let keys = match self.store.replay_keys(&read.source).await {
                    Ok(keys) => keys.into_iter().collect(),
                    Err(e) => {
                        tracing::warn!(error = %e, "could not load replay keys");
                        HashSet::new()
                    }
                };
                self.replay_seen.insert(read.source.clone(), keys);
            }
        }
        let to_commit: Vec<ReadToCommit> = queue
            .drain(..)
            .map(|read| {
                // A read the reader sent again (rewind after a reconnect or a restart) is kept,
                // flagged duplicate: it never makes a second passing.
                let replayed = match (&read.replay_key, self.replay_seen.get_mut(&read.source)) {
                    (Some(key), Some(seen)) => !seen.insert(key.clone()),
                    _ => false,
                };
                // An impulse with no chip (a photocell) is never a duplicate of another.
                let duplicate = read.repeated
                    || replayed
                    || (!read.chip.is_empty()
                        && session.is_some_and(|s| {
                            self.dedup.is_duplicate(
                                s,
                                &read.chip,
                                &read.source,
                                read.crossing_time(),
                            )
                        }));
                let bib = bib_for_read(&read, &self.chips);
                let gun_waves = if read.marks.gun { self.chips.waves() } else { Vec::new() };
                ReadToCommit { read, session_id: session, duplicate, bib, gun_waves }
            })
            .collect();
        let mut backoff = Duration::from_millis(100);
        loop {
            match self.store.commit_reads(&to_commit, self.clock.now()).await {
                Ok(Committed { passings, starts }) => {
                    for start in &starts {
                        tracing::info!(wave = %start.wave, at = %start.at, source = ?start.source, "a reader's start impulse started a wave");
                    }
                    let batch = CommitBatch {
                        starts,
                        raw_reads: to_commit.len(),
                        duplicates: to_commit.iter().filter(|r| r.duplicate).count(),
                        without_session: to_commit
                            .iter()
                            .filter(|r| r.session_id.is_none())
                            .count(),
                        passings,
                    };
                    self.stats.send_modify(|s| {
                        s.raw_reads += batch.raw_reads as u64;
                        s.passings += batch.passings.len() as u64;
                        s.duplicates += batch.duplicates as u64;
                        s.without_session += batch.without_session as u64;
                        s.last_error = None;
                        for r in &to_commit {
                            let c = match s.sources.get_mut(&r.read.source) {
                                Some(c) => c,
                                None => s.sources.entry(r.read.source.clone()).or_default(),
                            };
                            c.reads += 1;
                            c.last_at = Some(r.read.host_time);
                            c.last_chip = Some(r.read.chip.clone());
                        }
                    });
                    if !batch.passings.is_empty() {
                        self.committed.notify_one();
                    }
                    self.store.changes().emit(Change::Committed(Arc::new(batch)));
                    break;
                }
                Err(e) => {
                    tracing::error!(error = %e, reads = to_commit.len(), "commit failed; retrying");
                    self.stats.send_modify(|s| s.last_error = Some(e.to_string()));
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
        if self.dedup.len() > PRUNE_ABOVE {
            self.dedup.prune();
        }
    }

    /// Rebuilds the de-duplication window of a newly selected session from the store.
    async fn load_window(&mut self, session: Option<SessionId>) {
        self.loaded_session = session;
        let Some(session) = session else { return };
        match self.store.recent_chip_passings(session, RELOAD_WINDOW).await {
            Ok(recent) => {
                for (chip, source, at) in recent {
                    self.dedup.remember(session, chip, &source, at);
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not reload the de-duplication window"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::parse_utc;

    fn at(s: &str) -> DateTime<Utc> {
        parse_utc(s).unwrap()
    }

    #[test]
    fn first_read_wins_and_the_window_runs_from_the_passing() {
        let mut w = DedupWindow::new(Duration::from_secs(5));
        let s = SessionId(1);
        assert!(!w.is_duplicate(s, "A", "r", at("2026-05-03T09:00:00.000Z")));
        assert!(w.is_duplicate(s, "A", "r", at("2026-05-03T09:00:04.999Z")));
        assert!(
            !w.is_duplicate(s, "B", "r", at("2026-05-03T09:00:01.000Z")),
            "other chips are independent"
        );
        assert!(!w.is_duplicate(s, "A", "r", at("2026-05-03T09:00:05.000Z")), "window ended");
        assert!(
            !w.is_duplicate(SessionId(2), "A", "r", at("2026-05-03T09:00:05.100Z")),
            "per session"
        );
    }

    #[test]
    fn a_zero_window_keeps_every_read() {
        let mut w = DedupWindow::new(Duration::ZERO);
        let t = at("2026-05-03T09:00:00.000Z");
        assert!(!w.is_duplicate(SessionId(1), "A", "r", t));
        assert!(!w.is_duplicate(SessionId(1), "A", "r", t));
    }

    #[test]
    fn pruning_compares_reader_times_with_reader_times() {
        // A reader whose clock is a day behind the host, next to a punctual one: pruning
        // against what each source brought keeps the lagging reader's window intact.
        let mut w = DedupWindow::new(Duration::from_secs(5));
        let s = SessionId(1);
        assert!(!w.is_duplicate(s, "LAG", "behind", at("2026-05-02T09:00:00.000Z")));
        for i in 0..(PRUNE_ABOVE as u32 + 10) {
            let t = at("2026-05-03T09:00:00.000Z") + chrono::Duration::milliseconds(i.into());
            assert!(!w.is_duplicate(s, &format!("C{i}"), "punctual", t));
        }
        w.prune();
        assert!(w.is_duplicate(s, "LAG", "behind", at("2026-05-02T09:00:01.000Z")));
        // The punctual source's old chips go once its own time moved past their window.
        assert!(!w.is_duplicate(s, "LATE", "punctual", at("2026-05-03T09:00:10.000Z")));
        w.prune();
        assert!(w.len() <= 3, "{} left", w.len());
    }
}
