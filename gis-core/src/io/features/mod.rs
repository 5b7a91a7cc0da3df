//! Reading each file of a dataset folder into the model, recording every problem on the way.
//!
//! The parts: [`envelope`] (a file's JSON and its features), [`fields`] (property values),
//! [`files`] (each file of the dataset into the model), [`context`] (the optional water and
//! green layers), [`walk`] (the optional walking layer) and [`checks`] (extents, overlaps, and
//! features outside every community).

mod checks;
mod context;
mod envelope;
mod fields;
mod files;
mod walk;

use super::geometry::{Geom, Issue, Parsed};
use super::stream::Members;
use super::{FeatureRef, ImportReport, InputProblem, InputProblemKind};
use crate::geom::AreaIndex;
use crate::model::*;
use geo::Point;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const BOUNDARY: &str = "boundary.geojson";
const BUILDINGS: &str = "buildings.geojson";
const POPULATION: &str = "population.geojson";
const RESOURCES: &str = "resources.geojson";
const ROADS: &str = "roads.geojson";
const EXCLUSIVE: &str = "exclusive.geojson";
const STAFF: &str = "staff.json";
const WATER: &str = "water.geojson";
const GREEN: &str = "green.geojson";
const WALK: &str = "walk.geojson";
const ACCESS: &str = "access.json";

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
    props: Props<'v>,
    geometry: Geom<'v>,
    /// The Feature's own `id` member (RFC 7946 §3.2), which GDAL and geopandas write.
    member_id: Option<&'v Value>,
}

/// A feature's properties (or a unit's, or a staff entry's), as the reader that took the file
/// holds them.
#[derive(Clone, Copy)]
enum Props<'v> {
    Tree(&'v Map<String, Value>),
    Streamed(&'v Members),
}

impl<'v> Props<'v> {
    fn get(self, key: &str) -> Option<&'v Value> {
        match self {
            Props::Tree(m) => m.get(key),
            Props::Streamed(m) => m.get(key),
        }
    }

    /// The items of `units` when it is an array, each an object's properties or the value found
    /// instead; None when `units` is anything else (see [`Props::get`]).
    fn units(self) -> Option<Vec<Result<Props<'v>, &'v Value>>> {
        match self {
            Props::Tree(m) => match m.get("units") {
                Some(Value::Array(items)) => Some(
                    items
                        .iter()
                        .map(|u| match u {
                            Value::Object(m) => Ok(Props::Tree(m)),
                            other => Err(other),
                        })
                        .collect(),
                ),
                _ => None,
            },
            Props::Streamed(m) => m
                .units()
                .map(|items| items.iter().map(|u| u.as_ref().map(Props::Streamed)).collect()),
        }
    }
}

static NO_PROPERTIES: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);

pub(super) struct Reader {
    dir: PathBuf,
    /// The files' text when the dataset comes from memory (a store) rather than a folder.
    files: Option<BTreeMap<String, String>>,
    problems: Vec<InputProblem>,
    report: ImportReport,
    /// Read every file as a whole tree, never streamed (the reference reader).
    trees_only: bool,
}

impl Reader {
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
            files: None,
            problems: Vec::new(),
            report: ImportReport::default(),
            trees_only: false,
        }
    }

    /// A reader over files held in memory, by file name; `name` stands for the folder in messages.
    pub fn from_files(name: &Path, files: BTreeMap<String, String>) -> Self {
        Self {
            dir: name.to_path_buf(),
            files: Some(files),
            problems: Vec::new(),
            report: ImportReport::default(),
            trees_only: false,
        }
    }

    /// A reader of the named files alone (taken from memory, if that is where they are), to be
    /// read beside this one; its problems and report are this reader's to take.
    fn part(&mut self, names: &[&str]) -> Self {
        Self {
            dir: self.dir.clone(),
            files: self
                .files
                .as_mut()
                .map(|files| names.iter().filter_map(|n| files.remove_entry(*n)).collect()),
            problems: Vec::new(),
            report: ImportReport::default(),
            trees_only: self.trees_only,
        }
    }

    pub fn trees_only(&mut self) {
        self.trees_only = true;
    }

    pub fn finish(self) -> (Vec<InputProblem>, ImportReport) {
        (self.problems, self.report)
    }

    /// Reads every file, handing the communities to `on_communities` as soon as they are read
    /// (and checked), before the buildings: work that needs only them can start.
    pub fn read_all_with(&mut self, on_communities: &mut dyn FnMut(&[Community])) -> Dataset {
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
                InputProblemKind::MissingFile,
                format!("{what}; a dataset is a folder of GeoJSON files"),
            );
            return Dataset::default();
        }
        let communities = self.communities();
        on_communities(&communities);
        let areas = AreaIndex::new(communities.iter().map(|c| &c.boundary));
        // Without communities every "outside" verdict would be noise on top of the real problem.
        let locate = &|p: Point<f64>| {
            if communities.is_empty() {
                Some(0)
            } else {
                areas.locate(p)
            }
        };

        let mut buildings = self.buildings(locate);
        // The files after the buildings do not depend on each other: each is read by a reader of
        // its own, side by side, and their problems and reports are then taken in file order,
        // as one reader would have recorded them.
        let [
            mut of_population,
            mut of_resources,
            mut of_roads,
            mut of_exclusive,
            mut of_staff,
            mut of_context,
            mut of_walk,
            mut of_access,
        ] = [
            &[POPULATION][..],
            &[RESOURCES],
            &[ROADS],
            &[EXCLUSIVE],
            &[STAFF],
            &[WATER, GREEN],
            &[WALK],
            &[ACCESS],
        ]
        .map(|names| self.part(names));
        let buildings_read = &buildings;
        let (((points, resources), (roads, exclusive)), ((staff, context), (walk, access))) = rayon::join(
            || {
                rayon::join(
                    || {
                        rayon::join(
                            || of_population.points(locate, buildings_read),
                            || of_resources.resources(&|pt| areas.locate(pt)),
                        )
                    },
                    || rayon::join(|| of_roads.roads(), || of_exclusive.exclusive(locate)),
                )
            },
            || {
                rayon::join(
                    || rayon::join(|| of_staff.staff(&communities), || of_context.context()),
                    || rayon::join(|| of_walk.walk(), || of_access.access()),
                )
            },
        );
        for part in [
            of_population,
            of_resources,
            of_roads,
            of_exclusive,
            of_staff,
            of_context,
            of_walk,
            of_access,
        ] {
            self.problems.extend(part.problems);
            self.report.files.extend(part.report.files);
            self.report.warnings.extend(part.report.warnings);
        }
        link_exclusive(&mut buildings, &exclusive);
        if buildings.is_empty() && points.is_empty() && self.problems.is_empty() {
            self.problem(
                BUILDINGS,
                None,
                None,
                InputProblemKind::Empty,
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
            context,
            walk,
            access,
        }
    }

    /// The life-circle settings of `access.json`, the defaults when there is none (or it has
    /// problems, which are recorded).
    fn access(&mut self) -> crate::access::AccessConfig {
        let Some(root) = self.json(ACCESS, false) else {
            return crate::access::AccessConfig::default();
        };
        self.report.files.push((ACCESS.to_string(), 1));
        match crate::access::AccessConfig::from_json(&root) {
            Ok(config) => config,
            Err(problems) => {
                for p in problems {
                    let field = (!p.field.is_empty()).then_some(p.field.as_str());
                    self.problem(ACCESS, None, field, InputProblemKind::InvalidValue, p.message);
                }
                crate::access::AccessConfig::default()
            }
        }
    }

    fn problem(
        &mut self,
        file: &str,
        at: Option<&FeatureRef>,
        field: Option<&str>,
        kind: InputProblemKind,
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
        let p = InputProblem {
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
}

/// What `wangge import` repairs (import/src/repair.rs; water and green by dataset::keep_around):
/// rings that touch or cross themselves; in buildings also rings with no area (dropped) and
/// buildings overlapping buildings.
fn repaired_by_import(file: &str, kind: InputProblemKind) -> bool {
    match file {
        BUILDINGS => matches!(
            kind,
            InputProblemKind::SelfIntersection
                | InputProblemKind::ZeroArea
                | InputProblemKind::TooFewPoints
                | InputProblemKind::OverlappingBuildings
        ),
        // Water and green are cut to the communities' surroundings by an overlay, which mends them.
        BOUNDARY | EXCLUSIVE | WATER | GREEN => kind == InputProblemKind::SelfIntersection,
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

/// An id written as a number, as text: 12 and 12.0 both read "12".
fn number_text(n: &serde_json::Number) -> String {
    match (n.as_i64(), n.as_u64(), n.as_f64()) {
        (Some(i), _, _) => i.to_string(),
        (_, Some(u), _) => u.to_string(),
        (_, _, Some(f)) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
        _ => n.to_string(),
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
