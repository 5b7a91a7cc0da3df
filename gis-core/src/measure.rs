//! Areas and lengths on the WGS-84 ellipsoid (Karney's geodesics), never in Web Mercator, which
//! is about 20% off at China's latitudes.
//!
//! GeoJSON edges are straight in longitude/latitude (RFC 7946), not geodesics; long edges are
//! followed with extra points before measuring, so a polygon and the same polygon with its
//! edges subdivided (as grids subdivide a community line) measure the same.

use geo::{
    BoundingRect, Coord, Distance, Geodesic, GeodesicArea, Length, LineString, MultiLineString, MultiPolygon, Point,
    Polygon, Winding,
};

/// Longest edge measured as a geodesic without subdividing it, in degrees (~20 m).
const MAX_EDGE_DEG: f64 = 0.0002;

fn follow(ring: &LineString<f64>) -> LineString<f64> {
    let mut out: Vec<Coord<f64>> = Vec::with_capacity(ring.0.len());
    for l in ring.lines() {
        out.push(l.start);
        let n = ((l.end.x - l.start.x).abs().max((l.end.y - l.start.y).abs()) / MAX_EDGE_DEG).ceil() as usize;
        for i in 1..n {
            let t = i as f64 / n as f64;
            out.push(l.start + (l.end - l.start) * t);
        }
    }
    out.extend(ring.0.last().copied());
    LineString(out)
}

/// How far across an area is, in metres: the geodesic diagonal of its bounding box (0 when empty).
pub fn span_m(area: &MultiPolygon<f64>) -> f64 {
    area.bounding_rect()
        .map_or(0.0, |r| Geodesic.distance(Point(r.min()), Point(r.max())))
}

/// [`span_m`] where it may exceed `limit_m`; where it cannot, a bound of it at most `limit_m`.
/// The bound is the length of a path between the box's corners (along one corner's parallel,
/// then a meridian, each at the ellipsoid's largest radius of curvature), which no geodesic
/// exceeds: a city's buildings are checked against their limit without solving a geodesic each.
pub fn span_m_up_to(area: &MultiPolygon<f64>, limit_m: f64) -> f64 {
    // a / sqrt(1 - e²) of WGS 84: the largest radius of curvature, at the poles.
    const R_MAX: f64 = 6_399_593.626;
    let Some(r) = area.bounding_rect() else {
        return 0.0;
    };
    let (dlon, dlat) = (r.width().to_radians(), r.height().to_radians());
    let higher = r.min().y.abs().max(r.max().y.abs()).to_radians();
    let bound = R_MAX * (dlon * higher.cos() + dlat);
    if dlon <= std::f64::consts::PI && bound <= limit_m {
        bound
    } else {
        span_m(area)
    }
}

/// Area (m²) of boolean-operation output. Such output can hold zero-width slivers (collinear
/// points) whose geodesic area comes out as the rest of the Earth: measured per polygon, a part
/// over half the Earth is taken for its complement.
pub fn overlay_area_m2(area: &MultiPolygon<f64>) -> f64 {
    const EARTH_M2: f64 = 510_065_621_724_088.0;
    area.0
        .iter()
        .map(|p| {
            let a = area_m2(&MultiPolygon(vec![p.clone()]));
            if a > EARTH_M2 / 2.0 { (EARTH_M2 - a).max(0.0) } else { a }
        })
        .sum()
}

/// Area in square metres, whichever way the rings run. (The geodesic polygon area takes a
/// clockwise ring as enclosing the rest of the Earth, so rings are oriented first; a ring that
/// encloses nothing measures 0.)
pub fn area_m2(area: &MultiPolygon<f64>) -> f64 {
    let oriented = |r: &LineString<f64>, ccw: bool| -> Option<LineString<f64>> {
        let mut r = follow(r);
        if r.signed_area_2x() == 0.0 {
            return None;
        }
        if ccw {
            r.make_ccw_winding()
        } else {
            r.make_cw_winding()
        }
        Some(r)
    };
    area.0
        .iter()
        .filter_map(|p| {
            let exterior = oriented(p.exterior(), true)?;
            Some(
                Polygon::new(
                    exterior,
                    p.interiors().iter().filter_map(|h| oriented(h, false)).collect(),
                )
                .geodesic_area_unsigned(),
            )
        })
        .sum()
}

trait SignedArea2x {
    fn signed_area_2x(&self) -> f64;
}

impl SignedArea2x for LineString<f64> {
    fn signed_area_2x(&self) -> f64 {
        self.lines().map(|l| l.start.x * l.end.y - l.end.x * l.start.y).sum()
    }
}

/// Length in metres.
pub fn length_m(line: &MultiLineString<f64>) -> f64 {
    line.0.iter().map(|l| Geodesic.length(l)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{LineString, polygon};

    /// The bound is never below the span, and where it would pass the limit the span itself is
    /// given: a building 5 km across is found whatever the bound.
    #[test]
    fn the_span_bound_is_never_short() {
        for (lat, w, h) in [
            (0.0, 0.001, 0.001),
            (39.9, 0.0004, 0.0002),
            (-45.7, 0.01, 0.0),
            (80.0, 0.2, 0.01),
        ] {
            let area = MultiPolygon(vec![polygon![
                (x: 116.0, y: lat), (x: 116.0 + w, y: lat), (x: 116.0 + w, y: lat + h), (x: 116.0, y: lat)
            ]]);
            let span = span_m(&area);
            let bound = span_m_up_to(&area, 5_000.0);
            assert!(bound >= span, "at {lat}°: bound {bound} m below the span {span} m");
            assert!(
                bound <= span * 1.5 + 1e-9 || bound == span,
                "at {lat}°: bound {bound} m, span {span} m"
            );
        }
        let wide = MultiPolygon(vec![polygon![
            (x: 116.0, y: 39.9), (x: 116.07, y: 39.9), (x: 116.07, y: 39.92), (x: 116.0, y: 39.9)
        ]]);
        assert_eq!(span_m_up_to(&wide, 5_000.0), span_m(&wide));
        assert!(span_m(&wide) > 5_000.0);
    }

    #[test]
    fn a_degree_square_at_the_equator() {
        // 1° × 1° at the equator on WGS-84, edges straight in lon/lat (a geodesic quadrilateral
        // would be 12,308.778 km², GeographicLib; its top edge bows poleward).
        let sq = MultiPolygon(vec![
            polygon![(x: 0., y: 0.), (x: 1., y: 0.), (x: 1., y: 1.), (x: 0., y: 1.)],
        ]);
        assert!((area_m2(&sq) / 1e6 - 12_308.78).abs() < 2.0, "{}", area_m2(&sq) / 1e6);
    }

    #[test]
    fn subdividing_edges_does_not_change_the_area() {
        let sq = MultiPolygon(vec![
            polygon![(x: 118.10, y: 24.50), (x: 118.11, y: 24.50), (x: 118.11, y: 24.51), (x: 118.10, y: 24.51)],
        ]);
        let mut ring: Vec<Coord<f64>> = Vec::new();
        for l in sq.0[0].exterior().lines() {
            for i in 0..7 {
                ring.push(l.start + (l.end - l.start) * (i as f64 / 7.0));
            }
        }
        ring.push(ring[0]);
        let fine = MultiPolygon(vec![Polygon::new(LineString(ring), vec![])]);
        assert!(
            (area_m2(&sq) - area_m2(&fine)).abs() < 0.01,
            "{} vs {}",
            area_m2(&sq),
            area_m2(&fine)
        );
    }

    #[test]
    fn ring_direction_and_zero_width_rings_do_not_matter() {
        let ccw = MultiPolygon(vec![
            polygon![(x: 118.10, y: 24.50), (x: 118.11, y: 24.50), (x: 118.11, y: 24.51), (x: 118.10, y: 24.51)],
        ]);
        let cw = MultiPolygon(vec![
            polygon![(x: 118.10, y: 24.50), (x: 118.10, y: 24.51), (x: 118.11, y: 24.51), (x: 118.11, y: 24.50)],
        ]);
        assert!((area_m2(&ccw) - area_m2(&cw)).abs() < 1e-6);
        assert!(area_m2(&ccw) > 1.1e6 && area_m2(&ccw) < 1.2e6);
        let flat = MultiPolygon(vec![
            polygon![(x: 118.10, y: 24.50), (x: 118.11, y: 24.50), (x: 118.12, y: 24.50)],
        ]);
        assert_eq!(area_m2(&flat), 0.0);
    }

    #[test]
    fn a_degree_of_longitude_at_the_equator() {
        let line = MultiLineString(vec![LineString::from(vec![(0.0, 0.0), (1.0, 0.0)])]);
        assert!((length_m(&line) - 111_319.491).abs() < 0.01);
    }
}
