//! Bytes the console sends to a CloudBox (readers.md §9): plain-text commands, arguments
//! separated by `;`, ending CR LF (the docs say CR but their examples end CR LF).
//!
//! The CloudBox can rewind by time range (anchors.md), but readers.md does not document the
//! command's name or argument format. [`rewind`] spells it `REWIND;<from>;<to>` with ISO 8601
//! UTC times, in the style of the documented commands — our choice, to be checked against a
//! CloudBox (the emulator implements the same spelling). [`command`] sends any other spelling.

use chrono::{DateTime, SecondsFormat, Utc};

fn line(text: &str) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    bytes.extend_from_slice(b"\r\n");
    bytes
}

/// Any command: `NAME;arg;arg\r\n`.
pub fn command(name: &str, args: &[&str]) -> Vec<u8> {
    let mut text = name.to_string();
    for arg in args {
        text.push(';');
        text.push_str(arg);
    }
    line(&text)
}

/// `START`: start pushing passings.
pub fn start() -> Vec<u8> {
    line("START")
}

/// `STOP`.
pub fn stop() -> Vec<u8> {
    line("STOP")
}

/// `GETSYSTEMTIME`: the box's clock (reply `{"command": "GETSYSTEMTIME", "result": …}`).
pub fn get_system_time() -> Vec<u8> {
    line("GETSYSTEMTIME")
}

/// `GETSYSTEMCONFIG`.
pub fn get_system_config() -> Vec<u8> {
    line("GETSYSTEMCONFIG")
}

/// `REWIND;<from>;<to>`: re-send the passings stored between two instants (ISO 8601 UTC with
/// milliseconds). See the module docs: the spelling is ours.
pub fn rewind(from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<u8> {
    line(&format!(
        "REWIND;{};{}",
        from.to_rfc3339_opts(SecondsFormat::Millis, true),
        to.to_rfc3339_opts(SecondsFormat::Millis, true)
    ))
}
