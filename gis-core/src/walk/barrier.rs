//! Walls and fences, and the gates and entrances through them: a straight step (an edge of the
//! network, or the step from a building to the network) is blocked when it crosses a barrier
//! line properly — through both lines' insides — more than [`PASSAGE_REACH_M`] from every gate
//! and entrance. A way that only touches a wall (runs along it, ends at it, or shares a vertex
//! with it, as an OpenStreetMap gate node on both ways does) is not blocked.

use crate::geom::LocalFrame;
use crate::model::WalkLayer;
use rstar::primitives::{GeomWithData, Line};
use rstar::{AABB, RTree};

/// How far from where a way crosses a wall a gate may be mapped and still let it through (m):
/// gates are often mapped on the wall a step beside the footway, or on the footway a step
/// before the wall.
pub const PASSAGE_REACH_M: f64 = 3.0;

#[derive(Debug, Clone)]
pub(super) struct Barriers {
    lines: RTree<GeomWithData<Line<[f64; 2]>, ()>>,
    passages: RTree<[f64; 2]>,
    /// Entrances alone, with their index in the walking layer's passages.
    pub entrances: RTree<GeomWithData<[f64; 2], u32>>,
}

impl Barriers {
    pub fn new(frame: LocalFrame, walk: &WalkLayer) -> Self {
        let lines = walk
            .barriers
            .iter()
            .flat_map(|b| b.line.0.iter())
            .flat_map(|l| l.0.windows(2))
            .map(|w| GeomWithData::new(Line::new(frame.to_local(w[0]), frame.to_local(w[1])), ()))
            .collect();
        let passages = walk.passages.iter().map(|p| frame.to_local(p.location.0)).collect();
        let entrances = walk
            .passages
            .iter()
            .enumerate()
            .filter(|(_, p)| p.kind == "entrance")
            .map(|(i, p)| GeomWithData::new(frame.to_local(p.location.0), i as u32))
            .collect();
        Self {
            lines: RTree::bulk_load(lines),
            passages: RTree::bulk_load(passages),
            entrances: RTree::bulk_load(entrances),
        }
    }

    /// Whether the straight step from `a` to `b` (local metres) crosses a barrier away from
    /// every passage.
    pub fn blocks(&self, a: [f64; 2], b: [f64; 2]) -> bool {
        if self.lines.size() == 0 {
            return false;
        }
        let env = AABB::from_corners(a, b);
        self.lines.locate_in_envelope_intersecting(&env).any(|w| {
            let (c, d) = (w.geom().from, w.geom().to);
            let Some(at) = proper_crossing(a, b, c, d) else {
                return false;
            };
            self.passages
                .locate_within_distance(at, PASSAGE_REACH_M * PASSAGE_REACH_M)
                .next()
                .is_none()
        })
    }
}

fn orient(p: [f64; 2], q: [f64; 2], r: [f64; 2]) -> f64 {
    (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])
}

/// Where segment ab crosses segment cd through both insides, if it does.
fn proper_crossing(a: [f64; 2], b: [f64; 2], c: [f64; 2], d: [f64; 2]) -> Option<[f64; 2]> {
    let (o1, o2) = (orient(a, b, c), orient(a, b, d));
    let (o3, o4) = (orient(c, d, a), orient(c, d, b));
    if !(o1 * o2 < 0.0 && o3 * o4 < 0.0) {
        return None;
    }
    let t = o3 / (o3 - o4);
    Some([a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t])
}

#[cfg(test)]
mod tests {
    use super::proper_crossing;

    #[test]
    fn crossing_through_insides_only() {
        assert_eq!(
            proper_crossing([0.0, 0.0], [2.0, 0.0], [1.0, -1.0], [1.0, 1.0]),
            Some([1.0, 0.0])
        );
        // Touching at an end, or running along: not a crossing.
        assert_eq!(proper_crossing([0.0, 0.0], [1.0, 0.0], [1.0, -1.0], [1.0, 1.0]), None);
        assert_eq!(proper_crossing([0.0, 0.0], [2.0, 0.0], [1.0, 0.0], [3.0, 0.0]), None);
    }
}
