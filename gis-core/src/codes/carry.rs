//! Codes carried over from the published layer to a layer drawn from scratch.
//!
//! A fresh partition numbers its grids 001, 002, … in reading order, whatever was there before:
//! published over a current version, code 001 could then name an area whose residents mostly lived
//! in old 002, and old 001's workers would silently inherit them. So a fresh layer takes its codes
//! by the same rule as a re-partition ([`super::lineage`]: mutual majority of residents, each old
//! code to at most one grid of the same kind); every other grid gets a code never issued before in
//! its community ([`CodeBook`]), and the codes not carried over are retired.

use super::CodeBook;
use super::lineage::Flows;
use crate::grid::{GridKind, GridLevel};
use crate::io::grids::GridLayer;
use crate::model::Dataset;
use std::collections::{BTreeMap, BTreeSet};

/// Renumbers `new` (drawn from scratch, same dataset shape) so that its grids keep the codes of
/// `old` under the stability rule; micro-grids follow their parent. Returns (drawn code, code
/// given) for every grid whose code changed.
pub fn carry_over(dataset: &Dataset, old: &GridLayer, new: &mut GridLayer) -> Vec<(String, String)> {
    let scheme = new.meta.code_scheme.clone();
    let members = crate::diff::member_residents(dataset);
    let residents = |item: &str| members.get(item).copied().unwrap_or(0);
    // Which old grid each building (or unit) was in.
    let mut old_of: BTreeMap<&str, &str> = BTreeMap::new();
    for g in old.grids.iter().filter(|g| g.level == GridLevel::Grid) {
        for item in &g.buildings {
            old_of.insert(item.as_str(), g.code.as_str());
        }
    }
    let old_kind: BTreeMap<&str, GridKind> = old
        .grids
        .iter()
        .filter(|g| g.level == GridLevel::Grid)
        .map(|g| (g.code.as_str(), g.kind))
        .collect();
    let mut book: CodeBook = old.meta.code_book.clone();
    let mut renames: BTreeMap<String, String> = BTreeMap::new();
    let communities: BTreeSet<String> = new.grids.iter().map(|g| g.community_code.clone()).collect();
    for community in &communities {
        let groups: Vec<usize> = (0..new.grids.len())
            .filter(|&i| new.grids[i].level == GridLevel::Grid && &new.grids[i].community_code == community)
            .collect();
        let mut flows = Flows::default();
        for (g, &i) in groups.iter().enumerate() {
            for item in &new.grids[i].buildings {
                // Exclusive grids (a school, a market) have no residents: weighed by buildings.
                let weight = match new.grids[i].kind {
                    GridKind::Basic => residents(item),
                    GridKind::Exclusive => 1,
                };
                flows.add(old_of.get(item.as_str()).copied(), g, weight);
            }
        }
        let kinds: Vec<GridKind> = groups.iter().map(|&i| new.grids[i].kind).collect();
        let stable = flows.stable_codes(groups.len(), &|code, g| old_kind.get(code) == Some(&kinds[g]));
        let kept: BTreeSet<String> = stable.iter().flatten().cloned().collect();
        // Old codes of this community not carried over are retired: never issued again.
        for g in old
            .grids
            .iter()
            .filter(|g| g.level == GridLevel::Grid && &g.community_code == community)
        {
            if !kept.contains(&g.code) {
                book.retire(community, &g.code);
            }
        }
        let mut in_use = kept.clone();
        for (g, &i) in groups.iter().enumerate() {
            let code = match &stable[g] {
                Some(code) => code.clone(),
                None => {
                    let Some(code) = book.issue(&scheme, community, kinds[g], &in_use) else {
                        continue; // every sequence issued: the drawn code stays
                    };
                    code
                }
            };
            in_use.insert(code.clone());
            if code != new.grids[i].code {
                renames.insert(new.grids[i].code.clone(), code);
            }
        }
    }
    for g in &mut new.grids {
        match g.level {
            GridLevel::Grid => {
                if let Some(code) = renames.get(&g.code) {
                    g.code = code.clone();
                }
            }
            GridLevel::Micro => {
                let Some(parent) = g.parent_code.clone() else { continue };
                if let Some(code) = renames.get(&parent) {
                    g.code = format!("{code}{}", &g.code[parent.len()..]);
                    g.parent_code = Some(code.clone());
                }
            }
        }
    }
    new.meta.code_book = book;
    renames.into_iter().collect()
}
