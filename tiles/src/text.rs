//! Labels on raster output: DejaVu Sans (embedded, free licence) for digits and Latin, and a CJK
//! font from the system when one is installed (Debian `fonts-noto-cjk`) for Chinese names.
//! Text is drawn with a halo so it reads on any fill.

use crate::palette::Rgb;
use ab_glyph::{Font, FontArc, PxScale, ScaleFont};
use std::sync::LazyLock;
use tiny_skia::Pixmap;

static REGULAR: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../assets/fonts/DejaVuSans-Bold.ttf");

/// Where Debian's fonts-noto-cjk puts its fonts.
const CJK_PATHS: &[&str] = &[
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Medium.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
];

struct Fonts {
    regular: FontArc,
    bold: FontArc,
    cjk: Option<FontArc>,
}

static FONTS: LazyLock<Fonts> = LazyLock::new(|| Fonts {
    regular: FontArc::try_from_slice(REGULAR).expect("embedded font parses"),
    bold: FontArc::try_from_slice(BOLD).expect("embedded font parses"),
    cjk: CJK_PATHS.iter().find_map(|p| {
        let bytes = std::fs::read(p).ok()?;
        // A .ttc holds several faces; the first is the Simplified Chinese one in Noto's.
        ab_glyph::FontVec::try_from_vec_and_index(bytes, 0)
            .ok()
            .map(FontArc::new)
    }),
});

/// Whether Chinese text can be drawn (a CJK font is installed).
pub fn has_cjk() -> bool {
    FONTS.cjk.is_some()
}

/// Whether every character of `s` can be drawn.
pub fn can_draw(s: &str) -> bool {
    s.chars().all(|ch| ch.is_whitespace() || font_for(ch, false).is_some())
}

fn font_for(ch: char, bold: bool) -> Option<&'static FontArc> {
    let latin = if bold { &FONTS.bold } else { &FONTS.regular };
    if latin.glyph_id(ch).0 != 0 {
        return Some(latin);
    }
    FONTS.cjk.as_ref().filter(|f| f.glyph_id(ch).0 != 0)
}

/// The scale a font is drawn at for a style's size: every font at DejaVu Sans's em for that
/// size, so Chinese is as large as Latin (ab_glyph's `PxScale` is a font's ascent-to-descent
/// height, a larger share of the em in CJK fonts, which drew them a fifth smaller).
fn scale_for(font: &FontArc, size: f32) -> PxScale {
    let em = |f: &FontArc| f.units_per_em().map_or(1.0, |u| f.height_unscaled() / u);
    PxScale::from(size * em(font) / em(&FONTS.regular))
}

#[derive(Debug, Clone, Copy)]
pub struct TextStyle {
    pub size: f32,
    pub color: Rgb,
    pub halo: Option<(Rgb, f32)>,
    pub bold: bool,
}

/// Width of a line of text in pixels.
pub fn width(s: &str, style: &TextStyle) -> f32 {
    s.chars()
        .filter_map(|ch| {
            font_for(ch, style.bold).map(|f| f.as_scaled(scale_for(f, style.size)).h_advance(f.glyph_id(ch)))
        })
        .sum()
}

/// Draws a line of text centred on (cx, cy); characters no font has are skipped.
pub fn draw_centered(pixmap: &mut Pixmap, s: &str, cx: f32, cy: f32, style: &TextStyle) {
    let w = width(s, style);
    let scale = PxScale::from(style.size);
    let ascent = FONTS.regular.as_scaled(scale).ascent();
    let descent = FONTS.regular.as_scaled(scale).descent();
    let baseline = cy + (ascent + descent) / 2.0;
    draw(pixmap, s, cx - w / 2.0, baseline, style);
}

/// Draws a line of text with its baseline starting at (x, y).
pub fn draw(pixmap: &mut Pixmap, s: &str, x: f32, y: f32, style: &TextStyle) {
    let pad = style.halo.map_or(0.0, |(_, r)| r).ceil() as i32 + 1;
    let w = width(s, style).ceil() as i32 + 2 * pad + 2;
    let h = (style.size * 1.4).ceil() as i32 + 2 * pad;
    let (ox, oy) = (x.floor() as i32 - pad, (y - style.size * 1.1).floor() as i32 - pad);
    if ox + w < 0 || oy + h < 0 || ox >= pixmap.width() as i32 || oy >= pixmap.height() as i32 {
        return;
    }
    // Coverage of the glyphs in a local buffer.
    let mut mask = vec![0f32; (w * h) as usize];
    let mut pen = x;
    for ch in s.chars() {
        let Some(font) = font_for(ch, style.bold) else { continue };
        let id = font.glyph_id(ch);
        let scale = scale_for(font, style.size);
        let glyph = id.with_scale_and_position(scale, ab_glyph::point(pen, y));
        pen += font.as_scaled(scale).h_advance(id);
        let Some(outline) = font.outline_glyph(glyph) else {
            continue;
        };
        let b = outline.px_bounds();
        outline.draw(|gx, gy, c| {
            let px = b.min.x as i32 + gx as i32 - ox;
            let py = b.min.y as i32 + gy as i32 - oy;
            if px >= 0 && py >= 0 && px < w && py < h {
                let m = &mut mask[(py * w + px) as usize];
                *m = (*m + c).min(1.0);
            }
        });
    }
    if let Some((halo, radius)) = style.halo {
        // Dilation by a square of side 2r+1, done as two one-dimensional running maxima: cheap,
        // and at halo sizes of one to three pixels indistinguishable from a disc.
        let r = radius.round().max(1.0) as i32;
        let mut across = vec![0f32; mask.len()];
        for py in 0..h {
            for px in 0..w {
                let (a, b) = ((px - r).max(0), (px + r).min(w - 1));
                across[(py * w + px) as usize] = (a..=b).map(|q| mask[(py * w + q) as usize]).fold(0.0, f32::max);
            }
        }
        let mut grown = vec![0f32; mask.len()];
        for px in 0..w {
            for py in 0..h {
                let (a, b) = ((py - r).max(0), (py + r).min(h - 1));
                grown[(py * w + px) as usize] = (a..=b).map(|q| across[(q * w + px) as usize]).fold(0.0, f32::max);
            }
        }
        blend(pixmap, &grown, ox, oy, w, h, halo);
    }
    blend(pixmap, &mask, ox, oy, w, h, style.color);
}

fn blend(pixmap: &mut Pixmap, mask: &[f32], ox: i32, oy: i32, w: i32, h: i32, color: Rgb) {
    let (pw, ph) = (pixmap.width() as i32, pixmap.height() as i32);
    let data = pixmap.data_mut();
    for py in 0..h {
        let y = oy + py;
        if y < 0 || y >= ph {
            continue;
        }
        for px in 0..w {
            let x = ox + px;
            let a = mask[(py * w + px) as usize];
            if x < 0 || x >= pw || a <= 0.0 {
                continue;
            }
            let i = ((y * pw + x) * 4) as usize;
            // Premultiplied RGBA: out = src·a + dst·(1 − a).
            for (k, c) in [color.0, color.1, color.2, 255].into_iter().enumerate() {
                let dst = f32::from(data[i + k]);
                data[i + k] = (f32::from(c) * a + dst * (1.0 - a)).round().clamp(0.0, 255.0) as u8;
            }
        }
    }
}

/// The horizontal advance of one character in pixels (0 when no font has it).
pub fn advance(ch: char, style: &TextStyle) -> f32 {
    font_for(ch, style.bold).map_or(0.0, |f| f.as_scaled(scale_for(f, style.size)).h_advance(f.glyph_id(ch)))
}

/// Draws glyphs each centred on its point and turned by its angle (labels along roads): the
/// halo first, then the glyphs, so no halo covers a neighbouring glyph.
pub fn draw_glyphs(pixmap: &mut Pixmap, glyphs: &[crate::labels::GlyphAt], style: &TextStyle) {
    use tiny_skia::{FillRule, LineCap, LineJoin, Paint, PathBuilder, Stroke, Transform};
    let scale = PxScale::from(style.size);
    let metrics = FONTS.regular.as_scaled(scale);
    // Baseline below the glyph's centre, as draw_centered puts it.
    let baseline = (metrics.ascent() + metrics.descent()) / 2.0;
    let paths: Vec<tiny_skia::Path> = glyphs
        .iter()
        .filter_map(|g| {
            let font = font_for(g.ch, style.bold)?;
            let scaled = font.as_scaled(scale_for(font, style.size));
            let id = font.glyph_id(g.ch);
            let outline = font.outline(id)?;
            let mut pb = PathBuilder::new();
            let mut last: Option<ab_glyph::Point> = None;
            for curve in &outline.curves {
                let (start, end) = match curve {
                    ab_glyph::OutlineCurve::Line(a, b) => (*a, *b),
                    ab_glyph::OutlineCurve::Quad(a, _, b) => (*a, *b),
                    ab_glyph::OutlineCurve::Cubic(a, _, _, b) => (*a, *b),
                };
                if last != Some(start) {
                    if last.is_some() {
                        pb.close();
                    }
                    pb.move_to(start.x, start.y);
                }
                match curve {
                    ab_glyph::OutlineCurve::Line(_, b) => pb.line_to(b.x, b.y),
                    ab_glyph::OutlineCurve::Quad(_, c, b) => pb.quad_to(c.x, c.y, b.x, b.y),
                    ab_glyph::OutlineCurve::Cubic(_, c1, c2, b) => pb.cubic_to(c1.x, c1.y, c2.x, c2.y, b.x, b.y),
                }
                last = Some(end);
            }
            if last.is_some() {
                pb.close();
            }
            // Font units (y up) → pixels, the glyph's advance centred on its point.
            let adv = scaled.h_advance(id);
            let ts = Transform::from_translate(g.x, g.y)
                .pre_rotate(g.angle.to_degrees())
                .pre_translate(-adv / 2.0, baseline)
                .pre_scale(scaled.h_scale_factor(), -scaled.v_scale_factor());
            pb.finish()?.transform(ts)
        })
        .collect();
    // One path for the whole label: a fill or stroke costs mostly its setup, not its contours.
    let mut all = PathBuilder::new();
    for p in &paths {
        all.push_path(p);
    }
    let Some(label) = all.finish() else { return };
    let paint = |c: Rgb| {
        let mut p = Paint::default();
        p.set_color(c.skia(1.0));
        p.anti_alias = true;
        p
    };
    if let Some((halo, radius)) = style.halo {
        let stroke = Stroke {
            width: radius * 2.0,
            line_cap: LineCap::Round,
            line_join: LineJoin::Round,
            ..Stroke::default()
        };
        let hp = paint(halo);
        pixmap.stroke_path(&label, &hp, &stroke, Transform::identity(), None);
        pixmap.fill_path(&label, &hp, FillRule::Winding, Transform::identity(), None);
    }
    pixmap.fill_path(
        &label,
        &paint(style.color),
        FillRule::Winding,
        Transform::identity(),
        None,
    );
}
