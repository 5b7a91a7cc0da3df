//! A footprint's representative point: geo's `InteriorPoint` for polygons, point for point, with
//! the one costly step replaced. geo (0.33) confirms each candidate midpoint with a full DE-9IM
//! `relate`, which builds a geometry graph per call and was a tenth of reading a city's
//! buildings; a point's position against a polygon (`CoordinatePosition`, exact predicates)
//! answers the same two questions — does it touch the polygon, is it inside — directly. The
//! scan and the choice among candidates are geo's, so the anchor is the very same point.

use geo::algorithm::sweep::Intersections;
use geo::coordinate_position::{CoordPos, CoordinatePosition};
use geo::{BoundingRect, CoordsIter, LineIntersection, LinesIter};
use geo::{Coord, Line, MultiPolygon, Point, Polygon};
use std::cmp::Ordering;

/// The representative point of an area, as `geo::InteriorPoint` gives it.
pub(crate) fn interior_point(area: &MultiPolygon<f64>) -> Option<Point<f64>> {
    area.iter()
        .filter_map(polygon_interior_point)
        .min_by(|a, b| b.1.partial_cmp(&a.1).unwrap_or(Ordering::Less))
        .map(|(point, _)| point)
}

/// A polygon's interior point and the length of the scan segment it is the middle of (0 on the
/// boundary). geo 0.33's `polygon_interior_point_with_segment_length`, step for step.
fn polygon_interior_point(polygon: &Polygon<f64>) -> Option<(Point<f64>, f64)> {
    if polygon.exterior().0.len() == 1 {
        return Some((polygon.exterior().0[0].into(), 0.0));
    }
    let bounds = polygon.bounding_rect()?;
    let mut y_mid = (bounds.min().y + bounds.max().y) / 2.0;
    if polygon.coords_iter().any(|c| c.y == y_mid) {
        let next_closest = polygon
            .coords_iter()
            .filter_map(|c| (c.y != y_mid).then_some((c.y, (c.y - y_mid).abs())))
            .min_by(|a, b| a.1.partial_cmp(&b.1).unwrap_or(Ordering::Less));
        if let Some((closest, _)) = next_closest {
            y_mid = (y_mid + closest) / 2.0;
        }
    }
    let scan_line = Line::new(
        Coord {
            x: bounds.min().x,
            y: y_mid,
        },
        Coord {
            x: bounds.max().x,
            y: y_mid,
        },
    );
    let lines = polygon.lines_iter().chain(std::iter::once(scan_line));
    let mut intersections: Vec<Point<f64>> = Vec::new();
    for (l1, l2, inter) in Intersections::from_iter(lines) {
        if !(l1 == scan_line || l2 == scan_line) {
            continue;
        }
        match inter {
            LineIntersection::Collinear { intersection } => {
                intersections.push(intersection.start.into());
                intersections.push(intersection.end.into());
            }
            LineIntersection::SinglePoint { intersection, .. } => intersections.push(intersection.into()),
        }
    }
    intersections.sort_by(|a, b| a.x().total_cmp(&b.x()));
    let mut segments: Vec<(Point<f64>, f64)> = intersections
        .windows(2)
        .map(|w| (Point::new((w[0].x() + w[1].x()) / 2.0, y_mid), w[1].x() - w[0].x()))
        .collect();
    segments.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (midpoint, length) in segments {
        match polygon.coordinate_position(&midpoint.0) {
            CoordPos::Inside => return Some((midpoint, length)),
            CoordPos::OnBoundary => return Some((midpoint, 0.0)),
            CoordPos::Outside => {}
        }
    }
    polygon.coords_iter().next().map(|c| (c.into(), 0.0))
}

#[cfg(test)]
mod tests {
    use geo::InteriorPoint;

    /// The same point as geo's own, bit for bit, on footprints of every shape the tests hold.
    #[test]
    fn the_same_point_as_geo() {
        use geo::{MultiPolygon, polygon};
        let shapes: Vec<MultiPolygon<f64>> = vec![
            polygon![(x: 0.0, y: 0.0), (x: 4.0, y: 0.0), (x: 4.0, y: 3.0), (x: 0.0, y: 3.0)].into(),
            // A U shape whose middle scan crosses the gap.
            polygon![(x: 0.0, y: 0.0), (x: 6.0, y: 0.0), (x: 6.0, y: 4.0), (x: 4.0, y: 4.0), (x: 4.0, y: 1.0),
                (x: 2.0, y: 1.0), (x: 2.0, y: 4.0), (x: 0.0, y: 4.0)]
            .into(),
            // A vertex on the middle line; a courtyard.
            geo::Polygon::new(
                geo::LineString::from(vec![
                    (0.0, 0.0),
                    (10.0, 0.0),
                    (10.0, 10.0),
                    (5.0, 5.0),
                    (0.0, 10.0),
                    (0.0, 0.0),
                ]),
                vec![geo::LineString::from(vec![
                    (2.0, 1.0),
                    (4.0, 1.0),
                    (4.0, 3.0),
                    (2.0, 3.0),
                    (2.0, 1.0),
                ])],
            )
            .into(),
            // Degenerate: zero area.
            polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 1.0), (x: 2.0, y: 2.0)].into(),
            MultiPolygon(vec![
                polygon![(x: 116.3, y: 39.9), (x: 116.30011, y: 39.9), (x: 116.30011, y: 39.90007), (x: 116.3, y: 39.90007)],
                polygon![(x: 116.301, y: 39.9), (x: 116.3013, y: 39.90001), (x: 116.30127, y: 39.90009), (x: 116.30098, y: 39.90008)],
            ]),
        ];
        for shape in &shapes {
            assert_eq!(super::interior_point(shape), shape.interior_point(), "{shape:?}");
        }
    }
}
