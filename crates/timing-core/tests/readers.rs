//! Every supported reader end to end: its emulator (pseudo-terminal for serial protocols,
//! loopback TCP for network ones) → the reader supervisor → the engine → `rufus-cloud-sim` over
//! HTTP. Every emitted read is recorded once, in the session, with the reader's own time where
//! the protocol carries one; a dropped link with reads made meanwhile loses and doubles nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests stop loudly

use std::collections::HashSet;
use std::time::Duration;

use rufus_cloud_sim::{Sim, SimConfig};
use timing_core::clock::{SystemClock, to_millis};
use timing_core::domain::SyncState;
use timing_core::station::Station;
use timing_core::sync::SyncConfig;
use timing_core::{BindRequest, Engine, EngineConfig};
use timing_readers::emulator::{EmittedRead, Emulator, EmulatorOptions};
use timing_readers::{Protocol, StampedRead, TagRead};

/// Pseudo-terminal pairs are created one at a time in this process.
static PTY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn engine(dir: &tempfile::TempDir, sim: &Sim) -> Engine {
    let mut config = EngineConfig::new(dir.path());
    config.api_url = Some(sim.base_url());
    config.api_key = Some(rufus_api::ApiKey::new(sim.admin_key()));
    config.sync = SyncConfig {
        base_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(200),
        ..SyncConfig::default()
    };
    let engine = Engine::open(config, SystemClock::shared()).await.unwrap();
    let bind = BindRequest {
        serial_number: "READERS-1".into(),
        model: "console".into(),
        device_type: "custom".into(),
        alias: None,
        firmware: None,
        take_over: false,
    };
    engine.bind_device(bind).await.unwrap();
    engine.open_session(Some("readers")).await.unwrap();
    engine
}

async fn wait_reads(station: &Station, n: u64) {
    for _ in 0..150 {
        if station.capture().stats().borrow().raw_reads >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("only {} of {n} reads arrived", station.capture().stats().borrow().raw_reads);
}

/// Waits until the supervisor is connected and the emulated reader is sending (it was told
/// to start where its protocol needs that).
async fn wait_connected(station: &Station, emulator: &Emulator) {
    for _ in 0..200 {
        let up = station
            .sources()
            .iter()
            .all(|s| matches!(s.state.as_str(), "connected" | "reading" | "quiet"));
        let stats = emulator.stats().await;
        if up && stats.connected && stats.sending {
            // The supervisor may still be talking to the reader (clock query, start).
            tokio::time::sleep(Duration::from_millis(300)).await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the reader never connected: {:?}", station.sources());
}

/// Emits reads from `protocol`'s emulator into the engine; checks the session and the cloud.
async fn end_to_end(protocol: Protocol, serial: bool) {
    let _pty = if serial { Some(PTY.lock().await) } else { None };
    tokio::time::timeout(Duration::from_secs(60), async {
        let (dir, sim) = (
            tempfile::tempdir().unwrap(),
            Sim::start(SimConfig { dedup: false, ..SimConfig::default() }).await.unwrap(),
        );
        let engine = engine(&dir, &sim).await;
        let options = EmulatorOptions::new(engine.clock().clone());
        let emulator = if serial {
            Emulator::pty(protocol, options).await.unwrap()
        } else {
            Emulator::tcp(protocol, options).await.unwrap()
        };
        let station = Station::start(engine.clone()).await.unwrap();
        station.add_reader("mat", emulator.config()).await.unwrap();
        wait_connected(&station, &emulator).await;
        let emitted = emulator.emit_many(12, Duration::from_millis(30)).await;
        assert!(emitted.iter().all(|e| e.live), "{protocol}: the reader was reading");
        wait_reads(&station, 12).await;
        let session = engine.recording_session().await.unwrap().unwrap();
        let local = engine.store().passings(session, 1, 100).await.unwrap();
        assert_eq!(local.len(), 12, "{protocol}: one passing per read: {local:#?}");

        for (e, p) in emitted.iter().zip(&local) {
            if !e.chip.is_empty() {
                assert_eq!(p.chip.as_deref(), Some(e.chip.as_str()), "{protocol}: chip");
            }
            match e.reader_time_utc {
                Some(t) => {
                    assert_eq!(p.timestamp, to_millis(t), "{protocol}: the reader's own time")
                }
                None => assert!(protocol_has_no_clock(protocol), "{protocol} should carry a time"),
            }
        }
        if emitted.iter().any(|e| e.chip.is_empty()) {
            // Photocell impulses are times waiting for bibs: assign them, as a timer would.
            let manual = engine.manual().await.unwrap();
            let bibs: Vec<String> = (1..=12).map(|i| i.to_string()).collect();
            manual.assign(&bibs.join(","), engine.clock().now()).await.unwrap();
        }
        engine.sync().sync_once().await.unwrap();
        let token = engine.session(None).await.unwrap().token_session.unwrap();
        let cloud = sim.snapshot().session(&token).unwrap().clone();
        let nums: HashSet<u64> = cloud.received.iter().copied().collect();
        assert_eq!(nums, (1..=12).collect(), "{protocol}: every passing in the cloud");
        assert_eq!(cloud.received.len(), 12, "{protocol}: once");
        station.shutdown().await;
        emulator.shutdown().await;
        sim.shutdown().await;
    })
    .await
    .unwrap();
}

fn protocol_has_no_clock(p: Protocol) -> bool {
    matches!(p, Protocol::R2000 | Protocol::Chafon | Protocol::Lines)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipico_over_tcp() {
    end_to_end(Protocol::Ipico, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ultra_over_tcp() {
    end_to_end(Protocol::Ultra, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raceresult_over_tcp() {
    end_to_end(Protocol::RaceResult, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloudbox_over_tcp() {
    end_to_end(Protocol::CloudBox, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r2000_over_a_serial_port() {
    end_to_end(Protocol::R2000, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chafon_over_a_serial_port() {
    end_to_end(Protocol::Chafon, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timy_over_a_serial_port() {
    end_to_end(Protocol::Timy, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lines_over_a_serial_port() {
    end_to_end(Protocol::Lines, true).await;
}

/// A Timy whose number is the start number (`number=bib`): each impulse is a passing of that
/// bib, with no chip and nothing left to assign.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timy_numbering_bibs_makes_passings_of_those_bibs() {
    let _pty = PTY.lock().await;
    tokio::time::timeout(Duration::from_secs(60), async {
        let (dir, sim) = (
            tempfile::tempdir().unwrap(),
            Sim::start(SimConfig { dedup: false, ..SimConfig::default() }).await.unwrap(),
        );
        let engine = engine(&dir, &sim).await;
        let emulator = Emulator::pty(Protocol::Timy, EmulatorOptions::new(engine.clock().clone()))
            .await
            .unwrap();
        let mut config = emulator.config();
        config.protocol_options.insert("number".into(), "bib".into());
        let station = Station::start(engine.clone()).await.unwrap();
        station.add_reader("finish", config).await.unwrap();
        wait_connected(&station, &emulator).await;
        let emitted = emulator.emit_many(3, Duration::from_millis(30)).await;
        wait_reads(&station, 3).await;
        let session = engine.recording_session().await.unwrap().unwrap();
        let local = engine.store().passings(session, 1, 100).await.unwrap();
        let bibs: Vec<_> = local.iter().map(|p| p.bib.as_deref()).collect();
        assert_eq!(bibs, [Some("1"), Some("2"), Some("3")], "{local:#?}");
        for (e, p) in emitted.iter().zip(&local) {
            assert_eq!(p.chip, None, "an impulse has no chip");
            assert_eq!(Some(p.timestamp), e.reader_time_utc.map(to_millis), "the Timy's time");
        }
        station.shutdown().await;
        emulator.shutdown().await;
        sim.shutdown().await;
    })
    .await
    .unwrap();
}

/// The cable is pulled while runners keep crossing; the reader keeps them in memory; after the
/// link returns, the rewind brings them, and a console restart does not bring them twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_made_while_the_link_was_down_arrive_exactly_once_even_across_a_restart() {
    tokio::time::timeout(Duration::from_secs(60), async {
        let (dir, sim) = (
            tempfile::tempdir().unwrap(),
            Sim::start(SimConfig { dedup: false, ..SimConfig::default() }).await.unwrap(),
        );
        let engine = engine(&dir, &sim).await;
        let emulator = Emulator::tcp(Protocol::Ultra, EmulatorOptions::new(engine.clock().clone()))
            .await
            .unwrap();
        let station = Station::start(engine.clone()).await.unwrap();
        station.add_reader("ultra", emulator.config()).await.unwrap();
        wait_connected(&station, &emulator).await;
        let mut emitted: Vec<EmittedRead> = emulator.emit_many(5, Duration::from_millis(20)).await;
        wait_reads(&station, 5).await;

        emulator.unplug().await;
        emitted.extend(emulator.emit_many(5, Duration::from_millis(20)).await); // into its memory
        assert!(emitted[5..].iter().all(|r| !r.live), "made while unplugged");
        emulator.replug().await.unwrap();
        wait_reads(&station, 10).await;

        // The console restarts; the reader rewinds from where the console stopped.
        station.shutdown().await;
        let station = Station::start(engine.clone()).await.unwrap();
        station.add_reader("ultra", emulator.config()).await.unwrap();
        wait_connected(&station, &emulator).await;
        emitted.extend(emulator.emit_many(3, Duration::from_millis(20)).await);
        for _ in 0..100 {
            if engine.store().outbox_counts(None).await.unwrap().pending >= 13 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await; // let any doubled read show
        let session = engine.recording_session().await.unwrap().unwrap();
        let local = engine.store().passings(session, 1, 100).await.unwrap();
        let chips: Vec<_> = local.iter().filter_map(|p| p.chip.clone()).collect();
        let expected: Vec<_> = emitted.iter().map(|e| e.chip.clone()).collect();
        assert_eq!(chips.len(), 13, "13 crossings, 13 passings: {chips:?}");
        assert_eq!(chips.iter().collect::<HashSet<_>>(), expected.iter().collect::<HashSet<_>>());
        engine.sync().sync_once().await.unwrap();
        assert!(
            engine
                .store()
                .passings(session, 1, 100)
                .await
                .unwrap()
                .iter()
                .all(|p| p.sync_state == SyncState::Sent)
        );
        station.shutdown().await;
        emulator.shutdown().await;
        sim.shutdown().await;
    })
    .await
    .unwrap();
}

/// The console stopped while a hole was being fetched: the store holds an Ultra's log ids 1–10
/// and 13 (13 arrived live, 11 and 12 were on their way). On restart the reader resumes after
/// the last id held in order (10), not after the last one stored (13): 11 and 12 arrive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_resumes_after_the_last_read_held_in_order() {
    tokio::time::timeout(Duration::from_secs(60), async {
        let (dir, sim) = (
            tempfile::tempdir().unwrap(),
            Sim::start(SimConfig { dedup: false, ..SimConfig::default() }).await.unwrap(),
        );
        let engine = engine(&dir, &sim).await;
        let emulator = Emulator::tcp(Protocol::Ultra, EmulatorOptions::new(engine.clock().clone()))
            .await
            .unwrap();
        let station = Station::start(engine.clone()).await.unwrap();
        station.add_reader("ultra", emulator.config()).await.unwrap();
        wait_connected(&station, &emulator).await;
        let mut emitted: Vec<EmittedRead> = emulator.emit_many(10, Duration::from_millis(20)).await;
        wait_reads(&station, 10).await;
        station.shutdown().await;

        // While the console is away the reader makes 11–13; 13 is stored as if it came live.
        emitted.extend(emulator.emit_many(3, Duration::from_millis(20)).await);
        let station = Station::start(engine.clone()).await.unwrap();
        let thirteen = &emitted[12];
        let read = TagRead {
            antenna: Some(1),
            raw: b"13\n".to_vec(),
            ..TagRead::of_chip(thirteen.chip.clone())
        };
        let live = StampedRead {
            reader_time_utc: thirteen.reader_time_utc,
            clock_offset_ms: Some(0),
            replay_key: thirteen.replay_key.clone(),
            // Even marked in order, the hole behind it is seen from the numbers held.
            in_order: true,
            ..StampedRead::live("ultra", Protocol::Ultra, read, engine.clock().now())
        };
        station.capture().sink().send(live).await.unwrap();
        wait_reads(&station, 1).await;
        let point = engine.store().last_replay_point("ultra").await.unwrap().unwrap();
        assert_eq!(Some(&point.0), emitted[9].replay_key.as_ref(), "the last id held in order");

        station.add_reader("ultra", emulator.config()).await.unwrap();
        wait_connected(&station, &emulator).await;
        let session = engine.recording_session().await.unwrap().unwrap();
        let mut chips = Vec::new();
        for _ in 0..100 {
            let local = engine.store().passings(session, 1, 100).await.unwrap();
            chips = local.iter().filter_map(|p| p.chip.clone()).collect::<Vec<_>>();
            if chips.len() >= 13 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await; // let any doubled read show
        let local = engine.store().passings(session, 1, 100).await.unwrap();
        let chips_now: Vec<_> = local.iter().filter_map(|p| p.chip.clone()).collect();
        assert_eq!(chips_now.len(), 13, "13 crossings, 13 passings: {chips:?}");
        let expected: HashSet<_> = emitted.iter().map(|e| e.chip.clone()).collect();
        assert_eq!(chips_now.into_iter().collect::<HashSet<_>>(), expected);
        station.shutdown().await;
        emulator.shutdown().await;
        sim.shutdown().await;
    })
    .await
    .unwrap();
}

/// One read path: a file of lines, a capture replayed through a protocol's decoder and the
/// simulated finish are supervised readers like any other. Each is read once to its end (the
/// last line needs no terminator), is shown as `ended`, and reports its ending once; a file
/// that is not there is an ending with its reason, not a reader retried for ever.
#[tokio::test]
async fn inputs_are_supervised_readers_read_once_to_their_end() {
    tokio::time::timeout(Duration::from_secs(60), async {
        let (dir, sim) =
            (tempfile::tempdir().unwrap(), Sim::start(SimConfig::default()).await.unwrap());
        let engine = engine(&dir, &sim).await;
        let lines = dir.path().join("desk.txt");
        std::fs::write(&lines, "101\r\n102\n\n103").unwrap();
        let capture = dir.path().join("ipico.bin");
        // Two IPICO tag reports (readers.md §1), as a reader sent them.
        std::fs::write(
            &capture,
            "aa01058001a2b3c402012506140930152d0b\r\naa00000000abcdef0100250614093102075e\r\n",
        )
        .unwrap();
        let station = Station::start(engine.clone()).await.unwrap();
        station.add_source("desk", &format!("lines:{}", lines.display())).await.unwrap();
        station
            .add_source("replay", &format!("file:{}?protocol=ipico", capture.display()))
            .await
            .unwrap();
        station.add_source("finish", "sim:runners=20,rate=0,unknown=0").await.unwrap();
        station.add_source("gone", "lines:/nonexistent/reads.txt").await.unwrap();
        for _ in 0..200 {
            if station.all_sources_ended() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(station.all_sources_ended(), "{:?}", station.sources());
        let mut endings = station.take_endings();
        endings.sort();
        assert_eq!(endings.len(), 4, "{endings:?}");
        assert!(endings.iter().filter(|(n, _)| n != "gone").all(|(_, r)| r.is_ok()), "{endings:?}");
        let gone = endings.iter().find(|(n, _)| n == "gone").unwrap();
        assert!(gone.1.as_ref().unwrap_err().contains("/nonexistent/reads.txt"), "{gone:?}");
        assert!(station.take_endings().is_empty(), "each ending is told once");

        let script = timing_readers::transport::sim::SimFinish {
            runners: 20,
            rate: 0.0,
            unknown: 0.0,
            seed: timing_readers::transport::sim::SimFinish::default().seed,
        }
        .script();
        wait_reads(&station, 3 + 2 + script.len() as u64).await;
        let views = station.sources();
        let state = |name: &str| views.iter().find(|v| v.name == name).unwrap().state.clone();
        assert_eq!(state("desk"), "ended");
        assert_eq!(state("finish"), "ended");
        assert_eq!(state("gone"), "lost");
        let stats = station.capture().stats().borrow().clone();
        assert_eq!(stats.sources["desk"].reads, 3, "101, 102 and the unterminated 103");
        assert_eq!(stats.sources["replay"].reads, 2);
        assert_eq!(stats.sources["finish"].reads, script.len() as u64, "every crossing once");
        station.shutdown().await;
    })
    .await
    .expect("bounded in time");
}
