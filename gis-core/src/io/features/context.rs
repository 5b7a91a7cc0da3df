//! The optional context layers, `water.geojson` and `green.geojson`: shown on the map around and
//! in the communities for orientation, never partitioned. They may reach beyond every community
//! (a river past the street), so nothing here is checked against the boundary.

use super::{GREEN, Reader, WATER};
use crate::io::InputProblemKind;
use crate::io::geometry::{self, Shape};
use crate::model::{Context, ContextFeature, ContextShape};
use std::collections::HashMap;

impl Reader {
    pub(super) fn context(&mut self) -> Context {
        Context {
            water: self.context_layer(WATER, Shape::PolygonalOrLineal),
            green: self.context_layer(GREEN, Shape::Polygonal),
        }
    }

    /// One context file: `id` (unique), optional `kind` and `name`, and an area (or, for water,
    /// a line) whose rings are as sound as a building's.
    fn context_layer(&mut self, file: &str, shape: Shape) -> Vec<ContextFeature> {
        let Some(mut values) = self.collection(file, false, shape) else {
            return Vec::new();
        };
        let mut out = Vec::with_capacity(values.len());
        let mut seen = HashMap::new();
        for f in self.features(file, &mut values, "id") {
            let before = self.problems.len();
            let id = self.id(file, &f, &mut seen);
            let kind = self.string(file, &f.at, f.props, "kind", false);
            let name = self.string(file, &f.at, f.props, "name", false);
            let shape = match shape {
                Shape::Polygonal => self
                    .geometry(file, &f.at, geometry::polygonal(f.geometry))
                    .map(ContextShape::Area),
                _ => self.geometry(file, &f.at, geometry::polygonal_or_lineal(f.geometry)),
            };
            if let Some(ContextShape::Area(a)) = &shape
                && a.0.iter().all(|p| geo::Area::unsigned_area(p) == 0.0)
            {
                self.problem(
                    file,
                    Some(&f.at),
                    Some("geometry.coordinates"),
                    InputProblemKind::ZeroArea,
                    "encloses no area; expected a polygon with an inside (give a line as a LineString)",
                );
                continue;
            }
            if self.problems.len() > before {
                continue;
            }
            if let (Some(id), Some(shape)) = (id, shape) {
                out.push(ContextFeature {
                    id,
                    kind: kind.map(|k| k.to_lowercase()),
                    name,
                    shape,
                });
            }
        }
        out
    }
}
