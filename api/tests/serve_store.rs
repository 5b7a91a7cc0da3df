//! `wangge serve` as a user runs it, on the embedded store: it loads and publishes the fixture,
//! answers over real HTTP, and serves a version published by another process within a second.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures").join(name)
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn http_get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status: u16 = raw.split(' ').nth(1).unwrap().parse().unwrap();
    let body = raw.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

fn version(addr: &str) -> i64 {
    let (status, body) = http_get(addr, "/healthz");
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    v["version"].as_i64().unwrap()
}

#[test]
fn serve_loads_publishes_and_follows_new_versions() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("wangge.db");
    let bin = env!("CARGO_BIN_EXE_wangge");
    let mut child = Command::new(bin)
        .args(["serve", "--data", fixture("kangle").to_str().unwrap(), "--store", db.to_str().unwrap(), "--bind", "127.0.0.1:0"])
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first).unwrap();
    let addr = first.split("http://").nth(1).expect("the address line").trim().to_string();
    assert_eq!(version(&addr), 1, "{first}");

    // A real HTTP lookup: a building's own point is in a grid of Kangle.
    let d = gis_core::io::load_dataset(&fixture("kangle")).unwrap().dataset;
    let b = &d.buildings[0];
    let (status, body) = http_get(&addr, &format!("/v1/lookup?lon={}&lat={}", b.anchor.x(), b.anchor.y()));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("350206001006"), "{body}");

    // Another process loads new data and publishes it; the server follows.
    let out = Command::new(bin).args(["load", fixture("kangle").to_str().unwrap(), "--store", db.to_str().unwrap()]).env_remove("DATABASE_URL").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let draft = text.split("into draft ").nth(1).and_then(|t| t.split(':').next()).expect(&text).to_string();
    let out = Command::new(bin).args(["publish", &draft, "--note", "second", "--store", db.to_str().unwrap()]).env_remove("DATABASE_URL").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let published = Instant::now();
    while version(&addr) != 2 {
        assert!(published.elapsed() < Duration::from_secs(1), "version 2 not served within a second");
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(server);
}

#[test]
fn serve_without_data_on_an_empty_store_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_wangge"))
        .args(["serve", "--store", dir.path().join("empty.db").to_str().unwrap(), "--bind", "127.0.0.1:0"])
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--data"), "{}", String::from_utf8_lossy(&out.stderr));
}
