//! The building's notice board (楼栋公示牌): one A4 portrait page at 150 dpi for the entrance of
//! a building — its address and community, the grid it is in (code, kind, the institution of an
//! exclusive grid, its micro-grid), the grid's workers with their phones in large type, the
//! nearest services with walking distance, and a QR code of the link that opens the building's
//! grid card on the web map, so a resident can keep the card on a phone. The version of the
//! grids it was drawn from and that version's date are printed at the foot: a placard is always
//! drawn from the version being served, so a reprint after a publish says so.
//!
//! The text is Chinese: without a CJK font it is not drawn ([`PlacardError::NoCjkFont`]).

use crate::notice::wrap;
use crate::palette::Rgb;
use crate::text::{self, TextStyle};
use tiny_skia::{Paint, PathBuilder, Pixmap, Rect, Stroke, Transform};

/// A4 at 150 dpi.
pub const WIDTH_PX: u32 = 1240;
pub const HEIGHT_PX: u32 = 1754;

const INK: Rgb = Rgb(0x1d, 0x27, 0x33);
const RED: Rgb = Rgb(0xb7, 0x1c, 0x1c);
const GREY: Rgb = Rgb(0x6b, 0x77, 0x85);
const BOX: Rgb = Rgb(0xf4, 0xf1, 0xea);
const RULE: Rgb = Rgb(0xd9, 0xd3, 0xc7);

/// A nearby service as printed.
#[derive(Debug, Clone, PartialEq)]
pub struct NearbyService {
    /// Resource kind (`clinic`, `pharmacy`, …), for the icon and its Chinese name.
    pub kind: String,
    /// Its name; empty or equal to its kind when it has none (then the kind's name is printed).
    pub name: String,
    /// How far: on foot over the walking network, or in a straight line where there is none.
    pub distance: Distance,
}

/// A distance as it was measured, so that the placard never prints a straight line as a walk.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Distance {
    /// Metres on the walking network, and minutes at the service's stated speed.
    Walk { metres: f64, minutes: f64 },
    /// Great-circle metres: the data has no network to walk on.
    Straight { metres: f64 },
}

impl Distance {
    pub fn metres(&self) -> f64 {
        match *self {
            Distance::Walk { metres, .. } | Distance::Straight { metres } => metres,
        }
    }
}

/// What one placard says.
#[derive(Debug, Clone, PartialEq)]
pub struct Placard {
    /// The building's id (small, for the office's reference).
    pub building: String,
    /// The building as residents name it at its door (嘉禾公寓3号楼).
    pub address: String,
    /// The dataset's whole address, when it says more (湖里区康乐社区嘉禾公寓3号楼).
    pub full_address: Option<String>,
    pub community_name: String,
    pub community_code: String,
    pub grid_code: String,
    pub exclusive: bool,
    /// The institution of an exclusive grid.
    pub grid_name: Option<String>,
    pub micro_code: Option<String>,
    /// The grid's (and micro-grid's) workers: (role, name, phone), 网格长 first.
    pub staff: Vec<(String, String, Option<String>)>,
    pub nearby: Vec<NearbyService>,
    /// The link the QR code holds: the building's grid card on the web map.
    pub link: String,
    /// The published version the grids come from (none: drawn from a dataset, unpublished).
    pub version: Option<i64>,
    /// The day that version was published (or the placard drawn), YYYY-MM-DD.
    pub date: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PlacardError {
    /// Chinese text cannot be drawn: no CJK font is installed (Debian: `fonts-noto-cjk`).
    #[error("no CJK font is installed, so a placard in Chinese cannot be drawn (install fonts-noto-cjk)")]
    NoCjkFont,
    #[error("the link cannot be drawn as a QR code: {0}")]
    Qr(#[from] crate::qr::QrError),
    #[error("nothing to print: no building")]
    Empty,
}

fn paint(c: Rgb) -> Paint<'static> {
    let mut p = Paint::default();
    p.set_color(c.skia(1.0));
    p.anti_alias = true;
    p
}

fn style(size: f32, color: Rgb, bold: bool) -> TextStyle {
    TextStyle {
        size,
        color,
        halo: None,
        bold,
    }
}

/// The largest size up to `max` at which `s` fits in `width` px (never below 60% of `max`; a
/// longer text is wrapped by the caller).
fn fitting(s: &str, width: f32, max: f32, color: Rgb, bold: bool) -> TextStyle {
    let mut size = max;
    while size > max * 0.6 && text::width(s, &style(size, color, bold)) > width {
        size -= 2.0;
    }
    style(size, color, bold)
}

/// As the web map's grid card says it: "步行 650 米 · 约 8 分钟" over the walking network, or
/// "直线距离 320 米 · 步行约 5 分钟" where there is none (at 75 m a minute, which roughly absorbs
/// a short walk's detours).
pub fn walking(distance: Distance) -> String {
    let metres = distance.metres();
    let d = if metres < 1000.0 {
        format!("{} 米", ((metres / 10.0).round() * 10.0).max(10.0) as u64)
    } else {
        format!("{:.1} 公里", metres / 1000.0)
    };
    match distance {
        Distance::Walk { minutes, .. } => format!("步行 {d} · 约 {} 分钟", minutes.round().max(1.0) as u64),
        Distance::Straight { .. } => {
            format!("直线距离 {d} · 步行约 {} 分钟", (metres / 75.0).ceil().max(1.0) as u64)
        }
    }
}

/// The grid's own number: the code's sequence after the community's 12 digits.
fn sequence(code: &str, community: &str) -> String {
    code.strip_prefix(community)
        .filter(|s| !s.is_empty())
        .unwrap_or(code)
        .to_string()
}

/// Draws one placard.
pub fn render(p: &Placard) -> Result<Pixmap, PlacardError> {
    let words = [
        p.address.as_str(),
        p.full_address.as_deref().unwrap_or(""),
        p.community_name.as_str(),
        p.grid_name.as_deref().unwrap_or(""),
        "楼栋公示牌所属网格工作人员附近服务扫码查看本楼网格信息",
    ]
    .concat();
    if !text::has_cjk() || !text::can_draw(&words) {
        return Err(PlacardError::NoCjkFont);
    }
    let (w, h) = (WIDTH_PX as f32, HEIGHT_PX as f32);
    let mut pm = Pixmap::new(WIDTH_PX, HEIGHT_PX).expect("A4 at 150 dpi fits a pixmap");
    pm.fill(tiny_skia::Color::WHITE);
    let margin = 100.0;
    let inner = w - 2.0 * margin;

    // Head: a red band with the title, then the building and its community.
    if let Some(r) = Rect::from_xywh(0.0, 0.0, w, 190.0) {
        pm.fill_rect(r, &paint(RED), Transform::identity(), None);
    }
    text::draw_centered(
        &mut pm,
        "楼栋公示牌",
        w / 2.0,
        95.0,
        &style(88.0, Rgb(0xff, 0xff, 0xff), true),
    );
    let mut y = 300.0;
    let address = fitting(&p.address, inner, 72.0, INK, true);
    for line in wrap(&p.address, inner, &address) {
        text::draw_centered(&mut pm, &line, w / 2.0, y, &address);
        y += address.size * 1.3;
    }
    if let Some(full) = &p.full_address {
        let fs = fitting(full, inner, 34.0, GREY, false);
        text::draw_centered(&mut pm, full, w / 2.0, y + 4.0, &fs);
        y += 50.0;
    }
    let community = format!("{}（{}）", p.community_name, p.community_code);
    text::draw_centered(
        &mut pm,
        &community,
        w / 2.0,
        y + 10.0,
        &fitting(&community, inner, 38.0, GREY, false),
    );
    y += 80.0;

    // The grid: its number large, its full code, kind and micro-grid beside it.
    let box_h = 250.0;
    if let Some(r) = Rect::from_xywh(margin, y, inner, box_h) {
        pm.fill_rect(r, &paint(BOX), Transform::identity(), None);
    }
    text::draw(&mut pm, "所属网格", margin + 40.0, y + 66.0, &style(38.0, GREY, true));
    let seq = sequence(&p.grid_code, &p.community_code);
    let big = style(150.0, RED, true);
    text::draw(&mut pm, &seq, margin + 40.0, y + 215.0, &big);
    let after = margin + 40.0 + text::width(&seq, &big) + 16.0;
    text::draw(&mut pm, "网格", after, y + 212.0, &style(56.0, RED, true));
    let right = after + text::width("网格", &style(56.0, RED, true)) + 50.0;
    let side = w - margin - 40.0 - right;
    let mut ry = y + 66.0;
    let code = fitting(&p.grid_code, side, 42.0, INK, true);
    text::draw(&mut pm, &p.grid_code, right, ry, &code);
    ry += 60.0;
    let kind = match (&p.grid_name, p.exclusive) {
        (Some(name), true) => format!("专属网格 · {name}"),
        (None, true) => "专属网格".to_string(),
        _ => "基础网格".to_string(),
    };
    let kind_style = style(34.0, INK, false);
    for line in wrap(&kind, side, &kind_style).into_iter().take(2) {
        text::draw(&mut pm, &line, right, ry, &kind_style);
        ry += 46.0;
    }
    if let Some(micro) = &p.micro_code {
        let line = format!("微网格 {micro}");
        text::draw(&mut pm, &line, right, ry, &fitting(&line, side, 30.0, GREY, false));
    }
    y += box_h + 70.0;

    // The workers, in type a resident reads from the stairs.
    text::draw(&mut pm, "网格工作人员", margin, y, &style(40.0, GREY, true));
    y += 20.0;
    let bottom_block = 640.0; // services and QR code, and the foot
    let avail = h - bottom_block - y - 30.0;
    if p.staff.is_empty() {
        let note = style(40.0, INK, false);
        y += 60.0;
        for line in wrap("网格工作人员尚在安排中，请联系社区居委会。", inner, &note) {
            text::draw(&mut pm, &line, margin, y, &note);
            y += 58.0;
        }
    } else {
        let row_h = (avail / p.staff.len() as f32).clamp(44.0, 96.0);
        let size = (row_h * 0.6).min(56.0);
        for (role, name, phone) in &p.staff {
            y += row_h;
            let who = style(size, INK, true);
            let role_style = style(size * 0.75, GREY, false);
            text::draw(&mut pm, role, margin, y, &role_style);
            let role_w = text::width("网格员", &role_style).max(text::width(role, &role_style));
            text::draw(&mut pm, name, margin + role_w + 30.0, y, &who);
            let phone = phone.as_deref().unwrap_or("电话待公布");
            let pw = text::width(phone, &who);
            text::draw(&mut pm, phone, w - margin - pw, y, &who);
            line(&mut pm, margin, y + row_h * 0.3, w - margin, y + row_h * 0.3, RULE, 2.0);
        }
    }

    // Foot: nearby services on the left, the QR code on the right.
    let top = h - bottom_block + 40.0;
    line(&mut pm, margin, top - 30.0, w - margin, top - 30.0, RED, 4.0);
    let qr_size = 400.0;
    let qr_x = w - margin - qr_size;
    crate::qr::draw(&mut pm, &p.link, qr_x, top, qr_size)?;
    let caption = style(30.0, INK, true);
    text::draw_centered(
        &mut pm,
        "扫码查看本楼网格信息",
        qr_x + qr_size / 2.0,
        top + qr_size + 30.0,
        &caption,
    );
    let link_style = fitting(&p.link, qr_size + 60.0, 22.0, GREY, false);
    let mut ly = top + qr_size + 70.0;
    for l in wrap(&p.link, qr_size + 60.0, &link_style).into_iter().take(2) {
        let lw = text::width(&l, &link_style);
        text::draw(&mut pm, &l, qr_x + qr_size / 2.0 - lw / 2.0, ly, &link_style);
        ly += 28.0;
    }
    let left_w = qr_x - margin - 40.0;
    let mut sy = top + 40.0;
    text::draw(&mut pm, "附近服务", margin, sy, &style(38.0, GREY, true));
    sy += 30.0;
    if p.nearby.is_empty() {
        text::draw(&mut pm, "附近暂无服务点", margin, sy + 50.0, &style(32.0, GREY, false));
    }
    for s in p.nearby.iter().take(4) {
        let named = !s.name.trim().is_empty() && s.name.trim().to_lowercase().replace([' ', '-'], "_") != s.kind;
        let kind_name = crate::print::kind_name(&s.kind).0;
        let name = if named { s.name.clone() } else { kind_name.to_string() };
        crate::icons::draw_icon(&mut pm, &s.kind, margin + 26.0, sy + 50.0, 50.0);
        let label = if named { format!("{kind_name} · {name}") } else { name };
        let ns = fitting(&label, left_w - 70.0, 34.0, INK, true);
        text::draw(&mut pm, &label, margin + 70.0, sy + 50.0, &ns);
        text::draw(
            &mut pm,
            &walking(s.distance),
            margin + 70.0,
            sy + 96.0,
            &style(28.0, GREY, false),
        );
        sy += 120.0;
    }
    let version = match p.version {
        Some(v) => format!(
            "网格数据第 {v} 版 · {} 发布 · 网格调整后重新印制，以扫码所见为准",
            p.date
        ),
        None => format!("网格数据未发布 · {} 印制", p.date),
    };
    let small = fitting(&version, inner, 24.0, GREY, false);
    text::draw(&mut pm, &version, margin, h - 50.0, &small);
    let reference = format!("楼栋 {}", p.building);
    let rs = style(20.0, GREY, false);
    text::draw(
        &mut pm,
        &reference,
        w - margin - text::width(&reference, &rs),
        h - 20.0,
        &rs,
    );
    Ok(pm)
}

fn line(pm: &mut Pixmap, x0: f32, y0: f32, x1: f32, y1: f32, c: Rgb, width: f32) {
    let mut pb = PathBuilder::new();
    pb.move_to(x0, y0);
    pb.line_to(x1, y1);
    if let Some(path) = pb.finish() {
        let s = Stroke {
            width,
            ..Stroke::default()
        };
        pm.stroke_path(&path, &paint(c), &s, Transform::identity(), None);
    }
}

pub fn render_png(p: &Placard) -> Result<Vec<u8>, PlacardError> {
    Ok(crate::raster::encode_png(&render(p)?))
}

/// Placards as one PDF, one A4 page each (every building of a grid, for the grid worker's round).
pub fn render_pdf(placards: &[Placard]) -> Result<Vec<u8>, PlacardError> {
    if placards.is_empty() {
        return Err(PlacardError::Empty);
    }
    crate::pdf::pages(placards.len(), crate::pdf::A4_PORTRAIT, |i| render(&placards[i]))
}

#[cfg(test)]
mod tests {
    #[test]
    fn walking_reads_as_the_web_map_says_it() {
        use super::{Distance, walking};
        assert_eq!(
            walking(Distance::Straight { metres: 318.0 }),
            "直线距离 320 米 · 步行约 5 分钟"
        );
        assert_eq!(
            walking(Distance::Straight { metres: 3.0 }),
            "直线距离 10 米 · 步行约 1 分钟"
        );
        assert_eq!(
            walking(Distance::Walk {
                metres: 1530.0,
                minutes: 19.1
            }),
            "步行 1.5 公里 · 约 19 分钟"
        );
        assert_eq!(
            walking(Distance::Walk {
                metres: 20.0,
                minutes: 0.25
            }),
            "步行 20 米 · 约 1 分钟"
        );
    }

    #[test]
    fn the_grid_number_is_the_sequence() {
        assert_eq!(super::sequence("350206001017003", "350206001017"), "003");
        assert_eq!(
            super::sequence("WG3502060010170001", "350206001017"),
            "WG3502060010170001"
        );
    }
}
