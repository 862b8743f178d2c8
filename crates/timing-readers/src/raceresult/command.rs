//! Bytes the console sends to a RACE RESULT decoder (readers.md §5a): `;`-separated commands
//! ending CR LF — protocol negotiation, start/stop operation, clock, passing count, fetch by
//! passing number (the rewind) and push mode.

use chrono::NaiveDateTime;

fn line(text: &str) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    bytes.extend_from_slice(b"\r\n");
    bytes
}

/// `GETPROTOCOL`.
pub fn get_protocol() -> Vec<u8> {
    line("GETPROTOCOL")
}

/// `SETPROTOCOL;<version>`, e.g. `"2.0"`.
pub fn set_protocol(version: &str) -> Vec<u8> {
    line(&format!("SETPROTOCOL;{version}"))
}

/// `STARTOPERATION`: the decoder starts storing passings (and its clock, if not set).
pub fn start_operation() -> Vec<u8> {
    line("STARTOPERATION")
}

/// `STOPOPERATION`: stop; closes the passing file.
pub fn stop_operation() -> Vec<u8> {
    line("STOPOPERATION")
}

/// `GETTIME`.
pub fn get_time() -> Vec<u8> {
    line("GETTIME")
}

/// `SETTIME;yyyy-MM-dd;hh:mm:ss.kkk` (the decoder's local wall time).
pub fn set_time(at: NaiveDateTime) -> Vec<u8> {
    line(&format!("SETTIME;{}", at.format("%Y-%m-%d;%H:%M:%S%.3f")))
}

/// `PASSINGS`: ask how many passings the current file holds.
pub fn passings_count() -> Vec<u8> {
    line("PASSINGS")
}

/// `<from>:<count>`: fetch up to `count` passing records from passing number `from` on; the
/// reply ends with an empty line.
pub fn fetch_passings(from: u64, count: u64) -> Vec<u8> {
    line(&format!("{from}:{count}"))
}

/// `SETPUSHPASSINGS;1;0` / `SETPUSHPASSINGS;0;0`: push new passings as `#P;` lines, or stop.
/// *(impl-only in readers.md; the second argument's meaning is not confirmed.)*
pub fn set_push_passings(on: bool) -> Vec<u8> {
    line(if on { "SETPUSHPASSINGS;1;0" } else { "SETPUSHPASSINGS;0;0" })
}

/// `GETSTATUS`.
pub fn get_status() -> Vec<u8> {
    line("GETSTATUS")
}
