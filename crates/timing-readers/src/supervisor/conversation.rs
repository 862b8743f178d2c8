//! What the supervisor says to a reader, behind one trait: each protocol keeps its conversation
//! (handshake, polling, clock query, rewind, keepalive) and its own state in its own type, and
//! the supervisor drives every reader the same way.
//!
//! A conversation is pure: it never touches the link or a clock. It is told what arrived (with
//! the host monotonic time) and answers with [`Out`]s that the supervisor performs. It lives as
//! long as the supervisor, so what it learnt about the reader survives reconnects.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};

use super::status::ReaderSetting;
use crate::config::EliteReplay;
use crate::{ControlMessage, ReaderTime, TagRead};

/// Something the supervisor should do on the link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Out {
    /// Send these bytes.
    Send(Vec<u8>),
    /// Send this get-time command (the supervisor notes when, for the round trip).
    AskTime(Vec<u8>),
    /// Send this request for stored reads (counted as a rewind).
    Rewind(Vec<u8>),
    /// Tell the timer something only a person can act on (kept in the status as its warning,
    /// and logged): reads the protocol cannot fetch, a setting the reader did not take.
    Warn(String),
    /// The reader read its settings back: keep them in the status (replacing the last ones),
    /// each beside what was asked. A setting it did not take is also said with [`Out::Warn`].
    Settings(Vec<ReaderSetting>),
    /// The link is of no use as it is (another client holds the reader, it stopped its
    /// keepalives): drop it, report why, and reconnect after the back-off.
    Drop(String),
    /// IPICO Elite: replay the reads stored from this reader-local time on, over the side ports.
    EliteReplay {
        /// Replay start (reader-local); `None` = everything.
        from: Option<NaiveDateTime>,
        /// The ports.
        ports: EliteReplay,
    },
}

/// The reader told its clock (a get-time answer, or a timestamp it sent unasked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ClockReply {
    pub(crate) time: ReaderTime,
    /// The reply has whole seconds only.
    pub(crate) whole_seconds: bool,
}

/// A command the protocol has no spelling for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unsupported;

/// One reader's conversation. `want_reading` is whether the timer wants reads now (start/stop).
pub(crate) trait Conversation: Send + fmt::Debug {
    /// A link came up: what to send first.
    fn on_connect(&mut self, want_reading: bool, now: DateTime<Utc>, mono: Duration) -> Vec<Out>;

    /// A read arrived (`reader_utc`: its reader time in UTC, where known).
    fn on_read(
        &mut self,
        read: &TagRead,
        reader_utc: Option<DateTime<Utc>>,
        mono: Duration,
        want_reading: bool,
    ) -> Vec<Out>;

    /// A control message arrived: what to answer, and the reader's clock if it told it.
    fn on_control(
        &mut self,
        message: &ControlMessage,
        mono: Duration,
        want_reading: bool,
    ) -> (Vec<Out>, Option<ClockReply>);

    /// Called every supervisor tick (about 100 ms) while connected.
    fn on_tick(&mut self, mono: Duration, want_reading: bool) -> Vec<Out>;

    /// What to send when the reader went quiet, to tell a silent reader from a dead link;
    /// `None` when the protocol has nothing that always gets an answer.
    fn probe(&self) -> Option<Out>;

    /// Whether the protocol has start / stop (reading commands, or polling).
    fn can_start_stop(&self) -> bool;

    /// The timer pressed start.
    fn start(&mut self, mono: Duration) -> Result<Vec<Out>, Unsupported>;

    /// The timer pressed stop.
    fn stop(&mut self) -> Result<Vec<Out>, Unsupported>;

    /// Set the reader's clock to `at`.
    fn set_clock(&mut self, at: DateTime<Utc>) -> Result<Vec<Out>, Unsupported>;

    /// Ask for the stored reads between `from` and `to`.
    fn rewind(&mut self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Out>, Unsupported>;

    /// A control message that stands for a read (IPICO's trigger button: the start's gun
    /// impulse), delivered like one; `None` for every other message.
    fn control_read(&self, message: &ControlMessage, raw: &[u8]) -> Option<TagRead> {
        let _ = (message, raw);
        None
    }

    /// Whether the reader's clock is followed through the connection from every stamp it sends
    /// (its events' and live reads' UTC times against their arrival), rather than measured at
    /// connect: for readers whose clock may be stepped (by NTP) while connected. See
    /// `reader_clock`'s module docs.
    fn follows_clock(&self) -> bool {
        false
    }

    /// A later reader time a read carries than its passing time (LLRP: last seen), the tighter
    /// bound on the reader's clock; `None` = the passing time is the latest.
    fn latest_stamp(&self, read: &TagRead) -> Option<DateTime<Utc>> {
        let _ = read;
        None
    }

    /// Gives a decoded read the meaning this reader's options give it, before it is stamped
    /// and delivered (and before [`on_read`](Self::on_read) sees it): a Timy configured with
    /// `number=bib` makes its number the read's bib. The default leaves the read as decoded.
    fn shape(&self, read: &mut TagRead) {
        let _ = read;
    }

    /// Whether reads arriving now may be older than reads already delivered (a rewind or
    /// replay is filling a gap).
    fn catching_up(&self) -> bool {
        false
    }

    /// An IPICO Elite replay stream ended (from this reader-local time).
    fn replay_finished(&mut self, from: Option<NaiveDateTime>) {
        let _ = from;
    }

    /// The supervisor closes the link on purpose (shutdown): what to send before it goes.
    fn on_close(&mut self) -> Vec<Out> {
        Vec::new()
    }
}

/// Helpers the conversations' unit tests share.
#[cfg(test)]
pub(crate) mod testing {
    use chrono::{DateTime, Utc};

    use super::Out;
    use crate::{Decoded, Protocol, decode_all};

    /// `bytes` decoded as `protocol`.
    pub(crate) fn items(protocol: Protocol, bytes: &[u8]) -> Vec<Decoded> {
        decode_all(protocol.decoder().as_mut(), bytes)
    }

    /// The rewind commands among `outs`, as text.
    pub(crate) fn rewinds(outs: &[Out]) -> Vec<String> {
        outs.iter()
            .filter_map(|o| match o {
                Out::Rewind(bytes) => Some(String::from_utf8_lossy(bytes).trim().to_string()),
                _ => None,
            })
            .collect()
    }

    /// The warnings among `outs`.
    pub(crate) fn warnings(outs: &[Out]) -> Vec<String> {
        outs.iter()
            .filter_map(|o| match o {
                Out::Warn(why) => Some(why.clone()),
                _ => None,
            })
            .collect()
    }

    /// The host time the tests run at.
    pub(crate) fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2025-06-14T09:30:00Z").unwrap().with_timezone(&Utc)
    }
}
