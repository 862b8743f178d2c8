//! `cargo xtask bench`: measures the console's performance targets in one run and prints them
//! as one table (and JSON), next to their goals. Benchmarks report; they never fail a build.
//!
//! - every reader protocol's decoder, MB/s over a realistic byte stream;
//! - capture pipeline: simulated reads → de-duplication → SQLite commit → broadcast, reads/s;
//! - sync backlog: 100,000 pending passings to the local simulator, in batches, seconds;
//! - one passing per request (as the only public RUFUS client sends them), measured on 5,000
//!   passings and scaled per passing, for the ratio;
//! - how fast RUFUS sees a passing: commit → acknowledged, p50/p99 at 200 passings/s with 50 ms
//!   of latency per request, alone and while a 100,000-passing backlog drains.

// A benchmark reports on stdout and reads the wall clock to time itself.
#![allow(clippy::print_stdout, clippy::disallowed_methods)]

mod decoders;
mod engine;

use std::time::Duration;

/// One measured figure.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Figure {
    /// What was measured.
    pub name: String,
    /// The measured value, in `unit`.
    pub value: f64,
    /// Its unit.
    pub unit: String,
    /// The goal, in words.
    pub goal: String,
    /// Whether the goal was met in this run.
    pub met: bool,
    /// How it was measured.
    pub note: String,
}

fn main() -> std::process::ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("bench: cannot start a runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let quick = std::env::args().any(|a| a == "--quick");
    let result = runtime.block_on(async {
        let mut figures = Vec::new();
        figures.extend(decoders::throughput(if quick { 0.1 } else { 0.5 }));
        figures.extend(engine::pipeline(if quick { 20_000 } else { 200_000 }).await?);
        figures.extend(
            engine::sync(if quick { 10_000 } else { 100_000 }, if quick { 500 } else { 5_000 })
                .await?,
        );
        let latency = Duration::from_millis(50);
        let seconds = if quick { 3 } else { 10 };
        figures.extend(engine::ack_latency(200, seconds, latency, 0).await?);
        let backlog = if quick { 10_000 } else { 100_000 };
        figures.extend(engine::ack_latency(200, seconds, latency, backlog).await?);
        Ok::<_, String>(figures)
    });
    match result {
        Ok(figures) => {
            print_table(&figures);
            let json = serde_json::to_string_pretty(&figures).unwrap_or_default();
            let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../target/bench-results.json");
            if std::fs::write(&out, json).is_ok() {
                println!("\n(JSON in {})", out.display());
            }
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn print_table(figures: &[Figure]) {
    println!("| benchmark | measured | goal | met | how |");
    println!("|---|---|---|---|---|");
    for f in figures {
        println!(
            "| {} | {} {} | {} | {} | {} |",
            f.name,
            fmt_value(f.value),
            f.unit,
            f.goal,
            if f.met { "yes" } else { "NO" },
            f.note
        );
    }
}

fn fmt_value(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.4}")
    }
}

/// Seconds of a duration, as f64.
pub fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}
