//! `validate`: what is wrong with a grid layer, whoever drew it. "无缝覆盖、无盲区" — seamless,
//! no blind spots — is what street offices are judged by, so every finding is located, measured
//! on the ellipsoid and named by the codes it involves.
//!
//! - [`layer`]: hand-drawn geometry made usable, each fault a defect;
//! - [`edges`]: segments shared exactly or not, and GEOS's invalid coverage edges (near-misses);
//! - [`coverage`]: gaps, holes, overlaps, grids outside their community;
//! - [`contents`]: buildings, population points and resources, counted from the dataset;
//! - [`fix`]: the `--fix` layer.

mod contents;
mod coverage;
mod edges;
mod fix;
mod layer;
pub(crate) use layer::orient_rfc;
mod report;

pub use fix::{Change, ChangeKind, Repair, repair};
pub use layer::{Cleaned as CleanedArea, GeometryProblem, clean_rings, cut, make_valid};
pub use report::{
    Defect, DefectKind, GridCount, InvalidEdges, Slivers, Timings, ValidationReport, Warning, WarningKind,
    defects_geojson,
};

use crate::bounds::{GridCounts, SizeBasis, SizeBounds};
use crate::codes::{CodeDefect, CodeNote, CodeScheme, check_codes};
use crate::grid::{Grid, GridKind, GridLevel};
use crate::io::grids::DrawnLayer;
use crate::model::{Community, Dataset};
use edges::{Invalid, NONE, Segments};
use geo::{Contains, Geodesic, Geometry, InteriorPoint, Length, LineString, MultiLineString, MultiPolygon, Point};
use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

/// Settings of a validation.
#[derive(Debug, Clone)]
pub struct ValidateOptions {
    /// Size bounds of basic grids.
    pub bounds: SizeBounds,
    /// Gaps and overlaps smaller than this (m²) are noise: counted as slivers, not defects.
    pub tolerance_m2: f64,
    /// Edges of neighbouring grids closer than this (m) without matching are near-misses.
    pub gap_width_m: f64,
    pub scheme: CodeScheme,
}

impl Default for ValidateOptions {
    fn default() -> Self {
        Self {
            bounds: SizeBounds::default(),
            tolerance_m2: 1.0,
            gap_width_m: 1.0,
            scheme: CodeScheme::db11(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValidateError {
    #[error("the tolerance must be a finite area ≥ 0 m², found {0}")]
    Tolerance(f64),
    #[error("the gap width must be a finite length ≥ 0 m, found {0}")]
    GapWidth(f64),
}

impl ValidateOptions {
    fn check(&self) -> Result<(), ValidateError> {
        if !(self.tolerance_m2.is_finite() && self.tolerance_m2 >= 0.0) {
            return Err(ValidateError::Tolerance(self.tolerance_m2));
        }
        if !(self.gap_width_m.is_finite() && self.gap_width_m >= 0.0) {
            return Err(ValidateError::GapWidth(self.gap_width_m));
        }
        Ok(())
    }
}

/// A layer's grids with cleaned geometry, and what cleaning found.
pub(crate) struct Cleaned {
    pub grids: Vec<Grid>,
    pub problems: Vec<Vec<layer::GeometryProblem>>,
    /// Polygons as drawn.
    pub drawn_parts: Vec<usize>,
}

pub(crate) fn clean_layer(layer: &DrawnLayer) -> Cleaned {
    let cleaned: Vec<layer::Cleaned> = layer.grids.par_iter().map(layer::clean).collect();
    let mut grids = Vec::with_capacity(cleaned.len());
    let mut problems = Vec::with_capacity(cleaned.len());
    for (d, c) in layer.grids.iter().zip(cleaned) {
        grids.push(Grid {
            area: c.area,
            ..d.grid.clone()
        });
        problems.push(c.problems);
    }
    Cleaned {
        grids,
        problems,
        drawn_parts: layer.grids.iter().map(|d| d.rings.len()).collect(),
    }
}

/// A building cut by an edge between grids of one level (`level`: "grid" or "micro-grid"); `codes`
/// hold most of it first.
fn cut_defect(
    dataset: &Dataset,
    building: usize,
    codes: Vec<String>,
    outside_m2: f64,
    share: f64,
    level: &str,
) -> Defect {
    let b = &dataset.buildings[building];
    let message = format!(
        "building {} is cut by a {level} edge between {}: {} ({:.0}% of its footprint) lies outside {}",
        b.id,
        codes.join(" and "),
        report::m2(outside_m2),
        share * 100.0,
        codes[0]
    );
    let community = dataset.communities[b.community].code.to_string();
    let mut d = Defect::item(
        DefectKind::BuildingCut,
        codes,
        &community,
        &b.id,
        b.anchor,
        message,
        Geometry::MultiPolygon(b.footprint.clone()),
    );
    d.area_m2 = Some(outside_m2);
    d
}

/// Checks a drawn layer against its dataset.
///
/// # Examples
///
/// A layer as a street office might have drawn it, with a grid left out (a gap) and two grids
/// drawn over each other (an overlap), among other faults:
///
/// ```
/// use gis_core::io::grids::read_drawn_layer;
/// use gis_core::io::load_dataset;
/// use gis_core::validate::{DefectKind, ValidateOptions, validate};
/// use std::path::Path;
///
/// let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
/// let dataset = load_dataset(&fixtures.join("kangle"))?.dataset;
/// let layer = read_drawn_layer(&fixtures.join("layers/kangle-hand-drawn.geojson"))?;
/// let report = validate(&dataset, &layer, &ValidateOptions::default())?;
///
/// assert!(!report.is_clean());
/// let overlap = report.of_kind(DefectKind::Overlap).next().expect("an overlap");
/// assert_eq!(overlap.codes.len(), 2); // both grids, named by their codes
/// assert!(overlap.area_m2.is_some_and(|a| a > 0.0)); // measured on the ellipsoid
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn validate(
    dataset: &Dataset,
    layer: &DrawnLayer,
    options: &ValidateOptions,
) -> Result<ValidationReport, ValidateError> {
    let (cleaned, levels) = clean_and_check(&dataset.communities, layer, options)?;
    Ok(analyse_levels(dataset, &cleaned, options, levels).report)
}

/// The layer cleaned and both levels' coverage of `communities` checked, with the cleaning timed.
fn clean_and_check(
    communities: &[Community],
    layer: &DrawnLayer,
    options: &ValidateOptions,
) -> Result<(Cleaned, Levels), ValidateError> {
    options.check()?;
    let t = Instant::now();
    let cleaned = clean_layer(layer);
    let clean_s = t.elapsed().as_secs_f64();
    let mut levels = check_levels(communities, &cleaned, options);
    levels.timings.clean_s = clean_s;
    Ok((cleaned, levels))
}

/// The half of [`validate`] that needs only the dataset's communities: the layer cleaned and
/// each level's coverage checked. A command that reads a city's buildings does this meanwhile,
/// then counts the contents with [`CoverageChecked::validate`].
pub struct CoverageChecked {
    /// The communities checked against.
    communities: Vec<Community>,
    options: ValidateOptions,
    cleaned: Cleaned,
    levels: Levels,
}

/// Cleans `layer` and checks both levels' coverage of `communities` (see [`CoverageChecked`]).
pub fn check_coverage(
    communities: Vec<Community>,
    layer: &DrawnLayer,
    options: &ValidateOptions,
) -> Result<CoverageChecked, ValidateError> {
    let (cleaned, levels) = clean_and_check(&communities, layer, options)?;
    Ok(CoverageChecked {
        communities,
        options: options.clone(),
        cleaned,
        levels,
    })
}

impl CoverageChecked {
    /// The whole report against `dataset`. Coverage checked against other communities than the
    /// dataset's is checked again against the dataset's, so the report is always of `dataset`.
    pub fn validate(self, dataset: &Dataset) -> ValidationReport {
        let same = self.communities.len() == dataset.communities.len()
            && self
                .communities
                .iter()
                .zip(&dataset.communities)
                .all(|(a, b)| a.code == b.code && a.boundary == b.boundary);
        let levels = if same {
            self.levels
        } else {
            let mut levels = check_levels(&dataset.communities, &self.cleaned, &self.options);
            levels.timings.clean_s = self.levels.timings.clean_s;
            levels
        };
        analyse_levels(dataset, &self.cleaned, &self.options, levels).report
    }
}

/// One level of grids checked for coverage: the cells (indices into the layer) and results.
pub(crate) struct LevelCheck {
    pub cells: Vec<usize>,
    pub container_of: Vec<Option<usize>>,
    pub segs: Segments,
    pub invalid: Vec<Invalid>,
    pub coverage: coverage::Coverage,
}

pub(crate) struct Analysis {
    pub report: ValidationReport,
    pub grid_level: LevelCheck,
    pub micro_level: Option<LevelCheck>,
    /// Residents per grid (layer index), for the repair's tie-break.
    pub population: Vec<u64>,
}

fn check_level(
    cells: Vec<usize>,
    container_of: Vec<Option<usize>>,
    containers: Vec<&MultiPolygon<f64>>,
    cleaned: &Cleaned,
    options: &ValidateOptions,
    timings: &mut Timings,
) -> LevelCheck {
    let areas: Vec<&MultiPolygon<f64>> = cells.iter().map(|&g| &cleaned.grids[g].area).collect();
    let t = Instant::now();
    let segs = Segments::new(&areas);
    timings.segments_s += t.elapsed().as_secs_f64();
    let t = Instant::now();
    let outline: Vec<Option<&MultiPolygon<f64>>> = container_of
        .iter()
        .map(|k| k.and_then(|k| containers.get(k).copied()))
        .collect();
    let invalid = edges::invalid_edges(&areas, &segs, options.gap_width_m, &outline);
    timings.invalid_edges_s += t.elapsed().as_secs_f64();
    let suspect: Vec<bool> = cells.iter().map(|&g| !cleaned.problems[g].is_empty()).collect();
    let level = coverage::Level {
        cells: areas,
        container_of: container_of.clone(),
        containers,
        suspect,
    };
    let t = Instant::now();
    let coverage = coverage::analyse(&level, &segs, options.tolerance_m2);
    timings.coverage_s += t.elapsed().as_secs_f64();
    LevelCheck {
        cells,
        container_of,
        segs,
        invalid,
        coverage,
    }
}

/// Both levels of a cleaned layer checked for coverage, and the time each step took.
pub(crate) struct Levels {
    pub grid: LevelCheck,
    pub micro: Option<LevelCheck>,
    pub timings: Timings,
}

/// Coverage of both levels: grids tile their communities, micro-grids their grids.
fn check_levels(communities: &[Community], cleaned: &Cleaned, options: &ValidateOptions) -> Levels {
    let grids = &cleaned.grids;
    let community_ix: FxHashMap<&str, usize> = communities
        .iter()
        .enumerate()
        .map(|(i, c)| (c.code.as_str(), i))
        .collect();

    // Grid level: communities are the containers.
    let cells: Vec<usize> = (0..grids.len())
        .filter(|&g| grids[g].level == GridLevel::Grid)
        .collect();
    let container_of: Vec<Option<usize>> = cells
        .iter()
        .map(|&g| community_ix.get(grids[g].community_code.as_str()).copied())
        .collect();
    let containers: Vec<&MultiPolygon<f64>> = communities.iter().map(|c| &c.boundary).collect();
    let mut timings = Timings::default();
    let grid_level = check_level(cells, container_of, containers, cleaned, options, &mut timings);

    // Micro level: each micro-grid's parent grid is its container.
    let micro: Vec<usize> = (0..grids.len())
        .filter(|&g| grids[g].level == GridLevel::Micro)
        .collect();
    let micro_level = (!micro.is_empty()).then(|| {
        let by_code: FxHashMap<&str, usize> = grid_level
            .cells
            .iter()
            .enumerate()
            .map(|(i, &g)| (grids[g].code.as_str(), i))
            .collect();
        let container_of: Vec<Option<usize>> = micro
            .iter()
            .map(|&g| grids[g].parent_code.as_deref().and_then(|p| by_code.get(p).copied()))
            .collect();
        // A grid without micro-grids (an exclusive grid: a school has no households to divide)
        // is not a gap of the micro level: it has nothing to cover.
        let divided: FxHashSet<usize> = container_of.iter().flatten().copied().collect();
        let none = MultiPolygon::<f64>(Vec::new());
        let containers: Vec<&MultiPolygon<f64>> = grid_level
            .cells
            .iter()
            .enumerate()
            .map(|(i, &g)| if divided.contains(&i) { &grids[g].area } else { &none })
            .collect();
        check_level(micro, container_of, containers, cleaned, options, &mut timings)
    });
    Levels {
        grid: grid_level,
        micro: micro_level,
        timings,
    }
}

pub(crate) fn analyse(dataset: &Dataset, cleaned: &Cleaned, options: &ValidateOptions) -> Analysis {
    let levels = check_levels(&dataset.communities, cleaned, options);
    analyse_levels(dataset, cleaned, options, levels)
}

/// The report of a layer whose coverage `levels` were checked against `dataset`'s communities.
fn analyse_levels(dataset: &Dataset, cleaned: &Cleaned, options: &ValidateOptions, levels: Levels) -> Analysis {
    let grids = &cleaned.grids;
    let community_ix: FxHashMap<&str, usize> = dataset
        .communities
        .iter()
        .enumerate()
        .map(|(i, c)| (c.code.as_str(), i))
        .collect();
    let community_name = |k: usize| format!("{} {}", dataset.communities[k].code, dataset.communities[k].name);
    let Levels {
        grid: grid_level,
        micro: micro_level,
        mut timings,
    } = levels;

    let mut defects: Vec<Defect> = Vec::new();
    let mut warnings: Vec<Warning> = Vec::new();
    let mut slivers = Slivers::default();
    let code = |g: usize| grids[g].code.clone();

    // Coverage findings of both levels.
    for (check, micro) in std::iter::once((&grid_level, false)).chain(micro_level.iter().map(|m| (m, true))) {
        let what = if micro { "micro-grid" } else { "grid" };
        let container_name = |k: usize| {
            if micro {
                format!("grid {}", grids[grid_level.cells[k]].code)
            } else {
                format!("community {}", community_name(k))
            }
        };
        let community_of = |k: usize| {
            if micro {
                grids[grid_level.cells[k]].community_code.clone()
            } else {
                dataset.communities[k].code.to_string()
            }
        };
        let mut explained: BTreeSet<(usize, usize)> = BTreeSet::new();
        for gap in &check.coverage.gaps {
            if gap.area_m2 < options.tolerance_m2 {
                slivers.gaps += 1;
                slivers.gap_area_m2 += gap.area_m2;
                continue;
            }
            let codes: Vec<String> = gap.neighbours.iter().map(|&(c, _)| code(check.cells[c])).collect();
            for (i, a) in gap.neighbours.iter().enumerate() {
                for b in &gap.neighbours[i + 1..] {
                    explained.insert((a.0.min(b.0), a.0.max(b.0)));
                }
            }
            let at = gap.polygon.interior_point().map(|p| [p.x(), p.y()]);
            let (kind, message) = match gap.hole_of {
                Some(c) => (
                    DefectKind::Hole,
                    format!(
                        "hole of {} in {what} {} that no other {what} fills",
                        report::m2(gap.area_m2),
                        code(check.cells[c])
                    ),
                ),
                None if codes.is_empty() => (
                    DefectKind::Gap,
                    format!(
                        "{} of {} covered by no {what}",
                        report::m2(gap.area_m2),
                        container_name(gap.container)
                    ),
                ),
                None => (
                    DefectKind::Gap,
                    format!(
                        "gap of {} in {} beside {}",
                        report::m2(gap.area_m2),
                        container_name(gap.container),
                        codes.join(", ")
                    ),
                ),
            };
            defects.push(Defect {
                kind,
                codes,
                community: Some(community_of(gap.container)),
                area_m2: Some(gap.area_m2),
                length_m: None,
                item: None,
                at,
                message,
                geometry: Some(Geometry::Polygon(gap.polygon.clone())),
            });
        }
        for o in &check.coverage.overlaps {
            if o.area_m2 < options.tolerance_m2 {
                slivers.overlaps += 1;
                slivers.overlap_area_m2 += o.area_m2;
                continue;
            }
            explained.insert((o.a.min(o.b), o.a.max(o.b)));
            let (a, b) = (check.cells[o.a], check.cells[o.b]);
            defects.push(Defect {
                kind: DefectKind::Overlap,
                codes: vec![code(a), code(b)],
                community: Some(grids[a].community_code.clone()),
                area_m2: Some(o.area_m2),
                length_m: None,
                item: None,
                at: o.area.interior_point().map(|p| [p.x(), p.y()]),
                message: format!(
                    "{what}s {} and {} overlap by {}",
                    grids[a].code,
                    grids[b].code,
                    report::m2(o.area_m2)
                ),
                geometry: Some(Geometry::MultiPolygon(o.area.clone())),
            });
        }
        // Near-misses: invalid edges, per pair of grids, where no gap or overlap above the
        // tolerance already explains them.
        let mut by_pair: BTreeMap<(usize, usize), Vec<(usize, usize)>> = BTreeMap::new();
        for inv in &check.invalid {
            let owner = check.segs.owner[inv.seg] as usize;
            let other = if inv.against == NONE {
                owner
            } else {
                inv.against as usize
            };
            by_pair
                .entry((owner.min(other), owner.max(other)))
                .or_default()
                .push((owner, inv.seg));
        }
        for ((a, b), segs) in by_pair {
            if explained.contains(&(a, b)) {
                continue;
            }
            let side = |c: usize| -> f64 {
                segs.iter()
                    .filter(|s| s.0 == c)
                    .map(|s| Geodesic.length(&check.segs.lines[s.1]))
                    .sum()
            };
            let length = side(a).max(side(b));
            let lines = MultiLineString(segs.iter().map(|s| LineString::from(check.segs.lines[s.1])).collect());
            let (ga, gb) = (check.cells[a], check.cells[b]);
            let first = check.segs.lines[segs[0].1].start;
            defects.push(Defect {
                kind: DefectKind::NearMiss,
                codes: if a == b {
                    vec![code(ga)]
                } else {
                    vec![code(ga), code(gb)]
                },
                community: Some(grids[ga].community_code.clone()),
                area_m2: None,
                length_m: Some(length),
                item: None,
                at: Some([first.x, first.y]),
                message: format!(
                    "edges of {what}s {} and {} almost but do not quite match along {}",
                    grids[ga].code,
                    grids[gb].code,
                    report::metres(length)
                ),
                geometry: Some(Geometry::MultiLineString(lines)),
            });
        }
        for out in &check.coverage.outside {
            let g = check.cells[out.cell];
            let own = check.container_of[out.cell];
            if !out.spans.is_empty() {
                let list: Vec<String> = out
                    .spans
                    .iter()
                    .map(|(k, a, _)| format!("{} in {}", report::m2(*a), container_name(*k)))
                    .collect();
                let area: f64 = out.spans.iter().map(|s| s.1).sum();
                let mut geom = MultiPolygon(Vec::new());
                for s in &out.spans {
                    geom.0.extend(s.2.0.iter().cloned());
                }
                defects.push(Defect {
                    kind: DefectKind::SpansCommunities,
                    codes: vec![code(g)],
                    community: own.map(community_of),
                    area_m2: Some(area),
                    length_m: None,
                    item: None,
                    at: geom.interior_point().map(|p| [p.x(), p.y()]),
                    message: format!(
                        "{what} {} reaches beyond {}: {}",
                        grids[g].code,
                        own.map_or_else(|| "its unknown container".into(), container_name),
                        list.join(", ")
                    ),
                    geometry: Some(Geometry::MultiPolygon(geom)),
                });
            }
            if out.outside_m2 >= options.tolerance_m2 && own.is_some() {
                defects.push(Defect {
                    kind: DefectKind::OutsideCommunity,
                    codes: vec![code(g)],
                    community: own.map(community_of),
                    area_m2: Some(out.outside_m2),
                    length_m: None,
                    item: None,
                    at: out.outside.interior_point().map(|p| [p.x(), p.y()]),
                    message: format!(
                        "{} of {what} {} lies outside {}",
                        report::m2(out.outside_m2),
                        grids[g].code,
                        own.map_or_else(String::new, container_name)
                    ),
                    geometry: Some(Geometry::MultiPolygon(out.outside.clone())),
                });
            }
        }
        for (c, k) in check.container_of.iter().enumerate() {
            if k.is_none() {
                let g = &grids[check.cells[c]];
                let message = if micro {
                    format!(
                        "micro-grid {} names parent {} which is not a grid of the layer",
                        g.code,
                        g.parent_code.as_deref().unwrap_or("(none)")
                    )
                } else {
                    format!(
                        "grid {} names community {} which is not in the dataset",
                        g.code, g.community_code
                    )
                };
                defects.push(Defect {
                    kind: DefectKind::UnknownCommunity,
                    codes: vec![g.code.clone()],
                    community: Some(g.community_code.clone()),
                    area_m2: Some(layer::area_m2(&g.area)),
                    length_m: None,
                    item: None,
                    at: g.area.interior_point().map(|p| [p.x(), p.y()]),
                    message,
                    geometry: Some(Geometry::MultiPolygon(g.area.clone())),
                });
            }
        }
    }

    // Geometry as drawn.
    for (g, problems) in cleaned.problems.iter().enumerate() {
        for p in problems {
            defects.push(Defect {
                kind: p.kind,
                codes: vec![code(g)],
                community: Some(grids[g].community_code.clone()),
                area_m2: None,
                length_m: None,
                item: None,
                at: p.at.map(|c| [c.x, c.y]),
                message: format!("grid {}: {}", grids[g].code, p.message),
                geometry: p.at.map(|c| Geometry::Point(Point(c))),
            });
        }
    }
    // Multipart grids: allowed only one part per part of the community.
    for (g, &parts) in cleaned.drawn_parts.iter().enumerate() {
        if parts < 2 || grids[g].level != GridLevel::Grid {
            continue;
        }
        let community = community_ix
            .get(grids[g].community_code.as_str())
            .map(|&k| &dataset.communities[k].boundary);
        let homes: Vec<Option<usize>> = grids[g]
            .area
            .0
            .iter()
            .map(|p| {
                p.interior_point()
                    .and_then(|pt| community.and_then(|c| c.0.iter().position(|cp| cp.contains(&pt))))
            })
            .collect();
        let distinct: BTreeSet<usize> = homes.iter().flatten().copied().collect();
        if distinct.len() < homes.len() {
            defects.push(Defect {
                kind: DefectKind::Multipart,
                codes: vec![code(g)],
                community: Some(grids[g].community_code.clone()),
                area_m2: Some(layer::area_m2(&grids[g].area)),
                length_m: None,
                item: None,
                at: grids[g].area.interior_point().map(|p| [p.x(), p.y()]),
                message: format!(
                    "grid {} is in {parts} parts; a grid is one polygon (several only where its community is in parts)",
                    grids[g].code
                ),
                geometry: Some(Geometry::MultiPolygon(grids[g].area.clone())),
            });
        }
    }

    // Contents, counted from the dataset.
    let level_areas: Vec<&MultiPolygon<f64>> = grid_level.cells.iter().map(|&g| &grids[g].area).collect();
    let t = Instant::now();
    let contents = contents::check(dataset, &level_areas, &options.bounds, options.tolerance_m2);
    slivers.buildings = contents.building_slivers;
    timings.contents_s = t.elapsed().as_secs_f64();
    let cell_code = |c: usize| code(grid_level.cells[c]);
    for f in &contents.findings {
        let d = match f {
            contents::Finding::BuildingInNoGrid(b) => {
                let b = &dataset.buildings[*b];
                Defect::item(
                    DefectKind::BuildingInNoGrid,
                    vec![],
                    &dataset.communities[b.community].code.to_string(),
                    &b.id,
                    b.anchor,
                    format!("building {} is in no grid", b.id),
                    Geometry::MultiPolygon(b.footprint.clone()),
                )
            }
            contents::Finding::BuildingInTwoGrids(b, gs) => {
                let b = &dataset.buildings[*b];
                let codes: Vec<String> = gs.iter().map(|&c| cell_code(c)).collect();
                Defect::item(
                    DefectKind::BuildingInTwoGrids,
                    codes.clone(),
                    &dataset.communities[b.community].code.to_string(),
                    &b.id,
                    b.anchor,
                    format!("building {} is in {} grids: {}", b.id, codes.len(), codes.join(", ")),
                    Geometry::MultiPolygon(b.footprint.clone()),
                )
            }
            contents::Finding::BuildingCut(b, gs, outside_m2, share) => cut_defect(
                dataset,
                *b,
                gs.iter().map(|&c| cell_code(c)).collect(),
                *outside_m2,
                *share,
                "grid",
            ),
            contents::Finding::PointInNoGrid(p) => {
                let p = &dataset.points[*p];
                Defect::item(
                    DefectKind::PointInNoGrid,
                    vec![],
                    &dataset.communities[p.community].code.to_string(),
                    "",
                    p.location,
                    format!(
                        "{} resident{} located at {} are in no grid",
                        p.count,
                        if p.count == 1 { "" } else { "s" },
                        layer::fmt_at(p.location.0)
                    ),
                    Geometry::Point(p.location),
                )
            }
            contents::Finding::ResourceInNoGrid(r) => {
                let r = &dataset.resources[*r];
                let community = r
                    .community
                    .map(|k| dataset.communities[k].code.to_string())
                    .unwrap_or_default();
                Defect::item(
                    DefectKind::ResourceInNoGrid,
                    vec![],
                    &community,
                    &r.id,
                    r.location,
                    format!("{} {} ({}) is in no grid", r.kind, r.id, r.name),
                    Geometry::Point(r.location),
                )
            }
        };
        defects.push(d);
    }
    // Micro-grids: the same cut rule, so a building split between two micro-grids is found too.
    if let Some(micro) = &micro_level {
        let micro_areas: Vec<&MultiPolygon<f64>> = micro.cells.iter().map(|&g| &grids[g].area).collect();
        let checked = contents::check(dataset, &micro_areas, &options.bounds, options.tolerance_m2);
        slivers.micro_buildings = checked.building_slivers;
        for f in &checked.findings {
            if let contents::Finding::BuildingCut(b, gs, outside_m2, share) = f {
                let codes = gs.iter().map(|&c| code(micro.cells[c])).collect();
                defects.push(cut_defect(dataset, *b, codes, *outside_m2, *share, "micro-grid"));
            }
        }
    }
    let mut population = vec![0; grids.len()];
    let mut counts = Vec::with_capacity(grid_level.cells.len());
    for (c, &g) in grid_level.cells.iter().enumerate() {
        let h = &contents.held[c];
        population[g] = h.population;
        counts.push(GridCount {
            code: code(g),
            kind: grids[g].kind,
            population: h.population,
            households: h.households,
            buildings: h.buildings.len(),
        });
    }
    // Sizes of basic grids, where the community can be split within the bounds at all.
    let bounds = options.bounds;
    let mut community_size: FxHashMap<&str, u64> = FxHashMap::default();
    for (c, &g) in grid_level.cells.iter().enumerate() {
        if grids[g].kind == GridKind::Basic {
            *community_size.entry(grids[g].community_code.as_str()).or_default() +=
                size_of(&contents.held[c], bounds.basis);
        }
    }
    let mut infeasible: BTreeSet<&str> = BTreeSet::new();
    for (c, &g) in grid_level.cells.iter().enumerate() {
        let grid = &grids[g];
        if grid.kind != GridKind::Basic {
            continue;
        }
        let size = size_of(&contents.held[c], bounds.basis);
        if (u64::from(bounds.min)..=u64::from(bounds.max)).contains(&size) {
            continue;
        }
        let total = community_size[grid.community_code.as_str()];
        if !matches!(bounds.grid_counts(total), GridCounts::Feasible { .. }) {
            if infeasible.insert(grid.community_code.as_str()) {
                warnings.push(Warning {
                    kind: WarningKind::InfeasibleCommunity,
                    community: Some(grid.community_code.clone()),
                    codes: vec![],
                    message: format!("community {}: {total} {} cannot be split into grids of {bounds}; its grid sizes are not checked", grid.community_code, bounds.basis.unit()),
                });
            }
            continue;
        }
        let (kind, side) = if size < u64::from(bounds.min) {
            (DefectKind::GridTooSmall, "below")
        } else {
            (DefectKind::GridTooLarge, "above")
        };
        defects.push(Defect {
            kind,
            codes: vec![grid.code.clone()],
            community: Some(grid.community_code.clone()),
            area_m2: None,
            length_m: None,
            item: None,
            at: grid.area.interior_point().map(|p| [p.x(), p.y()]),
            message: format!(
                "basic grid {} holds {size} {}, {side} the bounds {bounds}",
                grid.code,
                bounds.basis.unit()
            ),
            geometry: None,
        });
    }

    // Codes.
    let t = Instant::now();
    let check = check_codes(&options.scheme, grids);
    timings.codes_s = t.elapsed().as_secs_f64();
    for d in check.defects {
        let (kind, codes, message) = match d {
            CodeDefect::Malformed { code, reason } => (
                DefectKind::MalformedCode,
                vec![code.clone()],
                format!(
                    "code {code:?} does not fit the scheme {}: {reason}",
                    options.scheme.name
                ),
            ),
            CodeDefect::Duplicate { code, count } => (
                DefectKind::DuplicateCode,
                vec![code.clone()],
                format!("code {code} is used by {count} grids"),
            ),
            CodeDefect::WrongCommunity { code, community_code } => (
                DefectKind::CodeWrongCommunity,
                vec![code.clone()],
                format!("code {code} is not a code of its community {community_code}"),
            ),
            CodeDefect::WrongKind { code, grid_kind } => (
                DefectKind::CodeWrongKind,
                vec![code.clone()],
                format!(
                    "code {code} is numbered as the other kind of grid than {}",
                    if grid_kind == GridKind::Basic {
                        "basic"
                    } else {
                        "exclusive"
                    }
                ),
            ),
            CodeDefect::WrongParent { code, parent_code } => (
                DefectKind::CodeWrongParent,
                vec![code.clone()],
                format!(
                    "micro-grid code {code} does not extend its parent {}",
                    parent_code.as_deref().unwrap_or("(none)")
                ),
            ),
        };
        let g = grids.iter().find(|g| g.code == codes[0]);
        defects.push(Defect {
            kind,
            community: g.map(|g| g.community_code.clone()),
            at: g.and_then(|g| g.area.interior_point()).map(|p| [p.x(), p.y()]),
            codes,
            area_m2: None,
            length_m: None,
            item: None,
            message,
            geometry: None,
        });
    }
    for n in check.notes {
        let CodeNote::OutOfOrder {
            community_code,
            expected,
        } = n;
        warnings.push(Warning {
            kind: WarningKind::CodesOutOfOrder,
            community: Some(community_code.clone()),
            message: format!("community {community_code}: basic grids are not numbered in reading order (north to south, west to east); kept codes are fine, reading order would be {}", expected.join(", ")),
            codes: expected,
        });
    }
    if slivers.buildings + slivers.micro_buildings > 0 {
        warnings.push(Warning {
            kind: WarningKind::Slivers,
            community: None,
            codes: vec![],
            message: format!(
                "{} building{} reach into a second grid (and {} into a second micro-grid) by no more than the tolerance ({} m²): shared walls and overlaps, not cuts",
                slivers.buildings,
                if slivers.buildings == 1 { "" } else { "s" },
                slivers.micro_buildings,
                options.tolerance_m2
            ),
        });
    }
    if slivers.gaps + slivers.overlaps > 0 {
        warnings.push(Warning {
            kind: WarningKind::Slivers,
            community: None,
            codes: vec![],
            message: format!(
                "{} slivers below tolerance ({} m²): {} gaps totalling {}, {} overlaps totalling {}",
                slivers.gaps + slivers.overlaps,
                options.tolerance_m2,
                slivers.gaps,
                report::m2(slivers.gap_area_m2),
                slivers.overlaps,
                report::m2(slivers.overlap_area_m2)
            ),
        });
    }
    defects.sort_by(|a, b| {
        a.kind
            .cmp(&b.kind)
            .then(b.magnitude().total_cmp(&a.magnitude()))
            .then(a.codes.cmp(&b.codes))
            .then(a.message.cmp(&b.message))
    });

    // GEOS-style invalid edges per grid, for comparison with other validators.
    let mut invalid_edges: Vec<InvalidEdges> = Vec::new();
    for (check, level) in
        std::iter::once((&grid_level, GridLevel::Grid)).chain(micro_level.iter().map(|m| (m, GridLevel::Micro)))
    {
        let mut per: BTreeMap<usize, (usize, f64)> = BTreeMap::new();
        for inv in &check.invalid {
            let e = per.entry(check.segs.owner[inv.seg] as usize).or_default();
            e.0 += 1;
            e.1 += Geodesic.length(&check.segs.lines[inv.seg]);
        }
        for (c, (n, len)) in per {
            invalid_edges.push(InvalidEdges {
                code: code(check.cells[c]),
                level,
                segments: n,
                length_m: len,
            });
        }
    }

    let report = ValidationReport {
        grids: grid_level.cells.len(),
        micro_grids: micro_level.as_ref().map_or(0, |m| m.cells.len()),
        communities: dataset.communities.len(),
        exact_communities: grid_level.coverage.exact.iter().filter(|&&e| e).count(),
        tolerance_m2: options.tolerance_m2,
        gap_width_m: options.gap_width_m,
        bounds,
        defects,
        warnings,
        slivers,
        invalid_edges,
        counts,
        timings,
    };
    Analysis {
        report,
        grid_level,
        micro_level,
        population,
    }
}

fn size_of(h: &contents::Held, basis: SizeBasis) -> u64 {
    match basis {
        SizeBasis::Residents => h.population,
        SizeBasis::Households => h.households,
    }
}
