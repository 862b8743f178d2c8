//! A reader's clock seen from the host: turning the times readers carry (local wall time, time of
//! day, time since start, UTC) into UTC, and estimating how far the reader's clock is from the
//! host's (`clock_offset_ms`, reader minus host).
//!
//! The offset is measured at connect with the protocol's get-time command where it has one: the
//! reply is compared with the host time at the midpoint of the round trip, measured on the
//! injected monotonic clock. Otherwise it is estimated from the first live reads (the largest
//! reader-minus-host difference of the first few, since transmission delay only makes it smaller).

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, NaiveTime, TimeDelta, Utc};

use crate::{ReaderTime, ReaderZone};

/// Reads used to estimate the offset when the protocol has no get-time command.
const FIRST_READS: u8 = 8;

/// How the current clock offset was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OffsetSource {
    /// The reader answered the get-time command (round-trip midpoint).
    GetTime,
    /// Estimated from the first reads' reader time against their host receive time.
    FirstReads,
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
        }
    }

    /// A new connection: measure again (the reader may have rebooted or been set meanwhile).
    pub(crate) fn reset(&mut self) {
        *self = ReaderClock::new(self.zone);
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
                    self.offset_ms = Some((reader - host_mid).num_milliseconds());
                    self.source = Some(OffsetSource::GetTime);
                }
            }
        }
    }

    /// A live read's reader time against its host receive time, for protocols whose offset was
    /// not measured with a get-time command.
    pub(crate) fn observe_read(&mut self, reader: DateTime<Utc>, host: DateTime<Utc>) {
        if self.source == Some(OffsetSource::GetTime) || self.samples >= FIRST_READS {
            return;
        }
        self.samples += 1;
        let sample = (reader - host).num_milliseconds();
        self.offset_ms = Some(self.offset_ms.map_or(sample, |o| o.max(sample)));
        self.source = Some(OffsetSource::FirstReads);
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
        clock.observe_read(utc("2025-06-14T10:00:00.000Z"), utc("2025-06-14T10:00:00.040Z"));
        clock.observe_read(utc("2025-06-14T10:00:01.000Z"), utc("2025-06-14T10:00:01.010Z"));
        assert_eq!(clock.offset_ms(), Some(-10));
        assert_eq!(clock.source(), Some(OffsetSource::FirstReads));
    }
}
