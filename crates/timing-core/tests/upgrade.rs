//! A new version opens an older version's database: for every earlier schema (the first `k`
//! migrations), a database with a device, an open session, raw reads and passings pending and
//! sent is opened by today's `Store`, which migrates it, and everything in it is still there
//! and still works (the outbox, the session, new reads).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests stop loudly

use sqlx::migrate::Migrator;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};
use timing_core::domain::{SessionState, SyncState};
use timing_core::store::Store;

static MIGRATIONS: Migrator = sqlx::migrate!("./migrations");

/// What version 0.1.0's first schema held, written with its own columns only.
const OLD_DATA: &str = "
INSERT INTO devices (deviceid, serial_number, model, api_base_url, bound_at)
    VALUES ('DEV1', 'SN-1', 'RUFUS Timing Console', 'http://127.0.0.1:9/v0', '2026-05-01T08:00:00.000Z');
INSERT INTO sessions (id, deviceid, token_session, alias, state, opened_at, next_num_passing)
    VALUES (1, 'DEV1', 'TOKEN1', '10K', 'active', '2026-05-01T08:01:00.000Z', 3);
INSERT INTO raw_reads (id, session_id, source, protocol, chip, host_time, raw)
    VALUES (1, 1, 'sim', 'sim', 'CHIP1', '2026-05-01T08:30:00.000Z', X'43484950310A'),
           (2, 1, 'sim', 'sim', 'CHIP2', '2026-05-01T08:30:01.000Z', X'43484950320A');
INSERT INTO passings (id, session_id, num_passing, bib, chip, timestamp, source, raw_read_id,
                      sync_state, sync_attempts, sent_at, created_at)
    VALUES (1, 1, 1, '101', 'CHIP1', '2026-05-01T08:30:00.000Z', 'reader', 1,
            'sent', 1, '2026-05-01T08:30:02.000Z', '2026-05-01T08:30:00.000Z'),
           (2, 1, 2, '102', 'CHIP2', '2026-05-01T08:30:01.000Z', 'reader', 2,
            'pending', 0, NULL, '2026-05-01T08:30:01.000Z');
";

#[tokio::test]
async fn every_earlier_schema_opens_and_keeps_its_data() {
    let all = MIGRATIONS.migrations.len();
    assert!(all >= 1);
    for k in 1..=all {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(timing_core::store::DB_FILE);
        {
            let mut conn = SqliteConnectOptions::new()
                .filename(&path)
                .create_if_missing(true)
                .connect()
                .await
                .unwrap();
            let older = Migrator {
                migrations: MIGRATIONS.migrations[..k].to_vec().into(),
                ..Migrator::DEFAULT
            };
            older.run(&mut conn).await.unwrap();
            sqlx::raw_sql(OLD_DATA).execute(&mut conn).await.unwrap();
            conn.close().await.unwrap();
        }

        let store = Store::open(&path)
            .await
            .unwrap_or_else(|e| panic!("a database at migration {k} of {all} does not open: {e}"));
        let sessions = store.sessions(None).await.unwrap();
        assert_eq!(sessions.len(), 1, "schema {k}");
        let session = &sessions[0];
        assert_eq!(session.state, SessionState::Active, "schema {k}");
        assert_eq!(session.token_session.as_deref(), Some("TOKEN1"));
        let passings = store.passings(session.id, 1, i64::MAX).await.unwrap();
        let states: Vec<(i64, Option<&str>, SyncState)> =
            passings.iter().map(|p| (p.num_passing, p.bib.as_deref(), p.sync_state)).collect();
        assert_eq!(
            states,
            [(1, Some("101"), SyncState::Sent), (2, Some("102"), SyncState::Pending)],
            "schema {k}"
        );
        let pending = store.pending(session.id, 10).await.unwrap();
        assert_eq!(pending.len(), 1, "schema {k}: the outbox still holds #2");
        store.close().await;
    }
}
