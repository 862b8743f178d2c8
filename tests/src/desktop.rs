//! The real desktop app under test: a private Xvfb display, tauri-driver with
//! WebKitWebDriver, and the app started by the driver with its data directory, API URL, key and
//! demo reader given through the environment (never the user's real data). Everything it
//! starts is stopped when it is dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use timing_readers::clock::SystemClock;

use crate::webdriver::Session;

/// What the app starts with.
#[derive(Debug, Clone, Default)]
pub struct AppEnv {
    /// `TIMING_DATA_DIR`.
    pub data_dir: PathBuf,
    /// `TIMING_API_URL`.
    pub api_url: Option<String>,
    /// `RUFUS_API_KEY`.
    pub api_key: Option<String>,
    /// `TIMING_DEMO_READER`.
    pub demo_reader: Option<String>,
}

/// Xvfb + tauri-driver + a WebDriver session on the app.
#[derive(Debug)]
pub struct Desktop {
    xvfb: Child,
    driver: Child,
    /// The WebDriver session.
    pub session: Session,
    /// The X display, e.g. `:97`.
    pub display: String,
    /// Monotonic time (of [`SystemClock`]) when the WebDriver session that started the app was
    /// asked for: tauri-driver and Xvfb were already up, so what follows is the app's start.
    pub app_asked_at: Duration,
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Finds `tauri-driver`: `TAURI_DRIVER`, the project's `.ci-tools/bin`, or the PATH.
pub fn tauri_driver() -> PathBuf {
    if let Some(path) = std::env::var_os("TAURI_DRIVER") {
        return PathBuf::from(path);
    }
    let local = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.ci-tools/bin/tauri-driver");
    if local.exists() { local } else { PathBuf::from("tauri-driver") }
}

impl Desktop {
    /// Starts Xvfb, tauri-driver and the app `application` with `env`.
    pub async fn launch(application: &Path, env: &AppEnv) -> Result<Self, String> {
        let (mut xvfb, display) = start_xvfb()?;
        let port = free_port().map_err(|e| e.to_string())?;
        let native = free_port().map_err(|e| e.to_string())?;
        let mut cmd = Command::new(tauri_driver());
        cmd.args(["--port", &port.to_string(), "--native-port", &native.to_string()])
            .env("DISPLAY", &display)
            .env("TIMING_DATA_DIR", &env.data_dir)
            .env("TIMING_LOG", "warn")
            .env_remove("RUFUS_API_KEY")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (name, value) in [
            ("TIMING_API_URL", &env.api_url),
            ("RUFUS_API_KEY", &env.api_key),
            ("TIMING_DEMO_READER", &env.demo_reader),
        ] {
            if let Some(v) = value {
                cmd.env(name, v);
            }
        }
        let mut driver = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                let _ = xvfb.kill();
                return Err(format!(
                    "cannot start tauri-driver ({}): {e}",
                    tauri_driver().display()
                ));
            }
        };
        let url = format!("http://127.0.0.1:{port}");
        let mut last = String::new();
        let clock = SystemClock::shared();
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                let app_asked_at = clock.monotonic();
                match Session::tauri(&url, &application.display().to_string()).await {
                    Ok(session) => {
                        return Ok(Self { xvfb, driver, session, display, app_asked_at });
                    }
                    Err(e) => last = e.to_string(),
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let _ = driver.kill();
        let _ = xvfb.kill();
        Err(format!("no WebDriver session on the app: {last}"))
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        // tauri-driver's descendants (WebKitWebDriver, the app, its web processes) first, by
        // their own positive pids, then the driver.
        let pids: Vec<String> = descendants(self.driver.id()).iter().map(u32::to_string).collect();
        if !pids.is_empty() {
            let _ = Command::new("kill").arg("-KILL").args(&pids).status();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = self.xvfb.kill();
        let _ = self.xvfb.wait();
    }
}

/// Every process below `root` (children, grandchildren…), from `/proc`.
fn descendants(root: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    let parents: Vec<(u32, u32)> = entries
        .flatten()
        .filter_map(|e| {
            let pid = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let status = std::fs::read_to_string(e.path().join("status")).ok()?;
            let ppid = status.lines().find_map(|l| l.strip_prefix("PPid:"))?.trim().parse().ok()?;
            Some((pid, ppid))
        })
        .collect();
    let mut found = vec![root];
    let mut i = 0;
    while let Some(&p) = found.get(i) {
        found.extend(parents.iter().filter(|(_, pp)| *pp == p).map(|(pid, _)| *pid));
        i += 1;
    }
    found.retain(|p| *p != root && *p > 1);
    found
}

/// Starts Xvfb on a free display (`-displayfd` lets the server choose).
fn start_xvfb() -> Result<(Child, String), String> {
    use std::io::Read;
    let mut child = Command::new("Xvfb")
        .args(["-displayfd", "1", "-screen", "0", "1920x1200x24", "-nolisten", "tcp"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start Xvfb: {e}"))?;
    let mut out = child.stdout.take().ok_or("Xvfb has no stdout")?;
    let mut buf = [0_u8; 16];
    let mut got = String::new();
    while !got.ends_with('\n') {
        match out.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.push_str(&String::from_utf8_lossy(buf.get(..n).unwrap_or_default())),
        }
    }
    let number = got.trim();
    if number.is_empty() {
        let _ = child.kill();
        return Err("Xvfb did not report a display".into());
    }
    Ok((child, format!(":{number}")))
}
