//! Regions: a few neighbouring grids taken out of a published layer to be re-drawn, while every
//! grid around them keeps its geometry to the bit.
//!
//! A region's outline is the exact union of its grids (shared edges cancel; no boolean overlay,
//! which would move vertices). It is tessellated like a community, with no points added along its
//! outline; the only new points the tessellation puts on the outline are midpoints of outline
//! edges where two atoms' cells meet, and those are snapped to an end of their edge, so the
//! re-drawn grids meet their neighbours on exactly the neighbours' vertices.

use crate::model::{Community, Dataset};
use geo::{Contains, Coord, LineString, MultiPolygon, Point, Polygon, Winding};
use rustc_hash::{FxHashMap, FxHashSet};

type Key = (u64, u64);

fn key(c: Coord<f64>) -> Key {
    ((c.x + 0.0).to_bits(), (c.y + 0.0).to_bits())
}

fn unkey(k: Key) -> Coord<f64> {
    Coord {
        x: f64::from_bits(k.0),
        y: f64::from_bits(k.1),
    }
}

/// Directed edges of every ring (exteriors counter-clockwise, holes clockwise).
fn directed_edges(areas: &[&MultiPolygon<f64>]) -> Vec<(Key, Key)> {
    let mut out = Vec::new();
    for area in areas {
        for p in &area.0 {
            let mut ext = p.exterior().clone();
            ext.make_ccw_winding();
            let holes: Vec<LineString<f64>> = p
                .interiors()
                .iter()
                .map(|h| {
                    let mut h = h.clone();
                    h.make_cw_winding();
                    h
                })
                .collect();
            for ring in std::iter::once(&ext).chain(&holes) {
                out.extend(ring.lines().map(|l| (key(l.start), key(l.end))).filter(|(a, b)| a != b));
            }
        }
    }
    out
}

/// The union of grids that meet edge to edge with identical vertices.
pub(crate) fn exact_union(areas: &[&MultiPolygon<f64>]) -> MultiPolygon<f64> {
    let edges = directed_edges(areas);
    let set: FxHashSet<(Key, Key)> = edges.iter().copied().collect();
    let mut remaining: Vec<(Key, Key)> = edges.into_iter().filter(|(a, b)| !set.contains(&(*b, *a))).collect();
    remaining.sort_unstable();
    remaining.dedup();
    let mut out_of: FxHashMap<Key, Vec<Key>> = FxHashMap::default();
    for &(a, b) in &remaining {
        out_of.entry(a).or_default().push(b);
    }
    let mut rings: Vec<LineString<f64>> = Vec::new();
    for &(start, _) in &remaining {
        while let Some(first) = out_of.get_mut(&start).and_then(Vec::pop) {
            let mut ring = vec![unkey(start), unkey(first)];
            let mut at = first;
            let mut guard = remaining.len() + 1;
            while at != start && guard > 0 {
                guard -= 1;
                let Some(next) = out_of.get_mut(&at).and_then(Vec::pop) else {
                    break;
                };
                ring.push(unkey(next));
                at = next;
            }
            if at == start && ring.len() >= 4 {
                rings.push(LineString::new(ring));
            }
        }
    }
    let (mut shells, holes): (Vec<LineString<f64>>, Vec<LineString<f64>>) = rings.into_iter().partition(|r| r.is_ccw());
    shells.sort_by(|a, b| ring_area(b).total_cmp(&ring_area(a)));
    let mut polygons: Vec<(LineString<f64>, Vec<LineString<f64>>)> =
        shells.into_iter().map(|s| (s, Vec::new())).collect();
    for h in holes {
        // A hole goes to the smallest shell holding one of its points (shells sorted big → small).
        let probe = h.0[0];
        let owner = polygons
            .iter()
            .rposition(|(s, _)| Polygon::new(s.clone(), vec![]).contains(&Point::from(mid(probe, h.0[1]))));
        if let Some(i) = owner {
            polygons[i].1.push(h);
        }
    }
    MultiPolygon(polygons.into_iter().map(|(s, h)| Polygon::new(s, h)).collect())
}

fn mid(a: Coord<f64>, b: Coord<f64>) -> Coord<f64> {
    Coord {
        x: (a.x + b.x) / 2.0,
        y: (a.y + b.y) / 2.0,
    }
}

fn ring_area(r: &LineString<f64>) -> f64 {
    r.lines()
        .map(|l| l.start.x * l.end.y - l.end.x * l.start.y)
        .sum::<f64>()
        .abs()
        / 2.0
}

/// Snaps points the tessellation put at the middle of an outline edge to the edge's lower end
/// (the same end for every grid using the point), then drops repeated points and rings that
/// collapsed. The segment from an inner point to the snapped end stays inside one triangle of
/// open space, so no building is cut by the move.
pub(crate) fn snap_to_outline(outline: &MultiPolygon<f64>, areas: &mut [MultiPolygon<f64>]) {
    let mut snap: FxHashMap<Key, Coord<f64>> = FxHashMap::default();
    for p in &outline.0 {
        for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
            for l in ring.lines() {
                let lower = if (l.start.x, l.start.y) <= (l.end.x, l.end.y) {
                    l.start
                } else {
                    l.end
                };
                snap.insert(key(mid(l.start, l.end)), lower);
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

fn snapped(ring: LineString<f64>, snap: &FxHashMap<Key, Coord<f64>>) -> Option<LineString<f64>> {
    let mut pts: Vec<Coord<f64>> = ring
        .0
        .into_iter()
        .map(|c| snap.get(&key(c)).copied().unwrap_or(c))
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
    fn union_of_edge_sharing_squares_is_exact() {
        // A 3×3 block without its centre: one shell with one hole.
        let squares: Vec<MultiPolygon<f64>> = (0..3)
            .flat_map(|i| (0..3).map(move |j| (i, j)))
            .filter(|&(i, j)| (i, j) != (1, 1))
            .map(|(i, j)| square(i as f64, j as f64))
            .collect();
        let refs: Vec<&MultiPolygon<f64>> = squares.iter().collect();
        let u = exact_union(&refs);
        assert_eq!(u.0.len(), 1);
        assert_eq!(u.0[0].interiors().len(), 1);
        assert!((u.unsigned_area() - 8.0).abs() < 1e-12);
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
