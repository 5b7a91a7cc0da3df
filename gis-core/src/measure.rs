//! Areas and lengths on the WGS-84 ellipsoid (Karney's geodesics), never in Web Mercator, which
//! is about 20% off at China's latitudes.

use geo::{Geodesic, GeodesicArea, Length, MultiLineString, MultiPolygon};

/// Area in square metres.
pub fn area_m2(area: &MultiPolygon<f64>) -> f64 {
    area.geodesic_area_unsigned()
}

/// Length in metres.
pub fn length_m(line: &MultiLineString<f64>) -> f64 {
    line.0.iter().map(|l| Geodesic.length(l)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{LineString, polygon};

    #[test]
    fn a_degree_square_at_the_equator() {
        // 1° × 1° at the equator on WGS-84: 12,308.778 km² (GeographicLib).
        let sq = MultiPolygon(vec![polygon![(x: 0., y: 0.), (x: 1., y: 0.), (x: 1., y: 1.), (x: 0., y: 1.)]]);
        assert!((area_m2(&sq) / 1e6 - 12_308.778).abs() < 0.01, "{}", area_m2(&sq) / 1e6);
    }

    #[test]
    fn a_degree_of_longitude_at_the_equator() {
        let line = MultiLineString(vec![LineString::from(vec![(0.0, 0.0), (1.0, 0.0)])]);
        assert!((length_m(&line) - 111_319.491).abs() < 0.01);
    }
}
