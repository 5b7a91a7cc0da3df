//! Grids (网格) as a partition writes them and every later stage reads them.

use geo::MultiPolygon;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GridKind {
    /// 基础网格: where people live; bound by the size rule.
    Basic,
    /// 专属网格: one institution (school, hospital, market, ...).
    Exclusive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GridLevel {
    Grid,
    /// 微网格: one or a few buildings inside a grid.
    Micro,
}

#[derive(Debug, Clone)]
pub struct Grid {
    pub code: String,
    pub community_code: String,
    pub kind: GridKind,
    pub level: GridLevel,
    /// The grid a micro-grid lies in.
    pub parent_code: Option<String>,
    /// The institution's name, for exclusive grids.
    pub name: Option<String>,
    /// One polygon; several only where the community itself is in parts.
    pub area: MultiPolygon<f64>,
    pub population: u64,
    pub households: u64,
    /// Building ids, and unit parts as `ID#UNIT`, sorted.
    pub buildings: Vec<String>,
}
