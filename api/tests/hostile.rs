//! Hostile requests, table-driven: injection strings in every documented parameter, path
//! traversal, absurd tile numbers, NaN and infinite coordinates, huge and deeply nested bodies,
//! wrong content types, a body that trickles in. Every answer is a 4xx (413 or 408 where that is
//! the point) with a problem body, never a 5xx or a panic, and nothing is stored.

use crate::common;

use api::serve::Limits;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::{TOKEN, call, service};
use std::time::Duration;
use tower::ServiceExt;

const NASTY: &[&str] = &[
    "' OR '1'='1",
    "1; DROP TABLE versions; --",
    "\" OR 1=1 --",
    "1 UNION SELECT code FROM grids",
    "'); DELETE FROM staff; --",
    "../../../../etc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "%00",
    "NaN",
    "inf",
    "-inf",
    "1e309",
    "99999999999999999999999",
    "-1",
    "<script>alert(1)</script>",
    "\u{202e}\u{0000}",
    "🙂🙂🙂",
];

fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

async fn send(app: &axum::Router, req: Request<Body>) -> (StatusCode, String) {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let ct = res
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or("").to_string())
        .unwrap_or_default();
    let _ = axum::body::to_bytes(res.into_body(), 256 << 20).await;
    (status, ct)
}

fn assert_refused(what: &str, status: StatusCode, ct: &str) {
    assert!(status.is_client_error(), "{what}: {status}");
    assert_eq!(
        ct, "application/problem+json",
        "{what}: {status} without a problem body"
    );
}

#[tokio::test]
async fn injection_strings_in_every_documented_parameter() {
    let (app, _, store, _dir) = service(Limits::default()).await;
    let (_, doc) = call(&app, Method::GET, "/openapi.json", None, None).await;
    let mut tried = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            for p in &params {
                let name = p["name"].as_str().unwrap();
                for nasty in NASTY {
                    // Every other path parameter gets a harmless value; this one the nasty one.
                    let mut uri = path.clone();
                    let mut query = Vec::new();
                    for q in &params {
                        let n = q["name"].as_str().unwrap();
                        let v = if n == name { enc(nasty) } else { "1".to_string() };
                        if q["in"] == "path" {
                            uri = uri.replace(&format!("{{{n}}}"), &v);
                        } else if n == name {
                            query.push(format!("{n}={v}"));
                        }
                    }
                    if !query.is_empty() {
                        uri = format!("{uri}?{}", query.join("&"));
                    }
                    let m: Method = method.to_uppercase().parse().unwrap();
                    let res = app.clone().oneshot(
                        Request::builder()
                            .method(m)
                            .uri(&uri)
                            .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
                            .header(header::CONTENT_TYPE, "application/json")
                            .body(Body::from("{}"))
                            .unwrap(),
                    );
                    let res = res.await.unwrap();
                    let status = res.status();
                    assert!(!status.is_server_error(), "{method} {uri}: {status}");
                    tried += 1;
                }
            }
        }
    }
    assert!(tried > 200, "only {tried} requests");
    // Whatever they were, they changed nothing but what a planner may (a rollback adds a version
    // only for a real version number, and none of these is one).
    assert_eq!(store.datasets().await.unwrap().len(), 1);
    assert_eq!(store.versions().await.unwrap().len(), 1);
    assert!(store.drafts().await.unwrap().is_empty());
}

#[tokio::test]
async fn traversal_absurd_tiles_and_bad_coordinates() {
    let (app, _, _, _dir) = service(Limits::default()).await;
    for uri in [
        "/tiles/../../etc/passwd",
        "/tiles/0/0/..%2F..%2Fetc%2Fpasswd",
        "/tiles/99999999999/1/1.mvt",
        "/tiles/30/1/1.mvt",
        "/tiles/3/9/1.png",
        "/tiles/-1/0/0.mvt",
        "/tiles/1/1/1.exe",
        "/fonts/..%2F..%2Fetc/0-255.pbf",
        "/fonts/DejaVu%20Sans%20Book/0-99999999.pbf",
        "/fonts/DejaVu%20Sans%20Book/255-0.pbf",
        "/sprites/..%2F..%2Fetc%2Fpasswd",
        "/sprites/sprite@3x.png",
        "/map/..%2F..%2Fetc%2Fpasswd.png",
        "/map/350206001017.jpg",
        "/v1/lookup",
        "/v1/lookup?lon=NaN&lat=24.5",
        "/v1/lookup?lon=inf&lat=24.5",
        "/v1/lookup?lon=118.1&lat=1e400",
        "/v1/lookup?lon=500&lat=24.5",
        "/v1/lookup?lon=118.1&lat=-91",
        "/v1/lookup?lon=118.1",
        "/v1/lookup?lon=abc&lat=def",
        "/v1/lookup?lon=118.1&lat=24.5&crs=epsg:3857",
        "/v1/lookup?address=",
        "/v1/resources/nearest?lon=NaN&lat=1",
        "/v1/resources/nearest?lon=118.1&lat=24.5&radius=-5",
        "/v1/resources/nearest?lon=118.1&lat=24.5&limit=-1",
        "/v1/versions/abc/grids",
        "/v1/versions/99999999999999999999999/grids",
        "/v1/versions/1/diff/-1",
        "/nope/../../etc/passwd",
    ] {
        let (status, ct) = send(&app, Request::get(uri).body(Body::empty()).unwrap()).await;
        assert_refused(uri, status, &ct);
    }
    // A huge address is an answer or a refusal, not a crash.
    let long = "康乐".repeat(1_500);
    let (status, _) = send(
        &app,
        Request::get(format!("/v1/lookup?address={}", enc(&long)))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(!status.is_server_error(), "{status}");
}

#[tokio::test]
async fn huge_nested_and_mistyped_bodies() {
    let (app, _, store, _dir) = service(Limits::default()).await;
    let auth = format!("Bearer {TOKEN}");
    let big = vec![b'['; 100 << 20];
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_obj = format!("{{\"items\":{}1{}}}", "[".repeat(5000), "]".repeat(5000));
    // (method, path, content type, body, with the token, expected status)
    type Case<'a> = (&'a str, &'a str, &'a str, Vec<u8>, bool, StatusCode);
    let cases: Vec<Case> = vec![
        (
            "POST",
            "/v1/lookup",
            "application/json",
            big.clone(),
            false,
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "POST",
            "/v1/datasets",
            "application/json",
            big.clone(),
            true,
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "POST",
            "/v1/datasets",
            "application/json",
            big,
            false,
            StatusCode::UNAUTHORIZED,
        ),
        (
            "POST",
            "/v1/lookup",
            "application/json",
            deep.clone().into_bytes(),
            false,
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST",
            "/v1/lookup",
            "application/json",
            deep_obj.into_bytes(),
            false,
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST",
            "/v1/datasets",
            "application/json",
            deep.into_bytes(),
            true,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "POST",
            "/v1/lookup",
            "text/plain",
            b"{\"items\":[]}".to_vec(),
            false,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "POST",
            "/v1/lookup",
            "application/x-www-form-urlencoded",
            b"items=1".to_vec(),
            false,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        // An empty form: no boundary.geojson.
        (
            "POST",
            "/v1/datasets",
            "multipart/form-data; boundary=x",
            b"--x--".to_vec(),
            true,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "POST",
            "/v1/datasets",
            "multipart/form-data",
            b"--x--".to_vec(),
            true,
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST",
            "/v1/datasets",
            "multipart/form-data; boundary=x",
            b"--x\r\nContent-Disposition: form-data; name=\"buildings.geojson\"\r\n\r\n{\"type\":".to_vec(),
            true,
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST",
            "/v1/datasets",
            "text/plain",
            b"{}".to_vec(),
            true,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "POST",
            "/v1/lookup",
            "application/json",
            b"\xff\xfe not utf-8".to_vec(),
            false,
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST",
            "/v1/lookup",
            "application/json",
            b"{\"items\": [{\"lon\": 1e999, \"lat\": 1}]}".to_vec(),
            false,
            StatusCode::BAD_REQUEST,
        ),
        (
            "PUT",
            "/v1/grids/350206001017001/staff",
            "application/json",
            b"{\"name\": 1}".to_vec(),
            true,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "DELETE",
            "/v1/versions",
            "application/json",
            Vec::new(),
            true,
            StatusCode::METHOD_NOT_ALLOWED,
        ),
    ];
    for (method, uri, ct, body, with_token, expected) in cases {
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::CONTENT_TYPE, ct);
        if with_token {
            req = req.header(header::AUTHORIZATION, &auth);
        }
        let (status, rct) = send(&app, req.body(Body::from(body)).unwrap()).await;
        assert_eq!(status, expected, "{method} {uri} ({ct})");
        if status != StatusCode::METHOD_NOT_ALLOWED {
            assert_eq!(rct, "application/problem+json", "{method} {uri}");
        }
    }
    // A batch over 10,000 items is refused whole.
    let items: Vec<_> = (0..10_001)
        .map(|_| serde_json::json!({"lon": 118.11, "lat": 24.505}))
        .collect();
    let (status, _) = call(
        &app,
        Method::POST,
        "/v1/lookup",
        None,
        Some(serde_json::json!({ "items": items })),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(store.datasets().await.unwrap().len(), 1, "nothing stored");
}

#[tokio::test]
async fn a_body_that_trickles_in_times_out_with_408() {
    let limits = Limits {
        read_timeout: Duration::from_millis(500),
        planner_timeout: Duration::from_millis(500),
        ..Limits::default()
    };
    let (app, _, store, _dir) = service(limits).await;
    for (uri, token) in [("/v1/lookup", None), ("/v1/datasets", Some(TOKEN))] {
        let chunks = futures_stream();
        let mut req = Request::post(uri).header(header::CONTENT_TYPE, "application/json");
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let (status, ct) = send(&app, req.body(Body::from_stream(chunks)).unwrap()).await;
        assert_eq!(status, StatusCode::REQUEST_TIMEOUT, "{uri}");
        assert_eq!(ct, "application/problem+json");
    }
    assert_eq!(store.datasets().await.unwrap().len(), 1);
}

/// One byte now, the rest much later.
fn futures_stream() -> impl futures_core::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + 'static {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    tokio::spawn(async move {
        let _ = tx.send(Ok(b"{".to_vec())).await;
        tokio::time::sleep(Duration::from_secs(5)).await;
        let _ = tx.send(Ok(b"}".to_vec())).await;
    });
    tokio_stream_from(rx)
}

fn tokio_stream_from(
    mut rx: tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>,
) -> impl futures_core::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    struct S(tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>);
    impl futures_core::Stream for S {
        type Item = Result<Vec<u8>, std::io::Error>;
        fn poll_next(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Self::Item>> {
            self.0.poll_recv(cx)
        }
    }
    let _ = &mut rx;
    S(rx)
}
