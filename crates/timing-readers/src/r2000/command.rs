//! Bytes the console sends to an R2000 module (readers.md §4b): `A0 Len Addr Cmd Data… Check`.
//! The module has no clock and no memory to rewind; reading is started by inventory commands and
//! stops when their repeat count is done.

use super::{HEAD, checksum};

/// Address every module answers to.
pub const BROADCAST: u8 = 0xFF;

/// Command codes used here.
pub mod code {
    /// Reset the module.
    pub const RESET: u8 = 0x70;
    /// Get firmware version.
    pub const GET_FIRMWARE_VERSION: u8 = 0x72;
    /// Set work antenna.
    pub const SET_WORK_ANTENNA: u8 = 0x74;
    /// Get work antenna.
    pub const GET_WORK_ANTENNA: u8 = 0x75;
    /// Set output power.
    pub const SET_OUTPUT_POWER: u8 = 0x76;
    /// Get output power.
    pub const GET_OUTPUT_POWER: u8 = 0x77;
    /// Real-time inventory.
    pub const REAL_TIME_INVENTORY: u8 = 0x89;
    /// Customised session/target inventory.
    pub const SESSION_TARGET_INVENTORY: u8 = 0x8B;
}

/// Any command frame, with `Len` and `Check` filled in. Data beyond 252 bytes is cut (a frame's
/// `Len` is one byte).
pub fn frame(address: u8, command: u8, data: &[u8]) -> Vec<u8> {
    let data = data.get(..252).unwrap_or(data);
    let mut bytes = Vec::with_capacity(data.len() + 5);
    bytes.push(HEAD);
    bytes.push(u8::try_from(data.len() + 3).unwrap_or(u8::MAX));
    bytes.push(address);
    bytes.push(command);
    bytes.extend_from_slice(data);
    bytes.push(checksum(&bytes));
    bytes
}

/// Start a real-time inventory of `repeat` rounds (tag frames stream until the end-of-round
/// frame): `A0 04 01 89 01 D1` for address 1, one round.
pub fn real_time_inventory(address: u8, repeat: u8) -> Vec<u8> {
    frame(address, code::REAL_TIME_INVENTORY, &[repeat])
}

/// Inventory with Gen2 `session` (0–3) and `target` (0 = A, 1 = B), `repeat` rounds.
pub fn session_target_inventory(address: u8, session: u8, target: u8, repeat: u8) -> Vec<u8> {
    frame(address, code::SESSION_TARGET_INVENTORY, &[session, target, repeat])
}

/// Ask the firmware version: `A0 03 01 72 EA` for address 1.
pub fn get_firmware_version(address: u8) -> Vec<u8> {
    frame(address, code::GET_FIRMWARE_VERSION, &[])
}

/// Select the antenna (1–4) for the next inventory: `A0 04 01 74 00 E7` selects antenna 1.
pub fn set_work_antenna(address: u8, antenna: u8) -> Vec<u8> {
    frame(address, code::SET_WORK_ANTENNA, &[antenna.saturating_sub(1)])
}

/// Ask which antenna is selected.
pub fn get_work_antenna(address: u8) -> Vec<u8> {
    frame(address, code::GET_WORK_ANTENNA, &[])
}

/// Set the output power in dBm.
pub fn set_output_power(address: u8, dbm: u8) -> Vec<u8> {
    frame(address, code::SET_OUTPUT_POWER, &[dbm])
}

/// Ask the output power.
pub fn get_output_power(address: u8) -> Vec<u8> {
    frame(address, code::GET_OUTPUT_POWER, &[])
}

/// Reset the module.
pub fn reset(address: u8) -> Vec<u8> {
    frame(address, code::RESET, &[])
}
