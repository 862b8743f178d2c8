//! The two ways bytes become frames here — terminated lines and self-delimiting binary frames
//! found by trying every offset — written once, bounded and panic-free, for all decoders.
//!
//! Both are deterministic in the byte stream: where a feed call splits the input never changes
//! what comes out. The binary scanner decides offsets strictly in order: a frame is accepted only
//! once every earlier offset has been ruled out, so a length byte read from garbage can delay
//! frames (until its claimed length has arrived, or `idle`) but never make a real frame vanish.

use crate::text::span;
use crate::{RejectReason, Rejected};

/// Input is processed in pieces of this size, so a huge `feed` never balloons the buffer.
const CHUNK: usize = 4096;

/// Which bytes end a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Terminator {
    /// LF; a CR before it stays in the line (callers trim it).
    Lf,
    /// CR or LF; the LF of a CR LF pair is swallowed (it would be an empty line).
    CrOrLf,
}

/// What the line splitter found.
#[derive(Debug)]
pub(crate) enum LineEvent<'a> {
    /// A complete line, terminator included (none on a trailing line at `finish`).
    Line(&'a [u8]),
    /// A piece of a line that outgrew the limit (the first piece is exactly `limit` bytes).
    TooLong(&'a [u8]),
}

/// Splits a byte stream into lines, never holding more than `limit` bytes of one line.
#[derive(Debug)]
pub(crate) struct LineSplitter {
    buf: Vec<u8>,
    terminator: Terminator,
    limit: usize,
    /// Inside a line that was already cut as too long: drop up to its terminator.
    discarding: bool,
    /// The last line ended with CR (CR-or-LF mode): an LF right now is its partner.
    after_cr: bool,
    /// Leading bytes of the pending line already known to hold no terminator.
    scanned: usize,
}

impl LineSplitter {
    pub(crate) fn new(terminator: Terminator, limit: usize) -> Self {
        LineSplitter {
            buf: Vec::new(),
            terminator,
            limit: limit.max(1),
            discarding: false,
            after_cr: false,
            scanned: 0,
        }
    }

    pub(crate) fn buffered(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn feed(&mut self, bytes: &[u8], on: &mut dyn FnMut(LineEvent<'_>)) {
        for chunk in bytes.chunks(CHUNK) {
            self.buf.extend_from_slice(chunk);
            self.split(on);
        }
    }

    /// Emits the trailing unterminated line (or the rest of a too-long one) and resets.
    pub(crate) fn finish(&mut self, on: &mut dyn FnMut(LineEvent<'_>)) {
        let skip = usize::from(self.after_cr && self.buf.first() == Some(&b'\n'));
        let rest = span(&self.buf, skip, self.buf.len());
        if !rest.is_empty() {
            if self.discarding { on(LineEvent::TooLong(rest)) } else { on(LineEvent::Line(rest)) }
        }
        self.buf.clear();
        self.discarding = false;
        self.after_cr = false;
        self.scanned = 0;
    }

    fn split(&mut self, on: &mut dyn FnMut(LineEvent<'_>)) {
        let terminator = self.terminator;
        let is_end = |b: &u8| match terminator {
            Terminator::Lf => *b == b'\n',
            Terminator::CrOrLf => *b == b'\n' || *b == b'\r',
        };
        let mut start = 0;
        loop {
            if self.after_cr {
                match self.buf.get(start) {
                    None => break,
                    Some(b'\n') => {
                        start += 1;
                        self.after_cr = false;
                        continue;
                    }
                    Some(_) => self.after_cr = false,
                }
            }
            let pending = span(&self.buf, start, self.buf.len());
            let window = pending.len().min(self.limit);
            let from = self.scanned.min(window);
            match span(pending, from, window).iter().position(is_end) {
                Some(i) => {
                    let end = from + i + 1;
                    let line = span(pending, 0, end);
                    if self.discarding {
                        on(LineEvent::TooLong(line));
                    } else {
                        on(LineEvent::Line(line));
                    }
                    self.discarding = false;
                    self.after_cr = terminator == Terminator::CrOrLf && line.last() == Some(&b'\r');
                    self.scanned = 0;
                    start += end;
                }
                None if pending.len() >= self.limit => {
                    on(LineEvent::TooLong(span(pending, 0, self.limit)));
                    self.discarding = true;
                    self.scanned = 0;
                    start += self.limit;
                }
                None => {
                    self.scanned = pending.len();
                    break;
                }
            }
        }
        self.buf.drain(..start.min(self.buf.len()));
    }
}

/// The verdict on a frame candidate starting at some offset.
#[derive(Debug)]
pub(crate) enum Check {
    /// A valid frame of this many bytes starts here.
    Frame(usize),
    /// No frame starts here (the reason is kept for a garbage chunk that begins here).
    Invalid(RejectReason),
    /// Cannot tell until more bytes arrive.
    NeedMore,
}

/// What the binary scanner found.
#[derive(Debug)]
pub(crate) enum FrameEvent<'a> {
    /// A valid frame's bytes.
    Frame(&'a [u8]),
    /// Bytes that start no valid frame.
    Rejected(Rejected),
}

/// Finds self-delimiting frames at any offset of a byte stream.
#[derive(Debug)]
pub(crate) struct Resync {
    buf: Vec<u8>,
    /// Leading bytes already ruled out (garbage waiting to be reported).
    decided: usize,
    /// Why the first ruled-out byte was ruled out.
    first_reason: Option<RejectReason>,
    /// Garbage is reported in chunks of at most this many bytes.
    garbage_limit: usize,
}

impl Resync {
    pub(crate) fn new(garbage_limit: usize) -> Self {
        Resync {
            buf: Vec::new(),
            decided: 0,
            first_reason: None,
            garbage_limit: garbage_limit.max(1),
        }
    }

    pub(crate) fn buffered(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn feed(
        &mut self,
        bytes: &[u8],
        check: &dyn Fn(&[u8]) -> Check,
        on: &mut dyn FnMut(FrameEvent<'_>),
    ) {
        for chunk in bytes.chunks(CHUNK) {
            self.buf.extend_from_slice(chunk);
            self.scan(check, false, on);
        }
    }

    /// Gives up on an undecided candidate if a complete frame follows it, and reports pending
    /// garbage now.
    pub(crate) fn idle(
        &mut self,
        check: &dyn Fn(&[u8]) -> Check,
        on: &mut dyn FnMut(FrameEvent<'_>),
    ) {
        self.scan(check, true, on);
        self.flush_garbage(on);
    }

    /// Gives up on undecided candidates like `idle`, then reports whatever is left after the
    /// last frame as one rejection (with the reason of its first byte if that was ruled out,
    /// else truncated), and resets.
    pub(crate) fn finish(
        &mut self,
        check: &dyn Fn(&[u8]) -> Check,
        on: &mut dyn FnMut(FrameEvent<'_>),
    ) {
        self.scan(check, true, on);
        if !self.buf.is_empty() {
            let reason = match self.first_reason.take() {
                Some(reason) if self.decided > 0 => reason,
                _ => RejectReason::Truncated,
            };
            on(FrameEvent::Rejected(Rejected::new(reason, &self.buf)));
        }
        self.buf.clear();
        self.decided = 0;
        self.first_reason = None;
    }

    fn flush_garbage(&mut self, on: &mut dyn FnMut(FrameEvent<'_>)) {
        if self.decided > 0 {
            let reason = self.first_reason.take().unwrap_or(RejectReason::Garbage);
            on(FrameEvent::Rejected(Rejected::new(reason, span(&self.buf, 0, self.decided))));
            self.buf.drain(..self.decided.min(self.buf.len()));
            self.decided = 0;
        }
    }

    fn scan(
        &mut self,
        check: &dyn Fn(&[u8]) -> Check,
        lenient: bool,
        on: &mut dyn FnMut(FrameEvent<'_>),
    ) {
        let len = self.buf.len();
        let mut start = 0;
        let mut p = self.decided.min(len);
        while p < len {
            match check(span(&self.buf, p, len)) {
                Check::Frame(n) => {
                    let end = p.saturating_add(n.max(1)).min(len);
                    if p > start {
                        let reason = self.first_reason.take().unwrap_or(RejectReason::Garbage);
                        on(FrameEvent::Rejected(Rejected::new(reason, span(&self.buf, start, p))));
                    }
                    self.first_reason = None;
                    on(FrameEvent::Frame(span(&self.buf, p, end)));
                    start = end;
                    p = end;
                }
                Check::Invalid(reason) => {
                    if p == start {
                        self.first_reason = Some(reason);
                    }
                    p += 1;
                    if p - start >= self.garbage_limit {
                        let reason = self.first_reason.take().unwrap_or(RejectReason::Garbage);
                        on(FrameEvent::Rejected(Rejected::new(reason, span(&self.buf, start, p))));
                        start = p;
                    }
                }
                Check::NeedMore if lenient => {
                    let later = (p + 1..len)
                        .find(|q| matches!(check(span(&self.buf, *q, len)), Check::Frame(_)));
                    match later {
                        Some(q) => {
                            if p == start {
                                self.first_reason = Some(RejectReason::Truncated);
                            }
                            p = q;
                        }
                        None => break,
                    }
                }
                Check::NeedMore => break,
            }
        }
        self.decided = p.saturating_sub(start);
        self.buf.drain(..start.min(len));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(terminator: Terminator, limit: usize, pieces: &[&[u8]]) -> Vec<String> {
        let mut splitter = LineSplitter::new(terminator, limit);
        let mut out = Vec::new();
        let mut on = |e: LineEvent<'_>| {
            out.push(match e {
                LineEvent::Line(l) => format!("L{}", String::from_utf8_lossy(l).escape_debug()),
                LineEvent::TooLong(l) => format!("T{}", String::from_utf8_lossy(l).escape_debug()),
            })
        };
        for piece in pieces {
            splitter.feed(piece, &mut on);
        }
        splitter.finish(&mut on);
        out
    }

    #[test]
    fn crlf_counts_once_in_cr_or_lf_mode() {
        assert_eq!(
            lines(Terminator::CrOrLf, 16, &[b"a\r", b"\nb\nc\r\r\n"]),
            ["La\\r", "Lb\\n", "Lc\\r", "L\\r"]
        );
    }

    #[test]
    fn long_lines_are_cut_and_dropped_to_their_end() {
        assert_eq!(
            lines(Terminator::Lf, 4, &[b"abcdefghij\nok\n"]),
            ["Tabcd", "Tefgh", "Tij\\n", "Lok\\n"]
        );
        assert_eq!(lines(Terminator::Lf, 4, &[b"abcdef"]), ["Tabcd", "Tef"]);
    }

    #[test]
    fn trailing_line_is_emitted_at_finish() {
        assert_eq!(lines(Terminator::Lf, 8, &[b"x\ny"]), ["Lx\\n", "Ly"]);
    }
}
