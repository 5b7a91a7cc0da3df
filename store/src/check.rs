//! What a layer must pass before it is made current (published, rolled back to, or served):
//!
//! 1. **It reads back**: each grid's stored GeoJSON parses, strictly, to the same grid: the grid
//!    as written (to the bit) when it is saved, and what the row's own columns (code, community,
//!    kind, level, parent, counts) say when a stored layer is published or served.
//! 2. **Every area is OGC-valid** (geo's `Validation`; see [`gis_core::verify::invalid_reason`]).
//! 3. **Each level is one exact coverage** of the layer's dataset: the partition's own self-check
//!    ([`gis_core::verify::verify`]) for the grid level and, when the layer has micro-grids,
//!    the micro level; and every community of the dataset has grids at that level.
//!
//! A layer failing 1 or 2 is never stored at all (its text would not read back); a layer failing
//! only 3 may be saved as a draft, marked with its problems, and is never published.

use gis_core::Dataset;
use gis_core::grid::{Grid, GridLevel};
use gis_core::io::grids::{GridLayer, LayerMeta, parse_layer};
use gis_core::verify::{invalid_reason, verify};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// One reason a layer cannot be published or served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerProblem {
    /// The grid (or micro-grid) concerned, when it is one grid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid: Option<String>,
    pub kind: LayerProblemKind,
    /// What is wrong, for a person to read.
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LayerProblemKind {
    /// The stored text does not parse back to the same grid.
    ReadBack,
    /// The grid's area is not an OGC-valid MultiPolygon.
    InvalidGeometry,
    /// A level is not one exact coverage (gap, overlap, unshared vertices, a community without grids).
    Coverage,
    /// A grid edge runs through a building.
    BuildingCut,
    /// The layer's dataset does not read back.
    Dataset,
    /// The layer cannot be indexed for lookups.
    Index,
}

impl fmt::Display for LayerProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.grid {
            Some(code) => write!(f, "grid {code}: {}", self.reason),
            None => f.write_str(&self.reason),
        }
    }
}

impl LayerProblem {
    pub(crate) fn new(grid: Option<&str>, kind: LayerProblemKind, reason: impl Into<String>) -> Self {
        Self {
            grid: grid.map(String::from),
            kind,
            reason: reason.into(),
        }
    }

    /// Whether the layer would not even read back (as opposed to reading back but not covering).
    pub fn is_unreadable(&self) -> bool {
        matches!(
            self.kind,
            LayerProblemKind::ReadBack | LayerProblemKind::InvalidGeometry
        )
    }
}

/// Problems listed in an error message: the first few, then a count.
pub(crate) fn summary(problems: &[LayerProblem]) -> String {
    const SHOWN: usize = 10;
    let n = problems.len();
    let mut out = format!("{n} problem{}", if n == 1 { "" } else { "s" });
    for p in problems.iter().take(SHOWN) {
        out.push_str("\n  - ");
        out.push_str(&p.to_string());
    }
    if n > SHOWN {
        out.push_str(&format!("\n  ... and {} more", n - SHOWN));
    }
    out
}

/// Grids whose area is not OGC-valid, in the layer's order (checked on every core).
pub(crate) fn invalid_geometry(layer: &GridLayer) -> Vec<LayerProblem> {
    layer
        .grids
        .par_iter()
        .filter_map(|g| {
            invalid_reason(&g.area).map(|r| LayerProblem::new(Some(&g.code), LayerProblemKind::InvalidGeometry, r))
        })
        .collect()
}

/// A grid row's indexed columns: what the row says its feature is.
pub(crate) struct StoredRow {
    pub code: String,
    pub community_code: String,
    pub kind: String,
    pub level: String,
    pub parent_code: Option<String>,
    pub population: i64,
    pub households: i64,
    pub feature: String,
}

/// SHA-256 of a stored layer as a publish reads it back: its dataset, its metadata and every
/// grid row's columns, in order, each text length-prefixed.
pub(crate) type Digest = [u8; 32];

/// A grid row's columns as a publish reads them back, written or read.
pub(crate) struct Columns<'a> {
    pub code: &'a str,
    pub community_code: &'a str,
    pub kind: &'a str,
    pub level: &'a str,
    pub parent_code: Option<&'a str>,
    pub population: i64,
    pub households: i64,
    pub feature: &'a str,
}

impl StoredRow {
    pub(crate) fn columns(&self) -> Columns<'_> {
        Columns {
            code: &self.code,
            community_code: &self.community_code,
            kind: &self.kind,
            level: &self.level,
            parent_code: self.parent_code.as_deref(),
            population: self.population,
            households: self.households,
            feature: &self.feature,
        }
    }
}

pub(crate) fn digest<'a>(dataset: i64, meta: &str, rows: impl IntoIterator<Item = Columns<'a>>) -> Digest {
    use sha2::{Digest as _, Sha256};
    fn text(h: &mut Sha256, t: Option<&str>) {
        match t {
            None => h.update(u64::MAX.to_le_bytes()),
            Some(t) => {
                h.update((t.len() as u64).to_le_bytes());
                h.update(t.as_bytes());
            }
        }
    }
    let mut h = Sha256::new();
    h.update(dataset.to_le_bytes());
    text(&mut h, Some(meta));
    for r in rows {
        for t in [r.code, r.community_code, r.kind, r.level] {
            text(&mut h, Some(t));
        }
        text(&mut h, r.parent_code);
        h.update(r.population.to_le_bytes());
        h.update(r.households.to_le_bytes());
        text(&mut h, Some(r.feature));
    }
    h.finalize().into()
}

/// Reads a layer back from its stored metadata and grid rows (`(code, feature text)`, in order),
/// grid by grid, so that every grid that does not read back is named. The layer holds the grids
/// that did, in order.
pub(crate) fn read_back<'a>(
    meta: &str,
    rows: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> (GridLayer, Vec<LayerProblem>) {
    let mut problems = Vec::new();
    let meta = serde_json::from_str::<LayerMeta>(meta).unwrap_or_else(|e| {
        problems.push(LayerProblem::new(
            None,
            LayerProblemKind::ReadBack,
            format!("the layer's metadata does not read back: {e}"),
        ));
        LayerMeta::default()
    });
    // Each stored feature reads back on its own: on both cores, in the layer's order.
    let rows: Vec<(&str, &str)> = rows.into_iter().collect();
    let read: Vec<std::result::Result<Grid, LayerProblem>> = rows
        .par_iter()
        .map(|&(code, text)| {
            let bad = |reason: String| LayerProblem::new(Some(code), LayerProblemKind::ReadBack, reason);
            let value: serde_json::Value =
                serde_json::from_str(text).map_err(|e| bad(format!("the stored feature is not JSON: {e}")))?;
            let one = serde_json::json!({"type": "FeatureCollection", "features": [value]});
            let (parsed, found) = parse_layer(&one, "stored layer");
            if let Some(p) = found.iter().find(|p| !p.kind.is_warning()) {
                let field = p.field.as_deref().map(|f| format!("{f}: ")).unwrap_or_default();
                return Err(bad(format!("does not read back: {field}{}", p.message)));
            }
            let Some(grid) = parsed.grids.into_iter().next() else {
                return Err(bad("does not read back: no grid in the stored feature".into()));
            };
            if grid.code != code {
                return Err(bad(format!("the stored feature carries code {}", grid.code)));
            }
            Ok(grid)
        })
        .collect();
    let mut grids = Vec::with_capacity(read.len());
    for r in read {
        match r {
            Ok(g) => grids.push(g),
            Err(p) => problems.push(p),
        }
    }
    (GridLayer { grids, meta }, problems)
}

/// Which field of a grid as read back differs from the grid as written, if any: geometry to
/// the bit (a ring re-oriented or a repeated point dropped on reading counts), buildings as a
/// set (they are kept sorted).
pub(crate) fn differs(read: &Grid, written: &Grid) -> Option<&'static str> {
    let mut buildings = written.buildings.clone();
    buildings.sort_unstable();
    let parent = if written.level == GridLevel::Micro {
        written.parent_code.as_ref()
    } else {
        None
    };
    [
        (read.community_code != written.community_code, "community_code"),
        (read.kind != written.kind, "kind"),
        (read.level != written.level, "level"),
        (read.parent_code.as_ref() != parent, "parent_code"),
        (read.name != written.name, "name"),
        (
            read.population != written.population || read.households != written.households,
            "population or households",
        ),
        (read.buildings != buildings, "buildings"),
        (read.area != written.area, "geometry"),
    ]
    .into_iter()
    .find_map(|(d, what)| d.then_some(what))
}

/// Which of a stored grid's indexed columns disagrees with its feature as read back, if any.
pub(crate) fn differs_from_row(read: &Grid, row: &StoredRow) -> Option<&'static str> {
    let kind = match read.kind {
        gis_core::grid::GridKind::Basic => "basic",
        gis_core::grid::GridKind::Exclusive => "exclusive",
    };
    let level = match read.level {
        GridLevel::Grid => "grid",
        GridLevel::Micro => "micro",
    };
    let count = |v: u64| i64::try_from(v).unwrap_or(-1);
    [
        (read.community_code != row.community_code, "community_code"),
        (kind != row.kind, "kind"),
        (level != row.level, "level"),
        (
            read.level == GridLevel::Micro && read.parent_code != row.parent_code,
            "parent_code",
        ),
        (
            count(read.population) != row.population || count(read.households) != row.households,
            "population or households",
        ),
    ]
    .into_iter()
    .find_map(|(d, what)| d.then_some(what))
}

/// Grids (by code) that read back unlike `expected` says they should: `what` names the field.
pub(crate) fn mismatch(code: &str, what: &str, against: &str) -> LayerProblem {
    LayerProblem::new(
        Some(code),
        LayerProblemKind::ReadBack,
        format!("does not read back to the same grid: its {what} differs from the {against}"),
    )
}

/// Whether each level of `layer` is one exact coverage of `dataset`, and every area valid.
/// Slow on a city (a parallel pass over every edge and building): run it off the async threads.
pub(crate) fn fit(dataset: &Dataset, layer: &GridLayer) -> Vec<LayerProblem> {
    /// Buildings cut are listed one by one up to this many.
    const CUTS_SHOWN: usize = 50;
    let mut problems = Vec::new();
    let mut levels = vec![GridLevel::Grid];
    if layer.grids.iter().any(|g| g.level == GridLevel::Micro) {
        levels.push(GridLevel::Micro);
    }
    let mut invalid_seen = BTreeSet::new();
    let mut cut_seen = BTreeSet::new();
    for level in levels {
        let name = match level {
            GridLevel::Grid => "grids",
            GridLevel::Micro => "micro-grids",
        };
        let v = verify(dataset, &layer.grids, level);
        for g in v.invalid_grids {
            if invalid_seen.insert(g.code.clone()) {
                problems.push(LayerProblem::new(
                    Some(&g.code),
                    LayerProblemKind::InvalidGeometry,
                    g.reason,
                ));
            }
        }
        if v.bad_shared_edges > 0 {
            problems.push(LayerProblem::new(
                None,
                LayerProblemKind::Coverage,
                format!(
                    "{name}: {} edges are used twice the same way or by one grid on both sides (an overlap)",
                    v.bad_shared_edges
                ),
            ));
        }
        if v.unmatched_edges > 0 {
            problems.push(LayerProblem::new(
                None,
                LayerProblemKind::Coverage,
                format!(
                    "{name}: {} edges match no neighbour's and are not on the community line (a gap, or neighbours with different vertices)",
                    v.unmatched_edges
                ),
            ));
        }
        let cut: Vec<String> = v
            .buildings_cut
            .into_iter()
            .filter(|b| cut_seen.insert(b.clone()))
            .collect();
        for b in cut.iter().take(CUTS_SHOWN) {
            problems.push(LayerProblem::new(
                None,
                LayerProblemKind::BuildingCut,
                format!("{name}: building {b} is cut by a grid edge"),
            ));
        }
        if cut.len() > CUTS_SHOWN {
            problems.push(LayerProblem::new(
                None,
                LayerProblemKind::BuildingCut,
                format!("{name}: {} more buildings are cut", cut.len() - CUTS_SHOWN),
            ));
        }
        let covered: BTreeSet<&str> = layer
            .grids
            .iter()
            .filter(|g| {
                g.level == level || (level == GridLevel::Micro && g.kind == gis_core::grid::GridKind::Exclusive)
            })
            .map(|g| g.community_code.as_str())
            .collect();
        for c in &dataset.communities {
            if !covered.contains(c.code.as_str()) {
                problems.push(LayerProblem::new(
                    None,
                    LayerProblemKind::Coverage,
                    format!("{name}: community {} ({}) has none", c.code, c.name),
                ));
            }
        }
    }
    problems
}
