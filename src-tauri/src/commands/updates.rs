//! Updates, when a person asks: what the updater knows (off in a build without an update
//! endpoint) and "Install update", which refuses with `busy` unless the console is idle at that
//! moment (see `crate::updates`).

use std::sync::Arc;

use timing_ipc::UpdateStatus;

use super::{Cmd, Core};

/// The updater as Tauri hands it to commands.
pub type Updater<'a> = tauri::State<'a, Arc<crate::updates::Updates>>;

#[tauri::command]
pub async fn update_status(core: Core<'_>, updates: Updater<'_>) -> Cmd<UpdateStatus> {
    Ok(updates.status_of(&core).await)
}

#[tauri::command]
pub async fn update_install(core: Core<'_>, updates: Updater<'_>) -> Cmd<UpdateStatus> {
    updates.install(&core).await
}
