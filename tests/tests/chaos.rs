//! A fixed set of chaos seeds through the library entry point, so `cargo test --workspace`
//! explores crashes, cloud faults, remote closes and take-overs on every run
//! (`cargo xtask chaos` runs many more).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests stop loudly

use std::time::Duration;

use timing_drills::chaos::{Options, run_seed};

/// The seeds every test run plays.
const SEEDS: [u64; 10] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixed_chaos_seeds_keep_every_invariant() {
    let options = Options { cli: env!("CARGO_BIN_EXE_drill-cli").into(), keep_failed: false };
    let mut failures = Vec::new();
    for seed in SEEDS {
        let report = tokio::time::timeout(Duration::from_secs(40), run_seed(seed, &options))
            .await
            .unwrap_or_else(|_| panic!("seed {seed} did not finish in 40 s"));
        println!("{}", report.verdict());
        if !report.passed() {
            failures.push(report.to_string());
        }
    }
    assert!(failures.is_empty(), "{} seed(s) failed:\n{}", failures.len(), failures.join("\n"));
}
