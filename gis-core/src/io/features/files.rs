//! Each file of the dataset into the model, one reader per file.

use super::envelope::Collection;
use super::{
    BOUNDARY, BUILDINGS, EXCLUSIVE, Feature, MAX_BUILDING_SPAN_M, MAX_COMMUNITY_SPAN_M, MAX_EXCLUSIVE_SPAN_M,
    POPULATION, Props, RESOURCES, ROADS, Reader, STAFF,
};
use crate::geom::BboxIndex;
use crate::io::geometry::{self, Geom, Shape, kind_of};
use crate::io::{FeatureRef, InputProblemKind};
use crate::measure::span_m_up_to;
use crate::model::*;
use geo::{BoundingRect, Contains, Point};
use rayon::prelude::*;
use serde_json::Value;
use std::collections::HashMap;

impl Reader {
    pub(super) fn communities(&mut self) -> Vec<Community> {
        let Some(mut values) = self.collection(BOUNDARY, true, Shape::Polygonal) else {
            return Vec::new();
        };
        if values.is_empty() {
            self.problem(
                BOUNDARY,
                None,
                Some("features"),
                InputProblemKind::Empty,
                "holds no communities; a dataset needs at least one community boundary",
            );
            return Vec::new();
        }
        let mut out = Vec::new();
        let mut refs = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for f in self.features(BOUNDARY, &mut values, "code") {
            let before = self.problems.len();
            let code = match f.props.get("code") {
                Some(Value::String(s)) => {
                    match CommunityCode::parse(s) {
                        Some(code) => Some(code),
                        None => {
                            self.problem(BOUNDARY, Some(&f.at), Some("properties.code"), InputProblemKind::MalformedCode,
                            format!("expected 12 digits (6 county + 3 street + 3 committee), found {s:?} ({} characters)", s.chars().count()));
                            None
                        }
                    }
                }
                Some(Value::Number(n)) => {
                    self.problem(BOUNDARY, Some(&f.at), Some("properties.code"), InputProblemKind::WrongType,
                        format!("expected a string of 12 digits, found the number {n} (numbers lose leading zeros; quote it)"));
                    None
                }
                None | Some(Value::Null) => {
                    self.problem(
                        BOUNDARY,
                        Some(&f.at),
                        Some("properties.code"),
                        InputProblemKind::MissingField,
                        "missing; expected the 12-digit community code",
                    );
                    None
                }
                Some(other) => {
                    self.problem(
                        BOUNDARY,
                        Some(&f.at),
                        Some("properties.code"),
                        InputProblemKind::WrongType,
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
                        InputProblemKind::DuplicateCode,
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
            InputProblemKind::OverlappingCommunities,
            "community",
        );
        out
    }

    pub(super) fn buildings(&mut self, locate: &(dyn Fn(Point<f64>) -> Option<CommunityIx> + Sync)) -> Vec<Building> {
        // Room for as many buildings as the file could plausibly hold (a plain footprint with
        // its properties takes ~200 bytes), so that a city's buildings are not copied again and
        // again as the lists grow; room never used is never touched.
        let room = usize::try_from(self.len_of(BUILDINGS) / 200).unwrap_or(0);
        let mut read = BuildingsRead {
            out: Vec::with_capacity(room),
            refs: Vec::with_capacity(room),
            // Fewer: a table's room is touched wherever ids hash, used or not.
            seen: HashMap::with_capacity(room / 3),
        };
        // In chunks: a city's buildings are 100 MB of JSON, never held as values all at once.
        self.collection_in_chunks(
            BUILDINGS,
            true,
            Shape::Polygonal,
            &mut read,
            &mut |r, read, chunk, first| r.building_chunk(chunk, first, locate, read),
        );
        let BuildingsRead { out, refs, .. } = read;
        let areas: Vec<_> = out.iter().map(|b| &b.footprint).collect();
        self.overlaps(
            BUILDINGS,
            &refs,
            &areas,
            InputProblemKind::OverlappingBuildings,
            "building",
        );
        out
    }

    fn building_chunk(
        &mut self,
        values: &mut Collection,
        first: usize,
        locate: &(dyn Fn(Point<f64>) -> Option<CommunityIx> + Sync),
        read: &mut BuildingsRead,
    ) {
        let BuildingsRead { out, refs, seen } = read;
        let mut features = self.features_from(BUILDINGS, values, "id", first);
        // Each footprint checked, measured and placed on every core: work that reads only the
        // feature; its problems are recorded below, in the order they always were.
        let placed: Vec<_> = features
            .par_iter_mut()
            .map(|f| {
                let parsed = geometry::polygonal(std::mem::replace(&mut f.geometry, Geom::Tree(None)));
                let place = parsed.as_ref().ok().map(|(footprint, _)| {
                    let anchor = crate::geom::interior_point(footprint);
                    (
                        span_m_up_to(footprint, MAX_BUILDING_SPAN_M),
                        anchor.map(|a| (a, locate(a))),
                    )
                });
                (parsed, place)
            })
            .collect();
        for (f, (parsed, place)) in features.into_iter().zip(placed) {
            let before = self.problems.len();
            let id = self.id(BUILDINGS, &f, seen);
            if let Some(id) = &id
                && id.contains('#')
            {
                self.problem(
                    BUILDINGS,
                    Some(&f.at),
                    Some("properties.id"),
                    InputProblemKind::InvalidValue,
                    "contains '#', which is reserved for unit parts (ID#UNIT)",
                );
            }
            let population = self.count(BUILDINGS, &f.at, f.props, "population", true, 0);
            let households = self.count(BUILDINGS, &f.at, f.props, "households", false, 0);
            let address = self.string(BUILDINGS, &f.at, f.props, "address", false);
            let compound = self.string(BUILDINGS, &f.at, f.props, "compound", false);
            let floors = self.number(BUILDINGS, &f.at, f.props, "floors", 1.0);
            let units = self.units(&f, population, households);
            let footprint = self.geometry(BUILDINGS, &f.at, parsed);
            let (span, anchor) = place.unzip();
            if let (Some(b), Some(span)) = (&footprint, span) {
                self.span_of(BUILDINGS, &f.at, b, span, MAX_BUILDING_SPAN_M, "building");
            }
            if self.problems.len() > before {
                continue;
            }
            let (Some(id), Some(population), Some(footprint)) = (id, population, footprint) else {
                continue;
            };
            let Some((anchor, community)) = anchor.flatten() else {
                continue;
            };
            let Some(community) = community else {
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
    }

    fn units(&mut self, f: &Feature, population: Option<u32>, households: Option<u32>) -> Vec<Unit> {
        let units = match f.props.units() {
            Some(units) => units,
            None => match f.props.get("units") {
                None | Some(Value::Null) => return Vec::new(),
                Some(other) => {
                    self.problem(
                        BUILDINGS,
                        Some(&f.at),
                        Some("properties.units"),
                        InputProblemKind::WrongType,
                        format!(
                            "expected an array of {{name, population, households}}, found {}",
                            kind_of(other)
                        ),
                    );
                    return Vec::new();
                }
            },
        };
        let before = self.problems.len();
        let mut out = Vec::with_capacity(units.len());
        let mut all_declare_households = true;
        for (i, u) in units.into_iter().enumerate() {
            let props = match u {
                Ok(props) => props,
                Err(u) => {
                    self.problem(
                        BUILDINGS,
                        Some(&f.at),
                        Some(&format!("properties.units[{i}]")),
                        InputProblemKind::WrongType,
                        format!(
                            "expected an object {{name, population, households}}, found {}",
                            kind_of(u)
                        ),
                    );
                    continue;
                }
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
                    InputProblemKind::DuplicateId,
                    format!(
                        "{:?} is already the name of units[{first}]; unit names must be unique in a building",
                        u.name
                    ),
                );
            }
        }
        let sum: u64 = out.iter().map(|u| u64::from(u.population)).sum();
        if let Some(pop) = population
            && sum != u64::from(pop)
        {
            self.problem(
                BUILDINGS,
                Some(&f.at),
                Some("properties.units"),
                InputProblemKind::UnitsMismatch,
                format!(
                    "the units' populations add up to {sum}, but the building's population is {pop}; they must be equal"
                ),
            );
        }
        let hh_sum: u64 = out.iter().map(|u| u64::from(u.households)).sum();
        if let (Some(hh), true) = (households, all_declare_households)
            && hh_sum != u64::from(hh)
        {
            self.problem(BUILDINGS, Some(&f.at), Some("properties.units"), InputProblemKind::UnitsMismatch,
                    format!("the units' households add up to {hh_sum}, but the building's households are {hh}; they must be equal"));
        }
        out
    }

    pub(super) fn points(
        &mut self,
        locate: &dyn Fn(Point<f64>) -> Option<CommunityIx>,
        buildings: &[Building],
    ) -> Vec<PopulationPoint> {
        let Some(mut values) = self.collection(POPULATION, false, Shape::Point) else {
            return Vec::new();
        };
        let footprints = BboxIndex::new(
            buildings
                .iter()
                .enumerate()
                .filter_map(|(i, b)| b.footprint.bounding_rect().map(|r| (i, r))),
        );
        let mut out = Vec::with_capacity(values.len());
        for f in self.features(POPULATION, &mut values, "id") {
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
                self.problem(POPULATION, Some(&f.at), Some("geometry"), InputProblemKind::PointInsideBuilding,
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

    pub(super) fn resources(&mut self, locate: &dyn Fn(Point<f64>) -> Option<CommunityIx>) -> Vec<Resource> {
        let Some(mut values) = self.collection(RESOURCES, false, Shape::Point) else {
            return Vec::new();
        };
        let mut out = Vec::with_capacity(values.len());
        let mut seen = HashMap::new();
        for f in self.features(RESOURCES, &mut values, "id") {
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
                kind: Resource::canonical_kind(&kind),
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

    pub(super) fn roads(&mut self) -> Vec<Road> {
        let Some(mut values) = self.collection(ROADS, false, Shape::Lineal) else {
            return Vec::new();
        };
        let mut out = Vec::with_capacity(values.len());
        let mut seen = HashMap::new();
        for f in self.features(ROADS, &mut values, "id") {
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

    pub(super) fn exclusive(&mut self, locate: &dyn Fn(Point<f64>) -> Option<CommunityIx>) -> Vec<ExclusiveUnit> {
        let Some(mut values) = self.collection(EXCLUSIVE, false, Shape::Polygonal) else {
            return Vec::new();
        };
        let mut out = Vec::with_capacity(values.len());
        let mut refs = Vec::new();
        let mut seen = HashMap::new();
        for f in self.features(EXCLUSIVE, &mut values, "id") {
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
            let Some(anchor) = crate::geom::interior_point(&area) else {
                continue;
            };
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
        self.overlaps(
            EXCLUSIVE,
            &refs,
            &areas,
            InputProblemKind::InvalidValue,
            "exclusive unit",
        );
        out
    }

    pub(super) fn staff(&mut self, communities: &[Community]) -> Vec<Staff> {
        let Some(root) = self.json(STAFF, false) else {
            return Vec::new();
        };
        let Value::Array(entries) = root else {
            self.problem(
                STAFF,
                None,
                None,
                InputProblemKind::WrongType,
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
                    InputProblemKind::WrongType,
                    format!(
                        "expected an object {{grid, name, role, phone}}, found {}",
                        kind_of(entry)
                    ),
                );
                continue;
            };
            let before = self.problems.len();
            let props = Props::Tree(props);
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
                        InputProblemKind::MalformedCode,
                        format!("expected a grid code of digits (community code + sequence), found {grid:?}"),
                    );
                } else if !codes.is_empty() && !codes.contains(&&grid[..12]) {
                    self.problem(STAFF, Some(&at), Some("grid"), InputProblemKind::InvalidValue,
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
}

/// The buildings read so far, across chunks.
#[derive(Default)]
struct BuildingsRead {
    out: Vec<Building>,
    refs: Vec<FeatureRef>,
    /// Ids seen, with the index of the feature that had each first.
    seen: HashMap<String, usize>,
}
