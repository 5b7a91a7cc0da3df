//! Map rendering for wangge (网格). For now one job: [`preview`] draws a whole dataset — community
//! boundaries, roads, exclusive units, buildings coloured by compound, resource points — into a
//! PNG, to look at a dataset (or a generated fixture) before anything is partitioned. Vector
//! and PNG tiles for the service come later.
//!
//! For a MapLibre map of the service: [`icons`] draws a map icon for each resource kind
//! (`draw_icon`, with the kinds' `color`/`hex` palette); [`sprite`] lays them out as the
//! style's sprite sheet (PNG and JSON index, @1x and @2x); [`glyphs`] serves the style's
//! `/fonts/{fontstack}/{range}.pbf` signed-distance-field glyphs from the embedded DejaVu Sans
//! fonts (`assets/fonts`, with their licence).

pub mod glyphs;
pub mod icons;
pub mod preview;
pub mod sprite;

pub use preview::{PreviewError, PreviewOptions, render, render_png};
