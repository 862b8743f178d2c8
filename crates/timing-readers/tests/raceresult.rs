//! RACE RESULT decoder and commands against readers.md §5a: pushed and fetched passings,
//! unset-clock dates, replies, end of list, malformed records, garbage and chunking.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests stop loudly
#![allow(clippy::panic, clippy::indexing_slicing)] // and so do their helpers

mod common;

use chrono::{NaiveDate, NaiveTime};
use common::*;
use proptest::prelude::*;
use timing_readers::raceresult::{
    self, BUFFER_LIMIT, RaceResultControl, RaceResultDetails, command,
};
use timing_readers::{
    ControlMessage, Decoded, Protocol, ReadDetails, ReadFlags, ReaderTime, RejectReason, ReplayKey,
    Rssi, TagRead,
};

const PUSHED: &[u8] =
    b"#P;17;12345;2025-06-14;09:30:15.450;4711;12;1C;;0;;;;;;;;Finish;3;2;D-50123\r\n";
const FETCHED: &[u8] =
    b"18;ABC1234;0000-00-01;00:05:00.250;0;3;A;;1;2;1;0;77;3.1;21;40;Finish;3;1;D-50123\r\n";

fn decoder() -> Make {
    make(Protocol::RaceResult)
}

fn control(bytes: &[u8]) -> RaceResultControl {
    match single(decoder(), bytes) {
        Decoded::Control(c) => match c.message {
            ControlMessage::RaceResult(m) => m,
            other => panic!("not RACE RESULT: {other:?}"),
        },
        other => panic!("expected control, got {other:?}"),
    }
}

#[test]
fn pushed_passing_decodes_to_the_documented_fields() {
    let at =
        NaiveDate::from_ymd_opt(2025, 6, 14).unwrap().and_hms_milli_opt(9, 30, 15, 450).unwrap();
    assert_eq!(
        single_read(decoder(), PUSHED),
        TagRead {
            chip: "12345".into(),
            bib: Some("12345".into()),
            antenna: Some(2),
            rssi: Some(Rssi::Raw(0x1C)),
            reader_time: Some(ReaderTime::Local(at)),
            replay_key: Some(ReplayKey::RaceResult {
                box_id: "D-50123".into(),
                file: Some(3),
                passing: 17,
                at: None,
            }),
            flags: ReadFlags::default(),
            details: ReadDetails::RaceResult(RaceResultDetails {
                pushed: true,
                passing_number: 17,
                event_id: Some(4711),
                hits: Some(0x12),
                max_rssi: Some(Rssi::Raw(0x1C)),
                internal_data: String::new(),
                is_active: false,
                channel: None,
                loop_id: None,
                loop_only: false,
                wakeup_counter: None,
                battery: String::new(),
                temperature: String::new(),
                internal_active_data: None,
                box_name: "Finish".into(),
                file_number: Some(3),
                max_rssi_antenna: Some(2),
                box_id: "D-50123".into(),
            }),
            raw: PUSHED.to_vec(),
        }
    );
}

#[test]
fn fetched_active_passing_with_unset_clock() {
    let read = single_read(decoder(), FETCHED);
    assert_eq!(read.chip, "ABC1234");
    assert_eq!(read.bib, None, "EventID 0: a transponder code, not a bib");
    assert_eq!(
        read.reader_time,
        Some(ReaderTime::SinceStart {
            days: 1,
            time: NaiveTime::from_hms_milli_opt(0, 5, 0, 250).unwrap()
        })
    );
    assert_eq!(read.flags, ReadFlags { from_memory: true, ..ReadFlags::default() });
    assert_eq!(read.rssi, Some(Rssi::Raw(0x0A)));
    assert_eq!(
        read.details,
        ReadDetails::RaceResult(RaceResultDetails {
            pushed: false,
            passing_number: 18,
            event_id: Some(0),
            hits: Some(3),
            max_rssi: Some(Rssi::Raw(0x0A)),
            internal_data: String::new(),
            is_active: true,
            channel: Some(2),
            loop_id: Some(1),
            loop_only: false,
            wakeup_counter: Some(77),
            battery: "3.1".into(),
            temperature: "21".into(),
            internal_active_data: Some(0x40),
            box_name: "Finish".into(),
            file_number: Some(3),
            max_rssi_antenna: Some(1),
            box_id: "D-50123".into(),
        })
    );
}

#[test]
fn short_records_of_older_protocols_still_decode() {
    let read = single_read(decoder(), b"5;777;0000-00-00;00:00:01.000\r\n");
    assert_eq!(read.chip, "777");
    assert_eq!(
        read.replay_key,
        Some(ReplayKey::RaceResult {
            box_id: String::new(),
            file: None,
            passing: 5,
            at: Some(ReaderTime::SinceStart {
                days: 0,
                time: NaiveTime::from_hms_milli_opt(0, 0, 1, 0).unwrap()
            }),
        })
    );
}

/// A real pre-1.6 record (CrossMgr's RaceResultImport.py, shared/real-frames/raceresult-crossmgr):
/// no box id, no file number.
const CROSSMGR: &[u8] = b"1;33;0000-00-00;00:00:02.773;6692;12;-68;09ca52\r\n";

#[test]
fn records_without_a_file_name_their_run_by_the_passing_time() {
    let key = single_read(decoder(), CROSSMGR).replay_key.unwrap();
    assert_eq!(
        key,
        ReplayKey::RaceResult {
            box_id: String::new(),
            file: None,
            passing: 1,
            at: Some(ReaderTime::SinceStart {
                days: 0,
                time: NaiveTime::from_hms_milli_opt(0, 0, 2, 773).unwrap()
            }),
        }
    );
    assert_eq!(key.to_string(), "raceresult::-:1:d0T000002.773");
    assert_eq!(key.to_string().parse::<ReplayKey>(), Ok(key.clone()));
    // The same passing fetched again: the same key.
    assert_eq!(single_read(decoder(), CROSSMGR).replay_key, Some(key.clone()));
    // Passing 1 of another run (a new file, a restarted decoder): another key.
    let other = single_read(decoder(), b"1;33;0000-00-00;00:00:05.100;6692;12;-68;09ca52\r\n");
    assert_ne!(other.replay_key.unwrap().to_string(), key.to_string());
    let dated = single_read(decoder(), b"1;33;2025-06-14;09:30:15.450\r\n");
    assert_eq!(dated.replay_key.unwrap().to_string(), "raceresult::-:1:20250614T093015.450");
    // Where the record names its file, the file is the run and the key stays as it was.
    let pushed = single_read(decoder(), PUSHED).replay_key.unwrap();
    assert_eq!(pushed.to_string(), "raceresult:D-50123:3:17");
}

#[test]
fn replies_and_end_of_list_are_control() {
    assert_eq!(
        control(b"PASSINGS;17;3\r\n"),
        RaceResultControl::PassingsCount { count: 17, file: Some(3) }
    );
    assert_eq!(
        control(b"PASSINGS;0\r\n"),
        RaceResultControl::PassingsCount { count: 0, file: None }
    );
    assert_eq!(
        control(b"GETTIME;2025-06-14;09:30:15.450\r\n"),
        RaceResultControl::Time(ReaderTime::Local(
            NaiveDate::from_ymd_opt(2025, 6, 14)
                .unwrap()
                .and_hms_milli_opt(9, 30, 15, 450)
                .unwrap()
        ))
    );
    assert_eq!(
        control(b"STARTOPERATION;OK;0000-00-00;00:00:00.000\r\n"),
        RaceResultControl::Reply {
            command: "STARTOPERATION".into(),
            fields: vec!["OK".into(), "0000-00-00".into(), "00:00:00.000".into()],
        }
    );
    assert_eq!(control(b"\r\n"), RaceResultControl::EndOfList);
}

#[test]
fn malformed_records_are_rejected() {
    assert_eq!(
        single_rejection(decoder(), b"#P;17;12345\r\n").reason,
        RejectReason::FieldCount { expected: "at least 4 (20 from protocol 1.6)", got: 2 }
    );
    assert!(matches!(
        single_rejection(decoder(), b"#P;x;1;2025-06-14;09:30:15.450\r\n").reason,
        RejectReason::BadField { field: "PassingNo", .. }
    ));
    assert!(matches!(
        single_rejection(decoder(), b"#P;1;1;2025-13-14;09:30:15.450\r\n").reason,
        RejectReason::BadField { field: "date", .. }
    ));
    assert!(matches!(
        single_rejection(decoder(), b"#P;1;1;2025-06-14;09:30:15.450;;ZZ\r\n").reason,
        RejectReason::BadField { field: "Hits", .. }
    ));
    assert_eq!(single_rejection(decoder(), b"\xff\xfe\r\n").reason, RejectReason::Garbage);
}

#[test]
fn fetch_reply_garbage_and_merged_lines() {
    let mut stream = b"PASSINGS;18;3\r\n".to_vec();
    stream.extend_from_slice(b"\x00\x80\r\n");
    stream.extend_from_slice(PUSHED);
    stream.extend_from_slice(FETCHED);
    stream.extend_from_slice(b"\r\n");
    stream.extend_from_slice(PUSHED);
    let out = whole(decoder(), &stream);
    assert_eq!(reads(&out).len(), 3);
    assert_eq!(rejections(&out).len(), 1);
    assert_eq!(out.len(), 6);
    let raw: Vec<u8> = out.iter().flat_map(|d| d.raw().to_vec()).collect();
    assert_eq!(raw, stream);
    assert_every_split_same(decoder(), &stream, BUFFER_LIMIT);
}

#[test]
fn endless_line_is_cut_as_too_long() {
    let mut stream = vec![b';'; 3000];
    stream.extend_from_slice(b"\r\n");
    stream.extend_from_slice(PUSHED);
    let out = whole(decoder(), &stream);
    assert_eq!(reads(&out).len(), 1);
    assert_eq!(rejections(&out).len(), 3);
    assert!(
        rejections(&out)
            .iter()
            .all(|r| r.reason == RejectReason::TooLong { limit: raceresult::MAX_LINE })
    );
}

#[test]
fn commands_match_the_documented_bytes() {
    let at =
        NaiveDate::from_ymd_opt(2025, 6, 14).unwrap().and_hms_milli_opt(9, 30, 15, 450).unwrap();
    assert_eq!(command::get_protocol(), b"GETPROTOCOL\r\n");
    assert_eq!(command::set_protocol("2.0"), b"SETPROTOCOL;2.0\r\n");
    assert_eq!(command::start_operation(), b"STARTOPERATION\r\n");
    assert_eq!(command::stop_operation(), b"STOPOPERATION\r\n");
    assert_eq!(command::get_time(), b"GETTIME\r\n");
    assert_eq!(command::set_time(at), b"SETTIME;2025-06-14;09:30:15.450\r\n");
    assert_eq!(command::passings_count(), b"PASSINGS\r\n");
    assert_eq!(command::fetch_passings(17, 10), b"17:10\r\n");
    assert_eq!(command::set_push_passings(true), b"SETPUSHPASSINGS;1;0\r\n");
    assert_eq!(command::get_status(), b"GETSTATUS\r\n");
}

fn examples() -> Vec<Vec<u8>> {
    [PUSHED, FETCHED, b"PASSINGS;17;3\r\n".as_slice(), b"\r\n"].iter().map(|f| f.to_vec()).collect()
}

decoder_properties!(decoder(), BUFFER_LIMIT, noisy: examples());

proptest! {
    #![proptest_config(config())]


    #[test]
    fn valid_streams_give_every_read(picks in prop::collection::vec(0usize..2, 1..20), cuts in cuts()) {
        let frames = [PUSHED, FETCHED];
        let stream: Vec<u8> = picks.iter().flat_map(|i| frames[*i].to_vec()).collect();
        let out = in_pieces(decoder(), &stream, &cuts, BUFFER_LIMIT);
        prop_assert_eq!(reads(&out).len(), picks.len());
        prop_assert_eq!(out.len(), picks.len());
    }
}

/// A real passing (CrossMgr's RaceResultImport docstring, a pre-1.6 record of 8 fields): its
/// MaxRSSI is a signed decimal dBm (`-68`, RACE RESULT KB 21392). It is a read with that RSSI —
/// an informational field never costs a passing (it was once rejected as "bad MaxRSSI").
#[test]
fn a_real_passing_with_a_decimal_dbm_rssi_is_a_read() {
    let read = single_read(decoder(), b"1;33;0000-00-00;00:00:02.773;6692;12;-68;09ca52\r\n");
    assert_eq!(read.chip, "33");
    assert_eq!(read.rssi, Some(Rssi::Dbm(-68)));
    assert_eq!(
        read.reader_time,
        Some(ReaderTime::SinceStart {
            days: 0,
            time: NaiveTime::from_hms_milli_opt(0, 0, 2, 773).unwrap()
        })
    );
    // Whatever MaxRSSI holds, the passing stays.
    let odd = single_read(decoder(), b"2;34;0000-00-00;00:00:03.000;6692;12;n/a;09ca52\r\n");
    assert_eq!((odd.chip.as_str(), odd.rssi), ("34", None));
}
