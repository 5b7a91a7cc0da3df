//! Grid edges, segment by segment: which are shared exactly with a neighbour, and which are
//! "invalid" in the sense of GEOS's CoverageValidator (JTS `CoveragePolygonValidator`): not
//! matched by a neighbour's segment, yet crossing it, running along it, ending inside it, lying
//! inside the neighbour, or running within the gap width of it.
//!
//! Exact matching is by the bits of the coordinates, so a clean coverage costs one parallel sort
//! and a scan; only grids with unmatched segments get the geometric checks, against the segments
//! of the grids near them.

use super::layer::orient;
use crate::geom::{BboxIndex, VertexKey, metres_per_degree};
use geo::algorithm::line_intersection::{LineIntersection, line_intersection};
use geo::kernels::Orientation;
use geo::{BoundingRect, Contains, Coord, Distance, Euclidean, Line, MultiPolygon, Point, Rect};
use rayon::prelude::*;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Used once: on the coverage's outline, or not matched.
    Unmatched,
    /// Used twice, in opposite directions: a shared edge.
    Matched,
    /// Used twice the same way round (duplicated grids) or by more than two grids.
    Duplicated,
}

/// Every segment of every cell, cell by cell, ring by ring.
pub(crate) struct Segments {
    pub lines: Vec<Line<f64>>,
    /// The cell (index into the cells given to [`Segments::new`]) each segment belongs to.
    pub owner: Vec<u32>,
    /// The segments before and after each one in its ring.
    pub prev: Vec<u32>,
    pub next: Vec<u32>,
    pub status: Vec<Status>,
    /// For a duplicated segment, another cell using it.
    pub partner: Vec<u32>,
    /// Each cell's segments: `range[c]..range[c + 1]`.
    pub range: Vec<usize>,
}

pub(crate) const NONE: u32 = u32::MAX;

impl Segments {
    pub fn new(cells: &[&MultiPolygon<f64>]) -> Self {
        // Counted first: a city's million segments, grown by doubling, would be copied over
        // and over into fresh memory, which the kernel zeroes first.
        let count: usize = cells
            .iter()
            .flat_map(|a| &a.0)
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .map(|r| r.0.len().saturating_sub(1))
            .sum();
        let mut s = Segments {
            lines: Vec::with_capacity(count),
            owner: Vec::with_capacity(count),
            prev: Vec::with_capacity(count),
            next: Vec::with_capacity(count),
            status: Vec::new(),
            partner: Vec::new(),
            range: Vec::with_capacity(cells.len() + 1),
        };
        s.range.push(0);
        for (ci, area) in cells.iter().enumerate() {
            for p in &area.0 {
                for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
                    let start = s.lines.len() as u32;
                    let n = ring.0.len().saturating_sub(1) as u32;
                    for (k, l) in ring.lines().enumerate() {
                        let k = k as u32;
                        s.lines.push(l);
                        s.owner.push(ci as u32);
                        s.prev.push(start + (k + n - 1) % n);
                        s.next.push(start + (k + 1) % n);
                    }
                }
            }
            s.range.push(s.lines.len());
        }
        let n = s.lines.len();
        s.status = vec![Status::Unmatched; n];
        s.partner = vec![NONE; n];
        let mut keys: Vec<(VertexKey, VertexKey, u32)> = s
            .lines
            .par_iter()
            .enumerate()
            .map(|(i, l)| {
                let (a, b) = (VertexKey::of(l.start), VertexKey::of(l.end));
                if a < b { (a, b, i as u32) } else { (b, a, i as u32) }
            })
            .collect();
        keys.par_sort_unstable();
        let mut i = 0;
        while i < keys.len() {
            let mut j = i + 1;
            while j < keys.len() && keys[j].0 == keys[i].0 && keys[j].1 == keys[i].1 {
                j += 1;
            }
            if j - i == 2 {
                let (x, y) = (keys[i].2 as usize, keys[i + 1].2 as usize);
                // Opposite ways round is a shared edge, also between two parts of one grid.
                let opposite = s.lines[x].start == s.lines[y].end;
                if opposite {
                    s.status[x] = Status::Matched;
                    s.status[y] = Status::Matched;
                } else {
                    s.status[x] = Status::Duplicated;
                    s.status[y] = Status::Duplicated;
                    s.partner[x] = s.owner[y];
                    s.partner[y] = s.owner[x];
                }
            } else if j - i > 2 {
                for k in i..j {
                    let x = keys[k].2 as usize;
                    s.status[x] = Status::Duplicated;
                    s.partner[x] = keys[i..j]
                        .iter()
                        .map(|e| s.owner[e.2 as usize])
                        .find(|&o| o != s.owner[x])
                        .unwrap_or(NONE);
                }
            }
            i = j;
        }
        s
    }

    pub fn of(&self, cell: usize) -> std::ops::Range<usize> {
        self.range[cell]..self.range[cell + 1]
    }
}

/// A segment found invalid, and the neighbour that made it so (if one did).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Invalid {
    pub seg: usize,
    pub against: u32,
}

fn rect_of(l: &Line<f64>) -> ([f64; 2], [f64; 2]) {
    (
        [l.start.x.min(l.end.x), l.start.y.min(l.end.y)],
        [l.start.x.max(l.end.x), l.start.y.max(l.end.y)],
    )
}

/// GEOS's invalid coverage edges, for every cell, with a gap width in metres.
///
/// `outline[c]` is the line cell `c` must follow where it has no neighbour (its community's
/// boundary, or a micro-grid's parent grid); missing means none is known. Unlike GEOS, which
/// sees only the cells, a segment lying on that line is matched by it: it cannot be a near-miss,
/// however close a neighbour's edge runs (a narrow spike of a grid along the community line is
/// sound). It is still checked for crossing or entering a neighbour.
pub(crate) fn invalid_edges(
    cells: &[&MultiPolygon<f64>],
    segs: &Segments,
    gap_width_m: f64,
    outline: &[Option<&MultiPolygon<f64>>],
) -> Vec<Invalid> {
    let boxes: Vec<Option<Rect<f64>>> = cells.iter().map(|a| a.bounding_rect()).collect();
    let index = BboxIndex::new(boxes.iter().enumerate().filter_map(|(i, r)| r.map(|r| (i, r))));
    let targets: Vec<usize> = (0..cells.len())
        .filter(|&c| segs.of(c).any(|s| segs.status[s] != Status::Matched))
        .collect();
    let mut out: Vec<Invalid> = targets
        .par_iter()
        .flat_map_iter(|&t| {
            check_target(
                t,
                cells,
                segs,
                &boxes,
                &index,
                gap_width_m,
                outline.get(t).copied().flatten(),
            )
        })
        .collect();
    out.sort_by_key(|i| i.seg);
    out
}

/// Within this distance (m) of its outline a segment lies on it: far below any drawing error,
/// far above the rounding of a vertex computed on a boundary edge.
const ON_OUTLINE_M: f64 = 0.001;

#[allow(clippy::too_many_arguments)]
fn check_target(
    t: usize,
    cells: &[&MultiPolygon<f64>],
    segs: &Segments,
    boxes: &[Option<Rect<f64>>],
    index: &BboxIndex,
    gap_width_m: f64,
    outline: Option<&MultiPolygon<f64>>,
) -> Vec<Invalid> {
    let Some(bbox) = boxes[t] else { return Vec::new() };
    let (kx, ky) = metres_per_degree(bbox.center().y);
    let (dx, dy) = (gap_width_m / kx, gap_width_m / ky);
    let grown = Rect::new(
        Coord {
            x: bbox.min().x - dx,
            y: bbox.min().y - dy,
        },
        Coord {
            x: bbox.max().x + dx,
            y: bbox.max().y + dy,
        },
    );
    let adjacent: Vec<usize> = index.intersecting(grown).into_iter().filter(|&c| c != t).collect();
    let mut found: Vec<Invalid> = Vec::new();
    let mut known: Vec<bool> = segs.of(t).map(|s| segs.status[s] == Status::Matched).collect();
    let base = segs.range[t];
    for s in segs.of(t) {
        if segs.status[s] == Status::Duplicated {
            found.push(Invalid {
                seg: s,
                against: segs.partner[s],
            });
            known[s - base] = true;
        }
    }
    if known.iter().all(|&k| k) || adjacent.is_empty() {
        return found;
    }
    let g = AABB::from_corners([grown.min().x, grown.min().y], [grown.max().x, grown.max().y]);
    let entries: Vec<GeomWithData<Rectangle<[f64; 2]>, u32>> = adjacent
        .iter()
        .flat_map(|&a| segs.of(a))
        .filter_map(|s| {
            let (lo, hi) = rect_of(&segs.lines[s]);
            let r = AABB::from_corners(lo, hi);
            rstar::Envelope::intersects(&g, &r).then(|| GeomWithData::new(Rectangle::from_corners(lo, hi), s as u32))
        })
        .collect();
    let tree = RTree::bulk_load(entries);
    let to_m = |c: Coord<f64>| Coord {
        x: c.x * kx,
        y: c.y * ky,
    };
    let outline: Vec<Line<f64>> = outline
        .into_iter()
        .flat_map(|m| m.0.iter())
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .flat_map(|r| r.lines())
        .filter(|l| {
            let (lo, hi) = rect_of(l);
            lo[0] <= grown.max().x && hi[0] >= grown.min().x && lo[1] <= grown.max().y && hi[1] >= grown.min().y
        })
        .map(|l| Line::new(to_m(l.start), to_m(l.end)))
        .collect();
    let on_outline = |l: Line<f64>| {
        let l = Line::new(to_m(l.start), to_m(l.end));
        outline.iter().any(|o| {
            Euclidean.distance(&Point(l.start), o) <= ON_OUTLINE_M
                && Euclidean.distance(&Point(l.end), o) <= ON_OUTLINE_M
        })
    };
    for s in segs.of(t) {
        if known[s - base] {
            continue;
        }
        let tl = segs.lines[s];
        if tl.start == tl.end {
            continue;
        }
        let (lo, hi) = rect_of(&tl);
        let env = AABB::from_corners([lo[0] - dx, lo[1] - dy], [hi[0] + dx, hi[1] + dy]);
        let mut candidates: Vec<u32> = tree.locate_in_envelope_intersecting(&env).map(|e| e.data).collect();
        candidates.sort_unstable();
        let near_miss_possible = gap_width_m > 0.0 && !on_outline(tl);
        for a in candidates {
            let a = a as usize;
            let al = segs.lines[a];
            if al.start == al.end
                || (al.start == tl.start && al.end == tl.end)
                || (al.start == tl.end && al.end == tl.start)
            {
                continue;
            }
            let invalid = collinear_or_interior(tl, a, segs)
                || (near_miss_possible
                    && nearly_parallel(
                        Line::new(to_m(tl.start), to_m(tl.end)),
                        Line::new(to_m(al.start), to_m(al.end)),
                        gap_width_m,
                    ));
            if invalid {
                found.push(Invalid {
                    seg: s,
                    against: segs.owner[a],
                });
                known[s - base] = true;
                break;
            }
        }
    }
    // Segments left unknown: invalid when their start lies inside a neighbour (GEOS checks the
    // vertex, and marks the segment before it too).
    for s in segs.of(t) {
        if known[s - base] {
            continue;
        }
        let p = Point(segs.lines[s].start);
        let inside = adjacent
            .iter()
            .copied()
            .find(|&a| boxes[a].is_some_and(|r| r.intersects_point(p.0)) && cells[a].contains(&p));
        if let Some(a) = inside {
            found.push(Invalid {
                seg: s,
                against: a as u32,
            });
            known[s - base] = true;
            let prev = segs.prev[s] as usize;
            if !known[prev - base] {
                found.push(Invalid {
                    seg: prev,
                    against: a as u32,
                });
                known[prev - base] = true;
            }
        }
    }
    found
}

trait PointInRect {
    fn intersects_point(&self, c: Coord<f64>) -> bool;
}

impl PointInRect for Rect<f64> {
    fn intersects_point(&self, c: Coord<f64>) -> bool {
        c.x >= self.min().x && c.x <= self.max().x && c.y >= self.min().y && c.y <= self.max().y
    }
}

/// Crossing, overlapping without matching, touching at a point inside either segment, or
/// leaving a shared vertex into the neighbour's interior.
fn collinear_or_interior(t: Line<f64>, a: usize, segs: &Segments) -> bool {
    let al = segs.lines[a];
    match line_intersection(t, al) {
        None => false,
        Some(LineIntersection::Collinear { intersection }) => {
            intersection.start != intersection.end || interior_touch(intersection.start, t, al, a, segs)
        }
        Some(LineIntersection::SinglePoint { is_proper: true, .. }) => true,
        Some(LineIntersection::SinglePoint { intersection, .. }) => interior_touch(intersection, t, al, a, segs),
    }
}

fn interior_touch(p: Coord<f64>, t: Line<f64>, al: Line<f64>, a: usize, segs: &Segments) -> bool {
    let end_of_t = p == t.start || p == t.end;
    let end_of_a = p == al.start || p == al.end;
    if !(end_of_t && end_of_a) {
        return true;
    }
    // Both segments end at p: does the target run into the neighbour's interior?
    let far = if p == t.start { t.end } else { t.start };
    let (prev, next) = if p == al.start {
        (segs.lines[segs.prev[a] as usize].start, al.end)
    } else {
        (al.start, segs.lines[segs.next[a] as usize].end)
    };
    if far == prev || far == next {
        return false;
    }
    interior_of_corner(prev, p, next, far)
}

/// Whether the direction v→b points into the interior of the corner prev→v→next of a ring
/// whose interior is on its left.
pub(crate) fn interior_of_corner(prev: Coord<f64>, v: Coord<f64>, next: Coord<f64>, b: Coord<f64>) -> bool {
    let left_in = orient(prev, v, b) == Orientation::CounterClockwise;
    let left_out = orient(v, next, b) == Orientation::CounterClockwise;
    match orient(prev, v, next) {
        Orientation::CounterClockwise => left_in && left_out,
        Orientation::Clockwise => left_in || left_out,
        Orientation::Collinear => {
            let straight = (v.x - prev.x) * (next.x - v.x) + (v.y - prev.y) * (next.y - v.y) > 0.0;
            straight && left_out
        }
    }
}

/// JTS `InvalidSegmentDetector.isNearlyParallel`, in metres: the parts of each segment that
/// face the other are longer than the tolerance and within it at both ends.
fn nearly_parallel(l0: Line<f64>, l1: Line<f64>, tol: f64) -> bool {
    let (Some(p0), Some(p1)) = (project(l0, l1), project(l1, l0)) else {
        return false;
    };
    let len = |l: &Line<f64>| (l.dx() * l.dx() + l.dy() * l.dy()).sqrt();
    if len(&p0) <= tol || len(&p1) <= tol {
        return false;
    }
    let d = |a: Coord<f64>, b: Coord<f64>| ((a.x - b.x).powi(2) + (a.y - b.y).powi(2)).sqrt();
    let p1 = if d(p0.start, p1.end) < d(p0.start, p1.start) {
        Line::new(p1.end, p1.start)
    } else {
        p1
    };
    d(p0.start, p1.start) <= tol && d(p0.end, p1.end) <= tol
}

/// The part of `onto` that `seg` projects onto (JTS `LineSegment.project(LineSegment)`).
fn project(onto: Line<f64>, seg: Line<f64>) -> Option<Line<f64>> {
    let (dx, dy) = (onto.dx(), onto.dy());
    let len2 = dx * dx + dy * dy;
    if len2 == 0.0 {
        return None;
    }
    let factor = |p: Coord<f64>| ((p.x - onto.start.x) * dx + (p.y - onto.start.y) * dy) / len2;
    let (f0, f1) = (factor(seg.start), factor(seg.end));
    if (f0 >= 1.0 && f1 >= 1.0) || (f0 <= 0.0 && f1 <= 0.0) {
        return None;
    }
    let at = |f: f64| {
        let f = f.clamp(0.0, 1.0);
        Coord {
            x: onto.start.x + f * dx,
            y: onto.start.y + f * dy,
        }
    };
    Some(Line::new(at(f0), at(f1)))
}
