//! Helpers shared by the decoder tests: decode a stream whole or in pieces, check that every
//! split gives the same output, and build streams of frames mixed with noise for proptest.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests stop loudly
#![allow(clippy::panic, clippy::indexing_slicing)] // and so do their helpers
#![allow(dead_code)] // each test file uses a different subset

use proptest::prelude::*;
use timing_readers::{Decoded, Decoder, Protocol, Rejected, TagRead, decode_all};

/// Makes a fresh decoder.
pub type Make = fn() -> Box<dyn Decoder>;

/// `"A0 04 01"` → bytes.
pub fn hex(text: &str) -> Vec<u8> {
    text.split_whitespace().map(|h| u8::from_str_radix(h, 16).unwrap()).collect()
}

/// Decodes `bytes` in one `feed`, then `finish`.
pub fn whole(make: Make, bytes: &[u8]) -> Vec<Decoded> {
    decode_all(make().as_mut(), bytes)
}

/// Decodes `bytes` fed in pieces cut at `cuts` (any order, duplicates and out-of-range cuts
/// allowed), checking the buffer bound after every feed.
pub fn in_pieces(make: Make, bytes: &[u8], cuts: &[usize], limit: usize) -> Vec<Decoded> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    let mut decoder = make();
    let mut out = Vec::new();
    let mut from = 0;
    for cut in cuts.into_iter().chain([bytes.len()]) {
        decoder.feed(&bytes[from..cut], &mut out);
        assert!(decoder.buffered() <= limit, "buffer {} over limit {limit}", decoder.buffered());
        from = cut;
    }
    decoder.finish(&mut out);
    assert_eq!(decoder.buffered(), 0, "finish leaves the decoder empty");
    out
}

/// Splitting at every single boundary, and feeding byte by byte, gives the whole-feed output.
pub fn assert_every_split_same(make: Make, bytes: &[u8], limit: usize) {
    let expected = whole(make, bytes);
    for cut in 0..=bytes.len() {
        assert_eq!(in_pieces(make, bytes, &[cut], limit), expected, "split at {cut}");
    }
    let every: Vec<usize> = (0..bytes.len()).collect();
    assert_eq!(in_pieces(make, bytes, &every, limit), expected, "byte by byte");
}

/// The reads, in order.
pub fn reads(decoded: &[Decoded]) -> Vec<&TagRead> {
    decoded.iter().filter_map(Decoded::as_read).collect()
}

/// The rejections, in order.
pub fn rejections(decoded: &[Decoded]) -> Vec<&Rejected> {
    decoded
        .iter()
        .filter_map(|d| match d {
            Decoded::Rejected(r) => Some(r),
            _ => None,
        })
        .collect()
}

/// The one item decoded from `bytes`.
pub fn single(make: Make, bytes: &[u8]) -> Decoded {
    let mut out = whole(make, bytes);
    assert_eq!(out.len(), 1, "expected exactly one item, got {out:#?}");
    out.remove(0)
}

/// The one read decoded from `bytes`.
pub fn single_read(make: Make, bytes: &[u8]) -> TagRead {
    match single(make, bytes) {
        Decoded::Read(read) => read,
        other => panic!("expected a read, got {other:#?}"),
    }
}

/// The one rejection decoded from `bytes`.
pub fn single_rejection(make: Make, bytes: &[u8]) -> Rejected {
    match single(make, bytes) {
        Decoded::Rejected(rejected) => rejected,
        other => panic!("expected a rejection, got {other:#?}"),
    }
}

/// Property-test settings: few cases, so the whole suite stays fast in debug builds.
pub fn config() -> ProptestConfig {
    ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() }
}

/// A stream built from pieces: good frames, frames with one byte changed, cut-off frames and
/// random bytes, in any order.
pub fn noisy_stream(frames: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let frame_count = frames.len();
    let piece = prop_oneof![
        3 => (0..frame_count).prop_map({
            let frames = frames.clone();
            move |i| frames[i].clone()
        }),
        1 => (0..frame_count, any::<prop::sample::Index>(), any::<u8>()).prop_map({
            let frames = frames.clone();
            move |(i, at, b)| {
                let mut f = frames[i].clone();
                let at = at.index(f.len());
                f[at] = f[at].wrapping_add(b.max(1));
                f
            }
        }),
        1 => (0..frame_count, any::<prop::sample::Index>()).prop_map({
            let frames = frames.clone();
            move |(i, at)| {
                let f = &frames[i];
                f[..at.index(f.len())].to_vec()
            }
        }),
        1 => prop::collection::vec(any::<u8>(), 0..24),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
}

/// Cut points for `in_pieces`.
pub fn cuts() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(any::<usize>(), 0..12)
}

/// The decoder for `protocol`, as a `Make` (the registry's constructor).
pub fn make(protocol: Protocol) -> Make {
    protocol.info().decoder
}

/// The properties every decoder has (the crate's invariants), as proptests over the decoder
/// `$make` with its buffer limit `$limit`: any bytes in any pieces never panic, stay within the
/// limit and decode as when fed whole. With `noisy: $frames`, a stream of the protocol's frames
/// damaged, cut and mixed with garbage ([`noisy_stream`]) decodes the same in any pieces;
/// `then: $check` also runs on (the whole-feed output, the stream). One call per test file.
macro_rules! decoder_properties {
    ($make:expr, $limit:expr $(, noisy: $frames:expr $(, then: $check:expr)?)? $(,)?) => {
        proptest::proptest! {
            #![proptest_config(crate::common::config())]

            #[test]
            fn random_bytes_never_panic_and_stay_bounded(
                bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..1500),
                cuts in crate::common::cuts(),
            ) {
                let expected = crate::common::whole($make, &bytes);
                proptest::prop_assert_eq!(
                    crate::common::in_pieces($make, &bytes, &cuts, $limit),
                    expected
                );
            }

            $(
            #[test]
            fn noisy_streams_decode_the_same_in_any_pieces(
                stream in crate::common::noisy_stream($frames),
                cuts in crate::common::cuts(),
            ) {
                let expected = crate::common::whole($make, &stream);
                $( ($check)(&expected, &stream); )?
                proptest::prop_assert_eq!(
                    crate::common::in_pieces($make, &stream, &cuts, $limit),
                    expected
                );
            }
            )?
        }
    };
}
pub(crate) use decoder_properties;

/// Every byte of `stream` is in the output's raw bytes, in order (no read shares a frame).
pub fn assert_every_byte_kept(out: &[Decoded], stream: &[u8]) {
    let raw: Vec<u8> = out.iter().flat_map(|d| d.raw().to_vec()).collect();
    assert_eq!(raw, stream, "every byte is kept, in order");
}
