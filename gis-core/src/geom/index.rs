//! Spatial indexes: bounding boxes in an R-tree, refined by exact predicates by the caller.

use geo::{BoundingRect, Coord, Intersects, MultiPolygon, Point, Rect};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

type Entry = GeomWithData<Rectangle<[f64; 2]>, usize>;

/// Item indexes by bounding box.
pub struct BboxIndex {
    tree: RTree<Entry>,
}

impl BboxIndex {
    pub fn new(boxes: impl IntoIterator<Item = (usize, Rect<f64>)>) -> Self {
        let entries = boxes
            .into_iter()
            .map(|(ix, r)| {
                let rect = Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
                GeomWithData::new(rect, ix)
            })
            .collect();
        Self {
            tree: RTree::bulk_load(entries),
        }
    }

    /// Indexes of items whose box contains the point, in ascending order.
    pub fn at_point(&self, c: Coord<f64>) -> Vec<usize> {
        let mut hits: Vec<usize> = self.tree.locate_all_at_point(&[c.x, c.y]).map(|e| e.data).collect();
        hits.sort_unstable();
        hits
    }

    /// Indexes of items whose box meets the rectangle, in ascending order.
    pub fn intersecting(&self, r: Rect<f64>) -> Vec<usize> {
        let aabb = AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
        let mut hits: Vec<usize> = self
            .tree
            .locate_in_envelope_intersecting(&aabb)
            .map(|e| e.data)
            .collect();
        hits.sort_unstable();
        hits
    }
}

/// Areas (communities, exclusive units) answering "which one holds this point?".
pub struct AreaIndex<'a> {
    areas: Vec<&'a MultiPolygon<f64>>,
    boxes: BboxIndex,
}

impl<'a> AreaIndex<'a> {
    pub fn new(areas: impl IntoIterator<Item = &'a MultiPolygon<f64>>) -> Self {
        let areas: Vec<_> = areas.into_iter().collect();
        let boxes = BboxIndex::new(
            areas
                .iter()
                .enumerate()
                .filter_map(|(i, a)| a.bounding_rect().map(|r| (i, r))),
        );
        Self { areas, boxes }
    }

    /// The area holding the point; a point on a line shared by two areas goes to the one listed
    /// first, so every point has exactly one answer.
    pub fn locate(&self, p: Point<f64>) -> Option<usize> {
        self.boxes
            .at_point(p.0)
            .into_iter()
            .find(|&i| self.areas[i].intersects(&p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    #[test]
    fn shared_edge_goes_to_the_first_area() {
        let a = MultiPolygon(vec![
            polygon![(x: 0., y: 0.), (x: 1., y: 0.), (x: 1., y: 1.), (x: 0., y: 1.)],
        ]);
        let b = MultiPolygon(vec![
            polygon![(x: 1., y: 0.), (x: 2., y: 0.), (x: 2., y: 1.), (x: 1., y: 1.)],
        ]);
        let ix = AreaIndex::new([&a, &b]);
        assert_eq!(ix.locate(Point::new(1.0, 0.5)), Some(0));
        assert_eq!(ix.locate(Point::new(1.5, 0.5)), Some(1));
        assert_eq!(ix.locate(Point::new(3.0, 0.5)), None);
    }
}
