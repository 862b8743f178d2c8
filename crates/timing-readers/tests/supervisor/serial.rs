//! The supervisor against pseudo-terminal emulators of the serial readers (IPICO, R2000, Chafon,
//! Timy, keyboard lines): every read arrives once, a pulled and replugged cable is reopened
//! within 2 s through the same path — not before the settle delay, and once more after it when
//! the returned port is not ready yet — Timy's memory is re-sent after it, a Timy configured with
//! `number=bib` delivers its number as the bib, faults are counted, a quiet line is reported, and
//! a port the OS will not open says how to fix that in `last_error`. Tests that create pty pairs run one at a time.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::{
    assert_each_once, bounded, clock, collect, connected, drain, stop, supervise, wait_for,
};
use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
use timing_readers::clock::SharedClock;
use timing_readers::emulator::{Emulator, EmulatorOptions, Faults};
use timing_readers::supervisor::OffsetSource;
use timing_readers::transport::{REPLUG_SETTLE, TransportError};
use timing_readers::{
    Backoff, Link, Protocol, ReadDetails, ReaderConfig, ReaderState, SerialSettings, StampedRead,
};

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
        let since_wall = clock.now();
        emulator.replug().await.unwrap();
        let status = wait_for(&handle, Duration::from_secs(5), "reconnect", |s| {
            s.counters.connects > connects && s.connected_since.is_some()
        })
        .await;
        let took = clock.monotonic().saturating_sub(since);
        eprintln!("{protocol} on a pty: reopened {took:?} after the port returned");
        assert!(took < Duration::from_secs(2), "{protocol}: reconnect took {took:?}");
        let opened_after = elapsed(since_wall, status.connected_since.unwrap());
        assert!(
            opened_after >= REPLUG_SETTLE,
            "{protocol}: opened {opened_after:?} after the port returned, before the settle delay"
        );

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

/// A Timy whose number is the start number (`number=bib`): every impulse arrives with that
/// number as its bib — live ones and those its memory re-sends for a rewind — and no chip.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timy_configured_with_number_bib_delivers_its_number_as_the_bib() {
    let _pty = PTY.lock().await;
    bounded(async {
        let clock = clock();
        let emulator = Emulator::pty(Protocol::Timy, options(&clock)).await.unwrap();
        let mut config = emulator.config();
        config.protocol_options.insert("number".into(), "bib".into());
        assert!(config.to_string().contains("&number=bib"), "{config}");
        let (handle, mut reads) = supervise(config, &clock);
        connected(&handle).await;
        let emitted = emulator.emit_many(3, Duration::from_millis(3)).await;
        let live = collect(&mut reads, 3, Duration::from_secs(3)).await;
        assert_each_once(&emitted, &live);
        let number = |read: &StampedRead| match &read.read.details {
            ReadDetails::Timy(d) => d.number,
            other => panic!("not a Timy impulse: {other:?}"),
        };
        for read in &live {
            assert!(read.read.chip.is_empty());
            assert_eq!(read.read.bib, Some(number(read).to_string()), "{:?}", read.read);
        }
        assert_eq!(
            live.iter().map(|r| r.read.bib.clone().unwrap()).collect::<Vec<_>>(),
            ["1", "2", "3"]
        );

        // The memory re-sent (`RSM`): the same reads, flagged repeated, with their bibs.
        handle.rewind(clock.now() - TimeDelta::hours(1), clock.now()).await.unwrap();
        let again = collect(&mut reads, 3, Duration::from_secs(3)).await;
        assert_eq!(again.len(), 3);
        for read in &again {
            assert!(read.repeated && read.read.flags.from_memory);
            assert_eq!(read.read.bib, Some(number(read).to_string()));
        }
        stop(handle, emulator).await;
    })
    .await;
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

/// Wall time from `from` to `to` (zero if `to` is earlier).
fn elapsed(from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
    (to - from).to_std().unwrap_or_default()
}

/// Makes a FIFO at `path`: a node that is there but is no serial device (like a replugged
/// adapter whose driver is not ready yet): opening it works, configuring it as a tty fails.
fn mkfifo(path: &Path) {
    let made = std::process::Command::new("mkfifo").arg(path).status().expect("run mkfifo");
    assert!(made.success(), "mkfifo {}", path.display());
}

/// When the FIFO at `path` is first opened by someone else: a writer's open blocks until a
/// reader (here the supervisor, which opens ports read-write) opens it.
fn when_opened(path: PathBuf, clock: SharedClock) -> tokio::sync::oneshot::Receiver<DateTime<Utc>> {
    let (opened, when) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        if let Ok(fifo) = std::fs::OpenOptions::new().write(true).open(&path) {
            let _ = opened.send(clock.now());
            drop(fifo);
        }
    });
    when
}

/// A port that comes back is first opened [`REPLUG_SETTLE`] after it reappeared; when that open
/// fails (the node is there but not ready: a FIFO stands in for it) it is tried again after
/// another `REPLUG_SETTLE` — not after a back-off step (5 s here) — and the failure is not
/// reported in `last_error`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replugged_port_not_ready_at_once_is_retried_after_the_settle_delay() {
    let _pty = PTY.lock().await;
    bounded(async {
        let clock = clock();
        let emulator = Emulator::pty(Protocol::Timy, options(&clock)).await.unwrap();
        let path = emulator.path().unwrap().to_path_buf();
        let mut config = emulator.config();
        config.backoff = Backoff { min: Duration::from_secs(5), max: Duration::from_secs(5) };
        let (handle, mut reads) = supervise(config, &clock);
        connected(&handle).await;
        let connects = handle.status().borrow().counters.connects;

        emulator.unplug().await;
        wait_for(&handle, Duration::from_secs(3), "lost", |s| s.state == ReaderState::Lost).await;
        // Long enough for the supervisor to have looked for the port and found it missing.
        tokio::time::sleep(Duration::from_millis(400)).await;
        let appeared = clock.now();
        mkfifo(&path);
        let first_open =
            tokio::time::timeout(Duration::from_secs(4), when_opened(path.clone(), clock.clone()))
                .await
                .expect("the supervisor opens the returned port well before its 5 s back-off")
                .unwrap();
        let waited = elapsed(appeared, first_open);
        eprintln!("first open {waited:?} after the port appeared");
        assert!(waited >= REPLUG_SETTLE, "opened {waited:?} after it appeared");

        // The real device is ready now.
        emulator.replug().await.unwrap();
        let status = wait_for(&handle, Duration::from_secs(3), "reopened after the retry", |s| {
            s.counters.connects > connects && s.connected_since.is_some()
        })
        .await;
        let retried = elapsed(first_open, status.connected_since.unwrap());
        eprintln!("reopened {retried:?} after the failed first open");
        assert!(retried >= REPLUG_SETTLE, "retried {retried:?} after the failed open");
        let error = status.last_error.clone().unwrap_or_default();
        assert!(!error.starts_with("cannot open"), "the not-ready open is not reported: {error}");

        let read = emulator.emit().await;
        assert_each_once(&[read], &collect(&mut reads, 1, Duration::from_secs(2)).await);
        stop(handle, emulator).await;
    })
    .await;
}

/// Root opens anything whatever its permission bits (and the tests here often run as root).
fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt as _;
    let probe = tempfile::NamedTempFile::new().unwrap();
    probe.as_file().metadata().unwrap().uid() == 0
}

/// A pty the user may not open (mode 000): the status says how to fix it; once it may, the
/// supervisor connects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_port_without_permission_says_how_to_fix_it() {
    use std::os::unix::fs::PermissionsExt as _;
    if running_as_root() {
        eprintln!(
            "skipped a_port_without_permission_says_how_to_fix_it: running as root, which \
             ignores permission bits (the mapping is unit-tested in transport::access, and \
             permission_denied_reaches_last_error_as_the_fix covers the path as root)"
        );
        return;
    }
    let _pty = PTY.lock().await;
    bounded(async {
        let clock = clock();
        let emulator = Emulator::pty(Protocol::Lines, options(&clock)).await.unwrap();
        let path = emulator.path().unwrap().to_path_buf();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
        let (handle, mut reads) = supervise(emulator.config(), &clock);
        let status = wait_for(&handle, Duration::from_secs(3), "permission denied", |s| {
            s.state == ReaderState::Lost && s.last_error.is_some()
        })
        .await;
        let error = status.last_error.unwrap();
        eprintln!("last_error: {error}");
        if cfg!(target_os = "linux") {
            let start = format!("no permission to open {}: add yourself to the `", path.display());
            assert!(error.starts_with(&start), "{error}");
            assert!(error.contains("group with `sudo usermod -aG "), "{error}");
            assert!(error.ends_with("$USER`, then log out and in again"), "{error}");
        } else {
            assert!(error.contains(&*path.to_string_lossy()), "{error}");
        }

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        connected(&handle).await;
        let read = emulator.emit().await;
        assert_each_once(&[read], &collect(&mut reads, 1, Duration::from_secs(2)).await);
        stop(handle, emulator).await;
    })
    .await;
}

/// A node even root may not open read-write: a read-only sysfs attribute (EACCES from the
/// kernel, whatever the user). `None` when this system has none that refuses.
#[cfg(target_os = "linux")]
fn refused_node() -> Option<&'static str> {
    [
        "/sys/class/tty/tty0/dev",
        "/sys/devices/system/cpu/online",
        "/sys/kernel/mm/transparent_hugepage/hpage_pmd_size",
    ]
    .into_iter()
    .find(|path| {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .is_err_and(|e| e.kind() == std::io::ErrorKind::PermissionDenied)
    })
}

/// The OS refusing the open (EACCES) becomes `TransportError::PermissionDenied` in the serial
/// transport and its one-line fix in the supervisor's `last_error` — as root too.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permission_denied_reaches_last_error_as_the_fix() {
    let Some(node) = refused_node() else {
        eprintln!("skipped: no read-only sysfs attribute refuses a read-write open here");
        return;
    };
    bounded(async {
        let clock = clock();
        let fix = format!(
            "no permission to open {node}: add yourself to the `dialout` group with \
             `sudo usermod -aG dialout $USER`, then log out and in again"
        );
        // Owned by group root: the fix names dialout.
        let opened = timing_readers::transport::serial::open(
            node,
            SerialSettings::eight_n_one(9600),
            clock.clone(),
        );
        assert_eq!(
            opened.err(),
            Some(TransportError::PermissionDenied { path: node.to_string(), fix: fix.clone() })
        );

        let config = ReaderConfig::from_spec(&format!("serial:{node}?protocol=lines")).unwrap();
        let (handle, _reads) = supervise(config, &clock);
        let status = wait_for(&handle, Duration::from_secs(3), "permission denied", |s| {
            s.state == ReaderState::Lost && s.last_error.is_some()
        })
        .await;
        assert_eq!(status.last_error.as_deref(), Some(fix.as_str()));
        assert_eq!(status.counters.connects, 0);
        handle.shutdown().await;
    })
    .await;
}
