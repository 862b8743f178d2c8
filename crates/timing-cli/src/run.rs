//! `timing-cli run`: the headless console. Captures from every `--source` at once, syncs
//! continuously, prints a status line every few seconds on stderr, re-homes pending passings
//! on its own when RUFUS closes the session from elsewhere (nobody may be at a remote split to
//! click), and on SIGINT/SIGTERM commits what is queued and exits 0.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use timing_core::clock::ClockJumpDetector;
use timing_core::lock::InstanceLock;
use timing_core::station::Station;
use timing_core::station::parse_spec;
use timing_core::{CoreError, Engine};

/// Arguments of `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// A source: a reader, `sim:runners=500,rate=20` or `lines:-` (stdin). Repeat for several.
    #[arg(long = "source", required = true, value_name = "SPEC", long_help = source_help())]
    sources: Vec<String>,
    /// Seconds between status lines on stderr.
    #[arg(long, default_value_t = 2.0, value_name = "SECONDS")]
    status_every: f64,
    /// Exit once every source has ended and the outbox is empty (for scripts and files).
    #[arg(long)]
    exit_when_done: bool,
}

/// `--source`'s long help, with every protocol and its defaults from the registry.
fn source_help() -> String {
    let protocols: Vec<String> = timing_readers::Protocol::ALL
        .into_iter()
        .map(|p| {
            let mut ways = Vec::new();
            for t in p.transports() {
                match t {
                    timing_readers::Transport::Serial => {
                        ways.push(format!("serial {} baud", p.serial_settings().baud));
                    }
                    timing_readers::Transport::Tcp => ways.push(match p.default_tcp_port() {
                        Some(port) => format!("tcp port {port}"),
                        None => "tcp".to_owned(),
                    }),
                }
            }
            format!("  {:<11} {} ({})", p.name(), p.label(), ways.join(", "))
        })
        .collect();
    format!(
        "A source. Readers: `serial:PORT?protocol=P[&baud=N]` or `tcp:HOST[:PORT]?protocol=P`, \
         e.g. `serial:/dev/ttyUSB0?protocol=ipico`, `tcp:192.168.1.20?protocol=ultra`. Also \
         `sim:runners=500,rate=20` (a simulated finish), `lines:-` or `lines:PATH` (chips or bibs \
         on stdin or in a file) and `file:PATH?protocol=P` (a reader's capture replayed); these \
         end when their input does, every source runs under the same supervisor. \
         Repeat for several sources at once. Reader time: `&zone=Europe/Madrid` (or `+02:00`) is \
         the zone a reader's clock shows (default: this computer's); `&adjust_ms=-1500` adds \
         -1.5 s to every read's time (a photocell 1.5 s late). The status line shows the zone and \
         says when a reader's clock disagrees with this computer's, with the zone that fixes it.\n\nProtocols (default settings):\n{}",
        protocols.join("\n")
    )
}

/// A wall-clock move this much beyond the monotonic clock is a jump.
const CLOCK_JUMP: Duration = Duration::from_secs(2);

pub async fn run(engine: Engine, args: RunArgs) -> Result<ExitCode, CoreError> {
    for spec in &args.sources {
        parse_spec(spec)?; // every spec checked before anything starts
    }
    if !(args.status_every.is_finite() && args.status_every > 0.0) {
        return Err(CoreError::Invalid(
            "--status-every must be a positive number of seconds".into(),
        ));
    }
    let _lock = InstanceLock::acquire(&engine.config().data_dir, "timing-cli run")?;
    if engine.sync().client().is_none() {
        eprintln!("note: no RUFUS_API_KEY set: capturing locally, nothing is syncing");
    } else if let Err(e) = engine.check_sessions().await {
        eprintln!("note: could not check the session with RUFUS yet ({e}); will keep trying");
    }
    let station = Station::start(engine.clone()).await?;
    if station.capture().session().is_none() {
        eprintln!(
            "warning: no session is open: reads are stored but make no passings \
             (open one with `timing-cli session open`)"
        );
    }
    for spec in &args.sources {
        station.add_source(spec, spec).await?;
    }

    let mut tick = tokio::time::interval(Duration::from_secs_f64(args.status_every));
    // The same warning as the app's: a jump of the OS clock makes host-stamped times suspect.
    let mut jumps = ClockJumpDetector::new(engine.clock().as_ref(), CLOCK_JUMP);
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    let mut signalled = false;
    let mut settled = 0;
    loop {
        tokio::select! {
            () = &mut shutdown => {
                signalled = true;
                break;
            }
            _ = tick.tick() => {
                // Nobody may be at a remote split to click: re-home on our own.
                match station.maintain(true).await {
                    Ok(said) => said.iter().for_each(|line| eprintln!("{line}")),
                    Err(e) => eprintln!("error: {e}"),
                }
                for (name, outcome) in station.take_endings() {
                    match outcome {
                        Ok(()) => eprintln!("source {name} ended"),
                        Err(e) => eprintln!("error: source {name} stopped: {e}"),
                    }
                }
                if let Some(jump_ms) = jumps.check(engine.clock().as_ref()) {
                    eprintln!(
                        "warning: this computer's clock jumped by {:+.1} s; times stamped by the \
                         host around now may be off",
                        jump_ms as f64 / 1000.0
                    );
                }
                let pending = status_line(&engine, Some(&station)).await;
                // --exit-when-done: once every source ended, everything it delivered is
                // committed, and the outbox is empty — re-homing included, so the upkeep above
                // keeps running until then.
                let done = args.exit_when_done
                    && station.all_sources_ended()
                    && station.capture().queued() == 0
                    && pending == 0
                    && engine.stranded_sessions().await.is_ok_and(|s| s.is_empty());
                // Twice in a row: a batch the committer had already taken shows up by then.
                settled = if done { settled + 1 } else { 0 };
                if settled >= 2 {
                    break;
                }
            }
        }
    }
    station.shutdown().await; // stops sources, commits everything queued
    if signalled {
        eprintln!("signal received");
    }
    status_line(&engine, None).await;
    eprintln!("stopped cleanly");
    Ok(ExitCode::SUCCESS)
}

/// Prints one status line on stderr; returns the pending count.
async fn status_line(engine: &Engine, station: Option<&Station>) -> i64 {
    engine.sync().refresh_counts().await;
    let sync = engine.sync().status().borrow().clone();
    let session = engine.current_session().await.ok().flatten();
    let capture = station.map(|st| {
        let s = st.capture().stats().borrow().clone();
        let rates: Vec<String> = st
            .sources()
            .iter()
            .map(|v| {
                let warning = v.warning.as_ref().map(|w| format!(" WARNING: {w}"));
                // Short: the zone a local-time reader is read in, an adjustment, a clock hint.
                let zone = if v.zone_settable { v.clock_zone.as_ref() } else { None };
                let zone = zone.map(|z| format!(" {z}")).unwrap_or_default();
                let adjust = match v.adjust_ms {
                    0 => String::new(),
                    ms => format!(" adj {:+.3}s", ms as f64 / 1000.0),
                };
                let hint = v.clock_hint.as_ref().map(|h| {
                    let fix = v.proposed_zone.as_ref().map(|z| format!(" (zone={z} fixes it)"));
                    format!(" CLOCK: {h}{}", fix.unwrap_or_default())
                });
                format!(
                    "{} {} {:.0}/s{zone}{adjust}{}{}",
                    v.name,
                    v.state,
                    v.reads_per_sec,
                    hint.unwrap_or_default(),
                    warning.unwrap_or_default()
                )
            })
            .collect();
        format!(
            "capture: {} reads, {} passings, {} duplicates{} [{}]  |  ",
            s.raw_reads,
            s.passings,
            s.duplicates,
            s.last_error.map(|e| format!(", COMMIT FAILING: {e}")).unwrap_or_default(),
            rates.join("; ")
        )
    });
    eprintln!(
        "{}sync: pending {} sent {} parked {} ({:.0}/s){}  |  {}",
        capture.unwrap_or_default(),
        sync.pending,
        sync.sent,
        sync.parked,
        sync.rate,
        sync.last_error.map(|e| format!(" last error: {e}")).unwrap_or_default(),
        session.map_or("no session open".into(), |s| format!("session {} {}", s.id, s.state)),
    );
    sync.pending
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
