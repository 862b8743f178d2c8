//! Small, panic-free parsing helpers shared by the text protocols (hex, decimal, times), so each
//! decoder reads fields the same careful way.

use chrono::NaiveTime;

/// The value of one ASCII hex digit (either case).
pub(crate) fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Two ASCII hex digits as a byte; `None` unless exactly two hex digits.
pub(crate) fn hex_byte(two: &[u8]) -> Option<u8> {
    match two {
        [hi, lo] => Some((hex_digit(*hi)? << 4) | hex_digit(*lo)?),
        _ => None,
    }
}

/// An even-length run of ASCII hex digits as bytes.
pub(crate) fn hex_bytes(text: &[u8]) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.chunks(2).map(hex_byte).collect()
}

/// Bytes as upper-case hex without separators (EPCs).
pub(crate) fn hex_upper(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(*DIGITS.get(usize::from(b >> 4)).unwrap_or(&b'0')));
        s.push(char::from(*DIGITS.get(usize::from(b & 0x0f)).unwrap_or(&b'0')));
    }
    s
}

/// A run of ASCII decimal digits (no sign, no blanks) as a number; `None` on anything else or
/// on overflow.
pub(crate) fn decimal(text: &[u8]) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    text.iter().try_fold(0u64, |acc, b| {
        let digit = b.checked_sub(b'0').filter(|d| *d <= 9)?;
        acc.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

/// A decimal number that must fit `T`.
pub(crate) fn decimal_as<T: TryFrom<u64>>(text: &[u8]) -> Option<T> {
    decimal(text).and_then(|v| T::try_from(v).ok())
}

/// A run of ASCII hex digits (1–8) as a number.
pub(crate) fn hex_number(text: &[u8]) -> Option<u32> {
    if text.is_empty() || text.len() > 8 {
        return None;
    }
    text.iter().try_fold(0u32, |acc, b| Some((acc << 4) | u32::from(hex_digit(*b)?)))
}

/// `H:M:S` with an optional fraction after `.` or `,` (1–9 digits); fields need not be
/// zero-padded. Seconds 0–59 only.
pub(crate) fn time_of_day(text: &[u8]) -> Option<NaiveTime> {
    let (hms, frac) = match text.iter().position(|b| *b == b'.' || *b == b',') {
        Some(dot) => (text.get(..dot)?, text.get(dot + 1..)?),
        None => (text, &[][..]),
    };
    let mut parts = hms.split(|b| *b == b':');
    let (h, m, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || h.len() > 2 || m.len() > 2 || s.len() > 2 {
        return None;
    }
    let nanos = if frac.is_empty() {
        0
    } else {
        if frac.len() > 9 {
            return None;
        }
        let value = decimal_as::<u32>(frac)?;
        let scale = 10u32.checked_pow(9 - u32::try_from(frac.len()).ok()?)?;
        value.checked_mul(scale)?
    };
    NaiveTime::from_hms_nano_opt(
        decimal_as::<u32>(h)?,
        decimal_as::<u32>(m)?,
        decimal_as::<u32>(s)?,
        nanos,
    )
}

/// The line without its trailing CR / LF bytes.
pub(crate) fn trim_line_end(line: &[u8]) -> &[u8] {
    let end = line.iter().rposition(|b| *b != b'\r' && *b != b'\n').map_or(0, |i| i + 1);
    line.get(..end).unwrap_or_default()
}

/// Bytes shown to a person in a rejection: lossy UTF-8, at most 64 characters.
pub(crate) fn shown(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    if text.chars().count() > 64 {
        let mut s: String = text.chars().take(64).collect();
        s.push('…');
        s
    } else {
        text.into_owned()
    }
}

/// `bytes[a..b]`, or empty when out of range (callers check lengths first).
pub(crate) fn span(bytes: &[u8], a: usize, b: usize) -> &[u8] {
    bytes.get(a..b).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_helpers() {
        assert_eq!(hex_byte(b"0b"), Some(0x0b));
        assert_eq!(hex_byte(b"Fe"), Some(0xfe));
        assert_eq!(hex_byte(b"0g"), None);
        assert_eq!(hex_byte(b"0"), None);
        assert_eq!(hex_bytes(b"e280ab"), Some(vec![0xe2, 0x80, 0xab]));
        assert_eq!(hex_upper(&[0xe2, 0x0a]), "E20A");
        assert_eq!(hex_number(b"1C"), Some(28));
    }

    #[test]
    fn decimal_rejects_signs_and_overflow() {
        assert_eq!(decimal(b"0012"), Some(12));
        assert_eq!(decimal(b"+1"), None);
        assert_eq!(decimal(b""), None);
        assert_eq!(decimal(b"99999999999999999999999"), None);
        assert_eq!(decimal_as::<u8>(b"256"), None);
    }

    #[test]
    fn times_of_day() {
        assert_eq!(
            time_of_day(b"10:02:33.4567"),
            NaiveTime::from_hms_micro_opt(10, 2, 33, 456_700)
        );
        assert_eq!(time_of_day(b"10:02:33,45"), NaiveTime::from_hms_milli_opt(10, 2, 33, 450));
        assert_eq!(time_of_day(b"9:5:3"), NaiveTime::from_hms_opt(9, 5, 3));
        assert_eq!(time_of_day(b"24:00:00"), None);
        assert_eq!(time_of_day(b"10:00"), None);
        assert_eq!(time_of_day(b"10:00:00.1234567890"), None);
    }

    #[test]
    fn line_ends() {
        assert_eq!(trim_line_end(b"abc\r\n"), b"abc");
        assert_eq!(trim_line_end(b"\r\n"), b"");
    }
}
