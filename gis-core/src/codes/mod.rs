//! Unified grid codes: the scheme ([`scheme`]), numbering in reading order, the checks `validate`
//! runs on any layer's codes, and the book of codes a community has ever issued ([`book`]).

pub mod book;
pub mod carry;
pub mod lineage;
pub mod scheme;

pub use book::CodeBook;
pub use scheme::{CodeError, CodeScheme, ParsedCode, SchemeError, Segment, SeqRange};

use crate::grid::{Grid, GridKind, GridLevel};
use geo::{BoundingRect, Centroid};
use serde::Serialize;
use std::collections::BTreeMap;

/// Indices of `grids` in reading order, the order the scheme numbers them: rows from north to
/// south, each row west to east. A grid starts a new row when its centre lies more than half a
/// typical grid's height south of the row's first grid.
pub fn reading_order(grids: &[&Grid]) -> Vec<usize> {
    let centre: Vec<[f64; 2]> = grids
        .iter()
        .map(|g| g.area.centroid().map_or([0.0, 0.0], |c| [c.x(), c.y()]))
        .collect();
    let mut heights: Vec<f64> = grids
        .iter()
        .filter_map(|g| g.area.bounding_rect())
        .map(|r| r.height())
        .collect();
    heights.sort_by(f64::total_cmp);
    let half_row = heights.get(heights.len() / 2).copied().unwrap_or(0.0) / 2.0;
    let mut by_north: Vec<usize> = (0..grids.len()).collect();
    by_north.sort_by(|&a, &b| {
        centre[b][1]
            .total_cmp(&centre[a][1])
            .then(centre[a][0].total_cmp(&centre[b][0]))
    });
    let mut out = Vec::with_capacity(grids.len());
    let mut row: Vec<usize> = Vec::new();
    for i in by_north {
        if let Some(&first) = row.first()
            && centre[first][1] - centre[i][1] > half_row
        {
            row.sort_by(|&a, &b| centre[a][0].total_cmp(&centre[b][0]));
            out.append(&mut row);
        }
        row.push(i);
    }
    row.sort_by(|&a, &b| centre[a][0].total_cmp(&centre[b][0]));
    out.append(&mut row);
    out
}

/// Gives every grid of one community its code in reading order: basic grids from the basic
/// range, exclusive grids from the exclusive range. Micro-grids are numbered by
/// [`number_micro_grids`].
pub fn number_grids(scheme: &CodeScheme, community: &str, grids: &mut [Grid]) {
    for kind in [GridKind::Basic, GridKind::Exclusive] {
        let of_kind: Vec<usize> = (0..grids.len())
            .filter(|&i| grids[i].kind == kind && grids[i].level == GridLevel::Grid)
            .collect();
        let refs: Vec<&Grid> = of_kind.iter().map(|&i| &grids[i]).collect();
        let order = reading_order(&refs);
        let first = scheme.range(kind).first;
        for (n, k) in order.into_iter().enumerate() {
            grids[of_kind[k]].code = scheme.grid_code(community, first + n as u32);
        }
    }
}

/// Numbers the micro-grids of one grid in reading order and points them at it.
pub fn number_micro_grids(scheme: &CodeScheme, parent: &str, micro: &mut [Grid]) {
    let refs: Vec<&Grid> = micro.iter().collect();
    let order = reading_order(&refs);
    for (n, k) in order.into_iter().enumerate() {
        micro[k].code = scheme.micro_code(parent, n as u32 + 1);
        micro[k].parent_code = Some(parent.to_string());
    }
}

/// What is wrong with a layer's codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "defect", rename_all = "snake_case")]
pub enum CodeDefect {
    /// The code does not fit the scheme.
    Malformed { code: String, reason: String },
    /// The same code on more than one feature.
    Duplicate { code: String, count: usize },
    /// The code's community part is not the grid's community.
    WrongCommunity { code: String, community_code: String },
    /// A basic grid with an exclusive sequence, or the other way round.
    WrongKind { code: String, grid_kind: GridKind },
    /// A micro-grid whose code does not extend its parent's, or whose parent is not in the layer.
    WrongParent { code: String, parent_code: Option<String> },
}

/// Not wrong, but worth a look: re-partitioned layers keep old codes out of order on purpose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "note", rename_all = "snake_case")]
pub enum CodeNote {
    /// The community's basic grids are not numbered in reading order.
    OutOfOrder {
        community_code: String,
        expected: Vec<String>,
    },
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct CodeCheck {
    pub defects: Vec<CodeDefect>,
    pub notes: Vec<CodeNote>,
}

/// Checks every code of a layer against the scheme.
pub fn check_codes(scheme: &CodeScheme, grids: &[Grid]) -> CodeCheck {
    let mut out = CodeCheck::default();
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for g in grids {
        *seen.entry(g.code.as_str()).or_default() += 1;
    }
    for (code, count) in &seen {
        if *count > 1 {
            out.defects.push(CodeDefect::Duplicate {
                code: code.to_string(),
                count: *count,
            });
        }
    }
    for g in grids {
        let parsed = match scheme.parse(&g.code) {
            Ok(p) => p,
            Err(e) => {
                out.defects.push(CodeDefect::Malformed {
                    code: g.code.clone(),
                    reason: e.to_string(),
                });
                continue;
            }
        };
        if parsed.community != g.community_code {
            out.defects.push(CodeDefect::WrongCommunity {
                code: g.code.clone(),
                community_code: g.community_code.clone(),
            });
        }
        match g.level {
            GridLevel::Grid => {
                if parsed.micro.is_some() {
                    out.defects.push(CodeDefect::Malformed {
                        code: g.code.clone(),
                        reason: "a grid has a micro-grid's code".into(),
                    });
                } else if parsed.kind != g.kind {
                    out.defects.push(CodeDefect::WrongKind {
                        code: g.code.clone(),
                        grid_kind: g.kind,
                    });
                }
            }
            GridLevel::Micro => {
                let fits = parsed.micro.is_some()
                    && g.parent_code.as_deref() == Some(scheme.parent_of(&g.code))
                    && seen.contains_key(scheme.parent_of(&g.code));
                if !fits {
                    out.defects.push(CodeDefect::WrongParent {
                        code: g.code.clone(),
                        parent_code: g.parent_code.clone(),
                    });
                }
            }
        }
    }
    // Numbering order, per community, basic grids only.
    let mut by_community: BTreeMap<&str, Vec<&Grid>> = BTreeMap::new();
    for g in grids
        .iter()
        .filter(|g| g.level == GridLevel::Grid && g.kind == GridKind::Basic)
    {
        by_community.entry(g.community_code.as_str()).or_default().push(g);
    }
    for (community, gs) in by_community {
        let order = reading_order(&gs);
        let in_reading_order: Vec<&str> = order.iter().map(|&i| gs[i].code.as_str()).collect();
        let mut sorted = in_reading_order.clone();
        sorted.sort_unstable();
        if in_reading_order != sorted {
            out.notes.push(CodeNote::OutOfOrder {
                community_code: community.to_string(),
                expected: in_reading_order.into_iter().map(String::from).collect(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{MultiPolygon, Rect};

    fn cell(code: &str, x: f64, y: f64) -> Grid {
        let r = Rect::new((x, y), (x + 1.0, y + 1.0)).to_polygon();
        Grid {
            code: code.into(),
            community_code: "110101001001".into(),
            kind: GridKind::Basic,
            level: GridLevel::Grid,
            parent_code: None,
            name: None,
            area: MultiPolygon(vec![r]),
            population: 0,
            households: 0,
            buildings: Vec::new(),
        }
    }

    #[test]
    fn reading_order_is_rows_north_to_south_each_west_to_east() {
        // Two rows of three, the northern row slightly uneven.
        let mut grids = vec![
            cell("", 2.0, 1.1),
            cell("", 0.0, 1.0),
            cell("", 1.0, 0.9),
            cell("", 0.0, 0.0),
            cell("", 2.0, 0.0),
            cell("", 1.0, -0.1),
        ];
        number_grids(&CodeScheme::db11(), "110101001001", &mut grids);
        let codes: Vec<&str> = grids.iter().map(|g| &g.code[12..]).collect();
        assert_eq!(codes, ["003", "001", "002", "004", "006", "005"]);
        assert!(check_codes(&CodeScheme::db11(), &grids).notes.is_empty());
    }

    #[test]
    fn code_defects_are_found() {
        let s = CodeScheme::db11();
        let mut grids = vec![
            cell("110101001001001", 0.0, 0.0),
            cell("110101001001001", 1.0, 0.0),
            cell("11010100100102", 2.0, 0.0),
        ];
        grids.push(Grid {
            kind: GridKind::Exclusive,
            ..cell("110101001001002", 3.0, 0.0)
        });
        grids.push(Grid {
            community_code: "110101001002".into(),
            ..cell("110101001001003", 4.0, 0.0)
        });
        let check = check_codes(&s, &grids);
        assert!(check.defects.contains(&CodeDefect::Duplicate {
            code: "110101001001001".into(),
            count: 2
        }));
        assert!(
            check
                .defects
                .iter()
                .any(|d| matches!(d, CodeDefect::Malformed { code, .. } if code == "11010100100102"))
        );
        assert!(
            check
                .defects
                .iter()
                .any(|d| matches!(d, CodeDefect::WrongKind { code, .. } if code == "110101001001002"))
        );
        assert!(
            check
                .defects
                .iter()
                .any(|d| matches!(d, CodeDefect::WrongCommunity { code, .. } if code == "110101001001003"))
        );
    }
}
