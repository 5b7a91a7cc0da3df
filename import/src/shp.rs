//! Shapefiles: geometry from the .shp (and .shx), attributes from the .dbf, the coordinate
//! system from the .prj, the attribute encoding from `--encoding`, else the .cpg, else the .dbf's
//! language driver byte, else detected (UTF-8, then GBK/GB18030: survey data from China is
//! often GBK with no .cpg), see [`crate::encoding`].

use crate::crs::SourceCrs;
use crate::encoding::{self, Choice};
use crate::error::{ImportError, ProblemKind, SourceProblem};
use crate::source::{Declared, Layer, SourceFeature, Value};
use shapefile::dbase;
use std::collections::BTreeMap;
use std::path::Path;

/// The encoding a .dbf's language driver id (byte 29) stands for, for the ones met in China.
/// 0x57 and 0x03 ("ANSI") mean the writer's system code page, which on Chinese Windows is GBK,
/// so they decide nothing: the text is detected.
fn ldid_encoding(ldid: u8) -> Option<&'static encoding_rs::Encoding> {
    match ldid {
        0x4D | 0x7A => Some(encoding_rs::GBK),  // 936: Chinese GBK (PRC)
        0x4F | 0x78 => Some(encoding_rs::BIG5), // 950
        _ => None,
    }
}

/// Reads one shapefile. `encoding` (from `--encoding`) overrides the .cpg: it is how a planner
/// corrects one that is wrong.
pub fn read(path: &Path, encoding: Option<&'static encoding_rs::Encoding>) -> Result<Layer, ImportError> {
    if !path.exists() {
        return Err(ImportError::MissingFile {
            path: path.to_path_buf(),
        });
    }
    let dbf = path.with_extension("dbf");
    if !dbf.exists() {
        return Err(ImportError::MissingDbf {
            path: path.to_path_buf(),
            dbf,
        });
    }
    // The .prj declares the coordinate system; one that is empty or cannot be read is kept as
    // such, so an explicit --crs can win over it (and without one, the import stops).
    let prj = path.with_extension("prj");
    let declared_crs = if prj.exists() {
        let bytes = std::fs::read(&prj).map_err(|e| ImportError::unreadable(&prj, e))?;
        let wkt = String::from_utf8_lossy(&bytes);
        let by = prj.display().to_string();
        Some(if wkt.trim().trim_start_matches('\u{feff}').is_empty() {
            Declared::Unusable {
                by,
                given: String::new(),
                reason: "empty".into(),
                empty: true,
            }
        } else {
            match SourceCrs::from_prj(&wkt) {
                Ok(crs) => Declared::Known { crs, by },
                Err(reason) => Declared::Unusable {
                    by,
                    given: first_name(&wkt),
                    reason,
                    empty: false,
                },
            }
        })
    } else {
        None
    };
    let cpg = path.with_extension("cpg");
    let choice = if let Some(enc) = encoding {
        Choice::Given(enc)
    } else if cpg.exists() {
        let label = std::fs::read_to_string(&cpg).map_err(|e| ImportError::unreadable(&cpg, e))?;
        let enc = encoding::encoding_by_name(&label).ok_or_else(|| ImportError::UnknownEncoding {
            file: cpg.clone(),
            given: label.trim().to_string(),
        })?;
        Choice::Declared(enc, format!("{} (from {})", enc.name(), cpg.display()))
    } else {
        let mut header = [0u8; 32];
        use std::io::Read;
        std::fs::File::open(&dbf)
            .and_then(|mut f| f.read_exact(&mut header))
            .map_err(|e| ImportError::unreadable(&dbf, e))?;
        match ldid_encoding(header[29]) {
            Some(enc) => Choice::Declared(
                enc,
                format!(
                    "{} (from the .dbf's language driver id 0x{:02X})",
                    enc.name(),
                    header[29]
                ),
            ),
            None => Choice::Detect,
        }
    };
    let mut problems = Vec::new();
    // The attribute table in one encoding: fields and records, or where its bytes are invalid
    // (encoding_rs replaces them with U+FFFD, which no address holds).
    type Table = (Vec<String>, Vec<Result<BTreeMap<String, Value>, SourceProblem>>);
    let table = |enc: &'static encoding_rs::Encoding| -> Result<Table, String> {
        let mut table = dbase::ReaderBuilder::new()
            .with_encoding(dbase::encoding::EncodingRs::from(enc))
            .open(&dbf)
            .map_err(|e| format!("cannot open {}: {e}", dbf.display()))?;
        let all_fields: Vec<String> = table.fields().iter().map(|f| f.name().to_string()).collect();
        let mut records = Vec::new();
        for (index, record) in table.iter_records().enumerate() {
            records.push(match record {
                Ok(record) => {
                    let attrs: BTreeMap<String, Value> = record.into_iter().map(|(k, v)| (k, value(v))).collect();
                    if let Some((k, _)) = attrs
                        .iter()
                        .find(|(_, v)| matches!(v, Value::Text(t) if t.contains('\u{FFFD}')))
                    {
                        return Err(format!("record {index}, field {k}"));
                    }
                    Ok(attrs)
                }
                Err(e) => Err(SourceProblem::at(
                    &dbf,
                    index,
                    e.field_index().and_then(|i| all_fields.get(i.0)).map(String::as_str),
                    ProblemKind::UnreadableRecord,
                    format!("cannot be read: {}", e.kind()),
                )),
            });
        }
        Ok((all_fields, records))
    };
    let texts = |t: &Table| -> Vec<String> {
        t.1.iter()
            .flatten()
            .flat_map(|attrs| {
                attrs.values().filter_map(|v| match v {
                    Value::Text(s) => Some(s.clone()),
                    _ => None,
                })
            })
            .collect()
    };
    let chosen = encoding::choose(&dbf, choice, table, texts)?;
    let (all_fields, records) = chosen.value;
    let fields: Vec<String> = all_fields.iter().filter(|n| *n != "DeletionFlag").cloned().collect();
    let mut shapes = shapefile::ShapeReader::from_path(path).map_err(|e| ImportError::unreadable(path, e))?;
    let shape_count = shapes.shape_count().map_err(|e| ImportError::unreadable(path, e))?;
    if shape_count != records.len() {
        return Err(ImportError::Unusable {
            file: path.to_path_buf(),
            message: format!(
                "{shape_count} shapes but {} records in {}; the two files do not belong together",
                records.len(),
                dbf.display()
            ),
        });
    }
    let mut features = Vec::with_capacity(shape_count);
    for (index, (shape, record)) in shapes.iter_shapes().zip(records).enumerate() {
        let unreadable = |e: &dyn std::fmt::Display| {
            SourceProblem::at(
                path,
                index,
                Some("geometry"),
                ProblemKind::UnreadableGeometry,
                format!("cannot be read: {e}"),
            )
        };
        let geometry = match shape {
            Ok(shapefile::Shape::NullShape) => None,
            Ok(shape) => match geo::Geometry::<f64>::try_from(shape) {
                Ok(g) => Some(g),
                Err(e) => {
                    problems.push(unreadable(&e));
                    None
                }
            },
            Err(e) => {
                problems.push(unreadable(&e));
                None
            }
        };
        let attrs = record.unwrap_or_else(|p| {
            problems.push(p);
            BTreeMap::new()
        });
        features.push(SourceFeature { index, geometry, attrs });
    }
    if !problems.is_empty() {
        return Err(ImportError::Invalid { problems });
    }
    Ok(Layer {
        name: path.to_path_buf(),
        fields,
        features,
        declared_crs,
        encoding: Some(chosen.how),
        notes: chosen.warning.into_iter().collect(),
    })
}

fn first_name(wkt: &str) -> String {
    wkt.split('"').nth(1).unwrap_or(wkt).to_string()
}

fn value(v: dbase::FieldValue) -> Value {
    use dbase::FieldValue as F;
    match v {
        F::Character(Some(s)) | F::Memo(s) => Value::Text(s),
        F::Numeric(Some(n)) | F::Currency(n) | F::Double(n) => Value::Real(n),
        F::Float(Some(n)) => Value::Real(f64::from(n)),
        F::Integer(i) => Value::Integer(i64::from(i)),
        F::Logical(Some(b)) => Value::Bool(b),
        F::Date(Some(d)) => Value::Text(format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())),
        F::DateTime(dt) => {
            let d = dt.date();
            Value::Text(format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day()))
        }
        _ => Value::Null,
    }
}
