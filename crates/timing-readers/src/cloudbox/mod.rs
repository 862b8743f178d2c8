//! RUFUS CloudBox local protocol (readers.md §9): after `START` the box pushes one JSON object per
//! passing, and answers commands with `{"command": …, "result": {…}}`. No delimiter between
//! objects is documented, so this is a streaming JSON decoder: objects back to back, with or
//! without whitespace or newlines between them; anything else is garbage, skipped and reported.
//!
//! A candidate object starts at `{` and is followed byte by byte with a small JSON syntax
//! automaton, so garbage that merely contains a `{` is ruled out at its first impossible byte and
//! the real object behind it still decodes. A complete object is then parsed with `serde_json`.
//!
//! Passing fields: `epc` (required), `timestamp` (required, ISO 8601 UTC), `seenCount`,
//! `antenna`, `rssi` (dBm, rounded to whole dBm), `passingNumber` (the replay key), `tagStr`,
//! `latitude`, `longitude`, `chksum` (algorithm undocumented: kept, not checked). Numbers may
//! also come as numeric strings. The replay key is the passing number with the timestamp: a frame
//! names no session or file, and a new one numbers from 1 again. ⚠ readers.md: one copy of the docs shows `;` instead of `T` in
//! the timestamp; both are accepted.

pub mod command;
pub(crate) mod conversation;
#[cfg(any(test, feature = "emulators"))]
pub(crate) mod emulation;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Map, Value};

use crate::text::span;
use crate::{
    Control, ControlMessage, Decoded, Decoder, ReadDetails, ReadFlags, ReaderTime, RejectReason,
    Rejected, ReplayKey, Rssi, TagRead,
};

/// Largest object accepted; a longer one is cut and rejected as too long.
pub const MAX_OBJECT: usize = 32 * 1024;
/// Garbage is reported in chunks of at most this many bytes.
pub const GARBAGE_CHUNK: usize = 1024;
/// Most bytes the decoder holds between calls.
pub const BUFFER_LIMIT: usize = MAX_OBJECT + GARBAGE_CHUNK;
/// Deepest nesting accepted.
const MAX_DEPTH: usize = 32;
/// Input is processed in pieces of this size.
const CHUNK: usize = 4096;

/// The CloudBox-specific part of a passing.
#[derive(Debug, Clone, PartialEq)]
pub struct CloudBoxDetails {
    /// `passingNumber`: the session's sequence number.
    pub passing_number: Option<u64>,
    /// `seenCount`: reads in the cycle.
    pub seen_count: Option<u32>,
    /// `tagStr`: the tag's string form extracted from the EPC.
    pub tag_str: Option<String>,
    /// `latitude`.
    pub latitude: Option<f64>,
    /// `longitude`.
    pub longitude: Option<f64>,
    /// `chksum`, as sent.
    pub chksum: Option<String>,
}

/// CloudBox objects that are not passings.
#[derive(Debug, Clone, PartialEq)]
pub enum CloudBoxControl {
    /// `{"command": "<CMD>", "result": …}`.
    Reply {
        /// The command answered.
        command: String,
        /// Its result (`Null` when absent).
        result: Value,
    },
    /// Any other JSON object.
    Other(Value),
}

/// Streaming decoder for a CloudBox TCP connection.
#[derive(Debug, Default)]
pub struct CloudBoxDecoder {
    buf: Vec<u8>,
    /// Leading bytes of `buf` already known to be garbage, not yet reported.
    garbage: usize,
    /// Why the first of them is garbage.
    first_reason: Option<RejectReason>,
    /// The automaton following the candidate object at `buf[garbage..]`.
    scan: Option<Scan>,
}

impl CloudBoxDecoder {
    /// A decoder for one connection.
    pub fn new() -> Self {
        Self::default()
    }

    fn process(&mut self, out: &mut Vec<Decoded>) {
        let mut start = 0;
        loop {
            let cand = start + self.garbage;
            let Some(scan) = self.scan.as_mut() else {
                match self.buf.get(cand) {
                    None => break,
                    Some(b'{') => self.scan = Some(Scan::new()),
                    Some(b' ' | b'\t' | b'\r' | b'\n') if self.garbage == 0 => start += 1,
                    Some(_) => {
                        if self.garbage == 0 {
                            self.first_reason = Some(RejectReason::Garbage);
                        }
                        self.garbage += 1;
                        if self.garbage >= GARBAGE_CHUNK {
                            self.emit_garbage(start, out);
                            start += GARBAGE_CHUNK;
                        }
                    }
                }
                continue;
            };
            let available = self.buf.len().saturating_sub(cand);
            match scan.advance(span(&self.buf, cand, self.buf.len())) {
                Progress::Complete(n) => {
                    match serde_json::from_slice::<Value>(span(&self.buf, cand, cand + n)) {
                        Ok(value) => {
                            self.emit_garbage(start, out);
                            out.push(decode_value(value, span(&self.buf, cand, cand + n)));
                            start = cand + n;
                            self.scan = None;
                        }
                        Err(e) => self.rule_out(RejectReason::BadJson { error: e.to_string() }),
                    }
                }
                Progress::Invalid(at) => self.rule_out(RejectReason::BadJson {
                    error: format!("unexpected byte at offset {at}"),
                }),
                Progress::NeedMore if available >= MAX_OBJECT => {
                    self.emit_garbage(start, out);
                    out.push(Decoded::Rejected(Rejected::new(
                        RejectReason::TooLong { limit: MAX_OBJECT },
                        span(&self.buf, cand, cand + MAX_OBJECT),
                    )));
                    start = cand + MAX_OBJECT;
                    self.scan = None;
                }
                Progress::NeedMore => break,
            }
        }
        self.buf.drain(..start.min(self.buf.len()));
    }

    /// The candidate at `buf[garbage]` is not an object: its `{` joins the garbage.
    fn rule_out(&mut self, reason: RejectReason) {
        if self.garbage == 0 {
            self.first_reason = Some(reason);
        }
        self.garbage += 1;
        self.scan = None;
    }

    /// Reports `buf[start..start + garbage]`.
    fn emit_garbage(&mut self, start: usize, out: &mut Vec<Decoded>) {
        if self.garbage > 0 {
            let reason = self.first_reason.take().unwrap_or(RejectReason::Garbage);
            let raw = span(&self.buf, start, start + self.garbage);
            out.push(Decoded::Rejected(Rejected::new(reason, raw)));
            self.garbage = 0;
        }
    }
}

impl Decoder for CloudBoxDecoder {
    fn feed(&mut self, bytes: &[u8], out: &mut Vec<Decoded>) {
        for chunk in bytes.chunks(CHUNK) {
            self.buf.extend_from_slice(chunk);
            self.process(out);
        }
    }

    fn idle(&mut self, out: &mut Vec<Decoded>) {
        let garbage = self.garbage;
        self.emit_garbage(0, out);
        self.buf.drain(..garbage.min(self.buf.len()));
    }

    fn finish(&mut self, out: &mut Vec<Decoded>) {
        self.idle(out);
        if !self.buf.is_empty() {
            out.push(Decoded::Rejected(Rejected::new(RejectReason::Truncated, &self.buf)));
        }
        *self = Self::default();
    }

    fn buffered(&self) -> usize {
        self.buf.len()
    }
}

/// What the automaton expects next (outside strings and bare tokens).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// After `{`: a key or `}`.
    KeyOrClose,
    /// After `,` in an object.
    Key,
    /// After a key.
    Colon,
    /// After `:` or `,` in an array.
    Value,
    /// After `[`: a value or `]`.
    ValueOrClose,
    /// After a value.
    CommaOrClose,
}

/// Where the automaton is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lexeme {
    /// Between tokens.
    Structure,
    /// Inside a string (`key` = an object key); `escape`: 0 none, 1 after `\`, 2–5 reading the
    /// hex digits of `\uXXXX`.
    Str { key: bool, escape: u8 },
    /// Inside a number or `true` / `false` / `null` (checked by serde at the end).
    Bare,
}

/// Follows one candidate object, resumable across feeds.
#[derive(Debug, Clone)]
struct Scan {
    /// Bytes of the candidate consumed so far.
    pos: usize,
    /// Open containers: `true` = object, `false` = array.
    stack: Vec<bool>,
    expect: Expect,
    lexeme: Lexeme,
}

enum Progress {
    /// The object ends after this many bytes.
    Complete(usize),
    /// The byte at this offset cannot continue valid JSON.
    Invalid(usize),
    /// All available bytes are a valid prefix.
    NeedMore,
}

impl Scan {
    fn new() -> Self {
        Scan { pos: 0, stack: Vec::new(), expect: Expect::Value, lexeme: Lexeme::Structure }
    }

    fn advance(&mut self, candidate: &[u8]) -> Progress {
        let end = candidate.len().min(MAX_OBJECT);
        while self.pos < end {
            let Some(&b) = candidate.get(self.pos) else { break };
            let at = self.pos;
            self.pos += 1;
            match self.step(b) {
                Step::Continue => {}
                Step::Done => return Progress::Complete(self.pos),
                Step::Invalid => return Progress::Invalid(at),
            }
        }
        Progress::NeedMore
    }

    fn step(&mut self, b: u8) -> Step {
        match self.lexeme {
            Lexeme::Str { key, escape } => {
                self.lexeme = match (escape, b) {
                    (0, b'"') => {
                        self.lexeme = Lexeme::Structure;
                        self.expect = if key { Expect::Colon } else { Expect::CommaOrClose };
                        return Step::Continue;
                    }
                    (0, b'\\') => Lexeme::Str { key, escape: 1 },
                    (0, 0x00..=0x1f) => return Step::Invalid,
                    (0, _) => Lexeme::Str { key, escape: 0 },
                    (1, b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                        Lexeme::Str { key, escape: 0 }
                    }
                    (1, b'u') => Lexeme::Str { key, escape: 2 },
                    (2..=5, h) if h.is_ascii_hexdigit() => {
                        Lexeme::Str { key, escape: if escape == 5 { 0 } else { escape + 1 } }
                    }
                    _ => return Step::Invalid,
                };
                Step::Continue
            }
            Lexeme::Bare if is_bare(b) => Step::Continue,
            Lexeme::Bare => {
                self.lexeme = Lexeme::Structure;
                self.expect = Expect::CommaOrClose;
                self.structure(b)
            }
            Lexeme::Structure => self.structure(b),
        }
    }

    fn structure(&mut self, b: u8) -> Step {
        if matches!(b, b' ' | b'\t' | b'\r' | b'\n') {
            return Step::Continue;
        }
        let in_object = self.stack.last().copied();
        match (self.expect, b) {
            (Expect::KeyOrClose | Expect::Key, b'"') => {
                self.lexeme = Lexeme::Str { key: true, escape: 0 };
            }
            (Expect::Colon, b':') => self.expect = Expect::Value,
            (Expect::Value | Expect::ValueOrClose, b'{' | b'[') => {
                if self.stack.len() >= MAX_DEPTH {
                    return Step::Invalid;
                }
                self.stack.push(b == b'{');
                self.expect = if b == b'{' { Expect::KeyOrClose } else { Expect::ValueOrClose };
            }
            // Only an object may start a candidate.
            (Expect::Value, _) if self.stack.is_empty() => return Step::Invalid,
            (Expect::Value | Expect::ValueOrClose, b'"') => {
                self.lexeme = Lexeme::Str { key: false, escape: 0 };
            }
            (Expect::Value | Expect::ValueOrClose, b'-' | b'0'..=b'9' | b't' | b'f' | b'n') => {
                self.lexeme = Lexeme::Bare;
            }
            (Expect::CommaOrClose, b',') => {
                self.expect = if in_object == Some(true) { Expect::Key } else { Expect::Value };
            }
            (Expect::KeyOrClose | Expect::CommaOrClose, b'}') if in_object == Some(true) => {
                return self.close();
            }
            (Expect::ValueOrClose | Expect::CommaOrClose, b']') if in_object == Some(false) => {
                return self.close();
            }
            _ => return Step::Invalid,
        }
        Step::Continue
    }

    fn close(&mut self) -> Step {
        self.stack.pop();
        self.expect = Expect::CommaOrClose;
        if self.stack.is_empty() { Step::Done } else { Step::Continue }
    }
}

enum Step {
    Continue,
    Done,
    Invalid,
}

fn is_bare(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')
}

/// Decodes one parsed object; `raw` is its exact bytes.
fn decode_value(value: Value, raw: &[u8]) -> Decoded {
    let control = |message: CloudBoxControl| {
        Decoded::Control(Control { message: ControlMessage::CloudBox(message), raw: raw.to_vec() })
    };
    let Value::Object(object) = value else { return control(CloudBoxControl::Other(value)) };
    if object.contains_key("epc") {
        match passing(&object) {
            Ok(read) => Decoded::Read(TagRead { raw: raw.to_vec(), ..read }),
            Err(reason) => Decoded::Rejected(Rejected::new(reason, raw)),
        }
    } else if let Some(Value::String(command)) = object.get("command") {
        control(CloudBoxControl::Reply {
            command: command.clone(),
            result: object.get("result").cloned().unwrap_or(Value::Null),
        })
    } else {
        control(CloudBoxControl::Other(Value::Object(object)))
    }
}

/// Decodes one JSON object given as bytes (a line of a CloudBox backup file, say).
pub fn decode_object(raw: &[u8]) -> Decoded {
    match serde_json::from_slice::<Value>(raw) {
        Ok(value) => decode_value(value, raw),
        Err(e) => {
            Decoded::Rejected(Rejected::new(RejectReason::BadJson { error: e.to_string() }, raw))
        }
    }
}

fn bad(field: &'static str, value: &Value) -> RejectReason {
    RejectReason::bad_field(field, value.to_string().as_bytes())
}

/// A string field, or a number written as one.
fn text_field(
    object: &Map<String, Value>,
    field: &'static str,
) -> Result<Option<String>, RejectReason> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(bad(field, other)),
    }
}

/// A number field, or a string holding one.
fn number_field(
    object: &Map<String, Value>,
    field: &'static str,
) -> Result<Option<f64>, RejectReason> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            n.as_f64().map(Some).ok_or_else(|| bad(field, &Value::Number(n.clone())))
        }
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(v @ Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(Some)
            .ok_or_else(|| bad(field, v)),
        Some(other) => Err(bad(field, other)),
    }
}

/// A whole, non-negative number field that fits `T`.
fn count_field<T: TryFrom<u64>>(
    object: &Map<String, Value>,
    field: &'static str,
) -> Result<Option<T>, RejectReason> {
    let bad_value = || bad(field, object.get(field).unwrap_or(&Value::Null));
    match object.get(field) {
        Some(Value::Number(n)) if n.is_u64() => {
            n.as_u64().and_then(|v| T::try_from(v).ok()).map(Some).ok_or_else(bad_value)
        }
        Some(Value::String(s)) if !s.trim().is_empty() => {
            crate::text::decimal_as::<T>(s.trim().as_bytes()).map(Some).ok_or_else(bad_value)
        }
        Some(Value::String(_) | Value::Null) | None => Ok(None),
        Some(_) => Err(bad_value()),
    }
}

/// ISO 8601 UTC; `;` accepted in place of `T`; no offset = UTC.
fn timestamp(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    let fixed: String = text
        .char_indices()
        .map(|(i, c)| if i == 10 && (c == ';' || c == ' ') { 'T' } else { c })
        .collect();
    DateTime::parse_from_rfc3339(&fixed).map(|t| t.with_timezone(&Utc)).ok().or_else(|| {
        NaiveDateTime::parse_from_str(&fixed, "%Y-%m-%dT%H:%M:%S%.f").ok().map(|t| t.and_utc())
    })
}

/// The box's clock in a `GETSYSTEMTIME` reply's `result`. readers.md does not give the result's
/// shape, so this accepts an ISO 8601 string, or an object holding one under `time`,
/// `systemTime`, `timestamp`, `datetime` or `date`, or a Unix time in seconds or milliseconds
/// (numbers above 10¹¹ are milliseconds).
pub fn system_time(result: &Value) -> Option<DateTime<Utc>> {
    match result {
        Value::String(text) => timestamp(text),
        Value::Number(n) => {
            let n = n.as_f64().filter(|n| n.is_finite() && *n >= 0.0)?;
            let ms = if n > 1e11 { n } else { n * 1000.0 };
            // Whole milliseconds of a plausible date: well inside i64.
            #[allow(clippy::cast_possible_truncation)]
            let ms = ms.round() as i64;
            DateTime::from_timestamp_millis(ms)
        }
        Value::Object(object) => ["time", "systemTime", "timestamp", "datetime", "date"]
            .iter()
            .find_map(|key| object.get(*key).and_then(system_time)),
        _ => None,
    }
}

fn passing(object: &Map<String, Value>) -> Result<TagRead, RejectReason> {
    let epc = text_field(object, "epc")?
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty())
        .ok_or_else(|| bad("epc", object.get("epc").unwrap_or(&Value::Null)))?;
    let stamp = object.get("timestamp").unwrap_or(&Value::Null);
    let at = match stamp {
        Value::String(s) => timestamp(s),
        _ => None,
    }
    .ok_or_else(|| bad("timestamp", stamp))?;
    let antenna = count_field::<u8>(object, "antenna")?;
    let rssi = number_field(object, "rssi")?
        .map(|r| r.round())
        .filter(|r| (f64::from(i16::MIN)..=f64::from(i16::MAX)).contains(r))
        .map(|r| {
            // In range of i16 and whole, so the conversion is exact.
            #[allow(clippy::cast_possible_truncation)]
            let dbm = r as i16;
            Rssi::Dbm(dbm)
        });
    let passing_number = count_field::<u64>(object, "passingNumber")?;

    Ok(TagRead {
        chip: epc,
        bib: None,
        antenna,
        rssi,
        reader_time: Some(ReaderTime::Utc(at)),
        replay_key: passing_number
            .map(|passing_number| ReplayKey::CloudBox { passing_number, at: Some(at) }),
        flags: ReadFlags::default(),
        details: ReadDetails::CloudBox(CloudBoxDetails {
            passing_number,
            seen_count: count_field::<u32>(object, "seenCount")?,
            tag_str: text_field(object, "tagStr")?,
            latitude: number_field(object, "latitude")?,
            longitude: number_field(object, "longitude")?,
            chksum: text_field(object, "chksum")?,
        }),
        raw: Vec::new(),
    })
}
