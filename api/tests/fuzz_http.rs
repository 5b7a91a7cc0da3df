//! Fuzz target for the service's request parsing: arbitrary paths, query strings, methods,
//! headers and small bodies against the router in process (Kangle published in a store, as
//! `wangge serve` runs it). Every answer must be below 500, an error answer a problem body,
//! and no request may panic or hang.
//!
//! Requests follow the documented routes — tile paths, lookup and nearest parameters, OGC
//! `items?bbox=&limit=&offset=`, batch lookup bodies — with hostile values in every slot
//! (huge and negative numbers, NaN, percent-escapes, injection strings, wrong-arity bboxes);
//! proptest shrinks a failure to its simplest request.
//!
//! - `corpus_http_replays` replays `fuzz/corpus/http/requests.jsonl` in CI.
//! - `fuzz_http_queries` is the long run (`#[ignore]`; `FUZZ_SECONDS`, `FUZZ_SAVE=1` as in
//!   gis-core's `tests/fuzz.rs`); see RELIABILITY.md.

use crate::common;
use crate::fuzz_support;

use api::serve::Limits;
use axum::body::Body;
use axum::http::{Request, header};
use fuzz_support::*;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;
use tower::ServiceExt;

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Req {
    method: String,
    uri: String,
    #[serde(default)]
    content_type: Option<String>,
    #[serde(default)]
    authorization: Option<String>,
    #[serde(default)]
    body: Option<String>,
}

/// The route templates: `{}` are filled with fuzzed segments.
const TEMPLATES: &[&str] = &[
    "/",
    "/healthz",
    "/metrics",
    "/openapi.json",
    "/tiles.json",
    "/style.json",
    "/tiles/{}/{}/{}",
    "/fonts/{}/{}",
    "/sprites/{}",
    "/map/{}",
    "/v1/lookup",
    "/v1/suggest",
    "/v1/resources/nearest",
    "/conformance",
    "/collections",
    "/collections/{}",
    "/collections/{}/items",
    "/collections/{}/items/{}",
    "/v1/versions",
    "/v1/versions/{}/grids",
    "/v1/versions/{}/diff/{}",
    "/v1/grids/{}/staff",
    "/v1/drafts/{}",
    "/v1/auth",
    "/{}",
    "/{}/{}/{}/{}",
];

const VALUES: &[&str] = &[
    "",
    "0",
    "-1",
    "1",
    "16",
    "22",
    "23",
    "255",
    "4294967296",
    "18446744073709551616",
    "-9223372036854775809",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "Infinity",
    "1e400",
    "1e-400",
    "-0",
    "0x10",
    "1_000",
    " 1",
    "1 ",
    "１",
    "+5",
    "118.1148",
    "24.5060",
    "118.1148,24.5060",
    "wgs84",
    "gcj02",
    "bd09",
    "WGS84",
    "json",
    "geojson",
    "html",
    "basic",
    "exclusive",
    "school",
    "clinic",
    "market",
    "350206001017",
    "350206001017001",
    "350206001017001001",
    "KL-B0001",
    "湖里区康乐社区嘉禾公寓1号楼",
    "嘉禾",
    "'; DROP TABLE grids; --",
    "../../etc/passwd",
    "..",
    ".",
    "%00",
    "%ff",
    "%",
    "%%",
    "%2e%2e%2f",
    "%2F",
    "a%20b",
    "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
    "EPSG:4326",
    "communities",
    "grids",
    "micro_grids",
    "buildings",
    "resources",
    "0-255.pbf",
    "65280-65535.pbf",
    "-1-255.pbf",
    "0-256.pbf",
    "Noto Sans Regular",
    "sprite.json",
    "sprite@2x.png",
    "sprite.png",
    "350206001017.png",
    "1.mvt",
    "1.png",
    "1@2x.png",
    "1@3x.png",
    "1.pbf",
    "28164.mvt",
    "28164@2x.png",
];

const KEYS: &[&str] = &[
    "bbox",
    "limit",
    "offset",
    "f",
    "bbox-crs",
    "community",
    "kind",
    "lon",
    "lat",
    "crs",
    "address",
    "candidates",
    "radius",
    "datetime",
    "x",
    "",
    "LIMIT",
    "limit[]",
    "q",
];

const CHARS: &[char] = &[
    'a', 'Z', '0', '9', '-', '.', '_', '~', '%', '/', '?', '#', '&', '=', '+', ',', ';', ' ', '"', '\'', '<', '>',
    '\\', '网', '\u{0}', '\u{7f}', '\u{202e}', '😀',
];

/// Longitude and latitude as tile numbers at zoom z (web mercator).
fn tile(lon: f64, lat: f64, z: u32) -> (u64, u64) {
    let n = f64::from(2u32.pow(z.min(30)));
    let x = (lon + 180.0) / 360.0 * n;
    let y = (1.0 - lat.to_radians().tan().asinh() / std::f64::consts::PI) / 2.0 * n;
    (x as u64, y as u64)
}

fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| f.to_string()),
        (118.09..118.14f64).prop_map(|f| f.to_string()),
        (24.49..24.52f64).prop_map(|f| f.to_string()),
        (-1e6..1e6f64).prop_map(|f| format!("{f:e}")),
    ]
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(VALUES).prop_map(String::from),
        4 => number(),
        // bbox-like lists of 0–7 numbers, mostly 4.
        3 => prop_oneof![prop::collection::vec(number(), 4), prop::collection::vec(number(), 0..8)].prop_map(|v| v.join(",")),
        // A valid-looking bbox around Kangle, sometimes inverted.
        2 => (118.09..118.14f64, 24.49..24.52f64, -0.02..0.02f64, -0.02..0.02f64).prop_map(|(x, y, w, h)| format!("{x},{y},{},{}", x + w, y + h)),
        // Kangle's tile at zoom z, y with an extension.
        3 => (0u32..25, -2i64..3, prop::sample::select(&[".mvt", ".png", "@2x.png", ".pbf", ""][..])).prop_map(|(z, d, ext)| {
            let (x, y) = tile(118.1148, 24.5060, z);
            format!("{}/{}/{}{ext}", z, x as i64 + d, y as i64 - d)
        }),
        2 => prop::collection::vec(prop::sample::select(CHARS), 0..16).prop_map(|c| c.into_iter().collect()),
        1 => Just("x".repeat(5000)),
    ]
}

/// Percent-encodes everything but RFC 3986 unreserved characters (and `,` in values).
fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~,".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn query() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::collection::vec((prop::sample::select(KEYS), value(), any::<bool>()), 0..5).prop_map(|pairs| {
            pairs.into_iter().map(|(k, v, raw)| format!("{}={}", encode(k), if raw { v } else { encode(&v) })).collect::<Vec<_>>().join("&")
        }),
        1 => prop::sample::select(&["&&&", "=", "a=b=c", "%zz", "bbox", "limit=1&limit=2", "limit", "lon=1&lon=2&lat=3", "f=json&f=json", "?", "bbox=,,,", "offset=18446744073709551615&limit=1"][..]).prop_map(String::from),
    ]
}

fn body() -> impl Strategy<Value = Option<String>> {
    let item = prop_oneof![
        (number(), number()).prop_map(|(x, y)| json!({"lon": x.parse::<f64>().ok(), "lat": y.parse::<f64>().ok()})),
        (118.09..118.14f64, 24.49..24.52f64).prop_map(|(x, y)| json!({"lon": x, "lat": y})),
        prop::sample::select(VALUES).prop_map(|a| json!({"address": a})),
        token().prop_map(|t| json!({"lon": format!("{t:?}")})),
        Just(json!(null)),
        Just(json!({})),
        Just(json!([1, 2])),
    ];
    let batch = (
        prop::collection::vec(item, 0..6),
        prop::option::of(prop::sample::select(VALUES)),
        prop::option::of(any::<i64>()),
        prop_oneof![3 => Just(0usize), 1 => Just(10_001usize)],
    )
        .prop_map(|(items, crs, candidates, many)| {
            let mut items = items;
            items.extend(std::iter::repeat_n(json!({"lon": 118.1148, "lat": 24.506}), many));
            let mut b = json!({"items": items});
            if let Some(c) = crs {
                b["crs"] = json!(c);
            }
            if let Some(n) = candidates {
                b["candidates"] = json!(n);
            }
            b
        });
    prop_oneof![
        2 => Just(None),
        4 => (batch, prop::collection::vec(edit(), 0..3), prop_oneof![3 => Just(vec![]), 1 => prop::collection::vec(text_edit(), 1..2)])
            .prop_map(|(b, edits, text)| Some(String::from_utf8_lossy(&mutate(&b, &edits, &text)).into_owned())),
        1 => prop::sample::select(&["", "{", "[]", "null", "{\"items\": 5}", "items=1", "\u{feff}{\"items\":[]}"][..]).prop_map(|s| Some(s.to_string())),
    ]
}

/// A dataset upload as a multipart form, with the planner token: parts named by dataset files,
/// `files`, `source` or anything; file names with paths, traversal and quotes; contents from
/// Kangle's boundary or hostile snippets; the form truncated or its boundary wrong.
fn upload() -> impl Strategy<Value = Req> {
    const NAMES: &[&str] = &[
        "boundary.geojson",
        "buildings.geojson",
        "staff.json",
        "files",
        "source",
        "notes",
        "",
        "bo\"undary",
        "../boundary.geojson",
    ];
    const FILES: &[&str] = &[
        "boundary.geojson",
        "buildings.geojson",
        "C:\\survey\\roads.geojson",
        "../../etc/passwd",
        "a\"b.geojson",
        "",
        "x/",
        "staff.json",
    ];
    let boundary =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/kangle/boundary.geojson"))
            .expect("fixture");
    let content = prop_oneof![
        3 => Just(boundary),
        2 => prop::sample::select(VALUES).prop_map(String::from),
        1 => prop::sample::select(&["", "{", "{\"type\":\"FeatureCollection\",\"features\":[]}", "\r\n--wangge", "--wangge--"][..]).prop_map(String::from),
    ];
    let part = (
        prop::sample::select(NAMES),
        prop::option::weighted(0.7, prop::sample::select(FILES)),
        content,
    );
    (
        prop::collection::vec(part, 0..5),
        prop_oneof![4 => Just(None), 1 => (0usize..4000).prop_map(Some)],
        prop_oneof![5 => Just("wangge"), 1 => Just("other"), 1 => Just("")],
    )
        .prop_map(|(parts, cut, declared)| {
            let mut body = String::new();
            for (name, file, text) in parts {
                body.push_str(&format!("--wangge\r\nContent-Disposition: form-data; name=\"{name}\""));
                if let Some(f) = file {
                    body.push_str(&format!("; filename=\"{f}\""));
                }
                body.push_str("\r\n\r\n");
                body.push_str(&text);
                body.push_str("\r\n");
            }
            body.push_str("--wangge--\r\n");
            if let Some(n) = cut {
                let mut n = n.min(body.len());
                while !body.is_char_boundary(n) {
                    n -= 1;
                }
                body.truncate(n);
            }
            let ct = if declared.is_empty() {
                "multipart/form-data".to_string()
            } else {
                format!("multipart/form-data; boundary={declared}")
            };
            Req {
                method: "POST".into(),
                uri: "/v1/datasets".into(),
                content_type: Some(ct),
                authorization: Some(format!("Bearer {}", common::TOKEN)),
                body: Some(body),
            }
        })
}

fn request() -> impl Strategy<Value = Req> {
    prop_oneof![12 => any_request(), 1 => upload()]
}

fn any_request() -> impl Strategy<Value = Req> {
    (
        prop_oneof![8 => Just("GET"), 3 => Just("POST"), 1 => Just("HEAD"), 1 => Just("PUT"), 1 => Just("DELETE"), 1 => Just("OPTIONS"), 1 => Just("PATCH")],
        // A quarter of requests go to /v1/lookup, so batch bodies (POST) are tried often.
        prop_oneof![3 => prop::sample::select(TEMPLATES), 1 => Just("/v1/lookup")],
        prop::collection::vec((value(), any::<bool>()), 4),
        prop::option::weighted(0.8, query()),
        prop::option::weighted(0.5, prop::sample::select(&["application/json", "text/plain", "application/json; charset=utf-16", "application/x-www-form-urlencoded", "multipart/form-data", "application/problem+json"][..])),
        prop::option::weighted(0.1, prop::sample::select(&["Bearer wrong", "Bearer ", "Basic YTpi", "bearer planner-secret", "Bearer planner-secret-0123456789x"][..])),
        body(),
    )
        .prop_map(|(method, template, segs, q, ct, auth, body)| {
            let mut uri = String::new();
            let mut segs = segs.into_iter();
            for (i, part) in template.split("{}").enumerate() {
                if i > 0 {
                    let (v, raw) = segs.next().expect("four segments");
                    uri.push_str(&if raw { v } else { encode(&v) });
                }
                uri.push_str(part);
            }
            if let Some(q) = q {
                uri.push('?');
                uri.push_str(&q);
            }
            Req { method: method.into(), uri, content_type: ct.map(String::from), authorization: auth.map(String::from), body }
        })
}

struct Service {
    rt: tokio::runtime::Runtime,
    app: axum::Router,
    _store: store::Store,
    _dir: tempfile::TempDir,
}

fn service() -> &'static Service {
    static S: OnceLock<Service> = OnceLock::new();
    S.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let (app, _, store, dir) = rt.block_on(common::service(Limits::default()));
        Service {
            rt,
            app,
            _store: store,
            _dir: dir,
        }
    })
}

/// Sends the request; answers the route template and status reached, or `None` when the
/// request is not one HTTP can carry (an invalid URI or method never reaches the router).
fn check(r: &Req) -> Option<String> {
    let s = service();
    let mut b = Request::builder()
        .method(r.method.as_str())
        .uri(r.uri.as_str())
        .header(header::HOST, "fuzz.example");
    if let Some(ct) = &r.content_type {
        b = b.header(header::CONTENT_TYPE, ct.as_str());
    }
    if let Some(a) = &r.authorization {
        b = b.header(header::AUTHORIZATION, a.as_str());
    }
    let req = b.body(Body::from(r.body.clone().unwrap_or_default())).ok()?;
    let (tx, rx) = std::sync::mpsc::channel();
    let app = s.app.clone();
    s.rt.spawn(async move {
        let res = app.oneshot(req).await.expect("the router is infallible");
        let status = res.status();
        let ct = res.headers().get(header::CONTENT_TYPE).map(|v| v.as_bytes().to_vec());
        let body = axum::body::to_bytes(res.into_body(), 256 << 20)
            .await
            .map(|b| b.to_vec());
        let _ = tx.send((status, ct, body));
    });
    // Waited for outside the runtime, so a handler stuck on both workers is still noticed.
    let (status, ct, body) = match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(x) => x,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            eprintln!("HANG: no answer within 60 s to {r:?}");
            std::process::abort();
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => panic!("the request task panicked: {r:?}"),
    };
    let body = body.expect("the body is readable");
    assert!(
        status.as_u16() < 500,
        "{status} for {r:?}: {}",
        String::from_utf8_lossy(&body)
    );
    if status.is_client_error() {
        assert_eq!(
            ct.as_deref(),
            Some(&b"application/problem+json"[..]),
            "{status} without a problem body for {r:?}"
        );
        if r.method != "HEAD" {
            let p: Value = serde_json::from_slice(&body).expect("a problem body is JSON");
            assert_eq!(p["status"], status.as_u16(), "{p}");
        }
    }
    let template = r
        .uri
        .split('?')
        .next()
        .unwrap_or("")
        .split('/')
        .take(3)
        .collect::<Vec<_>>()
        .join("/");
    Some(format!("{} {template} {}", r.method, status.as_u16()))
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/http/requests.jsonl")
}

fn entries() -> Vec<Req> {
    std::fs::read_to_string(corpus())
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("a corpus line is a request"))
        .collect()
}

#[test]
fn corpus_http_replays() {
    let entries = entries();
    assert!(
        entries.len() >= 50,
        "the HTTP corpus is committed ({} requests)",
        entries.len()
    );
    let mut reached = BTreeSet::new();
    for r in &entries {
        reached.extend(check(r));
    }
    // Successes and refusals both: the corpus reaches the handlers, not just the fallback.
    assert!(reached.iter().any(|s| s.ends_with(" 200")), "{reached:?}");
    assert!(reached.iter().any(|s| s.ends_with(" 400")), "{reached:?}");
    assert!(reached.len() >= 30, "{reached:?}");
}

#[test]
#[ignore = "long run: FUZZ_SECONDS=600 cargo test --release -p api --test integration -- --ignored fuzz_http::fuzz_http_queries"]
fn fuzz_http_queries() {
    static SEEN: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let seen = SEEN.get_or_init(Default::default);
    for r in entries() {
        seen.lock().unwrap().extend(check(&r));
    }
    let save = std::env::var("FUZZ_SAVE").is_ok_and(|v| v == "1");
    let cases = run_for(request, |r| {
        let got = std::panic::catch_unwind(|| check(&r)).map_err(|e| {
            TestCaseError::fail(
                e.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default(),
            )
        })?;
        let small = r.body.as_ref().is_none_or(|b| b.len() <= 4096) && r.uri.len() <= 2048;
        if let Some(site) = got
            && seen.lock().unwrap().insert(site)
            && save
            && small
        {
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(corpus())
                .expect("open the corpus");
            writeln!(f, "{}", serde_json::to_string(&r).expect("a request serialises")).expect("append");
        }
        Ok(())
    });
    eprintln!(
        "fuzz_http_queries: {cases} cases, {} (method, route, status) reached",
        seen.lock().unwrap().len()
    );
}
