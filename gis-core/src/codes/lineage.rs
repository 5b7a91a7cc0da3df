//! Which new grid keeps which old code, and where each new grid's residents came from.
//!
//! The rule (README, "Codes"): a new grid keeps an old grid's code when it holds at least half of
//! the old grid's residents *and* the old grid held at least half of its residents. Each code
//! goes to at most one grid; when two qualify (an exact halving), the one holding more of the old
//! grid's residents wins, then the lower group index. Every other new grid gets a new code.

use serde::Serialize;
use std::collections::BTreeMap;

/// Residents moving from an old grid (`None`: people new to the dataset) to a new group.
#[derive(Debug, Clone, Default)]
pub struct Flows {
    pub flows: BTreeMap<(Option<String>, usize), u64>,
}

impl Flows {
    pub fn add(&mut self, old: Option<&str>, group: usize, residents: u64) {
        *self.flows.entry((old.map(String::from), group)).or_default() += residents;
    }

    fn old_totals(&self) -> BTreeMap<&str, u64> {
        let mut out: BTreeMap<&str, u64> = BTreeMap::new();
        for ((old, _), w) in &self.flows {
            if let Some(o) = old {
                *out.entry(o.as_str()).or_default() += w;
            }
        }
        out
    }

    fn group_totals(&self, groups: usize) -> Vec<u64> {
        let mut out = vec![0; groups];
        for ((_, g), w) in &self.flows {
            out[*g] += w;
        }
        out
    }

    /// For each of `groups` new groups, the old code it keeps under the rule, if any.
    /// `eligible(code, group)` can forbid a match (e.g. an exclusive code for a basic grid).
    pub fn stable_codes(&self, groups: usize, eligible: &dyn Fn(&str, usize) -> bool) -> Vec<Option<String>> {
        let old_total = self.old_totals();
        let new_total = self.group_totals(groups);
        let mut candidates: Vec<(u64, usize, &str)> = self
            .flows
            .iter()
            .filter_map(|((old, g), &w)| {
                let o = old.as_deref()?;
                let ok = w > 0 && 2 * w >= old_total[o] && 2 * w >= new_total[*g] && eligible(o, *g);
                ok.then_some((w, *g, o))
            })
            .collect();
        candidates.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(b.2)));
        let mut out: Vec<Option<String>> = vec![None; groups];
        let mut taken: BTreeMap<&str, ()> = BTreeMap::new();
        for (_, g, o) in candidates {
            if out[g].is_none() && !taken.contains_key(o) {
                out[g] = Some(o.to_string());
                taken.insert(o, ());
            }
        }
        out
    }

    /// Lineage of every new group, given the codes the groups ended up with.
    pub fn lineage(&self, codes: &[String]) -> Vec<LineageEntry> {
        let old_total = self.old_totals();
        let new_total = self.group_totals(codes.len());
        let mut out: Vec<LineageEntry> = codes
            .iter()
            .enumerate()
            .map(|(g, code)| LineageEntry {
                code: code.clone(),
                residents: new_total[g],
                new_residents: 0,
                from: Vec::new(),
            })
            .collect();
        for ((old, g), &w) in &self.flows {
            match old {
                None => out[*g].new_residents += w,
                Some(o) if w > 0 => out[*g].from.push(Source {
                    code: o.clone(),
                    residents: w,
                    share_of_new: share(w, new_total[*g]),
                    share_of_old: share(w, old_total[o.as_str()]),
                }),
                Some(_) => {}
            }
        }
        for e in &mut out {
            e.from
                .sort_by(|a, b| b.residents.cmp(&a.residents).then(a.code.cmp(&b.code)));
        }
        out.sort_by(|a, b| a.code.cmp(&b.code));
        out
    }
}

/// `part / whole` to four decimals (0 when `whole` is 0): the shares reports print.
pub(crate) fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        ((part as f64 / whole as f64) * 10_000.0).round() / 10_000.0
    }
}

/// Where a new grid's residents came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineageEntry {
    pub code: String,
    pub residents: u64,
    /// Residents not in the dataset before (new buildings or points).
    pub new_residents: u64,
    pub from: Vec<Source>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Source {
    pub code: String,
    pub residents: u64,
    /// Share of the new grid's residents that came from this old grid.
    pub share_of_new: f64,
    /// Share of the old grid's residents that went to the new grid.
    pub share_of_old: f64,
}

/// An old grid is *split* when at least two new grids each took this share of its residents; a
/// new grid is *merged* when at least two old grids each gave this share of its residents.
pub const SPLIT_MERGE_SHARE: f64 = 0.1;

/// Codes of old grids that were split, and of new grids that were merged, by lineage.
pub fn splits_and_merges(lineage: &[LineageEntry]) -> (Vec<String>, Vec<String>) {
    let mut takers: BTreeMap<&str, usize> = BTreeMap::new();
    let mut merged = Vec::new();
    for e in lineage {
        let mut givers = 0;
        for s in &e.from {
            if s.share_of_old >= SPLIT_MERGE_SHARE {
                *takers.entry(s.code.as_str()).or_default() += 1;
            }
            if s.share_of_new >= SPLIT_MERGE_SHARE {
                givers += 1;
            }
        }
        if givers >= 2 {
            merged.push(e.code.clone());
        }
    }
    let split = takers
        .into_iter()
        .filter(|&(_, n)| n >= 2)
        .map(|(c, _)| c.to_string())
        .collect();
    (split, merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutual_majority_keeps_the_code() {
        let mut f = Flows::default();
        // Old A (1000) splits 700/300; old B (800) goes whole into group 1 with A's 300.
        f.add(Some("A"), 0, 700);
        f.add(Some("A"), 1, 300);
        f.add(Some("B"), 1, 800);
        f.add(None, 2, 600);
        let codes = f.stable_codes(3, &|_, _| true);
        assert_eq!(codes, [Some("A".to_string()), Some("B".to_string()), None]);
        let lineage = f.lineage(&["A".into(), "B".into(), "N".into()]);
        let (split, merged) = splits_and_merges(&lineage);
        assert_eq!(split, ["A"]);
        assert_eq!(merged, ["B"]);
        assert_eq!(lineage[2].new_residents, 600);
    }

    #[test]
    fn an_exact_halving_gives_the_code_to_one_side_only() {
        let mut f = Flows::default();
        f.add(Some("A"), 0, 500);
        f.add(Some("A"), 1, 500);
        assert_eq!(f.stable_codes(2, &|_, _| true), [Some("A".to_string()), None]);
    }

    #[test]
    fn a_minority_on_either_side_issues_a_new_code() {
        let mut f = Flows::default();
        f.add(Some("A"), 0, 400);
        f.add(Some("A"), 1, 600);
        f.add(Some("B"), 0, 900);
        // Group 0 holds only 40% of A; group 1 holds 60% of A and all its residents came from A.
        assert_eq!(
            f.stable_codes(2, &|_, _| true),
            [Some("B".to_string()), Some("A".to_string())]
        );
    }
}
