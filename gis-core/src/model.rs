//! The domain: communities and what lives in them, as a dataset folder describes them
//! (`shared/dataset-format.md`). Coordinates are always WGS-84 longitude/latitude.

use geo::{MultiLineString, MultiPolygon, Point};
use serde::Serialize;

/// Index of a community in [`Dataset::communities`].
pub type CommunityIx = usize;

/// A 12-digit statistical division code: county (6) + street/township (3) + committee (3).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct CommunityCode(String);

impl CommunityCode {
    /// Accepts exactly twelve ASCII digits.
    pub fn parse(s: &str) -> Option<Self> {
        (s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())).then(|| Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 6-digit county part (GB/T 2260).
    pub fn county(&self) -> &str {
        &self.0[..6]
    }

    /// The 3-digit street or township part (GB/T 10114).
    pub fn street(&self) -> &str {
        &self.0[6..9]
    }
}

impl std::fmt::Display for CommunityCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A community (社区) or village (村): the area a set of grids must tile exactly.
#[derive(Debug, Clone)]
pub struct Community {
    pub code: CommunityCode,
    pub name: String,
    pub boundary: MultiPolygon<f64>,
}

/// A staircase unit (单元) of a building; only a building above the grid maximum may be split,
/// and only along its units.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unit {
    pub name: String,
    pub population: u32,
    pub households: u32,
}

#[derive(Debug, Clone)]
pub struct Building {
    pub id: String,
    pub footprint: MultiPolygon<f64>,
    pub population: u32,
    /// Declared, or round(population / 2.5) when the dataset gives none.
    pub households: u32,
    pub households_estimated: bool,
    pub address: Option<String>,
    /// The residential compound (小区) it stands in.
    pub compound: Option<String>,
    /// Storeys above ground; 3.5 is an attic or half storey (dataset-format.md).
    pub floors: Option<f64>,
    pub units: Vec<Unit>,
    /// A point on the footprint's surface; it decides the community.
    pub anchor: Point<f64>,
    pub community: CommunityIx,
    /// The exclusive unit (index into [`Dataset::exclusive`]) whose area holds the anchor, if any:
    /// its residents belong to that exclusive grid, not to the basic grids' bounds.
    pub exclusive_unit: Option<usize>,
}

/// Residents located by a point and not tied to a footprint (rural households, geocoded registers).
#[derive(Debug, Clone)]
pub struct PopulationPoint {
    pub location: Point<f64>,
    pub count: u32,
    pub community: CommunityIx,
}

impl PopulationPoint {
    /// Households the point stands for: estimated from its residents, at least one.
    pub fn households(&self) -> u32 {
        estimated_households(self.count).max(1)
    }
}

/// A key resource point drawn on grid maps: clinic, pharmacy, shop, school, ...
#[derive(Debug, Clone)]
pub struct Resource {
    pub id: String,
    /// One of [`Resource::KNOWN_KINDS`] or free text, lower-cased.
    pub kind: String,
    pub name: String,
    pub phone: Option<String>,
    pub hours: Option<String>,
    pub address: Option<String>,
    pub location: Point<f64>,
    /// None when the point lies outside every community (kept: it may still be someone's nearest).
    pub community: Option<CommunityIx>,
}

impl Resource {
    pub const KNOWN_KINDS: &'static [&'static str] = &[
        "clinic",
        "hospital",
        "pharmacy",
        "dentist",
        "shop",
        "supermarket",
        "market",
        "school",
        "kindergarten",
        "elderly_care",
        "service_center",
    ];

    /// The known kind a source's kind text stands for: OpenStreetMap's tag values
    /// (`doctors`, `community_centre`, `social_facility`, `marketplace`, `convenience`, …) and
    /// the Chinese names survey tables use (诊所, 药店, 党群服务中心, …) become one of
    /// [`Resource::KNOWN_KINDS`], so each has its icon and legend entry; any other text is kept,
    /// lower-cased, with spaces and hyphens as underscores.
    pub fn canonical_kind(raw: &str) -> String {
        let k = raw.trim().to_lowercase().replace([' ', '-'], "_");
        let known = match k.as_str() {
            "doctors"
            | "doctor"
            | "health_centre"
            | "health_center"
            | "healthcare"
            | "health_post"
            | "诊所"
            | "卫生站"
            | "卫生室"
            | "卫生院"
            | "社区卫生服务中心"
            | "社区卫生服务站"
            | "社区医院" => "clinic",
            "医院" => "hospital",
            "chemist" | "drugstore" | "药店" | "药房" | "大药房" => "pharmacy",
            "dental" | "牙科" | "口腔诊所" => "dentist",
            "convenience" | "store" | "商店" | "便利店" | "小卖部" => "shop",
            "department_store" | "mall" | "超市" | "商场" => "supermarket",
            "marketplace" | "市场" | "菜市场" | "农贸市场" => "market",
            "学校" | "小学" | "中学" => "school",
            "childcare" | "nursery" | "幼儿园" | "托儿所" => "kindergarten",
            "nursing_home" | "social_facility" | "assisted_living" | "elderly" | "养老院" | "养老服务"
            | "养老服务中心" | "日间照料中心" | "敬老院" => "elderly_care",
            "community_centre" | "community_center" | "townhall" | "social_centre" | "social_center"
            | "service_centre" | "党群服务中心" | "社区服务中心" | "便民服务中心" => "service_center",
            _ => return k,
        };
        known.to_string()
    }
}

/// A line grid boundaries should follow.
#[derive(Debug, Clone)]
pub struct Road {
    pub id: String,
    pub name: Option<String>,
    pub class: Option<String>,
    pub line: MultiLineString<f64>,
}

/// Where a context feature lies: an area (a lake, a park) or a line (a stream, a canal).
#[derive(Debug, Clone)]
pub enum ContextShape {
    Area(MultiPolygon<f64>),
    Line(MultiLineString<f64>),
}

/// Water or green around and in the communities (`water.geojson`, `green.geojson`): drawn on the
/// map for orientation only, never partitioned or counted.
#[derive(Debug, Clone)]
pub struct ContextFeature {
    pub id: String,
    /// What it is, lower-case (`river`, `lake`, `park`, `forest`, …), when the file says.
    pub kind: Option<String>,
    pub name: Option<String>,
    pub shape: ContextShape,
}

/// The optional context layers of a dataset: water (areas and lines) and green (areas).
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub water: Vec<ContextFeature>,
    pub green: Vec<ContextFeature>,
}

/// A way people walk along (`walk.geojson`): a footway, path, steps, a pedestrian street, a
/// crossing. Roads (`roads.geojson`) are walked too; these are the ways that are not roads.
#[derive(Debug, Clone)]
pub struct WalkWay {
    pub id: String,
    /// What it is, lower-case (`footway`, `path`, `steps`, `pedestrian`, `crossing`, …), when
    /// the file says.
    pub kind: Option<String>,
    pub line: MultiLineString<f64>,
}

/// A line nobody walks across (`walk.geojson` with `barrier`): a compound wall, a fence, a hedge.
#[derive(Debug, Clone)]
pub struct WalkBarrier {
    pub id: String,
    /// `wall`, `fence`, `hedge`, … lower-case.
    pub kind: String,
    pub line: MultiLineString<f64>,
}

/// Where people pass through a barrier (`walk.geojson` Point): a compound gate or an entrance.
#[derive(Debug, Clone)]
pub struct WalkPassage {
    pub id: String,
    /// `gate` or `entrance`.
    pub kind: String,
    pub location: Point<f64>,
}

/// The optional walking layer of a dataset (`walk.geojson`): ways besides the roads, barriers,
/// and the gates and entrances through them. Empty when the dataset has none.
#[derive(Debug, Clone, Default)]
pub struct WalkLayer {
    pub ways: Vec<WalkWay>,
    pub barriers: Vec<WalkBarrier>,
    pub passages: Vec<WalkPassage>,
}

impl WalkLayer {
    pub fn is_empty(&self) -> bool {
        self.ways.is_empty() && self.barriers.is_empty() && self.passages.is_empty()
    }
}

/// An institution that becomes an exclusive grid (专属网格): school, hospital, market, ...
#[derive(Debug, Clone)]
pub struct ExclusiveUnit {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub area: MultiPolygon<f64>,
    pub anchor: Point<f64>,
    pub community: CommunityIx,
}

/// Who looks after a grid (网格长 / 网格员 / 楼栋长).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Staff {
    pub grid: String,
    pub name: String,
    pub role: String,
    pub phone: Option<String>,
}

/// Everything one dataset folder holds, checked and linked: every building, point and exclusive
/// unit knows its community.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    pub communities: Vec<Community>,
    pub buildings: Vec<Building>,
    pub points: Vec<PopulationPoint>,
    pub resources: Vec<Resource>,
    pub roads: Vec<Road>,
    pub exclusive: Vec<ExclusiveUnit>,
    pub staff: Vec<Staff>,
    /// Water and green for the map (optional `water.geojson`, `green.geojson`).
    pub context: Context,
    /// Footways, barriers and gates for walking distances (optional `walk.geojson`).
    pub walk: WalkLayer,
    /// Life-circle settings (optional `access.json`, else the standards' defaults).
    pub access: crate::access::AccessConfig,
}

/// What one community holds, as indexes into the dataset's lists in ascending order. Listed for
/// every community in one pass, so work done community by community does not scan the whole
/// city's buildings for each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommunityMembers {
    pub buildings: Vec<usize>,
    pub points: Vec<usize>,
    pub resources: Vec<usize>,
    pub exclusive: Vec<usize>,
}

impl Dataset {
    /// The members of each community, in community order.
    pub fn members_by_community(&self) -> Vec<CommunityMembers> {
        let mut out = vec![CommunityMembers::default(); self.communities.len()];
        for (i, b) in self.buildings.iter().enumerate() {
            if let Some(m) = out.get_mut(b.community) {
                m.buildings.push(i);
            }
        }
        for (i, p) in self.points.iter().enumerate() {
            if let Some(m) = out.get_mut(p.community) {
                m.points.push(i);
            }
        }
        for (i, r) in self.resources.iter().enumerate() {
            if let Some(m) = r.community.and_then(|c| out.get_mut(c)) {
                m.resources.push(i);
            }
        }
        for (i, u) in self.exclusive.iter().enumerate() {
            if let Some(m) = out.get_mut(u.community) {
                m.exclusive.push(i);
            }
        }
        out
    }

    /// The members of one community, as [`Dataset::members_by_community`] lists them.
    pub fn members_of(&self, community: CommunityIx) -> CommunityMembers {
        let of = |c: CommunityIx| c == community;
        CommunityMembers {
            buildings: (0..self.buildings.len())
                .filter(|&i| of(self.buildings[i].community))
                .collect(),
            points: (0..self.points.len())
                .filter(|&i| of(self.points[i].community))
                .collect(),
            resources: (0..self.resources.len())
                .filter(|&i| self.resources[i].community == Some(community))
                .collect(),
            exclusive: (0..self.exclusive.len())
                .filter(|&i| of(self.exclusive[i].community))
                .collect(),
        }
    }
}

/// Households of a building that declares none (dataset-format.md).
pub fn estimated_households(population: u32) -> u32 {
    (f64::from(population) / 2.5).round() as u32
}

#[cfg(test)]
mod kind_tests {
    use super::Resource;

    #[test]
    fn source_kinds_become_known_kinds() {
        for (raw, want) in [
            ("doctors", "clinic"),
            ("Community Centre", "service_center"),
            ("social_facility", "elderly_care"),
            ("诊所", "clinic"),
            ("党群服务中心", "service_center"),
            ("marketplace", "market"),
            ("Pharmacy", "pharmacy"),
            ("bicycle-rental", "bicycle_rental"),
        ] {
            assert_eq!(Resource::canonical_kind(raw), want, "{raw}");
        }
        for k in Resource::KNOWN_KINDS {
            assert_eq!(Resource::canonical_kind(k), *k);
        }
    }
}
