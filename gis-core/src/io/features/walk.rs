//! The optional walking layer, `walk.geojson`: ways people walk besides the roads (footways,
//! paths, steps, pedestrian streets, crossings), barriers nobody walks across (compound walls,
//! fences) and the gates and entrances through them. Like the context layers it may reach
//! beyond every community (the footbridge to the clinic over the river), so nothing is checked
//! against the boundary; `gis_core::walk` builds the walking network from it and the roads.

use super::{Reader, WALK};
use crate::io::InputProblemKind;
use crate::io::geometry::{self, LineOrPoint, Shape};
use crate::model::{WalkBarrier, WalkLayer, WalkPassage, WalkWay};
use std::collections::HashMap;

/// What a Point of the walking layer may be.
pub const PASSAGE_KINDS: [&str; 2] = ["gate", "entrance"];

impl Reader {
    /// Each feature: `id` (unique); a LineString or MultiLineString is a way (optional `kind`)
    /// or, with `barrier` (`wall`, `fence`, …), a barrier; a Point is a passage whose `kind` is
    /// `gate` or `entrance`.
    pub(super) fn walk(&mut self) -> WalkLayer {
        let Some(mut values) = self.collection(WALK, false, Shape::LinealOrPoint) else {
            return WalkLayer::default();
        };
        let mut out = WalkLayer::default();
        let mut seen = HashMap::new();
        for f in self.features(WALK, &mut values, "id") {
            let before = self.problems.len();
            let id = self.id(WALK, &f, &mut seen);
            let kind = self
                .string(WALK, &f.at, f.props, "kind", false)
                .map(|k| k.to_lowercase())
                .filter(|k| !k.is_empty());
            let barrier = self
                .string(WALK, &f.at, f.props, "barrier", false)
                .map(|k| k.to_lowercase())
                .filter(|k| !k.is_empty());
            let shape = self.geometry(WALK, &f.at, geometry::lineal_or_point(f.geometry));
            if let Some(LineOrPoint::Point(_)) = &shape {
                match kind.as_deref() {
                    Some(k) if PASSAGE_KINDS.contains(&k) => {}
                    Some(k) => self.problem(
                        WALK,
                        Some(&f.at),
                        Some("properties.kind"),
                        InputProblemKind::InvalidValue,
                        format!(
                            "a Point is a passage through barriers: expected \"gate\" or \"entrance\", found {k:?}"
                        ),
                    ),
                    None => self.problem(
                        WALK,
                        Some(&f.at),
                        Some("properties.kind"),
                        InputProblemKind::MissingField,
                        "missing; a Point is a passage through barriers: expected \"gate\" or \"entrance\"",
                    ),
                }
                if barrier.is_some() {
                    self.problem(
                        WALK,
                        Some(&f.at),
                        Some("properties.barrier"),
                        InputProblemKind::InvalidValue,
                        "a barrier is a line (a wall, a fence); a Point is a gate or an entrance (give it as kind)",
                    );
                }
            }
            if self.problems.len() > before {
                continue;
            }
            let (Some(id), Some(shape)) = (id, shape) else {
                continue;
            };
            match (shape, barrier) {
                (LineOrPoint::Point(location), _) => out.passages.push(WalkPassage {
                    id,
                    kind: kind.unwrap_or_default(),
                    location,
                }),
                (LineOrPoint::Line(line), Some(barrier)) => out.barriers.push(WalkBarrier {
                    id,
                    kind: barrier,
                    line,
                }),
                (LineOrPoint::Line(line), None) => out.ways.push(WalkWay { id, kind, line }),
            }
        }
        out
    }
}
