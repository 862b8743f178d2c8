//! One task per reader that keeps it connected and turns its bytes into time-stamped reads: the
//! [`ReaderSupervisor`]. It connects (serial or TCP), speaks the protocol's opening (clock query,
//! start, rewind of what it missed), decodes, stamps every read with the host receive time and
//! the reader's time in UTC, flags rewound and doubled reads, and sends them on a channel. When the
//! link fails — unplugged cable, EOF, read error, a reader that rebooted or stopped answering —
//! it reconnects with back-off and asks the reader for what it stored meanwhile.
//!
//! It knows nothing of sessions or storage: the engine takes [`StampedRead`]s from the channel and
//! de-duplicates persistently by [`StampedRead::replay_key`].
//!
//! Invariants:
//! * **Never panics, never gives up on its own.** Every failure becomes a state
//!   ([`ReaderState::Lost`]) and a `last_error`, then a reconnect. The task ends only on
//!   [`ReaderHandle::shutdown`], when the handle is dropped, or when the reads channel is closed.
//! * **Reconnect bound.** Waits between attempts grow from `backoff.min` (100 ms) to
//!   `backoff.max` (1 s), so a link that returns is open again within about a second (tests
//!   assert < 2 s).
//! * **A replugged port is given time to settle.** While it waits, the supervisor of a serial
//!   reader looks for its port every [`PRESENCE_POLL`](transport::PRESENCE_POLL). A port that
//!   was missing (unplugged: [`TransportError::NotFound`], or gone during the wait) and is back
//!   ends the wait, and is opened [`REPLUG_SETTLE`](transport::REPLUG_SETTLE) (500 ms) after it
//!   was seen: udev sets the node's group and mode, and the driver gets ready, a moment after the
//!   node appears. If that first open fails all the same, it is tried again after another
//!   `REPLUG_SETTLE`; that failure is logged, not put in `last_error`, and is no back-off step.
//! * **`last_error` is for people.** It is the failure's `Display`: for a port the OS refuses
//!   to open, the fix ([`TransportError::PermissionDenied`]: "add yourself to the `dialout`
//!   group …", "COM3 is in use by another program …").
//! * **Each read delivered; repeats flagged.** Every read decoded is delivered — raw reads are
//!   never thrown away. One whose replay key was already delivered by this supervisor (a rewind
//!   bringing it again, a doubled frame, the resume point's own read; the last
//!   [`DELIVERED_KEYS`] keys are remembered) comes with [`StampedRead::repeated`] set and counts
//!   in `counters.duplicates`, not `counters.reads`; the engine stores it flagged duplicate.
//!   Replay keys name the reader's numbering run (see `replay.rs`), so a reader that numbers
//!   from 1 again makes new keys, not repeats. Reads without a key (R2000, Chafon, keyboard
//!   lines) are never repeats.
//! * **Time is adjusted in one place.** [`ReaderConfig::adjust_ms`] (changed live with
//!   [`ReaderHandle::set_adjustment`], no reconnect) is added in `deliver`, after the clock offset
//!   was measured from the read's own time, to the read's passing time: `reader_time_utc` where
//!   the reader has a clock, else `host_time`. [`StampedRead::adjustment_ms`] says how much.
//! * **Bounded memory.** Status counters, the frame log, the rate meter and the key memory all
//!   have fixed caps; the reads channel applies back-pressure rather than buffering.

pub(crate) mod conversation;
pub(crate) mod numbering;
pub(crate) mod polling;
mod reader_clock;
mod status;

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::clock::SharedClock;
use crate::config::{EliteReplay, Link, ReaderConfig};
use crate::transport::{self, ByteSink, ByteSource, Chunk, Connection, TransportError};
pub use crate::ultra::conversation::ULTRA_WITNESS_WAIT;
use crate::{Decoded, Decoder, Protocol, ReaderZone, TagRead, ipico};
use conversation::{Conversation, Out, Unsupported};
use reader_clock::ReaderClock;
use status::{DeliveredKeys, FrameLog, RateMeter};

pub use reader_clock::{OffsetSource, local_to_utc, time_of_day_to_utc, utc_to_local};
pub use status::{
    Counters, DELIVERED_KEYS, Direction, FRAME_HEX_BYTES, FrameRecord, LAST_REJECTED,
    RATE_HISTORY_LEN, RATE_HISTORY_STEP, RATE_WINDOW, RECENT_FRAMES, ReaderSetting, ReaderState,
    ReaderStatus, RejectedFrame, hex,
};

/// How often the supervisor checks for quiet links, idle decoders and due polls.
const TICK: Duration = Duration::from_millis(50);
/// No bytes for this long: the decoder may give up on an incomplete frame.
const IDLE_AFTER: Duration = Duration::from_millis(100);
/// A connection that lived this long (or carried bytes) resets the back-off.
const STABLE_AFTER: Duration = Duration::from_secs(2);
/// An IPICO Elite replay stream that sends nothing for this long is finished.
const REPLAY_IDLE: Duration = Duration::from_secs(3);
/// Shortest quiet period and back-off honoured (smaller configured values are raised to these).
const MIN_QUIET: Duration = Duration::from_millis(100);
const MIN_BACKOFF: Duration = Duration::from_millis(10);
/// Longest frame summary, in characters.
const SUMMARY_CHARS: usize = 160;
/// Pause between `replay_start` on the control port and connecting to the replay port.
const REPLAY_SETTLE: Duration = Duration::from_millis(100);

/// A read as the supervisor delivers it: what the reader said, when the host received it, and the
/// reader's time in UTC.
#[derive(Debug, Clone, PartialEq)]
pub struct StampedRead {
    /// The decoded read, with its raw bytes.
    pub read: TagRead,
    /// Host UTC time when the bytes that completed the read arrived (injected clock).
    pub host_time: DateTime<Utc>,
    /// The reader's timestamp in UTC (the reader's zone applied; a time of day put on the
    /// nearest day; the adjustment added). `None` for readers without a clock (Chafon, R2000,
    /// lines): the engine uses `host_time`, to which the adjustment was added instead.
    pub reader_time_utc: Option<DateTime<Utc>>,
    /// The adjustment ([`ReaderConfig::adjust_ms`]) added to the passing time above.
    pub adjustment_ms: i64,
    /// The connection's reader-minus-host clock offset when the read arrived.
    pub clock_offset_ms: Option<i64>,
    /// The reader's name or spec ([`ReaderConfig::source`]).
    pub source: String,
    /// The reader's protocol.
    pub protocol: Protocol,
    /// The stable text form of the read's [`ReplayKey`](crate::ReplayKey): unique per reader and
    /// read (numbering runs included), the same when the read is rewound or the console restarts.
    pub replay_key: Option<String>,
    /// The supervisor already delivered a read with this replay key (or was told the engine
    /// holds it: the resume point): a rewound or doubled read. It is delivered anyway, for the
    /// engine to store flagged duplicate; it makes no passing.
    pub repeated: bool,
    /// Every earlier read of this reader had been delivered when this one was: no rewind or
    /// replay was still catching up. A console that restarts resumes after the last such read
    /// it holds (a live read that overtook an unfinished IPICO Elite replay is not one).
    pub in_order: bool,
}

impl StampedRead {
    /// A read as delivered live at `host_time` by a reader without a clock or numbering
    /// (tests, benchmarks); set the other fields as needed.
    pub fn live(
        source: impl Into<String>,
        protocol: Protocol,
        read: TagRead,
        host_time: DateTime<Utc>,
    ) -> Self {
        StampedRead {
            read,
            host_time,
            reader_time_utc: None,
            adjustment_ms: 0,
            clock_offset_ms: None,
            source: source.into(),
            protocol,
            replay_key: None,
            repeated: false,
            in_order: true,
        }
    }
}

/// Why a command to a reader did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// The protocol has no such command.
    #[error("{protocol} readers have no {command} command")]
    Unsupported {
        /// The reader's protocol.
        protocol: Protocol,
        /// `start`, `stop`, `set_clock` or `rewind`.
        command: &'static str,
    },
    /// The reader is not connected now.
    #[error("the reader is not connected")]
    NotConnected,
    /// Writing the command failed (the link is being re-established).
    #[error("sending the command failed: {0}")]
    Link(String),
    /// The supervisor has ended.
    #[error("the reader's supervisor has stopped")]
    Stopped,
    /// An adjustment beyond ±[`MAX_ADJUST_MS`](crate::MAX_ADJUST_MS).
    #[error("an adjustment of {0} ms is more than an hour: set the reader's zone or clock instead")]
    BadAdjustment(i64),
}

#[derive(Debug, Clone, Copy)]
enum Command {
    Start,
    Stop,
    SetClock(DateTime<Utc>),
    Rewind { from: DateTime<Utc>, to: DateTime<Utc> },
    SetAdjustment(i64),
    Shutdown,
}

impl Command {
    fn name(self) -> &'static str {
        match self {
            Command::Start => "start",
            Command::Stop => "stop",
            Command::SetClock(_) => "set_clock",
            Command::Rewind { .. } => "rewind",
            Command::SetAdjustment(_) => "set_adjustment",
            Command::Shutdown => "shutdown",
        }
    }
}

#[derive(Debug)]
struct Request {
    command: Command,
    reply: oneshot::Sender<Result<(), CommandError>>,
}

/// Control of one supervised reader. Dropping it ends the supervisor (like
/// [`shutdown`](ReaderHandle::shutdown), without waiting).
#[derive(Debug)]
pub struct ReaderHandle {
    status: watch::Receiver<ReaderStatus>,
    commands: mpsc::Sender<Request>,
    /// Set (or dropped) to end the supervisor even while it waits for the reads channel.
    stop: watch::Sender<bool>,
    frames: FrameLog,
    task: Option<JoinHandle<()>>,
}

impl ReaderHandle {
    /// The reader's status, updated as it changes.
    pub fn status(&self) -> watch::Receiver<ReaderStatus> {
        self.status.clone()
    }

    /// The last `n` raw frames received and commands sent (at most [`RECENT_FRAMES`]), oldest
    /// first.
    pub fn recent_frames(&self, n: usize) -> Vec<FrameRecord> {
        self.frames.last(n)
    }

    /// Starts reading (Ultra `R`, RACE RESULT `STARTOPERATION`, CloudBox `START`, polling of
    /// R2000 / Chafon); remembered across reconnects.
    pub async fn start(&self) -> Result<(), CommandError> {
        self.request(Command::Start).await
    }

    /// Stops reading; remembered across reconnects.
    pub async fn stop(&self) -> Result<(), CommandError> {
        self.request(Command::Stop).await
    }

    /// Sets the reader's clock to `at` (in the reader's zone), then measures
    /// the offset again (IPICO, Ultra, RACE RESULT).
    pub async fn set_clock(&self, at: DateTime<Utc>) -> Result<(), CommandError> {
        self.request(Command::SetClock(at)).await
    }

    /// Asks the reader to send again what it stored between `from` and `to`; reads already
    /// delivered come again flagged [`repeated`](StampedRead::repeated) (Ultra by time, RACE RESULT the current file, CloudBox
    /// by time, Timy its whole memory, IPICO Elite from `from` on).
    pub async fn rewind(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<(), CommandError> {
        self.request(Command::Rewind { from, to }).await
    }

    /// Adds `ms` to the passing time of every read delivered from now on (replacing the
    /// adjustment before), without touching the link: capture never stops.
    pub async fn set_adjustment(&self, ms: i64) -> Result<(), CommandError> {
        if ms.abs() > crate::MAX_ADJUST_MS {
            return Err(CommandError::BadAdjustment(ms));
        }
        self.request(Command::SetAdjustment(ms)).await
    }

    /// Ends the supervisor once it has delivered what it holds: unlike
    /// [`shutdown`](Self::shutdown), a read waiting for room on the reads channel is still
    /// delivered, and the reads channel closes when the task has ended (so whoever drains it
    /// sees every read). Does not wait for the task.
    pub async fn close(&self) {
        let _ = self.request(Command::Shutdown).await;
    }

    /// Whether the supervisor's task has ended (an input read to its end, a shutdown), so every
    /// read it made is on the reads channel.
    pub fn has_ended(&self) -> bool {
        self.task.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Ends the supervisor: closes the port and waits for the task to finish.
    pub async fn shutdown(mut self) {
        self.stop.send_replace(true);
        let _ = self.request(Command::Shutdown).await;
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    async fn request(&self, command: Command) -> Result<(), CommandError> {
        let (reply, answer) = oneshot::channel();
        self.commands.send(Request { command, reply }).await.map_err(|_| CommandError::Stopped)?;
        answer.await.map_err(|_| CommandError::Stopped)?
    }
}

/// The task that supervises one reader (see the module docs).
#[derive(Debug)]
pub struct ReaderSupervisor {
    config: ReaderConfig,
    source: String,
    clock: SharedClock,
    reads: mpsc::Sender<StampedRead>,
    commands: mpsc::Receiver<Request>,
    stop: watch::Receiver<bool>,
    status_tx: watch::Sender<ReaderStatus>,
    status: ReaderStatus,
    frames: FrameLog,
    driver: Box<dyn Conversation>,
    reader_clock: ReaderClock,
    delivered: DeliveredKeys,
    rate: RateMeter,
    want_reading: bool,
    /// Serial: the port was missing at the last look (a `NotFound` open, or gone while waiting).
    port_absent: bool,
}

/// How a connection ended.
#[derive(Debug)]
enum End {
    Shutdown,
    ReadsClosed,
    Lost(String),
    /// An input that ends reached its end.
    Finished,
}

/// Per-connection state.
#[derive(Debug)]
struct Session {
    decoder: Box<dyn Decoder>,
    last_bytes: Duration,
    idle_fed: bool,
    probed: bool,
    got_bytes: bool,
    side: Option<SideStream>,
}

/// An IPICO Elite replay running beside the main stream.
#[derive(Debug)]
struct SideStream {
    events: mpsc::Receiver<SideEvent>,
    task: JoinHandle<()>,
    decoder: ipico::IpicoDecoder,
    /// Where the replay starts (reader-local; `None` = everything).
    from: Option<NaiveDateTime>,
}

#[derive(Debug)]
enum SideEvent {
    Chunk(Chunk),
    Done(Result<(), String>),
}

impl ReaderSupervisor {
    /// Starts supervising `config`'s reader on the current tokio runtime; reads go to `reads`.
    /// Without a runtime nothing is started and the status says so (state `Stopped`).
    pub fn spawn(
        mut config: ReaderConfig,
        clock: SharedClock,
        reads: mpsc::Sender<StampedRead>,
    ) -> ReaderHandle {
        config.quiet_after = config.quiet_after.max(MIN_QUIET);
        config.backoff.min = config.backoff.min.max(MIN_BACKOFF);
        config.backoff.max = config.backoff.max.max(config.backoff.min);
        let source = config.source();
        // A reader showing local time is read in the computer's zone unless its spec names one
        // (after naming the source: an unnamed reader is labelled with the spec it was given).
        config.reader_zone = Some(config.reader_zone.unwrap_or_else(|| clock.zone()));
        let mut status =
            ReaderStatus::new(source.clone(), config.protocol, config.start_on_connect);
        status.zone = ReaderZone::applies_to(config.protocol).then(|| config.zone());
        status.adjust_ms = config.adjust_ms;
        let (commands_tx, commands) = mpsc::channel(16);
        let (stop_tx, stop) = watch::channel(false);
        let frames = FrameLog::default();
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            status.state = ReaderState::Stopped;
            status.last_error = Some("no tokio runtime to run the reader on".into());
            let (_, status_rx) = watch::channel(status);
            return ReaderHandle {
                status: status_rx,
                commands: commands_tx,
                stop: stop_tx,
                frames,
                task: None,
            };
        };
        let (status_tx, status_rx) = watch::channel(status.clone());
        // The engine already holds the read a previous run stopped at.
        let mut delivered = DeliveredKeys::default();
        if let Some(resume) = &config.resume_after {
            for key in resume.key_texts(config.zone()) {
                delivered.insert(&key);
            }
        }
        let driver = config.protocol.conversation(&config);
        let reader_clock = ReaderClock::new(config.zone()).following(driver.follows_clock());
        let supervisor = ReaderSupervisor {
            source,
            clock,
            reads,
            commands,
            stop,
            status_tx,
            status,
            frames: frames.clone(),
            driver,
            reader_clock,
            delivered,
            rate: RateMeter::default(),
            want_reading: config.start_on_connect,
            port_absent: false,
            config,
        };
        let task = runtime.spawn(supervisor.run());
        ReaderHandle {
            status: status_rx,
            commands: commands_tx,
            stop: stop_tx,
            frames,
            task: Some(task),
        }
    }

    async fn run(mut self) {
        let mut wait = self.config.backoff.min;
        loop {
            self.set_state(ReaderState::Connecting);
            let Some(connected) = self.open_link().await else { return self.finish(None) };
            match connected {
                Ok(connection) => {
                    self.port_absent = false;
                    let started = self.clock.monotonic();
                    let (end, got_bytes) = self.session(connection).await;
                    let lived = self.clock.monotonic().saturating_sub(started);
                    match end {
                        End::Shutdown => return self.finish(None),
                        End::Finished => return self.finished_input(),
                        End::ReadsClosed => {
                            return self.finish(Some("the reads channel was closed".into()));
                        }
                        // An input is read once: a failure part-way ends it rather than
                        // reading it again from its start.
                        End::Lost(why) if self.config.link.is_input() => {
                            return self.finish(Some(why));
                        }
                        End::Lost(why) => {
                            self.lost(why);
                            if got_bytes || lived >= STABLE_AFTER {
                                wait = self.config.backoff.min;
                            }
                        }
                    }
                }
                Err(error) if self.config.link.is_input() => {
                    // A file that is not there is not coming back: say so and end.
                    return self.finish(Some(error.to_string()));
                }
                Err(error) => {
                    self.port_absent = matches!(error, TransportError::NotFound(_));
                    self.lost(error.to_string());
                }
            }
            if !self.pause_before_retry(wait).await {
                return self.finish(None);
            }
            wait = wait.saturating_mul(2).min(self.config.backoff.max).max(self.config.backoff.min);
        }
    }

    fn set_state(&mut self, state: ReaderState) {
        if self.status.state != state {
            tracing::debug!(source = %self.source, ?state, "reader state");
        }
        self.status.state = state;
        self.publish();
    }

    fn publish(&mut self) {
        let status = &self.status;
        self.status_tx.send_if_modified(|current| {
            if current == status {
                false
            } else {
                current.clone_from(status);
                true
            }
        });
    }

    fn lost(&mut self, why: String) {
        tracing::warn!(source = %self.source, error = %why, "reader link lost");
        self.status.last_error = Some(why);
        self.status.connected_since = None;
        self.status.link = None;
        self.set_state(ReaderState::Lost);
    }

    fn finish(&mut self, error: Option<String>) {
        if let Some(error) = error {
            self.status.last_error = Some(error);
        }
        self.status.connected_since = None;
        self.status.link = None;
        self.status.reads_per_sec = 0.0;
        self.set_state(ReaderState::Stopped);
    }

    /// An input read to its end: every read is delivered, nothing more will come.
    fn finished_input(&mut self) {
        tracing::info!(source = %self.source, "input ended");
        self.status.connected_since = None;
        self.status.link = None;
        self.status.reads_per_sec = 0.0;
        self.set_state(ReaderState::Finished);
    }

    /// Answers a request that arrived while not connected; false = shut down.
    fn offline_request(&mut self, request: Option<Request>) -> bool {
        let Some(Request { command, reply }) = request else { return false };
        let result = match command {
            Command::Shutdown => {
                let _ = reply.send(Ok(()));
                return false;
            }
            Command::Start | Command::Stop => {
                // Applied on the next connect (start on connect).
                if self.driver.can_start_stop() {
                    self.want_reading = matches!(command, Command::Start);
                    self.status.reading_wanted = self.want_reading;
                    self.publish();
                    Ok(())
                } else {
                    Err(self.unsupported(command))
                }
            }
            Command::SetAdjustment(ms) => {
                self.set_adjustment(ms);
                Ok(())
            }
            Command::SetClock(_) | Command::Rewind { .. } => Err(CommandError::NotConnected),
        };
        let _ = reply.send(result);
        true
    }

    fn set_adjustment(&mut self, ms: i64) {
        if self.config.adjust_ms != ms {
            tracing::info!(source = %self.source, from = self.config.adjust_ms, to = ms, "reader time adjustment");
        }
        self.config.adjust_ms = ms;
        self.status.adjust_ms = ms;
        self.publish();
    }

    /// Copies the reader clock's measurement into the status, with the hint it calls for.
    fn note_clock(&mut self) {
        self.status.clock_offset_ms = self.reader_clock.offset_ms();
        self.status.clock_offset_source = self.reader_clock.source();
        let zone = self.config.zone();
        self.status.clock_hint = self.status.clock_offset_ms.and_then(|offset| {
            let mut hint = crate::clock_hint(offset, zone, self.clock.zone(), self.clock.now())?;
            if self.status.zone.is_none() {
                // The reader sends UTC: no zone of ours makes its clock right.
                hint.proposed_zone = None;
            }
            Some(hint)
        });
    }

    fn unsupported(&self, command: Command) -> CommandError {
        CommandError::Unsupported { protocol: self.config.protocol, command: command.name() }
    }

    /// Connects, answering requests meanwhile; `None` = shut down.
    async fn connect(&mut self) -> Option<Result<Connection, TransportError>> {
        let link = self.config.link.clone();
        let connect = transport::connect(&link, self.config.connect_timeout, self.clock.clone());
        tokio::pin!(connect);
        loop {
            tokio::select! {
                result = &mut connect => return Some(result),
                request = self.commands.recv() => {
                    if !self.offline_request(request) {
                        return None;
                    }
                }
            }
        }
    }

    /// Connects like [`connect`](Self::connect); a serial port that was missing and is back is
    /// first given [`REPLUG_SETTLE`](transport::REPLUG_SETTLE), and if the open after that
    /// fails (other than by the port being gone again) it is tried once more after another
    /// `REPLUG_SETTLE`. `None` = shut down.
    async fn open_link(&mut self) -> Option<Result<Connection, TransportError>> {
        let absent_path = match &self.config.link {
            Link::Serial { path, .. } if self.port_absent => Some(path.clone()),
            _ => None,
        };
        let back = match absent_path {
            Some(path) => port_present(path).await,
            None => false,
        };
        if !back {
            return self.connect().await;
        }
        self.port_absent = false;
        let settle = transport::REPLUG_SETTLE;
        tracing::info!(source = %self.source, ?settle, "serial port is back; opening it after a settle delay");
        if !self.pause(settle).await {
            return None;
        }
        match self.connect().await? {
            Err(error) if !matches!(error, TransportError::NotFound(_)) => {
                tracing::info!(
                    source = %self.source, %error, ?settle,
                    "serial port not ready after it came back; trying again"
                );
                if !self.pause(settle).await {
                    return None;
                }
                self.connect().await
            }
            result => Some(result),
        }
    }

    /// Waits `wait` before the next connect, answering requests meanwhile. For a serial link it
    /// also looks for the port every [`PRESENCE_POLL`](transport::PRESENCE_POLL): a port seen
    /// missing marks `port_absent`, and one that is back after being missing ends the wait at
    /// once (the settle delay follows in [`open_link`](Self::open_link)). False = shut down.
    async fn pause_before_retry(&mut self, wait: Duration) -> bool {
        let Link::Serial { path, .. } = &self.config.link else { return self.pause(wait).await };
        let path = path.clone();
        let sleep = tokio::time::sleep(wait);
        tokio::pin!(sleep);
        let mut poll = tokio::time::interval(transport::PRESENCE_POLL);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = &mut sleep => return true,
                _ = poll.tick() => {
                    let present = port_present(path.clone()).await;
                    if !present {
                        self.port_absent = true;
                    } else if self.port_absent {
                        return true;
                    }
                }
                request = self.commands.recv() => {
                    if !self.offline_request(request) {
                        return false;
                    }
                }
            }
        }
    }

    /// Waits `duration`, answering requests meanwhile; false = shut down.
    async fn pause(&mut self, duration: Duration) -> bool {
        let sleep = tokio::time::sleep(duration);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                () = &mut sleep => return true,
                request = self.commands.recv() => {
                    if !self.offline_request(request) {
                        return false;
                    }
                }
            }
        }
    }

    /// Runs one connection until it ends; also says whether any bytes arrived.
    async fn session(&mut self, connection: Connection) -> (End, bool) {
        let link = connection.description.clone();
        tracing::info!(source = %self.source, %link, "reader connected");
        let (mut source, mut sink) = connection.split();
        let mut session = Session {
            decoder: self.config.protocol.decoder(),
            last_bytes: self.clock.monotonic(),
            idle_fed: true,
            probed: false,
            got_bytes: false,
            side: None,
        };
        self.reader_clock.reset();
        self.note_clock();
        self.status.connected_since = Some(self.clock.now());
        self.status.link = Some(link);
        self.status.counters.connects += 1;
        self.set_state(ReaderState::Connected);

        let opening =
            self.driver.on_connect(self.want_reading, self.clock.now(), self.clock.monotonic());
        let end = match self.perform(&mut sink, &mut session, opening).await {
            Ok(()) => self.session_loop(&mut source, &mut sink, &mut session).await,
            Err(end) => end,
        };
        if matches!(end, End::Shutdown) {
            // A goodbye the reader expects (LLRP CLOSE_CONNECTION); the link goes either way.
            let goodbye = self.driver.on_close();
            let _ = self.perform(&mut sink, &mut session, goodbye).await;
        }

        // Whatever the decoder still holds (a truncated frame) is reported, not dropped.
        let mut rest = Vec::new();
        session.decoder.finish(&mut rest);
        let (now, mono) = (self.clock.now(), self.clock.monotonic());
        let end = match self.handle_decoded(rest, now, mono, false).await {
            Err(End::ReadsClosed) => End::ReadsClosed,
            _ => end,
        };
        if let Some(side) = session.side.take() {
            side.task.abort();
        }
        drop(sink);
        source.close().await;
        self.status.connected_since = None;
        self.status.link = None;
        self.publish();
        (end, session.got_bytes)
    }

    async fn session_loop(
        &mut self,
        source: &mut ByteSource,
        sink: &mut ByteSink,
        session: &mut Session,
    ) -> End {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let step = tokio::select! {
                chunk = source.recv() => match chunk {
                    Ok(chunk) => self.on_chunk(sink, session, chunk).await,
                    Err(TransportError::EndOfInput) => Err(End::Finished),
                    Err(error) => Err(End::Lost(error.to_string())),
                },
                event = next_side_event(&mut session.side) => {
                    self.on_side_event(sink, session, event).await
                }
                request = self.commands.recv() => match request {
                    None => Err(End::Shutdown),
                    Some(request) => self.on_request(sink, session, request).await,
                },
                _ = tick.tick() => self.on_tick(sink, session).await,
            };
            if let Err(end) = step {
                return end;
            }
        }
    }

    async fn on_chunk(
        &mut self,
        sink: &mut ByteSink,
        session: &mut Session,
        chunk: Chunk,
    ) -> Result<(), End> {
        session.last_bytes = chunk.mono;
        session.idle_fed = false;
        session.probed = false;
        session.got_bytes = true;
        self.status.counters.bytes = self
            .status
            .counters
            .bytes
            .saturating_add(u64::try_from(chunk.bytes.len()).unwrap_or(0));
        if self.want_reading
            && matches!(self.status.state, ReaderState::Connected | ReaderState::Quiet)
        {
            self.status.state = ReaderState::Reading;
        } else if !self.want_reading && self.status.state == ReaderState::Quiet {
            self.status.state = ReaderState::Connected;
        }
        let mut items = Vec::new();
        session.decoder.feed(&chunk.bytes, &mut items);
        let outs = self.handle_decoded(items, chunk.at, chunk.mono, false).await?;
        self.perform(sink, session, outs).await?;
        self.publish();
        Ok(())
    }

    async fn on_side_event(
        &mut self,
        sink: &mut ByteSink,
        session: &mut Session,
        event: SideEvent,
    ) -> Result<(), End> {
        let mut items = Vec::new();
        let (at, mono, finished) = match event {
            SideEvent::Chunk(chunk) => {
                if let Some(side) = session.side.as_mut() {
                    side.decoder.feed(&chunk.bytes, &mut items);
                }
                (chunk.at, chunk.mono, None)
            }
            SideEvent::Done(result) => {
                let side = session.side.take();
                let from = side.map(|mut side| {
                    side.decoder.finish(&mut items);
                    side.from
                });
                if let Err(error) = &result {
                    self.status.last_error = Some(format!("IPICO Elite replay: {error}"));
                }
                let finished = match (result, from) {
                    (Ok(()), Some(from)) => Some(from),
                    _ => None,
                };
                (self.clock.now(), self.clock.monotonic(), finished)
            }
        };
        let outs = self.handle_decoded(items, at, mono, true).await?;
        // Only once its reads are delivered does the replay count as done.
        if let Some(from) = finished {
            self.driver.replay_finished(from);
        }
        self.perform(sink, session, outs).await?;
        self.publish();
        Ok(())
    }

    /// Handles decoded items: frame log, counters, clock replies, driver reactions, delivery.
    /// `replayed`: they came from a replay stream (marked as from memory).
    async fn handle_decoded(
        &mut self,
        items: Vec<Decoded>,
        at: DateTime<Utc>,
        mono: Duration,
        replayed: bool,
    ) -> Result<Vec<Out>, End> {
        let mut outs = Vec::new();
        for item in items {
            self.status.counters.frames += 1;
            self.frames.push(FrameRecord {
                at,
                direction: Direction::Received,
                hex: hex(item.raw()),
                summary: summarize(&item),
            });
            match item {
                Decoded::Read(mut read) => {
                    if replayed {
                        read.flags.from_memory = true;
                    }
                    self.driver.shape(&mut read);
                    let reader_utc =
                        read.reader_time.as_ref().and_then(|t| self.reader_clock.to_utc(t, at));
                    outs.extend(self.driver.on_read(&read, reader_utc, mono, self.want_reading));
                    self.deliver(read, reader_utc, at, mono).await?;
                }
                Decoded::Control(control) => {
                    self.status.counters.controls += 1;
                    let (more, clock) =
                        self.driver.on_control(&control.message, mono, self.want_reading);
                    if let Some(reply) = clock {
                        self.reader_clock.answered(reply.time, reply.whole_seconds, at, mono);
                        self.note_clock();
                    }
                    outs.extend(more);
                    if let Some(mut read) = self.driver.control_read(&control.message, &control.raw)
                    {
                        if replayed {
                            read.flags.from_memory = true;
                        }
                        let reader_utc =
                            read.reader_time.as_ref().and_then(|t| self.reader_clock.to_utc(t, at));
                        self.deliver(read, reader_utc, at, mono).await?;
                    }
                }
                Decoded::Rejected(rejected) => {
                    tracing::debug!(source = %self.source, reason = %rejected.reason, "frame rejected");
                    self.status.note_rejected(RejectedFrame {
                        at,
                        kind: rejected.reason.kind(),
                        reason: rejected.reason.to_string(),
                        hex: hex(&rejected.raw),
                    });
                }
            }
        }
        Ok(outs)
    }

    async fn deliver(
        &mut self,
        read: TagRead,
        reader_time_utc: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
        mono: Duration,
    ) -> Result<(), End> {
        let replay_key = read.replay_key.as_ref().map(ToString::to_string);
        let chip = read.chip.clone();
        let repeated = replay_key.as_deref().is_some_and(|key| !self.delivered.insert(key));
        if let Some(reader) = reader_time_utc
            && !read.flags.from_memory
            && !repeated
        {
            // The latest time the reader stamped on the read (LLRP: last seen) bounds its clock best.
            let latest = self.driver.latest_stamp(&read).unwrap_or(reader);
            self.reader_clock.observe_read(latest, at, mono);
            self.note_clock();
        }
        // The one place the adjustment is applied (see the module docs).
        let adjustment_ms = self.config.adjust_ms;
        let shift = |t: DateTime<Utc>| {
            t.checked_add_signed(chrono::TimeDelta::milliseconds(adjustment_ms)).unwrap_or(t)
        };
        let (host_time, reader_time_utc) = match reader_time_utc {
            Some(reader) => (at, Some(shift(reader))),
            None => (shift(at), None),
        };
        let stamped = StampedRead {
            read,
            host_time,
            reader_time_utc,
            adjustment_ms,
            clock_offset_ms: self.reader_clock.offset_ms(),
            source: self.source.clone(),
            protocol: self.config.protocol,
            replay_key,
            repeated,
            in_order: !self.driver.catching_up(),
        };
        // The engine applies back-pressure here; a shutdown (or a dropped handle) still ends us.
        tokio::select! {
            sent = self.reads.send(stamped) => sent.map_err(|_| End::ReadsClosed)?,
            _ = self.stop.changed() => return Err(End::Shutdown),
        }
        if repeated {
            self.status.counters.duplicates += 1;
            return Ok(());
        }
        self.status.counters.reads += 1;
        self.status.last_read = Some(at);
        self.status.last_chip = Some(chip);
        self.rate.add(mono);
        Ok(())
    }

    async fn on_tick(&mut self, sink: &mut ByteSink, session: &mut Session) -> Result<(), End> {
        let (now, mono) = (self.clock.now(), self.clock.monotonic());
        let silent = mono.saturating_sub(session.last_bytes);
        let mut outs = Vec::new();
        if !session.idle_fed && silent >= IDLE_AFTER {
            session.idle_fed = true;
            let mut items = Vec::new();
            session.decoder.idle(&mut items);
            outs.extend(self.handle_decoded(items, now, mono, false).await?);
        }
        if silent >= self.config.quiet_after {
            if matches!(self.status.state, ReaderState::Reading | ReaderState::Connected) {
                tracing::info!(source = %self.source, ?silent, "reader quiet");
                self.status.state = ReaderState::Quiet;
            }
            let probe = self.driver.probe();
            if probe.is_some() && silent >= self.config.quiet_after.saturating_mul(2) {
                return Err(End::Lost(format!(
                    "no bytes for {} s and no answer to a probe",
                    silent.as_secs()
                )));
            }
            if !session.probed {
                session.probed = true;
                outs.extend(probe);
            }
        }
        outs.extend(self.driver.on_tick(mono, self.want_reading));
        self.perform(sink, session, outs).await?;
        self.status.reads_per_sec = self.rate.sample(mono);
        self.status.rate_history = self.rate.history();
        self.publish();
        Ok(())
    }

    async fn on_request(
        &mut self,
        sink: &mut ByteSink,
        session: &mut Session,
        request: Request,
    ) -> Result<(), End> {
        let Request { command, reply } = request;
        let mono = self.clock.monotonic();
        let planned = match command {
            Command::Shutdown => {
                let _ = reply.send(Ok(()));
                return Err(End::Shutdown);
            }
            Command::SetAdjustment(ms) => {
                self.set_adjustment(ms);
                let _ = reply.send(Ok(()));
                return Ok(());
            }
            Command::Start => self.driver.start(mono),
            Command::Stop => self.driver.stop(),
            Command::SetClock(at) => self.driver.set_clock(at),
            Command::Rewind { from, to } => self.driver.rewind(from, to),
        };
        let outs = match planned {
            Ok(outs) => outs,
            Err(Unsupported) => {
                let _ = reply.send(Err(self.unsupported(command)));
                return Ok(());
            }
        };
        match command {
            Command::Start => self.want_reading = true,
            Command::Stop => self.want_reading = false,
            _ => {}
        }
        self.status.reading_wanted = self.want_reading;
        match self.perform(sink, session, outs).await {
            Ok(()) => {
                let _ = reply.send(Ok(()));
                self.publish();
                Ok(())
            }
            Err(End::Lost(why)) => {
                let _ = reply.send(Err(CommandError::Link(why.clone())));
                Err(End::Lost(why))
            }
            Err(end) => {
                let _ = reply.send(Err(CommandError::Stopped));
                Err(end)
            }
        }
    }

    async fn perform(
        &mut self,
        sink: &mut ByteSink,
        session: &mut Session,
        outs: Vec<Out>,
    ) -> Result<(), End> {
        for out in outs {
            match out {
                Out::Send(bytes) => self.send(sink, &bytes).await?,
                Out::AskTime(bytes) => {
                    self.reader_clock.asked(self.clock.now(), self.clock.monotonic());
                    self.send(sink, &bytes).await?;
                }
                Out::Rewind(bytes) => {
                    self.status.counters.rewinds += 1;
                    self.send(sink, &bytes).await?;
                }
                Out::EliteReplay { from, ports } => self.start_elite_replay(session, from, ports),
                Out::Warn(why) => {
                    tracing::warn!(source = %self.source, "{why}");
                    self.status.warning = Some(why);
                }
                Out::Settings(settings) => self.status.settings = settings,
                Out::Drop(why) => return Err(End::Lost(why)),
            }
        }
        Ok(())
    }

    async fn send(&mut self, sink: &mut ByteSink, bytes: &[u8]) -> Result<(), End> {
        if self.config.link.is_input() {
            // A capture or a simulated finish has no reader to answer: the conversation's
            // commands go nowhere.
            return Ok(());
        }
        self.status.counters.commands_sent += 1;
        self.frames.push(FrameRecord {
            at: self.clock.now(),
            direction: Direction::Sent,
            hex: hex(bytes),
            summary: format!("command {}", crate::text::shown(bytes).trim_end()),
        });
        sink.send(bytes).await.map_err(|e| End::Lost(format!("sending a command failed: {e}")))
    }

    fn start_elite_replay(
        &mut self,
        session: &mut Session,
        from: Option<NaiveDateTime>,
        ports: EliteReplay,
    ) {
        let Link::Tcp { host, .. } = &self.config.link else { return };
        if session.side.is_some() {
            return;
        }
        self.status.counters.rewinds += 1;
        let (events_tx, events) = mpsc::channel(crate::transport::CHUNKS_IN_FLIGHT);
        let task = tokio::spawn(elite_replay(
            host.clone(),
            ports,
            from,
            self.config.connect_timeout,
            self.clock.clone(),
            events_tx,
        ));
        session.side = Some(SideStream { events, task, decoder: ipico::IpicoDecoder::new(), from });
    }
}

/// Whether serial port `path` is there ([`transport::serial::present`], off the async threads:
/// on Windows it lists the ports).
async fn port_present(path: String) -> bool {
    tokio::task::spawn_blocking(move || transport::serial::present(&path)).await.unwrap_or(true)
}

/// The next event of the replay stream, or never when there is none.
async fn next_side_event(side: &mut Option<SideStream>) -> SideEvent {
    match side {
        Some(side) => match side.events.recv().await {
            Some(event) => event,
            None => SideEvent::Done(Err("replay task ended".into())),
        },
        None => std::future::pending().await,
    }
}

/// IPICO Elite replay: `replay_start` on the control port, then read the replay port until it
/// closes or goes quiet.
async fn elite_replay(
    host: String,
    ports: EliteReplay,
    from: Option<NaiveDateTime>,
    connect_timeout: Duration,
    clock: SharedClock,
    events: mpsc::Sender<SideEvent>,
) {
    let result = async {
        let control =
            transport::tcp::connect(&host, ports.control_port, connect_timeout, clock.clone())
                .await
                .map_err(|e| e.to_string())?;
        let (_control_source, mut control_sink) = control.split();
        let command = ipico::command::elite_replay(
            ipico::command::EliteReader::First,
            ports.replay_port,
            from,
        );
        control_sink.send(&command).await.map_err(|e| e.to_string())?;
        tokio::time::sleep(REPLAY_SETTLE).await;
        let replay = transport::tcp::connect(&host, ports.replay_port, connect_timeout, clock)
            .await
            .map_err(|e| e.to_string())?;
        let (mut source, _sink) = replay.split();
        loop {
            match tokio::time::timeout(REPLAY_IDLE, source.recv()).await {
                Ok(Ok(chunk)) => {
                    if events.send(SideEvent::Chunk(chunk)).await.is_err() {
                        return Ok(());
                    }
                }
                Ok(Err(TransportError::Closed(_))) | Err(_) => return Ok(()),
                Ok(Err(error)) => return Err(error.to_string()),
            }
        }
    }
    .await;
    let _ = events.send(SideEvent::Done(result)).await;
}

/// A decoded item in a few words, for the frame log.
fn summarize(item: &Decoded) -> String {
    let text = match item {
        Decoded::Read(read) => {
            let who = match (&read.bib, read.chip.is_empty()) {
                (Some(bib), true) => format!("bib {bib}"),
                (_, false) => format!("chip {}", read.chip),
                (None, true) => "impulse".to_string(),
            };
            let mut text = format!("read {who}");
            if let Some(antenna) = read.antenna {
                text.push_str(&format!(" antenna {antenna}"));
            }
            if let Some(time) = &read.reader_time {
                text.push_str(&format!(" at {time:?}"));
            }
            if let Some(key) = &read.replay_key {
                text.push_str(&format!(" [{key}]"));
            }
            text
        }
        Decoded::Control(control) => format!("{:?}", control.message),
        Decoded::Rejected(rejected) => format!("rejected: {}", rejected.reason),
    };
    match text.char_indices().nth(SUMMARY_CHARS) {
        Some((cut, _)) => format!("{}…", text.get(..cut).unwrap_or_default()),
        None => text,
    }
}
