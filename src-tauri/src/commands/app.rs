//! App-level commands: the state a screen starts from, settings, the API key, participants and
//! exports.

use timing_core::CoreError;
use timing_ipc::{AppState, KeyStorage, Settings};

use super::{Cmd, Core, engine, err, running};
use crate::views;

#[tauri::command]
pub async fn app_state(core: Core<'_>) -> Cmd<AppState> {
    let guard = core.running().await;
    let run = running(&guard)?;
    let engine = run.engine();
    engine.sync().refresh_counts().await;
    let session = engine.current_session().await.map_err(err)?;
    let queued = match session.as_ref().filter(|s| s.state.accepts_passings()) {
        Some(_) => engine.manual().await.map_err(err)?.queued().await.map_err(err)?,
        None => Vec::new(),
    };
    Ok(AppState {
        device: engine.current_device().await.ok(),
        session,
        sync: engine.sync().status().borrow().clone(),
        readers: run.station.sources().into_iter().map(views::reader).collect(),
        settings: core.settings(),
        key: core.key_storage(),
        queued,
        participants_loaded: !engine.chips().is_empty(),
        capture: views::capture(run.station.capture()),
        warnings: core.warnings(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    })
}

#[tauri::command]
pub async fn settings_set(core: Core<'_>, settings: Settings) -> Cmd<Settings> {
    core.set_settings(settings).await.map_err(err)
}

#[tauri::command]
pub async fn api_key_set(core: Core<'_>, key: String) -> Cmd<KeyStorage> {
    core.set_key(&key).await.map_err(err)
}

#[tauri::command]
pub async fn api_key_clear(core: Core<'_>) -> Cmd<KeyStorage> {
    core.clear_key().await.map_err(err)
}

/// Imports a participants file: the request's raw body is the file's bytes, exactly as read
/// from disk (the web view never decodes them); timing-core decodes any encoding a
/// spreadsheet writes. A JSON array of byte values is accepted too.
#[tauri::command]
pub async fn participants_import(
    core: Core<'_>,
    request: tauri::ipc::Request<'_>,
) -> Cmd<timing_core::participants::ImportReport> {
    let bytes = match request.body() {
        tauri::ipc::InvokeBody::Raw(bytes) => bytes.clone(),
        tauri::ipc::InvokeBody::Json(json) => serde_json::from_value::<Vec<u8>>(json.clone())
            .map_err(|_| {
                err(CoreError::Invalid("participants: send the file's bytes as the body".into()))
            })?,
    };
    let guard = core.running().await;
    engine(&guard)?.import_participants_from(bytes.as_slice()).await.map_err(err)
}

/// What `export_csv` can write; anything else is refused before a file or folder is made.
const EXPORTS: &[&str] = &["passings", "raw"];

/// Writes the current session's passings or raw reads as CSV into the data directory's
/// `exports` folder; returns the file's path.
#[tauri::command]
pub async fn export_csv(core: Core<'_>, what: String) -> Cmd<String> {
    if !EXPORTS.contains(&what.as_str()) {
        return Err(err(CoreError::Invalid(format!(
            "what: unknown export `{}`: passings or raw",
            what.escape_debug()
        ))));
    }
    let guard = core.running().await;
    let engine = engine(&guard)?;
    let session = engine.session(None).await.map_err(err)?;
    let dir = engine.config().data_dir.join("exports");
    std::fs::create_dir_all(&dir)
        .map_err(|e| err(CoreError::Invalid(format!("cannot create {}: {e}", dir.display()))))?;
    let stamp = engine.clock().now().format("%Y%m%dT%H%M%SZ");
    let path = dir.join(format!("{what}-session{}-{stamp}.csv", session.id));
    let file = std::fs::File::create(&path)
        .map_err(|e| err(CoreError::Invalid(format!("cannot write {}: {e}", path.display()))))?;
    let out = std::io::BufWriter::new(file);
    match what.as_str() {
        "passings" => engine.export_passings(Some(session.id), out).await,
        _ => engine.export_raw(Some(session.id), out).await,
    }
    .map_err(err)?;
    Ok(path.display().to_string())
}
