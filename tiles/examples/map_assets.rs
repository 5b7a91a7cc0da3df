//! Writes the map assets as PNGs to look at: the sprite sheets, an icon sampler at 16, 24 and
//! 48 px on a map-coloured ground (also enlarged 4× without smoothing, to judge the pixels), and
//! a line of text set from the glyph PBFs the way MapLibre sets it.
//!
//! `cargo run -p tiles --example map_assets -- /tmp/map-assets`

use tiles::{glyphs, icons, sprite};
use tiny_skia::{Color, IntSize, Pixmap, PixmapPaint, Transform};

fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or("/tmp/map-assets".into()));
    std::fs::create_dir_all(&dir).unwrap();
    for pr in [1, 2] {
        let (png, json) = sprite::sprite(pr);
        let suffix = if pr == 1 { String::new() } else { format!("@{pr}x") };
        std::fs::write(dir.join(format!("sprite{suffix}.png")), png).unwrap();
        std::fs::write(dir.join(format!("sprite{suffix}.json")), json).unwrap();
    }

    // Sampler: one row per size, on the preview's map ground.
    let sizes = [16.0f32, 24.0, 48.0];
    let n = icons::KINDS.len() + 1;
    let (w, h) = ((n as f32 * 56.0 + 8.0) as u32, 3 * 60);
    let mut pm = Pixmap::new(w, h).unwrap();
    pm.fill(Color::from_rgba8(0xf4, 0xf2, 0xee, 255));
    for (row, size) in sizes.iter().enumerate() {
        for (i, kind) in icons::KINDS.iter().copied().chain(["other"]).enumerate() {
            let cx = (8.0 + 56.0 * i as f32 + 28.0).round();
            let cy = (30.0 + 60.0 * row as f32).round();
            icons::draw_icon(&mut pm, kind, cx, cy, *size);
        }
    }
    pm.save_png(dir.join("icons.png")).unwrap();
    enlarge(&pm, 4).save_png(dir.join("icons-x4.png")).unwrap();
    // Small sizes only, tightly spaced, to look at 4× without the viewer shrinking it.
    let mut small = Pixmap::new(n as u32 * 30, 64).unwrap();
    small.fill(Color::from_rgba8(0xf4, 0xf2, 0xee, 255));
    for (row, size) in [16.0f32, 24.0].iter().enumerate() {
        for (i, kind) in icons::KINDS.iter().copied().chain(["other"]).enumerate() {
            icons::draw_icon(
                &mut small,
                kind,
                15.0 + 30.0 * i as f32,
                16.0 + 32.0 * row as f32,
                *size,
            );
        }
    }
    enlarge(&small, 4).save_png(dir.join("icons-small-x4.png")).unwrap();
    let (png, _) = sprite::sprite(1);
    let sheet = Pixmap::decode_png(&png).unwrap();
    enlarge(&sheet, 6).save_png(dir.join("sprite-x6.png")).unwrap();

    text(&dir);
}

fn enlarge(src: &Pixmap, k: u32) -> Pixmap {
    let mut out = Pixmap::new(src.width() * k, src.height() * k).unwrap();
    out.fill(Color::from_rgba8(0xf4, 0xf2, 0xee, 255));
    let paint = PixmapPaint {
        quality: tiny_skia::FilterQuality::Nearest,
        ..PixmapPaint::default()
    };
    out.draw_pixmap(
        0,
        0,
        src.as_ref(),
        &paint,
        Transform::from_scale(k as f32, k as f32),
        None,
    );
    out
}

/// Sets a line of text from the `0-255` PBF as MapLibre does (line origin at y = −17, glyph
/// bitmap top-left at (x + left − 3, y − top − 3)), draws the anchor and the baseline, and
/// shades each glyph from its distance field with the shader's 0.75 edge.
fn text(dir: &std::path::Path) {
    for (stack, file) in [("DejaVu Sans Book", "text.png"), ("DejaVu Sans Bold", "text-bold.png")] {
        let pbf = glyphs::glyphs(stack, "0-255").unwrap();
        let glyphs = decode(&pbf);
        let line = "Wangge Grid 12 · Kangle Community (5) — égypte";
        let scale = 2.0f32; // draw at 48 px: 24-px metrics × 2
        let (w, h) = (1200u32, 140u32);
        let mut img = vec![0xf4u8; (w * h) as usize];
        let (ax, ay) = (40.0f32, 70.0f32);
        let mut x = 0.0f32;
        let y = -17.0f32;
        for c in line.chars() {
            let Some(g) = glyphs.iter().find(|g| g.0 == u32::from(c)) else {
                continue;
            };
            let (_, bitmap, gw, gh, left, top, advance) = g;
            let bw = gw + 6;
            let bh = gh + 6;
            let ox = ax + (x + *left as f32 - 3.0) * scale;
            let oy = ay + (y - *top as f32 - 3.0) * scale;
            if !bitmap.is_empty() {
                for py in 0..(bh as f32 * scale) as u32 {
                    for px in 0..(bw as f32 * scale) as u32 {
                        // Bilinear sample of the field, as the GPU does.
                        let (sx, sy) = (px as f32 / scale - 0.5, py as f32 / scale - 0.5);
                        let v = bilinear(bitmap, bw, bh, sx, sy) / 255.0;
                        let gamma = 0.105 / scale; // MapLibre's EDGE_GAMMA / (size / 24)
                        let a = ((v - (0.75 - gamma)) / (2.0 * gamma)).clamp(0.0, 1.0);
                        let (ix, iy) = ((ox + px as f32) as i64, (oy + py as f32) as i64);
                        if ix >= 0 && iy >= 0 && (ix as u32) < w && (iy as u32) < h {
                            let p = &mut img[(iy as u32 * w + ix as u32) as usize];
                            *p = (f32::from(*p) * (1.0 - a) + 0x33 as f32 * a) as u8;
                        }
                    }
                }
            }
            x += *advance as f32;
        }
        // Anchor (red) and baseline (blue) marks.
        let mut rgba: Vec<u8> = img.iter().flat_map(|&v| [v, v, v, 255]).collect();
        let baseline = ay + (y + 22.0) * scale;
        for px in 0..w {
            let i = ((baseline as u32 * w + px) * 4) as usize;
            rgba[i..i + 3].copy_from_slice(&[0x40, 0x80, 0xe0]);
            let i = ((ay as u32 * w + px) * 4) as usize;
            if px % 4 < 2 {
                rgba[i..i + 3].copy_from_slice(&[0xe0, 0x40, 0x40]);
            }
        }
        let pm = Pixmap::from_vec(rgba, IntSize::from_wh(w, h).unwrap()).unwrap();
        pm.save_png(dir.join(file)).unwrap();
    }
}

fn bilinear(b: &[u8], w: u32, h: u32, x: f32, y: f32) -> f32 {
    let at = |x: i64, y: i64| {
        if x < 0 || y < 0 || x >= w as i64 || y >= h as i64 {
            0.0
        } else {
            f32::from(b[(y as u32 * w + x as u32) as usize])
        }
    };
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let (x0, y0) = (x0 as i64, y0 as i64);
    let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1, y0) * fx;
    let bot = at(x0, y0 + 1) * (1.0 - fx) + at(x0 + 1, y0 + 1) * fx;
    top * (1.0 - fy) + bot * fy
}

type G = (u32, Vec<u8>, u32, u32, i32, i32, u32);

/// Just enough protobuf reading for this preview.
fn decode(pbf: &[u8]) -> Vec<G> {
    fn varint(b: &[u8], p: &mut usize) -> u64 {
        let mut v = 0;
        let mut s = 0;
        loop {
            let c = b[*p];
            *p += 1;
            v |= u64::from(c & 0x7f) << s;
            s += 7;
            if c < 0x80 {
                return v;
            }
        }
    }
    fn fields(b: &[u8]) -> Vec<(u64, u64, &[u8])> {
        let mut out = Vec::new();
        let mut p = 0;
        while p < b.len() {
            let k = varint(b, &mut p);
            if k & 7 == 2 {
                let n = varint(b, &mut p) as usize;
                out.push((k >> 3, 0, &b[p..p + n]));
                p += n;
            } else {
                out.push((k >> 3, varint(b, &mut p), &b[0..0]));
            }
        }
        out
    }
    let zz = |v: u64| ((v >> 1) as i64 ^ -((v & 1) as i64)) as i32;
    let mut out = Vec::new();
    for (_, _, stack) in fields(pbf) {
        for (f, _, g) in fields(stack) {
            if f != 3 {
                continue;
            }
            let mut glyph: G = (0, Vec::new(), 0, 0, 0, 0, 0);
            for (f, v, b) in fields(g) {
                match f {
                    1 => glyph.0 = v as u32,
                    2 => glyph.1 = b.to_vec(),
                    3 => glyph.2 = v as u32,
                    4 => glyph.3 = v as u32,
                    5 => glyph.4 = zz(v),
                    6 => glyph.5 = zz(v),
                    7 => glyph.6 = v as u32,
                    _ => {}
                }
            }
            out.push(glyph);
        }
    }
    out
}
