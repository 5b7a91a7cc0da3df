//! Hand-drawn geometry, made usable: every ring closed, repeated points and spikes dropped,
//! self-intersections resolved (non-zero winding), rings oriented as RFC 7946 says. Each thing
//! found is a defect of the grid; the cleaned shape is what the coverage checks then measure.

use super::DefectKind;
use crate::io::grids::DrawnGrid;
use geo::algorithm::line_intersection::{LineIntersection, line_intersection};
use geo::bool_ops::{BooleanOps, FillRule};
use geo::kernels::{Kernel, Orientation, RobustKernel};
use geo::{Area, Coord, Line, LineString, MultiPolygon, Polygon, Relate, Winding};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

/// One thing wrong with a polygon's geometry as drawn (a grid's here, a building's in import).
#[derive(Debug, Clone)]
pub struct GeometryProblem {
    pub kind: DefectKind,
    pub message: String,
    pub at: Option<Coord<f64>>,
}

/// A polygonal geometry after cleaning, and what was wrong with it.
#[derive(Debug, Clone)]
pub struct Cleaned {
    pub area: MultiPolygon<f64>,
    pub problems: Vec<GeometryProblem>,
}

fn problem(kind: DefectKind, at: Option<Coord<f64>>, message: String) -> GeometryProblem {
    GeometryProblem { kind, message, at }
}

pub(crate) fn orient(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>) -> Orientation {
    RobustKernel::orient2d(a, b, c)
}

/// Cleans one drawn grid.
pub(crate) fn clean(drawn: &DrawnGrid) -> Cleaned {
    clean_rings(&drawn.rings, drawn.multi)
}

/// Cleans polygons given as rings of positions as drawn (exterior first): closes rings, drops
/// repeated points, spikes and rings with fewer than 3 distinct points or no area, and resolves
/// crossings and touches by non-zero winding (a ring that touches itself around a courtyard
/// becomes a polygon with a hole; a bow-tie its two triangles). `multi` says whether problems
/// name parts. One code path for `validate` (grids drawn by hand) and `wangge import` (footprints
/// from any source).
pub fn clean_rings(drawn: &[Vec<Vec<Coord<f64>>>], multi: bool) -> Cleaned {
    let mut problems = Vec::new();
    let mut polygons = Vec::new();
    let mut needs_union = false;
    for (pi, rings) in drawn.iter().enumerate() {
        let part = if multi {
            format!("part {} ", pi + 1)
        } else {
            String::new()
        };
        let mut kept: Vec<LineString<f64>> = Vec::new();
        for (ri, raw) in rings.iter().enumerate() {
            let role = if ri == 0 {
                format!("{part}outer ring")
            } else {
                format!("{part}hole {ri}")
            };
            let Some(ring) = clean_ring(raw, &role, &mut problems) else {
                if ri == 0 {
                    break; // without its outer ring the polygon is gone, holes and all
                }
                continue;
            };
            let crossings = self_crossings(&ring);
            if let Some(&at) = crossings.first() {
                needs_union = true;
                let kind = if is_bow_tie(&ring) {
                    DefectKind::BowTie
                } else {
                    DefectKind::SelfIntersection
                };
                let what = if kind == DefectKind::BowTie {
                    "is a bow-tie (it crosses itself into lobes turning opposite ways)"
                } else {
                    "crosses or touches itself"
                };
                problems.push(problem(
                    kind,
                    Some(at),
                    format!(
                        "{role} {what} at {} ({} crossing{})",
                        fmt_at(at),
                        crossings.len(),
                        if crossings.len() == 1 { "" } else { "s" }
                    ),
                ));
            }
            kept.push(ring);
        }
        if kept.is_empty() {
            continue;
        }
        let mut exterior = kept.remove(0);
        exterior.make_ccw_winding();
        for h in &mut kept {
            h.make_cw_winding();
        }
        polygons.push(Polygon::new(exterior, kept));
    }
    let mut area = MultiPolygon(polygons);
    // Holes and parts against each other: only where there are any (rare in grids).
    if !needs_union
        && (area.0.iter().any(|p| !p.interiors().is_empty()) || area.0.len() > 1)
        && let Some(message) = ring_relations(&area)
    {
        needs_union = true;
        problems.push(problem(DefectKind::InvalidPolygon, None, message));
    }
    if needs_union {
        area = make_valid(&area);
    }
    if area.0.is_empty() {
        problems.push(problem(
            DefectKind::TooFewPoints,
            None,
            "no polygon with any area is left".into(),
        ));
    }
    Cleaned { area, problems }
}

/// Resolves self-intersections by non-zero winding: a bow-tie becomes its two triangles.
pub fn make_valid(area: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    restore(
        orient_rfc(area.union_with_fill_rule(&MultiPolygon::<f64>::new(vec![]), FillRule::NonZero)),
        &[area],
    )
}

/// Boolean operations round every vertex to their integer grid (~1e-11° here), so a vertex
/// that came through unchanged no longer matches the neighbour's copy bit for bit. This puts
/// each output vertex back on the input vertex it came from (within 1e-9°, ~0.1 mm); vertices
/// the operation created (crossings) stay where they are.
pub(crate) fn restore(mut out: MultiPolygon<f64>, inputs: &[&MultiPolygon<f64>]) -> MultiPolygon<f64> {
    const SAME: f64 = 1e-9;
    let tree: RTree<[f64; 2]> = RTree::bulk_load(
        inputs
            .iter()
            .flat_map(|a| a.0.iter())
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .flat_map(|r| r.0.iter().map(|c| [c.x, c.y]))
            .collect(),
    );
    let put_back = |ring: &mut LineString<f64>| {
        for c in ring.0.iter_mut() {
            if let Some(n) = tree.nearest_neighbor(&[c.x, c.y])
                && (n[0] - c.x).abs() <= SAME
                && (n[1] - c.y).abs() <= SAME
            {
                *c = Coord { x: n[0], y: n[1] };
            }
        }
        ring.0.dedup();
        // The operation also drops vertices where a straight edge ran on: put them back, or
        // the neighbour sharing that edge would no longer match vertex for vertex.
        let mut out: Vec<Coord<f64>> = Vec::with_capacity(ring.0.len());
        for l in ring.lines() {
            out.push(l.start);
            let (d, len2) = (l.end - l.start, l.dx() * l.dx() + l.dy() * l.dy());
            if len2 == 0.0 {
                continue;
            }
            let env = AABB::from_corners(
                [l.start.x.min(l.end.x) - SAME, l.start.y.min(l.end.y) - SAME],
                [l.start.x.max(l.end.x) + SAME, l.start.y.max(l.end.y) + SAME],
            );
            let mut on: Vec<(f64, Coord<f64>)> = tree
                .locate_in_envelope(&env)
                .map(|w| Coord { x: w[0], y: w[1] })
                .filter(|&w| w != l.start && w != l.end)
                .filter_map(|w| {
                    let t = ((w.x - l.start.x) * d.x + (w.y - l.start.y) * d.y) / len2;
                    let off = (w - (l.start + d * t)).x.hypot((w - (l.start + d * t)).y);
                    (t > 0.0 && t < 1.0 && off <= SAME).then_some((t, w))
                })
                .collect();
            on.sort_by(|a, b| a.0.total_cmp(&b.0));
            on.dedup_by(|a, b| a.1 == b.1);
            out.extend(on.into_iter().map(|x| x.1));
        }
        out.extend(ring.0.last().copied());
        ring.0 = out;
    };
    for p in &mut out.0 {
        p.exterior_mut(|r| put_back(r));
        p.interiors_mut(|hs| hs.iter_mut().for_each(&put_back));
    }
    out
}

/// Exteriors counter-clockwise, holes clockwise: interior always on the left of a ring.
pub(crate) fn orient_rfc(mut area: MultiPolygon<f64>) -> MultiPolygon<f64> {
    for p in &mut area.0 {
        p.exterior_mut(|r| r.make_ccw_winding());
        p.interiors_mut(|hs| hs.iter_mut().for_each(|h| h.make_cw_winding()));
    }
    area.0.retain(|p| p.exterior().0.len() >= 4);
    area
}

pub(crate) fn fmt_at(c: Coord<f64>) -> String {
    format!("[{:.7}, {:.7}]", c.x, c.y)
}

/// Closes, de-duplicates and de-spikes one ring; None when fewer than 3 distinct points remain.
fn clean_ring(raw: &[Coord<f64>], role: &str, problems: &mut Vec<GeometryProblem>) -> Option<LineString<f64>> {
    let mut pts: Vec<Coord<f64>> = raw.to_vec();
    if let (Some(&first), Some(&last)) = (pts.first(), pts.last()) {
        if first != last {
            problems.push(problem(
                DefectKind::UnclosedRing,
                Some(last),
                format!(
                    "{role} is not closed: it starts at {} and ends at {}",
                    fmt_at(first),
                    fmt_at(last)
                ),
            ));
        } else if pts.len() > 1 {
            pts.pop();
        }
    }
    let before = pts.len();
    pts.dedup();
    while pts.len() > 1 && pts.first() == pts.last() {
        pts.pop();
    }
    if pts.len() < before {
        problems.push(problem(
            DefectKind::RepeatedPoints,
            pts.first().copied(),
            format!(
                "{role} repeats {} point{} in a row",
                before - pts.len(),
                if before - pts.len() == 1 { "" } else { "s" }
            ),
        ));
    }
    // Spikes: a vertex where the ring runs out and straight back.
    let mut spikes = Vec::new();
    let mut changed = true;
    while changed && pts.len() >= 3 {
        changed = false;
        let n = pts.len();
        for i in 0..n {
            let (p, v, q) = (pts[(i + n - 1) % n], pts[i], pts[(i + 1) % n]);
            let back = p == q
                || (orient(p, v, q) == Orientation::Collinear
                    && (v.x - p.x) * (q.x - v.x) + (v.y - p.y) * (q.y - v.y) < 0.0);
            if back {
                spikes.push(v);
                pts.remove(i);
                pts.dedup();
                while pts.len() > 1 && pts.first() == pts.last() {
                    pts.pop();
                }
                changed = true;
                break;
            }
        }
    }
    if let Some(&at) = spikes.first() {
        problems.push(problem(
            DefectKind::Spike,
            Some(at),
            format!(
                "{role} has {} spike{} (a point the edge runs out to and straight back from) at {}",
                spikes.len(),
                if spikes.len() == 1 { "" } else { "s" },
                fmt_at(at)
            ),
        ));
    }
    if pts.len() < 3 {
        problems.push(problem(
            DefectKind::TooFewPoints,
            raw.first().copied(),
            format!("{role} has fewer than 3 distinct points"),
        ));
        return None;
    }
    pts.push(pts[0]);
    let ring = LineString(pts);
    if Polygon::new(ring.clone(), vec![]).signed_area() == 0.0 && self_crossings(&ring).is_empty() {
        problems.push(problem(
            DefectKind::TooFewPoints,
            ring.0.first().copied(),
            format!("{role} encloses no area"),
        ));
        return None;
    }
    Some(ring)
}

/// A ring crossing itself into two loops that turn opposite ways (a figure of eight): split at
/// its first proper crossing, the loops' signed areas have opposite signs.
fn is_bow_tie(ring: &LineString<f64>) -> bool {
    let lines: Vec<Line<f64>> = ring.lines().collect();
    let n = lines.len();
    for i in 0..n {
        for j in i + 2..n {
            if i == 0 && j == n - 1 {
                continue;
            }
            if let Some(LineIntersection::SinglePoint {
                intersection: x,
                is_proper: true,
            }) = line_intersection(lines[i], lines[j])
            {
                let shoelace = |pts: &[Coord<f64>]| -> f64 {
                    (0..pts.len())
                        .map(|k| {
                            let (a, b) = (pts[k], pts[(k + 1) % pts.len()]);
                            (a.x - x.x) * (b.y - x.y) - (b.x - x.x) * (a.y - x.y)
                        })
                        .sum::<f64>()
                };
                let first: Vec<Coord<f64>> = std::iter::once(x)
                    .chain(lines[i + 1..=j].iter().map(|l| l.start))
                    .collect();
                let second: Vec<Coord<f64>> = std::iter::once(x)
                    .chain(lines[j + 1..].iter().chain(&lines[..=i]).map(|l| l.start))
                    .collect();
                return shoelace(&first) * shoelace(&second) < 0.0;
            }
        }
    }
    false
}

/// Where a closed ring meets itself other than at consecutive segments' shared points.
pub(crate) fn self_crossings(ring: &LineString<f64>) -> Vec<Coord<f64>> {
    let lines: Vec<Line<f64>> = ring.lines().collect();
    let n = lines.len();
    if n < 4 {
        return Vec::new();
    }
    let tree = RTree::bulk_load(
        lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                GeomWithData::new(
                    Rectangle::from_corners(
                        [l.start.x.min(l.end.x), l.start.y.min(l.end.y)],
                        [l.start.x.max(l.end.x), l.start.y.max(l.end.y)],
                    ),
                    i,
                )
            })
            .collect(),
    );
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let env = AABB::from_corners(
            [l.start.x.min(l.end.x), l.start.y.min(l.end.y)],
            [l.start.x.max(l.end.x), l.start.y.max(l.end.y)],
        );
        for other in tree.locate_in_envelope_intersecting(&env) {
            let j = other.data;
            if j <= i {
                continue;
            }
            let adjacent = j == i + 1 || (i == 0 && j == n - 1);
            match line_intersection(*l, lines[j]) {
                Some(LineIntersection::SinglePoint { .. }) if adjacent => {}
                Some(LineIntersection::SinglePoint { intersection, .. }) => out.push(intersection),
                Some(LineIntersection::Collinear { intersection })
                    if !adjacent || intersection.start != intersection.end =>
                {
                    out.push(intersection.start)
                }
                None | Some(LineIntersection::Collinear { .. }) => {}
            }
        }
    }
    out
}

/// Holes outside their shell, holes crossing, parts overlapping: what is wrong between rings.
fn ring_relations(area: &MultiPolygon<f64>) -> Option<String> {
    for (pi, p) in area.0.iter().enumerate() {
        let shell = Polygon::new(p.exterior().clone(), vec![]);
        for (hi, h) in p.interiors().iter().enumerate() {
            let hole = Polygon::new(h.clone(), vec![]);
            let m = shell.relate(&hole);
            if !m.is_contains() {
                return Some(format!(
                    "hole {} of part {} is not inside its outer ring",
                    hi + 1,
                    pi + 1
                ));
            }
            for (hj, h2) in p.interiors().iter().enumerate().skip(hi + 1) {
                if hole.relate(&Polygon::new(h2.clone(), vec![])).get(
                    geo::coordinate_position::CoordPos::Inside,
                    geo::coordinate_position::CoordPos::Inside,
                ) != geo::dimensions::Dimensions::Empty
                {
                    return Some(format!("holes {} and {} of part {} overlap", hi + 1, hj + 1, pi + 1));
                }
            }
        }
        for (qi, q) in area.0.iter().enumerate().skip(pi + 1) {
            if p.relate(q).get(
                geo::coordinate_position::CoordPos::Inside,
                geo::coordinate_position::CoordPos::Inside,
            ) != geo::dimensions::Dimensions::Empty
            {
                return Some(format!("parts {} and {} overlap", pi + 1, qi + 1));
            }
        }
    }
    None
}

/// `area` without what `other` covers: vertices that came through kept bit for bit, tidied.
/// How an overlap is given to one side (validate --fix between grids, import between buildings).
pub fn cut(area: &MultiPolygon<f64>, other: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    tidy(&restore(orient_rfc(area.difference(other)), &[area, other]))
}

/// Tidies a shape after snapping or boolean work: repeated points and spikes out, degenerate
/// rings dropped, crossings resolved.
pub(crate) fn tidy(area: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    let mut sink = Vec::new();
    let mut crossed = false;
    let mut polygons = Vec::new();
    for p in &area.0 {
        let Some(ext) = clean_ring(&p.exterior().0, "", &mut sink) else {
            continue;
        };
        crossed |= !self_crossings(&ext).is_empty();
        let holes: Vec<LineString<f64>> = p
            .interiors()
            .iter()
            .filter_map(|h| clean_ring(&h.0, "", &mut sink))
            .collect();
        crossed |= holes.iter().any(|h| !self_crossings(h).is_empty());
        polygons.push(Polygon::new(ext, holes));
    }
    let out = orient_rfc(MultiPolygon(polygons));
    if crossed { make_valid(&out) } else { out }
}

/// Geodesic area (m²) of boolean-operation output. Such output can hold zero-width slivers
/// whose orientation is numerically undefined, and a ring the ellipsoidal area takes as
/// clockwise measures as the rest of the Earth; no grid comes near half the Earth, so such a
/// result is read as its complement.
pub(crate) fn area_m2(area: &MultiPolygon<f64>) -> f64 {
    crate::measure::overlay_area_m2(area)
}
