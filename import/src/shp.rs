//! Shapefiles: geometry from the .shp (and .shx), attributes from the .dbf, the coordinate
//! system from the .prj, the attribute encoding from the .cpg (survey data from China is often
//! GBK), else `--encoding`, else the .dbf's language driver byte, else UTF-8.

use crate::crs::SourceCrs;
use crate::error::{ImportError, SourceProblem};
use crate::source::{Declared, Layer, SourceFeature, Value};
use shapefile::dbase;
use std::collections::BTreeMap;
use std::path::Path;

/// A text encoding by the names .cpg files and people use ("GBK", "CP936", "936", "UTF-8", …).
pub fn encoding_by_name(name: &str) -> Option<&'static encoding_rs::Encoding> {
    let n = name.trim().trim_start_matches('\u{feff}').to_ascii_lowercase();
    match n.as_str() {
        // encoding_rs knows the WHATWG labels; code-page numbers are what Esri and GDAL write.
        "936" | "cp936" | "ms936" | "windows-936" | "gb18030" | "54936" => Some(if n.contains("18030") || n == "54936" { encoding_rs::GB18030 } else { encoding_rs::GBK }),
        "65001" | "utf8" | "utf-8" => Some(encoding_rs::UTF_8),
        "950" | "cp950" | "big5" => Some(encoding_rs::BIG5),
        "1252" | "cp1252" | "latin1" | "iso-8859-1" | "8859-1" | "88591" => Some(encoding_rs::WINDOWS_1252),
        _ => encoding_rs::Encoding::for_label(n.as_bytes()),
    }
}

/// The encoding a .dbf's language driver id (byte 29) stands for, for the ones met in China.
fn ldid_encoding(ldid: u8) -> Option<&'static encoding_rs::Encoding> {
    match ldid {
        0x4D | 0x7A => Some(encoding_rs::GBK), // 936: Chinese GBK (PRC)
        0x4F | 0x78 => Some(encoding_rs::BIG5), // 950
        0x57 | 0x03 => Some(encoding_rs::WINDOWS_1252),
        _ => None,
    }
}

/// Reads one shapefile. `encoding` (from `--encoding`) is used only when there is no .cpg.
pub fn read(path: &Path, encoding: Option<&'static encoding_rs::Encoding>) -> Result<Layer, ImportError> {
    if !path.exists() {
        return Err(ImportError::MissingFile { path: path.to_path_buf() });
    }
    let dbf = path.with_extension("dbf");
    if !dbf.exists() {
        return Err(ImportError::MissingDbf { path: path.to_path_buf(), dbf });
    }
    // The .prj declares the coordinate system; one that is empty or cannot be read is kept as
    // such, so an explicit --crs can win over it (and without one, the import stops).
    let prj = path.with_extension("prj");
    let declared_crs = if prj.exists() {
        let bytes = std::fs::read(&prj).map_err(|e| ImportError::unreadable(&prj, e))?;
        let wkt = String::from_utf8_lossy(&bytes);
        let by = prj.display().to_string();
        Some(if wkt.trim().trim_start_matches('\u{feff}').is_empty() {
            Declared::Unusable { by, given: String::new(), reason: "empty".into(), empty: true }
        } else {
            match SourceCrs::from_prj(&wkt) {
                Ok(crs) => Declared::Known { crs, by },
                Err(reason) => Declared::Unusable { by, given: first_name(&wkt), reason, empty: false },
            }
        })
    } else {
        None
    };
    let cpg = path.with_extension("cpg");
    let (enc, how) = if cpg.exists() {
        let label = std::fs::read_to_string(&cpg).map_err(|e| ImportError::unreadable(&cpg, e))?;
        let enc = encoding_by_name(&label).ok_or_else(|| ImportError::UnknownEncoding { file: cpg.clone(), given: label.trim().to_string() })?;
        (enc, format!("{} (from {})", enc.name(), cpg.display()))
    } else if let Some(enc) = encoding {
        (enc, format!("{} (--encoding)", enc.name()))
    } else {
        let mut header = [0u8; 32];
        use std::io::Read;
        std::fs::File::open(&dbf).and_then(|mut f| f.read_exact(&mut header)).map_err(|e| ImportError::unreadable(&dbf, e))?;
        match ldid_encoding(header[29]) {
            Some(enc) => (enc, format!("{} (from the .dbf's language driver id 0x{:02X})", enc.name(), header[29])),
            None => (encoding_rs::UTF_8, "UTF-8 (no .cpg, no --encoding; give --encoding gbk for GBK attributes)".to_string()),
        }
    };
    let mut shapes = shapefile::ShapeReader::from_path(path).map_err(|e| ImportError::unreadable(path, e))?;
    // UTF-8 decodes strictly; other encodings replace bad bytes with U+FFFD, which is then
    // refused below, so a wrong encoding never ends up in someone's address.
    let builder = if enc == encoding_rs::UTF_8 {
        dbase::ReaderBuilder::new().with_encoding(dbase::Unicode)
    } else {
        dbase::ReaderBuilder::new().with_encoding(dbase::encoding::EncodingRs::from(enc))
    };
    let mut table = builder
        .open(&dbf)
        .map_err(|e| ImportError::unreadable(&dbf, e))?;
    let all_fields: Vec<String> = table.fields().iter().map(|f| f.name().to_string()).collect();
    let fields: Vec<String> = all_fields.iter().filter(|n| *n != "DeletionFlag").cloned().collect();
    let shape_count = shapes.shape_count().map_err(|e| ImportError::unreadable(path, e))?;
    let record_count = table.header().num_records as usize;
    if shape_count != record_count {
        return Err(ImportError::Unusable { file: path.to_path_buf(), message: format!("{shape_count} shapes but {record_count} records in {}; the two files do not belong together", dbf.display()) });
    }
    let mut problems = Vec::new();
    let mut features = Vec::with_capacity(shape_count);
    for (index, (shape, record)) in shapes.iter_shapes().zip(table.iter_records()).enumerate() {
        let geometry = match shape {
            Ok(shapefile::Shape::NullShape) => None,
            Ok(shape) => match geo::Geometry::<f64>::try_from(shape) {
                Ok(g) => Some(g),
                Err(e) => {
                    problems.push(SourceProblem { file: path.to_path_buf(), feature: Some((index, None)), field: Some("geometry".into()), message: format!("cannot be read: {e}") });
                    None
                }
            },
            Err(e) => {
                problems.push(SourceProblem { file: path.to_path_buf(), feature: Some((index, None)), field: Some("geometry".into()), message: format!("cannot be read: {e}") });
                None
            }
        };
        let attrs = match record {
            Ok(record) => {
                let attrs: BTreeMap<String, Value> = record.into_iter().map(|(k, v)| (k, value(v))).collect();
                for (k, v) in &attrs {
                    if matches!(v, Value::Text(t) if t.contains('\u{FFFD}')) {
                        problems.push(SourceProblem { file: dbf.clone(), feature: Some((index, None)), field: Some(k.clone()), message: format!("holds bytes that are not valid {}; give the right encoding in a .cpg or with --encoding", enc.name()) });
                    }
                }
                attrs
            }
            Err(e) => {
                problems.push(SourceProblem {
                    file: dbf.clone(),
                    feature: Some((index, None)),
                    field: e.field_index().and_then(|i| all_fields.get(i.0)).cloned(),
                    message: format!("cannot be read as {}: {}", enc.name(), e.kind()),
                });
                BTreeMap::new()
            }
        };
        features.push(SourceFeature { index, geometry, attrs });
    }
    if !problems.is_empty() {
        return Err(ImportError::Invalid { problems });
    }
    Ok(Layer { name: path.to_path_buf(), fields, features, declared_crs, encoding: Some(how) })
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
