//! Corrections without fear: every change to a passing is a new, append-only record (who, when,
//! why), and the feed shows the effective result. A passing the cloud may already hold is never
//! changed in place: the correction travels as a new passing (`status` "correction of #N").

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{Sqlite, Transaction};

use crate::clock::{format_utc, parse_utc};
use crate::domain::{
    Correction, CorrectionKind, FeedEntry, Passing, PassingId, SessionId, SyncState,
};
use crate::error::{CoreError, Result};
use crate::participants::{ChipMap, looks_like_bib};
use crate::starts::RaceClock;
use crate::store::{NewPassing, Store, commit_passings_tx, passing_from_row};

/// A change to a passing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Set (or clear) the bib.
    SetBib(Option<String>),
    /// Set the time.
    SetTime(DateTime<Utc>),
    /// Void the passing.
    Void,
    /// Undo a void.
    Restore,
}

/// Who makes a correction, and why.
#[derive(Debug, Clone, Default)]
pub struct Author {
    /// Operator name.
    pub operator: String,
    /// Station name.
    pub station: Option<String>,
    /// Reason.
    pub reason: Option<String>,
}

/// The outcome of a correction.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Corrected {
    /// The audit record.
    pub correction: Correction,
    /// The passing that carries the correction to the cloud, when the original may already
    /// be there.
    pub carrier: Option<Passing>,
}

/// The values a passing shows after its corrections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Effective {
    pub(crate) bib: Option<String>,
    pub(crate) timestamp: DateTime<Utc>,
    pub(crate) void: bool,
    pub(crate) corrected: bool,
}

/// The verbs a carrier's `status` starts with. The cloud reads a carrier as "passing #N of this
/// session (or of session TOKEN) now has these values" (`correction of`, `restore`) or "is void"
/// (`void`); the last carrier of a passing wins.
pub const CARRIER_VERBS: [&str; 3] = ["correction of", "void", "restore"];

/// A carrier's `status`: `"correction of #12"`, or `"void #12 in session TOKEN"` when the
/// passing it corrects lives in another session (re-homed carriers).
pub fn carrier_status(verb: &str, num: i64, in_session: Option<&str>) -> String {
    match in_session {
        Some(token) => format!("{verb} #{num} in session {token}"),
        None => format!("{verb} #{num}"),
    }
}

/// The verb of a carrier's `status`, if it is one.
pub fn carrier_verb(status: &str) -> Option<&'static str> {
    CARRIER_VERBS
        .into_iter()
        .find(|v| status.strip_prefix(v).is_some_and(|rest| rest.trim_start().starts_with('#')))
}

/// A passing's effective values, read inside a transaction.
pub(crate) async fn effective_tx(
    tx: &mut Transaction<'static, Sqlite>,
    passing: &Passing,
) -> Result<Effective> {
    let corrections = corrections_tx(tx, passing.id).await?;
    Ok(effective(passing, &corrections))
}

fn effective(passing: &Passing, corrections: &[Correction]) -> Effective {
    let mut e = Effective {
        bib: passing.bib.clone(),
        timestamp: passing.timestamp,
        void: passing.status.as_deref() == Some("void"),
        corrected: false,
    };
    for c in corrections {
        match c.kind {
            CorrectionKind::SetBib => {
                e.bib = c.new_value.clone();
                e.corrected = true;
            }
            CorrectionKind::SetTime => {
                if let Some(t) = c.new_value.as_deref().and_then(parse_utc) {
                    e.timestamp = t;
                    e.corrected = true;
                }
            }
            CorrectionKind::Void => e.void = true,
            CorrectionKind::Restore => e.void = false,
            CorrectionKind::Move => {}
        }
    }
    e
}

/// Applies a change to a passing inside `tx` and records it. Used by corrections and by undo.
pub(crate) async fn apply_change(
    tx: &mut Transaction<'static, Sqlite>,
    passing_id: PassingId,
    change: &Change,
    author: &Author,
    at: DateTime<Utc>,
) -> Result<Corrected> {
    let row = sqlx::query("SELECT * FROM passings WHERE id = ?")
        .bind(passing_id.0)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| CoreError::NotFound(format!("passing {passing_id}")))?;
    let passing = passing_from_row(&row)?;
    if passing.corrects_id.is_some() {
        return Err(CoreError::Invalid(
            "this record carries a correction; correct the original passing instead".into(),
        ));
    }
    let earlier = corrections_tx(tx, passing_id).await?;
    let now = effective(&passing, &earlier);
    let (kind, old_value, new_value) = match change {
        Change::SetBib(bib) => {
            let bib = bib.as_ref().map(|b| b.trim().to_owned()).filter(|b| !b.is_empty());
            if let Some(b) = &bib
                && !looks_like_bib(b)
            {
                return Err(CoreError::Invalid(format!(
                    "`{b}` is not a bib (1–8 letters or digits)"
                )));
            }
            (CorrectionKind::SetBib, now.bib.clone(), bib)
        }
        Change::SetTime(t) => {
            (CorrectionKind::SetTime, Some(format_utc(now.timestamp)), Some(format_utc(*t)))
        }
        Change::Void if now.void => {
            return Err(CoreError::Conflict("the passing is already void".into()));
        }
        Change::Void => (CorrectionKind::Void, None, None),
        Change::Restore if !now.void => {
            return Err(CoreError::Conflict("the passing is not void".into()));
        }
        Change::Restore => (CorrectionKind::Restore, None, None),
    };

    // In place while the cloud cannot hold it: pending and never attempted, or parked (the
    // cloud refused it, and every earlier attempt was reconciled before that refusal). A
    // corrected parked passing goes back to the outbox: the correction may be the fix.
    let parked = passing.sync_state == SyncState::Parked;
    let in_place =
        parked || (passing.sync_state == SyncState::Pending && passing.sync_attempts == 0);
    let mut carrier = None;
    if parked {
        sqlx::query("UPDATE passings SET sync_state = 'pending', sync_error = NULL WHERE id = ?")
            .bind(passing_id.0)
            .execute(&mut **tx)
            .await?;
    }
    if in_place {
        let (bib, timestamp, status) = match change {
            Change::SetBib(_) => (new_value.clone(), passing.timestamp, passing.status.clone()),
            Change::SetTime(t) => (passing.bib.clone(), *t, passing.status.clone()),
            Change::Void => (passing.bib.clone(), passing.timestamp, Some("void".to_owned())),
            Change::Restore => (passing.bib.clone(), passing.timestamp, None),
        };
        sqlx::query("UPDATE passings SET bib = ?, timestamp = ?, status = ? WHERE id = ?")
            .bind(&bib)
            .bind(format_utc(timestamp))
            .bind(&status)
            .bind(passing_id.0)
            .execute(&mut **tx)
            .await?;
    } else if passing.sync_state != SyncState::Moved {
        carrier = Some(carry(tx, &passing, &now, change, new_value.clone(), at).await?);
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO corrections(passing_id, action, old_value, new_value, operator, station, reason, at, carrier_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(passing_id.0)
    .bind(kind.as_str())
    .bind(&old_value)
    .bind(&new_value)
    .bind(&author.operator)
    .bind(&author.station)
    .bind(&author.reason)
    .bind(format_utc(at))
    .bind(carrier.as_ref().map(|c| c.id.0))
    .fetch_one(&mut **tx)
    .await?;
    let correction = Correction {
        id,
        passing_id,
        kind,
        old_value,
        new_value,
        operator: author.operator.clone(),
        station: author.station.clone(),
        reason: author.reason.clone(),
        at,
        carrier_id: carrier.as_ref().map(|c| c.id),
    };
    Ok(Corrected { correction, carrier })
}

/// Sends a change of a passing the cloud may hold as a carrier passing with the passing's whole
/// effective state after the change: a bib-less state (an undone assignment) travels as a void
/// until it has a bib again. A carrier of the same passing that is still pending and was never
/// attempted is brought up to date instead of adding another, so the cloud gets one carrier with
/// the final values (undo + assign → one correction with the right bib).
async fn carry(
    tx: &mut Transaction<'static, Sqlite>,
    passing: &Passing,
    before: &Effective,
    change: &Change,
    new_value: Option<String>,
    at: DateTime<Utc>,
) -> Result<Passing> {
    let mut after = before.clone();
    match change {
        Change::SetBib(_) => after.bib = new_value,
        Change::SetTime(t) => after.timestamp = *t,
        Change::Void => after.void = true,
        Change::Restore => after.void = false,
    }
    let num = passing.num_passing;
    let has_id = after.bib.is_some() || passing.chip.is_some();
    let (verb, bib) = if after.void || !has_id {
        // RUFUS needs a bib: a void carries the one the cloud knows.
        ("void", after.bib.clone().or_else(|| before.bib.clone()).or_else(|| passing.bib.clone()))
    } else if matches!(change, Change::Restore) {
        ("restore", after.bib.clone())
    } else {
        ("correction of", after.bib.clone())
    };
    let status = carrier_status(verb, num, None);
    let open: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM passings WHERE corrects_id = ? AND sync_state = 'pending' AND sync_attempts = 0
         ORDER BY num_passing DESC LIMIT 1",
    )
    .bind(passing.id.0)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(id) = open {
        sqlx::query("UPDATE passings SET bib = ?, timestamp = ?, status = ? WHERE id = ?")
            .bind(&bib)
            .bind(format_utc(after.timestamp))
            .bind(&status)
            .bind(id)
            .execute(&mut **tx)
            .await?;
        let row = sqlx::query("SELECT * FROM passings WHERE id = ?")
            .bind(id)
            .fetch_one(&mut **tx)
            .await?;
        return passing_from_row(&row);
    }
    let new = NewPassing {
        bib,
        chip: passing.chip.clone(),
        timestamp: after.timestamp,
        source: passing.source,
        status: Some(status),
        corrects_id: Some(passing.id),
        moved_from_id: None,
    };
    commit_passings_tx(tx, passing.session_id, &[new], at)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| CoreError::Invalid("the correction passing was not made".into()))
}

async fn corrections_tx(
    tx: &mut Transaction<'static, Sqlite>,
    passing: PassingId,
) -> Result<Vec<Correction>> {
    let rows = sqlx::query("SELECT * FROM corrections WHERE passing_id = ? ORDER BY id")
        .bind(passing.0)
        .fetch_all(&mut **tx)
        .await?;
    rows.iter().map(crate::store::correction_from_row).collect()
}

/// Corrects a passing (one transaction).
pub async fn correct(
    store: &Store,
    passing: PassingId,
    change: Change,
    author: &Author,
    at: DateTime<Utc>,
) -> Result<Corrected> {
    let mut tx = store.begin_write().await?;
    let done = apply_change(&mut tx, passing, &change, author, at).await?;
    tx.commit().await?;
    Ok(done)
}

/// Specific passings as people see them (for live updates after a correction or a send).
/// Carriers of corrections are replaced by the passing they correct.
pub async fn feed_entries(
    store: &Store,
    ids: &[PassingId],
    chips: &ChipMap,
) -> Result<Vec<FeedEntry>> {
    let mut out = Vec::with_capacity(ids.len());
    let mut seen = std::collections::HashSet::new();
    let mut races: HashMap<SessionId, RaceClock> = HashMap::new();
    for id in ids {
        let Some(mut passing) = store.passing(*id).await? else { continue };
        if let Some(original) = passing.corrects_id {
            match store.passing(original).await? {
                Some(p) => passing = p,
                None => continue,
            }
        }
        if !seen.insert(passing.id) {
            continue;
        }
        let corrections = store.corrections(passing.id).await?;
        let race = match races.get(&passing.session_id) {
            Some(race) => race.clone(),
            None => {
                let race = RaceClock::new(&store.starts(passing.session_id).await?);
                races.insert(passing.session_id, race.clone());
                race
            }
        };
        out.push(to_entry(passing, &corrections, chips, &race));
    }
    Ok(out)
}

/// A stored passing with its corrections applied, as the feed shows it: its runner from the
/// list (by chip, else by bib) and its race time.
pub fn to_entry(
    p: Passing,
    corrections: &[Correction],
    chips: &ChipMap,
    race: &RaceClock,
) -> FeedEntry {
    let e = effective(&p, corrections);
    let from_chip = p.chip.as_deref().and_then(|c| chips.by_chip(c));
    let unknown_chip = !chips.is_empty() && p.chip.is_some() && from_chip.is_none();
    let runner = match (&from_chip, e.bib.as_deref()) {
        // A corrected bib names another runner than the chip's.
        (Some(by_chip), Some(bib)) if by_chip.bib != bib => chips.by_bib(bib),
        (Some(_), _) => from_chip,
        (None, Some(bib)) => chips.by_bib(bib),
        (None, None) => None,
    };
    let wave = runner.as_ref().map_or(crate::participants::DEFAULT_WAVE, |r| r.wave.as_str());
    let race_time_ms = race.race_time(wave, e.timestamp).map(|t| t.num_milliseconds());
    FeedEntry {
        id: p.id,
        session_id: p.session_id,
        num_passing: p.num_passing,
        unknown_chip,
        bib: e.bib,
        chip: p.chip,
        name: runner.as_ref().and_then(|r| r.name.clone()),
        category: runner.as_ref().and_then(|r| r.category.clone()),
        wave: runner.map(|r| r.wave),
        race_time_ms,
        timestamp: e.timestamp,
        source: p.source,
        void: e.void,
        corrected: e.corrected,
        sync_state: p.sync_state,
        sync_error: p.sync_error,
    }
}

/// The session's passings as people see them (corrections applied, carriers folded into the
/// passing they correct), newest first: at most `limit`, with `num_passing` below `before`.
pub async fn feed(
    store: &Store,
    session: SessionId,
    before: Option<i64>,
    limit: i64,
    chips: &ChipMap,
) -> Result<Vec<FeedEntry>> {
    let race = RaceClock::new(&store.starts(session).await?);
    let rows = sqlx::query(
        "SELECT * FROM passings WHERE session_id = ? AND corrects_id IS NULL AND num_passing < ?
         ORDER BY num_passing DESC LIMIT ?",
    )
    .bind(session.0)
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(store.pool())
    .await?;
    let passings: Vec<Passing> = rows.iter().map(passing_from_row).collect::<Result<_>>()?;
    let mut by_passing: HashMap<PassingId, Vec<Correction>> = HashMap::new();
    for c in store.session_corrections(session).await? {
        by_passing.entry(c.passing_id).or_default().push(c);
    }
    Ok(passings
        .into_iter()
        .map(|p| {
            let corrections = by_passing.remove(&p.id).unwrap_or_default();
            to_entry(p, &corrections, chips, &race)
        })
        .collect())
}
