//! `/tiles/{z}/{x}/{y}.mvt|.png|@2x.png`, `/tiles.json`, `/style.json`, from the snapshot's tile
//! cache with ETags, so a map panning back and forth costs one render per tile.

use super::{AppState, Problem, base_url};
use crate::snapshot::tile_cache::Format;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use rustc_hash::FxHashMap;
use std::sync::{Arc, Mutex};
use tiles::mercator::TileId;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(tile))
        .routes(routes!(tilejson))
        .routes(routes!(style))
        .routes(routes!(glyphs))
        .routes(routes!(sprite))
        .routes(routes!(print_map))
}

/// The printable grid map (网格图) of one community: A3 landscape at 150 dpi, with every grid's
/// workers and phones in its table (a long table continues beside the legend, then on further
/// pages: one under the other in the PNG, one a page in the PDF). Drawn from the served version
/// and the staff as they are now.
#[utoipa::path(get, path = "/map/{file}", tag = "tiles",
    params(("file" = String, Path, description = "`{community code}.png` or `{community code}.pdf`")),
    responses((status = 200, description = "PNG or PDF"), (status = 404, description = "No such community", body = super::problem::ProblemBody, content_type = "application/problem+json")))]
async fn print_map(State(state): State<Arc<AppState>>, Path(file): Path<String>) -> Response {
    let (code, pdf) = match (file.strip_suffix(".png"), file.strip_suffix(".pdf")) {
        (Some(c), _) => (c.to_string(), false),
        (_, Some(c)) => (c.to_string(), true),
        _ => {
            return Problem::not_found("printable maps are at /map/{community code}.png or .pdf").into_response();
        }
    };
    let served = state.current();
    let rendered = tokio::task::spawn_blocking(move || {
        let staff: Vec<gis_core::model::Staff> = served
            .grids
            .iter()
            .filter(|g| g.community_code == code)
            .flat_map(|g| served.lookup.staff_of(&g.code).iter().cloned())
            .collect();
        let opts = tiles::print::PrintOptions::a3(tiles::print::today())
            .with_staff(staff)
            .with_version(served.version);
        if pdf {
            tiles::print::render_pdf(&served.map, &code, &opts)
        } else {
            tiles::print::render_png(&served.map, &code, &opts)
        }
    })
    .await
    .expect("printing does not panic");
    match rendered {
        Ok(bytes) => {
            let mut r = bytes.into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(if pdf { "application/pdf" } else { "image/png" }),
            );
            r
        }
        Err(e) => Problem::not_found(e.to_string())
            .code("no_such_community")
            .into_response(),
    }
}

/// A glyph range's PBF by (fontstack, range).
type GlyphRanges = FxHashMap<(String, String), Arc<Vec<u8>>>;

/// Glyph ranges by (fontstack, range); they never change, so they are made once.
static GLYPHS: std::sync::LazyLock<Mutex<GlyphRanges>> = std::sync::LazyLock::new(|| Mutex::new(FxHashMap::default()));

/// SDF glyphs for the style's labels (MapLibre's glyph PBF ranges).
#[utoipa::path(get, path = "/fonts/{fontstack}/{range}", tag = "tiles",
    params(("fontstack" = String, Path, description = "Comma-separated font names"), ("range" = String, Path, description = "`{start}-{end}.pbf`, 256 code points")),
    responses((status = 200, description = "Glyph PBF", content_type = "application/x-protobuf"), (status = 404, description = "Unknown font", body = super::problem::ProblemBody, content_type = "application/problem+json")))]
async fn glyphs(Path((fontstack, range)): Path<(String, String)>) -> Response {
    let Some(range) = range.strip_suffix(".pbf").map(str::to_string) else {
        return Problem::not_found("glyph ranges are at /fonts/{fontstack}/{start}-{end}.pbf").into_response();
    };
    let key = (fontstack.clone(), range.clone());
    let cached = GLYPHS.lock().expect("glyph cache").get(&key).cloned();
    let bytes = match cached {
        Some(b) => b,
        None => match tokio::task::spawn_blocking(move || tiles::glyphs::glyphs(&fontstack, &range))
            .await
            .expect("glyphs do not panic")
        {
            Ok(b) => {
                let b = Arc::new(b);
                GLYPHS.lock().expect("glyph cache").insert(key, b.clone());
                b
            }
            Err(e @ tiles::glyphs::GlyphError::UnknownFontstack { .. }) => {
                return Problem::not_found(e.to_string()).into_response();
            }
            Err(e) => return Problem::bad_request(e.to_string()).into_response(),
        },
    };
    let mut r = (*bytes).clone().into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-protobuf"));
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"));
    r
}

/// The style's resource icons as a sprite sheet and its index.
#[utoipa::path(get, path = "/sprites/{file}", tag = "tiles",
    params(("file" = String, Path, description = "`sprite.json`, `sprite.png`, `sprite@2x.json` or `sprite@2x.png`")),
    responses((status = 200, description = "Sprite image or index"), (status = 404, description = "No such file", body = super::problem::ProblemBody, content_type = "application/problem+json")))]
async fn sprite(Path(file): Path<String>) -> Response {
    let (ratio, ext) = match file.as_str() {
        "sprite.json" => (1, "json"),
        "sprite.png" => (1, "png"),
        "sprite@2x.json" => (2, "json"),
        "sprite@2x.png" => (2, "png"),
        _ => return Problem::not_found("the sprite is at /sprites/sprite{,@2x}.{json,png}").into_response(),
    };
    let (png, json) = tiles::sprite::sprite(ratio);
    let (bytes, kind) = if ext == "png" {
        (png, "image/png")
    } else {
        (json.into_bytes(), "application/json")
    };
    let mut r = bytes.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"));
    r
}

/// Parses `{y}.mvt`, `{y}.png` and `{y}@2x.png`.
fn parse_file(file: &str) -> Result<(u32, Format), Problem> {
    let bad = || {
        Problem::bad_request(format!(
            "{file:?} is not a tile name: expected {{y}}.mvt, {{y}}.png or {{y}}@2x.png"
        ))
    };
    let (stem, format) = if let Some(s) = file.strip_suffix(".mvt").or_else(|| file.strip_suffix(".pbf")) {
        (s, Format::Mvt)
    } else if let Some(s) = file.strip_suffix("@2x.png") {
        (s, Format::Png(2))
    } else if let Some(s) = file.strip_suffix(".png") {
        (s, Format::Png(1))
    } else {
        return Err(bad());
    };
    let y = stem.parse::<u32>().map_err(|_| bad())?;
    Ok((y, format))
}

/// A map tile: Mapbox Vector Tile 2.1 (layers communities, density, grids, micro_grids, roads,
/// buildings, resources, and the labels' road_names, grid_labels, community_labels,
/// compound_labels, building_labels) or a PNG (256 px, or 512 px for `@2x`). ETag and 304
/// supported.
#[utoipa::path(get, path = "/tiles/{z}/{x}/{file}", tag = "tiles",
    params(("z" = u32, Path, description = "Zoom, 0–22"), ("x" = u32, Path), ("file" = String, Path, description = "`{y}.mvt`, `{y}.png` or `{y}@2x.png`")),
    responses((status = 200, description = "The tile"), (status = 304, description = "Unchanged (If-None-Match)"), (status = 400, description = "Not a tile", body = super::problem::ProblemBody, content_type = "application/problem+json")))]
async fn tile(
    State(state): State<Arc<AppState>>,
    Path((z, x, file)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let parsed = (|| {
        let z: u32 = z
            .parse()
            .map_err(|_| Problem::bad_request(format!("zoom {z:?} is not a whole number")))?;
        let x: u32 = x
            .parse()
            .map_err(|_| Problem::bad_request(format!("x {x:?} is not a whole number")))?;
        let (y, format) = parse_file(&file)?;
        let id = TileId::new(z, x, y).map_err(|e| Problem::bad_request(e.to_string()))?;
        Ok::<_, Problem>((id, format))
    })();
    let (id, format) = match parsed {
        Ok(p) => p,
        Err(p) => return p.into_response(),
    };
    let served = state.current();
    // Rendering is CPU work: off the async workers.
    let (cached, rendered) = tokio::task::spawn_blocking(move || {
        served.tiles.get_or_render((id, format), || match format {
            Format::Mvt => tiles::mvt::encode(&served.map, id),
            Format::Png(scale) => tiles::raster::render_png(&served.map, id, scale),
        })
    })
    .await
    .expect("tile rendering does not panic");
    let counter = if rendered {
        &state.metrics.tile_renders
    } else {
        &state.metrics.tile_cache_hits
    };
    counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut res = if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == cached.etag))
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = (*cached.bytes).clone().into_response();
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
        r
    };
    let h = res.headers_mut();
    h.insert(
        header::ETAG,
        HeaderValue::from_str(&cached.etag).expect("etag is ASCII"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=60"));
    res
}

/// TileJSON 3.0.0 for the vector tiles.
#[utoipa::path(get, path = "/tiles.json", tag = "tiles", responses((status = 200, description = "TileJSON, with `search_example`: an address of the served data for a search box's placeholder (null when the data has none)", body = serde_json::Value)))]
async fn tilejson(State(state): State<Arc<AppState>>, headers: HeaderMap) -> impl IntoResponse {
    let served = state.current();
    let mut tj = tiles::style::tilejson(&served.map, &base_url(&headers));
    tj["search_example"] = served.lookup.search_example().into();
    Json(tj)
}

/// The MapLibre style (v8) over the vector tiles, glyphs and sprite.
#[utoipa::path(get, path = "/style.json", tag = "tiles", responses((status = 200, description = "MapLibre style", body = serde_json::Value)))]
async fn style(State(state): State<Arc<AppState>>, headers: HeaderMap) -> impl IntoResponse {
    Json(tiles::style::style(&state.current().map, &base_url(&headers)))
}
