//! What coordinates that cannot be longitude/latitude most likely are, for the message that
//! tells the user which `--crs` to give.

use super::projected::{Projected, zone_prefixed_epsg};
use geo::Coord;

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
    if zone == (x1 / 1e6).floor()
        && y0 >= 0.0
        && y1 <= 7e6
        && let Some(code) = zone_prefixed_epsg(zone)
        && let Ok(p) = Projected::from_epsg(code)
    {
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

#[cfg(test)]
mod tests {
    use super::*;
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
}
