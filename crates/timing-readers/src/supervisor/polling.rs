//! Polling of readers that only answer (R2000, Chafon): one inventory command outstanding at a
//! time, the next one due a poll interval after the last was sent, or again after
//! [`POLL_RETRY`] when the reader did not finish the round. Written once for both conversations.

use std::time::Duration;

use super::conversation::Out;

/// A polled reader that has not answered an inventory for this long is polled again.
const POLL_RETRY: Duration = Duration::from_secs(1);

/// The polling state of one reader (per connection, but for the interval).
#[derive(Debug)]
pub(crate) struct Poller {
    interval: Duration,
    /// The protocol's inventory command.
    command: fn() -> Vec<u8>,
    outstanding: bool,
    sent: Option<Duration>,
}

impl Poller {
    /// Polls with `command` every `interval` while reading is wanted.
    pub(crate) fn new(interval: Duration, command: fn() -> Vec<u8>) -> Self {
        Poller { interval, command, outstanding: false, sent: None }
    }

    /// A link came up: nothing is outstanding on it, and the first poll is due at once.
    pub(crate) fn on_connect(&mut self) {
        self.outstanding = false;
        self.sent = None;
    }

    /// The reader finished an inventory round: the next poll, when it is due.
    pub(crate) fn round_done(&mut self, mono: Duration, want_reading: bool) -> Vec<Out> {
        self.outstanding = false;
        self.due(mono, want_reading)
    }

    /// The timer pressed start: poll at once.
    pub(crate) fn start(&mut self, mono: Duration) -> Vec<Out> {
        self.outstanding = false;
        self.sent = None;
        self.due(mono, true)
    }

    /// The poll, when one is due (called every tick).
    pub(crate) fn due(&mut self, mono: Duration, want_reading: bool) -> Vec<Out> {
        if !want_reading {
            return Vec::new();
        }
        let since = self.sent.map(|sent| mono.saturating_sub(sent));
        let due = match (self.outstanding, since) {
            (_, None) => true,
            (false, Some(since)) => since >= self.interval,
            (true, Some(since)) => since >= POLL_RETRY,
        };
        if !due {
            return Vec::new();
        }
        self.outstanding = true;
        self.sent = Some(mono);
        vec![Out::Send((self.command)())]
    }
}
