//! Chafon UHFReader18/288 decoder and commands against readers.md §4a, plus both inventory
//! layouts, active-mode frames, bad CRCs, resync without a start byte and chunking properties.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests stop loudly
#![allow(clippy::panic, clippy::indexing_slicing)] // and so do their helpers

mod common;

use common::*;
use proptest::prelude::*;
use timing_readers::chafon::{
    self, BUFFER_LIMIT, ChafonControl, ChafonDecoder, ChafonDetails, ChafonFrameKind,
    InventoryLayout, command,
};
use timing_readers::{
    ControlMessage, Decoded, Decoder, Protocol, ReadDetails, ReadFlags, RejectReason, Rejected,
    Rssi, TagRead,
};

const INVENTORY: &str = "04 00 01 DB 4B";
const READER_INFO: &str = "04 00 21 D9 6A";
const REPLY_18: &str = "13 00 01 01 01 0C E2 80 11 70 00 00 02 01 23 45 AB CD EB 33";
const NO_TAG: &str = "05 00 01 FB F2 3D";
const REPLY_288: &str = "15 00 01 03 01 01 0C E2 80 11 70 00 00 02 01 23 45 AB CD 4F 05 46";
const EPC: &str = "E2801170000002012345ABCD";

fn decoder() -> Make {
    make(Protocol::Chafon)
}

fn control(decoded: &Decoded) -> ChafonControl {
    match decoded {
        Decoded::Control(c) => match &c.message {
            ControlMessage::Chafon(m) => m.clone(),
            other => panic!("not Chafon: {other:?}"),
        },
        other => panic!("expected control, got {other:?}"),
    }
}

#[test]
fn reader18_reply_decodes_to_the_documented_fields() {
    assert_eq!(
        single_read(decoder(), &hex(REPLY_18)),
        TagRead {
            chip: EPC.into(),
            bib: None,
            antenna: None,
            rssi: None,
            reader_time: None,
            replay_key: None,
            flags: ReadFlags::default(),
            details: ReadDetails::Chafon(ChafonDetails {
                address: 0x00,
                command: 0x01,
                status: 0x01,
                kind: ChafonFrameKind::Inventory18,
                antenna_byte: None,
            }),
            raw: hex(REPLY_18),
        }
    );
}

#[test]
fn reader288_reply_decodes_to_the_documented_fields() {
    assert_eq!(
        single_read(decoder(), &hex(REPLY_288)),
        TagRead {
            chip: EPC.into(),
            bib: None,
            antenna: Some(1),
            rssi: Some(Rssi::Raw(0x4F)),
            reader_time: None,
            replay_key: None,
            flags: ReadFlags::default(),
            details: ReadDetails::Chafon(ChafonDetails {
                address: 0x00,
                command: 0x01,
                status: 0x03,
                kind: ChafonFrameKind::Inventory288,
                antenna_byte: Some(0x01),
            }),
            raw: hex(REPLY_288),
        }
    );
}

#[test]
fn forced_layout_rejects_the_other_one() {
    let make18: Make = || Box::new(ChafonDecoder::with_layout(InventoryLayout::Reader18));
    assert!(matches!(
        single_rejection(make18, &hex(REPLY_288)).reason,
        RejectReason::BadField { field: "inventory data", .. }
    ));
    let make288: Make = || Box::new(ChafonDecoder::with_layout(InventoryLayout::Reader288));
    assert_eq!(single_read(make288, &hex(REPLY_288)).antenna, Some(1));
}

#[test]
fn no_tag_and_command_frames_are_control() {
    assert_eq!(
        control(&single(decoder(), &hex(NO_TAG))),
        ChafonControl::NoTag { address: 0x00, command: 0x01 }
    );
    assert_eq!(
        control(&single(decoder(), &hex(INVENTORY))),
        ChafonControl::Frame { address: 0x00, command: 0x01, status: None, data: vec![] }
    );
    assert_eq!(
        control(&single(decoder(), &hex(READER_INFO))),
        ChafonControl::Frame { address: 0x00, command: 0x21, status: None, data: vec![] }
    );
}

#[test]
fn multi_tag_reply_gives_one_read_per_tag_sharing_the_frame() {
    // Status 01, two tags: the 12-byte EPC and a 4-byte one (frame built with the encoder).
    let mut data = vec![0x01, 0x02, 0x0C];
    data.extend(hex("E2 80 11 70 00 00 02 01 23 45 AB CD"));
    data.extend([0x04, 0xDE, 0xAD, 0xBE, 0xEF]);
    let frame = command::frame(0x00, 0x01, &data);
    let out = whole(decoder(), &frame);
    let chips: Vec<&str> = reads(&out).iter().map(|r| r.chip.as_str()).collect();
    assert_eq!(chips, [EPC, "DEADBEEF"]);
    assert!(reads(&out).iter().all(|r| r.raw == frame));
}

#[test]
fn active_mode_frames_are_reads() {
    let mut data = vec![0x00];
    data.extend([0xE2, 0x80, 0x11, 0x70]);
    let frame = command::frame(0x00, chafon::CMD_ACTIVE_MODE, &data);
    let read = single_read(decoder(), &frame);
    assert_eq!(read.chip, "E2801170");
    assert_eq!(
        read.details,
        ReadDetails::Chafon(ChafonDetails {
            address: 0x00,
            command: 0xEE,
            status: 0x00,
            kind: ChafonFrameKind::ActiveMode,
            antenna_byte: None,
        })
    );
}

#[test]
fn bad_crc_is_rejected_with_both_values() {
    let mut bad = hex(REPLY_18);
    *bad.last_mut().unwrap() = 0x34;
    assert_eq!(
        single_rejection(decoder(), &bad),
        Rejected {
            reason: RejectReason::BadChecksum { expected: 0x33EB, got: 0x34EB },
            raw: bad.clone(),
        }
    );
    // Followed by a good frame: the corrupted bytes are one rejection, then the read.
    let mut stream = bad.clone();
    stream.extend(hex(REPLY_288));
    let out = whole(decoder(), &stream);
    assert_eq!(out.len(), 2);
    assert_eq!(
        out[0],
        Decoded::Rejected(Rejected {
            reason: RejectReason::BadChecksum { expected: 0x33EB, got: 0x34EB },
            raw: bad,
        })
    );
    assert_eq!(reads(&out)[0].antenna, Some(1));
}

#[test]
fn garbage_between_and_merged_frames() {
    let mut stream = hex("00 01 02");
    stream.extend(hex(REPLY_18));
    stream.extend(hex(NO_TAG));
    stream.extend(hex("03 FF"));
    stream.extend(hex(REPLY_288));
    stream.extend(hex(REPLY_18));
    let out = whole(decoder(), &stream);
    assert_eq!(reads(&out).len(), 3);
    assert_eq!(
        rejections(&out),
        [
            &Rejected {
                reason: RejectReason::BadLength { expected: "Len ≥ 4", got: 0 },
                raw: hex("00 01 02")
            },
            &Rejected {
                reason: RejectReason::BadLength { expected: "Len ≥ 4", got: 3 },
                raw: hex("03 FF")
            },
        ]
    );
    assert_eq!(out.len(), 6);
    let raw: Vec<u8> = out.iter().flat_map(|d| d.raw().to_vec()).collect();
    assert_eq!(raw, stream);
    assert_every_split_same(decoder(), &stream, BUFFER_LIMIT);
}

#[test]
fn a_long_claimed_length_waits_for_idle() {
    // 0xE2 claims a 227-byte frame; the good reply behind it waits for it or for idle.
    let mut stream = hex("E2");
    stream.extend(hex(REPLY_18));
    let mut decoder = decoder()();
    let mut out = Vec::new();
    decoder.feed(&stream, &mut out);
    assert!(out.is_empty());
    decoder.idle(&mut out);
    assert_eq!(out.len(), 2);
    assert_eq!(
        out[0],
        Decoded::Rejected(Rejected { reason: RejectReason::Truncated, raw: hex("E2") })
    );
    assert_eq!(reads(&out)[0].chip, EPC);
}

#[test]
fn commands_match_the_documented_bytes() {
    assert_eq!(command::inventory(0x00), hex(INVENTORY));
    assert_eq!(command::get_reader_info(0x00), hex(READER_INFO));
    assert_eq!(chafon::crc16(&hex("04 00 01")), 0x4BDB);
    assert_eq!(command::frame(0x00, 0x21, &[]), hex(READER_INFO));
}

fn examples() -> Vec<Vec<u8>> {
    [REPLY_18, REPLY_288, NO_TAG, INVENTORY, READER_INFO].iter().map(|f| hex(f)).collect()
}

decoder_properties!(decoder(), BUFFER_LIMIT, noisy: examples());

proptest! {
    #![proptest_config(config())]


    #[test]
    fn valid_streams_give_every_read(picks in prop::collection::vec(0usize..3, 1..20), cuts in cuts()) {
        let frames = [hex(REPLY_18), hex(REPLY_288), hex(NO_TAG)];
        let stream: Vec<u8> = picks.iter().flat_map(|i| frames[*i].clone()).collect();
        let out = in_pieces(decoder(), &stream, &cuts, BUFFER_LIMIT);
        prop_assert_eq!(reads(&out).len(), picks.iter().filter(|i| **i < 2).count());
        prop_assert_eq!(out.len(), picks.len());
    }
}

#[test]
fn idle_never_loses_bytes() {
    let mut stream = hex("E2 FF 13");
    stream.extend(hex(REPLY_18));
    let mut decoder = ChafonDecoder::new();
    let mut out = Vec::new();
    for b in &stream {
        decoder.feed(std::slice::from_ref(b), &mut out);
        decoder.idle(&mut out);
    }
    decoder.finish(&mut out);
    let raw: Vec<u8> = out.iter().flat_map(|d| d.raw().to_vec()).collect();
    assert_eq!(raw, stream);
    assert_eq!(reads(&out).len(), 1);
}
