//! The map's context: water and green from a real OpenStreetMap import (Helsinki's centre) and the
//! urban village's population points (Zhongjing), in vector tiles decoded by an independent
//! decoder, on raster tiles, on the printed map and in the style. `WANGGE_TILE_OUT=DIR` keeps
//! the pictures.

use crate::common;

use common::*;
use geo::Coord;
use gis_core::bounds::SizeBounds;
use gis_core::model::{ContextShape, Dataset};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;
use tiles::data::{GREEN, MapData, POPULATION_POINTS, Shape, WATER};
use tiles::mercator::{self, TileId};
use tiles::{mvt, palette, print, raster, style};

/// Helsinki's centre imported as `wangge import` does, once per run; no grids (the context
/// layers need none).
fn helsinki() -> &'static (Dataset, MapData) {
    static MADE: OnceLock<(Dataset, MapData)> = OnceLock::new();
    MADE.get_or_init(|| {
        let out = tempfile::tempdir().unwrap();
        let spec: import::SourceSpec = root()
            .join("fixtures/osm/Helsinki.osm.pbf")
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let mut opts = import::ImportOptions::new(vec![spec], out.path().join("helsinki"));
        opts.community_code = Some("999999002001".into());
        let d = import::import(&opts).expect("Helsinki imports").loaded.dataset;
        let m = MapData::new(&d, &[], SizeBounds::default());
        (d, m)
    })
}

fn zhongjing() -> &'static (Dataset, MapData) {
    static MADE: OnceLock<(Dataset, MapData)> = OnceLock::new();
    MADE.get_or_init(|| {
        let d = gis_core::io::load_dataset(&root().join("fixtures/zhongjing"))
            .unwrap()
            .dataset;
        let m = MapData::new(&d, &[], SizeBounds::default());
        (d, m)
    })
}

/// Every tile at `z` over the lon/lat box.
fn tiles_over([w, s, e, n]: [f64; 4], z: u8) -> Vec<TileId> {
    let a = TileId::containing(z, mercator::world(Coord { x: w, y: n }));
    let b = TileId::containing(z, mercator::world(Coord { x: e, y: s }));
    (a.x..=b.x)
        .flat_map(|x| (a.y..=b.y).map(move |y| TileId::new(u32::from(z), x, y).unwrap()))
        .collect()
}

/// The tiles' `only` layers, decoded by Python's mapbox-vector-tile: file name → layer → body.
fn decode(map: &MapData, tiles: &[TileId], only: &[&str]) -> Option<BTreeMap<String, Value>> {
    let python = python()?;
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<_> = tiles
        .iter()
        .map(|t| {
            let path = dir.path().join(format!("{}-{}-{}.mvt", t.z, t.x, t.y));
            std::fs::write(&path, mvt::encode_layers(map, *t, only)).unwrap();
            path
        })
        .collect();
    let out = std::process::Command::new(python)
        .arg(root().join("scripts/tests/decode_mvt.py"))
        .args(&files)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

/// A lon/lat box round the dataset's context features.
fn context_bounds(d: &Dataset) -> [f64; 4] {
    let mut b = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
    let mut add = |c: &Coord<f64>| {
        b = [b[0].min(c.x), b[1].min(c.y), b[2].max(c.x), b[3].max(c.y)];
    };
    for f in d.context.water.iter().chain(&d.context.green) {
        match &f.shape {
            ContextShape::Area(a) => a.0.iter().flat_map(|p| p.exterior().0.iter()).for_each(&mut add),
            ContextShape::Line(l) => l.0.iter().flat_map(|l| l.0.iter()).for_each(&mut add),
        }
    }
    b
}

#[test]
fn helsinki_water_and_green_decode_with_an_independent_decoder() {
    let (d, map) = helsinki();
    assert!(
        d.context.water.len() >= 10 && d.context.green.len() >= 100,
        "{} water, {} green",
        d.context.water.len(),
        d.context.green.len()
    );
    let bounds = context_bounds(d);
    for z in [10u8, 13, 15] {
        let tiles = tiles_over(bounds, z);
        let Some(decoded) = decode(map, &tiles, &[WATER, GREEN]) else {
            return;
        };
        let mut seen: BTreeMap<&str, BTreeSet<u64>> = BTreeMap::new();
        for (name, layers) in &decoded {
            for (layer, body) in layers.as_object().unwrap() {
                assert_eq!(
                    (body["version"].as_u64(), body["extent"].as_u64()),
                    (Some(2), Some(4096)),
                    "{name} {layer}"
                );
                let source = if layer == WATER {
                    &d.context.water
                } else {
                    &d.context.green
                };
                for f in body["features"].as_array().unwrap() {
                    let id = f["id"].as_u64().unwrap();
                    let s = &source[id as usize - 1];
                    seen.entry(if layer == WATER { WATER } else { GREEN })
                        .or_default()
                        .insert(id);
                    assert_eq!(f["properties"]["id"].as_str(), Some(s.id.as_str()), "{name} {layer}");
                    assert_eq!(
                        f["properties"]["kind"].as_str(),
                        s.kind.as_deref(),
                        "{name} {layer} {}",
                        s.id
                    );
                    assert_eq!(
                        f["properties"]["name"].as_str(),
                        s.name.as_deref(),
                        "{name} {layer} {}",
                        s.id
                    );
                    let ty = f["type"].as_str().unwrap();
                    match &s.shape {
                        ContextShape::Area(_) => assert!(ty.ends_with("Polygon"), "{name} {} is a {ty}", s.id),
                        ContextShape::Line(_) => assert!(ty.ends_with("LineString"), "{name} {} is a {ty}", s.id),
                    }
                    for poly in f["rings"].as_array().unwrap() {
                        let areas: Vec<f64> = poly.as_array().unwrap().iter().map(|a| a.as_f64().unwrap()).collect();
                        assert!(
                            areas[0] > 0.0,
                            "{name} {layer} {}: exterior ring area {}",
                            s.id,
                            areas[0]
                        );
                        assert!(
                            areas[1..].iter().all(|&a| a < 0.0),
                            "{name} {layer} {}: hole with positive area",
                            s.id
                        );
                    }
                }
            }
        }
        // At z15 every feature is in some tile; lower down the smallest lawns may fall below a pixel.
        let water = seen.get(WATER).map_or(0, BTreeSet::len);
        let green = seen.get(GREEN).map_or(0, BTreeSet::len);
        match z {
            15 => assert_eq!((water, green), (d.context.water.len(), d.context.green.len()), "z15"),
            13 => assert!(
                water > 0 && green > d.context.green.len() / 2,
                "z13: {water} water, {green} green"
            ),
            _ => assert!(water > 0 && green > 10, "z{z}: {water} water, {green} green"),
        }
    }
    // Below z10 no context at all.
    use geozero::mvt::{Message, Tile};
    for t in tiles_over(bounds, 9) {
        let tile = Tile::decode(mvt::encode(map, t).as_slice()).unwrap();
        assert!(
            tile.layers.iter().all(|l| l.name != WATER && l.name != GREEN),
            "z9 carries context"
        );
    }
}

#[test]
fn zhongjing_population_points_are_in_the_tiles_from_z14() {
    let (d, map) = zhongjing();
    let mut bounds = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
    for p in &d.points {
        bounds = [
            bounds[0].min(p.location.x()),
            bounds[1].min(p.location.y()),
            bounds[2].max(p.location.x()),
            bounds[3].max(p.location.y()),
        ];
    }
    let Some(decoded) = decode(map, &tiles_over(bounds, 14), &[POPULATION_POINTS]) else {
        return;
    };
    let mut counts: BTreeMap<u64, u64> = BTreeMap::new();
    for layers in decoded.values() {
        for f in layers[POPULATION_POINTS]["features"].as_array().into_iter().flatten() {
            assert_eq!(f["type"], "Point");
            counts.insert(f["id"].as_u64().unwrap(), f["properties"]["count"].as_u64().unwrap());
        }
    }
    assert_eq!(counts.len(), d.points.len());
    let residents: u64 = d.points.iter().map(|p| u64::from(p.count)).sum();
    assert_eq!(counts.values().sum::<u64>(), residents);
    assert_eq!(d.points.len(), 295, "the urban village's points");
    use geozero::mvt::{Message, Tile};
    for t in tiles_over(bounds, 13) {
        let tile = Tile::decode(mvt::encode(map, t).as_slice()).unwrap();
        assert!(
            tile.layers.iter().all(|l| l.name != POPULATION_POINTS),
            "z13 carries population points"
        );
    }
}

fn keep(name: &str, pm: &tiny_skia::Pixmap) {
    if let Some(dir) = std::env::var_os("WANGGE_TILE_OUT") {
        std::fs::create_dir_all(&dir).unwrap();
        pm.save_png(std::path::Path::new(&dir).join(name)).unwrap();
    }
}

/// Light pixels where green leads (green areas; the paper, buildings and roads are warm or white)
/// and where blue leads (water; the dark slate lines are not light).
fn green_and_blue(pm: &tiny_skia::Pixmap) -> (usize, usize) {
    let mut out = (0, 0);
    for p in pm.pixels() {
        let c = p.demultiply();
        let (r, g, b) = (i32::from(c.red()), i32::from(c.green()), i32::from(c.blue()));
        if r < 150 {
            continue;
        }
        if g > r + 8 && g > b + 8 {
            out.0 += 1;
        }
        if b > r + 8 && b > g + 4 {
            out.1 += 1;
        }
    }
    out
}

#[test]
fn raster_tiles_and_the_printed_map_draw_water_green_and_population_points() {
    let (d, map) = helsinki();
    let bare = {
        let mut d = d.clone();
        d.context = Default::default();
        MapData::new(&d, &[], SizeBounds::default())
    };
    // The tile at the largest park's and the largest water's interior point.
    let biggest = |fs: &[gis_core::model::ContextFeature]| {
        use geo::{Area, InteriorPoint};
        fs.iter()
            .filter_map(|f| match &f.shape {
                ContextShape::Area(a) => Some(a),
                _ => None,
            })
            .max_by(|a, b| a.unsigned_area().total_cmp(&b.unsigned_area()))
            .and_then(|a| a.interior_point())
            .unwrap()
    };
    for (what, at) in [
        ("green", biggest(&d.context.green)),
        ("water", biggest(&d.context.water)),
    ] {
        let tile = TileId::containing(15, mercator::world(at.0));
        let pm = raster::render(map, tile, 1);
        keep(&format!("helsinki-{what}-z15.png"), &pm);
        let (green, blue) = green_and_blue(&pm);
        assert!(
            if what == "green" { green } else { blue } > 200,
            "{what}: {green} green, {blue} blue pixels"
        );
        // Below z10 nothing of it: the tile is the one the data without context gives.
        let far = TileId::containing(9, mercator::world(at.0));
        assert!(
            raster::render(map, far, 1) == raster::render(&bare, far, 1),
            "z9 {what}"
        );
    }
    let page = print::render(map, "999999002001", &print::PrintOptions::a3("2026-12-05".into())).unwrap();
    keep("helsinki-print.png", &page);
    let (green, blue) = green_and_blue(&page);
    assert!(green > 10_000 && blue > 500, "print: {green} green, {blue} blue pixels");

    // Zhongjing's urban village: dots from z14, their counts beside them from z16.
    let (zd, zmap) = zhongjing();
    let p = zd.points[zd.points.len() / 2].location;
    let dots = |z: u8| {
        let (pm, placed) = raster::render_labelled(zmap, TileId::containing(z, mercator::world(p.0)), 1);
        keep(&format!("zhongjing-points-z{z}.png"), &pm);
        let n = pm
            .pixels()
            .iter()
            .filter(|px| {
                let c = px.demultiply();
                let want = palette::POPULATION_POINT;
                (i32::from(c.red()) - i32::from(want.0)).abs() < 30
                    && (i32::from(c.green()) - i32::from(want.1)).abs() < 30
                    && (i32::from(c.blue()) - i32::from(want.2)).abs() < 30
            })
            .count();
        (n, placed.iter().filter(|l| l.kind == "population").count())
    };
    assert_eq!(dots(13), (0, 0), "z13");
    let (n14, labels14) = dots(14);
    assert!(n14 > 100 && labels14 == 0, "z14: {n14} dot pixels, {labels14} counts");
    let (n16, labels16) = dots(16);
    assert!(
        n16 > n14 / 4 && labels16 > 5,
        "z16: {n16} dot pixels, {labels16} counts"
    );
    // The printed map of the community holding the village shows them too.
    let community = &zd.communities[zd.points[0].community].code;
    let page = print::render(zmap, community.as_str(), &print::PrintOptions::a3("2026-12-05".into())).unwrap();
    keep("zhongjing-print.png", &page);
}

#[test]
fn the_style_draws_context_under_the_grid_lines_and_tilejson_says_what_is_held() {
    let (_, map) = helsinki();
    let s = style::style(map, "http://x");
    let ids: Vec<&str> = s["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    let at = |id: &str| {
        ids.iter()
            .position(|x| *x == id)
            .unwrap_or_else(|| panic!("no layer {id} in {ids:?}"))
    };
    assert!(at("grid-fill") < at("green") && at("green") < at("water") && at("water") < at("waterway"));
    assert!(at("waterway") < at("roads-casing") && at("buildings") < at("population-points"));
    assert!(at("population-points") < at("grid-line"));
    let layer = |id: &str| {
        s["layers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(layer("water")["minzoom"], 10);
    assert_eq!(layer("population-points")["minzoom"], 14);
    assert_eq!(layer("population-count")["minzoom"], 16);
    // Main roads wider: the width is a match on class.
    let width = layer("roads")["paint"]["line-width"].to_string();
    assert!(
        width.contains("\"primary\"") && width.contains("\"motorway\""),
        "{width}"
    );
    assert_eq!(
        style::tilejson(map, "http://x")["context_layers"],
        serde_json::json!(["water", "green"])
    );
    let (_, zmap) = zhongjing();
    assert_eq!(
        style::tilejson(zmap, "http://x")["context_layers"],
        serde_json::json!(["population_points"])
    );
    // Each layer's features are where the source put them (projected), one per source feature.
    let (d, map) = helsinki();
    let water = map.layer(WATER).unwrap();
    assert_eq!(water.features.len(), d.context.water.len());
    assert!(
        water.features.iter().any(|f| matches!(f.shape, Shape::Lines(_))),
        "the stream is a line"
    );
}
