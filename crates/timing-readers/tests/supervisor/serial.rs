//! The supervisor against pseudo-terminal emulators of the serial readers (IPICO, R2000, Chafon,
//! Timy, keyboard lines): every read arrives once, a pulled and replugged cable is reopened
//! within 2 s through the same path, Timy's memory is re-sent after it, faults are counted, and
//! a quiet line is reported. Tests that create pty pairs run one at a time.

use std::time::Duration;

use crate::support::{
    assert_each_once, bounded, clock, collect, connected, drain, stop, supervise, wait_for,
};
use chrono::{FixedOffset, TimeDelta};
use timing_readers::clock::SharedClock;
use timing_readers::emulator::{Emulator, EmulatorOptions, Faults};
use timing_readers::supervisor::OffsetSource;
use timing_readers::{Link, Protocol, ReaderState};

/// Pseudo-terminal pairs are created one test at a time.
static PTY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const SKEW_MS: i64 = -700;

fn options(clock: &SharedClock) -> EmulatorOptions {
    let mut options = EmulatorOptions::new(clock.clone());
    options.skew = TimeDelta::milliseconds(SKEW_MS);
    options.utc_offset = FixedOffset::west_opt(5 * 3600).unwrap();
    options
}

async fn delivers_every_read_once(protocol: Protocol, faults: Faults) {
    bounded(async {
        let clock = clock();
        let emulator = Emulator::pty(protocol, options(&clock)).await.unwrap();
        let config = emulator.config();
        assert!(matches!(&config.link, Link::Serial { path, .. } if path.ends_with(&format!("tty-{protocol}"))));
        let (handle, mut reads) = supervise(config, &clock);
        connected(&handle).await;
        emulator.set_faults(faults).await;
        let emitted = emulator.emit_many(25, Duration::from_millis(3)).await;
        let mut got = collect(&mut reads, emitted.len(), Duration::from_secs(5)).await;
        got.extend(drain(&mut reads, Duration::from_millis(150)).await);
        assert_each_once(&emitted, &got);
        let status = handle.status().borrow().clone();
        if protocol.carries_time() {
            let offset = status.clock_offset_ms.expect("offset");
            assert!((offset - SKEW_MS).abs() < 300, "{protocol}: offset {offset}");
        } else {
            assert!(got.iter().all(|r| r.reader_time_utc.is_none() && r.clock_offset_ms.is_none()));
        }
        if protocol == Protocol::Ipico {
            assert_eq!(status.clock_offset_source, Some(OffsetSource::GetTime));
        }
        if faults != Faults::default() {
            assert!(status.counters.rejected > 0, "{:#?}", status.counters);
        } else {
            assert_eq!(status.counters.rejected, 0, "{:#?}", status.counters);
        }
        stop(handle, emulator).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_serial_reader_delivers_every_read_once() {
    let _pty = PTY.lock().await;
    let noisy =
        Faults { split: true, garbage: true, bad_checksum_every: Some(4), ..Faults::default() };
    let doubled = Faults { double_every: Some(6), bad_checksum_every: Some(5), ..noisy };
    tokio::join!(
        delivers_every_read_once(Protocol::Ipico, Faults::default()),
        delivers_every_read_once(Protocol::R2000, noisy),
        delivers_every_read_once(Protocol::Chafon, Faults::default()),
        delivers_every_read_once(Protocol::Timy, doubled),
        delivers_every_read_once(Protocol::Lines, Faults::default()),
    );
}

/// Pulls the cable for 1.5 s: the supervisor reopens the same path < 2 s after it returns.
async fn unplug_and_replug(protocol: Protocol, checksums: bool) {
    bounded(async {
        let clock = clock();
        let mut options = options(&clock);
        options.timy_checksum = checksums;
        let emulator = Emulator::pty(protocol, options).await.unwrap();
        let (handle, mut reads) = supervise(emulator.config(), &clock);
        connected(&handle).await;
        let before = emulator.emit_many(4, Duration::from_millis(3)).await;
        let mut got = collect(&mut reads, 4, Duration::from_secs(3)).await;

        emulator.unplug().await;
        assert!(!emulator.path().unwrap().exists(), "the device node is gone");
        wait_for(&handle, Duration::from_secs(3), "lost", |s| s.state == ReaderState::Lost).await;
        let during = emulator.emit_many(4, Duration::from_millis(3)).await;
        tokio::time::sleep(Duration::from_millis(1500)).await;

        let connects = handle.status().borrow().counters.connects;
        let since = clock.monotonic();
        emulator.replug().await.unwrap();
        wait_for(&handle, Duration::from_secs(5), "reconnect", |s| {
            s.counters.connects > connects && s.connected_since.is_some()
        })
        .await;
        let took = clock.monotonic().saturating_sub(since);
        eprintln!("{protocol} on a pty: reopened {took:?} after the port returned");
        assert!(took < Duration::from_secs(2), "{protocol}: reconnect took {took:?}");

        tokio::time::sleep(Duration::from_millis(100)).await;
        let after = emulator.emit_many(4, Duration::from_millis(3)).await;
        got.extend(collect(&mut reads, 12, Duration::from_secs(3)).await);
        got.extend(drain(&mut reads, Duration::from_millis(200)).await);
        let mut expected = before;
        if protocol == Protocol::Timy {
            // `RSM` after the reconnect brings the impulses of the gap, exactly once.
            expected.extend(during);
        } else {
            assert!(during.iter().all(|r| !r.live));
        }
        expected.extend(after);
        assert_each_once(&expected, &got);
        stop(handle, emulator).await;
    })
    .await;
}

/// Timy re-sends its memory (`RSM`) after the reconnect; Chafon has none: the gap is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serial_unplug_replug_reopens_the_same_path() {
    let _pty = PTY.lock().await;
    tokio::join!(
        unplug_and_replug(Protocol::Timy, true),
        unplug_and_replug(Protocol::Chafon, false)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiet_serial_line_is_reported() {
    let _pty = PTY.lock().await;
    bounded(async {
        let clock = clock();
        let emulator = Emulator::pty(Protocol::Timy, options(&clock)).await.unwrap();
        let mut config = emulator.config();
        config.quiet_after = Duration::from_millis(250);
        let (handle, mut reads) = supervise(config, &clock);
        wait_for(&handle, Duration::from_secs(3), "quiet", |s| s.state == ReaderState::Quiet).await;
        let read = emulator.emit().await;
        assert_each_once(&[read], &collect(&mut reads, 1, Duration::from_secs(2)).await);
        wait_for(&handle, Duration::from_secs(1), "reading", |s| s.state == ReaderState::Reading)
            .await;
        wait_for(&handle, Duration::from_secs(2), "quiet again", |s| s.state == ReaderState::Quiet)
            .await;
        assert_eq!(
            handle.status().borrow().counters.connects,
            1,
            "a quiet Timy is not reconnected"
        );
        stop(handle, emulator).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polled_reader_can_be_stopped_and_started() {
    let _pty = PTY.lock().await;
    bounded(async {
        let clock = clock();
        let emulator = Emulator::pty(Protocol::R2000, options(&clock)).await.unwrap();
        let (handle, mut reads) = supervise(emulator.config(), &clock);
        connected(&handle).await;
        handle.stop().await.unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
        let polls = emulator.stats().await.commands.len();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(emulator.stats().await.commands.len(), polls, "no polls while stopped");
        let waiting = emulator.emit().await;
        assert!(drain(&mut reads, Duration::from_millis(200)).await.is_empty());
        handle.start().await.unwrap();
        assert_each_once(&[waiting], &collect(&mut reads, 1, Duration::from_secs(2)).await);
        stop(handle, emulator).await;
    })
    .await;
}
