//! The code book: every code a community has retired, so that none is ever issued again. Residents,
//! grid workers and other systems remember codes; a code that once meant one grid must never come
//! back meaning another. A published layer carries its book (see `io::grids`).

use super::CodeScheme;
use crate::grid::GridKind;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeBook {
    /// Retired codes (grids and micro-grids), by community code.
    pub retired: BTreeMap<String, BTreeSet<String>>,
}

impl CodeBook {
    pub fn is_empty(&self) -> bool {
        self.retired.values().all(BTreeSet::is_empty)
    }

    pub fn retire(&mut self, community: &str, code: &str) {
        self.retired
            .entry(community.to_string())
            .or_default()
            .insert(code.to_string());
    }

    pub fn is_retired(&self, community: &str, code: &str) -> bool {
        self.retired.get(community).is_some_and(|s| s.contains(code))
    }

    /// A new code for a grid of `kind` in `community`: one past the highest sequence ever issued
    /// there (in use or retired), so new codes read as new; when the range is used up, the lowest
    /// sequence never issued. `None` when every sequence has been issued.
    pub fn issue(
        &self,
        scheme: &CodeScheme,
        community: &str,
        kind: GridKind,
        in_use: &BTreeSet<String>,
    ) -> Option<String> {
        let range = scheme.range(kind);
        let issued: BTreeSet<u32> = in_use
            .iter()
            .chain(self.retired.get(community).into_iter().flatten())
            .filter_map(|c| scheme.parse(c).ok())
            .filter(|p| p.community == community && p.micro.is_none() && range.contains(p.sequence))
            .map(|p| p.sequence)
            .collect();
        let next = issued.last().map_or(range.first, |&s| s + 1);
        let seq = if range.contains(next) {
            Some(next)
        } else {
            (range.first..=range.last).find(|s| !issued.contains(s))
        };
        seq.map(|s| scheme.grid_code(community, s))
    }

    /// A new micro-grid code under `parent`, by the same rule.
    pub fn issue_micro(
        &self,
        scheme: &CodeScheme,
        community: &str,
        parent: &str,
        in_use: &BTreeSet<String>,
    ) -> Option<String> {
        let top = 10u32.pow(u32::from(scheme.micro_digits)) - 1;
        let issued: BTreeSet<u32> = in_use
            .iter()
            .chain(self.retired.get(community).into_iter().flatten())
            .filter(|c| c.len() == parent.len() + usize::from(scheme.micro_digits) && c.starts_with(parent))
            .filter_map(|c| c[parent.len()..].parse().ok())
            .collect();
        let next = issued.last().map_or(1, |&s| s + 1);
        let seq = if next <= top {
            Some(next)
        } else {
            (1..=top).find(|s| !issued.contains(s))
        };
        seq.map(|s| scheme.micro_code(parent, s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retired_codes_are_never_issued_again() {
        let s = CodeScheme::db11();
        let c = "110101001001";
        let mut book = CodeBook::default();
        let mut in_use: BTreeSet<String> = ["110101001001001", "110101001001002"].map(String::from).into();
        book.retire(c, "110101001001003");
        assert_eq!(book.issue(&s, c, GridKind::Basic, &in_use).unwrap(), "110101001001004");
        assert_eq!(
            book.issue(&s, c, GridKind::Exclusive, &in_use).unwrap(),
            "110101001001901"
        );
        // Past the end of the range, the gaps never issued are used, never a retired one.
        in_use.insert("110101001001899".into());
        assert_eq!(book.issue(&s, c, GridKind::Basic, &in_use).unwrap(), "110101001001004");
        assert_eq!(
            book.issue_micro(&s, c, "110101001001001", &in_use).unwrap(),
            "11010100100100101"
        );
        book.retire(c, "11010100100100101");
        assert_eq!(
            book.issue_micro(&s, c, "110101001001001", &in_use).unwrap(),
            "11010100100100102"
        );
    }
}
