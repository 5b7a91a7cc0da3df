//! GeoJSON sources (a boundary drawn elsewhere, a layer exported from a desktop GIS): any
//! FeatureCollection, properties as attributes. Coordinates are WGS-84 per RFC 7946 unless
//! `--crs` says otherwise (AMap exports are GCJ-02).

use crate::error::{ImportError, SourceProblem};
use crate::crs::SourceCrs;
use crate::source::{Declared, Layer, SourceFeature, Value};
use geo::{Coord, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::path::Path;

pub fn read(path: &Path) -> Result<Layer, ImportError> {
    let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ImportError::MissingFile { path: path.to_path_buf() },
        _ => ImportError::unreadable(path, e),
    })?;
    let root: Json = serde_json::from_str(&text).map_err(|e| ImportError::unreadable(path, format!("not JSON: {e}")))?;
    let features = match (root.get("type").and_then(Json::as_str), root.get("features").and_then(Json::as_array)) {
        (Some("FeatureCollection"), Some(f)) => f.clone(),
        (Some("Feature"), _) => vec![root.clone()],
        _ => return Err(ImportError::Unusable { file: path.to_path_buf(), message: "expected a GeoJSON FeatureCollection".into() }),
    };
    let mut fields: Vec<String> = Vec::new();
    let mut out = Vec::with_capacity(features.len());
    let mut problems = Vec::new();
    for (index, f) in features.iter().enumerate() {
        let mut attrs = BTreeMap::new();
        if let Some(props) = f.get("properties").and_then(Json::as_object) {
            for (k, v) in props {
                if !fields.contains(k) {
                    fields.push(k.clone());
                }
                attrs.insert(k.clone(), match v {
                    Json::Null => Value::Null,
                    Json::Bool(b) => Value::Bool(*b),
                    Json::Number(n) => n.as_i64().map(Value::Integer).unwrap_or_else(|| Value::Real(n.as_f64().unwrap_or(f64::NAN))),
                    Json::String(s) => Value::Text(s.clone()),
                    other => Value::Text(other.to_string()),
                });
            }
        }
        let geometry = match f.get("geometry").filter(|g| !g.is_null()) {
            None => None,
            Some(g) => match geometry(g) {
                Some(g) => Some(g),
                None => {
                    problems.push(SourceProblem { file: path.to_path_buf(), feature: Some((index, None)), field: Some("geometry".into()), message: "is not a GeoJSON geometry of numeric positions".into() });
                    None
                }
            },
        };
        out.push(SourceFeature { index, geometry, attrs });
    }
    if !problems.is_empty() {
        return Err(ImportError::Invalid { problems });
    }
    Ok(Layer { name: path.to_path_buf(), fields, features: out, declared_crs: crs_member(&root), encoding: None })
}

/// The coordinate system a `crs` member names, as GDAL and QGIS write it
/// (`{"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4527"}}`), or the older
/// `{"type": "EPSG", "properties": {"code": 4527}}`. RFC 7946 dropped the member; files without
/// it are WGS-84.
fn crs_member(root: &Json) -> Option<Declared> {
    let crs = root.get("crs").filter(|c| !c.is_null())?;
    let name = match crs.get("type").and_then(Json::as_str) {
        Some("name") => crs.pointer("/properties/name").and_then(Json::as_str).map(str::to_string),
        Some(t) if t.eq_ignore_ascii_case("epsg") => {
            crs.pointer("/properties/code").and_then(|c| c.as_u64().map(|n| n.to_string()).or_else(|| c.as_str().map(str::to_string))).map(|c| format!("EPSG:{c}"))
        }
        _ => None,
    };
    Some(match name {
        Some(n) => match SourceCrs::parse(&n) {
            Ok(crs) => Declared::Known { crs, by: format!("its crs member ({n})") },
            Err(reason) => Declared::Unusable { by: "its crs member".into(), given: n, reason, empty: false },
        },
        None => Declared::Unusable {
            by: "its crs member".into(),
            given: crs.to_string(),
            reason: "is not a named coordinate system (a linked crs is not followed)".into(),
            empty: false,
        },
    })
}

fn geometry(g: &Json) -> Option<Geometry<f64>> {
    let c = g.get("coordinates")?;
    let pos = |v: &Json| -> Option<Coord<f64>> {
        let a = v.as_array()?;
        Some(Coord { x: a.first()?.as_f64()?, y: a.get(1)?.as_f64()? })
    };
    let line = |v: &Json| -> Option<LineString<f64>> { v.as_array()?.iter().map(pos).collect::<Option<Vec<_>>>().map(LineString) };
    let polygon = |v: &Json| -> Option<Polygon<f64>> {
        let rings = v.as_array()?.iter().map(line).collect::<Option<Vec<_>>>()?;
        let mut rings = rings.into_iter();
        Some(Polygon::new(rings.next()?, rings.collect()))
    };
    let many = |v: &Json| v.as_array().cloned();
    Some(match g.get("type")?.as_str()? {
        "Point" => Geometry::Point(Point(pos(c)?)),
        "MultiPoint" => Geometry::MultiPoint(MultiPoint(many(c)?.iter().map(|p| pos(p).map(Point)).collect::<Option<_>>()?)),
        "LineString" => Geometry::LineString(line(c)?),
        "MultiLineString" => Geometry::MultiLineString(MultiLineString(many(c)?.iter().map(line).collect::<Option<_>>()?)),
        "Polygon" => Geometry::Polygon(polygon(c)?),
        "MultiPolygon" => Geometry::MultiPolygon(MultiPolygon(many(c)?.iter().map(polygon).collect::<Option<_>>()?)),
        _ => return None,
    })
}
