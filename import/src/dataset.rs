//! Layers → a dataset folder: properties by role, coordinates to WGS-84, a boundary when none is
//! given, features outside the communities dropped (and counted), then written beside the
//! target, read back with the strict reader, and renamed into place only if it passes.

use crate::crs::SourceCrs;
use crate::error::{ImportError, ProblemKind};
use crate::source::{Declared, FieldMap, Layer, Role, Target, Value, number, problem, text, whole_number};
use geo::{
    BoundingRect, ConvexHull, Coord, CoordsIter, Geometry, InteriorPoint, Intersects, LineString, MapCoords,
    MultiLineString, MultiPoint, MultiPolygon, Orient, Point, Polygon, Rect, Relate, orient::Direction,
};
use gis_core::io::{Loaded, load_dataset};
use serde::Serialize;
use serde_json::{Map, Value as Json, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A feature on its way into the dataset: WGS-84 geometry, dataset properties, and where it came from.
#[derive(Debug, Clone)]
pub struct Feature {
    pub geometry: Geometry<f64>,
    pub properties: Map<String, Json>,
    pub source: PathBuf,
    pub source_index: usize,
    /// What a building is used for, for estimating its residents when no source gives them.
    pub building_use: Option<String>,
}

impl Feature {
    /// How the report names it: its id, a community's code, else its number in the source.
    pub fn name(&self) -> String {
        ["id", "code"]
            .iter()
            .find_map(|k| self.properties.get(*k).and_then(Json::as_str).map(str::to_string))
            .unwrap_or_else(|| format!("feature {}", self.source_index))
    }
}

/// A feature import left out, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dropped {
    pub source: String,
    /// Its id (`osm-w123`, `KL-B0001`), else "feature N" (its number in the source).
    pub id: String,
    pub reason: String,
    /// Residents the source gave it, which the dataset does not hold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub residents: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A feature import changed to make it valid.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Repaired {
    pub source: String,
    pub id: String,
    /// What was done, the same words for every feature it was done to.
    pub repair: String,
    /// Where and how much, for this feature.
    pub detail: String,
}

/// What import assumed, repaired and dropped, for the report.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Notes {
    pub assumed: Vec<String>,
    pub repaired: Vec<Repaired>,
    pub dropped: Vec<Dropped>,
}

impl Notes {
    pub fn assume(&mut self, s: impl Into<String>) {
        self.assumed.push(s.into());
    }

    /// A feature dropped before it became a [`Feature`] (an OpenStreetMap way whose nodes are
    /// missing, a road of a class grids do not follow).
    pub fn drop(&mut self, source: &Path, id: impl Into<String>, reason: impl Into<String>) {
        self.dropped.push(Dropped {
            source: source.display().to_string(),
            id: id.into(),
            reason: reason.into(),
            residents: None,
            detail: None,
        });
    }

    pub fn drop_feature(&mut self, f: &Feature, reason: &str) {
        self.push_dropped(f, reason, None);
    }

    pub fn drop_feature_because(&mut self, f: &Feature, reason: &str, detail: String) {
        self.push_dropped(f, reason, Some(detail));
    }

    fn push_dropped(&mut self, f: &Feature, reason: &str, detail: Option<String>) {
        let residents = f
            .properties
            .get("population")
            .or_else(|| f.properties.get("count"))
            .and_then(Json::as_u64);
        self.dropped.push(Dropped {
            source: f.source.display().to_string(),
            id: f.name(),
            reason: reason.into(),
            residents,
            detail,
        });
    }

    pub fn repair(&mut self, source: &Path, id: &str, repair: &str, detail: String) {
        self.repaired.push(Repaired {
            source: source.display().to_string(),
            id: id.to_string(),
            repair: repair.into(),
            detail,
        });
    }

    pub fn dropped_total(&self) -> usize {
        self.dropped.len()
    }

    /// Dropped features by (source, reason): their ids, in order, and the residents they held.
    pub fn dropped_by_reason(&self) -> BTreeMap<(&str, &str), (Vec<&str>, u64)> {
        let mut out: BTreeMap<(&str, &str), (Vec<&str>, u64)> = BTreeMap::new();
        for d in &self.dropped {
            let e = out.entry((d.source.as_str(), d.reason.as_str())).or_default();
            e.0.push(d.id.as_str());
            e.1 += d.residents.unwrap_or(0);
        }
        out
    }

    /// Repairs by (source, what was done): the ids repaired, in order.
    pub fn repaired_by_kind(&self) -> BTreeMap<(&str, &str), Vec<&str>> {
        let mut out: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
        for r in &self.repaired {
            out.entry((r.source.as_str(), r.repair.as_str()))
                .or_default()
                .push(r.id.as_str());
        }
        out
    }
}

/// Everything gathered for one dataset, by file.
#[derive(Debug, Default)]
pub struct Draft {
    pub files: BTreeMap<Role, Vec<Feature>>,
    /// `staff.json` from a dataset folder, kept as it is (the reader checks it).
    pub staff: Option<String>,
    pub notes: Notes,
}

/// The role a layer plays when the command line does not say: by its name (a file or table called
/// buildings, boundary, …), else by geometry.
pub fn infer_role(layer: &Layer, fields: &FieldMap) -> Option<Role> {
    let stem = layer
        .name
        .file_stem()
        .map(|s| s.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let table = layer
        .name
        .to_string_lossy()
        .rsplit_once('#')
        .map(|(_, t)| t.to_ascii_lowercase());
    for name in table.iter().chain(std::iter::once(&stem)) {
        if let Some(role) = Role::ALL.into_iter().find(|r| {
            name == r.name() || name.starts_with(&format!("{}_", r.name())) || name.ends_with(&format!("_{}", r.name()))
        }) {
            return Some(role);
        }
    }
    let geometry = layer.features.iter().find_map(|f| f.geometry.as_ref())?;
    Some(match geometry {
        Geometry::Polygon(_) | Geometry::MultiPolygon(_) => Role::Buildings,
        Geometry::LineString(_) | Geometry::MultiLineString(_) => Role::Roads,
        Geometry::Point(_) | Geometry::MultiPoint(_) => {
            let has = |t: Target| {
                fields.given(Role::Resources, t).is_some()
                    || t.aliases()
                        .iter()
                        .any(|a| layer.fields.iter().any(|f| f.eq_ignore_ascii_case(a)))
            };
            if has(Target::Kind) {
                Role::Resources
            } else {
                Role::Population
            }
        }
        _ => return None,
    })
}

/// The coordinate system to read a layer in, said in the report with where it came from:
/// the source's own `FILE@CRS` (which overrides what the file declares, and says so), else
/// `--crs` (which must agree with a readable declaration, and wins over an empty or unreadable
/// one), else what the file declares (.prj, `crs` member, GeoPackage srs), else WGS-84.
/// Coordinates that cannot be in the system chosen stop here with what they look like.
pub fn layer_crs(
    layer: &Layer,
    own: Option<&(String, SourceCrs)>,
    global: Option<&SourceCrs>,
    notes: &mut Notes,
) -> Result<SourceCrs, ImportError> {
    let file = layer.name.display().to_string();
    let coords: Vec<Coord<f64>> = layer
        .features
        .iter()
        .filter_map(|f| f.geometry.as_ref())
        .flat_map(|g| g.coords_iter())
        .collect();
    // A few positions spread over the layer, to tell whether two systems agree on it.
    let sample: Vec<Coord<f64>> = coords
        .iter()
        .step_by((coords.len() / 8).max(1))
        .copied()
        .take(8)
        .collect();
    let declared = layer.declared_crs.as_ref();
    let crs = match (own, global, declared) {
        (Some((given, crs)), _, Some(Declared::Known { crs: d, by })) => {
            if crs.agrees_with(d, &sample) {
                notes.assume(format!(
                    "{file}: coordinates in {} ({file}@{given}, as {by} says)",
                    crs.describe()
                ));
            } else {
                notes.assume(format!(
                    "{file}: coordinates in {} ({file}@{given}) — OVERRIDES {by}, which says {}",
                    crs.describe(),
                    d.label()
                ));
            }
            crs.clone()
        }
        (None, Some(g), Some(Declared::Known { crs: d, by })) => {
            if !g.agrees_with(d, &sample) {
                return Err(ImportError::CrsConflict {
                    file: layer.name.clone(),
                    declared_by: by.clone(),
                    declared: d.label(),
                    given: g.label(),
                });
            }
            notes.assume(format!("{file}: coordinates in {} (--crs, as {by} says)", g.describe()));
            g.clone()
        }
        (Some((text, crs)), _, Some(Declared::Unusable { by, reason, given, .. })) => {
            let what = if given.is_empty() {
                String::new()
            } else {
                format!(" ({given})")
            };
            notes.assume(format!(
                "{file}: coordinates in {} ({file}@{text}) — OVERRIDES {by}{what}, unusable: {reason}",
                crs.describe()
            ));
            crs.clone()
        }
        (None, Some(g), Some(Declared::Unusable { by, reason, given, .. })) => {
            let what = if given.is_empty() {
                String::new()
            } else {
                format!(" ({given})")
            };
            notes.assume(format!(
                "{file}: coordinates in {} (--crs) — OVERRIDES {by}{what}, unusable: {reason}",
                g.describe()
            ));
            g.clone()
        }
        (Some((given, crs)), _, None) => {
            notes.assume(format!("{file}: coordinates in {} ({file}@{given})", crs.describe()));
            crs.clone()
        }
        (None, Some(g), None) => {
            notes.assume(format!("{file}: coordinates in {} (--crs)", g.describe()));
            g.clone()
        }
        (None, None, Some(Declared::Known { crs, by })) => {
            notes.assume(format!("{file}: coordinates in {} (declared by {by})", crs.describe()));
            crs.clone()
        }
        (
            None,
            None,
            Some(Declared::Unusable {
                by,
                given,
                reason,
                empty,
            }),
        ) => {
            if !*empty {
                return Err(ImportError::UnknownCrs {
                    path: Some(PathBuf::from(by)),
                    given: given.clone(),
                    reason: format!(
                        "{reason}; if you know the system, give it: --crs EPSG:N (or {file}@EPSG:N for this source alone)"
                    ),
                });
            }
            notes.assume(format!("{file}: {by} is empty, so nothing is declared; taken as WGS-84 longitude/latitude (give --crs gcj02, bd09 or EPSG:N otherwise)"));
            SourceCrs::WGS84
        }
        (None, None, None) => {
            notes.assume(format!("{file}: no coordinate system declared; taken as WGS-84 longitude/latitude (give --crs gcj02, bd09 or EPSG:N otherwise)"));
            SourceCrs::WGS84
        }
    };
    check_magnitudes(layer, &crs, &coords)?;
    Ok(crs)
}

/// Coordinates that cannot be in `crs`: metres read as degrees (say what they look like and the
/// `--crs` to give), or degrees read as metres. One message for the layer, not one per feature.
fn check_magnitudes(layer: &Layer, crs: &SourceCrs, coords: &[Coord<f64>]) -> Result<(), ImportError> {
    let unusable = |message: String| {
        Err(ImportError::Unusable {
            file: layer.name.clone(),
            message,
        })
    };
    if crs.is_geographic() {
        if let Some(guess) = crate::crs::guess_projected(coords) {
            let message = match crs {
                SourceCrs::Geographic(_) => guess,
                other => format!("{} ({} is longitude/latitude)", guess, other.label()),
            };
            return unusable(format!(
                "{message} (or {}@EPSG:N for this source alone)",
                layer.name.display()
            ));
        }
    } else if !coords.is_empty() && coords.iter().all(|c| c.x.abs() <= 180.0 && c.y.abs() <= 90.0) {
        return unusable(format!(
            "coordinates such as ({}, {}) look like longitude/latitude, not metres in {}; give the system only to the sources in it ({}@{} instead of --crs), or drop it for this file",
            coords[0].x,
            coords[0].y,
            crs.label(),
            "FILE",
            crs.label()
        ));
    }
    Ok(())
}

/// Converts a layer's features for `role`: properties through the field map, coordinates to
/// WGS-84. Every problem is collected; any problem fails the layer. `default_kind` (`--kind`)
/// is the kind of resources whose source has none.
pub fn convert_layer(
    layer: &Layer,
    role: Role,
    fields: &FieldMap,
    crs: &SourceCrs,
    default_kind: Option<&str>,
    notes: &mut Notes,
) -> Result<Vec<Feature>, ImportError> {
    let map = fields.resolve(role, layer, &[])?;
    let stem = layer
        .name
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "feature".into());
    let stem = stem.replace('#', "-");
    // Required properties with no field to take them from: say which, and how to map one.
    // Buildings without residents get an estimate (estimate.rs); resources take --kind.
    let required: &[Target] = match role {
        Role::Population => &[Target::Count],
        Role::Resources => &[Target::Kind, Target::Name],
        Role::Exclusive => &[Target::Name, Target::Kind],
        Role::Boundary | Role::Roads | Role::Buildings | Role::Water | Role::Green | Role::Walk => &[],
    };
    for &t in required {
        if map.contains_key(&t) || (role == Role::Resources && t == Target::Kind && default_kind.is_some()) {
            continue;
        }
        let kind_hint = if t == Target::Kind && role == Role::Resources {
            ", or give every resource one kind with --kind clinic (or pharmacy, school, …)"
        } else {
            ""
        };
        return Err(ImportError::Unusable {
            file: layer.name.clone(),
            message: format!(
                "no field gives {} {} (looked for {}); map one with --field {}=FIELD{kind_hint}; its fields are {}",
                role.name(),
                t.name(),
                t.aliases().join(", "),
                t.name(),
                layer.fields.join(", ")
            ),
        });
    }
    for (t, f) in &map {
        if f != t.name() {
            notes.assume(format!(
                "{}: {} {} from field {f}",
                layer.name.display(),
                role.name(),
                t.name()
            ));
        }
    }
    for &t in role.targets() {
        if fields.skipped(role, t) {
            notes.assume(format!(
                "{}: {} {} not read (--field {}=)",
                layer.name.display(),
                role.name(),
                t.name(),
                t.name()
            ));
        }
    }
    if role.has_ids() && !map.contains_key(&Target::Id) {
        notes.assume(format!(
            "{}: no id field; {} ids made as {stem}-N (N = feature number from 1)",
            layer.name.display(),
            role.name()
        ));
    }
    if role == Role::Resources
        && !map.contains_key(&Target::Kind)
        && let Some(kind) = default_kind
    {
        notes.assume(format!(
            "{}: no kind field; every resource is a {kind} (--kind)",
            layer.name.display()
        ));
    }

    let mut problems = Vec::new();
    let mut out = Vec::with_capacity(layer.features.len());
    let mut part_storeys: Vec<f64> = Vec::new();
    for f in &layer.features {
        let get = |t: Target| {
            map.get(&t)
                .map(|name| (name.as_str(), f.attrs.get(name).unwrap_or(&Value::Null)))
        };
        let id = match get(Target::Id).and_then(|(_, v)| text(v)) {
            Some(id) => Some(id),
            None if role.has_ids() => Some(format!("{stem}-{}", f.index + 1)),
            None => None,
        };
        let before = problems.len();
        let mut props = Map::new();
        if let Some(id) = &id {
            props.insert("id".into(), json!(id));
        }
        let mut building_use = None;
        for &t in role.targets() {
            if matches!(t, Target::Id) {
                continue;
            }
            let Some((name, v)) = get(t) else { continue };
            let bad =
                |message: String| problem(layer, f, id.as_deref(), Some((name, t)), ProblemKind::BadValue, message);
            let empty = |message: &str| problem(layer, f, id.as_deref(), Some((name, t)), ProblemKind::Empty, message);
            match (role, t) {
                (Role::Buildings, Target::Use) => building_use = text(v),
                (Role::Buildings, Target::Floors) => match number(v, 1.0) {
                    Ok(Some(n)) => {
                        if n.fract() != 0.0 {
                            part_storeys.push(n);
                        }
                        props.insert(
                            "floors".into(),
                            if n.fract() == 0.0 && n < 1e9 {
                                json!(n as u64)
                            } else {
                                json!(n)
                            },
                        );
                    }
                    Ok(None) => {}
                    Err(e) => problems.push(bad(e)),
                },
                (Role::Buildings, Target::Population | Target::Households) | (Role::Population, Target::Count) => {
                    let min = u32::from(t == Target::Count);
                    match whole_number(v, min) {
                        Ok(Some(n)) => {
                            props.insert(t.name().into(), json!(n));
                        }
                        Ok(None) if t == Target::Population => problems.push(empty(
                            "is empty; expected a whole number ≥ 0 (give the residents, or estimate every building's from its footprint with --field population=)",
                        )),
                        Ok(None) if t == Target::Count => problems.push(empty(&format!("is empty; expected a whole number ≥ {min}"))),
                        Ok(None) => {}
                        Err(e) => problems.push(bad(e)),
                    }
                }
                _ => match text(v) {
                    Some(s) => {
                        props.insert(t.name().into(), json!(s));
                    }
                    None if t == Target::Kind && default_kind.is_some() => {}
                    None if required.contains(&t) => problems.push(empty("is empty; expected text")),
                    None => {}
                },
            }
        }
        if let (Role::Resources, Some(kind), false) = (role, default_kind, props.contains_key("kind")) {
            props.insert("kind".into(), json!(kind));
        }
        // A dataset folder's unit split (单元) goes through as it is; the reader checks it.
        if role == Role::Buildings
            && let Some(Value::Json(units @ Json::Array(_))) = f.attrs.get("units")
        {
            props.insert("units".into(), units.clone());
        }
        let geometry = match &f.geometry {
            None => {
                problems.push(problem(
                    layer,
                    f,
                    id.as_deref(),
                    None,
                    ProblemKind::WrongGeometry,
                    "has no geometry",
                ));
                None
            }
            Some(g) => match shaped(g, role) {
                Err(found) => {
                    problems.push(problem(
                        layer,
                        f,
                        id.as_deref(),
                        None,
                        ProblemKind::WrongGeometry,
                        format!("geometry is a {found}; {} need {}", role.file(), expected(role)),
                    ));
                    None
                }
                Ok(g) => match g.try_map_coords(|c| crs.to_wgs84(c)) {
                    Ok(g) => Some(g),
                    Err(e) => {
                        problems.push(problem(
                            layer,
                            f,
                            id.as_deref(),
                            Some(("geometry", Target::Lon)),
                            ProblemKind::BadCoordinates,
                            e,
                        ));
                        None
                    }
                },
            },
        };
        if problems.len() > before {
            continue;
        }
        let Some(geometry) = geometry else { continue };
        out.push(Feature {
            geometry,
            properties: props,
            source: layer.name.clone(),
            source_index: f.index,
            building_use,
        });
    }
    if let Some(first) = part_storeys.first() {
        notes.assume(format!(
            "{}: {} buildings have part storeys (e.g. floors {first}); kept as given, not rounded",
            layer.name.display(),
            part_storeys.len()
        ));
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(ImportError::Invalid { problems })
    }
}

fn expected(role: Role) -> &'static str {
    match role {
        Role::Boundary | Role::Buildings | Role::Exclusive | Role::Green => "polygons",
        Role::Population | Role::Resources => "points",
        Role::Roads => "lines",
        Role::Water => "polygons or lines",
        Role::Walk => "lines or points",
    }
}

/// The geometry in the shape the role wants (a single-part multi-point becomes a point), or the
/// name of what it is.
fn shaped(g: &Geometry<f64>, role: Role) -> Result<Geometry<f64>, &'static str> {
    let name = match g {
        Geometry::Point(_) => "point",
        Geometry::MultiPoint(_) => "multi-point",
        Geometry::LineString(_) | Geometry::Line(_) => "line",
        Geometry::MultiLineString(_) => "multi-line",
        Geometry::Polygon(_) | Geometry::Rect(_) | Geometry::Triangle(_) => "polygon",
        Geometry::MultiPolygon(_) => "multi-polygon",
        Geometry::GeometryCollection(_) => "geometry collection",
    };
    match (role, g) {
        (Role::Boundary | Role::Buildings | Role::Exclusive | Role::Water | Role::Green, Geometry::Polygon(p)) => {
            Ok(Geometry::MultiPolygon(MultiPolygon(vec![p.clone()])))
        }
        (Role::Boundary | Role::Buildings | Role::Exclusive | Role::Water | Role::Green, Geometry::MultiPolygon(_)) => {
            Ok(g.clone())
        }
        (Role::Population | Role::Resources | Role::Walk, Geometry::Point(_)) => Ok(g.clone()),
        (Role::Population | Role::Resources | Role::Walk, Geometry::MultiPoint(MultiPoint(ps))) if ps.len() == 1 => {
            Ok(Geometry::Point(ps[0]))
        }
        (Role::Roads | Role::Water | Role::Walk, Geometry::LineString(l)) => {
            Ok(Geometry::MultiLineString(MultiLineString(vec![l.clone()])))
        }
        (Role::Roads | Role::Water | Role::Walk, Geometry::MultiLineString(_)) => Ok(g.clone()),
        _ => Err(name),
    }
}

/// A community boundary around everything that was imported, when no boundary was given: the
/// convex hull of the buildings, points and exclusive units, pushed out by `margin_m` so no
/// footprint touches the community line.
pub fn hull_boundary(draft: &Draft, margin_m: f64) -> Option<MultiPolygon<f64>> {
    let mut coords: Vec<Coord<f64>> = Vec::new();
    for role in [Role::Buildings, Role::Population, Role::Exclusive] {
        for f in draft.files.get(&role).into_iter().flatten() {
            match &f.geometry {
                Geometry::MultiPolygon(mp) => coords.extend(mp.0.iter().flat_map(|p| p.exterior().0.iter().copied())),
                Geometry::Point(p) => coords.push(p.0),
                _ => {}
            }
        }
    }
    if coords.len() < 3 {
        return None;
    }
    Some(MultiPolygon(vec![pushed_hull(coords, margin_m)]))
}

/// The convex hull of `coords` pushed out by `margin_m`: its Minkowski sum with a 32-gon of
/// radius margin_m (in local metres), still convex, so the hull of the pushed-out vertices is
/// exactly it.
fn pushed_hull(coords: Vec<Coord<f64>>, margin_m: f64) -> Polygon<f64> {
    let hull = MultiPoint(coords.into_iter().map(Point).collect()).convex_hull();
    let lat = hull.exterior().0.iter().map(|c| c.y).sum::<f64>() / hull.exterior().0.len().max(1) as f64;
    let (dy, dx) = (margin_m / 111_320.0, margin_m / (111_320.0 * lat.to_radians().cos()));
    let pushed: Vec<Point<f64>> = hull
        .exterior()
        .0
        .iter()
        .flat_map(|c| {
            (0..32).map(move |k| {
                let a = f64::from(k) * std::f64::consts::TAU / 32.0;
                Point::new(c.x + dx * a.cos(), c.y + dy * a.sin())
            })
        })
        .collect();
    MultiPoint(pushed).convex_hull().orient(Direction::Default)
}

/// Road classes kept around the communities for the map: beyond them only the main roads help
/// a reader find the place (OpenStreetMap's highway values; other sources' `class` alike).
pub const MAIN_ROADS: &[&str] = &[
    "motorway",
    "motorway_link",
    "trunk",
    "trunk_link",
    "primary",
    "primary_link",
    "secondary",
    "secondary_link",
    "tertiary",
    "tertiary_link",
];

/// Drops what lies in no community (a building or exclusive unit by a point on its surface, a
/// population point by itself; roads that reach no community, except main roads within
/// `margin_m`), counting each in the notes, and cuts water and green to the communities and
/// `margin_m` round them ([`keep_around`]). Resources are kept wherever they are: one outside
/// may still be someone's nearest.
pub fn keep_inside(draft: &mut Draft, margin_m: f64) {
    use geo::BooleanOps;
    let communities: Vec<(MultiPolygon<f64>, Rect<f64>)> = draft
        .files
        .get(&Role::Boundary)
        .into_iter()
        .flatten()
        .filter_map(|f| match &f.geometry {
            Geometry::MultiPolygon(mp) => mp.bounding_rect().map(|r| (mp.clone(), r)),
            _ => None,
        })
        .collect();
    let around = {
        let coords: Vec<Coord<f64>> = communities
            .iter()
            .flat_map(|(mp, _)| mp.0.iter().flat_map(|p| p.exterior().0.iter().copied()))
            .collect();
        (coords.len() >= 3).then(|| MultiPolygon(vec![pushed_hull(coords, margin_m)]))
    };
    let inside = |p: Point<f64>| communities.iter().any(|(mp, r)| r.intersects(&p) && mp.intersects(&p));
    let mut notes = std::mem::take(&mut draft.notes);
    let mut main_roads_around = 0;
    for role in [Role::Buildings, Role::Population, Role::Exclusive, Role::Roads] {
        let Some(features) = draft.files.get_mut(&role) else {
            continue;
        };
        features.retain_mut(|f| {
            let keep = match &f.geometry {
                Geometry::MultiPolygon(mp) => mp.interior_point().is_some_and(&inside),
                Geometry::Point(p) => inside(*p),
                Geometry::MultiLineString(ml) => communities.iter().any(|(mp, r)| {
                    ml.bounding_rect().is_some_and(|b| b.intersects(r)) && ml.relate(mp).is_intersects()
                }),
                _ => true,
            };
            if keep {
                return true;
            }
            let main = f
                .properties
                .get("class")
                .and_then(Json::as_str)
                .is_some_and(|c| MAIN_ROADS.contains(&c));
            if role == Role::Roads
                && main
                && let (Some(around), Geometry::MultiLineString(ml)) = (&around, &f.geometry)
            {
                let cut = around.clip(ml, false);
                if cut.0.iter().any(|l| l.0.len() >= 2) {
                    f.geometry = Geometry::MultiLineString(cut);
                    main_roads_around += 1;
                    return true;
                }
            }
            notes.drop_feature(f, &format!("{}: lies in no community of the boundary", role.name()));
            false
        });
    }
    if main_roads_around > 0 {
        notes.assume(format!(
            "roads: {main_roads_around} main roads (motorway to tertiary) outside the communities kept within {margin_m} m of them for the map, cut there"
        ));
    }
    if let Some(around) = &around {
        for role in [Role::Water, Role::Green, Role::Walk] {
            if let Some(features) = draft.files.get_mut(&role) {
                keep_around(role, features, around, margin_m, &mut notes);
            }
        }
    }
    draft.notes = notes;
}

/// Keeps the water, green or walking features that reach `around` (the communities and a margin round
/// them), cut to it; a feature whose cut outline is not valid is dropped by id. The notes say
/// how many were kept, cut and left out.
fn keep_around(role: Role, features: &mut Vec<Feature>, around: &MultiPolygon<f64>, margin_m: f64, notes: &mut Notes) {
    use geo::{BooleanOps, Contains, Validation};
    let Some(bbox) = around.bounding_rect() else { return };
    let read = features.len();
    let (mut cut, mut outside) = (0, 0);
    let mut invalid = Vec::new();
    features.retain_mut(|f| {
        let reaches = match &f.geometry {
            Geometry::MultiPolygon(mp) => {
                mp.bounding_rect().is_some_and(|b| b.intersects(&bbox)) && mp.intersects(around)
            }
            Geometry::MultiLineString(ml) => {
                ml.bounding_rect().is_some_and(|b| b.intersects(&bbox)) && ml.intersects(around)
            }
            // The walking layer's gates and entrances.
            Geometry::Point(p) => around.intersects(p),
            _ => false,
        };
        if !reaches {
            outside += 1;
            return false;
        }
        match &f.geometry {
            Geometry::MultiPolygon(mp) => {
                if around.contains(mp) && mp.is_valid() {
                    return true;
                }
                // The overlay also mends rings that cross themselves (an even-odd reading).
                let clipped: MultiPolygon<f64> = MultiPolygon(
                    mp.intersection(around)
                        .0
                        .into_iter()
                        .filter(|p| gis_core::measure::area_m2(&MultiPolygon(vec![p.clone()])) >= 1.0)
                        .collect(),
                );
                if clipped.0.is_empty() {
                    outside += 1;
                    return false;
                }
                if !clipped.is_valid() {
                    invalid.push(f.clone());
                    return false;
                }
                cut += usize::from(!around.contains(mp));
                f.geometry = Geometry::MultiPolygon(clipped);
                true
            }
            Geometry::MultiLineString(ml) => {
                if around.contains(ml) {
                    return true;
                }
                let clipped = MultiLineString(
                    around
                        .clip(ml, false)
                        .0
                        .into_iter()
                        .filter(|l| l.0.len() >= 2)
                        .collect(),
                );
                if clipped.0.is_empty() {
                    outside += 1;
                    return false;
                }
                cut += 1;
                f.geometry = Geometry::MultiLineString(clipped);
                true
            }
            Geometry::Point(_) => true,
            _ => false,
        }
    });
    for f in &invalid {
        notes.drop_feature(
            f,
            &format!("{}: outline not valid once cut to the map's extent", role.name()),
        );
    }
    if read > 0 {
        notes.assume(format!(
            "{}: {} of {read} features kept for the map within {margin_m} m of the communities ({cut} cut there, {outside} further out left out{})",
            role.file(),
            features.len(),
            if invalid.is_empty() { String::new() } else { format!(", {} not valid dropped", invalid.len()) }
        ));
    }
}

fn geometry_json(g: &Geometry<f64>) -> Json {
    let pos = |c: &Coord<f64>| json!([c.x, c.y]);
    let line = |l: &LineString<f64>| Json::Array(l.0.iter().map(pos).collect());
    let polygon = |p: &Polygon<f64>| {
        // RFC 7946: exteriors counter-clockwise, holes clockwise.
        let p = p.orient(Direction::Default);
        Json::Array(
            std::iter::once(line(p.exterior()))
                .chain(p.interiors().iter().map(line))
                .collect(),
        )
    };
    match g {
        Geometry::Point(p) => json!({"type": "Point", "coordinates": pos(&p.0)}),
        Geometry::MultiLineString(ml) if ml.0.len() == 1 => {
            json!({"type": "LineString", "coordinates": line(&ml.0[0])})
        }
        Geometry::MultiLineString(ml) => {
            json!({"type": "MultiLineString", "coordinates": ml.0.iter().map(line).collect::<Vec<_>>()})
        }
        Geometry::MultiPolygon(mp) if mp.0.len() == 1 => json!({"type": "Polygon", "coordinates": polygon(&mp.0[0])}),
        Geometry::MultiPolygon(mp) => {
            json!({"type": "MultiPolygon", "coordinates": mp.0.iter().map(polygon).collect::<Vec<_>>()})
        }
        other => unreachable!("features are shaped before they get here: {other:?}"),
    }
}

/// A FeatureCollection, one feature per line (diffs and eyes can follow it).
pub fn collection_text(features: &[Feature]) -> String {
    let mut s = String::from("{\"type\":\"FeatureCollection\",\"features\":[\n");
    for (i, f) in features.iter().enumerate() {
        let v = json!({"type": "Feature", "properties": f.properties, "geometry": geometry_json(&f.geometry)});
        s.push_str(&v.to_string());
        s.push_str(if i + 1 < features.len() { ",\n" } else { "\n" });
    }
    s.push_str("]}\n");
    s
}

/// Writes the draft as a dataset folder at `out`: into a temporary folder beside it, read back
/// with the strict reader, renamed into place only if it passes. On failure nothing is left.
pub fn write(draft: &Draft, out: &Path, force: bool) -> Result<Loaded, ImportError> {
    if out.exists() && !force {
        return Err(ImportError::TargetExists {
            path: out.to_path_buf(),
        });
    }
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|source| ImportError::Write {
        path: parent.to_path_buf(),
        source,
    })?;
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "dataset".into());
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.import-"))
        .tempdir_in(parent)
        .map_err(|source| ImportError::Write {
            path: parent.to_path_buf(),
            source,
        })?;
    for (role, features) in &draft.files {
        if features.is_empty() && *role != Role::Buildings && *role != Role::Boundary {
            continue;
        }
        let path = tmp.path().join(role.file());
        std::fs::write(&path, collection_text(features)).map_err(|source| ImportError::Write { path, source })?;
    }
    if let Some(staff) = &draft.staff {
        let path = tmp.path().join("staff.json");
        std::fs::write(&path, staff).map_err(|source| ImportError::Write { path, source })?;
    }
    let loaded = match load_dataset(tmp.path()) {
        Ok(l) => l,
        Err(mut error) => {
            // Name the source feature behind each dataset feature the reader refused, and the
            // folder the planner named rather than the temporary one.
            let sources = error
                .problems
                .iter()
                .map(|p| {
                    let from = Role::ALL
                        .into_iter()
                        .find(|r| r.file() == p.file)
                        .and_then(|r| draft.files.get(&r))
                        .and_then(|fs| p.feature.as_ref().and_then(|at| fs.get(at.index)));
                    from.map(|f| (f.source.display().to_string(), f.source_index))
                })
                .collect();
            error.dir = out.to_path_buf();
            return Err(ImportError::Rejected { error, sources });
        }
    };
    let tmp = tmp.keep();
    if out.exists() {
        // --force: move the old folder aside first, so a failed rename leaves the old one whole.
        let aside = parent.join(format!(".{name}.replaced-{}", std::process::id()));
        std::fs::rename(out, &aside).map_err(|source| ImportError::Write {
            path: out.to_path_buf(),
            source,
        })?;
        if let Err(source) = std::fs::rename(&tmp, out) {
            let _ = std::fs::rename(&aside, out);
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(ImportError::Write {
                path: out.to_path_buf(),
                source,
            });
        }
        let _ = if aside.is_dir() {
            std::fs::remove_dir_all(&aside)
        } else {
            std::fs::remove_file(&aside)
        };
    } else if let Err(source) = std::fs::rename(&tmp, out) {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(ImportError::Write {
            path: out.to_path_buf(),
            source,
        });
    }
    Ok(loaded)
}
