//! The live feed (a page to start from, then coalesced batches over a channel), manual entry in
//! its three modes with undo, and corrections with their audit trail.

use chrono::{DateTime, Utc};
use timing_core::clock::parse_utc;
use timing_core::corrections::{Change, Corrected};
use timing_core::domain::{Correction, FeedEntry, PassingId};
use timing_core::manual::Entry;
use timing_core::{CoreError, Engine};
use timing_ipc::{ChangeInput, FeedBatch, ManualResult, PressedAt, Sink};

use super::{Cmd, Console, engine, err, running};
use crate::core::AppCore;
use crate::views;

impl timing_ipc::FeedCommands for Console {
    async fn feed_page(&self, before: Option<i64>, limit: i64) -> Cmd<Vec<FeedEntry>> {
        let guard = self.core.running().await;
        let engine = engine(&guard)?;
        match engine.current_session().await.map_err(err)? {
            Some(_) => engine.feed(None, before, limit.clamp(1, 200_000)).await.map_err(err),
            None => Ok(Vec::new()),
        }
    }

    /// Streams feed batches to the UI until the window goes away.
    async fn feed_subscribe(&self, on_batch: Sink<FeedBatch>) -> Cmd<()> {
        let mut updates = {
            let guard = self.core.running().await;
            running(&guard)?.feed.subscribe()
        };
        tauri::async_runtime::spawn(async move {
            loop {
                match updates.recv().await {
                    Ok(update) => {
                        if !on_batch.send(views::batch(&update)) {
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

    async fn manual_mark(
        &self,
        bibs: String,
        pressed_at: Option<PressedAt>,
        confirmed: Option<bool>,
    ) -> Cmd<ManualResult> {
        stamped(&self.core, pressed_at, async |e, at| {
            let manual = e.manual().await?.confirm_many(confirmed.unwrap_or(false));
            manual.mark(&bibs, at, e.clock().now()).await
        })
        .await
    }

    async fn manual_stamp(&self, pressed_at: Option<PressedAt>) -> Cmd<ManualResult> {
        stamped(&self.core, pressed_at, async |e, at| {
            e.manual().await?.stamp(at, e.clock().now()).await
        })
        .await
    }

    async fn manual_assign(&self, bibs: String, confirmed: Option<bool>) -> Cmd<Entry> {
        manual(&self.core, async |e| {
            let manual = e.manual().await?.confirm_many(confirmed.unwrap_or(false));
            manual.assign(&bibs, e.clock().now()).await
        })
        .await
    }

    async fn manual_queue(&self, bibs: String, confirmed: Option<bool>) -> Cmd<Entry> {
        manual(&self.core, async |e| {
            let manual = e.manual().await?.confirm_many(confirmed.unwrap_or(false));
            manual.queue(&bibs, e.clock().now()).await
        })
        .await
    }

    async fn manual_stamp_queued(&self, pressed_at: Option<PressedAt>) -> Cmd<ManualResult> {
        stamped(&self.core, pressed_at, async |e, at| {
            e.manual().await?.stamp_queued(at, e.clock().now()).await
        })
        .await
    }

    async fn manual_undo(&self) -> Cmd<Entry> {
        manual(&self.core, async |e| e.manual().await?.undo(e.clock().now()).await).await
    }

    async fn passing_correct(
        &self,
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
        let guard = self.core.running().await;
        let run = running(&guard)?;
        let reason = reason.filter(|r| !r.trim().is_empty());
        let done = run.engine().correct(None, num, change, reason).await.map_err(err)?;
        Ok(done)
    }

    async fn passing_audit(&self, passing_id: i64) -> Cmd<Vec<Correction>> {
        let guard = self.core.running().await;
        engine(&guard)?.audit(PassingId(passing_id)).await.map_err(err)
    }
}

/// Runs one manual action and announces what it changed to the live feed.
async fn manual(
    core: &AppCore,
    action: impl AsyncFnOnce(&Engine) -> Result<Entry, CoreError>,
) -> Cmd<Entry> {
    let guard = core.running().await;
    let run = running(&guard)?;
    let entry = action(run.engine()).await.map_err(err)?;
    Ok(entry)
}

/// The time a manual stamp gets: the key press time the UI took, bounded against the host
/// clock by timing-core, and why it is not that time when it is not.
pub(super) fn stamp_time(
    e: &Engine,
    pressed_at: Option<&PressedAt>,
) -> (DateTime<Utc>, Option<String>) {
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
    core: &AppCore,
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
