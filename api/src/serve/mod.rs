//! The HTTP service: map tiles (vector and raster), TileJSON, the MapLibre style and its glyphs and
//! sprites, the printable grid map, health. Everything is served from one [`Served`] snapshot held
//! behind a lock; replacing it (a new version published) drops the tile cache at once.

mod lookup_routes;
mod metrics;
mod problem;
mod tiles_routes;
mod web;

pub use problem::Problem;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Json};
use axum::routing::get;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use gis_core::bounds::SizeBounds;
use gis_core::grid::Grid;
use gis_core::model::Dataset;
use std::sync::{Arc, RwLock};
use tiles::data::MapData;

/// What the service serves at one moment: a dataset, its grids, the map cut from them and the
/// lookup indexes over them; `version` is the store's published version, if it came from one.
pub struct Served {
    pub dataset: Arc<Dataset>,
    pub grids: Vec<Grid>,
    pub map: MapData,
    pub region: Arc<gis_core::lookup::Region>,
    pub version: Option<i64>,
}

impl Served {
    pub fn new(dataset: Dataset, grids: Vec<Grid>, bounds: SizeBounds) -> Self {
        let map = MapData::new(&dataset, &grids, bounds);
        let region = gis_core::lookup::Region::new(&dataset, grids.clone(), &dataset.staff)
            .expect("a partition's grids index");
        Self { dataset: Arc::new(dataset), grids, map, region: Arc::new(region), version: None }
    }

    /// A version published in the store.
    pub fn published(p: &store::Published) -> Self {
        let bounds = p.layer.meta.bounds.unwrap_or_default();
        let map = MapData::new(&p.dataset, &p.layer.grids, bounds);
        Self {
            dataset: p.dataset.clone(),
            grids: p.layer.grids.clone(),
            map,
            region: p.region.clone(),
            version: Some(p.version.number),
        }
    }
}

/// Shared state: the current snapshot and the tile cache that belongs to it.
pub struct AppState {
    served: RwLock<Arc<Served>>,
    pub(crate) cache: tiles_routes::TileCache,
    pub(crate) metrics: metrics::Metrics,
}

impl AppState {
    pub fn new(served: Served) -> Arc<Self> {
        Arc::new(Self {
            served: RwLock::new(Arc::new(served)),
            cache: tiles_routes::TileCache::new(50_000),
            metrics: metrics::Metrics::default(),
        })
    }

    pub fn current(&self) -> Arc<Served> {
        self.served.read().expect("state lock").clone()
    }

    /// Serves new data from now on; cached tiles of the old data are dropped.
    pub fn replace(&self, served: Served) {
        let mut guard = self.served.write().expect("state lock");
        *guard = Arc::new(served);
        self.cache.clear();
    }
}

/// The base URL clients reach the service at, from the request's Host header.
pub(crate) fn base_url(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1:8080");
    let proto = headers.get("x-forwarded-proto").and_then(|h| h.to_str().ok()).unwrap_or("http");
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
    ),
)]
struct ApiDoc;

/// All routes, and the OpenAPI document generated from them (served at `/openapi.json`).
pub fn routes() -> (Router<Arc<AppState>>, utoipa::openapi::OpenApi) {
    use utoipa::OpenApi as _;
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(healthz))
        .routes(routes!(metrics::render))
        .merge(tiles_routes::routes())
        .merge(lookup_routes::routes())
        .merge(web::routes())
        .split_for_parts()
}

pub fn router(state: Arc<AppState>) -> Router {
    let (routes, api) = routes();
    let api = Arc::new(serde_json::to_value(&api).expect("the OpenAPI document serialises"));
    routes
        .route("/openapi.json", get(move || async move { Json((*api).clone()) }))
        .fallback(|| async { Problem::not_found("no such resource; see /openapi.json") })
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::count))
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(tower_http::cors::CorsLayer::new().allow_origin(tower_http::cors::Any).allow_methods([axum::http::Method::GET]))
        .with_state(state)
}

/// Whether the service can answer: the data it serves, and (when it has one) its store.
#[utoipa::path(get, path = "/healthz", tag = "service",
    responses((status = 200, description = "Healthy", body = serde_json::Value), (status = 503, description = "The store cannot be reached", body = problem::ProblemBody, content_type = "application/problem+json")))]
async fn healthz(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let s = state.current();
    Json(serde_json::json!({
        "status": "ok",
        "version": s.version,
        "communities": s.dataset.communities.len(),
        "grids": s.grids.len(),
    }))
}
