//! Checks across features: areas too wide to be real, overlapping areas, and features lying in no
//! community.

use super::{BOUNDARY, OVERLAP_TOLERANCE_M2, Reader};
use crate::geom::BboxIndex;
use crate::io::{FeatureRef, InputProblemKind};
use crate::measure::{area_m2, span_m};
use geo::{BooleanOps, BoundingRect, Coord, Distance, Geodesic, Intersects, MultiPolygon, Point};
use rayon::prelude::*;
use std::collections::BTreeMap;

impl Reader {
    /// An area wider than any of its kind can be is a mistyped coordinate: say which vertex
    /// lies furthest from the middle of the others (the per-axis median, which one stray
    /// vertex cannot move far).
    pub(super) fn span(&mut self, file: &str, at: &FeatureRef, area: &MultiPolygon<f64>, limit_m: f64, what: &str) {
        self.span_of(file, at, area, span_m(area), limit_m, what)
    }

    /// [`Self::span`] of an area whose span (`span_m`) is known.
    pub(super) fn span_of(
        &mut self,
        file: &str,
        at: &FeatureRef,
        area: &MultiPolygon<f64>,
        span: f64,
        limit_m: f64,
        what: &str,
    ) {
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
            InputProblemKind::ImplausibleExtent,
            format!(
                "the {what} spans {}, more than any {what} can (at most {}){stray}",
                km(span),
                km(limit_m)
            ),
        );
    }

    pub(super) fn outside(&mut self, file: &str, at: &FeatureRef, p: Point<f64>, what: &str) {
        self.problem(
            file,
            Some(at),
            Some("geometry"),
            InputProblemKind::OutsideCommunities,
            format!("{what} [{:.7}, {:.7}] lies in no community of {BOUNDARY}", p.x(), p.y()),
        );
    }

    /// Reports every pair of areas overlapping by more than the tolerance, on the later feature.
    pub(super) fn overlaps(
        &mut self,
        file: &str,
        refs: &[FeatureRef],
        areas: &[&MultiPolygon<f64>],
        kind: InputProblemKind,
        what: &str,
    ) {
        let boxes = BboxIndex::new(
            areas
                .iter()
                .enumerate()
                .filter_map(|(i, a)| a.bounding_rect().map(|r| (i, r))),
        );
        // Each area against its later neighbours, on every core: a city's buildings share walls
        // by the hundred thousand, and each touching pair is intersected.
        let found: BTreeMap<(usize, usize), f64> = areas
            .par_iter()
            .enumerate()
            .flat_map_iter(|(i, a)| {
                let near = a
                    .bounding_rect()
                    .map(|rect| boxes.intersecting(rect))
                    .unwrap_or_default();
                near.into_iter().filter(move |&j| j > i).filter_map(move |j| {
                    if !a.intersects(areas[j]) {
                        return None;
                    }
                    let overlap = area_m2(&a.intersection(areas[j]));
                    (overlap > OVERLAP_TOLERANCE_M2).then_some(((j, i), overlap))
                })
            })
            .collect();
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

fn km(m: f64) -> String {
    if m >= 10_000.0 {
        format!("{:.0} km", m / 1000.0)
    } else {
        format!("{:.1} km", m / 1000.0)
    }
}
