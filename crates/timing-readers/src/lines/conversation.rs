//! The console's side of a text-line source (keyboard wedge, bib keypad, serial text): there is
//! nothing to say to it. It only sends lines, never answers, and keeps no memory.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::ReaderConfig;
use crate::supervisor::conversation::{ClockReply, Conversation, Out, Unsupported};
use crate::{ControlMessage, TagRead};

/// One line source's (silent) conversation.
#[derive(Debug)]
pub(crate) struct LinesConversation;

impl LinesConversation {
    pub(crate) fn new(_config: &ReaderConfig) -> Self {
        LinesConversation
    }
}

impl Conversation for LinesConversation {
    fn on_connect(
        &mut self,
        _want_reading: bool,
        _now: DateTime<Utc>,
        _mono: Duration,
    ) -> Vec<Out> {
        Vec::new()
    }

    fn on_read(
        &mut self,
        _read: &TagRead,
        _reader_utc: Option<DateTime<Utc>>,
        _mono: Duration,
        _want_reading: bool,
    ) -> Vec<Out> {
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
        None // a keyboard wedge never answers
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
        Err(Unsupported)
    }
}
