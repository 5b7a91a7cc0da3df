//! The sea, from OpenStreetMap's coastline. OpenStreetMap has no sea polygons: the sea is what
//! lies to the right of `natural=coastline` ways, land on their left. An extract cuts those ways
//! at its edge, so the sea inside it is made as osmcoastline makes it: the coastline's pieces,
//! joined end to end, are cut to the extract's box and closed along the box's edge clockwise,
//! which keeps the water on the right; closed coastlines inside the box (islands) become holes.
//!
//! A piece that ends inside the box, away from its edge, cannot be closed without guessing which
//! side is water for the rest of the box: then no sea is made, and the caller says so.

use geo::{Area, Contains, Coord, LineString, MultiPolygon, Polygon, Rect};

/// Why no sea could be made from the coastline.
#[derive(Debug, Clone, PartialEq)]
pub enum NoSea {
    /// A coastline piece ends this far (m) inside the box, at this position.
    EndsInside { at: Coord<f64>, metres: f64 },
    /// The coastline crosses the box, yet the pieces do not close into rings.
    Open,
}

/// A piece of coastline inside the box, its ends on the box's edge (or an island ring).
struct Piece {
    coords: Vec<Coord<f64>>,
    /// Clockwise positions of the first and last point along the box's edge.
    entry: f64,
    exit: f64,
}

/// The sea inside `extent` from coastline chains (each a way or ways joined end to end, in their
/// OpenStreetMap direction). Ends within `snap_m` of the edge are carried straight to it: an
/// extract's last node before its cut lies short of the box. An empty answer means the box holds
/// no coastline or only land.
pub fn sea(chains: &[LineString<f64>], extent: Rect<f64>, snap_m: f64) -> Result<MultiPolygon<f64>, NoSea> {
    let edge = Edge::new(extent);
    let mut pieces: Vec<Piece> = Vec::new();
    let mut islands: Vec<Polygon<f64>> = Vec::new();
    let mut water_rings: Vec<Polygon<f64>> = Vec::new();
    for chain in chains {
        let closed = chain.0.len() >= 4 && chain.0.first() == chain.0.last();
        if closed && chain.0.iter().all(|c| edge.inside(*c)) {
            // Land on the left: a counter-clockwise ring is an island, a clockwise one encloses water.
            let ring = Polygon::new(chain.clone(), vec![]);
            if ring.signed_area() > 0.0 {
                islands.push(ring);
            } else {
                water_rings.push(Polygon::new(
                    LineString(chain.0.iter().rev().copied().collect()),
                    vec![],
                ));
            }
            continue;
        }
        for mut coords in edge.clip(&chain.0) {
            // The last end first: carrying the first one shifts the indices.
            for end in [coords.len() - 1, 0] {
                let c = coords[end];
                if edge.on(c) {
                    continue;
                }
                let (to, metres) = edge.nearest(c);
                if metres > snap_m {
                    return Err(NoSea::EndsInside { at: c, metres });
                }
                if end == 0 {
                    coords.insert(0, to);
                } else {
                    coords.push(to);
                }
            }
            let (entry, exit) = (edge.position(coords[0]), edge.position(*coords.last().unwrap()));
            pieces.push(Piece { coords, entry, exit });
        }
    }
    let mut seas: Vec<Polygon<f64>> = water_rings;
    if pieces.is_empty() {
        if !islands.is_empty() {
            // Islands and no coast crossing the box: the box is sea round them.
            seas.push(extent.to_polygon());
        }
    } else {
        seas.extend(edge.close(pieces)?);
    }
    for island in islands {
        let Some(at) = island.exterior().0.first() else {
            continue;
        };
        if let Some(sea) = seas.iter_mut().find(|s| s.contains(at)) {
            sea.interiors_push(island.exterior().clone());
        }
    }
    Ok(MultiPolygon(seas))
}

/// The box's edge, measured clockwise from its top-left corner.
struct Edge {
    r: Rect<f64>,
    w: f64,
    h: f64,
    /// Metres per degree of longitude and of latitude at the box's middle.
    mx: f64,
    my: f64,
}

impl Edge {
    fn new(r: Rect<f64>) -> Self {
        let lat = r.center().y.to_radians();
        Edge {
            r,
            w: r.width(),
            h: r.height(),
            mx: 111_320.0 * lat.cos(),
            my: 110_574.0,
        }
    }

    fn inside(&self, c: Coord<f64>) -> bool {
        c.x >= self.r.min().x && c.x <= self.r.max().x && c.y >= self.r.min().y && c.y <= self.r.max().y
    }

    fn on(&self, c: Coord<f64>) -> bool {
        let (min, max) = (self.r.min(), self.r.max());
        self.inside(c) && (c.x == min.x || c.x == max.x || c.y == min.y || c.y == max.y)
    }

    /// The nearest point of the edge to `c` (inside the box) and how far it is, in metres.
    fn nearest(&self, c: Coord<f64>) -> (Coord<f64>, f64) {
        let (min, max) = (self.r.min(), self.r.max());
        [
            (Coord { x: min.x, y: c.y }, (c.x - min.x) * self.mx),
            (Coord { x: max.x, y: c.y }, (max.x - c.x) * self.mx),
            (Coord { x: c.x, y: min.y }, (c.y - min.y) * self.my),
            (Coord { x: c.x, y: max.y }, (max.y - c.y) * self.my),
        ]
        .into_iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap()
    }

    fn perimeter(&self) -> f64 {
        2.0 * (self.w + self.h)
    }

    /// Clockwise position along the edge: top edge left to right, right edge down, bottom edge
    /// right to left, left edge up.
    fn position(&self, c: Coord<f64>) -> f64 {
        let (min, max) = (self.r.min(), self.r.max());
        let d = [
            (max.y - c.y).abs(),
            (max.x - c.x).abs(),
            (c.y - min.y).abs(),
            (c.x - min.x).abs(),
        ];
        let side = (0..4).min_by(|&a, &b| d[a].total_cmp(&d[b])).unwrap();
        match side {
            0 => c.x - min.x,
            1 => self.w + (max.y - c.y),
            2 => self.w + self.h + (max.x - c.x),
            _ => 2.0 * self.w + self.h + (c.y - min.y),
        }
    }

    /// The corners passed going clockwise from position `from` to `to`.
    fn corners_between(&self, from: f64, to: f64) -> Vec<Coord<f64>> {
        let (min, max) = (self.r.min(), self.r.max());
        let p = self.perimeter();
        let corners = [
            (0.0, Coord { x: min.x, y: max.y }),
            (self.w, Coord { x: max.x, y: max.y }),
            (self.w + self.h, Coord { x: max.x, y: min.y }),
            (2.0 * self.w + self.h, Coord { x: min.x, y: min.y }),
        ];
        let span = (to - from).rem_euclid(p);
        let mut passed: Vec<(f64, Coord<f64>)> = corners
            .iter()
            .map(|&(t, c)| ((t - from).rem_euclid(p), c))
            .filter(|&(d, _)| d > 0.0 && d < span)
            .collect();
        passed.sort_by(|a, b| a.0.total_cmp(&b.0));
        passed.into_iter().map(|(_, c)| c).collect()
    }

    /// The parts of a polyline inside the box, in order and direction, each cut exactly at the
    /// edge where it crosses it.
    fn clip(&self, line: &[Coord<f64>]) -> Vec<Vec<Coord<f64>>> {
        let mut parts = Vec::new();
        let mut current: Vec<Coord<f64>> = Vec::new();
        if let Some(&first) = line.first()
            && self.inside(first)
        {
            current.push(first);
        }
        for w in line.windows(2) {
            let (a, b) = (w[0], w[1]);
            let Some((t0, t1)) = self.liang_barsky(a, b) else {
                continue;
            };
            let at = |t: f64| {
                self.snap(Coord {
                    x: a.x + (b.x - a.x) * t,
                    y: a.y + (b.y - a.y) * t,
                })
            };
            if t0 > 0.0 || current.is_empty() {
                if !current.is_empty() {
                    parts.push(std::mem::take(&mut current));
                }
                current.push(at(t0));
            }
            if t1 < 1.0 {
                current.push(at(t1));
                parts.push(std::mem::take(&mut current));
            } else {
                current.push(b);
            }
        }
        if current.len() >= 2 {
            parts.push(current);
        }
        parts.retain(|p| p.len() >= 2);
        parts
    }

    /// The stretch [t0, t1] of segment a→b inside the box, if any.
    fn liang_barsky(&self, a: Coord<f64>, b: Coord<f64>) -> Option<(f64, f64)> {
        let (min, max) = (self.r.min(), self.r.max());
        let (dx, dy) = (b.x - a.x, b.y - a.y);
        let (mut t0, mut t1) = (0.0f64, 1.0f64);
        for (p, q) in [
            (-dx, a.x - min.x),
            (dx, max.x - a.x),
            (-dy, a.y - min.y),
            (dy, max.y - a.y),
        ] {
            if p == 0.0 {
                if q < 0.0 {
                    return None;
                }
            } else {
                let t = q / p;
                if p < 0.0 {
                    t0 = t0.max(t);
                } else {
                    t1 = t1.min(t);
                }
            }
        }
        (t0 <= t1 && !(t0 == t1 && (t0 == 0.0 || t0 == 1.0))).then_some((t0, t1))
    }

    /// A point computed on the edge, put exactly on it (the nearest side's coordinate).
    fn snap(&self, c: Coord<f64>) -> Coord<f64> {
        let (min, max) = (self.r.min(), self.r.max());
        let eps = 1e-12 * (1.0 + self.w.max(self.h));
        let onto = |v: f64, lo: f64, hi: f64| {
            let v = v.clamp(lo, hi);
            if (v - lo).abs() < eps {
                lo
            } else if (hi - v).abs() < eps {
                hi
            } else {
                v
            }
        };
        Coord {
            x: onto(c.x, min.x, max.x),
            y: onto(c.y, min.y, max.y),
        }
    }

    /// Rings of water from pieces whose ends lie on the edge: after each piece's exit, the edge
    /// is followed clockwise to the nearest entry, whose piece comes next.
    fn close(&self, pieces: Vec<Piece>) -> Result<Vec<Polygon<f64>>, NoSea> {
        let p = self.perimeter();
        let mut used = vec![false; pieces.len()];
        let mut rings = Vec::new();
        for start in 0..pieces.len() {
            if used[start] {
                continue;
            }
            used[start] = true;
            let mut ring: Vec<Coord<f64>> = pieces[start].coords.clone();
            let mut at = start;
            loop {
                let exit = pieces[at].exit;
                // The next entry clockwise; the ring's own start counts, as it closes the ring.
                let next = (0..pieces.len())
                    .filter(|&i| !used[i] || i == start)
                    .min_by(|&a, &b| {
                        (pieces[a].entry - exit)
                            .rem_euclid(p)
                            .total_cmp(&(pieces[b].entry - exit).rem_euclid(p))
                    })
                    .ok_or(NoSea::Open)?;
                ring.extend(self.corners_between(exit, pieces[next].entry));
                if next == start {
                    ring.push(ring[0]);
                    break;
                }
                used[next] = true;
                ring.extend(pieces[next].coords.iter().copied());
                at = next;
            }
            ring.dedup();
            if ring.len() >= 4 {
                // Water on the right makes a clockwise ring; store it the usual way round.
                let mut poly = Polygon::new(LineString(ring), vec![]);
                if poly.signed_area() < 0.0 {
                    poly = Polygon::new(LineString(poly.exterior().0.iter().rev().copied().collect()), vec![]);
                }
                rings.push(poly);
            }
        }
        Ok(rings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Contains, Point, coord};

    fn box01() -> Rect<f64> {
        Rect::new(coord! { x: 0.0, y: 0.0 }, coord! { x: 0.01, y: 0.01 })
    }

    fn line(c: &[(f64, f64)]) -> LineString<f64> {
        LineString(c.iter().map(|&(x, y)| Coord { x, y }).collect())
    }

    #[test]
    fn a_coast_across_the_box_makes_the_water_side_sea() {
        // Running east, land on the left (north): the sea is the southern half.
        let coast = line(&[(-0.005, 0.005), (0.015, 0.005)]);
        let water = sea(&[coast], box01(), 100.0).unwrap();
        assert_eq!(water.0.len(), 1);
        assert!(water.contains(&Point::new(0.005, 0.002)));
        assert!(!water.contains(&Point::new(0.005, 0.008)));
        // The other way round, the northern half.
        let coast = line(&[(0.015, 0.005), (-0.005, 0.005)]);
        let water = sea(&[coast], box01(), 100.0).unwrap();
        assert!(water.contains(&Point::new(0.005, 0.008)));
        assert!(!water.contains(&Point::new(0.005, 0.002)));
    }

    #[test]
    fn a_bay_and_an_island_and_ends_short_of_the_edge() {
        // A bay reaching in from the east edge (land on the left going in along its south shore,
        // water to the north), its ends 5 m short of the edge, as an extract cuts them.
        let short = 0.01 - 0.00005;
        let bay = line(&[(short, 0.004), (0.003, 0.004), (0.003, 0.006), (short, 0.006)]);
        // An island in the bay: counter-clockwise.
        let island = line(&[
            (0.006, 0.0045),
            (0.007, 0.0045),
            (0.007, 0.0055),
            (0.006, 0.0055),
            (0.006, 0.0045),
        ]);
        let sea = sea(&[bay, island], box01(), 50.0).unwrap();
        assert_eq!(sea.0.len(), 1);
        assert!(sea.contains(&Point::new(0.005, 0.005)), "the bay");
        assert!(!sea.contains(&Point::new(0.0065, 0.005)), "the island");
        assert!(!sea.contains(&Point::new(0.002, 0.005)), "the land west of the bay");
        assert!(!sea.contains(&Point::new(0.008, 0.002)), "the land south of the bay");
        let area = sea.0[0].unsigned_area();
        assert!((area - (0.007 * 0.002 - 0.000001)).abs() < 1e-12, "{area}");
    }

    #[test]
    fn two_pieces_join_along_the_edge() {
        // A headland: the coast enters from the south, leaves east; a second stretch enters from
        // the north and leaves west. Water right of each: south-east corner and north-west.
        let a = line(&[(0.005, -0.001), (0.005, 0.003), (0.011, 0.003)]);
        let b = line(&[(0.003, 0.011), (0.003, 0.008), (-0.001, 0.008)]);
        let sea = sea(&[a, b], box01(), 50.0).unwrap();
        assert_eq!(sea.0.len(), 2);
        assert!(sea.contains(&Point::new(0.008, 0.001)));
        assert!(sea.contains(&Point::new(0.001, 0.009)));
        assert!(!sea.contains(&Point::new(0.005, 0.005)));
    }

    #[test]
    fn a_coast_that_stops_inside_makes_no_sea() {
        let coast = line(&[(-0.005, 0.005), (0.005, 0.005)]);
        assert!(matches!(sea(&[coast], box01(), 100.0), Err(NoSea::EndsInside { .. })));
    }

    #[test]
    fn no_coast_no_sea() {
        assert!(sea(&[], box01(), 100.0).unwrap().0.is_empty());
    }
}
