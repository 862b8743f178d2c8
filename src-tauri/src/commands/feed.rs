//! The live feed (a page to start from, then coalesced batches over a channel), manual entry in
//! its three modes with undo, and corrections with their audit trail.

use timing_core::clock::parse_utc;
use timing_core::corrections::{Change, Corrected};
use timing_core::domain::{Correction, FeedEntry, PassingId};
use timing_core::manual::Entry;
use timing_core::{CoreError, Engine};
use timing_ipc::{ChangeInput, FeedBatch};

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

#[tauri::command]
pub async fn manual_mark(core: Core<'_>, bibs: String) -> Cmd<Entry> {
    manual(&core, async |e| {
        let now = e.clock().now();
        e.manual().await?.mark(&bibs, now, now).await
    })
    .await
}

#[tauri::command]
pub async fn manual_stamp(core: Core<'_>) -> Cmd<Entry> {
    manual(&core, async |e| {
        let now = e.clock().now();
        e.manual().await?.stamp(now, now).await
    })
    .await
}

#[tauri::command]
pub async fn manual_assign(core: Core<'_>, bibs: String) -> Cmd<Entry> {
    manual(&core, async |e| e.manual().await?.assign(&bibs, e.clock().now()).await).await
}

#[tauri::command]
pub async fn manual_queue(core: Core<'_>, bibs: String) -> Cmd<Entry> {
    manual(&core, async |e| e.manual().await?.queue(&bibs, e.clock().now()).await).await
}

#[tauri::command]
pub async fn manual_stamp_queued(core: Core<'_>) -> Cmd<Entry> {
    manual(&core, async |e| {
        let now = e.clock().now();
        e.manual().await?.stamp_queued(now, now).await
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
