//! Security of the planner endpoints: the token never reaches the logs, even at trace level and
//! for a wrong token; CORS allows what reads need (GET from anywhere) and nothing else.

use crate::common;

use api::serve::Limits;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use tower::ServiceExt;

fn request(addr: &str, method: &str, path: &str, token: &str) -> u16 {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(s, "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}").unwrap();
    let mut raw = String::new();
    let _ = s.read_to_string(&mut raw);
    raw.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0)
}

#[test]
fn the_token_never_reaches_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    let token = "s3cret-planner-token-never-logged";
    let wrong = "wrong-token-also-never-logged";
    let kangle = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/kangle");
    let mut child = Command::new(env!("CARGO_BIN_EXE_wangge"))
        .args([
            "serve",
            "--data",
            kangle.to_str().unwrap(),
            "--bind",
            "127.0.0.1:0",
            "--store",
            dir.path().join("w.db").to_str().unwrap(),
        ])
        .env_remove("DATABASE_URL")
        .env("WANGGE_TOKEN", token)
        .env("RUST_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    let mut log = String::new();
    // Trace logs may come before the address line.
    loop {
        first.clear();
        assert!(stdout.read_line(&mut first).unwrap() > 0, "the server ended: {log}");
        log.push_str(&first);
        if first.starts_with("wangge serving") {
            break;
        }
    }
    let addr = first.split("http://").nth(1).unwrap().trim().to_string();
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = stdout.read_to_string(&mut rest);
        rest
    });
    let err_reader = std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = stderr.read_to_string(&mut rest);
        rest
    });
    assert_eq!(request(&addr, "GET", "/v1/auth", token), 204);
    assert_eq!(request(&addr, "GET", "/v1/auth", wrong), 401);
    assert_eq!(request(&addr, "POST", "/v1/datasets/1/partition", wrong), 401);
    assert_eq!(request(&addr, "PUT", "/v1/grids/350206001017001/staff", token), 422);
    let _ = child.kill();
    let _ = child.wait();
    log.push_str(&reader.join().unwrap());
    log.push_str(&err_reader.join().unwrap());
    assert!(log.len() > 1000, "trace logging produced almost nothing: {log}");
    assert!(!log.contains(token), "the token is in the logs");
    assert!(!log.contains(wrong), "a wrong token is in the logs");
    assert!(
        !log.to_lowercase().contains("bearer s3cret"),
        "an Authorization header is in the logs"
    );
}

#[tokio::test]
async fn cors_allows_reads_only() {
    let (app, _, _, _dir) = common::service(Limits::default()).await;
    let get = Request::get("/v1/lookup?lon=118.11&lat=24.505")
        .header(header::ORIGIN, "https://elsewhere.example")
        .body(Body::empty())
        .unwrap();
    let res = app.clone().oneshot(get).await.unwrap();
    assert_eq!(res.headers().get(header::ACCESS_CONTROL_ALLOW_ORIGIN).unwrap(), "*");
    // A preflight for a planner write from another origin gets no permission to send it.
    for (method, path) in [
        ("POST", "/v1/drafts/1/publish"),
        ("PUT", "/v1/grids/x/staff"),
        ("DELETE", "/v1/versions"),
    ] {
        let pre = Request::builder()
            .method("OPTIONS")
            .uri(path)
            .header(header::ORIGIN, "https://elsewhere.example")
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, method)
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "authorization, content-type")
            .body(Body::empty())
            .unwrap();
        let res = app.clone().oneshot(pre).await.unwrap();
        let allowed = res
            .headers()
            .get(header::ACCESS_CONTROL_ALLOW_METHODS)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        assert!(
            !allowed.contains(method),
            "{method} {path} allowed cross-origin: {allowed}"
        );
        let headers = res
            .headers()
            .get(header::ACCESS_CONTROL_ALLOW_HEADERS)
            .map(|v| v.to_str().unwrap().to_lowercase())
            .unwrap_or_default();
        assert!(
            !headers.contains("authorization"),
            "Authorization allowed cross-origin for {path}"
        );
        assert!(res.status() != StatusCode::INTERNAL_SERVER_ERROR);
    }
}
