//! The invariants checked after every seed, each a function of what was observed (local stores,
//! the simulator's snapshot, the emulators' reads) returning `Err(Violation)` with details.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use rufus_cloud_sim::{SessionState as CloudSession, Snapshot};
use timing_core::clock::format_utc;
use timing_core::domain::{FeedEntry, Passing, Session, SyncState};
use timing_core::store::OutboxCounts;

use super::world::{Emission, short};

/// At most this many detail lines per violation.
const MAX_DETAILS: usize = 15;

/// One row of a console's `raw_reads`.
#[derive(Debug, Clone)]
pub struct RawRow {
    /// The reader it came from (its spec).
    pub source: String,
    /// The chip.
    pub chip: String,
    /// The reader's replay key, where the protocol has one.
    pub replay_key: Option<String>,
    /// Flagged as a duplicate (made no passing).
    pub duplicate: bool,
}

/// What one console's data directory holds after the drain.
#[derive(Debug)]
pub struct ConsoleState {
    /// "main" or "spare".
    pub name: String,
    /// Device ids bound.
    pub devices: Vec<String>,
    /// Every session.
    pub sessions: Vec<Session>,
    /// Every passing of every session.
    pub passings: Vec<Passing>,
    /// The effective view of every session (originals with corrections applied).
    pub feed: Vec<FeedEntry>,
    /// The outbox counters over all sessions.
    pub counts: OutboxCounts,
    /// Every raw read.
    pub raw: Vec<RawRow>,
    /// What its `run` processes logged (warnings for the timer among it).
    pub log: String,
}

impl ConsoleState {
    fn token(&self, session: timing_core::domain::SessionId) -> Option<&str> {
        self.sessions.iter().find(|s| s.id == session).and_then(|s| s.token_session.as_deref())
    }
}

/// The reads of one emulator.
#[derive(Debug)]
pub struct ReaderReads {
    /// Reader index in the schedule.
    pub index: usize,
    /// Its protocol.
    pub protocol: &'static str,
    /// Its TCP port (part of the source name).
    pub port: u16,
    /// Every read it made.
    pub emitted: Vec<Emission>,
    /// Per read: whether it must reach a console (reads without a replay key that were on the
    /// wire when a console died or a link was cut may be lost for good).
    pub required: Vec<bool>,
    /// Per read: the RACE RESULT passing file it was left behind in, when no connection could
    /// fetch it (see `Reader::left_behind`): then a console must have told the timer to
    /// download that file from the decoder.
    pub left_behind: Vec<Option<u32>>,
}

/// Everything the invariants look at.
#[derive(Debug)]
pub struct Observed {
    /// The simulator's state.
    pub snapshot: Snapshot,
    /// Every console, the main one first.
    pub consoles: Vec<ConsoleState>,
    /// Every emulator's reads.
    pub reads: Vec<ReaderReads>,
    /// The schedule armed a fault that may park a passing on purpose.
    pub parks_allowed: bool,
    /// What the consoles did during the run that they must not.
    pub misbehaviour: Vec<String>,
}

/// A broken invariant.
#[derive(Debug, Clone)]
pub struct Violation {
    /// Which invariant.
    pub invariant: &'static str,
    /// What is wrong, one item per line.
    pub details: Vec<String>,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invariant {} violated:", self.invariant)?;
        for d in self.details.iter().take(MAX_DETAILS) {
            writeln!(f, "    {d}")?;
        }
        if self.details.len() > MAX_DETAILS {
            writeln!(f, "    … and {} more", self.details.len() - MAX_DETAILS)?;
        }
        Ok(())
    }
}

fn check(invariant: &'static str, details: Vec<String>) -> Result<(), Violation> {
    if details.is_empty() { Ok(()) } else { Err(Violation { invariant, details }) }
}

/// A named check.
pub type Check = (&'static str, fn(&Observed) -> Result<(), Violation>);

/// Every invariant, in order.
pub const ALL: [Check; 7] = [
    ("0 behaviour", behaviour),
    ("1 exactly once by content", exactly_once_by_content),
    ("2 no num_passing repeats", no_repeated_numbers),
    ("3 effective views agree", effective_views_agree),
    ("4 every read kept", every_read_kept),
    ("4b every read made a passing", every_read_made_a_passing),
    ("5 nothing left pending", nothing_pending),
];

/// Invariant 0: What the consoles must not do on the way (bind without take-over, hang on SIGTERM,
/// never finish draining).
pub fn behaviour(o: &Observed) -> Result<(), Violation> {
    check("0 behaviour", o.misbehaviour.clone())
}

/// The device ids of every console.
fn devices(o: &Observed) -> HashSet<&str> {
    o.consoles.iter().flat_map(|c| c.devices.iter().map(String::as_str)).collect()
}

/// The cloud sessions of the consoles' devices, in creation order.
fn cloud_sessions(o: &Observed) -> Vec<&CloudSession> {
    let devices = devices(o);
    o.snapshot.sessions.iter().filter(|s| devices.contains(s.deviceid.as_str())).collect()
}

/// What a passing looks like on the wire: bib (the chip when it has no bib), chip, time, status.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Content {
    bib: String,
    chip: Option<String>,
    timestamp: String,
    status: Option<String>,
}

impl fmt::Display for Content {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bib {} ", self.bib)?;
        if let Some(c) = &self.chip {
            write!(f, "chip {c} ")?;
        }
        write!(f, "at {}", self.timestamp)?;
        if let Some(s) = &self.status {
            write!(f, " status {s:?}")?;
        }
        Ok(())
    }
}

/// A passing that should be in the cloud: not moved, not parked, not a stamp waiting for a bib.
fn sendable(p: &Passing) -> bool {
    p.sync_state != SyncState::Moved
        && p.sync_state != SyncState::Parked
        && (p.bib.is_some() || p.chip.is_some())
}

/// Invariant 1: Every committed passing that is not moved is in the cloud exactly once, by content,
/// across all sessions of the device (and the cloud holds nothing the consoles did not record).
pub fn exactly_once_by_content(o: &Observed) -> Result<(), Violation> {
    let mut local: BTreeMap<Content, Vec<String>> = BTreeMap::new();
    for c in &o.consoles {
        for p in c.passings.iter().filter(|p| sendable(p)) {
            let Some(bib) = p.bib.clone().or_else(|| p.chip.clone()) else { continue };
            let content = Content {
                bib,
                chip: p.chip.clone(),
                timestamp: format_utc(p.timestamp),
                status: p.status.clone(),
            };
            let token = c.token(p.session_id).map(short).unwrap_or_else(|| "no token".into());
            local.entry(content).or_default().push(format!(
                "{} session {} ({token}) #{} {}",
                c.name, p.session_id, p.num_passing, p.sync_state
            ));
        }
    }
    let mut cloud: BTreeMap<Content, Vec<String>> = BTreeMap::new();
    for s in cloud_sessions(o) {
        for p in &s.passings {
            let content = Content {
                bib: p.bib.clone(),
                chip: p.chip.clone(),
                timestamp: p.timestamp.clone(),
                status: p.status.clone(),
            };
            cloud.entry(content).or_default().push(format!(
                "cloud {} #{}",
                short(&s.token_session),
                p.num_passing
            ));
        }
    }
    let mut details = Vec::new();
    let keys: std::collections::BTreeSet<&Content> = local.keys().chain(cloud.keys()).collect();
    for k in keys {
        let l = local.get(k).map_or(&[][..], Vec::as_slice);
        let c = cloud.get(k).map_or(&[][..], Vec::as_slice);
        if l.len() != c.len() {
            details.push(format!(
                "{k}: {} local, {} in the cloud [{}]",
                l.len(),
                c.len(),
                l.iter().chain(c).cloned().collect::<Vec<_>>().join("; ")
            ));
        }
    }
    check("1 exactly once by content", details)
}

/// Invariant 2: No `num_passing` repeats within a cloud session.
pub fn no_repeated_numbers(o: &Observed) -> Result<(), Violation> {
    let mut details = Vec::new();
    for s in cloud_sessions(o) {
        let repeated = |nums: &mut dyn Iterator<Item = u64>| {
            let mut seen = HashSet::new();
            let mut twice: Vec<u64> = nums.filter(|n| !seen.insert(*n)).collect();
            twice.sort_unstable();
            twice.dedup();
            twice
        };
        let received = repeated(&mut s.received.iter().copied());
        if !received.is_empty() {
            details.push(format!(
                "session {}: received these numbers more than once: {received:?}",
                short(&s.token_session)
            ));
        }
        let stored = repeated(&mut s.passings.iter().map(|p| p.num_passing));
        if !stored.is_empty() {
            let shown: Vec<String> = s
                .passings
                .iter()
                .filter(|p| stored.contains(&p.num_passing))
                .map(|p| {
                    format!("#{} bib {} at {} {:?}", p.num_passing, p.bib, p.timestamp, p.status)
                })
                .collect();
            details.push(format!(
                "session {}: stores numbers {stored:?} more than once: {}",
                short(&s.token_session),
                shown.join("; ")
            ));
        }
    }
    check("2 no num_passing repeats", details)
}

/// What a passing shows once corrections are applied. Two void passings show the same
/// whatever their bib and time: a void passing is out of the results (a carrier that voids a
/// passing carries the last bib the cloud knew, since RUFUS needs one).
#[derive(Debug, Clone, Eq)]
struct Shown {
    bib: String,
    timestamp: String,
    void: bool,
}

impl PartialEq for Shown {
    fn eq(&self, other: &Self) -> bool {
        self.void == other.void
            && (self.void || (self.bib == other.bib && self.timestamp == other.timestamp))
    }
}

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bib {} at {}{}", self.bib, self.timestamp, if self.void { " VOID" } else { "" })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Carrier {
    Correction,
    Restore,
    Void,
}

/// `"correction of #N"`, `"restore #N"`, `"void #N"`, each optionally `" in session TOKEN"`.
fn parse_carrier(status: &str) -> Option<(Carrier, u64, Option<&str>)> {
    let status = status.trim();
    let (kind, rest) = [
        ("correction of #", Carrier::Correction),
        ("restore #", Carrier::Restore),
        ("void #", Carrier::Void),
    ]
    .into_iter()
    .find_map(|(prefix, kind)| status.strip_prefix(prefix).map(|rest| (kind, rest)))?;
    let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    let num: u64 = rest.get(..digits)?.parse().ok()?;
    let tail = rest.get(digits..)?.trim();
    if tail.is_empty() {
        return Some((kind, num, None));
    }
    let token = tail.strip_prefix("in session")?.trim();
    (!token.is_empty()).then_some((kind, num, Some(token)))
}

/// The cloud's effective view: originals by (token, num), with every carrier applied in order
/// (sessions by creation, then num_passing); the last carrier wins. Also lists carriers that
/// point at nothing.
fn cloud_view(o: &Observed) -> (HashMap<(String, u64), Shown>, Vec<String>) {
    let sessions = cloud_sessions(o);
    let mut originals = HashMap::new();
    let mut carriers = Vec::new();
    for (order, s) in sessions.iter().enumerate() {
        for p in &s.passings {
            match p.status.as_deref().and_then(parse_carrier) {
                Some((kind, num, target)) => {
                    let target = target.unwrap_or(&s.token_session).to_owned();
                    carriers.push((order, p.num_passing, kind, target, num, p, &s.token_session));
                }
                None => {
                    let shown = Shown {
                        bib: p.bib.clone(),
                        timestamp: p.timestamp.clone(),
                        void: p.status.as_deref() == Some("void"),
                    };
                    originals.insert((s.token_session.clone(), p.num_passing), shown);
                }
            }
        }
    }
    carriers.sort_by_key(|c| (c.0, c.1));
    let mut dangling = Vec::new();
    for (_, num_passing, kind, target, num, p, token) in carriers {
        match originals.get_mut(&(target.clone(), num)) {
            Some(shown) => match kind {
                Carrier::Correction | Carrier::Restore => {
                    shown.bib.clone_from(&p.bib);
                    shown.timestamp.clone_from(&p.timestamp);
                    shown.void = false;
                }
                Carrier::Void => shown.void = true,
            },
            None => dangling.push(format!(
                "cloud {} #{num_passing} {:?} points at #{num} of session {}, which the cloud \
                 does not hold as an original passing",
                short(token),
                p.status.as_deref().unwrap_or_default(),
                short(&target)
            )),
        }
    }
    (originals, dangling)
}

/// Invariant 3: The effective bib/time/void of every original passing in the cloud (carriers
/// applied) equals the console's effective view.
pub fn effective_views_agree(o: &Observed) -> Result<(), Violation> {
    let (cloud, mut details) = cloud_view(o);
    let mut local: HashMap<(String, u64), (Shown, String)> = HashMap::new();
    for c in &o.consoles {
        for e in &c.feed {
            let bibless = e.bib.is_none() && e.chip.is_none();
            // A stamp still waiting for its bib was never sent; one whose bib was taken back
            // after it was sent is out of the results, as a void is.
            if (bibless && e.sync_state == SyncState::Pending)
                || matches!(e.sync_state, SyncState::Moved | SyncState::Parked)
            {
                continue;
            }
            let Some(token) = c.token(e.session_id) else { continue };
            let bib = e.bib.clone().or_else(|| e.chip.clone()).unwrap_or_default();
            let shown = Shown { bib, timestamp: format_utc(e.timestamp), void: e.void || bibless };
            let key = (token.to_owned(), u64::try_from(e.num_passing).unwrap_or(0));
            let whose = format!("{} session {} #{}", c.name, e.session_id, e.num_passing);
            if let Some((other, by)) = local.get(&key) {
                details.push(format!(
                    "{whose} and {by} both claim #{} of cloud session {} ({shown} / {other})",
                    key.1,
                    short(&key.0)
                ));
            }
            local.insert(key, (shown, whose));
        }
    }
    let mut keys: Vec<&(String, u64)> = local.keys().chain(cloud.keys()).collect();
    keys.sort();
    keys.dedup();
    let known: HashSet<&str> = local.keys().map(|k| k.0.as_str()).collect();
    for key in keys {
        let where_ = format!("{} #{}", short(&key.0), key.1);
        match (local.get(key), cloud.get(key)) {
            (Some((l, whose)), Some(c)) if l != c => {
                details.push(format!("{where_}: console ({whose}) shows {l}, the cloud {c}"));
            }
            (Some((l, whose)), None) => details.push(format!(
                "{where_}: console ({whose}) shows {l}; the cloud has no such original passing"
            )),
            (None, Some(c)) if known.contains(key.0.as_str()) => details.push(format!(
                "{where_}: the cloud shows {c}; no console shows an original passing there"
            )),
            _ => {}
        }
    }
    check("3 effective views agree", details)
}

/// Whether a raw row came from the emulator listening on `port`.
pub fn from_reader(row: &RawRow, port: u16) -> bool {
    row.source.contains(&format!(":{port}?")) || row.source.ends_with(&format!(":{port}"))
}

/// Invariant 4: Every read an emulator made is in the `raw_reads` of some console (duplicates
/// allowed, missing not): counted by (source, replay key), or by chip for reads without a key.
pub fn every_read_kept(o: &Observed) -> Result<(), Violation> {
    let mut details = Vec::new();
    for r in &o.reads {
        let rows: Vec<&RawRow> = o
            .consoles
            .iter()
            .flat_map(|c| c.raw.iter())
            .filter(|row| from_reader(row, r.port))
            .collect();
        let mut stored: HashMap<&str, usize> = HashMap::new();
        for row in &rows {
            *stored.entry(row.replay_key.as_deref().unwrap_or(&row.chip)).or_default() += 1;
        }
        let mut wanted: BTreeMap<String, (usize, Vec<&Emission>)> = BTreeMap::new();
        for (e, file) in r.emitted.iter().zip(&r.left_behind) {
            let Some(file) = file else { continue };
            let have = stored.get(e.read.identity().as_str()).copied().unwrap_or(0);
            if have == 0 && !o.consoles.iter().any(|c| told_to_download(&c.log, *file)) {
                details.push(format!(
                    "reader {} ({}): read {} was left behind in passing file {file} (the decoder \
                     closed it before any console connected again) and no console said to \
                     download that file [chip {} at +{} ms]",
                    r.index,
                    r.protocol,
                    e.read.identity(),
                    e.read.chip,
                    e.at_ms
                ));
            }
        }
        for (e, required) in r.emitted.iter().zip(&r.required) {
            if *required {
                let entry = wanted.entry(e.read.identity()).or_default();
                entry.0 += 1;
                entry.1.push(e);
            }
        }
        for (identity, (count, emissions)) in wanted {
            let have = stored.get(identity.as_str()).copied().unwrap_or(0);
            if have < count {
                let when: Vec<String> = emissions
                    .iter()
                    .map(|e| {
                        format!("chip {} at +{} ms{}", e.read.chip, e.at_ms, live(e.read.live))
                    })
                    .collect();
                details.push(format!(
                    "reader {} ({}): read {identity} made {count}×, stored {have}× [{}]",
                    r.index,
                    r.protocol,
                    when.join(", ")
                ));
            }
        }
    }
    check("4 every read kept", details)
}

/// Whether a console's log tells the timer to download RACE RESULT passing file `file` (the
/// supervisor's warning: "… download file 3 …", "download files 3, 4 …", "files 3 to 12 …").
fn told_to_download(log: &str, file: u32) -> bool {
    log.lines().filter_map(|line| line.split_once("download ")).any(|(_, advice)| {
        let Some(files) = advice.split(" from the decoder").next() else { return false };
        let numbers: Vec<u32> =
            files.split(|c: char| !c.is_ascii_digit()).filter_map(|n| n.parse().ok()).collect();
        if files.contains(" to ") {
            matches!(numbers.as_slice(), [from, to] if (*from..=*to).contains(&file))
        } else {
            numbers.contains(&file)
        }
    })
}

fn live(live: bool) -> &'static str {
    if live { "" } else { ", made while not linked" }
}

/// Invariant 4b: Every read an emulator made became a passing (its chip is on a passing of some
/// console): a rewind, a doubled frame or a restarted numbering may bring a read again, never lose
/// one.
pub fn every_read_made_a_passing(o: &Observed) -> Result<(), Violation> {
    let chips: HashSet<&str> = o
        .consoles
        .iter()
        .flat_map(|c| c.passings.iter().filter_map(|p| p.chip.as_deref()))
        .collect();
    let mut details = Vec::new();
    for r in &o.reads {
        for (e, required) in r.emitted.iter().zip(&r.required) {
            if *required && !e.read.chip.is_empty() && !chips.contains(e.read.chip.as_str()) {
                let flagged = o
                    .consoles
                    .iter()
                    .flat_map(|c| c.raw.iter())
                    .filter(|row| from_reader(row, r.port) && row.chip == e.read.chip)
                    .map(|row| if row.duplicate { "duplicate" } else { "not duplicate" })
                    .collect::<Vec<_>>();
                details.push(format!(
                    "reader {} ({}): chip {} (key {}) made at +{} ms{} has no passing; its raw \
                     reads: {}",
                    r.index,
                    r.protocol,
                    e.read.chip,
                    e.read.replay_key.as_deref().unwrap_or("none"),
                    e.at_ms,
                    live(e.read.live),
                    if flagged.is_empty() { "none".into() } else { flagged.join(", ") }
                ));
            }
        }
    }
    check("4b every read made a passing", details)
}

/// Invariant 5: Nothing is left pending, and nothing parked unless the schedule parked on purpose.
pub fn nothing_pending(o: &Observed) -> Result<(), Violation> {
    let mut details = Vec::new();
    for c in &o.consoles {
        if c.counts.pending > 0 || (c.counts.parked > 0 && !o.parks_allowed) {
            let stuck: Vec<String> = c
                .passings
                .iter()
                .filter(|p| {
                    (p.sync_state == SyncState::Pending && (p.bib.is_some() || p.chip.is_some()))
                        || (p.sync_state == SyncState::Parked && !o.parks_allowed)
                })
                .map(|p| {
                    let state = c
                        .sessions
                        .iter()
                        .find(|s| s.id == p.session_id)
                        .map(|s| s.state.to_string())
                        .unwrap_or_default();
                    format!(
                        "session {} ({state}) #{} {} attempts {}{}",
                        p.session_id,
                        p.num_passing,
                        p.sync_state,
                        p.sync_attempts,
                        p.sync_error.as_deref().map(|e| format!(": {e}")).unwrap_or_default()
                    )
                })
                .collect();
            details.push(format!(
                "{}: pending {}, parked {}: {}",
                c.name,
                c.counts.pending,
                c.counts.parked,
                stuck.join("; ")
            ));
        }
    }
    check("5 nothing left pending", details)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carriers_parse_with_and_without_a_session() {
        assert_eq!(parse_carrier("correction of #12"), Some((Carrier::Correction, 12, None)));
        assert_eq!(parse_carrier("void #3"), Some((Carrier::Void, 3, None)));
        assert_eq!(
            parse_carrier("restore #4 in session ABCD"),
            Some((Carrier::Restore, 4, Some("ABCD")))
        );
        assert_eq!(parse_carrier("void"), None);
        assert_eq!(parse_carrier("void #x"), None);
        assert_eq!(parse_carrier("void #3 in session"), None);
    }
}
