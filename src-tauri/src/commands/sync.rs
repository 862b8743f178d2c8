//! Sync, when it needs a person: "Retry now" (ends a backoff, a Retry-After wait or a pause
//! after 401/403 at once) and "Re-send parked" (passings the cloud refused go back into the
//! outbox once the cause is fixed).

use timing_core::domain::SessionId;

use super::{Cmd, Console, engine, err};

impl timing_ipc::SyncCommands for Console {
    async fn sync_retry(&self) -> Cmd<()> {
        let guard = self.core.running().await;
        engine(&guard)?.sync().retry_now();
        Ok(())
    }

    async fn sync_retry_parked(&self, session_id: Option<i64>) -> Cmd<i64> {
        let guard = self.core.running().await;
        let n = engine(&guard)?.retry_parked(session_id.map(SessionId)).await.map_err(err)?;
        Ok(i64::try_from(n).unwrap_or(i64::MAX))
    }
}
