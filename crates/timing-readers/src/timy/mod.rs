//! ALGE Timy / Timy2 / Timy3 and TdC 8000/8001 RS-232 output (readers.md §10a): one
//! CR-terminated impulse line per timing impulse, optionally followed by a 2-character checksum;
//! computed times, printouts and replies to host commands pass through as control messages.
//!
//! Impulse: `yNNNN[x]cCC HH:MM:SS.zhtq GG[KK]` — info flag, start/sequence number, an optional
//! course letter in column 5 (`r`/`b`, parallel slalom on a TdC 8001, which glues the channel to
//! the number: `0016rC0`), channel (`c0`… `c8`, `c0M`/`c1M` keypad, either case), time of day
//! with `.` or `,` and 0–4 decimals (a TdC pads shorter times with blanks), group. The line is
//! read by its blank-separated words, so suppressed leading zeros and shorter times are fine.
//! `KK` (after `CHK1`) is the 8-bit sum of the characters before it, each nibble sent as 0x30 +
//! nibble *(impl-only: metarace)*; a line with a wrong `KK` is rejected.
//!
//! Lines of the same shape whose channel field is `RT`, `TT` or `DT` (with a modifier letter:
//! `RTM`, `DTR`, `DTT`) are times the timer computed — run, total, difference — not impulses:
//! [`TimyControl::Computed`], never a read. Everything else that is text (start-number entries
//! `n0034`, classement headers `CLASSEMENT:`, `ALGE TIMING`, command replies) is
//! [`TimyControl::Reply`]; blank lines make nothing. Seen in real TdC 8001 logs
//! (`shared/real-frames/timy-*`).
//!
//! The timer has a time of day but no date ([`ReaderTime::TimeOfDay`]). Its number is the
//! start number or the running impulse number depending on the timer's program, so it is kept in
//! the details and the replay key, not presented as a bib; `chip` is empty. A reader configured
//! with `number=bib` says it is the start number: its conversation then sets the bib
//! (`conversation.rs`).

pub mod command;
pub(crate) mod conversation;
#[cfg(any(test, feature = "emulators"))]
pub(crate) mod emulation;

use std::time::Duration;

use chrono::Timelike as _;

use crate::framing::{LineDecoder, LineRules, Terminator};
use crate::text::{decimal_as, span, time_of_day, trim_line_end};
use crate::{
    Control, ControlMessage, Decoded, ReadDetails, ReadFlags, ReaderTime, RejectReason, Rejected,
    ReplayKey, TagRead,
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
    /// The course letter after the number (`r` / `b`, parallel slalom on a TdC 8001), if any.
    pub course: Option<char>,
}

/// What a computed time line measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimyTimeKind {
    /// `RT`: run time (finish − start of one run).
    Run,
    /// `TT`: total time (over the runs so far).
    Total,
    /// `DT`: difference time (to the leader, or between the two courses of a parallel slalom).
    Difference,
}

/// Timy lines that are not impulses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimyControl {
    /// A reply to a host command (`HW_SN …`, `NSF…`, `PROG: …`, `CLR`, …), or any other text
    /// the timer prints (start-number entries `n0034`, printout headers `CLASSEMENT:`,
    /// `ALGE TIMING`), trimmed.
    Reply(String),
    /// A time the timer computed from impulses and printed after them (`RT`, `TT`, `DT` in the
    /// channel field, `M`/`R`/`T` modifier kept in `word`): a span, not a time of day, so never a
    /// passing. Classement printouts list these too, with a rank after the group.
    Computed {
        /// Info flag (column 0).
        info: TimyInfo,
        /// Start / sequence number.
        number: u32,
        /// Course letter after the number (`r` / `b`), if any.
        course: Option<char>,
        /// Run, total or difference.
        kind: TimyTimeKind,
        /// The channel field as sent (`RT`, `RTM`, `TT`, `DTR`, `DTT`).
        word: String,
        /// The computed time.
        time: Duration,
    },
}

/// ALGE Timy's line rules: lines ended by CR, LF or CR LF, at most [`MAX_LINE`] bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct TimyLines;

impl LineRules for TimyLines {
    const TERMINATOR: Terminator = Terminator::CrOrLf;
    const MAX_LINE: usize = MAX_LINE;

    fn decode_line(&self, line: &[u8], out: &mut Vec<Decoded>) {
        out.extend(decode_line(line));
    }
}

/// Streaming decoder for a Timy serial line.
pub type TimyDecoder = LineDecoder<TimyLines>;

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
    let shaped = shape(text);
    let decoded = match shaped.as_ref().map(|s| (s, s.kind())) {
        Some((shape, Some(Kind::Impulse))) => match impulse(text, shape) {
            Ok(read) => Decoded::Read(TagRead { raw: line.to_vec(), ..read }),
            Err(reason) => Decoded::Rejected(Rejected::new(reason, line)),
        },
        Some((shape, Some(Kind::Computed(kind)))) => match computed(shape, kind) {
            Ok(message) => Decoded::Control(Control {
                message: ControlMessage::Timy(message),
                raw: line.to_vec(),
            }),
            Err(reason) => Decoded::Rejected(Rejected::new(reason, line)),
        },
        _ => match std::str::from_utf8(text) {
            Ok(s) if !s.chars().any(|c| c.is_control() && c != '\t') => Decoded::Control(Control {
                message: ControlMessage::Timy(TimyControl::Reply(s.trim().to_string())),
                raw: line.to_vec(),
            }),
            _ => Decoded::Rejected(Rejected::new(RejectReason::Garbage, line)),
        },
    };
    Some(decoded)
}

/// A line read by its blank-separated words: info flag, number (with a course letter right
/// after it, which may glue the channel to it: `0016rC0`), channel field, then the rest (time
/// first).
struct Shape<'a> {
    info: TimyInfo,
    number: &'a [u8],
    course: Option<char>,
    channel: &'a [u8],
    rest: Vec<&'a [u8]>,
}

enum Kind {
    /// Channel `c<digit>…`: an impulse.
    Impulse,
    /// Channel `RT` / `TT` / `DT` (+ one modifier letter): a computed time.
    Computed(TimyTimeKind),
}

impl Shape<'_> {
    /// What the line is, when its channel field is one and a time follows it.
    fn kind(&self) -> Option<Kind> {
        if !self.rest.first().is_some_and(|t| t.contains(&b':')) {
            return None;
        }
        match self.channel {
            [b'c' | b'C', d, ..] if d.is_ascii_digit() => Some(Kind::Impulse),
            [a, b, modifier @ ..] if modifier.len() <= 1 => {
                let kind = match [a.to_ascii_uppercase(), b.to_ascii_uppercase()] {
                    [b'R', b'T'] => TimyTimeKind::Run,
                    [b'T', b'T'] => TimyTimeKind::Total,
                    [b'D', b'T'] => TimyTimeKind::Difference,
                    _ => return None,
                };
                modifier.iter().all(u8::is_ascii_alphabetic).then_some(Kind::Computed(kind))
            }
            _ => None,
        }
    }
}

fn shape(text: &[u8]) -> Option<Shape<'_>> {
    let (flag, rest) = text.split_first()?;
    let info = TimyInfo::from_flag(*flag)?;
    let mut words = rest.split(u8::is_ascii_whitespace).filter(|w| !w.is_empty());
    let first = words.next()?;
    let digits = first.iter().take_while(|b| b.is_ascii_digit()).count();
    let (number, after) = first.split_at_checked(digits)?;
    let (course, glued) = match after.split_first() {
        Some((letter, tail)) if digits > 0 && letter.is_ascii_lowercase() => {
            (Some(char::from(*letter)), tail)
        }
        _ => (None, after),
    };
    let channel = if glued.is_empty() { words.next()? } else { glued };
    Some(Shape { info, number, course, channel, rest: words.collect() })
}

fn impulse(text: &[u8], shape: &Shape<'_>) -> Result<TagRead, RejectReason> {
    let info = shape.info;
    let [time, last] = shape.rest.as_slice() else {
        return Err(RejectReason::FieldCount { expected: "4 words", got: shape.rest.len() + 2 });
    };

    let (group_chars, checksummed) = match last.len() {
        2 => (*last, false),
        4 => {
            let carried = span(last, 2, 4);
            let end = text.len().saturating_sub(2);
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
    let number = decimal_as::<u32>(shape.number)
        .ok_or_else(|| RejectReason::bad_field("number", shape.number))?;
    let channel = parse_channel(shape.channel)
        .ok_or_else(|| RejectReason::bad_field("channel", shape.channel))?;
    let time = time_of_day(time).ok_or_else(|| RejectReason::bad_field("time", time))?;

    Ok(TagRead {
        chip: String::new(),
        bib: None,
        antenna: Some(channel.number),
        rssi: None,
        reader_time: Some(ReaderTime::TimeOfDay(time)),
        replay_key: Some(ReplayKey::Timy { number, channel, time }),
        flags: ReadFlags { from_memory: info == TimyInfo::FromMemory, ..ReadFlags::default() },
        details: ReadDetails::Timy(TimyDetails {
            info,
            number,
            channel,
            group,
            checksummed,
            course: shape.course,
        }),
        raw: Vec::new(),
    })
}

/// A run / total / difference time line: `yNNNN[x]RT[m] HH:MM:SS.zh GG [rank]`.
fn computed(shape: &Shape<'_>, kind: TimyTimeKind) -> Result<TimyControl, RejectReason> {
    let number = decimal_as::<u32>(shape.number)
        .ok_or_else(|| RejectReason::bad_field("number", shape.number))?;
    let time_chars = shape.rest.first().copied().unwrap_or_default();
    let time =
        time_of_day(time_chars).ok_or_else(|| RejectReason::bad_field("time", time_chars))?;
    let time = Duration::from_secs(u64::from(time.num_seconds_from_midnight()))
        + Duration::from_nanos(u64::from(time.nanosecond()));
    Ok(TimyControl::Computed {
        info: shape.info,
        number,
        course: shape.course,
        kind,
        word: String::from_utf8_lossy(shape.channel).into_owned(),
        time,
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
