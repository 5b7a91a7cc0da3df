//! Life-circle coverage per grid and per community: for each service kind, the residents and
//! households within each circle's walk, the shares, who is beyond the kind's own circle, and the
//! buildings and grids furthest from it ("where would a new clinic help most?").
//!
//! People are counted as the diff counts them: a building (or unit part `ID#UNIT`, which walks
//! from its building's door) is in the grid whose building list names it; a population point is
//! in the grid covering its location; a community holds the buildings and points the dataset
//! places in it.

use super::config::{AccessConfig, LifeCircle};
use super::walks::{KindWalks, NO_PLACE, Walks};
use crate::geom::AreaIndex;
use crate::grid::{Grid, GridKind, GridLevel};
use crate::model::Dataset;
use crate::walk::WalkStats;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::Serialize;

/// Life-circle coverage of a region: per community and per grid, per kind.
#[derive(Debug, Clone, Serialize)]
pub struct AccessReport {
    pub speed_m_per_min: f64,
    pub circles: Vec<LifeCircle>,
    /// Each kind assessed: its circle and how many places it has.
    pub kinds: Vec<KindPlaces>,
    /// The walking network the walks were measured on.
    pub network: WalkStats,
    /// Homes that could not join the network (no network at all): counted as reaching nothing.
    pub homes_not_joined: usize,
    pub communities: Vec<AreaAccess>,
    pub grids: Vec<AreaAccess>,
    /// Per kind, the grids with the most residents beyond its circle and the buildings furthest
    /// from it, weighed by residents.
    pub furthest: Vec<KindFurthest>,
}

#[derive(Debug, Clone, Serialize)]
pub struct KindPlaces {
    pub kind: String,
    pub circle: LifeCircle,
    /// Places of the kind in the dataset, and how many of them join the network.
    pub places: usize,
    pub joined: usize,
}

/// One grid's or community's coverage.
#[derive(Debug, Clone, Serialize)]
pub struct AreaAccess {
    pub code: String,
    /// The community's name, or an exclusive grid's institution.
    pub name: Option<String>,
    /// The grid's community (None for a community).
    pub community_code: Option<String>,
    /// `basic` or `exclusive` for a grid.
    pub grid_kind: Option<GridKind>,
    pub residents: u64,
    pub households: u64,
    pub kinds: Vec<KindAccess>,
}

/// One kind's coverage of an area.
#[derive(Debug, Clone, Serialize)]
pub struct KindAccess {
    pub kind: String,
    /// The circle the kind belongs in.
    pub circle: LifeCircle,
    /// Residents and households within each circle's walk of the nearest place of the kind.
    pub within: Vec<Within>,
    /// Share of residents within the kind's own circle (None where nobody lives).
    pub covered_share: Option<f64>,
    /// Residents and households beyond the kind's own circle (or reaching no place at all).
    pub residents_beyond: u64,
    pub households_beyond: u64,
    /// Of them, reaching no place of the kind at all.
    pub residents_unreached: u64,
    /// The area's buildings beyond the circle, most residents × metres first.
    pub furthest: Vec<FarBuilding>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Within {
    pub minutes: u32,
    pub metres: f64,
    pub residents: u64,
    pub households: u64,
    pub residents_share: Option<f64>,
    pub households_share: Option<f64>,
}

/// A building (or unit part) far from a kind.
#[derive(Debug, Clone, Serialize)]
pub struct FarBuilding {
    pub id: String,
    pub address: Option<String>,
    pub grid: Option<String>,
    pub community_code: String,
    pub residents: u64,
    pub households: u64,
    /// Walking metres to the nearest place (None: no place reachable).
    pub metres: Option<f64>,
    pub minutes: Option<f64>,
    /// The nearest place's id and name.
    pub nearest: Option<String>,
    pub nearest_name: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct KindFurthest {
    pub kind: String,
    pub grids: Vec<FarGrid>,
    pub buildings: Vec<FarBuilding>,
}

/// A grid with many residents beyond a kind's circle.
#[derive(Debug, Clone, Serialize)]
pub struct FarGrid {
    pub code: String,
    pub community_code: String,
    pub residents: u64,
    pub residents_beyond: u64,
    pub households_beyond: u64,
    pub share_beyond: Option<f64>,
}

/// A home: a building's or unit part's people, or a population point's.
struct Home {
    /// The building (its walk), or None for a point.
    building: Option<usize>,
    point: Option<usize>,
    member: Option<String>,
    residents: u64,
    households: u64,
    community: usize,
    grid: Option<usize>,
}

/// Running counts of one kind over one area.
#[derive(Clone)]
struct Tally {
    within: Vec<(u64, u64)>,
    beyond: (u64, u64),
    unreached: u64,
    /// (home index, metres) of buildings beyond the circle.
    far: Vec<(usize, f64)>,
}

impl AccessReport {
    /// The coverage of `walks` over the dataset's communities and the layer's grids (grid level;
    /// micro-grids are not assessed).
    pub fn new(
        dataset: &Dataset,
        grids: &[Grid],
        config: &AccessConfig,
        walks: &Walks,
        network: &WalkStats,
        homes_not_joined: usize,
    ) -> Self {
        let grids: Vec<&Grid> = grids.iter().filter(|g| g.level == GridLevel::Grid).collect();
        let homes = homes(dataset, &grids);
        let kinds: Vec<(&KindWalks, LifeCircle)> = walks
            .kinds
            .iter()
            .filter_map(|k| config.circle_of(&k.kind).map(|c| (k, c)))
            .collect();
        let empty = Tally {
            within: vec![(0, 0); config.circles.len()],
            beyond: (0, 0),
            unreached: 0,
            far: Vec::new(),
        };
        let fresh = || vec![empty.clone(); kinds.len()];
        let mut by_community: Vec<Vec<Tally>> = (0..dataset.communities.len()).map(|_| fresh()).collect();
        let mut by_grid: Vec<Vec<Tally>> = (0..grids.len()).map(|_| fresh()).collect();
        let mut people_c = vec![(0u64, 0u64); dataset.communities.len()];
        let mut people_g = vec![(0u64, 0u64); grids.len()];
        for (h, home) in homes.iter().enumerate() {
            let add = |p: &mut (u64, u64)| {
                p.0 += home.residents;
                p.1 += home.households;
            };
            if let Some(c) = people_c.get_mut(home.community) {
                add(c);
            }
            if let Some(g) = home.grid {
                add(&mut people_g[g]);
            }
            for (k, (walk, circle)) in kinds.iter().enumerate() {
                let metres = match (home.building, home.point) {
                    (Some(b), _) => walk.buildings[b],
                    (None, Some(p)) => walk.points[p],
                    _ => f64::INFINITY,
                };
                let count = |t: &mut Tally| {
                    for (i, c) in config.circles.iter().enumerate() {
                        if metres <= c.metres {
                            t.within[i].0 += home.residents;
                            t.within[i].1 += home.households;
                        }
                    }
                    if metres > circle.metres {
                        t.beyond.0 += home.residents;
                        t.beyond.1 += home.households;
                        if !metres.is_finite() {
                            t.unreached += home.residents;
                        }
                        if home.building.is_some() && home.residents > 0 && config.furthest > 0 {
                            t.far.push((h, metres));
                        }
                    }
                };
                if let Some(t) = by_community.get_mut(home.community) {
                    count(&mut t[k]);
                }
                if let Some(g) = home.grid {
                    count(&mut by_grid[g][k]);
                }
            }
        }
        let n = config.furthest;
        let far = |list: &mut Vec<(usize, f64)>, k: usize| -> Vec<FarBuilding> {
            rank(list, &homes, n);
            list.iter()
                .map(|&(h, m)| far_building(dataset, &grids, config, &homes[h], m, kinds[k].0))
                .collect()
        };
        let kind_access = |tallies: &mut [Tally], people: (u64, u64)| -> Vec<KindAccess> {
            tallies
                .iter_mut()
                .enumerate()
                .map(|(k, t)| {
                    let circle = kinds[k].1;
                    let own = config
                        .circles
                        .iter()
                        .position(|c| c.minutes == circle.minutes)
                        .unwrap_or(0);
                    KindAccess {
                        kind: kinds[k].0.kind.clone(),
                        circle,
                        within: config
                            .circles
                            .iter()
                            .zip(&t.within)
                            .map(|(c, &(r, h))| Within {
                                minutes: c.minutes,
                                metres: c.metres,
                                residents: r,
                                households: h,
                                residents_share: share(r, people.0),
                                households_share: share(h, people.1),
                            })
                            .collect(),
                        covered_share: share(t.within[own].0, people.0),
                        residents_beyond: t.beyond.0,
                        households_beyond: t.beyond.1,
                        residents_unreached: t.unreached,
                        furthest: far(&mut t.far, k),
                    }
                })
                .collect()
        };
        // Areas in parallel: each ranks its own furthest buildings (most of this step's time).
        let communities = dataset
            .communities
            .par_iter()
            .zip(by_community.par_iter_mut())
            .zip(people_c.par_iter())
            .map(|((community, tallies), &people)| AreaAccess {
                code: community.code.as_str().to_string(),
                name: Some(community.name.clone()),
                community_code: None,
                grid_kind: None,
                residents: people.0,
                households: people.1,
                kinds: kind_access(tallies, people),
            })
            .collect();
        let grid_access: Vec<AreaAccess> = grids
            .par_iter()
            .zip(by_grid.par_iter_mut())
            .zip(people_g.par_iter())
            .map(|((grid, tallies), &people)| AreaAccess {
                code: grid.code.clone(),
                name: grid.name.clone(),
                community_code: Some(grid.community_code.clone()),
                grid_kind: Some(grid.kind),
                residents: people.0,
                households: people.1,
                kinds: kind_access(tallies, people),
            })
            .collect();
        // The region's furthest: every building beyond the circle, ranked the same way.
        let furthest = kinds
            .iter()
            .enumerate()
            .map(|(k, (walk, circle))| {
                let mut list: Vec<(usize, f64)> = homes
                    .iter()
                    .enumerate()
                    .filter(|(_, h)| h.residents > 0)
                    .filter_map(|(i, h)| {
                        let m = walk.buildings[h.building?];
                        (m > circle.metres).then_some((i, m))
                    })
                    .collect();
                let mut far_grids: Vec<FarGrid> = grid_access
                    .iter()
                    .filter_map(|g| {
                        let ka = &g.kinds[k];
                        (ka.residents_beyond > 0).then(|| FarGrid {
                            code: g.code.clone(),
                            community_code: g.community_code.clone().unwrap_or_default(),
                            residents: g.residents,
                            residents_beyond: ka.residents_beyond,
                            households_beyond: ka.households_beyond,
                            share_beyond: share(ka.residents_beyond, g.residents),
                        })
                    })
                    .collect();
                far_grids.sort_by(|a, b| {
                    b.residents_beyond
                        .cmp(&a.residents_beyond)
                        .then_with(|| a.code.cmp(&b.code))
                });
                far_grids.truncate(n);
                KindFurthest {
                    kind: walk.kind.clone(),
                    grids: far_grids,
                    buildings: far(&mut list, k),
                }
            })
            .collect();
        Self {
            speed_m_per_min: config.speed_m_per_min,
            circles: config.circles.clone(),
            kinds: kinds
                .iter()
                .map(|(w, c)| KindPlaces {
                    kind: w.kind.clone(),
                    circle: *c,
                    places: w.places.len(),
                    joined: w.joined,
                })
                .collect(),
            network: network.clone(),
            homes_not_joined,
            communities,
            grids: grid_access,
            furthest,
        }
    }

    pub fn grid(&self, code: &str) -> Option<&AreaAccess> {
        self.grids.iter().find(|g| g.code == code)
    }

    pub fn community(&self, code: &str) -> Option<&AreaAccess> {
        self.communities.iter().find(|c| c.code == code)
    }
}

/// Everyone the dataset knows: each grid's members (a building, or a unit part with its unit's
/// people), the buildings in no grid, and every population point in the grid covering it.
fn homes(dataset: &Dataset, grids: &[&Grid]) -> Vec<Home> {
    let by_id: FxHashMap<&str, usize> = dataset
        .buildings
        .iter()
        .enumerate()
        .map(|(i, b)| (b.id.as_str(), i))
        .collect();
    let mut placed = vec![false; dataset.buildings.len()];
    let mut out = Vec::with_capacity(dataset.buildings.len() + dataset.points.len());
    for (g, grid) in grids.iter().enumerate() {
        for m in &grid.buildings {
            let (b, residents, households) = if let Some(&b) = by_id.get(m.as_str()) {
                let bl = &dataset.buildings[b];
                (b, bl.population, bl.households)
            } else if let Some((id, unit)) = m.rsplit_once('#')
                && let Some(&b) = by_id.get(id)
                && let Some(u) = dataset.buildings[b].units.iter().find(|u| u.name == unit)
            {
                (b, u.population, u.households)
            } else {
                // A member the dataset does not know: nobody to count (validate reports it).
                continue;
            };
            placed[b] = true;
            out.push(Home {
                building: Some(b),
                point: None,
                member: Some(m.clone()),
                residents: residents.into(),
                households: households.into(),
                community: dataset.buildings[b].community,
                grid: Some(g),
            });
        }
    }
    for (b, bl) in dataset.buildings.iter().enumerate() {
        if !placed[b] {
            out.push(Home {
                building: Some(b),
                point: None,
                member: Some(bl.id.clone()),
                residents: bl.population.into(),
                households: bl.households.into(),
                community: bl.community,
                grid: None,
            });
        }
    }
    let index = AreaIndex::new(grids.iter().map(|&g| &g.area));
    for (p, pt) in dataset.points.iter().enumerate() {
        out.push(Home {
            building: None,
            point: Some(p),
            member: None,
            residents: pt.count.into(),
            households: pt.households().into(),
            community: pt.community,
            grid: if grids.is_empty() {
                None
            } else {
                index.locate(pt.location)
            },
        });
    }
    out
}

/// Keeps the `n` furthest of `list`, furthest first: unreachable homes (most residents first),
/// then residents × metres; ties by member, then by home. Only the kept ones are sorted: an area
/// lists a few of its hundreds of far buildings.
fn rank(list: &mut Vec<(usize, f64)>, homes: &[Home], n: usize) {
    let weight = |&(h, m): &(usize, f64)| homes[h].residents as f64 * m;
    let order = |a: &(usize, f64), b: &(usize, f64)| {
        let (fa, fb) = (a.1.is_finite(), b.1.is_finite());
        fa.cmp(&fb)
            .then_with(|| {
                if fa {
                    weight(b).total_cmp(&weight(a))
                } else {
                    homes[b.0].residents.cmp(&homes[a.0].residents)
                }
            })
            .then_with(|| homes[a.0].member.cmp(&homes[b.0].member))
            .then_with(|| a.0.cmp(&b.0))
    };
    if list.len() > n {
        list.select_nth_unstable_by(n, order);
        list.truncate(n);
    }
    list.sort_unstable_by(order);
}

fn far_building(
    dataset: &Dataset,
    grids: &[&Grid],
    config: &AccessConfig,
    home: &Home,
    metres: f64,
    walk: &KindWalks,
) -> FarBuilding {
    let b = home.building.expect("a building");
    let building = &dataset.buildings[b];
    let place = walk.nearest[b];
    let place = (place != NO_PLACE).then(|| &dataset.resources[place as usize]);
    let finite = metres.is_finite().then_some(metres);
    FarBuilding {
        id: home.member.clone().unwrap_or_default(),
        address: building.address.clone(),
        grid: home.grid.map(|g| grids[g].code.clone()),
        community_code: dataset
            .communities
            .get(building.community)
            .map(|c| c.code.as_str().to_string())
            .unwrap_or_default(),
        residents: home.residents,
        households: home.households,
        metres: finite.map(round1),
        minutes: finite.map(|m| round1(config.minutes(m))),
        nearest: place.map(|r| r.id.clone()),
        nearest_name: place.map(|r| r.name.clone()),
    }
}

fn share(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 / whole as f64 * 10_000.0).round() / 10_000.0)
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::{Home, rank};
    use proptest::prelude::*;

    fn home(member: u8, residents: u64) -> Home {
        Home {
            building: Some(0),
            point: None,
            member: Some(format!("b{member}")),
            residents,
            households: 0,
            community: 0,
            grid: None,
        }
    }

    proptest! {
        /// Keeping the first `n` by selection lists exactly what the full stable sort it replaced
        /// listed first, ties included (few members, residents and distances, some unreachable).
        #[test]
        fn the_kept_furthest_are_the_full_sorts_first(
            homes in prop::collection::vec((0u8..6, 0u64..4), 1..40),
            picks in prop::collection::vec((0usize..40, prop_oneof![Just(f64::INFINITY), (0u32..5).prop_map(f64::from)]), 0..60),
            n in 0usize..12,
        ) {
            let homes: Vec<Home> = homes.into_iter().map(|(m, r)| home(m, r)).collect();
            // As the coverage builds them: each home at most once, in home order.
            let mut list: Vec<(usize, f64)> = picks.into_iter().map(|(h, m)| (h % homes.len(), m)).collect();
            list.sort_by_key(|&(h, _)| h);
            list.dedup_by_key(|&mut (h, _)| h);
            let weight = |&(h, m): &(usize, f64)| homes[h].residents as f64 * m;
            let mut full = list.clone();
            full.sort_by(|a, b| {
                let (fa, fb) = (a.1.is_finite(), b.1.is_finite());
                fa.cmp(&fb)
                    .then_with(|| if fa {
                        weight(b).total_cmp(&weight(a))
                    } else {
                        homes[b.0].residents.cmp(&homes[a.0].residents)
                    })
                    .then_with(|| homes[a.0].member.cmp(&homes[b.0].member))
            });
            full.truncate(n);
            let mut kept = list;
            rank(&mut kept, &homes, n);
            let bits = |v: &[(usize, f64)]| v.iter().map(|&(h, m)| (h, m.to_bits())).collect::<Vec<_>>();
            prop_assert_eq!(bits(&kept), bits(&full));
        }
    }
}
