//! The one place the console reads time, shared by every layer: transports stamp reads with
//! it, the engine commits and paces with it. Logic receives a [`Clock`] so that tests control
//! time and an OS clock jump is noticed (wall vs monotonic) instead of re-timing a session.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::ReaderZone;

/// Wall-clock UTC time plus a monotonic clock that never jumps.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The host's current UTC time (may jump when the OS clock is set).
    fn now(&self) -> DateTime<Utc>;
    /// Time elapsed since an arbitrary fixed origin; never goes backwards.
    fn monotonic(&self) -> Duration;

    /// The computer's time zone: what a reader showing local time is read in unless its spec
    /// names another. UTC unless the clock knows better.
    fn zone(&self) -> ReaderZone {
        ReaderZone::utc()
    }
}

/// A shared clock handle.
pub type SharedClock = Arc<dyn Clock>;

/// The operating system's clocks.
#[derive(Debug)]
pub struct SystemClock {
    origin: std::time::Instant,
    /// The OS's zone when the clock was made.
    zone: ReaderZone,
}

impl SystemClock {
    /// A system clock whose monotonic origin is now.
    #[allow(clippy::disallowed_methods)] // the one place that reads the OS monotonic clock
    pub fn new() -> Self {
        Self { origin: std::time::Instant::now(), zone: ReaderZone::of_this_computer() }
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

    fn zone(&self) -> ReaderZone {
        self.zone
    }
}

/// A clock tests move by hand. Wall and monotonic advance together unless [`ManualClock::jump_wall`]
/// simulates the OS clock being set.
#[derive(Debug)]
pub struct ManualClock {
    wall_ms: AtomicI64,
    mono_ms: AtomicI64,
    zone: ReaderZone,
}

impl ManualClock {
    /// A manual clock showing `start`.
    pub fn new(start: DateTime<Utc>) -> Arc<Self> {
        Self::in_zone(start, ReaderZone::utc())
    }

    /// A manual clock showing `start`, on a computer set to `zone`.
    pub fn in_zone(start: DateTime<Utc>, zone: ReaderZone) -> Arc<Self> {
        Arc::new(Self {
            zone,
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

    fn zone(&self) -> ReaderZone {
        self.zone
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_advances_both_clocks() {
        let clock = ManualClock::new(DateTime::from_timestamp_millis(1_777_798_800_000).unwrap());
        clock.advance(Duration::from_millis(1500));
        assert_eq!(clock.now().timestamp_millis(), 1_777_798_801_500);
        assert_eq!(clock.monotonic(), Duration::from_millis(1500));
        clock.jump_wall(-1000);
        assert_eq!(clock.now().timestamp_millis(), 1_777_798_800_500);
        assert_eq!(clock.monotonic(), Duration::from_millis(1500), "monotonic never jumps");
    }
}
