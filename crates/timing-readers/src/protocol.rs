//! The list of supported protocols by name, with the transport defaults readers.md gives for each,
//! so configuration files, the CLI and the UI can pick a decoder from a string.

use std::fmt;
use std::str::FromStr;

use crate::Decoder;

/// A wire protocol this crate decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    /// IPICO Lite / Elite ASCII tag reports.
    Ipico,
    /// RFID Timing Systems Ultra / Joey.
    Ultra,
    /// Impinj-R2000 "CMD" serial modules (0xA0 frames).
    R2000,
    /// Chafon UHFReader18 / 288 serial readers.
    Chafon,
    /// ALGE Timy RS-232 impulse lines.
    Timy,
    /// RACE RESULT System decoder text protocol.
    RaceResult,
    /// RUFUS CloudBox JSON.
    CloudBox,
    /// One chip or bib per line (keyboard wedge, bib keypad, serial text).
    Lines,
}

/// Serial line parity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Parity {
    /// No parity bit.
    None,
    /// Odd parity.
    Odd,
    /// Even parity.
    Even,
}

/// Serial port settings a device ships with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SerialSettings {
    /// Baud rate.
    pub baud: u32,
    /// Data bits per character.
    pub data_bits: u8,
    /// Parity.
    pub parity: Parity,
    /// Stop bits.
    pub stop_bits: u8,
}

impl SerialSettings {
    /// 8 data bits, no parity, 1 stop bit at `baud`.
    pub const fn eight_n_one(baud: u32) -> Self {
        SerialSettings { baud, data_bits: 8, parity: Parity::None, stop_bits: 1 }
    }
}

/// A protocol name that is not one of [`Protocol::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown protocol {0:?} (known: ipico, ultra, r2000, chafon, timy, raceresult, cloudbox, lines)"
)]
pub struct UnknownProtocol(pub String);

impl Protocol {
    /// Every protocol, in a stable order.
    pub const ALL: [Protocol; 8] = [
        Protocol::Ipico,
        Protocol::Ultra,
        Protocol::R2000,
        Protocol::Chafon,
        Protocol::Timy,
        Protocol::RaceResult,
        Protocol::CloudBox,
        Protocol::Lines,
    ];

    /// The protocol's configuration name.
    pub const fn name(self) -> &'static str {
        match self {
            Protocol::Ipico => "ipico",
            Protocol::Ultra => "ultra",
            Protocol::R2000 => "r2000",
            Protocol::Chafon => "chafon",
            Protocol::Timy => "timy",
            Protocol::RaceResult => "raceresult",
            Protocol::CloudBox => "cloudbox",
            Protocol::Lines => "lines",
        }
    }

    /// A fresh decoder for one connection, with the protocol's default options.
    pub fn decoder(self) -> Box<dyn Decoder> {
        match self {
            Protocol::Ipico => Box::new(crate::ipico::IpicoDecoder::new()),
            Protocol::Ultra => Box::new(crate::ultra::UltraDecoder::new()),
            Protocol::R2000 => Box::new(crate::r2000::R2000Decoder::new()),
            Protocol::Chafon => Box::new(crate::chafon::ChafonDecoder::new()),
            Protocol::Timy => Box::new(crate::timy::TimyDecoder::new()),
            Protocol::RaceResult => Box::new(crate::raceresult::RaceResultDecoder::new()),
            Protocol::CloudBox => Box::new(crate::cloudbox::CloudBoxDecoder::new()),
            Protocol::Lines => Box::new(crate::lines::LinesDecoder::new()),
        }
    }

    /// The most bytes this protocol's decoder holds between calls (its module's `BUFFER_LIMIT`).
    pub const fn buffer_limit(self) -> usize {
        match self {
            Protocol::Ipico => crate::ipico::BUFFER_LIMIT,
            Protocol::Ultra => crate::ultra::BUFFER_LIMIT,
            Protocol::R2000 => crate::r2000::BUFFER_LIMIT,
            Protocol::Chafon => crate::chafon::BUFFER_LIMIT,
            Protocol::Timy => crate::timy::BUFFER_LIMIT,
            Protocol::RaceResult => crate::raceresult::BUFFER_LIMIT,
            Protocol::CloudBox => crate::cloudbox::BUFFER_LIMIT,
            Protocol::Lines => crate::lines::BUFFER_LIMIT,
        }
    }

    /// Factory serial settings, where readers.md gives them:
    /// IPICO 9600 8N1; R2000 115200 8N1 (38400 selectable); Chafon 57600 8N1 (some 115200);
    /// Timy 9600 8N1 (Timy3 factory; Timy2 and TrackTimer use 38400). `None` where the device
    /// is not normally on a serial line or readers.md gives no rate (Ultra, RACE RESULT,
    /// CloudBox, keyboard wedge).
    pub const fn serial_defaults(self) -> Option<SerialSettings> {
        match self {
            Protocol::Ipico => Some(SerialSettings::eight_n_one(9600)),
            Protocol::R2000 => Some(SerialSettings::eight_n_one(115_200)),
            Protocol::Chafon => Some(SerialSettings::eight_n_one(57_600)),
            Protocol::Timy => Some(SerialSettings::eight_n_one(9600)),
            Protocol::Ultra | Protocol::RaceResult | Protocol::CloudBox | Protocol::Lines => None,
        }
    }

    /// The TCP port the device listens on by default, where readers.md gives one:
    /// IPICO 10000 (tag stream; Elite control 9999, replay 10300), Ultra 23, RACE RESULT 3601,
    /// CloudBox 8080 (the docs' example port).
    pub const fn default_tcp_port(self) -> Option<u16> {
        match self {
            Protocol::Ipico => Some(10_000),
            Protocol::Ultra => Some(23),
            Protocol::RaceResult => Some(3601),
            Protocol::CloudBox => Some(8080),
            Protocol::R2000 | Protocol::Chafon | Protocol::Timy | Protocol::Lines => None,
        }
    }

    /// Whether the device carries its own timestamp (otherwise the host receive time is the
    /// passing time).
    pub const fn carries_time(self) -> bool {
        matches!(
            self,
            Protocol::Ipico
                | Protocol::Ultra
                | Protocol::Timy
                | Protocol::RaceResult
                | Protocol::CloudBox
        )
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Protocol {
    type Err = UnknownProtocol;

    /// Accepts the names of [`Protocol::name`], ignoring ASCII case and surrounding blanks.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Protocol::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| UnknownProtocol(s.to_string()))
    }
}
