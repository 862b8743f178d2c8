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

use super::conversation::{ClockReply, Conversation, Out, Unsupported};
use super::reader_clock::{local_to_utc, utc_to_local};
use crate::ReaderZone;
use crate::config::{EliteReplay, ReaderConfig};
use crate::registry::Builtin;
use crate::ultra::command::RewindEncoding;
use crate::{
    ControlMessage, ReadDetails, ReaderTime, ReplayKey, TagRead, chafon, cloudbox, ipico, r2000,
    raceresult, timy, ultra,
};

/// A polled reader that has not answered an inventory for this long is polled again.
const POLL_RETRY: Duration = Duration::from_secs(1);
/// RACE RESULT passings fetched per `<from>:<count>` request.
const FETCH_CHUNK: u64 = 500;
/// Ultra rewind-by-log upper bound when the reader's newest log id is unknown ("to the end").
const ULTRA_LOG_END: u64 = u32::MAX as u64;
/// How long a reconnect waits for the Ultra read it asked for again as a witness (the last log
/// id delivered in order). When it has not come by then, the reader's current log does not hold
/// that id: it started a new log while the link was down (and has fewer reads in it than that).
pub const ULTRA_WITNESS_WAIT: Duration = Duration::from_secs(3);
/// An Ultra rewind by time with no read of the new log to end at (see [`UltraOwed::until`]) is
/// taken as done once the link stayed up this long after it was asked.
const ULTRA_OWED_SETTLE: Duration = Duration::from_secs(10);
/// How far past the old log's last delivered read such a rewind reaches: to the end of the
/// reader's memory, whatever its clock says now.
const ULTRA_OWED_OPEN: TimeDelta = TimeDelta::days(7);
/// How far past the host's clock a CloudBox rewind after reconnect reaches.
const CLOUDBOX_REWIND_AHEAD: TimeDelta = TimeDelta::minutes(10);
/// Numbers delivered past a hole that are remembered per numbering run; beyond this the oldest
/// hole is given up (the reader evidently does not have those numbers).
const HOLES_KEPT: usize = 4096;

/// The numbers of one numbering run (RACE RESULT passings of a file, an Ultra log, a CloudBox
/// session) that were delivered: every number up to `through`, and the ones in `above`, past a
/// hole. A hole is what a cut link lost in transit (or a live gap being rewound): it stays until
/// a rewind fills it, so a rewind after the next reconnect starts at `through + 1` — not after the
/// highest number seen, which may have arrived live past the hole.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Numbered {
    through: u64,
    /// The reader time of the read numbered `through` (CloudBox rewinds by time).
    through_at: Option<DateTime<Utc>>,
    above: BTreeMap<u64, Option<DateTime<Utc>>>,
}

impl Numbered {
    /// Everything up to `n` is held.
    fn through(n: u64, at: Option<DateTime<Utc>>) -> Self {
        Numbered { through: n, through_at: at, above: BTreeMap::new() }
    }

    /// The highest number delivered.
    fn highest(&self) -> u64 {
        self.above.last_key_value().map_or(self.through, |(n, _)| *n).max(self.through)
    }

    /// The reader time of the highest number delivered.
    fn highest_at(&self) -> Option<DateTime<Utc>> {
        match self.above.last_key_value() {
            Some((_, at)) => *at,
            None => self.through_at,
        }
    }

    fn contains(&self, n: u64) -> bool {
        n <= self.through || self.above.contains_key(&n)
    }

    /// Whether a read numbered `n`, made at `at` (`rewound`: from the reader's memory), is of a
    /// new numbering run: the read this run delivered under that number had another time (the
    /// reconnect's rewind asks for the read numbered `through` again to check exactly that), or
    /// a live read at or below the highest number came after the newest read delivered — within
    /// one run numbers and times grow together.
    fn new_run(&self, n: u64, at: Option<DateTime<Utc>>, rewound: bool) -> bool {
        let Some(at) = at else { return false };
        let known = if n == self.through && n > 0 {
            self.through_at
        } else {
            self.above.get(&n).copied().flatten()
        };
        if let Some(known) = known {
            return known != at;
        }
        !rewound && n <= self.highest() && self.highest_at().is_some_and(|newest| at >= newest)
    }

    /// Whether a rewound read numbered `n`, made at `at`, is of an earlier numbering run: this
    /// run delivered a number at or below `n` with a later time (within one run numbers and times
    /// grow together). A rewind by time reaches all of the reader's memory, earlier runs too.
    fn earlier_run(&self, n: u64, at: Option<DateTime<Utc>>) -> bool {
        let Some(at) = at else { return false };
        let above = self.above.range(..=n).next_back().and_then(|(_, known)| *known);
        let below = match above {
            Some(known) => Some(known),
            None if self.through <= n && self.through > 0 => self.through_at,
            None => None,
        };
        below.is_some_and(|known| at < known)
    }

    /// Number `n` (made at `at`) was delivered.
    fn note(&mut self, n: u64, at: Option<DateTime<Utc>>) {
        if n <= self.through {
            return;
        }
        self.above.insert(n, at);
        self.absorb();
        while self.above.len() > HOLES_KEPT {
            if let Some((first, at)) = self.above.pop_first() {
                self.through = first;
                self.through_at = at.or(self.through_at);
            }
            self.absorb();
        }
    }

    fn absorb(&mut self) {
        while let Some(entry) = self.above.first_entry() {
            if *entry.key() != self.through.saturating_add(1) {
                break;
            }
            let (n, at) = entry.remove_entry();
            self.through = n;
            self.through_at = at.or(self.through_at);
        }
    }
}

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

/// Ultra: reads of a log that may still be owed when a new log was noticed. A rewind by log id
/// only reaches the current log, so they are fetched by time: from the read up to which the old
/// log was delivered in order to the first read noticed of the new log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct UltraOwed {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    until: OwedUntil,
}

/// How an Ultra rewind by time of what an earlier log owes is known to have run through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OwedUntil {
    /// It brings this read of the new log (at `to`) again: its last.
    Read { log_id: u64 },
    /// No read of the new log was seen (a witness that never came): the link stayed up for
    /// [`ULTRA_OWED_SETTLE`] after it was asked at this monotonic time (`None`: not asked on
    /// this link yet).
    Settled { asked: Option<Duration> },
}

/// Ultra: the read a reconnect asked for again to learn whether the reader still has the same
/// log (see [`ULTRA_WITNESS_WAIT`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct UltraWitness {
    log_id: u64,
    /// Host monotonic time it was asked for.
    asked: Duration,
}

/// Ultra: the rewind by time of what an earlier log owes (whole seconds, both ends included).
fn ultra_rewind_owed(owed: &UltraOwed, zone: ReaderZone) -> Out {
    Out::Rewind(ultra::command::rewind_by_time(
        utc_to_local(owed.from, zone),
        utc_to_local(owed.to, zone),
        RewindEncoding::Manual,
    ))
}

/// Files named one by one in [`rr_file_left`]'s advice; more are given as a range.
const FILES_NAMED: u32 = 10;

/// RACE RESULT: the decoder moved on from file `old` (to `new`) before everything of `old` was
/// delivered, or while the link was down. A decoder sends only its current file over the link
/// (RACE RESULT knowledge base, "passing files"), so what `old` recorded after the passings
/// delivered — and any file between `old` and `new` — can only be read from the decoder's own
/// copy of the files.
fn rr_file_left(old: u32, new: u32, seen: &Numbered) -> Out {
    let holes = if seen.above.is_empty() {
        String::new()
    } else {
        format!(" (and {} passing(s) past a gap)", seen.above.len())
    };
    let last = new.saturating_sub(1).max(old);
    let files = match last - old {
        0 => format!("file {old}"),
        n if n < FILES_NAMED => {
            let list: Vec<String> = (old..=last).map(|f| f.to_string()).collect();
            format!("files {}", list.join(", "))
        }
        _ => format!("files {old} to {last}"),
    };
    Out::Warn(format!(
        "the decoder started passing file {new} while file {old} was delivered only up to \
         passing #{}{holes}: passings recorded after that while the console was away are not \
         sent over the link; download {files} from the decoder (its web interface or a USB \
         stick) to get them",
        seen.through
    ))
}

/// Whether the protocol has start / stop (reading commands, or polling).
fn can_start_stop(protocol: Builtin) -> bool {
    matches!(
        protocol,
        Builtin::Ultra | Builtin::RaceResult | Builtin::CloudBox | Builtin::R2000 | Builtin::Chafon
    )
}

/// The conversation with a reader of one of the [`Builtin`] protocols.
#[derive(Debug)]
pub(crate) struct Driver {
    protocol: Builtin,
    poll_interval: Duration,
    rewind_on_reconnect: bool,
    elite: Option<EliteReplay>,
    zone: ReaderZone,

    // What was learnt about the reader; kept across reconnects.
    /// Ultra: the log ids delivered per (box, internal reader), of the current log.
    ultra_logs: BTreeMap<(u8, u8), Numbered>,
    /// Ultra: per (box, internal reader), what an earlier log still owes (asked for by time
    /// until the rewind ran through, also after the next reconnects).
    ultra_owed: BTreeMap<(u8, u8), UltraOwed>,
    /// Ultra: per (box, internal reader), the connection the last read arrived on.
    ultra_last_link: BTreeMap<(u8, u8), u64>,
    /// Ultra: per (box, internal reader), the witness asked for on this link, not yet seen.
    ultra_witness: BTreeMap<(u8, u8), UltraWitness>,
    /// Connections so far.
    links: u64,
    /// RACE RESULT: the file and the passing numbers of it delivered.
    rr_last: Option<(Option<u32>, Numbered)>,
    /// CloudBox: the passing numbers delivered (of the current run) and the newest reader time.
    cloudbox_last: Option<(Numbered, Option<DateTime<Utc>>)>,
    /// IPICO: latest reader-local time seen.
    ipico_last: Option<NaiveDateTime>,
    /// IPICO Elite: a replay asked for (from this reader-local time; `None` = everything) that
    /// has not finished yet. Live reads after a reconnect arrive past what the replay brings, so
    /// until it finished the next reconnect replays from here, not from `ipico_last`.
    ipico_replay: Option<Option<NaiveDateTime>>,
    /// Timy: any impulse seen (or a resume point given): its memory is worth re-sending.
    timy_seen: bool,

    // Per connection.
    poll_outstanding: bool,
    poll_sent: Option<Duration>,
    rr_count_for: Option<CountFor>,
    rr_fetch: Option<Fetch>,
}

impl Driver {
    pub(crate) fn new(config: &ReaderConfig, protocol: Builtin) -> Self {
        let mut driver = Driver {
            protocol,
            poll_interval: config.poll_interval,
            rewind_on_reconnect: config.rewind_on_reconnect,
            elite: config.ipico_elite.filter(|_| protocol == Builtin::Ipico),
            zone: config.zone(),
            ultra_logs: BTreeMap::new(),
            ultra_owed: BTreeMap::new(),
            ultra_last_link: BTreeMap::new(),
            ultra_witness: BTreeMap::new(),
            links: 0,
            rr_last: None,
            cloudbox_last: None,
            ipico_last: None,
            ipico_replay: None,
            timy_seen: false,
            poll_outstanding: false,
            poll_sent: None,
            rr_count_for: None,
            rr_fetch: None,
        };
        if let Some(resume) = &config.resume_after {
            match resume.key() {
                Some(ReplayKey::Ultra { ultra_id, reader, log_id, at }) => {
                    let at = at.and_then(|at| local_to_utc(at, config.zone())).or(resume.at);
                    driver.ultra_logs.insert((ultra_id, reader), Numbered::through(log_id, at));
                }
                Some(ReplayKey::RaceResult { file, passing, .. }) => {
                    driver.rr_last = Some((file, Numbered::through(passing, None)));
                }
                Some(ReplayKey::CloudBox { passing_number, at }) => {
                    let at = at.or(resume.at);
                    driver.cloudbox_last = Some((Numbered::through(passing_number, at), at));
                }
                Some(ReplayKey::Ipico { at, .. }) => driver.ipico_last = Some(at),
                Some(ReplayKey::Timy { .. }) => driver.timy_seen = true,
                // LLRP has no rewind: nothing to resume from.
                Some(ReplayKey::Llrp { .. }) => {}
                None => {
                    if let Some(at) = resume.at {
                        driver.ipico_last = Some(utc_to_local(at, config.zone()));
                    }
                }
            }
        }
        driver
    }

    /// Whether a rewind or replay is still bringing reads older than the live ones: until it
    /// is done, a live read does not mean that everything before it was delivered.
    pub(crate) fn catching_up(&self) -> bool {
        let gap = |n: &Numbered| !n.above.is_empty();
        match self.protocol {
            Builtin::Ipico => self.ipico_replay.is_some(),
            Builtin::Ultra => self.ultra_logs.values().any(gap) || !self.ultra_owed.is_empty(),
            Builtin::RaceResult => {
                self.rr_fetch.is_some() || self.rr_last.as_ref().is_some_and(|(_, n)| gap(n))
            }
            Builtin::CloudBox => self.cloudbox_last.as_ref().is_some_and(|(n, _)| gap(n)),
            Builtin::Timy | Builtin::R2000 | Builtin::Chafon | Builtin::Lines => false,
        }
    }

    /// Whether anything was learnt that a rewind could start from.
    fn has_progress(&self) -> bool {
        match self.protocol {
            Builtin::Ultra => !self.ultra_logs.is_empty(),
            Builtin::RaceResult => self.rr_last.is_some(),
            Builtin::CloudBox => self.cloudbox_rewind_from().is_some(),
            Builtin::Ipico => self.ipico_last.is_some(),
            Builtin::Timy => self.timy_seen,
            Builtin::R2000 | Builtin::Chafon | Builtin::Lines => false,
        }
    }

    /// The link is up: the commands to send first.
    pub(crate) fn on_connect(
        &mut self,
        want_reading: bool,
        now: DateTime<Utc>,
        mono: Duration,
    ) -> Vec<Out> {
        self.poll_outstanding = false;
        self.ultra_witness.clear();
        self.poll_sent = None;
        self.rr_count_for = None;
        self.rr_fetch = None;
        self.links = self.links.saturating_add(1);
        let rewind = self.rewind_on_reconnect && self.has_progress();
        let mut outs = Vec::new();
        match self.protocol {
            Builtin::Ipico => {
                outs.push(Out::AskTime(ipico::command::get_clock(0)));
                if let (true, Some(ports)) = (rewind, self.elite) {
                    // A replay that did not finish covers what this one would, and more.
                    let from = match self.ipico_replay {
                        Some(unfinished) => unfinished.min(self.ipico_last),
                        None => self.ipico_last,
                    };
                    self.ipico_replay = Some(from);
                    outs.push(Out::EliteReplay { from, ports });
                }
            }
            Builtin::Ultra => {
                outs.push(Out::AskTime(ultra::command::get_time()));
                if want_reading {
                    outs.push(Out::Send(ultra::command::start_reading()));
                }
                // From the first log id not delivered: ids that arrived live past a hole (reads
                // in transit when the link was cut) do not count. The last id delivered in order
                // is asked for too, as a witness: if the reader started a new log meanwhile, that
                // read comes with another time (or not at all, and the first live read is at or
                // below it) and the new log is fetched from its start (`on_read`).
                if rewind && let Some(from) = self.ultra_logs.values().map(|s| s.through).min() {
                    let from = from.max(1);
                    outs.push(Out::Rewind(ultra::command::rewind_by_log(
                        from,
                        ULTRA_LOG_END.max(from),
                    )));
                    for (key, seen) in &self.ultra_logs {
                        if seen.through > 0 && seen.through_at.is_some() {
                            let witness = UltraWitness { log_id: seen.through, asked: mono };
                            self.ultra_witness.insert(*key, witness);
                        }
                    }
                }
                // What an earlier log still owes: by time, the only rewind reaching it.
                if rewind {
                    let offset = self.zone;
                    for owed in self.ultra_owed.values_mut() {
                        if let OwedUntil::Settled { asked } = &mut owed.until {
                            *asked = Some(mono);
                        }
                        outs.push(ultra_rewind_owed(owed, offset));
                    }
                }
            }
            Builtin::RaceResult => {
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
            Builtin::CloudBox => {
                outs.push(Out::AskTime(cloudbox::command::get_system_time()));
                if want_reading {
                    outs.push(Out::Send(cloudbox::command::start()));
                }
                if rewind && let Some(at) = self.cloudbox_rewind_from() {
                    let from = at - TimeDelta::seconds(1);
                    outs.push(Out::Rewind(cloudbox::command::rewind(
                        from,
                        now + CLOUDBOX_REWIND_AHEAD,
                    )));
                }
            }
            Builtin::Timy => {
                if rewind {
                    outs.push(Out::Rewind(timy::command::resend_memory()));
                }
            }
            Builtin::R2000 | Builtin::Chafon | Builtin::Lines => {}
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
                let at = reader_utc;
                // Whether the link was cut since this reader's last read arrived.
                let cut = self.ultra_last_link.get(&key) != Some(&self.links);
                if self.ultra_last_link.len() < 1024 || self.ultra_last_link.contains_key(&key) {
                    self.ultra_last_link.insert(key, self.links);
                }
                // The rewind by time of what an earlier log owed brought its last read: done.
                if d.is_rewind
                    && at.is_some()
                    && self.ultra_owed.get(&key).is_some_and(|owed| {
                        owed.until == OwedUntil::Read { log_id: d.log_id } && Some(owed.to) == at
                    })
                {
                    self.ultra_owed.remove(&key);
                }
                // The witness came (with the same time: the same log; with another: a new one,
                // noticed below).
                if self.ultra_witness.get(&key).is_some_and(|w| w.log_id == d.log_id) {
                    self.ultra_witness.remove(&key);
                }
                match self.ultra_logs.get_mut(&key) {
                    // A new log (the reader numbered from 1 again, maybe while the link was
                    // down): fetched from its start.
                    // A read of an earlier log (a rewind by time brings them): nothing to learn
                    // about the current one.
                    Some(seen) if d.is_rewind && seen.earlier_run(d.log_id, at) => {}
                    Some(seen) if seen.new_run(d.log_id, at, d.is_rewind) => {
                        // The old log may still owe reads: ones past a hole, or made (or on
                        // the wire) while the link was down since its last read arrived. Only a
                        // rewind by time reaches them now.
                        if (cut || !seen.above.is_empty())
                            && let (Some(from), Some(to)) = (seen.through_at, at)
                            && from <= to
                        {
                            let until = OwedUntil::Read { log_id: d.log_id };
                            let owed = match self.ultra_owed.get(&key) {
                                Some(was) => UltraOwed { from: was.from.min(from), to, until },
                                None => UltraOwed { from, to, until },
                            };
                            self.ultra_owed.insert(key, owed);
                            outs.push(ultra_rewind_owed(&owed, self.zone));
                        }
                        *seen = Numbered::default();
                        seen.note(d.log_id, at);
                        self.ultra_witness.remove(&key);
                        if d.log_id > 1 {
                            outs.push(Out::Rewind(ultra::command::rewind_by_log(1, d.log_id - 1)));
                        }
                    }
                    Some(seen) if d.log_id > seen.highest() => {
                        let highest = seen.highest();
                        if !d.is_rewind && d.log_id > highest.saturating_add(1) {
                            outs.push(Out::Rewind(ultra::command::rewind_by_log(
                                highest.saturating_add(1),
                                d.log_id - 1,
                            )));
                        }
                        seen.note(d.log_id, at);
                    }
                    // Delivered before (a doubled frame, a repeat): nothing to learn.
                    Some(seen) if seen.contains(d.log_id) => {}
                    // A live read below what we saw: the reader's log started again (reads
                    // without a time); what it numbered before this one is fetched.
                    Some(seen) if !d.is_rewind => {
                        *seen = Numbered::default();
                        seen.note(d.log_id, at);
                        self.ultra_witness.remove(&key);
                        if d.log_id > 1 {
                            outs.push(Out::Rewind(ultra::command::rewind_by_log(1, d.log_id - 1)));
                        }
                    }
                    // A rewound read filling a hole.
                    Some(seen) => seen.note(d.log_id, at),
                    None => {
                        if self.ultra_logs.len() < 1024 {
                            self.ultra_logs.insert(key, Numbered::through(d.log_id, at));
                        }
                    }
                }
            }
            ReadDetails::RaceResult(d) => {
                let passing = d.passing_number;
                let mut gap = None;
                match &mut self.rr_last {
                    Some((file, seen)) if *file == d.file_number => {
                        if d.pushed && passing > seen.highest().saturating_add(1) {
                            // From the first passing not delivered: a hole left by a cut link
                            // is asked for again with the new gap.
                            gap = Some((seen.through.saturating_add(1), passing - 1));
                        }
                        seen.note(passing, None);
                    }
                    Some((file, seen)) if d.pushed => {
                        // A new passing file: fetch its start if we missed it. What the old
                        // one still owed (a hole being fetched) it no longer sends.
                        if passing > 1 {
                            gap = Some((1, passing - 1));
                        }
                        if let (Some(old), Some(new)) = (*file, d.file_number)
                            && !seen.above.is_empty()
                        {
                            outs.push(rr_file_left(old, new, seen));
                        }
                        *file = d.file_number;
                        *seen = Numbered::default();
                        seen.note(passing, None);
                    }
                    Some(_) => {}
                    None => self.rr_last = Some((d.file_number, Numbered::through(passing, None))),
                }
                if let Some((from, to)) = gap {
                    match &mut self.rr_fetch {
                        // A fetch is under way: let it run on over the gap.
                        Some(fetch) => fetch.end = fetch.end.max(to),
                        None => outs.extend(self.start_fetch(from, to)),
                    }
                }
            }
            ReadDetails::CloudBox(d) => {
                if let Some(n) = d.passing_number {
                    match &mut self.cloudbox_last {
                        Some((seen, last_at)) => {
                            // Not earlier than the newest passing seen: of the current run (a
                            // rewind brings earlier ones, maybe of an earlier run).
                            let newest = match (*last_at, reader_utc) {
                                (Some(last_at), Some(at)) => at >= last_at,
                                _ => !read.flags.from_memory,
                            };
                            let highest = seen.highest();
                            if n > highest && newest {
                                if n > highest.saturating_add(1)
                                    && let (Some(from), Some(to)) =
                                        (seen.highest_at().or(*last_at), reader_utc)
                                {
                                    outs.push(Out::Rewind(cloudbox::command::rewind(from, to)));
                                }
                                seen.note(n, reader_utc);
                                *last_at = reader_utc.or(*last_at);
                            } else if n < highest && newest && !read.flags.from_memory {
                                // A new session or file on the box: numbering restarted.
                                *seen = Numbered::through(n, reader_utc);
                                *last_at = reader_utc.or(*last_at);
                            } else if !seen.contains(n)
                                && match (seen.through_at, reader_utc) {
                                    (Some(through_at), Some(at)) => at >= through_at,
                                    _ => true,
                                }
                            {
                                // A rewound passing of this run, filling a hole (an earlier
                                // run's passings with these numbers are older).
                                seen.note(n, reader_utc);
                            }
                        }
                        None => {
                            self.cloudbox_last =
                                Some((Numbered::through(n, reader_utc), reader_utc));
                        }
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
            ReadDetails::R2000(_) | ReadDetails::Llrp(_) | ReadDetails::Line => {}
        }
        outs
    }

    /// CloudBox: the reader time a rewind after a reconnect starts from — that of the last
    /// passing up to which every number was delivered.
    fn cloudbox_rewind_from(&self) -> Option<DateTime<Utc>> {
        self.cloudbox_last.as_ref().and_then(|(seen, last_at)| seen.through_at.or(*last_at))
    }

    /// IPICO Elite: a replay from `from` ran to its end; what it covered is delivered.
    pub(crate) fn replay_finished(&mut self, from: Option<NaiveDateTime>) {
        if let Some(asked) = self.ipico_replay
            && from <= asked
        {
            self.ipico_replay = None;
        }
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
        if !want_reading || !matches!(self.protocol, Builtin::R2000 | Builtin::Chafon) {
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
            Builtin::R2000 => r2000::command::real_time_inventory(r2000::command::BROADCAST, 1),
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
                    if self.rr_count_for == Some(CountFor::Resume)
                        && let (Some((Some(last_file), seen)), Some(file)) = (&self.rr_last, file)
                        && last_file != file
                    {
                        outs.push(rr_file_left(*last_file, *file, seen));
                    }
                    if let Some(why) = self.rr_count_for.take() {
                        let from = match (why, &self.rr_last) {
                            (CountFor::Resume, Some((last_file, seen)))
                                if *last_file == *file || last_file.is_none() || file.is_none() =>
                            {
                                // The first passing not delivered, not the highest seen.
                                seen.through.saturating_add(1)
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

    /// Periodic work: polling; Ultra witnesses that did not come, owed rewinds that settled.
    pub(crate) fn on_tick(&mut self, mono: Duration, want_reading: bool) -> Vec<Out> {
        let mut outs = self.poll_due(mono, want_reading);
        if self.protocol == Builtin::Ultra {
            outs.extend(self.ultra_due(mono));
        }
        outs
    }

    /// Ultra: a witness not seen within [`ULTRA_WITNESS_WAIT`] means the reader's current log
    /// has fewer reads than the old one had delivered: it started a new log while the link was
    /// down. What the old log owes (made after its last read delivered in order) is fetched by
    /// time, to the end of the reader's memory; the new log from its start.
    fn ultra_due(&mut self, mono: Duration) -> Vec<Out> {
        let mut outs = Vec::new();
        let late: Vec<(u8, u8)> = self
            .ultra_witness
            .iter()
            .filter(|(_, w)| mono.saturating_sub(w.asked) >= ULTRA_WITNESS_WAIT)
            .map(|(key, _)| *key)
            .collect();
        for key in late {
            self.ultra_witness.remove(&key);
            let Some(seen) = self.ultra_logs.get_mut(&key) else { continue };
            if let Some(from) = seen.through_at {
                let owed = UltraOwed {
                    from: self.ultra_owed.get(&key).map_or(from, |was| was.from.min(from)),
                    to: from + ULTRA_OWED_OPEN,
                    until: OwedUntil::Settled { asked: Some(mono) },
                };
                self.ultra_owed.insert(key, owed);
                outs.push(ultra_rewind_owed(&owed, self.zone));
            }
            *seen = Numbered::default();
            outs.push(Out::Rewind(ultra::command::rewind_by_log(1, ULTRA_LOG_END)));
        }
        self.ultra_owed.retain(|_, owed| match owed.until {
            OwedUntil::Settled { asked: Some(asked) } => {
                mono.saturating_sub(asked) < ULTRA_OWED_SETTLE
            }
            _ => true,
        });
        outs
    }

    /// What to send to a link that went quiet, to see whether the reader is still there.
    pub(crate) fn probe(&self) -> Option<Out> {
        match self.protocol {
            Builtin::Ipico => Some(Out::AskTime(ipico::command::get_clock(0))),
            Builtin::Ultra => Some(Out::Send(ultra::command::status())),
            Builtin::RaceResult => Some(Out::AskTime(raceresult::command::get_time())),
            Builtin::CloudBox => Some(Out::AskTime(cloudbox::command::get_system_time())),
            Builtin::R2000 => {
                Some(Out::Send(r2000::command::get_firmware_version(r2000::command::BROADCAST)))
            }
            Builtin::Chafon => {
                Some(Out::Send(chafon::command::get_reader_info(chafon::command::BROADCAST)))
            }
            // A Timy is often wired output-only, a keyboard wedge never answers.
            Builtin::Timy | Builtin::Lines => None,
        }
    }

    /// `start()`.
    pub(crate) fn start(&mut self, mono: Duration) -> Result<Vec<Out>, Unsupported> {
        match self.protocol {
            Builtin::Ultra => Ok(vec![Out::Send(ultra::command::start_reading())]),
            Builtin::RaceResult => Ok(vec![
                Out::Send(raceresult::command::start_operation()),
                Out::Send(raceresult::command::set_push_passings(true)),
            ]),
            Builtin::CloudBox => Ok(vec![Out::Send(cloudbox::command::start())]),
            Builtin::R2000 | Builtin::Chafon => {
                self.poll_outstanding = false;
                self.poll_sent = None;
                Ok(self.poll_due(mono, true))
            }
            Builtin::Ipico | Builtin::Timy | Builtin::Lines => Err(Unsupported),
        }
    }

    /// `stop()`.
    pub(crate) fn stop(&mut self) -> Result<Vec<Out>, Unsupported> {
        match self.protocol {
            Builtin::Ultra => Ok(vec![Out::Send(ultra::command::stop_reading())]),
            Builtin::RaceResult => Ok(vec![Out::Send(raceresult::command::stop_operation())]),
            Builtin::CloudBox => Ok(vec![Out::Send(cloudbox::command::stop())]),
            Builtin::R2000 | Builtin::Chafon => Ok(Vec::new()),
            Builtin::Ipico | Builtin::Timy | Builtin::Lines => Err(Unsupported),
        }
    }

    /// `set_clock(at)`: set, then measure again.
    pub(crate) fn set_clock(&mut self, at: DateTime<Utc>) -> Result<Vec<Out>, Unsupported> {
        let local = utc_to_local(at, self.zone);
        match self.protocol {
            Builtin::Ipico => Ok(vec![
                Out::Send(ipico::command::set_clock(0, local)),
                Out::AskTime(ipico::command::get_clock(0)),
            ]),
            Builtin::Ultra => Ok(vec![
                Out::Send(ultra::command::set_time(local)),
                Out::AskTime(ultra::command::get_time()),
            ]),
            Builtin::RaceResult => Ok(vec![
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
            Builtin::Ultra => Ok(vec![Out::Rewind(ultra::command::rewind_by_time(
                utc_to_local(from, self.zone),
                utc_to_local(to, self.zone),
                RewindEncoding::Manual,
            ))]),
            Builtin::RaceResult => {
                self.rr_count_for = Some(CountFor::All);
                Ok(vec![Out::Rewind(raceresult::command::passings_count())])
            }
            Builtin::CloudBox => Ok(vec![Out::Rewind(cloudbox::command::rewind(from, to))]),
            Builtin::Timy => Ok(vec![Out::Rewind(timy::command::resend_memory())]),
            Builtin::Ipico => match self.elite {
                Some(ports) => {
                    Ok(vec![Out::EliteReplay { from: Some(utc_to_local(from, self.zone)), ports }])
                }
                None => Err(Unsupported),
            },
            Builtin::R2000 | Builtin::Chafon | Builtin::Lines => Err(Unsupported),
        }
    }
}

/// The trait over the inherent methods above (which the tests call directly).
impl Conversation for Driver {
    fn on_connect(&mut self, want_reading: bool, now: DateTime<Utc>, mono: Duration) -> Vec<Out> {
        Driver::on_connect(self, want_reading, now, mono)
    }

    fn on_read(
        &mut self,
        read: &TagRead,
        reader_utc: Option<DateTime<Utc>>,
        mono: Duration,
        want_reading: bool,
    ) -> Vec<Out> {
        Driver::on_read(self, read, reader_utc, mono, want_reading)
    }

    fn on_control(
        &mut self,
        message: &ControlMessage,
        mono: Duration,
        want_reading: bool,
    ) -> (Vec<Out>, Option<ClockReply>) {
        Driver::on_control(self, message, mono, want_reading)
    }

    fn on_tick(&mut self, mono: Duration, want_reading: bool) -> Vec<Out> {
        Driver::on_tick(self, mono, want_reading)
    }

    fn probe(&self) -> Option<Out> {
        Driver::probe(self)
    }

    fn can_start_stop(&self) -> bool {
        can_start_stop(self.protocol)
    }

    fn start(&mut self, mono: Duration) -> Result<Vec<Out>, Unsupported> {
        Driver::start(self, mono)
    }

    fn stop(&mut self) -> Result<Vec<Out>, Unsupported> {
        Driver::stop(self)
    }

    fn set_clock(&mut self, at: DateTime<Utc>) -> Result<Vec<Out>, Unsupported> {
        Driver::set_clock(self, at)
    }

    fn rewind(&mut self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Out>, Unsupported> {
        Driver::rewind(self, from, to)
    }

    fn catching_up(&self) -> bool {
        Driver::catching_up(self)
    }

    fn replay_finished(&mut self, from: Option<NaiveDateTime>) {
        Driver::replay_finished(self, from);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Link;
    use crate::{Decoded, Protocol, decode_all};

    fn items(protocol: Protocol, bytes: &[u8]) -> Vec<Decoded> {
        decode_all(protocol.decoder().as_mut(), bytes)
    }

    fn rr_passing(n: u64, pushed: bool) -> TagRead {
        let push = if pushed { "#P;" } else { "" };
        let line = format!(
            "{push}{n};RR{n:05};2025-06-14;09:30:{:02}.000;;5;1C;;0;1;1;0;;;;;Finish;1;1;D-50123\r\n",
            n % 60
        );
        let decoded = items(Protocol::RaceResult, line.as_bytes());
        decoded.iter().find_map(Decoded::as_read).cloned().unwrap()
    }

    fn rr_control(text: &str) -> ControlMessage {
        let decoded = items(Protocol::RaceResult, text.as_bytes());
        match decoded.into_iter().next().unwrap() {
            Decoded::Control(control) => control.message,
            other => panic!("not a control message: {other:?}"),
        }
    }

    fn rewinds(outs: &[Out]) -> Vec<String> {
        outs.iter()
            .filter_map(|o| match o {
                Out::Rewind(bytes) => Some(String::from_utf8_lossy(bytes).trim().to_string()),
                _ => None,
            })
            .collect()
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2025-06-14T09:30:00Z").unwrap().with_timezone(&Utc)
    }

    /// #1–#10 arrived, #11 and #12 were on the wire when the link was cut, #13 arrived live on
    /// the new link before the fetch's answer, then the link was cut again: the next reconnect
    /// fetches from #11, not from #14.
    #[test]
    fn a_raceresult_hole_is_fetched_again_after_the_next_reconnect() {
        let config = ReaderConfig::new(Protocol::RaceResult, Link::tcp("127.0.0.1", 1));
        let mut driver = Driver::new(&config, Builtin::RaceResult);
        let mono = Duration::ZERO;
        driver.on_connect(true, now(), Duration::ZERO);
        for n in 1..=10 {
            assert!(driver.on_read(&rr_passing(n, true), None, mono, true).is_empty());
        }
        driver.on_connect(true, now(), Duration::ZERO);
        let (outs, _) = driver.on_control(&rr_control("PASSINGS;14;1\r\n"), mono, true);
        assert_eq!(rewinds(&outs), ["11:4"]);
        driver.on_read(&rr_passing(15, true), None, mono, true);
        // Cut before the answer came.
        driver.on_connect(true, now(), Duration::ZERO);
        let (outs, _) = driver.on_control(&rr_control("PASSINGS;16;1\r\n"), mono, true);
        assert_eq!(rewinds(&outs), ["11:6"], "from the first passing never delivered");
        for n in 11..=16 {
            driver.on_read(&rr_passing(n, false), None, mono, true);
        }
        driver.on_connect(true, now(), Duration::ZERO);
        let (outs, _) = driver.on_control(&rr_control("PASSINGS;17;1\r\n"), mono, true);
        assert_eq!(rewinds(&outs), ["17:1"], "the hole is filled");
    }

    /// A live gap: #1–#3, then #7 pushed: #4–#6 are fetched; cut before they came; the reconnect
    /// fetches from #4.
    #[test]
    fn a_raceresult_live_gap_survives_a_cut() {
        let config = ReaderConfig::new(Protocol::RaceResult, Link::tcp("127.0.0.1", 1));
        let mut driver = Driver::new(&config, Builtin::RaceResult);
        let mono = Duration::ZERO;
        driver.on_connect(true, now(), Duration::ZERO);
        for n in 1..=3 {
            driver.on_read(&rr_passing(n, true), None, mono, true);
        }
        let outs = driver.on_read(&rr_passing(7, true), None, mono, true);
        assert_eq!(rewinds(&outs), ["4:3"]);
        driver.on_connect(true, now(), Duration::ZERO);
        let (outs, _) = driver.on_control(&rr_control("PASSINGS;8;1\r\n"), mono, true);
        assert_eq!(rewinds(&outs), ["4:5"]);
    }

    fn warnings(outs: &[Out]) -> Vec<String> {
        outs.iter()
            .filter_map(|o| match o {
                Out::Warn(why) => Some(why.clone()),
                _ => None,
            })
            .collect()
    }

    /// The decoder is on another file at the reconnect: the new file is fetched from #1, and
    /// the timer is told that the old one may hold passings the link will not bring.
    #[test]
    fn a_raceresult_file_left_behind_while_away_is_reported() {
        let config = ReaderConfig::new(Protocol::RaceResult, Link::tcp("127.0.0.1", 1));
        let mut driver = Driver::new(&config, Builtin::RaceResult);
        let mono = Duration::ZERO;
        driver.on_connect(true, now(), mono);
        for n in 1..=15 {
            driver.on_read(&rr_passing(n, true), None, mono, true);
        }
        driver.on_connect(true, now(), mono);
        let (outs, _) = driver.on_control(&rr_control("PASSINGS;16;1\r\n"), mono, true);
        assert!(warnings(&outs).is_empty(), "the same file: everything can be fetched");
        driver.on_connect(true, now(), mono);
        let (outs, _) = driver.on_control(&rr_control("PASSINGS;3;2\r\n"), mono, true);
        assert_eq!(rewinds(&outs), ["1:3"]);
        let said = warnings(&outs);
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(said[0].contains("file 1 was delivered only up to passing #15"), "{}", said[0]);
        assert!(said[0].contains("download file 1"), "{}", said[0]);
    }

    fn ipico_read(second: u32) -> TagRead {
        let body = format!("01058001a2b3c4020125061409301{second}00");
        let frame = format!("aa{body}{:02x}\r\n", ipico::lrc(body.as_bytes()));
        let decoded = items(Protocol::Ipico, frame.as_bytes());
        decoded.iter().find_map(Decoded::as_read).cloned().unwrap()
    }

    fn replay_from(outs: &[Out]) -> Option<Option<NaiveDateTime>> {
        outs.iter().find_map(|o| match o {
            Out::EliteReplay { from, .. } => Some(*from),
            _ => None,
        })
    }

    /// An IPICO Elite replay that did not finish (the link was cut again while live reads came
    /// in on the new link) is asked for again from where it started; once one finished, the next
    /// replay starts from the latest read.
    #[test]
    fn an_unfinished_elite_replay_is_asked_for_again_from_its_start() {
        let mut config = ReaderConfig::new(Protocol::Ipico, Link::tcp("127.0.0.1", 1));
        config.ipico_elite = Some(EliteReplay { control_port: 2, replay_port: 3 });
        let mut driver = Driver::new(&config, Builtin::Ipico);
        let mono = Duration::ZERO;
        let at = |read: &TagRead| match read.reader_time {
            Some(ReaderTime::Local(at)) => Some(at),
            _ => None,
        };
        assert_eq!(
            replay_from(&driver.on_connect(true, now(), Duration::ZERO)),
            None,
            "nothing seen yet"
        );
        assert!(!driver.catching_up());
        let first = ipico_read(1);
        driver.on_read(&first, None, mono, true);
        let outs = driver.on_connect(true, now(), Duration::ZERO);
        assert_eq!(replay_from(&outs), Some(at(&first)));
        assert!(driver.catching_up(), "live reads overtake the replay: not in order");
        // Live reads on the new link, then a cut before the replay ended.
        driver.on_read(&ipico_read(5), None, mono, true);
        let outs = driver.on_connect(true, now(), Duration::ZERO);
        assert_eq!(replay_from(&outs), Some(at(&first)), "from the unfinished replay's start");
        driver.replay_finished(at(&first));
        assert!(!driver.catching_up(), "the replay brought what was owed");
        let later = ipico_read(7);
        driver.on_read(&later, None, mono, true);
        assert_eq!(replay_from(&driver.on_connect(true, now(), Duration::ZERO)), Some(at(&later)));
    }

    /// An Ultra chip line: log id `log`, made `secs` after 1980 (UTC readers), live or rewound.
    fn ultra_read(log: u64, secs: u64, rewound: bool) -> (TagRead, Option<DateTime<Utc>>) {
        let line = format!(
            "0,4012345,{secs},0,1,-61,{},1,1,0000000000000000,0,{log}\n",
            u8::from(rewound)
        );
        let decoded = items(Protocol::Ultra, line.as_bytes());
        let read = decoded.iter().find_map(Decoded::as_read).cloned().unwrap();
        let at = match read.reader_time {
            Some(ReaderTime::Local(at)) => Some(at.and_utc()),
            _ => None,
        };
        (read, at)
    }

    fn ultra_driver_after_ten() -> Driver {
        let config = ReaderConfig::new(Protocol::Ultra, Link::tcp("127.0.0.1", 1));
        let mut driver = Driver::new(&config, Builtin::Ultra);
        driver.on_connect(true, now(), Duration::ZERO);
        for n in 1..=10 {
            let (read, at) = ultra_read(n, 1_434_360_600 + n, false);
            assert!(driver.on_read(&read, at, Duration::ZERO, true).is_empty());
        }
        driver
    }

    /// The reconnect asks for the last log id delivered in order as well; when it comes with
    /// another time the reader started a new log, which is fetched from its start.
    #[test]
    fn an_ultra_witness_with_another_time_fetches_the_new_log_from_1() {
        let mut driver = ultra_driver_after_ten();
        assert_eq!(rewinds(&driver.on_connect(true, now(), Duration::ZERO)), ["60010\r4294967295"]);
        let (same, at) = ultra_read(10, 1_434_360_610, true);
        assert!(driver.on_read(&same, at, Duration::ZERO, true).is_empty(), "the same log");
        let (other, at) = ultra_read(10, 1_434_360_900, true);
        assert_eq!(rewinds(&driver.on_read(&other, at, Duration::ZERO, true)), ["6001\r9"]);
        // The rest of the new log's rewind fills it; the next reconnect starts in the new log.
        for n in 1..=9 {
            let (read, at) = ultra_read(n, 1_434_360_890 + n, true);
            assert!(driver.on_read(&read, at, Duration::ZERO, true).is_empty());
        }
        assert_eq!(rewinds(&driver.on_connect(true, now(), Duration::ZERO)), ["60010\r4294967295"]);
    }

    /// A new log shorter than the old one: the rewind brings nothing, the first live read is at
    /// or below the last id delivered and later than every read delivered.
    #[test]
    fn an_ultra_live_read_back_in_numbers_fetches_the_new_log_from_1() {
        let mut driver = ultra_driver_after_ten();
        driver.on_connect(true, now(), Duration::ZERO);
        let (read, at) = ultra_read(4, 1_434_360_900, false);
        // The link was cut since the old log's last read: what it still owes (made while
        // unlinked, in transit) only a rewind by time reaches.
        assert_eq!(
            rewinds(&driver.on_read(&read, at, Duration::ZERO, true)),
            ["8001434360610\r1434360900", "6001\r3"]
        );
        assert!(driver.catching_up(), "until the rewind by time ran through");
        // Reads of the old log that it brings teach nothing about the new one.
        let (old, at) = ultra_read(7, 1_434_360_607, true);
        assert!(driver.on_read(&old, at, Duration::ZERO, true).is_empty());
        let (again, at) = ultra_read(4, 1_434_360_900, true);
        assert!(driver.on_read(&again, at, Duration::ZERO, true).is_empty());
        assert!(driver.ultra_owed.is_empty(), "it ran through");
        // A doubled frame of an old read is no new log.
        let mut driver = ultra_driver_after_ten();
        let (read, at) = ultra_read(7, 1_434_360_607, false);
        assert!(driver.on_read(&read, at, Duration::ZERO, true).is_empty());
    }

    /// The reader started a new log while the link was down and has made fewer reads in it than
    /// the old log delivered (or none at all, so no live read shows it): the witness never
    /// comes. After the wait, the rest of the old log is fetched by time and the new log from
    /// its start; the rewind by time counts as done once the link stayed up long enough.
    #[test]
    fn an_ultra_witness_that_never_comes_fetches_the_old_log_by_time() {
        let mut driver = ultra_driver_after_ten();
        let connected = Duration::from_secs(100);
        assert_eq!(rewinds(&driver.on_connect(true, now(), connected)), ["60010\r4294967295"]);
        let early = connected + ULTRA_WITNESS_WAIT - Duration::from_millis(1);
        assert!(driver.on_tick(early, true).is_empty(), "still waiting for the witness");
        let late = connected + ULTRA_WITNESS_WAIT;
        let from = 1_434_360_610;
        let to = from + ULTRA_OWED_OPEN.num_seconds();
        assert_eq!(
            rewinds(&driver.on_tick(late, true)),
            [format!("800{from}\r{to}"), "6001\r4294967295".to_owned()]
        );
        assert!(driver.catching_up(), "until the rewind by time settled");
        assert!(driver.on_tick(late + Duration::from_secs(1), true).is_empty(), "asked once");
        // Cut before it settled: the next link asks again.
        let again = late + Duration::from_secs(5);
        assert_eq!(
            rewinds(&driver.on_connect(true, now(), again)),
            ["6001\r4294967295".to_owned(), format!("800{from}\r{to}")],
            "the new log from its start (nothing of it delivered yet), the old one's rest again"
        );
        assert!(
            driver.on_tick(again + ULTRA_OWED_SETTLE - Duration::from_millis(1), true).is_empty()
        );
        assert!(driver.catching_up());
        driver.on_tick(again + ULTRA_OWED_SETTLE, true);
        assert!(!driver.catching_up(), "settled");

        // The witness that does come (same time) ends the wait: nothing more is asked.
        let mut driver = ultra_driver_after_ten();
        driver.on_connect(true, now(), connected);
        let (same, at) = ultra_read(10, 1_434_360_610, true);
        assert!(driver.on_read(&same, at, connected, true).is_empty());
        assert!(driver.on_tick(late, true).is_empty(), "the same log: no rewind by time");
        assert!(!driver.catching_up());
    }

    #[test]
    fn numbered_keeps_holes_until_they_are_filled() {
        let mut seen = Numbered::through(10, None);
        seen.note(13, None);
        seen.note(14, None);
        assert_eq!((seen.through, seen.highest()), (10, 14));
        assert!(seen.contains(9) && seen.contains(13) && !seen.contains(11));
        seen.note(11, None);
        assert_eq!(seen.through, 11);
        seen.note(12, None);
        assert_eq!((seen.through, seen.highest()), (14, 14));
        assert!(seen.above.is_empty());
        let mut many = Numbered::through(0, None);
        for n in 2..(HOLES_KEPT as u64 + 10) {
            many.note(n, None);
        }
        assert!(many.above.len() <= HOLES_KEPT, "bounded");
        assert!(many.through > 0, "the oldest hole was given up");
    }
}
