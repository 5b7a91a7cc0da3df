//! PNG tiles (256 px, and 512 px for `@2x`), anti-aliased, in the shared palette: grid fills by
//! the residents' colouring (neighbours apart), roads, buildings, grid and community lines, resource icons, grid codes with their
//! population, compound names in Chinese where a CJK font is installed. Labels are placed by their
//! feature, not by the tile, so a label across a tile edge is drawn half by each tile.

use crate::data::{self, Feature, MapData, Shape, density_resolution};
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
    let size = 256 * scale.clamp(1, 4);
    let mut pm = Pixmap::new(size, size).expect("tile size is positive");
    pm.fill(palette::BACKGROUND.skia(1.0));
    let px = |w: [f64; 2]| -> (f32, f32) {
        let p = tile.to_tile(w, f64::from(size));
        (p[0] as f32, p[1] as f32)
    };
    let s = scale as f32;
    let z = tile.z;
    let layer = |name: &str| map.layer(name).filter(|l| l.visible_at(z));
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
    if z >= 12 {
        let roads = near(data::ROADS, 0.05);
        let width = |base: f32| base * s * (1.0 + (f32::from(z) - 12.0) * 0.9);
        for f in &roads {
            stroke(&mut pm, f, &px, palette::ROAD_CASING, width(1.6), None);
        }
        for f in &roads {
            stroke(&mut pm, f, &px, palette::ROAD, width(1.0), None);
        }
    }
    for f in near(data::BUILDINGS, 0.02) {
        fill(&mut pm, f, &px, palette::BUILDING, 0.95);
        stroke(&mut pm, f, &px, palette::BUILDING_LINE, 0.6 * s, None);
    }
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

    // Labels last, on top of everything.
    let halo = Some((palette::HALO, 1.6 * s));
    // Grid labels, biggest grids first, each only where it does not collide with one already
    // placed (the order is the data's, so neighbouring tiles agree on what they draw).
    let mut placed: Vec<[f32; 4]> = Vec::new();
    let mut free = |b: [f32; 4]| {
        let clear = placed
            .iter()
            .all(|p| b[2] < p[0] || b[0] > p[2] || b[3] < p[1] || b[1] > p[3]);
        if clear {
            placed.push(b);
        }
        clear
    };
    if z >= 13 {
        let mut labelled = near(data::GRIDS, 0.5);
        labelled.sort_by(|a, b| b.uint("population").cmp(&a.uint("population")).then(a.id.cmp(&b.id)));
        for f in labelled {
            let Some(c) = f.label_point() else { continue };
            let (x, y) = px(c);
            let code = f.str("code").unwrap_or("");
            let seq = code.get(12..).unwrap_or(code);
            let big = TextStyle {
                size: (11.0 + f32::from(z - 13) * 2.0) * s,
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
            let n = f.uint("population").unwrap_or(0);
            let people = if f.str("kind") == Some("exclusive") {
                None
            } else if text::can_draw("人") {
                Some(format!("{n} 人"))
            } else {
                Some(n.to_string())
            };
            let w = text::width(seq, &big).max(people.as_deref().map_or(0.0, |p| text::width(p, &small))) + 4.0 * s;
            let h = big.size + people.as_ref().map_or(0.0, |_| small.size * 1.2);
            if !free([x - w / 2.0, y - h / 2.0 - small.size * 0.5, x + w / 2.0, y + h / 2.0]) {
                continue;
            }
            text::draw_centered(&mut pm, seq, x, y - small.size * 0.5, &big);
            if let Some(people) = people {
                text::draw_centered(&mut pm, &people, x, y + big.size * 0.75, &small);
            }
        }
    }
    if z >= 15 && text::has_cjk() {
        let style = TextStyle {
            size: 11.0 * s,
            color: Rgb(0x5c, 0x52, 0x40),
            halo,
            bold: false,
        };
        let [x0, y0, x1, y1] = tile.world_bounds();
        let pad = (x1 - x0) * 0.5;
        for (name, at) in &map.compounds {
            if at[0] > x0 - pad && at[0] < x1 + pad && at[1] > y0 - pad && at[1] < y1 + pad {
                let (x, y) = px(*at);
                let w = text::width(name, &style);
                if free([x - w / 2.0, y + 8.0 * s, x + w / 2.0, y + 24.0 * s]) {
                    text::draw_centered(&mut pm, name, x, y + 16.0 * s, &style);
                }
            }
        }
    }
    if z < 13 {
        for f in near(data::COMMUNITIES, 0.5) {
            let Some(c) = f.label_point() else { continue };
            let (x, y) = px(c);
            let name = f.str("name").unwrap_or("");
            let label = if text::has_cjk() && text::can_draw(name) {
                name
            } else {
                f.str("code").unwrap_or("")
            };
            let style = TextStyle {
                size: 12.0 * s,
                color: palette::COMMUNITY_LINE,
                halo,
                bold: true,
            };
            text::draw_centered(&mut pm, label, x, y, &style);
        }
    }
    pm
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
