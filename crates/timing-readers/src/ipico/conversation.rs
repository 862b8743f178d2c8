//! The console's side of an IPICO Lite / Elite reader: ask its clock on connect (and to probe a
//! quiet link), set it, and — on an Elite, whose stored reads come over side ports — replay what
//! was missed after a reconnect, from the latest read seen (or from where an unfinished replay
//! started).

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};

use super::{IpicoControl, command};
use crate::config::{EliteReplay, ReaderConfig};
use crate::supervisor::conversation::{ClockReply, Conversation, Out, Unsupported};
use crate::supervisor::utc_to_local;
use crate::{ControlMessage, ReadDetails, ReaderTime, ReaderZone, ReplayKey, TagRead};

/// The chip of a trigger-button read (a gun read makes no passing: it starts a wave).
const GUN_CHIP: &str = "gun";

/// One IPICO reader's conversation.
#[derive(Debug)]
pub(crate) struct IpicoConversation {
    rewind_on_reconnect: bool,
    elite: Option<EliteReplay>,
    zone: ReaderZone,
    // What was learnt about the reader; kept across reconnects.
    /// Latest reader-local time seen.
    last: Option<NaiveDateTime>,
    /// Elite: a replay asked for (from this reader-local time; `None` = everything) that has not
    /// finished yet. Live reads after a reconnect arrive past what the replay brings, so until it
    /// finished the next reconnect replays from here, not from `last`.
    replay: Option<Option<NaiveDateTime>>,
}

impl IpicoConversation {
    pub(crate) fn new(config: &ReaderConfig) -> Self {
        let mut last = None;
        if let Some(resume) = &config.resume_after {
            match resume.key() {
                Some(ReplayKey::Ipico { at, .. }) => last = Some(at),
                None => last = resume.at.map(|at| utc_to_local(at, config.zone())),
                Some(_) => {}
            }
        }
        IpicoConversation {
            rewind_on_reconnect: config.rewind_on_reconnect,
            elite: config.ipico_elite,
            zone: config.zone(),
            last,
            replay: None,
        }
    }
}

impl Conversation for IpicoConversation {
    fn on_connect(
        &mut self,
        _want_reading: bool,
        _now: DateTime<Utc>,
        _mono: Duration,
    ) -> Vec<Out> {
        let mut outs = vec![Out::AskTime(command::get_clock(0))];
        if self.rewind_on_reconnect
            && self.last.is_some()
            && let Some(ports) = self.elite
        {
            // A replay that did not finish covers what this one would, and more.
            let from = match self.replay {
                Some(unfinished) => unfinished.min(self.last),
                None => self.last,
            };
            self.replay = Some(from);
            outs.push(Out::EliteReplay { from, ports });
        }
        outs
    }

    fn on_read(
        &mut self,
        read: &TagRead,
        _reader_utc: Option<DateTime<Utc>>,
        _mono: Duration,
        _want_reading: bool,
    ) -> Vec<Out> {
        if let ReadDetails::Ipico(_) = read.details
            && let Some(ReaderTime::Local(at)) = read.reader_time
            && self.last.is_none_or(|last| at > last)
        {
            self.last = Some(at);
        }
        Vec::new()
    }

    fn on_control(
        &mut self,
        message: &ControlMessage,
        _mono: Duration,
        _want_reading: bool,
    ) -> (Vec<Out>, Option<ClockReply>) {
        let clock = match message {
            ControlMessage::Ipico(IpicoControl::Frame(frame)) => frame
                .clock()
                .map(|at| ClockReply { time: ReaderTime::Local(at), whole_seconds: false }),
            _ => None,
        };
        (Vec::new(), clock)
    }

    /// The trigger button (`2c`) marks the start: a gun read at the reader's time of the press.
    fn control_read(&self, message: &ControlMessage, raw: &[u8]) -> Option<TagRead> {
        let ControlMessage::Ipico(IpicoControl::Trigger { at, .. }) = message else { return None };
        let mut read = TagRead::of_chip(GUN_CHIP);
        read.flags.gun = true;
        read.reader_time = Some(ReaderTime::Local(*at));
        read.raw = raw.to_vec();
        Some(read)
    }

    fn on_tick(&mut self, _mono: Duration, _want_reading: bool) -> Vec<Out> {
        Vec::new()
    }

    fn probe(&self) -> Option<Out> {
        Some(Out::AskTime(command::get_clock(0)))
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

    fn set_clock(&mut self, at: DateTime<Utc>) -> Result<Vec<Out>, Unsupported> {
        let local = utc_to_local(at, self.zone);
        Ok(vec![Out::Send(command::set_clock(0, local)), Out::AskTime(command::get_clock(0))])
    }

    fn rewind(&mut self, from: DateTime<Utc>, _to: DateTime<Utc>) -> Result<Vec<Out>, Unsupported> {
        match self.elite {
            Some(ports) => {
                Ok(vec![Out::EliteReplay { from: Some(utc_to_local(from, self.zone)), ports }])
            }
            None => Err(Unsupported),
        }
    }

    fn catching_up(&self) -> bool {
        self.replay.is_some()
    }

    fn replay_finished(&mut self, from: Option<NaiveDateTime>) {
        if let Some(asked) = self.replay
            && from <= asked
        {
            self.replay = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Link;
    use crate::supervisor::conversation::testing::{items, now};
    use crate::{Decoded, Protocol};

    fn ipico_read(second: u32) -> TagRead {
        let body = format!("01058001a2b3c4020125061409301{second}00");
        let frame = format!("aa{body}{:02x}\r\n", crate::ipico::lrc(body.as_bytes()));
        let decoded = items(Protocol::Ipico, frame.as_bytes());
        decoded.iter().find_map(Decoded::as_read).cloned().unwrap()
    }

    fn replay_from(outs: &[Out]) -> Option<Option<NaiveDateTime>> {
        outs.iter().find_map(|o| match o {
            Out::EliteReplay { from, .. } => Some(*from),
            _ => None,
        })
    }

    /// An IPICO Elite replay that did not finish (the link was cut again while live reads came
    /// in on the new link) is asked for again from where it started; once one finished, the next
    /// replay starts from the latest read.
    #[test]
    fn an_unfinished_elite_replay_is_asked_for_again_from_its_start() {
        let mut config = ReaderConfig::new(Protocol::Ipico, Link::tcp("127.0.0.1", 1));
        config.ipico_elite = Some(EliteReplay { control_port: 2, replay_port: 3 });
        let mut driver = IpicoConversation::new(&config);
        let mono = Duration::ZERO;
        let at = |read: &TagRead| match read.reader_time {
            Some(ReaderTime::Local(at)) => Some(at),
            _ => None,
        };
        assert_eq!(
            replay_from(&driver.on_connect(true, now(), Duration::ZERO)),
            None,
            "nothing seen yet"
        );
        assert!(!driver.catching_up());
        let first = ipico_read(1);
        driver.on_read(&first, None, mono, true);
        let outs = driver.on_connect(true, now(), Duration::ZERO);
        assert_eq!(replay_from(&outs), Some(at(&first)));
        assert!(driver.catching_up(), "live reads overtake the replay: not in order");
        // Live reads on the new link, then a cut before the replay ended.
        driver.on_read(&ipico_read(5), None, mono, true);
        let outs = driver.on_connect(true, now(), Duration::ZERO);
        assert_eq!(replay_from(&outs), Some(at(&first)), "from the unfinished replay's start");
        driver.replay_finished(at(&first));
        assert!(!driver.catching_up(), "the replay brought what was owed");
        let later = ipico_read(7);
        driver.on_read(&later, None, mono, true);
        assert_eq!(replay_from(&driver.on_connect(true, now(), Duration::ZERO)), Some(at(&later)));
    }
}
