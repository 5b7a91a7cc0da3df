//! Per-zoom simplified copies of a layer's areas, made once with the map data so that a tile only
//! transforms and clips them (simplifying whole grid rings in every tile was most of a vector
//! tile's time).
//!
//! Borders stay shared: the rings are cut into arcs where the features meeting along them change
//! (TopoJSON's junctions: a vertex met with different neighbours in different rings), and every
//! arc is simplified once, in one orientation, whichever rings use it. Two grids on either side
//! of a border therefore get the same simplified border, vertex for vertex, and snapping them to
//! integer tile coordinates keeps them equal: no slivers or overlaps between neighbours at any
//! zoom. This needs borders that share their vertices exactly, as a partition's grids do;
//! elsewhere the result is still within the tolerance of the source.

use geo::{Coord, LineString, MultiPolygon, Polygon};
use rayon::prelude::*;
use rustc_hash::FxHashMap;

type Bits = (u64, u64);

fn bits(c: Coord<f64>) -> Bits {
    (c.x.to_bits(), c.y.to_bits())
}

/// Where a ring runs: its arcs in order, each forwards or reversed.
type RingArcs = Vec<(u32, bool)>;

/// The areas of a layer as shared arcs, and their simplified copies for each zoom.
pub struct Generalised {
    minzoom: u8,
    /// Per zoom from `minzoom`, per feature: its area at that zoom (`None`: not an area).
    levels: Vec<Vec<Option<MultiPolygon<f64>>>>,
}

impl Generalised {
    /// `areas[i]` is feature `i`'s area (`None` for another shape); `tolerance(z)` is the
    /// Douglas–Peucker tolerance at zoom `z` in the areas' units.
    pub fn new(
        areas: &[Option<&MultiPolygon<f64>>],
        zooms: std::ops::RangeInclusive<u8>,
        tolerance: impl Fn(u8) -> f64 + Sync,
    ) -> Self {
        let (arcs, features) = topology(areas);
        let minzoom = *zooms.start();
        let levels = zooms
            .collect::<Vec<u8>>()
            .into_par_iter()
            .map(|z| {
                let t = tolerance(z);
                let simplified: Vec<Vec<Coord<f64>>> = arcs.iter().map(|a| simplify(a, t)).collect();
                features
                    .iter()
                    .map(|f| f.as_ref().map(|polygons| assemble(polygons, &simplified)))
                    .collect()
            })
            .collect();
        Self { minzoom, levels }
    }

    /// Feature `i`'s area simplified for zoom `z`, if this layer has that zoom and it is an area.
    pub fn at(&self, z: u8, i: usize) -> Option<&MultiPolygon<f64>> {
        let level = self.levels.get(usize::from(z.checked_sub(self.minzoom)?))?;
        level.get(i)?.as_ref()
    }
}

/// The rings of `polygons` put back together from simplified arcs; rings that collapsed (fewer
/// than three distinct points) are left out, and a polygon whose exterior collapsed with them.
fn assemble(polygons: &[Vec<RingArcs>], arcs: &[Vec<Coord<f64>>]) -> MultiPolygon<f64> {
    let ring = |r: &RingArcs| -> Option<LineString<f64>> {
        let mut pts: Vec<Coord<f64>> = Vec::new();
        for &(a, reversed) in r {
            let arc = &arcs[a as usize];
            // Each arc starts where the last one ended.
            let skip = usize::from(!pts.is_empty());
            if reversed {
                pts.extend(arc.iter().rev().skip(skip));
            } else {
                pts.extend(arc.iter().skip(skip));
            }
        }
        (pts.len() >= 4).then(|| LineString::new(pts))
    };
    MultiPolygon(
        polygons
            .iter()
            .filter_map(|rings| {
                let exterior = ring(&rings[0])?;
                Some(Polygon::new(exterior, rings[1..].iter().filter_map(ring).collect()))
            })
            .collect(),
    )
}

/// A ring's distinct vertices in order (open: the closing repeat dropped, consecutive repeats too).
fn open_ring(r: &LineString<f64>) -> Vec<Coord<f64>> {
    let mut pts: Vec<Coord<f64>> = Vec::with_capacity(r.0.len());
    for &c in &r.0 {
        if pts.last() != Some(&c) {
            pts.push(c);
        }
    }
    while pts.len() > 1 && pts.first() == pts.last() {
        pts.pop();
    }
    pts
}

/// The arcs (each in its canonical orientation) and, per feature, per polygon, per ring (exterior
/// first), the arcs it runs along.
#[allow(clippy::type_complexity)]
fn topology(areas: &[Option<&MultiPolygon<f64>>]) -> (Vec<Vec<Coord<f64>>>, Vec<Option<Vec<Vec<RingArcs>>>>) {
    let rings: Vec<Vec<Vec<Vec<Coord<f64>>>>> = areas
        .par_iter()
        .map(|a| {
            a.map(|a| {
                a.0.iter()
                    .map(|p| {
                        std::iter::once(p.exterior())
                            .chain(p.interiors())
                            .map(open_ring)
                            .collect()
                    })
                    .collect()
            })
            .unwrap_or_default()
        })
        .collect();
    // A vertex is a junction where rings through it do not all come from and go to the same two
    // neighbours: there the border between two features ends.
    let mut seen: FxHashMap<Bits, (Bits, Bits, bool)> = FxHashMap::default();
    let total: usize = rings.iter().flatten().flatten().map(Vec::len).sum();
    seen.reserve(total);
    for r in rings.iter().flatten().flatten() {
        let n = r.len();
        for i in 0..n {
            let (p, q) = (bits(r[(i + n - 1) % n]), bits(r[(i + 1) % n]));
            let pair = if p <= q { (p, q) } else { (q, p) };
            seen.entry(bits(r[i]))
                .and_modify(|e| e.2 |= (e.0, e.1) != pair)
                .or_insert((pair.0, pair.1, false));
        }
    }
    let junction = |c: Coord<f64>| seen.get(&bits(c)).is_some_and(|e| e.2);
    let mut arcs: Vec<Vec<Coord<f64>>> = Vec::new();
    // Arcs by (first, second, last point, length), to find a border's arc from its other side.
    let mut by_key: FxHashMap<(Bits, Bits, Bits, usize), Vec<u32>> = FxHashMap::default();
    let mut arc_id = |arc: Vec<Coord<f64>>| -> (u32, bool) {
        let n = arc.len();
        let forwards = (bits(arc[0]), bits(arc[1])) <= (bits(arc[n - 1]), bits(arc[n - 2]));
        let arc = if forwards { arc } else { arc.into_iter().rev().collect() };
        let key = (bits(arc[0]), bits(arc[1]), bits(arc[n - 1]), n);
        let ids = by_key.entry(key).or_default();
        let id = match ids.iter().find(|&&id| arcs[id as usize] == arc) {
            Some(&id) => id,
            None => {
                arcs.push(arc);
                ids.push(arcs.len() as u32 - 1);
                arcs.len() as u32 - 1
            }
        };
        (id, !forwards)
    };
    let features = areas
        .iter()
        .zip(rings)
        .map(|(a, polygons)| {
            a.map(|_| {
                polygons
                    .into_iter()
                    .map(|rings| {
                        rings
                            .into_iter()
                            .filter(|r| r.len() >= 3)
                            .map(|r| split(r, &junction).into_iter().map(&mut arc_id).collect())
                            .collect::<Vec<RingArcs>>()
                    })
                    // A polygon whose exterior had fewer than three points has none left.
                    .filter(|rings| !rings.is_empty())
                    .collect()
            })
        })
        .collect();
    (arcs, features)
}

/// An open ring cut at its junctions into arcs (each from one junction to the next, both
/// included); with none, the whole ring as one closed arc from its smallest vertex, towards the
/// smaller of that vertex's neighbours (so every ring through it starts it alike).
fn split(r: Vec<Coord<f64>>, junction: &dyn Fn(Coord<f64>) -> bool) -> Vec<Vec<Coord<f64>>> {
    let n = r.len();
    let cuts: Vec<usize> = (0..n).filter(|&i| junction(r[i])).collect();
    if cuts.is_empty() {
        let start = (0..n).min_by_key(|&i| bits(r[i])).unwrap_or(0);
        let forwards = bits(r[(start + 1) % n]) <= bits(r[(start + n - 1) % n]);
        let arc: Vec<Coord<f64>> = (0..=n)
            .map(|k| {
                let i = if forwards { start + k } else { start + n - k };
                r[i % n]
            })
            .collect();
        return vec![arc];
    }
    let mut out = Vec::with_capacity(cuts.len());
    for (k, &from) in cuts.iter().enumerate() {
        let to = cuts.get(k + 1).copied().unwrap_or(cuts[0] + n);
        out.push((from..=to).map(|i| r[i % n]).collect());
    }
    out
}

/// An arc simplified: points within half the tolerance of the last one kept dropped (borders can
/// carry a vertex every metre), then Douglas–Peucker; both ends are kept, and a closed arc keeps
/// its farthest point from its start so it stays a ring.
fn simplify(arc: &[Coord<f64>], tolerance: f64) -> Vec<Coord<f64>> {
    let n = arc.len();
    if n <= 2 || tolerance <= 0.0 {
        return arc.to_vec();
    }
    let near = tolerance / 2.0;
    let mut pts: Vec<Coord<f64>> = Vec::with_capacity(n / 2 + 2);
    for (i, &c) in arc.iter().enumerate() {
        match pts.last() {
            Some(l) if i + 1 < n && (c.x - l.x).abs() < near && (c.y - l.y).abs() < near => {}
            _ => pts.push(c),
        }
    }
    let m = pts.len();
    let mut keep = vec![false; m];
    keep[0] = true;
    keep[m - 1] = true;
    let mut stack: Vec<(usize, usize)> = Vec::new();
    if pts[0] == pts[m - 1] {
        let d = |c: &Coord<f64>| (c.x - pts[0].x).powi(2) + (c.y - pts[0].y).powi(2);
        let far = (1..m - 1)
            .max_by(|&a, &b| d(&pts[a]).total_cmp(&d(&pts[b])))
            .unwrap_or(0);
        if far > 0 {
            keep[far] = true;
            stack.push((0, far));
            stack.push((far, m - 1));
        }
    } else {
        stack.push((0, m - 1));
    }
    let t2 = tolerance * tolerance;
    while let Some((a, b)) = stack.pop() {
        if b <= a + 1 {
            continue;
        }
        let (pa, pb) = (pts[a], pts[b]);
        let (dx, dy) = (pb.x - pa.x, pb.y - pa.y);
        let len2 = dx * dx + dy * dy;
        let mut best = (0.0, 0);
        for (i, c) in pts.iter().enumerate().take(b).skip(a + 1) {
            let (ex, ey) = (c.x - pa.x, c.y - pa.y);
            // Squared distance to the segment a–b.
            let d2 = if len2 == 0.0 {
                ex * ex + ey * ey
            } else {
                let t = ((ex * dx + ey * dy) / len2).clamp(0.0, 1.0);
                (ex - t * dx).powi(2) + (ey - t * dy).powi(2)
            };
            if d2 > best.0 {
                best = (d2, i);
            }
        }
        if best.0 > t2 {
            keep[best.1] = true;
            stack.push((a, best.1));
            stack.push((best.1, b));
        }
    }
    pts.into_iter().zip(keep).filter_map(|(c, k)| k.then_some(c)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    /// Two squares side by side with a wiggly shared border carrying many vertices: after
    /// simplification the border is the same points in both, in opposite order.
    #[test]
    fn a_shared_border_is_simplified_once() {
        let border: Vec<Coord<f64>> = (0..=100)
            .map(|i| Coord {
                x: 10.0 + if i % 2 == 0 { 0.0 } else { 0.05 },
                y: f64::from(i) / 10.0,
            })
            .collect();
        let mut left = vec![Coord { x: 0.0, y: 10.0 }, Coord { x: 0.0, y: 0.0 }];
        left.extend(border.iter().copied());
        left.push(Coord { x: 0.0, y: 10.0 });
        let mut right: Vec<Coord<f64>> = border.iter().rev().copied().collect();
        right.extend([Coord { x: 20.0, y: 0.0 }, Coord { x: 20.0, y: 10.0 }, border[100]]);
        let a = MultiPolygon(vec![Polygon::new(LineString::new(left), vec![])]);
        let b = MultiPolygon(vec![Polygon::new(LineString::new(right), vec![])]);
        let g = Generalised::new(&[Some(&a), Some(&b)], 3..=4, |z| 0.5 / f64::from(z));
        for z in 3..=4 {
            let on_border = |m: &MultiPolygon<f64>| -> Vec<Bits> {
                let mut v: Vec<Bits> = m.0[0]
                    .exterior()
                    .0
                    .iter()
                    .filter(|c| c.x > 5.0 && c.x < 15.0)
                    .map(|c| bits(*c))
                    .collect();
                v.sort_unstable();
                v.dedup();
                v
            };
            let (l, r) = (on_border(g.at(z, 0).unwrap()), on_border(g.at(z, 1).unwrap()));
            assert_eq!(l, r, "zoom {z}");
            assert_eq!(l.len(), 2, "the border was not simplified");
        }
        assert!(g.at(2, 0).is_none() && g.at(5, 0).is_none());
    }

    #[test]
    fn a_ring_alone_keeps_at_least_a_triangle() {
        let square = polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0)];
        let a = MultiPolygon(vec![square]);
        let g = Generalised::new(&[Some(&a), None], 0..=0, |_| 0.1);
        assert_eq!(g.at(0, 0).unwrap().0[0].exterior().0.len(), 5);
        assert!(g.at(0, 1).is_none());
    }
}
