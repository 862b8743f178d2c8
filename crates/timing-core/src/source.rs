//! Where reads come from, behind one [`ReadSource`] abstraction: a simulated finish (for demos,
//! tests and benchmarks) and a line source (one chip or bib per line from stdin, a file or a
//! serial port). Hardware protocols plug in here too; sources never touch the store.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncRead, AsyncReadExt};

use timing_readers::lines::LinesDecoder;
use timing_readers::{
    Decoded, Decoder, ReaderConfig, ReaderHandle, ReaderSupervisor, Rssi, StampedRead, TagRead,
};

use crate::capture::ReadSink;
use crate::domain::RawRead;
use crate::error::{CoreError, Result};

/// A boxed future a source runs as.
pub type SourceFuture = Pin<Box<dyn Future<Output = Result<()>> + Send>>;

/// Something that produces raw reads until it ends or is stopped (its task aborted).
pub trait ReadSource: Send {
    /// A name for status lines and the `source` column (e.g. `sim`, `lines:-`).
    fn name(&self) -> String;
    /// Runs the source, delivering reads to `sink`.
    fn run(self: Box<Self>, sink: ReadSink) -> SourceFuture;
}

/// A parsed `--source` specification.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceSpec {
    /// `sim:runners=500,rate=20[,unknown=0.02][,seed=7]`
    Sim(SimFinish),
    /// `lines:-` (stdin), `lines:/path/file` (`lines:/dev/ttyUSB0?baud=9600` is a [`Self::Reader`])
    Lines(LineInput),
    /// Timing hardware: `serial:/dev/ttyUSB0?protocol=ipico[&baud=9600]`,
    /// `tcp:192.168.1.20:23?protocol=ultra` (decoders, reconnect and rewind in timing-readers).
    Reader(Box<ReaderConfig>),
}

/// Where a line source reads from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineInput {
    /// Standard input.
    Stdin,
    /// A file, read to its end.
    File(PathBuf),
}

impl SourceSpec {
    /// Parses a source specification, saying what is wrong with a bad one.
    pub fn parse(spec: &str) -> Result<Self> {
        let (kind, rest) = spec.split_once(':').unwrap_or((spec, ""));
        match kind {
            "sim" => SimFinish::parse(rest).map(SourceSpec::Sim),
            "lines" => {
                let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
                if path.is_empty() {
                    return Err(CoreError::Invalid("lines: needs `-` (stdin) or a path".into()));
                }
                let mut baud = None;
                for (key, value) in params(query)? {
                    match key {
                        "baud" => baud = Some(parse_num(key, value)?),
                        other => return Err(unknown_param("lines", other)),
                    }
                }
                let is_port = baud.is_some() || timing_readers::looks_like_serial_port(path);
                match (path, is_port) {
                    ("-", _) => Ok(SourceSpec::Lines(LineInput::Stdin)),
                    // A serial port carrying lines is timing hardware like any other: the
                    // readers' serial transport and supervisor (reconnect after an unplug).
                    (p, true) => {
                        let spec =
                            format!("serial:{p}?protocol=lines&baud={}", baud.unwrap_or(9600));
                        ReaderConfig::from_spec(&spec)
                            .map(|c| SourceSpec::Reader(Box::new(c)))
                            .map_err(|e| CoreError::Invalid(e.to_string()))
                    }
                    (p, false) => Ok(SourceSpec::Lines(LineInput::File(PathBuf::from(p)))),
                }
            }
            "serial" | "tcp" => ReaderConfig::from_spec(spec)
                .map(|c| SourceSpec::Reader(Box::new(c)))
                .map_err(|e| CoreError::Invalid(e.to_string())),
            other => Err(CoreError::Invalid(format!(
                "unknown source `{other}`: use sim:runners=N,rate=R, lines:-|PATH[?baud=B], \
                 serial:PORT?protocol=P or tcp:HOST[:PORT]?protocol=P"
            ))),
        }
    }

    /// The source this specification describes, named after its spec.
    pub fn into_source(self) -> Box<dyn ReadSource> {
        match self {
            SourceSpec::Sim(sim) => Box::new(sim),
            SourceSpec::Lines(input) => Box::new(LineSource { input, name: None }),
            SourceSpec::Reader(config) => {
                Box::new(HardwareSource { config: *config, handle: None })
            }
        }
    }

    /// The source this specification describes, recording its reads under `name`.
    pub fn into_source_named(self, name: &str) -> Box<dyn ReadSource> {
        match self {
            SourceSpec::Sim(sim) => Box::new(NamedSim { sim, name: name.to_owned() }),
            SourceSpec::Lines(input) => Box::new(LineSource { input, name: Some(name.to_owned()) }),
            SourceSpec::Reader(mut config) => {
                config.name = Some(name.to_owned());
                Box::new(HardwareSource { config: *config, handle: None })
            }
        }
    }

    /// The protocol name, for status lines and the readers screen.
    pub fn protocol(&self) -> String {
        match self {
            SourceSpec::Sim(_) => "sim".into(),
            SourceSpec::Lines(_) => "lines".into(),
            SourceSpec::Reader(c) => c.protocol.to_string(),
        }
    }
}

fn params(query: &str) -> Result<Vec<(&str, &str)>> {
    query
        .split([',', '&'])
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.split_once('=')
                .ok_or_else(|| CoreError::Invalid(format!("`{p}` should be key=value")))
        })
        .collect()
}

fn parse_num<T: std::str::FromStr>(key: &str, value: &str) -> Result<T> {
    value.parse().map_err(|_| CoreError::Invalid(format!("`{key}={value}`: not a valid number")))
}

fn unknown_param(kind: &str, key: &str) -> CoreError {
    CoreError::Invalid(format!("{kind}: unknown parameter `{key}`"))
}

// ------------------------------------------------------------------ simulated finish

/// A simulated finish: `runners` crossing the line at about `rate` per second on average, in
/// bunches, each crossing read 1–4 times within a second, with a share of unknown chips.
/// Chips are RUFUS FREE tags (the bib in ASCII hex), so bibs appear without a participant list.
#[derive(Debug, Clone, PartialEq)]
pub struct SimFinish {
    /// How many runners finish.
    pub runners: u32,
    /// Average crossings per second (0: as fast as possible, for benchmarks).
    pub rate: f64,
    /// Share of crossings whose chip is unknown (0.0–1.0).
    pub unknown: f64,
    /// Seed, for a reproducible finish.
    pub seed: u64,
}

impl Default for SimFinish {
    fn default() -> Self {
        Self { runners: 500, rate: 5.0, unknown: 0.02, seed: 1 }
    }
}

impl SimFinish {
    fn parse(query: &str) -> Result<Self> {
        let mut sim = SimFinish::default();
        for (key, value) in params(query)? {
            match key {
                "runners" => sim.runners = parse_num(key, value)?,
                "rate" => sim.rate = parse_num(key, value)?,
                "unknown" => sim.unknown = parse_num(key, value)?,
                "seed" => sim.seed = parse_num(key, value)?,
                other => return Err(unknown_param("sim", other)),
            }
        }
        if !(sim.rate.is_finite() && sim.rate >= 0.0 && (0.0..=1.0).contains(&sim.unknown)) {
            return Err(CoreError::Invalid("sim: rate must be ≥ 0 and unknown within 0–1".into()));
        }
        Ok(sim)
    }

    /// The reads of the finish, as (offset from the start, chip), in time order.
    pub fn script(&self) -> Vec<(Duration, String)> {
        let mut rng = StdRng::seed_from_u64(self.seed);
        let mut bibs: Vec<u32> = (1..=self.runners).collect();
        // Finish order is not bib order.
        for i in (1..bibs.len()).rev() {
            bibs.swap(i, rng.random_range(0..=i));
        }
        let mean_gap = if self.rate > 0.0 { 1.0 / self.rate } else { 0.0 };
        let mut t = 0.0_f64;
        let mut reads = Vec::with_capacity(bibs.len() * 3);
        for bib in bibs {
            // Bunches: a quarter of runners arrive on the heels of the one before.
            let gap = if rng.random_bool(0.25) {
                rng.random_range(0.0..0.3) * mean_gap.min(1.0)
            } else {
                -mean_gap * (1.0 - rng.random::<f64>()).ln() * 1.3
            };
            t += gap;
            let chip = if rng.random_bool(self.unknown) {
                format!("E200{:020X}", rng.random::<u64>())
            } else {
                free_tag(&bib.to_string())
            };
            let reads_here = rng.random_range(1..=4);
            let mut read_t = t;
            for _ in 0..reads_here {
                reads.push((
                    Duration::from_secs_f64(read_t * if self.rate > 0.0 { 1.0 } else { 0.0 }),
                    chip.clone(),
                ));
                read_t += rng.random_range(0.02..0.4);
            }
        }
        reads.sort_by_key(|(at, _)| *at);
        reads
    }
}

/// The EPC of a RUFUS FREE tag for a participant code: the code in ASCII hex, zero-padded to
/// 12 bytes.
pub fn free_tag(code: &str) -> String {
    let mut hex: String = code.bytes().map(|b| format!("{b:02X}")).collect();
    while hex.len() < 24 {
        hex.push_str("00");
    }
    hex
}

impl ReadSource for SimFinish {
    fn name(&self) -> String {
        "sim".into()
    }

    fn run(self: Box<Self>, sink: ReadSink) -> SourceFuture {
        Box::new(NamedSim { sim: *self, name: "sim".into() }).run(sink)
    }
}

/// A simulated finish recording under a chosen source name.
#[derive(Debug)]
struct NamedSim {
    sim: SimFinish,
    name: String,
}

impl ReadSource for NamedSim {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn run(self: Box<Self>, sink: ReadSink) -> SourceFuture {
        Box::pin(async move {
            let name = self.name;
            let script = self.sim.script();
            let start = sink.monotonic();
            for (offset, chip) in script {
                let elapsed = sink.monotonic().saturating_sub(start);
                if offset > elapsed {
                    tokio::time::sleep(offset - elapsed).await;
                }
                let read = RawRead {
                    source: name.clone(),
                    protocol: "sim".into(),
                    raw: chip.as_bytes().to_vec(),
                    chip,
                    bib: None,
                    antenna: Some(1),
                    rssi: Some(-60),
                    reader_time: None,
                    host_time: sink.now(),
                    clock_offset_ms: None,
                    replay_key: None,
                    repeated: false,
                    in_order: true,
                };
                if sink.send(read).await.is_err() {
                    break; // the pipeline is shutting down
                }
            }
            Ok(())
        })
    }
}

// ------------------------------------------------------------------------ hardware

/// A timing reader (serial or TCP) run by a [`ReaderSupervisor`], which reconnects, rewinds
/// and stamps; its reads are handed to the pipeline as they come.
#[derive(Debug)]
pub struct HardwareSource {
    /// The reader's configuration.
    pub config: ReaderConfig,
    /// Where to put the supervisor's handle (status, commands) when it starts.
    pub handle: Option<ReaderSlot>,
}

/// Where a running hardware source publishes its supervisor's handle.
pub type ReaderSlot = std::sync::Arc<std::sync::Mutex<Option<std::sync::Arc<ReaderHandle>>>>;

/// A hardware read as the engine records it.
pub fn raw_read_from(s: StampedRead) -> RawRead {
    RawRead {
        source: s.source,
        protocol: s.protocol.to_string(),
        chip: s.read.chip,
        bib: s.read.bib,
        antenna: s.read.antenna.map(i64::from),
        rssi: match s.read.rssi {
            Some(Rssi::Dbm(dbm)) => Some(i64::from(dbm)),
            _ => None,
        },
        reader_time: s.reader_time_utc,
        host_time: s.host_time,
        clock_offset_ms: s.clock_offset_ms,
        raw: s.read.raw,
        replay_key: s.replay_key,
        repeated: s.repeated,
        in_order: s.in_order,
    }
}

impl ReadSource for HardwareSource {
    fn name(&self) -> String {
        self.config.source()
    }

    fn run(self: Box<Self>, sink: ReadSink) -> SourceFuture {
        Box::pin(async move {
            let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
            let handle =
                std::sync::Arc::new(ReaderSupervisor::spawn(self.config, sink.clock(), tx));
            if let Some(slot) = &self.handle {
                *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(handle.clone());
            }
            while let Some(read) = rx.recv().await {
                if sink.send(raw_read_from(read)).await.is_err() {
                    break;
                }
            }
            // Dropping the last handle ends the supervisor and closes the port.
            drop(handle);
            Ok(())
        })
    }
}

// ------------------------------------------------------------------------ lines

/// One chip or bib per line (CR, LF or CRLF) from stdin or a file, as keypads, keyboard wedges
/// and simple readers send them, decoded by the readers' `lines` decoder (empty lines ignored,
/// over-long or non-text lines rejected with a warning).
#[derive(Debug)]
pub struct LineSource {
    /// Where the lines come from.
    pub input: LineInput,
    /// The name reads are recorded under (default: the spec).
    pub name: Option<String>,
}

impl LineSource {
    fn source_name(&self) -> String {
        if let Some(name) = &self.name {
            return name.clone();
        }
        match &self.input {
            LineInput::Stdin => "lines:-".into(),
            LineInput::File(p) => format!("lines:{}", p.display()),
        }
    }
}

fn line_read(source: &str, read: TagRead, sink: &ReadSink) -> RawRead {
    RawRead {
        source: source.to_owned(),
        protocol: "lines".into(),
        chip: read.chip,
        bib: read.bib,
        antenna: None,
        rssi: None,
        reader_time: None,
        host_time: sink.now(),
        clock_offset_ms: None,
        raw: read.raw,
        replay_key: None,
        repeated: false,
        in_order: true,
    }
}

async fn pump_lines(name: String, mut input: impl AsyncRead + Unpin, sink: ReadSink) -> Result<()> {
    let mut decoder = LinesDecoder::new();
    let mut decoded = Vec::new();
    let mut buf = vec![0_u8; 4096];
    loop {
        let n = input.read(&mut buf).await.map_err(|e| CoreError::io(format!("read {name}"), e))?;
        match n {
            0 => decoder.finish(&mut decoded),
            n => decoder.feed(buf.get(..n).unwrap_or_default(), &mut decoded),
        }
        for d in decoded.drain(..) {
            match d {
                Decoded::Read(read) => {
                    if sink.send(line_read(&name, read, &sink)).await.is_err() {
                        return Ok(());
                    }
                }
                Decoded::Rejected(r) => {
                    tracing::warn!(source = %name, reason = %r.reason, "line rejected")
                }
                Decoded::Control(_) => {}
            }
        }
        if n == 0 {
            return Ok(());
        }
    }
}

impl ReadSource for LineSource {
    fn name(&self) -> String {
        self.source_name()
    }

    fn run(self: Box<Self>, sink: ReadSink) -> SourceFuture {
        let name = self.source_name();
        Box::pin(async move {
            match self.input {
                LineInput::Stdin => pump_lines(name, tokio::io::stdin(), sink).await,
                LineInput::File(path) => {
                    let file = tokio::fs::File::open(&path)
                        .await
                        .map_err(|e| CoreError::io(format!("open {}", path.display()), e))?;
                    pump_lines(name, file, sink).await
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_bad_ones_say_why() {
        assert_eq!(
            SourceSpec::parse("sim:runners=500,rate=20").unwrap(),
            SourceSpec::Sim(SimFinish { runners: 500, rate: 20.0, ..SimFinish::default() })
        );
        assert_eq!(SourceSpec::parse("lines:-").unwrap(), SourceSpec::Lines(LineInput::Stdin));
        match SourceSpec::parse("lines:/dev/ttyUSB0?baud=115200").unwrap() {
            SourceSpec::Reader(c) => {
                assert_eq!(c.protocol, timing_readers::Protocol::Lines);
                match &c.link {
                    timing_readers::Link::Serial { path, baud, .. } => {
                        assert_eq!((path.as_str(), *baud), ("/dev/ttyUSB0", 115_200));
                    }
                    other => panic!("a serial link: {other:?}"),
                }
            }
            other => panic!("a serial port carrying lines is a reader: {other:?}"),
        }
        assert_eq!(
            SourceSpec::parse("lines:/tmp/reads.txt").unwrap(),
            SourceSpec::Lines(LineInput::File("/tmp/reads.txt".into()))
        );
        assert!(
            SourceSpec::parse("sim:runners=lots").unwrap_err().to_string().contains("runners=lots")
        );
        assert!(SourceSpec::parse("sim:speed=3").unwrap_err().to_string().contains("speed"));
        assert!(
            SourceSpec::parse("llrp:10.0.0.1").unwrap_err().to_string().contains("unknown source")
        );
    }

    #[test]
    fn the_simulated_finish_is_realistic_and_reproducible() {
        let sim = SimFinish { runners: 200, rate: 10.0, unknown: 0.05, seed: 3 };
        let script = sim.script();
        assert_eq!(script, sim.script(), "same seed, same finish");
        let chips: std::collections::HashSet<_> = script.iter().map(|(_, c)| c.clone()).collect();
        assert_eq!(chips.len(), 200, "one chip per runner");
        assert!(script.len() > 300, "several reads per crossing: {}", script.len());
        assert!(script.windows(2).all(|w| w[0].0 <= w[1].0), "in time order");
        let unknown =
            chips.iter().filter(|c| crate::participants::decode_free_tag(c).is_none()).count();
        assert!((1..=30).contains(&unknown), "some unknown chips: {unknown}");
        let span = script.last().unwrap().0.as_secs_f64();
        assert!((10.0..40.0).contains(&span), "about 200 runners / 10 per s: {span}");
    }
}
