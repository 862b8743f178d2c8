//! RACE RESULT System decoder text protocol (readers.md §5a, TCP 3601): `;`-separated ASCII
//! lines ending CR LF. Passing records — pushed as `#P;<record>` or returned by a
//! `<from>:<count>` fetch — become reads; other replies (`PASSINGS;…`, `GETTIME;…`,
//! `STARTOPERATION;OK;…`, …) become control messages, and the empty line that ends a fetch is
//! [`RaceResultControl::EndOfList`].
//!
//! Record (protocol ≥ 1.6, 20 fields): PassingNo; Bib/TranspCode; Date; Time; EventID; Hits;
//! MaxRSSI; InternalData; IsActive; Channel; LoopID; LoopOnly; WakeupCounter; Battery;
//! Temperature; InternalActiveData; BoxName; FileNumber; MaxRSSIAntenna; BoxId. At least the first
//! four must be present; missing or empty later fields are `None` / empty.
//!
//! MaxRSSI is a signed decimal (RACE RESULT KB 21392: passive RSSI in dBm, e.g. `-68` in a real
//! passing; KB 5806: active, a decimal byte), so a negative value is dBm and a non-negative one
//! the raw active value; readers.md's illustrative `1C` (and metarace's hex reading) is kept as a
//! raw hex value. It is informational: a MaxRSSI that is none of these is dropped, never the
//! passing. Hits are read as hex (metarace; the KB does not say), as is InternalActiveData, whose
//! bit 0x40 marks a stored, re-sent passing. Date `0000-00-DD` (clock never set) becomes
//! [`ReaderTime::SinceStart`] with `days` = DD. The code is the bib when the record carries a
//! non-zero EventID (a passive bib tag); otherwise it is a transponder code and `bib` is `None`.
//!
//! The replay key is (BoxId, FileNumber, PassingNo); a record that names no file (protocols
//! before 1.6, e.g. CrossMgr's 8-field passing) adds its reader time, since passing numbers
//! restart with every file and a restarted decoder and nothing else would tell the runs apart.

pub mod command;
pub(crate) mod conversation;
#[cfg(any(test, feature = "emulators"))]
pub(crate) mod emulation;

use chrono::NaiveDate;

use crate::framing::{LineDecoder, LineRules, Terminator};
use crate::text::{decimal, decimal_as, hex_number, time_of_day, trim_line_end};
use crate::{
    Control, ControlMessage, Decoded, ReadDetails, ReadFlags, ReaderTime, RejectReason, Rejected,
    ReplayKey, Rssi, TagRead,
};

/// MaxRSSI as the decoder sends it (see the module docs); `None` for anything unreadable.
fn max_rssi(text: &str) -> Option<Rssi> {
    match text.parse::<i16>() {
        Ok(dbm) if dbm < 0 => Some(Rssi::Dbm(dbm)),
        Ok(raw) => u16::try_from(raw).ok().map(Rssi::Raw),
        Err(_) => hex_number(text.as_bytes()).and_then(|v| u16::try_from(v).ok()).map(Rssi::Raw),
    }
}

/// Longest line accepted, terminator included.
pub const MAX_LINE: usize = 1024;
/// Most bytes the decoder holds between calls.
pub const BUFFER_LIMIT: usize = MAX_LINE;

/// The RACE RESULT-specific part of a passing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaceResultDetails {
    /// Came as a `#P;` push (rather than a fetched record).
    pub pushed: bool,
    /// 1: PassingNo, per file.
    pub passing_number: u64,
    /// 5: EventID (bib-set id; `None` when empty).
    pub event_id: Option<u32>,
    /// 6: Hits (read as hex, see the module docs).
    pub hits: Option<u32>,
    /// 7: MaxRSSI: dBm when negative, else the raw value (see the module docs); `None` when
    /// empty or unreadable.
    pub max_rssi: Option<Rssi>,
    /// 8: InternalData, as sent.
    pub internal_data: String,
    /// 9: IsActive (active transponder).
    pub is_active: bool,
    /// 10: Channel 1–8.
    pub channel: Option<u8>,
    /// 11: LoopID 1–8.
    pub loop_id: Option<u8>,
    /// 12: LoopOnly (store mode).
    pub loop_only: bool,
    /// 13: WakeupCounter.
    pub wakeup_counter: Option<u32>,
    /// 14: Battery (V), as sent.
    pub battery: String,
    /// 15: Temperature (°C), as sent.
    pub temperature: String,
    /// 16: InternalActiveData (read as hex).
    pub internal_active_data: Option<u32>,
    /// 17: BoxName.
    pub box_name: String,
    /// 18: FileNumber.
    pub file_number: Option<u32>,
    /// 19: MaxRSSIAntenna.
    pub max_rssi_antenna: Option<u8>,
    /// 20: BoxId, e.g. `D-50123`.
    pub box_id: String,
}

/// RACE RESULT lines that are not passings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RaceResultControl {
    /// `PASSINGS;<count>[;<fileNo>]`.
    PassingsCount {
        /// Passings in the current file.
        count: u64,
        /// File number, when sent.
        file: Option<u32>,
    },
    /// `GETTIME;<date>;<time>`.
    Time(ReaderTime),
    /// Any other reply: the first field and the rest (`STARTOPERATION;OK;…`, `ONLY …`, …).
    Reply {
        /// First field.
        command: String,
        /// Remaining fields.
        fields: Vec<String>,
    },
    /// The empty line that ends a `<from>:<count>` fetch.
    EndOfList,
}

/// RACE RESULT's line rules: lines ended by LF, at most [`MAX_LINE`] bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct RaceResultLines;

impl LineRules for RaceResultLines {
    const TERMINATOR: Terminator = Terminator::Lf;
    const MAX_LINE: usize = MAX_LINE;

    fn decode_line(&self, line: &[u8], out: &mut Vec<Decoded>) {
        out.push(decode_line(line));
    }
}

/// Streaming decoder for a RACE RESULT decoder connection.
pub type RaceResultDecoder = LineDecoder<RaceResultLines>;

fn control(message: RaceResultControl, raw: &[u8]) -> Decoded {
    Decoded::Control(Control { message: ControlMessage::RaceResult(message), raw: raw.to_vec() })
}

/// Decodes one line (with or without its CR LF). An empty line is the end of a fetch.
pub fn decode_line(line: &[u8]) -> Decoded {
    let text = trim_line_end(line);
    if text.is_empty() {
        return control(RaceResultControl::EndOfList, line);
    }
    let Some(text) = std::str::from_utf8(text).ok().filter(|s| !s.chars().any(char::is_control))
    else {
        return Decoded::Rejected(Rejected::new(RejectReason::Garbage, line));
    };
    let (record, pushed) = match text.strip_prefix("#P;") {
        Some(record) => (Some(record), true),
        None if text.starts_with(|c: char| c.is_ascii_digit()) => (Some(text), false),
        None => (None, false),
    };
    match record {
        Some(record) => match passing(record, pushed) {
            Ok(read) => Decoded::Read(TagRead { raw: line.to_vec(), ..read }),
            Err(reason) => Decoded::Rejected(Rejected::new(reason, line)),
        },
        None => reply(text, line),
    }
}

fn reply(text: &str, raw: &[u8]) -> Decoded {
    let mut fields = text.split(';').map(|f| f.trim().to_string());
    let command = fields.next().unwrap_or_default();
    let fields: Vec<String> = fields.collect();
    let message = match (command.as_str(), fields.as_slice()) {
        ("PASSINGS", [count, rest @ ..]) if decimal(count.as_bytes()).is_some() => {
            let file = match rest {
                [] => None,
                [file, ..] => match decimal_as::<u32>(file.as_bytes()) {
                    Some(f) => Some(f),
                    None => {
                        return Decoded::Rejected(Rejected::new(
                            RejectReason::bad_field("file number", file.as_bytes()),
                            raw,
                        ));
                    }
                },
            };
            RaceResultControl::PassingsCount { count: decimal(count.as_bytes()).unwrap_or(0), file }
        }
        ("GETTIME", [date, time, ..]) => match reader_time(date, time) {
            Ok(at) => RaceResultControl::Time(at),
            Err(reason) => return Decoded::Rejected(Rejected::new(reason, raw)),
        },
        _ => RaceResultControl::Reply { command, fields },
    };
    control(message, raw)
}

/// `yyyy-MM-dd` + `hh:mm:ss.kkk`; `0000-00-DD` is day DD since the clock started.
fn reader_time(date: &str, time: &str) -> Result<ReaderTime, RejectReason> {
    let time = time_of_day(time.trim().as_bytes())
        .ok_or_else(|| RejectReason::bad_field("time", time.as_bytes()))?;
    let bad_date = || RejectReason::bad_field("date", date.as_bytes());
    let mut parts = date.trim().split('-');
    let (y, m, d) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(y), Some(m), Some(d), None) => (
            decimal_as::<i32>(y.as_bytes()).ok_or_else(bad_date)?,
            decimal_as::<u32>(m.as_bytes()).ok_or_else(bad_date)?,
            decimal_as::<u32>(d.as_bytes()).ok_or_else(bad_date)?,
        ),
        _ => return Err(bad_date()),
    };
    if y == 0 && m == 0 {
        return Ok(ReaderTime::SinceStart { days: d, time });
    }
    let date = NaiveDate::from_ymd_opt(y, m, d).ok_or_else(bad_date)?;
    Ok(ReaderTime::Local(date.and_time(time)))
}

fn passing(record: &str, pushed: bool) -> Result<TagRead, RejectReason> {
    let fields: Vec<&str> = record.split(';').map(str::trim).collect();
    if fields.len() < 4 {
        return Err(RejectReason::FieldCount {
            expected: "at least 4 (20 from protocol 1.6)",
            got: fields.len(),
        });
    }
    let field = |n: usize| fields.get(n - 1).copied().unwrap_or("");
    // Empty → None; otherwise it must parse.
    fn opt<T>(
        name: &'static str,
        text: &str,
        parse: impl Fn(&[u8]) -> Option<T>,
    ) -> Result<Option<T>, RejectReason> {
        if text.is_empty() {
            return Ok(None);
        }
        parse(text.as_bytes())
            .map(Some)
            .ok_or_else(|| RejectReason::bad_field(name, text.as_bytes()))
    }
    let flag = |name: &'static str, text: &str| match text {
        "" | "0" => Ok(false),
        "1" => Ok(true),
        other => Err(RejectReason::bad_field(name, other.as_bytes())),
    };

    let passing_number = decimal(field(1).as_bytes())
        .ok_or_else(|| RejectReason::bad_field("PassingNo", field(1).as_bytes()))?;
    let code = field(2);
    if code.is_empty() {
        return Err(RejectReason::bad_field("Bib/TranspCode", b""));
    }
    let at = reader_time(field(3), field(4))?;
    let event_id = opt("EventID", field(5), decimal_as::<u32>)?;
    let hits = opt("Hits", field(6), hex_number)?;
    let max_rssi = max_rssi(field(7));
    let is_active = flag("IsActive", field(9))?;
    let channel = opt("Channel", field(10), decimal_as::<u8>)?;
    let loop_id = opt("LoopID", field(11), decimal_as::<u8>)?;
    let loop_only = flag("LoopOnly", field(12))?;
    let wakeup_counter = opt("WakeupCounter", field(13), decimal_as::<u32>)?;
    let internal_active_data = opt("InternalActiveData", field(16), hex_number)?;
    let file_number = opt("FileNumber", field(18), decimal_as::<u32>)?;
    let max_rssi_antenna = opt("MaxRSSIAntenna", field(19), decimal_as::<u8>)?;
    let box_id = field(20).to_string();

    Ok(TagRead {
        chip: code.to_string(),
        bib: event_id.filter(|e| *e != 0).map(|_| code.to_string()),
        antenna: max_rssi_antenna,
        rssi: max_rssi,
        reader_time: Some(at),
        replay_key: Some(ReplayKey::RaceResult {
            box_id: box_id.clone(),
            file: file_number,
            passing: passing_number,
            // Without a file, the passing's time is what names its numbering run.
            at: file_number.is_none().then_some(at),
        }),
        flags: ReadFlags {
            from_memory: internal_active_data.is_some_and(|d| d & 0x40 != 0),
            ..ReadFlags::default()
        },
        details: ReadDetails::RaceResult(RaceResultDetails {
            pushed,
            passing_number,
            event_id,
            hits,
            max_rssi,
            internal_data: field(8).to_string(),
            is_active,
            channel,
            loop_id,
            loop_only,
            wakeup_counter,
            battery: field(14).to_string(),
            temperature: field(15).to_string(),
            internal_active_data,
            box_name: field(17).to_string(),
            file_number,
            max_rssi_antenna,
            box_id,
        }),
        raw: Vec::new(),
    })
}
