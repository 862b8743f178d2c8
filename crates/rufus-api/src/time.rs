//! Timestamps on the wire: RUFUS wants exactly `YYYY-MM-DDTHH:mm:ss.sssZ` in requests, and its
//! responses carry dates that must be read tolerantly (one odd date never fails a response).

use std::fmt;

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Timelike, Utc};
use serde::{Serialize, Serializer};

/// Formats a UTC instant exactly as RUFUS expects: `YYYY-MM-DDTHH:mm:ss.sssZ`.
///
/// Three fraction digits, always present (`.000` for a whole second); finer precision is
/// truncated, never rounded (rounding could move a passing into the next second, minute or day).
/// A leap second (chrono's nanosecond ≥ 1e9) is written as `:59.999`, since servers rarely
/// accept `:60`.
pub fn format_timestamp(at: DateTime<Utc>) -> String {
    // Truncate to the millisecond first: chrono's own `%.3f` truncates too, but doing it
    // explicitly keeps the rule visible and independent of the formatter.
    let nanos = at.nanosecond();
    let millis_nanos =
        if nanos >= 1_000_000_000 { 999_000_000 } else { nanos / 1_000_000 * 1_000_000 };
    let truncated = at.with_nanosecond(millis_nanos).unwrap_or(at);
    truncated.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `serialize_with` helper for request fields holding a `DateTime<Utc>`.
pub(crate) fn serialize_timestamp<S: Serializer>(
    at: &DateTime<Utc>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format_timestamp(*at))
}

/// Reads a timestamp the way the server may write one: RFC 3339 with any fraction and offset,
/// or a naive date-time (with `T` or a space) taken as UTC. `None` when it cannot tell.
pub fn parse_timestamp(raw: &str) -> Option<DateTime<Utc>> {
    let s = raw.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z"] {
        if let Ok(t) = DateTime::parse_from_str(s, format) {
            return Some(t.with_timezone(&Utc));
        }
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
            return Some(t.and_utc());
        }
    }
    None
}

/// A date/time read from a response: the text exactly as the server sent it, plus its UTC
/// reading when it could be understood. Never fails to deserialize.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Timestamp {
    raw: String,
    utc: Option<DateTime<Utc>>,
}

impl Timestamp {
    /// Wraps a raw server value, parsing it when possible.
    pub fn from_raw(raw: impl Into<String>) -> Self {
        let raw = raw.into();
        let utc = parse_timestamp(&raw);
        Self { raw, utc }
    }

    /// The value exactly as the server sent it (numbers are kept as their JSON text).
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The UTC instant, when the value could be parsed.
    pub fn utc(&self) -> Option<DateTime<Utc>> {
        self.utc
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(at: DateTime<Utc>) -> Self {
        Self { raw: format_timestamp(at), utc: Some(at) }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, nanos: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap().with_nanosecond(nanos).unwrap()
    }

    #[test]
    fn whole_second_gets_three_zero_digits() {
        assert_eq!(format_timestamp(utc(2023, 1, 22, 9, 20, 25, 0)), "2023-01-22T09:20:25.000Z");
    }

    #[test]
    fn milliseconds_are_kept() {
        assert_eq!(
            format_timestamp(utc(2023, 1, 22, 9, 21, 33, 7_000_000)),
            "2023-01-22T09:21:33.007Z"
        );
    }

    #[test]
    fn sub_millisecond_precision_is_truncated_not_rounded() {
        assert_eq!(
            format_timestamp(utc(2023, 12, 31, 23, 59, 59, 999_999_999)),
            "2023-12-31T23:59:59.999Z"
        );
        assert_eq!(
            format_timestamp(utc(2024, 2, 29, 0, 0, 0, 123_456_789)),
            "2024-02-29T00:00:00.123Z"
        );
        assert_eq!(format_timestamp(utc(2024, 6, 1, 7, 5, 3, 999)), "2024-06-01T07:05:03.000Z");
    }

    #[test]
    fn leap_second_is_clamped_to_59_999() {
        let leap = Utc.with_ymd_and_hms(2016, 12, 31, 23, 59, 59).unwrap();
        let leap = leap.with_nanosecond(1_500_000_000).unwrap();
        assert_eq!(format_timestamp(leap), "2016-12-31T23:59:59.999Z");
    }

    #[test]
    fn shape_is_always_24_chars_ending_in_z() {
        for nanos in [0, 1, 999_999, 1_000_000, 500_000_000, 999_999_999] {
            let s = format_timestamp(utc(2025, 3, 4, 5, 6, 7, nanos));
            assert_eq!(s.len(), 24, "{s}");
            assert!(s.ends_with('Z'), "{s}");
            assert_eq!(s.as_bytes()[19], b'.', "{s}");
        }
    }

    #[test]
    fn parses_the_usual_shapes() {
        let want = utc(2023, 1, 22, 9, 20, 25, 0);
        for raw in [
            "2023-01-22T09:20:25.000Z",
            "2023-01-22T09:20:25Z",
            "2023-01-22T10:20:25.000+01:00",
            "2023-01-22T09:20:25.000+0000",
            "2023-01-22T09:20:25.000",
            "2023-01-22 09:20:25",
            " 2023-01-22T09:20:25.000Z ",
        ] {
            assert_eq!(parse_timestamp(raw), Some(want), "{raw}");
        }
        assert_eq!(
            parse_timestamp("2023-01-22T09:20:25.123456Z"),
            Some(utc(2023, 1, 22, 9, 20, 25, 123_456_000))
        );
    }

    #[test]
    fn odd_values_are_kept_raw() {
        for raw in ["", "yesterday", "2023-13-45T99:99:99Z", "1674379225000"] {
            let t = Timestamp::from_raw(raw);
            assert_eq!(t.raw(), raw);
            assert_eq!(t.utc(), None, "{raw}");
        }
    }
}
