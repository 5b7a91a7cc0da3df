//! The map's context, drawn alike on raster tiles and the printed map: water and green (from the
//! dataset's optional `water.geojson` and `green.geojson`) softly over the grid fills and under
//! everything else, main roads wider than streets, and residents counted by point (an urban
//! village, 城中村) as small dots sized by how many live there.

use crate::data::{Feature, Shape};
use crate::palette::{self, Rgb};
use tiny_skia::{FillRule, LineCap, LineJoin, Mask, Paint, PathBuilder, Pixmap, Stroke, Transform};

/// A map position (world coordinates) to pixels.
pub type Px<'a> = dyn Fn([f64; 2]) -> (f32, f32) + 'a;

/// Opacity of water and green areas: the grid colour still reads through them.
pub const WATER_OPACITY: f32 = 0.75;
pub const GREEN_OPACITY: f32 = 0.6;

/// How much wider than a street a road of `class` is drawn (the style uses the same factors).
pub fn road_width(class: Option<&str>) -> f32 {
    match class.unwrap_or("") {
        "motorway" | "trunk" => 2.2,
        "primary" | "motorway_link" | "trunk_link" => 1.9,
        "secondary" | "primary_link" => 1.6,
        "tertiary" | "secondary_link" | "tertiary_link" => 1.3,
        _ => 1.0,
    }
}

/// A population point's dot radius in pixels (at scale 1): grows with the square root of its
/// residents, so the dot's area speaks for them; `zoom_px` is the radius of a one-person dot.
pub fn dot_radius(count: u64, zoom_px: f32) -> f32 {
    zoom_px * (count.max(1) as f32).sqrt().min(6.0)
}

fn paint(c: Rgb, alpha: f32) -> Paint<'static> {
    let mut p = Paint::default();
    p.set_color(c.skia(alpha));
    p.anti_alias = true;
    p
}

fn path(f: &Feature, px: &Px, close: bool) -> Option<tiny_skia::Path> {
    let mut pb = PathBuilder::new();
    let mut ring = |pts: &mut dyn Iterator<Item = (f32, f32)>| {
        for (i, (x, y)) in pts.enumerate() {
            if i == 0 { pb.move_to(x, y) } else { pb.line_to(x, y) }
        }
        if close {
            pb.close();
        }
    };
    match &f.shape {
        Shape::Area(a) => {
            for p in &a.0 {
                for r in std::iter::once(p.exterior()).chain(p.interiors()) {
                    ring(&mut r.0.iter().map(|c| px([c.x, c.y])));
                }
            }
        }
        Shape::Lines(l) => {
            for line in &l.0 {
                ring(&mut line.0.iter().map(|c| px([c.x, c.y])));
            }
        }
        Shape::Point(_) => return None,
    }
    pb.finish()
}

/// Water and green areas, then waterways as lines `line_px` wide. Returns which were drawn
/// (water, green), for a legend of what is on the map only.
pub fn draw_water_and_green(
    pm: &mut Pixmap,
    water: &[&Feature],
    green: &[&Feature],
    px: &Px,
    line_px: f32,
    clip: Option<&Mask>,
) -> (bool, bool) {
    let mut drawn = (false, false);
    for f in green {
        if let Some(p) = path(f, px, true) {
            pm.fill_path(
                &p,
                &paint(palette::GREEN, GREEN_OPACITY),
                FillRule::EvenOdd,
                Transform::identity(),
                clip,
            );
            drawn.1 = true;
        }
    }
    for f in water.iter().filter(|f| matches!(f.shape, Shape::Area(_))) {
        if let Some(p) = path(f, px, true) {
            pm.fill_path(
                &p,
                &paint(palette::WATER, WATER_OPACITY),
                FillRule::EvenOdd,
                Transform::identity(),
                clip,
            );
            drawn.0 = true;
        }
    }
    for f in water.iter().filter(|f| matches!(f.shape, Shape::Lines(_))) {
        if let Some(p) = path(f, px, false) {
            // Rivers and canals drawn as lines are wider than streams.
            let width = if f.str("kind") == Some("stream") {
                line_px
            } else {
                line_px * 2.0
            };
            let s = Stroke {
                width,
                line_cap: LineCap::Round,
                line_join: LineJoin::Round,
                ..Stroke::default()
            };
            pm.stroke_path(&p, &paint(palette::WATERWAY, 1.0), &s, Transform::identity(), clip);
            drawn.0 = true;
        }
    }
    drawn
}

/// Population points as dots (radius [`dot_radius`] with a one-person radius of `unit_px`) with
/// a white ring; returns the boxes they cover, for label collision, and whether any was drawn.
pub fn draw_population_points(
    pm: &mut Pixmap,
    points: &[&Feature],
    px: &Px,
    unit_px: f32,
    clip: Option<&Mask>,
) -> Vec<[f32; 4]> {
    let mut boxes = Vec::new();
    for f in points {
        let Shape::Point(p) = &f.shape else { continue };
        let (x, y) = px([p.x(), p.y()]);
        let r = dot_radius(f.uint("count").unwrap_or(1), unit_px);
        let Some(circle) = PathBuilder::from_circle(x, y, r) else {
            continue;
        };
        pm.fill_path(
            &circle,
            &paint(palette::POPULATION_POINT, 0.85),
            FillRule::Winding,
            Transform::identity(),
            clip,
        );
        let ring = Stroke {
            width: (unit_px * 0.5).max(0.6),
            ..Stroke::default()
        };
        pm.stroke_path(&circle, &paint(palette::HALO, 0.9), &ring, Transform::identity(), clip);
        boxes.push([x - r, y - r, x + r, y + r]);
    }
    boxes
}
