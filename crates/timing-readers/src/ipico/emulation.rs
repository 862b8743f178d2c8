//! An emulated IPICO Lite / Elite reader for the emulator's wires: `aa` tag reports with the
//! reader's local time in hundredths, the `ab` RTC get/set frames answered, and on an Elite the
//! control port's `getdate` / `setdate.` / `replay_start` with the replay port sending the stored
//! reads.

use chrono::{DateTime, Datelike as _, NaiveDate, NaiveDateTime, TimeDelta, Timelike as _, Utc};

use super::{IpicoControl, IpicoDecoder, command, lrc};
use crate::emulator::shared::{self, CommandLog, ReadLog, ReaderClock, Stored};
use crate::emulator::{DeviceOptions, EmittedRead, Emulation, Outgoing, Rng};
use crate::{ControlMessage, ReplayKey};

/// One emulated IPICO reader.
#[derive(Debug)]
pub(crate) struct IpicoEmulation {
    clock: ReaderClock,
    reads: ReadLog,
    /// The host's `ab` frames.
    input: IpicoDecoder,
    commands: CommandLog,
    /// Elite: a `replay_start` waiting for a connection on the replay port.
    pending_replay: Option<Option<NaiveDateTime>>,
}

impl IpicoEmulation {
    pub(crate) fn new(options: &DeviceOptions) -> Self {
        IpicoEmulation {
            clock: ReaderClock::new(options, TimeDelta::milliseconds(10)),
            reads: ReadLog::default(),
            input: IpicoDecoder::new(),
            commands: CommandLog::default(),
            pending_replay: None,
        }
    }

    /// The tag report of a stored read.
    fn encode(&self, stored: &Stored) -> Vec<u8> {
        tag_report(&stored.read.chip, self.clock.local(stored.at))
    }

    fn on_command(&mut self, message: &ControlMessage, now: DateTime<Utc>) -> Vec<Outgoing> {
        let ControlMessage::Ipico(IpicoControl::Frame(frame)) = message else {
            return Vec::new();
        };
        match frame.instruction {
            command::GET_RTC => {
                let local = self.clock.local_now(now);
                let bcd = |v: u32| u8::try_from(((v / 10 % 10) << 4) | (v % 10)).unwrap_or(0);
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
                vec![Outgoing::Reply(command::control_frame(0, command::GET_RTC, &payload))]
            }
            command::SET_RTC => {
                let p = &frame.payload;
                let bcd = |i: usize| p.get(i).map(|b| u32::from(b >> 4) * 10 + u32::from(b & 0x0f));
                let set = (|| {
                    NaiveDate::from_ymd_opt(2000 + i32::try_from(bcd(0)?).ok()?, bcd(1)?, bcd(2)?)?
                        .and_hms_opt(bcd(4)?, bcd(5)?, bcd(6)?)
                })();
                if let Some(local) = set {
                    self.clock.set(local, now);
                }
                vec![Outgoing::Reply(command::control_frame(0, command::SET_RTC, &[]))]
            }
            _ => Vec::new(),
        }
    }
}

/// An `aa` tag report: reader 01, `tag`, antenna 02, flags 01, the reader's local time with
/// hundredths, the LRC.
fn tag_report(tag: &str, local: NaiveDateTime) -> Vec<u8> {
    let hundredths = local.nanosecond() / 10_000_000;
    let body = format!("01{tag}0201{}{hundredths:02x}", local.format("%y%m%d%H%M%S"));
    format!("aa{body}{:02x}\r\n", lrc(body.as_bytes())).into_bytes()
}

impl Emulation for IpicoEmulation {
    fn greeting(&mut self, _now: DateTime<Utc>) -> Vec<u8> {
        Vec::new()
    }

    fn has_keepalive(&self) -> bool {
        false
    }

    fn keepalive(&mut self, _now: DateTime<Utc>) -> Option<Vec<u8>> {
        None
    }

    fn on_input(&mut self, bytes: &[u8], now: DateTime<Utc>) -> Vec<Outgoing> {
        shared::decode_commands(&mut self.input, bytes, &mut self.commands)
            .iter()
            .flat_map(|message| self.on_command(message, now))
            .collect()
    }

    fn make_read(
        &mut self,
        now: DateTime<Utc>,
        chip: Option<String>,
        linked: bool,
    ) -> (EmittedRead, Vec<u8>) {
        let (n, seq) = self.reads.count();
        let at = self.clock.now(now);
        let tag = chip.unwrap_or_else(|| format!("0580{n:08x}"));
        let key = ReplayKey::Ipico {
            reader_id: 1,
            tag: tag.clone(),
            at: self.clock.local(at),
            first_seen: None,
        };
        let read = shared::emitted(tag, Some(at), Some(key), linked);
        let stored = self.reads.remember(&read, seq, at);
        let frame = if linked { self.encode(&stored) } else { Vec::new() };
        (read, frame)
    }

    fn restart_numbering(&mut self) {
        // IPICO numbers nothing: only the (unused) run changes.
        self.reads.restart_numbering();
    }

    fn commands(&self) -> Vec<String> {
        self.commands.list()
    }

    fn sending(&self) -> bool {
        true
    }

    fn garbage(&self, rng: &mut Rng) -> Vec<u8> {
        shared::garbage_line(rng, b"\r\n")
    }

    fn corrupt(&self, frame: &[u8]) -> Vec<u8> {
        // The LRC's last digit, shifted to another hex digit.
        shared::last_digit_changed(frame)
    }

    fn sample(&mut self, reads: usize, seed: u64) -> Vec<u8> {
        shared::sample(&mut IpicoEmulation::new(&DeviceOptions::utc()), reads, seed, None)
    }

    fn elite_control(&mut self, line: &[u8], now: DateTime<Utc>) -> Option<Vec<u8>> {
        self.commands.log(line);
        let text = String::from_utf8_lossy(line).trim().to_string();
        if text == "getdate" {
            let local = self.clock.local_now(now);
            return Some(
                format!("date.{}\n", local.format("%a %b %e %H:%M:%S UTC %Y")).into_bytes(),
            );
        }
        if let Some(rest) = text.strip_prefix("setdate.") {
            if let Ok(at) = NaiveDateTime::parse_from_str(rest, "%y%m%d%H:%M:%S") {
                self.clock.set(at, now);
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

    fn take_pending_replay(&mut self) -> Option<Option<NaiveDateTime>> {
        self.pending_replay.take()
    }

    fn elite_replay(&self, from: Option<NaiveDateTime>) -> Vec<u8> {
        self.reads
            .iter()
            .filter(|s| from.is_none_or(|from| self.clock.local(s.at) >= from))
            .flat_map(|s| self.encode(s))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Protocol;
    use crate::emulator::shared::checks;

    fn options(skew: TimeDelta) -> DeviceOptions {
        DeviceOptions { skew, ..DeviceOptions::utc() }
    }

    #[test]
    fn garbage_and_damaged_frames_spare_their_neighbours() {
        let mut device = IpicoEmulation::new(&options(TimeDelta::zero()));
        checks::garbage_and_damaged_frames_spare_their_neighbours(
            Protocol::Ipico,
            &mut device,
            None,
            true,
        );
    }

    #[test]
    fn a_numbering_restart_changes_no_key() {
        let mut device = IpicoEmulation::new(&options(TimeDelta::zero()));
        checks::a_numbering_restart_reuses_numbers_with_new_keys(
            Protocol::Ipico,
            &mut device,
            None,
        );
    }

    #[test]
    fn the_skew_moves_the_reader_clock() {
        let skew = TimeDelta::seconds(-30);
        let mut device = IpicoEmulation::new(&options(skew));
        checks::the_skew_moves_the_reader_clock(Protocol::Ipico, &mut device, skew);
    }
}
