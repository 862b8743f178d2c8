//! An emulated RUFUS CloudBox for the emulator's wires: after `START` one JSON object per
//! passing, numbered from 1 in each session (a numbering run), with its UTC timestamp; `STOP`,
//! `GETSYSTEMTIME` and `REWIND;<from>;<to>` (stored passings by time) answered as
//! `{"command":…,"result":…}`.

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};

use crate::ReplayKey;
use crate::emulator::shared::{self, CommandLog, ReadLog, ReaderClock, Stored, TextInput};
use crate::emulator::{DeviceOptions, EmittedRead, Emulation, Outgoing, Rng};

/// One emulated CloudBox.
#[derive(Debug)]
pub(crate) struct CloudBoxEmulation {
    clock: ReaderClock,
    reads: ReadLog,
    /// Started (after `START`).
    sending: bool,
    input: TextInput,
    commands: CommandLog,
}

impl CloudBoxEmulation {
    pub(crate) fn new(options: &DeviceOptions) -> Self {
        CloudBoxEmulation {
            clock: ReaderClock::new(options, TimeDelta::milliseconds(1)),
            reads: ReadLog::default(),
            // Waits for `START`.
            sending: false,
            input: TextInput::default(),
            commands: CommandLog::default(),
        }
    }

    fn on_command(&mut self, command: &[u8], now: DateTime<Utc>) -> Vec<Outgoing> {
        let text = String::from_utf8_lossy(command).into_owned();
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
                    self.clock.now(now).to_rfc3339_opts(SecondsFormat::Millis, true)
                ),
            ),
            ["REWIND", from, to] => {
                let parse =
                    |t: &str| DateTime::parse_from_rfc3339(t).ok().map(|t| t.with_timezone(&Utc));
                let (Some(from), Some(to)) = (parse(from), parse(to)) else {
                    return result("REWIND", r#"{"error":"bad range"}"#.into());
                };
                let mut out = Vec::new();
                for stored in self.reads.iter().filter(|s| s.at >= from && s.at <= to) {
                    out.push(Outgoing::Reply(passing(stored)));
                }
                out.extend(result("REWIND", format!(r#"{{"count":{}}}"#, out.len())));
                out
            }
            [other, ..] => result(other, r#"{"error":"unknown command"}"#.into()),
            [] => Vec::new(),
        }
    }
}

/// The JSON object of a stored passing, with a newline (pushed and rewound alike).
fn passing(stored: &Stored) -> Vec<u8> {
    format!(
        r#"{{"epc":"{}","timestamp":"{}","seenCount":3,"antenna":1,"rssi":-61,"passingNumber":{},"tagStr":"{}"}}"#,
        stored.read.chip,
        stored.at.to_rfc3339_opts(SecondsFormat::Millis, true),
        stored.seq,
        stored.seq,
    )
    .into_bytes()
    .into_iter()
    .chain(*b"\n")
    .collect()
}

impl Emulation for CloudBoxEmulation {
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
        let chip = chip.unwrap_or_else(|| shared::generated_epc(n));
        let key = ReplayKey::CloudBox { passing_number: seq, at: Some(at) };
        let live = linked && self.sending;
        let read = shared::emitted(chip, Some(at), Some(key), live);
        let stored = self.reads.remember(&read, seq, at);
        let frame = if live { passing(&stored) } else { Vec::new() };
        (read, frame)
    }

    /// A new session / file: passing numbers from 1.
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
        shared::garbage(rng, b"xyz!?#")
    }

    fn corrupt(&self, _frame: &[u8]) -> Vec<u8> {
        br#"{"epc":"E2","timestamp":}"#.to_vec()
    }

    fn sample(&mut self, reads: usize, seed: u64) -> Vec<u8> {
        let mut device = CloudBoxEmulation::new(&DeviceOptions::utc());
        device.sending = true;
        shared::sample(&mut device, reads, seed, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Protocol;
    use crate::emulator::shared::checks;

    fn started(skew: TimeDelta) -> CloudBoxEmulation {
        let mut device = CloudBoxEmulation::new(&DeviceOptions { skew, ..DeviceOptions::utc() });
        device.sending = true;
        device
    }

    #[test]
    fn garbage_and_damaged_frames_spare_their_neighbours() {
        checks::garbage_and_damaged_frames_spare_their_neighbours(
            Protocol::CloudBox,
            &mut started(TimeDelta::zero()),
            None,
            false,
        );
    }

    #[test]
    fn a_numbering_restart_reuses_numbers_with_new_keys() {
        let mut device = started(TimeDelta::zero());
        checks::a_numbering_restart_reuses_numbers_with_new_keys(
            Protocol::CloudBox,
            &mut device,
            None,
        );
        assert_eq!(device.reads.iter().map(|s| s.seq).collect::<Vec<_>>(), [1, 2, 3, 1, 2, 3]);
    }

    #[test]
    fn the_skew_moves_the_reader_clock() {
        let skew = TimeDelta::seconds(-30);
        checks::the_skew_moves_the_reader_clock(Protocol::CloudBox, &mut started(skew), skew);
    }
}
