//! Building placards (楼栋公示牌) from what is served: the building's address, its grid with the
//! grid's (and micro-grid's) workers as they are now, the nearest clinic, pharmacy and shop, and
//! the link that opens the building's grid card on the web map (`{public url}/b/{building id}`).
//! The same for `wangge placard` and `GET /v1/buildings/{id}/placard.{png,pdf}`; drawn on every
//! request from the version being served, so a placard is never older than the last publish.

use geo::Coord;
use gis_core::crs::Crs;
use gis_core::grid::{Grid, GridKind, GridLevel};
use gis_core::lookup::{LookupIndex, NearestQuery};
use gis_core::model::Dataset;
use gis_core::walk::{DEFAULT_SPEED_M_PER_MIN, ResourceWalks};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use tiles::placard::{Distance, NearbyService, Placard, PlacardError};

/// Everything but RFC 3986's unreserved characters is escaped (in a path segment or a query value).
pub const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// The stable link to a building's grid card: `/b/{id}` under the service's public URL.
pub fn link(public_url: &str, building: &str) -> String {
    format!(
        "{}/b/{}",
        public_url.trim_end_matches('/'),
        utf8_percent_encode(building, UNRESERVED)
    )
}

/// Where the placards' facts come from: the served layer's lookup index (grids, staff,
/// resources), the dataset and its walking network (nearest services by walk where there is
/// one), the version it is, and the URL residents reach the web map at.
pub struct Source<'a> {
    pub lookup: &'a LookupIndex,
    pub dataset: &'a Dataset,
    /// None: the dataset has nothing to walk on, and distances are printed as straight lines.
    pub walks: Option<&'a ResourceWalks>,
    pub version: Option<i64>,
    /// The version's publication day (YYYY-MM-DD), else today.
    pub date: String,
    pub public_url: &'a str,
}

/// "湖里区康乐社区嘉禾公寓3号楼" → "嘉禾公寓3号楼": what follows the community's name, as the
/// building is known at its door (the whole address when the name is not in it).
fn short_address(address: &str, community: Option<&str>) -> String {
    community
        .filter(|c| !c.is_empty())
        .and_then(|c| address.find(c).map(|i| &address[i + c.len()..]))
        .filter(|rest| !rest.trim().is_empty())
        .unwrap_or(address)
        .to_string()
}

/// The placard of one building (or unit part `ID#UNIT`); `None` for an id the layer does not know.
pub fn placard(src: &Source, building: &str) -> Option<Placard> {
    let found = src.lookup.building(building)?;
    let grid = found.grid.as_ref()?;
    let community_name = grid.community_name.clone().unwrap_or_default();
    let mut staff: Vec<(String, String, Option<String>)> = Vec::new();
    let mut leaders_first: Vec<_> = grid.staff.iter().collect();
    leaders_first.sort_by_key(|s| s.role != "网格长");
    for s in leaders_first
        .into_iter()
        .chain(grid.micro.iter().flat_map(|m| m.staff.iter()))
    {
        let entry = (s.role.clone(), s.name.clone(), s.phone.clone());
        if !staff.iter().any(|e| e.1 == entry.1 && e.2 == entry.2) {
            staff.push(entry);
        }
    }
    let at = Coord {
        x: found.candidate.location[0],
        y: found.candidate.location[1],
    };
    // As the web map's grid card: the nearest clinic, pharmacy and shop, by walk where the data
    // has a network (a straight line is printed as one, never as a walk).
    let nearby = [&["clinic", "hospital"][..], &["pharmacy"], &["shop", "supermarket"]]
        .iter()
        .filter_map(|kinds| {
            let kinds: Vec<String> = kinds.iter().map(|k| k.to_string()).collect();
            let walked = src
                .walks
                .and_then(|w| w.nearest(at, &kinds, 1, None))
                .and_then(|(_, found)| found.into_iter().next())
                .map(|f| {
                    let r = &src.dataset.resources[f.target];
                    NearbyService {
                        kind: r.kind.clone(),
                        name: r.name.clone(),
                        distance: Distance::Walk {
                            metres: f.metres,
                            minutes: f.metres / DEFAULT_SPEED_M_PER_MIN,
                        },
                    }
                });
            walked.or_else(|| {
                let q = NearestQuery {
                    kinds,
                    limit: 1,
                    radius_m: None,
                };
                let r = src.lookup.nearest(at, Crs::Wgs84, &q).ok()?.into_iter().next()?;
                Some(NearbyService {
                    kind: r.kind,
                    name: r.name,
                    distance: Distance::Straight { metres: r.distance_m },
                })
            })
        })
        .collect();
    let full = found.candidate.address.clone();
    let address = short_address(&full, grid.community_name.as_deref());
    Some(Placard {
        building: building.to_string(),
        full_address: (address != full).then_some(full),
        address,
        community_name,
        community_code: grid.community_code.clone(),
        grid_code: grid.code.clone(),
        exclusive: grid.kind == GridKind::Exclusive,
        grid_name: grid.name.clone(),
        micro_code: grid.micro.as_ref().map(|m| m.code.clone()),
        staff,
        nearby,
        link: link(src.public_url, building),
        version: src.version,
        date: src.date.clone(),
    })
}

/// The buildings of a grid (its building list, unit parts folded into their building), in
/// natural order; `None` for a code that is not a grid of the layer.
pub fn buildings_of_grid(grids: &[Grid], code: &str) -> Option<Vec<String>> {
    let g = grids.iter().find(|g| g.code == code && g.level == GridLevel::Grid)?;
    let mut ids: Vec<String> = g
        .buildings
        .iter()
        .map(|b| b.split('#').next().unwrap_or(b).to_string())
        .collect();
    ids.sort_by(|a, b| gis_core::lookup::suggest::natural_cmp(a, b));
    ids.dedup();
    Some(ids)
}

/// Why placards could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PlacardsError {
    #[error("no building has the id {0:?}")]
    NoSuchBuilding(String),
    #[error("no grid has the code {0:?}")]
    NoSuchGrid(String),
    #[error(transparent)]
    Draw(#[from] PlacardError),
}

/// The placards of `buildings`, in order; an unknown id is an error naming it.
pub fn placards(src: &Source, buildings: &[String]) -> Result<Vec<Placard>, PlacardsError> {
    buildings
        .iter()
        .map(|b| placard(src, b).ok_or_else(|| PlacardsError::NoSuchBuilding(b.clone())))
        .collect()
}

/// What a placard says, as JSON (`placard.json`).
pub fn to_json(p: &Placard) -> serde_json::Value {
    serde_json::json!({
        "building": p.building,
        "address": p.address,
        "full_address": p.full_address,
        "community_name": p.community_name,
        "community_code": p.community_code,
        "grid": p.grid_code,
        "kind": if p.exclusive { "exclusive" } else { "basic" },
        "grid_name": p.grid_name,
        "micro_grid": p.micro_code,
        "staff": p.staff.iter().map(|(role, name, phone)| serde_json::json!({"role": role, "name": name, "phone": phone})).collect::<Vec<_>>(),
        "nearby": p.nearby.iter().map(|n| {
            let by = match n.distance { Distance::Walk { .. } => "walk", Distance::Straight { .. } => "straight" };
            serde_json::json!({"kind": n.kind, "name": n.name, "by": by, "distance_m": (n.distance.metres() * 10.0).round() / 10.0})
        }).collect::<Vec<_>>(),
        "link": p.link,
        "version": p.version,
        "date": p.date,
    })
}

/// "2026-12-05T08:00:00Z" → "2026-12-05".
pub fn day_of(rfc3339: &str) -> String {
    rfc3339.get(..10).unwrap_or(rfc3339).to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn links_escape_the_id_as_a_path_segment() {
        assert_eq!(super::link("https://x.cn/", "KL-B0003"), "https://x.cn/b/KL-B0003");
        assert_eq!(super::link("https://x.cn", "way/12 3"), "https://x.cn/b/way%2F12%203");
    }

    #[test]
    fn the_short_address_is_what_follows_the_community() {
        assert_eq!(
            super::short_address("湖里区康乐社区嘉禾公寓3号楼", Some("康乐社区")),
            "嘉禾公寓3号楼"
        );
        assert_eq!(
            super::short_address("Aleksanterinkatu 15", Some("Kluuvi")),
            "Aleksanterinkatu 15"
        );
    }
}
