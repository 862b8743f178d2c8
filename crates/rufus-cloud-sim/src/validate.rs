//! Strict reading of request bodies, as the newer spec's `additionalProperties: false` implies:
//! a JSON object, required fields present with the right JSON type, no unknown field. Every
//! refusal says where and which field, e.g. `unknown field "chips" in passings_list[1]`.

use serde_json::{Map, Value};

use crate::clock;
use crate::snapshot::StoredPassing;
use crate::state::NewDevice;

/// A refusal, as the `description` of a 400.
pub(crate) type Refusal = String;

type Object = Map<String, Value>;

/// `POST /devices`.
pub(crate) fn bind_request(body: &[u8]) -> Result<NewDevice, Refusal> {
    let value = json(body)?;
    let obj = object(&value, "request body")?;
    let place = "request body";
    only_known(obj, &["model", "serial_number", "type", "alias", "firmware"], place)?;
    Ok(NewDevice {
        model: required_string(obj, "model", place)?,
        serial_number: required_string(obj, "serial_number", place)?,
        device_type: optional_string(obj, "type", place)?,
        alias: optional_string(obj, "alias", place)?,
        firmware: optional_string(obj, "firmware", place)?,
    })
}

/// `POST /sessions`.
#[derive(Debug)]
pub(crate) struct SessionRequest {
    pub(crate) deviceid: String,
    pub(crate) alias: Option<String>,
}

pub(crate) fn session_request(body: &[u8]) -> Result<SessionRequest, Refusal> {
    let value = json(body)?;
    let place = "request body";
    let obj = object(&value, place)?;
    only_known(obj, &["deviceid", "alias"], place)?;
    Ok(SessionRequest {
        deviceid: required_string(obj, "deviceid", place)?,
        alias: optional_string(obj, "alias", place)?,
    })
}

/// `POST /passings`, top level only: the passings are checked one by one with [`passing`] so
/// that the batch size can be judged first.
#[derive(Debug)]
pub(crate) struct PassingsRequest {
    pub(crate) token_session: String,
    pub(crate) passings_list: Vec<Value>,
}

pub(crate) fn passings_request(body: &[u8]) -> Result<PassingsRequest, Refusal> {
    let value = json(body)?;
    let place = "request body";
    let Value::Object(mut obj) = value else {
        return Err(format!("{place} must be a JSON object"));
    };
    only_known(&obj, &["token_session", "passings_list"], place)?;
    let token_session = required_string(&obj, "token_session", place)?;
    let passings_list = match obj.remove("passings_list") {
        None => return Err(format!("missing required field \"passings_list\" in {place}")),
        Some(Value::Array(list)) if !list.is_empty() => list,
        Some(_) => {
            return Err(format!(
                "field \"passings_list\" in {place} must be a non-empty array of passings"
            ));
        }
    };
    Ok(PassingsRequest { token_session, passings_list })
}

/// One passing of `passings_list`, at `index`.
pub(crate) fn passing(index: usize, value: Value) -> Result<StoredPassing, Refusal> {
    let place = format!("passings_list[{index}]");
    let obj = object(&value, &place)?;
    only_known(
        obj,
        &[
            "bib",
            "num_passing",
            "timestamp",
            "chip",
            "latitude",
            "longitude",
            "status",
            "participant_id",
            "timezone",
            "gender",
        ],
        &place,
    )?;
    let bib = required_string(obj, "bib", &place)?;
    let num_passing = match obj.get("num_passing") {
        None => return Err(missing("num_passing", &place)),
        Some(v) => v.as_u64().ok_or_else(|| {
            format!("field \"num_passing\" in {place} must be an integer >= 0, got {v}")
        })?,
    };
    let timestamp = required_string(obj, "timestamp", &place)?;
    if clock::parse_exact(&timestamp).is_none() {
        return Err(format!(
            "field \"timestamp\" in {place} must be a UTC time formatted \
             YYYY-MM-DDTHH:mm:ss.sssZ, got {timestamp:?}"
        ));
    }
    for coordinate in ["latitude", "longitude"] {
        match obj.get(coordinate) {
            None | Some(Value::String(_)) | Some(Value::Number(_)) => {}
            Some(other) => {
                return Err(format!(
                    "field \"{coordinate}\" in {place} must be a string or a number, got {other}"
                ));
            }
        }
    }
    for text in ["participant_id", "timezone", "gender"] {
        optional_string(obj, text, &place)?;
    }
    let chip = optional_string(obj, "chip", &place)?;
    let status = optional_string(obj, "status", &place)?;
    Ok(StoredPassing { num_passing, bib, chip, timestamp, status, raw: value })
}

fn json(body: &[u8]) -> Result<Value, Refusal> {
    serde_json::from_slice(body).map_err(|e| format!("invalid JSON in request body: {e}"))
}

fn object<'a>(value: &'a Value, place: &str) -> Result<&'a Object, Refusal> {
    value.as_object().ok_or_else(|| format!("{place} must be a JSON object"))
}

fn only_known(obj: &Object, known: &[&str], place: &str) -> Result<(), Refusal> {
    match obj.keys().find(|k| !known.contains(&k.as_str())) {
        Some(unknown) => {
            Err(format!("unknown field \"{unknown}\" in {place} (allowed: {})", known.join(", ")))
        }
        None => Ok(()),
    }
}

fn missing(field: &str, place: &str) -> Refusal {
    format!("missing required field \"{field}\" in {place}")
}

fn required_string(obj: &Object, field: &str, place: &str) -> Result<String, Refusal> {
    optional_string(obj, field, place)?.ok_or_else(|| missing(field, place))
}

/// Absent is fine; `null` or another type is not (send only the fields you have).
fn optional_string(obj: &Object, field: &str, place: &str) -> Result<Option<String>, Refusal> {
    match obj.get(field) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!("field \"{field}\" in {place} must be a string, got {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(value: Value) -> Result<StoredPassing, Refusal> {
        passing(1, value)
    }

    #[test]
    fn seed_passings_pass() {
        let p = check(json!({"bib":"17","num_passing":2,"timestamp":"2023-01-22T09:21:33.000Z",
            "timezone":"UTC","latitude":"12.000","longitude":13.0,"status":"Sent",
            "participant_id":"XB123AR8","chip":"000000000000017"}))
        .unwrap();
        assert_eq!(p.num_passing, 2);
        assert_eq!(p.chip.as_deref(), Some("000000000000017"));
    }

    #[test]
    fn refusals_name_place_and_field() {
        let base = || json!({"bib":"7","num_passing":1,"timestamp":"2023-01-22T09:20:25.000Z"});
        let with = |field: &str, v: Value| {
            let mut p = base();
            p.as_object_mut().unwrap().insert(field.into(), v);
            check(p).unwrap_err()
        };
        let without = |field: &str| {
            let mut p = base();
            p.as_object_mut().unwrap().remove(field);
            check(p).unwrap_err()
        };
        assert!(
            with("chips", json!("1")).starts_with("unknown field \"chips\" in passings_list[1]")
        );
        assert!(with("bib", json!(7)).contains("\"bib\" in passings_list[1]"));
        assert!(with("num_passing", json!(-1)).contains("\"num_passing\""));
        assert!(with("num_passing", json!(1.5)).contains("\"num_passing\""));
        assert!(with("num_passing", json!("1")).contains("\"num_passing\""));
        assert!(with("timestamp", json!("2023-01-22T09:20:25Z")).contains("\"timestamp\""));
        assert!(with("latitude", json!(true)).contains("\"latitude\""));
        assert!(with("chip", Value::Null).contains("\"chip\""));
        assert!(with("gender", json!(1)).contains("\"gender\""));
        assert!(without("bib").starts_with("missing required field \"bib\""));
        assert!(without("num_passing").contains("\"num_passing\""));
        assert!(without("timestamp").contains("\"timestamp\""));
        assert!(check(json!([1])).unwrap_err().contains("must be a JSON object"));
    }

    #[test]
    fn top_level_checks() {
        let req = |v: Value| passings_request(v.to_string().as_bytes());
        assert!(req(json!({"token_session":"T","passings_list":[]})).is_err());
        assert!(req(json!({"token_session":"T"})).is_err());
        assert!(req(json!({"token_session":1,"passings_list":[{}]})).is_err());
        assert!(
            req(json!({"token_session":"T","passings_list":[{}],"x":1}))
                .unwrap_err()
                .contains("\"x\"")
        );
        assert!(passings_request(b"{").unwrap_err().starts_with("invalid JSON"));
        assert!(req(json!({"token_session":"T","passings_list":[{}]})).is_ok());
    }

    #[test]
    fn bind_and_session_bodies() {
        let ok = bind_request(br#"{"model":"m","serial_number":"s","type":"custom"}"#).unwrap();
        assert_eq!(ok.device_type.as_deref(), Some("custom"));
        assert!(bind_request(br#"{"model":"m"}"#).unwrap_err().contains("serial_number"));
        assert!(bind_request(br#"{"model":"m","serial_number":"s","x":1}"#).is_err());
        assert!(session_request(br#"{"deviceid":"D","alias":"a"}"#).is_ok());
        assert!(session_request(br#"{"alias":"a"}"#).unwrap_err().contains("deviceid"));
    }
}
