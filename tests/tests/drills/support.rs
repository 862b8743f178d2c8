//! What every drill needs: a console data directory, the CLI as a process, a line feeder, and
//! the exactly-once check of local passings against what the simulator received.

use std::collections::{BTreeMap, HashSet};
use std::process::{Output, Stdio};
use std::time::Duration;

use rufus_cloud_sim::{Sim, SimConfig};
use timing_core::domain::{Passing, SyncState};
use timing_core::store::Store;
use tokio::io::AsyncWriteExt;
use tokio::process::{Child, ChildStdin, Command};

/// Upper bound of any one drill.
pub const DRILL_LIMIT: Duration = Duration::from_secs(150);

/// A simulator that stores every passing it receives, duplicates included.
pub async fn strict_sim() -> Sim {
    Sim::start(SimConfig { dedup: false, ..SimConfig::default() }).await.unwrap()
}

/// One console installation: a data directory and the key it runs with.
pub struct Console {
    pub dir: tempfile::TempDir,
    pub url: String,
    pub key: String,
}

impl Console {
    pub fn new(sim: &Sim) -> Self {
        Self { dir: tempfile::tempdir().unwrap(), url: sim.base_url(), key: sim.admin_key() }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_drill-cli"));
        cmd.arg("--data-dir")
            .arg(self.dir.path())
            .arg("--api-url")
            .arg(&self.url)
            .args(args)
            .env("RUFUS_API_KEY", &self.key)
            .env("TIMING_LOG", "warn")
            .stdin(Stdio::null())
            .kill_on_drop(true);
        cmd
    }

    pub async fn output(&self, args: &[&str]) -> Output {
        let out = self.command(args).output();
        tokio::time::timeout(Duration::from_secs(60), out)
            .await
            .expect("the CLI finished in time")
            .unwrap()
    }

    /// Runs a command that must succeed; returns its stdout.
    pub async fn ok(&self, args: &[&str]) -> String {
        let out = self.output(args).await;
        assert!(
            out.status.success(),
            "timing-cli {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Binds the console and opens a session.
    pub async fn ready(&self) {
        self.ok(&["device", "bind", "--serial", "DRILL-1", "--model", "drill"]).await;
        self.ok(&["session", "open", "--alias", "drill"]).await;
    }

    /// `run --source lines:-` with stdin piped.
    pub fn spawn_run(&self, extra: &[&str]) -> Child {
        let mut args = vec!["run", "--source", "lines:-"];
        if !extra.contains(&"--status-every") {
            args.extend(["--status-every", "0.2"]);
        }
        args.extend_from_slice(extra);
        let mut cmd = self.command(&args);
        let log =
            std::fs::OpenOptions::new().create(true).append(true).open(self.log_path()).unwrap();
        cmd.stdin(Stdio::piped()).stdout(Stdio::null()).stderr(log);
        cmd.spawn().unwrap()
    }

    fn log_path(&self) -> std::path::PathBuf {
        self.dir.path().join("run.log")
    }

    /// The last lines the headless console printed on stderr (for failure messages).
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        // Every event line (errors, notes, re-homing), then the last status lines.
        let events: Vec<&str> = lines
            .iter()
            .copied()
            .filter(|l| !l.starts_with("sync:") && !l.starts_with("capture:"))
            .collect();
        format!("{}\n…\n{}", events.join("\n"), lines[lines.len().saturating_sub(5)..].join("\n"))
    }

    /// Waits for `run` to exit on its own (bounded); fails with its log otherwise.
    pub async fn wait_exit(&self, child: &mut Child) {
        match tokio::time::timeout(Duration::from_secs(90), child.wait()).await {
            Ok(status) => assert!(status.unwrap().success(), "run failed:\n{}", self.log_tail()),
            Err(_) => panic!("run did not finish:\n{}", self.log_tail()),
        }
    }

    /// `run --exit-when-done` with no input: upkeep, re-homing and sync until nothing is left.
    pub async fn run_until_done(&self) {
        let mut child = self.spawn_run(&["--exit-when-done"]);
        drop(child.stdin.take());
        self.wait_exit(&mut child).await;
    }

    /// Pushes until nothing is pending (bounded).
    pub async fn drain(&self) {
        for _ in 0..50 {
            if self.output(&["sync", "--once"]).await.status.success() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("the outbox did not drain");
    }

    /// Every passing in the local database, of every session.
    pub async fn local_passings(&self) -> Vec<Passing> {
        let store = Store::open_in(self.dir.path()).await.unwrap();
        let mut all = Vec::new();
        for session in store.sessions(None).await.unwrap() {
            all.extend(store.passings(session.id, 1, i64::MAX).await.unwrap());
        }
        store.close().await;
        all
    }

    /// session id → token, for every session that reached the cloud.
    pub async fn tokens(&self) -> BTreeMap<i64, String> {
        let store = Store::open_in(self.dir.path()).await.unwrap();
        let tokens = store
            .sessions(None)
            .await
            .unwrap()
            .into_iter()
            .filter_map(|s| s.token_session.map(|t| (s.id.0, t)))
            .collect();
        store.close().await;
        tokens
    }
}

/// Writes `count` unique chip lines at about `per_second`, numbering from `*next`.
pub async fn feed_lines(
    stdin: &mut ChildStdin,
    next: &mut u64,
    count: u64,
    per_second: u64,
) -> bool {
    let per_tick = (per_second / 100).max(1);
    let mut written = 0;
    while written < count {
        let mut chunk = String::new();
        for _ in 0..per_tick.min(count - written) {
            *next += 1;
            chunk.push_str(&format!("C{}\n", *next));
            written += 1;
        }
        if stdin.write_all(chunk.as_bytes()).await.is_err() {
            return false; // the console died
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    true
}

/// Waits until the cloud holds `count` passings across the console's sessions (bounded).
pub async fn wait_in_cloud(console: &Console, sim: &Sim, count: usize) {
    for _ in 0..600 {
        let tokens = console.tokens().await;
        let snapshot = sim.snapshot();
        let held: usize =
            tokens.values().filter_map(|t| snapshot.session(t)).map(|s| s.passings.len()).sum();
        if held >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the cloud never held {count} passings:\n{}", console.log_tail());
}

/// Checks promise 2 for every session: the cloud received each local passing's `num_passing`
/// exactly once, numbers run 1..=N without gap or repeat, and nothing moved was sent twice.
pub async fn assert_exactly_once(console: &Console, sim: &Sim) -> usize {
    let local = console.local_passings().await;
    let tokens = console.tokens().await;
    let snapshot = sim.snapshot();
    let mut checked = 0;
    for (session, token) in &tokens {
        let mine: Vec<&Passing> = local.iter().filter(|p| p.session_id.0 == *session).collect();
        let nums: Vec<i64> = mine.iter().map(|p| p.num_passing).collect();
        assert_eq!(
            nums,
            (1..=mine.len() as i64).collect::<Vec<_>>(),
            "local numbers have a gap or repeat"
        );
        let expected: HashSet<u64> = mine
            .iter()
            .filter(|p| p.sync_state != SyncState::Moved)
            .map(|p| p.num_passing as u64)
            .collect();
        let received = snapshot.session(token).map(|s| s.received.clone()).unwrap_or_default();
        let unique: HashSet<u64> = received.iter().copied().collect();
        assert_eq!(unique.len(), received.len(), "session {session}: a passing was sent twice");
        let moved: HashSet<u64> = mine
            .iter()
            .filter(|p| p.sync_state == SyncState::Moved)
            .map(|p| p.num_passing as u64)
            .collect();
        let expected_here: HashSet<u64> = &expected | &(&unique & &moved);
        assert_eq!(unique, expected_here, "session {session}: the cloud and the console disagree");
        assert!(
            mine.iter().all(|p| matches!(p.sync_state, SyncState::Sent | SyncState::Moved)),
            "all sent"
        );
        checked += mine.len();
    }
    // Every chip made exactly one passing that is not a moved copy's original.
    let chips: Vec<&str> = local
        .iter()
        .filter(|p| p.sync_state != SyncState::Moved)
        .filter_map(|p| p.chip.as_deref())
        .collect();
    let unique: HashSet<&str> = chips.iter().copied().collect();
    assert_eq!(unique.len(), chips.len(), "a chip made two live passings");
    checked
}

impl Console {
    /// `run` on the given reader specs (no stdin), its stderr appended to the console's log.
    pub fn spawn_run_readers(&self, specs: &[String], extra: &[&str]) -> Child {
        let mut args: Vec<&str> = vec!["run", "--status-every", "0.2"];
        for spec in specs {
            args.push("--source");
            args.push(spec);
        }
        args.extend_from_slice(extra);
        let mut cmd = self.command(&args);
        let log =
            std::fs::OpenOptions::new().create(true).append(true).open(self.log_path()).unwrap();
        cmd.stdout(Stdio::null()).stderr(log);
        cmd.spawn().unwrap()
    }

    /// Stops `run` as Ctrl-C does and waits for it (bounded).
    pub async fn interrupt(&self, child: &mut Child) {
        if let Some(pid) = child.id() {
            let _ = std::process::Command::new("kill").args(["-INT", &pid.to_string()]).status();
        }
        match tokio::time::timeout(Duration::from_secs(30), child.wait()).await {
            Ok(status) => assert!(status.unwrap().success(), "run failed:\n{}", self.log_tail()),
            Err(_) => panic!("run did not stop:\n{}", self.log_tail()),
        }
    }

    /// Raw reads stored (with or without a session), and of those flagged duplicate.
    pub async fn raw_read_counts(&self) -> (i64, i64) {
        let url = format!("sqlite://{}?mode=ro", self.dir.path().join("timing.db").display());
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        let (raw, dup): (i64, i64) =
            sqlx::query_as("SELECT COUNT(*), COALESCE(SUM(duplicate), 0) FROM raw_reads")
                .fetch_one(&pool)
                .await
                .unwrap();
        pool.close().await;
        (raw, dup)
    }
}

/// Every passing the cloud holds for the console's sessions.
pub async fn cloud_passings(console: &Console, sim: &Sim) -> Vec<rufus_cloud_sim::StoredPassing> {
    let snapshot = sim.snapshot();
    console
        .tokens()
        .await
        .values()
        .filter_map(|t| snapshot.session(t))
        .flat_map(|s| s.passings.clone())
        .collect()
}

/// Waits until `check` holds (bounded), polling every 100 ms.
pub async fn eventually<F, Fut>(what: &str, console: &Console, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..300 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} never happened:\n{}", console.log_tail());
}
