//! Who owns what: which faces lie inside the community, the owner of every corner of every
//! inside face (open space by nearest atom without crossing a road), each face cut into pieces
//! by those owners, every atom's cell made connected, and the cells measured.

use super::{
    Adjacency, AtomIx, AtomShape, Cdt, Claims, NO_OWNER, Note, PIECE_POINTS, Piece, Pt, Split, Tessellation,
    by_segment, ring_area_centroid,
};
use crate::geom::LocalFrame;
use geo::{Contains, LineString, MultiPolygon, Point};
use rstar::RTree;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use spade::Triangulation;
use spade::handles::{FixedFaceHandle, FixedVertexHandle, InnerTag};
use std::collections::BinaryHeap;

/// A border between atoms "runs along a road" where it lies within this distance of one.
const ROAD_BAND_M: f64 = 12.0;
/// Open space beyond a road goes to the atom nearest on its own side; only a block holding no
/// atom at all is reached across a road, at this extra cost.
const ROAD_CROSSING_PENALTY_M: f64 = 500.0;

impl Tessellation {
    /// Makes every atom's cell connected: the largest connected part keeps the atom, each other
    /// part becomes a new atom (with the points standing in it).
    #[inline(never)]
    pub(super) fn split_disconnected(&mut self, point_vertices: &[u32], claims: &Claims) {
        let n = self.pieces.len();
        let mut uf: Vec<usize> = (0..n).collect();
        fn find(uf: &mut [usize], mut x: usize) -> usize {
            while uf[x] != x {
                uf[x] = uf[uf[x]];
                x = uf[x];
            }
            x
        }
        // Pieces of one owner that share a segment are one part of its cell.
        for run in by_segment(&self.sides) {
            let first = run[0].piece as usize;
            for side in &run[1..] {
                let i = side.piece as usize;
                if self.pieces[i].owner == self.pieces[first].owner {
                    let (a, b) = (find(&mut uf, i), find(&mut uf, first));
                    uf[a] = b;
                }
            }
        }
        // Each part is named by its first piece, whatever order the parts were joined in.
        let mut first_of = vec![usize::MAX; n];
        let roots: Vec<usize> = (0..n)
            .map(|i| {
                let r = find(&mut uf, i);
                if first_of[r] == usize::MAX {
                    first_of[r] = i;
                }
                first_of[r]
            })
            .collect();
        // Components per atom; areas only for atoms in more than one part (few), summed in
        // piece order.
        let mut comps: Vec<Vec<usize>> = vec![Vec::new(); self.atoms.len()];
        for (piece, &root) in self.pieces.iter().zip(&roots) {
            let list = &mut comps[piece.owner as usize];
            if !list.contains(&root) {
                list.push(root);
            }
        }
        let mut area_of: HashMap<usize, f64> = HashMap::default();
        let mut pts: Vec<[f64; 2]> = Vec::new();
        for (piece, &root) in self.pieces.iter().zip(&roots) {
            if comps[piece.owner as usize].len() > 1 {
                pts.clear();
                pts.extend(piece.ring().iter().map(|&p| self.local(p)));
                *area_of.entry(root).or_default() += ring_area_centroid(&pts).0;
            }
        }
        let mut new_of_root: HashMap<usize, AtomIx> = HashMap::default();
        for (atom, parts) in comps.iter().enumerate() {
            if parts.len() < 2 {
                continue;
            }
            let mut list: Vec<(usize, f64)> = parts.iter().map(|&r| (r, area_of[&r])).collect();
            // The largest part keeps the atom; ties by root for determinism.
            list.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            for &(root, _) in &list[1..] {
                let new = self.atoms.len() as AtomIx;
                self.atoms.push(AtomShape::default());
                new_of_root.insert(root, new);
                self.splits.push(Split {
                    original: atom as AtomIx,
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
        for (piece, &root) in self.pieces.iter().zip(&roots) {
            for p in piece.ring() {
                if let Pt::Vertex(v) = p {
                    root_at.entry((piece.owner, *v)).or_insert(root);
                }
            }
        }
        for (k, (&v, (atom, _))) in point_vertices.iter().zip(&claims.points).enumerate() {
            if let Some(new) = root_at.get(&(*atom, v)).and_then(|r| new_of_root.get(r))
                && let Some(split) = self.splits.iter_mut().find(|s| s.new == *new)
            {
                split.points.push(k);
            }
        }
        for (piece, root) in self.pieces.iter_mut().zip(roots) {
            if let Some(&new) = new_of_root.get(&root) {
                piece.owner = new;
            }
        }
    }

    /// Near-collinear points on the community line make sliver faces whose corners all lie on the
    /// line. Split like other faces, a sliver with three owners would put its centroid, a new
    /// point, on the line. Instead each sliver goes whole to the owner that its parent face (across
    /// its longest inner edge, the chord) gives that chord — chords split at their lower end (see
    /// `cut_pieces`), so that is the owner at the chord's upper end. Slivers hanging off slivers
    /// follow their parent, so every sliver is attached by an edge to its owner's cell.
    #[inline(never)]
    pub(super) fn settle_slivers(
        &self,
        corners: &mut [[AtomIx; 3]],
        inside: &[bool],
        on_line: &[bool],
        boundary_edges: &HashSet<[u32; 2]>,
    ) {
        const SLIVER_M2: f64 = 1e-3;
        let faces: Vec<usize> = (0..corners.len()).filter(|&f| inside[f]).collect();
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
                            Some(corners[g][at])
                        } else if settled.contains(&g) {
                            Some(corners[g][0])
                        } else {
                            None
                        }
                    });
                match owner {
                    Some(o) => {
                        corners[f] = [o; 3];
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

    #[inline(never)]
    pub(super) fn cut_pieces(&mut self, cdt: &Cdt, inside: &[bool], corners: &[[AtomIx; 3]], on_line: &[bool]) {
        // An edge is split where its two ends belong to different atoms as seen from either face.
        let mut split: Vec<Option<Pt>> = vec![None; self.edge_ends.len()];
        for f in cdt.inner_faces() {
            let fi = f.fix().index();
            if !inside[fi] {
                continue;
            }
            let owners = corners[fi];
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
                    split[ei] = Some(at);
                }
            }
        }
        for f in cdt.inner_faces() {
            let fi = f.fix().index();
            if !inside[fi] {
                continue;
            }
            let o = corners[fi];
            let c = self.face_corners[fi].map(Pt::Vertex);
            let edges = f.adjacent_edges().map(|e| e.fix().as_undirected().index());
            let s: [Option<Pt>; 3] = edges.map(|e| split[e]);
            let mut emit = |owner: AtomIx, pts: &[Option<Pt>]| {
                let mut ring = [Pt::Vertex(0); PIECE_POINTS];
                let mut len = 0;
                for &p in pts.iter().flatten() {
                    if len == 0 || ring[len - 1] != p {
                        ring[len] = p;
                        len += 1;
                    }
                }
                while len > 1 && ring[0] == ring[len - 1] {
                    len -= 1;
                }
                if len >= 3 {
                    self.pieces.push(Piece::new(owner, &ring[..len]));
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
    #[inline(never)]
    pub(super) fn measure(&mut self, roads: &[LineString<f64>], frame: LocalFrame) {
        let road_index: RTree<rstar::primitives::Line<[f64; 2]>> = RTree::bulk_load(
            roads
                .iter()
                .flat_map(|l| l.lines())
                .map(|l| rstar::primitives::Line::new(frame.to_local(l.start), frame.to_local(l.end)))
                .collect(),
        );
        let mut weighted = vec![[0.0f64; 2]; self.atoms.len()];
        let mut pts: Vec<[f64; 2]> = Vec::new();
        for piece in &self.pieces {
            pts.clear();
            pts.extend(piece.ring().iter().map(|&p| self.local(p)));
            let (area, cx, cy) = ring_area_centroid(&pts);
            let shape = &mut self.atoms[piece.owner as usize];
            shape.area_m2 += area;
            weighted[piece.owner as usize][0] += cx * area;
            weighted[piece.owner as usize][1] += cy * area;
        }
        for (shape, w) in self.atoms.iter_mut().zip(weighted) {
            if shape.area_m2 > 0.0 {
                shape.centroid = [w[0] / shape.area_m2, w[1] / shape.area_m2];
            }
        }
        let mut pairs: HashMap<(AtomIx, AtomIx), (f64, f64)> = HashMap::default();
        // Segment by segment in sorted order: hash order must not reach the sums.
        for run in by_segment(&self.sides) {
            let a = self.pieces[run[0].piece as usize].owner;
            let b = match run {
                [_] => NO_OWNER,
                [.., last] => self.pieces[last.piece as usize].owner,
                [] => continue,
            };
            let (p, q) = run[0].ends();
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
}

/// Which faces lie inside the community: flood fill across every edge but the community line,
/// then one point-in-polygon test per region, at the centroid of its largest face (a sliver's
/// centroid can sit a hair's breadth on the wrong side of the line).
#[inline(never)]
pub(super) fn inside_faces(
    cdt: &Cdt,
    boundary_edges: &HashSet<[u32; 2]>,
    boundary: &MultiPolygon<f64>,
    t: &Tessellation,
) -> Vec<bool> {
    let n = cdt.num_all_faces();
    let mut region = vec![usize::MAX; n];
    let mut probe: Vec<(usize, f64)> = Vec::new(); // per region: (largest face, its area)
    let area = |f: usize| {
        ring_area_centroid(&t.face_corners[f].map(|v| t.vertex_local[v as usize]))
            .0
            .abs()
    };
    // Only an edge with both ends on the line can be one of its edges: most are ruled out
    // without a lookup.
    let mut on_line = vec![false; t.vertex_local.len()];
    for &[p, q] in boundary_edges {
        on_line[p as usize] = true;
        on_line[q as usize] = true;
    }
    let is_line =
        |p: u32, q: u32| on_line[p as usize] && on_line[q as usize] && boundary_edges.contains(&[p.min(q), p.max(q)]);
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
                if is_line(e.from().fix().index() as u32, e.to().fix().index() as u32) {
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
                let on_line = is_line(e.from().fix().index() as u32, e.to().fix().index() as u32);
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
#[inline(never)]
pub(super) fn open_space_owners(
    cdt: &Cdt,
    inside: &[bool],
    owners: &[AtomIx],
    road_edges: &HashSet<[u32; 2]>,
    local: &[[f64; 2]],
    face_corners: &[[u32; 3]],
    notes: &mut Vec<Note>,
) -> Vec<[AtomIx; 3]> {
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

    // Sectors: runs of inside faces around an unowned vertex between road edges. A face's
    // sectors are kept by the slot of the vertex among the face's corners.
    const NO_NODE: usize = usize::MAX;
    let slot = |f: usize, v: u32| {
        face_corners[f]
            .iter()
            .position(|&w| w == v)
            .expect("a corner of the face")
    };
    let mut node_of: Vec<[usize; 3]> = vec![[NO_NODE; 3]; face_corners.len()];
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
                node_of[f][slot(f, v)] = node;
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
            for (w, next) in corners(f).into_iter().zip(node_of[f]) {
                if next != NO_NODE {
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
    node_of
        .into_iter()
        .map(|nodes| nodes.map(|node| if node == NO_NODE { NO_OWNER } else { owner[node] }))
        .collect()
}

/// The owner of each corner of each inside face. A vertex claimed by one atom answers for all its
/// faces; a vertex several atoms claim (touching buildings, unit slices) answers per face: the
/// atom whose inside the face is in, or for open space the atom of the wall that bounds that run
/// of open faces around the vertex, so every atom's share stays attached to it by an edge.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
pub(super) fn corner_owners(
    cdt: &Cdt,
    inside: &[bool],
    owners: &[AtomIx],
    open: &[[AtomIx; 3]],
    shared: &HashMap<u32, Vec<AtomIx>>,
    outlines_at: &HashMap<u32, Vec<usize>>,
    claims: &Claims,
    t: &Tessellation,
) -> Vec<[AtomIx; 3]> {
    // Resolve shared vertices face by face, walking each fan once.
    let mut resolved: Vec<[AtomIx; 3]> = vec![[NO_OWNER; 3]; t.face_corners.len()];
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
            let k = t.face_corners[f.index()]
                .iter()
                .position(|&w| w == v)
                .expect("a corner of the face");
            resolved[f.index()][k] = owner;
        }
    }
    // Indexed by face; outside faces keep no owner.
    let mut out = vec![[NO_OWNER; 3]; cdt.num_all_faces()];
    for f in cdt.inner_faces() {
        let fi = f.fix().index();
        if !inside[fi] {
            continue;
        }
        let corners = t.face_corners[fi];
        out[fi] = std::array::from_fn(|k| {
            let v = corners[k];
            [resolved[fi][k], open[fi][k]]
                .into_iter()
                .find(|&o| o != NO_OWNER)
                .unwrap_or(owners[v as usize])
        });
    }
    out
}
