//! QR codes drawn into a page: the `qrcode` crate encodes, tiny-skia paints each dark module as
//! a whole number of pixels (a module split across pixels blurs and scans worse), with the
//! four-module quiet zone the standard asks for.

use qrcode::{EcLevel, QrCode};
use tiny_skia::{Paint, Pixmap, Rect, Transform};

#[derive(Debug, thiserror::Error)]
pub enum QrError {
    #[error("{0:?} is too long for a QR code")]
    TooLong(String),
    #[error("a QR code of {modules} modules does not fit in {size} px")]
    TooSmall { modules: usize, size: f32 },
}

/// Draws `text` as a QR code (error correction M: a smudged or creased print still scans) in
/// the square of side `size` px at (`x`, `y`), quiet zone included, centred in it; returns the
/// side actually drawn.
pub fn draw(pm: &mut Pixmap, text: &str, x: f32, y: f32, size: f32) -> Result<f32, QrError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|_| QrError::TooLong(text.to_string()))?;
    let modules = code.width();
    let total = modules + 8;
    let module = (size / total as f32).floor();
    if module < 1.0 {
        return Err(QrError::TooSmall { modules, size });
    }
    let side = module * total as f32;
    let (ox, oy) = ((x + (size - side) / 2.0).round(), (y + (size - side) / 2.0).round());
    let mut white = Paint::default();
    white.set_color_rgba8(255, 255, 255, 255);
    if let Some(r) = Rect::from_xywh(ox, oy, side, side) {
        pm.fill_rect(r, &white, Transform::identity(), None);
    }
    let mut dark = Paint::default();
    dark.set_color_rgba8(0, 0, 0, 255);
    // Sharp module edges: no anti-aliasing.
    dark.anti_alias = false;
    let colours = code.to_colors();
    for my in 0..modules {
        for mx in 0..modules {
            if colours[my * modules + mx] == qrcode::Color::Dark
                && let Some(r) = Rect::from_xywh(
                    ox + (mx + 4) as f32 * module,
                    oy + (my + 4) as f32 * module,
                    module,
                    module,
                )
            {
                pm.fill_rect(r, &dark, Transform::identity(), None);
            }
        }
    }
    Ok(side)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_link_reads_back_with_an_independent_decoder() {
        let link = "https://wangge.example.cn/b/B-013";
        let mut pm = tiny_skia::Pixmap::new(400, 400).unwrap();
        pm.fill(tiny_skia::Color::WHITE);
        let side = super::draw(&mut pm, link, 20.0, 20.0, 300.0).unwrap();
        assert!((250.0..=300.0).contains(&side), "{side}");
        let (w, h) = (pm.width() as usize, pm.height() as usize);
        let data = pm.data().to_vec();
        let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| data[(y * w + x) * 4]);
        let grids = img.detect_grids();
        assert_eq!(grids.len(), 1);
        assert_eq!(grids[0].decode().unwrap().1, link);
    }

    #[test]
    fn too_small_is_an_error() {
        let mut pm = tiny_skia::Pixmap::new(50, 50).unwrap();
        assert!(super::draw(&mut pm, "https://example.cn/b/1", 0.0, 0.0, 20.0).is_err());
    }
}
