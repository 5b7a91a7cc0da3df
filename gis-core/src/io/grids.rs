//! Grid layers as GeoJSON (shared/dataset-format.md, "Grids"): what `partition` writes and every
//! later command reads.
//!
//! Besides its features, a layer carries one foreign member, `wangge`, with what re-partitioning
//! needs to keep codes stable: the code scheme, the size bounds and the code book of retired
//! codes. Layers drawn elsewhere lack it and read with the defaults.

use super::geometry::{Geom, Shape, kind_of, polygonal};
use super::json::{self, Parsed as Json};
use super::stream::Streamed;
use super::text::{self, Text};
use super::{FeatureRef, InputProblem, InputProblemKind};
use crate::bounds::SizeBounds;
use crate::codes::{CodeBook, CodeScheme};
use crate::grid::{Grid, GridKind, GridLevel};
use geo::{LineString, MultiPolygon, Polygon};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::fmt;
use std::path::{Path, PathBuf};

/// A grid layer and what it knows about its codes.
#[derive(Debug, Clone, Default)]
pub struct GridLayer {
    pub grids: Vec<Grid>,
    pub meta: LayerMeta,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LayerMeta {
    #[serde(default)]
    pub code_scheme: CodeScheme,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bounds: Option<SizeBounds>,
    #[serde(default, skip_serializing_if = "CodeBook::is_empty")]
    pub code_book: CodeBook,
}

fn ring(r: &LineString<f64>) -> Value {
    Value::Array(r.0.iter().map(|c| json!([c.x, c.y])).collect())
}

fn polygon(p: &Polygon<f64>) -> Value {
    Value::Array(std::iter::once(p.exterior()).chain(p.interiors()).map(ring).collect())
}

/// A Polygon when the grid is in one part, else a MultiPolygon.
pub fn geometry(area: &MultiPolygon<f64>) -> Value {
    match area.0.as_slice() {
        [one] => json!({"type": "Polygon", "coordinates": polygon(one)}),
        parts => json!({"type": "MultiPolygon", "coordinates": parts.iter().map(polygon).collect::<Vec<_>>()}),
    }
}

pub fn feature(g: &Grid) -> Value {
    let mut props = serde_json::Map::new();
    props.insert("code".into(), json!(g.code));
    props.insert("community_code".into(), json!(g.community_code));
    props.insert("kind".into(), json!(g.kind));
    props.insert("level".into(), json!(g.level));
    if g.level == GridLevel::Micro {
        props.insert("parent_code".into(), json!(g.parent_code));
    }
    if let Some(name) = &g.name {
        props.insert("name".into(), json!(name));
    }
    props.insert("population".into(), json!(g.population));
    props.insert("households".into(), json!(g.households));
    props.insert("buildings".into(), json!(g.buildings));
    json!({"type": "Feature", "properties": props, "geometry": geometry(&g.area)})
}

/// The layer as a FeatureCollection, one feature per line so diffs stay readable.
pub fn to_geojson(layer: &GridLayer) -> String {
    let meta = serde_json::to_string(&layer.meta).expect("layer metadata serialises");
    let mut out = format!("{{\"type\":\"FeatureCollection\",\"wangge\":{meta},\"features\":[\n");
    // Features are written on every core (a city's layer is tens of MB), joined in order.
    let features: Vec<String> = layer.grids.par_iter().map(|g| feature(g).to_string()).collect();
    out.push_str(&features.join(",\n"));
    if !features.is_empty() {
        out.push('\n');
    }
    out.push_str("]}\n");
    out
}

/// The layer was rejected; `problems` lists every reason found.
#[derive(Debug, thiserror::Error)]
pub struct LayerError {
    pub path: PathBuf,
    pub problems: Vec<InputProblem>,
}

impl fmt::Display for LayerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "grid layer {} rejected: {n} problem{}",
            self.path.display(),
            if n == 1 { "" } else { "s" }
        )?;
        for p in self.problems.iter().take(super::ImportError::SHOWN) {
            write!(f, "\n  - {p}")?;
        }
        if n > super::ImportError::SHOWN {
            write!(f, "\n  ... and {} more", n - super::ImportError::SHOWN)?;
        }
        Ok(())
    }
}

/// Reads a grid layer strictly: every feature a valid polygonal grid with a code, community,
/// kind and level; counts and building lists default to none when a layer drawn elsewhere lacks
/// them.
pub fn read_layer(path: &Path) -> Result<GridLayer, LayerError> {
    let file = path
        .file_name()
        .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    let fail = |kind, message: String| LayerError {
        path: path.to_path_buf(),
        problems: vec![InputProblem {
            file: file.clone(),
            feature: None,
            field: None,
            kind,
            message,
        }],
    };
    let text = text::read(path).map_err(|e| {
        let kind = if e.kind() == std::io::ErrorKind::NotFound {
            InputProblemKind::MissingFile
        } else {
            InputProblemKind::Unreadable
        };
        fail(kind, format!("cannot be read: {e}"))
    })?;
    let root = match json::parse(&text) {
        Json::Ok(v) | Json::NonFiniteQuoted(v) => v,
        Json::Invalid(msg) => return Err(fail(InputProblemKind::InvalidJson, format!("is not valid JSON: {msg}"))),
    };
    let (layer, problems) = parse_layer(&root, &file);
    if problems.iter().any(|p| !p.kind.is_warning()) {
        Err(LayerError {
            path: path.to_path_buf(),
            problems: problems.into_iter().filter(|p| !p.kind.is_warning()).collect(),
        })
    } else {
        Ok(layer)
    }
}

/// Parses a layer's JSON, collecting every problem (warnings included) instead of stopping.
pub fn parse_layer(root: &Value, file: &str) -> (GridLayer, Vec<InputProblem>) {
    let mut problems = Vec::new();
    let mut problem = |at: Option<&FeatureRef>, field: &str, kind, message: String| {
        problems.push(InputProblem {
            file: file.into(),
            feature: at.cloned(),
            field: Some(field.into()),
            kind,
            message,
        });
    };
    if root.get("type").and_then(Value::as_str) != Some("FeatureCollection") {
        problem(
            None,
            "type",
            InputProblemKind::NotFeatureCollection,
            format!("expected a GeoJSON FeatureCollection, found {}", kind_of(root)),
        );
        return (GridLayer::default(), problems);
    }
    // A layer exported in another system (`wangge export --crs`) names it in a `crs` member;
    // read as longitude/latitude it would be metres or offset degrees, so it is refused.
    if let Some(name) = root.get("crs").filter(|c| !c.is_null()).map(|c| {
        c.pointer("/properties/name")
            .and_then(Value::as_str)
            .unwrap_or("an unnamed system")
    }) {
        let l = name.to_ascii_lowercase();
        let wgs84 = l.ends_with("crs84")
            || l.ends_with(":4326")
            || l.ends_with("/4326")
            || l.ends_with(":4490")
            || l.ends_with("/4490");
        if !wgs84 {
            problem(
                None,
                "crs",
                InputProblemKind::InvalidValue,
                format!(
                    "the layer is in {name}; grid layers are read in WGS-84 longitude/latitude (export without --crs, or convert it back)"
                ),
            );
            return (GridLayer::default(), problems);
        }
    }
    let meta = match root.get("wangge") {
        None => LayerMeta::default(),
        Some(v) => match serde_json::from_value::<LayerMeta>(v.clone()) {
            Ok(m) => m,
            Err(e) => {
                problem(
                    None,
                    "wangge",
                    InputProblemKind::InvalidValue,
                    format!("is not wangge's layer metadata: {e}"),
                );
                LayerMeta::default()
            }
        },
    };
    let Some(features) = root.get("features").and_then(Value::as_array) else {
        problem(
            None,
            "features",
            InputProblemKind::NotFeatureCollection,
            "expected an array of features".into(),
        );
        return (GridLayer::default(), problems);
    };
    let mut grids = Vec::with_capacity(features.len());
    for (index, f) in features.iter().enumerate() {
        let props = f.get("properties").and_then(Value::as_object);
        let at = FeatureRef {
            index,
            id: props
                .and_then(|p| p.get("code"))
                .and_then(Value::as_str)
                .map(String::from),
        };
        if f.get("type").and_then(Value::as_str) != Some("Feature") {
            problem(
                Some(&at),
                "type",
                InputProblemKind::NotFeature,
                format!("expected a GeoJSON Feature, found {}", kind_of(f)),
            );
            continue;
        }
        let empty = Map::new();
        let props = props.unwrap_or(&empty);
        let mut string = |key: &str, required: bool| -> Option<String> {
            match props.get(key) {
                Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
                None | Some(Value::Null) if !required => None,
                None | Some(Value::Null) => {
                    problem(
                        Some(&at),
                        &format!("properties.{key}"),
                        InputProblemKind::MissingField,
                        "missing; expected a string".into(),
                    );
                    None
                }
                Some(other) => {
                    problem(
                        Some(&at),
                        &format!("properties.{key}"),
                        InputProblemKind::WrongType,
                        format!("expected a non-empty string, found {}", kind_of(other)),
                    );
                    None
                }
            }
        };
        let code = string("code", true);
        let community_code = string("community_code", true);
        let kind = string("kind", false);
        let level = string("level", false);
        let parent_code = string("parent_code", false);
        let name = string("name", false);
        let kind = match kind.as_deref() {
            None | Some("basic") => Some(GridKind::Basic),
            Some("exclusive") => Some(GridKind::Exclusive),
            Some(other) => {
                problem(
                    Some(&at),
                    "properties.kind",
                    InputProblemKind::InvalidValue,
                    format!("{other:?}; expected \"basic\" or \"exclusive\""),
                );
                None
            }
        };
        let level = match level.as_deref() {
            None | Some("grid") => Some(GridLevel::Grid),
            Some("micro") => Some(GridLevel::Micro),
            Some(other) => {
                problem(
                    Some(&at),
                    "properties.level",
                    InputProblemKind::InvalidValue,
                    format!("{other:?}; expected \"grid\" or \"micro\""),
                );
                None
            }
        };
        if level == Some(GridLevel::Micro) && parent_code.is_none() {
            problem(
                Some(&at),
                "properties.parent_code",
                InputProblemKind::MissingField,
                "missing; a micro-grid names its grid".into(),
            );
        }
        let mut count = |key: &str| -> u64 {
            match props.get(key) {
                None | Some(Value::Null) => 0,
                Some(v) => v.as_u64().unwrap_or_else(|| {
                    problem(
                        Some(&at),
                        &format!("properties.{key}"),
                        InputProblemKind::WrongType,
                        format!("expected a whole number ≥ 0, found {}", kind_of(v)),
                    );
                    0
                }),
            }
        };
        let population = count("population");
        let households = count("households");
        let buildings = match props.get("buildings") {
            None | Some(Value::Null) => Some(Vec::new()),
            Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
                let mut b: Vec<String> = items.iter().filter_map(Value::as_str).map(String::from).collect();
                b.sort_unstable();
                Some(b)
            }
            Some(other) => {
                problem(
                    Some(&at),
                    "properties.buildings",
                    InputProblemKind::WrongType,
                    format!("expected an array of building ids, found {}", kind_of(other)),
                );
                None
            }
        };
        let area = match polygonal(Geom::Tree(f.get("geometry"))) {
            Ok((area, repairs)) => {
                for i in repairs {
                    problem(Some(&at), &i.path, i.kind, i.message);
                }
                Some(area)
            }
            Err(i) => {
                problem(Some(&at), &i.path, i.kind, i.message);
                None
            }
        };
        if let (Some(code), Some(community_code), Some(kind), Some(level), Some(buildings), Some(area)) =
            (code, community_code, kind, level, buildings, area)
        {
            grids.push(Grid {
                code,
                community_code,
                kind,
                level,
                parent_code,
                name,
                area,
                population,
                households,
                buildings,
            });
        }
    }
    (GridLayer { grids, meta }, problems)
}

/// A grid as drawn, for `validate`: its properties read as strictly as [`read_layer`] reads
/// them, its geometry only as far as it is readable, so that a bow-tie or an unclosed ring is a
/// defect of that grid rather than a reason to reject the file. `grid.area` is left empty.
#[derive(Debug, Clone)]
pub struct DrawnGrid {
    pub grid: Grid,
    /// Whether the geometry was a MultiPolygon.
    pub multi: bool,
    /// Polygons, each a list of rings (exterior first), each a list of positions as written.
    pub rings: Vec<Vec<Vec<geo::Coord<f64>>>>,
}

#[derive(Debug, Clone, Default)]
pub struct DrawnLayer {
    pub grids: Vec<DrawnGrid>,
    pub meta: LayerMeta,
}

/// Reads a grid layer leniently (see [`DrawnGrid`]). Only what cannot be read is rejected: not
/// JSON, not a FeatureCollection, a missing or mistyped property, a geometry that is not
/// polygonal or a position that is not a lon/lat pair.
pub fn read_drawn_layer(path: &Path) -> Result<DrawnLayer, LayerError> {
    let file = path
        .file_name()
        .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    let fail = |kind, message: String| LayerError {
        path: path.to_path_buf(),
        problems: vec![InputProblem {
            file: file.clone(),
            feature: None,
            field: None,
            kind,
            message,
        }],
    };
    let text = text::read(path).map_err(|e| {
        let kind = if e.kind() == std::io::ErrorKind::NotFound {
            InputProblemKind::MissingFile
        } else {
            InputProblemKind::Unreadable
        };
        fail(kind, format!("cannot be read: {e}"))
    })?;
    drawn_layer(text, path, false)
}

/// As [`read_drawn_layer`], for a layer's text (e.g. an upload); `path` names it in problems.
pub fn parse_drawn_layer(text: String, path: &Path) -> Result<DrawnLayer, LayerError> {
    drawn_layer(Text::from(text), path, false)
}

/// [`parse_drawn_layer`] by the whole-file tree reader alone, which it falls back to on unusual
/// files: the reference the tests compare the streaming reader with.
#[doc(hidden)]
pub fn parse_drawn_layer_as_tree(text: String, path: &Path) -> Result<DrawnLayer, LayerError> {
    drawn_layer(Text::from(text), path, true)
}

fn drawn_layer(text: Text, path: &Path, tree_only: bool) -> Result<DrawnLayer, LayerError> {
    let file = path
        .file_name()
        .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    let fail = |kind, message: String| LayerError {
        path: path.to_path_buf(),
        problems: vec![InputProblem {
            file: file.clone(),
            feature: None,
            field: None,
            kind,
            message,
        }],
    };
    // Streamed when the file has the ordinary shape (positions straight into coordinates, no
    // tree of the whole file), else read as a tree, which words every problem (see `io::stream`).
    let streamed = (!tree_only)
        .then(|| super::stream::collection(&text, Shape::Polygonal))
        .flatten();
    let (mut root, mut streamed) = match streamed {
        Some((mut members, features)) => {
            let (features, geometries): (Vec<_>, Vec<_>) = features.into_iter().map(Streamed::into_parts).unzip();
            members.insert("features".to_string(), Value::Array(features));
            (Value::Object(members), Some(geometries))
        }
        None => match json::parse(&text) {
            Json::Ok(v) | Json::NonFiniteQuoted(v) => (v, None),
            Json::Invalid(msg) => return Err(fail(InputProblemKind::InvalidJson, format!("is not valid JSON: {msg}"))),
        },
    };
    drop(text);
    // Geometry first, each replaced by a placeholder so that `parse_layer` checks the
    // properties alone, exactly as it does for every other command.
    let mut problems = Vec::new();
    let mut drawn = Vec::new();
    if let Some(features) = root.get_mut("features").and_then(Value::as_array_mut) {
        for (index, f) in features.iter_mut().enumerate() {
            if !f.is_object() {
                continue; // parse_layer names it
            }
            let id = f.pointer("/properties/code").and_then(Value::as_str).map(String::from);
            let geometry = match &mut streamed {
                Some(geometries) => Geom::Streamed(geometries[index].take()),
                None => Geom::Tree(f.get("geometry")),
            };
            match super::geometry::polygonal_rings(geometry) {
                Ok(g) => drawn.push(Some(g)),
                Err(i) => {
                    problems.push(InputProblem {
                        file: file.clone(),
                        feature: Some(FeatureRef { index, id }),
                        field: Some(i.path),
                        kind: i.kind,
                        message: i.message,
                    });
                    drawn.push(None);
                }
            }
            f["geometry"] = json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]});
        }
    }
    let (layer, more) = parse_layer(&root, &file);
    problems.extend(more.into_iter().filter(|p| !p.kind.is_warning()));
    if !problems.is_empty() {
        problems.sort_by_key(|p| p.feature.as_ref().map_or(0, |f| f.index + 1));
        return Err(LayerError {
            path: path.to_path_buf(),
            problems,
        });
    }
    // No problem: parse_layer kept every feature, in order.
    let grids = layer
        .grids
        .into_iter()
        .zip(drawn)
        .map(|(mut grid, g)| {
            let (multi, rings) = g.unwrap_or_default();
            grid.area = MultiPolygon(Vec::new());
            DrawnGrid { grid, multi, rings }
        })
        .collect();
    Ok(DrawnLayer {
        grids,
        meta: layer.meta,
    })
}
