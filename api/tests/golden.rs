//! Golden outputs: what the `wangge` binary prints, writes and answers over HTTP on the fixtures,
//! byte for byte, compared with `tests/golden/*.txt`. A restructure must leave every one of them
//! as it is; a change in behaviour shows here as a diff to review, and `GOLDEN_UPDATE=1` rewrites
//! the files once the change is meant.
//!
//! Only what varies from run to run is masked: the temp folder (`<TMP>`), timestamps (`<TIME>`)
//! and elapsed times (`<T> s`). Binary bodies and written files are recorded by length and
//! FNV-1a hash.

use crate::common::Server;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const TOKEN: &str = "golden-planner-token-0123456789";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Collects the cases' outputs, then compares them all at once.
struct Goldens {
    tmp: tempfile::TempDir,
    cases: BTreeMap<String, String>,
}

impl Goldens {
    fn new() -> Self {
        Self {
            tmp: tempfile::tempdir().unwrap(),
            cases: BTreeMap::new(),
        }
    }

    fn tmp(&self, name: &str) -> String {
        self.tmp.path().join(name).to_str().unwrap().to_string()
    }

    fn record(&mut self, name: &str, text: String) {
        let text = normalise(&text, self.tmp.path());
        assert!(self.cases.insert(name.to_string(), text).is_none(), "case {name} twice");
    }

    /// Runs `wangge ARGS` in the repository root; records exit status, stdout, stderr and the
    /// files named in `wrote` (in the temp folder).
    fn cli(&mut self, name: &str, args: &[&str], wrote: &[&str]) {
        let out = Command::new(env!("CARGO_BIN_EXE_wangge"))
            .args(args)
            .current_dir(repo())
            .env_remove("DATABASE_URL")
            .env_remove("WANGGE_TOKEN")
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let mut text = format!(
            "$ wangge {}\n--- exit {:?}\n--- stdout\n{}--- stderr\n{}",
            args.join(" "),
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        for f in wrote {
            let bytes = std::fs::read(self.tmp.path().join(f)).unwrap_or_default();
            text.push_str(&format!("--- file {f}: {}\n", digest(&bytes)));
        }
        self.record(name, text);
    }

    fn check(self) {
        let dir = repo().join("api/tests/golden");
        let update = std::env::var_os("GOLDEN_UPDATE").is_some();
        if update {
            std::fs::create_dir_all(&dir).unwrap();
        }
        let mut differ = Vec::new();
        for (name, text) in &self.cases {
            let path = dir.join(format!("{name}.txt"));
            if update {
                std::fs::write(&path, text).unwrap();
                continue;
            }
            let want = std::fs::read_to_string(&path).unwrap_or_default();
            if &want != text {
                let line = want
                    .lines()
                    .zip(text.lines())
                    .position(|(a, b)| a != b)
                    .unwrap_or(want.lines().count().min(text.lines().count()));
                let got = dir.join(format!("{name}.actual"));
                std::fs::write(&got, text).unwrap();
                differ.push(format!(
                    "{name}: first difference at line {} (wrote {})\n  want: {}\n  got:  {}",
                    line + 1,
                    got.display(),
                    want.lines().nth(line).unwrap_or("<end>"),
                    text.lines().nth(line).unwrap_or("<end>")
                ));
            }
        }
        if !update {
            let stale: Vec<String> = std::fs::read_dir(&dir)
                .unwrap()
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter_map(|f| f.strip_suffix(".txt").map(str::to_string))
                .filter(|f| !self.cases.contains_key(f))
                .collect();
            assert!(stale.is_empty(), "golden files no case writes: {stale:?}");
        }
        assert!(
            differ.is_empty(),
            "{} of {} golden outputs changed (GOLDEN_UPDATE=1 rewrites them once the change is meant):\n{}",
            differ.len(),
            self.cases.len(),
            differ.join("\n")
        );
    }
}

/// Length and 64-bit FNV-1a of bytes: enough to see that a file or body is the same.
fn digest(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{} bytes, fnv1a64 {h:016x}", bytes.len())
}

/// Masks what differs between runs: the temp folder, timestamps and elapsed seconds.
fn normalise(text: &str, tmp: &Path) -> String {
    let text = mask_json_times(&text.replace(tmp.to_str().unwrap(), "<TMP>"));
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let digits = |from: usize| (from..c.len()).take_while(|&k| c[k].is_ascii_digit()).count();
    while i < c.len() {
        let starts_number = c[i].is_ascii_digit() && (i == 0 || !(c[i - 1].is_ascii_alphanumeric() || c[i - 1] == '.'));
        if starts_number {
            // 2026-12-04T23:42:38.758Z and 2026-12-04 23:42:38
            let shape = "dddd-dd-ddTdd:dd:dd";
            let is_time = c.len() >= i + shape.len()
                && shape.chars().enumerate().all(|(k, s)| match s {
                    'd' => c[i + k].is_ascii_digit(),
                    'T' => c[i + k] == 'T' || c[i + k] == ' ',
                    s => c[i + k] == s,
                });
            if is_time {
                let mut j = i + shape.len();
                if j < c.len() && c[j] == '.' {
                    j += 1 + digits(j + 1);
                }
                if j < c.len() && c[j] == 'Z' {
                    j += 1;
                }
                out.push_str("<TIME>");
                i = j;
                continue;
            }
            // An elapsed time: "0.05 s" or "12 ms", followed by no letter.
            let mut j = i + digits(i);
            if j < c.len() && c[j] == '.' && digits(j + 1) > 0 {
                j += 1 + digits(j + 1);
            }
            let unit = [" s", " ms"].into_iter().find(|unit| {
                let u: Vec<char> = unit.chars().collect();
                let ends = j + u.len();
                ends <= c.len() && c[j..ends] == u[..] && (ends == c.len() || !c[ends].is_alphanumeric())
            });
            match unit {
                Some(unit) => {
                    out.push_str("<T>");
                    out.push_str(unit);
                    i = j + unit.len();
                }
                None => {
                    out.extend(&c[i..j]);
                    i = j;
                }
            }
            continue;
        }
        out.push(c[i]);
        i += 1;
    }
    out
}

/// JSON members that hold a duration or an instant: `"…_s": 0.0011` and `"…_ms": 1796428200536`.
fn mask_json_times(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = ["_s\":", "_ms\":"]
        .iter()
        .filter_map(|m| rest.find(m).map(|i| (i, m.len())))
        .min()
    {
        let (i, len) = at;
        out.push_str(&rest[..i + len]);
        rest = &rest[i + len..];
        let space = rest.len() - rest.trim_start_matches(' ').len();
        out.push_str(&rest[..space]);
        rest = &rest[space..];
        let number = rest
            .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | 'e' | 'E' | '+')))
            .unwrap_or(rest.len());
        if number > 0 {
            out.push_str("<T>");
            rest = &rest[number..];
        }
    }
    out.push_str(rest);
    out
}

fn serve(store: &str, token_file: &str) -> (Server, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wangge"))
        .args([
            "serve",
            "--store",
            store,
            "--bind",
            "127.0.0.1:0",
            "--token-file",
            token_file,
        ])
        .current_dir(repo())
        .env_remove("DATABASE_URL")
        .env_remove("WANGGE_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
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
    std::thread::spawn(move || std::io::copy(&mut lines, &mut std::io::sink()));
    let addr = head.split("http://").nth(1).unwrap().split_whitespace().next().unwrap();
    (server, addr.trim_end_matches('/').to_string())
}

/// One HTTP/1.1 exchange; returns status, the headers that matter, and the body (de-chunked).
fn http(addr: &str, method: &str, path: &str, token: bool, body: Option<&str>) -> (u16, Vec<String>, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if token {
        req.push_str(&format!("Authorization: Bearer {TOKEN}\r\n"));
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
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut rest = raw[split + 4..].to_vec();
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
    {
        rest = dechunk(&rest);
    }
    let kept = headers
        .into_iter()
        .filter(|(k, _)| {
            [
                "content-type",
                "cache-control",
                "content-disposition",
                "www-authenticate",
            ]
            .contains(&k.as_str())
        })
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    (status, kept, rest)
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

impl Goldens {
    fn get(&mut self, addr: &str, name: &str, path: &str) {
        self.request(addr, name, "GET", path, false, None);
    }

    fn request(&mut self, addr: &str, name: &str, method: &str, path: &str, token: bool, body: Option<&str>) {
        let (status, headers, bytes) = http(addr, method, path, token, body);
        let textual = headers.iter().any(|h| {
            h.starts_with("content-type:") && (h.contains("json") || h.contains("text/") || h.contains("xml"))
        });
        let shown = if textual {
            String::from_utf8_lossy(&bytes).to_string()
        } else {
            digest(&bytes)
        };
        let text = format!(
            "{method} {path}{}\n--- status {status}\n{}\n--- body\n{shown}\n",
            body.map(|b| format!("\n{b}")).unwrap_or_default(),
            headers.join("\n")
        );
        self.record(name, text.replace(addr, "<ADDR>"));
    }
}

fn tile(lon: f64, lat: f64, z: u32) -> (u32, u32) {
    let n = f64::from(1u32 << z);
    let x = (lon + 180.0) / 360.0 * n;
    let y = (1.0 - lat.to_radians().tan().asinh() / std::f64::consts::PI) / 2.0 * n;
    (x as u32, y as u32)
}

#[test]
fn cli_and_http_outputs_are_byte_identical_to_the_goldens() {
    let mut g = Goldens::new();
    let (grids, micro, fixed, repart, moved) = (
        g.tmp("grids.geojson"),
        g.tmp("micro.geojson"),
        g.tmp("fixed.geojson"),
        g.tmp("repartitioned.geojson"),
        g.tmp("moved.geojson"),
    );
    let hand = "fixtures/layers/kangle-hand-drawn.geojson";

    g.cli("cli-inspect", &["inspect", "fixtures/kangle"], &[]);
    g.cli("cli-inspect-json", &["inspect", "fixtures/kangle", "--json"], &[]);
    g.cli("cli-inspect-zhongjing", &["inspect", "fixtures/zhongjing"], &[]);
    g.cli(
        "cli-partition",
        &["partition", "fixtures/kangle", "--out", &grids],
        &["grids.geojson"],
    );
    g.cli(
        "cli-partition-micro-json",
        &["partition", "fixtures/kangle", "--out", &micro, "--micro", "--json"],
        &["micro.geojson"],
    );
    let zj = g.tmp("zhongjing.geojson");
    g.cli(
        "cli-partition-zhongjing",
        &["partition", "fixtures/zhongjing", "--out", &zj, "--seed", "7"],
        &["zhongjing.geojson"],
    );
    g.cli("cli-validate-clean", &["validate", "fixtures/kangle", &grids], &[]);
    // Kangle grown: the first grid's buildings house 15% more people, so a re-partition must act.
    let grown = g.tmp("kangle-grown");
    let layer: Value = serde_json::from_str(&std::fs::read_to_string(&grids).unwrap()).unwrap();
    let ids = |k: usize| -> Vec<String> {
        layer["features"][k]["properties"]["buildings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    let (first, second_code) = (
        ids(0),
        layer["features"][1]["properties"]["code"].as_str().unwrap().to_string(),
    );
    std::fs::create_dir(&grown).unwrap();
    for f in std::fs::read_dir(repo().join("fixtures/kangle")).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, Path::new(&grown).join(f.file_name().unwrap())).unwrap();
    }
    let path = Path::new(&grown).join("buildings.geojson");
    let mut buildings: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for f in buildings["features"].as_array_mut().unwrap() {
        let p = f["properties"].as_object_mut().unwrap();
        if first.contains(&p["id"].as_str().unwrap().to_string()) {
            let pop = p["population"].as_u64().unwrap();
            p.insert("population".into(), (pop * 115 / 100 + 1).into());
            p.remove("households");
            p.remove("units");
        }
    }
    std::fs::write(&path, buildings.to_string()).unwrap();
    let moving = first[..3].join(",");
    g.cli("cli-validate-hand-drawn", &["validate", "fixtures/kangle", hand], &[]);
    let defects = g.tmp("defects.geojson");
    g.cli(
        "cli-validate-hand-drawn-json-fix",
        &[
            "validate",
            "fixtures/kangle",
            hand,
            "--json",
            "--geojson",
            &defects,
            "--fix",
            &fixed,
        ],
        &["defects.geojson", "fixed.geojson"],
    );
    let report = g.tmp("report.json");
    let staff = g.tmp("staff.json");
    let args = ["repartition", &grown, "--from", &grids, "--out", &repart];
    g.cli(
        "cli-repartition-grown",
        &[&args[..], &["--report", &report, "--staff-out", &staff]].concat(),
        &["repartitioned.geojson", "report.json", "staff.json"],
    );
    g.cli("cli-repartition-grown-json", &[&args[..], &["--json"]].concat(), &[]);
    let dup = g.tmp("dup.geojson");
    g.cli(
        "cli-repartition-from-duplicate-codes",
        &["repartition", "fixtures/kangle", "--from", &fixed, "--out", &dup],
        &[],
    );
    g.cli("cli-diff", &["diff", &grids, &repart, "--dataset", &grown], &[]);
    g.cli("cli-diff-json", &["diff", &grids, &repart, "--json"], &[]);
    let move_args = [
        "move",
        &grown,
        &grids,
        "--building",
        &moving,
        "--to",
        &second_code,
        "--out",
        &moved,
    ];
    g.cli("cli-move-refused", &move_args, &[]);
    g.cli(
        "cli-move-forced",
        &[&move_args[..], &["--force", "--report", &g.tmp("move.json")]].concat(),
        &["moved.geojson", "move.json"],
    );
    g.cli(
        "cli-move-bad-building",
        &[
            "move",
            &grown,
            &grids,
            "--building",
            "nope",
            "--to",
            &second_code,
            "--out",
            &moved,
        ],
        &[],
    );
    let csv = g.tmp("grids.csv");
    g.cli(
        "cli-export-csv",
        &[
            "export",
            &grids,
            "--format",
            "csv",
            "--out",
            &csv,
            "--dataset",
            "fixtures/kangle",
        ],
        &["grids.csv"],
    );
    let gcj = g.tmp("gcj.geojson");
    g.cli(
        "cli-export-gcj02",
        &["export", &grids, "--format", "geojson", "--out", &gcj, "--crs", "gcj02"],
        &["gcj.geojson"],
    );
    let osm = g.tmp("helsinki");
    g.cli(
        "cli-import-helsinki",
        &[
            "import",
            "fixtures/osm/Helsinki.osm.pbf",
            "--out",
            &osm,
            "--community-code",
            "999999001001",
            "--community-name",
            "Helsinki",
        ],
        &["helsinki/buildings.geojson"],
    );
    g.cli(
        "cli-import-missing",
        &["import", "fixtures/nope.shp", "--out", &g.tmp("nope")],
        &[],
    );
    g.cli(
        "cli-validate-missing-layer",
        &["validate", "fixtures/kangle", "fixtures/nope.geojson"],
        &[],
    );

    // A store: load (publishes v1), versions, a re-partition draft, publish, rollback.
    let store = g.tmp("w.db");
    g.cli(
        "cli-load",
        &[
            "load",
            "fixtures/kangle",
            "--store",
            &store,
            "--note",
            "first",
            "--micro",
        ],
        &[],
    );
    g.cli(
        "cli-load-again",
        &["load", &grown, "--store", &store, "--note", "again"],
        &[],
    );
    g.cli("cli-versions", &["versions", "--store", &store], &[]);
    g.cli(
        "cli-publish",
        &["publish", "2", "--note", "second", "--store", &store],
        &[],
    );
    g.cli("cli-rollback", &["rollback", "1", "--store", &store], &[]);
    g.cli(
        "cli-publish-missing",
        &["publish", "99", "--note", "x", "--store", &store],
        &[],
    );
    g.cli("cli-versions-after", &["versions", "--store", &store], &[]);

    // The service on that store.
    let token_file = g.tmp("token");
    std::fs::write(&token_file, TOKEN).unwrap();
    let (server, addr) = serve(&store, &token_file);
    let (x, y) = tile(118.1155, 24.5050, 15);
    let (x14, y14) = tile(118.1155, 24.5050, 14);
    for (name, path) in [
        ("http-healthz", "/healthz".to_string()),
        ("http-lookup", "/v1/lookup?lon=118.1155&lat=24.5050".to_string()),
        (
            "http-lookup-gcj02",
            "/v1/lookup?lon=118.1205&lat=24.5022&crs=gcj02".to_string(),
        ),
        ("http-lookup-outside", "/v1/lookup?lon=100&lat=20".to_string()),
        ("http-lookup-bad", "/v1/lookup?lon=abc&lat=1".to_string()),
        (
            "http-lookup-address",
            "/v1/lookup?address=%E5%98%89%E7%A6%BE%E5%85%AC%E5%AF%932%E5%8F%B7%E6%A5%BC&limit=3".to_string(),
        ),
        (
            "http-nearest",
            "/v1/resources/nearest?lon=118.1155&lat=24.5050&kind=clinic,pharmacy&limit=3".to_string(),
        ),
        // 嘉禾: the compound, then its buildings in natural order.
        ("http-suggest", "/v1/suggest?q=%E5%98%89%E7%A6%BE&limit=4".to_string()),
        ("http-tilejson", "/tiles.json".to_string()),
        ("http-style", "/style.json".to_string()),
        ("http-tile-mvt-z15", format!("/tiles/15/{x}/{y}.mvt")),
        ("http-tile-mvt-z14", format!("/tiles/14/{x14}/{y14}.mvt")),
        // z14: no compound names yet, so the bytes do not depend on whether a CJK font is installed.
        ("http-tile-png-z14", format!("/tiles/14/{x14}/{y14}.png")),
        ("http-tile-bad", "/tiles/99/0/0.mvt".to_string()),
        // Version 3 is served: its tiles at their immutable URLs; version 2's are gone.
        ("http-tile-versioned", format!("/v/3/tiles/15/{x}/{y}.mvt")),
        ("http-tile-version-gone", format!("/v/2/tiles/15/{x}/{y}.mvt")),
        ("http-sprite-json", "/sprites/sprite.json".to_string()),
        ("http-versions", "/v1/versions".to_string()),
        ("http-version-grids", "/v1/versions/1/grids".to_string()),
        ("http-version-diff", "/v1/versions/1/diff/2".to_string()),
        ("http-staff", "/v1/grids/350206001017001/staff".to_string()),
        ("http-ogc-landing", "/?f=json".to_string()),
        ("http-ogc-collections", "/collections".to_string()),
        ("http-ogc-items", "/collections/grids/items?limit=2".to_string()),
        (
            "http-ogc-items-bbox",
            "/collections/buildings/items?bbox=118.114,24.504,118.116,24.506&limit=3".to_string(),
        ),
        (
            "http-access-grid",
            "/v1/access?grid=350206001017001&kind=clinic,school".to_string(),
        ),
        ("http-access-unknown-kind", "/v1/access?kind=bogus".to_string()),
        ("http-openapi", "/openapi.json".to_string()),
        ("http-unknown", "/nope".to_string()),
    ] {
        g.get(&addr, name, &path);
    }
    g.request(
        &addr,
        "http-lookup-batch",
        "POST",
        "/v1/lookup",
        false,
        Some(r#"{"items":[{"lon":118.1155,"lat":24.505},{"address":"嘉禾公寓"},{"lon":200,"lat":1}]}"#),
    );
    // Planner steps over HTTP.
    g.request(&addr, "http-auth-missing", "GET", "/v1/auth", false, None);
    g.request(&addr, "http-datasets", "GET", "/v1/datasets", true, None);
    g.request(
        &addr,
        "http-partition",
        "POST",
        "/v1/datasets/1/partition",
        true,
        Some(r#"{"seed":3}"#),
    );
    g.request(
        &addr,
        "http-repartition",
        "POST",
        "/v1/datasets/2/repartition",
        true,
        Some("{}"),
    );
    g.request(&addr, "http-drafts", "GET", "/v1/drafts", true, None);
    g.request(&addr, "http-draft", "GET", "/v1/drafts/4", true, None);
    g.request(&addr, "http-draft-grids", "GET", "/v1/drafts/4/grids", true, None);
    g.request(&addr, "http-draft-diff", "GET", "/v1/drafts/4/diff", true, None);
    g.request(
        &addr,
        "http-draft-validate",
        "POST",
        "/v1/drafts/4/validate",
        true,
        None,
    );
    let layer = std::fs::read_to_string(repo().join(hand)).unwrap();
    g.request(
        &addr,
        "http-validate-upload",
        "POST",
        "/v1/validate",
        true,
        Some(&format!(r#"{{"layer":{layer}}}"#)),
    );
    g.request(
        &addr,
        "http-move-refused",
        "POST",
        "/v1/move",
        true,
        Some(&format!(
            r#"{{"draft":4,"buildings":{},"to":"{second_code}"}}"#,
            serde_json::json!(first[..3])
        )),
    );
    g.request(
        &addr,
        "http-move-forced",
        "POST",
        "/v1/move",
        true,
        Some(&format!(
            r#"{{"draft":4,"buildings":{},"to":"{second_code}","force":true}}"#,
            serde_json::json!(first[..3])
        )),
    );
    g.request(
        &addr,
        "http-move-unknown",
        "POST",
        "/v1/move",
        true,
        Some(r#"{"draft":4,"buildings":["nope"],"to":"350206001017001"}"#),
    );
    g.request(
        &addr,
        "http-publish",
        "POST",
        "/v1/drafts/4/publish",
        true,
        Some(r#"{"note":"from http"}"#),
    );
    g.request(
        &addr,
        "http-rollback",
        "POST",
        "/v1/versions/1/rollback",
        true,
        Some(r#"{"note":"back"}"#),
    );
    g.request(
        &addr,
        "http-staff-put",
        "PUT",
        "/v1/grids/350206001017001/staff",
        true,
        Some(r#"[{"name":"王小明","role":"网格长","phone":"13800000000"}]"#),
    );
    g.request(
        &addr,
        "http-publish-missing",
        "POST",
        "/v1/drafts/99/publish",
        true,
        Some(r#"{"note":"x"}"#),
    );
    drop(server);
    g.check();
}
