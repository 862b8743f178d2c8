//! `RufusClient`: one async method per RUFUS Cloud endpoint (D1–D4, S1–S5, P1–P4, events), plus
//! helpers that follow pagination. Every call sends the key in both auth headers, accepts both
//! envelopes, runs in a tracing span (never with the key) and returns [`ApiError`] on failure.

use std::fmt;
use std::future::Future;

use chrono::{DateTime, Utc};
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tracing::Instrument;
use url::Url;

use crate::config::{self, ApiKey, ClientConfig};
use crate::envelope;
use crate::error::{ApiError, Operation};
use crate::ids::{DeviceId, SessionToken};
use crate::lenient;
use crate::model::{
    Device, DevicePage, Event, EventPage, IdsAnswer, InsertOutcome, InsertPassings, NewDevice,
    NewSession, Pagination, Passing, PassingOut, PollQuery, PollResult, Session,
};
use crate::time::format_timestamp;
use crate::transport::{self, Answer};

/// Page size RUFUS documents for passings (P2, P3). The helpers that read every page do not rely
/// on it: they read until a page comes back empty (or `pagination` says there is no more).
pub const PASSINGS_PAGE_SIZE: u64 = 5000;
/// Largest `limit` D3 accepts; [`RufusClient::all_devices`] asks for it.
pub const MAX_DEVICES_LIMIT: u32 = 5000;
/// Safety stop for pagination helpers (a server that always says "more" must not loop forever).
pub const MAX_PAGES: u32 = 10_000;
/// The `last` that [`RufusClient::max_num_passing`] asks P2 for: 2^53 − 1, the largest integer
/// every JSON implementation (and a JavaScript server) reads exactly; the simulator accepts any
/// `u64`.
pub const MAX_NUM_PASSING_QUERY: u64 = (1 << 53) - 1;

const API_KEY: HeaderName = HeaderName::from_static("api_key");
const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");

/// A request about to be made.
struct Call<'a> {
    op: Operation,
    method: Method,
    path: Vec<&'a str>,
    query: Vec<(&'static str, String)>,
    body: Option<Vec<u8>>,
}

impl<'a> Call<'a> {
    fn new(op: Operation, method: Method, path: &[&'a str]) -> Self {
        Self { op, method, path: path.to_vec(), query: Vec::new(), body: None }
    }

    fn query(mut self, name: &'static str, value: impl ToString) -> Self {
        self.query.push((name, value.to_string()));
        self
    }

    fn json(mut self, body: &impl Serialize) -> Result<Self, ApiError> {
        let bytes = serde_json::to_vec(body).map_err(|e| ApiError::Config {
            detail: format!("{}: the request body could not be encoded ({e})", self.op),
        })?;
        self.body = Some(bytes);
        Ok(self)
    }
}

/// Typed async client for the RUFUS Cloud public API v0.
///
/// Cheap to clone (one connection pool shared by all clones). `Debug` never shows the key.
#[derive(Clone)]
pub struct RufusClient {
    http: reqwest::Client,
    base: Url,
    key: ApiKey,
    key_header: HeaderValue,
    config: ClientConfig,
}

impl fmt::Debug for RufusClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RufusClient")
            .field("base_url", &self.base.as_str())
            .field("api_key", &self.key)
            .field("connect_timeout", &self.config.connect_timeout)
            .field("request_timeout", &self.config.request_timeout)
            .finish()
    }
}

impl RufusClient {
    /// Builds a client. Fails with [`ApiError::Config`] for an invalid or non-https remote base
    /// URL, an empty or unsendable key, or zero timeouts.
    pub fn new(config: ClientConfig) -> Result<Self, ApiError> {
        let base = config::validate(&config)?;
        let mut key_header =
            HeaderValue::from_str(config.api_key.expose_secret()).map_err(|_| {
                ApiError::Config { detail: "the api key cannot be sent in a header".to_owned() }
            })?;
        key_header.set_sensitive(true);
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            // A redirect could carry the key headers to another host: never follow one.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("rufus-timing-console rufus-api/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ApiError::Config {
                detail: format!("the http client could not be built ({})", e.without_url()),
            })?;
        Ok(Self { http, base, key: config.api_key.clone(), key_header, config })
    }

    /// The validated base URL.
    pub fn base_url(&self) -> &str {
        self.base.as_str()
    }

    /// The configuration the client was built from (its `Debug` redacts the key).
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    // -----------------------------------------------------------------------------------------
    // Plumbing
    // -----------------------------------------------------------------------------------------

    /// Runs one public operation: a debug span, and the key scrubbed from any error text.
    async fn run<T>(
        &self,
        op: Operation,
        fut: impl Future<Output = Result<T, ApiError>>,
    ) -> Result<T, ApiError> {
        let span = tracing::debug_span!("rufus_api", op = op.name());
        let result = fut.instrument(span.clone()).await;
        result.map_err(|e| {
            let e = e.redact(self.key.expose_secret());
            span.in_scope(|| tracing::debug!(code = e.code(), error = %e, "call failed"));
            e
        })
    }

    fn url(&self, path: &[&str], query: &[(&'static str, String)]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().extend(path);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        url
    }

    /// Sends a request and reads the whole answer, whatever its status.
    async fn send(&self, call: Call<'_>) -> Result<Answer, ApiError> {
        let op = call.op;
        let url = self.url(&call.path, &call.query);
        tracing::debug!(method = %call.method, path = url.path(), "sending");
        let mut request = self
            .http
            .request(call.method, url)
            .header(API_KEY, self.key_header.clone())
            .header(X_API_KEY, self.key_header.clone())
            .header(ACCEPT, "application/json");
        if let Some(body) = call.body {
            request = request.header(CONTENT_TYPE, "application/json").body(body);
        }
        let response = request.send().await.map_err(|e| transport::transport_error(op, &e))?;
        let status = response.status();
        let headers = response.headers().clone();
        // Once the status line arrived the request certainly reached the server: a failure
        // while reading the body is never "could not connect".
        let body =
            response.bytes().await.map_err(|e| match transport::transport_error(op, &e) {
                ApiError::Connection { op, detail } => ApiError::Ambiguous { op, detail },
                other => other,
            })?;
        tracing::debug!(status = status.as_u16(), bytes = body.len(), "answered");
        Ok(Answer { status, headers, body: body.to_vec() })
    }

    /// Sends and demands a 2xx; other statuses become their [`ApiError`].
    async fn send_ok(&self, call: Call<'_>) -> Result<Answer, ApiError> {
        let op = call.op;
        let answer = self.send(call).await?;
        if answer.status.is_success() {
            Ok(answer)
        } else {
            Err(transport::status_error(op, &answer))
        }
    }

    /// The unwrapped JSON of a 2xx answer; `null` (empty or `{"body": null}`) is refused.
    fn json(op: Operation, answer: &Answer) -> Result<Value, ApiError> {
        let invalid = |detail: String| ApiError::InvalidResponse {
            op,
            status: answer.status.as_u16(),
            detail,
        };
        match envelope::parse(&answer.body).map_err(invalid)? {
            Value::Null => Err(invalid("the answer has no content".to_owned())),
            value => Ok(value),
        }
    }

    fn decode<T: DeserializeOwned>(
        op: Operation,
        status: StatusCode,
        value: Value,
    ) -> Result<T, ApiError> {
        serde_json::from_value(value).map_err(|e| ApiError::InvalidResponse {
            op,
            status: status.as_u16(),
            detail: format!("unexpected content ({e})"),
        })
    }

    /// `result` of a list answer (an array, one object, or `null`), plus `pagination`.
    /// A bare array is accepted as the list itself.
    fn list<T: DeserializeOwned>(
        op: Operation,
        answer: &Answer,
        field: &str,
    ) -> Result<(Vec<T>, Option<Pagination>), ApiError> {
        let value = Self::json(op, answer)?;
        let (items, pagination) = match value {
            Value::Array(_) => (value, None),
            Value::Object(mut map) => {
                let pagination = map
                    .remove("pagination")
                    .and_then(|p| serde_json::from_value::<Pagination>(p).ok());
                (map.remove(field).unwrap_or(Value::Null), pagination)
            }
            other => {
                return Err(ApiError::InvalidResponse {
                    op,
                    status: answer.status.as_u16(),
                    detail: format!("expected an object, got {}", json_kind(&other)),
                });
            }
        };
        let items = lenient::one_or_many(items).map_err(|e| ApiError::InvalidResponse {
            op,
            status: answer.status.as_u16(),
            detail: format!("unexpected content in `{field}` ({e})"),
        })?;
        Ok((items, pagination))
    }

    /// The one object in `result` (object or array of one); `None` when it is empty or absent.
    fn single<T: DeserializeOwned>(op: Operation, answer: &Answer) -> Result<Option<T>, ApiError> {
        let value = Self::json(op, answer)?;
        let result = match value {
            Value::Object(mut map) => match map.remove("result") {
                Some(result) => result,
                // A plain object without `result` may be the item itself.
                None => Value::Object(map),
            },
            Value::Array(_) => value,
            other => {
                return Err(ApiError::InvalidResponse {
                    op,
                    status: answer.status.as_u16(),
                    detail: format!("expected an object, got {}", json_kind(&other)),
                });
            }
        };
        let result = match result {
            Value::Array(items) => match items.into_iter().next() {
                Some(first) => first,
                None => return Ok(None),
            },
            Value::Null => return Ok(None),
            other => other,
        };
        Self::decode(op, answer.status, result).map(Some)
    }

    fn ids(op: Operation, answer: &Answer) -> Result<IdsAnswer, ApiError> {
        let value = Self::json(op, answer)?;
        Self::decode(op, answer.status, value)
    }

    // -----------------------------------------------------------------------------------------
    // Devices
    // -----------------------------------------------------------------------------------------

    /// D1 `POST /devices`: binds a device to the account and returns its `deviceid`.
    ///
    /// A serial number that is already bound fails with [`ApiError::AlreadyBound`] carrying the
    /// existing device (when the server says which).
    pub async fn bind_device(&self, device: &NewDevice) -> Result<DeviceId, ApiError> {
        let op = Operation::BindDevice;
        self.run(op, async {
            let call = Call::new(op, Method::POST, &["devices"]).json(device)?;
            let answer = self.send_ok(call).await?;
            Self::ids(op, &answer)?.deviceid.ok_or_else(|| ApiError::InvalidResponse {
                op,
                status: answer.status.as_u16(),
                detail: "the answer has no deviceid".to_owned(),
            })
        })
        .await
    }

    /// D2 `DELETE /devices/{deviceid}`: unbinds a device. **This deletes the device's sessions
    /// and passings in the cloud.** Needs a key with the Unbind flag.
    pub async fn unbind_device(&self, deviceid: &DeviceId) -> Result<(), ApiError> {
        let op = Operation::UnbindDevice;
        self.run(op, async {
            self.send_ok(Call::new(op, Method::DELETE, &["devices", deviceid.as_str()])).await?;
            Ok(())
        })
        .await
    }

    /// D3 `GET /devices?page=&limit=`: one page of the account's devices (page ≥ 1,
    /// limit 1–5000).
    pub async fn list_devices(&self, page: u32, limit: u32) -> Result<DevicePage, ApiError> {
        let op = Operation::ListDevices;
        self.run(op, async {
            let call =
                Call::new(op, Method::GET, &["devices"]).query("page", page).query("limit", limit);
            let answer = self.send_ok(call).await?;
            let (devices, pagination) = Self::list(op, &answer, "result")?;
            Ok(DevicePage { devices, pagination })
        })
        .await
    }

    /// Every device of the account, following D3's pagination (pages of 5000).
    pub async fn all_devices(&self) -> Result<Vec<Device>, ApiError> {
        self.all_devices_with_limit(MAX_DEVICES_LIMIT).await
    }

    /// Every device of the account, following D3's pagination with pages of `limit` devices.
    pub async fn all_devices_with_limit(&self, limit: u32) -> Result<Vec<Device>, ApiError> {
        let mut all = Vec::new();
        for page in 1..=MAX_PAGES {
            let DevicePage { devices, pagination } = self.list_devices(page, limit).await?;
            let got = devices.len();
            all.extend(devices);
            if !Pagination::more_after(pagination.as_ref(), got, all.len(), u64::from(limit)) {
                return Ok(all);
            }
        }
        Err(endless(Operation::ListDevices))
    }

    /// D4 `GET /devices/{deviceid}`: one device's information.
    pub async fn device(&self, deviceid: &DeviceId) -> Result<Device, ApiError> {
        let op = Operation::Device;
        self.run(op, async {
            let answer =
                self.send_ok(Call::new(op, Method::GET, &["devices", deviceid.as_str()])).await?;
            Self::single(op, &answer)?.ok_or_else(|| ApiError::NotFound {
                op,
                message: "the answer holds no device".to_owned(),
            })
        })
        .await
    }

    // -----------------------------------------------------------------------------------------
    // Sessions
    // -----------------------------------------------------------------------------------------

    /// S1 `POST /sessions`: opens a session on a device and returns its token. The server closes
    /// any other active session of that device.
    pub async fn create_session(
        &self,
        deviceid: &DeviceId,
        alias: Option<&str>,
    ) -> Result<SessionToken, ApiError> {
        let op = Operation::CreateSession;
        self.run(op, async {
            let call =
                Call::new(op, Method::POST, &["sessions"]).json(&NewSession { deviceid, alias })?;
            let answer = self.send_ok(call).await?;
            Self::ids(op, &answer)?.token_session.ok_or_else(|| ApiError::InvalidResponse {
                op,
                status: answer.status.as_u16(),
                detail: "the answer has no token_session".to_owned(),
            })
        })
        .await
    }

    /// S2 `PATCH /sessions/close/{token_session}` (no body). A 404 is [`ApiError::NotFound`]:
    /// the caller re-reads the session ([`RufusClient::session`]) to learn its state.
    pub async fn close_session(&self, token: &SessionToken) -> Result<(), ApiError> {
        let op = Operation::CloseSession;
        self.run(op, async {
            self.send_ok(Call::new(op, Method::PATCH, &["sessions", "close", token.as_str()]))
                .await?;
            Ok(())
        })
        .await
    }

    /// S3 `GET /sessions/device/{deviceid}`: the device's sessions. RUFUS answers 404
    /// "Sessions not found" for a device with none: that is an empty list here. A 404 that says
    /// "Device not found" stays [`ApiError::NotFound`].
    pub async fn device_sessions(&self, deviceid: &DeviceId) -> Result<Vec<Session>, ApiError> {
        let op = Operation::DeviceSessions;
        self.run(op, async {
            let call = Call::new(op, Method::GET, &["sessions", "device", deviceid.as_str()]);
            match self.send_ok(call).await {
                Ok(answer) => Ok(Self::list(op, &answer, "result")?.0),
                Err(ApiError::NotFound { message, .. })
                    if !message.to_ascii_lowercase().contains("device not found") =>
                {
                    Ok(Vec::new())
                }
                Err(e) => Err(e),
            }
        })
        .await
    }

    /// S4 `GET /sessions/device/{deviceid}/active`: the device's active session, if any
    /// (404 → `None`; the answer is an array of one).
    pub async fn active_session(&self, deviceid: &DeviceId) -> Result<Option<Session>, ApiError> {
        let op = Operation::ActiveSession;
        self.run(op, async {
            let call =
                Call::new(op, Method::GET, &["sessions", "device", deviceid.as_str(), "active"]);
            match self.send_ok(call).await {
                Ok(answer) => Self::single(op, &answer),
                Err(ApiError::NotFound { .. }) => Ok(None),
                Err(e) => Err(e),
            }
        })
        .await
    }

    /// S5 `GET /sessions/{token_session}`: one session (open or closed).
    pub async fn session(&self, token: &SessionToken) -> Result<Session, ApiError> {
        let op = Operation::Session;
        self.run(op, async {
            let answer =
                self.send_ok(Call::new(op, Method::GET, &["sessions", token.as_str()])).await?;
            Self::single(op, &answer)?.ok_or_else(|| ApiError::NotFound {
                op,
                message: "the answer holds no session".to_owned(),
            })
        })
        .await
    }

    // -----------------------------------------------------------------------------------------
    // Passings
    // -----------------------------------------------------------------------------------------

    /// P1 `POST /passings`: sends a batch to an active session.
    ///
    /// "Session not found or closed" (404, or that description with any status) is
    /// [`ApiError::SessionClosed`]; 413 is [`ApiError::TooLarge`]. An empty batch is not sent
    /// (the server requires at least one passing) and reports nothing inserted.
    pub async fn insert_passings(
        &self,
        token: &SessionToken,
        passings: &[Passing],
    ) -> Result<InsertOutcome, ApiError> {
        let op = Operation::InsertPassings;
        if passings.is_empty() {
            return Ok(InsertOutcome { inserted_count: 0, duplicate_count: Some(0) });
        }
        self.run(op, async {
            let body = InsertPassings { token_session: token, passings_list: passings };
            let call = Call::new(op, Method::POST, &["passings"]).json(&body)?;
            let answer = self.send_ok(call).await?;
            let ids = Self::ids(op, &answer)?;
            if let Some(message) = ids.description.filter(|d| transport::says_session_closed(d)) {
                return Err(ApiError::SessionClosed { op, message });
            }
            let inserted_count = ids.inserted_count.ok_or_else(|| ApiError::InvalidResponse {
                op,
                status: answer.status.as_u16(),
                detail: "the answer has no inserted_count".to_owned(),
            })?;
            Ok(InsertOutcome { inserted_count, duplicate_count: ids.duplicate_count })
        })
        .await
    }

    /// P2 `GET /passings/session/{token_session}?first=&last=&page=`: passings of a session
    /// whose `num_passing` is in `first..=last` (one page of up to 5000; page ≥ 1).
    pub async fn passings_by_range(
        &self,
        token: &SessionToken,
        first: u64,
        last: u64,
        page: u32,
    ) -> Result<Vec<PassingOut>, ApiError> {
        Ok(self.passings_by_range_page(token, first, last, page).await?.0)
    }

    async fn passings_by_range_page(
        &self,
        token: &SessionToken,
        first: u64,
        last: u64,
        page: u32,
    ) -> Result<(Vec<PassingOut>, Option<Pagination>), ApiError> {
        let op = Operation::PassingsByRange;
        self.run(op, async {
            let call = Call::new(op, Method::GET, &["passings", "session", token.as_str()])
                .query("first", first)
                .query("last", last)
                .query("page", page);
            let answer = self.send_ok(call).await?;
            Self::list(op, &answer, "result")
        })
        .await
    }

    /// Every passing of a session in `first..=last`, fetching page after page. This is how the
    /// sync engine reconciles after an ambiguous failure.
    ///
    /// Pages are read until one comes back empty, or until the answer's `pagination` says there
    /// is no more (`has_more: false`, or `total` reached), whatever the server's page size. A page
    /// that repeats the previous one exactly comes from a server that ignores `page`: when that
    /// page is shorter than the contract's [`PASSINGS_PAGE_SIZE`] it held everything and the
    /// read ends; a full one could hide more and is [`ApiError::InvalidResponse`], and so is a
    /// read that has not ended after [`MAX_PAGES`].
    pub async fn all_passings_by_range(
        &self,
        token: &SessionToken,
        first: u64,
        last: u64,
    ) -> Result<Vec<PassingOut>, ApiError> {
        let mut all = Vec::new();
        self.each_passings_page(
            Operation::PassingsByRange,
            |page| self.passings_by_range_page(token, first, last, page),
            |passings| all.extend_from_slice(passings),
        )
        .await?;
        Ok(all)
    }

    /// The highest `num_passing` the cloud holds for a session (open or closed), `None` when it
    /// holds none: P2 over `0..=`[`MAX_NUM_PASSING_QUERY`], every page (see
    /// [`RufusClient::all_passings_by_range`] for how pages are followed).
    pub async fn max_num_passing(&self, token: &SessionToken) -> Result<Option<u64>, ApiError> {
        let mut max = None;
        self.each_passings_page(
            Operation::PassingsByRange,
            |page| self.passings_by_range_page(token, 0, MAX_NUM_PASSING_QUERY, page),
            |passings| {
                let page_max = passings.iter().filter_map(|p| p.num_passing).max();
                max = max.max(page_max);
            },
        )
        .await?;
        Ok(max)
    }

    /// Reads pages 1, 2, 3… of a passings read and hands each to `each`, until a page is empty
    /// or `pagination` says there is no more; a page equal to the previous one is an error.
    async fn each_passings_page<'s, Fut>(
        &'s self,
        op: Operation,
        mut fetch: impl FnMut(u32) -> Fut,
        mut each: impl FnMut(&[PassingOut]),
    ) -> Result<(), ApiError>
    where
        Fut: Future<Output = Result<(Vec<PassingOut>, Option<Pagination>), ApiError>> + 's,
    {
        let mut previous: Vec<PassingOut> = Vec::new();
        let mut seen = 0usize;
        for page in 1..=MAX_PAGES {
            let (passings, pagination) = fetch(page).await?;
            seen = seen.saturating_add(passings.len());
            let step = after_page(page, &passings, &previous, pagination.as_ref(), seen);
            match step {
                Err(detail) => {
                    let e = ApiError::InvalidResponse { op, status: 200, detail };
                    tracing::debug!(code = e.code(), error = %e, "paging stopped");
                    return Err(e);
                }
                Ok(more) => {
                    // A repeated page ends the read and is not counted twice.
                    if passings != previous {
                        each(&passings);
                    }
                    if !more {
                        return Ok(());
                    }
                }
            }
            previous = passings;
        }
        Err(endless(op))
    }

    /// P3 `GET /passings/device/{deviceid}?from=&to=&page=`: a device's passings between two
    /// instants, across its sessions.
    pub async fn passings_by_datetime(
        &self,
        deviceid: &DeviceId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        page: u32,
    ) -> Result<Vec<PassingOut>, ApiError> {
        Ok(self.passings_by_datetime_page(deviceid, from, to, page).await?.0)
    }

    async fn passings_by_datetime_page(
        &self,
        deviceid: &DeviceId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        page: u32,
    ) -> Result<(Vec<PassingOut>, Option<Pagination>), ApiError> {
        let op = Operation::PassingsByDatetime;
        self.run(op, async {
            let call = Call::new(op, Method::GET, &["passings", "device", deviceid.as_str()])
                .query("from", format_timestamp(from))
                .query("to", format_timestamp(to))
                .query("page", page);
            let answer = self.send_ok(call).await?;
            Self::list(op, &answer, "result")
        })
        .await
    }

    /// Every passing of a device between two instants (across its sessions), fetching page
    /// after page exactly as [`RufusClient::all_passings_by_range`] does.
    pub async fn all_passings_by_datetime(
        &self,
        deviceid: &DeviceId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<PassingOut>, ApiError> {
        let mut all = Vec::new();
        self.each_passings_page(
            Operation::PassingsByDatetime,
            |page| self.passings_by_datetime_page(deviceid, from, to, page),
            |passings| all.extend_from_slice(passings),
        )
        .await?;
        Ok(all)
    }

    /// P4 `GET /passings/device2/{deviceid}`: continuous polling; the server moves on to newer
    /// sessions of the device by itself. Absent query fields are not sent.
    pub async fn poll_passings(
        &self,
        deviceid: &DeviceId,
        query: &PollQuery,
    ) -> Result<PollResult, ApiError> {
        let op = Operation::PollPassings;
        self.run(op, async {
            let mut call = Call::new(op, Method::GET, &["passings", "device2", deviceid.as_str()]);
            if let Some(from) = query.from {
                call = call.query("from", format_timestamp(from));
            }
            if let Some(to) = query.to {
                call = call.query("to", format_timestamp(to));
            }
            if let Some(token) = &query.token_session {
                call = call.query("token_session", token);
            }
            if let Some(last) = query.last {
                call = call.query("last", last);
            }
            if let Some(page) = query.page {
                call = call.query("page", page);
            }
            let answer = self.send_ok(call).await?;
            let value = Self::json(op, &answer)?;
            Self::decode(op, answer.status, value)
        })
        .await
    }

    // -----------------------------------------------------------------------------------------
    // Events
    // -----------------------------------------------------------------------------------------

    /// `GET /events?page=&limit=`: one page of the account's events (limit 1–1000).
    pub async fn events(&self, page: u32, limit: u32) -> Result<EventPage, ApiError> {
        let op = Operation::ListEvents;
        self.run(op, async {
            let call =
                Call::new(op, Method::GET, &["events"]).query("page", page).query("limit", limit);
            let answer = self.send_ok(call).await?;
            let (events, pagination): (Vec<Event>, _) = Self::list(op, &answer, "result")?;
            Ok(EventPage { events, pagination })
        })
        .await
    }
}

/// Whether another page follows a passings page (`Err`: the server misbehaves, and why).
///
/// An empty page ends the read; a page equal to the previous one means the server ignores
/// `page`; otherwise `pagination`, when sent, decides (`has_more`, else `total` against the
/// `seen` rows so far), and without it the next page is read: only an empty page proves the end,
/// whatever the server's page size.
fn after_page(
    page: u32,
    passings: &[PassingOut],
    previous: &[PassingOut],
    pagination: Option<&Pagination>,
    seen: usize,
) -> Result<bool, String> {
    if passings.is_empty() {
        return Ok(false);
    }
    if passings == previous {
        if (previous.len() as u64) < PASSINGS_PAGE_SIZE {
            // The server ignores `page`, and its one short page was the whole answer.
            return Ok(false);
        }
        return Err(format!(
            "page {page} repeats page {} exactly: the server seems to ignore `page`",
            page.saturating_sub(1)
        ));
    }
    if let Some(p) = pagination {
        if let Some(more) = p.has_more {
            return Ok(more);
        }
        if let Some(total) = p.total {
            return Ok((seen as u64) < total);
        }
    }
    Ok(true)
}

fn endless(op: Operation) -> ApiError {
    ApiError::InvalidResponse {
        op,
        status: 200,
        detail: format!("pagination did not end after {MAX_PAGES} pages"),
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn client() -> RufusClient {
        RufusClient::new(
            ClientConfig::new(ApiKey::new("ror-ae4fc6c19681a20fad30"))
                .with_base_url("http://127.0.0.1:1/v0/"),
        )
        .unwrap()
    }

    fn ok(body: Value) -> Answer {
        Answer {
            status: StatusCode::OK,
            headers: Default::default(),
            body: body.to_string().into_bytes(),
        }
    }

    #[test]
    fn urls_encode_segments_and_queries() {
        let c = client();
        let url = c
            .url(&["passings", "session", "A/B C"], &[("first", "1".into()), ("last", "9".into())]);
        assert_eq!(url.as_str(), "http://127.0.0.1:1/v0/passings/session/A%2FB%20C?first=1&last=9");
        let c = RufusClient::new(
            ClientConfig::new(ApiKey::new("k")).with_base_url("http://localhost:9/v0"),
        )
        .unwrap();
        assert_eq!(c.url(&["devices"], &[]).as_str(), "http://localhost:9/v0/devices");
    }

    fn rows(nums: std::ops::RangeInclusive<u64>) -> Vec<PassingOut> {
        nums.map(|n| PassingOut { num_passing: Some(n), ..PassingOut::default() }).collect()
    }

    #[test]
    fn paging_ends_on_an_empty_page_whatever_the_page_size() {
        // A full page of the documented size and a short page alike ask for the next one.
        assert_eq!(after_page(1, &rows(1..=5000), &[], None, 5000), Ok(true));
        assert_eq!(after_page(1, &rows(1..=100), &[], None, 100), Ok(true));
        assert_eq!(after_page(3, &rows(201..=250), &rows(101..=200), None, 250), Ok(true));
        assert_eq!(after_page(4, &[], &rows(201..=250), None, 250), Ok(false));
        assert_eq!(after_page(1, &[], &[], None, 0), Ok(false));
    }

    #[test]
    fn paging_follows_the_pagination_object() {
        let p = |has_more, total| Pagination { page: None, limit: None, total, has_more };
        assert_eq!(after_page(1, &rows(1..=10), &[], Some(&p(Some(false), None)), 10), Ok(false));
        assert_eq!(after_page(1, &rows(1..=10), &[], Some(&p(Some(true), Some(10))), 10), Ok(true));
        assert_eq!(after_page(1, &rows(1..=10), &[], Some(&p(None, Some(10))), 10), Ok(false));
        assert_eq!(after_page(1, &rows(1..=10), &[], Some(&p(None, Some(25))), 10), Ok(true));
        assert_eq!(after_page(1, &rows(1..=10), &[], Some(&p(None, None)), 10), Ok(true));
        // An empty page ends the read even when the server claims more.
        assert_eq!(after_page(2, &[], &rows(1..=10), Some(&p(Some(true), None)), 10), Ok(false));
    }

    #[test]
    fn a_repeated_full_page_is_an_error_and_a_repeated_short_page_the_end() {
        let full = rows(1..=PASSINGS_PAGE_SIZE);
        let e = after_page(2, &full, &full, None, 10_000).unwrap_err();
        assert!(e.contains("page 2 repeats page 1"), "{e}");
        let has_more = Pagination { has_more: Some(true), ..Pagination::default() };
        assert_eq!(after_page(2, &rows(1..=3), &rows(1..=3), Some(&has_more), 6), Ok(false));
        assert_eq!(after_page(2, &rows(1..=100), &rows(1..=100), None, 200), Ok(false));
        // The same rows shifted are not a repetition.
        assert_eq!(after_page(2, &rows(2..=101), &rows(1..=100), None, 200), Ok(true));
    }

    #[test]
    fn debug_of_client_hides_the_key() {
        let c = client();
        let shown = format!("{c:?} {c:#?} {:?}", c.config());
        assert!(!shown.contains("ae4fc6c19681a20fad30"), "{shown}");
    }

    #[test]
    fn single_accepts_object_array_of_one_and_plain_item() {
        let op = Operation::Session;
        let item = json!({"token_session": "T", "active": true});
        for body in [
            json!({"description": "ok", "result": [item.clone()]}),
            json!({"description": "ok", "result": item.clone()}),
            json!({"body": {"result": [item.clone()]}}),
            item.clone(),
        ] {
            let s: Session = RufusClient::single(op, &ok(body)).unwrap().unwrap();
            assert_eq!(s.token_session.as_str(), "T");
            assert_eq!(s.active, Some(true));
        }
        assert!(RufusClient::single::<Session>(op, &ok(json!({"result": []}))).unwrap().is_none());
        assert!(matches!(
            RufusClient::single::<Session>(op, &ok(json!({"result": [{"alias": "x"}]}))),
            Err(ApiError::InvalidResponse { .. })
        ));
    }

    #[test]
    fn list_accepts_wrapped_bare_and_missing_results() {
        let op = Operation::PassingsByRange;
        let (v, p): (Vec<PassingOut>, _) =
            RufusClient::list(op, &ok(json!({"body": {"result": [{"num_passing": "3"}], "pagination": {"has_more": false}}})), "result")
                .unwrap();
        assert_eq!(v[0].num_passing, Some(3));
        assert_eq!(p.unwrap().has_more, Some(false));
        let (v, _): (Vec<PassingOut>, _) =
            RufusClient::list(op, &ok(json!([{}, {}])), "result").unwrap();
        assert_eq!(v.len(), 2);
        let (v, _): (Vec<PassingOut>, _) =
            RufusClient::list(op, &ok(json!({"description": "x"})), "result").unwrap();
        assert!(v.is_empty());
        let e =
            RufusClient::list::<PassingOut>(op, &ok(json!({"body": null})), "result").unwrap_err();
        assert_eq!(e.retry(), crate::Retry::Never);
        let bad = Answer {
            status: StatusCode::OK,
            headers: Default::default(),
            body: b"<html>".to_vec(),
        };
        assert!(matches!(
            RufusClient::list::<PassingOut>(op, &bad, "result"),
            Err(ApiError::InvalidResponse { status: 200, .. })
        ));
    }
}
