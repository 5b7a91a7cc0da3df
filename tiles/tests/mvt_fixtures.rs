//! The encoder against `@mapbox/mvt-fixtures` (npm, installed by `.ci/run` under
//! `scripts/tests/node_modules`): every valid geometry fixture that an encoder can produce is
//! decoded, put back through wangge's clip/snap/orient/encode steps, and must come out command
//! for command the same; a square far past the tile comes out clipped to the 64-unit buffer.

use crate::common;

use geo::{Coord, LineString, MultiLineString, MultiPolygon, Point, Polygon};
use geozero::mvt::{Message, Tile};
use tiles::data::Shape;
use tiles::mvt::encode_in_tile;

fn fixtures() -> Option<std::path::PathBuf> {
    let dir = common::root().join("scripts/tests/node_modules/@mapbox/mvt-fixtures/fixtures");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("CI=true but {} is missing: .ci/run installs it with npm", dir.display());
    }
    eprintln!(
        "SKIPPED: no @mapbox/mvt-fixtures at {} (run .ci/run once)",
        dir.display()
    );
    None
}

fn unzig(v: u32) -> i64 {
    i64::from((v >> 1) as i32 ^ -((v & 1) as i32))
}

/// The parts of an MVT geometry: each MoveTo starts one; ClosePath marks rings.
pub fn decode(cmds: &[u32]) -> Vec<(Vec<Coord<f64>>, bool)> {
    let (mut x, mut y) = (0i64, 0i64);
    let mut parts: Vec<(Vec<Coord<f64>>, bool)> = Vec::new();
    let mut i = 0;
    while i < cmds.len() {
        let (id, count) = (cmds[i] & 7, cmds[i] >> 3);
        i += 1;
        match id {
            1 | 2 => {
                for _ in 0..count {
                    x += unzig(cmds[i]);
                    y += unzig(cmds[i + 1]);
                    i += 2;
                    let c = Coord {
                        x: x as f64,
                        y: y as f64,
                    };
                    if id == 1 {
                        parts.push((vec![c], false))
                    } else {
                        parts.last_mut().unwrap().0.push(c)
                    }
                }
            }
            7 => {
                let p = parts.last_mut().unwrap();
                p.1 = true;
                let first = p.0[0];
                p.0.push(first);
            }
            _ => panic!("unknown command {id}"),
        }
    }
    parts
}

fn area(r: &[Coord<f64>]) -> f64 {
    r.windows(2).map(|w| w[0].x * w[1].y - w[1].x * w[0].y).sum::<f64>() / 2.0
}

fn shape(kind: i32, cmds: &[u32]) -> Shape {
    let parts = decode(cmds);
    match kind {
        1 => Shape::Point(Point(parts[0].0[0])),
        2 => Shape::Lines(MultiLineString(
            parts.into_iter().map(|(p, _)| LineString::new(p)).collect(),
        )),
        3 => {
            let mut polygons: Vec<Polygon<f64>> = Vec::new();
            for (ring, _) in parts {
                if area(&ring) > 0.0 {
                    polygons.push(Polygon::new(LineString::new(ring), vec![]));
                } else {
                    polygons.last_mut().unwrap().interiors_push(LineString::new(ring));
                }
            }
            Shape::Area(MultiPolygon(polygons))
        }
        _ => panic!("geometry type {kind}"),
    }
}

#[test]
fn valid_geometry_fixtures_encode_identically() {
    let Some(dir) = fixtures() else { return };
    // Valid fixtures an encoder can produce: point, linestring, polygon, multipolygon, and the
    // clipped squares within the buffer.
    for name in ["017", "018", "019", "022", "053", "054", "055"] {
        let bytes = std::fs::read(dir.join(name).join("tile.mvt")).unwrap();
        let tile = Tile::decode(bytes.as_slice()).unwrap();
        for layer in &tile.layers {
            for f in &layer.features {
                let s = shape(f.r#type.unwrap_or(0), &f.geometry);
                let ours = encode_in_tile(&s).unwrap_or_else(|| panic!("{name}: nothing encoded"));
                assert_eq!(ours, f.geometry, "fixture {name}");
            }
        }
    }
}

#[test]
fn a_square_far_past_the_tile_is_clipped_to_the_buffer() {
    let Some(dir) = fixtures() else { return };
    let tile = Tile::decode(std::fs::read(dir.join("056/tile.mvt")).unwrap().as_slice()).unwrap();
    let f = &tile.layers[0].features[0];
    let ours = encode_in_tile(&shape(3, &f.geometry)).unwrap();
    let parts = decode(&ours);
    let xs: Vec<f64> = parts[0].0.iter().map(|c| c.x).collect();
    let ys: Vec<f64> = parts[0].0.iter().map(|c| c.y).collect();
    assert_eq!(xs.iter().cloned().fold(f64::INFINITY, f64::min), -64.0);
    assert_eq!(xs.iter().cloned().fold(f64::NEG_INFINITY, f64::max), 4160.0);
    assert_eq!(ys.iter().cloned().fold(f64::INFINITY, f64::min), -64.0);
    assert_eq!(ys.iter().cloned().fold(f64::NEG_INFINITY, f64::max), 4160.0);
    assert!(area(&parts[0].0) > 0.0, "exterior ring must have positive area");
}
