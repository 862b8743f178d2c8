//! Contract tests: the client against the RUFUS simulator over real HTTP, one simulator per test
//! on an ephemeral 127.0.0.1 port, every test bounded in time. Client and simulator are written
//! independently from the same contract, so each checks the other.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests stop loudly

#[path = "contract/auth.rs"]
mod auth;
#[path = "contract/endpoints.rs"]
mod endpoints;
#[path = "contract/faults.rs"]
mod faults;
#[path = "contract/paging.rs"]
mod paging;
#[path = "contract/secrecy.rs"]
mod secrecy;
#[path = "contract/support.rs"]
mod support;
