//! GeoJSON sources (a boundary drawn elsewhere, a layer exported from a desktop GIS): a
//! FeatureCollection, a single Feature or a bare geometry (what AMap/DataV boundary downloads
//! and shapely's `mapping` give), and AMap's district-search answer (`districts[].polyline`).
//! Properties become attributes; a Feature's own `id` member is its `id` when the properties
//! carry none. Coordinates are WGS-84 per RFC 7946 unless `--crs` says otherwise (AMap and
//! DataV are GCJ-02: the report says so when a file looks like theirs).

use crate::crs::SourceCrs;
use crate::error::{ImportError, ProblemKind, SourceProblem};
use crate::source::{Declared, Layer, SourceFeature, Value};
use geo::{Coord, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::path::Path;

const GEOMETRY_TYPES: [&str; 6] = [
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
];

pub fn read(path: &Path) -> Result<Layer, ImportError> {
    let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ImportError::MissingFile {
            path: path.to_path_buf(),
        },
        std::io::ErrorKind::InvalidData => ImportError::unreadable(
            path,
            "not UTF-8 text (RFC 8259: JSON is UTF-8); save it as UTF-8, e.g. `iconv -f GBK -t UTF-8`",
        ),
        _ => ImportError::unreadable(path, e),
    })?;
    // Windows tools write a byte-order mark; RFC 8259 lets a reader ignore it.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let root: Json = serde_json::from_str(text).map_err(|e| ImportError::unreadable(path, format!("not JSON: {e}")))?;
    let mut notes = Vec::new();
    let kind = root.get("type").and_then(Json::as_str);
    let features: Vec<Json> = match (kind, root.get("features").and_then(Json::as_array)) {
        (Some("FeatureCollection"), Some(f)) => f.clone(),
        (Some("Feature"), _) => vec![root.clone()],
        (Some(t), _) if GEOMETRY_TYPES.contains(&t) => {
            notes.push(format!(
                "{}: a bare {t} geometry, read as one feature with no properties",
                path.display()
            ));
            vec![serde_json::json!({"type": "Feature", "properties": {}, "geometry": root})]
        }
        _ if root.get("districts").is_some_and(Json::is_array) => {
            let features = amap_districts(path, &root)?;
            notes.push(format!(
                "{}: an AMap district search answer: {} district(s) from their polylines",
                path.display(),
                features.len()
            ));
            features
        }
        _ => {
            return Err(ImportError::Unusable {
                file: path.to_path_buf(),
                message: format!(
                    "expected a GeoJSON FeatureCollection, Feature or geometry; found {}",
                    found(&root)
                ),
            });
        }
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
                attrs.insert(k.clone(), value(v));
            }
        }
        // RFC 7946 §3.2: the Feature's own id (GDAL, geopandas' to_json write it).
        if let Some(id) = f.get("id").filter(|id| id.is_string() || id.is_number())
            && attrs.get("id").is_none_or(|v| *v == Value::Null)
        {
            attrs.insert("id".into(), value(id));
            if !fields.iter().any(|f| f == "id") {
                fields.push("id".into());
            }
        }
        let geometry = match f.get("geometry").filter(|g| !g.is_null()) {
            None => None,
            Some(g) => match geometry(g) {
                Some(g) => Some(g),
                None => {
                    problems.push(SourceProblem::at(
                        path,
                        index,
                        Some("geometry"),
                        ProblemKind::UnreadableGeometry,
                        "is not a GeoJSON geometry of numeric positions",
                    ));
                    None
                }
            },
        };
        out.push(SourceFeature { index, geometry, attrs });
    }
    if !problems.is_empty() {
        return Err(ImportError::Invalid { problems });
    }
    if fields.iter().any(|f| f == "adcode") {
        let names: Vec<String> = out
            .iter()
            .filter_map(|f| f.attrs.get("name").and_then(crate::source::text))
            .take(3)
            .collect();
        notes.push(format!(
            "{}: looks like an AMap/DataV boundary download (adcode{}); their coordinates are GCJ-02 (give --crs gcj02 if these are)",
            path.display(),
            if names.is_empty() { String::new() } else { format!(", {}", names.join(", ")) }
        ));
    }
    Ok(Layer {
        name: path.to_path_buf(),
        fields,
        features: out,
        declared_crs: crs_member(&root),
        encoding: None,
        notes,
    })
}

fn value(v: &Json) -> Value {
    match v {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => n
            .as_i64()
            .map(Value::Integer)
            .unwrap_or_else(|| Value::Real(n.as_f64().unwrap_or(f64::NAN))),
        Json::String(s) => Value::Text(s.clone()),
        other => Value::Json(other.clone()),
    }
}

/// What a JSON document is, for a message that says what was found instead.
fn found(root: &Json) -> String {
    match root {
        Json::Object(m) => match m.get("type").and_then(Json::as_str) {
            Some("Topology") => "a TopoJSON Topology; convert it with `ogr2ogr -f GeoJSON out.geojson FILE`".into(),
            Some("FeatureCollection") => "a FeatureCollection with no \"features\" array".into(),
            Some("GeometryCollection") => {
                "a GeometryCollection; give each geometry as a Feature of a FeatureCollection".into()
            }
            Some(t) => format!("an object of type {t:?}"),
            None => {
                let keys: Vec<&str> = m.keys().map(String::as_str).take(6).collect();
                format!("an object with no \"type\" (its keys: {})", keys.join(", "))
            }
        },
        Json::Array(a) => format!(
            "a JSON array of {} item{}",
            a.len(),
            if a.len() == 1 { "" } else { "s" }
        ),
        Json::String(_) => "a JSON string".into(),
        Json::Number(_) => "a JSON number".into(),
        Json::Bool(_) => "a JSON boolean".into(),
        Json::Null => "null".into(),
    }
}

/// AMap's district search (`restapi.amap.com/v3/config/district?extensions=all`): each district's
/// `polyline` is rings of "lng,lat" joined by ";", rings joined by "|".
fn amap_districts(path: &Path, root: &Json) -> Result<Vec<Json>, ImportError> {
    let mut out = Vec::new();
    for (i, d) in root["districts"].as_array().into_iter().flatten().enumerate() {
        let Some(polyline) = d.get("polyline").and_then(Json::as_str) else {
            return Err(ImportError::Unusable {
                file: path.to_path_buf(),
                message: format!("districts[{i}] has no \"polyline\": ask AMap's district search with extensions=all"),
            });
        };
        let mut polygons = Vec::new();
        for ring in polyline.split('|') {
            let mut coords = Vec::new();
            for pair in ring.split(';').filter(|p| !p.trim().is_empty()) {
                let xy: Option<Vec<f64>> = pair.split(',').map(|n| n.trim().parse::<f64>().ok()).collect();
                match xy.as_deref() {
                    Some([x, y]) => coords.push(serde_json::json!([x, y])),
                    _ => {
                        return Err(ImportError::Unusable {
                            file: path.to_path_buf(),
                            message: format!("districts[{i}].polyline: {pair:?} is not \"lng,lat\""),
                        });
                    }
                }
            }
            if coords.len() < 3 {
                continue; // an empty part between two "|"
            }
            if coords.first() != coords.last() {
                coords.push(coords[0].clone());
            }
            polygons.push(serde_json::json!([coords]));
        }
        let mut props = serde_json::Map::new();
        for key in ["adcode", "name", "level", "citycode", "center"] {
            if let Some(v) = d.get(key).filter(|v| !v.is_array() && !v.is_null()) {
                props.insert(key.into(), v.clone());
            }
        }
        out.push(serde_json::json!({"type": "Feature", "properties": props, "geometry": {"type": "MultiPolygon", "coordinates": polygons}}));
    }
    Ok(out)
}

/// The coordinate system a `crs` member names, as GDAL and QGIS write it
/// (`{"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4527"}}`), or the older
/// `{"type": "EPSG", "properties": {"code": 4527}}`. RFC 7946 dropped the member; files without
/// it are WGS-84.
fn crs_member(root: &Json) -> Option<Declared> {
    let crs = root.get("crs").filter(|c| !c.is_null())?;
    let name = match crs.get("type").and_then(Json::as_str) {
        Some("name") => crs
            .pointer("/properties/name")
            .and_then(Json::as_str)
            .map(str::to_string),
        Some(t) if t.eq_ignore_ascii_case("epsg") => crs
            .pointer("/properties/code")
            .and_then(|c| {
                c.as_u64()
                    .map(|n| n.to_string())
                    .or_else(|| c.as_str().map(str::to_string))
            })
            .map(|c| format!("EPSG:{c}")),
        _ => None,
    };
    Some(match name {
        Some(n) => match SourceCrs::parse(&n) {
            Ok(crs) => Declared::Known {
                crs,
                by: format!("its crs member ({n})"),
            },
            Err(reason) => Declared::Unusable {
                by: "its crs member".into(),
                given: n,
                reason,
                empty: false,
            },
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
        Some(Coord {
            x: a.first()?.as_f64()?,
            y: a.get(1)?.as_f64()?,
        })
    };
    let line = |v: &Json| -> Option<LineString<f64>> {
        v.as_array()?
            .iter()
            .map(pos)
            .collect::<Option<Vec<_>>>()
            .map(LineString)
    };
    let polygon = |v: &Json| -> Option<Polygon<f64>> {
        let rings = v.as_array()?.iter().map(line).collect::<Option<Vec<_>>>()?;
        let mut rings = rings.into_iter();
        Some(Polygon::new(rings.next()?, rings.collect()))
    };
    let many = |v: &Json| v.as_array().cloned();
    Some(match g.get("type")?.as_str()? {
        "Point" => Geometry::Point(Point(pos(c)?)),
        "MultiPoint" => Geometry::MultiPoint(MultiPoint(
            many(c)?.iter().map(|p| pos(p).map(Point)).collect::<Option<_>>()?,
        )),
        "LineString" => Geometry::LineString(line(c)?),
        "MultiLineString" => {
            Geometry::MultiLineString(MultiLineString(many(c)?.iter().map(line).collect::<Option<_>>()?))
        }
        "Polygon" => Geometry::Polygon(polygon(c)?),
        "MultiPolygon" => Geometry::MultiPolygon(MultiPolygon(many(c)?.iter().map(polygon).collect::<Option<_>>()?)),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_text(text: &str) -> Result<Layer, ImportError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.json");
        std::fs::write(&path, text).unwrap();
        read(&path)
    }

    #[test]
    fn an_amap_district_answer_becomes_one_feature_per_district() {
        let layer = read_text(r#"{"status":"1","districts":[{"adcode":"350206","name":"湖里区","level":"district","districts":[],
            "polyline":"118.10,24.50;118.20,24.50;118.20,24.60|118.30,24.50;118.40,24.50;118.40,24.60;118.30,24.50"}]}"#).unwrap();
        assert_eq!(layer.features.len(), 1);
        let Some(Geometry::MultiPolygon(mp)) = &layer.features[0].geometry else {
            panic!("{:?}", layer.features[0].geometry)
        };
        assert_eq!(mp.0.len(), 2);
        assert_eq!(
            mp.0[0].exterior().0.first(),
            mp.0[0].exterior().0.last(),
            "rings are closed"
        );
        assert_eq!(layer.features[0].attrs["adcode"], Value::Text("350206".into()));
        assert!(
            layer.notes.iter().any(|n| n.contains("AMap district search")),
            "{:?}",
            layer.notes
        );
        assert!(layer.notes.iter().any(|n| n.contains("GCJ-02")), "{:?}", layer.notes);
    }

    #[test]
    fn a_bom_a_bare_geometry_and_member_ids_are_read() {
        let layer = read_text(
            "\u{feff}{\"type\":\"Polygon\",\"coordinates\":[[[118.1,24.5],[118.2,24.5],[118.2,24.6],[118.1,24.5]]]}",
        )
        .unwrap();
        assert_eq!(layer.features.len(), 1);
        let layer = read_text(r#"{"type":"FeatureCollection","features":[{"type":"Feature","id":7,"properties":{"id":null},"geometry":null}]}"#).unwrap();
        assert_eq!(layer.features[0].attrs["id"], Value::Integer(7));
    }

    #[test]
    fn what_is_not_geojson_is_named() {
        let e = read_text(r#"{"type":"Topology","objects":{}}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("found a TopoJSON Topology; convert it with `ogr2ogr"), "{e}");
        let e = read_text(r#"{"rows":[1],"cols":[2]}"#).unwrap_err().to_string();
        assert!(
            e.contains("an object with no \"type\" (its keys: rows, cols)") || e.contains("its keys: cols, rows"),
            "{e}"
        );
    }
}
