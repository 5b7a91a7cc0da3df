//! What the strict dataset reader refuses in polygons, repaired the same way whatever the source
//! (OpenStreetMap, Shapefile, GeoPackage, GeoJSON, a dataset folder), each repair listed by
//! feature id:
//!
//! - geometry is cleaned by the code `wangge validate` uses on hand-drawn grids
//!   ([`gis_core::validate::clean_rings`]): repeated points and spikes dropped; a ring that touches
//!   or crosses itself resolved by non-zero winding (a courtyard drawn as one ring touching itself
//!   becomes a polygon with a hole, a ring pinched at a point two polygons, a bow-tie its two
//!   triangles);
//! - a ring with fewer than 3 distinct points or no area is dropped; a building left with no
//!   polygon, or under 1 m², is dropped;
//! - buildings overlapping by more than the reader's tolerance (1 m²): largest first, each
//!   building that lies more than half inside one already kept is dropped (a `building:part`, a
//!   duplicate); otherwise the overlap is cut from it and stays with the larger building.
//!
//! Boundaries and exclusive units get the geometry repairs only; what cannot be repaired is left
//! for the reader to refuse with its own message.

use crate::dataset::{Draft, Feature};
use crate::source::Role;
use geo::{Area, BooleanOps, BoundingRect, Coord, Geometry, Intersects, MultiPolygon, Validation};
use gis_core::geom::BboxIndex;
use gis_core::measure::area_m2;
use gis_core::validate::{DefectKind, clean_rings, cut};
use std::cmp::Ordering;

/// A building lying more than this share inside a larger one is dropped rather than cut.
pub const INSIDE_SHARE: f64 = 0.5;

/// Smallest footprint kept (m²): below it a footprint is a digitising slip.
pub const MIN_FOOTPRINT_M2: f64 = 1.0;

pub fn repair(draft: &mut Draft) {
    for role in [Role::Boundary, Role::Buildings, Role::Exclusive] {
        let Some(features) = draft.files.remove(&role) else {
            continue;
        };
        let mut kept = Vec::with_capacity(features.len());
        for mut f in features {
            if geometry(&mut f, role, draft) {
                kept.push(f);
            }
        }
        if role == Role::Buildings {
            kept = overlaps(kept, draft);
        }
        draft.files.insert(role, kept);
    }
}

/// Cleans one feature's polygons; false when the feature is dropped.
fn geometry(f: &mut Feature, role: Role, draft: &mut Draft) -> bool {
    let Geometry::MultiPolygon(mp) = &f.geometry else {
        return true;
    };
    let rings: Vec<Vec<Vec<Coord<f64>>>> =
        mp.0.iter()
            .map(|p| {
                std::iter::once(p.exterior())
                    .chain(p.interiors())
                    .map(|r| r.0.clone())
                    .collect()
            })
            .collect();
    let cleaned = clean_rings(&rings, mp.0.len() > 1);
    let id = f.name();
    let building = role == Role::Buildings;
    let area = cleaned.area;
    let usable = !area.0.is_empty() && area.is_valid() && area.unsigned_area() > 0.0;
    if !usable {
        if building {
            let why = if area.0.is_empty() {
                "footprint with no ring of 3 distinct points enclosing an area (degenerate)"
            } else {
                "footprint that cannot be made a valid polygon"
            };
            draft.notes.drop_feature(f, why);
            return false;
        }
        return true; // the reader names what is wrong with a boundary or unit
    }
    let (before, after) = (shape(mp), shape(&area));
    for p in &cleaned.problems {
        let (kind, detail) = match p.kind {
            DefectKind::UnclosedRing => continue, // rings are closed as they are read
            DefectKind::RepeatedPoints => ("repeated points removed", p.message.clone()),
            DefectKind::Spike => ("spike removed", p.message.clone()),
            DefectKind::TooFewPoints => (
                "degenerate ring dropped (fewer than 3 distinct points, or no area)",
                p.message.clone(),
            ),
            DefectKind::SelfIntersection | DefectKind::BowTie | DefectKind::InvalidPolygon => {
                let kind = if p.kind == DefectKind::BowTie {
                    "bow-tie split into its lobes (non-zero winding)"
                } else if after.1 > before.1 {
                    "ring touching itself made a polygon with a hole"
                } else if after.0 > before.0 {
                    "ring pinched at a point split into polygons"
                } else {
                    "ring touching or crossing itself made valid (non-zero winding)"
                };
                (
                    kind,
                    format!(
                        "{}: {before_s} → {after_s}",
                        p.message,
                        before_s = describe(before),
                        after_s = describe(after)
                    ),
                )
            }
            _ => ("geometry repaired", p.message.clone()),
        };
        draft.notes.repair(&f.source, &id, kind, detail);
    }
    if building && area_m2(&area) < MIN_FOOTPRINT_M2 {
        draft.notes.drop_feature(f, "footprint under 1 m²");
        return false;
    }
    f.geometry = Geometry::MultiPolygon(area);
    true
}

/// (polygons, holes)
fn shape(mp: &MultiPolygon<f64>) -> (usize, usize) {
    (mp.0.len(), mp.0.iter().map(|p| p.interiors().len()).sum())
}

fn describe((polygons, holes): (usize, usize)) -> String {
    format!(
        "{polygons} polygon{} with {holes} hole{}",
        if polygons == 1 { "" } else { "s" },
        if holes == 1 { "" } else { "s" }
    )
}

/// Resolves overlaps between footprints, largest first (ties by id, so every run agrees).
fn overlaps(buildings: Vec<Feature>, draft: &mut Draft) -> Vec<Feature> {
    let area = |f: &Feature| match &f.geometry {
        Geometry::MultiPolygon(mp) => area_m2(mp),
        _ => 0.0,
    };
    let mut order: Vec<(usize, f64, String)> = buildings
        .iter()
        .enumerate()
        .map(|(i, f)| (i, area(f), f.name()))
        .collect();
    order.sort_by(|a, b| {
        b.1.partial_cmp(&a.1)
            .unwrap_or(Ordering::Equal)
            .then_with(|| a.2.cmp(&b.2))
    });
    // Boxes only shrink as overlaps are cut, so the boxes as read still find every candidate.
    let index = BboxIndex::new(
        buildings
            .iter()
            .enumerate()
            .filter_map(|(i, f)| f.geometry.bounding_rect().map(|r| (i, r))),
    );
    let mut buildings: Vec<Option<Feature>> = buildings.into_iter().map(Some).collect();
    let mut done = vec![false; buildings.len()];
    for (i, own_area, id) in order {
        let Some(rect) = buildings[i].as_ref().and_then(|f| f.geometry.bounding_rect()) else {
            continue;
        };
        let Geometry::MultiPolygon(mine) = buildings[i]
            .as_ref()
            .map(|f| f.geometry.clone())
            .unwrap_or(Geometry::MultiPolygon(MultiPolygon(vec![])))
        else {
            done[i] = true;
            continue;
        };
        // Larger buildings already settled that this one overlaps by more than the tolerance.
        let mut over: Vec<(usize, f64)> = Vec::new();
        for j in index.intersecting(rect) {
            if j == i || !done[j] {
                continue;
            }
            let Some(Geometry::MultiPolygon(theirs)) = buildings[j].as_ref().map(|f| &f.geometry) else {
                continue;
            };
            if !mine.intersects(theirs) {
                continue;
            }
            let shared = area_m2(&mine.intersection(theirs));
            if shared > gis_core::io::OVERLAP_TOLERANCE_M2 {
                over.push((j, shared));
            }
        }
        done[i] = true;
        if over.is_empty() {
            continue;
        }
        over.sort_by_key(|&(j, _)| j);
        let names: Vec<String> = over
            .iter()
            .map(|&(j, _)| buildings[j].as_ref().map(Feature::name).unwrap_or_default())
            .collect();
        const INSIDE: &str = "building lying mostly inside a larger one (a building part, or drawn twice)";
        if let Some((k, &(_, shared))) = over.iter().enumerate().max_by(|a, b| a.1.1.total_cmp(&b.1.1))
            && shared > INSIDE_SHARE * own_area
        {
            let f = buildings[i].take().expect("present");
            draft.notes.drop_feature_because(
                &f,
                INSIDE,
                format!(
                    "{:.0}% of its {:.0} m² lies inside {:?}",
                    100.0 * shared / own_area,
                    own_area,
                    names[k]
                ),
            );
            continue;
        }
        let mut trimmed = mine;
        for &(j, _) in &over {
            if let Some(Geometry::MultiPolygon(theirs)) = buildings[j].as_ref().map(|f| &f.geometry) {
                trimmed = cut(&trimmed, theirs);
            }
        }
        let left = area_m2(&trimmed);
        let with: Vec<String> = over
            .iter()
            .zip(&names)
            .map(|(&(_, shared), name)| format!("{name:?} ({shared:.1} m²)"))
            .collect();
        if trimmed.0.is_empty() || !trimmed.is_valid() || left < MIN_FOOTPRINT_M2 {
            let f = buildings[i].take().expect("present");
            draft.notes.drop_feature_because(
                &f,
                INSIDE,
                format!("nothing valid is left after the overlap with {}", with.join(", ")),
            );
            continue;
        }
        let f = buildings[i].as_mut().expect("present");
        draft.notes.repair(
            &f.source,
            &id,
            "overlap with a larger building cut from the smaller",
            format!("overlapped {}; {left:.1} m² of {own_area:.1} m² kept", with.join(", ")),
        );
        f.geometry = Geometry::MultiPolygon(trimmed);
    }
    buildings.into_iter().flatten().collect()
}
