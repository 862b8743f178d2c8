//! The supervisor against loopback-TCP emulators of the network readers (IPICO, Ultra, RACE
//! RESULT, CloudBox): every read arrives once with the reader's own time, the clock offset is
//! measured, dropped links and reboots are recovered within 2 s with the gap rewound, faults are
//! rejected and counted, quiet and silent links are noticed, commands reach the reader.

use std::time::Duration;

use crate::support::{
    assert_each_once, bounded, clock, collect, connected, drain, stop, supervise, wait_for,
};
use chrono::{FixedOffset, TimeDelta};
use timing_readers::clock::SharedClock;
use timing_readers::emulator::{EmittedRead, Emulator, EmulatorOptions, Faults};
use timing_readers::supervisor::{Direction, OffsetSource};
use timing_readers::{
    CommandError, Link, Protocol, ReaderConfig, ReaderHandle, ReaderState, ResumePoint,
};

const SKEW_MS: i64 = 1500;

fn options(clock: &SharedClock) -> EmulatorOptions {
    let mut options = EmulatorOptions::new(clock.clone());
    options.skew = TimeDelta::milliseconds(SKEW_MS);
    options.utc_offset = FixedOffset::east_opt(2 * 3600).unwrap();
    options
}

/// Emits reads and checks that each arrives once, with its reader time, and the offset.
async fn delivers_every_read_once(protocol: Protocol, tolerance_ms: i64) {
    bounded(async {
        let clock = clock();
        let mut options = options(&clock);
        options.ipico_elite = protocol == Protocol::Ipico;
        let emulator = Emulator::tcp(protocol, options).await.unwrap();
        let (handle, mut reads) = supervise(emulator.config(), &clock);
        connected(&handle).await;
        let emitted = emulator.emit_many(25, Duration::from_millis(3)).await;
        assert!(emitted.iter().all(|r| r.live));
        let got = collect(&mut reads, emitted.len(), Duration::from_secs(5)).await;
        assert_each_once(&emitted, &got);
        assert!(drain(&mut reads, Duration::from_millis(100)).await.is_empty());
        for read in &got {
            assert_eq!(read.protocol, protocol);
            assert_eq!(read.source, emulator.config().to_string());
            assert!(read.reader_time_utc.is_some());
            let delay = read.host_time - read.reader_time_utc.unwrap();
            assert!((delay.num_milliseconds() + SKEW_MS).abs() < 1000, "host time {delay:?}");
        }
        let status = handle.status().borrow().clone();
        let offset = status.clock_offset_ms.expect("clock offset measured");
        assert!((offset - SKEW_MS).abs() <= tolerance_ms, "{protocol}: offset {offset} ms");
        assert_eq!(status.clock_offset_source, Some(OffsetSource::GetTime));
        assert_eq!(status.counters.reads, 25);
        assert_eq!(status.counters.rejected, 0, "{:#?}", status.counters);
        assert_eq!(status.state, ReaderState::Reading);
        assert!(status.reads_per_sec > 0.0);
        stop(handle, emulator).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_network_reader_delivers_every_read_once() {
    // The Ultra clock reply has whole seconds only.
    tokio::join!(
        delivers_every_read_once(Protocol::Ipico, 300),
        delivers_every_read_once(Protocol::Ultra, 800),
        delivers_every_read_once(Protocol::RaceResult, 300),
        delivers_every_read_once(Protocol::CloudBox, 300),
    );
}

/// Waits for the next connect after `connects` and returns how long it took from `since`.
async fn reconnect_time(
    handle: &ReaderHandle,
    clock: &SharedClock,
    since: Duration,
    connects: u64,
) -> Duration {
    wait_for(handle, Duration::from_secs(5), "reconnect", |s| {
        s.counters.connects > connects && s.connected_since.is_some()
    })
    .await;
    clock.monotonic().saturating_sub(since)
}

/// Reads before, during and after an outage (unplug … replug): all arrive once, the reconnect
/// takes < 2 s after the port returns.
async fn outage_is_rewound(protocol: Protocol) {
    bounded(async {
        let clock = clock();
        let mut options = options(&clock);
        options.ipico_elite = protocol == Protocol::Ipico;
        let emulator = Emulator::tcp(protocol, options).await.unwrap();
        let (handle, mut reads) = supervise(emulator.config(), &clock);
        connected(&handle).await;
        let mut emitted = emulator.emit_many(5, Duration::from_millis(3)).await;
        let mut got = collect(&mut reads, 5, Duration::from_secs(3)).await;

        emulator.unplug().await;
        wait_for(&handle, Duration::from_secs(3), "lost", |s| s.state == ReaderState::Lost).await;
        let during = emulator.emit_many(5, Duration::from_millis(3)).await;
        assert!(during.iter().all(|r| !r.live), "the link is down");
        emitted.extend(during);
        // Long enough for the back-off to reach its maximum.
        tokio::time::sleep(Duration::from_millis(1500)).await;

        let connects = handle.status().borrow().counters.connects;
        let since = clock.monotonic();
        emulator.replug().await.unwrap();
        let took = reconnect_time(&handle, &clock, since, connects).await;
        eprintln!("{protocol}: reconnected {took:?} after the port returned");
        assert!(took < Duration::from_secs(2), "{protocol}: reconnect took {took:?}");

        tokio::time::sleep(Duration::from_millis(100)).await;
        emitted.extend(emulator.emit_many(5, Duration::from_millis(3)).await);
        got.extend(collect(&mut reads, 10, Duration::from_secs(5)).await);
        got.extend(drain(&mut reads, Duration::from_millis(300)).await);
        assert_each_once(&emitted, &got);
        let status = handle.status().borrow().clone();
        assert!(status.counters.rewinds >= 1, "{:#?}", status.counters);
        assert!(status.last_error.is_some());
        assert!(
            got.iter().filter(|r| r.read.flags.from_memory).count() >= 5
                || protocol != Protocol::Ultra
        );
        stop(handle, emulator).await;
    })
    .await;
}

/// Ultra by log id, RACE RESULT by passing number, CloudBox by time, IPICO Elite by replay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_outages_are_rewound() {
    tokio::join!(
        outage_is_rewound(Protocol::Ultra),
        outage_is_rewound(Protocol::RaceResult),
        outage_is_rewound(Protocol::CloudBox),
        outage_is_rewound(Protocol::Ipico),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raceresult_reboot_keeps_the_decoder_memory() {
    bounded(async {
        let clock = clock();
        let emulator = Emulator::tcp(Protocol::RaceResult, options(&clock)).await.unwrap();
        let (handle, mut reads) = supervise(emulator.config(), &clock);
        connected(&handle).await;
        let mut emitted = emulator.emit_many(3, Duration::ZERO).await;
        let mut got = collect(&mut reads, 3, Duration::from_secs(3)).await;
        // Passings made while the decoder reboots are in its file.
        let reboot = emulator.reboot(Duration::from_millis(600));
        let during = async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            emulator.emit_many(4, Duration::from_millis(10)).await
        };
        let (rebooted, during) = tokio::join!(reboot, during);
        rebooted.unwrap();
        emitted.extend(during);
        emitted.extend(emulator.emit_many(3, Duration::ZERO).await);
        got.extend(collect(&mut reads, 7, Duration::from_secs(5)).await);
        got.extend(drain(&mut reads, Duration::from_millis(200)).await);
        assert_each_once(&emitted, &got);
        assert!(emulator.stats().await.commands.iter().any(|c| c.starts_with("PASSINGS")));
        stop(handle, emulator).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ultra_link_dropped_after_n_frames_loses_nothing() {
    bounded(async {
        let clock = clock();
        let emulator = Emulator::tcp(Protocol::Ultra, options(&clock)).await.unwrap();
        let (handle, mut reads) = supervise(emulator.config(), &clock);
        connected(&handle).await;
        emulator.set_faults(Faults { drop_after: Some(6), ..Faults::default() }).await;
        let emitted = emulator.emit_many(20, Duration::from_millis(20)).await;
        assert!(emitted.iter().any(|r| !r.live), "some reads were made while the link was down");
        let mut got = collect(&mut reads, 20, Duration::from_secs(5)).await;
        got.extend(drain(&mut reads, Duration::from_millis(200)).await);
        assert_each_once(&emitted, &got);
        let status = handle.status().borrow().clone();
        assert_eq!(status.counters.connects, 2);
        assert!(status.counters.rewinds >= 1);
        stop(handle, emulator).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_are_rejected_counted_and_deduplicated() {
    bounded(async {
        let clock = clock();
        let emulator = Emulator::tcp(Protocol::Ipico, options(&clock)).await.unwrap();
        let (handle, mut reads) = supervise(emulator.config(), &clock);
        connected(&handle).await;
        emulator
            .set_faults(Faults {
                split: true,
                garbage: true,
                bad_checksum_every: Some(3),
                double_every: Some(4),
                drop_after: None,
            })
            .await;
        let emitted = emulator.emit_many(30, Duration::from_millis(2)).await;
        let mut got = collect(&mut reads, 37, Duration::from_secs(5)).await;
        got.extend(drain(&mut reads, Duration::from_millis(200)).await);
        assert_each_once(&emitted, &got);
        // The doubled frames are delivered too, flagged (raw reads are never thrown away).
        assert_eq!(got.iter().filter(|r| r.repeated).count(), 7);

        let status = handle.status().borrow().clone();
        let counters = &status.counters;
        assert_eq!(counters.reads, 30);
        assert_eq!(counters.duplicates, 7, "every 4th of 30 frames was doubled");
        assert_eq!(counters.rejected_by_reason.get("bad_checksum"), Some(&10));
        assert!(counters.rejected_by_reason.get("garbage").copied().unwrap_or(0) > 0);
        assert_eq!(counters.rejected, counters.rejected_by_reason.values().sum::<u64>());
        assert!(!counters.last_rejected.is_empty() && counters.last_rejected.len() <= 8);
        let last = counters.last_rejected.back().unwrap();
        assert!(!last.hex.is_empty() && !last.reason.is_empty());
        assert!(
            counters
                .last_rejected
                .iter()
                .any(|r| r.kind == "bad_checksum" && r.reason.contains("checksum"))
        );

        let frames = handle.recent_frames(500);
        assert!(frames.len() <= 256);
        assert!(
            frames
                .iter()
                .any(|f| f.direction == Direction::Sent && f.summary.contains("ab00000222"))
        );
        assert!(frames.iter().any(|f| f.summary.starts_with("rejected: bad checksum")));
        assert!(frames.iter().any(|f| f.summary.starts_with("read chip 0580")));
        stop(handle, emulator).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiet_link_is_reported_and_clears() {
    bounded(async {
        let clock = clock();
        let emulator = Emulator::tcp(Protocol::Lines, options(&clock)).await.unwrap();
        let mut config = emulator.config();
        config.quiet_after = Duration::from_millis(300);
        let (handle, mut reads) = supervise(config, &clock);
        connected(&handle).await;
        let quiet =
            wait_for(&handle, Duration::from_secs(2), "quiet", |s| s.state == ReaderState::Quiet)
                .await;
        assert_eq!(quiet.counters.connects, 1);
        let read = emulator.emit().await;
        let got = collect(&mut reads, 1, Duration::from_secs(2)).await;
        assert_each_once(&[read], &got);
        assert_eq!(got[0].reader_time_utc, None, "keyboard lines carry no time");
        wait_for(&handle, Duration::from_secs(1), "reading", |s| s.state == ReaderState::Reading)
            .await;
        // A reader that cannot be probed stays connected however long it is quiet.
        tokio::time::sleep(Duration::from_millis(800)).await;
        let status = handle.status().borrow().clone();
        assert_eq!(status.state, ReaderState::Quiet);
        assert_eq!(status.counters.connects, 1);
        stop(handle, emulator).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_reader_that_ignores_probes_is_reconnected() {
    bounded(async {
        let clock = clock();
        // A "reader" that accepts connections and never says anything.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let silent = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                held.push(stream);
            }
        });
        let mut config = ReaderConfig::new(Protocol::Ultra, Link::tcp("127.0.0.1", port));
        config.quiet_after = Duration::from_millis(200);
        let (handle, _reads) = supervise(config, &clock);
        let status = wait_for(&handle, Duration::from_secs(3), "second connect", |s| {
            s.counters.connects >= 2
        })
        .await;
        assert!(status.last_error.unwrap_or_default().contains("no answer to a probe"));
        handle.shutdown().await;
        silent.abort();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_reach_the_reader() {
    bounded(async {
        let clock = clock();
        let emulator = Emulator::tcp(Protocol::Ultra, options(&clock)).await.unwrap();
        let (handle, mut reads) = supervise(emulator.config(), &clock);
        connected(&handle).await;
        assert!(emulator.stats().await.sending, "start on connect sent R");

        handle.stop().await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!emulator.stats().await.sending);
        assert!(!handle.status().borrow().reading_wanted);
        let missed = emulator.emit().await;
        assert!(!missed.live);
        handle.start().await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(emulator.stats().await.sending);

        // Setting the clock re-measures the offset.
        handle.set_clock(clock.now()).await.unwrap();
        wait_for(&handle, Duration::from_secs(2), "offset re-measured", |s| {
            s.clock_offset_ms.is_some_and(|o| o.abs() < 800)
        })
        .await;

        // A rewind by time fetches the read made while stopped and nothing twice.
        let live: Vec<EmittedRead> = emulator.emit_many(3, Duration::ZERO).await;
        let first = collect(&mut reads, 3, Duration::from_secs(2)).await;
        let now = clock.now();
        handle.rewind(now - TimeDelta::minutes(5), now + TimeDelta::minutes(5)).await.unwrap();
        let rewound = collect(&mut reads, 4, Duration::from_secs(2)).await;
        let mut all = first;
        all.extend(rewound);
        all.extend(drain(&mut reads, Duration::from_millis(200)).await);
        let mut expected = vec![missed];
        expected.extend(live);
        assert_each_once(&expected, &all);
        assert!(all.iter().filter(|r| r.repeated).count() >= 3, "the live reads came again");
        assert!(handle.status().borrow().counters.duplicates >= 3);
        let commands = emulator.stats().await.commands;
        assert!(commands.iter().any(|c| c.starts_with("800")), "{commands:?}");
        assert!(commands.iter().any(|c| c.starts_with("t ")), "{commands:?}");
        stop(handle, emulator).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsupported_and_offline_commands_are_refused() {
    bounded(async {
        let clock = clock();
        let emulator = Emulator::tcp(Protocol::Lines, options(&clock)).await.unwrap();
        let (handle, _reads) = supervise(emulator.config(), &clock);
        connected(&handle).await;
        let refused = handle.set_clock(clock.now()).await;
        assert_eq!(
            refused,
            Err(CommandError::Unsupported { protocol: Protocol::Lines, command: "set_clock" })
        );
        assert!(handle.start().await.is_err());
        handle.shutdown().await;

        // Not connected: a clock cannot be set.
        let config = ReaderConfig::new(Protocol::Ultra, Link::tcp("127.0.0.1", 9));
        let (handle, _reads) = supervise(config, &clock);
        wait_for(&handle, Duration::from_secs(2), "lost", |s| s.state == ReaderState::Lost).await;
        assert_eq!(handle.set_clock(clock.now()).await, Err(CommandError::NotConnected));
        assert_eq!(handle.stop().await, Ok(()));
        assert!(!handle.status().borrow().reading_wanted);
        let status = handle.status();
        handle.shutdown().await;
        assert_eq!(status.borrow().state, ReaderState::Stopped);
        emulator.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_the_reads_channel_stops_the_supervisor() {
    bounded(async {
        let clock = clock();
        let emulator = Emulator::tcp(Protocol::CloudBox, options(&clock)).await.unwrap();
        let (handle, reads) = supervise(emulator.config(), &clock);
        connected(&handle).await;
        drop(reads);
        emulator.emit().await;
        let status = wait_for(&handle, Duration::from_secs(2), "stopped", |s| {
            s.state == ReaderState::Stopped
        })
        .await;
        assert!(status.last_error.unwrap_or_default().contains("reads channel"));
        emulator.shutdown().await;
    })
    .await;
}

#[test]
fn spawning_without_a_runtime_reports_instead_of_panicking() {
    let clock = clock();
    let (tx, _rx) = tokio::sync::mpsc::channel(1);
    let config = ReaderConfig::new(Protocol::Ultra, Link::tcp("127.0.0.1", 9));
    let handle = timing_readers::ReaderSupervisor::spawn(config, clock, tx);
    let status = handle.status().borrow().clone();
    assert_eq!(status.state, ReaderState::Stopped);
    assert!(status.last_error.is_some());
}

/// A resume point from a previous run: the first connect fetches what came after it.
async fn resumes_after_a_previous_run(protocol: Protocol) {
    bounded(async {
        let clock = clock();
        let emulator = Emulator::tcp(protocol, options(&clock)).await.unwrap();
        // Read while no console was connected.
        let stored = emulator.emit_many(5, Duration::ZERO).await;
        let mut config = emulator.config();
        config.resume_after = Some(ResumePoint {
            replay_key: stored[1].replay_key.clone(),
            at: stored[1].reader_time_utc,
        });
        let (handle, mut reads) = supervise(config, &clock);
        let mut got = collect(&mut reads, 3, Duration::from_secs(3)).await;
        got.extend(drain(&mut reads, Duration::from_millis(200)).await);
        // CloudBox: rewind by time reaches a second before the point, so earlier reads may come
        // again (the engine drops them by replay key). Ultra: the point's own log id is asked
        // for as well, to see whether the reader started a new log. The point itself comes
        // flagged repeated.
        let resume_key = stored[1].replay_key.clone();
        assert!(got.iter().filter(|r| r.replay_key == resume_key).all(|r| r.repeated));
        if protocol == Protocol::CloudBox {
            got.retain(|r| r.replay_key != stored[0].replay_key);
        }
        got.retain(|r| r.replay_key != resume_key);
        assert_each_once(&stored[2..], &got);
        assert!(got.iter().all(|r| r.read.flags.from_memory || protocol != Protocol::Ultra));
        stop(handle, emulator).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_connect_resumes_after_the_given_point() {
    tokio::join!(
        resumes_after_a_previous_run(Protocol::Ultra),
        resumes_after_a_previous_run(Protocol::RaceResult),
        resumes_after_a_previous_run(Protocol::CloudBox),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_works_while_the_engine_takes_no_reads() {
    bounded(async {
        let clock = clock();
        let emulator = Emulator::tcp(Protocol::CloudBox, options(&clock)).await.unwrap();
        let (tx, _never_read) = tokio::sync::mpsc::channel(1);
        let handle = timing_readers::ReaderSupervisor::spawn(emulator.config(), clock.clone(), tx);
        connected(&handle).await;
        emulator.emit_many(5, Duration::ZERO).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let status = handle.status();
        tokio::time::timeout(Duration::from_secs(2), handle.shutdown())
            .await
            .expect("shutdown while blocked on the reads channel");
        assert_eq!(status.borrow().state, ReaderState::Stopped);
        emulator.shutdown().await;
    })
    .await;
}
