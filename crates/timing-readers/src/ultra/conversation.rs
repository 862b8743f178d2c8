//! The console's side of an RFID Timing Systems Ultra / Joey: its time and start on connect, a
//! rewind by log id of what was missed (per box and internal reader), and the care a log that
//! numbers from 1 again needs — a witness read asked for again on reconnect, reads an earlier log
//! still owes fetched by time — so that nothing made while the link was down is lost.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Timelike as _, Utc};

use super::UltraControl;
use super::command::{self, RewindEncoding};
use crate::ReaderZone;
use crate::config::ReaderConfig;
use crate::supervisor::conversation::{ClockReply, Conversation, Out, Unsupported};
use crate::supervisor::numbering::Numbered;
use crate::supervisor::{local_to_utc, utc_to_local};
use crate::{ControlMessage, ReadDetails, ReaderTime, ReplayKey, TagRead};

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
fn rewind_owed(owed: &UltraOwed, zone: ReaderZone) -> Out {
    Out::Rewind(command::rewind_by_time(
        utc_to_local(owed.from, zone),
        utc_to_local(owed.to, zone),
        RewindEncoding::Manual,
    ))
}

/// One Ultra's conversation.
#[derive(Debug)]
pub(crate) struct UltraConversation {
    rewind_on_reconnect: bool,
    zone: ReaderZone,
    // What was learnt about the reader; kept across reconnects.
    /// The log ids delivered per (box, internal reader), of the current log.
    logs: BTreeMap<(u8, u8), Numbered>,
    /// Per (box, internal reader), what an earlier log still owes (asked for by time until the
    /// rewind ran through, also after the next reconnects).
    owed: BTreeMap<(u8, u8), UltraOwed>,
    /// Per (box, internal reader), the connection the last read arrived on.
    last_link: BTreeMap<(u8, u8), u64>,
    /// Per (box, internal reader), the witness asked for on this link, not yet seen.
    witness: BTreeMap<(u8, u8), UltraWitness>,
    /// Connections so far.
    links: u64,
}

impl UltraConversation {
    pub(crate) fn new(config: &ReaderConfig) -> Self {
        let mut logs = BTreeMap::new();
        if let Some(resume) = &config.resume_after
            && let Some(ReplayKey::Ultra { ultra_id, reader, log_id, at }) = resume.key()
        {
            let at = at.and_then(|at| local_to_utc(at, config.zone())).or(resume.at);
            logs.insert((ultra_id, reader), Numbered::through(log_id, at));
        }
        UltraConversation {
            rewind_on_reconnect: config.rewind_on_reconnect,
            zone: config.zone(),
            logs,
            owed: BTreeMap::new(),
            last_link: BTreeMap::new(),
            witness: BTreeMap::new(),
            links: 0,
        }
    }

    /// Ultra: a witness not seen within [`ULTRA_WITNESS_WAIT`] means the reader's current log
    /// has fewer reads than the old one had delivered: it started a new log while the link was
    /// down. What the old log owes (made after its last read delivered in order) is fetched by
    /// time, to the end of the reader's memory; the new log from its start.
    fn due(&mut self, mono: Duration) -> Vec<Out> {
        let mut outs = Vec::new();
        let late: Vec<(u8, u8)> = self
            .witness
            .iter()
            .filter(|(_, w)| mono.saturating_sub(w.asked) >= ULTRA_WITNESS_WAIT)
            .map(|(key, _)| *key)
            .collect();
        for key in late {
            self.witness.remove(&key);
            let Some(seen) = self.logs.get_mut(&key) else { continue };
            if let Some(from) = seen.through_at {
                let owed = UltraOwed {
                    from: self.owed.get(&key).map_or(from, |was| was.from.min(from)),
                    to: from + ULTRA_OWED_OPEN,
                    until: OwedUntil::Settled { asked: Some(mono) },
                };
                self.owed.insert(key, owed);
                outs.push(rewind_owed(&owed, self.zone));
            }
            *seen = Numbered::default();
            outs.push(Out::Rewind(command::rewind_by_log(1, ULTRA_LOG_END)));
        }
        self.owed.retain(|_, owed| match owed.until {
            OwedUntil::Settled { asked: Some(asked) } => {
                mono.saturating_sub(asked) < ULTRA_OWED_SETTLE
            }
            _ => true,
        });
        outs
    }
}

impl Conversation for UltraConversation {
    fn on_connect(&mut self, want_reading: bool, _now: DateTime<Utc>, mono: Duration) -> Vec<Out> {
        self.witness.clear();
        self.links = self.links.saturating_add(1);
        let rewind = self.rewind_on_reconnect && !self.logs.is_empty();
        let mut outs = vec![Out::AskTime(command::get_time())];
        if want_reading {
            outs.push(Out::Send(command::start_reading()));
        }
        // From the first log id not delivered: ids that arrived live past a hole (reads in
        // transit when the link was cut) do not count. The last id delivered in order is asked
        // for too, as a witness: if the reader started a new log meanwhile, that read comes with
        // another time (or not at all, and the first live read is at or below it) and the new
        // log is fetched from its start (`on_read`).
        if rewind && let Some(from) = self.logs.values().map(|s| s.through).min() {
            let from = from.max(1);
            outs.push(Out::Rewind(command::rewind_by_log(from, ULTRA_LOG_END.max(from))));
            for (key, seen) in &self.logs {
                if seen.through > 0 && seen.through_at.is_some() {
                    let witness = UltraWitness { log_id: seen.through, asked: mono };
                    self.witness.insert(*key, witness);
                }
            }
        }
        // What an earlier log still owes: by time, the only rewind reaching it.
        if rewind {
            let offset = self.zone;
            for owed in self.owed.values_mut() {
                if let OwedUntil::Settled { asked } = &mut owed.until {
                    *asked = Some(mono);
                }
                outs.push(rewind_owed(owed, offset));
            }
        }
        outs
    }

    /// A read arrived (delivered or not): learn from it, and ask for what a gap says is missing.
    fn on_read(
        &mut self,
        read: &TagRead,
        reader_utc: Option<DateTime<Utc>>,
        _mono: Duration,
        _want_reading: bool,
    ) -> Vec<Out> {
        let mut outs = Vec::new();
        let ReadDetails::Ultra(d) = &read.details else { return outs };
        let key = (d.ultra_id, d.reader);
        let at = reader_utc;
        // Whether the link was cut since this reader's last read arrived.
        let cut = self.last_link.get(&key) != Some(&self.links);
        if self.last_link.len() < 1024 || self.last_link.contains_key(&key) {
            self.last_link.insert(key, self.links);
        }
        // The rewind by time of what an earlier log owed brought its last read: done.
        if d.is_rewind
            && at.is_some()
            && self.owed.get(&key).is_some_and(|owed| {
                owed.until == OwedUntil::Read { log_id: d.log_id } && Some(owed.to) == at
            })
        {
            self.owed.remove(&key);
        }
        // The witness came (with the same time: the same log; with another: a new one,
        // noticed below).
        if self.witness.get(&key).is_some_and(|w| w.log_id == d.log_id) {
            self.witness.remove(&key);
        }
        match self.logs.get_mut(&key) {
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
                    let owed = match self.owed.get(&key) {
                        Some(was) => UltraOwed { from: was.from.min(from), to, until },
                        None => UltraOwed { from, to, until },
                    };
                    self.owed.insert(key, owed);
                    outs.push(rewind_owed(&owed, self.zone));
                }
                *seen = Numbered::default();
                seen.note(d.log_id, at);
                self.witness.remove(&key);
                if d.log_id > 1 {
                    outs.push(Out::Rewind(command::rewind_by_log(1, d.log_id - 1)));
                }
            }
            Some(seen) if d.log_id > seen.highest() => {
                let highest = seen.highest();
                if !d.is_rewind && d.log_id > highest.saturating_add(1) {
                    outs.push(Out::Rewind(command::rewind_by_log(
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
                self.witness.remove(&key);
                if d.log_id > 1 {
                    outs.push(Out::Rewind(command::rewind_by_log(1, d.log_id - 1)));
                }
            }
            // A rewound read filling a hole.
            Some(seen) => seen.note(d.log_id, at),
            None => {
                if self.logs.len() < 1024 {
                    self.logs.insert(key, Numbered::through(d.log_id, at));
                }
            }
        }
        outs
    }

    fn on_control(
        &mut self,
        message: &ControlMessage,
        _mono: Duration,
        _want_reading: bool,
    ) -> (Vec<Out>, Option<ClockReply>) {
        let clock = match message {
            ControlMessage::Ultra(UltraControl::Time { at, .. }) => Some(ClockReply {
                time: ReaderTime::Local(*at),
                whole_seconds: at.nanosecond() == 0,
            }),
            _ => None,
        };
        (Vec::new(), clock)
    }

    /// Witnesses that did not come, owed rewinds that settled.
    fn on_tick(&mut self, mono: Duration, _want_reading: bool) -> Vec<Out> {
        self.due(mono)
    }

    fn probe(&self) -> Option<Out> {
        Some(Out::Send(command::status()))
    }

    fn can_start_stop(&self) -> bool {
        true
    }

    fn start(&mut self, _mono: Duration) -> Result<Vec<Out>, Unsupported> {
        Ok(vec![Out::Send(command::start_reading())])
    }

    fn stop(&mut self) -> Result<Vec<Out>, Unsupported> {
        Ok(vec![Out::Send(command::stop_reading())])
    }

    fn set_clock(&mut self, at: DateTime<Utc>) -> Result<Vec<Out>, Unsupported> {
        let local = utc_to_local(at, self.zone);
        Ok(vec![Out::Send(command::set_time(local)), Out::AskTime(command::get_time())])
    }

    fn rewind(&mut self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Out>, Unsupported> {
        Ok(vec![Out::Rewind(command::rewind_by_time(
            utc_to_local(from, self.zone),
            utc_to_local(to, self.zone),
            RewindEncoding::Manual,
        ))])
    }

    fn catching_up(&self) -> bool {
        self.logs.values().any(|n| !n.above.is_empty()) || !self.owed.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Link;
    use crate::supervisor::conversation::testing::{items, now, rewinds};
    use crate::{Decoded, Protocol};

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

    fn ultra_driver_after_ten() -> UltraConversation {
        let config = ReaderConfig::new(Protocol::Ultra, Link::tcp("127.0.0.1", 1));
        let mut driver = UltraConversation::new(&config);
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
        assert!(driver.owed.is_empty(), "it ran through");
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
}
