//! `timing-cli`: the headless timing console (capture and sync at a remote split) and the admin
//! CLI over the same engine the desktop app uses. Every command is a few lines over
//! `timing-core`; errors are one line on stderr and a non-zero exit code. The binary is a
//! one-line `main` over [`main`], so test crates can build the same CLI as their own binary.

mod decode;
mod output;
mod run;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::builder::PossibleValuesParser;
use clap::{Args, Parser, Subcommand, ValueEnum};
use timing_core::clock::{SystemClock, parse_utc};
use timing_core::corrections::Change;
use timing_core::domain::{DeviceId, SessionId};
use timing_core::lock::InstanceLock;
use timing_core::{BindRequest, CoreError, Engine, EngineConfig};
use timing_readers::Protocol;

use crate::output::Out;

/// Headless RUFUS timing console.
#[derive(Debug, Parser)]
#[command(name = "timing-cli", version, about, long_about = None)]
struct Cli {
    /// Data directory (default: the app's data directory on this OS).
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// RUFUS API base URL (default: the one used at the last bind, else production).
    #[arg(long, global = true, value_name = "URL")]
    api_url: Option<String>,
    /// Print data as JSON.
    #[arg(long, global = true)]
    json: bool,
    /// De-duplication window per chip, in seconds.
    #[arg(long, global = true, default_value_t = 5.0, value_name = "SECONDS")]
    dedup_window: f64,
    /// Who is at the keyboard (recorded with corrections).
    #[arg(long, global = true, default_value = "cli")]
    operator: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Bind, list, show and unbind devices.
    #[command(subcommand)]
    Device(DeviceCmd),
    /// Open, close, list and show sessions.
    #[command(subcommand)]
    Session(SessionCmd),
    /// Capture and sync until SIGINT/SIGTERM.
    Run(run::RunArgs),
    /// Record bibs crossing now (or at --at); several bibs separated by commas.
    Mark {
        /// Bib(s), e.g. `7` or `7,12,33`.
        bibs: String,
        /// When they crossed (UTC, RFC 3339), default now.
        #[arg(long, value_name = "TIMESTAMP")]
        at: Option<String>,
        /// Confirm an entry of more than 50 bibs.
        #[arg(long)]
        yes: bool,
    },
    /// Stamp a runner crossing now; the bib comes later with `assign`.
    Stamp,
    /// Give bib(s) to the oldest stamped times waiting for one.
    Assign {
        /// Bib(s).
        bibs: String,
        /// Confirm an entry of more than 50 bibs.
        #[arg(long)]
        yes: bool,
    },
    /// Type bibs ahead of runners; `stamp-next` records the first.
    Queue {
        /// Bib(s).
        bibs: String,
        /// Confirm an entry of more than 50 bibs.
        #[arg(long)]
        yes: bool,
    },
    /// Record the first typed-ahead bib crossing now.
    StampNext,
    /// Undo the last manual action.
    Undo,
    /// Correct passing NUM of the open session.
    Correct(CorrectArgs),
    /// Push what is pending to RUFUS.
    Sync {
        /// Push once and exit: 0 when nothing is left, non-zero with the reason otherwise.
        /// Refused while a console captures on this data directory (it syncs for you).
        #[arg(long)]
        once: bool,
        /// Put passings the cloud rejected back into the outbox (after fixing the cause).
        #[arg(long)]
        retry_parked: bool,
        /// End a backoff or a pause now (also of a console running on this data directory).
        #[arg(long)]
        retry_now: bool,
    },
    /// Pending, sent, parked, last error, session and device.
    Status,
    /// Write CSV with a header row (stdout without --out).
    Export {
        /// What to export.
        what: ExportKind,
        /// Output file.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Import data.
    #[command(subcommand)]
    Import(ImportCmd),
    /// List the serial ports of this computer, with their USB descriptions.
    Ports,
    /// Decode reader bytes from stdin: one JSON line per read and per rejected frame.
    Decode {
        /// The reader's protocol.
        #[arg(long, value_parser = PossibleValuesParser::new(Protocol::ALL.map(Protocol::name)))]
        protocol: String,
    },
    /// Start a wave now (the gun), or set, nudge or restart its start. Starts are kept here and
    /// exported, never sent: RUFUS has no endpoint for them.
    Start {
        /// The wave, as the participant list names it (default: the one start of a race
        /// without waves).
        #[arg(long, default_value = "")]
        wave: String,
        /// Set the start to this exact time (UTC, RFC 3339) instead of now.
        #[arg(long, value_name = "TIMESTAMP", conflicts_with = "nudge")]
        at: Option<String>,
        /// Start a started wave again (a false start); the old start stays in the log.
        #[arg(long, conflicts_with = "nudge")]
        restart: bool,
        /// Move the wave's start by this much, e.g. `+2.5s` or `-1s`.
        #[arg(long, value_name = "SECONDS", allow_hyphen_values = true)]
        nudge: Option<String>,
    },
    /// The open session's starts: each wave's start and race clock, then the whole log.
    Starts,
    /// Show the live feed of the open session (newest first).
    Feed {
        /// How many passings.
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
}

#[derive(Debug, Subcommand)]
enum DeviceCmd {
    /// Bind a device (reuses the account's device with the same serial number).
    Bind {
        #[arg(long)]
        serial: String,
        #[arg(long)]
        model: String,
        #[arg(long = "type", default_value = "custom")]
        device_type: String,
        #[arg(long)]
        alias: Option<String>,
        #[arg(long)]
        firmware: Option<String>,
        /// Continue the device's active session when another console has one open in RUFUS
        /// (a spare laptop taking over); without it, binding such a device refuses and says
        /// what that session is.
        #[arg(long)]
        take_over: bool,
    },
    /// Devices bound on this console.
    List,
    /// The current device, locally and in the cloud.
    Show {
        /// Device id (default: the current device).
        deviceid: Option<String>,
    },
    /// Choose the device this console records for.
    Use { deviceid: String },
    /// Unbind a device: RUFUS deletes its sessions and passings.
    Unbind {
        /// Device id (default: the current device).
        deviceid: Option<String>,
        /// Confirm that the cloud deletes the device's sessions and passings.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
enum SessionCmd {
    /// Open a session on the current device (works offline).
    Open {
        #[arg(long)]
        alias: Option<String>,
    },
    /// Close the open session: drain the outbox, then close it in RUFUS.
    Close,
    /// Sessions of the current device.
    List,
    /// A session (default: the open one).
    Show { id: Option<i64> },
    /// Move the pending passings of a session closed from elsewhere into the open session.
    Rehome { from: i64 },
}

#[derive(Debug, Subcommand)]
enum ImportCmd {
    /// A participants CSV (bib, chip, name…) into the chip map.
    Participants { file: PathBuf },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ExportKind {
    /// The effective passings.
    Passings,
    /// Every raw read.
    Raw,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("change").required(true).args(["bib", "time", "void", "restore"])))]
struct CorrectArgs {
    /// The passing's num_passing in the open session.
    num: i64,
    /// Set the bib.
    #[arg(long)]
    bib: Option<String>,
    /// Set the time (UTC, RFC 3339).
    #[arg(long)]
    time: Option<String>,
    /// Void the passing.
    #[arg(long)]
    void: bool,
    /// Undo a void.
    #[arg(long)]
    restore: bool,
    /// Why.
    #[arg(long)]
    reason: Option<String>,
}

/// Runs the CLI with the process's arguments and environment.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never into a log file.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TIMING_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn data_dir(cli: &Cli) -> Result<PathBuf, CoreError> {
    if let Some(dir) = &cli.data_dir {
        return Ok(dir.clone());
    }
    directories::ProjectDirs::from("com", "RUFUS", "Timing Console")
        .map(|d| d.data_dir().to_path_buf())
        .ok_or_else(|| {
            CoreError::Invalid("no data directory on this system: pass --data-dir".into())
        })
}

async fn open_engine(cli: &Cli) -> Result<Engine, CoreError> {
    let mut config = EngineConfig::new(data_dir(cli)?);
    config.api_url.clone_from(&cli.api_url);
    config.api_key = std::env::var("RUFUS_API_KEY")
        .ok()
        .filter(|k| !k.trim().is_empty())
        .map(|k| rufus_api::ApiKey::new(k.trim()));
    if !(cli.dedup_window.is_finite() && cli.dedup_window >= 0.0) {
        return Err(CoreError::Invalid("--dedup-window must be a number of seconds ≥ 0".into()));
    }
    config.dedup_window = std::time::Duration::from_secs_f64(cli.dedup_window);
    config.operator.clone_from(&cli.operator);
    Engine::open(config, SystemClock::shared()).await
}

fn parse_time(text: &str) -> Result<chrono::DateTime<chrono::Utc>, CoreError> {
    parse_utc(text).ok_or_else(|| {
        CoreError::Invalid(format!("`{text}` is not a time: use UTC like 2026-05-03T09:21:33.000Z"))
    })
}

async fn dispatch(cli: Cli) -> Result<ExitCode, CoreError> {
    // Commands that need no data directory.
    match &cli.command {
        Command::Ports => {
            Out { json: cli.json }.ports(&timing_readers::ports());
            return Ok(ExitCode::SUCCESS);
        }
        Command::Decode { protocol } => return decode::run(protocol).await,
        _ => {}
    }
    let engine = open_engine(&cli).await?;
    let out = Out { json: cli.json };
    let now = engine.clock().now();
    match cli.command {
        Command::Device(cmd) => device(&engine, &out, cmd).await?,
        Command::Session(cmd) => session(&engine, &out, cmd).await?,
        Command::Run(args) => return run::run(engine, args).await,
        Command::Mark { bibs, at, yes } => {
            let at = at.as_deref().map(parse_time).transpose()?.unwrap_or(now);
            out.entry(&engine.manual().await?.confirm_many(yes).mark(&bibs, at, now).await?);
        }
        Command::Stamp => out.entry(&engine.manual().await?.stamp(now, now).await?),
        Command::Assign { bibs, yes } => {
            out.entry(&engine.manual().await?.confirm_many(yes).assign(&bibs, now).await?);
        }
        Command::Queue { bibs, yes } => {
            out.entry(&engine.manual().await?.confirm_many(yes).queue(&bibs, now).await?);
        }
        Command::StampNext => out.entry(&engine.manual().await?.stamp_queued(now, now).await?),
        Command::Undo => out.entry(&engine.manual().await?.undo(now).await?),
        Command::Correct(args) => {
            let change = match (args.bib, args.time, args.void, args.restore) {
                (Some(bib), _, _, _) => Change::SetBib(Some(bib)),
                (_, Some(time), _, _) => Change::SetTime(parse_time(&time)?),
                (_, _, true, _) => Change::Void,
                _ => Change::Restore,
            };
            out.corrected(&engine.correct(None, args.num, change, args.reason).await?);
        }
        Command::Sync { once, retry_parked, retry_now } => {
            if !(once || retry_parked || retry_now) {
                return Err(CoreError::Invalid(
                    "use `sync --once`, `--retry-parked` or `--retry-now` \
                     (continuous sync runs inside `run`)"
                        .into(),
                ));
            }
            if retry_parked {
                let n = engine.retry_parked(None).await?;
                eprintln!("{n} parked passing(s) back in the outbox");
            }
            if retry_now || retry_parked {
                engine.request_retry().await?;
            }
            if once {
                let _lock = sync_lock(&engine)?;
                let round = engine.sync().sync_once().await?;
                out.status(&engine, Some(round.confirmed)).await?;
            }
        }
        Command::Status => out.status(&engine, None).await?,
        Command::Export { what, out: file } => {
            let rows = match &file {
                Some(path) => {
                    let f = std::fs::File::create(path).map_err(|e| {
                        CoreError::Invalid(format!("cannot write {}: {e}", path.display()))
                    })?;
                    export(&engine, what, std::io::BufWriter::new(f)).await?
                }
                None => export(&engine, what, std::io::stdout().lock()).await?,
            };
            if let Some(path) = file {
                eprintln!("{rows} row(s) written to {}", path.display());
            }
        }
        Command::Import(ImportCmd::Participants { file }) => {
            out.import(&engine.import_participants(&file).await?);
        }
        Command::Start { wave, at, restart, nudge } => {
            use timing_core::starts::{StartRequest, parse_nudge};
            let request = match (at, restart, nudge) {
                (_, _, Some(by)) => StartRequest::Nudge(parse_nudge(&by)?),
                (Some(at), true, None) => StartRequest::Restart(parse_time(&at)?),
                (None, true, None) => StartRequest::Restart(now),
                (Some(at), false, None) => StartRequest::Exact(parse_time(&at)?),
                (None, false, None) => StartRequest::Now(now),
            };
            out.start(&engine.start_wave(&wave, request).await?, now);
        }
        Command::Starts => out.starts(&engine.starts(None).await?, now),
        Command::Feed { limit } => out.feed(&engine.feed(None, None, limit).await?),
        Command::Ports | Command::Decode { .. } => {}
    }
    Ok(ExitCode::SUCCESS)
}

async fn export(
    engine: &Engine,
    what: ExportKind,
    w: impl std::io::Write,
) -> Result<usize, CoreError> {
    match what {
        ExportKind::Passings => engine.export_passings(None, w).await,
        ExportKind::Raw => engine.export_raw(None, w).await,
    }
}

async fn device(engine: &Engine, out: &Out, cmd: DeviceCmd) -> Result<(), CoreError> {
    match cmd {
        DeviceCmd::Bind { serial, model, device_type, alias, firmware, take_over } => {
            let request = BindRequest {
                serial_number: serial,
                model,
                device_type,
                alias,
                firmware,
                take_over,
            };
            out.device(&engine.bind_device(request).await?);
        }
        DeviceCmd::List => out.devices(&engine.devices().await?),
        DeviceCmd::Show { deviceid } => {
            let id = match deviceid {
                Some(id) => DeviceId(id),
                None => engine.current_device().await?.deviceid,
            };
            let (local, cloud) = engine.device_details(&id).await?;
            out.device_details(&local, cloud.as_ref());
        }
        DeviceCmd::Use { deviceid } => {
            out.device(&engine.select_device(&DeviceId(deviceid)).await?)
        }
        DeviceCmd::Unbind { deviceid, yes } => {
            let id = match deviceid {
                Some(id) => DeviceId(id),
                None => engine.current_device().await?.deviceid,
            };
            engine.unbind_device(&id, yes).await?;
            out.line(&format!("device {id} unbound; RUFUS deleted its sessions and passings"));
        }
    }
    Ok(())
}

/// What a command says when another process captures on this data directory.
const CAPTURING: &str = "a console is capturing on this data directory; it syncs for you";

/// The instance lock for a command that would sync: only one process sends from a data
/// directory, or the same passings could travel twice.
fn sync_lock(engine: &Engine) -> Result<InstanceLock, CoreError> {
    InstanceLock::acquire(&engine.config().data_dir, "timing-cli")
        .map_err(|_| CoreError::Conflict(CAPTURING.into()))
}

async fn session(engine: &Engine, out: &Out, cmd: SessionCmd) -> Result<(), CoreError> {
    match cmd {
        SessionCmd::Open { alias } => {
            let session = engine.open_session(alias.as_deref()).await?;
            // Create it in the cloud now if the network allows; capture works either way. A
            // console capturing here sees the new session at once and creates it itself.
            match sync_lock(engine) {
                Ok(_lock) => {
                    if engine.sync().client().is_some()
                        && let Err(e) = engine.sync().sync_once().await
                    {
                        eprintln!(
                            "note: the session is open locally; RUFUS will get it later ({e})"
                        );
                    }
                }
                Err(e) => eprintln!("note: {e}"),
            }
            out.session(&engine.session(Some(session.id)).await?);
        }
        SessionCmd::Close => {
            let session = engine.close_session().await?;
            let result = match sync_lock(engine) {
                Ok(_lock) => engine.sync().sync_once().await.map(|_| ()),
                Err(e) => {
                    eprintln!("note: {e}");
                    Ok(())
                }
            };
            let session = engine.session(Some(session.id)).await?;
            out.session(&session);
            if let Err(e) = result {
                return Err(CoreError::Conflict(format!(
                    "session {} is closing locally; RUFUS could not be told yet: {e}",
                    session.id
                )));
            }
        }
        SessionCmd::List => out.sessions(&engine.sessions().await?),
        SessionCmd::Show { id } => {
            let session = engine.session(id.map(SessionId)).await?;
            let counts = engine.store().outbox_counts(Some(session.id)).await?;
            out.session_details(&session, &counts);
        }
        SessionCmd::Rehome { from } => {
            let _lock = sync_lock(engine)?;
            let moved = engine.rehome_pending(SessionId(from)).await?;
            out.line(&format!("{moved} pending passing(s) moved into the open session"));
        }
    }
    Ok(())
}
