//! Point → grid (and micro-grid), exact and fast: each level's grids in classified cells
//! ([`super::cells`]). The first grid in code order whose closed area holds the point is the
//! answer, which is the edge rule (see the module doc of [`crate::lookup`]).

use super::cells::AreaCells;
use crate::crs::Crs;
use crate::grid::{Grid, GridLevel};
use geo::{Coord, MultiPolygon};
use std::collections::HashMap;

/// Areas of one level, in code order, in classified cells.
#[derive(Debug, Clone)]
struct Level {
    cells: AreaCells,
    /// Whether the level has any area.
    empty: bool,
}

impl Level {
    fn new(grids: &[Grid], level: GridLevel) -> Self {
        let areas: Vec<(u32, &MultiPolygon<f64>)> = grids
            .iter()
            .enumerate()
            .filter(|(_, g)| g.level == level)
            .map(|(i, g)| (i as u32, &g.area))
            .collect();
        Self {
            empty: areas.is_empty(),
            cells: AreaCells::new(&areas),
        }
    }

    /// The first grid (lowest code) whose closed area holds `c` and that `accept`s it.
    #[inline]
    fn first(&self, c: Coord<f64>, accept: impl Fn(u32) -> bool) -> Option<u32> {
        self.cells.first(c, accept)
    }
}

/// Grids and micro-grids of one layer, answering "which grid covers this point?".
#[derive(Debug, Clone)]
pub struct GridIndex {
    /// Sorted by code (byte order), codes unique.
    grids: Vec<Grid>,
    by_code: HashMap<String, u32>,
    /// For each micro-grid (by index in `grids`), its parent grid's index.
    parent: Vec<u32>,
    /// Every code, one after another, and where each grid's is in it: small enough to stay in
    /// cache, unlike the grids themselves.
    codes: String,
    code_spans: Vec<(u32, u32)>,
    top: Level,
    micro: Level,
}

/// The answer to a point lookup.
#[derive(Debug, Clone, Copy)]
pub struct Located<'a> {
    pub grid: &'a Grid,
    /// The micro-grid of `grid` covering the point, when the layer has micro-grids.
    pub micro: Option<&'a Grid>,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum IndexError {
    #[error("code {0} is used by more than one grid")]
    DuplicateCode(String),
}

impl GridIndex {
    /// Indexes a layer's grids (both levels). Codes must be unique: the edge rule orders by them.
    pub fn new(mut grids: Vec<Grid>) -> Result<Self, IndexError> {
        grids.sort_by(|a, b| a.code.as_bytes().cmp(b.code.as_bytes()));
        if let Some(w) = grids.windows(2).find(|w| w[0].code == w[1].code) {
            return Err(IndexError::DuplicateCode(w[0].code.clone()));
        }
        let by_code: HashMap<String, u32> = grids
            .iter()
            .enumerate()
            .map(|(i, g)| (g.code.clone(), i as u32))
            .collect();
        let parent = grids
            .iter()
            .map(|g| {
                g.parent_code
                    .as_ref()
                    .and_then(|p| by_code.get(p))
                    .copied()
                    .unwrap_or(u32::MAX)
            })
            .collect();
        let mut codes = String::new();
        let code_spans = grids
            .iter()
            .map(|g| {
                let at = codes.len() as u32;
                codes.push_str(&g.code);
                (at, g.code.len() as u32)
            })
            .collect();
        let top = Level::new(&grids, GridLevel::Grid);
        let micro = Level::new(&grids, GridLevel::Micro);
        Ok(Self {
            grids,
            by_code,
            parent,
            codes,
            code_spans,
            top,
            micro,
        })
    }

    /// Every grid and micro-grid, sorted by code.
    pub fn grids(&self) -> &[Grid] {
        &self.grids
    }

    pub fn get(&self, code: &str) -> Option<&Grid> {
        self.by_code.get(code).map(|&i| &self.grids[i as usize])
    }

    /// The grid covering `c` (WGS-84 longitude/latitude) by the edge rule, and its micro-grid.
    #[inline]
    pub fn locate(&self, c: Coord<f64>) -> Option<Located<'_>> {
        self.locate_ids(c).map(|(g, m)| self.located(g, m))
    }

    /// As [`GridIndex::locate`], as indexes into [`GridIndex::grids`]: what a cache of answers
    /// is keyed by.
    #[inline]
    pub fn locate_ids(&self, c: Coord<f64>) -> Option<(u32, Option<u32>)> {
        let g = self.top.first(c, |_| true)?;
        Some((g, self.micro_of(c, g)))
    }

    /// The micro-grid of grid `g` covering `c` (WGS-84), when the layer has micro-grids.
    #[inline]
    pub fn micro_of(&self, c: Coord<f64>, g: u32) -> Option<u32> {
        if self.micro.empty {
            None
        } else {
            self.micro.first(c, |m| self.parent[m as usize] == g)
        }
    }

    /// The grid and micro-grid of indexes `g` and `m` (as [`GridIndex::locate_ids`] gives them).
    pub fn located(&self, g: u32, m: Option<u32>) -> Located<'_> {
        Located {
            grid: &self.grids[g as usize],
            micro: m.map(|m| &self.grids[m as usize]),
        }
    }

    /// As [`GridIndex::locate`], for a point given in `crs`.
    pub fn locate_in(&self, c: Coord<f64>, crs: Crs) -> Option<Located<'_>> {
        self.locate(crs.to_wgs84(c))
    }

    /// Just the grid's code, the hot path of batch lookups and the benchmark.
    #[inline]
    pub fn locate_code(&self, c: Coord<f64>) -> Option<&str> {
        self.top.first(c, |_| true).map(|g| {
            let (at, len) = self.code_spans[g as usize];
            &self.codes[at as usize..(at + len) as usize]
        })
    }

    /// The grid (index into [`GridIndex::grids`]) covering each point, as [`GridIndex::locate_ids`]
    /// gives it without the micro-grid, in `out`: many points at once overlap their memory reads,
    /// which is what bounds one lookup at a time on a city (batch lookups, the benchmark).
    pub fn locate_grids(&self, points: &[Coord<f64>], out: &mut Vec<Option<u32>>) {
        self.top.cells.first_of_each(points, out);
    }

    /// The code of grid `g` (an index from [`GridIndex::locate_grids`]).
    pub fn code_of(&self, g: u32) -> &str {
        let (at, len) = self.code_spans[g as usize];
        &self.codes[at as usize..(at + len) as usize]
    }

    /// The top level's cells, how many of them answer without a point-in-polygon test, and the
    /// bytes of its table (for the benchmark's report).
    pub fn cell_stats(&self) -> (usize, usize, usize) {
        self.top.cells.stats()
    }
}
