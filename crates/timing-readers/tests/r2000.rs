//! Impinj-R2000 "CMD" decoder and commands against readers.md §4b, plus bad checksums, resync
//! after garbage, merged frames, the idle hint and chunking properties.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests stop loudly
#![allow(clippy::panic, clippy::indexing_slicing)] // and so do their helpers

mod common;

use common::*;
use proptest::prelude::*;
use timing_readers::r2000::{BUFFER_LIMIT, R2000Control, R2000Details, command};
use timing_readers::{
    ControlMessage, Decoded, Protocol, ReadDetails, ReadFlags, RejectReason, Rejected, Rssi,
    TagRead,
};

const TAG: &str = "A0 13 01 89 1C 30 00 E2 80 11 70 00 00 02 01 23 45 AB CD 48 69";
const END_OF_ROUND: &str = "A0 0A 01 89 00 00 2A 00 00 00 05 9D";
const INVENTORY: &str = "A0 04 01 89 01 D1";
const FIRMWARE: &str = "A0 03 01 72 EA";
const ANTENNA: &str = "A0 04 01 74 00 E7";

fn decoder() -> Make {
    make(Protocol::R2000)
}

fn control(decoded: &Decoded) -> R2000Control {
    match decoded {
        Decoded::Control(c) => match &c.message {
            ControlMessage::R2000(m) => m.clone(),
            other => panic!("not R2000: {other:?}"),
        },
        other => panic!("expected control, got {other:?}"),
    }
}

#[test]
fn tag_frame_decodes_to_the_documented_fields() {
    assert_eq!(
        single_read(decoder(), &hex(TAG)),
        TagRead {
            chip: "E2801170000002012345ABCD".into(),
            bib: None,
            antenna: Some(1),
            rssi: Some(Rssi::Dbm(-57)),
            reader_time: None,
            replay_key: None,
            flags: ReadFlags::default(),
            details: ReadDetails::R2000(R2000Details {
                address: 0x01,
                command: 0x89,
                frequency_index: 7,
                pc: 0x3000,
                rssi_byte: 0x48,
            }),
            raw: hex(TAG),
        }
    );
}

#[test]
fn end_of_round_and_command_frames_are_control() {
    assert_eq!(
        control(&single(decoder(), &hex(END_OF_ROUND))),
        R2000Control::EndOfRound {
            address: 0x01,
            command: 0x89,
            antenna: 1,
            read_rate: 42,
            total_reads: 5
        }
    );
    assert_eq!(
        control(&single(decoder(), &hex(INVENTORY))),
        R2000Control::Status { address: 0x01, command: 0x89, code: 0x01 }
    );
    assert_eq!(
        control(&single(decoder(), &hex(FIRMWARE))),
        R2000Control::Frame { address: 0x01, command: 0x72, data: vec![] }
    );
    assert_eq!(
        control(&single(decoder(), &hex(ANTENNA))),
        R2000Control::Status { address: 0x01, command: 0x74, code: 0x00 }
    );
}

#[test]
fn bad_checksum_is_rejected_whole_and_the_next_frame_decodes() {
    let mut bad = hex(TAG);
    *bad.last_mut().unwrap() = 0x68;
    let mut stream = bad.clone();
    stream.extend(hex(END_OF_ROUND));
    let out = whole(decoder(), &stream);
    assert_eq!(out.len(), 2);
    assert_eq!(
        out[0],
        Decoded::Rejected(Rejected {
            reason: RejectReason::BadChecksum { expected: 0x69, got: 0x68 },
            raw: bad,
        })
    );
    assert!(matches!(control(&out[1]), R2000Control::EndOfRound { total_reads: 5, .. }));
}

#[test]
fn garbage_between_and_merged_frames() {
    let mut stream = hex("FF 00 12");
    stream.extend(hex(TAG));
    stream.extend(hex(TAG));
    stream.extend(hex("A0 01 55"));
    stream.extend(hex(END_OF_ROUND));
    let out = whole(decoder(), &stream);
    assert_eq!(out.len(), 5);
    assert_eq!(
        out[0],
        Decoded::Rejected(Rejected { reason: RejectReason::Garbage, raw: hex("FF 00 12") })
    );
    assert_eq!(reads(&out).len(), 2);
    assert_eq!(
        out[3],
        Decoded::Rejected(Rejected {
            reason: RejectReason::BadLength { expected: "Len ≥ 3", got: 1 },
            raw: hex("A0 01 55"),
        })
    );
    let raw: Vec<u8> = out.iter().flat_map(|d| d.raw().to_vec()).collect();
    assert_eq!(raw, stream, "every byte is kept, in order");
    assert_every_split_same(decoder(), &stream, BUFFER_LIMIT);
}

#[test]
fn a_stray_head_waits_until_idle_then_frames_behind_it_decode() {
    // `A0 A0` claims a 162-byte frame; the real frames behind it are held...
    let mut stream = hex("A0");
    stream.extend(hex(TAG));
    stream.extend(hex(END_OF_ROUND));
    let mut decoder = decoder()();
    let mut out = Vec::new();
    decoder.feed(&stream, &mut out);
    assert!(out.is_empty());
    // ...until the line goes quiet.
    decoder.idle(&mut out);
    assert_eq!(out.len(), 3);
    assert_eq!(
        out[0],
        Decoded::Rejected(Rejected { reason: RejectReason::Truncated, raw: hex("A0") })
    );
    assert_eq!(reads(&out)[0].chip, "E2801170000002012345ABCD");
    assert_eq!(decoder.buffered(), 0);
    // Without idle, finish gets the same result.
    assert_eq!(whole(common::make(Protocol::R2000), &stream), out);
}

#[test]
fn truncated_frame_at_the_end_is_reported() {
    let tag = hex(TAG);
    let out = whole(decoder(), &tag[..10]);
    assert_eq!(
        out,
        [Decoded::Rejected(Rejected { reason: RejectReason::Truncated, raw: tag[..10].to_vec() })]
    );
}

#[test]
fn commands_match_the_documented_bytes() {
    assert_eq!(command::real_time_inventory(0x01, 1), hex(INVENTORY));
    assert_eq!(command::get_firmware_version(0x01), hex(FIRMWARE));
    assert_eq!(command::set_work_antenna(0x01, 1), hex(ANTENNA));
    assert_eq!(command::frame(0x01, 0x89, &[0x01]), hex(INVENTORY));
}

fn examples() -> Vec<Vec<u8>> {
    [TAG, END_OF_ROUND, INVENTORY, FIRMWARE, ANTENNA].iter().map(|f| hex(f)).collect()
}

decoder_properties!(decoder(), BUFFER_LIMIT, noisy: examples(), then: assert_every_byte_kept);

proptest! {
    #![proptest_config(config())]


    #[test]
    fn valid_streams_give_every_read(picks in prop::collection::vec(0usize..2, 1..20), cuts in cuts()) {
        let frames = [hex(TAG), hex(END_OF_ROUND)];
        let stream: Vec<u8> = picks.iter().flat_map(|i| frames[*i].clone()).collect();
        let out = in_pieces(decoder(), &stream, &cuts, BUFFER_LIMIT);
        prop_assert_eq!(reads(&out).len(), picks.iter().filter(|i| **i == 0).count());
        prop_assert_eq!(out.len(), picks.len());
    }
}
