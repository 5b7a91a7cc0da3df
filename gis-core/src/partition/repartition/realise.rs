//! The chosen repair made real: the region's grids from the candidate's labels, their codes
//! (kept by the lineage rule, or new from the code book), what the report says of each, and new
//! micro-grids for the re-drawn grids.

use super::problem::{Candidate, EDIT, Problem};
use super::redraw::snap_to_outline;
use super::run::Run;
use crate::bounds::SizeBounds;
use crate::codes::lineage::Flows;
use crate::codes::reading_order;
use crate::grid::{Grid, GridKind, GridLevel};
use geo::{Contains, MultiPolygon};
use std::collections::BTreeSet;

impl Run<'_> {
    /// The region's grids from the chosen candidate: geometry, codes, lineage.
    pub(crate) fn realise(
        &mut self,
        p: &Problem,
        c: &Candidate,
        old: &[&Grid],
        in_use: &mut BTreeSet<String>,
    ) -> Vec<Grid> {
        let atoms = &p.prepared.atoms;
        let n_basic = c.groups;
        let exclusive: Vec<usize> = (0..atoms.len()).filter(|&a| atoms[a].exclusive.is_some()).collect();
        let groups = n_basic + exclusive.len();
        let mut group_of: Vec<Option<usize>> = vec![None; atoms.len()];
        for (n, &a) in p.basic.iter().enumerate() {
            group_of[a] = Some(c.labels[n]);
        }
        for (k, &a) in exclusive.iter().enumerate() {
            group_of[a] = Some(n_basic + k);
        }
        let mut areas = p.prepared.tess.assemble(&group_of, groups);
        snap_to_outline(&p.outline, &mut areas);

        let mut grids: Vec<Grid> = Vec::with_capacity(groups);
        let community = &p.sub.communities[0];
        for g in 0..groups {
            let members: Vec<usize> = (0..atoms.len()).filter(|&a| group_of[a] == Some(g)).collect();
            let (kind, name) = if g < n_basic {
                (GridKind::Basic, None)
            } else {
                let unit = &p.sub.exclusive[atoms[exclusive[g - n_basic]].exclusive.expect("exclusive atom")];
                (GridKind::Exclusive, Some(unit.name.clone()))
            };
            grids.push(crate::partition::make_grid(
                community,
                kind,
                name,
                areas[g].clone(),
                &members,
                atoms,
            ));
        }

        // Codes: basic groups by the stable rule; exclusive groups by the old exclusive grid
        // holding their unit.
        let mut flows = Flows::default();
        for (a, atom) in atoms.iter().enumerate() {
            let Some(g) = group_of[a] else { continue };
            let from = if p.atom_new[a] {
                None
            } else {
                p.atom_old[a].map(|l| old[p.region_list[l]].code.as_str())
            };
            flows.add(from, g, atom.population);
        }
        let is_basic_code = |code: &str| old.iter().any(|g| g.code == code && g.kind == GridKind::Basic);
        let mut codes = if c.strategy == EDIT {
            // An edit never renames: each grid keeps its code, whatever moved.
            (0..groups)
                .map(|g| (g < n_basic).then(|| p.region_codes[g].clone()))
                .collect()
        } else {
            flows.stable_codes(groups, &|code, g| g < n_basic && is_basic_code(code))
        };
        for (k, &a) in exclusive.iter().enumerate() {
            let unit = &p.sub.exclusive[atoms[a].exclusive.expect("exclusive atom")];
            codes[n_basic + k] = p
                .region_list
                .iter()
                .map(|&i| old[i])
                .find(|g| g.kind == GridKind::Exclusive && g.area.contains(&unit.anchor))
                .map(|g| g.code.clone());
        }
        for code in codes.iter().flatten() {
            in_use.insert(code.clone());
        }
        // A grid every atom left (a forced edit can empty one) is not a grid any more.
        let empty: Vec<bool> = grids.iter().map(|g| g.area.0.is_empty()).collect();
        for g in 0..groups {
            if empty[g] {
                codes[g] = Some(String::new());
            }
        }
        // New codes in reading order, after every kept one is known.
        let unnamed: Vec<usize> = (0..groups).filter(|&g| codes[g].is_none()).collect();
        let refs: Vec<&Grid> = unnamed.iter().map(|&g| &grids[g]).collect();
        for k in reading_order(&refs) {
            let g = unnamed[k];
            let kind = grids[g].kind;
            let code = self
                .book
                .issue(&self.scheme, &community.code.to_string(), kind, in_use)
                .unwrap_or_else(|| format!("{}-overflow-{g}", community.code));
            in_use.insert(code.clone());
            codes[g] = Some(code);
        }
        let codes: Vec<String> = codes.into_iter().map(|c| c.expect("every group named")).collect();
        let keep: Vec<bool> = empty.iter().map(|e| !e).collect();
        for (g, grid) in grids.iter_mut().enumerate() {
            grid.code = codes[g].clone();
        }

        // What the report says of each.
        let mut lineage = flows.lineage(&codes);
        lineage.retain(|e| !e.code.is_empty());
        for &i in &p.region_list {
            let code = &old[i].code;
            if !codes.contains(code) {
                self.retired.push(code.clone());
                self.book.retire(&community.code.to_string(), code);
                let successor = lineage
                    .iter()
                    .filter_map(|e| {
                        e.from
                            .iter()
                            .find(|s| &s.code == code)
                            .map(|s| (s.residents, e.code.clone()))
                    })
                    .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)))
                    .map(|(_, c)| c);
                self.successors.insert(code.clone(), successor);
            }
        }
        for (g, grid) in grids.iter().enumerate().filter(|&(g, _)| keep[g]) {
            let was = p.region_list.iter().map(|&i| old[i]).find(|o| o.code == grid.code);
            match was {
                Some(o) if o.buildings == grid.buildings && o.area == grid.area => self.kept.push(grid.code.clone()),
                Some(_) => self.changed.push(grid.code.clone()),
                None => self.created.push(grid.code.clone()),
            }
            let _ = g;
        }
        for e in &lineage {
            self.flows_total.total += e.residents;
            self.flows_total.new += e.new_residents;
            self.flows_total.moved += e
                .from
                .iter()
                .filter(|s| s.code != e.code)
                .map(|s| s.residents)
                .sum::<u64>();
        }
        self.lineage.extend(lineage);
        if let Some(micro) = self.micro {
            let micro_grids = self.realise_micro(p, &grids, &group_of, n_basic, micro, in_use);
            grids.extend(micro_grids);
        }
        let mut at = 0;
        grids.retain(|_| {
            at += 1;
            keep.get(at - 1).copied().unwrap_or(true)
        });
        grids
    }

    /// New micro-grids for the re-drawn grids; a micro-grid keeps an old code under its grid by
    /// the same rule as grids do.
    fn realise_micro(
        &mut self,
        p: &Problem,
        grids: &[Grid],
        group_of: &[Option<usize>],
        n_basic: usize,
        micro: SizeBounds,
        in_use: &mut BTreeSet<String>,
    ) -> Vec<Grid> {
        let atoms = &p.prepared.atoms;
        let parts: Vec<Vec<usize>> = (0..n_basic)
            .map(|g| (0..atoms.len()).filter(|&a| group_of[a] == Some(g)).collect())
            .collect();
        let order: Vec<(usize, usize)> = (0..n_basic).map(|g| (g, g)).collect();
        let mut scratch = p.prepared.report.clone();
        let mut out = crate::partition::micro_grids(
            grids,
            &parts,
            &order,
            atoms,
            &p.prepared.tess,
            &micro,
            &self.scheme,
            self.seed,
            &mut scratch,
        );
        let mut areas: Vec<MultiPolygon<f64>> = out
            .iter_mut()
            .map(|m| std::mem::replace(&mut m.area, MultiPolygon(Vec::new())))
            .collect();
        snap_to_outline(&p.outline, &mut areas);
        for (m, a) in out.iter_mut().zip(areas) {
            m.area = a;
        }
        let community = p.sub.communities[0].code.to_string();
        for parent in grids.iter().take(n_basic) {
            let olds: Vec<&Grid> = self
                .published
                .grids
                .iter()
                .filter(|g| g.level == GridLevel::Micro && g.parent_code.as_deref() == Some(parent.code.as_str()))
                .collect();
            let mine: Vec<usize> = (0..out.len())
                .filter(|&i| out[i].parent_code.as_deref() == Some(parent.code.as_str()))
                .collect();
            let mut flows = Flows::default();
            for (k, &i) in mine.iter().enumerate() {
                for m in &out[i].buildings {
                    let from = olds.iter().find(|o| o.buildings.contains(m)).map(|o| o.code.as_str());
                    flows.add(from, k, self.member_residents.get(m).copied().unwrap_or(0));
                }
            }
            let mut codes = flows.stable_codes(mine.len(), &|_, _| true);
            for c in codes.iter().flatten() {
                in_use.insert(c.clone());
            }
            for (k, &i) in mine.iter().enumerate() {
                let code = match codes[k].take() {
                    Some(c) => c,
                    None => {
                        let c = self
                            .book
                            .issue_micro(&self.scheme, &community, &parent.code, in_use)
                            .unwrap_or_else(|| format!("{}-overflow-{k}", parent.code));
                        in_use.insert(c.clone());
                        self.created.push(c.clone());
                        c
                    }
                };
                out[i].code = code;
            }
            for o in &olds {
                if !mine.iter().any(|&i| out[i].code == o.code) {
                    self.retired.push(o.code.clone());
                    self.book.retire(&community, &o.code);
                }
            }
        }
        // Micro-grids of grids the region retired go too.
        for code in p.region_codes.iter().filter(|c| !grids.iter().any(|g| &&g.code == c)) {
            for m in self
                .published
                .grids
                .iter()
                .filter(|g| g.parent_code.as_deref() == Some(code.as_str()))
            {
                self.retired.push(m.code.clone());
                self.book.retire(&community, &m.code);
            }
        }
        out.sort_by(|a, b| a.code.cmp(&b.code));
        out
    }
}
