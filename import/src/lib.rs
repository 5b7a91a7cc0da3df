//! Import and export: the formats planners have (OpenStreetMap, Shapefile, GeoPackage, CSV,
//! GeoJSON) into a dataset folder (`shared/dataset-format.md`), and grid layers out again.
//!
//! [`import`] reads every source, converts coordinates to WGS-84, maps fields to dataset
//! properties, repairs what the strict reader would refuse by one set of rules for every source
//! ([`repair`]), estimates residents where no source gives them ([`estimate`]), drops what lies
//! outside the communities, writes the folder beside its target, reads it back with the strict
//! `gis_core::io` reader and renames it into place only if it passes. Every repair and every
//! dropped feature is listed by id in the [`Notes`]. Errors are typed ([`ImportError`]) and name
//! file, feature and field.

pub mod coast;
pub mod crs;
pub mod csv;
pub mod dataset;
pub mod encoding;
pub mod error;
pub mod estimate;
pub mod export;
pub mod geojson;
pub mod gpkg;
pub mod osm;
pub mod repair;
pub mod shp;
pub mod source;

pub use crs::SourceCrs;
pub use dataset::{Draft, Dropped, Notes, Repaired};
pub use error::{ImportError, ProblemKind, SourceProblem};
pub use estimate::Densities;
pub use source::{Declared, FieldMap, Format, Layer, Role, SourceSpec};

use gis_core::io::Loaded;
use serde_json::json;
use std::path::PathBuf;

/// Everything `wangge import` was told.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub sources: Vec<SourceSpec>,
    /// The community boundary (polygons; `code` and `name` fields, or --community-code/-name).
    pub boundary: Option<SourceSpec>,
    pub out: PathBuf,
    /// `--crs`: the sources' coordinate system where they declare none (or an empty or
    /// unreadable one); one that disagrees with a readable declaration is an error. A source's
    /// own `FILE@CRS` (in `SourceSpec::crs`) overrides both.
    pub crs: Option<SourceCrs>,
    pub fields: FieldMap,
    /// Attribute encoding for shapefiles without a .cpg and for CSV files.
    pub encoding: Option<&'static encoding_rs::Encoding>,
    pub community_code: Option<String>,
    pub community_name: Option<String>,
    /// The kind of every resource whose source has no kind field (`--kind clinic`).
    pub kind: Option<String>,
    /// How residents are estimated where no source gives them (OpenStreetMap, footprint files).
    pub densities: Densities,
    /// How far the drawn boundary stands off the outermost building when none is given (m).
    pub hull_margin_m: f64,
    /// How far around the communities water, green and main roads are kept for the map (m).
    pub context_margin_m: f64,
    /// Replace an existing folder at `out`.
    pub force: bool,
}

impl ImportOptions {
    pub fn new(sources: Vec<SourceSpec>, out: PathBuf) -> Self {
        Self {
            sources,
            boundary: None,
            out,
            crs: None,
            fields: FieldMap::default(),
            encoding: None,
            community_code: None,
            community_name: None,
            kind: None,
            densities: Densities::standard(),
            hull_margin_m: 30.0,
            context_margin_m: 300.0,
            force: false,
        }
    }
}

/// A dataset written and read back, and what import assumed and dropped on the way.
#[derive(Debug)]
pub struct Imported {
    pub loaded: Loaded,
    pub notes: Notes,
}

/// Reads one source into layers (an OpenStreetMap extract goes straight into the draft).
fn read_source(spec: &SourceSpec, opts: &ImportOptions, draft: &mut Draft) -> Result<Vec<Layer>, ImportError> {
    let format = Format::of(&spec.path).ok_or_else(|| ImportError::UnknownFormat {
        path: spec.path.clone(),
    })?;
    if !spec.path.exists() {
        return Err(ImportError::MissingFile {
            path: spec.path.clone(),
        });
    }
    Ok(match format {
        Format::OsmPbf => {
            if let Some((given, _)) = &spec.crs {
                return Err(ImportError::Setting(format!(
                    "{}@{given}: an OpenStreetMap extract is always WGS-84; drop @{given}",
                    spec.path.display()
                )));
            }
            if let Some(role) = spec.role.filter(|r| {
                !matches!(
                    r,
                    Role::Buildings | Role::Resources | Role::Roads | Role::Water | Role::Green | Role::Walk
                )
            }) {
                return Err(ImportError::Setting(format!(
                    "{}: an OpenStreetMap extract gives buildings, resources, roads, water, green and walk, not {}",
                    spec.path.display(),
                    role.name()
                )));
            }
            let features = osm::read(&spec.path, &mut draft.notes)?;
            for (role, fs) in [
                (Role::Buildings, features.buildings),
                (Role::Resources, features.resources),
                (Role::Roads, features.roads),
                (Role::Water, features.water),
                (Role::Green, features.green),
                (Role::Walk, features.walk),
            ] {
                if spec.role.is_none_or(|r| r == role) {
                    draft.files.entry(role).or_default().extend(fs);
                }
            }
            Vec::new()
        }
        Format::Shapefile => vec![shp::read(&spec.path, opts.encoding)?],
        Format::GeoPackage => gpkg::read(&spec.path, spec.layer.as_deref())?,
        Format::Csv => vec![csv::read(&spec.path, b',', &opts.fields, opts.encoding)?],
        Format::Tsv => vec![csv::read(&spec.path, b'\t', &opts.fields, opts.encoding)?],
        Format::GeoJson => vec![geojson::read(&spec.path)?],
        Format::Dataset => {
            if spec.role.is_some() {
                return Err(ImportError::Setting(format!(
                    "{}: a dataset folder gives every role by its file names; give it without ROLE=",
                    spec.path.display()
                )));
            }
            let mut layers = Vec::new();
            for role in Role::ALL {
                let file = spec.path.join(role.file());
                if file.exists() {
                    layers.push(geojson::read(&file)?);
                }
            }
            if layers.is_empty() {
                return Err(ImportError::Unusable {
                    file: spec.path.clone(),
                    message: "a folder, but no dataset files in it (boundary.geojson, buildings.geojson, …)".into(),
                });
            }
            let staff = spec.path.join("staff.json");
            if staff.exists() {
                draft.staff = Some(std::fs::read_to_string(&staff).map_err(|e| ImportError::unreadable(&staff, e))?);
            }
            layers
        }
    })
}

/// Boundary features need 12-digit community codes. One without (a drawn boundary, an
/// AMap/DataV download whose `adcode` is a county's 6 digits) takes `--community-code` when it is
/// the only one; otherwise say what was found and what to type.
fn community_codes(draft: &mut Draft, opts: &ImportOptions) -> Result<(), ImportError> {
    let Some(boundary) = draft.files.get_mut(&Role::Boundary) else {
        return Ok(());
    };
    let valid = |f: &dataset::Feature| {
        f.properties
            .get("code")
            .and_then(|c| c.as_str())
            .is_some_and(|c| gis_core::model::CommunityCode::parse(c).is_some())
    };
    let names = |fs: &[dataset::Feature]| -> String {
        let named: Vec<String> = fs
            .iter()
            .take(3)
            .map(|f| {
                let name = f.properties.get("name").and_then(|n| n.as_str()).unwrap_or("unnamed");
                match f.properties.get("code").and_then(|c| c.as_str()) {
                    Some(code) => format!("{name} (code {code})"),
                    None => name.to_string(),
                }
            })
            .collect();
        named.join(", ") + if fs.len() > 3 { ", …" } else { "" }
    };
    let bad: Vec<usize> = (0..boundary.len()).filter(|&i| !valid(&boundary[i])).collect();
    if bad.is_empty() {
        return Ok(());
    }
    let source = boundary[bad[0]].source.clone();
    if boundary.len() == 1 {
        let f = &mut boundary[0];
        let Some(code) = &opts.community_code else {
            // An AMap/DataV adcode of a district is the county part of the code.
            let county = f
                .properties
                .get("code")
                .and_then(|c| c.as_str())
                .filter(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()));
            return Err(ImportError::Unusable {
                file: source,
                message: format!(
                    "found one boundary, {}, but no 12-digit community code; add --community-code {}SSSCCC (the community's code: {}3 street and 3 committee digits)",
                    names(std::slice::from_ref(f)),
                    county.unwrap_or("CCCCCC"),
                    county.map_or("6 county, ".to_string(), |c| format!("county {c}, then ")),
                ),
            });
        };
        if let Some(old) = f.properties.get("code").and_then(|c| c.as_str()).map(str::to_string) {
            // The name beside a county's adcode is the county's: the community's comes from
            // --community-name when given.
            let name = match &opts.community_name {
                Some(n) => {
                    f.properties.insert("name".into(), json!(n));
                    format!(", named {n:?} (--community-name)")
                }
                None => format!(
                    ", still named {:?} (give --community-name otherwise)",
                    f.properties.get("name").and_then(|n| n.as_str()).unwrap_or("")
                ),
            };
            draft.notes.assume(format!(
                "{}: code {old:?} is not a 12-digit community code; the community is {code} (--community-code){name}",
                source.display()
            ));
        }
        f.properties.insert("code".into(), json!(code));
        return Ok(());
    }
    let shown: Vec<dataset::Feature> = bad.iter().map(|&i| boundary[i].clone()).collect();
    Err(ImportError::Unusable {
        file: source.clone(),
        message: format!(
            "found {} boundaries, {} of them without a 12-digit community code: {}; import one community at a time: keep one with `ogr2ogr -where \"name = '…'\" one.geojson {}` and give --boundary one.geojson --community-code CODE",
            boundary.len(),
            bad.len(),
            names(&shown),
            gis_core::io::shell_word(&source.display().to_string()),
        ),
    })
}

/// Builds the dataset folder `opts.out` from the sources, or explains why not (nothing written).
pub fn import(opts: &ImportOptions) -> Result<Imported, ImportError> {
    if opts.out.exists() && !opts.force {
        return Err(ImportError::TargetExists { path: opts.out.clone() });
    }
    if opts.sources.is_empty() {
        return Err(ImportError::Setting("no sources given".into()));
    }
    if let Some(code) = &opts.community_code
        && gis_core::model::CommunityCode::parse(code).is_none()
    {
        return Err(ImportError::Setting(format!(
            "--community-code {code:?}: expected 12 digits (county 6 + street 3 + committee 3)"
        )));
    }
    let mut draft = Draft::default();
    let mut problems = Vec::new();
    let specs = opts
        .sources
        .iter()
        .map(|s| (s, s.role))
        .chain(opts.boundary.iter().map(|b| (b, Some(Role::Boundary))));
    for (spec, role) in specs {
        let layers = read_source(spec, opts, &mut draft)?;
        for layer in layers {
            let Some(role) = role.or_else(|| dataset::infer_role(&layer, &opts.fields)) else {
                draft.notes.drop(
                    &layer.name,
                    layer.name.display().to_string(),
                    "layer with no geometry import can use",
                );
                continue;
            };
            if spec.role.is_none() && role != Role::Boundary {
                draft.notes.assume(format!(
                    "{}: read as {} (from its name or geometry; say ROLE=FILE otherwise)",
                    layer.name.display(),
                    role.file()
                ));
            }
            if let Some(how) = &layer.encoding {
                draft
                    .notes
                    .assume(format!("{}: attributes decoded as {how}", layer.name.display()));
            }
            for note in &layer.notes {
                draft.notes.assume(note.clone());
            }
            let crs = dataset::layer_crs(&layer, spec.crs.as_ref(), opts.crs.as_ref(), &mut draft.notes)?;
            match dataset::convert_layer(&layer, role, &opts.fields, &crs, opts.kind.as_deref(), &mut draft.notes) {
                Ok(features) => draft.files.entry(role).or_default().extend(features),
                Err(ImportError::Invalid { problems: p }) => problems.extend(p),
                Err(e) => return Err(e),
            }
        }
    }
    if !problems.is_empty() {
        return Err(ImportError::Invalid { problems });
    }
    if draft.files.get(&Role::Buildings).is_none_or(Vec::is_empty) {
        return Err(ImportError::Setting(
            "the sources gave no buildings; a dataset needs buildings.geojson".into(),
        ));
    }
    repair::repair(&mut draft);
    let default_name = opts.sources[0]
        .path
        .file_name()
        .map(|n| n.to_string_lossy().split('.').next().unwrap_or("").to_string())
        .unwrap_or_default();
    let boundary = draft.files.entry(Role::Boundary).or_default();
    if boundary.is_empty() {
        let code = opts.community_code.clone().unwrap_or_else(|| "000000000000".into());
        let name = opts.community_name.clone().unwrap_or(default_name);
        let hull = dataset::hull_boundary(&draft, opts.hull_margin_m).ok_or_else(|| {
            ImportError::Setting("too few buildings to draw a boundary around; give --boundary FILE".into())
        })?;
        draft.notes.assume(format!(
            "no --boundary: community {code} \"{name}\" drawn as the convex hull of the buildings and points, {} m out{}",
            opts.hull_margin_m,
            if opts.community_code.is_none() { " (code 000000000000 until --community-code gives the real one)" } else { "" }
        ));
        let mut properties = serde_json::Map::new();
        properties.insert("code".into(), json!(code));
        properties.insert("name".into(), json!(name));
        draft.files.entry(Role::Boundary).or_default().push(dataset::Feature {
            geometry: geo::Geometry::MultiPolygon(hull),
            properties,
            source: PathBuf::from("(drawn hull)"),
            source_index: 0,
            building_use: None,
        });
    } else {
        // One community without a code field takes --community-code; any name missing takes
        // --community-name, else the code.
        let single = boundary.len() == 1;
        for f in boundary.iter_mut() {
            if !f.properties.contains_key("code")
                && single
                && let Some(code) = &opts.community_code
            {
                f.properties.insert("code".into(), json!(code));
            }
            if !f.properties.contains_key("name") {
                let name = opts
                    .community_name
                    .clone()
                    .or_else(|| f.properties.get("code").and_then(|c| c.as_str()).map(str::to_string));
                if let Some(name) = name {
                    f.properties.insert("name".into(), json!(name));
                }
            }
        }
    }
    community_codes(&mut draft, opts)?;
    dataset::keep_inside(&mut draft, opts.context_margin_m);
    estimate::estimate(&mut draft, &opts.densities);
    let loaded = dataset::write(&draft, &opts.out, opts.force)?;
    Ok(Imported {
        loaded,
        notes: draft.notes,
    })
}
