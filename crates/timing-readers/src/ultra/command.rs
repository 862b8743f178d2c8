//! Bytes the console sends to an Ultra / Joey (readers.md §2): start/stop, clock, send-from,
//! rewinds by time or log id, settings. Text commands end with `\n` as Chronokeep sends them.
//!
//! ⚠ readers.md: the rewind-by-time command is `800<start>\r<end>` per the manual, but PikaTimer
//! sends `8 0x00 0x00 <start> CR <end> CR` "like RFIDServer". Both are offered
//! ([`RewindEncoding`]); which one a given firmware wants must be found on the hardware.

use chrono::NaiveDateTime;

use super::seconds_since_epoch;

/// `R`: start reading.
pub fn start_reading() -> Vec<u8> {
    b"R\n".to_vec()
}

/// `S`: stop reading.
pub fn stop_reading() -> Vec<u8> {
    b"S\n".to_vec()
}

/// `?`: ask for the status (`S=..` reply).
pub fn status() -> Vec<u8> {
    b"?\n".to_vec()
}

/// `r`: ask for the reader clock (`H:M:S D-M-YYYY (n)` reply).
pub fn get_time() -> Vec<u8> {
    b"r\n".to_vec()
}

/// `t HH:MM:SS DD-MM-YYYY`: set the reader clock (reader-local wall time, whole seconds).
pub fn set_time(at: NaiveDateTime) -> Vec<u8> {
    format!("t {}\n", at.format("%H:%M:%S %d-%m-%Y")).into_bytes()
}

/// `700<secs>`: start sending reads from a reader time on; `700` alone: from now.
pub fn send_from(from: Option<NaiveDateTime>) -> Vec<u8> {
    match from {
        Some(at) => format!("700{}\n", seconds_since_epoch(at)).into_bytes(),
        None => b"700\n".to_vec(),
    }
}

/// `s`: stop sending.
pub fn stop_sending() -> Vec<u8> {
    b"s\n".to_vec()
}

/// How the rewind-by-time command is spelled (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RewindEncoding {
    /// `800<start>\r<end>\n`, as the manual has it.
    Manual,
    /// `8 0x00 0x00 <start> \r <end> \r`, as PikaTimer and RFIDServer send it.
    RfidServer,
}

/// Rewind by reader time: re-send reads between `from` and `to` (reader-local times).
pub fn rewind_by_time(from: NaiveDateTime, to: NaiveDateTime, encoding: RewindEncoding) -> Vec<u8> {
    let (start, end) = (seconds_since_epoch(from), seconds_since_epoch(to));
    match encoding {
        RewindEncoding::Manual => format!("800{start}\r{end}\n").into_bytes(),
        RewindEncoding::RfidServer => {
            let mut bytes = vec![b'8', 0x00, 0x00];
            bytes.extend_from_slice(format!("{start}\r{end}\r").as_bytes());
            bytes
        }
    }
}

/// `600<fromLog>\r<toLog>`: rewind by log-id range (inclusive).
pub fn rewind_by_log(from_log: u64, to_log: u64) -> Vec<u8> {
    format!("600{from_log}\r{to_log}\n").into_bytes()
}

/// `9`: stop a rewind.
pub fn stop_rewind() -> Vec<u8> {
    b"9\n".to_vec()
}

/// `U`: dump the settings (`U<id><value>` lines).
pub fn dump_settings() -> Vec<u8> {
    b"U\n".to_vec()
}

/// `u<id><value>\xFF`: change one setting (ids: 0x09 chip format, 0x1D gating mode, 0x1E gating
/// interval, 0x23 time-zone offset, 0x24 data sending, 0x25 Ultra id, …).
pub fn change_setting(id: u8, value: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(value.len() + 3);
    bytes.push(b'u');
    bytes.push(id);
    bytes.extend_from_slice(value);
    bytes.push(0xFF);
    bytes
}

/// `u\xFF`: save the settings.
pub fn save_settings() -> Vec<u8> {
    vec![b'u', 0xFF]
}

/// `03 00 00 03 CR LF`: turn on extended status lines (as PikaTimer does).
pub fn enable_extended_status() -> Vec<u8> {
    vec![0x03, 0x00, 0x00, 0x03, 0x0D, 0x0A]
}
