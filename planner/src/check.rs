//! Validating a layer against its dataset: a stored draft, or a layer uploaded without storing
//! it (drawn anywhere: by hand, in QGIS, …).

use crate::{PlannerError, Result, blocking};
use gis_core::Dataset;
use gis_core::bounds::SizeBounds;
use gis_core::codes::CodeScheme;
use gis_core::io::grids::{DrawnLayer, GridLayer, parse_drawn_layer, to_geojson};
use gis_core::validate::{ValidateOptions, ValidationReport, defects_geojson, validate};
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;
use store::Store;

/// A validation's answer: whether the layer has no defect, the report, and its defects as a
/// GeoJSON FeatureCollection.
#[derive(Debug, Clone, Serialize)]
pub struct Validation {
    pub clean: bool,
    pub report: ValidationReport,
    pub defects: serde_json::Value,
}

/// What a layer is checked against: the bounds and code scheme given, else those the layer says
/// it was drawn with (else the defaults); tolerance and gap width at their defaults.
pub fn validate_options(layer: &DrawnLayer, bounds: Option<SizeBounds>, scheme: Option<CodeScheme>) -> ValidateOptions {
    ValidateOptions {
        bounds: bounds.unwrap_or_else(|| layer.meta.bounds.unwrap_or_default()),
        scheme: scheme.unwrap_or_else(|| layer.meta.code_scheme.clone()),
        ..ValidateOptions::default()
    }
}

/// Validates draft `draft` against its dataset.
pub async fn validate_draft(store: &Store, draft: i64) -> Result<Validation> {
    let (layer, dataset_id) = store.layer(draft).await?;
    validate_stored(store, draft, &layer, dataset_id).await
}

/// Validates draft `draft`, already read as `layer` of stored dataset `dataset_id`.
pub(crate) async fn validate_stored(
    store: &Store,
    draft: i64,
    layer: &GridLayer,
    dataset_id: i64,
) -> Result<Validation> {
    let dataset = store.dataset(dataset_id).await?;
    validate_text(dataset, to_geojson(layer), format!("draft-{draft}.geojson")).await
}

/// Validates a layer's GeoJSON text against stored dataset `dataset` (default: the current
/// version's) without storing it.
pub async fn validate_upload(store: &Store, dataset: Option<i64>, layer: String) -> Result<Validation> {
    let dataset_id = match dataset {
        Some(d) => d,
        None => {
            let current = crate::current(store).await?;
            store.version(current.number).await?.dataset
        }
    };
    let dataset = store.dataset(dataset_id).await?;
    validate_text(dataset, layer, "upload.geojson".into()).await
}

/// Reads a layer's text leniently (as drawn) and validates it; `name` names it in problems.
async fn validate_text(dataset: Arc<Dataset>, text: String, name: String) -> Result<Validation> {
    blocking(move || {
        let layer = parse_drawn_layer(text, &PathBuf::from(name))?;
        let options = validate_options(&layer, None, None);
        let report = validate(&dataset, &layer, &options)?;
        let defects: serde_json::Value =
            serde_json::from_str(&defects_geojson(&report)).map_err(|e| PlannerError::Internal(e.to_string()))?;
        Ok(Validation {
            clean: report.defects.is_empty(),
            report,
            defects,
        })
    })
    .await?
}
