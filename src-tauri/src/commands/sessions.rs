//! Sessions: open (locally at once, in the cloud when it can), close (drain, then close in the
//! cloud), lists, details, reconciliation with the cloud, and re-homing after a remote close.

use timing_core::domain::{Session, SessionId};
use timing_ipc::{CloudSession, ReconcileReport, SessionDetails};

use super::{Cmd, Console, engine, err, running};
use crate::views;

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl timing_ipc::SessionCommands for Console {
    async fn session_open(&self, alias: Option<String>) -> Cmd<Session> {
        let guard = self.core.running().await;
        let session = engine(&guard)?
            .open_session(alias.as_deref().filter(|a| !a.trim().is_empty()))
            .await
            .map_err(err)?;
        running(&guard)?.station.follow_session().await.map_err(err)?;
        Ok(session)
    }

    async fn session_close(&self) -> Cmd<Session> {
        let guard = self.core.running().await;
        let session = engine(&guard)?.close_session().await.map_err(err)?;
        running(&guard)?.station.follow_session().await.map_err(err)?;
        Ok(session)
    }

    async fn session_list(&self) -> Cmd<Vec<Session>> {
        let guard = self.core.running().await;
        engine(&guard)?.sessions().await.map_err(err)
    }

    async fn session_cloud_list(&self) -> Cmd<Vec<CloudSession>> {
        let guard = self.core.running().await;
        Ok(engine(&guard)?
            .cloud_sessions()
            .await
            .map_err(err)?
            .into_iter()
            .map(views::cloud_session)
            .collect())
    }

    async fn session_details(&self, session_id: i64) -> Cmd<SessionDetails> {
        let guard = self.core.running().await;
        let engine = engine(&guard)?;
        let session = engine.session(Some(SessionId(session_id))).await.map_err(err)?;
        let outbox = engine.store().outbox_counts(Some(session.id)).await.map_err(err)?;
        Ok(SessionDetails { session, outbox })
    }

    async fn session_reconcile(&self, session_id: i64) -> Cmd<ReconcileReport> {
        let guard = self.core.running().await;
        let r = engine(&guard)?.reconcile(SessionId(session_id)).await.map_err(err)?;
        Ok(ReconcileReport {
            session_id: r.session_id.0,
            local: count(r.local),
            cloud: count(r.cloud),
            missing_in_cloud: r.missing_in_cloud,
            pending: r.pending,
            unknown_in_cloud: r.unknown_in_cloud,
        })
    }

    async fn session_resend_missing(&self, session_id: i64) -> Cmd<i64> {
        let guard = self.core.running().await;
        engine(&guard)?.resend_missing(SessionId(session_id)).await.map(count).map_err(err)
    }

    async fn session_rehome(&self, from_session_id: i64) -> Cmd<i64> {
        let guard = self.core.running().await;
        engine(&guard)?.rehome_pending(SessionId(from_session_id)).await.map(count).map_err(err)
    }
}
