//! `/tiles/{z}/{x}/{y}.mvt|.png|@2x.png`, `/tiles.json`, `/style.json`, from the snapshot's tile
//! cache with ETags, so a map panning back and forth costs one render per tile; and the same
//! tiles and TileJSON at a version's own URLs (`/v/{version}/…`), immutable, which the style
//! and TileJSON point at so that caches never serve a tile of an old version for a new one.

use super::{AppState, Problem, base_url};
use crate::snapshot::tile_cache::Format;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rustc_hash::FxHashMap;
use std::sync::{Arc, Mutex};
use tiles::mercator::TileId;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(tile))
        .routes(routes!(versioned_tile))
        .routes(routes!(tilejson))
        .routes(routes!(versioned_tilejson))
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
/// compound_labels, building_labels) or a PNG (256 px, or 512 px for `@2x`), of the version
/// served now; cached for a minute. ETag and 304 supported. `/style.json` and `/tiles.json`
/// point at the version-addressed URLs instead, which caches may keep forever.
#[utoipa::path(get, path = "/tiles/{z}/{x}/{file}", tag = "tiles",
    params(("z" = u32, Path, description = "Zoom, 0–22"), ("x" = u32, Path), ("file" = String, Path, description = "`{y}.mvt`, `{y}.png` or `{y}@2x.png`")),
    responses((status = 200, description = "The tile"), (status = 304, description = "Unchanged (If-None-Match)"), (status = 400, description = "Not a tile", body = super::problem::ProblemBody, content_type = "application/problem+json")))]
async fn tile(
    State(state): State<Arc<AppState>>,
    Path((z, x, file)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let served = state.current();
    tile_answer(&state, served, &z, &x, &file, &headers, SHORT).await
}

/// A tile of one published version, at a URL whose answer never changes: `Cache-Control:
/// public, max-age=31536000, immutable` and an ETag the same on every replica. The style and
/// TileJSON point here, so a CDN or proxy caches tiles forever and a publish switches every
/// client at once (the style names the new version). Served for the current version and, for
/// five minutes after a publish, the one before it; an older version answers `410`
/// `version_gone` naming the current one; a newer one this service has not loaded yet `503`
/// `version_not_loaded` (retry: it will within seconds); a version never published `404`
/// `no_such_version`. None of these answers may be cached (`no-store`).
#[utoipa::path(get, path = "/v/{version}/tiles/{z}/{x}/{file}", tag = "tiles",
    params(("version" = i64, Path, description = "A published version (see `/v1/versions`)"), ("z" = u32, Path, description = "Zoom, 0–22"), ("x" = u32, Path), ("file" = String, Path, description = "`{y}.mvt`, `{y}.png` or `{y}@2x.png`")),
    responses((status = 200, description = "The tile; immutable"), (status = 304, description = "Unchanged (If-None-Match)"), (status = 400, description = "Not a tile or not a version number", body = super::problem::ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such version (`no_such_version`)", body = super::problem::ProblemBody, content_type = "application/problem+json"),
        (status = 410, description = "An older version no longer served (`version_gone`, with `current_version` and its `tilejson`)", body = super::problem::ProblemBody, content_type = "application/problem+json"),
        (status = 503, description = "A version published but not loaded here yet (`version_not_loaded`, `Retry-After`)", body = super::problem::ProblemBody, content_type = "application/problem+json")))]
async fn versioned_tile(
    State(state): State<Arc<AppState>>,
    Path((version, z, x, file)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> Response {
    match at_version(&state, &version, &headers).await {
        Ok(served) => tile_answer(&state, served, &z, &x, &file, &headers, IMMUTABLE).await,
        Err(res) => res,
    }
}

/// How long a tile may be kept: a minute at a URL that serves whatever version is current;
/// forever at a version's own URL.
const SHORT: &str = "public, max-age=60";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

async fn tile_answer(
    state: &AppState,
    served: Arc<crate::snapshot::Snapshot>,
    z: &str,
    x: &str,
    file: &str,
    headers: &HeaderMap,
    cache: &'static str,
) -> Response {
    let parsed = (|| {
        let z: u32 = z
            .parse()
            .map_err(|_| Problem::bad_request(format!("zoom {z:?} is not a whole number")))?;
        let x: u32 = x
            .parse()
            .map_err(|_| Problem::bad_request(format!("x {x:?} is not a whole number")))?;
        let (y, format) = parse_file(file)?;
        let id = TileId::new(z, x, y).map_err(|e| Problem::bad_request(e.to_string()))?;
        Ok::<_, Problem>((id, format))
    })();
    let (id, format) = match parsed {
        Ok(p) => p,
        Err(p) => return p.into_response(),
    };
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
    let mut res = if matches_etag(headers, &cached.etag) {
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
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    res
}

/// Whether the request's If-None-Match names `etag`.
fn matches_etag(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
}

/// The snapshot of version `version` if it is served here, or the answer saying why not (never
/// cached: the same URL may be served later, here or by another replica).
async fn at_version(
    state: &AppState,
    version: &str,
    headers: &HeaderMap,
) -> Result<Arc<crate::snapshot::Snapshot>, Response> {
    let refuse = |p: Problem| {
        let mut res = p.into_response();
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        res
    };
    let Ok(v) = version.parse::<i64>() else {
        return Err(refuse(Problem::bad_request(format!(
            "{version:?} is not a version number; see /v1/versions"
        ))));
    };
    if let Some(served) = state.served_version(v) {
        return Ok(served);
    }
    let current = state.current().version;
    let now = current.map_or_else(
        || "nothing is served".to_string(),
        |c| format!("the current version is {c}"),
    );
    if let Some(c) = current
        && (1..c).contains(&v)
    {
        return Err(refuse(
            Problem::new(
                StatusCode::GONE,
                "Version gone",
                format!(
                    "version {v} is no longer served; {now}: /style.json and /tiles.json point at its tiles ({}/v/{c}/tiles.json)",
                    base_url(headers)
                ),
            )
            .with("current_version", c.into())
            .with("tilejson", format!("{}/v/{c}/tiles.json", base_url(headers)).into()),
        ));
    }
    // Newer than what is served: published but not loaded here yet (this replica is a moment
    // behind the one that served the style), or not published at all. A hot standby may not
    // have replayed the publish yet either: the next number is taken for one on its way.
    let published = match &state.store {
        Some(store) if v >= 1 => match tokio::time::timeout(std::time::Duration::from_secs(3), store.current()).await {
            Ok(Ok(Some(info))) => info.number + i64::from(store.is_standby()) >= v,
            _ => false,
        },
        _ => false,
    };
    let p = if published {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Version not loaded",
            format!("version {v} is published but this service has not loaded it yet ({now}); retry in a second"),
        )
        .code("version_not_loaded")
    } else {
        Problem::not_found(format!("version {v} is not published; {now}")).code("no_such_version")
    };
    let mut res = refuse(p.with("current_version", current.map_or(serde_json::Value::Null, Into::into)));
    if published {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    Err(res)
}

/// A JSON answer with an ETag of its bytes (304 when the client has them) and `cache`.
fn json_answer(value: &serde_json::Value, headers: &HeaderMap, cache: &'static str) -> Response {
    use std::hash::{Hash, Hasher};
    let bytes = serde_json::to_vec(value).expect("JSON serialises");
    let mut h = rustc_hash::FxHasher::default();
    bytes.hash(&mut h);
    let etag = format!("\"{:016x}\"", h.finish());
    let mut res = if matches_etag(headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = bytes.into_response();
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        r
    };
    res.headers_mut()
        .insert(header::ETAG, HeaderValue::from_str(&etag).expect("etag is ASCII"));
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    res
}

/// The TileJSON of `served`: its tiles at the version's own URLs when it is a published version.
fn tilejson_of(served: &crate::snapshot::Snapshot, base: &str) -> serde_json::Value {
    let mut tj = tiles::style::tilejson(&served.map, base);
    if let Some(v) = served.version {
        tj["tiles"] = serde_json::json!([format!("{base}/v/{v}/tiles/{{z}}/{{x}}/{{y}}.mvt")]);
    }
    tj["search_example"] = served.lookup.search_example().into();
    tj
}

/// TileJSON 3.0.0 for the vector tiles of the version served now, whose `tiles` are that
/// version's immutable URLs (`/v/{version}/tiles/{z}/{x}/{y}.mvt`). `Cache-Control: no-cache`
/// with an ETag: a cache asks again each time (304 while the version is the same), so a publish
/// reaches every client at once.
#[utoipa::path(get, path = "/tiles.json", tag = "tiles", responses((status = 200, description = "TileJSON, with `search_example`: an address of the served data for a search box's placeholder (null when the data has none)", body = serde_json::Value), (status = 304, description = "Unchanged (If-None-Match)")))]
async fn tilejson(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let tj = tilejson_of(&state.current(), &base_url(&headers));
    json_answer(&tj, &headers, "no-cache")
}

/// The TileJSON of one published version, immutable (as its tiles); see the version-addressed
/// tiles for which versions are served.
#[utoipa::path(get, path = "/v/{version}/tiles.json", tag = "tiles",
    params(("version" = i64, Path, description = "A published version (see `/v1/versions`)")),
    responses((status = 200, description = "TileJSON of that version; immutable", body = serde_json::Value), (status = 304, description = "Unchanged (If-None-Match)"),
        (status = 404, description = "No such version (`no_such_version`)", body = super::problem::ProblemBody, content_type = "application/problem+json"),
        (status = 410, description = "An older version no longer served (`version_gone`)", body = super::problem::ProblemBody, content_type = "application/problem+json"),
        (status = 503, description = "Published but not loaded here yet (`version_not_loaded`)", body = super::problem::ProblemBody, content_type = "application/problem+json")))]
async fn versioned_tilejson(
    State(state): State<Arc<AppState>>,
    Path(version): Path<String>,
    headers: HeaderMap,
) -> Response {
    match at_version(&state, &version, &headers).await {
        Ok(served) => json_answer(&tilejson_of(&served, &base_url(&headers)), &headers, IMMUTABLE),
        Err(res) => res,
    }
}

/// The MapLibre style (v8) over the vector tiles, glyphs and sprite; its source is the served
/// version's immutable TileJSON (`/v/{version}/tiles.json`). `Cache-Control: no-cache` with an
/// ETag, as `/tiles.json`.
#[utoipa::path(get, path = "/style.json", tag = "tiles", responses((status = 200, description = "MapLibre style", body = serde_json::Value), (status = 304, description = "Unchanged (If-None-Match)")))]
async fn style(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let served = state.current();
    let base = base_url(&headers);
    let mut style = tiles::style::style(&served.map, &base);
    if let Some(v) = served.version {
        style["sources"]["wangge"]["url"] = format!("{base}/v/{v}/tiles.json").into();
    }
    json_answer(&style, &headers, "no-cache")
}
