//! What can stop an import or an export. Every variant names the file, and where it can the
//! feature (by index, and id when it has one) and the field, so a planner can find it.
//!
//! One mistake often repeats in every feature (a whole file in the wrong coordinate system, a
//! field mapped to the wrong column): problems are shown grouped by kind, a count and the first
//! [`EXAMPLES`] of each; [`ImportError::problems_json`] gives every one.

use serde::Serialize;
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

/// What kind of trouble a [`SourceProblem`] is: problems are grouped by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// A value the property cannot take: text where a number belongs, a negative count.
    BadValue,
    /// A required property left empty.
    Empty,
    /// No geometry, or geometry of a type the role cannot use.
    WrongGeometry,
    /// Geometry the reader cannot decode.
    UnreadableGeometry,
    /// Coordinates that do not convert to WGS-84.
    BadCoordinates,
    /// Text that is not valid in its encoding.
    Encoding,
    /// A record or row the format's reader cannot read.
    UnreadableRecord,
}

impl ProblemKind {
    /// For the group's heading.
    pub fn describe(self) -> &'static str {
        match self {
            Self::BadValue => "values the property cannot take",
            Self::Empty => "required values left empty",
            Self::WrongGeometry => "missing geometry or geometry of the wrong type",
            Self::UnreadableGeometry => "geometry that cannot be read",
            Self::BadCoordinates => "coordinates that do not convert to WGS-84",
            Self::Encoding => "text not valid in its encoding",
            Self::UnreadableRecord => "records that cannot be read",
        }
    }
}

/// One thing wrong inside a source: file, feature, field and what was expected.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceProblem {
    pub file: PathBuf,
    /// The feature's position in its source (record number in a .dbf, row in a table or CSV,
    /// counting from 0 after the header) and its id when it has one.
    pub feature: Option<(usize, Option<String>)>,
    /// The source's own field name (e.g. `RKS`), with the dataset property it was mapped to.
    pub field: Option<String>,
    pub kind: ProblemKind,
    pub message: String,
}

impl SourceProblem {
    /// A problem in feature `index` of `file`.
    pub fn at(
        file: impl Into<PathBuf>,
        index: usize,
        field: Option<&str>,
        kind: ProblemKind,
        message: impl Into<String>,
    ) -> Self {
        Self {
            file: file.into(),
            feature: Some((index, None)),
            field: field.map(str::to_string),
            kind,
            message: message.into(),
        }
    }

    fn to_json(&self) -> Json {
        json!({
            "file": self.file.display().to_string(),
            "feature": self.feature.as_ref().map(|(index, id)| json!({"index": index, "id": id})),
            "field": self.field,
            "kind": self.kind,
            "message": self.message,
        })
    }
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
    #[error("{}: not a format import reads (expected .osm.pbf, .shp, .gpkg, .csv, .tsv, .geojson, .json or a dataset folder)", path.display())]
    UnknownFormat { path: PathBuf },
    #[error("{}: unknown coordinate system {given}: {reason}", path.as_ref().map_or("--crs".to_string(), |p| p.display().to_string()))]
    UnknownCrs {
        path: Option<PathBuf>,
        given: String,
        reason: String,
    },
    #[error("{}: {declared_by} says {declared} but --crs says {given}; drop --crs to read it as {declared}, or give this source alone as {}@{given} to override what it says", file.display(), file.display())]
    CrsConflict {
        file: PathBuf,
        declared_by: String,
        declared: String,
        given: String,
    },
    #[error("{}: field {field:?} (given for {target}) does not exist; its fields are {}", file.display(), available.join(", "))]
    MissingField {
        file: PathBuf,
        field: String,
        target: String,
        available: Vec<String>,
    },
    #[error("{}: unknown text encoding {given:?}; try utf-8 or gbk", file.display())]
    UnknownEncoding { file: PathBuf, given: String },
    #[error("{}", grouped(problems))]
    Invalid { problems: Vec<SourceProblem> },
    #[error("{}: {message}", file.display())]
    Unusable { file: PathBuf, message: String },
    #[error("bad setting: {0}")]
    Setting(String),
    #[error("{}: already exists; give --force to replace it", path.display())]
    TargetExists { path: PathBuf },
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    /// What import wrote did not pass the strict dataset reader; nothing was kept. `sources[i]`
    /// is the source file and feature behind `error.problems[i]`, where known.
    #[error(
        "the imported dataset did not pass validation, so nothing was written:\n{}",
        rejected(error, sources)
    )]
    Rejected {
        error: gis_core::io::ImportError,
        sources: Vec<Option<(String, usize)>>,
    },
}

/// How many problems of one kind are shown before "… and N more".
pub const EXAMPLES: usize = 3;

/// Lines grouped by key: a group of one is its line; a larger group is a heading with its count
/// and the first [`EXAMPLES`] lines.
fn group<K: Ord>(items: impl IntoIterator<Item = (K, String, String)>) -> String {
    // key → (heading, lines), in key order (file, field, kind): the same every run
    let mut groups: BTreeMap<K, (String, Vec<String>)> = BTreeMap::new();
    for (key, heading, line) in items {
        groups.entry(key).or_insert_with(|| (heading, Vec::new())).1.push(line);
    }
    let mut s = String::new();
    for (heading, lines) in groups.values() {
        if lines.len() == 1 {
            s.push_str(&format!("\n  - {}", lines[0]));
            continue;
        }
        s.push_str(&format!("\n  - {} × {heading}, e.g.", lines.len()));
        for l in lines.iter().take(EXAMPLES) {
            s.push_str(&format!("\n      {l}"));
        }
        if lines.len() > EXAMPLES {
            s.push_str(&format!(
                "\n      … and {} more (all with --json)",
                lines.len() - EXAMPLES
            ));
        }
    }
    s
}

fn grouped(problems: &[SourceProblem]) -> String {
    let n = problems.len();
    let mut s = format!("{n} problem{} in the sources", if n == 1 { "" } else { "s" });
    s.push_str(&group(problems.iter().map(|p| {
        let key = (p.file.clone(), p.field.clone(), p.kind);
        let field = p.field.as_ref().map(|f| format!(", field {f}")).unwrap_or_default();
        (
            key,
            format!("{}{field}: {}", p.file.display(), p.kind.describe()),
            p.to_string(),
        )
    })));
    s
}

fn rejected(error: &gis_core::io::ImportError, sources: &[Option<(String, usize)>]) -> String {
    let lines = error.problems.iter().enumerate().map(|(i, p)| {
        let from = sources
            .get(i)
            .cloned()
            .flatten()
            .map(|(file, index)| format!(" [from {file} feature {index}]"))
            .unwrap_or_default();
        let what = serde_json::to_value(p.kind)
            .ok()
            .and_then(|k| k.as_str().map(|k| k.replace('_', " ")))
            .unwrap_or_default();
        (
            (p.file.clone(), p.kind),
            format!("{}: {what}", p.file),
            format!("{p}{from}"),
        )
    });
    group(lines).trim_start_matches('\n').to_string()
}

impl ImportError {
    pub fn unreadable(path: impl Into<PathBuf>, reason: impl fmt::Display) -> Self {
        Self::Unreadable {
            path: path.into(),
            reason: reason.to_string(),
        }
    }

    /// Every problem, for `--json`: the sources' own, or the strict reader's with the source
    /// feature behind each; any other error as one problem.
    pub fn problems_json(&self) -> Json {
        match self {
            Self::Invalid { problems } => Json::Array(problems.iter().map(SourceProblem::to_json).collect()),
            Self::Rejected { error, sources } => Json::Array(
                error
                    .problems
                    .iter()
                    .enumerate()
                    .map(|(i, p)| {
                        let mut v = serde_json::to_value(p).unwrap_or(Json::Null);
                        if let Some(Some((file, index))) = sources.get(i) {
                            v["source"] = json!({"file": file, "feature": index});
                        }
                        v
                    })
                    .collect(),
            ),
            other => json!([{"message": other.to_string()}]),
        }
    }
}
