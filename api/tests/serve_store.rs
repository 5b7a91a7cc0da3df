//! `wangge serve` as a user runs it, on the embedded store: it loads and publishes the fixture,
//! answers over real HTTP, and serves a version published by another process within a second.

use crate::common::Server;
use crate::common::{fixture, wangge};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn http_get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status: u16 = raw.split(' ').nth(1).unwrap().parse().unwrap();
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
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
        .args([
            "serve",
            "--data",
            fixture("kangle").to_str().unwrap(),
            "--store",
            db.to_str().unwrap(),
            "--bind",
            "127.0.0.1:0",
        ])
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first).unwrap();
    let addr = first
        .split("http://")
        .nth(1)
        .expect("the address line")
        .trim()
        .to_string();
    assert_eq!(version(&addr), 1, "{first}");

    // A real HTTP lookup: a building's own point is in a grid of Kangle.
    let d = gis_core::io::load_dataset(&fixture("kangle")).unwrap().dataset;
    let b = &d.buildings[0];
    let (status, body) = http_get(&addr, &format!("/v1/lookup?lon={}&lat={}", b.anchor.x(), b.anchor.y()));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("350206001017"), "{body}");

    // What a person waiting for a big city needs to know: how long the snapshot took.
    let (status, metrics) = http_get(&addr, "/metrics");
    assert_eq!(status, 200, "{metrics}");
    for gauge in ["wangge_snapshot_index_seconds", "wangge_snapshot_load_seconds"] {
        let value: f64 = metrics
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{gauge} ")))
            .unwrap_or_else(|| panic!("no {gauge} in {metrics}"))
            .parse()
            .unwrap();
        assert!(value > 0.0 && value < 60.0, "{gauge} {value}");
    }

    // Another process loads new data and publishes it; the server follows.
    let out = Command::new(bin)
        .args([
            "load",
            fixture("kangle").to_str().unwrap(),
            "--store",
            db.to_str().unwrap(),
        ])
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let draft = text
        .split("into draft ")
        .nth(1)
        .and_then(|t| t.split(':').next())
        .expect(&text)
        .to_string();
    let out = Command::new(bin)
        .args(["publish", &draft, "--note", "second", "--store", db.to_str().unwrap()])
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let published = Instant::now();
    while version(&addr) != 2 {
        assert!(
            published.elapsed() < Duration::from_secs(1),
            "version 2 not served within a second"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(server);
}

#[test]
fn serve_without_data_on_an_empty_store_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_wangge"))
        .args([
            "serve",
            "--store",
            dir.path().join("empty.db").to_str().unwrap(),
            "--bind",
            "127.0.0.1:0",
        ])
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--data"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---- a store holding damaged versions (as an older build wrote them) ---------------------------

/// Runs SQL statements on the store file, as an older build (or a broken disk) would have
/// written it: `$1` in each is bound to `arg`.
fn sql(db: &Path, statements: &[(&str, Option<&str>)]) {
    use sqlx::Connection;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
        for (q, arg) in statements {
            let n = sqlx::query(q).bind(arg).execute(&mut c).await.unwrap().rows_affected();
            assert!(n > 0, "{q} changed nothing");
        }
        c.close().await.unwrap();
    });
}

fn query_one(db: &Path, q: &str) -> (String, String) {
    use sqlx::{Connection, Row};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
        let r = sqlx::query(q).fetch_one(&mut c).await.unwrap();
        (r.get(0), r.get(1))
    })
}

/// The first micro-grid of `layer` becomes a bow tie across its bounding box; returns its code.
fn bow_tie_in(db: &Path, layer: i64) -> String {
    let (code, text) = query_one(
        db,
        &format!(
            "SELECT code, feature FROM grids WHERE layer_id = {layer} AND level = 'micro' ORDER BY position LIMIT 1"
        ),
    );
    let mut f: Value = serde_json::from_str(&text).unwrap();
    let ring = f["geometry"]["coordinates"][0].as_array().unwrap().clone();
    let (xs, ys): (Vec<f64>, Vec<f64>) = ring
        .iter()
        .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
        .unzip();
    let (x0, x1) = (
        xs.iter().cloned().fold(f64::MAX, f64::min),
        xs.iter().cloned().fold(f64::MIN, f64::max),
    );
    let (y0, y1) = (
        ys.iter().cloned().fold(f64::MAX, f64::min),
        ys.iter().cloned().fold(f64::MIN, f64::max),
    );
    f["geometry"] =
        serde_json::json!({"type": "Polygon", "coordinates": [[[x0, y0], [x1, y1], [x1, y0], [x0, y1], [x0, y0]]]});
    let geometry = f["geometry"].to_string();
    sql(
        db,
        &[
            (
                &format!("UPDATE grids SET feature = $1 WHERE layer_id = {layer} AND code = '{code}'"),
                Some(&f.to_string()),
            ),
            (
                &format!("UPDATE grids SET geom = $1 WHERE layer_id = {layer} AND code = '{code}'"),
                Some(&geometry),
            ),
        ],
    );
    code
}

/// The first grid of `layer` has its stored text cut in half: it does not parse.
fn truncate_in(db: &Path, layer: i64) -> String {
    let (code, _) = query_one(
        db,
        &format!("SELECT code, feature FROM grids WHERE layer_id = {layer} ORDER BY position LIMIT 1"),
    );
    sql(
        db,
        &[(
            &format!(
                "UPDATE grids SET feature = substr(feature, 1, length(feature) / 2) WHERE layer_id = {layer} AND code = '{code}'"
            ),
            None,
        )],
    );
    code
}

fn say(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Starts `wangge serve` with `args`; returns the server, its address, its first stdout lines
/// (up to the map line) and its stderr, read in the background.
fn start(args: &[&str], db: &Path) -> (Server, String, String, std::sync::mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wangge"))
        .arg("serve")
        .args(args)
        .args(["--store", db.to_str().unwrap(), "--bind", "127.0.0.1:0"])
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (stdout, stderr) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let server = Server(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut all = String::new();
        let _ = BufReader::new(stderr).read_to_string(&mut all);
        let _ = tx.send(all);
    });
    let mut lines = BufReader::new(stdout);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        assert!(lines.read_line(&mut line).unwrap() > 0, "serve stopped early: {head}");
        head.push_str(&line);
        if line.contains("map: http://") {
            break;
        }
    }
    // Keep reading stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut lines, &mut std::io::sink()));
    let addr = head
        .split("http://")
        .nth(1)
        .expect("the address line")
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    (server, addr, head, rx)
}

fn json_of(addr: &str, path: &str) -> (u16, Value) {
    let (status, body) = http_get(addr, path);
    (status, serde_json::from_str(&body).unwrap_or(Value::String(body)))
}

fn http_post(addr: &str, path: &str, token: &str, body: &str) -> (u16, Value) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status: u16 = raw.split(' ').nth(1).unwrap().parse().unwrap();
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    // Chunked answers: the JSON sits between the chunk sizes.
    let json = body
        .find('{')
        .and_then(|a| body.rfind('}').map(|b| &body[a..=b]))
        .unwrap_or("null");
    (
        status,
        serde_json::from_str(json).unwrap_or(Value::String(body.clone())),
    )
}

#[test]
fn serve_passes_over_a_damaged_current_version_and_says_how_to_recover() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("wangge.db");
    let (kangle, store) = (fixture("kangle"), db.to_str().unwrap().to_string());
    let out = wangge(&["load", kangle.to_str().unwrap(), "--micro", "--store", &store]);
    assert!(out.status.success(), "{}", say(&out));
    let out = wangge(&["load", kangle.to_str().unwrap(), "--store", &store]);
    assert!(out.status.success(), "{}", say(&out));
    let out = wangge(&["publish", "2", "--note", "second", "--store", &store]);
    assert!(out.status.success(), "{}", say(&out));
    // Version 2's layer (layer 2) is damaged in place: a micro-grid stored as a bow tie.
    let bow = bow_tie_in(&db, 2);

    let (server, addr, head, stderr) = start(&[], &db);
    assert!(
        head.contains("serving version 1") && head.contains("DAMAGED: version 2"),
        "{head}"
    );
    let (status, health) = json_of(&addr, "/healthz");
    assert_eq!(status, 200, "{health}");
    assert_eq!(
        (
            health["status"].as_str(),
            health["version"].as_i64(),
            health["store"]["current_version"].as_i64()
        ),
        (Some("degraded"), Some(1), Some(2)),
        "{health}"
    );
    let warning = health["warning"].as_str().unwrap();
    assert!(
        warning.contains("version 2 is damaged") && warning.contains(&bow) && warning.contains("wangge rollback 1"),
        "{warning}"
    );
    let (_, versions) = json_of(&addr, "/v1/versions");
    assert_eq!(versions["served"], 1);
    assert_eq!(
        versions["versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["damaged"].as_bool().unwrap())
            .collect::<Vec<_>>(),
        vec![false, true]
    );
    // Lookups answer from version 1.
    let d = gis_core::io::load_dataset(&kangle).unwrap().dataset;
    let b = &d.buildings[0];
    let (status, hit) = json_of(&addr, &format!("/v1/lookup?lon={}&lat={}", b.anchor.x(), b.anchor.y()));
    assert_eq!(status, 200, "{hit}");

    // Rolling back to the damaged version is refused, and nothing changes.
    let out = wangge(&["rollback", "2", "--store", &store]);
    assert_eq!(out.status.code(), Some(2), "{}", say(&out));
    assert!(
        say(&out).contains("version 2 cannot be rolled back to") && say(&out).contains(&bow),
        "{}",
        say(&out)
    );
    // The advice works: roll back to version 1, and the server serves version 3, healthy.
    let out = wangge(&["rollback", "1", "--store", &store]);
    assert!(out.status.success(), "{}", say(&out));
    let started = Instant::now();
    while json_of(&addr, "/healthz").1["status"] != "ok" {
        assert!(started.elapsed() < Duration::from_secs(5), "the rollback is not served");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(json_of(&addr, "/healthz").1["version"], 3);
    drop(server);
    let stderr = stderr.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(stderr.contains("warning: version 2 is damaged"), "{stderr}");
}

#[test]
fn serve_with_only_damaged_versions_starts_answers_503_and_planners_recover() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("wangge.db");
    let (kangle, store) = (fixture("kangle"), db.to_str().unwrap().to_string());
    let out = wangge(&["load", kangle.to_str().unwrap(), "--store", &store]);
    assert!(out.status.success(), "{}", say(&out));
    let cut = truncate_in(&db, 1);
    let token = dir.path().join("token");
    std::fs::write(&token, "planner-secret-0123456789\n").unwrap();

    // With --data too, as a service unit would start it: it must neither exit nor loop.
    let (server, addr, head, stderr) = start(
        &[
            "--data",
            kangle.to_str().unwrap(),
            "--token-file",
            token.to_str().unwrap(),
        ],
        &db,
    );
    assert!(
        head.contains("serving version 0") && head.contains("NOTHING TO SERVE"),
        "{head}"
    );
    let (status, health) = json_of(&addr, "/healthz");
    assert_eq!(
        (status, health["status"].as_str(), health["version"].as_i64()),
        (200, Some("degraded"), None),
        "{health}"
    );
    for path in [
        "/v1/lookup?lon=118.1148&lat=24.5060",
        "/tiles/16/54270/28164.mvt",
        "/tiles/16/54270/28164.png",
        "/collections/grids/items",
        "/v1/resources/nearest?lon=118.1148&lat=24.5060",
    ] {
        let (status, problem) = json_of(&addr, path);
        assert_eq!(status, 503, "{path}: {problem}");
        assert_eq!(problem["title"], "Nothing to serve", "{path}");
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.contains("version 1 is damaged") && detail.contains(&cut) && detail.contains("re-partition"),
            "{detail}"
        );
    }
    let (_, versions) = json_of(&addr, "/v1/versions");
    assert_eq!(
        (versions["served"].clone(), versions["versions"][0]["damaged"].clone()),
        (Value::Null, Value::Bool(true)),
        "{versions}"
    );

    // A planner re-partitions; a draft damaged on disk is refused with its problems named.
    let token = "planner-secret-0123456789";
    let (status, made) = http_post(&addr, "/v1/datasets/1/partition", token, "{}");
    assert_eq!(status, 201, "{made}");
    let draft = made["draft"]["id"].as_i64().unwrap();
    let bad = truncate_in(&db, draft);
    let (status, problem) = http_post(&addr, &format!("/v1/drafts/{draft}/publish"), token, "{}");
    assert_eq!(status, 422, "{problem}");
    assert!(
        problem["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["grid"] == bad.as_str() && p["kind"] == "read_back"),
        "{problem}"
    );
    assert_eq!(
        json_of(&addr, "/v1/versions").1["versions"].as_array().unwrap().len(),
        1
    );
    // A sound draft publishes, and is served at once.
    let (status, made) = http_post(&addr, "/v1/datasets/1/partition", token, "{}");
    assert_eq!(status, 201, "{made}");
    let (status, published) = http_post(
        &addr,
        &format!("/v1/drafts/{}/publish", made["draft"]["id"]),
        token,
        "{\"note\":\"recovered\"}",
    );
    assert_eq!(status, 201, "{published}");
    let (status, health) = json_of(&addr, "/healthz");
    assert_eq!(
        (status, health["status"].as_str(), health["version"].as_i64()),
        (200, Some("ok"), Some(2)),
        "{health}"
    );
    let (status, hit) = json_of(&addr, "/v1/lookup?lon=118.1148&lat=24.5060");
    assert!(status == 200 || status == 404, "{status} {hit}");
    drop(server);
    let stderr = stderr.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(stderr.contains("warning: version 1 is damaged"), "{stderr}");
}

#[test]
fn publishing_a_draft_that_does_not_hold_exits_non_zero_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("wangge.db");
    let (kangle, store) = (fixture("kangle"), db.to_str().unwrap().to_string());
    assert!(
        wangge(&["load", kangle.to_str().unwrap(), "--micro", "--store", &store])
            .status
            .success()
    );
    assert!(
        wangge(&["load", kangle.to_str().unwrap(), "--store", &store])
            .status
            .success()
    );
    let bow = bow_tie_in(&db, 2);
    let before = say(&wangge(&["versions", "--store", &store]));
    let out = wangge(&["publish", "2", "--note", "x", "--store", &store]);
    assert_eq!(out.status.code(), Some(2), "{}", say(&out));
    assert!(
        say(&out).contains("draft 2 cannot be published")
            && say(&out).contains(&bow)
            && say(&out).contains("crosses or touches itself"),
        "{}",
        say(&out)
    );
    assert_eq!(say(&wangge(&["versions", "--store", &store])), before);
}
