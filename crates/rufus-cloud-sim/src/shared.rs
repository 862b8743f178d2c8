//! What every request handler shares: the account behind a mutex, the run's switchable
//! settings, the armed faults and the state file.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::config::{Envelope, SimConfig};
use crate::faults::FaultBook;
use crate::snapshot::Snapshot;
use crate::state::World;
use crate::store::StateFile;

/// Settings that [`crate::Sim`] can switch while the server runs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    pub(crate) envelope: Envelope,
    pub(crate) dedup: bool,
    pub(crate) latency: Duration,
    pub(crate) max_batch: Option<usize>,
    /// Rows per page of P2, P3, P4; at least 1.
    pub(crate) page_size: usize,
    pub(crate) string_numbers: bool,
    pub(crate) ignore_page: bool,
}

/// The simulator's state. Its mutexes are never held across an `.await`.
#[derive(Debug)]
pub(crate) struct Shared {
    world: Mutex<World>,
    settings: Mutex<Settings>,
    faults: Mutex<FaultBook>,
    /// Bibs P1 refuses with 400 (account rules a client cannot know in advance).
    refused_bibs: Mutex<std::collections::BTreeSet<String>>,
    state_file: Option<StateFile>,
    /// Taken before the world and held until the file is written, so saves land in order.
    saving: Mutex<()>,
}

/// Locks a mutex; a panic elsewhere while it was held does not make the state unreadable.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    pub(crate) fn new(world: World, config: &SimConfig, state_file: Option<StateFile>) -> Shared {
        Shared {
            world: Mutex::new(world),
            settings: Mutex::new(Settings {
                envelope: config.envelope,
                dedup: config.dedup,
                latency: config.latency,
                max_batch: config.max_batch,
                page_size: config.page_size.max(1),
                string_numbers: config.string_numbers,
                ignore_page: config.ignore_page,
            }),
            faults: Mutex::new(FaultBook::new(config.faults.clone())),
            refused_bibs: Mutex::new(std::collections::BTreeSet::new()),
            state_file,
            saving: Mutex::new(()),
        }
    }

    /// Reads the account.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&World) -> R) -> R {
        f(&lock(&self.world))
    }

    /// Changes the account, then saves it to the state file (when there is one) before returning.
    pub(crate) fn write<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        let Some(file) = &self.state_file else { return f(&mut lock(&self.world)) };
        let _saving = lock(&self.saving);
        let (out, bytes) = {
            let mut world = lock(&self.world);
            let out = f(&mut world);
            (out, serde_json::to_vec(&*world))
        };
        match bytes.map_err(std::io::Error::other).and_then(|bytes| file.save(&bytes)) {
            Ok(()) => {}
            Err(e) => tracing::error!("could not save the state file: {e}"),
        }
        out
    }

    pub(crate) fn snapshot(&self) -> Snapshot {
        self.read(World::snapshot)
    }

    pub(crate) fn settings(&self) -> Settings {
        *lock(&self.settings)
    }

    pub(crate) fn change_settings(&self, f: impl FnOnce(&mut Settings)) {
        f(&mut lock(&self.settings));
    }

    pub(crate) fn refuse_bib(&self, bib: &str) {
        lock(&self.refused_bibs).insert(bib.to_owned());
    }

    pub(crate) fn is_refused(&self, bib: &str) -> bool {
        lock(&self.refused_bibs).contains(bib)
    }

    pub(crate) fn faults(&self) -> MutexGuard<'_, FaultBook> {
        lock(&self.faults)
    }
}
