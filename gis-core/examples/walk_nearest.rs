//! Times nearest-resource questions by walk against the straight-line ones, in the same run, on
//! one dataset: what `/v1/resources/nearest` does per request besides HTTP and JSON.
//!
//! `cargo run --release -p gis-core --example walk_nearest -- DATASET [QUERIES]`
//!
//! Each query is a building's anchor and one of the web card's three rows (clinic or hospital;
//! pharmacy; shop or supermarket), limit 1: straight (`ResourceIndex::nearest`), by walk
//! (snap, Dijkstra to the nearest), and by walk with the route's line (what the card asks for).
//! Prints p50, p99 and max of each, and the ratios to straight.

use gis_core::lookup::{NearestQuery, ResourceIndex};
use gis_core::walk::ResourceWalks;
use std::time::Instant;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("usage: walk_nearest DATASET [QUERIES]");
    let queries: usize = args.next().map_or(3000, |n| n.parse().expect("QUERIES is a number"));
    let dataset = gis_core::io::load_dataset(std::path::Path::new(&dir))
        .unwrap_or_else(|e| panic!("{e}"))
        .dataset;
    let started = Instant::now();
    let walks = ResourceWalks::new(&dataset).expect("the dataset has roads to walk on");
    let built = started.elapsed().as_secs_f64();
    let straight = ResourceIndex::new(dataset.resources.clone());
    println!(
        "{dir}: {} buildings, {} resources; network {:?}, built in {:.3} s",
        dataset.buildings.len(),
        dataset.resources.len(),
        walks.network().stats(),
        built
    );
    let rows: [&[&str]; 3] = [&["clinic", "hospital"], &["pharmacy"], &["shop", "supermarket"]];
    let mut times: [Vec<f64>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    let mut found = [0usize; 3];
    for q in 0..queries {
        let b = &dataset.buildings[(q * 7919) % dataset.buildings.len()];
        let kinds: Vec<String> = rows[q % 3].iter().map(|k| k.to_string()).collect();
        let at = b.anchor.0;
        let query = NearestQuery {
            kinds: kinds.clone(),
            limit: 1,
            radius_m: None,
        };
        let t = Instant::now();
        let s = straight.nearest(at, &query);
        times[0].push(t.elapsed().as_secs_f64() * 1e3);
        found[0] += s.len();
        let t = Instant::now();
        let w = walks.nearest(at, &kinds, 1, None);
        times[1].push(t.elapsed().as_secs_f64() * 1e3);
        found[1] += w.as_ref().map_or(0, |(_, f)| f.len());
        let t = Instant::now();
        if let Some((from, f)) = walks.nearest(at, &kinds, 1, None) {
            for f in &f {
                found[2] += usize::from(walks.route(&from, f.target).is_some());
            }
        }
        times[2].push(t.elapsed().as_secs_f64() * 1e3);
    }
    let names = ["straight", "walk", "walk+route"];
    let mut p99 = [0.0; 3];
    for (i, t) in times.iter_mut().enumerate() {
        t.sort_by(f64::total_cmp);
        p99[i] = percentile(t, 0.99);
        println!(
            "{:>10}: {queries} queries, {} found; p50 {:.4} ms, p99 {:.4} ms, max {:.4} ms",
            names[i],
            found[i],
            percentile(t, 0.5),
            p99[i],
            t[t.len() - 1]
        );
    }
    println!(
        "p99 ratio to straight: walk {:.1}x, walk+route {:.1}x",
        p99[1] / p99[0],
        p99[2] / p99[0]
    );
}
