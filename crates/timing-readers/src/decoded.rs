//! What a decoder hands out: tag reads, control messages and rejected bytes, each with its raw
//! bytes, in types shared by every protocol so the engine handles all readers alike.

use std::fmt;

use chrono::{DateTime, NaiveDateTime, NaiveTime, Utc};

use crate::{chafon, cloudbox, ipico, llrp, r2000, raceresult, timy, ultra};

/// One thing a decoder recognised in the byte stream.
// Reads are by far the most common variant; boxing them would cost an allocation per read to
// save stack space in the rarer variants.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded {
    /// A chip (or bib, or photocell impulse) seen by the device.
    Read(TagRead),
    /// A message of the protocol that is not a read: banners, status, command replies.
    Control(Control),
    /// Bytes that did not make a valid frame, with the reason.
    Rejected(Rejected),
}

impl Decoded {
    /// The exact bytes this item was decoded from.
    pub fn raw(&self) -> &[u8] {
        match self {
            Decoded::Read(read) => &read.raw,
            Decoded::Control(control) => &control.raw,
            Decoded::Rejected(rejected) => &rejected.raw,
        }
    }

    /// The read, if this is one.
    pub fn as_read(&self) -> Option<&TagRead> {
        match self {
            Decoded::Read(read) => Some(read),
            _ => None,
        }
    }
}

/// A read as the device reported it. The host receive time is not here: the transport stamps it.
#[derive(Debug, Clone, PartialEq)]
pub struct TagRead {
    /// The identity the device reported: chip code / EPC / transponder code as text (hex EPCs in
    /// upper case, IPICO tag ids in lower case as on the wire), or the typed text of a
    /// keyboard-wedge reader. Empty when the device reports no chip (a photocell impulse, a bib
    /// keypad).
    pub chip: String,
    /// The bib, when the protocol says the value is a bib (RACE RESULT passive bib tags, a bib
    /// keypad). `None` when unknown: mapping chips to bibs is the engine's business.
    pub bib: Option<String>,
    /// Antenna / port / channel the read came from, as the protocol numbers it (1-based where the
    /// wire is 0-based; Ultra port 0 is the start/trigger input; Timy channel `c0` is 0).
    pub antenna: Option<u8>,
    /// Signal strength, in the protocol's unit.
    pub rssi: Option<Rssi>,
    /// The device's own timestamp, as it carried it.
    pub reader_time: Option<ReaderTime>,
    /// The key that identifies this read across replays/rewinds from the same device.
    pub replay_key: Option<ReplayKey>,
    /// First/last-seen, replayed-from-memory and gun markers.
    pub flags: ReadFlags,
    /// Everything else the protocol carried for this read.
    pub details: ReadDetails,
    /// The exact bytes of the frame or line (terminator included). Reads that share one frame
    /// (a Chafon inventory reply listing several tags) each carry that whole frame.
    pub raw: Vec<u8>,
}

impl TagRead {
    /// A plain read of `chip` with nothing else known, its text the raw bytes (tests,
    /// benchmarks, a keyboard line).
    pub fn of_chip(chip: impl Into<String>) -> Self {
        let chip = chip.into();
        TagRead {
            raw: chip.as_bytes().to_vec(),
            chip,
            bib: None,
            antenna: None,
            rssi: None,
            reader_time: None,
            replay_key: None,
            flags: ReadFlags::default(),
            details: ReadDetails::Line,
        }
    }
}

/// A device timestamp, in the form the protocol really carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReaderTime {
    /// An absolute instant in UTC (CloudBox).
    Utc(DateTime<Utc>),
    /// The device's wall clock, date and time, with no time zone (IPICO RTC, Ultra per its TZ
    /// setting, RACE RESULT once its clock was set).
    Local(NaiveDateTime),
    /// Time since the device's clock was started, with no calendar date: RACE RESULT's
    /// `0000-00-00` (day 0), `0000-00-01` (day 1, after 24 h) … when neither GPS nor `SETTIME`
    /// set the clock.
    SinceStart {
        /// Whole days since the clock started.
        days: u32,
        /// Time within that day.
        time: NaiveTime,
    },
    /// Time of day only (ALGE Timy).
    TimeOfDay(NaiveTime),
}

/// Received signal strength. The unit differs between protocols, so it is part of the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rssi {
    /// dBm (Ultra, R2000 as byte − 129, CloudBox rounded to whole dBm).
    Dbm(i16),
    /// The vendor's raw scale, larger = stronger (Chafon 288 RSSI byte, RACE RESULT MaxRSSI).
    Raw(u16),
}

/// Markers that change how the engine should treat a read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ReadFlags {
    /// The reader aggregated the passage and this is its first sighting (IPICO `FS`).
    pub first_seen: bool,
    /// The reader aggregated the passage and this is its last sighting (IPICO `LS`).
    pub last_seen: bool,
    /// Re-sent from the device's memory (Ultra rewind, Timy `m`, RACE RESULT stored passing).
    pub from_memory: bool,
    /// A start signal rather than a chip (Ultra chip `0` on port `0`).
    pub gun: bool,
}

/// Identifies a read across replays from one device, so a rewind does not create duplicates.
/// Compare keys only between reads of the same source (connection / device).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ReplayKey {
    /// IPICO: reader id, tag, reader timestamp and the first/last-seen kind.
    Ipico {
        /// Reader id (chars 2–3).
        reader_id: u8,
        /// Tag id as on the wire (12 lower-case hex digits).
        tag: String,
        /// Reader timestamp.
        at: NaiveDateTime,
        /// `Some(true)` first seen, `Some(false)` last seen, `None` raw mode.
        first_seen: Option<bool>,
    },
    /// Ultra / Joey: the per-reader log id, and the read's reader time, which tells the log ids
    /// of one numbering run (the reader's log restarts from 1 after a reset) from another.
    Ultra {
        /// Box id (field 8).
        ultra_id: u8,
        /// Internal reader 1 or 2 (field 7).
        reader: u8,
        /// Log id (field 11), gap = missed reads.
        log_id: u64,
        /// The read's reader-local time (fields 2 and 3, ms). `None` only in keys stored by older
        /// versions (`ultra:<id>:<reader>:<log>`).
        at: Option<NaiveDateTime>,
    },
    /// RACE RESULT: (BoxId, FileNumber, PassingNo), and the passing's reader time when the
    /// record names no file.
    RaceResult {
        /// Box id, e.g. `D-50123` (empty when the record did not carry it).
        box_id: String,
        /// Passing file number (passing numbers restart per file).
        file: Option<u32>,
        /// Passing number, 1-based per file.
        passing: u64,
        /// The passing's reader time, when the record names no file (records of protocols
        /// before 1.6): without the file it is what tells the passings of one numbering run from
        /// another's (a new file, a restarted decoder numbers from 1 again). `None` when the file
        /// is given, and in keys stored by older versions (`raceresult:<box>:-:<passing>`).
        at: Option<ReaderTime>,
    },
    /// CloudBox: the session's passing number, and the passing's timestamp, which tells the
    /// numbers of one session or file (numbering restarts from 1 with a new one) from another.
    CloudBox {
        /// `passingNumber`.
        passing_number: u64,
        /// `timestamp` (UTC). `None` only in keys stored by older versions (`cloudbox:<n>`).
        at: Option<DateTime<Utc>>,
    },
    /// ALGE Timy: the impulse's number, channel and time (unique per impulse in the timer).
    Timy {
        /// Start/sequence number.
        number: u32,
        /// Channel.
        channel: timy::TimyChannel,
        /// Time of day.
        time: NaiveTime,
    },
    /// LLRP: the tag's EPC, the antenna and the reader's first-seen time (µs, UTC). A reader
    /// that holds reports across a reconnect sends the same three again.
    Llrp {
        /// EPC, upper-case hex.
        epc: String,
        /// AntennaID (0 when the report did not carry it).
        antenna: u16,
        /// FirstSeenTimestampUTC, µs since the Unix epoch.
        first_seen_us: u64,
    },
}

/// The protocol-specific rest of a read.
#[derive(Debug, Clone, PartialEq)]
pub enum ReadDetails {
    /// IPICO `aa` report.
    Ipico(ipico::IpicoDetails),
    /// Ultra / Joey chip line.
    Ultra(ultra::UltraDetails),
    /// R2000 real-time inventory tag frame.
    R2000(r2000::R2000Details),
    /// Chafon inventory reply or active-mode frame.
    Chafon(chafon::ChafonDetails),
    /// ALGE Timy impulse line.
    Timy(timy::TimyDetails),
    /// RACE RESULT passing record.
    RaceResult(raceresult::RaceResultDetails),
    /// CloudBox passing object.
    CloudBox(cloudbox::CloudBoxDetails),
    /// LLRP `TagReportData`.
    Llrp(llrp::LlrpDetails),
    /// A plain line: nothing beyond the text.
    Line,
}

/// A protocol message that is not a read, with its raw bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Control {
    /// What it says.
    pub message: ControlMessage,
    /// The exact bytes of the frame or line.
    pub raw: Vec<u8>,
}

/// The protocol-specific control messages.
#[derive(Debug, Clone, PartialEq)]
pub enum ControlMessage {
    /// IPICO `ab` frames and banner text.
    Ipico(ipico::IpicoControl),
    /// Ultra banner, voltage, status, time, settings.
    Ultra(ultra::UltraControl),
    /// R2000 status, end-of-round and command replies.
    R2000(r2000::R2000Control),
    /// Chafon replies that carry no tag.
    Chafon(chafon::ChafonControl),
    /// Timy replies to host commands.
    Timy(timy::TimyControl),
    /// RACE RESULT command replies and end-of-list.
    RaceResult(raceresult::RaceResultControl),
    /// CloudBox command replies and other objects.
    CloudBox(cloudbox::CloudBoxControl),
    /// LLRP messages other than tag reports.
    Llrp(llrp::LlrpControl),
}

/// Bytes that did not decode, kept whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// Why.
    pub reason: RejectReason,
    /// The exact bytes.
    pub raw: Vec<u8>,
}

/// Why bytes were rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RejectReason {
    /// The frame's checksum / LRC / CRC did not match.
    BadChecksum {
        /// What the bytes add up to.
        expected: u32,
        /// What the frame carried.
        got: u32,
    },
    /// The frame or line has a length the protocol does not allow.
    BadLength {
        /// The allowed lengths, in words.
        expected: &'static str,
        /// The length seen.
        got: usize,
    },
    /// A separated record has the wrong number of fields.
    FieldCount {
        /// The allowed counts, in words.
        expected: &'static str,
        /// The count seen.
        got: usize,
    },
    /// A field does not parse or is out of range.
    BadField {
        /// Field name as the protocol documents it.
        field: &'static str,
        /// The offending text (shortened).
        value: String,
    },
    /// A complete JSON object that is not valid JSON.
    BadJson {
        /// The parser's message.
        error: String,
    },
    /// Bytes that start no frame of the protocol. A chunk of garbage that begins with a frame
    /// header whose check failed is reported with that failure instead.
    Garbage,
    /// A line or object that outgrew the decoder's limit without ending; cut here and dropped.
    TooLong {
        /// The limit in bytes.
        limit: usize,
    },
    /// A frame that never completed: left over when the stream ended, or given up on when the
    /// line went quiet with good frames behind it.
    Truncated,
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RejectReason::BadChecksum { expected, got } => {
                write!(f, "bad checksum: computed {expected:#04x}, frame carries {got:#04x}")
            }
            RejectReason::BadLength { expected, got } => {
                write!(f, "bad length {got}, expected {expected}")
            }
            RejectReason::FieldCount { expected, got } => {
                write!(f, "{got} fields, expected {expected}")
            }
            RejectReason::BadField { field, value } => write!(f, "bad {field}: {value:?}"),
            RejectReason::BadJson { error } => write!(f, "invalid JSON: {error}"),
            RejectReason::Garbage => f.write_str("garbage between frames"),
            RejectReason::TooLong { limit } => write!(f, "longer than {limit} bytes without end"),
            RejectReason::Truncated => f.write_str("incomplete frame"),
        }
    }
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({} bytes)", self.reason, self.raw.len())
    }
}

impl RejectReason {
    /// A short stable name for the kind of rejection (`bad_checksum`, `bad_length`,
    /// `field_count`, `bad_field`, `bad_json`, `garbage`, `too_long`, `truncated`), for counters.
    pub fn kind(&self) -> &'static str {
        match self {
            RejectReason::BadChecksum { .. } => "bad_checksum",
            RejectReason::BadLength { .. } => "bad_length",
            RejectReason::FieldCount { .. } => "field_count",
            RejectReason::BadField { .. } => "bad_field",
            RejectReason::BadJson { .. } => "bad_json",
            RejectReason::Garbage => "garbage",
            RejectReason::TooLong { .. } => "too_long",
            RejectReason::Truncated => "truncated",
        }
    }

    /// A `BadField` with the value shortened to what helps a person.
    pub(crate) fn bad_field(field: &'static str, value: &[u8]) -> Self {
        RejectReason::BadField { field, value: crate::text::shown(value) }
    }
}

impl Rejected {
    pub(crate) fn new(reason: RejectReason, raw: &[u8]) -> Self {
        Rejected { reason, raw: raw.to_vec() }
    }
}
