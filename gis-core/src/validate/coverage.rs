//! Gaps, overlaps and grids outside their container (a community, or a micro-grid's parent).
//!
//! A container is taken as exactly covered, with no polygon work at all, when every segment of
//! its grids is shared exactly with a neighbour or lies on the container's own line, and the
//! grids' areas add up to the container's. Boolean operations run only on containers that fail
//! that test, so a clean layer of thousands of grids costs little more than the segment sort.

use super::edges::{Segments, Status};
use super::layer::area_m2;
use super::layer::orient_rfc;
use crate::geom::BboxIndex;
use geo::bool_ops::{BooleanOps, unary_union};
use geo::{
    Area, BoundingRect, Contains, Coord, Distance, Euclidean, Geodesic, InteriorPoint, Intersects, Line, LineString,
    MultiPolygon, Point, Polygon,
};
use rayon::prelude::*;
use rstar::RTree;
use rstar::primitives::GeomWithData;
use rustc_hash::FxHashSet;

/// What one level of grids must tile: communities for grids, parent grids for micro-grids.
pub(crate) struct Level<'a> {
    pub cells: Vec<&'a MultiPolygon<f64>>,
    /// Each cell's container, None when it names one that does not exist.
    pub container_of: Vec<Option<usize>>,
    pub containers: Vec<&'a MultiPolygon<f64>>,
    /// Cells whose drawn geometry had to be repaired: their container is checked in full.
    pub suspect: Vec<bool>,
}

#[derive(Debug, Clone)]
pub(crate) struct Gap {
    pub container: usize,
    pub polygon: Polygon<f64>,
    pub area_m2: f64,
    /// Cells sharing an edge with the gap, and the length shared (m), longest first.
    pub neighbours: Vec<(usize, f64)>,
    /// The cell whose hole this gap is, if it is one.
    pub hole_of: Option<usize>,
}

#[derive(Debug, Clone)]
pub(crate) struct Overlap {
    pub a: usize,
    pub b: usize,
    pub area: MultiPolygon<f64>,
    pub area_m2: f64,
}

#[derive(Debug, Clone)]
pub(crate) struct Outside {
    pub cell: usize,
    /// Part of the cell in no container at all.
    pub outside: MultiPolygon<f64>,
    pub outside_m2: f64,
    /// Parts in other containers: (container, area in m², geometry).
    pub spans: Vec<(usize, f64, MultiPolygon<f64>)>,
}

#[derive(Debug, Default)]
pub(crate) struct Coverage {
    /// Every gap found, slivers included (the caller splits by tolerance).
    pub gaps: Vec<Gap>,
    pub overlaps: Vec<Overlap>,
    pub outside: Vec<Outside>,
    /// Containers that passed the exact-coverage test without polygon work.
    pub exact: Vec<bool>,
}

/// How close to a line (degrees, ~0.1 mm) a point must be to lie on it.
const ON_LINE: f64 = 1e-9;
/// How close (degrees, ~1 mm) a gap's edge must run to a grid's edge to be shared with it:
/// boolean operations round to their integer grid.
const SHARED: f64 = 1e-8;

fn ring_lines(area: &MultiPolygon<f64>) -> impl Iterator<Item = Line<f64>> + '_ {
    area.0
        .iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .flat_map(|r| r.lines())
}

type LineTree = RTree<GeomWithData<rstar::primitives::Line<[f64; 2]>, ()>>;

fn line_tree(area: &MultiPolygon<f64>) -> LineTree {
    RTree::bulk_load(
        ring_lines(area)
            .map(|l| {
                GeomWithData::new(
                    rstar::primitives::Line::new([l.start.x, l.start.y], [l.end.x, l.end.y]),
                    (),
                )
            })
            .collect(),
    )
}

fn near(tree: &LineTree, c: Coord<f64>, eps: f64) -> bool {
    tree.nearest_neighbor(&[c.x, c.y])
        .is_some_and(|n| rstar::PointDistance::distance_2(n.geom(), &[c.x, c.y]) <= eps * eps)
}

/// Square metres per square degree of longitude and latitude at the middle of `area` (WGS 84).
///
/// The exact-coverage test only asks whether cells add up to their container. Any area summed
/// edge by edge does: a shared edge counts once each way and cancels. So the test sums plane
/// areas in degrees, scaled here, and a gap or overlap measures within a fraction of a percent
/// of its geodesic area. Karney's geodesic area, an inverse problem per vertex, was most of the
/// test's time; every area reported is still geodesic.
fn m2_per_square_degree(area: &MultiPolygon<f64>) -> f64 {
    const A: f64 = 6_378_137.0;
    const E2: f64 = 0.006_694_379_990_14;
    let lat = area
        .bounding_rect()
        .map_or(0.0, |r| (r.min().y + r.max().y) / 2.0)
        .to_radians();
    let w2 = 1.0 - E2 * lat.sin().powi(2);
    // Prime-vertical (east-west) and meridional (north-south) radii of curvature.
    let n = A / w2.sqrt();
    let m = A * (1.0 - E2) / (w2 * w2.sqrt());
    let per_radian = std::f64::consts::PI / 180.0;
    n * lat.cos() * per_radian * m * per_radian
}

pub(crate) fn analyse(level: &Level, segs: &Segments, tolerance_m2: f64) -> Coverage {
    let nc = level.containers.len();
    let mut cells_of: Vec<Vec<usize>> = vec![Vec::new(); nc];
    for (c, k) in level.container_of.iter().enumerate() {
        if let Some(k) = k {
            cells_of[*k].push(c);
        }
    }
    let container_boxes = BboxIndex::new(
        level
            .containers
            .iter()
            .enumerate()
            .filter_map(|(i, a)| a.bounding_rect().map(|r| (i, r))),
    );
    let cell_boxes = BboxIndex::new(
        level
            .cells
            .iter()
            .enumerate()
            .filter_map(|(i, a)| a.bounding_rect().map(|r| (i, r))),
    );

    // 1. Which containers are exactly covered.
    let mut exact: Vec<bool> = (0..nc)
        .into_par_iter()
        .map(|k| {
            let cells = &cells_of[k];
            if cells.is_empty() || cells.iter().any(|&c| level.suspect[c]) {
                return false;
            }
            let mut tree: Option<LineTree> = None;
            for &c in cells {
                for s in segs.of(c) {
                    match segs.status[s] {
                        Status::Matched => {}
                        Status::Duplicated => return false,
                        Status::Unmatched => {
                            let t = tree.get_or_insert_with(|| line_tree(level.containers[k]));
                            let l = segs.lines[s];
                            if !(near(t, l.start, ON_LINE)
                                && near(t, l.end, ON_LINE)
                                && near(t, (l.start + l.end) / 2.0, ON_LINE))
                            {
                                return false;
                            }
                        }
                    }
                }
            }
            let container = level.containers[k];
            let m2 = m2_per_square_degree(container);
            let sum: f64 = cells.iter().map(|&c| level.cells[c].unsigned_area()).sum::<f64>() * m2;
            let whole = container.unsigned_area() * m2;
            (sum - whole).abs() <= (0.5 * tolerance_m2).max(whole * 1e-9)
        })
        .collect();
    // A cell naming no container may lie over any of them.
    for (c, k) in level.container_of.iter().enumerate() {
        if k.is_none()
            && let Some(r) = level.cells[c].bounding_rect()
        {
            for k in container_boxes.intersecting(r) {
                exact[k] = false;
            }
        }
    }

    // 2. Gaps in each container not exactly covered.
    let dirty: Vec<usize> = (0..nc).filter(|&k| !exact[k]).collect();
    let gaps: Vec<Gap> = dirty
        .par_iter()
        .flat_map_iter(|&k| {
            let container = level.containers[k];
            let Some(r) = container.bounding_rect() else {
                return Vec::new();
            };
            let near_cells: Vec<usize> = cell_boxes
                .intersecting(r)
                .into_iter()
                .filter(|&c| level.cells[c].intersects(container))
                .collect();
            let covered = unary_union(near_cells.iter().map(|&c| level.cells[c]));
            let open = orient_rfc(container.difference(&covered));
            open.0
                .into_iter()
                .map(|polygon| {
                    let area = area_m2(&MultiPolygon(vec![polygon.clone()]));
                    let (neighbours, hole_of) = if area > 0.0 {
                        describe_gap(&polygon, &near_cells, level)
                    } else {
                        (Vec::new(), None)
                    };
                    Gap {
                        container: k,
                        polygon,
                        area_m2: area,
                        neighbours,
                        hole_of,
                    }
                })
                .collect()
        })
        .collect();

    // 3. Overlaps between any two cells near a container not exactly covered.
    let mut pairs: FxHashSet<(usize, usize)> = FxHashSet::default();
    let mut suspects: Vec<usize> = dirty.iter().flat_map(|&k| cells_of[k].iter().copied()).collect();
    suspects.extend((0..level.cells.len()).filter(|&c| level.container_of[c].is_none()));
    for &c in &suspects {
        let Some(r) = level.cells[c].bounding_rect() else {
            continue;
        };
        for o in cell_boxes.intersecting(r) {
            if o != c {
                pairs.insert((c.min(o), c.max(o)));
            }
        }
    }
    let mut pairs: Vec<(usize, usize)> = pairs.into_iter().collect();
    pairs.sort_unstable();
    let overlaps: Vec<Overlap> = pairs
        .par_iter()
        .filter_map(|&(a, b)| {
            if !level.cells[a].intersects(level.cells[b]) {
                return None;
            }
            let area = orient_rfc(level.cells[a].intersection(level.cells[b]));
            let m2 = area_m2(&area);
            (m2 > 0.0).then_some(Overlap {
                a,
                b,
                area,
                area_m2: m2,
            })
        })
        .collect();

    // 4. Cells reaching outside their container.
    suspects.sort_unstable();
    suspects.dedup();
    let outside: Vec<Outside> = suspects
        .par_iter()
        .filter_map(|&c| {
            let cell = level.cells[c];
            let beyond = match level.container_of[c] {
                Some(k) => orient_rfc(cell.difference(level.containers[k])),
                None => cell.clone(),
            };
            let m2 = area_m2(&beyond);
            if m2 < tolerance_m2 {
                return None;
            }
            let r = beyond.bounding_rect()?;
            let mut spans = Vec::new();
            let mut rest = beyond.clone();
            for k in container_boxes.intersecting(r) {
                if Some(k) == level.container_of[c] || !level.containers[k].intersects(&beyond) {
                    continue;
                }
                let part = orient_rfc(beyond.intersection(level.containers[k]));
                let a = area_m2(&part);
                if a >= tolerance_m2 {
                    rest = orient_rfc(rest.difference(level.containers[k]));
                    spans.push((k, a, part));
                }
            }
            let outside_m2 = area_m2(&rest);
            Some(Outside {
                cell: c,
                outside: rest,
                outside_m2,
                spans,
            })
        })
        .collect();
    Coverage {
        gaps,
        overlaps,
        outside,
        exact,
    }
}

/// The cells around a gap, by length of edge shared, and whether it is a hole in one of them.
fn describe_gap(gap: &Polygon<f64>, near_cells: &[usize], level: &Level) -> (Vec<(usize, f64)>, Option<usize>) {
    let mut neighbours: Vec<(usize, f64)> = near_cells
        .iter()
        .filter_map(|&c| {
            let shared = shared_length(gap, level.cells[c]);
            (shared > 0.0).then_some((c, shared))
        })
        .collect();
    neighbours.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let inside = gap.interior_point();
    let hole_of = inside.and_then(|p| {
        near_cells.iter().copied().find(|&c| {
            level.cells[c]
                .0
                .iter()
                .any(|poly| !poly.interiors().is_empty() && Polygon::new(poly.exterior().clone(), vec![]).contains(&p))
        })
    });
    (neighbours, hole_of)
}

/// Length (m) of a polygon's boundary that runs along a cell's boundary.
pub(crate) fn shared_length(p: &Polygon<f64>, cell: &MultiPolygon<f64>) -> f64 {
    let Some(r) = cell.bounding_rect() else { return 0.0 };
    let edges: Vec<&LineString<f64>> = cell
        .0
        .iter()
        .flat_map(|q| std::iter::once(q.exterior()).chain(q.interiors()))
        .collect();
    let mut total = 0.0;
    for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
        for l in ring.lines() {
            let m = Point((l.start + l.end) / 2.0);
            if m.x() < r.min().x - SHARED
                || m.x() > r.max().x + SHARED
                || m.y() < r.min().y - SHARED
                || m.y() > r.max().y + SHARED
            {
                continue;
            }
            if edges.iter().any(|e| Euclidean.distance(&m, *e) <= SHARED) {
                total += Geodesic.distance(Point(l.start), Point(l.end));
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    /// The exact-coverage test's plane areas are within a fraction of a percent of the geodesic
    /// ones, at the equator and at Harbin's latitude, for a grid-sized and a sliver-sized square.
    #[test]
    fn plane_areas_scaled_are_close_to_geodesic() {
        for (lat, side) in [(0.0, 0.01), (22.5, 0.001), (45.7, 0.01), (45.7, 0.00001)] {
            let square = MultiPolygon(vec![polygon![
                (x: 120.0, y: lat), (x: 120.0 + side, y: lat), (x: 120.0 + side, y: lat + side),
                (x: 120.0, y: lat + side), (x: 120.0, y: lat)
            ]]);
            let plane = square.unsigned_area() * m2_per_square_degree(&square);
            let geodesic = area_m2(&square);
            assert!(
                ((plane - geodesic) / geodesic).abs() < 2e-3,
                "at {lat}°, side {side}°: {plane} m² against {geodesic} m²"
            );
        }
    }
}
