//! Spatial indexes: bounding boxes in an R-tree, refined by exact predicates by the caller.

use geo::{BoundingRect, Coord, MultiPolygon, Point, Rect};
use rayon::prelude::*;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

type Entry = GeomWithData<Rectangle<[f64; 2]>, usize>;

/// Item indexes by bounding box.
pub struct BboxIndex {
    /// One tree per slab of the items sorted by their boxes' centres west to east, built on
    /// every core: bulk-loading a city's 180,000 buildings into one tree took 0.2 s on one core.
    /// A query asks each tree; the ones whose bounds it misses answer at their root.
    trees: Vec<RTree<Entry>>,
}

/// Items per tree from which the index is built in slabs.
const SLAB: usize = 32_768;

impl BboxIndex {
    pub fn new(boxes: impl IntoIterator<Item = (usize, Rect<f64>)>) -> Self {
        let mut entries: Vec<Entry> = boxes
            .into_iter()
            .map(|(ix, r)| {
                let rect = Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
                GeomWithData::new(rect, ix)
            })
            .collect();
        if entries.len() < 2 * SLAB {
            return Self {
                trees: vec![RTree::bulk_load(entries)],
            };
        }
        let centre = |e: &Entry| e.geom().lower()[0] + e.geom().upper()[0];
        entries.par_sort_unstable_by(|a, b| centre(a).total_cmp(&centre(b)));
        let slabs = entries.len().div_ceil(SLAB);
        let size = entries.len().div_ceil(slabs);
        let mut parts = Vec::with_capacity(slabs);
        while entries.len() > size {
            let rest = entries.split_off(entries.len() - size);
            parts.push(rest);
        }
        parts.push(entries);
        Self {
            trees: parts.into_par_iter().map(RTree::bulk_load).collect(),
        }
    }

    /// Indexes of items whose box contains the point, in ascending order.
    pub fn at_point(&self, c: Coord<f64>) -> Vec<usize> {
        let mut hits: Vec<usize> = self
            .trees
            .iter()
            .flat_map(|t| t.locate_all_at_point(&[c.x, c.y]))
            .map(|e| e.data)
            .collect();
        hits.sort_unstable();
        hits
    }

    /// Indexes of items whose box meets the rectangle, in ascending order.
    pub fn intersecting(&self, r: Rect<f64>) -> Vec<usize> {
        let aabb = AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
        let mut hits: Vec<usize> = self
            .trees
            .iter()
            .flat_map(|t| t.locate_in_envelope_intersecting(&aabb))
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
            .find(|&i| holds(self.areas[i], p.0))
    }
}

/// Whether `area` holds `c`, its boundary included: `area.intersects(&Point(c))`, without
/// measuring the area's box first (a community's thousands of vertices) when an index has
/// already matched the point to it.
pub(crate) fn holds(area: &MultiPolygon<f64>, c: Coord<f64>) -> bool {
    use geo::coordinate_position::{CoordPos, CoordinatePosition};
    area.0.iter().any(|p| p.coordinate_position(&c) != CoordPos::Outside)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Intersects, polygon};

    /// `holds` says what `intersects` says: inside, outside, on an edge, at a corner, in a hole,
    /// on a hole's edge, in a second polygon.
    #[test]
    fn holds_is_intersects_without_the_box() {
        let area = MultiPolygon(vec![
            polygon!(
                exterior: [(x: 0.0, y: 0.0), (x: 4.0, y: 0.0), (x: 4.0, y: 4.0), (x: 0.0, y: 4.0)],
                interiors: [[(x: 1.0, y: 1.0), (x: 2.0, y: 1.0), (x: 2.0, y: 2.0), (x: 1.0, y: 2.0)]],
            ),
            polygon![(x: 4.0, y: 4.0), (x: 6.0, y: 4.0), (x: 6.0, y: 6.0)],
        ]);
        for x in 0..=14 {
            for y in 0..=14 {
                let c = Coord {
                    x: x as f64 * 0.5 - 0.5,
                    y: y as f64 * 0.5 - 0.5,
                };
                assert_eq!(holds(&area, c), area.intersects(&Point(c)), "{c:?}");
            }
        }
    }

    /// Built in slabs, the index answers as a brute-force search does, boxes wide and narrow.
    #[test]
    fn an_index_built_in_slabs_finds_every_box() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let boxes: Vec<Rect<f64>> = (0..3 * SLAB + 17)
            .map(|i| {
                let (x, y) = (rng.random_range(0.0..100.0), rng.random_range(0.0..100.0));
                let w = if i % 1000 == 0 {
                    60.0
                } else {
                    rng.random_range(0.0..0.5)
                };
                Rect::new(Coord { x, y }, Coord { x: x + w, y: y + 0.3 })
            })
            .collect();
        let index = BboxIndex::new(boxes.iter().copied().enumerate());
        assert!(index.trees.len() > 1);
        for _ in 0..300 {
            let (x, y) = (rng.random_range(-5.0..105.0), rng.random_range(-5.0..105.0));
            let query = Rect::new(Coord { x, y }, Coord { x: x + 1.0, y: y + 1.0 });
            let want: Vec<usize> = (0..boxes.len()).filter(|&i| boxes[i].intersects(&query)).collect();
            assert_eq!(index.intersecting(query), want);
            let point: Vec<usize> = (0..boxes.len())
                .filter(|&i| boxes[i].intersects(&Coord { x, y }))
                .collect();
            assert_eq!(index.at_point(Coord { x, y }), point);
        }
    }

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
