//! Reader time timers need not think about: a reader showing local time is read in the
//! computer's zone unless its spec names one, across DST changes; a clock in another zone is
//! noticed with the zone that would fix it; a time adjustment changes reads from then on without
//! touching the link. The host clock is a `ManualClock` in a chosen zone, so what "now" and "the
//! computer's zone" are is fixed by the test.

use std::time::Duration;

use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
use timing_readers::clock::{Clock as _, ManualClock, SharedClock};
use timing_readers::emulator::{Emulator, EmulatorOptions};
use timing_readers::{Protocol, ReaderConfig, ReaderZone, StampedRead};

use crate::support::{bounded, collect, connected, stop, supervise};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn zone(name: &str) -> ReaderZone {
    name.parse().unwrap()
}

/// The reads' UTC times against the host instants they were made at: equal within `ms`.
fn assert_near(got: &[StampedRead], made_at: &[DateTime<Utc>], ms: i64) {
    assert_eq!(got.len(), made_at.len(), "{got:#?}");
    for (read, made) in got.iter().zip(made_at) {
        let t = read.reader_time_utc.expect("the reader's own time");
        let off = (t - *made).num_milliseconds();
        assert!(off.abs() <= ms, "read at {t} was made at {made} ({off} ms)");
    }
}

/// An IPICO on loopback TCP whose clock shows `shows` local time (no skew), on a host clock.
async fn ipico(clock: &SharedClock, shows: impl FnOnce(&mut EmulatorOptions)) -> Emulator {
    let mut options = EmulatorOptions::new(clock.clone());
    shows(&mut options);
    Emulator::tcp(Protocol::Ipico, options).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_is_read_in_the_computers_zone_unless_its_spec_names_one() {
    bounded(async {
        let now = at("2026-07-10T08:00:00Z");
        // The computer is in Madrid; the reader shows Madrid summer time (+02:00); no zone=.
        let manual = ManualClock::in_zone(now, zone("Europe/Madrid"));
        let clock: SharedClock = manual.clone();
        let emulator =
            ipico(&clock, |o| o.utc_offset = FixedOffset::east_opt(2 * 3600).unwrap()).await;
        let mut config = emulator.config();
        config.reader_zone = None;
        let (handle, mut reads) = supervise(config, &clock);
        let status = connected(&handle).await;
        assert_eq!(status.zone, Some(zone("Europe/Madrid")));
        assert_eq!(status.zone_label().as_deref(), Some("Europe/Madrid"));
        let mut made = Vec::new();
        for _ in 0..3 {
            made.push(manual.now());
            emulator.emit().await;
            manual.advance(Duration::from_millis(250));
        }
        let got = collect(&mut reads, 3, Duration::from_secs(5)).await;
        assert_near(&got, &made, 10);
        let status = handle.status().borrow().clone();
        assert!(status.clock_offset_ms.unwrap().abs() < 1000, "{status:#?}");
        assert_eq!(status.clock_hint, None);
        stop(handle, emulator).await;

        // The computer is in New York; the spec says the reader is in Madrid: the spec wins.
        let manual = ManualClock::in_zone(now, zone("America/New_York"));
        let clock: SharedClock = manual.clone();
        let emulator = ipico(&clock, |o| o.zone = Some(zone("Europe/Madrid"))).await;
        let port = emulator.port().unwrap();
        let spec = format!("tcp:127.0.0.1:{port}?protocol=ipico&zone=Europe/Madrid");
        let (handle, mut reads) = supervise(ReaderConfig::from_spec(&spec).unwrap(), &clock);
        assert_eq!(connected(&handle).await.zone, Some(zone("Europe/Madrid")));
        let made = vec![manual.now()];
        emulator.emit().await;
        let got = collect(&mut reads, 1, Duration::from_secs(5)).await;
        assert_near(&got, &made, 10);
        stop(handle, emulator).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clock_in_another_zone_is_noticed_with_the_zone_that_fixes_it() {
    bounded(async {
        // The computer is in New York (-04:00 in July); the reader shows Madrid (+02:00).
        let manual = ManualClock::in_zone(at("2026-07-10T08:00:00Z"), zone("America/New_York"));
        let clock: SharedClock = manual.clone();
        let emulator = ipico(&clock, |o| o.zone = Some(zone("Europe/Madrid"))).await;
        let mut config = emulator.config();
        config.reader_zone = None;
        let (handle, reads) = supervise(config, &clock);
        connected(&handle).await;
        let status = crate::support::wait_for(&handle, Duration::from_secs(5), "a hint", |s| {
            s.clock_hint.is_some()
        })
        .await;
        let offset = status.clock_offset_ms.unwrap();
        assert!((offset - 6 * 3_600_000).abs() < 1000, "offset {offset}");
        let hint = status.clock_hint.unwrap();
        assert!(hint.text.starts_with("Reader clock is 6 h 0 min"), "{}", hint.text);
        assert!(hint.text.ends_with("ahead of this computer"), "{}", hint.text);
        assert_eq!(hint.proposed_zone.map(|z| z.to_string()).as_deref(), Some("+02:00"));
        drop(reads);
        stop(handle, emulator).await;
    })
    .await;
}

/// Reads made by a reader in Madrid whose clock follows DST, at the host instants `steps`
/// (moved on the wall clock only, so the link is never quiet): their UTC times.
async fn reads_across(steps: &[&str]) -> (Vec<StampedRead>, Vec<DateTime<Utc>>) {
    let madrid = zone("Europe/Madrid");
    let manual = ManualClock::in_zone(at(steps[0]), madrid);
    let clock: SharedClock = manual.clone();
    let emulator = ipico(&clock, |o| o.zone = Some(madrid)).await;
    let mut config = emulator.config();
    config.reader_zone = None;
    let (handle, mut reads) = supervise(config, &clock);
    connected(&handle).await;
    let (mut made, mut got) = (Vec::new(), Vec::new());
    for step in steps {
        let jump = (at(step) - manual.now()).num_milliseconds();
        manual.jump_wall(jump);
        made.push(manual.now());
        emulator.emit().await;
        // Arrived before the clock moves on: the host time it is stamped with is `step`.
        got.extend(collect(&mut reads, 1, Duration::from_secs(5)).await);
    }
    assert_eq!(handle.status().borrow().counters.connects, 1);
    stop(handle, emulator).await;
    (got, made)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_on_both_sides_of_a_dst_change_keep_their_order_and_value() {
    bounded(async {
        // 2026-10-25 03:00 CEST → 02:00 CET (01:00 UTC): the reader shows 02:30 twice.
        let (got, made) = reads_across(&[
            "2026-10-25T00:30:00Z", // 02:30:00 CEST
            "2026-10-25T00:59:59Z", // 02:59:59 CEST
            "2026-10-25T01:00:01Z", // 02:00:01 CET
            "2026-10-25T01:30:00Z", // 02:30:00 CET
        ])
        .await;
        assert_near(&got, &made, 10);
        let times: Vec<_> = got.iter().map(|r| r.reader_time_utc.unwrap()).collect();
        assert!(times.windows(2).all(|w| w[0] < w[1]), "in order: {times:?}");
        // 2026-03-29 02:00 CET → 03:00 CEST (01:00 UTC).
        let (got, made) = reads_across(&[
            "2026-03-29T00:59:59Z", // 01:59:59 CET
            "2026-03-29T01:00:01Z", // 03:00:01 CEST
        ])
        .await;
        assert_near(&got, &made, 10);
        assert_eq!(
            (got[1].reader_time_utc.unwrap() - got[0].reader_time_utc.unwrap()).num_seconds(),
            2
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_adjustment_moves_later_reads_only_and_keeps_the_link() {
    bounded(async {
        let manual = ManualClock::new(at("2026-07-10T08:00:00Z"));
        let clock: SharedClock = manual.clone();
        // A reader with a clock: its own time moves.
        let emulator = ipico(&clock, |_| {}).await;
        let (handle, mut reads) = supervise(emulator.config(), &clock);
        connected(&handle).await;
        let before = emulator.emit_many(3, Duration::from_millis(5)).await;
        let got_before = collect(&mut reads, 3, Duration::from_secs(5)).await;
        handle.set_adjustment(-1500).await.unwrap();
        assert_eq!(handle.status().borrow().adjust_ms, -1500);
        let after = emulator.emit_many(3, Duration::from_millis(5)).await;
        let got_after = collect(&mut reads, 3, Duration::from_secs(5)).await;
        for (e, r) in before.iter().zip(&got_before) {
            assert_eq!(r.reader_time_utc, e.reader_time_utc, "before the change: unchanged");
            assert_eq!(r.adjustment_ms, 0);
        }
        for (e, r) in after.iter().zip(&got_after) {
            let shifted = e.reader_time_utc.unwrap() - TimeDelta::milliseconds(1500);
            assert_eq!(r.reader_time_utc, Some(shifted), "after: exactly 1.5 s earlier");
            assert_eq!(r.adjustment_ms, -1500);
        }
        // A read is counted just after it is handed on: wait for the status to say so.
        let mut status_rx = handle.status();
        let status = status_rx.wait_for(|s| s.counters.reads >= 6).await.unwrap().clone();
        assert_eq!(status.counters.connects, 1, "the link was never re-made");
        assert_eq!(status.counters.reads, 6);
        assert!(handle.set_adjustment(3_600_001).await.is_err());
        stop(handle, emulator).await;

        // A reader without a clock: the host time it is stamped with moves.
        let emulator =
            Emulator::tcp(Protocol::Lines, EmulatorOptions::new(clock.clone())).await.unwrap();
        let (handle, mut reads) = supervise(emulator.config(), &clock);
        connected(&handle).await;
        emulator.emit().await;
        let first = collect(&mut reads, 1, Duration::from_secs(5)).await;
        handle.set_adjustment(250).await.unwrap();
        emulator.emit().await;
        let second = collect(&mut reads, 1, Duration::from_secs(5)).await;
        let host = manual.now();
        assert_eq!(first[0].host_time, host);
        assert_eq!(first[0].reader_time_utc, None);
        assert_eq!(second[0].host_time, host + TimeDelta::milliseconds(250));
        assert_eq!(handle.status().borrow().counters.connects, 1);
        stop(handle, emulator).await;
    })
    .await;
}
