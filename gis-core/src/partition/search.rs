//! The search for grids on a community's atom graph: recursive bisection along random spanning
//! trees (cuts chosen so both sides admit a feasible number of grids), then merge-and-resplit
//! refinement of neighbouring grids for compactness and for borders on roads and compound lines.
//!
//! Every step keeps each grid connected and inside the bounds; every loop is bounded, so a
//! search always ends with the best plan found.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

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
const REFINE_ROUNDS_PER_PART: usize = 100;
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
        Self { g, band, rng, trees_left: TREE_BUDGET }
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
        let mut candidates = self.bisections(region, k, TREES_PER_SPLIT);
        candidates.sort_by(|a, b| a.0.total_cmp(&b.0));
        candidates.dedup_by(|a, b| a.1 == b.1);
        for (_, side, k1) in candidates.into_iter().take(8) {
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

    /// Candidate cuts of a region into a side of k1 parts and the rest, each as
    /// (cost, sorted side, k1), from `trees` random spanning trees.
    fn bisections(&mut self, region: &[usize], k: u64, trees: usize) -> Vec<(f64, Vec<usize>, u64)> {
        let total: u64 = region.iter().map(|&n| self.g.nodes[n].size).sum();
        let mut local = BTreeMap::new();
        for (i, &n) in region.iter().enumerate() {
            local.insert(n, i);
        }
        let region_edges: Vec<usize> = region
            .iter()
            .flat_map(|&n| self.g.neighbours(n).iter().filter(move |&&(m, _)| n < m).map(|&(_, e)| e))
            .filter(|&e| local.contains_key(&self.g.edges[e].a) && local.contains_key(&self.g.edges[e].b))
            .collect();
        let mut out = Vec::new();
        for attempt in 0..trees {
            if self.trees_left == 0 {
                break;
            }
            self.trees_left -= 1;
            // Half the attempts grow a compact region from a random seed instead: trees reach
            // every connected bipartition in principle, growth finds the compact ones often.
            if attempt % 2 == 1 {
                self.grow(region, k, total, &mut out);
                continue;
            }
            let tree = self.random_tree(region, &local, &region_edges);
            // Root at 0; children lists; post-order subtree sizes.
            let n = region.len();
            let mut parent = vec![usize::MAX; n];
            let mut order = Vec::with_capacity(n);
            let mut stack = vec![0usize];
            parent[0] = 0;
            while let Some(v) = stack.pop() {
                order.push(v);
                for &w in &tree[v] {
                    if parent[w] == usize::MAX {
                        parent[w] = v;
                        stack.push(w);
                    }
                }
            }
            if order.len() != n {
                return out; // the region is not connected: no bisection
            }
            let mut sub = vec![0u64; n];
            for &v in order.iter().rev() {
                sub[v] += self.g.nodes[region[v]].size;
                if v != 0 {
                    sub[parent[v]] += sub[v];
                }
            }
            for v in 1..n {
                for k1 in 1..k {
                    if self.band.holds(sub[v], k1) && self.band.holds(total - sub[v], k - k1) {
                        let side = subtree(&tree, &parent, v, region);
                        let cost = self.cut_cost(&side, region) + self.imbalance(sub[v], k1) + self.imbalance(total - sub[v], k - k1);
                        out.push((cost, side, k1));
                    }
                }
            }
        }
        out
    }

    /// Grows a connected set from a random node, each step taking the frontier node sharing the
    /// most border with the set (jittered), and records every prefix that leaves a feasible,
    /// connected rest.
    fn grow(&mut self, region: &[usize], k: u64, total: u64, out: &mut Vec<(f64, Vec<usize>, u64)>) {
        let n_all = self.g.nodes.len();
        let mut in_region = vec![false; n_all];
        region.iter().for_each(|&n| in_region[n] = true);
        let mut in_set = vec![false; n_all];
        let mut shared = vec![0.0f64; n_all];
        let mut jitter = vec![1.0f64; n_all];
        for &n in region {
            jitter[n] = 0.5 + self.rng.random::<f64>();
        }
        let start = region[self.rng.random_range(0..region.len())];
        let mut set = vec![start];
        in_set[start] = true;
        let mut size = self.g.nodes[start].size;
        let mut frontier: Vec<usize> = Vec::new();
        let touch = |n: usize, frontier: &mut Vec<usize>, shared: &mut [f64], in_set: &[bool]| {
            for &(m, e) in self.g.neighbours(n) {
                if in_region[m] && !in_set[m] {
                    if shared[m] == 0.0 {
                        frontier.push(m);
                    }
                    shared[m] += self.g.edges[e].length_m.max(1e-6);
                }
            }
        };
        touch(start, &mut frontier, &mut shared, &in_set);
        while size < total {
            for k1 in 1..k {
                if self.band.holds(size, k1) && self.band.holds(total - size, k - k1) {
                    let rest: Vec<usize> = region.iter().copied().filter(|&n| !in_set[n]).collect();
                    if self.g.components(&rest).len() == 1 {
                        let mut side = set.clone();
                        side.sort_unstable();
                        let cost = self.cut_cost(&side, region) + self.imbalance(size, k1) + self.imbalance(total - size, k - k1);
                        out.push((cost, side, k1));
                    }
                }
            }
            if size > self.band.max.saturating_mul(k - 1) {
                break;
            }
            let Some(pos) = (0..frontier.len())
                .max_by(|&i, &j| (shared[frontier[i]] * jitter[frontier[i]]).total_cmp(&(shared[frontier[j]] * jitter[frontier[j]])))
            else {
                break;
            };
            let next = frontier.swap_remove(pos);
            in_set[next] = true;
            set.push(next);
            size += self.g.nodes[next].size;
            touch(next, &mut frontier, &mut shared, &in_set);
        }
    }

    /// A random spanning tree of the region (Kruskal on random weights), as adjacency lists of
    /// region-local indices.
    fn random_tree(&mut self, region: &[usize], local: &BTreeMap<usize, usize>, edges: &[usize]) -> Vec<Vec<usize>> {
        let mut weighted: Vec<(u32, usize)> = edges.iter().map(|&e| (self.rng.random::<u32>(), e)).collect();
        weighted.sort_unstable();
        let mut uf: Vec<usize> = (0..region.len()).collect();
        fn find(uf: &mut [usize], mut x: usize) -> usize {
            while uf[x] != x {
                uf[x] = uf[uf[x]];
                x = uf[x];
            }
            x
        }
        let mut tree = vec![Vec::new(); region.len()];
        for (_, e) in weighted {
            let (a, b) = (local[&self.g.edges[e].a], local[&self.g.edges[e].b]);
            let (ra, rb) = (find(&mut uf, a), find(&mut uf, b));
            if ra != rb {
                uf[ra] = rb;
                tree[a].push(b);
                tree[b].push(a);
            }
        }
        tree
    }

    /// How bad a cut is: the isoperimetric cost of both sides, borders on roads and compound
    /// lines counting less.
    fn cut_cost(&self, side: &[usize], region: &[usize]) -> f64 {
        let mut in_side = vec![false; self.g.nodes.len()];
        side.iter().for_each(|&n| in_side[n] = true);
        let rest: Vec<usize> = region.iter().copied().filter(|&n| !in_side[n]).collect();
        self.part_cost(side) + self.part_cost(&rest)
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
        for _ in 0..rounds {
            // A random border edge picks the pair.
            let e = &self.g.edges[self.rng.random_range(0..self.g.edges.len())];
            let (i, j) = (part_of[e.a], part_of[e.b]);
            if i == j || i == usize::MAX || j == usize::MAX {
                continue;
            }
            let before = self.part_cost(&parts[i]) + self.part_cost(&parts[j]);
            let mut region: Vec<usize> = parts[i].iter().chain(&parts[j]).copied().collect();
            region.sort_unstable();
            let best = self
                .bisections(&region, 2, TREES_PER_REFINE)
                .into_iter()
                .min_by(|a, b| a.0.total_cmp(&b.0));
            if let Some((cost, side, _)) = best {
                if cost < before - 1e-9 {
                    let mut in_side = vec![false; self.g.nodes.len()];
                    side.iter().for_each(|&n| in_side[n] = true);
                    let rest: Vec<usize> = region.iter().copied().filter(|&n| !in_side[n]).collect();
                    side.iter().for_each(|&n| part_of[n] = i);
                    rest.iter().for_each(|&n| part_of[n] = j);
                    parts[i] = side;
                    parts[j] = rest;
                }
            }
        }
    }
}

/// The region nodes in the subtree under local index `v`, sorted.
fn subtree(tree: &[Vec<usize>], parent: &[usize], v: usize, region: &[usize]) -> Vec<usize> {
    let mut out = vec![region[v]];
    let mut stack = vec![v];
    while let Some(x) = stack.pop() {
        for &w in &tree[x] {
            if w != parent[x] && parent[w] == x {
                out.push(region[w]);
                stack.push(w);
            }
        }
    }
    out.sort_unstable();
    out
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
                Node { size, area_m2: 1.0, outer_m: border as f64 }
            })
            .collect();
        let mut edges = Vec::new();
        for y in 0..h {
            for x in 0..w {
                let i = y * w + x;
                if x + 1 < w {
                    edges.push(Edge { a: i, b: i + 1, length_m: 1.0, guided_m: 0.0 });
                }
                if y + 1 < h {
                    edges.push(Edge { a: i, b: i + w, length_m: 1.0, guided_m: 0.0 });
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
        let mut seen = vec![false; 100];
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
    fn impossible_bounds_give_none_quickly() {
        let g = lattice(3, 1, 1000);
        let mut s = Search::new(&g, Band { min: 1500, max: 2000 }, ChaCha8Rng::seed_from_u64(1));
        assert!(s.split(&[0, 1, 2], 2).is_none()); // parts of 1000 or 2000 only: 1000+2000 fails min
    }
}
