//! CSV and TSV tables of points: household registers geocoded to a point, resources copied from
//! AMap or Baidu. A header row names the columns; longitude and latitude come from `lon`/`lat`
//! (or lng, longitude, x, 经度 / latitude, y, 纬度) unless `--field lon=… --field lat=…` say.

use crate::error::{ImportError, SourceProblem};
use crate::source::{FieldMap, Layer, SourceFeature, Target, Value};
use geo::{Geometry, Point};
use std::collections::BTreeMap;
use std::path::Path;

pub fn read(path: &Path, delimiter: u8, fields: &FieldMap, encoding: Option<&'static encoding_rs::Encoding>) -> Result<Layer, ImportError> {
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ImportError::MissingFile { path: path.to_path_buf() },
        _ => ImportError::unreadable(path, e),
    })?;
    // Spreadsheets saved on Chinese Windows are GBK; say so rather than print mojibake.
    let text = match encoding {
        Some(enc) => enc.decode_without_bom_handling_and_without_replacement(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes)).map(|c| c.into_owned()).ok_or_else(|| ImportError::unreadable(path, format!("not valid {}", enc.name())))?,
        None => String::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes).to_vec()).map_err(|e| {
            ImportError::unreadable(path, format!("not valid UTF-8 (byte {}); a spreadsheet saved as GBK needs --encoding gbk", e.utf8_error().valid_up_to()))
        })?,
    };
    let mut reader = ::csv::ReaderBuilder::new().delimiter(delimiter).flexible(false).trim(::csv::Trim::All).from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().map_err(|e| ImportError::unreadable(path, e))?.iter().map(str::to_string).collect();
    let column = |t: Target| -> Result<usize, ImportError> {
        if let Some(given) = fields.given_any(t) {
            return header.iter().position(|h| h.eq_ignore_ascii_case(given)).ok_or_else(|| ImportError::MissingField {
                file: path.to_path_buf(),
                field: given.to_string(),
                target: t.name().to_string(),
                available: header.clone(),
            });
        }
        t.aliases().iter().find_map(|a| header.iter().position(|h| h.eq_ignore_ascii_case(a))).ok_or_else(|| ImportError::Unusable {
            file: path.to_path_buf(),
            message: format!("no {} column (looked for {}); name it with --field {}=COLUMN; its columns are {}", t.name(), t.aliases().join(", "), t.name(), header.join(", ")),
        })
    };
    let (lon, lat) = (column(Target::Lon)?, column(Target::Lat)?);
    let mut problems = Vec::new();
    let mut features = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                problems.push(SourceProblem { file: path.to_path_buf(), feature: Some((index, None)), field: None, message: format!("cannot be read: {e}") });
                continue;
            }
        };
        let number = |i: usize| -> Result<f64, SourceProblem> {
            let s = record.get(i).unwrap_or("");
            s.parse::<f64>().ok().filter(|n| n.is_finite()).ok_or_else(|| SourceProblem {
                file: path.to_path_buf(),
                feature: Some((index, None)),
                field: Some(header[i].clone()),
                message: format!("expected a number, found {s:?}"),
            })
        };
        let geometry = match (number(lon), number(lat)) {
            (Ok(x), Ok(y)) => Some(Geometry::Point(Point::new(x, y))),
            (a, b) => {
                problems.extend(a.err());
                problems.extend(b.err());
                None
            }
        };
        let attrs: BTreeMap<String, Value> = header.iter().zip(record.iter()).map(|(h, v)| (h.clone(), if v.is_empty() { Value::Null } else { Value::Text(v.to_string()) })).collect();
        features.push(SourceFeature { index, geometry, attrs });
    }
    if !problems.is_empty() {
        return Err(ImportError::Invalid { problems });
    }
    Ok(Layer { name: path.to_path_buf(), fields: header, features, declared_crs: None, encoding: encoding.map(|e| e.name().to_string()) })
}
