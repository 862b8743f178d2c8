//! Plain lines (readers.md §11): keyboard-wedge RFID readers, USB bib keypads and serial devices
//! that send one chip code or bib per line. CR, LF or CR LF end a line; blanks around the text
//! are trimmed; empty lines are ignored. Nothing here carries a time: the host receive time
//! (taken when the line's terminator arrives) is the read time.

pub(crate) mod conversation;

use crate::framing::{LineDecoder, LineRules, Terminator};
use crate::text::trim_line_end;
use crate::{Decoded, ReadDetails, ReadFlags, RejectReason, Rejected, TagRead};

/// Longest line accepted, terminator included.
pub const MAX_LINE: usize = 256;
/// Most bytes the decoder holds between calls.
pub const BUFFER_LIMIT: usize = MAX_LINE;

/// What the text of a line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineMeaning {
    /// A chip code (RFID desktop reader): goes to [`TagRead::chip`].
    Chip,
    /// A bib (keypad): goes to [`TagRead::bib`], `chip` stays empty.
    Bib,
}

/// The line rules: lines ended by CR, LF or CR LF, at most [`MAX_LINE`] bytes, whose text
/// means a chip (the default) or a bib.
#[derive(Debug, Clone, Copy)]
pub struct LineText {
    meaning: LineMeaning,
}

impl Default for LineText {
    fn default() -> Self {
        LineText { meaning: LineMeaning::Chip }
    }
}

impl LineRules for LineText {
    const TERMINATOR: Terminator = Terminator::CrOrLf;
    const MAX_LINE: usize = MAX_LINE;

    fn decode_line(&self, line: &[u8], out: &mut Vec<Decoded>) {
        out.extend(decode_line(line, self.meaning));
    }
}

/// Streaming decoder for line-per-read input (`new()`: the lines are chip codes).
pub type LinesDecoder = LineDecoder<LineText>;

impl LineDecoder<LineText> {
    /// A decoder whose lines mean `meaning`.
    pub fn with_meaning(meaning: LineMeaning) -> Self {
        Self::with_rules(LineText { meaning })
    }
}

/// Decodes one line (with or without its terminator). `None` for a blank line; text that is not
/// UTF-8 or holds control characters is rejected as garbage.
pub fn decode_line(line: &[u8], meaning: LineMeaning) -> Option<Decoded> {
    let text = match std::str::from_utf8(trim_line_end(line)) {
        Ok(text) => text.trim(),
        Err(_) => return Some(Decoded::Rejected(Rejected::new(RejectReason::Garbage, line))),
    };
    if text.is_empty() {
        return None;
    }
    if text.chars().any(char::is_control) {
        return Some(Decoded::Rejected(Rejected::new(RejectReason::Garbage, line)));
    }
    let (chip, bib) = match meaning {
        LineMeaning::Chip => (text.to_string(), None),
        LineMeaning::Bib => (String::new(), Some(text.to_string())),
    };
    Some(Decoded::Read(TagRead {
        chip,
        bib,
        antenna: None,
        rssi: None,
        reader_time: None,
        replay_key: None,
        flags: ReadFlags::default(),
        details: ReadDetails::Line,
        raw: line.to_vec(),
    }))
}
