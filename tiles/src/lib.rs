//! Map rendering for wangge (网格): everything drawn is cut from one [`data::MapData`] — the
//! communities, grids, micro-grids, roads, buildings, resources and an H3 density layer of a
//! dataset and its grid layer, projected once to Web Mercator and indexed.
//!
//! - [`mvt`]: vector tiles (MVT 2.1).
//! - [`raster`]: PNG tiles, 256 px and @2x, in the [`palette`] the style shares.
//! - [`style`]: TileJSON 3.0.0 and the MapLibre style (v8).
//! - [`print`]: the printable grid map (网格图) of one community.
//! - [`preview`]: a whole dataset in one picture, before anything is partitioned.

pub mod data;
pub mod mercator;
pub mod mvt;
pub mod palette;
pub mod style;
pub mod preview;
pub mod raster;
pub mod text;

pub use preview::{PreviewError, PreviewOptions, render, render_png};
