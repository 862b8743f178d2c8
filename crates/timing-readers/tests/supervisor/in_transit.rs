//! Reads in transit when a link is cut (seed 9 of `cargo xtask chaos`): on a slow link the last
//! frames before a cut are on the wire and never arrive, while the reader keeps them in its
//! memory. Whatever the protocol's rewind is built on (RACE RESULT passing numbers, Ultra log ids,
//! CloudBox times, IPICO Elite replay from a time), every read the reader made must reach the
//! host at least once — live, or through the rewind after the reconnect — also when the link is
//! cut again while that rewind is still on its way.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::support::{
    assert_repeats_follow_their_reads, bounded, clock, collect, connected, identity, stop,
    supervise,
};
use timing_readers::clock::SharedClock;
use timing_readers::emulator::{EmittedRead, Emulator, EmulatorOptions, Faults};
use timing_readers::{Protocol, StampedRead};

/// A slow link, as in the chaos seed (142 ms).
const LINK_DELAY: Duration = Duration::from_millis(150);
/// One read every this long: several reads are on the wire at any moment.
const EVERY: Duration = Duration::from_millis(40);

fn options(clock: &SharedClock, protocol: Protocol) -> EmulatorOptions {
    let mut options = EmulatorOptions::new(clock.clone());
    options.link_delay = Some(LINK_DELAY);
    options.ipico_elite = protocol == Protocol::Ipico;
    options.seed = 9;
    options
}

/// Collects reads until every emitted read arrived (or `within` passed), then a little more.
async fn until_all_arrived(
    clock: &SharedClock,
    reads: &mut tokio::sync::mpsc::Receiver<StampedRead>,
    emitted: &[EmittedRead],
    within: Duration,
    got: &mut Vec<StampedRead>,
) {
    let wanted: BTreeSet<String> = emitted.iter().map(EmittedRead::identity).collect();
    let deadline = clock.monotonic() + within;
    loop {
        let arrived: BTreeSet<String> = got.iter().map(identity).collect();
        if wanted.is_subset(&arrived) || clock.monotonic() >= deadline {
            break;
        }
        got.extend(collect(reads, 1, Duration::from_millis(100)).await);
    }
    got.extend(collect(reads, usize::MAX, Duration::from_millis(300)).await);
}

fn assert_every_read_arrived(protocol: Protocol, emitted: &[EmittedRead], got: &[StampedRead]) {
    assert_repeats_follow_their_reads(got);
    let arrived: BTreeSet<String> = got.iter().map(identity).collect();
    let missing: Vec<String> =
        emitted.iter().map(EmittedRead::identity).filter(|id| !arrived.contains(id)).collect();
    assert!(
        missing.is_empty(),
        "{protocol}: {} of {} reads never arrived: {missing:?}",
        missing.len(),
        emitted.len()
    );
    for read in emitted {
        let first = got.iter().find(|r| identity(r) == read.identity());
        assert_eq!(
            first.and_then(|r| r.reader_time_utc),
            read.reader_time_utc,
            "{protocol}: reader time of {}",
            read.identity()
        );
    }
}

/// `Faults::drop_after` cuts the link right after the 12th frame: the frames still on the slow
/// link are lost; reads go on at a steady pace through the reconnect.
async fn dropped_after_frames(protocol: Protocol) {
    bounded(async {
        let clock = clock();
        let emulator = Emulator::tcp(protocol, options(&clock, protocol)).await.unwrap();
        let (handle, mut reads) = supervise(emulator.config(), &clock);
        connected(&handle).await;
        tokio::time::sleep(LINK_DELAY).await;
        emulator.set_faults(Faults { drop_after: Some(12), ..Faults::default() }).await;
        let emitted = emulator.emit_many(40, EVERY).await;
        assert!(emitted.iter().filter(|r| r.live).count() > 12, "{protocol}: reads went on live");
        let mut got = Vec::new();
        until_all_arrived(&clock, &mut reads, &emitted, Duration::from_secs(6), &mut got).await;
        assert_every_read_arrived(protocol, &emitted, &got);
        let status = handle.status().borrow().clone();
        assert!(status.counters.connects >= 2, "{protocol}: {:#?}", status.counters);
        stop(handle, emulator).await;
    })
    .await;
}

/// The link is cut twice in quick succession: the second cut comes while what the first one
/// lost is still being fetched again (or its request is still on the slow link), and newer
/// reads have already arrived live.
async fn cut_again_during_the_rewind(protocol: Protocol) {
    bounded(async {
        let clock = clock();
        let emulator = Emulator::tcp(protocol, options(&clock, protocol)).await.unwrap();
        let (handle, mut reads) = supervise(emulator.config(), &clock);
        connected(&handle).await;
        tokio::time::sleep(LINK_DELAY).await;
        let mut emitted = emulator.emit_many(10, EVERY).await;
        emulator.drop_link().await;
        // Reads go on: some while unlinked, then live on the new connection.
        for _ in 0..3 {
            let connects = handle.status().borrow().counters.connects;
            let mut waited = Duration::ZERO;
            while handle.status().borrow().counters.connects == connects
                && waited < Duration::from_secs(3)
            {
                emitted.push(emulator.emit().await);
                tokio::time::sleep(EVERY).await;
                waited += EVERY;
            }
            // Live reads on the new link arrive before the rewind's answer does; then cut.
            emitted.extend(emulator.emit_many(5, EVERY).await);
            tokio::time::sleep(Duration::from_millis(30)).await;
            emulator.drop_link().await;
        }
        emitted.extend(emulator.emit_many(10, EVERY).await);
        let mut got = Vec::new();
        until_all_arrived(&clock, &mut reads, &emitted, Duration::from_secs(8), &mut got).await;
        assert_every_read_arrived(protocol, &emitted, &got);
        stop(handle, emulator).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raceresult_reads_in_transit_at_a_cut_are_fetched_again() {
    tokio::join!(
        dropped_after_frames(Protocol::RaceResult),
        cut_again_during_the_rewind(Protocol::RaceResult)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipico_elite_reads_in_transit_at_a_cut_are_replayed() {
    tokio::join!(
        dropped_after_frames(Protocol::Ipico),
        cut_again_during_the_rewind(Protocol::Ipico)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloudbox_reads_in_transit_at_a_cut_are_rewound() {
    tokio::join!(
        dropped_after_frames(Protocol::CloudBox),
        cut_again_during_the_rewind(Protocol::CloudBox)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ultra_reads_in_transit_at_a_cut_are_rewound() {
    tokio::join!(
        dropped_after_frames(Protocol::Ultra),
        cut_again_during_the_rewind(Protocol::Ultra)
    );
}

/// Chaos seed 458: an Ultra on a slow link reboots while reads are on the wire, makes reads while
/// it is down, comes back briefly, reboots again and starts a new log (ids from 1) while down. The
/// reconnect's rewind by log id only reaches the new log: what the old log still owed (in transit
/// at the first reboot, made while unlinked) must come by a rewind by time, which covers all of
/// the reader's memory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ultra_reads_owed_by_a_log_before_a_new_one_are_rewound_by_time() {
    bounded(async {
        let protocol = Protocol::Ultra;
        let clock = clock();
        let emulator = Emulator::tcp(protocol, options(&clock, protocol)).await.unwrap();
        let (handle, mut reads) = supervise(emulator.config(), &clock);
        connected(&handle).await;
        tokio::time::sleep(LINK_DELAY).await;
        let mut emitted = emulator.emit_many(8, EVERY).await;
        // First reboot: the last reads are still on the slow link.
        emulator.unplug().await;
        emitted.extend(emulator.emit_many(5, EVERY).await);
        emulator.replug().await.unwrap();
        emitted.extend(emulator.emit_many(2, EVERY).await);
        // Second reboot, and a new log while down.
        emulator.unplug().await;
        emitted.extend(emulator.emit_many(3, EVERY).await);
        emulator.restart_numbering().await;
        emitted.extend(emulator.emit_many(3, EVERY).await);
        emulator.replug().await.unwrap();
        emitted.extend(emulator.emit_many(10, EVERY).await);
        assert!(emitted.iter().any(|r| !r.live), "some reads were made while unlinked");
        let mut got = Vec::new();
        until_all_arrived(&clock, &mut reads, &emitted, Duration::from_secs(8), &mut got).await;
        assert_every_read_arrived(protocol, &emitted, &got);
        stop(handle, emulator).await;
    })
    .await;
}
