//! GeoJSON geometry → `geo` types, strictly: every position is a finite lon/lat pair in range,
//! rings are closed and simple. Only what is unambiguous is repaired (ring orientation, repeated
//! consecutive positions), and each repair is reported.

use super::InputProblemKind;
use super::json::NON_FINITE;
use super::stream::{self, Shaped};
use geo::algorithm::line_intersection::{LineIntersection, line_intersection};
use geo::algorithm::validation::{InvalidMultiPolygon, InvalidPolygon, RingRole, Validation};
use geo::{Area, Coord, Line, LineString, MultiLineString, MultiPolygon, Point, Polygon, Winding};
use serde_json::Value;

/// One thing wrong (or repaired) inside a geometry; `path` is relative to the feature.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Issue {
    pub path: String,
    pub kind: InputProblemKind,
    pub message: String,
}

impl Issue {
    fn new(path: impl Into<String>, kind: InputProblemKind, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            kind,
            message: message.into(),
        }
    }
}

/// A parsed geometry and the repairs made to it.
pub(crate) type Parsed<G> = Result<(G, Vec<Issue>), Issue>;

/// The geometry types a file accepts.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Shape {
    Polygonal,
    Point,
    Lineal,
    /// Areas or lines (water: lakes and rivers alike).
    PolygonalOrLineal,
    /// Lines or points (the walking layer: ways and barriers, gates and entrances).
    LinealOrPoint,
}

impl Shape {
    fn expected(self) -> &'static str {
        match self {
            Shape::Polygonal => "Polygon or MultiPolygon",
            Shape::Point => "Point",
            Shape::Lineal => "LineString or MultiLineString",
            Shape::PolygonalOrLineal => "Polygon, MultiPolygon, LineString or MultiLineString",
            Shape::LinealOrPoint => "LineString, MultiLineString or Point",
        }
    }

    pub fn allows(self, kind: &str) -> bool {
        let allowed: &[&str] = match self {
            Shape::Polygonal => &["Polygon", "MultiPolygon"],
            Shape::Point => &["Point"],
            Shape::Lineal => &["LineString", "MultiLineString"],
            Shape::PolygonalOrLineal => &["Polygon", "MultiPolygon", "LineString", "MultiLineString"],
            Shape::LinealOrPoint => &["LineString", "MultiLineString", "Point"],
        };
        allowed.contains(&kind)
    }
}

/// A feature's geometry as one of the two readers holds it: a member of a whole-file tree, or
/// read apart by the streaming reader (see [`stream`]). Either way the same checks run, in the
/// same order, with the same messages.
pub(crate) enum Geom<'v> {
    Tree(Option<&'v Value>),
    Streamed(Option<stream::Geometry>),
}

fn missing(shape: Shape) -> Issue {
    Issue::new(
        "geometry",
        InputProblemKind::MissingField,
        format!("missing; expected a {}", shape.expected()),
    )
}

fn untyped(shape: Shape) -> Issue {
    Issue::new(
        "geometry.type",
        InputProblemKind::MissingField,
        format!("missing; expected \"{}\"", shape.expected()),
    )
}

fn wrong_type(shape: Shape, kind: &str) -> Issue {
    Issue::new(
        "geometry.type",
        InputProblemKind::WrongGeometryType,
        format!("expected a {}, found {kind:?}", shape.expected()),
    )
}

fn no_coordinates() -> Issue {
    Issue::new("geometry.coordinates", InputProblemKind::MissingField, "missing")
}

/// The streamed geometry's coordinates, when it has a type the file takes and coordinates.
fn shaped(geometry: Option<stream::Geometry>, shape: Shape) -> Result<Shaped, Issue> {
    match geometry.ok_or_else(|| missing(shape))? {
        stream::Geometry::Untyped => Err(untyped(shape)),
        stream::Geometry::Other(kind) => Err(wrong_type(shape, &kind)),
        stream::Geometry::NoCoordinates => Err(no_coordinates()),
        stream::Geometry::Shaped(s) if shape.allows(s.kind()) => Ok(s),
        stream::Geometry::Shaped(s) => Err(wrong_type(shape, s.kind())),
    }
}

/// The `type` and `coordinates` of a feature's geometry, checked against what the file accepts.
fn typed(geometry: Option<&Value>, shape: Shape) -> Result<(&str, &Value), Issue> {
    let geometry = geometry.filter(|g| !g.is_null()).ok_or_else(|| missing(shape))?;
    let Some(kind) = geometry.get("type").and_then(Value::as_str) else {
        return Err(untyped(shape));
    };
    if !shape.allows(kind) {
        return Err(wrong_type(shape, kind));
    }
    let coords = geometry.get("coordinates").ok_or_else(no_coordinates)?;
    Ok((kind, coords))
}

pub(crate) fn point(geometry: Geom) -> Parsed<Point<f64>> {
    let path = "geometry.coordinates";
    let at = match geometry {
        Geom::Tree(g) => position(typed(g, Shape::Point)?.1, path)?,
        Geom::Streamed(g) => match shaped(g, Shape::Point)? {
            Shaped::Point(c) => checked_position(c, || path.to_string())?,
            other => return Err(wrong_type(Shape::Point, other.kind())),
        },
    };
    Ok((at.into(), Vec::new()))
}

pub(crate) fn lineal(geometry: Geom) -> Parsed<MultiLineString<f64>> {
    let mut repairs = Vec::new();
    let lines = match geometry {
        Geom::Tree(g) => {
            let (kind, coords) = typed(g, Shape::Lineal)?;
            if kind == "LineString" {
                vec![line(coords, "geometry.coordinates", &mut repairs)?]
            } else {
                array(coords, "geometry.coordinates", "an array of LineStrings")?
                    .iter()
                    .enumerate()
                    .map(|(i, l)| line(l, &format!("geometry.coordinates[{i}]"), &mut repairs))
                    .collect::<Result<_, _>>()?
            }
        }
        Geom::Streamed(g) => match shaped(g, Shape::Lineal)? {
            Shaped::LineString(l) => {
                let path = "geometry.coordinates";
                vec![line_from(checked_positions(l, path)?, path, &mut repairs)?]
            }
            Shaped::MultiLineString(ls) => ls
                .into_iter()
                .enumerate()
                .map(|(i, l)| {
                    let path = format!("geometry.coordinates[{i}]");
                    line_from(checked_positions(l, &path)?, &path, &mut repairs)
                })
                .collect::<Result<_, _>>()?,
            other => return Err(wrong_type(Shape::Lineal, other.kind())),
        },
    };
    Ok((MultiLineString(lines), repairs))
}

pub(crate) fn polygonal(geometry: Geom) -> Parsed<MultiPolygon<f64>> {
    let mut repairs = Vec::new();
    let (kind, polygons) = match geometry {
        Geom::Tree(g) => {
            let (kind, coords) = typed(g, Shape::Polygonal)?;
            let polygons = if kind == "Polygon" {
                vec![polygon(coords, "geometry.coordinates", &mut repairs)?]
            } else {
                array(coords, "geometry.coordinates", "an array of Polygons")?
                    .iter()
                    .enumerate()
                    .map(|(i, p)| polygon(p, &format!("geometry.coordinates[{i}]"), &mut repairs))
                    .collect::<Result<_, _>>()?
            };
            (kind, polygons)
        }
        Geom::Streamed(g) => match shaped(g, Shape::Polygonal)? {
            Shaped::Polygon(rings) => (
                "Polygon",
                vec![streamed_polygon(rings, "geometry.coordinates", &mut repairs)?],
            ),
            Shaped::MultiPolygon(polygons) => (
                "MultiPolygon",
                polygons
                    .into_iter()
                    .enumerate()
                    .map(|(i, p)| streamed_polygon(p, &format!("geometry.coordinates[{i}]"), &mut repairs))
                    .collect::<Result<_, _>>()?,
            ),
            other => return Err(wrong_type(Shape::Polygonal, other.kind())),
        },
    };
    if polygons.is_empty() {
        return Err(Issue::new(
            "geometry.coordinates",
            InputProblemKind::TooFewPoints,
            "holds no polygon",
        ));
    }
    let multi = MultiPolygon(polygons);
    if kind == "MultiPolygon"
        && !crate::geom::surely_valid_multi(&multi)
        && let Some(err) = multi.validation_errors().into_iter().next()
    {
        return Err(multipolygon_issue(&multi, err));
    }
    Ok((multi, repairs))
}

/// An area or a line, as its type says; each checked as [`polygonal`] or [`lineal`] checks it.
pub(crate) fn polygonal_or_lineal(geometry: Geom) -> Parsed<crate::model::ContextShape> {
    use crate::model::ContextShape;
    let shape = Shape::PolygonalOrLineal;
    let lines = match &geometry {
        Geom::Tree(g) => typed(*g, shape)?.0.ends_with("LineString"),
        Geom::Streamed(None) => return Err(missing(shape)),
        Geom::Streamed(Some(stream::Geometry::Untyped)) => return Err(untyped(shape)),
        Geom::Streamed(Some(stream::Geometry::Other(kind))) => return Err(wrong_type(shape, kind)),
        Geom::Streamed(Some(stream::Geometry::NoCoordinates)) => return Err(no_coordinates()),
        Geom::Streamed(Some(stream::Geometry::Shaped(s))) => s.kind().ends_with("LineString"),
    };
    if lines {
        lineal(geometry).map(|(l, r)| (ContextShape::Line(l), r))
    } else {
        polygonal(geometry).map(|(a, r)| (ContextShape::Area(a), r))
    }
}

/// A line or a point, as its type says; each checked as [`lineal`] or [`point`] checks it.
pub(crate) enum LineOrPoint {
    Line(MultiLineString<f64>),
    Point(Point<f64>),
}

pub(crate) fn lineal_or_point(geometry: Geom) -> Parsed<LineOrPoint> {
    let shape = Shape::LinealOrPoint;
    let point_typed = match &geometry {
        Geom::Tree(g) => typed(*g, shape)?.0 == "Point",
        Geom::Streamed(None) => return Err(missing(shape)),
        Geom::Streamed(Some(stream::Geometry::Untyped)) => return Err(untyped(shape)),
        Geom::Streamed(Some(stream::Geometry::Other(kind))) => return Err(wrong_type(shape, kind)),
        Geom::Streamed(Some(stream::Geometry::NoCoordinates)) => return Err(no_coordinates()),
        Geom::Streamed(Some(stream::Geometry::Shaped(s))) => s.kind() == "Point",
    };
    if point_typed {
        point(geometry).map(|(p, r)| (LineOrPoint::Point(p), r))
    } else {
        lineal(geometry).map(|(l, r)| (LineOrPoint::Line(l), r))
    }
}

fn array<'a>(v: &'a Value, path: &str, expected: &str) -> Result<&'a Vec<Value>, Issue> {
    v.as_array().ok_or_else(|| {
        Issue::new(
            path,
            InputProblemKind::WrongType,
            format!("expected {expected}, found {}", kind_of(v)),
        )
    })
}

pub(crate) fn kind_of(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {s:?}"),
        Value::Array(a) => format!("an array of {}", a.len()),
        Value::Object(_) => "an object".into(),
    }
}

/// A `[longitude, latitude]` (an altitude, if present, is ignored).
fn position(v: &Value, path: &str) -> Result<Coord<f64>, Issue> {
    let items = array(v, path, "a position [longitude, latitude]")?;
    if !(2..=3).contains(&items.len()) {
        return Err(Issue::new(
            path,
            InputProblemKind::WrongType,
            format!(
                "expected a position [longitude, latitude], found {} numbers",
                items.len()
            ),
        ));
    }
    let mut xy = [0.0; 2];
    for (i, item) in items.iter().take(2).enumerate() {
        let at = format!("{path}[{i}]");
        xy[i] = match item {
            Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
            Value::String(s) if NON_FINITE.contains(&s.as_str()) => {
                return Err(Issue::new(
                    at,
                    InputProblemKind::NonFiniteCoordinate,
                    format!("{s} is not a coordinate; expected a finite number"),
                ));
            }
            other => {
                return Err(Issue::new(
                    at,
                    InputProblemKind::WrongType,
                    format!("expected a number, found {}", kind_of(other)),
                ));
            }
        };
        if !xy[i].is_finite() {
            return Err(Issue::new(
                at,
                InputProblemKind::NonFiniteCoordinate,
                "expected a finite number",
            ));
        }
    }
    lonlat(xy, path)
}

/// A streamed position, checked as [`position`] checks a tree's; `path` is only written out
/// when the position is wrong.
fn checked_position(c: Coord<f64>, path: impl FnOnce() -> String) -> Result<Coord<f64>, Issue> {
    if c.x.is_finite() && c.y.is_finite() && (-180.0..=180.0).contains(&c.x) && (-90.0..=90.0).contains(&c.y) {
        return Ok(c);
    }
    let path = path();
    for (i, v) in [c.x, c.y].into_iter().enumerate() {
        if !v.is_finite() {
            return Err(Issue::new(
                format!("{path}[{i}]"),
                InputProblemKind::NonFiniteCoordinate,
                "expected a finite number",
            ));
        }
    }
    lonlat([c.x, c.y], &path)
}

/// Streamed positions, each checked; the path of each is `path[i]`.
fn checked_positions(coords: Vec<Coord<f64>>, path: &str) -> Result<Vec<Coord<f64>>, Issue> {
    for (i, &c) in coords.iter().enumerate() {
        checked_position(c, || format!("{path}[{i}]"))?;
    }
    Ok(coords)
}

/// A finite `[longitude, latitude]` pair in range, or why not.
fn lonlat(xy: [f64; 2], path: &str) -> Result<Coord<f64>, Issue> {
    let [lon, lat] = xy;
    let lon_ok = (-180.0..=180.0).contains(&lon);
    let lat_ok = (-90.0..=90.0).contains(&lat);
    if lon_ok && lat_ok {
        return Ok(Coord { x: lon, y: lat });
    }
    // [lat, lon] is the commonest mistake; say so when swapping would make the pair valid.
    if (-90.0..=90.0).contains(&lon) && (-180.0..=180.0).contains(&lat) {
        return Err(Issue::new(
            path,
            InputProblemKind::SwappedCoordinates,
            format!(
                "latitude {lat} is outside [-90, 90]; [{lon}, {lat}] looks like [latitude, longitude] \
                 swapped — GeoJSON positions are [longitude, latitude]"
            ),
        ));
    }
    let (name, value, range) = if !lon_ok {
        ("longitude", lon, "[-180, 180]")
    } else {
        ("latitude", lat, "[-90, 90]")
    };
    Err(Issue::new(
        path,
        InputProblemKind::CoordinateOutOfRange,
        format!("{name} {value} is outside {range}; dataset coordinates are WGS-84 degrees"),
    ))
}

fn positions(v: &Value, path: &str) -> Result<Vec<Coord<f64>>, Issue> {
    array(v, path, "an array of positions")?
        .iter()
        .enumerate()
        .map(|(i, p)| match plain_position(p) {
            Some(c) => checked_position(c, || format!("{path}[{i}]")),
            None => position(p, &format!("{path}[{i}]")),
        })
        .collect()
}

/// Two or three numbers, the first two read: the common position, taken without writing out a
/// path that only a problem would name (three paths a vertex were most of reading a layer).
fn plain_position(v: &Value) -> Option<Coord<f64>> {
    let Value::Array(items) = v else { return None };
    if !(2..=3).contains(&items.len()) {
        return None;
    }
    let (Value::Number(x), Value::Number(y)) = (&items[0], &items[1]) else {
        return None;
    };
    Some(Coord {
        x: x.as_f64()?,
        y: y.as_f64()?,
    })
}

/// Drops positions equal to the one before; reports how many.
fn drop_repeats(mut coords: Vec<Coord<f64>>, path: &str, repairs: &mut Vec<Issue>) -> Vec<Coord<f64>> {
    let before = coords.len();
    coords.dedup();
    if coords.len() < before {
        repairs.push(Issue::new(
            path,
            InputProblemKind::RepeatedPointRemoved,
            format!("removed {} repeated consecutive position(s)", before - coords.len()),
        ));
    }
    coords
}

fn line(v: &Value, path: &str, repairs: &mut Vec<Issue>) -> Result<LineString<f64>, Issue> {
    line_from(positions(v, path)?, path, repairs)
}

fn line_from(coords: Vec<Coord<f64>>, path: &str, repairs: &mut Vec<Issue>) -> Result<LineString<f64>, Issue> {
    let coords = drop_repeats(coords, path, repairs);
    if coords.len() < 2 {
        return Err(Issue::new(
            path,
            InputProblemKind::TooFewPoints,
            "a line needs at least 2 distinct positions",
        ));
    }
    Ok(LineString(coords))
}

fn ring_from(coords: Vec<Coord<f64>>, path: &str, repairs: &mut Vec<Issue>) -> Result<LineString<f64>, Issue> {
    if coords.len() < 4 {
        return Err(Issue::new(
            path,
            InputProblemKind::TooFewPoints,
            format!(
                "a ring needs at least 4 positions (3 distinct + the closing one), found {}",
                coords.len()
            ),
        ));
    }
    let (first, last) = (coords[0], coords[coords.len() - 1]);
    if first != last {
        return Err(Issue::new(
            path,
            InputProblemKind::UnclosedRing,
            format!(
                "ring is not closed: it starts at [{}, {}] and ends at [{}, {}]; a ring must end \
                 where it starts",
                first.x, first.y, last.x, last.y
            ),
        ));
    }
    let coords = drop_repeats(coords, path, repairs);
    if coords.len() < 4 {
        return Err(Issue::new(
            path,
            InputProblemKind::TooFewPoints,
            "a ring needs at least 3 distinct positions",
        ));
    }
    Ok(LineString(coords))
}

fn polygon(v: &Value, path: &str, repairs: &mut Vec<Issue>) -> Result<Polygon<f64>, Issue> {
    let rings = array(v, path, "an array of rings")?;
    polygon_from(rings.iter(), path, repairs, positions)
}

fn streamed_polygon(rings: Vec<Vec<Coord<f64>>>, path: &str, repairs: &mut Vec<Issue>) -> Result<Polygon<f64>, Issue> {
    polygon_from(rings.into_iter(), path, repairs, checked_positions)
}

/// A polygon of `rings` (exterior first); `positions` reads ring i's positions, given its path
/// `path[i]`, only after ring i-1 has passed every check (so the first fault found is the same
/// whichever reader holds the rings).
fn polygon_from<R>(
    rings: impl ExactSizeIterator<Item = R>,
    path: &str,
    repairs: &mut Vec<Issue>,
    positions: impl Fn(R, &str) -> Result<Vec<Coord<f64>>, Issue>,
) -> Result<Polygon<f64>, Issue> {
    if rings.len() == 0 {
        return Err(Issue::new(
            path,
            InputProblemKind::TooFewPoints,
            "a polygon needs an exterior ring",
        ));
    }
    let mut parsed = Vec::with_capacity(rings.len());
    for (i, r) in rings.enumerate() {
        let at = format!("{path}[{i}]");
        let mut ring = ring_from(positions(r, &at)?, &at, repairs)?;
        // RFC 7946: exterior counter-clockwise, holes clockwise. Either way round is unambiguous.
        let ok = if i == 0 { ring.is_ccw() } else { ring.is_cw() };
        if !ok {
            if i == 0 {
                ring.make_ccw_winding()
            } else {
                ring.make_cw_winding()
            }
            repairs.push(Issue::new(
                at,
                InputProblemKind::RingReoriented,
                if i == 0 {
                    "exterior ring was clockwise; reversed to counter-clockwise"
                } else {
                    "hole was counter-clockwise; reversed to clockwise"
                },
            ));
        }
        parsed.push(ring);
    }
    let exterior = parsed.remove(0);
    let polygon = Polygon::new(exterior, parsed);
    if !crate::geom::surely_valid(&polygon)
        && let Some(err) = polygon.validation_errors().into_iter().next()
    {
        return Err(polygon_issue(&polygon, err, path));
    }
    if polygon.unsigned_area() == 0.0 {
        return Err(Issue::new(
            format!("{path}[0]"),
            InputProblemKind::ZeroArea,
            "ring encloses no area",
        ));
    }
    Ok(polygon)
}

fn ring_path(path: &str, role: RingRole) -> String {
    match role {
        RingRole::Exterior => format!("{path}[0]"),
        RingRole::Interior(i) => format!("{path}[{}]", i + 1),
    }
}

fn polygon_issue(polygon: &Polygon<f64>, err: InvalidPolygon, path: &str) -> Issue {
    match err {
        InvalidPolygon::SelfIntersection(role) => {
            let ring = match role {
                RingRole::Exterior => polygon.exterior(),
                RingRole::Interior(i) => &polygon.interiors()[i],
            };
            let at = crossing(ring)
                .map(|c| format!(" at about [{:.7}, {:.7}]", c.x, c.y))
                .unwrap_or_default();
            Issue::new(
                ring_path(path, role),
                InputProblemKind::SelfIntersection,
                format!(
                    "ring crosses or touches itself{at}; draw it as a simple ring (a dataset is not guessed at: which side is meant is ambiguous)"
                ),
            )
        }
        InvalidPolygon::TooFewPointsInRing(role) => Issue::new(
            ring_path(path, role),
            InputProblemKind::TooFewPoints,
            "a ring needs at least 3 distinct positions",
        ),
        other => Issue::new(
            path,
            InputProblemKind::InvalidPolygon,
            format!("invalid polygon: {other}"),
        ),
    }
}

fn multipolygon_issue(multi: &MultiPolygon<f64>, err: InvalidMultiPolygon) -> Issue {
    let path = "geometry.coordinates";
    match err {
        InvalidMultiPolygon::InvalidPolygon(ix, inner) => {
            polygon_issue(&multi.0[ix.0], inner, &format!("{path}[{}]", ix.0))
        }
        other => Issue::new(
            path,
            InputProblemKind::InvalidPolygon,
            format!("invalid multipolygon: {other}"),
        ),
    }
}

/// Where a ring first meets itself (brute force: only run on rings already known to be invalid).
pub(crate) fn crossing(ring: &LineString<f64>) -> Option<Coord<f64>> {
    let segments: Vec<Line<f64>> = ring.lines().collect();
    let n = segments.len();
    for i in 0..n {
        for j in i + 2..n {
            if i == 0 && j == n - 1 {
                continue; // the closing segment shares the start position
            }
            match line_intersection(segments[i], segments[j]) {
                Some(LineIntersection::SinglePoint { intersection, .. }) => return Some(intersection),
                Some(LineIntersection::Collinear { intersection }) => return Some(intersection.start),
                None => {}
            }
        }
    }
    // A spike: adjacent segments folding back over each other.
    (0..n).find_map(|i| {
        let (a, b) = (segments[i], segments[(i + 1) % n]);
        matches!(line_intersection(a, b), Some(LineIntersection::Collinear { .. })).then_some(a.end)
    })
}

/// Polygons, each a list of rings (exterior first), each a list of positions as written.
pub(crate) type DrawnRings = Vec<Vec<Vec<Coord<f64>>>>;

/// A polygonal geometry's rings exactly as drawn (one list of rings per polygon), checking only
/// what makes it unreadable: the type, the nesting, and each position a finite lon/lat pair.
/// Unclosed rings, repeated points, self-intersections and the like are left for `validate` to
/// report as defects of the grid.
pub(crate) fn polygonal_rings(geometry: Geom) -> Result<(bool, DrawnRings), Issue> {
    let g = match geometry {
        Geom::Tree(g) => g,
        Geom::Streamed(g) => {
            let path = "geometry.coordinates";
            let rings = |rings: Vec<Vec<Coord<f64>>>, path: &str| -> Result<Vec<Vec<Coord<f64>>>, Issue> {
                rings
                    .into_iter()
                    .enumerate()
                    .map(|(i, r)| checked_positions(r, &format!("{path}[{i}]")))
                    .collect()
            };
            return match shaped(g, Shape::Polygonal)? {
                Shaped::Polygon(r) => Ok((false, vec![rings(r, path)?])),
                Shaped::MultiPolygon(p) => {
                    let polygons = p
                        .into_iter()
                        .enumerate()
                        .map(|(i, r)| rings(r, &format!("{path}[{i}]")))
                        .collect::<Result<_, _>>()?;
                    Ok((true, polygons))
                }
                other => Err(wrong_type(Shape::Polygonal, other.kind())),
            };
        }
    };
    let (kind, coords) = typed(g, Shape::Polygonal)?;
    let rings = |v: &Value, path: &str| -> Result<Vec<Vec<Coord<f64>>>, Issue> {
        array(v, path, "an array of rings")?
            .iter()
            .enumerate()
            .map(|(i, r)| positions(r, &format!("{path}[{i}]")))
            .collect()
    };
    if kind == "Polygon" {
        Ok((false, vec![rings(coords, "geometry.coordinates")?]))
    } else {
        let polygons = array(coords, "geometry.coordinates", "an array of Polygons")?
            .iter()
            .enumerate()
            .map(|(i, p)| rings(p, &format!("geometry.coordinates[{i}]")))
            .collect::<Result<_, _>>()?;
        Ok((true, polygons))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn poly(coords: Value) -> Parsed<MultiPolygon<f64>> {
        polygonal(Geom::Tree(Some(&json!({"type": "Polygon", "coordinates": coords}))))
    }

    #[test]
    fn clockwise_exterior_is_reoriented_and_reported() {
        let (mp, repairs) = poly(json!([[[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]]])).unwrap();
        assert!(mp.0[0].exterior().is_ccw());
        assert_eq!(repairs[0].kind, InputProblemKind::RingReoriented);
        assert_eq!(repairs[0].path, "geometry.coordinates[0]");
    }

    #[test]
    fn bow_tie_is_rejected_with_its_crossing() {
        let err = poly(json!([[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]])).unwrap_err();
        assert_eq!(err.kind, InputProblemKind::SelfIntersection);
        assert!(err.message.contains("[0.5000000, 0.5000000]"), "{}", err.message);
    }

    #[test]
    fn repeated_positions_are_dropped_and_reported() {
        let (mp, repairs) = poly(json!([[[0, 0], [1, 0], [1, 0], [1, 1], [0, 1], [0, 0]]])).unwrap();
        assert_eq!(mp.0[0].exterior().0.len(), 5);
        assert_eq!(repairs[0].kind, InputProblemKind::RepeatedPointRemoved);
    }

    #[test]
    fn altitude_is_ignored() {
        let (p, _) = point(Geom::Tree(Some(
            &json!({"type": "Point", "coordinates": [118.1, 24.5, 12.0]}),
        )))
        .unwrap();
        assert_eq!(p.x(), 118.1);
    }
}
