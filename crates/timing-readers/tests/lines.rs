//! Plain-line decoder (keyboard wedge, bib keypad; readers.md §11): CR, LF and CR LF endings,
//! trimming, empty lines, chip vs bib meaning, garbage, endless lines and chunking.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests stop loudly
#![allow(clippy::panic, clippy::indexing_slicing)] // and so do their helpers

mod common;

use common::*;
use proptest::prelude::*;
use timing_readers::lines::{self, BUFFER_LIMIT, LineMeaning, LinesDecoder};
use timing_readers::{Protocol, ReadDetails, ReadFlags, RejectReason, TagRead};

fn decoder() -> Make {
    make(Protocol::Lines)
}

fn keypad() -> Make {
    || Box::new(LinesDecoder::with_meaning(LineMeaning::Bib))
}

#[test]
fn a_wedge_line_is_a_chip_read() {
    // A 125 kHz desktop reader types a 10-digit card number and Enter.
    assert_eq!(
        single_read(decoder(), b"0004211234\r\n"),
        TagRead {
            chip: "0004211234".into(),
            bib: None,
            antenna: None,
            rssi: None,
            reader_time: None,
            replay_key: None,
            flags: ReadFlags::default(),
            details: ReadDetails::Line,
            raw: b"0004211234\r".to_vec(),
        }
    );
}

#[test]
fn a_keypad_line_is_a_bib() {
    let read = single_read(keypad(), b"  123 \n");
    assert_eq!(read.chip, "");
    assert_eq!(read.bib.as_deref(), Some("123"));
}

#[test]
fn every_line_ending_and_blank_lines() {
    let stream = b"E2801170000002012345ABCD\r\n\r\n12\r13\n\n  \n14";
    let out = whole(decoder(), stream);
    let chips: Vec<&str> = reads(&out).iter().map(|r| r.chip.as_str()).collect();
    assert_eq!(chips, ["E2801170000002012345ABCD", "12", "13", "14"]);
    assert_eq!(out.len(), 4);
    assert_every_split_same(decoder(), stream, BUFFER_LIMIT);
}

#[test]
fn garbage_and_endless_lines_are_rejected() {
    let mut stream = b"\xff\xfe\n\x1b[A\n".to_vec();
    stream.extend(std::iter::repeat_n(b'7', 600));
    stream.extend_from_slice(b"\n42\n");
    let out = whole(decoder(), &stream);
    let reasons: Vec<RejectReason> = rejections(&out).iter().map(|r| r.reason.clone()).collect();
    assert_eq!(
        reasons,
        [
            RejectReason::Garbage,
            RejectReason::Garbage,
            RejectReason::TooLong { limit: lines::MAX_LINE },
            RejectReason::TooLong { limit: lines::MAX_LINE },
            RejectReason::TooLong { limit: lines::MAX_LINE },
        ]
    );
    assert_eq!(reads(&out).len(), 1);
    assert_every_split_same(decoder(), &stream, BUFFER_LIMIT);
}

decoder_properties!(decoder(), BUFFER_LIMIT);

proptest! {
    #![proptest_config(config())]

    #[test]
    fn typed_lines_give_every_read(
        codes in prop::collection::vec("[0-9A-F]{1,24}", 1..20),
        ending in prop::sample::select(vec!["\r", "\n", "\r\n"]),
        cuts in cuts(),
    ) {
        let stream: Vec<u8> = codes.iter().flat_map(|c| format!("{c}{ending}").into_bytes()).collect();
        let out = in_pieces(decoder(), &stream, &cuts, BUFFER_LIMIT);
        let chips: Vec<String> = reads(&out).iter().map(|r| r.chip.clone()).collect();
        prop_assert_eq!(chips, codes);
    }
}
