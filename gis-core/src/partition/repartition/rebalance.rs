//! Rebalancing a region by moving the fewest residents across grid borders.

use crate::bounds::SizeBounds;
use crate::partition::search::Graph;
use rustc_hash::FxHashSet;
use std::collections::BTreeSet;

/// Moves as few residents as it can across grid borders until every grid of the region is within
/// the bounds: an oversized grid hands border atoms to the neighbour on the shortest way to a grid
/// with room; an undersized one takes them from the neighbour on the way to a grid with some to
/// spare. A grid never hands back to the grid it took from, no atom moves more than twice, and no
/// move splits a grid in two. Returns whether every grid ends within the bounds.
pub(crate) fn rebalance(
    g: &Graph,
    labels: &mut [usize],
    nl: usize,
    bounds: &SizeBounds,
    compounds: &[Option<String>],
) -> bool {
    let (min, max) = (u64::from(bounds.min), u64::from(bounds.max));
    let n = g.nodes.len();
    let mut size = vec![0u64; nl];
    for v in 0..n {
        size[labels[v]] += g.nodes[v].size;
    }
    let violation = |s: u64| s.saturating_sub(max) + min.saturating_sub(s);
    // No moving fits more residents into the region than its grids can hold.
    let total: u64 = size.iter().sum();
    let used = (0..nl).filter(|&l| size[l] > 0).count() as u64;
    if total > used * max || total < used * min {
        return false;
    }
    let mut moves = vec![0u8; n];
    let mut banned: FxHashSet<(usize, usize)> = FxHashSet::default();
    for _ in 0..(4 * n + 16) {
        let Some(worst) = (0..nl)
            .filter(|&l| violation(size[l]) > 0 && (0..n).any(|v| labels[v] == l))
            .max_by_key(|&l| (violation(size[l]), std::cmp::Reverse(l)))
        else {
            return true;
        };
        let over = size[worst] > max;
        // Label adjacency, as flows may go: (from, to) pairs not banned.
        let mut adj: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); nl];
        for e in &g.edges {
            let (a, b) = (labels[e.a], labels[e.b]);
            if a != b {
                adj[a].insert(b);
                adj[b].insert(a);
            }
        }
        // Breadth-first from the worst grid to the nearest that can absorb (over) or give (under).
        let mut prev = vec![usize::MAX; nl];
        prev[worst] = worst;
        let mut queue = std::collections::VecDeque::from([worst]);
        let mut found = None;
        while let Some(l) = queue.pop_front() {
            if l != worst && (if over { size[l] < max } else { size[l] > min }) {
                found = Some(l);
                break;
            }
            for &m in &adj[l] {
                let (from, to) = if over { (l, m) } else { (m, l) };
                if prev[m] == usize::MAX && !banned.contains(&(from, to)) {
                    prev[m] = l;
                    queue.push_back(m);
                }
            }
        }
        let Some(found) = found else { return false };
        let mut end = found;
        while prev[end] != worst {
            end = prev[end];
        }
        // A direct neighbour with room takes (or gives) only what it can without going out of
        // bounds itself; a grid on the way passes the whole amount on.
        let (from, to, need) = match (over, end == found) {
            (true, true) => (worst, end, (size[worst] - max).min(max - size[end])),
            (true, false) => (worst, end, size[worst] - max),
            (false, true) => (end, worst, (min - size[worst]).min(size[end] - min)),
            (false, false) => (end, worst, min - size[worst]),
        };
        let moved = shift(g, labels, &mut size, from, to, need, compounds, &mut moves);
        if moved == 0 {
            return false;
        }
        banned.insert((to, from));
    }
    (0..nl).all(|l| violation(size[l]) == 0)
}

/// Moves border atoms of `from` into `to` until `need` is moved: atoms that fit the need first,
/// those sharing most border with `to` (and its compounds) first among them. Returns the size
/// moved.
#[allow(clippy::too_many_arguments)]
fn shift(
    g: &Graph,
    labels: &mut [usize],
    size: &mut [u64],
    from: usize,
    to: usize,
    need: u64,
    compounds: &[Option<String>],
    moves: &mut [u8],
) -> u64 {
    let mut moved = 0;
    while moved < need {
        let members: Vec<usize> = (0..labels.len()).filter(|&v| labels[v] == from).collect();
        if members.len() <= 1 {
            break;
        }
        let mut best: Option<(bool, f64, u64, usize)> = None;
        for &v in &members {
            if moves[v] >= 2 {
                continue;
            }
            let (mut to_border, mut from_border, mut same_compound) = (0.0, 0.0, false);
            for &(u, e) in g.neighbours(v) {
                if labels[u] == to {
                    to_border += g.edges[e].length_m;
                    same_compound |= compounds[u].is_some() && compounds[u] == compounds[v];
                } else if labels[u] == from {
                    from_border += g.edges[e].length_m;
                }
            }
            if to_border == 0.0 {
                continue;
            }
            let rest: Vec<usize> = members.iter().copied().filter(|&m| m != v).collect();
            if g.components(&rest).len() != 1 {
                continue;
            }
            let fits = g.nodes[v].size <= need - moved;
            let score = to_border - from_border + if same_compound { 50.0 } else { 0.0 };
            let key = (fits, score, g.nodes[v].size, v);
            let better = match best {
                None => true,
                Some((bf, bs, bsize, _)) => {
                    if fits != bf {
                        fits
                    } else if fits {
                        score > bs
                    } else {
                        g.nodes[v].size < bsize
                    }
                }
            };
            if better {
                best = Some(key);
            }
        }
        let Some((_, _, s, v)) = best else { break };
        labels[v] = to;
        moves[v] += 1;
        size[from] -= s;
        size[to] += s;
        moved += s;
    }
    moved
}
