//! Shared by the tile tests: fixture data and the independent Python decoder.

#![allow(dead_code)]

use gis_core::bounds::SizeBounds;
use gis_core::partition::{PartitionOptions, partition};
use std::path::{Path, PathBuf};
use tiles::data::MapData;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn map(name: &str, micro: bool) -> (gis_core::Dataset, Vec<gis_core::grid::Grid>, MapData) {
    let d = gis_core::io::load_dataset(&root().join("fixtures").join(name))
        .expect("fixture")
        .dataset;
    let options = PartitionOptions {
        micro: micro.then(PartitionOptions::default_micro),
        ..PartitionOptions::default()
    };
    let p = partition(&d, &options, &mut |_, _| {});
    let m = MapData::new(&d, &p.grids, SizeBounds::default());
    (d, p.grids, m)
}

/// The Python with the test tools (`.ci/run` makes `out/ci-venv`), or `None` outside CI.
pub fn python() -> Option<PathBuf> {
    let p = std::env::var_os("WANGGE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("out/ci-venv/bin/python"));
    if p.exists() {
        return Some(p);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("CI=true but {} is missing: .ci/run makes it", p.display());
    }
    eprintln!(
        "SKIPPED: no Python test tools at {} (run .ci/run once to make them)",
        p.display()
    );
    None
}
