//! `/v1/access`: life-circle coverage (生活圈) per grid and community — the share of residents
//! and households within each circle's walk of each service kind, and the buildings furthest
//! from it — and `/v1/access/buildings`: every building's walk to one kind, for the planner's
//! map. Computed once per served snapshot, at the first request ([`Snapshot::access`]).

use super::{AppState, Problem};
use crate::snapshot::Snapshot;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use gis_core::access::{Access, AreaAccess};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(coverage))
        .routes(routes!(buildings))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct AccessParams {
    /// One grid's code (a basic or exclusive grid; micro-grids are not assessed)
    grid: Option<String>,
    /// One community's code: the community and its grids
    community: Option<String>,
    /// Only these service kinds, comma-separated (kinds the life-circle settings place:
    /// `clinic`, `school`, … ; see `kinds` in an answer without it)
    kind: Option<String>,
}

/// The kinds asked for, each one the settings place; all of them when none is given.
fn kinds(access: &Access, asked: Option<&str>) -> Result<Vec<String>, Problem> {
    let known: Vec<&String> = access.config.kinds.keys().collect();
    let asked: Vec<String> = asked
        .unwrap_or("")
        .split(',')
        .map(|k| k.trim().to_lowercase())
        .filter(|k| !k.is_empty())
        .collect();
    if asked.is_empty() {
        return Ok(known.into_iter().cloned().collect());
    }
    for k in &asked {
        if !access.config.kinds.contains_key(k) {
            return Err(Problem::bad_request(format!(
                "kind {k:?} is not a life-circle kind of this dataset; expected some of {}",
                known.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
            ))
            .code("unknown_kind"));
        }
    }
    Ok(asked)
}

fn only(area: &AreaAccess, kinds: &[String]) -> AreaAccess {
    AreaAccess {
        kinds: area.kinds.iter().filter(|k| kinds.contains(&k.kind)).cloned().collect(),
        ..area.clone()
    }
}

/// The snapshot's life circles, computed in a blocking task the first time.
async fn computed(served: Arc<Snapshot>) -> Result<Arc<Access>, Problem> {
    tokio::task::spawn_blocking(move || served.access())
        .await
        .map_err(|e| Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal error", e.to_string()))
}

/// Life-circle coverage: per community and grid (all, one community with its grids, or one
/// grid), per service kind, the residents and households within each circle's walk (GB
/// 50180-2018: 5, 10 and 15 minutes, about 300, 500 and 1,000 m) of the nearest place of the
/// kind, their shares, the share within the kind's own circle (`covered_share`), who is beyond
/// it, and the buildings beyond it most residents × metres first; without `grid` or `community`
/// also, per kind, the grids with most residents beyond its circle and the region's furthest
/// buildings ("where would a new clinic help most?"). Walks are on the dataset's walking
/// network (roads and `walk.geojson`); circles and kinds from its `access.json`, else the
/// standards' defaults.
#[utoipa::path(get, path = "/v1/access", tag = "access", params(AccessParams),
    responses((status = 200, description = "`{\"version\", \"speed_m_per_min\", \"circles\": [{minutes, metres}], \"kinds\": [{kind, circle, places, joined}], \"network\", \"homes_not_joined\", \"communities\": [area], \"grids\": [area], \"furthest\": [{kind, grids, buildings}] | null}`; an area is `{code, name, community_code, grid_kind, residents, households, kinds: [{kind, circle, within: [{minutes, metres, residents, households, residents_share, households_share}], covered_share, residents_beyond, households_beyond, residents_unreached, furthest: [{id, address, grid, community_code, residents, households, metres, minutes, nearest, nearest_name}]}]}`", body = Value),
        (status = 400, description = "`grid` and `community` both given (`bad_request`), or a kind the settings do not place (`unknown_kind`)", body = super::problem::ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such grid (`unknown_grid`) or community (`unknown_community`)", body = super::problem::ProblemBody, content_type = "application/problem+json")))]
async fn coverage(
    State(state): State<Arc<AppState>>,
    params: Result<Query<AccessParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Query(p) = match params {
        Ok(p) => p,
        Err(e) => return Problem::bad_request(e.body_text()).into_response(),
    };
    let served = state.current();
    let version = served.version;
    let result = async {
        if p.grid.is_some() && p.community.is_some() {
            return Err(Problem::bad_request("give grid or community, not both"));
        }
        let access = computed(served).await?;
        let kinds = kinds(&access, p.kind.as_deref())?;
        let r = &access.report;
        let (communities, grids) = match (&p.grid, &p.community) {
            (Some(code), _) => {
                let g = r.grid(code).ok_or_else(|| {
                    Problem::not_found(format!(
                        "no grid {code:?} in the served version (micro-grids are not assessed)"
                    ))
                    .code("unknown_grid")
                })?;
                (Vec::new(), vec![only(g, &kinds)])
            }
            (None, Some(code)) => {
                let c = r.community(code).ok_or_else(|| {
                    Problem::not_found(format!("no community {code:?} in the served version")).code("unknown_community")
                })?;
                let grids = r
                    .grids
                    .iter()
                    .filter(|g| g.community_code.as_deref() == Some(code.as_str()))
                    .map(|g| only(g, &kinds))
                    .collect();
                (vec![only(c, &kinds)], grids)
            }
            (None, None) => (
                r.communities.iter().map(|a| only(a, &kinds)).collect(),
                r.grids.iter().map(|a| only(a, &kinds)).collect(),
            ),
        };
        let whole = p.grid.is_none() && p.community.is_none();
        Ok(Json(json!({
            "version": version,
            "speed_m_per_min": r.speed_m_per_min,
            "circles": r.circles,
            "kinds": r.kinds.iter().filter(|k| kinds.contains(&k.kind)).collect::<Vec<_>>(),
            "network": r.network,
            "homes_not_joined": r.homes_not_joined,
            "communities": communities,
            "grids": grids,
            "furthest": whole.then(|| r.furthest.iter().filter(|f| kinds.contains(&f.kind)).collect::<Vec<_>>()),
        }))
        .into_response())
    };
    result.await.unwrap_or_else(IntoResponse::into_response)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct BuildingsParams {
    /// The service kind (one the life-circle settings place)
    kind: Option<String>,
    /// Only this community's buildings
    community: Option<String>,
}

/// Every building's walk to the nearest place of one kind, as GeoJSON points at the buildings'
/// anchors (or entrances) for the planner's map: `metres` and `minutes` (null: no place of the
/// kind reachable), `band` (the minutes of the nearest life circle the walk is within, null
/// beyond them all), `residents`; the circles and speed in the collection's `access` member.
#[utoipa::path(get, path = "/v1/access/buildings", tag = "access", params(BuildingsParams),
    responses((status = 200, description = "A GeoJSON FeatureCollection of Points with `id`, `residents`, `metres`, `minutes`, `band`; `access`: `{kind, circle, circles, speed_m_per_min}`", body = Value, content_type = "application/geo+json"),
        (status = 400, description = "No `kind` (`missing_kind`), or one the settings do not place (`unknown_kind`)", body = super::problem::ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such community (`unknown_community`)", body = super::problem::ProblemBody, content_type = "application/problem+json")))]
async fn buildings(
    State(state): State<Arc<AppState>>,
    params: Result<Query<BuildingsParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Query(p) = match params {
        Ok(p) => p,
        Err(e) => return Problem::bad_request(e.body_text()).into_response(),
    };
    let served = state.current();
    let result = async {
        let Some(kind) = p
            .kind
            .as_deref()
            .map(|k| k.trim().to_lowercase())
            .filter(|k| !k.is_empty())
        else {
            return Err(Problem::bad_request("give kind, the service kind to walk to").code("missing_kind"));
        };
        let community = match &p.community {
            None => None,
            Some(code) => Some(
                served
                    .dataset
                    .communities
                    .iter()
                    .position(|c| c.code.as_str() == code)
                    .ok_or_else(|| {
                        Problem::not_found(format!("no community {code:?} in the served version"))
                            .code("unknown_community")
                    })?,
            ),
        };
        let dataset = served.dataset.clone();
        let access = computed(served).await?;
        let kind = kinds(&access, Some(&kind))?.remove(0);
        let config = &access.config;
        let walks = access.building_walks(&kind).expect("a placed kind is walked");
        let round = |x: f64| (x * 10.0).round() / 10.0;
        let features: Vec<Value> = walks
            .filter(|(b, _, _)| community.is_none_or(|c| dataset.buildings[*b].community == c))
            .map(|(b, metres, band)| {
                let building = &dataset.buildings[b];
                json!({
                    "type": "Feature",
                    "id": building.id,
                    "geometry": {"type": "Point", "coordinates": [building.anchor.x(), building.anchor.y()]},
                    "properties": {
                        "id": building.id,
                        "residents": building.population,
                        "metres": metres.map(round),
                        "minutes": metres.map(|m| round(config.minutes(m))),
                        "band": band.map(|i| config.circles[i].minutes),
                    }
                })
            })
            .collect();
        let body = json!({
            "type": "FeatureCollection",
            "access": {
                "kind": kind,
                "circle": config.circle_of(&kind),
                "circles": config.circles,
                "speed_m_per_min": config.speed_m_per_min,
            },
            "features": features,
        });
        Ok((
            [(axum::http::header::CONTENT_TYPE, "application/geo+json")],
            serde_json::to_vec(&body).unwrap_or_default(),
        )
            .into_response())
    };
    result.await.unwrap_or_else(IntoResponse::into_response)
}
