//! The console's side of a RACE RESULT decoder: protocol 2.0, its time, start and pushed
//! passings on connect; after a reconnect, the count of passings in the current file and a fetch
//! (in chunks) from the first passing not delivered; a live gap in the pushed numbers fetched at
//! once; and a warning when the decoder moved on to another passing file while passings of the
//! old one were still owed (the link only brings the current file).

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{RaceResultControl, command};
use crate::ReaderZone;
use crate::config::ReaderConfig;
use crate::supervisor::conversation::{ClockReply, Conversation, Out, Unsupported};
use crate::supervisor::numbering::Numbered;
use crate::supervisor::utc_to_local;
use crate::{ControlMessage, ReadDetails, ReplayKey, TagRead};

/// Passings fetched per `<from>:<count>` request.
const FETCH_CHUNK: u64 = 500;

/// What a RACE RESULT `PASSINGS` reply is awaited for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CountFor {
    /// Fetch what came after the last passing seen.
    Resume,
    /// Fetch the whole current file (a requested rewind).
    All,
}

/// A RACE RESULT fetch in progress: passings `next..=end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fetch {
    next: u64,
    end: u64,
}

/// Files named one by one in [`file_left`]'s advice; more are given as a range.
const FILES_NAMED: u32 = 10;

/// RACE RESULT: the decoder moved on from file `old` (to `new`) before everything of `old` was
/// delivered, or while the link was down. A decoder sends only its current file over the link
/// (RACE RESULT knowledge base, "passing files"), so what `old` recorded after the passings
/// delivered — and any file between `old` and `new` — can only be read from the decoder's own
/// copy of the files.
fn file_left(old: u32, new: u32, seen: &Numbered) -> Out {
    let holes = if seen.above.is_empty() {
        String::new()
    } else {
        format!(" (and {} passing(s) past a gap)", seen.above.len())
    };
    let last = new.saturating_sub(1).max(old);
    let files = match last - old {
        0 => format!("file {old}"),
        n if n < FILES_NAMED => {
            let list: Vec<String> = (old..=last).map(|f| f.to_string()).collect();
            format!("files {}", list.join(", "))
        }
        _ => format!("files {old} to {last}"),
    };
    Out::Warn(format!(
        "the decoder started passing file {new} while file {old} was delivered only up to \
         passing #{}{holes}: passings recorded after that while the console was away are not \
         sent over the link; download {files} from the decoder (its web interface or a USB \
         stick) to get them",
        seen.through
    ))
}

/// One RACE RESULT decoder's conversation.
#[derive(Debug)]
pub(crate) struct RaceResultConversation {
    rewind_on_reconnect: bool,
    zone: ReaderZone,
    /// The file and the passing numbers of it delivered. Kept across reconnects.
    last: Option<(Option<u32>, Numbered)>,
    // Per connection.
    count_for: Option<CountFor>,
    fetch: Option<Fetch>,
}

impl RaceResultConversation {
    pub(crate) fn new(config: &ReaderConfig) -> Self {
        let mut last = None;
        if let Some(resume) = &config.resume_after
            && let Some(ReplayKey::RaceResult { file, passing, .. }) = resume.key()
        {
            last = Some((file, Numbered::through(passing, None)));
        }
        RaceResultConversation {
            rewind_on_reconnect: config.rewind_on_reconnect,
            zone: config.zone(),
            last,
            count_for: None,
            fetch: None,
        }
    }

    fn start_fetch(&mut self, from: u64, end: u64) -> Vec<Out> {
        if from > end {
            return Vec::new();
        }
        let count = (end - from).saturating_add(1).min(FETCH_CHUNK);
        self.fetch = Some(Fetch { next: from.saturating_add(count), end });
        vec![Out::Rewind(command::fetch_passings(from, count))]
    }
}

impl Conversation for RaceResultConversation {
    fn on_connect(&mut self, want_reading: bool, _now: DateTime<Utc>, _mono: Duration) -> Vec<Out> {
        self.count_for = None;
        self.fetch = None;
        let mut outs =
            vec![Out::Send(command::set_protocol("2.0")), Out::AskTime(command::get_time())];
        if want_reading {
            outs.push(Out::Send(command::start_operation()));
        }
        outs.push(Out::Send(command::set_push_passings(true)));
        if self.rewind_on_reconnect && self.last.is_some() {
            self.count_for = Some(CountFor::Resume);
            outs.push(Out::Send(command::passings_count()));
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
        let mut outs = Vec::new();
        let ReadDetails::RaceResult(d) = &read.details else { return outs };
        let passing = d.passing_number;
        let mut gap = None;
        match &mut self.last {
            Some((file, seen)) if *file == d.file_number => {
                if d.pushed && passing > seen.highest().saturating_add(1) {
                    // From the first passing not delivered: a hole left by a cut link is asked
                    // for again with the new gap.
                    gap = Some((seen.through.saturating_add(1), passing - 1));
                }
                seen.note(passing, None);
            }
            Some((file, seen)) if d.pushed => {
                // A new passing file: fetch its start if we missed it. What the old one still
                // owed (a hole being fetched) it no longer sends.
                if passing > 1 {
                    gap = Some((1, passing - 1));
                }
                if let (Some(old), Some(new)) = (*file, d.file_number)
                    && !seen.above.is_empty()
                {
                    outs.push(file_left(old, new, seen));
                }
                *file = d.file_number;
                *seen = Numbered::default();
                seen.note(passing, None);
            }
            Some(_) => {}
            None => self.last = Some((d.file_number, Numbered::through(passing, None))),
        }
        if let Some((from, to)) = gap {
            match &mut self.fetch {
                // A fetch is under way: let it run on over the gap.
                Some(fetch) => fetch.end = fetch.end.max(to),
                None => outs.extend(self.start_fetch(from, to)),
            }
        }
        outs
    }

    fn on_control(
        &mut self,
        message: &ControlMessage,
        _mono: Duration,
        _want_reading: bool,
    ) -> (Vec<Out>, Option<ClockReply>) {
        let mut outs = Vec::new();
        let mut clock = None;
        let ControlMessage::RaceResult(reply) = message else { return (outs, clock) };
        match reply {
            RaceResultControl::Time(time) => {
                clock = Some(ClockReply { time: *time, whole_seconds: false });
            }
            RaceResultControl::PassingsCount { count, file } => {
                if self.count_for == Some(CountFor::Resume)
                    && let (Some((Some(last_file), seen)), Some(file)) = (&self.last, file)
                    && last_file != file
                {
                    outs.push(file_left(*last_file, *file, seen));
                }
                if let Some(why) = self.count_for.take() {
                    let from = match (why, &self.last) {
                        (CountFor::Resume, Some((last_file, seen)))
                            if *last_file == *file || last_file.is_none() || file.is_none() =>
                        {
                            // The first passing not delivered, not the highest seen.
                            seen.through.saturating_add(1)
                        }
                        _ => 1,
                    };
                    match &mut self.fetch {
                        // A gap fetch is under way: let it run on to the end of the file.
                        Some(fetch) => fetch.end = fetch.end.max(*count),
                        None => outs.extend(self.start_fetch(from, *count)),
                    }
                }
            }
            RaceResultControl::EndOfList => {
                if let Some(fetch) = self.fetch.take() {
                    outs.extend(self.start_fetch(fetch.next, fetch.end));
                }
            }
            RaceResultControl::Reply { .. } => {}
        }
        (outs, clock)
    }

    fn on_tick(&mut self, _mono: Duration, _want_reading: bool) -> Vec<Out> {
        Vec::new()
    }

    fn probe(&self) -> Option<Out> {
        Some(Out::AskTime(command::get_time()))
    }

    fn can_start_stop(&self) -> bool {
        true
    }

    fn start(&mut self, _mono: Duration) -> Result<Vec<Out>, Unsupported> {
        Ok(vec![Out::Send(command::start_operation()), Out::Send(command::set_push_passings(true))])
    }

    fn stop(&mut self) -> Result<Vec<Out>, Unsupported> {
        Ok(vec![Out::Send(command::stop_operation())])
    }

    fn set_clock(&mut self, at: DateTime<Utc>) -> Result<Vec<Out>, Unsupported> {
        let local = utc_to_local(at, self.zone);
        Ok(vec![Out::Send(command::set_time(local)), Out::AskTime(command::get_time())])
    }

    /// The whole current file (a decoder has no rewind by time over the link).
    fn rewind(
        &mut self,
        _from: DateTime<Utc>,
        _to: DateTime<Utc>,
    ) -> Result<Vec<Out>, Unsupported> {
        self.count_for = Some(CountFor::All);
        Ok(vec![Out::Rewind(command::passings_count())])
    }

    fn catching_up(&self) -> bool {
        self.fetch.is_some() || self.last.as_ref().is_some_and(|(_, n)| !n.above.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Link;
    use crate::supervisor::conversation::testing::{items, now, rewinds, warnings};
    use crate::{Decoded, Protocol};

    fn rr_passing(n: u64, pushed: bool) -> TagRead {
        let push = if pushed { "#P;" } else { "" };
        let line = format!(
            "{push}{n};RR{n:05};2025-06-14;09:30:{:02}.000;;5;1C;;0;1;1;0;;;;;Finish;1;1;D-50123\r\n",
            n % 60
        );
        let decoded = items(Protocol::RaceResult, line.as_bytes());
        decoded.iter().find_map(Decoded::as_read).cloned().unwrap()
    }

    fn rr_control(text: &str) -> ControlMessage {
        let decoded = items(Protocol::RaceResult, text.as_bytes());
        match decoded.into_iter().next().unwrap() {
            Decoded::Control(control) => control.message,
            other => panic!("not a control message: {other:?}"),
        }
    }

    /// #1–#10 arrived, #11 and #12 were on the wire when the link was cut, #13 arrived live on
    /// the new link before the fetch's answer, then the link was cut again: the next reconnect
    /// fetches from #11, not from #14.
    #[test]
    fn a_raceresult_hole_is_fetched_again_after_the_next_reconnect() {
        let config = ReaderConfig::new(Protocol::RaceResult, Link::tcp("127.0.0.1", 1));
        let mut driver = RaceResultConversation::new(&config);
        let mono = Duration::ZERO;
        driver.on_connect(true, now(), Duration::ZERO);
        for n in 1..=10 {
            assert!(driver.on_read(&rr_passing(n, true), None, mono, true).is_empty());
        }
        driver.on_connect(true, now(), Duration::ZERO);
        let (outs, _) = driver.on_control(&rr_control("PASSINGS;14;1\r\n"), mono, true);
        assert_eq!(rewinds(&outs), ["11:4"]);
        driver.on_read(&rr_passing(15, true), None, mono, true);
        // Cut before the answer came.
        driver.on_connect(true, now(), Duration::ZERO);
        let (outs, _) = driver.on_control(&rr_control("PASSINGS;16;1\r\n"), mono, true);
        assert_eq!(rewinds(&outs), ["11:6"], "from the first passing never delivered");
        for n in 11..=16 {
            driver.on_read(&rr_passing(n, false), None, mono, true);
        }
        driver.on_connect(true, now(), Duration::ZERO);
        let (outs, _) = driver.on_control(&rr_control("PASSINGS;17;1\r\n"), mono, true);
        assert_eq!(rewinds(&outs), ["17:1"], "the hole is filled");
    }

    /// A live gap: #1–#3, then #7 pushed: #4–#6 are fetched; cut before they came; the reconnect
    /// fetches from #4.
    #[test]
    fn a_raceresult_live_gap_survives_a_cut() {
        let config = ReaderConfig::new(Protocol::RaceResult, Link::tcp("127.0.0.1", 1));
        let mut driver = RaceResultConversation::new(&config);
        let mono = Duration::ZERO;
        driver.on_connect(true, now(), Duration::ZERO);
        for n in 1..=3 {
            driver.on_read(&rr_passing(n, true), None, mono, true);
        }
        let outs = driver.on_read(&rr_passing(7, true), None, mono, true);
        assert_eq!(rewinds(&outs), ["4:3"]);
        driver.on_connect(true, now(), Duration::ZERO);
        let (outs, _) = driver.on_control(&rr_control("PASSINGS;8;1\r\n"), mono, true);
        assert_eq!(rewinds(&outs), ["4:5"]);
    }

    /// The decoder is on another file at the reconnect: the new file is fetched from #1, and
    /// the timer is told that the old one may hold passings the link will not bring.
    #[test]
    fn a_raceresult_file_left_behind_while_away_is_reported() {
        let config = ReaderConfig::new(Protocol::RaceResult, Link::tcp("127.0.0.1", 1));
        let mut driver = RaceResultConversation::new(&config);
        let mono = Duration::ZERO;
        driver.on_connect(true, now(), mono);
        for n in 1..=15 {
            driver.on_read(&rr_passing(n, true), None, mono, true);
        }
        driver.on_connect(true, now(), mono);
        let (outs, _) = driver.on_control(&rr_control("PASSINGS;16;1\r\n"), mono, true);
        assert!(warnings(&outs).is_empty(), "the same file: everything can be fetched");
        driver.on_connect(true, now(), mono);
        let (outs, _) = driver.on_control(&rr_control("PASSINGS;3;2\r\n"), mono, true);
        assert_eq!(rewinds(&outs), ["1:3"]);
        let said = warnings(&outs);
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(said[0].contains("file 1 was delivered only up to passing #15"), "{}", said[0]);
        assert!(said[0].contains("download file 1"), "{}", said[0]);
    }
}
