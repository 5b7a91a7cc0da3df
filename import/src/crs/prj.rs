//! Reading a .prj (ESRI or OGC WKT 1): by the EPSG authority it names, else from its projection,
//! parameters and datum, matched back to an EPSG code where one has exactly those parameters.

use super::projected::{Proj4, Projected, datum_target, old_chinese_datum, old_datum_refusal, wkt_name};
use super::{SourceCrs, wkt};

impl SourceCrs {
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
        if let Some(code) = authority
            && let Ok(crs) = Self::from_epsg(code)
        {
            return Ok(crs);
        }
        let spheroid = datum.and_then(|d| d.child("SPHEROID"));
        let ellipsoid = match spheroid.and_then(|s| Some((s.number(1)?, s.number(2)?))) {
            Some((a, 0.0)) => format!("+a={a} +b={a}"),
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

#[cfg(test)]
mod tests {
    use super::*;
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
}
