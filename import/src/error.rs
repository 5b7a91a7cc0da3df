//! What can stop an import or an export. Every variant names the file, and where it can the
//! feature (by index, and id when it has one) and the field, so a planner can find it.

use std::fmt;
use std::path::PathBuf;

/// One thing wrong inside a source: file, feature, field and what was expected.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceProblem {
    pub file: PathBuf,
    /// The feature's position in its source (record number in a .dbf, row in a table or CSV,
    /// counting from 0 after the header) and its id when it has one.
    pub feature: Option<(usize, Option<String>)>,
    /// The source's own field name (e.g. `RKS`), with the dataset property it was mapped to.
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for SourceProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some((index, id)) = &self.feature {
            write!(f, ": feature {index}")?;
            if let Some(id) = id {
                write!(f, " (id {id:?})")?;
            }
        }
        if let Some(field) = &self.field {
            write!(f, ", field {field}")?;
        }
        write!(f, ": {}", self.message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{}: no such file", path.display())]
    MissingFile { path: PathBuf },
    #[error("{}: a shapefile needs its attribute table {} beside it, and it is missing", path.display(), dbf.display())]
    MissingDbf { path: PathBuf, dbf: PathBuf },
    #[error("{}: cannot read: {reason}", path.display())]
    Unreadable { path: PathBuf, reason: String },
    #[error("{}: not a format import reads (expected .osm.pbf, .shp, .gpkg, .csv, .tsv, .geojson or .json)", path.display())]
    UnknownFormat { path: PathBuf },
    #[error("{}: unknown coordinate system {given}: {reason}", path.as_ref().map_or("--crs".to_string(), |p| p.display().to_string()))]
    UnknownCrs { path: Option<PathBuf>, given: String, reason: String },
    #[error("{}: {declared_by} says {declared} but --crs says {given}; drop --crs to read it as {declared}, or give this source alone as {}@{given} to override what it says", file.display(), file.display())]
    CrsConflict { file: PathBuf, declared_by: String, declared: String, given: String },
    #[error("{}: field {field:?} (given for {target}) does not exist; its fields are {}", file.display(), available.join(", "))]
    MissingField { file: PathBuf, field: String, target: String, available: Vec<String> },
    #[error("{}: unknown text encoding {given:?}; try utf-8 or gbk", file.display())]
    UnknownEncoding { file: PathBuf, given: String },
    #[error("{}", list(problems))]
    Invalid { problems: Vec<SourceProblem> },
    #[error("{}: {message}", file.display())]
    Unusable { file: PathBuf, message: String },
    #[error("bad setting: {0}")]
    Setting(String),
    #[error("{}: already exists; give --force to replace it", path.display())]
    TargetExists { path: PathBuf },
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    /// What import wrote did not pass the strict dataset reader; nothing was kept.
    #[error("the imported dataset did not pass validation, so nothing was written:\n{message}")]
    Rejected { message: String, error: gis_core::io::ImportError },
}

/// How many problems `Display` lists before summarising the rest.
const SHOWN: usize = 50;

fn list(problems: &[SourceProblem]) -> String {
    let n = problems.len();
    let mut s = format!("{n} problem{} in the sources", if n == 1 { "" } else { "s" });
    for p in problems.iter().take(SHOWN) {
        s.push_str(&format!("\n  - {p}"));
    }
    if n > SHOWN {
        s.push_str(&format!("\n  ... and {} more", n - SHOWN));
    }
    s
}

impl ImportError {
    pub fn unreadable(path: impl Into<PathBuf>, reason: impl fmt::Display) -> Self {
        Self::Unreadable { path: path.into(), reason: reason.to_string() }
    }
}
