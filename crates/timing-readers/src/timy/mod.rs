//! ALGE Timy / Timy2 / Timy3 RS-232 output (readers.md §10a): one CR-terminated impulse line per
//! timing impulse, optionally followed by a 2-character checksum; replies to host commands pass
//! through as control messages.
//!
//! Impulse: `yNNNN cCC HH:MM:SS.zhtq GG[KK]` — info flag, start/sequence number, channel (`c0`…
//! `c8`, `c0M`/`c1M` keypad, either case), time of day with `.` or `,` and 0–4 decimals, group.
//! The line is read by its blank-separated words, so suppressed leading zeros and shorter times
//! are fine. `KK` (after `CHK1`) is the 8-bit sum of the characters before it, each nibble sent as
//! 0x30 + nibble *(impl-only: metarace)*; a line with a wrong `KK` is rejected.
//!
//! The timer has a time of day but no date ([`ReaderTime::TimeOfDay`]). Its number is the
//! start number or the running impulse number depending on the timer's program, so it is kept in
//! the details and the replay key, not presented as a bib; `chip` is empty.

pub mod command;

use crate::framing::{LineEvent, LineSplitter, Terminator};
use crate::text::{decimal_as, span, time_of_day, trim_line_end};
use crate::{
    Control, ControlMessage, Decoded, Decoder, ReadDetails, ReadFlags, ReaderTime, RejectReason,
    Rejected, ReplayKey, TagRead,
};

/// Longest line accepted, terminator included.
pub const MAX_LINE: usize = 128;
/// Most bytes the decoder holds between calls.
pub const BUFFER_LIMIT: usize = MAX_LINE;

/// A Timy input channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimyChannel {
    /// Channel number (`c0` = 0 … `c8` = 8).
    pub number: u8,
    /// `M` suffix: the keypad START/STOP key rather than the input.
    pub manual: bool,
}

/// The info flag in column 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimyInfo {
    /// Blank: a normal impulse.
    Normal,
    /// `?`: time without a valid id.
    NoValidId,
    /// `m`: re-sent from memory.
    FromMemory,
    /// `c`: cleared.
    Cleared,
    /// `d`: disqualified.
    Disqualified,
    /// `i`: manual input.
    ManualInput,
    /// `n`: new id entered.
    NewId,
}

impl TimyInfo {
    fn from_flag(flag: u8) -> Option<Self> {
        Some(match flag {
            b' ' => TimyInfo::Normal,
            b'?' => TimyInfo::NoValidId,
            b'm' => TimyInfo::FromMemory,
            b'c' => TimyInfo::Cleared,
            b'd' => TimyInfo::Disqualified,
            b'i' => TimyInfo::ManualInput,
            b'n' => TimyInfo::NewId,
            _ => return None,
        })
    }
}

/// The Timy-specific part of an impulse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimyDetails {
    /// Info flag.
    pub info: TimyInfo,
    /// Start / sequence number.
    pub number: u32,
    /// Channel.
    pub channel: TimyChannel,
    /// Group / rank field (usually 0).
    pub group: u8,
    /// The line carried a (correct) checksum.
    pub checksummed: bool,
}

/// Timy lines that are not impulses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimyControl {
    /// A reply to a host command (`HW_SN …`, `NSF…`, `PROG: …`, `CLR`, …), trimmed.
    Reply(String),
}

/// Streaming decoder for a Timy serial line.
#[derive(Debug)]
pub struct TimyDecoder {
    lines: LineSplitter,
}

impl TimyDecoder {
    /// A decoder for one connection.
    pub fn new() -> Self {
        TimyDecoder { lines: LineSplitter::new(Terminator::CrOrLf, MAX_LINE) }
    }
}

impl Default for TimyDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder for TimyDecoder {
    fn feed(&mut self, bytes: &[u8], out: &mut Vec<Decoded>) {
        self.lines.feed(bytes, &mut |event| push_line_event(event, out));
    }

    fn finish(&mut self, out: &mut Vec<Decoded>) {
        self.lines.finish(&mut |event| push_line_event(event, out));
    }

    fn buffered(&self) -> usize {
        self.lines.buffered()
    }
}

fn push_line_event(event: LineEvent<'_>, out: &mut Vec<Decoded>) {
    match event {
        LineEvent::Line(line) => out.extend(decode_line(line)),
        LineEvent::TooLong(raw) => out
            .push(Decoded::Rejected(Rejected::new(RejectReason::TooLong { limit: MAX_LINE }, raw))),
    }
}

/// The checksum characters for `chars`: the 8-bit sum, each nibble as 0x30 + nibble.
pub fn checksum(chars: &[u8]) -> [u8; 2] {
    let sum = chars.iter().fold(0u8, |s, b| s.wrapping_add(*b));
    [0x30 + (sum >> 4), 0x30 + (sum & 0x0f)]
}

/// Decodes one line (with or without its CR). `None` for an empty line.
pub fn decode_line(line: &[u8]) -> Option<Decoded> {
    let mut text = trim_line_end(line);
    while let Some(rest) = text.strip_prefix(b"\n") {
        text = rest;
    }
    if text.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    let decoded = if looks_like_impulse(text) {
        match impulse(text) {
            Ok(read) => Decoded::Read(TagRead { raw: line.to_vec(), ..read }),
            Err(reason) => Decoded::Rejected(Rejected::new(reason, line)),
        }
    } else {
        match std::str::from_utf8(text) {
            Ok(s) if !s.chars().any(|c| c.is_control() && c != '\t') => Decoded::Control(Control {
                message: ControlMessage::Timy(TimyControl::Reply(s.trim().to_string())),
                raw: line.to_vec(),
            }),
            _ => Decoded::Rejected(Rejected::new(RejectReason::Garbage, line)),
        }
    };
    Some(decoded)
}

/// Flag character, then a channel word `c<digit>…` as second word and a time as third.
fn looks_like_impulse(text: &[u8]) -> bool {
    let Some((flag, rest)) = text.split_first() else { return false };
    if TimyInfo::from_flag(*flag).is_none() {
        return false;
    }
    let mut words = rest.split(u8::is_ascii_whitespace).filter(|w| !w.is_empty());
    let (_, channel, time) = (words.next(), words.next(), words.next());
    matches!(channel, Some([b'c' | b'C', d, ..]) if d.is_ascii_digit())
        && time.is_some_and(|t| t.contains(&b':'))
}

fn impulse(text: &[u8]) -> Result<TagRead, RejectReason> {
    let (flag, rest) = text.split_first().ok_or(RejectReason::Garbage)?;
    let info =
        TimyInfo::from_flag(*flag).ok_or_else(|| RejectReason::bad_field("info flag", text))?;
    let words: Vec<&[u8]> = rest.split(u8::is_ascii_whitespace).filter(|w| !w.is_empty()).collect();
    let [number, channel, time, last] = words.as_slice() else {
        return Err(RejectReason::FieldCount { expected: "4 words", got: words.len() });
    };

    let (group_chars, checksummed) = match last.len() {
        2 => (*last, false),
        4 => {
            let carried = span(last, 2, 4);
            let end = text.len() - 2;
            let computed = checksum(span(text, 0, end));
            if carried != computed {
                let value = |c: &[u8]| match c {
                    [hi, lo] => {
                        (u32::from(hi.wrapping_sub(0x30)) << 4) | u32::from(lo.wrapping_sub(0x30))
                    }
                    _ => 0,
                };
                return Err(RejectReason::BadChecksum {
                    expected: value(&computed),
                    got: value(carried),
                });
            }
            (span(last, 0, 2), true)
        }
        _ => return Err(RejectReason::bad_field("group/checksum", last)),
    };
    let group = decimal_as::<u8>(group_chars)
        .ok_or_else(|| RejectReason::bad_field("group", group_chars))?;
    let number =
        decimal_as::<u32>(number).ok_or_else(|| RejectReason::bad_field("number", number))?;
    let channel =
        parse_channel(channel).ok_or_else(|| RejectReason::bad_field("channel", channel))?;
    let time = time_of_day(time).ok_or_else(|| RejectReason::bad_field("time", time))?;

    Ok(TagRead {
        chip: String::new(),
        bib: None,
        antenna: Some(channel.number),
        rssi: None,
        reader_time: Some(ReaderTime::TimeOfDay(time)),
        replay_key: Some(ReplayKey::Timy { number, channel, time }),
        flags: ReadFlags { from_memory: info == TimyInfo::FromMemory, ..ReadFlags::default() },
        details: ReadDetails::Timy(TimyDetails { info, number, channel, group, checksummed }),
        raw: Vec::new(),
    })
}

/// `c1`, `C1`, `c0M`, `c1m`.
fn parse_channel(word: &[u8]) -> Option<TimyChannel> {
    let digits = word.strip_prefix(b"c").or_else(|| word.strip_prefix(b"C"))?;
    let (digits, manual) = match digits.strip_suffix(b"M").or_else(|| digits.strip_suffix(b"m")) {
        Some(d) => (d, true),
        None => (digits, false),
    };
    if digits.len() > 2 {
        return None;
    }
    Some(TimyChannel { number: decimal_as::<u8>(digits)?, manual })
}
