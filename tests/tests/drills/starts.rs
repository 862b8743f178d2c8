//! The race clock from the headless console, as a Pi at the start line uses it: waves from the
//! participant list, the gun stamped, a false start restarted, a start nudged, and the export
//! giving each runner's wave and race time — across separate processes on one data directory.

use timing_core::clock::parse_utc;

use crate::support::{Console, DRILL_LIMIT, strict_sim};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waves_start_restart_and_give_race_times_in_the_export() {
    tokio::time::timeout(DRILL_LIMIT, async {
        let sim = strict_sim().await;
        let console = Console::new(&sim);
        console.ready().await;
        let list = console.dir.path().join("participants.csv");
        std::fs::write(
            &list,
            "bib;chip;name;category;wave\n7;E2001;Ana García;F40;10K\n12;E2002;Li Wei;M35;5K\n",
        )
        .unwrap();
        console.ok(&["import", "participants", list.to_str().unwrap()]).await;

        // The 10K gun, then a false start of the 5K, restarted; the 10K nudged by -1.5 s.
        console.ok(&["start", "--wave", "10K", "--at", "2026-05-03T09:00:00.000Z"]).await;
        console.ok(&["start", "--wave", "5K", "--at", "2026-05-03T09:05:00.000Z"]).await;
        let twice = console.output(&["start", "--wave", "5K"]).await;
        assert!(!twice.status.success(), "a second press does not start a started wave");
        let said = String::from_utf8_lossy(&twice.stderr);
        assert!(said.contains("restart"), "{said}");
        console
            .ok(&["start", "--wave", "5K", "--restart", "--at", "2026-05-03T09:06:00.000Z"])
            .await;
        console.ok(&["start", "--wave", "10K", "--nudge", "-1.5s"]).await;
        let refused = console.output(&["start", "--wave", "half", "--restart"]).await;
        assert!(!refused.status.success(), "a wave that never started cannot be restarted");

        let starts: serde_json::Value =
            serde_json::from_str(&console.ok(&["--json", "starts"]).await).unwrap();
        let current = starts["starts"].as_array().unwrap();
        let at = |wave: &str| {
            current.iter().find(|s| s["wave"] == wave).map(|s| s["at"].as_str().unwrap().to_owned())
        };
        let utc = |t: &str| parse_utc(t).unwrap();
        assert_eq!(at("10K").map(|t| utc(&t)), Some(utc("2026-05-03T08:59:58.500Z")));
        assert_eq!(at("5K").map(|t| utc(&t)), Some(utc("2026-05-03T09:06:00.000Z")));
        let kinds: Vec<&str> =
            starts["log"].as_array().unwrap().iter().map(|s| s["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["exact", "exact", "restart", "nudge"], "the false start is kept");

        console.ok(&["mark", "7", "--at", "2026-05-03T09:40:01.250Z"]).await;
        console.ok(&["mark", "12", "--at", "2026-05-03T09:30:00.000Z"]).await;
        console.ok(&["mark", "99", "--at", "2026-05-03T09:41:00.000Z"]).await;
        let feed: serde_json::Value =
            serde_json::from_str(&console.ok(&["--json", "feed"]).await).unwrap();
        let ana = feed.as_array().unwrap().iter().find(|e| e["bib"] == "7").unwrap();
        assert_eq!(
            (&ana["name"], &ana["category"], &ana["wave"], &ana["race_time_ms"]),
            (&"Ana García".into(), &"F40".into(), &"10K".into(), &2_402_750.into()),
            "the feed says who crossed and their race time"
        );
        let csv = console.ok(&["export", "passings"]).await;
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let header = reader.headers().unwrap().clone();
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        let rows: Vec<(String, String, String)> = reader
            .records()
            .map(|r| {
                let r = r.unwrap();
                (
                    r[col("bib")].to_owned(),
                    r[col("wave")].to_owned(),
                    r[col("race_time")].to_owned(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                ("7".to_owned(), "10K".to_owned(), "0:40:02.750".to_owned()),
                ("12".to_owned(), "5K".to_owned(), "0:24:00.000".to_owned()),
                // Not in the list, two waves: no start to measure from.
                ("99".to_owned(), String::new(), String::new()),
            ]
        );
    })
    .await
    .unwrap();
}
