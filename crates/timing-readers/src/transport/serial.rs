//! Serial ports through `serialport`: blocking reads with a short timeout on a dedicated thread,
//! writes on a second one, bridged to async code with bounded channels.
//!
//! Also used by the emulators for the master side of a pseudo-terminal ([`bridge`]).
//!
//! A failed open is explained by `access.rs` (unplugged, permission denied with the fix, or
//! the OS's words); Windows COM names are opened through `\\.\` (`names.rs`).

use std::io::ErrorKind;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serialport::{DataBits, FlowControl, SerialPort, StopBits};
use tokio::sync::{mpsc, oneshot};

use super::access::{self, Os, SystemFacts};
use super::names::{normalize_port_name, os_port_path};
use super::{
    ByteSink, ByteSource, CHUNK_SIZE, CHUNKS_IN_FLIGHT, Chunk, Connection, SERIAL_READ_TIMEOUT,
    SinkInner, SourceInner, TransportError, WRITE_TIMEOUT,
};
use crate::clock::SharedClock;
use crate::{Parity, SerialSettings};

/// A write handed to the writer thread.
#[derive(Debug)]
pub(crate) struct WriteRequest {
    bytes: Vec<u8>,
    done: oneshot::Sender<Result<(), TransportError>>,
}

/// Stops the reader thread when dropped; [`ThreadGuard::stop_and_wait`] also waits for both
/// threads to have closed their handles on the port.
#[derive(Debug)]
pub(crate) struct ThreadGuard {
    stop: Arc<AtomicBool>,
    /// Ends (`None`) once both threads have returned and dropped their port handles.
    finished: mpsc::Receiver<()>,
}

impl ThreadGuard {
    pub(crate) async fn stop_and_wait(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = tokio::time::timeout(Duration::from_secs(1), self.finished.recv()).await;
    }
}

impl Drop for ThreadGuard {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Whether the serial port `path` is there now: its device node exists (Unix, following
/// symlinks) or the OS lists it (Windows). Cheap on Unix; lists the ports on Windows.
pub fn present(path: &str) -> bool {
    if cfg!(unix) {
        Path::new(path).exists()
    } else if cfg!(windows) {
        let name = normalize_port_name(path);
        serialport::available_ports().is_ok_and(|ports| {
            ports.iter().any(|p| normalize_port_name(&p.port_name).eq_ignore_ascii_case(&name))
        })
    } else {
        true
    }
}

/// Opens `path` with `settings` (blocking: call from a blocking context) and starts its threads.
/// A failure says why: [`TransportError::NotFound`] (unplugged),
/// [`TransportError::PermissionDenied`] (with the fix for this OS) or
/// [`TransportError::Open`].
pub fn open(
    path: &str,
    settings: SerialSettings,
    clock: SharedClock,
) -> Result<Connection, TransportError> {
    #[cfg(unix)]
    if !Path::new(path).exists() {
        return Err(TransportError::NotFound(path.to_string()));
    }
    let data_bits = match settings.data_bits {
        5 => DataBits::Five,
        6 => DataBits::Six,
        7 => DataBits::Seven,
        _ => DataBits::Eight,
    };
    let parity = match settings.parity {
        Parity::None => serialport::Parity::None,
        Parity::Odd => serialport::Parity::Odd,
        Parity::Even => serialport::Parity::Even,
    };
    let stop_bits = if settings.stop_bits == 2 { StopBits::Two } else { StopBits::One };
    let port = serialport::new(os_port_path(path), settings.baud)
        .data_bits(data_bits)
        .parity(parity)
        .stop_bits(stop_bits)
        .flow_control(FlowControl::None)
        .timeout(SERIAL_READ_TIMEOUT)
        .open()
        .map_err(|e| access::open_error(path, &e, Os::CURRENT, &SystemFacts))?;
    let path = normalize_port_name(path);
    let parity = match settings.parity {
        Parity::None => 'N',
        Parity::Odd => 'O',
        Parity::Even => 'E',
    };
    let description =
        format!("{path} at {} {}{parity}{}", settings.baud, settings.data_bits, settings.stop_bits);
    bridge(port, description, clock)
}

/// Starts the reader and writer threads for an open port (whose read timeout should be short,
/// e.g. [`SERIAL_READ_TIMEOUT`]).
pub fn bridge(
    port: Box<dyn SerialPort>,
    description: String,
    clock: SharedClock,
) -> Result<Connection, TransportError> {
    let open_error = |e: &dyn std::fmt::Display| TransportError::Open {
        target: description.clone(),
        message: e.to_string(),
    };
    let mut writer_port = port.try_clone().map_err(|e| open_error(&e))?;
    let _ = writer_port.set_timeout(SERIAL_READ_TIMEOUT);
    let stop = Arc::new(AtomicBool::new(false));
    let (finished_tx, finished) = mpsc::channel::<()>(1);
    let (chunk_tx, chunks) = mpsc::channel(CHUNKS_IN_FLIGHT);
    let (write_tx, write_rx) = mpsc::channel::<WriteRequest>(16);

    let reader_stop = Arc::clone(&stop);
    let reader_finished = finished_tx.clone();
    std::thread::Builder::new()
        .name("serial-read".into())
        .spawn(move || {
            read_loop(port, &chunk_tx, &reader_stop, &clock);
            drop(reader_finished);
        })
        .map_err(|e| open_error(&e))?;
    let writer_stop = Arc::clone(&stop);
    let spawned = std::thread::Builder::new().name("serial-write".into()).spawn(move || {
        write_loop(writer_port, write_rx, &writer_stop);
        drop(finished_tx);
    });
    if let Err(e) = spawned {
        stop.store(true, Ordering::SeqCst);
        return Err(open_error(&e));
    }
    Ok(Connection {
        description,
        source: ByteSource {
            inner: SourceInner::Thread { chunks, guard: ThreadGuard { stop, finished } },
        },
        sink: ByteSink { inner: SinkInner::Thread(write_tx) },
    })
}

fn read_loop(
    mut port: Box<dyn SerialPort>,
    chunks: &mpsc::Sender<Result<Chunk, TransportError>>,
    stop: &AtomicBool,
    clock: &SharedClock,
) {
    let mut buf = vec![0u8; CHUNK_SIZE];
    while !stop.load(Ordering::SeqCst) {
        let result = match port.read(&mut buf) {
            Ok(0) => Err(TransportError::Closed("end of stream".into())),
            Ok(n) => Ok(Chunk {
                bytes: buf.get(..n).unwrap_or_default().to_vec(),
                at: clock.now(),
                mono: clock.monotonic(),
            }),
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::TimedOut | ErrorKind::WouldBlock | ErrorKind::Interrupted
                ) =>
            {
                continue;
            }
            Err(e) if e.kind() == ErrorKind::BrokenPipe => {
                Err(TransportError::Closed(format!("device hung up ({e})")))
            }
            Err(e) => Err(TransportError::Io(e.to_string())),
        };
        let ended = result.is_err();
        // A full channel makes this thread wait (back-pressure), it never drops the chunk.
        if chunks.blocking_send(result).is_err() || ended {
            return;
        }
    }
}

fn write_loop(
    mut port: Box<dyn SerialPort>,
    mut requests: mpsc::Receiver<WriteRequest>,
    stop: &AtomicBool,
) {
    while let Some(request) = requests.blocking_recv() {
        let result = write_all(&mut *port, &request.bytes, stop);
        let _ = request.done.send(result);
    }
}

fn write_all(
    port: &mut dyn SerialPort,
    bytes: &[u8],
    stop: &AtomicBool,
) -> Result<(), TransportError> {
    let mut rest = bytes;
    let mut stalled = Duration::ZERO;
    while !rest.is_empty() {
        if stop.load(Ordering::SeqCst) {
            return Err(TransportError::Closed("port closed".into()));
        }
        match port.write(rest) {
            Ok(0) => return Err(TransportError::Closed("port accepts no more bytes".into())),
            Ok(n) => {
                rest = rest.get(n..).unwrap_or_default();
                stalled = Duration::ZERO;
            }
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::TimedOut | ErrorKind::WouldBlock | ErrorKind::Interrupted
                ) =>
            {
                stalled += SERIAL_READ_TIMEOUT;
                if stalled >= WRITE_TIMEOUT {
                    return Err(TransportError::WriteTimeout(WRITE_TIMEOUT));
                }
            }
            Err(e) if e.kind() == ErrorKind::BrokenPipe => {
                return Err(TransportError::Closed(format!("device hung up ({e})")));
            }
            Err(e) => return Err(TransportError::Io(e.to_string())),
        }
    }
    Ok(())
}

pub(crate) async fn send(
    writer: &mpsc::Sender<WriteRequest>,
    bytes: &[u8],
) -> Result<(), TransportError> {
    let (done, result) = oneshot::channel();
    writer
        .send(WriteRequest { bytes: bytes.to_vec(), done })
        .await
        .map_err(|_| TransportError::Closed("writer thread ended".into()))?;
    match tokio::time::timeout(WRITE_TIMEOUT + Duration::from_secs(1), result).await {
        Ok(Ok(result)) => result,
        Ok(Err(_)) => Err(TransportError::Closed("writer thread ended".into())),
        Err(_) => Err(TransportError::WriteTimeout(WRITE_TIMEOUT)),
    }
}
