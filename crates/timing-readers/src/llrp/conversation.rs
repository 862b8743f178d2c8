//! The console's side of an LLRP session (readers.md §3, "minimal session for timing"): wait for
//! the reader's connection event, configure it (keepalive, hold reports across a reconnect,
//! antenna power and sensitivity), read the configuration back, replace our ROSpec and enable
//! it, answer keepalives, watch that they keep coming, and say goodbye on shutdown.
//!
//! Requests go one at a time: the next is sent when the reader answered the last (LLRP
//! responses echo the request's message id), so a refusal is matched to what was refused.

use std::collections::VecDeque;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::command::{self, AntennaSetting, ReaderSettings};
use super::{ConnectionAttempt, LlrpControl, LlrpStatus, message_type as mt};
use crate::config::{ReaderConfig, parse_duration, parse_flag};
use crate::registry::ProtocolOption;
use crate::supervisor::ReaderSetting;
use crate::supervisor::conversation::{ClockReply, Conversation, Out, Unsupported};
use crate::{ControlMessage, ReadDetails, ReaderTime, TagRead};

/// Our ROSpec's id (any non-zero u32; DELETE_ROSPEC 0 first clears whatever another client left).
const ROSPEC_ID: u32 = 1;
/// Keepalive interval asked for by default.
const DEFAULT_KEEPALIVE: Duration = Duration::from_secs(5);
/// How long a request may wait for its response.
const ANSWER_WAIT: Duration = Duration::from_secs(5);
/// How long to wait for the connection event before configuring anyway.
const EVENT_WAIT: Duration = Duration::from_secs(3);

/// The spec options an LLRP reader takes.
pub(crate) const OPTIONS: &[ProtocolOption] = &[
    ProtocolOption {
        name: "power",
        help: "transmit power index, for all antennas (`power=60`) or per antenna \
               (`power=1:60,2:55`); default: the reader's setting",
        check: |v| per_antenna(v).map(drop),
    },
    ProtocolOption {
        name: "sensitivity",
        help: "receive sensitivity index, as power; default: the reader's setting",
        check: |v| per_antenna(v).map(drop),
    },
    ProtocolOption {
        name: "keepalive",
        help: "keepalive interval (default 5s; 0s = none); no traffic for twice that drops the link",
        check: |v| keepalive(v).map(drop),
    },
    ProtocolOption {
        name: "report_every",
        help: "send a report every N tags (default 1: every read)",
        check: |v| report_every(v).map(drop),
    },
    ProtocolOption {
        name: "hold",
        help: "ask the reader to hold reports while the link is down (default 1)",
        check: |v| flag(v).map(drop),
    },
    ProtocolOption {
        name: "reset",
        help: "reset the reader to factory settings before configuring (default 0)",
        check: |v| flag(v).map(drop),
    },
];

/// `60` (antenna 0 = all) or `1:60,2:55`.
fn per_antenna(text: &str) -> Result<Vec<(u16, u16)>, &'static str> {
    const EXPECTED: &str = "an index (60) or antenna:index pairs (1:60,2:55)";
    let parse = |s: &str| s.trim().parse::<u16>().map_err(|_| EXPECTED);
    text.split(',')
        .map(|part| match part.split_once(':') {
            Some((antenna, index)) => Ok((parse(antenna)?, parse(index)?)),
            None => Ok((0, parse(part)?)),
        })
        .collect()
}

fn keepalive(text: &str) -> Result<Option<Duration>, &'static str> {
    let d = parse_duration(text).ok_or("a duration such as 5s or 500ms (0s = none)")?;
    if d.is_zero() {
        Ok(None)
    } else if d < Duration::from_millis(100) || d > Duration::from_secs(3600) {
        Err("between 100ms and 3600s (0s = none)")
    } else {
        Ok(Some(d))
    }
}

fn report_every(text: &str) -> Result<u16, &'static str> {
    text.trim().parse::<u16>().ok().filter(|n| *n > 0).ok_or("a number of tags, 1 or more")
}

fn flag(text: &str) -> Result<bool, &'static str> {
    parse_flag(text).ok_or("0 or 1")
}

/// What the timer asked of the reader, from the spec.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Wanted {
    settings: ReaderSettings,
    keepalive: Option<Duration>,
    report_every: u16,
}

impl Wanted {
    fn from_config(config: &ReaderConfig) -> Self {
        let option = |name: &str| config.protocol_options.get(name).map(String::as_str);
        let power = option("power").and_then(|v| per_antenna(v).ok()).unwrap_or_default();
        let sensitivity =
            option("sensitivity").and_then(|v| per_antenna(v).ok()).unwrap_or_default();
        let keepalive = match option("keepalive") {
            Some(v) => keepalive(v).unwrap_or(Some(DEFAULT_KEEPALIVE)),
            None => Some(DEFAULT_KEEPALIVE),
        };
        let mut antennas: Vec<AntennaSetting> = Vec::new();
        for (antenna, index) in power {
            if let Some(a) = setting(&mut antennas, antenna) {
                a.transmit_power = Some(index);
            }
        }
        for (antenna, index) in sensitivity {
            if let Some(a) = setting(&mut antennas, antenna) {
                a.receive_sensitivity = Some(index);
            }
        }
        antennas.sort_by_key(|a| a.antenna);
        let settings = ReaderSettings {
            reset_to_factory_default: option("reset").and_then(|v| flag(v).ok()).unwrap_or(false),
            keepalive_ms: keepalive.and_then(|d| u32::try_from(d.as_millis()).ok()),
            event_notifications: Vec::new(),
            antennas,
            hold_events_and_reports: Some(
                option("hold").and_then(|v| flag(v).ok()).unwrap_or(true),
            ),
        };
        Wanted {
            settings,
            keepalive,
            report_every: option("report_every")
                .and_then(|v| report_every(v).ok())
                .unwrap_or(command::DEFAULT_REPORT_N),
        }
    }
}

/// `antenna`'s entry in `antennas`, added when missing.
fn setting(antennas: &mut Vec<AntennaSetting>, antenna: u16) -> Option<&mut AntennaSetting> {
    if !antennas.iter().any(|a| a.antenna == antenna) {
        antennas.push(AntennaSetting::new(antenna));
    }
    antennas.iter_mut().find(|a| a.antenna == antenna)
}

/// A request waiting for its response.
#[derive(Debug, Clone, Copy)]
struct Awaiting {
    id: u32,
    request: u16,
    since: Duration,
}

/// One LLRP reader's conversation.
#[derive(Debug)]
pub(crate) struct LlrpConversation {
    wanted: Wanted,
    next_id: u32,
    // Per connection.
    connected_at: Option<Duration>,
    configuring: bool,
    queue: VecDeque<(u16, Vec<u8>)>,
    awaiting: Option<Awaiting>,
    last_traffic: Duration,
    /// The reader took our SET_READER_CONFIG, so its keepalives are due.
    keepalives_due: bool,
    /// The monotonic time of the latest call.
    mono: Duration,
}

impl LlrpConversation {
    pub(crate) fn new(config: &ReaderConfig) -> Self {
        LlrpConversation {
            wanted: Wanted::from_config(config),
            next_id: 1,
            connected_at: None,
            configuring: false,
            queue: VecDeque::new(),
            awaiting: None,
            last_traffic: Duration::ZERO,
            keepalives_due: false,
            mono: Duration::ZERO,
        }
    }

    fn id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id = self.next_id.checked_add(1).unwrap_or(1);
        id
    }

    /// Queues `make(id)` as a request of type `request` (its id travels in the bytes).
    fn request(&mut self, request: u16, make: impl FnOnce(u32) -> Vec<u8>) {
        let id = self.id();
        self.queue.push_back((request, make(id)));
    }

    /// The session from the reader's connection event on: configure, read back, (re)place the
    /// ROSpec, enable reports, and start reading when wanted.
    fn configure(&mut self, want_reading: bool) {
        self.configuring = true;
        let settings = self.wanted.settings.clone();
        self.request(mt::SET_READER_CONFIG, |id| command::set_reader_config(id, &settings));
        self.request(mt::GET_READER_CONFIG, command::get_reader_config);
        self.request(mt::DELETE_ACCESSSPEC, |id| command::delete_accessspec(id, 0));
        self.request(mt::DELETE_ROSPEC, |id| command::delete_rospec(id, 0));
        let n = self.wanted.report_every;
        self.request(mt::ADD_ROSPEC, |id| command::add_rospec(id, ROSPEC_ID, n));
        self.request(mt::ENABLE_EVENTS_AND_REPORTS, command::enable_events_and_reports);
        if want_reading {
            self.request(mt::ENABLE_ROSPEC, |id| command::enable_rospec(id, ROSPEC_ID));
        }
    }

    /// Sends queued requests until one waits for its answer.
    fn pump(&mut self, mono: Duration) -> Vec<Out> {
        let mut outs = Vec::new();
        while self.awaiting.is_none() {
            let Some((request, bytes)) = self.queue.pop_front() else { break };
            let id = message_id(&bytes);
            outs.push(Out::Send(bytes));
            // ENABLE_EVENTS_AND_REPORTS has no response (LLRP 1.0.1 §9.1.6).
            if request != mt::ENABLE_EVENTS_AND_REPORTS {
                self.awaiting = Some(Awaiting { id, request, since: mono });
            }
        }
        outs
    }

    fn on_response(&mut self, id: u32, status: &LlrpStatus, mono: Duration) -> Vec<Out> {
        let mut outs = Vec::new();
        if let Some(awaiting) = self.awaiting.filter(|a| a.id == id) {
            self.awaiting = None;
            if awaiting.request == mt::SET_READER_CONFIG {
                // A reader that refused the configuration sends no keepalives to watch for.
                self.keepalives_due = status.is_success();
            }
            if !status.is_success() {
                outs.push(Out::Warn(format!(
                    "the reader refused {}: {status}",
                    request_name(awaiting.request)
                )));
            }
        }
        outs.extend(self.pump(mono));
        outs
    }

    /// What the reader applied against what was asked, from its GET_READER_CONFIG_RESPONSE:
    /// the settings for the status ([`Out::Settings`]), and a setting it did not take said
    /// ([`Out::Warn`]).
    fn check_read_back(
        &self,
        applied: &[AntennaSetting],
        antennas: &[super::AntennaInfo],
    ) -> Vec<Out> {
        let mut settings = Vec::new();
        let mut problems = Vec::new();
        let connected: Vec<String> =
            antennas.iter().filter(|a| a.connected).map(|a| a.id.to_string()).collect();
        if !antennas.is_empty() {
            let shown = if connected.is_empty() { "none".to_owned() } else { connected.join(", ") };
            settings.push(ReaderSetting::new("connected antennas", None, Some(shown)));
        }
        let mut ids: Vec<u16> = applied.iter().map(|a| a.antenna).collect();
        ids.extend(self.wanted.settings.antennas.iter().map(|a| a.antenna).filter(|a| *a != 0));
        ids.sort_unstable();
        ids.dedup();
        for id in ids {
            let asked = self.asked_for(id);
            let got = applied.iter().find(|a| a.antenna == id);
            let Some(got) = got else {
                // Only what was asked of this antenna itself: "all antennas" means those there.
                let Some(asked) = self.wanted.settings.antennas.iter().find(|a| a.antenna == id)
                else {
                    continue;
                };
                problems.push(format!("antenna {id} is not on this reader"));
                if let Some(power) = asked.transmit_power {
                    settings.push(row(id, "power", Some(power), None));
                }
                if let Some(sensitivity) = asked.receive_sensitivity {
                    settings.push(row(id, "sensitivity", Some(sensitivity), None));
                }
                continue;
            };
            let power = row(id, "power", asked.transmit_power, got.transmit_power);
            let sensitivity =
                row(id, "sensitivity", asked.receive_sensitivity, got.receive_sensitivity);
            for (setting, what) in
                [(&power, "transmit power"), (&sensitivity, "receive sensitivity")]
            {
                if setting.differs() {
                    let asked = setting.asked.as_deref().unwrap_or_default();
                    problems.push(match &setting.applied {
                        Some(applied) => {
                            format!("antenna {id}: {what} {asked} asked, {applied} applied")
                        }
                        None => {
                            format!("antenna {id}: {what} {asked} asked, the reader reported none")
                        }
                    });
                }
            }
            // Ports with nothing on them and nothing asked of them are left out.
            let port_used = antennas.is_empty()
                || antennas.iter().any(|a| a.id == id && a.connected)
                || self.wanted.settings.antennas.iter().any(|a| a.antenna == id);
            if port_used || power.differs() || sensitivity.differs() {
                settings.push(power);
                settings.push(sensitivity);
            }
        }
        if !antennas.is_empty() && connected.is_empty() {
            problems.push("no antenna is connected".to_owned());
        }
        tracing::info!(antennas = %connected.join(","), "LLRP reader antennas connected");
        let mut outs = vec![Out::Settings(settings)];
        if !problems.is_empty() {
            outs.push(Out::Warn(problems.join("; ")));
        }
        outs
    }

    /// What the spec asked of antenna `id`: its own `antenna:index` values, else the ones for
    /// all antennas (SET_READER_CONFIG sends "all" first, so an antenna's own value wins).
    fn asked_for(&self, id: u16) -> AntennaSetting {
        let asked = &self.wanted.settings.antennas;
        let all = asked.iter().find(|a| a.antenna == 0);
        let own = asked.iter().find(|a| a.antenna == id);
        let pick = |f: fn(&AntennaSetting) -> Option<u16>| own.and_then(f).or(all.and_then(f));
        AntennaSetting {
            transmit_power: pick(|a| a.transmit_power),
            receive_sensitivity: pick(|a| a.receive_sensitivity),
            ..AntennaSetting::new(id)
        }
    }
}

/// One antenna setting for the status: `antenna 1 power`, asked and applied as table indexes
/// (the unit `power=` / `sensitivity=` take).
fn row(antenna: u16, what: &str, asked: Option<u16>, applied: Option<u16>) -> ReaderSetting {
    ReaderSetting::new(
        format!("antenna {antenna} {what}"),
        asked.map(|v| v.to_string()),
        applied.map(|v| v.to_string()),
    )
}

/// The message id of an encoded message (bytes 6..10).
fn message_id(bytes: &[u8]) -> u32 {
    bytes.get(6..10).and_then(|b| b.try_into().ok()).map_or(0, u32::from_be_bytes)
}

fn request_name(request: u16) -> &'static str {
    match request {
        mt::SET_READER_CONFIG => "SET_READER_CONFIG (keepalive, antenna settings)",
        mt::GET_READER_CONFIG => "GET_READER_CONFIG",
        mt::DELETE_ACCESSSPEC => "DELETE_ACCESSSPEC",
        mt::DELETE_ROSPEC => "DELETE_ROSPEC",
        mt::ADD_ROSPEC => "ADD_ROSPEC (the inventory that reports tags)",
        mt::ENABLE_ROSPEC => "ENABLE_ROSPEC (start reading)",
        mt::DISABLE_ROSPEC => "DISABLE_ROSPEC (stop reading)",
        mt::STOP_ROSPEC => "STOP_ROSPEC",
        _ => "a request",
    }
}

impl Conversation for LlrpConversation {
    fn on_connect(&mut self, _want_reading: bool, _now: DateTime<Utc>, mono: Duration) -> Vec<Out> {
        // The reader speaks first (its connection event); nothing is sent until then.
        self.connected_at = Some(mono);
        self.configuring = false;
        self.keepalives_due = false;
        self.queue.clear();
        self.awaiting = None;
        self.last_traffic = mono;
        self.mono = mono;
        Vec::new()
    }

    fn on_read(
        &mut self,
        _read: &TagRead,
        _reader_utc: Option<DateTime<Utc>>,
        mono: Duration,
        _want_reading: bool,
    ) -> Vec<Out> {
        self.last_traffic = mono;
        self.mono = mono;
        Vec::new()
    }

    fn on_control(
        &mut self,
        message: &ControlMessage,
        mono: Duration,
        want_reading: bool,
    ) -> (Vec<Out>, Option<ClockReply>) {
        self.last_traffic = mono;
        self.mono = mono;
        let ControlMessage::Llrp(message) = message else { return (Vec::new(), None) };
        match message {
            LlrpControl::ReaderEvent { utc, connection, connection_close, .. } => {
                let clock =
                    utc.map(|t| ClockReply { time: ReaderTime::Utc(t), whole_seconds: false });
                let outs = match connection {
                    Some(ConnectionAttempt::Success) if !self.configuring => {
                        self.configure(want_reading);
                        self.pump(mono)
                    }
                    Some(ConnectionAttempt::Success) | None => Vec::new(),
                    Some(refused) => vec![Out::Drop(format!(
                        "the reader refused the connection ({refused:?}): another program \
                         (ItemTest, MultiReader, a second console) is connected to it; close it"
                    ))],
                };
                if *connection_close {
                    return (
                        vec![Out::Drop("the reader is closing the connection".to_owned())],
                        clock,
                    );
                }
                (outs, clock)
            }
            LlrpControl::Keepalive { id } => (vec![Out::Send(command::keepalive_ack(*id))], None),
            LlrpControl::Response { id, status, .. } => (self.on_response(*id, status, mono), None),
            LlrpControl::ReaderConfig { id, status, antennas, antenna_config, .. } => {
                let mut outs = if status.is_success() {
                    self.check_read_back(antenna_config, antennas)
                } else {
                    Vec::new()
                };
                outs.extend(self.on_response(*id, status, mono));
                (outs, None)
            }
            LlrpControl::Error { id, status } => {
                let mut outs = vec![Out::Warn(format!("the reader reported an error: {status}"))];
                outs.extend(self.on_response(*id, status, mono));
                (outs, None)
            }
            LlrpControl::Other { .. } => (Vec::new(), None),
        }
    }

    fn on_tick(&mut self, mono: Duration, want_reading: bool) -> Vec<Out> {
        self.mono = mono;
        if let Some(awaiting) = self.awaiting
            && mono.saturating_sub(awaiting.since) >= ANSWER_WAIT
        {
            return vec![Out::Drop(format!(
                "the reader did not answer {} within {} s",
                request_name(awaiting.request),
                ANSWER_WAIT.as_secs()
            ))];
        }
        if let Some(interval) = self.wanted.keepalive
            && self.keepalives_due
            && mono.saturating_sub(self.last_traffic) >= interval.saturating_mul(2)
        {
            return vec![Out::Drop(format!(
                "no keepalive from the reader for {} s",
                interval.saturating_mul(2).as_secs()
            ))];
        }
        // A reader that never sent its connection event: configure anyway.
        if !self.configuring
            && self.connected_at.is_some_and(|at| mono.saturating_sub(at) >= EVENT_WAIT)
        {
            self.configure(want_reading);
            return self.pump(mono);
        }
        Vec::new()
    }

    fn probe(&self) -> Option<Out> {
        None
    }

    fn can_start_stop(&self) -> bool {
        true
    }

    fn start(&mut self, mono: Duration) -> Result<Vec<Out>, Unsupported> {
        self.mono = mono;
        if !self.configuring {
            return Ok(Vec::new()); // configured with reading on once the reader is there
        }
        self.request(mt::ENABLE_ROSPEC, |id| command::enable_rospec(id, ROSPEC_ID));
        Ok(self.pump(mono))
    }

    fn stop(&mut self) -> Result<Vec<Out>, Unsupported> {
        if !self.configuring {
            return Ok(Vec::new());
        }
        self.request(mt::DISABLE_ROSPEC, |id| command::disable_rospec(id, ROSPEC_ID));
        Ok(self.pump(self.mono))
    }

    fn set_clock(&mut self, _at: DateTime<Utc>) -> Result<Vec<Out>, Unsupported> {
        Err(Unsupported) // LLRP readers keep time by NTP
    }

    fn rewind(
        &mut self,
        _from: DateTime<Utc>,
        _to: DateTime<Utc>,
    ) -> Result<Vec<Out>, Unsupported> {
        Err(Unsupported) // no standard rewind; `hold=1` keeps reports across a dropped link
    }

    fn follows_clock(&self) -> bool {
        true // every event and report carries the reader's UTC; NTP may step it mid-race
    }

    fn latest_stamp(&self, read: &TagRead) -> Option<DateTime<Utc>> {
        match &read.details {
            ReadDetails::Llrp(details) => details.last_seen,
            _ => None,
        }
    }

    fn on_close(&mut self) -> Vec<Out> {
        let id = self.id();
        vec![Out::Send(command::close_connection(id))]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llrp::LlrpStatus;
    use crate::llrp::model::{LlrpReader, ReaderModelConfig};
    use crate::{Decoded, Protocol};

    fn config(options: &str) -> ReaderConfig {
        format!("tcp:127.0.0.1:5084?protocol=llrp{options}").parse().unwrap()
    }

    /// Plays the conversation against the reader model until neither has more to say; returns
    /// the warnings and drops the conversation asked for.
    fn play(
        conversation: &mut LlrpConversation,
        reader: &mut LlrpReader,
        first: Vec<u8>,
    ) -> Vec<Out> {
        let mut decoder = Protocol::Llrp.decoder();
        let mut said = Vec::new();
        let mut from_reader = first;
        for _ in 0..50 {
            let mut items = Vec::new();
            decoder.feed(&from_reader, &mut items);
            let mut to_reader = Vec::new();
            for item in items {
                let outs = match item {
                    Decoded::Control(c) => {
                        conversation.on_control(&c.message, Duration::ZERO, true).0
                    }
                    _ => Vec::new(),
                };
                for out in outs {
                    match out {
                        Out::Send(bytes) => to_reader.extend(bytes),
                        other => said.push(other),
                    }
                }
            }
            if to_reader.is_empty() {
                break;
            }
            from_reader = reader.feed(&to_reader);
        }
        said
    }

    #[test]
    fn a_session_configures_the_reader_and_starts_it() {
        let mut conversation = LlrpConversation::new(&config("&power=1:60&keepalive=2s"));
        let mut reader = LlrpReader::new(ReaderModelConfig::default());
        assert!(
            conversation.on_connect(true, chrono::DateTime::UNIX_EPOCH, Duration::ZERO).is_empty()
        );
        let hello = reader.connect(1_000_000);
        let said = play(&mut conversation, &mut reader, hello);
        let unused = |antenna: u16, what: &str, applied: &str| {
            ReaderSetting::new(format!("antenna {antenna} {what}"), None, Some(applied.into()))
        };
        assert_eq!(
            said,
            vec![Out::Settings(vec![
                ReaderSetting::new("connected antennas", None, Some("1, 2".into())),
                ReaderSetting::new("antenna 1 power", Some("60".into()), Some("60".into())),
                unused(1, "sensitivity", "1"),
                unused(2, "power", "81"),
                unused(2, "sensitivity", "1"),
            ])],
            "the read-back, ports 3 and 4 (nothing on them, nothing asked) left out"
        );
        assert!(reader.is_reporting(), "ROSpec running, reports enabled");
        assert_eq!(reader.keepalive_ms(), Some(2000));
        assert!(reader.holds_reports());
        assert_eq!(reader.antenna_settings().first().and_then(|a| a.transmit_power), Some(60));
    }

    #[test]
    fn a_setting_the_reader_did_not_take_is_said() {
        let mut conversation = LlrpConversation::new(&config("&power=1:90"));
        let mut reader = LlrpReader::new(ReaderModelConfig::default()); // power table ends at 81
        conversation.on_connect(true, chrono::DateTime::UNIX_EPOCH, Duration::ZERO);
        let hello = reader.connect(1_000_000);
        let said = play(&mut conversation, &mut reader, hello);
        let [Out::Settings(settings), warning] = said.as_slice() else { panic!("{said:?}") };
        assert_eq!(*warning, Out::Warn("antenna 1: transmit power 90 asked, 81 applied".into()));
        let power = settings.iter().find(|s| s.name == "antenna 1 power").unwrap();
        assert_eq!((power.asked.as_deref(), power.applied.as_deref()), (Some("90"), Some("81")));
        assert!(power.differs());
        assert_eq!(settings.iter().filter(|s| s.differs()).count(), 1);
    }

    #[test]
    fn the_read_back_is_reported_beside_what_was_asked() {
        // All antennas 60 but antenna 2 55; sensitivity 10 on antenna 3 (unplugged) and on 5
        // (no such port).
        let mut conversation =
            LlrpConversation::new(&config("&power=60,2:55&sensitivity=3:10,5:10"));
        let info =
            |id: u16, connected: bool| super::super::AntennaInfo { id, connected, gain: 600 };
        let applied = |id: u16, power: u16, sensitivity: u16| {
            AntennaSetting::new(id).with_transmit_power(power).with_receive_sensitivity(sensitivity)
        };
        let response = LlrpControl::ReaderConfig {
            id: 7,
            status: LlrpStatus::success(),
            antennas: vec![info(1, true), info(2, true), info(3, false), info(4, false)],
            antenna_config: vec![
                applied(1, 60, 1),
                applied(2, 55, 1),
                applied(3, 60, 12),
                applied(4, 60, 1),
            ],
            keepalive_ms: Some(5000),
        };
        let (outs, clock) =
            conversation.on_control(&ControlMessage::Llrp(response), Duration::ZERO, true);
        assert_eq!(clock, None);
        let some = |v: &str| Some(v.to_owned());
        let shown: Vec<(String, Option<String>, Option<String>, bool)> = match outs.first() {
            Some(Out::Settings(settings)) => settings
                .iter()
                .map(|s| (s.name.clone(), s.asked.clone(), s.applied.clone(), s.differs()))
                .collect(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            shown,
            vec![
                ("connected antennas".into(), None, some("1, 2"), false),
                ("antenna 1 power".into(), some("60"), some("60"), false),
                ("antenna 1 sensitivity".into(), None, some("1"), false),
                ("antenna 2 power".into(), some("55"), some("55"), false),
                ("antenna 2 sensitivity".into(), None, some("1"), false),
                ("antenna 3 power".into(), some("60"), some("60"), false),
                ("antenna 3 sensitivity".into(), some("10"), some("12"), true),
                // Antenna 4: nothing on it, and it took what "all antennas" asked: left out.
                ("antenna 5 sensitivity".into(), some("10"), None, true),
            ]
        );
        assert_eq!(
            outs.get(1),
            Some(&Out::Warn(
                "antenna 3: receive sensitivity 10 asked, 12 applied; \
                 antenna 5 is not on this reader"
                    .into()
            )),
            "antenna 2's own power is no mismatch with the one for all antennas"
        );
        assert_eq!(outs.len(), 2);
    }

    #[test]
    fn the_clock_is_followed_from_the_last_seen_stamp() {
        let conversation = LlrpConversation::new(&config(""));
        assert!(conversation.follows_clock());
        let last_seen = DateTime::from_timestamp(1_750_000_000, 0);
        let read = TagRead {
            chip: "E2".into(),
            bib: None,
            antenna: Some(1),
            rssi: None,
            reader_time: DateTime::from_timestamp(1_749_999_990, 0).map(ReaderTime::Utc),
            replay_key: None,
            flags: crate::ReadFlags::default(),
            details: ReadDetails::Llrp(crate::llrp::LlrpDetails {
                last_seen,
                ..Default::default()
            }),
            raw: Vec::new(),
        };
        assert_eq!(conversation.latest_stamp(&read), last_seen);
    }

    #[test]
    fn another_client_on_the_reader_drops_the_link_with_the_reason() {
        let mut conversation = LlrpConversation::new(&config(""));
        let mut reader =
            LlrpReader::new(ReaderModelConfig { refuse_connection: true, ..Default::default() });
        conversation.on_connect(true, chrono::DateTime::UNIX_EPOCH, Duration::ZERO);
        let hello = reader.connect(1_000_000);
        let said = play(&mut conversation, &mut reader, hello);
        assert!(
            matches!(said.as_slice(), [Out::Drop(why)] if why.contains("another program")),
            "{said:?}"
        );
    }

    #[test]
    fn silence_and_unanswered_requests_drop_the_link() {
        let mut conversation = LlrpConversation::new(&config("&keepalive=1s"));
        let mut reader = LlrpReader::new(ReaderModelConfig::default());
        conversation.on_connect(true, chrono::DateTime::UNIX_EPOCH, Duration::ZERO);
        let hello = reader.connect(1_000_000);
        play(&mut conversation, &mut reader, hello);
        assert!(conversation.on_tick(Duration::from_millis(1900), true).is_empty());
        let outs = conversation.on_tick(Duration::from_millis(2000), true);
        assert!(
            matches!(outs.as_slice(), [Out::Drop(why)] if why.contains("keepalive")),
            "{outs:?}"
        );

        // A reader that never answers SET_READER_CONFIG.
        let mut conversation = LlrpConversation::new(&config(""));
        conversation.on_connect(true, chrono::DateTime::UNIX_EPOCH, Duration::ZERO);
        let sent = conversation.on_tick(EVENT_WAIT, true);
        assert!(matches!(sent.as_slice(), [Out::Send(_)]), "configures without the event");
        let outs = conversation.on_tick(EVENT_WAIT + ANSWER_WAIT, true);
        assert!(matches!(outs.as_slice(), [Out::Drop(why)] if why.contains("SET_READER_CONFIG")));
    }

    #[test]
    fn keepalives_are_acknowledged_and_shutdown_says_goodbye() {
        let mut conversation = LlrpConversation::new(&config(""));
        let keepalive = LlrpControl::Keepalive { id: 0x11 };
        let (outs, _) =
            conversation.on_control(&ControlMessage::Llrp(keepalive), Duration::ZERO, true);
        assert_eq!(outs, vec![Out::Send(command::keepalive_ack(0x11))]);
        let goodbye = conversation.on_close();
        assert!(matches!(goodbye.as_slice(), [Out::Send(b)] if b.get(..2) == Some(&[0x04, 0x0E])));
    }
}
