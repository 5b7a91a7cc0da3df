//! Point → grid (and micro-grid), exact and fast: a uniform cell table over the layer's extent
//! lists the grids whose bounding box meets each cell, in code order; each grid is a
//! [`PreparedArea`]. The first grid in code order whose closed area holds the point is the answer,
//! which is the edge rule (see the module doc of [`crate::lookup`]).

use super::prepared::{Position, PreparedArea};
use crate::crs::Crs;
use crate::grid::{Grid, GridLevel};
use geo::{Coord, Rect};
use std::collections::HashMap;

/// Candidates aimed for per cell: the table has about this many cells per grid.
const CELLS_PER_AREA: usize = 4;
const MAX_CELLS: usize = 1 << 22;

/// Boxes of areas in a uniform table; each cell lists, in ascending order, the areas whose box
/// meets it.
#[derive(Debug, Clone)]
struct CellTable {
    origin: Coord<f64>,
    /// Cells per degree along x and y.
    scale: Coord<f64>,
    nx: usize,
    ny: usize,
    starts: Vec<u32>,
    items: Vec<u32>,
}

impl CellTable {
    fn new(boxes: &[Rect<f64>]) -> Self {
        let empty = Self {
            origin: Coord::zero(),
            scale: Coord::zero(),
            nx: 1,
            ny: 1,
            starts: vec![0, 0],
            items: vec![],
        };
        let Some(first) = boxes.first() else { return empty };
        let (mut min, mut max) = (first.min(), first.max());
        for b in boxes {
            min = Coord {
                x: min.x.min(b.min().x),
                y: min.y.min(b.min().y),
            };
            max = Coord {
                x: max.x.max(b.max().x),
                y: max.y.max(b.max().y),
            };
        }
        let (w, h) = ((max.x - min.x).max(1e-12), (max.y - min.y).max(1e-12));
        let cells = (boxes.len() * CELLS_PER_AREA).clamp(1, MAX_CELLS) as f64;
        // Square-ish cells in degrees; good enough at a city's extent.
        let side = (w * h / cells).sqrt();
        let nx = ((w / side).ceil() as usize).clamp(1, MAX_CELLS);
        let ny = ((h / side).ceil() as usize).clamp(1, MAX_CELLS / nx);
        let mut t = Self {
            origin: min,
            scale: Coord {
                x: nx as f64 / w,
                y: ny as f64 / h,
            },
            nx,
            ny,
            starts: vec![],
            items: vec![],
        };
        let mut counts = vec![0u32; nx * ny];
        for b in boxes {
            let ((x0, y0), (x1, y1)) = (t.cell(b.min()), t.cell(b.max()));
            for y in y0..=y1 {
                for c in &mut counts[y * nx + x0..=y * nx + x1] {
                    *c += 1;
                }
            }
        }
        let mut starts = Vec::with_capacity(nx * ny + 1);
        let mut total = 0u32;
        for c in &counts {
            starts.push(total);
            total += c;
        }
        starts.push(total);
        let mut fill = starts.clone();
        let mut items = vec![0u32; total as usize];
        // Boxes in ascending index order, so every cell's list is ascending too.
        for (i, b) in boxes.iter().enumerate() {
            let ((x0, y0), (x1, y1)) = (t.cell(b.min()), t.cell(b.max()));
            for y in y0..=y1 {
                for x in x0..=x1 {
                    let k = y * nx + x;
                    items[fill[k] as usize] = i as u32;
                    fill[k] += 1;
                }
            }
        }
        t.starts = starts;
        t.items = items;
        t
    }

    /// The cell of `c`, clamped to the table; monotone in both axes, so a box's cells include the
    /// cell of every point inside it.
    #[inline]
    fn cell(&self, c: Coord<f64>) -> (usize, usize) {
        let f = |v: f64, o: f64, s: f64, n: usize| {
            let i = ((v - o) * s).floor();
            if i <= 0.0 { 0 } else { (i as usize).min(n - 1) }
        };
        (
            f(c.x, self.origin.x, self.scale.x, self.nx),
            f(c.y, self.origin.y, self.scale.y, self.ny),
        )
    }

    #[inline]
    fn at(&self, c: Coord<f64>) -> &[u32] {
        let (x, y) = self.cell(c);
        let k = y * self.nx + x;
        &self.items[self.starts[k] as usize..self.starts[k + 1] as usize]
    }
}

/// Areas of one level, in code order, with their cell table.
#[derive(Debug, Clone)]
struct Level {
    /// Index into [`GridIndex::grids`] of each area, ascending (so ascending code).
    grid: Vec<u32>,
    areas: Vec<PreparedArea>,
    table: CellTable,
}

impl Level {
    fn new(grids: &[Grid], level: GridLevel) -> Self {
        let mut grid = Vec::new();
        let mut areas = Vec::new();
        for (i, g) in grids.iter().enumerate().filter(|(_, g)| g.level == level) {
            if let Some(a) = PreparedArea::new(&g.area) {
                grid.push(i as u32);
                areas.push(a);
            }
        }
        let boxes: Vec<Rect<f64>> = areas.iter().map(PreparedArea::bbox).collect();
        Self {
            grid,
            areas,
            table: CellTable::new(&boxes),
        }
    }

    /// The first area (lowest code) whose closed area holds `c` and that `accept`s it.
    #[inline]
    fn first(&self, c: Coord<f64>, accept: impl Fn(u32) -> bool) -> Option<u32> {
        self.table.at(c).iter().map(|&a| a as usize).find_map(|a| {
            let g = self.grid[a];
            (accept(g) && self.areas[a].position(c) != Position::Outside).then_some(g)
        })
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
        let top = Level::new(&grids, GridLevel::Grid);
        let micro = Level::new(&grids, GridLevel::Micro);
        Ok(Self {
            grids,
            by_code,
            parent,
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
        let g = self.top.first(c, |_| true)?;
        let micro = if self.micro.areas.is_empty() {
            None
        } else {
            self.micro.first(c, |m| self.parent[m as usize] == g)
        };
        Some(Located {
            grid: &self.grids[g as usize],
            micro: micro.map(|m| &self.grids[m as usize]),
        })
    }

    /// As [`GridIndex::locate`], for a point given in `crs`.
    pub fn locate_in(&self, c: Coord<f64>, crs: Crs) -> Option<Located<'_>> {
        self.locate(crs.to_wgs84(c))
    }

    /// Just the grid's code, the hot path of batch lookups and the benchmark.
    #[inline]
    pub fn locate_code(&self, c: Coord<f64>) -> Option<&str> {
        self.top
            .first(c, |_| true)
            .map(|g| self.grids[g as usize].code.as_str())
    }
}
