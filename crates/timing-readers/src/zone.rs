//! The time zone a reader's clock shows, so a reader that reports local wall-clock time (IPICO,
//! Ultra, Timy) is read in the zone it was set in — DST included — and a timer never has to
//! type an offset: by default it is the computer's own zone. A reader whose clock disagrees with
//! the computer by a whole number of quarter hours is most likely set in another zone: the
//! [`clock_hint`] says so and proposes the zone that would make the two agree.

use std::fmt;
use std::str::FromStr;

use chrono::{
    DateTime, FixedOffset, LocalResult, NaiveDateTime, Offset as _, TimeDelta, TimeZone as _, Utc,
};

use crate::Protocol;

/// A reader clock's zone: a named IANA zone (with its DST rules) or a fixed offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReaderZone {
    /// An IANA zone, e.g. `Europe/Madrid`.
    Named(chrono_tz::Tz),
    /// A fixed offset from UTC, e.g. `+02:00` (what older specs' `utc_offset=` gave).
    Fixed(FixedOffset),
}

impl Default for ReaderZone {
    fn default() -> Self {
        ReaderZone::utc()
    }
}

impl ReaderZone {
    /// UTC.
    pub fn utc() -> Self {
        ReaderZone::Fixed(Utc.fix())
    }

    /// The operating system's zone, read once by the caller (the system clock); UTC when the OS
    /// names none this crate knows.
    pub fn of_this_computer() -> Self {
        iana_time_zone::get_timezone()
            .ok()
            .and_then(|name| name.parse::<chrono_tz::Tz>().ok())
            .map_or_else(ReaderZone::utc, ReaderZone::Named)
    }

    /// The instant a wall-clock reading in this zone stands for. In the hour the clocks go back
    /// (the reading happens twice) the earlier instant; in the hour they skip (a reader not yet
    /// moved forward) the reading with the offset from before the change.
    pub fn to_utc(&self, local: NaiveDateTime) -> Option<DateTime<Utc>> {
        match self {
            ReaderZone::Fixed(offset) => {
                offset.from_local_datetime(&local).single().map(|t| t.with_timezone(&Utc))
            }
            ReaderZone::Named(tz) => match tz.from_local_datetime(&local) {
                LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
                LocalResult::Ambiguous(earlier, _) => Some(earlier.with_timezone(&Utc)),
                LocalResult::None => {
                    // In a gap: read it with the offset in force just before the gap.
                    let before = local.checked_sub_signed(TimeDelta::hours(3))?;
                    let offset = tz.from_local_datetime(&before).earliest()?.offset().fix();
                    offset.from_local_datetime(&local).single().map(|t| t.with_timezone(&Utc))
                }
            },
        }
    }

    /// Like [`to_utc`](Self::to_utc), but a reading in the hour the clocks go back is the one of
    /// its two instants nearer to `near` (the host time it arrived at), so a read made just after
    /// the change is not put an hour before the reads made just before it.
    pub fn to_utc_near(&self, local: NaiveDateTime, near: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            ReaderZone::Named(tz) => match tz.from_local_datetime(&local) {
                LocalResult::Ambiguous(earlier, later) => {
                    let (earlier, later) = (earlier.with_timezone(&Utc), later.with_timezone(&Utc));
                    if (later - near).abs() < (earlier - near).abs() {
                        Some(later)
                    } else {
                        Some(earlier)
                    }
                }
                _ => self.to_utc(local),
            },
            ReaderZone::Fixed(_) => self.to_utc(local),
        }
    }

    /// Whether a protocol's reads carry a reader-local wall-clock time that this zone is applied
    /// to (IPICO, Ultra, Timy, RACE RESULT once set). CloudBox and LLRP send UTC; readers without
    /// a clock send no time at all.
    pub fn applies_to(protocol: Protocol) -> bool {
        protocol.shows_local_time()
    }

    /// Every IANA zone name this crate knows, sorted (for a zone picker).
    pub fn names() -> Vec<&'static str> {
        let mut names: Vec<&'static str> =
            chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect();
        names.sort_unstable();
        names
    }

    /// The wall-clock reading this zone shows at `at`.
    pub fn to_local(&self, at: DateTime<Utc>) -> NaiveDateTime {
        match self {
            ReaderZone::Fixed(offset) => at.with_timezone(offset).naive_local(),
            ReaderZone::Named(tz) => at.with_timezone(tz).naive_local(),
        }
    }

    /// The zone's offset from UTC at `at`.
    pub fn offset_at(&self, at: DateTime<Utc>) -> FixedOffset {
        match self {
            ReaderZone::Fixed(offset) => *offset,
            ReaderZone::Named(tz) => at.with_timezone(tz).offset().fix(),
        }
    }
}

/// `Europe/Madrid`, or `+02:00` for a fixed offset (`UTC` for UTC).
impl fmt::Display for ReaderZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReaderZone::Named(tz) => f.write_str(tz.name()),
            ReaderZone::Fixed(offset) if offset.local_minus_utc() == 0 => f.write_str("UTC"),
            ReaderZone::Fixed(offset) => f.write_str(&format_offset(*offset)),
        }
    }
}

/// Text that names no zone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown time zone {0:?}: use an IANA name such as Europe/Madrid, or an offset such as +02:00"
)]
pub struct UnknownZone(pub String);

impl FromStr for ReaderZone {
    type Err = UnknownZone;

    /// An IANA name (`Europe/Madrid`, `UTC`), or `+HH:MM` / `-HH:MM`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        if let Some(offset) = parse_offset(text) {
            return Ok(ReaderZone::Fixed(offset));
        }
        text.parse::<chrono_tz::Tz>().map(ReaderZone::Named).map_err(|_| UnknownZone(s.to_string()))
    }
}

/// `+02:00`, `-0530`, `+2`, `Z`, `UTC`.
pub(crate) fn parse_offset(text: &str) -> Option<FixedOffset> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("z") || text.eq_ignore_ascii_case("utc") {
        return Some(Utc.fix());
    }
    let (sign, rest) = match text.split_at_checked(1)? {
        ("+", rest) => (1, rest),
        ("-", rest) => (-1, rest),
        _ => return None,
    };
    let (h, m) = match rest.split_once(':') {
        Some((h, m)) => (h, m),
        None if rest.len() == 4 => rest.split_at_checked(2)?,
        None => (rest, "0"),
    };
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    if !(0..=23).contains(&h) || !(0..=59).contains(&m) {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

/// Offsets larger than this (reader minus computer, after the zone) are worth a word.
pub const HINT_AFTER_MS: i64 = 2_000;
/// How near a whole number of quarter hours an offset must be for a zone to be proposed.
pub const QUARTER_HOUR_SLACK_MS: i64 = 60_000;
const QUARTER_HOUR_MS: i64 = 15 * 60 * 1000;

/// What the console says about a reader clock that disagrees with the computer's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockHint {
    /// For people: "Reader clock is 1 h 0 min 2 s ahead of this computer".
    pub text: String,
    /// The zone that would make the two clocks agree, when the difference is (about) a whole
    /// number of quarter hours: the computer's own zone if it has the right offset now, else that
    /// offset as a fixed zone (`+02:00`).
    pub proposed_zone: Option<ReaderZone>,
}

/// The hint for a measured `offset_ms` (reader clock minus host clock, with `current` applied):
/// `None` within ±[`HINT_AFTER_MS`]. Within ±[`QUARTER_HOUR_SLACK_MS`] of k × 15 min (k ≠ 0) the
/// reader is read in the wrong zone: the zone it shows is `current`'s offset at `now` + k × 15
/// min — `computer` when that is its offset at `now`, else the fixed offset.
pub fn clock_hint(
    offset_ms: i64,
    current: ReaderZone,
    computer: ReaderZone,
    now: DateTime<Utc>,
) -> Option<ClockHint> {
    if offset_ms.abs() <= HINT_AFTER_MS {
        return None;
    }
    let way = if offset_ms > 0 { "ahead of" } else { "behind" };
    let text = format!(
        "Reader clock is {} {way} this computer",
        spoken_duration(offset_ms.unsigned_abs())
    );
    // The nearest whole number of quarter hours (rounded away from zero at the half).
    let quarters = (offset_ms + offset_ms.signum() * QUARTER_HOUR_MS / 2) / QUARTER_HOUR_MS;
    let near_quarter =
        quarters != 0 && (offset_ms - quarters * QUARTER_HOUR_MS).abs() <= QUARTER_HOUR_SLACK_MS;
    let proposed_zone = near_quarter
        .then(|| {
            let secs = i64::from(current.offset_at(now).local_minus_utc()) + quarters * 15 * 60;
            let offset = i32::try_from(secs).ok().and_then(FixedOffset::east_opt)?;
            // Offsets a spec can carry: within ±23:59.
            if secs.abs() >= 24 * 3600 {
                return None;
            }
            if computer.offset_at(now) == offset {
                Some(computer)
            } else {
                Some(ReaderZone::Fixed(offset))
            }
        })
        .flatten()
        .filter(|zone| *zone != current);
    Some(ClockHint { text, proposed_zone })
}

/// `1 h 0 min 2 s`, `3 min 5 s`, `2.5 s`.
fn spoken_duration(ms: u64) -> String {
    let secs = ms / 1000;
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    if h > 0 {
        format!("{h} h {m} min {s} s")
    } else if m > 0 {
        format!("{m} min {s} s")
    } else {
        format!("{s}.{} s", ms % 1000 / 100)
    }
}

pub(crate) fn format_offset(offset: FixedOffset) -> String {
    let secs = offset.local_minus_utc();
    let sign = if secs < 0 { '-' } else { '+' };
    let abs = secs.unsigned_abs();
    format!("{sign}{:02}:{:02}", abs / 3600, abs % 3600 / 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn local(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d).unwrap().and_hms_opt(h, mi, 0).unwrap()
    }

    #[test]
    fn a_named_zone_follows_dst() {
        let madrid: ReaderZone = "Europe/Madrid".parse().unwrap();
        // Winter +01:00, summer +02:00.
        assert_eq!(
            madrid.to_utc(local(2026, 1, 10, 10, 0)).unwrap().to_rfc3339(),
            "2026-01-10T09:00:00+00:00"
        );
        assert_eq!(
            madrid.to_utc(local(2026, 7, 10, 10, 0)).unwrap().to_rfc3339(),
            "2026-07-10T08:00:00+00:00"
        );
        // 2026-03-29 02:00 → 03:00 (skipped): a reader still showing 02:30 is read at +01:00.
        assert_eq!(
            madrid.to_utc(local(2026, 3, 29, 2, 30)).unwrap().to_rfc3339(),
            "2026-03-29T01:30:00+00:00"
        );
        // 2026-10-25 03:00 → 02:00 (twice): the earlier instant.
        assert_eq!(
            madrid.to_utc(local(2026, 10, 25, 2, 30)).unwrap().to_rfc3339(),
            "2026-10-25T00:30:00+00:00"
        );
        let at = madrid.to_utc(local(2026, 7, 10, 10, 0)).unwrap();
        assert_eq!(madrid.to_local(at), local(2026, 7, 10, 10, 0));
        assert_eq!(format_offset(madrid.offset_at(at)), "+02:00");
    }

    #[test]
    fn names_and_offsets_parse_and_print() {
        for text in ["Europe/Madrid", "America/Argentina/Buenos_Aires", "+05:30", "-03:00", "UTC"] {
            assert_eq!(text.parse::<ReaderZone>().unwrap().to_string(), text);
        }
        assert_eq!("Z".parse::<ReaderZone>().unwrap(), ReaderZone::utc());
        assert!("Mars/Olympus".parse::<ReaderZone>().is_err());
        assert!("+25:00".parse::<ReaderZone>().is_err());
    }
    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn no_hint_within_two_seconds() {
        let utc = ReaderZone::utc();
        let now = at("2026-07-10T08:00:00Z");
        assert_eq!(clock_hint(2000, utc, utc, now), None);
        assert_eq!(clock_hint(-2000, utc, utc, now), None);
        let hint = clock_hint(2001, utc, utc, now).unwrap();
        assert_eq!(hint.text, "Reader clock is 2.0 s ahead of this computer");
        assert_eq!(hint.proposed_zone, None, "2 s is no zone");
        let hint = clock_hint(-75_500, utc, utc, now).unwrap();
        assert_eq!(hint.text, "Reader clock is 1 min 15 s behind this computer");
        assert_eq!(hint.proposed_zone, None, "75 s is more than 60 s from a quarter hour");
    }

    #[test]
    fn a_quarter_hour_offset_proposes_a_zone() {
        let utc = ReaderZone::utc();
        let now = at("2026-07-10T08:00:00Z");
        // Read in UTC, the reader shows two hours more: it is set to +02:00.
        let hint = clock_hint(7_202_000, utc, utc, now).unwrap();
        assert_eq!(hint.text, "Reader clock is 2 h 0 min 2 s ahead of this computer");
        assert_eq!(hint.proposed_zone.map(|z| z.to_string()).as_deref(), Some("+02:00"));
        // 59 s off a quarter hour still counts; India's +05:30 is 22 quarters.
        let hint = clock_hint(5 * 3_600_000 + 1_800_000 - 59_000, utc, utc, now).unwrap();
        assert_eq!(hint.proposed_zone.map(|z| z.to_string()).as_deref(), Some("+05:30"));
        // Behind: read in Madrid summer time (+02:00), the reader shows UTC.
        let madrid: ReaderZone = "Europe/Madrid".parse().unwrap();
        let hint = clock_hint(-7_200_000, madrid, utc, now).unwrap();
        assert_eq!(hint.text, "Reader clock is 2 h 0 min 0 s behind this computer");
        assert_eq!(hint.proposed_zone, Some(utc), "the computer's zone has the offset");
    }

    #[test]
    fn the_computers_zone_is_preferred() {
        let madrid: ReaderZone = "Europe/Madrid".parse().unwrap();
        let utc = ReaderZone::utc();
        // A reader read in UTC (spec zone=UTC) shows Madrid's summer time.
        let summer = at("2026-07-10T08:00:00Z");
        let hint = clock_hint(3_600_000 * 2 + 500, utc, madrid, summer).unwrap();
        assert_eq!(hint.proposed_zone, Some(madrid));
        // In winter Madrid is +01:00: two hours ahead is not Madrid, so the fixed offset.
        let winter = at("2026-01-10T08:00:00Z");
        let hint = clock_hint(3_600_000 * 2, utc, madrid, winter).unwrap();
        assert_eq!(hint.proposed_zone.map(|z| z.to_string()).as_deref(), Some("+02:00"));
        let hint = clock_hint(3_600_000, utc, madrid, winter).unwrap();
        assert_eq!(hint.proposed_zone, Some(madrid));
    }

    #[test]
    fn the_repeated_hour_is_read_near_the_arrival() {
        let madrid: ReaderZone = "Europe/Madrid".parse().unwrap();
        // 02:30 happens at 00:30 UTC (CEST) and at 01:30 UTC (CET).
        let reading = local(2026, 10, 25, 2, 30);
        assert_eq!(
            madrid.to_utc_near(reading, at("2026-10-25T01:30:01Z")),
            Some(at("2026-10-25T01:30:00Z"))
        );
        assert_eq!(
            madrid.to_utc_near(reading, at("2026-10-25T00:30:01Z")),
            Some(at("2026-10-25T00:30:00Z"))
        );
        assert!(ReaderZone::applies_to(Protocol::Ultra));
        assert!(!ReaderZone::applies_to(Protocol::CloudBox));
        assert!(!ReaderZone::applies_to(Protocol::Llrp));
        assert!(!ReaderZone::applies_to(Protocol::Chafon));
    }
}
