//! Low-rate status pushed to the UI as events (URI-style names from `timing_ipc::events`): sync,
//! readers, session and capture (commit failures) twice a second when they change (and at once
//! when the engine announces a session change), the host
//! clock once a second with any OS clock jump seen (promise 6: the state is unmissable), and,
//! in a build that checks for updates, the update status (found, blocked or installable).

use std::sync::Arc;
use std::time::Duration;

use tauri::{AppHandle, Emitter, Runtime};
use timing_core::changes::Change;
use timing_core::clock::{Clock, ClockJumpDetector, SystemClock, format_utc};
use timing_ipc::{ClockStatus, events};
use tokio::sync::broadcast::error::RecvError;

use crate::core::AppCore;
use crate::updates::Updates;
use crate::views;

/// Emits status events until the app ends.
pub async fn run<R: Runtime>(app: AppHandle<R>, core: Arc<AppCore>, updates: Arc<Updates>) {
    let clock = SystemClock::new();
    let mut jumps = ClockJumpDetector::new(&clock, Duration::from_secs(2));
    let mut last_jump = None;
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let (mut last_sync, mut last_readers, mut last_session) = (None, None, None);
    let (mut last_capture, mut last_update) = (None, None);
    let mut n: u64 = 0;
    // A session that opens, closes or changes state is shown at once, not on the next tick.
    let mut changes = core.running().await.as_ref().map(|run| run.engine().changes().subscribe());
    loop {
        tokio::select! {
            _ = tick.tick() => n += 1,
            change = next_session_change(changes.as_mut()) => {
                if change.is_none() {
                    changes = None;
                }
            }
        }
        {
            let guard = core.running().await;
            if let Some(run) = guard.as_ref() {
                // Session upkeep: capture follows the open session. Re-homing after a remote
                // close is offered to the person, not done behind their back.
                if let Err(e) = run.station.maintain(false).await {
                    tracing::warn!(error = %e, "session upkeep failed");
                }
                let engine = run.engine();
                engine.sync().refresh_counts().await;
                let sync = engine.sync().status().borrow().clone();
                emit_changed(&app, events::SYNC, &sync, &mut last_sync);
                let readers: Vec<_> =
                    run.station.sources().into_iter().map(views::reader).collect();
                emit_changed(&app, events::READERS, &readers, &mut last_readers);
                let session = engine.current_session().await.ok().flatten();
                emit_changed(&app, events::SESSION, &session, &mut last_session);
                // A failing commit is the loudest thing on screen (the UI's red banner).
                let capture = views::capture(run.station.capture());
                emit_changed(&app, events::CAPTURE, &capture, &mut last_capture);
                // Only a build with an update endpoint says anything about updates.
                if updates.enabled() {
                    let update = updates.status(Some(run)).await;
                    emit_changed(&app, events::UPDATE, &update, &mut last_update);
                }
            }
        }
        if n.is_multiple_of(2) {
            if let Some(jump) = jumps.check(&clock) {
                tracing::warn!(
                    jump_ms = jump,
                    "the OS clock jumped; session times are not re-timed"
                );
                last_jump = Some(jump);
            }
            let status = ClockStatus { host_utc: format_utc(clock.now()), last_jump_ms: last_jump };
            let _ = app.emit(events::CLOCK, status);
        }
    }
}

/// Waits for the engine to announce a session change (`None`: the bus is gone).
async fn next_session_change(
    changes: Option<&mut tokio::sync::broadcast::Receiver<Change>>,
) -> Option<()> {
    let Some(changes) = changes else { return std::future::pending().await };
    loop {
        match changes.recv().await {
            Ok(Change::Session(_)) | Err(RecvError::Lagged(_)) => return Some(()),
            Ok(_) => {}
            Err(RecvError::Closed) => return None,
        }
    }
}

fn emit_changed<R: Runtime, T: serde::Serialize>(
    app: &AppHandle<R>,
    event: &str,
    value: &T,
    last: &mut Option<serde_json::Value>,
) {
    let Ok(json) = serde_json::to_value(value) else { return };
    if last.as_ref() != Some(&json) {
        let _ = app.emit(event, &json);
        *last = Some(json);
    }
}
