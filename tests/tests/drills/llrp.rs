//! An LLRP reader (Impinj / Zebra) as a crew meets it: its clock 2 s off the laptop's, reports
//! split into pieces and doubled, the link cut mid-race while tags keep being read. The
//! emulated reader on loopback TCP, the CLI as a process, the simulator with de-duplication off.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use timing_core::clock::SystemClock;
use timing_readers::Protocol;
use timing_readers::emulator::{Emulator, EmulatorOptions, Faults};

use crate::support::{
    Console, DRILL_LIMIT, assert_exactly_once, cloud_passings, eventually, strict_sim,
};

/// 60 tags, 20 of them read while the link is down: every tag reaches RUFUS once, at the
/// reader's first-seen time (±1 ms), whatever the laptop's clock said when it arrived.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_llrp_reader_sends_every_tag_once_at_its_first_seen_time() {
    tokio::time::timeout(DRILL_LIMIT, async {
        let sim = strict_sim().await;
        let console = Console::new(&sim);
        console.ready().await;
        let mut options = EmulatorOptions::new(SystemClock::shared());
        options.skew = TimeDelta::milliseconds(-2_000);
        let emu = Emulator::tcp(Protocol::Llrp, options).await.unwrap();
        emu.set_faults(Faults { split: true, double_every: Some(5), ..Faults::default() }).await;
        let spec = format!("{}&keepalive=1s", emu.config());
        let mut run = console.spawn_run_readers(&[spec], &[]);
        eventually("the reader reports", &console, || async { emu.stats().await.sending }).await;

        let mut made = BTreeMap::new();
        for i in 0..40 {
            let read = emu.emit_chip(&format!("E2801170000000000000{i:04X}")).await;
            made.insert(read.chip.clone(), read.reader_time_utc.unwrap());
            if i == 19 {
                eventually("20 tags are stored", &console, || async {
                    console.raw_read_counts().await.0 >= 20
                })
                .await;
                emu.drop_link().await;
                // Read while nobody listens: the reader holds them (hold=1).
                for j in 0..20 {
                    let read = emu.emit_chip(&format!("E28011700000000000AA{j:04X}")).await;
                    assert!(!read.live, "the link is down");
                    made.insert(read.chip.clone(), read.reader_time_utc.unwrap());
                }
                eventually("the reader reports again", &console, || async {
                    emu.stats().await.sending
                })
                .await;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        eventually("60 tags are stored", &console, || async {
            console.raw_read_counts().await.0 - console.raw_read_counts().await.1 >= 60
        })
        .await;
        console.interrupt(&mut run).await;
        console.drain().await;

        let cloud = cloud_passings(&console, &sim).await;
        assert_eq!(cloud.len(), 60, "every tag once: {cloud:?}");
        for passing in &cloud {
            let chip = passing.chip.clone().unwrap_or_default().to_ascii_uppercase();
            let first_seen = made.get(&chip).unwrap_or_else(|| panic!("unknown chip {chip}"));
            let sent: DateTime<Utc> = passing.timestamp.parse().unwrap();
            let off = (sent - *first_seen).num_microseconds().unwrap().abs();
            assert!(off <= 1_000, "{chip}: sent {sent}, first seen {first_seen}");
        }
        let (raw, duplicates) = console.raw_read_counts().await;
        assert!(duplicates > 0, "doubled reports are kept, flagged ({raw} raw)");
        assert!(emu.stats().await.connections >= 2, "the link was cut and came back");
        assert_exactly_once(&console, &sim).await;
    })
    .await
    .unwrap();
}
