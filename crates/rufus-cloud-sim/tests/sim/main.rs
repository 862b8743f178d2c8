//! Integration tests of the simulator over real HTTP on 127.0.0.1 ephemeral ports: one test
//! binary (faster to link) with a module per concern.
// Tests may unwrap and expect: a failing test should stop loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod binary;
mod common;
mod dedup;
mod endpoints;
mod envelope;
mod faults;
mod lifecycle;
mod paging;
mod session_hop;
mod validation;
