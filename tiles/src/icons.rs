//! Map icons for the resource kinds of [`gis_core::Resource::KNOWN_KINDS`].
//!
//! Each icon is a badge in its kind's colour, ringed in white with a faint dark edge so it
//! stands off both light and dark map backgrounds, carrying a white pictogram: a cross for a
//! clinic, an H for a hospital, a capsule for a pharmacy, a tooth for a dentist, a bag for a
//! shop, a cart for a supermarket, an awninged stall for a market, a mortarboard for a school,
//! building blocks for a kindergarten, a heart for elderly care and a star for a service
//! centre (党群服务中心), whose badge alone is a rounded square. Unknown kinds get a grey badge
//! with a white dot.
//!
//! Pictograms are drawn on a 20-unit grid, one unit a pixel at the sprite's 20 px, and scale
//! to any size; the palette groups kinds by family (health in reds, shopping in ambers,
//! education in blues, care in purple, the service centre in a calm Chinese red), each dark
//! enough for a white pictogram to read at 16 px.

use tiny_skia::{Color, FillRule, LineCap, LineJoin, Paint, Path, PathBuilder, Pixmap, Rect, Stroke, Transform};

/// The kinds with their own icon: every known resource kind.
pub const KINDS: &[&str] = gis_core::Resource::KNOWN_KINDS;

/// Kind, colour as `#rrggbb`, the same as bytes.
const PALETTE: &[(&str, &str, [u8; 3])] = &[
    ("clinic", "#e05a57", [0xe0, 0x5a, 0x57]),
    ("hospital", "#c53d3a", [0xc5, 0x3d, 0x3a]),
    ("pharmacy", "#d24f78", [0xd2, 0x4f, 0x78]),
    ("dentist", "#e2735b", [0xe2, 0x73, 0x5b]),
    ("shop", "#d98c1b", [0xd9, 0x8c, 0x1b]),
    ("supermarket", "#c46f12", [0xc4, 0x6f, 0x12]),
    ("market", "#b3842c", [0xb3, 0x84, 0x2c]),
    ("school", "#2f6db5", [0x2f, 0x6d, 0xb5]),
    ("kindergarten", "#3f95d2", [0x3f, 0x95, 0xd2]),
    ("elderly_care", "#8559b5", [0x85, 0x59, 0xb5]),
    ("service_center", "#b5252c", [0xb5, 0x25, 0x2c]),
];
/// Any other kind: a slate badge with a place mark (its legend entry is "other").
const OTHER: (&str, [u8; 3]) = ("#5d6b7a", [0x5d, 0x6b, 0x7a]);

/// Which icon wins where icons would overlap: lower first. Care before schools before shops,
/// as residents look for them.
pub fn priority(kind: &str) -> u32 {
    match kind {
        "clinic" | "hospital" => 0,
        "pharmacy" => 1,
        "dentist" => 2,
        "service_center" => 3,
        "elderly_care" => 4,
        "school" => 5,
        "kindergarten" => 6,
        "market" => 7,
        "supermarket" => 8,
        "shop" => 9,
        _ => 10,
    }
}

/// The first zoom a kind's icon shows at: shops are many and only read close up.
pub fn min_zoom(kind: &str) -> u8 {
    match kind {
        "shop" | "supermarket" => 16,
        _ => 13,
    }
}

fn entry(kind: &str) -> (&'static str, [u8; 3]) {
    PALETTE
        .iter()
        .find(|(k, _, _)| *k == kind)
        .map_or(OTHER, |&(_, hex, rgb)| (hex, rgb))
}

/// The kind's colour as `#rrggbb` (grey for a kind without an icon).
pub fn hex(kind: &str) -> &'static str {
    entry(kind).0
}

/// The kind's colour (grey for a kind without an icon).
pub fn color(kind: &str) -> Color {
    let [r, g, b] = entry(kind).1;
    Color::from_rgba8(r, g, b, 255)
}

fn paint(color: Color) -> Paint<'static> {
    let mut p = Paint::default();
    p.set_color(color);
    p.anti_alias = true;
    p
}

/// Draws `kind`'s icon centred on (`cx`, `cy`), `size_px` across including its white ring.
pub fn draw_icon(pixmap: &mut Pixmap, kind: &str, cx: f32, cy: f32, size_px: f32) {
    if !(size_px.is_finite() && size_px > 0.0 && cx.is_finite() && cy.is_finite()) {
        return;
    }
    // The 20-unit design grid, centred on the icon.
    let k = size_px / 20.0;
    let ts = Transform::from_row(k, 0.0, 0.0, k, cx, cy);
    let square = kind == "service_center";
    let badge = |r: f32| {
        if square {
            rounded_rect(-r, -r, r, r, r * 0.36)
        } else {
            PathBuilder::from_circle(0.0, 0.0, r)
        }
    };
    let fill = |pm: &mut Pixmap, path: Option<Path>, c: Color| {
        if let Some(path) = path {
            pm.fill_path(&path, &paint(c), FillRule::Winding, ts, None);
        }
    };
    // A square badge is drawn a little smaller so it looks as large as the discs.
    let s = if square { 0.9 } else { 1.0 };
    fill(pixmap, badge(10.0 * s), Color::from_rgba8(40, 36, 32, 56));
    fill(pixmap, badge(9.3 * s), Color::WHITE);
    let kc = color(kind);
    fill(pixmap, badge(8.1 * s), kc);

    let white = Color::WHITE;
    let stroke = |pm: &mut Pixmap, path: Option<Path>, width: f32, c: Color| {
        if let Some(path) = path {
            let st = Stroke {
                width,
                line_cap: LineCap::Round,
                line_join: LineJoin::Round,
                ..Stroke::default()
            };
            pm.stroke_path(&path, &paint(c), &st, ts, None);
        }
    };
    match kind {
        "clinic" => fill(pixmap, cross(4.6, 1.55), white),
        "hospital" => {
            let mut pb = PathBuilder::new();
            push_rect(&mut pb, -4.2, -4.6, -1.7, 4.6);
            push_rect(&mut pb, 1.7, -4.6, 4.2, 4.6);
            push_rect(&mut pb, -1.8, -1.15, 1.8, 1.15);
            fill(pixmap, pb.finish(), white);
        }
        "pharmacy" => {
            // A capsule on the diagonal, two-tone: one half white, the other half-white.
            let (hl, hw) = (5.7, 2.4);
            let half = |right: bool| {
                let s = if right { 1.0 } else { -1.0 };
                let mut pb = PathBuilder::new();
                pb.move_to(s * 0.45, -hw);
                pb.line_to(s * (hl - hw), -hw);
                arc_cap(&mut pb, s * (hl - hw), hw, right);
                pb.line_to(s * 0.45, hw);
                pb.close();
                pb.finish().and_then(|p| p.transform(Transform::from_rotate(-45.0)))
            };
            fill(pixmap, half(true), white);
            fill(pixmap, half(false), Color::from_rgba8(255, 255, 255, 165));
        }
        "dentist" => {
            let mut pb = PathBuilder::new();
            pb.move_to(-4.3, -2.0);
            pb.cubic_to(-4.3, -4.5, -2.3, -5.2, -0.9, -4.3);
            pb.cubic_to(-0.35, -4.0, 0.35, -4.0, 0.9, -4.3);
            pb.cubic_to(2.3, -5.2, 4.3, -4.5, 4.3, -2.0);
            pb.cubic_to(4.3, -0.2, 3.3, 0.8, 3.0, 2.6);
            pb.cubic_to(2.7, 4.4, 2.2, 5.0, 1.6, 5.0);
            pb.cubic_to(0.9, 5.0, 0.8, 3.9, 0.6, 2.9);
            pb.cubic_to(0.45, 2.1, -0.45, 2.1, -0.6, 2.9);
            pb.cubic_to(-0.8, 3.9, -0.9, 5.0, -1.6, 5.0);
            pb.cubic_to(-2.2, 5.0, -2.7, 4.4, -3.0, 2.6);
            pb.cubic_to(-3.3, 0.8, -4.3, -0.2, -4.3, -2.0);
            pb.close();
            fill(pixmap, pb.finish(), white);
        }
        "shop" => {
            // A shopping bag: body and a loop handle.
            fill(pixmap, rounded_rect(-4.3, -1.9, 4.3, 4.9, 0.9), white);
            let mut h = PathBuilder::new();
            h.move_to(-2.0, -1.4);
            h.line_to(-2.0, -2.5);
            h.cubic_to(-2.0, -3.8, -1.1, -4.7, 0.0, -4.7);
            h.cubic_to(1.1, -4.7, 2.0, -3.8, 2.0, -2.5);
            h.line_to(2.0, -1.4);
            stroke(pixmap, h.finish(), 1.2, white);
        }
        "supermarket" => {
            // A cart: handle and frame, basket, two wheels.
            let mut frame = PathBuilder::new();
            frame.move_to(-5.0, -4.3);
            frame.line_to(-3.3, -4.3);
            frame.line_to(-1.7, 2.4);
            frame.line_to(3.9, 2.4);
            stroke(pixmap, frame.finish(), 1.2, white);
            let mut basket = PathBuilder::new();
            basket.move_to(-3.0, -2.8);
            basket.line_to(5.0, -2.8);
            basket.line_to(4.0, 1.0);
            basket.line_to(-2.1, 1.0);
            basket.close();
            fill(pixmap, basket.finish(), white);
            fill(pixmap, PathBuilder::from_circle(-1.0, 4.2, 1.05), white);
            fill(pixmap, PathBuilder::from_circle(3.3, 4.2, 1.05), white);
        }
        "market" => {
            // A stall: a striped, scalloped awning over a counter.
            let mut pb = PathBuilder::new();
            pb.move_to(-5.4, -1.6);
            pb.line_to(-4.5, -5.0);
            pb.line_to(4.5, -5.0);
            pb.line_to(5.4, -1.6);
            for i in 0..3 {
                // Scallops right to left along the awning's lower edge.
                let x1 = 5.4 - 3.6 * i as f32;
                let x0 = x1 - 3.6;
                pb.cubic_to(x1, 0.6, x0, 0.6, x0, -1.6);
            }
            pb.close();
            fill(pixmap, pb.finish(), white);
            // Stripes: the awning's panels, parted by lines of the badge colour.
            let mut stripes = PathBuilder::new();
            for x in [-1.8f32, 1.8] {
                stripes.move_to(x * 0.86, -5.2);
                stripes.line_to(x, -1.6);
            }
            stroke(pixmap, stripes.finish(), 0.7, kc);
            fill(pixmap, rounded_rect(-4.4, 1.6, 4.4, 4.9, 0.5), white);
        }
        "school" => {
            // A mortarboard: cap, board and tassel.
            let mut cap = PathBuilder::new();
            cap.move_to(-3.2, -0.8);
            cap.line_to(-3.2, 2.0);
            cap.cubic_to(-3.2, 3.7, 3.2, 3.7, 3.2, 2.0);
            cap.line_to(3.2, -0.8);
            cap.close();
            fill(pixmap, cap.finish(), white);
            let mut board = PathBuilder::new();
            board.move_to(0.0, -4.9);
            board.line_to(5.6, -2.2);
            board.line_to(0.0, 0.5);
            board.line_to(-5.6, -2.2);
            board.close();
            let board = board.finish();
            // The board's lower edge stands off the cap by a line of badge colour.
            stroke(pixmap, board.clone(), 1.6, kc);
            fill(pixmap, board, white);
            let mut tassel = PathBuilder::new();
            tassel.move_to(0.0, -2.2);
            tassel.line_to(4.6, -1.2);
            tassel.line_to(4.6, 2.3);
            stroke(pixmap, tassel.finish(), 0.9, white);
            fill(pixmap, PathBuilder::from_circle(4.6, 2.6, 0.9), white);
            fill(pixmap, PathBuilder::from_circle(0.0, -2.2, 0.7), kc);
        }
        "kindergarten" => {
            // Building blocks: two side by side, one on top.
            fill(pixmap, rounded_rect(-4.9, 0.2, -0.5, 4.6, 0.6), white);
            fill(pixmap, rounded_rect(0.5, 0.2, 4.9, 4.6, 0.6), white);
            fill(pixmap, rounded_rect(-2.2, -4.8, 2.2, -0.8, 0.6), white);
        }
        "elderly_care" => {
            let mut pb = PathBuilder::new();
            pb.move_to(0.0, 4.7);
            pb.cubic_to(-1.3, 3.5, -5.3, 0.8, -5.3, -1.7);
            pb.cubic_to(-5.3, -3.6, -4.0, -4.8, -2.6, -4.8);
            pb.cubic_to(-1.4, -4.8, -0.5, -4.1, 0.0, -3.1);
            pb.cubic_to(0.5, -4.1, 1.4, -4.8, 2.6, -4.8);
            pb.cubic_to(4.0, -4.8, 5.3, -3.6, 5.3, -1.7);
            pb.cubic_to(5.3, 0.8, 1.3, 3.5, 0.0, 4.7);
            pb.close();
            fill(pixmap, pb.finish(), white);
        }
        "service_center" => fill(pixmap, star(0.0, 0.4, 5.4, 2.2), white),
        _ => {
            // A place mark: a ring round a dot.
            stroke(pixmap, PathBuilder::from_circle(0.0, 0.0, 4.2), 1.7, white);
            fill(pixmap, PathBuilder::from_circle(0.0, 0.0, 1.6), white);
        }
    }
}

fn push_rect(pb: &mut PathBuilder, x0: f32, y0: f32, x1: f32, y1: f32) {
    if let Some(r) = Rect::from_ltrb(x0, y0, x1, y1) {
        pb.push_rect(r);
    }
}

/// A plus sign of half-length `l` and half-thickness `t`, as one outline.
fn cross(l: f32, t: f32) -> Option<Path> {
    let mut pb = PathBuilder::new();
    let pts = [
        (-t, -l),
        (t, -l),
        (t, -t),
        (l, -t),
        (l, t),
        (t, t),
        (t, l),
        (-t, l),
        (-t, t),
        (-l, t),
        (-l, -t),
        (-t, -t),
    ];
    pb.move_to(pts[0].0, pts[0].1);
    for &(x, y) in &pts[1..] {
        pb.line_to(x, y);
    }
    pb.close();
    pb.finish()
}

/// The circle constant for a quarter arc as one cubic.
const KAPPA: f32 = 0.552_284_8;

/// A rectangle with corners rounded to radius `r`.
fn rounded_rect(x0: f32, y0: f32, x1: f32, y1: f32, r: f32) -> Option<Path> {
    let r = r.min((x1 - x0) / 2.0).min((y1 - y0) / 2.0);
    let c = r * (1.0 - KAPPA);
    let mut pb = PathBuilder::new();
    pb.move_to(x0 + r, y0);
    pb.line_to(x1 - r, y0);
    pb.cubic_to(x1 - c, y0, x1, y0 + c, x1, y0 + r);
    pb.line_to(x1, y1 - r);
    pb.cubic_to(x1, y1 - c, x1 - c, y1, x1 - r, y1);
    pb.line_to(x0 + r, y1);
    pb.cubic_to(x0 + c, y1, x0, y1 - c, x0, y1 - r);
    pb.line_to(x0, y0 + r);
    pb.cubic_to(x0, y0 + c, x0 + c, y0, x0 + r, y0);
    pb.close();
    pb.finish()
}

/// A half-circle cap of radius `r` centred on (`x`, 0), from (x, −r) round to (x, r): bulging
/// right when `right`, else from (x, −r) bulging left.
fn arc_cap(pb: &mut PathBuilder, x: f32, r: f32, right: bool) {
    let s = if right { 1.0 } else { -1.0 };
    let k = r * KAPPA;
    pb.cubic_to(x + s * k, -r, x + s * r, -k, x + s * r, 0.0);
    pb.cubic_to(x + s * r, k, x + s * k, r, x, r);
}

/// A five-pointed star, point up.
fn star(cx: f32, cy: f32, outer: f32, inner: f32) -> Option<Path> {
    let mut pb = PathBuilder::new();
    for i in 0..10 {
        let r = if i % 2 == 0 { outer } else { inner };
        let a = std::f32::consts::PI * (i as f32 / 5.0 - 0.5);
        let (x, y) = (cx + r * a.cos(), cy + r * a.sin());
        if i == 0 {
            pb.move_to(x, y);
        } else {
            pb.line_to(x, y);
        }
    }
    pb.close();
    pb.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_match_the_model_and_palette() {
        assert_eq!(KINDS, gis_core::Resource::KNOWN_KINDS);
        for kind in KINDS {
            let (hex, [r, g, b]) = entry(kind);
            assert_eq!(hex, format!("#{r:02x}{g:02x}{b:02x}"), "{kind}");
            assert_ne!(hex, OTHER.0, "{kind} has no colour");
            // Dark enough for a white pictogram: relative luminance well under white's.
            let lum = 0.2126 * f32::from(r) + 0.7152 * f32::from(g) + 0.0722 * f32::from(b);
            assert!(lum < 165.0, "{kind} is too light ({lum})");
        }
        let mut hexes: Vec<_> = KINDS.iter().map(|k| hex(k)).collect();
        hexes.sort();
        hexes.dedup();
        assert_eq!(hexes.len(), KINDS.len(), "two kinds share a colour");
        assert_eq!(hex("swimming_pool"), OTHER.0);
        assert_eq!(color("school"), Color::from_rgba8(0x2f, 0x6d, 0xb5, 255));
    }

    #[test]
    fn every_icon_draws_a_badge_and_a_pictogram() {
        for kind in KINDS.iter().copied().chain(["", "unknown"]) {
            for size in [16u32, 20, 24, 48] {
                let mut pm = Pixmap::new(size + 4, size + 4).unwrap();
                let c = (size + 4) as f32 / 2.0;
                draw_icon(&mut pm, kind, c, c, size as f32);
                let px = |x: u32, y: u32| pm.pixel(x, y).unwrap().demultiply();
                // Corners stay clear; the badge shows its colour, and within it the
                // pictogram's ink (how far pixels are lifted from the badge colour to white)
                // adds up to a fair share of the icon.
                assert_eq!(px(0, 0).alpha(), 0, "{kind} {size}");
                let want = color(kind).to_color_u8();
                let kc = [want.red(), want.green(), want.blue()].map(f32::from);
                let mut badge = 0;
                let mut ink = 0.0;
                let r_in = 7.4 * size as f32 / 20.0;
                for y in 0..size + 4 {
                    for x in 0..size + 4 {
                        let p = px(x, y);
                        let rgb = [p.red(), p.green(), p.blue()];
                        if p.alpha() == 255 && rgb == [want.red(), want.green(), want.blue()] {
                            badge += 1;
                        }
                        let (dx, dy) = (x as f32 + 0.5 - c, y as f32 + 0.5 - c);
                        if dx.hypot(dy) < r_in {
                            let lift: f32 = (0..3).map(|i| (f32::from(rgb[i]) - kc[i]) / (255.0 - kc[i])).sum();
                            ink += (lift / 3.0).clamp(0.0, 1.0);
                        }
                    }
                }
                let area = (size * size) as f32;
                assert!(badge as f32 > area / 8.0, "{kind} {size}: {badge} badge pixels");
                assert!(ink > area * 0.05, "{kind} {size}: ink {ink}");
            }
        }
        // Degenerate sizes draw nothing and do not panic.
        let mut pm = Pixmap::new(8, 8).unwrap();
        draw_icon(&mut pm, "clinic", 4.0, 4.0, 0.0);
        draw_icon(&mut pm, "clinic", f32::NAN, 4.0, 10.0);
        assert!(pm.pixels().iter().all(|p| p.alpha() == 0));
    }
}
