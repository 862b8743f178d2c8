//! After an ambiguous failure the console asks the cloud what landed before it sends or moves
//! anything: whatever the cloud's page size, after a restart and a remote close, and with a
//! correction arriving while the question is on the way.

use std::time::Duration;

use rufus_cloud_sim::{Sim, SimConfig};
use timing_core::domain::SyncState;

use crate::support::{Console, DRILL_LIMIT, assert_exactly_once, cloud_passings, strict_sim};

/// A console whose passings #1–#3 are in the cloud.
async fn three_sent(sim: &Sim) -> Console {
    let console = Console::new(sim);
    console.ready().await;
    console.ok(&["mark", "1,2,3"]).await;
    console.drain().await;
    console
}

/// A cloud that pages P2 by 100: a 450-passing batch whose answer was lost is reconciled over
/// five pages, and nothing that landed is sent again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconcile_reads_every_page_whatever_its_size() {
    tokio::time::timeout(DRILL_LIMIT, async {
        let sim = Sim::start(SimConfig { dedup: false, page_size: 100, ..SimConfig::default() })
            .await
            .unwrap();
        let console = Console::new(&sim);
        console.ready().await;
        let bibs: Vec<String> = (1..=450).map(|b| b.to_string()).collect();
        console.ok(&["mark", &bibs.join(","), "--yes"]).await;
        // The whole backlog goes in one batch that lands without an answer.
        sim.push_fault("reset-after,n=1@POST /passings".parse().unwrap());
        assert!(!console.output(&["sync", "--once"]).await.status.success());
        console.drain().await;
        let cloud = cloud_passings(&console, &sim).await;
        assert_eq!(cloud.len(), 450);
        assert_exactly_once(&console, &sim).await;
    })
    .await
    .unwrap();
}

/// A batch lands but its answer is lost; the console stops; the session is closed elsewhere;
/// the console restarts and re-homes: what landed stays in the old session, only the rest
/// moves, and a correction carried for a passing that stays still points at it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rehoming_asks_the_old_session_first() {
    tokio::time::timeout(DRILL_LIMIT, async {
        let sim = strict_sim().await;
        let console = three_sent(&sim).await;
        // Sent: #1–#3. A correction of #2 (a carrier, #4) and three new passings (#5–#7) go in
        // one batch that lands without an answer.
        console.ok(&["correct", "2", "--bib", "22"]).await;
        console.ok(&["mark", "5,6,7"]).await;
        sim.push_fault("reset-after,n=1@POST /passings".parse().unwrap());
        assert!(!console.output(&["sync", "--once"]).await.status.success());
        let first = console.tokens().await.into_values().next().unwrap();
        assert_eq!(sim.snapshot().session(&first).unwrap().passings.len(), 7, "all landed");
        assert!(sim.close_session_elsewhere(&first));
        // Two passings nobody sent yet.
        console.ok(&["mark", "8,9"]).await;

        console.run_until_done().await;

        let tokens = console.tokens().await;
        assert_eq!(tokens.len(), 2, "a new session continues");
        let second = tokens.values().find(|t| **t != first).unwrap();
        let snapshot = sim.snapshot();
        let old = snapshot.session(&first).unwrap();
        assert_eq!(old.received.len(), 7, "nothing sent twice to the old session");
        let new = snapshot.session(second).unwrap();
        let bibs: Vec<&str> = new.passings.iter().map(|p| p.bib.as_str()).collect();
        assert_eq!(bibs, vec!["8", "9"], "only what never landed moved");
        let local = console.local_passings().await;
        assert!(local.iter().all(|p| matches!(p.sync_state, SyncState::Sent | SyncState::Moved)));
        assert_exactly_once(&console, &sim).await;
    })
    .await
    .unwrap();
}

/// A re-homed correction of a passing that stays in the old session names that session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rehomed_correction_still_points_at_its_passing() {
    tokio::time::timeout(DRILL_LIMIT, async {
        let sim = strict_sim().await;
        let console = three_sent(&sim).await;
        let first = console.tokens().await.into_values().next().unwrap();
        sim.pause().await;
        console.ok(&["correct", "2", "--bib", "22"]).await; // carrier #4, pending
        assert!(sim.close_session_elsewhere(&first));
        sim.resume().await.unwrap();
        console.run_until_done().await;

        let tokens = console.tokens().await;
        let second = tokens.values().find(|t| **t != first).unwrap();
        let new = sim.snapshot().session(second).unwrap().clone();
        assert_eq!(new.passings.len(), 1);
        let carrier = &new.passings[0];
        assert_eq!(carrier.bib, "22");
        assert_eq!(
            carrier.status.as_deref(),
            Some(format!("correction of #2 in session {first}").as_str())
        );
    })
    .await
    .unwrap();
}

/// A correction made while a batch's reconcile question is on the way: what is sent is what was
/// committed when the attempt was marked, so the cloud never keeps a stale bib the screen
/// shows as sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correction_never_races_a_batch() {
    tokio::time::timeout(DRILL_LIMIT, async {
        let sim = strict_sim().await;
        let console = Console::new(&sim);
        console.ready().await;
        console.ok(&["mark", "7"]).await;
        // #1's send fails before it lands: its next batch starts with a reconcile question.
        sim.push_fault("reset-before,n=1@POST /passings".parse().unwrap());
        assert!(!console.output(&["sync", "--once"]).await.status.success());
        console.ok(&["mark", "8"]).await; // #2, never attempted
        sim.set_latency(Duration::from_millis(1500));
        let sync = console.command(&["sync", "--once"]).output();
        let correct = async {
            tokio::time::sleep(Duration::from_millis(600)).await;
            console.ok(&["correct", "2", "--bib", "88"]).await
        };
        let (synced, _) = tokio::join!(sync, correct);
        let _ = synced.unwrap();
        sim.set_latency(Duration::ZERO);
        console.drain().await;

        let cloud = cloud_passings(&console, &sim).await;
        let effective_2: Vec<&str> = cloud
            .iter()
            .filter(|p| p.num_passing == 2 || p.status.as_deref().is_some_and(|s| s.contains("#2")))
            .map(|p| p.bib.as_str())
            .collect();
        assert_eq!(
            effective_2.last(),
            Some(&"88"),
            "the cloud ends with the corrected bib: {cloud:?}"
        );
        assert_exactly_once(&console, &sim).await;
    })
    .await
    .unwrap();
}
