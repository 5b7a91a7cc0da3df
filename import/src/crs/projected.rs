//! A projected system (or a geographic one on another datum) through proj4rs, and how its datum
//! reaches WGS-84.

use super::SourceCrs;
use geo::Coord;
use proj4rs::proj::Proj;
use std::fmt;

/// A proj4rs system and the way to WGS-84 longitude/latitude.
#[derive(Clone)]
pub struct Projected {
    /// What it is called, e.g. "CGCS2000 / 3-degree Gauss-Kruger zone 39", "WGS 84 / UTM zone 50N".
    pub name: String,
    pub epsg: Option<u16>,
    /// The proj4 definition it was made from.
    pub proj4: String,
    pub central_meridian: f64,
    pub false_easting: f64,
    /// How the datum reaches WGS-84, for the report.
    pub datum: String,
    /// Transverse Mercator (UTM, Gauss-Krüger): eastings carry zone numbers, which are checked.
    pub(super) transverse_mercator: bool,
    /// Longitude/latitude in degrees on a datum shifted to WGS-84 (e.g. EPSG:4277).
    pub(super) latlong: bool,
    source: Proj,
    wgs84: Proj,
}

/// The name kept for the CGCS2000 Gauss-Krüger systems this module began with.
pub type GaussKruger = Projected;

impl fmt::Debug for Projected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Projected")
            .field("name", &self.name)
            .field("epsg", &self.epsg)
            .field("proj4", &self.proj4)
            .finish()
    }
}

/// A proj4 definition as `key[=value]` pairs.
pub(super) struct Proj4<'a>(pub(super) Vec<(&'a str, Option<&'a str>)>);

impl<'a> Proj4<'a> {
    pub(super) fn parse(s: &'a str) -> Self {
        Proj4(
            s.split_whitespace()
                .map(|t| {
                    let t = t.trim_start_matches('+');
                    match t.split_once('=') {
                        Some((k, v)) => (k, Some(v)),
                        None => (t, None),
                    }
                })
                .collect(),
        )
    }
    pub(super) fn get(&self, key: &str) -> Option<&'a str> {
        self.0.iter().find(|(k, _)| *k == key).and_then(|(_, v)| *v)
    }
    pub(super) fn number(&self, key: &str) -> Option<f64> {
        self.get(key).and_then(|v| v.parse().ok())
    }
    /// The ellipsoid's own parameters, to build a geographic system on the same ellipsoid.
    fn ellipsoid(&self) -> String {
        self.0
            .iter()
            .filter(|(k, _)| matches!(*k, "ellps" | "a" | "b" | "rf" | "f" | "R" | "es" | "e"))
            .map(|(k, v)| v.map_or(format!("+{k}"), |v| format!("+{k}={v}")))
            .collect::<Vec<_>>()
            .join(" ")
    }
    /// GRS80 or WGS-84's ellipsoid (they differ by 0.1 mm in the semi-minor axis).
    fn wgs84_ellipsoid(&self) -> bool {
        match self.get("ellps") {
            Some(e) => e.eq_ignore_ascii_case("GRS80") || e.eq_ignore_ascii_case("WGS84"),
            None => {
                self.number("a") == Some(6_378_137.0)
                    && (self
                        .number("rf")
                        .is_some_and(|rf| (rf - 298.257_222_101).abs() < 1e-6 || (rf - 298.257_223_563).abs() < 1e-6)
                        || self.number("b").is_some_and(|b| (b - 6_356_752.314).abs() < 0.01))
            }
        }
    }
}

/// The datums whose shift to CGCS2000 is held by bureaus, not published: refused by name.
pub(super) fn old_chinese_datum(text: &str) -> bool {
    let key = text.to_ascii_lowercase().replace([' ', '-', '_', '\''], "");
    key.contains("beijing1954")
        || key.contains("xian1980")
        || key.contains("newbeijing")
        || key.contains("beijing54")
        || key.contains("xian80")
}

pub(super) fn old_datum_refusal(datum: &str) -> String {
    format!(
        "datum {datum:?} (Beijing 1954 / Xi'an 1980): its shift to CGCS2000 is not published as parameters (each bureau holds its own seven-parameter transformation), so import will not guess; convert it with your bureau's parameters first"
    )
}

/// How a definition's datum reaches WGS-84: the geographic system to transform to, and what to
/// say about it.
pub(super) fn datum_target(p: &Proj4) -> Result<(String, String), String> {
    const WGS84: &str = "+proj=longlat +datum=WGS84 +no_defs";
    if let Some(grids) = p.get("nadgrids") {
        return if grids == "@null" {
            Ok((WGS84.into(), "WGS-84".into()))
        } else {
            Err(format!(
                "its datum shift needs the grid file {grids}, which import does not carry; convert it to EPSG:4326 first (ogr2ogr -t_srs EPSG:4326)"
            ))
        };
    }
    if let Some(t) = p.get("towgs84") {
        let zero = t.split(',').all(|v| v.trim().parse::<f64>().is_ok_and(|v| v == 0.0));
        let how = if zero {
            "taken as WGS-84 (no shift)".to_string()
        } else {
            format!("shifted to WGS-84 by its published parameters ({t})")
        };
        return Ok((WGS84.into(), how));
    }
    if let Some(d) = p.get("datum") {
        if d.eq_ignore_ascii_case("NAD27") {
            return Err("NAD27 needs the NADCON grids, which import does not carry; convert it to EPSG:4326 first (ogr2ogr -t_srs EPSG:4326)".into());
        }
        let how = if d.eq_ignore_ascii_case("WGS84") {
            "WGS-84".to_string()
        } else {
            format!("datum {d}, shifted to WGS-84 by PROJ's parameters")
        };
        return Ok((WGS84.into(), how));
    }
    if p.wgs84_ellipsoid() {
        // CGCS2000 and its kind: no shift published because none is needed at a metre.
        return Ok((
            format!("+proj=longlat {} +no_defs", p.ellipsoid()),
            "taken as WGS-84 (same ellipsoid, within about a metre)".into(),
        ));
    }
    Err(
        "its datum has no published shift to WGS-84 (no TOWGS84 parameters); convert it to EPSG:4326 or CGCS2000 first"
            .into(),
    )
}

/// The first quoted name in a WKT text.
pub(super) fn wkt_name(wkt: &str) -> String {
    wkt.split('"').nth(1).unwrap_or_default().to_string()
}

impl Projected {
    /// A system from a proj4 definition; fails when proj4rs cannot express it or its datum cannot
    /// reach WGS-84.
    pub fn new(name: String, epsg: Option<u16>, proj4: &str) -> Result<Self, String> {
        let p = Proj4::parse(proj4);
        let kind = p.get("proj").unwrap_or_default();
        if kind == "geocent" {
            return Err(format!(
                "{name:?} is geocentric (X, Y, Z); import reads longitude/latitude and projected grids"
            ));
        }
        let (target, datum) = datum_target(&p)?;
        let source =
            Proj::from_proj_string(proj4).map_err(|e| format!("proj4rs cannot express {name:?} ({proj4}): {e}"))?;
        let wgs84 = Proj::from_proj_string(&target).map_err(|e| format!("cannot set up the geographic system: {e}"))?;
        let transverse_mercator = matches!(kind, "tmerc" | "etmerc" | "utm");
        let latlong = matches!(kind, "longlat" | "latlong" | "lonlat" | "latlon");
        let (central_meridian, false_easting) = match (kind, p.number("zone")) {
            ("utm", Some(zone)) => (zone * 6.0 - 183.0, 500_000.0),
            _ => (p.number("lon_0").unwrap_or(0.0), p.number("x_0").unwrap_or(0.0)),
        };
        let out = Self {
            name,
            epsg,
            proj4: proj4.to_string(),
            central_meridian,
            false_easting,
            datum,
            transverse_mercator,
            latlong,
            source,
            wgs84,
        };
        // A definition proj4rs parses but cannot run (a missing grid, an unsupported option) fails
        // here, once, rather than on every coordinate.
        let probe = out.forward(Coord {
            x: central_meridian,
            y: p.number("lat_0").unwrap_or(0.0).clamp(-80.0, 80.0),
        });
        probe
            .and_then(|c| out.inverse(c))
            .map_err(|e| format!("proj4rs cannot run {:?} ({proj4}): {e}", out.name))?;
        Ok(out)
    }

    /// An EPSG system by code, from the EPSG table.
    pub fn from_epsg(code: u16) -> Result<Self, String> {
        match SourceCrs::from_epsg(code)? {
            SourceCrs::Projected(p) => Ok(p),
            SourceCrs::Geographic(_) => Err(format!(
                "EPSG:{code} is longitude/latitude on WGS-84 or CGCS2000, not a projected system"
            )),
        }
    }

    /// Grid metres → longitude/latitude in degrees.
    pub fn inverse(&self, c: Coord<f64>) -> Result<Coord<f64>, String> {
        if self.transverse_mercator {
            // An easting with a zone number in front (e.g. 39 512 345) read in a system without
            // one lands thousands of kilometres away; say what is wrong instead.
            if self.false_easting < 1e6 && c.x.abs() >= 1e7 {
                let zone = (c.x / 1e6).floor();
                return Err(format!(
                    "easting {:.1} carries a zone number ({zone}) but {} has none; the data is probably in zone {zone} with the number (e.g. EPSG:{})",
                    c.x,
                    self.name,
                    zone_prefixed_epsg(zone).map_or("45xx".to_string(), |e| e.to_string())
                ));
            }
            if self.false_easting >= 1e6 && (c.x - self.false_easting).abs() > 1e6 {
                return Err(format!(
                    "easting {:.1} is more than 1,000 km from {}'s central meridian (false easting {}); wrong zone?",
                    c.x, self.name, self.false_easting
                ));
            }
        }
        let mut p = if self.latlong {
            (c.x.to_radians(), c.y.to_radians(), 0.0)
        } else {
            (c.x, c.y, 0.0)
        };
        proj4rs::transform::transform(&self.source, &self.wgs84, &mut p)
            .map_err(|e| format!("cannot convert ({}, {}) from {}: {e}", c.x, c.y, self.name))?;
        let out = Coord {
            x: p.0.to_degrees(),
            y: p.1.to_degrees(),
        };
        if !(out.x.is_finite() && out.y.is_finite()) || out.y.abs() > 90.0 {
            return Err(format!(
                "({}, {}) does not convert from {} to a position on Earth",
                c.x, c.y, self.name
            ));
        }
        Ok(out)
    }

    /// Longitude/latitude in degrees → the system's coordinates (for export and tests).
    pub fn forward(&self, c: Coord<f64>) -> Result<Coord<f64>, String> {
        let mut p = (c.x.to_radians(), c.y.to_radians(), 0.0);
        proj4rs::transform::transform(&self.wgs84, &self.source, &mut p)
            .map_err(|e| format!("cannot convert ({}, {}) to {}: {e}", c.x, c.y, self.name))?;
        let out = if self.latlong {
            Coord {
                x: p.0.to_degrees(),
                y: p.1.to_degrees(),
            }
        } else {
            Coord { x: p.0, y: p.1 }
        };
        if !(out.x.is_finite() && out.y.is_finite()) {
            return Err(format!("({}, {}) has no position in {}", c.x, c.y, self.name));
        }
        Ok(out)
    }
}

/// The zone-numbered CGCS2000 code for a zone number: 3° zones 25–45, 6° zones 13–23.
pub(super) fn zone_prefixed_epsg(zone: f64) -> Option<u16> {
    match zone as u16 {
        z @ 25..=45 => Some(4513 + z - 25),
        z @ 13..=23 => Some(4491 + z - 13),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epsg_gauss_kruger_has_the_published_meridians() {
        let g = Projected::from_epsg(4527).unwrap();
        assert_eq!((g.central_meridian, g.false_easting), (117.0, 39_500_000.0));
        let g = Projected::from_epsg(4547).unwrap();
        assert_eq!((g.central_meridian, g.false_easting), (114.0, 500_000.0));
        let g = Projected::from_epsg(4491).unwrap();
        assert_eq!((g.central_meridian, g.false_easting), (75.0, 13_500_000.0));
        let g = Projected::from_epsg(4512).unwrap();
        assert_eq!((g.central_meridian, g.false_easting), (135.0, 500_000.0));
        let g = Projected::from_epsg(32650).unwrap();
        assert_eq!((g.central_meridian, g.false_easting), (117.0, 500_000.0));
        assert!(Projected::from_epsg(4326).is_err());
    }

    #[test]
    fn zone_prefix_mistake_is_explained() {
        let g = Projected::from_epsg(4548).unwrap();
        let e = g
            .inverse(Coord {
                x: 39_511_000.0,
                y: 2_711_000.0,
            })
            .unwrap_err();
        assert!(e.contains("EPSG:4527"), "{e}");
    }

    #[test]
    fn web_mercator_and_utm_round_trip() {
        let c = Coord {
            x: 118.1106858,
            y: 24.505572,
        };
        for code in [3857, 32650, 4527, 4547, 3395] {
            let p = Projected::from_epsg(code).unwrap();
            let back = p.inverse(p.forward(c).unwrap()).unwrap();
            assert!(
                (back.x - c.x).abs() < 1e-9 && (back.y - c.y).abs() < 1e-9,
                "EPSG:{code}: {back:?}"
            );
        }
        // Web Mercator by the published formula: x = R·λ, y = R·ln tan(π/4 + φ/2).
        let p = Projected::from_epsg(3857).unwrap();
        let r = 6_378_137.0;
        let f = p.forward(c).unwrap();
        assert!((f.x - r * c.x.to_radians()).abs() < 1e-6);
        assert!(
            (f.y - r * (std::f64::consts::FRAC_PI_4 + c.y.to_radians() / 2.0).tan().ln()).abs() < 1e-6,
            "{f:?}"
        );
    }
}
