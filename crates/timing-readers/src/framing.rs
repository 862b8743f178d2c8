//! The two ways bytes become frames here — terminated lines and self-delimiting binary frames
//! found by trying every offset — written once, bounded and panic-free, for all decoders.
//!
//! Both are deterministic in the byte stream: where a feed call splits the input never changes
//! what comes out. The binary scanner decides offsets strictly in order: a frame is accepted only
//! once every earlier offset has been ruled out, so a length byte read from garbage can delay
//! frames (until its claimed length has arrived, or `idle`) but never make a real frame vanish.

//!
//! [`LineDecoder`] and [`FrameDecoder`] are the decoder shells built on them: a protocol
//! supplies only its rules ([`LineRules`], [`FrameRules`]) and names the result, e.g.
//! `pub type IpicoDecoder = LineDecoder<IpicoLines>`.

use std::fmt;

use crate::text::span;
use crate::{Decoded, Decoder, RejectReason, Rejected};

/// A line protocol's rules: how its lines end, the longest line, and what one line says.
pub trait LineRules: fmt::Debug + Send {
    /// Which bytes end a line.
    const TERMINATOR: Terminator;
    /// Longest line accepted, terminator included (longer ones are rejected as too long).
    const MAX_LINE: usize;
    /// Decodes one complete line (terminator included; none on a trailing line at `finish`).
    fn decode_line(&self, line: &[u8], out: &mut Vec<Decoded>);
}

/// The decoder of every line protocol: [`LineSplitter`] under the protocol's [`LineRules`].
#[derive(Debug)]
pub struct LineDecoder<R> {
    lines: LineSplitter,
    rules: R,
}

impl<R: LineRules> LineDecoder<R> {
    /// A decoder for one connection, with these rules.
    pub fn with_rules(rules: R) -> Self {
        LineDecoder { lines: LineSplitter::new(R::TERMINATOR, R::MAX_LINE), rules }
    }

    /// A decoder for one connection, with the protocol's default rules.
    pub fn new() -> Self
    where
        R: Default,
    {
        Self::with_rules(R::default())
    }

    fn on_line(rules: &R, event: LineEvent<'_>, out: &mut Vec<Decoded>) {
        match event {
            LineEvent::Line(line) => rules.decode_line(line, out),
            LineEvent::TooLong(raw) => out.push(Decoded::Rejected(Rejected::new(
                RejectReason::TooLong { limit: R::MAX_LINE },
                raw,
            ))),
        }
    }
}

impl<R: LineRules + Default> Default for LineDecoder<R> {
    fn default() -> Self {
        Self::new()
    }
}

impl<R: LineRules> Decoder for LineDecoder<R> {
    fn feed(&mut self, bytes: &[u8], out: &mut Vec<Decoded>) {
        let rules = &self.rules;
        self.lines.feed(bytes, &mut |event| Self::on_line(rules, event, out));
    }

    fn finish(&mut self, out: &mut Vec<Decoded>) {
        let rules = &self.rules;
        self.lines.finish(&mut |event| Self::on_line(rules, event, out));
    }

    fn buffered(&self) -> usize {
        self.lines.buffered()
    }
}

/// A binary protocol's rules: whether a frame starts at an offset, and what a frame says.
pub trait FrameRules: fmt::Debug + Send {
    /// Garbage is reported in chunks of at most this many bytes.
    const GARBAGE_CHUNK: usize;
    /// Is a valid frame at the start of `at`?
    fn check(at: &[u8]) -> Check;
    /// Decodes one complete, checked frame.
    fn decode_frame(&self, frame: &[u8], out: &mut Vec<Decoded>);
}

/// The decoder of every self-delimiting binary protocol: [`Resync`] under the protocol's
/// [`FrameRules`].
#[derive(Debug)]
pub struct FrameDecoder<R> {
    frames: Resync,
    rules: R,
}

impl<R: FrameRules> FrameDecoder<R> {
    /// A decoder for one connection, with these rules.
    pub fn with_rules(rules: R) -> Self {
        FrameDecoder { frames: Resync::new(R::GARBAGE_CHUNK), rules }
    }

    /// A decoder for one connection, with the protocol's default rules.
    pub fn new() -> Self
    where
        R: Default,
    {
        Self::with_rules(R::default())
    }

    fn on_frame(rules: &R, event: FrameEvent<'_>, out: &mut Vec<Decoded>) {
        match event {
            FrameEvent::Frame(frame) => rules.decode_frame(frame, out),
            FrameEvent::Rejected(rejected) => out.push(Decoded::Rejected(rejected)),
        }
    }
}

impl<R: FrameRules + Default> Default for FrameDecoder<R> {
    fn default() -> Self {
        Self::new()
    }
}

impl<R: FrameRules> Decoder for FrameDecoder<R> {
    fn feed(&mut self, bytes: &[u8], out: &mut Vec<Decoded>) {
        let rules = &self.rules;
        self.frames.feed(bytes, &R::check, &mut |event| Self::on_frame(rules, event, out));
    }

    fn idle(&mut self, out: &mut Vec<Decoded>) {
        let rules = &self.rules;
        self.frames.idle(&R::check, &mut |event| Self::on_frame(rules, event, out));
    }

    fn finish(&mut self, out: &mut Vec<Decoded>) {
        let rules = &self.rules;
        self.frames.finish(&R::check, &mut |event| Self::on_frame(rules, event, out));
    }

    fn buffered(&self) -> usize {
        self.frames.buffered()
    }
}

/// Input is processed in pieces of this size, so a huge `feed` never balloons the buffer.
const CHUNK: usize = 4096;

/// Which bytes end a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Terminator {
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
pub enum Check {
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
