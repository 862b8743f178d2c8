//! Power-cut drill: `kill -9` the headless console at random moments while it captures at race
//! pace, restart it each time; in the end every committed passing is in the cloud exactly once.

use std::time::Duration;

use rand::{Rng, SeedableRng};

use crate::support::{Console, DRILL_LIMIT, assert_exactly_once, feed_lines, strict_sim};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_nine_at_random_moments_loses_and_doubles_nothing() {
    tokio::time::timeout(DRILL_LIMIT, async {
        let sim = strict_sim().await;
        let console = Console::new(&sim);
        console.ready().await;
        let seed: u64 = rand::rng().random();
        println!("crash drill seed {seed}");
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut next = 0;
        for round in 0..12 {
            let mut child = console.spawn_run(&[]);
            let mut stdin = child.stdin.take().unwrap();
            // 300 reads/s for 0.2–1.2 s, then the plug is pulled at a random moment.
            let count = rng.random_range(60..360);
            let feeding = feed_lines(&mut stdin, &mut next, count, 300);
            let cut_after = Duration::from_millis(rng.random_range(100..1300));
            let _ = tokio::time::timeout(cut_after, feeding).await;
            child.start_kill().unwrap();
            let status = child.wait().await.unwrap();
            assert!(!status.success(), "round {round}: the console was killed, not stopped");
        }
        console.drain().await;
        let checked = assert_exactly_once(&console, &sim).await;
        assert!(checked > 200, "the drill recorded enough passings to mean something: {checked}");
    })
    .await
    .unwrap();
}
