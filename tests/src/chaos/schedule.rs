//! A fault schedule drawn from a seed: plain data (readers, manual entries, crashes, cloud
//! faults, remote closes, a take-over) with a readable `Display`, identical for the same seed.

use std::fmt;

use rand::rngs::StdRng;
use rand::seq::SliceRandom as _;
use rand::{Rng as _, SeedableRng as _};

/// Protocols whose reads carry the reader's time and a replay key (rewound after a reconnect).
pub const KEYED: [&str; 4] = ["cloudbox", "ultra", "raceresult", "ipico"];
/// Protocols without reader time or replay key (inventory polls).
pub const UNKEYED: [&str; 2] = ["r2000", "chafon"];

/// Cloud faults in the simulator's `--fault` syntax. A spec this build of the simulator does not
/// parse is reported as skipped, so a new kind is one line here.
pub const CLOUD_FAULTS: [&str; 17] = [
    "500,n=1@POST /passings",
    "503,n=3@POST /passings",
    "5xx:0.3,n=6",
    "429:1,n=1@POST /passings",
    "reset-before,n=1@POST /passings",
    "reset-after,n=1@POST /passings",
    "reset-after,n=2@POST /passings",
    "reset-after,n=1@POST /sessions",
    "reset-after,n=1@GET /passings/session",
    "503,n=2@GET /passings/session",
    "hang-after:1500ms,n=1@POST /passings",
    "hang-before:1s,n=1@POST /passings",
    "504,for=800ms@POST /passings",
    "408,n=1@POST /passings",
    "413,n=1@POST /passings",
    "502,for=1s",
    "400,n=1@POST /passings",
];

/// Fault specs that may park a passing on purpose (the cloud rejects it as bad).
pub fn parks_on_purpose(spec: &str) -> bool {
    spec.starts_with("400") || spec.starts_with("422")
}

/// One of `items`, uniformly (`items` is never empty here; `Default` otherwise).
fn pick<T: Copy + Default>(rng: &mut StdRng, items: &[T]) -> T {
    items.get(rng.random_range(0..items.len().max(1))).copied().unwrap_or_default()
}

/// One emulated reader of the race.
#[derive(Debug, Clone, PartialEq)]
pub struct ReaderPlan {
    /// Protocol name as the spec grammar spells it.
    pub protocol: &'static str,
    /// Reader clock minus host clock, seconds.
    pub skew_s: i64,
    /// One read every this many milliseconds.
    pub every_ms: u64,
    /// Send every Nth frame twice.
    pub double_every: Option<usize>,
    /// Drop the link after this many frames (once).
    pub drop_after: Option<usize>,
    /// Frames written in random pieces.
    pub split: bool,
    /// A slow link: bytes reach the host this many milliseconds late.
    pub link_delay_ms: Option<u64>,
}

impl ReaderPlan {
    /// Whether the protocol's reads carry a replay key (so a rewind brings back what a crash or
    /// a cut link lost).
    pub fn keyed(&self) -> bool {
        KEYED.contains(&self.protocol)
    }
}

/// A manual entry, run as its own `timing-cli` process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Manual {
    /// `mark BIB`
    Mark(String),
    /// `stamp`
    Stamp,
    /// `assign BIB`
    Assign(String),
    /// `undo`
    Undo,
    /// `correct NUM --bib BIB`
    CorrectBib {
        /// The passing's number in the open session.
        num: i64,
        /// The new bib.
        bib: String,
    },
    /// `correct NUM --void`
    Void {
        /// The passing's number in the open session.
        num: i64,
    },
    /// `correct NUM --restore`
    Restore {
        /// The passing's number in the open session.
        num: i64,
    },
}

impl Manual {
    /// The CLI arguments.
    pub fn args(&self) -> Vec<String> {
        let s = |v: &[&str]| v.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>();
        match self {
            Manual::Mark(bib) => s(&["mark", bib]),
            Manual::Stamp => s(&["stamp"]),
            Manual::Assign(bib) => s(&["assign", bib]),
            Manual::Undo => s(&["undo"]),
            Manual::CorrectBib { num, bib } => s(&["correct", &num.to_string(), "--bib", bib]),
            Manual::Void { num } => s(&["correct", &num.to_string(), "--void"]),
            Manual::Restore { num } => s(&["correct", &num.to_string(), "--restore"]),
        }
    }
}

impl fmt::Display for Manual {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.args().join(" "))
    }
}

/// What happens at one moment of the race.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// `kill -9` the console's `run`, restart it `down_ms` later.
    Kill {
        /// How long the console stays dead.
        down_ms: u64,
    },
    /// Cut the reader's TCP connection (it reconnects).
    DropLink {
        /// Reader index.
        reader: usize,
    },
    /// The reader reboots: its port is gone for `down_ms`, its memory survives.
    Reboot {
        /// Reader index.
        reader: usize,
        /// How long it is down.
        down_ms: u64,
    },
    /// The reader numbers from 1 again (new log / file / session).
    RestartNumbering {
        /// Reader index.
        reader: usize,
    },
    /// A manual entry on a console (0 = the main laptop, 1 = the spare after a take-over).
    Manual {
        /// Console index.
        console: usize,
        /// The entry.
        entry: Manual,
    },
    /// Arm a cloud fault (`--fault` syntax).
    CloudFault {
        /// The spec.
        spec: &'static str,
    },
    /// Rows per page of the simulator's passing reads (P2).
    PageSize {
        /// Rows per page.
        size: usize,
    },
    /// RUFUS closes the main console's session from elsewhere.
    CloseElsewhere {
        /// Also run `session open` from a separate process right after.
        open_from_cli: bool,
    },
    /// The main laptop dies (`kill -9`); a spare laptop binds the same serial with
    /// `--take-over`, records `marks` and syncs. The main laptop comes back after `back_ms`.
    TakeOver {
        /// Bibs the spare records.
        marks: Vec<String>,
        /// When the main laptop's `run` is started again.
        back_ms: u64,
    },
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Kill { down_ms } => write!(f, "kill -9 run, restart after {down_ms} ms"),
            Action::DropLink { reader } => write!(f, "reader {reader}: drop the link"),
            Action::Reboot { reader, down_ms } => {
                write!(f, "reader {reader}: reboot, down {down_ms} ms")
            }
            Action::RestartNumbering { reader } => {
                write!(f, "reader {reader}: restart numbering from 1")
            }
            Action::Manual { console, entry } => write!(f, "console {console}: {entry}"),
            Action::CloudFault { spec } => write!(f, "cloud fault `{spec}`"),
            Action::PageSize { size } => write!(f, "cloud P2 page size {size}"),
            Action::CloseElsewhere { open_from_cli } => write!(
                f,
                "RUFUS closes the session from elsewhere{}",
                if *open_from_cli { ", then `session open` from another process" } else { "" }
            ),
            Action::TakeOver { marks, back_ms } => write!(
                f,
                "main laptop dies; spare binds with --take-over, marks {}, syncs; main back after {back_ms} ms",
                marks.join(",")
            ),
        }
    }
}

/// An action at a moment of the race.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Milliseconds after the readers start.
    pub at_ms: u64,
    /// What happens.
    pub action: Action,
}

/// Everything one seed does.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// The seed it was drawn from.
    pub seed: u64,
    /// How long the readers read.
    pub race_ms: u64,
    /// The readers.
    pub readers: Vec<ReaderPlan>,
    /// The steps, by time.
    pub steps: Vec<Step>,
}

impl Schedule {
    /// Draws the schedule of `seed`.
    pub fn draw(seed: u64) -> Schedule {
        let mut rng = StdRng::seed_from_u64(seed);
        let race_ms: u64 = rng.random_range(3000..=4500);
        let window = |rng: &mut StdRng, from: u64, before_end: u64| {
            rng.random_range(from..race_ms.saturating_sub(before_end).max(from + 1))
        };

        let n_readers = rng.random_range(2..=3);
        let mut keyed = KEYED.to_vec();
        keyed.shuffle(&mut rng);
        let mut pool: Vec<&'static str> = keyed.into_iter().take(n_readers).collect();
        if rng.random_bool(0.5) {
            // A reader without its own clock or replay keys replaces one.
            let unkeyed = pick(&mut rng, &UNKEYED);
            if let Some(last) = pool.last_mut() {
                *last = unkeyed;
            }
        }
        let readers: Vec<ReaderPlan> = pool
            .into_iter()
            .map(|protocol| ReaderPlan {
                protocol,
                skew_s: pick(&mut rng, &[0, 0, -30, 30, -7]),
                every_ms: rng.random_range(90..=220),
                double_every: rng.random_bool(0.3).then(|| rng.random_range(2..=5)),
                drop_after: rng.random_bool(0.25).then(|| rng.random_range(4..=14)),
                split: rng.random_bool(0.3),
                link_delay_ms: rng.random_bool(0.15).then(|| rng.random_range(50..=300)),
            })
            .collect();

        let mut steps = Vec::new();
        if rng.random_bool(0.2) {
            steps.push(Step {
                at_ms: 0,
                action: Action::PageSize { size: rng.random_range(1..=3) },
            });
        }
        for _ in 0..rng.random_range(0..=2) {
            let at_ms = window(&mut rng, 400, 600);
            steps.push(Step {
                at_ms,
                action: Action::Kill { down_ms: rng.random_range(150..=1200) },
            });
        }
        for _ in 0..rng.random_range(0..=2) {
            let reader = rng.random_range(0..readers.len());
            let at_ms = window(&mut rng, 300, 500);
            let action = if rng.random_bool(0.5) {
                Action::DropLink { reader }
            } else {
                Action::Reboot { reader, down_ms: rng.random_range(200..=900) }
            };
            steps.push(Step { at_ms, action });
        }
        if rng.random_bool(0.15) {
            let reader = rng.random_range(0..readers.len());
            steps.push(Step {
                at_ms: window(&mut rng, 800, 800),
                action: Action::RestartNumbering { reader },
            });
        }
        for _ in 0..rng.random_range(1..=3) {
            let spec = pick(&mut rng, &CLOUD_FAULTS);
            steps.push(Step {
                at_ms: window(&mut rng, 0, 800),
                action: Action::CloudFault { spec },
            });
        }
        let close_at = rng.random_bool(0.35).then(|| window(&mut rng, 900, 900));
        if let Some(at_ms) = close_at {
            let open_from_cli = rng.random_bool(0.4);
            steps.push(Step { at_ms, action: Action::CloseElsewhere { open_from_cli } });
        }
        let take_over_at = rng.random_bool(0.25).then(|| window(&mut rng, 1400, 1000));
        if let Some(at_ms) = take_over_at {
            let marks = (0..rng.random_range(1..=3))
                .map(|_| rng.random_range(500..=599).to_string())
                .collect();
            let back_ms = rng.random_range(300..=1500);
            steps.push(Step { at_ms, action: Action::TakeOver { marks, back_ms } });
        }
        for _ in 0..rng.random_range(3..=8) {
            let at_ms = window(&mut rng, 250, 100);
            let console = match take_over_at {
                Some(t) if at_ms > t + 200 && rng.random_bool(0.4) => 1,
                _ => 0,
            };
            let bib = rng.random_range(1..=300).to_string();
            let num = rng.random_range(1..=12);
            let entry = match rng.random_range(0..100) {
                0..30 => Manual::Mark(bib),
                30..42 => Manual::Stamp,
                42..55 => Manual::Assign(bib),
                55..65 => Manual::Undo,
                65..82 => Manual::CorrectBib { num, bib },
                82..94 => Manual::Void { num },
                _ => Manual::Restore { num },
            };
            steps.push(Step { at_ms, action: Action::Manual { console, entry } });
        }
        steps.sort_by_key(|s| s.at_ms);
        Schedule { seed, race_ms, readers, steps }
    }

    /// Whether a cloud fault may park a passing on purpose.
    pub fn parks_on_purpose(&self) -> bool {
        self.steps
            .iter()
            .any(|s| matches!(&s.action, Action::CloudFault { spec } if parks_on_purpose(spec)))
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "schedule of seed {} ({} ms of reads):", self.seed, self.race_ms)?;
        for (i, r) in self.readers.iter().enumerate() {
            write!(
                f,
                "  reader {i}: {} every {} ms, clock {:+} s",
                r.protocol, r.every_ms, r.skew_s
            )?;
            if let Some(n) = r.double_every {
                write!(f, ", every {n}th frame doubled")?;
            }
            if let Some(n) = r.drop_after {
                write!(f, ", link dropped after {n} frames")?;
            }
            if r.split {
                f.write_str(", frames split")?;
            }
            if let Some(ms) = r.link_delay_ms {
                write!(f, ", slow link {ms} ms")?;
            }
            writeln!(f)?;
        }
        for s in &self.steps {
            writeln!(f, "  t=+{:>5} ms  {}", s.at_ms, s.action)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_draws_the_same_schedule() {
        for seed in 0..50 {
            let a = Schedule::draw(seed);
            assert_eq!(a, Schedule::draw(seed));
            assert!((2..=3).contains(&a.readers.len()));
            assert!(a.steps.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
            assert!(!a.to_string().is_empty());
        }
    }
}
