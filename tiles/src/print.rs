//! The printable grid map (网格图) of one community: A3 landscape at 150 dpi by default, with a
//! title, the grids in the residents' colours (neighbours apart) and labelled with code and
//! population, resources with their icons, compound names, road names along the roads and
//! building numbers (楼号) wherever they fit clear of icons and other labels, a legend of what
//! the map shows (only the line styles, areas and resource kinds actually drawn), a table of
//! every grid with its workers and their phones (an exclusive grid with its institution's name),
//! a scale bar, a north arrow and the date. For the board at the community service centre.
//!
//! The table is never cut short: when the grids do not fit under the legend, the table takes a
//! second column beside it (the map narrows) and then continuation pages (A3 landscape, four
//! columns each). As PNG the pages are one picture, one under the other; as PDF one page each.

use crate::data::{self, Feature, MapData, Shape};
use crate::labels::{self, Collider, PxBox};
use crate::mercator;
use crate::palette::{self, Rgb};
use crate::raster::Placed;
use crate::text::{self, TextStyle};
use gis_core::model::Staff;
use tiny_skia::{FillRule, LineCap, LineJoin, Paint, PathBuilder, Pixmap, Rect, Stroke, StrokeDash, Transform};

#[derive(Debug, Clone)]
pub struct PrintOptions {
    pub width_px: u32,
    pub height_px: u32,
    /// Printed as "YYYY-MM-DD".
    pub date: String,
    /// Grid workers (everyone's; those of the community's grids are listed in the table).
    pub staff: Vec<Staff>,
    /// The published version drawn, printed in the footer.
    pub version: Option<i64>,
}

impl PrintOptions {
    /// A3 landscape (420 × 297 mm) at 150 dpi, with no staff and no version.
    pub fn a3(date: String) -> Self {
        Self {
            width_px: 2480,
            height_px: 1754,
            date,
            staff: Vec::new(),
            version: None,
        }
    }

    /// The grid workers to list in the table.
    pub fn with_staff(mut self, staff: Vec<Staff>) -> Self {
        self.staff = staff;
        self
    }

    /// The published version the grids come from.
    pub fn with_version(mut self, version: Option<i64>) -> Self {
        self.version = version;
        self
    }
}

/// A printed map: its pages (the map with the legend and the start of the table first), the
/// labels and icons placed on the map, and the table as listed, for checks.
pub struct Printed {
    pub pages: Vec<Pixmap>,
    pub placed: Vec<Placed>,
    pub table: Vec<TableEntry>,
    /// The legend's entries, as written.
    pub legend: Vec<String>,
}

/// One grid in the table: on which page (0 = the map's) and what its lines say.
#[derive(Debug, Clone)]
pub struct TableEntry {
    pub code: String,
    pub page: usize,
    pub lines: Vec<String>,
    /// Workers listed.
    pub workers: usize,
    /// Where on its page: x0, y0, x1, y1.
    pub bbox: PxBox,
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

/// The map as one PNG: its pages one under the other (one page unless the table continues).
pub fn render_png(map: &MapData, community: &str, opts: &PrintOptions) -> Result<Vec<u8>, PrintError> {
    Ok(print(map, community, opts)?.png())
}

/// The map as a PDF, one page each (the map, then any continuation of the table).
pub fn render_pdf(map: &MapData, community: &str, opts: &PrintOptions) -> Result<Vec<u8>, PrintError> {
    Ok(print(map, community, opts)?.pdf())
}

impl Printed {
    /// One PNG: the pages one under the other.
    pub fn png(&self) -> Vec<u8> {
        if let [one] = self.pages.as_slice() {
            return crate::raster::encode_png(one);
        }
        let (w, h) = (self.pages[0].width(), self.pages[0].height());
        let mut all = Pixmap::new(w, h * self.pages.len() as u32).expect("pages fit a pixmap");
        for (i, page) in self.pages.iter().enumerate() {
            all.draw_pixmap(
                0,
                (h as usize * i) as i32,
                page.as_ref(),
                &tiny_skia::PixmapPaint::default(),
                Transform::identity(),
                None,
            );
        }
        crate::raster::encode_png(&all)
    }

    /// One PDF page per page, A3 landscape (another page size keeps its proportions at A3's width).
    pub fn pdf(&self) -> Vec<u8> {
        let (w, h) = (self.pages[0].width(), self.pages[0].height());
        let a3 = crate::pdf::A3_LANDSCAPE;
        let size = (a3.0, a3.0 * h as f32 / w as f32);
        let made: Result<Vec<u8>, std::convert::Infallible> =
            crate::pdf::pages(self.pages.len(), size, |i| Ok(self.pages[i].clone()));
        made.unwrap_or_else(|e| match e {})
    }
}

/// The map's page (the first).
pub fn render(map: &MapData, community: &str, opts: &PrintOptions) -> Result<Pixmap, PrintError> {
    render_labelled(map, community, opts).map(|(pm, _)| pm)
}

/// The map's page and every label placed on the map with the boxes it covers (icons and grid
/// labels as `icon` and `grid`), for checks.
pub fn render_labelled(
    map: &MapData,
    community: &str,
    opts: &PrintOptions,
) -> Result<(Pixmap, Vec<crate::raster::Placed>), PrintError> {
    let mut printed = print(map, community, opts)?;
    Ok((printed.pages.swap_remove(0), printed.placed))
}

/// One line of a grid's entry in the table.
struct Row {
    left: String,
    right: String,
    style: TextStyle,
    /// The left text split: a quiet head and a bold tail (the code's community part and the
    /// grid's own number).
    bold_tail: Option<usize>,
    height: f32,
}

/// A grid's entry: its lines, their height.
struct Entry {
    code: String,
    workers: usize,
    rows: Vec<Row>,
    height: f32,
}

/// The table's entries: every grid of the community in code order, with its residents, an
/// exclusive grid's institution, and its workers (网格长 first) with their phones.
fn entries(grids: &[&Feature], staff: &[Staff], width: f32, u: f32) -> Vec<Entry> {
    let head = TextStyle {
        size: 22.0 * u,
        color: palette::TEXT,
        halo: None,
        bold: false,
    };
    let line = TextStyle {
        size: 20.0 * u,
        color: palette::TEXT,
        halo: None,
        bold: false,
    };
    let quiet = TextStyle {
        color: Rgb(0x5a, 0x66, 0x75),
        ..line
    };
    let mut listed: Vec<&&Feature> = grids.iter().collect();
    listed.sort_by_key(|g| g.str("code").unwrap_or("").to_string());
    listed
        .into_iter()
        .map(|g| {
            let code = g.str("code").unwrap_or("").to_string();
            let community = g.str("community_code").unwrap_or("");
            let mut rows = vec![Row {
                left: code.clone(),
                right: zh(
                    &format!("{} 人", thousands(g.uint("population").unwrap_or(0))),
                    &format!("{} residents", thousands(g.uint("population").unwrap_or(0))),
                ),
                style: head,
                bold_tail: code.starts_with(community).then_some(community.len()),
                height: 32.0 * u,
            }];
            if g.str("kind") == Some("exclusive") {
                let name = g.str("name").filter(|n| text::can_draw(n));
                let said = match name {
                    Some(n) => zh(&format!("专属网格：{n}"), &format!("Exclusive grid: {n}")),
                    None => zh("专属网格", "Exclusive grid"),
                };
                for l in crate::notice::wrap(&said, width - 20.0 * u, &line) {
                    rows.push(Row {
                        left: l,
                        right: String::new(),
                        style: line,
                        bold_tail: None,
                        height: 27.0 * u,
                    });
                }
            }
            let mut workers: Vec<&Staff> = staff.iter().filter(|s| s.grid == code).collect();
            let count = workers.len();
            // The leader first, then as listed.
            workers.sort_by_key(|s| s.role != "网格长");
            if workers.is_empty() {
                rows.push(Row {
                    left: zh("暂无网格员", "No grid workers yet"),
                    right: String::new(),
                    style: quiet,
                    bold_tail: None,
                    height: 27.0 * u,
                });
            }
            for s in workers {
                let role = zh(&s.role, role_en(&s.role));
                rows.push(Row {
                    left: format!("{role}  {}", s.name),
                    right: s.phone.clone().unwrap_or_default(),
                    style: line,
                    bold_tail: None,
                    height: 27.0 * u,
                });
            }
            let height = rows.iter().map(|r| r.height).sum::<f32>() + 14.0 * u;
            Entry {
                code,
                workers: count,
                rows,
                height,
            }
        })
        .collect()
}

fn role_en(role: &str) -> &str {
    match role {
        "网格长" => "Grid leader",
        "网格员" => "Grid worker",
        "楼栋长" => "Building leader",
        other => other,
    }
}

/// A column of the table: page, left edge, top and bottom.
#[derive(Clone, Copy)]
struct Column {
    page: usize,
    x: f32,
    top: f32,
    bottom: f32,
}

/// Where each entry goes, in order: the first column that has room after the previous entry
/// (an entry taller than a column starts a column of its own). `more` gives the columns after
/// `first`, forever.
fn flow(entries: &[Entry], columns: &mut dyn FnMut(usize) -> Column) -> Vec<(Column, f32)> {
    let mut out = Vec::new();
    let mut i = 0;
    let mut col = columns(i);
    let mut y = col.top;
    for e in entries {
        while y + e.height > col.bottom && y > col.top {
            i += 1;
            col = columns(i);
            y = col.top;
        }
        out.push((col, y));
        y += e.height;
    }
    out
}

fn draw_entry(pm: &mut Pixmap, e: &Entry, x: f32, y: f32, width: f32, u: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut ry = y;
    for r in &e.rows {
        let base = ry + r.height - 8.0 * u;
        match r.bold_tail {
            Some(n) if n < r.left.len() => {
                let head = TextStyle {
                    color: Rgb(0x5a, 0x66, 0x75),
                    ..r.style
                };
                let tail = TextStyle {
                    bold: true,
                    size: r.style.size * 1.1,
                    ..r.style
                };
                text::draw(pm, &r.left[..n], x, base, &head);
                text::draw(pm, &r.left[n..], x + text::width(&r.left[..n], &head), base, &tail);
            }
            _ => text::draw(
                pm,
                &r.left,
                x + if r.bold_tail.is_some() { 0.0 } else { 12.0 * u },
                base,
                &r.style,
            ),
        }
        if !r.right.is_empty() {
            let rw = text::width(&r.right, &r.style);
            text::draw(pm, &r.right, x + width - rw, base, &r.style);
        }
        lines.push(if r.right.is_empty() {
            r.left.clone()
        } else {
            format!("{} {}", r.left, r.right)
        });
        ry += r.height;
    }
    line(
        pm,
        x,
        y + e.height - 5.0 * u,
        x + width,
        y + e.height - 5.0 * u,
        Rgb(0xd5, 0xd9, 0xde),
        1.0 * u,
        None,
    );
    lines
}

/// What the legend lists: only what the map draws.
struct LegendParts {
    grids: bool,
    micro: bool,
    roads: bool,
    buildings: bool,
    water: bool,
    green: bool,
    population_points: bool,
}

impl LegendParts {
    /// The legend's height with `kinds` resource kinds, at most (its entries in one column when
    /// a name is too wide for two).
    fn height(&self, kinds: usize, columns: usize, u: f32) -> f32 {
        let styles = 1
            + usize::from(self.grids)
            + usize::from(self.micro)
            + usize::from(self.roads)
            + usize::from(self.buildings)
            + usize::from(self.water)
            + usize::from(self.green)
            + usize::from(self.population_points);
        60.0 * u
            + if self.grids { 44.0 * u } else { 0.0 }
            + styles.div_ceil(columns) as f32 * 44.0 * u
            + kinds.div_ceil(columns) as f32 * 46.0 * u
            + 32.0 * u
    }
}

/// A legend entry's sample.
enum Swatch {
    /// Colour, width and dashes in layout units.
    Line(Rgb, f32, Option<Vec<f32>>),
    Road,
    Building,
    /// A filled area: colour and opacity (water, green).
    Area(Rgb, f32),
    /// A population point's dot.
    Dot,
    Icon(String),
}

/// The map with its legend and table, and the table's continuation pages.
pub fn print(map: &MapData, community: &str, opts: &PrintOptions) -> Result<Printed, PrintError> {
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
    let micro: Vec<&Feature> = layer(data::MICRO_GRIDS)
        .into_iter()
        .filter(|m| grids.iter().any(|g| g.str("code") == m.str("parent_code")))
        .collect();
    let roads = layer(data::ROADS);
    let buildings = layer(data::BUILDINGS);
    let parts = LegendParts {
        grids: !grids.is_empty(),
        micro: !micro.is_empty(),
        roads: !roads.is_empty(),
        buildings: !buildings.is_empty(),
        water: !layer(data::WATER).is_empty(),
        green: !layer(data::GREEN).is_empty(),
        population_points: !layer(data::POPULATION_POINTS).is_empty(),
    };
    let mut resources = layer(data::RESOURCES);
    resources.sort_by_key(|r| (crate::icons::priority(r.str("kind").unwrap_or("")), r.id));
    let mut kinds_in_view: Vec<&str> = resources.iter().filter_map(|r| r.str("kind")).collect();
    kinds_in_view.sort_unstable();
    kinds_in_view.dedup();

    // The page's frame: the map on the left, the panel (legend and table) on the right; the
    // table takes a second column beside the first when it does not fit under the legend.
    let margin = 60.0 * u;
    let panel = 560.0 * u;
    let gap = 30.0 * u;
    let title_h = 150.0 * u;
    let panel_top = margin + title_h + 10.0 * u;
    let table_bottom = h as f32 - margin - 60.0 * u;
    let heading = 50.0 * u;
    let table = entries(&grids, &opts.staff, panel, u);
    // Two columns unless a name is too wide for half the panel (English without a CJK font).
    let legend_columns = if text::has_cjk() { 2 } else { 1 };
    let legend_guess = parts.height(kinds_in_view.len(), legend_columns, u);
    let under_legend = Column {
        page: 0,
        x: 0.0,
        top: panel_top + legend_guess + heading,
        bottom: table_bottom,
    };
    let fits_one = flow(&table, &mut |i| {
        if i == 0 {
            under_legend
        } else {
            Column {
                page: 1,
                ..under_legend
            }
        }
    })
    .iter()
    .all(|(col, _)| col.page == 0);
    let panel_columns = if fits_one { 1 } else { 2 };
    let panel_w = panel * panel_columns as f32 + gap * (panel_columns - 1) as f32;
    let frame = Rect::from_xywh(
        margin,
        margin + title_h,
        w as f32 - 2.0 * margin - panel_w - gap,
        h as f32 - 2.0 * margin - title_h - 40.0 * u,
    )
    .expect("frame");
    let x0 = w as f32 - margin - panel_w;

    let mut pm = Pixmap::new(w, h).expect("page size is positive");
    pm.fill(Rgb(0xff, 0xff, 0xff).skia(1.0));
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
    for r in &roads {
        let wide = crate::context::road_width(r.str("class"));
        draw_lines(&mut pm, r, &px, palette::ROAD_CASING, 7.0 * u * wide, Some(&clip));
    }
    for r in &roads {
        let wide = crate::context::road_width(r.str("class"));
        draw_lines(&mut pm, r, &px, palette::ROAD, 4.5 * u * wide, Some(&clip));
    }
    for b in &buildings {
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
    for m in &micro {
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
    for r in resources {
        if let Shape::Point(p) = &r.shape {
            let (x, y) = px([p.x(), p.y()]);
            let kind = r.str("kind").unwrap_or("");
            let half = 16.0 * u;
            let b = [[x - half, y - half, x + half, y + half]];
            // Only icons inside the frame: the legend lists what can be seen.
            if b[0][0] < frame.left() || b[0][2] > frame.right() || b[0][1] < frame.top() || b[0][3] > frame.bottom() {
                continue;
            }
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
    let title_style = TextStyle {
        size: 64.0 * u,
        color: palette::TEXT,
        halo: None,
        bold: true,
    };
    text::draw(&mut pm, &title, margin, margin + 70.0 * u, &title_style);
    let population = c.uint("population").unwrap_or(0);
    let basic = grids.iter().filter(|g| g.str("kind") == Some("basic")).count();
    let exclusive = grids.len() - basic;
    let mut subtitle = format!(
        "{community}  ·  {} {}  ·  {basic} {}",
        thousands(population),
        zh("人", "residents"),
        zh("个基础网格", "basic grids"),
    );
    if exclusive > 0 {
        subtitle.push_str(&format!("  ·  {exclusive} {}", zh("个专属网格", "exclusive grids")));
    }
    subtitle.push_str(&format!(
        "  ·  {} {}–{}",
        zh("每格", "grid size"),
        thousands(u64::from(map.size_bounds.min)),
        thousands(u64::from(map.size_bounds.max)),
    ));
    let subtitle_style = TextStyle {
        size: 30.0 * u,
        color: Rgb(0x5a, 0x66, 0x75),
        halo: None,
        bold: false,
    };
    text::draw(&mut pm, &subtitle, margin, margin + 125.0 * u, &subtitle_style);

    // Panel: the legend (only what the map shows), then the table.
    let mut y = panel_top;
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
    let mut legend: Vec<String> = Vec::new();
    if parts.grids {
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
        let said = zh("网格（相邻网格颜色不同）", "Grids (neighbours differ in colour)");
        text::draw(&mut pm, &said, x0 + 62.0 * u, y + 24.0 * u, &body);
        legend.push(said);
        y += 44.0 * u;
    }
    // The rest in two columns (one when a name is too wide for half the panel): line styles and
    // areas, then the resource kinds whose icons were placed.
    let mut items: Vec<(Swatch, String)> = vec![(
        Swatch::Line(palette::COMMUNITY_LINE, 6.0, None),
        zh("社区边界", "Community boundary"),
    )];
    if parts.grids {
        items.push((
            Swatch::Line(palette::GRID_LINE, 3.0, None),
            zh("网格边界", "Grid boundary"),
        ));
    }
    if parts.micro {
        items.push((
            Swatch::Line(palette::MICRO_LINE, 2.0, Some(vec![8.0, 6.0])),
            zh("微网格", "Micro-grid"),
        ));
    }
    if parts.roads {
        items.push((Swatch::Road, zh("道路", "Road")));
    }
    if parts.buildings {
        items.push((Swatch::Building, zh("建筑", "Building")));
    }
    // The context, only what this map shows.
    if water_drawn {
        items.push((
            Swatch::Area(palette::WATER, crate::context::WATER_OPACITY),
            zh("水域", "Water"),
        ));
    }
    if green_drawn {
        items.push((
            Swatch::Area(palette::GREEN, crate::context::GREEN_OPACITY),
            zh("绿地", "Green space"),
        ));
    }
    if points_drawn {
        items.push((Swatch::Dot, zh("城中村人口点", "Residents by point (urban village)")));
    }
    let styles = items.len();
    kinds.sort_by_key(|k| crate::icons::KINDS.iter().position(|x| x == k).unwrap_or(usize::MAX));
    for kind in &kinds {
        let (zh_name, en_name) = kind_name(kind);
        items.push((Swatch::Icon(kind.clone()), zh(zh_name, en_name)));
    }
    let half = panel / 2.0;
    let columns = if items
        .iter()
        .all(|(_, said)| text::width(said, &body) <= half - 72.0 * u)
    {
        2
    } else {
        1
    };
    for (group, rows_h) in [(&items[..styles], 44.0 * u), (&items[styles..], 46.0 * u)] {
        for (i, (swatch, said)) in group.iter().enumerate() {
            let x = x0 + (i % columns) as f32 * half;
            let ry = y + (i / columns) as f32 * rows_h;
            match swatch {
                Swatch::Line(color, width, dash) => line(
                    &mut pm,
                    x,
                    ry + 15.0 * u,
                    x + 46.0 * u,
                    ry + 15.0 * u,
                    *color,
                    width * u,
                    dash.as_ref().map(|d| d.iter().map(|v| v * u).collect()),
                ),
                Swatch::Road => {
                    line(
                        &mut pm,
                        x,
                        ry + 15.0 * u,
                        x + 46.0 * u,
                        ry + 15.0 * u,
                        palette::ROAD_CASING,
                        7.0 * u,
                        None,
                    );
                    line(
                        &mut pm,
                        x,
                        ry + 15.0 * u,
                        x + 46.0 * u,
                        ry + 15.0 * u,
                        palette::ROAD,
                        4.5 * u,
                        None,
                    );
                }
                Swatch::Building => {
                    let sw = Rect::from_xywh(x + 8.0 * u, ry + 2.0 * u, 30.0 * u, 26.0 * u).expect("swatch");
                    fill_rect(&mut pm, sw, palette::BUILDING);
                    stroke_rect(&mut pm, sw, palette::BUILDING_LINE, 1.5 * u);
                }
                Swatch::Area(colour, alpha) => {
                    let sw = Rect::from_xywh(x, ry, 46.0 * u, 30.0 * u).expect("swatch");
                    fill_rect_alpha(&mut pm, sw, *colour, *alpha);
                }
                Swatch::Dot => {
                    let dot = PathBuilder::from_circle(x + 23.0 * u, ry + 15.0 * u, 9.0 * u).expect("dot");
                    pm.fill_path(
                        &dot,
                        &paint(palette::POPULATION_POINT, 0.85),
                        FillRule::Winding,
                        Transform::identity(),
                        None,
                    );
                }
                Swatch::Icon(kind) => crate::icons::draw_icon(&mut pm, kind, x + 23.0 * u, ry + 15.0 * u, 34.0 * u),
            }
            text::draw(&mut pm, said, x + 62.0 * u, ry + 24.0 * u, &body);
            legend.push(said.clone());
        }
        y += group.len().div_ceil(columns) as f32 * rows_h + 12.0 * u;
    }
    y += 8.0 * u;

    // The table: under the legend, then beside it, then on continuation pages of four columns.
    text::draw(
        &mut pm,
        &zh("网格及网格员", "Grids and their workers"),
        x0,
        y + 30.0 * u,
        &head,
    );
    let first = Column {
        page: 0,
        x: x0,
        top: y + heading,
        bottom: table_bottom,
    };
    let per_page = (((w as f32 - 2.0 * margin + gap) / (panel + gap)).floor() as usize).max(1);
    let cont_top = margin + title_h + 10.0 * u + heading;
    let placed_entries = flow(&table, &mut |i| match i {
        0 => first,
        1 if panel_columns == 2 => Column {
            page: 0,
            x: x0 + panel + gap,
            top: panel_top,
            bottom: table_bottom,
        },
        _ => {
            let k = i - panel_columns;
            Column {
                page: 1 + k / per_page,
                x: margin + (k % per_page) as f32 * (panel + gap),
                top: cont_top,
                bottom: table_bottom,
            }
        }
    });
    let pages = 1 + placed_entries.iter().map(|(c, _)| c.page).max().unwrap_or(0);
    let mut more: Vec<Pixmap> = (1..pages)
        .map(|_| {
            let mut p = Pixmap::new(w, h).expect("page size is positive");
            p.fill(Rgb(0xff, 0xff, 0xff).skia(1.0));
            p
        })
        .collect();
    let mut listed = Vec::new();
    for (e, (col, ey)) in table.iter().zip(&placed_entries) {
        let page = if col.page == 0 {
            &mut pm
        } else {
            &mut more[col.page - 1]
        };
        let lines = draw_entry(page, e, col.x, *ey, panel, u);
        listed.push(TableEntry {
            code: e.code.clone(),
            page: col.page,
            lines,
            workers: e.workers,
            bbox: [col.x, *ey, col.x + panel, ey + e.height],
        });
    }
    for (i, p) in more.iter_mut().enumerate() {
        let title = if text::has_cjk() && text::can_draw(name) {
            format!("{name} 网格图 · 网格及网格员（续）")
        } else {
            format!("Community {community} — grids and their workers (continued)")
        };
        text::draw(p, &title, margin, margin + 70.0 * u, &title_style);
        text::draw(p, &subtitle, margin, margin + 125.0 * u, &subtitle_style);
        footer(p, opts, i + 2, pages, margin, u);
    }

    // Scale bar and north arrow, inside the frame.
    let row = TextStyle { size: 22.0 * u, ..body };
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
        format!("{} {}", nice / 1000.0, zh("公里", "km"))
    } else {
        format!("{nice} {}", zh("米", "m"))
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
        &zh("北", "N"),
        nx,
        ny + 58.0 * u,
        &TextStyle {
            size: 28.0 * u,
            color: palette::TEXT,
            halo: Some((palette::HALO, 2.0 * u)),
            bold: true,
        },
    );
    footer(&mut pm, opts, 1, pages, margin, u);
    let mut all = vec![pm];
    all.extend(more);
    Ok(Printed {
        pages: all,
        placed,
        table: listed,
        legend,
    })
}

/// The date, the version and the page number at a page's foot.
fn footer(pm: &mut Pixmap, opts: &PrintOptions, page: usize, pages: usize, margin: f32, u: f32) {
    let mut footer = format!("{}: {}", zh("制图日期", "Printed"), opts.date);
    if let Some(v) = opts.version {
        footer.push_str(&format!(
            "   ·   {}",
            zh(&format!("网格数据第 {v} 版"), &format!("grids version {v}"))
        ));
    }
    if pages > 1 {
        footer.push_str(&format!(
            "   ·   {}",
            zh(
                &format!("第 {page} 页，共 {pages} 页"),
                &format!("page {page} of {pages}")
            )
        ));
    }
    footer.push_str("   ·   wangge");
    text::draw(
        pm,
        &footer,
        margin,
        pm.height() as f32 - margin + 10.0 * u,
        &TextStyle {
            size: 22.0 * u,
            color: Rgb(0x6b, 0x76, 0x84),
            halo: None,
            bold: false,
        },
    );
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
