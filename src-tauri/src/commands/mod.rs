//! The app's Tauri commands, grouped by domain. Each is a few lines: take the engine, call
//! timing-core, map the error to `{code, message}`.

pub mod app;
pub mod devices;
pub mod feed;
pub mod readers;
pub mod sessions;
pub mod sync;
pub mod updates;

use std::sync::Arc;

use timing_core::{CoreError, Engine};
use timing_ipc::IpcError;
use tokio::sync::RwLockReadGuard;

use crate::core::{AppCore, Running};

/// What every command returns.
pub type Cmd<T> = Result<T, IpcError>;

/// The app's state as Tauri hands it to commands.
pub type Core<'a> = tauri::State<'a, Arc<AppCore>>;

/// Maps an engine error to what crosses IPC.
pub fn err(e: CoreError) -> IpcError {
    IpcError::from(&e)
}

/// The running parts, or an error while the app restarts.
pub fn running<'a>(guard: &'a RwLockReadGuard<'_, Option<Running>>) -> Cmd<&'a Running> {
    guard.as_ref().ok_or_else(|| IpcError {
        code: "starting".into(),
        message: "the console is starting; try again in a moment".into(),
    })
}

/// The engine of the running parts.
pub fn engine<'a>(guard: &'a RwLockReadGuard<'_, Option<Running>>) -> Cmd<&'a Engine> {
    running(guard).map(Running::engine)
}
