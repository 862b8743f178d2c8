//! The one list of protocols and their facts — name, label, transports, default serial settings
//! and TCP port, whether the device carries its own time, decoder — from which configuration,
//! the CLI's help, the UI (through the `reader_protocols` command), xtask's fuzz list and the
//! tests all take them. Adding a protocol is a variant and an entry here.

use std::fmt;
use std::str::FromStr;

use crate::Decoder;
use crate::config::ReaderConfig;
#[cfg(any(test, feature = "emulators"))]
use crate::emulator::{DeviceOptions, Emulation};
use crate::supervisor::conversation::Conversation;

/// Declares the protocol enum and [`Protocol::ALL`] from one list of variants.
macro_rules! protocols {
    ($($(#[$doc:meta])* $variant:ident,)+) => {
        /// A wire protocol this crate decodes.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Protocol {
            $($(#[$doc])* $variant,)+
        }

        impl Protocol {
            /// Every protocol, in a stable order (the order of the enum).
            pub const ALL: [Protocol; [$(Protocol::$variant),+].len()] = [$(Protocol::$variant),+];
        }
    };
}

protocols! {
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
    /// LLRP (Impinj Speedway / R700, Zebra FX): binary TCP messages.
    Llrp,
}

/// How a reader is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// A serial port (RS-232, USB-serial).
    Serial,
    /// TCP, the console as client.
    Tcp,
}

impl Transport {
    /// `serial` or `tcp`, as in reader specs.
    pub const fn name(self) -> &'static str {
        match self {
            Transport::Serial => "serial",
            Transport::Tcp => "tcp",
        }
    }
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

/// What the console knows about one protocol before it talks to a device.
#[derive(Debug, Clone, Copy)]
pub struct ProtocolInfo {
    /// The configuration name (`protocol=` in a reader spec).
    pub name: &'static str,
    /// What a timer calls the hardware.
    pub label: &'static str,
    /// The transports the device is reached over, the usual one first.
    pub transports: &'static [Transport],
    /// Factory serial settings, where readers.md gives them (`None`: 9600 8N1 is assumed).
    pub serial: Option<SerialSettings>,
    /// The TCP port the device listens on by default, where readers.md gives one.
    pub tcp_port: Option<u16>,
    /// Whether the device carries its own timestamp (otherwise the host receive time is the
    /// passing time).
    pub carries_time: bool,
    /// Whether that timestamp is the reader's local wall-clock time, read in the reader's zone
    /// (otherwise it is UTC, or there is none).
    pub local_time: bool,
    /// The most bytes the decoder holds between calls (the module's `BUFFER_LIMIT`).
    pub buffer_limit: usize,
    /// A fresh decoder for one connection, with the protocol's default options.
    pub decoder: fn() -> Box<dyn Decoder>,
    /// Spec options only this protocol takes (`&power=1:60`), kept in
    /// [`ReaderConfig::protocol_options`] for its conversation.
    pub options: &'static [ProtocolOption],
    /// The supervisor's conversation with one reader.
    pub(crate) conversation: fn(&ReaderConfig) -> Box<dyn Conversation>,
    /// An emulated reader.
    #[cfg(any(test, feature = "emulators"))]
    pub(crate) emulation: fn(&DeviceOptions) -> Box<dyn Emulation>,
}

/// A spec option one protocol takes.
#[derive(Debug, Clone, Copy)]
pub struct ProtocolOption {
    /// The option's name in a spec.
    pub name: &'static str,
    /// What it sets, and its default, for help texts.
    pub help: &'static str,
    /// Checks a value: `Err` says what would be accepted.
    pub check: fn(&str) -> Result<(), &'static str>,
}

const BOTH: &[Transport] = &[Transport::Serial, Transport::Tcp];
const TCP_FIRST: &[Transport] = &[Transport::Tcp, Transport::Serial];

/// Serial settings when readers.md gives none.
const FALLBACK_SERIAL: SerialSettings = SerialSettings::eight_n_one(9600);

// readers.md §1: serial 9600 8N1; TCP 10000 (tag stream; Elite control 9999,
// replay 10300).
const IPICO: ProtocolInfo = ProtocolInfo {
    name: "ipico",
    label: "IPICO Lite/Elite",
    transports: BOTH,
    serial: Some(SerialSettings::eight_n_one(9600)),
    tcp_port: Some(10_000),
    carries_time: true,
    local_time: true,
    buffer_limit: crate::ipico::BUFFER_LIMIT,
    decoder: || Box::new(crate::ipico::IpicoDecoder::new()),
    options: &[],
    conversation: |c| Box::new(crate::ipico::conversation::IpicoConversation::new(c)),
    #[cfg(any(test, feature = "emulators"))]
    emulation: |o| Box::new(crate::ipico::emulation::IpicoEmulation::new(o)),
};

// §2: telnet-style TCP 23.
const ULTRA: ProtocolInfo = ProtocolInfo {
    name: "ultra",
    label: "RFID Timing Systems Ultra/Joey",
    transports: TCP_FIRST,
    serial: None,
    tcp_port: Some(23),
    carries_time: true,
    local_time: true,
    buffer_limit: crate::ultra::BUFFER_LIMIT,
    decoder: || Box::new(crate::ultra::UltraDecoder::new()),
    options: &[],
    conversation: |c| Box::new(crate::ultra::conversation::UltraConversation::new(c)),
    #[cfg(any(test, feature = "emulators"))]
    emulation: |o| Box::new(crate::ultra::emulation::UltraEmulation::new(o)),
};

// §4b: 115200 8N1 (38400 selectable).
const R2000: ProtocolInfo = ProtocolInfo {
    name: "r2000",
    label: "Impinj R2000 module (0xA0 CMD)",
    transports: BOTH,
    serial: Some(SerialSettings::eight_n_one(115_200)),
    tcp_port: None,
    carries_time: false,
    local_time: false,
    buffer_limit: crate::r2000::BUFFER_LIMIT,
    decoder: || Box::new(crate::r2000::R2000Decoder::new()),
    options: &[],
    conversation: |c| Box::new(crate::r2000::conversation::R2000Conversation::new(c)),
    #[cfg(any(test, feature = "emulators"))]
    emulation: |o| Box::new(crate::r2000::emulation::R2000Emulation::new(o)),
};

// §4a: 57600 8N1 (some 115200).
const CHAFON: ProtocolInfo = ProtocolInfo {
    name: "chafon",
    label: "Chafon / UHFReader18",
    transports: BOTH,
    serial: Some(SerialSettings::eight_n_one(57_600)),
    tcp_port: None,
    carries_time: false,
    local_time: false,
    buffer_limit: crate::chafon::BUFFER_LIMIT,
    decoder: || Box::new(crate::chafon::ChafonDecoder::new()),
    options: &[],
    conversation: |c| Box::new(crate::chafon::conversation::ChafonConversation::new(c)),
    #[cfg(any(test, feature = "emulators"))]
    emulation: |o| Box::new(crate::chafon::emulation::ChafonEmulation::new(o)),
};

// §10a: Timy3 factory 9600 8N1 (Timy2 and TrackTimer use 38400).
const TIMY: ProtocolInfo = ProtocolInfo {
    name: "timy",
    label: "ALGE Timy (RS-232)",
    transports: BOTH,
    serial: Some(SerialSettings::eight_n_one(9600)),
    tcp_port: None,
    carries_time: true,
    local_time: true,
    buffer_limit: crate::timy::BUFFER_LIMIT,
    decoder: || Box::new(crate::timy::TimyDecoder::new()),
    options: crate::timy::conversation::OPTIONS,
    conversation: |c| Box::new(crate::timy::conversation::TimyConversation::new(c)),
    #[cfg(any(test, feature = "emulators"))]
    emulation: |o| Box::new(crate::timy::emulation::TimyEmulation::new(o)),
};

// §5a: TCP 3601.
const RACERESULT: ProtocolInfo = ProtocolInfo {
    name: "raceresult",
    label: "RACE RESULT decoder",
    transports: TCP_FIRST,
    serial: None,
    tcp_port: Some(3601),
    carries_time: true,
    local_time: true,
    buffer_limit: crate::raceresult::BUFFER_LIMIT,
    decoder: || Box::new(crate::raceresult::RaceResultDecoder::new()),
    options: &[],
    conversation: |c| Box::new(crate::raceresult::conversation::RaceResultConversation::new(c)),
    #[cfg(any(test, feature = "emulators"))]
    emulation: |o| Box::new(crate::raceresult::emulation::RaceResultEmulation::new(o)),
};

// §9: the docs' example port 8080.
const CLOUDBOX: ProtocolInfo = ProtocolInfo {
    name: "cloudbox",
    label: "RUFUS CloudBox",
    transports: TCP_FIRST,
    serial: None,
    tcp_port: Some(8080),
    carries_time: true,
    local_time: false,
    buffer_limit: crate::cloudbox::BUFFER_LIMIT,
    decoder: || Box::new(crate::cloudbox::CloudBoxDecoder::new()),
    options: &[],
    conversation: |c| Box::new(crate::cloudbox::conversation::CloudBoxConversation::new(c)),
    #[cfg(any(test, feature = "emulators"))]
    emulation: |o| Box::new(crate::cloudbox::emulation::CloudBoxEmulation::new(o)),
};

// §11: a wedge or keypad on a serial line, or text over TCP.
const LINES: ProtocolInfo = ProtocolInfo {
    name: "lines",
    label: "Text lines (keyboard-wedge style)",
    transports: BOTH,
    serial: None,
    tcp_port: None,
    carries_time: false,
    local_time: false,
    buffer_limit: crate::lines::BUFFER_LIMIT,
    decoder: || Box::new(crate::lines::LinesDecoder::new()),
    options: &[],
    conversation: |c| Box::new(crate::lines::conversation::LinesConversation::new(c)),
    #[cfg(any(test, feature = "emulators"))]
    emulation: |o| Box::new(crate::emulator::lines::LinesEmulation::new(o)),
};

// §3: TCP 5084 (IANA); UTC µs timestamps from the reader's NTP clock.
const LLRP: ProtocolInfo = ProtocolInfo {
    name: "llrp",
    label: "LLRP reader (Impinj Speedway/R700, Zebra FX)",
    transports: &[Transport::Tcp],
    serial: None,
    tcp_port: Some(5084),
    carries_time: true,
    local_time: false,
    buffer_limit: crate::llrp::BUFFER_LIMIT,
    decoder: || Box::new(crate::llrp::LlrpDecoder::new()),
    options: crate::llrp::conversation::OPTIONS,
    conversation: |c| Box::new(crate::llrp::conversation::LlrpConversation::new(c)),
    #[cfg(any(test, feature = "emulators"))]
    emulation: |o| Box::new(crate::llrp::emulation::LlrpEmulation::new(o)),
};

impl Protocol {
    /// The protocol's facts: the only `match` over protocols.
    pub const fn info(self) -> &'static ProtocolInfo {
        match self {
            Protocol::Ipico => &IPICO,
            Protocol::Ultra => &ULTRA,
            Protocol::R2000 => &R2000,
            Protocol::Chafon => &CHAFON,
            Protocol::Timy => &TIMY,
            Protocol::RaceResult => &RACERESULT,
            Protocol::CloudBox => &CLOUDBOX,
            Protocol::Lines => &LINES,
            Protocol::Llrp => &LLRP,
        }
    }

    /// The protocol's configuration name.
    pub const fn name(self) -> &'static str {
        self.info().name
    }

    /// What a timer calls the hardware.
    pub const fn label(self) -> &'static str {
        self.info().label
    }

    /// A fresh decoder for one connection, with the protocol's default options.
    pub fn decoder(self) -> Box<dyn Decoder> {
        (self.info().decoder)()
    }

    /// An emulated reader of this protocol.
    #[cfg(any(test, feature = "emulators"))]
    pub(crate) fn emulation(self, options: &DeviceOptions) -> Box<dyn Emulation> {
        (self.info().emulation)(options)
    }

    /// The supervisor's conversation with a reader configured by `config`.
    pub(crate) fn conversation(self, config: &ReaderConfig) -> Box<dyn Conversation> {
        (self.info().conversation)(config)
    }

    /// The most bytes this protocol's decoder holds between calls (its module's `BUFFER_LIMIT`).
    pub const fn buffer_limit(self) -> usize {
        self.info().buffer_limit
    }

    /// Factory serial settings, where readers.md gives them (`None` where the device is not
    /// normally on a serial line or readers.md gives no rate).
    pub const fn serial_defaults(self) -> Option<SerialSettings> {
        self.info().serial
    }

    /// The serial settings a spec without `baud=` gets: the factory ones, else 9600 8N1.
    pub const fn serial_settings(self) -> SerialSettings {
        match self.info().serial {
            Some(settings) => settings,
            None => FALLBACK_SERIAL,
        }
    }

    /// The TCP port the device listens on by default, where readers.md gives one.
    pub const fn default_tcp_port(self) -> Option<u16> {
        self.info().tcp_port
    }

    /// Whether the device carries its own timestamp (otherwise the host receive time is the
    /// passing time).
    pub const fn carries_time(self) -> bool {
        self.info().carries_time
    }

    /// Whether the device's timestamp is its local wall-clock time (read in its zone).
    pub const fn shows_local_time(self) -> bool {
        self.info().local_time
    }

    /// The transports the device is reached over, the usual one first.
    pub const fn transports(self) -> &'static [Transport] {
        self.info().transports
    }

    /// Whether the device can be reached over `transport`.
    pub fn supports(self, transport: Transport) -> bool {
        self.transports().contains(&transport)
    }

    /// Every protocol's name, comma-separated (for help texts and errors).
    pub fn names() -> String {
        Protocol::ALL.map(Protocol::name).join(", ")
    }
}

/// A protocol name that is not one of [`Protocol::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown protocol {0:?} (known: {names})", names = Protocol::names())]
pub struct UnknownProtocol(pub String);

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_every_protocol_has_a_transport() {
        let mut names: Vec<&str> = Protocol::ALL.map(Protocol::name).to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Protocol::ALL.len());
        for p in Protocol::ALL {
            assert!(!p.transports().is_empty(), "{p}");
            assert!(!p.label().is_empty(), "{p}");
            assert!(p.carries_time() || !p.shows_local_time(), "{p}: local time but no time");
            if p.transports().first() == Some(&Transport::Tcp) {
                assert!(p.default_tcp_port().is_some(), "{p}: usually TCP, but no port");
            }
        }
    }
}
