//! Decoder throughput: each protocol's decoder over a realistic byte stream of its reader
//! (keepalives, inventory rounds and all, from the emulators' `sample_stream`), fed in 64 KiB
//! chunks as a transport would, in MB/s.

use std::time::{Duration, Instant};

use timing_readers::Protocol;
use timing_readers::emulator::sample_stream;

use crate::Figure;

/// One figure per protocol; each decoder runs for at least `seconds`.
pub fn throughput(seconds: f64) -> Vec<Figure> {
    let min = Duration::from_secs_f64(seconds);
    Protocol::ALL
        .iter()
        .map(|&protocol| {
            let stream = sample_stream(protocol, 20_000, 7);
            let mut out = Vec::with_capacity(4096);
            let (mut bytes, mut reads, mut passes) = (0_usize, 0_usize, 0_u32);
            let started = Instant::now();
            while started.elapsed() < min || passes == 0 {
                let mut decoder = protocol.decoder();
                for chunk in stream.chunks(64 * 1024) {
                    decoder.feed(chunk, &mut out);
                    reads += out.iter().filter(|d| d.as_read().is_some()).count();
                    out.clear();
                }
                decoder.finish(&mut out);
                out.clear();
                bytes += stream.len();
                passes += 1;
            }
            let mbps = bytes as f64 / 1e6 / started.elapsed().as_secs_f64();
            Figure {
                name: format!("decoder {protocol}"),
                value: mbps,
                unit: "MB/s".into(),
                goal: "≥ 50 MB/s".into(),
                met: mbps >= 50.0,
                note: format!(
                    "{} KB stream of {} reads decoded {passes}×, {:.1} M reads/s",
                    stream.len() / 1000,
                    reads / passes.max(1) as usize,
                    reads as f64 / 1e6 / started.elapsed().as_secs_f64()
                ),
            }
        })
        .collect()
}
