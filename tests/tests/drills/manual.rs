//! Volunteers at the keyboard: an undo after the stamp was already sent, stamps pressed faster
//! than the engine answers, a pasted line of hundreds of bibs, a participants list saved by an
//! old spreadsheet.

use std::sync::Arc;
use std::time::Duration;

use timing_core::clock::SystemClock;
use timing_core::domain::SyncState;
use timing_core::store::Store;
use timing_core::{Engine, EngineConfig};

use crate::support::{Console, DRILL_LIMIT, cloud_passings, strict_sim};

/// `stamp`, `stamp`, `assign 12`, sync, `undo`, `assign 21`: 21 goes to the first stamp again,
/// the second still waits, and the cloud gets one correction of #1 with bib 21.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undo_after_send_gives_the_next_bib_to_the_same_stamp() {
    tokio::time::timeout(DRILL_LIMIT, async {
        let sim = strict_sim().await;
        let console = Console::new(&sim);
        console.ready().await;
        console.ok(&["stamp"]).await;
        console.ok(&["stamp"]).await;
        console.ok(&["assign", "12"]).await;
        console.drain().await;
        console.ok(&["undo"]).await;
        console.ok(&["assign", "21"]).await;
        console.drain().await;

        let local = console.local_passings().await;
        let store = Store::open_in(console.dir.path()).await.unwrap();
        let session = store.sessions(None).await.unwrap().remove(0);
        let feed = timing_core::corrections::feed(
            &store,
            session.id,
            None,
            100,
            &timing_core::participants::ChipMap::default(),
        )
        .await
        .unwrap();
        store.close().await;
        let bib_of = |num: i64| feed.iter().find(|f| f.num_passing == num).unwrap().bib.clone();
        assert_eq!(bib_of(1), Some("21".into()), "the undone stamp got the next bib");
        assert_eq!(bib_of(2), None, "the second stamp still waits");

        let cloud = cloud_passings(&console, &sim).await;
        let statuses: Vec<(u64, &str, Option<&str>)> =
            cloud.iter().map(|p| (p.num_passing, p.bib.as_str(), p.status.as_deref())).collect();
        assert_eq!(
            statuses,
            vec![(1, "12", None), (3, "21", Some("correction of #1"))],
            "one correction passing with the right bib"
        );
        assert!(local.iter().any(|p| p.num_passing == 2 && p.sync_state == SyncState::Pending));
    })
    .await
    .unwrap();
}

/// More than 50 bibs in one entry (a paste gone wrong) asks first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pasted_line_of_bibs_asks_before_it_makes_passings() {
    tokio::time::timeout(DRILL_LIMIT, async {
        let sim = strict_sim().await;
        let console = Console::new(&sim);
        console.ready().await;
        let bibs: Vec<String> = (1..=300).map(|b| b.to_string()).collect();
        let line = bibs.join(",");
        let refused = console.output(&["mark", &line]).await;
        assert!(!refused.status.success());
        let said = String::from_utf8_lossy(&refused.stderr);
        assert!(said.contains("300 bibs in one entry"), "{said}");
        assert!(console.local_passings().await.is_empty(), "nothing recorded without a yes");
        console.ok(&["mark", "7,8,9"]).await;
        console.ok(&["mark", &line, "--yes"]).await;
        assert_eq!(console.local_passings().await.len(), 303);
    })
    .await
    .unwrap();
}

/// A participants list from an old spreadsheet (Windows-1252) or saved as "Unicode text"
/// (UTF-16 with a BOM) is read with its names intact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn participants_lists_in_legacy_encodings_are_read() {
    tokio::time::timeout(DRILL_LIMIT, async {
        let sim = strict_sim().await;
        let console = Console::new(&sim);
        let text =
            "bib;chip;name\n101;E2001;Ana García\n102;E2002;Jürgen Müller\n103;E2003;Chloé Noël\n";
        let latin1: Vec<u8> = text.chars().map(|c| u8::try_from(u32::from(c)).unwrap()).collect();
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        for (name, bytes) in [("latin1.csv", latin1), ("utf16.csv", utf16)] {
            let path = console.dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            console.ok(&["import", "participants", path.to_str().unwrap()]).await;
            let store = Store::open_in(console.dir.path()).await.unwrap();
            let names: Vec<Option<String>> =
                store.chip_map().await.unwrap().into_iter().map(|p| p.name).collect();
            store.close().await;
            assert_eq!(
                names,
                vec![
                    Some("Ana García".into()),
                    Some("Jürgen Müller".into()),
                    Some("Chloé Noël".into())
                ],
                "{name}"
            );
        }
    })
    .await
    .unwrap();
}

/// Ten presses of the stamp key in 200 ms give ten stamps at the times of the presses, in order,
/// while something else holds the database for a second (a settings save, a big import).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stamps_carry_the_time_of_the_key_press() {
    tokio::time::timeout(DRILL_LIMIT, async {
        let dir = tempfile::tempdir().unwrap();
        let engine = Arc::new(
            Engine::open(EngineConfig::new(dir.path()), SystemClock::shared()).await.unwrap(),
        );
        engine.open_session(Some("keyboard")).await.unwrap();
        // Something else holds the write lock for a second.
        let mut busy = engine.store().begin_write().await.unwrap();
        sqlx::query("INSERT INTO settings(key, value) VALUES ('busy', '1')")
            .execute(&mut *busy)
            .await
            .unwrap();
        let t0 = engine.clock().now();
        let mut presses = Vec::new();
        for i in 0..10 {
            let pressed = t0 + chrono::Duration::milliseconds(20 * i);
            let engine = engine.clone();
            presses.push(tokio::spawn(async move {
                let (at, warning) = engine.key_press_time(Some(pressed));
                assert_eq!((at, warning), (pressed, None));
                let now = engine.clock().now();
                engine.manual().await.unwrap().stamp(at, now).await.unwrap()
            }));
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        busy.commit().await.unwrap();
        for p in presses {
            p.await.unwrap();
        }
        let session = engine.session(None).await.unwrap();
        let stamps = engine.store().passings(session.id, 1, 100).await.unwrap();
        let mut times: Vec<_> = stamps.iter().map(|p| p.timestamp).collect();
        assert_eq!(times.len(), 10);
        let pressed: Vec<_> = (0..10)
            .map(|i| timing_core::clock::to_millis(t0 + chrono::Duration::milliseconds(20 * i)))
            .collect();
        times.sort();
        assert_eq!(times, pressed, "each stamp carries its key press, not the commit time");

        // A press time the host clock cannot vouch for is not trusted.
        let (at, warning) = engine.key_press_time(Some(t0 - chrono::Duration::hours(1)));
        assert!(at > t0 && warning.is_some_and(|w| w.contains("too old")));
        let (_, warning) =
            engine.key_press_time(Some(engine.clock().now() + chrono::Duration::minutes(5)));
        assert!(warning.is_some_and(|w| w.contains("ahead")));
    })
    .await
    .unwrap();
}
