//! A tessellation of one community owned by atoms (a building, a group of population points, an
//! exclusive unit): every point of the community belongs to exactly one atom, and the borders
//! between atoms run through the open space between buildings, never through a building.
//!
//! How: a constrained Delaunay triangulation whose vertices are the community boundary, every
//! building outline (densified) and every population point, with the outlines as constraints so
//! no triangle crosses a wall. Each triangle is split among the atoms owning its corners at edge
//! midpoints (and its centroid when three atoms meet) — a median-dual tessellation. Points are
//! named symbolically (vertex, edge midpoint, face centroid), so two neighbouring pieces share
//! exactly the same points and unions are exact: borders cancel by name, not by float compare.
//!
//! Along the community line the tessellation splits only at the line's own vertices, never at
//! new points, so a neighbouring community sees the very same vertices on its side of the line.
//!
//! The phases, one file each: [`build`] (the triangulation, its vertices and constraints),
//! [`ownership`] (which faces are inside, who owns each corner, the pieces each atom owns and
//! what they measure) and [`assembly`] (the union of a group's pieces as polygons).

mod assembly;
mod build;
mod ownership;

use geo::{Coord, Polygon};
use spade::{ConstrainedDelaunayTriangulation, Point2};

pub(crate) type AtomIx = u32;
const NO_OWNER: AtomIx = AtomIx::MAX;

/// Spacing of points added along the community line, so open space along it is shared out
/// between nearby atoms instead of one atom taking a whole long edge.
pub(crate) const BOUNDARY_SPACING_M: f64 = 15.0;

/// What atoms own: polygons (footprints, unit slices, exclusive areas) whose inside is wholly the
/// atom's, and points (population points). Coordinates are lon/lat.
#[derive(Default)]
pub(crate) struct Claims {
    pub polygons: Vec<(AtomIx, Polygon<f64>)>,
    pub points: Vec<(AtomIx, Coord<f64>)>,
}

/// Part of an atom's cell cut off from the rest of it (points of one H3 cell on both sides of a
/// building, a piece of open space beyond water): it becomes an atom of its own.
#[derive(Debug, Clone)]
pub(crate) struct Split {
    pub original: AtomIx,
    pub new: AtomIx,
    /// Indexes into `Claims::points` of the points that moved with it.
    pub points: Vec<usize>,
}

/// A point of the tessellation, named by what defines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Pt {
    Vertex(u32),
    /// The midpoint of an undirected edge.
    Mid(u32),
    /// The centroid of a face.
    Centroid(u32),
}

impl Pt {
    /// Indexes below this fit a [`Pt::code`]; a community a thousand times larger than a city
    /// would not fit in memory anyway.
    const CODE_LIMIT: usize = 1 << 30;

    /// The point as one number ordered as `Pt` is (kind, then index), for compact sort keys.
    fn code(self) -> u32 {
        match self {
            Pt::Vertex(i) => i,
            Pt::Mid(i) => 1 << 30 | i,
            Pt::Centroid(i) => 2 << 30 | i,
        }
    }

    fn of_code(code: u32) -> Pt {
        let i = code & (Pt::CODE_LIMIT as u32 - 1);
        match code >> 30 {
            0 => Pt::Vertex(i),
            1 => Pt::Mid(i),
            _ => Pt::Centroid(i),
        }
    }
}

/// The most points of a piece: a triangle's three corners and three edge splits.
const PIECE_POINTS: usize = 6;

/// A convex-ish part of one triangle owned by one atom; the ring is counter-clockwise, open.
/// Held inline: a city has millions of pieces, each of at most six points.
pub(crate) struct Piece {
    pub owner: AtomIx,
    len: u8,
    points: [Pt; PIECE_POINTS],
}

impl Piece {
    fn new(owner: AtomIx, ring: &[Pt]) -> Piece {
        let mut points = [Pt::Vertex(0); PIECE_POINTS];
        points[..ring.len()].copy_from_slice(ring);
        Piece {
            owner,
            len: ring.len() as u8,
            points,
        }
    }

    pub fn ring(&self) -> &[Pt] {
        &self.points[..self.len as usize]
    }
}

/// One edge of one piece, keyed by the segment it runs along. The table of every piece's sides,
/// sorted, puts the pieces sharing a segment next to each other: a cell's inner borders, the
/// borders between atoms and a group's outline are read from it without hashing, and always in
/// the same order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Side {
    /// The segment's ends, lower first, as [`Pt::code`]s.
    segment: u64,
    piece: u32,
    /// Position of the side in the piece's ring, times two, plus one when the ring runs from the
    /// higher end to the lower.
    at: u32,
}

impl Side {
    fn ends(&self) -> (Pt, Pt) {
        (
            Pt::of_code((self.segment >> 32) as u32),
            Pt::of_code(self.segment as u32),
        )
    }

    /// The side as the piece's ring runs along it.
    fn directed(&self) -> (Pt, Pt) {
        let (lo, hi) = self.ends();
        if self.at & 1 == 1 { (hi, lo) } else { (lo, hi) }
    }
}

/// Sorted sides of all pieces: see [`Side`]. `points` counts the tessellation's vertices,
/// edges and faces, the points a side can end at.
fn side_table(pieces: &[Piece], points: [usize; 3]) -> Vec<Side> {
    let [vertices, edges, _] = points;
    // Sides are put in order by their lower end first, a bucket per point (counting sort),
    // then each bucket, of a few sides, by the rest: the order of a full sort, in linear time.
    let bucket = |p: Pt| match p {
        Pt::Vertex(i) => i as usize,
        Pt::Mid(i) => vertices + i as usize,
        Pt::Centroid(i) => vertices + edges + i as usize,
    };
    let mut starts = vec![0u32; points.iter().sum::<usize>() + 1];
    let mut count = 0usize;
    for piece in pieces {
        let ring = piece.ring();
        for k in 0..ring.len() {
            let (p, q) = (ring[k], ring[(k + 1) % ring.len()]);
            starts[bucket(p.min(q)) + 1] += 1;
            count += 1;
        }
    }
    for b in 1..starts.len() {
        starts[b] += starts[b - 1];
    }
    let mut sides = vec![
        Side {
            segment: 0,
            piece: 0,
            at: 0
        };
        count
    ];
    let mut next = starts.clone();
    for (i, piece) in pieces.iter().enumerate() {
        let ring = piece.ring();
        for k in 0..ring.len() {
            let (p, q) = (ring[k], ring[(k + 1) % ring.len()]);
            let (lo, hi, reversed) = if p < q { (p, q, 0) } else { (q, p, 1) };
            let slot = &mut next[bucket(lo)];
            sides[*slot as usize] = Side {
                segment: u64::from(lo.code()) << 32 | u64::from(hi.code()),
                piece: i as u32,
                at: (k as u32) << 1 | reversed,
            };
            *slot += 1;
        }
    }
    for b in starts.windows(2) {
        sides[b[0] as usize..b[1] as usize].sort_unstable();
    }
    sides
}

/// The sides along each segment, segment by segment.
fn by_segment(sides: &[Side]) -> impl Iterator<Item = &[Side]> {
    sides.chunk_by(|a, b| a.segment == b.segment)
}

/// Two atoms sharing a border of positive length.
#[derive(Debug, Clone)]
pub(crate) struct Adjacency {
    pub a: AtomIx,
    pub b: AtomIx,
    pub length_m: f64,
    /// The part of the border lying along a road.
    pub road_m: f64,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct AtomShape {
    pub area_m2: f64,
    /// Border on the community line (or a hole in the community).
    pub outer_m: f64,
    pub centroid: [f64; 2],
}

/// Something the tessellation could not honour, in words.
#[derive(Debug, Clone)]
pub(crate) enum Note {
    /// A claim polygon crosses the community line or another outline: its walls were not kept.
    OutlineDropped { atom: AtomIx },
    /// Part of the community holds no atom; it went to the nearest one.
    Detached { atom: AtomIx },
}

pub(crate) struct Tessellation {
    vertex_lonlat: Vec<Coord<f64>>,
    vertex_local: Vec<[f64; 2]>,
    edge_ends: Vec<[u32; 2]>,
    face_corners: Vec<[u32; 3]>,
    pub pieces: Vec<Piece>,
    sides: Vec<Side>,
    pub atoms: Vec<AtomShape>,
    pub adjacency: Vec<Adjacency>,
    pub notes: Vec<Note>,
    pub splits: Vec<Split>,
}

type Cdt = ConstrainedDelaunayTriangulation<Point2<f64>>;

impl Tessellation {
    pub fn lonlat(&self, p: Pt) -> Coord<f64> {
        match p {
            Pt::Vertex(v) => self.vertex_lonlat[v as usize],
            Pt::Mid(e) => {
                let [a, b] = self.edge_ends[e as usize].map(|v| self.vertex_lonlat[v as usize]);
                Coord {
                    x: (a.x + b.x) / 2.0,
                    y: (a.y + b.y) / 2.0,
                }
            }
            Pt::Centroid(f) => {
                let [a, b, c] = self.face_corners[f as usize].map(|v| self.vertex_lonlat[v as usize]);
                Coord {
                    x: (a.x + b.x + c.x) / 3.0,
                    y: (a.y + b.y + c.y) / 3.0,
                }
            }
        }
    }

    pub fn local(&self, p: Pt) -> [f64; 2] {
        match p {
            Pt::Vertex(v) => self.vertex_local[v as usize],
            Pt::Mid(e) => {
                let [a, b] = self.edge_ends[e as usize].map(|v| self.vertex_local[v as usize]);
                [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0]
            }
            Pt::Centroid(f) => {
                let [a, b, c] = self.face_corners[f as usize].map(|v| self.vertex_local[v as usize]);
                [(a[0] + b[0] + c[0]) / 3.0, (a[1] + b[1] + c[1]) / 3.0]
            }
        }
    }

    pub fn segment_m(&self, p: Pt, q: Pt) -> f64 {
        let (a, b) = (self.local(p), self.local(q));
        ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
    }
}

/// Shoelace area (positive when counter-clockwise) and centroid of an open ring.
fn ring_area_centroid(pts: &[[f64; 2]]) -> (f64, f64, f64) {
    let (mut a2, mut cx, mut cy) = (0.0, 0.0, 0.0);
    let o = pts[0];
    for i in 1..pts.len().saturating_sub(1) {
        let (p, q) = (pts[i], pts[i + 1]);
        let c = (p[0] - o[0]) * (q[1] - o[1]) - (p[1] - o[1]) * (q[0] - o[0]);
        a2 += c;
        cx += c * (o[0] + p[0] + q[0]);
        cy += c * (o[1] + p[1] + q[1]);
    }
    if a2 == 0.0 {
        return (0.0, o[0], o[1]);
    }
    (a2 / 2.0, cx / (3.0 * a2), cy / (3.0 * a2))
}
