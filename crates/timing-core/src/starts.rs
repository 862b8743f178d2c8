//! The race clock: per session, the start of each wave, and a passing's race time (since its
//! runner's wave start). Starts are an append-only log (`starts`): the newest entry of a wave is
//! its start; a false start's restart, a nudge or a start set to an exact time is a new entry,
//! and the old ones stay as the audit trail. Starts are kept locally and exported, never sent:
//! RUFUS has no endpoint for them.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::SessionId;
use crate::error::{CoreError, Result};
use crate::participants::DEFAULT_WAVE;

/// How a start was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartKind {
    /// "Start" pressed: the wave started at that moment.
    Stamp,
    /// Set to an exact time (the gun was fired by someone else's watch).
    Exact,
    /// Moved by a few seconds from its previous time.
    Nudge,
    /// Started again after a false start.
    Restart,
    /// A reader's start impulse (the gun input of a decoder).
    Gun,
}

impl StartKind {
    /// The stored name.
    pub const fn name(self) -> &'static str {
        match self {
            StartKind::Stamp => "stamp",
            StartKind::Exact => "exact",
            StartKind::Nudge => "nudge",
            StartKind::Restart => "restart",
            StartKind::Gun => "gun",
        }
    }
}

impl fmt::Display for StartKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for StartKind {
    type Err = CoreError;

    fn from_str(s: &str) -> Result<Self> {
        [StartKind::Stamp, StartKind::Exact, StartKind::Nudge, StartKind::Restart, StartKind::Gun]
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| CoreError::Invalid(format!("unknown start kind `{s}`")))
    }
}

/// One entry of the start log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Start {
    /// Local id (entries of a wave: the highest is its start).
    pub id: i64,
    /// The session.
    pub session_id: SessionId,
    /// The wave (`""`: the one start of a race without waves).
    pub wave: String,
    /// The start instant (UTC).
    pub at: DateTime<Utc>,
    /// How it was made.
    pub kind: StartKind,
    /// The reader whose impulse it was ([`StartKind::Gun`]).
    pub source: Option<String>,
    /// Who made it.
    pub operator: String,
    /// Which station.
    pub station: Option<String>,
    /// When it was recorded (UTC).
    pub recorded_at: DateTime<Utc>,
}

/// What the crew asks of a wave's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartRequest {
    /// Start a wave that has not started, at this instant (the key press, or the gun impulse).
    Now(DateTime<Utc>),
    /// Set the start to this exact instant (whether or not the wave started).
    Exact(DateTime<Utc>),
    /// Move the wave's start by this much.
    Nudge(TimeDelta),
    /// Start a started wave again at this instant (a false start); the old start is kept.
    Restart(DateTime<Utc>),
}

/// The kind and instant of the new entry, or why the request makes no sense now.
pub(crate) fn plan(
    wave: &str,
    request: StartRequest,
    current: Option<&Start>,
    gun: bool,
) -> Result<(StartKind, DateTime<Utc>)> {
    let shown = wave_label(wave);
    match (request, current) {
        (StartRequest::Now(at), None) => {
            Ok((if gun { StartKind::Gun } else { StartKind::Stamp }, at))
        }
        (StartRequest::Now(_), Some(start)) => Err(CoreError::Conflict(format!(
            "{shown} started at {}; restart it for a false start, or set its time",
            crate::clock::format_utc(start.at)
        ))),
        (StartRequest::Exact(at), _) => Ok((StartKind::Exact, at)),
        (StartRequest::Nudge(by), Some(start)) => start
            .at
            .checked_add_signed(by)
            .map(|at| (StartKind::Nudge, at))
            .ok_or_else(|| CoreError::Invalid("that nudge leaves the calendar".into())),
        (StartRequest::Restart(at), Some(_)) => Ok((StartKind::Restart, at)),
        (StartRequest::Nudge(_) | StartRequest::Restart(_), None) => {
            Err(CoreError::Conflict(format!("{shown} has not started")))
        }
    }
}

/// A wave as people read it: `wave 10K`, or `the start` for a race without waves.
pub fn wave_label(wave: &str) -> String {
    if wave == DEFAULT_WAVE { "the start".to_owned() } else { format!("wave {wave}") }
}

/// The start of each wave (the newest entry of each), from a session's log.
pub fn current(log: &[Start]) -> BTreeMap<String, Start> {
    let mut starts: BTreeMap<String, Start> = BTreeMap::new();
    for start in log {
        match starts.get(&start.wave) {
            Some(kept) if kept.id > start.id => {}
            _ => {
                starts.insert(start.wave.clone(), start.clone());
            }
        }
    }
    starts
}

/// The start a runner of `wave` ran from: their wave's, else — for a runner the list puts in
/// no wave, or a race with one start — the only start there is.
pub fn start_for<'a>(starts: &'a BTreeMap<String, Start>, wave: &str) -> Option<&'a Start> {
    starts.get(wave).or_else(|| match starts.len() {
        1 => starts.values().next(),
        _ => starts.get(DEFAULT_WAVE),
    })
}

/// What race time means for one session: the start of each wave.
#[derive(Debug, Clone, Default)]
pub struct RaceClock {
    starts: BTreeMap<String, Start>,
}

impl RaceClock {
    /// The race clock of a session's start log.
    pub fn new(log: &[Start]) -> Self {
        RaceClock { starts: current(log) }
    }

    /// The start of each wave.
    pub fn starts(&self) -> &BTreeMap<String, Start> {
        &self.starts
    }

    /// Race time at `at` of a runner in `wave` ([`start_for`]), once that start exists.
    pub fn race_time(&self, wave: &str, at: DateTime<Utc>) -> Option<TimeDelta> {
        start_for(&self.starts, wave).map(|s| at - s.at)
    }
}

/// Race time as results show it: `H:MM:SS.sss` (`-0:00:01.200` before the start).
pub fn format_race_time(time: TimeDelta) -> String {
    let sign = if time < TimeDelta::zero() { "-" } else { "" };
    let ms = time.num_milliseconds().unsigned_abs();
    let (h, rest) = (ms / 3_600_000, ms % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    format!("{sign}{h}:{m:02}:{:02}.{:03}", rest / 1000, rest % 1000)
}

/// `+2.5s`, `-1s`, `+500ms`, `-0.2` (seconds): a nudge.
pub fn parse_nudge(text: &str) -> Result<TimeDelta> {
    let t = text.trim();
    let bad = || CoreError::Invalid(format!("`{text}`: a nudge is seconds, e.g. +2.5s or -1s"));
    let (negative, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let ms = match digits.strip_suffix("ms") {
        Some(ms) => ms.trim().parse::<f64>().map_err(|_| bad())?,
        None => {
            digits.strip_suffix('s').unwrap_or(digits).trim().parse::<f64>().map_err(|_| bad())?
                * 1000.0
        }
    };
    if !ms.is_finite() || ms.abs() > 86_400_000.0 {
        return Err(bad());
    }
    // Bounded above: within ±1 day of milliseconds, exact in i64.
    #[allow(clippy::cast_possible_truncation)]
    let ms = ms.round() as i64;
    Ok(TimeDelta::milliseconds(if negative { -ms } else { ms }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::parse_utc;

    fn at(s: &str) -> DateTime<Utc> {
        parse_utc(s).unwrap_or_default()
    }

    fn start(id: i64, wave: &str, t: &str) -> Start {
        Start {
            id,
            session_id: SessionId(1),
            wave: wave.into(),
            at: at(t),
            kind: StartKind::Stamp,
            source: None,
            operator: "t".into(),
            station: None,
            recorded_at: at(t),
        }
    }

    #[test]
    fn race_times_read_like_results() {
        assert_eq!(format_race_time(TimeDelta::milliseconds(3_723_456)), "1:02:03.456");
        assert_eq!(format_race_time(TimeDelta::milliseconds(59_999)), "0:00:59.999");
        assert_eq!(format_race_time(TimeDelta::milliseconds(-1_200)), "-0:00:01.200");
    }

    #[test]
    fn the_newest_entry_of_a_wave_is_its_start() {
        let log = [
            start(1, "5K", "2026-05-03T09:00:00.000Z"),
            start(2, "10K", "2026-05-03T09:05:00.000Z"),
            start(3, "5K", "2026-05-03T09:00:30.000Z"),
        ];
        let starts = current(&log);
        assert_eq!(starts["5K"].id, 3);
        assert_eq!(start_for(&starts, "10K").map(|s| s.id), Some(2));
        assert_eq!(start_for(&starts, "").map(|s| s.id), None, "two waves: no guess");
        let one = current(&log[1..2]);
        assert_eq!(start_for(&one, "").map(|s| s.id), Some(2), "one start: everybody's");
    }

    #[test]
    fn a_started_wave_is_not_started_twice_by_accident() {
        let now = at("2026-05-03T09:10:00.000Z");
        let s = start(1, "", "2026-05-03T09:00:00.000Z");
        assert!(matches!(plan("", StartRequest::Now(now), None, false), Ok((StartKind::Stamp, _))));
        assert!(matches!(plan("", StartRequest::Now(now), None, true), Ok((StartKind::Gun, _))));
        let twice = plan("", StartRequest::Now(now), Some(&s), false).unwrap_err().to_string();
        assert!(twice.contains("restart"), "{twice}");
        assert_eq!(
            plan("", StartRequest::Nudge(TimeDelta::milliseconds(-1500)), Some(&s), false)
                .unwrap()
                .1,
            at("2026-05-03T08:59:58.500Z")
        );
        assert!(plan("10K", StartRequest::Restart(now), None, false).is_err());
        assert_eq!(
            plan("", StartRequest::Restart(now), Some(&s), false).unwrap().0,
            StartKind::Restart
        );
    }

    #[test]
    fn nudges_parse_with_or_without_units() {
        assert_eq!(parse_nudge("+2.5s").unwrap(), TimeDelta::milliseconds(2500));
        assert_eq!(parse_nudge("-1").unwrap(), TimeDelta::milliseconds(-1000));
        assert_eq!(parse_nudge("250ms").unwrap(), TimeDelta::milliseconds(250));
        assert!(parse_nudge("soon").is_err());
        assert!(parse_nudge("1e12").is_err());
    }
}
