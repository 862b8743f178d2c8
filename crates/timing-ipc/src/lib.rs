//! The desktop app's IPC surface as plain Rust types: everything that crosses between
//! `src-tauri` and the web UI. The UI's TypeScript declarations (`ui/src/ipc/bindings.gen.ts`)
//! are generated from these types and from timing-core's, and a test fails when the committed
//! file is stale (`UPDATE_BINDINGS=1 cargo test -p timing-ipc` rewrites it).
//!
//! Commands are named `<noun>_<verb>` and declared once, in [`with_commands!`] (see
//! [`commands`]); low-rate status travels as events named in [`events`]; the live feed streams
//! [`FeedBatch`]es over a channel. Every command error crosses as [`IpcError`] `{code, message}`.

pub mod commands;

pub use commands::*;
use serde::{Deserialize, Serialize};
pub use timing_core::corrections::Corrected;
pub use timing_core::domain::{Correction, Device, FeedEntry, Session};
pub use timing_core::manual::Entry;
pub use timing_core::participants::ImportReport;
pub use timing_core::runners::{RaceCounts, RunnerPreview, RunnerStatus};
use timing_core::store::OutboxCounts;
use timing_core::sync::SyncStatus;
use ts_rs::TS;

/// An error as the UI receives it: a stable code to branch on and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct IpcError {
    /// One of [`CoreError::codes`](timing_core::CoreError::codes) or [`AppCode`]: e.g.
    /// `no_open_session`, `unauthorized`, `invalid`, `confirmation_required`, `busy`.
    #[ts(type = "ErrorCode")]
    pub code: String,
    /// What happened, in words a timer understands.
    pub message: String,
}

impl IpcError {
    /// An error of the app layer itself.
    pub fn app(code: AppCode, message: impl Into<String>) -> Self {
        Self { code: code.as_str().to_owned(), message: message.into() }
    }

    /// Every code an error can carry: the engine's (the cloud's included) and the app's.
    pub fn codes() -> Vec<&'static str> {
        let mut all = timing_core::CoreError::codes();
        all.extend(AppCode::ALL.map(AppCode::as_str));
        all.sort_unstable();
        all.dedup();
        all
    }
}

/// Error codes of the app layer (the engine's come with its errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppCode {
    /// The console is still starting.
    Starting,
    /// An update while the console is not idle, or one already installing.
    Busy,
    /// No update is available.
    NoUpdate,
    /// This build has no update endpoint: updates are installed by hand.
    UpdatesDisabled,
    /// Downloading or installing an update failed.
    UpdateFailed,
    /// Anything the UI could not read as `{code, message}`.
    Internal,
}

impl AppCode {
    /// Every app code.
    pub const ALL: [AppCode; 6] = [
        Self::Starting,
        Self::Busy,
        Self::NoUpdate,
        Self::UpdatesDisabled,
        Self::UpdateFailed,
        Self::Internal,
    ];

    /// The code as it crosses IPC.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Starting => "starting",
            Self::Busy => "busy",
            Self::NoUpdate => "no_update",
            Self::UpdatesDisabled => "updates_disabled",
            Self::UpdateFailed => "update_failed",
            Self::Internal => "internal",
        }
    }
}

/// What `export_csv` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ExportWhat {
    /// The session's passings.
    Passings,
    /// The session's raw reads.
    Raw,
}

impl From<&timing_core::CoreError> for IpcError {
    fn from(e: &timing_core::CoreError) -> Self {
        Self { code: e.code().to_owned(), message: e.to_string() }
    }
}

/// Settings a person can change, persisted by the app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Settings {
    /// RUFUS API base URL (production or the local simulator).
    pub api_url: String,
    /// De-duplication window per chip, seconds.
    pub dedup_window_s: f64,
    /// This console's station name (recorded with corrections).
    pub station: String,
    /// Who is at the keyboard.
    pub operator: String,
    /// Show times in UTC or in the computer's local zone (stored times are always UTC).
    pub time_display: TimeDisplay,
    /// Colour theme.
    pub theme: Theme,
    /// UI scale, 0.75–2.0.
    pub scale: f64,
    /// Tones for passings, unknown or repeated bibs, a reader going quiet or lost, and sync
    /// failing (generated in the web view).
    #[serde(default)]
    pub sound: SoundSettings,
}

/// The console's sounds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
pub struct SoundSettings {
    /// No sound at all.
    pub muted: bool,
    /// Volume, 0–1.
    pub volume: f64,
}

impl Default for SoundSettings {
    fn default() -> Self {
        Self { muted: false, volume: 0.6 }
    }
}

/// How times are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum TimeDisplay {
    /// UTC.
    Utc,
    /// The computer's time zone.
    Local,
}

/// Colour theme: day (dark text on light, for sunlight) or night.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    /// High-contrast light theme for sunlight.
    Day,
    /// High-contrast dark theme.
    Night,
}

/// Where the API key lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum KeyStorage {
    /// No key is set: nothing syncs.
    None,
    /// In the OS keychain.
    Keychain,
    /// No keychain here: in a file only this user can read.
    File {
        /// Why the keychain was not used.
        reason: String,
    },
}

/// A reader as the console shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ReaderView {
    /// Its name (unique on this console).
    pub name: String,
    /// Its spec, e.g. `serial:/dev/ttyUSB0?protocol=ipico` or `sim:runners=500,rate=5`.
    pub spec: String,
    /// Protocol name.
    pub protocol: String,
    /// `connecting`, `connected`, `reading`, `quiet`, `lost`, `stopped`.
    pub state: String,
    /// The last error, when lost.
    pub last_error: Option<String>,
    /// Reads the reader may hold that the console cannot fetch, and what to do about them.
    pub warning: Option<String>,
    /// Reads per second, recent.
    pub reads_per_sec: f64,
    /// Reads per second over the last minute, one value per 5 s (for the sparkline).
    pub rate_history: Vec<f64>,
    /// Reads in total.
    pub reads: i64,
    /// Frames rejected (bad checksum, garbage…).
    pub rejected: i64,
    /// The last read: chip and when (UTC).
    pub last_read: Option<LastRead>,
    /// Reader clock minus host clock, milliseconds, when the reader has a clock.
    pub clock_offset_ms: Option<i64>,
    /// The zone the reader's clock is read in: `Europe/Madrid`, `+02:00`, `UTC`; `UTC (reader
    /// sends UTC)` for a reader that sends UTC; null for sources without a clock.
    pub clock_zone: Option<String>,
    /// Whether the zone can be chosen (the reader sends local time): `reader_set_zone`.
    pub zone_settable: bool,
    /// The reader clock disagrees with this computer's by more than 2 s, in words: "Reader clock
    /// is 1 h 0 min 2 s ahead of this computer".
    pub clock_hint: Option<String>,
    /// The zone that would make the clocks agree (offered as "Use zone +02:00").
    pub proposed_zone: Option<String>,
    /// Milliseconds added to each read's passing time (`reader_adjust`), 0 for none.
    pub adjust_ms: i64,
    /// The reader's settings as it read them back, beside what its spec asked for (LLRP:
    /// `connected antennas`, `antenna 1 power`, `antenna 1 sensitivity`, … in the units of the
    /// spec's options); empty for readers that read nothing back.
    pub settings: Vec<ReaderSettingView>,
}

/// One of a reader's settings: what the spec asked, what the reader applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ReaderSettingView {
    /// `antenna 1 power`, `connected antennas`.
    pub name: String,
    /// What the spec asked; null: nothing (the reader's own setting stands).
    pub asked: Option<String>,
    /// What the reader reports it applied; null: it reported nothing.
    pub applied: Option<String>,
    /// Something was asked and the reader did not apply exactly that (it is also in `warning`).
    pub differs: bool,
}

/// The zones a reader's clock can be read in, for the tile's zone field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ZoneList {
    /// This computer's zone (what a reader without `zone=` is read in).
    pub computer: String,
    /// IANA zone names, sorted.
    pub zones: Vec<String>,
}

/// Every IANA zone chrono-tz knows, with this computer's zone.
pub fn reader_zones(computer: &timing_readers::ReaderZone) -> ZoneList {
    let zones = timing_readers::ReaderZone::names().into_iter().map(str::to_owned).collect();
    ZoneList { computer: computer.to_string(), zones }
}

/// The last read of a reader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LastRead {
    /// Chip.
    pub chip: String,
    /// When (UTC).
    pub at: String,
}

/// A raw frame of a reader, for the readers screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct FrameView {
    /// When it arrived (UTC).
    pub at: String,
    /// The bytes, hex.
    pub hex: String,
    /// What it decoded to, or why it was rejected.
    pub summary: String,
}

/// A serial port the OS offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PortView {
    /// `/dev/ttyUSB0`, `COM3`.
    pub path: String,
    /// "CP2102 USB to UART Bridge Controller on /dev/ttyUSB0".
    pub description: String,
}

/// A reader protocol the console speaks, with what the Readers form prefills.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ProtocolView {
    /// `protocol=` in a reader spec: `ipico`, `ultra`, …
    pub name: String,
    /// What a timer calls the hardware.
    pub label: String,
    /// `serial` / `tcp`, the usual one first.
    pub transports: Vec<String>,
    /// The baud rate a serial spec without `baud=` gets.
    pub baud: u32,
    /// The TCP port a network spec without a port gets, if the protocol has one.
    pub tcp_port: Option<u16>,
    /// Whether the device carries its own time (otherwise the computer's receive time counts).
    pub carries_time: bool,
    /// Whether that time is the reader's local wall-clock time, read in its zone (else UTC).
    pub local_time: bool,
    /// Spec options only this protocol takes (`power`, `keepalive`, …).
    pub options: Vec<ProtocolOptionView>,
}

/// A spec option of one protocol, for the Readers form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ProtocolOptionView {
    /// The option's name in the spec.
    pub name: String,
    /// What it sets and its default.
    pub help: String,
}

/// Every protocol, from timing-readers' registry (the answer of `reader_protocols`).
pub fn reader_protocols() -> Vec<ProtocolView> {
    timing_readers::Protocol::ALL
        .into_iter()
        .map(|p| ProtocolView {
            name: p.name().to_owned(),
            label: p.label().to_owned(),
            transports: p.transports().iter().map(|t| t.name().to_owned()).collect(),
            baud: p.serial_settings().baud,
            tcp_port: p.default_tcp_port(),
            carries_time: p.carries_time(),
            local_time: p.shows_local_time(),
            options: p
                .info()
                .options
                .iter()
                .map(|o| ProtocolOptionView { name: o.name.to_owned(), help: o.help.to_owned() })
                .collect(),
        })
        .collect()
}

/// A device of the RUFUS account (from the cloud).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CloudDevice {
    /// RUFUS device id.
    pub deviceid: String,
    /// Serial number.
    pub serial_number: Option<String>,
    /// Model.
    pub model: Option<String>,
    /// Alias.
    pub alias: Option<String>,
    /// Sessions in the cloud.
    pub sessions: Option<i64>,
    /// Passings in the cloud.
    pub passings: Option<i64>,
    /// Whether this console has it bound.
    pub bound_here: bool,
}

/// A session as the cloud lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CloudSession {
    /// Token.
    pub token_session: String,
    /// Alias.
    pub alias: Option<String>,
    /// Whether it accepts passings.
    pub active: bool,
    /// Passings in the cloud.
    pub passings: Option<i64>,
    /// Created (UTC text as the cloud gave it).
    pub creation_date: Option<String>,
}

/// A session with its outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct SessionDetails {
    /// The session.
    pub session: Session,
    /// Its outbox counters.
    pub outbox: OutboxCounts,
}

/// Local passings compared with the cloud's, by `num_passing`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ReconcileReport {
    /// The session.
    pub session_id: i64,
    /// Passings recorded locally (moved ones excluded).
    pub local: i64,
    /// Passings the cloud holds.
    pub cloud: i64,
    /// Local passings marked sent that the cloud does not hold.
    pub missing_in_cloud: Vec<i64>,
    /// Passings still pending locally.
    pub pending: Vec<i64>,
    /// Numbers the cloud holds that this console never recorded.
    pub unknown_in_cloud: Vec<i64>,
}

/// Everything the console screen needs at start and after a reload.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct AppState {
    /// The device this console records for.
    pub device: Option<Device>,
    /// Its open session.
    pub session: Option<Session>,
    /// Sync status.
    pub sync: SyncStatus,
    /// Readers.
    pub readers: Vec<ReaderView>,
    /// Settings.
    pub settings: Settings,
    /// Where the API key lives.
    pub key: KeyStorage,
    /// Bibs waiting in the typed-ahead queue.
    pub queued: Vec<String>,
    /// Whether a participant list is loaded.
    pub participants_loaded: bool,
    /// Capture's commit state (the red banner).
    pub capture: CaptureStatus,
    /// Stored settings that could not be used at start (the defaults were taken instead).
    pub warnings: Vec<String>,
    /// App version.
    pub version: String,
}

/// Whether capture is committing: a failing commit (disk full, database locked) keeps the reads
/// in memory and retries — the console shows this louder than anything else.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
pub struct CaptureStatus {
    /// Why the last commit failed; null while commits succeed.
    pub last_error: Option<String>,
    /// Reads waiting to be committed.
    pub queued: i64,
}

/// When a manual key (Space, Enter, the stamp button) was pressed, as the UI took it:
/// milliseconds since the Unix epoch, or an RFC 3339 text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(untagged)]
pub enum PressedAt {
    /// Milliseconds since 1970-01-01T00:00:00Z (`Date.now()`).
    Millis(i64),
    /// RFC 3339, e.g. `2026-05-01T09:12:03.250Z`.
    Text(String),
}

impl PressedAt {
    /// The instant, or why it is not one.
    pub fn to_utc(&self) -> Result<chrono::DateTime<chrono::Utc>, String> {
        match self {
            PressedAt::Millis(ms) => chrono::DateTime::from_timestamp_millis(*ms)
                .ok_or_else(|| format!("{ms} ms is not a time")),
            PressedAt::Text(text) => chrono::DateTime::parse_from_rfc3339(text.trim())
                .map(|t| t.with_timezone(&chrono::Utc))
                .map_err(|_| format!("`{text}` is not an RFC 3339 time")),
        }
    }
}

/// What a manual stamp recorded (an [`Entry`](timing_core::manual::Entry)), and why its time
/// is not the key press time when it is not (a clock far off, a key press too old).
#[derive(Debug, Clone, Serialize, TS)]
pub struct ManualResult {
    /// The entry.
    #[serde(flatten)]
    pub entry: timing_core::manual::Entry,
    /// Set when the stamp took the host's time instead of the key press time.
    pub time_warning: Option<String>,
}

/// A batch of the live feed (committed passings, newest last), at most one per frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct FeedBatch {
    /// New or changed entries, with corrections applied.
    pub entries: Vec<FeedEntry>,
    /// Raw reads stored since the last batch.
    pub raw_reads: i64,
    /// Of those, duplicates.
    pub duplicates: i64,
    /// A start was made or moved, or the feed fell behind: race times shown may be stale, so
    /// the screen reads the feed and the race again.
    pub reread: bool,
}

/// Host clock status (promise 5: the OS clock never re-times a session).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ClockStatus {
    /// Host UTC time.
    pub host_utc: String,
    /// The last OS clock jump seen, milliseconds (wall minus monotonic), if any.
    pub last_jump_ms: Option<i64>,
}

/// What binding asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct BindInput {
    /// Serial number.
    pub serial_number: String,
    /// Model.
    pub model: String,
    /// RUFUS device type.
    pub device_type: String,
    /// Alias.
    pub alias: Option<String>,
    /// Firmware.
    pub firmware: Option<String>,
    /// Continue the device's session that another console has open in RUFUS (asked after a
    /// `confirmation_required` answer).
    #[serde(default)]
    pub take_over: bool,
}

/// A correction as the UI asks for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ChangeInput {
    /// Set (or clear) the bib.
    SetBib {
        /// New bib; null clears it.
        bib: Option<String>,
    },
    /// Set the time.
    SetTime {
        /// UTC, RFC 3339.
        time: String,
    },
    /// Void.
    Void,
    /// Undo a void.
    Restore,
}

/// How a wave's start is asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum StartInput {
    /// Start a wave that has not started, at the key press (or now).
    Now {
        /// When the Start key or button was pressed.
        pressed_at: Option<PressedAt>,
    },
    /// Set the start to an exact time (UTC, RFC 3339).
    Exact {
        /// The start time.
        at: String,
    },
    /// Move the start by this many seconds (negative: earlier).
    Nudge {
        /// Seconds.
        seconds: f64,
    },
    /// Start again after a false start, at the key press (the old start stays in the log).
    Restart {
        /// When the key was pressed.
        pressed_at: Option<PressedAt>,
    },
}

/// One wave of the race.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct WaveView {
    /// The wave's name (`""`: a race without waves).
    pub wave: String,
    /// How a person calls it: "10K", or "Race" for the one start.
    pub label: String,
    /// Runners of the participant list in it.
    pub runners: u32,
    /// Its start (UTC), once started.
    pub start_at: Option<String>,
    /// How that start was made: `stamp`, `exact`, `nudge`, `restart`, `gun`.
    pub start_kind: Option<String>,
}

/// One entry of the start log (restarts keep the false start here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct StartView {
    /// The wave.
    pub wave: String,
    /// The start instant (UTC).
    pub at: String,
    /// `stamp`, `exact`, `nudge`, `restart`, `gun`.
    pub kind: String,
    /// The reader whose impulse it was.
    pub source: Option<String>,
    /// Who made it.
    pub operator: String,
    /// When it was recorded (UTC).
    pub recorded_at: String,
}

/// The race of the open session: its waves and starts, and its counts. Starts are kept on this
/// console and exported; RUFUS has no endpoint for them, so they are never sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct RaceView {
    /// The session (null: none is open, nothing can start).
    pub session_id: Option<i64>,
    /// Every wave, with its start.
    pub waves: Vec<WaveView>,
    /// The start log, oldest first.
    pub log: Vec<StartView>,
    /// Finished, on course, unknown (null without an open session).
    pub counts: Option<RaceCounts>,
}

/// A runner of the participant list, for the "not yet seen" list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RunnerView {
    /// Bib.
    pub bib: String,
    /// Name.
    pub name: Option<String>,
    /// Category.
    pub category: Option<String>,
    /// Wave.
    pub wave: String,
}

/// The updater as the Settings screen shows it. Updates are off unless the build named an
/// update endpoint (`RUFUS_UPDATE_ENDPOINT`); an update is installed only when a person asks and
/// the console is idle (no open session, nothing waiting to be sent or recorded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct UpdateStatus {
    /// Whether this build checks for updates at all; when false nothing else is set and the UI
    /// shows nothing about updates.
    pub enabled: bool,
    /// The running version.
    pub current: String,
    /// The version an update check found, newer than `current` (not yet installed).
    pub available: Option<String>,
    /// Its release notes, as published.
    pub notes: Option<String>,
    /// Whether "Install update" may be clicked now: an update is available, the console is idle
    /// and no install is running.
    pub can_install: bool,
    /// Why it cannot be installed now (e.g. "a session is open"), while an update is available.
    pub blocked_reason: Option<String>,
    /// When the last check ended (UTC), successful or not.
    pub checked_at: Option<String>,
    /// Why the last check failed (no internet at the venue is normal); null after a success.
    pub last_error: Option<String>,
    /// An install is downloading or running.
    pub installing: bool,
    /// The version installed by this run: restart the console to use it.
    pub installed: Option<String>,
}

impl UpdateStatus {
    /// The status of a build without an update endpoint.
    pub fn disabled(current: &str) -> Self {
        Self {
            enabled: false,
            current: current.to_owned(),
            available: None,
            notes: None,
            can_install: false,
            blocked_reason: None,
            checked_at: None,
            last_error: None,
            installing: false,
            installed: None,
        }
    }
}

/// Event names (URI-style) of the low-rate status the app emits.
/// The least time between two live feed batches, in milliseconds: one display frame at 60 Hz
/// (a lone read goes out at once; a burst is coalesced into the next frame's batch). The app's
/// live feed and the UI's mock host both keep it.
pub const FEED_GAP_MS: u64 = 16;

pub mod events {
    /// Payload: `SyncStatus`.
    pub const SYNC: &str = "status://sync";
    /// Payload: `ReaderView[]`.
    pub const READERS: &str = "status://readers";
    /// Payload: `Session | null` (the open session changed state).
    pub const SESSION: &str = "status://session";
    /// Payload: `ClockStatus`.
    pub const CLOCK: &str = "status://clock";
    /// Payload: `CaptureStatus`.
    pub const CAPTURE: &str = "status://capture";
    /// Payload: `UpdateStatus` (only from a build with an update endpoint: an update was found,
    /// or whether it may be installed changed).
    pub const UPDATE: &str = "status://update";
}

/// The TypeScript declarations of every type that crosses IPC, in one file.
pub fn typescript() -> String {
    use timing_core::domain::{
        CorrectionKind, DeviceId, PassingId, PassingSource, RawReadId, SessionId, SessionState,
        SyncState,
    };
    use timing_core::manual::Warning;

    let cfg = ts_rs::Config::new().with_large_int("number");
    let decls = [
        SessionId::decl(&cfg),
        PassingId::decl(&cfg),
        RawReadId::decl(&cfg),
        DeviceId::decl(&cfg),
        SessionState::decl(&cfg),
        PassingSource::decl(&cfg),
        SyncState::decl(&cfg),
        CorrectionKind::decl(&cfg),
        Device::decl(&cfg),
        Session::decl(&cfg),
        timing_core::domain::Passing::decl(&cfg),
        Correction::decl(&cfg),
        FeedEntry::decl(&cfg),
        SyncStatus::decl(&cfg),
        OutboxCounts::decl(&cfg),
        Warning::decl(&cfg),
        Entry::decl(&cfg),
        Corrected::decl(&cfg),
        ImportReport::decl(&cfg),
        IpcError::decl(&cfg),
        Settings::decl(&cfg),
        TimeDisplay::decl(&cfg),
        Theme::decl(&cfg),
        SoundSettings::decl(&cfg),
        KeyStorage::decl(&cfg),
        ReaderView::decl(&cfg),
        ReaderSettingView::decl(&cfg),
        LastRead::decl(&cfg),
        ZoneList::decl(&cfg),
        FrameView::decl(&cfg),
        PortView::decl(&cfg),
        ProtocolView::decl(&cfg),
        ProtocolOptionView::decl(&cfg),
        CloudDevice::decl(&cfg),
        CloudSession::decl(&cfg),
        SessionDetails::decl(&cfg),
        ReconcileReport::decl(&cfg),
        AppState::decl(&cfg),
        FeedBatch::decl(&cfg),
        ClockStatus::decl(&cfg),
        CaptureStatus::decl(&cfg),
        PressedAt::decl(&cfg),
        ManualResult::decl(&cfg),
        BindInput::decl(&cfg),
        ChangeInput::decl(&cfg),
        UpdateStatus::decl(&cfg),
        ExportWhat::decl(&cfg),
        RunnerStatus::decl(&cfg),
        RunnerPreview::decl(&cfg),
        RaceCounts::decl(&cfg),
        StartInput::decl(&cfg),
        WaveView::decl(&cfg),
        StartView::decl(&cfg),
        RaceView::decl(&cfg),
        RunnerView::decl(&cfg),
    ];
    let mut out = String::from(
        "// Generated from the Rust types by `cargo test -p timing-ipc` (UPDATE_BINDINGS=1).\n\
         // Do not edit by hand: change the Rust type and regenerate.\n\n",
    );
    for decl in decls {
        out.push_str("export ");
        out.push_str(&decl);
        out.push_str("\n\n");
    }
    out.push_str(
        "/** Every reader protocol (the registry's list, as `reader_protocols` answers). */\n\
         export const READER_PROTOCOLS: ProtocolView[] = [\n",
    );
    for p in reader_protocols() {
        out.push_str(&format!("  {},\n", serde_json::to_value(&p).unwrap_or_default()));
    }
    out.push_str("];\n\n");
    out.push_str(&commands::typescript(&cfg, &IpcError::codes()));
    out.push_str(&format!(
        "\n/** The least time between two live feed batches (ms): one display frame. */\nexport const FEED_GAP_MS = {FEED_GAP_MS};\n"
    ));
    out.push_str("\nexport const EVENTS = {\n");
    for (name, value) in [
        ("sync", events::SYNC),
        ("readers", events::READERS),
        ("session", events::SESSION),
        ("clock", events::CLOCK),
        ("capture", events::CAPTURE),
        ("update", events::UPDATE),
    ] {
        out.push_str(&format!("  {name}: {value:?},\n"));
    }
    out.push_str("} as const;\n\n");
    out.push_str(&format!(
        "/** The payload of each event. */\nexport type EventPayloads = {{\n  {:?}: SyncStatus;\n  {:?}: ReaderView[];\n  {:?}: Session | null;\n  {:?}: ClockStatus;\n  {:?}: CaptureStatus;\n  {:?}: UpdateStatus;\n}};\n",
        events::SYNC,
        events::READERS,
        events::SESSION,
        events::CLOCK,
        events::CAPTURE,
        events::UPDATE
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_typescript_bindings_are_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../ui/src/ipc/bindings.gen.ts");
        let fresh = typescript();
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            std::fs::write(&path, &fresh).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == fresh,
            "ui/src/ipc/bindings.gen.ts is stale: run `UPDATE_BINDINGS=1 cargo test -p timing-ipc`"
        );
    }

    #[test]
    fn a_key_press_time_is_milliseconds_or_rfc3339() {
        let ms: PressedAt =
            serde_json::from_value(serde_json::json!(1_700_000_000_250_i64)).unwrap();
        let text: PressedAt =
            serde_json::from_value(serde_json::json!("2023-11-14T22:13:20.250Z")).unwrap();
        assert_eq!(ms.to_utc().unwrap(), text.to_utc().unwrap());
        assert!(PressedAt::Text("soon".into()).to_utc().is_err());
    }

    #[test]
    fn a_manual_result_is_an_entry_with_a_time_warning() {
        let r = ManualResult { entry: Default::default(), time_warning: Some("late".into()) };
        let json = serde_json::to_value(r).unwrap();
        assert_eq!(json["time_warning"], "late");
        assert!(json["passings"].is_array(), "the entry's fields are at the top level: {json}");
    }

    #[test]
    fn errors_cross_as_code_and_message() {
        let e = timing_core::CoreError::NoOpenSession;
        let json = serde_json::to_value(IpcError::from(&e)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"code": "no_open_session", "message": "no session is open: open a session first"})
        );
    }
}
