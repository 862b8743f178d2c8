//! IPICO Lite / Elite (readers.md §1): lower-case ASCII-hex `aa` tag reports and `ab` control
//! frames, one per CR LF line, each checked by its LRC; banner text passes through as control.
//!
//! Tag report: `aa RR TTTTTTTTTTTT II QQ YYMMDD HHMMSS hh [TTO×6] LRC [FS|LS] CR LF`, 36, 38,
//! 42 or 44 characters before CR LF. The LRC is the low byte of the sum of the ASCII values of
//! the characters after `aa` and before the LRC; the `FS`/`LS` suffix is outside it.
//!
//! ⚠ readers.md: first/last-seen comes either as bits 7/6 of the TTO flags byte (2007 spec) or
//! as a literal `FS`/`LS` suffix (Chronokeep, rusty-timer). Both are accepted; either sets
//! [`ReadFlags::first_seen`](crate::ReadFlags) / `last_seen`.
//!
//! The trigger-button / gun event (`ab…2c…`, seen in a real capture, layout inferred by
//! rusty-timer) becomes [`IpicoControl::Trigger`] with its reader time, a start marker.
//!
//! Not decoded: the binary `0xaa` variant and Trident's 40-character clone (no LRC); such lines
//! are rejected as [`RejectReason::BadLength`].

pub mod command;
pub(crate) mod conversation;
#[cfg(any(test, feature = "emulators"))]
pub(crate) mod emulation;

use chrono::{NaiveDate, NaiveDateTime};

use crate::framing::{LineDecoder, LineRules, Terminator};
use crate::text::{decimal_as, hex_byte, hex_bytes, span, trim_line_end};
use crate::{
    Control, ControlMessage, Decoded, ReadDetails, ReadFlags, ReaderTime, RejectReason, Rejected,
    ReplayKey, TagRead,
};

/// Longest line accepted, terminator included (a tag report is at most 46 bytes; banners are
/// longer).
pub const MAX_LINE: usize = 256;
/// Most bytes the decoder holds between calls.
pub const BUFFER_LIMIT: usize = MAX_LINE;

/// The IPICO-specific part of a tag report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpicoDetails {
    /// Reader id (chars 2–3).
    pub reader_id: u8,
    /// I-channel counter (decoder hits).
    pub i_counter: u8,
    /// Q-channel counter.
    pub q_counter: u8,
    /// TTO info, when enabled with command `0x11`.
    pub tto: Option<IpicoTto>,
    /// The literal suffix after the LRC.
    pub suffix: Option<SeenSuffix>,
}

/// The optional 3-byte TTO block of a tag report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpicoTto {
    /// Index byte.
    pub index: u8,
    /// Page byte.
    pub page: u8,
    /// Tamper / FS / LS flags (bit 7 first seen, bit 6 last seen).
    pub flags: u8,
}

impl IpicoTto {
    /// Bit 7 of the flags byte.
    pub fn first_seen(&self) -> bool {
        self.flags & 0x80 != 0
    }

    /// Bit 6 of the flags byte.
    pub fn last_seen(&self) -> bool {
        self.flags & 0x40 != 0
    }
}

/// The `FS` / `LS` suffix of first/last-seen mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SeenSuffix {
    /// `FS`.
    FirstSeen,
    /// `LS`.
    LastSeen,
}

/// IPICO messages that are not tag reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IpicoControl {
    /// An `ab` (or `ac`) control frame with a good LRC.
    Frame(IpicoControlFrame),
    /// A line of text (start-up banner, Elite control-port reply such as `date.…`).
    Text(String),
    /// The trigger-button / gun event (`ab…2c…`, later firmware, seen in a real capture):
    /// where the race's start was marked on the reader, by its clock.
    Trigger {
        /// The reader time of the press (payload bytes 0–7, laid out as a Get-RTC reply).
        at: NaiveDateTime,
        /// The whole frame (byte 8 the config byte, byte 9 an event byte of unknown meaning).
        frame: IpicoControlFrame,
    },
}

/// `ab RR LL II [DD…] CC`: a control frame, reply or ACK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpicoControlFrame {
    /// Header `ac` (terminal mode) rather than `ab`.
    pub terminal: bool,
    /// Reader id (`00` = broadcast).
    pub reader_id: u8,
    /// Payload length byte as sent (`0xff` = query current value).
    pub length: u8,
    /// Instruction (an ACK echoes the request's instruction with length 0).
    pub instruction: u8,
    /// Payload bytes (hex-decoded).
    pub payload: Vec<u8>,
}

/// Error replies (the instruction field of the reply).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpicoError {
    /// `f0`.
    BadLength,
    /// `f1`.
    BadLrc,
    /// `f2`.
    UnknownInstruction,
    /// `f4`.
    UnsupportedCommand,
    /// `f5`.
    UnsupportedSubCommand,
}

impl IpicoControlFrame {
    /// The frame asks for the current value (length `ff`).
    pub fn is_query(&self) -> bool {
        self.length == 0xff
    }

    /// The error this reply reports, if it is an error reply.
    pub fn error(&self) -> Option<IpicoError> {
        match self.instruction {
            0xf0 => Some(IpicoError::BadLength),
            0xf1 => Some(IpicoError::BadLrc),
            0xf2 => Some(IpicoError::UnknownInstruction),
            0xf4 => Some(IpicoError::UnsupportedCommand),
            0xf5 => Some(IpicoError::UnsupportedSubCommand),
            _ => None,
        }
    }

    /// The reader clock in a Get-RTC (`02`) reply: 7 BCD bytes `YY MM DD DOW HH MM SS`, then the
    /// 10-ms count as a plain byte. `None` for other frames or impossible values.
    pub fn clock(&self) -> Option<NaiveDateTime> {
        (self.instruction == command::GET_RTC).then(|| bcd_time(&self.payload)).flatten()
    }

    /// The time of a trigger-button event (`2c`): its payload starts like a Get-RTC reply.
    /// `None` for other frames or impossible values.
    pub fn trigger_time(&self) -> Option<NaiveDateTime> {
        (self.instruction == TRIGGER).then(|| bcd_time(&self.payload)).flatten()
    }
}

/// The instruction of the trigger-button / gun event (later firmware; readers.md §1).
pub const TRIGGER: u8 = 0x2c;

/// 7 BCD bytes `YY MM DD DOW HH MM SS` and the 10-ms count as a plain byte.
fn bcd_time(payload: &[u8]) -> Option<NaiveDateTime> {
    let bcd = |i: usize| {
        let b = *payload.get(i)?;
        let (hi, lo) = (b >> 4, b & 0x0f);
        (hi <= 9 && lo <= 9).then_some(u32::from(hi * 10 + lo))
    };
    let hundredths = u32::from(*payload.get(7)?);
    if hundredths > 99 {
        return None;
    }
    NaiveDate::from_ymd_opt(2000 + i32::try_from(bcd(0)?).ok()?, bcd(1)?, bcd(2)?)?
        .and_hms_milli_opt(bcd(4)?, bcd(5)?, bcd(6)?, hundredths * 10)
}

/// IPICO's line rules: lines ended by LF, at most [`MAX_LINE`] bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct IpicoLines;

impl LineRules for IpicoLines {
    const TERMINATOR: Terminator = Terminator::Lf;
    const MAX_LINE: usize = MAX_LINE;

    fn decode_line(&self, line: &[u8], out: &mut Vec<Decoded>) {
        out.extend(decode_line(line));
    }
}

/// Streaming decoder for an IPICO connection (serial or TCP 10000 / 10300).
pub type IpicoDecoder = LineDecoder<IpicoLines>;

/// Decodes one line (with or without its CR LF). `None` for an empty line.
pub fn decode_line(line: &[u8]) -> Option<Decoded> {
    let text = trim_line_end(line);
    if text.is_empty() {
        return None;
    }
    let decoded = match text.get(..2) {
        Some(b"aa") => match tag_report(text) {
            Ok(read) => Decoded::Read(TagRead { raw: line.to_vec(), ..read }),
            Err(reason) => Decoded::Rejected(Rejected::new(reason, line)),
        },
        Some(b"ab" | b"ac") => match control_frame(text) {
            Ok(frame) => match frame.trigger_time() {
                Some(at) => control(IpicoControl::Trigger { at, frame }, line),
                None => control(IpicoControl::Frame(frame), line),
            },
            Err(reason) => Decoded::Rejected(Rejected::new(reason, line)),
        },
        _ => match std::str::from_utf8(text) {
            Ok(s) if !s.chars().any(|c| c.is_control() && c != '\t') => {
                control(IpicoControl::Text(s.trim().to_string()), line)
            }
            _ => Decoded::Rejected(Rejected::new(RejectReason::Garbage, line)),
        },
    };
    Some(decoded)
}

fn control(message: IpicoControl, raw: &[u8]) -> Decoded {
    Decoded::Control(Control { message: ControlMessage::Ipico(message), raw: raw.to_vec() })
}

/// Low byte of the sum of the ASCII values.
pub(crate) fn lrc(chars: &[u8]) -> u8 {
    chars.iter().fold(0u8, |sum, b| sum.wrapping_add(*b))
}

/// Checks the LRC that ends `body` (over `body[2..len-2]`).
fn check_lrc(body: &[u8]) -> Result<(), RejectReason> {
    let end = body.len().saturating_sub(2);
    let carried = span(body, end, body.len());
    let got = hex_byte(carried).ok_or_else(|| RejectReason::bad_field("LRC", carried))?;
    let expected = lrc(span(body, 2, end));
    if got == expected {
        Ok(())
    } else {
        Err(RejectReason::BadChecksum { expected: expected.into(), got: got.into() })
    }
}

fn hex_field(text: &[u8], at: usize, field: &'static str) -> Result<u8, RejectReason> {
    let chars = span(text, at, at + 2);
    hex_byte(chars).ok_or_else(|| RejectReason::bad_field(field, chars))
}

fn tag_report(text: &[u8]) -> Result<TagRead, RejectReason> {
    let (body, suffix) = match text.len() {
        36 | 42 => (text, None),
        38 | 44 => {
            let end = text.len() - 2;
            let suffix = match span(text, end, text.len()) {
                b"FS" => SeenSuffix::FirstSeen,
                b"LS" => SeenSuffix::LastSeen,
                other => return Err(RejectReason::bad_field("FS/LS suffix", other)),
            };
            (span(text, 0, end), Some(suffix))
        }
        got => {
            return Err(RejectReason::BadLength { expected: "36, 38, 42 or 44 characters", got });
        }
    };
    check_lrc(body)?;

    let reader_id = hex_field(body, 2, "reader id")?;
    let tag_chars = span(body, 4, 16);
    if !tag_chars.iter().all(u8::is_ascii_hexdigit) {
        return Err(RejectReason::bad_field("tag id", tag_chars));
    }
    let tag = String::from_utf8_lossy(tag_chars).to_ascii_lowercase();
    let i_counter = hex_field(body, 16, "I counter")?;
    let q_counter = hex_field(body, 18, "Q counter")?;
    let at = timestamp(body)?;
    let tto = if body.len() == 42 {
        Some(IpicoTto {
            index: hex_field(body, 34, "TTO index")?,
            page: hex_field(body, 36, "TTO page")?,
            flags: hex_field(body, 38, "TTO flags")?,
        })
    } else {
        None
    };

    let flags = ReadFlags {
        first_seen: suffix == Some(SeenSuffix::FirstSeen) || tto.is_some_and(|t| t.first_seen()),
        last_seen: suffix == Some(SeenSuffix::LastSeen) || tto.is_some_and(|t| t.last_seen()),
        ..ReadFlags::default()
    };
    let first_seen = match (flags.first_seen, flags.last_seen) {
        (true, _) => Some(true),
        (false, true) => Some(false),
        (false, false) => None,
    };
    Ok(TagRead {
        chip: tag.clone(),
        bib: None,
        antenna: None,
        rssi: None,
        reader_time: Some(ReaderTime::Local(at)),
        replay_key: Some(ReplayKey::Ipico { reader_id, tag, at, first_seen }),
        flags,
        details: ReadDetails::Ipico(IpicoDetails { reader_id, i_counter, q_counter, tto, suffix }),
        raw: Vec::new(),
    })
}

/// `YYMMDD HHMMSS hh` at chars 20–33 (hundredths in hex).
fn timestamp(body: &[u8]) -> Result<NaiveDateTime, RejectReason> {
    let digits = span(body, 20, 32);
    let two = |i: usize| decimal_as::<u32>(span(digits, i, i + 2));
    let bad_time = || RejectReason::bad_field("date/time", digits);
    let hundredths = hex_field(body, 32, "hundredths")?;
    if hundredths > 99 {
        return Err(RejectReason::bad_field("hundredths", span(body, 32, 34)));
    }
    let year = two(0).ok_or_else(bad_time)?;
    let date = NaiveDate::from_ymd_opt(
        2000 + i32::try_from(year).map_err(|_| bad_time())?,
        two(2).ok_or_else(bad_time)?,
        two(4).ok_or_else(bad_time)?,
    )
    .ok_or_else(bad_time)?;
    date.and_hms_milli_opt(
        two(6).ok_or_else(bad_time)?,
        two(8).ok_or_else(bad_time)?,
        two(10).ok_or_else(bad_time)?,
        u32::from(hundredths) * 10,
    )
    .ok_or_else(bad_time)
}

fn control_frame(text: &[u8]) -> Result<IpicoControlFrame, RejectReason> {
    if text.len() < 10 || !text.len().is_multiple_of(2) {
        return Err(RejectReason::BadLength {
            expected: "an even number of characters, at least 10",
            got: text.len(),
        });
    }
    check_lrc(text)?;
    let reader_id = hex_field(text, 2, "reader id")?;
    let length = hex_field(text, 4, "length")?;
    let instruction = hex_field(text, 6, "instruction")?;
    let payload_chars = span(text, 8, text.len() - 2);
    let payload = hex_bytes(payload_chars)
        .ok_or_else(|| RejectReason::bad_field("payload", payload_chars))?;
    if length != 0xff && usize::from(length) != payload.len() {
        return Err(RejectReason::BadField {
            field: "length",
            value: format!("{length} announced, {} sent", payload.len()),
        });
    }
    Ok(IpicoControlFrame {
        terminal: text.starts_with(b"ac"),
        reader_id,
        length,
        instruction,
        payload,
    })
}
