//! A participant list that looks like a race, for the desktop tests and the screenshots:
//! named runners with categories in two waves, their chips the RUFUS FREE tags the simulated
//! finish reads.

use timing_readers::transport::sim::free_tag;

const FIRST: [&str; 12] = [
    "Ana", "Ben", "Carmen", "David", "Elena", "Farid", "Greta", "Hugo", "Inés", "Jon", "Kai",
    "Lucía",
];
const LAST: [&str; 10] =
    ["García", "Okafor", "Lindqvist", "Moreau", "Sato", "Novak", "Ruiz", "Byrne", "Costa", "Weber"];
const AGES: [&str; 6] = ["20", "30", "35", "40", "45", "50"];

fn pick(list: &[&'static str], i: usize) -> &'static str {
    list.get(i % list.len()).copied().unwrap_or_default()
}

/// The CSV of bibs 1…`runners`: the first 60 % in the 10K, the rest in the 5K.
pub fn participants_csv(runners: u32) -> String {
    let mut csv = String::from("bib,chip,name,category,wave\n");
    for bib in 1..=runners {
        let i = bib as usize;
        let name = format!("{} {}", pick(&FIRST, i * 7), pick(&LAST, i * 3 + i / 10));
        let category = format!("{}{}", if i % 9 < 4 { "F" } else { "M" }, pick(&AGES, i * 5));
        let wave = if bib * 10 <= runners * 6 { "10K" } else { "5K" };
        csv.push_str(&format!("{bib},{},{name},{category},{wave}\n", free_tag(&bib.to_string())));
    }
    csv
}
