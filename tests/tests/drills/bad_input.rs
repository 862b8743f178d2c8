//! Bad input gets a clear error and loses nothing: a bib a volunteer mistyped, a passing the
//! cloud rejects inside a batch, a wrong API key.

use crate::support::{Console, DRILL_LIMIT, assert_exactly_once, strict_sim};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_bib_is_refused_with_a_clear_message() {
    tokio::time::timeout(DRILL_LIMIT, async {
        let sim = strict_sim().await;
        let console = Console::new(&sim);
        console.ready().await;
        let out = console.output(&["mark", "12,1x!"]).await;
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim(), "error: `1x!` is not a bib (1–8 letters or digits)");
        assert!(console.local_passings().await.is_empty(), "nothing half-recorded");
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_says_so_and_keeps_everything_locally() {
    tokio::time::timeout(DRILL_LIMIT, async {
        let sim = strict_sim().await;
        let mut console = Console::new(&sim);
        console.ready().await;
        console.key = "ror-00000000000000000000".into();
        console.ok(&["mark", "1,2,3"]).await;
        let out = console.output(&["sync", "--once"]).await;
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("key"), "the message names the key: {stderr}");
        assert!(!stderr.contains("ror-0000"), "and never prints it: {stderr}");
        assert_eq!(console.local_passings().await.len(), 3);

        console.key = sim.admin_key();
        console.drain().await;
        assert_eq!(assert_exactly_once(&console, &sim).await, 3);
    })
    .await
    .unwrap();
}

/// The cloud refuses one passing of a batch: the batch is split until that passing is
/// isolated and parked with the server's message; every other passing is sent once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passing_the_cloud_rejects_is_parked_with_its_message_and_the_rest_flows() {
    tokio::time::timeout(DRILL_LIMIT, async {
        let sim = strict_sim().await;
        let console = Console::new(&sim);
        console.ready().await;
        sim.refuse_bib("666");
        let bibs: Vec<String> =
            (1..=40).map(|n| if n == 17 { "666".into() } else { n.to_string() }).collect();
        console.ok(&["mark", &bibs.join(",")]).await;
        let out = console.output(&["sync", "--once"]).await;
        assert!(
            out.status.success(),
            "parking is not a failure: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let status = console.ok(&["--json", "status"]).await;
        let status: serde_json::Value = serde_json::from_str(&status).unwrap();
        assert_eq!(status["sync"]["parked"], 1);
        assert_eq!(status["sync"]["sent"], 39);
        let local = console.local_passings().await;
        let parked: Vec<_> = local
            .iter()
            .filter(|p| p.sync_state == timing_core::domain::SyncState::Parked)
            .collect();
        assert_eq!(parked.len(), 1);
        assert_eq!(parked[0].bib.as_deref(), Some("666"));
        let message = parked[0].sync_error.clone().unwrap();
        assert!(
            message.contains("bib 666 is not accepted"),
            "the server's message is kept: {message}"
        );
        let token = console.tokens().await.into_values().next().unwrap();
        let cloud = sim.snapshot().session(&token).unwrap().clone();
        assert_eq!(cloud.passings.len(), 39, "the other 39 reached the cloud");
        let unique: std::collections::HashSet<u64> = cloud.received.iter().copied().collect();
        assert_eq!(unique.len(), cloud.received.len(), "none twice");
    })
    .await
    .unwrap();
}

/// `decode` on real ALGE output (lines of a TdC 8001 log, times to 1/10,000 s) prints every
/// impulse as a JSON line with its time as sent, and exits 0 — it once panicked on every Timy
/// line (a time format chrono does not have).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decoding_real_timy_lines_prints_their_times() {
    tokio::time::timeout(DRILL_LIMIT, async {
        let sim = strict_sim().await;
        let console = Console::new(&sim);
        let mut cmd = console.command(&["decode", "--protocol", "timy"]);
        cmd.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        tokio::io::AsyncWriteExt::write_all(
            &mut stdin,
            b" 0035 C0M 21:46:36.3900 00\r 0035 C0  21:46:36.3910 00\r",
        )
        .await
        .unwrap();
        drop(stdin);
        let out = child.wait_with_output().await.unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{}\n{stdout}", String::from_utf8_lossy(&out.stderr));
        assert!(stdout.contains(r#""time_of_day":"21:46:36.3900""#), "{stdout}");
        assert!(stdout.contains(r#""time_of_day":"21:46:36.3910""#), "{stdout}");
    })
    .await
    .unwrap();
}
