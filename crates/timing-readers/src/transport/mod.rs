//! Byte pipes to readers — a serial port, a TCP socket, or an input that ends (standard input, a
//! file, a simulated finish) — behind one async interface, so the supervisor drives every
//! source the same way whatever cable it hangs on.
//!
//! A [`Connection`] splits into a [`ByteSource`] (chunks of received bytes, each stamped with the
//! host's wall and monotonic time at arrival, read from the injected [`Clock`](crate::clock::Clock))
//! and a [`ByteSink`] (commands to the reader).
//!
//! Invariants:
//! * **No byte is dropped silently.** Every byte read from the OS reaches the source's caller in
//!   order, or the source reports why the stream ended ([`TransportError`]). Channels between the
//!   blocking serial thread and async code are bounded and apply back-pressure (the thread waits)
//!   instead of discarding.
//! * **Bounded.** At most [`CHUNK_SIZE`] × [`CHUNKS_IN_FLIGHT`] bytes wait between the OS and the
//!   caller.
//! * **Ends cleanly.** Dropping or closing a source stops the serial reader thread within one
//!   read timeout ([`SERIAL_READ_TIMEOUT`]) and closes the port, so the same path can be opened
//!   again.
//! * **Errors say what to do.** A port the OS will not let us open is
//!   [`TransportError::PermissionDenied`], whose message is the one-line fix for this OS (Linux:
//!   join the device's group, e.g. `dialout`; Windows: another program holds the port); an
//!   absent one is [`TransportError::NotFound`].
//!
//! Port names: specs and people use `COM10`, `/dev/ttyUSB0`, `/dev/cu.usbserial-X`
//! ([`normalize_port_name`], [`looks_like_serial_port`]); Windows opens `\\.\COM10` (see
//! `names.rs`). A port that comes back after an unplug is opened [`REPLUG_SETTLE`] after it
//! reappears (the supervisor waits; see its docs).

mod access;
mod input;
mod names;
mod ports;
pub mod serial;
pub mod sim;
pub mod tcp;

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use crate::clock::SharedClock;
use crate::config::Link;

pub use names::{looks_like_serial_port, normalize_port_name};
pub use ports::{PortInfo, PortKind, describe_port, ports};

/// Largest chunk read from the OS at once.
pub const CHUNK_SIZE: usize = 4096;
/// Chunks that may wait between a serial reader thread and the async side.
pub const CHUNKS_IN_FLIGHT: usize = 64;
/// How long a blocking serial read waits before checking whether it should stop.
pub const SERIAL_READ_TIMEOUT: Duration = Duration::from_millis(50);
/// How long a write may take before the link counts as broken.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long after a serial port reappears (a USB-serial adapter plugged back in) it is first
/// opened. The device node appears a moment before udev has set its group and mode and before
/// the driver is ready, so an open at once often fails (permission denied, I/O error). One
/// failed open right after the wait is tried again after another such wait.
pub const REPLUG_SETTLE: Duration = Duration::from_millis(500);
/// How often a missing serial port is looked for while the supervisor waits to reconnect (a
/// `stat` on Unix; on Windows listing the ports costs more, so less often).
pub const PRESENCE_POLL: Duration =
    if cfg!(windows) { Duration::from_millis(500) } else { Duration::from_millis(100) };

/// Bytes as they arrived, with the host's time of arrival.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// The bytes, in order.
    pub bytes: Vec<u8>,
    /// Host UTC wall time when they were read.
    pub at: DateTime<Utc>,
    /// Host monotonic time when they were read.
    pub mono: Duration,
}

/// Why a link could not be opened or stopped working. Every variant is retryable: the
/// supervisor reconnects after any of them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// The serial device does not exist (unplugged).
    #[error("{0}: no such device (unplugged?)")]
    NotFound(String),
    /// The OS refused to open the serial device: on Linux the user is not in the device's
    /// group, on Windows another program has the port open. The message is the fix.
    #[error("{fix}")]
    PermissionDenied {
        /// The port, as people name it (`/dev/ttyUSB0`, `COM10`).
        path: String,
        /// One line saying what to do, e.g. "no permission to open /dev/ttyUSB0: add yourself
        /// to the `dialout` group with `sudo usermod -aG dialout $USER`, then log out and in
        /// again".
        fix: String,
    },
    /// The serial device exists but could not be opened or configured.
    #[error("cannot open {target}: {message}")]
    Open {
        /// Path.
        target: String,
        /// The OS's words.
        message: String,
    },
    /// The TCP connection was not established in time.
    #[error("connecting to {target} timed out after {after:?}")]
    ConnectTimeout {
        /// `host:port`.
        target: String,
        /// The timeout.
        after: Duration,
    },
    /// The TCP connection was refused or failed.
    #[error("cannot connect to {target}: {message}")]
    Connect {
        /// `host:port`.
        target: String,
        /// The OS's words.
        message: String,
    },
    /// The other end closed the stream (EOF, hang-up).
    #[error("link closed: {0}")]
    Closed(String),
    /// Reading or writing failed.
    #[error("I/O error: {0}")]
    Io(String),
    /// A write did not complete in time.
    #[error("write timed out after {0:?}")]
    WriteTimeout(Duration),
    /// An input that ends (standard input, a file, a simulated finish) has ended. Not a
    /// failure: the supervisor finishes instead of reconnecting.
    #[error("end of input")]
    EndOfInput,
    /// An input that ends takes no commands.
    #[error("this input takes no commands")]
    ReadOnly,
}

/// An open link to a reader.
#[derive(Debug)]
pub struct Connection {
    /// What it is connected to, for people (`/dev/ttyUSB0 at 9600 8N1`, `192.168.1.20:23`).
    pub description: String,
    source: ByteSource,
    sink: ByteSink,
}

impl Connection {
    /// The receiving and sending halves.
    pub fn split(self) -> (ByteSource, ByteSink) {
        (self.source, self.sink)
    }
}

/// Opens `link`: a serial port (on a blocking thread), a TCP connection with `connect_timeout`
/// and TCP keepalive, or an input that ends (standard input, a file, a simulated finish).
pub async fn connect(
    link: &Link,
    connect_timeout: Duration,
    clock: SharedClock,
) -> Result<Connection, TransportError> {
    match link {
        Link::Serial { path, baud, data_bits, parity, stop_bits } => {
            let settings = crate::SerialSettings {
                baud: *baud,
                data_bits: *data_bits,
                parity: *parity,
                stop_bits: *stop_bits,
            };
            let path = path.clone();
            let target = path.clone();
            tokio::task::spawn_blocking(move || serial::open(&path, settings, clock))
                .await
                .map_err(|e| TransportError::Open { target, message: e.to_string() })?
        }
        Link::Tcp { host, port } => tcp::connect(host, *port, connect_timeout, clock).await,
        Link::Stdin => Ok(input_connection(SourceInner::Input(input::InputSource::stdin(clock)))),
        Link::File { path } => {
            let source = input::InputSource::file(path, clock).await?;
            Ok(input_connection(SourceInner::Input(source)))
        }
        Link::Sim(sim) => Ok(input_connection(SourceInner::Sim(sim::SimSource::new(sim, clock)))),
    }
}

fn input_connection(inner: SourceInner) -> Connection {
    let description = match &inner {
        SourceInner::Input(input) => input.description().to_owned(),
        SourceInner::Sim(_) => "a simulated finish".to_owned(),
        _ => String::new(),
    };
    Connection {
        description,
        source: ByteSource { inner },
        sink: ByteSink { inner: SinkInner::ReadOnly },
    }
}

/// The receiving half of a [`Connection`].
#[derive(Debug)]
pub struct ByteSource {
    inner: SourceInner,
}

#[derive(Debug)]
enum SourceInner {
    /// Chunks from a serial reader thread.
    Thread { chunks: mpsc::Receiver<Result<Chunk, TransportError>>, guard: serial::ThreadGuard },
    /// A TCP socket's read half.
    Tcp(tcp::TcpSource),
    /// Standard input or a file.
    Input(input::InputSource),
    /// A simulated finish.
    Sim(sim::SimSource),
}

impl ByteSource {
    /// The next chunk of bytes, or why the stream ended. Cancel-safe: no bytes are lost when the
    /// future is dropped before it completes.
    pub async fn recv(&mut self) -> Result<Chunk, TransportError> {
        match &mut self.inner {
            SourceInner::Thread { chunks, .. } => match chunks.recv().await {
                Some(result) => result,
                None => Err(TransportError::Closed("reader thread ended".into())),
            },
            SourceInner::Tcp(source) => source.recv().await,
            SourceInner::Input(source) => source.recv().await,
            SourceInner::Sim(source) => source.recv().await,
        }
    }

    /// Stops reading and waits (up to a second) until the port is really closed, so it can be
    /// opened again at once. Drop the [`ByteSink`] first: a serial port stays open while its
    /// writer is alive.
    pub async fn close(self) {
        match self.inner {
            SourceInner::Thread { chunks, guard } => {
                drop(chunks);
                guard.stop_and_wait().await;
            }
            SourceInner::Tcp(source) => drop(source),
            SourceInner::Input(source) => drop(source),
            SourceInner::Sim(source) => drop(source),
        }
    }
}

/// The sending half of a [`Connection`].
#[derive(Debug)]
pub struct ByteSink {
    inner: SinkInner,
}

#[derive(Debug)]
enum SinkInner {
    Thread(mpsc::Sender<serial::WriteRequest>),
    Tcp(tokio::net::tcp::OwnedWriteHalf),
    /// An input that ends: nothing to write to.
    ReadOnly,
}

impl ByteSink {
    /// Writes all of `bytes`, within [`WRITE_TIMEOUT`].
    pub async fn send(&mut self, bytes: &[u8]) -> Result<(), TransportError> {
        match &mut self.inner {
            SinkInner::Thread(writer) => serial::send(writer, bytes).await,
            SinkInner::Tcp(write) => {
                use tokio::io::AsyncWriteExt as _;
                match tokio::time::timeout(WRITE_TIMEOUT, write.write_all(bytes)).await {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(e)) => Err(TransportError::Io(e.to_string())),
                    Err(_) => Err(TransportError::WriteTimeout(WRITE_TIMEOUT)),
                }
            }
            SinkInner::ReadOnly => Err(TransportError::ReadOnly),
        }
    }
}
