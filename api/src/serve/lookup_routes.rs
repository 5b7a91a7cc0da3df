//! `/v1/lookup` (a point, an address, a building or a grid code → its grid, with micro-grid and
//! staff; a batch by POST), `/v1/suggest` (suggestions as people type) and
//! `/v1/resources/nearest`.

use super::{AppState, Problem};
use crate::snapshot::Snapshot;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Json, Response};
use geo::Coord;
use gis_core::crs::Crs;
use gis_core::lookup::{BatchItem, NearestQuery};
use serde::Deserialize;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(lookup, batch))
        .routes(routes!(nearest))
        .routes(routes!(suggest))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct LookupParams {
    /// Longitude of the point (with `lat`)
    lon: Option<f64>,
    /// Latitude of the point (with `lon`)
    lat: Option<f64>,
    /// The point's coordinate system: `wgs84` (default), `gcj02` (AMap, Tencent) or `bd09` (Baidu)
    crs: Option<String>,
    /// An address to geocode against building addresses, instead of a point
    address: Option<String>,
    /// A building's id, instead of a point: the answer is that building as the one candidate
    /// of an address answer (what choosing a suggested address opens)
    building: Option<String>,
    /// A grid's code, instead of a point: that grid with its staff (no micro-grid)
    grid: Option<String>,
    /// Candidates to return for an ambiguous address (default 5)
    limit: Option<usize>,
}

fn crs(name: Option<&str>) -> Result<Crs, Problem> {
    match name {
        None => Ok(Crs::Wgs84),
        Some(n) => n
            .parse()
            .map_err(|_| Problem::bad_request(format!("crs {n:?} is not one of wgs84, gcj02, bd09"))),
    }
}

fn point(lon: Option<f64>, lat: Option<f64>) -> Result<Coord<f64>, Problem> {
    match (lon, lat) {
        (Some(x), Some(y)) => Ok(Coord { x, y }),
        _ => Err(Problem::bad_request("give lon and lat (or address)")),
    }
}

/// The grid covering a point (code, kind, community, population, micro-grid, staff), or the
/// buildings matching an address with their grids, ranked; or one building (`building`) or grid
/// (`grid`) by its id. A point on an edge shared by grids gets the grid with the lowest code.
#[utoipa::path(get, path = "/v1/lookup", tag = "lookup", params(LookupParams),
    responses((status = 200, description = "The grid, or ranked address candidates", body = serde_json::Value),
        (status = 400, description = "Bad parameters", body = super::problem::ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No grid covers the point, or no building matches", body = super::problem::ProblemBody, content_type = "application/problem+json")))]
async fn lookup(
    State(state): State<Arc<AppState>>,
    params: Result<Query<LookupParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Query(p) = match params {
        Ok(p) => p,
        Err(e) => return Problem::bad_request(e.body_text()).into_response(),
    };
    let served = state.current();
    let result = (|| -> Result<Response, Problem> {
        if let Some(address) = &p.address {
            let answer = served
                .lookup
                .geocode(address, p.limit.unwrap_or(5))
                .map_err(|e| Problem::bad_request(e.to_string()))?;
            if answer.candidates.is_empty() {
                return Err(Problem::not_found(format!(
                    "no building matches the address {address:?}"
                )));
            }
            return Ok(Json(serde_json::to_value(answer).expect("answers serialise")).into_response());
        }
        if let Some(id) = &p.building {
            let Some(found) = served.lookup.building(id) else {
                return Err(Problem::not_found(format!("no building has the id {id:?}")).code("no_such_building"));
            };
            let answer = gis_core::lookup::AddressAnswer {
                candidates: vec![found],
                ambiguous: false,
            };
            return Ok(Json(answer).into_response());
        }
        if let Some(code) = &p.grid {
            return match served.lookup.grid(code) {
                Some(g) => Ok(Json(g).into_response()),
                None => Err(Problem::not_found(format!("no grid has the code {code:?}")).code("no_such_grid")),
            };
        }
        let at = point(p.lon, p.lat)?;
        let crs = crs(p.crs.as_deref())?;
        point_answer(&served, at, crs)
    })();
    result.unwrap_or_else(IntoResponse::into_response)
}

/// The answer to a point lookup: its grid's body (made once per snapshot), or 404.
pub(crate) fn point_answer(served: &Snapshot, at: Coord<f64>, crs: Crs) -> Result<Response, Problem> {
    match served
        .lookup
        .locate_ids(at, crs)
        .map_err(|e| Problem::bad_request(e.to_string()))?
    {
        Some((g, m)) => Ok((
            [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            served.point_bodies.get(&served.lookup, g, m),
        )
            .into_response()),
        None => Err(Problem::not_found(format!("no grid covers ({}, {})", at.x, at.y))),
    }
}

/// `lon` and `lat` from a query string that holds those two and nothing else, each once and
/// plainly written (no percent-encoding): the common point lookup, which the service answers
/// without its middleware stack ([`super::fast_lookup`]). `None` for anything else.
pub(crate) fn plain_point(query: &str) -> Option<Coord<f64>> {
    let (mut lon, mut lat) = (None, None);
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=')?;
        if v.contains(['%', '+']) {
            return None;
        }
        let slot = match k {
            "lon" => &mut lon,
            "lat" => &mut lat,
            _ => return None,
        };
        if slot.is_some() {
            return None;
        }
        *slot = Some(v.parse::<f64>().ok()?);
    }
    Some(Coord { x: lon?, y: lat? })
}

#[derive(Debug, Deserialize)]
struct Batch {
    items: Vec<BatchItem>,
    crs: Option<String>,
    candidates: Option<usize>,
}

/// The body of a batch lookup, as documented.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct BatchBody {
    /// Up to 10,000 items, each `{"lon", "lat"}` or `{"address"}`
    items: Vec<serde_json::Value>,
    /// `wgs84` (default), `gcj02` or `bd09`, for every point
    crs: Option<String>,
    /// Candidates per ambiguous address (default 3)
    candidates: Option<usize>,
}

/// Many lookups at once: up to 10,000 points or addresses; one answer per item, in order.
#[utoipa::path(post, path = "/v1/lookup", tag = "lookup", request_body = BatchBody,
    responses((status = 200, description = "`{\"answers\": [...]}`, one per item", body = serde_json::Value),
        (status = 400, description = "Not a batch, or too many items", body = super::problem::ProblemBody, content_type = "application/problem+json")))]
async fn batch(
    State(state): State<Arc<AppState>>,
    body: Result<Json<Batch>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(b) = match body {
        Ok(b) => b,
        Err(e) => {
            let mut p = Problem::from_json_rejection(e);
            p.detail = format!(
                "the body must be {{\"items\": [{{\"lon\", \"lat\"}} or {{\"address\"}}, ...]}}: {}",
                p.detail
            );
            return p.into_response();
        }
    };
    let crs = match crs(b.crs.as_deref()) {
        Ok(c) => c,
        Err(p) => return p.into_response(),
    };
    let served = state.current();
    match served.lookup.batch(&b.items, crs, b.candidates.unwrap_or(3)) {
        Ok(answers) => Json(serde_json::json!({ "answers": answers })).into_response(),
        Err(e) => Problem::bad_request(e.to_string()).into_response(),
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct NearestParams {
    /// Longitude
    lon: Option<f64>,
    /// Latitude
    lat: Option<f64>,
    /// `wgs84` (default), `gcj02` or `bd09`
    crs: Option<String>,
    /// One kind or several, comma-separated.
    kind: Option<String>,
    /// How many (default 5)
    limit: Option<usize>,
    /// Only resources within this many metres (walking metres by walk, else straight-line)
    radius: Option<f64>,
    /// `walk` (default when the served dataset has roads or a walking layer): nearest by
    /// walking distance on the network; `straight`: nearest by great-circle distance
    by: Option<String>,
    /// Walking speed in metres a minute for `walk_min`, 20–200 (default 80, i.e. 4.8 km/h)
    speed: Option<f64>,
    /// `true`: each result carries its walking route as a GeoJSON LineString (`route`)
    route: Option<bool>,
}

/// How `/v1/resources/nearest` measures.
#[derive(Debug, Clone, Copy, PartialEq)]
enum By {
    Walk,
    Straight,
}

/// The nearest resources of the given kinds, nearest first. By walk (the default where the
/// served dataset has a walking network: its roads and `walk.geojson`): each result has
/// `walk_m` (network metres, the snap steps from the point and to the resource included),
/// `walk_min` (at `speed_m_per_min`, stated in the answer), `straight_m` (great-circle) and,
/// with `route=true`, `route` (GeoJSON LineString from the point to the resource); `distance_m`
/// is `walk_m`. By straight line (`by=straight`, or no network: the answer says
/// `"by": "straight"` and why in `note`): `distance_m` and `straight_m` are great-circle metres.
#[utoipa::path(get, path = "/v1/resources/nearest", tag = "lookup", params(NearestParams),
    responses((status = 200, description = "`{\"by\": \"walk\"|\"straight\", \"speed_m_per_min\", \"note\"?, \"resources\": [{id, kind, name, phone, hours, address, location, distance_m, straight_m, walk_m?, walk_min?, route?, reachable_on_foot?}]}`; by walk, places the point's piece of the network does not reach follow those it does, by straight line with `reachable_on_foot: false` (without `radius`)", body = serde_json::Value),
        (status = 400, description = "Bad parameters (`by` not walk or straight: `invalid_by`; `speed` outside 20–200: `invalid_speed`)", body = super::problem::ProblemBody, content_type = "application/problem+json")))]
async fn nearest(
    State(state): State<Arc<AppState>>,
    params: Result<Query<NearestParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Query(p) = match params {
        Ok(p) => p,
        Err(e) => return Problem::bad_request(e.body_text()).into_response(),
    };
    let served = state.current();
    let result = (|| -> Result<Response, Problem> {
        let at = point(p.lon, p.lat)?;
        let crs = crs(p.crs.as_deref())?;
        let by = match p.by.as_deref().map(str::trim) {
            None | Some("") => None,
            Some("walk") => Some(By::Walk),
            Some("straight") => Some(By::Straight),
            Some(other) => {
                return Err(
                    Problem::bad_request(format!("by must be walk or straight; got {other:?}")).code("invalid_by"),
                );
            }
        };
        let speed = p.speed.unwrap_or(gis_core::walk::DEFAULT_SPEED_M_PER_MIN);
        if !(20.0..=200.0).contains(&speed) {
            return Err(Problem::bad_request(format!(
                "speed is metres a minute between 20 and 200 (80 is 4.8 km/h); got {speed}"
            ))
            .code("invalid_speed"));
        }
        let kinds: Vec<String> = p
            .kind
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(|k| k.trim().to_lowercase())
            .filter(|k| !k.is_empty())
            .collect();
        let query = NearestQuery {
            kinds,
            limit: p.limit.unwrap_or(5),
            radius_m: p.radius,
        };
        // Checks the point, limit and radius, and is the straight-line answer.
        let straight = served
            .lookup
            .nearest(at, crs, &query)
            .map_err(|e| Problem::bad_request(e.to_string()))?;
        let walks = served.walk.as_deref().filter(|_| by != Some(By::Straight));
        let Some(walks) = walks else {
            let note = if by == Some(By::Straight) {
                "straight-line (great-circle) distances, as asked"
            } else {
                "straight-line (great-circle) distances: the served dataset has no roads or walking layer to walk on"
            };
            let resources: Vec<serde_json::Value> = straight
                .iter()
                .map(|r| {
                    let mut v = serde_json::to_value(r).expect("a resource serialises");
                    v["straight_m"] = serde_json::json!(r.distance_m);
                    v
                })
                .collect();
            return Ok(
                Json(serde_json::json!({ "by": "straight", "note": note, "resources": resources })).into_response(),
            );
        };
        let wgs84 = crs.to_wgs84(at);
        let Some((from, found)) = walks.nearest(wgs84, &query.kinds, query.limit, query.radius_m) else {
            return Err(Problem::bad_request(
                "the point cannot be joined to the walking network",
            ));
        };
        let mut resources: Vec<serde_json::Value> = found
            .iter()
            .map(|f| {
                let r = &served.dataset.resources[f.target];
                let mut v = serde_json::json!({
                    "id": r.id, "kind": r.kind, "name": r.name, "phone": r.phone, "hours": r.hours,
                    "address": r.address, "location": [r.location.x(), r.location.y()],
                    "distance_m": round_m(f.metres),
                    "walk_m": round_m(f.metres),
                    "walk_min": (f.metres / speed * 10.0).round() / 10.0,
                    "straight_m": round_m(gis_core::lookup::great_circle_m(wgs84, r.location.0)),
                });
                if p.route == Some(true)
                    && let Some(route) = walks.route(&from, f.target)
                {
                    let coords: Vec<[f64; 2]> = route.line.0.iter().map(|c| [c.x, c.y]).collect();
                    v["route"] = serde_json::json!({"type": "LineString", "coordinates": coords});
                }
                v
            })
            .collect();
        // Fewer than asked with no radius: the search walked all of the point's piece of the
        // network (real networks come in pieces: islands, gated estates, data that stops). The
        // places of the kinds it could not reach are still the nearest answer a resident needs,
        // given by straight line and marked so, never left out as if there were none.
        let mut answer = serde_json::json!({
            "by": "walk",
            "speed_m_per_min": speed,
            "snap_m": round_m(from.snap_m),
        });
        if resources.len() < query.limit && query.radius_m.is_none() {
            let walked: std::collections::HashSet<&str> = found
                .iter()
                .map(|f| served.dataset.resources[f.target].id.as_str())
                .collect();
            let unreachable: Vec<serde_json::Value> = straight
                .iter()
                .filter(|r| !walked.contains(r.id.as_str()))
                .take(query.limit - resources.len())
                .map(|r| {
                    let mut v = serde_json::to_value(r).expect("a resource serialises");
                    v["straight_m"] = serde_json::json!(r.distance_m);
                    v["reachable_on_foot"] = serde_json::json!(false);
                    v
                })
                .collect();
            if !unreachable.is_empty() {
                answer["note"] = serde_json::json!(format!(
                    "{} of these cannot be reached on the walking network from this point (it is in pieces here): their distance_m is a straight line, and they have no walk_m",
                    unreachable.len()
                ));
                resources.extend(unreachable);
            }
        }
        answer["resources"] = serde_json::json!(resources);
        Ok(Json(answer).into_response())
    })();
    result.unwrap_or_else(IntoResponse::into_response)
}

/// Metres to the centimetre: a walk is not known better, and answers stay short.
fn round_m(m: f64) -> f64 {
    (m * 100.0).round() / 100.0
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct SuggestParams {
    /// What has been typed so far (1–100 characters): part of an address (嘉禾公寓3, 康乐路31号),
    /// a compound, resource or community name, a grid code, or pinyin initials (klzs)
    q: Option<String>,
    /// How many suggestions, 1–20 (default 8)
    limit: Option<String>,
}

/// Suggestions as people type, best first: communities, compounds (小区; a compound typed without
/// its section suggests every section), resources (by name or street address), building
/// addresses and grids. Ranked by how the text matched (`exact`, `prefix`, `infix`, `initials`),
/// then by kind (community, compound, resource, address, grid), then by how much is left to
/// type, then by label in natural order. Each suggestion carries what choosing it opens: a
/// building's id (`/v1/lookup?building=`), a compound and community, a resource's id and kind, a
/// grid code (`/v1/lookup?grid=`), and a point.
#[utoipa::path(get, path = "/v1/suggest", tag = "lookup", params(SuggestParams),
    responses((status = 200, description = "`{\"suggestions\": [{kind, match, label, detail, address, building, compound, resource, resource_kind, community_code, community_name, grid, location}]}` (possibly empty)", body = serde_json::Value),
        (status = 400, description = "No or blank `q` (`missing_query`, `empty_query`), `q` over 100 characters (`query_too_long`), `limit` not a whole number in 1–20 (`invalid_limit`)", body = super::problem::ProblemBody, content_type = "application/problem+json")))]
async fn suggest(
    State(state): State<Arc<AppState>>,
    params: Result<Query<SuggestParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    use gis_core::lookup::{LookupError, MAX_SUGGESTIONS};
    let Query(p) = match params {
        Ok(p) => p,
        Err(e) => return Problem::bad_request(e.body_text()).into_response(),
    };
    let Some(q) = p.q else {
        return Problem::bad_request("give q, the text typed so far")
            .code("missing_query")
            .into_response();
    };
    let limit = match p.limit.as_deref().map(str::trim) {
        None => 8,
        Some(l) => match l.parse::<usize>() {
            Ok(n) => n,
            Err(_) => {
                return Problem::bad_request(format!(
                    "limit must be a whole number between 1 and {MAX_SUGGESTIONS}; got {l:?}"
                ))
                .code("invalid_limit")
                .into_response();
            }
        },
    };
    match state.current().lookup.suggest(&q, limit) {
        Ok(suggestions) => Json(serde_json::json!({ "suggestions": suggestions })).into_response(),
        Err(e) => {
            let code = match e {
                LookupError::EmptyQuery => "empty_query",
                LookupError::QueryTooLong { .. } => "query_too_long",
                LookupError::InvalidLimit { .. } => "invalid_limit",
                _ => "bad_request",
            };
            Problem::bad_request(e.to_string()).code(code).into_response()
        }
    }
}
