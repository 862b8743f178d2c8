//! App-level commands: the state a screen starts from, settings, the API key, participants and
//! exports.

use timing_core::CoreError;
use timing_ipc::{AppState, ExportWhat, ImportReport, KeyStorage, RawBody, Settings};

use super::{Cmd, Console, engine, err, running};
use crate::views;

impl timing_ipc::AppCommands for Console {
    async fn app_state(&self) -> Cmd<AppState> {
        let guard = self.core.running().await;
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
            settings: self.core.settings(),
            key: self.core.key_storage(),
            queued,
            participants_loaded: !engine.chips().is_empty(),
            capture: views::capture(run.station.capture()),
            warnings: self.core.warnings(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        })
    }

    async fn settings_set(&self, settings: Settings) -> Cmd<Settings> {
        self.core.set_settings(settings).await.map_err(err)
    }

    async fn api_key_set(&self, key: String) -> Cmd<KeyStorage> {
        self.core.set_key(&key).await.map_err(err)
    }

    async fn api_key_clear(&self) -> Cmd<KeyStorage> {
        self.core.clear_key().await.map_err(err)
    }

    /// Imports a participants file: the body is the file's bytes, exactly as read from disk
    /// (the web view never decodes them); timing-core decodes any encoding a spreadsheet writes.
    async fn participants_import(&self, body: RawBody) -> Cmd<ImportReport> {
        let guard = self.core.running().await;
        engine(&guard)?.import_participants_from(body.0.as_slice()).await.map_err(err)
    }

    /// Writes the current session's passings or raw reads as CSV into the data directory's
    /// `exports` folder; returns the file's path.
    async fn export_csv(&self, what: ExportWhat) -> Cmd<String> {
        let guard = self.core.running().await;
        let engine = engine(&guard)?;
        let session = engine.session(None).await.map_err(err)?;
        let dir = engine.config().data_dir.join("exports");
        std::fs::create_dir_all(&dir).map_err(|e| {
            err(CoreError::Invalid(format!("cannot create {}: {e}", dir.display())))
        })?;
        let stamp = engine.clock().now().format("%Y%m%dT%H%M%SZ");
        let name = match what {
            ExportWhat::Passings => "passings",
            ExportWhat::Raw => "raw",
        };
        let path = dir.join(format!("{name}-session{}-{stamp}.csv", session.id));
        let file = std::fs::File::create(&path).map_err(|e| {
            err(CoreError::Invalid(format!("cannot write {}: {e}", path.display())))
        })?;
        let out = std::io::BufWriter::new(file);
        match what {
            ExportWhat::Passings => engine.export_passings(Some(session.id), out).await,
            ExportWhat::Raw => engine.export_raw(Some(session.id), out).await,
        }
        .map_err(err)?;
        Ok(path.display().to_string())
    }
}
