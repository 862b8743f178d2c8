//! Network drills: the cloud down for a while, 5xx bursts, 429 with Retry-After, connections
//! reset after the cloud committed, and a session opened with no network at all.

use rufus_cloud_sim::{FaultKind, FaultRule};

use crate::support::{
    Console, DRILL_LIMIT, assert_exactly_once, feed_lines, strict_sim, wait_in_cloud,
};

fn rule(kind: FaultKind, times: u32) -> FaultRule {
    FaultRule { times: Some(times), ..FaultRule::always(kind, Some("POST /passings")) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outages_5xx_429_and_resets_after_commit_lose_and_double_nothing() {
    tokio::time::timeout(DRILL_LIMIT, async {
        let sim = strict_sim().await;
        let console = Console::new(&sim);
        console.ready().await;
        let mut child = console.spawn_run(&["--exit-when-done"]);
        let mut stdin = child.stdin.take().unwrap();
        let mut next = 0;

        assert!(feed_lines(&mut stdin, &mut next, 200, 200).await);
        wait_in_cloud(&console, &sim, 200).await;
        sim.pause().await; // the venue's 4G drops for a while
        assert!(feed_lines(&mut stdin, &mut next, 300, 200).await);
        sim.resume().await.unwrap();
        wait_in_cloud(&console, &sim, 500).await;
        sim.push_fault(rule(FaultKind::ServerError(503), 4)); // a burst of 5xx
        assert!(feed_lines(&mut stdin, &mut next, 200, 200).await);
        wait_in_cloud(&console, &sim, 700).await;
        sim.push_fault(rule(FaultKind::RateLimited { retry_after_secs: 1 }, 2));
        assert!(feed_lines(&mut stdin, &mut next, 200, 200).await);
        wait_in_cloud(&console, &sim, 900).await;
        sim.push_fault(rule(FaultKind::ResetAfterCommit, 3)); // landed, but no answer
        sim.push_fault(rule(FaultKind::ResetBeforeCommit, 2));
        assert!(feed_lines(&mut stdin, &mut next, 200, 200).await);
        drop(stdin); // end of input: the console drains its outbox and exits

        console.wait_exit(&mut child).await;
        let checked = assert_exactly_once(&console, &sim).await;
        assert_eq!(checked, 1100, "every line made one passing");
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_opened_offline_syncs_when_the_network_returns() {
    tokio::time::timeout(DRILL_LIMIT, async {
        let sim = strict_sim().await;
        let console = Console::new(&sim);
        console.ok(&["device", "bind", "--serial", "DRILL-OFF", "--model", "drill"]).await;
        sim.pause().await;
        let opened = console.ok(&["session", "open", "--alias", "no network"]).await;
        assert!(opened.contains("opening"), "open locally at once: {opened}");
        console.ok(&["mark", "7,8,9"]).await;
        let failed = console.output(&["sync", "--once"]).await;
        assert!(!failed.status.success(), "nothing can be pushed offline");
        assert!(String::from_utf8_lossy(&failed.stderr).contains("error:"));
        sim.resume().await.unwrap();
        console.drain().await;
        assert_eq!(assert_exactly_once(&console, &sim).await, 3);
    })
    .await
    .unwrap();
}
