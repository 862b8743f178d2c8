//! An emulated Impinj-R2000 "CMD" module for the emulator's wires: it has no clock and sends
//! nothing by itself; the tags it saw wait in its field until the host's real-time inventory
//! (0x89–0x8B) brings them as tag frames and an end-of-round frame. Other commands get a
//! firmware version (0x72) or a success status.

use chrono::{DateTime, Utc};
use std::collections::VecDeque;

use super::command::{self, code};
use super::{R2000Control, R2000Decoder};
use crate::ControlMessage;
use crate::emulator::shared::{self, CommandLog};
use crate::emulator::{DeviceOptions, EmittedRead, Emulation, Outgoing, Rng};

/// One emulated R2000 module.
#[derive(Debug)]
pub(crate) struct R2000Emulation {
    /// Reads made (generated EPCs are unique by it).
    made: u64,
    /// EPCs seen since the last inventory.
    field: VecDeque<String>,
    /// The host's command frames.
    input: R2000Decoder,
    commands: CommandLog,
}

impl R2000Emulation {
    pub(crate) fn new(_options: &DeviceOptions) -> Self {
        R2000Emulation {
            made: 0,
            field: VecDeque::new(),
            input: R2000Decoder::new(),
            commands: CommandLog::default(),
        }
    }

    fn on_command(&mut self, message: &ControlMessage) -> Vec<Outgoing> {
        let ControlMessage::R2000(control) = message else { return Vec::new() };
        let command = match control {
            R2000Control::Status { command, .. } | R2000Control::Frame { command, .. } => *command,
            R2000Control::EndOfRound { command, .. } => *command,
        };
        match command {
            code::REAL_TIME_INVENTORY..=code::SESSION_TARGET_INVENTORY => {
                let tags: Vec<String> = self.field.drain(..).collect();
                let mut out: Vec<Outgoing> =
                    tags.iter().map(|epc| Outgoing::Frame(tag_frame(epc))).collect();
                let total = u32::try_from(tags.len()).unwrap_or(u32::MAX).to_be_bytes();
                let mut end = vec![0x00, 0x00, 0x2A];
                end.extend_from_slice(&total);
                out.push(Outgoing::Reply(command::frame(0x01, command, &end)));
                out
            }
            code::GET_FIRMWARE_VERSION => {
                vec![Outgoing::Reply(command::frame(0x01, command, &[0x08, 0x01]))]
            }
            other => vec![Outgoing::Reply(command::frame(0x01, other, &[0x10]))],
        }
    }
}

/// A real-time inventory tag frame: frequency 7 / antenna 1, PC `30 00`, `epc`, RSSI −57 dBm.
fn tag_frame(epc: &str) -> Vec<u8> {
    let mut data = vec![0x1C, 0x30, 0x00];
    data.extend(crate::text::hex_bytes(epc.as_bytes()).unwrap_or_default());
    data.push(0x48);
    command::frame(0x01, code::REAL_TIME_INVENTORY, &data)
}

impl Emulation for R2000Emulation {
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
        shared::decode_commands(&mut self.input, bytes, &mut self.commands)
            .iter()
            .flat_map(|message| self.on_command(message))
            .collect()
    }

    fn make_read(
        &mut self,
        _now: DateTime<Utc>,
        chip: Option<String>,
        linked: bool,
    ) -> (EmittedRead, Vec<u8>) {
        self.made += 1;
        let chip = chip.unwrap_or_else(|| shared::generated_epc(self.made));
        if linked {
            self.field.push_back(chip.clone());
        }
        (shared::emitted(chip, None, None, linked), Vec::new())
    }

    fn restart_numbering(&mut self) {} // the module numbers nothing

    fn commands(&self) -> Vec<String> {
        self.commands.list()
    }

    fn sending(&self) -> bool {
        true
    }

    fn garbage(&self, rng: &mut Rng) -> Vec<u8> {
        // No 0xA0: nothing that could start a frame.
        let low: Vec<u8> = (0..16).collect();
        shared::garbage(rng, &low).into_iter().map(|b| 0xB0 | b).collect()
    }

    fn corrupt(&self, frame: &[u8]) -> Vec<u8> {
        let mut bad = frame.to_vec();
        if let Some(b) = bad.last_mut() {
            *b ^= 0x5A;
        }
        bad
    }

    fn sample(&mut self, reads: usize, seed: u64) -> Vec<u8> {
        let poll = command::real_time_inventory(command::BROADCAST, 1);
        shared::sample(&mut R2000Emulation::new(&DeviceOptions::utc()), reads, seed, Some(&poll))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Protocol;
    use crate::emulator::shared::checks;

    fn poll() -> Vec<u8> {
        command::real_time_inventory(command::BROADCAST, 1)
    }

    #[test]
    fn garbage_and_damaged_frames_spare_their_neighbours() {
        let mut device = R2000Emulation::new(&DeviceOptions::utc());
        checks::garbage_and_damaged_frames_spare_their_neighbours(
            Protocol::R2000,
            &mut device,
            Some(&poll()),
            false,
        );
    }

    #[test]
    fn a_numbering_restart_changes_nothing() {
        let mut device = R2000Emulation::new(&DeviceOptions::utc());
        checks::a_numbering_restart_reuses_numbers_with_new_keys(
            Protocol::R2000,
            &mut device,
            Some(&poll()),
        );
    }
}
