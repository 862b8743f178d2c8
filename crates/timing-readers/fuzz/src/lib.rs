//! The one property every fuzz target checks, written once: a decoder fed arbitrary bytes in
//! arbitrary pieces never panics, keeps its buffer bounded, and gives the same output as when
//! fed the same bytes whole.

use timing_readers::{Decoded, Protocol, decode_all};

/// Runs `protocol`'s decoder over `data`. The first two bytes seed the chunking; the rest is the
/// byte stream.
pub fn check(protocol: Protocol, data: &[u8]) {
    let (seed, stream) = match data {
        [a, b, rest @ ..] => (u16::from_le_bytes([*a, *b]), rest),
        _ => (0, data),
    };
    let limit = protocol.buffer_limit();
    let whole = decode_all(protocol.decoder().as_mut(), stream);

    let mut state = u32::from(seed) | 1;
    let mut sizes = std::iter::from_fn(move || {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        Some(usize::try_from(state >> 16).unwrap_or(0) % 97 + 1)
    });

    // Arbitrary pieces: same output as whole.
    let mut decoder = protocol.decoder();
    let mut out: Vec<Decoded> = Vec::new();
    let mut rest = stream;
    while !rest.is_empty() {
        let n = sizes.next().unwrap_or(1).min(rest.len());
        let (piece, tail) = rest.split_at(n);
        decoder.feed(piece, &mut out);
        assert!(decoder.buffered() <= limit, "buffer {} over {limit}", decoder.buffered());
        rest = tail;
    }
    decoder.finish(&mut out);
    assert_eq!(decoder.buffered(), 0);
    assert!(out == whole, "chunked output differs from whole-feed output");

    // The same pieces with the line going quiet after each (`idle` may resynchronise sooner, so
    // the output may differ): still no panic, still bounded, and empty after `finish`.
    let mut decoder = protocol.decoder();
    let mut idle_out: Vec<Decoded> = Vec::new();
    let mut rest = stream;
    while !rest.is_empty() {
        let n = sizes.next().unwrap_or(1).min(rest.len());
        let (piece, tail) = rest.split_at(n);
        decoder.feed(piece, &mut idle_out);
        decoder.idle(&mut idle_out);
        assert!(decoder.buffered() <= limit, "buffer {} over {limit}", decoder.buffered());
        rest = tail;
    }
    decoder.finish(&mut idle_out);
    assert_eq!(decoder.buffered(), 0);
}
