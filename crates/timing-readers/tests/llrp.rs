//! LLRP command encoders against the golden vectors of readers.md §3 and the spec's layouts,
//! the decoder against the synthetic frames, bad parts, garbage, resync and chunking, and
//! round trips through the pure reader model.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests stop loudly
#![allow(clippy::panic, clippy::indexing_slicing)] // and so do their helpers

mod common;

use chrono::{DateTime, Utc};
use common::*;
use proptest::prelude::*;
use timing_readers::llrp::command::{self, AntennaSetting, ReaderSettings, content, event};
use timing_readers::llrp::model::{
    self, LlrpReader, ModelRead, ReaderModelConfig, RoSpecState, epc_parameter,
};
use timing_readers::llrp::{
    AntennaInfo, BUFFER_LIMIT, ConnectionAttempt, LlrpControl, LlrpDecoder, LlrpDetails,
    LlrpStatus, message_type as mt, status,
};
use timing_readers::{
    ControlMessage, Decoded, Decoder, ReadDetails, ReadFlags, ReaderTime, RejectReason, Rejected,
    ReplayKey, Rssi, TagRead,
};

const EPC: &str = "E2801170000002012345ABCD";
const FIRST_SEEN_US: u64 = 1_749_893_415_450_123;

/// readers.md §3: RO_ACCESS_REPORT, one tag, antenna 2, −58 dBm, first seen 2025-06-14T09:30:15.450123Z.
const REPORT: &str = "04 3D 00 00 00 29 00 00 00 00 \
    00 F0 00 1F \
    8D E2 80 11 70 00 00 02 01 23 45 AB CD \
    81 00 02 \
    86 C6 \
    82 00 06 37 84 CF 6C 36 0B";
/// readers.md §3: READER_EVENT_NOTIFICATION with ConnectionAttemptEvent success.
const CONNECTED: &str = "04 3F 00 00 00 20 00 00 00 00 00 F6 00 16 00 80 00 0C 00 06 37 84 CF 6C 36 0B \
    01 00 00 06 00 00";
/// readers.md §3: KEEPALIVE id 0x11.
const KEEPALIVE: &str = "04 3E 00 00 00 0A 00 00 00 11";
/// ENABLE_ROSPEC_RESPONSE id 4 with readers.md's success LLRPStatus body.
const ENABLE_RESPONSE: &str = "04 22 00 00 00 12 00 00 00 04 01 1F 00 08 00 00 00 00";
/// ERROR_MESSAGE id 9: M_UnsupportedMessage "no GET_REPORT".
const ERROR: &str = "04 64 00 00 00 1F 00 00 00 09 01 1F 00 15 00 6D 00 0D \
    6E 6F 20 47 45 54 5F 52 45 50 4F 52 54";

/// [`EPC`] as bytes.
fn epc_bytes() -> Vec<u8> {
    (0..EPC.len()).step_by(2).map(|i| u8::from_str_radix(&EPC[i..i + 2], 16).unwrap()).collect()
}

fn make_decoder() -> Box<dyn Decoder> {
    Box::new(LlrpDecoder::new())
}

fn decoder() -> Make {
    make_decoder
}

fn at(us: u64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(i64::try_from(us).unwrap()).unwrap()
}

fn control(decoded: &Decoded) -> LlrpControl {
    match decoded {
        Decoded::Control(c) => match &c.message {
            ControlMessage::Llrp(m) => m.clone(),
            other => panic!("not LLRP: {other:?}"),
        },
        other => panic!("expected control, got {other:?}"),
    }
}

fn details(read: &TagRead) -> &LlrpDetails {
    match &read.details {
        ReadDetails::Llrp(d) => d,
        other => panic!("not LLRP: {other:?}"),
    }
}

fn decode(bytes: &[u8]) -> Vec<Decoded> {
    whole(decoder(), bytes)
}

/// An RO_ACCESS_REPORT of these TagReportData bodies (already TLV-wrapped or not).
fn report(id: u32, tags: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = tags.iter().flat_map(|t| command::tlv(240, t)).collect();
    command::message(mt::RO_ACCESS_REPORT, id, &body)
}

fn tag_body(epc: &[u8], antenna: u16, rssi: i8, first_seen: u64) -> Vec<u8> {
    let mut t = epc_parameter(epc);
    t.extend(command::tv(1, &antenna.to_be_bytes()));
    t.extend(command::tv(6, &rssi.to_be_bytes()));
    t.extend(command::tv(2, &first_seen.to_be_bytes()));
    t
}

/// Every item's raw bytes are the next bytes of the stream, or the same message as the item
/// before (reads and rejections that share one RO_ACCESS_REPORT).
fn assert_raw_covers(out: &[Decoded], stream: &[u8]) {
    let mut pos = 0;
    let mut previous: Option<&[u8]> = None;
    for item in out {
        let raw = item.raw();
        if stream[pos..].starts_with(raw) && !raw.is_empty() {
            pos += raw.len();
        } else {
            assert_eq!(Some(raw), previous, "raw bytes neither next nor shared: {item:?}");
        }
        previous = Some(raw);
    }
    assert_eq!(pos, stream.len(), "every byte is kept, in order");
}

// ---------------------------------------------------------------------------------------------
// Encoders

#[test]
fn golden_vectors_from_the_brief_hold_byte_for_byte() {
    assert_eq!(command::enable_rospec(4, 1), hex("04 18 00 00 00 0E 00 00 00 04 00 00 00 01"));
    assert_eq!(command::close_connection(9), hex("04 0E 00 00 00 0A 00 00 00 09"));
    let keepalive = ReaderSettings { keepalive_ms: Some(5000), ..ReaderSettings::default() };
    assert_eq!(
        command::set_reader_config(2, &keepalive),
        hex("04 03 00 00 00 14 00 00 00 02 00 00 DC 00 09 01 00 00 13 88")
    );
    assert_eq!(command::keepalive_ack(0x11), hex("04 48 00 00 00 0A 00 00 00 11"));
    assert_eq!(command::start_rospec(3, 1), hex("04 16 00 00 00 0E 00 00 00 03 00 00 00 01"));
}

#[test]
fn simple_requests_have_the_spec_layouts() {
    assert_eq!(command::get_reader_capabilities(1), hex("04 01 00 00 00 0B 00 00 00 01 00"));
    assert_eq!(
        command::get_reader_config(1),
        hex("04 02 00 00 00 11 00 00 00 01 00 00 00 00 00 00 00")
    );
    assert_eq!(command::delete_accessspec(5, 0), hex("04 29 00 00 00 0E 00 00 00 05 00 00 00 00"));
    assert_eq!(command::delete_rospec(6, 0), hex("04 15 00 00 00 0E 00 00 00 06 00 00 00 00"));
    assert_eq!(command::stop_rospec(7, 1), hex("04 17 00 00 00 0E 00 00 00 07 00 00 00 01"));
    assert_eq!(command::disable_rospec(8, 1), hex("04 19 00 00 00 0E 00 00 00 08 00 00 00 01"));
    assert_eq!(command::enable_events_and_reports(10), hex("04 40 00 00 00 0A 00 00 00 0A"));
    assert_eq!(command::message(62, 0x11, &[]), hex(KEEPALIVE));
}

#[test]
fn add_rospec_nests_as_the_spec_says() {
    let expected = hex("04 14 00 00 00 50 00 00 00 07 \
         00 B1 00 46 00 00 00 01 00 00 \
           00 B2 00 12 \
             00 B3 00 05 01 \
             00 B6 00 09 00 00 00 00 00 \
           00 B7 00 18 00 01 00 00 \
             00 B8 00 09 00 00 00 00 00 \
             00 BA 00 07 00 01 01 \
           00 ED 00 12 02 00 01 \
             00 EE 00 0B 97 80 \
               01 5C 00 05 00");
    assert_eq!(command::add_rospec(7, 1, command::DEFAULT_REPORT_N), expected);
    assert_eq!(content::TIMING, 0x9780);
    // N is the u16 after the trigger.
    let n5 = command::add_rospec(7, 1, 5);
    assert_eq!(&n5[62..69], &[0x00, 0xED, 0x00, 0x12, 0x02, 0x00, 0x05]);
}

#[test]
fn set_reader_config_orders_its_parameters_like_the_spec() {
    let settings = ReaderSettings {
        reset_to_factory_default: true,
        keepalive_ms: Some(10_000),
        event_notifications: vec![(event::ANTENNA, true)],
        antennas: vec![AntennaSetting::new(1).with_receive_sensitivity(5).with_transmit_power(60)],
        hold_events_and_reports: Some(false),
    };
    assert_eq!(
        command::set_reader_config(8, &settings),
        hex("04 03 00 00 00 3A 00 00 00 08 80 \
             00 F4 00 0B 00 F5 00 07 00 08 80 \
             00 DE 00 16 00 01 00 DF 00 06 00 05 00 E0 00 0A 00 01 00 01 00 3C \
             00 DC 00 09 01 00 00 27 10 \
             00 E2 00 05 00")
    );
    // An antenna with nothing to set is a bare AntennaConfiguration.
    assert_eq!(command::antenna_configuration(&AntennaSetting::new(2)), hex("00 DE 00 06 00 02"));
}

// ---------------------------------------------------------------------------------------------
// Decoder: the synthetic frames of readers.md

fn documented_read(raw: Vec<u8>) -> TagRead {
    TagRead {
        chip: EPC.into(),
        bib: None,
        antenna: Some(2),
        rssi: Some(Rssi::Dbm(-58)),
        reader_time: Some(ReaderTime::Utc(at(FIRST_SEEN_US))),
        replay_key: Some(ReplayKey::Llrp {
            epc: EPC.into(),
            antenna: 2,
            first_seen_us: FIRST_SEEN_US,
        }),
        flags: ReadFlags::default(),
        details: ReadDetails::Llrp(LlrpDetails {
            message_id: 0,
            epc_bits: 96,
            antenna_id: Some(2),
            peak_rssi: Some(-58),
            ..LlrpDetails::default()
        }),
        raw,
    }
}

#[test]
fn documented_tag_report_decodes_to_the_documented_fields() {
    assert_eq!(single_read(decoder(), &hex(REPORT)), documented_read(hex(REPORT)));
    assert_eq!(
        at(FIRST_SEEN_US).to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "2025-06-14T09:30:15.450123Z"
    );
}

#[test]
fn epc_data_of_96_bits_reads_like_epc_96() {
    let mut tag = hex("00 F1 00 12 00 60 E2 80 11 70 00 00 02 01 23 45 AB CD");
    tag.extend(hex("81 00 02 86 C6 82 00 06 37 84 CF 6C 36 0B"));
    let frame = report(0, &[tag]);
    assert_eq!(frame.len(), 46);
    assert_eq!(single_read(decoder(), &frame), documented_read(frame.clone()));
}

#[test]
fn epc_data_of_other_lengths() {
    let long: Vec<u8> = (0x10..0x20).collect();
    let short = hex("30 08 33 B2 DD D9 01 40");
    let frame = report(5, &[tag_body(&long, 1, -40, 1), tag_body(&short, 3, -70, 2)]);
    let out = decode(&frame);
    let reads = reads(&out);
    assert_eq!(reads.len(), 2);
    assert_eq!(reads[0].chip, "101112131415161718191A1B1C1D1E1F");
    assert_eq!(details(reads[0]).epc_bits, 128);
    assert_eq!(reads[1].chip, "300833B2DDD90140");
    assert_eq!(details(reads[1]).epc_bits, 64);
    assert_eq!(reads[1].antenna, Some(3));
    assert!(reads.iter().all(|r| r.raw == frame && details(r).message_id == 5));
    // 12 bits: hex of the two bytes that hold them.
    let odd = report(0, &[hex("00 F1 00 08 00 0C AB C0")]);
    assert_eq!(single_read(decoder(), &odd).chip, "ABC0");
    assert_eq!(details(&single_read(decoder(), &odd)).epc_bits, 12);
}

#[test]
fn several_tags_in_one_report_each_carry_the_whole_message() {
    let frame = report(
        3,
        &[
            tag_body(&epc_bytes(), 1, -50, 10),
            tag_body(&epc_bytes(), 2, -60, 11),
            tag_body(&[0xAA; 12], 4, -45, 12),
        ],
    );
    let out = decode(&frame);
    assert_eq!(out.len(), 3);
    let reads = reads(&out);
    assert_eq!(reads.iter().map(|r| r.antenna).collect::<Vec<_>>(), [Some(1), Some(2), Some(4)]);
    assert_eq!(reads[2].chip, "AAAAAAAAAAAAAAAAAAAAAAAA");
    assert!(reads.iter().all(|r| r.raw == frame));
    assert_eq!(
        reads[1].replay_key,
        Some(ReplayKey::Llrp { epc: EPC.into(), antenna: 2, first_seen_us: 11 })
    );
}

#[test]
fn connection_event_keepalive_and_responses_are_control() {
    assert_eq!(
        control(&single(decoder(), &hex(CONNECTED))),
        LlrpControl::ReaderEvent {
            id: 0,
            utc: Some(at(FIRST_SEEN_US)),
            uptime_us: None,
            connection: Some(ConnectionAttempt::Success),
            antenna_events: vec![],
            connection_close: false,
        }
    );
    assert_eq!(control(&single(decoder(), &hex(KEEPALIVE))), LlrpControl::Keepalive { id: 0x11 });
    assert_eq!(
        control(&single(decoder(), &hex(ENABLE_RESPONSE))),
        LlrpControl::Response { message_type: 34, id: 4, status: LlrpStatus::success() }
    );
    let other = single(decoder(), &command::get_reader_config(3));
    assert_eq!(control(&other), LlrpControl::Other { message_type: 2, id: 3 });
    assert_eq!(other.raw(), &command::get_reader_config(3)[..]);
    // A report without tags is control too.
    assert_eq!(
        control(&single(decoder(), &report(8, &[]))),
        LlrpControl::Other { message_type: 61, id: 8 }
    );
}

#[test]
fn error_message_carries_its_status_and_text() {
    let LlrpControl::Error { id, status } = control(&single(decoder(), &hex(ERROR))) else {
        panic!("not an error");
    };
    assert_eq!(id, 9);
    assert_eq!(status.code, 109);
    assert!(!status.is_success());
    assert_eq!(status.to_string(), "M_UnsupportedMessage (109): no GET_REPORT");
    assert_eq!(LlrpStatus::success().to_string(), "M_Success");
    let odd = LlrpStatus { code: 999, description: "x".into() };
    assert_eq!(odd.to_string(), "status 999: x");
    assert_eq!(
        LlrpStatus { code: 401, description: String::new() }.to_string(),
        "R_DeviceError (401)"
    );
    assert_eq!(model::error_message(9, 109, "no GET_REPORT"), hex(ERROR));
}

#[test]
fn a_response_without_status_is_rejected() {
    let frame = command::message(34, 1, &[]);
    assert_eq!(
        single_rejection(decoder(), &frame),
        Rejected {
            reason: RejectReason::BadField { field: "LLRPStatus", value: "missing".into() },
            raw: frame,
        }
    );
}

#[test]
fn reader_events_antenna_events_and_connection_close() {
    let frame = model::reader_event_notification(
        5,
        FIRST_SEEN_US,
        Some(ConnectionAttempt::AnotherConnectionAttempted),
        &[(1, true), (3, false)],
        true,
    );
    assert_eq!(
        control(&single(decoder(), &frame)),
        LlrpControl::ReaderEvent {
            id: 5,
            utc: Some(at(FIRST_SEEN_US)),
            uptime_us: None,
            connection: Some(ConnectionAttempt::AnotherConnectionAttempted),
            antenna_events: vec![(1, true), (3, false)],
            connection_close: true,
        }
    );
    // Uptime instead of UTC, an ignored ROSpecEvent, an unknown connection status.
    let data = [
        command::tlv(129, &42u64.to_be_bytes()),
        command::tlv(249, &[0, 0, 0, 0, 1, 0, 0, 0, 0]),
        command::tlv(256, &[0, 9]),
    ]
    .concat();
    let frame = command::message(63, 6, &command::tlv(246, &data));
    let LlrpControl::ReaderEvent { utc, uptime_us, connection, .. } =
        control(&single(decoder(), &frame))
    else {
        panic!("not an event")
    };
    assert_eq!((utc, uptime_us, connection), (None, Some(42), Some(ConnectionAttempt::Unknown(9))));
    assert_eq!(
        ConnectionAttempt::from_code(2),
        ConnectionAttempt::FailedClientInitiatedConnectionExists
    );
    assert_eq!(ConnectionAttempt::FailedReasonOtherThanAConnectionAlreadyExists.code(), 3);
}

// ---------------------------------------------------------------------------------------------
// Decoder: bad parts and odd reports

#[test]
fn a_tag_without_epc_is_rejected_in_its_place_and_the_others_read() {
    let no_epc = hex("81 00 02 86 C6");
    let frame = report(
        1,
        &[tag_body(&epc_bytes(), 1, -50, 10), no_epc, tag_body(&epc_bytes(), 2, -51, 11)],
    );
    let out = decode(&frame);
    assert_eq!(out.len(), 3);
    assert!(matches!(&out[0], Decoded::Read(r) if r.antenna == Some(1)));
    assert_eq!(
        out[1],
        Decoded::Rejected(Rejected {
            reason: RejectReason::BadField { field: "TagReportData", value: "no EPC".into() },
            raw: frame.clone(),
        })
    );
    assert!(matches!(&out[2], Decoded::Read(r) if r.antenna == Some(2)));
    // A 0-bit EPCData is no EPC either.
    let empty = report(1, &[hex("00 F1 00 06 00 00")]);
    assert!(matches!(
        single_rejection(decoder(), &empty).reason,
        RejectReason::BadField { field: "TagReportData", .. }
    ));
}

#[test]
fn an_unknown_tv_rejects_the_whole_message() {
    let mut bad = tag_body(&epc_bytes(), 1, -50, 10);
    bad.extend(hex("E3 00 00"));
    let frame = report(1, &[tag_body(&epc_bytes(), 2, -50, 9), bad]);
    assert_eq!(
        single_rejection(decoder(), &frame),
        Rejected {
            reason: RejectReason::BadField {
                field: "TV parameter type",
                value: "99 (length unknown)".into()
            },
            raw: frame,
        }
    );
}

#[test]
fn a_parameter_longer_than_its_message_rejects_the_message() {
    let mut frame = hex(REPORT);
    frame[13] = 0x40; // TagReportData claims 64 bytes in a 41-byte message
    assert!(matches!(
        single_rejection(decoder(), &frame).reason,
        RejectReason::BadField { field: "parameter length", .. }
    ));
}

#[test]
fn unknown_tlvs_and_custom_parameters_are_skipped() {
    let mut tag = tag_body(&epc_bytes(), 2, -58, FIRST_SEEN_US);
    tag.extend(command::tlv(1023, &hex("00 00 65 1A 00 00 00 38 01 02")));
    tag.extend(command::tlv(900, &[1, 2, 3]));
    let mut body = command::tlv(240, &tag);
    body.extend(command::tlv(1023, &hex("00 00 00 A1 00 00 00 01")));
    body.extend(command::tlv(242, &[]));
    let frame = command::message(61, 0, &body);
    let read = single_read(decoder(), &frame);
    assert_eq!(read.chip, EPC);
    assert_eq!(read.reader_time, Some(ReaderTime::Utc(at(FIRST_SEEN_US))));
}

#[test]
fn all_tag_report_fields_land_in_the_details() {
    let mut tag = hex("8D E2 80 11 70 00 00 02 01 23 45 AB CD");
    tag.extend(hex("89 00 00 00 07")); // ROSpecID 7
    tag.extend(hex("8E 00 01")); // SpecIndex 1
    tag.extend(hex("8A 00 02")); // InventoryParameterSpecID 2
    tag.extend(hex("81 01 2C")); // AntennaID 300
    tag.extend(hex("86 D8")); // PeakRSSI -40
    tag.extend(hex("87 00 05")); // ChannelIndex 5
    tag.extend(hex("83 00 00 00 00 00 00 03 E8")); // FirstSeenUptime 1000
    tag.extend(hex("84 00 06 37 84 CF 6C 36 0C")); // LastSeenUTC
    tag.extend(hex("85 00 00 00 00 00 00 07 D0")); // LastSeenUptime 2000
    tag.extend(hex("88 00 04")); // TagSeenCount 4
    tag.extend(hex("8C 30 00")); // C1G2-PC
    tag.extend(hex("8B AB CD")); // C1G2-CRC
    tag.extend(hex("90 00 00 00 00")); // AccessSpecID 0
    let frame = report(12, &[tag]);
    let read = single_read(decoder(), &frame);
    assert_eq!(read.antenna, None, "300 does not fit");
    // Only Uptime first-seen and a UTC last-seen: the reader time is the last seen, no key.
    assert_eq!(read.reader_time, Some(ReaderTime::Utc(at(FIRST_SEEN_US + 1))));
    assert_eq!(read.replay_key, None);
    assert_eq!(
        *details(&read),
        LlrpDetails {
            message_id: 12,
            epc_bits: 96,
            antenna_id: Some(300),
            last_seen: Some(at(FIRST_SEEN_US + 1)),
            first_seen_uptime_us: Some(1000),
            last_seen_uptime_us: Some(2000),
            seen_count: Some(4),
            rospec_id: Some(7),
            spec_index: Some(1),
            inventory_parameter_spec_id: Some(2),
            channel_index: Some(5),
            peak_rssi: Some(-40),
            access_spec_id: Some(0),
            pc: Some(0x3000),
            crc: Some(0xABCD),
        }
    );
    // Uptime only: no reader time at all.
    let uptime_only =
        report(0, &[hex("8D E2 80 11 70 00 00 02 01 23 45 AB CD 83 00 00 00 00 00 00 03 E8")]);
    let read = single_read(decoder(), &uptime_only);
    assert_eq!((read.reader_time, read.replay_key, read.antenna), (None, None, None));
}

// ---------------------------------------------------------------------------------------------
// Decoder: framing

#[test]
fn garbage_before_and_between_frames_resyncs() {
    let mut stream = hex("FF 00 12 04");
    stream.extend(hex(REPORT));
    stream.extend(hex("00 00 00"));
    stream.extend(hex(KEEPALIVE));
    stream.extend(hex(CONNECTED));
    let out = decode(&stream);
    assert_eq!(out.len(), 5, "{out:#?}");
    // The stray `04` (its length would be 0x3D000000) joins the garbage chunk it ends, which is
    // reported with the reason of its first byte.
    assert_eq!(
        out[0],
        Decoded::Rejected(Rejected { reason: RejectReason::Garbage, raw: hex("FF 00 12 04") })
    );
    assert_eq!(out[1], Decoded::Read(documented_read(hex(REPORT))));
    assert_eq!(
        out[2],
        Decoded::Rejected(Rejected { reason: RejectReason::Garbage, raw: hex("00 00 00") })
    );
    assert_eq!(control(&out[3]), LlrpControl::Keepalive { id: 0x11 });
    assert!(matches!(control(&out[4]), LlrpControl::ReaderEvent { .. }));
    assert_raw_covers(&out, &stream);
    // A chunk that starts with an impossible length says so.
    let out = decode(&[hex("04 3D 7F 00 00 00"), hex(KEEPALIVE)].concat());
    assert_eq!(
        out[0],
        Decoded::Rejected(Rejected {
            reason: RejectReason::BadLength { expected: "10 to 64512 bytes", got: 0x7F00_0000 },
            raw: hex("04 3D 7F 00 00 00"),
        })
    );
    // Bytes with the right version bits but a type LLRP does not define start no message.
    let out = decode(&[hex("04 FF 00 00 00 0A 00 00 00 01"), hex(KEEPALIVE)].concat());
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].raw().len(), 10);
    assert_eq!(control(&out[1]), LlrpControl::Keepalive { id: 0x11 });
    assert_every_split_same(decoder(), &stream, BUFFER_LIMIT);
}

#[test]
fn a_corrupted_length_is_rejected_and_the_next_frame_decodes() {
    // Length 5 (< header): rejected as a bad length, then every byte that starts no header.
    let mut bad = hex(KEEPALIVE);
    bad[5] = 0x05;
    let mut stream = bad.clone();
    stream.extend(hex(REPORT));
    let out = decode(&stream);
    assert!(matches!(
        &out[0],
        Decoded::Rejected(Rejected { reason: RejectReason::BadLength { got: 5, .. }, .. })
    ));
    assert_eq!(out.last(), Some(&Decoded::Read(documented_read(hex(REPORT)))));
    assert_raw_covers(&out, &stream);
    // Length too long for the buffer.
    let huge = hex("04 3E 00 01 00 00 00 00 00 01");
    let out = decode(&[huge.clone(), hex(KEEPALIVE)].concat());
    assert!(matches!(
        &out[0],
        Decoded::Rejected(Rejected { reason: RejectReason::BadLength { got: 65536, .. }, .. })
    ));
    assert_eq!(control(out.last().unwrap()), LlrpControl::Keepalive { id: 0x11 });
}

#[test]
fn a_length_that_runs_past_the_next_frames_waits_for_idle() {
    // A keepalive whose length claims 200 bytes hides the frames behind it...
    let mut stray = hex(KEEPALIVE);
    stray[5] = 200;
    let mut stream = stray.clone();
    stream.extend(hex(REPORT));
    stream.extend(hex(KEEPALIVE));
    let mut d = LlrpDecoder::new();
    let mut out = Vec::new();
    d.feed(&stream, &mut out);
    assert!(out.is_empty());
    // ...until the line goes quiet.
    d.idle(&mut out);
    assert_eq!(out.len(), 3, "{out:#?}");
    assert_eq!(out[0], Decoded::Rejected(Rejected { reason: RejectReason::Truncated, raw: stray }));
    assert_eq!(out[1], Decoded::Read(documented_read(hex(REPORT))));
    assert_eq!(d.buffered(), 0);
    // finish gives the same.
    assert_eq!(decode(&stream), out);
}

#[test]
fn a_truncated_tail_is_reported_at_finish() {
    let frame = hex(REPORT);
    let mut stream = hex(KEEPALIVE);
    stream.extend(&frame[..20]);
    let out = decode(&stream);
    assert_eq!(out.len(), 2);
    assert_eq!(
        out[1],
        Decoded::Rejected(Rejected { reason: RejectReason::Truncated, raw: frame[..20].to_vec() })
    );
    let mut d = LlrpDecoder::new();
    let mut out = Vec::new();
    d.feed(&frame[..20], &mut out);
    d.idle(&mut out);
    assert!(out.is_empty(), "idle alone does not give up on the only frame");
    assert_eq!(d.buffered(), 20);
}

#[test]
fn version_two_headers_decode_too() {
    let mut frame = hex(KEEPALIVE);
    frame[0] = 0x08;
    assert_eq!(control(&single(decoder(), &frame)), LlrpControl::Keepalive { id: 0x11 });
}

#[test]
fn endless_garbage_is_cut_into_bounded_chunks() {
    let garbage = vec![0xFFu8; 5000];
    let out = in_pieces(decoder(), &garbage, &[100, 2000, 4000], BUFFER_LIMIT);
    assert!(out.iter().all(|d| d.raw().len() <= 1024));
    assert_eq!(out.iter().map(|d| d.raw().len()).sum::<usize>(), 5000);
}

// ---------------------------------------------------------------------------------------------
// Model round trips

fn session_reader() -> LlrpReader {
    LlrpReader::new(ReaderModelConfig::default())
}

/// Feeds a request to the model and decodes its answer.
fn ask(reader: &mut LlrpReader, request: &[u8]) -> Vec<Decoded> {
    let answer = reader.feed(request);
    decode(&answer)
}

fn assert_success(out: &[Decoded], kind: u16, id: u32) {
    assert_eq!(out.len(), 1, "{out:#?}");
    assert_eq!(
        control(&out[0]),
        LlrpControl::Response { message_type: kind, id, status: LlrpStatus::success() }
    );
}

fn model_reads() -> Vec<ModelRead> {
    vec![
        ModelRead {
            epc: epc_bytes(),
            antenna: 2,
            peak_rssi: -58,
            first_seen_us: FIRST_SEEN_US,
            seen_count: 3,
        },
        ModelRead {
            epc: (0..16).collect(),
            antenna: 1,
            peak_rssi: -61,
            first_seen_us: FIRST_SEEN_US + 7,
            seen_count: 1,
        },
    ]
}

#[test]
fn a_whole_session_through_the_model() {
    let mut reader = session_reader();
    let hello = reader.connect(FIRST_SEEN_US);
    assert_eq!(hello, hex(CONNECTED), "the model greets with readers.md's frame");

    let settings = ReaderSettings {
        keepalive_ms: Some(5000),
        event_notifications: vec![(event::ANTENNA, true), (event::ROSPEC, false)],
        antennas: vec![AntennaSetting::new(1).with_transmit_power(100).with_receive_sensitivity(3)],
        hold_events_and_reports: Some(true),
        ..ReaderSettings::default()
    };
    assert_success(&ask(&mut reader, &command::set_reader_config(2, &settings)), 13, 2);
    assert_eq!(reader.keepalive_ms(), Some(5000));
    assert_success(&ask(&mut reader, &command::get_reader_capabilities(3)), 11, 3);

    let out = ask(&mut reader, &command::get_reader_config(4));
    let LlrpControl::ReaderConfig { id, status, antennas, antenna_config, keepalive_ms } =
        control(&out[0])
    else {
        panic!("not a config: {out:?}")
    };
    assert_eq!((id, status.is_success(), keepalive_ms), (4, true, Some(5000)));
    assert_eq!(antennas.len(), 4);
    assert_eq!(antennas[0], AntennaInfo { id: 1, connected: true, gain: 600 });
    assert!(!antennas[2].connected);
    // Power 100 was asked, the reader took its maximum, 81: a setting it did not take.
    assert_eq!(
        antenna_config[0],
        AntennaSetting::new(1).with_receive_sensitivity(3).with_transmit_power(81)
    );
    assert_eq!(antenna_config[1].transmit_power, Some(81));

    assert_success(&ask(&mut reader, &command::delete_accessspec(5, 0)), 51, 5);
    assert_success(&ask(&mut reader, &command::delete_rospec(6, 0)), 31, 6);
    assert_success(&ask(&mut reader, &command::add_rospec(7, 1, 1)), 30, 7);
    assert_eq!(reader.rospec_state(1), Some(RoSpecState::Disabled));
    assert!(reader.tag_report(&model_reads(), 100).is_empty(), "not enabled: nothing read");

    assert!(reader.feed(&command::enable_events_and_reports(8)).is_empty(), "no response");
    assert_success(&ask(&mut reader, &command::enable_rospec(9, 1)), 34, 9);
    assert_eq!(reader.rospec_state(1), Some(RoSpecState::Active), "immediate start trigger");
    assert_success(&ask(&mut reader, &command::start_rospec(10, 1)), 32, 10);

    let out = decode(&reader.tag_report(&model_reads(), 100));
    let reads = reads(&out);
    assert_eq!(reads.len(), 2);
    assert_eq!(reads[0].chip, EPC);
    assert_eq!(reads[0].antenna, Some(2));
    assert_eq!(reads[0].rssi, Some(Rssi::Dbm(-58)));
    assert_eq!(
        reads[0].replay_key,
        Some(ReplayKey::Llrp { epc: EPC.into(), antenna: 2, first_seen_us: FIRST_SEEN_US })
    );
    let d = details(reads[0]);
    assert_eq!((d.message_id, d.rospec_id, d.seen_count), (100, Some(1), Some(3)));
    assert_eq!(d.last_seen, Some(at(FIRST_SEEN_US)));
    assert_eq!(reads[1].chip, "000102030405060708090A0B0C0D0E0F");
    assert_eq!(details(reads[1]).message_id, 101, "N = 1: one report per tag");

    assert_eq!(
        control(&single(decoder(), &reader.keepalive(0x11))),
        LlrpControl::Keepalive { id: 0x11 }
    );
    assert!(reader.feed(&command::keepalive_ack(0x11)).is_empty());
    assert_eq!(reader.last_keepalive_ack(), Some(0x11));

    assert_success(&ask(&mut reader, &command::stop_rospec(11, 1)), 33, 11);
    assert_eq!(reader.rospec_state(1), Some(RoSpecState::Inactive));
    assert!(reader.tag_report(&model_reads(), 1).is_empty(), "stopped: nothing read");
    assert_success(&ask(&mut reader, &command::disable_rospec(12, 1)), 35, 12);
    assert_success(&ask(&mut reader, &command::delete_rospec(13, 1)), 31, 13);
    assert_eq!(reader.rospec_state(1), None);
    assert_success(&ask(&mut reader, &command::close_connection(14)), 4, 14);
    assert!(reader.is_closed());
    assert!(reader.feed(&command::get_reader_config(15)).is_empty());
}

#[test]
fn the_model_answers_the_same_to_bytes_in_any_pieces() {
    let requests: Vec<u8> = [
        command::set_reader_config(
            1,
            &ReaderSettings { keepalive_ms: Some(1000), ..ReaderSettings::default() },
        ),
        command::add_rospec(2, 9, 1),
        command::enable_events_and_reports(3),
        command::enable_rospec(4, 9),
        command::get_reader_config(5),
    ]
    .concat();
    let mut whole_reader = session_reader();
    whole_reader.connect(0);
    let expected = whole_reader.feed(&requests);
    let mut bytewise = session_reader();
    bytewise.connect(0);
    let got: Vec<u8> = requests.iter().flat_map(|b| bytewise.feed(&[*b])).collect();
    assert_eq!(got, expected);
    assert!(bytewise.is_reporting());
    let out = decode(&expected);
    assert_eq!(out.len(), 4);
    assert!(out.iter().all(|d| match control(d) {
        LlrpControl::Response { status, .. } | LlrpControl::ReaderConfig { status, .. } =>
            status.is_success(),
        _ => false,
    }));
}

#[test]
fn the_model_refuses_bad_and_unsupported_requests() {
    let mut reader = session_reader();
    reader.connect(0);
    let status_of = |out: &[Decoded]| match control(&out[0]) {
        LlrpControl::Response { status, .. } | LlrpControl::Error { status, .. } => status,
        other => panic!("{other:?}"),
    };
    // ENABLE_ROSPEC without its ROSpecID.
    let out = ask(&mut reader, &command::message(24, 1, &[]));
    assert_eq!(status_of(&out).code, status::FIELD_ERROR);
    // A ROSpec that does not exist.
    assert_eq!(status_of(&ask(&mut reader, &command::enable_rospec(2, 77))).code, status::INVALID);
    assert_eq!(status_of(&ask(&mut reader, &command::start_rospec(2, 77))).code, status::INVALID);
    // GET_REPORT is not supported: ERROR_MESSAGE with the request's id.
    let out = ask(&mut reader, &command::message(mt::GET_REPORT, 3, &[]));
    assert!(matches!(control(&out[0]), LlrpControl::Error { id: 3, .. }));
    assert_eq!(status_of(&out).code, status::UNSUPPORTED_MESSAGE);
    // LLRP 1.1 header.
    let mut v2 = command::get_reader_config(4);
    v2[0] = 0x08;
    assert_eq!(status_of(&ask(&mut reader, &v2)).code, status::UNSUPPORTED_VERSION);
    // An ADD_ROSPEC whose CurrentState is not Disabled.
    let mut active = command::add_rospec(5, 1, 1);
    active[19] = 2;
    assert_eq!(status_of(&ask(&mut reader, &active)).code, status::FIELD_ERROR);
    // Twice the same ROSpec.
    assert!(status_of(&ask(&mut reader, &command::add_rospec(6, 1, 1))).is_success());
    assert_eq!(status_of(&ask(&mut reader, &command::add_rospec(7, 1, 1))).code, status::INVALID);
    // A setting for an antenna the reader lacks, and an unknown parameter: nothing applied.
    let bad = ReaderSettings {
        keepalive_ms: Some(3000),
        antennas: vec![AntennaSetting::new(9).with_transmit_power(10)],
        ..ReaderSettings::default()
    };
    assert_eq!(
        status_of(&ask(&mut reader, &command::set_reader_config(8, &bad))).code,
        status::PARAMETER_ERROR
    );
    assert_eq!(reader.keepalive_ms(), None, "all or nothing");
    let unknown = command::message(3, 9, &[&[0][..], &command::tlv(999, &[])].concat());
    assert_eq!(status_of(&ask(&mut reader, &unknown)).code, status::UNKNOWN_PARAMETER);
    // Bytes that start no header.
    let out = ask(&mut reader, &hex("FF FF FF"));
    assert!(matches!(control(&out[0]), LlrpControl::Error { id: 0, .. }));
    // DELETE_ACCESSSPEC of one that does not exist.
    assert_eq!(
        status_of(&ask(&mut reader, &command::delete_accessspec(10, 4))).code,
        status::INVALID
    );
    // START on a disabled ROSpec.
    assert_eq!(status_of(&ask(&mut reader, &command::start_rospec(11, 1))).code, status::INVALID);
}

#[test]
fn a_refusing_reader_says_so_and_closes() {
    let mut reader = LlrpReader::new(ReaderModelConfig {
        refuse_connection: true,
        ..ReaderModelConfig::default()
    });
    let out = decode(&reader.connect(FIRST_SEEN_US));
    let LlrpControl::ReaderEvent { connection, .. } = control(&out[0]) else { panic!() };
    assert_eq!(connection, Some(ConnectionAttempt::FailedClientInitiatedConnectionExists));
    assert!(reader.is_closed());
    assert!(reader.feed(&command::get_reader_config(1)).is_empty());
    assert!(reader.keepalive(1).is_empty());
}

#[test]
fn the_model_groups_reads_by_n_and_follows_antenna_events() {
    let mut reader = session_reader();
    reader.connect(0);
    for request in [
        command::add_rospec(1, 3, 2),
        command::enable_events_and_reports(2),
        command::enable_rospec(3, 3),
    ] {
        reader.feed(&request);
    }
    let reads: Vec<ModelRead> = (0..5u8)
        .map(|i| ModelRead {
            epc: vec![i; 12],
            antenna: 1,
            peak_rssi: -50,
            first_seen_us: u64::from(i),
            seen_count: 1,
        })
        .collect();
    let bytes = reader.tag_report(&reads, 40);
    let out = decode(&bytes);
    let ids: Vec<u32> = reads_of(&out).iter().map(|r| details(r).message_id).collect();
    assert_eq!(ids, [40, 40, 41, 41, 42]);

    let out = decode(&reader.antenna_event(50, 2, false, FIRST_SEEN_US));
    let LlrpControl::ReaderEvent { antenna_events, .. } = control(&out[0]) else { panic!() };
    assert_eq!(antenna_events, [(2, false)]);
    let out = ask(&mut reader, &command::get_reader_config(4));
    let LlrpControl::ReaderConfig { antennas, .. } = control(&out[0]) else { panic!() };
    assert!(!antennas[1].connected);
}

fn reads_of(out: &[Decoded]) -> Vec<&TagRead> {
    reads(out)
}

// ---------------------------------------------------------------------------------------------
// Properties

/// Messages that decode to exactly one item each.
fn single_item_examples() -> Vec<Vec<u8>> {
    [REPORT, CONNECTED, KEEPALIVE, ENABLE_RESPONSE, ERROR].iter().map(|f| hex(f)).collect()
}

fn all_examples() -> Vec<Vec<u8>> {
    let mut v = single_item_examples();
    v.push(report(
        3,
        &[tag_body(&epc_bytes(), 1, -50, 10), hex("81 00 02"), tag_body(&[1; 8], 2, -1, 11)],
    ));
    v.push(report(4, &[tag_body(&(0..16).collect::<Vec<u8>>(), 1, -50, 10)]));
    v
}

decoder_properties!(decoder(), BUFFER_LIMIT, noisy: single_item_examples(), then: assert_raw_covers);

proptest! {
    #![proptest_config(config())]


    #[test]
    fn noisy_multi_tag_streams_decode_the_same_in_any_pieces(
        stream in noisy_stream(all_examples()),
        cuts in cuts(),
    ) {
        let expected = whole(decoder(), &stream);
        assert_raw_covers(&expected, &stream);
        prop_assert_eq!(in_pieces(decoder(), &stream, &cuts, BUFFER_LIMIT), expected);
    }

    #[test]
    fn valid_streams_give_every_read(picks in prop::collection::vec(0usize..3, 1..20), cuts in cuts()) {
        let frames = [hex(REPORT), hex(KEEPALIVE), hex(CONNECTED)];
        let stream: Vec<u8> = picks.iter().flat_map(|i| frames[*i].clone()).collect();
        let out = in_pieces(decoder(), &stream, &cuts, BUFFER_LIMIT);
        prop_assert_eq!(reads(&out).len(), picks.iter().filter(|i| **i == 0).count());
        prop_assert_eq!(out.len(), picks.len());
    }

    #[test]
    fn the_model_survives_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let mut reader = session_reader();
        reader.connect(0);
        let answer = reader.feed(&bytes);
        // Whatever it says decodes cleanly: responses and errors only.
        for item in decode(&answer) {
            let is_answer = matches!(
                control(&item),
                LlrpControl::Response { .. } | LlrpControl::ReaderConfig { .. } | LlrpControl::Error { .. }
            );
            prop_assert!(is_answer);
        }
    }

    #[test]
    fn model_reports_round_trip(
        epcs in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..40), 1..6),
        antenna in 1u16..5,
        rssi in any::<i8>(),
        first_seen in 0u64..4_000_000_000_000_000,
    ) {
        let mut reader = session_reader();
        reader.connect(0);
        for request in [command::add_rospec(1, 1, 0), command::enable_events_and_reports(2), command::enable_rospec(3, 1)] {
            reader.feed(&request);
        }
        let reads: Vec<ModelRead> = epcs
            .iter()
            .map(|epc| ModelRead { epc: epc.clone(), antenna, peak_rssi: rssi, first_seen_us: first_seen, seen_count: 1 })
            .collect();
        let out = decode(&reader.tag_report(&reads, 1));
        let got = reads_of(&out);
        prop_assert_eq!(got.len(), reads.len());
        for (read, model) in got.iter().zip(&reads) {
            let chip: String = model.epc.iter().map(|b| format!("{b:02X}")).collect();
            prop_assert_eq!(&read.chip, &chip);
            prop_assert_eq!(read.rssi, Some(Rssi::Dbm(i16::from(rssi))));
            prop_assert_eq!(read.antenna, u8::try_from(antenna).ok());
            prop_assert_eq!(read.reader_time, Some(ReaderTime::Utc(at(first_seen))));
        }
    }
}
