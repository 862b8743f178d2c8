//! The stable text form of a [`ReplayKey`], so the engine can store "which reads of this reader it
//! already holds" in a database column and the supervisor can resume a reader from there.
//!
//! The text is a function of the key alone (never of the host, the connection or the time it
//! arrived), it differs for different keys, and it parses back to the same key. Together with the
//! reader's name (`StampedRead::source`) it identifies one read across rewinds, reconnects and
//! restarts of the console.
//!
//! | Protocol | Text |
//! |---|---|
//! | IPICO | `ipico:<reader id, 2 hex>:<tag>:<YYYYmmddTHHMMSS.fff>:<fs\|ls\|raw>` |
//! | Ultra | `ultra:<ultra id>:<reader>:<log id>` |
//! | RACE RESULT | `raceresult:<box id, `%`/`:` escaped>:<file or ->:<passing>` |
//! | CloudBox | `cloudbox:<passing number>` |
//! | Timy | `timy:<number>:c<channel>[M]:<HHMMSS.ffffff>` |

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime, NaiveTime, Utc};

use crate::ReplayKey;
use crate::text::{decimal_as, hex_byte};
use crate::timy::TimyChannel;

const IPICO_TIME: &str = "%Y%m%dT%H%M%S%.3f";
const TIMY_TIME: &str = "%H%M%S%.6f";

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
            ReplayKey::Ultra { ultra_id, reader, log_id } => {
                write!(f, "ultra:{ultra_id}:{reader}:{log_id}")
            }
            ReplayKey::RaceResult { box_id, file, passing } => {
                let escaped = box_id.replace('%', "%25").replace(':', "%3A");
                match file {
                    Some(file) => write!(f, "raceresult:{escaped}:{file}:{passing}"),
                    None => write!(f, "raceresult:{escaped}:-:{passing}"),
                }
            }
            ReplayKey::CloudBox { passing_number } => write!(f, "cloudbox:{passing_number}"),
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
        ("ultra", [ultra_id, reader, log_id]) => Some(ReplayKey::Ultra {
            ultra_id: decimal_as(ultra_id.as_bytes())?,
            reader: decimal_as(reader.as_bytes())?,
            log_id: decimal_as(log_id.as_bytes())?,
        }),
        ("raceresult", [box_id, file, passing]) => Some(ReplayKey::RaceResult {
            box_id: box_id.replace("%3A", ":").replace("%25", "%"),
            file: match *file {
                "-" => None,
                file => Some(decimal_as(file.as_bytes())?),
            },
            passing: decimal_as(passing.as_bytes())?,
        }),
        ("cloudbox", [number]) => {
            Some(ReplayKey::CloudBox { passing_number: decimal_as(number.as_bytes())? })
        }
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
        round_trip(ReplayKey::Ultra { ultra_id: 1, reader: 2, log_id: 1187 });
        round_trip(ReplayKey::RaceResult { box_id: "D-50:1%".into(), file: Some(3), passing: 17 });
        round_trip(ReplayKey::RaceResult { box_id: String::new(), file: None, passing: 1 });
        round_trip(ReplayKey::CloudBox { passing_number: 42 });
        round_trip(ReplayKey::Timy {
            number: 12,
            channel: TimyChannel { number: 1, manual: true },
            time: NaiveTime::from_hms_micro_opt(10, 2, 33, 456_700).unwrap(),
        });
    }

    #[test]
    fn texts_are_what_the_docs_say() {
        assert_eq!(
            ReplayKey::Ultra { ultra_id: 1, reader: 1, log_id: 9 }.to_string(),
            "ultra:1:1:9"
        );
        assert_eq!(ReplayKey::CloudBox { passing_number: 5 }.to_string(), "cloudbox:5");
        assert!("ultra:1:1".parse::<ReplayKey>().is_err());
        assert!("nonsense".parse::<ReplayKey>().is_err());
    }
}
