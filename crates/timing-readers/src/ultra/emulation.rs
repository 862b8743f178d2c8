//! An emulated RFID Timing Systems Ultra / Joey for the emulator's wires: a `Connected,` banner,
//! `V=` voltage keepalives, chip lines numbered by log id while reading (`R` / `S`), the clock
//! (`r`, `t`), and rewinds by log id (`600`) or time (`800`, and RFIDServer's `8 00 00`) that
//! re-send stored reads marked as rewound.

use chrono::{DateTime, NaiveDateTime, TimeDelta, Timelike as _, Utc};

use super::seconds_since_epoch;
use crate::ReplayKey;
use crate::emulator::shared::{self, CommandLog, ReadLog, ReaderClock, Stored, TextInput};
use crate::emulator::{DeviceOptions, EmittedRead, Emulation, Outgoing, Rng};

/// RFIDServer's rewind by time starts with these bytes and carries CRs inside.
const BINARY_REWIND: [u8; 3] = [b'8', 0, 0];

/// One emulated Ultra.
#[derive(Debug)]
pub(crate) struct UltraEmulation {
    clock: ReaderClock,
    reads: ReadLog,
    /// Reading (after `R`).
    sending: bool,
    input: TextInput,
    commands: CommandLog,
}

impl UltraEmulation {
    pub(crate) fn new(options: &DeviceOptions) -> Self {
        UltraEmulation {
            clock: ReaderClock::new(options, TimeDelta::milliseconds(1)),
            reads: ReadLog::default(),
            // Waits for `R`.
            sending: false,
            input: TextInput::default(),
            commands: CommandLog::default(),
        }
    }

    /// The chip line of a stored read; `again`: re-sent by a rewind.
    fn encode(&self, stored: &Stored, again: bool) -> Vec<u8> {
        let local = self.clock.local(stored.at);
        let secs = seconds_since_epoch(local);
        let ms = local.nanosecond() / 1_000_000;
        let rewind = u8::from(again);
        format!(
            "0,{},{secs},{ms},1,-61,{rewind},1,1,0000000000000000,0,{}\n",
            stored.read.chip, stored.seq
        )
        .into_bytes()
    }

    /// The stored reads `keep` picks, re-sent.
    fn resend(&self, keep: &dyn Fn(&Stored) -> bool) -> Vec<Outgoing> {
        let bytes: Vec<u8> =
            self.reads.iter().filter(|s| keep(s)).flat_map(|s| self.encode(s, true)).collect();
        vec![Outgoing::Reply(bytes)]
    }

    /// Re-sends the stored reads whose local time (seconds since 1980) is in `from..=to`.
    fn rewind_by_time(&self, (from, to): (u64, u64)) -> Vec<Outgoing> {
        let secs =
            |s: &Stored| u64::try_from(seconds_since_epoch(self.clock.local(s.at))).unwrap_or(0);
        self.resend(&|s| (from..=to).contains(&secs(s)))
    }

    fn on_command(&mut self, command: &[u8], now: DateTime<Utc>) -> Vec<Outgoing> {
        let text = String::from_utf8_lossy(command).into_owned();
        let reply = |s: String| vec![Outgoing::Reply(s.into_bytes())];
        let numbers = |rest: &[u8]| -> Option<(u64, u64)> {
            let rest = String::from_utf8_lossy(rest);
            let mut parts = rest.split('\r').map(str::trim).filter(|p| !p.is_empty());
            Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
        };
        if let Some(rest) = command.strip_prefix(&BINARY_REWIND) {
            return numbers(rest).map(|range| self.rewind_by_time(range)).unwrap_or_default();
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
            "r" => {
                reply(format!("{} (1)\n", self.clock.local_now(now).format("%H:%M:%S %d-%m-%Y")))
            }
            other => {
                if let Some(rest) = other.strip_prefix("t ") {
                    if let Ok(at) = NaiveDateTime::parse_from_str(rest.trim(), "%H:%M:%S %d-%m-%Y")
                    {
                        self.clock.set(at, now);
                    }
                    Vec::new()
                } else if let Some(rest) = command.strip_prefix(b"600") {
                    numbers(rest)
                        .map(|(from, to)| {
                            let run = self.reads.run();
                            self.resend(&|s| s.run == run && (from..=to).contains(&s.seq))
                        })
                        .unwrap_or_default()
                } else if let Some(rest) = command.strip_prefix(b"800") {
                    numbers(rest).map(|range| self.rewind_by_time(range)).unwrap_or_default()
                } else {
                    Vec::new()
                }
            }
        }
    }
}

/// The next command: LF ends one (a rewind carries a CR inside), and RFIDServer's rewind
/// `8 00 00 <start> CR <end> CR` ends at its second CR.
fn next_command(input: &[u8]) -> Option<(Vec<u8>, usize)> {
    if input.starts_with(&BINARY_REWIND) {
        let first = input.iter().skip(3).position(|b| *b == b'\r')? + 3;
        let second = input.iter().skip(first + 1).position(|b| *b == b'\r')? + first + 1;
        return Some((input.get(..=second)?.to_vec(), second + 1));
    }
    shared::line_lf(input)
}

impl Emulation for UltraEmulation {
    fn greeting(&mut self, _now: DateTime<Utc>) -> Vec<u8> {
        b"Connected,00:16:25:10:2F:3A\n".to_vec()
    }

    fn has_keepalive(&self) -> bool {
        true
    }

    fn keepalive(&mut self, _now: DateTime<Utc>) -> Option<Vec<u8>> {
        Some(b"V=24.9\n".to_vec())
    }

    fn on_input(&mut self, bytes: &[u8], now: DateTime<Utc>) -> Vec<Outgoing> {
        self.input
            .feed(bytes, next_command, &mut self.commands)
            .iter()
            .flat_map(|command| self.on_command(command, now))
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
        let chip = chip.unwrap_or_else(|| (4_000_000 + n).to_string());
        let key = ReplayKey::Ultra {
            ultra_id: 1,
            reader: 1,
            log_id: seq,
            at: Some(self.clock.local(at)),
        };
        let live = linked && self.sending;
        let read = shared::emitted(chip, Some(at), Some(key), live);
        let stored = self.reads.remember(&read, seq, at);
        let frame = if live { self.encode(&stored, false) } else { Vec::new() };
        (read, frame)
    }

    /// A new log, as after a reset: log ids from 1.
    fn restart_numbering(&mut self) {
        self.reads.restart_numbering();
    }

    fn commands(&self) -> Vec<String> {
        self.commands.list()
    }

    fn sending(&self) -> bool {
        self.sending
    }

    fn garbage(&self, rng: &mut Rng) -> Vec<u8> {
        shared::garbage_line(rng, b"\n")
    }

    fn corrupt(&self, _frame: &[u8]) -> Vec<u8> {
        b"0,4000000,notanumber,0,1,-61,0,1,1,0000000000000000,0,1\n".to_vec()
    }

    fn sample(&mut self, reads: usize, seed: u64) -> Vec<u8> {
        let mut device = UltraEmulation::new(&DeviceOptions::utc());
        device.sending = true;
        shared::sample(&mut device, reads, seed, None)
    }
}

#[cfg(test)]
mod tests {
    use chrono::FixedOffset;

    use super::*;
    use crate::Protocol;
    use crate::emulator::shared::checks::{self, start};

    fn options(skew: TimeDelta) -> DeviceOptions {
        DeviceOptions { skew, ..DeviceOptions::utc() }
    }

    fn reading(options: &DeviceOptions) -> UltraEmulation {
        let mut device = UltraEmulation::new(options);
        device.sending = true;
        device
    }

    #[test]
    fn garbage_and_damaged_frames_spare_their_neighbours() {
        let mut device = reading(&options(TimeDelta::zero()));
        checks::garbage_and_damaged_frames_spare_their_neighbours(
            Protocol::Ultra,
            &mut device,
            None,
            false,
        );
    }

    #[test]
    fn a_numbering_restart_reuses_numbers_with_new_keys() {
        let mut device = reading(&options(TimeDelta::zero()));
        checks::a_numbering_restart_reuses_numbers_with_new_keys(
            Protocol::Ultra,
            &mut device,
            None,
        );
        assert_eq!(device.reads.iter().map(|s| s.seq).collect::<Vec<_>>(), [1, 2, 3, 1, 2, 3]);
    }

    #[test]
    fn the_skew_moves_the_reader_clock() {
        let skew = TimeDelta::seconds(-30);
        checks::the_skew_moves_the_reader_clock(
            Protocol::Ultra,
            &mut reading(&options(skew)),
            skew,
        );
    }

    #[test]
    fn the_reader_clock_follows_skew_zone_and_set_commands() {
        let plus2 = FixedOffset::east_opt(7200).unwrap();
        let options = DeviceOptions { utc_offset: plus2, ..options(TimeDelta::seconds(3)) };
        let mut device = UltraEmulation::new(&options);
        let (read, _) = device.make_read(start(), None, false);
        assert_eq!(read.reader_time_utc, Some(start() + TimeDelta::seconds(3)));
        assert!(!read.live);
        device.on_input(b"t 11:30:00 14-06-2025\n", start());
        let (read, _) = device.make_read(start(), None, false);
        assert_eq!(read.reader_time_utc, Some(start()), "set to 11:30 local = 09:30 UTC");
        let reply = device.on_input(b"r\n", start());
        assert_eq!(reply, vec![Outgoing::Reply(b"11:30:00 14-06-2025 (1)\n".to_vec())]);
    }

    #[test]
    fn rewinds_by_log_id_cover_the_current_log_and_by_time_all() {
        let mut device = UltraEmulation::new(&options(TimeDelta::zero()));
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
        let from = seconds_since_epoch(device.clock.local(start()));
        let by_time = format!("800{from}\r{}\n", from + 10);
        assert_eq!(lines(device.on_input(by_time.as_bytes(), start())), 4, "every stored read");
    }
}
