//! OGC API – Features, Part 1 (core, geojson, oas30): the landing page, conformance, the
//! collections (communities, grids, micro-grids, buildings, resources) and their items as GeoJSON,
//! with `bbox`, `limit`, `offset` paging by `next`/`prev` links and simple property filters.
//!
//! Part 2 (Coordinate Reference Systems by Reference): items and an item are served in the
//! system `crs=` names (CRS84, EPSG:4326, EPSG:4490, EPSG:3857, and the documented extensions
//! GCJ-02 and BD-09, which have no EPSG code), with a `Content-Crs` header; `bbox-crs` says which
//! system a bbox is in. EPSG:4326 and EPSG:4490 follow their EPSG axis order (latitude first), as
//! the standard requires; CRS84, GCJ-02 and BD-09 are longitude first. The data is stored in
//! CRS84 (`storageCrs`).
//!
//! Choices where the standard leaves room: a `limit` above 10,000 is served as 10,000 (the
//! standard says exceeding the maximum is not an error); 0, negative or non-numbers are 400. Unknown
//! query parameters are 400 (/req/core/query-param-unknown), and so is a repeated one. A bbox whose
//! west edge is east of its east edge (crossing the antimeridian) is refused: no Chinese community
//! needs one.

pub use crate::snapshot::features::{Collection, FeatureIndex};

use super::{AppState, Problem, base_url};
use crate::snapshot::Snapshot;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Json, Response};
use geo::{Rect, coord};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";
const GEOJSON: &str = "application/geo+json";
const JSON: &str = "application/json";
pub const MAX_LIMIT: usize = 10_000;
const DEFAULT_LIMIT: usize = 10;

pub const CONFORMANCE: &[&str] = &[
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
];

/// The coordinate systems items can be served in (Part 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputCrs {
    Crs84,
    Epsg4326,
    Epsg4490,
    Epsg3857,
    Gcj02,
    Bd09,
}

/// Web Mercator's sphere (EPSG:3857) and the largest |x| or |y| it reaches (±85.05°).
const WEB_R: f64 = 6_378_137.0;
const WEB_MAX: f64 = 20_037_508.342_789_244;

impl OutputCrs {
    pub const ALL: [OutputCrs; 6] = [
        Self::Crs84,
        Self::Epsg4326,
        Self::Epsg4490,
        Self::Epsg3857,
        Self::Gcj02,
        Self::Bd09,
    ];

    pub fn uri(self) -> &'static str {
        match self {
            Self::Crs84 => CRS84,
            Self::Epsg4326 => "http://www.opengis.net/def/crs/EPSG/0/4326",
            Self::Epsg4490 => "http://www.opengis.net/def/crs/EPSG/0/4490",
            Self::Epsg3857 => "http://www.opengis.net/def/crs/EPSG/0/3857",
            Self::Gcj02 => import::crs::GCJ02_URI,
            Self::Bd09 => import::crs::BD09_URI,
        }
    }

    /// A `crs` or `bbox-crs` value: one of the URIs listed, or its short form (`EPSG:3857`,
    /// `urn:ogc:def:crs:EPSG::3857`, `gcj02`, ...).
    pub fn parse(key: &str, s: &str) -> Result<Self, Problem> {
        let t = s.trim();
        let l = t.to_ascii_lowercase().replace(['-', '_'], "");
        let found = if import::crs::is_crs84(t) {
            Some(Self::Crs84)
        } else if let Some(code) = import::crs::epsg_code(t) {
            match code {
                Ok(4326) => Some(Self::Epsg4326),
                Ok(4490) => Some(Self::Epsg4490),
                Ok(3857) => Some(Self::Epsg3857),
                _ => None,
            }
        } else if l == "gcj02" || t.eq_ignore_ascii_case(import::crs::GCJ02_URI) {
            Some(Self::Gcj02)
        } else if l == "bd09" || t.eq_ignore_ascii_case(import::crs::BD09_URI) {
            Some(Self::Bd09)
        } else {
            None
        };
        found.ok_or_else(|| {
            Problem::bad_request(format!(
                "{key}={t:?} is not offered; the systems are {}",
                Self::ALL.map(Self::uri).join(", ")
            ))
        })
    }

    /// WGS-84 longitude/latitude → a position in this system, in its axis order.
    fn position(self, lon: f64, lat: f64) -> [f64; 2] {
        match self {
            Self::Crs84 => [lon, lat],
            Self::Epsg4326 | Self::Epsg4490 => [lat, lon],
            Self::Epsg3857 => {
                let phi = lat.clamp(-85.051_128_779_806_59, 85.051_128_779_806_59).to_radians();
                [
                    WEB_R * lon.to_radians(),
                    WEB_R * (std::f64::consts::FRAC_PI_4 + phi / 2.0).tan().ln(),
                ]
            }
            Self::Gcj02 | Self::Bd09 => {
                let crs = if self == Self::Gcj02 {
                    gis_core::crs::Crs::Gcj02
                } else {
                    gis_core::crs::Crs::Bd09
                };
                let c = crs.from_wgs84(geo::Coord { x: lon, y: lat });
                [c.x, c.y]
            }
        }
    }

    /// A position in this system (its axis order) → WGS-84 longitude/latitude, or why not.
    fn to_wgs84(self, a: f64, b: f64) -> Result<(f64, f64), String> {
        let degrees = |lon: f64, lat: f64| {
            if !(-180.0..=180.0).contains(&lon) {
                Err("longitudes must lie in [-180, 180]".to_string())
            } else if !(-90.0..=90.0).contains(&lat) {
                Err("latitudes must lie in [-90, 90]".to_string())
            } else {
                Ok((lon, lat))
            }
        };
        match self {
            Self::Crs84 => degrees(a, b),
            Self::Epsg4326 | Self::Epsg4490 => degrees(b, a),
            Self::Epsg3857 => {
                if a.abs() > WEB_MAX || b.abs() > WEB_MAX {
                    return Err(format!(
                        "Web Mercator x and y must lie in [-{WEB_MAX}, {WEB_MAX}] metres"
                    ));
                }
                Ok((
                    (a / WEB_R).to_degrees(),
                    (2.0 * (b / WEB_R).exp().atan() - std::f64::consts::FRAC_PI_2).to_degrees(),
                ))
            }
            Self::Gcj02 | Self::Bd09 => {
                let (lon, lat) = degrees(a, b)?;
                let crs = if self == Self::Gcj02 {
                    gis_core::crs::Crs::Gcj02
                } else {
                    gis_core::crs::Crs::Bd09
                };
                let c = crs.to_wgs84(geo::Coord { x: lon, y: lat });
                Ok((c.x, c.y))
            }
        }
    }

    /// What a bbox in this system looks like, for messages.
    fn bbox_form(self) -> &'static str {
        match self {
            Self::Crs84 => "minLon,minLat,maxLon,maxLat in WGS-84 degrees",
            Self::Epsg4326 | Self::Epsg4490 => "minLat,minLon,maxLat,maxLon in degrees (EPSG axis order)",
            Self::Epsg3857 => "minX,minY,maxX,maxY in Web Mercator metres",
            Self::Gcj02 | Self::Bd09 => "minLon,minLat,maxLon,maxLat in offset degrees",
        }
    }

    /// The `Content-Crs` header value.
    fn header(self) -> HeaderValue {
        HeaderValue::from_str(&format!("<{}>", self.uri())).expect("URIs are header-safe")
    }

    /// Rewrites a GeoJSON object's geometry coordinates (WGS-84) into this system.
    fn reproject(self, feature: &mut Value) {
        fn walk(v: &mut Value, crs: OutputCrs) {
            let Some(items) = v.as_array_mut() else { return };
            if let (Some(x), Some(y)) = (
                items.first().and_then(Value::as_f64),
                items.get(1).and_then(Value::as_f64),
            ) {
                let [a, b] = crs.position(x, y);
                items[0] = json!(a);
                items[1] = json!(b);
            } else {
                for item in items {
                    walk(item, crs);
                }
            }
        }
        if self != Self::Crs84 {
            walk(&mut feature["geometry"]["coordinates"], self);
        }
    }
}

/// The collection with this id, or a 404 naming the collections there are.
fn collection_named(id: &str) -> Result<Collection, Problem> {
    Collection::ALL.into_iter().find(|c| c.id() == id).ok_or_else(|| {
        Problem::not_found(format!(
            "no collection {id:?}; the collections are {}",
            Collection::ALL.map(Collection::id).join(", ")
        ))
    })
}

pub(crate) fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(landing))
        .routes(routes!(conformance))
        .routes(routes!(collections))
        .routes(routes!(collection))
        .routes(routes!(items))
        .routes(routes!(item))
}

type Params = Result<Query<Vec<(String, String)>>, QueryRejection>;

/// The query's parameters, refusing any not in `allowed` and any given twice.
fn params(q: Params, allowed: &[&str]) -> Result<Vec<(String, String)>, Problem> {
    let Query(pairs) = q.map_err(|e| Problem::bad_request(e.body_text()))?;
    for (i, (k, _)) in pairs.iter().enumerate() {
        if !allowed.contains(&k.as_str()) {
            let known = if allowed.is_empty() {
                "none".to_string()
            } else {
                allowed.join(", ")
            };
            return Err(Problem::bad_request(format!(
                "unknown query parameter {k:?}; this resource takes: {known}"
            )));
        }
        if pairs[..i].iter().any(|(k2, _)| k2 == k) {
            return Err(Problem::bad_request(format!(
                "query parameter {k:?} given more than once"
            )));
        }
    }
    Ok(pairs)
}

fn get<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// `f`: only JSON here (`geojson` too for features); HTML is the web map's business.
fn check_format(pairs: &[(String, String)], geojson: bool) -> Result<(), Problem> {
    match get(pairs, "f") {
        None | Some("json") => Ok(()),
        Some("geojson") if geojson => Ok(()),
        Some(f) => Err(Problem::bad_request(format!(
            "f={f:?} is not offered; use f=json{}",
            if geojson { " or f=geojson" } else { "" }
        ))),
    }
}

fn link(href: String, rel: &str, kind: &str, title: &str) -> Value {
    json!({"href": href, "rel": rel, "type": kind, "title": title})
}

fn with_type(body: String, kind: &'static str) -> Response {
    let mut res = body.into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    res
}

/// Percent-encodes a query component (RFC 3986 unreserved characters and `,` stay as they are).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~,".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Now, in RFC 3339 (UTC), as the store writes its times.
fn timestamp() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    store::rfc3339(ms)
}

fn run(f: impl FnOnce() -> Result<Response, Problem>) -> Response {
    f().unwrap_or_else(IntoResponse::into_response)
}

/// The landing page: what this API is and where its parts are. Browsers (`?f=html`, or an
/// Accept naming text/html) get the web map here; clients asking for JSON (`?f=json`, or an
/// Accept without text/html, as GDAL and QGIS send) get the OGC landing page.
#[utoipa::path(get, path = "/", tag = "features", params(("f" = Option<String>, Query, description = "`json` (the OGC landing page) or `html` (the web map)")),
    responses((status = 200, description = "The landing page: title, description and links to the API definition, conformance and collections; or the web map's page", body = serde_json::Value),
        (status = 400, description = "Unknown parameter or format", body = super::problem::ProblemBody, content_type = "application/problem+json")))]
pub(crate) async fn landing(headers: HeaderMap, q: Params) -> Response {
    let f = q
        .as_ref()
        .ok()
        .and_then(|Query(pairs)| pairs.iter().find(|(k, _)| k == "f").map(|(_, v)| v.clone()));
    let accepts_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if f.as_deref() == Some("html") || (f.is_none() && accepts_html) {
        return super::web::index(headers).await;
    }
    run(|| {
        let pairs = params(q, &["f"])?;
        check_format(&pairs, false)?;
        let base = base_url(&headers);
        Ok(Json(json!({
            "title": "wangge 网格",
            "description": "Grids (网格) of Chinese urban communities, their micro-grids, buildings and key resources, as OGC API – Features (GeoJSON; CRS84 longitude/latitude, or with crs= EPSG:4326, EPSG:4490, EPSG:3857, GCJ-02 or BD-09). Map tiles, lookups and the rest of the service are described in the API definition.",
            "links": [
                link(format!("{base}/?f=json"), "self", JSON, "This document"),
                link(format!("{base}/openapi-3.0.json"), "service-desc", "application/vnd.oai.openapi+json;version=3.0", "The API definition (OpenAPI 3.0)"),
                link(format!("{base}/openapi.json"), "service-desc", "application/vnd.oai.openapi+json;version=3.1", "The API definition (OpenAPI 3.1)"),
                link(format!("{base}/conformance"), "conformance", JSON, "Conformance classes implemented"),
                link(format!("{base}/collections"), "data", JSON, "The feature collections"),
            ],
        }))
        .into_response())
    })
}

/// The conformance classes this API implements (OGC API – Features Part 1: core, GeoJSON, OpenAPI 3.0).
#[utoipa::path(get, path = "/conformance", tag = "features", params(("f" = Option<String>, Query, description = "`json`")),
    responses((status = 200, description = "`{\"conformsTo\": [...]}`", body = serde_json::Value),
        (status = 400, description = "Unknown parameter or format", body = super::problem::ProblemBody, content_type = "application/problem+json")))]
async fn conformance(q: Params) -> Response {
    run(|| {
        let pairs = params(q, &["f"])?;
        check_format(&pairs, false)?;
        Ok(Json(json!({ "conformsTo": CONFORMANCE })).into_response())
    })
}

fn collection_json(served: &Snapshot, c: Collection, base: &str) -> Value {
    let id = c.id();
    let mut v = json!({
        "id": id,
        "title": c.title(),
        "description": c.description(),
        "itemType": "feature",
        "crs": OutputCrs::ALL.map(OutputCrs::uri),
        "storageCrs": CRS84,
        "links": [
            link(format!("{base}/collections/{id}"), "self", JSON, c.title()),
            link(format!("{base}/collections/{id}/items"), "items", GEOJSON, "The items as GeoJSON"),
        ],
    });
    if let Some(r) = served.features.extent(c) {
        v["extent"] = json!({"spatial": {"bbox": [[r.min().x, r.min().y, r.max().x, r.max().y]], "crs": CRS84}});
    }
    v
}

/// The feature collections: communities, grids, micro_grids, buildings, resources.
#[utoipa::path(get, path = "/collections", tag = "features", params(("f" = Option<String>, Query, description = "`json`")),
    responses((status = 200, description = "`{\"links\", \"collections\": [...]}`, each with id, title, description, extent, crs and links", body = serde_json::Value),
        (status = 400, description = "Unknown parameter or format", body = super::problem::ProblemBody, content_type = "application/problem+json")))]
async fn collections(State(state): State<Arc<AppState>>, headers: HeaderMap, q: Params) -> Response {
    run(|| {
        let pairs = params(q, &["f"])?;
        check_format(&pairs, false)?;
        let base = base_url(&headers);
        let served = state.current();
        Ok(Json(json!({
            "links": [link(format!("{base}/collections"), "self", JSON, "The feature collections")],
            "collections": Collection::ALL.iter().map(|&c| collection_json(&served, c, &base)).collect::<Vec<_>>(),
        }))
        .into_response())
    })
}

/// One collection's description: id, title, description, spatial extent (CRS84), crs, links.
#[utoipa::path(get, path = "/collections/{collectionId}", tag = "features",
    params(("collectionId" = String, Path, description = "`communities`, `grids`, `micro_grids`, `buildings` or `resources`"), ("f" = Option<String>, Query, description = "`json`")),
    responses((status = 200, description = "The collection", body = serde_json::Value),
        (status = 400, description = "Unknown parameter or format", body = super::problem::ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such collection", body = super::problem::ProblemBody, content_type = "application/problem+json")))]
async fn collection(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    q: Params,
) -> Response {
    run(|| {
        let c = collection_named(&id)?;
        let pairs = params(q, &["f"])?;
        check_format(&pairs, false)?;
        Ok(Json(collection_json(&state.current(), c, &base_url(&headers))).into_response())
    })
}

/// The query parameters of `/collections/{collectionId}/items`, as documented.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct ItemsParams {
    /// Only items whose geometry meets this box: `minLon,minLat,maxLon,maxLat` (or six numbers with heights, which are ignored), WGS-84 (CRS84). Touching counts.
    #[param(style = Form, explode = false)]
    bbox: Option<Vec<f64>>,
    /// The bbox's coordinate system (Part 2), one of the collection's `crs` list: CRS84 (default, `minLon,minLat,maxLon,maxLat`), `http://www.opengis.net/def/crs/EPSG/0/4326` or `/4490` (latitude first, as EPSG orders them), `/3857` (Web Mercator metres), `urn:x-wangge:def:crs:GCJ-02` or `urn:x-wangge:def:crs:BD-09` (offset longitude/latitude).
    #[param(rename = "bbox-crs")]
    bbox_crs: Option<String>,
    /// The coordinate system of the answer (Part 2), one of the collection's `crs` list (default CRS84); the `Content-Crs` header names it. GCJ-02 and BD-09 (`urn:x-wangge:def:crs:GCJ-02`, `urn:x-wangge:def:crs:BD-09`, or `gcj02`, `bd09`) are wangge's extension, for AMap, Tencent and Baidu base maps.
    crs: Option<String>,
    /// Items per page, 1–10,000 (default 10); more than 10,000 is served as 10,000.
    #[param(minimum = 1, maximum = 10000, default = 10)]
    limit: Option<i64>,
    /// Items to skip (default 0); the `next` and `prev` links carry it.
    #[param(minimum = 0, default = 0)]
    offset: Option<i64>,
    /// Only items of this community (12-digit code): grids, micro_grids, buildings, resources.
    community: Option<String>,
    /// Only items of this kind: `basic` or `exclusive` for grids and micro_grids, a resource kind (`clinic`, `pharmacy`, ...) for resources.
    kind: Option<String>,
    /// `json` or `geojson` (the same GeoJSON).
    f: Option<String>,
}

/// A bbox in `crs` (its axis order), as the WGS-84 rectangle holding it. Corners suffice:
/// every system offered keeps lines of longitude and latitude straight, or nearly (the GCJ-02
/// offset bends them by centimetres over a street).
pub(crate) fn parse_bbox_in(s: &str, crs: OutputCrs) -> Result<Rect<f64>, Problem> {
    let bad = |why: &str| Problem::bad_request(format!("bbox={s:?}: {why}; expected {}", crs.bbox_form()));
    let nums: Vec<f64> = s
        .split(',')
        .map(|t| t.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad("not a list of numbers"))?;
    let (x0, y0, x1, y1) = match *nums.as_slice() {
        [x0, y0, x1, y1] => (x0, y0, x1, y1),
        [x0, y0, z0, x1, y1, z1] => {
            if !z0.is_finite() || !z1.is_finite() {
                return Err(bad("the heights must be finite numbers"));
            }
            (x0, y0, x1, y1)
        }
        _ => return Err(bad(&format!("{} numbers given, 4 or 6 wanted", nums.len()))),
    };
    if ![x0, y0, x1, y1].iter().all(|v| v.is_finite()) {
        return Err(bad("every number must be finite"));
    }
    let (a, b) = (
        crs.to_wgs84(x0, y0).map_err(|e| bad(&e))?,
        crs.to_wgs84(x1, y1).map_err(|e| bad(&e))?,
    );
    let ((x0, y0), (x1, y1)) = (a, b);
    if y0 > y1 {
        return Err(bad("the southern latitude is north of the northern one"));
    }
    if x0 > x1 {
        return Err(bad(
            "a box crossing the antimeridian (west edge east of the east edge) is not supported; split it in two",
        ));
    }
    if matches!(crs, OutputCrs::Gcj02 | OutputCrs::Bd09) {
        // The offset differs a little between corners: take the box holding all four.
        let c = [
            crs.to_wgs84(nums[0], nums[nums.len() / 2 + 1]),
            crs.to_wgs84(nums[nums.len() / 2], nums[1]),
        ];
        let (mut lo, mut hi) = (coord! { x: x0, y: y0 }, coord! { x: x1, y: y1 });
        for (x, y) in c.into_iter().flatten() {
            lo = coord! { x: lo.x.min(x), y: lo.y.min(y) };
            hi = coord! { x: hi.x.max(x), y: hi.y.max(y) };
        }
        return Ok(Rect::new(lo, hi));
    }
    Ok(Rect::new(coord! { x: x0, y: y0 }, coord! { x: x1, y: y1 }))
}

/// A whole number parameter in `[min, ∞)`.
fn whole(pairs: &[(String, String)], key: &str, min: i64) -> Result<Option<i64>, Problem> {
    let Some(v) = get(pairs, key) else { return Ok(None) };
    let t = v.trim();
    let n: i64 = match t.parse() {
        Ok(n) => n,
        // Digits too many for an i64: above any maximum, which callers clamp to.
        Err(_)
            if !t.is_empty()
                && t.trim_start_matches('+').bytes().all(|b| b.is_ascii_digit())
                && !t.trim_start_matches('+').is_empty() =>
        {
            i64::MAX
        }
        Err(_) => return Err(Problem::bad_request(format!("{key}={v:?} is not a whole number"))),
    };
    if n < min {
        return Err(Problem::bad_request(format!("{key}={n} is below its minimum, {min}")));
    }
    Ok(Some(n))
}

/// The items of a collection as a GeoJSON FeatureCollection, in id order: filtered by `bbox`
/// (exact geometry, not envelopes) and the property filters, paged by `limit` and `offset`, with
/// `numberMatched`, `numberReturned` and `next`/`prev` links that keep the other parameters.
#[utoipa::path(get, path = "/collections/{collectionId}/items", tag = "features",
    params(("collectionId" = String, Path, description = "`communities`, `grids`, `micro_grids`, `buildings` or `resources`"), ItemsParams),
    responses((status = 200, description = "A GeoJSON FeatureCollection", body = serde_json::Value, content_type = "application/geo+json"),
        (status = 400, description = "Bad or unknown parameter", body = super::problem::ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such collection", body = super::problem::ProblemBody, content_type = "application/problem+json")))]
async fn items(State(state): State<Arc<AppState>>, Path(id): Path<String>, headers: HeaderMap, q: Params) -> Response {
    run(|| {
        let c = collection_named(&id)?;
        let mut allowed = vec!["bbox", "bbox-crs", "crs", "limit", "offset", "f"];
        allowed.extend_from_slice(c.filters());
        let pairs = params(q, &allowed)?;
        check_format(&pairs, true)?;
        let bbox_crs = get(&pairs, "bbox-crs")
            .map(|v| OutputCrs::parse("bbox-crs", v))
            .transpose()?
            .unwrap_or(OutputCrs::Crs84);
        let crs = get(&pairs, "crs")
            .map(|v| OutputCrs::parse("crs", v))
            .transpose()?
            .unwrap_or(OutputCrs::Crs84);
        let bbox = get(&pairs, "bbox").map(|b| parse_bbox_in(b, bbox_crs)).transpose()?;
        let limit = whole(&pairs, "limit", 1)?.map_or(DEFAULT_LIMIT, |n| n.min(MAX_LIMIT as i64) as usize);
        let offset = whole(&pairs, "offset", 0)?.map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX));
        let community = get(&pairs, "community");
        let kind = get(&pairs, "kind");

        let served = state.current();
        let d = &served.dataset;
        let keep = |ix: usize| -> bool {
            match c {
                Collection::Communities => true,
                Collection::Grids | Collection::MicroGrids => {
                    let g = &served.grids[ix];
                    community.is_none_or(|cc| g.community_code == cc)
                        && kind.is_none_or(|k| serde_json::to_value(g.kind).is_ok_and(|v| v == k))
                }
                Collection::Buildings => community.is_none_or(|cc| {
                    d.communities
                        .get(d.buildings[ix].community)
                        .is_some_and(|x| x.code.as_str() == cc)
                }),
                Collection::Resources => {
                    let r = &d.resources[ix];
                    community.is_none_or(|cc| {
                        r.community
                            .and_then(|i| d.communities.get(i))
                            .is_some_and(|x| x.code.as_str() == cc)
                    }) && kind.is_none_or(|k| r.kind == k)
                }
            }
        };
        let matched = served.features.matching(&served, c, bbox, keep);
        let page = matched.get(offset.min(matched.len())..).unwrap_or(&[]);
        let page = &page[..page.len().min(limit)];

        let base = base_url(&headers);
        let url = |offset: usize| {
            let mut q = String::new();
            for (k, v) in &pairs {
                if k != "offset" && k != "limit" {
                    let _ = write!(q, "{}={}&", encode(k), encode(v));
                }
            }
            let _ = write!(q, "limit={limit}");
            if offset > 0 {
                let _ = write!(q, "&offset={offset}");
            }
            format!("{base}/collections/{id}/items?{q}", id = c.id())
        };
        let mut links = vec![
            link(url(offset), "self", GEOJSON, "This page"),
            link(format!("{base}/collections/{}", c.id()), "collection", JSON, c.title()),
        ];
        if offset.saturating_add(page.len()) < matched.len() {
            links.push(link(url(offset + page.len()), "next", GEOJSON, "The next page"));
        }
        if offset > 0 {
            // From past the end, the previous page is the last one.
            links.push(link(
                url(offset.min(matched.len()).saturating_sub(limit)),
                "prev",
                GEOJSON,
                "The previous page",
            ));
        }

        // Written feature by feature into one buffer: a page of 10,000 buildings never holds
        // more than one feature's JSON tree at a time.
        let mut out = Vec::with_capacity(4096 + page.len() * 512);
        let head = json!({"type": "FeatureCollection", "numberMatched": matched.len(), "numberReturned": page.len(), "timeStamp": timestamp(), "links": links});
        let head = head.to_string();
        out.extend_from_slice(&head.as_bytes()[..head.len() - 1]);
        out.extend_from_slice(b",\"features\":[");
        for (i, &rank) in page.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let mut f = feature(&served, c, served.features.item(c, rank));
            crs.reproject(&mut f);
            serde_json::to_writer(&mut out, &f).map_err(|e| Problem::bad_request(e.to_string()))?;
        }
        out.extend_from_slice(b"]}");
        let mut res = out.into_response();
        res.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(GEOJSON));
        res.headers_mut().insert("content-crs", crs.header());
        Ok(res)
    })
}

/// One item by its id: a community or grid by code, a building or resource by id.
#[utoipa::path(get, path = "/collections/{collectionId}/items/{featureId}", tag = "features",
    params(("collectionId" = String, Path, description = "`communities`, `grids`, `micro_grids`, `buildings` or `resources`"),
        ("featureId" = String, Path, description = "A community or grid code, a building or resource id"), ("f" = Option<String>, Query, description = "`json` or `geojson`"),
        ("crs" = Option<String>, Query, description = "The coordinate system of the answer (Part 2), one of the collection's `crs` list (default CRS84); the `Content-Crs` header names it")),
    responses((status = 200, description = "A GeoJSON Feature", body = serde_json::Value, content_type = "application/geo+json"),
        (status = 400, description = "Unknown parameter or format", body = super::problem::ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such collection or item", body = super::problem::ProblemBody, content_type = "application/problem+json")))]
async fn item(
    State(state): State<Arc<AppState>>,
    Path((id, fid)): Path<(String, String)>,
    headers: HeaderMap,
    q: Params,
) -> Response {
    run(|| {
        let c = collection_named(&id)?;
        let pairs = params(q, &["f", "crs"])?;
        check_format(&pairs, true)?;
        let crs = get(&pairs, "crs")
            .map(|v| OutputCrs::parse("crs", v))
            .transpose()?
            .unwrap_or(OutputCrs::Crs84);
        let served = state.current();
        let ix = served
            .features
            .find(&served, c, &fid)
            .ok_or_else(|| Problem::not_found(format!("no item {fid:?} in {}", c.id())))?;
        let base = base_url(&headers);
        let mut f = feature(&served, c, ix);
        crs.reproject(&mut f);
        f["links"] = json!([
            link(
                format!(
                    "{base}/collections/{}/items/{}{}",
                    c.id(),
                    encode(&fid),
                    get(&pairs, "crs").map_or(String::new(), |v| format!("?crs={}", encode(v)))
                ),
                "self",
                GEOJSON,
                "This item",
            ),
            link(format!("{base}/collections/{}", c.id()), "collection", JSON, c.title()),
        ]);
        let mut res = with_type(f.to_string(), GEOJSON);
        res.headers_mut().insert("content-crs", crs.header());
        Ok(res)
    })
}

fn point(p: &geo::Point<f64>) -> Value {
    json!({"type": "Point", "coordinates": [p.x(), p.y()]})
}

/// The item at `ix` of its source as a GeoJSON Feature (WGS-84 longitude/latitude). Every
/// feature of a collection has the same properties, null when unknown, so clients such as GDAL
/// read one fixed schema.
pub(crate) fn feature(served: &Snapshot, c: Collection, ix: usize) -> Value {
    use gis_core::io::grids;
    let d = &served.dataset;
    let community = |i: Option<usize>| i.and_then(|i| d.communities.get(i));
    match c {
        Collection::Communities => {
            let x = &d.communities[ix];
            let s = served.features.community_stats.get(ix).cloned().unwrap_or_default();
            json!({"type": "Feature", "id": x.code.as_str(), "geometry": grids::geometry(&x.boundary), "properties": {
                "code": x.code.as_str(), "name": x.name, "population": s.population, "households": s.households,
                "buildings": s.buildings, "grids": s.grids, "micro_grids": s.micro_grids,
            }})
        }
        Collection::Grids | Collection::MicroGrids => {
            let g = &served.grids[ix];
            // The layer file's own feature, with what a reader of one grid wants besides.
            let mut f = grids::feature(g);
            f["id"] = json!(g.code);
            let p = &mut f["properties"];
            p["parent_code"] = json!(g.parent_code);
            p["name"] = json!(g.name);
            p["community_name"] = json!(
                served
                    .features
                    .community_ix
                    .get(&g.community_code)
                    .and_then(|&i| d.communities.get(i))
                    .map(|x| &x.name)
            );
            p["building_count"] = json!(g.buildings.len());
            let staff = served.lookup.staff_of(&g.code);
            p["staff"] = json!(
                staff
                    .iter()
                    .map(|s| json!({"name": s.name, "role": s.role}))
                    .collect::<Vec<_>>()
            );
            f
        }
        Collection::Buildings => {
            let b = &d.buildings[ix];
            json!({"type": "Feature", "id": b.id, "geometry": grids::geometry(&b.footprint), "properties": {
                "id": b.id, "population": b.population, "households": b.households, "address": b.address,
                "compound": b.compound,
                // Whole storeys stay integers for clients that type the field; 3.5 stays 3.5.
                "floors": b.floors.map(|f| if f.fract() == 0.0 { json!(f as i64) } else { json!(f) }),
                "community_code": community(Some(b.community)).map(|x| x.code.as_str()),
                "grid_code": served.features.building_grid.get(ix).cloned().flatten(),
            }})
        }
        Collection::Resources => {
            let r = &d.resources[ix];
            json!({"type": "Feature", "id": r.id, "geometry": point(&r.location), "properties": {
                "id": r.id, "kind": r.kind, "name": r.name, "phone": r.phone, "hours": r.hours, "address": r.address,
                "community_code": community(r.community).map(|x| x.code.as_str()),
                "grid_code": served.features.resource_grid.get(ix).cloned().flatten(),
            }})
        }
    }
}
