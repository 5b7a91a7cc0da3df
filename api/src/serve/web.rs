//! The web map at `/` and its files under `/app/...`, embedded in the binary so that a fresh
//! clone builds and serves it with no npm step and no network: `web/index.html`, `web/src/*`, and
//! MapLibre GL JS's dist files vendored byte for byte in `web/vendor/` (api/tests/web.rs checks
//! them against the pinned npm package).

use super::AppState;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, LazyLock};
use utoipa_axum::router::OpenApiRouter;

/// One embedded file: its path under `/app/`, content type and bytes.
struct File {
    path: &'static str,
    kind: &'static str,
    bytes: &'static [u8],
}

macro_rules! embed {
    ($path:literal, $source:literal, $kind:expr) => {
        File {
            path: $path,
            kind: $kind,
            bytes: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../web/", $source)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

static INDEX: File = embed!("", "index.html", "text/html; charset=utf-8");

static FILES: &[File] = &[
    embed!("app.js", "src/app.js", JS),
    embed!("i18n.js", "src/i18n.js", JS),
    embed!("planner.js", "src/planner.js", JS),
    embed!("diffview.js", "src/diffview.js", JS),
    embed!("util.js", "src/util.js", JS),
    embed!("app.css", "src/app.css", CSS),
    embed!("icon.svg", "src/icon.svg", "image/svg+xml"),
    embed!("vendor/maplibre-gl.js", "vendor/maplibre-gl.js", JS),
    embed!("vendor/maplibre-gl.css", "vendor/maplibre-gl.css", CSS),
    embed!("vendor/LICENSE.txt", "vendor/LICENSE.txt", "text/plain; charset=utf-8"),
    // The pmtiles package's browser build: the static web map (`wangge tiles export --static`)
    // reads its archive through it.
    embed!("vendor/pmtiles.js", "vendor/pmtiles.js", JS),
];

/// The page and every file under `/app/`, by path (`""` is the page), for a static copy of the
/// web map (`api::archive::site`).
pub fn files() -> impl Iterator<Item = (&'static str, &'static [u8])> {
    std::iter::once(&INDEX).chain(FILES).map(|f| (f.path, f.bytes))
}

/// ETags by content, made once: a new binary with new files gets new tags.
static ETAGS: LazyLock<Vec<String>> = LazyLock::new(|| {
    std::iter::once(&INDEX)
        .chain(FILES)
        .map(|f| {
            let mut h = rustc_hash::FxHasher::default();
            f.bytes.hash(&mut h);
            format!("\"{:016x}\"", h.finish())
        })
        .collect()
});

/// The page's own rules: everything from this server (tiles, glyphs and sprite included);
/// MapLibre runs its worker from a blob and draws images from blobs.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; \
                   worker-src 'self' blob:; child-src blob:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'self'";

pub(crate) fn routes() -> OpenApiRouter<Arc<AppState>> {
    // `/` is the OGC landing route, which hands browsers to `index`.
    OpenApiRouter::new().route("/app/{*file}", get(app_file))
}

/// The web map's page (HTML).
pub(crate) async fn index(headers: HeaderMap) -> Response {
    let mut r = serve(&INDEX, &ETAGS[0], &headers, "no-cache");
    r.headers_mut()
        .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    r
}

async fn app_file(Path(file): Path<String>, headers: HeaderMap) -> Response {
    match FILES.iter().position(|f| f.path == file) {
        // Vendored files are requested with the pinned version in the query (`?v=5.24.1`), so
        // they can be cached for long; our own files are revalidated (cheap: ETag, 304).
        Some(i) if file.starts_with("vendor/") => serve(&FILES[i], &ETAGS[i + 1], &headers, "public, max-age=604800"),
        Some(i) => serve(&FILES[i], &ETAGS[i + 1], &headers, "no-cache"),
        None => super::Problem::not_found(format!("no web file {file:?}")).into_response(),
    }
}

fn serve(f: &'static File, etag: &str, headers: &HeaderMap, cache: &'static str) -> Response {
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut r = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        f.bytes.into_response()
    };
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(f.kind));
    h.insert(header::ETAG, HeaderValue::from_str(etag).expect("etag is ASCII"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `/app/...` the page and scripts name is embedded, and every embedded file is named.
    #[test]
    fn the_page_names_only_embedded_files() {
        let text: String = std::iter::once(&INDEX)
            .chain(FILES)
            .filter(|f| !f.path.starts_with("vendor/"))
            .map(|f| String::from_utf8_lossy(f.bytes).into_owned())
            .collect();
        for f in FILES.iter().filter(|f| f.path != "vendor/LICENSE.txt") {
            let name = f.path.rsplit('/').next().unwrap();
            assert!(text.contains(name), "{} is embedded but never used", f.path);
        }
        let page = String::from_utf8_lossy(INDEX.bytes);
        for part in page.split("/app/").skip(1) {
            let path = part.split(['"', '?', '\'']).next().unwrap();
            assert!(
                FILES.iter().any(|f| f.path == path),
                "index.html names /app/{path}, which is not embedded"
            );
        }
    }
}
