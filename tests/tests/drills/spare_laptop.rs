//! The finish laptop dies; a spare one (a new data directory) binds the same serial and carries
//! on. Its passings must never reuse the first laptop's numbers — with the cloud de-duplicating,
//! a reused number is a passing silently dropped while the spare shows it sent.

use rufus_cloud_sim::{Sim, SimConfig};
use timing_core::domain::SyncState;

use crate::support::{Console, DRILL_LIMIT, feed_lines};

async fn record(console: &Console, next: &mut u64, count: u64) {
    let mut child = console.spawn_run(&["--exit-when-done"]);
    let mut stdin = child.stdin.take().unwrap();
    assert!(feed_lines(&mut stdin, next, count, 200).await);
    drop(stdin);
    console.wait_exit(&mut child).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spare_laptop_takes_over_and_numbers_after_the_cloud() {
    tokio::time::timeout(DRILL_LIMIT, async {
        // De-duplication on: the point is that the cloud would swallow a collision.
        let sim = Sim::start(SimConfig { dedup: true, ..SimConfig::default() }).await.unwrap();
        let first = Console::new(&sim);
        first.ready().await;
        let mut next = 0;
        record(&first, &mut next, 50).await;
        let token = first.tokens().await.into_values().next().unwrap();
        assert_eq!(sim.snapshot().session(&token).unwrap().passings.len(), 50);

        // The first laptop dies. The spare binds the same serial: it is told, not adopted.
        let spare = Console::new(&sim);
        let refused =
            spare.output(&["device", "bind", "--serial", "DRILL-1", "--model", "drill"]).await;
        assert!(!refused.status.success(), "binding a device in use must ask first");
        let said = String::from_utf8_lossy(&refused.stderr);
        assert!(said.contains("in use by another console"), "{said}");
        assert!(said.contains(&token) && said.contains("50 passings"), "{said}");

        spare
            .ok(&["device", "bind", "--serial", "DRILL-1", "--model", "drill", "--take-over"])
            .await;
        record(&spare, &mut next, 10).await;

        let session = sim.snapshot().session(&token).unwrap().clone();
        assert_eq!(
            session.passings.len(),
            60,
            "the spare's 10 passings landed in the same session"
        );
        let mut nums: Vec<u64> = session.passings.iter().map(|p| p.num_passing).collect();
        nums.sort_unstable();
        assert_eq!(nums, (1..=60).collect::<Vec<_>>(), "numbered 51–60 after the cloud's 50");
        assert_eq!(session.duplicates_received, 0, "nothing was dropped as a duplicate");
        let local = spare.local_passings().await;
        assert_eq!(local.len(), 10);
        assert!(local.iter().all(|p| p.num_passing > 50));
    })
    .await
    .unwrap();
}

/// A session create whose answer was lost is adopted only when it is provably ours: another
/// console's active session (created before our attempt, another alias) is never taken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_consoles_session_is_never_adopted_as_our_lost_create() {
    tokio::time::timeout(DRILL_LIMIT, async {
        let sim = Sim::start(SimConfig { dedup: true, ..SimConfig::default() }).await.unwrap();
        // Both consoles know the device before anyone opened a session on it.
        let spare = Console::new(&sim);
        spare.ok(&["device", "bind", "--serial", "DRILL-1", "--model", "drill"]).await;
        let first = Console::new(&sim);
        first.ready().await;
        let mut next = 0;
        record(&first, &mut next, 5).await;
        let theirs = first.tokens().await.into_values().next().unwrap();

        // The spare's create is lost on the way (no answer, nothing created).
        sim.push_fault("reset-before,n=1@POST /sessions".parse().unwrap());
        spare.ok(&["session", "open", "--alias", "spare"]).await;
        record(&spare, &mut next, 5).await;
        let tokens = spare.tokens().await;
        let mine = tokens.values().next().expect("the spare's session reached RUFUS");
        assert_ne!(*mine, theirs, "the other console's session was adopted as ours");
        let snapshot = sim.snapshot();
        assert_eq!(snapshot.session(mine).unwrap().passings.len(), 5);
        let theirs = snapshot.session(&theirs).unwrap();
        assert_eq!(theirs.passings.len(), 5, "the other console's session holds only its own");
        assert_eq!(theirs.duplicates_received, 0);
    })
    .await
    .unwrap();
}

/// The first laptop was not dead after all: both consoles record into the one session. The
/// cloud (de-duplicating) drops the first laptop's colliding numbers and says so in
/// `inserted_count`; the console asks what the cloud holds under those numbers, finds other
/// passings, and renumbers its own after the cloud's highest — nothing is lost or doubled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn colliding_numbers_are_found_and_renumbered() {
    tokio::time::timeout(DRILL_LIMIT, async {
        let sim = Sim::start(SimConfig { dedup: true, ..SimConfig::default() }).await.unwrap();
        let first = Console::new(&sim);
        first.ready().await;
        let mut next = 0;
        record(&first, &mut next, 5).await;
        let token = first.tokens().await.into_values().next().unwrap();

        let spare = Console::new(&sim);
        spare
            .ok(&["device", "bind", "--serial", "DRILL-1", "--model", "drill", "--take-over"])
            .await;
        record(&spare, &mut next, 5).await; // numbers 6–10
        record(&first, &mut next, 5).await; // the first laptop also numbers 6–10

        let session = sim.snapshot().session(&token).unwrap().clone();
        let mut nums: Vec<u64> = session.passings.iter().map(|p| p.num_passing).collect();
        nums.sort_unstable();
        assert_eq!(nums, (1..=15).collect::<Vec<_>>(), "every passing landed, no number reused");
        let mut chips: Vec<String> =
            session.passings.iter().filter_map(|p| p.chip.clone()).collect();
        chips.sort();
        chips.dedup();
        assert_eq!(chips.len(), 15, "15 different passings");
        // Whether a passing of the first laptop was numbered 6–10 and then renumbered, or
        // numbered after the cloud's 10 from the start, depends on when its sync looked: either
        // way none of its live passings holds one of the spare's numbers.
        let local = first.local_passings().await;
        assert!(
            local
                .iter()
                .filter(|p| p.sync_state != SyncState::Moved)
                .all(|p| !(6..=10).contains(&p.num_passing)),
            "the first laptop kept a number the spare used"
        );
    })
    .await
    .unwrap();
}
