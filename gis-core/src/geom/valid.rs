//! A fast "valid" for the common case of geo's `Validation`. Its ring test compares every
//! segment with every other (O(n²)): on a city's grids, checked again at each step of a `load`
//! (the partition's self-check, the draft's checks before and after storing, publishing), it was
//! a fifth of the time after the partition. Here the same pairs are found by a sweep over the
//! segments' boxes and judged by the same predicate, so the answer is geo's, bit for bit; where
//! geo would look further (holes, several parts, a point not finite, too few points) the answer
//! is "not sure" and the caller asks geo.

use geo::{Intersects, Line, LineString, MultiPolygon, Polygon};

/// `true` only if geo's `Validation` finds no error in `area`; `false` means: ask geo.
pub fn surely_valid_multi(area: &MultiPolygon<f64>) -> bool {
    match area.0.as_slice() {
        [] => true,
        [one] => surely_valid(one),
        // Parts are compared pairwise with `relate` by geo: left to it.
        _ => false,
    }
}

/// `true` only if geo's `Validation` finds no error in `polygon`; `false` means: ask geo.
pub fn surely_valid(polygon: &Polygon<f64>) -> bool {
    if polygon.interiors().iter().any(|r| !r.0.is_empty()) {
        // Holes are tested against the exterior with `relate` by geo: left to it.
        return false;
    }
    let ring = polygon.exterior();
    if ring.0.is_empty() {
        return true;
    }
    // geo counts the points left once consecutive repeats are dropped.
    let distinct = 1 + ring.0.windows(2).filter(|w| w[0] != w[1]).count();
    distinct >= 4 && ring.0.iter().all(|c| c.x.is_finite() && c.y.is_finite()) && !crosses_itself(ring)
}

/// geo's `linestring_has_self_intersection`: two segments that intersect, other than where one
/// ends and the other starts. Only pairs whose boxes meet can intersect, so only those are
/// tested, in both orders as geo tests them.
pub(crate) fn crosses_itself(ring: &LineString<f64>) -> bool {
    let lines: Vec<Line<f64>> = ring.lines().collect();
    let min_x = |l: &Line<f64>| l.start.x.min(l.end.x);
    let mut order: Vec<u32> = (0..lines.len() as u32).collect();
    order.sort_unstable_by(|&a, &b| min_x(&lines[a as usize]).total_cmp(&min_x(&lines[b as usize])));
    let judged = |a: &Line<f64>, b: &Line<f64>| a.intersects(b) && a.start != b.end && a.end != b.start;
    for (k, &i) in order.iter().enumerate() {
        let a = &lines[i as usize];
        let (max_x, lo_y, hi_y) = (a.start.x.max(a.end.x), a.start.y.min(a.end.y), a.start.y.max(a.end.y));
        for &j in &order[k + 1..] {
            let b = &lines[j as usize];
            if min_x(b) > max_x {
                break;
            }
            if b.start.y.max(b.end.y) < lo_y || b.start.y.min(b.end.y) > hi_y {
                continue;
            }
            if judged(a, b) || judged(b, a) {
                return true;
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Coord, Validation};

    /// geo's verdict and ours agree on rings made to touch, cross and spike.
    #[test]
    fn agrees_with_geo_on_random_rings() {
        let mut seed = 7u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % 9) as f64
        };
        let (mut valid, mut invalid) = (0, 0);
        for n in 3..12 {
            for _ in 0..2_000 {
                let mut pts: Vec<Coord<f64>> = (0..n).map(|_| Coord { x: next(), y: next() }).collect();
                pts.push(pts[0]);
                let ring = LineString(pts);
                let geo_says = geo_self_intersection(&ring);
                assert_eq!(crosses_itself(&ring), geo_says, "{ring:?}");
                let polygon = Polygon::new(ring, vec![]);
                if surely_valid(&polygon) {
                    assert!(polygon.is_valid(), "{polygon:?}");
                    valid += 1;
                } else if !polygon.is_valid() {
                    invalid += 1;
                }
            }
        }
        assert!(valid > 100 && invalid > 100, "{valid} valid, {invalid} invalid");
    }

    /// geo's test, as written in geo 0.33's `validation::utils`.
    fn geo_self_intersection(geom: &LineString<f64>) -> bool {
        for (i, line) in geom.lines().enumerate() {
            for (j, other_line) in geom.lines().enumerate() {
                if i != j
                    && line.intersects(&other_line)
                    && line.start != other_line.end
                    && line.end != other_line.start
                {
                    return true;
                }
            }
        }
        false
    }
}
