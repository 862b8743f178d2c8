//! Failures that heal and failures that show: a proxy's 408, a key refused for a while, a
//! Retry-After of a day, a session lookup that fails, a passing the cloud rejected once, and a
//! session opened from another shell while `run` captures.

use std::time::Duration;

use timing_core::domain::SyncState;
use timing_core::store::Store;

use crate::support::{
    Console, DRILL_LIMIT, assert_exactly_once, cloud_passings, eventually, feed_lines, strict_sim,
};

/// 408 and 504 from a proxy are retried, never parked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_answers_are_retried_not_parked() {
    tokio::time::timeout(DRILL_LIMIT, async {
        let sim = strict_sim().await;
        let console = Console::new(&sim);
        console.ready().await;
        console.ok(&["mark", "1,2,3"]).await;
        for status in ["408", "425", "502", "504"] {
            sim.push_fault(format!("{status},n=1@POST /passings").parse().unwrap());
        }
        console.drain().await;
        assert_eq!(cloud_passings(&console, &sim).await.len(), 3);
        let local = console.local_passings().await;
        assert!(local.iter().all(|p| p.sync_state == SyncState::Sent), "nothing parked");
    })
    .await
    .unwrap();
}

/// A key refused for a while pauses sync with the reason; a Retry-After of a day is not
/// honoured for a day; "retry now" from a second shell resumes the running console at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_sync_heals_on_retry_now() {
    tokio::time::timeout(DRILL_LIMIT, async {
        let sim = strict_sim().await;
        let console = Console::new(&sim);
        console.ready().await;
        let mut run = console.spawn_run(&[]);
        let mut stdin = run.stdin.take().unwrap();
        let mut next = 0;

        sim.push_fault("401,for=1s@POST /passings".parse().unwrap());
        assert!(feed_lines(&mut stdin, &mut next, 5, 100).await);
        tokio::time::sleep(Duration::from_millis(1500)).await; // paused now, the key is fine again
        assert!(console.log_tail().contains("sync"), "{}", console.log_tail());
        console.ok(&["sync", "--retry-now"]).await;
        eventually("the paused sync resumes", &console, || async {
            cloud_passings(&console, &sim).await.len() == 5
        })
        .await;

        sim.push_fault("429,retry=86400,n=1@POST /passings".parse().unwrap());
        assert!(feed_lines(&mut stdin, &mut next, 5, 100).await);
        tokio::time::sleep(Duration::from_millis(800)).await;
        console.ok(&["sync", "--retry-now"]).await;
        eventually("a day's Retry-After is cut short", &console, || async {
            cloud_passings(&console, &sim).await.len() == 10
        })
        .await;
        drop(stdin);
        console.interrupt(&mut run).await;
        assert_exactly_once(&console, &sim).await;
    })
    .await
    .unwrap();
}

/// A passing parked on a 400 goes again after the cause was fixed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parked_passings_can_be_sent_again() {
    tokio::time::timeout(DRILL_LIMIT, async {
        let sim = strict_sim().await;
        let console = Console::new(&sim);
        console.ready().await;
        console.drain().await;
        console.ok(&["mark", "13"]).await;
        sim.push_fault("400,n=1@POST /passings".parse().unwrap());
        console.drain().await;
        let parked = console.local_passings().await;
        assert_eq!(parked[0].sync_state, SyncState::Parked);
        console.ok(&["sync", "--retry-parked"]).await;
        console.drain().await;
        assert_eq!(cloud_passings(&console, &sim).await.len(), 1);
        assert_exactly_once(&console, &sim).await;
    })
    .await
    .unwrap();
}

/// Only a definite answer closes a session: a failing lookup at start-up leaves it open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_session_lookup_never_closes_the_session() {
    tokio::time::timeout(DRILL_LIMIT, async {
        let sim = strict_sim().await;
        let console = Console::new(&sim);
        console.ready().await;
        let token = console.tokens().await.into_values().next().unwrap();
        sim.push_fault("404,n=1@GET /sessions/device".parse().unwrap());
        sim.push_fault(format!("503,n=2@GET /sessions/{token}").parse().unwrap());
        let mut run = console.spawn_run(&["--exit-when-done"]);
        let mut stdin = run.stdin.take().unwrap();
        let mut next = 0;
        assert!(feed_lines(&mut stdin, &mut next, 3, 100).await);
        drop(stdin);
        console.wait_exit(&mut run).await;
        let tokens = console.tokens().await;
        assert_eq!(tokens.len(), 1, "no second session: {tokens:?}\n{}", console.log_tail());
        assert_eq!(sim.snapshot().session(&token).unwrap().passings.len(), 3);
        assert!(sim.snapshot().session(&token).unwrap().active);
    })
    .await
    .unwrap();
}

/// A session opened from another shell while `run` captures is recorded into within a moment,
/// not at the next status tick: reads right after it make passings.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_opened_from_another_shell_is_followed_at_once() {
    tokio::time::timeout(DRILL_LIMIT, async {
        let sim = strict_sim().await;
        let console = Console::new(&sim);
        console.ok(&["device", "bind", "--serial", "DRILL-1", "--model", "drill"]).await;
        // A slow status tick: following the session must not wait for it.
        let mut run = console.spawn_run(&["--status-every", "60"]);
        let mut stdin = run.stdin.take().unwrap();
        let mut next = 0;
        tokio::time::sleep(Duration::from_millis(500)).await;
        console.ok(&["session", "open", "--alias", "from another shell"]).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(feed_lines(&mut stdin, &mut next, 20, 200).await, "{}", console.log_tail());
        eventually("the reads make passings", &console, || async {
            console.local_passings().await.len() == 20
        })
        .await;
        drop(stdin);
        console.interrupt(&mut run).await;
        let store = Store::open_in(console.dir.path()).await.unwrap();
        assert_eq!(store.sessions(None).await.unwrap().len(), 1);
        store.close().await;
    })
    .await
    .unwrap();
}

/// A correction of a passing the cloud refused is made in place (the cloud does not hold it)
/// and puts it back in the outbox; no carrier points at a passing the cloud never took.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn correcting_a_parked_passing_sends_it_corrected() {
    tokio::time::timeout(DRILL_LIMIT, async {
        let sim = strict_sim().await;
        let console = Console::new(&sim);
        console.ready().await;
        console.drain().await;
        console.ok(&["mark", "13"]).await;
        sim.push_fault("400,n=1@POST /passings".parse().unwrap());
        console.drain().await;
        assert_eq!(console.local_passings().await[0].sync_state, SyncState::Parked);
        console.ok(&["correct", "1", "--bib", "31"]).await;
        console.drain().await;
        let cloud = cloud_passings(&console, &sim).await;
        let sent: Vec<(u64, &str, Option<&str>)> =
            cloud.iter().map(|p| (p.num_passing, p.bib.as_str(), p.status.as_deref())).collect();
        assert_eq!(sent, vec![(1, "31", None)], "the corrected passing itself, no carrier");
        assert_exactly_once(&console, &sim).await;
    })
    .await
    .unwrap();
}
