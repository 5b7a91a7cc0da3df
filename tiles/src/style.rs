//! TileJSON 3.0.0 for the tileset and the MapLibre style (spec v8) the web map uses, in the
//! [`palette`](crate::palette) the raster tiles use too. URLs are absolute, from the base URL the
//! service is reached at.

use crate::data::{self, MapData};
use crate::palette::{self, Rgb};
use serde_json::{Value, json};

/// The font stacks the style asks glyphs for (served at `/fonts/{fontstack}/{range}.pbf`).
pub const FONT: &str = "DejaVu Sans Book";
pub const FONT_BOLD: &str = "DejaVu Sans Bold";

pub fn tilejson(map: &MapData, base: &str) -> Value {
    let [w, s, e, n] = map.bounds;
    let layers: Vec<Value> = map
        .layers
        .iter()
        .map(|l| {
            let fields: serde_json::Map<String, Value> =
                l.fields.iter().map(|(k, t)| (k.to_string(), json!(t))).collect();
            json!({"id": l.name, "fields": fields, "minzoom": l.minzoom, "maxzoom": l.maxzoom,
                   "description": describe(l.name)})
        })
        .collect();
    json!({
        "tilejson": "3.0.0",
        "name": "wangge",
        "description": "Grids (网格), micro-grids, communities, buildings, resources, roads, water, green, population points and resident density",
        "version": "1.0.0",
        "scheme": "xyz",
        "tiles": [format!("{base}/tiles/{{z}}/{{x}}/{{y}}.mvt")],
        "minzoom": 0,
        "maxzoom": map.maxzoom(),
        "bounds": [w, s, e, n],
        "center": [(w + e) / 2.0, (s + n) / 2.0, 14],
        "vector_layers": layers,
        // Every resource kind the data holds, for a legend of what is on the map only.
        "resource_kinds": map.resource_kinds,
        // The context layers that hold features (water, green, population_points), for the same.
        "context_layers": context_layers(map),
        "attribution": "wangge",
    })
}

/// The context layers that hold features (water, green, population_points).
fn context_layers(map: &MapData) -> Vec<&'static str> {
    [data::WATER, data::GREEN, data::POPULATION_POINTS]
        .into_iter()
        .filter(|name| map.layer(name).is_some_and(|l| !l.features.is_empty()))
        .collect()
}

fn describe(layer: &str) -> &'static str {
    match layer {
        data::COMMUNITIES => "Community (社区) boundaries",
        data::DENSITY => "Residents per H3 hexagon (resolution 7 below z11, 8 at z11–12, 9 from z13)",
        data::GRIDS => {
            "Grids (网格): basic and exclusive; fill = size / maximum; status under/inside/over/exclusive; colour = the residents' map colour (0–5), never shared by neighbouring grids and kept by a grid that keeps its code"
        }
        data::MICRO_GRIDS => "Micro-grids (微网格)",
        data::ROADS => "Roads",
        data::ROAD_NAMES => {
            "Road names: the named roads with the ways of one name joined end to end, for writing the name along the line (from z14)"
        }
        data::BUILDINGS => "Buildings",
        data::RESOURCES => "Resources: clinics, pharmacies, shops, schools, elderly care, service centres, ...",
        data::GRID_LABELS => {
            "Where each grid's label goes: one point per grid (code, population, and its community's name, since grid numbers repeat in every community)"
        }
        data::COMMUNITY_LABELS => "Where each community's label goes: one point per community",
        data::COMPOUND_LABELS => {
            "Where each compound's (小区) name goes: one point per compound, in the open between its buildings or on one of them"
        }
        data::WATER => {
            "Water for orientation (optional water.geojson): lakes, ponds, reservoirs, riverbanks as areas; rivers, canals and streams as lines; kind, name"
        }
        data::GREEN => {
            "Green for orientation (optional green.geojson): parks, gardens, playgrounds, grass, woods, cemeteries; kind, name"
        }
        data::POPULATION_POINTS => {
            "Residents counted by point rather than by building (an urban village, 城中村): one point each with its count (from z14)"
        }
        data::BUILDING_LABELS => {
            "Building numbers (楼号) read off the address (3号楼, 10号, 15 A): one point per numbered building (feature id = the building's), in z16 tiles, shown from z17"
        }
        _ => "",
    }
}

fn hex(c: Rgb) -> String {
    c.hex()
}

/// The MapLibre style: neighbouring grids in different colours (the status fill in the layer's
/// metadata, for planners), codes labelled, resources as sprite icons.
pub fn style(map: &MapData, base: &str) -> Value {
    let [w, s, e, n] = map.bounds;
    let status_fill = json!([
        "match",
        ["get", "status"],
        "under",
        hex(palette::UNDER),
        "over",
        hex(palette::OVER),
        "exclusive",
        hex(palette::EXCLUSIVE),
        hex(palette::INSIDE)
    ]);
    // Residents see neighbouring grids apart; the planner view swaps in the status fill, kept in
    // the layer's metadata so both come from the one palette.
    let colour_fill = {
        let mut v = vec![json!("match"), json!(["get", "colour"])];
        for (i, c) in palette::GRID_COLOURS.iter().enumerate().skip(1) {
            v.push(json!(i));
            v.push(json!(hex(*c)));
        }
        v.push(json!(hex(palette::GRID_COLOURS[0])));
        Value::Array(v)
    };
    let density_fill = {
        let mut v = vec![
            json!("step"),
            json!(["get", "per_km2"]),
            json!(hex(palette::DENSITY[0])),
        ];
        for i in 1..palette::DENSITY.len() {
            v.push(json!(palette::DENSITY_STOPS[i]));
            v.push(json!(hex(palette::DENSITY[i])));
        }
        Value::Array(v)
    };
    let sort_key = {
        let mut v = vec![json!("match"), json!(["get", "kind"])];
        for k in crate::icons::KINDS {
            v.push(json!(k));
            v.push(json!(crate::icons::priority(k)));
        }
        v.push(json!(crate::icons::priority("")));
        Value::Array(v)
    };
    let green = json!({"id": "green", "type": "fill", "source": "wangge", "source-layer": "green", "minzoom": data::CONTEXT_FROM,
        "paint": {"fill-color": hex(palette::GREEN), "fill-opacity": crate::context::GREEN_OPACITY}});
    let water = json!({"id": "water", "type": "fill", "source": "wangge", "source-layer": "water", "minzoom": data::CONTEXT_FROM,
        "filter": ["in", ["geometry-type"], ["literal", ["Polygon", "MultiPolygon"]]],
        "paint": {"fill-color": hex(palette::WATER), "fill-opacity": crate::context::WATER_OPACITY}});
    let waterway = json!({"id": "waterway", "type": "line", "source": "wangge", "source-layer": "water", "minzoom": data::CONTEXT_FROM,
        "filter": ["in", ["geometry-type"], ["literal", ["LineString", "MultiLineString"]]],
        "layout": {"line-join": "round", "line-cap": "round"},
        "paint": {"line-color": hex(palette::WATERWAY),
                  "line-width": ["interpolate", ["linear"], ["zoom"],
                                 10, ["match", ["get", "kind"], "stream", 0.8, 1.6],
                                 16, ["match", ["get", "kind"], "stream", 2.9, 5.8]]}});
    let radius = |unit: f64| json!(["*", unit, ["min", 6, ["sqrt", ["max", 1, ["get", "count"]]]]]);
    let population_points = json!({"id": "population-points", "type": "circle", "source": "wangge",
        "source-layer": "population_points", "minzoom": data::POPULATION_POINTS_FROM,
        "paint": {"circle-color": hex(palette::POPULATION_POINT), "circle-opacity": 0.85,
                  "circle-radius": ["interpolate", ["linear"], ["zoom"], 14, radius(1.1), 16, radius(1.6)],
                  "circle-stroke-color": hex(palette::HALO), "circle-stroke-width": 0.8}});
    let population_count = json!({"id": "population-count", "type": "symbol", "source": "wangge",
        "source-layer": "population_points", "minzoom": crate::raster::POPULATION_COUNTS_FROM,
        "layout": {"text-field": ["to-string", ["get", "count"]], "text-font": [FONT], "text-size": 9,
                   "text-anchor": "left", "text-offset": [0.7, 0], "text-padding": 1},
        "paint": {"text-color": hex(palette::POPULATION_POINT), "text-halo-color": hex(palette::HALO), "text-halo-width": 1.2}});
    let road_casing_width = json!([
        "interpolate",
        ["linear"],
        ["zoom"],
        12,
        ["*", 1.5, road_width()],
        16,
        ["*", 9, road_width()]
    ]);
    let road_line_width = json!([
        "interpolate",
        ["linear"],
        ["zoom"],
        12,
        ["*", 0.8, road_width()],
        16,
        ["*", 7, road_width()]
    ]);
    json!({
        "version": 8,
        "name": "wangge",
        "center": [(w + e) / 2.0, (s + n) / 2.0],
        "zoom": 14,
        "sources": {"wangge": {"type": "vector", "url": format!("{base}/tiles.json")}},
        "glyphs": format!("{base}/fonts/{{fontstack}}/{{range}}.pbf"),
        "sprite": format!("{base}/sprites/sprite"),
        "layers": [
            {"id": "background", "type": "background", "paint": {"background-color": hex(palette::BACKGROUND)}},
            {"id": "density", "type": "fill", "source": "wangge", "source-layer": "density", "maxzoom": 15,
             "paint": {"fill-color": density_fill, "fill-opacity": 0.5}},
            {"id": "grid-fill", "type": "fill", "source": "wangge", "source-layer": "grids", "minzoom": 11,
             "metadata": {"wangge:status-fill": status_fill},
             "paint": {"fill-color": colour_fill, "fill-opacity": palette::GRID_FILL_OPACITY}},
            // Water and green softly over the grid fills, under roads, buildings and every line.
            green,
            water,
            waterway,
            {"id": "roads-casing", "type": "line", "source": "wangge", "source-layer": "roads", "minzoom": 12,
             "layout": {"line-join": "round", "line-cap": "round"},
             "paint": {"line-color": hex(palette::ROAD_CASING),
                       "line-width": road_casing_width}},
            {"id": "roads", "type": "line", "source": "wangge", "source-layer": "roads", "minzoom": 12,
             "layout": {"line-join": "round", "line-cap": "round"},
             "paint": {"line-color": hex(palette::ROAD),
                       "line-width": road_line_width}},
            {"id": "buildings", "type": "fill", "source": "wangge", "source-layer": "buildings", "minzoom": 14,
             "paint": {"fill-color": hex(palette::BUILDING), "fill-outline-color": hex(palette::BUILDING_LINE), "fill-opacity": 0.9}},
            // Residents counted by point (城中村): dots whose area grows with the residents.
            population_points,
            {"id": "micro-grid-line", "type": "line", "source": "wangge", "source-layer": "micro_grids", "minzoom": 15,
             "paint": {"line-color": hex(palette::MICRO_LINE), "line-width": 0.8, "line-dasharray": [3, 2]}},
            {"id": "grid-line", "type": "line", "source": "wangge", "source-layer": "grids", "minzoom": 11,
             "layout": {"line-join": "round"},
             "paint": {"line-color": hex(palette::GRID_LINE), "line-width": ["interpolate", ["linear"], ["zoom"], 11, 0.8, 16, 2.2]}},
            {"id": "community-line", "type": "line", "source": "wangge", "source-layer": "communities",
             "layout": {"line-join": "round"},
             "paint": {"line-color": hex(palette::COMMUNITY_LINE), "line-width": ["interpolate", ["linear"], ["zoom"], 8, 1, 16, 3.5]}},
            // Labels and icons never overlap one another: MapLibre places the symbol layers
            // from the top of this list down, so building numbers give way to road names, road
            // names to compound names, those to icons, icons to grid labels.
            population_count,
            {"id": "building-label", "type": "symbol", "source": "wangge", "source-layer": "building_labels",
             "minzoom": crate::raster::BUILDING_NUMBERS_FROM,
             "layout": {"text-field": ["get", "number"], "text-font": [FONT], "text-size": 10, "text-padding": 2},
             "paint": {"text-color": hex(palette::BUILDING_TEXT), "text-halo-color": hex(palette::HALO), "text-halo-width": 1.2}},
            {"id": "road-label", "type": "symbol", "source": "wangge", "source-layer": "road_names",
             "minzoom": crate::raster::ROAD_NAMES_FROM,
             "layout": {"symbol-placement": "line", "text-field": ["get", "name"], "text-font": [FONT],
                        "text-size": ["interpolate", ["linear"], ["zoom"], 14, 11, 17, 13],
                        "text-max-angle": 30, "symbol-spacing": 250, "text-padding": 2,
                        "symbol-sort-key": road_rank()},
             "paint": {"text-color": hex(palette::ROAD_TEXT), "text-halo-color": hex(palette::HALO), "text-halo-width": 1.5}},
            {"id": "compound-label", "type": "symbol", "source": "wangge", "source-layer": "compound_labels", "minzoom": 15,
             "layout": {"text-field": ["get", "name"], "text-font": [FONT], "text-size": 12, "text-padding": 4,
                        "symbol-sort-key": ["-", 0, ["get", "population"]]},
             "paint": {"text-color": hex(palette::COMPOUND_TEXT), "text-halo-color": hex(palette::HALO), "text-halo-width": 1.5}},
            // Icons never overlap: care first, then schools, then shops (symbol-sort-key), and
            // shops only close up (the filter), as the raster tiles place them.
            {"id": "resources", "type": "symbol", "source": "wangge", "source-layer": "resources", "minzoom": 13,
             "filter": resource_filter(),
             "layout": {"icon-image": ["coalesce", ["image", ["get", "kind"]], ["image", "dot"]], "icon-size": 1,
                        "symbol-sort-key": sort_key,
                        "text-field": ["step", ["zoom"], "", 16, ["coalesce", ["get", "name"], kind_names(true)]], "text-font": [FONT],
                        "text-size": 11, "text-offset": [0, 1.3], "text-anchor": "top", "text-optional": true},
             "paint": {"text-color": hex(palette::TEXT), "text-halo-color": hex(palette::HALO), "text-halo-width": 1.2}},
            {"id": "grid-label", "type": "symbol", "source": "wangge", "source-layer": "grid_labels", "minzoom": 13,
             "layout": {"text-field": grid_label_field(map.several_communities()),
                        "text-font": [FONT], "text-size": 13, "symbol-placement": "point"},
             "paint": {"text-color": hex(palette::TEXT), "text-halo-color": hex(palette::HALO), "text-halo-width": 1.5}},
            {"id": "community-label", "type": "symbol", "source": "wangge", "source-layer": "community_labels", "maxzoom": 13,
             "layout": {"text-field": ["get", "name"], "text-font": [FONT_BOLD], "text-size": 14},
             "paint": {"text-color": hex(palette::COMMUNITY_LINE), "text-halo-color": hex(palette::HALO), "text-halo-width": 1.5}}
        ]
    })
}

/// A grid's label: its sequence number in bold; under it its community's name where the map
/// holds several communities (every community has its "001"); then its residents (from z14 when
/// the community is named, to keep the street's overview light), or an exclusive grid's
/// institution. The web map swaps " 人" for " residents" in English.
pub fn grid_label_field(several: bool) -> Value {
    let number = json!(["slice", ["get", "code"], 12]);
    let bold = json!({"font-scale": 1.15, "text-font": ["literal", [FONT_BOLD]]});
    // An exclusive grid is an institution: its name, not its (often zero) residents.
    let second = json!([
        "case",
        ["==", ["get", "kind"], "exclusive"],
        ["coalesce", ["get", "name"], ""],
        ["concat", ["to-string", ["get", "population"]], " 人"]
    ]);
    let small = json!({"font-scale": 0.8});
    if !several {
        return json!(["format", number, bold, "\n", {}, second, small]);
    }
    let community = json!(["coalesce", ["get", "community"], ""]);
    let community_style = json!({"font-scale": 0.8, "text-color": hex(palette::COMMUNITY_LINE)});
    json!([
        "step",
        ["zoom"],
        ["format", number, bold, "\n", {}, community, community_style],
        14,
        [
            "format",
            number,
            bold,
            "\n",
            {},
            community,
            community_style,
            "\n",
            {},
            second,
            small
        ]
    ])
}

/// How much wider than a street each road class is drawn ([`crate::context::road_width`]).
fn road_width() -> Value {
    let mut v = vec![json!("match"), json!(["get", "class"])];
    for class in [
        "motorway",
        "trunk",
        "primary",
        "motorway_link",
        "trunk_link",
        "secondary",
        "primary_link",
        "tertiary",
        "secondary_link",
        "tertiary_link",
    ] {
        v.push(json!(class));
        v.push(json!(crate::context::road_width(Some(class))));
    }
    v.push(json!(1.0));
    Value::Array(v)
}

/// Road classes in the order their names are placed (the bigger road first).
fn road_rank() -> Value {
    let mut v = vec![json!("match"), json!(["get", "class"])];
    for class in [
        "motorway",
        "trunk",
        "primary",
        "secondary",
        "tertiary",
        "residential",
        "street",
        "unclassified",
    ] {
        v.push(json!(class));
        v.push(json!(crate::raster::road_rank(class)));
    }
    v.push(json!(crate::raster::road_rank("")));
    Value::Array(v)
}

/// Shops and supermarkets only from the zoom their icons start at.
pub fn resource_filter() -> Value {
    let late: Vec<&str> = crate::icons::KINDS
        .iter()
        .copied()
        .filter(|k| crate::icons::min_zoom(k) > 13)
        .collect();
    let from = late.iter().map(|k| crate::icons::min_zoom(k)).max().unwrap_or(16);
    json!([
        "any",
        ["!", ["in", ["get", "kind"], ["literal", late]]],
        [">=", ["zoom"], from]
    ])
}

/// A resource kind's name as an expression on `kind`, in Chinese or English: the label of an
/// unnamed resource.
pub fn kind_names(chinese: bool) -> Value {
    let mut v = vec![json!("match"), json!(["get", "kind"])];
    for k in crate::icons::KINDS {
        let (zh, en) = crate::print::kind_name(k);
        v.push(json!(k));
        v.push(json!(if chinese { zh } else { en }));
    }
    let (zh, en) = crate::print::kind_name("");
    v.push(json!(if chinese { zh } else { en }));
    Value::Array(v)
}
