//! LLRP (EPCglobal / GS1 Low Level Reader Protocol) as Impinj Speedway / R700 and Zebra FX
//! readers speak it on TCP 5084: binary, big-endian messages of TV and TLV parameters
//! (readers.md §3).
//!
//! # Framing
//!
//! A message is a 10-byte header — 3 reserved bits (0), 3 version bits (1 = LLRP 1.0.1, 2 =
//! LLRP 1.1), 10 type bits, u32 length (header included), u32 id — and a body. The decoder
//! accepts a header at any offset whose reserved bits are 0, whose version is 1 or 2, whose type
//! is one LLRP 1.0.1 / 1.1 defines ([`message_type::is_known`]; vendors use CUSTOM_MESSAGE) and
//! whose length is 10 to [`MAX_MESSAGE`]; bytes that start no such header are rejected as
//! [`RejectReason::Garbage`] (or [`RejectReason::BadLength`] when the chunk starts with a header
//! of an impossible length), in chunks of at most [`GARBAGE_CHUNK`]. A header whose message
//! never completes holds later messages back until [`Decoder::idle`] or [`Decoder::finish`]
//! gives up on it ([`RejectReason::Truncated`]).
//!
//! # Messages
//!
//! * `RO_ACCESS_REPORT` (61): one [`Decoded::Read`] per `TagReportData` (240), each carrying
//!   the whole message as `raw`. The chip is the EPC-96 (TV 13) or `EPCData` (TLV 241, any bit
//!   length, upper-case hex of the bits rounded up to whole bytes). The reader time is
//!   `FirstSeenTimestampUTC` (TV 2), else `LastSeenTimestampUTC` (TV 4); Uptime stamps are kept
//!   in [`LlrpDetails`] only. The replay key is (EPC, AntennaID or 0, FirstSeenTimestampUTC)
//!   and exists only when the first-seen UTC stamp does.
//!
//!   **Rules for bad parts.** A `TagReportData` without an EPC (or with a 0-bit `EPCData`) is
//!   rejected ([`RejectReason::BadField`] `TagReportData`) in its place among the reads of the
//!   other tags, and that rejection too carries the whole message. A message whose parameter
//!   structure breaks — a TV type of unknown length (which cannot be stepped over), a TLV
//!   length beyond its container, reserved TLV bits set, a field cut short — is rejected whole,
//!   once, with no reads: its bytes cannot be trusted. Unknown TLVs and `Custom` (1023)
//!   parameters are skipped by their length. A report without any `TagReportData` is a
//!   control message ([`LlrpControl::Other`]).
//! * Everything else is a [`Control`] with an [`LlrpControl`]: reader events, keepalives,
//!   every `*_RESPONSE` with its `LLRPStatus`, the reader configuration, `ERROR_MESSAGE`, and
//!   [`LlrpControl::Other`] for the rest. A response or error without a readable `LLRPStatus`
//!   is rejected.
//!
//! Layouts were checked against the LTK definition (`llrp-1x1-def.xml` in mchesser/llrp-rs),
//! pyllrp's field tables and llrpjs `src/types.d.ts`; status code numbers also against
//! Wireshark's `packet-llrp.c`. See [`command`] for the encoders and, with the `emulators`
//! feature, `model` for a reader.

pub mod command;
pub(crate) mod conversation;
#[cfg(any(test, feature = "emulators"))]
pub(crate) mod emulation;
#[cfg(any(test, feature = "emulators"))]
pub mod model;
mod params;

use std::fmt;

use chrono::{DateTime, Utc};

use crate::framing::{Check, FrameDecoder, FrameRules};
use crate::text::hex_upper;
use crate::{
    Control, ControlMessage, Decoded, ReadDetails, ReadFlags, ReaderTime, RejectReason, Rejected,
    ReplayKey, Rssi, TagRead,
};

pub use command::AntennaSetting;
pub use params::{HEADER_LEN, Header};

use params::{HeaderCheck, Param, ParamError, Params, be_u16, be_u32, be_u64, check_header};

/// The most bytes the decoder holds between calls.
pub const BUFFER_LIMIT: usize = 64 * 1024;
/// Garbage is reported in chunks of at most this many bytes.
pub const GARBAGE_CHUNK: usize = 1024;
/// The longest message accepted (header included): what fits the buffer beside a garbage chunk.
pub const MAX_MESSAGE: usize = BUFFER_LIMIT - GARBAGE_CHUNK;

/// Message types (LTK `messageDefinition typeNum`, readers.md §3).
pub mod message_type {
    /// GET_READER_CAPABILITIES.
    pub const GET_READER_CAPABILITIES: u16 = 1;
    /// GET_READER_CONFIG.
    pub const GET_READER_CONFIG: u16 = 2;
    /// SET_READER_CONFIG.
    pub const SET_READER_CONFIG: u16 = 3;
    /// CLOSE_CONNECTION_RESPONSE.
    pub const CLOSE_CONNECTION_RESPONSE: u16 = 4;
    /// GET_READER_CAPABILITIES_RESPONSE.
    pub const GET_READER_CAPABILITIES_RESPONSE: u16 = 11;
    /// GET_READER_CONFIG_RESPONSE.
    pub const GET_READER_CONFIG_RESPONSE: u16 = 12;
    /// SET_READER_CONFIG_RESPONSE.
    pub const SET_READER_CONFIG_RESPONSE: u16 = 13;
    /// CLOSE_CONNECTION.
    pub const CLOSE_CONNECTION: u16 = 14;
    /// ADD_ROSPEC.
    pub const ADD_ROSPEC: u16 = 20;
    /// DELETE_ROSPEC.
    pub const DELETE_ROSPEC: u16 = 21;
    /// START_ROSPEC.
    pub const START_ROSPEC: u16 = 22;
    /// STOP_ROSPEC.
    pub const STOP_ROSPEC: u16 = 23;
    /// ENABLE_ROSPEC.
    pub const ENABLE_ROSPEC: u16 = 24;
    /// DISABLE_ROSPEC.
    pub const DISABLE_ROSPEC: u16 = 25;
    /// GET_ROSPECS.
    pub const GET_ROSPECS: u16 = 26;
    /// ADD_ROSPEC_RESPONSE.
    pub const ADD_ROSPEC_RESPONSE: u16 = 30;
    /// DELETE_ROSPEC_RESPONSE.
    pub const DELETE_ROSPEC_RESPONSE: u16 = 31;
    /// START_ROSPEC_RESPONSE.
    pub const START_ROSPEC_RESPONSE: u16 = 32;
    /// STOP_ROSPEC_RESPONSE.
    pub const STOP_ROSPEC_RESPONSE: u16 = 33;
    /// ENABLE_ROSPEC_RESPONSE.
    pub const ENABLE_ROSPEC_RESPONSE: u16 = 34;
    /// DISABLE_ROSPEC_RESPONSE.
    pub const DISABLE_ROSPEC_RESPONSE: u16 = 35;
    /// GET_ROSPECS_RESPONSE.
    pub const GET_ROSPECS_RESPONSE: u16 = 36;
    /// DELETE_ACCESSSPEC.
    pub const DELETE_ACCESSSPEC: u16 = 41;
    /// DELETE_ACCESSSPEC_RESPONSE.
    pub const DELETE_ACCESSSPEC_RESPONSE: u16 = 51;
    /// GET_SUPPORTED_VERSION_RESPONSE (LLRP 1.1): u8 current, u8 supported, LLRPStatus.
    pub const GET_SUPPORTED_VERSION_RESPONSE: u16 = 56;
    /// SET_PROTOCOL_VERSION_RESPONSE (LLRP 1.1).
    pub const SET_PROTOCOL_VERSION_RESPONSE: u16 = 57;
    /// GET_REPORT.
    pub const GET_REPORT: u16 = 60;
    /// RO_ACCESS_REPORT.
    pub const RO_ACCESS_REPORT: u16 = 61;
    /// KEEPALIVE.
    pub const KEEPALIVE: u16 = 62;
    /// READER_EVENT_NOTIFICATION.
    pub const READER_EVENT_NOTIFICATION: u16 = 63;
    /// ENABLE_EVENTS_AND_REPORTS.
    pub const ENABLE_EVENTS_AND_REPORTS: u16 = 64;
    /// KEEPALIVE_ACK.
    pub const KEEPALIVE_ACK: u16 = 72;
    /// ERROR_MESSAGE.
    pub const ERROR_MESSAGE: u16 = 100;
    /// CUSTOM_MESSAGE.
    pub const CUSTOM_MESSAGE: u16 = 1023;

    /// Is this a message type LLRP 1.0.1 / 1.1 defines? The decoder looks for headers of these
    /// only, so that the bytes of a corrupted message seldom pass for a header.
    pub fn is_known(kind: u16) -> bool {
        matches!(
            kind,
            1..=4 | 11..=14 | 20..=26 | 30..=36 | 40..=47 | 50..=57 | 60..=64 | 72 | 100 | 1023
        )
    }

    /// Is this a reader's `*_RESPONSE` carrying an LLRPStatus? (CLIENT_REQUEST_OP_RESPONSE, 55,
    /// goes the other way and carries none.)
    pub fn is_response(kind: u16) -> bool {
        matches!(kind, 4 | 11..=13 | 30..=36 | 50..=54 | 56 | 57)
    }
}

/// TLV parameter types used here (LTK `parameterDefinition typeNum`).
pub mod param {
    /// UTCTimestamp: u64 µs since the Unix epoch.
    pub const UTC_TIMESTAMP: u16 = 128;
    /// Uptime: u64 µs since the reader booted.
    pub const UPTIME: u16 = 129;
    /// ROSpec.
    pub const ROSPEC: u16 = 177;
    /// ROBoundarySpec.
    pub const RO_BOUNDARY_SPEC: u16 = 178;
    /// ROSpecStartTrigger.
    pub const ROSPEC_START_TRIGGER: u16 = 179;
    /// ROSpecStopTrigger.
    pub const ROSPEC_STOP_TRIGGER: u16 = 182;
    /// AISpec.
    pub const AISPEC: u16 = 183;
    /// AISpecStopTrigger.
    pub const AISPEC_STOP_TRIGGER: u16 = 184;
    /// InventoryParameterSpec.
    pub const INVENTORY_PARAMETER_SPEC: u16 = 186;
    /// KeepaliveSpec.
    pub const KEEPALIVE_SPEC: u16 = 220;
    /// AntennaProperties.
    pub const ANTENNA_PROPERTIES: u16 = 221;
    /// AntennaConfiguration.
    pub const ANTENNA_CONFIGURATION: u16 = 222;
    /// RFReceiver.
    pub const RF_RECEIVER: u16 = 223;
    /// RFTransmitter.
    pub const RF_TRANSMITTER: u16 = 224;
    /// EventsAndReports.
    pub const EVENTS_AND_REPORTS: u16 = 226;
    /// ROReportSpec.
    pub const RO_REPORT_SPEC: u16 = 237;
    /// TagReportContentSelector.
    pub const TAG_REPORT_CONTENT_SELECTOR: u16 = 238;
    /// TagReportData.
    pub const TAG_REPORT_DATA: u16 = 240;
    /// EPCData: u16 bit length, then the bits.
    pub const EPC_DATA: u16 = 241;
    /// ReaderEventNotificationSpec.
    pub const READER_EVENT_NOTIFICATION_SPEC: u16 = 244;
    /// EventNotificationState.
    pub const EVENT_NOTIFICATION_STATE: u16 = 245;
    /// ReaderEventNotificationData.
    pub const READER_EVENT_NOTIFICATION_DATA: u16 = 246;
    /// AntennaEvent: u8 type (0 disconnected, 1 connected), u16 AntennaID.
    pub const ANTENNA_EVENT: u16 = 255;
    /// ConnectionAttemptEvent: u16 status.
    pub const CONNECTION_ATTEMPT_EVENT: u16 = 256;
    /// ConnectionCloseEvent.
    pub const CONNECTION_CLOSE_EVENT: u16 = 257;
    /// LLRPStatus.
    pub const LLRP_STATUS: u16 = 287;
    /// C1G2EPCMemorySelector.
    pub const C1G2_EPC_MEMORY_SELECTOR: u16 = 348;
    /// Custom (vendor PEN u32, subtype u32, data).
    pub const CUSTOM: u16 = 1023;
}

/// TV parameter types read in `TagReportData` (LTK / pyllrp `_DefTV`).
pub mod tv {
    /// AntennaID (u16).
    pub const ANTENNA_ID: u8 = 1;
    /// FirstSeenTimestampUTC (u64 µs).
    pub const FIRST_SEEN_UTC: u8 = 2;
    /// FirstSeenTimestampUptime (u64 µs).
    pub const FIRST_SEEN_UPTIME: u8 = 3;
    /// LastSeenTimestampUTC (u64 µs).
    pub const LAST_SEEN_UTC: u8 = 4;
    /// LastSeenTimestampUptime (u64 µs).
    pub const LAST_SEEN_UPTIME: u8 = 5;
    /// PeakRSSI (s8 dBm).
    pub const PEAK_RSSI: u8 = 6;
    /// ChannelIndex (u16).
    pub const CHANNEL_INDEX: u8 = 7;
    /// TagSeenCount (u16).
    pub const TAG_SEEN_COUNT: u8 = 8;
    /// ROSpecID (u32).
    pub const ROSPEC_ID: u8 = 9;
    /// InventoryParameterSpecID (u16).
    pub const INVENTORY_PARAMETER_SPEC_ID: u8 = 10;
    /// C1G2-CRC (u16).
    pub const C1G2_CRC: u8 = 11;
    /// C1G2-PC (u16).
    pub const C1G2_PC: u8 = 12;
    /// EPC-96 (12 bytes).
    pub const EPC_96: u8 = 13;
    /// SpecIndex (u16).
    pub const SPEC_INDEX: u8 = 14;
    /// AccessSpecID (u32).
    pub const ACCESS_SPEC_ID: u8 = 16;
}

/// What an LLRP tag report carried beyond chip, antenna, RSSI and first-seen time.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LlrpDetails {
    /// The RO_ACCESS_REPORT's message id.
    pub message_id: u32,
    /// The EPC's length in bits (96 for EPC-96).
    pub epc_bits: u16,
    /// AntennaID as sent (also when it does not fit [`TagRead::antenna`]).
    pub antenna_id: Option<u16>,
    /// LastSeenTimestampUTC, when reported.
    pub last_seen: Option<DateTime<Utc>>,
    /// FirstSeenTimestampUptime (µs since the reader booted), when reported.
    pub first_seen_uptime_us: Option<u64>,
    /// LastSeenTimestampUptime (µs since the reader booted), when reported.
    pub last_seen_uptime_us: Option<u64>,
    /// TagSeenCount, when reported.
    pub seen_count: Option<u16>,
    /// ROSpecID, when reported.
    pub rospec_id: Option<u32>,
    /// SpecIndex, when reported.
    pub spec_index: Option<u16>,
    /// InventoryParameterSpecID, when reported.
    pub inventory_parameter_spec_id: Option<u16>,
    /// ChannelIndex, when reported.
    pub channel_index: Option<u16>,
    /// PeakRSSI as the reader sent it (s8 dBm), when reported.
    pub peak_rssi: Option<i8>,
    /// AccessSpecID, when reported.
    pub access_spec_id: Option<u32>,
    /// C1G2-PC bits, when reported.
    pub pc: Option<u16>,
    /// C1G2-CRC, when reported.
    pub crc: Option<u16>,
}

/// An LLRPStatus (287): the outcome a reader reports in every response and error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LlrpStatus {
    /// StatusCode: 0 success, `M_*` 100–112, `P_*` 200–209, `A_*` 300–301, `R_*` 401.
    pub code: u16,
    /// ErrorDescription (UTF-8, lossily decoded; empty on success).
    pub description: String,
}

impl LlrpStatus {
    /// `M_Success` with no text.
    pub fn success() -> Self {
        LlrpStatus { code: 0, description: String::new() }
    }

    /// Did the request succeed?
    pub fn is_success(&self) -> bool {
        self.code == 0
    }

    /// The spec's name for the code (`M_FieldError`), if it has one.
    pub fn code_name(&self) -> Option<&'static str> {
        status_name(self.code)
    }
}

/// The spec's name for an LLRPStatus code (LTK `StatusCode`, Wireshark `packet-llrp.c`;
/// `M_UnexpectedMessage` is LLRP 1.1).
pub fn status_name(code: u16) -> Option<&'static str> {
    Some(match code {
        0 => "M_Success",
        100 => "M_ParameterError",
        101 => "M_FieldError",
        102 => "M_UnexpectedParameter",
        103 => "M_MissingParameter",
        104 => "M_DuplicateParameter",
        105 => "M_OverflowParameter",
        106 => "M_OverflowField",
        107 => "M_UnknownParameter",
        108 => "M_UnknownField",
        109 => "M_UnsupportedMessage",
        110 => "M_UnsupportedVersion",
        111 => "M_UnsupportedParameter",
        112 => "M_UnexpectedMessage",
        200 => "P_ParameterError",
        201 => "P_FieldError",
        202 => "P_UnexpectedParameter",
        203 => "P_MissingParameter",
        204 => "P_DuplicateParameter",
        205 => "P_OverflowParameter",
        206 => "P_OverflowField",
        207 => "P_UnknownParameter",
        208 => "P_UnknownField",
        209 => "P_UnsupportedParameter",
        300 => "A_Invalid",
        301 => "A_OutOfRange",
        401 => "R_DeviceError",
        _ => return None,
    })
}

/// The LLRPStatus codes the model and tests use.
pub mod status {
    /// M_Success.
    pub const SUCCESS: u16 = 0;
    /// M_ParameterError.
    pub const PARAMETER_ERROR: u16 = 100;
    /// M_FieldError.
    pub const FIELD_ERROR: u16 = 101;
    /// M_MissingParameter.
    pub const MISSING_PARAMETER: u16 = 103;
    /// M_UnknownParameter.
    pub const UNKNOWN_PARAMETER: u16 = 107;
    /// M_UnsupportedMessage.
    pub const UNSUPPORTED_MESSAGE: u16 = 109;
    /// M_UnsupportedVersion.
    pub const UNSUPPORTED_VERSION: u16 = 110;
    /// M_UnsupportedParameter.
    pub const UNSUPPORTED_PARAMETER: u16 = 111;
    /// M_UnexpectedMessage.
    pub const UNEXPECTED_MESSAGE: u16 = 112;
    /// A_Invalid.
    pub const INVALID: u16 = 300;
    /// A_OutOfRange.
    pub const OUT_OF_RANGE: u16 = 301;
    /// R_DeviceError.
    pub const DEVICE_ERROR: u16 = 401;
}

impl fmt::Display for LlrpStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.code_name() {
            Some(name) if self.code == 0 => f.write_str(name)?,
            Some(name) => write!(f, "{name} ({})", self.code)?,
            None => write!(f, "status {}", self.code)?,
        }
        if !self.description.is_empty() {
            write!(f, ": {}", self.description)?;
        }
        Ok(())
    }
}

/// ConnectionAttemptEvent status (LTK `ConnectionAttemptStatusType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectionAttempt {
    /// 0: the connection is ours.
    Success,
    /// 1: refused, a reader-initiated connection already exists.
    FailedReaderInitiatedConnectionExists,
    /// 2: refused, a client-initiated connection already exists (another console / tool).
    FailedClientInitiatedConnectionExists,
    /// 3: refused for another reason.
    FailedReasonOtherThanAConnectionAlreadyExists,
    /// 4: sent on the existing connection: another client tried to connect.
    AnotherConnectionAttempted,
    /// A code the spec does not define.
    Unknown(u16),
}

impl ConnectionAttempt {
    /// The status for a wire code.
    pub fn from_code(code: u16) -> Self {
        match code {
            0 => ConnectionAttempt::Success,
            1 => ConnectionAttempt::FailedReaderInitiatedConnectionExists,
            2 => ConnectionAttempt::FailedClientInitiatedConnectionExists,
            3 => ConnectionAttempt::FailedReasonOtherThanAConnectionAlreadyExists,
            4 => ConnectionAttempt::AnotherConnectionAttempted,
            other => ConnectionAttempt::Unknown(other),
        }
    }

    /// The wire code.
    pub fn code(self) -> u16 {
        match self {
            ConnectionAttempt::Success => 0,
            ConnectionAttempt::FailedReaderInitiatedConnectionExists => 1,
            ConnectionAttempt::FailedClientInitiatedConnectionExists => 2,
            ConnectionAttempt::FailedReasonOtherThanAConnectionAlreadyExists => 3,
            ConnectionAttempt::AnotherConnectionAttempted => 4,
            ConnectionAttempt::Unknown(code) => code,
        }
    }
}

/// An antenna as GET_READER_CONFIG_RESPONSE describes it (AntennaProperties, 221).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AntennaInfo {
    /// AntennaID (1-based).
    pub id: u16,
    /// AntennaConnected: the reader senses a cable / antenna on the port.
    pub connected: bool,
    /// AntennaGain, in 0.01 dBi.
    pub gain: i16,
}

/// An LLRP message that is not a tag report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LlrpControl {
    /// READER_EVENT_NOTIFICATION (63). Events other than connection attempt, connection close
    /// and antenna events are ignored.
    ReaderEvent {
        /// Message id.
        id: u32,
        /// The event's UTCTimestamp.
        utc: Option<DateTime<Utc>>,
        /// The event's Uptime timestamp (µs), for readers without a UTC clock.
        uptime_us: Option<u64>,
        /// ConnectionAttemptEvent status.
        connection: Option<ConnectionAttempt>,
        /// AntennaEvents: (AntennaID, connected).
        antenna_events: Vec<(u16, bool)>,
        /// A ConnectionCloseEvent: the reader is about to close the connection.
        connection_close: bool,
    },
    /// KEEPALIVE (62): answer with [`command::keepalive_ack`] and this id.
    Keepalive {
        /// Message id.
        id: u32,
    },
    /// Any `*_RESPONSE` but GET_READER_CONFIG_RESPONSE.
    Response {
        /// The response's message type (e.g. 34 ENABLE_ROSPEC_RESPONSE).
        message_type: u16,
        /// Message id (the request's).
        id: u32,
        /// The outcome.
        status: LlrpStatus,
    },
    /// GET_READER_CONFIG_RESPONSE (12).
    ReaderConfig {
        /// Message id (the request's).
        id: u32,
        /// The outcome.
        status: LlrpStatus,
        /// AntennaProperties, in message order.
        antennas: Vec<AntennaInfo>,
        /// AntennaConfiguration as applied, in message order.
        antenna_config: Vec<AntennaSetting>,
        /// KeepaliveSpec interval (ms) when periodic.
        keepalive_ms: Option<u32>,
    },
    /// ERROR_MESSAGE (100): the reader could not handle a message (unsupported, bad version).
    Error {
        /// Message id (the offending message's, or 0).
        id: u32,
        /// Why.
        status: LlrpStatus,
    },
    /// Any other message: its type and id.
    Other {
        /// Message type (10 bits).
        message_type: u16,
        /// Message id.
        id: u32,
    },
}

/// LLRP's frame rules: [`check`] finds a frame at an offset, garbage is reported in
/// chunks of at most [`GARBAGE_CHUNK`] bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct LlrpFrames;

impl FrameRules for LlrpFrames {
    const GARBAGE_CHUNK: usize = GARBAGE_CHUNK;

    fn check(at: &[u8]) -> Check {
        check(at)
    }

    fn decode_frame(&self, frame: &[u8], out: &mut Vec<Decoded>) {
        decode_message(frame, out);
    }
}

/// Streaming decoder for one LLRP connection (reader to client).
pub type LlrpDecoder = FrameDecoder<LlrpFrames>;

/// Does a message start at `at`?
fn check(at: &[u8]) -> Check {
    match check_header(at, MAX_MESSAGE, true) {
        HeaderCheck::Ok(header) => match usize::try_from(header.length) {
            Ok(len) if at.len() >= len => Check::Frame(len),
            _ => Check::NeedMore,
        },
        HeaderCheck::BadVersion | HeaderCheck::UnknownType(_) => {
            Check::Invalid(RejectReason::Garbage)
        }
        HeaderCheck::BadLength(got) => Check::Invalid(RejectReason::BadLength {
            expected: "10 to 64512 bytes",
            got: usize::try_from(got).unwrap_or(usize::MAX),
        }),
        HeaderCheck::NeedMore => Check::NeedMore,
    }
}

/// Decodes one complete message (header included), appending what it holds to `out`: reads for
/// a tag report, else one control message or one rejection.
pub fn decode_message(frame: &[u8], out: &mut Vec<Decoded>) {
    let HeaderCheck::Ok(header) = check_header(frame, usize::MAX, false) else {
        out.push(Decoded::Rejected(Rejected::new(RejectReason::Garbage, frame)));
        return;
    };
    let body = frame.get(HEADER_LEN..).unwrap_or_default();
    if header.message_type == message_type::RO_ACCESS_REPORT {
        decode_report(header.id, body, frame, out);
        return;
    }
    match decode_control(header, body) {
        Ok(message) => out.push(Decoded::Control(Control {
            message: ControlMessage::Llrp(message),
            raw: frame.to_vec(),
        })),
        Err(reason) => out.push(Decoded::Rejected(Rejected::new(reason, frame))),
    }
}

fn bad(field: &'static str, value: impl Into<String>) -> RejectReason {
    RejectReason::BadField { field, value: value.into() }
}

fn param_error(error: ParamError) -> RejectReason {
    match error {
        ParamError::UnknownTv(kind) => bad("TV parameter type", format!("{kind} (length unknown)")),
        ParamError::BadLength => bad("parameter length", "beyond its container"),
        ParamError::Reserved => bad("parameter header", "reserved bits set"),
    }
}

fn short(field: &'static str) -> RejectReason {
    bad(field, "cut short")
}

fn utc_from_us(us: u64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_micros(i64::try_from(us).ok()?)
}

fn decode_report(id: u32, body: &[u8], frame: &[u8], out: &mut Vec<Decoded>) {
    let mut items = Vec::new();
    for item in Params::new(body) {
        let result = match item {
            Err(error) => Err(param_error(error)),
            Ok(Param::Tlv { kind: param::TAG_REPORT_DATA, body }) => {
                tag_report_data(id, body, frame).map(|item| items.push(item))
            }
            // RFSurveyReportData, Custom and unknown TLVs, and TVs of known size: skipped.
            Ok(_) => Ok(()),
        };
        if let Err(reason) = result {
            out.push(Decoded::Rejected(Rejected::new(reason, frame)));
            return;
        }
    }
    if items.is_empty() {
        out.push(Decoded::Control(Control {
            message: ControlMessage::Llrp(LlrpControl::Other {
                message_type: message_type::RO_ACCESS_REPORT,
                id,
            }),
            raw: frame.to_vec(),
        }));
    } else {
        out.extend(items);
    }
}

/// One `TagReportData`: a read, or a rejection of this tag alone (no EPC); `Err` when the
/// structure breaks and the whole message must go.
fn tag_report_data(id: u32, body: &[u8], frame: &[u8]) -> Result<Decoded, RejectReason> {
    let mut details = LlrpDetails { message_id: id, ..LlrpDetails::default() };
    let mut epc: Option<&[u8]> = None;
    let mut first_seen_us = None;
    let mut last_seen_us = None;
    for item in Params::new(body) {
        match item.map_err(param_error)? {
            Param::Tv { kind, value } => {
                let u16v = || be_u16(value, 0);
                let u32v = || be_u32(value, 0);
                let u64v = || be_u64(value, 0);
                match kind {
                    tv::EPC_96 if epc.is_none() => {
                        epc = Some(value);
                        details.epc_bits = 96;
                    }
                    tv::ANTENNA_ID => details.antenna_id = u16v(),
                    tv::FIRST_SEEN_UTC => first_seen_us = u64v(),
                    tv::FIRST_SEEN_UPTIME => details.first_seen_uptime_us = u64v(),
                    tv::LAST_SEEN_UTC => last_seen_us = u64v(),
                    tv::LAST_SEEN_UPTIME => details.last_seen_uptime_us = u64v(),
                    tv::PEAK_RSSI => {
                        details.peak_rssi = value.first().map(|b| i8::from_be_bytes([*b]))
                    }
                    tv::CHANNEL_INDEX => details.channel_index = u16v(),
                    tv::TAG_SEEN_COUNT => details.seen_count = u16v(),
                    tv::ROSPEC_ID => details.rospec_id = u32v(),
                    tv::INVENTORY_PARAMETER_SPEC_ID => details.inventory_parameter_spec_id = u16v(),
                    tv::C1G2_CRC => details.crc = u16v(),
                    tv::C1G2_PC => details.pc = u16v(),
                    tv::SPEC_INDEX => details.spec_index = u16v(),
                    tv::ACCESS_SPEC_ID => details.access_spec_id = u32v(),
                    _ => {}
                }
            }
            Param::Tlv { kind: param::EPC_DATA, body } if epc.is_none() => {
                let bits = be_u16(body, 0).ok_or_else(|| short("EPCData"))?;
                let bytes = usize::from(bits).div_ceil(8);
                let value = body
                    .get(2..2 + bytes)
                    .ok_or_else(|| bad("EPCData", "bits beyond parameter"))?;
                epc = Some(value);
                details.epc_bits = bits;
            }
            // AccessSpec results, Custom (1023) and unknown TLVs: skipped by their length.
            Param::Tlv { .. } => {}
        }
    }
    let Some(epc) = epc.filter(|e| !e.is_empty()) else {
        return Ok(Decoded::Rejected(Rejected::new(bad("TagReportData", "no EPC"), frame)));
    };
    details.last_seen = last_seen_us.and_then(utc_from_us);
    let chip = hex_upper(epc);
    let reader_time =
        first_seen_us.and_then(utc_from_us).or(details.last_seen).map(ReaderTime::Utc);
    let replay_key = first_seen_us.map(|first_seen_us| ReplayKey::Llrp {
        epc: chip.clone(),
        antenna: details.antenna_id.unwrap_or(0),
        first_seen_us,
    });
    Ok(Decoded::Read(TagRead {
        chip,
        bib: None,
        antenna: details.antenna_id.and_then(|a| u8::try_from(a).ok()),
        rssi: details.peak_rssi.map(|p| Rssi::Dbm(i16::from(p))),
        reader_time,
        replay_key,
        flags: ReadFlags::default(),
        details: ReadDetails::Llrp(details),
        raw: frame.to_vec(),
    }))
}

/// Parses an LLRPStatus body (after the TLV header).
fn llrp_status(body: &[u8]) -> Result<LlrpStatus, RejectReason> {
    let code = be_u16(body, 0).ok_or_else(|| short("LLRPStatus"))?;
    let len = usize::from(be_u16(body, 2).ok_or_else(|| short("LLRPStatus"))?);
    let text = body.get(4..4 + len).ok_or_else(|| short("LLRPStatus ErrorDescription"))?;
    // FieldError / ParameterError may follow: not needed to tell what failed.
    Ok(LlrpStatus { code, description: String::from_utf8_lossy(text).into_owned() })
}

/// The LLRPStatus among `params` (a response's or error's parameters).
fn find_status(params: &[u8]) -> Result<LlrpStatus, RejectReason> {
    for item in Params::new(params) {
        if let Param::Tlv { kind: param::LLRP_STATUS, body } = item.map_err(param_error)? {
            return llrp_status(body);
        }
    }
    Err(bad("LLRPStatus", "missing"))
}

fn decode_control(header: Header, body: &[u8]) -> Result<LlrpControl, RejectReason> {
    let id = header.id;
    Ok(match header.message_type {
        message_type::KEEPALIVE => LlrpControl::Keepalive { id },
        message_type::READER_EVENT_NOTIFICATION => reader_event(id, body)?,
        message_type::ERROR_MESSAGE => LlrpControl::Error { id, status: find_status(body)? },
        message_type::GET_READER_CONFIG_RESPONSE => reader_config(id, body)?,
        message_type::GET_SUPPORTED_VERSION_RESPONSE => LlrpControl::Response {
            message_type: header.message_type,
            id,
            status: find_status(
                body.get(2..).ok_or_else(|| short("GET_SUPPORTED_VERSION_RESPONSE"))?,
            )?,
        },
        kind if message_type::is_response(kind) => {
            LlrpControl::Response { message_type: kind, id, status: find_status(body)? }
        }
        kind => LlrpControl::Other { message_type: kind, id },
    })
}

fn reader_event(id: u32, body: &[u8]) -> Result<LlrpControl, RejectReason> {
    let mut data = None;
    for item in Params::new(body) {
        if let Param::Tlv { kind: param::READER_EVENT_NOTIFICATION_DATA, body } =
            item.map_err(param_error)?
        {
            data = Some(body);
            break;
        }
    }
    let data = data.ok_or_else(|| bad("ReaderEventNotificationData", "missing"))?;
    let mut utc = None;
    let mut uptime_us = None;
    let mut connection = None;
    let mut antenna_events = Vec::new();
    let mut connection_close = false;
    for item in Params::new(data) {
        let Param::Tlv { kind, body } = item.map_err(param_error)? else { continue };
        match kind {
            param::UTC_TIMESTAMP => {
                utc = utc_from_us(be_u64(body, 0).ok_or_else(|| short("UTCTimestamp"))?)
            }
            param::UPTIME => uptime_us = Some(be_u64(body, 0).ok_or_else(|| short("Uptime"))?),
            param::CONNECTION_ATTEMPT_EVENT => {
                let code = be_u16(body, 0).ok_or_else(|| short("ConnectionAttemptEvent"))?;
                connection = Some(ConnectionAttempt::from_code(code));
            }
            param::ANTENNA_EVENT => {
                let (Some(kind), Some(antenna)) = (body.first(), be_u16(body, 1)) else {
                    return Err(short("AntennaEvent"));
                };
                antenna_events.push((antenna, *kind == 1));
            }
            param::CONNECTION_CLOSE_EVENT => connection_close = true,
            _ => {}
        }
    }
    Ok(LlrpControl::ReaderEvent {
        id,
        utc,
        uptime_us,
        connection,
        antenna_events,
        connection_close,
    })
}

fn reader_config(id: u32, body: &[u8]) -> Result<LlrpControl, RejectReason> {
    let status = find_status(body)?;
    let mut antennas = Vec::new();
    let mut antenna_config = Vec::new();
    let mut keepalive_ms = None;
    for item in Params::new(body) {
        let Param::Tlv { kind, body } = item.map_err(param_error)? else { continue };
        match kind {
            param::ANTENNA_PROPERTIES => {
                let (Some(flags), Some(id), Some(gain)) =
                    (body.first(), be_u16(body, 1), be_u16(body, 3))
                else {
                    return Err(short("AntennaProperties"));
                };
                antennas.push(AntennaInfo {
                    id,
                    connected: flags & 0x80 != 0,
                    gain: i16::from_be_bytes(gain.to_be_bytes()),
                });
            }
            param::ANTENNA_CONFIGURATION => antenna_config.push(antenna_setting(body)?),
            param::KEEPALIVE_SPEC => {
                let (Some(kind), Some(ms)) = (body.first(), be_u32(body, 1)) else {
                    return Err(short("KeepaliveSpec"));
                };
                keepalive_ms = (*kind == 1).then_some(ms);
            }
            _ => {}
        }
    }
    Ok(LlrpControl::ReaderConfig { id, status, antennas, antenna_config, keepalive_ms })
}

/// Parses an AntennaConfiguration body (after the TLV header). Shared with the reader model.
pub(crate) fn antenna_setting(body: &[u8]) -> Result<AntennaSetting, RejectReason> {
    let antenna = be_u16(body, 0).ok_or_else(|| short("AntennaConfiguration"))?;
    let mut setting = AntennaSetting::new(antenna);
    for item in Params::new(body.get(2..).unwrap_or_default()) {
        let Param::Tlv { kind, body } = item.map_err(param_error)? else { continue };
        match kind {
            param::RF_RECEIVER => {
                setting.receive_sensitivity =
                    Some(be_u16(body, 0).ok_or_else(|| short("RFReceiver"))?)
            }
            param::RF_TRANSMITTER => {
                let (Some(hop), Some(channel), Some(power)) =
                    (be_u16(body, 0), be_u16(body, 2), be_u16(body, 4))
                else {
                    return Err(short("RFTransmitter"));
                };
                setting.hop_table_id = hop;
                setting.channel_index = channel;
                setting.transmit_power = Some(power);
            }
            _ => {}
        }
    }
    Ok(setting)
}
