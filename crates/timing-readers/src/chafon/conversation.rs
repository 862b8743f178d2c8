//! The console's side of a Chafon reader in answer mode: polling (an inventory each poll
//! interval while reading is wanted, the next once the reader answered the last) and, for a
//! quiet link, asking the reader's information. No clock, no memory to rewind; a reader in
//! active mode just sends, and its reads end no round.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{CMD_INVENTORY, CMD_SINGLE_TAG_INVENTORY, ChafonControl, ChafonFrameKind, command};
use crate::config::ReaderConfig;
use crate::supervisor::conversation::{ClockReply, Conversation, Out, Unsupported};
use crate::supervisor::polling::Poller;
use crate::{ControlMessage, ReadDetails, TagRead};

/// The inventory each poll sends, to any address.
fn inventory() -> Vec<u8> {
    command::inventory(command::BROADCAST)
}

/// One Chafon reader's conversation.
#[derive(Debug)]
pub(crate) struct ChafonConversation {
    poller: Poller,
}

impl ChafonConversation {
    pub(crate) fn new(config: &ReaderConfig) -> Self {
        ChafonConversation { poller: Poller::new(config.poll_interval, inventory) }
    }
}

impl Conversation for ChafonConversation {
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
        read: &TagRead,
        _reader_utc: Option<DateTime<Utc>>,
        mono: Duration,
        want_reading: bool,
    ) -> Vec<Out> {
        // An inventory answer without "more frames follow" (status 0x03) ends the round.
        match &read.details {
            ReadDetails::Chafon(d) if d.kind != ChafonFrameKind::ActiveMode && d.status != 0x03 => {
                self.poller.round_done(mono, want_reading)
            }
            _ => Vec::new(),
        }
    }

    fn on_control(
        &mut self,
        message: &ControlMessage,
        mono: Duration,
        want_reading: bool,
    ) -> (Vec<Out>, Option<ClockReply>) {
        let outs = match message {
            ControlMessage::Chafon(
                ChafonControl::NoTag { .. }
                | ChafonControl::Frame { command: CMD_INVENTORY | CMD_SINGLE_TAG_INVENTORY, .. },
            ) => self.poller.round_done(mono, want_reading),
            _ => Vec::new(),
        };
        (outs, None)
    }

    fn on_tick(&mut self, mono: Duration, want_reading: bool) -> Vec<Out> {
        self.poller.due(mono, want_reading)
    }

    fn probe(&self) -> Option<Out> {
        Some(Out::Send(command::get_reader_info(command::BROADCAST)))
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
