//! The coordinate system a source is in, and the way to WGS-84.
//!
//! Geographic systems (WGS-84, CGCS2000, GCJ-02, BD-09) go through `gis_core::crs`. Projected
//! CGCS2000 Gauss-Krüger zones (EPSG:4491–4554, what natural-resources bureaus deliver) are
//! recognised from an EPSG code or from a .prj's WKT (PROJCS name, central meridian, false
//! easting), and inverted with proj4rs' transverse Mercator (Poder/Engsager, as PROJ does it).
//! CGCS2000 is taken as WGS-84 (within about a metre, domain.md); older datums (Beijing 1954,
//! Xi'an 1980) need seven parameters nobody publishes, so they are refused rather than guessed.

use geo::Coord;
use gis_core::crs::Crs;
use proj4rs::proj::Proj;
use std::fmt;

/// A source's coordinate system.
#[derive(Debug, Clone)]
pub enum SourceCrs {
    /// Longitude/latitude: WGS-84 or CGCS2000 (taken as equal), GCJ-02 or BD-09.
    Geographic(Crs),
    /// A transverse Mercator grid on the CGCS2000 (or WGS-84) ellipsoid, in metres.
    Projected(GaussKruger),
}

/// A Gauss-Krüger (transverse Mercator) grid and its inverse.
#[derive(Clone)]
pub struct GaussKruger {
    /// What it is called, e.g. "CGCS2000 / 3-degree Gauss-Kruger zone 39".
    pub name: String,
    pub epsg: Option<u16>,
    pub central_meridian: f64,
    pub false_easting: f64,
    pub false_northing: f64,
    pub scale: f64,
    projected: Proj,
    geographic: Proj,
}

impl fmt::Debug for GaussKruger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GaussKruger")
            .field("name", &self.name)
            .field("epsg", &self.epsg)
            .field("central_meridian", &self.central_meridian)
            .field("false_easting", &self.false_easting)
            .finish()
    }
}

// CGCS2000's ellipsoid (a, 1/f): GRS80's, to the last printed digit.
const CGCS2000_A: f64 = 6_378_137.0;
const CGCS2000_RF: f64 = 298.257_222_101;

impl GaussKruger {
    fn new(name: String, epsg: Option<u16>, central_meridian: f64, false_easting: f64, false_northing: f64, scale: f64, a: f64, rf: f64) -> Result<Self, String> {
        let projected = Proj::from_proj_string(&format!(
            "+proj=tmerc +lat_0=0 +lon_0={central_meridian} +k={scale} +x_0={false_easting} +y_0={false_northing} +a={a} +rf={rf} +units=m +no_defs"
        ))
        .map_err(|e| format!("cannot set up the transverse Mercator: {e}"))?;
        // Same ellipsoid, no datum shift: the transform is the projection's inverse and nothing else.
        let geographic = Proj::from_proj_string(&format!("+proj=longlat +a={a} +rf={rf} +no_defs"))
            .map_err(|e| format!("cannot set up the geographic system: {e}"))?;
        Ok(Self { name, epsg, central_meridian, false_easting, false_northing, scale, projected, geographic })
    }

    /// The CGCS2000 Gauss-Krüger systems EPSG:4491–4554, by code.
    pub fn from_epsg(code: u16) -> Option<Self> {
        // Four runs of codes: 6° zones 13–23 with the zone number before the easting, 6° zones by
        // central meridian, 3° zones 25–45 with the number, 3° zones by central meridian.
        let (name, cm, fe) = match code {
            4491..=4501 => {
                let zone = f64::from(code - 4491 + 13);
                (format!("CGCS2000 / Gauss-Kruger zone {zone}"), zone * 6.0 - 3.0, zone * 1e6 + 500_000.0)
            }
            4502..=4512 => {
                let cm = 75.0 + 6.0 * f64::from(code - 4502);
                (format!("CGCS2000 / Gauss-Kruger CM {cm}E"), cm, 500_000.0)
            }
            4513..=4533 => {
                let zone = f64::from(code - 4513 + 25);
                (format!("CGCS2000 / 3-degree Gauss-Kruger zone {zone}"), zone * 3.0, zone * 1e6 + 500_000.0)
            }
            4534..=4554 => {
                let cm = 75.0 + 3.0 * f64::from(code - 4534);
                (format!("CGCS2000 / 3-degree Gauss-Kruger CM {cm}E"), cm, 500_000.0)
            }
            _ => return None,
        };
        Self::new(name, Some(code), cm, fe, 0.0, 1.0, CGCS2000_A, CGCS2000_RF).ok()
    }

    /// The EPSG code of a CGCS2000 system with these parameters, if it is one of 4491–4554.
    fn matching_epsg(central_meridian: f64, false_easting: f64, false_northing: f64, scale: f64) -> Option<u16> {
        if false_northing != 0.0 || (scale - 1.0).abs() > 1e-12 {
            return None;
        }
        (4491..=4554).find(|&code| {
            Self::from_epsg(code).is_some_and(|g| (g.central_meridian - central_meridian).abs() < 1e-9 && (g.false_easting - false_easting).abs() < 1e-6)
        })
    }

    /// Grid metres → longitude/latitude in degrees.
    pub fn inverse(&self, c: Coord<f64>) -> Result<Coord<f64>, String> {
        // An easting with a zone number in front (e.g. 39 512 345) read in a system without one
        // lands thousands of kilometres away; say what is wrong instead.
        if self.false_easting < 1e6 && c.x.abs() >= 1e7 {
            let zone = (c.x / 1e6).floor();
            return Err(format!(
                "easting {:.1} carries a zone number ({zone}) but {} has none; the data is probably in zone {zone} with the number (e.g. EPSG:{})",
                c.x, self.name, zone_prefixed_epsg(zone).map_or("45xx".to_string(), |e| e.to_string())
            ));
        }
        if self.false_easting >= 1e6 && (c.x - self.false_easting).abs() > 1e6 {
            return Err(format!("easting {:.1} is more than 1,000 km from {}'s central meridian (false easting {}); wrong zone?", c.x, self.name, self.false_easting));
        }
        let mut p = (c.x, c.y, 0.0);
        proj4rs::transform::transform(&self.projected, &self.geographic, &mut p).map_err(|e| format!("cannot invert the projection at ({}, {}): {e}", c.x, c.y))?;
        let out = Coord { x: p.0.to_degrees(), y: p.1.to_degrees() };
        if !(out.x.is_finite() && out.y.is_finite()) {
            return Err(format!("({}, {}) does not invert to a finite position", c.x, c.y));
        }
        Ok(out)
    }

    /// Longitude/latitude in degrees → grid metres (for tests and for export).
    pub fn forward(&self, c: Coord<f64>) -> Result<Coord<f64>, String> {
        let mut p = (c.x.to_radians(), c.y.to_radians(), 0.0);
        proj4rs::transform::transform(&self.geographic, &self.projected, &mut p).map_err(|e| format!("cannot project ({}, {}): {e}", c.x, c.y))?;
        Ok(Coord { x: p.0, y: p.1 })
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

impl SourceCrs {
    pub const WGS84: SourceCrs = SourceCrs::Geographic(Crs::Wgs84);

    /// What `--crs` accepts: wgs84, cgcs2000, gcj02, bd09, EPSG:4326, EPSG:4490, EPSG:4491–4554.
    pub fn parse(s: &str) -> Result<Self, String> {
        let t = s.trim();
        let lower = t.to_ascii_lowercase();
        if let Some(code) = lower.strip_prefix("epsg:").or_else(|| lower.strip_prefix("epsg")) {
            let code: u16 = code.trim().parse().map_err(|_| format!("{t:?} is not an EPSG code"))?;
            return match code {
                4326 | 4490 => Ok(Self::WGS84),
                _ => GaussKruger::from_epsg(code).map(Self::Projected).ok_or_else(|| {
                    format!("EPSG:{code} is not one import knows; it reads EPSG:4326, EPSG:4490 and the CGCS2000 Gauss-Kruger zones EPSG:4491–4554")
                }),
            };
        }
        t.parse::<Crs>().map(Self::Geographic).map_err(|e| format!("{e}, or EPSG:4491–4554 (CGCS2000 Gauss-Kruger)"))
    }

    /// Reads a .prj (ESRI or OGC WKT 1).
    pub fn from_prj(wkt: &str) -> Result<Self, String> {
        let root = wkt::parse(wkt)?;
        match root.name.to_ascii_uppercase().as_str() {
            "GEOGCS" => {
                check_datum(&root)?;
                Ok(Self::WGS84)
            }
            "PROJCS" => {
                let name = root.first_text().unwrap_or_default().to_string();
                let geogcs = root.child("GEOGCS").ok_or("PROJCS without a GEOGCS")?;
                check_datum(geogcs)?;
                let projection = root.child("PROJECTION").and_then(|p| p.first_text()).unwrap_or_default().to_ascii_lowercase();
                if !(projection.contains("transverse_mercator") || projection.contains("gauss_kruger") || projection.contains("gauss-kruger")) {
                    return Err(format!("projection {projection:?} in {name:?}; import reads transverse Mercator (Gauss-Krüger) grids"));
                }
                if let Some(unit) = root.child("UNIT") {
                    let factor = unit.number(1).unwrap_or(1.0);
                    if (factor - 1.0).abs() > 1e-9 {
                        return Err(format!("unit {:?} ({factor} m); import reads grids in metres", unit.first_text().unwrap_or("?")));
                    }
                }
                let param = |key: &str| -> Option<f64> {
                    root.children("PARAMETER").find(|p| p.first_text().is_some_and(|n| n.eq_ignore_ascii_case(key))).and_then(|p| p.number(1))
                };
                let cm = param("central_meridian").or_else(|| param("longitude_of_center")).ok_or_else(|| format!("{name:?} has no Central_Meridian"))?;
                let fe = param("false_easting").unwrap_or(0.0);
                let fnorth = param("false_northing").unwrap_or(0.0);
                let k = param("scale_factor").unwrap_or(1.0);
                let lat0 = param("latitude_of_origin").unwrap_or(0.0);
                if lat0 != 0.0 {
                    return Err(format!("{name:?} has latitude of origin {lat0}; Gauss-Krüger grids start at the equator"));
                }
                let (a, rf) = geogcs
                    .child("DATUM")
                    .and_then(|d| d.child("SPHEROID"))
                    .and_then(|s| Some((s.number(1)?, s.number(2)?)))
                    .unwrap_or((CGCS2000_A, CGCS2000_RF));
                // The PROJCS's own AUTHORITY (not the GEOGCS's) when the WKT carries one.
                let epsg = root
                    .child("AUTHORITY")
                    .and_then(|a| a.text(1))
                    .and_then(|c| c.parse::<u16>().ok())
                    .filter(|c| (4491..=4554).contains(c))
                    .or_else(|| GaussKruger::matching_epsg(cm, fe, fnorth, k));
                let name = match epsg {
                    Some(code) => GaussKruger::from_epsg(code).map(|g| g.name).unwrap_or(name),
                    None => name,
                };
                GaussKruger::new(name, epsg, cm, fe, fnorth, k, a, rf).map(Self::Projected)
            }
            other => Err(format!("a {other} definition; import reads GEOGCS and PROJCS")),
        }
    }

    /// Any source coordinate → WGS-84 longitude/latitude.
    pub fn to_wgs84(&self, c: Coord<f64>) -> Result<Coord<f64>, String> {
        match self {
            Self::Geographic(crs) => Ok(crs.to_wgs84(c)),
            Self::Projected(g) => g.inverse(c),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Self::Geographic(Crs::Wgs84) => "WGS-84 / CGCS2000 longitude-latitude".into(),
            Self::Geographic(Crs::Gcj02) => "GCJ-02 (AMap, Tencent), converted to WGS-84".into(),
            Self::Geographic(Crs::Bd09) => "BD-09 (Baidu), converted to WGS-84".into(),
            Self::Projected(g) => format!(
                "{}{} (central meridian {}°E, false easting {} m), inverted to WGS-84",
                g.name,
                g.epsg.map(|e| format!(", EPSG:{e}")).unwrap_or_default(),
                g.central_meridian,
                g.false_easting
            ),
        }
    }
}

/// Accepts the datums taken as WGS-84 (CGCS2000, WGS 1984) and refuses the rest by name.
fn check_datum(geogcs: &wkt::Node) -> Result<(), String> {
    let datum = geogcs.child("DATUM").and_then(|d| d.first_text()).unwrap_or_default();
    let gcs = geogcs.first_text().unwrap_or_default();
    let key = format!("{datum} {gcs}").to_ascii_lowercase().replace([' ', '-', '_'], "");
    if key.contains("2000") && (key.contains("china") || key.contains("cgcs")) || key.contains("wgs1984") || key.contains("wgs84") {
        return Ok(());
    }
    let old = key.contains("beijing") || key.contains("xian") || key.contains("1954") || key.contains("1980");
    Err(if old {
        format!("datum {datum:?} (Beijing 1954 / Xi'an 1980) needs a seven-parameter transformation to reach CGCS2000; convert it with your bureau's parameters first")
    } else {
        format!("datum {datum:?}; import reads CGCS2000 and WGS-84")
    })
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
        while *at < c.len() && (c[*at].is_alphanumeric() || c[*at] == '_' || c[*at] == '.' || c[*at] == '-' || c[*at] == '+') {
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
    fn epsg_runs_have_the_published_meridians() {
        let g = GaussKruger::from_epsg(4527).unwrap();
        assert_eq!((g.central_meridian, g.false_easting), (117.0, 39_500_000.0));
        let g = GaussKruger::from_epsg(4547).unwrap();
        assert_eq!((g.central_meridian, g.false_easting), (114.0, 500_000.0));
        let g = GaussKruger::from_epsg(4491).unwrap();
        assert_eq!((g.central_meridian, g.false_easting), (75.0, 13_500_000.0));
        let g = GaussKruger::from_epsg(4512).unwrap();
        assert_eq!((g.central_meridian, g.false_easting), (135.0, 500_000.0));
        assert!(GaussKruger::from_epsg(4555).is_none());
    }

    #[test]
    fn crs_names_parse() {
        assert!(matches!(SourceCrs::parse("EPSG:4490"), Ok(SourceCrs::Geographic(Crs::Wgs84))));
        assert!(matches!(SourceCrs::parse("bd09"), Ok(SourceCrs::Geographic(Crs::Bd09))));
        assert!(matches!(SourceCrs::parse("epsg:4548"), Ok(SourceCrs::Projected(_))));
        assert!(SourceCrs::parse("EPSG:3857").is_err());
        assert!(SourceCrs::parse("mercator").is_err());
    }

    #[test]
    fn zone_prefix_mistake_is_explained() {
        let g = GaussKruger::from_epsg(4548).unwrap();
        let e = g.inverse(Coord { x: 39_511_000.0, y: 2_711_000.0 }).unwrap_err();
        assert!(e.contains("EPSG:4527"), "{e}");
    }

    #[test]
    fn old_datums_are_refused() {
        let wkt = r#"PROJCS["Xian_1980_3_Degree_GK_CM_117E",GEOGCS["GCS_Xian_1980",DATUM["D_Xian_1980",SPHEROID["Xian_1980",6378140.0,298.257]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",117.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;
        let e = SourceCrs::from_prj(wkt).unwrap_err();
        assert!(e.contains("seven-parameter"), "{e}");
    }
}
