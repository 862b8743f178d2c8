//! Tolerant `deserialize_with` helpers: the two generations of RUFUS pages disagree on types
//! (numbers vs strings, objects vs arrays of one), so response fields are read from whatever JSON
//! value arrives, and a field that cannot be understood becomes `None` instead of an error.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::time::Timestamp;

fn value<'de, D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
    Ok(Option::<Value>::deserialize(d)?.unwrap_or(Value::Null))
}

/// Text of a scalar: strings as they are, numbers and booleans as their JSON text.
pub(crate) fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Non-negative integer from a number or a numeric string.
pub(crate) fn scalar_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= u64::MAX as f64)
                .map(|f| f as u64)
        }),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<u64>().ok().or_else(|| scalar_u64(&Value::from(s.parse::<f64>().ok()?)))
        }
        _ => None,
    }
}

/// Any JSON scalar as text (`"12.000"` and `12.0` both arrive); other values → `None`.
pub(crate) fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(scalar_text(&value(d)?))
}

/// A count or an ordinal, from a number or a numeric string.
pub(crate) fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(scalar_u64(&value(d)?))
}

/// A measurement (battery, coordinates) from a number or a numeric string.
pub(crate) fn opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(match value(d)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    })
}

/// A flag from `true`/`false`, `1`/`0`, or those words as strings.
pub(crate) fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match value(d)? {
        Value::Bool(b) => Some(b),
        Value::Number(n) => match scalar_u64(&Value::Number(n)) {
            Some(0) => Some(false),
            Some(1) => Some(true),
            _ => None,
        },
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    })
}

/// A date/time kept raw and parsed when possible; never an error.
pub(crate) fn opt_timestamp<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Timestamp>, D::Error> {
    Ok(scalar_text(&value(d)?).map(Timestamp::from_raw))
}

/// A required identifier: a string (or a number, kept as its text); missing, null or empty → error.
pub(crate) fn required_text<'de, D: Deserializer<'de>, T: From<String>>(
    d: D,
) -> Result<T, D::Error> {
    match scalar_text(&value(d)?) {
        Some(s) if !s.trim().is_empty() => Ok(T::from(s)),
        _ => Err(serde::de::Error::custom("expected a non-empty identifier")),
    }
}

/// An optional identifier: empty strings are treated as absent.
pub(crate) fn opt_text<'de, D: Deserializer<'de>, T: From<String>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    Ok(scalar_text(&value(d)?).filter(|s| !s.trim().is_empty()).map(T::from))
}

/// A list that may also arrive as a single object (array of one vs object) or as `null`.
pub(crate) fn one_or_many<T: DeserializeOwned>(v: Value) -> Result<Vec<T>, serde_json::Error> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items.into_iter().map(serde_json::from_value).collect(),
        other => Ok(vec![serde_json::from_value(other)?]),
    }
}

/// `deserialize_with` form of [`one_or_many`] for response fields holding lists.
pub(crate) fn list<'de, D: Deserializer<'de>, T: DeserializeOwned>(
    d: D,
) -> Result<Vec<T>, D::Error> {
    one_or_many(value(d)?).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    struct Probe {
        #[serde(default, deserialize_with = "opt_string")]
        s: Option<String>,
        #[serde(default, deserialize_with = "opt_u64")]
        n: Option<u64>,
        #[serde(default, deserialize_with = "opt_f64")]
        f: Option<f64>,
        #[serde(default, deserialize_with = "opt_bool")]
        b: Option<bool>,
        #[serde(default, deserialize_with = "opt_timestamp")]
        t: Option<Timestamp>,
    }

    fn probe(v: Value) -> Probe {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn numbers_and_strings_are_interchangeable() {
        let p = probe(json!({"s": 12.5, "n": "42", "f": "13.000", "b": 1}));
        assert_eq!(p.s.as_deref(), Some("12.5"));
        assert_eq!(p.n, Some(42));
        assert_eq!(p.f, Some(13.0));
        assert_eq!(p.b, Some(true));
        let p = probe(json!({"s": "x", "n": 7.0, "f": 1, "b": "false"}));
        assert_eq!((p.s.as_deref(), p.n, p.f, p.b), (Some("x"), Some(7), Some(1.0), Some(false)));
    }

    #[test]
    fn odd_or_missing_values_become_none() {
        let p = probe(json!({"s": {"a": 1}, "n": -3, "f": "abc", "b": "maybe", "t": null}));
        assert!(p.s.is_none() && p.n.is_none() && p.f.is_none() && p.b.is_none() && p.t.is_none());
        let p = probe(json!({}));
        assert!(p.s.is_none() && p.n.is_none() && p.t.is_none());
        let p = probe(json!({"n": 2.5}));
        assert!(p.n.is_none());
    }

    #[test]
    fn odd_timestamp_is_kept_raw() {
        let p = probe(json!({"t": "not a date"}));
        let t = p.t.unwrap();
        assert_eq!(t.raw(), "not a date");
        assert!(t.utc().is_none());
        let p = probe(json!({"t": 1674379225}));
        assert_eq!(p.t.unwrap().raw(), "1674379225");
    }

    #[test]
    fn one_or_many_accepts_all_shapes() {
        let v: Vec<u64> = one_or_many(json!([1, 2])).unwrap();
        assert_eq!(v, vec![1, 2]);
        let v: Vec<u64> = one_or_many(json!(3)).unwrap();
        assert_eq!(v, vec![3]);
        let v: Vec<u64> = one_or_many(Value::Null).unwrap();
        assert!(v.is_empty());
    }
}
