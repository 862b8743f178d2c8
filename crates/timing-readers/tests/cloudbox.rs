//! CloudBox streaming JSON decoder and commands against readers.md §9: passings with every
//! documented field, both timestamp spellings, replies, objects back to back with and without
//! whitespace, garbage, invalid and endless objects, and chunking properties.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests stop loudly
#![allow(clippy::panic, clippy::indexing_slicing)] // and so do their helpers

mod common;

use chrono::{TimeZone, Utc};
use common::*;
use proptest::prelude::*;
use serde_json::json;
use timing_readers::cloudbox::{self, BUFFER_LIMIT, CloudBoxControl, CloudBoxDetails, command};
use timing_readers::{
    ControlMessage, Decoded, Protocol, ReadDetails, ReadFlags, ReaderTime, RejectReason, Rejected,
    ReplayKey, Rssi, TagRead,
};

const PASSING: &[u8] = br#"{"epc":"E2801170000002012345ABCD","timestamp":"2025-06-14T10:02:33.456Z","seenCount":3,"antenna":2,"rssi":-61,"passingNumber":42,"tagStr":"12","latitude":41.3874,"longitude":2.1686,"chksum":"a1b2"}"#;
const SEMICOLON: &[u8] =
    br#"{"epc": "E280117000000201234500FF", "timestamp": "2025-06-14;10:02:34.000Z", "passingNumber": "43"}"#;
const REPLY: &[u8] = br#"{"command": "GETSYSTEMTIME", "result": {"time": "2025-06-14T10:02:33Z"}}"#;

fn decoder() -> Make {
    make(Protocol::CloudBox)
}

fn at_456() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 14, 10, 2, 33).unwrap() + chrono::TimeDelta::milliseconds(456)
}

#[test]
fn passing_decodes_to_the_documented_fields() {
    assert_eq!(
        single_read(decoder(), PASSING),
        TagRead {
            chip: "E2801170000002012345ABCD".into(),
            bib: None,
            antenna: Some(2),
            rssi: Some(Rssi::Dbm(-61)),
            reader_time: Some(ReaderTime::Utc(at_456())),
            replay_key: Some(ReplayKey::CloudBox { passing_number: 42, at: Some(at_456()) }),
            flags: ReadFlags::default(),
            details: ReadDetails::CloudBox(CloudBoxDetails {
                passing_number: Some(42),
                seen_count: Some(3),
                tag_str: Some("12".into()),
                latitude: Some(41.3874),
                longitude: Some(2.1686),
                chksum: Some("a1b2".into()),
            }),
            raw: PASSING.to_vec(),
        }
    );
}

#[test]
fn semicolon_timestamp_and_numeric_strings() {
    let read = single_read(decoder(), SEMICOLON);
    assert_eq!(
        read.reader_time,
        Some(ReaderTime::Utc(Utc.with_ymd_and_hms(2025, 6, 14, 10, 2, 34).unwrap()))
    );
    assert_eq!(
        read.replay_key,
        Some(ReplayKey::CloudBox {
            passing_number: 43,
            at: Some(Utc.with_ymd_and_hms(2025, 6, 14, 10, 2, 34).unwrap()),
        })
    );
    assert_eq!(read.replay_key.unwrap().to_string(), "cloudbox:43:20250614T100234.000Z");
    assert_eq!(read.antenna, None);
    assert_eq!(read.rssi, None);
}

#[test]
fn replies_and_other_objects_are_control() {
    let Decoded::Control(control) = single(decoder(), REPLY) else { panic!() };
    assert_eq!(
        control.message,
        ControlMessage::CloudBox(CloudBoxControl::Reply {
            command: "GETSYSTEMTIME".into(),
            result: json!({"time": "2025-06-14T10:02:33Z"}),
        })
    );
    assert_eq!(control.raw, REPLY);
    let Decoded::Control(other) =
        single(decoder(), br#"{"status":"ok","battery":[1,2.5,true,null]}"#)
    else {
        panic!()
    };
    assert_eq!(
        other.message,
        ControlMessage::CloudBox(CloudBoxControl::Other(
            json!({"status": "ok", "battery": [1, 2.5, true, null]})
        ))
    );
}

#[test]
fn objects_back_to_back_with_or_without_whitespace() {
    let mut stream = PASSING.to_vec();
    stream.extend_from_slice(SEMICOLON);
    stream.extend_from_slice(b"\r\n");
    stream.extend_from_slice(REPLY);
    stream.extend_from_slice(b" \n\t");
    stream.extend_from_slice(PASSING);
    let out = whole(decoder(), &stream);
    assert_eq!(out.len(), 4);
    assert_eq!(reads(&out).len(), 3);
    assert_eq!(out[1].raw(), SEMICOLON);
    assert_every_split_same(decoder(), &stream, BUFFER_LIMIT);
}

#[test]
fn garbage_is_skipped_even_when_it_holds_a_brace() {
    let mut stream = b"xx{abc".to_vec();
    stream.extend_from_slice(PASSING);
    stream.extend_from_slice(br#""tail": 1}}"#);
    stream.extend_from_slice(SEMICOLON);
    let out = whole(decoder(), &stream);
    assert_eq!(out.len(), 4);
    assert_eq!(
        out[0],
        Decoded::Rejected(Rejected { reason: RejectReason::Garbage, raw: b"xx{abc".to_vec() })
    );
    assert_eq!(out[1].raw(), PASSING);
    assert_eq!(
        out[2],
        Decoded::Rejected(Rejected {
            reason: RejectReason::Garbage,
            raw: br#""tail": 1}}"#.to_vec()
        })
    );
    assert_eq!(out[3].raw(), SEMICOLON);
    assert_every_split_same(decoder(), &stream, BUFFER_LIMIT);
}

#[test]
fn invalid_objects_are_rejected() {
    // Complete but invalid JSON (leading zero): the whole object is one rejection.
    let bad = br#"{"epc": 01}"#;
    let rejected = single_rejection(decoder(), bad);
    assert!(matches!(rejected.reason, RejectReason::BadJson { .. }));
    assert_eq!(rejected.raw, bad);
    // A passing without timestamp.
    let missing = br#"{"epc":"E2"}"#;
    assert_eq!(
        single_rejection(decoder(), missing).reason,
        RejectReason::BadField { field: "timestamp", value: "null".into() }
    );
    // A number field holding text.
    let wrong = br#"{"epc":"E2","timestamp":"2025-06-14T10:02:33Z","antenna":"left"}"#;
    assert!(matches!(
        single_rejection(decoder(), wrong).reason,
        RejectReason::BadField { field: "antenna", .. }
    ));
    // Cut off at the end of the stream.
    assert_eq!(
        single_rejection(decoder(), &PASSING[..40]),
        Rejected { reason: RejectReason::Truncated, raw: PASSING[..40].to_vec() }
    );
}

#[test]
fn endless_object_is_cut_as_too_long() {
    let mut stream = br#"{"epc":""#.to_vec();
    stream.extend(std::iter::repeat_n(b'x', 40_000));
    stream.extend_from_slice(b"\"}");
    stream.extend_from_slice(PASSING);
    let out = whole(decoder(), &stream);
    assert_eq!(
        rejections(&out)[0],
        &Rejected {
            reason: RejectReason::TooLong { limit: cloudbox::MAX_OBJECT },
            raw: stream[..cloudbox::MAX_OBJECT].to_vec()
        }
    );
    assert_eq!(reads(&out).len(), 1);
    assert_eq!(out.last().unwrap().raw(), PASSING);
}

#[test]
fn deep_nesting_is_rejected() {
    let mut deep = br#"{"a":"#.to_vec();
    deep.extend(std::iter::repeat_n(b'[', 100));
    deep.extend(std::iter::repeat_n(b']', 100));
    deep.push(b'}');
    let out = whole(decoder(), &deep);
    assert!(reads(&out).is_empty());
    assert!(matches!(rejections(&out)[0].reason, RejectReason::BadJson { .. }));
}

#[test]
fn commands_match_the_documented_bytes() {
    assert_eq!(
        command::command("CHANGESYSTEMIPADDRESS", &["192.168.1.100", "8080", "/24"]),
        b"CHANGESYSTEMIPADDRESS;192.168.1.100;8080;/24\r\n"
    );
    assert_eq!(command::get_system_time(), b"GETSYSTEMTIME\r\n");
    assert_eq!(command::start(), b"START\r\n");
    assert_eq!(command::stop(), b"STOP\r\n");
    assert_eq!(command::get_system_config(), b"GETSYSTEMCONFIG\r\n");
}

fn examples() -> Vec<Vec<u8>> {
    [PASSING, SEMICOLON, REPLY, b"\r\n".as_slice(), br#"{"s":"\u00e9\"}"}"#]
        .iter()
        .map(|f| f.to_vec())
        .collect()
}

decoder_properties!(decoder(), BUFFER_LIMIT, noisy: examples());

proptest! {
    #![proptest_config(config())]


    #[test]
    fn valid_streams_give_every_read(picks in prop::collection::vec(0usize..3, 1..20), cuts in cuts()) {
        let frames = [PASSING, SEMICOLON, REPLY];
        let stream: Vec<u8> = picks.iter().flat_map(|i| frames[*i].to_vec()).collect();
        let out = in_pieces(decoder(), &stream, &cuts, BUFFER_LIMIT);
        prop_assert_eq!(reads(&out).len(), picks.iter().filter(|i| **i < 2).count());
        prop_assert_eq!(out.len(), picks.len());
    }
}
