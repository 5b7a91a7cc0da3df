//! Mapbox Vector Tiles (MVT 2.1): every layer visible at the tile's zoom, cut from [`MapData`].
//!
//! Per feature: world → tile coordinates (extent 4096); simplify (Douglas–Peucker, a quarter of a
//! 256-px pixel, so shared grid borders stay visually shared); clip to the tile plus a 64-unit
//! buffer; snap to integers; drop repeated points and rings that collapsed; orient rings the way
//! the spec wants (exterior positive area in y-down tile space, holes negative, each hole right
//! after its exterior). The protobuf and command encoding come from `geozero`.

use crate::data::{DENSITY, Feature, Layer, MapData, ROAD_NAMES, Shape, Value, density_resolution};
use crate::generalise::{self, Area};
use crate::mercator::TileId;
use geo::{Coord, LineString, MultiLineString, MultiPolygon, Point, Polygon, Simplify};
use geozero::ToMvt;
use geozero::mvt::{Message, Tile, TileValue, tile};

pub const EXTENT: u32 = 4096;
pub const BUFFER: u32 = 64;
/// Simplification tolerance in tile units: 4096 / 256 = 16 units per 256-px pixel.
const SIMPLIFY: f64 = 4.0;

/// The simplification tolerance at zoom `z` in world units (the map data's pre-simplified
/// areas, [`crate::generalise`]).
pub fn world_tolerance(z: u8) -> f64 {
    SIMPLIFY / (f64::from(EXTENT) * (1u64 << z) as f64)
}

/// Encodes one tile; an empty tile (no layer with features) is a valid, empty protobuf.
pub fn encode(data: &MapData, tile: TileId) -> Vec<u8> {
    encode_layers(data, tile, &[])
}

/// Encodes only the named layers (all when `only` is empty).
pub fn encode_layers(data: &MapData, tile: TileId, only: &[&str]) -> Vec<u8> {
    let mut out = Tile::default();
    for layer in data
        .layers
        .iter()
        .filter(|l| l.visible_at(tile.z) && (only.is_empty() || only.contains(&l.name)))
    {
        if let Some(l) = encode_layer(layer, tile) {
            out.layers.push(l);
        }
    }
    out.encode_to_vec()
}

/// A value as a hash key (tile values hold floats, which do not hash).
#[derive(PartialEq, Eq, Hash)]
enum ValueKey<'a> {
    Str(&'a str),
    Uint(u64),
    Double(u64),
}

/// A layer's property values numbered once (equal values, one number), so that a tile finds its
/// table of values by number instead of hashing every string of every feature it holds.
pub struct ValueTable {
    values: Vec<tile::Value>,
    /// Per feature, the number of each property's value, in the order of its properties.
    ids: Vec<Vec<u32>>,
}

impl ValueTable {
    pub fn new(features: &[Feature]) -> Self {
        let mut values = Vec::new();
        let mut index: rustc_hash::FxHashMap<ValueKey, u32> = rustc_hash::FxHashMap::default();
        let ids = features
            .iter()
            .map(|f| {
                f.props
                    .iter()
                    .map(|(_, v)| {
                        *index
                            .entry(value_key(v))
                            .or_insert_with(|| push(&mut values, tile_value(v)))
                    })
                    .collect()
            })
            .collect();
        Self { values, ids }
    }
}

fn value_key(v: &Value) -> ValueKey<'_> {
    match v {
        Value::Str(s) => ValueKey::Str(s),
        Value::Uint(u) => ValueKey::Uint(*u),
        Value::Double(d) => ValueKey::Double(d.to_bits()),
    }
}

fn tile_value(v: &Value) -> tile::Value {
    match v {
        Value::Str(s) => TileValue::Str(s.clone()),
        Value::Uint(u) => TileValue::Uint(*u),
        Value::Double(d) => TileValue::Double(*d),
    }
    .into()
}

/// Appends `v`; its index.
fn push<T>(list: &mut Vec<T>, v: T) -> u32 {
    list.push(v);
    list.len() as u32 - 1
}

fn encode_layer(layer: &Layer, tile: TileId) -> Option<tile::Layer> {
    let mut features = Vec::new();
    let mut keys: Vec<&'static str> = Vec::new();
    let mut values: Vec<tile::Value> = Vec::new();
    let mut value_ix: rustc_hash::FxHashMap<ValueKey, u32> = rustc_hash::FxHashMap::default();
    // With a layer's table of values: the tile's index of each value in it.
    let table = layer.value_table();
    let mut numbered_ix: rustc_hash::FxHashMap<u32, u32> = rustc_hash::FxHashMap::default();
    let resolution = density_resolution(tile.z);
    // A name is written along a line, not the line drawn: a pixel of tolerance is plenty.
    let tolerance = if layer.name == ROAD_NAMES {
        4.0 * SIMPLIFY
    } else {
        SIMPLIFY
    };
    for i in layer.indices_in_tile(tile, f64::from(BUFFER) / f64::from(EXTENT)) {
        let f = &layer.features[i];
        if layer.name == DENSITY && f.uint("resolution") != Some(resolution) {
            continue;
        }
        // Areas simplified for this zoom with the map data need only be cut out.
        let geometry = match layer.generalised(i, tile.z) {
            Some(area) => cut_generalised(&area, to_tile(tile)),
            None => tile_geometry(f, tile, tolerance),
        };
        let Some(geometry) = geometry else {
            continue;
        };
        let Ok(mut feature) = geometry.to_mvt_unscaled() else {
            continue;
        };
        feature.id = Some(f.id);
        feature.tags.reserve(2 * f.props.len());
        for (n, (k, v)) in f.props.iter().enumerate() {
            let ki = match keys.iter().position(|x| x.as_ptr() == k.as_ptr() || x == k) {
                Some(i) => i as u32,
                None => push(&mut keys, *k),
            };
            let vi = match table {
                Some(t) => {
                    let id = t.ids[i][n];
                    *numbered_ix
                        .entry(id)
                        .or_insert_with(|| push(&mut values, t.values[id as usize].clone()))
                }
                None => *value_ix
                    .entry(value_key(v))
                    .or_insert_with(|| push(&mut values, tile_value(v))),
            };
            feature.tags.extend([ki, vi]);
        }
        features.push(feature);
    }
    if features.is_empty() {
        return None;
    }
    Some(tile::Layer {
        version: 2,
        name: layer.name.to_string(),
        features,
        keys: keys.into_iter().map(str::to_string).collect(),
        values,
        extent: Some(EXTENT),
    })
}

/// Tile coordinates of a ring or line, dropping points within half the simplification tolerance
/// of the last one kept (grid rings carry a vertex every metre or so), then Douglas–Peucker.
fn to_tile_simplified(
    pts: &[Coord<f64>],
    to_tile: &dyn Fn(Coord<f64>) -> Coord<f64>,
    tolerance: f64,
) -> LineString<f64> {
    let mut out: Vec<Coord<f64>> = Vec::with_capacity(pts.len() / 2 + 2);
    let near = tolerance / 2.0;
    for (i, c) in pts.iter().enumerate() {
        let p = to_tile(*c);
        match out.last() {
            Some(l) if i + 1 < pts.len() && (p.x - l.x).abs() < near && (p.y - l.y).abs() < near => {}
            _ => out.push(p),
        }
    }
    let line = LineString::new(out);
    if tolerance > 0.0 {
        line.simplify(tolerance)
    } else {
        line
    }
}

/// The feature's geometry in integer tile coordinates, simplified to `tolerance` tile units,
/// clipped and cleaned; `None` when nothing of it is left in the tile.
pub fn tile_geometry(f: &Feature, tile: TileId, tolerance: f64) -> Option<geo::Geometry<f64>> {
    cut(&f.shape, &to_tile(tile), tolerance)
}

/// World → tile coordinates (0..4096 across the tile).
fn to_tile(tile: TileId) -> impl Fn(Coord<f64>) -> Coord<f64> {
    let ext = f64::from(EXTENT);
    move |c: Coord<f64>| {
        let p = tile.to_tile([c.x, c.y], ext);
        Coord { x: p[0], y: p[1] }
    }
}

/// MVT geometry commands for a shape already in tile coordinates, through the clip, snap and
/// orient steps of every tile but without simplification (used to check the encoder against
/// the `@mapbox/mvt-fixtures` cases, which are a few units across).
pub fn encode_in_tile(shape: &Shape) -> Option<Vec<u32>> {
    let g = cut(shape, &|c| c, 0.0)?;
    g.to_mvt_unscaled().ok().map(|f| f.geometry)
}

fn cut(shape: &Shape, to_tile: &dyn Fn(Coord<f64>) -> Coord<f64>, tolerance: f64) -> Option<geo::Geometry<f64>> {
    let ext = f64::from(EXTENT);
    let (lo, hi) = (-f64::from(BUFFER), ext + f64::from(BUFFER));
    match shape {
        Shape::Point(p) => {
            let c = to_tile(p.0);
            let inside = (0.0..ext).contains(&c.x) && (0.0..ext).contains(&c.y);
            inside.then(|| geo::Geometry::Point(Point::new(c.x.floor(), c.y.floor())))
        }
        Shape::Lines(lines) => {
            let mut parts = Vec::new();
            for line in &lines.0 {
                let l = to_tile_simplified(&line.0, to_tile, tolerance);
                for piece in clip_line(&l.0, lo, hi) {
                    let snapped = snap(piece);
                    if snapped.len() >= 2 {
                        parts.push(LineString::new(snapped));
                    }
                }
            }
            (!parts.is_empty()).then_some(geo::Geometry::MultiLineString(MultiLineString(parts)))
        }
        Shape::Area(area) => cut_area(area, to_tile, tolerance),
    }
}

fn cut_area(
    area: &MultiPolygon<f64>,
    to_tile: &dyn Fn(Coord<f64>) -> Coord<f64>,
    tolerance: f64,
) -> Option<geo::Geometry<f64>> {
    let ring = |r: &LineString<f64>| tile_ring(to_tile_simplified(&r.0, to_tile, tolerance).0);
    let polygons: Vec<Polygon<f64>> = area
        .0
        .iter()
        .filter_map(|p| polygon(ring(p.exterior()), p.interiors().iter().filter_map(ring)))
        .collect();
    (!polygons.is_empty()).then_some(geo::Geometry::MultiPolygon(MultiPolygon(polygons)))
}

/// As [`cut_area`] for an area simplified with the map data: its rings are only transformed.
fn cut_generalised(area: &Area, to_tile: impl Fn(Coord<f64>) -> Coord<f64>) -> Option<geo::Geometry<f64>> {
    let ring = |r: &generalise::Ring| {
        let mut pts = Vec::new();
        area.points(r, &mut pts, &to_tile);
        tile_ring(pts)
    };
    let polygons: Vec<Polygon<f64>> = area
        .polygons
        .iter()
        .filter_map(|rings| polygon(ring(&rings[0]), rings[1..].iter().filter_map(ring)))
        .collect();
    (!polygons.is_empty()).then_some(geo::Geometry::MultiPolygon(MultiPolygon(polygons)))
}

/// A polygon of rings from [`tile_ring`], oriented; none without its exterior.
fn polygon(exterior: Option<LineString<f64>>, holes: impl Iterator<Item = LineString<f64>>) -> Option<Polygon<f64>> {
    let mut exterior = exterior?;
    orient(&mut exterior, true);
    let holes = holes
        .map(|mut h| {
            orient(&mut h, false);
            h
        })
        .collect();
    Some(Polygon::new(exterior, holes))
}

/// A ring in tile coordinates clipped to the buffered tile, snapped to whole units and cleaned;
/// `None` when nothing of it is left.
fn tile_ring(pts: Vec<Coord<f64>>) -> Option<LineString<f64>> {
    let ext = f64::from(EXTENT);
    let clipped = clip_ring(pts, -f64::from(BUFFER), ext + f64::from(BUFFER));
    let mut pts = snap(clipped);
    if pts.first() == pts.last() && pts.len() > 1 {
        pts.pop();
    }
    // Spikes (a, b, a) left by snapping.
    remove_spikes(&mut pts);
    if pts.len() < 3 || signed_area(&pts) == 0.0 {
        return None;
    }
    pts.push(pts[0]);
    Some(LineString::new(pts))
}

/// Surveyor's formula in tile space (y down): positive for what the spec calls an exterior ring.
fn signed_area(pts: &[Coord<f64>]) -> f64 {
    let n = pts.len();
    (0..n)
        .map(|i| {
            let (a, b) = (pts[i], pts[(i + 1) % n]);
            a.x * b.y - b.x * a.y
        })
        .sum::<f64>()
        / 2.0
}

fn orient(r: &mut LineString<f64>, exterior: bool) {
    let a = signed_area(&r.0[..r.0.len() - 1]);
    if (a > 0.0) != exterior {
        r.0.reverse();
    }
}

/// Rounds to whole units in place, dropping points that land on the one before.
fn snap(mut pts: Vec<Coord<f64>>) -> Vec<Coord<f64>> {
    for c in pts.iter_mut() {
        *c = Coord {
            x: c.x.round(),
            y: c.y.round(),
        };
    }
    pts.dedup();
    pts
}

fn remove_spikes(pts: &mut Vec<Coord<f64>>) {
    loop {
        let n = pts.len();
        if n < 3 {
            return;
        }
        let Some(i) = (0..n).find(|&i| pts[(i + n - 1) % n] == pts[(i + 1) % n]) else {
            return;
        };
        pts.remove(i);
        pts.dedup();
        while pts.len() > 1 && pts.first() == pts.last() {
            pts.pop();
        }
    }
}

/// Sutherland–Hodgman against the square [lo, hi]²; the ring is open or closed, the result open.
fn clip_ring(pts: Vec<Coord<f64>>, lo: f64, hi: f64) -> Vec<Coord<f64>> {
    let mut poly = pts;
    if poly.len() > 1 && poly.first() == poly.last() {
        poly.pop();
    }
    let inside_all = poly.iter().all(|c| c.x >= lo && c.x <= hi && c.y >= lo && c.y <= hi);
    if inside_all {
        return poly;
    }
    type Edge = (
        fn(Coord<f64>, f64) -> bool,
        fn(Coord<f64>, Coord<f64>, f64) -> Coord<f64>,
        f64,
    );
    let edges: [Edge; 4] = [
        (
            |c, v| c.x >= v,
            |a, b, v| Coord {
                x: v,
                y: a.y + (b.y - a.y) * (v - a.x) / (b.x - a.x),
            },
            lo,
        ),
        (
            |c, v| c.x <= v,
            |a, b, v| Coord {
                x: v,
                y: a.y + (b.y - a.y) * (v - a.x) / (b.x - a.x),
            },
            hi,
        ),
        (
            |c, v| c.y >= v,
            |a, b, v| Coord {
                x: a.x + (b.x - a.x) * (v - a.y) / (b.y - a.y),
                y: v,
            },
            lo,
        ),
        (
            |c, v| c.y <= v,
            |a, b, v| Coord {
                x: a.x + (b.x - a.x) * (v - a.y) / (b.y - a.y),
                y: v,
            },
            hi,
        ),
    ];
    for (inside, cross, v) in edges {
        if poly.is_empty() {
            break;
        }
        let input = std::mem::take(&mut poly);
        let n = input.len();
        // The crossing of an edge is computed from its ends in one order, whichever way a ring
        // runs along it: the two grids on either side of a border cut it at the same point.
        let cross = |a: Coord<f64>, b: Coord<f64>| {
            if (a.x, a.y) <= (b.x, b.y) {
                cross(a, b, v)
            } else {
                cross(b, a, v)
            }
        };
        for i in 0..n {
            let (cur, prev) = (input[i], input[(i + n - 1) % n]);
            match (inside(cur, v), inside(prev, v)) {
                (true, true) => poly.push(cur),
                (true, false) => {
                    poly.push(cross(prev, cur));
                    poly.push(cur);
                }
                (false, true) => poly.push(cross(prev, cur)),
                (false, false) => {}
            }
        }
    }
    poly
}

/// Liang–Barsky against the square [lo, hi]²: the pieces of the line inside it.
fn clip_line(pts: &[Coord<f64>], lo: f64, hi: f64) -> Vec<Vec<Coord<f64>>> {
    let mut out: Vec<Vec<Coord<f64>>> = Vec::new();
    let mut current: Vec<Coord<f64>> = Vec::new();
    for w in pts.windows(2) {
        let (a, b) = (w[0], w[1]);
        let (dx, dy) = (b.x - a.x, b.y - a.y);
        let (mut t0, mut t1) = (0.0f64, 1.0f64);
        let mut visible = true;
        for (p, q) in [(-dx, a.x - lo), (dx, hi - a.x), (-dy, a.y - lo), (dy, hi - a.y)] {
            if p == 0.0 {
                if q < 0.0 {
                    visible = false;
                }
            } else {
                let t = q / p;
                if p < 0.0 {
                    t0 = t0.max(t);
                } else {
                    t1 = t1.min(t);
                }
            }
        }
        if !visible || t0 > t1 {
            if current.len() >= 2 {
                out.push(std::mem::take(&mut current));
            }
            current.clear();
            continue;
        }
        let p0 = Coord {
            x: a.x + t0 * dx,
            y: a.y + t0 * dy,
        };
        let p1 = Coord {
            x: a.x + t1 * dx,
            y: a.y + t1 * dy,
        };
        if current.last() != Some(&p0) {
            if current.len() >= 2 {
                out.push(std::mem::take(&mut current));
            }
            current = vec![p0];
        }
        current.push(p1);
        if t1 < 1.0 {
            out.push(std::mem::take(&mut current));
        }
    }
    if current.len() >= 2 {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rings_clip_to_the_buffered_square() {
        let square = [
            Coord { x: -100.0, y: -100.0 },
            Coord { x: 200.0, y: -100.0 },
            Coord { x: 200.0, y: 200.0 },
            Coord { x: -100.0, y: 200.0 },
        ];
        let c = clip_ring(square.to_vec(), -64.0, 4160.0);
        assert!(c.iter().all(|p| p.x >= -64.0 && p.y >= -64.0));
        assert_eq!(c.len(), 4);
    }

    #[test]
    fn lines_split_where_they_leave() {
        let line = [
            Coord { x: -500.0, y: 10.0 },
            Coord { x: 100.0, y: 10.0 },
            Coord { x: 100.0, y: -500.0 },
            Coord { x: 200.0, y: -500.0 },
        ];
        let parts = clip_line(&line, -64.0, 4160.0);
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0][0], Coord { x: -64.0, y: 10.0 });
        assert_eq!(parts[0].last().unwrap(), &Coord { x: 100.0, y: -64.0 });
    }

    #[test]
    fn exterior_rings_have_positive_area_in_tile_space() {
        let mut r = LineString::from(vec![(0.0, 0.0), (0.0, 10.0), (10.0, 10.0), (10.0, 0.0), (0.0, 0.0)]);
        orient(&mut r, true);
        assert!(signed_area(&r.0[..4]) > 0.0);
        orient(&mut r, false);
        assert!(signed_area(&r.0[..4]) < 0.0);
    }
}
