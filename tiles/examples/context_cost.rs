//! What the map's context costs: per zoom, over tiles holding water, green or population points,
//! the mean vector-tile bytes with every layer against the same tiles without the context layers,
//! and PNG render time with and without them (the same tiles, alternating, in one process).
//!
//! cargo run --release -p tiles --example context_cost -- DATASET [--per-zoom N]
//!
//! The dataset is partitioned in-process (with micro-grids), as `wangge serve` would show it.

use std::collections::BTreeSet;
use std::time::Instant;
use tiles::data::{GREEN, MapData, POPULATION_POINTS, WATER};
use tiles::mercator::TileId;
use tiles::{mvt, raster};

const CONTEXT: [&str; 3] = [WATER, GREEN, POPULATION_POINTS];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dataset) = args.first() else {
        eprintln!("usage: context_cost DATASET [--per-zoom N]");
        std::process::exit(2);
    };
    let per_zoom: usize = args
        .iter()
        .position(|a| a == "--per-zoom")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let d = gis_core::io::load_dataset(std::path::Path::new(dataset))
        .expect("dataset loads")
        .dataset;
    let options = gis_core::partition::PartitionOptions {
        micro: Some(gis_core::partition::PartitionOptions::default_micro()),
        ..Default::default()
    };
    let grids = gis_core::partition::partition(&d, &options, &mut |_, _| {}).grids;
    let bounds = gis_core::bounds::SizeBounds::default();
    let started = Instant::now();
    let map = MapData::new(&d, &grids, bounds);
    let with = started.elapsed().as_secs_f64();
    let mut plain = d.clone();
    plain.context = Default::default();
    plain.points.clear();
    let started = Instant::now();
    let bare = MapData::new(&plain, &grids, bounds);
    let without = started.elapsed().as_secs_f64();
    println!(
        "{dataset}: {} water, {} green, {} population points; MapData::new {without:.3} s without them, {with:.3} s with",
        d.context.water.len(),
        d.context.green.len(),
        d.points.len()
    );
    let others: Vec<&str> = map
        .layers
        .iter()
        .map(|l| l.name)
        .filter(|n| !CONTEXT.contains(n))
        .collect();
    println!(
        "\n| zoom | tiles | MVT mean bytes without → with context | context share | PNG 256 px ms without → with |"
    );
    println!("| --- | --- | --- | --- | --- |");
    for z in 10u8..=16 {
        let mut tiles: BTreeSet<TileId> = BTreeSet::new();
        for name in CONTEXT {
            let Some(l) = map.layer(name) else { continue };
            for f in &l.features {
                if let Some(c) = f.label_point() {
                    tiles.insert(TileId::containing(z, c));
                }
            }
        }
        let tiles: Vec<TileId> = tiles.into_iter().take(per_zoom).collect();
        if tiles.is_empty() {
            continue;
        }
        let (mut bytes_with, mut bytes_without) = (0usize, 0usize);
        for t in &tiles {
            bytes_with += mvt::encode(&map, *t).len();
            bytes_without += mvt::encode_layers(&map, *t, &others).len();
        }
        // PNG: the same tiles from both maps, alternating, three rounds; the fastest round of each.
        let (mut best_with, mut best_without) = (f64::MAX, f64::MAX);
        for _ in 0..3 {
            let t0 = Instant::now();
            for t in &tiles {
                std::hint::black_box(raster::render(&bare, *t, 1));
            }
            best_without = best_without.min(t0.elapsed().as_secs_f64());
            let t0 = Instant::now();
            for t in &tiles {
                std::hint::black_box(raster::render(&map, *t, 1));
            }
            best_with = best_with.min(t0.elapsed().as_secs_f64());
        }
        let n = tiles.len() as f64;
        println!(
            "| {z} | {} | {:.0} → {:.0} | {:.1}% | {:.2} → {:.2} |",
            tiles.len(),
            bytes_without as f64 / n,
            bytes_with as f64 / n,
            100.0 * (bytes_with as f64 - bytes_without as f64) / bytes_with as f64,
            1000.0 * best_without / n,
            1000.0 * best_with / n,
        );
    }
}
