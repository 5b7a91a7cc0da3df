//! Shortest walks on the network (Dijkstra): one point to another with the route's line, one
//! point to its nearest targets, and many sources at once to every node (a service kind's
//! places to every building of a region).
//!
//! A snapped point splits its edge virtually: a search from it starts at both of the edge's
//! nodes (the snap step plus the part of the edge to each), and reaches a snapped target through
//! either node of the target's edge, or straight along the edge when both share it.

use super::{Snap, Targets, WalkNetwork};
use geo::{Coord, LineString};
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;
use rustc_hash::FxHashMap;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

const NONE: u32 = u32::MAX;

/// How a node was reached: metres, the edge it was reached by (NONE at a source's edge) and
/// which source.
#[derive(Debug, Clone, Copy)]
struct Label {
    m: f64,
    via: u32,
    source: u32,
}

/// Labels of the nodes a search reached: all nodes (a whole-region search) or a few (a request).
trait Labels {
    fn get(&self, node: u32) -> Option<Label>;
    fn set(&mut self, node: u32, label: Label);
}

impl Labels for Vec<Label> {
    fn get(&self, node: u32) -> Option<Label> {
        let l = self[node as usize];
        l.m.is_finite().then_some(l)
    }
    fn set(&mut self, node: u32, label: Label) {
        self[node as usize] = label;
    }
}

impl Labels for FxHashMap<u32, Label> {
    fn get(&self, node: u32) -> Option<Label> {
        self.get(&node).copied()
    }
    fn set(&mut self, node: u32, label: Label) {
        self.insert(node, label);
    }
}

/// A min-heap entry: metres, then node.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Item(f64, u32);
impl Eq for Item {}
impl Ord for Item {
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.total_cmp(&self.0).then_with(|| other.1.cmp(&self.1))
    }
}
impl PartialOrd for Item {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// What a settled node tells the search.
enum Flow {
    Go,
    Stop,
}

impl WalkNetwork {
    /// The two seeds of a snapped point: each node of its edge with the metres to it.
    fn seeds(&self, s: &Snap) -> [(u32, f64); 2] {
        let (a, b, len) = self.edge(s.edge);
        [(a, s.snap_m + s.t * len), (b, s.snap_m + (1.0 - s.t) * len)]
    }

    /// Metres from a node of `s`'s edge to `s`'s point (through the snap step).
    fn node_to_snap(&self, s: &Snap, node: u32) -> f64 {
        let (a, _, len) = self.edge(s.edge);
        s.snap_m + if node == a { s.t * len } else { (1.0 - s.t) * len }
    }

    /// Metres between two points snapped to the same edge, straight along it.
    fn along(&self, s: &Snap, t: &Snap) -> Option<f64> {
        (s.edge == t.edge).then(|| s.snap_m + t.snap_m + (s.t - t.t).abs() * self.edge(s.edge).2)
    }

    /// Dijkstra from the seeds; `settled(node, metres, labels)` after each node is settled.
    fn search<L: Labels>(
        &self,
        labels: &mut L,
        seeds: impl IntoIterator<Item = (u32, f64, u32)>,
        heap: &mut BinaryHeap<Item>,
        mut settled: impl FnMut(u32, f64, &mut BinaryHeap<Item>) -> Flow,
    ) {
        for (node, m, source) in seeds {
            if labels.get(node).is_none_or(|l| m < l.m) {
                labels.set(node, Label { m, via: NONE, source });
                heap.push(Item(m, node));
            }
        }
        while let Some(Item(m, n)) = heap.pop() {
            let Some(label) = labels.get(n) else { continue };
            if m > label.m {
                continue;
            }
            if let Flow::Stop = settled(n, m, heap) {
                return;
            }
            for e in self.graph.edges(NodeIndex::new(n as usize)) {
                let other = e.target().index() as u32;
                let to = m + *e.weight();
                if labels.get(other).is_none_or(|l| to < l.m) {
                    labels.set(
                        other,
                        Label {
                            m: to,
                            via: e.id().index() as u32,
                            source: label.source,
                        },
                    );
                    heap.push(Item(to, other));
                }
            }
        }
    }

    /// The nodes from `node` back to its search's seed, `node` first.
    fn back<L: Labels>(&self, labels: &L, mut node: u32) -> Vec<Coord<f64>> {
        let mut out = vec![self.node(node)];
        while let Some(l) = labels.get(node)
            && l.via != NONE
        {
            let (a, b, _) = self.edge(l.via);
            node = if a == node { b } else { a };
            out.push(self.node(node));
        }
        out
    }

    /// The shortest walk from one snapped point to another, with its line: the snap step, the
    /// part of the first edge, the edges, the part of the last edge and the snap step. None when
    /// no walk joins them (different components).
    pub fn route(&self, from: &Snap, to: &Snap) -> Option<WalkRoute> {
        let mut best = self.along(from, to).map(|m| (m, None));
        let (a, b, _) = self.edge(to.edge);
        let mut labels: FxHashMap<u32, Label> = FxHashMap::default();
        let seeds = self.seeds(from).map(|(n, m)| (n, m, 0));
        self.search(&mut labels, seeds, &mut BinaryHeap::new(), |n, m, _| {
            if best.is_some_and(|(b, _)| m >= b) {
                return Flow::Stop;
            }
            if n == a || n == b {
                let total = m + self.node_to_snap(to, n);
                if best.is_none_or(|(b, _)| total < b) {
                    best = Some((total, Some(n)));
                }
            }
            Flow::Go
        });
        let (metres, via) = best?;
        let mut line = vec![from.from, from.at];
        if let Some(n) = via {
            let mut back = self.back(&labels, n);
            back.reverse();
            line.extend(back);
        }
        line.extend([to.at, to.from]);
        line.dedup();
        Some(WalkRoute {
            metres,
            line: LineString(line),
        })
    }

    /// The targets nearest to `from` by walk, nearest first (ties by index), at most `limit`,
    /// only those `accept` takes and only within `max_m` metres.
    pub fn nearest(
        &self,
        from: &Snap,
        targets: &Targets,
        accept: impl Fn(usize) -> bool,
        limit: usize,
        max_m: Option<f64>,
    ) -> Vec<Found> {
        let max_m = max_m.unwrap_or(f64::INFINITY);
        let mut found: Vec<Found> = Vec::new();
        if limit == 0 {
            return found;
        }
        let mut taken: FxHashMap<u32, ()> = FxHashMap::default();
        // Candidates: a target's walk through a settled node (or straight along a shared edge).
        // A candidate no longer than the next node to settle is final.
        let mut candidates: BinaryHeap<Item> = BinaryHeap::new();
        for &i in targets.on_edge(from.edge) {
            if let (true, Some(t)) = (accept(i as usize), targets.snap(i as usize))
                && let Some(m) = self.along(from, t)
                && m <= max_m
            {
                candidates.push(Item(m, i));
            }
        }
        let mut labels: FxHashMap<u32, Label> = FxHashMap::default();
        let seeds = self.seeds(from).map(|(n, m)| (n, m, 0));
        let mut finish = |frontier: f64, candidates: &mut BinaryHeap<Item>, found: &mut Vec<Found>| {
            while let Some(&Item(m, i)) = candidates.peek() {
                if m > frontier {
                    break;
                }
                candidates.pop();
                if taken.insert(i, ()).is_none() {
                    found.push(Found {
                        target: i as usize,
                        metres: m,
                    });
                    if found.len() == limit {
                        return true;
                    }
                }
            }
            false
        };
        self.search(&mut labels, seeds, &mut BinaryHeap::new(), |n, m, _| {
            if finish(m, &mut candidates, &mut found) || m > max_m {
                return Flow::Stop;
            }
            for e in self.graph.edges(NodeIndex::new(n as usize)) {
                for &i in targets.on_edge(e.id().index() as u32) {
                    if !accept(i as usize) {
                        continue;
                    }
                    let Some(t) = targets.snap(i as usize) else { continue };
                    let total = m + self.node_to_snap(t, n);
                    if total <= max_m {
                        candidates.push(Item(total, i));
                    }
                }
            }
            Flow::Go
        });
        if found.len() < limit {
            // The search ran out of nodes (or passed max_m): every candidate left is final.
            finish(f64::INFINITY, &mut candidates, &mut found);
        }
        found
    }

    /// One search from many sources at once (every clinic of a region) to every node: what a
    /// whole region's walks to its nearest source are read from ([`Reach::to`]).
    pub fn reach(&self, sources: &[Snap]) -> Reach {
        self.reach_within(sources, f64::INFINITY)
    }

    /// [`WalkNetwork::reach`], settling only the nodes within `max_m` metres of a source (a
    /// 15-minute circle needs nothing further).
    pub fn reach_within(&self, sources: &[Snap], max_m: f64) -> Reach {
        let mut labels = vec![
            Label {
                m: f64::INFINITY,
                via: NONE,
                source: NONE,
            };
            self.node_count()
        ];
        let seeds = sources
            .iter()
            .enumerate()
            .flat_map(|(i, s)| self.seeds(s).map(|(n, m)| (n, m, i as u32)));
        self.search(&mut labels, seeds, &mut BinaryHeap::new(), |_, m, _| {
            if m > max_m { Flow::Stop } else { Flow::Go }
        });
        // Beyond the limit a label may be provisional: drop it, so no answer exceeds max_m.
        for l in &mut labels {
            if l.m > max_m {
                l.m = f64::INFINITY;
            }
        }
        let mut on_edge: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
        for (i, s) in sources.iter().enumerate() {
            on_edge.entry(s.edge).or_default().push(i as u32);
        }
        Reach {
            labels,
            sources: sources.to_vec(),
            on_edge,
            max_m,
        }
    }
}

/// A walk between two points.
#[derive(Debug, Clone, PartialEq)]
pub struct WalkRoute {
    /// Metres, snap steps included.
    pub metres: f64,
    /// From the first point to the second (lon/lat), through the snapped points and the nodes.
    pub line: LineString<f64>,
}

/// A target found by [`WalkNetwork::nearest`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Found {
    /// Its index in the [`Targets`].
    pub target: usize,
    /// Metres walked, both snap steps included.
    pub metres: f64,
}

/// Every node's walk to its nearest source, from [`WalkNetwork::reach`].
#[derive(Debug, Clone)]
pub struct Reach {
    labels: Vec<Label>,
    sources: Vec<Snap>,
    on_edge: FxHashMap<u32, Vec<u32>>,
    max_m: f64,
}

/// A point's walk to its nearest source.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reached {
    /// Metres walked, both snap steps included.
    pub metres: f64,
    /// The source's index in the slice given to [`WalkNetwork::reach`].
    pub source: usize,
}

impl Reach {
    /// Metres from the nearest source to a node, if any source reaches it (within the limit).
    pub fn node_m(&self, node: u32) -> Option<f64> {
        let l = self.labels.as_slice().get(node as usize)?;
        l.m.is_finite().then_some(l.m)
    }

    /// The nearest source of a snapped point (a building) and the metres to it; None when no
    /// source reaches it (within the limit, for [`WalkNetwork::reach_within`]).
    pub fn to(&self, network: &WalkNetwork, target: &Snap) -> Option<Reached> {
        let (a, b, _) = network.edge(target.edge);
        let mut best: Option<Reached> = None;
        let mut offer = |metres: f64, source: u32| {
            if metres <= self.max_m && best.is_none_or(|b| metres < b.metres) {
                best = Some(Reached {
                    metres,
                    source: source as usize,
                });
            }
        };
        for n in [a, b] {
            let l = self.labels[n as usize];
            if l.m.is_finite() {
                offer(l.m + network.node_to_snap(target, n), l.source);
            }
        }
        for &i in self.on_edge.get(&target.edge).map_or(&[][..], Vec::as_slice) {
            if let Some(m) = network.along(&self.sources[i as usize], target) {
                offer(m, i);
            }
        }
        best
    }
}
