//! A simulated finish as a byte source: runners crossing a line, their chips sent as text lines
//! at the moments they cross, so demos, tests and benchmarks drive the same supervisor, decoder
//! and committer a real reader does. The script is reproducible from its seed.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::{Chunk, TransportError};
use crate::clock::SharedClock;

/// Lines sent at most in one chunk (a finish at full speed for benchmarks).
const LINES_PER_CHUNK: usize = 256;

/// A simulated finish: `runners` crossing the line at about `rate` per second on average, in
/// bunches, each crossing read 1–4 times within a second, with a share of unknown chips.
/// Chips are RUFUS FREE tags (the bib in ASCII hex, [`free_tag`]), so bibs appear without a
/// participant list. Spec: `sim:runners=500,rate=20[,unknown=0.02][,seed=7]`.
#[derive(Debug, Clone, PartialEq)]
pub struct SimFinish {
    /// How many runners finish.
    pub runners: u32,
    /// Average crossings per second (0: as fast as possible, for benchmarks). Finite, ≥ 0.
    pub rate: f64,
    /// Share of crossings whose chip is unknown (0.0–1.0).
    pub unknown: f64,
    /// Seed, for a reproducible finish.
    pub seed: u64,
}

// The spec parser admits only finite rates and shares, so equality is an equivalence.
impl Eq for SimFinish {}

impl std::hash::Hash for SimFinish {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (self.runners, self.rate.to_bits(), self.unknown.to_bits(), self.seed).hash(state);
    }
}

impl Default for SimFinish {
    fn default() -> Self {
        Self { runners: 500, rate: 5.0, unknown: 0.02, seed: 1 }
    }
}

impl SimFinish {
    /// Whether the numbers make a finish (rate ≥ 0, unknown within 0–1, both finite).
    pub fn is_valid(&self) -> bool {
        self.rate.is_finite() && self.rate >= 0.0 && (0.0..=1.0).contains(&self.unknown)
    }

    /// The reads of the finish, as (offset from the start, chip), in time order.
    pub fn script(&self) -> Vec<(Duration, String)> {
        let mut rng = StdRng::seed_from_u64(self.seed);
        let mut bibs: Vec<u32> = (1..=self.runners).collect();
        // Finish order is not bib order.
        for i in (1..bibs.len()).rev() {
            bibs.swap(i, rng.random_range(0..=i));
        }
        let mean_gap = if self.rate > 0.0 { 1.0 / self.rate } else { 0.0 };
        let mut t = 0.0_f64;
        let mut reads = Vec::with_capacity(bibs.len() * 3);
        for bib in bibs {
            // Bunches: a quarter of runners arrive on the heels of the one before.
            let gap = if rng.random_bool(0.25) {
                rng.random_range(0.0..0.3) * mean_gap.min(1.0)
            } else {
                -mean_gap * (1.0 - rng.random::<f64>()).ln() * 1.3
            };
            t += gap;
            let chip = if rng.random_bool(self.unknown) {
                format!("E200{:020X}", rng.random::<u64>())
            } else {
                free_tag(&bib.to_string())
            };
            let reads_here = rng.random_range(1..=4);
            let mut read_t = t;
            for _ in 0..reads_here {
                reads.push((
                    Duration::from_secs_f64(read_t * if self.rate > 0.0 { 1.0 } else { 0.0 }),
                    chip.clone(),
                ));
                read_t += rng.random_range(0.02..0.4);
            }
        }
        reads.sort_by_key(|(at, _)| *at);
        reads
    }
}

/// The EPC of a RUFUS FREE tag for a participant code: the code in ASCII hex, zero-padded to
/// 12 bytes (the engine's `participants::decode_free_tag` reads it back).
pub fn free_tag(code: &str) -> String {
    let mut hex: String = code.bytes().map(|b| format!("{b:02X}")).collect();
    while hex.len() < 24 {
        hex.push_str("00");
    }
    hex
}

/// A running simulated finish: each call to [`recv`](Self::recv) waits for the next crossing
/// and returns every line due by then.
#[derive(Debug)]
pub(crate) struct SimSource {
    script: std::vec::IntoIter<(Duration, String)>,
    next: Option<(Duration, String)>,
    start: Duration,
    clock: SharedClock,
}

impl SimSource {
    pub(crate) fn new(sim: &SimFinish, clock: SharedClock) -> Self {
        let mut script = sim.script().into_iter();
        let next = script.next();
        SimSource { script, next, start: clock.monotonic(), clock }
    }

    /// The next lines, or [`TransportError::EndOfInput`] once every runner has crossed.
    /// Cancel-safe: nothing is taken from the script before the wait is over.
    pub(crate) async fn recv(&mut self) -> Result<Chunk, TransportError> {
        let Some((offset, _)) = &self.next else { return Err(TransportError::EndOfInput) };
        let due = self.start + *offset;
        let now = self.clock.monotonic();
        if due > now {
            tokio::time::sleep(due - now).await;
        }
        let elapsed = self.clock.monotonic().saturating_sub(self.start);
        let mut bytes = Vec::new();
        let mut lines = 0;
        while lines < LINES_PER_CHUNK {
            match self.next.take() {
                Some((offset, chip)) if offset <= elapsed || lines == 0 => {
                    bytes.extend_from_slice(chip.as_bytes());
                    bytes.extend_from_slice(b"\r\n");
                    lines += 1;
                    self.next = self.script.next();
                }
                later => {
                    self.next = later;
                    break;
                }
            }
        }
        Ok(Chunk { bytes, at: self.clock.now(), mono: self.clock.monotonic() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_simulated_finish_is_realistic_and_reproducible() {
        let sim = SimFinish { runners: 200, rate: 10.0, unknown: 0.05, seed: 3 };
        let script = sim.script();
        assert_eq!(script, sim.script(), "same seed, same finish");
        let chips: std::collections::HashSet<_> = script.iter().map(|(_, c)| c.clone()).collect();
        assert_eq!(chips.len(), 200, "one chip per runner");
        assert!(script.len() > 300, "several reads per crossing: {}", script.len());
        assert!(script.windows(2).all(|w| w[0].0 <= w[1].0), "in time order");
        let unknown = chips.iter().filter(|c| c.starts_with("E200")).count();
        assert!((1..=30).contains(&unknown), "some unknown chips: {unknown}");
        let span = script.last().map_or(0.0, |(at, _)| at.as_secs_f64());
        assert!((10.0..40.0).contains(&span), "about 200 runners / 10 per s: {span}");
    }

    #[test]
    fn free_tags_are_the_code_in_ascii_hex() {
        assert_eq!(free_tag("123"), "313233000000000000000000");
        assert_eq!(free_tag("A12").len(), 24);
    }

    #[tokio::test]
    async fn every_crossing_arrives_once_then_the_input_ends() {
        let sim = SimFinish { runners: 40, rate: 0.0, unknown: 0.0, seed: 5 };
        let expected: Vec<String> = sim.script().into_iter().map(|(_, chip)| chip).collect();
        let mut source = SimSource::new(&sim, crate::clock::SystemClock::shared());
        let mut text = String::new();
        loop {
            match source.recv().await {
                Ok(chunk) => text.push_str(&String::from_utf8_lossy(&chunk.bytes)),
                Err(TransportError::EndOfInput) => break,
                Err(other) => panic!("{other}"),
            }
        }
        let got: Vec<&str> = text.lines().collect();
        assert_eq!(got, expected);
    }
}
