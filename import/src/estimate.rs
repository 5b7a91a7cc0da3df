//! Residents where no source gives them: footprint area × floors × residents per m² of floor, by
//! what the building is used for. OpenStreetMap never has residents, and real footprint files
//! rarely do; every source takes the same estimate, and the report says so.

use crate::dataset::{Draft, Feature};
use crate::error::ImportError;
use crate::source::Role;
use geo::Geometry;
use gis_core::measure::area_m2;
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;

/// Residents per m² of floor and floors by building use (OpenStreetMap's `building=*` values;
/// common Chinese names are read as their English equivalents, see [`Densities::canonical_use`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Densities {
    /// Residents per m² of floor, by use; unlisted uses take `other_density`.
    pub density: BTreeMap<String, f64>,
    pub other_density: f64,
    /// Floors when a building gives none, by use; else `other_levels`.
    pub levels: BTreeMap<String, f64>,
    pub other_levels: f64,
}

impl Densities {
    /// 40 m² of floor per resident in homes (China's urban housing floor area per person is
    /// about 40 m², 2020 census); 10 m² in dormitories; half the home rate for a building of
    /// unknown use (OpenStreetMap's `building=yes`, a footprint file with no use field), which
    /// may or may not be lived in; none in buildings of other uses.
    pub fn standard() -> Self {
        let homes = [
            "apartments",
            "residential",
            "house",
            "detached",
            "semidetached_house",
            "terrace",
            "bungalow",
            "farm",
            "cabin",
            "static_caravan",
        ];
        let mut density: BTreeMap<String, f64> = homes.iter().map(|t| (t.to_string(), 0.025)).collect();
        density.insert("dormitory".into(), 0.1);
        density.insert(UNKNOWN.into(), 0.0125);
        let levels = [
            ("apartments", 6.0),
            ("residential", 4.0),
            ("dormitory", 4.0),
            (UNKNOWN, 2.0),
            ("house", 2.0),
            ("detached", 2.0),
            ("semidetached_house", 2.0),
            ("terrace", 2.0),
        ]
        .into_iter()
        .map(|(t, n)| (t.to_string(), n))
        .collect();
        Self {
            density,
            other_density: 0.0,
            levels,
            other_levels: 1.0,
        }
    }

    pub fn density_of(&self, building_use: &str) -> f64 {
        self.density.get(building_use).copied().unwrap_or(self.other_density)
    }

    pub fn levels_of(&self, building_use: &str) -> f64 {
        self.levels.get(building_use).copied().unwrap_or(self.other_levels)
    }

    /// Sets a density (residents per m² of floor) for a use; `other` or `*` for unlisted uses.
    pub fn set_density(&mut self, building_use: &str, v: f64) -> Result<(), ImportError> {
        if !(v.is_finite() && v >= 0.0) {
            return Err(ImportError::Setting(format!(
                "density {building_use}={v}: expected residents per m² of floor ≥ 0"
            )));
        }
        match building_use {
            "other" | "*" => self.other_density = v,
            u => {
                self.density.insert(Self::canonical_use(u), v);
            }
        }
        Ok(())
    }

    /// Sets the floors taken for a use when a building gives none; `other` or `*` for unlisted uses.
    pub fn set_levels(&mut self, building_use: &str, v: f64) -> Result<(), ImportError> {
        if !(v.is_finite() && v >= 1.0) {
            return Err(ImportError::Setting(format!(
                "levels {building_use}={v}: expected at least 1 floor"
            )));
        }
        match building_use {
            "other" | "*" => self.other_levels = v,
            u => {
                self.levels.insert(Self::canonical_use(u), v);
            }
        }
        Ok(())
    }

    /// Reads `{"density": {"apartments": 0.03, "other": 0}, "levels": {"apartments": 9}}` over
    /// these values: what a file lists replaces, the rest stays.
    pub fn merge_json(&mut self, text: &str) -> Result<(), String> {
        let v: Json = serde_json::from_str(text.strip_prefix('\u{feff}').unwrap_or(text))
            .map_err(|e| format!("not JSON: {e}"))?;
        let Json::Object(root) = v else {
            return Err("expected an object {\"density\": {USE: PER_M2}, \"levels\": {USE: N}}".into());
        };
        for (key, table) in &root {
            if key != "density" && key != "levels" {
                return Err(format!("unknown table {key:?}; expected \"density\" and \"levels\""));
            }
            let Json::Object(table) = table else {
                return Err(format!("{key}: expected an object {{USE: NUMBER}}"));
            };
            for (u, n) in table {
                let n = n
                    .as_f64()
                    .ok_or_else(|| format!("{key}.{u}: expected a number, found {n}"))?;
                if key == "density" {
                    self.set_density(u, n)
                } else {
                    self.set_levels(u, n)
                }
                .map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }

    /// A use as the tables name it: lower case, OpenStreetMap's words for the Chinese ones.
    pub fn canonical_use(raw: &str) -> String {
        let t = raw.trim();
        match t {
            "住宅" | "居住" | "住宅楼" | "居民楼" | "民居" | "商住" | "居民住宅" => "residential",
            "公寓" | "公寓楼" => "apartments",
            "宿舍" | "集体宿舍" | "宿舍楼" => "dormitory",
            "别墅" | "独栋" => "detached",
            "平房" | "农房" | "自建房" | "农村住宅" => "house",
            "" => UNKNOWN,
            _ => return t.to_lowercase(),
        }
        .to_string()
    }

    /// For the report: "apartments 0.025, …, other 0".
    pub fn describe(&self) -> String {
        let d: Vec<String> = self
            .density
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .chain(std::iter::once(format!("other {}", self.other_density)))
            .collect();
        let l: Vec<String> = self
            .levels
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .chain(std::iter::once(format!("other {}", self.other_levels)))
            .collect();
        format!(
            "residents per m² of floor: {}; floors when none is given: {}",
            d.join(", "),
            l.join(", ")
        )
    }
}

/// The use of a building whose source says nothing (OpenStreetMap's untyped `building=yes`).
pub const UNKNOWN: &str = "yes";

/// Gives every building without `population` an estimate, and says so per source.
pub fn estimate(draft: &mut Draft, densities: &Densities) {
    let Some(buildings) = draft.files.get_mut(&Role::Buildings) else {
        return;
    };
    // source → (estimated, of which without floors)
    let mut by_source: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for f in buildings
        .iter_mut()
        .filter(|f| !f.properties.contains_key("population"))
    {
        let e = by_source.entry(f.source.display().to_string()).or_default();
        e.0 += 1;
        let residents = residents(f, densities, &mut e.1);
        f.properties.insert("population".into(), json!(residents));
    }
    for (source, (n, no_floors)) in by_source {
        draft.notes.assume(format!(
            "{source}: no residents given: {n} buildings estimated as footprint area × floors × residents per m² of floor by use; {no_floors} had no floors and took the default for their use ({}; set with --density USE=PER_M2, --levels USE=N or --densities FILE)",
            densities.describe()
        ));
    }
}

fn residents(f: &Feature, densities: &Densities, no_floors: &mut usize) -> u32 {
    let building_use = f
        .building_use
        .as_deref()
        .map(Densities::canonical_use)
        .unwrap_or_else(|| UNKNOWN.to_string());
    let floors = f.properties.get("floors").and_then(Json::as_f64).unwrap_or_else(|| {
        *no_floors += 1;
        densities.levels_of(&building_use)
    });
    let area = match &f.geometry {
        Geometry::MultiPolygon(mp) => area_m2(mp),
        _ => 0.0,
    };
    (area * floors * densities.density_of(&building_use))
        .round()
        .clamp(0.0, f64::from(u32::MAX)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_uses_read_as_their_english_names() {
        let d = Densities::standard();
        assert_eq!(Densities::canonical_use("住宅"), "residential");
        assert_eq!(Densities::canonical_use(" Apartments "), "apartments");
        assert_eq!(d.density_of(&Densities::canonical_use("宿舍")), 0.1);
        assert_eq!(d.density_of("office"), 0.0);
    }

    #[test]
    fn a_densities_file_replaces_what_it_lists() {
        let mut d = Densities::standard();
        d.merge_json(r#"{"density": {"apartments": 0.03, "other": 0.001}, "levels": {"住宅": 5}}"#)
            .unwrap();
        assert_eq!(d.density_of("apartments"), 0.03);
        assert_eq!(d.density_of("office"), 0.001);
        assert_eq!(d.levels_of("residential"), 5.0);
        assert_eq!(d.density_of("house"), 0.025);
        assert!(
            d.merge_json(r#"{"density": {"apartments": -1}}"#)
                .unwrap_err()
                .contains("≥ 0")
        );
        assert!(d.merge_json(r#"{"densty": {}}"#).unwrap_err().contains("unknown table"));
    }
}
