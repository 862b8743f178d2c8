//! The supervisor against the emulated LLRP reader: the settings it read back shown beside what
//! the spec asked (a power it clamped marked and warned about), and its clock followed from the
//! reports through the connection (NTP stepping it mid-race moves the offset and the hint).

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use timing_readers::emulator::{Emulator, EmulatorOptions};
use timing_readers::llrp::command;
use timing_readers::llrp::model::{LlrpReader, ModelRead, ReaderModelConfig};
use timing_readers::supervisor::OffsetSource;
use timing_readers::{Protocol, ReaderStatus};

use crate::support::{bounded, clock, stop, supervise, wait_for};

/// `power=1:90`: the emulated reader's table ends at 81, it applies 81 and says success.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_read_back_settings_show_a_power_the_reader_did_not_take() {
    bounded(async {
        let clock = clock();
        let emulator =
            Emulator::tcp(Protocol::Llrp, EmulatorOptions::new(clock.clone())).await.unwrap();
        let mut config = emulator.config();
        config.protocol_options.insert("power".into(), "1:90".into());
        let (handle, _reads) = supervise(config, &clock);
        let status =
            wait_for(&handle, Duration::from_secs(5), "the read-back", |s| !s.settings.is_empty())
                .await;
        let setting = |name: &str| {
            let s = status.settings.iter().find(|s| s.name == name);
            s.map(|s| (s.asked.as_deref(), s.applied.as_deref(), s.differs()))
        };
        assert_eq!(setting("connected antennas"), Some((None, Some("1, 2"), false)));
        assert_eq!(setting("antenna 1 power"), Some((Some("90"), Some("81"), true)));
        assert_eq!(setting("antenna 2 power"), Some((None, Some("81"), false)));
        assert_eq!(setting("antenna 3 power"), None, "nothing on port 3, nothing asked of it");
        assert_eq!(
            status.warning.as_deref(),
            Some("antenna 1: transmit power 90 asked, 81 applied")
        );
        stop(handle, emulator).await;
    })
    .await;
}

/// A reader model that reports: its RO_ACCESS_REPORT bytes are sent raw through the emulator,
/// so their first-seen stamps are whatever the test says.
fn reporting_model() -> LlrpReader {
    let mut model = LlrpReader::new(ReaderModelConfig::default());
    model.connect(0);
    for request in [
        command::set_reader_config(1, &command::ReaderSettings::default()),
        command::add_rospec(2, 1, 1),
        command::enable_events_and_reports(3),
        command::enable_rospec(4, 1),
    ] {
        model.feed(&request);
    }
    assert!(model.is_reporting());
    model
}

fn report(model: &LlrpReader, n: u32, stamped: DateTime<Utc>) -> Vec<u8> {
    let mut epc = vec![0xE2, 0x80, 0x11, 0x70, 0, 0, 0, 0];
    epc.extend_from_slice(&n.to_be_bytes());
    let first_seen_us = u64::try_from(stamped.timestamp_micros()).unwrap();
    let read = ModelRead { epc, antenna: 1, peak_rssi: -50, first_seen_us, seen_count: 1 };
    model.tag_report(&[read], 100 + n)
}

fn offset(status: &ReaderStatus) -> i64 {
    status.clock_offset_ms.unwrap_or(i64::MIN)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_offset_follows_a_reader_clock_stepped_after_connect() {
    bounded(async {
        let clock = clock();
        let emulator =
            Emulator::tcp(Protocol::Llrp, EmulatorOptions::new(clock.clone())).await.unwrap();
        let (handle, mut reads) = supervise(emulator.config(), &clock);
        let at_connect = wait_for(&handle, Duration::from_secs(5), "the configuration", |s| {
            !s.settings.is_empty()
        })
        .await;
        assert!(offset(&at_connect).abs() < 500, "from the connection event: {at_connect:#?}");
        assert_eq!(at_connect.clock_offset_source, Some(OffsetSource::Followed));
        assert_eq!(at_connect.clock_hint, None);

        // NTP steps the reader's clock 6 s ahead: its next reports say so.
        let model = reporting_model();
        for n in 0..3 {
            emulator.send_raw(&report(&model, n, clock.now() + TimeDelta::seconds(6))).await;
        }
        let ahead = wait_for(&handle, Duration::from_secs(5), "the offset to follow", |s| {
            (offset(s) - 6000).abs() < 500
        })
        .await;
        assert!(ahead.clock_hint.is_some(), "beyond 2 s the tile says so: {ahead:#?}");
        let got = crate::support::collect(&mut reads, 3, Duration::from_secs(5)).await;
        assert_eq!(got.len(), 3);
        let last = got.last().and_then(|r| r.clock_offset_ms).unwrap();
        assert!((last - 6000).abs() < 500, "the reads carry the offset they were stamped with");

        // And back in step: once the stamps from before are older than the window.
        let back = async {
            let mut n = 10;
            loop {
                emulator.send_raw(&report(&model, n, clock.now())).await;
                n += 1;
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        };
        let settled = wait_for(&handle, Duration::from_secs(15), "the offset back near 0", |s| {
            offset(s).abs() < 500
        });
        let settled = tokio::select! {
            status = settled => status,
            _ = back => unreachable!(),
        };
        assert_eq!(settled.clock_hint, None, "{settled:#?}");
        drop(reads);
        stop(handle, emulator).await;
    })
    .await;
}
