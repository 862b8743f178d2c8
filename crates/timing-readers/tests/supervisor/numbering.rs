//! Numbering runs and slow, skewed readers (issue 8): a reader that starts numbering again while
//! connected (a CloudBox's new session or file, an Ultra log after a reset, a RACE RESULT file)
//! makes new replay keys, so every read of the new run is delivered unflagged; a rewind after a
//! reconnect brings the old reads again, delivered flagged `repeated` with the keys they had —
//! never dropped; and a reader whose clock is 30 s behind, on a link that takes seconds, is
//! stamped with the time the reader made the read, not the time it arrived.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::support::{
    assert_each_once, assert_repeats_follow_their_reads, bounded, clock, collect, connected, drain,
    stop, supervise, wait_for,
};
use chrono::TimeDelta;
use timing_readers::clock::SharedClock;
use timing_readers::emulator::{Emulator, EmulatorOptions};
use timing_readers::{Protocol, ReplayKey, StampedRead};

fn options(clock: &SharedClock) -> EmulatorOptions {
    EmulatorOptions::new(clock.clone())
}

/// The number a key is built on (passing number, log id).
fn number(key: &str) -> u64 {
    match key.parse::<ReplayKey>().unwrap() {
        ReplayKey::CloudBox { passing_number, .. } => passing_number,
        ReplayKey::Ultra { log_id, .. } => log_id,
        ReplayKey::RaceResult { passing, .. } => passing,
        other => panic!("no number in {other:?}"),
    }
}

fn keys(reads: &[StampedRead]) -> BTreeSet<String> {
    reads.iter().filter_map(|r| r.replay_key.clone()).collect()
}

/// 20 reads, a numbering restart, 20 more: 40 keys, none flagged; then (Ultra, CloudBox) a
/// reconnect and a rewind bring all 40 again, each flagged repeated with its key.
async fn restart_then_rewind(protocol: Protocol, rewind_after_reconnect: bool) {
    bounded(async {
        let clock = clock();
        let emulator = Emulator::tcp(protocol, options(&clock)).await.unwrap();
        let (handle, mut reads) = supervise(emulator.config(), &clock);
        connected(&handle).await;

        let mut emitted = emulator.emit_many(20, Duration::from_millis(2)).await;
        let mut got = collect(&mut reads, 20, Duration::from_secs(5)).await;
        emulator.restart_numbering().await;
        let second = emulator.emit_many(20, Duration::from_millis(2)).await;
        emitted.extend(second.iter().cloned());
        got.extend(collect(&mut reads, 20, Duration::from_secs(5)).await);
        got.extend(drain(&mut reads, Duration::from_millis(200)).await);

        assert!(emitted.iter().all(|r| r.live), "{protocol}: the link stayed up");
        assert_each_once(&emitted, &got);
        assert!(got.iter().all(|r| !r.repeated), "{protocol}: nothing flagged repeated");
        let delivered = keys(&got);
        assert_eq!(delivered.len(), 40, "{protocol}: 40 distinct replay keys");
        let numbers = |reads: &[StampedRead]| -> BTreeSet<u64> {
            reads.iter().filter_map(|r| r.replay_key.as_deref()).map(number).collect()
        };
        assert_eq!(numbers(&got[..20]), numbers(&got[20..40]), "{protocol}: numbers were reused");
        let status = handle.status().borrow().clone();
        assert_eq!(status.counters.reads, 40);
        assert_eq!(status.counters.duplicates, 0);

        if rewind_after_reconnect {
            let connects = status.counters.connects;
            emulator.drop_link().await;
            wait_for(&handle, Duration::from_secs(5), "reconnected", |s| {
                s.counters.connects > connects && s.connected_since.is_some()
            })
            .await;
            tokio::time::sleep(Duration::from_millis(200)).await;
            let now = clock.now();
            handle.rewind(now - TimeDelta::minutes(5), now + TimeDelta::minutes(5)).await.unwrap();
            let mut again = Vec::new();
            let deadline = clock.monotonic() + Duration::from_secs(5);
            while keys(&again).len() < 40 && clock.monotonic() < deadline {
                again.extend(collect(&mut reads, 1, Duration::from_millis(200)).await);
            }
            again.extend(drain(&mut reads, Duration::from_millis(300)).await);
            assert!(again.iter().all(|r| r.repeated), "{protocol}: every old read flagged");
            assert_eq!(keys(&again), delivered, "{protocol}: the same 40 keys as before");
            let mut all = got.clone();
            all.extend(again.iter().cloned());
            assert_repeats_follow_their_reads(&all);
            let status = handle.status().borrow().clone();
            assert_eq!(status.counters.reads, 40, "{protocol}: repeats are not new reads");
            assert_eq!(
                status.counters.duplicates,
                u64::try_from(again.len()).unwrap(),
                "{protocol}: every repeat counted"
            );
        }
        stop(handle, emulator).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_numbering_restart_makes_new_keys_and_a_rewind_flags_old_reads() {
    tokio::join!(
        restart_then_rewind(Protocol::CloudBox, true),
        restart_then_rewind(Protocol::Ultra, true),
        restart_then_rewind(Protocol::RaceResult, false),
    );
}

/// A CloudBox whose new run starts while the console is away: the rewind after the reconnect
/// brings the new run's reads unflagged and the old run's (same numbers) flagged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_during_an_outage_is_rewound_without_losing_the_new_run() {
    bounded(async {
        let clock = clock();
        let emulator = Emulator::tcp(Protocol::CloudBox, options(&clock)).await.unwrap();
        let (handle, mut reads) = supervise(emulator.config(), &clock);
        connected(&handle).await;
        let mut emitted = emulator.emit_many(10, Duration::from_millis(2)).await;
        let mut got = collect(&mut reads, 10, Duration::from_secs(5)).await;
        emulator.unplug().await;
        emulator.restart_numbering().await;
        let during = emulator.emit_many(5, Duration::from_millis(2)).await;
        assert!(during.iter().all(|r| !r.live));
        emitted.extend(during);
        emulator.replug().await.unwrap();
        got.extend(collect(&mut reads, 5, Duration::from_secs(5)).await);
        got.extend(drain(&mut reads, Duration::from_millis(300)).await);
        assert_each_once(&emitted, &got);
        stop(handle, emulator).await;
    })
    .await;
}

/// Reader clock 30 s behind, link 1.5 s slow: the reader time is the time the read was made on
/// the reader's clock, the host time is when it arrived, and the backlog arrives in order.
async fn skewed_slow_link(protocol: Protocol) {
    bounded(async {
        let clock = clock();
        let skew = TimeDelta::seconds(-30);
        let delay = Duration::from_millis(1500);
        let mut options = options(&clock);
        options.skew = skew;
        options.link_delay = Some(delay);
        let emulator = Emulator::tcp(protocol, options).await.unwrap();
        let (handle, mut reads) = supervise(emulator.config(), &clock);
        connected(&handle).await;
        let mut made = Vec::new();
        let mut emitted = Vec::new();
        for _ in 0..10 {
            made.push(clock.now());
            emitted.push(emulator.emit().await);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let got = collect(&mut reads, 10, Duration::from_secs(8)).await;
        assert_each_once(&emitted, &got);
        let order: Vec<_> = got.iter().map(|r| r.replay_key.clone()).collect();
        let expected: Vec<_> = emitted.iter().map(|r| r.replay_key.clone()).collect();
        assert_eq!(order, expected, "{protocol}: the backlog drains in order");
        for ((read, emitted), made) in got.iter().zip(&emitted).zip(&made) {
            let reader = read.reader_time_utc.expect("reader time");
            assert_eq!(Some(reader), emitted.reader_time_utc);
            let from_made = (reader - *made - skew).num_milliseconds();
            assert!((-50..=100).contains(&from_made), "{protocol}: made {from_made} ms off");
            let lag = (read.host_time - (reader - skew)).num_milliseconds();
            assert!((1400..=2500).contains(&lag), "{protocol}: arrived {lag} ms after it was made");
        }
        stop(handle, emulator).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_skewed_reader_on_a_slow_link_keeps_its_read_times() {
    tokio::join!(skewed_slow_link(Protocol::CloudBox), skewed_slow_link(Protocol::Ultra));
}

/// A database of an older version holds `cloudbox:<n>` without the time: resuming from it, the
/// rewound read of that point is still recognised (flagged), the reads after it are new.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_versions_resume_key_is_still_recognised() {
    bounded(async {
        let clock = clock();
        let emulator = Emulator::tcp(Protocol::CloudBox, options(&clock)).await.unwrap();
        let stored = emulator.emit_many(4, Duration::ZERO).await;
        let mut config = emulator.config();
        let point = stored[1].replay_key.as_deref().unwrap();
        config.resume_after = Some(timing_readers::ResumePoint {
            replay_key: Some(format!("cloudbox:{}", number(point))),
            at: stored[1].reader_time_utc,
        });
        let (handle, mut reads) = supervise(config, &clock);
        let mut got = collect(&mut reads, 3, Duration::from_secs(3)).await;
        got.extend(drain(&mut reads, Duration::from_millis(300)).await);
        let of = |key: &Option<String>| got.iter().filter(|r| &r.replay_key == key).count();
        assert!(of(&stored[1].replay_key) >= 1, "the point's read was rewound");
        assert!(got.iter().filter(|r| r.replay_key == stored[1].replay_key).all(|r| r.repeated));
        got.retain(|r| {
            r.replay_key != stored[0].replay_key && r.replay_key != stored[1].replay_key
        });
        assert_each_once(&stored[2..], &got);
        stop(handle, emulator).await;
    })
    .await;
}

/// How the link goes away while the reader starts a new numbering run.
#[derive(Debug, Clone, Copy)]
enum Outage {
    /// The port is gone until replugged (every read of the new run is made unlinked).
    Unplug,
    /// The connection is cut; the supervisor reconnects at once.
    Drop,
}

/// 10 reads, the link goes away, the reader numbers from 1 again and makes `during` reads, the
/// link comes back, 5 live reads: every read arrives unflagged once — the new run's start too,
/// whether it is shorter than the old run (its numbers are all at or below the last one
/// delivered) or longer (the reconnect's rewind by number reaches into the new run).
async fn restart_while_unlinked(protocol: Protocol, outage: Outage, during: usize) {
    bounded(async {
        let clock = clock();
        let emulator = Emulator::tcp(protocol, options(&clock)).await.unwrap();
        let (handle, mut reads) = supervise(emulator.config(), &clock);
        connected(&handle).await;
        let mut emitted = emulator.emit_many(10, Duration::from_millis(2)).await;
        let mut got = collect(&mut reads, 10, Duration::from_secs(5)).await;
        let connects = handle.status().borrow().counters.connects;
        match outage {
            Outage::Unplug => emulator.unplug().await,
            Outage::Drop => emulator.drop_link().await,
        }
        // A new run's read made in the millisecond of the old run's read with its number would
        // have the same replay key (keys carry the reader time to the millisecond).
        tokio::time::sleep(Duration::from_millis(20)).await;
        emulator.restart_numbering().await;
        let made = emulator.emit_many(during, Duration::from_millis(1)).await;
        if matches!(outage, Outage::Unplug) {
            assert!(made.iter().all(|r| !r.live), "{protocol}: made while unplugged");
            emulator.replug().await.unwrap();
        }
        emitted.extend(made);
        wait_for(&handle, Duration::from_secs(5), "reconnected", |s| {
            s.counters.connects > connects && s.connected_since.is_some()
        })
        .await;
        tokio::time::sleep(Duration::from_millis(150)).await;
        emitted.extend(emulator.emit_many(5, Duration::from_millis(2)).await);
        let want: BTreeSet<String> = emitted.iter().filter_map(|r| r.replay_key.clone()).collect();
        let deadline = clock.monotonic() + Duration::from_secs(5);
        while !want.is_subset(&keys(&got)) && clock.monotonic() < deadline {
            got.extend(collect(&mut reads, 1, Duration::from_millis(200)).await);
        }
        got.extend(drain(&mut reads, Duration::from_millis(300)).await);
        let delivered = keys(&got);
        let missing: Vec<&String> = want.difference(&delivered).collect();
        assert!(
            missing.is_empty(),
            "{protocol} {outage:?} ({during} made unlinked): never delivered {missing:?}; \
             commands {:?}",
            emulator.stats().await.commands
        );
        assert_each_once(&emitted, &got);
        stop(handle, emulator).await;
    })
    .await;
}

/// Chaos seed 53: an Ultra starts a new log while the link is down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ultra_log_restarted_while_unlinked_is_fetched_from_its_start() {
    tokio::join!(
        restart_while_unlinked(Protocol::Ultra, Outage::Unplug, 3),
        restart_while_unlinked(Protocol::Ultra, Outage::Unplug, 15),
    );
    tokio::join!(
        restart_while_unlinked(Protocol::Ultra, Outage::Drop, 2),
        restart_while_unlinked(Protocol::Ultra, Outage::Drop, 14),
    );
}

/// The same for a CloudBox's new session and a RACE RESULT decoder's new file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_run_made_while_unlinked_arrives_whole() {
    tokio::join!(
        restart_while_unlinked(Protocol::CloudBox, Outage::Unplug, 3),
        restart_while_unlinked(Protocol::CloudBox, Outage::Unplug, 15),
        restart_while_unlinked(Protocol::RaceResult, Outage::Unplug, 3),
        restart_while_unlinked(Protocol::RaceResult, Outage::Unplug, 15),
    );
    tokio::join!(
        restart_while_unlinked(Protocol::CloudBox, Outage::Drop, 2),
        restart_while_unlinked(Protocol::RaceResult, Outage::Drop, 14),
    );
}

/// A restarted console resumes from what the engine holds: reads 1–10 and 13 of a RACE RESULT
/// file (13 arrived live, 11 and 12 were on their way). The resume point made from those keys
/// is #10, and the supervisor brings 11 and 12 (and 13 again, which the engine flags).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_point_with_a_hole_behind_it_brings_the_hole() {
    bounded(async {
        let clock = clock();
        let emulator = Emulator::tcp(Protocol::RaceResult, options(&clock)).await.unwrap();
        let made = emulator.emit_many(15, Duration::ZERO).await;
        let at = clock.now();
        let mut stored: Vec<&str> =
            made[..10].iter().filter_map(|r| r.replay_key.as_deref()).collect();
        stored.extend(made[12].replay_key.as_deref());
        let point = timing_readers::ResumePoint::in_order(stored.iter().map(|k| (*k, at))).unwrap();
        assert_eq!(point.replay_key, made[9].replay_key, "after the last read held in order");
        let mut config = emulator.config();
        config.resume_after = Some(point);
        let (handle, mut reads) = supervise(config, &clock);
        let want: BTreeSet<String> =
            made[10..].iter().filter_map(|r| r.replay_key.clone()).collect();
        let mut got = Vec::new();
        let deadline = clock.monotonic() + Duration::from_secs(5);
        while !want.is_subset(&keys(&got)) && clock.monotonic() < deadline {
            got.extend(collect(&mut reads, 1, Duration::from_millis(200)).await);
        }
        got.extend(drain(&mut reads, Duration::from_millis(300)).await);
        got.retain(|r| !made[..10].iter().any(|m| m.replay_key == r.replay_key));
        assert_each_once(&made[10..], &got);
        stop(handle, emulator).await;
    })
    .await;
}

/// Chaos seed 458: an Ultra makes reads while unplugged, then starts a new log and reads
/// nothing more. No read shows the new log and the reconnect's witness (the last log id
/// delivered) never comes; after the wait the old log's rest is fetched by time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ultra_reads_made_before_an_empty_new_log_still_arrive() {
    bounded(async {
        let clock = clock();
        let emulator = Emulator::tcp(Protocol::Ultra, options(&clock)).await.unwrap();
        let (handle, mut reads) = supervise(emulator.config(), &clock);
        connected(&handle).await;
        let mut emitted = emulator.emit_many(10, Duration::from_millis(2)).await;
        let mut got = collect(&mut reads, 10, Duration::from_secs(5)).await;
        emulator.unplug().await;
        let away = emulator.emit_many(4, Duration::from_millis(2)).await;
        assert!(away.iter().all(|r| !r.live), "made while unplugged");
        emitted.extend(away);
        emulator.restart_numbering().await;
        emulator.replug().await.unwrap();
        let want: BTreeSet<String> = emitted.iter().filter_map(|r| r.replay_key.clone()).collect();
        let deadline = clock.monotonic() + timing_readers::supervisor::ULTRA_WITNESS_WAIT * 3;
        while !want.is_subset(&keys(&got)) && clock.monotonic() < deadline {
            got.extend(collect(&mut reads, 1, Duration::from_millis(200)).await);
        }
        let delivered = keys(&got);
        let missing: Vec<&String> = want.difference(&delivered).collect();
        assert!(missing.is_empty(), "never delivered {missing:?}");
        assert_each_once(&emitted, &got);
        stop(handle, emulator).await;
    })
    .await;
}

/// A RACE RESULT decoder that closes its file while the console is away keeps that file's
/// last passings to itself (a decoder sends only its current file): the new file arrives
/// whole, and the reader's status tells the timer which file to download from the decoder.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_raceresult_file_closed_while_away_is_reported_for_download() {
    bounded(async {
        let clock = clock();
        let emulator = Emulator::tcp(Protocol::RaceResult, options(&clock)).await.unwrap();
        let (handle, mut reads) = supervise(emulator.config(), &clock);
        connected(&handle).await;
        emulator.emit_many(5, Duration::from_millis(2)).await;
        let mut got = collect(&mut reads, 5, Duration::from_secs(5)).await;
        let status = handle.status();
        assert!(status.borrow().warning.is_none());
        emulator.unplug().await;
        emulator.emit_many(3, Duration::from_millis(2)).await;
        emulator.restart_numbering().await;
        let new_file = emulator.emit_many(4, Duration::from_millis(2)).await;
        emulator.replug().await.unwrap();
        let status =
            wait_for(&handle, Duration::from_secs(5), "a warning", |s| s.warning.is_some()).await;
        let warning = status.warning.unwrap_or_default();
        assert!(warning.contains("delivered only up to passing #5"), "{warning}");
        assert!(warning.contains("download file 1 from the decoder"), "{warning}");
        let want: BTreeSet<String> = new_file.iter().filter_map(|r| r.replay_key.clone()).collect();
        let deadline = clock.monotonic() + Duration::from_secs(5);
        while !want.is_subset(&keys(&got)) && clock.monotonic() < deadline {
            got.extend(collect(&mut reads, 1, Duration::from_millis(200)).await);
        }
        assert!(want.is_subset(&keys(&got)), "the new file arrives whole");
        stop(handle, emulator).await;
    })
    .await;
}
