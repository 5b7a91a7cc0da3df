//! The search for grids on a community's atom graph: recursive bisection along random spanning
//! trees (cuts chosen so both sides admit a feasible number of grids), then merge-and-resplit
//! refinement of neighbouring grids for compactness and for borders on roads and compound lines.
//!
//! Every step keeps each grid connected and inside the bounds; every loop is bounded, so a
//! search always ends with the best plan found.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

/// A node to place: one atom or several atoms kept together (a compound).
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub size: u64,
    pub area_m2: f64,
    /// Border on the community line.
    pub outer_m: f64,
}

#[derive(Debug, Clone)]
pub(crate) struct Edge {
    pub a: usize,
    pub b: usize,
    pub length_m: f64,
    /// Length that runs along a road or a compound line: a good place for a grid border.
    pub guided_m: f64,
}

pub(crate) struct Graph {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    /// For each node, (neighbour, edge index).
    adj: Vec<Vec<(usize, usize)>>,
}

impl Graph {
    pub fn new(nodes: Vec<Node>, edges: Vec<Edge>) -> Self {
        let mut adj = vec![Vec::new(); nodes.len()];
        for (i, e) in edges.iter().enumerate() {
            adj[e.a].push((e.b, i));
            adj[e.b].push((e.a, i));
        }
        Self { nodes, edges, adj }
    }

    pub fn neighbours(&self, n: usize) -> &[(usize, usize)] {
        &self.adj[n]
    }

    /// Connected components of the nodes in `set` (sorted node lists, sorted by first node).
    pub fn components(&self, set: &[usize]) -> Vec<Vec<usize>> {
        let mut member = vec![false; self.nodes.len()];
        for &n in set {
            member[n] = true;
        }
        let mut seen = vec![false; self.nodes.len()];
        let mut out = Vec::new();
        for &start in set {
            if seen[start] {
                continue;
            }
            seen[start] = true;
            let mut comp = vec![start];
            let mut i = 0;
            while i < comp.len() {
                for &(m, _) in &self.adj[comp[i]] {
                    if member[m] && !seen[m] {
                        seen[m] = true;
                        comp.push(m);
                    }
                }
                i += 1;
            }
            comp.sort_unstable();
            out.push(comp);
        }
        out
    }
}

/// Bounds on the size of one part.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Band {
    pub min: u64,
    pub max: u64,
}

impl Band {
    fn holds(&self, size: u64, k: u64) -> bool {
        size >= self.min * k && size <= self.max.saturating_mul(k)
    }
}

/// Budgets that bound the search.
const TREES_PER_SPLIT: usize = 64;
/// Regions up to this many nodes get every draw; larger ones proportionally fewer, down to
/// `MIN_TREES_PER_SPLIT`, so a split costs about the same whatever the atoms' size.
const SPLIT_NODES_FULL_BUDGET: usize = 256;
const MIN_TREES_PER_SPLIT: usize = 8;
const REFINE_ROUNDS_PER_PART: usize = 100;
/// Refinement ends after this many tries per part in a row bring no gain.
const REFINE_PATIENCE_PER_PART: usize = 6;
const TREES_PER_REFINE: usize = 24;
/// Spanning trees one search may draw in all: a hard stop for hopeless bounds.
const TREE_BUDGET: usize = 20_000;
/// Weight of balance against compactness when choosing a cut that will be split again.
const IMBALANCE_WEIGHT: f64 = 2.0;

pub(crate) struct Search<'g> {
    g: &'g Graph,
    band: Band,
    rng: ChaCha8Rng,
    trees_left: usize,
}

impl<'g> Search<'g> {
    pub fn new(g: &'g Graph, band: Band, rng: ChaCha8Rng) -> Self {
        Self {
            g,
            band,
            rng,
            trees_left: TREE_BUDGET,
        }
    }

    pub fn set_band(&mut self, band: Band) {
        self.band = band;
        self.trees_left = TREE_BUDGET;
    }

    /// Splits the connected `region` into `k` connected parts within the band, or None.
    pub fn split(&mut self, region: &[usize], k: u64) -> Option<Vec<Vec<usize>>> {
        let size: u64 = region.iter().map(|&n| self.g.nodes[n].size).sum();
        if !self.band.holds(size, k) {
            return None;
        }
        if k == 1 {
            return Some(vec![region.to_vec()]);
        }
        // Big regions of small atoms (thousands of houses) get fewer draws: each draw already
        // offers thousands of feasible cuts, and refinement polishes the borders after.
        let trees = (TREES_PER_SPLIT * SPLIT_NODES_FULL_BUDGET / region.len().max(1))
            .clamp(MIN_TREES_PER_SPLIT, TREES_PER_SPLIT);
        let mut cuts = self.bisections(region, k, trees);
        for (side, k1) in cuts.best(self.g, region, 8) {
            let mut in_side = vec![false; self.g.nodes.len()];
            side.iter().for_each(|&n| in_side[n] = true);
            let rest: Vec<usize> = region.iter().copied().filter(|&n| !in_side[n]).collect();
            let Some(mut a) = self.split(&side, k1) else { continue };
            let Some(b) = self.split(&rest, k - k1) else { continue };
            a.extend(b);
            return Some(a);
        }
        None
    }

    /// Candidate cuts of a region into a side of k1 parts and the rest, from `trees` random
    /// spanning trees and as many compact growths. Each cut is costed in O(1) from sums kept per
    /// subtree or per growth step, and only the best few are ever listed node by node: on a
    /// community of thousands of small houses almost every subtree is a feasible cut.
    ///
    /// The random draws are taken in order from the one generator, then the draws are costed in
    /// parallel and their cuts listed in draw order: the answer is the same on any number of
    /// cores, and the same as drawing and costing one by one.
    fn bisections(&mut self, region: &[usize], k: u64, trees: usize) -> Cuts {
        let sums = RegionSums::new(self.g, region);
        let mut out = Cuts::default();
        let mut draws = Vec::with_capacity(trees);
        for attempt in 0..trees {
            if self.trees_left == 0 {
                break;
            }
            self.trees_left -= 1;
            // Half the attempts grow a compact region from a random seed instead: trees reach
            // every connected bipartition in principle, growth finds the compact ones often.
            let draw = if attempt % 2 == 1 {
                let jitter: Vec<f64> = (0..region.len()).map(|_| 0.5 + self.rng.random::<f64>()).collect();
                Draw::Grow {
                    jitter,
                    start: self.rng.random_range(0..region.len()),
                }
            } else {
                Draw::Tree((0..sums.inner_edges.len()).map(|_| self.rng.random::<u32>()).collect())
            };
            if attempt == 0 {
                // The first tree spans only a connected region; without one there is no
                // bisection, and no further draw is taken.
                let Draw::Tree(keys) = &draw else {
                    unreachable!("the first draw is a tree")
                };
                let tree = random_tree(region.len(), &sums.inner_edges, keys);
                if !self.tree_cuts(region, k, &sums, &tree, &mut out) {
                    return out;
                }
                continue;
            }
            draws.push(draw);
        }
        let costed: Vec<Cuts> = draws
            .into_par_iter()
            .map(|draw| {
                let mut cuts = Cuts::default();
                match draw {
                    Draw::Tree(keys) => {
                        let tree = random_tree(region.len(), &sums.inner_edges, &keys);
                        self.tree_cuts(region, k, &sums, &tree, &mut cuts);
                    }
                    Draw::Grow { jitter, start } => self.grow(region, k, &sums, &jitter, start, &mut cuts),
                }
                cuts
            })
            .collect();
        for cuts in costed {
            let offset = out.sources.len() as u32;
            out.cuts.extend(cuts.cuts.into_iter().map(|c| Cut {
                source: c.source + offset,
                ..c
            }));
            out.sources.extend(cuts.sources);
        }
        out
    }

    /// Every feasible subtree cut of one spanning tree. False if the tree does not span.
    fn tree_cuts(
        &self,
        region: &[usize],
        k: u64,
        sums: &RegionSums,
        tree: &(Vec<u32>, Vec<u32>),
        out: &mut Cuts,
    ) -> bool {
        let n = region.len();
        // Preorder from the root 0: every subtree is a contiguous run of `order`.
        let mut parent = vec![usize::MAX; n];
        let mut order = Vec::with_capacity(n);
        let mut stack = vec![0usize];
        parent[0] = 0;
        let (offsets, next) = tree;
        while let Some(v) = stack.pop() {
            order.push(v);
            for &w in &next[offsets[v] as usize..offsets[v + 1] as usize] {
                let w = w as usize;
                if parent[w] == usize::MAX {
                    parent[w] = v;
                    stack.push(w);
                }
            }
        }
        if order.len() != n {
            return false;
        }
        let mut pos = vec![0usize; n];
        for (i, &v) in order.iter().enumerate() {
            pos[v] = i;
        }
        // Edge weight counted inside a subtree once both ends are: at the ends' lowest common
        // ancestor (binary lifting over the preorder).
        let levels = (usize::BITS - n.leading_zeros()) as usize;
        // up[j * n + v]: the 2^j-th ancestor of v (the root is its own).
        let mut up = Vec::with_capacity(levels * n);
        up.extend_from_slice(&parent);
        for j in 1..levels {
            for v in 0..n {
                let half = up[(j - 1) * n + v];
                up.push(up[(j - 1) * n + half]);
            }
        }
        let mut count = vec![1usize; n];
        for &v in order.iter().rev() {
            if v != 0 {
                count[parent[v]] += count[v];
            }
        }
        let is_ancestor = |a: usize, b: usize| pos[a] <= pos[b] && pos[b] < pos[a] + count[a];
        let lca = |a: usize, b: usize| {
            if is_ancestor(a, b) {
                return a;
            }
            let mut x = a;
            for j in (0..levels).rev() {
                if !is_ancestor(up[j * n + x], b) {
                    x = up[j * n + x];
                }
            }
            parent[x]
        };
        let mut inner = vec![0.0f64; n];
        for &(a, b, w) in &sums.inner_edges {
            inner[lca(a, b)] += w;
        }
        // Subtree sums, children before parents.
        let mut size = vec![0u64; n];
        let mut area = vec![0.0f64; n];
        let mut degree = vec![0.0f64; n];
        let mut outer = vec![0.0f64; n];
        let mut away = vec![0.0f64; n];
        for &v in order.iter().rev() {
            size[v] += sums.size[v];
            area[v] += sums.area[v];
            degree[v] += sums.degree[v];
            outer[v] += sums.outer[v];
            away[v] += sums.away[v];
            if v != 0 {
                let p = parent[v];
                size[p] += size[v];
                area[p] += area[v];
                degree[p] += degree[v];
                outer[p] += outer[v];
                away[p] += away[v];
                inner[p] += inner[v];
            }
        }
        let source = out.sources.len() as u32;
        let mut any = false;
        for v in 1..n {
            let perimeter = degree[v] - 2.0 * inner[v];
            for k1 in 1..k {
                if self.band.holds(size[v], k1) && self.band.holds(sums.total - size[v], k - k1) {
                    let cost = sums.cost(perimeter, outer[v], away[v], area[v])
                        + self.imbalance(size[v], k1)
                        + self.imbalance(sums.total - size[v], k - k1);
                    out.cuts.push(Cut {
                        cost,
                        k1,
                        source,
                        at: v as u32,
                    });
                    any = true;
                }
            }
        }
        if any {
            out.sources.push(Source::Tree { order, pos, count });
        }
        true
    }

    /// Grows a connected set from a random node, each step taking the frontier node sharing the
    /// most border with the set (jittered), and records every prefix whose size is feasible;
    /// whether the rest stays connected is checked only for the cuts that are listed.
    fn grow(&self, region: &[usize], k: u64, sums: &RegionSums, jitter: &[f64], start: usize, out: &mut Cuts) {
        let n = region.len();
        let mut in_set = vec![false; n];
        let mut shared = vec![0.0f64; n];
        let mut set = vec![start];
        in_set[start] = true;
        let mut size = sums.size[start];
        let (mut area, mut perimeter, mut outer, mut away) = (
            sums.area[start],
            sums.degree[start],
            sums.outer[start],
            sums.away[start],
        );
        // The frontier as a max-heap on shared border × jitter; an entry whose node has since
        // gained border (or joined) is stale and skipped.
        let mut frontier: std::collections::BinaryHeap<Frontier> = std::collections::BinaryHeap::new();
        let source = out.sources.len() as u32;
        let mut any = false;
        let touch =
            |x: usize, frontier: &mut std::collections::BinaryHeap<Frontier>, shared: &mut [f64], in_set: &[bool]| {
                for &(m, length, _) in sums.links(x) {
                    let m = m as usize;
                    if !in_set[m] {
                        shared[m] += length.max(1e-6);
                        frontier.push(Frontier {
                            priority: shared[m] * jitter[m],
                            node: m,
                        });
                    }
                }
            };
        touch(start, &mut frontier, &mut shared, &in_set);
        while size < sums.total {
            for k1 in 1..k {
                if self.band.holds(size, k1) && self.band.holds(sums.total - size, k - k1) {
                    let cost = sums.cost(perimeter, outer, away, area)
                        + self.imbalance(size, k1)
                        + self.imbalance(sums.total - size, k - k1);
                    out.cuts.push(Cut {
                        cost,
                        k1,
                        source,
                        at: set.len() as u32,
                    });
                    any = true;
                }
            }
            if size > self.band.max.saturating_mul(k - 1) {
                break;
            }
            let mut next = None;
            while let Some(top) = frontier.pop() {
                if !in_set[top.node] && top.priority == shared[top.node] * jitter[top.node] {
                    next = Some(top.node);
                    break;
                }
            }
            let Some(next) = next else { break };
            // The set's border gains the new node's edges, less twice those it shares with the set.
            let joined: f64 = sums
                .links(next)
                .iter()
                .filter(|&&(m, _, _)| in_set[m as usize])
                .map(|&(_, _, w)| w)
                .sum();
            in_set[next] = true;
            set.push(next);
            size += sums.size[next];
            area += sums.area[next];
            perimeter += sums.degree[next] - 2.0 * joined;
            outer += sums.outer[next];
            away += sums.away[next];
            touch(next, &mut frontier, &mut shared, &in_set);
        }
        if any {
            out.sources.push(Source::Grow { order: set });
        }
    }

    /// How far a side of `k` parts is from the middle of the band, squared: sides near the middle
    /// leave the most room to split them further. Zero for a final part (k = 1) or a relaxed band.
    fn imbalance(&self, size: u64, k: u64) -> f64 {
        if k <= 1 || self.band.max == u64::MAX || self.band.max <= self.band.min {
            return 0.0;
        }
        let mid = (self.band.min + self.band.max) as f64 / 2.0;
        let half = (self.band.max - self.band.min) as f64 / 2.0;
        let off = (size as f64 / k as f64 - mid) / half;
        IMBALANCE_WEIGHT * off * off
    }

    /// P²/(4πA) of a part (1 for a disc), with guided border counted at half its length.
    pub fn part_cost(&self, part: &[usize]) -> f64 {
        let mut member = vec![false; self.g.nodes.len()];
        part.iter().for_each(|&n| member[n] = true);
        let (mut area, mut perimeter) = (0.0, 0.0);
        for &n in part {
            let node = &self.g.nodes[n];
            area += node.area_m2;
            perimeter += node.outer_m;
            for &(m, e) in self.g.neighbours(n) {
                if !member[m] {
                    let e = &self.g.edges[e];
                    perimeter += e.length_m - 0.25 * e.guided_m;
                }
            }
        }
        if area <= 0.0 {
            return f64::INFINITY;
        }
        perimeter * perimeter / (4.0 * std::f64::consts::PI * area)
    }

    /// Improves a plan by merging two neighbouring parts and re-splitting them the best way
    /// found, when that lowers their cost. Parts stay connected and within the band.
    pub fn refine(&mut self, parts: &mut [Vec<usize>]) {
        if parts.len() < 2 {
            return;
        }
        let mut part_of = vec![usize::MAX; self.g.nodes.len()];
        for (i, p) in parts.iter().enumerate() {
            p.iter().for_each(|&n| part_of[n] = i);
        }
        self.trees_left = TREE_BUDGET;
        let rounds = REFINE_ROUNDS_PER_PART * parts.len();
        // Stop early once every pair has had a few tries without gain: on thousands of small
        // atoms most of the rounds' time goes to pairs that are already as good as found.
        let patience = REFINE_PATIENCE_PER_PART * parts.len();
        let mut stale = 0;
        for _ in 0..rounds {
            if stale >= patience {
                break;
            }
            // A random border edge picks the pair.
            let e = &self.g.edges[self.rng.random_range(0..self.g.edges.len())];
            let (i, j) = (part_of[e.a], part_of[e.b]);
            if i == j || i == usize::MAX || j == usize::MAX {
                continue;
            }
            stale += 1;
            let before = self.part_cost(&parts[i]) + self.part_cost(&parts[j]);
            let mut region: Vec<usize> = parts[i].iter().chain(&parts[j]).copied().collect();
            region.sort_unstable();
            let mut cuts = self.bisections(&region, 2, TREES_PER_REFINE);
            if let Some((cost, side)) = cuts.cheapest(self.g, &region)
                && cost < before - 1e-9
            {
                let mut in_side = vec![false; self.g.nodes.len()];
                side.iter().for_each(|&n| in_side[n] = true);
                let rest: Vec<usize> = region.iter().copied().filter(|&n| !in_side[n]).collect();
                side.iter().for_each(|&n| part_of[n] = i);
                rest.iter().for_each(|&n| part_of[n] = j);
                parts[i] = side;
                parts[j] = rest;
                stale = 0;
            }
        }
    }
}

/// A border edge's weight in the cost: its length, with border along a road or compound line
/// counted at three quarters.
/// A random spanning tree of the region (Kruskal on the random weights `keys`, one per edge) as adjacency in
/// compressed rows of region-local indices: (offsets, neighbours).
fn random_tree(n: usize, edges: &[(usize, usize, f64)], keys: &[u32]) -> (Vec<u32>, Vec<u32>) {
    // (key, edge) packed in one u64: the same order as the pair, sorted faster.
    let mut weighted: Vec<u64> = keys
        .iter()
        .zip(0..edges.len() as u64)
        .map(|(&r, e)| (u64::from(r) << 32) | e)
        .collect();
    weighted.sort_unstable();
    // Union by size with path halving.
    let mut uf: Vec<u32> = (0..n as u32).collect();
    let mut members = vec![1u32; n];
    fn find(uf: &mut [u32], mut x: u32) -> u32 {
        while uf[x as usize] != x {
            uf[x as usize] = uf[uf[x as usize] as usize];
            x = uf[x as usize];
        }
        x
    }
    let mut chosen: Vec<(u32, u32)> = Vec::with_capacity(n.saturating_sub(1));
    for packed in weighted {
        let (a, b, _) = edges[(packed & u64::from(u32::MAX)) as usize];
        let (mut ra, mut rb) = (find(&mut uf, a as u32), find(&mut uf, b as u32));
        if ra != rb {
            if members[ra as usize] > members[rb as usize] {
                std::mem::swap(&mut ra, &mut rb);
            }
            uf[ra as usize] = rb;
            members[rb as usize] += members[ra as usize];
            chosen.push((a as u32, b as u32));
            if chosen.len() + 1 == n {
                break;
            }
        }
    }
    let mut offsets = vec![0u32; n + 1];
    for &(a, b) in &chosen {
        offsets[a as usize + 1] += 1;
        offsets[b as usize + 1] += 1;
    }
    for i in 0..n {
        offsets[i + 1] += offsets[i];
    }
    let mut fill = offsets.clone();
    let mut next = vec![0u32; 2 * chosen.len()];
    for &(a, b) in &chosen {
        next[fill[a as usize] as usize] = b;
        fill[a as usize] += 1;
        next[fill[b as usize] as usize] = a;
        fill[b as usize] += 1;
    }
    (offsets, next)
}

/// One attempt's randomness, drawn in order before the attempts are costed in parallel.
enum Draw {
    /// Random weights, one per inner edge, for a spanning tree.
    Tree(Vec<u32>),
    /// Jitter per node and a start node for a growth.
    Grow { jitter: Vec<f64>, start: usize },
}

fn weight(e: &Edge) -> f64 {
    e.length_m - 0.25 * e.guided_m
}

fn isoperimetric(perimeter: f64, area: f64) -> f64 {
    if area <= 0.0 {
        return f64::INFINITY;
    }
    perimeter * perimeter / (4.0 * std::f64::consts::PI * area)
}

/// Per-node sums over one region (nodes numbered locally, in region order) from which the cost
/// of any cut follows in O(1): a set's perimeter is the sum of its nodes' `degree` less twice the
/// weight of the edges inside it.
struct RegionSums {
    /// The same edges as (local a, local b, weight).
    inner_edges: Vec<(usize, usize, f64)>,
    /// Per local node, in compressed rows (one allocation, not one per node: a refinement round
    /// builds these sums for every try): neighbours in the region as (neighbour, border length,
    /// weight), node i's in `links[link_at[i]..link_at[i + 1]]`.
    link_at: Vec<u32>,
    links: Vec<(u32, f64, f64)>,
    size: Vec<u64>,
    area: Vec<f64>,
    /// Border on the community line.
    outer: Vec<f64>,
    /// Outer border plus the weight of every edge: the node's perimeter alone.
    degree: Vec<f64>,
    /// Weight of edges to nodes outside the region.
    away: Vec<f64>,
    total: u64,
    total_area: f64,
    total_perimeter: f64,
}

impl RegionSums {
    fn new(g: &Graph, region: &[usize]) -> Self {
        let n = region.len();
        let mut local = vec![usize::MAX; g.nodes.len()];
        for (i, &v) in region.iter().enumerate() {
            local[v] = i;
        }
        let mut s = RegionSums {
            inner_edges: Vec::new(),
            link_at: Vec::with_capacity(n + 1),
            links: Vec::new(),
            size: region.iter().map(|&v| g.nodes[v].size).collect(),
            area: region.iter().map(|&v| g.nodes[v].area_m2).collect(),
            outer: region.iter().map(|&v| g.nodes[v].outer_m).collect(),
            degree: region.iter().map(|&v| g.nodes[v].outer_m).collect(),
            away: vec![0.0; n],
            total: 0,
            total_area: 0.0,
            total_perimeter: 0.0,
        };
        let mut inner_weight = 0.0;
        for (i, &v) in region.iter().enumerate() {
            s.link_at.push(s.links.len() as u32);
            for &(m, e) in g.neighbours(v) {
                let w = weight(&g.edges[e]);
                s.degree[i] += w;
                match local[m] {
                    usize::MAX => s.away[i] += w,
                    j => {
                        s.links.push((j as u32, g.edges[e].length_m, w));
                        if v < m {
                            s.inner_edges.push((i, j, w));
                            inner_weight += w;
                        }
                    }
                }
            }
        }
        s.link_at.push(s.links.len() as u32);
        s.total = s.size.iter().sum();
        s.total_area = s.area.iter().sum();
        s.total_perimeter = s.degree.iter().sum::<f64>() - 2.0 * inner_weight;
        s
    }

    /// Node i's neighbours in the region: (neighbour, border length, weight).
    fn links(&self, i: usize) -> &[(u32, f64, f64)] {
        &self.links[self.link_at[i] as usize..self.link_at[i + 1] as usize]
    }

    /// Cost of cutting the region into a side (with these sums) and the rest: both parts'
    /// isoperimetric quotients, as `Search::part_cost` would give them.
    fn cost(&self, perimeter: f64, outer: f64, away: f64, area: f64) -> f64 {
        // The cut between side and rest is the side's border less its outer and outside parts.
        let cut = perimeter - outer - away;
        let rest = self.total_perimeter - perimeter + 2.0 * cut;
        isoperimetric(perimeter, area) + isoperimetric(rest, self.total_area - area)
    }
}

/// A frontier node of a growth, by priority (ties to the lower node, for determinism).
struct Frontier {
    priority: f64,
    node: usize,
}

impl PartialEq for Frontier {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o).is_eq()
    }
}
impl Eq for Frontier {}
impl PartialOrd for Frontier {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Frontier {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.priority.total_cmp(&o.priority).then(o.node.cmp(&self.node))
    }
}

/// A candidate cut, costed but not yet listed node by node.
struct Cut {
    cost: f64,
    k1: u64,
    source: u32,
    /// The subtree's root (tree) or the prefix length (growth).
    at: u32,
}

enum Source {
    /// A spanning tree in preorder: the subtree of v is `order[pos[v]..pos[v] + count[v]]`.
    Tree {
        order: Vec<usize>,
        pos: Vec<usize>,
        count: Vec<usize>,
    },
    /// A growth: a prefix of `order` is the side.
    Grow { order: Vec<usize> },
}

#[derive(Default)]
struct Cuts {
    cuts: Vec<Cut>,
    sources: Vec<Source>,
}

impl Cuts {
    /// The side of a cut as sorted graph nodes, or None where the rest would come apart.
    fn side(&self, g: &Graph, region: &[usize], cut: &Cut) -> Option<Vec<usize>> {
        let local: Vec<usize> = match &self.sources[cut.source as usize] {
            Source::Tree { order, pos, count } => {
                let v = cut.at as usize;
                order[pos[v]..pos[v] + count[v]].to_vec()
            }
            Source::Grow { order } => order[..cut.at as usize].to_vec(),
        };
        let mut side: Vec<usize> = local.iter().map(|&i| region[i]).collect();
        side.sort_unstable();
        if matches!(self.sources[cut.source as usize], Source::Grow { .. }) {
            let mut in_side = vec![false; region.len()];
            local.iter().for_each(|&i| in_side[i] = true);
            let rest: Vec<usize> = (0..region.len()).filter(|&i| !in_side[i]).map(|i| region[i]).collect();
            if g.components(&rest).len() != 1 {
                return None;
            }
        }
        Some(side)
    }

    fn order(a: &Cut, b: &Cut) -> std::cmp::Ordering {
        a.cost
            .total_cmp(&b.cost)
            .then(a.source.cmp(&b.source))
            .then(a.at.cmp(&b.at))
            .then(a.k1.cmp(&b.k1))
    }

    /// Up to `max` distinct cuts, cheapest first, as (side, k1).
    fn best(&mut self, g: &Graph, region: &[usize], max: usize) -> Vec<(Vec<usize>, u64)> {
        self.cuts.sort_unstable_by(Self::order);
        let mut out: Vec<(Vec<usize>, u64)> = Vec::new();
        for cut in &self.cuts {
            if out.len() == max {
                break;
            }
            let Some(side) = self.side(g, region, cut) else {
                continue;
            };
            if !out.iter().any(|(s, _)| *s == side) {
                out.push((side, cut.k1));
            }
        }
        out
    }

    /// The cheapest cut whose parts are both connected, as (cost, side).
    fn cheapest(&mut self, g: &Graph, region: &[usize]) -> Option<(f64, Vec<usize>)> {
        loop {
            let i = (0..self.cuts.len()).min_by(|&i, &j| Self::order(&self.cuts[i], &self.cuts[j]))?;
            if !self.cuts[i].cost.is_finite() {
                return None;
            }
            if let Some(side) = self.side(g, region, &self.cuts[i]) {
                return Some((self.cuts[i].cost, side));
            }
            self.cuts.swap_remove(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// A w × h lattice of unit squares, each of `size`.
    fn lattice(w: usize, h: usize, size: u64) -> Graph {
        let nodes = (0..w * h)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                let border = [x == 0, x == w - 1, y == 0, y == h - 1].iter().filter(|b| **b).count();
                Node {
                    size,
                    area_m2: 1.0,
                    outer_m: border as f64,
                }
            })
            .collect();
        let mut edges = Vec::new();
        for y in 0..h {
            for x in 0..w {
                let i = y * w + x;
                if x + 1 < w {
                    edges.push(Edge {
                        a: i,
                        b: i + 1,
                        length_m: 1.0,
                        guided_m: 0.0,
                    });
                }
                if y + 1 < h {
                    edges.push(Edge {
                        a: i,
                        b: i + w,
                        length_m: 1.0,
                        guided_m: 0.0,
                    });
                }
            }
        }
        Graph::new(nodes, edges)
    }

    #[test]
    fn splits_a_lattice_into_connected_parts_within_bounds() {
        let g = lattice(10, 10, 100); // 10,000 in all
        let mut s = Search::new(&g, Band { min: 1500, max: 2000 }, ChaCha8Rng::seed_from_u64(7));
        let all: Vec<usize> = (0..100).collect();
        let mut parts = s.split(&all, 6).expect("a plan");
        s.refine(&mut parts);
        assert_eq!(parts.len(), 6);
        let mut seen = [false; 100];
        for p in &parts {
            let size: u64 = p.iter().map(|&n| g.nodes[n].size).sum();
            assert!((1500..=2000).contains(&size), "{size}");
            assert_eq!(g.components(p).len(), 1, "part is connected");
            p.iter().for_each(|&n| {
                assert!(!seen[n]);
                seen[n] = true
            });
        }
        assert!(seen.iter().all(|&s| s));
    }

    #[test]
    fn cut_costs_from_sums_match_part_costs() {
        // Guided edges and outer borders make the weights uneven.
        let mut g = lattice(9, 7, 40);
        for (i, e) in g.edges.iter_mut().enumerate() {
            e.length_m = 1.0 + (i % 5) as f64 * 0.3;
            e.guided_m = if i % 3 == 0 { e.length_m } else { 0.0 };
        }
        let g = Graph::new(g.nodes, g.edges);
        // A region that leaves some nodes outside, so edges leave it.
        let region: Vec<usize> = (0..63).filter(|&n| n % 9 != 8).collect();
        let mut s = Search::new(&g, Band { min: 300, max: 1400 }, ChaCha8Rng::seed_from_u64(3));
        let mut cuts = s.bisections(&region, 2, 16);
        assert!(cuts.cuts.len() > 20, "{} cuts", cuts.cuts.len());
        let listed = cuts.best(&g, &region, usize::MAX);
        assert!(!listed.is_empty());
        for cut in &cuts.cuts {
            let Some(side) = cuts.side(&g, &region, cut) else {
                continue;
            };
            let rest: Vec<usize> = region
                .iter()
                .copied()
                .filter(|n| side.binary_search(n).is_err())
                .collect();
            let expect = s.part_cost(&side)
                + s.part_cost(&rest)
                + s.imbalance(side.iter().map(|&n| g.nodes[n].size).sum(), cut.k1)
                + s.imbalance(rest.iter().map(|&n| g.nodes[n].size).sum(), 2 - cut.k1);
            assert!(
                (cut.cost - expect).abs() < 1e-9 * expect.max(1.0),
                "{} vs {expect}",
                cut.cost
            );
            assert_eq!(g.components(&side).len(), 1);
            assert_eq!(g.components(&rest).len(), 1);
        }
    }

    #[test]
    fn impossible_bounds_give_none_quickly() {
        let g = lattice(3, 1, 1000);
        let mut s = Search::new(&g, Band { min: 1500, max: 2000 }, ChaCha8Rng::seed_from_u64(1));
        assert!(s.split(&[0, 1, 2], 2).is_none()); // parts of 1000 or 2000 only: 1000+2000 fails min
    }
}
