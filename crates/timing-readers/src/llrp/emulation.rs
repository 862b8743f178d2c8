//! An emulated LLRP reader (Impinj / Zebra-like) for the emulator's loopback TCP wire: the
//! pure [`LlrpReader`] model answers the console, reads become RO_ACCESS_REPORTs while a ROSpec
//! runs, and reads made while no client listens are held and sent after the next
//! ENABLE_EVENTS_AND_REPORTS when the console asked the reader to hold them (`hold=1`).

use std::collections::VecDeque;

use chrono::{DateTime, TimeDelta, Utc};

use super::model::{LlrpReader, ModelRead, ReaderModelConfig};
use super::{command, message_type as mt};
use crate::emulator::{DeviceOptions, EmittedRead, Emulation, Outgoing, Rng};
use crate::{ReplayKey, text};

/// Commands remembered for the emulator's stats.
const COMMAND_LOG: usize = 64;
/// Reads held for a client that is away, at most (a real reader's report buffer).
const HELD: usize = 100_000;

/// One emulated LLRP reader, kept across connections.
#[derive(Debug)]
pub(crate) struct LlrpEmulation {
    model: LlrpReader,
    skew: TimeDelta,
    made: u64,
    next_id: u32,
    held: VecDeque<ModelRead>,
    commands: VecDeque<String>,
}

impl LlrpEmulation {
    pub(crate) fn new(options: &DeviceOptions) -> Self {
        LlrpEmulation {
            model: LlrpReader::new(ReaderModelConfig::default()),
            skew: options.skew,
            made: 0,
            next_id: 1,
            held: VecDeque::new(),
            commands: VecDeque::new(),
        }
    }

    fn id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        id
    }

    /// The reader clock at host time `now`, in µs since the epoch (LLRP's resolution).
    fn reader_us(&self, now: DateTime<Utc>) -> u64 {
        let at = now + self.skew;
        u64::try_from(at.timestamp_micros()).unwrap_or(0)
    }

    /// Held reads, reported once the console is listening again.
    fn flush_held(&mut self) -> Vec<u8> {
        if self.held.is_empty() || !self.model.is_reporting() {
            return Vec::new();
        }
        let reads: Vec<ModelRead> = self.held.drain(..).collect();
        let id = self.id();
        self.model.tag_report(&reads, id)
    }

    fn log_commands(&mut self, bytes: &[u8]) {
        // Whole messages only are named; a split one is named by its first piece.
        let mut rest = bytes;
        while let [_, low, _, _, _, _, ..] = rest {
            let kind = u16::from_be_bytes([rest.first().map_or(0, |b| b & 0x03), *low]);
            if self.commands.len() >= COMMAND_LOG {
                self.commands.pop_front();
            }
            self.commands.push_back(command_name(kind).to_owned());
            let len = rest.get(2..6).and_then(|b| b.try_into().ok()).map_or(0, u32::from_be_bytes);
            let len = usize::try_from(len).unwrap_or(usize::MAX);
            if len < 10 {
                break;
            }
            rest = rest.get(len..).unwrap_or_default();
        }
    }
}

fn command_name(kind: u16) -> &'static str {
    match kind {
        mt::SET_READER_CONFIG => "SET_READER_CONFIG",
        mt::GET_READER_CONFIG => "GET_READER_CONFIG",
        mt::ADD_ROSPEC => "ADD_ROSPEC",
        mt::DELETE_ROSPEC => "DELETE_ROSPEC",
        mt::ENABLE_ROSPEC => "ENABLE_ROSPEC",
        mt::DISABLE_ROSPEC => "DISABLE_ROSPEC",
        mt::START_ROSPEC => "START_ROSPEC",
        mt::STOP_ROSPEC => "STOP_ROSPEC",
        mt::DELETE_ACCESSSPEC => "DELETE_ACCESSSPEC",
        mt::ENABLE_EVENTS_AND_REPORTS => "ENABLE_EVENTS_AND_REPORTS",
        mt::KEEPALIVE_ACK => "KEEPALIVE_ACK",
        mt::CLOSE_CONNECTION => "CLOSE_CONNECTION",
        _ => "other",
    }
}

impl Emulation for LlrpEmulation {
    fn greeting(&mut self, now: DateTime<Utc>) -> Vec<u8> {
        self.model.disconnect();
        self.model.connect(self.reader_us(now))
    }

    fn disconnected(&mut self) {
        self.model.disconnect();
    }

    fn has_keepalive(&self) -> bool {
        true
    }

    fn keepalive(&mut self, _now: DateTime<Utc>) -> Option<Vec<u8>> {
        self.model.keepalive_ms()?;
        let id = self.id();
        Some(self.model.keepalive(id)).filter(|k| !k.is_empty())
    }

    fn on_input(&mut self, bytes: &[u8], _now: DateTime<Utc>) -> Vec<Outgoing> {
        self.log_commands(bytes);
        let mut out = vec![Outgoing::Reply(self.model.feed(bytes))];
        let held = self.flush_held();
        if !held.is_empty() {
            out.push(Outgoing::Frame(held));
        }
        out
    }

    fn make_read(
        &mut self,
        now: DateTime<Utc>,
        chip: Option<String>,
        linked: bool,
    ) -> (EmittedRead, Vec<u8>) {
        self.made += 1;
        let epc = match chip.as_deref().and_then(|c| text::hex_bytes(c.as_bytes())) {
            Some(bytes) if !bytes.is_empty() => bytes,
            _ => {
                let mut bytes = vec![0xE2, 0x80, 0x11, 0x70];
                bytes.extend_from_slice(&self.made.to_be_bytes());
                bytes
            }
        };
        let first_seen_us = self.reader_us(now);
        let antenna = 1;
        let read = ModelRead { epc, antenna, peak_rssi: -58, first_seen_us, seen_count: 1 };
        let chip = text::hex_upper(&read.epc);
        let key = ReplayKey::Llrp { epc: chip.clone(), antenna, first_seen_us };
        let at = i64::try_from(first_seen_us).ok().and_then(DateTime::from_timestamp_micros);
        let live = linked && self.model.is_reporting();
        let frame = if live {
            let id = self.id();
            self.model.tag_report(std::slice::from_ref(&read), id)
        } else {
            if self.model.holds_reports() && self.held.len() < HELD {
                self.held.push_back(read);
            }
            Vec::new()
        };
        let emitted = EmittedRead {
            chip,
            reader_time_utc: at,
            replay_key: Some(key.to_string()),
            live,
            connections: 0,
        };
        (emitted, frame)
    }

    fn restart_numbering(&mut self) {} // LLRP numbers nothing

    fn commands(&self) -> Vec<String> {
        self.commands.iter().cloned().collect()
    }

    fn sending(&self) -> bool {
        self.model.is_reporting()
    }

    fn garbage(&self, rng: &mut Rng) -> Vec<u8> {
        // Bytes whose first three bits are set never start an LLRP header.
        let len = 1 + rng.below(8);
        (0..len).map(|_| 0xE0 | u8::try_from(rng.below(32)).unwrap_or(0)).collect()
    }

    fn corrupt(&self, frame: &[u8]) -> Vec<u8> {
        // An unknown TV type where the EPC-96 parameter starts: the whole report is rejected.
        let mut bad = frame.to_vec();
        if let Some(b) = bad.get_mut(14) {
            *b = 0xFF;
        }
        bad
    }

    fn sample(&mut self, reads: usize, seed: u64) -> Vec<u8> {
        let mut rng = Rng::new(seed);
        let mut model = LlrpReader::new(ReaderModelConfig::default());
        let mut out = model.connect(1_749_893_400_000_000);
        for request in [
            command::set_reader_config(1, &command::ReaderSettings::default()),
            command::add_rospec(2, 1, 1),
            command::enable_events_and_reports(3),
            command::enable_rospec(4, 1),
        ] {
            out.extend(model.feed(&request));
        }
        let mut us: u64 = 1_749_893_400_000_000;
        for i in 0..reads {
            us += 5_000 + rng.below(200_000);
            let mut epc = vec![0xE2, 0x80, 0x11, 0x70];
            epc.extend_from_slice(&(i as u64).to_be_bytes());
            let read = ModelRead {
                epc,
                antenna: 1 + u16::try_from(rng.below(4)).unwrap_or(0),
                peak_rssi: -40 - i8::try_from(rng.below(40)).unwrap_or(0),
                first_seen_us: us,
                seen_count: 1,
            };
            out.extend(model.tag_report(&[read], u32::try_from(i).unwrap_or(0)));
            if i % 50 == 49 {
                out.extend(model.keepalive(u32::try_from(i).unwrap_or(0)));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Decoded, Protocol, decode_all};

    fn options() -> DeviceOptions {
        DeviceOptions {
            skew: TimeDelta::milliseconds(-2_000),
            utc_offset: chrono::Offset::fix(&Utc),
            zone: None,
            timy_checksum: false,
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp_micros(1_749_893_415_450_123).unwrap_or_default()
    }

    /// The console's configuration, as the conversation sends it.
    fn configure(emu: &mut LlrpEmulation) -> Vec<u8> {
        let mut out = Vec::new();
        let settings =
            command::ReaderSettings { hold_events_and_reports: Some(true), ..Default::default() };
        for request in [
            command::set_reader_config(1, &settings),
            command::delete_rospec(2, 0),
            command::add_rospec(3, 1, 1),
            command::enable_events_and_reports(4),
            command::enable_rospec(5, 1),
        ] {
            for o in emu.on_input(&request, now()) {
                match o {
                    Outgoing::Reply(b) | Outgoing::Frame(b) => out.extend(b),
                }
            }
        }
        out
    }

    fn reads(bytes: &[u8]) -> Vec<String> {
        decode_all(Protocol::Llrp.decoder().as_mut(), bytes)
            .iter()
            .filter_map(Decoded::as_read)
            .filter_map(|r| r.replay_key.as_ref().map(ToString::to_string))
            .collect()
    }

    #[test]
    fn garbage_and_damaged_reports_spare_their_neighbours() {
        let mut emu = LlrpEmulation::new(&options());
        emu.greeting(now());
        configure(&mut emu);
        assert!(emu.sending());
        let mut rng = Rng::new(3);
        let (mut stream, mut expected) = (Vec::new(), Vec::new());
        for _ in 0..6 {
            let (read, frame) = emu.make_read(now(), None, true);
            assert!(read.live);
            stream.extend(emu.garbage(&mut rng));
            stream.extend(emu.corrupt(&frame));
            stream.extend(frame);
            expected.push(read.identity());
        }
        assert_eq!(reads(&stream), expected);
    }

    #[test]
    fn reads_made_while_away_come_after_the_next_configuration() {
        let mut emu = LlrpEmulation::new(&options());
        emu.greeting(now());
        configure(&mut emu);
        emu.disconnected();
        let away: Vec<EmittedRead> = (0..3).map(|_| emu.make_read(now(), None, false).0).collect();
        assert!(away.iter().all(|r| !r.live));
        let _event = emu.greeting(now());
        let after = configure(&mut emu);
        let keys: Vec<String> = away.iter().map(EmittedRead::identity).collect();
        assert_eq!(reads(&after), keys, "held reports, once, after ENABLE_EVENTS_AND_REPORTS");
        let at = away.first().and_then(|r| r.reader_time_utc);
        assert_eq!(at, Some(now() - TimeDelta::milliseconds(2_000)), "the reader's clock");
    }
}
