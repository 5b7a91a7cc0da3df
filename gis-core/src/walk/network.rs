//! Building the walking network: every vertex of every road and walking way is a node (real
//! OpenStreetMap ways cross at shared nodes, and survey roads at shared vertices), every segment
//! an edge of its geodesic length, less the segments that cross a barrier away from a gate.

use super::barrier::Barriers;
use crate::geom::{LocalFrame, VertexKey};
use crate::model::{Road, WalkLayer};
use geo::{Coord, Distance, Geodesic, MultiLineString, Point};
use petgraph::graph::{NodeIndex, UnGraph};
use petgraph::unionfind::UnionFind;
use rstar::RTree;
use rstar::primitives::{GeomWithData, Line};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;

/// A component of the network is snapped to only when its length is at least this share of
/// the largest component's: a courtyard's footway loop that the data does not link to the
/// streets would otherwise catch the buildings around it and lead nowhere.
pub const SNAPPABLE_SHARE: f64 = 0.1;

/// Road classes nobody may walk on (expressways: 高速公路 and their ramps).
pub const NOT_WALKED: &[&str] = &["motorway", "motorway_link"];

pub(super) type Segment = GeomWithData<Line<[f64; 2]>, u32>;

/// The walking network of a dataset: its graph (nodes at lon/lat, edges weighted in geodesic
/// metres), an index of the edges for snapping, and the barriers and entrances.
#[derive(Debug, Clone)]
pub struct WalkNetwork {
    pub(super) graph: UnGraph<Coord<f64>, f64, u32>,
    pub(super) frame: LocalFrame,
    /// Edges of the snappable components, in the local frame, by edge index.
    pub(super) segments: RTree<Segment>,
    pub(super) barriers: Barriers,
    stats: WalkStats,
}

/// What the network was built from and what it holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct WalkStats {
    pub nodes: usize,
    pub edges: usize,
    /// Sum of the edges' lengths (km).
    pub length_km: f64,
    /// Edges from roads and from walking ways (a segment both give counts once, as a road's).
    pub road_edges: usize,
    pub way_edges: usize,
    /// Segments left out because they cross a barrier away from every gate and entrance.
    pub blocked_edges: usize,
    pub barriers: usize,
    pub gates: usize,
    pub entrances: usize,
    /// Connected components, and how many of them are long enough to snap to.
    pub components: usize,
    pub snappable_components: usize,
}

impl WalkNetwork {
    /// The network of the roads and the walking layer. Roads are walked whatever their class
    /// (China's streets have pavements) except [`NOT_WALKED`].
    pub fn build(roads: &[Road], walk: &WalkLayer) -> Self {
        let roads: Vec<&Road> = roads
            .iter()
            .filter(|r| !r.class.as_deref().is_some_and(|c| NOT_WALKED.contains(&c)))
            .collect();
        let lines = roads
            .iter()
            .map(|r| (&r.line, true))
            .chain(walk.ways.iter().map(|w| (&w.line, false)));
        let origin = origin(roads.iter().map(|r| &r.line).chain(walk.ways.iter().map(|w| &w.line)));
        let frame = LocalFrame::new(origin);
        let barriers = Barriers::new(frame, walk);

        let mut graph: UnGraph<Coord<f64>, f64, u32> = UnGraph::default();
        let mut nodes: FxHashMap<VertexKey, NodeIndex<u32>> = FxHashMap::default();
        let mut seen: FxHashSet<(u32, u32)> = FxHashSet::default();
        let mut stats = WalkStats {
            barriers: walk.barriers.len(),
            gates: walk.passages.iter().filter(|p| p.kind == "gate").count(),
            entrances: walk.passages.iter().filter(|p| p.kind == "entrance").count(),
            ..WalkStats::default()
        };
        let mut node = |graph: &mut UnGraph<Coord<f64>, f64, u32>, c: Coord<f64>| {
            *nodes.entry(VertexKey::of(c)).or_insert_with(|| graph.add_node(c))
        };
        for (line, is_road) in lines {
            for ls in &line.0 {
                for seg in ls.0.windows(2) {
                    let (a, b) = (seg[0], seg[1]);
                    if VertexKey::of(a) == VertexKey::of(b) {
                        continue;
                    }
                    if barriers.blocks(frame.to_local(a), frame.to_local(b)) {
                        stats.blocked_edges += 1;
                        continue;
                    }
                    let (na, nb) = (node(&mut graph, a), node(&mut graph, b));
                    let pair = (na.index().min(nb.index()) as u32, na.index().max(nb.index()) as u32);
                    if !seen.insert(pair) {
                        continue;
                    }
                    let m = Geodesic.distance(Point(a), Point(b));
                    graph.add_edge(na, nb, m);
                    stats.length_km += m / 1000.0;
                    if is_road {
                        stats.road_edges += 1;
                    } else {
                        stats.way_edges += 1;
                    }
                }
            }
        }
        stats.nodes = graph.node_count();
        stats.edges = graph.edge_count();

        // Components by length; only the long ones are snapped to.
        let mut sets: UnionFind<u32> = UnionFind::new(graph.node_count());
        for e in graph.edge_indices() {
            let (a, b) = graph.edge_endpoints(e).expect("edge of the graph");
            sets.union(a.index() as u32, b.index() as u32);
        }
        let mut length: FxHashMap<u32, f64> = FxHashMap::default();
        for e in graph.edge_indices() {
            let (a, _) = graph.edge_endpoints(e).expect("edge of the graph");
            *length.entry(sets.find(a.index() as u32)).or_default() += graph[e];
        }
        let longest = length.values().copied().fold(0.0, f64::max);
        let snappable: FxHashSet<u32> = length
            .iter()
            .filter(|(_, m)| **m >= SNAPPABLE_SHARE * longest)
            .map(|(c, _)| *c)
            .collect();
        stats.components = length.len();
        stats.snappable_components = snappable.len();
        let segments = graph
            .edge_indices()
            .filter_map(|e| {
                let (a, b) = graph.edge_endpoints(e).expect("edge of the graph");
                snappable.contains(&sets.find(a.index() as u32)).then(|| {
                    GeomWithData::new(
                        Line::new(frame.to_local(graph[a]), frame.to_local(graph[b])),
                        e.index() as u32,
                    )
                })
            })
            .collect();
        Self {
            graph,
            frame,
            segments: RTree::bulk_load(segments),
            barriers,
            stats,
        }
    }

    pub fn stats(&self) -> &WalkStats {
        &self.stats
    }

    /// Whether there is anything to walk on.
    pub fn is_empty(&self) -> bool {
        self.graph.edge_count() == 0
    }

    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    pub fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// Where a node is (lon/lat).
    pub fn node(&self, node: u32) -> Coord<f64> {
        self.graph[NodeIndex::new(node as usize)]
    }

    /// An edge's two nodes and its length in metres; [`super::Snap::t`] runs from the first.
    pub fn edge(&self, edge: u32) -> (u32, u32, f64) {
        let e = petgraph::graph::EdgeIndex::new(edge as usize);
        let (a, b) = self.graph.edge_endpoints(e).expect("an edge of this network");
        (a.index() as u32, b.index() as u32, self.graph[e])
    }

    /// Every edge as (node, node, metres), in edge order: the graph as an edge list, for an
    /// independent router to check against.
    pub fn edges(&self) -> impl Iterator<Item = (u32, u32, f64)> + '_ {
        self.graph
            .raw_edges()
            .iter()
            .map(|e| (e.source().index() as u32, e.target().index() as u32, e.weight))
    }
}

/// The middle of the lines' extent: the local frame's origin.
fn origin<'a>(lines: impl Iterator<Item = &'a MultiLineString<f64>>) -> Coord<f64> {
    let (mut lo, mut hi) = (
        Coord {
            x: f64::INFINITY,
            y: f64::INFINITY,
        },
        Coord {
            x: f64::NEG_INFINITY,
            y: f64::NEG_INFINITY,
        },
    );
    for c in lines.flat_map(|l| l.0.iter()).flat_map(|l| l.0.iter()) {
        lo = Coord {
            x: lo.x.min(c.x),
            y: lo.y.min(c.y),
        };
        hi = Coord {
            x: hi.x.max(c.x),
            y: hi.y.max(c.y),
        };
    }
    if lo.x.is_finite() {
        (lo + hi) / 2.0
    } else {
        Coord { x: 0.0, y: 0.0 }
    }
}
