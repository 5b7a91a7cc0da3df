//! Building the triangulation: the community line, every claim's outline (densified, as
//! constraints) and every population point as vertices, then roads as constraints that split
//! where they cross. Ownership and pieces follow (see [`super::ownership`]).

use super::ownership::{corner_owners, inside_faces, open_space_owners};
use super::{AtomIx, AtomShape, Cdt, Claims, NO_OWNER, Note, Pt, Tessellation, side_table};
use crate::geom::{BboxIndex, LocalFrame, VertexKey, approx_distance_m};
use geo::{Contains, Coord, LineString, MultiPolygon, Point, Rect};
use rstar::RTree;
use rstar::primitives::GeomWithData;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use spade::handles::FixedVertexHandle;
use spade::{Point2, Triangulation};

/// Spacing of points added along building and exclusive-unit outlines, so the space between two
/// walls is split near its middle rather than toward whichever wall has fewer corners.
const OUTLINE_SPACING_M: f64 = 6.0;
/// Spacing of points along roads, which separate cells so grid borders can follow them.
const ROAD_SPACING_M: f64 = 15.0;
/// Road points closer than this to the community line are left out: a road along the line is the
/// line itself.
const ROAD_MARGIN_M: f64 = 4.0;
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

/// Whether a point at least a few metres off the community line lies inside it: crossings of a
/// ray to the east with the line's indexed segments (even-odd). Thousands of road points are
/// tested; a test against the whole polygon would walk every edge for each.
fn inside_line(index: &RTree<GeomWithData<rstar::primitives::Line<[f64; 2]>, ()>>, p: [f64; 2]) -> bool {
    let ray = rstar::AABB::from_corners(p, [f64::MAX, p[1]]);
    index
        .locate_in_envelope_intersecting(&ray)
        .filter(|s| {
            let (a, b) = (s.geom().from, s.geom().to);
            // Half-open in y, so a ray through a vertex counts it once.
            (a[1] > p[1]) != (b[1] > p[1]) && {
                let x = a[0] + (p[1] - a[1]) * (b[0] - a[0]) / (b[1] - a[1]);
                x > p[0]
            }
        })
        .count()
        % 2
        == 1
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
        let mut pairs = Vec::new();
        for line in roads {
            let mut prev: Option<(u32, [f64; 2], Coord<f64>)> = None;
            for c in densify_line(line, ROAD_SPACING_M) {
                let p = self.frame.to_local(c);
                // A bounded query: the nearest segment is not needed, only whether one is near
                // (strictly nearer than the margin; the query also returns segments at it).
                let margin2 = ROAD_MARGIN_M * ROAD_MARGIN_M;
                let near_line = boundary_index
                    .locate_within_distance(p, margin2)
                    .any(|s| rstar::PointDistance::distance_2(s.geom(), &p) < margin2);
                let in_claim = || {
                    claim_boxes
                        .at_point(c)
                        .into_iter()
                        .any(|i| claims.polygons[i].1.contains(&Point(c)))
                };
                if near_line || !inside_line(boundary_index, p) || in_claim() {
                    prev = None;
                    continue;
                }
                let env_of = |a: [f64; 2], b: [f64; 2]| {
                    rstar::AABB::from_corners([a[0].min(b[0]), a[1].min(b[1])], [a[0].max(b[0]), a[1].max(b[1])])
                };
                let v = self.vertex(c);
                if let Some((u, q, d)) = prev {
                    let env = env_of(q, p);
                    // Walls are found through the claims' boxes: the local frame is monotone in
                    // each axis, so a wall crossing the segment lies in a claim whose box meets
                    // the segment's (an R-tree of every wall cost more to build than all queries).
                    let crosses_wall = || {
                        claim_boxes.intersecting(Rect::new(d, c)).into_iter().any(|i| {
                            let polygon = &claims.polygons[i].1;
                            std::iter::once(polygon.exterior())
                                .chain(polygon.interiors())
                                .flat_map(|r| r.lines())
                                .any(|l| segments_cross(q, p, self.frame.to_local(l.start), self.frame.to_local(l.end)))
                        })
                    };
                    let blocked = boundary_index
                        .locate_in_envelope_intersecting(&env)
                        .any(|s| segments_cross(q, p, s.geom().from, s.geom().to))
                        || crosses_wall();
                    if !blocked && u != v {
                        pairs.push([u, v]);
                    }
                }
                prev = Some((v, p, c));
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
        let road_pairs = b.roads(roads, &boundary_index, claims);
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
            sides: Vec::new(),
            atoms: vec![AtomShape::default(); atom_count],
            adjacency: Vec::new(),
            notes,
            splits: Vec::new(),
        };
        // Points are coded in sort keys with 30 bits of index (see `Pt::code`).
        assert!(
            t.vertex_lonlat.len().max(t.edge_ends.len()).max(t.face_corners.len()) < Pt::CODE_LIMIT,
            "a community of over a billion triangulation points"
        );
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
        t.settle_slivers(&mut corners, &inside, &on_line, &b.boundary_edges);
        t.cut_pieces(&cdt, &inside, &corners, &on_line);
        t.sides = side_table(
            &t.pieces,
            [t.vertex_lonlat.len(), t.edge_ends.len(), t.face_corners.len()],
        );
        t.split_disconnected(&point_vertices, claims);
        t.measure(roads, frame);
        Ok(t)
    }
}
