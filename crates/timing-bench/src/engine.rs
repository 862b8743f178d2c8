//! The engine's figures: capture pipeline throughput, and syncing a backlog in batches against
//! one passing per request — all on a real SQLite file and the simulator over loopback HTTP.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use rufus_cloud_sim::{Sim, SimConfig};
use timing_core::changes::Change;
use timing_core::clock::SystemClock;
use timing_core::domain::PassingSource;
use timing_core::store::NewPassing;
use timing_core::sync::SyncConfig;
use timing_core::{BindRequest, Engine, EngineConfig};
use timing_readers::transport::sim::SimFinish;
use timing_readers::{Protocol, Rssi, StampedRead, TagRead};

use crate::{Figure, secs};

async fn engine(
    sim: &Sim,
    dir: &tempfile::TempDir,
    batch_size: usize,
    serial: &str,
) -> Result<Engine, String> {
    let mut config = EngineConfig::new(dir.path());
    config.api_url = Some(sim.base_url());
    config.api_key = Some(rufus_api::ApiKey::new(sim.admin_key()));
    config.sync = SyncConfig { batch_size, ..SyncConfig::default() };
    let engine = Engine::open(config, SystemClock::shared()).await.map_err(|e| e.to_string())?;
    let bind = BindRequest {
        serial_number: serial.into(),
        model: "bench".into(),
        device_type: "custom".into(),
        alias: None,
        firmware: None,
        take_over: false,
    };
    engine.bind_device(bind).await.map_err(|e| e.to_string())?;
    engine.open_session(Some("bench")).await.map_err(|e| e.to_string())?;
    Ok(engine)
}

/// Reads per second through de-duplication, commit and broadcast.
pub async fn pipeline(reads: usize) -> Result<Vec<Figure>, String> {
    let sim = Sim::start(SimConfig::default()).await.map_err(|e| e.to_string())?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let engine = engine(&sim, &dir, 500, "BENCH-PIPE").await?;
    // A finish big enough to give `reads` reads (about 2.5 reads per runner).
    let runners = u32::try_from(reads * 2 / 5).unwrap_or(u32::MAX);
    let script = SimFinish { runners, rate: 0.0, unknown: 0.02, seed: 42 }.script();
    let now = engine.clock().now();
    let prepared: Vec<StampedRead> = script
        .into_iter()
        .take(reads)
        .map(|(_, chip)| {
            let read =
                TagRead { antenna: Some(1), rssi: Some(Rssi::Dbm(-60)), ..TagRead::of_chip(chip) };
            StampedRead::live("bench", Protocol::Lines, read, now)
        })
        .collect();
    let total = prepared.len() as u64;

    let capture = engine.start_capture().await.map_err(|e| e.to_string())?;
    let mut changes = engine.changes().subscribe();
    let seen = Arc::new(AtomicU64::new(0));
    let counted = seen.clone();
    let listener = tokio::spawn(async move {
        while counted.load(Ordering::Relaxed) < total {
            match changes.recv().await {
                Ok(Change::Committed(batch)) => {
                    counted.fetch_add(batch.raw_reads as u64, Ordering::Relaxed);
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    });
    let mut stats = capture.stats();
    let sink = capture.sink();
    let started = Instant::now();
    let producer = tokio::spawn(async move {
        for read in prepared {
            if sink.send(read).await.is_err() {
                break;
            }
        }
    });
    while stats.borrow().raw_reads < total {
        if stats.changed().await.is_err() {
            break;
        }
    }
    let elapsed = started.elapsed();
    let _ = producer.await;
    let done = stats.borrow().clone();
    capture.shutdown().await;
    // A subscriber that lagged missed some commits: it reports what it saw.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), listener).await;
    let broadcast = seen.load(Ordering::Relaxed);
    let rate = total as f64 / secs(elapsed);
    sim.shutdown().await;
    Ok(vec![Figure {
        name: "capture pipeline".into(),
        value: rate,
        unit: "reads/s".into(),
        goal: "≥ 20,000 reads/s".into(),
        met: rate >= 20_000.0,
        note: format!(
            "{total} simulated reads ({} passings, {} duplicates) de-duplicated, committed to SQLite (WAL, synchronous=FULL) and broadcast ({broadcast} seen by a subscriber) in {:.2} s",
            done.passings,
            done.duplicates,
            secs(elapsed)
        ),
    }])
}

async fn backlog(engine: &Engine, count: usize) -> Result<(), String> {
    let session =
        engine.recording_session().await.map_err(|e| e.to_string())?.ok_or("no session")?;
    let now = engine.clock().now();
    let passings: Vec<NewPassing> = (0..count)
        .map(|i| NewPassing {
            bib: Some(format!("{}", i % 9000 + 1)),
            chip: Some(format!("E2000000{i:016X}")),
            timestamp: now + chrono_ms(i),
            source: PassingSource::Reader,
            status: None,
            corrects_id: None,
            moved_from_id: None,
        })
        .collect();
    for chunk in passings.chunks(5000) {
        engine.store().commit_passings(session, chunk, now).await.map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn chrono_ms(i: usize) -> chrono::Duration {
    chrono::Duration::milliseconds(i64::try_from(i).unwrap_or(0))
}

/// Seconds to sync a backlog in batches, and the same scaled from one passing per request.
pub async fn sync(backlog_size: usize, single_sample: usize) -> Result<Vec<Figure>, String> {
    let sim = Sim::start(SimConfig::default()).await.map_err(|e| e.to_string())?;

    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let batched = engine(&sim, &dir, timing_core::sync::DEFAULT_BATCH, "BENCH-BATCH").await?;
    backlog(&batched, backlog_size).await?;
    let started = Instant::now();
    let round = batched.sync().sync_once().await.map_err(|e| e.to_string())?;
    let batch_time = started.elapsed();
    if round.confirmed != backlog_size as u64 {
        return Err(format!("only {} of {backlog_size} passings were confirmed", round.confirmed));
    }

    let dir1 = tempfile::tempdir().map_err(|e| e.to_string())?;
    let single = engine(&sim, &dir1, 1, "BENCH-SINGLE").await?;
    backlog(&single, single_sample).await?;
    let started = Instant::now();
    single.sync().sync_once().await.map_err(|e| e.to_string())?;
    let single_time = started.elapsed();
    let per_passing = secs(single_time) / single_sample as f64;
    let single_scaled = per_passing * backlog_size as f64;
    let ratio = single_scaled / secs(batch_time);
    sim.shutdown().await;
    Ok(vec![
        Figure {
            name: format!("sync backlog of {backlog_size}"),
            value: secs(batch_time),
            unit: "s".into(),
            goal: "< 15 s".into(),
            met: secs(batch_time) < 15.0,
            note: format!(
                "{backlog_size} pending passings sent in batches of {} to the local simulator over HTTP ({:.0} passings/s)",
                timing_core::sync::DEFAULT_BATCH,
                backlog_size as f64 / secs(batch_time)
            ),
        },
        Figure {
            name: "one passing per request".into(),
            value: single_scaled,
            unit: "s (scaled)".into(),
            goal: "batches ≥ 50× faster".into(),
            met: ratio >= 50.0,
            note: format!(
                "{single_sample} passings sent one per request took {:.2} s ({:.2} ms each), scaled to {backlog_size}; batched is {ratio:.0}× faster",
                secs(single_time),
                per_passing * 1000.0
            ),
        },
    ])
}

/// How fast RUFUS sees a passing: from its commit to the cloud's acknowledgement (the console
/// marks it sent when the 2xx arrives), at `rate` passings/s for `seconds`, against the
/// simulator with `latency` on every request; optionally while a `backlog` drains first.
pub async fn ack_latency(
    rate: u32,
    seconds: u32,
    latency: std::time::Duration,
    backlog_size: usize,
) -> Result<Vec<Figure>, String> {
    let sim = Sim::start(SimConfig::default()).await.map_err(|e| e.to_string())?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let engine =
        engine(&sim, &dir, timing_core::sync::DEFAULT_BATCH, &format!("BENCH-ACK-{backlog_size}"))
            .await?;
    // The session exists in the cloud before the clock starts.
    engine.sync().sync_once().await.map_err(|e| e.to_string())?;
    if backlog_size > 0 {
        backlog(&engine, backlog_size).await?;
    }
    sim.set_latency(latency);
    let session =
        engine.recording_session().await.map_err(|e| e.to_string())?.ok_or("no session")?;
    let sync = tokio::spawn(engine.sync().clone().run());
    let total = rate * seconds;
    let every = std::time::Duration::from_secs(1) / rate.max(1);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut ids = Vec::with_capacity(total as usize);
    for i in 0..total {
        tick.tick().await;
        let now = engine.clock().now();
        let p = NewPassing {
            bib: Some(format!("{}", i % 9000 + 1)),
            chip: Some(format!("ACK{i:08}")),
            timestamp: now,
            source: PassingSource::Reader,
            status: None,
            corrects_id: None,
            moved_from_id: None,
        };
        let made =
            engine.store().commit_passings(session, &[p], now).await.map_err(|e| e.to_string())?;
        ids.extend(made.into_iter().map(|p| p.id));
        engine.sync().wake();
    }
    // Everything acknowledged (bounded), then the latencies from the store's own record.
    let deadline =
        Instant::now() + std::time::Duration::from_secs(120 + backlog_size as u64 / 1000);
    loop {
        let counts =
            engine.store().outbox_counts(Some(session)).await.map_err(|e| e.to_string())?;
        if counts.pending == 0 {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!("{} passings still pending after the run", counts.pending));
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    sync.abort();
    let mut ms = Vec::with_capacity(ids.len());
    let mut in_order = true;
    let mut last_sent = None;
    for id in &ids {
        let p = engine.store().passing(*id).await.map_err(|e| e.to_string())?.ok_or("lost")?;
        let sent = p.sent_at.ok_or("a passing was never acknowledged")?;
        ms.push((sent - p.created_at).num_milliseconds().max(0) as f64);
        if last_sent.is_some_and(|l| sent < l) {
            in_order = false;
        }
        last_sent = Some(sent);
    }
    sim.shutdown().await;
    ms.sort_by(f64::total_cmp);
    let pct =
        |q: f64| ms.get(((ms.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or(0.0);
    let (p50, p99) = (pct(0.50), pct(0.99));
    let during = if backlog_size > 0 {
        format!(" while a {backlog_size}-passing backlog drains")
    } else {
        String::new()
    };
    let goal = if backlog_size > 0 { "reported".to_owned() } else { "p99 < 300 ms".to_owned() };
    Ok(vec![Figure {
        name: format!("commit → acknowledged by RUFUS{during}"),
        value: p99,
        unit: "ms p99".into(),
        met: backlog_size > 0 || p99 < 300.0,
        goal,
        note: format!(
            "{total} passings at {rate}/s, {} ms injected latency per request: p50 {p50:.0} ms, p99 {p99:.0} ms; acknowledged in num_passing order: {}",
            latency.as_millis(),
            if in_order { "yes" } else { "no" }
        ),
    }])
}
