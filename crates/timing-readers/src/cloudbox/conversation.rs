//! The console's side of a RUFUS CloudBox: ask its time, start it when reading is wanted, and
//! keep its passing numbers of the current run so that a gap (live, or left by a cut link) is
//! rewound by time — from the last passing up to which every number was delivered.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use super::{CloudBoxControl, command};
use crate::config::ReaderConfig;
use crate::supervisor::conversation::{ClockReply, Conversation, Out, Unsupported};
use crate::supervisor::numbering::Numbered;
use crate::{ControlMessage, ReadDetails, ReaderTime, ReplayKey, TagRead};

/// How far past the host's clock a CloudBox rewind after reconnect reaches.
const CLOUDBOX_REWIND_AHEAD: TimeDelta = TimeDelta::minutes(10);

/// One CloudBox's conversation.
#[derive(Debug)]
pub(crate) struct CloudBoxConversation {
    rewind_on_reconnect: bool,
    /// The passing numbers delivered (of the current run) and the newest reader time. Kept
    /// across reconnects.
    last: Option<(Numbered, Option<DateTime<Utc>>)>,
}

impl CloudBoxConversation {
    pub(crate) fn new(config: &ReaderConfig) -> Self {
        let mut last = None;
        if let Some(resume) = &config.resume_after
            && let Some(ReplayKey::CloudBox { passing_number, at }) = resume.key()
        {
            let at = at.or(resume.at);
            last = Some((Numbered::through(passing_number, at), at));
        }
        CloudBoxConversation { rewind_on_reconnect: config.rewind_on_reconnect, last }
    }

    /// The reader time a rewind after a reconnect starts from — that of the last passing up to
    /// which every number was delivered.
    fn rewind_from(&self) -> Option<DateTime<Utc>> {
        self.last.as_ref().and_then(|(seen, last_at)| seen.through_at.or(*last_at))
    }
}

impl Conversation for CloudBoxConversation {
    fn on_connect(&mut self, want_reading: bool, now: DateTime<Utc>, _mono: Duration) -> Vec<Out> {
        let mut outs = vec![Out::AskTime(command::get_system_time())];
        if want_reading {
            outs.push(Out::Send(command::start()));
        }
        if self.rewind_on_reconnect
            && let Some(at) = self.rewind_from()
        {
            let from = at - TimeDelta::seconds(1);
            outs.push(Out::Rewind(command::rewind(from, now + CLOUDBOX_REWIND_AHEAD)));
        }
        outs
    }

    fn on_read(
        &mut self,
        read: &TagRead,
        reader_utc: Option<DateTime<Utc>>,
        _mono: Duration,
        _want_reading: bool,
    ) -> Vec<Out> {
        let mut outs = Vec::new();
        let ReadDetails::CloudBox(d) = &read.details else { return outs };
        let Some(n) = d.passing_number else { return outs };
        match &mut self.last {
            Some((seen, last_at)) => {
                // Not earlier than the newest passing seen: of the current run (a rewind brings
                // earlier ones, maybe of an earlier run).
                let newest = match (*last_at, reader_utc) {
                    (Some(last_at), Some(at)) => at >= last_at,
                    _ => !read.flags.from_memory,
                };
                let highest = seen.highest();
                if n > highest && newest {
                    if n > highest.saturating_add(1)
                        && let (Some(from), Some(to)) = (seen.highest_at().or(*last_at), reader_utc)
                    {
                        outs.push(Out::Rewind(command::rewind(from, to)));
                    }
                    seen.note(n, reader_utc);
                    *last_at = reader_utc.or(*last_at);
                } else if n < highest && newest && !read.flags.from_memory {
                    // A new session or file on the box: numbering restarted.
                    *seen = Numbered::through(n, reader_utc);
                    *last_at = reader_utc.or(*last_at);
                } else if !seen.contains(n)
                    && match (seen.through_at, reader_utc) {
                        (Some(through_at), Some(at)) => at >= through_at,
                        _ => true,
                    }
                {
                    // A rewound passing of this run, filling a hole (an earlier run's passings
                    // with these numbers are older).
                    seen.note(n, reader_utc);
                }
            }
            None => self.last = Some((Numbered::through(n, reader_utc), reader_utc)),
        }
        outs
    }

    fn on_control(
        &mut self,
        message: &ControlMessage,
        _mono: Duration,
        _want_reading: bool,
    ) -> (Vec<Out>, Option<ClockReply>) {
        let mut clock = None;
        if let ControlMessage::CloudBox(CloudBoxControl::Reply { command, result }) = message
            && command.eq_ignore_ascii_case("GETSYSTEMTIME")
            && let Some(at) = super::system_time(result)
        {
            clock = Some(ClockReply { time: ReaderTime::Utc(at), whole_seconds: false });
        }
        (Vec::new(), clock)
    }

    fn on_tick(&mut self, _mono: Duration, _want_reading: bool) -> Vec<Out> {
        Vec::new()
    }

    fn probe(&self) -> Option<Out> {
        Some(Out::AskTime(command::get_system_time()))
    }

    fn can_start_stop(&self) -> bool {
        true
    }

    fn start(&mut self, _mono: Duration) -> Result<Vec<Out>, Unsupported> {
        Ok(vec![Out::Send(command::start())])
    }

    fn stop(&mut self) -> Result<Vec<Out>, Unsupported> {
        Ok(vec![Out::Send(command::stop())])
    }

    fn set_clock(&mut self, _at: DateTime<Utc>) -> Result<Vec<Out>, Unsupported> {
        Err(Unsupported)
    }

    fn rewind(&mut self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Out>, Unsupported> {
        Ok(vec![Out::Rewind(command::rewind(from, to))])
    }

    fn catching_up(&self) -> bool {
        self.last.as_ref().is_some_and(|(n, _)| !n.above.is_empty())
    }
}
