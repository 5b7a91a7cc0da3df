//! Point → area in a couple of memory reads: a uniform table of small cells over a level's
//! extent, each cell classified once when the index is built.
//!
//! - A cell no area's boundary comes near has one answer for every point in it, found at build
//!   time: no area ([`NONE`]) or the one area covering it ([`SOLE`]).
//! - Any other cell lists, in code order, the areas whose boundary meets it (tested per point)
//!   and those covering it whole (no test).
//!
//! A tested area is a ray cast over that area's edges in the point's latitude stripe (tidwall/tg's
//! "y-stripes"), stripes aligned to the cell rows so the stripe is known from the cell lookup.
//! Each edge is first settled by comparing coordinates (TG's fail-fast: an edge wholly right of
//! the point crosses its ray, one wholly left does not); only an edge whose box holds the point
//! needs the robust orientation predicate. The answers are exactly those of geo's
//! `coordinate_position` (the edge rule, boundary included), which the tests check on random and
//! edge points, holes, multipolygons and overlapping areas.
//!
//! Whether a boundary "comes near" a cell is decided conservatively, on the cell grown by a
//! millionth of its size (far beyond the rounding of a point's cell), so a cell called clear
//! truly holds no boundary point.

use super::prepared::Position;
use geo::kernels::{Kernel, Orientation, RobustKernel};
use geo::{Coord, MultiPolygon};
use rayon::prelude::*;

/// No area covers any point of the cell.
const NONE: u32 = u32::MAX;
/// Cell value flag: the low bits are the one area covering the whole cell (and no other area
/// meets it). Without it, the value is the offset of the cell's list.
const SOLE: u32 = 1 << 31;
/// List entry flag: the area covers the whole cell.
const FULL: u32 = 1 << 31;
/// Latitude stripes per cell row, as a power of two: a point's row is its stripe shifted right,
/// exactly.
const STRIPE_SHIFT: u32 = 2;
const STRIPES_PER_ROW: usize = 1 << STRIPE_SHIFT;
/// Cells aimed for per boundary edge of the level: enough that most points fall in a clear cell.
const CELLS_PER_EDGE: usize = 2;
const MAX_CELLS: usize = 1 << 24;
/// Cells per side of a tile: a tile's cells fill one 64-byte cache line.
const TILE: usize = 4;

/// An edge with its lower end first (`[x0, y0, x1, y1]`, `y0 <= y1`): the crossing rule below
/// does not depend on a ring's direction.
type Edge = [f64; 4];

/// One entry of a cell's list: an area's id (with [`FULL`]) and where its stripes start.
#[derive(Debug, Clone, Copy)]
struct Entry {
    key: u32,
    /// Offset in `starts` of the area's stripe 0 (wrapping: the area's first stripe is seldom 0).
    base: u32,
}

/// Areas of one level (ids ascending, which is code order) in classified cells.
#[derive(Debug, Clone)]
pub(crate) struct AreaCells {
    /// The union of the areas' bounding boxes: no point outside it is in any area.
    min: Coord<f64>,
    max: Coord<f64>,
    /// Cells per unit along x, stripes per unit along y.
    scale_x: f64,
    scale_s: f64,
    nx: usize,
    stripes: usize,
    /// Per cell (row-major) while building: [`NONE`], [`SOLE`] | id, or the offset in `blocks`
    /// of the cell's block. Emptied once `tiles` and `tile_cells` hold the same values.
    cells: Vec<u32>,
    /// The cells in tiles of [`TILE`] × [`TILE`], row-major: a tile whose cells all hold the same
    /// [`NONE`] or [`SOLE`] value holds that value (this table is small enough to stay in the
    /// core's cache); any other holds the index of its cells in `tile_cells` (one cache line).
    tiles: Vec<u32>,
    tiles_x: usize,
    tile_cells: Vec<u32>,
    /// Cells, and cells holding a clear answer, for reports.
    counted: (usize, usize),
    /// A cell's block, in one run of memory: a header unit (`[n, ..]`), `n` entry units
    /// (`[id | FULL, stripe offsets..]`, see [`entry_unit`]) and the edges the entries' stripes
    /// need, one unit each. A point in a listed cell reads its cell and this block, nothing else.
    blocks: Vec<Unit>,
    /// While building: area stripe `i` holds `edges[starts[i]..starts[i + 1]]`, its edges whose
    /// y-range meets it. Emptied once the blocks are made.
    starts: Vec<u32>,
    edges: Vec<Edge>,
}

/// 32 bytes: a block's header, an entry, or an edge (`f64` bits).
type Unit = [u64; 4];

// An entry unit holds five stripe offsets.
const _: () = assert!(STRIPES_PER_ROW == 4);

/// An entry unit: the area's id (with [`FULL`]) and, for each stripe of the cell's row, where
/// its edges start in the block (the last offset is where the last stripe's edges end).
fn entry_unit(key: u32, offsets: [u32; STRIPES_PER_ROW + 1]) -> Unit {
    [
        u64::from(key),
        u64::from(offsets[0]) | u64::from(offsets[1]) << 32,
        u64::from(offsets[2]) | u64::from(offsets[3]) << 32,
        u64::from(offsets[4]),
    ]
}

/// The offsets of stripe `sub`'s edges in an entry unit: `[from, to)`.
#[inline]
fn stripe_range(u: &Unit, sub: usize) -> (usize, usize) {
    let o = |i: usize| (u[1 + i / 2] >> (32 * (i % 2))) as u32 as usize;
    (o(sub), o(sub + 1))
}

/// One area while building: its id, edges and window of cells.
struct Prepared {
    id: u32,
    edges: Vec<Edge>,
    /// Cells of the area's bounding box (grown by the margin): columns and rows, inclusive.
    cols: (usize, usize),
    rows: (usize, usize),
}

impl AreaCells {
    /// Indexes `areas`, given in ascending id order; an area without an edge, or with a
    /// coordinate that is not finite, is left out (it covers no point).
    pub(crate) fn new(areas: &[(u32, &MultiPolygon<f64>)]) -> Self {
        let mut prepared: Vec<(u32, Vec<Edge>)> = areas
            .par_iter()
            .filter_map(|&(id, area)| edges_of(area).map(|e| (id, e)))
            .collect();
        prepared.sort_by_key(|p| p.0);
        let mut this = Self {
            min: Coord { x: 1.0, y: 1.0 },
            max: Coord { x: 0.0, y: 0.0 },
            scale_x: 0.0,
            scale_s: 0.0,
            nx: 1,
            stripes: STRIPES_PER_ROW,
            cells: Vec::new(),
            tiles: vec![NONE],
            tiles_x: 1,
            tile_cells: Vec::new(),
            counted: (0, 0),
            blocks: Vec::new(),
            starts: vec![0],
            edges: Vec::new(),
        };
        let Some(first) = prepared.first() else { return this };
        let (mut min, mut max) = (
            Coord {
                x: first.1[0][0],
                y: first.1[0][1],
            },
            Coord {
                x: first.1[0][0],
                y: first.1[0][1],
            },
        );
        let mut total = 0;
        for (_, edges) in &prepared {
            total += edges.len();
            for e in edges {
                min.x = min.x.min(e[0]).min(e[2]);
                max.x = max.x.max(e[0]).max(e[2]);
                min.y = min.y.min(e[1]);
                max.y = max.y.max(e[3]);
            }
        }
        let (w, h) = ((max.x - min.x).max(1e-12), (max.y - min.y).max(1e-12));
        let cells = (total * CELLS_PER_EDGE).clamp(1, MAX_CELLS) as f64;
        let side = (w * h / cells).sqrt();
        let nx = ((w / side).ceil() as usize).clamp(1, MAX_CELLS);
        let ny = ((h / side).ceil() as usize).clamp(1, MAX_CELLS / nx);
        this.min = min;
        this.max = max;
        this.nx = nx;
        this.stripes = ny * STRIPES_PER_ROW;
        this.scale_x = nx as f64 / w;
        this.scale_s = this.stripes as f64 / h;
        // The margin a cell is grown by: a millionth of a cell, and more than the rounding of
        // coordinates of this magnitude.
        let magnitude = [min.x, min.y, max.x, max.y].iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let margin = 1e-6 * (w / nx as f64).min(h / ny as f64) + magnitude * 1e-13;

        // Stripes of every area, one area after another.
        let areas: Vec<Prepared> = prepared
            .into_iter()
            .map(|(id, edges)| {
                let (mut lo, mut hi) = (
                    Coord {
                        x: f64::INFINITY,
                        y: f64::INFINITY,
                    },
                    Coord {
                        x: f64::NEG_INFINITY,
                        y: f64::NEG_INFINITY,
                    },
                );
                for e in &edges {
                    lo.x = lo.x.min(e[0]).min(e[2]);
                    hi.x = hi.x.max(e[0]).max(e[2]);
                    lo.y = lo.y.min(e[1]);
                    hi.y = hi.y.max(e[3]);
                }
                Prepared {
                    id,
                    cols: (this.col(lo.x - margin), this.col(hi.x + margin)),
                    rows: (this.row(lo.y - margin), this.row(hi.y + margin)),
                    edges,
                }
            })
            .collect();
        let mut bases = Vec::with_capacity(areas.len());
        let mut starts: Vec<u32> = Vec::new();
        let mut edges: Vec<Edge> = Vec::new();
        for a in &areas {
            let first = a.rows.0 * STRIPES_PER_ROW;
            let n = (a.rows.1 + 1) * STRIPES_PER_ROW - first;
            bases.push((starts.len() as u32).wrapping_sub(first as u32));
            let mut counts = vec![0u32; n];
            for e in &a.edges {
                for c in &mut counts[this.stripe(e[1]) - first..=this.stripe(e[3]) - first] {
                    *c += 1;
                }
            }
            let mut fill = Vec::with_capacity(n);
            let mut at = edges.len() as u32;
            for c in &counts {
                starts.push(at);
                fill.push(at);
                at += c;
            }
            edges.resize(at as usize, [0.0; 4]);
            for e in &a.edges {
                for s in this.stripe(e[1]) - first..=this.stripe(e[3]) - first {
                    edges[fill[s] as usize] = *e;
                    fill[s] += 1;
                }
            }
        }
        starts.push(edges.len() as u32);
        this.starts = starts;
        this.edges = edges;

        // Each area's cells: (cell, id | FULL) for cells it covers whole, (cell, id) for cells
        // its boundary meets.
        let per_area: Vec<Vec<(u32, u32)>> = areas
            .par_iter()
            .zip(&bases)
            .map(|(a, &base)| this.classify(a, base, margin))
            .collect();
        let ncells = nx * ny;
        let mut counts = vec![0u32; ncells];
        for list in &per_area {
            for &(cell, _) in list {
                counts[cell as usize] += 1;
            }
        }
        let mut cells = vec![NONE; ncells];
        let mut lists: Vec<Entry> = Vec::new();
        let mut fill = vec![0u32; ncells];
        for (k, &n) in counts.iter().enumerate() {
            if n > 1 {
                cells[k] = lists.len() as u32;
                lists.push(Entry { key: n, base: 0 });
                fill[k] = lists.len() as u32;
                lists.resize(lists.len() + n as usize, Entry { key: 0, base: 0 });
            }
        }
        // Areas in ascending id order, so every list is in code order.
        for (list, &base) in per_area.iter().zip(&bases) {
            for &(cell, key) in list {
                let k = cell as usize;
                if counts[k] == 1 {
                    // One area meets the cell: covering it whole, it is the answer; else a list.
                    if key & FULL != 0 {
                        cells[k] = SOLE | (key & !FULL);
                    } else {
                        cells[k] = lists.len() as u32;
                        lists.push(Entry { key: 1, base: 0 });
                        lists.push(Entry { key, base });
                    }
                } else {
                    lists[fill[k] as usize] = Entry { key, base };
                    fill[k] += 1;
                }
            }
        }
        this.cells = cells;
        this.blocks = this.blocks(&lists, margin);
        this.starts = Vec::new();
        this.edges = Vec::new();
        this.tile(ny);
        this
    }

    /// Moves `cells` into `tiles` and `tile_cells`.
    fn tile(&mut self, ny: usize) {
        let clear = |v: u32| v == NONE || v & SOLE != 0;
        self.counted = (self.cells.len(), self.cells.iter().filter(|&&v| clear(v)).count());
        let (tx, ty) = (self.nx.div_ceil(TILE), ny.div_ceil(TILE));
        let mut tiles = vec![NONE; tx * ty];
        let mut tile_cells = Vec::new();
        for (t, tile) in tiles.iter_mut().enumerate() {
            let (r0, c0) = ((t / tx) * TILE, (t % tx) * TILE);
            let mut values = [NONE; TILE * TILE];
            for (i, v) in values.iter_mut().enumerate() {
                let (r, c) = (r0 + i / TILE, c0 + i % TILE);
                // Cells past the table's edge are never looked up: any value will do.
                *v = if r < ny && c < self.nx {
                    self.cells[r * self.nx + c]
                } else {
                    self.cells[r.min(ny - 1) * self.nx + c.min(self.nx - 1)]
                };
            }
            if clear(values[0]) && values.iter().all(|&v| v == values[0]) {
                *tile = values[0];
            } else {
                *tile = (tile_cells.len() / (TILE * TILE)) as u32;
                tile_cells.extend_from_slice(&values);
            }
        }
        self.tiles = tiles;
        self.tiles_x = tx;
        self.tile_cells = tile_cells;
        self.cells = Vec::new();
    }

    /// Every listed cell's block: its entries, and for each tested area the edges of its
    /// stripes in the cell's row that can cross a ray from a point of the cell (those not wholly
    /// left of the cell).
    fn blocks(&mut self, lists: &[Entry], margin: f64) -> Vec<Unit> {
        let mut blocks: Vec<Unit> = Vec::new();
        for k in 0..self.cells.len() {
            let v = self.cells[k];
            if v == NONE || v & SOLE != 0 {
                continue;
            }
            let (r, c) = (k / self.nx, k % self.nx);
            let left = self.min.x + c as f64 / self.scale_x - margin;
            let at = v as usize;
            let n = lists[at].key as usize;
            let start = blocks.len();
            self.cells[k] = start as u32;
            blocks.push([n as u64, 0, 0, 0]);
            blocks.resize(start + 1 + n, [0; 4]);
            for (i, e) in lists[at + 1..at + 1 + n].iter().enumerate() {
                let mut offsets = [0u32; STRIPES_PER_ROW + 1];
                offsets[0] = (blocks.len() - start) as u32;
                for sub in 0..STRIPES_PER_ROW {
                    if e.key & FULL == 0 {
                        let s = e.base.wrapping_add((r * STRIPES_PER_ROW + sub) as u32) as usize;
                        for edge in &self.edges[self.starts[s] as usize..self.starts[s + 1] as usize] {
                            if edge[0].max(edge[2]) >= left {
                                blocks.push(edge.map(f64::to_bits));
                            }
                        }
                    }
                    offsets[sub + 1] = (blocks.len() - start) as u32;
                }
                blocks[start + 1 + i] = entry_unit(e.key, offsets);
            }
        }
        blocks
    }

    /// The cells `a` covers whole (flagged [`FULL`]) or whose boundary it meets.
    fn classify(&self, a: &Prepared, base: u32, margin: f64) -> Vec<(u32, u32)> {
        let (c0, c1) = a.cols;
        let (r0, r1) = a.rows;
        let w = c1 - c0 + 1;
        let mut touched = vec![false; w * (r1 - r0 + 1)];
        for e in &a.edges {
            let (x0, x1) = (e[0].min(e[2]), e[0].max(e[2]));
            for r in self.row(e[1] - margin).max(r0)..=self.row(e[3] + margin).min(r1) {
                for c in self.col(x0 - margin).max(c0)..=self.col(x1 + margin).min(c1) {
                    let t = &mut touched[(r - r0) * w + (c - c0)];
                    if !*t && self.meets(e, c, r, margin) {
                        *t = true;
                    }
                }
            }
        }
        let mut out = Vec::new();
        for r in r0..=r1 {
            let row = &touched[(r - r0) * w..(r - r0 + 1) * w];
            let mut c = 0;
            while c < w {
                let cell = (r * self.nx + c0 + c) as u32;
                if row[c] {
                    out.push((cell, a.id));
                    c += 1;
                    continue;
                }
                // A run of clear cells is one connected set no edge of `a` meets: all in or all
                // out, as its first cell's centre is.
                let end = row[c..].iter().position(|&t| t).map_or(w, |n| c + n);
                let centre = self.centre(c0 + c, r);
                match self.position(base, self.stripe(centre.y), centre) {
                    Position::Inside => out.extend((c..end).map(|i| ((r * self.nx + c0 + i) as u32, a.id | FULL))),
                    Position::Outside => {}
                    // Cannot happen for a clear cell; testing every point is always right.
                    Position::Boundary => out.extend((c..end).map(|i| ((r * self.nx + c0 + i) as u32, a.id))),
                }
                c = end;
            }
        }
        out
    }

    /// The column of `x`, clamped; monotone in `x`.
    #[inline]
    fn col(&self, x: f64) -> usize {
        let i = ((x - self.min.x) * self.scale_x).floor();
        if i <= 0.0 { 0 } else { (i as usize).min(self.nx - 1) }
    }

    /// The stripe of `y`, clamped; monotone in `y`. Its row is `stripe >> STRIPE_SHIFT` (the
    /// scale is a whole number of stripes per row, a power of two, so rows split exactly).
    #[inline]
    fn stripe(&self, y: f64) -> usize {
        let i = ((y - self.min.y) * self.scale_s).floor();
        if i <= 0.0 {
            0
        } else {
            (i as usize).min(self.stripes - 1)
        }
    }

    fn row(&self, y: f64) -> usize {
        self.stripe(y) >> STRIPE_SHIFT
    }

    fn centre(&self, c: usize, r: usize) -> Coord<f64> {
        Coord {
            x: self.min.x + (c as f64 + 0.5) / self.scale_x,
            y: self.min.y + ((r * STRIPES_PER_ROW) as f64 + STRIPES_PER_ROW as f64 / 2.0) / self.scale_s,
        }
    }

    /// Whether edge `e` may meet cell (`c`, `r`) grown by `margin`; never false when it does.
    fn meets(&self, e: &Edge, c: usize, r: usize, margin: f64) -> bool {
        let x0 = self.min.x + c as f64 / self.scale_x - margin;
        let x1 = self.min.x + (c + 1) as f64 / self.scale_x + margin;
        let y0 = self.min.y + (r * STRIPES_PER_ROW) as f64 / self.scale_s - margin;
        let y1 = self.min.y + ((r + 1) * STRIPES_PER_ROW) as f64 / self.scale_s + margin;
        if e[0].max(e[2]) < x0 || e[0].min(e[2]) > x1 || e[3] < y0 || e[1] > y1 {
            return false;
        }
        // The box of the edge meets the cell; the edge misses it only if all four corners lie
        // clearly on one side of its line (the margin dwarfs the rounding of these products).
        let (dx, dy) = (e[2] - e[0], e[3] - e[1]);
        let side = |x: f64, y: f64| dx * (y - e[1]) - dy * (x - e[0]);
        let s = [side(x0, y0), side(x1, y0), side(x0, y1), side(x1, y1)];
        !(s.iter().all(|&v| v > 0.0) || s.iter().all(|&v| v < 0.0))
    }

    /// Where `c` lies relative to the area whose stripes start at `base`; `stripe` is `c`'s.
    #[inline]
    fn position(&self, base: u32, stripe: usize, c: Coord<f64>) -> Position {
        let s = base.wrapping_add(stripe as u32) as usize;
        let (from, to) = (self.starts[s] as usize, self.starts[s + 1] as usize);
        ray(&self.edges[from..to], c)
    }

    /// The first area in id order whose closed area holds `c` and that `accept`s it.
    #[inline]
    pub(crate) fn first(&self, c: Coord<f64>, accept: impl Fn(u32) -> bool) -> Option<u32> {
        let (tile, stripe, col) = self.tile_of(c)?;
        let mut v = self.tiles[tile];
        if v != NONE && v & SOLE == 0 {
            v = self.tile_cells[self.cell_of(v, stripe, col)];
        }
        self.resolve(v, stripe, c, accept)
    }

    /// The first area holding each point, every area accepted (the top level's question), in
    /// `out` (cleared first). One lookup at a time waits on memory: each of its two or three
    /// dependent reads (tile, cell, block) misses the cache on a city (BENCHMARKS.md, "classified
    /// cells"). Here the points go through in groups, each read of a group started for every point
    /// (a prefetch) before any point needs it, so the misses overlap instead of following one
    /// another. The answers are [`AreaCells::first`]'s, point for point.
    pub(crate) fn first_of_each(&self, points: &[Coord<f64>], out: &mut Vec<Option<u32>>) {
        const LANES: usize = 16;
        out.clear();
        out.reserve(points.len());
        for group in points.chunks(LANES) {
            let mut at = [(usize::MAX, 0usize, 0usize); LANES];
            for (a, &c) in at.iter_mut().zip(group) {
                if let Some(t) = self.tile_of(c) {
                    prefetch(&self.tiles[t.0]);
                    *a = t;
                }
            }
            let mut v = [NONE; LANES];
            let mut cell = [usize::MAX; LANES];
            for i in 0..group.len() {
                let (tile, stripe, col) = at[i];
                if tile == usize::MAX {
                    continue;
                }
                v[i] = self.tiles[tile];
                if v[i] != NONE && v[i] & SOLE == 0 {
                    cell[i] = self.cell_of(v[i], stripe, col);
                    prefetch(&self.tile_cells[cell[i]]);
                }
            }
            for i in 0..group.len() {
                if cell[i] != usize::MAX {
                    v[i] = self.tile_cells[cell[i]];
                }
                if v[i] != NONE && v[i] & SOLE == 0 {
                    // The block's header and first entries, and the line after them.
                    let b = v[i] as usize;
                    prefetch(&self.blocks[b]);
                    if let Some(next) = self.blocks.get(b + 2) {
                        prefetch(next);
                    }
                }
            }
            for (i, &c) in group.iter().enumerate() {
                out.push(self.resolve(v[i], at[i].1, c, |_| true));
            }
        }
    }

    /// The tile of `c` in `tiles`, its stripe and its column; `None` outside every area's box.
    #[inline]
    fn tile_of(&self, c: Coord<f64>) -> Option<(usize, usize, usize)> {
        // NaN fails every comparison, so it is in no area here too.
        if !(c.x >= self.min.x && c.x <= self.max.x && c.y >= self.min.y && c.y <= self.max.y) {
            return None;
        }
        let stripe = self.stripe(c.y);
        let (r, col) = (stripe >> STRIPE_SHIFT, self.col(c.x));
        Some(((r / TILE) * self.tiles_x + col / TILE, stripe, col))
    }

    /// Where the cell of (`stripe`, `col`) is in `tile_cells`, its tile's value being `tile`.
    #[inline]
    fn cell_of(&self, tile: u32, stripe: usize, col: usize) -> usize {
        let r = stripe >> STRIPE_SHIFT;
        tile as usize * TILE * TILE + (r % TILE) * TILE + col % TILE
    }

    /// The answer for `c` from its cell's value `v` ([`NONE`], [`SOLE`] | id, or a block).
    #[inline]
    fn resolve(&self, v: u32, stripe: usize, c: Coord<f64>, accept: impl Fn(u32) -> bool) -> Option<u32> {
        if v == NONE {
            return None;
        }
        if v & SOLE != 0 {
            let id = v & !SOLE;
            return accept(id).then_some(id);
        }
        let block = &self.blocks[v as usize..];
        let n = block[0][0] as usize;
        let sub = stripe & (STRIPES_PER_ROW - 1);
        block[1..=n].iter().find_map(|u| {
            let key = u[0] as u32;
            let id = key & !FULL;
            if !accept(id) {
                return None;
            }
            if key & FULL != 0 {
                return Some(id);
            }
            let (from, to) = stripe_range(u, sub);
            (ray(&block[from..to], c) != Position::Outside).then_some(id)
        })
    }

    /// Cells in the table, how many hold a clear answer (none or one area), and the bytes of
    /// cells and blocks, for reports.
    pub(crate) fn stats(&self) -> (usize, usize, usize) {
        let bytes = (self.tiles.len() + self.tile_cells.len()) * 4 + self.blocks.len() * 32;
        (self.counted.0, self.counted.1, bytes)
    }
}

/// Asks the core to bring `value`'s cache line in, without waiting for it: a hint that changes no
/// result.
#[inline(always)]
fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch reads nothing into the program and cannot fault; the address is a live
    // reference's.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>((value as *const T).cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

/// Where `c` lies relative to an area, given every edge of it that can cross the ray going
/// right from `c` (and maybe others): an even-odd ray cast, boundary first.
#[inline]
fn ray<E: EdgeBits>(edges: &[E], c: Coord<f64>) -> Position {
    let mut inside = false;
    for e in edges {
        let [x0, y0, x1, y1] = e.coords();
        if c.y < y0 || c.y > y1 {
            continue;
        }
        // The ray crosses the edge when `c.y` is in [y0, y1) and the edge passes strictly right
        // of `c` (geo's half-open rule, in either direction).
        let (xmin, xmax) = if x0 <= x1 { (x0, x1) } else { (x1, x0) };
        if c.x < xmin {
            inside ^= c.y < y1;
            continue;
        }
        if c.x > xmax {
            continue;
        }
        match RobustKernel::orient2d(Coord { x: x0, y: y0 }, Coord { x: x1, y: y1 }, c) {
            Orientation::CounterClockwise => inside ^= c.y < y1,
            // On the segment: its box holds `c`.
            Orientation::Collinear => return Position::Boundary,
            Orientation::Clockwise => {}
        }
    }
    if inside { Position::Inside } else { Position::Outside }
}

/// An edge as stored: `f64`s while building, their bits in a block.
trait EdgeBits {
    fn coords(&self) -> [f64; 4];
}

impl EdgeBits for Edge {
    #[inline]
    fn coords(&self) -> [f64; 4] {
        *self
    }
}

impl EdgeBits for Unit {
    #[inline]
    fn coords(&self) -> [f64; 4] {
        self.map(f64::from_bits)
    }
}

/// The area's edges, lower end first, without zero-length ones (they decide nothing their
/// neighbours do not); `None` without an edge or with a coordinate that is not finite.
fn edges_of(area: &MultiPolygon<f64>) -> Option<Vec<Edge>> {
    let mut out = Vec::new();
    for p in &area.0 {
        for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
            for l in ring.lines().filter(|l| l.start != l.end) {
                let (a, b) = if l.start.y <= l.end.y {
                    (l.start, l.end)
                } else {
                    (l.end, l.start)
                };
                if ![a.x, a.y, b.x, b.y].iter().all(|v| v.is_finite()) {
                    return None;
                }
                out.push([a.x, a.y, b.x, b.y]);
            }
        }
    }
    (!out.is_empty()).then_some(out)
}
