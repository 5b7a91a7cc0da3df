//! Re-partitioning Zhongjing (9 communities, 121k residents) from its published layer, against
//! partitioning it from scratch in the same run (the baseline): unchanged data, and one grid
//! raised 15% over the maximum in each community.
//!
//! cargo bench -p gis-core --bench repartition

use criterion::{Criterion, criterion_group, criterion_main};
use gis_core::grid::GridKind;
use gis_core::io::grids::{GridLayer, LayerMeta};
use gis_core::io::load_dataset;
use gis_core::partition::{PartitionOptions, RepartitionOptions, partition, repartition};
use std::collections::BTreeSet;
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

fn bench(c: &mut Criterion) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/zhongjing");
    let dataset = load_dataset(&dir).expect("fixture").dataset;
    let p = partition(&dataset, &PartitionOptions::default(), &mut |_, _| {});
    let layer = GridLayer {
        grids: p.grids,
        meta: LayerMeta {
            bounds: Some(Default::default()),
            ..LayerMeta::default()
        },
    };
    // The biggest basic grid of every community grows 15%.
    let mut grown = dataset.clone();
    let mut ids: BTreeSet<String> = BTreeSet::new();
    for c in &dataset.communities {
        if let Some(g) = layer
            .grids
            .iter()
            .filter(|g| g.community_code == c.code.as_str() && g.kind == GridKind::Basic)
            .max_by_key(|g| g.population)
        {
            ids.extend(g.buildings.iter().cloned());
        }
    }
    for b in grown.buildings.iter_mut().filter(|b| ids.contains(&b.id)) {
        b.population += b.population * 15 / 100 + 1;
        b.units.clear();
    }
    let options = RepartitionOptions::default();
    let mut group = c.benchmark_group("repartition zhongjing");
    group.sample_size(20).measurement_time(Duration::from_secs(8));
    group.bench_function("baseline: partition from scratch", |b| {
        b.iter(|| partition(black_box(&dataset), &PartitionOptions::default(), &mut |_, _| {}))
    });
    group.bench_function("unchanged data", |b| {
        b.iter(|| repartition(black_box(&dataset), &layer, &options).unwrap())
    });
    group.bench_function("one grid over the maximum per community", |b| {
        b.iter(|| repartition(black_box(&grown), &layer, &options).unwrap())
    });
    group.finish();
    let r = repartition(&grown, &layer, &options).unwrap();
    println!(
        "one grid over per community: {} kept, {} changed, {} created, {} retired; {:.1}% of residents keep grid and code; still out of bounds: {}",
        r.report.kept.len(),
        r.report.changed.len(),
        r.report.created.len(),
        r.report.retired.len(),
        100.0 * r.report.residents.kept_share,
        r.report.out_of_bounds.len()
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
