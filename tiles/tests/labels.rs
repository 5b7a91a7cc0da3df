//! Labels: compound names, building numbers, road names and grid labels that name their
//! community, on Kangle, Zhongjing (nine communities, nine "001"s) and a real OpenStreetMap
//! import (Helsinki's centre): each label layer has the right features at the stated zooms,
//! every character is one the web map can draw, and raster tiles and the printed map place
//! labels without overlaps, agreeing across tile edges. Set `WANGGE_TILE_OUT=DIR` to keep the
//! PNGs and look at them.

use crate::common;

use common::*;
use geo::{Contains, ConvexHull, Coord, MultiPoint, Point};
use geozero::mvt::{Message, Tile};
use std::collections::{BTreeMap, BTreeSet};
use tiles::data::{self, MapData, Shape};
use tiles::labels::{self, PxBox};
use tiles::mercator::{self, TileId};
use tiles::raster::{self, Placed};

fn point(f: &data::Feature) -> [f64; 2] {
    match &f.shape {
        Shape::Point(p) => [p.x(), p.y()],
        _ => panic!("label layers hold points"),
    }
}

/// The layers of an encoded tile, each with its features' string properties.
fn decode(map: &MapData, tile: TileId) -> BTreeMap<String, Vec<BTreeMap<String, String>>> {
    let bytes = tiles::mvt::encode(map, tile);
    let t = Tile::decode(&bytes[..]).expect("a tile decodes");
    t.layers
        .iter()
        .map(|l| {
            let features = l
                .features
                .iter()
                .map(|f| {
                    f.tags
                        .chunks(2)
                        .filter_map(|kv| {
                            let v = &l.values[kv[1] as usize];
                            v.string_value.clone().map(|s| (l.keys[kv[0] as usize].clone(), s))
                        })
                        .collect()
                })
                .collect();
            (l.name.clone(), features)
        })
        .collect()
}

/// Every character of every label is drawn by the web map: Chinese by the browser's own fonts
/// (MapLibre's `localIdeographFontFamily`), the rest from the glyphs the server serves.
fn check_glyphs(name: &str, map: &MapData) -> usize {
    let mut texts: BTreeSet<String> = BTreeSet::new();
    for (layer, key) in [
        (data::ROADS, "name"),
        (data::COMPOUND_LABELS, "name"),
        (data::BUILDING_LABELS, "number"),
        (data::COMMUNITY_LABELS, "name"),
        (data::GRID_LABELS, "community"),
        (data::GRID_LABELS, "name"),
    ] {
        for f in &map.layer(layer).unwrap().features {
            if let Some(s) = f.str(key) {
                texts.insert(s.to_string());
            }
        }
    }
    for t in &texts {
        for ch in t.chars() {
            assert!(
                ch.is_whitespace() || labels::is_cjk(ch) || tiles::glyphs::covers(tiles::style::FONT, ch),
                "{name}: {ch:?} (U+{:04X}) of {t:?} is neither drawn by the browser's CJK font nor served",
                ch as u32
            );
        }
    }
    texts.len()
}

/// No two placed labels overlap, nor a label and an icon.
fn check_no_overlap(what: &str, placed: &[Placed]) {
    for (i, a) in placed.iter().enumerate() {
        for b in &placed[i + 1..] {
            if a.kind == "icon" && b.kind == "icon" {
                continue; // icons_at keeps them apart; tested in raster.rs
            }
            for ba in &a.boxes {
                for bb in &b.boxes {
                    assert!(
                        !labels::overlap(ba, bb),
                        "{what}: {} {:?} overlaps {} {:?} ({ba:?} / {bb:?})",
                        a.kind,
                        a.text,
                        b.kind,
                        b.text
                    );
                }
            }
        }
    }
}

/// Renders a block of `n`×`n` tiles round `centre` at `z`: checks each for overlaps, and that
/// neighbouring tiles agree on every label crossing their common edge. Counts labels by kind.
fn check_block(name: &str, map: &MapData, z: u8, centre: [f64; 2], n: u32) -> BTreeMap<&'static str, usize> {
    let out = std::env::var_os("WANGGE_TILE_OUT").map(std::path::PathBuf::from);
    let c = TileId::containing(z, centre);
    let (x0, y0) = (c.x - n / 2, c.y - n / 2);
    let mut by_tile: BTreeMap<(u32, u32), Vec<Placed>> = BTreeMap::new();
    let mut mosaic = tiny_skia::Pixmap::new(256 * n, 256 * n).unwrap();
    let mut kinds: BTreeMap<&'static str, BTreeSet<String>> = BTreeMap::new();
    for x in x0..x0 + n {
        for y in y0..y0 + n {
            let t = TileId::new(u32::from(z), x, y).unwrap();
            let (pm, placed) = raster::render_labelled(map, t, 1);
            check_no_overlap(&format!("{name} {z}/{x}/{y}"), &placed);
            mosaic.draw_pixmap(
                (256 * (x - x0)) as i32,
                (256 * (y - y0)) as i32,
                pm.as_ref(),
                &tiny_skia::PixmapPaint::default(),
                tiny_skia::Transform::identity(),
                None,
            );
            // Only what shows on this tile.
            let on: Vec<Placed> = placed
                .into_iter()
                .filter(|p| {
                    p.boxes
                        .iter()
                        .any(|b| b[2] > 0.0 && b[3] > 0.0 && b[0] < 256.0 && b[1] < 256.0)
                })
                .collect();
            for p in &on {
                kinds
                    .entry(p.kind)
                    .or_default()
                    .insert(format!("{:?}{:?}", p.text, p.boxes[0].map(|v| v as i32)));
            }
            by_tile.insert((x, y), on);
        }
    }
    if let Some(dir) = &out {
        std::fs::create_dir_all(dir).unwrap();
        mosaic
            .save_png(dir.join(format!("labels-{name}-z{z}-{x0}-{y0}-{n}x{n}.png")))
            .unwrap();
    }
    // Labels across the edge between two tiles side by side are drawn by both.
    let shifted = |p: &Placed, dx: f32, dy: f32| -> String {
        let b: Vec<PxBox> = p
            .boxes
            .iter()
            .map(|b| [b[0] + dx, b[1] + dy, b[2] + dx, b[3] + dy])
            .collect();
        format!(
            "{} {} {:?}",
            p.kind,
            p.text,
            b.iter()
                .map(|b| b.map(|v| (v * 4.0).round() as i64))
                .collect::<Vec<_>>()
        )
    };
    for (&(x, y), placed) in &by_tile {
        for (dx, dy) in [(1u32, 0u32), (0, 1)] {
            let Some(other) = by_tile.get(&(x + dx, y + dy)) else {
                continue;
            };
            let crosses = |p: &Placed, edge: f32, horizontal: bool| {
                p.boxes.iter().any(|b| {
                    let (lo, hi) = if horizontal { (b[0], b[2]) } else { (b[1], b[3]) };
                    lo < edge && hi > edge
                })
            };
            let (h, off) = (dx == 1, 256.0);
            let here: BTreeSet<String> = placed
                .iter()
                .filter(|p| p.kind != "icon" && crosses(p, off, h))
                .map(|p| shifted(p, 0.0, 0.0))
                .collect();
            let there: BTreeSet<String> = other
                .iter()
                .filter(|p| p.kind != "icon" && crosses(p, 0.0, h))
                .map(|p| shifted(p, if h { off } else { 0.0 }, if h { 0.0 } else { off }))
                .collect();
            assert_eq!(
                here,
                there,
                "{name} z{z}: tiles {x}/{y} and {}/{} disagree on the labels across their edge",
                x + dx,
                y + dy
            );
        }
    }
    kinds.into_iter().map(|(k, v)| (k, v.len())).collect()
}

#[test]
fn kangle_compounds_buildings_and_roads_are_labelled_at_their_zooms() {
    let (d, _, map) = map("kangle", false);
    // Compounds: one label per compound, the school's and the market's left to their grids.
    let compounds = map.layer(data::COMPOUND_LABELS).unwrap();
    let names: BTreeSet<&str> = compounds.features.iter().filter_map(|f| f.str("name")).collect();
    let institutions: BTreeSet<&str> = d.exclusive.iter().map(|e| e.name.as_str()).collect();
    let want: BTreeSet<&str> = d
        .buildings
        .iter()
        .filter_map(|b| b.compound.as_deref())
        .filter(|c| !institutions.contains(c))
        .collect();
    assert_eq!(names, want);
    assert_eq!(names.len(), 13, "Kangle: 9 compounds and 4 dormitory blocks");
    let buildings = map.layer(data::BUILDINGS).unwrap();
    for f in &compounds.features {
        let name = f.str("name").unwrap();
        let at = Point::from(point(f));
        let hull = buildings
            .features
            .iter()
            .filter(|b| b.str("compound") == Some(name))
            .flat_map(|b| match &b.shape {
                Shape::Area(a) => a.0[0].exterior().0.clone(),
                _ => vec![],
            })
            .map(Point::from)
            .collect::<MultiPoint<f64>>()
            .convex_hull();
        assert!(hull.contains(&at), "{name}'s label is outside its buildings' hull");
        for b in &buildings.features {
            if let (Shape::Area(a), Some(other)) = (&b.shape, b.str("compound"))
                && other != name
            {
                assert!(!a.contains(&at), "{name}'s label is on {other}'s building");
            }
        }
        assert_eq!(
            f.uint("buildings").unwrap() as usize,
            d.buildings
                .iter()
                .filter(|b| b.compound.as_deref() == Some(name))
                .count()
        );
    }
    // Deterministic: the same points, to the bit, every time.
    let again = MapData::new(&d, &[], gis_core::bounds::SizeBounds::default());
    let points = |m: &MapData| -> Vec<[u64; 2]> {
        m.layer(data::COMPOUND_LABELS)
            .unwrap()
            .features
            .iter()
            .map(|f| point(f).map(f64::to_bits))
            .collect()
    };
    assert_eq!(points(&map), points(&again));

    // Building numbers: every building whose address ends "N号楼" (the three clubhouses, 会所,
    // have none), on its own footprint.
    let numbers = map.layer(data::BUILDING_LABELS).unwrap();
    let numbered = d
        .buildings
        .iter()
        .filter(|b| b.address.as_deref().is_some_and(|a| a.ends_with("号楼")))
        .count();
    assert_eq!((numbers.features.len(), numbered), (185, 185));
    for f in &numbers.features {
        let n = f.str("number").unwrap();
        let b = &d.buildings[(f.id - 1) as usize];
        // The label's feature id is its building's in the buildings layer.
        assert_eq!(buildings.features[(f.id - 1) as usize].str("id"), Some(b.id.as_str()));
        assert!(b.address.as_deref().unwrap().ends_with(n), "{n} from {:?}", b.address);
        assert!(
            n.ends_with("号楼") && n.trim_end_matches("号楼").parse::<u32>().is_ok(),
            "{n}"
        );
        let fp = match &buildings.features[(f.id - 1) as usize].shape {
            Shape::Area(a) => a,
            _ => unreachable!(),
        };
        let p = Point::from(point(f));
        assert!(
            fp.contains(&p) || geo::Distance::distance(&geo::Euclidean, fp, &p) < 1e-12,
            "{n}: label off its building"
        );
    }

    // In the vector tiles at the stated zooms: compound names from z15, building numbers in
    // z16 tiles only, road names with the roads.
    let f = compounds
        .features
        .iter()
        .find(|f| f.str("name") == Some("嘉禾公寓"))
        .unwrap();
    for z in 13u8..=16 {
        let layers = decode(&map, TileId::containing(z, point(f)));
        let compound_names: BTreeSet<&str> = layers
            .get(data::COMPOUND_LABELS)
            .map(|fs| fs.iter().filter_map(|f| f.get("name").map(String::as_str)).collect())
            .unwrap_or_default();
        assert_eq!(compound_names.contains("嘉禾公寓"), z >= 15, "z{z}: {compound_names:?}");
        let numbers = layers.get(data::BUILDING_LABELS).map_or(0, Vec::len);
        assert_eq!(numbers > 0, z == 16, "z{z}: {numbers} building numbers");
        if z >= 12 {
            let road_names: BTreeSet<&str> = layers[data::ROADS]
                .iter()
                .filter_map(|f| f.get("name").map(String::as_str))
                .collect();
            assert!(!road_names.is_empty(), "z{z}: no road names in the roads layer");
        }
        // One community: grid labels need not name it, but carry it.
        if let Some(grids) = layers.get(data::GRID_LABELS) {
            assert!(
                grids
                    .iter()
                    .all(|g| g.get("community").map(String::as_str) == Some("康乐社区"))
            );
        }
    }
    assert!(!map.several_communities());
    let field = tiles::style::style(&map, "http://x")["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == "grid-label")
        .unwrap()["layout"]["text-field"]
        .to_string();
    assert!(
        !field.contains("community"),
        "one community: the label does not repeat its name"
    );
    assert!(check_glyphs("kangle", &map) > 30);
}

#[test]
fn kangle_raster_tiles_place_labels_without_overlaps() {
    let (_, _, map) = map("kangle", false);
    let f = map
        .layer(data::COMPOUND_LABELS)
        .unwrap()
        .features
        .iter()
        .find(|f| f.str("name") == Some("嘉禾公寓"))
        .unwrap();
    let centre = point(f);
    let cjk = tiles::text::has_cjk();
    for (z, n) in [(13u8, 2), (14, 3), (15, 3), (16, 3), (17, 3), (18, 3)] {
        let kinds = check_block("kangle", &map, z, centre, n);
        eprintln!("kangle z{z}: {kinds:?}");
        let count = |k: &str| kinds.get(k).copied().unwrap_or(0);
        if z <= 16 {
            assert!(count("grid") > 0, "z{z}: no grid label");
        }
        // Kangle is 150 px across at z14: its road names fit from z15 (Zhongjing's from z14).
        if z != 14 {
            assert_eq!(count("road") > 0, z >= 15 && cjk, "z{z}: road names");
        }
        assert_eq!(count("compound") > 0, z >= 15 && cjk, "z{z}: compound names");
        assert_eq!(count("building") > 0, z >= 17 && cjk, "z{z}: building numbers");
        assert_eq!(count("community"), 0, "z{z}: community names only below z13");
    }
    // The printed map: compound names, road names and building numbers, clear of icons, grid
    // labels and each other, inside the frame.
    let opts = tiles::print::PrintOptions::a3("2026-01-01".into());
    let (pm, placed) = tiles::print::render_labelled(&map, "350206001017", &opts).unwrap();
    check_no_overlap("kangle print", &placed);
    let count = |k: &str| placed.iter().filter(|p| p.kind == k).count();
    eprintln!(
        "kangle print: {} compound, {} road, {} building labels",
        count("compound"),
        count("road"),
        count("building")
    );
    if cjk {
        assert!(count("compound") >= 10, "{} compound names", count("compound"));
        assert!(count("road") >= 5, "{} road names", count("road"));
        assert!(count("building") >= 60, "{} building numbers", count("building"));
    }
    if let Some(dir) = std::env::var_os("WANGGE_TILE_OUT").map(std::path::PathBuf::from) {
        pm.save_png(dir.join("labels-kangle-print.png")).unwrap();
    }
}

#[test]
fn zhongjing_grid_labels_tell_the_nine_001s_apart() {
    let (d, _, map) = map("zhongjing", false);
    assert!(map.several_communities());
    let labels = map.layer(data::GRID_LABELS).unwrap();
    let firsts: Vec<&data::Feature> = labels
        .features
        .iter()
        .filter(|f| f.str("code").is_some_and(|c| c.ends_with("001") && c.len() == 15))
        .collect();
    assert_eq!(firsts.len(), 9, "one 001 per community");
    let communities: BTreeSet<&str> = firsts.iter().filter_map(|f| f.str("community")).collect();
    assert_eq!(
        communities.len(),
        9,
        "the nine 001s name nine communities: {communities:?}"
    );
    let names: BTreeSet<&str> = d.communities.iter().map(|c| c.name.as_str()).collect();
    assert!(communities.is_subset(&names));
    // The style writes the community under the number at every zoom the labels show.
    let style = tiles::style::style(&map, "http://x");
    let layer = style["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == "grid-label")
        .unwrap();
    let field = &layer["layout"]["text-field"];
    assert_eq!(field[0], "step", "{field}");
    for stop in [&field[2], &field[4]] {
        assert!(stop.to_string().contains(r#"["get","community"]"#), "{stop}");
    }
    // Raster: at the overview zoom (z13) each 001 is drawn with its community's name.
    for f in &firsts {
        let label = raster::grid_label(f, 13, 1.0, true);
        let lines: Vec<&str> = label.lines.iter().map(|(t, _, _)| t.as_str()).collect();
        assert_eq!(lines[0], "001");
        if tiles::text::has_cjk() {
            assert_eq!(lines.get(1).copied(), f.str("community"), "{lines:?}");
        }
    }
    // Raster tiles at z13 over the street's middle draw several 001s, each named.
    let [w, s, e, n] = map.bounds;
    let centre = mercator::world(Coord {
        x: (w + e) / 2.0,
        y: (s + n) / 2.0,
    });
    let kinds = check_block("zhongjing", &map, 13, centre, 3);
    eprintln!("zhongjing z13: {kinds:?}");
    assert!(kinds.get("grid").copied().unwrap_or(0) >= 9);
    assert!(!kinds.contains_key("road"), "no road names at z13");
    let cjk = tiles::text::has_cjk();
    for z in [14u8, 15, 17] {
        let kinds = check_block("zhongjing", &map, z, centre, 2);
        eprintln!("zhongjing z{z}: {kinds:?}");
        let count = |k: &str| kinds.get(k).copied().unwrap_or(0);
        assert_eq!(count("road") > 0, cjk, "z{z}: road names");
        assert_eq!(count("compound") > 0, z >= 15 && cjk, "z{z}: compound names");
        assert_eq!(count("building") > 0, z >= 17 && cjk, "z{z}: building numbers");
    }
    // Compound names: every compound of every community has one.
    let groups: BTreeSet<(usize, &str)> = d
        .buildings
        .iter()
        .filter_map(|b| Some((b.community, b.compound.as_deref()?)))
        .filter(|(c, name)| !d.exclusive.iter().any(|e| e.community == *c && e.name == *name))
        .collect();
    assert_eq!(map.layer(data::COMPOUND_LABELS).unwrap().features.len(), groups.len());
    assert!(check_glyphs("zhongjing", &map) > 300);
}

#[test]
fn a_real_osm_import_labels_its_streets_and_house_numbers() {
    let out = tempfile::tempdir().unwrap();
    let spec: import::SourceSpec = root()
        .join("fixtures/osm/Helsinki.osm.pbf")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let mut opts = import::ImportOptions::new(vec![spec], out.path().join("helsinki"));
    opts.community_code = Some("999999002001".into());
    opts.community_name = Some("Helsinki centre".into());
    let d = import::import(&opts).expect("Helsinki imports").loaded.dataset;
    let p = gis_core::partition::partition(&d, &gis_core::partition::PartitionOptions::default(), &mut |_, _| {});
    let map = MapData::new(&d, &p.grids, gis_core::bounds::SizeBounds::default());
    // Street names (Finnish or Swedish, as OpenStreetMap has them) in the roads layer.
    let roads = map.layer(data::ROADS).unwrap();
    let named = roads.features.iter().filter(|f| f.str("name").is_some()).count();
    eprintln!("helsinki: {named} of {} roads named", roads.features.len());
    assert!(named * 2 > roads.features.len(), "most streets have a name");
    // House numbers from addr:housenumber: every building whose address has one.
    let numbers = map.layer(data::BUILDING_LABELS).unwrap();
    let with_number = d
        .buildings
        .iter()
        .filter(|b| {
            b.address
                .as_deref()
                .is_some_and(|a| a.bytes().any(|c| c.is_ascii_digit()))
        })
        .count();
    eprintln!(
        "helsinki: {} of {} buildings numbered ({with_number} addresses with a number)",
        numbers.features.len(),
        d.buildings.len()
    );
    assert_eq!(numbers.features.len(), with_number);
    assert!(with_number >= 50);
    for f in &numbers.features {
        let n = f.str("number").unwrap();
        assert!(n.starts_with(|c: char| c.is_ascii_digit()) && n.len() <= 10, "{n}");
    }
    // OpenStreetMap has no compounds (小区): nothing to label.
    assert!(map.layer(data::COMPOUND_LABELS).unwrap().features.is_empty());
    let tj = tiles::style::tilejson(&map, "http://x");
    let ids: Vec<&str> = tj["vector_layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    for l in [
        data::COMPOUND_LABELS,
        data::BUILDING_LABELS,
        data::GRID_LABELS,
        data::ROADS,
    ] {
        assert!(ids.contains(&l), "TileJSON lists {l}");
    }
    let centre = mercator::world(Coord {
        x: (map.bounds[0] + map.bounds[2]) / 2.0,
        y: (map.bounds[1] + map.bounds[3]) / 2.0,
    });
    // Street names on raster tiles from z14 (Latin: no CJK font needed), numbers from z17.
    for (z, n) in [(14u8, 2), (15, 2), (16, 2), (17, 2)] {
        let kinds = check_block("helsinki", &map, z, centre, n);
        eprintln!("helsinki z{z}: {kinds:?}");
        assert!(
            kinds.get("road").copied().unwrap_or(0) > 0,
            "z{z}: no street names drawn"
        );
        assert_eq!(
            kinds.get("building").copied().unwrap_or(0) > 0,
            z >= 17,
            "z{z}: house numbers"
        );
    }
    assert!(check_glyphs("helsinki", &map) > 50);
}
