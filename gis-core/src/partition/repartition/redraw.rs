//! Re-drawing a region — a few neighbouring grids taken out of a published layer — while every
//! grid around it keeps its geometry to the bit.
//!
//! A region's outline is the exact union of its grids ([`crate::geom::exact_union`]: shared
//! edges cancel; no boolean overlay, which would move vertices). It is tessellated like a
//! community, with no points added along its outline; the only new points the tessellation puts
//! on the outline are midpoints of outline edges where two atoms' cells meet, and those are
//! snapped to an end of their edge, so the re-drawn grids meet their neighbours on exactly the
//! neighbours' vertices.

use crate::geom::{VertexKey, midpoint, ring_area};
use crate::model::{Community, Dataset};
use geo::{Coord, LineString, MultiPolygon, Polygon};
use rustc_hash::FxHashMap;

/// Snaps points the tessellation put at the middle of an outline edge to the edge's lower end
/// (the same end for every grid using the point), then drops repeated points and rings that
/// collapsed. The segment from an inner point to the snapped end stays inside one triangle of
/// open space, so no building is cut by the move.
pub(crate) fn snap_to_outline(outline: &MultiPolygon<f64>, areas: &mut [MultiPolygon<f64>]) {
    let mut snap: FxHashMap<VertexKey, Coord<f64>> = FxHashMap::default();
    for p in &outline.0 {
        for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
            for l in ring.lines() {
                let lower = if (l.start.x, l.start.y) <= (l.end.x, l.end.y) {
                    l.start
                } else {
                    l.end
                };
                snap.insert(VertexKey::of(midpoint(l.start, l.end)), lower);
            }
        }
    }
    for area in areas.iter_mut() {
        let polygons = std::mem::take(&mut area.0);
        for p in polygons {
            let (ext, holes) = p.into_inner();
            let Some(ext) = snapped(ext, &snap) else { continue };
            let holes = holes.into_iter().filter_map(|h| snapped(h, &snap)).collect();
            area.0.push(Polygon::new(ext, holes));
        }
    }
}

fn snapped(ring: LineString<f64>, snap: &FxHashMap<VertexKey, Coord<f64>>) -> Option<LineString<f64>> {
    let mut pts: Vec<Coord<f64>> = ring
        .0
        .into_iter()
        .map(|c| snap.get(&VertexKey::of(c)).copied().unwrap_or(c))
        .collect();
    pts.pop(); // work on the open ring
    loop {
        pts.dedup();
        while pts.len() > 1 && pts.first() == pts.last() {
            pts.pop();
        }
        let n = pts.len();
        if n < 3 {
            return None;
        }
        // A spike (a, b, a), left where a snapped point sat between its own two ends.
        match (0..n).find(|&i| pts[(i + n - 1) % n] == pts[(i + 1) % n]) {
            Some(i) => {
                pts.remove(i);
            }
            None => break,
        }
    }
    pts.push(pts[0]);
    let ring = LineString::new(pts);
    (ring_area(&ring) > 0.0).then_some(ring)
}

/// A dataset holding only what lies in `outline`, as one community standing in for community
/// `ci`: the buildings, points and exclusive units `inside` selects, and all roads.
pub(crate) fn sub_dataset(
    dataset: &Dataset,
    ci: usize,
    outline: MultiPolygon<f64>,
    building_inside: &dyn Fn(usize) -> bool,
    point_inside: &dyn Fn(usize) -> bool,
    exclusive_inside: &dyn Fn(usize) -> bool,
) -> Dataset {
    let c = &dataset.communities[ci];
    let mut exclusive_ix: FxHashMap<usize, usize> = FxHashMap::default();
    let exclusive = dataset
        .exclusive
        .iter()
        .enumerate()
        .filter(|(u, e)| e.community == ci && exclusive_inside(*u))
        .map(|(u, e)| {
            exclusive_ix.insert(u, exclusive_ix.len());
            let mut e = e.clone();
            e.community = 0;
            e
        })
        .collect();
    let buildings = dataset
        .buildings
        .iter()
        .enumerate()
        .filter(|(i, b)| b.community == ci && building_inside(*i))
        .map(|(_, b)| {
            let mut b = b.clone();
            b.community = 0;
            b.exclusive_unit = b.exclusive_unit.and_then(|u| exclusive_ix.get(&u).copied());
            b
        })
        .collect();
    let points = dataset
        .points
        .iter()
        .enumerate()
        .filter(|(i, p)| p.community == ci && point_inside(*i))
        .map(|(_, p)| {
            let mut p = p.clone();
            p.community = 0;
            p
        })
        .collect();
    Dataset {
        communities: vec![Community {
            code: c.code.clone(),
            name: c.name.clone(),
            boundary: outline,
        }],
        buildings,
        points,
        resources: Vec::new(),
        roads: dataset.roads.clone(),
        exclusive,
        staff: Vec::new(),
        context: Default::default(),
        walk: Default::default(),
        access: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Area, Rect};

    fn square(x: f64, y: f64) -> MultiPolygon<f64> {
        MultiPolygon(vec![Rect::new((x, y), (x + 1.0, y + 1.0)).to_polygon()])
    }

    #[test]
    fn midpoints_on_the_outline_snap_to_the_lower_end() {
        let outline = square(0.0, 0.0);
        // Two halves split at the midpoint of the bottom and top edges.
        let left = MultiPolygon(vec![Polygon::new(
            LineString::from(vec![(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0), (0.0, 0.0)]),
            vec![],
        )]);
        let right = MultiPolygon(vec![Polygon::new(
            LineString::from(vec![(0.5, 0.0), (1.0, 0.0), (1.0, 1.0), (0.5, 1.0), (0.5, 0.0)]),
            vec![],
        )]);
        let mut areas = vec![left, right];
        snap_to_outline(&outline, &mut areas);
        // Bottom midpoint → (0, 0); top midpoint → (0, 1): the left half collapses to nothing.
        assert!(areas[0].0.is_empty());
        assert!((areas[1].unsigned_area() - 1.0).abs() < 1e-12);
    }
}
