//! Who a chip belongs to: the participant list (CSV import into the chip map, with a report of
//! rejected rows) and RUFUS FREE tags, whose EPC carries the participant code as ASCII hex.

use std::collections::HashMap;
use std::io::Read;
use std::sync::RwLock;

use crate::domain::RawRead;

/// chip → participant (bib, name, category, wave), shared by the pipeline and the views, with an
/// index by bib.
#[derive(Debug, Default)]
pub struct ChipMap {
    entries: RwLock<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    by_chip: HashMap<String, Participant>,
    /// bib → the chip of its participant (the last imported, when a bib has several chips).
    by_bib: HashMap<String, String>,
}

impl ChipMap {
    /// A map of these participants.
    pub fn from_entries(entries: impl IntoIterator<Item = Participant>) -> Self {
        let map = Self::default();
        map.extend(entries);
        map
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Entries> {
        self.entries.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds or replaces participants (by chip).
    pub fn extend(&self, entries: impl IntoIterator<Item = Participant>) {
        let mut map = self.entries.write().unwrap_or_else(|p| p.into_inner());
        for participant in entries {
            let chip = normalise_chip(&participant.chip);
            if let Some(old) = map.by_chip.get(&chip)
                && old.bib != participant.bib
                && map.by_bib.get(&old.bib) == Some(&chip)
            {
                let old_bib = old.bib.clone();
                map.by_bib.remove(&old_bib);
            }
            map.by_bib.insert(participant.bib.clone(), chip.clone());
            map.by_chip.insert(chip, participant);
        }
    }

    /// The bib and name of a chip.
    pub fn get(&self, chip: &str) -> Option<(String, Option<String>)> {
        self.read().by_chip.get(&normalise_chip(chip)).map(|p| (p.bib.clone(), p.name.clone()))
    }

    /// The participant wearing a chip.
    pub fn by_chip(&self, chip: &str) -> Option<Participant> {
        self.read().by_chip.get(&normalise_chip(chip)).cloned()
    }

    /// The participant wearing `bib`, when the list has one.
    pub fn by_bib(&self, bib: &str) -> Option<Participant> {
        let map = self.read();
        map.by_bib.get(bib).and_then(|chip| map.by_chip.get(chip)).cloned()
    }

    /// The name of the participant wearing `bib`, when the list has one.
    pub fn name_of_bib(&self, bib: &str) -> Option<String> {
        self.by_bib(bib).and_then(|p| p.name)
    }

    /// Whether `bib` is in the participant list.
    pub fn knows_bib(&self, bib: &str) -> bool {
        self.read().by_bib.contains_key(bib)
    }

    /// The wave of each bib in the list (bibs without a wave are in [`DEFAULT_WAVE`]).
    pub fn waves_by_bib(&self) -> HashMap<String, String> {
        self.read().by_chip.values().map(|p| (p.bib.clone(), p.wave.clone())).collect()
    }

    /// Every participant, one per bib, in bib order (numbers by value).
    pub fn participants(&self) -> Vec<Participant> {
        let map = self.read();
        let mut people: Vec<Participant> =
            map.by_bib.values().filter_map(|chip| map.by_chip.get(chip)).cloned().collect();
        people.sort_by(|a, b| bib_order(&a.bib, &b.bib));
        people
    }

    /// The waves of the list, in name order ([`DEFAULT_WAVE`] alone without a list or waves):
    /// the order a reader's start impulses start them in.
    pub fn waves(&self) -> Vec<String> {
        let mut waves: Vec<String> = self.read().by_chip.values().map(|p| p.wave.clone()).collect();
        waves.sort_unstable();
        waves.dedup();
        if waves.is_empty() {
            waves.push(DEFAULT_WAVE.to_owned());
        }
        waves
    }

    /// Whether a participant list is loaded at all.
    pub fn is_empty(&self) -> bool {
        self.read().by_chip.is_empty()
    }
}

/// Bibs in the order people sort them: numbers by value, then text.
pub fn bib_order(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        (Ok(_), Err(_)) => std::cmp::Ordering::Less,
        (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
        _ => a.cmp(b),
    }
}

/// The wave of runners the participant list puts in none (a race with one start).
pub const DEFAULT_WAVE: &str = "";

fn normalise_chip(chip: &str) -> String {
    chip.trim().to_ascii_uppercase()
}

/// The bib a read stands for: the device's own bib, else the participant list, else the
/// text typed on a plain line input (keypad, wedge) when it looks like a bib, else a RUFUS FREE
/// tag's code.
pub fn bib_for_read(read: &RawRead, chips: &ChipMap) -> Option<String> {
    // A bib the device sent (a keypad, a wedge) passes the same check as a typed one.
    if let Some(bib) = read.bib.as_ref().filter(|b| looks_like_bib(b.trim())) {
        return Some(bib.trim().to_owned());
    }
    if let Some((bib, _)) = chips.get(&read.chip) {
        return Some(bib);
    }
    let text = read.chip.trim();
    if read.protocol == "lines" && looks_like_bib(text) {
        return Some(text.to_owned());
    }
    decode_free_tag(text)
}

/// A bib as people type it: 1–8 letters or digits (and `-`), at least one digit.
pub fn looks_like_bib(text: &str) -> bool {
    (1..=8).contains(&text.len())
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && text.chars().any(|c| c.is_ascii_digit())
}

/// Decodes a RUFUS FREE tag: the EPC's bytes are the participant code in ASCII, padded with
/// zero bytes (or ASCII spaces). Returns None for any EPC that is not such a code.
pub fn decode_free_tag(epc: &str) -> Option<String> {
    let hex = epc.trim();
    if hex.len() < 2 || !hex.len().is_multiple_of(2) || !hex.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return None;
    }
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| hex.get(i..i + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
        .collect::<Option<_>>()?;
    let end = bytes.iter().rposition(|b| *b != 0 && *b != b' ')? + 1;
    let code = bytes.get(..end)?;
    if code.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-') {
        let code = String::from_utf8(code.to_vec()).ok()?;
        looks_like_bib(&code).then_some(code)
    } else {
        None
    }
}

/// One participant row accepted from a CSV file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Participant {
    /// Chip code.
    pub chip: String,
    /// Bib.
    pub bib: String,
    /// Name (from `name`, or `first_name` + `last_name`).
    pub name: Option<String>,
    /// Category (`category`, `class`, `age_group`), e.g. `F40`.
    pub category: Option<String>,
    /// The wave (start) the runner starts in (`wave`, `start`, `start_group`); empty:
    /// [`DEFAULT_WAVE`].
    pub wave: String,
}

impl Participant {
    /// A participant with a chip, a bib and nothing else known.
    pub fn new(chip: impl Into<String>, bib: impl Into<String>) -> Self {
        Participant {
            chip: chip.into(),
            bib: bib.into(),
            name: None,
            category: None,
            wave: DEFAULT_WAVE.to_owned(),
        }
    }
}

/// What an import accepted and what it refused, row by row.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ImportReport {
    /// Rows accepted.
    pub accepted: usize,
    /// Rows refused: (line number, reason).
    pub rejected: Vec<(u64, String)>,
}

/// A text file from a spreadsheet, whatever it was saved as: a BOM says UTF-8 or UTF-16;
/// otherwise valid UTF-8 is UTF-8, and anything else is given to a detector (Windows-1252 /
/// Latin-1 and the other legacy encodings Excel writes).
pub fn decode_text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    if let Some((encoding, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(bytes.get(bom..).unwrap_or_default());
        return text;
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut detector = chardetng::EncodingDetector::new();
    detector.feed(bytes, true);
    let (text, _, _) = detector.guess(None, true).decode(bytes);
    text
}

/// Reads a participants CSV with a header row naming at least `bib` and `chip` (any order, any
/// case; also `name`, or `first_name`/`last_name`, `category`, and `wave` or `start`; other
/// columns ignored). `;` or `,` separated.
/// Any text encoding a spreadsheet writes ([`decode_text`]).
pub fn parse_participants(input: impl Read) -> Result<(Vec<Participant>, ImportReport), String> {
    let mut bytes = Vec::new();
    let mut input = input;
    input.read_to_end(&mut bytes).map_err(|e| format!("cannot read the file: {e}"))?;
    let text = decode_text(&bytes);
    let text = text.trim_start_matches('\u{feff}');
    let first_line = text.lines().next().unwrap_or("");
    let delimiter =
        if first_line.matches(';').count() > first_line.matches(',').count() { b';' } else { b',' };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| format!("cannot read the header row: {e}"))?.clone();
    let column = |names: &[&str]| {
        headers.iter().position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
    };
    let bib_col = column(&["bib", "bib_number", "dorsal", "startnumber"])
        .ok_or("the header row has no `bib` column")?;
    let chip_col = column(&["chip", "chip_code", "transponder", "epc", "tag"])
        .ok_or("the header row has no `chip` column")?;
    let name_col = column(&["name", "full_name"]);
    let first_col = column(&["first_name", "firstname"]);
    let last_col = column(&["last_name", "lastname", "surname"]);
    let category_col = column(&["category", "cat", "class", "age_group", "agegroup"]);
    let wave_col = column(&["wave", "start", "start_group", "startgroup", "heat"]);

    let mut participants = Vec::new();
    let mut report = ImportReport::default();
    let mut seen_chips: HashMap<String, u64> = HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                report.rejected.push((line, format!("unreadable row: {e}")));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let field = |i: Option<usize>| i.and_then(|i| record.get(i)).unwrap_or("").to_owned();
        let (bib, chip) = (field(Some(bib_col)), field(Some(chip_col)));
        if bib.is_empty() {
            report.rejected.push((line, "no bib".into()));
            continue;
        }
        if !looks_like_bib(&bib) {
            report.rejected.push((line, format!("`{bib}` is not a bib (1–8 letters or digits)")));
            continue;
        }
        if chip.is_empty() {
            report.rejected.push((line, format!("bib {bib} has no chip")));
            continue;
        }
        let key = normalise_chip(&chip);
        if let Some(first) = seen_chips.get(&key) {
            report
                .rejected
                .push((line, format!("chip {chip} already given to another bib on line {first}")));
            continue;
        }
        seen_chips.insert(key, line);
        let name = match (field(name_col), field(first_col), field(last_col)) {
            (n, _, _) if !n.is_empty() => Some(n),
            (_, f, l) if !f.is_empty() || !l.is_empty() => {
                Some(format!("{f} {l}").trim().to_owned())
            }
            _ => None,
        };
        let category = Some(field(category_col)).filter(|c| !c.is_empty());
        let wave = field(wave_col);
        participants.push(Participant { chip, bib, name, category, wave });
        report.accepted += 1;
    }
    Ok((participants, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_tags_decode_to_their_participant_code() {
        assert_eq!(decode_free_tag("313233").as_deref(), Some("123"));
        assert_eq!(decode_free_tag("3132330000000000").as_deref(), Some("123"), "zero padding");
        assert_eq!(decode_free_tag("4131320000").as_deref(), Some("A12"));
        assert_eq!(decode_free_tag("E2000017221101441890ABCD"), None, "a factory EPC is no code");
        assert_eq!(decode_free_tag("31323"), None, "odd length");
        assert_eq!(decode_free_tag("0000"), None, "empty code");
        assert_eq!(decode_free_tag("zz"), None);
    }

    #[test]
    fn csv_import_accepts_good_rows_and_says_why_it_refuses_the_others() {
        let csv = "Bib;Chip;First_Name;Last_Name;Club\n\
                   7;E200AA01;Ana;Lopez;X\n\
                   ;E200AA02;No;Bib;X\n\
                   8;;No;Chip;X\n\
                   9;e200aa01;Dup;Chip;X\n\
                   10 10;E200AA03;Bad;Bib;X\n\
                   11;E200AA04;;;\n";
        let (people, report) = parse_participants(csv.as_bytes()).unwrap();
        assert_eq!(people.len(), 2);
        assert_eq!(
            people[0],
            Participant { name: Some("Ana Lopez".into()), ..Participant::new("E200AA01", "7") }
        );
        assert_eq!(people[1].name, None);
        assert_eq!(report.accepted, 2);
        let reasons: Vec<_> = report.rejected.iter().map(|(line, r)| (*line, r.as_str())).collect();
        assert_eq!(reasons[0], (3, "no bib"));
        assert_eq!(reasons[1], (4, "bib 8 has no chip"));
        assert_eq!(reasons[2], (5, "chip e200aa01 already given to another bib on line 2"));
        assert!(reasons[3].1.contains("is not a bib"));
    }

    #[test]
    fn categories_and_waves_come_from_their_columns() {
        let csv = "bib,chip,name,Category,Start\n7,E1,Ana,F40,10K\n8,E2,Bo,,\n";
        let (people, _) = parse_participants(csv.as_bytes()).unwrap();
        assert_eq!((people[0].category.as_deref(), people[0].wave.as_str()), (Some("F40"), "10K"));
        assert_eq!((people[1].category.as_deref(), people[1].wave.as_str()), (None, DEFAULT_WAVE));
        let chips = ChipMap::from_entries(people);
        assert_eq!(chips.waves_by_bib().get("7").map(String::as_str), Some("10K"));
        assert_eq!(chips.by_bib("7").and_then(|p| p.category).as_deref(), Some("F40"));
    }

    #[test]
    fn a_csv_without_the_needed_columns_is_refused_whole() {
        let err = parse_participants("name,club\nA,B\n".as_bytes()).unwrap_err();
        assert!(err.contains("bib"), "{err}");
    }

    #[test]
    fn bibs_come_from_the_device_then_the_list_then_free_tags_then_keypads() {
        let chips = ChipMap::from_entries([Participant::new("E200AA01", "7")]);
        let read = |chip: &str, protocol: &str, bib: Option<&str>| RawRead {
            source: "t".into(),
            protocol: protocol.into(),
            chip: chip.into(),
            bib: bib.map(Into::into),
            antenna: None,
            rssi: None,
            reader_time: None,
            host_time: chrono::DateTime::UNIX_EPOCH,
            clock_offset_ms: None,
            replay_key: None,
            repeated: false,
            in_order: true,
            raw: Vec::new(),
            marks: Default::default(),
            rssi_raw: None,
        };
        assert_eq!(bib_for_read(&read("X", "cloudbox", Some("55")), &chips).as_deref(), Some("55"));
        assert_eq!(bib_for_read(&read("e200aa01", "ipico", None), &chips).as_deref(), Some("7"));
        assert_eq!(bib_for_read(&read("3432", "ipico", None), &chips).as_deref(), Some("42"));
        assert_eq!(bib_for_read(&read("123", "lines", None), &chips).as_deref(), Some("123"));
        assert_eq!(
            bib_for_read(&read("3132", "lines", None), &chips).as_deref(),
            Some("3132"),
            "typed"
        );
        assert_eq!(bib_for_read(&read("E2000017221101441890ABCD", "ipico", None), &chips), None);
    }
}
