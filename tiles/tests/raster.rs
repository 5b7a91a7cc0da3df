//! Raster tiles: they draw what the data holds, at 256 and 512 px. Set `WANGGE_TILE_OUT=DIR` to
//! keep the PNGs and look at them.

use crate::common;

use common::*;
use tiles::mercator::TileId;
use tiles::{palette, raster};

fn colour_share(pm: &tiny_skia::Pixmap, c: palette::Rgb) -> f64 {
    let n = pm
        .pixels()
        .iter()
        .filter(|p| {
            let d = p.demultiply();
            (i32::from(d.red()) - i32::from(c.0)).abs() < 6
                && (i32::from(d.green()) - i32::from(c.1)).abs() < 6
                && (i32::from(d.blue()) - i32::from(c.2)).abs() < 6
        })
        .count();
    n as f64 / pm.pixels().len() as f64
}

#[test]
fn tiles_show_the_grids_in_the_palette() {
    let (_, _, map) = map("kangle", true);
    let out = std::env::var_os("WANGGE_TILE_OUT").map(std::path::PathBuf::from);
    // The tile under a grid's label point, well inside the community.
    let grids = map.layer(tiles::data::GRIDS).unwrap();
    let centre = tiles::data::centre(&grids.features[2].shape).unwrap();
    for z in [12u8, 14, 15, 16] {
        let t = TileId::containing(z, centre);
        for scale in [1, 2] {
            let pm = raster::render(&map, t, scale);
            assert_eq!(pm.width(), 256 * scale);
            // Kangle's grids are all inside the bounds: their fill shows, blended on paper.
            if let Some(dir) = &out {
                std::fs::create_dir_all(dir).unwrap();
                let png = raster::render_png(&map, t, scale);
                std::fs::write(dir.join(format!("kangle-{z}-{}-{}@{scale}x.png", t.x, t.y)), png).unwrap();
            }
            let background = colour_share(&pm, palette::BACKGROUND);
            if z >= 14 {
                assert!(background < 0.9, "z{z}: the tile is nearly empty ({background:.2})");
            } else {
                assert!(background < 0.999, "z{z}: nothing drawn");
            }
        }
    }
    // Far from the data: paper only.
    let empty = raster::render(&map, TileId::new(16, 0, 0).unwrap(), 1);
    assert!(colour_share(&empty, palette::BACKGROUND) > 0.999);
}

#[test]
fn raster_icons_never_overlap_and_shops_wait_for_z16() {
    let (_, _, map) = map("kangle", false);
    let layer = map.layer(tiles::data::RESOURCES).unwrap();
    for z in 14u8..=17 {
        let shown = map.icons_at(z);
        let px = 256.0 * f64::from(1u32 << z);
        let placed: Vec<(&str, f64, f64)> = layer
            .features
            .iter()
            .zip(shown)
            .filter(|(_, s)| **s)
            .filter_map(|(f, _)| match &f.shape {
                tiles::data::Shape::Point(p) => Some((f.str("kind").unwrap(), p.x() * px, p.y() * px)),
                _ => None,
            })
            .collect();
        let size = tiles::data::icon_px(z);
        for (i, a) in placed.iter().enumerate() {
            for b in &placed[i + 1..] {
                assert!(
                    (a.1 - b.1).abs() >= size || (a.2 - b.2).abs() >= size,
                    "z{z}: {} and {} overlap",
                    a.0,
                    b.0
                );
            }
        }
        let shops = placed.iter().filter(|p| p.0 == "shop" || p.0 == "supermarket").count();
        if z < 16 {
            assert_eq!(shops, 0, "z{z} draws shops");
        }
        // Nothing of higher priority is left out for a shop: every clinic shows from z15.
        if z >= 15 {
            let clinics = layer
                .features
                .iter()
                .filter(|f| f.str("kind") == Some("clinic"))
                .count();
            assert_eq!(placed.iter().filter(|p| p.0 == "clinic").count(), clinics, "z{z}");
        }
    }
}
