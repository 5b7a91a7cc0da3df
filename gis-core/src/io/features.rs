//! Reading each file of a dataset folder into the model, recording every problem on the way.

use super::geometry::{self, Issue, Parsed, kind_of};
use super::json::{self, Parsed as Json};
use super::{FeatureRef, ImportReport, Problem, ProblemKind};
use crate::geom::{AreaIndex, BboxIndex};
use crate::measure::{area_m2, span_m};
use crate::model::*;
use geo::{
    BooleanOps, BoundingRect, Contains, Coord, Distance, Geodesic, InteriorPoint, Intersects, MultiPolygon, Point,
};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

const BOUNDARY: &str = "boundary.geojson";
const BUILDINGS: &str = "buildings.geojson";
const POPULATION: &str = "population.geojson";
const RESOURCES: &str = "resources.geojson";
const ROADS: &str = "roads.geojson";
const EXCLUSIVE: &str = "exclusive.geojson";
const STAFF: &str = "staff.json";

/// Overlaps smaller than this (m²) are drawing noise, not defects.
pub const OVERLAP_TOLERANCE_M2: f64 = 1.0;

/// The widest a community can be (m). The largest rural villages (嘎查 in pastoral counties)
/// span tens of kilometres; beyond this a boundary is a mistyped coordinate (a longitude typed
/// as a latitude makes a spike thousands of kilometres long), and partitioning it would only
/// produce a plausible-looking grid layer over the wrong place.
pub const MAX_COMMUNITY_SPAN_M: f64 = 200_000.0;
/// The widest a building can be (m): the largest airport terminals are about 1.5 km across.
pub const MAX_BUILDING_SPAN_M: f64 = 5_000.0;
/// The widest an exclusive unit can be (m): a university or an industrial park.
pub const MAX_EXCLUSIVE_SPAN_M: f64 = 50_000.0;

/// A feature whose envelope is sound: an object of type Feature with object properties.
struct Feature<'v> {
    at: FeatureRef,
    props: &'v Map<String, Value>,
    geometry: Option<&'v Value>,
    /// The Feature's own `id` member (RFC 7946 §3.2), which GDAL and geopandas write.
    member_id: Option<&'v Value>,
}

static NO_PROPERTIES: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);

pub(super) struct Reader {
    dir: PathBuf,
    /// The files' text when the dataset comes from memory (a store) rather than a folder.
    files: Option<BTreeMap<String, String>>,
    problems: Vec<Problem>,
    report: ImportReport,
}

impl Reader {
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
            files: None,
            problems: Vec::new(),
            report: ImportReport::default(),
        }
    }

    /// A reader over files held in memory, by file name; `name` stands for the folder in messages.
    pub fn from_files(name: &Path, files: BTreeMap<String, String>) -> Self {
        Self {
            dir: name.to_path_buf(),
            files: Some(files),
            problems: Vec::new(),
            report: ImportReport::default(),
        }
    }

    pub fn finish(self) -> (Vec<Problem>, ImportReport) {
        (self.problems, self.report)
    }

    pub fn read_all(&mut self) -> Dataset {
        if self.files.is_none() && !self.dir.is_dir() {
            let what = if self.dir.exists() {
                "is not a folder"
            } else {
                "does not exist"
            };
            let dir = self.dir.display().to_string();
            self.problem(
                &dir,
                None,
                None,
                ProblemKind::MissingFile,
                format!("{what}; a dataset is a folder of GeoJSON files"),
            );
            return Dataset::default();
        }
        let communities = self.communities();
        let areas = AreaIndex::new(communities.iter().map(|c| &c.boundary));
        // Without communities every "outside" verdict would be noise on top of the real problem.
        let locate = |p: Point<f64>| {
            if communities.is_empty() {
                Some(0)
            } else {
                areas.locate(p)
            }
        };

        let mut buildings = self.buildings(&locate);
        let points = self.points(&locate, &buildings);
        let resources = self.resources(&|p| areas.locate(p));
        let roads = self.roads();
        let exclusive = self.exclusive(&locate);
        link_exclusive(&mut buildings, &exclusive);
        let staff = self.staff(&communities);
        if buildings.is_empty() && points.is_empty() && self.problems.is_empty() {
            self.problem(
                BUILDINGS,
                None,
                None,
                ProblemKind::Empty,
                "the dataset holds no buildings and no population points: there is nobody to put in a grid",
            );
        }
        Dataset {
            communities,
            buildings,
            points,
            resources,
            roads,
            exclusive,
            staff,
        }
    }

    // ---- recording -------------------------------------------------------------------------

    fn problem(
        &mut self,
        file: &str,
        at: Option<&FeatureRef>,
        field: Option<&str>,
        kind: ProblemKind,
        message: impl Into<String>,
    ) {
        let mut message = message.into();
        if repaired_by_import(file, kind) {
            let dir = shell_word(&self.dir.display().to_string());
            message.push_str(&format!(
                "; `wangge import {dir} --out {}` repairs this and lists each repair",
                shell_word(&format!("{}-fixed", self.dir.display()))
            ));
        }
        let p = Problem {
            file: file.to_string(),
            feature: at.cloned(),
            field: field.map(str::to_string),
            kind,
            message,
        };
        if kind.is_warning() {
            self.report.warnings.push(p)
        } else {
            self.problems.push(p)
        }
    }

    fn geometry<G>(&mut self, file: &str, at: &FeatureRef, parsed: Parsed<G>) -> Option<G> {
        let record = |r: &mut Self, i: Issue| r.problem(file, Some(at), Some(&i.path), i.kind, i.message);
        match parsed {
            Ok((g, repairs)) => {
                repairs.into_iter().for_each(|i| record(self, i));
                Some(g)
            }
            Err(i) => {
                record(self, i);
                None
            }
        }
    }

    // ---- envelopes ---------------------------------------------------------------------------

    /// The file's JSON, or None (with the problem recorded) when it is absent or unreadable.
    fn json(&mut self, file: &str, required: bool) -> Option<Value> {
        let read = match &mut self.files {
            // Taken, not cloned: each file is read once, and a city's buildings are 100 MB.
            Some(files) => files
                .remove(file)
                .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound)),
            None => std::fs::read_to_string(self.dir.join(file)),
        };
        let text = match read {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if required {
                    self.problem(file, None, None, ProblemKind::MissingFile, "required file is missing");
                }
                return None;
            }
            Err(e) => {
                self.problem(
                    file,
                    None,
                    None,
                    ProblemKind::Unreadable,
                    format!("cannot be read: {e}"),
                );
                return None;
            }
        };
        match json::parse(&text) {
            Json::Ok(v) | Json::NonFiniteQuoted(v) => Some(v),
            Json::Invalid(msg) => {
                self.problem(
                    file,
                    None,
                    None,
                    ProblemKind::InvalidJson,
                    format!("is not valid JSON: {msg}"),
                );
                None
            }
        }
    }

    /// The `features` of a FeatureCollection file.
    fn collection(&mut self, file: &str, required: bool) -> Option<Vec<Value>> {
        let mut root = self.json(file, required)?;
        let kind = root.get("type").and_then(Value::as_str).unwrap_or("");
        if kind != "FeatureCollection" {
            let found = if kind.is_empty() {
                kind_of(&root)
            } else {
                format!("a GeoJSON {kind}")
            };
            self.problem(
                file,
                None,
                Some("type"),
                ProblemKind::NotFeatureCollection,
                format!("expected a GeoJSON FeatureCollection, found {found}"),
            );
            return None;
        }
        match root.get_mut("features").map(Value::take) {
            Some(Value::Array(features)) => {
                self.report.files.push((file.to_string(), features.len()));
                Some(features)
            }
            other => {
                let found = other.as_ref().map_or("nothing".to_string(), kind_of);
                self.problem(
                    file,
                    None,
                    Some("features"),
                    ProblemKind::NotFeatureCollection,
                    format!("expected an array of features, found {found}"),
                );
                None
            }
        }
    }

    /// The features of a collection whose envelope is sound; `id_key` names them in messages.
    fn features<'v>(&mut self, file: &str, values: &'v [Value], id_key: &str) -> Vec<Feature<'v>> {
        let mut out = Vec::with_capacity(values.len());
        for (index, v) in values.iter().enumerate() {
            let own = v
                .get("properties")
                .and_then(|p| p.get(id_key))
                .filter(|id| !id.is_null());
            let id = own
                .or_else(|| if id_key == "id" { v.get("id") } else { None })
                .and_then(|id| match id {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(number_text(n)),
                    _ => None,
                });
            let at = FeatureRef { index, id };
            if v.get("type").and_then(Value::as_str) != Some("Feature") {
                self.problem(
                    file,
                    Some(&at),
                    Some("type"),
                    ProblemKind::NotFeature,
                    format!("expected a GeoJSON Feature, found {}", describe_type(v)),
                );
                continue;
            }
            let props = match v.get("properties") {
                None | Some(Value::Null) => &*NO_PROPERTIES,
                Some(Value::Object(m)) => m,
                Some(other) => {
                    self.problem(
                        file,
                        Some(&at),
                        Some("properties"),
                        ProblemKind::WrongType,
                        format!("expected an object, found {}", kind_of(other)),
                    );
                    continue;
                }
            };
            out.push(Feature {
                at,
                props,
                geometry: v.get("geometry"),
                member_id: v.get("id"),
            });
        }
        out
    }

    // ---- fields ------------------------------------------------------------------------------

    fn string(
        &mut self,
        file: &str,
        at: &FeatureRef,
        props: &Map<String, Value>,
        key: &str,
        required: bool,
    ) -> Option<String> {
        let field = format!("properties.{key}");
        match props.get(key) {
            None | Some(Value::Null) => {
                if required {
                    self.problem(
                        file,
                        Some(at),
                        Some(&field),
                        ProblemKind::MissingField,
                        "missing; expected a string",
                    );
                }
                None
            }
            Some(Value::String(s)) if s.trim().is_empty() && required => {
                self.problem(
                    file,
                    Some(at),
                    Some(&field),
                    ProblemKind::InvalidValue,
                    "is empty; expected a non-empty string",
                );
                None
            }
            Some(Value::String(s)) => Some(s.trim().to_string()),
            Some(other) => {
                self.problem(
                    file,
                    Some(at),
                    Some(&field),
                    ProblemKind::WrongType,
                    format!("expected a string, found {}", kind_of(other)),
                );
                None
            }
        }
    }

    /// A whole number ≥ `min`; 12.0 counts as whole, 12.5 and "12" do not.
    fn count(
        &mut self,
        file: &str,
        at: &FeatureRef,
        props: &Map<String, Value>,
        key: &str,
        required: bool,
        min: u32,
    ) -> Option<u32> {
        let field = format!("properties.{key}");
        let expected = format!("expected a whole number ≥ {min}");
        let (kind, message) = match props.get(key) {
            None | Some(Value::Null) if !required => return None,
            None | Some(Value::Null) => (ProblemKind::MissingField, format!("missing; {expected}")),
            Some(Value::Number(n)) => {
                let v = n.as_i64().map(|i| i as f64).or_else(|| n.as_f64()).unwrap_or(f64::NAN);
                if v.fract() != 0.0 || !v.is_finite() {
                    (ProblemKind::NotInteger, format!("{expected}, found {n}"))
                } else if v < 0.0 {
                    (ProblemKind::NegativeValue, format!("{expected}, found {n}"))
                } else if v < f64::from(min) {
                    (ProblemKind::InvalidValue, format!("{expected}, found {n}"))
                } else if v > f64::from(u32::MAX) {
                    (
                        ProblemKind::InvalidValue,
                        format!("{expected} and below 2^32, found {n}"),
                    )
                } else {
                    return Some(v as u32);
                }
            }
            Some(Value::String(s)) => (
                ProblemKind::WrongType,
                format!("{expected}, found the string {s:?} (write numbers without quotes)"),
            ),
            Some(other) => (ProblemKind::WrongType, format!("{expected}, found {}", kind_of(other))),
        };
        self.problem(file, Some(at), Some(&field), kind, message);
        None
    }

    /// A number ≥ `min` (a whole number or not: 3.5 floors is an attic storey).
    fn number(&mut self, file: &str, at: &FeatureRef, props: &Map<String, Value>, key: &str, min: f64) -> Option<f64> {
        let field = format!("properties.{key}");
        let (kind, message) = match props.get(key) {
            None | Some(Value::Null) => return None,
            Some(Value::Number(n)) => match n.as_f64().filter(|v| v.is_finite()) {
                Some(v) if v >= min => return Some(v),
                Some(v) if v < 0.0 => (
                    ProblemKind::NegativeValue,
                    format!("expected a number ≥ {min}, found {n}"),
                ),
                _ => (
                    ProblemKind::InvalidValue,
                    format!("expected a number ≥ {min}, found {n}"),
                ),
            },
            Some(Value::String(s)) => (
                ProblemKind::WrongType,
                format!("expected a number ≥ {min}, found the string {s:?} (write numbers without quotes)"),
            ),
            Some(other) => (
                ProblemKind::WrongType,
                format!("expected a number ≥ {min}, found {}", kind_of(other)),
            ),
        };
        self.problem(file, Some(at), Some(&field), kind, message);
        None
    }

    /// The feature's required `id`, checked unique within the file: `properties.id`, else the
    /// Feature's own `id` member; a string or a number (GDAL writes integer ids as numbers).
    fn id(&mut self, file: &str, f: &Feature, seen: &mut HashMap<String, usize>) -> Option<String> {
        let (value, field) = match f.props.get("id") {
            None | Some(Value::Null) => (f.member_id.filter(|v| !v.is_null()), "id"),
            Some(v) => (Some(v), "properties.id"),
        };
        let id = match value {
            Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
            Some(Value::Number(n)) => number_text(n),
            Some(Value::String(_)) => {
                self.problem(
                    file,
                    Some(&f.at),
                    Some(field),
                    ProblemKind::InvalidValue,
                    "is empty; expected a non-empty string or a number",
                );
                return None;
            }
            None | Some(Value::Null) => {
                self.problem(
                    file,
                    Some(&f.at),
                    Some("properties.id"),
                    ProblemKind::MissingField,
                    "missing; expected a string or a number (here or as the Feature's own id)",
                );
                return None;
            }
            Some(other) => {
                self.problem(
                    file,
                    Some(&f.at),
                    Some(field),
                    ProblemKind::WrongType,
                    format!("expected a string or a number, found {}", kind_of(other)),
                );
                return None;
            }
        };
        if let Some(first) = seen.insert(id.clone(), f.at.index) {
            seen.insert(id.clone(), first);
            self.problem(
                file,
                Some(&f.at),
                Some("properties.id"),
                ProblemKind::DuplicateId,
                format!("{id:?} is already used by features[{first}]; ids must be unique"),
            );
        }
        Some(id)
    }

    // ---- files -------------------------------------------------------------------------------

    fn communities(&mut self) -> Vec<Community> {
        let Some(values) = self.collection(BOUNDARY, true) else {
            return Vec::new();
        };
        if values.is_empty() {
            self.problem(
                BOUNDARY,
                None,
                Some("features"),
                ProblemKind::Empty,
                "holds no communities; a dataset needs at least one community boundary",
            );
            return Vec::new();
        }
        let mut out = Vec::new();
        let mut refs = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for f in self.features(BOUNDARY, &values, "code") {
            let before = self.problems.len();
            let code = match f.props.get("code") {
                Some(Value::String(s)) => {
                    match CommunityCode::parse(s) {
                        Some(code) => Some(code),
                        None => {
                            self.problem(BOUNDARY, Some(&f.at), Some("properties.code"), ProblemKind::MalformedCode,
                            format!("expected 12 digits (6 county + 3 street + 3 committee), found {s:?} ({} characters)", s.chars().count()));
                            None
                        }
                    }
                }
                Some(Value::Number(n)) => {
                    self.problem(BOUNDARY, Some(&f.at), Some("properties.code"), ProblemKind::WrongType,
                        format!("expected a string of 12 digits, found the number {n} (numbers lose leading zeros; quote it)"));
                    None
                }
                None | Some(Value::Null) => {
                    self.problem(
                        BOUNDARY,
                        Some(&f.at),
                        Some("properties.code"),
                        ProblemKind::MissingField,
                        "missing; expected the 12-digit community code",
                    );
                    None
                }
                Some(other) => {
                    self.problem(
                        BOUNDARY,
                        Some(&f.at),
                        Some("properties.code"),
                        ProblemKind::WrongType,
                        format!("expected a string of 12 digits, found {}", kind_of(other)),
                    );
                    None
                }
            };
            if let Some(code) = &code {
                if let Some(&first) = seen.get(code.as_str()) {
                    self.problem(
                        BOUNDARY,
                        Some(&f.at),
                        Some("properties.code"),
                        ProblemKind::DuplicateCode,
                        format!("{code} is already the code of features[{first}]; community codes must be unique"),
                    );
                } else {
                    seen.insert(code.to_string(), f.at.index);
                }
            }
            let name = self.string(BOUNDARY, &f.at, f.props, "name", true);
            let boundary = self.geometry(BOUNDARY, &f.at, geometry::polygonal(f.geometry));
            if let Some(b) = &boundary {
                self.span(BOUNDARY, &f.at, b, MAX_COMMUNITY_SPAN_M, "community");
            }
            if self.problems.len() > before {
                continue;
            }
            if let (Some(code), Some(name), Some(boundary)) = (code, name, boundary) {
                refs.push(f.at);
                out.push(Community { code, name, boundary });
            }
        }
        let areas: Vec<_> = out.iter().map(|c| &c.boundary).collect();
        self.overlaps(
            BOUNDARY,
            &refs,
            &areas,
            ProblemKind::OverlappingCommunities,
            "community",
        );
        out
    }

    fn buildings(&mut self, locate: &dyn Fn(Point<f64>) -> Option<CommunityIx>) -> Vec<Building> {
        let Some(values) = self.collection(BUILDINGS, true) else {
            return Vec::new();
        };
        let mut out = Vec::with_capacity(values.len());
        let mut refs = Vec::with_capacity(values.len());
        let mut seen = HashMap::new();
        for f in self.features(BUILDINGS, &values, "id") {
            let before = self.problems.len();
            let id = self.id(BUILDINGS, &f, &mut seen);
            if let Some(id) = &id {
                if id.contains('#') {
                    self.problem(
                        BUILDINGS,
                        Some(&f.at),
                        Some("properties.id"),
                        ProblemKind::InvalidValue,
                        "contains '#', which is reserved for unit parts (ID#UNIT)",
                    );
                }
            }
            let population = self.count(BUILDINGS, &f.at, f.props, "population", true, 0);
            let households = self.count(BUILDINGS, &f.at, f.props, "households", false, 0);
            let address = self.string(BUILDINGS, &f.at, f.props, "address", false);
            let compound = self.string(BUILDINGS, &f.at, f.props, "compound", false);
            let floors = self.number(BUILDINGS, &f.at, f.props, "floors", 1.0);
            let units = self.units(&f, population, households);
            let footprint = self.geometry(BUILDINGS, &f.at, geometry::polygonal(f.geometry));
            if let Some(b) = &footprint {
                self.span(BUILDINGS, &f.at, b, MAX_BUILDING_SPAN_M, "building");
            }
            if self.problems.len() > before {
                continue;
            }
            let (Some(id), Some(population), Some(footprint)) = (id, population, footprint) else {
                continue;
            };
            let Some(anchor) = footprint.interior_point() else {
                continue;
            };
            let Some(community) = locate(anchor) else {
                self.outside(BUILDINGS, &f.at, anchor, "the building's representative point");
                continue;
            };
            let (households, households_estimated) = match households {
                Some(h) => (h, false),
                None if !units.is_empty() => (units.iter().map(|u| u.households).sum(), false),
                None => (estimated_households(population), true),
            };
            refs.push(f.at);
            out.push(Building {
                id,
                footprint,
                population,
                households,
                households_estimated,
                address,
                compound,
                floors,
                units,
                anchor,
                community,
                exclusive_unit: None,
            });
        }
        let areas: Vec<_> = out.iter().map(|b| &b.footprint).collect();
        self.overlaps(BUILDINGS, &refs, &areas, ProblemKind::OverlappingBuildings, "building");
        out
    }

    fn units(&mut self, f: &Feature, population: Option<u32>, households: Option<u32>) -> Vec<Unit> {
        let units = match f.props.get("units") {
            None | Some(Value::Null) => return Vec::new(),
            Some(Value::Array(units)) => units,
            Some(other) => {
                self.problem(
                    BUILDINGS,
                    Some(&f.at),
                    Some("properties.units"),
                    ProblemKind::WrongType,
                    format!(
                        "expected an array of {{name, population, households}}, found {}",
                        kind_of(other)
                    ),
                );
                return Vec::new();
            }
        };
        let before = self.problems.len();
        let mut out = Vec::with_capacity(units.len());
        let mut all_declare_households = true;
        for (i, u) in units.iter().enumerate() {
            let Value::Object(props) = u else {
                self.problem(
                    BUILDINGS,
                    Some(&f.at),
                    Some(&format!("properties.units[{i}]")),
                    ProblemKind::WrongType,
                    format!(
                        "expected an object {{name, population, households}}, found {}",
                        kind_of(u)
                    ),
                );
                continue;
            };
            // The property readers name fields properties.KEY; re-home them under units[i].
            let mark = self.problems.len();
            let name = self.string(BUILDINGS, &f.at, props, "name", true);
            let pop = self.count(BUILDINGS, &f.at, props, "population", true, 0);
            let hh = self.count(BUILDINGS, &f.at, props, "households", false, 0);
            all_declare_households &= hh.is_some();
            for p in &mut self.problems[mark..] {
                p.field = p
                    .field
                    .take()
                    .map(|f| f.replacen("properties.", &format!("properties.units[{i}]."), 1));
            }
            if let (Some(name), Some(population)) = (name, pop) {
                let households = hh.unwrap_or_else(|| estimated_households(population));
                out.push(Unit {
                    name,
                    population,
                    households,
                });
            }
        }
        if self.problems.len() > before {
            return Vec::new();
        }
        let mut names = HashMap::new();
        for (i, u) in out.iter().enumerate() {
            if let Some(first) = names.insert(u.name.clone(), i) {
                self.problem(
                    BUILDINGS,
                    Some(&f.at),
                    Some(&format!("properties.units[{i}].name")),
                    ProblemKind::DuplicateId,
                    format!(
                        "{:?} is already the name of units[{first}]; unit names must be unique in a building",
                        u.name
                    ),
                );
            }
        }
        let sum: u64 = out.iter().map(|u| u64::from(u.population)).sum();
        if let Some(pop) = population {
            if sum != u64::from(pop) {
                self.problem(BUILDINGS, Some(&f.at), Some("properties.units"), ProblemKind::UnitsMismatch,
                    format!("the units' populations add up to {sum}, but the building's population is {pop}; they must be equal"));
            }
        }
        let hh_sum: u64 = out.iter().map(|u| u64::from(u.households)).sum();
        if let (Some(hh), true) = (households, all_declare_households) {
            if hh_sum != u64::from(hh) {
                self.problem(BUILDINGS, Some(&f.at), Some("properties.units"), ProblemKind::UnitsMismatch,
                    format!("the units' households add up to {hh_sum}, but the building's households are {hh}; they must be equal"));
            }
        }
        out
    }

    fn points(
        &mut self,
        locate: &dyn Fn(Point<f64>) -> Option<CommunityIx>,
        buildings: &[Building],
    ) -> Vec<PopulationPoint> {
        let Some(values) = self.collection(POPULATION, false) else {
            return Vec::new();
        };
        let footprints = BboxIndex::new(
            buildings
                .iter()
                .enumerate()
                .filter_map(|(i, b)| b.footprint.bounding_rect().map(|r| (i, r))),
        );
        let mut out = Vec::with_capacity(values.len());
        for f in self.features(POPULATION, &values, "id") {
            let before = self.problems.len();
            let count = self.count(POPULATION, &f.at, f.props, "count", true, 1);
            let location = self.geometry(POPULATION, &f.at, geometry::point(f.geometry));
            if self.problems.len() > before {
                continue;
            }
            let (Some(count), Some(location)) = (count, location) else {
                continue;
            };
            let Some(community) = locate(location) else {
                self.outside(POPULATION, &f.at, location, "the point");
                continue;
            };
            if let Some(b) = footprints
                .at_point(location.0)
                .into_iter()
                .find(|&b| buildings[b].footprint.contains(&location))
            {
                self.problem(POPULATION, Some(&f.at), Some("geometry"), ProblemKind::PointInsideBuilding,
                    format!("lies inside building {:?}; its {count} residents are counted in addition to the building's own", buildings[b].id));
            }
            out.push(PopulationPoint {
                location,
                count,
                community,
            });
        }
        out
    }

    fn resources(&mut self, locate: &dyn Fn(Point<f64>) -> Option<CommunityIx>) -> Vec<Resource> {
        let Some(values) = self.collection(RESOURCES, false) else {
            return Vec::new();
        };
        let mut out = Vec::with_capacity(values.len());
        let mut seen = HashMap::new();
        for f in self.features(RESOURCES, &values, "id") {
            let before = self.problems.len();
            let id = self.id(RESOURCES, &f, &mut seen);
            let kind = self.string(RESOURCES, &f.at, f.props, "kind", true);
            let name = self.string(RESOURCES, &f.at, f.props, "name", true);
            let phone = self.string(RESOURCES, &f.at, f.props, "phone", false);
            let hours = self.string(RESOURCES, &f.at, f.props, "hours", false);
            let address = self.string(RESOURCES, &f.at, f.props, "address", false);
            let location = self.geometry(RESOURCES, &f.at, geometry::point(f.geometry));
            if self.problems.len() > before {
                continue;
            }
            let (Some(id), Some(kind), Some(name), Some(location)) = (id, kind, name, location) else {
                continue;
            };
            out.push(Resource {
                id,
                kind: kind.to_lowercase().replace([' ', '-'], "_"),
                name,
                phone,
                hours,
                address,
                location,
                community: locate(location),
            });
        }
        out
    }

    fn roads(&mut self) -> Vec<Road> {
        let Some(values) = self.collection(ROADS, false) else {
            return Vec::new();
        };
        let mut out = Vec::with_capacity(values.len());
        let mut seen = HashMap::new();
        for f in self.features(ROADS, &values, "id") {
            let before = self.problems.len();
            let id = self.id(ROADS, &f, &mut seen);
            let name = self.string(ROADS, &f.at, f.props, "name", false);
            let class = self.string(ROADS, &f.at, f.props, "class", false);
            let line = self.geometry(ROADS, &f.at, geometry::lineal(f.geometry));
            if self.problems.len() > before {
                continue;
            }
            if let (Some(id), Some(line)) = (id, line) {
                out.push(Road { id, name, class, line });
            }
        }
        out
    }

    fn exclusive(&mut self, locate: &dyn Fn(Point<f64>) -> Option<CommunityIx>) -> Vec<ExclusiveUnit> {
        let Some(values) = self.collection(EXCLUSIVE, false) else {
            return Vec::new();
        };
        let mut out = Vec::with_capacity(values.len());
        let mut refs = Vec::new();
        let mut seen = HashMap::new();
        for f in self.features(EXCLUSIVE, &values, "id") {
            let before = self.problems.len();
            let id = self.id(EXCLUSIVE, &f, &mut seen);
            let name = self.string(EXCLUSIVE, &f.at, f.props, "name", true);
            let kind = self.string(EXCLUSIVE, &f.at, f.props, "kind", true);
            let area = self.geometry(EXCLUSIVE, &f.at, geometry::polygonal(f.geometry));
            if let Some(a) = &area {
                self.span(EXCLUSIVE, &f.at, a, MAX_EXCLUSIVE_SPAN_M, "exclusive unit");
            }
            if self.problems.len() > before {
                continue;
            }
            let (Some(id), Some(name), Some(kind), Some(area)) = (id, name, kind, area) else {
                continue;
            };
            let Some(anchor) = area.interior_point() else { continue };
            let Some(community) = locate(anchor) else {
                self.outside(EXCLUSIVE, &f.at, anchor, "the unit's representative point");
                continue;
            };
            refs.push(f.at);
            out.push(ExclusiveUnit {
                id,
                name,
                kind: kind.to_lowercase(),
                area,
                anchor,
                community,
            });
        }
        let areas: Vec<_> = out.iter().map(|u| &u.area).collect();
        self.overlaps(EXCLUSIVE, &refs, &areas, ProblemKind::InvalidValue, "exclusive unit");
        out
    }

    fn staff(&mut self, communities: &[Community]) -> Vec<Staff> {
        let Some(root) = self.json(STAFF, false) else {
            return Vec::new();
        };
        let Value::Array(entries) = root else {
            self.problem(
                STAFF,
                None,
                None,
                ProblemKind::WrongType,
                format!(
                    "expected an array of {{grid, name, role, phone}}, found {}",
                    kind_of(&root)
                ),
            );
            return Vec::new();
        };
        self.report.files.push((STAFF.to_string(), entries.len()));
        let codes: Vec<&str> = communities.iter().map(|c| c.code.as_str()).collect();
        let mut out = Vec::with_capacity(entries.len());
        for (index, entry) in entries.iter().enumerate() {
            let at = FeatureRef {
                index,
                id: entry.get("name").and_then(Value::as_str).map(str::to_string),
            };
            let Value::Object(props) = entry else {
                self.problem(
                    STAFF,
                    Some(&at),
                    None,
                    ProblemKind::WrongType,
                    format!(
                        "expected an object {{grid, name, role, phone}}, found {}",
                        kind_of(entry)
                    ),
                );
                continue;
            };
            let before = self.problems.len();
            let grid = self.string(STAFF, &at, props, "grid", true);
            let name = self.string(STAFF, &at, props, "name", true);
            let role = self.string(STAFF, &at, props, "role", true);
            let phone = self.string(STAFF, &at, props, "phone", false);
            for p in &mut self.problems[before..] {
                p.field = p.field.take().map(|f| f.trim_start_matches("properties.").to_string());
            }
            if let Some(grid) = &grid {
                let well_formed = grid.len() > 12 && grid.bytes().all(|b| b.is_ascii_digit());
                if !well_formed {
                    self.problem(
                        STAFF,
                        Some(&at),
                        Some("grid"),
                        ProblemKind::MalformedCode,
                        format!("expected a grid code of digits (community code + sequence), found {grid:?}"),
                    );
                } else if !codes.is_empty() && !codes.contains(&&grid[..12]) {
                    self.problem(STAFF, Some(&at), Some("grid"), ProblemKind::InvalidValue,
                        format!("grid {grid} is in no community of this dataset (its first 12 digits are no code in {BOUNDARY})"));
                }
            }
            if self.problems.len() > before {
                continue;
            }
            if let (Some(grid), Some(name), Some(role)) = (grid, name, role) {
                out.push(Staff {
                    grid,
                    name,
                    role,
                    phone,
                });
            }
        }
        out
    }

    /// An area wider than any of its kind can be is a mistyped coordinate: say which vertex
    /// lies furthest from the middle of the others (the per-axis median, which one stray
    /// vertex cannot move far).
    fn span(&mut self, file: &str, at: &FeatureRef, area: &MultiPolygon<f64>, limit_m: f64, what: &str) {
        let span = span_m(area);
        if span <= limit_m {
            return;
        }
        let vertices: Vec<Coord<f64>> = area
            .0
            .iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .flat_map(|r| r.0.iter().copied())
            .collect();
        let median = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let middle = Point::new(
            median(vertices.iter().map(|c| c.x).collect()),
            median(vertices.iter().map(|c| c.y).collect()),
        );
        let far = vertices
            .iter()
            .map(|&c| (Geodesic.distance(middle, Point(c)), c))
            .max_by(|a, b| a.0.total_cmp(&b.0));
        let stray = far
            .map(|(d, c)| {
                format!(
                    "; vertex [{}, {}] lies {} from the middle of the others — a mistyped coordinate?",
                    c.x,
                    c.y,
                    km(d)
                )
            })
            .unwrap_or_default();
        self.problem(
            file,
            Some(at),
            Some("geometry"),
            ProblemKind::ImplausibleExtent,
            format!(
                "the {what} spans {}, more than any {what} can (at most {}){stray}",
                km(span),
                km(limit_m)
            ),
        );
    }

    // ---- cross-feature checks ----------------------------------------------------------------

    fn outside(&mut self, file: &str, at: &FeatureRef, p: Point<f64>, what: &str) {
        self.problem(
            file,
            Some(at),
            Some("geometry"),
            ProblemKind::OutsideCommunities,
            format!("{what} [{:.7}, {:.7}] lies in no community of {BOUNDARY}", p.x(), p.y()),
        );
    }

    /// Reports every pair of areas overlapping by more than the tolerance, on the later feature.
    fn overlaps(
        &mut self,
        file: &str,
        refs: &[FeatureRef],
        areas: &[&MultiPolygon<f64>],
        kind: ProblemKind,
        what: &str,
    ) {
        let boxes = BboxIndex::new(
            areas
                .iter()
                .enumerate()
                .filter_map(|(i, a)| a.bounding_rect().map(|r| (i, r))),
        );
        let mut found = BTreeMap::new();
        for (i, a) in areas.iter().enumerate() {
            let Some(rect) = a.bounding_rect() else { continue };
            for j in boxes.intersecting(rect).into_iter().filter(|&j| j > i) {
                if !a.intersects(areas[j]) {
                    continue;
                }
                let overlap = area_m2(&a.intersection(areas[j]));
                if overlap > OVERLAP_TOLERANCE_M2 {
                    found.insert((j, i), overlap);
                }
            }
        }
        for ((j, i), overlap) in found {
            let other = &refs[i];
            let name = other.id.as_deref().map(|id| format!(" {id:?}")).unwrap_or_default();
            self.problem(
                file,
                Some(&refs[j]),
                Some("geometry"),
                kind,
                format!(
                    "overlaps {what}{name} (features[{}]) by {overlap:.1} m²; {what} areas must not overlap",
                    other.index
                ),
            );
        }
    }
}

/// What `wangge import` repairs (import/src/repair.rs): rings that touch or cross themselves;
/// in buildings also rings with no area (dropped) and buildings overlapping buildings.
fn repaired_by_import(file: &str, kind: ProblemKind) -> bool {
    match file {
        BUILDINGS => matches!(
            kind,
            ProblemKind::SelfIntersection
                | ProblemKind::ZeroArea
                | ProblemKind::TooFewPoints
                | ProblemKind::OverlappingBuildings
        ),
        BOUNDARY | EXCLUSIVE => kind == ProblemKind::SelfIntersection,
        _ => false,
    }
}

/// A path as one shell word, quoted only when it needs it: for the commands messages print.
pub fn shell_word(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || "/._-+:@,".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn km(m: f64) -> String {
    if m >= 10_000.0 {
        format!("{:.0} km", m / 1000.0)
    } else {
        format!("{:.1} km", m / 1000.0)
    }
}

/// An id written as a number, as text: 12 and 12.0 both read "12".
fn number_text(n: &serde_json::Number) -> String {
    match (n.as_i64(), n.as_u64(), n.as_f64()) {
        (Some(i), _, _) => i.to_string(),
        (_, Some(u), _) => u.to_string(),
        (_, _, Some(f)) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
        _ => n.to_string(),
    }
}

fn describe_type(v: &Value) -> String {
    match v.get("type").and_then(Value::as_str) {
        Some(t) => format!("type {t:?}"),
        None => kind_of(v),
    }
}

/// Marks each building standing in an exclusive unit (by its representative point).
fn link_exclusive(buildings: &mut [Building], units: &[ExclusiveUnit]) {
    if units.is_empty() {
        return;
    }
    let index = AreaIndex::new(units.iter().map(|u| &u.area));
    for b in buildings {
        b.exclusive_unit = index.locate(b.anchor);
    }
}
