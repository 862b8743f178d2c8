//! How the CLI prints: aligned text for people, one JSON document per command with `--json`
//! for scripts. Data goes to stdout, diagnostics to stderr.

// This module is the CLI's voice on stdout.
#![allow(clippy::print_stdout)]

use chrono::{DateTime, Utc};
use serde::Serialize;
use timing_core::clock::format_utc;
use timing_core::corrections::Corrected;
use timing_core::domain::{Device, FeedEntry, Session};
use timing_core::manual::{Entry, Warning};
use timing_core::participants::ImportReport;
use timing_core::starts::Start;
use timing_core::store::OutboxCounts;
use timing_core::{CoreError, Engine};

/// The output style of one invocation.
#[derive(Debug, Clone, Copy)]
pub struct Out {
    /// Print JSON instead of text.
    pub json: bool,
}

impl Out {
    fn emit(&self, value: &impl Serialize, text: impl FnOnce() -> String) {
        if self.json {
            match serde_json::to_string_pretty(value) {
                Ok(json) => println!("{json}"),
                Err(e) => eprintln!("error: cannot print JSON: {e}"),
            }
        } else {
            println!("{}", text());
        }
    }

    pub fn line(&self, text: &str) {
        self.emit(&serde_json::json!({ "message": text }), || text.to_owned());
    }

    pub fn device(&self, d: &Device) {
        self.emit(d, || {
            format!(
                "device {}  serial {}  model {}{}",
                d.deviceid,
                d.serial_number,
                d.model,
                d.alias.as_ref().map(|a| format!("  alias {a}")).unwrap_or_default()
            )
        });
    }

    pub fn devices(&self, list: &[Device]) {
        self.emit(&list, || {
            if list.is_empty() {
                return "no device bound".into();
            }
            list.iter()
                .map(|d| {
                    format!(
                        "{}  {}  {}  {}",
                        d.deviceid,
                        d.serial_number,
                        d.model,
                        d.alias.clone().unwrap_or_default()
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        });
    }

    pub fn device_details(&self, local: &Device, cloud: Option<&rufus_api::Device>) {
        let value = serde_json::json!({ "local": local, "cloud": cloud });
        self.emit(&value, || {
            let mut text = format!(
                "device {}\n  serial {}\n  model {}\n  bound {} at {}",
                local.deviceid,
                local.serial_number,
                local.model,
                format_utc(local.bound_at),
                local.api_base_url
            );
            if let Some(c) = cloud {
                text.push_str(&format!(
                    "\n  cloud: {} session(s), {} passing(s)",
                    c.sessions.map_or("?".into(), |n| n.to_string()),
                    c.passings.map_or("?".into(), |n| n.to_string())
                ));
            }
            text
        });
    }

    pub fn session(&self, s: &Session) {
        self.emit(s, || session_line(s));
    }

    pub fn sessions(&self, list: &[Session]) {
        self.emit(&list, || {
            if list.is_empty() {
                return "no session".into();
            }
            list.iter().map(session_line).collect::<Vec<_>>().join("\n")
        });
    }

    pub fn session_details(&self, s: &Session, counts: &OutboxCounts) {
        let value = serde_json::json!({ "session": s, "outbox": counts });
        self.emit(&value, || {
            format!(
                "{}\n  opened {}\n  token {}\n  pending {}  sent {}  parked {}  waiting for a bib {}{}",
                session_line(s),
                format_utc(s.opened_at),
                s.token_session.clone().unwrap_or_else(|| "(not yet in RUFUS)".into()),
                counts.pending,
                counts.sent,
                counts.parked,
                counts.held,
                s.note.as_ref().map(|n| format!("\n  note: {n}")).unwrap_or_default()
            )
        });
    }

    pub fn start(&self, start: &Start, now: DateTime<Utc>) {
        self.emit(start, || start_line(start, now));
    }

    pub fn starts(&self, log: &[Start], now: DateTime<Utc>) {
        let current = timing_core::starts::current(log);
        let value =
            serde_json::json!({ "starts": current.values().collect::<Vec<_>>(), "log": log });
        self.emit(&value, || {
            if log.is_empty() {
                return "no start yet: `timing-cli start` starts the race".to_owned();
            }
            let mut lines: Vec<String> = current.values().map(|s| start_line(s, now)).collect();
            lines.push("log:".to_owned());
            lines.extend(log.iter().map(|s| {
                format!(
                    "  #{}  {}  {}  {}  by {}{}",
                    s.id,
                    timing_core::starts::wave_label(&s.wave),
                    s.kind,
                    format_utc(s.at),
                    s.operator,
                    s.source.as_deref().map(|r| format!(" (reader {r})")).unwrap_or_default()
                )
            }));
            lines.join("\n")
        });
    }

    pub fn entry(&self, e: &Entry) {
        self.emit(e, || {
            let mut lines: Vec<String> = e
                .passings
                .iter()
                .map(|p| {
                    format!(
                        "#{}  {}  bib {}",
                        p.num_passing,
                        format_utc(p.timestamp),
                        p.bib.clone().unwrap_or_else(|| "(waiting)".into())
                    )
                })
                .collect();
            lines.extend(e.warnings.iter().map(|w| match w {
                Warning::UnknownBib { bib } => {
                    format!("warning: bib {bib} is not in the participant list")
                }
                Warning::RepeatedBib { bib, earlier_num } => {
                    format!("warning: bib {bib} already passed (#{earlier_num})")
                }
            }));
            if !e.queued.is_empty() {
                lines.push(format!("queued: {}", e.queued.join(" ")));
            }
            lines.join("\n")
        });
    }

    pub fn corrected(&self, c: &Corrected) {
        self.emit(c, || {
            let what = format!(
                "passing corrected ({}{})",
                c.correction.kind,
                c.correction.new_value.as_ref().map(|v| format!(" → {v}")).unwrap_or_default()
            );
            match &c.carrier {
                Some(p) => format!(
                    "{what}; RUFUS already had it, so #{} carries the correction",
                    p.num_passing
                ),
                None => what,
            }
        });
    }

    pub fn feed(&self, feed: &[FeedEntry]) {
        self.emit(&feed, || {
            feed.iter()
                .map(|f| {
                    let mut flags = Vec::new();
                    if f.void {
                        flags.push("void");
                    }
                    if f.corrected {
                        flags.push("corrected");
                    }
                    if f.unknown_chip {
                        flags.push("unknown chip");
                    }
                    format!(
                        "#{:<5} {}  bib {:<8} {:<24} {:<7} {:<7} {}",
                        f.num_passing,
                        format_utc(f.timestamp),
                        f.bib.clone().unwrap_or_else(|| "-".into()),
                        f.chip.clone().unwrap_or_default(),
                        f.source,
                        f.sync_state,
                        flags.join(", ")
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        });
    }

    pub fn ports(&self, ports: &[timing_readers::PortInfo]) {
        let list: Vec<_> = ports
            .iter()
            .map(|p| serde_json::json!({"path": p.path, "description": p.description}))
            .collect();
        self.emit(&list, || {
            if ports.is_empty() {
                return "no serial ports found".into();
            }
            ports
                .iter()
                .map(|p| format!("{:<16} {}", p.path, p.description))
                .collect::<Vec<_>>()
                .join("\n")
        });
    }

    pub fn import(&self, r: &ImportReport) {
        self.emit(r, || {
            let mut lines = vec![format!(
                "{} participant(s) imported, {} row(s) rejected",
                r.accepted,
                r.rejected.len()
            )];
            lines.extend(r.rejected.iter().map(|(line, why)| format!("  line {line}: {why}")));
            lines.join("\n")
        });
    }

    pub async fn status(&self, engine: &Engine, just_sent: Option<u64>) -> Result<(), CoreError> {
        engine.sync().refresh_counts().await;
        let sync = engine.sync().status().borrow().clone();
        let device = engine.current_device().await.ok();
        let session = engine.current_session().await?;
        let value = serde_json::json!({
            "device": device, "session": session, "sync": sync, "just_sent": just_sent,
        });
        self.emit(&value, || {
            format!(
                "device   {}\nsession  {}\nsync     pending {}  sent {}  parked {}{}{}",
                device.as_ref().map_or("(none bound)".into(), |d| d.deviceid.to_string()),
                session.as_ref().map_or("(none open)".into(), session_line),
                sync.pending,
                sync.sent,
                sync.parked,
                sync.last_error.as_ref().map(|e| format!("\nlast error  {e}")).unwrap_or_default(),
                if sync.offline { "\nno RUFUS_API_KEY set: nothing is syncing" } else { "" }
            )
        });
        Ok(())
    }
}

fn session_line(s: &Session) -> String {
    format!(
        "session {}  {}  {}  next #{}",
        s.id,
        s.state,
        s.alias.clone().unwrap_or_else(|| "(no alias)".into()),
        s.next_num_passing
    )
}

/// `the start: 2026-05-03T09:00:00.000Z (stamp), race clock 0:12:03.456`.
fn start_line(s: &Start, now: DateTime<Utc>) -> String {
    format!(
        "{}: {} ({}), race clock {}",
        timing_core::starts::wave_label(&s.wave),
        format_utc(s.at),
        s.kind,
        timing_core::starts::format_race_time(now - s.at)
    )
}
