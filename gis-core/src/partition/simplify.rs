//! Borders a person would draw. The tessellation's borders zig-zag through the open space between
//! buildings (cell edges run through midpoints and centroids). Here each border between two grids
//! is straightened Visvalingam-style: a border corner goes when the triangle it makes with its
//! two neighbours holds nothing — no part of a building, no population point or resource, no
//! other corner — so straightening never moves anything from one grid to another and never
//! crosses a border. Both grids beside a border lose the same corner, so their shared edges still
//! match exactly; corners on the community line (shared with the neighbouring community), where
//! three or more grids meet, or that a coarser level uses differently, stay.

use crate::geom::{LocalFrame, VertexKey};
use crate::grid::{Grid, GridKind, GridLevel};
use crate::model::{CommunityMembers, Dataset};
use geo::{Coord, Intersects, LineString, Polygon, Relate};
use rstar::RTree;
use rstar::primitives::{GeomWithData, Rectangle};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;

/// A corner that might go: the area of the triangle it makes with its neighbours (m²), its key,
/// and the triangle (previous corner, the corner, next corner).
type Corner = (f64, VertexKey, Coord<f64>, Coord<f64>, Coord<f64>);

/// What straightening did to a community's borders between grids (grid level).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct BorderShape {
    /// Border corners removed (every level).
    pub corners_removed: usize,
    /// Length of the borders between basic and exclusive grids (m), before and after.
    pub length_before_m: f64,
    pub length_after_m: f64,
    /// Turns sharper than 20° per 100 m of border between grids, after.
    pub turns_per_100m: f64,
}

/// Straightens the borders of one community's grids (and micro-grids) in place.
pub(crate) fn straighten(
    grids: &mut [Grid],
    dataset: &Dataset,
    community: usize,
    members: &CommunityMembers,
    frame: &LocalFrame,
) -> BorderShape {
    let mut out = BorderShape {
        length_before_m: border_length(grids, frame),
        ..BorderShape::default()
    };
    // The finest level decides which corners may go: micro-grids with the exclusive grids when
    // there are micro-grids, else the grids.
    let has_micro = grids.iter().any(|g| g.level == GridLevel::Micro);
    let finest = |g: &Grid| {
        if has_micro {
            g.level == GridLevel::Micro || g.kind == GridKind::Exclusive
        } else {
            g.level == GridLevel::Grid
        }
    };
    let mut users: FxHashMap<VertexKey, Vec<usize>> = FxHashMap::default();
    let mut grid_users: FxHashMap<VertexKey, usize> = FxHashMap::default();
    for (gi, g) in grids.iter().enumerate() {
        for p in &g.area.0 {
            for r in std::iter::once(p.exterior()).chain(p.interiors()) {
                for c in &r.0[..r.0.len().saturating_sub(1)] {
                    if finest(g) {
                        users.entry(VertexKey::of(*c)).or_default().push(gi);
                    }
                    if g.level == GridLevel::Grid {
                        *grid_users.entry(VertexKey::of(*c)).or_default() += 1;
                    }
                }
            }
        }
    }
    let boundary = &dataset.communities[community].boundary;
    let on_line = |c: Coord<f64>| {
        use geo::{Distance, Euclidean};
        boundary
            .0
            .iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .any(|r| Euclidean.distance(&geo::Point(c), r) < 1e-9)
    };
    let movable: FxHashSet<VertexKey> = users
        .iter()
        .filter(|(k, u)| {
            let distinct: FxHashSet<usize> = u.iter().copied().collect();
            distinct.len() == 2 && u.len() == 2 && matches!(grid_users.get(*k).copied().unwrap_or(0), 0 | 2)
        })
        .map(|(k, _)| *k)
        .filter(|k| !on_line(k.coord()))
        .collect();
    if movable.is_empty() {
        out.length_after_m = out.length_before_m;
        out.turns_per_100m = turns_per_100m(grids, frame);
        return out;
    }

    // What a triangle must not hold: footprints, points, resources of the community, and every
    // grid corner.
    let footprints: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>> = RTree::bulk_load(
        members
            .buildings
            .iter()
            .map(|&i| (i, &dataset.buildings[i]))
            .filter_map(|(i, b)| {
                geo::BoundingRect::bounding_rect(&b.footprint).map(|r| {
                    GeomWithData::new(
                        Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                        i,
                    )
                })
            })
            .collect(),
    );
    let mut points: Vec<[f64; 2]> = members
        .points
        .iter()
        .map(|&i| [dataset.points[i].location.x(), dataset.points[i].location.y()])
        .collect();
    points.extend(
        members
            .resources
            .iter()
            .map(|&i| [dataset.resources[i].location.x(), dataset.resources[i].location.y()]),
    );
    points.extend(users.keys().map(|k| {
        let c = k.coord();
        [c.x, c.y]
    }));
    let point_tree = RTree::bulk_load(points);

    // Walk the rings of one finest-level user per movable corner: remove a corner when its
    // triangle is empty, smallest triangles first, repeating until nothing changes.
    let mut removed: FxHashSet<VertexKey> = FxHashSet::default();
    // Triangles found not empty stay so while their corners stay: never tested twice.
    let mut full: FxHashSet<(VertexKey, VertexKey, VertexKey)> = FxHashSet::default();
    loop {
        let mut candidates: Vec<Corner> = Vec::new();
        for (gi, g) in grids.iter().enumerate() {
            if !finest(g) {
                continue;
            }
            for p in &g.area.0 {
                for r in std::iter::once(p.exterior()).chain(p.interiors()) {
                    let pts: Vec<Coord<f64>> = r.0[..r.0.len().saturating_sub(1)]
                        .iter()
                        .copied()
                        .filter(|c| !removed.contains(&VertexKey::of(*c)))
                        .collect();
                    let n = pts.len();
                    if n <= 4 {
                        continue;
                    }
                    for i in 0..n {
                        let v = pts[i];
                        let k = VertexKey::of(v);
                        // Each corner once: from its first user (lower grid index).
                        if !movable.contains(&k) || users[&k][0] != gi {
                            continue;
                        }
                        let (a, b) = (pts[(i + n - 1) % n], pts[(i + 1) % n]);
                        let (la, lv, lb) = (frame.to_local(a), frame.to_local(v), frame.to_local(b));
                        let area = ((lv[0] - la[0]) * (lb[1] - la[1]) - (lv[1] - la[1]) * (lb[0] - la[0])).abs() / 2.0;
                        candidates.push((area, k, a, v, b));
                    }
                }
            }
        }
        candidates.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
        let mut changed = false;
        let mut touched: FxHashSet<VertexKey> = FxHashSet::default();
        for (_, k, a, v, b) in candidates {
            // A neighbour removed in this pass changed the triangle: wait for the next pass.
            if touched.contains(&VertexKey::of(a)) || touched.contains(&VertexKey::of(b)) || touched.contains(&k) {
                continue;
            }
            let triple = (VertexKey::of(a), k, VertexKey::of(b));
            if full.contains(&triple) {
                continue;
            }
            if !empty_triangle(a, v, b, dataset, &footprints, &point_tree) {
                full.insert(triple);
                continue;
            }
            removed.insert(k);
            touched.insert(k);
            touched.insert(VertexKey::of(a));
            touched.insert(VertexKey::of(b));
            changed = true;
        }
        if !changed {
            break;
        }
    }
    out.corners_removed = removed.len();
    for g in grids.iter_mut() {
        for p in &mut g.area.0 {
            let drop = |r: &LineString<f64>| -> LineString<f64> {
                let mut v: Vec<Coord<f64>> = r.0[..r.0.len().saturating_sub(1)]
                    .iter()
                    .copied()
                    .filter(|c| !removed.contains(&VertexKey::of(*c)))
                    .collect();
                if let Some(&f) = v.first() {
                    v.push(f);
                }
                LineString(v)
            };
            let ext = drop(p.exterior());
            let holes: Vec<LineString<f64>> = p.interiors().iter().map(drop).collect();
            *p = Polygon::new(ext, holes);
        }
    }
    out.length_after_m = border_length(grids, frame);
    out.turns_per_100m = turns_per_100m(grids, frame);
    out
}

/// Whether the triangle a–v–b holds no building (interior), point, resource or other corner.
fn empty_triangle(
    a: Coord<f64>,
    v: Coord<f64>,
    b: Coord<f64>,
    dataset: &Dataset,
    footprints: &RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>,
    points: &RTree<[f64; 2]>,
) -> bool {
    let tri = Polygon::new(LineString(vec![a, v, b, a]), vec![]);
    let (minx, maxx) = (a.x.min(v.x).min(b.x), a.x.max(v.x).max(b.x));
    let (miny, maxy) = (a.y.min(v.y).min(b.y), a.y.max(v.y).max(b.y));
    let env = rstar::AABB::from_corners([minx, miny], [maxx, maxy]);
    for p in points.locate_in_envelope(&env) {
        let c = Coord { x: p[0], y: p[1] };
        if c == a || c == v || c == b {
            continue;
        }
        if tri.intersects(&geo::Point(c)) {
            return false;
        }
    }
    for f in footprints.locate_in_envelope_intersecting(&env) {
        let fp = &dataset.buildings[f.data].footprint;
        if !tri.intersects(fp) {
            continue;
        }
        let im = tri.relate(fp);
        if im.get(
            geo::coordinate_position::CoordPos::Inside,
            geo::coordinate_position::CoordPos::Inside,
        ) != geo::dimensions::Dimensions::Empty
        {
            return false;
        }
    }
    true
}

/// Length (m) of edges shared by two grids of the grid level.
fn border_length(grids: &[Grid], frame: &LocalFrame) -> f64 {
    shared_edges(grids).iter().map(|(a, b)| dist(frame, *a, *b)).sum()
}

fn dist(frame: &LocalFrame, a: Coord<f64>, b: Coord<f64>) -> f64 {
    let (p, q) = (frame.to_local(a), frame.to_local(b));
    (p[0] - q[0]).hypot(p[1] - q[1])
}

/// Edges used by two grid-level grids, once each (as stored in the lower grid).
fn shared_edges(grids: &[Grid]) -> Vec<(Coord<f64>, Coord<f64>)> {
    let mut seen: FxHashMap<(VertexKey, VertexKey), usize> = FxHashMap::default();
    let mut out = Vec::new();
    for g in grids.iter().filter(|g| g.level == GridLevel::Grid) {
        for p in &g.area.0 {
            for r in std::iter::once(p.exterior()).chain(p.interiors()) {
                for l in r.lines() {
                    let (ka, kb) = (VertexKey::of(l.start), VertexKey::of(l.end));
                    let k = if ka < kb { (ka, kb) } else { (kb, ka) };
                    let n = seen.entry(k).or_default();
                    *n += 1;
                    if *n == 2 {
                        out.push((l.start, l.end));
                    }
                }
            }
        }
    }
    out
}

/// Turns sharper than 20° per 100 m along the borders between grids.
fn turns_per_100m(grids: &[Grid], frame: &LocalFrame) -> f64 {
    let edges = shared_edges(grids);
    let length: f64 = edges.iter().map(|(a, b)| dist(frame, *a, *b)).sum();
    if length <= 0.0 {
        return 0.0;
    }
    let mut at: FxHashMap<VertexKey, Vec<[f64; 2]>> = FxHashMap::default();
    for (a, b) in &edges {
        let (p, q) = (frame.to_local(*a), frame.to_local(*b));
        at.entry(VertexKey::of(*a))
            .or_default()
            .push([q[0] - p[0], q[1] - p[1]]);
        at.entry(VertexKey::of(*b))
            .or_default()
            .push([p[0] - q[0], p[1] - q[1]]);
    }
    let turns = at
        .values()
        .filter(|d| d.len() == 2)
        .filter(|d| {
            let (u, w) = (d[0], d[1]);
            // u and w leave the corner: straight on means they point opposite ways.
            let cos = -(u[0] * w[0] + u[1] * w[1]) / (u[0].hypot(u[1]) * w[0].hypot(w[1]));
            cos < (20f64).to_radians().cos()
        })
        .count();
    turns as f64 / (length / 100.0)
}
