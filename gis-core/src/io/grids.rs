//! Writing grid layers as GeoJSON (shared/dataset-format.md, "Grids").

use crate::grid::{Grid, GridLevel};
use geo::{LineString, MultiPolygon, Polygon};
use serde_json::{Value, json};
use std::fmt::Write as _;

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

/// The grids as a FeatureCollection, one feature per line so diffs stay readable.
pub fn to_geojson(grids: &[Grid]) -> String {
    let mut out = String::from("{\"type\":\"FeatureCollection\",\"features\":[\n");
    for (i, g) in grids.iter().enumerate() {
        let _ = write!(out, "{}{}", feature(g), if i + 1 < grids.len() { ",\n" } else { "\n" });
    }
    out.push_str("]}\n");
    out
}
