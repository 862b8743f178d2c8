//! The one interface every protocol decoder offers, so transports and the supervisor can drive
//! any reader the same way.

use std::fmt;

use crate::Decoded;

/// A streaming decoder for one connection: feed it bytes as they arrive, in any pieces.
///
/// Implementations are pure (no clock, no I/O), never panic, keep the raw bytes of everything
/// they emit, and bound what they buffer (see the crate docs).
pub trait Decoder: Send + fmt::Debug {
    /// Decodes `bytes`, appending what completed to `out`. Incomplete input stays buffered.
    fn feed(&mut self, bytes: &[u8], out: &mut Vec<Decoded>);

    /// The transport saw no bytes for a while (it decides how long; ~100 ms suits serial). A
    /// decoder that is waiting for a frame that may never complete (a length byte read from
    /// garbage) may now give up on it and emit good frames already buffered behind it. Default:
    /// nothing to do.
    fn idle(&mut self, out: &mut Vec<Decoded>) {
        let _ = out;
    }

    /// The stream ended (EOF, disconnect): emits a trailing unterminated line where that is
    /// meaningful, or the leftover bytes as [`RejectReason::Truncated`](crate::RejectReason),
    /// and leaves the decoder empty, ready for a new stream.
    fn finish(&mut self, out: &mut Vec<Decoded>);

    /// Bytes held between calls (never more than the module's `BUFFER_LIMIT`).
    fn buffered(&self) -> usize;
}

/// Decodes a whole byte stream at once (`feed` then `finish`): for files and tests.
pub fn decode_all(decoder: &mut dyn Decoder, bytes: &[u8]) -> Vec<Decoded> {
    let mut out = Vec::new();
    decoder.feed(bytes, &mut out);
    decoder.finish(&mut out);
    out
}
