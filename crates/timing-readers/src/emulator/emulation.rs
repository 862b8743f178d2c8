//! What an emulated reader is, behind one trait, so each protocol's reader model lives in its
//! own folder and the emulator's wires (pty, loopback TCP), faults and slow links serve all of
//! them alike.
//!
//! An emulation is synchronous and takes the host time as an argument: the same model makes
//! [`sample_stream`](super::sample_stream) and drives the live emulators.

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeDelta, Utc};

use super::EmittedRead;
use super::shared::Rng;

/// What the reader puts on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outgoing {
    /// A frame that carries reads: fault injection applies to it.
    Frame(Vec<u8>),
    /// Anything else (replies, keepalives, rewound reads): sent as is.
    Reply(Vec<u8>),
}

/// How an emulated reader's clock and options are set when it is made.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DeviceOptions {
    /// Reader clock minus host clock.
    pub(crate) skew: TimeDelta,
    /// The reader's local zone.
    pub(crate) utc_offset: FixedOffset,
    /// A named zone the reader's clock follows (DST included), instead of `utc_offset`.
    pub(crate) zone: Option<crate::ReaderZone>,
    /// Timy: checksums on impulse lines.
    pub(crate) timy_checksum: bool,
}

impl DeviceOptions {
    /// A reader whose clock agrees with the host's, in UTC (sample streams).
    pub(crate) fn utc() -> Self {
        DeviceOptions {
            skew: TimeDelta::zero(),
            utc_offset: chrono::Offset::fix(&Utc),
            zone: None,
            timy_checksum: false,
        }
    }
}

/// One emulated reader: its clock, its memory, how it encodes reads and answers commands.
pub(crate) trait Emulation: Send + std::fmt::Debug {
    /// What the reader says when a client connects (host time `now`).
    fn greeting(&mut self, now: DateTime<Utc>) -> Vec<u8>;

    /// The client went away (the reader forgets what belonged to that connection).
    fn disconnected(&mut self) {}

    /// Whether the reader sends keepalives by itself (at the emulator's interval).
    fn has_keepalive(&self) -> bool;

    /// The keepalive message to send now, if any (an LLRP reader only once asked for them).
    fn keepalive(&mut self, now: DateTime<Utc>) -> Option<Vec<u8>>;

    /// Bytes from the host: the replies.
    fn on_input(&mut self, bytes: &[u8], now: DateTime<Utc>) -> Vec<Outgoing>;

    /// The reader sees a chip (`None` = a generated one) at host time `now`. `linked`: the link
    /// is up. Returns the read and what to send now.
    fn make_read(
        &mut self,
        now: DateTime<Utc>,
        chip: Option<String>,
        linked: bool,
    ) -> (EmittedRead, Vec<u8>);

    /// Starts numbering again, where the reader numbers anything.
    fn restart_numbering(&mut self);

    /// The commands it received, newest last (a short log).
    fn commands(&self) -> Vec<String>;

    /// Whether it sends reads now (started, pushing, a report spec enabled).
    fn sending(&self) -> bool;

    /// Bytes that start no frame, to put between frames.
    fn garbage(&self, rng: &mut Rng) -> Vec<u8>;

    /// A damaged copy of `frame` the decoder must reject.
    fn corrupt(&self, frame: &[u8]) -> Vec<u8>;

    /// A valid byte stream of `reads` reads, as the reader sends it, from `seed`.
    fn sample(&mut self, reads: usize, seed: u64) -> Vec<u8>;

    /// IPICO Elite: a line on the control port, answered.
    fn elite_control(&mut self, line: &[u8], now: DateTime<Utc>) -> Option<Vec<u8>> {
        let _ = (line, now);
        None
    }

    /// IPICO Elite: the replay asked for on the control port, if one waits.
    fn take_pending_replay(&mut self) -> Option<Option<NaiveDateTime>> {
        None
    }

    /// IPICO Elite: the stored reads from `from` on, as the replay port sends them.
    fn elite_replay(&self, from: Option<NaiveDateTime>) -> Vec<u8> {
        let _ = from;
        Vec::new()
    }
}
