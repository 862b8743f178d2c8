//! `rufus-cloud-sim`: runs the RUFUS-compatible simulator from the command line, for demos,
//! manual tests and benchmarks. Prints one `READY <base-url> KEY=<key>` line on stdout once
//! listening; logs go to stderr.

use std::io::{IsTerminal, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use rufus_cloud_sim::{Envelope, FaultRule, Sim, SimConfig};
use tracing_subscriber::EnvFilter;

const FAULT_HELP: &str = "\
FAULT SPECS (--fault, repeatable):
  SPEC   = KIND[:VALUE][,OPTION...][@ROUTE]
  KIND   = 5xx             answer 500
         | 400..599        answer that status (401, 403, 408, 425, 502, 503, 504, ...)
         | 429             answer 429 with Retry-After
         | reset-before    drop the connection (TCP RST, no answer), state untouched
         | reset-after     apply the request, then drop the connection (TCP RST, no answer)
         | hang-before     hold the request, state untouched, then drop it (no answer)
         | hang-after      apply the request, then hold the answer (the client times out)
         | close-session   close the request's session \"from elsewhere\" first
  VALUE  = probability 0..1 (default 1); for 429 it is Retry-After seconds (default 1);
           for hang-before/hang-after the hold, a DURATION (default 30s)
  OPTION = p=PROBABILITY | n=TIMES (then the rule disappears)
         | for=DURATION (fires until that long after it was armed, then disappears)
         | retry=SECONDS (429) | hold=DURATION (hang-before, hang-after)
  DURATION = N followed by ms, s or m (500ms, 5s, 2m); a bare N is seconds
  ROUTE  = [METHOD ]/PATH  method and path prefix after /v0; no method = any method

  Examples:
    --fault 5xx:0.1                      10% of API requests answer 500
    --fault 503                          every API request answers 503
    --fault '429:2@POST /passings'       passings inserts get 429, Retry-After: 2
    --fault reset-before:0.05            5% of requests are reset before anything happens
    --fault 'reset-after,n=1@POST /passings'
                                         the next insert is stored, then reset (ambiguous)
    --fault 'close-session,n=1@POST /passings'
    --fault '503,for=5s'                 every API request answers 503 for 5 seconds
    --fault '408,n=1@POST /passings'     the next insert answers 408 Request Timeout
    --fault 'hang-after:30s,n=1@POST /passings'
                                         the next insert is stored, its answer held 30 s

ADMIN ENDPOINTS (admin key in api_key or x-api-key):
  GET /_sim/state, GET /_sim/passings, GET|POST /_sim/config,
  GET|POST|DELETE /_sim/faults, POST /_sim/sessions/{token}/close";

/// A RUFUS Cloud API v0 simulator (http://HOST:PORT/v0) with fault injection.
#[derive(Debug, Parser)]
#[command(name = "rufus-cloud-sim", version, after_help = FAULT_HELP)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1", value_parser = parse_host)]
    host: IpAddr,
    /// Port to listen on; 0 = any free port (read it from the READY line).
    #[arg(long, default_value_t = 8787)]
    port: u16,
    /// Response shape: the object itself, or {"body": object}.
    #[arg(long, value_enum, default_value_t = EnvelopeArg::Plain)]
    envelope: EnvelopeArg,
    /// Store duplicate (token_session, num_passing) passings instead of dropping them.
    #[arg(long)]
    no_dedup: bool,
    /// Milliseconds waited before every API request is handled.
    #[arg(long, default_value_t = 0, value_name = "N")]
    latency_ms: u64,
    /// Refuse passings batches larger than N with 413.
    #[arg(long, value_name = "N")]
    max_batch: Option<usize>,
    /// Arm a fault (see FAULT SPECS below). Repeatable.
    #[arg(long = "fault", value_name = "SPEC")]
    faults: Vec<FaultRule>,
    /// Load state from this file at start if it exists; save it after every change.
    #[arg(long, value_name = "PATH")]
    state_file: Option<PathBuf>,
    /// Use this admin key (READ_WRITE + unbind) instead of a generated one.
    #[arg(long, value_name = "KEY")]
    key: Option<String>,
    /// Rows per page of the passing reads (P2, P3, P4).
    #[arg(long, default_value_t = rufus_cloud_sim::DEFAULT_PAGE_SIZE, value_name = "N",
          value_parser = parse_page_size)]
    page_size: usize,
    /// Write every number in API answers as a JSON string ("num_passing": "12"), as some real
    /// servers do.
    #[arg(long)]
    string_numbers: bool,
    /// Serve page 1 of passing reads whatever `page` asks for (a server that ignores paging).
    #[arg(long)]
    ignore_page: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum EnvelopeArg {
    Plain,
    Wrapped,
}

fn parse_host(text: &str) -> Result<IpAddr, String> {
    if text.eq_ignore_ascii_case("localhost") {
        return Ok(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    text.parse().map_err(|_| format!("{text:?} is not an IP address (or localhost)"))
}

fn parse_page_size(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("{text:?} is not a whole number of 1 or more")),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let config = SimConfig {
        envelope: match args.envelope {
            EnvelopeArg::Plain => Envelope::Plain,
            EnvelopeArg::Wrapped => Envelope::Wrapped,
        },
        dedup: !args.no_dedup,
        latency: Duration::from_millis(args.latency_ms),
        max_batch: args.max_batch,
        faults: args.faults,
        state_file: args.state_file,
        admin_key: args.key,
        page_size: args.page_size,
        string_numbers: args.string_numbers,
        ignore_page: args.ignore_page,
    };
    let sim = match Sim::start_on(SocketAddr::new(args.host, args.port), config).await {
        Ok(sim) => sim,
        Err(e) => {
            tracing::error!("could not start: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = announce(&sim) {
        tracing::error!("could not write the READY line: {e}");
        sim.shutdown().await;
        return ExitCode::FAILURE;
    }
    stop_signal().await;
    tracing::info!("stopping");
    sim.shutdown().await;
    ExitCode::SUCCESS
}

/// The one stdout line scripts and tests wait for.
fn announce(sim: &Sim) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "READY {} KEY={}", sim.base_url(), sim.admin_key())?;
    out.flush()
}

/// Ctrl-C, or SIGTERM on Unix.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
                return;
            }
            Err(e) => tracing::warn!("cannot watch SIGTERM: {e}"),
        }
    }
    if let Err(e) = tokio::signal::ctrl_c().await {
        tracing::warn!("cannot watch Ctrl-C: {e}; running until killed");
        std::future::pending::<()>().await;
    }
}
