//! TCP links through tokio: connect with a timeout, TCP keepalive (socket2) so a reader that
//! vanished without closing the connection is noticed, no Nagle delay on commands.

use std::time::Duration;

use tokio::io::AsyncReadExt as _;
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedReadHalf;

use super::{
    ByteSink, ByteSource, CHUNK_SIZE, Chunk, Connection, SinkInner, SourceInner, TransportError,
};
use crate::clock::SharedClock;

/// Idle time before the first keepalive probe.
pub const KEEPALIVE_IDLE: Duration = Duration::from_secs(5);
/// Interval between keepalive probes (where the OS lets us set it).
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(2);

/// Connects to `host:port` within `timeout`.
pub async fn connect(
    host: &str,
    port: u16,
    timeout: Duration,
    clock: SharedClock,
) -> Result<Connection, TransportError> {
    let target =
        if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
    let stream = match tokio::time::timeout(timeout, TcpStream::connect((host, port))).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => return Err(TransportError::Connect { target, message: e.to_string() }),
        Err(_) => return Err(TransportError::ConnectTimeout { target, after: timeout }),
    };
    Ok(from_stream(stream, target, clock))
}

/// Wraps an established stream (also used by the emulators), setting keepalive and no-delay.
pub fn from_stream(stream: TcpStream, description: String, clock: SharedClock) -> Connection {
    let _ = stream.set_nodelay(true);
    let keepalive = socket2::TcpKeepalive::new().with_time(KEEPALIVE_IDLE);
    #[cfg(any(target_os = "linux", target_os = "macos", target_os = "windows"))]
    let keepalive = keepalive.with_interval(KEEPALIVE_INTERVAL);
    if let Err(e) = socket2::SockRef::from(&stream).set_tcp_keepalive(&keepalive) {
        tracing::debug!(%description, error = %e, "TCP keepalive not set");
    }
    let (read, write) = stream.into_split();
    Connection {
        description,
        source: ByteSource {
            inner: SourceInner::Tcp(TcpSource { read, buf: vec![0; CHUNK_SIZE], clock }),
        },
        sink: ByteSink { inner: SinkInner::Tcp(write) },
    }
}

/// The read half of a TCP link.
#[derive(Debug)]
pub(crate) struct TcpSource {
    read: OwnedReadHalf,
    buf: Vec<u8>,
    clock: SharedClock,
}

impl TcpSource {
    pub(crate) async fn recv(&mut self) -> Result<Chunk, TransportError> {
        match self.read.read(&mut self.buf).await {
            Ok(0) => Err(TransportError::Closed("the reader closed the connection".into())),
            Ok(n) => Ok(Chunk {
                bytes: self.buf.get(..n).unwrap_or_default().to_vec(),
                at: self.clock.now(),
                mono: self.clock.monotonic(),
            }),
            Err(e) => Err(TransportError::Io(e.to_string())),
        }
    }
}
