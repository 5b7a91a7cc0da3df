//! The planners' workflow over HTTP, the same steps as the command line: upload a dataset,
//! partition or re-partition it into a draft, move buildings, validate, publish, roll back, set
//! a grid's staff. Writes need the bearer token ([`Planner`]); versions, their grids and diffs
//! and staff lists are public reads. Every write is one store transaction: a rejected request
//! stores nothing.

use super::auth::Planner;
use super::{AppState, Problem};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use gis_core::bounds::{SizeBasis, SizeBounds};
use gis_core::io::grids::to_geojson;
use gis_core::partition::{MoveError, PartitionOptions};
use planner::PlannerError;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use store::{Store, StoreError};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(auth_check))
        .routes(routes!(upload, datasets))
        .routes(routes!(partition))
        .routes(routes!(repartition))
        .routes(routes!(drafts))
        .routes(routes!(draft))
        .routes(routes!(draft_grids))
        .routes(routes!(draft_diff))
        .routes(routes!(draft_notices))
        .routes(routes!(validate_draft))
        .routes(routes!(publish))
        .routes(routes!(move_buildings_route))
        .routes(routes!(validate_upload))
        .routes(routes!(versions))
        .routes(routes!(version_grids))
        .routes(routes!(version_diff))
        .routes(routes!(rollback))
        .routes(routes!(get_staff, set_staff))
}

type Answer = Result<Response, Problem>;

fn store(state: &AppState) -> Result<&Store, Problem> {
    state.store.as_ref().ok_or_else(|| {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "No store",
            "this service runs without a store; planner steps need one",
        )
    })
}

/// A JSON body, or a 400/413/415/422 problem saying what is wrong with it.
fn body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, Problem> {
    b.map(|Json(t)| t).map_err(Problem::from_json_rejection)
}

/// A body that may be absent (an empty POST): the defaults then.
fn optional_body<T: Default>(b: Result<Json<T>, JsonRejection>) -> Result<T, Problem> {
    match b {
        Err(JsonRejection::MissingJsonContentType(_)) => Ok(T::default()),
        other => body(other),
    }
}

/// The store's errors in HTTP terms: what the planner can fix is 4xx, what they cannot is 5xx.
impl From<StoreError> for Problem {
    fn from(e: StoreError) -> Self {
        let detail = e.to_string();
        match e {
            // Said without the folder it was unpacked in: the server's paths are nobody's business.
            StoreError::Rejected(import) => {
                let n = import.problems.len();
                Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Dataset rejected",
                    format!(
                        "the dataset was rejected and nothing was stored: {n} problem{} (listed in `problems`)",
                        if n == 1 { "" } else { "s" }
                    ),
                )
                .with("problems", serde_json::to_value(&import.problems).unwrap_or_default())
            }
            StoreError::NoDataset(_)
            | StoreError::NoDraft(_)
            | StoreError::NoVersion(_)
            | StoreError::UnknownGrid(_) => Problem::not_found(detail),
            StoreError::DiskFull(_) => {
                tracing::error!("store: {detail}");
                Problem::new(
                    StatusCode::INSUFFICIENT_STORAGE,
                    "Insufficient storage",
                    "the store cannot write to disk; nothing of this request was stored",
                )
            }
            StoreError::AlreadyPublished { .. } | StoreError::NothingPublished => {
                Problem::new(StatusCode::CONFLICT, "Conflict", detail)
            }
            // Nothing was published: the planner can look at the draft, re-partition, or roll back.
            StoreError::Unpublishable { problems, .. } => {
                Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "Layer not publishable", detail)
                    .with("problems", serde_json::to_value(&problems).unwrap_or_default())
            }
            StoreError::DamagedVersion(d) => Problem::new(StatusCode::CONFLICT, "Damaged version", detail)
                .with("problems", serde_json::to_value(&d.problems).unwrap_or_default()),
            StoreError::NothingServable { damaged } => {
                Problem::new(StatusCode::SERVICE_UNAVAILABLE, "Nothing to serve", detail)
                    .with("damaged_versions", serde_json::to_value(&damaged).unwrap_or_default())
            }
            // A write that got past the replica's middleware (it refuses them first, naming the primary).
            StoreError::ReadOnlyReplica => Problem::new(StatusCode::SERVICE_UNAVAILABLE, "Read-only replica", detail),
            StoreError::InvalidStaff { .. } | StoreError::InvalidLayer(_) => {
                Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "Unprocessable", detail)
            }
            StoreError::Db(_) | StoreError::Migrate(_) | StoreError::NoPostgis(_) | StoreError::BadUrl { .. } => {
                tracing::error!("store: {detail}");
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Store unavailable",
                    "the store cannot be reached; try again",
                )
            }
            _ => {
                tracing::error!("store: {detail}");
                Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal error", detail)
            }
        }
    }
}

/// The planner's errors in HTTP terms: a move the rules refuse or a layer that cannot be read is
/// 422, an unknown grid or building 404, bad validation options 400; the store's as above.
impl From<PlannerError> for Problem {
    fn from(e: PlannerError) -> Self {
        match e {
            PlannerError::Store(e) => e.into(),
            PlannerError::Repartition(e) => {
                Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "Unprocessable", e.to_string())
            }
            PlannerError::Move(MoveError::Refused(reasons)) => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Move refused",
                "the move breaks the rules; send force: true to make it anyway",
            )
            .with("reasons", json!(reasons)),
            PlannerError::Move(e @ (MoveError::UnknownGrid(_) | MoveError::UnknownBuilding(_))) => {
                Problem::not_found(e.to_string())
            }
            PlannerError::Move(e) => Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "Move refused", e.to_string()),
            PlannerError::LayerRejected(e) => {
                Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "Layer rejected", e.to_string())
                    .with("problems", serde_json::to_value(&e.problems).unwrap_or_default())
            }
            PlannerError::Validate(e) => Problem::bad_request(e.to_string()),
            e @ PlannerError::Unstaffed { .. } => {
                let PlannerError::Unstaffed { grids, .. } = &e else {
                    unreachable!()
                };
                let grids = json!(grids);
                Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "Grids without staff", e.to_string())
                    .with("unstaffed", grids)
            }
            e @ PlannerError::LargeMoves { .. } => {
                let PlannerError::LargeMoves { moves, .. } = &e else {
                    unreachable!()
                };
                let moves = serde_json::to_value(moves).unwrap_or_default();
                Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Large moves unconfirmed",
                    e.to_string(),
                )
                .with("large_moves", moves)
            }
            e @ PlannerError::BadDate(_) => Problem::bad_request(e.to_string()).code("bad_date"),
            e @ PlannerError::NoNotice { .. } => Problem::not_found(e.to_string()).code("no_notice"),
            e @ PlannerError::NotClean { .. } => {
                let PlannerError::NotClean { defects, found, .. } = &e else {
                    unreachable!()
                };
                let (defects, found) = (json!(defects), json!(found));
                Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Draft does not validate",
                    e.to_string(),
                )
                .with("defects", defects)
                // Each defect's kind, grids and item: what a client words in its own language.
                .with("defect_details", found)
            }
            e @ PlannerError::Task(_) => {
                tracing::error!("planner: {e}");
                internal(e)
            }
            e => internal(e),
        }
    }
}

fn created(v: Value) -> Response {
    (StatusCode::CREATED, Json(v)).into_response()
}

fn geojson(text: String) -> Response {
    let mut r = text.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/geo+json"));
    r
}

/// Serves the store's current version at once (other processes follow by notification); when
/// it is damaged, the newest sound one, or nothing (503 to readers) when none is sound.
async fn serve_current(state: &AppState, store: &Store) -> Result<(), Problem> {
    if let Some(served) = crate::snapshot::Snapshot::load(store).await? {
        if let Some(w) = served.warning() {
            tracing::warn!("{w}");
        }
        state.replace(served);
    }
    Ok(())
}

// ---- auth ---------------------------------------------------------------------------------

/// 204 when the request carries the planner token: lets a client check a token it was given.
#[utoipa::path(get, path = "/v1/auth", tag = "planner", security(("bearer" = [])),
    responses((status = 204, description = "The token is good"), (status = 401, description = "Missing or wrong token", body = super::problem::ProblemBody, content_type = "application/problem+json")))]
async fn auth_check(_: Planner) -> StatusCode {
    StatusCode::NO_CONTENT
}

// ---- datasets -----------------------------------------------------------------------------

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Upload {
    /// Where the data came from, kept with it (e.g. the file or survey name)
    source: Option<String>,
    /// The dataset folder's files by name (`boundary.geojson`, `buildings.geojson`, …,
    /// `staff.json`), each as its JSON value or as its text
    #[schema(value_type = Object)]
    files: BTreeMap<String, Value>,
}

/// The same upload as a form (`multipart/form-data`): one part per file, named by the dataset
/// file it is (`-F buildings.geojson=@survey/buildings.geojson`) or carrying that file name
/// (`-F files=@survey/buildings.geojson`), and an optional `source` text part.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct UploadForm {
    /// Where the data comes from (shown in the dataset list)
    source: Option<String>,
    #[schema(rename = "boundary.geojson", value_type = String, format = Binary)]
    boundary: Vec<u8>,
    #[schema(rename = "buildings.geojson", value_type = String, format = Binary)]
    buildings: Vec<u8>,
    #[schema(rename = "population.geojson", value_type = Option<String>, format = Binary)]
    population: Option<Vec<u8>>,
    #[schema(rename = "resources.geojson", value_type = Option<String>, format = Binary)]
    resources: Option<Vec<u8>>,
    #[schema(rename = "roads.geojson", value_type = Option<String>, format = Binary)]
    roads: Option<Vec<u8>>,
    #[schema(rename = "exclusive.geojson", value_type = Option<String>, format = Binary)]
    exclusive: Option<Vec<u8>>,
    #[schema(rename = "staff.json", value_type = Option<String>, format = Binary)]
    staff: Option<Vec<u8>>,
}

/// Uploads a dataset: the folder's files in one JSON body, or as a multipart form (one part per
/// file). It is imported exactly as the command line imports a folder; a rejected dataset stores
/// nothing and the answer lists every problem with its file, feature and field.
#[utoipa::path(post, path = "/v1/datasets", tag = "planner", security(("bearer" = [])),
    request_body(content((Upload = "application/json"), (UploadForm = "multipart/form-data"))),
    responses((status = 201, description = "`{\"dataset\": {id, communities, buildings, resources, …}}`", body = Value),
        (status = 400, description = "A part that is no dataset file, a file given twice, or text that is not UTF-8", body = super::problem::ProblemBody, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong token", body = super::problem::ProblemBody, content_type = "application/problem+json"),
        (status = 413, description = "Larger than the upload limit", body = super::problem::ProblemBody, content_type = "application/problem+json"),
        (status = 415, description = "Neither JSON nor a multipart form", body = super::problem::ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "The dataset is rejected; `problems` lists why", body = super::problem::ProblemBody, content_type = "application/problem+json")))]
async fn upload(_: Planner, State(state): State<Arc<AppState>>, req: axum::extract::Request) -> Answer {
    use axum::extract::FromRequest as _;
    let store = store(&state)?;
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"));
    let (source, files) = if multipart {
        let form = axum::extract::Multipart::from_request(req, &state).await.map_err(|e| {
            Problem::new(
                e.status(),
                "Bad request",
                format!("not a readable multipart form: {}", e.body_text()),
            )
        })?;
        read_form(form).await?
    } else {
        let up = body(Json::<Upload>::from_request(req, &state).await)?;
        let mut files = BTreeMap::new();
        for (name, value) in up.files {
            if !is_dataset_file(&name) {
                return Err(not_a_dataset_file(&format!("files.{name}"), &name));
            }
            let text = match value {
                Value::String(s) => s,
                other => other.to_string(),
            };
            files.insert(name, text);
        }
        (up.source, files)
    };
    let source = source.unwrap_or_else(|| "upload".into());
    let (id, _) = store.load_dataset(&source, files).await?;
    let info = store.datasets().await?.into_iter().find(|d| d.id == id);
    Ok(created(json!({ "dataset": info })))
}

fn is_dataset_file(name: &str) -> bool {
    gis_core::io::DATASET_FILES.contains(&name)
}

/// A name that is not one of a dataset folder's files; `at` says where it was given.
fn not_a_dataset_file(at: &str, file: &str) -> Problem {
    Problem::bad_request(format!(
        "{at}: not a dataset file; expected some of {}",
        gis_core::io::DATASET_FILES.join(", ")
    ))
    .code("not_a_dataset_file")
    .with("file", json!(file))
}

/// A multipart upload's source and files, by dataset file name.
async fn read_form(mut form: axum::extract::Multipart) -> Result<(Option<String>, BTreeMap<String, String>), Problem> {
    let broken = |e: axum::extract::multipart::MultipartError| {
        Problem::new(
            e.status(),
            "Bad request",
            format!("the form cannot be read: {}", e.body_text()),
        )
    };
    let mut source = None;
    let mut files = BTreeMap::new();
    while let Some(field) = form.next_field().await.map_err(broken)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "source" && field.file_name().is_none() {
            source = Some(field.text().await.map_err(broken)?);
            continue;
        }
        // `-F buildings.geojson=@path` names the part; `-F files=@path/buildings.geojson` names the file.
        let base = field
            .file_name()
            .map(|f| f.rsplit(['/', '\\']).next().unwrap_or(f).to_string());
        let file = match base {
            _ if is_dataset_file(&name) => name.clone(),
            Some(b) if is_dataset_file(&b) => b,
            Some(b) => return Err(not_a_dataset_file(&format!("form part {name:?} (file {b:?})"), &b)),
            None => return Err(not_a_dataset_file(&format!("form part {name:?}"), &name)),
        };
        if files.contains_key(&file) {
            return Err(
                Problem::bad_request(format!("form part {name:?}: {file} is given twice"))
                    .code("file_given_twice")
                    .with("file", json!(file)),
            );
        }
        let bytes = field.bytes().await.map_err(broken)?;
        let text = String::from_utf8(bytes.to_vec()).map_err(|e| {
            let at = e.utf8_error().valid_up_to();
            Problem::bad_request(format!(
                "{file}: not UTF-8 text (invalid byte at {at}); GeoJSON is UTF-8 (RFC 7946): convert a GBK file with `wangge import --encoding gbk`"
            ))
            .code("not_utf8")
            .with("file", json!(file))
            .with("byte", json!(at))
        })?;
        files.insert(file, text);
    }
    Ok((source, files))
}

/// The stored datasets, oldest first.
#[utoipa::path(get, path = "/v1/datasets", tag = "planner", security(("bearer" = [])),
    responses((status = 200, description = "`{\"datasets\": [...]}`", body = Value), (status = 401, description = "Missing or wrong token", body = super::problem::ProblemBody, content_type = "application/problem+json")))]
async fn datasets(_: Planner, State(state): State<Arc<AppState>>) -> Answer {
    Ok(Json(json!({ "datasets": store(&state)?.datasets().await? })).into_response())
}

// ---- drafts -------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct PartitionBody {
    /// Smallest grid (default 1500 residents, or 200 households)
    min: Option<u32>,
    /// Largest grid (default 2000 residents, or 300 households)
    max: Option<u32>,
    /// `residents` (default) or `households`
    by: Option<String>,
    /// The search's seed (default 1): the same seed gives the same grids
    seed: Option<u64>,
    /// Also draw micro-grids of 50–200 households (default true)
    micro: Option<bool>,
}

fn bounds_of(min: Option<u32>, max: Option<u32>, by: Option<&str>) -> Result<SizeBounds, Problem> {
    let basis = match by {
        None | Some("residents") => SizeBasis::Residents,
        Some("households") => SizeBasis::Households,
        Some(other) => {
            return Err(Problem::bad_request(format!(
                "by: {other:?} is not residents or households"
            )));
        }
    };
    let (dmin, dmax) = basis.default_bounds();
    SizeBounds::new(min.unwrap_or(dmin), max.unwrap_or(dmax), basis)
        .map_err(|e| Problem::bad_request(format!("min/max: {e}")))
}

async fn draft_answer(store: &Store, draft: i64, report: Value) -> Answer {
    let info = store.drafts().await?.into_iter().find(|d| d.id == draft);
    Ok(created(json!({ "draft": info, "report": report })))
}

/// Partitions a stored dataset from scratch into a draft (codes start afresh).
#[utoipa::path(post, path = "/v1/datasets/{id}/partition", tag = "planner", security(("bearer" = [])), request_body = PartitionBody,
    params(("id" = i64, Path, description = "Dataset id")),
    responses((status = 201, description = "`{\"draft\": {...}, \"report\": {...}}`", body = Value),
        (status = 400, description = "Bad options", body = super::problem::ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such dataset", body = super::problem::ProblemBody, content_type = "application/problem+json")))]
async fn partition(
    _: Planner,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    b: Result<Json<PartitionBody>, JsonRejection>,
) -> Answer {
    let store = store(&state)?;
    let p = optional_body(b)?;
    let bounds = bounds_of(p.min, p.max, p.by.as_deref())?;
    let options = PartitionOptions {
        bounds,
        seed: p.seed.unwrap_or(1),
        micro: p.micro.unwrap_or(true).then(PartitionOptions::default_micro),
        ..PartitionOptions::default()
    };
    let (draft, report) = planner::partition_draft(store, id, options).await?;
    draft_answer(store, draft, serde_json::to_value(&report).unwrap_or_default()).await
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct RepartitionBody {
    /// The version to start from (default: the current one)
    from: Option<i64>,
    /// Smallest grid (default: the version's bounds; given alone, the other end is the basis's default)
    min: Option<u32>,
    /// Largest grid (default: the version's bounds)
    max: Option<u32>,
    /// `residents` or `households` (default: the version's basis)
    by: Option<String>,
    seed: Option<u64>,
    /// Redraw micro-grids in changed grids (default: as the version has them)
    micro: Option<bool>,
}

/// Re-partitions a stored dataset from a published version into a draft, changing only what
/// must change and keeping codes.
#[utoipa::path(post, path = "/v1/datasets/{id}/repartition", tag = "planner", security(("bearer" = [])), request_body = RepartitionBody,
    params(("id" = i64, Path, description = "Dataset id")),
    responses((status = 201, description = "`{\"draft\": {...}, \"report\": {...}}`", body = Value),
        (status = 404, description = "No such dataset or version", body = super::problem::ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "Nothing is published yet", body = super::problem::ProblemBody, content_type = "application/problem+json")))]
async fn repartition(
    _: Planner,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    b: Result<Json<RepartitionBody>, JsonRejection>,
) -> Answer {
    let store = store(&state)?;
    let r = optional_body(b)?;
    let micro = r.micro.and_then(|m| m.then(PartitionOptions::default_micro));
    let bounds = match (r.min, r.max, r.by.as_deref()) {
        (None, None, None) => None,
        (min, max, by) => Some(bounds_of(min, max, by)?),
    };
    let (draft, report) = planner::repartition_from(store, id, r.from, bounds, r.seed.unwrap_or(1), micro).await?;
    draft_answer(store, draft, serde_json::to_value(&report).unwrap_or_default()).await
}

/// Layers not published yet.
#[utoipa::path(get, path = "/v1/drafts", tag = "planner", security(("bearer" = [])),
    responses((status = 200, description = "`{\"drafts\": [...]}`", body = Value)))]
async fn drafts(_: Planner, State(state): State<Arc<AppState>>) -> Answer {
    Ok(Json(json!({ "drafts": store(&state)?.drafts().await? })).into_response())
}

/// A draft and the planner's report it was made with.
#[utoipa::path(get, path = "/v1/drafts/{id}", tag = "planner", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, description = "`{\"draft\": {...}, \"report\": {...} | null}`", body = Value), (status = 404, description = "No such draft", body = super::problem::ProblemBody, content_type = "application/problem+json")))]
async fn draft(_: Planner, State(state): State<Arc<AppState>>, Path(id): Path<i64>) -> Answer {
    let store = store(&state)?;
    let info = store
        .drafts()
        .await?
        .into_iter()
        .find(|d| d.id == id)
        .ok_or(StoreError::NoDraft(id))?;
    let report = store
        .layer_report(id)
        .await?
        .and_then(|r| serde_json::from_str::<Value>(&r).ok());
    Ok(Json(json!({ "draft": info, "report": report })).into_response())
}

/// A draft's grids and micro-grids as GeoJSON (the layer format `wangge partition` writes).
#[utoipa::path(get, path = "/v1/drafts/{id}/grids", tag = "planner", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, description = "GeoJSON FeatureCollection", content_type = "application/geo+json"), (status = 404, description = "No such draft", body = super::problem::ProblemBody, content_type = "application/problem+json")))]
async fn draft_grids(_: Planner, State(state): State<Arc<AppState>>, Path(id): Path<i64>) -> Answer {
    let (layer, _) = store(&state)?.layer(id).await?;
    Ok(geojson(to_geojson(&layer)))
}

/// What publishing a draft would change: the diff from the current version to the draft.
#[utoipa::path(get, path = "/v1/drafts/{id}/diff", tag = "planner", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, description = "Created, retired and changed codes, moved buildings, lineage", body = Value), (status = 404, description = "No such draft", body = super::problem::ProblemBody, content_type = "application/problem+json")))]
async fn draft_diff(_: Planner, State(state): State<Arc<AppState>>, Path(id): Path<i64>) -> Answer {
    Ok(Json(planner::diff_draft(store(&state)?, id).await?).into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct NoticeParams {
    /// `txt` (default), `json`, `png` (one notice: give `building` when the draft moves several)
    /// or `pdf` (one A4 page per notice)
    format: Option<String>,
    /// The day the change takes effect, `YYYY-MM-DD` (default: today, UTC)
    from: Option<String>,
    /// Only this building's notice
    building: Option<String>,
}

/// Residents' notices drafted from what publishing a draft would change: for every building
/// (or the units of one that move together) whose grid changes, the text with the day it takes
/// effect, the building, the new grid and its grid head and workers with their phones after the
/// publish (a grid without workers says so). As text, JSON, a PNG of one notice, or a PDF of all
/// (one A4 page each).
#[utoipa::path(get, path = "/v1/drafts/{id}/notices", tag = "planner", security(("bearer" = [])), params(("id" = i64, Path), NoticeParams),
    responses((status = 200, description = "The notices: `text/plain`, `application/json` (`{draft, effective, notices: [{building, units, place, from, to, grid_label, staff, text, …}]}`), `image/png` or `application/pdf`", body = Value),
        (status = 400, description = "A bad `format` or `from` (code `bad_date`), or a PNG asked for several notices (code `one_notice_per_png`)", body = super::problem::ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such draft, or the building given does not change grid (code `no_notice`)", body = super::problem::ProblemBody, content_type = "application/problem+json"),
        (status = 503, description = "PNG or PDF asked for on a server without a CJK font (code `no_cjk_font`)", body = super::problem::ProblemBody, content_type = "application/problem+json")))]
async fn draft_notices(
    _: Planner,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    params: Result<axum::extract::Query<NoticeParams>, axum::extract::rejection::QueryRejection>,
) -> Answer {
    use crate::notices::{NoticeFormat, NoticesError};
    let axum::extract::Query(p) = params.map_err(|e| Problem::bad_request(e.body_text()))?;
    let format = match p.format.as_deref() {
        None => NoticeFormat::Txt,
        Some(f) => NoticeFormat::parse(f)
            .ok_or_else(|| Problem::bad_request(format!("format {f:?}: expected txt, json, png or pdf")))?,
    };
    let from = p.from.unwrap_or_else(tiles::print::today);
    let effective = planner::EffectiveDate::parse(&from)?;
    let notices = planner::draft_notices(store(&state)?, id, effective, p.building.as_deref()).await?;
    let bytes = tokio::task::spawn_blocking(move || crate::notices::render(&notices, format))
        .await
        .map_err(internal)?
        .map_err(|e| match e {
            NoticesError::Draw(tiles::notice::NoticeError::NoCjkFont) => {
                Problem::new(StatusCode::SERVICE_UNAVAILABLE, "No CJK font", e.to_string())
            }
            NoticesError::OnePerPng(_) => Problem::bad_request(e.to_string()).code("one_notice_per_png"),
            NoticesError::Nothing => Problem::not_found(e.to_string()).code("no_notice"),
            e => internal(e),
        })?;
    let mut r = bytes.into_response();
    let name = match &p.building {
        Some(b) => format!(
            "notices-draft-{id}-{}.{}",
            b.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_"),
            format.extension()
        ),
        None => format!("notices-draft-{id}.{}", format.extension()),
    };
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

fn internal(e: impl std::fmt::Display) -> Problem {
    Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal error", e.to_string())
}

/// A validation as the routes answer it.
fn validation(v: planner::Validation) -> Response {
    Json(json!({ "clean": v.clean, "report": v.report, "defects": v.defects })).into_response()
}

/// Validates a draft against its dataset (gaps, overlaps, buildings cut, sizes, codes, …).
#[utoipa::path(post, path = "/v1/drafts/{id}/validate", tag = "planner", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, description = "`{\"clean\", \"report\", \"defects\": GeoJSON}`", body = Value), (status = 404, description = "No such draft", body = super::problem::ProblemBody, content_type = "application/problem+json")))]
async fn validate_draft(_: Planner, State(state): State<Arc<AppState>>, Path(id): Path<i64>) -> Answer {
    Ok(validation(planner::validate_draft(store(&state)?, id).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ValidateBody {
    /// The dataset the layer is drawn over (default: the current version's)
    dataset: Option<i64>,
    /// The grid layer, a GeoJSON FeatureCollection (drawn anywhere: by hand, in QGIS, …)
    #[schema(value_type = Object)]
    layer: Value,
}

/// Validates an uploaded grid layer (e.g. drawn by hand) without storing it.
#[utoipa::path(post, path = "/v1/validate", tag = "planner", security(("bearer" = [])), request_body = ValidateBody,
    responses((status = 200, description = "`{\"clean\", \"report\", \"defects\": GeoJSON}`", body = Value),
        (status = 422, description = "The layer cannot be read; `problems` lists why", body = super::problem::ProblemBody, content_type = "application/problem+json")))]
async fn validate_upload(
    _: Planner,
    State(state): State<Arc<AppState>>,
    b: Result<Json<ValidateBody>, JsonRejection>,
) -> Answer {
    let store = store(&state)?;
    let v = body(b)?;
    Ok(validation(
        planner::validate_upload(store, v.dataset, v.layer.to_string()).await?,
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct PublishBody {
    /// Why this version (shown in the version list)
    note: Option<String>,
    /// Publish a draft that does not validate clean, for this reason (kept in the note with the
    /// number of defects); without it such a draft is refused with 422 and its defects
    override_reason: Option<String>,
    /// Publish although some basic grids would have no grid worker (named in the note); without it
    /// such a draft is refused with 422 and the grids in `unstaffed`
    #[serde(default)]
    acknowledge_unstaffed: bool,
    /// Publish although it moves many residents to another grid (at least 10% of a community's
    /// residents, or more than 30% of one grid's; what was confirmed goes into the note); without
    /// it such a draft is refused with 422, code `large_moves_unconfirmed`, and the moves in
    /// `large_moves`
    #[serde(default)]
    confirm_large_moves: bool,
}

/// Publishes a draft as the next version, atomically; this service serves it at once and other
/// services on the same store within a second.
#[utoipa::path(post, path = "/v1/drafts/{id}/publish", tag = "planner", security(("bearer" = [])), params(("id" = i64, Path)), request_body = PublishBody,
    responses((status = 201, description = "`{\"version\": {...}}`", body = Value),
        (status = 404, description = "No such draft", body = super::problem::ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "Already published", body = super::problem::ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Nothing was published. A draft that does not validate clean (without `override_reason`): code `draft_does_not_validate`, `defects` (each defect's message) and `defect_details` (each defect's `kind`, `codes`, `item`, `area_m2`, `length_m`); one leaving grids without staff: code `grids_without_staff`, `unstaffed`; one moving many residents (without `confirm_large_moves`): code `large_moves_unconfirmed`, `large_moves` (`moved_residents`, `communities` over 10%, `grids` losing over 30%, the `largest` moves); one that does not read back (a grid not OGC-valid, a level not one exact coverage): `problems` names each grid and reason", body = super::problem::ProblemBody, content_type = "application/problem+json")))]
async fn publish(
    _: Planner,
    State(state): State<Arc<AppState>>,
    Path(id): Path<i64>,
    b: Result<Json<PublishBody>, JsonRejection>,
) -> Answer {
    let store = store(&state)?;
    let p = optional_body(b)?;
    let note = p.note.as_deref().unwrap_or("published through the API");
    let accepted = planner::Accepted {
        override_reason: p.override_reason.as_deref(),
        unstaffed: p.acknowledge_unstaffed,
        large_moves: p.confirm_large_moves,
    };
    let version = planner::publish(store, id, note, accepted).await?;
    serve_current(&state, store).await?;
    Ok(created(json!({ "version": version })))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct MoveBody {
    /// The draft to edit (default: the current version); the edit is saved as a new draft
    draft: Option<i64>,
    /// Building ids (or `ID#UNIT` parts) to move
    buildings: Vec<String>,
    /// The grid code they move to
    to: String,
    /// Make the move even if a grid ends up in parts or out of bounds; the violations are reported
    #[serde(default)]
    force: bool,
}

/// A planner's manual edit: moves buildings to another grid, checked against the rules, into a
/// new draft. Codes never change in an edit.
#[utoipa::path(post, path = "/v1/move", tag = "planner", security(("bearer" = [])), request_body = MoveBody,
    responses((status = 201, description = "`{\"draft\": {...}, \"report\": {...}}`", body = Value),
        (status = 404, description = "No such draft, grid or building", body = super::problem::ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Refused: a grid would be in parts or out of bounds (`reasons`)", body = super::problem::ProblemBody, content_type = "application/problem+json")))]
async fn move_buildings_route(
    _: Planner,
    State(state): State<Arc<AppState>>,
    b: Result<Json<MoveBody>, JsonRejection>,
) -> Answer {
    let store = store(&state)?;
    let m = body(b)?;
    if m.buildings.is_empty() {
        return Err(Problem::bad_request("buildings: give at least one building id"));
    }
    let (id, report) = planner::move_buildings(store, m.draft, m.buildings, m.to, m.force).await?;
    let report = serde_json::to_value(&report).unwrap_or_default();
    draft_answer(store, id, report).await
}

// ---- versions -----------------------------------------------------------------------------

/// Published versions, oldest first; `current` marks the store's current one. A version this
/// service found damaged (it does not read back or validate) is marked `damaged`; `served`
/// says which version is served instead (none when no version can be), `warning` how to recover.
#[utoipa::path(get, path = "/v1/versions", tag = "versions",
    responses((status = 200, description = "`{\"versions\": [{number, published_at, note, grids, current, rolled_back_from, damaged}], \"served\", \"damaged_versions\"?, \"warning\"?}`", body = Value)))]
async fn versions(State(state): State<Arc<AppState>>) -> Answer {
    let versions = store(&state)?.versions().await?;
    let served = state.current();
    let list: Vec<Value> = versions
        .iter()
        .map(|v| {
            let mut item = serde_json::to_value(v).unwrap_or_default();
            item["damaged"] = served.damaged.iter().any(|d| d.number == v.number).into();
            item
        })
        .collect();
    let mut body = json!({ "versions": list, "served": served.version });
    if let Some(w) = served.warning() {
        body["warning"] = w.into();
        body["damaged_versions"] = serde_json::to_value(&served.damaged).unwrap_or_default();
    }
    Ok(Json(body).into_response())
}

/// A version's grids and micro-grids as GeoJSON, exactly as published.
#[utoipa::path(get, path = "/v1/versions/{number}/grids", tag = "versions", params(("number" = i64, Path)),
    responses((status = 200, description = "GeoJSON FeatureCollection", content_type = "application/geo+json"), (status = 404, description = "No such version", body = super::problem::ProblemBody, content_type = "application/problem+json")))]
async fn version_grids(State(state): State<Arc<AppState>>, Path(number): Path<i64>) -> Answer {
    Ok(geojson(to_geojson(&store(&state)?.version_layer(number).await?)))
}

/// What changed from version `a` to version `b`: codes created, retired and changed, buildings
/// moved (with residents), lineage.
#[utoipa::path(get, path = "/v1/versions/{a}/diff/{b}", tag = "versions", params(("a" = i64, Path), ("b" = i64, Path)),
    responses((status = 200, description = "The diff", body = Value), (status = 404, description = "No such version", body = super::problem::ProblemBody, content_type = "application/problem+json")))]
async fn version_diff(State(state): State<Arc<AppState>>, Path((a, b)): Path<(i64, i64)>) -> Answer {
    Ok(Json(planner::diff_versions(store(&state)?, a, b).await?).into_response())
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct RollbackBody {
    note: Option<String>,
}

/// Re-publishes an earlier version under a new number (history stays append-only).
#[utoipa::path(post, path = "/v1/versions/{number}/rollback", tag = "planner", security(("bearer" = [])), params(("number" = i64, Path)), request_body = RollbackBody,
    responses((status = 201, description = "`{\"version\": {...}}`", body = Value), (status = 404, description = "No such version", body = super::problem::ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "That version is damaged (does not read back or validate): nothing was published; `problems` says why", body = super::problem::ProblemBody, content_type = "application/problem+json")))]
async fn rollback(
    _: Planner,
    State(state): State<Arc<AppState>>,
    Path(number): Path<i64>,
    b: Result<Json<RollbackBody>, JsonRejection>,
) -> Answer {
    let store = store(&state)?;
    let r = optional_body(b)?;
    let version = planner::rollback(store, number, r.note.as_deref()).await?;
    serve_current(&state, store).await?;
    Ok(created(json!({ "version": version })))
}

// ---- staff --------------------------------------------------------------------------------

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct StaffEntry {
    name: String,
    /// 网格长, 网格员, 楼栋长, …
    role: String,
    phone: Option<String>,
}

/// Who looks after a grid.
#[utoipa::path(get, path = "/v1/grids/{code}/staff", tag = "versions", params(("code" = String, Path)),
    responses((status = 200, description = "`{\"grid\", \"staff\": [{name, role, phone}]}`", body = Value)))]
async fn get_staff(State(state): State<Arc<AppState>>, Path(code): Path<String>) -> Answer {
    let staff = store(&state)?.staff(Some(&code)).await?;
    Ok(Json(json!({ "grid": code, "staff": staff })).into_response())
}

/// Replaces the staff of a grid of the current version; lookups return them within a second.
#[utoipa::path(put, path = "/v1/grids/{code}/staff", tag = "planner", security(("bearer" = [])), params(("code" = String, Path)), request_body = Vec<StaffEntry>,
    responses((status = 200, description = "`{\"grid\", \"staff\"}`", body = Value),
        (status = 404, description = "No such grid in the current version", body = super::problem::ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "An entry without name or role", body = super::problem::ProblemBody, content_type = "application/problem+json")))]
async fn set_staff(
    _: Planner,
    State(state): State<Arc<AppState>>,
    Path(code): Path<String>,
    b: Result<Json<Vec<StaffEntry>>, JsonRejection>,
) -> Answer {
    let store = store(&state)?;
    let entries = body(b)?;
    let staff: Vec<gis_core::Staff> = entries
        .into_iter()
        .map(|e| gis_core::Staff {
            grid: code.clone(),
            name: e.name,
            role: e.role,
            phone: e.phone,
        })
        .collect();
    store.set_staff(&code, &staff).await?;
    serve_current(&state, store).await?;
    Ok(Json(json!({ "grid": code, "staff": store.staff(Some(&code)).await? })).into_response())
}
