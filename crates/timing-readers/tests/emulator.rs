//! The emulators' sample streams are what the decoders accept: every read decodes, nothing is
//! rejected, and the stream is reproducible from its seed.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests stop loudly

use timing_readers::emulator::sample_stream;
use timing_readers::{Decoded, Protocol, decode_all};

#[test]
fn sample_streams_decode_cleanly() {
    for protocol in Protocol::ALL {
        let bytes = sample_stream(protocol, 500, 7);
        let decoded = decode_all(protocol.decoder().as_mut(), &bytes);
        let reads = decoded.iter().filter(|d| matches!(d, Decoded::Read(_))).count();
        let rejected: Vec<_> =
            decoded.iter().filter(|d| matches!(d, Decoded::Rejected(_))).collect();
        assert_eq!(reads, 500, "{protocol}: reads");
        assert!(rejected.is_empty(), "{protocol}: rejected {rejected:#?}");
        assert_eq!(sample_stream(protocol, 500, 7), bytes, "{protocol}: reproducible");
        let keys: std::collections::BTreeSet<_> = decoded
            .iter()
            .filter_map(Decoded::as_read)
            .filter_map(|r| r.replay_key.as_ref().map(ToString::to_string))
            .collect();
        if protocol.carries_time() {
            assert_eq!(keys.len(), 500, "{protocol}: replay keys are unique");
        }
    }
}
