//! Integration tests of the simulator over real HTTP on 127.0.0.1 ephemeral ports: one test
//! binary (faster to link) with a module per concern.
// Tests may unwrap, expect and index JSON: a failing test should stop loudly. (clippy.toml
// allows these inside #[test] functions only; the shared helpers need it too.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod auth;
mod binary;
mod common;
mod dedup;
mod endpoints;
mod envelope;
mod faults;
mod lifecycle;
mod paging;
mod quirks;
mod session_hop;
mod validation;
