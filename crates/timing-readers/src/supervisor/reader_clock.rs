//! A reader's clock seen from the host: turning the times readers carry (local wall time, time of
//! day, time since start, UTC) into UTC, and estimating how far the reader's clock is from the
//! host's (`clock_offset_ms`, reader minus host).
//!
//! The offset is measured at connect with the protocol's get-time command where it has one: the
//! reply is compared with the host time at the midpoint of the round trip, measured on the
//! injected monotonic clock. Otherwise it is estimated from the first live reads (the largest
//! reader-minus-host difference of the first few, since transmission delay only makes it smaller).
//!
//! Readers that stamp everything they send in UTC and whose clock may be stepped while connected
//! (LLRP: NTP) have their clock *followed* instead ([`ReaderClock::following`]): every stamp —
//! the connection event's, each live read's — against its arrival is a lower bound of
//! reader-minus-host (nothing arrives before it was stamped), and the offset is the largest of
//! them over the last [`FOLLOW_WINDOW`] of arrivals. A clock stepped forward shows at the next
//! read; one stepped back once the reads from before the step are older than the window.

use std::collections::VecDeque;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, NaiveTime, TimeDelta, Utc};

use crate::{ReaderTime, ReaderZone};

/// Reads used to estimate the offset when the protocol has no get-time command.
const FIRST_READS: u8 = 8;
/// A followed clock's offset is the largest sample that arrived within this long.
pub const FOLLOW_WINDOW: Duration = Duration::from_secs(10);
/// Samples a followed clock keeps at most (only those that can still be the largest are kept).
const FOLLOW_SAMPLES: usize = 4096;

/// How the current clock offset was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OffsetSource {
    /// The reader answered the get-time command (round-trip midpoint).
    GetTime,
    /// Estimated from the first reads' reader time against their host receive time.
    FirstReads,
    /// Followed through the connection: the largest reader-minus-host difference of the
    /// reader's own stamps (its events, its live reads) against their arrival over the last
    /// [`FOLLOW_WINDOW`] (LLRP).
    Followed,
}

/// A reader-local wall time in UTC, given the reader's zone ([`ReaderZone::to_utc`]).
pub fn local_to_utc(local: NaiveDateTime, zone: ReaderZone) -> Option<DateTime<Utc>> {
    zone.to_utc(local)
}

/// A UTC instant as the reader's local wall time.
pub fn utc_to_local(at: DateTime<Utc>, zone: ReaderZone) -> NaiveDateTime {
    zone.to_local(at)
}

/// A time of day on the reader's clock in UTC, on the day (yesterday, today or tomorrow in the
/// reader's zone) that puts it nearest to `near` (the host receive time).
pub fn time_of_day_to_utc(
    time: NaiveTime,
    zone: ReaderZone,
    near: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let today = utc_to_local(near, zone).date();
    [today.pred_opt(), Some(today), today.succ_opt()]
        .into_iter()
        .flatten()
        .filter_map(|day| local_to_utc(day.and_time(time), zone))
        .min_by_key(|candidate| (*candidate - near).abs())
}

fn since_start(days: u32, time: NaiveTime) -> Option<TimeDelta> {
    let day = TimeDelta::try_days(i64::from(days))?;
    day.checked_add(&(time - NaiveTime::MIN))
}

/// The reader clock of one supervisor: its zone, and what the current connection measured.
#[derive(Debug, Clone)]
pub(crate) struct ReaderClock {
    zone: ReaderZone,
    /// When the last get-time command went out (wall, monotonic).
    asked: Option<(DateTime<Utc>, Duration)>,
    offset_ms: Option<i64>,
    source: Option<OffsetSource>,
    /// For clocks counting from their start (RACE RESULT `0000-00-00`): the UTC instant of the
    /// start, from a get-time reply.
    start_anchor: Option<DateTime<Utc>>,
    samples: u8,
    /// The clock is followed from every stamp ([`OffsetSource::Followed`]).
    follows: bool,
    /// A followed clock's samples, (arrival, reader − host ms): those of the last
    /// [`FOLLOW_WINDOW`] that no later, larger one outdoes, so falling, the largest first.
    window: VecDeque<(Duration, i64)>,
}

impl ReaderClock {
    pub(crate) fn new(zone: ReaderZone) -> Self {
        ReaderClock {
            zone,
            asked: None,
            offset_ms: None,
            source: None,
            start_anchor: None,
            samples: 0,
            follows: false,
            window: VecDeque::new(),
        }
    }

    /// The same, followed from every stamp the reader sends (see the module docs).
    pub(crate) fn following(mut self, follows: bool) -> Self {
        self.follows = follows;
        self
    }

    /// A new connection: measure again (the reader may have rebooted or been set meanwhile).
    pub(crate) fn reset(&mut self) {
        *self = ReaderClock::new(self.zone).following(self.follows);
    }

    pub(crate) fn offset_ms(&self) -> Option<i64> {
        self.offset_ms
    }

    pub(crate) fn source(&self) -> Option<OffsetSource> {
        self.source
    }

    /// The get-time command was just sent.
    pub(crate) fn asked(&mut self, wall: DateTime<Utc>, mono: Duration) {
        self.asked = Some((wall, mono));
    }

    /// The reader answered the get-time command with `time`; the answer arrived at `wall` /
    /// `mono`. `whole_seconds`: the reply has 1-second resolution (its true value lies up to a
    /// second later), so half a second is added.
    pub(crate) fn answered(
        &mut self,
        time: ReaderTime,
        whole_seconds: bool,
        wall: DateTime<Utc>,
        mono: Duration,
    ) {
        let round_trip = self.asked.take().map(|(_, sent)| mono.saturating_sub(sent));
        let half = round_trip
            .and_then(|rt| TimeDelta::from_std(rt / 2).ok())
            .unwrap_or_else(TimeDelta::zero);
        let host_mid = wall.checked_sub_signed(half).unwrap_or(wall);
        let correction =
            if whole_seconds { TimeDelta::milliseconds(500) } else { TimeDelta::zero() };
        match time {
            ReaderTime::SinceStart { days, time } => {
                if let Some(elapsed) =
                    since_start(days, time).and_then(|e| e.checked_add(&correction))
                {
                    self.start_anchor = host_mid.checked_sub_signed(elapsed);
                }
            }
            other => {
                let reader = self.to_utc(&other, host_mid);
                if let Some(reader) = reader.and_then(|r| r.checked_add_signed(correction)) {
                    let offset = (reader - host_mid).num_milliseconds();
                    if self.follows {
                        self.follow(offset, mono);
                    } else {
                        self.offset_ms = Some(offset);
                        self.source = Some(OffsetSource::GetTime);
                    }
                }
            }
        }
    }

    /// A live read's reader time against its host receive time (`host` wall, `mono`
    /// monotonic), for protocols whose offset was not measured with a get-time command, and for
    /// followed clocks.
    pub(crate) fn observe_read(
        &mut self,
        reader: DateTime<Utc>,
        host: DateTime<Utc>,
        mono: Duration,
    ) {
        if self.follows {
            self.follow((reader - host).num_milliseconds(), mono);
            return;
        }
        if self.source == Some(OffsetSource::GetTime) || self.samples >= FIRST_READS {
            return;
        }
        self.samples += 1;
        let sample = (reader - host).num_milliseconds();
        self.offset_ms = Some(self.offset_ms.map_or(sample, |o| o.max(sample)));
        self.source = Some(OffsetSource::FirstReads);
    }

    /// A followed clock's sample (reader − host, ms) arrived at `mono`: the offset is the
    /// largest of the window's.
    fn follow(&mut self, sample: i64, mono: Duration) {
        while self.window.front().is_some_and(|(at, _)| mono.saturating_sub(*at) > FOLLOW_WINDOW) {
            self.window.pop_front();
        }
        while self.window.back().is_some_and(|(_, s)| *s <= sample) {
            self.window.pop_back();
        }
        if self.window.len() >= FOLLOW_SAMPLES {
            self.window.pop_front();
        }
        self.window.push_back((mono, sample));
        self.offset_ms = self.window.front().map(|(_, s)| *s);
        self.source = Some(OffsetSource::Followed);
    }

    /// `time` in UTC; `host` (the receive time) picks the day of a time-of-day.
    pub(crate) fn to_utc(&self, time: &ReaderTime, host: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match *time {
            ReaderTime::Utc(at) => Some(at),
            // In the hour the clocks go back, the instant nearer the arrival.
            ReaderTime::Local(local) => self.zone.to_utc_near(local, host),
            ReaderTime::TimeOfDay(time) => time_of_day_to_utc(time, self.zone, host),
            ReaderTime::SinceStart { days, time } => {
                self.start_anchor?.checked_add_signed(since_start(days, time)?)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;
    use chrono::NaiveDate;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn local_times_use_the_offset() {
        let plus2 = ReaderZone::Fixed(FixedOffset::east_opt(7200).unwrap());
        let local =
            NaiveDate::from_ymd_opt(2025, 6, 14).unwrap().and_hms_milli_opt(11, 30, 15, 450);
        assert_eq!(local_to_utc(local.unwrap(), plus2), Some(utc("2025-06-14T09:30:15.450Z")));
        assert_eq!(utc_to_local(utc("2025-06-14T09:30:15.450Z"), plus2), local.unwrap());
    }

    #[test]
    fn time_of_day_takes_the_nearest_day() {
        let zero = ReaderZone::Fixed(FixedOffset::east_opt(0).unwrap());
        let t = NaiveTime::from_hms_opt(23, 59, 59).unwrap();
        // Just after midnight on the host: the impulse was yesterday.
        assert_eq!(
            time_of_day_to_utc(t, zero, utc("2025-06-15T00:00:01Z")),
            Some(utc("2025-06-14T23:59:59Z"))
        );
        let t = NaiveTime::from_hms_opt(0, 0, 1).unwrap();
        assert_eq!(
            time_of_day_to_utc(t, zero, utc("2025-06-14T23:59:58Z")),
            Some(utc("2025-06-15T00:00:01Z"))
        );
        // A reader two hours ahead of UTC.
        let plus2 = ReaderZone::Fixed(FixedOffset::east_opt(7200).unwrap());
        let t = NaiveTime::from_hms_opt(1, 0, 0).unwrap();
        assert_eq!(
            time_of_day_to_utc(t, plus2, utc("2025-06-14T23:00:05Z")),
            Some(utc("2025-06-14T23:00:00Z"))
        );
    }

    #[test]
    fn offset_from_the_round_trip_midpoint() {
        let mut clock = ReaderClock::new(ReaderZone::Fixed(FixedOffset::east_opt(0).unwrap()));
        clock.asked(utc("2025-06-14T10:00:00Z"), Duration::from_millis(1000));
        // Reply after 200 ms; the reader said 10:00:01.600 → midpoint 10:00:00.100 → +1500 ms.
        let reader = NaiveDate::from_ymd_opt(2025, 6, 14).unwrap().and_hms_milli_opt(10, 0, 1, 600);
        clock.answered(
            ReaderTime::Local(reader.unwrap()),
            false,
            utc("2025-06-14T10:00:00.200Z"),
            Duration::from_millis(1200),
        );
        assert_eq!(clock.offset_ms(), Some(1500));
        assert_eq!(clock.source(), Some(OffsetSource::GetTime));
    }

    #[test]
    fn since_start_clocks_are_anchored_by_get_time() {
        let mut clock = ReaderClock::new(ReaderZone::Fixed(FixedOffset::east_opt(0).unwrap()));
        let one_hour = NaiveTime::from_hms_opt(1, 0, 0).unwrap();
        clock.answered(
            ReaderTime::SinceStart { days: 0, time: one_hour },
            false,
            utc("2025-06-14T10:00:00Z"),
            Duration::ZERO,
        );
        let read =
            ReaderTime::SinceStart { days: 0, time: NaiveTime::from_hms_opt(1, 0, 5).unwrap() };
        assert_eq!(
            clock.to_utc(&read, utc("2025-06-14T10:00:06Z")),
            Some(utc("2025-06-14T10:00:05Z"))
        );
        assert_eq!(clock.offset_ms(), None);
    }

    #[test]
    fn first_reads_give_the_largest_difference() {
        let mut clock = ReaderClock::new(ReaderZone::Fixed(FixedOffset::east_opt(0).unwrap()));
        clock.observe_read(
            utc("2025-06-14T10:00:00.000Z"),
            utc("2025-06-14T10:00:00.040Z"),
            Duration::ZERO,
        );
        clock.observe_read(
            utc("2025-06-14T10:00:01.000Z"),
            utc("2025-06-14T10:00:01.010Z"),
            Duration::from_secs(1),
        );
        assert_eq!(clock.offset_ms(), Some(-10));
        assert_eq!(clock.source(), Some(OffsetSource::FirstReads));
    }

    #[test]
    fn a_followed_clock_follows_steps_both_ways() {
        let mut clock =
            ReaderClock::new(ReaderZone::Fixed(FixedOffset::east_opt(0).unwrap())).following(true);
        let host0 = utc("2025-06-14T10:00:00Z");
        let host = |s: u64| host0 + TimeDelta::seconds(i64::try_from(s).unwrap());
        // The connection event: the reader's clock 2 s behind.
        clock.answered(ReaderTime::Utc(utc("2025-06-14T09:59:58Z")), false, host0, Duration::ZERO);
        assert_eq!(
            (clock.offset_ms(), clock.source()),
            (Some(-2000), Some(OffsetSource::Followed))
        );
        // Reads arriving 5–30 ms after they were stamped: the least delayed one counts.
        let read = |clock: &mut ReaderClock, s: u64, offset_ms: i64, delay_ms: i64| {
            let at = host(s);
            let reader = at + TimeDelta::milliseconds(offset_ms - delay_ms);
            clock.observe_read(reader, at, Duration::from_secs(s));
        };
        for s in 1..=5 {
            read(&mut clock, s, -2000, 5 + 5 * i64::try_from(s).unwrap());
        }
        assert_eq!(clock.offset_ms(), Some(-2000), "the event's stamp is still the best bound");
        for s in 16..=19 {
            read(&mut clock, s, -2000, 30);
        }
        assert_eq!(clock.offset_ms(), Some(-2030), "the window moved on");
        // NTP steps the reader's clock 5 s forward: the next read shows it.
        read(&mut clock, 20, 3000, 10);
        assert_eq!(clock.offset_ms(), Some(2990));
        // And 8 s back: once the reads before the step are older than the window.
        read(&mut clock, 25, -5000, 10);
        assert_eq!(clock.offset_ms(), Some(2990), "a read may just be late: the bound holds");
        for s in 26..=31 {
            read(&mut clock, s, -5000, 10);
        }
        assert_eq!(clock.offset_ms(), Some(-5010));
        // A new connection measures afresh, still following.
        clock.reset();
        assert_eq!(clock.offset_ms(), None);
        read(&mut clock, 40, 700, 0);
        assert_eq!((clock.offset_ms(), clock.source()), (Some(700), Some(OffsetSource::Followed)));
    }
}
