//! The one error type of the client: it says what happened, in words a timing operator can act
//! on, and whether retrying is safe — the sync engine branches on [`ApiError::retry`].

use std::fmt;
use std::time::Duration;

use crate::ids::DeviceId;

/// The longest wait a server's `Retry-After` can impose (5 minutes): a larger value, in either
/// the delay-seconds or the HTTP-date form, is cut down to this, so that a misconfigured or
/// hostile server cannot stall the sync engine for a day.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// What a key must allow for an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// READ (or READ_WRITE) access: every GET.
    Read,
    /// WRITE (or READ_WRITE) access: POST and PATCH.
    Write,
    /// The Unbind flag on a WRITE or READ_WRITE key: DELETE.
    Unbind,
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Read => "READ",
            Self::Write => "WRITE",
            Self::Unbind => "the Unbind flag",
        })
    }
}

/// Every call the client makes (plus building the client itself), with a human name and the
/// permission it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// Building a [`crate::RufusClient`] from its configuration.
    Configure,
    /// D1 `POST /devices`.
    BindDevice,
    /// D2 `DELETE /devices/{deviceid}`.
    UnbindDevice,
    /// D3 `GET /devices`.
    ListDevices,
    /// D4 `GET /devices/{deviceid}`.
    Device,
    /// S1 `POST /sessions`.
    CreateSession,
    /// S2 `PATCH /sessions/close/{token_session}`.
    CloseSession,
    /// S3 `GET /sessions/device/{deviceid}`.
    DeviceSessions,
    /// S4 `GET /sessions/device/{deviceid}/active`.
    ActiveSession,
    /// S5 `GET /sessions/{token_session}`.
    Session,
    /// P1 `POST /passings`.
    InsertPassings,
    /// P2 `GET /passings/session/{token_session}`.
    PassingsByRange,
    /// P3 `GET /passings/device/{deviceid}`.
    PassingsByDatetime,
    /// P4 `GET /passings/device2/{deviceid}`.
    PollPassings,
    /// `GET /events`.
    ListEvents,
}

impl Operation {
    /// Lowercase human name, used as the prefix of every error message.
    pub fn name(self) -> &'static str {
        match self {
            Self::Configure => "configure client",
            Self::BindDevice => "bind device",
            Self::UnbindDevice => "unbind device",
            Self::ListDevices => "list devices",
            Self::Device => "read device",
            Self::CreateSession => "create session",
            Self::CloseSession => "close session",
            Self::DeviceSessions => "list device sessions",
            Self::ActiveSession => "read active session",
            Self::Session => "read session",
            Self::InsertPassings => "insert passings",
            Self::PassingsByRange => "read passings by range",
            Self::PassingsByDatetime => "read passings by datetime",
            Self::PollPassings => "poll passings",
            Self::ListEvents => "list events",
        }
    }

    /// The permission the key needs; `None` for [`Operation::Configure`] (no request is made).
    pub fn permission(self) -> Option<Permission> {
        match self {
            Self::Configure => None,
            Self::BindDevice | Self::CreateSession | Self::CloseSession | Self::InsertPassings => {
                Some(Permission::Write)
            }
            Self::UnbindDevice => Some(Permission::Unbind),
            Self::ListDevices
            | Self::Device
            | Self::DeviceSessions
            | Self::ActiveSession
            | Self::Session
            | Self::PassingsByRange
            | Self::PassingsByDatetime
            | Self::PollPassings
            | Self::ListEvents => Some(Permission::Read),
        }
    }

    /// Whether the operation changes server state (POST, PATCH, DELETE): an unanswered write
    /// may have been applied, an unanswered read can simply be repeated.
    pub fn is_write(self) -> bool {
        matches!(self.permission(), Some(Permission::Write | Permission::Unbind))
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the caller may do after an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Retry {
    /// Repeating the same request is safe (with backoff).
    Safe,
    /// Repeating is safe after this delay (the server's `Retry-After`).
    After(Duration),
    /// A write may have been applied: read the server's state before sending it again.
    Reconcile,
    /// Repeating the same request will fail the same way: fix something first.
    Never,
}

/// Everything that can go wrong talking to RUFUS Cloud. Every variant knows its [`Operation`];
/// messages are lowercase, start with the operation, and never contain the API key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// 401/403: the key is missing, wrong, or lacks the permission the operation needs.
    Unauthorized {
        /// The call.
        op: Operation,
        /// 401 or 403.
        status: u16,
        /// The server's description (may be empty).
        message: String,
    },
    /// 404: the device or session does not exist (any more).
    NotFound {
        /// The call.
        op: Operation,
        /// The server's description.
        message: String,
    },
    /// P1: "Session not found or closed" — the session accepts no passings.
    SessionClosed {
        /// The call.
        op: Operation,
        /// The server's description.
        message: String,
    },
    /// 409 on bind: the serial number is already bound as this device.
    AlreadyBound {
        /// The call.
        op: Operation,
        /// The existing device.
        deviceid: DeviceId,
    },
    /// 400 and other 4xx (except 401/403, 404, 408, 413, 425, 429): the server refused this
    /// request for good; its description verbatim.
    Rejected {
        /// The call.
        op: Operation,
        /// The HTTP status.
        status: u16,
        /// The server's description.
        message: String,
    },
    /// 413: the batch is too big for the server; split it.
    TooLarge {
        /// The call.
        op: Operation,
        /// The server's description.
        message: String,
    },
    /// 429: too many requests.
    RateLimited {
        /// The call.
        op: Operation,
        /// The server's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
    },
    /// 408 Request Timeout or 425 Too Early: the server did not process the request this time
    /// and says so; sending it again is safe.
    Transient {
        /// The call.
        op: Operation,
        /// 408 or 425.
        status: u16,
        /// The server's description.
        message: String,
    },
    /// 5xx.
    Server {
        /// The call.
        op: Operation,
        /// The HTTP status.
        status: u16,
        /// The server's description.
        message: String,
    },
    /// No complete answer within the request timeout (a write may have been applied).
    Timeout {
        /// The call.
        op: Operation,
    },
    /// Could not connect: the request never reached the server.
    Connection {
        /// The call.
        op: Operation,
        /// What the network said (e.g. "connection refused").
        detail: String,
    },
    /// The request was sent and no answer came (connection reset or closed mid-request): a
    /// write may have been applied.
    Ambiguous {
        /// The call.
        op: Operation,
        /// What the network said (e.g. "connection reset").
        detail: String,
    },
    /// The server answered something the client cannot read (unparseable 2xx body, redirect…).
    InvalidResponse {
        /// The call.
        op: Operation,
        /// The HTTP status of that answer.
        status: u16,
        /// What was wrong with it.
        detail: String,
    },
    /// The client's configuration is unusable (bad base URL, plain http to a remote host…).
    Config {
        /// What is wrong.
        detail: String,
    },
}

/// `code()` and `CODES` from one table.
macro_rules! codes {
    ($($pat:pat => $code:literal),* $(,)?) => {
        /// A stable snake_case code for the UI to branch on (errors cross IPC as `{code, message}`).
        pub fn code(&self) -> &'static str {
            match self {
                $($pat => $code),*
            }
        }

        /// Every code [`Self::code`] can return.
        pub const CODES: &'static [&'static str] = &[$($code),*];
    };
}

impl ApiError {
    /// The call that failed.
    pub fn operation(&self) -> Operation {
        match self {
            Self::Unauthorized { op, .. }
            | Self::NotFound { op, .. }
            | Self::SessionClosed { op, .. }
            | Self::AlreadyBound { op, .. }
            | Self::Rejected { op, .. }
            | Self::TooLarge { op, .. }
            | Self::RateLimited { op, .. }
            | Self::Server { op, .. }
            | Self::Transient { op, .. }
            | Self::Timeout { op }
            | Self::Connection { op, .. }
            | Self::Ambiguous { op, .. }
            | Self::InvalidResponse { op, .. } => *op,
            Self::Config { .. } => Operation::Configure,
        }
    }

    /// The HTTP status the server answered with, when it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Unauthorized { status, .. }
            | Self::Rejected { status, .. }
            | Self::Server { status, .. }
            | Self::Transient { status, .. }
            | Self::InvalidResponse { status, .. } => Some(*status),
            Self::NotFound { .. } => Some(404),
            Self::AlreadyBound { .. } => Some(409),
            Self::TooLarge { .. } => Some(413),
            Self::RateLimited { .. } => Some(429),
            Self::SessionClosed { .. }
            | Self::Timeout { .. }
            | Self::Connection { .. }
            | Self::Ambiguous { .. }
            | Self::Config { .. } => None,
        }
    }

    codes! {
        Self::Unauthorized { .. } => "unauthorized",
        Self::NotFound { .. } => "not_found",
        Self::SessionClosed { .. } => "session_closed",
        Self::AlreadyBound { .. } => "already_bound",
        Self::Rejected { .. } => "rejected",
        Self::TooLarge { .. } => "too_large",
        Self::RateLimited { .. } => "rate_limited",
        Self::Server { .. } => "server",
        Self::Transient { .. } => "transient",
        Self::Timeout { .. } => "timeout",
        Self::Connection { .. } => "connection",
        Self::Ambiguous { .. } => "ambiguous",
        Self::InvalidResponse { .. } => "invalid_response",
        Self::Config { .. } => "config",
    }

    /// Whether and how the same request may be sent again.
    ///
    /// - `After(d)`: 429 with `Retry-After` (at most [`MAX_RETRY_AFTER`]); `Safe`: 429 without
    ///   it, 5xx (500, 502, 503, 504…), 408 and 425 ([`ApiError::Transient`]), could not
    ///   connect, and a timeout or lost answer on a read;
    /// - `Reconcile`: a timeout or lost answer on a write, or a 2xx to a write whose body could
    ///   not be read (the write happened, the client just cannot tell the details);
    /// - `Never`: every other 4xx, unauthorized (401/403: the caller pauses and retries
    ///   slowly, once the key is fixed), configuration, unreadable answers to reads.
    pub fn retry(&self) -> Retry {
        match self {
            Self::RateLimited { retry_after: Some(d), .. } => {
                Retry::After((*d).min(MAX_RETRY_AFTER))
            }
            Self::RateLimited { retry_after: None, .. }
            | Self::Server { .. }
            | Self::Transient { .. }
            | Self::Connection { .. } => Retry::Safe,
            Self::Timeout { op } | Self::Ambiguous { op, .. } => {
                if op.is_write() {
                    Retry::Reconcile
                } else {
                    Retry::Safe
                }
            }
            Self::InvalidResponse { op, status, .. } => {
                if op.is_write() && (200..300).contains(status) {
                    Retry::Reconcile
                } else {
                    Retry::Never
                }
            }
            Self::Unauthorized { .. }
            | Self::NotFound { .. }
            | Self::SessionClosed { .. }
            | Self::AlreadyBound { .. }
            | Self::Rejected { .. }
            | Self::TooLarge { .. }
            | Self::Config { .. } => Retry::Never,
        }
    }

    /// `true` unless [`ApiError::retry`] is [`Retry::Never`] (`Reconcile` counts as retryable:
    /// the caller checks first, then sends what is missing).
    pub fn is_retryable(&self) -> bool {
        self.retry() != Retry::Never
    }
}

impl ApiError {
    /// Replaces every occurrence of `secret` in the error's texts (a server might echo the key
    /// back in a description; a serde message might quote it).
    pub(crate) fn redact(self, secret: &str) -> Self {
        if secret.is_empty() {
            return self;
        }
        let clean =
            |s: String| if s.contains(secret) { s.replace(secret, "<redacted>") } else { s };
        match self {
            Self::Unauthorized { op, status, message } => {
                Self::Unauthorized { op, status, message: clean(message) }
            }
            Self::NotFound { op, message } => Self::NotFound { op, message: clean(message) },
            Self::SessionClosed { op, message } => {
                Self::SessionClosed { op, message: clean(message) }
            }
            Self::AlreadyBound { op, deviceid } => {
                Self::AlreadyBound { op, deviceid: DeviceId::new(clean(deviceid.into_inner())) }
            }
            Self::Rejected { op, status, message } => {
                Self::Rejected { op, status, message: clean(message) }
            }
            Self::TooLarge { op, message } => Self::TooLarge { op, message: clean(message) },
            Self::Server { op, status, message } => {
                Self::Server { op, status, message: clean(message) }
            }
            Self::Transient { op, status, message } => {
                Self::Transient { op, status, message: clean(message) }
            }
            Self::Connection { op, detail } => Self::Connection { op, detail: clean(detail) },
            Self::Ambiguous { op, detail } => Self::Ambiguous { op, detail: clean(detail) },
            Self::InvalidResponse { op, status, detail } => {
                Self::InvalidResponse { op, status, detail: clean(detail) }
            }
            Self::Config { detail } => Self::Config { detail: clean(detail) },
            e @ (Self::RateLimited { .. } | Self::Timeout { .. }) => e,
        }
    }
}

fn server_said(f: &mut fmt::Formatter<'_>, message: &str) -> fmt::Result {
    if message.is_empty() { Ok(()) } else { write!(f, ": {message}") }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = self.operation();
        match self {
            Self::Unauthorized { status, message, .. } => {
                write!(f, "{op}: the api key was refused (HTTP {status}): ")?;
                match op.permission() {
                    Some(Permission::Unbind) => f.write_str(
                        "DELETE needs a key with the Unbind flag (WRITE or READ_WRITE access); \
                         the key is missing, wrong, or lacks that flag",
                    )?,
                    Some(p) => write!(
                        f,
                        "it is missing, wrong, or lacks {p} access ({p} or READ_WRITE is needed)"
                    )?,
                    None => f.write_str("it is missing, wrong, or lacks permission")?,
                }
                if message.is_empty() { Ok(()) } else { write!(f, "; the server said: {message}") }
            }
            Self::NotFound { message, .. } => {
                write!(f, "{op}: not found")?;
                server_said(f, message)
            }
            Self::SessionClosed { message, .. } => {
                write!(f, "{op}: the session is closed or unknown to the server")?;
                server_said(f, message)
            }
            Self::AlreadyBound { deviceid, .. } => {
                write!(f, "{op}: this serial number is already bound as device {deviceid}")
            }
            Self::Rejected { status, message, .. } => {
                write!(f, "{op}: rejected by the server (HTTP {status})")?;
                server_said(f, message)
            }
            Self::TooLarge { message, .. } => {
                write!(
                    f,
                    "{op}: the batch is too large for the server (HTTP 413); send it in smaller batches"
                )?;
                server_said(f, message)
            }
            Self::RateLimited { retry_after: Some(d), .. } => {
                let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
                write!(
                    f,
                    "{op}: too many requests (HTTP 429); the server asks to retry after {secs} s"
                )
            }
            Self::RateLimited { retry_after: None, .. } => {
                write!(f, "{op}: too many requests (HTTP 429); retry later")
            }
            Self::Server { status, message, .. } => {
                write!(f, "{op}: server error (HTTP {status})")?;
                server_said(f, message)
            }
            Self::Transient { status, message, .. } => {
                let what = match status {
                    408 => "the server timed out waiting for the request",
                    425 => "the server is not ready to process the request yet",
                    _ => "the server did not process the request",
                };
                write!(f, "{op}: {what} (HTTP {status})")?;
                server_said(f, message)
            }
            Self::Timeout { .. } => {
                write!(f, "{op}: no answer within the request timeout")?;
                if op.is_write() { f.write_str("; it may have been applied") } else { Ok(()) }
            }
            Self::Connection { detail, .. } => {
                write!(
                    f,
                    "{op}: could not connect to the server ({detail}); the request was not sent"
                )
            }
            Self::Ambiguous { detail, .. } => {
                write!(f, "{op}: the request was sent but no answer came ({detail})")?;
                if op.is_write() { f.write_str("; it may have been applied") } else { Ok(()) }
            }
            Self::InvalidResponse { status, detail, .. } => {
                write!(f, "{op}: unreadable answer from the server (HTTP {status}): {detail}")
            }
            Self::Config { detail } => write!(f, "{op}: {detail}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL_OPS: [Operation; 15] = [
        Operation::Configure,
        Operation::BindDevice,
        Operation::UnbindDevice,
        Operation::ListDevices,
        Operation::Device,
        Operation::CreateSession,
        Operation::CloseSession,
        Operation::DeviceSessions,
        Operation::ActiveSession,
        Operation::Session,
        Operation::InsertPassings,
        Operation::PassingsByRange,
        Operation::PassingsByDatetime,
        Operation::PollPassings,
        Operation::ListEvents,
    ];

    fn samples(op: Operation) -> Vec<ApiError> {
        vec![
            ApiError::Unauthorized { op, status: 403, message: "Forbidden".into() },
            ApiError::NotFound { op, message: "Device not found".into() },
            ApiError::SessionClosed { op, message: "Session not found or closed".into() },
            ApiError::AlreadyBound { op, deviceid: DeviceId::new("AB") },
            ApiError::Rejected { op, status: 400, message: "bib is required".into() },
            ApiError::TooLarge { op, message: String::new() },
            ApiError::RateLimited { op, retry_after: Some(Duration::from_secs(2)) },
            ApiError::RateLimited { op, retry_after: None },
            ApiError::Server { op, status: 503, message: String::new() },
            ApiError::Transient { op, status: 408, message: "Request Timeout".into() },
            ApiError::Transient { op, status: 425, message: String::new() },
            ApiError::Timeout { op },
            ApiError::Connection { op, detail: "connection refused".into() },
            ApiError::Ambiguous { op, detail: "connection reset".into() },
            ApiError::InvalidResponse { op, status: 200, detail: "not json".into() },
            ApiError::Config { detail: "bad url".into() },
        ]
    }

    #[test]
    fn messages_are_lowercase_prefixed_and_unpunctuated() {
        for op in ALL_OPS {
            for e in samples(op) {
                let m = e.to_string();
                assert!(m.starts_with(e.operation().name()), "{m}");
                assert!(!m.ends_with('.'), "{m}");
                assert!(m.chars().next().unwrap().is_lowercase(), "{m}");
            }
        }
    }

    #[test]
    fn the_example_message_reads_as_specified() {
        let e = ApiError::Ambiguous {
            op: Operation::InsertPassings,
            detail: "connection reset".into(),
        };
        assert_eq!(
            e.to_string(),
            "insert passings: the request was sent but no answer came (connection reset); it may have been applied"
        );
        let e = ApiError::Ambiguous {
            op: Operation::PassingsByRange,
            detail: "connection reset".into(),
        };
        assert!(!e.to_string().contains("applied"));
    }

    #[test]
    fn unauthorized_names_the_permission() {
        let e = ApiError::Unauthorized {
            op: Operation::InsertPassings,
            status: 403,
            message: String::new(),
        };
        assert!(e.to_string().contains("WRITE"), "{e}");
        let e = ApiError::Unauthorized {
            op: Operation::ListDevices,
            status: 401,
            message: String::new(),
        };
        assert!(e.to_string().contains("READ"), "{e}");
        let e = ApiError::Unauthorized {
            op: Operation::UnbindDevice,
            status: 403,
            message: String::new(),
        };
        let m = e.to_string();
        assert!(m.contains("DELETE needs a key with the Unbind flag"), "{m}");
    }

    #[test]
    fn retry_policy() {
        use Operation::{InsertPassings as W, PassingsByRange as R};
        let d = Duration::from_secs(3);
        let cases = [
            (ApiError::Server { op: W, status: 500, message: String::new() }, Retry::Safe),
            (ApiError::RateLimited { op: W, retry_after: Some(d) }, Retry::After(d)),
            (ApiError::RateLimited { op: W, retry_after: None }, Retry::Safe),
            (
                ApiError::RateLimited { op: W, retry_after: Some(Duration::from_secs(86_400)) },
                Retry::After(MAX_RETRY_AFTER),
            ),
            (ApiError::Server { op: W, status: 502, message: String::new() }, Retry::Safe),
            (ApiError::Server { op: R, status: 503, message: String::new() }, Retry::Safe),
            (ApiError::Server { op: R, status: 504, message: String::new() }, Retry::Safe),
            (ApiError::Transient { op: W, status: 408, message: String::new() }, Retry::Safe),
            (ApiError::Transient { op: R, status: 425, message: String::new() }, Retry::Safe),
            (ApiError::Unauthorized { op: R, status: 403, message: String::new() }, Retry::Never),
            (ApiError::Connection { op: W, detail: String::new() }, Retry::Safe),
            (ApiError::Timeout { op: W }, Retry::Reconcile),
            (ApiError::Timeout { op: R }, Retry::Safe),
            (ApiError::Ambiguous { op: W, detail: String::new() }, Retry::Reconcile),
            (
                ApiError::Ambiguous { op: Operation::UnbindDevice, detail: String::new() },
                Retry::Reconcile,
            ),
            (
                ApiError::Ambiguous { op: Operation::CloseSession, detail: String::new() },
                Retry::Reconcile,
            ),
            (ApiError::Ambiguous { op: R, detail: String::new() }, Retry::Safe),
            (ApiError::Rejected { op: W, status: 400, message: String::new() }, Retry::Never),
            (ApiError::TooLarge { op: W, message: String::new() }, Retry::Never),
            (ApiError::Unauthorized { op: W, status: 401, message: String::new() }, Retry::Never),
            (ApiError::NotFound { op: R, message: String::new() }, Retry::Never),
            (ApiError::SessionClosed { op: W, message: String::new() }, Retry::Never),
            (ApiError::Config { detail: String::new() }, Retry::Never),
            (ApiError::InvalidResponse { op: R, status: 200, detail: String::new() }, Retry::Never),
            (ApiError::InvalidResponse { op: W, status: 302, detail: String::new() }, Retry::Never),
            (
                ApiError::InvalidResponse { op: W, status: 201, detail: String::new() },
                Retry::Reconcile,
            ),
        ];
        for (e, want) in cases {
            assert_eq!(e.retry(), want, "{e:?}");
            assert_eq!(e.is_retryable(), want != Retry::Never, "{e:?}");
        }
    }

    #[test]
    fn redaction_removes_the_secret_everywhere() {
        let secret = "ror-0123456789abcdef0123";
        for op in ALL_OPS {
            for e in samples(op) {
                let dirty = match e {
                    ApiError::Rejected { op, status, .. } => {
                        ApiError::Rejected { op, status, message: format!("bad key {secret}") }
                    }
                    ApiError::InvalidResponse { op, status, .. } => {
                        ApiError::InvalidResponse { op, status, detail: format!("got {secret}") }
                    }
                    ApiError::Config { .. } => ApiError::Config { detail: secret.to_owned() },
                    other => other,
                };
                let clean = dirty.redact(secret);
                assert!(!clean.to_string().contains(secret));
                assert!(!format!("{clean:?}").contains(secret));
            }
        }
    }

    #[test]
    fn writes_and_permissions() {
        assert!(Operation::InsertPassings.is_write());
        assert!(Operation::UnbindDevice.is_write());
        assert!(!Operation::PollPassings.is_write());
        assert!(!Operation::Configure.is_write());
        assert_eq!(Operation::UnbindDevice.permission(), Some(Permission::Unbind));
        assert_eq!(Operation::Session.permission(), Some(Permission::Read));
    }
}
