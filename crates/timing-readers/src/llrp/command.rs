//! Bytes the console sends to an LLRP reader (readers.md §3, "Minimal session for timing"): the
//! configuration, ROSpec and connection messages of one inventory session, each built by
//! [`message`] from a header and a body of TLV parameters.
//!
//! Every encoder takes the message id; the reader echoes it in the `*_RESPONSE`. Layouts were
//! checked against (sources listed per item):
//!
//! * **LTK** — the LLRP Toolkit definition `llrp-1x1-def.xml` (mchesser/llrp-rs
//!   `llrp-codegen/llrp-1x1-def.xml`, Impinj / EPCglobal, LLRP 1.0.1 + 1.1 additions);
//! * **pyllrp** — Edward Sitarski's pyllrp field tables (`_DefTLV` / `_DefTV` / `_DefMessage`);
//! * **llrpjs** — llrpjs/llrpjs `src/types.d.ts` (parameter order of messages, generated from
//!   the same LTK definition);
//! * **Chronokeep** — grecaun/chronokeep-portal `src/reader/zebra/requests.rs` (hand-written
//!   bytes used against Zebra FX readers).

use super::params::{put_u16, put_u32};
use super::{message_type as mt, param};

pub use super::params::{llrp_status, message, tlv, tv};

/// Reports every N tags by default: N = 1, one `RO_ACCESS_REPORT` per singulation.
pub const DEFAULT_REPORT_N: u16 = 1;

/// ROReportTrigger 2. LTK `ROReportTriggerType`: 0 None, 1 `Upon_N_Tags_Or_End_Of_AISpec`,
/// **2 `Upon_N_Tags_Or_End_Of_ROSpec`** (readers.md calls 2 "end of AISpec"; the value is the
/// one Chronokeep and the Impinj samples send, the name in readers.md is off by one).
pub const REPORT_UPON_N_TAGS_OR_END_OF_ROSPEC: u8 = 2;

/// TagReportContentSelector flags, most significant bit first (LTK, pyllrp, Chronokeep's
/// annotated `0x97 0x00`): ROSpecID, SpecIndex, InventoryParameterSpecID, AntennaID,
/// ChannelIndex, PeakRSSI, FirstSeenTimestamp, LastSeenTimestamp, TagSeenCount, AccessSpecID,
/// then 6 reserved bits.
pub mod content {
    /// Enable ROSpecID.
    pub const ROSPEC_ID: u16 = 0x8000;
    /// Enable SpecIndex.
    pub const SPEC_INDEX: u16 = 0x4000;
    /// Enable InventoryParameterSpecID.
    pub const INVENTORY_PARAMETER_SPEC_ID: u16 = 0x2000;
    /// Enable AntennaID.
    pub const ANTENNA_ID: u16 = 0x1000;
    /// Enable ChannelIndex.
    pub const CHANNEL_INDEX: u16 = 0x0800;
    /// Enable PeakRSSI.
    pub const PEAK_RSSI: u16 = 0x0400;
    /// Enable FirstSeenTimestamp.
    pub const FIRST_SEEN: u16 = 0x0200;
    /// Enable LastSeenTimestamp.
    pub const LAST_SEEN: u16 = 0x0100;
    /// Enable TagSeenCount.
    pub const TAG_SEEN_COUNT: u16 = 0x0080;
    /// Enable AccessSpecID.
    pub const ACCESS_SPEC_ID: u16 = 0x0040;
    /// What the console asks for: ROSpecID, AntennaID, PeakRSSI, First/LastSeenTimestamp and
    /// TagSeenCount (`0x9780`; readers.md's `0x9600` plus last seen and seen count).
    pub const TIMING: u16 =
        ROSPEC_ID | ANTENNA_ID | PEAK_RSSI | FIRST_SEEN | LAST_SEEN | TAG_SEEN_COUNT;
}

/// ReaderEventNotificationSpec event types (LTK `NotificationEventType`).
pub mod event {
    /// Upon hopping to the next channel.
    pub const HOPPING: u16 = 0;
    /// GPI event.
    pub const GPI: u16 = 1;
    /// ROSpec started / ended / preempted.
    pub const ROSPEC: u16 = 2;
    /// Report buffer fill warning.
    pub const REPORT_BUFFER_FILL_WARNING: u16 = 3;
    /// Reader exception.
    pub const READER_EXCEPTION: u16 = 4;
    /// RF survey event.
    pub const RF_SURVEY: u16 = 5;
    /// AISpec event.
    pub const AISPEC: u16 = 6;
    /// AISpec event with singulation details.
    pub const AISPEC_WITH_DETAILS: u16 = 7;
    /// Antenna connected / disconnected.
    pub const ANTENNA: u16 = 8;
    /// Spec loop event (LLRP 1.1).
    pub const SPEC_LOOP: u16 = 9;
}

/// One antenna's RF settings: an `AntennaConfiguration` (222) with `RFReceiver` (223) and
/// `RFTransmitter` (224) when their values are given. Sent in SET_READER_CONFIG and read back
/// from GET_READER_CONFIG_RESPONSE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AntennaSetting {
    /// AntennaID, 1-based; 0 = all antennas.
    pub antenna: u16,
    /// Receive sensitivity, an index into the reader's sensitivity table (1-based).
    pub receive_sensitivity: Option<u16>,
    /// Transmit power, an index into the reader's power table (1-based).
    pub transmit_power: Option<u16>,
    /// RFTransmitter HopTableID (sent only with a transmit power).
    pub hop_table_id: u16,
    /// RFTransmitter ChannelIndex (sent only with a transmit power).
    pub channel_index: u16,
}

impl AntennaSetting {
    /// Nothing set yet for `antenna`; hop table 1, channel 1 (the Impinj defaults; copy other
    /// values from GET_READER_CONFIG where the region needs them).
    pub fn new(antenna: u16) -> Self {
        AntennaSetting {
            antenna,
            receive_sensitivity: None,
            transmit_power: None,
            hop_table_id: 1,
            channel_index: 1,
        }
    }

    /// The same with a transmit power index.
    pub fn with_transmit_power(mut self, index: u16) -> Self {
        self.transmit_power = Some(index);
        self
    }

    /// The same with a receive sensitivity index.
    pub fn with_receive_sensitivity(mut self, index: u16) -> Self {
        self.receive_sensitivity = Some(index);
        self
    }
}

/// What SET_READER_CONFIG sets. The default changes nothing (and resets nothing).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReaderSettings {
    /// ResetToFactoryDefault: the reader resets before applying the rest.
    pub reset_to_factory_default: bool,
    /// KeepaliveSpec periodic with this interval (ms); `None` sends no KeepaliveSpec.
    pub keepalive_ms: Option<u32>,
    /// ReaderEventNotificationSpec: (event type from [`event`], notify). Empty sends none.
    pub event_notifications: Vec<(u16, bool)>,
    /// One AntennaConfiguration each.
    pub antennas: Vec<AntennaSetting>,
    /// EventsAndReports: hold events and reports upon reconnect. `None` sends none.
    pub hold_events_and_reports: Option<bool>,
}

/// GET_READER_CAPABILITIES (1), RequestedData 0 = all (LTK, pyllrp): `04 01 00 00 00 0B id 00`.
pub fn get_reader_capabilities(id: u32) -> Vec<u8> {
    message(mt::GET_READER_CAPABILITIES, id, &[0])
}

/// GET_READER_CONFIG (2): AntennaID 0 (all), RequestedData 0 (all), GPIPortNum 0, GPOPortNum 0
/// (LTK, pyllrp; 17 bytes. Chronokeep sends the same fields but declares length 20).
pub fn get_reader_config(id: u32) -> Vec<u8> {
    message(mt::GET_READER_CONFIG, id, &[0, 0, 0, 0, 0, 0, 0])
}

/// KeepaliveSpec (220): trigger 1 = periodic, u32 interval in ms (LTK, pyllrp, Chronokeep
/// `set_keepalive`): `00 DC 00 09 01 <ms>`.
pub fn keepalive_spec(interval_ms: u32) -> Vec<u8> {
    let mut body = vec![1];
    put_u32(&mut body, interval_ms);
    tlv(param::KEEPALIVE_SPEC, &body)
}

/// AntennaConfiguration (222): u16 AntennaID, then RFReceiver (223: u16 ReceiverSensitivity)
/// and RFTransmitter (224: u16 HopTableID, u16 ChannelIndex, u16 TransmitPower) when given
/// (LTK, pyllrp, llrpjs).
pub fn antenna_configuration(setting: &AntennaSetting) -> Vec<u8> {
    let mut body = Vec::with_capacity(18);
    put_u16(&mut body, setting.antenna);
    if let Some(sensitivity) = setting.receive_sensitivity {
        body.extend(tlv(param::RF_RECEIVER, &sensitivity.to_be_bytes()));
    }
    if let Some(power) = setting.transmit_power {
        let mut tx = Vec::with_capacity(6);
        put_u16(&mut tx, setting.hop_table_id);
        put_u16(&mut tx, setting.channel_index);
        put_u16(&mut tx, power);
        body.extend(tlv(param::RF_TRANSMITTER, &tx));
    }
    tlv(param::ANTENNA_CONFIGURATION, &body)
}

/// ReaderEventNotificationSpec (244) of EventNotificationState (245: u16 EventType, 1 bit
/// NotificationState + 7 reserved) (LTK, pyllrp, Chronokeep `set_reader_config`).
pub fn reader_event_notification_spec(events: &[(u16, bool)]) -> Vec<u8> {
    let mut body = Vec::with_capacity(events.len() * 7);
    for (kind, on) in events {
        let mut state = Vec::with_capacity(3);
        put_u16(&mut state, *kind);
        state.push(if *on { 0x80 } else { 0 });
        body.extend(tlv(param::EVENT_NOTIFICATION_STATE, &state));
    }
    tlv(param::READER_EVENT_NOTIFICATION_SPEC, &body)
}

/// SET_READER_CONFIG (3): 1 bit ResetToFactoryDefault + 7 reserved, then, in the order LTK and
/// llrpjs give, ReaderEventNotificationSpec, AntennaConfiguration…, KeepaliveSpec,
/// EventsAndReports (226: 1 bit hold + 7 reserved). Only a 5 s keepalive, id 2:
/// `04 03 00 00 00 14 00 00 00 02 00 00 DC 00 09 01 00 00 13 88` (Chronokeep's layout).
pub fn set_reader_config(id: u32, settings: &ReaderSettings) -> Vec<u8> {
    let mut body = vec![if settings.reset_to_factory_default { 0x80 } else { 0 }];
    if !settings.event_notifications.is_empty() {
        body.extend(reader_event_notification_spec(&settings.event_notifications));
    }
    for antenna in &settings.antennas {
        body.extend(antenna_configuration(antenna));
    }
    if let Some(ms) = settings.keepalive_ms {
        body.extend(keepalive_spec(ms));
    }
    if let Some(hold) = settings.hold_events_and_reports {
        body.extend(tlv(param::EVENTS_AND_REPORTS, &[if hold { 0x80 } else { 0 }]));
    }
    message(mt::SET_READER_CONFIG, id, &body)
}

/// DELETE_ACCESSSPEC (41), u32 AccessSpecID; 0 = all (LTK, pyllrp, Chronokeep).
pub fn delete_accessspec(id: u32, access_spec_id: u32) -> Vec<u8> {
    message(mt::DELETE_ACCESSSPEC, id, &access_spec_id.to_be_bytes())
}

/// DELETE_ROSPEC (21), u32 ROSpecID; 0 = all.
pub fn delete_rospec(id: u32, rospec_id: u32) -> Vec<u8> {
    message(mt::DELETE_ROSPEC, id, &rospec_id.to_be_bytes())
}

/// The ROSpec (177) of a timing session (LTK `ROSpec` and children; Chronokeep `add_rospec`
/// byte for byte except the start trigger, the InventoryParameterSpecID and the selector):
///
/// ```text
/// ROSpec 177: u32 ROSpecID, u8 Priority 0, u8 CurrentState 0 (disabled)
///   ROBoundarySpec 178
///     ROSpecStartTrigger 179: u8 type 1 (immediate: runs as soon as it is enabled)
///     ROSpecStopTrigger 182: u8 type 0 (null), u32 DurationTriggerValue 0
///   AISpec 183: u16 count 1, u16 AntennaID 0 (= all)
///     AISpecStopTrigger 184: u8 type 0 (null), u32 DurationTriggerValue 0
///     InventoryParameterSpec 186: u16 id 1, u8 ProtocolID 1 (EPCGlobalClass1Gen2)
///   ROReportSpec 237: u8 trigger 2, u16 N
///     TagReportContentSelector 238: u16 flags content::TIMING (0x9780)
///       C1G2EPCMemorySelector 348: CRC 0, PC bits 0, XPC 0, 5 reserved (no CRC/PC in reports)
/// ```
pub fn rospec(rospec_id: u32, report_n: u16) -> Vec<u8> {
    let start = tlv(param::ROSPEC_START_TRIGGER, &[1]);
    let stop = tlv(param::ROSPEC_STOP_TRIGGER, &[0, 0, 0, 0, 0]);
    let boundary = tlv(param::RO_BOUNDARY_SPEC, &[start, stop].concat());

    let ai_stop = tlv(param::AISPEC_STOP_TRIGGER, &[0, 0, 0, 0, 0]);
    let inventory = tlv(param::INVENTORY_PARAMETER_SPEC, &[0, 1, 1]);
    let ai = tlv(param::AISPEC, &[&[0, 1, 0, 0][..], &ai_stop, &inventory].concat());

    let memory = tlv(param::C1G2_EPC_MEMORY_SELECTOR, &[0]);
    let selector = tlv(
        param::TAG_REPORT_CONTENT_SELECTOR,
        &[&content::TIMING.to_be_bytes()[..], &memory].concat(),
    );
    let mut report = vec![REPORT_UPON_N_TAGS_OR_END_OF_ROSPEC];
    put_u16(&mut report, report_n);
    report.extend(selector);
    let report = tlv(param::RO_REPORT_SPEC, &report);

    let mut body = Vec::with_capacity(70);
    put_u32(&mut body, rospec_id);
    body.extend_from_slice(&[0, 0]);
    body.extend(boundary);
    body.extend(ai);
    body.extend(report);
    tlv(param::ROSPEC, &body)
}

/// ADD_ROSPEC (20) with [`rospec`]: one report every `report_n` tags (use
/// [`DEFAULT_REPORT_N`]).
pub fn add_rospec(id: u32, rospec_id: u32, report_n: u16) -> Vec<u8> {
    message(mt::ADD_ROSPEC, id, &rospec(rospec_id, report_n))
}

/// ENABLE_ROSPEC (24), u32 ROSpecID (0 = all): id 4, ROSpec 1 =
/// `04 18 00 00 00 0E 00 00 00 04 00 00 00 01`.
pub fn enable_rospec(id: u32, rospec_id: u32) -> Vec<u8> {
    message(mt::ENABLE_ROSPEC, id, &rospec_id.to_be_bytes())
}

/// START_ROSPEC (22), u32 ROSpecID: id 3, ROSpec 1 = `04 16 00 00 00 0E 00 00 00 03 00 00 00 01`.
/// Not needed with the immediate start trigger of [`rospec`] (the reader answers success).
pub fn start_rospec(id: u32, rospec_id: u32) -> Vec<u8> {
    message(mt::START_ROSPEC, id, &rospec_id.to_be_bytes())
}

/// STOP_ROSPEC (23), u32 ROSpecID.
pub fn stop_rospec(id: u32, rospec_id: u32) -> Vec<u8> {
    message(mt::STOP_ROSPEC, id, &rospec_id.to_be_bytes())
}

/// DISABLE_ROSPEC (25), u32 ROSpecID (0 = all).
pub fn disable_rospec(id: u32, rospec_id: u32) -> Vec<u8> {
    message(mt::DISABLE_ROSPEC, id, &rospec_id.to_be_bytes())
}

/// ENABLE_EVENTS_AND_REPORTS (64), no body. The reader sends no response to it.
pub fn enable_events_and_reports(id: u32) -> Vec<u8> {
    message(mt::ENABLE_EVENTS_AND_REPORTS, id, &[])
}

/// KEEPALIVE_ACK (72), echoing the KEEPALIVE's id: id 0x11 = `04 48 00 00 00 0A 00 00 00 11`.
pub fn keepalive_ack(id: u32) -> Vec<u8> {
    message(mt::KEEPALIVE_ACK, id, &[])
}

/// CLOSE_CONNECTION (14), no body: id 9 = `04 0E 00 00 00 0A 00 00 00 09`. The reader answers
/// CLOSE_CONNECTION_RESPONSE (4) and closes.
pub fn close_connection(id: u32) -> Vec<u8> {
    message(mt::CLOSE_CONNECTION, id, &[])
}
