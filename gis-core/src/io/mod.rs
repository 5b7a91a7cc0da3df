//! Loading a dataset folder exactly as `shared/dataset-format.md` specifies.
//!
//! Import is strict and says everything at once: it reads every file, collects every problem
//! (each naming the file, the feature by index and id, the field, and what was expected) and
//! rejects the dataset if any remain. The only repairs are unambiguous ones (ring orientation,
//! repeated positions); they are listed in the [`ImportReport`]. A rejection `wangge import`
//! would repair (a ring touching itself, a building ring with no area, overlapping buildings)
//! names the command that does.

mod features;
pub(crate) mod geometry;
pub mod grids;
mod json;
mod problem;
mod stream;
pub(crate) mod text;

pub use features::{MAX_BUILDING_SPAN_M, MAX_COMMUNITY_SPAN_M, MAX_EXCLUSIVE_SPAN_M, OVERLAP_TOLERANCE_M2, shell_word};
pub use problem::{FeatureRef, InputProblem, InputProblemKind};

use crate::model::Dataset;
use serde::Serialize;
use std::fmt;
use std::path::{Path, PathBuf};

/// A dataset that passed import, and what import did to it.
#[derive(Debug)]
pub struct Loaded {
    pub dataset: Dataset,
    pub report: ImportReport,
}

#[derive(Debug, Default, Serialize)]
pub struct ImportReport {
    /// Features read per file, in reading order; absent optional files are not listed.
    pub files: Vec<(String, usize)>,
    /// Repairs and notes: nothing here stopped the import.
    pub warnings: Vec<InputProblem>,
}

/// The dataset was rejected; `problems` lists every reason found, in file order.
#[derive(Debug, thiserror::Error)]
pub struct ImportError {
    pub dir: PathBuf,
    pub problems: Vec<InputProblem>,
}

impl ImportError {
    /// How many problems `Display` lists before summarising the rest.
    pub const SHOWN: usize = 50;
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "dataset {} rejected: {n} problem{}",
            self.dir.display(),
            if n == 1 { "" } else { "s" }
        )?;
        for p in self.problems.iter().take(Self::SHOWN) {
            write!(f, "\n  - {p}")?;
        }
        if n > Self::SHOWN {
            write!(f, "\n  ... and {} more", n - Self::SHOWN)?;
        }
        Ok(())
    }
}

/// The files a dataset folder may hold, by name (dataset-format.md).
pub const DATASET_FILES: &[&str] = &[
    "boundary.geojson",
    "buildings.geojson",
    "population.geojson",
    "resources.geojson",
    "roads.geojson",
    "exclusive.geojson",
    "staff.json",
    "water.geojson",
    "green.geojson",
    "walk.geojson",
    "access.json",
];

/// Loads and checks a dataset held in memory: file name → text, as a folder would hold them
/// (a store keeps datasets this way). `name` stands for the folder in messages.
pub fn load_dataset_files(
    name: &Path,
    files: std::collections::BTreeMap<String, String>,
) -> Result<Loaded, ImportError> {
    load(features::Reader::from_files(name, files), name)
}

/// [`load_dataset_files`] by the whole-file tree reader alone (every file parsed into one
/// `serde_json::Value` first), which the streaming reader falls back to on unusual files: kept
/// as the reference the tests compare the streaming reader with, and for benchmarks.
#[doc(hidden)]
pub fn load_dataset_files_as_trees(
    name: &Path,
    files: std::collections::BTreeMap<String, String>,
) -> Result<Loaded, ImportError> {
    let mut reader = features::Reader::from_files(name, files);
    reader.trees_only();
    load(reader, name)
}

/// Loads and checks the dataset folder `dir`.
pub fn load_dataset(dir: &Path) -> Result<Loaded, ImportError> {
    load(features::Reader::new(dir), dir)
}

/// As [`load_dataset`], handing the communities to `on_communities` as soon as they are read,
/// while the buildings are still to come; not called when the folder cannot be read at all.
pub fn load_dataset_with(
    dir: &Path,
    on_communities: &mut dyn FnMut(&[crate::model::Community]),
) -> Result<Loaded, ImportError> {
    load_with(features::Reader::new(dir), dir, on_communities)
}

/// Reads every file of `reader` and checks them: the dataset, or every problem found.
fn load(reader: features::Reader, dir: &Path) -> Result<Loaded, ImportError> {
    load_with(reader, dir, &mut |_| {})
}

fn load_with(
    mut reader: features::Reader,
    dir: &Path,
    on_communities: &mut dyn FnMut(&[crate::model::Community]),
) -> Result<Loaded, ImportError> {
    let dataset = reader.read_all_with(on_communities);
    let (problems, report) = reader.finish();
    if problems.is_empty() {
        Ok(Loaded { dataset, report })
    } else {
        Err(ImportError {
            dir: dir.to_path_buf(),
            problems,
        })
    }
}
