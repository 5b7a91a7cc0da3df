//! Partition speed on the fixtures: a ~10,000-resident community (Kangle, target < 50 ms) and a
//! street of nine communities (Zhongjing, target < 1 s). Loading is measured apart.
//!
//! cargo bench -p gis-core --bench partition

use criterion::{Criterion, criterion_group, criterion_main};
use gis_core::io::load_dataset;
use gis_core::partition::{PartitionOptions, partition};
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures").join(name)
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("partition");
    group.sample_size(20).measurement_time(Duration::from_secs(8));
    for name in ["kangle", "zhongjing"] {
        let dataset = load_dataset(&fixture(name)).expect("fixture").dataset;
        group.bench_function(name, |b| {
            b.iter(|| partition(black_box(&dataset), &PartitionOptions::default(), &mut |_, _| {}))
        });
        let micro = PartitionOptions {
            micro: Some(PartitionOptions::default_micro()),
            ..PartitionOptions::default()
        };
        group.bench_function(format!("{name} --micro"), |b| {
            b.iter(|| partition(black_box(&dataset), &micro, &mut |_, _| {}))
        });
        group.bench_function(format!("load {name}"), |b| {
            b.iter(|| load_dataset(&fixture(name)).expect("fixture"))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
