//! IPICO decoder and commands against the examples of readers.md §1, plus corruption, garbage,
//! merged frames and chunking properties.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests stop loudly
#![allow(clippy::panic, clippy::indexing_slicing)] // and so do their helpers

mod common;

use chrono::{NaiveDate, NaiveDateTime};
use common::*;
use proptest::prelude::*;
use timing_readers::ipico::{
    self, BUFFER_LIMIT, IpicoControl, IpicoControlFrame, IpicoDetails, IpicoTto, SeenSuffix,
    command,
};
use timing_readers::{
    ControlMessage, Decoded, Protocol, ReadDetails, ReadFlags, ReaderTime, RejectReason, Rejected,
    ReplayKey, TagRead,
};

const REPORT: &[u8] = b"aa01058001a2b3c402012506140930152d0b\r\n";
const REPORT_FS: &[u8] = b"aa01058001a2b3c402012506140930152d0bFS\r\n";
const REPORT_2: &[u8] = b"aa00000000abcdef0100250614093102075e\r\n";
const SET_RTC: &[u8] = b"ab00070125061406093000ec\r\n";
const GET_RTC: &[u8] = b"ab00000222\r\n";

fn ipico() -> Make {
    make(Protocol::Ipico)
}

fn at(h: u32, m: u32, s: u32, ms: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2025, 6, 14).unwrap().and_hms_milli_opt(h, m, s, ms).unwrap()
}

fn control(decoded: Decoded) -> IpicoControl {
    match decoded {
        Decoded::Control(c) => match c.message {
            ControlMessage::Ipico(m) => m,
            other => panic!("not IPICO: {other:?}"),
        },
        other => panic!("expected control, got {other:?}"),
    }
}

#[test]
fn tag_report_decodes_to_the_documented_fields() {
    let expected_at = at(9, 30, 15, 450);
    assert_eq!(
        single_read(ipico(), REPORT),
        TagRead {
            chip: "058001a2b3c4".into(),
            bib: None,
            antenna: None,
            rssi: None,
            reader_time: Some(ReaderTime::Local(expected_at)),
            replay_key: Some(ReplayKey::Ipico {
                reader_id: 0x01,
                tag: "058001a2b3c4".into(),
                at: expected_at,
                first_seen: None,
            }),
            flags: ReadFlags::default(),
            details: ReadDetails::Ipico(IpicoDetails {
                reader_id: 0x01,
                i_counter: 0x02,
                q_counter: 0x01,
                tto: None,
                suffix: None,
            }),
            raw: REPORT.to_vec(),
        }
    );
}

#[test]
fn first_seen_suffix_sits_outside_the_lrc() {
    let read = single_read(ipico(), REPORT_FS);
    assert_eq!(read.chip, "058001a2b3c4");
    assert_eq!(read.flags, ReadFlags { first_seen: true, ..ReadFlags::default() });
    assert_eq!(read.reader_time, Some(ReaderTime::Local(at(9, 30, 15, 450))));
    let ReadDetails::Ipico(details) = &read.details else { panic!() };
    assert_eq!(details.suffix, Some(SeenSuffix::FirstSeen));
    assert!(matches!(read.replay_key, Some(ReplayKey::Ipico { first_seen: Some(true), .. })));
    assert_eq!(read.raw, REPORT_FS);

    let last = single_read(ipico(), b"aa01058001a2b3c402012506140930152d0bLS\r\n");
    assert_eq!(last.flags, ReadFlags { last_seen: true, ..ReadFlags::default() });
}

#[test]
fn second_example_reader_zero() {
    let read = single_read(ipico(), REPORT_2);
    assert_eq!(read.chip, "000000abcdef");
    assert_eq!(read.reader_time, Some(ReaderTime::Local(at(9, 31, 2, 70))));
    assert_eq!(
        read.details,
        ReadDetails::Ipico(IpicoDetails {
            reader_id: 0x00,
            i_counter: 0x01,
            q_counter: 0x00,
            tto: None,
            suffix: None,
        })
    );
}

#[test]
fn tto_flag_bits_mark_first_and_last_seen() {
    // TTO index 00, page 01, flags 0x80 (bit 7 = first seen); LRC 0x34 computed.
    let read = single_read(ipico(), b"aa01058001a2b3c402012506140930152d00018034\r\n");
    assert_eq!(read.flags, ReadFlags { first_seen: true, ..ReadFlags::default() });
    let ReadDetails::Ipico(details) = read.details else { panic!() };
    assert_eq!(details.tto, Some(IpicoTto { index: 0x00, page: 0x01, flags: 0x80 }));
    // Flags 0x40 (bit 6 = last seen) plus the LS suffix: 44 characters.
    let read = single_read(ipico(), b"aa01058001a2b3c402012506140930152d00014030LS\r\n");
    assert_eq!(read.flags, ReadFlags { last_seen: true, ..ReadFlags::default() });
}

#[test]
fn bad_lrc_is_rejected_with_both_values() {
    let line = b"aa01058001a2b3c402012506140930152d0c\r\n";
    assert_eq!(
        single_rejection(ipico(), line),
        Rejected {
            reason: RejectReason::BadChecksum { expected: 0x0b, got: 0x0c },
            raw: line.to_vec(),
        }
    );
    // One changed character inside the covered range.
    let line = b"aa01058001a2b3c402012506140930162d0b\r\n";
    assert!(matches!(
        single_rejection(ipico(), line).reason,
        RejectReason::BadChecksum { expected: 0x0c, got: 0x0b }
    ));
}

#[test]
fn wrong_lengths_and_fields_are_rejected() {
    // Trident's 40-character clone is not IPICO.
    let trident = b"aaA1058001a2b3c40001250614093015450000FS\r\n";
    assert_eq!(
        single_rejection(ipico(), trident).reason,
        RejectReason::BadLength { expected: "36, 38, 42 or 44 characters", got: 40 }
    );
    // Unknown suffix.
    assert!(matches!(
        single_rejection(ipico(), b"aa01058001a2b3c402012506140930152d0bXX\r\n").reason,
        RejectReason::BadField { field: "FS/LS suffix", .. }
    ));
    // Hundredths 0x64 = 100 is out of range (LRC recomputed: 0x0b - 0x2d + 0x64 chars).
    let body = "aa01058001a2b3c4020125061409301564";
    let lrc = body.bytes().skip(2).fold(0u8, |s, b| s.wrapping_add(b));
    let line = format!("{body}{lrc:02x}\r\n");
    assert!(matches!(
        single_rejection(ipico(), line.as_bytes()).reason,
        RejectReason::BadField { field: "hundredths", .. }
    ));
}

#[test]
fn control_frames_decode() {
    assert_eq!(
        control(single(ipico(), SET_RTC)),
        IpicoControl::Frame(IpicoControlFrame {
            terminal: false,
            reader_id: 0x00,
            length: 0x07,
            instruction: 0x01,
            payload: vec![0x25, 0x06, 0x14, 0x06, 0x09, 0x30, 0x00],
        })
    );
    assert_eq!(
        control(single(ipico(), GET_RTC)),
        IpicoControl::Frame(IpicoControlFrame {
            terminal: false,
            reader_id: 0x00,
            length: 0x00,
            instruction: 0x02,
            payload: vec![],
        })
    );
    let IpicoControl::Frame(query) = control(single(ipico(), b"ab00ff0995\r\n")) else { panic!() };
    assert!(query.is_query());
    assert_eq!(query.instruction, 0x09);
    assert_eq!(query.error(), None);

    let bad = b"ab00070125061406093000ed\r\n";
    assert_eq!(
        single_rejection(ipico(), bad).reason,
        RejectReason::BadChecksum { expected: 0xec, got: 0xed }
    );
}

#[test]
fn get_rtc_reply_gives_the_reader_clock() {
    // 7 BCD bytes 2025-06-14 (Sat) 09:30:15, 10-ms count 0x45 = 69, config byte 00.
    let IpicoControl::Frame(reply) = control(single(ipico(), b"ab000902250614060930154500be\r\n"))
    else {
        panic!()
    };
    assert_eq!(reply.clock(), Some(at(9, 30, 15, 690)));
}

#[test]
fn trigger_button_event_is_a_gun_marker_with_its_time() {
    // A real `2c` event: the trigger button pressed at 2026-03-06 20:04:15.270 (rusty-timer
    // guntime.pcapng, shared/real-frames/ipico-rustytimer-guntime): 7 BCD bytes, the 10-ms count
    // 0x1b = 27, config byte 0x27, an event byte 0x82.
    let line = b"ab000a2c260306052004151b2782ae\r\n";
    let IpicoControl::Trigger { at, frame } = control(single(ipico(), line)) else {
        panic!("not a trigger: {:?}", whole(ipico(), line))
    };
    let when = NaiveDate::from_ymd_opt(2026, 3, 6).unwrap().and_hms_milli_opt(20, 4, 15, 270);
    assert_eq!(Some(at), when);
    assert_eq!((frame.reader_id, frame.instruction), (0, 0x2c));
    assert_eq!(frame.payload, [0x26, 0x03, 0x06, 0x05, 0x20, 0x04, 0x15, 0x1b, 0x27, 0x82]);
    assert_eq!(frame.clock(), None, "not a clock reply");
    assert!(reads(&whole(ipico(), line)).is_empty(), "a marker, not a tag read");

    // A 2c frame whose time is no time stays a plain control frame, never rejected.
    let odd = command::control_frame(0, 0x2c, &[0x26, 0x13, 0x06, 0x05, 0x20, 0x04, 0x15, 0x1b]);
    assert!(
        matches!(control(single(ipico(), &odd)), IpicoControl::Frame(f) if f.instruction == 0x2c)
    );
    // In a stream, in any pieces.
    let mut stream = REPORT.to_vec();
    stream.extend_from_slice(line);
    stream.extend_from_slice(REPORT_2);
    assert_every_split_same(ipico(), &stream, BUFFER_LIMIT);
}

#[test]
fn banner_text_is_control_and_garbage_is_rejected() {
    assert_eq!(
        control(single(ipico(), b"IPICO Lite Reader v2.3\r\n")),
        IpicoControl::Text("IPICO Lite Reader v2.3".into())
    );
    assert_eq!(single_rejection(ipico(), b"\x00\x01\xff\r\n").reason, RejectReason::Garbage);
    assert!(whole(ipico(), b"\r\n\r\n").is_empty(), "empty lines are ignored");
}

#[test]
fn garbage_between_and_merged_frames() {
    let mut stream = b"\xff\xfe\r\nnoise".to_vec();
    stream.extend_from_slice(b"\r\n");
    stream.extend_from_slice(REPORT);
    stream.extend_from_slice(REPORT_2);
    stream.extend_from_slice(b"aa01058001a2b3c402012506140930152d0c\r\n");
    stream.extend_from_slice(REPORT_FS);
    let out = whole(ipico(), &stream);
    let chips: Vec<&str> = reads(&out).iter().map(|r| r.chip.as_str()).collect();
    assert_eq!(chips, ["058001a2b3c4", "000000abcdef", "058001a2b3c4"]);
    assert_eq!(rejections(&out).len(), 2);
    assert_eq!(out.len(), 6); // garbage, text "noise", 3 reads, bad LRC
    let raw: Vec<u8> = out.iter().flat_map(|d| d.raw().to_vec()).collect();
    assert_eq!(raw, stream, "every byte is kept, in order");
    assert_every_split_same(ipico(), &stream, BUFFER_LIMIT);
}

#[test]
fn endless_line_is_cut_as_too_long() {
    let mut stream = vec![b'a'; 1000];
    stream.extend_from_slice(b"\r\n");
    stream.extend_from_slice(REPORT);
    let out = whole(ipico(), &stream);
    let rejected = rejections(&out);
    assert_eq!(rejected.len(), 4); // 256 + 256 + 256 + 234 bytes
    assert!(rejected.iter().all(|r| r.reason == RejectReason::TooLong { limit: ipico::MAX_LINE }));
    assert_eq!(rejected[0].raw.len(), ipico::MAX_LINE);
    assert_eq!(reads(&out).len(), 1);
}

#[test]
fn trailing_line_without_terminator_decodes_at_finish() {
    let read = single_read(ipico(), &REPORT[..36]);
    assert_eq!(read.chip, "058001a2b3c4");
    assert_eq!(read.raw, &REPORT[..36]);
}

#[test]
fn commands_match_the_documented_bytes() {
    let at = NaiveDate::from_ymd_opt(2025, 6, 14).unwrap().and_hms_opt(9, 30, 0).unwrap();
    assert_eq!(command::set_clock(0, at), SET_RTC);
    assert_eq!(command::get_clock(0), GET_RTC);
    assert_eq!(command::query(0, command::READ_MODE), b"ab00ff0995\r\n");
    assert_eq!(
        command::control_frame(0, 0x01, &[0x25, 0x06, 0x14, 0x06, 0x09, 0x30, 0x00]),
        SET_RTC
    );
    assert_eq!(command::elite_get_date(), b"getdate\n");
    assert_eq!(command::elite_set_date(at), b"setdate.25061409:30:00\n");
    assert_eq!(
        command::elite_replay(command::EliteReader::First, 10300, Some(at)),
        b"replay_start file.ttyS0 port.10300 datetime.250614093000\n"
    );
    assert_eq!(
        command::elite_replay(command::EliteReader::Second, 10300, None),
        b"replay_start file.ttyS1 port.10300\n"
    );
}

fn examples() -> Vec<Vec<u8>> {
    [REPORT, REPORT_FS, REPORT_2, SET_RTC, GET_RTC, b"banner text\r\n".as_slice()]
        .iter()
        .map(|f| f.to_vec())
        .collect()
}

decoder_properties!(ipico(), BUFFER_LIMIT, noisy: examples());

proptest! {
    #![proptest_config(config())]


    #[test]
    fn valid_streams_give_every_read(picks in prop::collection::vec(0usize..3, 1..20), cuts in cuts()) {
        let frames = [REPORT, REPORT_FS, REPORT_2];
        let stream: Vec<u8> = picks.iter().flat_map(|i| frames[*i].to_vec()).collect();
        let out = in_pieces(ipico(), &stream, &cuts, BUFFER_LIMIT);
        prop_assert_eq!(reads(&out).len(), picks.len());
        prop_assert_eq!(out.len(), picks.len());
    }
}
