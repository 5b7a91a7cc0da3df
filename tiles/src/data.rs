//! What the map shows, projected once to world coordinates and indexed, so that every tile —
//! vector or raster — is cut from the same features. Built from a dataset and its grid layer.

use crate::generalise::Generalised;
use crate::mercator::{self, TileId};
use geo::{BoundingRect, Centroid, Coord, LineString, MultiLineString, MultiPolygon, Point, Polygon};
use gis_core::bounds::{SizeBasis, SizeBounds};
use gis_core::grid::{Grid, GridKind, GridLevel};
use gis_core::model::Dataset;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};
use std::collections::BTreeMap;

/// A property value, as MVT can carry it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    Uint(u64),
    Double(f64),
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(s)
    }
}
impl From<u64> for Value {
    fn from(v: u64) -> Self {
        Value::Uint(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Double(v)
    }
}

/// Geometry in world coordinates ([0, 1]², y south).
#[derive(Debug, Clone)]
pub enum Shape {
    Area(MultiPolygon<f64>),
    Lines(MultiLineString<f64>),
    Point(Point<f64>),
}

#[derive(Debug, Clone)]
pub struct Feature {
    pub id: u64,
    pub shape: Shape,
    pub props: Vec<(&'static str, Value)>,
    /// Where its label goes, computed once for labelled layers (an interior point is costly).
    pub label: Option<[f64; 2]>,
}

impl Feature {
    pub fn label_point(&self) -> Option<[f64; 2]> {
        self.label.or_else(|| centre(&self.shape))
    }

    pub fn prop(&self, key: &str) -> Option<&Value> {
        self.props.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    pub fn str(&self, key: &str) -> Option<&str> {
        match self.prop(key) {
            Some(Value::Str(s)) => Some(s),
            _ => None,
        }
    }

    pub fn uint(&self, key: &str) -> Option<u64> {
        match self.prop(key) {
            Some(Value::Uint(v)) => Some(*v),
            _ => None,
        }
    }

    pub fn double(&self, key: &str) -> Option<f64> {
        match self.prop(key) {
            Some(Value::Double(v)) => Some(*v),
            _ => None,
        }
    }
}

/// One layer: its features, the zooms it appears at, and an index of their boxes.
pub struct Layer {
    pub name: &'static str,
    pub minzoom: u8,
    pub maxzoom: u8,
    /// The fields every feature may carry, with their types, for TileJSON.
    pub fields: &'static [(&'static str, &'static str)],
    pub features: Vec<Feature>,
    index: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>,
    /// The areas simplified for each zoom the layer shows, borders shared between features
    /// simplified once (for the layers of many areas whose vector tiles are the most asked for).
    generalised: Option<Generalised>,
    /// Its property values numbered, for the same layers ([`crate::mvt::ValueTable`]).
    values: Option<crate::mvt::ValueTable>,
}

impl Layer {
    fn new(
        name: &'static str,
        (minzoom, maxzoom): (u8, u8),
        fields: &'static [(&'static str, &'static str)],
        mut features: Vec<Feature>,
    ) -> Self {
        if name == GRIDS || name == COMMUNITIES {
            use rayon::prelude::*;
            features.par_iter_mut().for_each(|f| f.label = centre(&f.shape));
        }
        let boxes = features
            .iter()
            .enumerate()
            .filter_map(|(i, f)| {
                let r = match &f.shape {
                    Shape::Area(a) => a.bounding_rect(),
                    Shape::Lines(l) => l.bounding_rect(),
                    Shape::Point(p) => Some(geo::Rect::new(p.0, p.0)),
                }?;
                Some(GeomWithData::new(
                    Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                    i,
                ))
            })
            .collect();
        let generalised = (name == GRIDS).then(|| {
            let areas: Vec<Option<&MultiPolygon<f64>>> = features
                .iter()
                .map(|f| match &f.shape {
                    Shape::Area(a) => Some(a),
                    _ => None,
                })
                .collect();
            Generalised::new(&areas, minzoom..=maxzoom, crate::mvt::world_tolerance)
        });
        let values = generalised.is_some().then(|| crate::mvt::ValueTable::new(&features));
        Self {
            name,
            minzoom,
            maxzoom,
            fields,
            features,
            index: RTree::bulk_load(boxes),
            generalised,
            values,
        }
    }

    pub(crate) fn value_table(&self) -> Option<&crate::mvt::ValueTable> {
        self.values.as_ref()
    }

    /// Feature `i`'s area simplified for vector tiles at zoom `z`, when the layer keeps such.
    pub fn generalised(&self, i: usize, z: u8) -> Option<crate::generalise::Area<'_>> {
        self.generalised.as_ref()?.at(z, i)
    }

    pub fn visible_at(&self, z: u8) -> bool {
        (self.minzoom..=self.maxzoom).contains(&z)
    }

    /// Features whose box meets the tile grown by `buffer` (a fraction of the tile's side).
    pub fn in_tile(&self, tile: TileId, buffer: f64) -> Vec<&Feature> {
        self.indices_in_tile(tile, buffer)
            .into_iter()
            .map(|i| &self.features[i])
            .collect()
    }

    /// As [`Layer::in_tile`], the features' indices, ascending.
    pub fn indices_in_tile(&self, tile: TileId, buffer: f64) -> Vec<usize> {
        let [x0, y0, x1, y1] = tile.world_bounds();
        let pad = (x1 - x0) * buffer;
        let env = AABB::from_corners([x0 - pad, y0 - pad], [x1 + pad, y1 + pad]);
        let mut hits: Vec<usize> = self
            .index
            .locate_in_envelope_intersecting(&env)
            .map(|e| e.data)
            .collect();
        hits.sort_unstable();
        hits
    }
}

/// The layers of the tileset, in drawing order.
pub struct MapData {
    pub layers: Vec<Layer>,
    /// Lon/lat box of everything: [west, south, east, north].
    pub bounds: [f64; 4],
    pub size_bounds: SizeBounds,
    /// The resource kinds in the data: known kinds in their order, then others alphabetically.
    pub resource_kinds: Vec<String>,
    /// Per zoom, which resources' icons the raster tiles draw (see [`MapData::icons_at`]).
    icons: [std::sync::OnceLock<Vec<bool>>; crate::mercator::MAX_ZOOM as usize + 1],
}

/// Whether a resource's name is no name: empty, or its kind's own word ("shop", "Clinic").
pub fn unnamed(name: &str, kind: &str) -> bool {
    let n = name.trim().to_lowercase().replace([' ', '-'], "_");
    n.is_empty() || n == kind
}

/// An icon's size in 256-px tile pixels at zoom `z` on raster tiles (none below z14).
pub fn icon_px(z: u8) -> f64 {
    if z >= 15 { 18.0 } else { 14.0 }
}

/// Layer names and the zooms they appear at (README, "Map tiles").
pub const COMMUNITIES: &str = "communities";
pub const DENSITY: &str = "density";
pub const GRIDS: &str = "grids";
pub const MICRO_GRIDS: &str = "micro_grids";
pub const ROADS: &str = "roads";
pub const BUILDINGS: &str = "buildings";
pub const RESOURCES: &str = "resources";
/// One point per grid and per community where its label goes: labelling the polygons themselves
/// puts a label in every tile a polygon crosses, so a grid showed its code two or three times.
pub const GRID_LABELS: &str = "grid_labels";
pub const COMMUNITY_LABELS: &str = "community_labels";
/// Named roads with the ways of one name joined end to end, for writing names along them (a
/// street in many short ways has no way long enough for its name; OpenMapTiles'
/// `transportation_name` does the same).
pub const ROAD_NAMES: &str = "road_names";
/// One point per compound (小区) where its name goes ([`crate::labels`]).
pub const COMPOUND_LABELS: &str = "compound_labels";
/// One point per building with a number (楼号) read off its address, on the footprint.
pub const BUILDING_LABELS: &str = "building_labels";
/// Water (lakes, rivers as areas or lines) and green (parks, woods) from the dataset's optional
/// context layers: drawn softly under the grids, for finding one's way.
pub const WATER: &str = "water";
pub const GREEN: &str = "green";
/// Residents counted by point rather than by building (an urban village, 城中村): one point each,
/// with its `count`.
pub const POPULATION_POINTS: &str = "population_points";
/// The zoom the context layers start at: below it a street's parks are specks.
pub const CONTEXT_FROM: u8 = 10;
/// The zoom population points start at.
pub const POPULATION_POINTS_FROM: u8 = 14;

/// Point features at the label points of an area layer's features, with the given properties.
fn label_points(layer: &Layer, keep: &[&str]) -> Vec<Feature> {
    layer
        .features
        .iter()
        .filter_map(|f| {
            let [x, y] = f.label_point()?;
            let props = f.props.iter().filter(|(k, _)| keep.contains(k)).cloned().collect();
            Some(Feature {
                id: f.id,
                shape: Shape::Point(Point::new(x, y)),
                props,
                label: None,
            })
        })
        .collect()
}

/// The named roads, the ways of each name joined end to end ([`crate::labels::join_lines`]),
/// each line with its name and the biggest class among its ways; in name order.
fn road_names(roads: &Layer) -> Vec<Feature> {
    let mut by_name: BTreeMap<&str, Vec<&Feature>> = BTreeMap::new();
    for f in &roads.features {
        if let Some(name) = f.str("name").filter(|n| !n.trim().is_empty()) {
            by_name.entry(name).or_default().push(f);
        }
    }
    let mut out = Vec::new();
    for (name, ways) in by_name {
        let class = ways
            .iter()
            .filter_map(|f| f.str("class"))
            .min_by_key(|c| (crate::raster::road_rank(c), *c))
            .unwrap_or("street");
        let parts: Vec<Vec<[f64; 2]>> = ways
            .iter()
            .flat_map(|f| match &f.shape {
                Shape::Lines(l) => l.0.iter().map(|l| l.0.iter().map(|c| [c.x, c.y]).collect()).collect(),
                _ => Vec::new(),
            })
            .collect();
        for line in crate::labels::join_lines(&parts) {
            out.push(Feature {
                id: out.len() as u64 + 1,
                shape: Shape::Lines(MultiLineString(vec![
                    line.into_iter().map(|[x, y]| Coord { x, y }).collect(),
                ])),
                props: vec![("name", name.into()), ("class", class.into())],
                label: None,
            });
        }
    }
    out
}

/// One label point per compound (小区) of a community, in name order: the centre of the convex
/// hull of its buildings, unless that point lies in, or is nearest to, a building of another
/// compound (a compound wrapped round a neighbour); then its own building's anchor nearest that
/// centre. A compound named like an exclusive unit of its community (a school's buildings) is
/// left out: the exclusive grid's label names it already.
fn compound_labels(dataset: &Dataset, buildings: &Layer) -> Vec<Feature> {
    use geo::{Contains, ConvexHull, MultiPoint};
    use rayon::prelude::*;
    let mut groups: BTreeMap<(usize, &str), Vec<usize>> = BTreeMap::new();
    for (i, b) in dataset.buildings.iter().enumerate() {
        if let Some(c) = b.compound.as_deref().filter(|c| !c.trim().is_empty()) {
            groups.entry((b.community, c)).or_default().push(i);
        }
    }
    let institution = |community: usize, name: &str| {
        dataset
            .exclusive
            .iter()
            .any(|e| e.community == community && e.name == name)
    };
    let groups: Vec<((usize, &str), Vec<usize>)> = groups
        .into_iter()
        .filter(|((community, name), _)| !institution(*community, name))
        .collect();
    let compound_of = |i: usize| (dataset.buildings[i].community, dataset.buildings[i].compound.as_deref());
    groups
        .par_iter()
        .enumerate()
        .map(|(n, ((community, name), members))| {
            let footprint = |i: usize| match &buildings.features[i].shape {
                Shape::Area(a) => Some(a),
                _ => None,
            };
            let anchor = |i: usize| project_point(dataset.buildings[i].anchor);
            let corners: MultiPoint<f64> = members
                .iter()
                .filter_map(|&i| footprint(i))
                .flat_map(|a| a.0.iter().flat_map(|p| p.exterior().0.iter().map(|c| Point::from(*c))))
                .collect();
            let centre = corners.convex_hull().centroid().unwrap_or_else(|| anchor(members[0]));
            let ours = |i: usize| compound_of(i) == (*community, Some(*name));
            let at = [centre.x(), centre.y()];
            let inside_other = buildings
                .index
                .locate_all_at_point(&at)
                .any(|e| !ours(e.data) && footprint(e.data).is_some_and(|a| a.contains(&centre)));
            let nearest_other = buildings.index.nearest_neighbor(&at).is_some_and(|e| !ours(e.data));
            let point = if inside_other || nearest_other {
                members
                    .iter()
                    .map(|&i| anchor(i))
                    .min_by(|a, b| {
                        let d = |p: &Point<f64>| (p.x() - at[0]).powi(2) + (p.y() - at[1]).powi(2);
                        d(a).total_cmp(&d(b))
                    })
                    .unwrap_or(centre)
            } else {
                centre
            };
            let population: u64 = members
                .iter()
                .map(|&i| u64::from(dataset.buildings[i].population))
                .sum();
            Feature {
                id: n as u64 + 1,
                shape: Shape::Point(point),
                props: vec![
                    ("name", (*name).into()),
                    ("population", population.into()),
                    ("buildings", (members.len() as u64).into()),
                ],
                label: None,
            }
        })
        .collect()
}

/// Whether a basic grid is under, inside or over the size bounds.
pub fn status(size: u64, bounds: &SizeBounds) -> &'static str {
    if size < u64::from(bounds.min) {
        "under"
    } else if size > u64::from(bounds.max) {
        "over"
    } else {
        "inside"
    }
}

fn project_ring(r: &LineString<f64>) -> LineString<f64> {
    r.0.iter()
        .map(|&c| {
            let w = mercator::world(c);
            Coord { x: w[0], y: w[1] }
        })
        .collect()
}

fn project_area(a: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    MultiPolygon(
        a.0.iter()
            .map(|p| {
                Polygon::new(
                    project_ring(p.exterior()),
                    p.interiors().iter().map(project_ring).collect(),
                )
            })
            .collect(),
    )
}

fn project_point(p: Point<f64>) -> Point<f64> {
    let w = mercator::world(p.0);
    Point::new(w[0], w[1])
}

impl MapData {
    pub fn new(dataset: &Dataset, grids: &[Grid], size_bounds: SizeBounds) -> Self {
        let size = |g: &Grid| match size_bounds.basis {
            SizeBasis::Residents => g.population,
            SizeBasis::Households => g.households,
        };
        let population_of: BTreeMap<&str, u64> = {
            let mut m: BTreeMap<&str, u64> = BTreeMap::new();
            for g in grids.iter().filter(|g| g.level == GridLevel::Grid) {
                *m.entry(g.community_code.as_str()).or_default() += g.population;
            }
            m
        };
        let communities = dataset
            .communities
            .iter()
            .enumerate()
            .map(|(i, c)| Feature {
                id: i as u64 + 1,
                shape: Shape::Area(project_area(&c.boundary)),
                props: vec![
                    ("code", c.code.as_str().into()),
                    ("name", c.name.as_str().into()),
                    (
                        "population",
                        population_of.get(c.code.as_str()).copied().unwrap_or(0).into(),
                    ),
                ],
                label: None,
            })
            .collect();
        let colours = grid_colours(grids);
        let mut grid_features = Vec::new();
        let mut micro_features = Vec::new();
        for (i, g) in grids.iter().enumerate() {
            let mut props: Vec<(&'static str, Value)> = vec![
                ("code", g.code.as_str().into()),
                ("community_code", g.community_code.as_str().into()),
                (
                    "kind",
                    match g.kind {
                        GridKind::Basic => "basic",
                        GridKind::Exclusive => "exclusive",
                    }
                    .into(),
                ),
                ("population", g.population.into()),
                ("households", g.households.into()),
            ];
            let feature = |props| Feature {
                id: i as u64 + 1,
                shape: Shape::Area(project_area(&g.area)),
                props,
                label: None,
            };
            match g.level {
                GridLevel::Grid => {
                    let fill = size(g) as f64 / f64::from(size_bounds.max);
                    props.push(("fill", ((fill * 1000.0).round() / 1000.0).into()));
                    let status = if g.kind == GridKind::Basic {
                        status(size(g), &size_bounds)
                    } else {
                        "exclusive"
                    };
                    props.push(("status", status.into()));
                    props.push(("colour", colours.get(&i).copied().unwrap_or(0).into()));
                    if let Some(name) = &g.name {
                        props.push(("name", name.as_str().into()));
                    }
                    grid_features.push(feature(props));
                }
                GridLevel::Micro => {
                    props.retain(|(k, _)| *k != "kind" && *k != "community_code");
                    props.push(("parent_code", g.parent_code.clone().unwrap_or_default().into()));
                    micro_features.push(feature(props));
                }
            }
        }
        let buildings = dataset
            .buildings
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let mut props: Vec<(&'static str, Value)> = vec![
                    ("id", b.id.as_str().into()),
                    ("population", u64::from(b.population).into()),
                ];
                if let Some(a) = &b.address {
                    props.push(("address", a.as_str().into()));
                }
                if let Some(c) = &b.compound {
                    props.push(("compound", c.as_str().into()));
                }
                Feature {
                    id: i as u64 + 1,
                    shape: Shape::Area(project_area(&b.footprint)),
                    props,
                    label: None,
                }
            })
            .collect();
        let resources = dataset
            .resources
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let mut props: Vec<(&'static str, Value)> =
                    vec![("id", r.id.as_str().into()), ("kind", r.kind.as_str().into())];
                // An unnamed resource (OpenStreetMap import names it by its kind, "shop") has no
                // name: the map labels it with its kind in the reader's language.
                if !unnamed(&r.name, &r.kind) {
                    props.push(("name", r.name.as_str().into()));
                }
                Feature {
                    id: i as u64 + 1,
                    shape: Shape::Point(project_point(r.location)),
                    props,
                    label: None,
                }
            })
            .collect();
        let mut resource_kinds: Vec<String> = dataset.resources.iter().map(|r| r.kind.clone()).collect();
        resource_kinds.sort_by(|a, b| {
            let at = |k: &str| crate::icons::KINDS.iter().position(|x| *x == k).unwrap_or(usize::MAX);
            at(a).cmp(&at(b)).then(a.cmp(b))
        });
        resource_kinds.dedup();
        let roads = dataset
            .roads
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let mut props: Vec<(&'static str, Value)> = vec![("id", r.id.as_str().into())];
                if let Some(n) = &r.name {
                    props.push(("name", n.as_str().into()));
                }
                props.push(("class", r.class.clone().unwrap_or_else(|| "street".into()).into()));
                Feature {
                    id: i as u64 + 1,
                    shape: Shape::Lines(MultiLineString(r.line.0.iter().map(project_ring).collect())),
                    props,
                    label: None,
                }
            })
            .collect();
        let bounds = dataset
            .communities
            .iter()
            .filter_map(|c| c.boundary.bounding_rect())
            .reduce(|a, b| {
                geo::Rect::new(
                    Coord {
                        x: a.min().x.min(b.min().x),
                        y: a.min().y.min(b.min().y),
                    },
                    Coord {
                        x: a.max().x.max(b.max().x),
                        y: a.max().y.max(b.max().y),
                    },
                )
            })
            .map_or([-180.0, -85.0, 180.0, 85.0], |r| {
                [r.min().x, r.min().y, r.max().x, r.max().y]
            });
        let mut layers = vec![
            Layer::new(
                COMMUNITIES,
                (0, 16),
                &[("code", "String"), ("name", "String"), ("population", "Number")],
                communities,
            ),
            Layer::new(
                DENSITY,
                (9, 14),
                &[
                    ("h3", "String"),
                    ("resolution", "Number"),
                    ("residents", "Number"),
                    ("per_km2", "Number"),
                ],
                density(dataset),
            ),
            Layer::new(
                GRIDS,
                (11, 16),
                &[
                    ("code", "String"),
                    ("community_code", "String"),
                    ("kind", "String"),
                    ("population", "Number"),
                    ("households", "Number"),
                    ("fill", "Number"),
                    ("status", "String"),
                    ("colour", "Number"),
                    ("name", "String"),
                ],
                grid_features,
            ),
            Layer::new(
                MICRO_GRIDS,
                (15, 16),
                &[
                    ("code", "String"),
                    ("parent_code", "String"),
                    ("population", "Number"),
                    ("households", "Number"),
                ],
                micro_features,
            ),
            Layer::new(
                ROADS,
                (12, 16),
                &[("id", "String"), ("name", "String"), ("class", "String")],
                roads,
            ),
            Layer::new(
                BUILDINGS,
                (14, 16),
                &[
                    ("id", "String"),
                    ("population", "Number"),
                    ("address", "String"),
                    ("compound", "String"),
                ],
                buildings,
            ),
            Layer::new(
                RESOURCES,
                (13, 16),
                &[("id", "String"), ("kind", "String"), ("name", "String")],
                resources,
            ),
        ];
        let community_names: BTreeMap<&str, &str> = dataset
            .communities
            .iter()
            .map(|c| (c.code.as_str(), c.name.as_str()))
            .collect();
        let grids_layer = layers.iter().find(|l| l.name == GRIDS).expect("the grids layer");
        // Each grid's label carries its community's name: grid numbers repeat in every
        // community, and a street's map shows several "001"s.
        let grid_labels = label_points(grids_layer, &["code", "kind", "population", "status", "name"])
            .into_iter()
            .zip(grids_layer.features.iter().filter(|f| f.label_point().is_some()))
            .map(|(mut label, grid)| {
                if let Some(name) = grid.str("community_code").and_then(|c| community_names.get(c)) {
                    label.props.push(("community", (*name).into()));
                }
                label
            })
            .collect();
        let community_labels = label_points(
            layers
                .iter()
                .find(|l| l.name == COMMUNITIES)
                .expect("the communities layer"),
            &["code", "name", "population"],
        );
        let road_names = road_names(layers.iter().find(|l| l.name == ROADS).expect("the roads layer"));
        let compound_labels = compound_labels(
            dataset,
            layers
                .iter()
                .find(|l| l.name == BUILDINGS)
                .expect("the buildings layer"),
        );
        let building_labels = dataset
            .buildings
            .iter()
            .enumerate()
            .filter_map(|(i, b)| {
                let number = crate::labels::building_number(b.address.as_deref()?)?;
                Some(Feature {
                    id: i as u64 + 1,
                    shape: Shape::Point(project_point(b.anchor)),
                    props: vec![("number", number.into())],
                    label: None,
                })
            })
            .collect();
        layers.push(Layer::new(
            ROAD_NAMES,
            (crate::raster::ROAD_NAMES_FROM, 16),
            &[("name", "String"), ("class", "String")],
            road_names,
        ));
        layers.push(Layer::new(
            GRID_LABELS,
            (11, 16),
            &[
                ("code", "String"),
                ("kind", "String"),
                ("population", "Number"),
                ("status", "String"),
                ("name", "String"),
                ("community", "String"),
            ],
            grid_labels,
        ));
        layers.push(Layer::new(
            COMMUNITY_LABELS,
            (0, 16),
            &[("code", "String"), ("name", "String"), ("population", "Number")],
            community_labels,
        ));
        layers.push(Layer::new(
            COMPOUND_LABELS,
            (15, 16),
            &[("name", "String"), ("population", "Number"), ("buildings", "Number")],
            compound_labels,
        ));
        // In z16 tiles only: the style shows them from z17, over-zoomed, where they fit.
        layers.push(Layer::new(
            BUILDING_LABELS,
            (16, 16),
            &[("number", "String")],
            building_labels,
        ));
        layers.extend(context_layers(dataset));
        Self {
            layers,
            bounds,
            size_bounds,
            resource_kinds,
            icons: Default::default(),
        }
    }

    /// Which resources (by index into the resources layer) have their icon drawn at zoom `z`:
    /// kinds by [`icons::priority`](crate::icons::priority) (care before schools before
    /// shops), each icon only where it overlaps none placed before it, shops only from their
    /// [`icons::min_zoom`](crate::icons::min_zoom), and none under a grid label (from z13).
    /// Placed once per zoom over the whole map in
    /// world coordinates, so neighbouring tiles agree on every icon near their common edge.
    pub fn icons_at(&self, z: u8) -> &[bool] {
        let z = z.min(crate::mercator::MAX_ZOOM);
        self.icons[usize::from(z)].get_or_init(|| {
            let Some(layer) = self.layer(RESOURCES) else {
                return Vec::new();
            };
            let features = &layer.features;
            let mut order: Vec<usize> = (0..features.len()).collect();
            let kind = |i: usize| features[i].str("kind").unwrap_or("");
            order.sort_by_key(|&i| (crate::icons::priority(kind(i)), features[i].id));
            // Half an icon and a pixel of air, in world units.
            let half = (icon_px(z) / 2.0 + 1.0) / (256.0 * f64::from(1u32 << z));
            let mut placed: RTree<Rectangle<[f64; 2]>> = RTree::new();
            // Grid labels come before icons (as in the style): an icon never hides under one.
            if z >= 13
                && let Some(grid_labels) = self.layer(GRID_LABELS)
            {
                let several = self.several_communities();
                let world = 256.0 * f64::from(1u32 << z);
                for f in &grid_labels.features {
                    let Shape::Point(p) = &f.shape else { continue };
                    let [w, h] = crate::raster::grid_label(f, z, 1.0, several).size;
                    let (hw, hh) = (f64::from(w) / 2.0 / world, f64::from(h) / 2.0 / world);
                    placed.insert(Rectangle::from_corners(
                        [p.x() - hw, p.y() - hh],
                        [p.x() + hw, p.y() + hh],
                    ));
                }
            }
            let mut shown = vec![false; features.len()];
            for i in order {
                if z < crate::icons::min_zoom(kind(i)) {
                    continue;
                }
                let Shape::Point(p) = &features[i].shape else { continue };
                let (lo, hi) = ([p.x() - half, p.y() - half], [p.x() + half, p.y() + half]);
                if placed
                    .locate_in_envelope_intersecting(&AABB::from_corners(lo, hi))
                    .next()
                    .is_none()
                {
                    placed.insert(Rectangle::from_corners(lo, hi));
                    shown[i] = true;
                }
            }
            shown
        })
    }

    /// Whether the map holds more than one community: grid numbers then repeat, and grid labels
    /// name their community.
    pub fn several_communities(&self) -> bool {
        self.layer(COMMUNITIES).is_some_and(|l| l.features.len() > 1)
    }

    pub fn layer(&self, name: &str) -> Option<&Layer> {
        self.layers.iter().find(|l| l.name == name)
    }

    /// The deepest zoom any layer has its own data for.
    pub fn maxzoom(&self) -> u8 {
        self.layers.iter().map(|l| l.maxzoom).max().unwrap_or(16)
    }
}

/// The water, green and population-point layers: one feature per dataset feature, ids from 1.
fn context_layers(dataset: &Dataset) -> [Layer; 3] {
    use gis_core::model::{ContextFeature, ContextShape};
    let features = |fs: &[ContextFeature]| -> Vec<Feature> {
        fs.iter()
            .enumerate()
            .map(|(i, c)| {
                let mut props: Vec<(&'static str, Value)> = vec![("id", c.id.as_str().into())];
                if let Some(k) = &c.kind {
                    props.push(("kind", k.as_str().into()));
                }
                if let Some(n) = &c.name {
                    props.push(("name", n.as_str().into()));
                }
                Feature {
                    id: i as u64 + 1,
                    shape: match &c.shape {
                        ContextShape::Area(a) => Shape::Area(project_area(a)),
                        ContextShape::Line(l) => Shape::Lines(MultiLineString(l.0.iter().map(project_ring).collect())),
                    },
                    props,
                    label: None,
                }
            })
            .collect()
    };
    let fields: &'static [(&'static str, &'static str)] = &[("id", "String"), ("kind", "String"), ("name", "String")];
    let points = dataset
        .points
        .iter()
        .enumerate()
        .map(|(i, p)| Feature {
            id: i as u64 + 1,
            shape: Shape::Point(project_point(p.location)),
            props: vec![("count", u64::from(p.count).into())],
            label: None,
        })
        .collect();
    [
        Layer::new(WATER, (CONTEXT_FROM, 16), fields, features(&dataset.context.water)),
        Layer::new(GREEN, (CONTEXT_FROM, 16), fields, features(&dataset.context.green)),
        Layer::new(
            POPULATION_POINTS,
            (POPULATION_POINTS_FROM, 16),
            &[("count", "Number")],
            points,
        ),
    ]
}

/// The residents' colour of each grid (not micro-grid), by index into `grids`: neighbouring
/// grids apart, stable by code ([`crate::colouring`]).
pub fn grid_colours(grids: &[Grid]) -> BTreeMap<usize, u64> {
    let level: Vec<usize> = (0..grids.len())
        .filter(|&i| grids[i].level == GridLevel::Grid)
        .collect();
    let areas: Vec<&MultiPolygon<f64>> = level.iter().map(|&i| &grids[i].area).collect();
    let codes: Vec<&str> = level.iter().map(|&i| grids[i].code.as_str()).collect();
    let neighbours = crate::colouring::adjacency(&areas);
    let colours = crate::colouring::colour(&codes, &neighbours, crate::palette::GRID_COLOURS.len());
    level.into_iter().zip(colours).map(|(i, c)| (i, c as u64)).collect()
}

/// Residents per H3 hexagon at three resolutions; the density layer shows the one for the zoom
/// (7 below z11, 8 at z11–12, 9 from z13), each feature tagged with its resolution.
fn density(dataset: &Dataset) -> Vec<Feature> {
    use h3o::{LatLng, Resolution};
    let mut out = Vec::new();
    for res in [Resolution::Seven, Resolution::Eight, Resolution::Nine] {
        let mut counts: BTreeMap<h3o::CellIndex, u64> = BTreeMap::new();
        let people = dataset
            .buildings
            .iter()
            .map(|b| (b.anchor, u64::from(b.population)))
            .chain(dataset.points.iter().map(|p| (p.location, u64::from(p.count))));
        for (at, n) in people {
            if n == 0 {
                continue;
            }
            if let Ok(ll) = LatLng::new(at.y(), at.x()) {
                *counts.entry(ll.to_cell(res)).or_default() += n;
            }
        }
        for (cell, residents) in counts {
            let boundary = cell.boundary();
            let ring: LineString<f64> = boundary
                .iter()
                .chain(boundary.iter().take(1))
                .map(|ll| {
                    let w = mercator::world(Coord {
                        x: ll.lng(),
                        y: ll.lat(),
                    });
                    Coord { x: w[0], y: w[1] }
                })
                .collect();
            let km2 = cell.area_km2();
            out.push(Feature {
                id: u64::from(cell),
                shape: Shape::Area(MultiPolygon(vec![Polygon::new(ring, vec![])])),
                props: vec![
                    ("h3", cell.to_string().into()),
                    ("resolution", u64::from(u8::from(res)).into()),
                    ("residents", residents.into()),
                    ("per_km2", ((residents as f64 / km2).round()).into()),
                ],
                label: None,
            });
        }
    }
    out
}

/// The H3 resolution the density layer shows at zoom `z`.
pub fn density_resolution(z: u8) -> u64 {
    match z {
        0..=10 => 7,
        11..=12 => 8,
        _ => 9,
    }
}

/// Centre of a shape in world coordinates (label anchor).
pub fn centre(shape: &Shape) -> Option<[f64; 2]> {
    match shape {
        Shape::Area(a) => {
            a.0.iter()
                .max_by(|p, q| {
                    use geo::Area;
                    p.unsigned_area().total_cmp(&q.unsigned_area())
                })
                .and_then(|p| {
                    use geo::InteriorPoint;
                    p.interior_point().or_else(|| p.centroid())
                })
                .map(|p| [p.x(), p.y()])
        }
        Shape::Lines(l) => l.centroid().map(|p| [p.x(), p.y()]),
        Shape::Point(p) => Some([p.x(), p.y()]),
    }
}
