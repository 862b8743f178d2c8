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
