//! The coordinate system a source is in (or an export goes out in), and the way to and from WGS-84.
//!
//! Geographic systems (WGS-84, CGCS2000, GCJ-02, BD-09) go through `gis_core::crs`. Any EPSG
//! system that proj4rs can express is read by code: the code's proj4 definition comes from the
//! EPSG table of the `crs-definitions` crate, and proj4rs inverts it (transverse Mercator by
//! Poder/Engsager, as PROJ does it). A .prj (ESRI or OGC WKT 1) is read by its EPSG authority when
//! it names one, else from its projection, parameters, ellipsoid and datum.
//!
//! Datums: WGS-84 and the systems within about a metre of it that share its ellipsoid (CGCS2000,
//! ETRS89, GDA, NAD83) are taken as WGS-84, as PROJ does without a grid; a datum with published
//! shift parameters (TOWGS84) is shifted by them. Beijing 1954 and Xi'an 1980 are refused: their
//! shift to CGCS2000 is not published as parameters (each bureau holds its own), and a guess
//! would put buildings tens to hundreds of metres off.

use geo::Coord;
use gis_core::crs::Crs;
use proj4rs::proj::Proj;
use std::fmt;

/// A source's (or an export's) coordinate system.
#[derive(Debug, Clone)]
pub enum SourceCrs {
    /// Longitude/latitude: WGS-84 or CGCS2000 (taken as equal), GCJ-02 or BD-09.
    Geographic(Crs),
    /// A projected system in metres (or a geographic one on another datum), through proj4rs.
    Projected(Projected),
}

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
    transverse_mercator: bool,
    /// Longitude/latitude in degrees on a datum shifted to WGS-84 (e.g. EPSG:4277).
    latlong: bool,
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
struct Proj4<'a>(Vec<(&'a str, Option<&'a str>)>);

impl<'a> Proj4<'a> {
    fn parse(s: &'a str) -> Self {
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
    fn get(&self, key: &str) -> Option<&'a str> {
        self.0.iter().find(|(k, _)| *k == key).and_then(|(_, v)| *v)
    }
    fn number(&self, key: &str) -> Option<f64> {
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
fn old_chinese_datum(text: &str) -> bool {
    let key = text.to_ascii_lowercase().replace([' ', '-', '_', '\''], "");
    key.contains("beijing1954")
        || key.contains("xian1980")
        || key.contains("newbeijing")
        || key.contains("beijing54")
        || key.contains("xian80")
}

fn old_datum_refusal(datum: &str) -> String {
    format!(
        "datum {datum:?} (Beijing 1954 / Xi'an 1980): its shift to CGCS2000 is not published as parameters (each bureau holds its own seven-parameter transformation), so import will not guess; convert it with your bureau's parameters first"
    )
}

/// How a definition's datum reaches WGS-84: the geographic system to transform to, and what to
/// say about it.
fn datum_target(p: &Proj4) -> Result<(String, String), String> {
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
fn wkt_name(wkt: &str) -> String {
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
fn zone_prefixed_epsg(zone: f64) -> Option<u16> {
    match zone as u16 {
        z @ 25..=45 => Some(4513 + z - 25),
        z @ 13..=23 => Some(4491 + z - 13),
        _ => None,
    }
}

/// The EPSG code in any of the ways files and services write one: `EPSG:4527`, `epsg:4527`,
/// `EPSG::4527`, `urn:ogc:def:crs:EPSG::4527` (or with a version), `http://www.opengis.net/def/crs/EPSG/0/4527`.
pub fn epsg_code(s: &str) -> Option<Result<u16, String>> {
    let t = s.trim();
    let lower = t.to_ascii_lowercase();
    let digits = if let Some(rest) = lower.strip_prefix("urn:ogc:def:crs:epsg:") {
        // urn:ogc:def:crs:EPSG:{version}:{code}, the version often empty.
        rest.rsplit(':').next().unwrap_or_default().to_string()
    } else if let Some(rest) = lower
        .strip_prefix("http://www.opengis.net/def/crs/epsg/")
        .or_else(|| lower.strip_prefix("https://www.opengis.net/def/crs/epsg/"))
    {
        rest.rsplit('/').next().unwrap_or_default().to_string()
    } else if let Some(rest) = lower.strip_prefix("epsg") {
        rest.trim_start_matches(':').trim().to_string()
    } else {
        return None;
    };
    Some(digits.parse::<u16>().map_err(|_| format!("{t:?} is not an EPSG code")))
}

/// OGC's CRS84 (WGS-84 longitude/latitude) in its URN, URI and short forms.
pub fn is_crs84(s: &str) -> bool {
    let l = s.trim().to_ascii_lowercase();
    matches!(
        l.as_str(),
        "crs84"
            | "ogc:crs84"
            | "urn:ogc:def:crs:ogc:1.3:crs84"
            | "urn:ogc:def:crs:ogc::crs84"
            | "urn:ogc:def:crs:ogc:2:84"
            | "http://www.opengis.net/def/crs/ogc/1.3/crs84"
            | "https://www.opengis.net/def/crs/ogc/1.3/crs84"
    )
}

/// The identifiers wangge gives GCJ-02 and BD-09, which have no EPSG code (OGC API extension).
pub const GCJ02_URI: &str = "urn:x-wangge:def:crs:GCJ-02";
pub const BD09_URI: &str = "urn:x-wangge:def:crs:BD-09";

impl SourceCrs {
    pub const WGS84: SourceCrs = SourceCrs::Geographic(Crs::Wgs84);

    /// What `--crs`, `FILE@CRS` and a GeoJSON `crs` member may say: wgs84, cgcs2000, gcj02, bd09,
    /// CRS84 (any form), or an EPSG code (any form) of a system proj4rs can express.
    pub fn parse(s: &str) -> Result<Self, String> {
        let t = s.trim();
        if is_crs84(t) {
            return Ok(Self::WGS84);
        }
        if let Some(code) = epsg_code(t) {
            return Self::from_epsg(code?);
        }
        if t.eq_ignore_ascii_case(GCJ02_URI) {
            return Ok(Self::Geographic(Crs::Gcj02));
        }
        if t.eq_ignore_ascii_case(BD09_URI) {
            return Ok(Self::Geographic(Crs::Bd09));
        }
        t.parse::<Crs>()
            .map(Self::Geographic)
            .map_err(|e| format!("{e}, CRS84, or EPSG:N (e.g. EPSG:4527, EPSG:3857, EPSG:32650)"))
    }

    /// An EPSG system by code: WGS-84 and CGCS2000 longitude/latitude as such, anything else
    /// through its proj4 definition in the EPSG table.
    pub fn from_epsg(code: u16) -> Result<Self, String> {
        if matches!(code, 4326 | 4490 | 4979) {
            return Ok(Self::WGS84);
        }
        let def = crs_definitions::from_code(code)
            .ok_or_else(|| format!("EPSG:{code} is not in the EPSG table import carries (the crs-definitions crate); give the EPSG code of a projected or geographic system"))?;
        let name = wkt_name(def.wkt);
        if old_chinese_datum(def.wkt) {
            let datum = def
                .wkt
                .split("DATUM[\"")
                .nth(1)
                .and_then(|d| d.split('"').next())
                .unwrap_or(&name);
            return Err(format!("EPSG:{code} ({name}) is on the {}", old_datum_refusal(datum)));
        }
        let p = Proj4::parse(def.proj4);
        let latlong = matches!(p.get("proj"), Some("longlat" | "latlong"));
        if latlong {
            let (_, how) = datum_target(&p).map_err(|e| format!("EPSG:{code} ({name}): {e}"))?;
            // On WGS-84 or taken as it: plain longitude/latitude, no proj4rs round trip.
            if how == "WGS-84" || how.starts_with("taken as WGS-84") {
                return Ok(Self::WGS84);
            }
        }
        Projected::new(name, Some(code), def.proj4)
            .map(Self::Projected)
            .map_err(|e| format!("EPSG:{code}: {e}"))
    }

    /// Reads a .prj (ESRI or OGC WKT 1): by the EPSG authority it names, else from its
    /// projection, parameters and datum.
    pub fn from_prj(wkt: &str) -> Result<Self, String> {
        let root = wkt::parse(wkt)?;
        let kind = root.name.to_ascii_uppercase();
        if !matches!(kind.as_str(), "GEOGCS" | "PROJCS") {
            return Err(format!("a {kind} definition; import reads GEOGCS and PROJCS"));
        }
        let name = root.first_text().unwrap_or_default().to_string();
        let geogcs = if kind == "GEOGCS" {
            &root
        } else {
            root.child("GEOGCS").ok_or("PROJCS without a GEOGCS")?
        };
        let datum = geogcs.child("DATUM");
        let datum_name = datum.and_then(|d| d.first_text()).unwrap_or_default();
        if old_chinese_datum(&format!(
            "{datum_name} {} {name}",
            geogcs.first_text().unwrap_or_default()
        )) {
            return Err(old_datum_refusal(datum_name));
        }
        // The system's own AUTHORITY (not its GEOGCS's), when the WKT carries one.
        let authority = root
            .child("AUTHORITY")
            .filter(|a| a.first_text().is_some_and(|o| o.eq_ignore_ascii_case("EPSG")))
            .and_then(|a| a.number(1))
            .map(|c| c as u16);
        if let Some(code) = authority {
            if let Ok(crs) = Self::from_epsg(code) {
                return Ok(crs);
            }
        }
        let spheroid = datum.and_then(|d| d.child("SPHEROID"));
        let ellipsoid = match spheroid.and_then(|s| Some((s.number(1)?, s.number(2)?))) {
            Some((a, rf)) if rf == 0.0 => format!("+a={a} +b={a}"),
            Some((a, rf)) => format!("+a={a} +rf={rf}"),
            None => "+ellps=WGS84".to_string(),
        };
        let towgs84 = datum.and_then(|d| d.child("TOWGS84")).map(|t| {
            (0..7)
                .filter_map(|i| t.number(i))
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(",")
        });
        let key = format!("{datum_name} {}", geogcs.first_text().unwrap_or_default())
            .to_ascii_lowercase()
            .replace([' ', '-', '_'], "");
        let datum_part = match towgs84 {
            Some(t) if !t.is_empty() => format!("+towgs84={t}"),
            _ if key.contains("wgs1984") || key.contains("wgs84") => "+datum=WGS84".to_string(),
            // Any other datum: taken as WGS-84 on GRS80/WGS-84's ellipsoid (CGCS2000, ETRS89,
            // NAD83, ...), refused on any other (datum_target says why).
            _ => String::new(),
        };
        if kind == "GEOGCS" {
            let p4 = format!("+proj=longlat {ellipsoid} {datum_part} +no_defs");
            let (_, how) = datum_target(&Proj4::parse(&p4)).map_err(|e| format!("datum {datum_name:?}: {e}"))?;
            if how == "WGS-84" || how.starts_with("taken as WGS-84") {
                return Ok(Self::WGS84);
            }
            return Projected::new(name, None, &p4).map(Self::Projected);
        }
        let projection = root
            .child("PROJECTION")
            .and_then(|p| p.first_text())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let param = |keys: &[&str]| -> Option<f64> {
            root.children("PARAMETER")
                .find(|p| {
                    p.first_text()
                        .is_some_and(|n| keys.iter().any(|k| n.eq_ignore_ascii_case(k)))
                })
                .and_then(|p| p.number(1))
        };
        let x0 = param(&["false_easting"]).unwrap_or(0.0);
        let y0 = param(&["false_northing"]).unwrap_or(0.0);
        let lon0 = param(&["central_meridian", "longitude_of_center", "longitude_of_origin"]).unwrap_or(0.0);
        let lat0 = param(&["latitude_of_origin", "latitude_of_center"]).unwrap_or(0.0);
        let k = param(&["scale_factor"]).unwrap_or(1.0);
        let sp1 = param(&["standard_parallel_1"]);
        let sp2 = param(&["standard_parallel_2"]);
        let body = match projection.as_str() {
            "transverse_mercator" | "gauss_kruger" | "gauss-kruger" => {
                format!("+proj=tmerc +lat_0={lat0} +lon_0={lon0} +k={k} +x_0={x0} +y_0={y0} {ellipsoid} {datum_part}")
            }
            // ArcGIS's and EPSG's names for Web Mercator: spherical formulas on WGS-84 coordinates.
            "mercator_auxiliary_sphere" | "popular_visualisation_pseudo_mercator" => {
                format!(
                    "+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0={lon0} +x_0={x0} +y_0={y0} +k=1 +nadgrids=@null"
                )
            }
            "mercator" | "mercator_2sp" => format!(
                "+proj=merc +lat_ts={} +lon_0={lon0} +x_0={x0} +y_0={y0} {ellipsoid} {datum_part}",
                sp1.unwrap_or(0.0)
            ),
            "mercator_1sp" => format!("+proj=merc +k_0={k} +lon_0={lon0} +x_0={x0} +y_0={y0} {ellipsoid} {datum_part}"),
            "lambert_conformal_conic" | "lambert_conformal_conic_2sp" if sp2.is_some() => {
                format!(
                    "+proj=lcc +lat_1={} +lat_2={} +lat_0={lat0} +lon_0={lon0} +x_0={x0} +y_0={y0} {ellipsoid} {datum_part}",
                    sp1.unwrap_or(lat0),
                    sp2.unwrap_or(lat0)
                )
            }
            "lambert_conformal_conic" | "lambert_conformal_conic_1sp" => {
                format!(
                    "+proj=lcc +lat_1={lat0} +lat_0={lat0} +lon_0={lon0} +k_0={k} +x_0={x0} +y_0={y0} {ellipsoid} {datum_part}"
                )
            }
            "albers" | "albers_conic_equal_area" => {
                format!(
                    "+proj=aea +lat_1={} +lat_2={} +lat_0={lat0} +lon_0={lon0} +x_0={x0} +y_0={y0} {ellipsoid} {datum_part}",
                    sp1.unwrap_or(lat0),
                    sp2.unwrap_or(lat0)
                )
            }
            other => {
                return Err(format!(
                    "projection {other:?} in {name:?}; from a .prj import reads transverse Mercator (UTM, Gauss-Krüger), Mercator, Web Mercator, Lambert conformal conic and Albers; give the system's EPSG code with --crs"
                ));
            }
        };
        let to_meter = root.child("UNIT").and_then(|u| u.number(1)).unwrap_or(1.0);
        let units = if (to_meter - 1.0).abs() < 1e-12 {
            "+units=m".to_string()
        } else {
            format!("+to_meter={to_meter}")
        };
        let proj4 = format!("{body} {units} +no_defs")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let epsg = known_epsg(&projection, &key, lon0, lat0, x0, y0, k).or_else(|| matching_epsg(&proj4, &name));
        let name = match epsg.and_then(crs_definitions::from_code) {
            Some(def) => wkt_name(def.wkt),
            None => name,
        };
        Projected::new(name, epsg, &proj4)
            .map(Self::Projected)
            .map_err(|e| format!("datum {datum_name:?}: {e}"))
    }

    /// Any source coordinate → WGS-84 longitude/latitude.
    pub fn to_wgs84(&self, c: Coord<f64>) -> Result<Coord<f64>, String> {
        match self {
            Self::Geographic(crs) => Ok(crs.to_wgs84(c)),
            Self::Projected(g) => g.inverse(c),
        }
    }

    /// WGS-84 longitude/latitude → this system (export, the service's `crs=`).
    pub fn from_wgs84(&self, c: Coord<f64>) -> Result<Coord<f64>, String> {
        match self {
            Self::Geographic(crs) => Ok(crs.from_wgs84(c)),
            Self::Projected(g) => g.forward(c),
        }
    }

    /// Longitude/latitude in degrees (any datum or offset), rather than metres.
    pub fn is_geographic(&self) -> bool {
        match self {
            Self::Geographic(_) => true,
            Self::Projected(p) => p.latlong,
        }
    }

    /// A short name: `EPSG:4527`, `WGS-84`, `GCJ-02`, `BD-09`, or the system's name.
    pub fn label(&self) -> String {
        match self {
            Self::Geographic(Crs::Wgs84) => "WGS-84".into(),
            Self::Geographic(Crs::Gcj02) => "GCJ-02".into(),
            Self::Geographic(Crs::Bd09) => "BD-09".into(),
            Self::Projected(p) => p.epsg.map_or_else(|| p.name.clone(), |e| format!("EPSG:{e}")),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Self::Geographic(Crs::Wgs84) => "WGS-84 / CGCS2000 longitude-latitude".into(),
            Self::Geographic(Crs::Gcj02) => "GCJ-02 (AMap, Tencent), converted to WGS-84".into(),
            Self::Geographic(Crs::Bd09) => "BD-09 (Baidu), converted to WGS-84".into(),
            Self::Projected(g) if g.transverse_mercator => format!(
                "{}{} (transverse Mercator, central meridian {}°E, false easting {} m; datum {}), converted to WGS-84",
                g.name,
                g.epsg.map(|e| format!(", EPSG:{e}")).unwrap_or_default(),
                g.central_meridian,
                g.false_easting,
                g.datum
            ),
            Self::Projected(g) => format!(
                "{}{} (datum {}), converted to WGS-84",
                g.name,
                g.epsg.map(|e| format!(", EPSG:{e}")).unwrap_or_default(),
                g.datum
            ),
        }
    }

    /// Whether two systems put these coordinates at the same places (within a centimetre): a
    /// .prj and a `--crs` that name one system in different words agree.
    pub fn agrees_with(&self, other: &SourceCrs, sample: &[Coord<f64>]) -> bool {
        if sample.is_empty() {
            return self.label() == other.label();
        }
        sample.iter().all(|&c| match (self.to_wgs84(c), other.to_wgs84(c)) {
            (Ok(a), Ok(b)) => (a.x - b.x).abs() < 1e-7 && (a.y - b.y).abs() < 1e-7,
            (Err(_), Err(_)) => true,
            _ => false,
        })
    }
}

/// The EPSG code of a .prj's parameters when they are one of the families files come in: UTM
/// on WGS-84, CGCS2000 Gauss-Krüger, Web Mercator.
fn known_epsg(projection: &str, datum_key: &str, lon0: f64, lat0: f64, x0: f64, y0: f64, k: f64) -> Option<u16> {
    let tm = matches!(projection, "transverse_mercator" | "gauss_kruger" | "gauss-kruger");
    if projection.contains("auxiliary_sphere") || projection.contains("pseudo_mercator") {
        return (lon0 == 0.0 && x0 == 0.0 && y0 == 0.0).then_some(3857);
    }
    if !tm || lat0 != 0.0 {
        return None;
    }
    if datum_key.contains("wgs") && (k - 0.9996).abs() < 1e-12 && x0 == 500_000.0 {
        let zone = (lon0 + 183.0) / 6.0;
        if zone.fract() == 0.0 && (1.0..=60.0).contains(&zone) {
            return match y0 {
                0.0 => Some(32600 + zone as u16),
                10_000_000.0 => Some(32700 + zone as u16),
                _ => None,
            };
        }
    }
    if (datum_key.contains("2000") && (datum_key.contains("china") || datum_key.contains("cgcs")))
        && (k - 1.0).abs() < 1e-12
        && y0 == 0.0
    {
        let six = |z: f64| (z * 6.0 - 3.0, z * 1e6 + 500_000.0);
        let three = |z: f64| (z * 3.0, z * 1e6 + 500_000.0);
        for code in 4491u16..=4554 {
            let (cm, fe) = match code {
                4491..=4501 => six(f64::from(code - 4491 + 13)),
                4502..=4512 => (75.0 + 6.0 * f64::from(code - 4502), 500_000.0),
                4513..=4533 => three(f64::from(code - 4513 + 25)),
                _ => (75.0 + 3.0 * f64::from(code - 4534), 500_000.0),
            };
            if (cm - lon0).abs() < 1e-9 && (fe - x0).abs() < 1e-6 {
                return Some(code);
            }
        }
    }
    None
}

/// A proj4 definition's parameters in one canonical form, to compare a .prj with the EPSG table.
#[derive(Debug, PartialEq)]
struct Canonical {
    proj: String,
    numbers: Vec<(String, f64)>,
}

fn canonical(def: &str) -> Option<Canonical> {
    let p = Proj4::parse(def);
    let mut proj = p.get("proj")?.to_string();
    let mut numbers: Vec<(String, f64)> = Vec::new();
    let mut put = |k: &str, v: f64| numbers.push((k.to_string(), v));
    if proj == "utm" {
        let zone = p.number("zone")?;
        proj = "tmerc".into();
        put("lon_0", zone * 6.0 - 183.0);
        put("k", 0.9996);
        put("x_0", 500_000.0);
        put(
            "y_0",
            if p.get("south").is_some() || p.0.iter().any(|(k, _)| *k == "south") {
                10_000_000.0
            } else {
                0.0
            },
        );
        for key in ["lat_0", "lat_1", "lat_2", "lat_ts"] {
            put(key, 0.0);
        }
    } else {
        if proj == "etmerc" {
            proj = "tmerc".into();
        }
        for key in ["lat_0", "lon_0", "x_0", "y_0", "lat_1", "lat_2", "lat_ts"] {
            put(key, p.number(key).unwrap_or(0.0));
        }
        put("k", p.number("k").or_else(|| p.number("k_0")).unwrap_or(1.0));
    }
    let (a, rf) = match (p.get("ellps"), p.get("datum")) {
        (Some(e), _) => match e.to_ascii_lowercase().as_str() {
            "grs80" => (6_378_137.0, 298.257_222_101),
            "wgs84" => (6_378_137.0, 298.257_223_563),
            "krass" => (6_378_245.0, 298.3),
            "intl" => (6_378_388.0, 297.0),
            "clrk66" => (6_378_206.4, 294.978_698_213_898),
            "bessel" => (6_377_397.155, 299.152_812_8),
            "airy" => (6_377_563.396, 299.324_964_6),
            _ => return None,
        },
        (None, Some(d)) if d.eq_ignore_ascii_case("WGS84") => (6_378_137.0, 298.257_223_563),
        _ => {
            let a = p.number("a")?;
            let rf = p
                .number("rf")
                .or_else(|| p.number("b").map(|b| if a == b { 0.0 } else { a / (a - b) }))?;
            (a, rf)
        }
    };
    put("a", a);
    put("rf", rf);
    let shift: Vec<f64> = p
        .get("towgs84")
        .map(|t| t.split(',').filter_map(|v| v.parse().ok()).collect())
        .unwrap_or_default();
    for i in 0..7 {
        put(&format!("towgs84_{i}"), shift.get(i).copied().unwrap_or(0.0));
    }
    put("to_meter", p.number("to_meter").unwrap_or(1.0));
    numbers.sort_by(|a, b| a.0.cmp(&b.0));
    Some(Canonical { proj, numbers })
}

/// The EPSG code whose definition has exactly these parameters; among several (ETRS89 / UTM 35N
/// and ETRS89 / TM35FIN share them) the one whose name shares most words with the .prj's.
fn matching_epsg(proj4: &str, name: &str) -> Option<u16> {
    let want = canonical(proj4)?;
    let same = |c: &Canonical| {
        c.proj == want.proj
            && c.numbers.len() == want.numbers.len()
            && c.numbers
                .iter()
                .zip(&want.numbers)
                .all(|((k1, v1), (k2, v2))| k1 == k2 && (v1 - v2).abs() <= 1e-9 * v1.abs().max(1.0))
    };
    let words = |s: &str| -> Vec<String> {
        s.to_ascii_lowercase()
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| w.len() > 1)
            .map(str::to_string)
            .collect()
    };
    let ours = words(name);
    (2000u16..=32767)
        .filter_map(|code| crs_definitions::from_code(code).map(|d| (code, d)))
        .filter(|(_, d)| !d.proj4.contains("longlat") && canonical(d.proj4).is_some_and(|c| same(&c)))
        .max_by_key(|(code, d)| {
            (
                words(&wkt_name(d.wkt)).iter().filter(|w| ours.contains(w)).count(),
                std::cmp::Reverse(*code),
            )
        })
        .map(|(code, _)| code)
}

/// What coordinates that cannot be longitude/latitude look like, and the `--crs` to give: an
/// easting with a Gauss-Krüger zone number in front, Web Mercator, or a grid without a zone.
pub fn guess_projected(coords: &[Coord<f64>]) -> Option<String> {
    let (mut x0, mut y0, mut x1, mut y1) = (f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY);
    for c in coords.iter().filter(|c| c.x.is_finite() && c.y.is_finite()) {
        x0 = x0.min(c.x);
        y0 = y0.min(c.y);
        x1 = x1.max(c.x);
        y1 = y1.max(c.y);
    }
    if !x0.is_finite() || (x0 >= -180.0 && x1 <= 180.0 && y0 >= -90.0 && y1 <= 90.0) {
        return None;
    }
    let centre = Coord {
        x: (x0 + x1) / 2.0,
        y: (y0 + y1) / 2.0,
    };
    let in_china = |c: Coord<f64>| (70.0..=140.0).contains(&c.x) && (0.0..=56.0).contains(&c.y);
    let mut candidates: Vec<(String, u16)> = Vec::new();
    let zone = (x0 / 1e6).floor();
    if zone == (x1 / 1e6).floor() && y0 >= 0.0 && y1 <= 7e6 {
        if let Some(code) = zone_prefixed_epsg(zone) {
            if let Ok(p) = Projected::from_epsg(code) {
                // Inside its zone (3° or 6° wide), as a real zone-numbered easting is.
                let half = if zone >= 25.0 { 1.5 } else { 3.0 };
                if p.inverse(centre)
                    .is_ok_and(|c| in_china(c) && (c.x - p.central_meridian).abs() <= half + 0.25)
                {
                    candidates.push((
                        format!("{} (an easting with its zone number {zone} in front)", p.name),
                        code,
                    ));
                }
            }
        }
    }
    let web = 20_037_508.342_789_244;
    if x0.abs().max(x1.abs()) > 1e6 && x0 >= -web && x1 <= web && y0.abs().max(y1.abs()) <= web {
        candidates.push(("Web Mercator (web map exports)".into(), 3857));
    }
    let sample = format!(
        "({}, {})",
        trim(coords.first().map_or(centre.x, |c| c.x)),
        trim(coords.first().map_or(centre.y, |c| c.y))
    );
    match candidates.as_slice() {
        [(what, code)] => Some(format!(
            "coordinates such as {sample} are not longitude/latitude; they look like {what}; add --crs EPSG:{code}"
        )),
        [..] if candidates.len() > 1 => Some(format!(
            "coordinates such as {sample} are not longitude/latitude; they look like {}; add --crs with the one the data is in ({})",
            candidates
                .iter()
                .map(|(w, c)| format!("{w} (EPSG:{c})"))
                .collect::<Vec<_>>()
                .join(" or "),
            candidates
                .iter()
                .map(|(_, c)| format!("--crs EPSG:{c}"))
                .collect::<Vec<_>>()
                .join(" or ")
        )),
        _ if x0 >= 0.0 && x1 <= 1e6 && y0.abs().max(y1.abs()) <= 1e7 => Some(format!(
            "coordinates such as {sample} are not longitude/latitude; they look like metres in a transverse Mercator grid without a zone number (UTM, or a CGCS2000 Gauss-Krüger CM zone); add --crs with its EPSG code, e.g. --crs EPSG:4548 (CGCS2000 3-degree GK CM 117E) or --crs EPSG:32650 (WGS 84 / UTM zone 50N)"
        )),
        _ => Some(format!(
            "coordinates such as {sample} are not longitude/latitude; they look projected (metres); add --crs with the system's EPSG code"
        )),
    }
}

/// A coordinate for a message: metres to the centimetre, degrees as given.
fn trim(v: f64) -> String {
    if v.abs() > 1000.0 {
        format!("{v:.2}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    } else {
        v.to_string()
    }
}

/// The WKT a .prj or a GeoPackage gets for an EPSG system (OGC WKT 1 with its authority, as
/// the EPSG table gives it; GDAL and QGIS read it back by code).
pub fn epsg_wkt(code: u16) -> Option<&'static str> {
    crs_definitions::from_code(code).map(|d| d.wkt)
}

/// A minimal WKT 1 reader: `NAME[arg, arg, ...]` where an argument is a quoted string, a number
/// or another node. Enough for .prj files; anything else is an error.
mod wkt {
    #[derive(Debug)]
    pub enum Arg {
        Text(String),
        Number(f64),
        Node(Node),
        Word(String),
    }

    #[derive(Debug)]
    pub struct Node {
        pub name: String,
        pub args: Vec<Arg>,
    }

    impl Node {
        pub fn first_text(&self) -> Option<&str> {
            self.text(0)
        }
        pub fn text(&self, i: usize) -> Option<&str> {
            match self.args.get(i)? {
                Arg::Text(s) | Arg::Word(s) => Some(s),
                _ => None,
            }
        }
        pub fn number(&self, i: usize) -> Option<f64> {
            match self.args.get(i)? {
                Arg::Number(n) => Some(*n),
                Arg::Text(s) => s.parse().ok(),
                _ => None,
            }
        }
        pub fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
            self.args.iter().filter_map(move |a| match a {
                Arg::Node(n) if n.name.eq_ignore_ascii_case(name) => Some(n),
                _ => None,
            })
        }
        pub fn child<'a>(&'a self, name: &'a str) -> Option<&'a Node> {
            self.children(name).next()
        }
    }

    pub fn parse(text: &str) -> Result<Node, String> {
        let chars: Vec<char> = text.trim().trim_start_matches('\u{feff}').chars().collect();
        let mut at = 0;
        let node = node(&chars, &mut at)?;
        Ok(node)
    }

    fn skip_ws(c: &[char], at: &mut usize) {
        while *at < c.len() && c[*at].is_whitespace() {
            *at += 1;
        }
    }

    fn word(c: &[char], at: &mut usize) -> String {
        let start = *at;
        while *at < c.len()
            && (c[*at].is_alphanumeric() || c[*at] == '_' || c[*at] == '.' || c[*at] == '-' || c[*at] == '+')
        {
            *at += 1;
        }
        c[start..*at].iter().collect()
    }

    fn node(c: &[char], at: &mut usize) -> Result<Node, String> {
        skip_ws(c, at);
        let name = word(c, at);
        if name.is_empty() {
            return Err(format!("not WKT: expected a keyword at character {}", *at));
        }
        skip_ws(c, at);
        let close = match c.get(*at) {
            Some('[') => ']',
            Some('(') => ')',
            _ => return Err(format!("not WKT: expected '[' after {name}")),
        };
        *at += 1;
        let mut args = Vec::new();
        loop {
            skip_ws(c, at);
            match c.get(*at) {
                None => return Err(format!("not WKT: {name}[ is never closed")),
                Some(&ch) if ch == close => {
                    *at += 1;
                    break;
                }
                Some(',') => *at += 1,
                Some('"') => {
                    *at += 1;
                    let start = *at;
                    while *at < c.len() && c[*at] != '"' {
                        *at += 1;
                    }
                    args.push(Arg::Text(c[start..*at].iter().collect()));
                    *at += 1;
                }
                Some(_) => {
                    let save = *at;
                    let w = word(c, at);
                    skip_ws(c, at);
                    if matches!(c.get(*at), Some('[') | Some('(')) {
                        *at = save;
                        args.push(Arg::Node(node(c, at)?));
                    } else if let Ok(n) = w.parse::<f64>() {
                        args.push(Arg::Number(n));
                    } else if w.is_empty() {
                        return Err(format!("not WKT: unexpected {:?} at character {}", c[*at], *at));
                    } else {
                        args.push(Arg::Word(w));
                    }
                }
            }
        }
        Ok(Node { name, args })
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
    fn crs_names_parse() {
        assert!(matches!(
            SourceCrs::parse("EPSG:4490"),
            Ok(SourceCrs::Geographic(Crs::Wgs84))
        ));
        assert!(matches!(SourceCrs::parse("bd09"), Ok(SourceCrs::Geographic(Crs::Bd09))));
        assert!(matches!(SourceCrs::parse("epsg:4548"), Ok(SourceCrs::Projected(_))));
        assert!(matches!(
            SourceCrs::parse("urn:ogc:def:crs:OGC:1.3:CRS84"),
            Ok(SourceCrs::Geographic(Crs::Wgs84))
        ));
        assert!(matches!(
            SourceCrs::parse("http://www.opengis.net/def/crs/OGC/1.3/CRS84"),
            Ok(SourceCrs::Geographic(Crs::Wgs84))
        ));
        assert!(matches!(
            SourceCrs::parse(GCJ02_URI),
            Ok(SourceCrs::Geographic(Crs::Gcj02))
        ));
        for s in [
            "EPSG:3857",
            "urn:ogc:def:crs:EPSG::3857",
            "urn:ogc:def:crs:EPSG:9.8.1:3857",
            "http://www.opengis.net/def/crs/EPSG/0/3857",
            "EPSG::3857",
        ] {
            match SourceCrs::parse(s) {
                Ok(SourceCrs::Projected(p)) => assert_eq!(p.epsg, Some(3857), "{s}"),
                other => panic!("{s}: {other:?}"),
            }
        }
        assert!(SourceCrs::parse("mercator").is_err());
        assert!(SourceCrs::parse("EPSG:abc").is_err());
        assert!(
            SourceCrs::parse("EPSG:1")
                .unwrap_err()
                .contains("not in the EPSG table")
        );
    }

    #[test]
    fn old_chinese_datums_are_refused_with_the_reason() {
        let wkt = r#"PROJCS["Xian_1980_3_Degree_GK_CM_117E",GEOGCS["GCS_Xian_1980",DATUM["D_Xian_1980",SPHEROID["Xian_1980",6378140.0,298.257]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",117.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;
        let e = SourceCrs::from_prj(wkt).unwrap_err();
        assert!(e.contains("seven-parameter") && e.contains("not published"), "{e}");
        // By EPSG code too, though the table carries a three-parameter shift for Beijing 1954.
        for code in [2436, 4214, 4610, 2383, 21413] {
            let e = SourceCrs::from_epsg(code).unwrap_err();
            assert!(e.contains("not published"), "EPSG:{code}: {e}");
        }
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
    fn projected_magnitudes_are_recognised() {
        let gk = guess_projected(&[Coord {
            x: 39_621_675.0,
            y: 2_711_739.0,
        }])
        .unwrap();
        assert!(gk.contains("zone 39") && gk.ends_with("add --crs EPSG:4527"), "{gk}");
        let web = guess_projected(&[Coord {
            x: 13_148_000.0,
            y: 2_817_000.0,
        }])
        .unwrap();
        assert!(web.contains("EPSG:3857"), "{web}");
        let utm = guess_projected(&[Coord {
            x: 411_000.0,
            y: 2_711_000.0,
        }])
        .unwrap();
        assert!(utm.contains("without a zone number"), "{utm}");
        assert!(guess_projected(&[Coord { x: 118.1, y: 24.5 }]).is_none());
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
