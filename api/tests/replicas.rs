//! The deployment beyond one machine, as the README's "Deploying beyond one machine" sets it up
//! with `scripts/deploy/cluster.sh`: a real PostgreSQL primary and a hot standby (pg_basebackup,
//! streaming replication) on loopback, a `wangge serve` on each, and nginx caching in front of
//! both. A publish on the primary is served by the standby's service within 2 s; writes there
//! are refused; and through the cache no client gets a tile of the old version once the new one
//! is served. Needs PostgreSQL 15 + PostGIS and nginx: under CI=true missing tools fail the
//! test, elsewhere it is skipped with a loud message.

use crate::common::{Server, TOKEN, fixture, s, text};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/deploy/cluster.sh")
}

fn pg_bin() -> PathBuf {
    PathBuf::from(std::env::var("PG_BIN").unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".into()))
}

/// What the test cannot run without, or `None` when everything is there.
fn missing_tools() -> Option<String> {
    for tool in ["initdb", "pg_ctl", "pg_basebackup", "psql"] {
        if !pg_bin().join(tool).exists() {
            return Some(format!(
                "{} (Debian: postgresql-15; or set PG_BIN)",
                pg_bin().join(tool).display()
            ));
        }
    }
    if !Path::new("/usr/share/postgresql/15/extension/postgis.control").exists() {
        return Some("PostGIS for PostgreSQL 15 (Debian: postgresql-15-postgis-3)".into());
    }
    if Command::new("nginx").arg("-v").output().is_err() && !Path::new("/usr/sbin/nginx").exists() {
        return Some("nginx (Debian: nginx)".into());
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false);
    if root
        && Command::new("id")
            .arg("postgres")
            .output()
            .map(|o| !o.status.success())
            .unwrap_or(true)
    {
        return Some("a `postgres` user to run PostgreSQL as (root cannot)".into());
    }
    None
}

/// False (after saying why, loudly) when the tools are missing outside CI; panics under CI=true.
fn tools_present() -> bool {
    let Some(what) = missing_tools() else { return true };
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("CI=true and the replica test cannot run: missing {what}");
    }
    eprintln!(
        "\n!!!!!!!! SKIPPED the primary/standby/cache test: missing {what}\n!!!!!!!! (under CI=true this fails)\n"
    );
    false
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `cluster.sh ARGS…`; its standard output (a URL) when it succeeds.
fn cluster(args: &[&str]) -> String {
    let out = Command::new("bash")
        .arg(script())
        .args(args)
        .output()
        .expect("run cluster.sh");
    assert!(out.status.success(), "cluster.sh {args:?} failed: {}", text(&out));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A PostgreSQL cluster started by the script, stopped when the test lets go of it.
struct Postgres(PathBuf);

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script())
            .args(["pg-stop", s(&self.0)])
            .output();
    }
}

/// nginx in the foreground: SIGTERM (its master stops its workers), then reaped.
struct Nginx(std::process::Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.0.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wangge(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_wangge"))
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .expect("run wangge")
}

/// `wangge serve --db URL` on a free port; its address. Its output is drained (and kept for a
/// failure's message) so that it never blocks on a full pipe.
fn serve(db: &str, extra: &[&str]) -> (Server, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wangge"))
        .args(["serve", "--db", db, "--bind", "127.0.0.1:0"])
        .args(extra)
        .env_remove("DATABASE_URL")
        .env("WANGGE_TOKEN", TOKEN)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let server = Server(child);
    let mut said = String::new();
    let addr = loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("wangge serve --db {db} ended: {said}"))
            .unwrap();
        said.push_str(&line);
        said.push('\n');
        if let Some(a) = line.split("http://").nth(1).filter(|_| line.contains("wangge serving")) {
            break a.split_whitespace().next().unwrap().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (server, addr)
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

/// One HTTP/1.1 request over a fresh connection.
fn http(addr: &str, method: &str, path: &str, extra: &[(&str, &str)], body: Option<&str>) -> Answer {
    let mut s = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in extra {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body.unwrap_or(""));
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    Answer { status, headers, body }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = b.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&b[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + size]);
        b = &b[eol + 2 + size + 2..];
    }
    out
}

fn get(addr: &str, path: &str) -> Answer {
    http(addr, "GET", path, &[], None)
}

fn served_version(addr: &str) -> Option<i64> {
    let a = get(addr, "/healthz");
    (a.status == 200).then(|| a.json()["version"].as_i64()).flatten()
}

/// Kangle with its first building 600 residents larger: a re-partition that changes its grid.
fn grown(dir: &Path) -> (PathBuf, (f64, f64)) {
    let out = dir.join("grown");
    std::fs::create_dir_all(&out).unwrap();
    for entry in std::fs::read_dir(fixture("kangle")).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, out.join(p.file_name().unwrap())).unwrap();
    }
    let path = out.join("buildings.geojson");
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let f = &mut v["features"][0]["properties"];
    f["population"] = (f["population"].as_i64().unwrap() + 600).into();
    f.as_object_mut().unwrap().remove("units");
    std::fs::write(&path, v.to_string()).unwrap();
    let d = gis_core::io::load_dataset(&fixture("kangle")).unwrap().dataset;
    let a = d.buildings[0].anchor;
    (out, (a.x(), a.y()))
}

/// The z15 tile holding a point, as `z/x/y`.
fn tile_of((lon, lat): (f64, f64)) -> String {
    let n = f64::from(1u32 << 15);
    let x = (lon + 180.0) / 360.0 * n;
    let y = (1.0 - lat.to_radians().tan().asinh() / std::f64::consts::PI) / 2.0 * n;
    format!("15/{}/{}", x.floor(), y.floor())
}

/// What a MapLibre client does: the style, the TileJSON it names, a tile from its template.
/// Returns the version the style named and the tile's bytes.
fn client(addr: &str, tile: &str) -> (i64, Vec<u8>) {
    let style = get(addr, "/style.json");
    assert_eq!(style.status, 200);
    let source = style.json()["sources"]["wangge"]["url"].as_str().unwrap().to_string();
    let path = source
        .strip_prefix(&format!("http://{addr}"))
        .unwrap_or_else(|| panic!("style source {source}"));
    let version: i64 = path
        .strip_prefix("/v/")
        .and_then(|p| p.strip_suffix("/tiles.json"))
        .unwrap_or_else(|| panic!("the style's source {source} is not a version's TileJSON"))
        .parse()
        .unwrap();
    let tj = get(addr, path);
    assert_eq!(tj.status, 200, "{path}");
    let template = tj.json()["tiles"][0].as_str().unwrap().to_string();
    assert!(
        template.contains(&format!("/v/{version}/tiles/")),
        "{template} for version {version}"
    );
    let url = template.replace("{z}/{x}/{y}", tile);
    let t = get(addr, url.strip_prefix(&format!("http://{addr}")).unwrap());
    assert_eq!(t.status, 200, "{url}: {}", String::from_utf8_lossy(&t.body));
    assert!(t.header("cache-control").contains("immutable"), "{url}");
    (version, t.body)
}

#[test]
fn a_standby_replica_and_a_cache_follow_a_publish_on_the_primary() {
    if !tools_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // PostgreSQL runs as `postgres` and nginx's workers as `nobody`: they must get into the dir.
    std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let (pp, sp, cp) = (free_port(), free_port(), free_port());

    // The primary, with Kangle published as version 1; then its standby.
    let primary_db = cluster(&["pg-primary", s(&dir.path().join("primary")), &pp.to_string()]);
    let _primary = Postgres(dir.path().join("primary"));
    let kangle = fixture("kangle");
    let out = wangge(&["load", s(&kangle), "--db", &primary_db, "--micro"]);
    assert!(out.status.success(), "{}", text(&out));
    let standby_db = cluster(&[
        "pg-standby",
        s(&dir.path().join("standby")),
        &sp.to_string(),
        &pp.to_string(),
    ]);
    let _standby = Postgres(dir.path().join("standby"));

    // A service on each: the primary's takes planners' writes, the standby's is a read replica.
    let (_a, primary) = serve(&primary_db, &[]);
    let (_b, replica) = serve(&standby_db, &["--primary-url", "https://planning.example.cn"]);
    let health = get(&replica, "/healthz").json();
    assert_eq!(
        (health["role"].as_str(), health["version"].as_i64()),
        (Some("replica"), Some(1)),
        "{health}"
    );
    assert_eq!(get(&primary, "/healthz").json()["role"], "primary");

    // Reads work on the replica; every planner write is refused, naming the primary.
    assert_eq!(get(&replica, "/v1/versions").status, 200);
    let batch = r#"{"items":[{"lon":118.1155,"lat":24.505}]}"#;
    assert_eq!(http(&replica, "POST", "/v1/lookup", &[], Some(batch)).status, 200);
    let bearer = format!("Bearer {TOKEN}");
    for (path, auth) in [
        ("/v1/versions/1/rollback", Some(bearer.as_str())),
        ("/v1/datasets/1/partition", Some(bearer.as_str())),
        ("/v1/drafts/1/publish", None),
    ] {
        let headers: Vec<(&str, &str)> = auth.map(|a| vec![("Authorization", a)]).unwrap_or_default();
        let a = http(&replica, "POST", path, &headers, Some("{}"));
        assert_eq!(a.status, 503, "{path}: {}", String::from_utf8_lossy(&a.body));
        assert_eq!(a.header("content-type"), "application/problem+json");
        let p = a.json();
        assert_eq!(p["code"], "read_only_replica", "{p}");
        assert_eq!(p["primary"], "https://planning.example.cn", "{p}");
        assert!(p["detail"].as_str().unwrap().contains("read-only replica"), "{p}");
    }
    let put = http(
        &replica,
        "PUT",
        "/v1/grids/350206001017001/staff",
        &[("Authorization", bearer.as_str())],
        Some("[]"),
    );
    assert_eq!(put.status, 503);
    // And on the command line: publish and load on the standby exit non-zero, saying why.
    for args in [
        vec!["publish", "1", "--note", "x", "--db", standby_db.as_str()],
        vec!["load", s(&kangle), "--db", standby_db.as_str()],
        vec!["rollback", "1", "--db", standby_db.as_str()],
    ] {
        let out = wangge(&args);
        assert!(
            !out.status.success(),
            "wangge {args:?} on the standby succeeded: {}",
            text(&out)
        );
        assert!(
            text(&out).contains("read-only PostgreSQL hot standby"),
            "wangge {args:?}: {}",
            text(&out)
        );
    }

    // nginx caching in front of both services.
    let cache_dir = dir.path().join("cache");
    let nginx = Command::new("bash")
        .arg(script())
        .args(["cache", s(&cache_dir), &cp.to_string(), &primary, &replica])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut nginx = Nginx(nginx);
    let cache = format!("127.0.0.1:{cp}");
    let t0 = Instant::now();
    while TcpStream::connect(&cache).is_err() {
        if let Ok(Some(status)) = nginx.0.try_wait() {
            let mut err = String::new();
            let _ = nginx.0.stderr.take().map(|mut e| e.read_to_string(&mut err));
            panic!("nginx ended ({status}): {err}");
        }
        assert!(t0.elapsed() < Duration::from_secs(10), "nginx did not start");
        std::thread::sleep(Duration::from_millis(50));
    }

    let (grown_dir, changed_point) = grown(dir.path());
    let tile = tile_of(changed_point);
    let (v, v1_tile) = client(&cache, &tile);
    assert_eq!(v, 1);
    // The second fetch of a version's tile comes from the cache; the style never does.
    let again = get(&cache, &format!("/v/1/tiles/{tile}.mvt"));
    assert_eq!((again.header("x-cache-status"), &again.body), ("HIT", &v1_tile));
    assert_ne!(get(&cache, "/style.json").header("x-cache-status"), "HIT");

    // Clients keep fetching through the cache while the primary publishes version 2: each tile
    // they get is the one of the version their style named (checked against the services below).
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let clients: Vec<_> = (0..3)
        .map(|_| {
            let (cache, tile, stop) = (cache.clone(), tile.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut seen = Vec::new();
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    seen.push(client(&cache, &tile));
                }
                seen
            })
        })
        .collect();

    let out = wangge(&["load", s(&grown_dir), "--db", &primary_db, "--micro"]);
    assert!(out.status.success(), "{}", text(&out));
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    let draft = said
        .split("into draft ")
        .nth(1)
        .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
        .unwrap_or_else(|| panic!("no draft in: {said}"))
        .to_string();
    let out = wangge(&[
        "publish",
        &draft,
        "--note",
        "grown",
        "--acknowledge-unstaffed",
        "--confirm-large-moves",
        "--db",
        &primary_db,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let published = Instant::now();
    let mut delays = Vec::new();
    for addr in [&replica, &primary] {
        while served_version(addr) != Some(2) {
            assert!(
                published.elapsed() < Duration::from_secs(2),
                "{addr} did not serve version 2 within 2 s of the publish on the primary"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        delays.push(published.elapsed());
    }
    eprintln!(
        "publish on the primary → served: standby's service {:?}, primary's {:?}",
        delays[0], delays[1]
    );
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);

    // What each version's tile is, from the services themselves.
    let v2_tile = get(&replica, &format!("/v/2/tiles/{tile}.mvt")).body;
    assert_eq!(get(&primary, &format!("/v/2/tiles/{tile}.mvt")).body, v2_tile);
    assert_ne!(
        v1_tile, v2_tile,
        "the grown building's tile differs between the versions"
    );
    let mut per_version = [0, 0];
    for c in clients {
        for (version, bytes) in c.join().expect("a client failed") {
            let expected = if version == 1 { &v1_tile } else { &v2_tile };
            assert!(
                bytes == *expected,
                "a client following version {version}'s style got another version's tile"
            );
            per_version[(version - 1) as usize] += 1;
        }
    }
    eprintln!(
        "clients during the switch: {} tiles of version 1, {} of version 2",
        per_version[0], per_version[1]
    );

    // Now that both serve version 2, every client gets version 2's style and tiles, however
    // often it asks and whichever service answers.
    for _ in 0..20 {
        let (version, bytes) = client(&cache, &tile);
        assert_eq!(version, 2);
        assert!(
            bytes == v2_tile,
            "a tile of the old version after the publish was served"
        );
    }
    // The old version's URL still gives the old version's tile, from the cache (immutable).
    let old = get(&cache, &format!("/v/1/tiles/{tile}.mvt"));
    assert_eq!(old.status, 200);
    assert!(old.body == v1_tile, "version 1's URL changed its answer");
}
