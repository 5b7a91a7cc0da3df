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
use rustc_hash::FxHashMap;

type Bits = (u64, u64);

fn bits(c: Coord<f64>) -> Bits {
    (c.x.to_bits(), c.y.to_bits())
}

/// Where a ring runs: its arcs in order, each forwards or reversed.
#[derive(Debug, Clone)]
pub struct Ring(Vec<(u32, bool)>);

/// Per polygon, its rings, exterior first.
type Polygons = Vec<Vec<Ring>>;

/// Every arc simplified for one zoom, end to end: arc `a` is `coords[starts[a]..starts[a + 1]]`.
struct Level {
    coords: Vec<Coord<f64>>,
    starts: Vec<u32>,
}

impl Level {
    fn arc(&self, a: usize) -> &[Coord<f64>] {
        &self.coords[self.starts[a] as usize..self.starts[a + 1] as usize]
    }
}

/// The areas of a layer as shared arcs, and the arcs simplified for each zoom.
pub struct Generalised {
    minzoom: u8,
    /// Per feature: its polygons' rings as arcs (`None`: not an area).
    features: Vec<Option<Polygons>>,
    /// Per zoom from `minzoom`.
    levels: Vec<Level>,
}

/// One feature's area at one zoom.
#[derive(Clone, Copy)]
pub struct Area<'a> {
    level: &'a Level,
    /// Per polygon, its rings, exterior first.
    pub polygons: &'a [Vec<Ring>],
}

impl Area<'_> {
    /// The ring's points, closed, each through `f`, appended to `out`.
    pub fn points(&self, ring: &Ring, out: &mut Vec<Coord<f64>>, f: impl Fn(Coord<f64>) -> Coord<f64>) {
        let start = out.len();
        for &(a, reversed) in &ring.0 {
            let arc = self.level.arc(a as usize);
            // Each arc starts where the last one ended.
            let skip = usize::from(out.len() > start);
            if reversed {
                out.extend(arc.iter().rev().skip(skip).map(|&c| f(c)));
            } else {
                out.extend(arc.iter().skip(skip).map(|&c| f(c)));
            }
        }
    }

    /// As a multipolygon; rings of fewer than three distinct points are left out, and a polygon
    /// whose exterior is one of them.
    pub fn to_multi_polygon(&self) -> MultiPolygon<f64> {
        let ring = |r: &Ring| {
            let mut pts = Vec::new();
            self.points(r, &mut pts, |c| c);
            (pts.len() >= 4).then(|| LineString::new(pts))
        };
        MultiPolygon(
            self.polygons
                .iter()
                .filter_map(|rings| {
                    let exterior = ring(&rings[0])?;
                    Some(Polygon::new(exterior, rings[1..].iter().filter_map(ring).collect()))
                })
                .collect(),
        )
    }
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
        // The finest zoom from the source; the others from it, with Douglas-Peucker alone (most
        // of the source's points are gone by then). A zoom's points stay within its tolerance
        // plus one and a half of the finest zoom's (a quarter of it at the next zoom, less
        // above) of the source.
        let zooms: Vec<u8> = zooms.collect();
        let mut levels: Vec<Level> = Vec::with_capacity(zooms.len());
        let mut scratch = Scratch::default();
        for &z in zooms.iter().rev() {
            let mut level = Level {
                coords: Vec::with_capacity(levels.first().map_or(arcs.coords.len() / 2, |l| l.coords.len())),
                starts: Vec::with_capacity(arcs.starts.len()),
            };
            for a in 0..arcs.starts.len() - 1 {
                level.starts.push(level.coords.len() as u32);
                match levels.first() {
                    Some(finest) => douglas_peucker(finest.arc(a), tolerance(z), &mut level.coords, &mut scratch),
                    None => simplify(arcs.arc(a), tolerance(z), &mut level.coords, &mut scratch),
                }
            }
            level.starts.push(level.coords.len() as u32);
            levels.push(level);
        }
        levels.reverse();
        Self {
            minzoom,
            features,
            levels,
        }
    }

    /// Feature `i`'s area simplified for zoom `z`, if this layer has that zoom and it is an area.
    pub fn at(&self, z: u8, i: usize) -> Option<Area<'_>> {
        let level = self.levels.get(usize::from(z.checked_sub(self.minzoom)?))?;
        let polygons = self.features.get(i)?.as_ref()?;
        Some(Area { level, polygons })
    }
}

/// The arcs (each in its canonical orientation, end to end as a [`Level`]) and, per feature, per
/// polygon, per ring (exterior first), the arcs it runs along.
fn topology(areas: &[Option<&MultiPolygon<f64>>]) -> (Level, Vec<Option<Polygons>>) {
    // Every distinct vertex gets a number (in order of first sight, so the same for every run);
    // rings become runs of numbers in `verts`: open, without repeated points.
    let total: usize = areas
        .iter()
        .flatten()
        .flat_map(|a| &a.0)
        .map(|p| p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>())
        .sum();
    // Most vertices of a partition are on two grids' borders.
    let mut ids: FxHashMap<Bits, u32> = FxHashMap::with_capacity_and_hasher(total / 2, Default::default());
    let mut coords: Vec<Coord<f64>> = Vec::with_capacity(total / 2);
    let mut verts: Vec<u32> = Vec::with_capacity(total);
    let rings: Vec<Vec<Vec<std::ops::Range<usize>>>> = areas
        .iter()
        .map(|a| {
            let Some(a) = a else { return Vec::new() };
            a.0.iter()
                .map(|p| {
                    std::iter::once(p.exterior())
                        .chain(p.interiors())
                        .map(|r| {
                            let start = verts.len();
                            for &c in &r.0 {
                                let id = *ids.entry(bits(c)).or_insert_with(|| {
                                    coords.push(c);
                                    coords.len() as u32 - 1
                                });
                                if verts.len() == start || verts.last() != Some(&id) {
                                    verts.push(id);
                                }
                            }
                            while verts.len() > start + 1 && verts[start] == verts[verts.len() - 1] {
                                verts.pop();
                            }
                            start..verts.len()
                        })
                        .collect()
                })
                .collect()
        })
        .collect();
    drop(ids);
    // A vertex is a junction where the rings through it do not all come from and go to the same
    // two neighbours: there the border between two features ends.
    const NONE: (u32, u32) = (u32::MAX, u32::MAX);
    let mut pairs: Vec<(u32, u32)> = vec![NONE; coords.len()];
    let mut junction: Vec<bool> = vec![false; coords.len()];
    for r in rings.iter().flatten().flatten() {
        let r = &verts[r.clone()];
        let n = r.len();
        for i in 0..n {
            let (p, q) = (r[(i + n - 1) % n], r[(i + 1) % n]);
            let pair = (p.min(q), p.max(q));
            let v = r[i] as usize;
            if pairs[v] == NONE {
                pairs[v] = pair;
            } else if pairs[v] != pair {
                junction[v] = true;
            }
        }
    }
    drop(pairs);
    let mut arcs = Arcs::default();
    let mut buf: Vec<u32> = Vec::new();
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
                            .map(|r| {
                                let mut ring = Vec::new();
                                split(&verts[r], &junction, &mut buf, &mut |arc| ring.push(arcs.id(arc)));
                                Ring(ring)
                            })
                            .collect::<Vec<Ring>>()
                    })
                    // A polygon whose exterior had fewer than three points has none left.
                    .filter(|rings| !rings.is_empty())
                    .collect()
            })
        })
        .collect();
    let level = Level {
        coords: arcs.verts.iter().map(|&v| coords[v as usize]).collect(),
        starts: arcs.starts,
    };
    (level, features)
}

/// Arcs as runs of vertex numbers, each once.
struct Arcs {
    verts: Vec<u32>,
    /// Arc `a` is `verts[starts[a]..starts[a + 1]]`.
    starts: Vec<u32>,
    /// By (first, second, last vertex, length), to find a border's arc from its other side.
    by_key: FxHashMap<(u32, u32, u32, u32), u32>,
}

impl Default for Arcs {
    fn default() -> Self {
        Self {
            verts: Vec::new(),
            starts: vec![0],
            by_key: FxHashMap::default(),
        }
    }
}

impl Arcs {
    /// The number of the arc, and whether `arc` runs along it backwards. Each arc is kept in one
    /// orientation (the one that starts lower), so both sides of a border find it alike.
    fn id(&mut self, arc: &[u32]) -> (u32, bool) {
        let n = arc.len();
        let forwards = (arc[0], arc[1]) <= (arc[n - 1], arc[n - 2]);
        let key = if forwards {
            (arc[0], arc[1], arc[n - 1], n as u32)
        } else {
            (arc[n - 1], arc[n - 2], arc[0], n as u32)
        };
        let same = |a: u32| {
            let kept = &self.verts[self.starts[a as usize] as usize..self.starts[a as usize + 1] as usize];
            if forwards {
                kept == arc
            } else {
                kept.iter().eq(arc.iter().rev())
            }
        };
        // Two different arcs with one key (not met in practice) are both kept, the second
        // unindexed: an arc kept twice is simplified twice alike, so borders stay shared.
        if let Some(&a) = self.by_key.get(&key)
            && same(a)
        {
            return (a, !forwards);
        }
        let a = self.starts.len() as u32 - 1;
        if forwards {
            self.verts.extend_from_slice(arc);
        } else {
            self.verts.extend(arc.iter().rev());
        }
        self.starts.push(self.verts.len() as u32);
        self.by_key.entry(key).or_insert(a);
        (a, !forwards)
    }
}

/// An open ring cut at its junctions into arcs, each from one junction to the next, both
/// included, given to `emit` in order; with none, the whole ring as one closed arc from its
/// lowest-numbered vertex, towards the lower of that vertex's neighbours (so every ring through
/// it starts it alike).
fn split(r: &[u32], junction: &[bool], buf: &mut Vec<u32>, emit: &mut dyn FnMut(&[u32])) {
    let n = r.len();
    buf.clear();
    let Some(first) = (0..n).find(|&i| junction[r[i] as usize]) else {
        let start = (0..n).min_by_key(|&i| r[i]).unwrap_or(0);
        let forwards = r[(start + 1) % n] <= r[(start + n - 1) % n];
        buf.extend((0..=n).map(|k| {
            let i = if forwards { start + k } else { start + n - k };
            r[i % n]
        }));
        emit(buf);
        return;
    };
    buf.push(r[first]);
    for k in 1..=n {
        let v = r[(first + k) % n];
        buf.push(v);
        if junction[v as usize] {
            emit(buf);
            buf.clear();
            buf.push(v);
        }
    }
}

/// Buffers reused from arc to arc.
#[derive(Default)]
struct Scratch {
    pts: Vec<Coord<f64>>,
    keep: Vec<bool>,
    stack: Vec<(usize, usize)>,
}

/// An arc simplified: points within half the tolerance of the last one kept dropped (borders can
/// carry a vertex every metre), then Douglas–Peucker ([`douglas_peucker`]); appended to `out`.
fn simplify(arc: &[Coord<f64>], tolerance: f64, out: &mut Vec<Coord<f64>>, scratch: &mut Scratch) {
    let n = arc.len();
    if n <= 2 || tolerance <= 0.0 {
        out.extend_from_slice(arc);
        return;
    }
    let near = tolerance / 2.0;
    let mut pts = std::mem::take(&mut scratch.pts);
    pts.clear();
    for (i, &c) in arc.iter().enumerate() {
        match pts.last() {
            Some(l) if i + 1 < n && (c.x - l.x).abs() < near && (c.y - l.y).abs() < near => {}
            _ => pts.push(c),
        }
    }
    douglas_peucker(&pts, tolerance, out, scratch);
    scratch.pts = pts;
}

/// Douglas–Peucker, appended to `out`: both ends are kept, and a closed arc keeps its farthest
/// point from its start so it stays a ring.
fn douglas_peucker(pts: &[Coord<f64>], tolerance: f64, out: &mut Vec<Coord<f64>>, scratch: &mut Scratch) {
    let m = pts.len();
    if m <= 2 || tolerance <= 0.0 {
        out.extend_from_slice(pts);
        return;
    }
    let keep = &mut scratch.keep;
    keep.clear();
    keep.resize(m, false);
    keep[0] = true;
    keep[m - 1] = true;
    let stack = &mut scratch.stack;
    stack.clear();
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
    out.extend(pts.iter().zip(keep.iter()).filter_map(|(c, &k)| k.then_some(*c)));
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
            let (l, r) = (
                on_border(&g.at(z, 0).unwrap().to_multi_polygon()),
                on_border(&g.at(z, 1).unwrap().to_multi_polygon()),
            );
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
        assert_eq!(g.at(0, 0).unwrap().to_multi_polygon().0[0].exterior().0.len(), 5);
        assert!(g.at(0, 1).is_none());
    }
}
