//! RFID Timing Systems Ultra / Joey (readers.md §2): LF-terminated ASCII lines on TCP 23. Chip
//! reads are 12 comma-separated fields; banners, voltage keepalives, status, clock replies and
//! setting lines come through as control messages.
//!
//! Chip line: `type,chip,secs-since-1980-local,ms,port,rssi,is-rewind,reader,ultra-id,
//! reader-time,start-time,log-id`. The timestamp is the reader's local clock (its TZ setting), so
//! it is a [`ReaderTime::Local`]. The log id with the read's time is the replay key: rewinds
//! re-send with field 6 = 1 and the same time, while a log that restarted (ids from 1 again)
//! carries new times.
//! Chip `0` on port `0` is the gun time ([`ReadFlags::gun`]).

pub mod command;
pub(crate) mod conversation;
#[cfg(any(test, feature = "emulators"))]
pub(crate) mod emulation;

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};

use crate::framing::{LineDecoder, LineRules, Terminator};
use crate::text::{decimal, decimal_as, time_of_day, trim_line_end};
use crate::{
    Control, ControlMessage, Decoded, ReadDetails, ReadFlags, ReaderTime, RejectReason, Rejected,
    ReplayKey, Rssi, TagRead,
};

/// Longest line accepted, terminator included.
pub const MAX_LINE: usize = 512;
/// Most bytes the decoder holds between calls.
pub const BUFFER_LIMIT: usize = MAX_LINE;

/// The reader's epoch: 1980-01-01 00:00:00, reader-local time.
pub fn epoch() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(1980, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or_default()
}

/// Whole seconds from the reader epoch to `at` (negative before 1980), as the rewind and
/// send-from commands want them.
pub fn seconds_since_epoch(at: NaiveDateTime) -> i64 {
    (at - epoch()).num_seconds()
}

/// The Ultra-specific part of a chip read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UltraDetails {
    /// Field 0: record type (`0`; PikaTimer also accepts `1`).
    pub record_type: u8,
    /// Field 2: seconds since 1980-01-01 local.
    pub seconds: u64,
    /// Field 3: milliseconds.
    pub millis: u16,
    /// Field 6: re-sent from memory by a rewind.
    pub is_rewind: bool,
    /// Field 7: internal reader 1 or 2.
    pub reader: u8,
    /// Field 8: box id.
    pub ultra_id: u8,
    /// Field 9: the reader-time string, as sent.
    pub reader_time: String,
    /// Field 10: start time (MTB downhill mode).
    pub start_time: i64,
    /// Field 11: per-reader log id.
    pub log_id: u64,
}

/// Ultra lines that are not chip reads.
#[derive(Debug, Clone, PartialEq)]
pub enum UltraControl {
    /// `Connected,<…>` (or `1,Connected,<…>`) banner; the text after `Connected,`.
    Connected(String),
    /// `V=<volts>` battery keepalive.
    Voltage(f32),
    /// `S=<a><b>`: `a` 0 stopped / 1 reading; the rest as sent.
    Status {
        /// The reader is reading.
        reading: bool,
        /// Characters after the first status digit.
        detail: String,
    },
    /// Reply to the get-time command: `H:M:S D-M-YYYY (n)`.
    Time {
        /// The reader's local clock.
        at: NaiveDateTime,
        /// What followed the date (e.g. `(3)`).
        note: String,
    },
    /// `U<id><value>` setting value or `u<id><status>` confirmation (status 0x02 = saved).
    Setting {
        /// `u` (confirmation) rather than `U` (value).
        confirmation: bool,
        /// Setting id byte (0x09 chip format, 0x23 time zone, …).
        id: Option<u8>,
        /// Bytes after the id.
        value: Vec<u8>,
    },
    /// A line starting with byte 0x03 (extended status): the bytes after it.
    ExtendedStatus(Vec<u8>),
    /// Any other text line.
    Text(String),
}

/// Ultra / Joey's line rules: lines ended by CR, LF or CR LF, at most [`MAX_LINE`] bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct UltraLines;

impl LineRules for UltraLines {
    const TERMINATOR: Terminator = Terminator::CrOrLf;
    const MAX_LINE: usize = MAX_LINE;

    fn decode_line(&self, line: &[u8], out: &mut Vec<Decoded>) {
        out.extend(decode_line(line));
    }
}

/// Streaming decoder for an Ultra / Joey TCP connection.
pub type UltraDecoder = LineDecoder<UltraLines>;

fn control(message: UltraControl, raw: &[u8]) -> Decoded {
    Decoded::Control(Control { message: ControlMessage::Ultra(message), raw: raw.to_vec() })
}

fn rejected(reason: RejectReason, raw: &[u8]) -> Decoded {
    Decoded::Rejected(Rejected::new(reason, raw))
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim().to_string()
}

/// Decodes one line (with or without its LF). `None` for an empty line.
pub fn decode_line(line: &[u8]) -> Option<Decoded> {
    let text = trim_line_end(line);
    let first = *text.first()?;
    let rest = text.get(1..).unwrap_or_default();
    let decoded = match first {
        0x03 => control(UltraControl::ExtendedStatus(rest.to_vec()), line),
        b'U' | b'u' => control(
            UltraControl::Setting {
                confirmation: first == b'u',
                id: rest.first().copied(),
                value: rest.get(1..).unwrap_or_default().to_vec(),
            },
            line,
        ),
        _ if text.starts_with(b"V=") => {
            let volts = std::str::from_utf8(rest.get(1..).unwrap_or_default())
                .ok()
                .and_then(|s| s.trim().parse::<f32>().ok())
                .filter(|v| v.is_finite());
            match volts {
                Some(v) => control(UltraControl::Voltage(v), line),
                None => rejected(RejectReason::bad_field("voltage", text), line),
            }
        }
        _ if text.starts_with(b"S=") => match rest.get(1..).unwrap_or_default() {
            [a @ (b'0' | b'1'), detail @ ..] => {
                control(UltraControl::Status { reading: *a == b'1', detail: lossy(detail) }, line)
            }
            _ => rejected(RejectReason::bad_field("status", text), line),
        },
        _ if text.starts_with(b"Connected") => {
            let after = text.get(b"Connected".len()..).unwrap_or_default();
            control(UltraControl::Connected(lossy(after.strip_prefix(b",").unwrap_or(after))), line)
        }
        b'0' | b'1' if text.get(1) == Some(&b',') => {
            let after_type = text.get(2..).unwrap_or_default();
            if let Some(banner) = after_type.strip_prefix(b"Connected") {
                control(
                    UltraControl::Connected(lossy(banner.strip_prefix(b",").unwrap_or(banner))),
                    line,
                )
            } else {
                match chip_line(text) {
                    Ok(read) => Decoded::Read(TagRead { raw: line.to_vec(), ..read }),
                    Err(reason) => rejected(reason, line),
                }
            }
        }
        b'0'..=b'9' if text.contains(&b':') => match clock_reply(text) {
            Some((at, note)) => control(UltraControl::Time { at, note }, line),
            None => rejected(RejectReason::bad_field("reader time", text), line),
        },
        _ => match std::str::from_utf8(text) {
            Ok(s) if !s.chars().any(|c| c.is_control() && c != '\t') => {
                control(UltraControl::Text(s.trim().to_string()), line)
            }
            _ => rejected(RejectReason::Garbage, line),
        },
    };
    Some(decoded)
}

/// `H:M:S D-M-YYYY (n)`.
fn clock_reply(text: &[u8]) -> Option<(NaiveDateTime, String)> {
    let text = std::str::from_utf8(text).ok()?;
    let mut words = text.split_whitespace();
    let time = time_of_day(words.next()?.as_bytes())?;
    let mut dmy = words.next()?.split('-');
    let (d, m, y) = (dmy.next()?, dmy.next()?, dmy.next()?);
    if dmy.next().is_some() {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(
        decimal_as::<i32>(y.as_bytes())?,
        decimal_as::<u32>(m.as_bytes())?,
        decimal_as::<u32>(d.as_bytes())?,
    )?;
    Some((date.and_time(time), words.collect::<Vec<_>>().join(" ")))
}

fn chip_line(text: &[u8]) -> Result<TagRead, RejectReason> {
    let fields: Vec<&[u8]> = text.split(|b| *b == b',').collect();
    let [kind, chip, secs, ms, port, rssi, rewind, reader, ultra_id, reader_time, start, log] =
        fields.as_slice()
    else {
        return Err(RejectReason::FieldCount { expected: "12", got: fields.len() });
    };
    let record_type = decimal_as::<u8>(kind)
        .filter(|t| *t <= 1)
        .ok_or_else(|| RejectReason::bad_field("record type", kind))?;
    let chip_text = std::str::from_utf8(chip)
        .ok()
        .map(str::trim)
        .filter(|c| !c.is_empty() && c.chars().all(|ch| ch.is_ascii_alphanumeric()))
        .ok_or_else(|| RejectReason::bad_field("chip", chip))?;
    let seconds = decimal(secs).ok_or_else(|| RejectReason::bad_field("seconds", secs))?;
    let millis = decimal_as::<u16>(ms)
        .filter(|m| *m <= 999)
        .ok_or_else(|| RejectReason::bad_field("milliseconds", ms))?;
    let antenna = decimal_as::<u8>(port).ok_or_else(|| RejectReason::bad_field("port", port))?;
    let rssi_dbm = std::str::from_utf8(rssi)
        .ok()
        .and_then(|s| s.trim().parse::<i16>().ok())
        .ok_or_else(|| RejectReason::bad_field("RSSI", rssi))?;
    let is_rewind = match *rewind {
        b"0" => false,
        b"1" => true,
        other => return Err(RejectReason::bad_field("is-rewind", other)),
    };
    let reader =
        decimal_as::<u8>(reader).ok_or_else(|| RejectReason::bad_field("reader", reader))?;
    let ultra_id =
        decimal_as::<u8>(ultra_id).ok_or_else(|| RejectReason::bad_field("Ultra id", ultra_id))?;
    let start_time = std::str::from_utf8(start)
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .ok_or_else(|| RejectReason::bad_field("start time", start))?;
    let log_id = decimal(log).ok_or_else(|| RejectReason::bad_field("log id", log))?;
    let at = i64::try_from(seconds)
        .ok()
        .and_then(TimeDelta::try_seconds)
        .and_then(|d| epoch().checked_add_signed(d))
        .and_then(|t| t.checked_add_signed(TimeDelta::try_milliseconds(i64::from(millis))?))
        .ok_or_else(|| RejectReason::bad_field("seconds", secs))?;

    Ok(TagRead {
        chip: chip_text.to_string(),
        bib: None,
        antenna: Some(antenna),
        rssi: Some(Rssi::Dbm(rssi_dbm)),
        reader_time: Some(ReaderTime::Local(at)),
        replay_key: Some(ReplayKey::Ultra { ultra_id, reader, log_id, at: Some(at) }),
        flags: ReadFlags {
            from_memory: is_rewind,
            gun: chip_text == "0" && antenna == 0,
            ..ReadFlags::default()
        },
        details: ReadDetails::Ultra(UltraDetails {
            record_type,
            seconds,
            millis,
            is_rewind,
            reader,
            ultra_id,
            reader_time: String::from_utf8_lossy(reader_time).into_owned(),
            start_time,
            log_id,
        }),
        raw: Vec::new(),
    })
}
