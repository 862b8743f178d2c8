//! The engine's vocabulary: ids, devices, sessions, raw reads, passings and corrections, as
//! plain data shared by the store, the pipeline, the sync engine and every front end.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::CoreError;

macro_rules! int_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

int_id!(
    /// Local id of a session (the cloud's id is its `token_session`).
    SessionId
);
int_id!(
    /// Local id of a passing row (the cloud sees its `num_passing`).
    PassingId
);
int_id!(
    /// Local id of a raw read.
    RawReadId
);

/// A RUFUS device id (64 hex characters in the cloud).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DeviceId(pub String);

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl $name {
            /// The text stored in the database and shown to people.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = CoreError;
            fn from_str(s: &str) -> Result<Self, CoreError> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(CoreError::Invalid(format!(
                        concat!("unknown ", stringify!($name), " `{}`"), other))),
                }
            }
        }
    };
}

text_enum!(
    /// Where a session is in its life: `opening → active → closing → closed` (+ `closed_remotely`).
    SessionState {
        /// Created locally; the cloud has not given it a token yet (capture already works).
        Opening => "opening",
        /// Known to the cloud and accepting passings.
        Active => "active",
        /// Draining its outbox before the cloud is told to close it.
        Closing => "closing",
        /// Closed in the cloud after every passing was sent.
        Closed => "closed",
        /// The cloud closed it from elsewhere (e.g. another session was opened for the device).
        ClosedRemotely => "closed_remotely",
    }
);

impl SessionState {
    /// Whether reads and manual entries can still be recorded into the session.
    pub fn accepts_passings(self) -> bool {
        matches!(self, SessionState::Opening | SessionState::Active)
    }

    /// Whether the session is still open locally (not closed either way).
    pub fn is_open(self) -> bool {
        matches!(self, SessionState::Opening | SessionState::Active | SessionState::Closing)
    }
}

text_enum!(
    /// What produced a passing.
    PassingSource {
        /// A timing reader (chip read).
        Reader => "reader",
        /// A person typed it (or stamped a time).
        Manual => "manual",
        /// A file import.
        Import => "import",
    }
);

text_enum!(
    /// A passing's place in the outbox.
    SyncState {
        /// Waiting to be sent (the outbox).
        Pending => "pending",
        /// The cloud holds it.
        Sent => "sent",
        /// The cloud rejected it (400); kept with the server's message, not retried.
        Parked => "parked",
        /// Re-homed to another session (its session was closed from elsewhere); not sent from here.
        Moved => "moved",
    }
);

text_enum!(
    /// What a correction does.
    CorrectionKind {
        /// Change the bib.
        SetBib => "set_bib",
        /// Change the time.
        SetTime => "set_time",
        /// Void the passing (it stays, marked void).
        Void => "void",
        /// Undo a void.
        Restore => "restore",
        /// The passing moved to another session.
        Move => "move",
    }
);

/// A device bound to the RUFUS account (the console itself or one of its readers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Device {
    /// RUFUS device id.
    pub deviceid: DeviceId,
    /// Serial number the device was bound with.
    pub serial_number: String,
    /// Model.
    pub model: String,
    /// RUFUS device type.
    pub device_type: Option<String>,
    /// A name people recognise.
    pub alias: Option<String>,
    /// Firmware version.
    pub firmware: Option<String>,
    /// The API base URL it was bound against.
    pub api_base_url: String,
    /// When it was bound (UTC).
    pub bound_at: DateTime<Utc>,
}

/// A timing session, as stored locally.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Session {
    /// Local id.
    pub id: SessionId,
    /// The device it belongs to.
    pub deviceid: DeviceId,
    /// The cloud's token, once the cloud created it.
    pub token_session: Option<String>,
    /// A name people recognise.
    pub alias: Option<String>,
    /// Its state.
    pub state: SessionState,
    /// When it was opened (UTC).
    pub opened_at: DateTime<Utc>,
    /// When it was closed (UTC).
    pub closed_at: Option<DateTime<Utc>>,
    /// The `num_passing` the next passing will get.
    pub next_num_passing: i64,
    /// Why it is in its state, when that needs saying.
    pub note: Option<String>,
}

/// One frame a reader (or an input) produced, before de-duplication. Never thrown away.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawRead {
    /// Which reader or input produced it (e.g. `sim`, `serial:/dev/ttyUSB0`).
    pub source: String,
    /// Its protocol (`lines`, `ipico`, …).
    pub protocol: String,
    /// Chip code as the reader reported it.
    pub chip: String,
    /// A bib, when the device reports one.
    pub bib: Option<String>,
    /// Antenna number.
    pub antenna: Option<i64>,
    /// Signal strength (dBm).
    pub rssi: Option<i64>,
    /// The reader's own timestamp, UTC, when it has a clock.
    pub reader_time: Option<DateTime<Utc>>,
    /// When the console received it, UTC.
    pub host_time: DateTime<Utc>,
    /// Reader clock minus host clock, measured at connect.
    pub clock_offset_ms: Option<i64>,
    /// The exact bytes of the frame.
    pub raw: Vec<u8>,
    /// The reader's own key for this read (stable across rewinds and restarts), if it has one.
    #[serde(default)]
    pub replay_key: Option<String>,
    /// The reader's supervisor recognised it as a read it already delivered (a rewind, a doubled
    /// frame): stored, flagged duplicate, never a second passing.
    #[serde(default)]
    pub repeated: bool,
    /// Every earlier read of its reader had been delivered when this one was (no rewind or
    /// replay still catching up): a restart resumes after the last such read.
    #[serde(default = "in_order_default")]
    pub in_order: bool,
    /// The decoder's markers: a gun/start impulse, a read replayed from the reader's memory,
    /// first/last sighting of an aggregated passage.
    #[serde(default)]
    pub marks: ReadMarks,
    /// Signal strength in the vendor's own scale (larger = stronger), where it has no dBm.
    #[serde(default)]
    pub rssi_raw: Option<i64>,
}

fn in_order_default() -> bool {
    true
}

/// The markers a decoder puts on a read ([`timing_readers::ReadFlags`]), as stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadMarks {
    /// A start signal (gun, start impulse) rather than a runner.
    pub gun: bool,
    /// Re-sent from the reader's memory (a rewind or replay).
    pub from_memory: bool,
    /// First sighting of an aggregated passage (IPICO `FS`).
    pub first_seen: bool,
    /// Last sighting of an aggregated passage (IPICO `LS`).
    pub last_seen: bool,
}

impl ReadMarks {
    const NAMES: [&'static str; 4] = ["gun", "from_memory", "first_seen", "last_seen"];

    fn bits(self) -> [bool; 4] {
        [self.gun, self.from_memory, self.first_seen, self.last_seen]
    }

    /// The `flags` column: the set markers' names, comma-separated; `None` when none is set.
    pub fn to_column(self) -> Option<String> {
        let names: Vec<&str> = Self::NAMES
            .into_iter()
            .zip(self.bits())
            .filter_map(|(name, set)| set.then_some(name))
            .collect();
        (!names.is_empty()).then(|| names.join(","))
    }

    /// Reads the `flags` column back (unknown names are ignored).
    pub fn from_column(text: Option<&str>) -> Self {
        let has = |name: &str| text.is_some_and(|t| t.split(',').any(|n| n.trim() == name));
        ReadMarks {
            gun: has("gun"),
            from_memory: has("from_memory"),
            first_seen: has("first_seen"),
            last_seen: has("last_seen"),
        }
    }
}

impl RawRead {
    /// The stored row for a read as a reader's supervisor delivered it: built once, at commit,
    /// keeping what the decoder knew (markers, either RSSI scale, antenna, reader time, replay
    /// key, the exact bytes).
    pub fn from_stamped(s: timing_readers::StampedRead) -> Self {
        let flags = s.read.flags;
        let (rssi, rssi_raw) = match s.read.rssi {
            Some(timing_readers::Rssi::Dbm(dbm)) => (Some(i64::from(dbm)), None),
            Some(timing_readers::Rssi::Raw(raw)) => (None, Some(i64::from(raw))),
            None => (None, None),
        };
        RawRead {
            source: s.source,
            protocol: s.protocol.to_string(),
            chip: s.read.chip,
            bib: s.read.bib,
            antenna: s.read.antenna.map(i64::from),
            rssi,
            reader_time: s.reader_time_utc,
            host_time: s.host_time,
            clock_offset_ms: s.clock_offset_ms,
            raw: s.read.raw,
            replay_key: s.replay_key,
            repeated: s.repeated,
            in_order: s.in_order,
            marks: ReadMarks {
                gun: flags.gun,
                from_memory: flags.from_memory,
                first_seen: flags.first_seen,
                last_seen: flags.last_seen,
            },
            rssi_raw,
        }
    }

    /// The time of the crossing: the reader's clock where it has one, else arrival at the host.
    pub fn crossing_time(&self) -> DateTime<Utc> {
        self.reader_time.unwrap_or(self.host_time)
    }
}

/// A passing as stored: the record the cloud receives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Passing {
    /// Local id.
    pub id: PassingId,
    /// Its session.
    pub session_id: SessionId,
    /// Order number inside the session (1, 2, 3…), fixed at commit, identical on every retry.
    pub num_passing: i64,
    /// Bib (None: a stamped time waiting for its bib).
    pub bib: Option<String>,
    /// Chip code.
    pub chip: Option<String>,
    /// Time of the crossing, UTC.
    pub timestamp: DateTime<Utc>,
    /// What produced it.
    pub source: PassingSource,
    /// RUFUS `status` (corrections carry "correction of #N" / "void #N").
    pub status: Option<String>,
    /// The raw read it came from.
    pub raw_read_id: Option<RawReadId>,
    /// The passing this one carries a correction for.
    pub corrects_id: Option<PassingId>,
    /// The passing this one was re-homed from.
    pub moved_from_id: Option<PassingId>,
    /// Place in the outbox.
    pub sync_state: SyncState,
    /// The cloud's last error for it.
    pub sync_error: Option<String>,
    /// How many times a send was attempted.
    pub sync_attempts: i64,
    /// When the cloud acknowledged it.
    pub sent_at: Option<DateTime<Utc>>,
    /// When it was committed locally.
    pub created_at: DateTime<Utc>,
}

/// A change to a reader's time settings (append-only audit, `reader_changes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReaderChange {
    /// Local id.
    pub id: i64,
    /// The reader's name.
    pub reader: String,
    /// `zone` or `adjust_ms`.
    pub setting: String,
    /// Value before (`None` for a zone: the computer's).
    pub old_value: Option<String>,
    /// Value after.
    pub new_value: Option<String>,
    /// Who made it.
    pub operator: String,
    /// Which station.
    pub station: Option<String>,
    /// When (UTC).
    pub at: DateTime<Utc>,
}

/// A correction record (append-only audit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Correction {
    /// Local id.
    pub id: i64,
    /// The passing it corrects.
    pub passing_id: PassingId,
    /// What it does.
    pub kind: CorrectionKind,
    /// Value before.
    pub old_value: Option<String>,
    /// Value after.
    pub new_value: Option<String>,
    /// Who made it.
    pub operator: String,
    /// Which station.
    pub station: Option<String>,
    /// Why.
    pub reason: Option<String>,
    /// When (UTC).
    pub at: DateTime<Utc>,
    /// The passing that carries it to the cloud (for a passing already sent).
    pub carrier_id: Option<PassingId>,
}

/// A passing as people see it: the stored passing with its corrections applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FeedEntry {
    /// Local id of the original passing.
    pub id: PassingId,
    /// Its session.
    pub session_id: SessionId,
    /// Its `num_passing`.
    pub num_passing: i64,
    /// Effective bib.
    pub bib: Option<String>,
    /// Chip code.
    pub chip: Option<String>,
    /// Participant name from the chip map, if known.
    pub name: Option<String>,
    /// The participant's category (`F40`), if the list gives one.
    pub category: Option<String>,
    /// The participant's wave, if the runner is in the list (`""`: the list has no waves).
    pub wave: Option<String>,
    /// Milliseconds since the runner's wave start (or the race's only start), once it started.
    pub race_time_ms: Option<i64>,
    /// Effective time.
    pub timestamp: DateTime<Utc>,
    /// What produced it.
    pub source: PassingSource,
    /// Voided by a correction.
    pub void: bool,
    /// Changed by at least one correction.
    pub corrected: bool,
    /// A chip read whose chip is not in the participant list (when one is loaded).
    pub unknown_chip: bool,
    /// Sync state of the original record.
    pub sync_state: SyncState,
    /// Cloud error, when parked.
    pub sync_error: Option<String>,
}
