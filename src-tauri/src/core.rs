//! What the app runs: the timing station (engine, capture, sync, readers) and the live feed,
//! plus the settings and the reader list, which are kept in the engine's own database so a
//! restart after a crash resumes where it was. Settings and the key are validated before
//! anything is saved and then applied in place (`Engine::reconfigure`, the capture's
//! de-duplication window): changing them never stops capture, closes a serial port or makes
//! a reader reconnect. A stored value this version refuses falls back to its default at start,
//! with a warning the UI shows.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use timing_core::engine::{Reconfigure, validate_api_key, validate_api_url};
use timing_core::feed::LiveFeed;
use timing_core::lock::InstanceLock;
use timing_core::station::Station;
use timing_core::store::Store;
use timing_core::{CoreError, Engine, EngineConfig};
use timing_ipc::{KeyStorage, Settings, SoundSettings, Theme, TimeDisplay};
use tokio::sync::RwLock;

use crate::keystore::KeyStore;

/// The least time between two live feed batches (`timing_ipc::FEED_GAP_MS`).
pub const FEED_GAP: Duration = Duration::from_millis(timing_ipc::FEED_GAP_MS);

/// Start-up choices that come from the environment rather than from a person (the demo of
/// `cargo xtask run`, tests): they never touch the user's real data directory when set.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `TIMING_DATA_DIR`: the data directory.
    pub data_dir: Option<PathBuf>,
    /// `TIMING_API_URL`: the API base URL.
    pub api_url: Option<String>,
    /// `RUFUS_API_KEY`: the key (not stored).
    pub api_key: Option<String>,
    /// `TIMING_DEMO_READER`: a reader spec started as reader "demo" (e.g. `sim:runners=500,rate=3`).
    pub demo_reader: Option<String>,
    /// Keep the key in the data directory's private file, never in the OS keychain (tests).
    pub key_file_only: bool,
    /// The update manifest URL (`latest.json`). Not a runtime variable: `from_env` takes
    /// `RUFUS_UPDATE_ENDPOINT` as it was when the app was compiled
    /// ([`crate::updates::BUILT_IN_ENDPOINT`]); `None` (or empty) turns the updater off.
    pub update_endpoint: Option<String>,
}

impl Overrides {
    /// Reads the overrides from the environment (the update endpoint from the build's).
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Self {
            data_dir: var("TIMING_DATA_DIR").map(PathBuf::from),
            api_url: var("TIMING_API_URL"),
            api_key: var("RUFUS_API_KEY"),
            demo_reader: var("TIMING_DEMO_READER"),
            key_file_only: false,
            update_endpoint: crate::updates::BUILT_IN_ENDPOINT.map(str::to_owned),
        }
    }
}

/// A reader the app runs, persisted so it restarts with the app.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReaderEntry {
    /// Unique name.
    pub name: String,
    /// Its spec.
    pub spec: String,
}

/// The running parts.
#[derive(Debug)]
pub struct Running {
    /// Capture, sync and readers.
    pub station: Station,
    /// The coalesced live feed.
    pub feed: LiveFeed,
}

impl Running {
    /// The engine.
    pub fn engine(&self) -> &Engine {
        self.station.engine()
    }
}

/// The app's state, shared by every command.
#[derive(Debug)]
pub struct AppCore {
    data_dir: PathBuf,
    keys: KeyStore,
    overrides: Overrides,
    key_storage: Mutex<KeyStorage>,
    settings: Mutex<Settings>,
    running: RwLock<Option<Running>>,
    /// Stored settings that could not be used at start.
    warnings: Vec<String>,
    /// Held for the app's life: one capturing console per data directory.
    _lock: InstanceLock,
}

const SETTINGS_KEY: &str = "app_settings";
const READERS_KEY: &str = "app_readers";

fn default_settings(api_url: Option<String>) -> Settings {
    Settings {
        api_url: api_url.unwrap_or_else(|| rufus_api::PRODUCTION_BASE_URL.to_owned()),
        dedup_window_s: 5.0,
        station: String::new(),
        operator: "console".into(),
        time_display: TimeDisplay::Local,
        theme: Theme::Day,
        scale: 1.0,
        sound: SoundSettings::default(),
    }
}

const SCALE: std::ops::RangeInclusive<f64> = 0.75..=2.0;
const DEDUP_S: std::ops::RangeInclusive<f64> = 0.0..=3600.0;

/// Checks what [`Engine::reconfigure`] does not: the UI scale, the de-duplication window, and
/// the URL (normalised). Every message starts with the field.
fn check_settings(mut settings: Settings) -> Result<Settings, CoreError> {
    if !SCALE.contains(&settings.scale) {
        return Err(CoreError::Invalid("scale: the UI scale must be 0.75–2".into()));
    }
    if !(0.0..=1.0).contains(&settings.sound.volume) {
        return Err(CoreError::Invalid("sound.volume: the volume must be 0–1".into()));
    }
    if !DEDUP_S.contains(&settings.dedup_window_s) {
        return Err(CoreError::Invalid(
            "dedup_window_s: the de-duplication window must be 0–3600 s".into(),
        ));
    }
    settings.api_url = validate_api_url(&settings.api_url)?;
    Ok(settings)
}

/// Settings as stored, made usable: a value this version refuses (an older one may have stored
/// it) is replaced by its default, with a warning, so the console always starts.
fn usable_settings(
    stored: Option<&str>,
    default_url: Option<String>,
    warnings: &mut Vec<String>,
) -> Settings {
    let defaults = default_settings(default_url);
    let mut settings = match stored.map(serde_json::from_str::<Settings>) {
        None => return defaults,
        Some(Ok(s)) => s,
        Some(Err(e)) => {
            warnings.push(format!("the stored settings could not be read ({e}); using defaults"));
            return defaults;
        }
    };
    if !SCALE.contains(&settings.scale) {
        warnings.push(format!(
            "scale: the stored UI scale {} is out of range; using 1",
            settings.scale
        ));
        settings.scale = defaults.scale;
    }
    if !(0.0..=1.0).contains(&settings.sound.volume) {
        warnings.push(format!(
            "sound.volume: the stored volume {} is out of range; using {}",
            settings.sound.volume, defaults.sound.volume
        ));
        settings.sound.volume = defaults.sound.volume;
    }
    if !DEDUP_S.contains(&settings.dedup_window_s) {
        warnings.push(format!(
            "dedup_window_s: the stored window {} s is out of range; using 5 s",
            settings.dedup_window_s
        ));
        settings.dedup_window_s = defaults.dedup_window_s;
    }
    match validate_api_url(&settings.api_url) {
        Ok(url) => settings.api_url = url,
        Err(e) => {
            warnings.push(format!("{e}; using {}", defaults.api_url));
            settings.api_url = defaults.api_url;
        }
    }
    settings
}

fn not_started() -> CoreError {
    CoreError::Invalid("the console is starting; try again in a moment".into())
}

impl AppCore {
    /// Opens the data directory and starts the station.
    pub async fn start(
        data_dir: PathBuf,
        dev: bool,
        overrides: Overrides,
    ) -> Result<Arc<Self>, CoreError> {
        let data_dir = overrides.data_dir.clone().unwrap_or(data_dir);
        let lock = InstanceLock::acquire(&data_dir, "RUFUS Timing Console (desktop)")?;
        let store = Store::open_in(&data_dir).await?;
        let mut warnings = Vec::new();
        let stored_url =
            store.setting("api_url").await?.filter(|url| validate_api_url(url).is_ok());
        let stored = store.setting(SETTINGS_KEY).await?;
        let mut settings = usable_settings(stored.as_deref(), stored_url, &mut warnings);
        if let Some(url) = &overrides.api_url {
            match validate_api_url(url) {
                Ok(url) => settings.api_url = url,
                Err(e) => warnings.push(format!("TIMING_API_URL: {e}")),
            }
        }
        let readers: Vec<ReaderEntry> = store
            .setting(READERS_KEY)
            .await?
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_default();
        store.close().await;

        let mut keys = KeyStore::new(&data_dir, dev);
        if overrides.key_file_only {
            keys = keys.file_only();
        }
        let (key, mut storage) = match &overrides.api_key {
            Some(key) => (
                Some(key.trim().to_owned()),
                KeyStorage::File { reason: "taken from RUFUS_API_KEY for this run".into() },
            ),
            None => keys.load(),
        };
        let key = match key.map(|k| validate_api_key(&k).map(|_| k)) {
            Some(Ok(key)) => Some(key),
            Some(Err(e)) => {
                warnings.push(format!("{e}: the stored API key cannot be used; enter it again"));
                storage = KeyStorage::None;
                None
            }
            None => None,
        };
        for warning in &warnings {
            tracing::warn!(%warning, "a stored setting was replaced by its default");
        }
        let core = Arc::new(Self {
            data_dir,
            keys,
            overrides,
            key_storage: Mutex::new(storage),
            settings: Mutex::new(settings.clone()),
            running: RwLock::new(None),
            warnings,
            _lock: lock,
        });
        let running = core.launch(&settings, key).await?;
        // Readers start once, here: settings never restart them.
        for reader in &readers {
            if let Err(e) = running.station.add_source(&reader.name, &reader.spec).await {
                tracing::warn!(reader = %reader.name, error = %e, "could not restart a reader");
            }
        }
        if let Some(spec) = &core.overrides.demo_reader
            && !readers.iter().any(|r| r.name == "demo")
        {
            running.station.add_source("demo", spec).await?;
        }
        *core.running.write().await = Some(running);
        Ok(core)
    }

    async fn launch(&self, settings: &Settings, key: Option<String>) -> Result<Running, CoreError> {
        let mut config = EngineConfig::new(&self.data_dir);
        config.api_url = Some(settings.api_url.clone());
        config.api_key = key.map(rufus_api::ApiKey::new);
        config.dedup_window = Duration::from_secs_f64(settings.dedup_window_s.clamp(0.0, 3600.0));
        config.operator = if settings.operator.trim().is_empty() {
            "console".into()
        } else {
            settings.operator.clone()
        };
        config.station = Some(settings.station.clone()).filter(|s| !s.trim().is_empty());
        let engine = Engine::open(config, timing_core::clock::SystemClock::shared()).await?;
        if engine.sync().client().is_some()
            && let Err(e) = engine.check_sessions().await
        {
            tracing::warn!(error = %e, "could not check the open session with RUFUS; will retry while syncing");
        }
        let station = Station::start(engine.clone()).await?;
        let feed = LiveFeed::start(engine, FEED_GAP);
        Ok(Running { station, feed })
    }

    /// The running parts (read access for commands).
    pub async fn running(&self) -> tokio::sync::RwLockReadGuard<'_, Option<Running>> {
        self.running.read().await
    }

    /// Current settings.
    pub fn settings(&self) -> Settings {
        self.settings.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Where the key lives.
    pub fn key_storage(&self) -> KeyStorage {
        self.key_storage.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Stored settings that could not be used at start (shown by the UI).
    pub fn warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }

    /// Validates the settings, applies them in place (the sync client, who is recorded on
    /// corrections, the de-duplication window) and then saves them. A bad value is refused
    /// with a message naming the field; then nothing is saved and the station is untouched.
    pub async fn set_settings(&self, settings: Settings) -> Result<Settings, CoreError> {
        let settings = check_settings(settings)?;
        let before = self.settings();
        let change = Reconfigure {
            api_key: None,
            api_url: (settings.api_url != before.api_url).then(|| settings.api_url.clone()),
            operator: (settings.operator != before.operator).then(|| settings.operator.clone()),
            station: (settings.station != before.station)
                .then(|| Some(settings.station.clone()).filter(|s| !s.trim().is_empty())),
        };
        {
            // No network call is made while this is held (reconfigure only swaps the client).
            let guard = self.running.read().await;
            let run = guard.as_ref().ok_or_else(not_started)?;
            run.engine().reconfigure(change).await?;
            #[allow(clippy::float_cmp)] // an exact change of the stored number
            if settings.dedup_window_s != before.dedup_window_s {
                run.station
                    .capture()
                    .set_dedup_window(Duration::from_secs_f64(settings.dedup_window_s));
            }
        }
        *self.settings.lock().unwrap_or_else(|p| p.into_inner()) = settings.clone();
        self.persist(SETTINGS_KEY, &settings).await?;
        Ok(settings)
    }

    /// Validates a new key, stores it (keychain or private file) and hands it to the sync
    /// engine in place. A bad key is refused before anything is stored.
    pub async fn set_key(&self, key: &str) -> Result<KeyStorage, CoreError> {
        let key = key.trim();
        if key.is_empty() {
            return Err(CoreError::Invalid("api_key: the API key is empty".into()));
        }
        validate_api_key(key)?;
        let storage =
            self.keys.save(key).map_err(|e| CoreError::Invalid(format!("api_key: {e}")))?;
        *self.key_storage.lock().unwrap_or_else(|p| p.into_inner()) = storage.clone();
        self.reconfigure(Reconfigure { api_key: Some(Some(key.to_owned())), ..Default::default() })
            .await?;
        Ok(storage)
    }

    /// Forgets the key; capture goes on, nothing syncs.
    pub async fn clear_key(&self) -> Result<KeyStorage, CoreError> {
        let storage = self.keys.clear();
        *self.key_storage.lock().unwrap_or_else(|p| p.into_inner()) = storage.clone();
        self.reconfigure(Reconfigure { api_key: Some(None), ..Default::default() }).await?;
        Ok(storage)
    }

    async fn reconfigure(&self, change: Reconfigure) -> Result<(), CoreError> {
        let guard = self.running.read().await;
        guard.as_ref().ok_or_else(not_started)?.engine().reconfigure(change).await
    }

    /// The readers the app runs.
    pub async fn readers(&self) -> Result<Vec<ReaderEntry>, CoreError> {
        let guard = self.running.read().await;
        let Some(running) = guard.as_ref() else { return Ok(Vec::new()) };
        Ok(running
            .station
            .sources()
            .into_iter()
            .map(|s| ReaderEntry { name: s.name, spec: s.spec })
            .collect())
    }

    /// Saves the reader list so it survives a restart.
    pub async fn persist_readers(&self) -> Result<(), CoreError> {
        let readers: Vec<ReaderEntry> =
            self.readers().await?.into_iter().filter(|r| r.name != "demo").collect();
        self.persist(READERS_KEY, &readers).await
    }

    async fn persist(&self, key: &str, value: &impl serde::Serialize) -> Result<(), CoreError> {
        let json = serde_json::to_string(value).map_err(|e| CoreError::Invalid(e.to_string()))?;
        let guard = self.running.read().await;
        match guard.as_ref() {
            Some(r) => r.engine().store().set_setting(key, &json).await,
            None => {
                let store = Store::open_in(&self.data_dir).await?;
                store.set_setting(key, &json).await?;
                store.close().await;
                Ok(())
            }
        }
    }

    /// Stops everything (commits what the readers delivered).
    pub async fn shutdown(&self) {
        if let Some(old) = self.running.write().await.take() {
            old.station.shutdown().await;
        }
    }
}
