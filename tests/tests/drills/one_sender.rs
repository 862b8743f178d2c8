//! One data directory, one sender: a `sync --once` typed in a second shell while `run` drains a
//! backlog must not send the same passings a second time.

use std::time::Duration;

use crate::support::{Console, DRILL_LIMIT, assert_exactly_once, cloud_passings, strict_sim};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_process_never_syncs_what_run_is_sending() {
    tokio::time::timeout(DRILL_LIMIT, async {
        let sim = strict_sim().await;
        let console = Console::new(&sim);
        console.ready().await;
        let bibs: Vec<String> = (1..=300).map(|b| b.to_string()).collect();
        console.ok(&["mark", &bibs.join(","), "--yes"]).await;
        sim.set_latency(Duration::from_millis(1500)); // a slow venue link
        let mut run = console.spawn_run(&["--exit-when-done"]);
        drop(run.stdin.take());
        tokio::time::sleep(Duration::from_millis(700)).await; // run's batch is on the way

        for args in [&["sync", "--once"][..], &["session", "rehome", "1"][..]] {
            let second = console.output(args).await;
            assert!(!second.status.success(), "{args:?} must not sync beside run");
            let said = String::from_utf8_lossy(&second.stderr);
            assert!(said.contains("a console is capturing on this data directory"), "{said}");
        }
        console.wait_exit(&mut run).await;
        sim.set_latency(Duration::ZERO);
        assert_eq!(cloud_passings(&console, &sim).await.len(), 300);
        assert_exactly_once(&console, &sim).await;
    })
    .await
    .unwrap();
}
