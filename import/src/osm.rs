//! OpenStreetMap extracts (.osm.pbf): buildings from closed ways and multipolygon relations,
//! resources from amenity / shop / healthcare tags, roads from highway tags, and the map's
//! context: water (natural=water, waterway=*, landuse=reservoir) and green (parks, woods, grass)
//! from closed ways and multipolygon relations, rivers and streams as lines; and the walking
//! layer: footways, paths, steps, service ways and tracks, walls and fences, gates and entrances.
//!
//! OpenStreetMap has no residents: each building carries its `building=*` value as its use and
//! `building:levels` as its floors, and the estimate every source shares (estimate.rs) gives its
//! residents; invalid and overlapping footprints are repaired by the rules every source shares
//! (repair.rs). The report says so.

use crate::dataset::{Feature, Notes};
use crate::error::ImportError;
use geo::{Coord, Geometry, Intersects, LineString, MultiLineString, MultiPolygon, Point, Polygon};
use osmpbf::{Element, ElementReader, RelMemberType};
use serde_json::{Map, json};
use std::collections::HashMap;
use std::path::Path;

/// The resource kind an element's tags stand for, if any.
pub fn resource_kind(tags: &HashMap<String, String>) -> Option<&'static str> {
    let amenity = tags.get("amenity").map(String::as_str);
    let healthcare = tags.get("healthcare").map(String::as_str);
    let shop = tags.get("shop").map(String::as_str);
    let social = tags.get("social_facility").map(String::as_str);
    Some(match (amenity, healthcare, shop) {
        (Some("clinic" | "doctors"), _, _) | (_, Some("clinic" | "doctor" | "centre"), _) => "clinic",
        (Some("hospital"), _, _) | (_, Some("hospital"), _) => "hospital",
        (Some("pharmacy"), _, _) | (_, Some("pharmacy"), _) => "pharmacy",
        (Some("dentist"), _, _) | (_, Some("dentist"), _) => "dentist",
        (Some("school"), _, _) => "school",
        (Some("kindergarten" | "childcare"), _, _) => "kindergarten",
        (Some("nursing_home"), _, _) => "elderly_care",
        (Some("social_facility"), _, _)
            if matches!(social, Some("nursing_home" | "assisted_living" | "group_home")) =>
        {
            "elderly_care"
        }
        (Some("marketplace"), _, _) => "market",
        (Some("community_centre" | "townhall" | "social_centre"), _, _) => "service_center",
        (_, _, Some("supermarket" | "department_store" | "mall")) => "supermarket",
        (_, _, Some("chemist")) => "pharmacy",
        (_, _, Some(s)) if s != "no" && s != "vacant" => "shop",
        _ => return None,
    })
}

/// Highway values that become roads grid lines may follow; footways, paths, tracks and service
/// ways are dropped (too dense to draw grids along).
pub const ROAD_CLASSES: &[&str] = &[
    "motorway",
    "motorway_link",
    "trunk",
    "trunk_link",
    "primary",
    "primary_link",
    "secondary",
    "secondary_link",
    "tertiary",
    "tertiary_link",
    "unclassified",
    "residential",
    "living_street",
    "pedestrian",
];

/// Highway values that are walked but are not roads: they go to the walking layer
/// (`walk.geojson`) with the value as their `kind` (a footway tagged `footway=crossing` as
/// `crossing`).
pub const WALK_CLASSES: &[&str] = &[
    "footway",
    "path",
    "steps",
    "cycleway",
    "bridleway",
    "service",
    "track",
    "corridor",
    "platform",
];

/// Barrier values drawn as lines that nobody walks across.
pub const BARRIER_LINES: &[&str] = &["wall", "fence", "hedge", "city_wall", "retaining_wall"];

/// Barrier values of nodes people walk through (a gate in a compound wall).
pub const GATE_NODES: &[&str] = &[
    "gate",
    "entrance",
    "lift_gate",
    "swing_gate",
    "sliding_gate",
    "wicket_gate",
    "kissing_gate",
    "turnstile",
    "full-height_turnstile",
    "stile",
    "hampshire_gate",
    "bump_gate",
];

/// Whether a way's tags forbid walking on it (`foot=no`, or `access=no` with no `foot` saying
/// otherwise). `access=private` is kept: a compound's own ways are its residents' walks.
fn no_walking(tags: &HashMap<String, String>) -> bool {
    let foot = tags.get("foot").map(String::as_str);
    matches!(foot, Some("no" | "use_sidepath"))
        || (tags.get("access").map(String::as_str) == Some("no")
            && !matches!(foot, Some("yes" | "designated" | "permissive")))
}

struct Way {
    refs: Vec<i64>,
    tags: HashMap<String, String>,
}

/// A relation's members that are ways: (way id, role).
type WayMembers = Vec<(i64, String)>;

/// Which context layer an element belongs to, and as what shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContextLayer {
    /// A water area (lake, pond, riverbank, reservoir): from a closed way or a multipolygon.
    WaterArea,
    /// A river, canal or stream drawn as a line.
    WaterLine,
    /// A park, garden, playground, grass, wood, forest, cemetery: an area.
    Green,
}

/// The context layer an element's tags put it in, with the kind written to the dataset
/// (`lake`, `river`, `park`, `forest`, …), if any.
pub fn context_kind(tags: &HashMap<String, String>) -> Option<(ContextLayer, String)> {
    let get = |k: &str| tags.get(k).map(String::as_str);
    use ContextLayer::*;
    let (layer, kind) = match (get("waterway"), get("natural"), get("landuse"), get("leisure")) {
        (Some(w @ ("river" | "canal" | "stream")), _, _, _) => (WaterLine, w),
        (Some("riverbank"), _, _, _) => (WaterArea, "river"),
        (_, Some("water"), _, _) => (WaterArea, get("water").filter(|w| !w.is_empty()).unwrap_or("water")),
        (_, _, Some(l @ ("reservoir" | "basin")), _) => (WaterArea, l),
        (_, _, _, Some(l @ ("park" | "garden" | "playground"))) => (Green, l),
        (_, _, Some(l @ ("grass" | "forest" | "recreation_ground" | "cemetery" | "village_green" | "meadow")), _) => {
            (Green, l)
        }
        (_, Some(n @ ("wood" | "scrub")), _, _) => (Green, n),
        _ => return None,
    };
    Some((layer, kind.to_string()))
}

/// What an extract yields, already in WGS-84 (OpenStreetMap is WGS-84).
#[derive(Debug, Default)]
pub struct OsmFeatures {
    pub buildings: Vec<Feature>,
    pub resources: Vec<Feature>,
    pub roads: Vec<Feature>,
    /// Water areas and lines, for the map (not yet clipped to the communities).
    pub water: Vec<Feature>,
    /// Green areas, for the map (not yet clipped to the communities).
    pub green: Vec<Feature>,
    /// The walking layer: footways, paths, steps, service ways and tracks; walls and fences;
    /// gates and entrances (not yet clipped to the communities).
    pub walk: Vec<Feature>,
}

pub fn read(path: &Path, notes: &mut Notes) -> Result<OsmFeatures, ImportError> {
    if !path.exists() {
        return Err(ImportError::MissingFile {
            path: path.to_path_buf(),
        });
    }
    let reader = ElementReader::from_path(path).map_err(|e| ImportError::unreadable(path, e))?;
    // One pass keeps every node position: extracts of a street or a district fit in memory.
    let mut nodes: HashMap<i64, Coord<f64>> = HashMap::new();
    let mut tagged_nodes: Vec<(i64, HashMap<String, String>)> = Vec::new();
    let mut ways: HashMap<i64, Way> = HashMap::new();
    let mut relations: Vec<(i64, HashMap<String, String>, WayMembers)> = Vec::new();
    let tags_of = |it: &mut dyn Iterator<Item = (&str, &str)>| -> HashMap<String, String> {
        it.map(|(k, v)| (k.to_string(), v.to_string())).collect()
    };
    reader
        .for_each(|element| match element {
            Element::Node(n) => {
                nodes.insert(n.id(), Coord { x: n.lon(), y: n.lat() });
                let tags = tags_of(&mut n.tags());
                if !tags.is_empty() {
                    tagged_nodes.push((n.id(), tags));
                }
            }
            Element::DenseNode(n) => {
                nodes.insert(n.id(), Coord { x: n.lon(), y: n.lat() });
                let tags = tags_of(&mut n.tags());
                if !tags.is_empty() {
                    tagged_nodes.push((n.id(), tags));
                }
            }
            Element::Way(w) => {
                ways.insert(
                    w.id(),
                    Way {
                        refs: w.refs().collect(),
                        tags: tags_of(&mut w.tags()),
                    },
                );
            }
            Element::Relation(r) => {
                let tags = tags_of(&mut r.tags());
                let area = tags.contains_key("building")
                    || context_kind(&tags).is_some_and(|(layer, _)| layer != ContextLayer::WaterLine);
                if tags.get("type").map(String::as_str) == Some("multipolygon") && area {
                    let members = r
                        .members()
                        .filter(|m| m.member_type == RelMemberType::Way)
                        .map(|m| (m.member_id, m.role().unwrap_or("").to_string()))
                        .collect();
                    relations.push((r.id(), tags, members));
                }
            }
        })
        .map_err(|e| ImportError::unreadable(path, e))?;

    let mut out = OsmFeatures::default();
    let line = |refs: &[i64]| -> Option<LineString<f64>> {
        refs.iter()
            .map(|r| nodes.get(r).copied())
            .collect::<Option<Vec<_>>>()
            .map(LineString)
    };

    // Buildings: closed ways, then multipolygon relations; ids keep the OSM type and number.
    let mut candidates: Vec<(String, MultiPolygon<f64>, HashMap<String, String>)> = Vec::new();
    let mut way_ids: Vec<&i64> = ways.keys().collect();
    way_ids.sort();
    for id in way_ids {
        let w = &ways[id];
        let Some(kind) = w.tags.get("building") else { continue };
        if kind == "no" {
            continue;
        }
        if w.refs.len() < 4 || w.refs.first() != w.refs.last() {
            notes.drop(path, format!("osm-w{id}"), "building way that is not closed");
            continue;
        }
        let Some(ring) = line(&w.refs) else {
            notes.drop(
                path,
                format!("osm-w{id}"),
                "building whose nodes are not in the extract",
            );
            continue;
        };
        candidates.push((
            format!("osm-w{id}"),
            MultiPolygon(vec![Polygon::new(ring, vec![])]),
            w.tags.clone(),
        ));
    }
    relations.sort_by_key(|r| r.0);
    // A multipolygon's rings: outer and inner member ways joined end to end, each hole in the
    // outer ring that contains it; None when a ring stays open or a member is not in the extract.
    let assemble = |members: &WayMembers| -> Option<MultiPolygon<f64>> {
        let rings = |role: &str| -> Option<Vec<LineString<f64>>> {
            let parts: Option<Vec<Vec<i64>>> = members
                .iter()
                .filter(|(_, r)| r == role || (role == "outer" && r.is_empty()))
                .map(|(m, _)| ways.get(m).map(|w| w.refs.clone()))
                .collect();
            join_rings(parts?)?.iter().map(|r| line(r)).collect()
        };
        let (outers, inners) = (rings("outer")?, rings("inner")?);
        let mut polygons: Vec<Polygon<f64>> = outers.into_iter().map(|o| Polygon::new(o, vec![])).collect();
        for inner in inners {
            let at = inner.0.first().copied().map(Point);
            if let Some(p) = polygons.iter_mut().find(|p| at.is_some_and(|a| p.intersects(&a))) {
                p.interiors_push(inner);
            }
        }
        (!polygons.is_empty()).then_some(MultiPolygon(polygons))
    };
    for (id, tags, members) in relations.iter().filter(|r| r.1.contains_key("building")) {
        let Some(footprint) = assemble(members) else {
            notes.drop(
                path,
                format!("osm-r{id}"),
                "building relation whose rings do not close or whose members are not in the extract",
            );
            continue;
        };
        candidates.push((format!("osm-r{id}"), footprint, tags.clone()));
    }

    let mut with_levels = 0;
    for (id, footprint, tags) in candidates {
        // The strict reader takes a footprint this wide for a mistyped coordinate; in OSM it is
        // a site outline tagged as a building.
        if gis_core::measure::span_m(&footprint) > gis_core::io::MAX_BUILDING_SPAN_M {
            notes.drop(
                path,
                id,
                "building footprint over 5 km across (a site outline, not a building)",
            );
            continue;
        }
        let mut properties = Map::new();
        properties.insert("id".into(), json!(id));
        let levels = tags
            .get("building:levels")
            .and_then(|l| l.trim().parse::<f64>().ok())
            .filter(|l| *l >= 1.0 && *l < 200.0);
        if let Some(levels) = levels {
            with_levels += 1;
            properties.insert(
                "floors".into(),
                if levels.fract() == 0.0 {
                    json!(levels as u32)
                } else {
                    json!(levels)
                },
            );
        }
        if let Some(address) = address(&tags) {
            properties.insert("address".into(), json!(address));
        }
        let building_use = tags.get("building").cloned();
        out.buildings.push(Feature {
            geometry: Geometry::MultiPolygon(footprint),
            properties,
            source: path.to_path_buf(),
            source_index: 0,
            building_use,
        });
    }
    notes.assume(format!(
        "{}: building use from building=*, floors from building:levels ({with_levels} of {} buildings have it)",
        path.display(),
        out.buildings.len()
    ));

    // Resources: tagged nodes, and tagged closed ways at their centre.
    let mut unnamed = 0;
    let mut resource = |id: String, at: Coord<f64>, tags: &HashMap<String, String>, notes: &mut Notes| {
        let interesting = tags.contains_key("amenity") || tags.contains_key("shop") || tags.contains_key("healthcare");
        if !interesting {
            return;
        }
        let Some(kind) = resource_kind(tags) else {
            notes.drop(
                path,
                id,
                "amenity/shop/healthcare tag with no resource kind (e.g. bench, parking)",
            );
            return;
        };
        let name = tags
            .get("name:zh")
            .or_else(|| tags.get("name"))
            .cloned()
            .unwrap_or_else(|| {
                unnamed += 1;
                kind.to_string()
            });
        let mut properties = Map::new();
        properties.insert("id".into(), json!(id));
        properties.insert("kind".into(), json!(kind));
        properties.insert("name".into(), json!(name));
        for (tag, key) in [("phone", "phone"), ("opening_hours", "hours")] {
            if let Some(v) = tags.get(tag) {
                properties.insert(key.into(), json!(v));
            }
        }
        if let Some(a) = address(tags) {
            properties.insert("address".into(), json!(a));
        }
        out.resources.push(Feature {
            geometry: Geometry::Point(Point(at)),
            properties,
            source: path.to_path_buf(),
            source_index: 0,
            building_use: None,
        });
    };
    tagged_nodes.sort_by_key(|n| n.0);
    for (id, tags) in &tagged_nodes {
        if let Some(at) = nodes.get(id) {
            resource(format!("osm-n{id}"), *at, tags, notes);
        }
    }
    let mut way_ids: Vec<&i64> = ways.keys().collect();
    way_ids.sort();
    for id in &way_ids {
        let w = &ways[id];
        if w.refs.len() >= 4
            && w.refs.first() == w.refs.last()
            && let Some(ring) = line(&w.refs)
            && let Some(c) = geo::InteriorPoint::interior_point(&Polygon::new(ring, vec![]))
        {
            resource(format!("osm-w{id}"), c.0, &w.tags, notes);
        }
    }
    if unnamed > 0 {
        notes.assume(format!(
            "{}: {unnamed} resources had no name tag and are named by their kind",
            path.display()
        ));
    }

    // Roads, and the walking layer's ways and barriers.
    let feature = |geometry: Geometry<f64>, properties: Map<String, serde_json::Value>| Feature {
        geometry,
        properties,
        source: path.to_path_buf(),
        source_index: 0,
        building_use: None,
    };
    let (mut ways_walked, mut barrier_lines, mut not_for_walking) = (0, 0, 0);
    for id in &way_ids {
        let w = &ways[id];
        let barrier = w.tags.get("barrier").filter(|b| BARRIER_LINES.contains(&b.as_str()));
        if let Some(barrier) = barrier
            && !w.tags.contains_key("highway")
        {
            let Some(l) = line(&w.refs).filter(|l| l.0.len() >= 2) else {
                notes.drop(path, format!("osm-w{id}"), "barrier whose nodes are not in the extract");
                continue;
            };
            let mut properties = Map::new();
            properties.insert("id".into(), json!(format!("osm-w{id}")));
            properties.insert("barrier".into(), json!(barrier));
            out.walk
                .push(feature(Geometry::MultiLineString(MultiLineString(vec![l])), properties));
            barrier_lines += 1;
            continue;
        }
        let Some(class) = w.tags.get("highway") else { continue };
        if !ROAD_CLASSES.contains(&class.as_str()) {
            if !WALK_CLASSES.contains(&class.as_str()) {
                notes.drop(
                    path,
                    format!("osm-w{id}"),
                    "highway of a class neither grid lines follow nor people walk (construction, proposed, …)",
                );
                continue;
            }
            if no_walking(&w.tags) {
                not_for_walking += 1;
                continue;
            }
            let Some(l) = line(&w.refs).filter(|l| l.0.len() >= 2) else {
                notes.drop(
                    path,
                    format!("osm-w{id}"),
                    "walking way whose nodes are not in the extract",
                );
                continue;
            };
            let kind = match w.tags.get("footway").map(String::as_str) {
                Some("crossing") => "crossing",
                _ => class.as_str(),
            };
            let mut properties = Map::new();
            properties.insert("id".into(), json!(format!("osm-w{id}")));
            properties.insert("kind".into(), json!(kind));
            out.walk
                .push(feature(Geometry::MultiLineString(MultiLineString(vec![l])), properties));
            ways_walked += 1;
            continue;
        }
        let Some(l) = line(&w.refs).filter(|l| l.0.len() >= 2) else {
            notes.drop(path, format!("osm-w{id}"), "road whose nodes are not in the extract");
            continue;
        };
        let mut properties = Map::new();
        properties.insert("id".into(), json!(format!("osm-w{id}")));
        properties.insert("class".into(), json!(class));
        if let Some(name) = w.tags.get("name:zh").or_else(|| w.tags.get("name")) {
            properties.insert("name".into(), json!(name));
        }
        out.roads.push(Feature {
            geometry: Geometry::MultiLineString(MultiLineString(vec![l])),
            properties,
            source: path.to_path_buf(),
            source_index: 0,
            building_use: None,
        });
    }
    // Context: water and green areas from closed ways and multipolygons, rivers as lines.
    let mut context =
        |id: String, tags: &HashMap<String, String>, geometry: Geometry<f64>, layer: ContextLayer, kind: String| {
            let mut properties = Map::new();
            properties.insert("id".into(), json!(id));
            properties.insert("kind".into(), json!(kind));
            if let Some(name) = tags.get("name:zh").or_else(|| tags.get("name")) {
                properties.insert("name".into(), json!(name));
            }
            let f = Feature {
                geometry,
                properties,
                source: path.to_path_buf(),
                source_index: 0,
                building_use: None,
            };
            match layer {
                ContextLayer::Green => out.green.push(f),
                ContextLayer::WaterArea | ContextLayer::WaterLine => out.water.push(f),
            }
        };
    for id in &way_ids {
        let w = &ways[id];
        let Some((layer, kind)) = context_kind(&w.tags) else {
            continue;
        };
        let Some(l) = line(&w.refs).filter(|l| l.0.len() >= 2) else {
            notes.drop(
                path,
                format!("osm-w{id}"),
                "water or green way whose nodes are not in the extract",
            );
            continue;
        };
        let geometry = if layer == ContextLayer::WaterLine {
            Geometry::MultiLineString(MultiLineString(vec![l]))
        } else if w.refs.len() >= 4 && w.refs.first() == w.refs.last() {
            Geometry::MultiPolygon(MultiPolygon(vec![Polygon::new(l, vec![])]))
        } else {
            // An unclosed area way is usually one piece of a multipolygon tagged the old way.
            notes.drop(path, format!("osm-w{id}"), "water or green area way that is not closed");
            continue;
        };
        context(format!("osm-w{id}"), &w.tags, geometry, layer, kind);
    }
    for (id, tags, members) in relations.iter().filter(|r| !r.1.contains_key("building")) {
        let Some((layer, kind)) = context_kind(tags) else {
            continue;
        };
        let Some(area) = assemble(members) else {
            notes.drop(
                path,
                format!("osm-r{id}"),
                "water or green relation whose rings do not close or whose members are not in the extract",
            );
            continue;
        };
        context(format!("osm-r{id}"), tags, Geometry::MultiPolygon(area), layer, kind);
    }
    sea(path, &ways, &nodes, &mut out, notes);
    // Gates and entrances: nodes people pass walls and buildings by.
    let mut passages = 0;
    for (id, tags) in &tagged_nodes {
        let gate = tags.get("barrier").is_some_and(|b| GATE_NODES.contains(&b.as_str()));
        let entrance = tags.get("entrance").is_some_and(|e| e != "no");
        if !(gate || entrance) || no_walking(tags) {
            continue;
        }
        let Some(at) = nodes.get(id) else { continue };
        let mut properties = Map::new();
        properties.insert("id".into(), json!(format!("osm-n{id}")));
        properties.insert("kind".into(), json!(if entrance { "entrance" } else { "gate" }));
        out.walk.push(feature(Geometry::Point(Point(*at)), properties));
        passages += 1;
    }
    notes.assume(format!(
        "{}: walking layer: {ways_walked} footways, paths, steps, service ways and tracks, {barrier_lines} walls and fences, {passages} gates and entrances ({not_for_walking} ways tagged foot=no or access=no left out)",
        path.display()
    ));
    for (i, f) in out.buildings.iter_mut().enumerate() {
        f.source_index = i;
    }
    notes.assume(format!(
        "{}: {} buildings, {} resources, {} roads, {} water and {} green features read from OpenStreetMap (© OpenStreetMap contributors, ODbL)",
        path.display(),
        out.buildings.len(),
        out.resources.len(),
        out.roads.len(),
        out.water.len(),
        out.green.len()
    ));
    Ok(out)
}

/// How far (m) short of the extract's edge a coastline may stop and still be carried to it.
const COAST_SNAP_M: f64 = 250.0;

/// The sea inside the extract, from its `natural=coastline` ways (see coast.rs), as water areas
/// of kind `sea`; when the coastline cannot be closed, the notes say why and no sea is drawn.
fn sea(
    path: &Path,
    ways: &HashMap<i64, Way>,
    nodes: &HashMap<i64, Coord<f64>>,
    out: &mut OsmFeatures,
    notes: &mut Notes,
) {
    let mut coast: Vec<(i64, Vec<i64>)> = ways
        .iter()
        .filter(|(_, w)| w.tags.get("natural").map(String::as_str) == Some("coastline") && w.refs.len() >= 2)
        .map(|(id, w)| (*id, w.refs.clone()))
        .collect();
    if coast.is_empty() {
        return;
    }
    coast.sort();
    // Coastline ways run one way (land on the left): each joins the one starting where it ends.
    // Chains start at ways nothing leads into; what is left after them are loops.
    let by_start: HashMap<i64, usize> = coast.iter().enumerate().map(|(i, (_, r))| (r[0], i)).collect();
    let mut ending_at: HashMap<i64, Vec<usize>> = HashMap::new();
    for (j, (_, r)) in coast.iter().enumerate() {
        ending_at.entry(*r.last().unwrap()).or_default().push(j);
    }
    let leads_in: Vec<bool> = coast
        .iter()
        .enumerate()
        .map(|(i, (_, r))| ending_at.get(&r[0]).is_some_and(|js| js.iter().any(|&j| j != i)))
        .collect();
    let mut used = vec![false; coast.len()];
    let mut chains: Vec<Vec<i64>> = Vec::new();
    let starts: Vec<usize> = (0..coast.len())
        .filter(|&i| !leads_in[i])
        .chain(0..coast.len())
        .collect();
    for i in starts {
        if used[i] {
            continue;
        }
        let mut chain: Vec<i64> = Vec::new();
        let mut at = i;
        loop {
            used[at] = true;
            let refs = &coast[at].1;
            chain.extend(refs.iter().skip(usize::from(!chain.is_empty())));
            match by_start.get(refs.last().unwrap()) {
                Some(&next) if !used[next] => at = next,
                _ => break,
            }
        }
        chains.push(chain);
    }
    let lines: Vec<LineString<f64>> = chains
        .iter()
        .map(|c| LineString(c.iter().filter_map(|r| nodes.get(r).copied()).collect()))
        .filter(|l: &LineString<f64>| l.0.len() >= 2)
        .collect();
    let Some(extent) =
        geo::BoundingRect::bounding_rect(&geo::MultiPoint(nodes.values().map(|c| Point(*c)).collect::<Vec<_>>()))
    else {
        return;
    };
    match crate::coast::sea(&lines, extent, COAST_SNAP_M) {
        Ok(seas) if seas.0.is_empty() => notes.assume(format!(
            "{}: {} coastline ways, and no sea inside the extract",
            path.display(),
            coast.len()
        )),
        Ok(seas) => {
            let n = seas.0.len();
            for (i, p) in seas.0.into_iter().enumerate() {
                let mut properties = Map::new();
                properties.insert("id".into(), json!(format!("osm-sea-{}", i + 1)));
                properties.insert("kind".into(), json!("sea"));
                out.water.push(Feature {
                    geometry: Geometry::MultiPolygon(MultiPolygon(vec![p])),
                    properties,
                    source: path.to_path_buf(),
                    source_index: 0,
                    building_use: None,
                });
            }
            notes.assume(format!(
                "{}: the sea drawn as {n} water {} from {} coastline ways, closed along the extract's edge (water to the right of the coastline)",
                path.display(),
                if n == 1 { "area" } else { "areas" },
                coast.len()
            ));
        }
        Err(crate::coast::NoSea::EndsInside { at, metres }) => notes.assume(format!(
            "{}: no sea drawn: the coastline stops {metres:.0} m inside the extract at {:.6}, {:.6}, so which side is water cannot be told",
            path.display(),
            at.x,
            at.y
        )),
        Err(crate::coast::NoSea::Open) => notes.assume(format!(
            "{}: no sea drawn: the coastline's pieces do not close along the extract's edge",
            path.display()
        )),
    }
}

fn address(tags: &HashMap<String, String>) -> Option<String> {
    if let Some(full) = tags.get("addr:full") {
        return Some(full.clone());
    }
    let street = tags.get("addr:street")?;
    Some(match tags.get("addr:housenumber") {
        Some(n) => format!("{street} {n}"),
        None => street.clone(),
    })
}

/// Joins member ways end to end into closed rings (ways may run either way); None if any ring
/// stays open.
fn join_rings(mut parts: Vec<Vec<i64>>) -> Option<Vec<Vec<i64>>> {
    let mut rings = Vec::new();
    while let Some(mut ring) = parts.pop() {
        while ring.first() != ring.last() || ring.len() < 4 {
            let end = *ring.last()?;
            let next = parts
                .iter()
                .position(|p| p.first() == Some(&end) || p.last() == Some(&end))?;
            let mut p = parts.swap_remove(next);
            if p.first() != Some(&end) {
                p.reverse();
            }
            ring.extend(p.into_iter().skip(1));
        }
        rings.push(ring);
    }
    Some(rings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rings_join_whichever_way_members_run() {
        let rings = join_rings(vec![vec![1, 2, 3], vec![1, 4, 3]]).unwrap();
        assert_eq!(rings, vec![vec![1, 4, 3, 2, 1]]);
        assert!(join_rings(vec![vec![1, 2, 3]]).is_none());
    }

    #[test]
    fn tags_map_to_kinds() {
        let t = |k: &str, v: &str| HashMap::from([(k.to_string(), v.to_string())]);
        assert_eq!(resource_kind(&t("amenity", "pharmacy")), Some("pharmacy"));
        assert_eq!(resource_kind(&t("shop", "supermarket")), Some("supermarket"));
        assert_eq!(resource_kind(&t("shop", "bakery")), Some("shop"));
        assert_eq!(resource_kind(&t("healthcare", "dentist")), Some("dentist"));
        assert_eq!(resource_kind(&t("amenity", "bench")), None);
    }

    #[test]
    fn context_tags_map_to_layers() {
        let t = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
        };
        let kind = |pairs: &[(&str, &str)]| context_kind(&t(pairs));
        use ContextLayer::*;
        assert_eq!(kind(&[("natural", "water")]), Some((WaterArea, "water".into())));
        assert_eq!(
            kind(&[("natural", "water"), ("water", "lake")]),
            Some((WaterArea, "lake".into()))
        );
        assert_eq!(kind(&[("waterway", "stream")]), Some((WaterLine, "stream".into())));
        assert_eq!(kind(&[("waterway", "riverbank")]), Some((WaterArea, "river".into())));
        assert_eq!(kind(&[("landuse", "reservoir")]), Some((WaterArea, "reservoir".into())));
        assert_eq!(kind(&[("leisure", "park")]), Some((Green, "park".into())));
        assert_eq!(kind(&[("natural", "wood")]), Some((Green, "wood".into())));
        assert_eq!(kind(&[("landuse", "residential")]), None);
        assert_eq!(kind(&[("waterway", "drain")]), None);
    }
}
