//! PNG tiles (256 px, and 512 px for `@2x`), anti-aliased, in the shared palette: grid fills by
//! the residents' colouring (neighbours apart), roads, buildings, grid and community lines,
//! resource icons, and labels: grid codes with their population (and community where the map
//! holds several), community names below z13, compound names from z15, road names along the
//! roads from z14, building numbers from z17 — Chinese where a CJK font is installed. Labels are
//! placed by their feature, not by the tile, so a label across a tile edge is drawn half by each
//! tile; none overlaps another or an icon ([`labels::Collider`]).

use crate::data::{self, Feature, MapData, Shape, density_resolution};
use crate::labels::{self, Collider};
use crate::mercator::TileId;
use crate::palette::{self, Rgb};
use crate::text::{self, TextStyle};
use tiny_skia::{FillRule, LineCap, LineJoin, Paint, PathBuilder, Pixmap, Stroke, StrokeDash, Transform};

/// A tile as a PNG; `scale` is 1 (256 px) or 2 (512 px).
pub fn render_png(map: &MapData, tile: TileId, scale: u32) -> Vec<u8> {
    encode_png(&render(map, tile, scale))
}

/// PNG with fast compression: deflate at the default level was most of a tile's time, for files
/// barely smaller.
pub fn encode_png(pm: &Pixmap) -> Vec<u8> {
    let mut rgba = Vec::with_capacity(pm.data().len());
    for p in pm.pixels() {
        let c = p.demultiply();
        rgba.extend_from_slice(&[c.red(), c.green(), c.blue(), c.alpha()]);
    }
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, pm.width(), pm.height());
    enc.set_color(png::ColorType::Rgba);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Fast);
    let mut writer = enc.write_header().expect("PNG header to memory");
    writer.write_image_data(&rgba).expect("PNG data to memory");
    writer.finish().expect("PNG end to memory");
    out
}

pub fn render(map: &MapData, tile: TileId, scale: u32) -> Pixmap {
    render_labelled(map, tile, scale).0
}

/// A label or icon a raster tile placed: what it is (`icon`, `grid`, `community`, `compound`,
/// `road`, `building`), its text (an icon's kind) and the boxes it covers in the tile's pixels
/// (off the tile too, for one across its edge).
#[derive(Debug, Clone)]
pub struct Placed {
    pub kind: &'static str,
    pub text: String,
    pub boxes: Vec<labels::PxBox>,
}

/// The tile and every label and icon placed on or near it, for checks.
pub fn render_labelled(map: &MapData, tile: TileId, scale: u32) -> (Pixmap, Vec<Placed>) {
    let size = 256 * scale.clamp(1, 4);
    let mut pm = Pixmap::new(size, size).expect("tile size is positive");
    pm.fill(palette::BACKGROUND.skia(1.0));
    let px = |w: [f64; 2]| -> (f32, f32) {
        let p = tile.to_tile(w, f64::from(size));
        (p[0] as f32, p[1] as f32)
    };
    let s = scale as f32;
    let z = tile.z;
    // Past the data's deepest zoom, layers over-zoom as clients do.
    let data_z = z.min(map.maxzoom());
    let layer = |name: &str| map.layer(name).filter(|l| l.visible_at(data_z));
    // Features near the tile (labels and strokes spill over its edge).
    let near = |name: &str, margin: f64| layer(name).map(|l| l.in_tile(tile, margin)).unwrap_or_default();

    if z <= 14 {
        let res = density_resolution(z);
        for f in near(data::DENSITY, 0.05)
            .into_iter()
            .filter(|f| f.uint("resolution") == Some(res))
        {
            let c = palette::density(f.double("per_km2").unwrap_or(0.0));
            fill(&mut pm, f, &px, c, if z >= 11 { 0.25 } else { 0.5 });
        }
    }
    let grids = near(data::GRIDS, 0.05);
    for f in &grids {
        fill(
            &mut pm,
            f,
            &px,
            palette::grid_colour(f.uint("colour").unwrap_or(0)),
            palette::GRID_FILL_OPACITY,
        );
    }
    // Water and green over the grid fills, softly, under roads, buildings and lines.
    if z >= data::CONTEXT_FROM {
        let line = (0.8 + (f32::from(z) - 10.0) * 0.35) * s;
        crate::context::draw_water_and_green(
            &mut pm,
            &near(data::WATER, 0.05),
            &near(data::GREEN, 0.05),
            &px,
            line,
            None,
        );
    }
    if z >= 12 {
        let roads = near(data::ROADS, 0.05);
        // Main roads wider than streets (context::road_width, as the style draws them).
        let width = |base: f32, f: &Feature| {
            base * s * (1.0 + (f32::from(z) - 12.0) * 0.9) * crate::context::road_width(f.str("class"))
        };
        for f in &roads {
            stroke(&mut pm, f, &px, palette::ROAD_CASING, width(1.6, f), None);
        }
        for f in &roads {
            stroke(&mut pm, f, &px, palette::ROAD, width(1.0, f), None);
        }
    }
    for f in near(data::BUILDINGS, 0.02) {
        fill(&mut pm, f, &px, palette::BUILDING, 0.95);
        stroke(&mut pm, f, &px, palette::BUILDING_LINE, 0.6 * s, None);
    }
    // Residents counted by point (城中村): dots sized by residents, over the buildings.
    let population_points = near(data::POPULATION_POINTS, 0.02);
    let dots = crate::context::draw_population_points(
        &mut pm,
        &population_points,
        &px,
        if z >= 16 { 1.6 * s } else { 1.1 * s },
        None,
    );
    for f in near(data::MICRO_GRIDS, 0.02) {
        stroke(
            &mut pm,
            f,
            &px,
            palette::MICRO_LINE,
            0.9 * s,
            Some(vec![4.0 * s, 3.0 * s]),
        );
    }
    let grid_width = (0.8 + (f32::from(z) - 11.0).max(0.0) * 0.3) * s;
    for f in &grids {
        stroke(&mut pm, f, &px, palette::GRID_LINE, grid_width, None);
    }
    let community_width = (1.2 + (f32::from(z) - 8.0).max(0.0) * 0.25) * s;
    for f in near(data::COMMUNITIES, 0.05) {
        stroke(&mut pm, f, &px, palette::COMMUNITY_LINE, community_width, None);
    }
    // Icons from z14 (below it they would cover the grids), never one over another: the map
    // places them once per zoom, care before shops (MapData::icons_at).
    if z >= 14
        && let Some(layer) = layer(data::RESOURCES)
    {
        let shown = map.icons_at(z);
        let mut icons: Vec<&Feature> = layer
            .indices_in_tile(tile, 0.1)
            .into_iter()
            .filter(|&i| shown.get(i).copied().unwrap_or(false))
            .map(|i| &layer.features[i])
            .collect();
        // Lower priority drawn first, so the more important icon is on top if two touch.
        icons.sort_by_key(|f| std::cmp::Reverse((crate::icons::priority(f.str("kind").unwrap_or("")), f.id)));
        for f in icons {
            if let Shape::Point(p) = &f.shape {
                let (x, y) = px([p.x(), p.y()]);
                let size = data::icon_px(z) as f32 * s;
                crate::icons::draw_icon(&mut pm, f.str("kind").unwrap_or(""), x, y, size);
            }
        }
    }

    // Labels last, on top of everything, each only where it overlaps no icon and no label placed
    // before it: grid labels, community names, compound names, road names, building numbers, in
    // that order (the style's order too). Candidates come from half a tile round this one, in an
    // order that is the data's, so neighbouring tiles agree on what crosses their common edge.
    let halo = Some((palette::HALO, 1.6 * s));
    let mut collider = Collider::new();
    let mut placed: Vec<Placed> = Vec::new();
    let mut record = |kind: &'static str, text: &str, boxes: &[labels::PxBox]| {
        placed.push(Placed {
            kind,
            text: text.to_string(),
            boxes: boxes.to_vec(),
        })
    };
    if z >= 14
        && let Some(layer) = layer(data::RESOURCES)
    {
        let shown = map.icons_at(z);
        let half = (data::icon_px(z) as f32 / 2.0 + 1.0) * s;
        for i in layer.indices_in_tile(tile, 0.6) {
            if shown.get(i).copied().unwrap_or(false)
                && let Shape::Point(p) = &layer.features[i].shape
            {
                let (x, y) = px([p.x(), p.y()]);
                let b = [[x - half, y - half, x + half, y + half]];
                collider.insert(&b);
                record("icon", layer.features[i].str("kind").unwrap_or(""), &b);
            }
        }
    }
    if z >= 13 {
        let several = map.several_communities();
        let mut labelled = near(data::GRID_LABELS, 0.5);
        labelled.sort_by(|a, b| b.uint("population").cmp(&a.uint("population")).then(a.id.cmp(&b.id)));
        for f in labelled {
            let Some(c) = f.label_point() else { continue };
            let (x, y) = px(c);
            let label = grid_label(f, z, s, several);
            let [w, h] = label.size;
            let b = [[x - w / 2.0, y - h / 2.0, x + w / 2.0, y + h / 2.0]];
            if !collider.place(&b) {
                continue;
            }
            record("grid", f.str("code").unwrap_or(""), &b);
            for (line, style, dy) in &label.lines {
                text::draw_centered(&mut pm, line, x, y + dy, style);
            }
        }
    }
    if z < 13 {
        let style = TextStyle {
            size: 12.0 * s,
            color: palette::COMMUNITY_LINE,
            halo,
            bold: true,
        };
        for f in near(data::COMMUNITY_LABELS, 0.5) {
            let Some(c) = f.label_point() else { continue };
            let (x, y) = px(c);
            let name = f.str("name").unwrap_or("");
            let label = if text::has_cjk() && text::can_draw(name) {
                name
            } else {
                f.str("code").unwrap_or("")
            };
            let b = [labels::text_box(label, &style, x, y, 1.0 * s)];
            if collider.place(&b) {
                record("community", label, &b);
                text::draw_centered(&mut pm, label, x, y, &style);
            }
        }
    }
    if z >= 15 {
        let style = TextStyle {
            size: 11.0 * s,
            color: palette::COMPOUND_TEXT,
            halo,
            bold: false,
        };
        let mut compounds = near(data::COMPOUND_LABELS, 0.5);
        compounds.sort_by(|a, b| b.uint("population").cmp(&a.uint("population")).then(a.id.cmp(&b.id)));
        for f in compounds {
            let (Some(c), Some(name)) = (f.label_point(), f.str("name")) else {
                continue;
            };
            if !text::can_draw(name) {
                continue;
            }
            let (x, y) = px(c);
            let b = [labels::text_box(name, &style, x, y, 2.0 * s)];
            if collider.place(&b) {
                record("compound", name, &b);
                text::draw_centered(&mut pm, name, x, y, &style);
            }
        }
    }
    if z >= ROAD_NAMES_FROM {
        let style = TextStyle {
            size: if z >= 16 { 12.0 } else { 11.0 } * s,
            color: palette::ROAD_TEXT,
            halo,
            bold: false,
        };
        let roads = near(data::ROAD_NAMES, 0.5);
        let placed = labels::road_names(roads, px, &style, 40.0 * s, 256.0 * s, |l| collider.place(&l.boxes));
        for (name, label) in placed {
            record("road", name, &label.boxes);
            let on_tile = label
                .boxes
                .iter()
                .any(|b| b[2] >= 0.0 && b[3] >= 0.0 && b[0] <= size as f32 && b[1] <= size as f32);
            if on_tile {
                text::draw_glyphs(&mut pm, &label.glyphs, &style);
            }
        }
    }
    if z >= BUILDING_NUMBERS_FROM {
        let style = TextStyle {
            size: 10.0 * s,
            color: palette::BUILDING_TEXT,
            halo: Some((palette::HALO, 1.2 * s)),
            bold: false,
        };
        for f in near(data::BUILDING_LABELS, 0.5) {
            let (Some(c), Some(number)) = (f.label_point(), f.str("number")) else {
                continue;
            };
            if !text::can_draw(number) {
                continue;
            }
            let (x, y) = px(c);
            let b = [labels::text_box(number, &style, x, y, 1.0 * s)];
            if collider.place(&b) {
                record("building", number, &b);
                text::draw_centered(&mut pm, number, x, y, &style);
            }
        }
    }
    // Residents of each population point, beside its dot, where it fits (last: the least needed).
    if z >= POPULATION_COUNTS_FROM {
        let style = TextStyle {
            size: 9.0 * s,
            color: palette::POPULATION_POINT,
            halo: Some((palette::HALO, 1.2 * s)),
            bold: false,
        };
        for (f, dot) in population_points.iter().zip(&dots) {
            let Some(count) = f.uint("count") else { continue };
            let n = count.to_string();
            let w = text::width(&n, &style);
            let (x, y) = (dot[2] + 1.5 * s + w / 2.0, (dot[1] + dot[3]) / 2.0);
            let b = [labels::text_box(&n, &style, x, y, 0.5 * s)];
            if collider.place(&b) {
                record("population", &n, &b);
                text::draw_centered(&mut pm, &n, x, y, &style);
            }
        }
    }
    (pm, placed)
}

/// The first zoom population points' residents are written beside their dots at.
pub const POPULATION_COUNTS_FROM: u8 = 16;

/// The first zoom raster tiles (and the style) write road names at.
pub const ROAD_NAMES_FROM: u8 = 14;
/// The first zoom building numbers (楼号) show at; their points are in z16 tiles, over-zoomed.
pub const BUILDING_NUMBERS_FROM: u8 = 17;

/// Which roads get their names first: the bigger road wins where two names would meet.
pub fn road_rank(class: &str) -> u8 {
    match class {
        "motorway" | "trunk" => 0,
        "primary" => 1,
        "secondary" => 2,
        "tertiary" => 3,
        "residential" | "street" | "unclassified" => 4,
        _ => 5,
    }
}

/// A grid's label on raster tiles: its lines (text, style, offset of the line's centre below
/// the label point) and the size of the box round them, in pixels at `scale`.
pub struct GridLabel {
    pub lines: Vec<(String, TextStyle, f32)>,
    pub size: [f32; 2],
}

/// The grid's sequence number in bold; under it its community's name when the map holds
/// several communities (grid numbers repeat in each), then its residents, or an exclusive
/// grid's institution (from z14 when the community is named), as the style writes them.
pub fn grid_label(f: &Feature, z: u8, scale: f32, several: bool) -> GridLabel {
    let halo = Some((palette::HALO, 1.6 * scale));
    let big = TextStyle {
        size: (11.0 + f32::from(z.clamp(13, 16) - 13) * 2.0) * scale,
        color: palette::TEXT,
        halo,
        bold: true,
    };
    let small = TextStyle {
        size: big.size * 0.72,
        color: palette::TEXT,
        halo,
        bold: false,
    };
    let code = f.str("code").unwrap_or("");
    let mut lines: Vec<(String, TextStyle)> = vec![(code.get(12..).unwrap_or(code).to_string(), big)];
    if several && let Some(name) = f.str("community").filter(|n| text::can_draw(n)) {
        let community = TextStyle {
            color: palette::COMMUNITY_LINE,
            ..small
        };
        lines.push((name.to_string(), community));
    }
    if z >= 14 || !several {
        if f.str("kind") == Some("exclusive") {
            if let Some(name) = f.str("name").filter(|n| text::can_draw(n)) {
                lines.push((name.to_string(), small));
            }
        } else {
            let n = f.uint("population").unwrap_or(0);
            let people = if text::can_draw("人") {
                format!("{n} 人")
            } else {
                n.to_string()
            };
            lines.push((people, small));
        }
    }
    let height = |st: &TextStyle| if st.bold { st.size } else { st.size * 1.2 };
    let h: f32 = lines.iter().map(|(_, st)| height(st)).sum();
    let w = lines.iter().map(|(t, st)| text::width(t, st)).fold(0.0, f32::max) + 4.0 * scale;
    let mut top = -h / 2.0;
    let lines = lines
        .into_iter()
        .map(|(t, st)| {
            let dy = top + height(&st) / 2.0;
            top += height(&st);
            (t, st, dy)
        })
        .collect();
    GridLabel { lines, size: [w, h] }
}

fn path(f: &Feature, px: &dyn Fn([f64; 2]) -> (f32, f32), close: bool) -> Option<tiny_skia::Path> {
    let mut pb = PathBuilder::new();
    let mut ring = |pts: &mut dyn Iterator<Item = (f32, f32)>, close: bool| {
        let mut first = true;
        // Points closer than a third of a pixel to the last one drawn add nothing visible (grid
        // rings carry metre-spaced vertices, which at low zoom are thousands per pixel).
        let mut last = (f32::NAN, f32::NAN);
        let mut pending = None;
        for (x, y) in pts {
            if first {
                pb.move_to(x, y);
                first = false;
                last = (x, y);
            } else if (x - last.0).abs() + (y - last.1).abs() >= 0.33 {
                pb.line_to(x, y);
                last = (x, y);
                pending = None;
            } else {
                pending = Some((x, y));
            }
        }
        if let Some((x, y)) = pending {
            pb.line_to(x, y);
        }
        if close && !first {
            pb.close();
        }
    };
    match &f.shape {
        Shape::Area(a) => {
            for p in &a.0 {
                for r in std::iter::once(p.exterior()).chain(p.interiors()) {
                    ring(&mut r.0.iter().map(|c| px([c.x, c.y])), close);
                }
            }
        }
        Shape::Lines(l) => {
            for line in &l.0 {
                ring(&mut line.0.iter().map(|c| px([c.x, c.y])), false);
            }
        }
        Shape::Point(_) => return None,
    }
    pb.finish()
}

fn paint(c: Rgb, alpha: f32) -> Paint<'static> {
    let mut p = Paint::default();
    p.set_color(c.skia(alpha));
    p.anti_alias = true;
    p
}

fn fill(pm: &mut Pixmap, f: &Feature, px: &dyn Fn([f64; 2]) -> (f32, f32), c: Rgb, alpha: f32) {
    if let Some(path) = path(f, px, true) {
        pm.fill_path(&path, &paint(c, alpha), FillRule::EvenOdd, Transform::identity(), None);
    }
}

fn stroke(
    pm: &mut Pixmap,
    f: &Feature,
    px: &dyn Fn([f64; 2]) -> (f32, f32),
    c: Rgb,
    width: f32,
    dash: Option<Vec<f32>>,
) {
    let Some(path) = path(f, px, matches!(f.shape, Shape::Area(_))) else {
        return;
    };
    let stroke = Stroke {
        width,
        line_cap: LineCap::Round,
        line_join: LineJoin::Round,
        dash: dash.and_then(|d| StrokeDash::new(d, 0.0)),
        ..Stroke::default()
    };
    pm.stroke_path(&path, &paint(c, 1.0), &stroke, Transform::identity(), None);
}
