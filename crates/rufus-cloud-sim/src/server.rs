//! The accept loop. The simulator serves HTTP/1.1 connections itself (rather than through
//! `axum::serve`) so that it can (a) reset one connection from inside a handler — SO_LINGER 0,
//! then drop, so the peer gets a TCP RST and no HTTP answer — and (b) stop listening and drop
//! every open connection on pause, then listen again on the same address.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};
use tower::ServiceExt;

/// Put in every request's extensions: pulling it resets the request's connection.
#[derive(Debug, Default)]
pub(crate) struct KillSwitch {
    pulled: AtomicBool,
    notify: Notify,
}

impl KillSwitch {
    /// Resets the connection: no answer goes out, the peer sees a TCP RST.
    pub(crate) fn pull(&self) {
        self.pulled.store(true, Ordering::SeqCst);
        self.notify.notify_one();
    }

    fn is_pulled(&self) -> bool {
        self.pulled.load(Ordering::SeqCst)
    }

    async fn pulled(&self) {
        if !self.is_pulled() {
            // notify_one keeps a permit when nobody waits yet, so no pull is missed.
            self.notify.notified().await;
        }
    }
}

/// A TCP stream that refuses to write once its switch is pulled and, when dropped then, sets
/// SO_LINGER 0 first so that closing sends RST instead of FIN.
struct ResettableStream {
    inner: TcpStream,
    switch: Arc<KillSwitch>,
}

impl Drop for ResettableStream {
    fn drop(&mut self) {
        if self.switch.is_pulled()
            && let Err(e) = self.inner.set_zero_linger()
        {
            tracing::warn!("could not set SO_LINGER 0 before a reset: {e}");
        }
    }
}

impl AsyncRead for ResettableStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for ResettableStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.switch.is_pulled() {
            return Poll::Ready(Err(io::ErrorKind::ConnectionReset.into()));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// Binds a listening socket (SO_REUSEADDR, so that resume can take the same port again).
pub(crate) fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

/// A running accept loop.
#[derive(Debug)]
pub(crate) struct Listening {
    stop: Arc<Notify>,
    task: JoinHandle<()>,
}

impl Listening {
    /// Serves `router` on `listener` until [`Listening::stop`].
    pub(crate) fn start(listener: TcpListener, router: Router) -> Listening {
        let stop = Arc::new(Notify::new());
        let task = tokio::spawn(accept_loop(listener, router, Arc::clone(&stop)));
        Listening { stop, task }
    }

    /// Closes the listening socket and drops every open connection; returns once they are gone.
    pub(crate) async fn stop(self) {
        self.stop.notify_one();
        if let Err(e) = self.task.await {
            tracing::warn!("accept loop ended badly: {e}");
        }
    }
}

async fn accept_loop(listener: TcpListener, router: Router, stop: Arc<Notify>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            () = stop.notified() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    tracing::trace!("connection from {peer}");
                    connections.spawn(serve_connection(stream, router.clone()));
                }
                Err(e) => {
                    // e.g. too many open files: wait a little rather than spin.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    connections.shutdown().await;
}

async fn serve_connection(stream: TcpStream, router: Router) {
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!("could not set TCP_NODELAY: {e}");
    }
    let switch = Arc::new(KillSwitch::default());
    let io = TokioIo::new(ResettableStream { inner: stream, switch: Arc::clone(&switch) });
    let request_switch = Arc::clone(&switch);
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let mut request: Request = request.map(axum::body::Body::new);
        request.extensions_mut().insert(Arc::clone(&request_switch));
        router.clone().oneshot(request)
    });
    let connection = http1::Builder::new().serve_connection(io, service);
    tokio::select! {
        served = connection => {
            if let Err(e) = served {
                tracing::debug!("connection ended with an error: {e}");
            }
        }
        () = switch.pulled() => {
            // Dropping the connection drops the stream: SO_LINGER 0 is set, the peer gets RST.
            tracing::debug!("connection reset on purpose");
        }
    }
}
