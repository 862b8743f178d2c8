//! The time zone a reader's clock shows, so a reader that reports local wall-clock time (IPICO,
//! Ultra, Timy) is read in the zone it was set in — DST included — and a timer never has to
//! type an offset: by default it is the computer's own zone.

use std::fmt;
use std::str::FromStr;

use chrono::{
    DateTime, FixedOffset, LocalResult, NaiveDateTime, Offset as _, TimeDelta, TimeZone as _, Utc,
};

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
}
