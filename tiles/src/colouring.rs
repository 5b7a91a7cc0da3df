//! Map colouring for residents: neighbouring grids (sharing a border of positive length, across
//! community lines too) get different colours from the small [`palette::GRID_COLOURS`].
//!
//! Stable by code, so a published version's colours read the same as the last one's wherever
//! the grids allow it: every grid *prefers* a colour derived from its code alone (a fixed hash),
//! and grids are coloured in code order, each taking its preferred colour unless a neighbour
//! with a smaller code already has it, else the next free colour after it. A grid therefore
//! keeps its colour across publishes when it keeps its code and the grids with smaller codes
//! around it keep theirs; a new grid (a new, higher code) adapts to the old ones around it,
//! not they to it. When a grid finds every colour taken around it, a Kempe-chain swap among the
//! grids already coloured frees one (always possible with 6 colours on a planar map, barring
//! grids in several parts); failing that the whole map is coloured smallest-last (at most
//! degeneracy + 1 colours), and past the palette a colour index is reused (never seen on a
//! partition's grids: the test checks Zhongjing and a real OSM import).
//!
//! [`palette::GRID_COLOURS`]: crate::palette::GRID_COLOURS

use geo::{Coord, Line, MultiPolygon};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

/// How far apart (degrees, about 5 cm) two unmatched border segments may lie and still be one
/// border; their overlap must be longer than [`MIN_SHARED`] (about 10 cm), so grids meeting at
/// a corner are not neighbours.
const NEAR: f64 = 5e-7;
const MIN_SHARED: f64 = 1e-6;

/// The neighbours of each area (indices, ascending): areas sharing a border of positive length.
/// A partition's grids share their border vertices exactly, so matching segments by their
/// coordinates' bits finds nearly every border; segments left unmatched (on the outline of a
/// layer, or where hand-drawn or imported borders do not share vertices) are compared
/// geometrically with the unmatched segments near them.
pub fn adjacency(areas: &[&MultiPolygon<f64>]) -> Vec<Vec<usize>> {
    type Key = ((u64, u64), (u64, u64));
    let bits = |c: Coord<f64>| (c.x.to_bits(), c.y.to_bits());
    let mut segments: Vec<(Key, usize, Line<f64>)> = Vec::new();
    for (i, a) in areas.iter().enumerate() {
        for p in &a.0 {
            for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
                for l in ring.lines() {
                    if l.start == l.end {
                        continue;
                    }
                    let (s, e) = (bits(l.start), bits(l.end));
                    segments.push((if s <= e { (s, e) } else { (e, s) }, i, l));
                }
            }
        }
    }
    segments.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    let mut unmatched: Vec<(usize, Line<f64>)> = Vec::new();
    let mut i = 0;
    while i < segments.len() {
        let mut j = i + 1;
        while j < segments.len() && segments[j].0 == segments[i].0 {
            j += 1;
        }
        let run = &segments[i..j];
        let owners = {
            let mut o: Vec<usize> = run.iter().map(|s| s.1).collect();
            o.dedup();
            o
        };
        if owners.len() > 1 {
            for (x, &a) in owners.iter().enumerate() {
                for &b in &owners[x + 1..] {
                    pairs.push((a, b));
                }
            }
        } else {
            unmatched.push((run[0].1, run[0].2));
        }
        i = j;
    }
    let boxes: Vec<GeomWithData<Rectangle<[f64; 2]>, usize>> = unmatched
        .iter()
        .enumerate()
        .map(|(k, (_, l))| {
            GeomWithData::new(
                Rectangle::from_corners(
                    [l.start.x.min(l.end.x) - NEAR, l.start.y.min(l.end.y) - NEAR],
                    [l.start.x.max(l.end.x) + NEAR, l.start.y.max(l.end.y) + NEAR],
                ),
                k,
            )
        })
        .collect();
    let tree = RTree::bulk_load(boxes);
    for (k, (a, l)) in unmatched.iter().enumerate() {
        let env = AABB::from_corners(
            [l.start.x.min(l.end.x), l.start.y.min(l.end.y)],
            [l.start.x.max(l.end.x), l.start.y.max(l.end.y)],
        );
        for hit in tree.locate_in_envelope_intersecting(&env) {
            let (b, m) = unmatched[hit.data];
            if hit.data > k && b != *a && shared(l, &m) > MIN_SHARED {
                pairs.push(((*a).min(b), (*a).max(b)));
            }
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    let mut out = vec![Vec::new(); areas.len()];
    for (a, b) in pairs {
        out[a].push(b);
        out[b].push(a);
    }
    for n in &mut out {
        n.sort_unstable();
    }
    out
}

/// Length of `m` running along `l`: both ends of the overlap within [`NEAR`] of the other line.
fn shared(l: &Line<f64>, m: &Line<f64>) -> f64 {
    let d = l.delta();
    let len = d.x.hypot(d.y);
    if len == 0.0 {
        return 0.0;
    }
    let (ux, uy) = (d.x / len, d.y / len);
    // Along-line position and distance off the line of each end of m.
    let along = |c: Coord<f64>| (c.x - l.start.x) * ux + (c.y - l.start.y) * uy;
    let off = |c: Coord<f64>| ((c.x - l.start.x) * uy - (c.y - l.start.y) * ux).abs();
    if off(m.start) > NEAR || off(m.end) > NEAR {
        return 0.0;
    }
    let (t0, t1) = {
        let (a, b) = (along(m.start), along(m.end));
        (a.min(b), a.max(b))
    };
    (t1.min(len) - t0.max(0.0)).max(0.0)
}

/// FNV-1a: a hash fixed for good (std's hashers may change between Rust releases, and a
/// colour must not).
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The colour (0..`k`) a grid prefers, from its code alone.
pub fn preferred(code: &str, k: usize) -> usize {
    (fnv(code) % k.max(1) as u64) as usize
}

/// Colours `codes[i]`'s area so that no two `neighbours` share one (see the module); `k` is the
/// palette's size. Deterministic: the same codes and neighbours give the same colours, in any
/// input order.
pub fn colour(codes: &[&str], neighbours: &[Vec<usize>], k: usize) -> Vec<usize> {
    let k = k.max(1);
    let n = codes.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| codes[a].cmp(codes[b]).then(a.cmp(&b)));
    let mut colours: Vec<Option<usize>> = vec![None; n];
    for &v in &order {
        let pref = preferred(codes[v], k);
        let taken = |colours: &[Option<usize>], c: usize| neighbours[v].iter().any(|&w| colours[w] == Some(c));
        let free = (0..k).map(|s| (pref + s) % k).find(|&c| !taken(&colours, c));
        let got = free.or_else(|| kempe(v, pref, k, neighbours, &mut colours));
        match got {
            Some(c) => colours[v] = Some(c),
            None => return smallest_last(codes, neighbours, k),
        }
    }
    colours.into_iter().map(|c| c.unwrap_or(0)).collect()
}

/// Frees a colour at `v` by swapping two colours along a Kempe chain among the areas already
/// coloured; the colour freed, or `None` when no chain frees one.
fn kempe(v: usize, pref: usize, k: usize, neighbours: &[Vec<usize>], colours: &mut [Option<usize>]) -> Option<usize> {
    for s in 0..k {
        let a = (pref + s) % k;
        for t in 1..k {
            let b = (a + t) % k;
            // The {a, b} component(s) holding v's neighbours coloured a.
            let mut seen = vec![false; colours.len()];
            let mut stack: Vec<usize> = neighbours[v]
                .iter()
                .copied()
                .filter(|&w| colours[w] == Some(a))
                .collect();
            for &w in &stack {
                seen[w] = true;
            }
            let mut chain = Vec::new();
            while let Some(w) = stack.pop() {
                chain.push(w);
                for &x in &neighbours[w] {
                    if !seen[x] && x != v && (colours[x] == Some(a) || colours[x] == Some(b)) {
                        seen[x] = true;
                        stack.push(x);
                    }
                }
            }
            if neighbours[v].iter().any(|&w| colours[w] == Some(b) && seen[w]) {
                continue;
            }
            for w in chain {
                colours[w] = if colours[w] == Some(a) { Some(b) } else { Some(a) };
            }
            return Some(a);
        }
    }
    None
}

/// Smallest-last greedy colouring (at most degeneracy + 1 colours), ties by code; colours past
/// the palette wrap round.
fn smallest_last(codes: &[&str], neighbours: &[Vec<usize>], k: usize) -> Vec<usize> {
    let n = codes.len();
    let mut degree: Vec<usize> = neighbours.iter().map(Vec::len).collect();
    let mut removed = vec![false; n];
    let mut stack = Vec::with_capacity(n);
    for _ in 0..n {
        let v = (0..n)
            .filter(|&v| !removed[v])
            .min_by(|&a, &b| degree[a].cmp(&degree[b]).then(codes[b].cmp(codes[a])))
            .expect("an area left");
        removed[v] = true;
        stack.push(v);
        for &w in &neighbours[v] {
            degree[w] = degree[w].saturating_sub(1);
        }
    }
    let mut colours: Vec<Option<usize>> = vec![None; n];
    while let Some(v) = stack.pop() {
        let pref = preferred(codes[v], k);
        let c = (0..)
            .map(|s| if s < k { (pref + s) % k } else { s })
            .find(|&c| !neighbours[v].iter().any(|&w| colours[w] == Some(c)))
            .expect("some colour is free");
        colours[v] = Some(c);
    }
    colours.into_iter().map(|c| c.unwrap_or(0) % k).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proper(neighbours: &[Vec<usize>], c: &[usize]) -> bool {
        neighbours
            .iter()
            .enumerate()
            .all(|(v, ns)| ns.iter().all(|&w| c[v] != c[w]))
    }

    #[test]
    fn a_wheel_needs_a_kempe_swap_and_gets_one() {
        // A hub with a ring of 7 around it: 4 colours suffice; with the hub coloured last and 4
        // colours, greedy in code order can be stuck and a chain frees one.
        let codes: Vec<String> = (0..8).map(|i| format!("g{i}")).collect();
        let codes: Vec<&str> = codes.iter().map(String::as_str).collect();
        let mut nb = vec![Vec::new(); 8];
        for i in 0..7 {
            let j = (i + 1) % 7;
            nb[i].push(j);
            nb[j].push(i);
            nb[i].push(7);
            nb[7].push(i);
        }
        for k in [4, 5, 6] {
            let c = colour(&codes, &nb, k);
            assert!(proper(&nb, &c), "k={k}: {c:?}");
            assert!(c.iter().all(|&x| x < k));
        }
    }

    #[test]
    fn colours_follow_codes_not_input_order() {
        let codes = ["a", "b", "c", "d"];
        let nb = vec![vec![1, 2], vec![0, 2, 3], vec![0, 1, 3], vec![1, 2]];
        let c = colour(&codes, &nb, 6);
        let rev_codes = ["d", "c", "b", "a"];
        let rev_nb = vec![vec![1, 2], vec![0, 2, 3], vec![0, 1, 3], vec![1, 2]];
        let r = colour(&rev_codes, &rev_nb, 6);
        assert_eq!(c, vec![r[3], r[2], r[1], r[0]]);
        // The first grid in code order always has its own colour.
        assert_eq!(c[0], preferred("a", 6));
    }

    #[test]
    fn corners_are_not_borders() {
        use geo::polygon;
        let sq = |x: f64, y: f64| {
            MultiPolygon(vec![
                polygon![(x: x, y: y), (x: x + 1.0, y: y), (x: x + 1.0, y: y + 1.0), (x: x, y: y + 1.0)],
            ])
        };
        // Four squares round a point; the right column's vertices shifted, so borders do not
        // share vertices there.
        let a = sq(0.0, 0.0);
        let b = sq(1.0, 0.0);
        let c = sq(0.0, 1.0);
        let d = MultiPolygon(vec![
            polygon![(x: 1.0, y: 1.0), (x: 1.0, y: 1.5), (x: 1.0, y: 2.0), (x: 2.0, y: 2.0), (x: 2.0, y: 1.0)],
        ]);
        let nb = adjacency(&[&a, &b, &c, &d]);
        assert_eq!(nb, vec![vec![1, 2], vec![0, 3], vec![0, 3], vec![1, 2]]);
    }
}
