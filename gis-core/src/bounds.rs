//! Grid size bounds: how many residents (or households) a basic grid may hold. Local rules
//! differ, so the bounds are a setting; the default is the common 1,500–2,000 residents.

use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SizeBasis {
    Residents,
    Households,
}

impl SizeBasis {
    /// The bounds offices use when sizing by this basis: "按照1500人至2000人划分一个网格", or
    /// about 200–300 households where grids are sized by households.
    pub fn default_bounds(self) -> (u32, u32) {
        match self {
            SizeBasis::Residents => (1500, 2000),
            SizeBasis::Households => (200, 300),
        }
    }

    pub fn unit(self) -> &'static str {
        match self {
            SizeBasis::Residents => "residents",
            SizeBasis::Households => "households",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SizeBounds {
    pub min: u32,
    pub max: u32,
    pub basis: SizeBasis,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BoundsError {
    #[error("the minimum grid size must be at least 1")]
    ZeroMin,
    #[error("the minimum grid size {min} is above the maximum {max}")]
    MinAboveMax { min: u32, max: u32 },
}

impl Default for SizeBounds {
    fn default() -> Self {
        Self::for_basis(SizeBasis::Residents)
    }
}

impl SizeBounds {
    pub fn new(min: u32, max: u32, basis: SizeBasis) -> Result<Self, BoundsError> {
        if min == 0 {
            return Err(BoundsError::ZeroMin);
        }
        if min > max {
            return Err(BoundsError::MinAboveMax { min, max });
        }
        Ok(Self { min, max, basis })
    }

    pub fn for_basis(basis: SizeBasis) -> Self {
        let (min, max) = basis.default_bounds();
        Self { min, max, basis }
    }

    /// How many grids of size in [min, max] can hold `size`: [ceil(size/max), floor(size/min)].
    /// Whether a grid of this size is within the bounds.
    pub fn contains(&self, size: u64) -> bool {
        (u64::from(self.min)..=u64::from(self.max)).contains(&size)
    }

    pub fn grid_counts(&self, size: u64) -> GridCounts {
        let (min, max) = (u64::from(self.min), u64::from(self.max));
        if size == 0 {
            return GridCounts::Empty;
        }
        if size < min {
            return GridCounts::BelowMin;
        }
        let (low, high) = (size.div_ceil(max), size / min);
        if low <= high {
            GridCounts::Feasible { low, high }
        } else {
            GridCounts::NoCountFits { low, high }
        }
    }
}

impl fmt::Display for SizeBounds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}–{} {}", self.min, self.max, self.basis.unit())
    }
}

/// The feasible number of basic grids for a community.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum GridCounts {
    Feasible {
        low: u64,
        high: u64,
    },
    /// Nobody to put in a grid.
    Empty,
    /// Fewer than the minimum in all: one undersized grid is the best there is.
    BelowMin,
    /// Between two multiples: e.g. 2,100 with bounds 1,500–2,000 needs 2 grids but fills only 1.
    NoCountFits {
        low: u64,
        high: u64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kangle_admits_five_or_six_grids() {
        assert_eq!(
            SizeBounds::default().grid_counts(9241),
            GridCounts::Feasible { low: 5, high: 6 }
        );
    }

    #[test]
    fn infeasible_sizes_say_why() {
        let b = SizeBounds::default();
        assert_eq!(b.grid_counts(0), GridCounts::Empty);
        assert_eq!(b.grid_counts(1200), GridCounts::BelowMin);
        assert_eq!(b.grid_counts(2100), GridCounts::NoCountFits { low: 2, high: 1 });
        assert_eq!(b.grid_counts(3000), GridCounts::Feasible { low: 2, high: 2 });
    }

    #[test]
    fn bounds_are_checked() {
        assert_eq!(SizeBounds::new(0, 10, SizeBasis::Residents), Err(BoundsError::ZeroMin));
        assert!(SizeBounds::new(300, 200, SizeBasis::Households).is_err());
    }
}
