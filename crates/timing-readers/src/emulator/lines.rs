//! An emulated plain-lines device (keyboard wedge, bib keypad, serial text; readers.md §11):
//! each read is its chip on a CR LF line, and commands are noted but never answered. It lives
//! here rather than beside the decoder in `src/lines.rs`, which is a single file.

use chrono::{DateTime, Utc};

use super::shared::{self, CommandLog, Rng, TextInput};
use super::{DeviceOptions, EmittedRead, Emulation, Outgoing};

/// One emulated line device.
#[derive(Debug, Default)]
pub(crate) struct LinesEmulation {
    /// Reads made (generated chips are unique by it).
    made: u64,
    input: TextInput,
    commands: CommandLog,
}

impl LinesEmulation {
    pub(crate) fn new(_options: &DeviceOptions) -> Self {
        LinesEmulation::default()
    }
}

/// The line that carries a read.
fn line(chip: &str) -> Vec<u8> {
    format!("{chip}\r\n").into_bytes()
}

impl Emulation for LinesEmulation {
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
        self.input.feed(bytes, shared::line_cr_or_lf, &mut self.commands);
        Vec::new()
    }

    fn make_read(
        &mut self,
        _now: DateTime<Utc>,
        chip: Option<String>,
        linked: bool,
    ) -> (EmittedRead, Vec<u8>) {
        self.made += 1;
        let chip = chip.unwrap_or_else(|| (1000 + self.made).to_string());
        let frame = if linked { line(&chip) } else { Vec::new() };
        (shared::emitted(chip, None, None, linked), frame)
    }

    fn restart_numbering(&mut self) {} // lines number nothing

    fn commands(&self) -> Vec<String> {
        self.commands.list()
    }

    fn sending(&self) -> bool {
        true
    }

    fn garbage(&self, rng: &mut Rng) -> Vec<u8> {
        shared::garbage_line(rng, b"\r\n")
    }

    fn corrupt(&self, _frame: &[u8]) -> Vec<u8> {
        b"\x01bad\x02\r\n".to_vec()
    }

    fn sample(&mut self, reads: usize, seed: u64) -> Vec<u8> {
        shared::sample(&mut LinesEmulation::default(), reads, seed, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Protocol;
    use crate::emulator::shared::checks;

    #[test]
    fn garbage_and_damaged_lines_spare_their_neighbours() {
        let mut device = LinesEmulation::new(&DeviceOptions::utc());
        checks::garbage_and_damaged_frames_spare_their_neighbours(
            Protocol::Lines,
            &mut device,
            None,
            false,
        );
    }

    #[test]
    fn a_numbering_restart_changes_nothing() {
        let mut device = LinesEmulation::new(&DeviceOptions::utc());
        checks::a_numbering_restart_reuses_numbers_with_new_keys(
            Protocol::Lines,
            &mut device,
            None,
        );
    }
}
