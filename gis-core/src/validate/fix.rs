//! `--fix`: a repaired layer. Invalid geometry is cleaned; near-misses are snapped (vertices to
//! a neighbour's vertex, then each neighbour's vertices inserted into the edge they lie on);
//! each overlap goes to one of its grids and each gap to a neighbouring grid — the one sharing
//! the longest edge with it, ties to the one with fewer residents. Codes never change, and every
//! change is listed.

use super::coverage::shared_length;
use super::edges::{self, Segments, Status};
use super::layer::area_m2;
use super::layer::{orient_rfc, restore, tidy};
use super::{Cleaned, DefectKind, ValidateError, ValidateOptions, ValidationReport, analyse, clean_layer};
use crate::geom::{BboxIndex, VertexKey, metres_per_degree};
use crate::grid::{Grid, GridLevel};
use crate::io::grids::{DrawnGrid, DrawnLayer, GridLayer};
use crate::model::Dataset;
use geo::bool_ops::BooleanOps;
use geo::{BoundingRect, Contains, Coord, InteriorPoint, LineString, MultiPolygon, Rect};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// The grid changed.
    pub code: String,
    pub kind: ChangeKind,
    /// Area gained (+) or given away (−), m², for gaps and overlaps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub area_m2: Option<f64>,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    GeometryCleaned,
    Snapped,
    GapFilled,
    OverlapResolved,
    NotFixed,
}

#[derive(Debug, Clone)]
pub struct Repair {
    pub layer: GridLayer,
    pub changes: Vec<Change>,
    pub before: ValidationReport,
    pub after: ValidationReport,
}

/// Below this (m²) a gap or overlap is left alone: floating-point dust, not a shape.
const DUST_M2: f64 = 1e-4;

pub fn repair(dataset: &Dataset, layer: &DrawnLayer, options: &ValidateOptions) -> Result<Repair, ValidateError> {
    options.check()?;
    let cleaned = clean_layer(layer);
    let first = analyse(dataset, &cleaned, options);
    let mut changes = Vec::new();
    for (g, problems) in cleaned.problems.iter().enumerate() {
        if !problems.is_empty() {
            let mut done: Vec<&str> = problems
                .iter()
                .map(|p| match p.kind {
                    DefectKind::UnclosedRing => "ring closed",
                    DefectKind::RepeatedPoints => "repeated points removed",
                    DefectKind::Spike => "spike removed",
                    DefectKind::TooFewPoints => "degenerate ring dropped",
                    _ => "crossing resolved by non-zero winding (every lobe kept)",
                })
                .collect();
            done.dedup();
            changes.push(Change {
                code: cleaned.grids[g].code.clone(),
                kind: ChangeKind::GeometryCleaned,
                area_m2: None,
                message: format!("geometry cleaned: {}", done.join("; ")),
            });
        }
    }
    let population = first.population.clone();
    let mut grids: Vec<Grid> = cleaned.grids.clone();
    let mut rank: Vec<u32> = (0..grids.len() as u32).collect();
    // Damaged grids move towards sound ones, not the other way round.
    for (g, r) in rank.iter_mut().enumerate() {
        if !cleaned.problems[g].is_empty() {
            *r += grids.len() as u32;
        }
    }
    let snap_m = options.gap_width_m.max(0.001);
    let levels: Vec<GridLevel> = [GridLevel::Grid, GridLevel::Micro]
        .into_iter()
        .filter(|l| grids.iter().any(|g| g.level == *l))
        .collect();
    let mut moved: FxHashMap<usize, (usize, usize)> = FxHashMap::default();
    for round in 0..3 {
        for &level in &levels {
            let cells: Vec<usize> = (0..grids.len()).filter(|&g| grids[g].level == level).collect();
            snap(dataset, &mut grids, &cells, &rank, snap_m, &mut moved);
        }
        let current = Cleaned {
            grids: grids.clone(),
            problems: vec![Vec::new(); grids.len()],
            drawn_parts: vec![1; grids.len()],
        };
        let a = analyse(dataset, &current, options);
        let mut acted = false;
        for check in std::iter::once(&a.grid_level).chain(a.micro_level.iter()) {
            let grid_level = std::ptr::eq(check, &a.grid_level);
            let parents: Vec<MultiPolygon<f64>> = if grid_level {
                Vec::new()
            } else {
                a.grid_level
                    .cells
                    .iter()
                    .map(|&g| current.grids[g].area.clone())
                    .collect()
            };
            let container = |k: usize| -> &MultiPolygon<f64> {
                if grid_level {
                    &dataset.communities[k].boundary
                } else {
                    &parents[k]
                }
            };
            for o in &check.coverage.overlaps {
                if o.area_m2 < DUST_M2 {
                    continue;
                }
                let (ga, gb) = (check.cells[o.a], check.cells[o.b]);
                let overlap = restore(
                    orient_rfc(grids[ga].area.intersection(&grids[gb].area)),
                    &[&grids[ga].area, &grids[gb].area],
                );
                let m2 = area_m2(&overlap);
                if m2 < DUST_M2 {
                    continue;
                }
                let la: f64 = overlap.0.iter().map(|p| shared_length(p, &grids[ga].area)).sum();
                let lb: f64 = overlap.0.iter().map(|p| shared_length(p, &grids[gb].area)).sum();
                // A grid keeps what lies in its own community; otherwise the shared-edge rule.
                let inside = |c: usize| {
                    check.container_of[c]
                        .is_some_and(|k| overlap.interior_point().is_some_and(|p| container(k).contains(&p)))
                };
                let (ia, ib) = (inside(o.a), inside(o.b));
                let first = if ia != ib {
                    ia
                } else {
                    pick_first(la, lb, population[ga], population[gb], ga, gb)
                };
                let (keep, give) = if first { (ga, gb) } else { (gb, ga) };
                let parts = grids[give].area.0.len();
                let cut = tidy(&restore(
                    orient_rfc(grids[give].area.difference(&overlap)),
                    &[&grids[ga].area, &grids[gb].area],
                ));
                grids[give].area = drop_crumbs(parts, cut, options.tolerance_m2);
                acted = true;
                changes.push(Change {
                    code: grids[give].code.clone(),
                    kind: ChangeKind::OverlapResolved,
                    area_m2: Some(-m2),
                    message: format!(
                        "gave up {} overlapping {} (kept by {}, the grid with the longer shared edge{})",
                        super::report::m2(m2),
                        grids[keep].code,
                        grids[keep].code,
                        if (la - lb).abs() <= 1e-6 * la.max(lb) {
                            ", a tie settled by fewer residents"
                        } else {
                            ""
                        }
                    ),
                });
            }
            for gap in &check.coverage.gaps {
                if gap.area_m2 < DUST_M2 {
                    continue;
                }
                // Only grids of the gap's own community may take it (any, if none touches it).
                let same: Vec<(usize, f64)> = gap
                    .neighbours
                    .iter()
                    .copied()
                    .filter(|&(c, _)| check.container_of[c] == Some(gap.container))
                    .collect();
                let candidates = if same.is_empty() { gap.neighbours.clone() } else { same };
                let Some(&(first_c, best)) = candidates.first() else {
                    if gap.area_m2 >= options.tolerance_m2 && round == 0 {
                        changes.push(Change {
                            code: String::new(),
                            kind: ChangeKind::NotFixed,
                            area_m2: Some(gap.area_m2),
                            message: format!(
                                "a gap of {} touches no grid; left as it is",
                                super::report::m2(gap.area_m2)
                            ),
                        });
                    }
                    continue;
                };
                // Ties (equal shared edge) go to the grid with fewer residents.
                let mut winner = check.cells[first_c];
                for &(c, len) in &candidates[1..] {
                    let g = check.cells[c];
                    if (best - len).abs() <= 1e-6 * best && (population[g], g) < (population[winner], winner) {
                        winner = g;
                    }
                }
                let piece = MultiPolygon(vec![gap.polygon.clone()]);
                let around: Vec<&MultiPolygon<f64>> = gap
                    .neighbours
                    .iter()
                    .map(|&(c, _)| &grids[check.cells[c]].area)
                    .collect();
                let grown = restore(orient_rfc(grids[winner].area.union(&piece)), &around);
                let parts = grids[winner].area.0.len();
                grids[winner].area = drop_crumbs(parts, tidy(&grown), options.tolerance_m2);
                acted = true;
                let others: Vec<String> = gap
                    .neighbours
                    .iter()
                    .map(|&(c, _)| grids[check.cells[c]].code.clone())
                    .filter(|c| *c != grids[winner].code)
                    .collect();
                changes.push(Change {
                    code: grids[winner].code.clone(),
                    kind: ChangeKind::GapFilled,
                    area_m2: Some(gap.area_m2),
                    message: format!(
                        "took a gap of {}{}",
                        super::report::m2(gap.area_m2),
                        if others.is_empty() {
                            String::new()
                        } else {
                            format!(" (longest shared edge; other neighbours: {})", others.join(", "))
                        }
                    ),
                });
            }
        }
        if !acted && round > 0 {
            break;
        }
    }
    // Snapping and boolean work can leave a spike or a repeated point behind: clean every grid
    // the way a reader of the written layer will, then snap once more.
    let as_drawn = |g: &Grid| DrawnGrid {
        grid: g.clone(),
        multi: g.area.0.len() > 1,
        rings: g
            .area
            .0
            .iter()
            .map(|p| {
                std::iter::once(p.exterior())
                    .chain(p.interiors())
                    .map(|r| r.0.clone())
                    .collect()
            })
            .collect(),
    };
    for g in grids.iter_mut() {
        let c = super::layer::clean(&as_drawn(g));
        if !c.problems.is_empty() {
            g.area = c.area;
        }
    }
    for &level in &levels {
        let cells: Vec<usize> = (0..grids.len()).filter(|&g| grids[g].level == level).collect();
        snap(dataset, &mut grids, &cells, &rank, snap_m, &mut moved);
    }
    for (g, (m, i)) in {
        let mut v: Vec<_> = moved.into_iter().collect();
        v.sort_unstable();
        v
    } {
        changes.push(Change {
            code: grids[g].code.clone(),
            kind: ChangeKind::Snapped,
            area_m2: None,
            message: format!(
                "snapped to its neighbours: {m} vertices moved, {i} inserted (within {} m)",
                snap_m
            ),
        });
    }
    // Judged as a reader of the written layer will judge it: through the same cleaning.
    let written = DrawnLayer {
        grids: grids
            .iter()
            .map(|g| DrawnGrid {
                grid: g.clone(),
                multi: g.area.0.len() > 1,
                rings: g
                    .area
                    .0
                    .iter()
                    .map(|p| {
                        std::iter::once(p.exterior())
                            .chain(p.interiors())
                            .map(|r| r.0.clone())
                            .collect()
                    })
                    .collect(),
            })
            .collect(),
        meta: layer.meta.clone(),
    };
    let after = analyse(dataset, &clean_layer(&written), options).report;
    for (g, count) in grids
        .iter_mut()
        .zip(&after.counts)
        .filter(|(g, _)| g.level == GridLevel::Grid)
    {
        debug_assert_eq!(g.code, count.code);
        g.population = count.population;
        g.households = count.households;
    }
    let layer = GridLayer {
        grids,
        meta: layer.meta.clone(),
    };
    Ok(Repair {
        layer,
        changes,
        before: first.report,
        after,
    })
}

/// Whether the first side keeps a contested piece: the longer shared edge, then fewer residents.
fn pick_first(la: f64, lb: f64, pa: u64, pb: u64, a: usize, b: usize) -> bool {
    if (la - lb).abs() > 1e-6 * la.max(lb) {
        return la > lb;
    }
    (pa, a) < (pb, b)
}

fn grow(r: Rect<f64>, m: f64) -> Rect<f64> {
    let (kx, ky) = metres_per_degree(r.center().y);
    Rect::new(
        Coord {
            x: r.min().x - m / kx,
            y: r.min().y - m / ky,
        },
        Coord {
            x: r.max().x + m / kx,
            y: r.max().y + m / ky,
        },
    )
}

/// One snapping pass over a level: vertices of invalid edges move onto a neighbour's vertex
/// within `tol_m`, then vertices of neighbours' unmatched edges are inserted into the unmatched
/// edges they lie within `tol_m` of, so both sides end up with the same vertices.
fn snap(
    dataset: &Dataset,
    grids: &mut [Grid],
    cells: &[usize],
    rank: &[u32],
    tol_m: f64,
    moved: &mut FxHashMap<usize, (usize, usize)>,
) {
    // The line each cell follows where it has no neighbour, as validate sees it (an edge on it is
    // no near-miss, so nothing there is snapped): its community's boundary, or its parent grid
    // as it stands (cloned, since snapping moves grids).
    let communities: FxHashMap<&str, &MultiPolygon<f64>> = dataset
        .communities
        .iter()
        .map(|c| (c.code.as_str(), &c.boundary))
        .collect();
    let parents: FxHashMap<String, MultiPolygon<f64>> = {
        let by_code: FxHashMap<&str, usize> = grids
            .iter()
            .enumerate()
            .filter(|(_, g)| g.level == GridLevel::Grid)
            .map(|(i, g)| (g.code.as_str(), i))
            .collect();
        let wanted: FxHashSet<&str> = cells.iter().filter_map(|&g| grids[g].parent_code.as_deref()).collect();
        wanted
            .into_iter()
            .filter_map(|p| by_code.get(p).map(|&i| (p.to_string(), grids[i].area.clone())))
            .collect()
    };
    let outline: Vec<Option<&MultiPolygon<f64>>> = cells
        .iter()
        .map(|&g| match grids[g].level {
            GridLevel::Grid => communities.get(grids[g].community_code.as_str()).copied(),
            GridLevel::Micro => grids[g].parent_code.as_deref().and_then(|p| parents.get(p)),
        })
        .collect();
    let areas: Vec<&MultiPolygon<f64>> = cells.iter().map(|&g| &grids[g].area).collect();
    let segs = Segments::new(&areas);
    let invalid = edges::invalid_edges(&areas, &segs, tol_m, &outline);
    if invalid.is_empty() {
        return;
    }
    let mut movable: FxHashMap<usize, FxHashSet<VertexKey>> = FxHashMap::default();
    for inv in &invalid {
        let c = segs.owner[inv.seg] as usize;
        let l = segs.lines[inv.seg];
        let m = movable.entry(c).or_default();
        m.insert(VertexKey::of(l.start));
        m.insert(VertexKey::of(l.end));
    }
    for (c, m) in movable.iter_mut() {
        for s in segs.of(*c) {
            if segs.status[s] == Status::Matched {
                m.remove(&VertexKey::of(segs.lines[s].start));
                m.remove(&VertexKey::of(segs.lines[s].end));
            }
        }
    }
    drop(areas);
    let boxes = BboxIndex::new(
        cells
            .iter()
            .enumerate()
            .filter_map(|(i, &g)| grids[g].area.bounding_rect().map(|r| (i, r))),
    );
    let mut order: Vec<usize> = movable.keys().copied().collect();
    order.sort_by_key(|&c| (rank[cells[c]], c));
    let mut dirty: FxHashSet<usize> = movable.keys().copied().collect();
    // Vertices onto vertices, lower rank first.
    for c in order {
        let g = cells[c];
        let Some(r) = grids[g].area.bounding_rect() else {
            continue;
        };
        let (kx, ky) = metres_per_degree(r.center().y);
        let targets: Vec<Coord<f64>> = boxes
            .intersecting(grow(r, tol_m))
            .into_iter()
            .filter(|&o| o != c && rank[cells[o]] < rank[g])
            .flat_map(|o| {
                grids[cells[o]]
                    .area
                    .0
                    .iter()
                    .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
                    .flat_map(|ring| ring.0.iter().copied())
                    .collect::<Vec<_>>()
            })
            .collect();
        if targets.is_empty() {
            continue;
        }
        let m = &movable[&c];
        let mut n_moved = 0;
        let mut area = grids[g].area.clone();
        for p in &mut area.0 {
            let mut fix = |ring: &mut LineString<f64>| {
                for v in ring.0.iter_mut() {
                    if !m.contains(&VertexKey::of(*v)) {
                        continue;
                    }
                    let best = targets
                        .iter()
                        .map(|t| (((t.x - v.x) * kx).hypot((t.y - v.y) * ky), *t))
                        .filter(|(d, _)| *d <= tol_m)
                        .min_by(|a, b| a.0.total_cmp(&b.0));
                    if let Some((d, t)) = best
                        && d > 0.0
                    {
                        *v = t;
                        n_moved += 1;
                    }
                }
            };
            p.exterior_mut(|r| fix(r));
            p.interiors_mut(|hs| hs.iter_mut().for_each(&mut fix));
        }
        if n_moved > 0 {
            grids[g].area = tidy(&area);
            moved.entry(g).or_default().0 += n_moved;
        }
    }
    // Neighbours' vertices into unmatched edges.
    let areas: Vec<&MultiPolygon<f64>> = cells.iter().map(|&g| &grids[g].area).collect();
    let segs = Segments::new(&areas);
    for c in 0..cells.len() {
        if segs.of(c).any(|s| segs.status[s] != Status::Matched)
            && (dirty.contains(&c) || segs.of(c).any(|s| segs.status[s] == Status::Duplicated))
        {
            dirty.insert(c);
        }
    }
    let mut loose: FxHashMap<usize, Vec<Coord<f64>>> = FxHashMap::default();
    for c in 0..cells.len() {
        let pts: Vec<Coord<f64>> = segs
            .of(c)
            .filter(|&s| segs.status[s] != Status::Matched)
            .flat_map(|s| [segs.lines[s].start, segs.lines[s].end])
            .collect();
        if !pts.is_empty() {
            loose.insert(c, pts);
        }
    }
    drop(areas);
    let mut dirty: Vec<usize> = dirty.into_iter().collect();
    dirty.sort_unstable();
    let mut updates: Vec<(usize, MultiPolygon<f64>, usize)> = Vec::new();
    for c in dirty {
        let g = cells[c];
        let Some(r) = grids[g].area.bounding_rect() else {
            continue;
        };
        let (kx, ky) = metres_per_degree(r.center().y);
        let mut near: Vec<Coord<f64>> = boxes
            .intersecting(grow(r, tol_m))
            .into_iter()
            .filter(|&o| o != c)
            .filter_map(|o| loose.get(&o))
            .flatten()
            .copied()
            .collect();
        near.sort_by(|a, b| a.x.total_cmp(&b.x).then(a.y.total_cmp(&b.y)));
        near.dedup();
        if near.is_empty() {
            continue;
        }
        let unmatched: FxHashSet<(VertexKey, VertexKey)> = segs
            .of(c)
            .filter(|&s| segs.status[s] != Status::Matched)
            .map(|s| (VertexKey::of(segs.lines[s].start), VertexKey::of(segs.lines[s].end)))
            .collect();
        let mut inserted = 0;
        let mut area = grids[g].area.clone();
        for p in &mut area.0 {
            let mut fix = |ring: &mut LineString<f64>| {
                let mut out: Vec<Coord<f64>> = Vec::with_capacity(ring.0.len());
                for l in ring.lines() {
                    out.push(l.start);
                    if !unmatched.contains(&(VertexKey::of(l.start), VertexKey::of(l.end))) {
                        continue;
                    }
                    let (ax, ay) = (l.start.x * kx, l.start.y * ky);
                    let (dx, dy) = ((l.end.x - l.start.x) * kx, (l.end.y - l.start.y) * ky);
                    let len2 = dx * dx + dy * dy;
                    if len2 == 0.0 {
                        continue;
                    }
                    let mut on: Vec<(f64, Coord<f64>)> = near
                        .iter()
                        .filter(|w| **w != l.start && **w != l.end)
                        .filter_map(|w| {
                            let (wx, wy) = (w.x * kx - ax, w.y * ky - ay);
                            let t = (wx * dx + wy * dy) / len2;
                            let d = (wx - t * dx).hypot(wy - t * dy);
                            (t > 0.0
                                && t < 1.0
                                && d <= tol_m
                                && t * len2.sqrt() > 1e-4
                                && (1.0 - t) * len2.sqrt() > 1e-4)
                                .then_some((t, *w))
                        })
                        .collect();
                    on.sort_by(|a, b| a.0.total_cmp(&b.0));
                    inserted += on.len();
                    out.extend(on.into_iter().map(|x| x.1));
                }
                out.extend(ring.0.last().copied());
                *ring = LineString(out);
            };
            p.exterior_mut(|r| fix(r));
            p.interiors_mut(|hs| hs.iter_mut().for_each(&mut fix));
        }
        if inserted > 0 {
            updates.push((g, area, inserted));
        }
    }
    for (g, area, n) in updates {
        grids[g].area = tidy(&area);
        moved.entry(g).or_default().1 += n;
    }
}

/// A boolean operation can leave crumbs: parts smaller than the tolerance that the grid did not
/// have before. They go (leaving slivers below the tolerance), the largest part always stays.
fn drop_crumbs(parts_before: usize, mut area: MultiPolygon<f64>, tolerance_m2: f64) -> MultiPolygon<f64> {
    if area.0.len() <= parts_before.max(1) {
        return area;
    }
    let sizes: Vec<f64> = area.0.iter().map(|p| area_m2(&MultiPolygon(vec![p.clone()]))).collect();
    let largest = sizes.iter().cloned().fold(0.0, f64::max);
    let mut k = 0;
    area.0.retain(|_| {
        let keep = sizes[k] >= tolerance_m2 || sizes[k] == largest;
        k += 1;
        keep
    });
    area
}
