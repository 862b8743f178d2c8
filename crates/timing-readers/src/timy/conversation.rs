//! The console's side of an ALGE Timy: it mostly just sends impulses, so the conversation is
//! asking it to re-send its memory (`RSM`) — on a reconnect once an impulse was seen, and for a
//! rewind. A Timy is often wired output-only: nothing is sent to probe a quiet line.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::command;
use crate::config::ReaderConfig;
use crate::supervisor::conversation::{ClockReply, Conversation, Out, Unsupported};
use crate::{ControlMessage, ReadDetails, ReplayKey, TagRead};

/// One Timy's conversation.
#[derive(Debug)]
pub(crate) struct TimyConversation {
    rewind_on_reconnect: bool,
    /// Any impulse seen (or a resume point given): its memory is worth re-sending. Kept across
    /// reconnects.
    seen: bool,
}

impl TimyConversation {
    pub(crate) fn new(config: &ReaderConfig) -> Self {
        let resumed = config.resume_after.as_ref().and_then(|r| r.key());
        TimyConversation {
            rewind_on_reconnect: config.rewind_on_reconnect,
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
