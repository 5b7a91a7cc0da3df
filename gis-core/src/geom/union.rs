//! The exact union of areas that meet edge to edge with identical vertices: edges used in both
//! directions cancel and the rest are walked into rings. No boolean overlay, which would move
//! vertices, so the union's outline is made of the areas' own vertices, bit for bit.

use super::VertexKey;
use geo::{Contains, Coord, LineString, MultiPolygon, Point, Polygon, Winding};
use rustc_hash::{FxHashMap, FxHashSet};

/// Directed edges of every ring (exteriors counter-clockwise, holes clockwise).
fn directed_edges(areas: &[&MultiPolygon<f64>]) -> Vec<(VertexKey, VertexKey)> {
    let mut out = Vec::new();
    for area in areas {
        for p in &area.0 {
            let mut ext = p.exterior().clone();
            ext.make_ccw_winding();
            let holes: Vec<LineString<f64>> = p
                .interiors()
                .iter()
                .map(|h| {
                    let mut h = h.clone();
                    h.make_cw_winding();
                    h
                })
                .collect();
            for ring in std::iter::once(&ext).chain(&holes) {
                out.extend(
                    ring.lines()
                        .map(|l| (VertexKey::of(l.start), VertexKey::of(l.end)))
                        .filter(|(a, b)| a != b),
                );
            }
        }
    }
    out
}

/// The union of grids that meet edge to edge with identical vertices.
pub(crate) fn exact_union(areas: &[&MultiPolygon<f64>]) -> MultiPolygon<f64> {
    let edges = directed_edges(areas);
    let set: FxHashSet<(VertexKey, VertexKey)> = edges.iter().copied().collect();
    let mut remaining: Vec<(VertexKey, VertexKey)> =
        edges.into_iter().filter(|(a, b)| !set.contains(&(*b, *a))).collect();
    remaining.sort_unstable();
    remaining.dedup();
    let mut out_of: FxHashMap<VertexKey, Vec<VertexKey>> = FxHashMap::default();
    for &(a, b) in &remaining {
        out_of.entry(a).or_default().push(b);
    }
    let mut rings: Vec<LineString<f64>> = Vec::new();
    for &(start, _) in &remaining {
        while let Some(first) = out_of.get_mut(&start).and_then(Vec::pop) {
            let mut ring = vec![start.coord(), first.coord()];
            let mut at = first;
            let mut guard = remaining.len() + 1;
            while at != start && guard > 0 {
                guard -= 1;
                let Some(next) = out_of.get_mut(&at).and_then(Vec::pop) else {
                    break;
                };
                ring.push(next.coord());
                at = next;
            }
            if at == start && ring.len() >= 4 {
                rings.push(LineString::new(ring));
            }
        }
    }
    let (mut shells, holes): (Vec<LineString<f64>>, Vec<LineString<f64>>) = rings.into_iter().partition(|r| r.is_ccw());
    shells.sort_by(|a, b| ring_area(b).total_cmp(&ring_area(a)));
    let mut polygons: Vec<(LineString<f64>, Vec<LineString<f64>>)> =
        shells.into_iter().map(|s| (s, Vec::new())).collect();
    for h in holes {
        // A hole goes to the smallest shell holding one of its points (shells sorted big → small).
        let probe = h.0[0];
        let owner = polygons
            .iter()
            .rposition(|(s, _)| Polygon::new(s.clone(), vec![]).contains(&Point::from(midpoint(probe, h.0[1]))));
        if let Some(i) = owner {
            polygons[i].1.push(h);
        }
    }
    MultiPolygon(polygons.into_iter().map(|(s, h)| Polygon::new(s, h)).collect())
}

pub(crate) fn midpoint(a: Coord<f64>, b: Coord<f64>) -> Coord<f64> {
    Coord {
        x: (a.x + b.x) / 2.0,
        y: (a.y + b.y) / 2.0,
    }
}

/// Unsigned shoelace area of a closed ring, in the ring's own units.
pub(crate) fn ring_area(r: &LineString<f64>) -> f64 {
    r.lines()
        .map(|l| l.start.x * l.end.y - l.end.x * l.start.y)
        .sum::<f64>()
        .abs()
        / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Area, Rect};

    fn square(x: f64, y: f64) -> MultiPolygon<f64> {
        MultiPolygon(vec![Rect::new((x, y), (x + 1.0, y + 1.0)).to_polygon()])
    }

    #[test]
    fn union_of_edge_sharing_squares_is_exact() {
        // A 3×3 block without its centre: one shell with one hole.
        let squares: Vec<MultiPolygon<f64>> = (0..3)
            .flat_map(|i| (0..3).map(move |j| (i, j)))
            .filter(|&(i, j)| (i, j) != (1, 1))
            .map(|(i, j)| square(i as f64, j as f64))
            .collect();
        let refs: Vec<&MultiPolygon<f64>> = squares.iter().collect();
        let u = exact_union(&refs);
        assert_eq!(u.0.len(), 1);
        assert_eq!(u.0[0].interiors().len(), 1);
        assert!((u.unsigned_area() - 8.0).abs() < 1e-12);
    }
}
