//! A polygon prepared for many point-in-polygon questions: its edges bucketed by latitude, so a
//! question reads only the few edges near the point's y instead of the whole ring.
//!
//! The answer is exact: the same robust orientation predicate and half-open crossing rule as
//! geo's `coordinate_position`, so both always agree (the lookup tests check a million points).

use geo::kernels::{Kernel, Orientation, RobustKernel};
use geo::{Coord, MultiPolygon, Rect};

/// Where a point lies relative to a closed area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    Inside,
    /// On an edge or a vertex of any ring (exterior or hole).
    Boundary,
    Outside,
}

impl Position {
    /// Inside the closed area (interior or boundary).
    pub fn covered(self) -> bool {
        self != Position::Outside
    }
}

/// Edges per bucket aimed for: a few, so a question costs a handful of orientation tests.
const MAX_BUCKETS: usize = 1 << 16;

#[derive(Debug, Clone)]
pub struct PreparedArea {
    bbox: Rect<f64>,
    y0: f64,
    /// Buckets per degree of latitude.
    scale: f64,
    buckets: usize,
    /// Bucket `i` holds `edges[starts[i]..starts[i + 1]]`: every edge whose y-range meets it.
    starts: Vec<u32>,
    edges: Vec<[Coord<f64>; 2]>,
}

impl PreparedArea {
    /// `None` for an area without a ring of at least one edge.
    pub fn new(area: &MultiPolygon<f64>) -> Option<Self> {
        let mut all: Vec<[Coord<f64>; 2]> = Vec::new();
        for p in &area.0 {
            for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
                // Zero-length segments never decide anything the neighbouring edges do not.
                all.extend(ring.lines().filter(|l| l.start != l.end).map(|l| [l.start, l.end]));
            }
        }
        if all.is_empty() {
            return None;
        }
        let (mut min, mut max) = (all[0][0], all[0][0]);
        for e in &all {
            for c in e {
                min = Coord {
                    x: min.x.min(c.x),
                    y: min.y.min(c.y),
                };
                max = Coord {
                    x: max.x.max(c.x),
                    y: max.y.max(c.y),
                };
            }
        }
        if !(min.x.is_finite() && min.y.is_finite() && max.x.is_finite() && max.y.is_finite()) {
            return None;
        }
        let n = all.len().clamp(1, MAX_BUCKETS);
        let height = max.y - min.y;
        let scale = if height > 0.0 { n as f64 / height } else { 0.0 };
        let mut this = Self {
            bbox: Rect::new(min, max),
            y0: min.y,
            scale,
            buckets: n,
            starts: Vec::new(),
            edges: Vec::new(),
        };
        // Counting sort into buckets: one pass to count, one to place.
        let mut counts = vec![0u32; n + 1];
        for e in &all {
            let (a, b) = this.span(e);
            for c in &mut counts[a..=b] {
                *c += 1;
            }
        }
        let mut starts = Vec::with_capacity(n + 1);
        let mut total = 0u32;
        for c in &counts[..n] {
            starts.push(total);
            total += c;
        }
        starts.push(total);
        let mut fill = starts.clone();
        let mut edges = vec![[Coord::zero(); 2]; total as usize];
        for e in &all {
            let (a, b) = this.span(e);
            for bucket in a..=b {
                edges[fill[bucket] as usize] = *e;
                fill[bucket] += 1;
            }
        }
        this.starts = starts;
        this.edges = edges;
        Some(this)
    }

    pub fn bbox(&self) -> Rect<f64> {
        self.bbox
    }

    /// The bucket of latitude `y`; monotone in `y`, so an edge spanning [y1, y2] is listed in
    /// the bucket of every y in between.
    fn bucket(&self, y: f64) -> usize {
        let i = ((y - self.y0) * self.scale).floor();
        if i <= 0.0 {
            0
        } else {
            (i as usize).min(self.buckets - 1)
        }
    }

    fn span(&self, e: &[Coord<f64>; 2]) -> (usize, usize) {
        let (lo, hi) = if e[0].y <= e[1].y {
            (e[0].y, e[1].y)
        } else {
            (e[1].y, e[0].y)
        };
        (self.bucket(lo), self.bucket(hi))
    }

    /// Where `c` lies: inside, on the boundary, or outside (even-odd over all rings, which for
    /// a valid area is the same as interior).
    #[inline]
    pub fn position(&self, c: Coord<f64>) -> Position {
        // NaN fails every comparison, so it is outside here too.
        if !(c.x >= self.bbox.min().x
            && c.x <= self.bbox.max().x
            && c.y >= self.bbox.min().y
            && c.y <= self.bbox.max().y)
        {
            return Position::Outside;
        }
        let b = self.bucket(c.y);
        let (from, to) = (self.starts[b] as usize, self.starts[b + 1] as usize);
        let mut inside = false;
        for &[start, end] in &self.edges[from..to] {
            // geo's coordinate_position rules: an upward edge includes its start and excludes
            // its end, a downward edge the reverse, horizontal edges never cross; the crossing
            // must be strictly right of the point.
            if start.y <= c.y {
                if end.y >= c.y {
                    let o = RobustKernel::orient2d(start, end, c);
                    if o == Orientation::CounterClockwise && end.y != c.y {
                        inside = !inside;
                    } else if o == Orientation::Collinear && between(c.x, start.x, end.x) {
                        return Position::Boundary;
                    }
                }
            } else if end.y <= c.y {
                let o = RobustKernel::orient2d(start, end, c);
                if o == Orientation::Clockwise {
                    inside = !inside;
                } else if o == Orientation::Collinear && between(c.x, start.x, end.x) {
                    return Position::Boundary;
                }
            }
        }
        if inside { Position::Inside } else { Position::Outside }
    }
}

#[inline]
fn between(x: f64, a: f64, b: f64) -> bool {
    (a <= x && x <= b) || (b <= x && x <= a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{CoordinatePosition, coordinate_position::CoordPos, polygon};

    #[test]
    fn square_with_a_hole() {
        let p = polygon!(
            exterior: [(x: 0., y: 0.), (x: 4., y: 0.), (x: 4., y: 4.), (x: 0., y: 4.)],
            interiors: [[(x: 1., y: 1.), (x: 1., y: 2.), (x: 2., y: 2.), (x: 2., y: 1.)]],
        );
        let a = PreparedArea::new(&MultiPolygon(vec![p.clone()])).unwrap();
        for (x, y) in [
            (0.5, 0.5),
            (1.5, 1.5),
            (1.0, 1.5),
            (0.0, 4.0),
            (4.0, 2.0),
            (5.0, 2.0),
            (2.0, 4.0),
            (3.0, 1.0),
            (1.0, 1.0),
        ] {
            let c = Coord { x, y };
            let expected = match p.coordinate_position(&c) {
                CoordPos::Inside => Position::Inside,
                CoordPos::OnBoundary => Position::Boundary,
                CoordPos::Outside => Position::Outside,
            };
            assert_eq!(a.position(c), expected, "({x}, {y})");
        }
        assert_eq!(a.position(Coord { x: f64::NAN, y: 1.0 }), Position::Outside);
    }

    #[test]
    fn degenerate_areas_are_refused() {
        assert!(PreparedArea::new(&MultiPolygon(vec![])).is_none());
    }
}
