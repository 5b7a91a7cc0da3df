//! CSV and TSV tables of points: household registers geocoded to a point, resources copied from
//! AMap or Baidu. A header row names the columns; longitude and latitude come from `lon`/`lat`
//! (or lng, long, longitude, x, 经度 / latitude, y, 纬度) unless `--field lon=… --field lat=…`
//! say. Text is UTF-8 (with or without a byte-order mark), `--encoding`, or detected (GBK from
//! Excel on Chinese Windows), see [`crate::encoding`].

use crate::encoding::{self, Choice};
use crate::error::{ImportError, ProblemKind, SourceProblem};
use crate::source::{FieldMap, Layer, SourceFeature, Target, Value};
use geo::{Geometry, Point};
use std::collections::BTreeMap;
use std::path::Path;

pub fn read(
    path: &Path,
    delimiter: u8,
    fields: &FieldMap,
    encoding: Option<&'static encoding_rs::Encoding>,
) -> Result<Layer, ImportError> {
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ImportError::MissingFile {
            path: path.to_path_buf(),
        },
        _ => ImportError::unreadable(path, e),
    })?;
    // A byte-order mark says UTF-8 (Excel's "CSV UTF-8"); otherwise --encoding, else detect.
    let (bytes, choice) = match (bytes.strip_prefix(b"\xEF\xBB\xBF"), encoding) {
        (Some(rest), None) => (
            rest,
            Choice::Declared(encoding_rs::UTF_8, "UTF-8 (its byte-order mark)".into()),
        ),
        (Some(rest), Some(enc)) => (rest, Choice::Given(enc)),
        (None, Some(enc)) => (&bytes[..], Choice::Given(enc)),
        (None, None) => (&bytes[..], Choice::Detect),
    };
    let decode = |enc: &'static encoding_rs::Encoding| {
        encoding::decode(bytes, enc).ok_or_else(|| {
            // Say where: the line of the first byte that is not valid.
            let at = encoding::first_invalid(bytes, enc).unwrap_or(0);
            format!("line {}", bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1)
        })
    };
    let cells = |text: &String| -> Vec<String> {
        ::csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes())
            .records()
            .flatten()
            .flat_map(|r| r.iter().map(str::to_string).collect::<Vec<_>>())
            .collect()
    };
    let chosen = encoding::choose(path, choice, decode, cells)?;
    let text = chosen.value;
    let mut reader = ::csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(false)
        .trim(::csv::Trim::All)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| ImportError::unreadable(path, e))?
        .iter()
        .map(str::to_string)
        .collect();
    let column = |t: Target| -> Result<usize, ImportError> {
        if let Some(given) = fields.given_any(t) {
            return header
                .iter()
                .position(|h| h.eq_ignore_ascii_case(given))
                .ok_or_else(|| ImportError::MissingField {
                    file: path.to_path_buf(),
                    field: given.to_string(),
                    target: t.name().to_string(),
                    available: header.clone(),
                });
        }
        t.aliases()
            .iter()
            .find_map(|a| header.iter().position(|h| h.eq_ignore_ascii_case(a)))
            .ok_or_else(|| ImportError::Unusable {
                file: path.to_path_buf(),
                message: format!(
                    "no {} column (looked for {}); name it with --field {}=COLUMN; its columns are {}",
                    t.name(),
                    t.aliases().join(", "),
                    t.name(),
                    header.join(", ")
                ),
            })
    };
    let (lon, lat) = (column(Target::Lon)?, column(Target::Lat)?);
    let mut problems = Vec::new();
    let mut features = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                problems.push(SourceProblem::at(
                    path,
                    index,
                    None,
                    ProblemKind::UnreadableRecord,
                    format!("cannot be read: {e}"),
                ));
                continue;
            }
        };
        let number = |i: usize| -> Result<f64, SourceProblem> {
            let s = record.get(i).unwrap_or("");
            s.parse::<f64>().ok().filter(|n| n.is_finite()).ok_or_else(|| {
                SourceProblem::at(
                    path,
                    index,
                    Some(&header[i]),
                    ProblemKind::BadCoordinates,
                    format!("expected a number, found {s:?}"),
                )
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
        let attrs: BTreeMap<String, Value> = header
            .iter()
            .zip(record.iter())
            .map(|(h, v)| {
                (
                    h.clone(),
                    if v.is_empty() {
                        Value::Null
                    } else {
                        Value::Text(v.to_string())
                    },
                )
            })
            .collect();
        features.push(SourceFeature { index, geometry, attrs });
    }
    if !problems.is_empty() {
        return Err(ImportError::Invalid { problems });
    }
    Ok(Layer {
        name: path.to_path_buf(),
        fields: header,
        features,
        declared_crs: None,
        encoding: Some(chosen.how),
        notes: chosen.warning.into_iter().collect(),
    })
}
