//! The engine end to end on real parts: a SQLite file in a temp dir, the simulated finish and
//! line sources, and `rufus-cloud-sim` over real HTTP (de-duplication off, so that any double
//! send would show).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests stop loudly

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rufus_cloud_sim::{FaultKind, FaultRule, Sim, SimConfig};
use timing_core::clock::{Clock, ManualClock, SystemClock, parse_utc, to_millis};
use timing_core::corrections::Change;
use timing_core::domain::{SessionState, SyncState};
use timing_core::sync::SyncConfig;
use timing_core::{BindRequest, CoreError, Engine, EngineConfig};
use timing_readers::transport::sim::SimFinish;
use timing_readers::{Link, Protocol, ReaderConfig, ReaderSupervisor, StampedRead, TagRead};

const LIMIT: Duration = Duration::from_secs(60);

async fn sim() -> Sim {
    Sim::start(SimConfig { dedup: false, ..SimConfig::default() }).await.unwrap()
}

fn config(dir: &tempfile::TempDir, sim: Option<&Sim>) -> EngineConfig {
    let mut c = EngineConfig::new(dir.path());
    if let Some(sim) = sim {
        c.api_url = Some(sim.base_url());
        c.api_key = Some(rufus_api::ApiKey::new(sim.admin_key()));
    }
    c.sync = SyncConfig {
        base_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(200),
        ..SyncConfig::default()
    };
    c
}

fn bind_request(serial: &str) -> BindRequest {
    BindRequest {
        serial_number: serial.into(),
        model: "RUFUS Timing Console".into(),
        device_type: "custom".into(),
        alias: Some("Finish".into()),
        firmware: Some("0.1.0".into()),
        take_over: false,
    }
}

async fn bound_engine(dir: &tempfile::TempDir, sim: &Sim) -> Engine {
    let engine = Engine::open(config(dir, Some(sim)), SystemClock::shared()).await.unwrap();
    engine.bind_device(bind_request("CONSOLE-1")).await.unwrap();
    engine
}

/// Every num_passing the cloud received for the engine's session, in arrival order.
fn received(sim: &Sim, token: &str) -> Vec<u64> {
    sim.snapshot().session(token).map(|s| s.received.clone()).unwrap_or_default()
}

fn assert_exactly_once(got: &[u64], expected: u64) {
    let set: HashSet<u64> = got.iter().copied().collect();
    assert_eq!(set.len(), got.len(), "a passing reached the cloud twice: {got:?}");
    assert_eq!(set, (1..=expected).collect(), "the cloud is missing passings");
}

async fn token(engine: &Engine) -> String {
    engine.session(None).await.unwrap().token_session.expect("the session has a cloud token")
}

/// Runs a simulated finish through a reader's supervisor into `capture`, to its end.
async fn run_finish(
    capture: &timing_core::capture::Capture,
    finish: SimFinish,
    clock: timing_core::clock::SharedClock,
) {
    let config = ReaderConfig::new(Protocol::Lines, Link::Sim(finish));
    let reader = ReaderSupervisor::spawn(config, clock, capture.sink().sender());
    while !reader.has_ended() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The next commit announced on the engine's change bus.
async fn next_commit(
    changes: &mut tokio::sync::broadcast::Receiver<timing_core::changes::Change>,
) -> Arc<timing_core::capture::CommitBatch> {
    loop {
        if let timing_core::changes::Change::Committed(batch) = changes.recv().await.unwrap() {
            return batch;
        }
    }
}

#[tokio::test]
async fn a_simulated_finish_is_captured_deduplicated_and_synced_exactly_once() {
    tokio::time::timeout(LIMIT, async {
        let (dir, sim) = (tempfile::tempdir().unwrap(), sim().await);
        let engine = bound_engine(&dir, &sim).await;
        engine.open_session(Some("10K")).await.unwrap();
        let capture = engine.start_capture().await.unwrap();
        let mut batches = engine.changes().subscribe();

        let finish = SimFinish { runners: 300, rate: 0.0, unknown: 0.05, seed: 9 };
        let reads = finish.script().len() as u64;
        run_finish(&capture, finish, engine.clock().clone()).await;
        let stats = capture.stats();
        capture.shutdown().await;

        let stats = stats.borrow().clone();
        assert_eq!(stats.raw_reads, reads, "every read stored");
        assert_eq!(stats.passings, 300, "one passing per runner (all reads inside 5 s)");
        assert_eq!(stats.duplicates, reads - 300, "the other reads are flagged, not dropped");
        let first = next_commit(&mut batches).await;
        assert!(!first.passings.is_empty(), "subscribers receive committed passings");

        let round = engine.sync().sync_once().await.unwrap();
        assert_eq!(round.confirmed, 300);
        assert_exactly_once(&received(&sim, &token(&engine).await), 300);
        let stored = &sim.snapshot().session(&token(&engine).await).unwrap().passings.clone();
        assert!(stored.iter().all(|p| p.chip.is_some()), "the chip is always sent");
        assert!(stored.iter().filter(|p| p.bib.len() <= 3).count() >= 270, "FREE tags give bibs");
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn binding_reuses_the_accounts_device_with_the_same_serial() {
    tokio::time::timeout(LIMIT, async {
        let sim = sim().await;
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let first = bound_engine(&a, &sim).await.current_device().await.unwrap();
        let second = bound_engine(&b, &sim).await.current_device().await.unwrap();
        assert_eq!(first.deviceid, second.deviceid);
        assert_eq!(sim.snapshot().devices.len(), 1);

        let engine = bound_engine(&a, &sim).await;
        let err = engine.unbind_device(&first.deviceid, false).await.unwrap_err();
        assert!(
            matches!(err, CoreError::ConfirmationRequired(ref m) if m.contains("deletes")),
            "{err}"
        );
        engine.unbind_device(&first.deviceid, true).await.unwrap();
        assert!(sim.snapshot().devices.is_empty());
        assert!(matches!(engine.current_device().await, Err(CoreError::NoDevice)));
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn manual_entry_in_three_modes_with_undo() {
    tokio::time::timeout(LIMIT, async {
        let (dir, sim) = (tempfile::tempdir().unwrap(), sim().await);
        let engine = bound_engine(&dir, &sim).await;
        engine.open_session(None).await.unwrap();
        let now = to_millis(engine.clock().now()); // the store keeps milliseconds
        let manual = engine.manual().await.unwrap();

        // Mode 1: bib then Enter; several bibs at one time.
        let e = manual.mark("7, 12", now, now).await.unwrap();
        assert_eq!(e.passings.iter().map(|p| p.num_passing).collect::<Vec<_>>(), vec![1, 2]);
        let e = manual.mark("7", now, now).await.unwrap();
        assert!(matches!(
            &e.warnings[..],
            [timing_core::manual::Warning::RepeatedBib { earlier_num: 1, .. }]
        ));
        assert!(manual.mark("7x!", now, now).await.is_err(), "an invalid bib is refused");

        // Mode 2: stamps first, bibs to the oldest stamp.
        let t1 = now + chrono::Duration::seconds(1);
        let t2 = now + chrono::Duration::seconds(2);
        manual.stamp(t1, now).await.unwrap();
        manual.stamp(t2, now).await.unwrap();
        let e = manual.assign("21", now).await.unwrap();
        assert_eq!((e.passings[0].bib.as_deref(), e.passings[0].timestamp), (Some("21"), t1));
        let e = manual.assign("22", now).await.unwrap();
        assert_eq!((e.passings[0].bib.as_deref(), e.passings[0].timestamp), (Some("22"), t2));
        assert!(manual.assign("23", now).await.is_err(), "no stamp waits");

        // Mode 3: typed ahead, stamped in order.
        let e = manual.queue("31 32", now).await.unwrap();
        assert_eq!(e.queued, vec!["31", "32"]);
        let e = manual.stamp_queued(t2, now).await.unwrap();
        assert_eq!(e.passings[0].bib.as_deref(), Some("31"));
        assert_eq!(e.queued, vec!["32"]);

        // Undo: the queued stamp is voided and 31 goes back to the queue.
        let e = manual.undo(now).await.unwrap();
        assert_eq!(e.queued, vec!["31", "32"]);
        let feed = engine.feed(None, None, 100).await.unwrap();
        let voided: Vec<_> = feed.iter().filter(|f| f.void).map(|f| f.bib.clone()).collect();
        assert_eq!(voided, vec![Some("31".to_owned())]);

        engine.sync().sync_once().await.unwrap();
        let tok = token(&engine).await;
        // 7, 12, 7, two stamps, 31 (voided in place, sent with status "void").
        assert_exactly_once(&received(&sim, &tok), 6);
        let stored = sim.snapshot().session(&tok).unwrap().passings.clone();
        assert_eq!(stored[5].status.as_deref(), Some("void"));
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn corrections_are_in_place_while_pending_and_new_passings_once_sent() {
    tokio::time::timeout(LIMIT, async {
        let (dir, sim) = (tempfile::tempdir().unwrap(), sim().await);
        let engine = bound_engine(&dir, &sim).await;
        engine.open_session(None).await.unwrap();
        let now = engine.clock().now();
        engine.manual().await.unwrap().mark("5 6", now, now).await.unwrap();

        let done = engine
            .correct(None, 1, Change::SetBib(Some("55".into())), Some("misread".into()))
            .await
            .unwrap();
        assert!(done.carrier.is_none(), "pending: corrected in place");
        engine.sync().sync_once().await.unwrap();
        let tok = token(&engine).await;
        let stored = sim.snapshot().session(&tok).unwrap().passings.clone();
        assert_eq!(stored[0].bib, "55");

        let done =
            engine.correct(None, 2, Change::Void, Some("double entry".into())).await.unwrap();
        let carrier = done.carrier.expect("sent: the correction travels as a new passing");
        assert_eq!(carrier.status.as_deref(), Some("void #2"));
        assert_eq!(carrier.num_passing, 3);
        let later = parse_utc("2026-05-03T10:00:00.000Z").unwrap();
        let done = engine.correct(None, 1, Change::SetTime(later), None).await.unwrap();
        assert_eq!(done.carrier.unwrap().status.as_deref(), Some("correction of #1"));
        // The void of #2 has not left yet: restoring brings that carrier up to date instead of
        // adding another, so the cloud gets one carrier with the final values.
        let done = engine.correct(None, 2, Change::Restore, None).await.unwrap();
        let carrier = done.carrier.unwrap();
        assert_eq!((carrier.num_passing, carrier.status.as_deref()), (3, Some("restore #2")));
        engine.sync().sync_once().await.unwrap();
        assert_exactly_once(&received(&sim, &tok), 4);

        let feed = engine.feed(None, None, 10).await.unwrap();
        assert_eq!(feed.len(), 2, "carriers fold into the passing they correct");
        let one = feed.iter().find(|f| f.num_passing == 1).unwrap();
        assert_eq!((one.bib.as_deref(), one.timestamp, one.corrected), (Some("55"), later, true));
        assert!(!feed.iter().find(|f| f.num_passing == 2).unwrap().void, "restored");
        let audit = engine.audit(one.id).await.unwrap();
        assert_eq!(audit.len(), 2);
        assert_eq!(audit[0].reason.as_deref(), Some("misread"));
        assert_eq!(audit[0].old_value.as_deref(), Some("5"));
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_reset_after_commit_is_reconciled_not_resent() {
    tokio::time::timeout(LIMIT, async {
        let (dir, sim) = (tempfile::tempdir().unwrap(), sim().await);
        let engine = bound_engine(&dir, &sim).await;
        engine.open_session(None).await.unwrap();
        let now = engine.clock().now();
        engine.manual().await.unwrap().mark("1 2 3", now, now).await.unwrap();
        engine.sync().sync_once().await.unwrap(); // creates the session in the cloud, sends 3
        engine.manual().await.unwrap().mark("4 5 6 7", now, now).await.unwrap();

        sim.push_fault(FaultRule {
            times: Some(1),
            ..FaultRule::always(FaultKind::ResetAfterCommit, Some("POST /passings"))
        });
        let err = engine.sync().sync_once().await.unwrap_err();
        assert!(
            err.to_string().contains("may have been applied")
                || err.to_string().contains("no answer"),
            "{err}"
        );
        let round = engine.sync().sync_once().await.unwrap();
        assert_eq!(round.confirmed, 4, "found in the cloud by reconciliation");
        assert_exactly_once(&received(&sim, &token(&engine).await), 7);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn capture_and_manual_entry_work_offline_and_sync_when_the_cloud_returns() {
    tokio::time::timeout(LIMIT, async {
        let (dir, sim) = (tempfile::tempdir().unwrap(), sim().await);
        bound_engine(&dir, &sim).await; // bound earlier, with network
        sim.pause().await;
        let engine = bound_engine_offline(&dir, &sim).await;
        let session = engine.open_session(Some("offline")).await.unwrap();
        assert_eq!(session.state, SessionState::Opening);
        let now = engine.clock().now();
        engine.manual().await.unwrap().mark("1 2", now, now).await.unwrap();
        assert!(engine.sync().sync_once().await.is_err(), "nothing reachable");
        sim.resume().await.unwrap();
        engine.sync().sync_once().await.unwrap();
        assert_eq!(engine.session(None).await.unwrap().state, SessionState::Active);
        assert_exactly_once(&received(&sim, &token(&engine).await), 2);
    })
    .await
    .unwrap();
}

async fn bound_engine_offline(dir: &tempfile::TempDir, sim: &Sim) -> Engine {
    Engine::open(config(dir, Some(sim)), SystemClock::shared()).await.unwrap()
}

#[tokio::test]
async fn closing_drains_the_outbox_then_closes_in_the_cloud() {
    tokio::time::timeout(LIMIT, async {
        let (dir, sim) = (tempfile::tempdir().unwrap(), sim().await);
        let engine = bound_engine(&dir, &sim).await;
        engine.open_session(None).await.unwrap();
        let now = engine.clock().now();
        engine.manual().await.unwrap().mark("1 2 3", now, now).await.unwrap();
        let closing = engine.close_session().await.unwrap();
        assert_eq!(closing.state, SessionState::Closing);
        assert!(engine.manual().await.is_err(), "a closing session takes no passings");
        engine.sync().sync_once().await.unwrap();
        let closed = engine.store().session(closing.id).await.unwrap().unwrap();
        assert_eq!(closed.state, SessionState::Closed);
        let tok = closed.token_session.unwrap();
        assert_exactly_once(&received(&sim, &tok), 3);
        assert!(!sim.snapshot().session(&tok).unwrap().active);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_session_closed_from_elsewhere_has_its_pending_passings_rehomed() {
    tokio::time::timeout(LIMIT, async {
        let (dir, sim) = (tempfile::tempdir().unwrap(), sim().await);
        let engine = bound_engine(&dir, &sim).await;
        let first = engine.open_session(Some("A")).await.unwrap();
        let now = engine.clock().now();
        engine.manual().await.unwrap().mark("1 2", now, now).await.unwrap();
        engine.sync().sync_once().await.unwrap();
        let old_token = token(&engine).await;
        engine.manual().await.unwrap().mark("3 4 5", now, now).await.unwrap();
        assert!(sim.close_session_elsewhere(&old_token));

        assert!(engine.sync().sync_once().await.is_err());
        let old = engine.store().session(first.id).await.unwrap().unwrap();
        assert_eq!(old.state, SessionState::ClosedRemotely);
        assert!(engine.sync().status().borrow().closed_remotely.contains(&first.id));

        engine.open_session(Some("A (continued)")).await.unwrap();
        assert_eq!(engine.rehome_pending(first.id).await.unwrap(), 3);
        engine.sync().sync_once().await.unwrap();
        let new_token = token(&engine).await;
        assert_exactly_once(&received(&sim, &old_token), 2);
        assert_exactly_once(&received(&sim, &new_token), 3);
        let moved = engine.store().passings(first.id, 3, 10).await.unwrap();
        assert!(moved.iter().all(|p| p.sync_state == SyncState::Moved));
        let audit = engine.audit(moved[0].id).await.unwrap();
        assert_eq!(audit[0].new_value.as_deref(), Some(&*format!("session {} #1", first.id.0 + 1)));
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_wrong_key_stops_sync_with_a_clear_message_and_loses_nothing() {
    tokio::time::timeout(LIMIT, async {
        let (dir, sim) = (tempfile::tempdir().unwrap(), sim().await);
        bound_engine(&dir, &sim).await;
        let mut c = config(&dir, Some(&sim));
        c.api_key = Some(rufus_api::ApiKey::new("ror-00000000000000000000"));
        let engine = Engine::open(c, SystemClock::shared()).await.unwrap();
        engine.open_session(None).await.unwrap();
        let now = engine.clock().now();
        engine.manual().await.unwrap().mark("1", now, now).await.unwrap();
        let err = engine.sync().sync_once().await.unwrap_err();
        assert!(err.to_string().contains("key"), "{err}");
        assert!(engine.sync().status().borrow().stopped.is_some());
        assert_eq!(engine.store().outbox_counts(None).await.unwrap().pending, 1, "kept locally");
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn reads_stamp_the_injected_clock_and_survive_a_restart_without_renumbering() {
    tokio::time::timeout(LIMIT, async {
        let (dir, sim) = (tempfile::tempdir().unwrap(), sim().await);
        let start: DateTime<Utc> = parse_utc("2026-05-03T09:00:00.000Z").unwrap();
        let clock = ManualClock::new(start);
        let engine = Engine::open(config(&dir, Some(&sim)), clock.clone()).await.unwrap();
        engine.bind_device(bind_request("CONSOLE-2")).await.unwrap();
        engine.open_session(None).await.unwrap();
        let capture = engine.start_capture().await.unwrap();
        let read = |chip: &str| {
            StampedRead::live("test", Protocol::Lines, TagRead::of_chip(chip), clock.now())
        };
        capture.sink().send(read("101")).await.unwrap();
        capture.shutdown().await;
        drop(engine);

        // Restart: same file, 2 s later the same chip is still a duplicate, then a new one.
        clock.advance(Duration::from_secs(2));
        let engine = Engine::open(config(&dir, Some(&sim)), clock.clone()).await.unwrap();
        let capture = engine.start_capture().await.unwrap();
        capture.sink().send(read("101")).await.unwrap();
        capture.sink().send(read("102")).await.unwrap();
        let stats = capture.stats();
        capture.shutdown().await;
        assert_eq!(stats.borrow().duplicates, 1, "the window survived the restart");
        let feed = engine.feed(None, None, 10).await.unwrap();
        let nums: Vec<_> = feed.iter().map(|f| (f.num_passing, f.bib.clone().unwrap())).collect();
        assert_eq!(nums, vec![(2, "102".to_owned()), (1, "101".to_owned())]);
        assert_eq!(feed[1].timestamp, start);
        let _ = Arc::clone(engine.chips());
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn the_live_feed_coalesces_commits_and_reports_corrections_and_sends() {
    tokio::time::timeout(LIMIT, async {
        let (dir, sim) = (tempfile::tempdir().unwrap(), sim().await);
        let engine = bound_engine(&dir, &sim).await;
        engine.open_session(None).await.unwrap();
        let capture = engine.start_capture().await.unwrap();
        let feed = timing_core::feed::LiveFeed::start(engine.clone(), Duration::from_millis(16));
        let mut updates = feed.subscribe();
        let finish = SimFinish { runners: 50, rate: 0.0, unknown: 0.0, seed: 1 };
        run_finish(&capture, finish, engine.clock().clone()).await;

        // Every passing arrives, in few coalesced updates.
        let (mut seen, mut messages) = (0, 0);
        while seen < 50 {
            let u = updates.recv().await.unwrap();
            seen += u.entries.len();
            messages += 1;
        }
        assert!(messages < 50, "coalesced, not one message per passing: {messages}");

        // A manual entry and the cloud's acknowledgement come back as entries: the engine
        // announces them, nobody tells the feed.
        let now = engine.clock().now();
        let entry = engine.manual().await.unwrap().mark("77", now, now).await.unwrap();
        let id = entry.passings[0].id;
        let changed = loop {
            let u = updates.recv().await.unwrap();
            if let Some(e) = u.entries.iter().find(|e| e.id == id) {
                break e.clone();
            }
        };
        assert_eq!(changed.bib.as_deref(), Some("77"));
        engine.sync().sync_once().await.unwrap();
        let sent = loop {
            let u = updates.recv().await.unwrap();
            if let Some(e) = u.entries.iter().find(|e| e.id == id) {
                break e.clone();
            }
        };
        assert_eq!(sent.sync_state, SyncState::Sent, "the row turns sent without a reload");
        capture.shutdown().await;
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn first_run_without_a_key_records_locally_and_syncs_after_binding() {
    tokio::time::timeout(LIMIT, async {
        let (dir, sim) = (tempfile::tempdir().unwrap(), sim().await);
        // No key: no device can be bound, but the race can start.
        let offline = Engine::open(config(&dir, None), SystemClock::shared()).await.unwrap();
        let session = offline.open_session(Some("first run")).await.unwrap();
        let now = offline.clock().now();
        offline.manual().await.unwrap().mark("5,6,7", now, now).await.unwrap();
        let err = offline.sync().sync_once().await.unwrap_err();
        assert!(err.to_string().contains("no RUFUS API key"), "{err}");
        drop(offline);

        // The key arrives; binding adopts what was recorded, and it syncs.
        let engine = bound_engine(&dir, &sim).await;
        let adopted = engine.session(Some(session.id)).await.unwrap();
        assert_eq!(adopted.deviceid, engine.current_device().await.unwrap().deviceid);
        engine.sync().sync_once().await.unwrap();
        assert_exactly_once(&received(&sim, &token(&engine).await), 3);
    })
    .await
    .unwrap();
}

/// A restart resumes a reader after the last read held *in order*: a live read that overtook an
/// unfinished replay (IPICO Elite; its keys carry no number to see the hole by) is not one.
#[tokio::test]
async fn the_resume_point_skips_reads_that_overtook_a_replay() {
    tokio::time::timeout(LIMIT, async {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(config(&dir, None), SystemClock::shared()).await.unwrap();
        let now = engine.clock().now();
        let read = |key: &str, in_order: bool| timing_core::store::ReadToCommit {
            read: timing_core::domain::RawRead {
                source: "ipico".into(),
                protocol: "ipico".into(),
                chip: "058001a2b3c4".into(),
                bib: None,
                antenna: None,
                rssi: None,
                reader_time: Some(now),
                host_time: now,
                clock_offset_ms: None,
                raw: key.as_bytes().to_vec(),
                replay_key: Some(key.into()),
                repeated: false,
                in_order,
                marks: Default::default(),
                rssi_raw: None,
            },
            session_id: None,
            duplicate: false,
            bib: None,
            gun_waves: Vec::new(),
        };
        let held = "ipico:01:058001a2b3c4:20250614T093015.000:raw";
        let overtook = "ipico:01:058001a2b3c5:20250614T093020.000:raw";
        engine.store().commit_reads(&[read(held, true), read(overtook, false)], now).await.unwrap();
        let point = engine.store().last_replay_point("ipico").await.unwrap().unwrap();
        assert_eq!(point.0, held, "resume before the replay's hole, not after the live read");
    })
    .await
    .unwrap();
}

/// The committer builds the stored row from what the supervisor delivered, once: the decoder's
/// markers and a vendor-scale RSSI reach the store and the raw export.
#[tokio::test]
async fn what_the_decoder_knew_is_stored_with_the_read() {
    tokio::time::timeout(LIMIT, async {
        let (dir, sim) = (tempfile::tempdir().unwrap(), sim().await);
        let engine = bound_engine(&dir, &sim).await;
        let session = engine.open_session(None).await.unwrap();
        let capture = engine.start_capture().await.unwrap();
        let mut gun = TagRead::of_chip("0");
        gun.flags.gun = true;
        gun.flags.from_memory = true;
        gun.rssi = Some(timing_readers::Rssi::Raw(187));
        let now = engine.clock().now();
        capture.sink().send(StampedRead::live("start", Protocol::Ultra, gun, now)).await.unwrap();
        capture.shutdown().await;
        let mut csv = Vec::new();
        timing_core::export::raw_csv(engine.store(), session.id, &mut csv).await.unwrap();
        let mut reader = csv::Reader::from_reader(csv.as_slice());
        let header = reader.headers().unwrap().clone();
        let row = reader.records().next().unwrap().unwrap();
        let field = |name: &str| row.get(header.iter().position(|h| h == name).unwrap()).unwrap();
        assert_eq!(field("flags"), "gun,from_memory", "{row:?}");
        assert_eq!(field("rssi_raw"), "187");
        assert_eq!(field("rssi"), "", "no dBm for a vendor scale");
    })
    .await
    .expect("bounded in time");
}

/// A reader's start impulse (an Ultra's gun input) starts the race: it makes no passing (no
/// time waits for a bib because of it), the start is at the reader's time of the impulse, and
/// a second impulse once every wave started is kept as a raw read only.
#[tokio::test]
async fn a_readers_start_impulse_starts_the_race_and_makes_no_passing() {
    tokio::time::timeout(LIMIT, async {
        let (dir, sim) = (tempfile::tempdir().unwrap(), sim().await);
        let engine = bound_engine(&dir, &sim).await;
        engine.open_session(None).await.unwrap();
        let capture = engine.start_capture().await.unwrap();
        let mut batches = engine.changes().subscribe();
        let gun_at = parse_utc("2026-05-03T09:00:00.120Z").unwrap();
        let impulse = || {
            let mut read = TagRead::of_chip("0");
            read.flags.gun = true;
            StampedRead {
                reader_time_utc: Some(gun_at),
                ..StampedRead::live("finish-ultra", Protocol::Ultra, read, gun_at)
            }
        };
        capture.sink().send(impulse()).await.unwrap();
        let batch = next_commit(&mut batches).await;
        assert!(batch.passings.is_empty(), "a gun is no runner");
        assert_eq!(batch.starts.len(), 1);
        capture.sink().send(impulse()).await.unwrap();
        let again = next_commit(&mut batches).await;
        assert!(again.starts.is_empty() && again.passings.is_empty());
        capture.shutdown().await;

        let log = engine.starts(None).await.unwrap();
        assert_eq!(log.len(), 1, "{log:?}");
        assert_eq!((log[0].kind, log[0].at), (timing_core::starts::StartKind::Gun, gun_at));
        assert_eq!(log[0].source.as_deref(), Some("finish-ultra"));
        assert_eq!(log[0].wave, "", "a race without waves: the one start");
        assert!(engine.feed(None, None, 10).await.unwrap().is_empty());
    })
    .await
    .expect("bounded in time");
}

/// An IPICO reader's trigger button (a real `2c` event) starts the race at the reader's time
/// of the press, read in its zone; the tag read after it is a passing with its race time.
#[tokio::test]
async fn an_ipico_trigger_button_starts_the_race() {
    tokio::time::timeout(LIMIT, async {
        let (dir, sim) = (tempfile::tempdir().unwrap(), sim().await);
        let engine = bound_engine(&dir, &sim).await;
        engine.open_session(None).await.unwrap();
        let capture = engine.start_capture().await.unwrap();
        // The trigger at 2026-03-06 20:04:15.270 reader time, then a tag read (readers.md §1).
        let file = dir.path().join("ipico.txt");
        std::fs::write(
            &file,
            b"ab000a2c260306052004151b2782ae\r\naa01058001a2b3c402012506140930152d0b\r\n",
        )
        .unwrap();
        let mut changes = engine.changes().subscribe();
        let mut config = ReaderConfig::new(
            Protocol::Ipico,
            Link::File { path: file.to_string_lossy().into_owned() },
        );
        config.reader_zone = Some(timing_readers::ReaderZone::utc());
        let reader =
            ReaderSupervisor::spawn(config, engine.clock().clone(), capture.sink().sender());
        while !reader.has_ended() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let mut starts = Vec::new();
        while starts.is_empty() {
            starts = next_commit(&mut changes).await.starts.clone();
        }
        capture.shutdown().await;
        let log = engine.starts(None).await.unwrap();
        assert_eq!(log.len(), 1, "{log:?}");
        assert_eq!(log[0].kind, timing_core::starts::StartKind::Gun);
        assert_eq!(
            log[0].at,
            parse_utc("2026-03-06T20:04:15.270Z").unwrap(),
            "the reader's time of the press"
        );
        let feed = engine.feed(None, None, 10).await.unwrap();
        assert_eq!(feed.len(), 1, "the trigger is no runner: {feed:?}");
    })
    .await
    .expect("bounded in time");
}
