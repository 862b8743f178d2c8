//! ALGE Timy decoder and commands against readers.md §10a: lines with and without checksum, both
//! decimal separators, both channel cases, keypad channels, replies, garbage and chunking.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests stop loudly
#![allow(clippy::panic, clippy::indexing_slicing)] // and so do their helpers

mod common;

use std::time::Duration;

use chrono::NaiveTime;
use common::*;
use proptest::prelude::*;
use timing_readers::timy::{
    self, BUFFER_LIMIT, TimyChannel, TimyControl, TimyDetails, TimyInfo, TimyTimeKind, command,
};
use timing_readers::{
    ControlMessage, Decoded, Protocol, ReadDetails, ReadFlags, ReaderTime, RejectReason, Rejected,
    ReplayKey, TagRead,
};

const WITH_SUM: &[u8] = b" 0012 C1  10:02:33.4567 00=8\r";
const NO_ID: &[u8] = b"?0013 C1  10:02:35.1200 00>7\r";
const NO_SUM: &[u8] = b" 0012 C1  10:02:33.4567 00\r";
const COMMA_MEMORY: &[u8] = b"m0012 c1  10:02:33,4567 0043\r";
const KEYPAD: &[u8] = b" 0014 c0M 10:03:00.12   00>>\r";
const SUPPRESSED: &[u8] = b"   15 C2  10:04:00.0000 00:2\r";

fn decoder() -> Make {
    make(Protocol::Timy)
}

fn time(h: u32, m: u32, s: u32, micro: u32) -> NaiveTime {
    NaiveTime::from_hms_micro_opt(h, m, s, micro).unwrap()
}

const C1: TimyChannel = TimyChannel { number: 1, manual: false };

#[test]
fn checksummed_line_decodes_to_the_documented_fields() {
    let t = time(10, 2, 33, 456_700);
    assert_eq!(
        single_read(decoder(), WITH_SUM),
        TagRead {
            chip: String::new(),
            bib: None,
            antenna: Some(1),
            rssi: None,
            reader_time: Some(ReaderTime::TimeOfDay(t)),
            replay_key: Some(ReplayKey::Timy { number: 12, channel: C1, time: t }),
            flags: ReadFlags::default(),
            details: ReadDetails::Timy(TimyDetails {
                info: TimyInfo::Normal,
                number: 12,
                channel: C1,
                group: 0,
                checksummed: true,
                course: None,
            }),
            raw: WITH_SUM.to_vec(),
        }
    );
}

#[test]
fn time_without_valid_id() {
    let read = single_read(decoder(), NO_ID);
    let t = time(10, 2, 35, 120_000);
    assert_eq!(read.reader_time, Some(ReaderTime::TimeOfDay(t)));
    assert_eq!(
        read.details,
        ReadDetails::Timy(TimyDetails {
            info: TimyInfo::NoValidId,
            number: 13,
            channel: C1,
            group: 0,
            checksummed: true,
            course: None,
        })
    );
}

#[test]
fn line_without_checksum() {
    let read = single_read(decoder(), NO_SUM);
    assert_eq!(read.reader_time, Some(ReaderTime::TimeOfDay(time(10, 2, 33, 456_700))));
    let ReadDetails::Timy(details) = read.details else { panic!() };
    assert!(!details.checksummed);
    assert_eq!(details.number, 12);
}

#[test]
fn comma_separator_lower_case_channel_and_memory_flag() {
    let read = single_read(decoder(), COMMA_MEMORY);
    assert_eq!(read.reader_time, Some(ReaderTime::TimeOfDay(time(10, 2, 33, 456_700))));
    assert_eq!(read.flags, ReadFlags { from_memory: true, ..ReadFlags::default() });
    assert_eq!(
        read.details,
        ReadDetails::Timy(TimyDetails {
            info: TimyInfo::FromMemory,
            number: 12,
            channel: C1,
            group: 0,
            checksummed: true,
            course: None,
        })
    );
}

#[test]
fn keypad_channel_and_suppressed_zeros() {
    let keypad = single_read(decoder(), KEYPAD);
    assert_eq!(keypad.antenna, Some(0));
    assert_eq!(keypad.reader_time, Some(ReaderTime::TimeOfDay(time(10, 3, 0, 120_000))));
    let ReadDetails::Timy(details) = keypad.details else { panic!() };
    assert_eq!(details.channel, TimyChannel { number: 0, manual: true });

    let read = single_read(decoder(), SUPPRESSED);
    let ReadDetails::Timy(details) = read.details else { panic!() };
    assert_eq!(details.number, 15);
    assert_eq!(details.channel, TimyChannel { number: 2, manual: false });
}

#[test]
fn bad_checksum_is_rejected_with_both_values() {
    let line = b" 0012 C1  10:02:33.4567 00=9\r";
    assert_eq!(
        single_rejection(decoder(), line),
        Rejected {
            reason: RejectReason::BadChecksum { expected: 0xD8, got: 0xD9 },
            raw: line.to_vec(),
        }
    );
    assert_eq!(timy::checksum(b" 0012 C1  10:02:33.4567 00"), *b"=8");
}

#[test]
fn replies_are_control_and_bad_impulses_rejected() {
    let reply = |bytes: &[u8]| match single(decoder(), bytes) {
        Decoded::Control(c) => match c.message {
            ControlMessage::Timy(TimyControl::Reply(text)) => text,
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    };
    assert_eq!(reply(b"HW_SN 123456\r"), "HW_SN 123456");
    assert_eq!(reply(b"PROG: RACE\r"), "PROG: RACE");
    assert_eq!(reply(b"CLR\r"), "CLR");
    assert!(matches!(
        single_rejection(decoder(), b" 0012 C1  25:02:33.4567 00\r").reason,
        RejectReason::BadField { field: "time", .. }
    ));
    assert_eq!(single_rejection(decoder(), b"\x01\x02\xff\r").reason, RejectReason::Garbage);
}

// Real ALGE TdC 8001 output (RaceHorology's logs and parser tests, shared/real-frames/timy-*):
// a parallel-slalom course letter in column 5, computed run/total/difference times, 1–4
// decimals padded with blanks, printout lines.

#[test]
fn course_letter_in_column_5_is_an_impulse_of_that_course() {
    let read = single_read(decoder(), b" 0016rC0  19:52:15.1620 09\r");
    let t = time(19, 52, 15, 162_000);
    assert_eq!(read.reader_time, Some(ReaderTime::TimeOfDay(t)));
    assert_eq!(read.antenna, Some(0));
    let c0 = TimyChannel { number: 0, manual: false };
    assert_eq!(read.replay_key, Some(ReplayKey::Timy { number: 16, channel: c0, time: t }));
    assert_eq!(
        read.details,
        ReadDetails::Timy(TimyDetails {
            info: TimyInfo::Normal,
            number: 16,
            channel: c0,
            group: 9,
            checksummed: false,
            course: Some('r'),
        })
    );
    let blue = single_read(decoder(), b" 0015bC3  19:52:15.1620 09\r");
    let ReadDetails::Timy(details) = blue.details else { panic!() };
    assert_eq!((details.number, details.channel.number, details.course), (15, 3, Some('b')));
}

fn computed(bytes: &[u8]) -> TimyControl {
    match single(decoder(), bytes) {
        Decoded::Control(c) => match c.message {
            ControlMessage::Timy(control) => control,
            other => panic!("{other:?}"),
        },
        other => panic!("expected a control, got {other:?}"),
    }
}

#[test]
fn run_total_and_difference_times_are_controls_not_reads() {
    assert_eq!(
        computed(b" 0041 RT  00:01:02.35   00\r"),
        TimyControl::Computed {
            info: TimyInfo::Normal,
            number: 41,
            course: None,
            kind: TimyTimeKind::Run,
            word: "RT".into(),
            time: Duration::from_millis(62_350),
        }
    );
    assert_eq!(
        computed(b" 0041 TT  00:02:05.10   00\r"),
        TimyControl::Computed {
            info: TimyInfo::Normal,
            number: 41,
            course: None,
            kind: TimyTimeKind::Total,
            word: "TT".into(),
            time: Duration::from_millis(125_100),
        }
    );
    assert_eq!(
        computed(b" 0016rRT  00:00:05.22   09\r"),
        TimyControl::Computed {
            info: TimyInfo::Normal,
            number: 16,
            course: Some('r'),
            kind: TimyTimeKind::Run,
            word: "RT".into(),
            time: Duration::from_millis(5_220),
        }
    );
    assert_eq!(
        computed(b" 0016rDTR 00:00:03.01   09\r"),
        TimyControl::Computed {
            info: TimyInfo::Normal,
            number: 16,
            course: Some('r'),
            kind: TimyTimeKind::Difference,
            word: "DTR".into(),
            time: Duration::from_millis(3_010),
        }
    );
    // A classement printout line: rank after the group.
    assert_eq!(
        computed(b" 0004 RTM 00:00:13.89   00 0003\r"),
        TimyControl::Computed {
            info: TimyInfo::Normal,
            number: 4,
            course: None,
            kind: TimyTimeKind::Run,
            word: "RTM".into(),
            time: Duration::from_millis(13_890),
        }
    );
    let TimyControl::Computed { info, kind, .. } = computed(b"i0131 TT  00:01:49.30   00\r") else {
        panic!()
    };
    assert_eq!((info, kind), (TimyInfo::ManualInput, TimyTimeKind::Total));
}

#[test]
fn one_to_four_decimals_padded_with_blanks() {
    for (line, micro) in [
        (b"?0034 C1M 21:46:48.1230 00\r".as_slice(), 123_000),
        (b"?0034 C1M 21:46:48.123  00\r", 123_000),
        (b"?0034 C1M 21:46:48.12   00\r", 120_000),
        (b"?0034 C1M 21:46:48.1    00\r", 100_000),
    ] {
        let read = single_read(decoder(), line);
        assert_eq!(read.reader_time, Some(ReaderTime::TimeOfDay(time(21, 46, 48, micro))));
    }
}

#[test]
fn printout_and_entry_lines_are_text_never_rejected() {
    let mut stream = Vec::new();
    for line in [
        "n0034",
        "n0000b",
        "s0003",
        "CLASSEMENT:",
        "ALL",
        "RUN TIME",
        "  ALGE TIMING",
        "   TdC  8001",
        "  DEU V 18.92",
        "21-11-28  17:04",
    ] {
        stream.extend_from_slice(line.as_bytes());
        stream.push(b'\r');
    }
    stream.extend_from_slice(b"                                \r");
    let out = whole(decoder(), &stream);
    assert_eq!(out.len(), 10, "the blank line makes nothing: {out:#?}");
    assert!(out.iter().all(|d| matches!(d, Decoded::Control(_))), "{out:#?}");
}

#[test]
fn a_race_log_decodes_the_same_in_any_pieces() {
    let stream: &[u8] =
        b" 0016rC0  19:52:15.1620 09\r 0015bC3  19:52:15.1620 09\r 0016rRT  00:00:05.22   09\r\
        ?0034 C1M 21:46:48.12   00\r 0001 RTM 00:00:13.39   00 0001\rCLASSEMENT:\r";
    let out = whole(decoder(), stream);
    assert_eq!(reads(&out).len(), 3);
    assert_eq!(out.len(), 6);
    assert_every_split_same(decoder(), stream, BUFFER_LIMIT);
}

#[test]
fn crlf_line_ends_count_once() {
    let out = whole(decoder(), b" 0012 C1  10:02:33.4567 00=8\r\n?0013 C1  10:02:35.1200 00>7\r\n");
    assert_eq!(reads(&out).len(), 2);
    assert_eq!(out.len(), 2);
}

#[test]
fn garbage_between_and_merged_lines() {
    let mut stream = b"\x00\xfe\r".to_vec();
    stream.extend_from_slice(WITH_SUM);
    stream.extend_from_slice(NO_ID);
    stream.extend_from_slice(b"NSF 2.1\r");
    stream.extend_from_slice(COMMA_MEMORY);
    stream.extend_from_slice(b" 0012 C1  10:02:33.4567 00=9\r");
    stream.extend_from_slice(KEYPAD);
    let out = whole(decoder(), &stream);
    assert_eq!(reads(&out).len(), 4);
    assert_eq!(rejections(&out).len(), 2);
    assert_eq!(out.len(), 7);
    let raw: Vec<u8> = out.iter().flat_map(|d| d.raw().to_vec()).collect();
    assert_eq!(raw, stream);
    assert_every_split_same(decoder(), &stream, BUFFER_LIMIT);
}

#[test]
fn endless_line_is_cut_as_too_long() {
    let mut stream = vec![b' '; 300];
    stream.extend_from_slice(b"\r");
    stream.extend_from_slice(WITH_SUM);
    let out = whole(decoder(), &stream);
    assert_eq!(reads(&out).len(), 1);
    assert_eq!(rejections(&out).len(), 3);
    assert!(
        rejections(&out)
            .iter()
            .all(|r| r.reason == RejectReason::TooLong { limit: timy::MAX_LINE })
    );
}

#[test]
fn commands_match_the_documented_bytes() {
    assert_eq!(command::init(), b"TIMYINIT\r");
    assert_eq!(command::version(), b"NSF?\r");
    assert_eq!(command::program(), b"PROG?\r");
    assert_eq!(command::checksum_on(), b"CHK1\r");
    assert_eq!(command::precision_ten_thousandths(), b"PRE4\r");
    assert_eq!(command::cut_rounding(), b"RR0\r");
    assert_eq!(command::key_lock(true), b"KL1\r");
    assert_eq!(command::resend_memory(), b"RSM\r");
    assert_eq!(command::clear_memory(), b"CLR\r");
    assert_eq!(command::command("DTS02.00"), b"DTS02.00\r");
}

fn examples() -> Vec<Vec<u8>> {
    [WITH_SUM, NO_ID, NO_SUM, COMMA_MEMORY, KEYPAD, SUPPRESSED, b"CLR\r".as_slice()]
        .iter()
        .map(|f| f.to_vec())
        .collect()
}

decoder_properties!(decoder(), BUFFER_LIMIT, noisy: examples());

proptest! {
    #![proptest_config(config())]


    #[test]
    fn valid_streams_give_every_read(picks in prop::collection::vec(0usize..6, 1..20), cuts in cuts()) {
        let frames = [WITH_SUM, NO_ID, NO_SUM, COMMA_MEMORY, KEYPAD, SUPPRESSED];
        let stream: Vec<u8> = picks.iter().flat_map(|i| frames[*i].to_vec()).collect();
        let out = in_pieces(decoder(), &stream, &cuts, BUFFER_LIMIT);
        prop_assert_eq!(reads(&out).len(), picks.len());
        prop_assert_eq!(out.len(), picks.len());
    }
}
