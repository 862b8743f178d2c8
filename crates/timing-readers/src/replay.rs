//! The stable text form of a [`ReplayKey`], so the engine can store "which reads of this reader it
//! already holds" in a database column and the supervisor can resume a reader from there.
//!
//! The text is a function of the key alone (never of the host, the connection or the time it
//! arrived), it differs for different keys, and it parses back to the same key. Together with the
//! reader's name (`StampedRead::source`) it identifies one read across rewinds, reconnects and
//! restarts of the console.
//!
//! A key built on a number the reader assigns also names the reader's *numbering run*, because
//! readers start numbering again: a CloudBox numbers each session or file from 1, an Ultra's log
//! restarts after a reset. Neither frame names the run, so the key carries the read's own reader
//! time (at the protocol's resolution): a rewound read brings the same number *and* the same
//! time, read number 1 of a new run a different time. RACE RESULT records name their file
//! (`FileNumber`, protocol ≥ 1.6, which the supervisor asks for), so the file is the run there;
//! a record without it (older protocols) carries its reader time instead —
//! `YYYYmmddTHHMMSS.fff`, or `d<days>THHMMSS.fff` while the decoder's clock counts from its start.
//! IPICO and Timy keys already hold the read's time.
//!
//! | Protocol | Text |
//! |---|---|
//! | IPICO | `ipico:<reader id, 2 hex>:<tag>:<YYYYmmddTHHMMSS.fff>:<fs\|ls\|raw>` |
//! | Ultra | `ultra:<ultra id>:<reader>:<log id>:<YYYYmmddTHHMMSS.fff, reader-local>` |
//! | RACE RESULT | `raceresult:<box id, `%`/`:` escaped>:<file or ->:<passing>[:<reader time>]` |
//! | CloudBox | `cloudbox:<passing number>:<YYYYmmddTHHMMSS.fffZ, UTC>` |
//! | Timy | `timy:<number>:c<channel>[M]:<HHMMSS.ffffff>` |
//! | LLRP | `llrp:<EPC hex>:<antenna>:<first seen, µs since the epoch, UTC>` |
//!
//! Times have three decimals when they fall on a whole millisecond (Ultra always, CloudBox as
//! documented), else nine. Texts of older versions without the time — `ultra:<id>:<reader>:<log>`,
//! `cloudbox:<n>`, `raceresult:<box>:-:<passing>` — still parse (to a key whose time is `None`); databases hold them and
//! [`ResumePoint`]s are made from them.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime, NaiveTime, Timelike as _, Utc};

use crate::text::{decimal_as, hex_byte};
use crate::timy::TimyChannel;
use crate::{ReaderTime, ReaderZone, ReplayKey};

const IPICO_TIME: &str = "%Y%m%dT%H%M%S%.3f";
const TIMY_TIME: &str = "%H%M%S%.6f";
/// A run's time: whole seconds, the fraction parsed with any number of digits.
const RUN_TIME_PARSE: &str = "%Y%m%dT%H%M%S%.f";

/// `YYYYmmddTHHMMSS.fff` (or nine decimals when the time is not on a whole millisecond).
fn run_time(at: NaiveDateTime) -> String {
    if at.nanosecond().is_multiple_of(1_000_000) {
        at.format("%Y%m%dT%H%M%S%.3f").to_string()
    } else {
        at.format("%Y%m%dT%H%M%S%.9f").to_string()
    }
}

fn parse_run_time(text: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text, RUN_TIME_PARSE).ok()
}

/// A reader time in a key: `YYYYmmddTHHMMSS.fff` (local), the same with `Z` (UTC),
/// `d<days>THHMMSS.fff` (since the clock started) or `THHMMSS.fff` (time of day); nine decimals
/// when not on a whole millisecond.
fn reader_time_text(at: ReaderTime) -> String {
    let time = |t: NaiveTime| {
        if t.nanosecond().is_multiple_of(1_000_000) {
            t.format("%H%M%S%.3f").to_string()
        } else {
            t.format("%H%M%S%.9f").to_string()
        }
    };
    match at {
        ReaderTime::Local(at) => run_time(at),
        ReaderTime::Utc(at) => format!("{}Z", run_time(at.naive_utc())),
        ReaderTime::SinceStart { days, time: t } => format!("d{days}T{}", time(t)),
        ReaderTime::TimeOfDay(t) => format!("T{}", time(t)),
    }
}

fn parse_reader_time(text: &str) -> Option<ReaderTime> {
    let time = |t: &str| NaiveTime::parse_from_str(t, "%H%M%S%.f").ok();
    if let Some(rest) = text.strip_prefix('d') {
        let (days, t) = rest.split_once('T')?;
        return Some(ReaderTime::SinceStart { days: decimal_as(days.as_bytes())?, time: time(t)? });
    }
    if let Some(t) = text.strip_prefix('T') {
        return Some(ReaderTime::TimeOfDay(time(t)?));
    }
    match text.strip_suffix('Z') {
        Some(at) => Some(ReaderTime::Utc(parse_run_time(at)?.and_utc())),
        None => Some(ReaderTime::Local(parse_run_time(text)?)),
    }
}

impl fmt::Display for ReplayKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplayKey::Ipico { reader_id, tag, at, first_seen } => {
                let kind = match first_seen {
                    Some(true) => "fs",
                    Some(false) => "ls",
                    None => "raw",
                };
                write!(f, "ipico:{reader_id:02x}:{tag}:{}:{kind}", at.format(IPICO_TIME))
            }
            ReplayKey::Ultra { ultra_id, reader, log_id, at } => match at {
                Some(at) => write!(f, "ultra:{ultra_id}:{reader}:{log_id}:{}", run_time(*at)),
                None => write!(f, "ultra:{ultra_id}:{reader}:{log_id}"),
            },
            ReplayKey::RaceResult { box_id, file, passing, at } => {
                let escaped = box_id.replace('%', "%25").replace(':', "%3A");
                match file {
                    Some(file) => write!(f, "raceresult:{escaped}:{file}:{passing}")?,
                    None => write!(f, "raceresult:{escaped}:-:{passing}")?,
                }
                match at {
                    Some(at) => write!(f, ":{}", reader_time_text(*at)),
                    None => Ok(()),
                }
            }
            ReplayKey::CloudBox { passing_number, at } => match at {
                Some(at) => write!(f, "cloudbox:{passing_number}:{}Z", run_time(at.naive_utc())),
                None => write!(f, "cloudbox:{passing_number}"),
            },
            ReplayKey::Timy { number, channel, time } => {
                let manual = if channel.manual { "M" } else { "" };
                write!(f, "timy:{number}:c{}{manual}:{}", channel.number, time.format(TIMY_TIME))
            }
            ReplayKey::Llrp { epc, antenna, first_seen_us } => {
                write!(f, "llrp:{epc}:{antenna}:{first_seen_us}")
            }
        }
    }
}

/// Text that is not the [`Display`](fmt::Display) form of a [`ReplayKey`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a replay key: {0:?}")]
pub struct BadReplayKey(pub String);

impl FromStr for ReplayKey {
    type Err = BadReplayKey;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s).ok_or_else(|| BadReplayKey(s.to_string()))
    }
}

fn parse(s: &str) -> Option<ReplayKey> {
    let (kind, rest) = s.split_once(':')?;
    let parts: Vec<&str> = rest.split(':').collect();
    match (kind, parts.as_slice()) {
        ("ipico", [reader, tag, at, seen]) => Some(ReplayKey::Ipico {
            reader_id: hex_byte(reader.as_bytes())?,
            tag: (*tag).to_string(),
            at: NaiveDateTime::parse_from_str(at, IPICO_TIME).ok()?,
            first_seen: match *seen {
                "fs" => Some(true),
                "ls" => Some(false),
                "raw" => None,
                _ => return None,
            },
        }),
        ("ultra", [ultra_id, reader, log_id, at @ ..]) if at.len() <= 1 => Some(ReplayKey::Ultra {
            ultra_id: decimal_as(ultra_id.as_bytes())?,
            reader: decimal_as(reader.as_bytes())?,
            log_id: decimal_as(log_id.as_bytes())?,
            at: match at.first() {
                Some(at) => Some(parse_run_time(at)?),
                None => None,
            },
        }),
        ("raceresult", [box_id, file, passing, at @ ..]) if at.len() <= 1 => {
            Some(ReplayKey::RaceResult {
                box_id: box_id.replace("%3A", ":").replace("%25", "%"),
                file: match *file {
                    "-" => None,
                    file => Some(decimal_as(file.as_bytes())?),
                },
                passing: decimal_as(passing.as_bytes())?,
                at: match at.first() {
                    Some(at) => Some(parse_reader_time(at)?),
                    None => None,
                },
            })
        }
        ("cloudbox", [number, at @ ..]) if at.len() <= 1 => Some(ReplayKey::CloudBox {
            passing_number: decimal_as(number.as_bytes())?,
            at: match at.first() {
                Some(at) => Some(parse_run_time(at.strip_suffix('Z')?)?.and_utc()),
                None => None,
            },
        }),
        ("timy", [number, channel, time]) => {
            let digits = channel.strip_prefix('c')?;
            let (digits, manual) = match digits.strip_suffix('M') {
                Some(d) => (d, true),
                None => (digits, false),
            };
            Some(ReplayKey::Timy {
                number: decimal_as(number.as_bytes())?,
                channel: TimyChannel { number: decimal_as(digits.as_bytes())?, manual },
                time: NaiveTime::parse_from_str(time, TIMY_TIME).ok()?,
            })
        }
        ("llrp", [epc, antenna, first_seen_us])
            if !epc.is_empty() && epc.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            Some(ReplayKey::Llrp {
                epc: (*epc).to_string(),
                antenna: decimal_as(antenna.as_bytes())?,
                first_seen_us: decimal_as(first_seen_us.as_bytes())?,
            })
        }
        _ => None,
    }
}

/// Where a previous run stopped reading a reader: the last read the engine holds from it. The
/// supervisor starts its rewind after this on the first connection, as it does after every
/// reconnect within its lifetime.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResumePoint {
    /// The last read's replay key (text form: [`StampedRead::replay_key`](crate::StampedRead)).
    pub replay_key: Option<String>,
    /// The last read's reader time in UTC (CloudBox and IPICO Elite rewind by time).
    pub at: Option<DateTime<Utc>>,
}

impl ResumePoint {
    /// The replay key, parsed (`None` when absent or not a key).
    pub fn key(&self) -> Option<ReplayKey> {
        self.replay_key.as_deref().and_then(|k| k.parse().ok())
    }

    /// Where to resume a reader from the replay keys the engine holds for it, each with its
    /// read's time (reader's clock where it has one), in the order they were stored: the last
    /// read up to which every read of the reader's current numbering run is held — not the last
    /// one stored, which may have arrived live past a hole (reads in transit when a link was
    /// cut, a gap or rewind being fetched when the console stopped).
    ///
    /// Numbered keys (Ultra per box and internal reader, RACE RESULT per box, CloudBox) are split
    /// into numbering runs (RACE RESULT by file, the others — and RACE RESULT records without a
    /// file — where numbers go back in time order);
    /// the current run counts from its lowest number held when it is the only run, else from 1.
    /// A current run whose first reads are missing resumes at the point of the run before it, so
    /// the supervisor sees the new run from its start. Where several Ultra readers are held, the
    /// earliest point wins. Keys without numbers (IPICO, Timy) and texts that are not keys resume
    /// after the last read stored.
    pub fn in_order<'a>(
        stored: impl IntoIterator<Item = (&'a str, DateTime<Utc>)>,
    ) -> Option<ResumePoint> {
        let stored: Vec<(&str, DateTime<Utc>)> = stored.into_iter().collect();
        let &(last_text, last_at) = stored.last()?;
        let point = |text: &str, at: DateTime<Utc>| ResumePoint {
            replay_key: Some(text.to_string()),
            at: Some(at),
        };
        let fallback = point(last_text, last_at);
        let Ok(last) = last_text.parse::<ReplayKey>() else { return Some(fallback) };
        // The reads of each numbering family: (family, run, number, time, text).
        let mut families: BTreeMap<String, Vec<Numbered<'_>>> = BTreeMap::new();
        let wanted = |key: &ReplayKey| -> Option<(String, Option<u32>, u64)> {
            match (key, &last) {
                (ReplayKey::Ultra { ultra_id, reader, log_id, .. }, ReplayKey::Ultra { .. }) => {
                    Some((format!("{ultra_id}:{reader}"), None, *log_id))
                }
                (
                    ReplayKey::RaceResult { box_id, file, passing, .. },
                    ReplayKey::RaceResult { box_id: last_box, .. },
                ) if box_id == last_box => Some((String::new(), *file, *passing)),
                (ReplayKey::CloudBox { passing_number, .. }, ReplayKey::CloudBox { .. }) => {
                    Some((String::new(), None, *passing_number))
                }
                _ => None,
            }
        };
        for &(text, at) in &stored {
            let Ok(key) = text.parse::<ReplayKey>() else { continue };
            if let Some((family, file, number)) = wanted(&key) {
                families.entry(family).or_default().push(Numbered { file, number, at, text });
            }
        }
        if families.is_empty() {
            return Some(fallback);
        }
        // RACE RESULT runs are files; records that name none split by time like the others.
        let by_file = matches!(last, ReplayKey::RaceResult { file: Some(_), .. });
        families
            .into_values()
            .filter_map(|reads| in_order_of(reads, by_file))
            .min_by_key(|read| read.number)
            .map(|read| point(read.text, read.at))
            .or(Some(fallback))
    }

    /// The texts the point's read has: the stored one and, for a key an older version stored
    /// without its run (`cloudbox:5`, `ultra:1:1:9`), the key as this version spells it, its
    /// time taken from [`at`](Self::at) (the reader's zone for a reader-local time).
    pub(crate) fn key_texts(&self, zone: ReaderZone) -> Vec<String> {
        let mut texts: Vec<String> = self.replay_key.iter().cloned().collect();
        let upgraded = match (self.key(), self.at) {
            (Some(ReplayKey::CloudBox { passing_number, at: None }), Some(at)) => {
                Some(ReplayKey::CloudBox { passing_number, at: Some(at) })
            }
            (Some(ReplayKey::Ultra { ultra_id, reader, log_id, at: None }), Some(at)) => {
                let local = zone.to_local(at);
                Some(ReplayKey::Ultra { ultra_id, reader, log_id, at: Some(local) })
            }
            _ => None,
        };
        texts.extend(upgraded.map(|key| key.to_string()));
        texts
    }
}

/// One held read of a numbering family.
#[derive(Debug, Clone, Copy)]
struct Numbered<'a> {
    file: Option<u32>,
    number: u64,
    at: DateTime<Utc>,
    text: &'a str,
}

/// The last read of `reads` (one family) held in order: see [`ResumePoint::in_order`].
fn in_order_of(mut reads: Vec<Numbered<'_>>, by_file: bool) -> Option<Numbered<'_>> {
    reads.sort_by(|a, b| a.text.cmp(b.text));
    reads.dedup_by(|a, b| a.text == b.text);
    // Runs, oldest first.
    let mut runs: Vec<Vec<Numbered<'_>>> = Vec::new();
    if by_file {
        reads.sort_by_key(|r| (r.file, r.number));
        for read in reads {
            match runs.last_mut() {
                Some(run) if run.last().is_some_and(|r| r.file == read.file) => run.push(read),
                _ => runs.push(vec![read]),
            }
        }
    } else {
        reads.sort_by_key(|r| (r.at, r.number));
        for read in reads {
            match runs.last_mut() {
                Some(run) if run.last().is_some_and(|r| r.number < read.number) => run.push(read),
                _ => runs.push(vec![read]),
            }
        }
        for run in &mut runs {
            run.sort_by_key(|r| r.number);
        }
    }
    while let Some(run) = runs.pop() {
        let mut expected = if runs.is_empty() { run.first().map_or(1, |r| r.number) } else { 1 };
        let mut through = None;
        for read in run {
            if read.number == expected {
                through = Some(read);
                expected = expected.saturating_add(1);
            } else if read.number > expected {
                break;
            }
        }
        if through.is_some() {
            return through;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;
    use chrono::NaiveDate;

    fn round_trip(key: ReplayKey) {
        let text = key.to_string();
        assert_eq!(text.parse::<ReplayKey>(), Ok(key), "{text}");
    }

    #[test]
    fn every_kind_round_trips() {
        let at = NaiveDate::from_ymd_opt(2025, 6, 14).unwrap().and_hms_milli_opt(9, 30, 15, 450);
        round_trip(ReplayKey::Ipico {
            reader_id: 1,
            tag: "058001a2b3c4".into(),
            at: at.unwrap(),
            first_seen: Some(true),
        });
        round_trip(ReplayKey::Ipico {
            reader_id: 0xff,
            tag: "000000abcdef".into(),
            at: at.unwrap(),
            first_seen: None,
        });
        round_trip(ReplayKey::Ultra { ultra_id: 1, reader: 2, log_id: 1187, at });
        round_trip(ReplayKey::Ultra { ultra_id: 1, reader: 2, log_id: 1187, at: None });
        let odd = at.map(|at| at + chrono::TimeDelta::nanoseconds(123));
        round_trip(ReplayKey::Ultra { ultra_id: 1, reader: 2, log_id: 1187, at: odd });
        round_trip(ReplayKey::Ultra { ultra_id: 1, reader: 2, log_id: 7, at: at_second() });
        let rr = |box_id: &str, file, passing, at| ReplayKey::RaceResult {
            box_id: box_id.into(),
            file,
            passing,
            at,
        };
        round_trip(rr("D-50:1%", Some(3), 17, None));
        round_trip(rr("", None, 1, None));
        let since = |days, micro| ReaderTime::SinceStart {
            days,
            time: NaiveTime::from_hms_micro_opt(0, 0, 2, micro).unwrap(),
        };
        round_trip(rr("", None, 1, Some(since(0, 773_000))));
        round_trip(rr("", None, 1, Some(since(3, 773_123))));
        round_trip(rr("D-1", None, 9, at.map(ReaderTime::Local)));
        round_trip(rr("D-1", None, 9, odd.map(ReaderTime::Local)));
        round_trip(rr("D-1", Some(2), 9, at.map(ReaderTime::Local)));
        round_trip(rr("", None, 9, at.map(|t| ReaderTime::Utc(t.and_utc()))));
        round_trip(rr("", None, 9, at.map(|t| ReaderTime::TimeOfDay(t.time()))));
        round_trip(ReplayKey::CloudBox { passing_number: 42, at: at.map(|t| t.and_utc()) });
        round_trip(ReplayKey::CloudBox { passing_number: 42, at: odd.map(|t| t.and_utc()) });
        round_trip(ReplayKey::CloudBox { passing_number: 1, at: at_second().map(|t| t.and_utc()) });
        round_trip(ReplayKey::CloudBox { passing_number: 42, at: None });
        round_trip(ReplayKey::Timy {
            number: 12,
            channel: TimyChannel { number: 1, manual: true },
            time: NaiveTime::from_hms_micro_opt(10, 2, 33, 456_700).unwrap(),
        });
        round_trip(ReplayKey::Llrp {
            epc: "E2801170000002012345ABCD".into(),
            antenna: 2,
            first_seen_us: 1_749_893_415_450_123,
        });
    }

    fn at_second() -> Option<NaiveDateTime> {
        NaiveDate::from_ymd_opt(2025, 6, 14).unwrap().and_hms_opt(9, 30, 15)
    }

    fn at_450() -> Option<NaiveDateTime> {
        NaiveDate::from_ymd_opt(2025, 6, 14).unwrap().and_hms_milli_opt(9, 30, 15, 450)
    }

    #[test]
    fn texts_are_what_the_docs_say() {
        assert_eq!(
            ReplayKey::Ultra { ultra_id: 1, reader: 1, log_id: 9, at: at_450() }.to_string(),
            "ultra:1:1:9:20250614T093015.450"
        );
        assert_eq!(
            ReplayKey::CloudBox { passing_number: 5, at: at_second().map(|t| t.and_utc()) }
                .to_string(),
            "cloudbox:5:20250614T093015.000Z"
        );
        assert!("ultra:1:1".parse::<ReplayKey>().is_err());
        assert!("ultra:1:1:9:20250614".parse::<ReplayKey>().is_err());
        assert!("ultra:1:1:9:20250614T093015.450:x".parse::<ReplayKey>().is_err());
        assert!("cloudbox:5:20250614T093015.000".parse::<ReplayKey>().is_err(), "no Z");
        assert!("cloudbox:5:x:y".parse::<ReplayKey>().is_err());
        assert!("nonsense".parse::<ReplayKey>().is_err());
    }

    #[test]
    fn texts_of_older_versions_still_parse() {
        assert_eq!(
            "ultra:1:2:9".parse::<ReplayKey>(),
            Ok(ReplayKey::Ultra { ultra_id: 1, reader: 2, log_id: 9, at: None })
        );
        assert_eq!(
            "cloudbox:5".parse::<ReplayKey>(),
            Ok(ReplayKey::CloudBox { passing_number: 5, at: None })
        );
        assert_eq!(ReplayKey::CloudBox { passing_number: 5, at: None }.to_string(), "cloudbox:5");
        let rr = |file, at| ReplayKey::RaceResult { box_id: "D-1".into(), file, passing: 5, at };
        assert_eq!("raceresult:D-1:-:5".parse::<ReplayKey>(), Ok(rr(None, None)));
        assert_eq!("raceresult:D-1:2:5".parse::<ReplayKey>(), Ok(rr(Some(2), None)));
        assert_eq!(rr(Some(2), None).to_string(), "raceresult:D-1:2:5");
    }

    #[test]
    fn race_result_keys_without_a_file_carry_the_passing_time() {
        let rr = |at| ReplayKey::RaceResult { box_id: String::new(), file: None, passing: 1, at };
        let since = |days, s, ms| ReaderTime::SinceStart {
            days,
            time: NaiveTime::from_hms_milli_opt(0, 0, s, ms).unwrap(),
        };
        assert_eq!(rr(Some(since(0, 2, 773))).to_string(), "raceresult::-:1:d0T000002.773");
        assert_eq!(rr(Some(since(1, 2, 773))).to_string(), "raceresult::-:1:d1T000002.773");
        assert_eq!(
            rr(at_450().map(ReaderTime::Local)).to_string(),
            "raceresult::-:1:20250614T093015.450"
        );
        assert_ne!(rr(Some(since(0, 2, 773))).to_string(), rr(Some(since(0, 5, 100))).to_string());
        assert_ne!(rr(Some(since(0, 2, 773))).to_string(), rr(None).to_string());
        for bad in [
            "raceresult::-:1:x",
            "raceresult::-:1:d0",
            "raceresult::-:1:dxT000002.773",
            "raceresult::-:1:20250614T093015.450:extra",
            "raceresult::-:1:",
        ] {
            assert!(bad.parse::<ReplayKey>().is_err(), "{bad}");
        }
    }

    #[test]
    fn two_numbering_runs_give_two_keys() {
        let first = ReplayKey::CloudBox { passing_number: 1, at: at_second().map(|t| t.and_utc()) };
        let again = ReplayKey::CloudBox { passing_number: 1, at: at_second().map(|t| t.and_utc()) };
        let next_run = ReplayKey::CloudBox { passing_number: 1, at: at_450().map(|t| t.and_utc()) };
        assert_eq!(first.to_string(), again.to_string(), "a rewind gives the same text");
        assert_ne!(first.to_string(), next_run.to_string());
        let ultra = |at| ReplayKey::Ultra { ultra_id: 1, reader: 1, log_id: 1, at }.to_string();
        assert_ne!(ultra(at_second()), ultra(at_450()));
    }

    fn held(keys: &[String]) -> Option<String> {
        let at = at_450().unwrap().and_utc();
        let rows: Vec<(&str, DateTime<Utc>)> = keys
            .iter()
            .map(|k| {
                let t = match k.parse::<ReplayKey>() {
                    Ok(ReplayKey::Ultra { at: Some(t), .. }) => t.and_utc(),
                    Ok(ReplayKey::CloudBox { at: Some(t), .. }) => t,
                    _ => at,
                };
                (k.as_str(), t)
            })
            .collect();
        ResumePoint::in_order(rows).and_then(|p| p.replay_key)
    }

    fn ultra(log: u64, second: u32) -> String {
        let at = NaiveDate::from_ymd_opt(2025, 6, 14).unwrap().and_hms_opt(9, 30, second);
        ReplayKey::Ultra { ultra_id: 1, reader: 1, log_id: log, at }.to_string()
    }

    fn rr(file: u32, passing: u64) -> String {
        ReplayKey::RaceResult { box_id: "D-1".into(), file: Some(file), passing, at: None }
            .to_string()
    }

    #[test]
    fn the_resume_point_is_the_last_read_held_in_order() {
        assert_eq!(held(&[]), None);
        // #13 stored live past the hole 11–12: resume after #10.
        let mut keys: Vec<String> = (1..=10).map(|n| rr(1, n)).collect();
        keys.push(rr(1, 13));
        assert_eq!(held(&keys), Some(rr(1, 10)));
        // Rewinds stored out of order fill it.
        keys.extend([rr(1, 12), rr(1, 11)]);
        assert_eq!(held(&keys), Some(rr(1, 13)));
        // A new file whose #1 is missing: from the old file, so the new one is fetched whole.
        keys.push(rr(2, 3));
        assert_eq!(held(&keys), Some(rr(1, 13)));
        keys.extend([rr(2, 1), rr(2, 2)]);
        assert_eq!(held(&keys), Some(rr(2, 3)));
        // A console that met the reader mid-file counts from the first passing it holds.
        assert_eq!(held(&[rr(4, 500), rr(4, 501), rr(4, 503)]), Some(rr(4, 501)));

        // Ultra: runs are split where log ids go back in time.
        let mut keys: Vec<String> = (1..=8).map(|n| ultra(n, n as u32)).collect();
        assert_eq!(held(&keys), Some(ultra(8, 8)));
        keys.push(ultra(3, 40)); // a new log, live at 3; 1–2 were being fetched
        assert_eq!(held(&keys), Some(ultra(8, 8)));
        keys.extend([ultra(1, 38), ultra(2, 39)]);
        assert_eq!(held(&keys), Some(ultra(3, 40)));
        // CloudBox the same way.
        let cb = |n: u64, second: u32| {
            let at = NaiveDate::from_ymd_opt(2025, 6, 14).unwrap().and_hms_opt(9, 31, second);
            ReplayKey::CloudBox { passing_number: n, at: at.map(|t| t.and_utc()) }.to_string()
        };
        assert_eq!(held(&[cb(1, 1), cb(2, 2), cb(4, 4)]), Some(cb(2, 2)));
        // Unnumbered keys: the last one stored.
        let ipico = "ipico:01:058001a2b3c4:20250614T093015.450:raw".to_string();
        assert_eq!(held(&[rr(1, 1), ipico.clone()]), Some(ipico));
        assert_eq!(held(&["nonsense".to_string()]), Some("nonsense".to_string()));
    }

    #[test]
    fn an_older_resume_key_is_also_known_in_the_new_spelling() {
        let plus2 = ReaderZone::Fixed(FixedOffset::east_opt(7200).unwrap());
        let at = at_450().unwrap().and_utc();
        let point = ResumePoint { replay_key: Some("ultra:1:1:9".into()), at: Some(at) };
        assert_eq!(
            point.key_texts(plus2),
            vec!["ultra:1:1:9".to_string(), "ultra:1:1:9:20250614T113015.450".to_string()]
        );
        let point = ResumePoint { replay_key: Some("cloudbox:5".into()), at: Some(at) };
        assert_eq!(point.key_texts(plus2)[1], "cloudbox:5:20250614T093015.450Z");
        let current = ResumePoint {
            replay_key: Some("cloudbox:5:20250614T093015.450Z".into()),
            at: Some(at),
        };
        assert_eq!(current.key_texts(plus2), vec!["cloudbox:5:20250614T093015.450Z".to_string()]);
        assert!(ResumePoint::default().key_texts(plus2).is_empty());
    }
}
