//! A whole-dataset preview image.
//!
//! The extent of the communities is fitted into `width` pixels in a local equirectangular
//! projection (metres east and north of the extent's centre): at community and city scale that
//! is indistinguishable from a survey map, and unlike Web Mercator it keeps one scale for both
//! axes, so road widths can be drawn in metres.

use geo::{LineString, MultiPolygon};
use gis_core::Dataset;
use tiny_skia::{Color, FillRule, LineCap, LineJoin, Paint, PathBuilder, Pixmap, Stroke, Transform};

#[derive(Clone, Debug)]
pub struct PreviewOptions {
    /// Image width in pixels; the height follows the extent's aspect.
    pub width: u32,
    /// Blank border around the extent, pixels.
    pub margin: u32,
}

impl Default for PreviewOptions {
    fn default() -> Self {
        Self {
            width: 1600,
            margin: 24,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    #[error("the dataset has no communities to draw")]
    Empty,
    #[error("a {width}×{height} px image is too large to draw")]
    TooLarge { width: u32, height: u32 },
    #[error("PNG encoding failed: {0}")]
    Png(String),
}

/// Metres per degree of latitude and of longitude at the equator (the local approximation).
const M_PER_DEG_LAT: f64 = 110_574.0;
const M_PER_DEG_LON: f64 = 111_320.0;
/// The tallest image drawn, as a multiple of the width (a long thin street still fits).
const MAX_ASPECT: f64 = 4.0;

/// Lon/lat to pixels: local metres around the extent's centre, scaled and flipped (y down).
struct View {
    lon0: f64,
    lat0: f64,
    kx: f64,
    cx: f64,
    cy: f64,
    px_per_m: f64,
}

impl View {
    fn fit(dataset: &Dataset, opts: &PreviewOptions) -> Result<(Self, u32), PreviewError> {
        let mut lo = (f64::MAX, f64::MAX);
        let mut hi = (f64::MIN, f64::MIN);
        for c in &dataset.communities {
            for p in c.boundary.iter().flat_map(|poly| poly.exterior().coords()) {
                lo = (lo.0.min(p.x), lo.1.min(p.y));
                hi = (hi.0.max(p.x), hi.1.max(p.y));
            }
        }
        if lo.0 > hi.0 {
            return Err(PreviewError::Empty);
        }
        let lon0 = (lo.0 + hi.0) / 2.0;
        let lat0 = (lo.1 + hi.1) / 2.0;
        let kx = M_PER_DEG_LON * lat0.to_radians().cos();
        let w_m = ((hi.0 - lo.0) * kx).max(1.0);
        let h_m = ((hi.1 - lo.1) * M_PER_DEG_LAT).max(1.0);
        let inner = f64::from(opts.width.saturating_sub(2 * opts.margin).max(1));
        let px_per_m = inner / w_m;
        let height_f = h_m * px_per_m + f64::from(2 * opts.margin);
        if height_f > f64::from(opts.width) * MAX_ASPECT || opts.width == 0 {
            return Err(PreviewError::TooLarge {
                width: opts.width,
                height: height_f as u32,
            });
        }
        let height = height_f.ceil() as u32;
        let view = Self {
            lon0,
            lat0,
            kx,
            cx: f64::from(opts.width) / 2.0,
            cy: f64::from(height) / 2.0,
            px_per_m,
        };
        Ok((view, height))
    }

    fn px(&self, lon: f64, lat: f64) -> (f32, f32) {
        let x = (lon - self.lon0) * self.kx;
        let y = (lat - self.lat0) * M_PER_DEG_LAT;
        (
            (self.cx + x * self.px_per_m) as f32,
            (self.cy - y * self.px_per_m) as f32,
        )
    }

    /// A length in metres on the ground, in pixels, never thinner than `min` px.
    fn metres(&self, m: f64, min: f32) -> f32 {
        ((m * self.px_per_m) as f32).max(min)
    }

    fn ring(&self, pb: &mut PathBuilder, ring: &LineString<f64>, close: bool) {
        for (i, c) in ring.coords().enumerate() {
            let (x, y) = self.px(c.x, c.y);
            if i == 0 { pb.move_to(x, y) } else { pb.line_to(x, y) }
        }
        if close {
            pb.close();
        }
    }

    fn area(&self, mp: &MultiPolygon<f64>) -> Option<tiny_skia::Path> {
        let mut pb = PathBuilder::new();
        for poly in mp {
            self.ring(&mut pb, poly.exterior(), true);
            for hole in poly.interiors() {
                self.ring(&mut pb, hole, true);
            }
        }
        pb.finish()
    }
}

fn paint(color: Color) -> Paint<'static> {
    let mut p = Paint::default();
    p.set_color(color);
    p.anti_alias = true;
    p
}

fn rgba(r: u8, g: u8, b: u8, a: u8) -> Color {
    Color::from_rgba8(r, g, b, a)
}

/// A stable colour for a name: FNV-1a hash to a hue, fixed saturation and lightness.
fn name_color(name: &str, lightness: f32) -> Color {
    let mut h: u32 = 0x811c_9dc5;
    for b in name.bytes() {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    hsl((h % 360) as f32, 0.5 + (h >> 9 & 0x7) as f32 / 40.0, lightness)
}

fn hsl(h: f32, s: f32, l: f32) -> Color {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let x = c * (1.0 - ((h / 60.0) % 2.0 - 1.0).abs());
    let (r, g, b) = match (h / 60.0) as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - c / 2.0;
    Color::from_rgba(r + m, g + m, b + m, 1.0).expect("components in range")
}

/// Road pavement width in metres and colour, by class.
fn road_style(class: Option<&str>) -> (f64, Color) {
    match class {
        Some("primary" | "motorway" | "trunk") => (26.0, rgba(0xb4, 0xb1, 0xab, 255)),
        Some("secondary" | "tertiary") => (15.0, rgba(0xc4, 0xc1, 0xbb, 255)),
        _ => (7.0, rgba(0xd2, 0xcf, 0xca, 255)),
    }
}

fn exclusive_color(kind: &str) -> Color {
    match kind {
        "school" => rgba(0xf6, 0xd8, 0xa8, 200),
        "hospital" => rgba(0xf4, 0xc0, 0xc0, 200),
        "market" => rgba(0xf3, 0xe9, 0x9e, 200),
        "enterprise" => rgba(0xd9, 0xcc, 0xee, 200),
        "government" => rgba(0xc6, 0xd9, 0xf0, 200),
        _ => rgba(0xdd, 0xdd, 0xdd, 200),
    }
}

fn resource_color(kind: &str) -> Color {
    match kind {
        "clinic" | "dentist" => rgba(0xe5, 0x39, 0x35, 255),
        "hospital" => rgba(0xb7, 0x1c, 0x1c, 255),
        "pharmacy" => rgba(0x2e, 0x9d, 0x4f, 255),
        "shop" => rgba(0xf5, 0x8f, 0x1f, 255),
        "supermarket" => rgba(0xc6, 0x5d, 0x00, 255),
        "market" => rgba(0x8d, 0x6e, 0x30, 255),
        "school" => rgba(0x1e, 0x63, 0xc8, 255),
        "kindergarten" => rgba(0x4f, 0xa8, 0xe8, 255),
        "elderly_care" => rgba(0x8e, 0x44, 0xad, 255),
        "service_center" => rgba(0xd0, 0x02, 0x1b, 255),
        _ => rgba(0x55, 0x55, 0x55, 255),
    }
}

/// Draws the dataset.
pub fn render(dataset: &Dataset, opts: &PreviewOptions) -> Result<Pixmap, PreviewError> {
    let (view, height) = View::fit(dataset, opts)?;
    let mut pm = Pixmap::new(opts.width, height).ok_or(PreviewError::TooLarge {
        width: opts.width,
        height,
    })?;
    pm.fill(rgba(0xf4, 0xf2, 0xee, 255));
    let id = Transform::identity();
    let round = |width: f32| Stroke {
        width,
        line_cap: LineCap::Round,
        line_join: LineJoin::Round,
        ..Stroke::default()
    };

    // Community land, a faint tint each so neighbours stand apart.
    for (i, c) in dataset.communities.iter().enumerate() {
        if let Some(path) = view.area(&c.boundary) {
            let tint = hsl((i as f32 * 137.5) % 360.0, 0.35, 0.93);
            pm.fill_path(&path, &paint(tint), FillRule::EvenOdd, id, None);
        }
    }

    // Roads, minor first so arterials draw over their junctions.
    let mut roads: Vec<_> = dataset.roads.iter().collect();
    roads.sort_by_key(|r| std::cmp::Reverse(road_style(r.class.as_deref()).0 as u32));
    for road in roads {
        let (width, color) = road_style(road.class.as_deref());
        let mut pb = PathBuilder::new();
        for line in &road.line {
            view.ring(&mut pb, line, false);
        }
        if let Some(path) = pb.finish() {
            pm.stroke_path(&path, &paint(color), &round(view.metres(width, 0.8)), id, None);
        }
    }

    for unit in &dataset.exclusive {
        if let Some(path) = view.area(&unit.area) {
            pm.fill_path(&path, &paint(exclusive_color(&unit.kind)), FillRule::EvenOdd, id, None);
            let edge = exclusive_color(&unit.kind);
            let dark = rgba(
                (edge.red() * 180.0) as u8,
                (edge.green() * 180.0) as u8,
                (edge.blue() * 180.0) as u8,
                255,
            );
            pm.stroke_path(&path, &paint(dark), &round(view.metres(1.5, 0.6)), id, None);
        }
    }

    let outline = paint(rgba(0x5a, 0x55, 0x50, 160));
    let hairline = Stroke {
        width: 0.6,
        ..Stroke::default()
    };
    for b in &dataset.buildings {
        if let Some(path) = view.area(&b.footprint) {
            let key = b.compound.as_deref().unwrap_or(&b.id);
            let color = if b.population == 0 {
                rgba(0xa9, 0xa4, 0x9c, 255)
            } else {
                name_color(key, 0.62)
            };
            pm.fill_path(&path, &paint(color), FillRule::EvenOdd, id, None);
            pm.stroke_path(&path, &outline, &hairline, id, None);
        }
    }

    let dot = |pm: &mut Pixmap, lon: f64, lat: f64, r: f32, fill: Color| {
        let (x, y) = view.px(lon, lat);
        if let Some(path) = PathBuilder::from_circle(x, y, r) {
            pm.fill_path(&path, &paint(fill), FillRule::Winding, id, None);
            pm.stroke_path(
                &path,
                &paint(Color::WHITE),
                &Stroke {
                    width: (r / 3.0).max(0.8),
                    ..Stroke::default()
                },
                id,
                None,
            );
        }
    };
    for p in &dataset.points {
        let r = view.metres(1.2 * f64::from(p.count).sqrt(), 1.2);
        dot(&mut pm, p.location.x(), p.location.y(), r, rgba(0x9c, 0x27, 0x27, 220));
    }

    // Boundaries over everything but the resource points.
    for c in &dataset.communities {
        if let Some(path) = view.area(&c.boundary) {
            pm.stroke_path(&path, &paint(rgba(0x37, 0x33, 0x30, 230)), &round(2.0), id, None);
        }
    }

    let r = (opts.width as f32 / 400.0).max(3.0);
    for res in &dataset.resources {
        dot(
            &mut pm,
            res.location.x(),
            res.location.y(),
            r,
            resource_color(&res.kind),
        );
    }
    Ok(pm)
}

/// Draws the dataset and encodes it as PNG.
pub fn render_png(dataset: &Dataset, opts: &PreviewOptions) -> Result<Vec<u8>, PreviewError> {
    render(dataset, opts)?
        .encode_png()
        .map_err(|e| PreviewError::Png(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{MultiPolygon, polygon};
    use gis_core::{Community, CommunityCode};

    #[test]
    fn draws_a_community_to_the_requested_width() {
        let square =
            polygon![(x: 118.10, y: 24.50), (x: 118.11, y: 24.50), (x: 118.11, y: 24.51), (x: 118.10, y: 24.51)];
        let dataset = Dataset {
            communities: vec![Community {
                code: CommunityCode::parse("350206001017").unwrap(),
                name: "康乐社区".into(),
                boundary: MultiPolygon(vec![square]),
            }],
            ..Dataset::default()
        };
        let pm = render(&dataset, &PreviewOptions { width: 200, margin: 10 }).unwrap();
        assert_eq!(pm.width(), 200);
        // A square of 0.01° is taller than wide at 24.5° N: 180 px of width, 20 px of margin.
        let aspect = M_PER_DEG_LAT / (M_PER_DEG_LON * 24.505f64.to_radians().cos());
        assert_eq!(pm.height(), (180.0 * aspect + 20.0).ceil() as u32);
        assert!(
            render_png(&dataset, &PreviewOptions::default())
                .unwrap()
                .starts_with(b"\x89PNG")
        );
        assert!(matches!(
            render(&Dataset::default(), &PreviewOptions::default()),
            Err(PreviewError::Empty)
        ));
    }
}
