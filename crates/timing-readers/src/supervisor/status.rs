//! What a supervised reader looks like from outside — state, counters, clock offset, recent raw
//! frames — kept in bounded structures so a reader that runs for days never grows memory.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::reader_clock::OffsetSource;
use crate::{ClockHint, Protocol, ReaderZone};

/// Rejected frames kept in [`Counters::last_rejected`].
pub const LAST_REJECTED: usize = 8;
/// Raw frames kept for [`ReaderHandle::recent_frames`](super::ReaderHandle::recent_frames).
pub const RECENT_FRAMES: usize = 256;
/// Bytes of one frame shown as hex; longer frames are cut (with `…`).
pub const FRAME_HEX_BYTES: usize = 256;
/// Window over which [`ReaderStatus::reads_per_sec`] is measured.
pub const RATE_WINDOW: Duration = Duration::from_secs(5);
/// Replay keys remembered for de-duplication within a supervisor's lifetime.
pub const DELIVERED_KEYS: usize = 65_536;

/// Where a reader's link is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReaderState {
    /// Opening the port / connecting.
    Connecting,
    /// The link is up; no bytes yet (or reading stopped).
    Connected,
    /// Bytes are flowing.
    Reading,
    /// The link is up but nothing arrived for `quiet_after`.
    Quiet,
    /// The link failed; waiting to reconnect.
    Lost,
    /// The supervisor ended (shutdown, or nobody takes its reads any more, or an input that
    /// could not be opened: see `last_error`).
    Stopped,
    /// An input that ends (standard input, a file, a simulated finish) was read to its end and
    /// every read delivered.
    Finished,
}

/// One rejected frame, for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedFrame {
    /// Host time it arrived.
    pub at: DateTime<Utc>,
    /// [`RejectReason::kind`](crate::RejectReason::kind).
    pub kind: &'static str,
    /// The reason in words.
    pub reason: String,
    /// The bytes as hex (cut after [`FRAME_HEX_BYTES`]).
    pub hex: String,
}

/// Running totals over the supervisor's lifetime.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    /// Bytes received.
    pub bytes: u64,
    /// Items decoded (reads, control messages and rejected chunks).
    pub frames: u64,
    /// Reads delivered on the reads channel, repeats not counted.
    pub reads: u64,
    /// Reads delivered flagged [`repeated`](crate::StampedRead::repeated) because one with the
    /// same replay key already was (rewinds, doubled frames).
    pub duplicates: u64,
    /// Control messages (replies, banners, keepalives).
    pub controls: u64,
    /// Rejected chunks.
    pub rejected: u64,
    /// Rejected chunks by [`RejectReason::kind`](crate::RejectReason::kind).
    pub rejected_by_reason: BTreeMap<&'static str, u64>,
    /// The last few rejected chunks, oldest first (at most [`LAST_REJECTED`]).
    pub last_rejected: VecDeque<RejectedFrame>,
    /// Successful connects.
    pub connects: u64,
    /// Rewinds asked of the reader (automatic and requested).
    pub rewinds: u64,
    /// Commands written to the reader.
    pub commands_sent: u64,
}

/// One of the reader's settings as it reported it, beside what the spec asked for: `antenna 1
/// power`, `antenna 2 sensitivity`, `connected antennas`. Values are in the units of the spec's
/// options (LLRP: the reader's table indexes, as `power=` takes them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderSetting {
    /// What the setting is, in words.
    pub name: String,
    /// What the spec asked for; `None` when it asked nothing (the reader's own setting stands).
    pub asked: Option<String>,
    /// What the reader reports it applied; `None` when it reported nothing for it.
    pub applied: Option<String>,
}

impl ReaderSetting {
    /// A setting `name`, asked and applied as given.
    pub fn new(name: impl Into<String>, asked: Option<String>, applied: Option<String>) -> Self {
        ReaderSetting { name: name.into(), asked, applied }
    }

    /// Something was asked and the reader did not report applying exactly that.
    pub fn differs(&self) -> bool {
        self.asked.is_some() && self.asked != self.applied
    }
}

/// A snapshot of one reader, published on a `watch` channel.
#[derive(Debug, Clone, PartialEq)]
pub struct ReaderStatus {
    /// The reader's name or spec.
    pub source: String,
    /// Its protocol.
    pub protocol: Protocol,
    /// Where the link is.
    pub state: ReaderState,
    /// What went wrong last (kept after recovery, for people).
    pub last_error: Option<String>,
    /// Reads the reader may hold that the console cannot fetch itself, and what the timer can
    /// do about them (kept for the supervisor's lifetime; the newest one).
    pub warning: Option<String>,
    /// Totals.
    pub counters: Counters,
    /// Reads delivered per second over the last [`RATE_WINDOW`] (injected monotonic clock).
    pub reads_per_sec: f64,
    /// `reads_per_sec` once per [`RATE_HISTORY_STEP`] while connected, oldest first (at most
    /// [`RATE_HISTORY_LEN`]).
    pub rate_history: Vec<f64>,
    /// The chip of the last read delivered.
    pub last_chip: Option<String>,
    /// Host time of the last read delivered.
    pub last_read: Option<DateTime<Utc>>,
    /// Reader clock minus host clock, for the current connection.
    pub clock_offset_ms: Option<i64>,
    /// How `clock_offset_ms` was obtained.
    pub clock_offset_source: Option<OffsetSource>,
    /// The zone reader-local times are read in ([`ReaderZone::applies_to`] the protocol): the
    /// spec's `zone=`, else the computer's. `None` for readers that send UTC or no time.
    pub zone: Option<ReaderZone>,
    /// What to tell people when `clock_offset_ms` is beyond ±2 s ([`crate::clock_hint`]); a
    /// proposed zone only for readers whose zone applies.
    pub clock_hint: Option<ClockHint>,
    /// Milliseconds added to each read's passing time from now on (`adjust_ms=`,
    /// [`ReaderHandle::set_adjustment`](super::ReaderHandle::set_adjustment)).
    pub adjust_ms: i64,
    /// When the current connection was made (host time); `None` while not connected.
    pub connected_since: Option<DateTime<Utc>>,
    /// What the link is connected to, while connected.
    pub link: Option<String>,
    /// Reading was asked for (start on connect, or `start()`), not stopped with `stop()`.
    pub reading_wanted: bool,
    /// The reader's settings as it last read them back, beside what the spec asked for, for
    /// protocols that read them back (LLRP: connected antennas, transmit power and receive
    /// sensitivity per antenna). Kept until the next read-back (across reconnects); empty until
    /// the first.
    pub settings: Vec<ReaderSetting>,
}

impl ReaderStatus {
    pub(crate) fn new(source: String, protocol: Protocol, reading_wanted: bool) -> Self {
        ReaderStatus {
            source,
            protocol,
            state: ReaderState::Connecting,
            last_error: None,
            warning: None,
            counters: Counters::default(),
            reads_per_sec: 0.0,
            rate_history: Vec::new(),
            last_chip: None,
            last_read: None,
            clock_offset_ms: None,
            clock_offset_source: None,
            zone: None,
            clock_hint: None,
            adjust_ms: 0,
            connected_since: None,
            link: None,
            reading_wanted,
            settings: Vec::new(),
        }
    }

    /// The zone as the tile says it: `Europe/Madrid`, `+02:00`, `UTC`; `UTC (reader sends UTC)`
    /// for a reader with a clock that sends UTC; `None` for readers without a clock.
    pub fn zone_label(&self) -> Option<String> {
        match self.zone {
            Some(zone) => Some(zone.to_string()),
            None if self.protocol.carries_time() => Some("UTC (reader sends UTC)".to_owned()),
            None => None,
        }
    }

    pub(crate) fn note_rejected(&mut self, frame: RejectedFrame) {
        self.counters.rejected += 1;
        *self.counters.rejected_by_reason.entry(frame.kind).or_insert(0) += 1;
        if self.counters.last_rejected.len() >= LAST_REJECTED {
            self.counters.last_rejected.pop_front();
        }
        self.counters.last_rejected.push_back(frame);
    }
}

/// Which way a frame went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the reader.
    Received,
    /// To the reader (a command).
    Sent,
}

/// One raw frame for the UI's frame log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameRecord {
    /// Host time.
    pub at: DateTime<Utc>,
    /// Received or sent.
    pub direction: Direction,
    /// The bytes as hex, space separated (cut after [`FRAME_HEX_BYTES`]).
    pub hex: String,
    /// What it decoded to, in words.
    pub summary: String,
}

/// The bounded ring behind `recent_frames`.
#[derive(Debug, Clone, Default)]
pub(crate) struct FrameLog {
    frames: Arc<Mutex<VecDeque<FrameRecord>>>,
}

impl FrameLog {
    pub(crate) fn push(&self, record: FrameRecord) {
        let mut frames = self.frames.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if frames.len() >= RECENT_FRAMES {
            frames.pop_front();
        }
        frames.push_back(record);
    }

    /// The last `n` frames, oldest first.
    pub(crate) fn last(&self, n: usize) -> Vec<FrameRecord> {
        let frames = self.frames.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        frames.iter().skip(frames.len().saturating_sub(n)).cloned().collect()
    }
}

/// Bytes as upper-case hex pairs separated by blanks, cut after [`FRAME_HEX_BYTES`].
pub fn hex(bytes: &[u8]) -> String {
    let shown = bytes.get(..FRAME_HEX_BYTES).unwrap_or(bytes);
    let mut s = String::with_capacity(shown.len() * 3 + 1);
    for (i, b) in shown.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let _ = write!(s, "{b:02X}");
    }
    if bytes.len() > shown.len() {
        s.push_str(" …");
    }
    s
}

/// One rate sample per this period in [`ReaderStatus::rate_history`].
pub const RATE_HISTORY_STEP: Duration = Duration::from_secs(5);
/// Samples kept in [`ReaderStatus::rate_history`] (one minute).
pub const RATE_HISTORY_LEN: usize = 12;

/// Reads per second over a sliding window, and a sample of it every [`RATE_HISTORY_STEP`];
/// bounded.
#[derive(Debug, Clone, Default)]
pub(crate) struct RateMeter {
    times: VecDeque<Duration>,
    history: VecDeque<f64>,
    last_step: Option<Duration>,
}

impl RateMeter {
    const CAP: usize = 16_384;

    /// The rate now, kept in the history when a step has passed since the last sample.
    pub(crate) fn sample(&mut self, now: Duration) -> f64 {
        let rate = self.rate(now);
        let due = self.last_step.is_none_or(|t| now.saturating_sub(t) >= RATE_HISTORY_STEP);
        if due {
            self.last_step = Some(now);
            if self.history.len() >= RATE_HISTORY_LEN {
                self.history.pop_front();
            }
            self.history.push_back(rate);
        }
        rate
    }

    /// The samples, oldest first.
    pub(crate) fn history(&self) -> Vec<f64> {
        self.history.iter().copied().collect()
    }

    pub(crate) fn add(&mut self, at: Duration) {
        if self.times.len() >= Self::CAP {
            self.times.pop_front();
        }
        self.times.push_back(at);
    }

    pub(crate) fn rate(&mut self, now: Duration) -> f64 {
        while self.times.front().is_some_and(|t| now.saturating_sub(*t) > RATE_WINDOW) {
            self.times.pop_front();
        }
        let window = match self.times.front() {
            // The meter is full: the window is what it holds.
            Some(first) if self.times.len() >= Self::CAP => now.saturating_sub(*first),
            _ => RATE_WINDOW,
        };
        let secs = window.as_secs_f64();
        // Counts fit f64 exactly (≤ CAP).
        #[allow(clippy::cast_precision_loss)]
        let count = self.times.len() as f64;
        if secs > 0.0 { count / secs } else { 0.0 }
    }
}

/// Replay keys already delivered, bounded: the oldest are forgotten first.
#[derive(Debug, Clone, Default)]
pub(crate) struct DeliveredKeys {
    set: HashSet<String>,
    order: VecDeque<String>,
}

impl DeliveredKeys {
    /// Remembers `key`; false when it was already there.
    pub(crate) fn insert(&mut self, key: &str) -> bool {
        if self.set.contains(key) {
            return false;
        }
        if self.order.len() >= DELIVERED_KEYS
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        self.set.insert(key.to_string());
        self.order.push_back(key.to_string());
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_over_the_window() {
        let mut meter = RateMeter::default();
        for i in 0..50 {
            meter.add(Duration::from_millis(10_000 + i * 100));
        }
        assert!((meter.rate(Duration::from_millis(15_000)) - 10.0).abs() < 0.01);
        assert_eq!(meter.rate(Duration::from_secs(60)), 0.0);
    }

    #[test]
    fn delivered_keys_are_bounded() {
        let mut keys = DeliveredKeys::default();
        assert!(keys.insert("a"));
        assert!(!keys.insert("a"));
        for i in 0..DELIVERED_KEYS {
            keys.insert(&i.to_string());
        }
        assert!(keys.insert("a"), "the oldest key was forgotten");
        assert!(keys.set.len() <= DELIVERED_KEYS);
    }

    #[test]
    fn hex_is_cut() {
        assert_eq!(hex(&[0xA0, 0x04]), "A0 04");
        assert!(hex(&[0u8; 300]).ends_with(" …"));
    }

    #[test]
    fn frame_log_is_bounded() {
        let log = FrameLog::default();
        for i in 0..(RECENT_FRAMES + 10) {
            log.push(FrameRecord {
                at: DateTime::<Utc>::default(),
                direction: Direction::Received,
                hex: String::new(),
                summary: i.to_string(),
            });
        }
        let last = log.last(1000);
        assert_eq!(last.len(), RECENT_FRAMES);
        assert_eq!(last.last().map(|f| f.summary.as_str()), Some("265"));
        assert_eq!(log.last(2).len(), 2);
    }
}
