//! The app's commands: [`Console`] implements timing-ipc's command traits, one file per domain
//! (each command a few lines over timing-core, errors mapped to `{code, message}`), and
//! [`handler`] registers a Tauri command for every entry of `timing_ipc::with_commands!` — the
//! list is the only place a command is named.

pub mod app;
pub mod devices;
pub mod feed;
pub mod race;
pub mod readers;
pub mod sessions;
pub mod sync;
pub mod updates;

use std::sync::Arc;

use timing_core::{CoreError, Engine};
use timing_ipc::{AppCode, IpcError};
use tokio::sync::RwLockReadGuard;

use crate::core::{AppCore, Running};
use crate::updates::Updates;

/// What every command returns.
pub type Cmd<T> = Result<T, IpcError>;

/// What the commands run on: the app's core and its updater.
#[derive(Debug, Clone)]
pub struct Console {
    /// The engine and the app's settings.
    pub core: Arc<AppCore>,
    /// The updater (off without an update endpoint).
    pub updates: Arc<Updates>,
}

/// One Tauri command per entry of the list, by its kind.
macro_rules! tauri_command {
    ($domain:ident fn $name:ident ($($arg:ident : $ty:ty),*) -> $ret:ty) => {
        #[tauri::command]
        pub async fn $name(console: tauri::State<'_, Console>, $($arg: $ty),*) -> Cmd<$ret> {
            <Console as timing_ipc::$domain>::$name(&console, $($arg),*).await
        }
    };
    ($domain:ident raw $name:ident ($arg:ident : $ty:ty) -> $ret:ty) => {
        #[tauri::command]
        pub async fn $name(
            console: tauri::State<'_, Console>,
            request: tauri::ipc::Request<'_>,
        ) -> Cmd<$ret> {
            <Console as timing_ipc::$domain>::$name(&console, raw_body(&request)?).await
        }
    };
    ($domain:ident stream $name:ident ($arg:ident : $ty:ty) -> $ret:ty) => {
        #[tauri::command]
        pub async fn $name(
            console: tauri::State<'_, Console>,
            $arg: tauri::ipc::Channel<<$ty as timing_ipc::StreamArg>::Item>,
        ) -> Cmd<$ret> {
            let sink = timing_ipc::Sink::new(move |item| $arg.send(item).is_ok());
            <Console as timing_ipc::$domain>::$name(&console, sink).await
        }
    };
}

/// The Tauri side of the command list: a command for each entry, and [`handler`].
macro_rules! tauri_commands {
    ($(
        $(#[doc = $ddoc:literal])*
        $domain:ident {
            $(
                $(#[doc = $doc:literal])*
                $kind:ident $name:ident ( $($arg:ident : $ty:ty),* ) -> $ret:ty;
            )*
        }
    )*) => {
        /// A Tauri command for every entry of the list.
        pub mod handlers {
            use super::{Cmd, Console, raw_body};
            $($(
                tauri_command!($domain $kind $name ($($arg : $ty),*) -> $ret);
            )*)*
        }

        /// Every command, for `invoke_handler`; the announcer window may call only
        /// [`ANNOUNCER_COMMANDS`].
        pub fn handler<R: tauri::Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
            let commands: Box<dyn Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync> =
                Box::new(tauri::generate_handler![$($(handlers::$name,)*)*]);
            move |invoke: tauri::ipc::Invoke<R>| {
                let label = invoke.message.webview_ref().label().to_owned();
                if !may_call(&label, invoke.message.command()) {
                    let refused = IpcError {
                        code: "not_found".into(),
                        message: format!("the {label} window cannot `{}`", invoke.message.command()),
                    };
                    invoke.resolver.reject(refused);
                    return true;
                }
                commands(invoke)
            }
        }
    };
}

timing_ipc::with_commands!(tauri_commands);

/// The label of the announcer window (its own capability: `capabilities/announcer.json`).
pub const ANNOUNCER: &str = "announcer";

/// The commands the announcer window may call: what it shows, nothing that changes anything.
pub const ANNOUNCER_COMMANDS: &[&str] = &["app_state", "feed_page", "feed_subscribe", "race_state"];

/// Whether the window `label` may call `command`.
fn may_call(label: &str, command: &str) -> bool {
    label != ANNOUNCER || ANNOUNCER_COMMANDS.contains(&command)
}

/// A raw command's body: the bytes as sent (or a JSON array of byte values).
fn raw_body(request: &tauri::ipc::Request<'_>) -> Cmd<timing_ipc::RawBody> {
    match request.body() {
        tauri::ipc::InvokeBody::Raw(bytes) => Ok(timing_ipc::RawBody(bytes.clone())),
        tauri::ipc::InvokeBody::Json(json) => serde_json::from_value::<Vec<u8>>(json.clone())
            .map(timing_ipc::RawBody)
            .map_err(|_| err(CoreError::Invalid("send the file's bytes as the body".into()))),
    }
}

/// Maps an engine error to what crosses IPC.
pub fn err(e: CoreError) -> IpcError {
    IpcError::from(&e)
}

/// The running parts, or an error while the app restarts.
pub fn running<'a>(guard: &'a RwLockReadGuard<'_, Option<Running>>) -> Cmd<&'a Running> {
    guard.as_ref().ok_or_else(|| {
        IpcError::app(AppCode::Starting, "the console is starting; try again in a moment")
    })
}

/// The engine of the running parts.
pub fn engine<'a>(guard: &'a RwLockReadGuard<'_, Option<Running>>) -> Cmd<&'a Engine> {
    running(guard).map(Running::engine)
}
