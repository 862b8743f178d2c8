//! API keys on requests: the key comes in header `api_key` or `x-api-key`; GET needs READ,
//! POST and PATCH need WRITE, DELETE (unbind) needs WRITE plus the unbind flag.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::envelope::Reply;
use crate::shared::Shared;
use crate::state::ApiKey;

/// What a request needs from its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Need {
    Read,
    Write,
    Unbind,
}

impl Need {
    pub(crate) fn of(method: &Method) -> Need {
        match *method {
            Method::GET | Method::HEAD => Need::Read,
            Method::DELETE => Need::Unbind,
            _ => Need::Write,
        }
    }

    fn allowed(self, key: &ApiKey) -> bool {
        match self {
            Need::Read => key.access.can_read(),
            Need::Write => key.access.can_write(),
            Need::Unbind => key.access.can_write() && key.unbind,
        }
    }

    fn refusal(self, key: &ApiKey) -> String {
        let what = match self {
            Need::Read => "Reading (GET) needs an api key with READ or READ_WRITE access",
            Need::Write => "Writing (POST, PATCH) needs an api key with WRITE or READ_WRITE access",
            Need::Unbind => {
                "Unbinding a device (DELETE) needs an api key with WRITE or READ_WRITE access \
                 and the unbind flag"
            }
        };
        let unbind = if key.unbind { " with" } else { " without" };
        format!("{what}; this key has {} access{unbind} the unbind flag", key.access.label())
    }
}

/// The keys a request presents, `api_key` first.
pub(crate) fn presented(headers: &HeaderMap) -> Vec<&str> {
    ["api_key", "x-api-key"]
        .iter()
        .filter_map(|name| headers.get(*name))
        .filter_map(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|key| !key.is_empty())
        .collect()
}

/// 401 when no known key is presented; 403 when the key lacks what `need` asks.
pub(crate) fn check(shared: &Shared, headers: &HeaderMap, need: Need) -> Result<(), Reply> {
    let keys = presented(headers);
    if keys.is_empty() {
        return Err(Reply::error(
            StatusCode::UNAUTHORIZED,
            "Missing api key: send it in the api_key or x-api-key header",
        ));
    }
    shared.read(|world| {
        let Some(key) = keys.iter().find_map(|k| world.key(k)) else {
            return Err(Reply::error(StatusCode::UNAUTHORIZED, "Invalid api key"));
        };
        if need.allowed(key) {
            Ok(())
        } else {
            Err(Reply::error(StatusCode::FORBIDDEN, need.refusal(key)))
        }
    })
}

/// Layer: checks the key of every API request against its method.
pub(crate) async fn require_key(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    match check(&shared, request.headers(), Need::of(request.method())) {
        Ok(()) => next.run(request).await,
        Err(reply) => reply.into_response(),
    }
}
