//! The optional state file: read at start, rewritten atomically (temp file + rename) after every
//! change, so a restarted simulator keeps devices, sessions, passings and keys.

use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::state::World;

/// Where the account is saved.
#[derive(Debug)]
pub(crate) struct StateFile {
    path: PathBuf,
}

impl StateFile {
    pub(crate) fn new(path: PathBuf) -> StateFile {
        StateFile { path }
    }

    /// The saved account, or `None` when the file does not exist yet.
    pub(crate) fn load(&self) -> io::Result<Option<World>> {
        let bytes = match fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        World::from_json(&bytes).map(Some).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("state file {} is not a simulator state: {e}", self.path.display()),
            )
        })
    }

    /// Replaces the file with `bytes`: a reader never sees half a file.
    pub(crate) fn save(&self, bytes: &[u8]) -> io::Result<()> {
        let temp = temp_path(&self.path);
        fs::write(&temp, bytes)?;
        fs::rename(&temp, &self.path)
    }
}

/// `state.json` -> `state.json.tmp`, in the same folder so that the rename is atomic.
fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(OsString::from).unwrap_or_else(|| OsString::from("state"));
    name.push(".tmp");
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_is_no_state_and_saves_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::new(dir.path().join("sim.json"));
        assert!(file.load().unwrap().is_none());
        let world = World::new("ror-0123456789abcdef0123".into());
        file.save(&serde_json::to_vec(&world).unwrap()).unwrap();
        let loaded = file.load().unwrap().unwrap();
        assert_eq!(loaded.admin_key, "ror-0123456789abcdef0123");
        assert!(!dir.path().join("sim.json.tmp").exists());
    }

    #[test]
    fn garbage_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sim.json");
        fs::write(&path, b"not json").unwrap();
        assert_eq!(StateFile::new(path).load().unwrap_err().kind(), io::ErrorKind::InvalidData);
    }
}
