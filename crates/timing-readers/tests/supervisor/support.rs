//! Helpers shared by the supervisor tests: run a supervisor against an emulator, collect its
//! reads with a deadline, wait for states, and check that every emitted read arrived once (and
//! anything more is a flagged repeat).

use std::collections::BTreeMap;
use std::time::Duration;

use timing_readers::clock::{SharedClock, SystemClock};
use timing_readers::emulator::{EmittedRead, Emulator};
use timing_readers::{
    ReaderConfig, ReaderHandle, ReaderState, ReaderStatus, ReaderSupervisor, StampedRead,
};
use tokio::sync::mpsc;

/// Every test is bounded by this.
pub const TEST_LIMIT: Duration = Duration::from_secs(20);

/// The host clock.
pub fn clock() -> SharedClock {
    SystemClock::shared()
}

/// A supervisor for `config` with its reads channel.
pub fn supervise(
    config: ReaderConfig,
    clock: &SharedClock,
) -> (ReaderHandle, mpsc::Receiver<StampedRead>) {
    let (tx, rx) = mpsc::channel(1024);
    (ReaderSupervisor::spawn(config, clock.clone(), tx), rx)
}

/// Waits until the status satisfies `pred`.
pub async fn wait_for(
    handle: &ReaderHandle,
    within: Duration,
    what: &str,
    pred: impl Fn(&ReaderStatus) -> bool,
) -> ReaderStatus {
    let mut status = handle.status();
    let found = tokio::time::timeout(within, async {
        loop {
            {
                let now = status.borrow_and_update();
                if pred(&now) {
                    return now.clone();
                }
            }
            if status.changed().await.is_err() {
                panic!("status channel closed while waiting for {what}");
            }
        }
    })
    .await;
    match found {
        Ok(status) => status,
        Err(_) => panic!("timed out waiting for {what}; status: {:#?}", handle.status().borrow()),
    }
}

/// Waits until the reader is connected and its opening commands had time to be answered.
pub async fn connected(handle: &ReaderHandle) -> ReaderStatus {
    let status = wait_for(handle, Duration::from_secs(5), "connected", |s| {
        matches!(s.state, ReaderState::Connected | ReaderState::Reading)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    status
}

/// Receives reads until `n` arrived or `within` passed.
pub async fn collect(
    rx: &mut mpsc::Receiver<StampedRead>,
    n: usize,
    within: Duration,
) -> Vec<StampedRead> {
    let mut got = Vec::new();
    let _ = tokio::time::timeout(within, async {
        while got.len() < n {
            match rx.recv().await {
                Some(read) => got.push(read),
                None => break,
            }
        }
    })
    .await;
    got
}

/// Whatever arrives within `within` (to check that nothing more comes).
pub async fn drain(rx: &mut mpsc::Receiver<StampedRead>, within: Duration) -> Vec<StampedRead> {
    collect(rx, usize::MAX, within).await
}

/// The identity of a delivered read (replay key, else chip).
pub fn identity(read: &StampedRead) -> String {
    read.replay_key.clone().unwrap_or_else(|| read.read.chip.clone())
}

/// Every emitted read arrived exactly once unflagged, with the emulator's reader time; anything
/// else delivered is a repeat ([`StampedRead::repeated`]) of a read delivered before it.
pub fn assert_each_once(emitted: &[EmittedRead], got: &[StampedRead]) {
    assert_repeats_follow_their_reads(got);
    let fresh: Vec<&StampedRead> = got.iter().filter(|r| !r.repeated).collect();
    let mut counts: BTreeMap<String, Vec<&StampedRead>> = BTreeMap::new();
    for read in &fresh {
        counts.entry(identity(read)).or_default().push(read);
    }
    for read in emitted {
        let id = read.identity();
        let arrived = counts.get(&id).map(Vec::as_slice).unwrap_or_default();
        assert_eq!(
            arrived.len(),
            1,
            "read {id} arrived {} times unflagged (of {} delivered)",
            arrived.len(),
            got.len()
        );
        assert_eq!(arrived[0].reader_time_utc, read.reader_time_utc, "reader time of {id}");
        assert_eq!(arrived[0].read.chip, read.chip, "chip of {id}");
    }
    assert_eq!(fresh.len(), emitted.len(), "nothing else was delivered unflagged");
}

/// Each read flagged repeated has a replay key, and a read with that key, the same chip and
/// reader time was delivered unflagged before it; no unflagged read repeats a key.
pub fn assert_repeats_follow_their_reads(got: &[StampedRead]) {
    let mut seen: BTreeMap<String, &StampedRead> = BTreeMap::new();
    for read in got {
        let Some(key) = &read.replay_key else {
            assert!(!read.repeated, "a read without a key is never a repeat");
            continue;
        };
        match (read.repeated, seen.get(key)) {
            (true, Some(first)) => {
                assert_eq!(first.read.chip, read.read.chip, "chip of repeated {key}");
                assert_eq!(first.reader_time_utc, read.reader_time_utc, "time of repeated {key}");
            }
            (true, None) => panic!("{key} flagged repeated but not delivered before"),
            (false, Some(_)) => panic!("{key} delivered twice unflagged"),
            (false, None) => {
                seen.insert(key.clone(), read);
            }
        }
    }
}

/// Runs `test` within [`TEST_LIMIT`].
pub async fn bounded<F: std::future::Future<Output = ()>>(test: F) {
    tokio::time::timeout(TEST_LIMIT, test).await.expect("test took too long");
}

/// Shuts both down.
pub async fn stop(handle: ReaderHandle, emulator: Emulator) {
    handle.shutdown().await;
    emulator.shutdown().await;
}
