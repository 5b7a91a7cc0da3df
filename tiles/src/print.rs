//! The printable grid map (网格图) of one community: A3 landscape at 150 dpi by default, with a
//! title, the grids in the residents' colours (neighbours apart) and labelled with code and
//! population, resources with their icons, compound names, road names along the roads and
//! building numbers (楼号) wherever they fit clear of icons and other labels, a legend, a table
//! of grids, a scale bar, a north arrow and the date. For the board at the community service
//! centre.

use crate::data::{self, Feature, MapData, Shape};
use crate::labels::{self, Collider, PxBox};
use crate::mercator;
use crate::palette::{self, Rgb};
use crate::raster::Placed;
use crate::text::{self, TextStyle};
use tiny_skia::{FillRule, LineCap, LineJoin, Paint, PathBuilder, Pixmap, Rect, Stroke, StrokeDash, Transform};

#[derive(Debug, Clone)]
pub struct PrintOptions {
    pub width_px: u32,
    pub height_px: u32,
    /// Printed as "YYYY-MM-DD".
    pub date: String,
}

impl PrintOptions {
    /// A3 landscape (420 × 297 mm) at 150 dpi.
    pub fn a3(date: String) -> Self {
        Self {
            width_px: 2480,
            height_px: 1754,
            date,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error("no community has code {0}")]
    UnknownCommunity(String),
    #[error("the page {0}×{1} px is too small for a map (at least 800×600)")]
    TooSmall(u32, u32),
}

/// Chinese and English names of resource kinds, for the legend and unnamed resources' labels.
pub fn kind_name(kind: &str) -> (&'static str, &'static str) {
    match kind {
        "clinic" => ("诊所", "Clinic"),
        "hospital" => ("医院", "Hospital"),
        "pharmacy" => ("药店", "Pharmacy"),
        "dentist" => ("牙科", "Dentist"),
        "shop" => ("商店", "Shop"),
        "supermarket" => ("超市", "Supermarket"),
        "market" => ("市场", "Market"),
        "school" => ("学校", "School"),
        "kindergarten" => ("幼儿园", "Kindergarten"),
        "elderly_care" => ("养老服务", "Elderly care"),
        "service_center" => ("党群服务中心", "Service centre"),
        _ => ("其他", "Other"),
    }
}

fn zh(chinese: &str, english: &str) -> String {
    if text::has_cjk() && text::can_draw(chinese) {
        chinese.to_string()
    } else {
        english.to_string()
    }
}

pub fn render_png(map: &MapData, community: &str, opts: &PrintOptions) -> Result<Vec<u8>, PrintError> {
    Ok(crate::raster::encode_png(&render(map, community, opts)?))
}

pub fn render(map: &MapData, community: &str, opts: &PrintOptions) -> Result<Pixmap, PrintError> {
    render_labelled(map, community, opts).map(|(pm, _)| pm)
}

/// The page and every label placed on the map with the boxes it covers (icons and grid labels
/// as `icon` and `grid`), for checks.
pub fn render_labelled(
    map: &MapData,
    community: &str,
    opts: &PrintOptions,
) -> Result<(Pixmap, Vec<crate::raster::Placed>), PrintError> {
    let (w, h) = (opts.width_px, opts.height_px);
    if w < 800 || h < 600 {
        return Err(PrintError::TooSmall(w, h));
    }
    let communities = map.layer(data::COMMUNITIES).expect("layer");
    let c = communities
        .features
        .iter()
        .find(|f| f.str("code") == Some(community))
        .ok_or_else(|| PrintError::UnknownCommunity(community.to_string()))?;
    let Shape::Area(boundary) = &c.shape else {
        return Err(PrintError::UnknownCommunity(community.into()));
    };
    let bbox =
        geo::BoundingRect::bounding_rect(boundary).ok_or_else(|| PrintError::UnknownCommunity(community.into()))?;
    let u = w as f32 / 2480.0; // layout unit: 1 at A3/150 dpi
    let mut pm = Pixmap::new(w, h).expect("page size is positive");
    pm.fill(Rgb(0xff, 0xff, 0xff).skia(1.0));

    // Frame for the map, panel on the right.
    let margin = 60.0 * u;
    let panel = 560.0 * u;
    let title_h = 150.0 * u;
    let frame = Rect::from_xywh(
        margin,
        margin + title_h,
        w as f32 - 2.0 * margin - panel - 30.0 * u,
        h as f32 - 2.0 * margin - title_h - 40.0 * u,
    )
    .expect("frame");
    fill_rect(&mut pm, frame, palette::BACKGROUND);
    // Fit the community with 6% air around it.
    let (bw, bh) = (bbox.width(), bbox.height());
    let scale = ((frame.width() as f64) / (bw * 1.12)).min((frame.height() as f64) / (bh * 1.12));
    let (cx, cy) = (bbox.center().x, bbox.center().y);
    let (fx, fy) = (
        frame.x() as f64 + frame.width() as f64 / 2.0,
        frame.y() as f64 + frame.height() as f64 / 2.0,
    );
    let px =
        move |p: [f64; 2]| -> (f32, f32) { ((fx + (p[0] - cx) * scale) as f32, (fy + (p[1] - cy) * scale) as f32) };
    let clip = tiny_skia::Mask::from_pixmap(
        {
            let mut m = Pixmap::new(w, h).expect("mask");
            m.fill_rect(frame, &paint(Rgb(0, 0, 0), 1.0), Transform::identity(), None);
            m
        }
        .as_ref(),
        tiny_skia::MaskType::Alpha,
    );
    let in_view = |f: &&Feature| match &f.shape {
        Shape::Area(a) => geo::BoundingRect::bounding_rect(a).is_some_and(|r| intersects(r, bbox)),
        Shape::Lines(l) => geo::BoundingRect::bounding_rect(l).is_some_and(|r| intersects(r, bbox)),
        Shape::Point(p) => {
            p.x() >= bbox.min().x && p.x() <= bbox.max().x && p.y() >= bbox.min().y && p.y() <= bbox.max().y
        }
    };
    let layer = |name: &str| -> Vec<&Feature> {
        map.layer(name)
            .map(|l| l.features.iter().filter(in_view).collect())
            .unwrap_or_default()
    };
    let grids: Vec<&Feature> = layer(data::GRIDS)
        .into_iter()
        .filter(|g| g.str("community_code") == Some(community))
        .collect();

    for g in &grids {
        draw_area(
            &mut pm,
            g,
            &px,
            Some((
                palette::grid_colour(g.uint("colour").unwrap_or(0)),
                palette::GRID_FILL_OPACITY,
            )),
            None,
            Some(&clip),
        );
    }
    // Water and green softly over the grid fills, under roads, buildings and lines.
    let (water_drawn, green_drawn) = crate::context::draw_water_and_green(
        &mut pm,
        &layer(data::WATER),
        &layer(data::GREEN),
        &px,
        3.0 * u,
        Some(&clip),
    );
    for r in layer(data::ROADS) {
        let wide = crate::context::road_width(r.str("class"));
        draw_lines(&mut pm, r, &px, palette::ROAD_CASING, 7.0 * u * wide, Some(&clip));
    }
    for r in layer(data::ROADS) {
        let wide = crate::context::road_width(r.str("class"));
        draw_lines(&mut pm, r, &px, palette::ROAD, 4.5 * u * wide, Some(&clip));
    }
    for b in layer(data::BUILDINGS) {
        draw_area(
            &mut pm,
            b,
            &px,
            Some((palette::BUILDING, 0.95)),
            Some((palette::BUILDING_LINE, 1.0 * u, None)),
            Some(&clip),
        );
    }
    let points_drawn =
        !crate::context::draw_population_points(&mut pm, &layer(data::POPULATION_POINTS), &px, 2.2 * u, Some(&clip))
            .is_empty();
    for m in layer(data::MICRO_GRIDS)
        .into_iter()
        .filter(|m| grids.iter().any(|g| g.str("code") == m.str("parent_code")))
    {
        draw_area(
            &mut pm,
            m,
            &px,
            None,
            Some((palette::MICRO_LINE, 1.4 * u, Some(vec![8.0 * u, 6.0 * u]))),
            Some(&clip),
        );
    }
    for g in &grids {
        draw_area(
            &mut pm,
            g,
            &px,
            None,
            Some((palette::GRID_LINE, 3.0 * u, None)),
            Some(&clip),
        );
    }
    draw_area(
        &mut pm,
        c,
        &px,
        None,
        Some((palette::COMMUNITY_LINE, 6.0 * u, None)),
        Some(&clip),
    );
    // Grid labels first, then icons where they are clear of them and of each other (care before
    // shops, as on the tiles), then the other labels where they are clear of both.
    let halo = Some((palette::HALO, 3.0 * u));
    let big = TextStyle {
        size: 34.0 * u,
        color: palette::TEXT,
        halo,
        bold: true,
    };
    let small = TextStyle {
        size: 22.0 * u,
        color: palette::TEXT,
        halo,
        bold: false,
    };
    let mut grid_labels: Vec<(f32, f32, &str, String)> = Vec::new();
    let mut collider = Collider::new();
    let mut placed: Vec<Placed> = Vec::new();
    for g in &grids {
        let Some(at) = g.label_point() else { continue };
        let (x, y) = px(at);
        let code = g.str("code").unwrap_or("");
        let seq = code.get(12..).unwrap_or(code);
        let n = thousands(g.uint("population").unwrap_or(0));
        let second = if g.str("kind") == Some("exclusive") {
            match g.str("name").filter(|n| text::has_cjk() && text::can_draw(n)) {
                Some(name) => name.to_string(),
                None => "exclusive grid".to_string(),
            }
        } else {
            zh(&format!("{n} 人"), &format!("{n} residents"))
        };
        let w = text::width(seq, &big).max(text::width(&second, &small)) / 2.0 + 4.0 * u;
        let b = [x - w, y - 14.0 * u - 22.0 * u, x + w, y + 22.0 * u + 16.0 * u];
        collider.insert(&[b]);
        placed.push(Placed {
            kind: "grid",
            text: code.to_string(),
            boxes: vec![b],
        });
        grid_labels.push((x, y, seq, second));
    }
    let mut kinds: Vec<String> = Vec::new();
    let mut resources = layer(data::RESOURCES);
    resources.sort_by_key(|r| (crate::icons::priority(r.str("kind").unwrap_or("")), r.id));
    for r in resources {
        if let Shape::Point(p) = &r.shape {
            let (x, y) = px([p.x(), p.y()]);
            let kind = r.str("kind").unwrap_or("");
            let half = 16.0 * u;
            let b = [[x - half, y - half, x + half, y + half]];
            if !collider.place(&b) {
                continue;
            }
            crate::icons::draw_icon(&mut pm, kind, x, y, 30.0 * u);
            placed.push(Placed {
                kind: "icon",
                text: kind.to_string(),
                boxes: b.to_vec(),
            });
            if !kinds.iter().any(|k| k == kind) {
                kinds.push(kind.to_string());
            }
        }
    }
    for (x, y, seq, second) in &grid_labels {
        text::draw_centered(&mut pm, seq, *x, y - 14.0 * u, &big);
        text::draw_centered(&mut pm, second, *x, y + 22.0 * u, &small);
    }
    stroke_rect(&mut pm, frame, palette::COMMUNITY_LINE, 2.0 * u);
    placed.extend(place_labels(&mut pm, &layer, &px, frame, u, collider));

    // Title.
    let name = c.str("name").unwrap_or(community);
    let title = if text::has_cjk() && text::can_draw(name) {
        format!("{name} 网格图")
    } else {
        format!("Community {community} — grid map")
    };
    text::draw(
        &mut pm,
        &title,
        margin,
        margin + 70.0 * u,
        &TextStyle {
            size: 64.0 * u,
            color: palette::TEXT,
            halo: None,
            bold: true,
        },
    );
    let population = c.uint("population").unwrap_or(0);
    let basic = grids.iter().filter(|g| g.str("kind") == Some("basic")).count();
    let subtitle = format!(
        "{community}  ·  {} {}  ·  {basic} {}  ·  {} {}–{}",
        thousands(population),
        zh("人", "residents"),
        zh("个基础网格", "basic grids"),
        zh("每格", "grid size"),
        thousands(u64::from(map.size_bounds.min)),
        thousands(u64::from(map.size_bounds.max)),
    );
    text::draw(
        &mut pm,
        &subtitle,
        margin,
        margin + 125.0 * u,
        &TextStyle {
            size: 30.0 * u,
            color: Rgb(0x5a, 0x66, 0x75),
            halo: None,
            bold: false,
        },
    );

    // Panel: legend, icons, grid table.
    let mut y = margin + title_h + 10.0 * u;
    let x0 = w as f32 - margin - panel;
    let head = TextStyle {
        size: 30.0 * u,
        color: palette::TEXT,
        halo: None,
        bold: true,
    };
    let body = TextStyle {
        size: 24.0 * u,
        color: palette::TEXT,
        halo: None,
        bold: false,
    };
    text::draw(&mut pm, &zh("图例", "Legend"), x0, y + 30.0 * u, &head);
    y += 60.0 * u;
    // The grids' colours only tell neighbours apart: one swatch of those on this map.
    let mut shown: Vec<u64> = grids.iter().filter_map(|g| g.uint("colour")).collect();
    shown.sort_unstable();
    shown.dedup();
    let sw = Rect::from_xywh(x0, y, 46.0 * u, 30.0 * u).expect("swatch");
    fill_rect(&mut pm, sw, palette::BACKGROUND);
    let step = 46.0 * u / shown.len().max(1) as f32;
    for (i, c) in shown.iter().enumerate() {
        let part = Rect::from_xywh(x0 + i as f32 * step, y, step, 30.0 * u).expect("swatch");
        fill_rect_alpha(&mut pm, part, palette::grid_colour(*c), palette::GRID_FILL_OPACITY);
    }
    stroke_rect(&mut pm, sw, palette::GRID_LINE, 2.0 * u);
    text::draw(
        &mut pm,
        &zh("网格（相邻网格颜色不同）", "Grids (neighbours differ in colour)"),
        x0 + 62.0 * u,
        y + 24.0 * u,
        &body,
    );
    y += 44.0 * u;
    for (color, width, zh_name, en_name) in [
        (palette::COMMUNITY_LINE, 6.0, "社区边界", "Community boundary"),
        (palette::GRID_LINE, 3.0, "网格边界", "Grid boundary"),
    ] {
        line(
            &mut pm,
            x0,
            y + 15.0 * u,
            x0 + 46.0 * u,
            y + 15.0 * u,
            color,
            width * u,
            None,
        );
        text::draw(&mut pm, &zh(zh_name, en_name), x0 + 62.0 * u, y + 24.0 * u, &body);
        y += 44.0 * u;
    }
    line(
        &mut pm,
        x0,
        y + 15.0 * u,
        x0 + 46.0 * u,
        y + 15.0 * u,
        palette::MICRO_LINE,
        2.0 * u,
        Some(vec![8.0 * u, 6.0 * u]),
    );
    text::draw(&mut pm, &zh("微网格", "Micro-grid"), x0 + 62.0 * u, y + 24.0 * u, &body);
    y += 56.0 * u;
    // The context, only what this map shows.
    for (drawn, colour, alpha, zh_name, en_name) in [
        (
            water_drawn,
            palette::WATER,
            crate::context::WATER_OPACITY,
            "水域",
            "Water",
        ),
        (
            green_drawn,
            palette::GREEN,
            crate::context::GREEN_OPACITY,
            "绿地",
            "Green space",
        ),
    ] {
        if drawn {
            let sw = Rect::from_xywh(x0, y, 46.0 * u, 30.0 * u).expect("swatch");
            fill_rect_alpha(&mut pm, sw, colour, alpha);
            text::draw(&mut pm, &zh(zh_name, en_name), x0 + 62.0 * u, y + 24.0 * u, &body);
            y += 44.0 * u;
        }
    }
    if points_drawn {
        let dot = PathBuilder::from_circle(x0 + 23.0 * u, y + 15.0 * u, 9.0 * u).expect("dot");
        pm.fill_path(
            &dot,
            &paint(palette::POPULATION_POINT, 0.85),
            FillRule::Winding,
            Transform::identity(),
            None,
        );
        text::draw(
            &mut pm,
            &zh("城中村人口点", "Residents by point (urban village)"),
            x0 + 62.0 * u,
            y + 24.0 * u,
            &body,
        );
        y += 44.0 * u;
    }
    kinds.sort_by_key(|k| crate::icons::KINDS.iter().position(|x| x == k).unwrap_or(usize::MAX));
    for kind in &kinds {
        crate::icons::draw_icon(&mut pm, kind, x0 + 23.0 * u, y + 15.0 * u, 34.0 * u);
        let (zh_name, en_name) = kind_name(kind);
        text::draw(&mut pm, &zh(zh_name, en_name), x0 + 62.0 * u, y + 24.0 * u, &body);
        y += 46.0 * u;
    }
    y += 20.0 * u;
    text::draw(&mut pm, &zh("网格", "Grids"), x0, y + 30.0 * u, &head);
    y += 50.0 * u;
    let row = TextStyle { size: 22.0 * u, ..body };
    let bottom = h as f32 - margin - 60.0 * u;
    let mut listed: Vec<&&Feature> = grids.iter().collect();
    listed.sort_by_key(|g| g.str("code").unwrap_or("").to_string());
    for g in listed {
        if y > bottom {
            text::draw(&mut pm, "…", x0, y + 22.0 * u, &row);
            break;
        }
        let code = g.str("code").unwrap_or("");
        text::draw(&mut pm, code, x0, y + 22.0 * u, &row);
        let pop = thousands(g.uint("population").unwrap_or(0));
        let pw = text::width(&pop, &row);
        text::draw(&mut pm, &pop, x0 + panel - 40.0 * u - pw, y + 22.0 * u, &row);
        y += 32.0 * u;
    }

    // Scale bar and north arrow, inside the frame.
    let lat = mercator::lonlat([cx, cy]).y;
    let metres_per_px = mercator::metres_per_world_unit(lat) / scale;
    let target = metres_per_px * f64::from(frame.width()) / 5.0;
    let nice = [10.0, 20.0, 50.0, 100.0, 200.0, 250.0, 500.0, 1000.0, 2000.0, 5000.0]
        .into_iter()
        .rev()
        .find(|&m| m <= target)
        .unwrap_or(10.0);
    let bar = (nice / metres_per_px) as f32;
    let (sx, sy) = (frame.x() + 40.0 * u, frame.bottom() - 50.0 * u);
    let bar_rect = Rect::from_xywh(sx, sy, bar, 12.0 * u).expect("bar");
    fill_rect(&mut pm, bar_rect, palette::HALO);
    fill_rect(
        &mut pm,
        Rect::from_xywh(sx, sy, bar / 2.0, 12.0 * u).expect("bar"),
        palette::TEXT,
    );
    stroke_rect(&mut pm, bar_rect, palette::TEXT, 2.0 * u);
    let label = if nice >= 1000.0 {
        format!("{} km", nice / 1000.0)
    } else {
        format!("{nice} m")
    };
    text::draw(
        &mut pm,
        "0",
        sx - 6.0 * u,
        sy - 10.0 * u,
        &TextStyle {
            halo: Some((palette::HALO, 2.0 * u)),
            ..row
        },
    );
    text::draw(
        &mut pm,
        &label,
        sx + bar - 10.0 * u,
        sy - 10.0 * u,
        &TextStyle {
            halo: Some((palette::HALO, 2.0 * u)),
            ..row
        },
    );
    let (nx, ny) = (frame.right() - 70.0 * u, frame.y() + 50.0 * u);
    let mut pb = PathBuilder::new();
    pb.move_to(nx, ny - 30.0 * u);
    pb.line_to(nx + 20.0 * u, ny + 30.0 * u);
    pb.line_to(nx, ny + 16.0 * u);
    pb.line_to(nx - 20.0 * u, ny + 30.0 * u);
    pb.close();
    if let Some(p) = pb.finish() {
        pm.fill_path(
            &p,
            &paint(palette::TEXT, 1.0),
            FillRule::Winding,
            Transform::identity(),
            None,
        );
    }
    text::draw_centered(
        &mut pm,
        "N",
        nx,
        ny + 58.0 * u,
        &TextStyle {
            size: 28.0 * u,
            color: palette::TEXT,
            halo: Some((palette::HALO, 2.0 * u)),
            bold: true,
        },
    );

    // Footer.
    let footer = format!("{}: {}   ·   wangge", zh("制图日期", "Printed"), opts.date);
    text::draw(
        &mut pm,
        &footer,
        margin,
        h as f32 - margin + 10.0 * u,
        &TextStyle {
            size: 22.0 * u,
            color: Rgb(0x6b, 0x76, 0x84),
            halo: None,
            bold: false,
        },
    );
    Ok((pm, placed))
}

/// Compound names, road names along the roads and building numbers (楼号), in that order, each
/// only inside the frame and where it overlaps no icon, grid label or label placed before it.
fn place_labels<'a>(
    pm: &mut Pixmap,
    layer: &dyn Fn(&str) -> Vec<&'a Feature>,
    px: &Px,
    frame: Rect,
    u: f32,
    mut collider: Collider,
) -> Vec<Placed> {
    let mut out = Vec::new();
    let inside = |boxes: &[PxBox]| {
        boxes
            .iter()
            .all(|b| b[0] >= frame.left() && b[1] >= frame.top() && b[2] <= frame.right() && b[3] <= frame.bottom())
    };
    let halo = Some((palette::HALO, 3.0 * u));
    let compound = TextStyle {
        size: 24.0 * u,
        color: palette::COMPOUND_TEXT,
        halo,
        bold: false,
    };
    let mut compounds = layer(data::COMPOUND_LABELS);
    compounds.sort_by(|a, b| b.uint("population").cmp(&a.uint("population")).then(a.id.cmp(&b.id)));
    for f in compounds {
        let (Some(at), Some(name)) = (f.label_point(), f.str("name")) else {
            continue;
        };
        if !text::can_draw(name) {
            continue;
        }
        let (x, y) = px(at);
        let b = [labels::text_box(name, &compound, x, y, 3.0 * u)];
        if inside(&b) && collider.place(&b) {
            out.push(Placed {
                kind: "compound",
                text: name.to_string(),
                boxes: b.to_vec(),
            });
            text::draw_centered(pm, name, x, y, &compound);
        }
    }
    let road = TextStyle {
        size: 21.0 * u,
        color: palette::ROAD_TEXT,
        halo,
        bold: false,
    };
    let roads = layer(data::ROAD_NAMES);
    let placed = labels::road_names(roads, px, &road, 80.0 * u, 700.0 * u, |l| {
        inside(&l.boxes) && collider.place(&l.boxes)
    });
    for (name, label) in placed {
        text::draw_glyphs(pm, &label.glyphs, &road);
        out.push(Placed {
            kind: "road",
            text: name.to_string(),
            boxes: label.boxes,
        });
    }
    let number = TextStyle {
        size: 16.0 * u,
        color: palette::BUILDING_TEXT,
        halo: Some((palette::HALO, 2.0 * u)),
        bold: false,
    };
    for f in layer(data::BUILDING_LABELS) {
        let (Some(at), Some(n)) = (f.label_point(), f.str("number")) else {
            continue;
        };
        if !text::can_draw(n) {
            continue;
        }
        let (x, y) = px(at);
        let b = [labels::text_box(n, &number, x, y, 2.0 * u)];
        if inside(&b) && collider.place(&b) {
            out.push(Placed {
                kind: "building",
                text: n.to_string(),
                boxes: b.to_vec(),
            });
            text::draw_centered(pm, n, x, y, &number);
        }
    }
    out
}

fn intersects(a: geo::Rect<f64>, b: geo::Rect<f64>) -> bool {
    a.min().x <= b.max().x && a.max().x >= b.min().x && a.min().y <= b.max().y && a.max().y >= b.min().y
}

fn thousands(n: u64) -> String {
    let d = n.to_string();
    let mut out = String::new();
    for (i, ch) in d.chars().enumerate() {
        if i > 0 && (d.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn paint(c: Rgb, alpha: f32) -> Paint<'static> {
    let mut p = Paint::default();
    p.set_color(c.skia(alpha));
    p.anti_alias = true;
    p
}

fn fill_rect(pm: &mut Pixmap, r: Rect, c: Rgb) {
    pm.fill_rect(r, &paint(c, 1.0), Transform::identity(), None);
}

fn fill_rect_alpha(pm: &mut Pixmap, r: Rect, c: Rgb, a: f32) {
    pm.fill_rect(r, &paint(c, a), Transform::identity(), None);
}

fn stroke_rect(pm: &mut Pixmap, r: Rect, c: Rgb, width: f32) {
    let p = PathBuilder::from_rect(r);
    pm.stroke_path(
        &p,
        &paint(c, 1.0),
        &Stroke {
            width,
            ..Stroke::default()
        },
        Transform::identity(),
        None,
    );
}

#[allow(clippy::too_many_arguments)]
fn line(pm: &mut Pixmap, x0: f32, y0: f32, x1: f32, y1: f32, c: Rgb, width: f32, dash: Option<Vec<f32>>) {
    let mut pb = PathBuilder::new();
    pb.move_to(x0, y0);
    pb.line_to(x1, y1);
    if let Some(p) = pb.finish() {
        let s = Stroke {
            width,
            line_cap: LineCap::Butt,
            dash: dash.and_then(|d| StrokeDash::new(d, 0.0)),
            ..Stroke::default()
        };
        pm.stroke_path(&p, &paint(c, 1.0), &s, Transform::identity(), None);
    }
}

type Px<'a> = dyn Fn([f64; 2]) -> (f32, f32) + 'a;

fn area_path(f: &Feature, px: &Px) -> Option<tiny_skia::Path> {
    let Shape::Area(a) = &f.shape else { return None };
    let mut pb = PathBuilder::new();
    for p in &a.0 {
        for r in std::iter::once(p.exterior()).chain(p.interiors()) {
            for (i, c) in r.0.iter().enumerate() {
                let (x, y) = px([c.x, c.y]);
                if i == 0 { pb.move_to(x, y) } else { pb.line_to(x, y) }
            }
            pb.close();
        }
    }
    pb.finish()
}

fn draw_area(
    pm: &mut Pixmap,
    f: &Feature,
    px: &Px,
    fill: Option<(Rgb, f32)>,
    stroke: Option<(Rgb, f32, Option<Vec<f32>>)>,
    clip: Option<&tiny_skia::Mask>,
) {
    let Some(path) = area_path(f, px) else { return };
    if let Some((c, a)) = fill {
        pm.fill_path(&path, &paint(c, a), FillRule::EvenOdd, Transform::identity(), clip);
    }
    if let Some((c, width, dash)) = stroke {
        let s = Stroke {
            width,
            line_join: LineJoin::Round,
            dash: dash.and_then(|d| StrokeDash::new(d, 0.0)),
            ..Stroke::default()
        };
        pm.stroke_path(&path, &paint(c, 1.0), &s, Transform::identity(), clip);
    }
}

fn draw_lines(pm: &mut Pixmap, f: &Feature, px: &Px, c: Rgb, width: f32, clip: Option<&tiny_skia::Mask>) {
    let Shape::Lines(l) = &f.shape else { return };
    let mut pb = PathBuilder::new();
    for line in &l.0 {
        for (i, p) in line.0.iter().enumerate() {
            let (x, y) = px([p.x, p.y]);
            if i == 0 { pb.move_to(x, y) } else { pb.line_to(x, y) }
        }
    }
    if let Some(path) = pb.finish() {
        let s = Stroke {
            width,
            line_cap: LineCap::Round,
            line_join: LineJoin::Round,
            ..Stroke::default()
        };
        pm.stroke_path(&path, &paint(c, 1.0), &s, Transform::identity(), clip);
    }
}

/// Today's date as YYYY-MM-DD (UTC), without a calendar crate.
pub fn today() -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400) as i64;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}
