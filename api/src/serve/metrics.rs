//! `/metrics` in the Prometheus text format: requests by route and status, request time, tile
//! renders and cache hits, the version served and how long its snapshot took to build.

use super::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Status → (requests, seconds spent).
type ByStatus = BTreeMap<u16, (u64, f64)>;

#[derive(Default)]
pub(crate) struct Metrics {
    /// route → status → (requests, seconds spent). Nested so that counting a request to a
    /// route seen before allocates nothing.
    requests: Mutex<BTreeMap<String, ByStatus>>,
    pub tile_renders: AtomicU64,
    pub tile_cache_hits: AtomicU64,
}

/// Middleware: counts every request under its route template (not its path, which is unbounded).
pub(crate) async fn count(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().cloned();
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    let started = Instant::now();
    let res = next.run(req).await;
    state
        .metrics
        .record(route, res.status().as_u16(), started.elapsed().as_secs_f64());
    res
}

impl Metrics {
    /// Counts one request to `route` answered with `status` in `seconds`.
    pub(crate) fn record(&self, route: &str, status: u16, seconds: f64) {
        let mut map = self.requests.lock().expect("metrics lock");
        if !map.contains_key(route) {
            map.insert(route.to_string(), BTreeMap::new());
        }
        let by_status = map.get_mut(route).expect("inserted above");
        let e = by_status.entry(status).or_default();
        e.0 += 1;
        e.1 += seconds;
    }
}

/// Prometheus metrics: requests by route and status, time spent, tile renders and cache hits,
/// the version served.
#[utoipa::path(get, path = "/metrics", tag = "service", responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub(crate) async fn render(State(state): State<Arc<AppState>>) -> Response {
    let m = &state.metrics;
    let mut out = String::new();
    out.push_str("# HELP wangge_http_requests_total HTTP requests by route and status.\n# TYPE wangge_http_requests_total counter\n");
    let map = m.requests.lock().expect("metrics lock").clone();
    for (route, by_status) in &map {
        for (status, (n, _)) in by_status {
            let _ = writeln!(
                out,
                "wangge_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
    }
    out.push_str("# HELP wangge_http_request_seconds_total Time spent answering, by route.\n# TYPE wangge_http_request_seconds_total counter\n");
    for (route, by_status) in &map {
        let s: f64 = by_status.values().map(|(_, s)| s).sum();
        let _ = writeln!(out, "wangge_http_request_seconds_total{{route=\"{route}\"}} {s:.6}");
    }
    let _ = writeln!(
        out,
        "# HELP wangge_tile_renders_total Tiles rendered (cache misses).\n# TYPE wangge_tile_renders_total counter\nwangge_tile_renders_total {}",
        m.tile_renders.load(Ordering::Relaxed)
    );
    let _ = writeln!(
        out,
        "# HELP wangge_tile_cache_hits_total Tiles answered from the cache.\n# TYPE wangge_tile_cache_hits_total counter\nwangge_tile_cache_hits_total {}",
        m.tile_cache_hits.load(Ordering::Relaxed)
    );
    let served = state.current();
    let _ = writeln!(
        out,
        "# HELP wangge_version The published version served (0: none).\n# TYPE wangge_version gauge\nwangge_version {}",
        served.version.unwrap_or(0)
    );
    let _ = writeln!(
        out,
        "# HELP wangge_grids Grids and micro-grids served.\n# TYPE wangge_grids gauge\nwangge_grids {}",
        served.grids.len()
    );
    let _ = writeln!(
        out,
        "# HELP wangge_snapshot_index_seconds Seconds spent indexing the version served (lookup index, map data, features).\n# TYPE wangge_snapshot_index_seconds gauge\nwangge_snapshot_index_seconds {:.6}",
        served.index_seconds
    );
    if let Some(s) = served.load_seconds {
        let _ = writeln!(
            out,
            "# HELP wangge_snapshot_load_seconds Seconds from asking the store for the version served to serving it (reading, checking, indexing).\n# TYPE wangge_snapshot_load_seconds gauge\nwangge_snapshot_load_seconds {s:.6}"
        );
    }
    let mut r = out.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    r
}
