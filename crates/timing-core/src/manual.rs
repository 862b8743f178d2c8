//! Manual entry, keyboard first, in the three modes of the best manual timing tools: bib then
//! Enter (stamps now), time first (stamp, then bibs go to the oldest unassigned stamp), and typed
//! ahead (queued bibs, a key stamps the first). Every action is committed before it returns and
//! can be undone; undo is itself a correction, never a deletion.

use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::clock::format_utc;
use crate::corrections::{Author, Change, apply_change};
use crate::domain::{Passing, PassingId, SessionId};
use crate::error::{CoreError, Result};
use crate::participants::{ChipMap, looks_like_bib};
use crate::store::{NewPassing, Store, commit_passings_tx, passing_from_row};

/// Something a volunteer should look at, though the entry was recorded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Warning {
    /// The bib is not in the loaded participant list.
    UnknownBib {
        /// The bib.
        bib: String,
    },
    /// The bib already has a passing in this session.
    RepeatedBib {
        /// The bib.
        bib: String,
        /// Its earlier passing.
        earlier_num: i64,
    },
}

/// What a manual action recorded.
#[derive(Debug, Clone, Default, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Entry {
    /// Passings committed or changed.
    pub passings: Vec<Passing>,
    /// Warnings to show.
    pub warnings: Vec<Warning>,
    /// Bibs waiting in the typed-ahead queue after the action.
    pub queued: Vec<String>,
}

/// More bibs than this in one entry (a paste gone wrong) asks for a confirmation first.
pub const CONFIRM_ABOVE: usize = 50;

/// Splits what was typed into bibs ("7, 12 33" → 7, 12, 33), refusing anything that is not one.
pub fn parse_bibs(typed: &str) -> Result<Vec<String>> {
    let bibs: Vec<String> = typed
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|b| !b.is_empty())
        .map(str::to_owned)
        .collect();
    if let Some(bad) = bibs.iter().find(|b| !looks_like_bib(b)) {
        return Err(CoreError::Invalid(format!("`{bad}` is not a bib (1–8 letters or digits)")));
    }
    Ok(bibs)
}

/// Manual entry on one session.
#[derive(Debug)]
pub struct ManualEntry<'a> {
    store: &'a Store,
    chips: &'a ChipMap,
    session: SessionId,
    author: Author,
    many_confirmed: bool,
}

impl<'a> ManualEntry<'a> {
    /// Manual entry into `session` by `author`.
    pub fn new(store: &'a Store, chips: &'a ChipMap, session: SessionId, author: Author) -> Self {
        Self { store, chips, session, author, many_confirmed: false }
    }

    /// The person confirmed an entry of more than [`CONFIRM_ABOVE`] bibs.
    pub fn confirm_many(mut self, confirmed: bool) -> Self {
        self.many_confirmed = confirmed;
        self
    }

    /// The typed bibs, refusing more than [`CONFIRM_ABOVE`] at once unless confirmed.
    fn bibs(&self, typed: &str) -> Result<Vec<String>> {
        let bibs = parse_bibs(typed)?;
        if bibs.len() > CONFIRM_ABOVE && !self.many_confirmed {
            return Err(CoreError::ConfirmationRequired(format!(
                "{} bibs in one entry: confirm to record them all",
                bibs.len()
            )));
        }
        Ok(bibs)
    }

    /// Says which passings an action made or changed (the live feed shows them).
    fn announce(&self, entry: Entry) -> Entry {
        if !entry.passings.is_empty() {
            let ids = entry.passings.iter().map(|p| p.id).collect();
            self.store.changes().emit(crate::changes::Change::Passings(ids));
        }
        entry
    }

    /// Mode 1: the typed bibs cross now (or at `at`). Several bibs at one time are allowed;
    /// an empty entry stamps a bib-less time.
    pub async fn mark(&self, typed: &str, at: DateTime<Utc>, now: DateTime<Utc>) -> Result<Entry> {
        let bibs = self.bibs(typed)?;
        if bibs.is_empty() {
            return self.stamp(at, now).await;
        }
        let warnings = self.warnings(&bibs).await?;
        let new: Vec<NewPassing> =
            bibs.into_iter().map(|b| NewPassing::manual(Some(b), at)).collect();
        let mut tx = self.store.begin_write().await?;
        let passings = commit_passings_tx(&mut tx, self.session, &new, now).await?;
        record_action(&mut tx, self.session, "mark", &ids(&passings), None, now).await?;
        tx.commit().await?;
        Ok(self.announce(Entry { passings, warnings, queued: self.queued().await? }))
    }

    /// Mode 2: a runner crossed now; the bib comes later ([`ManualEntry::assign`]).
    pub async fn stamp(&self, at: DateTime<Utc>, now: DateTime<Utc>) -> Result<Entry> {
        let mut tx = self.store.begin_write().await?;
        let passings =
            commit_passings_tx(&mut tx, self.session, &[NewPassing::manual(None, at)], now).await?;
        record_action(&mut tx, self.session, "stamp", &ids(&passings), None, now).await?;
        tx.commit().await?;
        Ok(self.announce(Entry { passings, warnings: Vec::new(), queued: self.queued().await? }))
    }

    /// Mode 2: gives typed bibs to the oldest stamps still waiting for one, in finish order
    /// (stamped by hand, or photocell impulses).
    pub async fn assign(&self, typed: &str, now: DateTime<Utc>) -> Result<Entry> {
        let bibs = self.bibs(typed)?;
        if bibs.is_empty() {
            return Err(CoreError::Invalid("type the bib to assign".into()));
        }
        let warnings = self.warnings(&bibs).await?;
        let mut tx = self.store.begin_write().await?;
        // Waiting means: no bib *as people see it* (corrections applied), not void — so a stamp
        // whose assignment was undone after it was sent is back at the head of the queue.
        let waiting: Vec<i64> = sqlx::query_scalar(
            "SELECT p.id FROM passings p
             WHERE p.session_id = ? AND p.chip IS NULL AND p.corrects_id IS NULL
               AND p.sync_state IN ('pending', 'sent')
               AND (CASE WHEN EXISTS (SELECT 1 FROM corrections c
                                      WHERE c.passing_id = p.id AND c.action = 'set_bib')
                         THEN (SELECT c.new_value FROM corrections c
                               WHERE c.passing_id = p.id AND c.action = 'set_bib'
                               ORDER BY c.id DESC LIMIT 1)
                         ELSE p.bib END) IS NULL
               AND COALESCE((SELECT c.action FROM corrections c
                             WHERE c.passing_id = p.id AND c.action IN ('void', 'restore')
                             ORDER BY c.id DESC LIMIT 1),
                            CASE WHEN p.status = 'void' THEN 'void' ELSE 'restore' END) <> 'void'
             ORDER BY p.timestamp, p.num_passing LIMIT ?",
        )
        .bind(self.session.0)
        .bind(bibs.len() as i64)
        .fetch_all(&mut *tx)
        .await?;
        if waiting.len() < bibs.len() {
            return Err(CoreError::Conflict(format!(
                "{} stamped time(s) wait for a bib, {} bib(s) typed: stamp first, or use mark",
                waiting.len(),
                bibs.len()
            )));
        }
        let mut changed = Vec::new();
        for (id, bib) in waiting.into_iter().zip(bibs) {
            apply_change(&mut tx, PassingId(id), &Change::SetBib(Some(bib)), &self.author, now)
                .await?;
            changed.push(PassingId(id));
        }
        record_action(&mut tx, self.session, "assign", &changed, None, now).await?;
        let passings = load(&mut tx, &changed).await?;
        tx.commit().await?;
        Ok(self.announce(Entry { passings, warnings, queued: self.queued().await? }))
    }

    /// Mode 3: bibs of runners approaching, queued in order.
    pub async fn queue(&self, typed: &str, now: DateTime<Utc>) -> Result<Entry> {
        let bibs = self.bibs(typed)?;
        let warnings = self.warnings(&bibs).await?;
        let mut tx = self.store.begin_write().await?;
        for bib in bibs {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO bib_queue(session_id, bib, queued_at) VALUES (?, ?, ?) RETURNING id",
            )
            .bind(self.session.0)
            .bind(&bib)
            .bind(format_utc(now))
            .fetch_one(&mut *tx)
            .await?;
            record_action(&mut tx, self.session, "queue", &[], Some(id), now).await?;
        }
        tx.commit().await?;
        Ok(self.announce(Entry { passings: Vec::new(), warnings, queued: self.queued().await? }))
    }

    /// Mode 3: the first queued runner crossed now (a plain stamp when the queue is empty).
    pub async fn stamp_queued(&self, at: DateTime<Utc>, now: DateTime<Utc>) -> Result<Entry> {
        let mut tx = self.store.begin_write().await?;
        let next = sqlx::query(
            "SELECT id, bib FROM bib_queue WHERE session_id = ? AND consumed_by IS NULL AND dropped = 0
             ORDER BY id LIMIT 1",
        )
        .bind(self.session.0)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(next) = next else {
            drop(tx);
            return self.stamp(at, now).await;
        };
        let (queue_id, bib): (i64, String) = (next.try_get("id")?, next.try_get("bib")?);
        let passings =
            commit_passings_tx(&mut tx, self.session, &[NewPassing::manual(Some(bib), at)], now)
                .await?;
        if let Some(p) = passings.first() {
            sqlx::query("UPDATE bib_queue SET consumed_by = ? WHERE id = ?")
                .bind(p.id.0)
                .bind(queue_id)
                .execute(&mut *tx)
                .await?;
        }
        record_action(&mut tx, self.session, "stamp_queued", &ids(&passings), Some(queue_id), now)
            .await?;
        tx.commit().await?;
        Ok(self.announce(Entry { passings, warnings: Vec::new(), queued: self.queued().await? }))
    }

    /// Undoes the last manual action not yet undone: a mark or stamp is voided, an assignment
    /// cleared, a queued bib dropped, a queued stamp voided with its bib back in the queue.
    pub async fn undo(&self, now: DateTime<Utc>) -> Result<Entry> {
        let mut tx = self.store.begin_write().await?;
        let last = sqlx::query(
            "SELECT id, kind, passing_ids, queue_id FROM manual_actions
             WHERE session_id = ? AND undone = 0 ORDER BY id DESC LIMIT 1",
        )
        .bind(self.session.0)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| CoreError::Conflict("nothing to undo".into()))?;
        let (action_id, kind): (i64, String) = (last.try_get("id")?, last.try_get("kind")?);
        let passing_ids: Vec<PassingId> = last
            .try_get::<String, _>("passing_ids")?
            .split(',')
            .filter_map(|s| s.parse().ok().map(PassingId))
            .collect();
        let queue_id: Option<i64> = last.try_get("queue_id")?;
        let author = Author { reason: Some(format!("undo {kind}")), ..self.author.clone() };
        for id in &passing_ids {
            let change = if kind == "assign" { Change::SetBib(None) } else { Change::Void };
            apply_change(&mut tx, *id, &change, &author, now).await?;
        }
        if let Some(queue_id) = queue_id {
            let sql = if kind == "queue" {
                "UPDATE bib_queue SET dropped = 1 WHERE id = ?"
            } else {
                "UPDATE bib_queue SET consumed_by = NULL WHERE id = ?"
            };
            sqlx::query(sql).bind(queue_id).execute(&mut *tx).await?;
        }
        sqlx::query("UPDATE manual_actions SET undone = 1 WHERE id = ?")
            .bind(action_id)
            .execute(&mut *tx)
            .await?;
        let passings = load(&mut tx, &passing_ids).await?;
        tx.commit().await?;
        Ok(self.announce(Entry { passings, warnings: Vec::new(), queued: self.queued().await? }))
    }

    /// Bibs waiting in the typed-ahead queue, first first.
    pub async fn queued(&self) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT bib FROM bib_queue WHERE session_id = ? AND consumed_by IS NULL AND dropped = 0 ORDER BY id",
        )
        .bind(self.session.0)
        .fetch_all(self.store.pool())
        .await?)
    }

    async fn warnings(&self, bibs: &[String]) -> Result<Vec<Warning>> {
        let mut warnings = Vec::new();
        for bib in bibs {
            if !self.chips.is_empty() && !self.chips.knows_bib(bib) {
                warnings.push(Warning::UnknownBib { bib: bib.clone() });
            }
            let earlier: Option<i64> = sqlx::query_scalar(
                "SELECT MIN(num_passing) FROM passings WHERE session_id = ? AND bib = ?
                   AND corrects_id IS NULL AND COALESCE(status, '') <> 'void'",
            )
            .bind(self.session.0)
            .bind(bib)
            .fetch_one(self.store.pool())
            .await?;
            if let Some(earlier_num) = earlier {
                warnings.push(Warning::RepeatedBib { bib: bib.clone(), earlier_num });
            }
        }
        Ok(warnings)
    }
}

fn ids(passings: &[Passing]) -> Vec<PassingId> {
    passings.iter().map(|p| p.id).collect()
}

async fn record_action(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    session: SessionId,
    kind: &str,
    passings: &[PassingId],
    queue_id: Option<i64>,
    at: DateTime<Utc>,
) -> Result<()> {
    let list = passings.iter().map(|p| p.0.to_string()).collect::<Vec<_>>().join(",");
    sqlx::query("INSERT INTO manual_actions(session_id, kind, passing_ids, queue_id, at) VALUES (?, ?, ?, ?, ?)")
        .bind(session.0)
        .bind(kind)
        .bind(list)
        .bind(queue_id)
        .bind(format_utc(at))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn load(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    ids: &[PassingId],
) -> Result<Vec<Passing>> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let row = sqlx::query("SELECT * FROM passings WHERE id = ?")
            .bind(id.0)
            .fetch_one(&mut **tx)
            .await?;
        out.push(passing_from_row(&row)?);
    }
    Ok(out)
}
