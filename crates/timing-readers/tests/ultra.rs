//! Ultra / Joey decoder and commands against readers.md §2, plus the other line kinds,
//! corruption, garbage, merged lines and chunking properties.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests stop loudly
#![allow(clippy::panic, clippy::indexing_slicing)] // and so do their helpers

mod common;

use chrono::{NaiveDate, NaiveDateTime};
use common::*;
use proptest::prelude::*;
use timing_readers::ultra::{self, BUFFER_LIMIT, UltraControl, UltraDetails, command};
use timing_readers::{
    ControlMessage, Decoded, Protocol, ReadDetails, ReadFlags, ReaderTime, RejectReason, ReplayKey,
    Rssi, TagRead,
};

const CHIP: &[u8] = b"0,4012345,1434360615,450,2,-61,0,1,1,0000000000000000,0,1187\n";
const REWOUND: &[u8] = b"0,4012345,1434360615,450,2,-61,1,1,1,0000000000000000,0,1187\n";
const GUN: &[u8] = b"0,0,1434360600,0,0,0,0,1,1,0000000000000000,0,1\n";

fn decoder() -> Make {
    make(Protocol::Ultra)
}

fn at(h: u32, m: u32, s: u32, ms: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2025, 6, 14).unwrap().and_hms_milli_opt(h, m, s, ms).unwrap()
}

fn control(bytes: &[u8]) -> UltraControl {
    match single(decoder(), bytes) {
        Decoded::Control(c) => match c.message {
            ControlMessage::Ultra(m) => m,
            other => panic!("not Ultra: {other:?}"),
        },
        other => panic!("expected control, got {other:?}"),
    }
}

#[test]
fn chip_line_decodes_to_the_documented_fields() {
    assert_eq!(
        single_read(decoder(), CHIP),
        TagRead {
            chip: "4012345".into(),
            bib: None,
            antenna: Some(2),
            rssi: Some(Rssi::Dbm(-61)),
            reader_time: Some(ReaderTime::Local(at(9, 30, 15, 450))),
            replay_key: Some(ReplayKey::Ultra {
                ultra_id: 1,
                reader: 1,
                log_id: 1187,
                at: Some(at(9, 30, 15, 450)),
            }),
            flags: ReadFlags::default(),
            details: ReadDetails::Ultra(UltraDetails {
                record_type: 0,
                seconds: 1_434_360_615,
                millis: 450,
                is_rewind: false,
                reader: 1,
                ultra_id: 1,
                reader_time: "0000000000000000".into(),
                start_time: 0,
                log_id: 1187,
            }),
            raw: CHIP.to_vec(),
        }
    );
}

#[test]
fn rewound_and_gun_reads_are_flagged() {
    let read = single_read(decoder(), REWOUND);
    assert_eq!(read.flags, ReadFlags { from_memory: true, ..ReadFlags::default() });
    let live = single_read(decoder(), CHIP);
    assert_eq!(read.replay_key, live.replay_key, "a rewound read has the live read's key");
    assert_eq!(read.replay_key.unwrap().to_string(), "ultra:1:1:1187:20250614T093015.450");

    let gun = single_read(decoder(), GUN);
    assert_eq!(gun.flags, ReadFlags { gun: true, ..ReadFlags::default() });
    assert_eq!(gun.antenna, Some(0));
    assert_eq!(gun.reader_time, Some(ReaderTime::Local(at(9, 30, 0, 0))));
}

#[test]
fn other_line_kinds_are_control() {
    assert_eq!(
        control(b"Connected,Ultra 8 v3.1\n"),
        UltraControl::Connected("Ultra 8 v3.1".into())
    );
    assert_eq!(control(b"1,Connected,Joey\r\n"), UltraControl::Connected("Joey".into()));
    assert_eq!(control(b"V=24.9\n"), UltraControl::Voltage(24.9));
    assert_eq!(control(b"S=10\n"), UltraControl::Status { reading: true, detail: "0".into() });
    assert_eq!(control(b"S=0\n"), UltraControl::Status { reading: false, detail: String::new() });
    assert_eq!(
        control(b"9:30:15 14-6-2025 (3)\n"),
        UltraControl::Time { at: at(9, 30, 15, 0), note: "(3)".into() }
    );
    assert_eq!(
        control(b"u\x23\x02\n"),
        UltraControl::Setting { confirmation: true, id: Some(0x23), value: vec![0x02] }
    );
    assert_eq!(
        control(b"U\x09\x01\n"),
        UltraControl::Setting { confirmation: false, id: Some(0x09), value: vec![0x01] }
    );
    assert_eq!(control(b"\x03\x01\x02\n"), UltraControl::ExtendedStatus(vec![0x01, 0x02]));
    assert_eq!(control(b"Hello there\n"), UltraControl::Text("Hello there".into()));
}

#[test]
fn malformed_chip_lines_are_rejected() {
    let short = b"0,4012345,1434360615,450,2,-61,0,1,1,0000000000000000,0\n";
    assert_eq!(
        single_rejection(decoder(), short).reason,
        RejectReason::FieldCount { expected: "12", got: 11 }
    );
    let bad_ms = b"0,4012345,1434360615,1000,2,-61,0,1,1,0000000000000000,0,1187\n";
    assert_eq!(
        single_rejection(decoder(), bad_ms).reason,
        RejectReason::BadField { field: "milliseconds", value: "1000".into() }
    );
    let bad_rssi = b"0,4012345,1434360615,450,2,-6x,0,1,1,0000000000000000,0,1187\n";
    assert!(matches!(
        single_rejection(decoder(), bad_rssi).reason,
        RejectReason::BadField { field: "RSSI", .. }
    ));
    let huge = b"0,4012345,99999999999999999,450,2,-61,0,1,1,0000000000000000,0,1187\n";
    assert!(matches!(
        single_rejection(decoder(), huge).reason,
        RejectReason::BadField { field: "seconds", .. }
    ));
    assert!(matches!(
        single_rejection(decoder(), b"V=lots\n").reason,
        RejectReason::BadField { field: "voltage", .. }
    ));
}

#[test]
fn garbage_between_and_merged_lines() {
    let mut stream = b"Connected,Ultra\n".to_vec();
    stream.extend_from_slice(CHIP);
    stream.extend_from_slice(b"\x00\x9f\xff\n");
    stream.extend_from_slice(b"V=24.9\n");
    stream.extend_from_slice(REWOUND);
    stream.extend_from_slice(b"0,4012345,14343606");
    stream.extend_from_slice(b"\n");
    stream.extend_from_slice(GUN);
    let out = whole(decoder(), &stream);
    assert_eq!(reads(&out).len(), 3);
    assert_eq!(rejections(&out).len(), 2);
    assert_eq!(out.len(), 7);
    let raw: Vec<u8> = out.iter().flat_map(|d| d.raw().to_vec()).collect();
    assert_eq!(raw, stream);
    assert_every_split_same(decoder(), &stream, BUFFER_LIMIT);
}

#[test]
fn endless_line_is_cut_as_too_long() {
    let mut stream = vec![b'0'; 2000];
    stream.extend_from_slice(b"\n");
    stream.extend_from_slice(CHIP);
    let out = whole(decoder(), &stream);
    assert_eq!(reads(&out).len(), 1);
    let rejected = rejections(&out);
    assert_eq!(rejected.len(), 4);
    assert!(rejected.iter().all(|r| r.reason == RejectReason::TooLong { limit: ultra::MAX_LINE }));
}

#[test]
fn commands_match_the_documented_bytes() {
    let from = at(9, 30, 0, 0);
    let to = at(10, 30, 0, 0);
    assert_eq!(ultra::seconds_since_epoch(at(9, 30, 15, 0)), 1_434_360_615);
    assert_eq!(command::start_reading(), b"R\n");
    assert_eq!(command::stop_reading(), b"S\n");
    assert_eq!(command::status(), b"?\n");
    assert_eq!(command::get_time(), b"r\n");
    assert_eq!(command::set_time(at(9, 30, 15, 0)), b"t 09:30:15 14-06-2025\n");
    assert_eq!(command::send_from(Some(from)), b"7001434360600\n");
    assert_eq!(command::send_from(None), b"700\n");
    assert_eq!(command::stop_sending(), b"s\n");
    assert_eq!(
        command::rewind_by_time(from, to, command::RewindEncoding::Manual),
        b"8001434360600\r1434364200\n"
    );
    assert_eq!(
        command::rewind_by_time(from, to, command::RewindEncoding::RfidServer),
        b"8\x00\x001434360600\r1434364200\r"
    );
    assert_eq!(command::rewind_by_log(1100, 1187), b"6001100\r1187\n");
    assert_eq!(command::stop_rewind(), b"9\n");
    assert_eq!(command::dump_settings(), b"U\n");
    assert_eq!(command::change_setting(0x23, &[0x02]), b"u\x23\x02\xFF");
    assert_eq!(command::save_settings(), b"u\xFF");
    assert_eq!(command::enable_extended_status(), [0x03, 0x00, 0x00, 0x03, 0x0D, 0x0A]);
}

fn examples() -> Vec<Vec<u8>> {
    [CHIP, REWOUND, GUN, b"V=24.9\n".as_slice(), b"Connected,Ultra\n", b"S=10\n"]
        .iter()
        .map(|f| f.to_vec())
        .collect()
}

decoder_properties!(decoder(), BUFFER_LIMIT, noisy: examples());

proptest! {
    #![proptest_config(config())]


    #[test]
    fn valid_streams_give_every_read(picks in prop::collection::vec(0usize..3, 1..20), cuts in cuts()) {
        let frames = [CHIP, REWOUND, GUN];
        let stream: Vec<u8> = picks.iter().flat_map(|i| frames[*i].to_vec()).collect();
        let out = in_pieces(decoder(), &stream, &cuts, BUFFER_LIMIT);
        prop_assert_eq!(reads(&out).len(), picks.len());
        prop_assert_eq!(out.len(), picks.len());
    }
}

/// Some Ultra firmware ends lines with CR only (CrossMgr's Ultra module, written against real
/// hardware, splits on CR): CR, LF and CRLF all end a line, and CRLF is one end, not two.
#[test]
fn lines_end_with_cr_lf_or_crlf() {
    let line = |log: u32, end: &str| {
        format!("0,4012345,1434360615,450,2,-61,0,1,1,0000000000000000,0,{log}{end}")
    };
    let stream = [line(1, "\r"), line(2, "\n"), line(3, "\r\n"), line(4, "\r")].concat();
    let decoded = whole(decoder(), stream.as_bytes());
    assert_every_split_same(decoder(), stream.as_bytes(), BUFFER_LIMIT);
    let logs: Vec<u64> = decoded
        .iter()
        .filter_map(Decoded::as_read)
        .map(|r| match &r.details {
            ReadDetails::Ultra(d) => d.log_id,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(logs, [1, 2, 3, 4]);
    assert!(decoded.iter().all(|d| d.as_read().is_some()), "nothing else: {decoded:?}");
}
