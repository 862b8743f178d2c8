//! Emulated readers for tests, demos and benchmarks: each protocol's reader on a pseudo-terminal
//! (serial readers) or a loopback TCP port (network readers), scriptable and with fault
//! injection, so the supervisor can be driven through unplugs, dropped links and reboots without
//! hardware. Behind the `emulators` cargo feature.
//!
//! * [`Emulator::pty`] creates a pseudo-terminal pair (`serialport::TTYPort::pair`) and gives
//!   the reader a **stable path**: a symlink in a temporary directory pointing at the slave.
//!   "Unplug" closes the master and removes the symlink (opening fails like a vanished USB
//!   device); "replug" makes a new pair and points the symlink at its slave.
//! * [`Emulator::tcp`] listens on `127.0.0.1`, port 0 (an IPICO with `ipico_elite` also on a
//!   control and a replay port). "Unplug" closes the listener and the connection; "replug"
//!   listens on the same port again; [`Emulator::drop_link`] only cuts the connection.
//! * The emulated reader keeps a memory of every read it made — also while unplugged or
//!   rebooting — and answers the protocol's commands: clock get/set, start/stop, rewinds (Ultra
//!   by log id or time, RACE RESULT by passing number, CloudBox by time, Timy `RSM`, IPICO Elite
//!   replay), inventory polls (R2000, Chafon).
//! * [`Faults`] split frames at random points, put garbage between frames, insert frames with
//!   bad checksums, double frames, and drop the link after N frames.
//! * [`EmulatorOptions`] set the reader's clock (`skew` from the host, applied to every protocol
//!   with a clock, and its zone) and a slow link (`link_delay`: every byte reaches the host that
//!   long after the reader sent it, a backlog draining in order, so reader times lag arrival).
//! * [`Emulator::restart_numbering`] makes the reader number from 1 again (a CloudBox session or
//!   file, an Ultra log after a reset, a RACE RESULT file, Timy impulse numbers): later reads
//!   reuse numbers of the earlier run with new times, and their
//!   [`EmittedRead::replay_key`] is still what the supervisor reports.
//! * [`sample_stream`] makes a valid byte stream of any length for benchmarks.
//!
//! Each protocol's reader model is its own [`Emulation`] in its folder
//! (`src/<protocol>/emulation.rs`; the plain-lines device in [`lines`]), made through the
//! registry; what several of them share (the seeded [`Rng`], reader clock, read log, command
//! log, text-command splitting) is in [`shared`].
//!
//! Creating pseudo-terminal pairs is serialised inside this module (the call is not
//! thread-safe); tests that create several emulators may still want a lock of their own.

mod emulation;
pub(crate) mod lines;
pub(crate) mod shared;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeDelta, Utc};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::{JoinHandle, JoinSet};

use crate::clock::SharedClock;
use crate::config::{EliteReplay, Link, ReaderConfig};
use crate::transport::{ByteSink, ByteSource, Chunk, TransportError};
use crate::{Protocol, ReaderZone, transport};
pub(crate) use emulation::{DeviceOptions, Emulation, Outgoing};
pub(crate) use shared::Rng;

/// How an emulated reader behaves.
#[derive(Debug, Clone)]
pub struct EmulatorOptions {
    /// The host clock the reader's clock follows.
    pub clock: SharedClock,
    /// Reader clock minus host clock.
    pub skew: TimeDelta,
    /// The reader's local zone (its clock shows UTC + this).
    pub utc_offset: FixedOffset,
    /// A named zone the reader's clock follows instead, DST included (`None`: `utc_offset`).
    pub zone: Option<ReaderZone>,
    /// Seed for fault injection.
    pub seed: u64,
    /// Keepalive interval for protocols that have one (Ultra `V=`); `None` = none.
    pub keepalive: Option<Duration>,
    /// Timy: append the checksum to impulse lines (as after `CHK1`).
    pub timy_checksum: bool,
    /// IPICO on TCP: also serve the Elite control and replay ports.
    pub ipico_elite: bool,
    /// A slow link: everything the reader sends (reads, replies, keepalives) reaches the host
    /// this long after it was sent, in order. `None` = at once. Bytes still on their way when
    /// the link is cut are lost (the reader's memory keeps the reads).
    pub link_delay: Option<Duration>,
}

impl EmulatorOptions {
    /// A reader whose clock agrees with `clock`, in UTC, with a 2 s Ultra keepalive.
    pub fn new(clock: SharedClock) -> Self {
        EmulatorOptions {
            clock,
            skew: TimeDelta::zero(),
            utc_offset: chrono::Offset::fix(&Utc),
            zone: None,
            seed: 1,
            keepalive: Some(Duration::from_secs(2)),
            timy_checksum: false,
            ipico_elite: false,
            link_delay: None,
        }
    }
}

/// Faults applied to the frames that carry reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Faults {
    /// Write each frame in random pieces with short pauses between them.
    pub split: bool,
    /// Put protocol-specific garbage before about half of the frames.
    pub garbage: bool,
    /// Before every Nth frame, send a damaged copy (bad checksum, or a malformed field where the
    /// protocol has no checksum).
    pub bad_checksum_every: Option<usize>,
    /// Send every Nth frame twice.
    pub double_every: Option<usize>,
    /// Drop the link after this many frames (once; TCP: the connection, pty: a quick
    /// unplug/replug).
    pub drop_after: Option<usize>,
}

/// A read the emulated reader made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmittedRead {
    /// Chip as the supervisor will report it (empty for Timy impulses).
    pub chip: String,
    /// The reader's time of the read, UTC, at the protocol's resolution (`None` for readers
    /// without a clock).
    pub reader_time_utc: Option<DateTime<Utc>>,
    /// The replay key text the supervisor will report.
    pub replay_key: Option<String>,
    /// Sent (or queued for the next poll) when it was made; false while unplugged or not reading:
    /// then only a rewind can bring it.
    pub live: bool,
    /// Connections the reader had accepted when it made the read (see
    /// [`EmulatorStats::connections`]).
    pub connections: u64,
}

impl EmittedRead {
    /// What identifies the read in the supervisor's output: the replay key, else the chip.
    pub fn identity(&self) -> String {
        self.replay_key.clone().unwrap_or_else(|| self.chip.clone())
    }
}

/// Counters of an emulated reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmulatorStats {
    /// Connections accepted (TCP) or pairs opened (pty).
    pub connections: u64,
    /// Read-carrying frames sent.
    pub frames_sent: u64,
    /// The last commands received, oldest first.
    pub commands: Vec<String>,
    /// The port is there (not unplugged).
    pub plugged: bool,
    /// A client is connected (TCP) / the master is open (pty).
    pub connected: bool,
    /// Reading / started / pushing.
    pub sending: bool,
}

/// A valid byte stream of `reads` reads of `protocol`, as the reader would send it (with
/// keepalives, inventory rounds, …), reproducible from `seed`: for benchmarks and fuzz seeds.
pub fn sample_stream(protocol: Protocol, reads: usize, seed: u64) -> Vec<u8> {
    protocol.emulation(&DeviceOptions::utc()).sample(reads, seed)
}

#[derive(Debug)]
enum Control {
    Emit { chip: Option<String>, reply: oneshot::Sender<EmittedRead> },
    Faults(Faults, oneshot::Sender<()>),
    Unplug(oneshot::Sender<()>),
    Replug(oneshot::Sender<std::io::Result<()>>),
    DropLink(oneshot::Sender<()>),
    SendRaw(Vec<u8>, oneshot::Sender<()>),
    Stats(oneshot::Sender<EmulatorStats>),
    RestartNumbering(oneshot::Sender<u64>),
}

/// Where the emulator is reached.
#[derive(Debug)]
enum Place {
    #[cfg(unix)]
    Pty {
        path: PathBuf,
        _dir: tempfile::TempDir,
    },
    Tcp {
        port: u16,
        elite: Option<EliteReplay>,
    },
}

/// A running emulated reader. Dropping it stops it.
#[derive(Debug)]
pub struct Emulator {
    protocol: Protocol,
    zone: ReaderZone,
    place: Place,
    control: mpsc::Sender<Control>,
    task: JoinHandle<()>,
}

/// `TTYPort::pair` is not thread-safe.
#[cfg(unix)]
static PAIR_LOCK: Mutex<()> = Mutex::new(());

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Emulator {
    /// A serial reader on a new pseudo-terminal, reached through [`Emulator::path`].
    #[cfg(unix)]
    pub async fn pty(protocol: Protocol, options: EmulatorOptions) -> std::io::Result<Emulator> {
        let dir = tempfile::Builder::new().prefix("timing-emulator-").tempdir()?;
        let path = dir.path().join(format!("tty-{protocol}"));
        let mut task = Task::new(protocol, &options, Wire::Pty { link: path.clone(), slave: None });
        task.plug().await?;
        Ok(Emulator::start(protocol, &options, Place::Pty { path, _dir: dir }, task))
    }

    /// A network reader on `127.0.0.1`, an ephemeral port.
    pub async fn tcp(protocol: Protocol, options: EmulatorOptions) -> std::io::Result<Emulator> {
        let listener = listen(0)?;
        let port = listener.local_addr()?.port();
        let elite = if options.ipico_elite && protocol == Protocol::Ipico {
            let control = listen(0)?;
            let replay = listen(0)?;
            Some((control, replay))
        } else {
            None
        };
        let ports = match &elite {
            Some((control, replay)) => Some(EliteReplay {
                control_port: control.local_addr()?.port(),
                replay_port: replay.local_addr()?.port(),
            }),
            None => None,
        };
        let mut task = Task::new(
            protocol,
            &options,
            Wire::Tcp { port, listener: Some(listener), elite_ports: ports, elite_tasks: None },
        );
        if let Some((control, replay)) = elite {
            task.start_elite(control, replay);
        }
        Ok(Emulator::start(protocol, &options, Place::Tcp { port, elite: ports }, task))
    }

    fn start(protocol: Protocol, options: &EmulatorOptions, place: Place, task: Task) -> Emulator {
        let (control, controls) = mpsc::channel(16);
        let task = tokio::spawn(task.run(controls));
        let zone = options.zone.unwrap_or(ReaderZone::Fixed(options.utc_offset));
        Emulator { protocol, zone, place, control, task }
    }

    /// The protocol.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// The stable path of a pty emulator.
    pub fn path(&self) -> Option<&Path> {
        match &self.place {
            #[cfg(unix)]
            Place::Pty { path, .. } => Some(path),
            Place::Tcp { .. } => None,
        }
    }

    /// The TCP port of a TCP emulator.
    pub fn port(&self) -> Option<u16> {
        match &self.place {
            Place::Tcp { port, .. } => Some(*port),
            #[cfg(unix)]
            Place::Pty { .. } => None,
        }
    }

    /// How to reach it.
    pub fn link(&self) -> Link {
        match &self.place {
            #[cfg(unix)]
            Place::Pty { path, .. } => Link::serial(path.to_string_lossy(), self.protocol),
            Place::Tcp { port, .. } => Link::tcp("127.0.0.1", *port),
        }
    }

    /// A reader configuration that reaches it (zone and Elite ports filled in).
    pub fn config(&self) -> ReaderConfig {
        let mut config = ReaderConfig::new(self.protocol, self.link());
        config.reader_zone = Some(self.zone);
        if let Place::Tcp { elite: Some(ports), .. } = &self.place {
            config.ipico_elite = Some(*ports);
        }
        config
    }

    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Control) -> Option<T> {
        let (reply, answer) = oneshot::channel();
        self.control.send(make(reply)).await.ok()?;
        answer.await.ok()
    }

    /// The reader sees a chip (a generated one, unique per emulator).
    pub async fn emit(&self) -> EmittedRead {
        self.emit_read(None).await
    }

    /// The reader sees `chip` (it must be valid for the protocol: 12 hex digits for IPICO, hex
    /// EPCs for R2000 / Chafon / CloudBox).
    pub async fn emit_chip(&self, chip: &str) -> EmittedRead {
        self.emit_read(Some(chip.to_string())).await
    }

    async fn emit_read(&self, chip: Option<String>) -> EmittedRead {
        let fallback = EmittedRead {
            chip: String::new(),
            reader_time_utc: None,
            replay_key: None,
            live: false,
            connections: 0,
        };
        self.ask(|reply| Control::Emit { chip, reply }).await.unwrap_or(fallback)
    }

    /// `n` reads, one every `every`.
    pub async fn emit_many(&self, n: usize, every: Duration) -> Vec<EmittedRead> {
        let mut reads = Vec::with_capacity(n);
        for i in 0..n {
            if i > 0 && !every.is_zero() {
                tokio::time::sleep(every).await;
            }
            reads.push(self.emit().await);
        }
        reads
    }

    /// Sets the faults applied from now on.
    pub async fn set_faults(&self, faults: Faults) {
        let _ = self.ask(|reply| Control::Faults(faults, reply)).await;
    }

    /// Pulls the cable: the port disappears (pty) / stops listening (TCP). The reader goes on
    /// reading into its memory.
    pub async fn unplug(&self) {
        let _ = self.ask(Control::Unplug).await;
    }

    /// Puts the cable back: same path / same port.
    pub async fn replug(&self) -> std::io::Result<()> {
        self.ask(Control::Replug)
            .await
            .unwrap_or_else(|| Err(std::io::Error::other("emulator stopped")))
    }

    /// Cuts the current connection (TCP; the port stays open) or the pty (unplug + replug).
    pub async fn drop_link(&self) {
        let _ = self.ask(Control::DropLink).await;
    }

    /// Reboots: the link is down for `down_for`, the reader's memory survives.
    pub async fn reboot(&self, down_for: Duration) -> std::io::Result<()> {
        self.unplug().await;
        tokio::time::sleep(down_for).await;
        self.replug().await
    }

    /// The reader starts numbering again: CloudBox a new session / file (passing numbers from 1),
    /// Ultra a new log (log ids from 1, as after a reset), RACE RESULT a new file, Timy impulse
    /// numbers from 1; IPICO, R2000, Chafon and lines number nothing and carry on. Later reads
    /// reuse the numbers of the earlier run, with new times (and new generated chips). The link
    /// stays up and the memory keeps the earlier run. Returns the connections accepted so far
    /// (see [`EmulatorStats::connections`]).
    pub async fn restart_numbering(&self) -> u64 {
        self.ask(Control::RestartNumbering).await.unwrap_or(0)
    }

    /// Writes raw bytes on the link (to test the supervisor with arbitrary input).
    pub async fn send_raw(&self, bytes: &[u8]) {
        let bytes = bytes.to_vec();
        let _ = self.ask(|reply| Control::SendRaw(bytes, reply)).await;
    }

    /// Counters and the commands received.
    pub async fn stats(&self) -> EmulatorStats {
        self.ask(Control::Stats).await.unwrap_or(EmulatorStats {
            connections: 0,
            frames_sent: 0,
            commands: Vec::new(),
            plugged: false,
            connected: false,
            sending: false,
        })
    }

    /// Stops the emulator and closes its ports.
    pub async fn shutdown(self) {
        let Emulator { control, task, place, .. } = self;
        drop(control);
        let _ = task.await;
        drop(place);
    }
}

fn listen(port: u16) -> std::io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(std::net::SocketAddr::from(([127, 0, 0, 1], port)))?;
    socket.listen(16)
}

/// The link of the emulated reader.
#[derive(Debug)]
enum Wire {
    /// Pseudo-terminal: the stable symlink and the slave end we keep open (so the master never
    /// sees "no slave").
    #[cfg(unix)]
    Pty { link: PathBuf, slave: Option<serialport::TTYPort> },
    /// TCP.
    Tcp {
        port: u16,
        listener: Option<TcpListener>,
        elite_ports: Option<EliteReplay>,
        elite_tasks: Option<(JoinHandle<()>, JoinHandle<()>)>,
    },
}

#[derive(Debug)]
struct Conn {
    source: ByteSource,
    sink: ByteSink,
}

struct Task {
    device: Arc<Mutex<Box<dyn Emulation>>>,
    clock: SharedClock,
    rng: Rng,
    faults: Faults,
    frames_sent: u64,
    connections: u64,
    keepalive: Option<Duration>,
    wire: Wire,
    conn: Option<Conn>,
    plugged: bool,
    /// `link_delay`, when not zero.
    link_delay: Option<Duration>,
    /// Bytes on their way over a slow link, with when (host monotonic) they arrive; in order.
    in_flight: std::collections::VecDeque<(Duration, Vec<u8>)>,
}

impl std::fmt::Debug for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Task").field("wire", &self.wire).finish_non_exhaustive()
    }
}

impl Task {
    fn new(protocol: Protocol, options: &EmulatorOptions, wire: Wire) -> Self {
        let device = protocol.emulation(&DeviceOptions {
            skew: options.skew,
            utc_offset: options.utc_offset,
            zone: options.zone,
            timy_checksum: options.timy_checksum,
        });
        Task {
            keepalive: options
                .keepalive
                .filter(|interval| !interval.is_zero() && device.has_keepalive()),
            device: Arc::new(Mutex::new(device)),
            clock: options.clock.clone(),
            rng: Rng::new(options.seed),
            faults: Faults::default(),
            frames_sent: 0,
            connections: 0,
            wire,
            conn: None,
            plugged: true,
            link_delay: options.link_delay.filter(|delay| !delay.is_zero()),
            in_flight: std::collections::VecDeque::new(),
        }
    }

    async fn run(mut self, mut controls: mpsc::Receiver<Control>) {
        let mut keepalive =
            tokio::time::interval(self.keepalive.unwrap_or(Duration::from_secs(3600)));
        keepalive.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let listener = match &self.wire {
                Wire::Tcp { listener, .. } => listener.as_ref(),
                #[cfg(unix)]
                Wire::Pty { .. } => None,
            };
            tokio::select! {
                control = controls.recv() => match control {
                    Some(control) => self.on_control(control).await,
                    None => break,
                },
                accepted = accept(listener) => {
                    if let Ok(stream) = accepted {
                        self.connected(stream).await;
                    }
                }
                chunk = recv(&mut self.conn) => match chunk {
                    Ok(chunk) => self.on_input(&chunk).await,
                    Err(_) => self.close_conn().await,
                },
                _ = keepalive.tick(), if self.keepalive.is_some() => {
                    let line = lock(&self.device).keepalive(self.clock.now());
                    if let Some(line) = line {
                        self.write(&line).await;
                    }
                }
                () = arrival(self.in_flight.front().map(|(due, _)| *due), &self.clock) => {
                    self.deliver_arrived().await;
                }
            }
        }
        self.unplug().await;
    }

    async fn connected(&mut self, stream: TcpStream) {
        self.close_conn().await;
        let (source, sink) =
            transport::tcp::from_stream(stream, "emulator client".into(), self.clock.clone())
                .split();
        self.conn = Some(Conn { source, sink });
        self.connections += 1;
        let greeting = lock(&self.device).greeting(self.clock.now());
        if !greeting.is_empty() {
            self.write(&greeting).await;
        }
    }

    async fn close_conn(&mut self) {
        self.in_flight.clear();
        if let Some(Conn { source, sink }) = self.conn.take() {
            drop(sink);
            source.close().await;
            lock(&self.device).disconnected();
        }
    }

    async fn on_input(&mut self, chunk: &Chunk) {
        let now = self.clock.now();
        let replies = lock(&self.device).on_input(&chunk.bytes, now);
        self.send(replies).await;
    }

    async fn on_control(&mut self, control: Control) {
        match control {
            Control::Emit { chip, reply } => {
                let now = self.clock.now();
                let linked = self.conn.is_some();
                let (mut read, frame) = lock(&self.device).make_read(now, chip, linked);
                read.connections = self.connections;
                if !frame.is_empty() {
                    self.send(vec![Outgoing::Frame(frame)]).await;
                }
                let _ = reply.send(read);
            }
            Control::Faults(faults, reply) => {
                self.faults = faults;
                let _ = reply.send(());
            }
            Control::Unplug(reply) => {
                self.unplug().await;
                let _ = reply.send(());
            }
            Control::Replug(reply) => {
                let result = self.plug().await;
                let _ = reply.send(result);
            }
            Control::DropLink(reply) => {
                self.drop_link().await;
                let _ = reply.send(());
            }
            Control::SendRaw(bytes, reply) => {
                self.write(&bytes).await;
                let _ = reply.send(());
            }
            Control::RestartNumbering(reply) => {
                lock(&self.device).restart_numbering();
                let _ = reply.send(self.connections);
            }
            Control::Stats(reply) => {
                let device = lock(&self.device);
                let stats = EmulatorStats {
                    connections: self.connections,
                    frames_sent: self.frames_sent,
                    commands: device.commands(),
                    plugged: self.plugged,
                    connected: self.conn.is_some(),
                    sending: device.sending(),
                };
                drop(device);
                let _ = reply.send(stats);
            }
        }
    }

    async fn drop_link(&mut self) {
        match &self.wire {
            Wire::Tcp { .. } => self.close_conn().await,
            #[cfg(unix)]
            Wire::Pty { .. } => {
                self.unplug().await;
                if let Err(e) = self.plug().await {
                    tracing::warn!(error = %e, "emulator could not replug");
                }
            }
        }
    }

    /// Sends what the device produced, with the faults applied to read-carrying frames.
    async fn send(&mut self, outgoing: Vec<Outgoing>) {
        for item in outgoing {
            match item {
                Outgoing::Reply(bytes) => self.write(&bytes).await,
                Outgoing::Frame(frame) => {
                    let mut bytes = Vec::new();
                    let (garbage, corrupt) = {
                        let device = lock(&self.device);
                        let garbage = (self.faults.garbage && self.rng.chance(50))
                            .then(|| device.garbage(&mut self.rng));
                        (garbage, device.corrupt(&frame))
                    };
                    self.frames_sent += 1;
                    let nth = |every: Option<usize>, n: u64| {
                        every.is_some_and(|e| {
                            e > 0 && n.is_multiple_of(u64::try_from(e).unwrap_or(1))
                        })
                    };
                    bytes.extend(garbage.unwrap_or_default());
                    if nth(self.faults.bad_checksum_every, self.frames_sent) {
                        bytes.extend_from_slice(&corrupt);
                    }
                    bytes.extend_from_slice(&frame);
                    if nth(self.faults.double_every, self.frames_sent) {
                        bytes.extend_from_slice(&frame);
                    }
                    self.write(&bytes).await;
                    let drop_now = self
                        .faults
                        .drop_after
                        .is_some_and(|n| u64::try_from(n).is_ok_and(|n| n == self.frames_sent));
                    if drop_now {
                        self.faults.drop_after = None;
                        self.drop_link().await;
                    }
                }
            }
        }
    }

    /// Writes on the link, or puts the bytes on their way over a slow link.
    async fn write(&mut self, bytes: &[u8]) {
        if bytes.is_empty() || self.conn.is_none() {
            return;
        }
        match self.link_delay {
            Some(delay) => {
                let due = self.clock.monotonic().saturating_add(delay);
                self.in_flight.push_back((due, bytes.to_vec()));
            }
            None => self.write_now(bytes).await,
        }
    }

    /// Writes what a slow link has carried to the host by now, in order.
    async fn deliver_arrived(&mut self) {
        let now = self.clock.monotonic();
        while self.in_flight.front().is_some_and(|(due, _)| *due <= now) {
            if let Some((_, bytes)) = self.in_flight.pop_front() {
                self.write_now(&bytes).await;
            }
        }
    }

    /// Writes on the link (in random pieces when splitting); a failed write drops the link.
    async fn write_now(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let pieces: Vec<&[u8]> = if self.faults.split {
            let mut pieces = Vec::new();
            let mut rest = bytes;
            while !rest.is_empty() {
                let take = usize::try_from(1 + self.rng.below(12)).unwrap_or(1).min(rest.len());
                let (piece, after) = rest.split_at(take);
                pieces.push(piece);
                rest = after;
            }
            pieces
        } else {
            vec![bytes]
        };
        let count = pieces.len();
        for (i, piece) in pieces.into_iter().enumerate() {
            let Some(conn) = self.conn.as_mut() else { return };
            if conn.sink.send(piece).await.is_err() {
                self.close_conn().await;
                return;
            }
            if i + 1 < count {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
    }

    async fn unplug(&mut self) {
        self.close_conn().await;
        self.plugged = false;
        match &mut self.wire {
            Wire::Tcp { listener, elite_tasks, .. } => {
                *listener = None;
                if let Some((control, replay)) = elite_tasks.take() {
                    control.abort();
                    replay.abort();
                    let _ = control.await;
                    let _ = replay.await;
                }
            }
            #[cfg(unix)]
            Wire::Pty { link, slave } => {
                *slave = None;
                let _ = std::fs::remove_file(&*link);
            }
        }
    }

    async fn plug(&mut self) -> std::io::Result<()> {
        if self.plugged && self.conn.is_some() {
            return Ok(());
        }
        match &mut self.wire {
            Wire::Tcp { port, listener, elite_ports, elite_tasks } => {
                if listener.is_none() {
                    *listener = Some(listen(*port)?);
                }
                if let (Some(ports), None) = (*elite_ports, elite_tasks.as_ref()) {
                    let control = listen(ports.control_port)?;
                    let replay = listen(ports.replay_port)?;
                    self.start_elite(control, replay);
                }
            }
            #[cfg(unix)]
            Wire::Pty { link, slave } => {
                use serialport::SerialPort as _;
                let (mut master, new_slave) = {
                    let _guard = lock(&PAIR_LOCK);
                    serialport::TTYPort::pair().map_err(std::io::Error::other)?
                };
                let slave_path = new_slave
                    .name()
                    .ok_or_else(|| std::io::Error::other("pseudo-terminal without a name"))?;
                master
                    .set_timeout(transport::SERIAL_READ_TIMEOUT)
                    .map_err(std::io::Error::other)?;
                let fresh = link.with_extension("new");
                let _ = std::fs::remove_file(&fresh);
                std::os::unix::fs::symlink(&slave_path, &fresh)?;
                std::fs::rename(&fresh, &*link)?;
                *slave = Some(new_slave);
                let (source, sink) =
                    transport::serial::bridge(Box::new(master), slave_path, self.clock.clone())
                        .map_err(std::io::Error::other)?
                        .split();
                self.conn = Some(Conn { source, sink });
                self.connections += 1;
            }
        }
        self.plugged = true;
        Ok(())
    }

    fn start_elite(&mut self, control: TcpListener, replay: TcpListener) {
        if let Wire::Tcp { elite_tasks, .. } = &mut self.wire {
            let control =
                tokio::spawn(elite_control(control, Arc::clone(&self.device), self.clock.clone()));
            let replay = tokio::spawn(elite_replay(replay, Arc::clone(&self.device)));
            *elite_tasks = Some((control, replay));
        }
    }
}

/// Waits until `due` (host monotonic) has come; never when there is nothing on its way.
async fn arrival(due: Option<Duration>, clock: &SharedClock) {
    match due {
        Some(due) => tokio::time::sleep(due.saturating_sub(clock.monotonic())).await,
        None => std::future::pending().await,
    }
}

async fn accept(listener: Option<&TcpListener>) -> std::io::Result<TcpStream> {
    match listener {
        Some(listener) => listener.accept().await.map(|(stream, _)| stream),
        None => std::future::pending().await,
    }
}

async fn recv(conn: &mut Option<Conn>) -> Result<Chunk, TransportError> {
    match conn {
        Some(conn) => conn.source.recv().await,
        None => std::future::pending().await,
    }
}

/// IPICO Elite control port: text commands, one per line.
async fn elite_control(
    listener: TcpListener,
    device: Arc<Mutex<Box<dyn Emulation>>>,
    clock: SharedClock,
) {
    let mut clients = JoinSet::new();
    while let Ok((stream, _)) = listener.accept().await {
        let device = Arc::clone(&device);
        let clock = clock.clone();
        clients.spawn(async move {
            let (read, mut write) = stream.into_split();
            let mut lines = BufReader::new(read);
            let mut line = Vec::new();
            while let Ok(n) = lines.read_until(b'\n', &mut line).await {
                if n == 0 {
                    break;
                }
                let reply = lock(&device).elite_control(&line, clock.now());
                line.clear();
                if let Some(reply) = reply
                    && write.write_all(&reply).await.is_err()
                {
                    break;
                }
            }
        });
    }
}

/// IPICO Elite replay port: on each connection, the replay asked for on the control port.
async fn elite_replay(listener: TcpListener, device: Arc<Mutex<Box<dyn Emulation>>>) {
    while let Ok((mut stream, _)) = listener.accept().await {
        let mut from: Option<Option<NaiveDateTime>> = None;
        for _ in 0..100 {
            from = lock(&device).take_pending_replay();
            if from.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if let Some(from) = from {
            let bytes = lock(&device).elite_replay(from);
            let _ = stream.write_all(&bytes).await;
        }
        let _ = stream.shutdown().await;
    }
}
