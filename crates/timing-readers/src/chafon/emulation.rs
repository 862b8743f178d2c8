//! An emulated Chafon UHFReader18 for the emulator's wires: it has no clock and sends nothing by
//! itself; the tags it saw wait in its field until an inventory command brings them, up to 16 a
//! reply frame (status 0x03 while more follow, 0x01 on the last; 0xFB when there is none). Other
//! commands get the reader information (0x21) or a success status.

use chrono::{DateTime, Utc};
use std::collections::VecDeque;

use super::command::{self, code};
use super::{CMD_INVENTORY, CMD_SINGLE_TAG_INVENTORY, ChafonControl, ChafonDecoder, STATUS_NO_TAG};
use crate::ControlMessage;
use crate::emulator::shared::{self, CommandLog};
use crate::emulator::{DeviceOptions, EmittedRead, Emulation, Outgoing, Rng};

/// Tags per inventory reply frame.
const TAGS_PER_FRAME: usize = 16;
/// Inventory reply status: the last frame of the reply.
const STATUS_LAST: u8 = 0x01;
/// Inventory reply status: more frames follow.
const STATUS_MORE: u8 = 0x03;

/// One emulated Chafon reader.
#[derive(Debug)]
pub(crate) struct ChafonEmulation {
    /// Reads made (generated EPCs are unique by it).
    made: u64,
    /// EPCs seen since the last inventory.
    field: VecDeque<String>,
    /// The host's command frames.
    input: ChafonDecoder,
    commands: CommandLog,
}

impl ChafonEmulation {
    pub(crate) fn new(_options: &DeviceOptions) -> Self {
        ChafonEmulation {
            made: 0,
            field: VecDeque::new(),
            input: ChafonDecoder::new(),
            commands: CommandLog::default(),
        }
    }

    fn on_command(&mut self, message: &ControlMessage) -> Vec<Outgoing> {
        let ControlMessage::Chafon(ChafonControl::Frame { command, .. }) = message else {
            return Vec::new();
        };
        match *command {
            CMD_INVENTORY | CMD_SINGLE_TAG_INVENTORY => {
                let tags: Vec<String> = self.field.drain(..).collect();
                if tags.is_empty() {
                    return vec![Outgoing::Reply(command::frame(0x00, *command, &[STATUS_NO_TAG]))];
                }
                let chunks: Vec<&[String]> = tags.chunks(TAGS_PER_FRAME).collect();
                let last = chunks.len().saturating_sub(1);
                chunks
                    .iter()
                    .enumerate()
                    .map(|(i, chunk)| {
                        let status = if i == last { STATUS_LAST } else { STATUS_MORE };
                        Outgoing::Frame(inventory_reply(chunk, status))
                    })
                    .collect()
            }
            code::GET_READER_INFO => vec![Outgoing::Reply(command::frame(
                0x00,
                *command,
                &[0x00, 0x03, 0x01, 0x09, 0x03, 0x4E, 0x00, 0x1E, 0x0A],
            ))],
            other => vec![Outgoing::Reply(command::frame(0x00, other, &[0x00]))],
        }
    }
}

/// An inventory reply (UHFReader18 layout) listing `epcs` with `status`.
fn inventory_reply(epcs: &[String], status: u8) -> Vec<u8> {
    let mut data = vec![status, u8::try_from(epcs.len()).unwrap_or(u8::MAX)];
    for epc in epcs {
        let epc = crate::text::hex_bytes(epc.as_bytes()).unwrap_or_default();
        data.push(u8::try_from(epc.len()).unwrap_or(u8::MAX));
        data.extend_from_slice(&epc);
    }
    command::frame(0x00, CMD_INVENTORY, &data)
}

impl Emulation for ChafonEmulation {
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

    fn restart_numbering(&mut self) {} // the reader numbers nothing

    fn commands(&self) -> Vec<String> {
        self.commands.list()
    }

    fn sending(&self) -> bool {
        true
    }

    fn garbage(&self, rng: &mut Rng) -> Vec<u8> {
        // Lengths below 4 are never a frame.
        shared::garbage(rng, &[0, 1, 2, 3])
    }

    fn corrupt(&self, frame: &[u8]) -> Vec<u8> {
        let mut bad = frame.to_vec();
        if let Some(b) = bad.last_mut() {
            *b ^= 0x5A;
        }
        bad
    }

    fn sample(&mut self, reads: usize, seed: u64) -> Vec<u8> {
        let poll = command::inventory(command::BROADCAST);
        shared::sample(&mut ChafonEmulation::new(&DeviceOptions::utc()), reads, seed, Some(&poll))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Protocol;
    use crate::emulator::shared::checks;

    #[test]
    fn garbage_and_damaged_frames_spare_their_neighbours() {
        let mut device = ChafonEmulation::new(&DeviceOptions::utc());
        checks::garbage_and_damaged_frames_spare_their_neighbours(
            Protocol::Chafon,
            &mut device,
            Some(&command::inventory(command::BROADCAST)),
            false,
        );
    }

    #[test]
    fn a_numbering_restart_changes_nothing() {
        let mut device = ChafonEmulation::new(&DeviceOptions::utc());
        checks::a_numbering_restart_reuses_numbers_with_new_keys(
            Protocol::Chafon,
            &mut device,
            Some(&command::inventory(command::BROADCAST)),
        );
    }

    #[test]
    fn a_big_field_comes_in_frames_of_sixteen() {
        let mut device = ChafonEmulation::new(&DeviceOptions::utc());
        let now = checks::start();
        for _ in 0..20 {
            device.make_read(now, None, true);
        }
        let out = device.on_input(&command::inventory(command::BROADCAST), now);
        assert_eq!(out.len(), 2);
        let empty = device.on_input(&command::inventory(command::BROADCAST), now);
        assert_eq!(empty, [Outgoing::Reply(command::frame(0x00, CMD_INVENTORY, &[STATUS_NO_TAG]))]);
    }
}
