//! The durable record on a local SQLite file (sqlx, WAL, `synchronous=FULL`, foreign keys on,
//! embedded append-only migrations). Every write that assigns `num_passing` runs in one
//! `BEGIN IMMEDIATE` transaction, so numbers are never reused and a crash loses nothing committed.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row, Sqlite, Transaction};

use crate::changes::{Change, Changes};
use crate::clock::{format_utc, parse_utc, to_millis};
use crate::domain::{
    Correction, CorrectionKind, Device, DeviceId, Passing, PassingId, PassingSource, RawRead,
    RawReadId, ReaderChange, Session, SessionId, SessionState, SyncState,
};
use crate::error::{CoreError, Result};
use crate::participants::Participant;
use crate::starts::{self, Start, StartRequest};

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "timing.db";

/// Rows per multi-row INSERT (each row binds ≤ 15 values; SQLite allows 32 766).
const INSERT_CHUNK: usize = 500;

/// A handle to the local database (cheap to clone: the pool is shared and synchronised).
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    /// The engine's change bus: every write path holds the store, so every writer can say
    /// what it changed once its transaction is committed.
    changes: Changes,
}

/// A passing to be committed (its `num_passing` is assigned by the store).
#[derive(Debug, Clone)]
pub struct NewPassing {
    /// Bib (None: a stamped time waiting for its bib).
    pub bib: Option<String>,
    /// Chip.
    pub chip: Option<String>,
    /// Time of the crossing.
    pub timestamp: DateTime<Utc>,
    /// What produced it.
    pub source: PassingSource,
    /// RUFUS status text.
    pub status: Option<String>,
    /// The passing this one carries a correction for.
    pub corrects_id: Option<PassingId>,
    /// The passing this one is re-homed from.
    pub moved_from_id: Option<PassingId>,
}

impl NewPassing {
    /// A passing typed or stamped by a person.
    pub fn manual(bib: Option<String>, timestamp: DateTime<Utc>) -> Self {
        Self {
            bib,
            chip: None,
            timestamp,
            source: PassingSource::Manual,
            status: None,
            corrects_id: None,
            moved_from_id: None,
        }
    }
}

/// What a commit of reads made.
#[derive(Debug, Clone, Default)]
pub struct Committed {
    /// Passings, in `num_passing` order.
    pub passings: Vec<Passing>,
    /// Starts made by readers' start impulses.
    pub starts: Vec<Start>,
}

/// A gun impulse: the first of the read's waves without a start starts at its crossing time.
async fn gun_start(
    tx: &mut Transaction<'static, Sqlite>,
    session: SessionId,
    r: &ReadToCommit,
    at: DateTime<Utc>,
) -> Result<Option<Start>> {
    let who =
        crate::corrections::Author { operator: r.read.source.clone(), station: None, reason: None };
    for wave in &r.gun_waves {
        if current_start(tx, session, wave).await?.is_none() {
            let request = StartRequest::Now(r.read.crossing_time());
            let start =
                insert_start(tx, session, wave, request, Some(&r.read.source), &who, at).await?;
            return Ok(Some(start));
        }
    }
    tracing::info!(source = %r.read.source, "start impulse with every wave started: kept as a raw read");
    Ok(None)
}

/// One raw read to commit, with the pipeline's verdict on it.
#[derive(Debug, Clone)]
pub struct ReadToCommit {
    /// The read.
    pub read: RawRead,
    /// The session it belongs to (None: no session was open).
    pub session_id: Option<SessionId>,
    /// Flagged duplicate by the de-duplication window (no passing is made).
    pub duplicate: bool,
    /// Bib to record on the passing (from the read, the chip map or a RUFUS FREE tag).
    pub bib: Option<String>,
    /// For a start impulse ([`ReadMarks::gun`](crate::domain::ReadMarks)): the waves it may
    /// start, in order (the first not started is).
    pub gun_waves: Vec<String>,
}

/// Outbox counters of one session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OutboxCounts {
    /// Waiting to be sent.
    pub pending: i64,
    /// Held by the cloud.
    pub sent: i64,
    /// Rejected by the cloud, kept with its message.
    pub parked: i64,
    /// Stamped times waiting for a bib (not sent until they have one).
    pub held: i64,
}

impl Store {
    /// The engine's change bus.
    pub fn changes(&self) -> &Changes {
        &self.changes
    }

    /// Opens (creating if needed) the database file at `path` and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| CoreError::io(format!("create {}", dir.display()), e))?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit survives a power cut, not only a crash (promise 1).
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Self { pool, changes: Changes::default() })
    }

    /// Opens `timing.db` inside `data_dir`.
    pub async fn open_in(data_dir: &Path) -> Result<Self> {
        Self::open(&data_dir.join(DB_FILE)).await
    }

    /// Closes the pool (waits for connections to return).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A write transaction that holds the write lock from its first statement.
    async fn write(&self) -> Result<Transaction<'static, Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    // ---------------------------------------------------------------- settings

    /// A stored setting.
    pub async fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM settings WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Stores a setting.
    pub async fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        sqlx::query("INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    // ----------------------------------------------------------------- devices

    /// Records a bound device (or re-binds one bound before).
    pub async fn upsert_device(&self, device: &Device) -> Result<()> {
        sqlx::query(
            "INSERT INTO devices(deviceid, serial_number, model, device_type, alias, firmware, api_base_url, bound_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT(deviceid) DO UPDATE SET serial_number = excluded.serial_number,
               model = excluded.model, device_type = excluded.device_type, alias = excluded.alias,
               firmware = excluded.firmware, api_base_url = excluded.api_base_url,
               bound_at = excluded.bound_at, unbound_at = NULL",
        )
        .bind(&device.deviceid.0)
        .bind(&device.serial_number)
        .bind(&device.model)
        .bind(&device.device_type)
        .bind(&device.alias)
        .bind(&device.firmware)
        .bind(&device.api_base_url)
        .bind(format_utc(device.bound_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Devices currently bound, oldest first.
    pub async fn devices(&self) -> Result<Vec<Device>> {
        let rows = sqlx::query(
            "SELECT * FROM devices WHERE unbound_at IS NULL ORDER BY bound_at, deviceid",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(device_from_row).collect()
    }

    /// One bound device.
    pub async fn device(&self, id: &DeviceId) -> Result<Option<Device>> {
        let row = sqlx::query("SELECT * FROM devices WHERE deviceid = ? AND unbound_at IS NULL")
            .bind(&id.0)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(device_from_row).transpose()
    }

    /// Marks a device unbound (its history stays).
    pub async fn mark_unbound(&self, id: &DeviceId, at: DateTime<Utc>) -> Result<()> {
        sqlx::query("UPDATE devices SET unbound_at = ? WHERE deviceid = ?")
            .bind(format_utc(at))
            .bind(&id.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    // ---------------------------------------------------------------- sessions

    /// Creates a session in state `opening`. Fails with a conflict when the device already has
    /// an open session.
    pub async fn create_session(
        &self,
        deviceid: &DeviceId,
        alias: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<Session> {
        let mut tx = self.write().await?;
        let open = open_session_id(&mut tx, deviceid).await?;
        if let Some(id) = open {
            return Err(CoreError::Conflict(format!(
                "session {id} is still open on device {deviceid}: close it first \
                 (RUFUS closes a device's other session when a new one is created)"
            )));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO sessions(deviceid, alias, state, opened_at) VALUES (?, ?, 'opening', ?) RETURNING id",
        )
        .bind(&deviceid.0)
        .bind(alias)
        .bind(format_utc(at))
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        self.changes.emit(Change::Session(SessionId(id)));
        self.existing_session(SessionId(id)).await
    }

    /// One session.
    pub async fn session(&self, id: SessionId) -> Result<Option<Session>> {
        let row = sqlx::query("SELECT * FROM sessions WHERE id = ?")
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(session_from_row).transpose()
    }

    /// A session that must exist (one just written).
    async fn existing_session(&self, id: SessionId) -> Result<Session> {
        self.session(id).await?.ok_or_else(|| CoreError::NotFound(format!("session {id}")))
    }

    /// The open session (opening, active or closing) of a device.
    pub async fn open_session(&self, deviceid: &DeviceId) -> Result<Option<Session>> {
        let row = sqlx::query(
            "SELECT * FROM sessions WHERE deviceid = ? AND state IN ('opening','active','closing')",
        )
        .bind(&deviceid.0)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(session_from_row).transpose()
    }

    /// Sessions, newest first; of one device when given.
    pub async fn sessions(&self, deviceid: Option<&DeviceId>) -> Result<Vec<Session>> {
        let rows = match deviceid {
            Some(d) => {
                sqlx::query("SELECT * FROM sessions WHERE deviceid = ? ORDER BY id DESC")
                    .bind(&d.0)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                sqlx::query("SELECT * FROM sessions ORDER BY id DESC").fetch_all(&self.pool).await?
            }
        };
        rows.iter().map(session_from_row).collect()
    }

    /// Sessions the sync engine has work for: open ones of bound devices (a console that
    /// records before its first bind keeps those sessions local until it binds).
    pub async fn sessions_to_sync(&self) -> Result<Vec<Session>> {
        let rows = sqlx::query(
            "SELECT * FROM sessions WHERE state IN ('opening','active','closing')
               AND deviceid NOT LIKE 'local-%' ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(session_from_row).collect()
    }

    /// Gives the sessions recorded under the stand-in device to the device just bound.
    pub async fn adopt_local_sessions(&self, local: &DeviceId, bound: &DeviceId) -> Result<()> {
        let mut tx = self.write().await?;
        let open_on_bound = open_session_id(&mut tx, bound).await?;
        if open_on_bound.is_some() {
            // The bound device already has an open session: the local one is closed locally
            // first (its passings stay pending and can be re-homed), never two open at once.
            sqlx::query(
                "UPDATE sessions SET state = 'closed_remotely',
                   note = 'recorded before binding; the bound device already had an open session'
                 WHERE deviceid = ? AND state IN ('opening','active','closing')",
            )
            .bind(&local.0)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "UPDATE sessions SET deviceid = ? WHERE deviceid = ? AND token_session IS NULL",
        )
        .bind(&bound.0)
        .bind(&local.0)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records the cloud's token and makes the session active (unless it is already closing).
    pub async fn set_session_token(&self, id: SessionId, token: &str) -> Result<()> {
        sqlx::query(
            "UPDATE sessions SET token_session = ?,
               state = CASE state WHEN 'opening' THEN 'active' ELSE state END WHERE id = ?",
        )
        .bind(token)
        .bind(id.0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Moves a session to `state`, with an optional note; closing states stamp `closed_at`.
    pub async fn set_session_state(
        &self,
        id: SessionId,
        state: SessionState,
        note: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let closed_at = matches!(state, SessionState::Closed | SessionState::ClosedRemotely)
            .then(|| format_utc(at));
        sqlx::query(
            "UPDATE sessions SET state = ?, note = COALESCE(?, note),
               closed_at = COALESCE(?, closed_at) WHERE id = ?",
        )
        .bind(state.as_str())
        .bind(note)
        .bind(closed_at)
        .bind(id.0)
        .execute(&self.pool)
        .await?;
        self.changes.emit(Change::Session(id));
        Ok(())
    }

    // ------------------------------------------------------------ capture path

    /// Commits raw reads and the passings and starts they make, in one transaction. Passings
    /// come in `num_passing` order. Reads flagged duplicate, and reads with no session, are
    /// stored as raw reads only; a reader's start impulse (gun) makes no passing but starts the
    /// first of its `gun_waves` that has not started (none: it is kept as a raw read only).
    pub async fn commit_reads(
        &self,
        reads: &[ReadToCommit],
        at: DateTime<Utc>,
    ) -> Result<Committed> {
        if reads.is_empty() {
            return Ok(Committed::default());
        }
        let mut tx = self.write().await?;
        let first_raw_id: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM raw_reads")
                .fetch_one(&mut *tx)
                .await?;
        for (chunk_index, chunk) in reads.chunks(INSERT_CHUNK).enumerate() {
            let base = first_raw_id + (chunk_index * INSERT_CHUNK) as i64;
            let mut q = QueryBuilder::<Sqlite>::new(
                "INSERT INTO raw_reads(id, session_id, source, protocol, chip, bib, antenna, rssi, \
                 reader_time, host_time, clock_offset_ms, raw, duplicate, replay_key, in_order, \
                 flags, rssi_raw) ",
            );
            q.push_values(chunk.iter().enumerate(), |mut b, (i, r)| {
                b.push_bind(base + i as i64)
                    .push_bind(r.session_id.map(|s| s.0))
                    .push_bind(&r.read.source)
                    .push_bind(&r.read.protocol)
                    .push_bind(&r.read.chip)
                    .push_bind(&r.read.bib)
                    .push_bind(r.read.antenna)
                    .push_bind(r.read.rssi)
                    .push_bind(r.read.reader_time.map(format_utc))
                    .push_bind(format_utc(r.read.host_time))
                    .push_bind(r.read.clock_offset_ms)
                    .push_bind(&r.read.raw)
                    .push_bind(r.duplicate)
                    .push_bind(&r.read.replay_key)
                    .push_bind(r.read.in_order)
                    .push_bind(r.read.marks.to_column())
                    .push_bind(r.read.rssi_raw);
            });
            q.build().execute(&mut *tx).await?;
        }

        // Passings: one per non-duplicate read that has a session, numbered per session; a
        // gun impulse starts a wave instead.
        let mut made: Vec<(SessionId, RawReadId, &ReadToCommit)> = Vec::new();
        let mut starts = Vec::new();
        for (i, r) in reads.iter().enumerate() {
            match (r.session_id, r.duplicate, r.read.marks.gun) {
                (Some(session), false, false) => {
                    made.push((session, RawReadId(first_raw_id + i as i64), r));
                }
                (Some(session), false, true) => {
                    starts.extend(gun_start(&mut tx, session, r, at).await?);
                }
                _ => {}
            }
        }
        let mut passings = Vec::with_capacity(made.len());
        let mut sessions: Vec<SessionId> = made.iter().map(|(s, _, _)| *s).collect();
        sessions.sort_unstable();
        sessions.dedup();
        for session in sessions {
            let of_session: Vec<_> = made.iter().filter(|(s, _, _)| *s == session).collect();
            let first_num = allocate_nums(&mut tx, session, of_session.len()).await?;
            let new: Vec<(NewPassing, Option<RawReadId>)> = of_session
                .iter()
                .map(|(_, raw_id, r)| {
                    let np = NewPassing {
                        bib: r.bib.clone(),
                        // A photocell impulse has no chip: its passing waits for a bib.
                        chip: Some(r.read.chip.clone()).filter(|c| !c.is_empty()),
                        timestamp: r.read.crossing_time(),
                        source: PassingSource::Reader,
                        status: None,
                        corrects_id: None,
                        moved_from_id: None,
                    };
                    (np, Some(*raw_id))
                })
                .collect();
            passings.extend(insert_passings(&mut tx, session, first_num, &new, at).await?);
        }
        tx.commit().await?;
        Ok(Committed { passings, starts })
    }

    /// Commits passings that do not come from a reader (manual entry, corrections that must be
    /// sent as new passings, re-homed passings) in one transaction.
    pub async fn commit_passings(
        &self,
        session: SessionId,
        new: &[NewPassing],
        at: DateTime<Utc>,
    ) -> Result<Vec<Passing>> {
        let mut tx = self.write().await?;
        let passings = commit_passings_tx(&mut tx, session, new, at).await?;
        tx.commit().await?;
        Ok(passings)
    }

    /// Starts a write transaction for multi-step changes (corrections, manual actions).
    pub async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>> {
        self.write().await
    }

    /// Passings of a session in `num_passing` order, from `from_num` on, at most `limit`.
    pub async fn passings(
        &self,
        session: SessionId,
        from_num: i64,
        limit: i64,
    ) -> Result<Vec<Passing>> {
        let rows = sqlx::query(
            "SELECT * FROM passings WHERE session_id = ? AND num_passing >= ? ORDER BY num_passing LIMIT ?",
        )
        .bind(session.0)
        .bind(from_num)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(passing_from_row).collect()
    }

    /// One passing by its number in a session.
    pub async fn passing_by_num(&self, session: SessionId, num: i64) -> Result<Option<Passing>> {
        let row = sqlx::query("SELECT * FROM passings WHERE session_id = ? AND num_passing = ?")
            .bind(session.0)
            .bind(num)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(passing_from_row).transpose()
    }

    /// One passing by id.
    pub async fn passing(&self, id: PassingId) -> Result<Option<Passing>> {
        let row = sqlx::query("SELECT * FROM passings WHERE id = ?")
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(passing_from_row).transpose()
    }

    /// The latest reader passing per chip in a session, with the source that read it, for the
    /// chips passed within `span` of that source's last passing (rebuilds the de-duplication
    /// window after a restart; reader time against reader time, never the host clock).
    pub async fn recent_chip_passings(
        &self,
        session: SessionId,
        span: chrono::Duration,
    ) -> Result<Vec<(String, String, DateTime<Utc>)>> {
        let rows = sqlx::query(
            "SELECT p.chip, r.source, MAX(p.timestamp) AS t FROM passings p
               JOIN raw_reads r ON r.id = p.raw_read_id
             WHERE p.session_id = ? AND p.source = 'reader' AND p.chip IS NOT NULL
             GROUP BY p.chip, r.source",
        )
        .bind(session.0)
        .fetch_all(&self.pool)
        .await?;
        let all: Vec<(String, String, DateTime<Utc>)> = rows
            .iter()
            .map(|r| Ok((r.try_get("chip")?, r.try_get("source")?, time_col(r, "t")?)))
            .collect::<Result<_>>()?;
        let mut newest: std::collections::HashMap<&str, DateTime<Utc>> = Default::default();
        for (_, source, t) in &all {
            let e = newest.entry(source.as_str()).or_insert(*t);
            if t > e {
                *e = *t;
            }
        }
        let keep: Vec<bool> = all
            .iter()
            .map(|(_, source, t)| newest.get(source.as_str()).is_none_or(|n| *n - *t <= span))
            .collect();
        Ok(all.into_iter().zip(keep).filter_map(|(row, k)| k.then_some(row)).collect())
    }

    /// Every replay key a source's reads carried (to recognise rewound reads).
    pub async fn replay_keys(&self, source: &str) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT replay_key FROM raw_reads WHERE source = ? AND replay_key IS NOT NULL",
        )
        .bind(source)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Where a source's reads stopped *in order*: the replay key (and that read's time, reader's
    /// clock where it has one) of the last read up to which the store holds every read of the
    /// reader's current numbering run, so a restarted reader rewinds from there
    /// ([`ResumePoint::in_order`](timing_readers::ResumePoint::in_order)). Not simply the last
    /// read stored: that may have arrived live past a hole the console was fetching when it
    /// stopped. Keys without numbers (IPICO, Timy) resume after the last read stored.
    pub async fn last_replay_point(&self, source: &str) -> Result<Option<(String, DateTime<Utc>)>> {
        let rows = sqlx::query(
            "SELECT replay_key, COALESCE(reader_time, host_time) AS t FROM raw_reads
             WHERE source = ? AND replay_key IS NOT NULL AND in_order = 1 ORDER BY id",
        )
        .bind(source)
        .fetch_all(&self.pool)
        .await?;
        let mut held = Vec::with_capacity(rows.len());
        for row in &rows {
            held.push((row.try_get::<String, _>("replay_key")?, time_col(row, "t")?));
        }
        let point =
            timing_readers::ResumePoint::in_order(held.iter().map(|(key, t)| (key.as_str(), *t)));
        Ok(point.and_then(|p| Some((p.replay_key?, p.at?))))
    }

    // ------------------------------------------------------------------ outbox

    /// The next pending passings of a session, in `num_passing` order. Stamps still waiting for
    /// a bib are held back: RUFUS needs a bib, and the stamp flows once it has one.
    pub async fn pending(&self, session: SessionId, limit: usize) -> Result<Vec<Passing>> {
        let rows = sqlx::query(
            "SELECT * FROM passings WHERE session_id = ? AND sync_state = 'pending'
               AND (bib IS NOT NULL OR chip IS NOT NULL)
             ORDER BY num_passing LIMIT ?",
        )
        .bind(session.0)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(passing_from_row).collect()
    }

    /// Records that a send of these passings is about to start (committed before the request,
    /// so that after a crash the engine knows their fate is unknown and reconciles first).
    pub async fn mark_attempt(&self, ids: &[PassingId]) -> Result<()> {
        self.update_pending("sync_attempts = sync_attempts + 1", None, ids).await
    }

    /// The highest number of a session's passings the cloud holds (0: none).
    pub async fn max_sent_num(&self, session: SessionId) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COALESCE(MAX(num_passing), 0) FROM passings WHERE session_id = ? AND sync_state = 'sent'",
        )
        .bind(session.0)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Every pending passing of a session (stamps waiting for a bib included), in order.
    pub async fn all_pending(&self, session: SessionId) -> Result<Vec<Passing>> {
        let rows = sqlx::query(
            "SELECT * FROM passings WHERE session_id = ? AND sync_state = 'pending' ORDER BY num_passing",
        )
        .bind(session.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(passing_from_row).collect()
    }

    /// Starts a send: counts an attempt on the passings still pending among `ids` and returns
    /// them exactly as committed at that moment, in `num_passing` order — one transaction, so
    /// what is sent is what was marked. A correction committed after this sees the attempt and
    /// travels as a correction passing; one committed before is in the snapshot.
    pub async fn begin_attempt(&self, ids: &[PassingId]) -> Result<Vec<Passing>> {
        let mut tx = self.write().await?;
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(INSERT_CHUNK) {
            let mut q = QueryBuilder::<Sqlite>::new(
                "UPDATE passings SET sync_attempts = sync_attempts + 1
                 WHERE sync_state = 'pending' AND (bib IS NOT NULL OR chip IS NOT NULL) AND id IN (",
            );
            let mut list = q.separated(", ");
            for id in chunk {
                list.push_bind(id.0);
            }
            list.push_unseparated(") RETURNING *");
            for row in q.build().fetch_all(&mut *tx).await? {
                out.push(passing_from_row(&row)?);
            }
        }
        tx.commit().await?;
        out.sort_by_key(|p| p.num_passing);
        Ok(out)
    }

    /// Puts parked passings back into the outbox (after the cause was fixed). They were sent
    /// before, so they are reconciled before they go again. Returns how many.
    pub async fn unpark(&self, session: Option<SessionId>) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE passings SET sync_state = 'pending', sync_error = NULL,
               sync_attempts = MAX(sync_attempts, 1)
             WHERE sync_state = 'parked' AND (?1 IS NULL OR session_id = ?1)",
        )
        .bind(session.map(|s| s.0))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Records that a create of the session in the cloud is about to be sent (so a lost answer
    /// is recognised later: only a session created after this instant can be ours).
    pub async fn mark_create_attempt(&self, id: SessionId, at: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "UPDATE sessions SET create_attempted_at = COALESCE(create_attempted_at, ?) WHERE id = ?",
        )
        .bind(format_utc(at))
        .bind(id.0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// When the first create of a session in the cloud was sent, if ever.
    pub async fn create_attempted_at(&self, id: SessionId) -> Result<Option<DateTime<Utc>>> {
        let row = sqlx::query("SELECT create_attempted_at FROM sessions WHERE id = ?")
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(r) => opt_time_col(&r, "create_attempted_at"),
            None => Ok(None),
        }
    }

    /// Continues a session this console did not create (a spare laptop taking over a device,
    /// a restored database): recorded as active with the cloud's token, numbering after the
    /// highest `num_passing` the cloud holds.
    pub async fn take_over_session(
        &self,
        deviceid: &DeviceId,
        token: &str,
        alias: Option<&str>,
        cloud_max_num: u64,
        at: DateTime<Utc>,
    ) -> Result<Session> {
        let next =
            i64::try_from(cloud_max_num).ok().and_then(|n| n.checked_add(1)).ok_or_else(|| {
                CoreError::Invalid(format!("num_passing {cloud_max_num} is too large"))
            })?;
        let mut tx = self.write().await?;
        if let Some(id) =
            sqlx::query_scalar::<_, i64>("SELECT id FROM sessions WHERE token_session = ?")
                .bind(token)
                .fetch_optional(&mut *tx)
                .await?
        {
            // Known here already (taken over before, or our own): continue it, numbering
            // after whatever the cloud holds.
            sqlx::query(
                "UPDATE sessions SET state = 'active', closed_at = NULL,
                   next_num_passing = MAX(next_num_passing, ?) WHERE id = ?",
            )
            .bind(next)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            return self.existing_session(SessionId(id)).await;
        }
        let open = open_session_id(&mut tx, deviceid).await?;
        if let Some(id) = open {
            return Err(CoreError::Conflict(format!(
                "session {id} is still open on device {deviceid}: close it before taking over"
            )));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO sessions(deviceid, token_session, alias, state, opened_at, next_num_passing, note)
             VALUES (?, ?, ?, 'active', ?, ?, 'taken over from another console') RETURNING id",
        )
        .bind(&deviceid.0)
        .bind(token)
        .bind(alias)
        .bind(format_utc(at))
        .bind(next)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        self.existing_session(SessionId(id)).await
    }

    /// Makes sure the session numbers after `cloud_max_num` (the cloud holds passings this
    /// console did not number).
    pub async fn number_after(&self, session: SessionId, cloud_max_num: u64) -> Result<()> {
        let next = i64::try_from(cloud_max_num).unwrap_or(i64::MAX - 1).saturating_add(1);
        sqlx::query("UPDATE sessions SET next_num_passing = MAX(next_num_passing, ?) WHERE id = ?")
            .bind(next)
            .bind(session.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// A change of the sessions table or a request from another process, as one cheap value to
    /// poll: it changes whenever a session is opened, closed or changes state, or when another
    /// process asks the running console to retry now.
    pub async fn sessions_version(&self) -> Result<String> {
        Ok(sqlx::query_scalar(
            "SELECT COALESCE((SELECT group_concat(id || ':' || state || ':' || COALESCE(token_session, ''), ',')
                                FROM sessions WHERE state IN ('opening','active','closing')), '')
                    || '|' || COALESCE((SELECT value FROM settings WHERE key = 'retry_requested'), '')
                    || '|' || COALESCE((SELECT value FROM settings WHERE key = 'current_device'), '')",
        )
        .fetch_one(&self.pool)
        .await?)
    }

    /// Marks pending passings as held by the cloud.
    pub async fn mark_sent(&self, ids: &[PassingId], at: DateTime<Utc>) -> Result<()> {
        self.update_pending(
            "sync_state = 'sent', sync_error = NULL, sent_at = ",
            Some(format_utc(at)),
            ids,
        )
        .await?;
        self.changes.emit(Change::Sent(ids.to_vec()));
        Ok(())
    }

    /// `UPDATE passings SET <set>[<value>] WHERE sync_state = 'pending' AND id IN (…)`, chunked,
    /// in one transaction.
    async fn update_pending(
        &self,
        set: &str,
        value: Option<String>,
        ids: &[PassingId],
    ) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut tx = self.write().await?;
        for chunk in ids.chunks(INSERT_CHUNK) {
            let mut q = QueryBuilder::<Sqlite>::new("UPDATE passings SET ");
            q.push(set);
            if let Some(value) = &value {
                q.push_bind(value.clone());
            }
            q.push(" WHERE sync_state = 'pending' AND id IN (");
            let mut list = q.separated(", ");
            for id in chunk {
                list.push_bind(id.0);
            }
            list.push_unseparated(")");
            q.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Parks a passing the cloud rejected, with the server's message.
    pub async fn park(&self, id: PassingId, message: &str) -> Result<()> {
        sqlx::query("UPDATE passings SET sync_state = 'parked', sync_error = ? WHERE id = ? AND sync_state = 'pending'")
            .bind(message)
            .bind(id.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Outbox counters of a session (or of every session).
    pub async fn outbox_counts(&self, session: Option<SessionId>) -> Result<OutboxCounts> {
        let row = sqlx::query(
            "SELECT
               COALESCE(SUM(sync_state = 'pending' AND (bib IS NOT NULL OR chip IS NOT NULL)), 0) AS pending,
               COALESCE(SUM(sync_state = 'pending' AND bib IS NULL AND chip IS NULL), 0) AS held,
               COALESCE(SUM(sync_state = 'sent'), 0) AS sent,
               COALESCE(SUM(sync_state = 'parked'), 0) AS parked
             FROM passings WHERE (?1 IS NULL OR session_id = ?1)",
        )
        .bind(session.map(|s| s.0))
        .fetch_one(&self.pool)
        .await?;
        Ok(OutboxCounts {
            pending: row.try_get("pending")?,
            sent: row.try_get("sent")?,
            parked: row.try_get("parked")?,
            held: row.try_get("held")?,
        })
    }

    // ------------------------------------------------------------- corrections

    /// Every correction of a passing, oldest first.
    pub async fn corrections(&self, passing: PassingId) -> Result<Vec<Correction>> {
        let rows = sqlx::query("SELECT * FROM corrections WHERE passing_id = ? ORDER BY id")
            .bind(passing.0)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(correction_from_row).collect()
    }

    /// Every correction of a session's passings, oldest first.
    pub async fn session_corrections(&self, session: SessionId) -> Result<Vec<Correction>> {
        let rows = sqlx::query(
            "SELECT c.* FROM corrections c JOIN passings p ON p.id = c.passing_id
             WHERE p.session_id = ? ORDER BY c.id",
        )
        .bind(session.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(correction_from_row).collect()
    }

    // ---------------------------------------------------------- reader changes

    /// Records a change to a reader's time settings (`setting`: `zone` or `adjust_ms`).
    #[allow(clippy::too_many_arguments)]
    pub async fn record_reader_change(
        &self,
        reader: &str,
        setting: &str,
        old_value: Option<&str>,
        new_value: Option<&str>,
        operator: &str,
        station: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO reader_changes(reader, setting, old_value, new_value, operator, station, at)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(reader)
        .bind(setting)
        .bind(old_value)
        .bind(new_value)
        .bind(operator)
        .bind(station)
        .bind(format_utc(at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A reader's recorded changes, oldest first.
    pub async fn reader_changes(&self, reader: &str) -> Result<Vec<ReaderChange>> {
        let rows = sqlx::query("SELECT * FROM reader_changes WHERE reader = ? ORDER BY id")
            .bind(reader)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(ReaderChange {
                    id: row.try_get("id")?,
                    reader: row.try_get("reader")?,
                    setting: row.try_get("setting")?,
                    old_value: row.try_get("old_value")?,
                    new_value: row.try_get("new_value")?,
                    operator: row.try_get("operator")?,
                    station: row.try_get("station")?,
                    at: time_col(row, "at")?,
                })
            })
            .collect()
    }

    // ---------------------------------------------------------------- starts

    /// A session's start log, oldest first.
    pub async fn starts(&self, session: SessionId) -> Result<Vec<Start>> {
        let rows = sqlx::query("SELECT * FROM starts WHERE session_id = ? ORDER BY id")
            .bind(session.0)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(start_row).collect()
    }

    /// Adds a start for `wave` as `request` asks, in one transaction with the look at the
    /// wave's current start (so two presses never both start a wave). `source`: the reader
    /// whose impulse it is.
    pub async fn record_start(
        &self,
        session: SessionId,
        wave: &str,
        request: StartRequest,
        source: Option<&str>,
        who: &crate::corrections::Author,
        at: DateTime<Utc>,
    ) -> Result<Start> {
        let mut tx = self.write().await?;
        let start = insert_start(&mut tx, session, wave, request, source, who, at).await?;
        tx.commit().await?;
        self.changes.emit(Change::Starts(session));
        Ok(start)
    }

    // ---------------------------------------------------------------- chip map

    /// Replaces or adds chip → bib (and name) entries; returns how many were written.
    pub async fn upsert_chips(&self, entries: &[Participant], at: DateTime<Utc>) -> Result<usize> {
        let mut tx = self.write().await?;
        for chunk in entries.chunks(INSERT_CHUNK) {
            let mut q = QueryBuilder::<Sqlite>::new(
                "INSERT INTO chip_map(chip, bib, name, category, wave, imported_at) ",
            );
            q.push_values(chunk.iter(), |mut b, p| {
                b.push_bind(&p.chip)
                    .push_bind(&p.bib)
                    .push_bind(&p.name)
                    .push_bind(&p.category)
                    .push_bind(&p.wave)
                    .push_bind(format_utc(at));
            });
            q.push(
                " ON CONFLICT(chip) DO UPDATE SET bib = excluded.bib, name = excluded.name, \
                 category = excluded.category, wave = excluded.wave, \
                 imported_at = excluded.imported_at",
            );
            q.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(entries.len())
    }

    /// The whole participant list, by chip.
    pub async fn chip_map(&self) -> Result<Vec<Participant>> {
        let rows =
            sqlx::query("SELECT chip, bib, name, category, wave FROM chip_map ORDER BY chip")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| {
                Ok(Participant {
                    chip: r.try_get("chip")?,
                    bib: r.try_get("bib")?,
                    name: r.try_get("name")?,
                    category: r.try_get("category")?,
                    wave: r.try_get::<Option<String>, _>("wave")?.unwrap_or_default(),
                })
            })
            .collect()
    }

    /// The raw pool, for the engine's modules that own their SQL.
    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// The device's open (opening, active or closing) session, inside a write transaction: at most
/// one exists (a partial unique index), since RUFUS closes a device's other active session.
async fn open_session_id(
    tx: &mut Transaction<'static, Sqlite>,
    deviceid: &DeviceId,
) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM sessions WHERE deviceid = ? AND state IN ('opening','active','closing')",
    )
    .bind(&deviceid.0)
    .fetch_optional(&mut **tx)
    .await?)
}

/// Reserves `count` consecutive `num_passing` values of a session; returns the first.
pub(crate) async fn allocate_nums(
    tx: &mut Transaction<'static, Sqlite>,
    session: SessionId,
    count: usize,
) -> Result<i64> {
    let count = i64::try_from(count).map_err(|_| CoreError::Invalid("too many passings".into()))?;
    let first: Option<i64> = sqlx::query_scalar(
        "UPDATE sessions SET next_num_passing = next_num_passing + ?
         WHERE id = ? RETURNING next_num_passing - ?",
    )
    .bind(count)
    .bind(session.0)
    .bind(count)
    .fetch_optional(&mut **tx)
    .await?;
    first.ok_or_else(|| CoreError::NotFound(format!("session {session}")))
}

/// Numbers and inserts passings inside an open write transaction.
pub(crate) async fn commit_passings_tx(
    tx: &mut Transaction<'static, Sqlite>,
    session: SessionId,
    new: &[NewPassing],
    at: DateTime<Utc>,
) -> Result<Vec<Passing>> {
    if new.is_empty() {
        return Ok(Vec::new());
    }
    let first_num = allocate_nums(tx, session, new.len()).await?;
    let with_raw: Vec<(NewPassing, Option<RawReadId>)> =
        new.iter().cloned().map(|p| (p, None)).collect();
    insert_passings(tx, session, first_num, &with_raw, at).await
}

async fn insert_passings(
    tx: &mut Transaction<'static, Sqlite>,
    session: SessionId,
    first_num: i64,
    new: &[(NewPassing, Option<RawReadId>)],
    at: DateTime<Utc>,
) -> Result<Vec<Passing>> {
    let first_id: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM passings")
        .fetch_one(&mut **tx)
        .await?;
    let created_at = format_utc(at);
    let mut out = Vec::with_capacity(new.len());
    for (chunk_index, chunk) in new.chunks(INSERT_CHUNK).enumerate() {
        let offset = (chunk_index * INSERT_CHUNK) as i64;
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO passings(id, session_id, num_passing, bib, chip, timestamp, source, status, \
             raw_read_id, corrects_id, moved_from_id, created_at) ",
        );
        q.push_values(chunk.iter().enumerate(), |mut b, (i, (p, raw))| {
            let k = offset + i as i64;
            b.push_bind(first_id + k)
                .push_bind(session.0)
                .push_bind(first_num + k)
                .push_bind(&p.bib)
                .push_bind(&p.chip)
                .push_bind(format_utc(p.timestamp))
                .push_bind(p.source.as_str())
                .push_bind(&p.status)
                .push_bind(raw.map(|r| r.0))
                .push_bind(p.corrects_id.map(|c| c.0))
                .push_bind(p.moved_from_id.map(|c| c.0))
                .push_bind(&created_at);
        });
        q.build().execute(&mut **tx).await?;
        for (i, (p, raw)) in chunk.iter().enumerate() {
            let k = offset + i as i64;
            out.push(Passing {
                id: PassingId(first_id + k),
                session_id: session,
                num_passing: first_num + k,
                bib: p.bib.clone(),
                chip: p.chip.clone(),
                timestamp: to_millis(p.timestamp),
                source: p.source,
                status: p.status.clone(),
                raw_read_id: *raw,
                corrects_id: p.corrects_id,
                moved_from_id: p.moved_from_id,
                sync_state: SyncState::Pending,
                sync_error: None,
                sync_attempts: 0,
                sent_at: None,
                created_at: to_millis(at),
            });
        }
    }
    Ok(out)
}

// -------------------------------------------------------------------- row mapping

/// The newest start of a wave, inside a transaction.
async fn current_start(
    tx: &mut Transaction<'static, Sqlite>,
    session: SessionId,
    wave: &str,
) -> Result<Option<Start>> {
    let row = sqlx::query(
        "SELECT * FROM starts WHERE session_id = ? AND wave = ? ORDER BY id DESC LIMIT 1",
    )
    .bind(session.0)
    .bind(wave)
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(start_row).transpose()
}

/// Adds a start as `request` asks, after a look at the wave's current start in the same
/// transaction (so two presses never both start a wave).
async fn insert_start(
    tx: &mut Transaction<'static, Sqlite>,
    session: SessionId,
    wave: &str,
    request: StartRequest,
    source: Option<&str>,
    who: &crate::corrections::Author,
    at: DateTime<Utc>,
) -> Result<Start> {
    let current = current_start(tx, session, wave).await?;
    let (kind, start_at) = starts::plan(wave, request, current.as_ref(), source.is_some())?;
    let row = sqlx::query(
        "INSERT INTO starts(session_id, wave, at, kind, source, operator, station, recorded_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
    )
    .bind(session.0)
    .bind(wave)
    .bind(format_utc(start_at))
    .bind(kind.name())
    .bind(source)
    .bind(&who.operator)
    .bind(&who.station)
    .bind(format_utc(at))
    .fetch_one(&mut **tx)
    .await?;
    start_row(&row)
}

fn start_row(row: &SqliteRow) -> Result<Start> {
    Ok(Start {
        id: row.try_get("id")?,
        session_id: SessionId(row.try_get("session_id")?),
        wave: row.try_get("wave")?,
        at: time_col(row, "at")?,
        kind: row.try_get::<String, _>("kind")?.parse()?,
        source: row.try_get("source")?,
        operator: row.try_get("operator")?,
        station: row.try_get("station")?,
        recorded_at: time_col(row, "recorded_at")?,
    })
}

fn time_col(row: &SqliteRow, col: &str) -> Result<DateTime<Utc>> {
    let text: String = row.try_get(col)?;
    parse_utc(&text).ok_or_else(|| CoreError::Invalid(format!("stored time `{text}` in `{col}`")))
}

fn opt_time_col(row: &SqliteRow, col: &str) -> Result<Option<DateTime<Utc>>> {
    let text: Option<String> = row.try_get(col)?;
    text.map(|t| {
        parse_utc(&t).ok_or_else(|| CoreError::Invalid(format!("stored time `{t}` in `{col}`")))
    })
    .transpose()
}

fn enum_col<T: FromStr<Err = CoreError>>(row: &SqliteRow, col: &str) -> Result<T> {
    let text: String = row.try_get(col)?;
    text.parse()
}

fn device_from_row(row: &SqliteRow) -> Result<Device> {
    Ok(Device {
        deviceid: DeviceId(row.try_get("deviceid")?),
        serial_number: row.try_get("serial_number")?,
        model: row.try_get("model")?,
        device_type: row.try_get("device_type")?,
        alias: row.try_get("alias")?,
        firmware: row.try_get("firmware")?,
        api_base_url: row.try_get("api_base_url")?,
        bound_at: time_col(row, "bound_at")?,
    })
}

fn session_from_row(row: &SqliteRow) -> Result<Session> {
    Ok(Session {
        id: SessionId(row.try_get("id")?),
        deviceid: DeviceId(row.try_get("deviceid")?),
        token_session: row.try_get("token_session")?,
        alias: row.try_get("alias")?,
        state: enum_col(row, "state")?,
        opened_at: time_col(row, "opened_at")?,
        closed_at: opt_time_col(row, "closed_at")?,
        next_num_passing: row.try_get("next_num_passing")?,
        note: row.try_get("note")?,
    })
}

pub(crate) fn passing_from_row(row: &SqliteRow) -> Result<Passing> {
    Ok(Passing {
        id: PassingId(row.try_get("id")?),
        session_id: SessionId(row.try_get("session_id")?),
        num_passing: row.try_get("num_passing")?,
        bib: row.try_get("bib")?,
        chip: row.try_get("chip")?,
        timestamp: time_col(row, "timestamp")?,
        source: enum_col(row, "source")?,
        status: row.try_get("status")?,
        raw_read_id: row.try_get::<Option<i64>, _>("raw_read_id")?.map(RawReadId),
        corrects_id: row.try_get::<Option<i64>, _>("corrects_id")?.map(PassingId),
        moved_from_id: row.try_get::<Option<i64>, _>("moved_from_id")?.map(PassingId),
        sync_state: enum_col(row, "sync_state")?,
        sync_error: row.try_get("sync_error")?,
        sync_attempts: row.try_get("sync_attempts")?,
        sent_at: opt_time_col(row, "sent_at")?,
        created_at: time_col(row, "created_at")?,
    })
}

pub(crate) fn correction_from_row(row: &SqliteRow) -> Result<Correction> {
    Ok(Correction {
        id: row.try_get("id")?,
        passing_id: PassingId(row.try_get("passing_id")?),
        kind: enum_col::<CorrectionKind>(row, "action")?,
        old_value: row.try_get("old_value")?,
        new_value: row.try_get("new_value")?,
        operator: row.try_get("operator")?,
        station: row.try_get("station")?,
        reason: row.try_get("reason")?,
        at: time_col(row, "at")?,
        carrier_id: row.try_get::<Option<i64>, _>("carrier_id")?.map(PassingId),
    })
}
