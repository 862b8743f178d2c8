//! Readers as race day has them: a clock 30 s behind the laptop, a serial link that falls
//! seconds behind at a mass finish, a CloudBox that starts a new file while connected. Emulated
//! readers on loopback TCP, the CLI as a process, the simulator with de-duplication off.

use std::time::Duration;

use chrono::TimeDelta;
use timing_core::clock::SystemClock;
use timing_readers::Protocol;
use timing_readers::emulator::{Emulator, EmulatorOptions};

use crate::support::{
    Console, DRILL_LIMIT, assert_exactly_once, cloud_passings, eventually, strict_sim,
};

async fn reader(protocol: Protocol, skew_s: i64, link_delay: Option<Duration>) -> Emulator {
    let mut options = EmulatorOptions::new(SystemClock::shared());
    options.skew = TimeDelta::seconds(skew_s);
    options.link_delay = link_delay;
    Emulator::tcp(protocol, options).await.unwrap()
}

/// Reads of one chip 1 s apart from a reader 30 s behind the host make one passing: the window
/// compares reader times with reader times.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_clock_behind_the_host_still_deduplicates() {
    tokio::time::timeout(DRILL_LIMIT, async {
        let sim = strict_sim().await;
        let console = Console::new(&sim);
        console.ready().await;
        let emu = reader(Protocol::CloudBox, -30, None).await;
        let mut run = console.spawn_run_readers(&[emu.config().to_string()], &[]);
        eventually("the reader connects", &console, || async { emu.stats().await.connected }).await;
        for chip in ["A1", "A1", "A1", "B2", "B2", "B2"] {
            emu.emit_chip(chip).await;
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        eventually("6 raw reads are stored", &console, || async {
            console.raw_read_counts().await.0 >= 6
        })
        .await;
        console.interrupt(&mut run).await;
        console.drain().await;
        let cloud = cloud_passings(&console, &sim).await;
        assert_eq!(cloud.len(), 2, "one passing per chip, not one per read: {cloud:?}");
        assert_eq!(console.raw_read_counts().await, (6, 4), "every read kept, 4 flagged");
        assert_exactly_once(&console, &sim).await;
    })
    .await
    .unwrap();
}

/// 50 chips read 3 times each over a link that delivers reads 6 s late (longer than the 5 s
/// window): 50 passings, 100 flagged duplicates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_link_still_deduplicates() {
    tokio::time::timeout(DRILL_LIMIT, async {
        let sim = strict_sim().await;
        let console = Console::new(&sim);
        console.ready().await;
        let emu = reader(Protocol::CloudBox, 0, Some(Duration::from_secs(6))).await;
        let mut run = console.spawn_run_readers(&[emu.config().to_string()], &[]);
        eventually("the reader connects", &console, || async { emu.stats().await.connected }).await;
        for _ in 0..3 {
            for i in 0..50 {
                emu.emit_chip(&format!("S{i:03}")).await;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        eventually("150 raw reads are stored", &console, || async {
            console.raw_read_counts().await.0 >= 150
        })
        .await;
        console.interrupt(&mut run).await;
        console.drain().await;
        assert_eq!(cloud_passings(&console, &sim).await.len(), 50);
        assert_eq!(console.raw_read_counts().await, (150, 100));
        assert_exactly_once(&console, &sim).await;
    })
    .await
    .unwrap();
}

/// A CloudBox starts a new file while connected (passing numbers from 1 again, new chips):
/// every new read is stored and makes a passing; a rewind is still recognised.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_restarts_its_numbering_loses_nothing() {
    tokio::time::timeout(DRILL_LIMIT, async {
        let sim = strict_sim().await;
        let console = Console::new(&sim);
        console.ready().await;
        let emu = reader(Protocol::CloudBox, 0, None).await;
        let mut run = console.spawn_run_readers(&[emu.config().to_string()], &[]);
        eventually("the reader connects", &console, || async { emu.stats().await.connected }).await;
        for i in 0..20 {
            emu.emit_chip(&format!("F1-{i:02}")).await;
        }
        eventually("the first file is stored", &console, || async {
            console.raw_read_counts().await.0 >= 20
        })
        .await;
        emu.restart_numbering().await;
        for i in 0..20 {
            emu.emit_chip(&format!("F2-{i:02}")).await;
        }
        eventually("the second file is stored", &console, || async {
            console.raw_read_counts().await.0 >= 40
        })
        .await;
        // A dropped link makes the console rewind: what comes again is stored flagged.
        emu.drop_link().await;
        eventually("the rewind is stored", &console, || async {
            console.raw_read_counts().await.1 > 0
        })
        .await;
        console.interrupt(&mut run).await;
        console.drain().await;
        assert_eq!(cloud_passings(&console, &sim).await.len(), 40, "both files reached RUFUS");
        let (raw, dup) = console.raw_read_counts().await;
        assert_eq!(raw - dup, 40, "40 reads made passings; {dup} rewound reads kept, flagged");
        assert_exactly_once(&console, &sim).await;
    })
    .await
    .unwrap();
}
