//! Wire types: what the client sends (strict: only documented fields, absent optionals omitted)
//! and what it reads back (lenient: unknown fields ignored, both documentation generations'
//! fields accepted, missing optional ones defaulted, numbers-or-strings where the docs disagree).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{DeviceId, SessionToken};
use crate::lenient;
use crate::time::{Timestamp, serialize_timestamp};

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

/// D1 `POST /devices`: what to bind. `type` is always sent (an older page revision requires it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewDevice {
    /// Device model (required).
    pub model: String,
    /// Serial number (required); the console binds each serial number once.
    pub serial_number: String,
    /// Device type, sent as `type`.
    #[serde(rename = "type")]
    pub device_type: String,
    /// Human-friendly name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// Firmware or software version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub firmware: Option<String>,
}

/// S1 `POST /sessions` body.
#[derive(Debug, Serialize)]
pub(crate) struct NewSession<'a> {
    pub deviceid: &'a DeviceId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias: Option<&'a str>,
}

/// One passing in P1's `passings_list`: only the documented fields, absent optionals omitted
/// (the newer spec rejects unknown fields; nulls are never sent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Passing {
    /// Bib number as text (when only a chip is known, the chip code; `chip` is sent as well).
    pub bib: String,
    /// Order number inside the session: 1, 2, 3…, identical on every retry.
    pub num_passing: u64,
    /// UTC instant, sent as `YYYY-MM-DDTHH:mm:ss.sssZ` (sub-millisecond precision truncated).
    #[serde(serialize_with = "serialize_timestamp")]
    pub timestamp: DateTime<Utc>,
    /// Chip code, sent as `chip` (never the 2023 table's `chips`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chip: Option<String>,
    /// Latitude, sent as a string (as in the seed page), e.g. `"12.000"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latitude: Option<String>,
    /// Longitude, sent as a string, e.g. `"13.000"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub longitude: Option<String>,
    /// Free-text status (the console marks corrections here, e.g. `"correction of #12"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Alternative participant id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participant_id: Option<String>,
    /// Time zone name, e.g. `"UTC"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Alternative gender field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
}

impl Passing {
    /// A passing with only the required fields.
    pub fn new(bib: impl Into<String>, num_passing: u64, timestamp: DateTime<Utc>) -> Self {
        Self {
            bib: bib.into(),
            num_passing,
            timestamp,
            chip: None,
            latitude: None,
            longitude: None,
            status: None,
            participant_id: None,
            timezone: None,
            gender: None,
        }
    }

    /// Sets the chip code.
    #[must_use]
    pub fn with_chip(mut self, chip: impl Into<String>) -> Self {
        self.chip = Some(chip.into());
        self
    }

    /// Sets the status text.
    #[must_use]
    pub fn with_status(mut self, status: impl Into<String>) -> Self {
        self.status = Some(status.into());
        self
    }
}

/// P1 `POST /passings` body.
#[derive(Debug, Serialize)]
pub(crate) struct InsertPassings<'a> {
    pub token_session: &'a SessionToken,
    pub passings_list: &'a [Passing],
}

/// P4 query: every field optional; absent ones are not sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollQuery {
    /// Lower time bound.
    pub from: Option<DateTime<Utc>>,
    /// Upper time bound.
    pub to: Option<DateTime<Utc>>,
    /// Session to start from (the server moves on to newer sessions of the device by itself).
    pub token_session: Option<SessionToken>,
    /// Last `num_passing` already processed.
    pub last: Option<u64>,
    /// Page (1-based).
    pub page: Option<u32>,
}

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

/// A device as D3 (summary) or D4 (information) describes it. Fields of both documentation
/// generations are here; whichever the server leaves out is `None`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Device {
    /// The device's id.
    pub deviceid: DeviceId,
    /// `type`.
    #[serde(rename = "type", default, deserialize_with = "lenient::opt_string")]
    pub device_type: Option<String>,
    /// Model.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub model: Option<String>,
    /// Alias.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub alias: Option<String>,
    /// Firmware.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub firmware: Option<String>,
    /// Serial number.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub serial_number: Option<String>,
    /// When it was bound.
    #[serde(default, deserialize_with = "lenient::opt_timestamp")]
    pub creation_date: Option<Timestamp>,
    /// Number of sessions.
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub sessions: Option<u64>,
    /// Number of passings (2023 pages).
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub passings: Option<u64>,
    /// Last activity (2023 pages).
    #[serde(default, deserialize_with = "lenient::opt_timestamp")]
    pub last_seen: Option<Timestamp>,
    /// Last activity (newer spec).
    #[serde(default, deserialize_with = "lenient::opt_timestamp")]
    pub last_login: Option<Timestamp>,
    /// Device status (newer spec).
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub device_status: Option<String>,
    /// Battery percentage (newer spec).
    #[serde(default, deserialize_with = "lenient::opt_f64")]
    pub battery_percentage: Option<f64>,
    /// Charging (newer spec).
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub charging: Option<bool>,
    /// Last telemetry (newer spec).
    #[serde(default, deserialize_with = "lenient::opt_timestamp")]
    pub last_telemetry_at: Option<Timestamp>,
}

/// The `pagination` object of D3 and events.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pagination {
    /// Page number (1-based).
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub page: Option<u64>,
    /// Page size.
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub limit: Option<u64>,
    /// Total number of items.
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub total: Option<u64>,
    /// Whether another page follows.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub has_more: Option<bool>,
}

impl Pagination {
    /// Whether a page after this one should be fetched, given how many items this page held,
    /// how many were collected so far and the page size asked for.
    pub(crate) fn more_after(
        pagination: Option<&Self>,
        got: usize,
        seen: usize,
        limit: u64,
    ) -> bool {
        if got == 0 {
            return false;
        }
        if let Some(p) = pagination {
            if let Some(more) = p.has_more {
                return more;
            }
            if let Some(total) = p.total {
                return (seen as u64) < total;
            }
        }
        got as u64 >= limit
    }
}

/// One page of D3.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DevicePage {
    /// The devices on this page.
    pub devices: Vec<Device>,
    /// Pagination, when the server sent it.
    pub pagination: Option<Pagination>,
}

/// A session as S3 (summary), S4 and S5 (information) describe it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The session's token.
    pub token_session: SessionToken,
    /// The device, when the server says (not documented for these endpoints).
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub deviceid: Option<DeviceId>,
    /// Alias.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub alias: Option<String>,
    /// When it was created.
    #[serde(default, deserialize_with = "lenient::opt_timestamp")]
    pub creation_date: Option<Timestamp>,
    /// Undocumented meaning (a timestamp in the examples): shown raw.
    #[serde(default, deserialize_with = "lenient::opt_timestamp")]
    pub duration: Option<Timestamp>,
    /// Whether the session still accepts passings.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub active: Option<bool>,
    /// Number of passings.
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub passings: Option<u64>,
    /// Timestamp of the first passing.
    #[serde(default, deserialize_with = "lenient::opt_timestamp")]
    pub first: Option<Timestamp>,
    /// Timestamp of the last passing.
    #[serde(default, deserialize_with = "lenient::opt_timestamp")]
    pub last: Option<Timestamp>,
}

/// A passing as P2, P3 and P4 return it ("PassingOut": every field a string or null).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassingOut {
    /// Session it belongs to.
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub token_session: Option<SessionToken>,
    /// Device it came from.
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub deviceid: Option<DeviceId>,
    /// Order number inside the session.
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub num_passing: Option<u64>,
    /// When.
    #[serde(default, deserialize_with = "lenient::opt_timestamp")]
    pub timestamp: Option<Timestamp>,
    /// Bib.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub bib: Option<String>,
    /// Chip.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub chip: Option<String>,
    /// Latitude (a number or a string on the wire; kept as text).
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub latitude: Option<String>,
    /// Longitude (a number or a string on the wire; kept as text).
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub longitude: Option<String>,
    /// Status.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub status: Option<String>,
    /// Participant id.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub participant_id: Option<String>,
    /// Time zone.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub timezone: Option<String>,
    /// Gender.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub gender: Option<String>,
}

/// What P1 reports about a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct InsertOutcome {
    /// Passings the server stored.
    pub inserted_count: u64,
    /// Passings the server recognised as already stored (newer servers only).
    pub duplicate_count: Option<u64>,
}

/// P4's answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollResult {
    /// The device polled.
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub deviceid: Option<DeviceId>,
    /// The session the passings were read from.
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub session_used: Option<SessionToken>,
    /// That session's alias.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub session_label: Option<String>,
    /// Where reading resumed (undocumented shape: kept as text).
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub resumed_from: Option<String>,
    /// The passings.
    #[serde(default, deserialize_with = "lenient::list")]
    pub passings: Vec<PassingOut>,
}

/// An event (newer layer; read only).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Event token.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub event_token: Option<String>,
    /// Name.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub name: Option<String>,
    /// Edition.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub edition: Option<String>,
    /// Location.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub location: Option<String>,
    /// Status.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub status: Option<String>,
    /// Start date.
    #[serde(default, deserialize_with = "lenient::opt_timestamp")]
    pub start_date: Option<Timestamp>,
    /// End date.
    #[serde(default, deserialize_with = "lenient::opt_timestamp")]
    pub end_date: Option<Timestamp>,
}

/// One page of events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventPage {
    /// The events on this page.
    pub events: Vec<Event>,
    /// Pagination, when the server sent it.
    pub pagination: Option<Pagination>,
}

/// Success answers that carry an id or counts (private: the client returns plain values).
#[derive(Debug, Deserialize)]
pub(crate) struct IdsAnswer {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub deviceid: Option<DeviceId>,
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub token_session: Option<SessionToken>,
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub inserted_count: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub duplicate_count: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Timelike};
    use serde_json::json;

    fn at(h: u32, m: u32, s: u32, nanos: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2023, 1, 22, h, m, s).unwrap().with_nanosecond(nanos).unwrap()
    }

    #[test]
    fn minimal_passing_sends_only_required_fields() {
        let p = Passing::new("7", 1, at(9, 20, 25, 0));
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            r#"{"bib":"7","num_passing":1,"timestamp":"2023-01-22T09:20:25.000Z"}"#
        );
    }

    #[test]
    fn full_passing_sends_documented_fields_with_chip_not_chips() {
        let p = Passing {
            bib: "17".into(),
            num_passing: 2,
            timestamp: at(9, 21, 33, 456_789_123),
            chip: Some("000000000000017".into()),
            latitude: Some("12.000".into()),
            longitude: Some("13.000".into()),
            status: Some("Sent".into()),
            participant_id: Some("XB123AR8".into()),
            timezone: Some("UTC".into()),
            gender: Some("F".into()),
        };
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            concat!(
                r#"{"bib":"17","num_passing":2,"timestamp":"2023-01-22T09:21:33.456Z","#,
                r#""chip":"000000000000017","latitude":"12.000","longitude":"13.000","#,
                r#""status":"Sent","participant_id":"XB123AR8","timezone":"UTC","gender":"F"}"#
            )
        );
    }

    #[test]
    fn insert_body_has_token_and_list_only() {
        let token = SessionToken::new("2A19");
        let list = [Passing::new("7", 1, at(9, 20, 25, 0)).with_chip("C7")];
        let body = InsertPassings { token_session: &token, passings_list: &list };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({"token_session": "2A19", "passings_list": [
                {"bib": "7", "num_passing": 1, "timestamp": "2023-01-22T09:20:25.000Z", "chip": "C7"}
            ]})
        );
    }

    #[test]
    fn new_device_always_sends_type_and_omits_absent_optionals() {
        let d = NewDevice {
            model: "Console".into(),
            serial_number: "SN1".into(),
            device_type: "custom".into(),
            alias: None,
            firmware: Some("1.0".into()),
        };
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            r#"{"model":"Console","serial_number":"SN1","type":"custom","firmware":"1.0"}"#
        );
        let id = DeviceId::new("AB");
        let s = NewSession { deviceid: &id, alias: None };
        assert_eq!(serde_json::to_string(&s).unwrap(), r#"{"deviceid":"AB"}"#);
    }

    #[test]
    fn device_of_either_generation_parses() {
        let old: Device = serde_json::from_value(json!({
            "deviceid": "AB", "type": "custom", "model": "M", "alias": "A", "firmware": "1",
            "serial_number": "S", "creation_date": "2023-01-22T09:20:25.000Z",
            "sessions": 3, "passings": "12", "last_seen": "garbage", "extra": {"x": 1}
        }))
        .unwrap();
        assert_eq!(old.passings, Some(12));
        assert_eq!(old.last_seen.as_ref().unwrap().raw(), "garbage");
        assert!(old.creation_date.unwrap().utc().is_some());
        let new: Device = serde_json::from_value(json!({
            "deviceid": "AB", "type": "custom", "model": "M", "serial_number": 42,
            "last_login": null, "sessions": 0, "battery_percentage": "87.5", "charging": false
        }))
        .unwrap();
        assert_eq!(new.serial_number.as_deref(), Some("42"));
        assert_eq!(new.battery_percentage, Some(87.5));
        assert_eq!(new.charging, Some(false));
        assert!(new.last_login.is_none() && new.firmware.is_none());
        assert!(serde_json::from_value::<Device>(json!({"model": "M"})).is_err());
    }

    #[test]
    fn passing_out_accepts_numbers_for_coordinates() {
        let p: PassingOut = serde_json::from_value(json!({
            "token_session": "T", "timestamp": "2023-01-22T09:20:25.000Z", "num_passing": 1,
            "latitude": 12.5, "longitude": "13.000", "status": null, "chip": "C", "bib": "7",
            "deviceid": null
        }))
        .unwrap();
        assert_eq!(p.latitude.as_deref(), Some("12.5"));
        assert_eq!(p.longitude.as_deref(), Some("13.000"));
        assert!(p.status.is_none() && p.deviceid.is_none());
    }

    #[test]
    fn more_pages_logic() {
        let p = |has_more, total| Pagination { page: None, limit: None, total, has_more };
        assert!(!Pagination::more_after(None, 0, 0, 10));
        assert!(Pagination::more_after(None, 10, 10, 10));
        assert!(!Pagination::more_after(None, 9, 9, 10));
        assert!(Pagination::more_after(Some(&p(Some(true), None)), 3, 3, 10));
        assert!(!Pagination::more_after(Some(&p(Some(false), None)), 10, 10, 10));
        assert!(Pagination::more_after(Some(&p(None, Some(25))), 10, 20, 10));
        assert!(!Pagination::more_after(Some(&p(None, Some(20))), 10, 20, 10));
    }
}
