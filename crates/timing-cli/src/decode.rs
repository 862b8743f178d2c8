//! `timing-cli decode --protocol P`: reads bytes from stdin, decodes them with the protocol's
//! decoder and prints one JSON line per read (chip, antenna, rssi, reader time, raw as hex) and
//! one per rejected frame with its reason — for checking a capture or a reader on the bench.

// This module writes its JSON lines to stdout.
#![allow(clippy::print_stdout)]

use std::process::ExitCode;

use chrono::Timelike as _;
use serde_json::json;
use timing_core::CoreError;
use timing_readers::{Decoded, Protocol, ReaderTime, Rssi};
use tokio::io::AsyncReadExt;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn reader_time(t: &ReaderTime) -> serde_json::Value {
    match t {
        ReaderTime::Utc(t) => json!({"utc": timing_core::clock::format_utc(*t)}),
        ReaderTime::Local(t) => json!({"local": t.format("%Y-%m-%dT%H:%M:%S%.3f").to_string()}),
        ReaderTime::SinceStart { days, time } => {
            json!({"since_start": {"days": days, "time": time.format("%H:%M:%S%.3f").to_string()}})
        }
        // To 1/10,000 s, as a Timy sends it (chrono's formats have 3, 6 or 9 decimals).
        ReaderTime::TimeOfDay(t) => json!({
            "time_of_day": format!("{}.{:04}", t.format("%H:%M:%S"), t.nanosecond() / 100_000)
        }),
    }
}

fn line(d: &Decoded) -> Option<serde_json::Value> {
    match d {
        Decoded::Read(r) => Some(json!({
            "kind": "read",
            "chip": r.chip,
            "bib": r.bib,
            "antenna": r.antenna,
            "rssi": match r.rssi {
                Some(Rssi::Dbm(v)) => json!({"dbm": v}),
                Some(Rssi::Raw(v)) => json!({"raw": v}),
                None => serde_json::Value::Null,
            },
            "reader_time": r.reader_time.as_ref().map(reader_time),
            "replay_key": r.replay_key.as_ref().map(ToString::to_string),
            "raw": hex(&r.raw),
        })),
        Decoded::Rejected(r) => {
            Some(json!({"kind": "rejected", "reason": r.reason.to_string(), "raw": hex(&r.raw)}))
        }
        // Controls that mark something a timer acts on; replies and status stay quiet.
        Decoded::Control(c) => {
            match &c.message {
                timing_readers::ControlMessage::Ipico(
                    timing_readers::ipico::IpicoControl::Trigger { at, .. },
                ) => Some(json!({
                    "kind": "control",
                    "control": "ipico_trigger",
                    "reader_time": reader_time(&ReaderTime::Local(*at)),
                    "raw": hex(&c.raw),
                })),
                timing_readers::ControlMessage::Timy(
                    timing_readers::timy::TimyControl::Computed {
                        number, kind, word, time, ..
                    },
                ) => Some(json!({
                    "kind": "control",
                    "control": "timy_computed",
                    "time_kind": format!("{kind:?}").to_lowercase(),
                    "word": word,
                    "number": number,
                    "seconds": time.as_secs_f64(),
                    "raw": hex(&c.raw),
                })),
                _ => None,
            }
        }
    }
}

/// Decodes stdin to the end.
pub async fn run(protocol: &str) -> Result<ExitCode, CoreError> {
    let protocol: Protocol = protocol
        .parse()
        .map_err(|e: timing_readers::UnknownProtocol| CoreError::Invalid(e.to_string()))?;
    let mut decoder = protocol.decoder();
    let mut stdin = tokio::io::stdin();
    let mut buf = vec![0_u8; 64 * 1024];
    let mut out = Vec::new();
    loop {
        let n = stdin
            .read(&mut buf)
            .await
            .map_err(|e| CoreError::Invalid(format!("reading stdin: {e}")))?;
        if n == 0 {
            decoder.finish(&mut out);
        } else {
            decoder.feed(buf.get(..n).unwrap_or_default(), &mut out);
        }
        for d in out.drain(..) {
            if let Some(v) = line(&d) {
                println!("{v}");
            }
        }
        if n == 0 {
            return Ok(ExitCode::SUCCESS);
        }
    }
}
