//! Time in the engine: the [`Clock`] (defined with the readers, re-exported here), OS clock-jump
//! detection, and the one UTC text format the store and RUFUS use.

use std::time::Duration;

use chrono::{DateTime, Utc};
pub use timing_readers::clock::{Clock, ManualClock, SharedClock, SystemClock};

/// Watches for OS clock jumps: compares how far the wall clock moved with how far the monotonic
/// clock moved since the last look.
#[derive(Debug)]
pub struct ClockJumpDetector {
    last_wall: DateTime<Utc>,
    last_mono: Duration,
    threshold: Duration,
}

impl ClockJumpDetector {
    /// Starts watching `clock`; jumps smaller than `threshold` are ignored.
    pub fn new(clock: &dyn Clock, threshold: Duration) -> Self {
        Self { last_wall: clock.now(), last_mono: clock.monotonic(), threshold }
    }

    /// The wall-clock jump in milliseconds since the last check, if larger than the threshold.
    pub fn check(&mut self, clock: &dyn Clock) -> Option<i64> {
        let (wall, mono) = (clock.now(), clock.monotonic());
        let wall_moved = (wall - self.last_wall).num_milliseconds();
        let mono_moved = i64::try_from(mono.saturating_sub(self.last_mono).as_millis()).ok()?;
        self.last_wall = wall;
        self.last_mono = mono;
        let jump = wall_moved - mono_moved;
        let limit = i64::try_from(self.threshold.as_millis()).unwrap_or(i64::MAX);
        (jump.abs() > limit).then_some(jump)
    }
}

/// Formats a UTC time as the store and RUFUS write it: `YYYY-MM-DDTHH:MM:SS.sssZ`.
pub fn format_utc(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The same instant at the store's precision (milliseconds), so what is returned after a commit
/// equals what is read back later.
pub fn to_millis(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}

/// Parses a stored or typed UTC time (RFC 3339; a missing offset is read as UTC).
pub fn parse_utc(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f"))
        .ok()
        .map(|n| n.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        parse_utc("2026-05-03T09:00:00.000Z").unwrap()
    }

    #[test]
    fn jump_detector_sees_an_os_clock_change_and_ignores_normal_flow() {
        let clock = ManualClock::new(t0());
        let mut detector = ClockJumpDetector::new(clock.as_ref(), Duration::from_secs(2));
        clock.advance(Duration::from_secs(10));
        assert_eq!(detector.check(clock.as_ref()), None, "time flowing normally is no jump");
        clock.jump_wall(-3_600_000);
        assert_eq!(detector.check(clock.as_ref()), Some(-3_600_000));
    }

    #[test]
    fn utc_text_round_trips_with_millisecond_precision() {
        let t = parse_utc("2023-01-22T09:21:33.456Z").unwrap();
        assert_eq!(format_utc(t), "2023-01-22T09:21:33.456Z");
        assert_eq!(
            format_utc(parse_utc("2023-01-22T09:21:33").unwrap()),
            "2023-01-22T09:21:33.000Z"
        );
        assert!(parse_utc("yesterday").is_none());
    }
}
