//! Partitioning: a community's buildings and population points → grids inside the size bounds.
//!
//! 1. Atoms ([`atoms`]): buildings, unit parts of oversized buildings, H3 groups of points,
//!    exclusive units.
//! 2. A tessellation owned by atoms ([`tessellate`]) tiles the community exactly, borders
//!    running between buildings; it gives the atom graph (shared border lengths, roads).
//! 3. The search ([`search`]) splits the graph into connected grids within the bounds, keeping
//!    compounds (小区) whole while the bounds allow, then refines for compactness.
//! 4. Grid polygons are unions of their atoms' cells, exact by construction.
//!
//! Communities are independent: each is solved on its own, from a seed derived from the run's
//! seed and the community code, so output is identical run to run.

mod atoms;
mod edit;
mod repartition;
mod report;
mod search;
mod simplify;
mod tessellate;
mod walls;

pub use crate::verify::{InvalidGrid, Verification, invalid_reason, verify};
pub use edit::{MoveError, move_buildings};
pub use repartition::{
    Affected, CommunityRepair, RepairError, Repartition, RepartitionOptions, RepartitionReport, Residents, StaffChange,
    repartition,
};
pub use report::{CommunityReport, PartitionReport, SizeStats, WallsReport, Warning, WarningKind, polsby_popper};
pub use simplify::BorderShape;

use crate::bounds::{GridCounts, SizeBasis, SizeBounds};
use crate::codes::CodeScheme;
use crate::geom::{BboxIndex, LocalFrame};
use crate::grid::{Grid, GridKind, GridLevel};
use crate::model::{Community, CommunityMembers, Dataset};
use atoms::{Atom, CommunityAtoms, community_atoms};
use geo::{BoundingRect, LineString, MultiPolygon};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use report::Borders;
use search::{Band, Edge, Graph, Node, Search};
use std::collections::{BTreeMap, BTreeSet};
use tessellate::{Note, Tessellation};

#[derive(Debug, Clone)]
pub struct PartitionOptions {
    pub bounds: SizeBounds,
    /// How grids are numbered.
    pub scheme: CodeScheme,
    pub seed: u64,
    /// Micro-grid bounds (by households), when micro-grids are wanted.
    pub micro: Option<SizeBounds>,
}

impl Default for PartitionOptions {
    fn default() -> Self {
        Self {
            bounds: SizeBounds::default(),
            scheme: CodeScheme::db11(),
            seed: 1,
            micro: None,
        }
    }
}

impl PartitionOptions {
    /// Micro-grids of 50–200 households, the default setting.
    pub fn default_micro() -> SizeBounds {
        SizeBounds {
            min: 50,
            max: 200,
            basis: SizeBasis::Households,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Partition {
    /// Grids then micro-grids, community by community.
    pub grids: Vec<Grid>,
    pub report: PartitionReport,
}

/// Partitions every community of the dataset, communities in parallel; `progress` is told how
/// many communities are done, from the calling thread.
///
/// # Examples
///
/// ```
/// use gis_core::io::load_dataset;
/// use gis_core::partition::{PartitionOptions, partition};
/// use std::path::Path;
///
/// let dataset = load_dataset(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/kangle"))?.dataset;
/// let options = PartitionOptions::default();
/// let out = partition(&dataset, &options, &mut |done, of| assert!(done <= of));
///
/// // The output checked itself: one exact coverage, no grid edge through a building.
/// assert!(out.report.verification.is_clean());
/// // Every resident of the dataset is in exactly one grid.
/// let residents: u64 = dataset.buildings.iter().map(|b| u64::from(b.population)).sum::<u64>()
///     + dataset.points.iter().map(|p| u64::from(p.count)).sum::<u64>();
/// assert_eq!(out.grids.iter().map(|g| g.population).sum::<u64>(), residents);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn partition(dataset: &Dataset, options: &PartitionOptions, progress: &mut dyn FnMut(usize, usize)) -> Partition {
    use rayon::prelude::*;
    let roads: Vec<LineString<f64>> = dataset.roads.iter().flat_map(|r| r.line.0.iter().cloned()).collect();
    let road_index = BboxIndex::new(
        roads
            .iter()
            .enumerate()
            .filter_map(|(i, l)| l.bounding_rect().map(|r| (i, r))),
    );
    let n = dataset.communities.len();
    // Largest communities first (by buildings and points, what their cost grows with), so that
    // the last ones to finish are small and neither core waits long for the other.
    let mut homes = vec![0usize; n];
    for c in dataset
        .buildings
        .iter()
        .map(|b| b.community)
        .chain(dataset.points.iter().map(|p| p.community))
    {
        if let Some(h) = homes.get_mut(c) {
            *h += 1;
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&ci| std::cmp::Reverse(homes[ci]));
    let members = dataset.members_by_community();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let (tx, rx) = std::sync::mpsc::channel::<usize>();
    let results = std::thread::scope(|scope| {
        let worker = scope.spawn(|| {
            let mut drawn: Vec<(usize, _)> = order
                .par_iter()
                .with_max_len(1)
                .map_with(tx, |tx, &ci| {
                    let community = &dataset.communities[ci];
                    let nearby: Vec<LineString<f64>> = community
                        .boundary
                        .bounding_rect()
                        .map(|r| {
                            road_index
                                .intersecting(r)
                                .into_iter()
                                .map(|i| roads[i].clone())
                                .collect()
                        })
                        .unwrap_or_default();
                    let out = partition_community(dataset, ci, &members[ci], &nearby, options);
                    let _ = tx.send(done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1);
                    (ci, out)
                })
                .collect();
            drawn.sort_unstable_by_key(|(ci, _)| *ci);
            drawn.into_iter().map(|(_, out)| out).collect::<Vec<_>>()
        });
        for finished in rx {
            progress(finished, n);
        }
        worker.join().expect("partition worker panicked")
    });
    let mut grids = Vec::new();
    let mut communities = Vec::with_capacity(n);
    for (mut g, report) in results {
        grids.append(&mut g);
        communities.push(report);
    }
    let verification = verify(dataset, &grids, GridLevel::Grid);
    let micro_verification = options.micro.map(|_| verify(dataset, &grids, GridLevel::Micro));
    Partition {
        grids,
        report: PartitionReport {
            bounds: options.bounds,
            communities,
            verification,
            micro_verification,
            access: None,
        },
    }
}

fn community_seed(seed: u64, code: &str) -> u64 {
    // FNV-1a over the code, mixed with the run's seed.
    code.bytes().fold(0xcbf2_9ce4_8422_2325u64 ^ seed, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// A community's atoms and the tessellation they own, ready to be grouped into grids.
pub(crate) struct Prepared {
    pub atoms: Vec<Atom>,
    pub tess: Tessellation,
    pub report: CommunityReport,
    pub frame: LocalFrame,
}

/// Atoms and tessellation of community `ci` (or of a region standing in for it); on a
/// triangulation failure, the atoms and the report that says so.
pub(crate) fn prepare(
    dataset: &Dataset,
    ci: usize,
    members: &CommunityMembers,
    roads: &[LineString<f64>],
    bounds: &SizeBounds,
    boundary_spacing_m: f64,
) -> Result<Prepared, Box<(Vec<Atom>, CommunityReport)>> {
    let community = &dataset.communities[ci];
    let rect = community.boundary.bounding_rect().expect("a community has area");
    let frame = LocalFrame::new(rect.center());
    let CommunityAtoms {
        mut atoms,
        mut claims,
        point_people,
        oversized,
        h3_resolution,
    } = community_atoms(dataset, members, bounds, &frame);
    let mut report = CommunityReport::new(community, h3_resolution);
    let reconciled = walls::reconcile(&mut claims, &frame);
    report.walls = WallsReport {
        snapped_corners: reconciled.snapped,
        inserted_corners: reconciled.inserted,
        left_as_drawn: reconciled.kept,
    };
    for (id, size) in &oversized {
        report.warn(WarningKind::OversizedBuilding, format!(
            "building {id} holds {size} {}, above the maximum {}, and cannot be split by units: its grid is oversized",
            bounds.basis.unit(),
            bounds.max
        ));
    }

    let tess = match Tessellation::build(
        &community.boundary,
        &claims,
        roads,
        atoms.len(),
        frame,
        boundary_spacing_m,
    ) {
        Ok(t) => t,
        Err(e) => {
            report.warn(
                WarningKind::Untriangulated,
                format!("the community could not be triangulated ({e:?}); it is left as one grid"),
            );
            return Err(Box::new((atoms, report)));
        }
    };
    // Parts of an atom's cell that came apart are atoms of their own, with their points.
    for split in &tess.splits {
        debug_assert_eq!(split.new as usize, atoms.len());
        let (population, households) = split
            .points
            .iter()
            .fold((0, 0), |(p, h), &k| (p + point_people[k].0, h + point_people[k].1));
        let original = &mut atoms[split.original as usize];
        original.population -= population;
        original.households -= households;
        // Points keep their compound (if any); open space split off a building belongs to none.
        let compound = if split.points.is_empty() {
            None
        } else {
            original.compound.clone()
        };
        atoms.push(Atom {
            population,
            households,
            compound,
            members: Vec::new(),
            exclusive: None,
        });
    }
    for note in &tess.notes {
        match note {
            Note::OutlineDropped { atom } if (*atom as usize) < atoms.len() => report.warn(
                WarningKind::CrossesCommunityLine,
                format!(
                    "{} crosses the community line, so the line cuts it",
                    describe(&atoms[*atom as usize], dataset)
                ),
            ),
            Note::OutlineDropped { .. } => report.warn(
                WarningKind::OverlappingOutlines,
                "some building outlines overlap slightly; their walls were not all kept".into(),
            ),
            Note::Detached { atom } => report.warn(
                WarningKind::EmptyPart,
                format!(
                    "a part of the community holds nobody; it joins the grid of {} and that grid is in parts",
                    describe(&atoms[*atom as usize], dataset)
                ),
            ),
        }
    }

    Ok(Prepared {
        atoms,
        tess,
        report,
        frame,
    })
}

fn partition_community(
    dataset: &Dataset,
    ci: usize,
    members: &CommunityMembers,
    roads: &[LineString<f64>],
    options: &PartitionOptions,
) -> (Vec<Grid>, CommunityReport) {
    let bounds = options.bounds;
    let community = &dataset.communities[ci];
    let Prepared {
        atoms,
        tess,
        mut report,
        frame,
    } = match prepare(dataset, ci, members, roads, &bounds, tessellate::BOUNDARY_SPACING_M) {
        Ok(p) => p,
        Err(failed) => {
            let (atoms, mut report) = *failed;
            let grid = whole_community_grid(community, &atoms, &options.scheme);
            report.finish(std::slice::from_ref(&grid), &atoms, &bounds, Borders::default());
            return (vec![grid], report);
        }
    };

    // The basic atoms' graph; exclusive units are grids of their own.
    let basic: Vec<usize> = (0..atoms.len()).filter(|&a| atoms[a].exclusive.is_none()).collect();
    let parts = plan(
        &atoms,
        &basic,
        &tess,
        &bounds,
        community_seed(options.seed, community.code.as_str()),
        &mut report,
    );

    // Grids: basic parts, then exclusive units.
    let mut group_of: Vec<Option<usize>> = vec![None; atoms.len()];
    for (g, part) in parts.iter().enumerate() {
        for &a in part {
            group_of[a] = Some(g);
        }
    }
    let exclusive: Vec<usize> = (0..atoms.len()).filter(|&a| atoms[a].exclusive.is_some()).collect();
    for (k, &a) in exclusive.iter().enumerate() {
        group_of[a] = Some(parts.len() + k);
    }
    let groups = parts.len() + exclusive.len();
    let areas = tess.assemble(&group_of, groups);
    // Grids in part order (basic parts, then exclusive units), numbered by the scheme, then
    // listed in code order.
    let mut grids = Vec::with_capacity(groups);
    for (g, part) in parts.iter().enumerate() {
        grids.push(make_grid(
            community,
            GridKind::Basic,
            None,
            areas[g].clone(),
            part,
            &atoms,
        ));
    }
    for (k, &a) in exclusive.iter().enumerate() {
        let unit = &dataset.exclusive[atoms[a].exclusive.expect("exclusive atom")];
        grids.push(make_grid(
            community,
            GridKind::Exclusive,
            Some(unit.name.clone()),
            areas[parts.len() + k].clone(),
            &[a],
            &atoms,
        ));
    }
    crate::codes::number_grids(&options.scheme, community.code.as_str(), &mut grids);
    let mut order: Vec<usize> = (0..grids.len()).collect();
    order.sort_by(|&a, &b| grids[a].code.cmp(&grids[b].code));
    let mut slots: Vec<Option<Grid>> = grids.into_iter().map(Some).collect();
    let mut grids: Vec<Grid> = order
        .iter()
        .map(|&i| slots[i].take().expect("each grid once"))
        .collect();
    // (grid position, part) of each basic grid.
    let order: Vec<(usize, usize)> = order
        .iter()
        .enumerate()
        .filter(|&(_, &orig)| orig < parts.len())
        .map(|(pos, &orig)| (pos, orig))
        .collect();

    let border_info = borders(&tess, &atoms, &group_of, &bounds);

    let grid_level = grids.len();
    if let Some(micro) = options.micro {
        let micro_grids = micro_grids(
            &grids,
            &parts,
            &order,
            &atoms,
            &tess,
            &micro,
            &options.scheme,
            community_seed(options.seed ^ 0x6d_69_63_72_6f, community.code.as_str()),
            &mut report,
        );
        grids.extend(micro_grids);
    }
    // Straighten borders at every level at once, then measure the grids as drawn.
    report.borders = simplify::straighten(&mut grids, dataset, ci, members, &frame);
    report.finish(&grids[..grid_level], &atoms, &bounds, border_info);
    (grids, report)
}

fn describe(atom: &Atom, dataset: &Dataset) -> String {
    if let Some(u) = atom.exclusive {
        return format!("exclusive unit {}", dataset.exclusive[u].id);
    }
    match atom.members.first() {
        Some(id) => format!("building {id}"),
        None => format!("a group of {} residents located by points", atom.population),
    }
}

fn make_grid(
    community: &Community,
    kind: GridKind,
    name: Option<String>,
    area: MultiPolygon<f64>,
    part: &[usize],
    atoms: &[Atom],
) -> Grid {
    let mut buildings: Vec<String> = part.iter().flat_map(|&a| atoms[a].members.iter().cloned()).collect();
    buildings.sort_unstable();
    Grid {
        code: String::new(),
        community_code: community.code.to_string(),
        kind,
        level: GridLevel::Grid,
        parent_code: None,
        name,
        area,
        population: part.iter().map(|&a| atoms[a].population).sum(),
        households: part.iter().map(|&a| atoms[a].households).sum(),
        buildings,
    }
}

fn whole_community_grid(community: &Community, atoms: &[Atom], scheme: &CodeScheme) -> Grid {
    let all: Vec<usize> = (0..atoms.len()).collect();
    let mut grid = make_grid(
        community,
        GridKind::Basic,
        None,
        community.boundary.clone(),
        &all,
        atoms,
    );
    grid.code = scheme.grid_code(community.code.as_str(), scheme.basic.first);
    grid
}

/// The atom graph restricted to `members` (graph node i = members[i]).
fn graph(tess: &Tessellation, atoms: &[Atom], members: &[usize], basis: SizeBasis) -> Graph {
    let mut local = vec![usize::MAX; atoms.len()];
    for (i, &a) in members.iter().enumerate() {
        local[a] = i;
    }
    let nodes = members
        .iter()
        .map(|&a| Node {
            size: atoms[a].size(basis),
            area_m2: tess.atoms[a].area_m2,
            outer_m: tess.atoms[a].outer_m,
        })
        .collect();
    let mut edges = Vec::new();
    let mut outer_extra = vec![0.0; members.len()];
    for adj in &tess.adjacency {
        let (la, lb) = (local[adj.a as usize], local[adj.b as usize]);
        match (la != usize::MAX, lb != usize::MAX) {
            (true, true) => {
                let compound_line = atoms[adj.a as usize].compound != atoms[adj.b as usize].compound;
                let guided = if compound_line { adj.length_m } else { adj.road_m };
                edges.push(Edge {
                    a: la,
                    b: lb,
                    length_m: adj.length_m,
                    guided_m: guided,
                });
            }
            // A border with an atom outside the graph (an exclusive unit) is outer border here.
            (true, false) => outer_extra[la] += adj.length_m,
            (false, true) => outer_extra[lb] += adj.length_m,
            _ => {}
        }
    }
    let mut g = Graph::new(nodes, edges);
    for (n, extra) in g.nodes.iter_mut().zip(outer_extra) {
        n.outer_m += extra;
    }
    g
}

/// Contracts each compound (its connected pieces) into one node when it fits in a grid, so the
/// search keeps it whole. Returns the contracted graph and, per contracted node, its atom nodes.
fn contract(
    g: &Graph,
    atoms: &[Atom],
    members: &[usize],
    max: u64,
    dissolved: &BTreeSet<String>,
) -> (Graph, Vec<Vec<usize>>) {
    let mut by_compound: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, &a) in members.iter().enumerate() {
        if let Some(c) = atoms[a].compound.as_deref()
            && !dissolved.contains(c)
        {
            by_compound.entry(c).or_default().push(i);
        }
    }
    let mut group = vec![usize::MAX; g.nodes.len()];
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for nodes in by_compound.values() {
        for comp in g.components(nodes) {
            let size: u64 = comp.iter().map(|&n| g.nodes[n].size).sum();
            if size <= max {
                comp.iter().for_each(|&n| group[n] = groups.len());
                groups.push(comp);
            }
        }
    }
    for (n, slot) in group.iter_mut().enumerate() {
        if *slot == usize::MAX {
            *slot = groups.len();
            groups.push(vec![n]);
        }
    }
    let nodes = groups
        .iter()
        .map(|ns| Node {
            size: ns.iter().map(|&n| g.nodes[n].size).sum(),
            area_m2: ns.iter().map(|&n| g.nodes[n].area_m2).sum(),
            outer_m: ns.iter().map(|&n| g.nodes[n].outer_m).sum(),
        })
        .collect();
    let mut merged: BTreeMap<(usize, usize), (f64, f64)> = BTreeMap::new();
    for e in &g.edges {
        let (a, b) = (group[e.a], group[e.b]);
        if a != b {
            let m = merged.entry((a.min(b), a.max(b))).or_default();
            m.0 += e.length_m;
            m.1 += e.guided_m;
        }
    }
    let edges = merged
        .into_iter()
        .map(|((a, b), (l, gm))| Edge {
            a,
            b,
            length_m: l,
            guided_m: gm,
        })
        .collect();
    (Graph::new(nodes, edges), groups)
}

/// Plans the basic grids of a community: lists of atom indexes.
fn plan(
    atoms: &[Atom],
    basic: &[usize],
    tess: &Tessellation,
    bounds: &SizeBounds,
    seed: u64,
    report: &mut CommunityReport,
) -> Vec<Vec<usize>> {
    if basic.is_empty() {
        return Vec::new();
    }
    let g = graph(tess, atoms, basic, bounds.basis);
    let min = u64::from(bounds.min);
    // An atom bigger than a whole grid (a building that could not be split by units) is a grid
    // of its own, oversized and reported; the rest is planned without it.
    let (oversized, rest): (Vec<usize>, Vec<usize>) =
        (0..g.nodes.len()).partition(|&n| g.nodes[n].size > u64::from(bounds.max));
    let mut components = g.components(&rest);
    components.sort_by_key(|c| std::cmp::Reverse(c.iter().map(|&n| g.nodes[n].size).sum::<u64>()));
    let mut rng_seed = seed;
    let mut parts: Vec<Vec<usize>> = oversized.into_iter().map(|n| vec![n]).collect();
    let mut strays: Vec<Vec<usize>> = Vec::new();
    for comp in components {
        let size: u64 = comp.iter().map(|&n| g.nodes[n].size).sum();
        if size < min && !parts.is_empty() {
            strays.push(comp);
            continue;
        }
        rng_seed = rng_seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        parts.extend(solve_component(&g, atoms, basic, &comp, size, bounds, rng_seed, report));
    }
    // A piece cut off from the rest (by exclusive units, water, the community's shape) that is
    // too small for a grid: if it holds at least half a grid it is a grid of its own, below the
    // minimum; a smaller one joins the nearest grid, which is then in parts. Both are reported.
    for stray in strays {
        let size: u64 = stray.iter().map(|&n| g.nodes[n].size).sum();
        let unit = bounds.basis.unit();
        if size >= min / 2 || parts.is_empty() {
            report.warn(WarningKind::CutOff, format!(
                "{size} {unit} are cut off from the rest of the community and form a grid of their own, below the minimum {min}"
            ));
            parts.push(stray);
            continue;
        }
        let c = centroid(&g, &stray, tess, basic);
        let nearest = (0..parts.len())
            .min_by(|&i, &j| {
                dist(centroid(&g, &parts[i], tess, basic), c).total_cmp(&dist(centroid(&g, &parts[j], tess, basic), c))
            })
            .expect("there is a grid");
        report.warn(WarningKind::CutOff, format!(
            "{size} {unit} are cut off from the rest of the community and join the nearest grid, which is then in parts"
        ));
        parts[nearest].extend(stray);
    }
    parts
        .into_iter()
        .map(|p| p.into_iter().map(|n| basic[n]).collect())
        .collect()
}

fn centroid(g: &Graph, part: &[usize], tess: &Tessellation, basic: &[usize]) -> [f64; 2] {
    let (mut a, mut x, mut y) = (0.0, 0.0, 0.0);
    for &n in part {
        let s = &tess.atoms[basic[n]];
        let w = g.nodes[n].area_m2.max(1e-9);
        a += w;
        x += s.centroid[0] * w;
        y += s.centroid[1] * w;
    }
    [x / a, y / a]
}

fn dist(a: [f64; 2], b: [f64; 2]) -> f64 {
    (a[0] - b[0]).hypot(a[1] - b[1])
}

/// Grid counts to try for a size: the one nearest the middle of the band first.
fn counts_to_try(size: u64, bounds: &SizeBounds) -> Vec<u64> {
    match bounds.grid_counts(size) {
        GridCounts::Feasible { low, high } => {
            let target = (f64::from(bounds.min) + f64::from(bounds.max)) / 2.0;
            let ideal = (size as f64 / target).round() as u64;
            let mut ks: Vec<u64> = (low..=high).collect();
            ks.sort_by_key(|&k| (k.abs_diff(ideal), k));
            ks
        }
        _ => Vec::new(),
    }
}

#[allow(clippy::too_many_arguments)]
fn solve_component(
    g: &Graph,
    atoms: &[Atom],
    basic: &[usize],
    comp: &[usize],
    size: u64,
    bounds: &SizeBounds,
    seed: u64,
    report: &mut CommunityReport,
) -> Vec<Vec<usize>> {
    let (min, max) = (u64::from(bounds.min), u64::from(bounds.max));
    let members: Vec<usize> = comp.iter().map(|&n| basic[n]).collect();
    let sub = graph_subset(g, comp);
    let ks = counts_to_try(size, bounds);
    let band = Band { min, max };
    // Keep compounds whole; if no plan exists so, dissolve the biggest compounds one by one.
    let mut dissolved: BTreeSet<String> = BTreeSet::new();
    let compounds_by_size = compounds_by_size(atoms, &members);
    for round in 0..=compounds_by_size.len() {
        let (cg, groups) = contract(&sub, atoms, &members, max, &dissolved);
        let all: Vec<usize> = (0..cg.nodes.len()).collect();
        let mut search = Search::new(&cg, band, ChaCha8Rng::seed_from_u64(seed.wrapping_add(round as u64)));
        for &k in &ks {
            if let Some(mut parts) = search.split(&all, k) {
                search.refine(&mut parts);
                return expand(parts, &groups, comp);
            }
        }
        let Some(next) = compounds_by_size.get(round) else {
            break;
        };
        dissolved.insert(next.clone());
    }
    // No plan within the bounds: relax them step by step and say so.
    let k = match bounds.grid_counts(size) {
        GridCounts::Feasible { low, high } => {
            ((size as f64 / ((min + max) as f64 / 2.0)).round() as u64).clamp(low, high)
        }
        GridCounts::NoCountFits { low, .. } => low,
        _ => 1,
    };
    let all: Vec<usize> = (0..sub.nodes.len()).collect();
    let mut search = Search::new(&sub, band, ChaCha8Rng::seed_from_u64(seed ^ 0x5eed));
    for factor in [0.9, 0.75, 0.5, 0.0] {
        let relaxed = Band {
            min: (min as f64 * factor) as u64,
            max: if factor > 0.0 {
                (max as f64 / factor) as u64
            } else {
                u64::MAX
            },
        };
        search.set_band(relaxed);
        for k in (1..=k.max(1)).rev() {
            if let Some(mut parts) = search.split(&all, k) {
                search.refine(&mut parts);
                report.warn(
                    WarningKind::OutOfBounds,
                    format!(
                        "no plan keeps every grid within {}–{} {}; this one is the closest found ({} grids)",
                        min,
                        max,
                        bounds.basis.unit(),
                        k
                    ),
                );
                return parts
                    .into_iter()
                    .map(|p| p.into_iter().map(|n| comp[n]).collect())
                    .collect();
            }
        }
    }
    vec![comp.to_vec()]
}

fn compounds_by_size(atoms: &[Atom], members: &[usize]) -> Vec<String> {
    let mut sizes: BTreeMap<&str, u64> = BTreeMap::new();
    for &a in members {
        if let Some(c) = atoms[a].compound.as_deref() {
            *sizes.entry(c).or_default() += atoms[a].population;
        }
    }
    let mut list: Vec<(&str, u64)> = sizes.into_iter().collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    list.into_iter().map(|(c, _)| c.to_string()).collect()
}

/// The graph restricted to the nodes `comp` (renumbered in that order).
fn graph_subset(g: &Graph, comp: &[usize]) -> Graph {
    let mut local = vec![usize::MAX; g.nodes.len()];
    for (i, &n) in comp.iter().enumerate() {
        local[n] = i;
    }
    let nodes = comp.iter().map(|&n| g.nodes[n].clone()).collect();
    let edges = g
        .edges
        .iter()
        .filter(|e| local[e.a] != usize::MAX && local[e.b] != usize::MAX)
        .map(|e| Edge {
            a: local[e.a],
            b: local[e.b],
            ..e.clone()
        })
        .collect();
    Graph::new(nodes, edges)
}

/// Contracted parts → parts of the component's node numbers.
fn expand(parts: Vec<Vec<usize>>, groups: &[Vec<usize>], comp: &[usize]) -> Vec<Vec<usize>> {
    parts
        .into_iter()
        .map(|p| {
            let mut nodes: Vec<usize> = p.iter().flat_map(|&c| groups[c].iter().map(|&n| comp[n])).collect();
            nodes.sort_unstable();
            nodes
        })
        .collect()
}

/// Share of grid borders (between two grids) along a road or compound line; compounds that fit
/// one grid yet were split, and compounds split because they are bigger than a grid.
fn borders(tess: &Tessellation, atoms: &[Atom], group_of: &[Option<usize>], bounds: &SizeBounds) -> Borders {
    let (mut total, mut guided) = (0.0, 0.0);
    for adj in &tess.adjacency {
        if group_of[adj.a as usize] != group_of[adj.b as usize] {
            total += adj.length_m;
            let compound_line = atoms[adj.a as usize].compound != atoms[adj.b as usize].compound;
            guided += if compound_line { adj.length_m } else { adj.road_m };
        }
    }
    let mut grids_of: BTreeMap<&str, (BTreeSet<usize>, u64)> = BTreeMap::new();
    // Count buildings only: a piece of open space split off a building's cell is no part of
    // the compound on the ground.
    for (a, atom) in atoms.iter().enumerate().filter(|(_, a)| !a.members.is_empty()) {
        if let (Some(c), Some(g)) = (atom.compound.as_deref(), group_of[a]) {
            let e = grids_of.entry(c).or_default();
            e.0.insert(g);
            e.1 += atom.size(bounds.basis);
        }
    }
    let max = u64::from(bounds.max);
    let split = grids_of.values().filter(|(g, s)| g.len() > 1 && *s <= max).count();
    let must = grids_of.values().filter(|(g, s)| g.len() > 1 && *s > max).count();
    Borders {
        guided_share: if total > 0.0 { guided / total } else { 0.0 },
        split_compounds: split,
        split_compounds_too_big: must,
    }
}

/// Micro-grids (微网格) inside each basic grid: its atoms split by households, each micro-grid
/// connected; a building above the maximum is a micro-grid of its own.
#[allow(clippy::too_many_arguments)]
fn micro_grids(
    grids: &[Grid],
    parts: &[Vec<usize>],
    order: &[(usize, usize)],
    atoms: &[Atom],
    tess: &Tessellation,
    micro: &SizeBounds,
    scheme: &CodeScheme,
    seed: u64,
    report: &mut CommunityReport,
) -> Vec<Grid> {
    let mut out = Vec::new();
    let mut group_of: Vec<Option<usize>> = vec![None; atoms.len()];
    let mut members_of: Vec<(usize, Vec<usize>)> = Vec::new(); // (parent grid index, atoms)
    for &(seq, g) in order {
        let part = &parts[g];
        let sub = graph(tess, atoms, part, micro.basis);
        let all: Vec<usize> = (0..sub.nodes.len()).collect();
        // Big atoms stand alone; the rest are split within the bounds where possible.
        let big: Vec<usize> = all
            .iter()
            .copied()
            .filter(|&n| sub.nodes[n].size > u64::from(micro.max))
            .collect();
        let rest: Vec<usize> = all
            .iter()
            .copied()
            .filter(|&n| sub.nodes[n].size <= u64::from(micro.max))
            .collect();
        let mut pieces: Vec<Vec<usize>> = big.iter().map(|&n| vec![n]).collect();
        let band = Band {
            min: u64::from(micro.min),
            max: u64::from(micro.max),
        };
        for comp in sub.components(&rest) {
            let csize: u64 = comp.iter().map(|&n| sub.nodes[n].size).sum();
            let cg = graph_subset(&sub, &comp);
            let call: Vec<usize> = (0..cg.nodes.len()).collect();
            let mut cs = Search::new(
                &cg,
                band,
                ChaCha8Rng::seed_from_u64(seed ^ ((seq as u64) << 20) ^ comp[0] as u64),
            );
            let mut done = None;
            for k in counts_to_try(csize, micro) {
                if let Some(mut p) = cs.split(&call, k) {
                    cs.refine(&mut p);
                    done = Some(p);
                    break;
                }
            }
            let p = done.unwrap_or_else(|| {
                // Too small or lumpy for the bounds: best effort with the minimum relaxed.
                cs.set_band(Band {
                    min: 0,
                    max: u64::from(micro.max),
                });
                let k = csize.div_ceil(u64::from(micro.max)).max(1);
                (k..=k + 2)
                    .find_map(|k| cs.split(&call, k))
                    .unwrap_or_else(|| vec![call.clone()])
            });
            pieces.extend(p.into_iter().map(|q| q.into_iter().map(|n| comp[n]).collect()));
        }
        for piece in pieces {
            let idx = members_of.len();
            let atoms_in: Vec<usize> = piece.iter().map(|&n| part[n]).collect();
            for &a in &atoms_in {
                group_of[a] = Some(idx);
            }
            members_of.push((seq, atoms_in));
        }
    }
    let areas = tess.assemble(&group_of, members_of.len());
    let mut by_parent: Vec<Vec<Grid>> = vec![Vec::new(); grids.len()];
    for ((parent, atoms_in), area) in members_of.into_iter().zip(areas) {
        let parent_grid = &grids[parent];
        let mut buildings: Vec<String> = atoms_in
            .iter()
            .flat_map(|&a| atoms[a].members.iter().cloned())
            .collect();
        buildings.sort_unstable();
        by_parent[parent].push(Grid {
            code: String::new(),
            community_code: parent_grid.community_code.clone(),
            kind: GridKind::Basic,
            level: GridLevel::Micro,
            parent_code: None,
            name: None,
            area,
            population: atoms_in.iter().map(|&a| atoms[a].population).sum(),
            households: atoms_in.iter().map(|&a| atoms[a].households).sum(),
            buildings,
        });
    }
    for (parent, mut micro) in by_parent.into_iter().enumerate() {
        crate::codes::number_micro_grids(scheme, &grids[parent].code, &mut micro);
        micro.sort_by(|a, b| a.code.cmp(&b.code));
        out.append(&mut micro);
    }
    report.micro_grids = out.len();
    out
}
