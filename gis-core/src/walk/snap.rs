//! Snapping points to the network: a point (a resident's position, a building, a resource) joins
//! the network at the nearest point of the nearest walkable edge whose straight step to it
//! crosses no barrier, splitting that edge virtually. The step is walked too: its geodesic
//! length is part of every distance from or to the point.

use super::WalkNetwork;
use geo::{Coord, Distance, Geodesic, MultiPolygon, Point};
use rstar::PointDistance;
use rustc_hash::FxHashMap;

/// Edges tried, nearest first, for one whose step to the point crosses no barrier; past them
/// the nearest edge is taken anyway (a point walled in on every side is the data's doing).
const SNAP_CANDIDATES: usize = 16;

/// An entrance within this many metres of a building's outline is that building's door (m).
pub const ENTRANCE_REACH_M: f64 = 3.0;

/// A point joined to the network.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Snap {
    /// The point snapped (lon/lat): a building's entrance or anchor, a resource, a query point.
    pub from: Coord<f64>,
    /// The edge it joins ([`WalkNetwork::edge`]).
    pub edge: u32,
    /// Where along the edge, 0 at its first node, 1 at its second.
    pub t: f64,
    /// The point on the edge (lon/lat).
    pub at: Coord<f64>,
    /// Geodesic metres from `from` to `at`, counted into every walk.
    pub snap_m: f64,
}

impl WalkNetwork {
    /// `p` (lon/lat) joined to the nearest snappable edge, or None when the network is empty
    /// or `p` is not a finite position.
    pub fn snap(&self, p: Coord<f64>) -> Option<Snap> {
        if !(p.x.is_finite() && p.y.is_finite()) {
            return None;
        }
        let local = self.frame.to_local(p);
        let mut first = None;
        for seg in self.segments.nearest_neighbor_iter(&local).take(SNAP_CANDIDATES) {
            let (a, b) = (seg.geom().from, seg.geom().to);
            let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
            let len2 = dx * dx + dy * dy;
            let t = if len2 > 0.0 {
                (((local[0] - a[0]) * dx + (local[1] - a[1]) * dy) / len2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let on = [a[0] + dx * t, a[1] + dy * t];
            let candidate = (seg.data, t, on);
            if !self.barriers.blocks(local, on) {
                return Some(self.snap_at(p, candidate));
            }
            first.get_or_insert(candidate);
        }
        first.map(|c| self.snap_at(p, c))
    }

    fn snap_at(&self, p: Coord<f64>, (edge, t, _on): (u32, f64, [f64; 2])) -> Snap {
        // The point on the edge from its lon/lat ends, so it lies on the edge exactly as drawn.
        let (a, b, _) = self.edge(edge);
        let (a, b) = (self.node(a), self.node(b));
        let at = a + (b - a) * t;
        Snap {
            from: p,
            edge,
            t,
            at,
            snap_m: Geodesic.distance(Point(p), Point(at)),
        }
    }

    /// A building joined to the network: from the mapped entrance (walking layer Point of kind
    /// `entrance`) within [`ENTRANCE_REACH_M`] of its outline nearest its anchor, else from its
    /// anchor.
    pub fn snap_building(&self, footprint: &MultiPolygon<f64>, anchor: Point<f64>) -> Option<Snap> {
        self.snap(self.door(footprint, anchor).unwrap_or(anchor.0))
    }

    /// The mapped entrance of a building, if any.
    pub fn door(&self, footprint: &MultiPolygon<f64>, anchor: Point<f64>) -> Option<Coord<f64>> {
        if self.barriers.entrances.size() == 0 {
            return None;
        }
        let anchor_local = self.frame.to_local(anchor.0);
        let outline: Vec<[[f64; 2]; 2]> = footprint
            .0
            .iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .flat_map(|r| r.0.windows(2))
            .map(|w| [self.frame.to_local(w[0]), self.frame.to_local(w[1])])
            .collect();
        let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        for p in outline.iter().flatten() {
            lo = [lo[0].min(p[0]), lo[1].min(p[1])];
            hi = [hi[0].max(p[0]), hi[1].max(p[1])];
        }
        let r = ENTRANCE_REACH_M;
        let env = rstar::AABB::from_corners([lo[0] - r, lo[1] - r], [hi[0] + r, hi[1] + r]);
        self.barriers
            .entrances
            .locate_in_envelope(&env)
            .filter(|e| {
                outline
                    .iter()
                    .any(|s| rstar::primitives::Line::new(s[0], s[1]).distance_2(e.geom()) <= r * r)
            })
            .min_by(|x, y| {
                x.geom()
                    .distance_2(&anchor_local)
                    .total_cmp(&y.geom().distance_2(&anchor_local))
            })
            .map(|e| self.frame.to_lonlat(*e.geom()))
    }
}

/// Points snapped once (a dataset's resources), found by the edge they join: what
/// [`WalkNetwork::nearest`] searches for.
#[derive(Debug, Clone, Default)]
pub struct Targets {
    snaps: Vec<Option<Snap>>,
    by_edge: FxHashMap<u32, Vec<u32>>,
}

impl Targets {
    /// The points, in order; one that does not snap (not finite, or no network) is never found.
    pub fn new(network: &WalkNetwork, points: impl IntoIterator<Item = Coord<f64>>) -> Self {
        Self::from_snaps(points.into_iter().map(|p| network.snap(p)).collect())
    }

    /// Targets from snaps already made (buildings by [`WalkNetwork::snap_building`]).
    pub fn from_snaps(snaps: Vec<Option<Snap>>) -> Self {
        let mut by_edge: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
        for (i, s) in snaps.iter().enumerate() {
            if let Some(s) = s {
                by_edge.entry(s.edge).or_default().push(i as u32);
            }
        }
        Self { snaps, by_edge }
    }

    pub fn len(&self) -> usize {
        self.snaps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.snaps.is_empty()
    }

    /// Target `i`'s snap, if it snapped.
    pub fn snap(&self, i: usize) -> Option<&Snap> {
        self.snaps.get(i).and_then(Option::as_ref)
    }

    /// The targets joining an edge.
    pub(super) fn on_edge(&self, edge: u32) -> &[u32] {
        self.by_edge.get(&edge).map_or(&[], Vec::as_slice)
    }
}
