//! Vector tiles decoded by an independent decoder (Python's mapbox-vector-tile): layers, version,
//! extent, attributes, ring winding, and geometry against the source data.

use crate::common;

use common::*;
use geo::Coord;
use serde_json::Value;
use std::collections::BTreeMap;
use tiles::data::{GRIDS, Shape};
use tiles::mercator::{self, TileId};
use tiles::mvt;

fn tile_area(ring: &[Coord<f64>], tile: TileId) -> f64 {
    let pts: Vec<[f64; 2]> = ring.iter().map(|c| tile.to_tile(mercator::world(*c), 4096.0)).collect();
    let n = pts.len();
    (0..n)
        .map(|i| pts[i][0] * pts[(i + 1) % n][1] - pts[(i + 1) % n][0] * pts[i][1])
        .sum::<f64>()
        / 2.0
}

#[test]
fn tiles_decode_with_an_independent_decoder() {
    let Some(python) = python() else { return };
    let (_, grids, map) = map("kangle", true);
    let [w, s, e, n] = map.bounds;
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    let mut tiles = BTreeMap::new();
    for z in [11u8, 13, 14, 15, 16] {
        let a = TileId::containing(z, mercator::world(Coord { x: w, y: n }));
        let b = TileId::containing(z, mercator::world(Coord { x: e, y: s }));
        for x in a.x..=b.x {
            for y in a.y..=b.y {
                let t = TileId::new(u32::from(z), x, y).unwrap();
                let name = format!("{z}-{x}-{y}.mvt");
                std::fs::write(dir.path().join(&name), mvt::encode(&map, t)).unwrap();
                files.push(dir.path().join(&name));
                tiles.insert(name, t);
            }
        }
    }
    let out = std::process::Command::new(&python)
        .arg(root().join("scripts/tests/decode_mvt.py"))
        .args(&files)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let decoded: Value = serde_json::from_slice(&out.stdout).unwrap();
    let by_code: BTreeMap<&str, &gis_core::grid::Grid> = grids.iter().map(|g| (g.code.as_str(), g)).collect();
    let mut whole_grids_checked = 0;
    let mut layers_seen = std::collections::BTreeSet::new();
    for (name, layers) in decoded.as_object().unwrap() {
        let tile = tiles[name];
        for (layer, body) in layers.as_object().unwrap() {
            layers_seen.insert(layer.clone());
            assert_eq!(body["version"], 2, "{name} {layer}");
            assert_eq!(body["extent"], 4096, "{name} {layer}");
            for f in body["features"].as_array().unwrap() {
                // Winding: exterior rings positive, holes negative, in y-down tile space.
                for poly in f["rings"].as_array().unwrap() {
                    let areas: Vec<f64> = poly.as_array().unwrap().iter().map(|a| a.as_f64().unwrap()).collect();
                    assert!(areas[0] > 0.0, "{name} {layer}: exterior ring area {}", areas[0]);
                    assert!(
                        areas[1..].iter().all(|&a| a < 0.0),
                        "{name} {layer}: hole with positive area"
                    );
                }
                if layer != GRIDS {
                    continue;
                }
                let code = f["properties"]["code"].as_str().unwrap();
                let g = by_code[code];
                assert_eq!(f["properties"]["population"].as_u64().unwrap(), g.population);
                assert_eq!(f["properties"]["households"].as_u64().unwrap(), g.households);
                // A grid wholly inside the tile: its decoded area matches the source's area in
                // tile units (simplification moves it by well under 1%).
                let ext = &g.area.0[0];
                let pts: Vec<[f64; 2]> = ext
                    .exterior()
                    .0
                    .iter()
                    .map(|c| tile.to_tile(mercator::world(*c), 4096.0))
                    .collect();
                let inside = pts
                    .iter()
                    .all(|p| (0.0..=4096.0).contains(&p[0]) && (0.0..=4096.0).contains(&p[1]));
                if inside && g.area.0.len() == 1 {
                    let expected = tile_area(&ext.exterior().0, tile).abs();
                    let got: f64 = f["rings"][0][0].as_f64().unwrap();
                    let holes: f64 = f["rings"][0].as_array().unwrap()[1..]
                        .iter()
                        .map(|a| a.as_f64().unwrap())
                        .sum();
                    let expected_holes: f64 = ext.interiors().iter().map(|h| tile_area(&h.0, tile).abs()).sum();
                    // Big enough (over ~20 px across at 256 px) that quarter-pixel simplification is
                    // well under 1% of its area.
                    if expected > 100_000.0 {
                        assert!(
                            ((got + holes) - (expected - expected_holes)).abs() / expected < 0.01,
                            "{name} {code}: {got} vs {expected}"
                        );
                        whole_grids_checked += 1;
                    }
                }
            }
        }
    }
    assert!(whole_grids_checked > 0, "no grid lay wholly inside a tile");
    for l in [
        "communities",
        "grids",
        "micro_grids",
        "buildings",
        "resources",
        "roads",
        "density",
    ] {
        assert!(layers_seen.contains(l), "layer {l} never appeared");
    }
}

#[test]
fn layers_appear_at_their_zooms_only() {
    let (_, _, map) = map("kangle", false);
    let centre = mercator::world(Coord {
        x: (map.bounds[0] + map.bounds[2]) / 2.0,
        y: (map.bounds[1] + map.bounds[3]) / 2.0,
    });
    use geozero::mvt::{Message, Tile};
    let names = |z: u8| -> Vec<String> {
        let t = Tile::decode(mvt::encode(&map, TileId::containing(z, centre)).as_slice()).unwrap();
        t.layers.into_iter().map(|l| l.name).collect()
    };
    assert_eq!(names(8), ["communities", "community_labels"]);
    assert!(names(12).contains(&"grids".to_string()));
    assert!(!names(12).contains(&"buildings".to_string()));
    assert!(names(16).contains(&"buildings".to_string()));
    // Far from any data: a valid empty tile.
    let empty = mvt::encode(&map, TileId::new(16, 0, 0).unwrap());
    assert!(Tile::decode(empty.as_slice()).unwrap().layers.is_empty());
    let _ = Shape::Point(geo::Point::new(0.0, 0.0));
}

/// One label point per grid, inside its grid: labelling the polygons repeated a code in every
/// tile the grid crossed.
#[test]
fn grid_labels_are_one_point_inside_each_grid() {
    use geo::Contains;
    let (_, _, map) = map("kangle", false);
    let grids = map.layer(GRIDS).unwrap();
    let labels = map.layer(tiles::data::GRID_LABELS).unwrap();
    assert_eq!(labels.features.len(), grids.features.len());
    for g in &grids.features {
        let code = g.str("code").unwrap();
        let mut at = labels.features.iter().filter(|l| l.str("code") == Some(code));
        let (Some(l), None) = (at.next(), at.next()) else {
            panic!("grid {code} has not exactly one label")
        };
        let (Shape::Area(area), Shape::Point(p)) = (&g.shape, &l.shape) else {
            panic!("shapes")
        };
        assert!(area.contains(p), "the label of {code} is outside it");
        assert_eq!(l.uint("population"), g.uint("population"));
    }
}

/// Neighbouring grids share their borders exactly in every tile, at every zoom: each edge of a
/// grid's rings is the reverse of an edge of another grid's, except on the tile's buffer and
/// along the outline of the grids (the communities' boundaries). A border simplified apart on
/// either side leaves slivers and overlaps between the grids.
#[test]
fn neighbouring_grids_share_their_borders_exactly() {
    use geozero::mvt::{Message, Tile};
    type Edge = ((i64, i64), (i64, i64));
    for fixture in ["kangle", "zhongjing"] {
        let (_, _, map) = map(fixture, false);
        // The communities' boundaries, in world coordinates, segment by segment.
        let mut outline: Vec<(Coord<f64>, Coord<f64>)> = Vec::new();
        for f in &map.layer(tiles::data::COMMUNITIES).unwrap().features {
            let Shape::Area(a) = &f.shape else { continue };
            for p in &a.0 {
                for r in std::iter::once(p.exterior()).chain(p.interiors()) {
                    outline.extend(r.lines().map(|l| (l.start, l.end)));
                }
            }
        }
        let [w, s, e, n] = map.bounds;
        let (mut shared, mut problems) = (0usize, Vec::new());
        for z in 11u8..=16 {
            let a = TileId::containing(z, mercator::world(Coord { x: w, y: n }));
            let b = TileId::containing(z, mercator::world(Coord { x: e, y: s }));
            for x in a.x..=b.x {
                for y in a.y..=b.y {
                    let tile = TileId::new(u32::from(z), x, y).unwrap();
                    let decoded = Tile::decode(mvt::encode_layers(&map, tile, &[GRIDS]).as_slice()).unwrap();
                    let Some(layer) = decoded.layers.first() else { continue };
                    let mut edges: Vec<(Edge, usize)> = Vec::new();
                    for (i, f) in layer.features.iter().enumerate() {
                        for (ring, _) in crate::mvt_fixtures::decode(&f.geometry) {
                            for p in ring.windows(2) {
                                let c = |c: Coord<f64>| (c.x as i64, c.y as i64);
                                edges.push(((c(p[0]), c(p[1])), i));
                            }
                        }
                    }
                    let owners: BTreeMap<Edge, Vec<usize>> = edges.iter().fold(BTreeMap::new(), |mut m, (e, i)| {
                        m.entry(*e).or_insert_with(Vec::new).push(*i);
                        m
                    });
                    let on_buffer = |v: i64| v == -64 || v == 4096 + 64;
                    for ((p, q), i) in &edges {
                        if owners.get(&(*q, *p)).is_some_and(|o| o.iter().any(|j| j != i)) {
                            shared += 1;
                            continue;
                        }
                        if (p.0 == q.0 && on_buffer(p.0)) || (p.1 == q.1 && on_buffer(p.1)) {
                            continue;
                        }
                        // Unshared: on the outline, within the simplification tolerance (4
                        // units) and the snap to whole units.
                        let m = [(p.0 + q.0) as f64 / 2.0, (p.1 + q.1) as f64 / 2.0];
                        let near = outline.iter().any(|(a, b)| {
                            let (a, b) = (tile.to_tile([a.x, a.y], 4096.0), tile.to_tile([b.x, b.y], 4096.0));
                            let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
                            let len2 = dx * dx + dy * dy;
                            let t = if len2 > 0.0 {
                                (((m[0] - a[0]) * dx + (m[1] - a[1]) * dy) / len2).clamp(0.0, 1.0)
                            } else {
                                0.0
                            };
                            (m[0] - a[0] - t * dx).hypot(m[1] - a[1] - t * dy) <= 6.0
                        });
                        if !near {
                            problems.push(format!(
                                "{fixture} {tile}: edge {p:?}–{q:?} of {} is not shared",
                                layer.features[*i].id.unwrap_or(0)
                            ));
                        }
                    }
                }
            }
        }
        assert!(
            problems.is_empty(),
            "{} unshared edges inside the grids ({shared} shared), e.g.\n{}",
            problems.len(),
            problems[..problems.len().min(10)].join("\n")
        );
        assert!(shared > 200, "{fixture}: only {shared} shared edges");
    }
}
