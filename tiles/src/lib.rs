//! Map rendering for wangge (网格): everything drawn is cut from one [`data::MapData`] — the
//! communities, grids, micro-grids, roads, buildings, resources and an H3 density layer of a
//! dataset and its grid layer, projected once to Web Mercator and indexed.
//!
//! - [`colouring`]: neighbouring grids in different colours, stable by code.
//! - [`context`]: water, green, main roads by class and population points (城中村), drawn alike
//!   on raster tiles and the printed map.
//! - [`mvt`]: vector tiles (MVT 2.1), cut from the per-zoom simplified areas of [`generalise`].
//! - [`raster`]: PNG tiles, 256 px and @2x, in the [`palette`] the style shares.
//! - [`style`]: TileJSON 3.0.0 and the MapLibre style (v8); [`glyphs`] serves its
//!   `/fonts/{fontstack}/{range}.pbf` signed-distance-field glyphs from the embedded DejaVu Sans
//!   fonts (`assets/fonts`, with their licence); [`sprite`] lays out the [`icons`] of resource
//!   kinds as its sprite sheet (PNG and JSON index, @1x and @2x).
//! - [`labels`]: compound names, building numbers (楼号) and road names, and the collision rule
//!   that keeps raster and printed labels clear of one another and of the icons.
//! - [`print`]: the printable grid map (网格图) of one community; [`notice`]: residents' notices
//!   of a grid change; [`placard`]: a building's notice board (楼栋公示牌) with its grid's
//!   workers and a [`qr`] code of the link to its grid card; as PNG or [`pdf`].
//! - [`pyramid`]: which tiles of a zoom hold data, and which changed between two versions (tile
//!   archives, re-tiled incrementally).
//! - [`preview`]: a whole dataset in one picture, before anything is partitioned.

pub mod colouring;
pub mod context;
pub mod data;
pub mod generalise;
pub mod glyphs;
pub mod icons;
pub mod labels;
pub mod mercator;
pub mod mvt;
pub mod notice;
pub mod palette;
pub mod pdf;
pub mod placard;
pub mod preview;
pub mod print;
pub mod pyramid;
pub mod qr;
pub mod raster;
pub mod sprite;
pub mod style;
pub mod text;

pub use preview::{PreviewError, PreviewOptions, render, render_png};
