//! What the supervisor says to each kind of reader: the commands on connect (clock query, start,
//! rewind of what was missed), polling of readers that only answer, gap detection in sequence
//! numbers, and the protocol's spelling of start / stop / set clock / rewind.
//!
//! The driver is pure: it never touches the link or a clock. It is told what arrived (with the
//! host monotonic time) and answers with [`Out`]s that the supervisor sends. It lives as long as
//! the supervisor, so what it learnt about the reader (last log id, last passing number, last
//! reader time) survives reconnects and drives the rewind after them.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, TimeDelta, Timelike as _, Utc};

use super::reader_clock::utc_to_local;
use crate::config::{EliteReplay, ReaderConfig};
use crate::ultra::command::RewindEncoding;
use crate::{
    ControlMessage, Protocol, ReadDetails, ReaderTime, ReplayKey, TagRead, chafon, cloudbox, ipico,
    r2000, raceresult, timy, ultra,
};

/// A polled reader that has not answered an inventory for this long is polled again.
const POLL_RETRY: Duration = Duration::from_secs(1);
/// RACE RESULT passings fetched per `<from>:<count>` request.
const FETCH_CHUNK: u64 = 500;
/// Ultra rewind-by-log upper bound when the reader's newest log id is unknown ("to the end").
const ULTRA_LOG_END: u64 = u32::MAX as u64;
/// How far past the host's clock a CloudBox rewind after reconnect reaches.
const CLOUDBOX_REWIND_AHEAD: TimeDelta = TimeDelta::minutes(10);

/// Something the supervisor should do on the link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Out {
    /// Send these bytes.
    Send(Vec<u8>),
    /// Send this get-time command (the supervisor notes when, for the round trip).
    AskTime(Vec<u8>),
    /// Send this request for stored reads (counted as a rewind).
    Rewind(Vec<u8>),
    /// IPICO Elite: replay the reads stored from this reader-local time on, over the side ports.
    EliteReplay {
        /// Replay start (reader-local); `None` = everything.
        from: Option<NaiveDateTime>,
        /// The ports.
        ports: EliteReplay,
    },
}

/// The reader answered the get-time command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ClockReply {
    pub(crate) time: ReaderTime,
    /// The reply has whole seconds only.
    pub(crate) whole_seconds: bool,
}

/// A command the protocol has no spelling for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unsupported;

/// What a RACE RESULT `PASSINGS` reply is awaited for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CountFor {
    /// Fetch what came after the last passing seen.
    Resume,
    /// Fetch the whole current file (a requested rewind).
    All,
}

/// A RACE RESULT fetch in progress: passings `next..=end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fetch {
    next: u64,
    end: u64,
}

/// Whether the protocol has start / stop (reading commands, or polling).
pub(crate) fn can_start_stop(protocol: Protocol) -> bool {
    matches!(
        protocol,
        Protocol::Ultra
            | Protocol::RaceResult
            | Protocol::CloudBox
            | Protocol::R2000
            | Protocol::Chafon
    )
}

/// Per-protocol conversation with one reader.
#[derive(Debug)]
pub(crate) struct Driver {
    protocol: Protocol,
    poll_interval: Duration,
    rewind_on_reconnect: bool,
    elite: Option<EliteReplay>,
    utc_offset: chrono::FixedOffset,

    // What was learnt about the reader; kept across reconnects.
    /// Ultra: highest log id per (box, internal reader).
    ultra_logs: BTreeMap<(u8, u8), u64>,
    /// RACE RESULT: (file, highest passing number) of the current file.
    rr_last: Option<(Option<u32>, u64)>,
    /// CloudBox: highest passing number and its time.
    cloudbox_last: Option<(u64, Option<DateTime<Utc>>)>,
    /// IPICO: latest reader-local time seen.
    ipico_last: Option<NaiveDateTime>,
    /// Timy: any impulse seen (or a resume point given): its memory is worth re-sending.
    timy_seen: bool,

    // Per connection.
    poll_outstanding: bool,
    poll_sent: Option<Duration>,
    rr_count_for: Option<CountFor>,
    rr_fetch: Option<Fetch>,
}

impl Driver {
    pub(crate) fn new(config: &ReaderConfig) -> Self {
        let mut driver = Driver {
            protocol: config.protocol,
            poll_interval: config.poll_interval,
            rewind_on_reconnect: config.rewind_on_reconnect,
            elite: config.ipico_elite.filter(|_| config.protocol == Protocol::Ipico),
            utc_offset: config.reader_utc_offset,
            ultra_logs: BTreeMap::new(),
            rr_last: None,
            cloudbox_last: None,
            ipico_last: None,
            timy_seen: false,
            poll_outstanding: false,
            poll_sent: None,
            rr_count_for: None,
            rr_fetch: None,
        };
        if let Some(resume) = &config.resume_after {
            match resume.key() {
                Some(ReplayKey::Ultra { ultra_id, reader, log_id, .. }) => {
                    driver.ultra_logs.insert((ultra_id, reader), log_id);
                }
                Some(ReplayKey::RaceResult { file, passing, .. }) => {
                    driver.rr_last = Some((file, passing));
                }
                Some(ReplayKey::CloudBox { passing_number, at }) => {
                    driver.cloudbox_last = Some((passing_number, at.or(resume.at)));
                }
                Some(ReplayKey::Ipico { at, .. }) => driver.ipico_last = Some(at),
                Some(ReplayKey::Timy { .. }) => driver.timy_seen = true,
                None => {
                    if let Some(at) = resume.at {
                        driver.ipico_last = Some(utc_to_local(at, config.reader_utc_offset));
                    }
                }
            }
        }
        driver
    }

    /// Whether anything was learnt that a rewind could start from.
    fn has_progress(&self) -> bool {
        match self.protocol {
            Protocol::Ultra => !self.ultra_logs.is_empty(),
            Protocol::RaceResult => self.rr_last.is_some(),
            Protocol::CloudBox => self.cloudbox_last.is_some_and(|(_, at)| at.is_some()),
            Protocol::Ipico => self.ipico_last.is_some(),
            Protocol::Timy => self.timy_seen,
            Protocol::R2000 | Protocol::Chafon | Protocol::Lines => false,
        }
    }

    /// The link is up: the commands to send first.
    pub(crate) fn on_connect(&mut self, want_reading: bool, now: DateTime<Utc>) -> Vec<Out> {
        self.poll_outstanding = false;
        self.poll_sent = None;
        self.rr_count_for = None;
        self.rr_fetch = None;
        let rewind = self.rewind_on_reconnect && self.has_progress();
        let mut outs = Vec::new();
        match self.protocol {
            Protocol::Ipico => {
                outs.push(Out::AskTime(ipico::command::get_clock(0)));
                if let (true, Some(ports)) = (rewind, self.elite) {
                    outs.push(Out::EliteReplay { from: self.ipico_last, ports });
                }
            }
            Protocol::Ultra => {
                outs.push(Out::AskTime(ultra::command::get_time()));
                if want_reading {
                    outs.push(Out::Send(ultra::command::start_reading()));
                }
                if rewind && let Some(from) = self.ultra_logs.values().min() {
                    outs.push(Out::Rewind(ultra::command::rewind_by_log(
                        from.saturating_add(1),
                        ULTRA_LOG_END.max(from.saturating_add(1)),
                    )));
                }
            }
            Protocol::RaceResult => {
                outs.push(Out::Send(raceresult::command::set_protocol("2.0")));
                outs.push(Out::AskTime(raceresult::command::get_time()));
                if want_reading {
                    outs.push(Out::Send(raceresult::command::start_operation()));
                }
                outs.push(Out::Send(raceresult::command::set_push_passings(true)));
                if rewind {
                    self.rr_count_for = Some(CountFor::Resume);
                    outs.push(Out::Send(raceresult::command::passings_count()));
                }
            }
            Protocol::CloudBox => {
                outs.push(Out::AskTime(cloudbox::command::get_system_time()));
                if want_reading {
                    outs.push(Out::Send(cloudbox::command::start()));
                }
                if rewind && let Some((_, Some(at))) = self.cloudbox_last {
                    let from = at - TimeDelta::seconds(1);
                    outs.push(Out::Rewind(cloudbox::command::rewind(
                        from,
                        now + CLOUDBOX_REWIND_AHEAD,
                    )));
                }
            }
            Protocol::Timy => {
                if rewind {
                    outs.push(Out::Rewind(timy::command::resend_memory()));
                }
            }
            Protocol::R2000 | Protocol::Chafon | Protocol::Lines => {}
        }
        outs
    }

    /// A read arrived (delivered or not): learn from it, and ask for what a gap says is missing.
    pub(crate) fn on_read(
        &mut self,
        read: &TagRead,
        reader_utc: Option<DateTime<Utc>>,
        mono: Duration,
        want_reading: bool,
    ) -> Vec<Out> {
        let mut outs = Vec::new();
        match &read.details {
            ReadDetails::Ultra(d) => {
                let key = (d.ultra_id, d.reader);
                match self.ultra_logs.get(&key).copied() {
                    Some(last) if d.log_id > last => {
                        if !d.is_rewind && d.log_id > last.saturating_add(1) {
                            outs.push(Out::Rewind(ultra::command::rewind_by_log(
                                last.saturating_add(1),
                                d.log_id - 1,
                            )));
                        }
                        self.ultra_logs.insert(key, d.log_id);
                    }
                    // A live read below what we saw: the reader's log started again.
                    Some(_) if !d.is_rewind => {
                        self.ultra_logs.insert(key, d.log_id);
                    }
                    Some(_) => {}
                    None => {
                        if self.ultra_logs.len() < 1024 {
                            self.ultra_logs.insert(key, d.log_id);
                        }
                    }
                }
            }
            ReadDetails::RaceResult(d) => {
                let passing = d.passing_number;
                match self.rr_last {
                    Some((file, last)) if file == d.file_number => {
                        if d.pushed && passing > last.saturating_add(1) && self.rr_fetch.is_none() {
                            outs.extend(self.start_fetch(last.saturating_add(1), passing - 1));
                        }
                        if passing > last {
                            self.rr_last = Some((file, passing));
                        }
                    }
                    Some(_) if d.pushed => {
                        // A new passing file: fetch its start if we missed it.
                        if passing > 1 && self.rr_fetch.is_none() {
                            outs.extend(self.start_fetch(1, passing - 1));
                        }
                        self.rr_last = Some((d.file_number, passing));
                    }
                    Some(_) => {}
                    None => self.rr_last = Some((d.file_number, passing)),
                }
            }
            ReadDetails::CloudBox(d) => {
                if let Some(n) = d.passing_number {
                    match self.cloudbox_last {
                        Some((last, last_at)) => {
                            // Not earlier than the newest passing seen: of the current run (a
                            // rewind brings earlier ones, maybe of an earlier run).
                            let newest = match (last_at, reader_utc) {
                                (Some(last_at), Some(at)) => at >= last_at,
                                _ => !read.flags.from_memory,
                            };
                            if n > last && newest {
                                if n > last.saturating_add(1)
                                    && let (Some(from), Some(to)) = (last_at, reader_utc)
                                {
                                    outs.push(Out::Rewind(cloudbox::command::rewind(from, to)));
                                }
                                self.cloudbox_last = Some((n, reader_utc.or(last_at)));
                            } else if n < last && newest && !read.flags.from_memory {
                                // A new session or file on the box: numbering restarted.
                                self.cloudbox_last = Some((n, reader_utc.or(last_at)));
                            }
                        }
                        None => self.cloudbox_last = Some((n, reader_utc)),
                    }
                }
            }
            ReadDetails::Ipico(_) => {
                if let Some(ReaderTime::Local(at)) = read.reader_time
                    && self.ipico_last.is_none_or(|last| at > last)
                {
                    self.ipico_last = Some(at);
                }
            }
            ReadDetails::Timy(_) => self.timy_seen = true,
            ReadDetails::Chafon(d) => {
                if d.kind != chafon::ChafonFrameKind::ActiveMode && d.status != 0x03 {
                    outs.extend(self.round_done(mono, want_reading));
                }
            }
            ReadDetails::R2000(_) | ReadDetails::Line => {}
        }
        outs
    }

    fn start_fetch(&mut self, from: u64, end: u64) -> Vec<Out> {
        if from > end {
            return Vec::new();
        }
        let count = (end - from).saturating_add(1).min(FETCH_CHUNK);
        self.rr_fetch = Some(Fetch { next: from.saturating_add(count), end });
        vec![Out::Rewind(raceresult::command::fetch_passings(from, count))]
    }

    /// A polled reader finished an inventory round.
    fn round_done(&mut self, mono: Duration, want_reading: bool) -> Vec<Out> {
        self.poll_outstanding = false;
        self.poll_due(mono, want_reading)
    }

    fn poll_due(&mut self, mono: Duration, want_reading: bool) -> Vec<Out> {
        if !want_reading || !matches!(self.protocol, Protocol::R2000 | Protocol::Chafon) {
            return Vec::new();
        }
        let since = self.poll_sent.map(|sent| mono.saturating_sub(sent));
        let due = match (self.poll_outstanding, since) {
            (_, None) => true,
            (false, Some(since)) => since >= self.poll_interval,
            (true, Some(since)) => since >= POLL_RETRY,
        };
        if !due {
            return Vec::new();
        }
        self.poll_outstanding = true;
        self.poll_sent = Some(mono);
        let poll = match self.protocol {
            Protocol::R2000 => r2000::command::real_time_inventory(r2000::command::BROADCAST, 1),
            _ => chafon::command::inventory(chafon::command::BROADCAST),
        };
        vec![Out::Send(poll)]
    }

    /// A control message arrived.
    pub(crate) fn on_control(
        &mut self,
        message: &ControlMessage,
        mono: Duration,
        want_reading: bool,
    ) -> (Vec<Out>, Option<ClockReply>) {
        let mut outs = Vec::new();
        let mut clock = None;
        match message {
            ControlMessage::Ipico(ipico::IpicoControl::Frame(frame)) => {
                if let Some(at) = frame.clock() {
                    clock = Some(ClockReply { time: ReaderTime::Local(at), whole_seconds: false });
                }
            }
            ControlMessage::Ultra(ultra::UltraControl::Time { at, .. }) => {
                clock = Some(ClockReply {
                    time: ReaderTime::Local(*at),
                    whole_seconds: at.nanosecond() == 0,
                });
            }
            ControlMessage::RaceResult(reply) => match reply {
                raceresult::RaceResultControl::Time(time) => {
                    clock = Some(ClockReply { time: *time, whole_seconds: false });
                }
                raceresult::RaceResultControl::PassingsCount { count, file } => {
                    if let Some(why) = self.rr_count_for.take() {
                        let from = match (why, self.rr_last) {
                            (CountFor::Resume, Some((last_file, last)))
                                if last_file == *file || last_file.is_none() || file.is_none() =>
                            {
                                last.saturating_add(1)
                            }
                            _ => 1,
                        };
                        match &mut self.rr_fetch {
                            // A gap fetch is under way: let it run on to the end of the file.
                            Some(fetch) => fetch.end = fetch.end.max(*count),
                            None => outs.extend(self.start_fetch(from, *count)),
                        }
                    }
                }
                raceresult::RaceResultControl::EndOfList => {
                    if let Some(fetch) = self.rr_fetch.take() {
                        outs.extend(self.start_fetch(fetch.next, fetch.end));
                    }
                }
                raceresult::RaceResultControl::Reply { .. } => {}
            },
            ControlMessage::CloudBox(cloudbox::CloudBoxControl::Reply { command, result }) => {
                if command.eq_ignore_ascii_case("GETSYSTEMTIME")
                    && let Some(at) = cloudbox::system_time(result)
                {
                    clock = Some(ClockReply { time: ReaderTime::Utc(at), whole_seconds: false });
                }
            }
            ControlMessage::R2000(
                r2000::R2000Control::EndOfRound { .. }
                | r2000::R2000Control::Status { command: 0x89..=0x8B, .. },
            ) => outs.extend(self.round_done(mono, want_reading)),
            ControlMessage::Chafon(
                chafon::ChafonControl::NoTag { .. }
                | chafon::ChafonControl::Frame {
                    command: chafon::CMD_INVENTORY | chafon::CMD_SINGLE_TAG_INVENTORY,
                    ..
                },
            ) => outs.extend(self.round_done(mono, want_reading)),
            _ => {}
        }
        (outs, clock)
    }

    /// Periodic work: polling.
    pub(crate) fn on_tick(&mut self, mono: Duration, want_reading: bool) -> Vec<Out> {
        self.poll_due(mono, want_reading)
    }

    /// What to send to a link that went quiet, to see whether the reader is still there.
    pub(crate) fn probe(&self) -> Option<Out> {
        match self.protocol {
            Protocol::Ipico => Some(Out::AskTime(ipico::command::get_clock(0))),
            Protocol::Ultra => Some(Out::Send(ultra::command::status())),
            Protocol::RaceResult => Some(Out::AskTime(raceresult::command::get_time())),
            Protocol::CloudBox => Some(Out::AskTime(cloudbox::command::get_system_time())),
            Protocol::R2000 => {
                Some(Out::Send(r2000::command::get_firmware_version(r2000::command::BROADCAST)))
            }
            Protocol::Chafon => {
                Some(Out::Send(chafon::command::get_reader_info(chafon::command::BROADCAST)))
            }
            // A Timy is often wired output-only, a keyboard wedge never answers.
            Protocol::Timy | Protocol::Lines => None,
        }
    }

    /// `start()`.
    pub(crate) fn start(&mut self, mono: Duration) -> Result<Vec<Out>, Unsupported> {
        match self.protocol {
            Protocol::Ultra => Ok(vec![Out::Send(ultra::command::start_reading())]),
            Protocol::RaceResult => Ok(vec![
                Out::Send(raceresult::command::start_operation()),
                Out::Send(raceresult::command::set_push_passings(true)),
            ]),
            Protocol::CloudBox => Ok(vec![Out::Send(cloudbox::command::start())]),
            Protocol::R2000 | Protocol::Chafon => {
                self.poll_outstanding = false;
                self.poll_sent = None;
                Ok(self.poll_due(mono, true))
            }
            Protocol::Ipico | Protocol::Timy | Protocol::Lines => Err(Unsupported),
        }
    }

    /// `stop()`.
    pub(crate) fn stop(&mut self) -> Result<Vec<Out>, Unsupported> {
        match self.protocol {
            Protocol::Ultra => Ok(vec![Out::Send(ultra::command::stop_reading())]),
            Protocol::RaceResult => Ok(vec![Out::Send(raceresult::command::stop_operation())]),
            Protocol::CloudBox => Ok(vec![Out::Send(cloudbox::command::stop())]),
            Protocol::R2000 | Protocol::Chafon => Ok(Vec::new()),
            Protocol::Ipico | Protocol::Timy | Protocol::Lines => Err(Unsupported),
        }
    }

    /// `set_clock(at)`: set, then measure again.
    pub(crate) fn set_clock(&mut self, at: DateTime<Utc>) -> Result<Vec<Out>, Unsupported> {
        let local = utc_to_local(at, self.utc_offset);
        match self.protocol {
            Protocol::Ipico => Ok(vec![
                Out::Send(ipico::command::set_clock(0, local)),
                Out::AskTime(ipico::command::get_clock(0)),
            ]),
            Protocol::Ultra => Ok(vec![
                Out::Send(ultra::command::set_time(local)),
                Out::AskTime(ultra::command::get_time()),
            ]),
            Protocol::RaceResult => Ok(vec![
                Out::Send(raceresult::command::set_time(local)),
                Out::AskTime(raceresult::command::get_time()),
            ]),
            _ => Err(Unsupported),
        }
    }

    /// `rewind(from, to)`.
    pub(crate) fn rewind(
        &mut self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Out>, Unsupported> {
        match self.protocol {
            Protocol::Ultra => Ok(vec![Out::Rewind(ultra::command::rewind_by_time(
                utc_to_local(from, self.utc_offset),
                utc_to_local(to, self.utc_offset),
                RewindEncoding::Manual,
            ))]),
            Protocol::RaceResult => {
                self.rr_count_for = Some(CountFor::All);
                Ok(vec![Out::Rewind(raceresult::command::passings_count())])
            }
            Protocol::CloudBox => Ok(vec![Out::Rewind(cloudbox::command::rewind(from, to))]),
            Protocol::Timy => Ok(vec![Out::Rewind(timy::command::resend_memory())]),
            Protocol::Ipico => match self.elite {
                Some(ports) => Ok(vec![Out::EliteReplay {
                    from: Some(utc_to_local(from, self.utc_offset)),
                    ports,
                }]),
                None => Err(Unsupported),
            },
            Protocol::R2000 | Protocol::Chafon | Protocol::Lines => Err(Unsupported),
        }
    }
}
