//! Fuzz target: the llrp decoder over arbitrary bytes in arbitrary pieces (see `src/lib.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use timing_readers::Protocol;

fuzz_target!(|data: &[u8]| timing_readers_fuzz::check(Protocol::Llrp, data));
