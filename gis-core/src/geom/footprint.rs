//! Building footprints against grid edges: whether an edge passes through a footprint, and the
//! unit parts a building too big for any grid is cut into (the same slices wherever they are
//! computed, so partition and validate agree on them).

use super::LocalFrame;
use crate::model::Building;
use geo::{Contains, Coord, Line, LineString, Point, Polygon};

/// Whether an edge of `area` whose box meets `rect` (the footprint's box) passes through the
/// footprint's inside ([`crosses`]). A caller asks this of each grid whose box meets the
/// footprint's: that tests exactly the edges a box query over every grid edge would return,
/// without building an index of a city's million edges first.
pub(crate) fn crossed_by_edges_of(
    footprint: &geo::MultiPolygon<f64>,
    rect: geo::Rect<f64>,
    area: &geo::MultiPolygon<f64>,
) -> bool {
    let (lo, hi) = (rect.min(), rect.max());
    area.0
        .iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .flat_map(|r| r.lines())
        .any(|l| {
            l.start.x.min(l.end.x) <= hi.x
                && l.start.x.max(l.end.x) >= lo.x
                && l.start.y.min(l.end.y) <= hi.y
                && l.start.y.max(l.end.y) >= lo.y
                && crosses(footprint, l)
        })
}

/// Whether a grid edge passes through a footprint's inside (running along a wall is fine).
pub(crate) fn crosses(footprint: &geo::MultiPolygon<f64>, line: Line<f64>) -> bool {
    // Sample the edge: its ends, its midpoint, and where it meets each wall, nudged either way.
    let inside = |c: Coord<f64>| footprint.contains(&Point(c));
    if inside(line.start) || inside(line.end) || inside((line.start + line.end) / 2.0) {
        return true;
    }
    let d = line.end - line.start;
    let len2 = d.x * d.x + d.y * d.y;
    if len2 == 0.0 {
        return false;
    }
    for poly in &footprint.0 {
        for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
            for wall in ring.lines() {
                if let Some(geo::LineIntersection::SinglePoint {
                    intersection,
                    is_proper: true,
                }) = geo::algorithm::line_intersection::line_intersection(line, wall)
                {
                    let eps = 1e-7 / len2.sqrt();
                    if inside(intersection + d * eps) || inside(intersection - d * eps) {
                        return true;
                    }
                }
            }
        }
    }
    false
}

/// The unit parts of a building: equal slices of its footprint across its long axis, in unit
/// order. Cut points are computed once per original edge, so neighbouring slices share them
/// bit for bit. None when the footprint is not one ring that every cut crosses exactly twice.
pub(crate) fn unit_parts(b: &Building, frame: &LocalFrame) -> Option<Vec<Polygon<f64>>> {
    let n = b.units.len();
    if n < 2 || b.footprint.0.len() != 1 || !b.footprint.0[0].interiors().is_empty() {
        return None;
    }
    let ring: Vec<Coord<f64>> = b.footprint.0[0].exterior().0[..b.footprint.0[0].exterior().0.len() - 1].to_vec();
    let local: Vec<[f64; 2]> = ring.iter().map(|&c| frame.to_local(c)).collect();
    // Long axis: the principal direction of the outline's vertices.
    let m = local.len() as f64;
    let (mx, my) = (
        local.iter().map(|p| p[0]).sum::<f64>() / m,
        local.iter().map(|p| p[1]).sum::<f64>() / m,
    );
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for p in &local {
        let (dx, dy) = (p[0] - mx, p[1] - my);
        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
    }
    let angle = 0.5 * (2.0 * sxy).atan2(sxx - syy);
    let axis = [angle.cos(), angle.sin()];
    let s: Vec<f64> = local.iter().map(|p| p[0] * axis[0] + p[1] * axis[1]).collect();
    let (lo, hi) = s
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
    let cuts: Vec<f64> = (1..n).map(|j| lo + (hi - lo) * j as f64 / n as f64).collect();

    #[derive(Clone, Copy, PartialEq)]
    enum Label {
        Band(usize),
        On(usize),
    }
    let label = |x: f64| match cuts.iter().position(|&t| t == x) {
        Some(j) => Label::On(j),
        None => Label::Band(cuts.iter().filter(|&&t| t < x).count()),
    };
    let mut pts: Vec<(Coord<f64>, Label)> = Vec::new();
    for i in 0..ring.len() {
        let j = (i + 1) % ring.len();
        pts.push((ring[i], label(s[i])));
        let (si, sj) = (s[i], s[j]);
        let mut crossing: Vec<usize> = (0..cuts.len())
            .filter(|&c| (si < cuts[c] && cuts[c] < sj) || (sj < cuts[c] && cuts[c] < si))
            .collect();
        if sj < si {
            crossing.reverse();
        }
        for c in crossing {
            let t = (cuts[c] - si) / (sj - si);
            let p = Coord {
                x: ring[i].x + (ring[j].x - ring[i].x) * t,
                y: ring[i].y + (ring[j].y - ring[i].y) * t,
            };
            pts.push((p, Label::On(c)));
        }
    }
    for c in 0..cuts.len() {
        if pts.iter().filter(|p| p.1 == Label::On(c)).count() != 2 {
            return None;
        }
    }
    let mut out = Vec::with_capacity(n);
    for k in 0..n {
        let keep = |l: Label| match l {
            Label::Band(b) => b == k,
            Label::On(c) => c + 1 == k || c == k,
        };
        // Start just after a point that is not kept, so the kept run comes out contiguous.
        let start = pts.iter().position(|p| !keep(p.1))?;
        let mut coords: Vec<Coord<f64>> = (1..=pts.len())
            .map(|d| pts[(start + d) % pts.len()])
            .filter(|p| keep(p.1))
            .map(|p| p.0)
            .collect();
        if coords.len() < 3 {
            return None;
        }
        coords.push(coords[0]);
        let slice = Polygon::new(LineString(coords), vec![]);
        use geo::Validation;
        if !slice.is_valid() {
            return None;
        }
        out.push(slice);
    }
    Some(out)
}
