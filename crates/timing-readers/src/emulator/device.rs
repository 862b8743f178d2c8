//! The insides of an emulated reader, independent of the wire it hangs on: its clock (host time
//! plus a skew, in its own zone), its memory of every read it made (for rewinds), its numbering
//! run (restarted with [`Device::restart_numbering`]), the tags waiting in its field (polled
//! readers), how it encodes reads, and how it answers commands.
//!
//! Everything here is synchronous and takes the host time as an argument, so the same model
//! produces [`sample_stream`](super::sample_stream) and drives the live emulators.

use std::collections::VecDeque;

use chrono::{
    DateTime, Datelike as _, DurationRound as _, NaiveDate, NaiveDateTime, SecondsFormat,
    TimeDelta, Timelike as _, Utc,
};

use super::EmittedRead;
use super::emulation::{DeviceOptions, Emulation};
use crate::ReaderZone;
use crate::registry::Builtin;
use crate::supervisor::{local_to_utc, utc_to_local};
use crate::text::hex_upper;
use crate::{ControlMessage, Decoded, Decoder, Protocol, ReplayKey, chafon, ipico, r2000, timy};

/// Reads an emulated reader remembers.
const MEMORY: usize = 100_000;
/// Commands remembered for [`EmulatorStats`](super::EmulatorStats).
const COMMAND_LOG: usize = 64;
/// Longest pending command text.
const INPUT_LIMIT: usize = 4096;
/// Tags per Chafon inventory reply frame.
const CHAFON_TAGS_PER_FRAME: usize = 16;
/// RACE RESULT box id and first file of the emulated decoder (each numbering run is a new file).
pub(crate) const RR_BOX: &str = "D-50123";
const RR_FILE: u32 = 1;

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

/// What the device puts on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outgoing {
    /// A frame that carries reads: fault injection applies to it.
    Frame(Vec<u8>),
    /// Anything else (replies, keepalives, rewound reads): sent as is.
    Reply(Vec<u8>),
}

/// One read in the device's memory.
#[derive(Debug, Clone)]
struct Stored {
    read: EmittedRead,
    /// Log id / passing number / impulse number, counted from 1 in each numbering run.
    seq: u64,
    /// The numbering run it was made in (0 = the first).
    run: u32,
    /// Reader time, UTC (already cut to the protocol's resolution).
    at: DateTime<Utc>,
}

/// An emulated reader.
#[derive(Debug)]
pub(crate) struct Device {
    pub(crate) protocol: Protocol,
    kind: Builtin,
    skew: TimeDelta,
    /// The zone the reader's clock shows.
    zone: ReaderZone,
    /// Reads made over the device's life (generated chips are unique by it).
    made: u64,
    /// Reads made in the current numbering run.
    seq: u64,
    /// The current numbering run (CloudBox session / file, Ultra log, RACE RESULT file − 1).
    run: u32,
    memory: VecDeque<Stored>,
    field: VecDeque<Stored>,
    /// Reading (Ultra `R`), started (CloudBox `START`), pushing (RACE RESULT push mode).
    pub(crate) sending: bool,
    timy_checksum: bool,
    text_input: Vec<u8>,
    frame_input: Option<Box<dyn Decoder>>,
    /// IPICO Elite: a `replay_start` waiting for a connection on the replay port.
    pub(crate) pending_replay: Option<Option<NaiveDateTime>>,
    pub(crate) commands: VecDeque<String>,
}

impl Device {
    pub(crate) fn new(protocol: Protocol, kind: Builtin, options: &DeviceOptions) -> Self {
        let DeviceOptions { skew, utc_offset, zone, timy_checksum } = *options;
        let zone = zone.unwrap_or(ReaderZone::Fixed(utc_offset));
        let frame_input: Option<Box<dyn Decoder>> = match kind {
            Builtin::Ipico => Some(Box::new(ipico::IpicoDecoder::new())),
            Builtin::R2000 => Some(Box::new(r2000::R2000Decoder::new())),
            Builtin::Chafon => Some(Box::new(chafon::ChafonDecoder::new())),
            _ => None,
        };
        Device {
            protocol,
            kind,
            skew,
            zone,
            made: 0,
            seq: 0,
            run: 0,
            memory: VecDeque::new(),
            field: VecDeque::new(),
            // Ultra waits for `R`, CloudBox for `START`, RACE RESULT for push mode; the others
            // send whatever they see.
            sending: !matches!(kind, Builtin::Ultra | Builtin::CloudBox | Builtin::RaceResult),
            timy_checksum,
            text_input: Vec::new(),
            frame_input,
            pending_replay: None,
            commands: VecDeque::new(),
        }
    }

    /// Starts numbering again (CloudBox: a new session / file, passing numbers from 1; Ultra: a
    /// new log, ids from 1; RACE RESULT: a new file; Timy: impulse numbers from 1). Readers that
    /// number nothing (IPICO, R2000, Chafon, lines) carry on as before. The memory keeps the
    /// earlier runs (rewinds by time reach them; Ultra by log id and RACE RESULT by passing
    /// number cover the current run).
    pub(crate) fn restart_numbering(&mut self) {
        self.run = self.run.saturating_add(1);
        self.seq = 0;
    }

    /// The RACE RESULT file of a run.
    fn rr_file(run: u32) -> u32 {
        RR_FILE.saturating_add(run)
    }

    fn polled(&self) -> bool {
        matches!(self.kind, Builtin::R2000 | Builtin::Chafon)
    }

    /// The reader's clock now (UTC), cut to the protocol's resolution.
    fn reader_now(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let resolution = match self.kind {
            Builtin::Ipico => TimeDelta::milliseconds(10),
            Builtin::Timy => TimeDelta::microseconds(100),
            _ => TimeDelta::milliseconds(1),
        };
        let at = now + self.skew;
        at.duration_trunc(resolution).unwrap_or(at)
    }

    fn local(&self, at: DateTime<Utc>) -> NaiveDateTime {
        utc_to_local(at, self.zone)
    }

    /// Sets the reader clock to `local` (its own zone).
    fn set_clock(&mut self, local: NaiveDateTime, now: DateTime<Utc>) {
        if let Some(at) = local_to_utc(local, self.zone) {
            self.skew = at - now;
        }
    }

    fn log_command(&mut self, bytes: &[u8]) {
        if self.commands.len() >= COMMAND_LOG {
            self.commands.pop_front();
        }
        self.commands.push_back(crate::text::shown(bytes).trim().to_string());
    }

    /// The reader sees a chip (`None` = a generated one) at host time `now`. `linked`: the link
    /// is up. Returns the read and what to send now.
    pub(crate) fn make_read(
        &mut self,
        now: DateTime<Utc>,
        chip: Option<String>,
        linked: bool,
    ) -> (EmittedRead, Vec<u8>) {
        self.made += 1;
        self.seq += 1;
        let n = self.made;
        let seq = self.seq;
        let at = self.reader_now(now);
        let local = self.local(at);
        let epc = || {
            let mut bytes = vec![0xE2, 0x80, 0x11, 0x70];
            bytes.extend_from_slice(&n.to_be_bytes());
            hex_upper(&bytes)
        };
        let (chip, key) = match self.kind {
            Builtin::Ipico => {
                let tag = chip.unwrap_or_else(|| format!("0580{n:08x}"));
                let key = ReplayKey::Ipico {
                    reader_id: 1,
                    tag: tag.clone(),
                    at: local,
                    first_seen: None,
                };
                (tag, Some(key))
            }
            Builtin::Ultra => (
                chip.unwrap_or_else(|| (4_000_000 + n).to_string()),
                Some(ReplayKey::Ultra { ultra_id: 1, reader: 1, log_id: seq, at: Some(local) }),
            ),
            Builtin::RaceResult => (
                chip.unwrap_or_else(|| format!("RR{n:05}")),
                Some(ReplayKey::RaceResult {
                    box_id: RR_BOX.into(),
                    file: Some(Self::rr_file(self.run)),
                    passing: seq,
                    at: None,
                }),
            ),
            Builtin::CloudBox => (
                chip.unwrap_or_else(epc),
                Some(ReplayKey::CloudBox { passing_number: seq, at: Some(at) }),
            ),
            Builtin::Timy => {
                let number = u32::try_from(seq).unwrap_or(u32::MAX);
                let channel = timy::TimyChannel { number: 1, manual: false };
                (String::new(), Some(ReplayKey::Timy { number, channel, time: local.time() }))
            }
            Builtin::R2000 | Builtin::Chafon => (chip.unwrap_or_else(epc), None),
            Builtin::Lines => (chip.unwrap_or_else(|| (1000 + n).to_string()), None),
        };
        let live = linked && (self.polled() || self.sending);
        let read = EmittedRead {
            chip,
            reader_time_utc: self.protocol.carries_time().then_some(at),
            replay_key: key.map(|k| k.to_string()),
            live,
            connections: 0,
        };
        let stored = Stored { read: read.clone(), seq, run: self.run, at };
        let frame = if live && !self.polled() { self.encode(&stored, false) } else { Vec::new() };
        if live && self.polled() {
            self.field.push_back(stored.clone());
        }
        if self.memory.len() >= MEMORY {
            self.memory.pop_front();
        }
        self.memory.push_back(stored);
        (read, frame)
    }

    /// The bytes of one stored read; `again`: re-sent from memory (rewind, replay, `RSM`).
    fn encode(&self, stored: &Stored, again: bool) -> Vec<u8> {
        let local = self.local(stored.at);
        let chip = &stored.read.chip;
        match self.kind {
            Builtin::Ipico => {
                let hundredths = local.nanosecond() / 10_000_000;
                let body = format!("01{chip}0201{}{hundredths:02x}", local.format("%y%m%d%H%M%S"));
                format!("aa{body}{:02x}\r\n", ipico::lrc(body.as_bytes())).into_bytes()
            }
            Builtin::Ultra => {
                let secs = crate::ultra::seconds_since_epoch(local);
                let ms = local.nanosecond() / 1_000_000;
                let rewind = u8::from(again);
                format!(
                    "0,{chip},{secs},{ms},1,-61,{rewind},1,1,0000000000000000,0,{}\n",
                    stored.seq
                )
                .into_bytes()
            }
            Builtin::RaceResult => {
                let record = format!(
                    "{};{chip};{};;5;1C;;0;1;1;0;;;;;Finish;{};1;{RR_BOX}",
                    stored.seq,
                    local.format("%Y-%m-%d;%H:%M:%S%.3f"),
                    Self::rr_file(stored.run),
                );
                if again { format!("{record}\r\n") } else { format!("#P;{record}\r\n") }.into_bytes()
            }
            Builtin::CloudBox => format!(
                r#"{{"epc":"{chip}","timestamp":"{}","seenCount":3,"antenna":1,"rssi":-61,"passingNumber":{},"tagStr":"{}"}}"#,
                stored.at.to_rfc3339_opts(SecondsFormat::Millis, true),
                stored.seq,
                stored.seq,
            )
            .into_bytes()
            .into_iter()
            .chain(*b"\n")
            .collect(),
            Builtin::Timy => {
                let flag = if again { 'm' } else { ' ' };
                let frac = local.nanosecond() / 100_000;
                let line = format!(
                    "{flag}{:04} c1  {:02}:{:02}:{:02}.{frac:04} 00",
                    stored.seq,
                    local.hour(),
                    local.minute(),
                    local.second()
                );
                let mut bytes = line.into_bytes();
                if self.timy_checksum {
                    let sum = timy::checksum(&bytes);
                    bytes.extend_from_slice(&sum);
                }
                bytes.push(b'\r');
                bytes
            }
            Builtin::Lines => format!("{chip}\r\n").into_bytes(),
            Builtin::R2000 => {
                let mut data = vec![0x1C, 0x30, 0x00];
                data.extend(crate::text::hex_bytes(chip.as_bytes()).unwrap_or_default());
                data.push(0x48);
                r2000::command::frame(0x01, 0x89, &data)
            }
            Builtin::Chafon => chafon_reply(&[stored], 0x01),
        }
    }

    /// What the reader sends right after a connection is made.
    pub(crate) fn greeting(&self) -> Vec<u8> {
        match self.kind {
            Builtin::Ultra => b"Connected,00:16:25:10:2F:3A\n".to_vec(),
            _ => Vec::new(),
        }
    }

    /// The keepalive line, for protocols that have one.
    pub(crate) fn keepalive(&self) -> Option<Vec<u8>> {
        (self.kind == Builtin::Ultra).then(|| b"V=24.9\n".to_vec())
    }

    /// Bytes the decoder must reject without damaging the frames around them.
    pub(crate) fn garbage(&self, rng: &mut Rng) -> Vec<u8> {
        let len = 1 + rng.below(6);
        match self.kind {
            // No 0xA0: nothing that could start a frame.
            Builtin::R2000 => (0..len)
                .map(|_| 0xB0 | pick(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], rng))
                .collect(),
            // Lengths below 4 are never a frame.
            Builtin::Chafon => (0..len).map(|_| pick(&[0, 1, 2, 3], rng)).collect(),
            Builtin::CloudBox => (0..len).map(|_| pick(b"xyz!?#", rng)).collect(),
            _ => {
                // A line of control characters (never CR, LF or Ultra's 0x03).
                let mut line: Vec<u8> =
                    (0..len).map(|_| pick(&[0x01, 0x02, 0x04, 0x7F], rng)).collect();
                line.extend_from_slice(match self.kind {
                    Builtin::Timy => b"\r",
                    Builtin::Ultra => b"\n",
                    _ => b"\r\n",
                });
                line
            }
        }
    }

    /// A damaged copy of `frame` that the decoder rejects: a wrong checksum where the protocol has
    /// one, else a malformed field.
    pub(crate) fn corrupt(&self, frame: &[u8]) -> Vec<u8> {
        let mut bad = frame.to_vec();
        let text_end = bad.iter().rposition(|b| *b != b'\r' && *b != b'\n').map_or(0, |i| i + 1);
        match self.kind {
            Builtin::Ipico => {
                // The LRC's last digit, shifted to another hex digit.
                if let Some(b) = text_end.checked_sub(1).and_then(|i| bad.get_mut(i)) {
                    *b = if *b == b'0' { b'1' } else { b'0' };
                }
            }
            Builtin::R2000 | Builtin::Chafon => {
                if let Some(b) = bad.last_mut() {
                    *b ^= 0x5A;
                }
            }
            Builtin::Timy if self.timy_checksum => {
                if let Some(b) = text_end.checked_sub(1).and_then(|i| bad.get_mut(i)) {
                    *b = if *b == b'0' { b'1' } else { b'0' };
                }
            }
            Builtin::CloudBox => return br#"{"epc":"E2","timestamp":}"#.to_vec(),
            Builtin::Ultra => {
                return b"0,4000000,notanumber,0,1,-61,0,1,1,0000000000000000,0,1\n".to_vec();
            }
            Builtin::RaceResult => return b"#P;x;RR00000;2025-06-14;10:00:00.000\r\n".to_vec(),
            Builtin::Timy => return b" 0001 c1  xx:yy:zz.0000 00\r".to_vec(),
            Builtin::Lines => return b"\x01bad\x02\r\n".to_vec(),
        }
        bad
    }

    /// Bytes from the host: commands. Returns what to send back.
    pub(crate) fn on_input(&mut self, bytes: &[u8], now: DateTime<Utc>) -> Vec<Outgoing> {
        let mut replies = Vec::new();
        if let Some(mut decoder) = self.frame_input.take() {
            let mut items = Vec::new();
            decoder.feed(bytes, &mut items);
            self.frame_input = Some(decoder);
            for item in items {
                self.log_command(item.raw());
                if let Decoded::Control(control) = item {
                    replies.extend(self.on_frame_command(&control.message, now));
                }
            }
            return replies;
        }
        self.text_input.extend_from_slice(bytes);
        if self.text_input.len() > INPUT_LIMIT {
            self.text_input.clear();
        }
        while let Some((command, used)) = self.next_text_command() {
            self.text_input.drain(..used.min(self.text_input.len()));
            self.log_command(&command);
            replies.extend(self.on_text_command(&command, now));
        }
        replies
    }

    /// The next complete text command in the input and how many bytes it used.
    fn next_text_command(&self) -> Option<(Vec<u8>, usize)> {
        let input = &self.text_input;
        // Ultra's RFIDServer-style rewind: `8 00 00 <start> CR <end> CR`.
        if self.kind == Builtin::Ultra && input.starts_with(&[b'8', 0, 0]) {
            let first = input.iter().skip(3).position(|b| *b == b'\r')? + 3;
            let second = input.iter().skip(first + 1).position(|b| *b == b'\r')? + first + 1;
            return Some((input.get(..=second)?.to_vec(), second + 1));
        }
        let end = match self.kind {
            // Ultra commands end with LF (a rewind carries a CR inside).
            Builtin::Ultra => input.iter().position(|b| *b == b'\n')?,
            _ => input.iter().position(|b| *b == b'\n' || *b == b'\r')?,
        };
        let command = input.get(..end)?.to_vec();
        let mut used = end + 1;
        if input.get(end) == Some(&b'\r') && input.get(end + 1) == Some(&b'\n') {
            used += 1;
        }
        Some((command, used))
    }

    fn on_frame_command(&mut self, message: &ControlMessage, now: DateTime<Utc>) -> Vec<Outgoing> {
        match (self.kind, message) {
            (Builtin::Ipico, ControlMessage::Ipico(ipico::IpicoControl::Frame(frame))) => {
                match frame.instruction {
                    ipico::command::GET_RTC => {
                        let local = self.local(self.reader_now(now));
                        let bcd =
                            |v: u32| u8::try_from(((v / 10 % 10) << 4) | (v % 10)).unwrap_or(0);
                        let payload = [
                            bcd(u32::try_from(local.year().rem_euclid(100)).unwrap_or(0)),
                            bcd(local.month()),
                            bcd(local.day()),
                            bcd(local.weekday().num_days_from_sunday()),
                            bcd(local.hour()),
                            bcd(local.minute()),
                            bcd(local.second()),
                            u8::try_from(local.nanosecond() / 10_000_000).unwrap_or(0),
                            0x00,
                        ];
                        vec![Outgoing::Reply(ipico::command::control_frame(
                            0,
                            ipico::command::GET_RTC,
                            &payload,
                        ))]
                    }
                    ipico::command::SET_RTC => {
                        let p = &frame.payload;
                        let bcd = |i: usize| {
                            p.get(i).map(|b| u32::from(b >> 4) * 10 + u32::from(b & 0x0f))
                        };
                        let set = (|| {
                            NaiveDate::from_ymd_opt(
                                2000 + i32::try_from(bcd(0)?).ok()?,
                                bcd(1)?,
                                bcd(2)?,
                            )?
                            .and_hms_opt(bcd(4)?, bcd(5)?, bcd(6)?)
                        })();
                        if let Some(local) = set {
                            self.set_clock(local, now);
                        }
                        vec![Outgoing::Reply(ipico::command::control_frame(
                            0,
                            ipico::command::SET_RTC,
                            &[],
                        ))]
                    }
                    _ => Vec::new(),
                }
            }
            (Builtin::R2000, ControlMessage::R2000(control)) => {
                let command = match control {
                    r2000::R2000Control::Status { command, .. }
                    | r2000::R2000Control::Frame { command, .. } => *command,
                    r2000::R2000Control::EndOfRound { command, .. } => *command,
                };
                match command {
                    0x89..=0x8B => {
                        let tags: Vec<Stored> = self.field.drain(..).collect();
                        let mut out: Vec<Outgoing> =
                            tags.iter().map(|t| Outgoing::Frame(self.encode(t, false))).collect();
                        let total = u32::try_from(tags.len()).unwrap_or(u32::MAX).to_be_bytes();
                        let mut end = vec![0x00, 0x00, 0x2A];
                        end.extend_from_slice(&total);
                        out.push(Outgoing::Reply(r2000::command::frame(0x01, command, &end)));
                        out
                    }
                    0x72 => vec![Outgoing::Reply(r2000::command::frame(0x01, 0x72, &[0x08, 0x01]))],
                    other => vec![Outgoing::Reply(r2000::command::frame(0x01, other, &[0x10]))],
                }
            }
            (
                Builtin::Chafon,
                ControlMessage::Chafon(chafon::ChafonControl::Frame { command, .. }),
            ) => match *command {
                chafon::CMD_INVENTORY | chafon::CMD_SINGLE_TAG_INVENTORY => {
                    let tags: Vec<Stored> = self.field.drain(..).collect();
                    if tags.is_empty() {
                        return vec![Outgoing::Reply(chafon::command::frame(
                            0x00,
                            *command,
                            &[chafon::STATUS_NO_TAG],
                        ))];
                    }
                    let chunks: Vec<&[Stored]> = tags.chunks(CHAFON_TAGS_PER_FRAME).collect();
                    let last = chunks.len().saturating_sub(1);
                    chunks
                        .iter()
                        .enumerate()
                        .map(|(i, chunk)| {
                            let refs: Vec<&Stored> = chunk.iter().collect();
                            Outgoing::Frame(chafon_reply(
                                &refs,
                                if i == last { 0x01 } else { 0x03 },
                            ))
                        })
                        .collect()
                }
                chafon::command::code::GET_READER_INFO => {
                    vec![Outgoing::Reply(chafon::command::frame(
                        0x00,
                        *command,
                        &[0x00, 0x03, 0x01, 0x09, 0x03, 0x4E, 0x00, 0x1E, 0x0A],
                    ))]
                }
                other => vec![Outgoing::Reply(chafon::command::frame(0x00, other, &[0x00]))],
            },
            _ => Vec::new(),
        }
    }

    fn on_text_command(&mut self, command: &[u8], now: DateTime<Utc>) -> Vec<Outgoing> {
        let text = String::from_utf8_lossy(command).into_owned();
        let reply = |s: String| vec![Outgoing::Reply(s.into_bytes())];
        match self.kind {
            Builtin::Ultra => self.ultra_command(command, &text, now),
            Builtin::RaceResult => {
                let fields: Vec<&str> = text.trim().split(';').collect();
                let local = self.local(self.reader_now(now));
                match fields.as_slice() {
                    ["GETPROTOCOL"] => reply("GETPROTOCOL;2.0;1.0;2.0\r\n".into()),
                    ["SETPROTOCOL", version] => reply(format!("SETPROTOCOL;{version}\r\n")),
                    ["STARTOPERATION"] => reply(format!(
                        "STARTOPERATION;OK;{}\r\n",
                        local.format("%Y-%m-%d;%H:%M:%S%.3f")
                    )),
                    ["STOPOPERATION"] => {
                        self.sending = false;
                        reply("STOPOPERATION;OK\r\n".into())
                    }
                    ["GETTIME"] => {
                        reply(format!("GETTIME;{}\r\n", local.format("%Y-%m-%d;%H:%M:%S%.3f")))
                    }
                    ["SETTIME", date, time] => {
                        let at = NaiveDateTime::parse_from_str(
                            &format!("{date} {time}"),
                            "%Y-%m-%d %H:%M:%S%.f",
                        );
                        if let Ok(at) = at {
                            self.set_clock(at, now);
                        }
                        reply("SETTIME;OK\r\n".into())
                    }
                    ["PASSINGS"] => {
                        reply(format!("PASSINGS;{};{}\r\n", self.seq, Self::rr_file(self.run)))
                    }
                    ["SETPUSHPASSINGS", on, ..] => {
                        self.sending = *on == "1";
                        reply("SETPUSHPASSINGS;OK\r\n".into())
                    }
                    ["GETSTATUS"] => reply("GETSTATUS;OK\r\n".into()),
                    [range] if range.contains(':') => {
                        let (from, count) = range.split_once(':').unwrap_or(("", ""));
                        let (from, count) =
                            (from.parse::<u64>().unwrap_or(0), count.parse::<u64>().unwrap_or(0));
                        let mut bytes = Vec::new();
                        for stored in self.memory.iter().filter(|s| {
                            s.run == self.run && s.seq >= from && s.seq < from.saturating_add(count)
                        }) {
                            bytes.extend(self.encode(stored, true));
                        }
                        bytes.extend_from_slice(b"\r\n");
                        vec![Outgoing::Reply(bytes)]
                    }
                    _ => reply(format!("{};ERROR\r\n", fields.first().copied().unwrap_or(""))),
                }
            }
            Builtin::CloudBox => {
                let fields: Vec<&str> = text.trim().split(';').collect();
                let result = |command: &str, result: String| {
                    vec![Outgoing::Reply(
                        format!(r#"{{"command":"{command}","result":{result}}}"#).into_bytes(),
                    )]
                };
                match fields.as_slice() {
                    ["START"] => {
                        self.sending = true;
                        result("START", r#"{"status":"ok"}"#.into())
                    }
                    ["STOP"] => {
                        self.sending = false;
                        result("STOP", r#"{"status":"ok"}"#.into())
                    }
                    ["GETSYSTEMTIME"] => result(
                        "GETSYSTEMTIME",
                        format!(
                            r#"{{"time":"{}"}}"#,
                            self.reader_now(now).to_rfc3339_opts(SecondsFormat::Millis, true)
                        ),
                    ),
                    ["REWIND", from, to] => {
                        let parse = |t: &str| {
                            DateTime::parse_from_rfc3339(t).ok().map(|t| t.with_timezone(&Utc))
                        };
                        let (Some(from), Some(to)) = (parse(from), parse(to)) else {
                            return result("REWIND", r#"{"error":"bad range"}"#.into());
                        };
                        let mut out = Vec::new();
                        for stored in self.memory.iter().filter(|s| s.at >= from && s.at <= to) {
                            out.push(Outgoing::Reply(self.encode(stored, true)));
                        }
                        out.extend(result("REWIND", format!(r#"{{"count":{}}}"#, out.len())));
                        out
                    }
                    [other, ..] => result(other, r#"{"error":"unknown command"}"#.into()),
                    [] => Vec::new(),
                }
            }
            Builtin::Timy => match text.trim() {
                "RSM" => {
                    let bytes: Vec<u8> =
                        self.memory.iter().flat_map(|s| self.encode(s, true)).collect();
                    vec![Outgoing::Reply(bytes)]
                }
                "NSF?" => reply("NSF 1.0.7\r".into()),
                "PROG?" => reply("PROG: CLOCK\r".into()),
                "CHK1" => {
                    self.timy_checksum = true;
                    Vec::new()
                }
                "CLR" => {
                    self.memory.clear();
                    reply("CLR\r".into())
                }
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    fn ultra_command(&mut self, command: &[u8], text: &str, now: DateTime<Utc>) -> Vec<Outgoing> {
        let reply = |s: String| vec![Outgoing::Reply(s.into_bytes())];
        let numbers = |rest: &[u8]| -> Option<(u64, u64)> {
            let rest = String::from_utf8_lossy(rest);
            let mut parts = rest.split('\r').map(str::trim).filter(|p| !p.is_empty());
            Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
        };
        let resend = |device: &Device, keep: &dyn Fn(&Stored) -> bool| {
            let bytes: Vec<u8> = device
                .memory
                .iter()
                .filter(|s| keep(s))
                .flat_map(|s| device.encode(s, true))
                .collect();
            vec![Outgoing::Reply(bytes)]
        };
        let by_time = |device: &Device, (from, to): (u64, u64)| {
            let secs = |s: &Stored| {
                u64::try_from(crate::ultra::seconds_since_epoch(device.local(s.at))).unwrap_or(0)
            };
            resend(device, &|s| (from..=to).contains(&secs(s)))
        };
        if let Some(rest) = command.strip_prefix(&[b'8', 0, 0]) {
            return numbers(rest).map(|range| by_time(self, range)).unwrap_or_default();
        }
        let text = text.trim_end_matches('\r');
        match text.trim() {
            "R" => {
                self.sending = true;
                Vec::new()
            }
            "S" => {
                self.sending = false;
                Vec::new()
            }
            "?" => reply(format!("S={}\n", u8::from(self.sending))),
            "r" => reply(format!(
                "{} (1)\n",
                self.local(self.reader_now(now)).format("%H:%M:%S %d-%m-%Y")
            )),
            other => {
                if let Some(rest) = other.strip_prefix("t ") {
                    if let Ok(at) = NaiveDateTime::parse_from_str(rest.trim(), "%H:%M:%S %d-%m-%Y")
                    {
                        self.set_clock(at, now);
                    }
                    Vec::new()
                } else if let Some(rest) = command.strip_prefix(b"600") {
                    numbers(rest)
                        .map(|(from, to)| {
                            let run = self.run;
                            resend(self, &|s| s.run == run && (from..=to).contains(&s.seq))
                        })
                        .unwrap_or_default()
                } else if let Some(rest) = command.strip_prefix(b"800") {
                    numbers(rest).map(|range| by_time(self, range)).unwrap_or_default()
                } else {
                    Vec::new()
                }
            }
        }
    }

    /// IPICO Elite control port: one text line in, maybe a reply out.
    pub(crate) fn elite_control(&mut self, line: &[u8], now: DateTime<Utc>) -> Option<Vec<u8>> {
        self.log_command(line);
        let text = String::from_utf8_lossy(line).trim().to_string();
        if text == "getdate" {
            let local = self.local(self.reader_now(now));
            return Some(
                format!("date.{}\n", local.format("%a %b %e %H:%M:%S UTC %Y")).into_bytes(),
            );
        }
        if let Some(rest) = text.strip_prefix("setdate.") {
            if let Ok(at) = NaiveDateTime::parse_from_str(rest, "%y%m%d%H:%M:%S") {
                self.set_clock(at, now);
            }
            return None;
        }
        if text.starts_with("replay_start") {
            let from = text
                .split_whitespace()
                .find_map(|w| w.strip_prefix("datetime."))
                .and_then(|d| NaiveDateTime::parse_from_str(d, "%y%m%d%H%M%S").ok());
            self.pending_replay = Some(from);
        }
        None
    }

    /// IPICO Elite replay port: the stored reads from `from` (reader-local) on.
    pub(crate) fn elite_replay(&self, from: Option<NaiveDateTime>) -> Vec<u8> {
        self.memory
            .iter()
            .filter(|s| from.is_none_or(|from| self.local(s.at) >= from))
            .flat_map(|s| self.encode(s, true))
            .collect()
    }
}

/// One of `choices`, at random (0 when empty).
fn pick(choices: &[u8], rng: &mut Rng) -> u8 {
    let n = u64::try_from(choices.len()).unwrap_or(0);
    usize::try_from(rng.below(n)).ok().and_then(|i| choices.get(i)).copied().unwrap_or(0)
}

/// A Chafon UHFReader18 inventory reply listing `tags` with `status`.
fn chafon_reply(tags: &[&Stored], status: u8) -> Vec<u8> {
    let mut data = vec![status, u8::try_from(tags.len()).unwrap_or(u8::MAX)];
    for tag in tags {
        let epc = crate::text::hex_bytes(tag.read.chip.as_bytes()).unwrap_or_default();
        data.push(u8::try_from(epc.len()).unwrap_or(u8::MAX));
        data.extend_from_slice(&epc);
    }
    chafon::command::frame(0x00, chafon::CMD_INVENTORY, &data)
}

/// A realistic valid byte stream of `reads` reads (see [`super::sample_stream`]).
fn sample(protocol: Protocol, kind: Builtin, reads: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let options = DeviceOptions {
        skew: TimeDelta::zero(),
        utc_offset: chrono::Offset::fix(&Utc),
        zone: None,
        timy_checksum: false,
    };
    let mut device = Device::new(protocol, kind, &options);
    device.sending = true;
    let mut now = DateTime::parse_from_rfc3339("2025-06-14T09:30:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default();
    let mut out = Vec::new();
    let mut pending_round = 0usize;
    for i in 0..reads {
        now += TimeDelta::milliseconds(5 + i64::try_from(rng.below(200)).unwrap_or(0));
        let (_, frame) = device.make_read(now, None, true);
        match kind {
            Builtin::R2000 | Builtin::Chafon => {
                pending_round += 1;
                if pending_round > usize::try_from(rng.below(6)).unwrap_or(0) || i + 1 == reads {
                    pending_round = 0;
                    let poll = match kind {
                        Builtin::R2000 => r2000::command::real_time_inventory(0xFF, 1),
                        _ => chafon::command::inventory(0xFF),
                    };
                    for reply in device.on_input(&poll, now) {
                        match reply {
                            Outgoing::Frame(bytes) | Outgoing::Reply(bytes) => out.extend(bytes),
                        }
                    }
                }
            }
            _ => out.extend(frame),
        }
        if kind == Builtin::Ultra && i % 20 == 19 {
            out.extend(device.keepalive().unwrap_or_default());
        }
    }
    out
}

/// The trait over the inherent methods above (which the tests call directly).
impl Emulation for Device {
    fn greeting(&mut self, _now: DateTime<Utc>) -> Vec<u8> {
        Device::greeting(self)
    }

    fn has_keepalive(&self) -> bool {
        Device::keepalive(self).is_some()
    }

    fn keepalive(&mut self, _now: DateTime<Utc>) -> Option<Vec<u8>> {
        Device::keepalive(self)
    }

    fn on_input(&mut self, bytes: &[u8], now: DateTime<Utc>) -> Vec<Outgoing> {
        Device::on_input(self, bytes, now)
    }

    fn make_read(
        &mut self,
        now: DateTime<Utc>,
        chip: Option<String>,
        linked: bool,
    ) -> (EmittedRead, Vec<u8>) {
        Device::make_read(self, now, chip, linked)
    }

    fn restart_numbering(&mut self) {
        Device::restart_numbering(self);
    }

    fn commands(&self) -> Vec<String> {
        self.commands.iter().cloned().collect()
    }

    fn sending(&self) -> bool {
        self.sending
    }

    fn garbage(&self, rng: &mut Rng) -> Vec<u8> {
        Device::garbage(self, rng)
    }

    fn corrupt(&self, frame: &[u8]) -> Vec<u8> {
        Device::corrupt(self, frame)
    }

    fn sample(&mut self, reads: usize, seed: u64) -> Vec<u8> {
        sample(self.protocol, self.kind, reads, seed)
    }

    fn elite_control(&mut self, line: &[u8], now: DateTime<Utc>) -> Option<Vec<u8>> {
        Device::elite_control(self, line, now)
    }

    fn take_pending_replay(&mut self) -> Option<Option<NaiveDateTime>> {
        self.pending_replay.take()
    }

    fn elite_replay(&self, from: Option<NaiveDateTime>) -> Vec<u8> {
        Device::elite_replay(self, from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{RejectReason, decode_all};
    use chrono::FixedOffset;
    use chrono::Offset as _;

    /// A device of `protocol`; `None` for protocols with an emulation of their own.
    fn make(
        protocol: Protocol,
        skew: TimeDelta,
        utc_offset: FixedOffset,
        checksum: bool,
    ) -> Option<Device> {
        let kind = match protocol {
            Protocol::Ipico => Builtin::Ipico,
            Protocol::Ultra => Builtin::Ultra,
            Protocol::R2000 => Builtin::R2000,
            Protocol::Chafon => Builtin::Chafon,
            Protocol::Timy => Builtin::Timy,
            Protocol::RaceResult => Builtin::RaceResult,
            Protocol::CloudBox => Builtin::CloudBox,
            Protocol::Lines => Builtin::Lines,
            Protocol::Llrp => return None,
        };
        Some(Device::new(
            protocol,
            kind,
            &DeviceOptions { skew, utc_offset, zone: None, timy_checksum: checksum },
        ))
    }

    fn start() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2025-06-14T09:30:00Z").unwrap().with_timezone(&Utc)
    }

    fn identity(read: &crate::TagRead) -> String {
        read.replay_key.as_ref().map_or_else(|| read.chip.clone(), ToString::to_string)
    }

    #[test]
    fn garbage_and_damaged_frames_spare_their_neighbours() {
        for protocol in Protocol::ALL {
            let checksums = protocol == Protocol::Timy;
            let Some(mut device) = make(protocol, TimeDelta::zero(), Utc.fix(), checksums) else {
                continue;
            };
            device.sending = true;
            let mut rng = Rng::new(3);
            let mut stream = Vec::new();
            let mut expected = Vec::new();
            for i in 0..6 {
                let (read, frame) =
                    device.make_read(start() + TimeDelta::milliseconds(i * 20), None, true);
                let frame = if frame.is_empty() {
                    device.encode(device.memory.back().unwrap(), false)
                } else {
                    frame
                };
                stream.extend(device.garbage(&mut rng));
                stream.extend(device.corrupt(&frame));
                stream.extend_from_slice(&frame);
                expected.push(read.identity());
            }
            let decoded = decode_all(protocol.decoder().as_mut(), &stream);
            let got: Vec<String> =
                decoded.iter().filter_map(Decoded::as_read).map(identity).collect();
            assert_eq!(got, expected, "{protocol}");
            let rejected: Vec<&RejectReason> = decoded
                .iter()
                .filter_map(|d| match d {
                    Decoded::Rejected(r) => Some(&r.reason),
                    _ => None,
                })
                .collect();
            assert!(rejected.len() >= 6, "{protocol}: {rejected:?}");
            if matches!(protocol, Protocol::Ipico | Protocol::Timy) {
                let bad = rejected.iter().filter(|r| r.kind() == "bad_checksum").count();
                assert_eq!(bad, 6, "{protocol}: {rejected:?}");
            }
        }
    }

    #[test]
    fn the_reader_clock_follows_skew_zone_and_set_commands() {
        let plus2 = FixedOffset::east_opt(7200).unwrap();
        let mut device = make(Protocol::Ultra, TimeDelta::seconds(3), plus2, false).unwrap();
        let (read, _) = device.make_read(start(), None, false);
        assert_eq!(read.reader_time_utc, Some(start() + TimeDelta::seconds(3)));
        assert!(!read.live);
        device.on_input(b"t 11:30:00 14-06-2025\n", start());
        let (read, _) = device.make_read(start(), None, false);
        assert_eq!(read.reader_time_utc, Some(start()), "set to 11:30 local = 09:30 UTC");
        let reply = device.on_input(b"r\n", start());
        assert_eq!(reply, vec![Outgoing::Reply(b"11:30:00 14-06-2025 (1)\n".to_vec())]);
    }

    /// Decodes `frame` (or, for polled readers, the stored read's frame) into its one read.
    fn decode_one(device: &Device, frame: Vec<u8>) -> crate::TagRead {
        let frame = if frame.is_empty() {
            device.encode(device.memory.back().unwrap(), false)
        } else {
            frame
        };
        let decoded = decode_all(device.protocol.decoder().as_mut(), &frame);
        decoded.iter().find_map(Decoded::as_read).cloned().unwrap()
    }

    #[test]
    fn a_numbering_restart_reuses_numbers_with_new_keys() {
        for protocol in Protocol::ALL {
            let Some(mut device) = make(protocol, TimeDelta::zero(), Utc.fix(), false) else {
                continue;
            };
            device.sending = true;
            let mut identities = Vec::new();
            for i in 0..6 {
                if i == 3 {
                    device.restart_numbering();
                }
                let now = start() + TimeDelta::milliseconds(i * 40);
                let (read, frame) = device.make_read(now, None, true);
                let decoded = decode_one(&device, frame);
                assert_eq!(
                    identity(&decoded),
                    read.identity(),
                    "{protocol}: emitted = decoded key"
                );
                identities.push(read.identity());
            }
            let distinct: std::collections::BTreeSet<_> = identities.iter().collect();
            assert_eq!(distinct.len(), 6, "{protocol}: {identities:?}");
            if matches!(protocol, Protocol::Ultra | Protocol::CloudBox | Protocol::RaceResult) {
                assert_eq!(
                    device.memory.iter().map(|s| s.seq).collect::<Vec<_>>(),
                    [1, 2, 3, 1, 2, 3]
                );
            }
        }
    }

    #[test]
    fn rewinds_by_number_cover_the_current_run_and_by_time_all() {
        let mut device = make(Protocol::Ultra, TimeDelta::zero(), Utc.fix(), false).unwrap();
        for i in 0..4 {
            if i == 2 {
                device.restart_numbering();
            }
            device.make_read(start() + TimeDelta::seconds(i), None, false);
        }
        let lines = |out: Vec<Outgoing>| -> usize {
            out.iter()
                .map(|o| match o {
                    Outgoing::Reply(b) | Outgoing::Frame(b) => {
                        b.iter().filter(|b| **b == b'\n').count()
                    }
                })
                .sum()
        };
        assert_eq!(lines(device.on_input(b"6001\r9\n", start())), 2, "log ids of the current log");
        let from = crate::ultra::seconds_since_epoch(device.local(start()));
        let by_time = format!("800{from}\r{}\n", from + 10);
        assert_eq!(lines(device.on_input(by_time.as_bytes(), start())), 4, "every stored read");

        let mut rr = make(Protocol::RaceResult, TimeDelta::zero(), Utc.fix(), false).unwrap();
        rr.make_read(start(), None, false);
        rr.restart_numbering();
        let (read, _) = rr.make_read(start(), None, false);
        assert_eq!(read.replay_key.as_deref(), Some("raceresult:D-50123:2:1"), "a new file");
        assert_eq!(
            rr.on_input(b"PASSINGS\r\n", start()),
            vec![Outgoing::Reply(b"PASSINGS;1;2\r\n".to_vec())]
        );
    }

    #[test]
    fn the_skew_moves_every_reader_clock() {
        let skew = TimeDelta::seconds(-30);
        for protocol in Protocol::ALL.into_iter().filter(|p| p.carries_time()) {
            let Some(mut device) = make(protocol, skew, Utc.fix(), false) else { continue };
            device.sending = true;
            let (read, frame) = device.make_read(start(), None, true);
            assert_eq!(read.reader_time_utc, Some(start() + skew), "{protocol}");
            let decoded = decode_one(&device, frame);
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

    #[test]
    fn rng_is_reproducible() {
        let (mut a, mut b) = (Rng::new(9), Rng::new(9));
        assert!((0..100).all(|_| a.next_u64() == b.next_u64()));
        assert_eq!(Rng::new(1).below(0), 0);
    }
}
