//! A pure model of the reader side of one LLRP connection, for tests and emulators: it greets
//! the client, answers every request the console's [`command`] encoders build
//! (and refuses malformed or unsupported ones with an error status), keeps the configuration
//! and ROSpec state, and reports reads only when an inventory is really running.
//!
//! No I/O and no clock: bytes in, bytes out, times passed in.
//!
//! State rules (LLRP 1.1 §10 ROSpec states, simplified):
//!
//! * ADD_ROSPEC needs CurrentState Disabled, a ROBoundarySpec, at least one AISpec with an
//!   InventoryParameterSpec for protocol 1 (EPC C1G2), antennas 0 (all) or existing ones, and a
//!   start trigger null (0) or immediate (1). ENABLE_ROSPEC makes it Inactive, or Active at once
//!   with the immediate trigger; START_ROSPEC makes an enabled one Active; STOP_ROSPEC makes it
//!   Inactive; DISABLE_ROSPEC Disabled; DELETE_ROSPEC removes it (0 = all).
//! * Reads are reported only while a ROSpec is Active **and** ENABLE_EVENTS_AND_REPORTS has been
//!   received (the model behaves as a reader that holds events and reports until the client
//!   asks for them), grouped N tags per RO_ACCESS_REPORT as the ROReportSpec says.
//! * SET_READER_CONFIG applies all its parameters or none. A transmit power index above
//!   [`ReaderModelConfig::max_transmit_power`] is clamped and still answered with success: "a
//!   setting the reader did not take", visible only in GET_READER_CONFIG.
//! * A header with another version than 1 is answered with M_UnsupportedVersion; bytes that
//!   start no header at all get an ERROR_MESSAGE and are dropped. CLOSE_CONNECTION is answered
//!   and ends the connection: later bytes are ignored.

use super::command::{self, AntennaSetting, content};
use super::params::{
    Header, HeaderCheck, Param, Params, be_u16, be_u32, check_header, message, put_u16, put_u64,
    tlv, tv,
};
use super::{
    ConnectionAttempt, HEADER_LEN, MAX_MESSAGE, message_type as mt, param, status, tv as tvt,
};

/// Most ROSpecs the model holds.
pub const MAX_ROSPECS: usize = 8;
/// Most TagReportData in one RO_ACCESS_REPORT the model sends (N = 0 or larger is cut here).
pub const MAX_TAGS_PER_REPORT: usize = 256;

/// What reader the model plays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderModelConfig {
    /// One entry per antenna port (AntennaID 1, 2, …): is an antenna connected?
    pub antennas: Vec<bool>,
    /// AntennaGain reported for every port (0.01 dBi).
    pub antenna_gain: i16,
    /// Highest transmit power index; higher requests are clamped to it.
    pub max_transmit_power: u16,
    /// Highest receive sensitivity index; higher requests are refused.
    pub max_receive_sensitivity: u16,
    /// Refuse the connection: another client is connected.
    pub refuse_connection: bool,
}

impl Default for ReaderModelConfig {
    /// Four ports with antennas on 1 and 2, gain 6 dBi, an 81-entry power table (Impinj
    /// R420-like), 42 sensitivity entries, accepting the connection.
    fn default() -> Self {
        ReaderModelConfig {
            antennas: vec![true, true, false, false],
            antenna_gain: 600,
            max_transmit_power: 81,
            max_receive_sensitivity: 42,
            refuse_connection: false,
        }
    }
}

/// A tag sighting to report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelRead {
    /// The EPC bytes (12 = EPC-96, sent as TV 13; any other length as EPCData).
    pub epc: Vec<u8>,
    /// AntennaID.
    pub antenna: u16,
    /// PeakRSSI, dBm.
    pub peak_rssi: i8,
    /// FirstSeenTimestampUTC (µs since the Unix epoch); also sent as the last-seen time.
    pub first_seen_us: u64,
    /// TagSeenCount.
    pub seen_count: u16,
}

/// A ROSpec's state (LTK `ROSpecState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoSpecState {
    /// Added or disabled: does nothing.
    Disabled,
    /// Enabled, waiting for its start trigger.
    Inactive,
    /// Running an inventory.
    Active,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RoSpec {
    id: u32,
    state: RoSpecState,
    immediate: bool,
    report_n: u16,
    content: u16,
}

/// The configuration SET_READER_CONFIG changes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Settings {
    keepalive_ms: Option<u32>,
    antennas: Vec<AntennaSetting>,
    events: Vec<(u16, bool)>,
    hold: bool,
}

impl Settings {
    fn factory(config: &ReaderModelConfig) -> Self {
        let antennas = (1..=config.antennas.len())
            .map(|i| {
                AntennaSetting::new(u16::try_from(i).unwrap_or(u16::MAX))
                    .with_receive_sensitivity(1)
                    .with_transmit_power(config.max_transmit_power)
            })
            .collect();
        Settings { keepalive_ms: None, antennas, events: Vec::new(), hold: false }
    }
}

/// An error answer: status code and text.
type Refusal = (u16, String);

fn refuse<T>(code: u16, text: impl Into<String>) -> Result<T, Refusal> {
    Err((code, text.into()))
}

/// The reader side of one LLRP connection.
#[derive(Debug, Clone)]
pub struct LlrpReader {
    config: ReaderModelConfig,
    settings: Settings,
    rospecs: Vec<RoSpec>,
    buf: Vec<u8>,
    connected: bool,
    closed: bool,
    events_enabled: bool,
    last_keepalive_ack: Option<u32>,
}

impl LlrpReader {
    /// A reader with factory settings, not yet connected.
    pub fn new(config: ReaderModelConfig) -> Self {
        let settings = Settings::factory(&config);
        LlrpReader {
            config,
            settings,
            rospecs: Vec::new(),
            buf: Vec::new(),
            connected: false,
            closed: false,
            events_enabled: false,
            last_keepalive_ack: None,
        }
    }

    /// The client connected at `utc_us`: the READER_EVENT_NOTIFICATION (id 0) with UTCTimestamp
    /// and ConnectionAttemptEvent — success, or "a client-initiated connection already exists"
    /// when the model refuses, after which the connection is closed.
    pub fn connect(&mut self, utc_us: u64) -> Vec<u8> {
        let attempt = if self.config.refuse_connection {
            self.closed = true;
            ConnectionAttempt::FailedClientInitiatedConnectionExists
        } else {
            self.connected = true;
            ConnectionAttempt::Success
        };
        reader_event_notification(0, utc_us, Some(attempt), &[], false)
    }

    /// Host bytes in (any pieces), the reader's answers out.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        if self.closed || !self.connected {
            return out;
        }
        self.buf.extend_from_slice(bytes);
        loop {
            match check_header(&self.buf, MAX_MESSAGE, false) {
                HeaderCheck::NeedMore => break,
                HeaderCheck::BadVersion | HeaderCheck::UnknownType(_) => {
                    out.extend(error_message(0, status::UNSUPPORTED_VERSION, "not an LLRP header"));
                    self.buf.clear();
                    break;
                }
                HeaderCheck::BadLength(len) => {
                    out.extend(error_message(
                        0,
                        status::FIELD_ERROR,
                        &format!("message length {len}"),
                    ));
                    self.buf.clear();
                    break;
                }
                HeaderCheck::Ok(header) => {
                    let len = usize::try_from(header.length).unwrap_or(usize::MAX);
                    if self.buf.len() < len {
                        break;
                    }
                    let frame: Vec<u8> = self.buf.drain(..len).collect();
                    out.extend(self.handle(header, frame.get(HEADER_LEN..).unwrap_or_default()));
                    if self.closed {
                        self.buf.clear();
                        break;
                    }
                }
            }
        }
        out
    }

    /// Reads seen by the running inventory, as RO_ACCESS_REPORTs (ids `id`, `id + 1`, … when
    /// the ROReportSpec's N splits them); empty unless a ROSpec is Active and events and
    /// reports are enabled.
    pub fn tag_report(&self, reads: &[ModelRead], id: u32) -> Vec<u8> {
        let Some(spec) = self.active_rospec().filter(|_| self.is_reporting()) else {
            return Vec::new();
        };
        let per = match usize::from(spec.report_n) {
            0 => MAX_TAGS_PER_REPORT,
            n => n.min(MAX_TAGS_PER_REPORT),
        };
        let mut out = Vec::new();
        let mut next_id = id;
        for group in reads.chunks(per) {
            let mut body = Vec::new();
            for read in group {
                body.extend(self.tag_report_data(read, &spec));
            }
            out.extend(message(mt::RO_ACCESS_REPORT, next_id, &body));
            next_id = next_id.wrapping_add(1);
        }
        out
    }

    /// A KEEPALIVE (the client must acknowledge it); empty when not connected.
    pub fn keepalive(&self, id: u32) -> Vec<u8> {
        if self.connected && !self.closed { message(mt::KEEPALIVE, id, &[]) } else { Vec::new() }
    }

    /// An antenna was plugged in or pulled at `utc_us`: a READER_EVENT_NOTIFICATION with an
    /// AntennaEvent (and the connected flag GET_READER_CONFIG reports changes).
    pub fn antenna_event(
        &mut self,
        id: u32,
        antenna: u16,
        connected: bool,
        utc_us: u64,
    ) -> Vec<u8> {
        if let Some(flag) =
            usize::from(antenna).checked_sub(1).and_then(|i| self.config.antennas.get_mut(i))
        {
            *flag = connected;
        }
        if !self.connected || self.closed {
            return Vec::new();
        }
        reader_event_notification(id, utc_us, None, &[(antenna, connected)], false)
    }

    /// The client went away: the reader keeps its configuration and ROSpecs (as real readers
    /// do) and waits for the next connection, which enables events and reports again.
    pub fn disconnect(&mut self) {
        self.connected = false;
        self.closed = false;
        self.events_enabled = false;
        self.buf.clear();
    }

    /// Does the reader hold reports while no client is connected (EventsAndReports)?
    pub fn holds_reports(&self) -> bool {
        self.settings.hold
    }

    /// Has the connection ended (CLOSE_CONNECTION answered, or refused on connect)?
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Would [`tag_report`](Self::tag_report) send anything?
    pub fn is_reporting(&self) -> bool {
        self.connected && !self.closed && self.events_enabled && self.active_rospec().is_some()
    }

    /// Has ENABLE_EVENTS_AND_REPORTS arrived?
    pub fn events_enabled(&self) -> bool {
        self.events_enabled
    }

    /// The periodic keepalive interval set, in ms.
    pub fn keepalive_ms(&self) -> Option<u32> {
        self.settings.keepalive_ms
    }

    /// The state of ROSpec `id`, if it exists.
    pub fn rospec_state(&self, id: u32) -> Option<RoSpecState> {
        self.rospecs.iter().find(|r| r.id == id).map(|r| r.state)
    }

    /// The antenna settings as applied (clamped).
    pub fn antenna_settings(&self) -> &[AntennaSetting] {
        &self.settings.antennas
    }

    /// The event notifications set by ReaderEventNotificationSpec.
    pub fn event_notifications(&self) -> &[(u16, bool)] {
        &self.settings.events
    }

    /// The id of the last KEEPALIVE_ACK.
    pub fn last_keepalive_ack(&self) -> Option<u32> {
        self.last_keepalive_ack
    }

    fn active_rospec(&self) -> Option<RoSpec> {
        self.rospecs.iter().copied().find(|r| r.state == RoSpecState::Active)
    }

    /// One TagReportData in the LTK's order: EPC, ROSpecID, SpecIndex, InventoryParameterSpecID,
    /// AntennaID, PeakRSSI, ChannelIndex, First/LastSeenTimestampUTC, TagSeenCount, AccessSpecID.
    fn tag_report_data(&self, read: &ModelRead, spec: &RoSpec) -> Vec<u8> {
        let on = |bit: u16| spec.content & bit != 0;
        let mut body = epc_parameter(&read.epc);
        if on(content::ROSPEC_ID) {
            body.extend(tv(tvt::ROSPEC_ID, &spec.id.to_be_bytes()));
        }
        if on(content::SPEC_INDEX) {
            body.extend(tv(tvt::SPEC_INDEX, &1u16.to_be_bytes()));
        }
        if on(content::INVENTORY_PARAMETER_SPEC_ID) {
            body.extend(tv(tvt::INVENTORY_PARAMETER_SPEC_ID, &1u16.to_be_bytes()));
        }
        if on(content::ANTENNA_ID) {
            body.extend(tv(tvt::ANTENNA_ID, &read.antenna.to_be_bytes()));
        }
        if on(content::PEAK_RSSI) {
            body.extend(tv(tvt::PEAK_RSSI, &read.peak_rssi.to_be_bytes()));
        }
        if on(content::CHANNEL_INDEX) {
            let channel = self
                .settings
                .antennas
                .iter()
                .find(|a| a.antenna == read.antenna)
                .map_or(1, |a| a.channel_index);
            body.extend(tv(tvt::CHANNEL_INDEX, &channel.to_be_bytes()));
        }
        if on(content::FIRST_SEEN) {
            body.extend(tv(tvt::FIRST_SEEN_UTC, &read.first_seen_us.to_be_bytes()));
        }
        if on(content::LAST_SEEN) {
            body.extend(tv(tvt::LAST_SEEN_UTC, &read.first_seen_us.to_be_bytes()));
        }
        if on(content::TAG_SEEN_COUNT) {
            body.extend(tv(tvt::TAG_SEEN_COUNT, &read.seen_count.to_be_bytes()));
        }
        if on(content::ACCESS_SPEC_ID) {
            body.extend(tv(tvt::ACCESS_SPEC_ID, &0u32.to_be_bytes()));
        }
        tlv(param::TAG_REPORT_DATA, &body)
    }

    fn handle(&mut self, header: Header, body: &[u8]) -> Vec<u8> {
        let id = header.id;
        if header.version != 1 {
            return error_message(id, status::UNSUPPORTED_VERSION, "the model speaks LLRP 1.0.1");
        }
        let answer = |kind: u16, result: Result<(), Refusal>| match result {
            Ok(()) => response(kind, id, status::SUCCESS, ""),
            Err((code, text)) => response(kind, id, code, &text),
        };
        let rospec_id = be_u32(body, 0).ok_or((status::FIELD_ERROR, "ROSpecID missing".to_owned()));
        match header.message_type {
            mt::GET_READER_CAPABILITIES => match body.first() {
                Some(0..=4) => answer(mt::GET_READER_CAPABILITIES_RESPONSE, Ok(())),
                _ => answer(
                    mt::GET_READER_CAPABILITIES_RESPONSE,
                    refuse(status::FIELD_ERROR, "RequestedData"),
                ),
            },
            mt::GET_READER_CONFIG => self.reader_config(id, body),
            mt::SET_READER_CONFIG => {
                let result = self.set_config(body);
                answer(mt::SET_READER_CONFIG_RESPONSE, result)
            }
            mt::ADD_ROSPEC => {
                let result = self.add_rospec(body);
                answer(mt::ADD_ROSPEC_RESPONSE, result)
            }
            mt::DELETE_ROSPEC => {
                let result = rospec_id.and_then(|r| self.delete_rospec(r));
                answer(mt::DELETE_ROSPEC_RESPONSE, result)
            }
            mt::ENABLE_ROSPEC => {
                let result = rospec_id.and_then(|r| self.enable_rospec(r, true));
                answer(mt::ENABLE_ROSPEC_RESPONSE, result)
            }
            mt::DISABLE_ROSPEC => {
                let result = rospec_id.and_then(|r| self.enable_rospec(r, false));
                answer(mt::DISABLE_ROSPEC_RESPONSE, result)
            }
            mt::START_ROSPEC => {
                let result = rospec_id.and_then(|r| self.start_rospec(r, true));
                answer(mt::START_ROSPEC_RESPONSE, result)
            }
            mt::STOP_ROSPEC => {
                let result = rospec_id.and_then(|r| self.start_rospec(r, false));
                answer(mt::STOP_ROSPEC_RESPONSE, result)
            }
            mt::DELETE_ACCESSSPEC => {
                let result = match be_u32(body, 0) {
                    Some(0) => Ok(()),
                    Some(n) => refuse(status::INVALID, format!("no AccessSpec {n}")),
                    None => refuse(status::FIELD_ERROR, "AccessSpecID missing"),
                };
                answer(mt::DELETE_ACCESSSPEC_RESPONSE, result)
            }
            mt::ENABLE_EVENTS_AND_REPORTS => {
                self.events_enabled = true;
                Vec::new()
            }
            mt::KEEPALIVE_ACK => {
                self.last_keepalive_ack = Some(id);
                Vec::new()
            }
            mt::CLOSE_CONNECTION => {
                self.closed = true;
                answer(mt::CLOSE_CONNECTION_RESPONSE, Ok(()))
            }
            kind => error_message(id, status::UNSUPPORTED_MESSAGE, &format!("message type {kind}")),
        }
    }

    fn reader_config(&self, id: u32, body: &[u8]) -> Vec<u8> {
        let kind = mt::GET_READER_CONFIG_RESPONSE;
        let (Some(antenna), Some(requested)) = (be_u16(body, 0), body.get(2)) else {
            return response(kind, id, status::FIELD_ERROR, "GET_READER_CONFIG cut short");
        };
        if *requested > 11 {
            return response(kind, id, status::FIELD_ERROR, "RequestedData");
        }
        if antenna != 0 && usize::from(antenna) > self.config.antennas.len() {
            return response(kind, id, status::INVALID, &format!("no antenna {antenna}"));
        }
        let wanted = |a: u16| antenna == 0 || a == antenna;
        let mut out = command::llrp_status(status::SUCCESS, "");
        if matches!(requested, 0 | 2) {
            for (i, connected) in self.config.antennas.iter().enumerate() {
                let a = u16::try_from(i + 1).unwrap_or(u16::MAX);
                if wanted(a) {
                    let mut p = vec![if *connected { 0x80 } else { 0 }];
                    put_u16(&mut p, a);
                    p.extend_from_slice(&self.config.antenna_gain.to_be_bytes());
                    out.extend(tlv(param::ANTENNA_PROPERTIES, &p));
                }
            }
        }
        if matches!(requested, 0 | 3) {
            for setting in self.settings.antennas.iter().filter(|s| wanted(s.antenna)) {
                out.extend(command::antenna_configuration(setting));
            }
        }
        if *requested == 0 && !self.settings.events.is_empty() {
            out.extend(command::reader_event_notification_spec(&self.settings.events));
        }
        if matches!(requested, 0 | 8) {
            match self.settings.keepalive_ms {
                Some(ms) => out.extend(command::keepalive_spec(ms)),
                None => out.extend(tlv(param::KEEPALIVE_SPEC, &[0, 0, 0, 0, 0])),
            }
        }
        if matches!(requested, 0 | 11) {
            out.extend(tlv(
                param::EVENTS_AND_REPORTS,
                &[if self.settings.hold { 0x80 } else { 0 }],
            ));
        }
        message(kind, id, &out)
    }

    fn set_config(&mut self, body: &[u8]) -> Result<(), Refusal> {
        let Some(flags) = body.first() else {
            return refuse(status::FIELD_ERROR, "ResetToFactoryDefault missing");
        };
        let mut next =
            if flags & 0x80 != 0 { Settings::factory(&self.config) } else { self.settings.clone() };
        for p in Params::new(body.get(1..).unwrap_or_default()) {
            let Ok(Param::Tlv { kind, body }) = p else {
                return refuse(status::PARAMETER_ERROR, "malformed parameter");
            };
            match kind {
                param::READER_EVENT_NOTIFICATION_SPEC => {
                    for state in Params::new(body) {
                        let Ok(Param::Tlv { kind: param::EVENT_NOTIFICATION_STATE, body }) = state
                        else {
                            return refuse(status::PARAMETER_ERROR, "EventNotificationState");
                        };
                        let (Some(event), Some(on)) = (be_u16(body, 0), body.get(2)) else {
                            return refuse(status::PARAMETER_ERROR, "EventNotificationState");
                        };
                        let on = on & 0x80 != 0;
                        let full = next.events.len() >= 16;
                        match next.events.iter_mut().find(|(e, _)| *e == event) {
                            Some(entry) => entry.1 = on,
                            None if !full => next.events.push((event, on)),
                            None => return refuse(status::PARAMETER_ERROR, "too many events"),
                        }
                    }
                }
                param::ANTENNA_PROPERTIES => {}
                param::ANTENNA_CONFIGURATION => {
                    let setting = super::antenna_setting(body)
                        .map_err(|e| (status::PARAMETER_ERROR, e.to_string()))?;
                    self.apply_antenna(&mut next, &setting)?;
                }
                param::RO_REPORT_SPEC | ACCESS_REPORT_SPEC => {}
                param::KEEPALIVE_SPEC => {
                    next.keepalive_ms = match (body.first(), be_u32(body, 1)) {
                        (Some(0), _) => None,
                        (Some(1), Some(ms)) => Some(ms),
                        _ => return refuse(status::PARAMETER_ERROR, "KeepaliveSpec"),
                    }
                }
                param::EVENTS_AND_REPORTS => match body.first() {
                    Some(b) => next.hold = b & 0x80 != 0,
                    None => return refuse(status::PARAMETER_ERROR, "EventsAndReports"),
                },
                param::CUSTOM => return refuse(status::UNSUPPORTED_PARAMETER, "Custom"),
                other => return refuse(status::UNKNOWN_PARAMETER, format!("parameter {other}")),
            }
        }
        self.settings = next;
        Ok(())
    }

    fn apply_antenna(&self, next: &mut Settings, setting: &AntennaSetting) -> Result<(), Refusal> {
        if setting.antenna != 0 && usize::from(setting.antenna) > self.config.antennas.len() {
            return refuse(status::PARAMETER_ERROR, format!("no antenna {}", setting.antenna));
        }
        if let Some(s) = setting.receive_sensitivity
            && (s == 0 || s > self.config.max_receive_sensitivity)
        {
            return refuse(status::PARAMETER_ERROR, format!("ReceiverSensitivity {s}"));
        }
        if setting.transmit_power == Some(0) {
            return refuse(status::PARAMETER_ERROR, "TransmitPower 0");
        }
        let max = self.config.max_transmit_power;
        for target in next.antennas.iter_mut() {
            if setting.antenna == 0 || target.antenna == setting.antenna {
                if let Some(s) = setting.receive_sensitivity {
                    target.receive_sensitivity = Some(s);
                }
                if let Some(p) = setting.transmit_power {
                    target.transmit_power = Some(p.min(max));
                    target.hop_table_id = setting.hop_table_id;
                    target.channel_index = setting.channel_index;
                }
            }
        }
        Ok(())
    }

    fn add_rospec(&mut self, body: &[u8]) -> Result<(), Refusal> {
        let Some(Ok(Param::Tlv { kind: param::ROSPEC, body })) = Params::new(body).next() else {
            return refuse(status::MISSING_PARAMETER, "ROSpec");
        };
        let (Some(id), Some(priority), Some(state)) = (be_u32(body, 0), body.get(4), body.get(5))
        else {
            return refuse(status::FIELD_ERROR, "ROSpec cut short");
        };
        if id == 0 || *priority > 7 || *state != 0 {
            return refuse(
                status::FIELD_ERROR,
                "ROSpecID ≠ 0, Priority 0–7, CurrentState Disabled",
            );
        }
        if self.rospecs.iter().any(|r| r.id == id) {
            return refuse(status::INVALID, format!("ROSpec {id} exists"));
        }
        if self.rospecs.len() >= MAX_ROSPECS {
            return refuse(status::PARAMETER_ERROR, "too many ROSpecs");
        }
        let mut spec = RoSpec {
            id,
            state: RoSpecState::Disabled,
            immediate: false,
            report_n: command::DEFAULT_REPORT_N,
            content: content::TIMING,
        };
        let (mut boundary, mut ai) = (false, false);
        for p in Params::new(body.get(6..).unwrap_or_default()) {
            let Ok(Param::Tlv { kind, body }) = p else {
                return refuse(status::PARAMETER_ERROR, "malformed ROSpec parameter");
            };
            match kind {
                param::RO_BOUNDARY_SPEC => {
                    spec.immediate = boundary_immediate(body)?;
                    boundary = true;
                }
                param::AISPEC => {
                    self.check_aispec(body)?;
                    ai = true;
                }
                param::RO_REPORT_SPEC => {
                    let (Some(_trigger), Some(n)) = (body.first(), be_u16(body, 1)) else {
                        return refuse(status::PARAMETER_ERROR, "ROReportSpec");
                    };
                    spec.report_n = n;
                    for inner in Params::new(body.get(3..).unwrap_or_default()) {
                        if let Ok(Param::Tlv { kind: param::TAG_REPORT_CONTENT_SELECTOR, body }) =
                            inner
                        {
                            spec.content = be_u16(body, 0).unwrap_or(content::TIMING);
                        }
                    }
                }
                param::CUSTOM => return refuse(status::UNSUPPORTED_PARAMETER, "Custom in ROSpec"),
                other => return refuse(status::UNKNOWN_PARAMETER, format!("parameter {other}")),
            }
        }
        if !boundary || !ai {
            return refuse(status::MISSING_PARAMETER, "ROBoundarySpec and AISpec are required");
        }
        self.rospecs.push(spec);
        Ok(())
    }

    fn check_aispec(&self, body: &[u8]) -> Result<(), Refusal> {
        let count = usize::from(be_u16(body, 0).unwrap_or(0));
        if count == 0 {
            return refuse(status::PARAMETER_ERROR, "AISpec without antennas");
        }
        for i in 0..count {
            let antenna = be_u16(body, 2 + 2 * i)
                .ok_or((status::PARAMETER_ERROR, "AISpec cut short".to_owned()))?;
            if antenna != 0 && usize::from(antenna) > self.config.antennas.len() {
                return refuse(status::PARAMETER_ERROR, format!("no antenna {antenna}"));
            }
        }
        let (mut stop, mut inventory) = (false, false);
        for p in Params::new(body.get(2 + 2 * count..).unwrap_or_default()) {
            match p {
                Ok(Param::Tlv { kind: param::AISPEC_STOP_TRIGGER, body }) => {
                    stop = body.len() >= 5;
                }
                Ok(Param::Tlv { kind: param::INVENTORY_PARAMETER_SPEC, body }) => {
                    if body.get(2) != Some(&1) {
                        return refuse(status::UNSUPPORTED_PARAMETER, "ProtocolID other than C1G2");
                    }
                    inventory = true;
                }
                Ok(Param::Tlv { .. }) => {}
                _ => return refuse(status::PARAMETER_ERROR, "malformed AISpec parameter"),
            }
        }
        if stop && inventory {
            Ok(())
        } else {
            refuse(status::MISSING_PARAMETER, "AISpecStopTrigger and InventoryParameterSpec")
        }
    }

    fn delete_rospec(&mut self, id: u32) -> Result<(), Refusal> {
        if id == 0 {
            self.rospecs.clear();
            return Ok(());
        }
        let before = self.rospecs.len();
        self.rospecs.retain(|r| r.id != id);
        if self.rospecs.len() == before {
            refuse(status::INVALID, format!("no ROSpec {id}"))
        } else {
            Ok(())
        }
    }

    fn enable_rospec(&mut self, id: u32, enable: bool) -> Result<(), Refusal> {
        let mut found = false;
        for spec in self.rospecs.iter_mut().filter(|r| id == 0 || r.id == id) {
            found = true;
            spec.state = match (enable, spec.state) {
                (false, _) => RoSpecState::Disabled,
                (true, RoSpecState::Disabled) if spec.immediate => RoSpecState::Active,
                (true, RoSpecState::Disabled) => RoSpecState::Inactive,
                (true, state) => state,
            };
        }
        if found || id == 0 { Ok(()) } else { refuse(status::INVALID, format!("no ROSpec {id}")) }
    }

    fn start_rospec(&mut self, id: u32, start: bool) -> Result<(), Refusal> {
        let Some(spec) = self.rospecs.iter_mut().find(|r| r.id == id) else {
            return refuse(status::INVALID, format!("no ROSpec {id}"));
        };
        spec.state = match (start, spec.state) {
            (_, RoSpecState::Disabled) => {
                return refuse(status::INVALID, format!("ROSpec {id} is disabled"));
            }
            (true, _) => RoSpecState::Active,
            (false, _) => RoSpecState::Inactive,
        };
        Ok(())
    }
}

/// AccessReportSpec (239), accepted and ignored in SET_READER_CONFIG.
const ACCESS_REPORT_SPEC: u16 = 239;

/// Checks a ROBoundarySpec: start trigger null or immediate (→ `true`), a stop trigger.
fn boundary_immediate(body: &[u8]) -> Result<bool, Refusal> {
    let (mut start, mut stop) = (None, false);
    for p in Params::new(body) {
        match p {
            Ok(Param::Tlv { kind: param::ROSPEC_START_TRIGGER, body }) => {
                start = body.first().copied()
            }
            Ok(Param::Tlv { kind: param::ROSPEC_STOP_TRIGGER, body }) => stop = body.len() >= 5,
            _ => return refuse(status::PARAMETER_ERROR, "malformed ROBoundarySpec"),
        }
    }
    match (start, stop) {
        (Some(0), true) => Ok(false),
        (Some(1), true) => Ok(true),
        (Some(_), true) => refuse(status::UNSUPPORTED_PARAMETER, "periodic / GPI start trigger"),
        _ => refuse(status::MISSING_PARAMETER, "ROSpecStartTrigger and ROSpecStopTrigger"),
    }
}

/// EPC-96 (TV 13) for a 12-byte EPC, else EPCData (TLV 241: u16 bit length, the bytes).
pub fn epc_parameter(epc: &[u8]) -> Vec<u8> {
    if epc.len() == 12 {
        return tv(tvt::EPC_96, epc);
    }
    let epc = epc.get(..4096).unwrap_or(epc);
    let mut body = Vec::with_capacity(epc.len() + 2);
    put_u16(&mut body, u16::try_from(epc.len() * 8).unwrap_or(u16::MAX));
    body.extend_from_slice(epc);
    tlv(param::EPC_DATA, &body)
}

/// A `*_RESPONSE` carrying only an LLRPStatus: success body `01 1F 00 08 00 00 00 00`.
pub fn response(message_type: u16, id: u32, code: u16, description: &str) -> Vec<u8> {
    message(message_type, id, &command::llrp_status(code, description))
}

/// An ERROR_MESSAGE (100) with an LLRPStatus.
pub fn error_message(id: u32, code: u16, description: &str) -> Vec<u8> {
    message(mt::ERROR_MESSAGE, id, &command::llrp_status(code, description))
}

/// A READER_EVENT_NOTIFICATION (63): ReaderEventNotificationData with UTCTimestamp, then the
/// AntennaEvents, ConnectionAttemptEvent and ConnectionCloseEvent given (LTK order).
pub fn reader_event_notification(
    id: u32,
    utc_us: u64,
    connection: Option<ConnectionAttempt>,
    antenna_events: &[(u16, bool)],
    connection_close: bool,
) -> Vec<u8> {
    let mut stamp = Vec::with_capacity(8);
    put_u64(&mut stamp, utc_us);
    let mut data = tlv(param::UTC_TIMESTAMP, &stamp);
    for (antenna, connected) in antenna_events {
        let mut event = vec![u8::from(*connected)];
        put_u16(&mut event, *antenna);
        data.extend(tlv(param::ANTENNA_EVENT, &event));
    }
    if let Some(attempt) = connection {
        data.extend(tlv(param::CONNECTION_ATTEMPT_EVENT, &attempt.code().to_be_bytes()));
    }
    if connection_close {
        data.extend(tlv(param::CONNECTION_CLOSE_EVENT, &[]));
    }
    message(mt::READER_EVENT_NOTIFICATION, id, &tlv(param::READER_EVENT_NOTIFICATION_DATA, &data))
}
