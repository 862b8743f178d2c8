//! `timing-cli run`: the headless console. Captures from every `--source` at once, syncs
//! continuously, prints a status line every few seconds on stderr, re-homes pending passings
//! on its own when RUFUS closes the session from elsewhere (nobody may be at a remote split to
//! click), and on SIGINT/SIGTERM commits what is queued and exits 0.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use timing_core::capture::Capture;
use timing_core::source::SourceSpec;
use timing_core::{CoreError, Engine};
use tokio::task::JoinSet;

/// Arguments of `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// A source: `sim:runners=500,rate=20`, `lines:-` (stdin), `lines:/dev/ttyUSB0?baud=9600`.
    /// Repeat for several sources at once.
    #[arg(long = "source", required = true, value_name = "SPEC")]
    sources: Vec<String>,
    /// Seconds between status lines on stderr.
    #[arg(long, default_value_t = 2.0, value_name = "SECONDS")]
    status_every: f64,
    /// Exit once every source has ended and the outbox is empty (for scripts and files).
    #[arg(long)]
    exit_when_done: bool,
}

pub async fn run(engine: Engine, args: RunArgs) -> Result<ExitCode, CoreError> {
    let specs = args.sources.iter().map(|s| SourceSpec::parse(s)).collect::<Result<Vec<_>, _>>()?;
    if !(args.status_every.is_finite() && args.status_every > 0.0) {
        return Err(CoreError::Invalid(
            "--status-every must be a positive number of seconds".into(),
        ));
    }
    if engine.sync().client().is_none() {
        eprintln!("note: no RUFUS_API_KEY set: capturing locally, nothing is syncing");
    } else if let Err(e) = engine.check_sessions().await {
        eprintln!("note: could not check the session with RUFUS yet ({e}); will keep trying");
    }
    let capture = engine.start_capture().await?;
    if capture.session().is_none() {
        eprintln!(
            "warning: no session is open: reads are stored but make no passings \
             (open one with `timing-cli session open`)"
        );
    }
    let sync_task = tokio::spawn(engine.sync().clone().run());
    let mut sources = JoinSet::new();
    for spec in specs {
        let source = spec.into_source();
        let name = source.name();
        let sink = capture.sink();
        sources.spawn(async move { (name, source.run(sink).await) });
    }

    let mut tick = tokio::time::interval(Duration::from_secs_f64(args.status_every));
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    let mut signalled = false;
    loop {
        tokio::select! {
            () = &mut shutdown => {
                signalled = true;
                break;
            }
            Some(ended) = sources.join_next(), if !sources.is_empty() => match ended {
                Ok((name, Ok(()))) => eprintln!("source {name} ended"),
                Ok((name, Err(e))) => eprintln!("error: source {name} stopped: {e}"),
                Err(e) => eprintln!("error: a source task failed: {e}"),
            },
            _ = tick.tick() => {
                if let Err(e) = watch_sessions(&engine, &capture).await {
                    eprintln!("error: {e}");
                }
                status_line(&engine, &capture).await;
                if args.exit_when_done && sources.is_empty() {
                    break;
                }
            }
        }
    }
    sources.abort_all();
    while sources.join_next().await.is_some() {}
    capture.shutdown().await; // commits everything queued
    if !signalled {
        // --exit-when-done: let the sync engine empty the outbox (or a signal end the wait).
        engine.sync().wake();
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                _ = tick.tick() => {
                    if status_line(&engine, &NoCapture).await == 0 {
                        break;
                    }
                }
            }
        }
    }
    sync_task.abort();
    status_line(&engine, &NoCapture).await;
    eprintln!("stopped cleanly");
    Ok(ExitCode::SUCCESS)
}

/// Keeps capture pointed at the session that records and, when RUFUS closed the session from
/// elsewhere, opens a new one and re-homes what was pending (again on every tick, so reads that
/// landed in the old session meanwhile follow).
async fn watch_sessions(engine: &Engine, capture: &Capture) -> Result<(), CoreError> {
    let stranded = engine.stranded_sessions().await?;
    if !stranded.is_empty() && engine.current_session().await?.is_none() {
        let old = engine.session(stranded.first().copied()).await?;
        let alias = old.alias.unwrap_or_else(|| format!("session {}", old.id));
        let new = engine.open_session(Some(&format!("{alias} (continued)"))).await?;
        eprintln!(
            "RUFUS closed session {} from elsewhere; opened session {} to continue",
            old.id, new.id
        );
    }
    capture.set_session(engine.capture_target().await?);
    for old in stranded {
        let moved = engine.rehome_pending(old).await?;
        eprintln!("moved {moved} pending passing(s) from session {old} into the open session");
    }
    Ok(())
}

/// Prints one status line; returns the pending count.
async fn status_line(engine: &Engine, capture: &impl CaptureStats) -> i64 {
    engine.sync().refresh_counts().await;
    let sync = engine.sync().status().borrow().clone();
    let session = engine.current_session().await.ok().flatten();
    let capture = capture.line();
    eprintln!(
        "{capture}sync: pending {} sent {} parked {} ({:.0}/s){}  |  {}",
        sync.pending,
        sync.sent,
        sync.parked,
        sync.rate,
        sync.last_error.map(|e| format!(" last error: {e}")).unwrap_or_default(),
        session.map_or("no session open".into(), |s| format!("session {} {}", s.id, s.state)),
    );
    sync.pending
}

trait CaptureStats {
    fn line(&self) -> String;
}

impl CaptureStats for Capture {
    fn line(&self) -> String {
        let s = self.stats().borrow().clone();
        format!(
            "capture: {} reads, {} passings, {} duplicates{}  |  ",
            s.raw_reads,
            s.passings,
            s.duplicates,
            s.last_error.map(|e| format!(", COMMIT FAILING: {e}")).unwrap_or_default()
        )
    }
}

struct NoCapture;

impl CaptureStats for NoCapture {
    fn line(&self) -> String {
        String::new()
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
