//! China's three everyday coordinate systems: WGS-84 (GPS, survey data in CGCS2000 is treated as
//! equal), GCJ-02 (AMap, Tencent; the state-mandated offset) and BD-09 (Baidu, offset again).
//!
//! The forward transforms are the published formulas; the inverses are solved by fixed-point
//! iteration to under a millimetre, rather than the usual one-step approximation that is metres off.
//! Outside China GCJ-02 equals WGS-84, as the providers do it.

use geo::Coord;
use std::f64::consts::PI;
use std::str::FromStr;

/// A coordinate system a point can be given in; every other is converted to and from WGS-84.
///
/// # Examples
///
/// ```
/// use geo::Coord;
/// use gis_core::crs::Crs;
///
/// let crs: Crs = "GCJ-02".parse()?;
/// assert_eq!(crs, Crs::Gcj02);
/// let gps = Coord { x: 118.1106858, y: 24.505572 }; // Xiamen, WGS-84
/// let on_amap = crs.from_wgs84(gps);
/// // In China the offset is hundreds of metres (here about 0.005° east)...
/// assert!((on_amap.x - gps.x).abs() > 0.003);
/// // ...and back to WGS-84 to well under a millimetre.
/// let back = crs.to_wgs84(on_amap);
/// assert!((back.x - gps.x).abs() < 1e-8 && (back.y - gps.y).abs() < 1e-8);
/// assert!("mercator".parse::<Crs>().is_err());
/// # Ok::<(), String>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crs {
    /// WGS-84 / CGCS2000 longitude-latitude: what dataset folders hold.
    Wgs84,
    /// GCJ-02 (火星坐标), used by AMap and Tencent.
    Gcj02,
    /// BD-09, used by Baidu.
    Bd09,
}

impl FromStr for Crs {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
            "wgs84" | "cgcs2000" | "epsg4326" | "epsg4490" => Ok(Crs::Wgs84),
            "gcj02" => Ok(Crs::Gcj02),
            "bd09" => Ok(Crs::Bd09),
            _ => Err(format!(
                "unknown coordinate system {s:?}; expected wgs84, cgcs2000, gcj02 or bd09"
            )),
        }
    }
}

impl Crs {
    pub fn to_wgs84(self, c: Coord<f64>) -> Coord<f64> {
        match self {
            Crs::Wgs84 => c,
            Crs::Gcj02 => gcj02_to_wgs84(c),
            Crs::Bd09 => gcj02_to_wgs84(bd09_to_gcj02(c)),
        }
    }

    pub fn from_wgs84(self, c: Coord<f64>) -> Coord<f64> {
        match self {
            Crs::Wgs84 => c,
            Crs::Gcj02 => wgs84_to_gcj02(c),
            Crs::Bd09 => gcj02_to_bd09(wgs84_to_gcj02(c)),
        }
    }
}

// Krasovsky 1940 ellipsoid, as the GCJ-02 formulas use it.
const A: f64 = 6_378_245.0;
const EE: f64 = 0.006_693_421_622_965_943;
const X_PI: f64 = PI * 3000.0 / 180.0;

fn out_of_china(c: Coord<f64>) -> bool {
    !(72.004..=137.8347).contains(&c.x) || !(0.8293..=55.8271).contains(&c.y)
}

fn transform_lat(x: f64, y: f64) -> f64 {
    let mut r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    r
}

fn transform_lon(x: f64, y: f64) -> f64 {
    let mut r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    r
}

pub fn wgs84_to_gcj02(c: Coord<f64>) -> Coord<f64> {
    if out_of_china(c) {
        return c;
    }
    let d_lat = transform_lat(c.x - 105.0, c.y - 35.0);
    let d_lon = transform_lon(c.x - 105.0, c.y - 35.0);
    let rad_lat = c.y / 180.0 * PI;
    let magic = 1.0 - EE * rad_lat.sin().powi(2);
    let sqrt_magic = magic.sqrt();
    let d_lat = d_lat * 180.0 / ((A * (1.0 - EE)) / (magic * sqrt_magic) * PI);
    let d_lon = d_lon * 180.0 / (A / sqrt_magic * rad_lat.cos() * PI);
    Coord {
        x: c.x + d_lon,
        y: c.y + d_lat,
    }
}

pub fn gcj02_to_bd09(c: Coord<f64>) -> Coord<f64> {
    let z = (c.x * c.x + c.y * c.y).sqrt() + 0.00002 * (c.y * X_PI).sin();
    let theta = c.y.atan2(c.x) + 0.000003 * (c.x * X_PI).cos();
    Coord {
        x: z * theta.cos() + 0.0065,
        y: z * theta.sin() + 0.006,
    }
}

pub fn gcj02_to_wgs84(c: Coord<f64>) -> Coord<f64> {
    invert(c, wgs84_to_gcj02)
}

pub fn bd09_to_gcj02(c: Coord<f64>) -> Coord<f64> {
    invert(c, gcj02_to_bd09)
}

/// Solves forward(x) = target; the offsets are smooth and small, so x ← x − (forward(x) − target)
/// converges in a few steps.
fn invert(target: Coord<f64>, forward: fn(Coord<f64>) -> Coord<f64>) -> Coord<f64> {
    let mut x = target;
    for _ in 0..30 {
        let f = forward(x);
        let (dx, dy) = (f.x - target.x, f.y - target.y);
        x = Coord {
            x: x.x - dx,
            y: x.y - dy,
        };
        if dx.abs() < 1e-11 && dy.abs() < 1e-11 {
            break;
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Distance, Geodesic, Point};

    fn metres(a: Coord<f64>, b: Coord<f64>) -> f64 {
        Geodesic.distance(Point(a), Point(b))
    }

    // The vector in shared/research/tiles-and-apis.md: WGS (39.911954, 116.377817) →
    // GCJ (39.91334545536069, 116.38404722455657).
    const WGS: Coord<f64> = Coord {
        x: 116.377817,
        y: 39.911954,
    };
    const GCJ: Coord<f64> = Coord {
        x: 116.38404722455657,
        y: 39.91334545536069,
    };

    #[test]
    fn wgs84_to_gcj02_matches_the_published_vector() {
        assert!(metres(wgs84_to_gcj02(WGS), GCJ) < 0.01);
    }

    #[test]
    fn gcj02_to_wgs84_inverts_to_a_millimetre() {
        assert!(metres(gcj02_to_wgs84(GCJ), WGS) < 0.001);
        assert!(metres(Crs::Gcj02.to_wgs84(GCJ), WGS) < 0.001);
    }

    #[test]
    fn bd09_matches_published_vectors() {
        // coordtransform's examples (also hutool's tests): GCJ (116.404, 39.915) ↔ BD-09.
        let gcj = Coord { x: 116.404, y: 39.915 };
        let bd = gcj02_to_bd09(gcj);
        assert!(
            metres(
                bd,
                Coord {
                    x: 116.41036949371029,
                    y: 39.92133699351021
                }
            ) < 0.01
        );
        assert!(metres(bd09_to_gcj02(bd), gcj) < 0.001);
        // Beijing railway station: GCJ (116.42703, 39.90245) ↔ BD (116.43351, 39.90851), 5 decimals.
        let station = gcj02_to_bd09(Coord {
            x: 116.42703,
            y: 39.90245,
        });
        assert!(
            metres(
                station,
                Coord {
                    x: 116.43351,
                    y: 39.90851
                }
            ) < 1.0
        );
    }

    #[test]
    fn bd09_round_trips_through_wgs84() {
        let bd = Crs::Bd09.from_wgs84(WGS);
        assert!(metres(Crs::Bd09.to_wgs84(bd), WGS) < 0.001);
        // The two offsets together are several hundred metres in Beijing.
        assert!(metres(bd, WGS) > 500.0);
    }

    #[test]
    fn no_offset_outside_china() {
        let helsinki = Coord { x: 24.94, y: 60.17 };
        assert_eq!(wgs84_to_gcj02(helsinki), helsinki);
        assert_eq!(Crs::Gcj02.to_wgs84(helsinki), helsinki);
    }

    #[test]
    fn names_parse() {
        assert_eq!("GCJ-02".parse::<Crs>(), Ok(Crs::Gcj02));
        assert_eq!("cgcs2000".parse::<Crs>(), Ok(Crs::Wgs84));
        assert!("mercator".parse::<Crs>().is_err());
    }
}
