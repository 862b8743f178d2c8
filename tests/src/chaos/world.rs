//! The world one seed runs in: the simulator in process, emulated readers on loopback TCP, and
//! consoles — data directories driven through the real `timing-cli` binary as processes
//! (`run` killed with SIGKILL and restarted, manual entries as their own processes).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::str::FromStr as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::TimeDelta;
use rufus_cloud_sim::{FaultRule, Sim, SimConfig};
use timing_core::corrections;
use timing_core::participants::ChipMap;
use timing_core::store::Store;
use timing_readers::Protocol;
use timing_readers::clock::{SharedClock, SystemClock};
use timing_readers::emulator::{EmittedRead, Emulator, EmulatorOptions, Faults};
use tokio::process::{Child, Command};

use super::invariants::{ConsoleState, Observed, RawRow, ReaderReads, from_reader};
use super::schedule::{Action, ReaderPlan, Schedule};
use super::{ChaosError, Options};

/// Longest any one `timing-cli` command may take.
const COMMAND_LIMIT: Duration = Duration::from_secs(20);
/// Longest the final `run --exit-when-done` of one console may take.
const DRAIN_LIMIT: Duration = Duration::from_secs(25);
/// A read without a replay key emitted this close before a crash or a cut link may be lost
/// for good (it was on the wire): it is not required to arrive.
const AT_RISK_BEFORE_MS: u64 = 1000;
/// … nor one emitted this soon after (the reader may not have noticed the link was gone).
const AT_RISK_AFTER_MS: u64 = 500;

fn harness(what: impl std::fmt::Display) -> ChaosError {
    ChaosError::Harness(what.to_string())
}

/// One console installation: a data directory driven through the CLI.
#[derive(Debug)]
pub struct Console {
    /// "main" or "spare".
    pub name: String,
    dir: tempfile::TempDir,
    cli: PathBuf,
    url: String,
    key: String,
    run: Option<Child>,
}

/// What a finished CLI command said.
#[derive(Debug)]
pub struct Said {
    /// Exit status was 0.
    pub ok: bool,
    /// Its stdout.
    pub stdout: String,
    /// Its stderr.
    pub stderr: String,
}

impl Said {
    /// One line for the step log.
    pub fn summary(&self) -> String {
        let text = if self.ok { &self.stdout } else { &self.stderr };
        let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
        let first: String = first.chars().take(140).collect();
        format!("{} {first}", if self.ok { "ok" } else { "FAILED" })
    }
}

impl Console {
    fn new(name: &str, cli: &Path, sim: &Sim) -> Result<Console, ChaosError> {
        let dir = tempfile::Builder::new()
            .prefix(&format!("chaos-{name}-"))
            .tempdir()
            .map_err(|e| harness(format!("temp dir: {e}")))?;
        Ok(Console {
            name: name.to_owned(),
            dir,
            cli: cli.to_path_buf(),
            url: sim.base_url(),
            key: sim.admin_key(),
            run: None,
        })
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn command(&self, args: &[String]) -> Command {
        let mut cmd = Command::new(&self.cli);
        cmd.arg("--data-dir")
            .arg(self.dir.path())
            .arg("--api-url")
            .arg(&self.url)
            .args(args)
            .env("RUFUS_API_KEY", &self.key)
            .env("TIMING_LOG", "warn")
            .stdin(Stdio::null())
            .kill_on_drop(true);
        cmd
    }

    /// Runs a command to its end (bounded).
    pub async fn exec(&self, args: &[String]) -> Result<Said, ChaosError> {
        let out = self.command(args).output();
        match tokio::time::timeout(COMMAND_LIMIT, out).await {
            Ok(Ok(out)) => Ok(Said {
                ok: out.status.success(),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            }),
            Ok(Err(e)) => Err(harness(format!("cannot start {}: {e}", self.cli.display()))),
            Err(_) => Ok(Said {
                ok: false,
                stdout: String::new(),
                stderr: format!("timed out after {COMMAND_LIMIT:?}"),
            }),
        }
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("run.log")
    }

    /// Starts `run` with these sources (stderr to `run.log`).
    fn spawn_run(&mut self, sources: &[String], exit_when_done: bool) -> Result<(), ChaosError> {
        let mut args = vec!["run".to_owned(), "--status-every".to_owned(), "0.2".to_owned()];
        for s in sources {
            args.push("--source".into());
            args.push(s.clone());
        }
        if exit_when_done {
            args.push("--exit-when-done".into());
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .map_err(|e| harness(format!("run.log: {e}")))?;
        let mut cmd = self.command(&args);
        cmd.stdout(Stdio::null()).stderr(log);
        self.run = Some(cmd.spawn().map_err(|e| harness(format!("spawn run: {e}")))?);
        Ok(())
    }

    fn running(&self) -> bool {
        self.run.is_some()
    }

    /// `kill -9` of `run`.
    async fn kill9(&mut self) {
        if let Some(mut child) = self.run.take() {
            let _ = child.start_kill();
            let _ = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
        }
    }

    /// SIGTERM, then waits (bounded); SIGKILL if it does not stop. Ok(false) = had to kill.
    async fn terminate(&mut self) -> Result<bool, ChaosError> {
        let Some(mut child) = self.run.take() else { return Ok(true) };
        if let Some(pid) = child.id() {
            let _ = Command::new("kill").arg("-TERM").arg(pid.to_string()).status().await;
        }
        match tokio::time::timeout(Duration::from_secs(15), child.wait()).await {
            Ok(Ok(status)) => Ok(status.success()),
            Ok(Err(e)) => Err(harness(format!("wait for run: {e}"))),
            Err(_) => {
                let _ = child.start_kill();
                let _ = child.wait().await;
                Ok(false)
            }
        }
    }

    /// Waits for an `--exit-when-done` run to end (bounded): Ok(true) = exited 0 in time.
    async fn wait_run(&mut self, limit: Duration) -> bool {
        let Some(mut child) = self.run.take() else { return true };
        match tokio::time::timeout(limit, child.wait()).await {
            Ok(Ok(status)) => status.success(),
            _ => {
                let _ = child.start_kill();
                let _ = child.wait().await;
                false
            }
        }
    }

    /// The event lines of `run.log` (not the status lines), then the last status lines.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        let events: Vec<&str> = lines
            .iter()
            .copied()
            .filter(|l| !l.starts_with("sync:") && !l.starts_with("capture:"))
            .collect();
        let tail = lines.get(lines.len().saturating_sub(3)..).unwrap_or_default();
        let events = events.get(events.len().saturating_sub(40)..).unwrap_or_default();
        format!("{}\n  …\n{}", events.join("\n"), tail.join("\n"))
    }

    /// Reads everything the invariants need from the data directory.
    async fn state(&self) -> Result<ConsoleState, ChaosError> {
        let err =
            |what: &str, e: timing_core::CoreError| harness(format!("{}: {what}: {e}", self.name));
        let store = Store::open_in(self.dir.path()).await.map_err(|e| err("open store", e))?;
        let devices = store.devices().await.map_err(|e| err("devices", e))?;
        let sessions = store.sessions(None).await.map_err(|e| err("sessions", e))?;
        let mut passings = Vec::new();
        let mut feed = Vec::new();
        for s in &sessions {
            passings
                .extend(store.passings(s.id, 1, i64::MAX).await.map_err(|e| err("passings", e))?);
            feed.extend(
                corrections::feed(&store, s.id, None, i64::MAX, &ChipMap::default())
                    .await
                    .map_err(|e| err("feed", e))?,
            );
        }
        let counts = store.outbox_counts(None).await.map_err(|e| err("outbox", e))?;
        store.close().await;
        let raw = raw_reads(self.dir.path()).await?;
        let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        Ok(ConsoleState {
            name: self.name.clone(),
            devices: devices.into_iter().map(|d| d.deviceid.to_string()).collect(),
            sessions,
            passings,
            feed,
            counts,
            raw,
            log,
        })
    }
}

/// Every row of `raw_reads` (read-only).
async fn raw_reads(dir: &Path) -> Result<Vec<RawRow>, ChaosError> {
    use sqlx::Row as _;
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(dir.join("timing.db"))
        .read_only(true)
        .busy_timeout(Duration::from_secs(10));
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .map_err(|e| harness(format!("open timing.db: {e}")))?;
    let rows = sqlx::query("SELECT source, chip, replay_key, duplicate FROM raw_reads")
        .fetch_all(&pool)
        .await
        .map_err(|e| harness(format!("raw_reads: {e}")))?;
    pool.close().await;
    rows.iter()
        .map(|r| {
            Ok(RawRow {
                source: r.try_get("source")?,
                chip: r.try_get("chip")?,
                replay_key: r.try_get("replay_key")?,
                duplicate: r.try_get::<i64, _>("duplicate")? != 0,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(|e| harness(format!("raw_reads row: {e}")))
}

/// A read an emulator made, and when.
#[derive(Debug, Clone)]
pub struct Emission {
    /// What the emulator reported.
    pub read: EmittedRead,
    /// Milliseconds into the race.
    pub at_ms: u64,
}

#[derive(Debug)]
struct Reader {
    plan: ReaderPlan,
    emulator: Arc<Emulator>,
    spec: String,
    port: u16,
    emitted: Arc<Mutex<Vec<Emission>>>,
    /// At each numbering restart, in order: the connections the emulator had accepted.
    restarts: Vec<u64>,
}

impl Reader {
    /// RACE RESULT: the passing file of a read that no connection could fetch — made while no
    /// console was linked, in a file the decoder closed (a numbering restart) before the next
    /// connection. A decoder sends only its current file over the link, so only a person with
    /// the decoder's copy of the file gets it; the console must say so.
    fn left_behind(&self, read: &EmittedRead) -> Option<u32> {
        if self.plan.protocol != "raceresult" || read.live {
            return None;
        }
        // `raceresult:<box>:<file>:<passing>`; file n is closed by the n-th restart.
        let key = read.replay_key.as_deref()?;
        let file: u32 = key.rsplit(':').nth(1)?.parse().ok()?;
        let closed_at = self.restarts.get(usize::try_from(file).ok()?.checked_sub(1)?)?;
        (*closed_at == read.connections).then_some(file)
    }
}

/// A chip valid for the protocol, unique per reader and read.
fn chip(protocol: &str, reader: usize, n: u64) -> String {
    match protocol {
        "ipico" => format!("{:04x}{:08x}", 0x0580 + reader, n),
        "ultra" => (4_000_000 + reader as u64 * 100_000 + n).to_string(),
        "raceresult" => format!("RR{reader}{n:04}"),
        _ => format!("E28011{reader:02X}{n:016X}"),
    }
}

/// Something that may lose reads on the wire.
#[derive(Debug, Clone, Copy)]
struct Disruption {
    at_ms: u64,
    /// `None`: every reader (the console died).
    reader: Option<usize>,
}

#[derive(Debug)]
enum Event {
    Step(Action),
    StartRun(usize),
}

/// The running world of one seed.
#[derive(Debug)]
pub struct World {
    sim: Sim,
    clock: SharedClock,
    t0: Duration,
    cli: PathBuf,
    serial: String,
    consoles: Vec<Console>,
    readers: Vec<Reader>,
    disruptions: Vec<Disruption>,
    /// The step log: what was done when, and what the CLI said.
    pub log: Vec<String>,
    /// Things the consoles did that they must not (bind without take-over…), found on the way.
    pub misbehaviour: Vec<String>,
    /// Things the harness could not do with this build (skipped hooks).
    pub skipped: Vec<String>,
}

impl World {
    /// Starts the simulator, the readers and the main console (bound, session open, `run`).
    pub async fn start(schedule: &Schedule, options: &Options) -> Result<World, ChaosError> {
        let sim = Sim::start(SimConfig { dedup: false, ..SimConfig::default() })
            .await
            .map_err(|e| harness(format!("simulator: {e}")))?;
        let clock = SystemClock::shared();
        let mut readers = Vec::new();
        for (i, plan) in schedule.readers.iter().enumerate() {
            let protocol = Protocol::from_str(plan.protocol).map_err(harness)?;
            let mut opts = EmulatorOptions::new(clock.clone());
            opts.skew = TimeDelta::seconds(plan.skew_s);
            opts.seed = schedule.seed.wrapping_mul(31).wrapping_add(i as u64);
            opts.ipico_elite = true;
            opts.link_delay = plan.link_delay_ms.map(Duration::from_millis);
            let emulator = Emulator::tcp(protocol, opts)
                .await
                .map_err(|e| harness(format!("emulator {}: {e}", plan.protocol)))?;
            emulator
                .set_faults(Faults {
                    split: plan.split,
                    double_every: plan.double_every,
                    drop_after: plan.drop_after,
                    ..Faults::default()
                })
                .await;
            let port = emulator.port().ok_or_else(|| harness("tcp emulator without a port"))?;
            let spec = emulator.config().to_string();
            readers.push(Reader {
                plan: plan.clone(),
                emulator: Arc::new(emulator),
                spec,
                port,
                emitted: Arc::default(),
                restarts: Vec::new(),
            });
        }
        let main = Console::new("main", &options.cli, &sim)?;
        let mut world = World {
            sim,
            t0: clock.monotonic(),
            clock,
            cli: options.cli.clone(),
            serial: format!("CHAOS-{}", schedule.seed),
            consoles: vec![main],
            readers,
            disruptions: Vec::new(),
            log: Vec::new(),
            misbehaviour: Vec::new(),
            skipped: Vec::new(),
        };
        let bind = world.bind_args(false);
        world.cli_step(0, &bind, true).await?;
        world.cli_step(0, &strings(&["session", "open", "--alias", "chaos"]), true).await?;
        world.start_run(0)?;
        world.wait_readers_connected().await;
        world.t0 = world.clock.monotonic();
        world.say("race starts".into());
        Ok(world)
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.clock.monotonic().saturating_sub(self.t0).as_millis()).unwrap_or(0)
    }

    fn say(&mut self, line: String) {
        let at = self.elapsed_ms();
        self.log.push(format!("  [{at:>6} ms] {line}"));
    }

    fn bind_args(&self, take_over: bool) -> Vec<String> {
        let mut args = strings(&["device", "bind", "--serial", &self.serial, "--model", "chaos"]);
        if take_over {
            args.push("--take-over".into());
        }
        args
    }

    fn sources(&self) -> Vec<String> {
        self.readers.iter().map(|r| r.spec.clone()).collect()
    }

    /// Runs a CLI command on a console and logs it; `must` = a failure stops the seed.
    async fn cli_step(
        &mut self,
        console: usize,
        args: &[String],
        must: bool,
    ) -> Result<Said, ChaosError> {
        let c = self.consoles.get(console).ok_or_else(|| harness("no such console"))?;
        let name = c.name.clone();
        let said = c.exec(args).await?;
        self.say(format!("{name}: timing-cli {} → {}", args.join(" "), said.summary()));
        if must && !said.ok {
            return Err(harness(format!(
                "{name}: `timing-cli {}` failed: {}",
                args.join(" "),
                said.stderr.trim()
            )));
        }
        Ok(said)
    }

    /// Like [`World::cli_step`], retried (up to 8 times, 300 ms apart) while the failure looks
    /// like a passing cloud fault, as a person at the keyboard would.
    async fn cli_retry(&mut self, console: usize, args: &[String]) -> Result<Said, ChaosError> {
        const TRANSIENT: [&str; 8] = [
            "HTTP 5",
            "server error",
            "connection",
            "reset",
            "timed out",
            "rate",
            "no answer",
            "timeout",
        ];
        let mut said = self.cli_step(console, args, false).await?;
        for _ in 0..7 {
            if said.ok || !TRANSIENT.iter().any(|t| said.stderr.contains(t)) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
            said = self.cli_step(console, args, false).await?;
        }
        Ok(said)
    }

    fn start_run(&mut self, console: usize) -> Result<(), ChaosError> {
        let sources = self.sources();
        let c = self.consoles.get_mut(console).ok_or_else(|| harness("no such console"))?;
        if c.running() {
            return Ok(());
        }
        c.spawn_run(&sources, false)?;
        let name = c.name.clone();
        self.say(format!("{name}: run started"));
        Ok(())
    }

    async fn kill(&mut self, console: usize) {
        let at_ms = self.elapsed_ms();
        if let Some(c) = self.consoles.get_mut(console)
            && c.running()
        {
            c.kill9().await;
            let name = c.name.clone();
            self.disruptions.push(Disruption { at_ms, reader: None });
            self.say(format!("{name}: run killed (SIGKILL)"));
        }
    }

    /// Waits (bounded) until every emulator has a client and is sending.
    async fn wait_readers_connected(&mut self) {
        for _ in 0..100 {
            let mut all = true;
            for r in &self.readers {
                let s = r.emulator.stats().await;
                all &= s.connected && s.sending;
            }
            if all {
                // The supervisor may still be talking to the reader (clock query, start).
                tokio::time::sleep(Duration::from_millis(300)).await;
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.say("note: not every reader was connected and sending after 10 s".into());
    }

    /// Plays the schedule: readers read for `race_ms` while the steps happen.
    pub async fn play(&mut self, schedule: &Schedule) -> Result<(), ChaosError> {
        let mut emitters = Vec::new();
        for (i, r) in self.readers.iter().enumerate() {
            let emulator = Arc::clone(&r.emulator);
            let emitted = Arc::clone(&r.emitted);
            let (clock, t0) = (self.clock.clone(), self.t0);
            let (protocol, every) = (r.plan.protocol, Duration::from_millis(r.plan.every_ms));
            let race = Duration::from_millis(schedule.race_ms);
            emitters.push(tokio::spawn(async move {
                let mut n = 0;
                while clock.monotonic().saturating_sub(t0) < race {
                    n += 1;
                    let read = emulator.emit_chip(&chip(protocol, i, n)).await;
                    let at_ms = u64::try_from(clock.monotonic().saturating_sub(t0).as_millis())
                        .unwrap_or(0);
                    if let Ok(mut list) = emitted.lock() {
                        list.push(Emission { read, at_ms });
                    }
                    tokio::time::sleep(every).await;
                }
            }));
        }
        let mut events: Vec<(u64, Event)> =
            schedule.steps.iter().map(|s| (s.at_ms, Event::Step(s.action.clone()))).collect();
        while let Some(next) = events.iter().enumerate().min_by_key(|(_, (at, _))| *at).map(|x| x.0)
        {
            let (at, event) = events.swap_remove(next);
            let now = self.elapsed_ms();
            if at > now {
                tokio::time::sleep(Duration::from_millis(at - now)).await;
            }
            match event {
                Event::StartRun(console) => self.start_run(console)?,
                Event::Step(action) => {
                    self.say(format!("step: {action}"));
                    self.act(action, &mut events).await?;
                }
            }
        }
        for e in emitters {
            let _ = tokio::time::timeout(Duration::from_secs(10), e).await;
        }
        self.say("readers stopped reading".into());
        Ok(())
    }

    async fn act(
        &mut self,
        action: Action,
        events: &mut Vec<(u64, Event)>,
    ) -> Result<(), ChaosError> {
        let now = self.elapsed_ms();
        match action {
            Action::Kill { down_ms } => {
                if self.consoles.first().is_some_and(Console::running) {
                    self.kill(0).await;
                    events.push((now + down_ms, Event::StartRun(0)));
                }
            }
            Action::DropLink { reader } => {
                if let Some(r) = self.readers.get(reader) {
                    r.emulator.drop_link().await;
                    self.disruptions.push(Disruption { at_ms: now, reader: Some(reader) });
                }
            }
            Action::Reboot { reader, down_ms } => {
                if let Some(r) = self.readers.get(reader) {
                    let emulator = Arc::clone(&r.emulator);
                    self.disruptions.push(Disruption { at_ms: now, reader: Some(reader) });
                    tokio::spawn(async move {
                        let _ = emulator.reboot(Duration::from_millis(down_ms)).await;
                    });
                }
            }
            Action::RestartNumbering { reader } => {
                if let Some(r) = self.readers.get_mut(reader) {
                    let connections = r.emulator.restart_numbering().await;
                    r.restarts.push(connections);
                }
            }
            Action::Manual { console, entry } => {
                if console < self.consoles.len() {
                    self.cli_step(console, &entry.args(), false).await?;
                } else {
                    self.say(format!("console {console} does not exist (no take-over yet)"));
                }
            }
            Action::CloudFault { spec } => match FaultRule::from_str(spec) {
                Ok(rule) => self.sim.push_fault(rule),
                Err(e) => {
                    self.say(format!("skipped: this simulator does not know `{spec}`: {e}"));
                    self.skipped.push(format!("cloud fault `{spec}` ({e})"));
                }
            },
            Action::PageSize { size } => self.sim.set_page_size(size),
            Action::CloseElsewhere { open_from_cli } => {
                match self.active_token() {
                    Some(token) => {
                        let closed = self.sim.close_session_elsewhere(&token);
                        self.say(format!(
                            "closed session {} in the cloud: {closed}",
                            short(&token)
                        ));
                    }
                    None => self.say("no active session in the cloud yet: nothing closed".into()),
                }
                if open_from_cli {
                    self.cli_step(0, &strings(&["session", "open", "--alias", "reopened"]), false)
                        .await?;
                }
            }
            Action::TakeOver { marks, back_ms } => {
                // The main laptop stays dead until it is brought back.
                events.retain(|(_, e)| !matches!(e, Event::StartRun(0)));
                self.kill(0).await;
                events.push((now + back_ms, Event::StartRun(0)));
                self.take_over(&marks).await?;
            }
        }
        Ok(())
    }

    /// The spare laptop binds the same serial with `--take-over`, records and syncs.
    async fn take_over(&mut self, marks: &[String]) -> Result<(), ChaosError> {
        if self.consoles.len() < 2 {
            let spare = Console::new("spare", &self.cli, &self.sim)?;
            self.consoles.push(spare);
        }
        let help = self.cli_step(1, &strings(&["device", "bind", "--help"]), false).await?;
        if !help.stdout.contains("--take-over") {
            self.say("skipped: this timing-cli has no `device bind --take-over` (hook)".into());
            self.skipped.push("take-over (`device bind --take-over` missing)".into());
            return Ok(());
        }
        let active = self.active_token();
        let plain = self.bind_args(false);
        let said = self.cli_retry(1, &plain).await?;
        if said.ok && active.is_some() {
            self.misbehaviour.push(format!(
                "`device bind` without --take-over succeeded on the spare although the device had \
                 an active session in RUFUS ({})",
                active.as_deref().map(short).unwrap_or_default()
            ));
        }
        let take = self.bind_args(true);
        let said = self.cli_retry(1, &take).await?;
        if !said.ok {
            self.misbehaviour.push(format!(
                "`device bind --take-over` failed (8 tries over 2 s): {}",
                said.stderr.trim()
            ));
            return Ok(());
        }
        let status = self.cli_step(1, &strings(&["status"]), false).await?;
        if status.stdout.contains("(none open)") {
            self.cli_retry(1, &strings(&["session", "open", "--alias", "spare"])).await?;
        }
        for bib in marks {
            self.cli_step(1, &strings(&["mark", bib]), false).await?;
        }
        self.cli_retry(1, &strings(&["sync", "--once"])).await?;
        Ok(())
    }

    /// The device's active session in the cloud.
    fn active_token(&self) -> Option<String> {
        let snap = self.sim.snapshot();
        let device = snap.devices.iter().find(|d| d.serial_number == self.serial)?;
        snap.sessions
            .iter()
            .rev()
            .find(|s| s.deviceid == device.deviceid && s.active)
            .map(|s| s.token_session.clone())
    }

    /// Ends the race: every console back up, the reads landed, `run` stopped with SIGTERM, the
    /// cloud faults cleared, then each console drains with `run --exit-when-done` (re-homing
    /// included) until nothing is pending anywhere (bounded).
    pub async fn finish(&mut self) -> Result<(), ChaosError> {
        self.start_run(0)?;
        self.wait_reads_landed().await?;
        self.sim.clear_faults();
        for i in 0..self.consoles.len() {
            let Some(c) = self.consoles.get_mut(i) else { continue };
            if c.running() {
                let clean = c.terminate().await?;
                let name = c.name.clone();
                self.say(format!("{name}: run stopped with SIGTERM (exit 0: {clean})"));
                if !clean {
                    self.misbehaviour
                        .push(format!("{name}: run did not exit 0 within 15 s of SIGTERM"));
                }
            }
        }
        let empty = self
            .consoles
            .first()
            .map(|c| c.dir().join("no-more-reads.txt"))
            .ok_or_else(|| harness("no console"))?;
        std::fs::write(&empty, "")
            .map_err(|e| harness(format!("write {}: {e}", empty.display())))?;
        let drain_source = vec![format!("lines:{}", empty.display())];
        for round in 1..=3 {
            for i in 0..self.consoles.len() {
                let Some(c) = self.consoles.get_mut(i) else { continue };
                c.spawn_run(&drain_source, true)?;
                let done = c.wait_run(DRAIN_LIMIT).await;
                let name = c.name.clone();
                self.say(format!("{name}: drain round {round}: run --exit-when-done → {done}"));
                if !done && round == 3 {
                    self.misbehaviour.push(format!(
                        "{name}: `run --exit-when-done` did not finish within {DRAIN_LIMIT:?} \
                         (3rd drain round)"
                    ));
                }
            }
            let mut pending = 0;
            for c in &self.consoles {
                pending += c.state().await?.counts.pending;
            }
            if pending == 0 {
                break;
            }
            self.say(format!("after drain round {round}: {pending} passing(s) still pending"));
        }
        Ok(())
    }

    /// Waits (bounded, 15 s) until every reader is linked and sending again and the main
    /// console holds every read the emulators made (by reader and replay key, or chip: repeats
    /// and doubled frames do not count twice), or what it holds has not grown for longer than a
    /// reconnecting driver may wait before it asks for what it missed (an Ultra witness that
    /// does not come) plus 2 s.
    async fn wait_reads_landed(&mut self) -> Result<(), ChaosError> {
        const POLL: Duration = Duration::from_millis(200);
        let main = self.consoles.first().ok_or_else(|| harness("no console"))?;
        let dir = main.dir().to_path_buf();
        let mut wanted: HashSet<(u16, String)> = HashSet::new();
        for r in &self.readers {
            if let Ok(list) = r.emitted.lock() {
                wanted.extend(list.iter().map(|e| (r.port, e.read.identity())));
            }
        }
        let quiet_polls = (timing_readers::supervisor::ULTRA_WITNESS_WAIT + Duration::from_secs(2))
            .as_millis()
            / POLL.as_millis();
        let (mut last, mut still) = (0, 0);
        for _ in 0..75 {
            let mut linked = true;
            for r in &self.readers {
                let stats = r.emulator.stats().await;
                linked &= stats.connected && stats.sending;
            }
            let raw = raw_reads(&dir).await?;
            let got: HashSet<(u16, String)> = raw
                .iter()
                .filter_map(|row| {
                    let reader = self.readers.iter().find(|r| from_reader(row, r.port))?;
                    Some((reader.port, row.replay_key.clone().unwrap_or_else(|| row.chip.clone())))
                })
                .collect();
            if linked && wanted.is_subset(&got) {
                break;
            }
            still = if linked && got.len() == last { still + 1 } else { 0 };
            last = got.len();
            if still >= quiet_polls {
                break;
            }
            tokio::time::sleep(POLL).await;
        }
        tokio::time::sleep(Duration::from_millis(600)).await;
        let at = self.elapsed_ms();
        self.say(format!("reads settled at +{at} ms; stopping the consoles"));
        Ok(())
    }

    /// Everything the invariants look at.
    pub async fn observe(&self, schedule: &Schedule) -> Result<Observed, ChaosError> {
        let mut consoles = Vec::new();
        for c in &self.consoles {
            consoles.push(c.state().await?);
        }
        let mut reads = Vec::new();
        for (i, r) in self.readers.iter().enumerate() {
            let emitted = r.emitted.lock().map(|l| l.clone()).unwrap_or_default();
            let mut disruptions: Vec<u64> = self
                .disruptions
                .iter()
                .filter(|d| d.reader.is_none_or(|x| x == i))
                .map(|d| d.at_ms)
                .collect();
            if let Some(n) = r.plan.drop_after {
                // The emulator cuts the link itself after its Nth frame: about the Nth live read.
                if let Some(e) = emitted.iter().filter(|e| e.read.live).nth(n.saturating_sub(1)) {
                    disruptions.push(e.at_ms);
                }
            }
            let delay = r.plan.link_delay_ms.unwrap_or(0);
            let left_behind: Vec<Option<u32>> =
                emitted.iter().map(|e| r.left_behind(&e.read)).collect();
            let required = emitted
                .iter()
                .zip(&left_behind)
                .map(|(e, left_behind)| {
                    (r.plan.keyed() && left_behind.is_none())
                        || (e.read.live
                            && !disruptions.iter().any(|d| {
                                e.at_ms + AT_RISK_BEFORE_MS + delay >= *d
                                    && e.at_ms <= d + AT_RISK_AFTER_MS
                            }))
                })
                .collect();
            reads.push(ReaderReads {
                index: i,
                protocol: r.plan.protocol,
                port: r.port,
                emitted,
                required,
                left_behind,
            });
        }
        Ok(Observed {
            snapshot: self.sim.snapshot(),
            consoles,
            reads,
            parks_allowed: schedule.parks_on_purpose(),
            misbehaviour: self.misbehaviour.clone(),
        })
    }

    /// The `run.log` events of every console (for a failure report).
    pub fn logs(&self) -> String {
        self.consoles
            .iter()
            .map(|c| format!("--- {} ({}) run.log:\n{}", c.name, c.dir().display(), c.log_tail()))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Stops everything (processes are also killed on drop).
    pub async fn shutdown(mut self, keep_dirs: bool) -> Vec<PathBuf> {
        let mut kept = Vec::new();
        for c in &mut self.consoles {
            c.kill9().await;
        }
        for r in self.readers.drain(..) {
            if let Ok(emulator) = Arc::try_unwrap(r.emulator) {
                emulator.shutdown().await;
            }
        }
        for c in self.consoles.drain(..) {
            if keep_dirs {
                kept.push(c.dir.keep());
            }
        }
        self.sim.shutdown().await;
        kept
    }
}

/// The first characters of a token.
pub fn short(token: &str) -> String {
    token.chars().take(8).collect()
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| (*a).to_owned()).collect()
}

/// Reader index → how many of its reads are required (for the verdict line).
pub fn required_counts(reads: &[ReaderReads]) -> HashMap<usize, (usize, usize)> {
    reads
        .iter()
        .map(|r| (r.index, (r.required.iter().filter(|x| **x).count(), r.emitted.len())))
        .collect()
}
