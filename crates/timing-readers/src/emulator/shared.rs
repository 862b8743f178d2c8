//! The parts several emulated readers are made of, written once so each protocol's emulation
//! (`src/<protocol>/emulation.rs`) holds only what is its own: the deterministic [`Rng`], the
//! reader clock ([`ReaderClock`]: host time plus a skew, in the reader's zone), the memory of
//! every read with its numbering runs ([`ReadLog`]), the short command log ([`CommandLog`]),
//! text commands cut into lines ([`TextInput`]) or decoded from frames ([`decode_commands`]),
//! garbage and damaged-frame helpers, and the sample-stream driver ([`sample`]).
//!
//! Everything here is synchronous and takes the host time as an argument, so the same model
//! produces [`sample_stream`](super::sample_stream) and drives the live emulators.

use std::collections::VecDeque;

use chrono::{DateTime, DurationRound as _, NaiveDateTime, TimeDelta, Utc};

use super::EmittedRead;
use super::emulation::{DeviceOptions, Emulation, Outgoing};
use crate::supervisor::{local_to_utc, utc_to_local};
use crate::text::hex_upper;
use crate::{ControlMessage, Decoded, Decoder, ReaderZone, ReplayKey};

/// Reads an emulated reader remembers.
const MEMORY: usize = 100_000;
/// Commands remembered for [`EmulatorStats`](super::EmulatorStats).
const COMMAND_LOG: usize = 64;
/// Longest pending command text.
const INPUT_LIMIT: usize = 4096;

/// A small deterministic random source (SplitMix64): fault injection and sample streams must be
/// reproducible from a seed.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    /// True with probability `percent` / 100.
    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// An emulated reader's clock: host time plus a skew, shown in the reader's zone, cut to the
/// protocol's resolution.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReaderClock {
    /// Reader clock minus host clock.
    skew: TimeDelta,
    /// The zone the reader's clock shows.
    zone: ReaderZone,
    /// The protocol's resolution.
    resolution: TimeDelta,
}

impl ReaderClock {
    /// The clock `options` set, ticking in steps of `resolution`.
    pub(crate) fn new(options: &DeviceOptions, resolution: TimeDelta) -> Self {
        let zone = options.zone.unwrap_or(ReaderZone::Fixed(options.utc_offset));
        ReaderClock { skew: options.skew, zone, resolution }
    }

    /// The reader's clock at host time `now` (UTC), cut to the protocol's resolution.
    pub(crate) fn now(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let at = now + self.skew;
        at.duration_trunc(self.resolution).unwrap_or(at)
    }

    /// `at` as the reader's clock shows it (its own zone).
    pub(crate) fn local(&self, at: DateTime<Utc>) -> NaiveDateTime {
        utc_to_local(at, self.zone)
    }

    /// What the reader's clock shows at host time `now`.
    pub(crate) fn local_now(&self, now: DateTime<Utc>) -> NaiveDateTime {
        self.local(self.now(now))
    }

    /// Sets the reader clock to `local` (its own zone) at host time `now`.
    pub(crate) fn set(&mut self, local: NaiveDateTime, now: DateTime<Utc>) {
        if let Some(at) = local_to_utc(local, self.zone) {
            self.skew = at - now;
        }
    }
}

/// One read in the reader's memory.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub(crate) read: EmittedRead,
    /// Log id / passing number / impulse number, counted from 1 in each numbering run.
    pub(crate) seq: u64,
    /// The numbering run it was made in (0 = the first).
    pub(crate) run: u32,
    /// Reader time, UTC (already cut to the protocol's resolution).
    pub(crate) at: DateTime<Utc>,
}

/// Every read the reader made (for rewinds), and how it numbers them: a numbering run restarted
/// by [`ReadLog::restart_numbering`].
#[derive(Debug, Default)]
pub(crate) struct ReadLog {
    /// Reads made over the reader's life (generated chips are unique by it).
    made: u64,
    /// Reads made in the current numbering run.
    seq: u64,
    /// The current numbering run (CloudBox session / file, Ultra log, RACE RESULT file − 1).
    run: u32,
    memory: VecDeque<Stored>,
}

impl ReadLog {
    /// Counts a new read: the reads made over the reader's life and its number in the current
    /// run, both with it.
    pub(crate) fn count(&mut self) -> (u64, u64) {
        self.made += 1;
        self.seq += 1;
        (self.made, self.seq)
    }

    /// Remembers `read`, numbered `seq` in the current run, made at reader time `at`.
    pub(crate) fn remember(&mut self, read: &EmittedRead, seq: u64, at: DateTime<Utc>) -> Stored {
        let stored = Stored { read: read.clone(), seq, run: self.run, at };
        if self.memory.len() >= MEMORY {
            self.memory.pop_front();
        }
        self.memory.push_back(stored.clone());
        stored
    }

    /// Starts numbering again. The memory keeps the earlier runs.
    pub(crate) fn restart_numbering(&mut self) {
        self.run = self.run.saturating_add(1);
        self.seq = 0;
    }

    /// The current numbering run.
    pub(crate) fn run(&self) -> u32 {
        self.run
    }

    /// Reads made in the current numbering run.
    pub(crate) fn numbered(&self) -> u64 {
        self.seq
    }

    /// The stored reads, oldest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Stored> {
        self.memory.iter()
    }

    /// Forgets every stored read (numbering goes on).
    pub(crate) fn clear(&mut self) {
        self.memory.clear();
    }
}

/// The last commands the reader received, as text.
#[derive(Debug, Default)]
pub(crate) struct CommandLog(VecDeque<String>);

impl CommandLog {
    /// Notes a command's bytes.
    pub(crate) fn log(&mut self, bytes: &[u8]) {
        if self.0.len() >= COMMAND_LOG {
            self.0.pop_front();
        }
        self.0.push_back(crate::text::shown(bytes).trim().to_string());
    }

    /// The commands, oldest first.
    pub(crate) fn list(&self) -> Vec<String> {
        self.0.iter().cloned().collect()
    }
}

/// Finds the next complete text command in the pending input: the command and how many bytes
/// it used.
pub(crate) type SplitCommand = fn(&[u8]) -> Option<(Vec<u8>, usize)>;

/// Text commands from the host, pending until their line ends.
#[derive(Debug, Default)]
pub(crate) struct TextInput(Vec<u8>);

impl TextInput {
    /// Adds `bytes` and takes out the commands now complete (cut by `split`), each noted in
    /// `log`. Input that grows past a limit without ending a command is dropped.
    pub(crate) fn feed(
        &mut self,
        bytes: &[u8],
        split: SplitCommand,
        log: &mut CommandLog,
    ) -> Vec<Vec<u8>> {
        self.0.extend_from_slice(bytes);
        if self.0.len() > INPUT_LIMIT {
            self.0.clear();
        }
        let mut commands = Vec::new();
        while let Some((command, used)) = split(&self.0) {
            self.0.drain(..used.min(self.0.len()));
            log.log(&command);
            commands.push(command);
        }
        commands
    }
}

/// A command ended by CR, LF or CR LF.
pub(crate) fn line_cr_or_lf(input: &[u8]) -> Option<(Vec<u8>, usize)> {
    line(input, input.iter().position(|b| *b == b'\n' || *b == b'\r')?)
}

/// A command ended by LF.
pub(crate) fn line_lf(input: &[u8]) -> Option<(Vec<u8>, usize)> {
    line(input, input.iter().position(|b| *b == b'\n')?)
}

/// The command before `end`, and the bytes it used with its terminator (CR LF counts as one).
fn line(input: &[u8], end: usize) -> Option<(Vec<u8>, usize)> {
    let command = input.get(..end)?.to_vec();
    let mut used = end + 1;
    if input.get(end) == Some(&b'\r') && input.get(end + 1) == Some(&b'\n') {
        used += 1;
    }
    Some((command, used))
}

/// Frame commands from the host: `decoder` (the protocol's own) takes `bytes`; every item is
/// noted in `log`, and the control messages (the commands) come out.
pub(crate) fn decode_commands(
    decoder: &mut dyn Decoder,
    bytes: &[u8],
    log: &mut CommandLog,
) -> Vec<ControlMessage> {
    let mut items = Vec::new();
    decoder.feed(bytes, &mut items);
    let mut commands = Vec::new();
    for item in items {
        log.log(item.raw());
        if let Decoded::Control(control) = item {
            commands.push(control.message);
        }
    }
    commands
}

/// A read as the emulator reports it (`connections` is filled in by the wire).
pub(crate) fn emitted(
    chip: String,
    reader_time_utc: Option<DateTime<Utc>>,
    key: Option<ReplayKey>,
    live: bool,
) -> EmittedRead {
    EmittedRead {
        chip,
        reader_time_utc,
        replay_key: key.map(|k| k.to_string()),
        live,
        connections: 0,
    }
}

/// The `n`th generated EPC-96, upper-case hex.
pub(crate) fn generated_epc(n: u64) -> String {
    let mut bytes = vec![0xE2, 0x80, 0x11, 0x70];
    bytes.extend_from_slice(&n.to_be_bytes());
    hex_upper(&bytes)
}

/// 1 to 6 bytes, each one of `choices` at random.
pub(crate) fn garbage(rng: &mut Rng, choices: &[u8]) -> Vec<u8> {
    let len = 1 + rng.below(6);
    (0..len).map(|_| pick(choices, rng)).collect()
}

/// A line of 1 to 6 control characters (never CR, LF or Ultra's 0x03), ended by `end`.
pub(crate) fn garbage_line(rng: &mut Rng, end: &[u8]) -> Vec<u8> {
    let mut line = garbage(rng, &[0x01, 0x02, 0x04, 0x7F]);
    line.extend_from_slice(end);
    line
}

/// One of `choices`, at random (0 when empty).
fn pick(choices: &[u8], rng: &mut Rng) -> u8 {
    let n = u64::try_from(choices.len()).unwrap_or(0);
    usize::try_from(rng.below(n)).ok().and_then(|i| choices.get(i)).copied().unwrap_or(0)
}

/// `frame` with the last character before its line end shifted to another digit (`0` ↔ `1`,
/// anything else → `0`): a checksum that no longer matches.
pub(crate) fn last_digit_changed(frame: &[u8]) -> Vec<u8> {
    let mut bad = frame.to_vec();
    let text_end = bad.iter().rposition(|b| *b != b'\r' && *b != b'\n').map_or(0, |i| i + 1);
    if let Some(b) = text_end.checked_sub(1).and_then(|i| bad.get_mut(i)) {
        *b = if *b == b'0' { b'1' } else { b'0' };
    }
    bad
}

/// When every sample stream starts (host time).
fn sample_start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2025-06-14T09:30:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

/// A realistic valid byte stream of `reads` reads from `device` (fresh, sending, see
/// [`super::sample_stream`]): reads 5 to 205 ms apart, a keepalive every 20 reads where the
/// reader has one; a polled reader (`poll`: its inventory command) is polled after every few
/// reads and after the last.
pub(crate) fn sample(
    device: &mut dyn Emulation,
    reads: usize,
    seed: u64,
    poll: Option<&[u8]>,
) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut now = sample_start();
    let mut out = Vec::new();
    let mut pending_round = 0usize;
    for i in 0..reads {
        now += TimeDelta::milliseconds(5 + i64::try_from(rng.below(200)).unwrap_or(0));
        let (_, frame) = device.make_read(now, None, true);
        match poll {
            Some(poll) => {
                pending_round += 1;
                if pending_round > usize::try_from(rng.below(6)).unwrap_or(0) || i + 1 == reads {
                    pending_round = 0;
                    for reply in device.on_input(poll, now) {
                        match reply {
                            Outgoing::Frame(bytes) | Outgoing::Reply(bytes) => out.extend(bytes),
                        }
                    }
                }
            }
            None => out.extend(frame),
        }
        if device.has_keepalive() && i % 20 == 19 {
            out.extend(device.keepalive(now).unwrap_or_default());
        }
    }
    out
}

/// Checks every emulation of the old one-type emulator passes, run by each protocol's tests on
/// its own emulation.
#[cfg(test)]
pub(crate) mod checks {
    use chrono::{DateTime, TimeDelta, Utc};

    use super::{Outgoing, Rng};
    use crate::emulator::Emulation;
    use crate::{Decoded, Protocol, RejectReason, TagRead, decode_all};

    pub(crate) fn start() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2025-06-14T09:30:00Z").unwrap().with_timezone(&Utc)
    }

    pub(crate) fn identity(read: &TagRead) -> String {
        read.replay_key.as_ref().map_or_else(|| read.chip.clone(), ToString::to_string)
    }

    /// The frame that carries the read just made: `frame` itself, or for a polled reader
    /// (`poll`: its inventory command, `frame` empty) the frames the poll brings.
    pub(crate) fn frame_of(
        device: &mut dyn Emulation,
        frame: Vec<u8>,
        poll: Option<&[u8]>,
        now: DateTime<Utc>,
    ) -> Vec<u8> {
        match poll {
            Some(poll) if frame.is_empty() => device
                .on_input(poll, now)
                .into_iter()
                .filter_map(|o| match o {
                    Outgoing::Frame(bytes) => Some(bytes),
                    Outgoing::Reply(_) => None,
                })
                .flatten()
                .collect(),
            _ => frame,
        }
    }

    /// Decodes `frame` (see [`frame_of`]) into its one read.
    pub(crate) fn decode_one(
        protocol: Protocol,
        device: &mut dyn Emulation,
        frame: Vec<u8>,
        poll: Option<&[u8]>,
        now: DateTime<Utc>,
    ) -> TagRead {
        let frame = frame_of(device, frame, poll, now);
        let decoded = decode_all(protocol.decoder().as_mut(), &frame);
        decoded.iter().find_map(Decoded::as_read).cloned().unwrap()
    }

    /// Garbage and damaged copies between six frames: the decoder rejects them and decodes every
    /// read; `bad_checksums`: each damaged copy is rejected for its checksum.
    pub(crate) fn garbage_and_damaged_frames_spare_their_neighbours(
        protocol: Protocol,
        device: &mut dyn Emulation,
        poll: Option<&[u8]>,
        bad_checksums: bool,
    ) {
        let mut rng = Rng::new(3);
        let mut stream = Vec::new();
        let mut expected = Vec::new();
        for i in 0..6 {
            let now = start() + TimeDelta::milliseconds(i * 20);
            let (read, frame) = device.make_read(now, None, true);
            let frame = frame_of(device, frame, poll, now);
            stream.extend(device.garbage(&mut rng));
            stream.extend(device.corrupt(&frame));
            stream.extend_from_slice(&frame);
            expected.push(read.identity());
        }
        let decoded = decode_all(protocol.decoder().as_mut(), &stream);
        let got: Vec<String> = decoded.iter().filter_map(Decoded::as_read).map(identity).collect();
        assert_eq!(got, expected, "{protocol}");
        let rejected: Vec<&RejectReason> = decoded
            .iter()
            .filter_map(|d| match d {
                Decoded::Rejected(r) => Some(&r.reason),
                _ => None,
            })
            .collect();
        assert!(rejected.len() >= 6, "{protocol}: {rejected:?}");
        if bad_checksums {
            let bad = rejected.iter().filter(|r| r.kind() == "bad_checksum").count();
            assert_eq!(bad, 6, "{protocol}: {rejected:?}");
        }
    }

    /// Six reads with a numbering restart after three: each decodes to the key it was emitted
    /// with, and the six keys differ.
    pub(crate) fn a_numbering_restart_reuses_numbers_with_new_keys(
        protocol: Protocol,
        device: &mut dyn Emulation,
        poll: Option<&[u8]>,
    ) {
        let mut identities = Vec::new();
        for i in 0..6 {
            if i == 3 {
                device.restart_numbering();
            }
            let now = start() + TimeDelta::milliseconds(i * 40);
            let (read, frame) = device.make_read(now, None, true);
            let decoded = decode_one(protocol, device, frame, poll, now);
            assert_eq!(identity(&decoded), read.identity(), "{protocol}: emitted = decoded key");
            identities.push(read.identity());
        }
        let distinct: std::collections::BTreeSet<_> = identities.iter().collect();
        assert_eq!(distinct.len(), 6, "{protocol}: {identities:?}");
    }

    /// A reader made with a -30 s `skew`: the read and its frame carry the skewed time.
    pub(crate) fn the_skew_moves_the_reader_clock(
        protocol: Protocol,
        device: &mut dyn Emulation,
        skew: TimeDelta,
    ) {
        let (read, frame) = device.make_read(start(), None, true);
        assert_eq!(read.reader_time_utc, Some(start() + skew), "{protocol}");
        let decoded = decode_one(protocol, device, frame, None, start());
        let expected = (start() + skew).naive_utc();
        let carried = match decoded.reader_time.unwrap() {
            crate::ReaderTime::Utc(at) => at.naive_utc(),
            crate::ReaderTime::Local(at) => at,
            crate::ReaderTime::TimeOfDay(time) => expected.date().and_time(time),
            crate::ReaderTime::SinceStart { .. } => panic!("{protocol}: clock not set"),
        };
        assert_eq!(carried, expected, "{protocol}: the frame carries the skewed time");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_reproducible() {
        let (mut a, mut b) = (Rng::new(9), Rng::new(9));
        assert!((0..100).all(|_| a.next_u64() == b.next_u64()));
        assert_eq!(Rng::new(1).below(0), 0);
    }

    #[test]
    fn text_commands_end_where_their_protocol_says() {
        let mut log = CommandLog::default();
        let mut input = TextInput::default();
        assert_eq!(input.feed(b"A\r\nB\rC", line_cr_or_lf, &mut log), [b"A".to_vec(), b"B".into()]);
        assert_eq!(input.feed(b"\n", line_cr_or_lf, &mut log), [b"C".to_vec()]);
        assert_eq!(input.feed(b"x\ry\n", line_lf, &mut log), [b"x\ry".to_vec()]);
        assert_eq!(log.list(), ["A", "B", "C", "x\ry"]);
    }
}
