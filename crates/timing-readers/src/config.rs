//! What a reader is and how to reach it ([`ReaderConfig`], [`Link`]), parsed from and written
//! back to the one-line spec form people type in the CLI and configuration files:
//!
//! ```text
//! serial:/dev/ttyUSB0?protocol=ipico&baud=9600
//! serial:COM3?protocol=timy&baud=38400&utc_offset=+02:00&name=Finish
//! serial:\\.\COM10?protocol=chafon                   (kept as COM10; also //./COM10, com10)
//! serial:/dev/cu.usbserial-A50285BI?protocol=ipico   (macOS: the cu. device)
//! tcp:192.168.1.20:23?protocol=ultra
//! tcp:192.168.1.30?protocol=raceresult          (port from Protocol::default_tcp_port: 3601)
//! tcp:[fe80::1]:10000?protocol=ipico&elite=1
//! sim:runners=500,rate=20[,unknown=0.02][,seed=7]  (a simulated finish; `lines` protocol)
//! lines:-                                        (one chip or bib per line on standard input)
//! lines:/path/reads.txt                          (… from a file, read to its end)
//! lines:/dev/ttyUSB0?baud=9600                   (a serial port is a serial link)
//! file:/path/capture.bin?protocol=ipico          (a capture replayed through any decoder)
//! ```
//!
//! Every source — hardware, a file, standard input, the simulated finish — is a [`Link`] of
//! one [`ReaderConfig`], run by the same supervisor; inputs that end finish instead of
//! reconnecting.
//!
//! Options after `?`, joined by `&`: `protocol` (required: a name of the registry,
//! [`Protocol::ALL`]), `name`, serial `baud` / `parity` (`none odd even`) / `data_bits`
//! (5–8) / `stop_bits` (1, 2), `utc_offset` (`+02:00`: the reader's local clock against UTC),
//! `zone` (`Europe/Madrid`, `+02:00`: the zone the reader's clock shows; default the computer's),
//! `adjust_ms` (`-1500`: added to every read's passing time, e.g. for a photocell 1.5 s late),
//! `quiet` and `connect_timeout` (`500ms`, `10s`), `start` and `rewind` (`0`/`1`: start reading
//! on connect, fetch what the reader stored after a reconnect), `poll` (inventory interval of
//! polled readers), IPICO Elite `elite=1` with `elite_control` / `elite_replay` ports. Values are
//! percent-decoded (`%26` for `&`). [`ReaderConfig`]'s `Display` writes the spec back with the
//! options that differ from their defaults, and parsing that text gives the same config
//! (`backoff` and `resume_after` are run-time settings and have no spec form).
//!
//! A Windows COM name is kept in the form people read, `COM10`, whichever form was typed
//! ([`normalize_port_name`](crate::transport::normalize_port_name)); the serial transport opens
//! it as `\\.\COM10`, the form Windows needs from COM10 on.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::replay::ResumePoint;
use crate::transport::sim::SimFinish;
use crate::transport::{looks_like_serial_port, normalize_port_name};
use crate::zone::parse_offset;
use crate::{Parity, Protocol, ReaderZone, Transport, UnknownProtocol};

/// How to reach a reader.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Link {
    /// A serial port (RS-232, USB-serial, a pseudo-terminal).
    Serial {
        /// Device path (`/dev/ttyUSB0`, `/dev/cu.usbserial-X`, `COM3`, `COM10`, a symlink to a
        /// pty). Windows COM names are in the `COMn` form (the spec parser and
        /// [`Link::serial`] normalise `\\.\COM10` and `com10` to it).
        path: String,
        /// Baud rate.
        baud: u32,
        /// Data bits (5–8).
        data_bits: u8,
        /// Parity.
        parity: Parity,
        /// Stop bits (1 or 2).
        stop_bits: u8,
    },
    /// A TCP server on the reader.
    Tcp {
        /// Host name or IP address (IPv6 without brackets).
        host: String,
        /// Port.
        port: u16,
    },
    /// Standard input, read to its end.
    Stdin,
    /// A file, read to its end.
    File {
        /// Its path.
        path: String,
    },
    /// A simulated finish (demos, tests, benchmarks), speaking the `lines` protocol.
    Sim(SimFinish),
}

impl Link {
    /// A serial link with `protocol`'s factory settings ([`Protocol::serial_settings`]: 9600 8N1
    /// for protocols readers.md gives no serial rate for). A Windows COM name is kept as `COMn`.
    pub fn serial(path: impl Into<String>, protocol: Protocol) -> Self {
        let settings = protocol.serial_settings();
        Link::Serial {
            path: normalize_port_name(&path.into()),
            baud: settings.baud,
            data_bits: settings.data_bits,
            parity: settings.parity,
            stop_bits: settings.stop_bits,
        }
    }

    /// A TCP link.
    pub fn tcp(host: impl Into<String>, port: u16) -> Self {
        Link::Tcp { host: host.into(), port }
    }

    /// Whether the link is an input that ends (standard input, a file, a simulated finish):
    /// read once to its end, never reconnected, no commands.
    pub fn is_input(&self) -> bool {
        matches!(self, Link::Stdin | Link::File { .. } | Link::Sim(_))
    }
}

/// Reconnect back-off: the wait after a failed connect or a lost link starts at `min` and doubles
/// up to `max`. With the defaults (100 ms … 1 s) a port that comes back is opened again within
/// about one second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Backoff {
    /// First wait.
    pub min: Duration,
    /// Longest wait.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { min: Duration::from_millis(100), max: Duration::from_secs(1) }
    }
}

/// The IPICO Elite side ports used for replay (readers.md §1, *impl-only: Chronokeep*): a text
/// control port that takes `replay_start`, and the port the reader then serves the replay on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EliteReplay {
    /// Control port (9999).
    pub control_port: u16,
    /// Replay port (10300).
    pub replay_port: u16,
}

impl Default for EliteReplay {
    fn default() -> Self {
        EliteReplay { control_port: 9999, replay_port: 10_300 }
    }
}

/// One reader: its protocol, how to reach it, and how the supervisor watches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderConfig {
    /// A person's name for the reader ("Finish mat A"); `None` = the spec text stands for it.
    pub name: Option<String>,
    /// The wire protocol.
    pub protocol: Protocol,
    /// How to reach it.
    pub link: Link,
    /// No bytes for this long = the link is quiet (default 10 s). Protocols that answer a probe
    /// are probed then, and declared lost after a second such period.
    pub quiet_after: Duration,
    /// TCP connect timeout (default 3 s).
    pub connect_timeout: Duration,
    /// Reconnect back-off.
    pub backoff: Backoff,
    /// The zone the reader's clock shows, to turn reader-local times into UTC (`zone=`;
    /// `utc_offset=` in older specs). `None`: the computer's own zone ([`Clock::zone`]), which the
    /// supervisor fills in when it starts.
    ///
    /// [`Clock::zone`]: crate::clock::Clock::zone
    pub reader_zone: Option<ReaderZone>,
    /// Milliseconds added to every read's passing time (`adjust_ms=`; negative for a reader
    /// that reports late): to `StampedRead::reader_time_utc` where the reader has a clock,
    /// else to `StampedRead::host_time`. Changed live with `ReaderHandle::set_adjustment`.
    pub adjust_ms: i64,
    /// Where a previous run stopped, for the first rewind.
    pub resume_after: Option<ResumePoint>,
    /// Send the protocol's start command on connect (default true). `stop()` clears it for the
    /// handle's lifetime, `start()` sets it again.
    pub start_on_connect: bool,
    /// After a reconnect, ask the reader for what it stored meanwhile (default true).
    pub rewind_on_reconnect: bool,
    /// Interval between inventory rounds of polled readers (R2000, Chafon; default 50 ms).
    pub poll_interval: Duration,
    /// IPICO Elite replay ports (TCP IPICO links only).
    pub ipico_elite: Option<EliteReplay>,
    /// Options only this protocol takes ([`ProtocolInfo::options`](crate::ProtocolInfo)), by
    /// name, checked when the spec was parsed; the protocol's conversation reads them.
    pub protocol_options: BTreeMap<String, String>,
}

/// Defaults a spec leaves out.
const DEFAULT_QUIET: Duration = Duration::from_secs(10);
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const DEFAULT_POLL: Duration = Duration::from_millis(50);

impl ReaderConfig {
    /// The zone the reader's clock shows (UTC when none was set or filled in).
    pub fn zone(&self) -> ReaderZone {
        self.reader_zone.unwrap_or_default()
    }

    /// A reader with every setting at its default.
    pub fn new(protocol: Protocol, link: Link) -> Self {
        ReaderConfig {
            name: None,
            protocol,
            link,
            quiet_after: DEFAULT_QUIET,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            backoff: Backoff::default(),
            reader_zone: None,
            adjust_ms: 0,
            resume_after: None,
            start_on_connect: true,
            rewind_on_reconnect: true,
            poll_interval: DEFAULT_POLL,
            ipico_elite: None,
            protocol_options: BTreeMap::new(),
        }
    }

    /// Parses the spec form (see the module docs).
    pub fn from_spec(spec: &str) -> Result<Self, SpecError> {
        parse_spec(spec.trim())
    }

    /// What reads from this reader are labelled with: its name, or else its spec.
    pub fn source(&self) -> String {
        match &self.name {
            Some(name) => name.clone(),
            None => self.to_string(),
        }
    }
}

impl FromStr for ReaderConfig {
    type Err = SpecError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ReaderConfig::from_spec(s)
    }
}

/// A reader spec that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// Nothing before `:` names a link kind.
    #[error(
        "source spec {0:?} must start with {SCHEMES} (e.g. serial:/dev/ttyUSB0?protocol=ipico)"
    )]
    MissingScheme(String),
    /// The link kind is not one of [`SCHEMES`].
    #[error("unknown source kind {0:?}: use {SCHEMES}")]
    UnknownScheme(String),
    /// `serial:`, `lines:` or `file:` without a path.
    #[error(
        "spec without a device path or file (e.g. serial:/dev/ttyUSB0?protocol=ipico, lines:-, file:capture.bin?protocol=ipico)"
    )]
    MissingPath,
    /// `tcp:` without a host.
    #[error("tcp reader spec without a host (e.g. tcp:192.168.1.20:23?protocol=ultra)")]
    MissingHost,
    /// The TCP port is not a number 1–65535.
    #[error("bad TCP port {0:?}: expected a number 1-65535")]
    BadPort(String),
    /// No port given and the protocol has no default one.
    #[error("tcp reader spec needs a port: protocol {0} has no default TCP port")]
    NoDefaultPort(Protocol),
    /// No `protocol=` option.
    #[error("reader spec needs ?protocol=… ({names})", names = Protocol::names())]
    MissingProtocol,
    /// The protocol's devices are not reached over this link kind.
    #[error("a {protocol} reader is not reached over {link}: use {usual}")]
    WrongTransport {
        /// The protocol.
        protocol: Protocol,
        /// The link kind the spec named.
        link: &'static str,
        /// The protocol's transports.
        usual: String,
    },
    /// `protocol=` names no known protocol.
    #[error(transparent)]
    UnknownProtocol(#[from] UnknownProtocol),
    /// An option whose value does not parse.
    #[error("bad value {value:?} for option {option}: {expected}")]
    BadValue {
        /// Option name.
        option: String,
        /// The value given.
        value: String,
        /// What would have been accepted.
        expected: &'static str,
    },
    /// An option this link kind does not take, or that does not exist.
    #[error("unknown option {option:?} for a {link} reader")]
    UnknownOption {
        /// Option name.
        option: String,
        /// `serial` or `tcp`.
        link: &'static str,
    },
    /// The same option twice.
    #[error("option {0} given twice")]
    Repeated(String),
}

/// The kinds of source a spec can start with.
pub const SCHEMES: &str = "serial:, tcp:, lines:, file: or sim:";

fn bad(option: &str, value: &str, expected: &'static str) -> SpecError {
    SpecError::BadValue { option: option.to_string(), value: value.to_string(), expected }
}

fn parse_spec(spec: &str) -> Result<ReaderConfig, SpecError> {
    let (scheme, rest) =
        spec.split_once(':').ok_or_else(|| SpecError::MissingScheme(spec.to_string()))?;
    let scheme = scheme.trim().to_ascii_lowercase();
    if !matches!(scheme.as_str(), "serial" | "tcp" | "lines" | "file" | "sim") {
        return Err(SpecError::UnknownScheme(scheme));
    }
    let (target, query) = match rest.split_once('?') {
        Some((target, query)) => (target, query),
        // `sim:runners=500,rate=20`: the options are the whole rest.
        None if scheme == "sim" => ("", rest),
        None => (rest, ""),
    };
    let mut options: Vec<(String, String)> = Vec::new();
    let separators: &[char] = if scheme == "sim" { &['&', ','] } else { &['&'] };
    for pair in query.split(separators).filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = key.trim().to_ascii_lowercase();
        if options.iter().any(|(k, _)| *k == key) {
            return Err(SpecError::Repeated(key));
        }
        options.push((key, percent_decode(value)));
    }
    let take = |options: &mut Vec<(String, String)>, key: &str| {
        options.iter().position(|(k, _)| k == key).map(|i| options.remove(i).1)
    };

    // `lines:` is a protocol shorthand: the text-lines decoder on stdin, a file or a port.
    let implied = matches!(scheme.as_str(), "sim" | "lines").then_some(Protocol::Lines);
    let protocol: Protocol = match (take(&mut options, "protocol"), implied) {
        (None, Some(implied)) => implied,
        (Some(named), Some(implied)) => match named.parse()? {
            p if p == implied => p,
            _ => return Err(bad("protocol", &named, "lines (or leave it out)")),
        },
        (named, None) => named.ok_or(SpecError::MissingProtocol)?.parse()?,
    };
    // A serial port carrying lines is a serial link like any other.
    let scheme = match scheme.as_str() {
        "lines"
            if target.trim() != "-"
                && (looks_like_serial_port(target.trim())
                    || options.iter().any(|(k, _)| k == "baud")) =>
        {
            "serial".to_owned()
        }
        _ => scheme,
    };
    let link_kind;
    let link = match scheme.as_str() {
        "sim" => {
            link_kind = "sim";
            let mut sim = SimFinish::default();
            for (key, field) in [("runners", 0), ("rate", 1), ("unknown", 2), ("seed", 3)] {
                let Some(v) = take(&mut options, key) else { continue };
                let ok = match field {
                    0 => v.trim().parse().map(|n| sim.runners = n).is_ok(),
                    1 => v.trim().parse().map(|r| sim.rate = r).is_ok(),
                    2 => v.trim().parse().map(|u| sim.unknown = u).is_ok(),
                    _ => v.trim().parse().map(|n| sim.seed = n).is_ok(),
                };
                if !ok {
                    return Err(bad(key, &v, "a number"));
                }
            }
            if !sim.is_valid() {
                return Err(bad("rate", &sim.rate.to_string(), "rate ≥ 0 and unknown within 0–1"));
            }
            Link::Sim(sim)
        }
        "lines" | "file" => {
            link_kind = "file";
            match target.trim() {
                "" => return Err(SpecError::MissingPath),
                "-" => Link::Stdin,
                path => Link::File { path: path.to_owned() },
            }
        }
        "serial" => {
            link_kind = "serial";
            let path = target.trim();
            if path.is_empty() {
                return Err(SpecError::MissingPath);
            }
            let defaults = protocol.serial_settings();
            let baud = match take(&mut options, "baud") {
                Some(v) => v
                    .parse::<u32>()
                    .ok()
                    .filter(|b| *b > 0)
                    .ok_or_else(|| bad("baud", &v, "a positive number, e.g. 9600"))?,
                None => defaults.baud,
            };
            let data_bits = match take(&mut options, "data_bits") {
                Some(v) => v
                    .parse::<u8>()
                    .ok()
                    .filter(|b| (5..=8).contains(b))
                    .ok_or_else(|| bad("data_bits", &v, "5, 6, 7 or 8"))?,
                None => defaults.data_bits,
            };
            let parity = match take(&mut options, "parity") {
                Some(v) => match v.to_ascii_lowercase().as_str() {
                    "none" | "n" => Parity::None,
                    "odd" | "o" => Parity::Odd,
                    "even" | "e" => Parity::Even,
                    _ => return Err(bad("parity", &v, "none, odd or even")),
                },
                None => defaults.parity,
            };
            let stop_bits = match take(&mut options, "stop_bits") {
                Some(v) => v
                    .parse::<u8>()
                    .ok()
                    .filter(|b| *b == 1 || *b == 2)
                    .ok_or_else(|| bad("stop_bits", &v, "1 or 2"))?,
                None => defaults.stop_bits,
            };
            Link::Serial { path: normalize_port_name(path), baud, data_bits, parity, stop_bits }
        }
        "tcp" => {
            link_kind = "tcp";
            let (host, port) = split_host_port(target.trim())?;
            let port = match port {
                Some(port) => port,
                None => protocol.default_tcp_port().ok_or(SpecError::NoDefaultPort(protocol))?,
            };
            Link::Tcp { host, port }
        }
        other => return Err(SpecError::UnknownScheme(other.to_string())),
    };
    let transport = match link {
        Link::Serial { .. } => Some(Transport::Serial),
        Link::Tcp { .. } => Some(Transport::Tcp),
        // Any protocol's bytes can be read back from a capture.
        Link::Stdin | Link::File { .. } | Link::Sim(_) => None,
    };
    if let Some(transport) = transport
        && !protocol.supports(transport)
    {
        let usual = protocol.transports().iter().map(|t| format!("{}:", t.name()));
        return Err(SpecError::WrongTransport {
            protocol,
            link: transport.name(),
            usual: usual.collect::<Vec<_>>().join(" or "),
        });
    }

    let mut config = ReaderConfig::new(protocol, link);
    if let Some(name) = take(&mut options, "name") {
        config.name = Some(name).filter(|n| !n.trim().is_empty());
    }
    if let Some(v) = take(&mut options, "zone") {
        config.reader_zone = Some(v.parse().map_err(|_| {
            bad("zone", &v, "an IANA zone such as Europe/Madrid, or an offset such as +02:00")
        })?);
    }
    if let Some(v) = take(&mut options, "utc_offset") {
        let offset = parse_offset(&v)
            .ok_or_else(|| bad("utc_offset", &v, "+HH:MM or -HH:MM, e.g. +02:00"))?;
        config.reader_zone = Some(ReaderZone::Fixed(offset));
    }
    if let Some(v) = take(&mut options, "adjust_ms") {
        config.adjust_ms =
            parse_adjustment(&v).ok_or_else(|| bad("adjust_ms", &v, ADJUSTMENT_EXPECTED))?;
    }
    if let Some(v) = take(&mut options, "quiet") {
        config.quiet_after = parse_duration(&v)
            .filter(|d| !d.is_zero())
            .ok_or_else(|| bad("quiet", &v, "a duration such as 10s or 500ms"))?;
    }
    if let Some(v) = take(&mut options, "connect_timeout") {
        config.connect_timeout = parse_duration(&v)
            .filter(|d| !d.is_zero())
            .ok_or_else(|| bad("connect_timeout", &v, "a duration such as 3s or 500ms"))?;
    }
    if let Some(v) = take(&mut options, "poll") {
        config.poll_interval = parse_duration(&v)
            .filter(|d| !d.is_zero())
            .ok_or_else(|| bad("poll", &v, "a duration such as 50ms"))?;
    }
    if let Some(v) = take(&mut options, "start") {
        config.start_on_connect = parse_flag(&v).ok_or_else(|| bad("start", &v, "0 or 1"))?;
    }
    if let Some(v) = take(&mut options, "rewind") {
        config.rewind_on_reconnect = parse_flag(&v).ok_or_else(|| bad("rewind", &v, "0 or 1"))?;
    }
    if link_kind == "tcp" && protocol == Protocol::Ipico {
        let elite = take(&mut options, "elite");
        let control = take(&mut options, "elite_control");
        let replay = take(&mut options, "elite_replay");
        let on = match elite {
            Some(v) => parse_flag(&v).ok_or_else(|| bad("elite", &v, "0 or 1"))?,
            None => control.is_some() || replay.is_some(),
        };
        if on {
            let mut ports = EliteReplay::default();
            if let Some(v) = control {
                ports.control_port = parse_port(&v)?;
            }
            if let Some(v) = replay {
                ports.replay_port = parse_port(&v)?;
            }
            config.ipico_elite = Some(ports);
        }
    }
    for known in protocol.info().options {
        if let Some(v) = take(&mut options, known.name) {
            (known.check)(&v).map_err(|expected| bad(known.name, &v, expected))?;
            config.protocol_options.insert(known.name.to_owned(), v);
        }
    }
    if let Some((option, _)) = options.into_iter().next() {
        return Err(SpecError::UnknownOption { option, link: link_kind });
    }
    Ok(config)
}

/// The largest adjustment a reader takes: one hour either way (more is a wrong zone or clock).
pub const MAX_ADJUST_MS: i64 = 3_600_000;
const ADJUSTMENT_EXPECTED: &str = "whole milliseconds between -3600000 and 3600000, e.g. -1500";

/// An adjustment in milliseconds (`-1500`, `+250`), within ±[`MAX_ADJUST_MS`].
pub fn parse_adjustment(text: &str) -> Option<i64> {
    let text = text.trim();
    let digits = text.strip_prefix('+').unwrap_or(text);
    digits.parse::<i64>().ok().filter(|ms| ms.abs() <= MAX_ADJUST_MS)
}

fn parse_port(text: &str) -> Result<u16, SpecError> {
    text.trim()
        .parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| SpecError::BadPort(text.to_string()))
}

fn split_host_port(target: &str) -> Result<(String, Option<u16>), SpecError> {
    let (host, port) = if let Some(rest) = target.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or(SpecError::MissingHost)?;
        match after {
            "" => (host, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => return Err(SpecError::BadPort(after.to_string())),
            },
        }
    } else {
        match target.split_once(':') {
            Some((host, port)) if !port.contains(':') => (host, Some(port)),
            Some(_) => {
                return Err(bad("host", target, "an IPv6 address in brackets, e.g. [fe80::1]:23"));
            }
            None => (target, None),
        }
    };
    if host.trim().is_empty() {
        return Err(SpecError::MissingHost);
    }
    let port = port.map(parse_port).transpose()?;
    Ok((host.trim().to_string(), port))
}

pub(crate) fn parse_flag(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// `500ms`, `10s`, `2m`.
pub(crate) fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().ok()?;
    match unit {
        "ms" => Some(Duration::from_millis(n)),
        "s" => Some(Duration::from_secs(n)),
        "m" | "min" => n.checked_mul(60).map(Duration::from_secs),
        _ => None,
    }
}

fn format_duration(d: Duration) -> String {
    if d.subsec_nanos() == 0 { format!("{}s", d.as_secs()) } else { format!("{}ms", d.as_millis()) }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes.get(i + 1..i + 3).and_then(crate::text::hex_byte);
        match (b, hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '&' | '=' | '?' | '#') || c.is_control() {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl fmt::Display for ReaderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut spec = String::new();
        self.write_spec(&mut spec)?;
        // `lines:` implies its protocol: `lines:-`, `lines:/path?name=Desk`.
        if let Some(at) = spec.find("?protocol=lines")
            && spec.starts_with("lines:")
        {
            let rest = spec.split_off(at).split_off("?protocol=lines".len());
            spec.push_str(&rest.replacen('&', "?", 1));
        }
        f.write_str(&spec)
    }
}

impl ReaderConfig {
    fn write_spec(&self, f: &mut String) -> fmt::Result {
        use fmt::Write as _;
        let protocol = self.protocol;
        match &self.link {
            Link::Serial { path, baud, data_bits, parity, stop_bits } => {
                write!(f, "serial:{path}?protocol={protocol}")?;
                let defaults = protocol.serial_settings();
                if *baud != defaults.baud {
                    write!(f, "&baud={baud}")?;
                }
                if *parity != defaults.parity {
                    let parity = match parity {
                        Parity::None => "none",
                        Parity::Odd => "odd",
                        Parity::Even => "even",
                    };
                    write!(f, "&parity={parity}")?;
                }
                if *data_bits != defaults.data_bits {
                    write!(f, "&data_bits={data_bits}")?;
                }
                if *stop_bits != defaults.stop_bits {
                    write!(f, "&stop_bits={stop_bits}")?;
                }
            }
            Link::Tcp { host, port } => {
                if host.contains(':') {
                    write!(f, "tcp:[{host}]")?;
                } else {
                    write!(f, "tcp:{host}")?;
                }
                if protocol.default_tcp_port() != Some(*port) {
                    write!(f, ":{port}")?;
                }
                write!(f, "?protocol={protocol}")?;
            }
            Link::Sim(sim) => {
                // No `?`: everything after `sim:` is options (`,` or `&`).
                let SimFinish { runners, rate, unknown, seed } = sim;
                write!(f, "sim:runners={runners},rate={rate},unknown={unknown},seed={seed}")?;
            }
            Link::Stdin | Link::File { .. } => {
                let path = match &self.link {
                    Link::File { path } => path.as_str(),
                    _ => "-",
                };
                match protocol {
                    Protocol::Lines => write!(f, "lines:{path}?protocol=lines")?,
                    _ => write!(f, "file:{path}?protocol={protocol}")?,
                }
            }
        }
        if let Some(name) = &self.name {
            write!(f, "&name={}", percent_encode(name))?;
        }
        // A fixed offset keeps the `utc_offset=` spelling older specs used, so an unnamed
        // reader's label (its spec) stays what it was.
        match self.reader_zone {
            Some(ReaderZone::Fixed(offset)) => {
                write!(f, "&utc_offset={}", crate::zone::format_offset(offset))?;
            }
            Some(zone @ ReaderZone::Named(_)) => write!(f, "&zone={zone}")?,
            None => {}
        }
        if self.adjust_ms != 0 {
            write!(f, "&adjust_ms={}", self.adjust_ms)?;
        }
        if self.quiet_after != DEFAULT_QUIET {
            write!(f, "&quiet={}", format_duration(self.quiet_after))?;
        }
        if self.connect_timeout != DEFAULT_CONNECT_TIMEOUT {
            write!(f, "&connect_timeout={}", format_duration(self.connect_timeout))?;
        }
        if self.poll_interval != DEFAULT_POLL {
            write!(f, "&poll={}", format_duration(self.poll_interval))?;
        }
        if !self.start_on_connect {
            f.write_str("&start=0")?;
        }
        if !self.rewind_on_reconnect {
            f.write_str("&rewind=0")?;
        }
        if let Some(elite) = self.ipico_elite {
            f.write_str("&elite=1")?;
            let defaults = EliteReplay::default();
            if elite.control_port != defaults.control_port {
                write!(f, "&elite_control={}", elite.control_port)?;
            }
            if elite.replay_port != defaults.replay_port {
                write!(f, "&elite_replay={}", elite.replay_port)?;
            }
        }
        for (name, value) in &self.protocol_options {
            write!(f, "&{name}={}", percent_encode(value))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zone::format_offset;
    use chrono::FixedOffset;

    #[test]
    fn durations_and_offsets() {
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("10s"), Some(Duration::from_secs(10)));
        assert_eq!(parse_duration("10"), None);
        assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
        assert_eq!(parse_offset("+02:00"), FixedOffset::east_opt(7200));
        assert_eq!(parse_offset("-0530"), FixedOffset::west_opt(5 * 3600 + 1800));
        assert_eq!(parse_offset("Z"), FixedOffset::east_opt(0));
        assert_eq!(parse_offset("+25:00"), None);
        assert_eq!(format_offset(FixedOffset::west_opt(5 * 3600 + 1800).unwrap()), "-05:30");
    }

    #[test]
    fn adjustments_round_trip() {
        let config =
            ReaderConfig::from_spec("tcp:10.0.0.5?protocol=ultra&adjust_ms=-1500").unwrap();
        assert_eq!(config.adjust_ms, -1500);
        assert_eq!(config.to_string(), "tcp:10.0.0.5?protocol=ultra&adjust_ms=-1500");
        assert_eq!(ReaderConfig::from_spec(&config.to_string()).unwrap(), config);
        assert_eq!(parse_adjustment("+250"), Some(250));
        assert_eq!(parse_adjustment("3600001"), None);
        assert_eq!(parse_adjustment("1.5"), None);
        assert!(ReaderConfig::from_spec("tcp:h?protocol=ultra&adjust_ms=soon").is_err());
        let plain = ReaderConfig::from_spec("tcp:10.0.0.5?protocol=ultra&adjust_ms=0").unwrap();
        assert_eq!(plain.to_string(), "tcp:10.0.0.5?protocol=ultra");
    }

    #[test]
    fn names_are_percent_encoded() {
        assert_eq!(percent_encode("A&B=C%"), "A%26B%3DC%25");
        assert_eq!(percent_decode("A%26B%3dC%25"), "A&B=C%");
        assert_eq!(percent_decode("50%"), "50%");
    }
}
