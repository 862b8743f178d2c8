//! Query parameters (`page`, `limit`, `first`, `last`, `from`, `to`, `token_session`), read
//! strictly: a malformed value is a 400 that names it, not a silent default.

use std::collections::HashMap;

use axum::extract::Query;
use axum::http::Uri;

use crate::clock;
use crate::envelope::Reply;

#[derive(Debug)]
pub(super) struct Params(HashMap<String, String>);

impl Params {
    pub(super) fn of(uri: &Uri) -> Result<Params, Reply> {
        Query::<HashMap<String, String>>::try_from_uri(uri)
            .map(|Query(map)| Params(map))
            .map_err(|e| Reply::bad_request(format!("invalid query string: {e}")))
    }

    /// A parameter's text; empty counts as absent.
    pub(super) fn text(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    /// A whole number ≥ 0.
    pub(super) fn number(&self, name: &str) -> Result<Option<u64>, Reply> {
        self.text(name)
            .map(|v| {
                v.parse::<u64>().map_err(|_| {
                    Reply::bad_request(format!("query {name}={v} must be a whole number >= 0"))
                })
            })
            .transpose()
    }

    /// 1-based page, default 1.
    pub(super) fn page(&self) -> Result<usize, Reply> {
        match self.number("page")? {
            None => Ok(1),
            Some(0) => Err(Reply::bad_request("query page must be 1 or more")),
            Some(page) => Ok(usize::try_from(page).unwrap_or(usize::MAX)),
        }
    }

    /// Page size in `1..=max`, default `max`.
    pub(super) fn limit(&self, max: usize) -> Result<usize, Reply> {
        match self.number("limit")? {
            None => Ok(max),
            Some(limit) if (1..=max as u64).contains(&limit) => Ok(limit as usize),
            Some(limit) => {
                Err(Reply::bad_request(format!("query limit={limit} must be between 1 and {max}")))
            }
        }
    }

    /// A time, rewritten in the API's format so that it compares with stored timestamps.
    pub(super) fn time(&self, name: &str) -> Result<Option<String>, Reply> {
        self.text(name)
            .map(|v| {
                clock::parse_query(v).map(clock::format).ok_or_else(|| {
                    Reply::bad_request(format!(
                        "query {name}={v} must be a time formatted YYYY-MM-DDTHH:mm:ss.sssZ"
                    ))
                })
            })
            .transpose()
    }
}

/// The items of 1-based `page`, `per_page` at a time.
pub(super) fn page_of<T>(items: Vec<T>, page: usize, per_page: usize) -> Vec<T> {
    let skip = page.saturating_sub(1).saturating_mul(per_page);
    items.into_iter().skip(skip).take(per_page).collect()
}

/// `{page, limit, total, has_more}`.
pub(super) fn pagination(page: usize, limit: usize, total: usize) -> serde_json::Value {
    let has_more = page.saturating_mul(limit) < total;
    serde_json::json!({ "page": page, "limit": limit, "total": total, "has_more": has_more })
}
