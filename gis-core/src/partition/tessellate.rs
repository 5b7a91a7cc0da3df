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

use crate::geom::{BboxIndex, LocalFrame, VertexKey, approx_distance_m};
use geo::{Contains, Coord, InteriorPoint, LineString, MultiPolygon, Point, Polygon};
use rstar::RTree;
use rstar::primitives::GeomWithData;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use spade::handles::{FixedFaceHandle, FixedVertexHandle, InnerTag};
use spade::{ConstrainedDelaunayTriangulation, Point2, Triangulation};
use std::collections::BinaryHeap;

pub(crate) type AtomIx = u32;
const NO_OWNER: AtomIx = AtomIx::MAX;

/// Spacing of points added along building and exclusive-unit outlines, so the space between two
/// walls is split near its middle rather than toward whichever wall has fewer corners.
const OUTLINE_SPACING_M: f64 = 6.0;
/// A border between atoms "runs along a road" where it lies within this distance of one.
pub(crate) const ROAD_BAND_M: f64 = 12.0;
/// Spacing of points added along the community line, so open space along it is shared out
/// between nearby atoms instead of one atom taking a whole long edge.
pub(crate) const BOUNDARY_SPACING_M: f64 = 15.0;
/// Rings smaller than this (m²) in an assembled grid are zero-width lobes, not area.
const DEGENERATE_RING_M2: f64 = 1e-4;
/// Spacing of points along roads, which separate cells so grid borders can follow them.
const ROAD_SPACING_M: f64 = 15.0;
/// Road points closer than this to the community line are left out: a road along the line is the
/// line itself.
const ROAD_MARGIN_M: f64 = 4.0;
/// Open space beyond a road goes to the atom nearest on its own side; only a block holding no
/// atom at all is reached across a road, at this extra cost.
const ROAD_CROSSING_PENALTY_M: f64 = 500.0;

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

/// A convex-ish part of one triangle owned by one atom; the ring is counter-clockwise, open.
pub(crate) struct Piece {
    pub owner: AtomIx,
    pub ring: Vec<Pt>,
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
    pub atoms: Vec<AtomShape>,
    pub adjacency: Vec<Adjacency>,
    pub notes: Vec<Note>,
    pub splits: Vec<Split>,
}

type Cdt = ConstrainedDelaunayTriangulation<Point2<f64>>;

/// Most points added along one edge. A mistyped coordinate can make an edge thousands of
/// kilometres long, and a million points along it take the triangulation minutes; capped per edge
/// (not per ring) so that an edge shared by two communities still gets the same points from both.
const MAX_EDGE_POINTS: usize = 2048;

/// The points of a ring with extra points every `spacing` metres. Extra points are placed from
/// the lexicographically smaller end of each edge, so the same edge met from either side (a
/// shared wall, a shared community line) gets bit-identical points.
fn densify(ring: &LineString<f64>, spacing: f64) -> Vec<Coord<f64>> {
    let mut out = Vec::with_capacity(ring.0.len());
    for line in ring.lines() {
        out.push(line.start);
        let (lo, hi, forward) = if (line.start.x, line.start.y) <= (line.end.x, line.end.y) {
            (line.start, line.end, true)
        } else {
            (line.end, line.start, false)
        };
        // `as` saturates: an infinite length is the cap, NaN none.
        let n = ((approx_distance_m(lo, hi) / spacing).ceil() as usize).min(MAX_EDGE_POINTS);
        for i in 1..n {
            let j = if forward { i } else { n - i };
            let t = j as f64 / n as f64;
            out.push(Coord {
                x: lo.x + (hi.x - lo.x) * t,
                y: lo.y + (hi.y - lo.y) * t,
            });
        }
    }
    out
}

/// An open line with extra points every `spacing` metres, ends included.
fn densify_line(line: &LineString<f64>, spacing: f64) -> Vec<Coord<f64>> {
    let mut out = densify(line, spacing);
    out.extend(line.0.last().copied());
    out
}

fn cross(o: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
}

/// Whether segments pq and rs cross at a point interior to both.
fn segments_cross(p: [f64; 2], q: [f64; 2], r: [f64; 2], s: [f64; 2]) -> bool {
    let (d1, d2) = (cross(p, q, r), cross(p, q, s));
    let (d3, d4) = (cross(r, s, p), cross(r, s, q));
    d1 * d2 < 0.0 && d3 * d4 < 0.0
}

struct Builder {
    frame: LocalFrame,
    lonlat: Vec<Coord<f64>>,
    local: Vec<[f64; 2]>,
    /// Vertices by exact coordinates, so a point met twice is one vertex.
    index: HashMap<VertexKey, u32>,
    owners: Vec<AtomIx>,
    /// Vertices claimed by more than one atom (touching buildings, unit slices), with all claims.
    shared: HashMap<u32, Vec<AtomIx>>,
    /// For each shared vertex, the claim polygons whose outline passes through it.
    outlines_at: HashMap<u32, Vec<usize>>,
    edges: Vec<[usize; 2]>,
    boundary_edges: HashSet<[u32; 2]>,
}

impl Builder {
    fn vertex(&mut self, c: Coord<f64>) -> u32 {
        if let Some(&v) = self.index.get(&VertexKey::of(c)) {
            return v;
        }
        let v = self.lonlat.len() as u32;
        self.index.insert(VertexKey::of(c), v);
        self.lonlat.push(c);
        self.local.push(self.frame.to_local(c));
        self.owners.push(NO_OWNER);
        v
    }

    fn claim(&mut self, v: u32, atom: AtomIx) {
        let current = self.owners[v as usize];
        if current == NO_OWNER {
            self.owners[v as usize] = atom;
        } else if current != atom {
            let list = self.shared.entry(v).or_insert_with(|| vec![current]);
            if !list.contains(&atom) {
                list.push(atom);
            }
        }
    }

    fn ring(&mut self, ring: &LineString<f64>, spacing: f64) -> Vec<u32> {
        let mut vs: Vec<u32> = densify(ring, spacing).into_iter().map(|c| self.vertex(c)).collect();
        vs.dedup();
        if vs.len() > 1 && vs.first() == vs.last() {
            vs.pop();
        }
        vs
    }

    fn constrain(&mut self, ring: &[u32]) {
        for i in 0..ring.len() {
            let (a, b) = (ring[i], ring[(i + 1) % ring.len()]);
            if a != b {
                self.edges.push([a as usize, b as usize]);
            }
        }
    }
}

impl Builder {
    /// Road points and segments that can separate cells: inside the community and off its line,
    /// outside every claim, crossing no wall. Returns the segments as vertex pairs.
    fn roads(
        &mut self,
        roads: &[LineString<f64>],
        boundary: &MultiPolygon<f64>,
        boundary_index: &RTree<GeomWithData<rstar::primitives::Line<[f64; 2]>, ()>>,
        claims: &Claims,
    ) -> Vec<[u32; 2]> {
        let claim_boxes = BboxIndex::new(
            claims
                .polygons
                .iter()
                .enumerate()
                .filter_map(|(i, (_, p))| geo::BoundingRect::bounding_rect(p).map(|r| (i, r))),
        );
        let walls: RTree<rstar::primitives::Line<[f64; 2]>> = RTree::bulk_load(
            claims
                .polygons
                .iter()
                .flat_map(|(_, p)| std::iter::once(p.exterior()).chain(p.interiors()))
                .flat_map(|r| r.lines())
                .map(|l| rstar::primitives::Line::new(self.frame.to_local(l.start), self.frame.to_local(l.end)))
                .collect(),
        );
        let mut pairs = Vec::new();
        for line in roads {
            let mut prev: Option<(u32, [f64; 2])> = None;
            for c in densify_line(line, ROAD_SPACING_M) {
                let p = self.frame.to_local(c);
                let near_line = boundary_index
                    .nearest_neighbor(&p)
                    .is_some_and(|s| rstar::PointDistance::distance_2(s.geom(), &p) < ROAD_MARGIN_M * ROAD_MARGIN_M);
                let in_claim = || {
                    claim_boxes
                        .at_point(c)
                        .into_iter()
                        .any(|i| claims.polygons[i].1.contains(&Point(c)))
                };
                if near_line || !boundary.contains(&Point(c)) || in_claim() {
                    prev = None;
                    continue;
                }
                let env_of = |a: [f64; 2], b: [f64; 2]| {
                    rstar::AABB::from_corners([a[0].min(b[0]), a[1].min(b[1])], [a[0].max(b[0]), a[1].max(b[1])])
                };
                let v = self.vertex(c);
                if let Some((u, q)) = prev {
                    let env = env_of(q, p);
                    let blocked = boundary_index
                        .locate_in_envelope_intersecting(&env)
                        .any(|s| segments_cross(q, p, s.geom().from, s.geom().to))
                        || walls
                            .locate_in_envelope_intersecting(&env)
                            .any(|s| segments_cross(q, p, s.from, s.to));
                    if !blocked && u != v {
                        pairs.push([u, v]);
                    }
                }
                prev = Some((v, p));
            }
        }
        pairs
    }
}

impl Tessellation {
    pub fn build(
        boundary: &MultiPolygon<f64>,
        claims: &Claims,
        roads: &[LineString<f64>],
        atom_count: usize,
        frame: LocalFrame,
        boundary_spacing_m: f64,
    ) -> Result<Self, spade::InsertionError> {
        let mut b = Builder {
            frame,
            lonlat: Vec::new(),
            local: Vec::new(),
            index: HashMap::default(),
            owners: Vec::new(),
            shared: HashMap::default(),
            outlines_at: HashMap::default(),
            edges: Vec::new(),
            boundary_edges: HashSet::default(),
        };
        let mut notes = Vec::new();

        // The community line first: its segments index the crossing test below.
        let mut boundary_segments = Vec::new();
        for polygon in &boundary.0 {
            for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
                // Points added along the line are placed from each edge's lower end, so the
                // neighbouring community adds the very same ones.
                let vs = b.ring(ring, boundary_spacing_m);
                for i in 0..vs.len() {
                    let (p, q) = (vs[i], vs[(i + 1) % vs.len()]);
                    b.boundary_edges.insert([p.min(q), p.max(q)]);
                    boundary_segments.push(GeomWithData::new(
                        rstar::primitives::Line::new(b.local[p as usize], b.local[q as usize]),
                        (),
                    ));
                }
                b.constrain(&vs);
            }
        }
        let boundary_index = RTree::bulk_load(boundary_segments);

        for (pi, (atom, polygon)) in claims.polygons.iter().enumerate() {
            let rings: Vec<Vec<u32>> = std::iter::once(polygon.exterior())
                .chain(polygon.interiors())
                .map(|r| b.ring(r, OUTLINE_SPACING_M))
                .collect();
            for &v in rings.iter().flatten() {
                b.claim(v, *atom);
            }
            // Walls crossing the community line cannot be kept (the line wins): the building
            // still owns its corners, and the report says the line cuts it.
            let crosses = rings.iter().any(|r| {
                (0..r.len()).any(|i| {
                    let (p, q) = (b.local[r[i] as usize], b.local[r[(i + 1) % r.len()] as usize]);
                    let env =
                        rstar::AABB::from_corners([p[0].min(q[0]), p[1].min(q[1])], [p[0].max(q[0]), p[1].max(q[1])]);
                    boundary_index
                        .locate_in_envelope_intersecting(&env)
                        .any(|s| segments_cross(p, q, s.geom().from, s.geom().to))
                })
            });
            if crosses {
                notes.push(Note::OutlineDropped { atom: *atom });
                continue;
            }
            for r in &rings {
                b.constrain(r);
                for &v in r {
                    b.outlines_at.entry(v).or_default().push(pi);
                }
            }
        }
        let mut point_vertices = Vec::with_capacity(claims.points.len());
        for (atom, c) in &claims.points {
            let v = b.vertex(*c);
            b.claim(v, *atom);
            point_vertices.push(v);
        }
        let road_pairs = b.roads(roads, boundary, &boundary_index, claims);
        // Only vertices with several claims need to know their outlines.
        b.outlines_at.retain(|v, _| b.shared.contains_key(v));

        let points: Vec<Point2<f64>> = b.local.iter().map(|p| Point2::new(p[0], p[1])).collect();
        let edges = std::mem::take(&mut b.edges);
        let mut conflicts = 0usize;
        let mut cdt = Cdt::try_bulk_load_cdt(points, edges, |_| conflicts += 1)?;
        if conflicts > 0 {
            // Conflicting walls (buildings overlapping by less than import's tolerance) are
            // dropped by the triangulation; ownership by vertices still holds.
            notes.push(Note::OutlineDropped { atom: NO_OWNER });
        }
        debug_assert_eq!(cdt.num_vertices(), b.lonlat.len());
        // Roads last: where two cross without a shared point, the crossing becomes a vertex.
        let mut road_edges: HashSet<[u32; 2]> = HashSet::default();
        for [p, q] in road_pairs {
            let (p, q) = (
                FixedVertexHandle::from_index(p as usize),
                FixedVertexHandle::from_index(q as usize),
            );
            if cdt.can_add_constraint(p, q)
                || !cdt.intersects_constraint(cdt.vertex(p).position(), cdt.vertex(q).position())
            {
                for e in cdt.add_constraint_and_split(p, q, |pos| pos) {
                    let e = cdt.directed_edge(e);
                    let (x, y) = (e.from().fix().index() as u32, e.to().fix().index() as u32);
                    road_edges.insert([x.min(y), x.max(y)]);
                }
            }
        }
        for v in b.lonlat.len()..cdt.num_vertices() {
            let pos = cdt.vertex(FixedVertexHandle::from_index(v)).position();
            b.local.push([pos.x, pos.y]);
            b.lonlat.push(frame.to_lonlat([pos.x, pos.y]));
            b.owners.push(NO_OWNER);
        }

        let mut t = Tessellation {
            vertex_lonlat: b.lonlat,
            vertex_local: b.local,
            edge_ends: cdt
                .undirected_edges()
                .map(|e| {
                    let [p, q] = e.vertices();
                    [p.fix().index() as u32, q.fix().index() as u32]
                })
                .collect(),
            face_corners: vec![[0; 3]; cdt.num_all_faces()],
            pieces: Vec::new(),
            atoms: vec![AtomShape::default(); atom_count],
            adjacency: Vec::new(),
            notes,
            splits: Vec::new(),
        };
        for f in cdt.inner_faces() {
            let [p, q, r] = f.vertices();
            t.face_corners[f.fix().index()] = [p.fix().index() as u32, q.fix().index() as u32, r.fix().index() as u32];
        }

        let inside = inside_faces(&cdt, &b.boundary_edges, boundary, &t);
        let owners = b.owners;
        let open = open_space_owners(
            &cdt,
            &inside,
            &owners,
            &road_edges,
            &t.vertex_local,
            &t.face_corners,
            &mut t.notes,
        );
        let mut corners = corner_owners(&cdt, &inside, &owners, &open, &b.shared, &b.outlines_at, claims, &t);
        let mut on_line = vec![false; t.vertex_lonlat.len()];
        for [p, q] in &b.boundary_edges {
            on_line[*p as usize] = true;
            on_line[*q as usize] = true;
        }
        t.settle_slivers(&mut corners, &on_line, &b.boundary_edges);
        t.cut_pieces(&cdt, &inside, &corners, &on_line);
        t.split_disconnected(&point_vertices, claims);
        t.measure(roads, frame);
        Ok(t)
    }

    /// Makes every atom's cell connected: the largest connected part keeps the atom, each other
    /// part becomes a new atom (with the points standing in it).
    fn split_disconnected(&mut self, point_vertices: &[u32], claims: &Claims) {
        let n = self.pieces.len();
        let mut uf: Vec<usize> = (0..n).collect();
        fn find(uf: &mut [usize], mut x: usize) -> usize {
            while uf[x] != x {
                uf[x] = uf[uf[x]];
                x = uf[x];
            }
            x
        }
        let mut first: HashMap<(Pt, Pt), usize> = HashMap::default();
        for (i, piece) in self.pieces.iter().enumerate() {
            for k in 0..piece.ring.len() {
                let (p, q) = (piece.ring[k], piece.ring[(k + 1) % piece.ring.len()]);
                let key = if p < q { (p, q) } else { (q, p) };
                match first.get(&key) {
                    Some(&j) if self.pieces[j].owner == piece.owner => {
                        let (a, b) = (find(&mut uf, i), find(&mut uf, j));
                        uf[a] = b;
                    }
                    Some(_) => {}
                    None => {
                        first.insert(key, i);
                    }
                }
            }
        }
        // Components per atom, with their areas.
        let mut comps: HashMap<AtomIx, Vec<(usize, f64)>> = HashMap::default();
        let mut area_of: HashMap<usize, f64> = HashMap::default();
        for i in 0..n {
            let root = find(&mut uf, i);
            let pts: Vec<[f64; 2]> = self.pieces[i].ring.iter().map(|&p| self.local(p)).collect();
            *area_of.entry(root).or_default() += ring_area_centroid(&pts).0;
        }
        for i in 0..n {
            let root = find(&mut uf, i);
            let list = comps.entry(self.pieces[i].owner).or_default();
            if !list.iter().any(|&(r, _)| r == root) {
                list.push((root, area_of[&root]));
            }
        }
        let mut atoms: Vec<AtomIx> = comps.iter().filter(|(_, c)| c.len() > 1).map(|(a, _)| *a).collect();
        atoms.sort_unstable();
        let mut new_of_root: HashMap<usize, AtomIx> = HashMap::default();
        for atom in atoms {
            let mut list = comps[&atom].clone();
            // The largest part keeps the atom; ties by root for determinism.
            list.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            for &(root, _) in &list[1..] {
                let new = self.atoms.len() as AtomIx;
                self.atoms.push(AtomShape::default());
                new_of_root.insert(root, new);
                self.splits.push(Split {
                    original: atom,
                    new,
                    points: Vec::new(),
                });
            }
        }
        if new_of_root.is_empty() {
            return;
        }
        // Which component each claimed point stands in: a piece of its atom with it as a corner.
        let mut root_at: HashMap<(AtomIx, u32), usize> = HashMap::default();
        for i in 0..n {
            let root = find(&mut uf, i);
            for p in &self.pieces[i].ring {
                if let Pt::Vertex(v) = p {
                    root_at.entry((self.pieces[i].owner, *v)).or_insert(root);
                }
            }
        }
        for (k, (&v, (atom, _))) in point_vertices.iter().zip(&claims.points).enumerate() {
            if let Some(new) = root_at.get(&(*atom, v)).and_then(|r| new_of_root.get(r)) {
                if let Some(split) = self.splits.iter_mut().find(|s| s.new == *new) {
                    split.points.push(k);
                }
            }
        }
        for i in 0..n {
            let root = find(&mut uf, i);
            if let Some(&new) = new_of_root.get(&root) {
                self.pieces[i].owner = new;
            }
        }
    }

    // ---- points ------------------------------------------------------------------------------

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

    // ---- pieces ------------------------------------------------------------------------------

    /// Near-collinear points on the community line make sliver faces whose corners all lie on the
    /// line. Split like other faces, a sliver with three owners would put its centroid, a new
    /// point, on the line. Instead each sliver goes whole to the owner that its parent face (across
    /// its longest inner edge, the chord) gives that chord — chords split at their lower end (see
    /// `cut_pieces`), so that is the owner at the chord's upper end. Slivers hanging off slivers
    /// follow their parent, so every sliver is attached by an edge to its owner's cell.
    fn settle_slivers(
        &self,
        corners: &mut HashMap<usize, [AtomIx; 3]>,
        on_line: &[bool],
        boundary_edges: &HashSet<[u32; 2]>,
    ) {
        const SLIVER_M2: f64 = 1e-3;
        let mut faces: Vec<usize> = corners.keys().copied().collect();
        faces.sort_unstable();
        let is_sliver = |f: usize| {
            let vs = self.face_corners[f];
            vs.iter().all(|&v| on_line[v as usize]) && {
                let pts: Vec<[f64; 2]> = vs.iter().map(|&v| self.vertex_local[v as usize]).collect();
                ring_area_centroid(&pts).0.abs() < SLIVER_M2
            }
        };
        let slivers: Vec<usize> = faces.iter().copied().filter(|&f| is_sliver(f)).collect();
        if slivers.is_empty() {
            return;
        }
        let mut by_edge: HashMap<[u32; 2], Vec<usize>> = HashMap::default();
        for &f in &faces {
            let vs = self.face_corners[f];
            for k in 0..3 {
                let (p, q) = (vs[k], vs[(k + 1) % 3]);
                by_edge.entry([p.min(q), p.max(q)]).or_default().push(f);
            }
        }
        // Settle slivers outward from regular faces: a sliver takes the owner that an already
        // settled neighbour gives their shared inner edge.
        let mut settled: HashSet<usize> = HashSet::default();
        let mut pending = slivers.clone();
        while !pending.is_empty() {
            let before = pending.len();
            pending.retain(|&f| {
                let vs = self.face_corners[f];
                let owner = (0..3)
                    .map(|k| [vs[k].min(vs[(k + 1) % 3]), vs[k].max(vs[(k + 1) % 3])])
                    .filter(|e| !boundary_edges.contains(e))
                    .find_map(|e| {
                        let g = *by_edge[&e].iter().find(|&&g| g != f)?;
                        if slivers.binary_search(&g).is_err() {
                            let at = self.face_corners[g]
                                .iter()
                                .position(|&v| v == e[1])
                                .expect("shared corner");
                            Some(corners[&g][at])
                        } else if settled.contains(&g) {
                            Some(corners[&g][0])
                        } else {
                            None
                        }
                    });
                match owner {
                    Some(o) => {
                        corners.insert(f, [o; 3]);
                        settled.insert(f);
                        false
                    }
                    None => true,
                }
            });
            if pending.len() == before {
                break; // slivers touching no other face: leave them as they are
            }
        }
    }

    fn cut_pieces(&mut self, cdt: &Cdt, inside: &[bool], corners: &HashMap<usize, [AtomIx; 3]>, on_line: &[bool]) {
        // An edge is split where its two ends belong to different atoms as seen from either face.
        let mut split: HashMap<usize, Pt> = HashMap::default();
        for f in cdt.inner_faces() {
            let fi = f.fix().index();
            if !inside[fi] {
                continue;
            }
            let owners = corners[&fi];
            for (k, e) in f.adjacent_edges().iter().enumerate() {
                // adjacent_edges()[k] runs from corner k to corner k+1.
                if owners[k] != owners[(k + 1) % 3] {
                    let ei = e.fix().as_undirected().index();
                    let [p, q] = self.edge_ends[ei];
                    // An edge with both ends on the community line (the line itself, or a chord
                    // across a narrow part) splits at its lower end: never at a new point there.
                    let at = if on_line[p as usize] && on_line[q as usize] {
                        Pt::Vertex(p.min(q))
                    } else {
                        Pt::Mid(ei as u32)
                    };
                    split.insert(ei, at);
                }
            }
        }
        for f in cdt.inner_faces() {
            let fi = f.fix().index();
            if !inside[fi] {
                continue;
            }
            let o = corners[&fi];
            let c = self.face_corners[fi].map(Pt::Vertex);
            let edges = f.adjacent_edges().map(|e| e.fix().as_undirected().index());
            let s: [Option<Pt>; 3] = edges.map(|e| split.get(&e).copied());
            let mut emit = |owner: AtomIx, pts: &[Option<Pt>]| {
                let mut ring: Vec<Pt> = pts.iter().flatten().copied().collect();
                ring.dedup();
                while ring.len() > 1 && ring.first() == ring.last() {
                    ring.pop();
                }
                if ring.len() >= 3 {
                    self.pieces.push(Piece { owner, ring });
                }
            };
            if o[0] == o[1] && o[1] == o[2] {
                emit(o[0], &[Some(c[0]), s[0], Some(c[1]), s[1], Some(c[2]), s[2]]);
            } else if o[0] != o[1] && o[1] != o[2] && o[0] != o[2] {
                let g = Some(Pt::Centroid(fi as u32));
                emit(o[0], &[Some(c[0]), s[0], g, s[2]]);
                emit(o[1], &[Some(c[1]), s[1], g, s[0]]);
                emit(o[2], &[Some(c[2]), s[2], g, s[1]]);
            } else {
                // Two owners: rotate so corner k is the odd one out; cut straight across.
                let k = if o[1] == o[2] {
                    0
                } else if o[0] == o[2] {
                    1
                } else {
                    2
                };
                let (k1, k2) = ((k + 1) % 3, (k + 2) % 3);
                // s[k] lies on edge k→k1, s[k2] on edge k2→k.
                emit(o[k], &[Some(c[k]), s[k], s[k2]]);
                emit(o[k1], &[s[k], Some(c[k1]), s[k1], Some(c[k2]), s[k2]]);
            }
        }
    }

    /// Areas, outer borders and adjacencies of atoms, from the pieces.
    fn measure(&mut self, roads: &[LineString<f64>], frame: LocalFrame) {
        let road_index: RTree<rstar::primitives::Line<[f64; 2]>> = RTree::bulk_load(
            roads
                .iter()
                .flat_map(|l| l.lines())
                .map(|l| rstar::primitives::Line::new(frame.to_local(l.start), frame.to_local(l.end)))
                .collect(),
        );
        let mut sides: HashMap<(Pt, Pt), (AtomIx, AtomIx)> = HashMap::default();
        let mut weighted = vec![[0.0f64; 2]; self.atoms.len()];
        for piece in &self.pieces {
            let pts: Vec<[f64; 2]> = piece.ring.iter().map(|&p| self.local(p)).collect();
            let (area, cx, cy) = ring_area_centroid(&pts);
            let shape = &mut self.atoms[piece.owner as usize];
            shape.area_m2 += area;
            weighted[piece.owner as usize][0] += cx * area;
            weighted[piece.owner as usize][1] += cy * area;
            for i in 0..piece.ring.len() {
                let (p, q) = (piece.ring[i], piece.ring[(i + 1) % piece.ring.len()]);
                let k = if p < q { (p, q) } else { (q, p) };
                sides
                    .entry(k)
                    .and_modify(|s| s.1 = piece.owner)
                    .or_insert((piece.owner, NO_OWNER));
            }
        }
        for (shape, w) in self.atoms.iter_mut().zip(weighted) {
            if shape.area_m2 > 0.0 {
                shape.centroid = [w[0] / shape.area_m2, w[1] / shape.area_m2];
            }
        }
        let mut pairs: HashMap<(AtomIx, AtomIx), (f64, f64)> = HashMap::default();
        let mut segments: Vec<_> = sides.into_iter().collect();
        segments.sort_unstable_by_key(|(k, _)| *k); // hash order must not reach the output
        for ((p, q), (a, b)) in segments {
            let len = self.segment_m(p, q);
            if b == NO_OWNER {
                self.atoms[a as usize].outer_m += len;
            } else if a != b {
                let (pm, qm) = (self.local(p), self.local(q));
                let mid = [(pm[0] + qm[0]) / 2.0, (pm[1] + qm[1]) / 2.0];
                // Any road within the band will do: no need to find the nearest.
                let on_road = road_index
                    .locate_within_distance(mid, ROAD_BAND_M * ROAD_BAND_M)
                    .next()
                    .is_some();
                let e = pairs.entry((a.min(b), a.max(b))).or_default();
                e.0 += len;
                if on_road {
                    e.1 += len;
                }
            }
        }
        let mut adjacency: Vec<Adjacency> = pairs
            .into_iter()
            .map(|((a, b), (length_m, road_m))| Adjacency { a, b, length_m, road_m })
            .collect();
        adjacency.sort_unstable_by_key(|x| (x.a, x.b));
        self.adjacency = adjacency;
    }

    // ---- assembly ----------------------------------------------------------------------------

    /// The union of the pieces of each group (atom → group, or None to leave out), as lon/lat
    /// polygons; borders inside a group cancel exactly because pieces share named points.
    pub fn assemble(&self, group_of: &[Option<usize>], groups: usize) -> Vec<MultiPolygon<f64>> {
        let mut directed: Vec<HashSet<(Pt, Pt)>> = vec![HashSet::default(); groups];
        for piece in &self.pieces {
            let Some(g) = group_of[piece.owner as usize] else {
                continue;
            };
            let set = &mut directed[g];
            for i in 0..piece.ring.len() {
                let (p, q) = (piece.ring[i], piece.ring[(i + 1) % piece.ring.len()]);
                if !set.remove(&(q, p)) {
                    set.insert((p, q));
                }
            }
        }
        directed
            .into_iter()
            .map(|edges| self.rings_to_polygons(edges))
            .collect()
    }

    fn rings_to_polygons(&self, edges: HashSet<(Pt, Pt)>) -> MultiPolygon<f64> {
        let mut out: HashMap<Pt, Vec<Pt>> = HashMap::default();
        let mut sorted: Vec<(Pt, Pt)> = edges.into_iter().collect();
        sorted.sort_unstable();
        for &(p, q) in &sorted {
            out.entry(p).or_default().push(q);
        }
        let mut rings: Vec<Vec<Pt>> = Vec::new();
        for &(start, first) in &sorted {
            let Some(list) = out.get_mut(&start) else { continue };
            let Some(pos) = list.iter().position(|&q| q == first) else {
                continue;
            };
            list.swap_remove(pos);
            let mut ring = vec![start];
            let (mut prev, mut cur) = (start, first);
            while cur != start {
                ring.push(cur);
                let Some(nexts) = out.get_mut(&cur).filter(|l| !l.is_empty()) else {
                    break;
                };
                // At a pinch (two lobes meeting at a point) take the leftmost turn, so each lobe
                // closes on itself instead of figure-eights.
                let pick = if nexts.len() == 1 {
                    0
                } else {
                    let (a, b) = (self.local(prev), self.local(cur));
                    let din = (b[0] - a[0], b[1] - a[1]);
                    (0..nexts.len())
                        .max_by(|&i, &j| {
                            let turn = |k: usize| {
                                let c = self.local(nexts[k]);
                                let d = (c[0] - b[0], c[1] - b[1]);
                                (din.0 * d.1 - din.1 * d.0).atan2(din.0 * d.0 + din.1 * d.1)
                            };
                            turn(i).total_cmp(&turn(j))
                        })
                        .unwrap_or(0)
                };
                let next = nexts.swap_remove(pick);
                prev = cur;
                cur = next;
            }
            // A ring that passes a point twice (a hole touching the outline at one point: the
            // turn rule keeps lobes apart but walks shell and hole as one ring) is split there
            // into simple rings; their signed areas then say which is shell and which is hole.
            for simple in split_at_repeats(ring) {
                let simple = self.without_spikes(simple);
                if simple.len() >= 3 {
                    rings.push(simple);
                }
            }
        }
        let mut shells: Vec<(Polygon<f64>, f64)> = Vec::new();
        let mut holes: Vec<LineString<f64>> = Vec::new();
        for ring in rings {
            let local: Vec<[f64; 2]> = ring.iter().map(|&p| self.local(p)).collect();
            let (area, _, _) = ring_area_centroid(&local);
            if area.abs() < DEGENERATE_RING_M2 {
                continue; // a zero-width lobe left by collinear points: nothing to draw
            }
            let mut coords: Vec<Coord<f64>> = ring.iter().map(|&p| self.lonlat(p)).collect();
            coords.push(coords[0]);
            let line = LineString(coords);
            if area > 0.0 {
                shells.push((Polygon::new(line, vec![]), area));
            } else if area < 0.0 {
                holes.push(line);
            }
        }
        for hole in holes {
            let probe = Polygon::new(hole.clone(), vec![]).interior_point();
            // The smallest shell holding the hole is its parent.
            let parent = (0..shells.len())
                .filter(|&i| shells.len() == 1 || probe.is_some_and(|p| shells[i].0.contains(&p)))
                .min_by(|&i, &j| shells[i].1.total_cmp(&shells[j].1));
            if let Some(i) = parent {
                shells[i].0.interiors_push(hole);
            }
        }
        // Largest part first: a grid's main body leads.
        shells.sort_by(|a, b| b.1.total_cmp(&a.1));
        MultiPolygon(shells.into_iter().map(|(p, _)| p).collect())
    }
}

impl Tessellation {
    /// Removes zero-width spikes from an open ring: a point where the ring turns straight back
    /// on itself (a near-degenerate triangle between atoms, e.g. a building corner lying on a
    /// neighbour's wall to within float precision). Both grids beside such a spike walk it, in
    /// opposite directions, and the test depends on the three points alone, so both drop it and
    /// their shared edges still match. Repeats until none is left.
    fn without_spikes(&self, mut ring: Vec<Pt>) -> Vec<Pt> {
        let mut changed = true;
        while changed && ring.len() >= 3 {
            changed = false;
            let mut i = 0;
            while i < ring.len() && ring.len() >= 3 {
                let n = ring.len();
                let (a, b, c) = (
                    self.local(ring[(i + n - 1) % n]),
                    self.local(ring[i]),
                    self.local(ring[(i + 1) % n]),
                );
                let (u, v) = ([b[0] - a[0], b[1] - a[1]], [c[0] - b[0], c[1] - b[1]]);
                let dot = u[0] * v[0] + u[1] * v[1];
                let cross = u[0] * v[1] - u[1] * v[0];
                let lengths = u[0].hypot(u[1]) * v[0].hypot(v[1]);
                if dot < 0.0 && cross.abs() <= 1e-9 * lengths {
                    ring.remove(i);
                    changed = true;
                } else {
                    i += 1;
                }
            }
        }
        ring
    }
}

/// Splits an open ring at every point it passes twice into simple open rings.
fn split_at_repeats(ring: Vec<Pt>) -> Vec<Vec<Pt>> {
    let mut out = Vec::new();
    let mut stack: Vec<Pt> = Vec::with_capacity(ring.len());
    let mut at: HashMap<Pt, usize> = HashMap::default();
    for p in ring {
        if let Some(&i) = at.get(&p) {
            // The loop since p's first visit closes here: it is a ring of its own.
            let lobe: Vec<Pt> = stack.drain(i..).collect();
            for q in &lobe {
                at.remove(q);
            }
            at.insert(p, stack.len());
            stack.push(p);
            out.push(lobe);
        } else {
            at.insert(p, stack.len());
            stack.push(p);
        }
    }
    out.push(stack);
    out
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

/// Which faces lie inside the community: flood fill across every edge but the community line,
/// then one point-in-polygon test per region, at the centroid of its largest face (a sliver's
/// centroid can sit a hair's breadth on the wrong side of the line).
fn inside_faces(
    cdt: &Cdt,
    boundary_edges: &HashSet<[u32; 2]>,
    boundary: &MultiPolygon<f64>,
    t: &Tessellation,
) -> Vec<bool> {
    let n = cdt.num_all_faces();
    let mut region = vec![usize::MAX; n];
    let mut probe: Vec<(usize, f64)> = Vec::new(); // per region: (largest face, its area)
    let area = |f: usize| {
        let pts: Vec<[f64; 2]> = t.face_corners[f].iter().map(|&v| t.vertex_local[v as usize]).collect();
        ring_area_centroid(&pts).0.abs()
    };
    for f in cdt.inner_faces() {
        let start = f.fix().index();
        if region[start] != usize::MAX {
            continue;
        }
        let r = probe.len();
        probe.push((start, area(start)));
        region[start] = r;
        let mut stack = vec![f.fix()];
        while let Some(fh) = stack.pop() {
            for e in cdt.face(fh).adjacent_edges() {
                let [p, q] = [e.from().fix().index() as u32, e.to().fix().index() as u32];
                if boundary_edges.contains(&[p.min(q), p.max(q)]) {
                    continue;
                }
                if let Some(g) = e.rev().face().as_inner() {
                    let gi = g.fix().index();
                    if region[gi] == usize::MAX {
                        region[gi] = r;
                        let a = area(gi);
                        if a > probe[r].1 {
                            probe[r] = (gi, a);
                        }
                        stack.push(g.fix());
                    }
                }
            }
        }
    }
    const SLIVER_M2: f64 = 1e-3;
    let mut verdict: Vec<bool> = probe
        .iter()
        .map(|&(f, _)| boundary.contains(&Point(t.lonlat(Pt::Centroid(f as u32)))))
        .collect();
    // A region made only of slivers gets no trustworthy probe: it is inside exactly when a
    // region across the community line from it is outside (or the triangulation's hull is).
    for f in cdt.inner_faces() {
        let r = region[f.fix().index()];
        if probe[r].1 >= SLIVER_M2 || probe[r].0 != f.fix().index() {
            continue;
        }
        let mut decided = None;
        let mut stack = vec![f.fix()];
        let mut seen: HashSet<usize> = HashSet::default();
        while let Some(fh) = stack.pop() {
            if !seen.insert(fh.index()) || decided.is_some() {
                continue;
            }
            for e in cdt.face(fh).adjacent_edges() {
                let [p, q] = [e.from().fix().index() as u32, e.to().fix().index() as u32];
                let on_line = boundary_edges.contains(&[p.min(q), p.max(q)]);
                match (e.rev().face().as_inner(), on_line) {
                    (None, true) => decided = Some(true),
                    (None, false) => decided = Some(false),
                    (Some(g), true) if probe[region[g.fix().index()]].1 >= SLIVER_M2 => {
                        decided = Some(!verdict[region[g.fix().index()]]);
                    }
                    (Some(g), false) => stack.push(g.fix()),
                    _ => {}
                }
            }
        }
        if let Some(d) = decided {
            verdict[r] = d;
        }
    }
    region.iter().map(|&r| r != usize::MAX && verdict[r]).collect()
}

/// Owners for the corners at unowned vertices (the community line, roads, holes): each side of
/// a road around such a vertex is a sector, owned by the atom nearest along the triangulation
/// without crossing a road; a block holding no atom is reached across a road at a penalty, and a
/// part of the community no path reaches goes to the nearest atom as the crow flies (noted).
fn open_space_owners(
    cdt: &Cdt,
    inside: &[bool],
    owners: &[AtomIx],
    road_edges: &HashSet<[u32; 2]>,
    local: &[[f64; 2]],
    face_corners: &[[u32; 3]],
    notes: &mut Vec<Note>,
) -> HashMap<(usize, u32), AtomIx> {
    #[derive(PartialEq)]
    struct Item(f64, usize);
    impl Eq for Item {}
    impl PartialOrd for Item {
        fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(o))
        }
    }
    impl Ord for Item {
        fn cmp(&self, o: &Self) -> std::cmp::Ordering {
            o.0.total_cmp(&self.0).then(o.1.cmp(&self.1)) // min-heap, ties by node
        }
    }
    let dist = |a: u32, b: u32| {
        let (p, q) = (local[a as usize], local[b as usize]);
        ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt()
    };
    let is_road = |p: u32, q: u32| road_edges.contains(&[p.min(q), p.max(q)]);

    // Sectors: runs of inside faces around an unowned vertex between road edges.
    let mut node_of: HashMap<(usize, u32), usize> = HashMap::default();
    let mut node_faces: Vec<Vec<usize>> = Vec::new();
    let mut node_vertex: Vec<u32> = Vec::new();
    let mut siblings: Vec<(usize, usize)> = Vec::new(); // node range per vertex
    for v in 0..owners.len() as u32 {
        if owners[v as usize] != NO_OWNER {
            continue;
        }
        let out: Vec<_> = cdt
            .vertex(FixedVertexHandle::from_index(v as usize))
            .out_edges()
            .collect();
        let n = out.len();
        let start = (0..n)
            .find(|&i| is_road(v, out[i].to().fix().index() as u32))
            .unwrap_or(0);
        let first = node_faces.len();
        let mut current: Option<usize> = None;
        for d in 0..n {
            let e = out[(start + d) % n];
            if current.is_none() || is_road(v, e.to().fix().index() as u32) {
                current = Some(node_faces.len());
                node_faces.push(Vec::new());
                node_vertex.push(v);
            }
            if let Some(f) = e.face().as_inner().map(|f| f.fix().index()).filter(|&f| inside[f]) {
                let node = current.expect("a sector is open");
                node_of.insert((f, v), node);
                node_faces[node].push(f);
            }
        }
        for _ in first..node_faces.len() {
            siblings.push((first, node_faces.len()));
        }
    }

    let corners = |f: usize| face_corners[f];
    let mut best = vec![f64::INFINITY; node_faces.len()];
    let mut owner = vec![NO_OWNER; node_faces.len()];
    let mut heap = BinaryHeap::new();
    for (node, faces) in node_faces.iter().enumerate() {
        let v = node_vertex[node];
        for &f in faces {
            for w in corners(f) {
                if owners[w as usize] != NO_OWNER {
                    let d = dist(v, w);
                    if d < best[node] {
                        best[node] = d;
                        owner[node] = owners[w as usize];
                    }
                }
            }
        }
        if owner[node] != NO_OWNER {
            heap.push(Item(best[node], node));
        }
    }
    while let Some(Item(d, node)) = heap.pop() {
        if d > best[node] {
            continue;
        }
        let v = node_vertex[node];
        let mut relax = |next: usize, nd: f64, heap: &mut BinaryHeap<Item>| {
            if nd < best[next] {
                best[next] = nd;
                owner[next] = owner[node];
                heap.push(Item(nd, next));
            }
        };
        for &f in &node_faces[node] {
            for w in corners(f) {
                if let Some(&next) = node_of.get(&(f, w)) {
                    relax(next, d + dist(v, w), &mut heap);
                }
            }
        }
        let (lo, hi) = siblings[node];
        for next in lo..hi {
            if next != node {
                relax(next, d + ROAD_CROSSING_PENALTY_M, &mut heap);
            }
        }
    }
    // Parts no path reaches: the nearest owned vertex as the crow flies.
    let owned: Vec<u32> = (0..owners.len() as u32)
        .filter(|&v| owners[v as usize] != NO_OWNER)
        .collect();
    for node in 0..node_faces.len() {
        if owner[node] != NO_OWNER || node_faces[node].is_empty() || owned.is_empty() {
            continue;
        }
        let v = node_vertex[node];
        let nearest = owned
            .iter()
            .copied()
            .min_by(|&a, &b| dist(v, a).total_cmp(&dist(v, b)))
            .expect("owned");
        owner[node] = owners[nearest as usize];
        if !notes
            .iter()
            .any(|n| matches!(n, Note::Detached { atom } if *atom == owner[node]))
        {
            notes.push(Note::Detached { atom: owner[node] });
        }
    }
    node_of.into_iter().map(|(k, node)| (k, owner[node])).collect()
}

/// The owner of each corner of each inside face. A vertex claimed by one atom answers for all its
/// faces; a vertex several atoms claim (touching buildings, unit slices) answers per face: the
/// atom whose inside the face is in, or for open space the atom of the wall that bounds that run
/// of open faces around the vertex, so every atom's share stays attached to it by an edge.
#[allow(clippy::too_many_arguments)]
fn corner_owners(
    cdt: &Cdt,
    inside: &[bool],
    owners: &[AtomIx],
    open: &HashMap<(usize, u32), AtomIx>,
    shared: &HashMap<u32, Vec<AtomIx>>,
    outlines_at: &HashMap<u32, Vec<usize>>,
    claims: &Claims,
    t: &Tessellation,
) -> HashMap<usize, [AtomIx; 3]> {
    // Resolve shared vertices face by face, walking each fan once.
    let mut resolved: HashMap<(usize, u32), AtomIx> = HashMap::default();
    let mut shared_vs: Vec<u32> = shared.keys().copied().collect();
    shared_vs.sort_unstable();
    for v in shared_vs {
        let vh = cdt.vertex(FixedVertexHandle::from_index(v as usize));
        let fan: Vec<Option<FixedFaceHandle<InnerTag>>> =
            vh.out_edges().map(|e| e.face().as_inner().map(|f| f.fix())).collect();
        let polygons = outlines_at.get(&v).map(Vec::as_slice).unwrap_or(&[]);
        let within: Vec<Option<AtomIx>> = fan
            .iter()
            .map(|f| {
                let f = (*f)?;
                let probe = Point(t.lonlat(Pt::Centroid(f.index() as u32)));
                polygons
                    .iter()
                    .find(|&&pi| claims.polygons[pi].1.contains(&probe))
                    .map(|&pi| claims.polygons[pi].0)
            })
            .collect();
        let n = fan.len();
        for i in 0..n {
            let Some(f) = fan[i] else { continue };
            if !inside[f.index()] {
                continue;
            }
            // Inside a claim: that claim. In the open: the nearest claimed face clockwise
            // (earlier in the counter-clockwise fan), else the vertex's first claim.
            let owner = within[i]
                .or_else(|| (1..n).find_map(|d| within[(i + n - d) % n]))
                .unwrap_or(owners[v as usize]);
            resolved.insert((f.index(), v), owner);
        }
    }
    let mut out = HashMap::with_capacity_and_hasher(cdt.num_inner_faces(), Default::default());
    for f in cdt.inner_faces() {
        let fi = f.fix().index();
        if !inside[fi] {
            continue;
        }
        let corners = t.face_corners[fi];
        out.insert(
            fi,
            corners.map(|v| {
                resolved
                    .get(&(fi, v))
                    .or_else(|| open.get(&(fi, v)))
                    .copied()
                    .unwrap_or(owners[v as usize])
            }),
        );
    }
    out
}
