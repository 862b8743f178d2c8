//! Chafon UHFReader18 / UHFReader288 family (CF-RU5102, ZK-RFID102, …; readers.md §4a): binary
//! frames `Len Adr reCmd Status Data… CRC_LSB CRC_MSB` with no start byte, `Len` = bytes after
//! it, CRC-16/MCRF4XX over `Len`…last data byte. Frames are found by trying length + CRC at
//! every offset; inventory replies and active-mode (0xEE) pushes become reads.
//!
//! Inventory replies (commands 0x01, 0x0F) come in two layouts with the same command byte:
//! UHFReader18 `Num (EPCLen EPC)×Num` and UHFReader288 `Ant Num (EPCLen EPC RSSI)×Num`.
//! [`InventoryLayout::Auto`] picks the one that accounts for exactly the frame's data (the
//! UHFReader18 layout when both do). The 288 `Ant` byte is an antenna bit mask (0x01, 0x02,
//! 0x04, 0x08 → antennas 1–4, as the chafon-rfid Python library reads it; readers.md only shows
//! 0x01); other values give no antenna. RSSI is the raw byte ([`Rssi::Raw`]). These readers have
//! no clock: the host receive time is the read time. Every tag of a multi-tag reply is its own
//! read carrying the whole frame as `raw`.

pub mod command;
pub(crate) mod conversation;
#[cfg(any(test, feature = "emulators"))]
pub(crate) mod emulation;

use crate::framing::{Check, FrameDecoder, FrameRules};
use crate::text::{hex_upper, span};
use crate::{
    Control, ControlMessage, Decoded, ReadDetails, ReadFlags, RejectReason, Rejected, Rssi, TagRead,
};

/// Longest frame: `Len` = 255.
pub const MAX_FRAME: usize = 256;
/// Garbage is reported in chunks of at most this many bytes.
pub const GARBAGE_CHUNK: usize = 256;
/// Most bytes the decoder holds between calls.
pub const BUFFER_LIMIT: usize = MAX_FRAME + GARBAGE_CHUNK;

/// reCmd of an inventory reply.
pub const CMD_INVENTORY: u8 = 0x01;
/// reCmd of a single-tag inventory reply.
pub const CMD_SINGLE_TAG_INVENTORY: u8 = 0x0F;
/// reCmd of an unsolicited scan/active-mode tag frame.
pub const CMD_ACTIVE_MODE: u8 = 0xEE;
/// Status: no tag in the field.
pub const STATUS_NO_TAG: u8 = 0xFB;

/// How inventory reply data is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InventoryLayout {
    /// Whichever layout fits the frame exactly (UHFReader18 first).
    Auto,
    /// `Num (EPCLen EPC)×Num`.
    Reader18,
    /// `Ant Num (EPCLen EPC RSSI)×Num`.
    Reader288,
}

/// Which kind of frame a read came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChafonFrameKind {
    /// Inventory reply, UHFReader18 layout.
    Inventory18,
    /// Inventory reply, UHFReader288 layout.
    Inventory288,
    /// Unsolicited scan/active-mode frame (reCmd 0xEE).
    ActiveMode,
}

/// The Chafon-specific part of a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChafonDetails {
    /// Reader address.
    pub address: u8,
    /// reCmd.
    pub command: u8,
    /// Status byte (0x01 done, 0x02 scan-time overflow, 0x03 more frames follow, 0x04 flash full).
    pub status: u8,
    /// Which frame layout the read came from.
    pub kind: ChafonFrameKind,
    /// The 288 `Ant` byte as sent.
    pub antenna_byte: Option<u8>,
}

/// Chafon frames that carry no tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChafonControl {
    /// An inventory found no tag (status 0xFB).
    NoTag {
        /// Reader address.
        address: u8,
        /// reCmd.
        command: u8,
    },
    /// Any other reply (reader information, settings acknowledgements, an empty inventory, …).
    Frame {
        /// Reader address.
        address: u8,
        /// reCmd (or Cmd of a 4-byte command frame).
        command: u8,
        /// Status byte; `None` for a frame too short to have one.
        status: Option<u8>,
        /// Data after the status.
        data: Vec<u8>,
    },
}

/// CRC-16/MCRF4XX (reflected poly 0x8408, preset 0xFFFF, no final XOR); sent LSB first.
pub fn crc16(bytes: &[u8]) -> u16 {
    bytes.iter().fold(0xFFFF_u16, |crc, b| {
        (0..8).fold(crc ^ u16::from(*b), |c, _| if c & 1 != 0 { (c >> 1) ^ 0x8408 } else { c >> 1 })
    })
}

/// Chafon's frame rules, with the inventory layout to read replies by; garbage is reported in
/// chunks of at most [`GARBAGE_CHUNK`] bytes.
#[derive(Debug, Clone, Copy)]
pub struct ChafonFrames {
    layout: InventoryLayout,
}

impl Default for ChafonFrames {
    fn default() -> Self {
        ChafonFrames { layout: InventoryLayout::Auto }
    }
}

impl FrameRules for ChafonFrames {
    const GARBAGE_CHUNK: usize = GARBAGE_CHUNK;

    fn check(at: &[u8]) -> Check {
        check(at)
    }

    fn decode_frame(&self, frame: &[u8], out: &mut Vec<Decoded>) {
        decode_frame(frame, self.layout, out);
    }
}

/// Streaming decoder for a Chafon serial (or TCP-bridged) link.
pub type ChafonDecoder = FrameDecoder<ChafonFrames>;

impl FrameDecoder<ChafonFrames> {
    /// A decoder for readers known to use `layout` (`new()` auto-detects it).
    pub fn with_layout(layout: InventoryLayout) -> Self {
        Self::with_rules(ChafonFrames { layout })
    }
}

/// Is a valid frame at the start of `at`?
fn check(at: &[u8]) -> Check {
    let Some(len) = at.first() else { return Check::NeedMore };
    let len = usize::from(*len);
    if len < 4 {
        return Check::Invalid(RejectReason::BadLength { expected: "Len ≥ 4", got: len });
    }
    let total = len + 1;
    let Some(frame) = at.get(..total) else { return Check::NeedMore };
    let (body, carried) = frame.split_at(total - 2);
    let expected = crc16(body);
    match carried {
        [lo, hi] if u16::from_le_bytes([*lo, *hi]) == expected => Check::Frame(total),
        [lo, hi] => Check::Invalid(RejectReason::BadChecksum {
            expected: expected.into(),
            got: u16::from_le_bytes([*lo, *hi]).into(),
        }),
        _ => Check::NeedMore,
    }
}

/// One tag found in an inventory reply.
struct Found<'a> {
    epc: &'a [u8],
    rssi: Option<u8>,
}

/// `Num (EPCLen EPC [RSSI])×Num`, which must account for every byte.
fn tags(data: &[u8], with_rssi: bool) -> Option<Vec<Found<'_>>> {
    let (num, mut rest) = data.split_first()?;
    let mut found = Vec::with_capacity(usize::from(*num));
    for _ in 0..*num {
        let (len, after) = rest.split_first()?;
        let (epc, after) = after.split_at_checked(usize::from(*len))?;
        let (rssi, after) = if with_rssi {
            let (rssi, after) = after.split_first()?;
            (Some(*rssi), after)
        } else {
            (None, after)
        };
        found.push(Found { epc, rssi });
        rest = after;
    }
    rest.is_empty().then_some(found)
}

fn antenna_from_mask(mask: u8) -> Option<u8> {
    match mask {
        0x01 => Some(1),
        0x02 => Some(2),
        0x04 => Some(3),
        0x08 => Some(4),
        _ => None,
    }
}

/// Decodes one complete, checked frame (`Len … CRC`), appending its reads or control message.
pub fn decode_frame(frame: &[u8], layout: InventoryLayout, out: &mut Vec<Decoded>) {
    let address = frame.get(1).copied().unwrap_or(0);
    let command = frame.get(2).copied().unwrap_or(0);
    // A 5-byte frame (`Len` = 4: a command) has no status byte.
    let status = if frame.len() >= 6 { frame.get(3).copied() } else { None };
    let data = span(frame, 4, frame.len().saturating_sub(2));
    let control = |message: ChafonControl| {
        Decoded::Control(Control { message: ControlMessage::Chafon(message), raw: frame.to_vec() })
    };
    let other = || control(ChafonControl::Frame { address, command, status, data: data.to_vec() });
    let read = |epc: &[u8], antenna_byte: Option<u8>, rssi: Option<u8>, kind, status| {
        Decoded::Read(TagRead {
            chip: hex_upper(epc),
            bib: None,
            antenna: antenna_byte.and_then(antenna_from_mask),
            rssi: rssi.map(|r| Rssi::Raw(r.into())),
            reader_time: None,
            replay_key: None,
            flags: ReadFlags::default(),
            details: ReadDetails::Chafon(ChafonDetails {
                address,
                command,
                status,
                kind,
                antenna_byte,
            }),
            raw: frame.to_vec(),
        })
    };

    match (command, status) {
        (CMD_INVENTORY | CMD_SINGLE_TAG_INVENTORY, Some(STATUS_NO_TAG)) => {
            out.push(control(ChafonControl::NoTag { address, command }));
        }
        (CMD_INVENTORY | CMD_SINGLE_TAG_INVENTORY, Some(status @ 0x01..=0x04)) => {
            let as18 = || tags(data, false);
            let as288 = || {
                let (ant, rest) = data.split_first()?;
                Some((*ant, tags(rest, true)?))
            };
            let parsed = match layout {
                InventoryLayout::Reader18 => as18().map(|t| (None, t)),
                InventoryLayout::Reader288 => as288().map(|(a, t)| (Some(a), t)),
                InventoryLayout::Auto => {
                    as18().map(|t| (None, t)).or_else(|| as288().map(|(a, t)| (Some(a), t)))
                }
            };
            match parsed {
                Some((_, found)) if found.is_empty() => out.push(other()),
                Some((ant, found)) => {
                    let kind = if ant.is_some() {
                        ChafonFrameKind::Inventory288
                    } else {
                        ChafonFrameKind::Inventory18
                    };
                    out.extend(found.iter().map(|f| read(f.epc, ant, f.rssi, kind, status)));
                }
                None => out.push(Decoded::Rejected(Rejected::new(
                    RejectReason::bad_field("inventory data", data),
                    frame,
                ))),
            }
        }
        (CMD_ACTIVE_MODE, Some(0x00)) if !data.is_empty() => {
            out.push(read(data, None, None, ChafonFrameKind::ActiveMode, 0x00));
        }
        _ => out.push(other()),
    }
}
