//! Drills on real parts: `drill-cli` (the timing-cli) as a real process with a real SQLite
//! file, fed lines on stdin at race pace, syncing to `rufus-cloud-sim` over loopback HTTP with
//! its de-duplication switched off, so any double send shows. One test binary, one module per
//! kind of drill.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // tests stop loudly

mod bad_input;
mod crash;
mod healing;
mod llrp;
mod manual;
mod one_sender;
mod outage;
mod readers;
mod reconcile;
mod remote_close;
mod settings;
mod spare_laptop;
mod starts;
mod support;
