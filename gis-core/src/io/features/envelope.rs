//! A file's envelope: its JSON, the FeatureCollection, and each Feature with its properties.

use super::{Feature, NO_PROPERTIES, Reader, number_text};
use crate::io::geometry::kind_of;
use crate::io::json::{self, Parsed as Json};
use crate::io::{FeatureRef, InputProblemKind};
use serde_json::Value;

impl Reader {
    /// The file's JSON, or None (with the problem recorded) when it is absent or unreadable.
    pub(super) fn json(&mut self, file: &str, required: bool) -> Option<Value> {
        let read = match &mut self.files {
            // Taken, not cloned: each file is read once, and a city's buildings are 100 MB.
            Some(files) => files
                .remove(file)
                .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound)),
            None => std::fs::read_to_string(self.dir.join(file)),
        };
        let text = match read {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if required {
                    self.problem(
                        file,
                        None,
                        None,
                        InputProblemKind::MissingFile,
                        "required file is missing",
                    );
                }
                return None;
            }
            Err(e) => {
                self.problem(
                    file,
                    None,
                    None,
                    InputProblemKind::Unreadable,
                    format!("cannot be read: {e}"),
                );
                return None;
            }
        };
        match json::parse(&text) {
            Json::Ok(v) | Json::NonFiniteQuoted(v) => Some(v),
            Json::Invalid(msg) => {
                self.problem(
                    file,
                    None,
                    None,
                    InputProblemKind::InvalidJson,
                    format!("is not valid JSON: {msg}"),
                );
                None
            }
        }
    }

    /// The `features` of a FeatureCollection file.
    pub(super) fn collection(&mut self, file: &str, required: bool) -> Option<Vec<Value>> {
        let mut root = self.json(file, required)?;
        let kind = root.get("type").and_then(Value::as_str).unwrap_or("");
        if kind != "FeatureCollection" {
            let found = if kind.is_empty() {
                kind_of(&root)
            } else {
                format!("a GeoJSON {kind}")
            };
            self.problem(
                file,
                None,
                Some("type"),
                InputProblemKind::NotFeatureCollection,
                format!("expected a GeoJSON FeatureCollection, found {found}"),
            );
            return None;
        }
        match root.get_mut("features").map(Value::take) {
            Some(Value::Array(features)) => {
                self.report.files.push((file.to_string(), features.len()));
                Some(features)
            }
            other => {
                let found = other.as_ref().map_or("nothing".to_string(), kind_of);
                self.problem(
                    file,
                    None,
                    Some("features"),
                    InputProblemKind::NotFeatureCollection,
                    format!("expected an array of features, found {found}"),
                );
                None
            }
        }
    }

    /// The features of a collection whose envelope is sound; `id_key` names them in messages.
    pub(super) fn features<'v>(&mut self, file: &str, values: &'v [Value], id_key: &str) -> Vec<Feature<'v>> {
        let mut out = Vec::with_capacity(values.len());
        for (index, v) in values.iter().enumerate() {
            let own = v
                .get("properties")
                .and_then(|p| p.get(id_key))
                .filter(|id| !id.is_null());
            let id = own
                .or_else(|| if id_key == "id" { v.get("id") } else { None })
                .and_then(|id| match id {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(number_text(n)),
                    _ => None,
                });
            let at = FeatureRef { index, id };
            if v.get("type").and_then(Value::as_str) != Some("Feature") {
                self.problem(
                    file,
                    Some(&at),
                    Some("type"),
                    InputProblemKind::NotFeature,
                    format!("expected a GeoJSON Feature, found {}", describe_type(v)),
                );
                continue;
            }
            let props = match v.get("properties") {
                None | Some(Value::Null) => &*NO_PROPERTIES,
                Some(Value::Object(m)) => m,
                Some(other) => {
                    self.problem(
                        file,
                        Some(&at),
                        Some("properties"),
                        InputProblemKind::WrongType,
                        format!("expected an object, found {}", kind_of(other)),
                    );
                    continue;
                }
            };
            out.push(Feature {
                at,
                props,
                geometry: v.get("geometry"),
                member_id: v.get("id"),
            });
        }
        out
    }
}

fn describe_type(v: &Value) -> String {
    match v.get("type").and_then(Value::as_str) {
        Some(t) => format!("type {t:?}"),
        None => kind_of(v),
    }
}
