//! The engine's change events. Whatever changes passings, sessions or starts says so here,
//! once, after its write is committed; fronts (the live feed, the app's status, the CLI's
//! `feed`) subscribe instead of being told by commands or polling the database.

use std::sync::Arc;

use tokio::sync::broadcast;

use crate::capture::CommitBatch;
use crate::domain::{PassingId, SessionId};

/// One change, after it is in the store.
#[derive(Debug, Clone)]
pub enum Change {
    /// Capture committed reads: the passings they made and the starts gun reads made.
    Committed(Arc<CommitBatch>),
    /// A person made or changed these passings (manual entry, undo, a correction).
    Passings(Vec<PassingId>),
    /// The cloud acknowledged these passings.
    Sent(Vec<PassingId>),
    /// A session was opened, closed, re-homed, or changed state.
    Session(SessionId),
    /// A session's start log changed (a start, a nudge, a restart).
    Starts(SessionId),
}

/// The bus every writer holds (through the store) and every front subscribes to.
#[derive(Debug, Clone)]
pub struct Changes(broadcast::Sender<Change>);

impl Default for Changes {
    fn default() -> Self {
        Self(broadcast::channel(1024).0)
    }
}

impl Changes {
    /// Announces a change; with no subscriber it is simply dropped (the store has the record).
    pub fn emit(&self, change: Change) {
        let _ = self.0.send(change);
    }

    /// Receives every change from now on. A receiver that falls behind gets `Lagged` and
    /// should re-read what it shows.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.0.subscribe()
    }
}
