//! Inputs that end: standard input or a file read to its end (a keypad on stdin, a capture
//! replayed through a protocol's decoder), as byte sources the supervisor drives like a cable.
//! Their end is [`TransportError::EndOfInput`], not a lost link: nothing is read twice.

use tokio::io::{AsyncRead, AsyncReadExt as _};

use super::{CHUNK_SIZE, Chunk, TransportError};
use crate::clock::SharedClock;

/// Bytes from standard input or a file.
pub(crate) struct InputSource {
    what: String,
    reader: Box<dyn AsyncRead + Send + Unpin>,
    buf: Vec<u8>,
    clock: SharedClock,
}

impl std::fmt::Debug for InputSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InputSource").field("what", &self.what).finish_non_exhaustive()
    }
}

impl InputSource {
    /// Standard input.
    pub(crate) fn stdin(clock: SharedClock) -> Self {
        Self::new("standard input".into(), Box::new(tokio::io::stdin()), clock)
    }

    /// A file, opened now.
    pub(crate) async fn file(path: &str, clock: SharedClock) -> Result<Self, TransportError> {
        let file = tokio::fs::File::open(path).await.map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => TransportError::NotFound(path.to_owned()),
            _ => TransportError::Open { target: path.to_owned(), message: e.to_string() },
        })?;
        Ok(Self::new(path.to_owned(), Box::new(file), clock))
    }

    fn new(what: String, reader: Box<dyn AsyncRead + Send + Unpin>, clock: SharedClock) -> Self {
        InputSource { what, reader, buf: vec![0; CHUNK_SIZE], clock }
    }

    /// What is being read, for people.
    pub(crate) fn description(&self) -> &str {
        &self.what
    }

    /// The next bytes, or [`TransportError::EndOfInput`] at the end. Cancel-safe: tokio's
    /// `read` takes nothing when it does not complete.
    pub(crate) async fn recv(&mut self) -> Result<Chunk, TransportError> {
        let n = self
            .reader
            .read(&mut self.buf)
            .await
            .map_err(|e| TransportError::Io(format!("{}: {e}", self.what)))?;
        let bytes = self.buf.get(..n).unwrap_or_default();
        if bytes.is_empty() {
            return Err(TransportError::EndOfInput);
        }
        Ok(Chunk { bytes: bytes.to_vec(), at: self.clock.now(), mono: self.clock.monotonic() })
    }
}
