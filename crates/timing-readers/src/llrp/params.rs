//! The LLRP byte grammar written once for the encoders, the decoder and the reader model: the
//! 10-byte message header, TLV and TV parameters, and a panic-free reader over a parameter list.
//!
//! Layouts follow LLRP 1.0.1 / 1.1 §16 (binary encoding), checked against the LTK definition
//! `llrp-1x1-def.xml` (mchesser/llrp-rs `llrp-codegen/llrp-1x1-def.xml`) and the compact field
//! tables of Edward Sitarski's pyllrp (`_DefTV` / `_DefTLV`).

/// Bytes in a message header: `rsvd:3 ver:3 type:10`, u32 length (header included), u32 id.
pub const HEADER_LEN: usize = 10;

/// Bytes in a TLV parameter header: `rsvd:6 type:10`, u16 length (header included).
pub const TLV_HEADER_LEN: usize = 4;

/// The protocol version this crate writes: 1 = LLRP 1.0.1.
pub const VERSION: u8 = 1;

/// A decoded message header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// 1 = LLRP 1.0.1, 2 = LLRP 1.1.
    pub version: u8,
    /// Message type (10 bits).
    pub message_type: u16,
    /// Message length, header included.
    pub length: u32,
    /// Message id.
    pub id: u32,
}

/// What the first bytes of a candidate message say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeaderCheck {
    /// A plausible header of a message this many bytes long.
    Ok(Header),
    /// Reserved bits set or a version other than 1 and 2.
    BadVersion,
    /// A length below the header size or above the limit.
    BadLength(u32),
    /// A message type LLRP does not define (only when asked to check).
    UnknownType(u16),
    /// Fewer than 10 bytes so far (and the ones there are fine).
    NeedMore,
}

/// Checks a message header at the start of `at`, allowing lengths up to `max_len` and, with
/// `known_only`, only the message types LLRP 1.0.1 / 1.1 define. Decides as early as the bytes
/// allow: the first byte settles reserved bits and version, the second the type, the sixth the
/// length.
pub(crate) fn check_header(at: &[u8], max_len: usize, known_only: bool) -> HeaderCheck {
    let Some(first) = at.first() else { return HeaderCheck::NeedMore };
    let version = (first >> 2) & 0x07;
    if first & 0xE0 != 0 || !(1..=2).contains(&version) {
        return HeaderCheck::BadVersion;
    }
    if let Some(kind) = be_u16(at, 0).map(|k| k & 0x03FF)
        && known_only
        && !super::message_type::is_known(kind)
    {
        return HeaderCheck::UnknownType(kind);
    }
    let Some(length) = at.get(2..6).and_then(|b| be_u32(b, 0)) else {
        return HeaderCheck::NeedMore;
    };
    let too_long = usize::try_from(length).map_or(true, |l| l > max_len);
    if length < 10 || too_long {
        return HeaderCheck::BadLength(length);
    }
    let (Some(kind), Some(id)) = (be_u16(at, 0), be_u32(at, 6)) else {
        return HeaderCheck::NeedMore;
    };
    HeaderCheck::Ok(Header { version, message_type: kind & 0x03FF, length, id })
}

/// `bytes[at..at + 2]` as a big-endian u16.
pub(crate) fn be_u16(bytes: &[u8], at: usize) -> Option<u16> {
    match bytes.get(at..at.checked_add(2)?)? {
        [a, b] => Some(u16::from_be_bytes([*a, *b])),
        _ => None,
    }
}

/// `bytes[at..at + 4]` as a big-endian u32.
pub(crate) fn be_u32(bytes: &[u8], at: usize) -> Option<u32> {
    match bytes.get(at..at.checked_add(4)?)? {
        [a, b, c, d] => Some(u32::from_be_bytes([*a, *b, *c, *d])),
        _ => None,
    }
}

/// `bytes[at..at + 8]` as a big-endian u64.
pub(crate) fn be_u64(bytes: &[u8], at: usize) -> Option<u64> {
    let hi = be_u32(bytes, at)?;
    let lo = be_u32(bytes, at.checked_add(4)?)?;
    Some((u64::from(hi) << 32) | u64::from(lo))
}

/// The value size of a TV parameter type (LLRP 1.1 §16.2.7.3 / §16.2.8.3; pyllrp `_DefTV`), or
/// `None` for a type no version defines: such a parameter cannot be stepped over.
pub(crate) fn tv_value_len(kind: u8) -> Option<usize> {
    Some(match kind {
        // AntennaID, ChannelIndex, TagSeenCount, InventoryParameterSpecID, C1G2-CRC, C1G2-PC,
        // SpecIndex, ClientRequestOpSpecResult, OpSpecID, C1G2-XPCW1, C1G2-XPCW2.
        1 | 7 | 8 | 10 | 11 | 12 | 14 | 15 | 17 | 19 | 20 => 2,
        // First/LastSeenTimestamp UTC/Uptime.
        2..=5 => 8,
        // PeakRSSI.
        6 => 1,
        // ROSpecID, AccessSpecID, C1G2SingulationDetails.
        9 | 16 | 18 => 4,
        // EPC-96.
        13 => 12,
        _ => return None,
    })
}

/// One parameter of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Param<'a> {
    /// A TLV parameter: its type and the bytes after its 4-byte header.
    Tlv {
        /// Parameter type (10 bits).
        kind: u16,
        /// The value (nested fields and parameters).
        body: &'a [u8],
    },
    /// A TV parameter: its type (7 bits) and its value.
    Tv {
        /// Parameter type.
        kind: u8,
        /// The value, of the size the type implies.
        value: &'a [u8],
    },
}

/// Why a parameter list does not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ParamError {
    /// A TV type whose length nobody knows.
    UnknownTv(u8),
    /// A TLV shorter than its header or longer than what is left, or a cut TV.
    BadLength,
    /// Reserved bits of a TLV header are set.
    Reserved,
}

/// Walks a parameter list (the rest of a message or of a TLV after its fixed fields).
#[derive(Debug, Clone)]
pub(crate) struct Params<'a> {
    rest: &'a [u8],
    failed: bool,
}

impl<'a> Params<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Params { rest: bytes, failed: false }
    }
}

impl<'a> Iterator for Params<'a> {
    type Item = Result<Param<'a>, ParamError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let first = *self.rest.first()?;
        let result = if first & 0x80 != 0 {
            let kind = first & 0x7F;
            match tv_value_len(kind) {
                None => Err(ParamError::UnknownTv(kind)),
                Some(len) => match (self.rest.get(1..=len), self.rest.get(len + 1..)) {
                    (Some(value), Some(rest)) => {
                        self.rest = rest;
                        Ok(Param::Tv { kind, value })
                    }
                    _ => Err(ParamError::BadLength),
                },
            }
        } else if first & 0xFC != 0 {
            Err(ParamError::Reserved)
        } else {
            match (be_u16(self.rest, 0), be_u16(self.rest, 2)) {
                (Some(kind), Some(len)) => {
                    let len = usize::from(len);
                    match (len >= TLV_HEADER_LEN).then(|| self.rest.get(TLV_HEADER_LEN..len)) {
                        Some(Some(body)) => {
                            self.rest = self.rest.get(len..).unwrap_or_default();
                            Ok(Param::Tlv { kind: kind & 0x03FF, body })
                        }
                        _ => Err(ParamError::BadLength),
                    }
                }
                _ => Err(ParamError::BadLength),
            }
        };
        if result.is_err() {
            self.failed = true;
        }
        Some(result)
    }
}

/// Appends a big-endian u16.
pub(crate) fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// Appends a big-endian u32.
pub(crate) fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// Appends a big-endian u64.
#[cfg(any(test, feature = "emulators"))] // the reader model writes timestamps
pub(crate) fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// A TLV parameter: `000000 type:10`, u16 length including the 4-byte header, then `body`.
/// A body too long for the u16 length is cut (no LLRP parameter the crate writes comes close).
pub fn tlv(kind: u16, body: &[u8]) -> Vec<u8> {
    let max = usize::from(u16::MAX) - TLV_HEADER_LEN;
    let body = body.get(..max).unwrap_or(body);
    let mut out = Vec::with_capacity(body.len() + TLV_HEADER_LEN);
    put_u16(&mut out, kind & 0x03FF);
    put_u16(&mut out, u16::try_from(body.len() + TLV_HEADER_LEN).unwrap_or(u16::MAX));
    out.extend_from_slice(body);
    out
}

/// A TV parameter: `1 type:7`, then the value.
pub fn tv(kind: u8, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 1);
    out.push(0x80 | (kind & 0x7F));
    out.extend_from_slice(value);
    out
}

/// A whole message: the version-1 header (`000 001 type:10`, u32 length, u32 id) and `body`.
pub fn message(message_type: u16, id: u32, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + HEADER_LEN);
    put_u16(&mut out, (u16::from(VERSION) << 10) | (message_type & 0x03FF));
    put_u32(&mut out, u32::try_from(body.len() + HEADER_LEN).unwrap_or(u32::MAX));
    put_u32(&mut out, id);
    out.extend_from_slice(body);
    out
}

/// An LLRPStatus parameter (287): u16 code, UTF-8 description with a u16 length.
pub fn llrp_status(code: u16, description: &str) -> Vec<u8> {
    let text = description.as_bytes();
    let text = text.get(..1024).unwrap_or(text);
    let mut body = Vec::with_capacity(text.len() + 4);
    put_u16(&mut body, code);
    put_u16(&mut body, u16::try_from(text.len()).unwrap_or(0));
    body.extend_from_slice(text);
    tlv(super::param::LLRP_STATUS, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_checks_decide_early() {
        assert_eq!(check_header(&[], 100, false), HeaderCheck::NeedMore);
        assert_eq!(check_header(&[0x24], 100, false), HeaderCheck::BadVersion);
        assert_eq!(check_header(&[0x00], 100, false), HeaderCheck::BadVersion);
        assert_eq!(check_header(&[0x0C], 100, false), HeaderCheck::BadVersion);
        assert_eq!(check_header(&[0x04, 0x3E, 0, 0], 100, false), HeaderCheck::NeedMore);
        assert_eq!(check_header(&[0x04, 0x3E, 0, 0, 0, 9], 100, false), HeaderCheck::BadLength(9));
        assert_eq!(
            check_header(&[0x08, 0x3E, 0, 0, 0, 101], 100, false),
            HeaderCheck::BadLength(101)
        );
        assert_eq!(check_header(&[0x04, 0xFF], 100, true), HeaderCheck::UnknownType(255));
        assert_eq!(
            check_header(&[0x08, 0x3E, 0, 0, 0, 10, 0, 0, 0, 7], 100, true),
            HeaderCheck::Ok(Header { version: 2, message_type: 62, length: 10, id: 7 })
        );
    }

    #[test]
    fn params_walk_tv_and_tlv_and_stop_on_errors() {
        let bytes = [0x81, 0x00, 0x02, 0x00, 0xF1, 0x00, 0x05, 0xAA, 0x86];
        let got: Vec<_> = Params::new(&bytes).collect();
        assert_eq!(
            got,
            [
                Ok(Param::Tv { kind: 1, value: &[0x00, 0x02][..] }),
                Ok(Param::Tlv { kind: 241, body: &[0xAA][..] }),
                Err(ParamError::BadLength),
            ]
        );
        assert_eq!(
            Params::new(&[0xFF, 0x00]).collect::<Vec<_>>(),
            [Err(ParamError::UnknownTv(127))]
        );
        assert_eq!(Params::new(&[0x00, 0xF1, 0x00, 0x03]).count(), 1);
    }
}
