//! One published layer in memory, indexed to answer what a resident or another system asks:
//! which grid covers this point or address (with the grid's staff), and what is nearest. The
//! HTTP service builds one per published version and swaps it whole on publish.

use super::geocode::{Candidate, Geocoder, MatchLevel};
use super::grid_index::{GridIndex, IndexError, Located};
use super::nearest::{NearestQuery, ResourceIndex};
use super::suggest::{MAX_QUERY_CHARS, MAX_SUGGESTIONS, Suggester, Suggestion};
use crate::crs::Crs;
use crate::grid::{Grid, GridKind};
use crate::model::{Dataset, Staff};
use geo::Coord;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;

/// Most items in one batch.
pub const MAX_BATCH: usize = 10_000;
/// Most candidates or resources in one answer.
pub const MAX_LIMIT: usize = 1_000;
/// Longest address accepted, in characters.
pub const MAX_ADDRESS_CHARS: usize = 500;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LookupError {
    #[error(
        "the point ({x}, {y}) is not a longitude/latitude: longitude must be in [-180, 180] and latitude in [-90, 90]"
    )]
    InvalidPoint { x: f64, y: f64 },
    #[error("a batch holds at most {max} items; this one holds {got}")]
    TooMany { max: usize, got: usize },
    #[error("the address is empty")]
    EmptyAddress,
    #[error("the address is longer than {max} characters")]
    AddressTooLong { max: usize },
    #[error("limit must be between 1 and {max}; got {got}")]
    InvalidLimit { max: usize, got: usize },
    #[error("the query is empty")]
    EmptyQuery,
    #[error("the query is longer than {max} characters")]
    QueryTooLong { max: usize },
    #[error("radius must be a number of metres ≥ 0; got {0}")]
    InvalidRadius(f64),
    #[error(transparent)]
    Index(#[from] IndexError),
}

/// A micro-grid in a lookup answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MicroAnswer {
    pub code: String,
    pub population: u64,
    pub households: u64,
    pub staff: Vec<Staff>,
}

/// A grid in a lookup answer: what a resident needs to know about it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GridAnswer {
    pub code: String,
    pub kind: GridKind,
    /// The institution's name, for an exclusive grid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub community_code: String,
    pub community_name: Option<String>,
    pub population: u64,
    pub households: u64,
    pub micro: Option<MicroAnswer>,
    pub staff: Vec<Staff>,
}

/// An address candidate with the grid that holds it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AddressCandidate {
    #[serde(flatten)]
    pub candidate: Candidate,
    /// The grid holding the building (by the layer's building lists, else by its location);
    /// for a compound or community, the grid at its location.
    pub grid: Option<GridAnswer>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AddressAnswer {
    pub candidates: Vec<AddressCandidate>,
    /// More than one candidate shares the best score, or the best is not a building.
    pub ambiguous: bool,
}

/// A resource in a nearest answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NearbyResource {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub phone: Option<String>,
    pub hours: Option<String>,
    pub address: Option<String>,
    /// WGS-84 longitude, latitude.
    pub location: [f64; 2],
    pub distance_m: f64,
}

/// One item of a batch: a point (in the batch's coordinate system) or an address.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum BatchItem {
    Point { lon: f64, lat: f64 },
    Address { address: String },
}

/// The answer to one batch item; a bad item gets an error, not the whole batch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchAnswer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grid: Option<GridAnswer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<AddressAnswer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A published layer, indexed for lookups. Cloning is cheap (the indexes are shared), so a
/// server can swap in a copy with new staff ([`LookupIndex::with_staff`]) without re-indexing.
#[derive(Debug, Clone)]
pub struct LookupIndex {
    index: Arc<GridIndex>,
    geocoder: Arc<Geocoder>,
    suggester: Arc<Suggester>,
    resources: Arc<ResourceIndex>,
    staff: Arc<HashMap<String, Vec<Staff>>>,
    community_names: Arc<HashMap<String, String>>,
    /// Building id or unit part (`ID#UNIT`) → (grid, micro-grid) codes.
    holder: Arc<HashMap<String, (String, Option<String>)>>,
}

fn check_point(c: Coord<f64>) -> Result<(), LookupError> {
    if (-180.0..=180.0).contains(&c.x) && (-90.0..=90.0).contains(&c.y) {
        Ok(())
    } else {
        Err(LookupError::InvalidPoint { x: c.x, y: c.y })
    }
}

fn check_limit(limit: usize) -> Result<(), LookupError> {
    if (1..=MAX_LIMIT).contains(&limit) {
        Ok(())
    } else {
        Err(LookupError::InvalidLimit {
            max: MAX_LIMIT,
            got: limit,
        })
    }
}

impl LookupIndex {
    /// Indexes a layer (`grids`, both levels) over the dataset it was drawn from, with staff.
    ///
    /// # Examples
    ///
    /// ```
    /// use geo::Coord;
    /// use gis_core::crs::Crs;
    /// use gis_core::io::load_dataset;
    /// use gis_core::lookup::LookupIndex;
    /// use gis_core::partition::{PartitionOptions, partition};
    /// use std::path::Path;
    ///
    /// let dataset = load_dataset(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/kangle"))?.dataset;
    /// let grids = partition(&dataset, &PartitionOptions::default(), &mut |_, _| {}).grids;
    /// let index = LookupIndex::new(&dataset, grids, &dataset.staff)?;
    ///
    /// // A building's anchor lies in its grid, in its community.
    /// let b = &dataset.buildings[0];
    /// let grid = index.locate(b.anchor.0, Crs::Wgs84)?.expect("in a grid");
    /// assert_eq!(grid.community_code, dataset.communities[b.community].code.as_str());
    /// // The same place given in GCJ-02 (as AMap shows it) finds the same grid.
    /// let on_amap = index.locate(Crs::Gcj02.from_wgs84(b.anchor.0), Crs::Gcj02)?.expect("in a grid");
    /// assert_eq!(on_amap.code, grid.code);
    /// // Far from every grid: none.
    /// assert!(index.locate(Coord { x: 100.0, y: 30.0 }, Crs::Wgs84)?.is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(dataset: &Dataset, grids: Vec<Grid>, staff: &[Staff]) -> Result<Self, LookupError> {
        let mut holder: HashMap<String, (String, Option<String>)> = HashMap::new();
        for g in grids.iter().filter(|g| g.level == crate::grid::GridLevel::Grid) {
            for b in &g.buildings {
                holder.insert(b.clone(), (g.code.clone(), None));
            }
        }
        for g in grids.iter().filter(|g| g.level == crate::grid::GridLevel::Micro) {
            for b in &g.buildings {
                if let Some(h) = holder.get_mut(b) {
                    h.1 = Some(g.code.clone());
                }
            }
        }
        let suggester = Suggester::new(dataset, &grids, |b| holder.get(b).map(|h| h.0.clone()));
        let index = GridIndex::new(grids)?;
        let out = Self {
            index: Arc::new(index),
            geocoder: Arc::new(Geocoder::new(dataset)),
            suggester: Arc::new(suggester),
            resources: Arc::new(ResourceIndex::new(dataset.resources.clone())),
            staff: Arc::default(),
            community_names: Arc::new(
                dataset
                    .communities
                    .iter()
                    .map(|c| (c.code.to_string(), c.name.clone()))
                    .collect(),
            ),
            holder: Arc::new(holder),
        };
        Ok(out.with_staff(staff))
    }

    /// The same index with another staff list (everyone, by grid code); the indexes are shared.
    pub fn with_staff(&self, staff: &[Staff]) -> LookupIndex {
        let mut by_grid: HashMap<String, Vec<Staff>> = HashMap::new();
        for s in staff {
            by_grid.entry(s.grid.clone()).or_default().push(s.clone());
        }
        LookupIndex {
            staff: Arc::new(by_grid),
            ..self.clone()
        }
    }

    /// The staff of a grid or micro-grid, by its code (none when it has none).
    pub fn staff_of(&self, code: &str) -> &[Staff] {
        self.staff.get(code).map_or(&[], Vec::as_slice)
    }

    pub fn grid_index(&self) -> &GridIndex {
        &self.index
    }

    pub fn resources(&self) -> &ResourceIndex {
        &self.resources
    }

    fn answer(&self, at: Located<'_>) -> GridAnswer {
        let g = at.grid;
        GridAnswer {
            code: g.code.clone(),
            kind: g.kind,
            name: g.name.clone(),
            community_code: g.community_code.clone(),
            community_name: self.community_names.get(&g.community_code).cloned(),
            population: g.population,
            households: g.households,
            micro: at.micro.map(|m| MicroAnswer {
                code: m.code.clone(),
                population: m.population,
                households: m.households,
                staff: self.staff.get(&m.code).cloned().unwrap_or_default(),
            }),
            staff: self.staff.get(&g.code).cloned().unwrap_or_default(),
        }
    }

    /// The grid covering a point given in `crs`, or `None` outside every grid. A point on a
    /// shared edge gets the grid of lowest code (the edge rule).
    pub fn locate(&self, point: Coord<f64>, crs: Crs) -> Result<Option<GridAnswer>, LookupError> {
        check_point(point)?;
        Ok(self.index.locate(crs.to_wgs84(point)).map(|at| self.answer(at)))
    }

    /// As [`LookupIndex::locate`], the answer as indexes into the grid index's grids (see
    /// [`GridIndex::locate_ids`]); [`LookupIndex::answer_of`] makes the answer from them.
    pub fn locate_ids(&self, point: Coord<f64>, crs: Crs) -> Result<Option<(u32, Option<u32>)>, LookupError> {
        check_point(point)?;
        Ok(self.index.locate_ids(crs.to_wgs84(point)))
    }

    /// The answer [`LookupIndex::locate`] gives for the grid and micro-grid of indexes `g`, `m`.
    pub fn answer_of(&self, g: u32, m: Option<u32>) -> GridAnswer {
        self.answer(self.index.located(g, m))
    }

    fn grid_of_candidate(&self, c: &Candidate) -> Option<GridAnswer> {
        let member = c.unit.as_ref().or(c.building.as_ref());
        if let Some((grid, micro)) = member
            .and_then(|m| self.holder.get(m))
            .or_else(|| c.building.as_ref().and_then(|b| self.holder.get(b)))
        {
            let grid = self.index.get(grid)?;
            let micro = micro.as_ref().and_then(|m| self.index.get(m));
            return Some(self.answer(Located { grid, micro }));
        }
        self.index
            .locate(Coord {
                x: c.location[0],
                y: c.location[1],
            })
            .map(|at| self.answer(at))
    }

    /// Candidates for an address, best first, each with its grid.
    pub fn geocode(&self, address: &str, limit: usize) -> Result<AddressAnswer, LookupError> {
        check_limit(limit)?;
        if address.trim().is_empty() {
            return Err(LookupError::EmptyAddress);
        }
        if address.chars().count() > MAX_ADDRESS_CHARS {
            return Err(LookupError::AddressTooLong { max: MAX_ADDRESS_CHARS });
        }
        // One more than asked, to tell whether the best is shared.
        let found = self.geocoder.geocode(address, limit.max(2));
        let ambiguous = match found.as_slice() {
            [] => false,
            [one] => one.level != MatchLevel::Building,
            [a, b, ..] => a.level != MatchLevel::Building || a.score == b.score,
        };
        let candidates = found
            .into_iter()
            .take(limit)
            .map(|c| AddressCandidate {
                grid: self.grid_of_candidate(&c),
                candidate: c,
            })
            .collect();
        Ok(AddressAnswer { candidates, ambiguous })
    }

    /// Suggestions for what has been typed so far, best first (see [`super::suggest`]).
    pub fn suggest(&self, typed: &str, limit: usize) -> Result<Vec<Suggestion>, LookupError> {
        if !(1..=MAX_SUGGESTIONS).contains(&limit) {
            return Err(LookupError::InvalidLimit {
                max: MAX_SUGGESTIONS,
                got: limit,
            });
        }
        if typed.trim().is_empty() {
            return Err(LookupError::EmptyQuery);
        }
        if typed.chars().count() > MAX_QUERY_CHARS {
            return Err(LookupError::QueryTooLong { max: MAX_QUERY_CHARS });
        }
        Ok(self.suggester.suggest(typed, limit))
    }

    /// An address of the served data to show as an example (a search box's placeholder).
    pub fn search_example(&self) -> Option<&str> {
        self.suggester.example()
    }

    /// A building by its id, as an address candidate with its grid (what choosing a suggested
    /// address opens); `None` for an unknown id.
    pub fn building(&self, id: &str) -> Option<AddressCandidate> {
        let s = self.suggester.building(id)?;
        let candidate = Candidate {
            level: MatchLevel::Building,
            building: s.building,
            unit: None,
            compound: s.compound,
            community_code: s.community_code.unwrap_or_default(),
            address: s.address.unwrap_or(s.label),
            location: s.location,
            score: 1.0,
        };
        Some(AddressCandidate {
            grid: self.grid_of_candidate(&candidate),
            candidate,
        })
    }

    /// A grid (not a micro-grid) by its code, with its staff; `None` for an unknown code.
    pub fn grid(&self, code: &str) -> Option<GridAnswer> {
        let grid = self
            .index
            .get(code)
            .filter(|g| g.level == crate::grid::GridLevel::Grid)?;
        Some(self.answer(Located { grid, micro: None }))
    }

    /// Resources nearest to a point given in `crs`, nearest first.
    pub fn nearest(
        &self,
        point: Coord<f64>,
        crs: Crs,
        query: &NearestQuery,
    ) -> Result<Vec<NearbyResource>, LookupError> {
        check_point(point)?;
        check_limit(query.limit)?;
        if let Some(r) = query.radius_m
            && !(r >= 0.0 && r.is_finite())
        {
            return Err(LookupError::InvalidRadius(r));
        }
        let query = NearestQuery {
            kinds: query.kinds.iter().map(|k| k.trim().to_lowercase()).collect(),
            ..query.clone()
        };
        Ok(self
            .resources
            .nearest(crs.to_wgs84(point), &query)
            .into_iter()
            .map(|n| NearbyResource {
                id: n.resource.id.clone(),
                kind: n.resource.kind.clone(),
                name: n.resource.name.clone(),
                phone: n.resource.phone.clone(),
                hours: n.resource.hours.clone(),
                address: n.resource.address.clone(),
                location: [n.resource.location.x(), n.resource.location.y()],
                distance_m: n.distance_m,
            })
            .collect())
    }

    /// Up to [`MAX_BATCH`] points (in `crs`) or addresses; each answered on its own, a bad one
    /// with its error. Addresses get their best `candidates`.
    pub fn batch(&self, items: &[BatchItem], crs: Crs, candidates: usize) -> Result<Vec<BatchAnswer>, LookupError> {
        if items.len() > MAX_BATCH {
            return Err(LookupError::TooMany {
                max: MAX_BATCH,
                got: items.len(),
            });
        }
        check_limit(candidates)?;
        // The points' grids all at once: their lookups' memory reads overlap
        // (GridIndex::locate_grids), then each point's micro-grid within its grid.
        let points: Vec<Coord<f64>> = items
            .iter()
            .filter_map(|item| match item {
                BatchItem::Point { lon, lat } => {
                    let p = Coord { x: *lon, y: *lat };
                    check_point(p).ok().map(|()| crs.to_wgs84(p))
                }
                BatchItem::Address { .. } => None,
            })
            .collect();
        let mut grids = Vec::with_capacity(points.len());
        self.index.locate_grids(&points, &mut grids);
        let mut located = grids.into_iter().zip(points);
        Ok(items
            .iter()
            .map(|item| {
                let (grid, address, error) = match item {
                    BatchItem::Point { lon, lat } => match check_point(Coord { x: *lon, y: *lat }) {
                        Ok(()) => {
                            let (g, at) = located.next().expect("one located grid per valid point");
                            let answer = g.map(|g| self.answer(self.index.located(g, self.index.micro_of(at, g))));
                            (answer, None, None)
                        }
                        Err(e) => (None, None, Some(e.to_string())),
                    },
                    BatchItem::Address { address } => match self.geocode(address, candidates) {
                        Ok(a) => (None, Some(a), None),
                        Err(e) => (None, None, Some(e.to_string())),
                    },
                };
                BatchAnswer { grid, address, error }
            })
            .collect())
    }
}
