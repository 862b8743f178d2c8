//! Real reader output as black-box decoder vectors: every `<protocol>-<source>.bin` in the shared
//! `real-frames` folder (env `TIMING_REAL_FRAMES`, else `../../../shared/real-frames` from this
//! crate) is decoded whole and in random pieces (same output, no panic, buffers bounded), and its
//! reads are compared with what the `.json` sidecar expects: each expected read in order (chip
//! case-insensitive, reader time to the precision the source gives, and every other field the
//! sidecar states), optional reads may be missing, no read the sidecar does not expect (unless it
//! says `"extra_reads_ok": true`), and so nothing the sidecar calls a read rejected (the rejections are listed with a diff). A missing
//! folder (CI clones elsewhere) skips the test with one line.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests stop loudly
#![allow(clippy::panic, clippy::indexing_slicing)] // and so do their helpers
#![allow(clippy::print_stdout, clippy::print_stderr)] // the skip line and the diff

use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use timing_readers::timy::TimyInfo;
use timing_readers::{Decoded, Protocol, ReadDetails, ReaderTime, Rssi, TagRead, decode_all};

/// The whole test, every file, must finish within this (debug build, 2 cores).
const TIME_BUDGET: Duration = Duration::from_secs(120);
/// Byte-by-byte feeding only for files up to this size (the large capture is split randomly).
const BYTE_BY_BYTE_MAX: usize = 32 * 1024;
/// Random splittings per file.
const SPLITTINGS: u64 = 4;
/// Diff lines shown per file.
const DIFF_LINES: usize = 40;
/// Most reads per side compared pair by pair in a diff.
const WINDOW: usize = 400;

fn folder() -> PathBuf {
    match std::env::var_os("TIMING_REAL_FRAMES") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/real-frames"),
    }
}

/// A small deterministic generator (xorshift64*), seeded per file and splitting.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1)
    }
}

fn seed(name: &str, round: u64) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325 ^ round, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// Feeds `bytes` in pieces of 1..=`max_piece` bytes, checking the buffer bound after each feed.
fn in_pieces(
    protocol: Protocol,
    bytes: &[u8],
    rng: &mut Rng,
    max_piece: u64,
) -> Result<Vec<Decoded>, String> {
    let mut decoder = protocol.decoder();
    let mut out = Vec::new();
    let mut from = 0;
    while from < bytes.len() {
        let len = usize::try_from(1 + rng.below(max_piece)).unwrap();
        let to = (from + len).min(bytes.len());
        decoder.feed(&bytes[from..to], &mut out);
        if decoder.buffered() > protocol.buffer_limit() {
            return Err(format!(
                "buffer {} over the limit {} after byte {to}",
                decoder.buffered(),
                protocol.buffer_limit()
            ));
        }
        from = to;
    }
    decoder.finish(&mut out);
    if decoder.buffered() != 0 {
        return Err("finish left bytes in the decoder".into());
    }
    Ok(out)
}

fn byte_by_byte(protocol: Protocol, bytes: &[u8]) -> Vec<Decoded> {
    let mut decoder = protocol.decoder();
    let mut out = Vec::new();
    for b in bytes {
        decoder.feed(std::slice::from_ref(b), &mut out);
    }
    decoder.finish(&mut out);
    out
}

/// The sidecar's expected reads, from `expected` (objects) or `expected_columns` +
/// `expected_rows` (arrays).
fn expected_reads(sidecar: &Value) -> Result<Vec<Map<String, Value>>, String> {
    if let Some(list) = sidecar.get("expected").and_then(Value::as_array) {
        return list
            .iter()
            .map(|e| {
                e.as_object().cloned().ok_or_else(|| format!("expected entry not an object: {e}"))
            })
            .collect();
    }
    let columns = sidecar
        .get("expected_columns")
        .and_then(Value::as_array)
        .ok_or("sidecar has neither `expected` nor `expected_columns`")?;
    let names: Vec<String> = columns
        .iter()
        .map(|c| c.as_str().map(str::to_string).ok_or("column name not a string"))
        .collect::<Result<_, _>>()?;
    let rows =
        sidecar.get("expected_rows").and_then(Value::as_array).ok_or("no `expected_rows`")?;
    rows.iter()
        .map(|row| {
            let cells = row.as_array().ok_or_else(|| format!("row not an array: {row}"))?;
            if cells.len() != names.len() {
                return Err(format!(
                    "row {row} has {} cells for {} columns",
                    cells.len(),
                    names.len()
                ));
            }
            Ok(names.iter().cloned().zip(cells.iter().cloned()).collect())
        })
        .collect()
}

fn is_optional(expected: &Map<String, Value>) -> bool {
    expected.get("optional").and_then(Value::as_bool).unwrap_or(false)
}

/// The read's time as text in the form of the expected one (9 decimals), or why not.
fn time_text(read: &TagRead, expected: &str, days: Option<u64>) -> Result<String, String> {
    let got = read.reader_time.ok_or("no reader time")?;
    let text = match (got, expected) {
        (ReaderTime::Utc(t), e) if e.ends_with('Z') => {
            t.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string()
        }
        (ReaderTime::Local(t), e) if e.contains('T') => {
            t.format("%Y-%m-%dT%H:%M:%S%.9f").to_string()
        }
        (ReaderTime::SinceStart { days: d, time }, _) if days.is_some() => {
            if Some(u64::from(d)) != days {
                return Err(format!("day {d}, expected day {}", days.unwrap_or(0)));
            }
            time.format("%H:%M:%S%.9f").to_string()
        }
        (ReaderTime::TimeOfDay(t), e) if !e.contains('T') && days.is_none() => {
            t.format("%H:%M:%S%.9f").to_string()
        }
        (other, _) => return Err(format!("reader time {other:?} is not of the expected kind")),
    };
    Ok(text)
}

/// `expected` as the source gives it equals `got` (9 decimals) cut to the same precision.
fn same_time(expected: &str, got: &str) -> bool {
    let (e_main, e_frac, e_z) = split_time(expected);
    let (g_main, g_frac, g_z) = split_time(got);
    e_main == g_main && e_z == g_z && g_frac.starts_with(e_frac)
}

fn split_time(t: &str) -> (&str, &str, bool) {
    let (t, z) = match t.strip_suffix('Z') {
        Some(t) => (t, true),
        None => (t, false),
    };
    match t.split_once('.') {
        Some((main, frac)) => (main, frac, z),
        None => (t, "", z),
    }
}

fn timy_fields(read: &TagRead) -> Option<(String, String, char)> {
    let ReadDetails::Timy(d) = &read.details else { return None };
    let channel = format!("C{}{}", d.channel.number, if d.channel.manual { "M" } else { "" });
    let flag = match d.info {
        TimyInfo::Normal => ' ',
        TimyInfo::NoValidId => '?',
        TimyInfo::FromMemory => 'm',
        TimyInfo::Cleared => 'c',
        TimyInfo::Disqualified => 'd',
        TimyInfo::ManualInput => 'i',
        TimyInfo::NewId => 'n',
    };
    Some((d.number.to_string(), channel, flag))
}

/// Why `read` is not `expected`, or `None` when it is.
fn mismatch(expected: &Map<String, Value>, read: &TagRead) -> Option<String> {
    let mut why = Vec::new();
    for (key, want) in expected {
        match key.as_str() {
            "optional" => {}
            "chip" => match want.as_str() {
                Some(chip) if !chip.eq_ignore_ascii_case(&read.chip) => {
                    why.push(format!("chip {:?}", read.chip))
                }
                None if !want.is_null() => why.push(format!("bad sidecar chip {want}")),
                None if !read.chip.is_empty() => {
                    why.push(format!("chip {:?}, expected none", read.chip))
                }
                _ => {}
            },
            "time" => match want.as_str() {
                None if read.reader_time.is_some() => {
                    why.push(format!("reader time {:?}, expected none", read.reader_time));
                }
                None => {}
                Some(t) => {
                    let days = expected.get("days").and_then(Value::as_u64);
                    match time_text(read, t, days) {
                        Ok(got) if same_time(t, &got) => {}
                        Ok(got) => why.push(format!("time {got}")),
                        Err(e) => why.push(e),
                    }
                }
            },
            "days" => {} // with "time"
            "antenna" => {
                let want = want.as_u64();
                if want != read.antenna.map(u64::from) {
                    why.push(format!("antenna {:?}", read.antenna));
                }
            }
            "rssi_dbm" => {
                let want = want.as_i64();
                let got = match read.rssi {
                    Some(Rssi::Dbm(v)) => Some(i64::from(v)),
                    _ => None,
                };
                if want != got {
                    why.push(format!("rssi {:?}", read.rssi));
                }
            }
            "bib" => {
                let want = want.as_str();
                // A Timy's number is its start number (kept in the details, not as a bib).
                let got = match timy_fields(read) {
                    Some((number, _, _)) => Some(number),
                    None => read.bib.clone(),
                };
                if want.map(str::to_string) != got {
                    why.push(format!("bib/number {got:?}"));
                }
            }
            "channel" => {
                let got = timy_fields(read).map(|(_, c, _)| c);
                if !got
                    .as_deref()
                    .zip(want.as_str())
                    .is_some_and(|(g, w)| g.eq_ignore_ascii_case(w))
                {
                    why.push(format!("channel {got:?}"));
                }
            }
            "flag" => {
                let got = timy_fields(read).map(|(_, _, f)| f.to_string());
                if got.as_deref() != want.as_str() {
                    why.push(format!("flag {got:?}"));
                }
            }
            "tto_status" => {
                let got = match &read.details {
                    ReadDetails::Ipico(d) => d.tto.map(|t| format!("{:#04x}", t.flags)),
                    _ => None,
                };
                if got.as_deref() != want.as_str() {
                    why.push(format!("tto_status {got:?}"));
                }
            }
            other => why.push(format!("the test does not know the sidecar field {other:?}")),
        }
    }
    if why.is_empty() { None } else { Some(why.join(", ")) }
}

fn show_expected(e: &Map<String, Value>) -> String {
    Value::Object(e.clone()).to_string()
}

fn show_read(read: &TagRead) -> String {
    let time = match read.reader_time {
        Some(ReaderTime::Utc(t)) => t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        Some(ReaderTime::Local(t)) => t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string(),
        Some(ReaderTime::SinceStart { days, time }) => {
            format!("day {days} {}", time.format("%H:%M:%S%.6f"))
        }
        Some(ReaderTime::TimeOfDay(t)) => t.format("%H:%M:%S%.6f").to_string(),
        None => "-".into(),
    };
    let mut s = format!("chip {:?} time {time}", read.chip);
    if let Some(a) = read.antenna {
        let _ = write!(s, " antenna {a}");
    }
    if let Some(r) = read.rssi {
        let _ = write!(s, " rssi {r:?}");
    }
    if let Some((number, channel, flag)) = timy_fields(read) {
        let _ = write!(s, " number {number} channel {channel} flag {flag:?}");
    } else if let Some(b) = &read.bib {
        let _ = write!(s, " bib {b}");
    }
    let _ = write!(s, "  raw {:?}", String::from_utf8_lossy(&read.raw).trim_end());
    s
}

/// Whether the reads satisfy the expectations: an in-order alignment in which every required
/// expected read is matched and (unless extras are fine) every read is.
fn agrees(expected: &[Map<String, Value>], got: &[&TagRead], extras_ok: bool) -> bool {
    let (n, m) = (expected.len(), got.len());
    if !extras_ok && !expected.iter().any(is_optional) {
        return n == m && expected.iter().zip(got).all(|(e, g)| mismatch(e, g).is_none());
    }
    // can[i][j]: expected[i..] and got[j..] can be aligned.
    let width = m + 1;
    let mut can = vec![false; (n + 1) * width];
    for j in (0..=m).rev() {
        can[n * width + j] = j == m || extras_ok;
    }
    for i in (0..n).rev() {
        for j in (0..=m).rev() {
            let matched =
                j < m && can[(i + 1) * width + j + 1] && mismatch(&expected[i], got[j]).is_none();
            let skip_expected = is_optional(&expected[i]) && can[(i + 1) * width + j];
            let skip_read = extras_ok && j < m && can[i * width + j + 1];
            can[i * width + j] = matched || skip_expected || skip_read;
        }
    }
    can[0]
}

/// A readable diff: `-` expected reads not matched, `+` reads not expected, `~` the closest
/// pairs that differ (with what differs), along the longest in-order matching.
fn diff(expected: &[Map<String, Value>], got: &[&TagRead], extras_ok: bool) -> Vec<String> {
    let same = |i: usize, j: usize| mismatch(&expected[i], got[j]).is_none();
    // Only the part between the common head and tail is compared pair by pair, at most a
    // window of it, so a long capture with one bad read is diffed quickly.
    let (n, m) = (expected.len(), got.len());
    let head = (0..n.min(m)).take_while(|&k| same(k, k)).count();
    let tail = (0..(n - head).min(m - head)).take_while(|&k| same(n - 1 - k, m - 1 - k)).count();
    let cut = n - tail > head + WINDOW || m - tail > head + WINDOW;
    let (n, m) = ((n - tail).min(head + WINDOW), (m - tail).min(head + WINDOW));
    let width = m + 1;
    let mut lcs = vec![0u32; (n + 1) * width];
    for i in (head..n).rev() {
        for j in (head..m).rev() {
            lcs[i * width + j] = if same(i, j) {
                lcs[(i + 1) * width + j + 1] + 1
            } else {
                lcs[(i + 1) * width + j].max(lcs[i * width + j + 1])
            };
        }
    }
    let mut lines = Vec::new();
    let (mut i, mut j) = (head, head);
    let mut pending_missing: Vec<usize> = Vec::new();
    let flush = |lines: &mut Vec<String>, pending: &mut Vec<usize>, read: Option<usize>| {
        // Pair the first missing expected read with an unexpected read, to say what differs.
        match (pending.first().copied(), read) {
            (Some(e), Some(g)) => {
                let why = mismatch(&expected[e], got[g]).unwrap_or_default();
                lines.push(format!(
                    "~ expected #{e} {}\n      got #{g} {}\n      differs: {why}",
                    show_expected(&expected[e]),
                    show_read(got[g])
                ));
                pending.remove(0);
            }
            (None, Some(g)) if !extras_ok => {
                lines.push(format!("+ got #{g} (not expected) {}", show_read(got[g])));
            }
            _ => {}
        }
    };
    while i < n || j < m {
        if i < n && j < m && mismatch(&expected[i], got[j]).is_none() {
            for e in pending_missing.drain(..) {
                if !is_optional(&expected[e]) {
                    lines
                        .push(format!("- expected #{e} (missing) {}", show_expected(&expected[e])));
                }
            }
            i += 1;
            j += 1;
        } else if j == m || (i < n && lcs[(i + 1) * width + j] >= lcs[i * width + j + 1]) {
            pending_missing.push(i);
            i += 1;
        } else {
            flush(&mut lines, &mut pending_missing, Some(j));
            j += 1;
        }
    }
    for e in pending_missing {
        if !is_optional(&expected[e]) {
            lines.push(format!("- expected #{e} (missing) {}", show_expected(&expected[e])));
        }
    }
    if cut {
        lines.push(format!("(diff shown for expected/got #{head}..#{} only)", head + WINDOW));
    }
    lines
}

/// Checks one file; `Err` holds the report.
fn check(bin: &Path, sidecar: &Value) -> Result<String, String> {
    let name = bin.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let protocol: Protocol = sidecar
        .get("protocol")
        .and_then(Value::as_str)
        .ok_or("sidecar names no protocol")?
        .parse()
        .map_err(|e| format!("{e}"))?;
    let bytes = std::fs::read(bin).map_err(|e| format!("reading: {e}"))?;

    let decoded = catch_unwind(AssertUnwindSafe(|| {
        let whole = decode_all(protocol.decoder().as_mut(), &bytes);
        let mut splits = Vec::new();
        for round in 0..SPLITTINGS {
            let mut rng = Rng::new(seed(&name, round));
            let max_piece = [1, 7, 64, 4096][usize::try_from(round % 4).unwrap()];
            splits.push((
                format!("random pieces of 1..={max_piece} bytes"),
                in_pieces(protocol, &bytes, &mut rng, max_piece),
            ));
        }
        if bytes.len() <= BYTE_BY_BYTE_MAX {
            splits.push(("byte by byte".into(), Ok(byte_by_byte(protocol, &bytes))));
        }
        (whole, splits)
    }))
    .map_err(|panic| {
        let text = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_string()))
            .unwrap_or_default();
        format!("the {protocol} decoder PANICKED: {text}")
    })?;
    let (whole, splits) = decoded;
    for (how, out) in splits {
        let out = out?;
        if out != whole {
            let at = whole
                .iter()
                .zip(&out)
                .position(|(a, b)| a != b)
                .unwrap_or(whole.len().min(out.len()));
            return Err(format!(
                "fed in {how}, the output differs from the whole feed at item {at} ({} vs {} items):\n  whole:  {:?}\n  pieces: {:?}",
                whole.len(),
                out.len(),
                whole.get(at),
                out.get(at)
            ));
        }
    }

    let expected = expected_reads(sidecar)?;
    let extras_ok = sidecar.get("extra_reads_ok").and_then(Value::as_bool).unwrap_or(false);
    let got: Vec<&TagRead> = whole.iter().filter_map(Decoded::as_read).collect();
    let mut report = Vec::new();
    if !agrees(&expected, &got, extras_ok) {
        let lines = diff(&expected, &got, extras_ok);
        report.push(format!(
            "reads do not match ({} expected, {} required; {} decoded):",
            expected.len(),
            expected.iter().filter(|e| !is_optional(e)).count(),
            got.len()
        ));
        let shown = lines.len().min(DIFF_LINES);
        report.extend(lines.iter().take(shown).map(|l| format!("  {l}")));
        if lines.len() > shown {
            report.push(format!("  … and {} more diff lines", lines.len() - shown));
        }
    }
    // Every rejection: a read the sidecar expects may hide in it; show them all (capped).
    let rejected: Vec<String> = whole
        .iter()
        .filter_map(|d| match d {
            Decoded::Rejected(r) => {
                Some(format!("{}: {:?}", r.reason, String::from_utf8_lossy(&r.raw)))
            }
            _ => None,
        })
        .collect();
    if !report.is_empty() {
        if !rejected.is_empty() {
            report.push(format!(
                "{} rejected (a read the sidecar expects may hide here):",
                rejected.len()
            ));
            report.extend(rejected.iter().take(DIFF_LINES).map(|r| format!("  ! {r}")));
        }
        return Err(report.join("\n"));
    }
    Ok(format!("{} reads, {} rejected, {} items", got.len(), rejected.len(), whole.len()))
}

#[test]
fn real_frames_decode_to_what_their_sidecars_expect() {
    let dir = folder();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!("real_frames: skipped, no folder {} (set TIMING_REAL_FRAMES)", dir.display());
        return;
    };
    // Wall time of the test itself, not of anything under test: the budget guard.
    #[allow(clippy::disallowed_methods)]
    let started = Instant::now();
    let mut bins: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "bin"))
        .collect();
    bins.sort();
    let mut failures = Vec::new();
    let mut checked = 0;
    for bin in &bins {
        let json = bin.with_extension("json");
        let Ok(text) = std::fs::read_to_string(&json) else {
            println!("real_frames: {} has no sidecar, not checked", bin.display());
            continue;
        };
        let name = bin.file_name().unwrap().to_string_lossy().into_owned();
        checked += 1;
        let result = serde_json::from_str::<Value>(&text)
            .map_err(|e| format!("sidecar is not JSON: {e}"))
            .and_then(|sidecar| check(bin, &sidecar));
        match result {
            Ok(summary) => println!("real_frames: ok   {name}: {summary}"),
            Err(report) => {
                println!("real_frames: FAIL {name}");
                failures.push(format!("=== {name}\n{report}"));
            }
        }
        assert!(started.elapsed() < TIME_BUDGET, "real_frames: over the time budget at {name}");
    }
    println!(
        "real_frames: {} of {checked} files agree ({:.1} s)",
        checked - failures.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} of {checked} real-frame files disagree:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
