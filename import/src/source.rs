//! What every reader hands on: a layer of features with attributes, in the source's own field
//! names and coordinate system; and what the dataset wants from them, by role.

use crate::crs::SourceCrs;
use crate::error::{ImportError, ProblemKind, SourceProblem};
use geo::Geometry;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// An attribute value as a source stores it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Text(String),
    Integer(i64),
    Real(f64),
    Bool(bool),
    /// An array or object (GeoJSON properties): a building's `units` from a dataset folder.
    Json(serde_json::Value),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => write!(f, "nothing"),
            Value::Text(s) => write!(f, "{s:?}"),
            Value::Integer(i) => write!(f, "{i}"),
            Value::Real(r) => write!(f, "{r}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Json(v) => write!(f, "{v}"),
        }
    }
}

/// One feature of a source: position in the source, geometry (source coordinates), attributes.
#[derive(Debug, Clone)]
pub struct SourceFeature {
    pub index: usize,
    pub geometry: Option<Geometry<f64>>,
    pub attrs: BTreeMap<String, Value>,
}

/// A layer read from a file: a shapefile, a GeoPackage table, a CSV, a GeoJSON file.
#[derive(Debug, Clone)]
pub struct Layer {
    /// How messages name it: the file, with `#table` for a GeoPackage layer.
    pub name: PathBuf,
    /// Field names in the source's order.
    pub fields: Vec<String>,
    pub features: Vec<SourceFeature>,
    /// What the source says about its coordinate system (.prj, GeoJSON `crs` member,
    /// gpkg_spatial_ref_sys), if anything.
    pub declared_crs: Option<Declared>,
    /// How the attribute text was decoded, when that had to be decided (shapefiles, CSV).
    pub encoding: Option<String>,
    /// What the reader noticed and the report should say (the text looks garbled, a file looks
    /// like an AMap boundary download, …).
    pub notes: Vec<String>,
}

/// What a source says about its coordinate system.
// One per source, never held in bulk: boxing the large variant would only make matching clumsier.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Declared {
    /// A system import reads; `by` says where it was declared ("buildings.prj").
    Known { crs: SourceCrs, by: String },
    /// Something import cannot use: an empty .prj, a definition it cannot read (and why). An
    /// explicit `--crs` or `FILE@CRS` wins over it; without one it stops the import, unless empty.
    Unusable {
        by: String,
        given: String,
        reason: String,
        empty: bool,
    },
}

impl Declared {
    pub fn crs(&self) -> Option<&SourceCrs> {
        match self {
            Declared::Known { crs, .. } => Some(crs),
            Declared::Unusable { .. } => None,
        }
    }
}

/// What a layer becomes in the dataset folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Boundary,
    Buildings,
    Population,
    Resources,
    Roads,
    Exclusive,
    /// Water for the map (lakes, rivers): areas or lines, never partitioned.
    Water,
    /// Green for the map (parks, woods): areas, never partitioned.
    Green,
    /// The walking layer: footways and paths (lines), walls and fences (lines with `barrier`),
    /// gates and entrances (points).
    Walk,
}

impl Role {
    pub const ALL: [Role; 9] = [
        Role::Boundary,
        Role::Buildings,
        Role::Population,
        Role::Resources,
        Role::Roads,
        Role::Exclusive,
        Role::Water,
        Role::Green,
        Role::Walk,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Role::Boundary => "boundary",
            Role::Buildings => "buildings",
            Role::Population => "population",
            Role::Resources => "resources",
            Role::Roads => "roads",
            Role::Exclusive => "exclusive",
            Role::Water => "water",
            Role::Green => "green",
            Role::Walk => "walk",
        }
    }

    pub fn file(self) -> &'static str {
        match self {
            Role::Boundary => "boundary.geojson",
            Role::Buildings => "buildings.geojson",
            Role::Population => "population.geojson",
            Role::Resources => "resources.geojson",
            Role::Roads => "roads.geojson",
            Role::Exclusive => "exclusive.geojson",
            Role::Water => "water.geojson",
            Role::Green => "green.geojson",
            Role::Walk => "walk.geojson",
        }
    }

    /// Whether its features carry an `id` (made as `STEM-N` where the source has none).
    pub fn has_ids(self) -> bool {
        !matches!(self, Role::Boundary | Role::Population)
    }

    /// The dataset properties this role's features carry (dataset-format.md), required first.
    pub fn targets(self) -> &'static [Target] {
        use Target::*;
        match self {
            Role::Boundary => &[Code, Name],
            Role::Buildings => &[Id, Population, Households, Address, Compound, Floors, Use],
            Role::Population => &[Count],
            Role::Resources => &[Id, Kind, Name, Phone, Hours, Address],
            Role::Roads => &[Id, Name, Class],
            Role::Exclusive => &[Id, Name, Kind],
            Role::Water | Role::Green => &[Id, Name, Kind],
            Role::Walk => &[Id, Kind, Barrier],
        }
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!(
                    "unknown role {s:?}; expected one of boundary, buildings, population, resources, roads, exclusive, water, green, walk"
                )
            })
    }
}

/// A dataset property a source field can be mapped to (`--field population=RKS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    Id,
    Code,
    Name,
    Population,
    Households,
    Address,
    Compound,
    Floors,
    Count,
    Kind,
    Phone,
    Hours,
    Class,
    Lon,
    Lat,
    /// What a building is used for (apartments, 住宅, dormitory, shop, …): only for estimating
    /// residents where no field gives them; not written to the dataset.
    Use,
    /// What a walking-layer line stops (wall, fence): such a line is a barrier, not a way.
    Barrier,
}

impl Target {
    pub const ALL: [Target; 17] = [
        Target::Id,
        Target::Code,
        Target::Name,
        Target::Population,
        Target::Households,
        Target::Address,
        Target::Compound,
        Target::Floors,
        Target::Count,
        Target::Kind,
        Target::Phone,
        Target::Hours,
        Target::Class,
        Target::Lon,
        Target::Lat,
        Target::Use,
        Target::Barrier,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Target::Id => "id",
            Target::Code => "code",
            Target::Name => "name",
            Target::Population => "population",
            Target::Households => "households",
            Target::Address => "address",
            Target::Compound => "compound",
            Target::Floors => "floors",
            Target::Count => "count",
            Target::Kind => "kind",
            Target::Phone => "phone",
            Target::Hours => "hours",
            Target::Class => "class",
            Target::Lon => "lon",
            Target::Lat => "lat",
            Target::Use => "use",
            Target::Barrier => "barrier",
        }
    }

    /// Field names taken for this property when no `--field` says otherwise (case-insensitive):
    /// the property's own name, then the usual English and Chinese headers.
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Target::Id => &["id", "编号", "fid"],
            // adcode: AMap and DataV boundary downloads (a county's 6 digits there, so it is
            // checked like any code and --community-code can replace it).
            Target::Code => &["code", "编码", "社区代码", "adcode"],
            Target::Name => &["name", "名称"],
            Target::Population => &["population", "pop", "人口", "人数"],
            Target::Households => &["households", "户数"],
            Target::Address => &["address", "addr", "地址"],
            Target::Compound => &["compound", "小区"],
            Target::Floors => &["floors", "levels", "层数"],
            Target::Count => &["count", "population", "人数", "人口"],
            Target::Kind => &["kind", "type", "类型"],
            Target::Phone => &["phone", "tel", "电话"],
            Target::Hours => &["hours", "营业时间"],
            Target::Class => &["class", "highway", "等级"],
            Target::Lon => &["lon", "lng", "long", "longitude", "x", "经度"],
            Target::Lat => &["lat", "latitude", "y", "纬度"],
            Target::Use => &["use", "building", "usage", "用途", "建筑用途", "type", "类型"],
            Target::Barrier => &["barrier", "障碍"],
        }
    }
}

impl FromStr for Target {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Target::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!(
                    "unknown dataset property {s:?}; expected one of {}",
                    Target::ALL.map(|t| t.name()).join(", ")
                )
            })
    }
}

/// `--field TARGET=FIELD` or `--field ROLE.TARGET=FIELD`, collected. An empty FIELD
/// (`--field floors=`) skips the property: no field feeds it, whatever the source holds.
#[derive(Debug, Clone, Default)]
pub struct FieldMap {
    entries: Vec<(Option<Role>, Target, String)>,
}

impl FieldMap {
    pub fn parse(items: &[String]) -> Result<Self, ImportError> {
        let mut entries = Vec::new();
        for item in items {
            let (key, field) = item.split_once('=').ok_or_else(|| {
                ImportError::Setting(format!("--field {item:?}: expected TARGET=FIELD, e.g. population=RKS"))
            })?;
            let (role, target) = match key.split_once('.') {
                Some((role, target)) => (Some(role.parse::<Role>().map_err(ImportError::Setting)?), target),
                None => (None, key),
            };
            let target = target
                .parse::<Target>()
                .map_err(|e| ImportError::Setting(format!("--field {item:?}: {e}")))?;
            if field.trim().is_empty()
                && matches!(
                    target,
                    Target::Lon | Target::Lat | Target::Id | Target::Code | Target::Name | Target::Kind | Target::Count
                )
            {
                let why = match target {
                    Target::Lon | Target::Lat => "a point needs its longitude and latitude",
                    Target::Id => {
                        "ids are made as FILE-N when no id field is found; map another field with --field id=FIELD"
                    }
                    _ => "the dataset needs it; map the field that holds it with --field TARGET=FIELD",
                };
                return Err(ImportError::Setting(format!(
                    "--field {item:?}: {} cannot be skipped: {why}",
                    target.name()
                )));
            }
            entries.push((role, target, field.trim().to_string()));
        }
        Ok(Self { entries })
    }

    /// The field given for a property, role-qualified entries first.
    pub fn given(&self, role: Role, target: Target) -> Option<&str> {
        self.entries
            .iter()
            .find(|(r, t, _)| *r == Some(role) && *t == target)
            .or_else(|| self.entries.iter().find(|(r, t, _)| r.is_none() && *t == target))
            .map(|(_, _, f)| f.as_str())
    }

    /// Whether `--field TARGET=` (empty) skips this property.
    pub fn skipped(&self, role: Role, target: Target) -> bool {
        self.given(role, target) == Some("")
    }

    /// The field given for a property whatever the role (CSV coordinates are read before the role is known).
    pub fn given_any(&self, target: Target) -> Option<&str> {
        self.entries
            .iter()
            .find(|(_, t, _)| *t == target)
            .map(|(_, _, f)| f.as_str())
    }

    /// Which source field feeds each property of `role` in `layer`: the one given (which must
    /// exist), else the first alias present. `extra` are properties beyond the role's own (CSV
    /// lon/lat).
    pub fn resolve(
        &self,
        role: Role,
        layer: &Layer,
        extra: &[Target],
    ) -> Result<BTreeMap<Target, String>, ImportError> {
        let mut out = BTreeMap::new();
        for &target in role.targets().iter().chain(extra) {
            if self.skipped(role, target) {
                continue;
            }
            if let Some(field) = self.given(role, target) {
                let found = layer
                    .fields
                    .iter()
                    .find(|f| f.as_str() == field)
                    .or_else(|| layer.fields.iter().find(|f| f.eq_ignore_ascii_case(field)));
                let Some(found) = found else {
                    return Err(ImportError::MissingField {
                        file: layer.name.clone(),
                        field: field.to_string(),
                        target: target.name().to_string(),
                        available: layer.fields.clone(),
                    });
                };
                out.insert(target, found.clone());
            } else if let Some(found) = target
                .aliases()
                .iter()
                .find_map(|a| layer.fields.iter().find(|f| f.eq_ignore_ascii_case(a)))
            {
                out.insert(target, found.clone());
            }
        }
        Ok(out)
    }
}

/// A source on the command line: `[ROLE=]PATH[#LAYER][@CRS]`.
#[derive(Debug, Clone)]
pub struct SourceSpec {
    pub path: PathBuf,
    pub role: Option<Role>,
    pub layer: Option<String>,
    /// This source's own coordinate system (`hh.csv@gcj02`), as given and as read.
    pub crs: Option<(String, SourceCrs)>,
}

impl FromStr for SourceSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (role, rest) = match s.split_once('=') {
            Some((r, rest)) if r.parse::<Role>().is_ok() => (Some(r.parse::<Role>()?), rest),
            _ => (None, s),
        };
        // `@CRS` after the path, unless the whole text names a file (a path may hold an '@').
        let (rest, crs) = match rest.rsplit_once('@') {
            Some((path, crs)) if !Path::new(rest).exists() && (!crs.contains('/') || crs.starts_with("http")) => {
                let parsed =
                    SourceCrs::parse(crs).map_err(|e| format!("{s:?}: the coordinate system after '@': {e}"))?;
                (path, Some((crs.to_string(), parsed)))
            }
            _ => (rest, None),
        };
        let (path, layer) = match rest.rsplit_once('#') {
            Some((p, l)) if !l.is_empty() && !l.contains('/') => (p, Some(l.to_string())),
            _ => (rest, None),
        };
        Ok(SourceSpec {
            path: PathBuf::from(path),
            role,
            layer,
            crs,
        })
    }
}

/// The kind of file, by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    OsmPbf,
    Shapefile,
    GeoPackage,
    Csv,
    Tsv,
    GeoJson,
    /// A dataset folder (shared/dataset-format.md): each file as its role, staff.json kept.
    /// `wangge import DIR --out DIR-fixed` repairs what the strict reader refuses.
    Dataset,
}

impl Format {
    pub fn of(path: &Path) -> Option<Format> {
        if path.is_dir() {
            return Some(Format::Dataset);
        }
        let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
        Some(if name.ends_with(".osm.pbf") || name.ends_with(".pbf") {
            Format::OsmPbf
        } else if name.ends_with(".shp") {
            Format::Shapefile
        } else if name.ends_with(".gpkg") {
            Format::GeoPackage
        } else if name.ends_with(".csv") {
            Format::Csv
        } else if name.ends_with(".tsv") || name.ends_with(".tab") {
            Format::Tsv
        } else if name.ends_with(".geojson") || name.ends_with(".json") {
            Format::GeoJson
        } else {
            return None;
        })
    }
}

/// A problem in a feature of a layer, with the source field and the property it feeds.
pub fn problem(
    layer: &Layer,
    f: &SourceFeature,
    id: Option<&str>,
    field: Option<(&str, Target)>,
    kind: ProblemKind,
    message: impl Into<String>,
) -> SourceProblem {
    SourceProblem {
        file: layer.name.clone(),
        feature: Some((f.index, id.map(str::to_string))),
        field: field.map(|(name, target)| {
            if name == target.name() {
                name.to_string()
            } else {
                format!("{name} ({})", target.name())
            }
        }),
        kind,
        message: message.into(),
    }
}

/// A whole number ≥ `min` from any attribute type, or why not.
pub fn whole_number(v: &Value, min: u32) -> Result<Option<u32>, String> {
    let expected = format!("expected a whole number ≥ {min}");
    let n = match v {
        Value::Null => return Ok(None),
        Value::Integer(i) => *i as f64,
        Value::Real(r) => *r,
        Value::Text(s) if s.trim().is_empty() => return Ok(None),
        Value::Text(s) => s
            .trim()
            .parse::<f64>()
            .map_err(|_| format!("{expected}, found {s:?}"))?,
        Value::Bool(b) => return Err(format!("{expected}, found {b}")),
        Value::Json(v) => return Err(format!("{expected}, found {v}")),
    };
    if !n.is_finite() || n.fract() != 0.0 {
        return Err(format!("{expected}, found {n}"));
    }
    if n < f64::from(min) || n > f64::from(u32::MAX) {
        return Err(format!("{expected}, found {n}"));
    }
    Ok(Some(n as u32))
}

/// A number ≥ `min`, whole or not (3.5 floors: an attic storey), from any attribute type.
pub fn number(v: &Value, min: f64) -> Result<Option<f64>, String> {
    let expected = format!("expected a number ≥ {min}");
    let n = match v {
        Value::Null => return Ok(None),
        Value::Integer(i) => *i as f64,
        Value::Real(r) => *r,
        Value::Text(s) if s.trim().is_empty() => return Ok(None),
        Value::Text(s) => s
            .trim()
            .parse::<f64>()
            .map_err(|_| format!("{expected}, found {s:?}"))?,
        Value::Bool(_) | Value::Json(_) => return Err(format!("{expected}, found {v}")),
    };
    if !n.is_finite() || n < min {
        return Err(format!("{expected}, found {n}"));
    }
    Ok(Some(n))
}

/// Text from any attribute type; numbers print as they read (a code stored as 350206001017.0
/// becomes "350206001017").
pub fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Text(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Integer(i) => Some(i.to_string()),
        Value::Real(r) if r.fract() == 0.0 && r.abs() < 1e17 => Some(format!("{}", *r as i64)),
        Value::Real(r) => Some(r.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Json(v) => Some(v.to_string()),
    }
}
