//! Where the RUFUS API key lives: the OS keychain (`keyring`), or — where no keychain answers
//! (a Linux box without a Secret Service) — a file in the app's data directory that only this
//! user can read. The app says which, so a timer knows.

use std::path::{Path, PathBuf};

use timing_ipc::KeyStorage;

const SERVICE: &str = "com.rufus.timing-console";
const ACCOUNT: &str = "rufus-api-key";
const FILE: &str = "api-key";

/// The API key's home.
#[derive(Debug, Clone)]
pub struct KeyStore {
    file: PathBuf,
    /// Service name in the keychain (differs for dev builds, so they never share a key).
    service: String,
    /// Never ask the OS keychain (tests: the user's keychain is never touched).
    file_only: bool,
}

impl KeyStore {
    /// A key store for the app whose data lives in `data_dir`.
    pub fn new(data_dir: &Path, dev: bool) -> Self {
        let service = if dev { format!("{SERVICE}.dev") } else { SERVICE.to_owned() };
        Self { file: data_dir.join(FILE), service, file_only: false }
    }

    /// A key store that only uses the private file (tests, throw-away data directories).
    pub fn file_only(mut self) -> Self {
        self.file_only = true;
        self
    }

    fn entry(&self) -> Result<keyring::Entry, String> {
        if self.file_only {
            return Err("the keychain is not used for this data directory".into());
        }
        keyring::Entry::new(&self.service, ACCOUNT).map_err(|e| e.to_string())
    }

    /// The stored key, and where it was found.
    pub fn load(&self) -> (Option<String>, KeyStorage) {
        let keychain = self.entry().and_then(|e| match e.get_password() {
            Ok(key) => Ok(Some(key)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(e.to_string()),
        });
        match keychain {
            Ok(Some(key)) => (Some(key), KeyStorage::Keychain),
            Ok(None) => self.load_file("stored while no keychain was available".into()),
            Err(reason) => self.load_file(format!("no OS keychain available ({reason})")),
        }
    }

    fn load_file(&self, reason: String) -> (Option<String>, KeyStorage) {
        match std::fs::read_to_string(&self.file) {
            Ok(key) if !key.trim().is_empty() => {
                (Some(key.trim().to_owned()), KeyStorage::File { reason })
            }
            _ => (None, KeyStorage::None),
        }
    }

    /// Stores the key in the keychain, or in the private file when no keychain answers.
    pub fn save(&self, key: &str) -> Result<KeyStorage, String> {
        let key = key.trim();
        if key.is_empty() {
            return Err("the API key is empty".into());
        }
        match self.entry().and_then(|e| e.set_password(key).map_err(|e| e.to_string())) {
            Ok(()) => {
                let _ = std::fs::remove_file(&self.file);
                Ok(KeyStorage::Keychain)
            }
            Err(reason) => {
                write_private(&self.file, key)
                    .map_err(|e| format!("no keychain ({reason}) and the key file failed: {e}"))?;
                Ok(KeyStorage::File { reason: format!("no OS keychain available ({reason})") })
            }
        }
    }

    /// Forgets the key everywhere.
    pub fn clear(&self) -> KeyStorage {
        if let Ok(entry) = self.entry() {
            let _ = entry.delete_credential();
        }
        let _ = std::fs::remove_file(&self.file);
        KeyStorage::None
    }
}

/// Writes a file readable only by its owner.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    use std::io::Write;
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_keychain_the_key_goes_to_a_private_file_and_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(FILE);
        write_private(&file, "ror-0123456789abcdef0123").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "only the user may read the key");
        }
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "ror-0123456789abcdef0123");
    }
}
