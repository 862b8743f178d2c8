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
//! (`FileNumber`, protocol ≥ 1.6, which the supervisor asks for), so the file is the run there.
//! IPICO and Timy keys already hold the read's time.
//!
//! | Protocol | Text |
//! |---|---|
//! | IPICO | `ipico:<reader id, 2 hex>:<tag>:<YYYYmmddTHHMMSS.fff>:<fs\|ls\|raw>` |
//! | Ultra | `ultra:<ultra id>:<reader>:<log id>:<YYYYmmddTHHMMSS.fff, reader-local>` |
//! | RACE RESULT | `raceresult:<box id, `%`/`:` escaped>:<file or ->:<passing>` |
//! | CloudBox | `cloudbox:<passing number>:<YYYYmmddTHHMMSS.fffZ, UTC>` |
//! | Timy | `timy:<number>:c<channel>[M]:<HHMMSS.ffffff>` |
//!
//! Times have three decimals when they fall on a whole millisecond (Ultra always, CloudBox as
//! documented), else nine. Texts of older versions without the time — `ultra:<id>:<reader>:<log>`,
//! `cloudbox:<n>` — still parse (to a key whose time is `None`); databases hold them and
//! [`ResumePoint`]s are made from them.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset, NaiveDateTime, NaiveTime, Timelike as _, Utc};

use crate::ReplayKey;
use crate::text::{decimal_as, hex_byte};
use crate::timy::TimyChannel;

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
            ReplayKey::RaceResult { box_id, file, passing } => {
                let escaped = box_id.replace('%', "%25").replace(':', "%3A");
                match file {
                    Some(file) => write!(f, "raceresult:{escaped}:{file}:{passing}"),
                    None => write!(f, "raceresult:{escaped}:-:{passing}"),
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
        ("raceresult", [box_id, file, passing]) => Some(ReplayKey::RaceResult {
            box_id: box_id.replace("%3A", ":").replace("%25", "%"),
            file: match *file {
                "-" => None,
                file => Some(decimal_as(file.as_bytes())?),
            },
            passing: decimal_as(passing.as_bytes())?,
        }),
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

    /// The texts the point's read has: the stored one and, for a key an older version stored
    /// without its run (`cloudbox:5`, `ultra:1:1:9`), the key as this version spells it, its
    /// time taken from [`at`](Self::at) (`reader_utc_offset` for a reader-local time).
    pub(crate) fn key_texts(&self, reader_utc_offset: FixedOffset) -> Vec<String> {
        let mut texts: Vec<String> = self.replay_key.iter().cloned().collect();
        let upgraded = match (self.key(), self.at) {
            (Some(ReplayKey::CloudBox { passing_number, at: None }), Some(at)) => {
                Some(ReplayKey::CloudBox { passing_number, at: Some(at) })
            }
            (Some(ReplayKey::Ultra { ultra_id, reader, log_id, at: None }), Some(at)) => {
                let local = at.with_timezone(&reader_utc_offset).naive_local();
                Some(ReplayKey::Ultra { ultra_id, reader, log_id, at: Some(local) })
            }
            _ => None,
        };
        texts.extend(upgraded.map(|key| key.to_string()));
        texts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
        round_trip(ReplayKey::RaceResult { box_id: "D-50:1%".into(), file: Some(3), passing: 17 });
        round_trip(ReplayKey::RaceResult { box_id: String::new(), file: None, passing: 1 });
        round_trip(ReplayKey::CloudBox { passing_number: 42, at: at.map(|t| t.and_utc()) });
        round_trip(ReplayKey::CloudBox { passing_number: 42, at: odd.map(|t| t.and_utc()) });
        round_trip(ReplayKey::CloudBox { passing_number: 1, at: at_second().map(|t| t.and_utc()) });
        round_trip(ReplayKey::CloudBox { passing_number: 42, at: None });
        round_trip(ReplayKey::Timy {
            number: 12,
            channel: TimyChannel { number: 1, manual: true },
            time: NaiveTime::from_hms_micro_opt(10, 2, 33, 456_700).unwrap(),
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

    #[test]
    fn an_older_resume_key_is_also_known_in_the_new_spelling() {
        let plus2 = FixedOffset::east_opt(7200).unwrap();
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
