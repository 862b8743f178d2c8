//! The console's side of an ALGE Timy: it mostly just sends impulses, so the conversation is
//! asking it to re-send its memory (`RSM`) — on a reconnect once an impulse was seen, and for a
//! rewind. A Timy is often wired output-only: nothing is sent to probe a quiet line.
//!
//! What the impulse's number means depends on the timer's program, so the reader says it
//! (`number=`): an impulse counter (the default; the read is a time waiting for a bib) or the
//! start number (the read carries it as its bib).

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::command;
use crate::config::ReaderConfig;
use crate::registry::ProtocolOption;
use crate::supervisor::conversation::{ClockReply, Conversation, Out, Unsupported};
use crate::{ControlMessage, ReadDetails, ReplayKey, TagRead};

/// The spec options a Timy takes.
pub(crate) const OPTIONS: &[ProtocolOption] = &[ProtocolOption {
    name: "number",
    help: "what the impulse's number is: `impulse` (default: an impulse counter, the read is a \
           time waiting for a bib) or `bib` (the start number: the read carries it as its bib)",
    check: |v| number_means(v).map(drop),
}];

/// What a Timy impulse's number is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NumberMeans {
    /// A running impulse counter: no bib.
    Impulse,
    /// The start number: the read's bib.
    Bib,
}

/// `impulse` or `bib` (any case).
fn number_means(text: &str) -> Result<NumberMeans, &'static str> {
    match text.trim().to_ascii_lowercase().as_str() {
        "impulse" => Ok(NumberMeans::Impulse),
        "bib" => Ok(NumberMeans::Bib),
        _ => Err("impulse (the default: an impulse counter) or bib (the start number)"),
    }
}

/// One Timy's conversation.
#[derive(Debug)]
pub(crate) struct TimyConversation {
    rewind_on_reconnect: bool,
    number: NumberMeans,
    /// Any impulse seen (or a resume point given): its memory is worth re-sending. Kept across
    /// reconnects.
    seen: bool,
}

impl TimyConversation {
    pub(crate) fn new(config: &ReaderConfig) -> Self {
        let resumed = config.resume_after.as_ref().and_then(|r| r.key());
        let number = config
            .protocol_options
            .get("number")
            .and_then(|v| number_means(v).ok())
            .unwrap_or(NumberMeans::Impulse);
        TimyConversation {
            rewind_on_reconnect: config.rewind_on_reconnect,
            number,
            seen: matches!(resumed, Some(ReplayKey::Timy { .. })),
        }
    }
}

impl Conversation for TimyConversation {
    fn on_connect(
        &mut self,
        _want_reading: bool,
        _now: DateTime<Utc>,
        _mono: Duration,
    ) -> Vec<Out> {
        if self.rewind_on_reconnect && self.seen {
            vec![Out::Rewind(command::resend_memory())]
        } else {
            Vec::new()
        }
    }

    fn on_read(
        &mut self,
        read: &TagRead,
        _reader_utc: Option<DateTime<Utc>>,
        _mono: Duration,
        _want_reading: bool,
    ) -> Vec<Out> {
        if matches!(read.details, ReadDetails::Timy(_)) {
            self.seen = true;
        }
        Vec::new()
    }

    fn shape(&self, read: &mut TagRead) {
        if self.number == NumberMeans::Bib
            && let ReadDetails::Timy(d) = &read.details
        {
            read.bib = Some(d.number.to_string());
        }
    }

    fn on_control(
        &mut self,
        _message: &ControlMessage,
        _mono: Duration,
        _want_reading: bool,
    ) -> (Vec<Out>, Option<ClockReply>) {
        (Vec::new(), None)
    }

    fn on_tick(&mut self, _mono: Duration, _want_reading: bool) -> Vec<Out> {
        Vec::new()
    }

    fn probe(&self) -> Option<Out> {
        None // often wired output-only
    }

    fn can_start_stop(&self) -> bool {
        false
    }

    fn start(&mut self, _mono: Duration) -> Result<Vec<Out>, Unsupported> {
        Err(Unsupported)
    }

    fn stop(&mut self) -> Result<Vec<Out>, Unsupported> {
        Err(Unsupported)
    }

    fn set_clock(&mut self, _at: DateTime<Utc>) -> Result<Vec<Out>, Unsupported> {
        Err(Unsupported)
    }

    fn rewind(
        &mut self,
        _from: DateTime<Utc>,
        _to: DateTime<Utc>,
    ) -> Result<Vec<Out>, Unsupported> {
        Ok(vec![Out::Rewind(command::resend_memory())])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Protocol;
    use crate::supervisor::conversation::testing::items;

    fn config(options: &str) -> ReaderConfig {
        format!("serial:/dev/ttyUSB0?protocol=timy{options}").parse().unwrap()
    }

    fn impulse(line: &str) -> TagRead {
        let decoded = items(Protocol::Timy, line.as_bytes());
        decoded.iter().find_map(crate::Decoded::as_read).cloned().unwrap()
    }

    #[test]
    fn the_number_is_the_bib_only_when_the_reader_says_so() {
        let line = " 0042 c1  10:15:30.1234 00\r";
        let mut read = impulse(line);
        TimyConversation::new(&config("")).shape(&mut read);
        assert_eq!((read.chip.as_str(), read.bib.as_deref()), ("", None), "impulse by default");
        TimyConversation::new(&config("&number=impulse")).shape(&mut read);
        assert_eq!(read.bib, None);

        let mut read = impulse(line);
        let before = read.clone();
        TimyConversation::new(&config("&number=BIB")).shape(&mut read);
        assert_eq!(read.bib.as_deref(), Some("42"), "decimal, no leading zeros");
        assert_eq!(read.chip, "", "still no chip");
        assert_eq!(read.replay_key, before.replay_key, "the same read for rewinds");
        assert_eq!(TagRead { bib: None, ..read }, before, "nothing else changes");
    }

    #[test]
    fn the_option_says_what_it_accepts() {
        assert_eq!(number_means(" Bib "), Ok(NumberMeans::Bib));
        assert_eq!(number_means("impulse"), Ok(NumberMeans::Impulse));
        let refused = number_means("start").unwrap_err();
        assert!(refused.contains("impulse") && refused.contains("bib"), "{refused}");
    }
}
