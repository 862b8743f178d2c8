//! One capturing console per data directory: the desktop app and `timing-cli run` hold an
//! exclusive OS file lock on `console.lock` while they run, so two instances never capture into
//! (or sync from) one database. The OS releases the lock if the process dies, even by `kill -9`.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::Path;

use crate::error::{CoreError, Result};

/// Held while this process captures into the data directory.
#[derive(Debug)]
pub struct InstanceLock {
    _file: File,
}

impl InstanceLock {
    /// Takes the lock, or says who holds it.
    pub fn acquire(data_dir: &Path, who: &str) -> Result<Self> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| CoreError::io(format!("create {}", data_dir.display()), e))?;
        let path = data_dir.join("console.lock");
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| CoreError::io(format!("open {}", path.display()), e))?;
        match file.try_lock() {
            Ok(()) => {
                let _ = file.set_len(0);
                let _ = writeln!(file, "{who} (pid {})", std::process::id());
                Ok(Self { _file: file })
            }
            Err(TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(&path).unwrap_or_default();
                Err(CoreError::Conflict(format!(
                    "another console is already capturing in {} ({}): close it first",
                    data_dir.display(),
                    holder.trim()
                )))
            }
            Err(TryLockError::Error(e)) => {
                Err(CoreError::io(format!("lock {}", path.display()), e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_console_on_the_same_data_is_refused_until_the_first_ends() {
        let dir = tempfile::tempdir().unwrap();
        let first = InstanceLock::acquire(dir.path(), "desktop app").unwrap();
        let err = InstanceLock::acquire(dir.path(), "timing-cli run").unwrap_err();
        assert!(err.to_string().contains("desktop app"), "{err}");
        drop(first);
        InstanceLock::acquire(dir.path(), "timing-cli run").unwrap();
    }
}
