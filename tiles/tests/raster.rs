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
