//! The race: wave starts (stamp, exact time, nudge, restart after a false start), who a typed
//! bib is, the counts and the "not yet seen" list. Starts are stored on this console only.

use timing_core::CoreError;
use timing_core::clock::{format_utc, parse_utc};
use timing_core::starts::{Start, StartRequest};
use timing_ipc::{RaceView, RunnerPreview, RunnerView, StartInput, StartView, WaveView};

use super::{Cmd, Console, engine, err};
use crate::commands::feed::stamp_time;

/// Nudges beyond an hour are a typo, not a correction of a start.
const MAX_NUDGE_S: f64 = 3600.0;

impl timing_ipc::RaceCommands for Console {
    async fn race_state(&self) -> Cmd<RaceView> {
        let guard = self.core.running().await;
        race_view(engine(&guard)?).await
    }

    async fn race_start(&self, wave: String, how: StartInput) -> Cmd<RaceView> {
        let guard = self.core.running().await;
        let engine = engine(&guard)?;
        let request = match how {
            StartInput::Now { pressed_at } => {
                StartRequest::Now(stamp_time(engine, pressed_at.as_ref()).0)
            }
            StartInput::Restart { pressed_at } => {
                StartRequest::Restart(stamp_time(engine, pressed_at.as_ref()).0)
            }
            StartInput::Exact { at } => StartRequest::Exact(
                parse_utc(&at)
                    .ok_or_else(|| err(CoreError::Invalid(format!("at: `{at}` is not a time"))))?,
            ),
            StartInput::Nudge { seconds } => {
                if !seconds.is_finite() || seconds.abs() > MAX_NUDGE_S || seconds == 0.0 {
                    return Err(err(CoreError::Invalid(format!(
                        "seconds: a nudge is a few seconds, not {seconds}"
                    ))));
                }
                #[allow(clippy::cast_possible_truncation)] // bounded to ±3,600,000 ms above
                StartRequest::Nudge(chrono::TimeDelta::milliseconds(
                    (seconds * 1000.0).round() as i64
                ))
            }
        };
        engine.start_wave(&wave, request).await.map_err(err)?;
        race_view(engine).await
    }

    async fn runner_preview(&self, bib: String) -> Cmd<RunnerPreview> {
        let guard = self.core.running().await;
        engine(&guard)?.preview_bib(bib.trim()).await.map_err(err)
    }

    async fn runners_not_seen(&self, search: String, limit: i64) -> Cmd<Vec<RunnerView>> {
        let guard = self.core.running().await;
        let limit = usize::try_from(limit.clamp(1, 10_000)).unwrap_or(100);
        let people = engine(&guard)?.not_yet_seen(None, &search, limit).await.map_err(err)?;
        Ok(people
            .into_iter()
            .map(|p| RunnerView { bib: p.bib, name: p.name, category: p.category, wave: p.wave })
            .collect())
    }
}

/// The open session's race; without one, the waves of the list and nothing started.
async fn race_view(engine: &timing_core::Engine) -> Cmd<RaceView> {
    let session = engine.current_session().await.map_err(err)?;
    let (log, counts) = match &session {
        Some(s) => (
            engine.starts(Some(s.id)).await.map_err(err)?,
            Some(engine.race_counts(Some(s.id)).await.map_err(err)?),
        ),
        None => (Vec::new(), None),
    };
    let current = timing_core::starts::current(&log);
    let people = engine.chips().participants();
    let mut waves: Vec<String> = engine.chips().waves();
    for wave in current.keys() {
        if !waves.contains(wave) {
            waves.push(wave.clone());
        }
    }
    let waves = waves
        .into_iter()
        .map(|wave| {
            let start = current.get(&wave);
            WaveView {
                label: if wave.is_empty() { "Race".to_owned() } else { wave.clone() },
                runners: u32::try_from(people.iter().filter(|p| p.wave == wave).count())
                    .unwrap_or(u32::MAX),
                start_at: start.map(|s| format_utc(s.at)),
                start_kind: start.map(|s| s.kind.name().to_owned()),
                wave,
            }
        })
        .collect();
    Ok(RaceView {
        session_id: session.map(|s| s.id.0),
        waves,
        log: log.iter().map(start_view).collect(),
        counts,
    })
}

fn start_view(s: &Start) -> StartView {
    StartView {
        wave: s.wave.clone(),
        at: format_utc(s.at),
        kind: s.kind.name().to_owned(),
        source: s.source.clone(),
        operator: s.operator.clone(),
        recorded_at: format_utc(s.recorded_at),
    }
}
