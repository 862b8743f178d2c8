//! The simulator's own wall clock and the one timestamp format of the API.

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};

/// `YYYY-MM-DDTHH:mm:ss.sssZ`, as chrono writes and reads it.
const FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.3fZ";

/// Now, as the server sees it.
// The workspace injects clocks into logic so tests control time; the simulator is a server with
// its own clock (creation dates, durations), like RUFUS Cloud itself, and this is its one read.
#[allow(clippy::disallowed_methods)]
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now()
}

/// A monotonic instant (when a timed fault rule was armed, when it expires).
pub(crate) type Instant = std::time::Instant;

/// Now, on the monotonic clock.
// The simulator's one monotonic read, for the same reason as [`now`].
#[allow(clippy::disallowed_methods)]
pub(crate) fn monotonic() -> Instant {
    std::time::Instant::now()
}

/// `YYYY-MM-DDTHH:mm:ss.sssZ`.
pub(crate) fn format(time: DateTime<Utc>) -> String {
    time.format(FORMAT).to_string()
}

/// The current time, formatted.
pub(crate) fn now_text() -> String {
    format(now())
}

/// Parses exactly `YYYY-MM-DDTHH:mm:ss.sssZ` (24 chars, three fraction digits, `Z`) and a real
/// date and time; anything else is `None`.
pub(crate) fn parse_exact(text: &str) -> Option<DateTime<Utc>> {
    let bytes = text.as_bytes();
    if bytes.len() != 24 {
        return None;
    }
    let shape_ok = bytes.iter().enumerate().all(|(i, b)| match i {
        4 | 7 => *b == b'-',
        10 => *b == b'T',
        13 | 16 => *b == b':',
        19 => *b == b'.',
        23 => *b == b'Z',
        _ => b.is_ascii_digit(),
    });
    // chrono reads second 60 as a leap second; the API has none.
    if !shape_ok || bytes.get(17..19) == Some(b"60".as_slice()) {
        return None;
    }
    NaiveDateTime::parse_from_str(text, FORMAT).ok().map(|t| t.and_utc())
}

/// Parses a time given in a query (`from`, `to`): the exact API format, or any RFC 3339 time.
pub(crate) fn parse_query(text: &str) -> Option<DateTime<Utc>> {
    parse_exact(text)
        .or_else(|| DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&Utc)))
}

/// A span written as a timestamp counted from the epoch (`1970-01-01T01:02:03.000Z` = 1 h 2 min
/// 3 s): how this simulator fills the `duration` field, whose meaning RUFUS does not document.
pub(crate) fn duration_text(span: TimeDelta) -> String {
    let span = span.max(TimeDelta::zero());
    format(DateTime::<Utc>::UNIX_EPOCH + span)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_format_only() {
        assert!(parse_exact("2023-01-22T09:20:25.000Z").is_some());
        for bad in [
            "2023-01-22T09:20:25Z",
            "2023-01-22T09:20:25.00Z",
            "2023-01-22T09:20:25.0000Z",
            "2023-01-22 09:20:25.000Z",
            "2023-01-22T09:20:25.000+00:00",
            "2023-02-30T09:20:25.000Z",
            "2023-13-01T09:20:25.000Z",
            "2023-01-22T24:00:00.000Z",
            "2023-01-22T23:59:60.000Z",
            "２023-01-22T09:20:25.000Z",
        ] {
            assert!(parse_exact(bad).is_none(), "{bad} should be refused");
        }
    }

    #[test]
    fn formats_round_trip() {
        let text = "2023-01-22T09:21:33.120Z";
        assert_eq!(format(parse_exact(text).unwrap()), text);
        assert_eq!(duration_text(TimeDelta::seconds(3723)), "1970-01-01T01:02:03.000Z");
    }
}
