//! What import found wrong (or repaired), pinned to a file, a feature and a field.

use serde::Serialize;
use std::fmt;

/// What kind of trouble an [`InputProblem`] is; tests and machines match on this, people read the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InputProblemKind {
    MissingFile,
    Unreadable,
    InvalidJson,
    NotFeatureCollection,
    NotFeature,
    MissingField,
    WrongType,
    WrongGeometryType,
    NonFiniteCoordinate,
    CoordinateOutOfRange,
    SwappedCoordinates,
    UnclosedRing,
    TooFewPoints,
    SelfIntersection,
    InvalidPolygon,
    ZeroArea,
    /// Wider than any feature of its kind can be: a mistyped coordinate.
    ImplausibleExtent,
    DuplicateId,
    DuplicateCode,
    MalformedCode,
    NegativeValue,
    NotInteger,
    InvalidValue,
    UnitsMismatch,
    OutsideCommunities,
    OverlappingCommunities,
    OverlappingBuildings,
    Empty,
    // Repairs and notes: import goes on, the report says what it did.
    RingReoriented,
    RepeatedPointRemoved,
    PointInsideBuilding,
}

impl InputProblemKind {
    /// Repairs and notes never stop an import; everything else does.
    pub fn is_warning(self) -> bool {
        matches!(
            self,
            Self::RingReoriented | Self::RepeatedPointRemoved | Self::PointInsideBuilding
        )
    }
}

/// The feature a problem is in: its position in `features` and its id when it has one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeatureRef {
    pub index: usize,
    pub id: Option<String>,
}

/// Something wrong (or repaired) in an input file — a dataset file or a grid layer — found while
/// reading it. (HTTP problem details are `api`'s, import's source problems `import::error`'s.)
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputProblem {
    /// The file name inside the dataset folder, e.g. `buildings.geojson`.
    pub file: String,
    pub feature: Option<FeatureRef>,
    /// A JSON path inside the feature: `properties.population`, `geometry.coordinates[0][3]`.
    pub field: Option<String>,
    pub kind: InputProblemKind,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for InputProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(feature) = &self.feature {
            write!(f, ": features[{}]", feature.index)?;
            if let Some(id) = &feature.id {
                write!(f, " (id {id:?})")?;
            }
        }
        if let Some(field) = &self.field {
            write!(f, ", {field}")?;
        }
        write!(f, ": {}", self.message)
    }
}
