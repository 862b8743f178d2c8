//! Updates without surprises. The Tauri updater is on only when the build named an update
//! endpoint (`RUFUS_UPDATE_ENDPOINT`, a `latest.json` URL, read at compile time); without one the
//! plugin is not registered and no update request is ever made. With one, a background task
//! checks a minute after start and then every 6 hours; a failed check (an offline venue) is only
//! logged. An update is downloaded and installed only when a person clicks "Install update" on
//! the Settings screen *and* the console is idle — no open session, no passing waiting to be
//! sent, no read waiting to be committed ([`blocked_reason`]) — checked before the download,
//! every second while it runs (a session opened meanwhile stops it) and again right before
//! installing. The plugin verifies the artefact's signature against the public key in
//! `tauri.conf.json` (`plugins.updater.pubkey`) before installing anything. The console never
//! restarts itself: the Settings screen asks the person to restart. On Windows the plugin starts
//! the installer and ends the process at once (no `RunEvent::Exit`), and the installer starts
//! the new version; the idle check just before means nothing is left to commit or send.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tauri::{AppHandle, Runtime, Url};
use tauri_plugin_updater::{Update, UpdaterExt};
use timing_core::CoreError;
use timing_core::clock::{SharedClock, format_utc};
use timing_ipc::{AppCode, IpcError, UpdateStatus};

use crate::core::{AppCore, Running};

/// The update manifest URL this build checks, from `RUFUS_UPDATE_ENDPOINT` when it was
/// compiled (the release workflow sets it); `None` turns the updater off.
pub const BUILT_IN_ENDPOINT: Option<&str> = option_env!("RUFUS_UPDATE_ENDPOINT");

/// The first check waits this long after start, so start-up and the readers come first.
pub const FIRST_CHECK_AFTER: Duration = Duration::from_secs(60);
/// Then a check every 6 hours.
pub const CHECK_EVERY: Duration = Duration::from_secs(6 * 60 * 60);
/// A check that gets no answer gives up after this long (it is tried again later).
const CHECK_TIMEOUT: Duration = Duration::from_secs(30);
/// The download (installers embed WebView2: about 130 MB on Windows) over a slow link.
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(60 * 60);
/// How often the idle rule is re-checked while an update downloads.
const GUARD_EVERY: Duration = Duration::from_secs(1);

/// The running version (the one `app_state` reports).
const CURRENT: &str = env!("CARGO_PKG_VERSION");

/// The endpoint a build names, if it is a URL; an empty value is no endpoint.
pub fn endpoint(value: Option<&str>) -> Option<Url> {
    let value = value.map(str::trim).filter(|v| !v.is_empty())?;
    match Url::parse(value) {
        Ok(url) => Some(url),
        Err(e) => {
            tracing::warn!(endpoint = value, error = %e, "RUFUS_UPDATE_ENDPOINT is not a URL; updates are off");
            None
        }
    }
}

/// What the engine says about the console being in use, read at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UpdateFacts {
    /// A session is open (opening, active, closing) or capture still records into one (a session
    /// closed from elsewhere keeps receiving passings until a new one opens).
    pub session_open: bool,
    /// Passings waiting to be sent, all sessions.
    pub pending: i64,
    /// Reads the readers delivered that are not committed yet (commits failing or catching up).
    pub uncommitted_reads: i64,
}

/// Why an update may not be installed now, or `None` when it may: only an idle console — no
/// open session, nothing waiting to be sent or recorded — is ever updated.
pub fn blocked_reason(facts: &UpdateFacts) -> Option<String> {
    let mut why = Vec::new();
    if facts.session_open {
        why.push("a session is open".to_owned());
    }
    if facts.pending > 0 {
        let what = if facts.pending == 1 { "passing is" } else { "passings are" };
        why.push(format!("{} {what} waiting to be sent", facts.pending));
    }
    if facts.uncommitted_reads > 0 {
        let what = if facts.uncommitted_reads == 1 { "read is" } else { "reads are" };
        why.push(format!("{} {what} waiting to be recorded", facts.uncommitted_reads));
    }
    match why.split_last() {
        None => None,
        Some((last, [])) => Some(last.clone()),
        Some((last, rest)) => Some(format!("{} and {last}", rest.join(", "))),
    }
}

/// Reads the facts [`blocked_reason`] decides on, fresh from the store and the capture.
pub async fn facts(run: &Running) -> Result<UpdateFacts, CoreError> {
    let engine = run.engine();
    let capture = run.station.capture();
    let session_open = capture.session().is_some() || engine.current_session().await?.is_some();
    let pending = engine.store().outbox_counts(None).await?.pending;
    let uncommitted_reads = i64::try_from(capture.queued()).unwrap_or(i64::MAX);
    Ok(UpdateFacts { session_open, pending, uncommitted_reads })
}

/// The refusal while the console is in use.
fn busy(why: &str) -> IpcError {
    IpcError::app(
        AppCode::Busy,
        format!(
            "Not now: {why}. An update is installed only between races: close the session and let every passing sync first."
        ),
    )
}

fn failed(e: impl fmt::Display) -> IpcError {
    IpcError::app(
        AppCode::UpdateFailed,
        format!("the update could not be installed: {e}; the console goes on as it was"),
    )
}

/// Refuses unless the console is idle now.
async fn guard(core: &AppCore) -> Result<(), IpcError> {
    let running = core.running().await;
    let run = running.as_ref().ok_or_else(|| {
        IpcError::app(AppCode::Starting, "the console is starting; try again in a moment")
    })?;
    let facts = facts(run).await.map_err(|e| IpcError::from(&e))?;
    match blocked_reason(&facts) {
        None => Ok(()),
        Some(why) => Err(busy(&why)),
    }
}

#[derive(Default)]
struct State {
    available: Option<Update>,
    checked_at: Option<String>,
    last_error: Option<String>,
    installing: bool,
    installed: Option<String>,
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("State")
            .field("available", &self.available.as_ref().map(|u| &u.version))
            .field("checked_at", &self.checked_at)
            .field("last_error", &self.last_error)
            .field("installing", &self.installing)
            .field("installed", &self.installed)
            .finish()
    }
}

/// The updater's state, managed by Tauri as `Arc<Updates>`.
#[derive(Debug)]
pub struct Updates {
    endpoint: Option<Url>,
    clock: SharedClock,
    state: Mutex<State>,
}

/// Clears `installing` however the install ends.
struct Installing<'a>(&'a Updates);

impl Drop for Installing<'_> {
    fn drop(&mut self) {
        self.0.lock().installing = false;
    }
}

impl Updates {
    /// The updater for a build with this endpoint (`None`: off).
    pub fn new(endpoint: Option<Url>, clock: SharedClock) -> Self {
        Self { endpoint, clock, state: Mutex::new(State::default()) }
    }

    /// Whether this build checks for updates (and has the plugin registered).
    pub fn enabled(&self) -> bool {
        self.endpoint.is_some()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn view(&self, blocked: Option<String>) -> UpdateStatus {
        if !self.enabled() {
            return UpdateStatus::disabled(CURRENT);
        }
        let st = self.lock();
        let blocked = st.available.as_ref().and(blocked);
        UpdateStatus {
            enabled: true,
            current: CURRENT.to_owned(),
            available: st.available.as_ref().map(|u| u.version.clone()),
            notes: st.available.as_ref().and_then(|u| u.body.clone()),
            can_install: st.available.is_some() && blocked.is_none() && !st.installing,
            blocked_reason: blocked,
            checked_at: st.checked_at.clone(),
            last_error: st.last_error.clone(),
            installing: st.installing,
            installed: st.installed.clone(),
        }
    }

    /// The status with the console's facts as they are now (read only while an update is
    /// available; a failure to read them blocks the install).
    pub async fn status(&self, run: Option<&Running>) -> UpdateStatus {
        if !self.enabled() || self.lock().available.is_none() {
            return self.view(None);
        }
        let blocked = match run {
            None => Some("the console is starting".to_owned()),
            Some(run) => match facts(run).await {
                Ok(facts) => blocked_reason(&facts),
                Err(e) => Some(format!("the console cannot tell whether it is in use ({e})")),
            },
        };
        self.view(blocked)
    }

    /// The status, taking the running parts from the core.
    pub async fn status_of(&self, core: &AppCore) -> UpdateStatus {
        if !self.enabled() {
            return self.view(None);
        }
        let running = core.running().await;
        self.status(running.as_ref()).await
    }

    /// Asks the endpoint once. A failure is logged at info and kept for the Settings screen;
    /// an update found stays known until a later check says there is none.
    pub async fn check<R: Runtime>(&self, app: &AppHandle<R>) {
        // The plugin is registered exactly when there is an endpoint (`configure`).
        let Some(url) = self.endpoint.clone() else { return };
        let found = async {
            app.updater_builder()
                .endpoints(vec![url])?
                .timeout(CHECK_TIMEOUT)
                .build()?
                .check()
                .await
        }
        .await;
        let mut st = self.lock();
        st.checked_at = Some(format_utc(self.clock.now()));
        match found {
            Ok(Some(mut update)) => {
                st.last_error = None;
                if st.installed.as_deref() == Some(update.version.as_str()) {
                    return; // installed by this run, waiting for the restart
                }
                tracing::info!(version = %update.version, "an update is available");
                update.timeout = Some(DOWNLOAD_TIMEOUT);
                st.available = Some(update);
            }
            Ok(None) => {
                st.last_error = None;
                st.available = None;
            }
            Err(e) => {
                tracing::info!(error = %e, "could not check for an update; trying again later");
                st.last_error = Some(e.to_string());
            }
        }
    }

    /// Downloads, verifies and installs the available update, only while the console is idle
    /// (re-checked during the download and just before installing). On Windows the installer
    /// then closes the console and starts the new version; elsewhere the status says to restart.
    pub async fn install(&self, core: &AppCore) -> Result<UpdateStatus, IpcError> {
        let update = {
            let mut st = self.lock();
            if !self.enabled() {
                return Err(IpcError::app(
                    AppCode::UpdatesDisabled,
                    "this build does not check for updates: install a new version by hand",
                ));
            }
            if st.installing {
                return Err(IpcError::app(AppCode::Busy, "an update is already being installed"));
            }
            let Some(update) = st.available.clone() else {
                return Err(IpcError::app(AppCode::NoUpdate, "no update is available"));
            };
            st.installing = true;
            update
        };
        let installing = Installing(self);
        let version = update.version.clone();
        fetch_and_install(core, update).await?;
        tracing::info!(%version, "update installed; it runs after a restart");
        {
            let mut st = self.lock();
            st.installed = Some(version);
            st.available = None;
        }
        drop(installing);
        Ok(self.status_of(core).await)
    }
}

async fn fetch_and_install(core: &AppCore, update: Update) -> Result<(), IpcError> {
    guard(core).await?;
    let bytes = {
        let mut download = Box::pin(update.download(|_, _| {}, || {}));
        let mut every = tokio::time::interval(GUARD_EVERY);
        loop {
            tokio::select! {
                bytes = &mut download => break bytes.map_err(failed)?,
                // A session opened or passings arrived: the download stops.
                _ = every.tick() => guard(core).await?,
            }
        }
    };
    // The moment of install.
    guard(core).await?;
    // The Linux package install may wait for a password prompt: off the async workers.
    tauri::async_runtime::spawn_blocking(move || update.install(bytes))
        .await
        .map_err(failed)?
        .map_err(failed)
}

/// Checks after [`FIRST_CHECK_AFTER`], then every [`CHECK_EVERY`], for the app's life; returns
/// at once when updates are off.
pub async fn run<R: Runtime>(app: AppHandle<R>, updates: Arc<Updates>) {
    if !updates.enabled() {
        return;
    }
    tokio::time::sleep(FIRST_CHECK_AFTER).await;
    let mut every = tokio::time::interval(CHECK_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        updates.check(&app).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(session_open: bool, pending: i64, uncommitted_reads: i64) -> UpdateFacts {
        UpdateFacts { session_open, pending, uncommitted_reads }
    }

    #[test]
    fn only_an_idle_console_may_be_updated() {
        assert_eq!(blocked_reason(&UpdateFacts::default()), None, "idle: nothing blocks");
        assert_eq!(blocked_reason(&facts(true, 0, 0)).as_deref(), Some("a session is open"));
        assert_eq!(
            blocked_reason(&facts(false, 1, 0)).as_deref(),
            Some("1 passing is waiting to be sent")
        );
        assert_eq!(
            blocked_reason(&facts(false, 0, 12)).as_deref(),
            Some("12 reads are waiting to be recorded")
        );
        assert_eq!(
            blocked_reason(&facts(true, 3, 0)).as_deref(),
            Some("a session is open and 3 passings are waiting to be sent")
        );
        assert_eq!(
            blocked_reason(&facts(true, 2, 1)).as_deref(),
            Some(
                "a session is open, 2 passings are waiting to be sent and 1 read is waiting to be recorded"
            )
        );
    }

    #[test]
    fn the_refusal_says_what_to_do() {
        let e = busy("a session is open");
        assert_eq!(e.code, "busy");
        assert!(e.message.contains("a session is open"), "{}", e.message);
        assert!(
            e.message.ends_with("close the session and let every passing sync first."),
            "{}",
            e.message
        );
    }

    #[test]
    fn an_empty_or_broken_endpoint_turns_updates_off() {
        assert_eq!(endpoint(None), None);
        assert_eq!(endpoint(Some("")), None);
        assert_eq!(endpoint(Some("  ")), None);
        assert_eq!(endpoint(Some("not a url")), None);
        let url = endpoint(Some(" https://example.org/rufus/latest.json ")).unwrap();
        assert_eq!(url.as_str(), "https://example.org/rufus/latest.json");
    }

    #[test]
    fn a_build_without_an_endpoint_reports_updates_off() {
        let updates = Updates::new(None, timing_core::clock::SystemClock::shared());
        assert!(!updates.enabled());
        let st = updates.view(Some("a session is open".into()));
        assert_eq!(st, UpdateStatus::disabled(CURRENT));
        assert!(!st.can_install && st.blocked_reason.is_none() && st.available.is_none());
    }
}
