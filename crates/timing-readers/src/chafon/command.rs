//! Bytes the console sends to a Chafon reader (readers.md §4a): `Len Adr Cmd Data… CRC_LSB
//! CRC_MSB`. The reader has no clock and no passing memory to rewind; reading is either polled
//! (inventory commands) or switched to scan/active mode with the work-mode command, whose
//! parameter bytes differ between models and are passed through as given.

use super::crc16;

/// Address every reader answers to.
pub const BROADCAST: u8 = 0xFF;

/// Command codes used here.
pub mod code {
    /// EPC C1G2 inventory.
    pub const INVENTORY: u8 = 0x01;
    /// Single-tag inventory.
    pub const SINGLE_TAG_INVENTORY: u8 = 0x0F;
    /// Get reader information.
    pub const GET_READER_INFO: u8 = 0x21;
    /// Set inventory scan time.
    pub const SET_SCAN_TIME: u8 = 0x25;
    /// Set output power.
    pub const SET_POWER: u8 = 0x2F;
    /// Set work mode (answer / scan / active).
    pub const SET_WORK_MODE: u8 = 0x35;
    /// Get work mode.
    pub const GET_WORK_MODE: u8 = 0x36;
}

/// Any command frame, with `Len` and the CRC filled in. Data beyond 251 bytes is cut (`Len` is
/// one byte).
pub fn frame(address: u8, command: u8, data: &[u8]) -> Vec<u8> {
    let data = data.get(..251).unwrap_or(data);
    let mut bytes = Vec::with_capacity(data.len() + 5);
    bytes.push(u8::try_from(data.len() + 4).unwrap_or(u8::MAX));
    bytes.push(address);
    bytes.push(command);
    bytes.extend_from_slice(data);
    bytes.extend_from_slice(&crc16(&bytes).to_le_bytes());
    bytes
}

/// Plain inventory (UHFReader18 reply layout): `04 00 01 DB 4B` for address 0.
pub fn inventory(address: u8) -> Vec<u8> {
    frame(address, code::INVENTORY, &[])
}

/// Inventory with the newer firmware's parameters (Q / session / mask / target / antenna /
/// scan time, model-specific), answered in the UHFReader288 layout.
pub fn inventory_with_params(address: u8, params: &[u8]) -> Vec<u8> {
    frame(address, code::INVENTORY, params)
}

/// Single-tag inventory.
pub fn single_tag_inventory(address: u8) -> Vec<u8> {
    frame(address, code::SINGLE_TAG_INVENTORY, &[])
}

/// Get reader information: `04 00 21 D9 6A` for address 0.
pub fn get_reader_info(address: u8) -> Vec<u8> {
    frame(address, code::GET_READER_INFO, &[])
}

/// Set the inventory scan time (units of 100 ms).
pub fn set_scan_time(address: u8, tenths: u8) -> Vec<u8> {
    frame(address, code::SET_SCAN_TIME, &[tenths])
}

/// Set the output power (model-specific scale, typically 0–30 dBm).
pub fn set_power(address: u8, power: u8) -> Vec<u8> {
    frame(address, code::SET_POWER, &[power])
}

/// Set the work mode (answer mode vs scan/active mode: starts or stops unsolicited 0xEE frames);
/// `params` as the model's manual gives them.
pub fn set_work_mode(address: u8, params: &[u8]) -> Vec<u8> {
    frame(address, code::SET_WORK_MODE, params)
}

/// Get the work mode.
pub fn get_work_mode(address: u8) -> Vec<u8> {
    frame(address, code::GET_WORK_MODE, &[])
}
