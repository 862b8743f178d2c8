//! An emulated ALGE Timy for the emulator's wires: one CR-ended impulse line on channel c1 per
//! read, numbered from 1 in each numbering run, at its time of day in ten-thousandths, with the
//! checksum after `CHK1` (or from the options); `RSM` re-sends the memory flagged `m`, `CLR`
//! clears it, `NSF?` / `PROG?` are answered.

use chrono::{DateTime, TimeDelta, Timelike as _, Utc};

use super::{TimyChannel, checksum};
use crate::ReplayKey;
use crate::emulator::shared::{self, CommandLog, ReadLog, ReaderClock, Stored, TextInput};
use crate::emulator::{DeviceOptions, EmittedRead, Emulation, Outgoing, Rng};

/// One emulated Timy.
#[derive(Debug)]
pub(crate) struct TimyEmulation {
    clock: ReaderClock,
    reads: ReadLog,
    /// Checksums on impulse lines.
    checksum: bool,
    input: TextInput,
    commands: CommandLog,
}

impl TimyEmulation {
    pub(crate) fn new(options: &DeviceOptions) -> Self {
        TimyEmulation {
            clock: ReaderClock::new(options, TimeDelta::microseconds(100)),
            reads: ReadLog::default(),
            checksum: options.timy_checksum,
            input: TextInput::default(),
            commands: CommandLog::default(),
        }
    }

    /// The impulse line of a stored read; `again`: re-sent from memory (`RSM`).
    fn encode(&self, stored: &Stored, again: bool) -> Vec<u8> {
        let local = self.clock.local(stored.at);
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
        if self.checksum {
            let sum = checksum(&bytes);
            bytes.extend_from_slice(&sum);
        }
        bytes.push(b'\r');
        bytes
    }

    fn on_command(&mut self, command: &[u8]) -> Vec<Outgoing> {
        let text = String::from_utf8_lossy(command).into_owned();
        let reply = |s: &str| vec![Outgoing::Reply(s.as_bytes().to_vec())];
        match text.trim() {
            "RSM" => {
                let bytes: Vec<u8> = self.reads.iter().flat_map(|s| self.encode(s, true)).collect();
                vec![Outgoing::Reply(bytes)]
            }
            "NSF?" => reply("NSF 1.0.7\r"),
            "PROG?" => reply("PROG: CLOCK\r"),
            "CHK1" => {
                self.checksum = true;
                Vec::new()
            }
            "CLR" => {
                self.reads.clear();
                reply("CLR\r")
            }
            _ => Vec::new(),
        }
    }
}

impl Emulation for TimyEmulation {
    fn greeting(&mut self, _now: DateTime<Utc>) -> Vec<u8> {
        Vec::new()
    }

    fn has_keepalive(&self) -> bool {
        false
    }

    fn keepalive(&mut self, _now: DateTime<Utc>) -> Option<Vec<u8>> {
        None
    }

    fn on_input(&mut self, bytes: &[u8], _now: DateTime<Utc>) -> Vec<Outgoing> {
        self.input
            .feed(bytes, shared::line_cr_or_lf, &mut self.commands)
            .iter()
            .flat_map(|command| self.on_command(command))
            .collect()
    }

    /// An impulse: the timer has no chip, so `chip` is not used.
    fn make_read(
        &mut self,
        now: DateTime<Utc>,
        _chip: Option<String>,
        linked: bool,
    ) -> (EmittedRead, Vec<u8>) {
        let (_, seq) = self.reads.count();
        let at = self.clock.now(now);
        let number = u32::try_from(seq).unwrap_or(u32::MAX);
        let channel = TimyChannel { number: 1, manual: false };
        let key = ReplayKey::Timy { number, channel, time: self.clock.local(at).time() };
        let read = shared::emitted(String::new(), Some(at), Some(key), linked);
        let stored = self.reads.remember(&read, seq, at);
        let frame = if linked { self.encode(&stored, false) } else { Vec::new() };
        (read, frame)
    }

    /// Impulse numbers from 1 again.
    fn restart_numbering(&mut self) {
        self.reads.restart_numbering();
    }

    fn commands(&self) -> Vec<String> {
        self.commands.list()
    }

    fn sending(&self) -> bool {
        true
    }

    fn garbage(&self, rng: &mut Rng) -> Vec<u8> {
        shared::garbage_line(rng, b"\r")
    }

    fn corrupt(&self, frame: &[u8]) -> Vec<u8> {
        if self.checksum {
            // The checksum's last digit, changed.
            shared::last_digit_changed(frame)
        } else {
            b" 0001 c1  xx:yy:zz.0000 00\r".to_vec()
        }
    }

    fn sample(&mut self, reads: usize, seed: u64) -> Vec<u8> {
        shared::sample(&mut TimyEmulation::new(&DeviceOptions::utc()), reads, seed, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Protocol;
    use crate::emulator::shared::checks;

    #[test]
    fn garbage_and_damaged_frames_spare_their_neighbours() {
        let options = DeviceOptions { timy_checksum: true, ..DeviceOptions::utc() };
        checks::garbage_and_damaged_frames_spare_their_neighbours(
            Protocol::Timy,
            &mut TimyEmulation::new(&options),
            None,
            true,
        );
    }

    #[test]
    fn a_numbering_restart_reuses_numbers_with_new_keys() {
        let mut device = TimyEmulation::new(&DeviceOptions::utc());
        checks::a_numbering_restart_reuses_numbers_with_new_keys(Protocol::Timy, &mut device, None);
    }

    #[test]
    fn the_skew_moves_the_reader_clock() {
        let skew = TimeDelta::seconds(-30);
        let options = DeviceOptions { skew, ..DeviceOptions::utc() };
        checks::the_skew_moves_the_reader_clock(
            Protocol::Timy,
            &mut TimyEmulation::new(&options),
            skew,
        );
    }
}
