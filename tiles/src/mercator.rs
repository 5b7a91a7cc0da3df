//! Web Mercator (EPSG:3857) tile addressing: longitude/latitude ↦ "world" coordinates in [0, 1]²
//! (x east, y south), and the XYZ tile grid over them.

use geo::Coord;
use std::fmt;

/// Latitude beyond which Web Mercator is cut off.
pub const MAX_LAT: f64 = 85.051_128_779_806_59;
/// Deepest zoom served; beyond it clients over-zoom.
pub const MAX_ZOOM: u8 = 22;

/// World coordinates of a lon/lat point: x, y in [0, 1], y growing southwards.
pub fn world(c: Coord<f64>) -> [f64; 2] {
    let lat = c.y.clamp(-MAX_LAT, MAX_LAT).to_radians();
    let x = (c.x + 180.0) / 360.0;
    let y = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0;
    [x, y]
}

/// The lon/lat of world coordinates.
pub fn lonlat(w: [f64; 2]) -> Coord<f64> {
    let x = w[0] * 360.0 - 180.0;
    let n = std::f64::consts::PI * (1.0 - 2.0 * w[1]);
    Coord {
        x,
        y: n.sinh().atan().to_degrees(),
    }
}

/// Metres on the ground per world unit at latitude `lat` (the equator's circumference, scaled).
pub fn metres_per_world_unit(lat: f64) -> f64 {
    40_075_016.686 * lat.to_radians().cos()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileId {
    pub z: u8,
    pub x: u32,
    pub y: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TileError {
    #[error("zoom {0} is outside 0–{MAX_ZOOM}")]
    Zoom(u32),
    #[error("tile {x}/{y} does not exist at zoom {z}: x and y run from 0 to {}", (1u64 << z) - 1)]
    OutOfRange { z: u8, x: u32, y: u32 },
}

impl TileId {
    pub fn new(z: u32, x: u32, y: u32) -> Result<Self, TileError> {
        if z > u32::from(MAX_ZOOM) {
            return Err(TileError::Zoom(z));
        }
        let z = z as u8;
        let n = 1u64 << z;
        if u64::from(x) >= n || u64::from(y) >= n {
            return Err(TileError::OutOfRange { z, x, y });
        }
        Ok(Self { z, x, y })
    }

    /// Tiles per side at this zoom.
    pub fn scale(&self) -> f64 {
        (1u64 << self.z) as f64
    }

    /// The tile's box in world coordinates: [min x, min y, max x, max y].
    pub fn world_bounds(&self) -> [f64; 4] {
        let s = self.scale();
        [
            f64::from(self.x) / s,
            f64::from(self.y) / s,
            f64::from(self.x + 1) / s,
            f64::from(self.y + 1) / s,
        ]
    }

    /// World coordinates → position in the tile, 0..`extent` across it.
    pub fn to_tile(&self, w: [f64; 2], extent: f64) -> [f64; 2] {
        let s = self.scale();
        [
            (w[0] * s - f64::from(self.x)) * extent,
            (w[1] * s - f64::from(self.y)) * extent,
        ]
    }

    /// The tile holding a world point at zoom `z`.
    pub fn containing(z: u8, w: [f64; 2]) -> Self {
        let n = 1u64 << z;
        let clamp = |v: f64| ((v * n as f64).floor().max(0.0) as u64).min(n - 1) as u32;
        Self {
            z,
            x: clamp(w[0]),
            y: clamp(w[1]),
        }
    }
}

impl fmt::Display for TileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.z, self.x, self.y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_known_tile() {
        let c = Coord { x: 118.1, y: 24.5 };
        let w = world(c);
        let back = lonlat(w);
        assert!((back.x - c.x).abs() < 1e-12 && (back.y - c.y).abs() < 1e-12);
        // Xiamen at z12 is tile 3391/1760 (the slippy-map formula, computed apart).
        assert_eq!(
            TileId::containing(12, w),
            TileId {
                z: 12,
                x: 3391,
                y: 1760
            }
        );
        assert!(TileId::new(23, 0, 0).is_err());
        assert!(TileId::new(2, 4, 0).is_err());
        assert!(TileId::new(2, 3, 3).is_ok());
    }
}
