//! The reader supervisor end to end: emulated readers on loopback TCP ([`network`]) and on
//! pseudo-terminals ([`serial`]) → `ReaderSupervisor` → the reads channel; numbering restarts and
//! slow, skewed links ([`numbering`]); reader zones, clock hints and adjustments ([`zone`]); LLRP
//! settings read back and its clock followed ([`llrp`]). One test binary, so
//! the network tests run while the pty tests take their turns on the pty lock.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests stop loudly
#![allow(clippy::panic, clippy::indexing_slicing)] // and so do their helpers
#![allow(clippy::print_stderr)] // measured reconnect times are printed for the record

mod in_transit;
mod llrp;
mod network;
mod numbering;
#[cfg(unix)]
mod serial;
mod support;
mod zone;
