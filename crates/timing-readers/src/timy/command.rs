//! Bytes the console sends to an ALGE Timy (readers.md §10a): CR-terminated text commands. The
//! timer's clock cannot be set from here (synchronise at the start); `RSM` re-sends the stored
//! impulses (lines flagged `m`), which is this protocol's rewind.

/// Any command text, CR-terminated.
pub fn command(text: &str) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    bytes.push(b'\r');
    bytes
}

/// `TIMYINIT`: announce the PC.
pub fn init() -> Vec<u8> {
    command("TIMYINIT")
}

/// `NSF?`: firmware version.
pub fn version() -> Vec<u8> {
    command("NSF?")
}

/// `PROG?`: running program.
pub fn program() -> Vec<u8> {
    command("PROG?")
}

/// `CHK1`: append a checksum to every impulse line.
pub fn checksum_on() -> Vec<u8> {
    command("CHK1")
}

/// `PRE4`: 1/10000 s precision.
pub fn precision_ten_thousandths() -> Vec<u8> {
    command("PRE4")
}

/// `RR0`: cut (do not round) the last digit.
pub fn cut_rounding() -> Vec<u8> {
    command("RR0")
}

/// `KL1` / `KL0`: lock / unlock the keyboard.
pub fn key_lock(locked: bool) -> Vec<u8> {
    command(if locked { "KL1" } else { "KL0" })
}

/// `RSM`: re-send every stored impulse.
pub fn resend_memory() -> Vec<u8> {
    command("RSM")
}

/// `CLR`: clear the timer's memory.
pub fn clear_memory() -> Vec<u8> {
    command("CLR")
}
