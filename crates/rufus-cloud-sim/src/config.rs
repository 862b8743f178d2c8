//! How a simulator run is set up: envelope style, de-duplication, latency, faults, persistence,
//! and the quirks of real servers (page size, numbers written as strings, `page` ignored).

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::faults::FaultRule;

/// How every API response body is shaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Envelope {
    /// The 2023 pages: the object itself, `{"description": ..., ...}`.
    #[default]
    Plain,
    /// The newer spec: `{"body": {...}}`, and a 500 is `{"body": null}`.
    Wrapped,
}

/// Access type of an API key, as in the RUFUS account settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Access {
    /// GET only.
    Read,
    /// POST and PATCH only (bind, sessions, passings).
    Write,
    /// GET, POST and PATCH.
    ReadWrite,
}

impl Access {
    /// Whether a key of this type may read (GET).
    pub fn can_read(self) -> bool {
        matches!(self, Access::Read | Access::ReadWrite)
    }

    /// Whether a key of this type may write (POST, PATCH; DELETE also needs the unbind flag).
    pub fn can_write(self) -> bool {
        matches!(self, Access::Write | Access::ReadWrite)
    }

    /// The name RUFUS uses for this access type.
    pub fn label(self) -> &'static str {
        match self {
            Access::Read => "READ",
            Access::Write => "WRITE",
            Access::ReadWrite => "READ_WRITE",
        }
    }
}

/// Everything chosen when a simulator starts. Most of it can be changed later through [`crate::Sim`].
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Plain or `{"body": ...}` responses.
    pub envelope: Envelope,
    /// De-duplicate passings by `(token_session, num_passing)` and report `duplicate_count`.
    pub dedup: bool,
    /// Waited before every API request is handled.
    pub latency: Duration,
    /// A larger `passings_list` is refused with 413 `{"description": ...}`.
    pub max_batch: Option<usize>,
    /// Faults armed from the start.
    pub faults: Vec<FaultRule>,
    /// Loaded at start when it exists, saved (atomically) after every state change.
    pub state_file: Option<PathBuf>,
    /// Fixed READ_WRITE + unbind key; `None` keeps the one in the state file or makes `ror-` + 20 hex.
    pub admin_key: Option<String>,
    /// Rows per page of the passing reads P2, P3 and P4 (default [`DEFAULT_PAGE_SIZE`]; 0 counts
    /// as 1).
    pub page_size: usize,
    /// Write every JSON number of an API answer as a string (`"num_passing": "12"`,
    /// `"inserted_count": "3"`, counts, pagination numbers), as some real servers do.
    pub string_numbers: bool,
    /// Serve page 1 of P2, P3 and P4 whatever `page` asks for (a server that ignores paging).
    pub ignore_page: bool,
}

/// Rows per page of passing reads, as RUFUS documents.
pub const DEFAULT_PAGE_SIZE: usize = 5000;

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            envelope: Envelope::Plain,
            dedup: true,
            latency: Duration::ZERO,
            max_batch: None,
            faults: Vec::new(),
            state_file: None,
            admin_key: None,
            page_size: DEFAULT_PAGE_SIZE,
            string_numbers: false,
            ignore_page: false,
        }
    }
}
