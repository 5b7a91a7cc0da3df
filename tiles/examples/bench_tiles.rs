//! Tile speed on a generated city, cache off: for zooms 12–16, over distinct tiles that hold
//! grids, the time per tile (p50, p99, one thread) and tiles/s over both cores, for MVT (all
//! layers, and the grids layer alone for comparison with PostGIS) and PNG. Writes the tiles it
//! used to `--tiles-csv` so `scripts/bench-tiles.sh` can time PostGIS on the very same tiles.
//!
//! cargo run --release -p tiles --example bench_tiles -- DATASET GRIDS [--per-zoom N] [--tiles-csv F]
//!     [--formats TEXT]

use rayon::prelude::*;
use std::collections::BTreeSet;
use std::time::Instant;
use tiles::data::{GRIDS, MapData};
use tiles::mercator::TileId;
use tiles::{mvt, raster};

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(dataset), Some(grids)) = (args.first(), args.get(1)) else {
        eprintln!("usage: bench_tiles DATASET GRIDS [--per-zoom N] [--tiles-csv FILE] [--formats TEXT]");
        std::process::exit(2);
    };
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let per_zoom: usize = flag("--per-zoom").and_then(|v| v.parse().ok()).unwrap_or(500);
    let started = Instant::now();
    let d = gis_core::io::load_dataset(std::path::Path::new(dataset))
        .expect("dataset loads")
        .dataset;
    let layer = gis_core::io::grids::read_layer(std::path::Path::new(grids)).expect("grid layer reads");
    let loaded = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let map = MapData::new(&d, &layer.grids, layer.meta.bounds.unwrap_or_default());
    let indexed = started.elapsed().as_secs_f64();
    println!(
        "loaded {} grids in {loaded:.1} s; map data built in {indexed:.2} s",
        layer.grids.len()
    );
    let grid_layer = map.layer(GRIDS).expect("grids layer");
    // Of the map data's time, the grids' per-zoom simplification ([`tiles::generalise`]), again.
    let started = Instant::now();
    let areas: Vec<_> = grid_layer
        .features
        .iter()
        .map(|f| match &f.shape {
            tiles::data::Shape::Area(a) => Some(a),
            _ => None,
        })
        .collect();
    std::hint::black_box(tiles::generalise::Generalised::new(
        &areas,
        grid_layer.minzoom..=grid_layer.maxzoom,
        mvt::world_tolerance,
    ));
    println!(
        "of which the grids' per-zoom simplification: {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let mut csv = String::from("z,x,y\n");
    println!("\n| zoom | tiles | format | p50 ms | p99 ms | tiles/s (2 cores) | mean bytes |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for z in 12u8..=16 {
        // Distinct tiles under grid label points, spread over the city (deterministic order).
        let mut tiles: BTreeSet<TileId> = BTreeSet::new();
        let step = (grid_layer.features.len() / per_zoom.max(1)).max(1);
        for f in grid_layer.features.iter().step_by(step) {
            if let Some(c) = tiles::data::centre(&f.shape) {
                tiles.insert(TileId::containing(z, c));
            }
        }
        let tiles: Vec<TileId> = tiles.into_iter().take(per_zoom).collect();
        for t in &tiles {
            csv.push_str(&format!("{},{},{}\n", t.z, t.x, t.y));
        }
        type Render<'a> = Box<dyn Fn(TileId) -> Vec<u8> + Sync + 'a>;
        let formats: Vec<(&str, Render)> = vec![
            ("MVT, all layers", Box::new(|t| mvt::encode(&map, t))),
            ("MVT, grids only", Box::new(|t| mvt::encode_layers(&map, t, &[GRIDS]))),
            ("PNG 256 px", Box::new(|t| raster::render_png(&map, t, 1))),
            ("PNG 512 px (@2x)", Box::new(|t| raster::render_png(&map, t, 2))),
        ];
        // `--formats TEXT` times only the formats whose name holds TEXT (for profiling one).
        let wanted = flag("--formats");
        for (name, render) in formats
            .iter()
            .filter(|(n, _)| wanted.as_deref().is_none_or(|w| n.contains(w)))
        {
            let mut times = Vec::with_capacity(tiles.len());
            let mut bytes = 0usize;
            for &t in &tiles {
                let s = Instant::now();
                bytes += render(t).len();
                times.push(s.elapsed().as_secs_f64() * 1000.0);
            }
            times.sort_by(f64::total_cmp);
            let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().expect("pool");
            // Throughput over at least a second of work, the list repeated as needed.
            let one_pass: f64 = times.iter().sum::<f64>() / 1000.0;
            let rounds = ((2.0 / one_pass.max(1e-6)).ceil() as usize).clamp(1, 1000);
            let work: Vec<TileId> = (0..rounds).flat_map(|_| tiles.iter().copied()).collect();
            let s = Instant::now();
            pool.install(|| {
                work.par_iter().for_each(|&t| {
                    std::hint::black_box(render(t));
                })
            });
            let per_s = work.len() as f64 / s.elapsed().as_secs_f64();
            println!(
                "| {z} | {} | {name} | {:.2} | {:.2} | {:.0} | {} |",
                tiles.len(),
                percentile(&times, 0.5),
                percentile(&times, 0.99),
                per_s,
                bytes / tiles.len().max(1)
            );
        }
    }
    if let Some(path) = flag("--tiles-csv") {
        std::fs::write(&path, csv).expect("write the tile list");
    }
}
