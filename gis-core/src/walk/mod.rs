//! Walking distances on a network of the dataset's roads and walking layer (issue 22).
//!
//! - [`WalkNetwork::build`]`(roads, walk)`: nodes are the vertices of every road
//!   (`roads.geojson`) and walking way (`walk.geojson`), matched by their exact coordinates
//!   (`geom::VertexKey`), so ways join where they share a vertex, as OpenStreetMap ways share
//!   nodes; edges are the segments between consecutive vertices, weighted by geodesic length
//!   (m); roads of the classes in [`NOT_WALKED`] (motorways) are left out. A segment crossing a barrier (wall, fence) through both lines' insides, more than
//!   [`PASSAGE_REACH_M`] from every gate and entrance, is left out. The graph is a `petgraph`
//!   `UnGraph`; [`WalkNetwork::stats`] says what was built.
//! - [`WalkNetwork::snap`]`(point)` → [`Snap`]: the point joined to the nearest walkable edge of
//!   a long enough component ([`SNAPPABLE_SHARE`]) whose straight step to it crosses no barrier,
//!   the edge split virtually at the foot of the perpendicular; the step's geodesic length
//!   (`snap_m`) is counted in every distance. [`WalkNetwork::snap_building`] snaps a building
//!   from its mapped entrance, else from its anchor.
//! - [`WalkNetwork::route`]`(from, to)` → [`WalkRoute`]: the shortest walk (metres) and its line.
//! - [`Targets`] (points snapped once, e.g. a dataset's resources) and
//!   [`WalkNetwork::nearest`]`(from, targets, accept, limit, max_m)` → [`Found`]s nearest first:
//!   a Dijkstra from the point that stops once `limit` targets are settled.
//! - [`WalkNetwork::reach`]`(sources)` / [`WalkNetwork::reach_within`]`(sources, max_m)` →
//!   [`Reach`]: one multi-source Dijkstra (every clinic at once) to every node; then
//!   [`Reach::to`]`(network, snap)` gives any snapped point's (a building's) metres to its nearest
//!   source and which source it is.
//! - [`ResourceWalks::new`]`(dataset)`: the network and the dataset's resources snapped once;
//!   [`ResourceWalks::nearest`]`(at, kinds, limit, radius)` and [`ResourceWalks::route`] answer
//!   `/v1/resources/nearest?by=walk`.
//!
//! Why our own Dijkstra over petgraph's graph rather than `petgraph::algo::dijkstra`: the walks
//! start and end part-way along edges (snapped points), searches stop early (nearest, routes,
//! radius) with predecessors for the route's line, and many sources are searched at once;
//! petgraph's function does none of these.

mod barrier;
mod network;
mod resources;
mod route;
mod snap;

pub use barrier::PASSAGE_REACH_M;
pub use network::{NOT_WALKED, SNAPPABLE_SHARE, WalkNetwork, WalkStats};
pub use resources::ResourceWalks;
pub use route::{Found, Reach, Reached, WalkRoute};
pub use snap::{ENTRANCE_REACH_M, Snap, Targets};

/// Walking speed when none is given: 80 m a minute (4.8 km/h), the figure GB 50180-2018's life
/// circles are sized by.
pub const DEFAULT_SPEED_M_PER_MIN: f64 = 80.0;
