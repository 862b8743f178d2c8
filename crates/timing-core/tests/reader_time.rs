//! A reader's time settings changed while a race runs, end to end with real parts: an emulated
//! reader on loopback TCP → the supervisor → the station → a SQLite file. An adjustment moves the
//! passings made after it and no others, without reconnecting; a zone change re-creates the
//! reader from its new spec and loses no read, not even those made while it reconnected. Both
//! are written to `reader_changes`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::HashSet;
use std::time::Duration;

use chrono::{FixedOffset, TimeDelta};
use timing_core::clock::{SystemClock, to_millis};
use timing_core::station::{SourceView, Station};
use timing_core::{Engine, EngineConfig};
use timing_readers::Protocol;
use timing_readers::emulator::{Emulator, EmulatorOptions};

async fn engine(dir: &tempfile::TempDir) -> Engine {
    let engine = Engine::open(EngineConfig::new(dir.path()), SystemClock::shared()).await.unwrap();
    engine.open_session(Some("reader time")).await.unwrap();
    engine
}

fn view(station: &Station, name: &str) -> SourceView {
    station.sources().into_iter().find(|s| s.name == name).unwrap()
}

async fn wait_for(station: &Station, what: &str, pred: impl Fn(&Station) -> bool) {
    for _ in 0..200 {
        if pred(station) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}: {:#?}", station.sources());
}

async fn wait_connected(station: &Station, emulator: &Emulator) {
    wait_for(station, "the reader", |st| {
        st.sources().iter().all(|s| matches!(s.state.as_str(), "connected" | "reading"))
    })
    .await;
    for _ in 0..100 {
        let stats = emulator.stats().await;
        if stats.connected && stats.sending {
            tokio::time::sleep(Duration::from_millis(300)).await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the emulator never saw the reader start");
}

async fn wait_reads(station: &Station, n: u64) {
    wait_for(station, "reads", |st| st.capture().stats().borrow().raw_reads >= n).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_adjustment_mid_race_moves_later_passings_only_and_is_audited() {
    tokio::time::timeout(Duration::from_secs(60), async {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine(&dir).await;
        let emulator = Emulator::tcp(Protocol::Ipico, EmulatorOptions::new(engine.clock().clone()))
            .await
            .unwrap();
        let station = Station::start(engine.clone()).await.unwrap();
        station.add_source("finish", &emulator.config().to_string()).await.unwrap();
        wait_connected(&station, &emulator).await;
        let before = emulator.emit_many(3, Duration::from_millis(20)).await;
        wait_reads(&station, 3).await;

        station.adjust_reader("finish", -1500).await.unwrap();
        let after = emulator.emit_many(3, Duration::from_millis(20)).await;
        wait_reads(&station, 6).await;
        tokio::time::sleep(Duration::from_millis(200)).await;

        let session = engine.recording_session().await.unwrap().unwrap();
        let passings = engine.store().passings(session, 1, 100).await.unwrap();
        assert_eq!(passings.len(), 6, "{passings:#?}");
        for (e, p) in before.iter().zip(&passings) {
            assert_eq!(p.timestamp, to_millis(e.reader_time_utc.unwrap()), "before: unchanged");
        }
        for (e, p) in after.iter().zip(&passings[3..]) {
            let shifted = e.reader_time_utc.unwrap() - TimeDelta::milliseconds(1500);
            assert_eq!(p.timestamp, to_millis(shifted), "after: 1.5 s earlier");
        }
        let v = view(&station, "finish");
        assert_eq!(v.adjust_ms, -1500);
        assert_eq!(v.connects, 1, "capture never stopped: no reconnect");
        assert!(v.spec.contains("adjust_ms=-1500"), "persisted in the spec: {}", v.spec);
        let changes = engine.store().reader_changes("finish").await.unwrap();
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].setting, "adjust_ms");
        assert_eq!(changes[0].old_value.as_deref(), Some("0"));
        assert_eq!(changes[0].new_value.as_deref(), Some("-1500"));
        assert_eq!(changes[0].operator, "console");
        assert!(station.adjust_reader("finish", 4_000_000).await.is_err(), "over an hour");
        assert!(station.adjust_reader("nobody", 10).await.is_err());

        // A restart with the stored spec keeps the adjustment.
        let spec = v.spec.clone();
        station.shutdown().await;
        let station = Station::start(engine.clone()).await.unwrap();
        station.add_source("finish", &spec).await.unwrap();
        wait_connected(&station, &emulator).await;
        assert_eq!(view(&station, "finish").adjust_ms, -1500);
        station.shutdown().await;
        emulator.shutdown().await;
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zone_change_recreates_the_reader_and_loses_no_read() {
    tokio::time::timeout(Duration::from_secs(60), async {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine(&dir).await;
        // The reader shows +02:00; its spec says UTC: two hours off, until the timer fixes it.
        let mut options = EmulatorOptions::new(engine.clock().clone());
        options.utc_offset = FixedOffset::east_opt(2 * 3600).unwrap();
        let emulator = Emulator::tcp(Protocol::Ultra, options).await.unwrap();
        let port = emulator.port().unwrap();
        let spec = format!("tcp:127.0.0.1:{port}?protocol=ultra&zone=UTC");
        let station = Station::start(engine.clone()).await.unwrap();
        station.add_source("mat", &spec).await.unwrap();
        wait_connected(&station, &emulator).await;
        let mut emitted = emulator.emit_many(5, Duration::from_millis(20)).await;
        wait_reads(&station, 5).await;
        wait_for(&station, "the hint", |st| view(st, "mat").proposed_zone.is_some()).await;
        let v = view(&station, "mat");
        assert_eq!(v.clock_zone.as_deref(), Some("UTC"));
        assert!(v.zone_settable);
        assert!(v.clock_hint.as_deref().unwrap().contains("ahead of this computer"), "{v:#?}");
        let proposed = v.proposed_zone.unwrap();

        // Reads keep coming while the zone changes (and the reader is re-created).
        let during = async {
            let mut made = Vec::new();
            for _ in 0..10 {
                made.push(emulator.emit().await);
                tokio::time::sleep(Duration::from_millis(40)).await;
            }
            made
        };
        let (changed, made) = tokio::join!(station.set_reader_zone("mat", &proposed), during);
        changed.unwrap();
        emitted.extend(made);
        emitted.extend(emulator.emit_many(3, Duration::from_millis(20)).await);
        wait_reads(&station, 18).await;
        tokio::time::sleep(Duration::from_millis(500)).await; // let any doubled read show

        let v = view(&station, "mat");
        assert_eq!(v.clock_zone.as_deref(), Some(proposed.as_str()));
        assert_eq!(v.clock_hint, None, "the clocks agree now: {v:#?}");
        let persisted = format!("zone={proposed}"); // the computer's zone, if it is +02:00 now
        assert!(v.spec.contains("utc_offset=+02:00") || v.spec.contains(&persisted), "{}", v.spec);
        let session = engine.recording_session().await.unwrap().unwrap();
        let passings = engine.store().passings(session, 1, 100).await.unwrap();
        let chips: Vec<_> = passings.iter().filter_map(|p| p.chip.clone()).collect();
        assert_eq!(chips.len(), emitted.len(), "one passing per read, none lost or doubled");
        let expected: HashSet<_> = emitted.iter().map(|e| e.chip.clone()).collect();
        assert_eq!(chips.iter().cloned().collect::<HashSet<_>>(), expected);
        // The last reads (after the change) carry their true UTC time.
        for e in &emitted[emitted.len() - 3..] {
            let p = passings.iter().find(|p| p.chip.as_deref() == Some(e.chip.as_str())).unwrap();
            assert_eq!(p.timestamp, to_millis(e.reader_time_utc.unwrap()));
        }
        let changes = engine.store().reader_changes("mat").await.unwrap();
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].setting, "zone");
        assert_eq!(changes[0].old_value.as_deref(), Some("UTC"));
        assert_eq!(changes[0].new_value.as_deref(), Some(proposed.as_str()));
        assert!(station.set_reader_zone("mat", "Mars/Olympus").await.is_err());
        station.shutdown().await;
        emulator.shutdown().await;
    })
    .await
    .unwrap();
}
