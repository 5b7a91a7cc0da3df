//! The MapLibre sprite: every resource icon of [`crate::icons`] on one sheet.
//!
//! A style's `sprite` URL `…/sprite` makes MapLibre fetch `sprite.json` and `sprite.png`, or
//! `sprite@2x.json` and `sprite@2x.png` on high-density screens. The JSON maps each image name
//! to its rectangle on the PNG, in the PNG's own pixels, with the pixel ratio it was drawn at:
//!
//! ```json
//! {"clinic": {"x": 1, "y": 1, "width": 20, "height": 20, "pixelRatio": 1}, …}
//! ```
//!
//! Images are named after the resource kinds, plus `dot` for any other kind, so a symbol layer
//! can use `"icon-image": ["match", ["get", "kind"], [<kinds>], ["get", "kind"], "dot"]`. Each
//! icon is [`ICON_PX`] CSS pixels across, with a transparent pixel of gutter around it so that
//! linear sampling never bleeds a neighbour in. The bytes depend only on the pixel ratio.

use crate::icons;
use std::fmt::Write as _;
use tiny_skia::Pixmap;

/// An icon's size in CSS pixels (multiplied by the pixel ratio on the sheet).
pub const ICON_PX: u32 = 20;
/// Icons per row of the sheet.
const COLUMNS: u32 = 4;
/// The largest pixel ratio drawn; larger requests get this one.
pub const MAX_PIXEL_RATIO: u32 = 4;

/// The image names on the sheet, in order: every kind, then `dot`.
pub fn names() -> impl Iterator<Item = &'static str> {
    icons::KINDS.iter().copied().chain(["dot"])
}

/// The sprite sheet at `pixel_ratio` (1 for `sprite.png`, 2 for `sprite@2x.png`; 0 is taken as
/// 1 and anything above [`MAX_PIXEL_RATIO`] as that): the PNG and its JSON index.
pub fn sprite(pixel_ratio: u32) -> (Vec<u8>, String) {
    let pr = pixel_ratio.clamp(1, MAX_PIXEL_RATIO);
    let size = ICON_PX * pr;
    let gutter = pr;
    let stride = size + 2 * gutter;
    let count = names().count() as u32;
    let rows = count.div_ceil(COLUMNS);
    let mut pm = Pixmap::new(COLUMNS * stride, rows * stride).expect("a small, non-empty sheet");
    let mut json = String::from("{");
    for (i, name) in names().enumerate() {
        let i = i as u32;
        let x = (i % COLUMNS) * stride + gutter;
        let y = (i / COLUMNS) * stride + gutter;
        let half = size as f32 / 2.0;
        icons::draw_icon(&mut pm, name, x as f32 + half, y as f32 + half, size as f32);
        if i > 0 {
            json.push(',');
        }
        // Names are plain ASCII identifiers: nothing to escape.
        write!(
            json,
            "\"{name}\":{{\"x\":{x},\"y\":{y},\"width\":{size},\"height\":{size},\"pixelRatio\":{pr}}}"
        )
        .expect("writing to a String");
    }
    json.push('}');
    let png = pm
        .encode_png()
        .expect("PNG encoding of an in-memory pixmap does not fail");
    (png, json)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[derive(Debug, Clone, Copy)]
    struct R {
        x: u32,
        y: u32,
        w: u32,
        h: u32,
    }

    fn rects(json: &str, pr: u32) -> Vec<(String, R)> {
        let v: Value = serde_json::from_str(json).expect("valid JSON");
        let obj = v.as_object().expect("a JSON object");
        obj.iter()
            .map(|(name, r)| {
                let field = |k: &str| r[k].as_u64().unwrap_or_else(|| panic!("{name}.{k}")) as u32;
                assert_eq!(field("pixelRatio"), pr, "{name}");
                let r = R {
                    x: field("x"),
                    y: field("y"),
                    w: field("width"),
                    h: field("height"),
                };
                (name.clone(), r)
            })
            .collect()
    }

    #[test]
    fn sheets_index_every_icon_inside_without_overlap() {
        for pr in [1, 2] {
            let (png, json) = sprite(pr);
            let rects = rects(&json, pr);
            let mut want: Vec<_> = names().map(str::to_owned).collect();
            let mut got: Vec<_> = rects.iter().map(|(n, _)| n.clone()).collect();
            want.sort();
            got.sort();
            assert_eq!(got, want);
            for kind in gis_core::Resource::KNOWN_KINDS {
                assert!(got.iter().any(|n| n == kind), "{kind}");
            }

            let img = image::load_from_memory_with_format(&png, image::ImageFormat::Png)
                .expect("the PNG decodes")
                .to_rgba8();
            let stride = (ICON_PX + 2) * pr;
            assert_eq!(img.dimensions(), (4 * stride, 3 * stride));
            for (i, (name, a)) in rects.iter().enumerate() {
                assert_eq!((a.w, a.h), (ICON_PX * pr, ICON_PX * pr), "{name}");
                assert!(a.x + a.w <= img.width() && a.y + a.h <= img.height(), "{name}");
                for (other, b) in &rects[i + 1..] {
                    let apart = a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y;
                    assert!(apart, "{name} overlaps {other}");
                }
                // The icon is there: its centre is opaque, most of its disc too.
                let centre = img.get_pixel(a.x + a.w / 2, a.y + a.h / 2);
                assert_eq!(centre[3], 255, "{name}");
                let opaque = (a.y..a.y + a.h)
                    .flat_map(|y| (a.x..a.x + a.w).map(move |x| (x, y)))
                    .filter(|&(x, y)| img.get_pixel(x, y)[3] == 255)
                    .count() as u32;
                assert!(opaque > a.w * a.h / 2, "{name}: {opaque} opaque pixels");
            }
            // Nothing is drawn outside the rectangles (the gutters stay clear).
            for (x, y, p) in img.enumerate_pixels() {
                let inside = rects
                    .iter()
                    .any(|(_, r)| x >= r.x && x < r.x + r.w && y >= r.y && y < r.y + r.h);
                assert!(inside || p[3] == 0, "stray pixel at ({x}, {y})");
            }
            // Deterministic bytes.
            assert_eq!(sprite(pr), (png, json));
        }
        assert_eq!(sprite(0), sprite(1));
    }
}
