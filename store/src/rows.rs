//! Domain values ↔ what the tables hold.

use crate::{Result, StoreError};
use geo::{BoundingRect, MultiPolygon};
use gis_core::grid::{Grid, GridKind, GridLevel};
use gis_core::io::grids::{GridLayer, LayerMeta, feature, geometry, parse_layer};
use rayon::prelude::*;
use std::collections::BTreeMap;

pub(crate) struct GridRow {
    pub code: String,
    pub community_code: String,
    pub kind: &'static str,
    pub level: &'static str,
    pub parent_code: Option<String>,
    pub population: i64,
    pub households: i64,
    pub feature: String,
    pub geometry: String,
    pub bbox: [f64; 4],
}

impl GridRow {
    pub(crate) fn columns(&self) -> crate::check::Columns<'_> {
        crate::check::Columns {
            code: &self.code,
            community_code: &self.community_code,
            kind: self.kind,
            level: self.level,
            parent_code: self.parent_code.as_deref(),
            population: self.population,
            households: self.households,
            feature: &self.feature,
        }
    }
}

pub(crate) fn bbox(area: &MultiPolygon<f64>) -> [f64; 4] {
    area.bounding_rect()
        .map_or([0.0; 4], |r| [r.min().x, r.min().y, r.max().x, r.max().y])
}

pub(crate) fn grid_row(g: &Grid) -> Result<GridRow> {
    let b = bbox(&g.area);
    if g.area.0.is_empty() || !b.iter().all(|v| v.is_finite()) {
        return Err(StoreError::InvalidLayer(format!("grid {} has no area", g.code)));
    }
    let int = |v: u64, what: &str| {
        i64::try_from(v).map_err(|_| StoreError::InvalidLayer(format!("grid {}: {what} {v} is too large", g.code)))
    };
    Ok(GridRow {
        code: g.code.clone(),
        community_code: g.community_code.clone(),
        kind: match g.kind {
            GridKind::Basic => "basic",
            GridKind::Exclusive => "exclusive",
        },
        level: match g.level {
            GridLevel::Grid => "grid",
            GridLevel::Micro => "micro",
        },
        parent_code: g.parent_code.clone(),
        population: int(g.population, "population")?,
        households: int(g.households, "households")?,
        feature: feature(g).to_string(),
        geometry: geometry(&g.area).to_string(),
        bbox: b,
    })
}

/// Checks a layer before it is stored: codes unique and present, areas present.
pub(crate) fn check_layer(layer: &GridLayer) -> Result<Vec<GridRow>> {
    // Each row's texts (its feature and its geometry) on every core: a city's are seconds of
    // JSON on one. The checks then run in the layer's order, so the first fault is the one told.
    let made: Vec<Result<GridRow>> = layer.grids.par_iter().map(grid_row).collect();
    let mut seen = std::collections::HashSet::new();
    let mut rows = Vec::with_capacity(layer.grids.len());
    for (g, row) in layer.grids.iter().zip(made) {
        if g.code.trim().is_empty() {
            return Err(StoreError::InvalidLayer("a grid has no code".into()));
        }
        if !seen.insert(g.code.as_str()) {
            return Err(StoreError::InvalidLayer(format!(
                "code {} is used by more than one grid",
                g.code
            )));
        }
        rows.push(row?);
    }
    if rows.is_empty() {
        return Err(StoreError::InvalidLayer("the layer has no grids".into()));
    }
    Ok(rows)
}

/// A layer from its stored metadata and features, in their order; exact to the bit.
pub(crate) fn assemble_layer(meta: &str, features: &[String]) -> Result<GridLayer> {
    let mut text = String::with_capacity(features.iter().map(String::len).sum::<usize>() + meta.len() + 64);
    text.push_str("{\"type\":\"FeatureCollection\",\"wangge\":");
    text.push_str(meta);
    text.push_str(",\"features\":[");
    for (i, f) in features.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(f);
    }
    text.push_str("]}");
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("a stored layer is not JSON: {e}")))?;
    let (layer, problems) = parse_layer(&value, "stored layer");
    if let Some(p) = problems.iter().find(|p| !p.kind.is_warning()) {
        return Err(StoreError::Corrupt(format!("a stored layer does not read back: {p}")));
    }
    Ok(layer)
}

pub(crate) fn meta_text(meta: &LayerMeta) -> Result<String> {
    serde_json::to_string(meta).map_err(|e| StoreError::InvalidLayer(e.to_string()))
}

/// The dataset's files, as stored.
pub(crate) fn files_text(files: &BTreeMap<String, String>) -> String {
    // Room for the escaped texts reserved at once: a city's 118 MB grown by doubling was copied
    // into fresh pages again and again (most of a second). Pages never written cost nothing.
    // Twice the texts: room for every character escaped once.
    let room = files.iter().map(|(k, v)| 2 * (k.len() + v.len()) + 8).sum::<usize>() + 2;
    let mut out = Vec::with_capacity(room);
    match serde_json::to_writer(&mut out, files) {
        Ok(()) => String::from_utf8(out).unwrap_or_else(|_| "{}".into()),
        Err(_) => "{}".into(),
    }
}

pub(crate) fn files_from_text(text: &str) -> Result<BTreeMap<String, String>> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("stored dataset files: {e}")))
}
