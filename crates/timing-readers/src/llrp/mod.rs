//! LLRP (EPCglobal / GS1 Low Level Reader Protocol) as Impinj Speedway / R700 and Zebra FX
//! readers speak it on TCP 5084: binary, big-endian messages of TV and TLV parameters
//! (readers.md §3).

use chrono::{DateTime, Utc};

/// The most bytes the decoder holds between calls.
pub const BUFFER_LIMIT: usize = 64 * 1024;

/// What an LLRP tag report carried beyond chip, antenna, RSSI and first-seen time.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LlrpDetails {
    /// The RO_ACCESS_REPORT's message id.
    pub message_id: u32,
    /// The EPC's length in bits (96 for EPC-96).
    pub epc_bits: u16,
    /// LastSeenTimestampUTC, when reported.
    pub last_seen: Option<DateTime<Utc>>,
    /// TagSeenCount, when reported.
    pub seen_count: Option<u16>,
    /// ROSpecID, when reported.
    pub rospec_id: Option<u32>,
    /// PeakRSSI as the reader sent it (s8 dBm), when reported.
    pub peak_rssi: Option<i8>,
}

/// An LLRP message that is not a tag report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LlrpControl {
    /// Any other message: its type and id.
    Other {
        /// Message type (10 bits).
        message_type: u16,
        /// Message id.
        id: u32,
    },
}
