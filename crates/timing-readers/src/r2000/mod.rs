//! Impinj-R2000 "CMD" serial modules (readers.md §4b): binary frames
//! `A0 Len Addr Cmd Data… Check`, `Len` = bytes after it, `Check` = two's complement of the byte
//! sum. Real-time inventory tag frames become reads; status, end-of-round and command replies
//! become control messages. Resynchronises on the next `0xA0` whose frame checks.
//!
//! Tag frame (commands 0x89, 0x8A, 0x8B): `FreqAnt PC(2) EPC(n) RSSI` — frequency index in the
//! high 6 bits of `FreqAnt`, antenna 0–3 in the low 2 (reported 1–4), RSSI dBm ≈ byte − 129.
//! The EPC is the bytes between PC and RSSI (the frame length decides; the PC length bits are
//! kept in the details). End of round (0x89 / 0x8B): `AntID ReadRate(u16) TotalRead(u32)`.
//! These modules have no clock: the host receive time is the read time.

pub mod command;
pub(crate) mod conversation;
#[cfg(any(test, feature = "emulators"))]
pub(crate) mod emulation;

use crate::framing::{Check, FrameDecoder, FrameRules};
use crate::text::{hex_upper, span};
use crate::{
    Control, ControlMessage, Decoded, ReadDetails, ReadFlags, RejectReason, Rssi, TagRead,
};

/// Frame header byte.
pub const HEAD: u8 = 0xA0;
/// Longest frame: `Len` = 255.
pub const MAX_FRAME: usize = 257;
/// Garbage is reported in chunks of at most this many bytes.
pub const GARBAGE_CHUNK: usize = 256;
/// Most bytes the decoder holds between calls.
pub const BUFFER_LIMIT: usize = MAX_FRAME + GARBAGE_CHUNK;

/// The R2000-specific part of a tag read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct R2000Details {
    /// Reader address.
    pub address: u8,
    /// Command the frame answers (0x89 real-time, 0x8A fast-switch, 0x8B session/target).
    pub command: u8,
    /// Frequency index (high 6 bits of `FreqAnt`).
    pub frequency_index: u8,
    /// Protocol-control word (EPC length in bits 15..11, in words).
    pub pc: u16,
    /// The RSSI byte as sent.
    pub rssi_byte: u8,
}

/// R2000 frames that carry no tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum R2000Control {
    /// A one-byte result (0x10 success, 0x36 no tag, 0x22 antenna missing, …).
    Status {
        /// Reader address.
        address: u8,
        /// Command answered.
        command: u8,
        /// Result / error code.
        code: u8,
    },
    /// End of a real-time inventory round.
    EndOfRound {
        /// Reader address.
        address: u8,
        /// Command answered (0x89 or 0x8B).
        command: u8,
        /// Antenna of the round, 1–4 (wire `AntID` + 1).
        antenna: u8,
        /// Reads per second.
        read_rate: u16,
        /// Reads in the round.
        total_reads: u32,
    },
    /// Any other frame (firmware version, settings replies, …).
    Frame {
        /// Reader address.
        address: u8,
        /// Command.
        command: u8,
        /// Data bytes between command and check.
        data: Vec<u8>,
    },
}

/// Two's complement of the 8-bit sum: appended to a frame, the whole frame sums to 0.
pub fn checksum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |sum, b| sum.wrapping_add(*b)).wrapping_neg()
}

/// R2000's frame rules: [`check`] finds a frame at an offset, garbage is reported in
/// chunks of at most [`GARBAGE_CHUNK`] bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct R2000Frames;

impl FrameRules for R2000Frames {
    const GARBAGE_CHUNK: usize = GARBAGE_CHUNK;

    fn check(at: &[u8]) -> Check {
        check(at)
    }

    fn decode_frame(&self, frame: &[u8], out: &mut Vec<Decoded>) {
        out.push(decode_frame(frame));
    }
}

/// Streaming decoder for an R2000 serial link.
pub type R2000Decoder = FrameDecoder<R2000Frames>;

/// Is a valid frame at the start of `at`?
fn check(at: &[u8]) -> Check {
    match at {
        [head, ..] if *head != HEAD => Check::Invalid(RejectReason::Garbage),
        [] | [_] => Check::NeedMore,
        [_, len, ..] => {
            let len = usize::from(*len);
            if len < 3 {
                return Check::Invalid(RejectReason::BadLength { expected: "Len ≥ 3", got: len });
            }
            let total = len + 2;
            let Some(frame) = at.get(..total) else { return Check::NeedMore };
            let (body, got) = frame.split_at(total - 1);
            let expected = checksum(body);
            match got {
                [got] if *got == expected => Check::Frame(total),
                [got] => Check::Invalid(RejectReason::BadChecksum {
                    expected: expected.into(),
                    got: (*got).into(),
                }),
                _ => Check::NeedMore,
            }
        }
    }
}

/// Decodes one complete, checked frame (`A0 … Check`).
pub fn decode_frame(frame: &[u8]) -> Decoded {
    let address = frame.get(2).copied().unwrap_or(0);
    let command = frame.get(3).copied().unwrap_or(0);
    let data = span(frame, 4, frame.len().saturating_sub(1));
    let control = |message: R2000Control| {
        Decoded::Control(Control { message: ControlMessage::R2000(message), raw: frame.to_vec() })
    };
    match (command, data) {
        (_, [code]) => control(R2000Control::Status { address, command, code: *code }),
        // 7 data bytes cannot be a tag frame: its EPC would be 3 bytes, which no PC announces.
        (0x89 | 0x8B, [ant, r0, r1, t0, t1, t2, t3]) => control(R2000Control::EndOfRound {
            address,
            command,
            antenna: ant.saturating_add(1),
            read_rate: u16::from_be_bytes([*r0, *r1]),
            total_reads: u32::from_be_bytes([*t0, *t1, *t2, *t3]),
        }),
        (0x89..=0x8B, [freq_ant, pc0, pc1, epc @ .., rssi]) if !epc.is_empty() => {
            let pc = u16::from_be_bytes([*pc0, *pc1]);
            Decoded::Read(TagRead {
                chip: hex_upper(epc),
                bib: None,
                antenna: Some((freq_ant & 0x03) + 1),
                rssi: Some(Rssi::Dbm(i16::from(*rssi) - 129)),
                reader_time: None,
                replay_key: None,
                flags: ReadFlags::default(),
                details: ReadDetails::R2000(R2000Details {
                    address,
                    command,
                    frequency_index: freq_ant >> 2,
                    pc,
                    rssi_byte: *rssi,
                }),
                raw: frame.to_vec(),
            })
        }
        _ => control(R2000Control::Frame { address, command, data: data.to_vec() }),
    }
}
