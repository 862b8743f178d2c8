//! The live feed (a page to start from, then coalesced batches over a channel), manual entry in
//! its three modes with undo, and corrections with their audit trail.

use chrono::{DateTime, Utc};
use timing_core::clock::parse_utc;
use timing_core::corrections::{Change, Corrected};
use timing_core::domain::{Correction, FeedEntry, PassingId};
use timing_core::manual::Entry;
use timing_core::{CoreError, Engine};
use timing_ipc::{ChangeInput, FeedBatch, ManualResult, PressedAt};

use super::{Cmd, Core, engine, err, running};
use crate::views;

#[tauri::command]
pub async fn feed_page(core: Core<'_>, before: Option<i64>, limit: i64) -> Cmd<Vec<FeedEntry>> {
    let guard = core.running().await;
    let engine = engine(&guard)?;
    match engine.current_session().await.map_err(err)? {
        Some(_) => engine.feed(None, before, limit.clamp(1, 200_000)).await.map_err(err),
        None => Ok(Vec::new()),
    }
}

/// Streams feed batches to the UI until the window goes away.
#[tauri::command]
pub async fn feed_subscribe(core: Core<'_>, on_batch: tauri::ipc::Channel<FeedBatch>) -> Cmd<()> {
    let mut updates = core.feed_updates();
    tauri::async_runtime::spawn(async move {
        loop {
            match updates.recv().await {
                Ok(update) => {
                    if on_batch.send(views::batch(&update)).is_err() {
                        break; // the page was reloaded or closed
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    });
    Ok(())
}

/// Runs one manual action and announces what it changed to the live feed.
async fn manual(
    core: &Core<'_>,
    action: impl AsyncFnOnce(&Engine) -> Result<Entry, CoreError>,
) -> Cmd<Entry> {
    let guard = core.running().await;
    let run = running(&guard)?;
    let entry = action(run.engine()).await.map_err(err)?;
    run.feed.touched(entry.passings.iter().map(|p| p.id).collect());
    Ok(entry)
}

/// The time a manual stamp gets: the key press time the UI took, bounded against the host
/// clock by timing-core, and why it is not that time when it is not.
fn stamp_time(e: &Engine, pressed_at: Option<&PressedAt>) -> (DateTime<Utc>, Option<String>) {
    match pressed_at.map(PressedAt::to_utc) {
        None => e.key_press_time(None),
        Some(Ok(t)) => e.key_press_time(Some(t)),
        Some(Err(why)) => {
            let (now, _) = e.key_press_time(None);
            (now, Some(format!("{why}; stamped now")))
        }
    }
}

/// A manual stamp at the key press time, with the time warning if there is one.
async fn stamped(
    core: &Core<'_>,
    pressed_at: Option<PressedAt>,
    action: impl AsyncFnOnce(&Engine, DateTime<Utc>) -> Result<Entry, CoreError>,
) -> Cmd<ManualResult> {
    let mut time_warning = None;
    let entry = manual(core, async |e| {
        let (at, warning) = stamp_time(e, pressed_at.as_ref());
        time_warning = warning;
        action(e, at).await
    })
    .await?;
    Ok(ManualResult { entry, time_warning })
}

#[tauri::command]
pub async fn manual_mark(
    core: Core<'_>,
    bibs: String,
    pressed_at: Option<PressedAt>,
    confirmed: Option<bool>,
) -> Cmd<ManualResult> {
    stamped(&core, pressed_at, async |e, at| {
        let manual = e.manual().await?.confirm_many(confirmed.unwrap_or(false));
        manual.mark(&bibs, at, e.clock().now()).await
    })
    .await
}

#[tauri::command]
pub async fn manual_stamp(core: Core<'_>, pressed_at: Option<PressedAt>) -> Cmd<ManualResult> {
    stamped(&core, pressed_at, async |e, at| e.manual().await?.stamp(at, e.clock().now()).await)
        .await
}

#[tauri::command]
pub async fn manual_assign(core: Core<'_>, bibs: String, confirmed: Option<bool>) -> Cmd<Entry> {
    manual(&core, async |e| {
        let manual = e.manual().await?.confirm_many(confirmed.unwrap_or(false));
        manual.assign(&bibs, e.clock().now()).await
    })
    .await
}

#[tauri::command]
pub async fn manual_queue(core: Core<'_>, bibs: String, confirmed: Option<bool>) -> Cmd<Entry> {
    manual(&core, async |e| {
        let manual = e.manual().await?.confirm_many(confirmed.unwrap_or(false));
        manual.queue(&bibs, e.clock().now()).await
    })
    .await
}

#[tauri::command]
pub async fn manual_stamp_queued(
    core: Core<'_>,
    pressed_at: Option<PressedAt>,
) -> Cmd<ManualResult> {
    stamped(&core, pressed_at, async |e, at| {
        e.manual().await?.stamp_queued(at, e.clock().now()).await
    })
    .await
}

#[tauri::command]
pub async fn manual_undo(core: Core<'_>) -> Cmd<Entry> {
    manual(&core, async |e| e.manual().await?.undo(e.clock().now()).await).await
}

#[tauri::command]
pub async fn passing_correct(
    core: Core<'_>,
    num: i64,
    change: ChangeInput,
    reason: Option<String>,
) -> Cmd<Corrected> {
    let change = match change {
        ChangeInput::SetBib { bib } => Change::SetBib(bib),
        ChangeInput::SetTime { time } => Change::SetTime(
            parse_utc(&time)
                .ok_or_else(|| err(CoreError::Invalid(format!("`{time}` is not a time"))))?,
        ),
        ChangeInput::Void => Change::Void,
        ChangeInput::Restore => Change::Restore,
    };
    let guard = core.running().await;
    let run = running(&guard)?;
    let reason = reason.filter(|r| !r.trim().is_empty());
    let done = run.engine().correct(None, num, change, reason).await.map_err(err)?;
    run.feed.touched(vec![done.correction.passing_id]);
    Ok(done)
}

#[tauri::command]
pub async fn passing_audit(core: Core<'_>, passing_id: i64) -> Cmd<Vec<Correction>> {
    let guard = core.running().await;
    engine(&guard)?.audit(PassingId(passing_id)).await.map_err(err)
}
