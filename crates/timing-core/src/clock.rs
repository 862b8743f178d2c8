//! The one place the engine reads time. Logic receives a [`Clock`] so that tests control time
//! and so that an OS clock jump is noticed (wall vs monotonic) instead of re-timing a session.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};

/// Wall-clock UTC time plus a monotonic clock that never jumps.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The host's current UTC time (may jump when the OS clock is set).
    fn now(&self) -> DateTime<Utc>;
    /// Time elapsed since an arbitrary fixed origin; never goes backwards.
    fn monotonic(&self) -> Duration;
}

/// A shared clock handle.
pub type SharedClock = Arc<dyn Clock>;

/// The operating system's clocks.
#[derive(Debug)]
pub struct SystemClock {
    origin: std::time::Instant,
}

impl SystemClock {
    /// A system clock whose monotonic origin is now.
    #[allow(clippy::disallowed_methods)] // the one place that reads the OS monotonic clock
    pub fn new() -> Self {
        Self { origin: std::time::Instant::now() }
    }

    /// A shared system clock.
    pub fn shared() -> SharedClock {
        Arc::new(Self::new())
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the one place that reads the OS wall clock
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn monotonic(&self) -> Duration {
        self.origin.elapsed()
    }
}

/// A clock tests move by hand. Wall and monotonic advance together unless [`ManualClock::jump_wall`]
/// simulates the OS clock being set.
#[derive(Debug)]
pub struct ManualClock {
    wall_ms: AtomicI64,
    mono_ms: AtomicI64,
}

impl ManualClock {
    /// A manual clock showing `start`.
    pub fn new(start: DateTime<Utc>) -> Arc<Self> {
        Arc::new(Self {
            wall_ms: AtomicI64::new(start.timestamp_millis()),
            mono_ms: AtomicI64::new(0),
        })
    }

    /// Moves both clocks forward.
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.wall_ms.fetch_add(ms, Ordering::SeqCst);
        self.mono_ms.fetch_add(ms, Ordering::SeqCst);
    }

    /// Moves only the wall clock (an OS clock change), by a signed number of milliseconds.
    pub fn jump_wall(&self, ms: i64) {
        self.wall_ms.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.wall_ms.load(Ordering::SeqCst)).unwrap_or_default()
    }

    fn monotonic(&self) -> Duration {
        Duration::from_millis(u64::try_from(self.mono_ms.load(Ordering::SeqCst)).unwrap_or(0))
    }
}

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
    fn manual_clock_advances_both_clocks() {
        let clock = ManualClock::new(t0());
        clock.advance(Duration::from_millis(1500));
        assert_eq!(format_utc(clock.now()), "2026-05-03T09:00:01.500Z");
        assert_eq!(clock.monotonic(), Duration::from_millis(1500));
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
