//! Assembly: the union of a group's pieces as lon/lat polygons. Borders inside a group cancel by
//! name, the remaining edges are walked into rings, and rings are sorted into shells and holes.

use super::{Pt, Tessellation, by_segment, ring_area_centroid};
use geo::{Contains, Coord, InteriorPoint, LineString, MultiPolygon, Polygon};
use rustc_hash::FxHashMap as HashMap;

/// Rings smaller than this (m²) in an assembled grid are zero-width lobes, not area.
const DEGENERATE_RING_M2: f64 = 1e-4;

impl Tessellation {
    /// The union of the pieces of each group (atom → group, or None to leave out), as lon/lat
    /// polygons; borders inside a group cancel exactly because pieces share named points.
    pub fn assemble(&self, group_of: &[Option<usize>], groups: usize) -> Vec<MultiPolygon<f64>> {
        let mut directed: Vec<Vec<(Pt, Pt)>> = vec![Vec::new(); groups];
        // A segment is on a group's outline when one side of it is the group's and the other
        // is not: two sides running opposite ways cancel.
        let mut open: Vec<(usize, (Pt, Pt))> = Vec::new();
        for run in by_segment(&self.sides) {
            open.clear();
            for side in run {
                let Some(g) = group_of[self.pieces[side.piece as usize].owner as usize] else {
                    continue;
                };
                let (p, q) = side.directed();
                if let Some(k) = open.iter().position(|&o| o == (g, (q, p))) {
                    open.swap_remove(k);
                } else if !open.contains(&(g, (p, q))) {
                    open.push((g, (p, q)));
                }
            }
            for &(g, edge) in &open {
                directed[g].push(edge);
            }
        }
        directed
            .into_iter()
            .map(|edges| self.rings_to_polygons(edges))
            .collect()
    }

    fn rings_to_polygons(&self, mut sorted: Vec<(Pt, Pt)>) -> MultiPolygon<f64> {
        let mut out: HashMap<Pt, Vec<Pt>> = HashMap::default();
        sorted.sort_unstable();
        for &(p, q) in &sorted {
            out.entry(p).or_default().push(q);
        }
        let mut rings: Vec<Vec<Pt>> = Vec::new();
        for &(start, first) in &sorted {
            let Some(list) = out.get_mut(&start) else { continue };
            let Some(pos) = list.iter().position(|&q| q == first) else {
                continue;
            };
            list.swap_remove(pos);
            let mut ring = vec![start];
            let (mut prev, mut cur) = (start, first);
            while cur != start {
                ring.push(cur);
                let Some(nexts) = out.get_mut(&cur).filter(|l| !l.is_empty()) else {
                    break;
                };
                // At a pinch (two lobes meeting at a point) take the leftmost turn, so each lobe
                // closes on itself instead of figure-eights.
                let pick = if nexts.len() == 1 {
                    0
                } else {
                    let (a, b) = (self.local(prev), self.local(cur));
                    let din = (b[0] - a[0], b[1] - a[1]);
                    (0..nexts.len())
                        .max_by(|&i, &j| {
                            let turn = |k: usize| {
                                let c = self.local(nexts[k]);
                                let d = (c[0] - b[0], c[1] - b[1]);
                                (din.0 * d.1 - din.1 * d.0).atan2(din.0 * d.0 + din.1 * d.1)
                            };
                            turn(i).total_cmp(&turn(j))
                        })
                        .unwrap_or(0)
                };
                let next = nexts.swap_remove(pick);
                prev = cur;
                cur = next;
            }
            // A ring that passes a point twice (a hole touching the outline at one point: the
            // turn rule keeps lobes apart but walks shell and hole as one ring) is split there
            // into simple rings; their signed areas then say which is shell and which is hole.
            for simple in split_at_repeats(ring) {
                let simple = self.without_spikes(simple);
                if simple.len() >= 3 {
                    rings.push(simple);
                }
            }
        }
        let mut shells: Vec<(Polygon<f64>, f64)> = Vec::new();
        let mut holes: Vec<LineString<f64>> = Vec::new();
        for ring in rings {
            let local: Vec<[f64; 2]> = ring.iter().map(|&p| self.local(p)).collect();
            let (area, _, _) = ring_area_centroid(&local);
            if area.abs() < DEGENERATE_RING_M2 {
                continue; // a zero-width lobe left by collinear points: nothing to draw
            }
            let mut coords: Vec<Coord<f64>> = ring.iter().map(|&p| self.lonlat(p)).collect();
            coords.push(coords[0]);
            let line = LineString(coords);
            if area > 0.0 {
                shells.push((Polygon::new(line, vec![]), area));
            } else if area < 0.0 {
                holes.push(line);
            }
        }
        for hole in holes {
            let probe = Polygon::new(hole.clone(), vec![]).interior_point();
            // The smallest shell holding the hole is its parent.
            let parent = (0..shells.len())
                .filter(|&i| shells.len() == 1 || probe.is_some_and(|p| shells[i].0.contains(&p)))
                .min_by(|&i, &j| shells[i].1.total_cmp(&shells[j].1));
            if let Some(i) = parent {
                shells[i].0.interiors_push(hole);
            }
        }
        // Largest part first: a grid's main body leads.
        shells.sort_by(|a, b| b.1.total_cmp(&a.1));
        MultiPolygon(shells.into_iter().map(|(p, _)| p).collect())
    }

    /// Removes zero-width spikes from an open ring: a point where the ring turns straight back
    /// on itself (a near-degenerate triangle between atoms, e.g. a building corner lying on a
    /// neighbour's wall to within float precision). Both grids beside such a spike walk it, in
    /// opposite directions, and the test depends on the three points alone, so both drop it and
    /// their shared edges still match. Repeats until none is left.
    fn without_spikes(&self, mut ring: Vec<Pt>) -> Vec<Pt> {
        let mut changed = true;
        while changed && ring.len() >= 3 {
            changed = false;
            let mut i = 0;
            while i < ring.len() && ring.len() >= 3 {
                let n = ring.len();
                let (a, b, c) = (
                    self.local(ring[(i + n - 1) % n]),
                    self.local(ring[i]),
                    self.local(ring[(i + 1) % n]),
                );
                let (u, v) = ([b[0] - a[0], b[1] - a[1]], [c[0] - b[0], c[1] - b[1]]);
                let dot = u[0] * v[0] + u[1] * v[1];
                let cross = u[0] * v[1] - u[1] * v[0];
                let lengths = u[0].hypot(u[1]) * v[0].hypot(v[1]);
                if dot < 0.0 && cross.abs() <= 1e-9 * lengths {
                    ring.remove(i);
                    changed = true;
                } else {
                    i += 1;
                }
            }
        }
        ring
    }
}

/// Splits an open ring at every point it passes twice into simple open rings.
fn split_at_repeats(ring: Vec<Pt>) -> Vec<Vec<Pt>> {
    let mut out = Vec::new();
    let mut stack: Vec<Pt> = Vec::with_capacity(ring.len());
    let mut at: HashMap<Pt, usize> = HashMap::default();
    for p in ring {
        if let Some(&i) = at.get(&p) {
            // The loop since p's first visit closes here: it is a ring of its own.
            let lobe: Vec<Pt> = stack.drain(i..).collect();
            for q in &lobe {
                at.remove(q);
            }
            at.insert(p, stack.len());
            stack.push(p);
            out.push(lobe);
        } else {
            at.insert(p, stack.len());
            stack.push(p);
        }
    }
    out.push(stack);
    out
}
