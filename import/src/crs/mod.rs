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
//!
//! The parts: `projected` (a proj4rs system and its datum's way to WGS-84), `prj` (reading a
//! .prj, with `wkt` its WKT 1 reader) and `guess` (what projected coordinates look like).

mod guess;
mod prj;
mod projected;
mod wkt;

pub use guess::guess_projected;
pub use projected::{GaussKruger, Projected};

use geo::Coord;
use gis_core::crs::Crs;
use projected::{Proj4, datum_target, old_chinese_datum, old_datum_refusal, wkt_name};

/// A source's (or an export's) coordinate system.
// One per source, never held in bulk: boxing the large variant would only make matching clumsier.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum SourceCrs {
    /// Longitude/latitude: WGS-84 or CGCS2000 (taken as equal), GCJ-02 or BD-09.
    Geographic(Crs),
    /// A projected system in metres (or a geographic one on another datum), through proj4rs.
    Projected(Projected),
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

/// The WKT a .prj or a GeoPackage gets for an EPSG system (OGC WKT 1 with its authority, as
/// the EPSG table gives it; GDAL and QGIS read it back by code).
pub fn epsg_wkt(code: u16) -> Option<&'static str> {
    crs_definitions::from_code(code).map(|d| d.wkt)
}

#[cfg(test)]
mod tests {
    use super::*;
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
}
