//! Shared walls, reconciled before tessellating. Real footprints that share a wall rarely share
//! its vertices: terraces and perimeter blocks surveyed house by house leave walls a few
//! centimetres apart, a corner of one house on the middle of its neighbour's wall, or a sliver of
//! overlap. The triangulation needs walls that are either identical or apart, so:
//!
//! 1. a corner within [`SNAP_M`] of another atom's corner takes that corner's exact coordinates
//!    (the first in claim order wins, so the result is deterministic);
//! 2. a corner within [`SNAP_M`] of another atom's wall is inserted into that wall, so both
//!    outlines pass through the same point and the wall between them is one segment.
//!
//! A polygon that would become invalid is left as it was. Only claims of different atoms are
//! reconciled: a building inside an exclusive unit belongs to the unit anyway.

use super::tessellate::{AtomIx, Claims};
use crate::geom::{BboxIndex, LocalFrame};
use geo::{Coord, LineString, Polygon, Rect, Validation};
use rayon::prelude::*;
use rstar::RTree;
use rstar::primitives::GeomWithData;

/// Walls and corners closer than this (m) are taken for one.
pub(crate) const SNAP_M: f64 = 0.1;

/// What reconciling changed, for the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Reconciled {
    /// Corners moved onto a neighbour's corner.
    pub snapped: usize,
    /// Corners inserted into a neighbour's wall.
    pub inserted: usize,
    /// Polygons left as they were because the change would make them invalid.
    pub kept: usize,
}

type Ring = Vec<Coord<f64>>; // open: first point not repeated
/// A wall: (polygon, ring, index of the wall's first corner in the ring).
type WallAt = (u32, u32, u32);
/// A corner to insert into a wall, with its position along the wall.
type Insert = (f64, Coord<f64>);
/// A ring's walls that get corners: (wall, its corners in order along it).
type RingInserts = Vec<(u32, Vec<Insert>)>;

/// Reconciles the claim polygons' walls in place.
pub(crate) fn reconcile(claims: &mut Claims, frame: &LocalFrame) -> Reconciled {
    let mut out = Reconciled::default();
    let n = claims.polygons.len();
    if n < 2 {
        return out;
    }
    let atoms: Vec<AtomIx> = claims.polygons.iter().map(|(a, _)| *a).collect();
    let mut rings: Vec<Vec<Ring>> = claims.polygons.iter().map(|(_, p)| polygon_rings(p)).collect();

    // Only polygons with another atom's polygon within reach can change, and on most blocks
    // those are few: the corner and wall trees hold only theirs. Corners move by up to SNAP_M
    // before walls are matched, so the reach is a few times SNAP_M.
    let near = within_reach(&rings, &atoms, frame, 4.0 * SNAP_M);
    let mut changed = vec![false; n];

    // 1. Corners onto corners.
    let corners: Vec<GeomWithData<[f64; 2], (u32, u32, u32)>> = rings
        .iter()
        .enumerate()
        .filter(|&(pi, _)| near[pi])
        .flat_map(|(pi, rs)| {
            rs.iter()
                .enumerate()
                .flat_map(move |(ri, r)| r.iter().enumerate().map(move |(ci, c)| (pi, ri, ci, *c)))
        })
        .map(|(pi, ri, ci, c)| GeomWithData::new(frame.to_local(c), (pi as u32, ri as u32, ci as u32)))
        .collect();
    let tree = RTree::bulk_load(corners.clone());
    let mut moved: rustc_hash::FxHashSet<(u32, u32, u32)> = rustc_hash::FxHashSet::default();
    for c in &corners {
        let (pi, ri, ci) = c.data;
        if moved.contains(&c.data) {
            continue;
        }
        let anchor = rings[pi as usize][ri as usize][ci as usize];
        let mut near: Vec<(u32, u32, u32)> = tree
            .locate_within_distance(*c.geom(), SNAP_M * SNAP_M)
            .map(|o| o.data)
            .filter(|&(pj, _, _)| atoms[pj as usize] != atoms[pi as usize])
            .collect();
        // In claim order, not the tree's: which of two near corners of one ring snaps must not
        // depend on what else the tree holds.
        near.sort_unstable();
        for (pj, rj, cj) in near {
            let target = &rings[pj as usize][rj as usize];
            let current = target[cj as usize];
            // Never fold two corners of one ring together.
            if current == anchor || target.contains(&anchor) || moved.contains(&(pj, rj, cj)) {
                continue;
            }
            rings[pj as usize][rj as usize][cj as usize] = anchor;
            moved.insert((pj, rj, cj));
            changed[pj as usize] = true;
            out.snapped += 1;
        }
        moved.insert(c.data);
    }

    // 2. Corners into walls.
    let walls: Vec<GeomWithData<rstar::primitives::Line<[f64; 2]>, WallAt>> = rings
        .iter()
        .enumerate()
        .filter(|&(pi, _)| near[pi])
        .flat_map(|(pi, rs)| {
            rs.iter()
                .enumerate()
                .flat_map(move |(ri, r)| (0..r.len()).map(move |k| (pi, ri, k, r[k], r[(k + 1) % r.len()])))
        })
        .map(|(pi, ri, k, a, b)| {
            GeomWithData::new(
                rstar::primitives::Line::new(frame.to_local(a), frame.to_local(b)),
                (pi as u32, ri as u32, k as u32),
            )
        })
        .collect();
    let wall_tree = RTree::bulk_load(walls);
    // (polygon, ring, wall) → corners to insert, with their position along the wall.
    let mut inserts: std::collections::BTreeMap<WallAt, Vec<Insert>> = std::collections::BTreeMap::new();
    for (pi, rs) in rings.iter().enumerate().filter(|&(pi, _)| near[pi]) {
        for r in rs {
            for &c in r {
                let p = frame.to_local(c);
                for w in wall_tree.locate_within_distance(p, SNAP_M * SNAP_M) {
                    let (pj, rj, k) = w.data;
                    if atoms[pj as usize] == atoms[pi] {
                        continue;
                    }
                    let ring = &rings[pj as usize][rj as usize];
                    let (a, b) = (ring[k as usize], ring[(k as usize + 1) % ring.len()]);
                    if c == a || c == b || ring.contains(&c) {
                        continue;
                    }
                    let (la, lb) = (w.geom().from, w.geom().to);
                    let d = [lb[0] - la[0], lb[1] - la[1]];
                    let len2 = d[0] * d[0] + d[1] * d[1];
                    if len2 == 0.0 {
                        continue;
                    }
                    let t = ((p[0] - la[0]) * d[0] + (p[1] - la[1]) * d[1]) / len2;
                    // Only strictly between the wall's ends, not beside a corner of it.
                    if t <= 1e-9 || t >= 1.0 - 1e-9 {
                        continue;
                    }
                    inserts.entry(w.data).or_default().push((t, c));
                }
            }
        }
    }
    let mut by_ring: std::collections::BTreeMap<(u32, u32), RingInserts> = std::collections::BTreeMap::new();
    for ((pi, ri, k), mut list) in inserts {
        list.sort_by(|x, y| x.0.total_cmp(&y.0));
        list.dedup_by(|x, y| x.1 == y.1);
        by_ring.entry((pi, ri)).or_default().push((k, list));
    }
    for ((pi, ri), walls) in by_ring {
        let ring = &rings[pi as usize][ri as usize];
        let mut new: Ring = Vec::with_capacity(ring.len() + walls.len());
        let mut at = walls.iter().peekable();
        for (k, &c) in ring.iter().enumerate() {
            new.push(c);
            if let Some((_, list)) = at.next_if(|(w, _)| *w as usize == k) {
                for (_, p) in list {
                    if new.last() != Some(p) {
                        new.push(*p);
                        out.inserted += 1;
                    }
                }
            }
        }
        rings[pi as usize][ri as usize] = new;
        changed[pi as usize] = true;
    }
    // Validity checks are the costly part on a dense block: on both cores.
    let candidates: Vec<Option<Polygon<f64>>> = (0..n)
        .into_par_iter()
        .map(|pi| changed[pi].then(|| Polygon::new(close(&rings[pi][0]), rings[pi][1..].iter().map(close).collect())))
        .map(|c| c.filter(|c| c.is_valid()))
        .collect();
    for (pi, ((_, polygon), candidate)) in claims.polygons.iter_mut().zip(candidates).enumerate() {
        if !changed[pi] {
            continue;
        }
        match candidate {
            Some(c) => *polygon = c,
            None => out.kept += 1,
        }
    }
    out
}

/// For each polygon, whether another atom's polygon comes within `reach` metres of its box.
fn within_reach(rings: &[Vec<Ring>], atoms: &[AtomIx], frame: &LocalFrame, reach: f64) -> Vec<bool> {
    // Half the reach on each box: two boxes meet when their polygons are within it.
    let half = reach / 2.0;
    let boxes: Vec<Rect<f64>> = rings
        .iter()
        .map(|rs| {
            let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
            for c in rs.iter().flatten() {
                let p = frame.to_local(*c);
                lo = [lo[0].min(p[0]), lo[1].min(p[1])];
                hi = [hi[0].max(p[0]), hi[1].max(p[1])];
            }
            Rect::new((lo[0] - half, lo[1] - half), (hi[0] + half, hi[1] + half))
        })
        .collect();
    let index = BboxIndex::new(boxes.iter().copied().enumerate());
    boxes
        .iter()
        .enumerate()
        .map(|(pi, b)| index.intersecting(*b).into_iter().any(|o| atoms[o] != atoms[pi]))
        .collect()
}

fn polygon_rings(p: &Polygon<f64>) -> Vec<Ring> {
    std::iter::once(p.exterior())
        .chain(p.interiors())
        .map(|r| {
            let mut v = r.0.clone();
            if v.len() > 1 && v.first() == v.last() {
                v.pop();
            }
            v
        })
        .collect()
}

fn close(r: &Ring) -> LineString<f64> {
    let mut v = r.clone();
    if let Some(&f) = v.first() {
        v.push(f);
    }
    LineString(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    #[test]
    fn terraced_houses_a_few_centimetres_apart_come_to_share_their_wall() {
        let frame = LocalFrame::new(Coord { x: 118.0, y: 24.5 });
        let m = |x: f64, y: f64| frame.to_lonlat([x, y]);
        let (a, b, c, d) = (m(0.0, 0.0), m(10.0, 0.0), m(10.0, 8.0), m(0.0, 8.0));
        // The neighbour's wall lies 3 cm east and runs 2 m further south; its top corner is 4 cm off.
        let (e, f, g, h) = (m(10.03, -2.0), m(20.0, -2.0), m(20.0, 8.0), m(10.04, 8.0));
        let mut claims = Claims::default();
        claims.polygons.push((0, polygon![a, b, c, d, a]));
        claims.polygons.push((1, polygon![e, f, g, h, e]));
        let r = reconcile(&mut claims, &frame);
        assert_eq!(r.snapped, 1, "{r:?}"); // h onto c
        assert!(r.inserted >= 1, "{r:?}"); // b into the neighbour's wall e–h
        let second = &claims.polygons[1].1;
        assert!(
            second.exterior().0.contains(&c),
            "the corner takes the neighbour's coordinates"
        );
        assert!(
            second.exterior().0.contains(&b),
            "the neighbour's corner lies on the wall"
        );
        assert!(claims.polygons.iter().all(|(_, p)| p.is_valid()));
    }

    #[test]
    fn a_house_with_no_neighbour_within_reach_is_left_alone() {
        let frame = LocalFrame::new(Coord { x: 118.0, y: 24.5 });
        let m = |x: f64, y: f64| frame.to_lonlat([x, y]);
        let mut claims = Claims::default();
        // Two houses 5 cm apart, and 300 m away a bow-tie (invalid as drawn) and a house 20 cm
        // from it: nothing there is within SNAP_M, so nothing is changed or counted.
        claims.polygons.push((
            0,
            polygon![m(0.0, 0.0), m(10.0, 0.0), m(10.0, 8.0), m(0.0, 8.0), m(0.0, 0.0)],
        ));
        claims.polygons.push((
            1,
            polygon![m(10.05, 0.0), m(20.0, 0.0), m(20.0, 8.0), m(10.05, 8.0), m(10.05, 0.0)],
        ));
        let bow_tie = polygon![
            m(300.0, 0.0),
            m(310.0, 8.0),
            m(310.0, 0.0),
            m(300.0, 8.0),
            m(300.0, 0.0)
        ];
        claims.polygons.push((2, bow_tie.clone()));
        let beside = polygon![
            m(310.2, 0.0),
            m(320.0, 0.0),
            m(320.0, 8.0),
            m(310.2, 8.0),
            m(310.2, 0.0)
        ];
        claims.polygons.push((3, beside.clone()));
        let r = reconcile(&mut claims, &frame);
        assert_eq!(r.kept, 0, "{r:?}");
        assert_eq!(claims.polygons[2].1, bow_tie);
        assert_eq!(claims.polygons[3].1, beside);
        // The near pair did meet: the walls 5 cm apart now share corners.
        assert_eq!(r.snapped, 2, "{r:?}");
    }
}
