//! A seeded fault-schedule explorer, in the spirit of FoundationDB's simulation tests and
//! SQLite's crash tests: each seed draws a schedule (readers with skewed clocks and doubled
//! frames, manual entries, `kill -9`, cloud faults, remote closes, a take-over), plays it against
//! the real `timing-cli` binary and the simulator, drains, and checks the invariants
//! ([`invariants::ALL`]). `cargo xtask chaos` and `tests/tests/chaos.rs` run it.

pub mod invariants;
pub mod schedule;
pub mod world;

use std::fmt;
use std::path::PathBuf;

pub use invariants::Violation;
pub use schedule::Schedule;
use world::World;

/// How seeds run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The `timing-cli` binary (the drills' `drill-cli`).
    pub cli: PathBuf,
    /// Keep the data directories of failing seeds (their paths are printed).
    pub keep_failed: bool,
}

/// The harness could not run the seed (not a finding about the console).
#[derive(Debug, thiserror::Error)]
pub enum ChaosError {
    /// Setting up or driving the world failed.
    #[error("harness: {0}")]
    Harness(String),
}

/// What one seed found.
#[derive(Debug)]
pub struct SeedReport {
    /// The seed.
    pub seed: u64,
    /// Its schedule.
    pub schedule: Schedule,
    /// Invariants checked.
    pub checked: usize,
    /// Every broken invariant, in order; the first is the one reported.
    pub violations: Vec<Violation>,
    /// The harness could not finish the seed.
    pub harness_error: Option<String>,
    /// The step log with timings.
    pub log: Vec<String>,
    /// The consoles' `run.log` events (failures only).
    pub console_logs: String,
    /// Hooks this build could not exercise.
    pub skipped: Vec<String>,
    /// One-line summary of what happened.
    pub summary: String,
    /// Data directories kept for inspection.
    pub kept: Vec<PathBuf>,
}

impl SeedReport {
    /// Whether every invariant held.
    pub fn passed(&self) -> bool {
        self.violations.is_empty() && self.harness_error.is_none()
    }

    /// The one-line verdict.
    pub fn verdict(&self) -> String {
        if let Some(e) = &self.harness_error {
            return format!("seed {}: FAILED (harness) — {e}", self.seed);
        }
        match self.violations.first() {
            None => format!("seed {}: ok — {}", self.seed, self.summary),
            Some(v) => format!(
                "seed {}: FAILED — invariant {} ({} broken in all: {}) — {}",
                self.seed,
                v.invariant,
                self.violations.len(),
                self.violations.iter().map(|v| v.invariant).collect::<Vec<_>>().join(", "),
                self.summary
            ),
        }
    }
}

impl fmt::Display for SeedReport {
    /// The full report of a failing seed: verdict, schedule, first violation (and the others),
    /// the step log, the consoles' logs and how to reproduce.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.verdict())?;
        if self.passed() {
            return Ok(());
        }
        write!(f, "{}", self.schedule)?;
        if !self.skipped.is_empty() {
            writeln!(f, "skipped (not in this build): {}", self.skipped.join("; "))?;
        }
        if let Some(first) = self.violations.first() {
            write!(f, "first {first}")?;
        }
        for other in self.violations.iter().skip(1) {
            write!(f, "also {other}")?;
        }
        writeln!(f, "step log:")?;
        for line in &self.log {
            writeln!(f, "{line}")?;
        }
        writeln!(f, "{}", self.console_logs)?;
        for dir in &self.kept {
            writeln!(f, "kept data directory: {}", dir.display())?;
        }
        writeln!(f, "reproduce: cargo xtask chaos --seed {}", self.seed)
    }
}

/// Plays one seed and checks every invariant. Bounded in time by its own limits (each command,
/// each drain); callers add an overall timeout.
pub async fn run_seed(seed: u64, options: &Options) -> SeedReport {
    let schedule = Schedule::draw(seed);
    let mut report = SeedReport {
        seed,
        schedule: schedule.clone(),
        checked: 0,
        violations: Vec::new(),
        harness_error: None,
        log: Vec::new(),
        console_logs: String::new(),
        skipped: Vec::new(),
        summary: String::new(),
        kept: Vec::new(),
    };
    let mut world = match World::start(&schedule, options).await {
        Ok(world) => world,
        Err(e) => {
            report.harness_error = Some(e.to_string());
            return report;
        }
    };
    let played = async {
        world.play(&schedule).await?;
        world.finish().await?;
        world.observe(&schedule).await
    };
    match Box::pin(played).await {
        Ok(observed) => {
            for (_, check) in invariants::ALL {
                report.checked += 1;
                if let Err(v) = check(&observed) {
                    report.violations.push(v);
                }
            }
            report.summary = summarize(&schedule, &observed);
        }
        Err(e) => report.harness_error = Some(e.to_string()),
    }
    report.log = std::mem::take(&mut world.log);
    report.skipped = std::mem::take(&mut world.skipped);
    if !report.passed() {
        report.console_logs = world.logs();
    }
    report.kept = world.shutdown(options.keep_failed && !report.passed()).await;
    report
}

fn summarize(schedule: &Schedule, o: &invariants::Observed) -> String {
    let protocols: Vec<&str> = schedule.readers.iter().map(|r| r.protocol).collect();
    let counts = world::required_counts(&o.reads);
    let (required, made) = counts.values().fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    let local: usize = o.consoles.iter().map(|c| c.passings.len()).sum();
    let held: i64 = o.consoles.iter().map(|c| c.counts.held).sum();
    let sessions = o
        .snapshot
        .sessions
        .iter()
        .filter(|s| o.consoles.iter().any(|c| c.devices.contains(&s.deviceid)))
        .count();
    let in_cloud: usize = o.snapshot.sessions.iter().map(|s| s.passings.len()).sum();
    format!(
        "{} readers ({}), {made} reads ({required} required), {} steps, {local} local passings \
         ({held} held stamps), {in_cloud} in {sessions} cloud session(s), {} console(s)",
        protocols.len(),
        protocols.join(", "),
        schedule.steps.len(),
        o.consoles.len()
    )
}
