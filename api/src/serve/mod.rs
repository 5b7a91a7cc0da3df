//! The HTTP service: map tiles (vector and raster), TileJSON, the MapLibre style and its glyphs and
//! sprites, the printable grid map, health. Everything is served from one [`Snapshot`] held
//! behind a lock; replacing it (a new version published) drops its tile cache with it.

mod access_routes;
mod auth;
pub mod features;
pub mod listen;
mod lookup_routes;
mod metrics;
pub mod oas30;
mod placard_routes;
mod planner_routes;
mod problem;
mod tiles_routes;
pub mod web;

use auth::BearerScheme;
pub use auth::{Token, TokenError};
pub use problem::Problem;

use crate::snapshot::Snapshot;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Json};
use axum::routing::get;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// How much the service accepts and how long it waits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest body of a planner request (an upload), bytes.
    pub max_upload: usize,
    /// Largest body of any other request (a batch lookup), bytes.
    pub max_body: usize,
    /// Longest a read request may take.
    pub read_timeout: Duration,
    /// Longest a planner request (a city's partition) may take.
    pub planner_timeout: Duration,
    /// Longest a client may take to send a request's head (line and headers); see [`listen`].
    pub header_timeout: Duration,
    /// Longest a kept-alive connection may sit with no request in flight and no byte either way.
    pub idle_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_upload: 64 << 20,
            max_body: 4 << 20,
            read_timeout: Duration::from_secs(30),
            planner_timeout: Duration::from_secs(900),
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
        }
    }
}

/// Shared state: the current snapshot; the store and the planner token when planners work
/// through this service.
pub struct AppState {
    snapshot: RwLock<Arc<Snapshot>>,
    pub(crate) metrics: metrics::Metrics,
    pub(crate) store: Option<store::Store>,
    pub(crate) token: Option<Token>,
    pub(crate) limits: Limits,
    /// The URL residents reach the service at, for links printed on paper (`--public-url`);
    /// unset: each request's own host.
    public_url: std::sync::OnceLock<String>,
    /// The version served before the current one, kept [`PREVIOUS_KEPT`] after the switch so that
    /// a client that read the old style finishes with the old version's tiles at their
    /// `/v/{version}/` URLs, rather than mixing versions on one screen.
    previous: RwLock<Option<Retired>>,
    /// Where planners write when this service reads a hot standby (`--primary-url`), named in
    /// the 503 a write gets here.
    primary_url: std::sync::OnceLock<String>,
}

/// How long the previous version stays served at its `/v/{version}/` URLs after a switch.
pub const PREVIOUS_KEPT: Duration = Duration::from_secs(300);

struct Retired {
    snapshot: Arc<Snapshot>,
    until: std::time::Instant,
}

/// Which role this service plays: it writes to its store (`primary`), reads a hot standby
/// (`replica`), or has no store (`standalone`).
pub fn role(state: &AppState) -> &'static str {
    match &state.store {
        None => "standalone",
        Some(s) if s.is_standby() => "replica",
        Some(_) => "primary",
    }
}

impl AppState {
    /// Serves `snapshot` alone: reads only, no planner endpoints.
    pub fn new(snapshot: Snapshot) -> Arc<Self> {
        Self::build(snapshot, None, None, Limits::default())
    }

    /// Serves a store's version; planner endpoints are open to `token` (none: refused).
    pub fn with_store(snapshot: Snapshot, store: store::Store, token: Option<Token>, limits: Limits) -> Arc<Self> {
        Self::build(snapshot, Some(store), token, limits)
    }

    fn build(snapshot: Snapshot, store: Option<store::Store>, token: Option<Token>, limits: Limits) -> Arc<Self> {
        Arc::new(Self {
            snapshot: RwLock::new(Arc::new(snapshot)),
            metrics: metrics::Metrics::default(),
            store,
            token,
            limits,
            public_url: std::sync::OnceLock::new(),
            previous: RwLock::new(None),
            primary_url: std::sync::OnceLock::new(),
        })
    }

    /// Names the primary (`https://planning.example.cn`) in the answer a planner's write gets
    /// on a replica.
    pub fn set_primary_url(&self, url: &str) {
        let _ = self.primary_url.set(url.trim_end_matches('/').to_string());
    }

    pub(crate) fn primary_url(&self) -> Option<&str> {
        self.primary_url.get().map(String::as_str)
    }

    /// Prints links under `url` (e.g. `https://wangge.example.cn`) rather than the request's host.
    pub fn set_public_url(&self, url: &str) {
        let _ = self.public_url.set(url.trim_end_matches('/').to_string());
    }

    pub(crate) fn public_url(&self) -> Option<&str> {
        self.public_url.get().map(String::as_str)
    }

    pub fn current(&self) -> Arc<Snapshot> {
        self.snapshot.read().expect("state lock").clone()
    }

    /// Serves new data from now on. The old snapshot stays served at its `/v/{version}/` URLs
    /// for [`PREVIOUS_KEPT`] when it was another version (a staff change reloads the same one);
    /// an older one goes when the last request reading it ends.
    pub fn replace(&self, snapshot: Snapshot) {
        let snapshot = Arc::new(snapshot);
        let old = std::mem::replace(&mut *self.snapshot.write().expect("state lock"), snapshot.clone());
        if old.version.is_some() && old.version != snapshot.version && old.unavailable.is_none() {
            *self.previous.write().expect("state lock") = Some(Retired {
                snapshot: old,
                until: std::time::Instant::now() + PREVIOUS_KEPT,
            });
        }
    }

    /// The snapshot of published version `version` if this service serves it: the current one,
    /// or the previous one within [`PREVIOUS_KEPT`] of the switch.
    pub fn served_version(&self, version: i64) -> Option<Arc<Snapshot>> {
        let current = self.current();
        if current.version == Some(version) && current.unavailable.is_none() {
            return Some(current);
        }
        let previous = self.previous.read().expect("state lock");
        previous
            .as_ref()
            .filter(|r| r.snapshot.version == Some(version) && r.until > std::time::Instant::now())
            .map(|r| r.snapshot.clone())
    }

    /// Lets the previous version's memory go once it is no longer served (called now and then).
    pub fn forget_expired(&self) {
        let mut previous = self.previous.write().expect("state lock");
        if previous.as_ref().is_some_and(|r| r.until <= std::time::Instant::now()) {
            *previous = None;
        }
    }
}

/// The base URL clients reach the service at, from the request's Host header.
pub(crate) fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1:8080");
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("http");
    format!("{proto}://{host}")
}

/// The OpenAPI document's fixed parts; every path in it comes from the routes themselves.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "wangge", description = "Grid (网格) partitioning and mapping service: map tiles, point and address lookup, nearest resources, OGC API – Features, and the planners' workflow (upload, partition, re-partition, validate, publish, roll back, staff)."),
    tags(
        (name = "service", description = "Health, metrics, this document"),
        (name = "tiles", description = "Vector and raster tiles, TileJSON, the MapLibre style, printable maps"),
        (name = "lookup", description = "Which grid covers a point or an address; nearest resources"),
        (name = "access", description = "Life circles (生活圈): per grid and community, who can walk to each kind of service within 5, 10 and 15 minutes"),
        (name = "versions", description = "Published versions, their grids and diffs; grid staff (public reads)"),
        (name = "planner", description = "The planners' workflow; needs `Authorization: Bearer <token>`"),
        (name = "features", description = "OGC API – Features (Part 1: core, GeoJSON, OpenAPI 3.0): communities, grids, micro-grids, buildings and resources"),
    ),
    modifiers(&BearerScheme),
)]
struct ApiDoc;

/// All routes, and the OpenAPI document generated from them (served at `/openapi.json`).
/// Reads and planner steps get their own body limits and timeouts.
pub fn routes(limits: Limits) -> (Router<Arc<AppState>>, utoipa::openapi::OpenApi) {
    use utoipa::OpenApi as _;
    let reads = OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(metrics::render))
        .merge(tiles_routes::routes())
        .merge(lookup_routes::routes())
        .merge(access_routes::routes())
        .merge(placard_routes::routes())
        .merge(features::routes())
        .merge(web::routes())
        .layer(axum::middleware::from_fn_with_state(limits.read_timeout, timeout))
        .layer(axum::extract::DefaultBodyLimit::max(limits.max_body));
    let planner = planner_routes::routes()
        .layer(axum::middleware::from_fn_with_state(limits.planner_timeout, timeout))
        .layer(axum::extract::DefaultBodyLimit::max(limits.max_upload));
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(reads)
        .merge(planner)
        .split_for_parts()
}

/// The API definition, serialised once, labelled with its OpenAPI version as OGC API – Common
/// asks; a handler for it.
fn openapi_doc(
    doc: &serde_json::Value,
    version: &'static str,
) -> impl Fn() -> std::future::Ready<axum::response::Response> + Clone + Send + Sync + 'static {
    let body = axum::body::Bytes::from(serde_json::to_vec(doc).expect("the OpenAPI document serialises"));
    let kind = axum::http::HeaderValue::from_str(&format!("application/vnd.oai.openapi+json;version={version}"))
        .expect("a valid header value");
    move || std::future::ready(([(axum::http::header::CONTENT_TYPE, kind.clone())], body.clone()).into_response())
}

/// Answers 408 with a problem body when a request (reading its body included) takes too long.
async fn timeout(
    State(limit): State<Duration>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => Problem::new(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            "Request timeout",
            format!("the request took longer than {} s", limit.as_secs()),
        )
        .into_response(),
    }
}

pub fn router(state: Arc<AppState>) -> Router {
    let (routes, api) = routes(state.limits);
    let api = serde_json::to_value(&api).expect("the OpenAPI document serialises");
    let api30 = oas30::from_31(api.clone());
    routes
        .route("/openapi.json", get(openapi_doc(&api, "3.1")))
        .route("/openapi-3.0.json", get(openapi_doc(&api30, "3.0")))
        .fallback(|| async { Problem::not_found("no such resource; see /openapi.json") })
        .layer(axum::middleware::from_fn_with_state(state.clone(), require_data))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            replica_refuses_writes,
        ))
        .layer(axum::middleware::from_fn(problem::ensure_problem))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::count))
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(
            tower_http::cors::CorsLayer::new()
                .allow_origin(tower_http::cors::Any)
                .allow_methods([axum::http::Method::GET]),
        )
        .layer(axum::middleware::from_fn_with_state(state.clone(), fast_lookup))
        .with_state(state)
}

/// Middleware, outermost: answers the common point lookup (`GET /v1/lookup?lon=..&lat=..`,
/// nothing else in the query, no `Accept-Encoding`) directly, with exactly the status, headers,
/// body and metrics the full stack gives it (tested against it), at a fraction of the cost; the
/// lookup itself is sub-microsecond, so the stack was most of a request's time. Anything else,
/// and a snapshot with nothing to serve, goes through the stack.
async fn fast_lookup(
    State(state): State<Arc<AppState>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if req.method() == axum::http::Method::GET
        && req.uri().path() == "/v1/lookup"
        && !req.headers().contains_key(header::ACCEPT_ENCODING)
        && let Some(at) = req.uri().query().and_then(lookup_routes::plain_point)
    {
        let started = std::time::Instant::now();
        let served = state.current();
        if served.unavailable.is_none() {
            // A bad point (400) goes through the stack, which words it.
            let answer = match lookup_routes::point_answer(&served, at, gis_core::crs::Crs::Wgs84) {
                Ok(res) => Some(res),
                Err(p) if p.status == axum::http::StatusCode::NOT_FOUND => Some(p.into_response()),
                Err(_) => None,
            };
            if let Some(mut res) = answer {
                // What the compression and CORS layers add to this answer.
                let h = res.headers_mut();
                h.insert(header::VARY, axum::http::HeaderValue::from_static("accept-encoding"));
                h.insert(
                    header::ACCESS_CONTROL_ALLOW_ORIGIN,
                    axum::http::HeaderValue::from_static("*"),
                );
                state
                    .metrics
                    .record("/v1/lookup", res.status().as_u16(), started.elapsed().as_secs_f64());
                return res;
            }
        }
    }
    next.run(req).await
}

/// Requests that change nothing although not GET: a batch lookup, validating an uploaded layer.
const READ_POSTS: [&str; 2] = ["/v1/lookup", "/v1/validate"];

/// Middleware: on a hot standby every write (any request but GET, HEAD, OPTIONS and the reads
/// in [`READ_POSTS`]) gets a 503 problem saying this is a read-only replica and naming the
/// primary when one is configured, before any work is done for it.
async fn replica_refuses_writes(
    State(state): State<Arc<AppState>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::Method;
    let reads = [Method::GET, Method::HEAD, Method::OPTIONS].contains(req.method())
        || (req.method() == Method::POST && READ_POSTS.contains(&req.uri().path()));
    if !reads && state.store.as_ref().is_some_and(store::Store::is_standby) {
        let primary = state.primary_url();
        let detail = match primary {
            Some(url) => format!(
                "this service is a read-only replica: it reads a PostgreSQL hot standby, which refuses writes; send planner writes to the primary at {url}"
            ),
            None => "this service is a read-only replica: it reads a PostgreSQL hot standby, which refuses writes; send planner writes to the service on the primary".into(),
        };
        return Problem::new(axum::http::StatusCode::SERVICE_UNAVAILABLE, "Read-only replica", detail)
            .with("primary", primary.map_or(serde_json::Value::Null, Into::into))
            .into_response();
    }
    next.run(req).await
}

/// Paths that answer from the served data: with nothing to serve they answer 503.
const DATA_PATHS: [&str; 12] = [
    "/v/",
    "/tiles/",
    "/b/",
    "/v1/buildings/",
    "/tiles.json",
    "/style.json",
    "/map/",
    "/v1/lookup",
    "/v1/suggest",
    "/v1/resources/",
    "/v1/access",
    "/collections",
];

/// Middleware: when no published version can be served, requests for data get a 503 problem
/// body saying why and how to recover, rather than answers from an empty map.
async fn require_data(
    State(state): State<Arc<AppState>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let served = state.current();
    if let Some(why) = &served.unavailable
        && DATA_PATHS.iter().any(|p| req.uri().path().starts_with(p))
    {
        let mut res = Problem::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "Nothing to serve",
            why.clone(),
        )
        .with(
            "damaged_versions",
            serde_json::to_value(&served.damaged).unwrap_or_default(),
        )
        .into_response();
        res.headers_mut()
            .insert(header::RETRY_AFTER, axum::http::HeaderValue::from_static("60"));
        return res;
    }
    next.run(req).await
}

/// Whether the service can answer: the data it serves, and (when it has one) its store. A
/// damaged version, or nothing servable at all, is `"status": "degraded"` with a `warning`
/// (still 200: the service is up and planners can recover through it).
#[utoipa::path(get, path = "/healthz", tag = "service",
    responses((status = 200, description = "Healthy (`status` ok), or serving an older version / nothing because published versions are damaged (`status` degraded, `warning`, `damaged_versions`)", body = serde_json::Value), (status = 503, description = "The store cannot be reached", body = problem::ProblemBody, content_type = "application/problem+json")))]
async fn healthz(State(state): State<Arc<AppState>>) -> axum::response::Response {
    let s = state.current();
    let store = match &state.store {
        None => None,
        Some(store) => match tokio::time::timeout(Duration::from_secs(3), store.current()).await {
            Ok(Ok(current)) => {
                Some(serde_json::json!({"backend": store.backend(), "current_version": current.map(|v| v.number)}))
            }
            Ok(Err(e)) => return unhealthy(format!("the store cannot be read: {e}")),
            Err(_) => return unhealthy("the store did not answer within 3 s".into()),
        },
    };
    let warning = s.warning();
    let mut body = serde_json::json!({
        "status": if warning.is_some() { "degraded" } else { "ok" },
        "role": role(&state),
        "version": s.version,
        "communities": s.dataset.communities.len(),
        "grids": s.grids.len(),
        "store": store,
    });
    if let Some(w) = warning {
        body["warning"] = w.into();
        body["damaged_versions"] = serde_json::to_value(&s.damaged).unwrap_or_default();
    }
    Json(body).into_response()
}

fn unhealthy(detail: String) -> axum::response::Response {
    tracing::warn!("unhealthy: {detail}");
    Problem::new(axum::http::StatusCode::SERVICE_UNAVAILABLE, "Unhealthy", detail).into_response()
}
