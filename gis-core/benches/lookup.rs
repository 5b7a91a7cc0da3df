//! Point → grid lookups per second on one core: the prepared index (`lookup::GridIndex`) against
//! a naive baseline in the same process (an R-tree of grid bounding boxes, then geo's exact
//! `Intersects` on each candidate in code order, which is the same edge rule).
//!
//! cargo bench -p gis-core --bench lookup                    # Zhongjing, partitioned here
//! WANGGE_BENCH_GRIDS=out/city-grids.geojson cargo bench -p gis-core --bench lookup
//!
//! `scripts/bench-lookup.sh` makes the 10,000,000-resident city's grids and runs this.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use geo::{BoundingRect, Coord, Intersects, Point, Rect};
use gis_core::geom::BboxIndex;
use gis_core::grid::{Grid, GridLevel};
use gis_core::io::grids::read_layer;
use gis_core::io::load_dataset;
use gis_core::lookup::GridIndex;
use gis_core::partition::{PartitionOptions, partition};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

fn grids() -> (String, Vec<Grid>) {
    match std::env::var("WANGGE_BENCH_GRIDS") {
        Ok(path) => {
            let layer = read_layer(Path::new(&path)).expect("WANGGE_BENCH_GRIDS is a grid layer");
            (path, layer.grids)
        }
        Err(_) => {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/zhongjing");
            let d = load_dataset(&dir).expect("fixture").dataset;
            (
                "fixtures/zhongjing".into(),
                partition(&d, &PartitionOptions::default(), &mut |_, _| {}).grids,
            )
        }
    }
}

/// Seeded points: 70% uniform over the layer's extent, 30% within half a metre of a grid edge.
fn points(grids: &[Grid], n: usize) -> Vec<Coord<f64>> {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let all = grids
        .iter()
        .filter_map(|g| g.area.bounding_rect())
        .reduce(|a, b| {
            Rect::new(
                Coord {
                    x: a.min().x.min(b.min().x),
                    y: a.min().y.min(b.min().y),
                },
                Coord {
                    x: a.max().x.max(b.max().x),
                    y: a.max().y.max(b.max().y),
                },
            )
        })
        .expect("grids");
    let edges: Vec<[Coord<f64>; 2]> = grids
        .iter()
        .flat_map(|g| g.area.0.iter())
        .flat_map(|p| p.exterior().lines())
        .map(|l| [l.start, l.end])
        .collect();
    let m = 1.0 / 111_320.0;
    (0..n)
        .map(|i| {
            if i % 10 < 7 {
                Coord {
                    x: rng.random_range(all.min().x..all.max().x),
                    y: rng.random_range(all.min().y..all.max().y),
                }
            } else {
                let [a, b] = edges[rng.random_range(0..edges.len())];
                let t: f64 = rng.random();
                Coord {
                    x: a.x + (b.x - a.x) * t + rng.random_range(-0.5..0.5) * m,
                    y: a.y + (b.y - a.y) * t + rng.random_range(-0.5..0.5) * m,
                }
            }
        })
        .collect()
}

/// The baseline: bounding boxes in an R-tree, then geo's closed-area test, lowest code first.
struct Naive<'a> {
    grids: Vec<&'a Grid>,
    boxes: BboxIndex,
}

impl<'a> Naive<'a> {
    fn new(all: &'a [Grid]) -> Self {
        let mut grids: Vec<&Grid> = all.iter().filter(|g| g.level == GridLevel::Grid).collect();
        grids.sort_by(|a, b| a.code.as_bytes().cmp(b.code.as_bytes()));
        let boxes = BboxIndex::new(
            grids
                .iter()
                .enumerate()
                .filter_map(|(i, g)| g.area.bounding_rect().map(|r| (i, r))),
        );
        Self { grids, boxes }
    }

    fn locate(&self, c: Coord<f64>) -> Option<&str> {
        // at_point returns indexes ascending, which is code order.
        self.boxes
            .at_point(c)
            .into_iter()
            .find(|&i| self.grids[i].area.intersects(&Point(c)))
            .map(|i| self.grids[i].code.as_str())
    }
}

fn rate(n: usize, mut f: impl FnMut() -> usize) -> (f64, usize) {
    let _ = f();
    let start = Instant::now();
    let mut runs = 0;
    let mut found = 0;
    while runs == 0 || start.elapsed() < Duration::from_secs(2) {
        found = f();
        runs += 1;
    }
    ((n * runs) as f64 / start.elapsed().as_secs_f64(), found)
}

fn bench(c: &mut Criterion) {
    let (source, grids) = grids();
    let started = Instant::now();
    let index = GridIndex::new(grids.clone()).expect("unique codes");
    let build = started.elapsed();
    let naive = Naive::new(&grids);
    let pts = points(&grids, 200_000);
    // Both must give the same answer before their speeds mean anything.
    let disagree = pts.iter().filter(|&&p| index.locate_code(p) != naive.locate(p)).count();
    assert_eq!(disagree, 0, "the index and the baseline disagree");
    let vertices: usize = grids
        .iter()
        .filter(|g| g.level == GridLevel::Grid)
        .map(|g| g.area.0.iter().map(|p| p.exterior().0.len()).sum::<usize>())
        .sum();
    let (fast, found) = rate(pts.len(), || {
        pts.iter()
            .filter(|&&p| black_box(index.locate_code(p)).is_some())
            .count()
    });
    let mut out = Vec::with_capacity(pts.len());
    let (batched, found_batched) = rate(pts.len(), || {
        index.locate_grids(black_box(&pts), &mut out);
        out.iter().filter(|g| g.is_some()).count()
    });
    assert_eq!(found_batched, found, "the batch finds what one at a time finds");
    let (slow, _) = rate(pts.len(), || {
        pts.iter().filter(|&&p| black_box(naive.locate(p)).is_some()).count()
    });
    let (cells, clear, bytes) = index.cell_stats();
    println!(
        "\n{source}: {} grids, {vertices} vertices; index built in {:.0} ms ({cells} cells, {:.0}% answer without a polygon test, {:.0} MB); {} points ({} in a grid)\n\
         one core: GridIndex {:.2} M lookups/s, GridIndex batched (locate_grids) {:.2} M lookups/s, baseline (R-tree + geo Intersects) {:.2} M lookups/s, ratios {:.1}x and {:.1}x\n",
        index.grids().iter().filter(|g| g.level == GridLevel::Grid).count(),
        build.as_secs_f64() * 1000.0,
        100.0 * clear as f64 / cells as f64,
        bytes as f64 / 1e6,
        pts.len(),
        found,
        fast / 1e6,
        batched / 1e6,
        slow / 1e6,
        fast / slow,
        batched / slow
    );

    let mut group = c.benchmark_group("lookup");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Elements(pts.len() as u64));
    group.bench_function("grid_index", |b| {
        b.iter(|| {
            pts.iter()
                .filter(|&&p| index.locate_code(black_box(p)).is_some())
                .count()
        })
    });
    group.bench_function("grid_index_batched", |b| {
        let mut out = Vec::with_capacity(pts.len());
        b.iter(|| {
            index.locate_grids(black_box(&pts), &mut out);
            out.iter().filter(|g| g.is_some()).count()
        })
    });
    group.bench_function("baseline_rtree_intersects", |b| {
        b.iter(|| pts.iter().filter(|&&p| naive.locate(black_box(p)).is_some()).count())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
