//! Which vector tiles of a zoom can hold data, and which of them can differ between two
//! versions' map data: what a tile archive renders (every candidate, or with `--since` only the
//! changed ones, the rest copied).
//!
//! [`crate::mvt::encode`] draws a tile from the features whose box meets the tile grown by its
//! buffer ([`crate::data::Layer::indices_in_tile`]), in layer order. So a tile no feature box
//! meets is empty, and a tile whose features are the same (ids, properties, geometry as drawn at
//! that zoom) in the same order is the same tile. Both sets here are supersets computed from
//! boxes; the encoder decides emptiness.

use crate::data::{DENSITY, Feature, Layer, MapData, Shape, density_resolution};
use crate::mercator::TileId;
use crate::mvt::{BUFFER, EXTENT};
use geo::{BoundingRect, Coord};
use rustc_hash::{FxHashMap, FxHashSet};
use std::hash::{Hash, Hasher};

/// Tiles of one zoom, as (x, y).
pub type TileSet = FxHashSet<(u32, u32)>;

/// A feature's box in world coordinates: [min x, min y, max x, max y].
type WorldBox = [f64; 4];

fn feature_box(f: &Feature) -> Option<WorldBox> {
    let r = match &f.shape {
        Shape::Area(a) => a.bounding_rect(),
        Shape::Lines(l) => l.bounding_rect(),
        Shape::Point(p) => Some(geo::Rect::new(p.0, p.0)),
    }?;
    Some([r.min().x, r.min().y, r.max().x, r.max().y])
}

/// Whether the encoder draws feature `f` of `layer` at zoom `z` at all (density cells show at
/// one resolution per zoom).
fn drawn_at(layer: &Layer, f: &Feature, z: u8) -> bool {
    layer.visible_at(z) && (layer.name != DENSITY || f.uint("resolution") == Some(density_resolution(z)))
}

/// Adds every tile of zoom `z` whose buffered box meets `b`.
fn add_tiles(out: &mut TileSet, b: WorldBox, z: u8) {
    let s = (1u64 << z) as f64;
    let last = (1u64 << z) - 1;
    // A tile x's buffered box is [(x - p) / s, (x + 1 + p) / s]; a hair wider so that rounding
    // never drops a tile the encoder would fill (an extra one is rendered and found empty).
    let p = f64::from(BUFFER) / f64::from(EXTENT) + 1e-6;
    let range = |lo: f64, hi: f64| {
        let a = (lo * s - 1.0 - p).ceil().max(0.0) as u64;
        let b = ((hi * s + p).floor().max(0.0) as u64).min(last);
        (a.min(last) as u32, b as u32)
    };
    let (x0, x1) = range(b[0], b[2]);
    let (y0, y1) = range(b[1], b[3]);
    for x in x0..=x1 {
        for y in y0..=y1 {
            out.insert((x, y));
        }
    }
}

/// The tiles of zoom `z` some drawn feature's box meets (with the tile buffer): every tile that
/// can hold data is among them, in no particular order.
pub fn candidates(map: &MapData, z: u8) -> Vec<TileId> {
    let mut set = TileSet::default();
    for layer in map.layers.iter().filter(|l| l.visible_at(z)) {
        for f in layer.features.iter().filter(|f| drawn_at(layer, f, z)) {
            if let Some(b) = feature_box(f) {
                add_tiles(&mut set, b, z);
            }
        }
    }
    set.into_iter().map(|(x, y)| TileId { z, x, y }).collect()
}

/// 128 bits of a feature as zoom `z` draws it: id, properties and geometry (the per-zoom
/// simplified area where the layer keeps one, whose shared borders depend on the neighbours).
fn fingerprint(layer: &Layer, i: usize, z: u8) -> u128 {
    fn coords<'a>(h: &mut std::hash::DefaultHasher, pts: impl Iterator<Item = &'a Coord<f64>>) {
        for c in pts {
            c.x.to_bits().hash(h);
            c.y.to_bits().hash(h);
        }
        // The end of a ring or line, so that rings cannot run together.
        u64::MAX.hash(h);
    }
    let f = &layer.features[i];
    let hash = |seed: u64| {
        let mut h = std::hash::DefaultHasher::new();
        seed.hash(&mut h);
        f.id.hash(&mut h);
        for (k, v) in &f.props {
            k.hash(&mut h);
            match v {
                crate::data::Value::Str(s) => (0u8, s).hash(&mut h),
                crate::data::Value::Uint(u) => (1u8, u).hash(&mut h),
                crate::data::Value::Double(d) => (2u8, d.to_bits()).hash(&mut h),
            }
        }
        match layer.generalised(i, z) {
            Some(area) => {
                let mut pts = Vec::new();
                for rings in area.polygons {
                    for r in rings {
                        pts.clear();
                        area.points(r, &mut pts, |c| c);
                        coords(&mut h, pts.iter());
                    }
                }
            }
            None => match &f.shape {
                Shape::Area(a) => {
                    for p in &a.0 {
                        for r in std::iter::once(p.exterior()).chain(p.interiors()) {
                            coords(&mut h, r.0.iter());
                        }
                    }
                }
                Shape::Lines(l) => {
                    for line in &l.0 {
                        coords(&mut h, line.0.iter());
                    }
                }
                Shape::Point(p) => coords(&mut h, std::iter::once(&p.0)),
            },
        }
        h.finish()
    };
    (u128::from(hash(0x9e37_79b9)) << 64) | u128::from(hash(0x85eb_ca6b))
}

/// The tiles of zoom `z` whose content can differ between `old` and `new`: those a feature box
/// meets of a feature drawn in one and not the other, or drawn differently (old and new boxes
/// both). When the features both draw keep their order, every other tile draws the same
/// features in the same order, so it is the same tile; when they do not, or the layers
/// themselves differ, every feature of the layer counts as changed. `None` when the two maps
/// do not have the same layers: everything is to be drawn again.
pub fn changed(old: &MapData, new: &MapData, z: u8) -> Option<TileSet> {
    let same_layers = old.layers.len() == new.layers.len()
        && old
            .layers
            .iter()
            .zip(&new.layers)
            .all(|(a, b)| a.name == b.name && a.minzoom == b.minzoom && a.maxzoom == b.maxzoom);
    if !same_layers {
        return None;
    }
    let mut dirty = TileSet::default();
    for (lo, ln) in old.layers.iter().zip(&new.layers).filter(|(l, _)| l.visible_at(z)) {
        let drawn = |l: &Layer| -> Vec<usize> {
            (0..l.features.len())
                .filter(|&i| drawn_at(l, &l.features[i], z))
                .collect()
        };
        let (old_ix, new_ix) = (drawn(lo), drawn(ln));
        let mut by_print: FxHashMap<u128, std::collections::VecDeque<usize>> = FxHashMap::default();
        for &i in &old_ix {
            by_print.entry(fingerprint(lo, i, z)).or_default().push_back(i);
        }
        let mut matched: Vec<(usize, usize)> = Vec::new();
        let touched = |layer: &Layer, i: usize, dirty: &mut TileSet| {
            if let Some(b) = feature_box(&layer.features[i]) {
                add_tiles(dirty, b, z);
            }
        };
        for &j in &new_ix {
            match by_print.get_mut(&fingerprint(ln, j, z)).and_then(|q| q.pop_front()) {
                Some(i) => matched.push((i, j)),
                None => touched(ln, j, &mut dirty),
            }
        }
        for q in by_print.values() {
            for &i in q {
                touched(lo, i, &mut dirty);
            }
        }
        // Unchanged features in another order change the order within tiles: all of them count.
        if matched.windows(2).any(|w| w[0].0 > w[1].0) {
            for &(i, j) in &matched {
                touched(lo, i, &mut dirty);
                touched(ln, j, &mut dirty);
            }
        }
    }
    Some(dirty)
}
