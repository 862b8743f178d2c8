//! Who is this runner, and who is still out there: a typed bib previewed against the
//! participant list and the session (known, unknown, already finished, wave not started), and
//! the counts a crew asks for at the end of every race — finished, on course (listed and not
//! yet seen), unknown — with the searchable list of runners not yet seen.

use std::collections::HashSet;

use serde::Serialize;

use crate::domain::FeedEntry;
use crate::participants::{ChipMap, Participant};
use crate::starts::RaceClock;

/// What a bib stands for in this session, for the colour of its row and its preview.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum RunnerStatus {
    /// In the list, not seen yet, and their wave has started (or there are no starts).
    Known,
    /// A participant list is loaded and the bib is not in it.
    Unknown,
    /// Already has a passing in this session.
    Finished,
    /// In the list, but their wave has not started while another has.
    NotStarted,
    /// No participant list is loaded: nothing to check against.
    NoList,
}

/// A bib as the entry field previews it: `123 — Ana García · F40 · 10K`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RunnerPreview {
    /// The bib typed.
    pub bib: String,
    /// Name, when the list has the bib.
    pub name: Option<String>,
    /// Category.
    pub category: Option<String>,
    /// Wave (`""`: the list has no waves).
    pub wave: Option<String>,
    /// What the bib stands for now.
    pub status: RunnerStatus,
}

/// The counts of a race in progress.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RaceCounts {
    /// Runners in the list.
    pub listed: u32,
    /// Listed runners with a passing.
    pub finished: u32,
    /// Listed runners not seen yet.
    pub on_course: u32,
    /// Bibs with a passing that the list does not have (0 without a list).
    pub unknown: u32,
}

/// Bibs seen in a session's feed (void passings are not seen).
pub fn seen_bibs(feed: &[FeedEntry]) -> HashSet<&str> {
    feed.iter().filter(|e| !e.void).filter_map(|e| e.bib.as_deref()).collect()
}

/// Previews `bib` against the list, what the session has seen and its starts.
pub fn preview(
    bib: &str,
    chips: &ChipMap,
    seen: &HashSet<&str>,
    race: &RaceClock,
) -> RunnerPreview {
    let bib = bib.trim();
    let runner = chips.by_bib(bib);
    let status = match &runner {
        _ if seen.contains(bib) => RunnerStatus::Finished,
        None if chips.is_empty() => RunnerStatus::NoList,
        None => RunnerStatus::Unknown,
        Some(r) if !race.starts().is_empty() && !race.starts().contains_key(&r.wave) => {
            // One start only and the runner in no wave: that start is theirs.
            if race.starts().len() == 1 && r.wave.is_empty() {
                RunnerStatus::Known
            } else {
                RunnerStatus::NotStarted
            }
        }
        Some(_) => RunnerStatus::Known,
    };
    RunnerPreview {
        bib: bib.to_owned(),
        name: runner.as_ref().and_then(|r| r.name.clone()),
        category: runner.as_ref().and_then(|r| r.category.clone()),
        wave: runner.map(|r| r.wave),
        status,
    }
}

/// Finished, on course and unknown, from the list and the session's feed.
pub fn counts(chips: &ChipMap, feed: &[FeedEntry]) -> RaceCounts {
    let seen = seen_bibs(feed);
    let people = chips.participants();
    let finished = people.iter().filter(|p| seen.contains(p.bib.as_str())).count();
    let unknown =
        if people.is_empty() { 0 } else { seen.iter().filter(|b| !chips.knows_bib(b)).count() };
    let n = |count: usize| u32::try_from(count).unwrap_or(u32::MAX);
    RaceCounts {
        listed: n(people.len()),
        finished: n(finished),
        on_course: n(people.len() - finished),
        unknown: n(unknown),
    }
}

/// Listed runners not seen yet whose bib, name, category or wave contains `search` (any case),
/// in bib order, at most `limit`.
pub fn not_yet_seen(
    chips: &ChipMap,
    feed: &[FeedEntry],
    search: &str,
    limit: usize,
) -> Vec<Participant> {
    let seen = seen_bibs(feed);
    let wanted = search.trim().to_lowercase();
    let matches = |p: &Participant| {
        wanted.is_empty()
            || [Some(&p.bib), p.name.as_ref(), p.category.as_ref(), Some(&p.wave)]
                .into_iter()
                .flatten()
                .any(|field| field.to_lowercase().contains(&wanted))
    };
    chips
        .participants()
        .into_iter()
        .filter(|p| !seen.contains(p.bib.as_str()) && matches(p))
        .take(limit)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::parse_utc;
    use crate::domain::{PassingId, PassingSource, SessionId, SyncState};
    use crate::starts::{Start, StartKind};

    fn runner(bib: &str, name: &str, category: &str, wave: &str) -> Participant {
        Participant {
            name: Some(name.into()),
            category: Some(category.into()),
            wave: wave.into(),
            ..Participant::new(format!("E{bib}"), bib)
        }
    }

    fn passing(bib: &str, void: bool) -> FeedEntry {
        FeedEntry {
            id: PassingId(1),
            session_id: SessionId(1),
            num_passing: 1,
            bib: Some(bib.into()),
            chip: None,
            name: None,
            category: None,
            wave: None,
            race_time_ms: None,
            timestamp: chrono::DateTime::UNIX_EPOCH,
            source: PassingSource::Manual,
            void,
            corrected: false,
            unknown_chip: false,
            sync_state: SyncState::Pending,
            sync_error: None,
        }
    }

    fn started(wave: &str) -> RaceClock {
        let at = parse_utc("2026-05-03T09:00:00.000Z").unwrap_or_default();
        RaceClock::new(&[Start {
            id: 1,
            session_id: SessionId(1),
            wave: wave.into(),
            at,
            kind: StartKind::Stamp,
            source: None,
            operator: "t".into(),
            station: None,
            recorded_at: at,
        }])
    }

    #[test]
    fn a_typed_bib_says_who_it_is_and_whether_it_may_be_finishing() {
        let chips = ChipMap::from_entries([
            runner("123", "Ana García", "F40", "10K"),
            runner("7", "Li Wei", "M35", "5K"),
        ]);
        let feed = [passing("7", false)];
        let seen = seen_bibs(&feed);
        let race = started("10K");
        let ana = preview(" 123 ", &chips, &seen, &race);
        assert_eq!(
            (ana.name.as_deref(), ana.category.as_deref(), ana.wave.as_deref(), ana.status),
            (Some("Ana García"), Some("F40"), Some("10K"), RunnerStatus::Known)
        );
        assert_eq!(preview("7", &chips, &seen, &race).status, RunnerStatus::Finished);
        assert_eq!(preview("99", &chips, &seen, &race).status, RunnerStatus::Unknown);
        let five_k_not_started = preview("7", &chips, &HashSet::new(), &race);
        assert_eq!(five_k_not_started.status, RunnerStatus::NotStarted);
        let no_list = preview("5", &ChipMap::default(), &HashSet::new(), &race);
        assert_eq!(no_list.status, RunnerStatus::NoList);
    }

    #[test]
    fn counts_and_the_not_yet_seen_list() {
        let chips = ChipMap::from_entries([
            runner("1", "Ana", "F40", ""),
            runner("2", "Bo", "M35", ""),
            runner("10", "Cy", "F40", ""),
        ]);
        let feed = [passing("2", false), passing("10", true), passing("77", false)];
        assert_eq!(
            counts(&chips, &feed),
            RaceCounts { listed: 3, finished: 1, on_course: 2, unknown: 1 }
        );
        let out: Vec<String> =
            not_yet_seen(&chips, &feed, "", 10).into_iter().map(|p| p.bib).collect();
        assert_eq!(out, ["1", "10"], "a void passing is not a finish; bibs by value");
        let f40: Vec<String> =
            not_yet_seen(&chips, &feed, "cy", 10).into_iter().map(|p| p.bib).collect();
        assert_eq!(f40, ["10"]);
        assert_eq!(counts(&ChipMap::default(), &feed).unknown, 0, "no list: nothing is unknown");
    }
}
