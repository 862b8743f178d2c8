//! The console's side of an Impinj R2000 module: it only answers, so the conversation is polling
//! (a real-time inventory each poll interval while reading is wanted, the next once a round
//! ended) and, for a quiet link, asking the firmware version. No clock, no memory to rewind.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{R2000Control, command};
use crate::config::ReaderConfig;
use crate::supervisor::conversation::{ClockReply, Conversation, Out, Unsupported};
use crate::supervisor::polling::Poller;
use crate::{ControlMessage, TagRead};

/// The inventory each poll sends: one round, to any address.
fn inventory() -> Vec<u8> {
    command::real_time_inventory(command::BROADCAST, 1)
}

/// One R2000 module's conversation.
#[derive(Debug)]
pub(crate) struct R2000Conversation {
    poller: Poller,
}

impl R2000Conversation {
    pub(crate) fn new(config: &ReaderConfig) -> Self {
        R2000Conversation { poller: Poller::new(config.poll_interval, inventory) }
    }
}

impl Conversation for R2000Conversation {
    fn on_connect(
        &mut self,
        _want_reading: bool,
        _now: DateTime<Utc>,
        _mono: Duration,
    ) -> Vec<Out> {
        self.poller.on_connect();
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
        message: &ControlMessage,
        mono: Duration,
        want_reading: bool,
    ) -> (Vec<Out>, Option<ClockReply>) {
        let outs = match message {
            // The round ended (or the module refused it: nothing comes of it).
            ControlMessage::R2000(
                R2000Control::EndOfRound { .. } | R2000Control::Status { command: 0x89..=0x8B, .. },
            ) => self.poller.round_done(mono, want_reading),
            _ => Vec::new(),
        };
        (outs, None)
    }

    fn on_tick(&mut self, mono: Duration, want_reading: bool) -> Vec<Out> {
        self.poller.due(mono, want_reading)
    }

    fn probe(&self) -> Option<Out> {
        Some(Out::Send(command::get_firmware_version(command::BROADCAST)))
    }

    fn can_start_stop(&self) -> bool {
        true
    }

    fn start(&mut self, mono: Duration) -> Result<Vec<Out>, Unsupported> {
        Ok(self.poller.start(mono))
    }

    fn stop(&mut self) -> Result<Vec<Out>, Unsupported> {
        Ok(Vec::new()) // polling stops with the wish to read
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
