//! Map rendering for wangge (网格). For now one job: [`preview`] draws a whole dataset — community
//! boundaries, roads, exclusive units, buildings coloured by compound, resource points — into a
//! PNG, to look at a dataset (or a generated fixture) before anything is partitioned. Vector
//! and PNG tiles for the service come later.

pub mod preview;

pub use preview::{PreviewError, PreviewOptions, render, render_png};
