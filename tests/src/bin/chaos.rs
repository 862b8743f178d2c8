//! `cargo xtask chaos [--seeds N] [--seed S] [--first S] [--keep]`: plays seeded fault schedules
//! against the real `timing-cli` (the `drill-cli` binary next to this one) and the simulator,
//! prints a verdict per seed, the whole schedule and the first broken invariant of a failing
//! seed, and exits non-zero if any seed failed.

// A command-line tool talking to a person.
#![allow(clippy::print_stdout)]

use std::process::ExitCode;
use std::time::Duration;

use timing_drills::chaos::{self, Options};

/// One seed may take this long in all.
const SEED_LIMIT: Duration = Duration::from_secs(150);

const USAGE: &str = "usage: chaos [--seeds N] [--first S] [--seed S]... [--jobs J] [--keep]
  --seeds N   run N seeds (default 20), starting at --first (default 1)
  --seed S    run only seed S (repeatable)
  --jobs J    play J seeds at once (default 1; each seed is its own world of processes)
  --keep      keep the data directories of failing seeds
  --verbose   also print the schedule and step log of passing seeds";

struct Args {
    seeds: Vec<u64>,
    keep: bool,
    verbose: bool,
    jobs: usize,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let (mut count, mut first, mut only, mut keep) = (20_u64, 1_u64, Vec::new(), false);
    let mut verbose = false;
    let mut jobs = 1_u64;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or_else(|| format!("{name} needs a whole number\n{USAGE}"))
        };
        match arg.as_str() {
            "--seeds" => count = value("--seeds")?,
            "--first" => first = value("--first")?,
            "--seed" => only.push(value("--seed")?),
            "--jobs" => jobs = value("--jobs")?.max(1),
            "--keep" => keep = true,
            "-v" | "--verbose" => verbose = true,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    let seeds = if only.is_empty() { (first..first.saturating_add(count)).collect() } else { only };
    Ok(Args { seeds, keep, verbose, jobs: usize::try_from(jobs).unwrap_or(1) })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Args { seeds, keep: keep_failed, verbose, jobs } = match parse(&args) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let cli = match std::env::current_exe() {
        Ok(exe) => exe.with_file_name(format!("drill-cli{}", std::env::consts::EXE_SUFFIX)),
        Err(e) => {
            eprintln!("chaos: cannot find my own path: {e}");
            return ExitCode::FAILURE;
        }
    };
    if !cli.exists() {
        eprintln!(
            "chaos: {} is missing: build with `cargo build -p timing-drills --bins`",
            cli.display()
        );
        return ExitCode::FAILURE;
    }
    let runtime =
        match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("chaos: cannot start a runtime: {e}");
                return ExitCode::FAILURE;
            }
        };
    let options = std::sync::Arc::new(Options { cli, keep_failed });
    let (mut failed, mut checked) = (Vec::new(), 0);
    // Seeds play `jobs` at a time; verdicts print in seed order.
    let reports = runtime.block_on(async {
        let mut running = tokio::task::JoinSet::new();
        let mut done = std::collections::BTreeMap::new();
        for &seed in &seeds {
            while running.len() >= jobs {
                if let Some(Ok((seed, report))) = running.join_next().await {
                    done.insert(seed, report);
                }
            }
            let options = options.clone();
            running.spawn(async move {
                (seed, tokio::time::timeout(SEED_LIMIT, chaos::run_seed(seed, &options)).await)
            });
        }
        while let Some(joined) = running.join_next().await {
            if let Ok((seed, report)) = joined {
                done.insert(seed, report);
            }
        }
        done
    });
    for &seed in &seeds {
        let Some(report) = reports.get(&seed) else {
            println!("seed {seed}: FAILED (harness) — its task ended abnormally");
            failed.push(seed);
            continue;
        };
        match report {
            Ok(report) => {
                checked += report.checked;
                if report.passed() {
                    println!("{}", report.verdict());
                    if verbose {
                        print!("{}", report.schedule);
                        report.log.iter().for_each(|line| println!("{line}"));
                    }
                } else {
                    println!("{report}");
                    failed.push(seed);
                }
            }
            Err(_) => {
                println!("seed {seed}: FAILED (harness) — did not finish within {SEED_LIMIT:?}");
                println!("{}", chaos::Schedule::draw(seed));
                println!("reproduce: cargo xtask chaos --seed {seed}");
                failed.push(seed);
            }
        }
    }
    println!(
        "chaos: {} seeds, {checked} invariants checked, {} failures",
        seeds.len(),
        failed.len()
    );
    if !failed.is_empty() {
        let list: Vec<String> = failed.iter().map(u64::to_string).collect();
        println!("failing seeds: {}", list.join(" "));
    }
    println!("{} passed, {} failed", seeds.len() - failed.len(), failed.len());
    if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
