//! A building's grid card a resident can keep: `/b/{id}`, the stable link that opens it on the
//! web map; `/v1/buildings/{id}/placard.png|pdf`, the building's notice board (楼栋公示牌) with
//! a QR code of that link; `/v1/grids/{code}/placards.pdf`, every building of a grid. Drawn on
//! every request from the version being served (no cache): after a publish the next placard
//! shows the new grid and workers, and its version number.

use super::{AppState, Problem, base_url};
use crate::placards::{PlacardsError, Source};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(building_link))
        .routes(routes!(building_placard))
        .routes(routes!(grid_placards))
}

/// The link printed in the QR code: opens the building's grid card on the web map.
#[utoipa::path(get, path = "/b/{id}", tag = "lookup",
    params(("id" = String, Path, description = "A building's id")),
    responses((status = 303, description = "To the web map with the building's grid card open (`/?building={id}`)"),
        (status = 404, description = "No such building (code `no_such_building`)", body = super::problem::ProblemBody, content_type = "application/problem+json")))]
async fn building_link(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    if state.current().lookup.building(&id).is_none() {
        return Problem::not_found(format!("no building has the id {id:?}"))
            .code("no_such_building")
            .into_response();
    }
    let query: String = url_query(&id);
    Redirect::to(&format!("/?building={query}")).into_response()
}

/// `id` escaped for a query string's value.
fn url_query(id: &str) -> String {
    percent_encoding::utf8_percent_encode(id, crate::placards::UNRESERVED).to_string()
}

/// The base of the links printed: `--public-url`, else where this request reached the service.
fn public_url(state: &AppState, headers: &HeaderMap) -> String {
    state.public_url().map_or_else(|| base_url(headers), str::to_string)
}

/// The served version's number and publication day.
async fn version_of(state: &AppState) -> (Option<i64>, String) {
    let served = state.current();
    let Some(v) = served.version else {
        return (None, tiles::print::today());
    };
    let day = match &state.store {
        Some(store) => match store.version(v).await {
            Ok(info) => crate::placards::day_of(&info.published_at),
            Err(_) => tiles::print::today(),
        },
        None => tiles::print::today(),
    };
    (Some(v), day)
}

fn drawn(bytes: Vec<u8>, kind: &'static str, name: &str) -> Response {
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    // Drawn from the version served now: never from a cache after a publish.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

fn problem(e: PlacardsError) -> Problem {
    match e {
        PlacardsError::NoSuchBuilding(_) => Problem::not_found(e.to_string()).code("no_such_building"),
        PlacardsError::NoSuchGrid(_) => Problem::not_found(e.to_string()).code("no_such_grid"),
        PlacardsError::Draw(tiles::placard::PlacardError::NoCjkFont) => {
            Problem::new(StatusCode::SERVICE_UNAVAILABLE, "No CJK font", e.to_string())
        }
        e => Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal error", e.to_string()),
    }
}

/// A file name's safe form.
fn safe(s: &str) -> String {
    s.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_")
}

/// The building's notice board (楼栋公示牌), A4 portrait at 150 dpi: its address and community,
/// its grid (code, kind, institution, micro-grid), the workers with their phones, the nearest
/// clinic, pharmacy and shop, a QR code of `/b/{id}` under `--public-url` (else this request's
/// host), and the version's number and date; or what it says, as JSON (needs no font).
#[utoipa::path(get, path = "/v1/buildings/{id}/{file}", tag = "lookup",
    params(("id" = String, Path, description = "A building's id"), ("file" = String, Path, description = "`placard.png`, `placard.pdf` or `placard.json`")),
    responses((status = 200, description = "The placard as PNG or PDF (one A4 page), or what it says as JSON (`building`, `address`, `full_address`, `community_name`, `community_code`, `grid`, `kind`, `grid_name`, `micro_grid`, `staff` [{role, name, phone}], `nearby` [{kind, name, distance_m}], `link`, `version`, `date`)"),
        (status = 404, description = "No such building (code `no_such_building`), or not `placard.png`/`.pdf`/`.json` (code `not_found`)", body = super::problem::ProblemBody, content_type = "application/problem+json"),
        (status = 503, description = "No CJK font on the server (code `no_cjk_font`)", body = super::problem::ProblemBody, content_type = "application/problem+json")))]
async fn building_placard(
    State(state): State<Arc<AppState>>,
    Path((id, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let (ext, kind) = match file.as_str() {
        "placard.png" => ("png", "image/png"),
        "placard.pdf" => ("pdf", "application/pdf"),
        "placard.json" => ("json", "application/json"),
        _ => {
            return Problem::not_found(
                "a building's placard is at /v1/buildings/{id}/placard.png, placard.pdf or placard.json",
            )
            .into_response();
        }
    };
    let (version, date) = version_of(&state).await;
    let url = public_url(&state, &headers);
    let served = state.current();
    let name = format!("placard-{}.{ext}", safe(&id));
    let made = tokio::task::spawn_blocking(move || {
        let src = Source {
            lookup: &served.lookup,
            dataset: &served.dataset,
            walks: served.walk.as_deref(),
            version,
            date,
            public_url: &url,
        };
        let placard = crate::placards::placard(&src, &id).ok_or(PlacardsError::NoSuchBuilding(id))?;
        Ok::<_, PlacardsError>(match ext {
            "pdf" => tiles::placard::render_pdf(std::slice::from_ref(&placard))?,
            "png" => tiles::placard::render_png(&placard)?,
            _ => serde_json::to_vec(&crate::placards::to_json(&placard)).expect("JSON serialises"),
        })
    })
    .await
    .expect("drawing a placard does not panic");
    match made {
        Ok(bytes) => drawn(bytes, kind, &name),
        Err(e) => problem(e).into_response(),
    }
}

/// The placards of every building of a grid, one A4 page each, in natural order of their ids:
/// for the grid worker's round after a publish.
#[utoipa::path(get, path = "/v1/grids/{code}/placards.pdf", tag = "lookup",
    params(("code" = String, Path, description = "A grid's code")),
    responses((status = 200, description = "PDF, one placard a page", content_type = "application/pdf"),
        (status = 404, description = "No such grid (code `no_such_grid`), or a grid with no building (code `no_such_building`)", body = super::problem::ProblemBody, content_type = "application/problem+json"),
        (status = 503, description = "No CJK font on the server (code `no_cjk_font`)", body = super::problem::ProblemBody, content_type = "application/problem+json")))]
async fn grid_placards(State(state): State<Arc<AppState>>, Path(code): Path<String>, headers: HeaderMap) -> Response {
    let (version, date) = version_of(&state).await;
    let url = public_url(&state, &headers);
    let served = state.current();
    let name = format!("placards-{}.pdf", safe(&code));
    let made = tokio::task::spawn_blocking(move || {
        let ids = crate::placards::buildings_of_grid(&served.grids, &code)
            .ok_or_else(|| PlacardsError::NoSuchGrid(code.clone()))?;
        if ids.is_empty() {
            return Err(PlacardsError::NoSuchBuilding(format!("(none in grid {code})")));
        }
        let src = Source {
            lookup: &served.lookup,
            dataset: &served.dataset,
            walks: served.walk.as_deref(),
            version,
            date,
            public_url: &url,
        };
        let placards = crate::placards::placards(&src, &ids)?;
        Ok(tiles::placard::render_pdf(&placards)?)
    })
    .await
    .expect("drawing placards does not panic");
    match made {
        Ok(bytes) => drawn(bytes, "application/pdf", &name),
        Err(e) => problem(e).into_response(),
    }
}
