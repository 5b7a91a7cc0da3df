//! Atoms: the indivisible things a partition places. A building; a unit part of a building too
//! big for any grid; the residents located by points in one H3 cell; an exclusive unit with
//! everything inside it.

use super::tessellate::{AtomIx, Claims};
use crate::bounds::{SizeBasis, SizeBounds};
use crate::geom::{AreaIndex, BboxIndex, LocalFrame, unit_parts};
use crate::model::{CommunityMembers, Dataset, estimated_households};
use geo::{BoundingRect, Contains, Coord};
use h3o::{LatLng, Resolution};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default)]
pub(crate) struct Atom {
    pub population: u64,
    pub households: u64,
    pub compound: Option<String>,
    /// Building ids (or `ID#UNIT`) it holds.
    pub members: Vec<String>,
    /// Index into `Dataset::exclusive` for an exclusive unit's atom.
    pub exclusive: Option<usize>,
}

impl Atom {
    pub fn size(&self, basis: SizeBasis) -> u64 {
        match basis {
            SizeBasis::Residents => self.population,
            SizeBasis::Households => self.households,
        }
    }
}

pub(crate) struct CommunityAtoms {
    pub atoms: Vec<Atom>,
    pub claims: Claims,
    /// (residents, households) of each of `claims.points`.
    pub point_people: Vec<(u64, u64)>,
    /// Buildings above the maximum that could not be split (no units, or a shape the unit
    /// slicing cannot cut cleanly), with their size.
    pub oversized: Vec<(String, u64)>,
    /// The H3 resolution population points were grouped at, if there were any.
    pub h3_resolution: Option<u8>,
}

/// Average residents an H3 cell of population points should hold: coarse enough to make atoms
/// worth placing, fine enough that a grid line can pass between them.
const RESIDENTS_PER_POINT_ATOM: f64 = 40.0;

pub(crate) fn community_atoms(
    dataset: &Dataset,
    members: &CommunityMembers,
    bounds: &SizeBounds,
    frame: &LocalFrame,
) -> CommunityAtoms {
    let mut atoms: Vec<Atom> = Vec::new();
    let mut claims = Claims::default();
    let mut oversized = Vec::new();

    // Exclusive units first: each one atom, owning its area.
    let mut unit_atom: BTreeMap<usize, AtomIx> = BTreeMap::new();
    for (u, unit) in members.exclusive.iter().map(|&u| (u, &dataset.exclusive[u])) {
        let ix = atoms.len() as AtomIx;
        unit_atom.insert(u, ix);
        atoms.push(Atom {
            exclusive: Some(u),
            ..Atom::default()
        });
        for p in &unit.area.0 {
            claims.polygons.push((ix, p.clone()));
        }
    }

    let mut building_atom: Vec<(usize, AtomIx)> = Vec::new();
    for (bi, b) in members.buildings.iter().map(|&bi| (bi, &dataset.buildings[bi])) {
        if let Some(&ix) = b.exclusive_unit.and_then(|u| unit_atom.get(&u)) {
            let a = &mut atoms[ix as usize];
            a.population += u64::from(b.population);
            a.households += u64::from(b.households);
            a.members.push(b.id.clone());
            for p in &b.footprint.0 {
                claims.polygons.push((ix, p.clone()));
            }
            building_atom.push((bi, ix));
            continue;
        }
        let size = match bounds.basis {
            SizeBasis::Residents => u64::from(b.population),
            SizeBasis::Households => u64::from(b.households),
        };
        if size > u64::from(bounds.max) {
            if let Some(parts) = unit_parts(b, frame) {
                for (unit, slice) in b.units.iter().zip(parts) {
                    let ix = atoms.len() as AtomIx;
                    atoms.push(Atom {
                        population: u64::from(unit.population),
                        households: u64::from(unit.households),
                        compound: b.compound.clone(),
                        members: vec![format!("{}#{}", b.id, unit.name)],
                        exclusive: None,
                    });
                    claims.polygons.push((ix, slice));
                }
                continue;
            }
            oversized.push((b.id.clone(), size));
        }
        let ix = atoms.len() as AtomIx;
        atoms.push(Atom {
            population: u64::from(b.population),
            households: u64::from(b.households),
            compound: b.compound.clone(),
            members: vec![b.id.clone()],
            exclusive: None,
        });
        for p in &b.footprint.0 {
            claims.polygons.push((ix, p.clone()));
        }
        building_atom.push((bi, ix));
    }

    // Population points: inside a building they add to it; inside an exclusive unit, to the
    // unit; the rest are grouped by H3 cell.
    let footprints = BboxIndex::new(
        building_atom
            .iter()
            .enumerate()
            .filter_map(|(i, (bi, _))| dataset.buildings[*bi].footprint.bounding_rect().map(|r| (i, r))),
    );
    let units: Vec<usize> = unit_atom.keys().copied().collect();
    let unit_areas = AreaIndex::new(units.iter().map(|&u| &dataset.exclusive[u].area));
    let mut loose: Vec<(Coord<f64>, u32)> = Vec::new();
    let mut point_people: Vec<(u64, u64)> = Vec::new();
    for p in members.points.iter().map(|&pi| &dataset.points[pi]) {
        let households = u64::from(estimated_households(p.count).max(1));
        let in_building = footprints
            .at_point(p.location.0)
            .into_iter()
            .find(|&i| dataset.buildings[building_atom[i].0].footprint.contains(&p.location));
        let target = in_building
            .map(|i| building_atom[i].1)
            .or_else(|| unit_areas.locate(p.location).map(|k| unit_atom[&units[k]]));
        match target {
            Some(ix) => {
                let a = &mut atoms[ix as usize];
                a.population += u64::from(p.count);
                a.households += households;
                if a.exclusive.is_some() && in_building.is_none() {
                    claims.points.push((ix, p.location.0));
                    point_people.push((u64::from(p.count), households));
                }
            }
            None => loose.push((p.location.0, p.count)),
        }
    }
    let h3_resolution = group_points(&loose, &mut atoms, &mut claims, &mut point_people);
    CommunityAtoms {
        atoms,
        claims,
        point_people,
        oversized,
        h3_resolution,
    }
}

/// Groups loose points into one atom per H3 cell, at the finest resolution whose cells hold
/// enough residents on average (denser places get finer cells).
fn group_points(
    points: &[(Coord<f64>, u32)],
    atoms: &mut Vec<Atom>,
    claims: &mut Claims,
    people: &mut Vec<(u64, u64)>,
) -> Option<u8> {
    if points.is_empty() {
        return None;
    }
    let total: f64 = points.iter().map(|p| f64::from(p.1)).sum();
    let cells_at = |res: Resolution| -> Vec<u64> {
        points
            .iter()
            .map(|(c, _)| LatLng::new(c.y, c.x).map(|ll| u64::from(ll.to_cell(res))).unwrap_or(0))
            .collect()
    };
    let mut chosen = (Resolution::Seven, cells_at(Resolution::Seven));
    for res in [Resolution::Eleven, Resolution::Ten, Resolution::Nine, Resolution::Eight] {
        let cells = cells_at(res);
        let mut distinct = cells.clone();
        distinct.sort_unstable();
        distinct.dedup();
        if total / distinct.len() as f64 >= RESIDENTS_PER_POINT_ATOM {
            chosen = (res, cells);
            break;
        }
    }
    let mut by_cell: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (i, cell) in chosen.1.iter().enumerate() {
        by_cell.entry(*cell).or_default().push(i);
    }
    for members in by_cell.values() {
        let ix = atoms.len() as AtomIx;
        let population: u64 = members.iter().map(|&i| u64::from(points[i].1)).sum();
        let households = members
            .iter()
            .map(|&i| u64::from(estimated_households(points[i].1).max(1)))
            .sum();
        atoms.push(Atom {
            population,
            households,
            ..Atom::default()
        });
        for &i in members {
            claims.points.push((ix, points[i].0));
            people.push((
                u64::from(points[i].1),
                u64::from(estimated_households(points[i].1).max(1)),
            ));
        }
    }
    Some(u8::from(chosen.0))
}
