//! What validate reports, typed, and its GeoJSON form.

use crate::bounds::SizeBounds;
use crate::grid::{GridKind, GridLevel};
use geo::{Geometry, Point};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Kinds of defect, in the order a planner should look at them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DefectKind {
    /// Part of a community covered by no grid.
    Gap,
    /// A hole in a grid that no other grid fills.
    Hole,
    /// Area covered by two grids.
    Overlap,
    /// Edges of neighbouring grids that almost but do not quite match.
    NearMiss,
    OutsideCommunity,
    SpansCommunities,
    UnknownCommunity,
    SelfIntersection,
    BowTie,
    Spike,
    UnclosedRing,
    RepeatedPoints,
    TooFewPoints,
    InvalidPolygon,
    Multipart,
    BuildingInNoGrid,
    BuildingInTwoGrids,
    BuildingCut,
    PointInNoGrid,
    ResourceInNoGrid,
    GridTooSmall,
    GridTooLarge,
    MalformedCode,
    DuplicateCode,
    CodeWrongCommunity,
    CodeWrongKind,
    CodeWrongParent,
}

impl DefectKind {
    /// For people: "gaps", "bow-ties", ...
    pub fn plural(self) -> &'static str {
        match self {
            Self::Gap => "gaps",
            Self::Hole => "holes not filled by a grid",
            Self::Overlap => "overlaps",
            Self::NearMiss => "near-misses",
            Self::OutsideCommunity => "grids outside their community",
            Self::SpansCommunities => "grids spanning two communities",
            Self::UnknownCommunity => "grids of unknown communities",
            Self::SelfIntersection => "self-intersections",
            Self::BowTie => "bow-ties",
            Self::Spike => "spikes",
            Self::UnclosedRing => "unclosed rings",
            Self::RepeatedPoints => "repeated points",
            Self::TooFewPoints => "degenerate rings",
            Self::InvalidPolygon => "invalid polygons",
            Self::Multipart => "multipart grids",
            Self::BuildingInNoGrid => "buildings in no grid",
            Self::BuildingInTwoGrids => "buildings in two grids",
            Self::BuildingCut => "buildings cut by a grid edge",
            Self::PointInNoGrid => "population points in no grid",
            Self::ResourceInNoGrid => "resources in no grid",
            Self::GridTooSmall => "basic grids below the bounds",
            Self::GridTooLarge => "basic grids above the bounds",
            Self::MalformedCode => "malformed codes",
            Self::DuplicateCode => "duplicate codes",
            Self::CodeWrongCommunity => "codes of another community",
            Self::CodeWrongKind => "codes of the wrong kind",
            Self::CodeWrongParent => "micro-grid codes not under their parent",
        }
    }

    pub fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Defect {
    pub kind: DefectKind,
    /// Codes of the grids involved, the most involved first.
    pub codes: Vec<String>,
    pub community: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub area_m2: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub length_m: Option<f64>,
    /// The building, point or resource concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    /// A point on or in the defect, [lon, lat].
    pub at: Option<[f64; 2]>,
    pub message: String,
    /// What to draw on the map (written by `--geojson`, not in the JSON report).
    #[serde(skip)]
    pub geometry: Option<Geometry<f64>>,
}

impl Defect {
    pub(crate) fn item(
        kind: DefectKind,
        codes: Vec<String>,
        community: &str,
        item: &str,
        at: Point<f64>,
        message: String,
        geometry: Geometry<f64>,
    ) -> Self {
        Defect {
            kind,
            codes,
            community: (!community.is_empty()).then(|| community.to_string()),
            area_m2: None,
            length_m: None,
            item: (!item.is_empty()).then(|| item.to_string()),
            at: Some([at.x(), at.y()]),
            message,
            geometry: Some(geometry),
        }
    }

    /// How bad, within its kind: area, else length.
    pub fn magnitude(&self) -> f64 {
        self.area_m2.or(self.length_m).unwrap_or(0.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// Codes kept out of reading order: fine after a re-partition.
    CodesOutOfOrder,
    /// Gaps and overlaps below the tolerance.
    Slivers,
    /// A community that no set of grids can split within the bounds.
    InfeasibleCommunity,
}

#[derive(Debug, Clone, Serialize)]
pub struct Warning {
    pub kind: WarningKind,
    pub community: Option<String>,
    pub codes: Vec<String>,
    pub message: String,
}

/// Gaps and overlaps below the tolerance: noise, but counted.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Slivers {
    /// Buildings lying in a second grid by no more than the tolerance (see `crate::cut`).
    pub buildings: usize,
    /// The same among micro-grids.
    pub micro_buildings: usize,
    pub gaps: usize,
    pub gap_area_m2: f64,
    pub overlaps: usize,
    pub overlap_area_m2: f64,
}

/// A grid's edges GEOS's coverage validator would call invalid.
#[derive(Debug, Clone, Serialize)]
pub struct InvalidEdges {
    pub code: String,
    pub level: GridLevel,
    pub segments: usize,
    pub length_m: f64,
}

/// What a grid holds, counted from the dataset.
#[derive(Debug, Clone, Serialize)]
pub struct GridCount {
    pub code: String,
    pub kind: GridKind,
    pub population: u64,
    pub households: u64,
    pub buildings: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ValidationReport {
    pub grids: usize,
    pub micro_grids: usize,
    pub communities: usize,
    /// Communities whose grids match each other and the community line exactly.
    pub exact_communities: usize,
    pub tolerance_m2: f64,
    pub gap_width_m: f64,
    pub bounds: SizeBounds,
    /// Worst first: by kind, then by area or length.
    pub defects: Vec<Defect>,
    pub warnings: Vec<Warning>,
    pub slivers: Slivers,
    pub invalid_edges: Vec<InvalidEdges>,
    pub counts: Vec<GridCount>,
    pub timings: Timings,
}

/// Where the time went (seconds, wall clock), for benchmarks.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Timings {
    /// Geometry cleaning.
    pub clean_s: f64,
    /// Exact segment matching (sort and scan).
    pub segments_s: f64,
    /// GEOS-style invalid edges of grids with unmatched segments.
    pub invalid_edges_s: f64,
    /// Exact-coverage test, then gaps, overlaps, outside for the rest.
    pub coverage_s: f64,
    /// Buildings, points, resources.
    pub contents_s: f64,
    pub codes_s: f64,
}

impl ValidationReport {
    pub fn is_clean(&self) -> bool {
        self.defects.is_empty()
    }

    pub fn counts_by_kind(&self) -> BTreeMap<DefectKind, usize> {
        let mut out = BTreeMap::new();
        for d in &self.defects {
            *out.entry(d.kind).or_default() += 1;
        }
        out
    }

    pub fn of_kind(&self, kind: DefectKind) -> impl Iterator<Item = &Defect> {
        self.defects.iter().filter(move |d| d.kind == kind)
    }
}

pub(crate) fn m2(a: f64) -> String {
    if a < 0.01 {
        format!("{a:.4} m²")
    } else if a < 10.0 {
        format!("{a:.2} m²")
    } else if a < 10_000.0 {
        format!("{a:.1} m²")
    } else {
        format!("{:.0} m²", a)
    }
}

pub(crate) fn metres(l: f64) -> String {
    if l < 10.0 {
        format!("{l:.2} m")
    } else {
        format!("{l:.1} m")
    }
}

fn geometry_json(g: &Geometry<f64>) -> Value {
    use geo::{LineString, Polygon};
    let ring = |r: &LineString<f64>| Value::Array(r.0.iter().map(|c| json!([c.x, c.y])).collect());
    let poly = |p: &Polygon<f64>| Value::Array(std::iter::once(p.exterior()).chain(p.interiors()).map(ring).collect());
    match g {
        Geometry::Point(p) => json!({"type": "Point", "coordinates": [p.x(), p.y()]}),
        Geometry::Polygon(p) => json!({"type": "Polygon", "coordinates": poly(p)}),
        Geometry::MultiPolygon(m) => {
            json!({"type": "MultiPolygon", "coordinates": m.0.iter().map(poly).collect::<Vec<_>>()})
        }
        Geometry::MultiLineString(m) => {
            json!({"type": "MultiLineString", "coordinates": m.0.iter().map(ring).collect::<Vec<_>>()})
        }
        Geometry::LineString(l) => json!({"type": "LineString", "coordinates": ring(l)}),
        _ => Value::Null,
    }
}

/// Every defect as a GeoJSON feature (kind, codes, area or length, message), one per line.
pub fn defects_geojson(report: &ValidationReport) -> String {
    let mut out = String::from("{\"type\":\"FeatureCollection\",\"features\":[\n");
    let n = report.defects.len();
    for (i, d) in report.defects.iter().enumerate() {
        let geometry = match (&d.geometry, d.at) {
            (Some(g), _) => geometry_json(g),
            (None, Some([x, y])) => json!({"type": "Point", "coordinates": [x, y]}),
            (None, None) => Value::Null,
        };
        let mut props = serde_json::to_value(d).unwrap_or(Value::Null);
        if let Some(p) = props.as_object_mut() {
            p.remove("at");
        }
        let f = json!({"type": "Feature", "properties": props, "geometry": geometry});
        let _ = write!(out, "{f}{}", if i + 1 < n { ",\n" } else { "\n" });
    }
    out.push_str("]}\n");
    out
}
