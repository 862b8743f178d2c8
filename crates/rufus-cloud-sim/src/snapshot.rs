//! What tests see of the simulator's state: plain copies of devices, sessions and passings.

use serde::{Deserialize, Serialize};

/// A copy of the whole state at one moment (see [`crate::Sim::snapshot`]).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Snapshot {
    /// Bound devices, in bind order.
    pub devices: Vec<DeviceState>,
    /// Sessions of all devices, in creation order.
    pub sessions: Vec<SessionState>,
}

/// A bound device.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceState {
    /// 64 uppercase hex chars.
    pub deviceid: String,
    /// Unique among bound devices.
    pub serial_number: String,
    /// As sent at bind.
    pub model: String,
    /// The bind request's `type`.
    pub device_type: Option<String>,
    /// As sent at bind.
    pub alias: Option<String>,
    /// As sent at bind.
    pub firmware: Option<String>,
    /// `YYYY-MM-DDTHH:mm:ss.sssZ`.
    pub creation_date: String,
}

/// A timing session and everything it received.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionState {
    /// 64 uppercase hex chars.
    pub token_session: String,
    /// The device the session belongs to.
    pub deviceid: String,
    /// As sent at creation.
    pub alias: Option<String>,
    /// `false` once closed (by the client, by a newer session, or "from elsewhere").
    pub active: bool,
    /// `YYYY-MM-DDTHH:mm:ss.sssZ`.
    pub creation_date: String,
    /// Stored passings in arrival order (with dedup off, duplicates are stored too).
    pub passings: Vec<StoredPassing>,
    /// Every num_passing received, in arrival order, duplicates included.
    pub received: Vec<u64>,
    /// How many received passings were dropped as duplicates.
    pub duplicates_received: u64,
}

/// One stored passing.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredPassing {
    /// Order number inside the session.
    pub num_passing: u64,
    /// Bib number as text.
    pub bib: String,
    /// Chip code, when sent.
    pub chip: Option<String>,
    /// `YYYY-MM-DDTHH:mm:ss.sssZ`.
    pub timestamp: String,
    /// Free text, when sent.
    pub status: Option<String>,
    /// The passing object exactly as received.
    pub raw: serde_json::Value,
}

/// A stored passing together with the session and device it belongs to (see
/// [`Snapshot::all_passings`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionPassing {
    /// The session that holds the passing.
    pub token_session: String,
    /// The session's device.
    pub deviceid: String,
    /// Whether that session is still active.
    pub active: bool,
    /// The passing (its fields appear beside the three above in JSON).
    #[serde(flatten)]
    pub passing: StoredPassing,
}

impl SessionState {
    /// Stored num_passing values, in arrival order.
    pub fn num_passings(&self) -> Vec<u64> {
        self.passings.iter().map(|p| p.num_passing).collect()
    }
}

impl Snapshot {
    /// The session with this token, if any.
    pub fn session(&self, token: &str) -> Option<&SessionState> {
        self.sessions.iter().find(|s| s.token_session == token)
    }

    /// The device with this id, if any.
    pub fn device(&self, id: &str) -> Option<&DeviceState> {
        self.devices.iter().find(|d| d.deviceid == id)
    }

    /// Every stored passing of every session (open or closed), each with its `token_session`:
    /// sessions in creation order, passings in arrival order.
    pub fn all_passings(&self) -> Vec<SessionPassing> {
        self.sessions
            .iter()
            .flat_map(|s| {
                s.passings.iter().map(move |p| SessionPassing {
                    token_session: s.token_session.clone(),
                    deviceid: s.deviceid.clone(),
                    active: s.active,
                    passing: p.clone(),
                })
            })
            .collect()
    }
}
