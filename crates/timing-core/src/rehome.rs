//! Giving passings new numbers without losing or doubling any: re-homing the outbox of a session
//! RUFUS closed from elsewhere into the open one, and renumbering passings whose numbers the
//! cloud already holds for another console's passings (a spare laptop, a restored database).
//!
//! A moved passing is never changed: it is marked `moved`, a new passing carries its *effective*
//! values (corrections applied) under the new number, and a `move` correction records the step.
//! Carriers of corrections keep pointing at the right passing: a carrier whose original moves
//! too is folded into the original's new row (it carries the corrected values already); a
//! carrier whose original stays where the cloud holds it is re-addressed to that original,
//! across sessions when it has to be (`"correction of #N in session TOKEN"`).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sqlx::{Sqlite, Transaction};

use crate::clock::format_utc;
use crate::corrections::{Author, carrier_status, carrier_verb, effective_tx};
use crate::domain::{CorrectionKind, Passing, PassingId, Session, SessionId};
use crate::error::Result;
use crate::store::{NewPassing, Store, commit_passings_tx, passing_from_row};

/// Moves `passings` (pending ones of `from`) into `to` in one transaction; returns the new rows
/// in number order. Pending carriers of a moved original are folded in with it.
pub(crate) async fn move_passings(
    store: &Store,
    from: &Session,
    to: &Session,
    passings: &[Passing],
    author: &Author,
    at: DateTime<Utc>,
) -> Result<Vec<Passing>> {
    let mut tx = store.begin_write().await?;
    let moved = move_tx(&mut tx, from, to, passings, author, at).await?;
    tx.commit().await?;
    Ok(moved)
}

/// Renumbers passings of `session` whose numbers the cloud holds with other content: they move
/// within the session to numbers after the cloud's highest (the caller raised the numbering).
pub(crate) async fn renumber(
    store: &Store,
    session: &Session,
    passings: &[Passing],
    at: DateTime<Utc>,
) -> Result<Vec<Passing>> {
    let author = Author {
        operator: "console".into(),
        station: None,
        reason: Some("the cloud holds another console's passings under these numbers".into()),
    };
    move_passings(store, session, session, passings, &author, at).await
}

async fn move_tx(
    tx: &mut Transaction<'static, Sqlite>,
    from: &Session,
    to: &Session,
    passings: &[Passing],
    author: &Author,
    at: DateTime<Utc>,
) -> Result<Vec<Passing>> {
    // Still pending now (inside the write lock), plus the pending carriers of moved originals.
    let mut moving: Vec<Passing> = Vec::with_capacity(passings.len());
    let mut ids: HashSet<PassingId> = HashSet::new();
    for p in passings {
        if let Some(p) = pending_tx(tx, p.id).await?
            && ids.insert(p.id)
        {
            moving.push(p);
        }
    }
    let originals: Vec<PassingId> =
        moving.iter().filter(|p| p.corrects_id.is_none()).map(|p| p.id).collect();
    for original in originals {
        let rows = sqlx::query(
            "SELECT * FROM passings WHERE corrects_id = ? AND sync_state = 'pending' ORDER BY num_passing",
        )
        .bind(original.0)
        .fetch_all(&mut **tx)
        .await?;
        for row in &rows {
            let carrier = passing_from_row(row)?;
            if ids.insert(carrier.id) {
                moving.push(carrier);
            }
        }
    }
    moving.sort_by_key(|p| p.num_passing);

    let mut new = Vec::new();
    let mut sources = Vec::new();
    let mut folded = Vec::new();
    for p in &moving {
        match p.corrects_id {
            Some(original) if ids.contains(&original) => folded.push(p.clone()),
            Some(original) => {
                let Some(target) = passing_tx(tx, original).await? else { continue };
                let verb = p.status.as_deref().and_then(carrier_verb).unwrap_or("correction of");
                let token = if target.session_id == to.id {
                    None
                } else {
                    session_token_tx(tx, target.session_id).await?
                };
                new.push(NewPassing {
                    bib: p.bib.clone(),
                    chip: p.chip.clone(),
                    timestamp: p.timestamp,
                    source: p.source,
                    status: Some(carrier_status(verb, target.num_passing, token.as_deref())),
                    corrects_id: Some(original),
                    moved_from_id: Some(p.id),
                });
                sources.push(p.clone());
            }
            None => {
                let e = effective_tx(tx, p).await?;
                new.push(NewPassing {
                    bib: e.bib,
                    chip: p.chip.clone(),
                    timestamp: e.timestamp,
                    source: p.source,
                    status: if e.void { Some("void".into()) } else { p.status.clone() },
                    corrects_id: None,
                    moved_from_id: Some(p.id),
                });
                sources.push(p.clone());
            }
        }
    }
    let made = commit_passings_tx(tx, to.id, &new, at).await?;
    for (old, n) in sources.iter().zip(&made) {
        record_move(tx, old, from.id, Some((n.id, to.id, n.num_passing)), author, at).await?;
    }
    for carrier in &folded {
        record_move(tx, carrier, from.id, None, author, at).await?;
    }
    Ok(made)
}

async fn record_move(
    tx: &mut Transaction<'static, Sqlite>,
    old: &Passing,
    from: SessionId,
    to: Option<(PassingId, SessionId, i64)>,
    author: &Author,
    at: DateTime<Utc>,
) -> Result<()> {
    sqlx::query("UPDATE passings SET sync_state = 'moved' WHERE id = ?")
        .bind(old.id.0)
        .execute(&mut **tx)
        .await?;
    let new_value = match to {
        Some((_, session, num)) => format!("session {session} #{num}"),
        None => "folded into its original's new passing".to_owned(),
    };
    sqlx::query(
        "INSERT INTO corrections(passing_id, action, old_value, new_value, operator, station, reason, at, carrier_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(old.id.0)
    .bind(CorrectionKind::Move.as_str())
    .bind(format!("session {from} #{}", old.num_passing))
    .bind(new_value)
    .bind(&author.operator)
    .bind(&author.station)
    .bind(&author.reason)
    .bind(format_utc(at))
    .bind(to.map(|(id, _, _)| id.0))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn pending_tx(
    tx: &mut Transaction<'static, Sqlite>,
    id: PassingId,
) -> Result<Option<Passing>> {
    Ok(passing_tx(tx, id).await?.filter(|p| p.sync_state == crate::domain::SyncState::Pending))
}

async fn passing_tx(
    tx: &mut Transaction<'static, Sqlite>,
    id: PassingId,
) -> Result<Option<Passing>> {
    let row = sqlx::query("SELECT * FROM passings WHERE id = ?")
        .bind(id.0)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(passing_from_row).transpose()
}

async fn session_token_tx(
    tx: &mut Transaction<'static, Sqlite>,
    session: SessionId,
) -> Result<Option<String>> {
    Ok(sqlx::query_scalar::<_, Option<String>>("SELECT token_session FROM sessions WHERE id = ?")
        .bind(session.0)
        .fetch_optional(&mut **tx)
        .await?
        .flatten())
}
