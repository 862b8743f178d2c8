//! Updates, when a person asks: what the updater knows (off in a build without an update
//! endpoint) and "Install update", which refuses with `busy` unless the console is idle at that
//! moment (see `crate::updates`).

use timing_ipc::UpdateStatus;

use super::{Cmd, Console};

impl timing_ipc::UpdateCommands for Console {
    async fn update_status(&self) -> Cmd<UpdateStatus> {
        Ok(self.updates.status_of(&self.core).await)
    }

    async fn update_install(&self) -> Cmd<UpdateStatus> {
        self.updates.install(&self.core).await
    }
}
