//! The web map as a static folder (`wangge tiles export --static DIR`): the page and its files,
//! the style, TileJSON, sprite and glyphs `serve` would answer, and the PMTiles archive, so any
//! static file server or CDN serves the map with no wangge behind it. MapLibre reads the archive
//! through the pmtiles protocol (`web/vendor/pmtiles.js`); the page knows it is a static copy by
//! its `wangge-archive` meta tag, and asks lookups of `--api-url` when given (`wangge-api`).

use super::Meta;
use std::path::Path;
use tiles::data::MapData;

/// The archive's name in the folder.
pub const ARCHIVE: &str = "tiles.pmtiles";

/// Glyph ranges per font stack: all of the Basic Multilingual Plane, as `/fonts/…` would answer
/// (Chinese comes from the browser's fonts, but a range MapLibre asks for must exist).
const GLYPH_RANGES: u32 = 256;

/// Writes the web map into `dir` beside the archive `archive` (which must be in `dir`); the
/// number of files written.
pub fn write(dir: &Path, map: &MapData, meta: &Meta, archive: &Path, api_url: Option<&str>) -> std::io::Result<usize> {
    let archive_name = archive
        .strip_prefix(dir)
        .ok()
        .and_then(|p| p.to_str())
        .map(str::to_string)
        .ok_or_else(|| {
            std::io::Error::other(format!(
                "the archive {} must be inside the folder (leave --out out to write {ARCHIVE} there)",
                archive.display()
            ))
        })?;
    let mut written = 0usize;
    let mut put = |rel: &str, bytes: &[u8]| -> std::io::Result<()> {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, bytes)?;
        written += 1;
        Ok(())
    };
    for (path, bytes) in crate::serve::web::files() {
        if path.is_empty() {
            put("index.html", page(bytes, &archive_name, api_url).as_bytes())?;
        } else {
            put(&format!("app/{path}"), bytes)?;
        }
    }
    // The style with relative URLs; the page makes them absolute and points the source at the
    // archive (a style read by another viewer should do the same).
    let mut style = tiles::style::style(map, ".");
    style["sources"]["wangge"] = serde_json::json!({"type": "vector", "url": format!("pmtiles://{archive_name}")});
    put("style.json", &serde_json::to_vec_pretty(&style).expect("JSON"))?;
    let mut tilejson = meta.tilejson.clone();
    tilejson["tiles"] = serde_json::json!([format!("pmtiles://{archive_name}")]);
    tilejson["search_example"] = serde_json::Value::Null;
    put("tiles.json", &serde_json::to_vec_pretty(&tilejson).expect("JSON"))?;
    for ratio in [1, 2] {
        let (png, json) = tiles::sprite::sprite(ratio);
        let suffix = if ratio == 1 { "" } else { "@2x" };
        put(&format!("sprites/sprite{suffix}.png"), &png)?;
        put(&format!("sprites/sprite{suffix}.json"), json.as_bytes())?;
    }
    for stack in tiles::glyphs::fontstacks() {
        for i in 0..GLYPH_RANGES {
            let range = format!("{}-{}", i * 256, i * 256 + 255);
            let pbf = tiles::glyphs::glyphs(stack, &range).map_err(std::io::Error::other)?;
            put(&format!("fonts/{stack}/{range}.pbf"), &pbf)?;
        }
    }
    Ok(written)
}

/// The page for the folder: its files by relative paths (the folder may sit under any path of
/// a host), pmtiles.js loaded before the app, and the meta tags that make it a static copy.
fn page(index: &[u8], archive: &str, api_url: Option<&str>) -> String {
    let html = String::from_utf8_lossy(index).replace("\"/app/", "\"app/");
    let mut tags = format!("<meta name=\"wangge-archive\" content=\"{}\">\n", attr(archive));
    if let Some(u) = api_url {
        tags.push_str(&format!("<meta name=\"wangge-api\" content=\"{}\">\n", attr(u)));
    }
    let pm_version = pmtiles_version();
    tags.push_str(&format!(
        "<script src=\"app/vendor/pmtiles.js?v={pm_version}\"></script>\n"
    ));
    html.replacen("<script type=\"module\"", &format!("{tags}<script type=\"module\""), 1)
}

/// The pinned pmtiles package's version (web/package.json), for the script's cache-busting query.
fn pmtiles_version() -> &'static str {
    let pkg: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../web/package.json"));
    pkg.split("\"pmtiles\":")
        .nth(1)
        .and_then(|r| r.split('"').nth(1))
        .unwrap_or("0")
}

/// Text for an HTML attribute value.
fn attr(s: &str) -> String {
    s.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;")
}
