//! The numbers of a reader's numbering run that were delivered, with the holes a cut link left:
//! the bookkeeping the Ultra (log ids), RACE RESULT (passing numbers of a file) and CloudBox
//! (passing numbers of a session) conversations share, written once. It tells where a rewind
//! after a reconnect starts, and whether a read is of a new (or an earlier) numbering run.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

/// Numbers delivered past a hole that are remembered per numbering run; beyond this the oldest
/// hole is given up (the reader evidently does not have those numbers).
const HOLES_KEPT: usize = 4096;

/// The numbers of one numbering run (RACE RESULT passings of a file, an Ultra log, a CloudBox
/// session) that were delivered: every number up to `through`, and the ones in `above`, past a
/// hole. A hole is what a cut link lost in transit (or a live gap being rewound): it stays until
/// a rewind fills it, so a rewind after the next reconnect starts at `through + 1` — not after the
/// highest number seen, which may have arrived live past the hole.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Numbered {
    pub(crate) through: u64,
    /// The reader time of the read numbered `through` (CloudBox rewinds by time).
    pub(crate) through_at: Option<DateTime<Utc>>,
    pub(crate) above: BTreeMap<u64, Option<DateTime<Utc>>>,
}

impl Numbered {
    /// Everything up to `n` is held.
    pub(crate) fn through(n: u64, at: Option<DateTime<Utc>>) -> Self {
        Numbered { through: n, through_at: at, above: BTreeMap::new() }
    }

    /// The highest number delivered.
    pub(crate) fn highest(&self) -> u64 {
        self.above.last_key_value().map_or(self.through, |(n, _)| *n).max(self.through)
    }

    /// The reader time of the highest number delivered.
    pub(crate) fn highest_at(&self) -> Option<DateTime<Utc>> {
        match self.above.last_key_value() {
            Some((_, at)) => *at,
            None => self.through_at,
        }
    }

    pub(crate) fn contains(&self, n: u64) -> bool {
        n <= self.through || self.above.contains_key(&n)
    }

    /// Whether a read numbered `n`, made at `at` (`rewound`: from the reader's memory), is of a
    /// new numbering run: the read this run delivered under that number had another time (the
    /// reconnect's rewind asks for the read numbered `through` again to check exactly that), or
    /// a live read at or below the highest number came after the newest read delivered — within
    /// one run numbers and times grow together.
    pub(crate) fn new_run(&self, n: u64, at: Option<DateTime<Utc>>, rewound: bool) -> bool {
        let Some(at) = at else { return false };
        let known = if n == self.through && n > 0 {
            self.through_at
        } else {
            self.above.get(&n).copied().flatten()
        };
        if let Some(known) = known {
            return known != at;
        }
        !rewound && n <= self.highest() && self.highest_at().is_some_and(|newest| at >= newest)
    }

    /// Whether a rewound read numbered `n`, made at `at`, is of an earlier numbering run: this
    /// run delivered a number at or below `n` with a later time (within one run numbers and times
    /// grow together). A rewind by time reaches all of the reader's memory, earlier runs too.
    pub(crate) fn earlier_run(&self, n: u64, at: Option<DateTime<Utc>>) -> bool {
        let Some(at) = at else { return false };
        let above = self.above.range(..=n).next_back().and_then(|(_, known)| *known);
        let below = match above {
            Some(known) => Some(known),
            None if self.through <= n && self.through > 0 => self.through_at,
            None => None,
        };
        below.is_some_and(|known| at < known)
    }

    /// Number `n` (made at `at`) was delivered.
    pub(crate) fn note(&mut self, n: u64, at: Option<DateTime<Utc>>) {
        if n <= self.through {
            return;
        }
        self.above.insert(n, at);
        self.absorb();
        while self.above.len() > HOLES_KEPT {
            if let Some((first, at)) = self.above.pop_first() {
                self.through = first;
                self.through_at = at.or(self.through_at);
            }
            self.absorb();
        }
    }

    fn absorb(&mut self) {
        while let Some(entry) = self.above.first_entry() {
            if *entry.key() != self.through.saturating_add(1) {
                break;
            }
            let (n, at) = entry.remove_entry();
            self.through = n;
            self.through_at = at.or(self.through_at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_keeps_holes_until_they_are_filled() {
        let mut seen = Numbered::through(10, None);
        seen.note(13, None);
        seen.note(14, None);
        assert_eq!((seen.through, seen.highest()), (10, 14));
        assert!(seen.contains(9) && seen.contains(13) && !seen.contains(11));
        seen.note(11, None);
        assert_eq!(seen.through, 11);
        seen.note(12, None);
        assert_eq!((seen.through, seen.highest()), (14, 14));
        assert!(seen.above.is_empty());
        let mut many = Numbered::through(0, None);
        for n in 2..(HOLES_KEPT as u64 + 10) {
            many.note(n, None);
        }
        assert!(many.above.len() <= HOLES_KEPT, "bounded");
        assert!(many.through > 0, "the oldest hole was given up");
    }
}
