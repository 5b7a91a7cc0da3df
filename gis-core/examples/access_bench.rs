//! Life circles on a dataset, timed: every building's and population point's walk to the nearest
//! place of each kind the settings place (one multi-source Dijkstra per kind), against a
//! straight-line baseline in the same run (an R-tree nearest per home and kind).
//!
//! `cargo run --release -p gis-core --example access_bench -- fixtures/zhongjing`

use gis_core::access::{AccessConfig, AccessReport, Homes, Walks};
use gis_core::io::load_dataset;
use gis_core::walk::WalkNetwork;
use rayon::prelude::*;
use rstar::RTree;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).ok_or("usage: access_bench DATASET")?;
    let t = Instant::now();
    let dataset = load_dataset(std::path::Path::new(&dir))?.dataset;
    let load_s = t.elapsed().as_secs_f64();
    let config: AccessConfig = dataset.access.clone();
    let kinds: Vec<String> = config.kinds.keys().cloned().collect();
    println!(
        "{dir}: {} buildings, {} population points, {} resources, {} roads (read in {load_s:.2} s); {} kinds",
        dataset.buildings.len(),
        dataset.points.len(),
        dataset.resources.len(),
        dataset.roads.len(),
        kinds.len()
    );

    let t = Instant::now();
    let network = WalkNetwork::build(&dataset.roads, &dataset.walk);
    let build_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let homes = Homes::snap(&network, &dataset);
    let snap_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let walks = Walks::compute(&network, &dataset, &homes, &kinds);
    let walk_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let report = AccessReport::new(&dataset, &[], &config, &walks, network.stats(), 0);
    let count_s = t.elapsed().as_secs_f64();

    // Straight line: the nearest place of each kind from every home, by an R-tree of the places
    // in degrees scaled to metres at the region's latitude (a baseline of the same shape).
    let t = Instant::now();
    let lat = dataset.buildings.first().map_or(0.0, |b| b.anchor.y());
    let kx = 111_320.0 * lat.to_radians().cos();
    let ky = 110_574.0;
    let mut straight_sum = 0.0;
    let mut straight_n = 0usize;
    for kind in &kinds {
        let places: Vec<[f64; 2]> = dataset
            .resources
            .iter()
            .filter(|r| &r.kind == kind)
            .map(|r| [r.location.x() * kx, r.location.y() * ky])
            .collect();
        if places.is_empty() {
            continue;
        }
        let tree = RTree::bulk_load(places);
        straight_n += dataset.buildings.len() + dataset.points.len();
        straight_sum += dataset
            .buildings
            .par_iter()
            .map(|b| b.anchor)
            .chain(dataset.points.par_iter().map(|p| p.location))
            .map(|p| {
                let q = [p.x() * kx, p.y() * ky];
                let n = tree.nearest_neighbor(&q).expect("a place");
                ((n[0] - q[0]).powi(2) + (n[1] - q[1]).powi(2)).sqrt()
            })
            .sum::<f64>();
    }
    let straight_s = t.elapsed().as_secs_f64();

    let homes_n = dataset.buildings.len() + dataset.points.len();
    let reached: Vec<f64> = walks
        .kinds
        .iter()
        .flat_map(|k| k.buildings.iter().chain(&k.points))
        .copied()
        .filter(|m| m.is_finite())
        .collect();
    let walked = reached.iter().sum::<f64>() / reached.len().max(1) as f64;
    println!(
        "network: {} nodes, {} edges, {:.0} km (built in {:.0} ms)",
        network.node_count(),
        network.edge_count(),
        network.stats().length_km,
        build_s * 1e3
    );
    println!("homes joined to the network in {:.0} ms", snap_s * 1e3);
    println!(
        "walks: {} homes × {} kinds in {:.0} ms ({:.0} ns a home and kind); counts per community in {:.0} ms",
        homes_n,
        kinds.len(),
        walk_s * 1e3,
        walk_s * 1e9 / (homes_n * kinds.len()).max(1) as f64,
        count_s * 1e3
    );
    println!(
        "every home to the nearest of each kind: {:.0} ms by walk (snapping and searches), {:.0} ms by straight line: {:.1}× the straight-line time",
        (snap_s + walk_s) * 1e3,
        straight_s * 1e3,
        (snap_s + walk_s) / straight_s.max(1e-9)
    );
    println!(
        "mean walk to the nearest place {walked:.0} m (of {} home–kind pairs reached), mean straight line {:.0} m",
        reached.len(),
        straight_sum / straight_n.max(1) as f64
    );
    for c in report.communities.iter().take(3) {
        let clinic = c.kinds.iter().find(|k| k.kind == "clinic");
        if let Some(k) = clinic {
            println!(
                "  {} {}: {} residents, clinic within {} m: {:.0}%",
                c.code,
                c.name.as_deref().unwrap_or(""),
                c.residents,
                k.circle.metres,
                k.covered_share.unwrap_or(0.0) * 100.0
            );
        }
    }
    Ok(())
}
