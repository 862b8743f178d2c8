//! An emulated RACE RESULT decoder for the emulator's wires: passings numbered from 1 in each
//! file (a numbering run is a new file), pushed as `#P;` records after `SETPUSHPASSINGS;1`, and
//! the text commands answered — protocol, operation, clock, `PASSINGS` and `<from>:<count>`
//! fetches of the current file.

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};

use crate::ReplayKey;
use crate::emulator::shared::{self, CommandLog, ReadLog, ReaderClock, Stored, TextInput};
use crate::emulator::{DeviceOptions, EmittedRead, Emulation, Outgoing, Rng};

/// The emulated decoder's box id.
const BOX_ID: &str = "D-50123";
/// Its first file (each numbering run is a new file).
const FIRST_FILE: u32 = 1;

/// One emulated RACE RESULT decoder.
#[derive(Debug)]
pub(crate) struct RaceResultEmulation {
    clock: ReaderClock,
    reads: ReadLog,
    /// Pushing passings (after `SETPUSHPASSINGS;1`).
    sending: bool,
    input: TextInput,
    commands: CommandLog,
}

/// The file of a numbering run.
fn file(run: u32) -> u32 {
    FIRST_FILE.saturating_add(run)
}

impl RaceResultEmulation {
    pub(crate) fn new(options: &DeviceOptions) -> Self {
        RaceResultEmulation {
            clock: ReaderClock::new(options, TimeDelta::milliseconds(1)),
            reads: ReadLog::default(),
            // Waits for push mode.
            sending: false,
            input: TextInput::default(),
            commands: CommandLog::default(),
        }
    }

    /// The passing record of a stored read: pushed (`#P;`) or, `again`, fetched.
    fn encode(&self, stored: &Stored, again: bool) -> Vec<u8> {
        let local = self.clock.local(stored.at);
        let record = format!(
            "{};{};{};;5;1C;;0;1;1;0;;;;;Finish;{};1;{BOX_ID}",
            stored.seq,
            stored.read.chip,
            local.format("%Y-%m-%d;%H:%M:%S%.3f"),
            file(stored.run),
        );
        if again { format!("{record}\r\n") } else { format!("#P;{record}\r\n") }.into_bytes()
    }

    fn on_command(&mut self, command: &[u8], now: DateTime<Utc>) -> Vec<Outgoing> {
        let text = String::from_utf8_lossy(command).into_owned();
        let reply = |s: String| vec![Outgoing::Reply(s.into_bytes())];
        let fields: Vec<&str> = text.trim().split(';').collect();
        let local = self.clock.local_now(now);
        match fields.as_slice() {
            ["GETPROTOCOL"] => reply("GETPROTOCOL;2.0;1.0;2.0\r\n".into()),
            ["SETPROTOCOL", version] => reply(format!("SETPROTOCOL;{version}\r\n")),
            ["STARTOPERATION"] => {
                reply(format!("STARTOPERATION;OK;{}\r\n", local.format("%Y-%m-%d;%H:%M:%S%.3f")))
            }
            ["STOPOPERATION"] => {
                self.sending = false;
                reply("STOPOPERATION;OK\r\n".into())
            }
            ["GETTIME"] => reply(format!("GETTIME;{}\r\n", local.format("%Y-%m-%d;%H:%M:%S%.3f"))),
            ["SETTIME", date, time] => {
                let at = NaiveDateTime::parse_from_str(
                    &format!("{date} {time}"),
                    "%Y-%m-%d %H:%M:%S%.f",
                );
                if let Ok(at) = at {
                    self.clock.set(at, now);
                }
                reply("SETTIME;OK\r\n".into())
            }
            ["PASSINGS"] => {
                reply(format!("PASSINGS;{};{}\r\n", self.reads.numbered(), file(self.reads.run())))
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
                let run = self.reads.run();
                let mut bytes = Vec::new();
                for stored in self
                    .reads
                    .iter()
                    .filter(|s| s.run == run && s.seq >= from && s.seq < from.saturating_add(count))
                {
                    bytes.extend(self.encode(stored, true));
                }
                bytes.extend_from_slice(b"\r\n");
                vec![Outgoing::Reply(bytes)]
            }
            _ => reply(format!("{};ERROR\r\n", fields.first().copied().unwrap_or(""))),
        }
    }
}

impl Emulation for RaceResultEmulation {
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
        self.input
            .feed(bytes, shared::line_cr_or_lf, &mut self.commands)
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
        let chip = chip.unwrap_or_else(|| format!("RR{n:05}"));
        let key = ReplayKey::RaceResult {
            box_id: BOX_ID.into(),
            file: Some(file(self.reads.run())),
            passing: seq,
            at: None,
        };
        let live = linked && self.sending;
        let read = shared::emitted(chip, Some(at), Some(key), live);
        let stored = self.reads.remember(&read, seq, at);
        let frame = if live { self.encode(&stored, false) } else { Vec::new() };
        (read, frame)
    }

    /// A new file: passing numbers from 1.
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
        shared::garbage_line(rng, b"\r\n")
    }

    fn corrupt(&self, _frame: &[u8]) -> Vec<u8> {
        b"#P;x;RR00000;2025-06-14;10:00:00.000\r\n".to_vec()
    }

    fn sample(&mut self, reads: usize, seed: u64) -> Vec<u8> {
        let mut device = RaceResultEmulation::new(&DeviceOptions::utc());
        device.sending = true;
        shared::sample(&mut device, reads, seed, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Protocol;
    use crate::emulator::shared::checks::{self, start};

    fn pushing(skew: TimeDelta) -> RaceResultEmulation {
        let mut device = RaceResultEmulation::new(&DeviceOptions { skew, ..DeviceOptions::utc() });
        device.sending = true;
        device
    }

    #[test]
    fn garbage_and_damaged_frames_spare_their_neighbours() {
        checks::garbage_and_damaged_frames_spare_their_neighbours(
            Protocol::RaceResult,
            &mut pushing(TimeDelta::zero()),
            None,
            false,
        );
    }

    #[test]
    fn a_numbering_restart_reuses_numbers_with_new_keys() {
        let mut device = pushing(TimeDelta::zero());
        checks::a_numbering_restart_reuses_numbers_with_new_keys(
            Protocol::RaceResult,
            &mut device,
            None,
        );
        assert_eq!(device.reads.iter().map(|s| s.seq).collect::<Vec<_>>(), [1, 2, 3, 1, 2, 3]);
    }

    #[test]
    fn the_skew_moves_the_reader_clock() {
        let skew = TimeDelta::seconds(-30);
        checks::the_skew_moves_the_reader_clock(Protocol::RaceResult, &mut pushing(skew), skew);
    }

    #[test]
    fn a_numbering_restart_is_a_new_file() {
        let mut rr = RaceResultEmulation::new(&DeviceOptions::utc());
        rr.make_read(start(), None, false);
        rr.restart_numbering();
        let (read, _) = rr.make_read(start(), None, false);
        assert_eq!(read.replay_key.as_deref(), Some("raceresult:D-50123:2:1"), "a new file");
        assert_eq!(
            rr.on_input(b"PASSINGS\r\n", start()),
            vec![Outgoing::Reply(b"PASSINGS;1;2\r\n".to_vec())]
        );
    }
}
