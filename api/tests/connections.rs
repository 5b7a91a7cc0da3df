//! Connections over real sockets, against the `wangge` binary: a client that trickles its
//! request head (slowloris) or sends nothing is cut off after `--header-timeout`; requests on a
//! kept-alive connection are unaffected; one idle past `--idle-timeout` with no request in
//! flight is closed, one waiting on a request in flight is not; the open-file limit is raised
//! to the hard limit, so connections are not refused at the usual 1,024; SIGTERM stops the service cleanly, letting a request
//! in flight finish.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server {
    child: Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(header_timeout: &str) -> Server {
    serve_with(&["--header-timeout", header_timeout])
}

fn serve_with(limits: &[&str]) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let kangle = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/kangle");
    let mut child = Command::new(env!("CARGO_BIN_EXE_wangge"))
        .args(["serve", "--data", kangle.to_str().unwrap(), "--bind", "127.0.0.1:0"])
        .args(limits)
        .args(["--store", dir.path().join("w.db").to_str().unwrap()])
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    let addr = first
        .split("http://")
        .nth(1)
        .expect("the address line")
        .trim()
        .to_string();
    // Keep reading so the service never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    Server { child, addr, _dir: dir }
}

/// Reads until the server closes; the time it took and what came.
fn until_closed(s: &mut TcpStream, limit: Duration) -> (Duration, Vec<u8>) {
    let start = Instant::now();
    s.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while start.elapsed() < limit {
        match s.read(&mut buf) {
            Ok(0) => return (start.elapsed(), got),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(_) => return (start.elapsed(), got),
        }
    }
    panic!("the connection was still open after {limit:?}");
}

#[test]
fn a_client_trickling_its_headers_is_cut_off() {
    let server = serve("2");
    let mut s = TcpStream::connect(&server.addr).unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").unwrap();
    let start = Instant::now();
    // A header line every 300 ms: each arrives well within any per-read limit, the head never ends.
    let mut cut = false;
    while start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(300));
        if s.write_all(b"X-Slow: 1\r\n").is_err() {
            cut = true;
            break;
        }
        let mut probe = [0u8; 1];
        s.set_nonblocking(true).unwrap();
        let r = s.read(&mut probe);
        s.set_nonblocking(false).unwrap();
        if matches!(r, Ok(0)) || matches!(&r, Err(e) if e.kind() != std::io::ErrorKind::WouldBlock) {
            cut = true;
            break;
        }
    }
    let took = start.elapsed();
    assert!(cut, "a trickling client kept its connection for {took:?}");
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_secs(6),
        "cut off after {took:?}, not about 2 s"
    );
}

#[test]
fn a_silent_connection_is_closed() {
    let server = serve("2");
    let mut s = TcpStream::connect(&server.addr).unwrap();
    let (took, got) = until_closed(&mut s, Duration::from_secs(20));
    assert!(got.is_empty(), "{}", String::from_utf8_lossy(&got));
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_secs(6),
        "closed after {took:?}"
    );
}

#[test]
fn kept_alive_requests_and_a_prompt_head_are_served() {
    let server = serve("2");
    let mut s = TcpStream::connect(&server.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut reader = BufReader::new(s.try_clone().unwrap());
    for i in 0..3 {
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let status = response(&mut reader);
        assert!(status.starts_with("HTTP/1.1 200"), "request {i}: {status}");
        // Idle between requests for less than the limit.
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn sigterm_stops_the_service_cleanly() {
    let mut server = serve("10");
    // An idle kept-alive connection does not hold the shutdown up.
    let mut idle = TcpStream::connect(&server.addr).unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let start = Instant::now();
    let ok = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            assert!(status.success(), "{status:?}");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(8),
            "still running {:?} after SIGTERM",
            start.elapsed()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        TcpStream::connect(&server.addr).is_err(),
        "still accepting after it stopped"
    );
}

/// Reads one response (head and Content-Length body) from a kept-alive connection; its status.
fn response(reader: &mut BufReader<TcpStream>) -> String {
    let mut status = String::new();
    reader.read_line(&mut status).unwrap();
    let mut len = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap();
        }
        if line == "\r\n" || line.is_empty() {
            break;
        }
    }
    let mut body = vec![0; len];
    reader.read_exact(&mut body).unwrap();
    status
}

#[test]
fn an_idle_kept_alive_connection_is_closed_but_not_one_with_a_request_in_flight() {
    let server = serve_with(&["--header-timeout", "10", "--idle-timeout", "2"]);
    // Idle after a request: closed after about 2 s, though the head timeout is 10 s.
    let mut s = TcpStream::connect(&server.addr).unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut reader = BufReader::new(s.try_clone().unwrap());
    assert!(response(&mut reader).starts_with("HTTP/1.1 200"));
    let (took, got) = until_closed(&mut s, Duration::from_secs(20));
    assert!(got.is_empty());
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_secs(6),
        "closed after {took:?}"
    );

    // A request in flight (its body half sent, then 3 s of silence) is not idle: it completes.
    let body = br#"{"items": [{"lon": 118.1075, "lat": 24.5036}]}"#;
    let mut s = TcpStream::connect(&server.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        s,
        "POST /v1/lookup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(&body[..10]).unwrap();
    std::thread::sleep(Duration::from_secs(3));
    s.write_all(&body[10..]).unwrap();
    let mut reader = BufReader::new(s.try_clone().unwrap());
    let status = response(&mut reader);
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
}

#[test]
fn the_open_file_limit_is_raised_to_the_hard_limit() {
    if Command::new("prlimit").arg("--version").output().is_err() {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "prlimit (util-linux) is missing"
        );
        eprintln!("SKIPPED: no prlimit");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let kangle = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/kangle");
    let mut child = Command::new("prlimit")
        .args([
            "--nofile=256:4096",
            "--",
            env!("CARGO_BIN_EXE_wangge"),
            "serve",
            "--data",
            kangle.to_str().unwrap(),
            "--bind",
            "127.0.0.1:0",
        ])
        .args(["--store", dir.path().join("w.db").to_str().unwrap()])
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("wangge serving"), "{first}");
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", child.id())).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let line = limits.lines().find(|l| l.starts_with("Max open files")).unwrap();
    let numbers: Vec<&str> = line.split_whitespace().skip(3).take(2).collect();
    assert_eq!(numbers, ["4096", "4096"], "{line}");
}
