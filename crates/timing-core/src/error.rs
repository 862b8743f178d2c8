//! The engine's one error type: says what went wrong in words a timer understands, carries a
//! stable `code` the UI and CLI can branch on, and keeps the cloud error's retry advice.

use thiserror::Error;

/// Result of engine operations.
pub type Result<T, E = CoreError> = std::result::Result<T, E>;

/// Everything the engine can refuse or fail at.
#[derive(Debug, Error)]
pub enum CoreError {
    /// The local database failed (disk full, file locked, corrupted).
    #[error("local database: {0}")]
    Store(#[from] sqlx::Error),
    /// The database schema could not be brought up to date.
    #[error("local database schema: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// RUFUS Cloud answered with an error or could not be reached.
    #[error("{0}")]
    Cloud(#[from] rufus_api::ApiError),
    /// Input from a person or a file that cannot be used as it is.
    #[error("{0}")]
    Invalid(String),
    /// Something named does not exist locally.
    #[error("{0} not found")]
    NotFound(String),
    /// The operation needs a device bound first.
    #[error("no device is bound: bind this console (or a reader) to your RUFUS account first")]
    NoDevice,
    /// The operation needs an open session.
    #[error("no session is open: open a session first")]
    NoOpenSession,
    /// The operation conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// No API key is configured, so nothing can reach the cloud.
    #[error(
        "no RUFUS API key is set: capture works offline, but nothing is synced until a key is set"
    )]
    NoApiKey,
    /// A destructive operation was asked for without its confirmation.
    #[error("{0}")]
    ConfirmationRequired(String),
    /// Reading or writing a file failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// `code()` and the list of every code it returns, from one table (the cloud's codes are the
/// client's own).
macro_rules! codes {
    ($cloud:pat => $e:ident.code(), $($pat:pat => $code:literal),* $(,)?) => {
        /// A stable, machine-readable code (crosses IPC as `{code, message}`).
        pub fn code(&self) -> &'static str {
            match self {
                $cloud => $e.code(),
                $($pat => $code),*
            }
        }

        /// Every code [`Self::code`] can return (the UI's union of error codes is made from it).
        pub fn codes() -> Vec<&'static str> {
            let mut all = vec![$($code),*];
            all.extend(rufus_api::ApiError::CODES);
            all
        }
    };
}

impl CoreError {
    codes! {
        CoreError::Cloud(e) => e.code(),
        CoreError::Store(_) | CoreError::Migrate(_) => "store",
        CoreError::Invalid(_) => "invalid",
        CoreError::NotFound(_) => "not_found",
        CoreError::NoDevice => "no_device",
        CoreError::NoOpenSession => "no_open_session",
        CoreError::Conflict(_) => "conflict",
        CoreError::NoApiKey => "no_api_key",
        CoreError::ConfirmationRequired(_) => "confirmation_required",
        CoreError::Io { .. } => "io",
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        CoreError::Io { context: context.into(), source }
    }
}
