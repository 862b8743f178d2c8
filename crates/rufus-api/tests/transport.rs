//! Transport classification against a hand-made TCP server (no simulator): what the client
//! reports when the connection is refused, reset or closed after the request went out, when the
//! answer is slow or breaks off, and what it actually puts on the wire.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests stop loudly

use std::time::Duration;

use chrono::{TimeZone, Utc};
use rufus_api::{
    ApiError, ApiKey, ClientConfig, Operation, Passing, Retry, RufusClient, SessionToken,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

const KEY: &str = "ror-0123456789abcdef0a1b";
const BOUND: Duration = Duration::from_secs(10);

fn client(addr: std::net::SocketAddr, request_timeout: Duration) -> RufusClient {
    let config = ClientConfig::new(ApiKey::new(KEY))
        .with_base_url(format!("http://{addr}/v0"))
        .with_timeouts(Duration::from_secs(2), request_timeout);
    RufusClient::new(config).unwrap()
}

fn batch() -> Vec<Passing> {
    let t = Utc.with_ymd_and_hms(2024, 5, 1, 10, 0, 0).unwrap();
    vec![Passing::new("7", 1, t).with_chip("C7"), Passing::new("8", 2, t)]
}

/// Reads one HTTP/1.1 request (headers and a Content-Length body) and returns it as text.
async fn read_request(stream: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "client closed before sending a request");
        buf.extend_from_slice(chunk.get(..n).unwrap());
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text
                .get(..end)
                .unwrap()
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                return text;
            }
        }
    }
}

/// A one-shot server: accepts one connection, reads one request, then does `then`.
async fn one_shot<F, Fut>(then: F) -> (std::net::SocketAddr, tokio::task::JoinHandle<String>)
where
    F: FnOnce(TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let request = read_request(&mut stream).await;
        then(stream).await;
        request
    });
    (addr, task)
}

async fn reset(stream: TcpStream) {
    stream.set_zero_linger().unwrap();
    drop(stream);
}

#[tokio::test]
async fn reset_after_the_request_is_ambiguous_and_a_write_needs_reconciling() {
    timeout(BOUND, async {
        let (addr, server) = one_shot(reset).await;
        let err = client(addr, Duration::from_secs(5))
            .insert_passings(&SessionToken::new("T1"), &batch())
            .await
            .unwrap_err();
        assert!(matches!(err, ApiError::Ambiguous { op: Operation::InsertPassings, .. }), "{err:?}");
        assert_eq!(err.retry(), Retry::Reconcile);
        let message = err.to_string();
        assert!(message.starts_with("insert passings: the request was sent but no answer came ("), "{message}");
        assert!(message.ends_with("; it may have been applied"), "{message}");
        assert!(!message.contains(KEY));

        // What went on the wire: both key headers, JSON, only documented fields.
        let request = server.await.unwrap();
        assert!(request.starts_with("POST /v0/passings HTTP/1.1\r\n"), "{request}");
        let lower = request.to_ascii_lowercase();
        assert!(lower.contains(&format!("\r\napi_key: {KEY}\r\n")), "{request}");
        assert!(lower.contains(&format!("\r\nx-api-key: {KEY}\r\n")), "{request}");
        assert!(lower.contains("\r\ncontent-type: application/json\r\n"), "{request}");
        let body = &request[request.find("\r\n\r\n").unwrap() + 4..];
        assert_eq!(
            body,
            concat!(
                r#"{"token_session":"T1","passings_list":["#,
                r#"{"bib":"7","num_passing":1,"timestamp":"2024-05-01T10:00:00.000Z","chip":"C7"},"#,
                r#"{"bib":"8","num_passing":2,"timestamp":"2024-05-01T10:00:00.000Z"}]}"#
            )
        );
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn reset_on_a_read_is_ambiguous_but_safe_to_repeat() {
    timeout(BOUND, async {
        let (addr, _server) = one_shot(reset).await;
        let err = client(addr, Duration::from_secs(5))
            .passings_by_range(&SessionToken::new("T1"), 1, 10, 1)
            .await
            .unwrap_err();
        assert!(matches!(err, ApiError::Ambiguous { .. }), "{err:?}");
        assert_eq!(err.retry(), Retry::Safe);
        assert!(!err.to_string().contains("applied"), "{err}");
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn graceful_close_without_answer_is_ambiguous() {
    timeout(BOUND, async {
        let (addr, _server) = one_shot(|s| async move { drop(s) }).await;
        let err = client(addr, Duration::from_secs(5))
            .close_session(&SessionToken::new("T1"))
            .await
            .unwrap_err();
        assert!(matches!(err, ApiError::Ambiguous { op: Operation::CloseSession, .. }), "{err:?}");
        assert_eq!(err.retry(), Retry::Reconcile);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn answer_broken_off_mid_body_is_ambiguous() {
    timeout(BOUND, async {
        let (addr, _server) = one_shot(|mut s| async move {
            s.write_all(b"HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: 200\r\n\r\n{\"descr")
                .await
                .unwrap();
            s.flush().await.unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
            reset(s).await;
        })
        .await;
        let err = client(addr, Duration::from_secs(5))
            .insert_passings(&SessionToken::new("T1"), &batch())
            .await
            .unwrap_err();
        assert!(matches!(err, ApiError::Ambiguous { .. }), "{err:?}");
        assert_eq!(err.retry(), Retry::Reconcile);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn nobody_listening_is_a_connection_error_safe_to_retry() {
    timeout(BOUND, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let err = client(addr, Duration::from_secs(5))
            .insert_passings(&SessionToken::new("T1"), &batch())
            .await
            .unwrap_err();
        assert!(matches!(err, ApiError::Connection { .. }), "{err:?}");
        assert_eq!(err.retry(), Retry::Safe);
        assert!(err.to_string().contains("connection refused"), "{err}");
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn slow_answer_is_a_timeout() {
    timeout(BOUND, async {
        let (addr, _server) = one_shot(|s| async move {
            tokio::time::sleep(Duration::from_secs(3)).await;
            drop(s);
        })
        .await;
        let c = client(addr, Duration::from_millis(300));
        let err = c.insert_passings(&SessionToken::new("T1"), &batch()).await.unwrap_err();
        assert_eq!(err, ApiError::Timeout { op: Operation::InsertPassings });
        assert_eq!(err.retry(), Retry::Reconcile);
        assert_eq!(
            err.to_string(),
            "insert passings: no answer within the request timeout; it may have been applied"
        );
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn redirects_are_not_followed() {
    timeout(BOUND, async {
        let (addr, _server) = one_shot(|mut s| async move {
            s.write_all(b"HTTP/1.1 307 Temporary Redirect\r\nlocation: http://example.com/v0/devices\r\ncontent-length: 0\r\n\r\n")
                .await
                .unwrap();
            s.flush().await.unwrap();
        })
        .await;
        let err = client(addr, Duration::from_secs(5)).list_devices(1, 10).await.unwrap_err();
        assert!(matches!(err, ApiError::InvalidResponse { status: 307, .. }), "{err:?}");
        assert_eq!(err.retry(), Retry::Never);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_2xx_with_garbage_on_a_write_asks_for_reconciliation() {
    timeout(BOUND, async {
        let (addr, _server) = one_shot(|mut s| async move {
            s.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 6\r\n\r\n<html>",
            )
            .await
            .unwrap();
            s.flush().await.unwrap();
        })
        .await;
        let err = client(addr, Duration::from_secs(5))
            .insert_passings(&SessionToken::new("T1"), &batch())
            .await
            .unwrap_err();
        assert!(matches!(err, ApiError::InvalidResponse { status: 200, .. }), "{err:?}");
        assert_eq!(err.retry(), Retry::Reconcile);
    })
    .await
    .unwrap();
}
