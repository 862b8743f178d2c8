//! Bytes the console sends to an IPICO reader (readers.md §1): `ab` control frames with their
//! LRC (set/get clock, queries) and the Elite text control port's date and replay commands.

use std::fmt::Write as _;

use chrono::{Datelike, NaiveDateTime, Timelike};

use super::lrc;

/// Instruction `01`: set the real-time clock.
pub const SET_RTC: u8 = 0x01;
/// Instruction `02`: get the real-time clock.
pub const GET_RTC: u8 = 0x02;
/// Instruction `09`: CONFIG3 / read mode.
pub const READ_MODE: u8 = 0x09;
/// Instruction `37`: print the start-up banner.
pub const BANNER: u8 = 0x37;

/// `ab RR LL II DD… CC CR LF` with `LL` = payload length and the LRC computed.
pub fn control_frame(reader_id: u8, instruction: u8, payload: &[u8]) -> Vec<u8> {
    frame(reader_id, u8::try_from(payload.len()).unwrap_or(u8::MAX), instruction, payload)
}

/// A query for the current value of a setting (`LL` = `ff`, no payload), e.g.
/// `query(0, READ_MODE)` = `ab00ff0995\r\n`.
pub fn query(reader_id: u8, instruction: u8) -> Vec<u8> {
    frame(reader_id, 0xff, instruction, &[])
}

/// Sets the reader clock (instruction `01`, BCD `YY MM DD DOW HH MM SS`, DOW 0 = Sunday).
/// Sub-second precision is dropped: the reader takes whole seconds.
pub fn set_clock(reader_id: u8, at: NaiveDateTime) -> Vec<u8> {
    let bcd = |v: u32| u8::try_from(((v / 10 % 10) << 4) | (v % 10)).unwrap_or(0);
    let payload = [
        bcd(u32::try_from(at.year().rem_euclid(100)).unwrap_or(0)),
        bcd(at.month()),
        bcd(at.day()),
        bcd(at.weekday().num_days_from_sunday()),
        bcd(at.hour()),
        bcd(at.minute()),
        bcd(at.second()),
    ];
    control_frame(reader_id, SET_RTC, &payload)
}

/// Asks for the reader clock (instruction `02`): `ab00000222\r\n` for reader 0.
pub fn get_clock(reader_id: u8) -> Vec<u8> {
    control_frame(reader_id, GET_RTC, &[])
}

/// Asks the reader to print its start-up banner (instruction `37`).
pub fn banner(reader_id: u8) -> Vec<u8> {
    control_frame(reader_id, BANNER, &[])
}

fn frame(reader_id: u8, length: u8, instruction: u8, payload: &[u8]) -> Vec<u8> {
    let mut body = String::with_capacity(10 + payload.len() * 2);
    let _ = write!(body, "{reader_id:02x}{length:02x}{instruction:02x}");
    for b in payload {
        let _ = write!(body, "{b:02x}");
    }
    let check = lrc(body.as_bytes());
    format!("ab{body}{check:02x}\r\n").into_bytes()
}

/// IPICO Elite control port (TCP 9999, text, LF): ask the date (`getdate`).
pub fn elite_get_date() -> Vec<u8> {
    b"getdate\n".to_vec()
}

/// IPICO Elite control port: set the date, `setdate.YYMMDDHH:MM:SS`.
pub fn elite_set_date(at: NaiveDateTime) -> Vec<u8> {
    format!("setdate.{}\n", at.format("%y%m%d%H:%M:%S")).into_bytes()
}

/// Which of an Elite's two readers a replay reads back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EliteReader {
    /// The first reader (`ttyS0`).
    First,
    /// The second reader (`ttyS1`).
    Second,
}

/// IPICO Elite control port: replay stored `aa` lines to TCP `port` (10300 by convention),
/// optionally from a reader time on: `replay_start file.ttyS0 port.10300 [datetime.yyMMddHHmmss]`.
/// Connect to that port afterwards and decode with [`IpicoDecoder`](super::IpicoDecoder).
/// *(impl-only in readers.md: Chronokeep.)*
pub fn elite_replay(reader: EliteReader, port: u16, from: Option<NaiveDateTime>) -> Vec<u8> {
    let file = match reader {
        EliteReader::First => "ttyS0",
        EliteReader::Second => "ttyS1",
    };
    let mut line = format!("replay_start file.{file} port.{port}");
    if let Some(from) = from {
        let _ = write!(line, " datetime.{}", from.format("%y%m%d%H%M%S"));
    }
    line.push('\n');
    line.into_bytes()
}
