//! RUFUS closes the session from elsewhere mid-race (someone opened another session for the
//! device): the headless console notices, opens a new session and re-homes what was pending.

use std::time::Duration;

use crate::support::{Console, DRILL_LIMIT, assert_exactly_once, feed_lines, strict_sim};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_passings_of_a_remotely_closed_session_are_rehomed_not_lost() {
    tokio::time::timeout(DRILL_LIMIT, async {
        let sim = strict_sim().await;
        let console = Console::new(&sim);
        console.ready().await;
        let mut child = console.spawn_run(&["--exit-when-done"]);
        let mut stdin = child.stdin.take().unwrap();
        let mut next = 0;
        assert!(feed_lines(&mut stdin, &mut next, 200, 200).await);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let first_token = console.tokens().await.into_values().next().unwrap();
        sim.pause().await; // let a backlog build so something is pending when the close lands
        assert!(feed_lines(&mut stdin, &mut next, 200, 200).await);
        assert!(sim.close_session_elsewhere(&first_token));
        // The input ends before the cloud is back: the close is found while draining, and the
        // console must still re-home and sync before it exits.
        drop(stdin);
        tokio::time::sleep(Duration::from_millis(500)).await;
        sim.resume().await.unwrap();
        console.wait_exit(&mut child).await;

        let tokens = console.tokens().await;
        assert_eq!(tokens.len(), 2, "a second session took over");
        assert_exactly_once(&console, &sim).await;
        let in_cloud: usize = tokens
            .values()
            .map(|t| sim.snapshot().session(t).map_or(0, |s| s.passings.len()))
            .sum();
        assert_eq!(in_cloud, 400, "every line reached the cloud once, across the two sessions");
    })
    .await
    .unwrap();
}
