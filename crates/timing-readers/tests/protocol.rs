//! The protocol list: names round-trip, defaults match readers.md, every protocol's decoder is
//! reachable, and the shared types format for people.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests stop loudly
#![allow(clippy::panic, clippy::indexing_slicing)] // and so do their helpers

use timing_readers::{
    Parity, Protocol, RejectReason, Rejected, SerialSettings, UnknownProtocol, decode_all,
};

#[test]
fn names_round_trip() {
    let names: Vec<String> = Protocol::ALL.iter().map(ToString::to_string).collect();
    assert_eq!(
        names,
        ["ipico", "ultra", "r2000", "chafon", "timy", "raceresult", "cloudbox", "lines", "llrp"]
    );
    for protocol in Protocol::ALL {
        assert_eq!(protocol.name().parse::<Protocol>(), Ok(protocol));
    }
    assert_eq!(" RaceResult ".parse::<Protocol>(), Ok(Protocol::RaceResult));
    assert_eq!("mylaps".parse::<Protocol>(), Err(UnknownProtocol("mylaps".into())));
}

#[test]
fn transport_defaults_follow_readers_md() {
    let eight_n_one =
        |baud| Some(SerialSettings { baud, data_bits: 8, parity: Parity::None, stop_bits: 1 });
    assert_eq!(Protocol::Ipico.serial_defaults(), eight_n_one(9600));
    assert_eq!(Protocol::R2000.serial_defaults(), eight_n_one(115_200));
    assert_eq!(Protocol::Chafon.serial_defaults(), eight_n_one(57_600));
    assert_eq!(Protocol::Timy.serial_defaults(), eight_n_one(9600));
    assert_eq!(Protocol::Ultra.serial_defaults(), None);
    assert_eq!(Protocol::Ipico.default_tcp_port(), Some(10_000));
    assert_eq!(Protocol::Ultra.default_tcp_port(), Some(23));
    assert_eq!(Protocol::RaceResult.default_tcp_port(), Some(3601));
    assert_eq!(Protocol::CloudBox.default_tcp_port(), Some(8080));
    assert_eq!(Protocol::Chafon.default_tcp_port(), None);
    assert!(!Protocol::R2000.carries_time());
    assert!(Protocol::Timy.carries_time());
}

#[test]
fn every_decoder_handles_empty_input() {
    for protocol in Protocol::ALL {
        let mut decoder = protocol.decoder();
        assert!(decode_all(decoder.as_mut(), b"").is_empty(), "{protocol}");
        assert_eq!(decoder.buffered(), 0);
    }
}

#[test]
fn a_huge_feed_is_processed_in_one_call() {
    // 2 MB of back-to-back R2000 tag frames: one call, bounded buffer, every read out.
    let frame: Vec<u8> = [
        0xA0, 0x13, 0x01, 0x89, 0x1C, 0x30, 0x00, 0xE2, 0x80, 0x11, 0x70, 0x00, 0x00, 0x02, 0x01,
        0x23, 0x45, 0xAB, 0xCD, 0x48, 0x69,
    ]
    .to_vec();
    let stream = frame.repeat(100_000);
    let mut decoder = Protocol::R2000.decoder();
    let mut out = Vec::new();
    decoder.feed(&stream, &mut out);
    assert_eq!(out.len(), 100_000);
    assert_eq!(decoder.buffered(), 0);
}

#[test]
fn reasons_read_well() {
    let cases = [
        (
            RejectReason::BadChecksum { expected: 0x0b, got: 0x0c },
            "bad checksum: computed 0x0b, frame carries 0x0c",
        ),
        (
            RejectReason::BadLength { expected: "36 characters", got: 40 },
            "bad length 40, expected 36 characters",
        ),
        (RejectReason::FieldCount { expected: "12", got: 11 }, "11 fields, expected 12"),
        (RejectReason::BadField { field: "time", value: "25:00".into() }, "bad time: \"25:00\""),
        (RejectReason::Garbage, "garbage between frames"),
        (RejectReason::TooLong { limit: 256 }, "longer than 256 bytes without end"),
        (RejectReason::Truncated, "incomplete frame"),
    ];
    for (reason, text) in cases {
        assert_eq!(reason.to_string(), text);
    }
    let rejected = Rejected { reason: RejectReason::Garbage, raw: vec![1, 2, 3] };
    assert_eq!(rejected.to_string(), "garbage between frames (3 bytes)");
}

/// xtask runs every file in `fuzz/fuzz_targets/`: the registry and that folder list the same
/// protocols, and each target is declared and has seeds.
#[test]
fn every_protocol_has_a_fuzz_target() {
    let fuzz = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut targets: Vec<String> = std::fs::read_dir(fuzz.join("fuzz_targets"))
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.strip_suffix(".rs").map(str::to_owned))
        .collect();
    targets.sort();
    let mut names: Vec<String> = Protocol::ALL.iter().map(ToString::to_string).collect();
    names.sort();
    assert_eq!(targets, names, "fuzz/fuzz_targets/ against the registry");
    let manifest = std::fs::read_to_string(fuzz.join("Cargo.toml")).unwrap();
    for name in &names {
        assert!(
            manifest.contains(&format!("name = \"{name}\"\npath = \"fuzz_targets/{name}.rs\"")),
            "fuzz/Cargo.toml declares no [[bin]] {name}"
        );
        let seeds = std::fs::read_dir(fuzz.join("corpus").join(name)).map(Iterator::count);
        assert!(seeds.unwrap_or(0) > 0, "fuzz/corpus/{name}/ has no seeds");
    }
}
