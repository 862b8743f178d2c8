//! CSV exports with a header row: the effective passings (what results are computed from) and
//! the raw reads (everything every reader produced, duplicates included, frames in hex).

use std::io::Write;

use sqlx::Row;

use crate::clock::format_utc;
use crate::domain::{FeedEntry, SessionId};
use crate::error::{CoreError, Result};
use chrono::TimeDelta;

use crate::starts::format_race_time;
use crate::store::Store;

fn csv_error(e: csv::Error) -> CoreError {
    CoreError::Invalid(format!("writing CSV: {e}"))
}

/// Writes effective passings in `num_passing` order, each with its runner's wave and race time
/// (`H:MM:SS.sss` since the wave's start; empty before any start); returns the number of rows.
pub fn passings_csv(feed: &[FeedEntry], out: impl Write) -> Result<usize> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "num_passing",
        "timestamp",
        "bib",
        "chip",
        "name",
        "wave",
        "race_time",
        "source",
        "void",
        "corrected",
        "sync_state",
        "sync_error",
    ])
    .map_err(csv_error)?;
    for e in feed {
        w.write_record([
            e.num_passing.to_string(),
            format_utc(e.timestamp),
            e.bib.clone().unwrap_or_default(),
            e.chip.clone().unwrap_or_default(),
            e.name.clone().unwrap_or_default(),
            e.wave.clone().unwrap_or_default(),
            e.race_time_ms
                .map(|ms| format_race_time(TimeDelta::milliseconds(ms)))
                .unwrap_or_default(),
            e.source.to_string(),
            e.void.to_string(),
            e.corrected.to_string(),
            e.sync_state.to_string(),
            e.sync_error.clone().unwrap_or_default(),
        ])
        .map_err(csv_error)?;
    }
    w.flush().map_err(|e| CoreError::io("write CSV", e))?;
    Ok(feed.len())
}

/// Writes a session's raw reads in arrival order; returns the number of rows.
pub async fn raw_csv(store: &Store, session: SessionId, out: impl Write) -> Result<usize> {
    let rows = sqlx::query("SELECT * FROM raw_reads WHERE session_id = ? ORDER BY id")
        .bind(session.0)
        .fetch_all(store.pool())
        .await?;
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "id",
        "source",
        "protocol",
        "chip",
        "bib",
        "antenna",
        "rssi",
        "reader_time",
        "host_time",
        "clock_offset_ms",
        "duplicate",
        "raw_hex",
        "flags",
        "rssi_raw",
    ])
    .map_err(csv_error)?;
    for r in &rows {
        let opt_i = |c: &str| {
            r.try_get::<Option<i64>, _>(c).map(|v| v.map(|v| v.to_string()).unwrap_or_default())
        };
        let opt_s = |c: &str| r.try_get::<Option<String>, _>(c).map(Option::unwrap_or_default);
        let raw: Vec<u8> = r.try_get("raw")?;
        w.write_record([
            r.try_get::<i64, _>("id")?.to_string(),
            r.try_get::<String, _>("source")?,
            r.try_get::<String, _>("protocol")?,
            r.try_get::<String, _>("chip")?,
            opt_s("bib")?,
            opt_i("antenna")?,
            opt_i("rssi")?,
            opt_s("reader_time")?,
            r.try_get::<String, _>("host_time")?,
            opt_i("clock_offset_ms")?,
            (r.try_get::<i64, _>("duplicate")? != 0).to_string(),
            raw.iter().map(|b| format!("{b:02x}")).collect(),
            opt_s("flags")?,
            opt_i("rssi_raw")?,
        ])
        .map_err(csv_error)?;
    }
    w.flush().map_err(|e| CoreError::io("write CSV", e))?;
    Ok(rows.len())
}
