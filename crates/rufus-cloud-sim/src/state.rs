//! The simulated RUFUS account: API keys, devices, sessions and passings, and the rules that
//! change them (one active session per device, unbind deletes everything, de-duplication).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::clock;
use crate::config::Access;
use crate::ids;
use crate::snapshot::{DeviceState, SessionState, Snapshot, StoredPassing};

/// An API key of the account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ApiKey {
    pub(crate) key: String,
    pub(crate) access: Access,
    /// Allows DELETE (unbind) on a WRITE or READ_WRITE key.
    pub(crate) unbind: bool,
}

/// A bound device and when it was last heard from.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Device {
    pub(crate) state: DeviceState,
    pub(crate) last_seen: Option<String>,
}

/// A session, with what the public state does not show.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Session {
    pub(crate) state: SessionState,
    pub(crate) closed_at: Option<String>,
    /// Stored num_passing values, for de-duplication (rebuilt after loading a state file).
    #[serde(skip)]
    seen: HashSet<u64>,
}

/// What a bind request carries (already validated).
#[derive(Debug)]
pub(crate) struct NewDevice {
    pub(crate) model: String,
    pub(crate) serial_number: String,
    pub(crate) device_type: Option<String>,
    pub(crate) alias: Option<String>,
    pub(crate) firmware: Option<String>,
}

/// Outcome of a passings insert into an active session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Inserted {
    pub(crate) inserted: u64,
    pub(crate) duplicates: u64,
}

/// Whether closing found the session and whether it was still active.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Closed {
    Now,
    Already,
}

/// The whole account. Saved to the state file as JSON.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct World {
    /// The READ_WRITE + unbind key printed at start.
    pub(crate) admin_key: String,
    keys: Vec<ApiKey>,
    devices: Vec<Device>,
    /// In creation order: "newer" means later in this list.
    sessions: Vec<Session>,
}

impl World {
    /// An empty account whose only key is `admin_key`.
    pub(crate) fn new(admin_key: String) -> World {
        let mut world = World {
            admin_key: String::new(),
            keys: Vec::new(),
            devices: Vec::new(),
            sessions: Vec::new(),
        };
        world.set_admin_key(admin_key);
        world
    }

    /// Reads a saved state file.
    pub(crate) fn from_json(bytes: &[u8]) -> Result<World, serde_json::Error> {
        let mut world: World = serde_json::from_slice(bytes)?;
        for session in &mut world.sessions {
            session.seen = session.state.passings.iter().map(|p| p.num_passing).collect();
        }
        let admin = world.admin_key.clone();
        world.set_admin_key(admin);
        Ok(world)
    }

    /// Makes `key` the admin key (READ_WRITE + unbind); other keys stay valid.
    pub(crate) fn set_admin_key(&mut self, key: String) {
        self.keys.retain(|k| k.key != key);
        self.keys.push(ApiKey { key: key.clone(), access: Access::ReadWrite, unbind: true });
        self.admin_key = key;
    }

    pub(crate) fn key(&self, key: &str) -> Option<&ApiKey> {
        self.keys.iter().find(|k| k.key == key)
    }

    pub(crate) fn add_key(&mut self, access: Access, unbind: bool) -> String {
        let key = ids::new_key();
        self.keys.push(ApiKey { key: key.clone(), access, unbind });
        key
    }

    pub(crate) fn snapshot(&self) -> Snapshot {
        Snapshot {
            devices: self.devices.iter().map(|d| d.state.clone()).collect(),
            sessions: self.sessions.iter().map(|s| s.state.clone()).collect(),
        }
    }

    // ----- devices -----

    /// Binds a device; a serial number already bound answers the existing device id as `Err`.
    pub(crate) fn bind(&mut self, new: NewDevice, now: &str) -> Result<String, String> {
        if let Some(existing) =
            self.devices.iter().find(|d| d.state.serial_number == new.serial_number)
        {
            return Err(existing.state.deviceid.clone());
        }
        let deviceid = ids::new_token();
        self.devices.push(Device {
            state: DeviceState {
                deviceid: deviceid.clone(),
                serial_number: new.serial_number,
                model: new.model,
                device_type: new.device_type,
                alias: new.alias,
                firmware: new.firmware,
                creation_date: now.to_owned(),
            },
            last_seen: Some(now.to_owned()),
        });
        Ok(deviceid)
    }

    /// Unbinds a device and deletes its sessions and passings. `false` if unknown.
    pub(crate) fn unbind(&mut self, deviceid: &str) -> bool {
        let before = self.devices.len();
        self.devices.retain(|d| d.state.deviceid != deviceid);
        if self.devices.len() == before {
            return false;
        }
        self.sessions.retain(|s| s.state.deviceid != deviceid);
        true
    }

    pub(crate) fn devices(&self) -> &[Device] {
        &self.devices
    }

    pub(crate) fn device(&self, deviceid: &str) -> Option<&Device> {
        self.devices.iter().find(|d| d.state.deviceid == deviceid)
    }

    fn touch(&mut self, deviceid: &str, now: &str) {
        if let Some(device) = self.devices.iter_mut().find(|d| d.state.deviceid == deviceid) {
            device.last_seen = Some(now.to_owned());
        }
    }

    // ----- sessions -----

    /// The device's sessions, oldest first.
    pub(crate) fn sessions_of<'a>(
        &'a self,
        deviceid: &'a str,
    ) -> impl Iterator<Item = &'a Session> {
        self.sessions.iter().filter(move |s| s.state.deviceid == deviceid)
    }

    pub(crate) fn session(&self, token: &str) -> Option<&Session> {
        self.sessions.iter().find(|s| s.state.token_session == token)
    }

    /// Opens a session for the device, closing its other active session. `None` if the device
    /// is unknown.
    pub(crate) fn open_session(
        &mut self,
        deviceid: &str,
        alias: Option<String>,
        now: &str,
    ) -> Option<String> {
        self.device(deviceid)?;
        for session in self.sessions.iter_mut().filter(|s| s.state.deviceid == deviceid) {
            if session.state.active {
                session.state.active = false;
                session.closed_at = Some(now.to_owned());
            }
        }
        let token = ids::new_token();
        self.sessions.push(Session {
            state: SessionState {
                token_session: token.clone(),
                deviceid: deviceid.to_owned(),
                alias,
                active: true,
                creation_date: now.to_owned(),
                passings: Vec::new(),
                received: Vec::new(),
                duplicates_received: 0,
            },
            closed_at: None,
            seen: HashSet::new(),
        });
        self.touch(deviceid, now);
        Some(token)
    }

    /// Closes a session (by its device or "from elsewhere"). `None` if unknown.
    pub(crate) fn close_session(&mut self, token: &str, now: &str) -> Option<Closed> {
        let session = self.sessions.iter_mut().find(|s| s.state.token_session == token)?;
        if !session.state.active {
            return Some(Closed::Already);
        }
        session.state.active = false;
        session.closed_at = Some(now.to_owned());
        Some(Closed::Now)
    }

    /// Closes the device's active session, if it has one.
    pub(crate) fn close_active_session_of(&mut self, deviceid: &str, now: &str) -> Option<String> {
        let token =
            self.sessions_of(deviceid).find(|s| s.state.active)?.state.token_session.clone();
        self.close_session(&token, now);
        Some(token)
    }

    // ----- passings -----

    /// Stores passings into an active session. `None`: session unknown or closed.
    /// With `dedup`, a num_passing already stored in the session (or earlier in the same batch)
    /// is counted as a duplicate and not stored.
    pub(crate) fn insert_passings(
        &mut self,
        token: &str,
        passings: Vec<StoredPassing>,
        dedup: bool,
        now: &str,
    ) -> Option<Inserted> {
        let session =
            self.sessions.iter_mut().find(|s| s.state.token_session == token && s.state.active)?;
        let mut outcome = Inserted { inserted: 0, duplicates: 0 };
        for passing in passings {
            session.state.received.push(passing.num_passing);
            let fresh = session.seen.insert(passing.num_passing);
            if dedup && !fresh {
                outcome.duplicates += 1;
                session.state.duplicates_received += 1;
                continue;
            }
            outcome.inserted += 1;
            session.state.passings.push(passing);
        }
        let deviceid = session.state.deviceid.clone();
        self.touch(&deviceid, now);
        Some(outcome)
    }
}

impl Session {
    /// Earliest and latest passing timestamps (the `first` and `last` of session info).
    pub(crate) fn first_and_last(&self) -> (Option<&str>, Option<&str>) {
        let stamps = self.state.passings.iter().map(|p| p.timestamp.as_str());
        (stamps.clone().min(), stamps.max())
    }

    /// From creation to closing (or to `now` while active), written as a timestamp.
    pub(crate) fn duration(&self, now: DateTime<Utc>) -> Option<String> {
        let start = clock::parse_exact(&self.state.creation_date)?;
        let end = match &self.closed_at {
            Some(closed) => clock::parse_exact(closed)?,
            None => now,
        };
        Some(clock::duration_text(end - start))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: &str = "2024-05-01T10:00:00.000Z";

    fn device(world: &mut World, serial: &str) -> String {
        let new = NewDevice {
            model: "console".into(),
            serial_number: serial.into(),
            device_type: None,
            alias: None,
            firmware: None,
        };
        world.bind(new, NOW).unwrap()
    }

    fn passing(num: u64) -> StoredPassing {
        StoredPassing {
            num_passing: num,
            bib: num.to_string(),
            chip: None,
            timestamp: NOW.into(),
            status: None,
            raw: serde_json::Value::Null,
        }
    }

    #[test]
    fn one_active_session_per_device() {
        let mut world = World::new("ror-admin".into());
        let id = device(&mut world, "S1");
        let first = world.open_session(&id, None, NOW).unwrap();
        let second = world.open_session(&id, None, NOW).unwrap();
        assert!(!world.session(&first).unwrap().state.active);
        assert!(world.session(&second).unwrap().state.active);
        assert_eq!(world.close_session(&second, NOW), Some(Closed::Now));
        assert_eq!(world.close_session(&second, NOW), Some(Closed::Already));
    }

    #[test]
    fn duplicate_serial_answers_the_existing_device() {
        let mut world = World::new("ror-admin".into());
        let id = device(&mut world, "S1");
        let again = NewDevice {
            model: "x".into(),
            serial_number: "S1".into(),
            device_type: None,
            alias: None,
            firmware: None,
        };
        assert_eq!(world.bind(again, NOW), Err(id));
    }

    #[test]
    fn dedup_counts_and_drops() {
        let mut world = World::new("ror-admin".into());
        let id = device(&mut world, "S1");
        let token = world.open_session(&id, None, NOW).unwrap();
        let batch = vec![passing(1), passing(2), passing(2)];
        let outcome = world.insert_passings(&token, batch, true, NOW).unwrap();
        assert_eq!(outcome, Inserted { inserted: 2, duplicates: 1 });
        let outcome = world.insert_passings(&token, vec![passing(1)], false, NOW).unwrap();
        assert_eq!(outcome, Inserted { inserted: 1, duplicates: 0 });
        let session = &world.session(&token).unwrap().state;
        assert_eq!(session.received, vec![1, 2, 2, 1]);
        assert_eq!(session.num_passings(), vec![1, 2, 1]);
        assert_eq!(session.duplicates_received, 1);
    }

    #[test]
    fn unbind_deletes_sessions() {
        let mut world = World::new("ror-admin".into());
        let id = device(&mut world, "S1");
        let token = world.open_session(&id, None, NOW).unwrap();
        assert!(world.unbind(&id));
        assert!(world.session(&token).is_none());
        assert!(!world.unbind(&id));
    }

    #[test]
    fn saved_state_reloads_with_dedup_memory() {
        let mut world = World::new("ror-admin".into());
        let id = device(&mut world, "S1");
        let token = world.open_session(&id, None, NOW).unwrap();
        world.insert_passings(&token, vec![passing(7)], true, NOW).unwrap();
        let bytes = serde_json::to_vec(&world).unwrap();
        let mut again = World::from_json(&bytes).unwrap();
        assert_eq!(again.admin_key, "ror-admin");
        let outcome = again.insert_passings(&token, vec![passing(7)], true, NOW).unwrap();
        assert_eq!(outcome, Inserted { inserted: 0, duplicates: 1 });
    }
}
